#!/usr/bin/python3
"""make_models.py - small llama GGUF test models with random weights.

    /usr/bin/python3 tests/ref/make_models.py OUTDIR [--seed N] [--only NAME,...] [--list]

Writes OUTDIR/<name>.gguf for every model of MODELS below and
OUTDIR/models.json (name, file, weight type, shape). Two shapes:

  mha-untied  2 layers, hidden 64, 4 heads / 4 KV heads (head dim 16),
              ffn 160, vocab 320, output.weight present, eps 1e-5,
              rope base 10000, alignment 32
  gqa-tied    3 layers, hidden 128, 4 heads / 2 KV heads (head dim 32),
              ffn 352, vocab 384, no output.weight (tied to token_embd),
              eps 1e-6, rope base 500000, alignment 64

each in F32, F16, BF16, Q8_0 and Q4_0 (every 2-D weight in that type; the
norms stay F32). The weights of one shape are the same float32 numbers in
every type (drawn once from the seed and shape), so the types differ only by
their rounding. token_embd is N(0, EMB_STD = 0.02); the projection matrices
are N(0, W_STD = 0.08), about 1/sqrt(fan_in) at these widths, and attn_q /
attn_k N(0, QK_STD = 0.10); norm weights are 1 + N(0, 0.05). (All at 0.02,
as in a 4096-wide model, is far too small for a 64-128-wide one: attention
comes out almost uniform, the FFN moves the logits by ~3%, and the tied model
greedily repeats its input token forever, so errors in RoPE, the causal mask,
GQA, gate/up or the tied output would hide under the quantized types'
tolerances. `llama_ref.py --self-test` prints how far each such error moves
the logits.) Every row length (hidden 64/128, ffn 160/352) is
a multiple of 32, as Q8_0/Q4_0 need.

The tokenizer metadata is a minimal SentencePiece-style vocabulary, enough
for llama.cpp to load the file: <unk> (0), <s> (1, bos), </s> (2, eos), the
256 byte tokens <0x00>..<0xFF>, then made-up pieces.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_min as g  # noqa: E402

EMB_STD = 0.02
W_STD = 0.08
QK_STD = 0.10
NORM_STD = 0.05

SHAPES = {
    "mha-untied": dict(n_layer=2, n_embd=64, n_head=4, n_head_kv=4, n_ff=160, n_vocab=320,
                       n_ctx=256, eps=1e-5, rope_base=10000.0, tied=False, alignment=32),
    "gqa-tied": dict(n_layer=3, n_embd=128, n_head=4, n_head_kv=2, n_ff=352, n_vocab=384,
                     n_ctx=256, eps=1e-6, rope_base=500000.0, tied=True, alignment=64),
}
TYPES = ["f32", "f16", "bf16", "q8_0", "q4_0"]
# ggml's llama_ftype of a file whose 2-D weights are all of one type
FILE_TYPE = {"f32": 0, "f16": 1, "q4_0": 2, "q8_0": 7, "bf16": 32}

MODELS = [(shape, t) for t in TYPES for shape in SHAPES]


def model_name(shape, t):
    return "llama-%s-%s" % (t, shape)


def make_weights(cfg, seed, shape_name):
    """float32 weights in PyTorch order, name -> array."""
    ss = np.random.SeedSequence([seed, sum(map(ord, shape_name))])
    rng = np.random.default_rng(ss)
    h, hd = cfg["n_embd"], cfg["n_embd"] // cfg["n_head"]
    kvd = cfg["n_head_kv"] * hd
    ff, V = cfg["n_ff"], cfg["n_vocab"]

    def w(*shape, std=W_STD):
        return rng.normal(0.0, std, shape).astype(np.float32)

    def norm(n):
        return (1.0 + rng.normal(0.0, NORM_STD, n)).astype(np.float32)

    W = {"token_embd.weight": w(V, h, std=EMB_STD)}
    for i in range(cfg["n_layer"]):
        p = "blk.%d." % i
        W[p + "attn_norm.weight"] = norm(h)
        W[p + "attn_q.weight"] = w(cfg["n_head"] * hd, h, std=QK_STD)
        W[p + "attn_k.weight"] = w(kvd, h, std=QK_STD)
        W[p + "attn_v.weight"] = w(kvd, h)
        W[p + "attn_output.weight"] = w(h, cfg["n_head"] * hd)
        W[p + "ffn_norm.weight"] = norm(h)
        W[p + "ffn_gate.weight"] = w(ff, h)
        W[p + "ffn_up.weight"] = w(ff, h)
        W[p + "ffn_down.weight"] = w(h, ff)
    W["output_norm.weight"] = norm(h)
    if not cfg["tied"]:
        W["output.weight"] = w(V, h)
    return W


def tokenizer_kv(w, n_vocab):
    tokens, scores, types = ["<unk>", "<s>", "</s>"], [0.0, 0.0, 0.0], [2, 3, 3]
    for b in range(256):
        tokens.append("<0x%02X>" % b)
        scores.append(0.0)
        types.append(6)
    i = 0
    while len(tokens) < n_vocab:
        tokens.append("\u2581t%d" % i)
        scores.append(-float(i + 1))
        types.append(1)
        i += 1
    w.add("tokenizer.ggml.model", "llama")
    w.add("tokenizer.ggml.tokens", tokens, g.T_ARRAY, g.T_STRING)
    w.add("tokenizer.ggml.scores", scores, g.T_ARRAY, g.T_F32)
    w.add("tokenizer.ggml.token_type", types, g.T_ARRAY, g.T_I32)
    w.add("tokenizer.ggml.bos_token_id", 1, g.T_U32)
    w.add("tokenizer.ggml.eos_token_id", 2, g.T_U32)
    w.add("tokenizer.ggml.unknown_token_id", 0, g.T_U32)


def write_model(path, shape_name, wtype, seed):
    cfg = SHAPES[shape_name]
    t = g.TYPE_BY_NAME[wtype]
    w = g.GGUFWriter(alignment=cfg["alignment"])
    w.add("general.architecture", "llama")
    w.add("general.name", "memwall-ref %s %s seed %d" % (shape_name, wtype, seed))
    w.add("general.file_type", FILE_TYPE[wtype], g.T_U32)
    w.add("llama.vocab_size", cfg["n_vocab"], g.T_U32)
    w.add("llama.context_length", cfg["n_ctx"], g.T_U32)
    w.add("llama.embedding_length", cfg["n_embd"], g.T_U32)
    w.add("llama.block_count", cfg["n_layer"], g.T_U32)
    w.add("llama.feed_forward_length", cfg["n_ff"], g.T_U32)
    w.add("llama.rope.dimension_count", cfg["n_embd"] // cfg["n_head"], g.T_U32)
    w.add("llama.attention.head_count", cfg["n_head"], g.T_U32)
    w.add("llama.attention.head_count_kv", cfg["n_head_kv"], g.T_U32)
    w.add("llama.attention.layer_norm_rms_epsilon", cfg["eps"], g.T_F32)
    w.add("llama.rope.freq_base", cfg["rope_base"], g.T_F32)
    tokenizer_kv(w, cfg["n_vocab"])
    for name, a in make_weights(cfg, seed, shape_name).items():
        w.add_tensor(name, a, g.F32 if a.ndim == 1 else t)
    w.write(path)
    return cfg


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--only", default="", help="comma-separated model names (llama-q8_0-gqa-tied, ...)")
    ap.add_argument("--list", action="store_true", help="print the model names and exit")
    a = ap.parse_args(argv)
    names = [model_name(s, t) for s, t in MODELS]
    if a.list:
        print("\n".join(names))
        return 0
    only = set(x for x in a.only.split(",") if x)
    bad = only - set(names)
    if bad:
        print("make_models: unknown model(s): %s" % ", ".join(sorted(bad)), file=sys.stderr)
        return 2
    os.makedirs(a.outdir, exist_ok=True)
    manifest = []
    for shape, t in MODELS:
        name = model_name(shape, t)
        if only and name not in only:
            continue
        path = os.path.join(a.outdir, name + ".gguf")
        cfg = write_model(path, shape, t, a.seed)
        manifest.append(dict(name=name, file=name + ".gguf", type=t, shape=shape, seed=a.seed, **cfg))
        print("wrote %s (%d bytes)" % (path, os.path.getsize(path)))
    with open(os.path.join(a.outdir, "models.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
