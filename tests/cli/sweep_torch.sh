#!/usr/bin/env bash
# A real client: a small PyTorch training run (tests/sweep/train_mlp.py, CPU,
# Debian's python3-torch) swept by batch size. Each point must run to the
# end with a throughput (from the script's "throughput N" on
# $MEMWALL_REPORT_FD), memwall's peak RSS must agree within 5% with the
# script's own report of its peak (getrusage ru_maxrss: for a one-process
# tree both are the kernel's VmHWM), and memory must grow with the batch in
# a clean line. About 9 s on a 2-core machine.
. "$(dirname "$0")/lib.sh"
have_jq || skip "needs jq (scripts/deps.sh --test installs it)"
PY=/usr/bin/python3
SCRIPT=$MW_SOURCE_DIR/tests/sweep/train_mlp.py
BATCHES="8 16 32 64"
[ -x "$PY" ] || skip "no $PY (Debian's python3-torch installs torch for it)"
# A warm-up run outside memwall, which also tells whether torch is there: on
# a cold page cache the first point would otherwise be charged for the
# libtorch pages it reads first (and slab), ~10-20 MiB more cgroup peak than
# the next batch's, enough to bring the fit's r2 down to about 0.93.
if ! err=$("$PY" "$SCRIPT" --batch 1 --steps 2 2>&1 > /dev/null); then
    if ! "$PY" -c 'import torch' > /dev/null 2>&1; then
        skip "$PY cannot import torch (apt-get install python3-torch): $(printf '%s' "$err" | tail -n 1)"
    fi
    fail "the warm-up run of train_mlp.py failed: $err"
fi

# The script appends "BATCH PEAK_RSS_BYTES THROUGHPUT" to $TRAIN_MLP_REPORT
# (the sweep's JSON keeps no command output).
export TRAIN_MLP_REPORT=$T/own.txt
: > "$TRAIN_MLP_REPORT"
sweep_json --batches "$(echo $BATCHES | tr ' ' ,)" --mem-limit 3G -- "$PY" "$SCRIPT" --batch '{batch}' --steps 3
expect_eq "batches" "$(jq -r '[.points[].batch] | join(" ")' "$T/sweep.json")" "$BATCHES"

for b in $BATCHES; do
    pt=$(jq -c --argjson b "$b" '[.points[] | select(.batch == $b)][0]' "$T/sweep.json")
    status=$(jq -r .status <<< "$pt")
    [ "$status" = ok ] || { show json "$T/sweep.json"; show stderr "$T/stderr"; fail "batch $b: status $status, expected ok"; }
    thr=$(jq .throughput <<< "$pt")
    expect_num "batch $b throughput" "$thr" ">" 0
    mw_peak=$(jq .peak_rss_bytes <<< "$pt")
    own=$(awk -v b="$b" '$1 == b { print $2 }' "$TRAIN_MLP_REPORT")
    [ "$(printf '%s\n' "$own" | grep -c .)" = 1 ] || { show report "$TRAIN_MLP_REPORT"; fail "batch $b: expected one line of the script's own report"; }
    own_thr=$(awk -v b="$b" '$1 == b { print $3 }' "$TRAIN_MLP_REPORT")
    # memwall's peak within 5% of the script's ru_maxrss
    expect_num "batch $b: memwall's peak_rss_bytes $mw_peak vs the script's $own" "$mw_peak" ">=" "$(awk -v s="$own" 'BEGIN { printf "%.0f", s * 0.95 }')"
    expect_num "batch $b: memwall's peak_rss_bytes $mw_peak vs the script's $own" "$mw_peak" "<=" "$(awk -v s="$own" 'BEGIN { printf "%.0f", s * 1.05 }')"
    # the throughput is the script's own, read from $MEMWALL_REPORT_FD
    expect_num "batch $b: throughput $thr vs the script's $own_thr" "$(awk -v a="$thr" -v b="$own_thr" 'BEGIN { d = a - b; print (d < 0 ? -d : d) }')" "<" 0.01
    echo "     batch $b: memwall peak $mw_peak, script ru_maxrss $own ($(awk -v a="$mw_peak" -v b="$own" 'BEGIN { printf "%+.2f%%", (a - b) * 100 / b }')), $thr samples/s"
done
ok "every point ok, with the script's throughput and memwall's peak within 5% of its ru_maxrss"

per=$(jq .fit.per_item_bytes "$T/sweep.json")
r2=$(jq .fit.r2 "$T/sweep.json")
expect_json "$T/sweep.json" .fit.valid true
expect_num "fit per_item_bytes" "$per" ">" 0
expect_num "fit r2" "$r2" ">" 0.9
expect_json "$T/sweep.json" max_fit_batch 64
ok "fit: $(jq .fit.fixed_bytes "$T/sweep.json") bytes + $per per sample, r2 $r2"

# PyTorch's own out-of-memory failure (its CPU allocator refusing a 1 TiB
# tensor) is an oom point of the host, with its message, not a "failed" one;
# under vm.overcommit_memory=1 the kernel would grant it, so then skip it
if [ "$(cat /proc/sys/vm/overcommit_memory 2>/dev/null)" != 1 ]; then
    expect_exit 0 "$MW" sweep -q --json --batches 1 --mem-limit 1G \
        -- "$PY" -c 'import torch; torch.empty({batch} << 40, dtype=torch.uint8)'
    expect_json "$T/stdout" '.points[0].status' oom
    expect_json "$T/stdout" '.points[0].oom' host
    expect_contains "$T/stdout" "DefaultCPUAllocator: can't allocate memory"
    ok "PyTorch's allocation failure is an oom of the host"
fi

# Issue #9: the same script under a 768 MiB cap with memory to spare and no
# swap, one run a point, as a user first runs it. On a shared machine one
# run's throughput can be 40% below the last with a few major faults (file
# reads) beside it: that is noise, not paging. No point may be called
# paging, and each point's memory is at least the process's resident set
# (libtorch's file pages, cached before the point and charged elsewhere,
# count), with the figure it is named in the JSON.
sweep_json --batches 2,4,8,16,32,64 --mem-limit 768M -- "$PY" "$SCRIPT" --batch '{batch}' --steps 3
paging=$(jq '[.points[] | select(.verdict == "paging")] | length' "$T/sweep.json")
[ "$paging" = 0 ] || { show json "$T/sweep.json"; fail "$paging points called paging with memory to spare and no swap"; }
[ "$(json_get "$T/sweep.json" verdict)" != paging ] || fail "the sweep was called paging"
expect_eq "no cliff" "$(json_get "$T/sweep.json" cliff_batch)" null
for i in $(seq 0 5); do
    pt=$(jq -c ".points[$i]" "$T/sweep.json")
    [ "$(jq .max_processes <<< "$pt")" = 1 ] || continue
    expect_num "point $i: memory vs its RSS" "$(jq .memory_bytes <<< "$pt")" ">=" "$(jq .peak_rss_bytes <<< "$pt")"
    case $(jq -r .memory_source <<< "$pt") in cgroup|rss) ;; *) fail "point $i: no memory_source";; esac
done
ok "768 MiB, one run a point: no paging ($(json_get "$T/sweep.json" verdict)); memory at least the RSS, named"

# --warmup 1 --runs 2: the warm-up run is not counted, the spread is kept
sweep_json --batches 8 --mem-limit 768M --warmup 1 --runs 2 -- "$PY" "$SCRIPT" --batch '{batch}' --steps 2
expect_eq "runs counted" "$(jq -c "[.points[].runs]" "$T/sweep.json")" "[2]"
lo=$(jq ".points[0].throughput_min" "$T/sweep.json")
hi=$(jq ".points[0].throughput_max" "$T/sweep.json")
expect_num "the point's throughput range" "$hi" ">=" "$lo"
expect_num "the point's throughput range" "$lo" ">" 0
[ "$(jq '[.points[] | select(.verdict == "paging")] | length' "$T/sweep.json")" = 0 ] || fail "paging with --runs 2"
ok "--warmup 1 --runs 2: two runs counted, their range kept, no paging"
