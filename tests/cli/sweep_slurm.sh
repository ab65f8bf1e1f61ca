#!/usr/bin/env bash
# memwall sweep --launcher slurm on a real one-node Slurm cluster started
# here (tests/cluster/slurm_cluster.sh: munged, slurmctld and slurmd on
# ports $MW_SLURM_PORT and the next, default 18170/18171, every file under
# $T): the synthetic workload (mw-touch: 11 MiB + 10 MiB per item, so the
# 256 MiB cap falls midway between two batches: a job's cap is the point's
# plus memwall watch's own share, measured to a MiB, ~2 MiB) swept with
# --parallel 2 under a 256 MiB cap must find the same largest batch as the
# local sweep, its OOM points Slurm's OUT_OF_MEMORY; JSON Lines and
# --resume; and the faults: no sbatch on PATH, a partition that does not
# exist, a spool that is not writable or not shared, munge down, and a
# node that dies mid-point (kill -9 slurmd): that point fails with
# NODE_FAIL and the sweep goes on once slurmd is back.
. "$(dirname "$0")/lib.sh"
. "$MW_SOURCE_DIR/tests/cluster/slurm_cluster.sh"
have_jq || skip "needs jq (scripts/deps.sh --test installs it)"
why=$(mw_slurm_missing)
[ -z "$why" ] || skip "$why"
need_memory_cgroup

trap 'rc=$?; mw_slurm_stop; (exit $rc); mw_cleanup' EXIT
mw_slurm_start "$T/cluster" || fail "the one-node cluster did not start (logs above)"
ok "one-node cluster up: node $MW_SLURM_NODE, memory enforcement: $MW_SLURM_ENFORCE"
if [ "$MW_SLURM_ENFORCE" != cgroup ]; then
    echo "note [$MW_TEST_NAME]: no cgroup memory controller for task/cgroup here:" \
         "memwall's own cgroup in each job is the cap (watch --mem-limit)"
fi
spool=$T/spool
mkdir -p "$spool"
touch=(-- "$MW_TOUCH" 11M "{batch}0M")

# the local sweep, the reference
expect_exit 0 "$MW" sweep -q --json --mem-limit 256M "${touch[@]}"
cp "$T/stdout" "$T/local.json"
local_max=$(jq .max_fit_batch "$T/local.json")
expect_eq "local largest batch" "$local_max" 24

# the same through Slurm, two jobs at once
expect_exit 0 "$MW" sweep -q --json --launcher slurm --spool "$spool" --parallel 2 \
    --mem-limit 256M --jsonl "$T/points.jsonl" "${touch[@]}"
cp "$T/stdout" "$T/slurm.json"
expect_json "$T/slurm.json" max_fit_batch "$local_max"
expect_json "$T/slurm.json" launcher slurm
expect_eq "every point a job" "$(jq '[.points[] | select(.slurm.job_id > 0)] | length' "$T/slurm.json")" \
    "$(jq '.points | length' "$T/slurm.json")"
expect_eq "their node" "$(jq -r '[.points[].slurm.host] | unique | join(",")' "$T/slurm.json")" "$MW_SLURM_NODE"
first_fail=$(jq '[.points[] | select(.status != "ok") | .batch] | min' "$T/slurm.json")
expect_eq "first failure" "$first_fail" 25
want_state=COMPLETED
[ "$MW_SLURM_ENFORCE" = cgroup ] && want_state=OUT_OF_MEMORY
expect_eq "batch 25" "$(jq -r '[.points[] | select(.batch == 25)][0] | "\(.status) \(.oom) \(.slurm.state)"' \
    "$T/slurm.json")" "oom cgroup $want_state"
expect_eq "batch 24's state" "$(jq -r '[.points[] | select(.batch == 24)][0].slurm.state' "$T/slurm.json")" COMPLETED
# Slurm's cgroup is the cap: memwall read it in the job (inherited), 256
# MiB + what memwall watch itself costs in the job, in whole MiB (the note)
dir=$(ls -d "$spool"/memwall-batch-24-* | head -n 1)
if [ "$MW_SLURM_ENFORCE" = cgroup ]; then
    extra=$(jq -r .launcher_note "$T/slurm.json" | sed -n 's/.*the cap + \([0-9]*\) MiB for memwall watch.*/\1/p')
    [ -n "$extra" ] || fail "launcher_note: $(jq -r .launcher_note "$T/slurm.json")"
    expect_num "memwall watch's own MiB in the job" "$extra" "<=" 64
    expect_eq "the job's cgroup" "$(jq -c '[.cgroup.inherited, .cgroup.limit_bytes]' "$dir/watch-1.json")" \
        "[true,$(( (256 + extra) * 1048576 ))]"
fi
npoints=$(jq '.points | length' "$T/slurm.json")
expect_eq "points in the JSON Lines file" "$(wc -l < "$T/points.jsonl")" "$npoints"
ok "largest batch $local_max through Slurm = the local sweep's, batch 25 $want_state ($npoints jobs)"

# --resume: the first 5 points from the file, the rest as jobs
head -n 5 "$T/points.jsonl" > "$T/resume.jsonl"
expect_exit 0 "$MW" sweep -q --json --launcher slurm --spool "$spool" --parallel 2 --mem-limit 256M \
    --jsonl "$T/resume.jsonl" --resume "${touch[@]}"
expect_json "$T/stdout" resumed_points 5
expect_json "$T/stdout" max_fit_batch "$local_max"
expect_eq "slurm fields read back" "$(head -n 1 "$T/points.jsonl" | jq -c '.slurm | [.state, .host]')" \
    "$(jq -c '.points[0].slurm | [.state, .host]' "$T/stdout")"
ok "--resume takes the points in the file (Slurm fields included) and finishes the sweep"

# the engine's points (the demo model) as jobs: memwall run on the node
expect_exit 0 "$MW" sweep -q --json --launcher slurm --spool "$spool" --parallel 2 --batches 1,2 --runs 1 \
    --mem-limit 512M
expect_eq "engine points" "$(jq -r '[.points[] | "\(.status) \(.slurm.state) \(.throughput > 0)"] | unique | join(",")' \
    "$T/stdout")" "ok COMPLETED true"
ok "engine points run as jobs: ok, with their throughput"

# never a hang: a job that runs past --timeout is cancelled (a timeout
# point), one that cannot start within --queue-timeout too (here the
# pre-flight job, held back by --begin)
start=$(date +%s)
expect_exit 0 "$MW" sweep -q --json --launcher slurm --spool "$spool" --batches 1 --timeout 1s -- sleep 60
expect_eq "a point past --timeout" "$(jq -r '.points[0] | "\(.status) \(.slurm.state)"' "$T/stdout")" \
    "timeout CANCELLED"
expect_contains "$T/stdout" "ran past --timeout: cancelled"
expect_num "seconds" "$(( $(date +%s) - start ))" "<" 30
expect_exit 1 "$MW" sweep -q --launcher slurm --spool "$spool" --sbatch-arg=--begin=now+3600 --queue-timeout 3s \
    --batches 1 -- true
expect_contains "$T/stderr" "did not start within --queue-timeout 3 s"
ok "--timeout and --queue-timeout cancel the job: no hang"

# SIGINT while jobs run: they are cancelled, the points interrupted, exit 130
"$MW" sweep -q --json --launcher slurm --spool "$spool" --parallel 2 --batches 1,2 --mem-limit 64M --jsonl "$T/int.jsonl" \
    -- sleep 60 > "$T/int.json" 2> "$T/int.err" < /dev/null &
sweep_pid=$!
track_pid "$sweep_pid"
mw_slurm_wait '[ "$(squeue -h -t R | wc -l)" = 2 ]' 30 || fail "the two jobs never ran"
kill -INT "$sweep_pid"
wait "$sweep_pid"
expect_eq "exit status" "$?" 130
expect_eq "points" "$(jq -r '[.points[].status] | unique | join(",")' "$T/int.json")" interrupted
mw_slurm_wait '[ -z "$(squeue -h -t PD,R)" ]' 10 || fail "jobs left running: $(squeue -h)"
expect_eq "lines" "$(wc -l < "$T/int.jsonl")" 2
ok "SIGINT cancels the jobs (scancel): points interrupted, exit 130"

# faults, each before any point runs
one=(--batches 1 -- true)
mkdir -p "$T/bin"
for b in scontrol scancel sinfo sacct squeue; do ln -sf "$(command -v $b)" "$T/bin/$b"; done
expect_exit 1 env PATH="$T/bin" "$MW" sweep -q --launcher slurm --spool "$spool" "${one[@]}"
expect_contains "$T/stderr" "no sbatch on PATH"
expect_exit 1 "$MW" sweep -q --launcher slurm --spool "$spool" --partition nosuch "${one[@]}"
expect_contains "$T/stderr" "--partition nosuch: no such partition (sinfo lists: debug*"
expect_exit 1 "$MW" sweep -q --launcher slurm --spool "$T/none" "${one[@]}"
expect_contains "$T/stderr" "--spool $T/none cannot be used"
: > "$T/afile"
expect_exit 1 "$MW" sweep -q --launcher slurm --spool "$T/afile" "${one[@]}"
expect_contains "$T/stderr" "is not a directory"
expect_exit 2 "$MW" sweep -q --parallel 2 "${one[@]}"
expect_contains "$T/stderr" "add --launcher slurm"
expect_exit 2 "$MW" sweep -q --launcher slurm "${one[@]}"
expect_contains "$T/stderr" "needs --spool DIR"
if command -v unshare > /dev/null && unshare -m true 2>/dev/null; then
    # not writable: a read-only bind mount, in memwall's mount namespace only
    expect_exit 1 unshare -m sh -c 'mount --bind -o ro "$1" "$1" && shift && exec "$@"' sh "$spool" \
        "$MW" sweep -q --launcher slurm --spool "$spool" "${one[@]}"
    expect_contains "$T/stderr" "is not writable"
    # not shared: memwall sees a directory the node does not (a tmpfs over
    # it, in memwall's mount namespace only): the pre-flight job's report
    # never appears
    expect_exit 1 unshare -m sh -c 'mount -t tmpfs none "$1" && shift && exec "$@"' sh "$spool" \
        "$MW" sweep -q --launcher slurm --spool "$spool" --queue-timeout 20s "${one[@]}"
    expect_contains "$T/stderr" "did not appear in --spool"
    ok "a spool that is not writable, or not shared, is refused before any point"
else
    echo "note [$MW_TEST_NAME]: no unshare -m here: the unwritable and unshared spools are not tried"
fi
mw_slurm_munge_stop
expect_exit 1 "$MW" sweep -q --launcher slurm --spool "$spool" "${one[@]}"
expect_contains "$T/stderr" "start munged"
mw_slurm_munge_start || fail "munged did not start again"
mw_slurm_wait 'sinfo -h' 20 || fail "sinfo does not answer after munged came back"
ok "no sbatch, no such partition, a bad spool, munge down: clear errors, exit 1"

# a node that dies mid-point: batch 1 holds its memory for 40 s; slurmd is
# killed while it runs, Slurm fails the job NODE_FAIL; batch 2 runs once
# slurmd is back
"$MW" sweep -q --json --launcher slurm --spool "$spool" --jsonl "$T/node.jsonl" --batches 1,2 --mem-limit 256M \
    -- sh -c 'if [ {batch} = 1 ]; then exec "$0" 16M 10M --hold 40s; else exec "$0" 16M 20M; fi' "$MW_TOUCH" \
    > "$T/node.json" 2> "$T/node.err" < /dev/null &
sweep_pid=$!
track_pid "$sweep_pid"
mw_slurm_wait 'squeue -h -t R -n memwall-batch-1 | grep -q .' 30 || fail "batch 1's job never ran"
sleep 1
mw_slurm_kill_slurmd
mw_slurm_wait '[ -s "$T/node.jsonl" ]' 60 || { show slurmctld "$MW_SLURM_DIR/log/slurmctld.log"; fail "batch 1 never ended"; }
mw_slurm_slurmd_start
wait "$sweep_pid"
rc=$?
[ "$rc" = 0 ] || { show stderr "$T/node.err"; fail "the sweep exited $rc"; }
expect_eq "batch 1" "$(jq -r '.points[] | select(.batch == 1) | "\(.status) \(.slurm.state)"' "$T/node.json")" \
    "failed NODE_FAIL"
expect_contains "$T/node.json" "NODE_FAIL on $MW_SLURM_NODE"
expect_eq "batch 2" "$(jq -r '.points[] | select(.batch == 2) | "\(.status) \(.slurm.state)"' "$T/node.json")" \
    "ok COMPLETED"
ok "a node killed mid-point: that point failed NODE_FAIL, the sweep went on"
