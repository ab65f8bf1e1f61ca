#!/usr/bin/env bash
# The swap cliff: a workload that sweeps over {batch} x 16 MiB three times,
# under a 256 MiB cap with 1 GiB of swap allowed. Batches 4 and 8 (64 and
# 128 MiB) fit and never touch swap; 16 and 24 (256 MiB plus the interpreter,
# 384 MiB) do not fit, so each pass reads back from swap what the previous
# one pushed out. memwall must see the swap-in / major faults there, put the
# cliff at 16 and call those points, and the sweep, "paging".
#
# It needs swap. With none active, it makes a temporary 1 GiB swapfile
# (root only; fallocate, then a dd-written file where fallocate'd files
# cannot be swapped on; skipped with the reason when swapon refuses both, as
# on overlayfs or tmpfs). The swapfile is always switched off and deleted:
# by the EXIT trap, which TERM/INT/HUP lead to, and, should the test be
# SIGKILLed, by a detached guard process that waits for the test to end.
# About 10 s here; each point is capped at 60 s.
. "$(dirname "$0")/lib.sh"
have_jq || skip "needs jq (scripts/deps.sh --test installs it)"
MiB=1048576
# memwall's cliff thresholds (docs/SWEEP.md, mw_cliff_thresholds_init)
SWAP_IN_THRESHOLD=$((16 * MiB))
MAJOR_FAULT_THRESHOLD=1000
SMALL="4 8"
LARGE="16 24"
PY=$(command -v python3 || echo /usr/bin/python3)
[ -x "$PY" ] || skip "no python3"

# ---- swap ------------------------------------------------------------------

SWAPFILE=
SWAPDIR=

swap_active() { # FILE
    tail -n +2 /proc/swaps 2>/dev/null | awk '{ print $1 }' | grep -qxF -- "$1"
}

# Switches the swapfile off and deletes it; never deletes one still in use,
# which would leave the swap active with no name to switch it off by.
# swapoff reads every page back in, and fails (ENOMEM) while a process of a
# capped cgroup still thrashes on it: retried for 30 s.
swap_cleanup() {
    local i
    [ -n "$SWAPFILE" ] || return 0
    for i in $(seq 30); do
        swap_active "$SWAPFILE" || break
        swapoff "$SWAPFILE" 2>/dev/null || sleep 1
    done
    if swap_active "$SWAPFILE"; then
        echo "WARNING [$MW_TEST_NAME]: could not swapoff $SWAPFILE; left in place, run: swapoff $SWAPFILE && rm -rf $SWAPDIR" >&2
    else
        rm -rf "$SWAPDIR"
    fi
    SWAPFILE=
    SWAPDIR=
}

swap_exit() {
    local rc=$?
    swap_cleanup
    (exit "$rc")
    mw_cleanup # lib.sh's: removes $T, kills tracked PIDs, exits with $?
}
trap swap_exit EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# The guard, for a SIGKILL (e.g. ctest's timeout): a detached process (out
# of the test's tree and session, its output on /dev/null so ctest does not
# wait for it) that waits for this shell to end, then cleans up as above,
# retrying for up to 10 minutes: a workload orphaned by a killed memwall may
# still be paging on the swapfile (memwall's --timeout died with it).
start_guard() { # FILE DIR
    local guard='pid=$1 f=$2 d=$3
        alive() { # a zombie is gone
            local s
            s=$(sed "s/.*) \(.\).*/\1/" "/proc/$pid/stat" 2> /dev/null) &&
                [ -n "$s" ] && [ "$s" != Z ] && [ "$s" != X ]
        }
        on() { tail -n +2 /proc/swaps | awk "{ print \$1 }" | grep -qxF -- "$f"; }
        while alive; do sleep 0.5; done
        for i in $(seq 600); do on || break; swapoff "$f" || sleep 1; done
        on || rm -rf "$d"'
    ( setsid bash -c "$guard" mw-swap-guard "$$" "$1" "$2" < /dev/null > /dev/null 2>&1 & )
}

# Makes and enables a 1 GiB swapfile under DIR; 1 with the reason in
# $swap_error when this filesystem will not swap on it.
make_swapfile() { # DIR
    local d f out
    case $1 in *[[:space:]\\]*) swap_error="$1: a blank or backslash in the name (/proc/swaps escapes them)"; return 1 ;; esac
    d=$(mktemp -d "$1/mw-swap.XXXXXX" 2> /dev/null) || { swap_error="$1: not writable"; return 1; }
    f=$d/swapfile
    SWAPDIR=$d
    SWAPFILE=$f
    start_guard "$f" "$d"
    if out=$( (umask 077 && fallocate -l 1G "$f" && chmod 600 "$f" && mkswap "$f" > /dev/null && swapon "$f") 2>&1); then
        return 0
    fi
    swap_error="$1: fallocate'd file: $(printf '%s' "$out" | tail -n 1)"
    rm -f "$f"
    if out=$( (umask 077 && dd if=/dev/zero of="$f" bs=1M count=1024 status=none && chmod 600 "$f" && mkswap "$f" > /dev/null && swapon "$f") 2>&1); then
        return 0
    fi
    swap_error="$swap_error; dd-written file: $(printf '%s' "$out" | tail -n 1)"
    swap_cleanup
    return 1
}

if [ "$(tail -n +2 /proc/swaps 2>/dev/null | wc -l)" -gt 0 ]; then
    free_kib=$(awk '/^SwapFree:/ { print $2 }' /proc/meminfo)
    [ "${free_kib:-0}" -ge $((512 * 1024)) ] ||
        skip "swap is active but only ${free_kib:-0} KiB free; the test needs 512 MiB"
    echo "     using the swap already active ($((free_kib / 1024)) MiB free)"
else
    [ "$(id -u)" = 0 ] || skip "no swap active, and making a swapfile (swapon) needs root"
    command -v swapon > /dev/null && command -v mkswap > /dev/null || skip "no swapon/mkswap (util-linux) to make a swapfile"
    errors=
    made=0
    for dir in "${TMPDIR:-/tmp}" /var/tmp "$MW_BUILD_DIR"; do
        swap_error=
        if make_swapfile "$dir"; then made=1; break; fi
        errors="$errors${errors:+; }$swap_error"
    done
    [ "$made" = 1 ] || skip "cannot make a temporary swapfile: $errors"
    echo "     temporary swapfile $SWAPFILE"
fi

# ---- the sweep ---------------------------------------------------------------

# {batch} x 16 MiB, written one byte a page three times over (bytearray is
# calloc'd: untouched pages cost nothing until the first pass). No output.
cat > "$T/work.py" <<'PY'
import sys
n = int(sys.argv[1]) * 16 * 1024 * 1024
buf = bytearray(n)
pages = n // 4096
for p in range(3):
    buf[::4096] = bytes([p + 1]) * pages
PY

sweep_json --batches "$(echo $SMALL $LARGE | tr ' ' ,)" --mem-limit 256M --swap-limit 1G \
    --timeout 60s -- "$PY" "$T/work.py" '{batch}'
expect_eq "batches" "$(jq -r '[.points[].batch] | join(" ")' "$T/sweep.json")" "$SMALL $LARGE"
jq -r '.points[] | "     batch \(.batch): \(.status), \(.wall_seconds) s, cgroup peak \(.cgroup_peak_bytes), swap peak \(.swap_peak_bytes), swap-in \(.swap_in_bytes), major faults \(.major_faults), \(.verdict)"' "$T/sweep.json"

point() { # BATCH FIELD
    jq -r --argjson b "$1" "[.points[] | select(.batch == \$b)][0].$2" "$T/sweep.json"
}

# the cap held (the kernel's peak may pass it by a few pages of forced
# charges: 160 KiB was seen once)
for b in $SMALL $LARGE; do
    expect_num "batch $b cgroup_peak_bytes (the cap)" "$(point "$b" cgroup_peak_bytes)" "<=" $((257 * MiB))
done

for b in $SMALL; do
    expect_eq "batch $b status" "$(point "$b" status)" ok
    expect_num "batch $b swap_in_bytes" "$(point "$b" swap_in_bytes)" "<=" "$SWAP_IN_THRESHOLD"
    expect_num "batch $b major_faults" "$(point "$b" major_faults)" "<=" "$MAJOR_FAULT_THRESHOLD"
    v=$(point "$b" verdict)
    [ "$v" != paging ] || { show json "$T/sweep.json"; fail "batch $b: verdict paging below the cliff"; }
done
ok "batches $SMALL fit: no paging"

for b in $LARGE; do
    st=$(point "$b" status)
    case $st in ok|timeout) ;; *) show json "$T/sweep.json"; fail "batch $b: status $st, expected ok (or timeout): swap should take the excess, not the OOM killer" ;; esac
    swin=$(point "$b" swap_in_bytes)
    majf=$(point "$b" major_faults)
    expect_num "batch $b swap_in_bytes" "$swin" ">=" 0
    expect_num "batch $b major_faults" "$majf" ">=" 0
    if ! awk -v s="$swin" -v m="$majf" -v ts="$SWAP_IN_THRESHOLD" -v tm="$MAJOR_FAULT_THRESHOLD" \
        'BEGIN { exit !(s + 0 > ts + 0 || m + 0 > tm + 0) }'; then
        show json "$T/sweep.json"
        fail "batch $b: swap-in $swin bytes and $majf major faults, neither above its threshold ($SWAP_IN_THRESHOLD, $MAJOR_FAULT_THRESHOLD)"
    fi
    expect_eq "batch $b verdict" "$(point "$b" verdict)" paging
done
expect_num "batch 24 swap_peak_bytes (the cgroup used swap)" "$(point 24 swap_peak_bytes)" ">" 0
ok "batches $LARGE page: swap-in or major faults above the thresholds"

expect_json "$T/sweep.json" cliff_batch 16
expect_json "$T/sweep.json" verdict paging
expect_contains "$T/sweep.json" "paging from batch 16"
ok "cliff at batch 16, verdict paging: $(json_get "$T/sweep.json" reason)"
