#!/usr/bin/env bash
# memwall roofline's slower tiers: --quick --json lists the nine tiers;
# fault_4k has a rate and a slowdown; with the fake libcuda the five GPU
# tiers are figures and gpu_name is its device, without a driver they are
# null with the reason; --no-tiers gives none. As root on a machine without
# swap, --swap measures swap_in with a temporary swapfile and leaves neither
# the file nor a swap area behind, also when SIGINT stops it (exit 130).
. "$(dirname "$0")/lib.sh"
have_jq || skip "needs jq (scripts/deps.sh --test installs it)"

names='["disk_cold","fault_4k","fault_thp","swap_in","gpu_d2d","gpu_h2d_pageable","gpu_h2d_pinned","gpu_d2h_pageable","gpu_d2h_pinned"]'
gpu='.tiers | map(select(.name | startswith("gpu_")))'

# with the fake driver
start=$(date +%s.%N)
MEMWALL_CUDA_LIBRARY=$MW_FAKE_CUDA "$MW" roofline --quick --json > "$T/fake.json" 2> "$T/fake.err" ||
    { show stderr "$T/fake.err"; fail "roofline --quick --json (fake libcuda) failed"; }
end=$(date +%s.%N)
secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
budget=20                                   # an optimised build's; under ASan
[ "${MW_SANITIZED:-0}" = 1 ] && budget=90   # only a runaway is caught
expect_num "roofline --quick seconds, tiers and the fake GPU included" "$secs" "<" "$budget"
expect_valid_json "$T/fake.json"
expect_json "$T/fake.json" '.tiers | map(.name)' "$names"
expect_num "fault_4k bytes/s" "$(json_get "$T/fake.json" '.tiers[1].bytes_per_second')" ">" 0
expect_num "fault_4k slowdown" "$(json_get "$T/fake.json" '.tiers[1].slowdown')" ">" 0
expect_json "$T/fake.json" '.tiers[1].reason' null
expect_json "$T/fake.json" gpu_name "memwall fake GPU"
expect_json "$T/fake.json" "$gpu | map(.bytes_per_second | type) | unique" '["number"]'
expect_json "$T/fake.json" "$gpu | map(.reason) | unique" '[null]'
expect_json "$T/fake.json" '.tiers[4].bytes == 2 * .tiers[5].bytes' true
expect_json "$T/fake.json" '.tiers | map(select(.bytes_per_second == null and .reason == null)) | length' 0
expect_json "$T/fake.json" interrupted_by null

# no driver (lib.sh points MEMWALL_CUDA_LIBRARY at nothing), and the table
"$MW" roofline --quick > "$T/none.txt" 2> "$T/none.err" || { show stderr "$T/none.err"; fail "roofline --quick failed"; }
expect_contains "$T/none.txt" "fault_4k"
expect_contains "$T/none.txt" "slower than DRAM"
expect_contains "$T/none.txt" "/nonexistent/libcuda.so.1 cannot be loaded"
"$MW" roofline --quick --json > "$T/none.json" 2> "$T/none.err" || { show stderr "$T/none.err"; fail "roofline --quick --json failed"; }
expect_json "$T/none.json" "$gpu | map(.bytes_per_second) | unique" '[null]'
expect_json "$T/none.json" "$gpu | map(.reason | test(\"cannot be loaded\")) | unique" '[true]'
expect_json "$T/none.json" gpu_name null

"$MW" roofline --quick --no-tiers --json > "$T/no.json" 2> "$T/no.err" || { show stderr "$T/no.err"; fail "roofline --no-tiers failed"; }
expect_json "$T/no.json" tiers '[]'

# --swap, for real: root, no swap yet, swapon permitted
swaps() { tail -n +2 /proc/swaps 2> /dev/null; }
if [ "$(id -u)" != 0 ]; then
    ok "tiers: quick run ${secs} s; --swap not checked (not root)"
    exit 0
fi
if [ -n "$(swaps)" ]; then
    ok "tiers: quick run ${secs} s; --swap not checked (swap is already active)"
    exit 0
fi
mkdir "$T/swapdir"
TMPDIR=$T/swapdir "$MW" roofline --quick --swap --json > "$T/swap.json" 2> "$T/swap.err" ||
    { show stderr "$T/swap.err"; fail "roofline --quick --swap failed"; }
[ -z "$(swaps)" ] || fail "a swap area is left after --swap: $(swaps)"
[ -z "$(ls -A "$T/swapdir")" ] || fail "--swap left files: $(ls -A "$T/swapdir")"
ls /var/tmp/memwall-swap-* > /dev/null 2>&1 && fail "--swap left a swapfile in /var/tmp: $(ls /var/tmp/memwall-swap-*)"
reason=$(json_get "$T/swap.json" '.tiers[3].reason') || exit
case $reason in
*"not permitted"*|*"does not take swapfiles"*|*"cannot create"*)
    ok "tiers: quick run ${secs} s; --swap not checked: $reason"
    exit 0 ;;
esac
expect_num "swap_in bytes/s" "$(json_get "$T/swap.json" '.tiers[3].bytes_per_second')" ">" 0
expect_num "swap_in bytes" "$(json_get "$T/swap.json" '.tiers[3].bytes')" ">" 0
expect_contains "$T/swap.json" "temporary swapfile"

# SIGINT while the swapfile is on: removed, what was measured shown, 130
TMPDIR=$T/swapdir "$MW" roofline --quick --swap --json > "$T/int.json" 2> "$T/int.err" < /dev/null &
pid=$!
track_pid "$pid"
n=3000
until grep -q "memwall-swap-$pid-" /proc/swaps; do
    alive "$pid" || { show stderr "$T/int.err"; fail "roofline --swap ended before its swapfile showed in /proc/swaps"; }
    n=$((n - 1))
    [ $n -gt 0 ] || fail "no memwall-swap-$pid-* in /proc/swaps within 30 s"
    sleep 0.01
done
kill -INT "$pid"
wait_gone "$pid" 20 || fail "roofline --swap still runs 20 s after SIGINT"
wait "$pid"
rc=$?
[ "$rc" = 130 ] || { show stderr "$T/int.err"; fail "SIGINT: expected exit 130, got $rc"; }
[ -z "$(swaps)" ] || fail "SIGINT: a swap area is left: $(swaps)"
[ -z "$(ls -A "$T/swapdir")" ] || fail "SIGINT: files left: $(ls -A "$T/swapdir")"
expect_json "$T/int.json" interrupted_by SIGINT
expect_json "$T/int.json" '.tiers | map(.name)' "$names"
expect_contains "$T/int.err" "interrupted by SIGINT"
ok "tiers: quick run ${secs} s; swap_in $(json_get "$T/swap.json" '.tiers[3].bytes_per_second') B/s; SIGINT cleaned up"
