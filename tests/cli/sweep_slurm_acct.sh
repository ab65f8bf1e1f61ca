#!/usr/bin/env bash
# Slurm's accounting for real (issue #16): a one-node cluster
# (tests/cluster/slurm_cluster.sh) with accounting storage: a private
# MariaDB on 127.0.0.1:$MW_SLURM_PORT+2 and slurmdbd on +3, ports
# $MW_SLURM_ACCT_PORT (default 18174) to +3, apart from sweep_slurm.sh's
# 18170-18173. Checks a Slurm sweep's points against sacct: MaxRSS from
# sacct, within the cross-check's tolerance of memwall's peak RSS, the OOM
# point's State OUT_OF_MEMORY, no cross-check note where they agree; and
# srun ranks: `srun -n 2 memwall watch -o 'run-%r.json'` of a program
# whose task r holds (r+1)*32 MiB, then memwall merge.
. "$(dirname "$0")/lib.sh"
. "$MW_SOURCE_DIR/tests/cluster/slurm_cluster.sh"
have_jq || skip "needs jq (scripts/deps.sh --test installs it)"
why=$(mw_slurm_missing)
[ -z "$why" ] || skip "$why"
why=$(mw_slurm_acct_missing)
[ -z "$why" ] || skip "$why"
need_memory_cgroup
MIB=1048576
export MW_SLURM_PORT=${MW_SLURM_ACCT_PORT:-18174}

trap 'rc=$?; mw_slurm_stop; (exit $rc); mw_cleanup' EXIT
mw_slurm_start "$T/cluster" || fail "the one-node cluster did not start (logs above)"
[ "$MW_SLURM_ACCT" = slurmdbd ] || fail "accounting storage did not start: $MW_SLURM_ACCT_WHY"
ok "one-node cluster with accounting (slurmdbd, MariaDB): node $MW_SLURM_NODE, enforcement $MW_SLURM_ENFORCE"
spool=$T/spool
mkdir -p "$spool"

# ---- MaxRSS and State from sacct, cross-checked ------------------------------
# batch 4 holds 16 + 40 MiB for 2 s: Slurm samples the task every second
# (JobAcctGatherFrequency=1), so at least one sample sees it held; batch
# 30 (316 MiB) is killed at the 256 MiB cap
expect_exit 0 "$MW" sweep -q --json --launcher slurm --spool "$spool" --parallel 2 --batches 4,30 \
    --mem-limit 256M -- "$MW_TOUCH" 16M "{batch}0M" --hold 2s
cp "$T/stdout" "$T/acct.json"
pt() { jq -r "[.points[] | select(.batch == $1)][0] | $2" "$T/acct.json"; }
expect_eq "batch 4" "$(pt 4 '"\(.status) \(.slurm.state)"')" "ok COMPLETED"
rss=$(pt 4 .slurm.max_rss_bytes)
peak=$(pt 4 .peak_rss_bytes)
[ "$rss" != null ] || fail "batch 4: slurm.max_rss_bytes is null with accounting up"
# The tolerance (docs/CLUSTER.md "Cross-checked with Slurm"): MaxRSS sums
# the RSS of every process of the job's task - the script's sh and memwall
# watch beside the command - so it is at least the command's held memory
# (90 % of memwall's tree peak: a sample inside the 2 s hold), and at most
# memwall's peak + 64 MiB (memwall watch's own RSS, tens of MiB in an ASan
# build; shared library pages counted once a process)
expect_num "batch 4 MaxRSS (bytes) vs 0.9 x memwall's peak $peak" "$rss" ">=" $((peak * 9 / 10))
expect_num "batch 4 MaxRSS (bytes) vs memwall's peak $peak + 64 MiB" "$rss" "<=" $((peak + 64 * MIB))
expect_num "batch 4 memwall's peak (MiB)" $((peak / MIB)) ">=" 56
expect_eq "batch 4's message (no cross-check note)" "$(pt 4 '.message // ""')" ""
want=COMPLETED
[ "$MW_SLURM_ENFORCE" = cgroup ] && want=OUT_OF_MEMORY
expect_eq "batch 30" "$(pt 30 '"\(.status) \(.oom) \(.slurm.state)"')" "oom cgroup $want"
[ "$(pt 30 .slurm.max_rss_bytes)" != null ] || fail "batch 30: slurm.max_rss_bytes is null"
case "$(pt 30 '.message // ""')" in
    *cross-check*) fail "batch 30: memwall and Slurm agree on the OOM kill, yet: $(pt 30 .message)" ;;
esac
# sacct itself, as the sweep read it
id=$(pt 30 .slurm.job_id)
sacct -n -P -j "$id" -o JobID,State,MaxRSS,NodeList,ExitCode > "$T/sacct.txt"
expect_contains "$T/sacct.txt" "$id|$want||$MW_SLURM_NODE|"
expect_contains "$T/sacct.txt" "$id.batch|$want|"
# the text report: MaxRSS on the job's line
expect_exit 0 "$MW" sweep --launcher slurm --spool "$spool" --batches 4 --mem-limit 256M \
    -- "$MW_TOUCH" 16M 40M --hold 2s
expect_contains "$T/stdout" "Slurm job"
expect_contains "$T/stdout" ", MaxRSS "
ok "sacct: batch 4 MaxRSS $((rss / MIB)) MiB vs memwall's $((peak / MIB)) MiB (within 64 MiB), batch 30 $want"

# ---- srun ranks: one memwall a task, then merge -------------------------------
mkdir -p "$T/ranks"
expect_exit 0 timeout 120 srun -n 2 --mem=512 "$MW" watch --json -q -o "$T/ranks/run-%r.json" -- \
    python3 -c 'import os, time
b = bytearray(b"\x01") * ((int(os.environ["SLURM_PROCID"]) + 1) * 32 << 20)
time.sleep(1)'
ls "$T/ranks"/run-0.json "$T/ranks"/run-1.json > /dev/null || fail "no run-0.json, run-1.json: $(ls "$T/ranks")"
expect_exit 0 "$MW" merge "$T/ranks"/run-*.json --json
cp "$T/stdout" "$T/merge.json"
expect_eq "ranks" "$(jq -c '[.ranks[].rank]' "$T/merge.json")" "[0,1]"
expect_eq "largest" "$(jq .largest.rank "$T/merge.json")" 1
r0=$(jq '.ranks[] | select(.rank == 0) | .peak_rss_bytes' "$T/merge.json")
r1=$(jq '.ranks[] | select(.rank == 1) | .peak_rss_bytes' "$T/merge.json")
expect_num "rank 0's peak (MiB)" $((r0 / MIB)) ">=" 32
expect_num "rank 1 - rank 0 (MiB)" $(((r1 - r0) / MIB)) ">=" 28
expect_num "imbalance" "$(jq .imbalance "$T/merge.json")" ">" 1
ok "srun -n 2 memwall watch -o 'run-%r.json': ranks 0 and 1 merged, rank 1 the largest"
