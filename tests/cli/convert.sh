#!/usr/bin/env bash
# memwall convert: tiny.gguf to every type convert writes and to llama.cpp's
# file types (the converted file's tensor bytes equal `memwall plan
# --dtype`'s weight bytes exactly, on tiny.gguf and on K-quant-shaped models
# from mw-gen-gguf and the demo model), --keep, the round trip through a
# sharded Hugging Face folder (convert_export_hf.py: bit-exact F32, the same
# greedy continuation), a byte-level BPE tokenizer.json, and every bad
# input: unsupported architecture and tensor type, shapes, OUT = IN, a full
# disk, a missing config.json, a truncated shard, usage errors.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
[ -x "$PY" ] || skip "no /usr/bin/python3"
EXPORT="$MW_SOURCE_DIR/tests/cli/convert_export_hf.py"
TINY="$MW_SOURCE_DIR/models/tiny.gguf"
MW_GEN_GGUF=${MW_GEN_GGUF:-$MW_BUILD_DIR/tests/mw-gen-gguf}
sum_in=$(sha256sum "$TINY" | cut -d' ' -f1)

# ---- tiny.gguf to each type, and plan's bytes ---------------------------------
for d in f32 f16 bf16 q8_0 q4_0; do
  expect_exit 0 "$MW" convert "$TINY" "$T/tiny-$d.gguf" --dtype "$d" --json
  cp "$T/stdout" "$T/c-$d.json"
  expect_valid_json "$T/c-$d.json"
  expect_json "$T/c-$d.json" .tensors 38
  expect_empty "$T/stderr"                       # no progress bar off a terminal
  expect_exit 0 "$MW" inspect "$T/tiny-$d.gguf" --json
  got=$(json_get "$T/stdout" .weights_bytes) || exit
  expect_json "$T/c-$d.json" .bytes_out "$got"
  expect_exit 0 "$MW" run "$T/tiny-$d.gguf" --tokens 1,2,3 --gen 4 --json
  expect_json "$T/stdout" .gen_tokens 4
done
# the file types (q8_0, q4_0 are llama.cpp's: Q6_K -> Q8_0 for the tied
# embedding, whose rows of 192 are not whole 256-blocks): plan == file
for d in q8_0 q4_0; do
  expect_exit 0 "$MW" plan "$TINY" --dtype "$d" --json
  want=$(json_get "$T/stdout" .weights_bytes) || exit
  expect_json "$T/c-$d.json" .bytes_out "$want"
done
# q4_k_m on tiny (rows of 192: llama-quantize's fallback Q4_K -> Q5_0)
expect_exit 0 "$MW" convert "$TINY" "$T/tiny-q4km.gguf" --dtype q4_k_m --json
cp "$T/stdout" "$T/c-q4km.json"
expect_exit 0 "$MW" plan "$TINY" --dtype q4_k_m --json
want=$(json_get "$T/stdout" .weights_bytes) || exit
expect_json "$T/c-q4km.json" .bytes_out "$want"
expect_json "$T/c-q4km.json" .by_type.Q5_0.tensors 22
ok "tiny.gguf -> q4_k_m (Q5_0 fallbacks): the plan's bytes"
expect_json "$T/c-f32.json" .bytes_out 8657664
expect_json "$T/c-f32.json" .ratio 1
expect_json "$T/c-q8_0.json" .file_type 7
expect_json "$T/c-f16.json" .file_type 1
expect_json "$T/c-f32.json" .tokenizer copied
# the F32 copy holds the same tensors, byte for byte, and runs the same
"$PY" "$EXPORT" --compare "$TINY" "$T/tiny-f32.gguf" > "$T/cmp" || { cat "$T/cmp"; fail "tiny -> f32 changed a tensor"; }
# text still tokenizes (the tokenizer keys were copied)
expect_exit 0 "$MW" tokenize "$T/tiny-q8_0.gguf" "the license"
cp "$T/stdout" "$T/tok-q8"
expect_exit 0 "$MW" tokenize "$TINY" "the license"
cmp -s "$T/stdout" "$T/tok-q8" || fail "the converted file tokenizes differently"
ok "tiny.gguf -> f32 f16 bf16 q8_0 q4_0: bytes as inspect and plan count them, F32 bit-exact, tokenizer copied"

# eval of q8_0 against the original: close
expect_exit 0 "$MW" eval "$T/tiny-q8_0.gguf" --text "$MW_SOURCE_DIR/models/tiny.heldout.txt" --ctx 64 --chunks 2 --ref "$TINY" --json
r=$(json_get "$T/stdout" .perplexity_ratio) || exit
expect_num "q8_0 perplexity ratio" "$r" "<" 1.05
ok "eval: q8_0 within 5% of the original's perplexity"

# ---- K-quant file types: plan == file, on a 256-wide model and the demo -------
"$MW_GEN_GGUF" --layers 4 --embd 512 --heads 8 --kv-heads 4 --ff 1024 --vocab 2048 --ctx 256 --vocab-meta \
  --dtype f32 "$T/k.gguf" > /dev/null || fail "mw-gen-gguf failed"
# (the demo's K-quant scale searches take minutes at -O0 under ASan: the
# sanitized build checks the 512-wide model alone)
srcs="k demo"
[ "${MW_SANITIZED:-0}" = 1 ] && srcs=k
"$MW" convert --demo --dtype f16 "$T/demo.gguf" || fail "convert --demo failed"
for src in $srcs; do
  for d in q4_k_m q5_k_m q4_k_s q5_k_s q6_k q8_0; do
    expect_exit 0 "$MW" convert "$T/$src.gguf" "$T/$src-$d.gguf" --dtype "$d" --json
    cp "$T/stdout" "$T/c.json"
    expect_exit 0 "$MW" plan "$T/$src.gguf" --dtype "$d" --json
    want=$(json_get "$T/stdout" .weights_bytes) || exit
    expect_json "$T/c.json" .bytes_out "$want"
    expect_exit 0 "$MW" inspect "$T/$src-$d.gguf" --json
    expect_json "$T/stdout" .weights_bytes "$want"
  done
done
# memory: about one tensor - the largest (token_embd, 32000 x 768) in f32
# plus its Q6_K output - and less than the model's file, mapped or not
if [ "${MW_SANITIZED:-0}" != 1 ]; then   # ASan's shadow memory would count
  expect_exit 0 "$MW" watch --json -- "$MW" convert "$T/demo.gguf" "$T/demo-w.gguf" --dtype q4_k_m -q
  anon=$(json_get "$T/stderr" .peak_rss_anon_bytes) || exit   # watch reports on stderr
  rss=$(json_get "$T/stderr" .peak_rss_bytes) || exit
  size=$(stat -c %s "$T/demo.gguf")
  expect_num "peak anonymous memory" "$anon" "<" $((32000 * 768 * 4 + 32000 * 768 / 256 * 210 + 16 * 1048576))
  expect_num "peak resident memory" "$rss" "<" "$size"
fi
# the same file from 1 thread and from 3
expect_exit 0 "$MW" convert "$T/k.gguf" "$T/k1.gguf" --dtype q4_k_m --threads 1 -q
expect_exit 0 "$MW" convert "$T/k.gguf" "$T/k3.gguf" --dtype q4_k_m --threads 3 -q
cmp -s "$T/k1.gguf" "$T/k3.gguf" || fail "--threads 1 and 3 wrote different files"
cmp -s "$T/k1.gguf" "$T/k-q4_k_m.gguf" || fail "--threads 1 and the default wrote different files"
expect_exit 2 "$MW" convert "$T/k.gguf" "$T/k0.gguf" --threads 0
expect_exit 0 "$MW" run "$T/k-q4_k_m.gguf" --tokens 1,2,3 --gen 4 --json
expect_json "$T/stdout" .gen_tokens 4
ok "q4_k_m q5_k_m q4_k_s q5_k_s q6_k q8_0 on two models: the file's tensor bytes are plan's, exactly"

# ---- --keep ----------------------------------------------------------------
expect_exit 0 "$MW" convert "$T/k.gguf" "$T/keep.gguf" --dtype q4_k_m --keep q8_0:token_embd.weight \
  --keep 'f16:blk.*.ffn_down.weight' --keep 'q4_0:blk.*.ffn_down.weight' --json
expect_json "$T/stdout" .by_type.Q8_0.tensors 1
expect_json "$T/stdout" .by_type.F16.tensors 4
expect_exit 0 "$MW" inspect "$T/keep.gguf" --json
expect_contains "$T/stdout" '"Q8_0"'
expect_exit 1 "$MW" convert "$T/k.gguf" "$T/keep2.gguf" --keep 'q8_0:blk.*.attn_zz.weight'
expect_contains "$T/stderr" "matches no tensor"
[ ! -e "$T/keep2.gguf" ] || fail "a failed convert left its output"
expect_exit 1 "$MW" convert "$T/k.gguf" "$T/keep2.gguf" --keep 'q8_0:blk.0.attn_norm.weight'
expect_contains "$T/stderr" "is a vector"
# a quantized input requantized: one warning line
expect_exit 0 "$MW" convert "$T/k-q8_0.gguf" "$T/re.gguf" --dtype q4_k_m --json
expect_json "$T/stdout" .requantized 29
[ "$(grep -c 'warning: requantizing 29 already quantized tensors' "$T/stderr")" = 1 ] || fail "no one-line warning"
ok "--keep: the first match wins; one that matches nothing is an error"

# ---- the round trip through a sharded Hugging Face folder ----------------------
"$PY" "$EXPORT" "$TINY" "$T/hf" 3 || fail "export failed"
expect_exit 0 "$MW" convert "$T/hf" "$T/back.gguf" --dtype f32 --json
expect_json "$T/stdout" .tokenizer placeholder
expect_contains "$T/stderr" "placeholder vocabulary of 3072 ids"
"$PY" "$EXPORT" --compare "$TINY" "$T/back.gguf" > "$T/cmp" || { cat "$T/cmp"; fail "HF round trip changed a tensor"; }
for f in "$TINY" "$T/back.gguf"; do
  expect_exit 0 "$MW" run "$f" --tokens 1,2088,1373 --gen 12 --json
  json_get "$T/stdout" .generated > "$T/gen.$(basename "$f")" || exit
done
cmp -s "$T/gen.tiny.gguf" "$T/gen.back.gguf" || fail "the round trip continues differently"
# eval by the converted file's own logits: the same perplexity as tiny's on
# the ids tiny's tokenizer makes (the placeholder cannot tokenize text)
expect_exit 0 "$MW" convert "$T/hf/model.safetensors.index.json" "$T/back-q8.gguf" --dtype q8_0 -q
expect_empty "$T/stdout"
expect_exit 0 "$MW" inspect "$T/back-q8.gguf" --json
w8=$(json_get "$T/stdout" .weights_bytes) || exit
expect_exit 0 "$MW" plan "$T/hf" --dtype q8_0 --json
expect_json "$T/stdout" .weights_bytes "$w8"
ok "tiny -> HF folder (3 shards, HF Q/K order) -> GGUF F32: bit-exact, same continuation; q8_0 as planned"

# the 512-wide model through a Hugging Face folder: q4_k_m / q5_k_s as
# planned from the folder (Hugging Face names) and from the GGUF file
"$PY" "$EXPORT" "$T/k.gguf" "$T/khf" 2 || fail "export of k.gguf failed"
for d in q4_k_m q5_k_s; do
  expect_exit 0 "$MW" convert "$T/khf" "$T/khf-$d.gguf" --dtype "$d" --json
  cp "$T/stdout" "$T/c.json"
  expect_exit 0 "$MW" plan "$T/khf" --dtype "$d" --json
  want=$(json_get "$T/stdout" .weights_bytes) || exit
  expect_json "$T/c.json" .bytes_out "$want"
  expect_exit 0 "$MW" plan "$T/k.gguf" --dtype "$d" --json
  expect_json "$T/stdout" .weights_bytes "$want"
done
ok "a Hugging Face folder to q4_k_m and q5_k_s: the plan's bytes, from the folder and from the GGUF file"

# a q_proj bias (attention_bias models) is permuted like its rows: one
# more shard holding model.layers.0.self_attn.q_proj.bias = 0, 1, ..., 191
cp -r "$T/hf" "$T/hfb"
"$PY" - "$T/hfb" <<'PYTHON' || fail "adding a bias failed"
import json, struct, sys
d = sys.argv[1]
h = json.dumps({"model.layers.0.self_attn.q_proj.bias": {"dtype": "F32", "shape": [192], "data_offsets": [0, 768]}}).encode()
h += b" " * ((8 - len(h) % 8) % 8)
open(d + "/bias.safetensors", "wb").write(struct.pack("<Q", len(h)) + h + struct.pack("<192f", *range(192)))
idx = json.load(open(d + "/model.safetensors.index.json"))
idx["weight_map"]["model.layers.0.self_attn.q_proj.bias"] = "bias.safetensors"
json.dump(idx, open(d + "/model.safetensors.index.json", "w"))
PYTHON
expect_exit 0 "$MW" convert "$T/hfb" "$T/bias.gguf" --dtype f32 -q
"$PY" - "$T/bias.gguf" "$MW_SOURCE_DIR/tests/cli" <<'PYTHON' || fail "the q_proj bias was not permuted as llama.cpp does"
import struct, sys
sys.path.insert(0, sys.argv[2])
from convert_export_hf import read_gguf
kv, infos, data, start = read_gguf(sys.argv[1])
off = next(o for n, _, _, o in infos if n == "blk.0.attn_q.bias")
got = struct.unpack_from("<192f", data, start + off)
# 6 heads of 32: GGUF value h*32 + 2j + i is HF value h*32 + i*16 + j
want = [h * 32 + i * 16 + j for h in range(6) for j in range(16) for i in range(2)]
sys.exit(0 if list(got) == [float(w) for w in want] else 1)
PYTHON
ok "a q_proj bias is permuted with its head's rows"

# ---- a byte-level BPE tokenizer.json ---------------------------------------
"$PY" - "$T/hf" <<'PYTHON' || fail "writing tokenizer.json failed"
import json, sys
# GPT-2's bytes_to_unicode: printable bytes as themselves, the rest from U+0100
bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
cs, n = bs[:], 0
for b in range(256):
    if b not in bs:
        bs.append(b); cs.append(256 + n); n += 1
vocab = {chr(c): i for i, c in enumerate(cs)}
merges = [["\u0120", "t"], ["h", "e"], ["\u0120t", "he"]]
for a, b in merges:
    vocab[a + b] = len(vocab)
tok = {"model": {"type": "BPE", "vocab": vocab, "merges": merges},
       "added_tokens": [{"id": 3000, "content": "<|end|>", "special": True}],
       "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
           {"type": "Split", "pattern": {"Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}},
           {"type": "ByteLevel", "add_prefix_space": False, "use_regex": False}]},
       "decoder": {"type": "ByteLevel"}}
json.dump(tok, open(sys.argv[1] + "/tokenizer.json", "w"))
json.dump({"bos_token": "<|end|>"}, open(sys.argv[1] + "/tokenizer_config.json", "w"))
PYTHON
expect_exit 0 "$MW" convert "$T/hf" "$T/bpe.gguf" --dtype f16 --json
expect_json "$T/stdout" .tokenizer tokenizer.json
expect_exit 0 "$MW" tokenize "$T/bpe.gguf" " the the" --json
expect_contains "$T/stdout" "258, 258]"   # " the" merged to one id, twice
ok "tokenizer.json (byte-level BPE, llama3 pre-tokenizer) becomes a gpt2 vocabulary memwall tokenizes with"
# a SentencePiece-style tokenizer.json (BPE with byte_fallback, no ByteLevel): the placeholder
mkdir -p "$T/hfsp" && cp "$T/hf"/*.json "$T/hf"/*.safetensors "$T/hfsp/"
echo '{"model": {"type": "BPE", "byte_fallback": true, "vocab": {"<unk>": 0}, "merges": []}, "pre_tokenizer": {"type": "Metaspace"}}' > "$T/hfsp/tokenizer.json"
expect_exit 0 "$MW" convert "$T/hfsp" "$T/sp.gguf" --dtype f16 --json
expect_json "$T/stdout" .tokenizer placeholder
expect_contains "$T/stderr" "not a byte-level BPE vocabulary"
ok "a SentencePiece-style tokenizer.json: the placeholder vocabulary, and a warning that says so"

# ---- bad input ---------------------------------------------------------------
expect_exit 1 "$MW" convert "$TINY" "$T/x.gguf" --dtype q4_k
expect_contains "$T/stderr" "not whole Q4_K blocks of 256"
expect_contains "$T/stderr" "--keep f16:"
expect_exit 1 "$MW" convert "$TINY" "$TINY" --dtype q8_0
expect_contains "$T/stderr" "is the input file"
ln -s "$TINY" "$T/link.gguf"
expect_exit 1 "$MW" convert "$TINY" "$T/link.gguf" --dtype q8_0
expect_contains "$T/stderr" "is the input file"
cp -r "$T/hf" "$T/hf2"
expect_exit 1 "$MW" convert "$T/hf2" "$T/hf2/model-00001-of-00003.safetensors"
expect_contains "$T/stderr" "is the input file"
[ "$(sha256sum "$TINY" | cut -d' ' -f1)" = "$sum_in" ] || fail "tiny.gguf changed"
# full disk: the fault hook, then (root) a real 1 MiB tmpfs
mkdir -p "$T/full"
MEMWALL_FAIL_WRITE=200000 expect_exit 1 "$MW" convert "$TINY" "$T/full/x.gguf"
expect_contains "$T/stderr" "writing $T/full/x.gguf: No space left on device"
[ -z "$(ls -A "$T/full")" ] || fail "a full disk left files: $(ls -A "$T/full")"
if [ "$(id -u)" = 0 ] && mkdir -p "$T/tmpfs" && mount -t tmpfs -o size=1m tmpfs "$T/tmpfs" 2>/dev/null; then
  expect_exit 1 "$MW" convert "$TINY" "$T/tmpfs/x.gguf" --dtype f32
  ls -A "$T/tmpfs" > "$T/left"
  umount "$T/tmpfs"
  expect_contains "$T/stderr" "No space left on device"
  expect_empty "$T/left"
  ok "a real full tmpfs: the error, and nothing left"
fi
# a GGUF file of another architecture (tiny.gguf with general.architecture
# "qwen2": the value's bytes replaced in place)
"$PY" - "$TINY" "$T/qwen.gguf" <<'PYTHON' || fail "patching the architecture failed"
import sys
d = open(sys.argv[1], "rb").read()
k = b"general.architecture"
i = d.index(k) + len(k) + 4 + 8          # the u32 type, the u64 length
assert d[i:i + 5] == b"llama"
open(sys.argv[2], "wb").write(d[:i] + b"qwen2" + d[i + 5:])
PYTHON
expect_exit 1 "$MW" convert "$T/qwen.gguf" "$T/x.gguf"
expect_contains "$T/stderr" "unsupported architecture qwen2: convert handles llama-family models (llama, mistral)"
# unsupported architecture, missing config.json, truncated shard, a type
sed 's/"model_type": "llama"/"model_type": "qwen2"/' "$T/hf/config.json" > "$T/hf2/config.json"
expect_exit 1 "$MW" convert "$T/hf2" "$T/x.gguf"
expect_contains "$T/stderr" "unsupported architecture qwen2: convert handles llama-family models (llama, mistral)"
rm "$T/hf2/config.json"
expect_exit 1 "$MW" convert "$T/hf2" "$T/x.gguf"
expect_contains "$T/stderr" "config.json"
cp "$T/hf/config.json" "$T/hf2/config.json"
truncate -s 100000 "$T/hf2/model-00003-of-00003.safetensors"
expect_exit 1 "$MW" convert "$T/hf2" "$T/x.gguf"
expect_contains "$T/stderr" "model-00003-of-00003.safetensors"
cp "$T/hf/model-00003-of-00003.safetensors" "$T/hf2/"
"$PY" - "$T/hf2/model-00003-of-00003.safetensors" <<'PYTHON' || fail "retyping a tensor failed"
import json, struct, sys
p = sys.argv[1]
d = open(p, "rb").read()
n = struct.unpack("<Q", d[:8])[0]
h = json.loads(d[8:8 + n])
name = next(k for k, v in h.items() if k != "__metadata__" and v["dtype"] == "F32")
h[name]["dtype"] = "I32"
b = json.dumps(h).encode()
b += b" " * ((8 - len(b) % 8) % 8)
open(p, "wb").write(struct.pack("<Q", len(b)) + b + d[8 + n:])
PYTHON
expect_exit 1 "$MW" convert "$T/hf2" "$T/x.gguf"
expect_contains "$T/stderr" "which convert cannot read"
[ ! -e "$T/x.gguf" ] || fail "a failed convert left its output"
ls "$T" | grep -q '\.tmp' && fail "a temporary was left in $T"
ok "bad input: shapes, OUT = IN (also through a link), full disk, architecture, config.json, truncation, types"

# out of memory anywhere (MEMWALL_FAIL_ALLOC=N, every 7th allocation of a
# conversion from the sharded folder with its tokenizer.json): exit 1
# saying so, and no output and no temporary
mkdir -p "$T/oom"
for n in $(seq 1 7 400); do
  MEMWALL_FAIL_ALLOC=$n "$MW" convert "$T/hf" "$T/oom/x.gguf" --dtype q8_0 -q > "$T/stdout" 2> "$T/stderr"
  rc=$?
  [ $rc = 0 ] && break
  [ $rc = 1 ] || { show stderr "$T/stderr"; fail "allocation $n failed: exit $rc"; }
  expect_contains "$T/stderr" "out of memory"
  [ -z "$(ls -A "$T/oom")" ] || fail "allocation $n failed: left $(ls -A "$T/oom")"
done
ok "a failed allocation: out of memory said, nothing left"

# ---- usage ---------------------------------------------------------------------
expect_exit 2 "$MW" convert "$TINY"
expect_exit 2 "$MW" convert "$TINY" "$T/x.gguf" --dtype nope
expect_exit 2 "$MW" convert "$TINY" "$T/x.gguf" --keep q8_0
expect_exit 2 "$MW" convert "$TINY" "$T/x.gguf" --keep zz:token_embd.weight
expect_exit 2 "$MW" convert "$TINY" "$T/x.gguf" --prune 1.5
expect_exit 2 "$MW" convert "$TINY" "$T/x.gguf" --prune 0
expect_exit 2 "$MW" convert "$TINY" "$T/x.gguf" --prune 0.5 --prune-score wanda
expect_contains "$T/stderr" "--calib"
expect_exit 2 "$MW" convert "$TINY" "$T/x.gguf" --prune-score sparse
# --densify of a file with no sparse tensors: converted as it is, with a warning
expect_exit 0 "$MW" convert "$TINY" "$T/x.gguf" --densify
expect_contains "$T/stderr" "holds no sparse tensors"
rm -f "$T/x.gguf"
# (pruning itself: tests/cli/convert_prune.sh)
expect_exit 0 "$MW" convert --demo "$T/d.gguf" --dtype q8_0
expect_exit 2 "$MW" convert --demo
ok "usage errors exit 2"
