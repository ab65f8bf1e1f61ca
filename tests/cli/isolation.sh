#!/usr/bin/env bash
# What a workload gets from memwall, and what memwall leaves behind (issue
# #10): a child of `watch -o FILE` or of a sweep sees only descriptors 0-2
# (plus MEMWALL_REPORT_FD for a sweep's command); after `kill -9` of memwall
# neither the cap's cgroup nor a detached grandchild survives; a process
# that leaves the cap's cgroup is reported; two sweeps cannot share one
# --jsonl file; --resume refuses a named pipe instead of hanging.
. "$(dirname "$0")/lib.sh"
have_jq || skip "needs jq (scripts/deps.sh --test installs it)"

# The descriptors of the shell that runs this, one a line (ls is another
# process: its own directory descriptor is not in the list; no pipeline,
# whose pipes the shell would hold while ls runs). fds FILE: them, sorted.
list_fds='ls /proc/$$/fd'
fds() { sort -n "$1" | tr '\n' ' '; }

# Runs CMD with descriptors 0-2 only: whatever else ctest, a CI runner or a
# terminal left open is not memwall's to close.
only_stdio() { # CMD...
    (
        for fd in $(ls /proc/$BASHPID/fd); do
            [ "$fd" -gt 2 ] && eval "exec $fd>&-"
        done
        exec "$@"
    )
}

# Where the memory controller is mounted: v1's memory hierarchy, else cgroup2.
memory_mount() {
    local m
    m=$(awk '$3 == "cgroup" && $4 ~ /(^|,)memory(,|$)/ {print $2; exit}' /proc/mounts)
    [ -n "$m" ] || m=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)
    [ -n "$m" ] && [ -d "$m" ] || fail "no memory cgroup mount in /proc/mounts"
    echo "$m"
}

# ---- descriptors ------------------------------------------------------------
# what a shell started the same way without memwall has: 0, 1, 2 (and a
# descriptor bash itself may keep across the function's redirections)
expect_exit 0 only_stdio sh -c "$list_fds > '$T/base.fds'"
base=$(fds "$T/base.fds")
case "$base" in "0 1 2 "*) ;; *) fail "the baseline lacks 0, 1, 2: $base" ;; esac
expect_exit 0 only_stdio "$MW" watch -q -o "$T/report.txt" -- sh -c "$list_fds > '$T/watch.fds'"
expect_eq "watch -o: the child's descriptors" "$(fds "$T/watch.fds")" "$base"
expect_exit 0 only_stdio "$MW" watch -q --json -o "$T/report.json" --timeline "$T/tl.jsonl" -- sh -c "$list_fds > '$T/watch2.fds'"
expect_eq "watch -o --timeline: the child's descriptors" "$(fds "$T/watch2.fds")" "$base"
ok "watch: the child has only 0, 1, 2 (not -o's file, not the timeline)"

need_memory_cgroup
expect_exit 0 only_stdio "$MW" sweep -q --json --batches 1,2 --mem-limit 256M --jsonl "$T/fds.jsonl" -- \
    sh -c "$list_fds > '$T/sweep.{batch}.fds'; echo \"\$MEMWALL_REPORT_FD\" > '$T/sweep.{batch}.env'"
for b in 1 2; do
    rfd=$(cat "$T/sweep.$b.env")
    [ -n "$rfd" ] || fail "sweep: MEMWALL_REPORT_FD is not set in the command"
    expect_eq "sweep point $b: the command's descriptors" "$(fds "$T/sweep.$b.fds")" \
        "$( (echo "$rfd"; tr ' ' '\n' <<< "$base") | grep . | sort -n | tr '\n' ' ')"
done
ok "sweep: the command has only 0, 1, 2 and MEMWALL_REPORT_FD (not the JSON Lines file, not the temporary files)"

# ---- kill -9 of memwall: its guard removes the cgroup and what is in it --------
# CMD starts a grandchild in a session of its own (reparented to init when
# its parent dies), writes its PID, and waits
killed_run() { # NAME MEMWALL-ARGS...
    local name=$1 pidfile=$T/$1.grandchild
    shift
    "$MW" "$@" -- sh -c "setsid sh -c 'sleep 60 & echo \$! > \"$pidfile\"; wait' & sleep 60" \
        > "$T/$name.out" 2> "$T/$name.err" < /dev/null &
    local mw=$!
    track_pid "$mw"
    local n=0
    while [ ! -s "$pidfile" ] && [ $n -lt 250 ]; do sleep 0.02; n=$((n + 1)); done
    [ -s "$pidfile" ] || { show stderr "$T/$name.err"; fail "$name: the grandchild did not start"; }
    local gc cg
    gc=$(cat "$pidfile")
    track_pid "$gc"
    # the cgroup memwall made: the grandchild's memory cgroup
    cg=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ || ($1 == "0" && $2 == "") {print $3; exit}' "/proc/$gc/cgroup")
    case "$cg" in */memwall-*) ;; *) fail "$name: the grandchild is not in a memwall cgroup ($cg)" ;; esac
    local dir n=0
    dir=$(find "$(memory_mount)" -maxdepth 8 -type d -name "${cg##*/}" | head -n 1)
    [ -n "$dir" ] || fail "$name: memwall's cgroup ${cg##*/} is not under $(memory_mount)"
    kill -KILL "$mw"
    wait "$mw" 2> /dev/null
    wait_gone "$gc" 5 || fail "$name: grandchild $gc still runs 5 s after kill -9 of memwall"
    n=0
    while [ -d "$dir" ] && [ $n -lt 250 ]; do sleep 0.02; n=$((n + 1)); done
    [ ! -d "$dir" ] || fail "$name: cgroup $dir still there 5 s after kill -9 of memwall"
}
killed_run watch watch -q --mem-limit 256M
ok "watch: kill -9 leaves neither the cgroup nor a detached grandchild"
killed_run sweep sweep -q --batches 1 --mem-limit 256M --jsonl "$T/killed.jsonl"
ok "sweep: kill -9 leaves neither the point's cgroup nor a detached grandchild"

# ---- a process that leaves the cap's cgroup ---------------------------------------
root_procs=$(memory_mount)/cgroup.procs
[ -w "$root_procs" ] || skip "cannot write $root_procs (a process must be able to leave the cap's cgroup)"
expect_exit 0 "$MW" watch --json -o "$T/escaped.json" --interval 10ms --mem-limit 256M -- \
    sh -c "echo \$\$ > '$root_procs' && exec sleep 0.3"
expect_json "$T/escaped.json" cgroup.escaped_processes 1
expect_json "$T/escaped.json" cgroup.escaped_pid "$(jq .pid "$T/escaped.json")"
expect_exit 0 "$MW" watch -o "$T/escaped.txt" --interval 10ms --mem-limit 256M -- \
    sh -c "echo \$\$ > '$root_procs' && exec sleep 0.3"
expect_contains "$T/escaped.txt" "left the cap's cgroup"
expect_exit 0 "$MW" watch --json -o "$T/stayed.json" --interval 10ms --mem-limit 256M -- \
    sh -c "sleep 0.1 & sleep 0.2; wait"
expect_json "$T/stayed.json" cgroup.escaped_processes 0
expect_json "$T/stayed.json" cgroup.escaped_pid null
ok "watch: a process that moves itself out of the cap's cgroup is reported (and none otherwise)"

# ---- one --jsonl, two sweeps ---------------------------------------------------------
jl=$T/shared.jsonl
"$MW" sweep -q --json --batches 1,2 --mem-limit 256M --jsonl "$jl" -- sleep 1 > "$T/first.out" 2> "$T/first.err" &
first=$!
track_pid "$first"
n=0
while [ ! -e "$jl" ] && [ $n -lt 250 ]; do sleep 0.02; n=$((n + 1)); done
sleep 0.2
expect_exit 1 "$MW" sweep -q --json --batches 3 --mem-limit 256M --jsonl "$jl" -- true
expect_contains "$T/stderr" "$jl is in use by another sweep (process $first (memwall) holds its lock)"
wait "$first" || { show stderr "$T/first.err"; fail "the first sweep failed"; }
expect_eq "points in the shared file" "$(jq -s -c 'map(.batch)' "$jl")" "[1,2]"
expect_exit 0 "$MW" sweep -q --json --batches 1,2,3 --mem-limit 256M --jsonl "$jl" --resume -- true
expect_eq "points after a --resume once the first ended" "$(jq -s -c 'map(.batch)' "$jl")" "[1,2,3]"
ok "two sweeps on one --jsonl: the second exits 1 naming the first, the file keeps the first's whole points"

# ---- --jsonl that is no regular file -------------------------------------------------
mkfifo "$T/fifo"
expect_exit 1 timeout 20 "$MW" sweep -q --batches 1 --jsonl "$T/fifo" --resume -- true
expect_contains "$T/stderr" "$T/fifo is not a regular file (a named pipe)"
expect_exit 1 timeout 20 "$MW" sweep -q --batches 1 --jsonl "$T/fifo" -- true
ok "--jsonl FIFO (with and without --resume): refused at once, exit 1"
