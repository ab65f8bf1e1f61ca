#!/usr/bin/env bash
# plan_runtime.sh - does `memwall plan --runtime llama.cpp` predict the
# buffers llama.cpp itself allocates? llama.cpp (the build node-llama-cpp
# 3.21.1 ships, CPU) logs the bytes of its KV cache ("CPU KV buffer size"),
# its output buffer and its compute buffer (the graph allocator's peak,
# "compute buffer size is X MiB"). For each model, context and attention
# (flash on and off), sweep_point.mjs makes that context and this script
# compares:
#
#   KV cache       the plan's kv_cache_bytes           exactly (to llama.cpp's
#                                                       0.01 MiB print)
#   compute+output the plan's activations_bytes        within MW_PLAN_TOL %
#                  (the walk's peak and the output
#                  buffer; its CPU scratch is in llama.cpp's thread work
#                  buffer, which it does not print, so it is left out)
#
# Models, made by mw-gen-gguf with a vocabulary (llama.cpp needs one): the
# built-in tiny model; SmolLM-135M's shape on 4 layers (vocabulary 49152:
# the logits of a 512-token ubatch, 96 MiB, are the peak); the same with a
# vocabulary of 4096 (the attention scores are the peak without flash
# attention, and the KQ mask with it).
#
#   tests/llamacpp/plan_runtime.sh
#
# Not registered with ctest: it downloads node-llama-cpp once (install.sh).
# Exit status: 0 all within bounds, 1 not, 77 skipped. Settings: MW_BUILD_DIR,
# MW_MEMWALL, MW_GEN_GGUF, MW_LLAMACPP_DIR, MW_PLAN_TOL (default 35: the
# graph allocator's fragmentation adds a few MiB the walk does not model,
# docs/PLAN.md "Attention and runtimes", measured against llama.cpp).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
skip() { echo "plan_runtime.sh: SKIP: $*" >&2; exit 77; }
command -v node >/dev/null 2>&1 || skip "node is not installed"
command -v npm >/dev/null 2>&1 || skip "npm is not installed"
command -v jq >/dev/null 2>&1 || skip "jq is not installed"
if [ -z "${MW_BUILD_DIR:-}" ]; then
    MW_BUILD_DIR=$root/build-test
    [ -x "$MW_BUILD_DIR/tests/mw-gen-gguf" ] || MW_BUILD_DIR=$root/build
fi
MW=${MW_MEMWALL:-$MW_BUILD_DIR/memwall}
GEN=${MW_GEN_GGUF:-$MW_BUILD_DIR/tests/mw-gen-gguf}
TOL=${MW_PLAN_TOL:-35}
[ -x "$MW" ] || skip "no memwall at $MW"
[ -x "$GEN" ] || skip "no mw-gen-gguf at $GEN"
. "$here/install.sh"

W=$(mktemp -d "${TMPDIR:-/tmp}/mw-plan-runtime.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT
"$GEN" --vocab-meta --layers 4 --ctx 16384 "$W/smol4.gguf" || exit 1
"$GEN" --vocab-meta --layers 4 --vocab 4096 --ctx 16384 "$W/smallvocab.gguf" || exit 1

fails=0
printf '%-16s %6s %5s | %10s %10s | %12s %12s %7s\n' model ctx flash "kv llama" "kv plan" "buf llama" "act plan" "diff"
while read -r name model ctx; do
    for fa in off on; do
        log=$W/log
        node "$here/sweep_point.mjs" "$model" --ctx "$ctx" --prompt 16 --gen 2 --flash-attn "$fa" --verbose \
            > /dev/null 2> "$log" || { echo "FAIL: llama.cpp on $name ctx $ctx: $(tail -n 1 "$log")"; fails=$((fails + 1)); continue; }
        kv_l=$(sed -n 's/.*CPU KV buffer size = *\([0-9.]*\) MiB.*/\1/p' "$log" | head -n 1)
        out_l=$(sed -n 's/.*CPU  *output buffer size = *\([0-9.]*\) MiB.*/\1/p' "$log" | head -n 1)
        cmp_l=$(sed -n 's/.*CPU compute buffer size is *\([0-9.]*\) MiB.*/\1/p' "$log" | tail -n 1)
        ub=$(sed -n 's/.*n_ubatch *= *\([0-9]*\).*/\1/p' "$log" | head -n 1)
        [ -n "$kv_l" ] && [ -n "$cmp_l" ] && [ -n "$ub" ] || { echo "FAIL: $name: no buffer sizes in llama.cpp's log"; fails=$((fails + 1)); continue; }
        "$MW" plan "$model" --runtime llama.cpp --ctx "$ctx" --ubatch "$ub" --flash-attn "$fa" --json > "$W/plan.json" || exit 1
        kv_p=$(jq '.kv_cache_bytes / 1048576' "$W/plan.json")
        act_p=$(jq '.activations_bytes / 1048576' "$W/plan.json")
        buf_l=$(awk -v a="$cmp_l" -v b="${out_l:-0}" 'BEGIN { printf "%.4f", a + b }')
        diff=$(awk -v p="$act_p" -v l="$buf_l" 'BEGIN { printf "%+.1f", 100 * (p - l) / l }')
        printf '%-16s %6s %5s | %10.2f %10.2f | %12.4f %12.4f %6s%%\n' "$name" "$ctx" "$fa" "$kv_l" "$kv_p" "$buf_l" "$act_p" "$diff"
        awk -v a="$kv_l" -v b="$kv_p" 'BEGIN { exit !(a - b < 0.006 && b - a < 0.006) }' ||
            { echo "FAIL: $name ctx $ctx flash $fa: KV $kv_p MiB planned, llama.cpp $kv_l"; fails=$((fails + 1)); }
        awk -v d="$diff" -v t="$TOL" 'BEGIN { exit !(d <= t && d >= -t) }' ||
            { echo "FAIL: $name ctx $ctx flash $fa: compute+output $diff% off (bound $TOL%)"; fails=$((fails + 1)); }
    done
done <<LIST
tiny $root/models/tiny.gguf 256
smol-4-layers $W/smol4.gguf 1024
smol-4-layers $W/smol4.gguf 4096
vocab-4096 $W/smallvocab.gguf 2048
vocab-4096 $W/smallvocab.gguf 8192
vocab-4096 $W/smallvocab.gguf 16384
LIST
[ "$fails" = 0 ] && echo "plan_runtime.sh: all within bounds" || echo "plan_runtime.sh: $fails failed"
[ "$fails" = 0 ]
