#!/usr/bin/env bash
# kquants.sh - the greedy comparison of check.sh on K-quant files written by
# memwall (mw-gen-gguf --dtype q4_k | q5_k | q6_k | q4_k_m, with the demo
# vocabulary llama.cpp needs) and on the demo model converted to them
# (memwall convert --demo --dtype q4_k | q5_k | q6_k: 12 layers of width
# 768 with hashed weights, whose continuations are not degenerate), and the
# demo model in ggml's Q4_1, Q5_0 and Q5_1 (issue #14: the types
# llama-quantize falls back to where rows are not a multiple of 256): does
# memwall's engine continue prompts as llama.cpp does on the weight types
# people download?
#
#   tests/llamacpp/kquants.sh
#
# Q5_0 products take x in Q8_0, Q4_1 / Q5_1 in Q8_1 (with its block sums)
# in both engines. Both quantize the activations of K-quant products to
# Q8_K and sum integers per super-block, but llama.cpp scales its lanes before adding
# them (and may repack Q4_K for its AVX2 gemv), so a continuation may part
# where llama.cpp's two best logits are nearly equal: near-ties are
# accepted (MW_ALLOW_TIES=1 unless set), a divergence at a larger margin is
# a failure. Prints check.sh's table and RESULT line per model.
#
# Shape (environment): MW_KQ_SHAPE, default
#   "--layers 4 --embd 512 --heads 8 --kv-heads 4 --ff 1024 --vocab 2048 --ctx 256"
# Also MW_GEN_GGUF (default build/tests/mw-gen-gguf), MW_KQ_TYPES (default
# "q4_k q5_k q6_k q4_k_m"), MW_KQ_DEMO (default "q4_k q5_k q6_k q4_1 q5_0
# q5_1"; empty: no demo files) and check.sh's variables (MW_MEMWALL, ...).
# Exit status: check.sh's (0 all same or near-tie, 1 a difference, 77 skipped).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
GEN_GGUF=${MW_GEN_GGUF:-$root/build/tests/mw-gen-gguf}
SHAPE=${MW_KQ_SHAPE:-"--layers 4 --embd 512 --heads 8 --kv-heads 4 --ff 1024 --vocab 2048 --ctx 256"}
TYPES=${MW_KQ_TYPES:-"q4_k q5_k q6_k q4_k_m"}
DEMO=${MW_KQ_DEMO-"q4_k q5_k q6_k q4_1 q5_0 q5_1"}
MEMWALL=${MW_MEMWALL:-$root/build/memwall}
if [ ! -x "$GEN_GGUF" ]; then
  echo "kquants.sh: no mw-gen-gguf at $GEN_GGUF (build the tests, or set MW_GEN_GGUF)" >&2
  exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/mw-kquants.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
models=()
for t in $TYPES; do
  # shellcheck disable=SC2086
  if ! "$GEN_GGUF" $SHAPE --vocab-meta --dtype "$t" "$work/mw-$t.gguf" >"$work/gen-$t.log" 2>&1; then
    echo "kquants.sh: mw-gen-gguf --dtype $t failed:" >&2
    cat "$work/gen-$t.log" >&2
    exit 1
  fi
  models+=("$work/mw-$t.gguf")
done
for t in $DEMO; do
  if [ ! -x "$MEMWALL" ]; then
    echo "kquants.sh: no memwall at $MEMWALL (build it, or set MW_MEMWALL)" >&2
    exit 77
  fi
  if ! "$MEMWALL" convert --demo --dtype "$t" "$work/demo-$t.gguf" >"$work/conv-$t.log" 2>&1; then
    echo "kquants.sh: memwall convert --demo --dtype $t failed:" >&2
    cat "$work/conv-$t.log" >&2
    exit 1
  fi
  models+=("$work/demo-$t.gguf")
done
MW_ALLOW_TIES=${MW_ALLOW_TIES:-1} "$here/check.sh" "${models[@]}"
