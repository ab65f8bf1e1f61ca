#!/usr/bin/env bash
# memwall eval's perplexity against an independent computation of the same
# chunks (tests/ref/eval_ref.py: llama_ref.py's float64 forward pass, the
# same token ids from `memwall tokenize --json`): within 0.1% on small
# llama GGUF models of tests/ref/make_models.py in F32, F16, BF16, Q8_0 and
# Q4_0. The quantized types are compared with the reference rounding the
# activations as the engine's kernels do (--emulate), and the default F16
# KV cache with --emulate-kv f16; F32 with no emulation at all.
# Chunks of 600 and windows of 560 on a long-context copy check the steps
# of 512 tokens within a chunk.
# Needs Debian's python3-numpy and python3-torch for /usr/bin/python3;
# skips without them.
. "$(dirname "$0")/lib.sh"
REF=$MW_SOURCE_DIR/tests/ref
need_ref_python   # sets PY

"$PY" "$REF/make_models.py" "$T/models" > "$T/make.txt" 2>&1 ||
  { cat "$T/make.txt" >&2; fail "make_models.py failed"; }

# a text of ~1000 tokens (byte tokens mostly), no trailing newline: the
# shell's "$(cat ...)" below keeps it byte for byte
words="memory wall model the of tree hello world eval perplexity chunk token"
awk -v w="$words" 'BEGIN { n = split(w, a, " "); s = 1; for (i = 0; i < 150; i++) {
    s = (s * 1103515245 + 12345) % 2147483648; printf "%s%s", (i ? " " : ""), a[1 + int(s / 65536) % n] } }' \
  > "$T/text.txt"

CTX=128
check() { # MODEL KV [--stride S] EMULATE...
  local name=$1 kv=$2 model=$T/models/$1.gguf stride=()
  shift 2
  [ "${1:-}" = --stride ] && { stride=(--stride "$2"); shift 2; }
  "$MW" tokenize --json "$model" "$(cat "$T/text.txt")" > "$T/ids.json" || fail "memwall tokenize $name failed"
  "$PY" "$REF/eval_ref.py" "$model" --ids "$T/ids.json" --ctx $CTX "${stride[@]}" "$@" > "$T/ref.json" 2> "$T/ref.err" ||
    { cat "$T/ref.err" >&2; fail "eval_ref.py $name failed"; }
  expect_exit 0 "$MW" eval "$model" --text-file "$T/text.txt" --ctx $CTX --kv-dtype "$kv" --json --threads 2 \
    "${stride[@]}"
  cp "$T/stdout" "$T/mw.json"
  local want got n_want n_got
  want=$("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["perplexity"], d["tokens"])' "$T/ref.json")
  got=$(json_get "$T/mw.json" perplexity) || exit
  n_got=$(json_get "$T/mw.json" tokens) || exit
  n_want=${want#* }
  want=${want% *}
  expect_eq "$name: scored tokens" "$n_got" "$n_want"
  local rel
  rel=$(awk -v a="$got" -v b="$want" 'BEGIN { d = (a - b) / b; if (d < 0) d = -d; printf "%.3g", d }')
  printf '%-28s kv %-4s %-11s memwall %-12.6f reference %-12.6f rel. diff %s (%s tokens)\n' "$name" "$kv" "${stride[*]:-}" "$got" \
    "$want" "$rel" "$n_got"
  expect_num "$name: relative difference of the perplexity" "$rel" "<" 0.001
}

check llama-f32-gqa-tied f32
check llama-f32-mha-untied f32
check llama-f16-mha-untied f32 --emulate
check llama-bf16-gqa-tied f32 --emulate
check llama-q8_0-mha-untied f32 --emulate
check llama-q4_0-gqa-tied f32 --emulate
check llama-f32-gqa-tied f16 --emulate-kv f16
check llama-f32-mha-untied f32 --stride 48
check llama-q8_0-gqa-tied f32 --stride 100 --emulate

# chunks longer than a forward step (512 tokens): the scored rows come from
# two steps; the mha-untied F32 model with a context length of 2048
"$PY" -c 'import sys; sys.path.insert(0, sys.argv[1]); import make_models as m
m.SHAPES["mha-untied"]["n_ctx"] = 2048; m.write_model(sys.argv[2], "mha-untied", "f32", 1)' \
  "$REF" "$T/models/long-f32-mha-untied.gguf" || fail "writing the long-context model failed"
awk -v w="$words" 'BEGIN { n = split(w, a, " "); s = 7; for (i = 0; i < 300; i++) {
    s = (s * 1103515245 + 12345) % 2147483648; printf "%s%s", (i ? " " : ""), a[1 + int(s / 65536) % n] } }' \
  > "$T/text.txt"
CTX=600
check long-f32-mha-untied f32
CTX=560
check long-f32-mha-untied f32 --stride 500
ok "memwall eval's perplexity is the reference's within 0.1%"
