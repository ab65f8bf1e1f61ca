#!/usr/bin/env bash
# SIGINT, SIGTERM and SIGHUP stop `memwall sweep`: the running point's tree
# is killed (SIGKILL after a grace when it ignores the signal) and its cgroup
# removed, the point is recorded "interrupted" in the JSON Lines file, the
# report of what was measured is printed, memwall exits 128+N, and --resume
# runs the interrupted point again. A signal between points stops it too.
#
# The sweep runs as a background job, where bash starts it with SIGINT
# ignored: memwall must still stop on SIGINT (tests/cli/signals.sh).
. "$(dirname "$0")/lib.sh"
have_jq || skip "needs jq (scripts/deps.sh --test installs it)"
need_memory_cgroup

# The cgroups memwall PID made (memwall-PID-N), wherever they live.
cgroups_of() { # PID
    find /sys/fs/cgroup -maxdepth 6 -type d -name "memwall-$1-*" 2>/dev/null
}

# Waits up to 5 s for a process whose command line starts with PATTERN
# (memwall's own holds the whole command too, but further in).
wait_marker() { # PATTERN
    local n=250
    until pgrep -f -- "^$1" > /dev/null; do
        [ $n -le 0 ] && return 1
        n=$((n - 1))
        sleep 0.02
    done
}

check_signal() { # NAME STATUS [trap]
    local sig=$1 want=$2 mode=${3:-} pid rc mark jl=$T/$1.jsonl inner
    mark="mw-sweep-signal-$$-$sig"
    # a tree of three: sh, sh with the marker, sleep (an orphan once its
    # parents die); with "trap", the shells ignore the signal, so only the
    # SIGKILL after the grace ends them
    inner="sh -c 'sleep 30; : $mark'"
    [ "$mode" = trap ] && inner="trap '' INT TERM HUP; $inner"
    "$MW" sweep -q --batches 1,2 --mem-limit 256M --jsonl "$jl" -- sh -c "$inner; : $mark" \
        > "$T/out" 2> "$T/err" < /dev/null &
    pid=$!
    track_pid "$pid"
    wait_marker "sh -c sleep 30; : $mark" || { show stderr "$T/err"; fail "SIG$sig: the point did not start within 5 s"; }
    [ -n "$(cgroups_of "$pid")" ] || fail "SIG$sig: no memwall-$pid-* cgroup while the point runs"

    kill -s "$sig" "$pid"
    if ! wait_gone "$pid" 6; then
        show stderr "$T/err"
        fail "SIG$sig: memwall (pid $pid) still runs 6 s after the signal"
    fi
    wait "$pid"
    rc=$?
    [ "$rc" = "$want" ] || { show stdout "$T/out"; show stderr "$T/err"; fail "SIG$sig: expected exit $want, got $rc"; }
    if pgrep -af -- "$mark" >&2; then fail "SIG$sig: processes of the point outlived the sweep"; fi
    [ -z "$(cgroups_of "$pid")" ] || fail "SIG$sig: cgroup left behind: $(cgroups_of "$pid")"
    # the point, interrupted, is the file's only line; batch 2 never ran
    expect_eq "SIG$sig: lines" "$(wc -l < "$jl")" 1
    expect_eq "SIG$sig: status" "$(jq -r .status "$jl")" interrupted
    expect_contains "$T/out" "interrupted by SIG$sig"
    expect_contains "$T/err" "sweep interrupted by SIG$sig"
    expect_contains "$T/err" "--resume"

    # --resume runs it again (this time a command that ends at once)
    expect_exit 0 "$MW" sweep -q --json --batches 1,2 --mem-limit 256M --jsonl "$jl" --resume -- true
    expect_json "$T/stdout" resumed_points 0
    expect_eq "SIG$sig: resumed statuses" "$(jq -r '[.points[].status] | join(",")' "$T/stdout")" "ok,ok"
    expect_eq "SIG$sig: the file after --resume" "$(jq -sr 'map("\(.batch):\(.status)") | join(",")' "$jl")" \
        "1:interrupted,1:ok,2:ok"
    ok "SIG$sig during a point${mode:+ that ignores it}: exit $want, tree and cgroup gone, recorded interrupted, --resume reruns it"
}

check_signal TERM 143
check_signal INT 130
check_signal HUP 129
check_signal TERM 143 trap

# Between points: short points, a signal at some moment of the sweep. It
# lands during a point (recorded interrupted) or between two (none is);
# either way the sweep stops at once with 128+N, every line whole.
jl=$T/between.jsonl
batches=$(seq -s, 1 150)
"$MW" sweep -q --json --batches "$batches" --mem-limit 256M --jsonl "$jl" -- true \
    > "$T/out" 2> "$T/err" < /dev/null &
pid=$!
track_pid "$pid"
n=250
until [ -s "$jl" ] && [ "$(wc -l < "$jl")" -ge 3 ]; do
    [ $n -le 0 ] && { show stderr "$T/err"; fail "between points: no 3 points within 5 s"; }
    n=$((n - 1))
    sleep 0.02
done
kill -s INT "$pid"
wait_gone "$pid" 5 || fail "between points: memwall still runs 5 s after SIGINT"
wait "$pid"
rc=$?
[ "$rc" = 130 ] || { show stderr "$T/err"; fail "between points: expected exit 130, got $rc"; }
jq -s . "$jl" > /dev/null 2>&1 || { show jsonl "$jl"; fail "between points: the file is not whole JSON lines"; }
lines=$(wc -l < "$jl")
expect_num "between points: lines" "$lines" "<" 150
expect_json "$T/out" interrupted_by SIGINT
expect_eq "between points: report and file agree" "$(jq '.points | length' "$T/out")" "$lines"
ok "SIGINT at some moment of a 150-point sweep: stopped after $lines points with 130"

expect_exit 0 "$MW" sweep -q --json --batches "$batches" --mem-limit 256M --jsonl "$jl" --resume -- true
expect_eq "after --resume: ok points" "$(jq '[.points[] | select(.status == "ok")] | length' "$T/stdout")" 150
expect_json "$T/stdout" interrupted_by null
ok "--resume completes it"
