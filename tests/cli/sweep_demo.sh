#!/usr/bin/env bash
# `memwall sweep` with no arguments: the demonstration on the demo model.
# It must finish within a minute and show the three regimes: throughput
# growing with the batch (memory bandwidth), the knee (compute), and the
# wall under its 512 MiB cap (memory capacity), with the largest fitting
# batch found exactly. Under ASan the engine is many times slower: a short
# list of batches then checks the same path.
. "$(dirname "$0")/lib.sh"
have_jq || skip "needs jq (scripts/deps.sh --test installs it)"
need_memory_cgroup
if [ "${MW_SANITIZED:-0}" = 1 ]; then
  expect_exit 0 "$MW" sweep -q --json --batches 1,2,200
  expect_eq "statuses" "$(jq -r '[.points[].status] | join(",")' "$T/stdout")" "ok,ok,oom"
  expect_json "$T/stdout" verdict "memory capacity"
  ok "the demonstration's path, sanitized"
  exit 0
fi
start=$(date +%s)
expect_exit 0 "$MW" sweep -q --json
secs=$(( $(date +%s) - start ))
cp "$T/stdout" "$T/demo.json"
expect_num "seconds" "$secs" "<" 60
expect_json "$T/demo.json" schema memwall.sweep/1
expect_json "$T/demo.json" verdict "memory capacity"
mf=$(json_get "$T/demo.json" max_fit_batch)
first_oom=$(jq '[.points[] | select(.status == "oom") | .batch] | min' "$T/demo.json")
expect_eq "the wall is found exactly" "$first_oom" "$((mf + 1))"
expect_num "largest fitting batch" "$mf" ">=" 16
knee=$(json_get "$T/demo.json" knee_batch)
expect_num "knee" "$knee" ">=" 2
expect_num "knee below the wall" "$knee" "<" "$mf"
for v in "memory bandwidth" compute "memory capacity"; do
  n=$(jq --arg v "$v" '[.points[] | select(.verdict == $v)] | length' "$T/demo.json")
  expect_num "points judged $v" "$n" ">=" 1
done
# throughput grows up to the knee
t1=$(jq '[.points[] | select(.batch == 1)][0].throughput' "$T/demo.json")
tk=$(jq --argjson k "$knee" '[.points[] | select(.batch == $k)][0].throughput' "$T/demo.json")
expect_num "throughput at the knee vs batch 1" "$tk" ">" "$(awk -v t="$t1" 'BEGIN{print 2*t}')"
ok "bandwidth, knee at $knee, wall at $((mf + 1)) under the cap, in ${secs}s"
