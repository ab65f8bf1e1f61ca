#!/usr/bin/env bash
# memwall sweep on a workload of known memory: mw-touch 16M {batch}0M holds
# 16 MiB + 10 MiB per batch item. The fit must find both within 2%, the
# largest batch under a cap exactly, OOM points recorded and the sweep going
# on, and each way of reading throughput from a command.
. "$(dirname "$0")/lib.sh"
have_jq || skip "needs jq (scripts/deps.sh --test installs it)"
MiB=1048576

# the fit over explicit batches, each in a 1 GiB cgroup
need_memory_cgroup
expect_exit 0 "$MW" sweep -q --json --batches 1,2,4,8,16 --mem-limit 1G --jsonl "$T/points.jsonl" \
  -- "$MW_TOUCH" 16M "{batch}0M" --hold 50ms
cp "$T/stdout" "$T/fit.json"
expect_json "$T/fit.json" schema memwall.sweep/1
per=$(jq '.fit.per_item_bytes' "$T/fit.json")
fixed=$(jq '.fit.fixed_bytes' "$T/fit.json")
expect_num "per-item bytes" "$per" ">=" "$((10 * MiB * 98 / 100))"
expect_num "per-item bytes" "$per" "<=" "$((10 * MiB * 102 / 100))"
# the fixed part: 16 MiB touched plus the program itself (about 1.3 MiB) and
# the cgroup's own charges (page tables, kernel memory): within 2% + 4 MiB
expect_num "fixed bytes" "$fixed" ">=" "$((16 * MiB * 98 / 100))"
expect_num "fixed bytes" "$fixed" "<=" "$((16 * MiB * 102 / 100 + 4 * MiB))"
expect_num "r2" "$(jq '.fit.r2' "$T/fit.json")" ">" 0.999
expect_eq "points in the JSON Lines file" "$(wc -l < "$T/points.jsonl")" 5
expect_eq "every line a point" "$(jq -s 'map(.batch) | join(",")' "$T/points.jsonl")" '"1,2,4,8,16"'
ok "fit: 16 MiB + 10 MiB per item within 2%"

# the largest batch under a 256 MiB cap: 16 + 10 x 23 = 246 MiB fits,
# 16 + 240 = 256 MiB of data alone does not; found by doubling and bisection
expect_exit 0 "$MW" sweep -q --json --mem-limit 256M -- "$MW_TOUCH" 16M "{batch}0M"
cp "$T/stdout" "$T/cap.json"
expect_json "$T/cap.json" max_fit_batch 23
expect_eq "first failure" "$(jq '[.points[] | select(.status != "ok") | .batch] | min' "$T/cap.json")" 24
expect_eq "a failure is an oom" "$(jq -r '[.points[] | select(.batch == 24)][0].status' "$T/cap.json")" oom
expect_eq "its verdict" "$(jq -r '[.points[] | select(.batch == 24)][0].verdict' "$T/cap.json")" "memory capacity"
npoints=$(jq '.points | length' "$T/cap.json")
expect_num "points run" "$npoints" "<=" 12
ok "largest batch under the cap found exactly in $npoints runs"

# an OOM in the middle does not stop an explicit list
expect_exit 0 "$MW" sweep -q --json --batches 1,40,2 --mem-limit 256M -- "$MW_TOUCH" 16M "{batch}0M"
expect_eq "statuses" "$(jq -r '[.points[].status] | join(",")' "$T/stdout")" "ok,oom,ok"
ok "an OOM point is recorded and the sweep goes on"

# throughput three ways: the report descriptor, --metric, --items-per-run
expect_exit 0 "$MW" sweep -q --json --batches 1,3 --mem-limit 256M \
  -- sh -c 'echo "throughput $((100 * {batch}))" >&$MEMWALL_REPORT_FD'
expect_eq "report fd" "$(jq -c '[.points[].throughput]' "$T/stdout")" "[100,300]"
expect_exit 0 "$MW" sweep -q --json --batches 2 --mem-limit 256M --metric '([0-9.]+) it/s' \
  -- sh -c 'echo "warming up 1 it/s"; echo "speed {batch}.5 it/s"'
expect_eq "metric" "$(jq -c '[.points[].throughput]' "$T/stdout")" "[2.5]"
expect_exit 0 "$MW" sweep -q --json --batches 4 --mem-limit 256M --items-per-run 10 -- sleep 0.2
thr=$(jq '.points[0].throughput' "$T/stdout")
expect_num "items per run" "$thr" ">" 150
expect_num "items per run" "$thr" "<" 205
ok "throughput from the report fd, --metric and --items-per-run"

# bad requests
expect_exit 2 "$MW" sweep --batches 1,x -- true
expect_contains "$T/stderr" "--batches takes"
expect_exit 2 "$MW" sweep --metric 'no group' -- true
expect_contains "$T/stderr" "needs a group"
ok "errors"
