#!/usr/bin/env bash
# plan_budget.sh - memwall plan --mem-budget (issue #15, paging): the split
# of a GGUF file written here and of a preset (exact bytes, worked below and
# in tests/unit/test_budget.c), the stream's time from --stream-bw, the
# batch line, the errors, and plans without a budget unchanged.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
export MEMWALL_PROFILE=none
MW_GEN_GGUF=${MW_GEN_GGUF:-$MW_BUILD_DIR/tests/mw-gen-gguf}
[ -x "$MW_GEN_GGUF" ] || fail "no mw-gen-gguf at $MW_GEN_GGUF (build the tests)"

# 4 layers of width 256, 4 heads / 2 KV heads of 64, FFN 512, vocabulary
# 1024, F16 matrices, F32 norms, output tied to the embedding:
#   always: token_embd 1024 x 256 x 2 + output_norm 256 x 4 = 525,312
#   a layer: (q, o 256x256; k, v 128x256; gate, up, down 512x256) x 2
#            + 2 norms x 256 x 4 = 1,181,696
"$MW_GEN_GGUF" --layers 4 --embd 256 --heads 4 --kv-heads 2 --ff 512 --vocab 1024 --ctx 256 \
    "$T/s.gguf" > /dev/null || fail "mw-gen-gguf failed"
ALWAYS=525312 LAYER=1181696
expect_exit 0 "$MW" inspect --json "$T/s.gguf"
expect_json "$T/stdout" weights_bytes $((ALWAYS + 4 * LAYER))

# the minimum (prefetch 2: three buffers): every layer streamed
expect_exit 0 "$MW" plan "$T/s.gguf" --mem-budget $((ALWAYS + 3 * LAYER)) --json
cp "$T/stdout" "$T/min.json"
expect_json "$T/min.json" .paging.resident_layers 0
expect_json "$T/min.json" .paging.streamed_layers 4
expect_json "$T/min.json" .paging.slots 3
expect_json "$T/min.json" .paging.slot_bytes $LAYER
expect_json "$T/min.json" .paging.always_bytes $ALWAYS
expect_json "$T/min.json" .paging.min_budget_bytes $((ALWAYS + 3 * LAYER))
expect_json "$T/min.json" .paging.streamed_bytes_per_step $((4 * LAYER))
expect_json "$T/min.json" .paging.stream_step_s null
expect_json "$T/min.json" weights_bytes $((ALWAYS + 3 * LAYER))
# one layer resident: always + 4 layers; the weights are the resident bytes
expect_exit 0 "$MW" plan "$T/s.gguf" --mem-budget $((ALWAYS + 4 * LAYER - 1)) --prefetch 1 --json
expect_json "$T/stdout" .paging.resident_layers 1
expect_json "$T/stdout" .paging.slots 2
expect_json "$T/stdout" weights_bytes $((ALWAYS + 3 * LAYER))
# everything fits: nothing streamed, the weights as without a budget
expect_exit 0 "$MW" plan "$T/s.gguf" --mem-budget $((ALWAYS + 4 * LAYER)) --json
expect_json "$T/stdout" .paging.streamed_layers 0
expect_json "$T/stdout" .paging.slots 0
expect_json "$T/stdout" weights_bytes $((ALWAYS + 4 * LAYER))
ok "plan --mem-budget on a GGUF file: the exact split at the minimum, one layer, all"

# below the minimum: exit 1 naming the smallest budget that works
expect_exit 1 "$MW" plan "$T/s.gguf" --mem-budget $((ALWAYS + 3 * LAYER - 1))
expect_contains "$T/stderr" "below the smallest that works, $((ALWAYS + 3 * LAYER)) bytes"
expect_contains "$T/stderr" "give --mem-budget $((ALWAYS + 3 * LAYER)) or more"
ok "plan --mem-budget below the minimum: exit 1 with the smallest budget"

# a preset (Llama-3.2-1B, BF16, tied: always 525,340,672, a layer
# 121,643,008; tests/unit/test_budget.c): 5 resident, 11 streamed; prompt
# 1000 is two 512-token prefill steps; the stream at 2 GB/s
expect_exit 0 "$MW" plan llama-3.2-1b --prompt 1000 --ctx 2000 --mem-budget $((525340672 + 8 * 121643008)) \
    --stream-bw 2G --host-bw 50G
expect_contains "$T/stdout" "resident: 5 of 16 layers"
expect_contains "$T/stdout" "streamed: 11 layers"
expect_contains "$T/stdout" "the stream binds"
expect_contains "$T/stdout" "batch 16"
cp "$T/stdout" "$T/text.txt"
expect_exit 0 "$MW" plan llama-3.2-1b --prompt 1000 --ctx 2000 --mem-budget $((525340672 + 8 * 121643008)) \
    --stream-bw 2G --host-bw 50G --json
cp "$T/stdout" "$T/pre.json"
expect_json "$T/pre.json" .paging.streamed_bytes_per_step $((11 * 121643008))
expect_json "$T/pre.json" .paging.streamed_prefill_bytes $((2 * 11 * 121643008))
expect_json "$T/pre.json" .paging.binds stream
s=$(json_get "$T/pre.json" .paging.stream_step_s) || exit
# 2G is 2 GiB/s (memwall's sizes are binary)
expect_num "stream step" "$s" ">=" "$(awk 'BEGIN { printf "%.6f", 11 * 121643008 / 2147483648 - 1e-6 }')"
expect_num "stream step" "$s" "<=" "$(awk 'BEGIN { printf "%.6f", 11 * 121643008 / 2147483648 + 1e-6 }')"
# batching amortizes the stream: tokens/s grows with the batch
t1=$(json_get "$T/pre.json" '.paging.batches[0].tokens_per_s') || exit
t16=$(json_get "$T/pre.json" '.paging.batches[2].tokens_per_s') || exit
expect_num "batch 16 against batch 1 x 10" "$t16" ">" "$(awk -v a="$t1" 'BEGIN { print a * 10 }')"
expect_exit 0 "$MW" plan llama-3.2-1b --prompt 1000 --ctx 2000 --mem-budget $((525340672 + 8 * 121643008)) \
    --format markdown
expect_contains "$T/stdout" "- paging: budget $((525340672 + 8 * 121643008)) bytes: 5 of 16 layers resident"
expect_contains "$T/stdout" "$((11 * 121643008)) bytes a decode step, $((2 * 11 * 121643008)) over the prefill"
# unknown bandwidth: the time is unknown and the text says how to get it
expect_exit 0 "$MW" plan llama-3.2-1b --mem-budget 1G
expect_contains "$T/stdout" "time per step unknown: give the slow tier's bandwidth with --stream-bw"
ok "plan --mem-budget on a preset: stream and prefill bytes, the step from --stream-bw, batches"

# usage errors and what a budget does not plan
expect_exit 2 "$MW" plan llama-3.2-1b --mem-budget lots
expect_exit 2 "$MW" plan llama-3.2-1b --prefetch 2
expect_contains "$T/stderr" "give them with --mem-budget"
expect_exit 2 "$MW" plan llama-3.2-1b --mem-budget 1G --prefetch 0
expect_exit 1 "$MW" plan llama-3.2-1b --mem-budget 1G --train
expect_contains "$T/stderr" "leave out --train"
expect_exit 1 "$MW" plan llama-3.2-1b --mem-budget 1G --tp 2
ok "plan --mem-budget: bad values exit 2, training and tensor parallel refused"

# without a budget: no paging key and the same plan as before
expect_exit 0 "$MW" plan "$T/s.gguf" --json
expect_json "$T/stdout" paging null
expect_json "$T/stdout" weights_bytes $((ALWAYS + 4 * LAYER))
expect_exit 0 "$MW" plan llama-3.2-1b
expect_not_contains "$T/stdout" "paging"
ok "plan without --mem-budget: unchanged"
