# watch_ranks.sh - memwall watch of real distributed jobs (issue #16):
# Open MPI's mpirun of a small C program whose rank r touches (r+1)*64 MiB,
# watched whole (ranks[] of one report) and rank by rank (`mpirun memwall
# watch -o 'r-%r.json'`, then memwall merge), and torchrun of a PyTorch
# script (gloo) whose rank r holds a tensor of (r+1)*32 MiB. Skipped (77)
# when mpicc/mpirun or torch are missing (scripts/deps.sh --test installs
# them). MW_TORCH_PORT (default 18160) is torchrun's master port.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

MIB=1048576
have_jq || skip "needs jq (scripts/deps.sh --test installs it)"

# ---- templates: no rank in memwall's environment is an error -----------------
(
    unset RANK OMPI_COMM_WORLD_RANK PMIX_RANK PMI_RANK SLURM_PROCID
    expect_exit 125 "$MW" watch -o "$T/r-%r.json" -- true
    expect_contains "$T/stderr" "-o '$T/r-%r.json' has %r, but memwall's environment gives it no rank"
    expect_contains "$T/stderr" "RANK, OMPI_COMM_WORLD_RANK, PMIX_RANK, PMI_RANK, SLURM_PROCID"
    expect_exit 125 "$MW" watch --timeline "$T/t-%x.csv" -- true
    expect_contains "$T/stderr" "--timeline '$T/t-%x.csv': unknown '%x'"
    [ ! -e "$T/r-%r.json" ] || fail "a report was written under a template that did not expand"
) || exit
expect_exit 0 env SLURM_PROCID=5 SLURM_LOCALID=2 "$MW" watch --json -o "$T/s-%r-%l-%h-%p-%%.json" \
    --timeline "$T/s-%r.csv" -- true
f=$(ls "$T"/s-5-2-*-%.json 2> /dev/null | head -n 1)
[ -n "$f" ] || fail "no s-5-2-HOST-PID-%.json written: $(ls "$T")"
[ -f "$T/s-5.csv" ] || fail "no timeline s-5.csv"
expect_json "$f" rank 5
expect_json "$f" local_rank 2
expect_json "$f" host "$(hostname)"
ok "templates: %r %l %h %p %%, and a missing rank refused"

# ---- a rank's GPU memory, from the scripted fake NVML (tests/fake_nvml.c) ----------
if [ -f "$MW_FAKE_NVML" ]; then
    cat > "$T/nvml.txt" << 'NV'
device 0 name="Fake H100" total=80G
used 0 1G 3G 2G
proc 0 child 512M 1536M 1G
NV
    expect_exit 0 env MEMWALL_NVML_LIBRARY="$MW_FAKE_NVML" MEMWALL_FAKE_NVML_SCRIPT="$T/nvml.txt" \
        "$MW" watch --json -o "$T/gpu.json" --interval 20ms -- env RANK=3 LOCAL_RANK=1 "$MW_TOUCH" 1M --hold 300ms
    expect_json "$T/gpu.json" '.ranks | length' 1
    expect_json "$T/gpu.json" '.ranks[0].rank' 3
    expect_json "$T/gpu.json" '.ranks[0].local_rank' 1
    expect_json "$T/gpu.json" '.ranks[0].peak_gpu_bytes' $((1536 * MIB))
    expect_json "$T/gpu.json" '.processes[0].rank' 3
    ok "a rank's GPU peak from NVML's per-process figures (fake: 1536 MiB)"
fi

# ---- --pid: a running process's rank -----------------------------------------------
env RANK=7 LOCAL_RANK=3 "$MW_TOUCH" 4M --hold 1500ms &
apid=$!
track_pid "$apid"
sleep 0.3
expect_exit 0 "$MW" watch --json -o "$T/pid.json" --interval 20ms --pid "$apid"
expect_json "$T/pid.json" '.ranks | length' 1
expect_json "$T/pid.json" '.ranks[0].rank' 7
expect_json "$T/pid.json" '.ranks[0].local_rank' 3
expect_json "$T/pid.json" cap_hit_seconds null
ok "--pid: the running process's rank 7 (local 3)"

# ---- a cap: when it was first hit, the rank the OOM killer ended, merged -----------
# rank 1 grows by 16 MiB steps past a 48 MiB cap; rank 0 holds 8 MiB
"$MW" watch --json -o "$T/cap.json" --interval 10ms --mem-limit 48M -- /bin/sh -c \
    "RANK=0 $MW_TOUCH --hold 1s 8M & RANK=1 $MW_TOUCH --step-delay 50ms 16M 16M 16M 16M; wait" \
    > "$T/stdout" 2> "$T/stderr" < /dev/null
rc=$?
if [ $rc = 125 ] && grep -q systemd-run "$T/stderr"; then
    echo "note [$MW_TEST_NAME]: no writable memory cgroup here: the cap part is skipped"
else
    expect_json "$T/cap.json" '.ranks | length' 2
    expect_json "$T/cap.json" '.ranks[0].oom_killed' false
    expect_json "$T/cap.json" '.ranks[1].oom_killed' true
    hit=$(json_get "$T/cap.json" cap_hit_seconds) || exit
    wall=$(json_get "$T/cap.json" wall_seconds) || exit
    expect_num "cap_hit_seconds" "$hit" ">=" 0
    expect_num "cap_hit_seconds" "$hit" "<=" "$wall"
    expect_exit 0 "$MW" merge --json -o "$T/capm.json" "$T/cap.json"
    expect_json "$T/capm.json" '.first_at_cap.rank' 1
    expect_json "$T/capm.json" '.first_at_cap.oom_killed' true
    start=$(json_get "$T/cap.json" start_unix_seconds) || exit
    at=$(json_get "$T/capm.json" '.first_at_cap.unix_seconds') || exit
    expect_num "first_at_cap.unix_seconds - (start + cap_hit) x1e6" \
        "$(awk -v a="$at" -v s="$start" -v h="$hit" 'BEGIN { d = (a - s - h) * 1e6; if (d < 0) d = -d; printf "%d", d }')" "<=" 10
    ok "--mem-limit 48M: the cap first hit at ${hit} s, rank 1 OOM-killed, merge names it first"
fi

# ---- Open MPI ---------------------------------------------------------------------
MPI_OK=1
command -v mpicc > /dev/null 2>&1 && command -v mpirun > /dev/null 2>&1 || MPI_OK=0
if [ $MPI_OK = 1 ]; then
    cat > "$T/uneven.c" << 'C'
#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* rank r touches (r+1)*64 MiB, waits for the others, holds it a second */
int main(int argc, char **argv)
{
    int rank = 0;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    size_t n = (size_t)(rank + 1) * 64 * 1048576;
    char *p = malloc(n);
    if (!p) return 1;
    memset(p, 1, n);
    MPI_Barrier(MPI_COMM_WORLD);
    sleep(1);
    MPI_Barrier(MPI_COMM_WORLD);
    int ok = p[n - 1] == 1;
    free(p);
    MPI_Finalize();
    return ok ? 0 : 2;
}
C
    mpicc -O1 -o "$T/uneven" "$T/uneven.c" 2> "$T/mpicc.err" || { show mpicc "$T/mpicc.err"; fail "mpicc failed"; }
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader
    MPIRUN=(mpirun --allow-run-as-root --oversubscribe -np 2)

    # (a) the launcher watched: both ranks in one report
    expect_exit 0 timeout 120 "$MW" watch --json -o "$T/mpi.json" --interval 20ms -- "${MPIRUN[@]}" "$T/uneven"
    expect_json "$T/mpi.json" '.ranks | length' 2
    expect_json "$T/mpi.json" '.ranks[0].rank' 0
    expect_json "$T/mpi.json" '.ranks[1].rank' 1
    expect_json "$T/mpi.json" '.ranks[0].local_rank' 0
    expect_json "$T/mpi.json" '.ranks[1].local_rank' 1
    p0=$(json_get "$T/mpi.json" '.ranks[0].peak_rss_bytes') || exit
    p1=$(json_get "$T/mpi.json" '.ranks[1].peak_rss_bytes') || exit
    # what each rank touched, plus Open MPI's libraries and buffers (tens of MiB)
    expect_num "rank 0 peak" "$p0" ">=" $((64 * MIB))
    expect_num "rank 0 peak" "$p0" "<=" $((64 * MIB + 128 * MIB))
    expect_num "rank 1 peak" "$p1" ">=" $((128 * MIB))
    expect_num "rank 1 peak" "$p1" "<=" $((128 * MIB + 128 * MIB))
    # the same runtime under each: they differ by what the program touched
    expect_num "rank 1 - rank 0" $((p1 - p0)) ">=" $((64 * MIB - 16 * MIB))
    expect_num "rank 1 - rank 0" $((p1 - p0)) "<=" $((64 * MIB + 16 * MIB))
    # mpirun itself has no rank; the ranks' processes say theirs
    expect_json "$T/mpi.json" '.processes[0].rank' null
    expect_json "$T/mpi.json" '.processes | map(select(.rank != null)) | length' 2
    # the text report's table
    expect_exit 0 timeout 120 "$MW" watch -o "$T/mpi.txt" -- "${MPIRUN[@]}" "$T/uneven"
    expect_contains "$T/mpi.txt" "ranks (2 seen)"
    expect_contains "$T/mpi.txt" "largest          rank 1 at"
    ok "mpirun -np 2 watched whole: rank 0 $((p0 / MIB)) MiB, rank 1 $((p1 / MIB)) MiB"

    # (b) one memwall a rank, each writing its own file, then merged
    (cd "$T" && expect_exit 0 timeout 120 "${MPIRUN[@]}" "$MW" watch --json -o 'r-%r.json' --interval 20ms -- ./uneven) || exit
    [ -f "$T/r-0.json" ] && [ -f "$T/r-1.json" ] || fail "mpirun memwall watch -o 'r-%r.json' did not write r-0.json and r-1.json: $(ls "$T")"
    expect_json "$T/r-0.json" rank 0
    expect_json "$T/r-1.json" rank 1
    expect_exit 0 "$MW" merge --json -o "$T/merged.json" "$T"/r-*.json
    expect_json "$T/merged.json" schema "memwall.merge/1"
    expect_json "$T/merged.json" files 2
    expect_json "$T/merged.json" hosts 1
    expect_json "$T/merged.json" '.ranks | length' 2
    expect_json "$T/merged.json" '.largest.rank' 1
    m0=$(json_get "$T/merged.json" '.ranks[0].peak_rss_bytes') || exit
    m1=$(json_get "$T/merged.json" '.ranks[1].peak_rss_bytes') || exit
    med=$(json_get "$T/merged.json" median_peak_bytes) || exit
    expect_num "median" "$med" "==" $(((m0 + m1) / 2))
    imb=$(json_get "$T/merged.json" imbalance) || exit
    want=$(awk -v a="$m1" -v m="$med" 'BEGIN { printf "%.6f", a / m }')
    expect_num "imbalance" "$(awk -v v="$imb" 'BEGIN { printf "%.6f", v }')" "==" "$want"
    # (128 + o) / ((64 + o + 128 + o) / 2): 1.33 without runtime, above 1.05 with 100 MiB of it
    expect_num "imbalance x1000" "$(awk -v v="$imb" 'BEGIN { printf "%d", v * 1000 }')" ">=" 1050
    expect_num "imbalance x1000" "$(awk -v v="$imb" 'BEGIN { printf "%d", v * 1000 }')" "<=" 1334
    expect_json "$T/merged.json" first_at_cap null
    expect_exit 0 "$MW" merge "$T/r-0.json" "$T/r-1.json"
    expect_contains "$T/stdout" "2 ranks from 2 files on 1 host"
    expect_contains "$T/stdout" "imbalance"
    ok "mpirun -np 2 memwall watch -o 'r-%r.json' + merge: imbalance $imb, the largest rank 1"
else
    echo "note [$MW_TEST_NAME]: no mpicc/mpirun: the Open MPI part is skipped"
fi

# ---- torchrun (gloo) --------------------------------------------------------------
TORCH_OK=1
command -v torchrun > /dev/null 2>&1 && /usr/bin/python3 -c 'import torch.distributed' > /dev/null 2>&1 || TORCH_OK=0
if [ $TORCH_OK = 1 ]; then
    cat > "$T/uneven.py" << 'PY'
import time
import torch
import torch.distributed as dist

dist.init_process_group("gloo")
rank = dist.get_rank()
# rank r holds (r+1)*32 MiB of float32, written (ones)
held = torch.ones((rank + 1) * 32 * 1048576 // 4, dtype=torch.float32)
t = torch.tensor([float(rank)])
dist.all_reduce(t)
assert t.item() == 1.0
dist.barrier()
time.sleep(1)
dist.barrier()
assert held[-1].item() == 1.0
dist.destroy_process_group()
PY
    PORT=${MW_TORCH_PORT:-18160}
    TR=$(command -v torchrun)
    # --redirects 2 --tee 2: Debian 12's torch 1.13 under Python 3.11 cannot
    # parse the default "0" (Std.from_str looks for the value among the
    # members a Flag iterates, and 3.11 iterates no 0 or multi-bit one:
    # "'NoneType' object has no attribute 'get'"); 2 (stderr) is a single bit
    expect_exit 0 timeout 150 "$MW" watch --json -o "$T/torch.json" --interval 20ms -- \
        /usr/bin/python3 "$TR" --redirects 2 --tee 2 --nnodes 1 --nproc_per_node 2 \
        --master_addr 127.0.0.1 --master_port "$PORT" "$T/uneven.py"
    expect_json "$T/torch.json" '.ranks | length' 2
    expect_json "$T/torch.json" '.ranks[0].rank' 0
    expect_json "$T/torch.json" '.ranks[1].rank' 1
    expect_json "$T/torch.json" '.ranks[1].local_rank' 1
    t0=$(json_get "$T/torch.json" '.ranks[0].peak_rss_bytes') || exit
    t1=$(json_get "$T/torch.json" '.ranks[1].peak_rss_bytes') || exit
    expect_num "torch rank 0 peak" "$t0" ">=" $((32 * MIB))
    expect_num "torch rank 1 peak" "$t1" ">=" $((64 * MIB))
    # the same torch import under each: they differ by the tensor
    expect_num "torch rank 1 - rank 0" $((t1 - t0)) ">=" $((32 * MIB - 12 * MIB))
    expect_num "torch rank 1 - rank 0" $((t1 - t0)) "<=" $((32 * MIB + 12 * MIB))
    ok "torchrun --nproc_per_node 2: rank 0 $((t0 / MIB)) MiB, rank 1 $((t1 / MIB)) MiB"
else
    echo "note [$MW_TEST_NAME]: no torchrun or torch for /usr/bin/python3: the torchrun part is skipped"
fi

[ $MPI_OK = 1 ] || [ $TORCH_OK = 1 ] || skip "neither Open MPI (mpicc, mpirun) nor torchrun is installed"
[ $MPI_OK = 1 ] && [ $TORCH_OK = 1 ] || skip "only part ran: install Open MPI and python3-torch (scripts/deps.sh --test)"
