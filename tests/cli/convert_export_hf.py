#!/usr/bin/python3
"""convert_export_hf.py GGUF DIR [SHARDS] - a llama GGUF with F32/F16 tensors
written as a Hugging Face folder, for tests/cli/convert.sh's round trip:
config.json, SHARDS (default 2) model-0000i-of-0000N.safetensors shards and
model.safetensors.index.json. Names as transformers' LlamaForCausalLM has
them, shapes in PyTorch order, and attn_q / attn_k rows put back in
Hugging Face order (the inverse of llama.cpp's LlamaModel.permute: GGUF row
h*d + 2j + i holds HF row h*d + i*d/2 + j). struct only, no numpy.

convert_export_hf.py --compare A.gguf B.gguf: exit 0 when both files hold
the same tensors (names, dims, types, bytes), else 1 naming the first
difference.
convert_export_hf.py --types A.gguf: one line per tensor, "name TYPE_ID".
"""
import json
import os
import struct
import sys

SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


def read_gguf(path):
    data = open(path, "rb").read()
    pos = 0

    def take(fmt):
        nonlocal pos
        v = struct.unpack_from(fmt, data, pos)
        pos += struct.calcsize(fmt)
        return v[0]

    def string():
        nonlocal pos
        n = take("<Q")
        s = data[pos:pos + n].decode("utf-8")
        pos += n
        return s

    def value(t):
        if t == 8:
            return string()
        if t == 9:
            et, n = take("<I"), take("<Q")
            return [value(et) for _ in range(n)]
        return take(SCALAR[t])

    assert data[:4] == b"GGUF", "not a GGUF file"
    pos = 4
    take("<I")
    n_t, n_kv = take("<Q"), take("<Q")
    kv = {}
    for _ in range(n_kv):
        k = string()
        kv[k] = value(take("<I"))
    infos = []
    for _ in range(n_t):
        name = string()
        nd = take("<I")
        dims = [take("<Q") for _ in range(nd)]
        infos.append((name, dims, take("<I"), take("<Q")))
    align = kv.get("general.alignment", 32)
    start = (pos + align - 1) // align * align
    return kv, infos, data, start


def hf_name(g):
    top = {"token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight",
           "output.weight": "lm_head.weight"}
    if g in top:
        return top[g]
    _, layer, part, suffix = g.split(".")
    blk = {"attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm", "attn_q": "self_attn.q_proj",
           "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj",
           "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj"}
    return "model.layers.%s.%s.%s" % (layer, blk[part], suffix)


def tensor_bytes(kv, infos, data, start):
    ends = sorted(off for _, _, _, off in infos) + [len(data) - start]
    out = {}
    for name, dims, t, off in infos:
        nxt = min(e for e in ends if e > off) if any(e > off for e in ends) else len(data) - start
        out[name] = (dims, t, data[start + off:start + nxt])
    return out


def compare(a, b):
    ta, tb = tensor_bytes(*read_gguf(a)), tensor_bytes(*read_gguf(b))
    if sorted(ta) != sorted(tb):
        print("tensor names differ: %s" % sorted(set(ta) ^ set(tb)))
        return 1
    for name in ta:
        if ta[name][:2] != tb[name][:2]:
            print("%s: dims/type %s vs %s" % (name, ta[name][:2], tb[name][:2]))
            return 1
        # the padding after a tensor may differ: compare its own bytes
        n = min(len(ta[name][2]), len(tb[name][2]))
        if ta[name][2][:n] != tb[name][2][:n]:
            print("%s: bytes differ" % name)
            return 1
    print("same %d tensors" % len(ta))
    return 0


def main():
    if sys.argv[1] == "--compare":
        sys.exit(compare(sys.argv[2], sys.argv[3]))
    if sys.argv[1] == "--types":
        for name, dims, t, off in read_gguf(sys.argv[2])[1]:
            print(name, t)
        return
    src, out = sys.argv[1], sys.argv[2]
    shards = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    kv, infos, data, start = read_gguf(src)
    esize = {0: 4, 1: 2}
    stname = {0: "F32", 1: "F16"}
    n_head, n_kv = kv["llama.attention.head_count"], kv["llama.attention.head_count_kv"]
    tensors = []
    for name, dims, t, off in infos:
        assert t in esize, "%s: type %d (only F32 and F16 are exported)" % (name, t)
        n = 1
        for d in dims:
            n *= d
        raw = data[start + off:start + off + n * esize[t]]
        shape = list(reversed(dims))
        part = name.split(".")[2] if name.startswith("blk.") else ""
        if part in ("attn_q", "attn_k"):
            heads = n_head if part == "attn_q" else n_kv
            rows, rb = shape[0], len(raw) // shape[0]
            d = rows // heads
            hf = [None] * rows
            for r in range(rows):
                h, w = divmod(r, d)
                hf[h * d + (w % 2) * (d // 2) + w // 2] = raw[r * rb:(r + 1) * rb]
            raw = b"".join(hf)
        tensors.append((hf_name(name), stname[t], shape, raw))
    os.makedirs(out, exist_ok=True)
    per = (len(tensors) + shards - 1) // shards
    weight_map = {}
    for s in range(shards):
        part = tensors[s * per:(s + 1) * per]
        fname = "model-%05d-of-%05d.safetensors" % (s + 1, shards)
        header, off = {}, 0
        for name, st, shape, raw in part:
            header[name] = {"dtype": st, "shape": shape, "data_offsets": [off, off + len(raw)]}
            off += len(raw)
            weight_map[name] = fname
        h = json.dumps(header).encode()
        h += b" " * ((8 - len(h) % 8) % 8)
        with open(os.path.join(out, fname), "wb") as f:
            f.write(struct.pack("<Q", len(h)) + h)
            for _, _, _, raw in part:
                f.write(raw)
    with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {}, "weight_map": weight_map}, f)
    names = [t[0] for t in tensors]
    cfg = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "hidden_size": kv["llama.embedding_length"], "intermediate_size": kv["llama.feed_forward_length"],
        "num_hidden_layers": kv["llama.block_count"], "num_attention_heads": n_head,
        "num_key_value_heads": n_kv, "max_position_embeddings": kv["llama.context_length"],
        "rms_norm_eps": kv["llama.attention.layer_norm_rms_epsilon"],
        "rope_theta": kv.get("llama.rope.freq_base", 10000.0),
        "vocab_size": kv.get("llama.vocab_size", len(kv.get("tokenizer.ggml.tokens", []))),
        "tie_word_embeddings": "lm_head.weight" not in names, "torch_dtype": "float32",
        "bos_token_id": kv.get("tokenizer.ggml.bos_token_id", 1), "eos_token_id": kv.get("tokenizer.ggml.eos_token_id", 2),
    }
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)


if __name__ == "__main__":
    main()
