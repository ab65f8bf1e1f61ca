#!/usr/bin/env bash
# memwall sweep --contexts: the context-length sweep at a fixed batch.
# A command of known memory per token (mw-touch 16M {ctx}0K: 16 MiB + 10 KiB
# a token) gives the fit within 2% and the longest context under a cap to
# the step of 256 tokens; the demo model's KV cache gives its per-token cost
# (batch x 12 KiB) and the wall; options of the other axis are refused; a
# resumed file of another batch is refused.
. "$(dirname "$0")/lib.sh"
have_jq || skip "needs jq (scripts/deps.sh --test installs it)"
KiB=1024
MiB=1048576
need_memory_cgroup

# the fit over explicit contexts; {batch} is the fixed --batch
expect_exit 0 "$MW" sweep -q --json --contexts 1024,2048,4096,8192 --batch 3 --mem-limit 1G \
  --jsonl "$T/ctx.jsonl" -- "$MW_TOUCH" 16M "{ctx}0K" --hold 50ms
cp "$T/stdout" "$T/fit.json"
expect_json "$T/fit.json" axis ctx
expect_eq "contexts" "$(jq -c '[.points[].ctx]' "$T/fit.json")" "[1024,2048,4096,8192]"
expect_eq "the batch of each point" "$(jq -c '[.points[].batch] | unique' "$T/fit.json")" "[3]"
per=$(jq '.fit.per_item_bytes' "$T/fit.json")
expect_num "bytes per token" "$per" ">=" "$((10 * KiB * 98 / 100))"
expect_num "bytes per token" "$per" "<=" "$((10 * KiB * 102 / 100))"
expect_num "fixed bytes" "$(jq '.fit.fixed_bytes' "$T/fit.json")" "<=" "$((16 * MiB * 102 / 100 + 4 * MiB))"
expect_json "$T/fit.json" max_fit_ctx 8192
expect_json "$T/fit.json" verdict fits
expect_eq "no batch keys" "$(jq 'has("max_fit_batch") or has("knee_batch")' "$T/fit.json")" false
ok "fit: 10 KiB per token within 2%"

# {batch} and {ctx} in one argument
expect_exit 0 "$MW" sweep -q --json --contexts 256 --batch 7 --mem-limit 256M \
  -- sh -c 'echo "throughput {batch}{ctx}" >&$MEMWALL_REPORT_FD'
expect_eq "placeholders" "$(jq -c '[.points[].throughput]' "$T/stdout")" "[7256]"
ok "{batch} and {ctx} replaced"

# the longest context under a 128 MiB cap: 16 MiB + 10 KiB a token, found
# by doubling from 256 and bisection to the step of 256 tokens
expect_exit 0 "$MW" sweep -q --json --contexts auto --mem-limit 128M -- "$MW_TOUCH" 16M "{ctx}0K"
cp "$T/stdout" "$T/cap.json"
mf=$(json_get "$T/cap.json" max_fit_ctx)
expect_eq "a multiple of 256" "$((mf % 256))" 0
expect_eq "the step above fails" "$(jq --argjson c "$((mf + 256))" -r '[.points[] | select(.ctx == $c)][0].status' "$T/cap.json")" oom
# its data fits the cap, and the step above's data (2.5 MiB more) leaves
# less than the program's own memory (under 4 MiB) free
data=$((16 * MiB + mf * 10 * KiB))
expect_num "data at the largest context" "$data" "<=" "$((128 * MiB))"
expect_num "data at the largest context" "$data" ">=" "$((128 * MiB - 4 * MiB - 256 * 10 * KiB))"
expect_json "$T/cap.json" verdict "memory capacity"
expect_contains "$T/cap.json" "out of memory at ctx $((mf + 256))"
n=$(jq '.points | length' "$T/cap.json")
expect_num "points run" "$n" "<=" 16
ok "longest context under the cap: $mf tokens, in $n runs"

# the engine: the demo's KV cache costs 16 x 12 KiB a token at batch 16;
# the plan predicts each point within 3% and the wall is found exactly
if [ "${MW_SANITIZED:-0}" = 1 ]; then
  expect_exit 0 "$MW" sweep -q --json --contexts 256,8192 --batch 16 --prompt 4 --gen 2 --runs 1
  expect_eq "statuses" "$(jq -r '[.points[].status] | join(",")' "$T/stdout")" "ok,oom"
else
  expect_exit 0 "$MW" sweep -q --json --contexts auto --batch 16 --max-ctx 16384 --runs 1 --svg "$T/ctx.svg"
  cp "$T/stdout" "$T/demo.json"
  expect_json "$T/demo.json" verdict "memory capacity"
  mf=$(json_get "$T/demo.json" max_fit_ctx)
  first_oom=$(jq '[.points[] | select(.status == "oom") | .ctx] | min' "$T/demo.json")
  expect_eq "the wall to the step" "$first_oom" "$((mf + 256))"
  per=$(jq '.fit.per_item_bytes' "$T/demo.json")
  expect_num "KV bytes per token" "$per" ">=" "$((16 * 12 * KiB * 98 / 100))"
  expect_num "KV bytes per token" "$per" "<=" "$((16 * 12 * KiB * 102 / 100))"
  worst=$(jq '[.points[] | select(.status == "ok") | ((.predicted_bytes - .cgroup_peak_bytes) / .cgroup_peak_bytes | fabs)] | max' "$T/demo.json")
  expect_num "worst prediction error" "$worst" "<" 0.03
  expect_contains "$T/ctx.svg" "context, tokens per sequence"
  expect_contains "$T/ctx.svg" "ctx $mf: ok"
fi
ok "the demo model's context wall"

# CSV carries the context
expect_exit 0 "$MW" sweep -q --csv --contexts 256 --batch 2 --mem-limit 256M -- true
expect_contains "$T/stdout" "batch,ctx,status"
expect_contains "$T/stdout" "2,256,ok"
ok "CSV"

# options of the other axis, and contexts that cannot run
expect_exit 2 "$MW" sweep --batch 4 -- true
expect_contains "$T/stderr" "--batch is for a context sweep"
expect_exit 2 "$MW" sweep --contexts auto --batches 1,2 -- true
expect_contains "$T/stderr" "--batches is for a batch sweep"
expect_exit 2 "$MW" sweep --contexts auto --ctx 512 -- true
expect_contains "$T/stderr" "--ctx is for a batch sweep"
expect_exit 2 "$MW" sweep --max-ctx 4096 -- true
expect_exit 2 "$MW" sweep --contexts 256,x -- true
expect_contains "$T/stderr" "--contexts takes"
expect_exit 2 "$MW" sweep --contexts 256, -- true
expect_exit 2 "$MW" sweep --contexts 16 --prompt 16 --gen 16
expect_contains "$T/stderr" "context 16 cannot hold the prompt and the generation (16 + 16 tokens)"
expect_exit 2 "$MW" sweep --contexts auto --max-ctx 100
expect_contains "$T/stderr" "give a larger --max-ctx"
ok "errors"

# --resume takes only points of the same batch
expect_exit 1 "$MW" sweep -q --json --contexts 1024 --batch 4 --mem-limit 1G --jsonl "$T/ctx.jsonl" --resume \
  -- "$MW_TOUCH" 16M "{ctx}0K"
expect_contains "$T/stderr" "not of this sweep (batch 4)"
expect_exit 0 "$MW" sweep -q --json --contexts 1024,16384 --batch 3 --mem-limit 1G --jsonl "$T/ctx.jsonl" --resume \
  -- "$MW_TOUCH" 16M "{ctx}0K"
expect_json "$T/stdout" resumed_points 4
expect_eq "only the new point ran" "$(wc -l < "$T/ctx.jsonl")" 5
ok "resume"
