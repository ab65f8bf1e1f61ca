#!/usr/bin/env bash
# GPU check of memwall watch against nvidia-smi (run on the device machine).
set -u
# Run from a folder holding memwall, mw-touch, gpu_alloc (and libcjson.so.1
# when the GPU machine lacks it): see docs/BENCHMARKS.md, "GPU".
cd "${MW_GPU_DIR:-$(dirname "$0")}"
export LD_LIBRARY_PATH=$PWD
O=${OUT:-/tmp/out}; mkdir -p "$O"
{
echo "== device"; nvidia-smi -L; nvidia-smi --query-gpu=driver_version,memory.used,memory.total --format=csv
echo "== glibc"; ldd --version | head -1
./memwall --version || exit 1
smi_start() { nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader,nounits -lms 50 > "$O/smi_apps_$1.csv" 2>&1 & A=$!
  nvidia-smi --query-gpu=memory.used,memory.total --format=csv,noheader,nounits -lms 50 > "$O/smi_gpu_$1.csv" 2>&1 & G=$!; sleep 0.5; }
smi_stop() { sleep 0.3; kill $A $G 2>/dev/null; wait $A $G 2>/dev/null; }
smi_report() {
  echo "nvidia-smi max used (device, MiB): $(awk -F', ' '{if($1>m)m=$1} END{print m}' "$O/smi_gpu_$1.csv")"
  echo "nvidia-smi max per pid (MiB):"; awk -F', ' 'NF==2 && $1+0>0 {if($2>m[$1])m[$1]=$2} END{for(p in m) print "  pid " p ": " m[p]}' "$O/smi_apps_$1.csv"
}
echo "== 1. CUDA program: parent 3 x 1 GiB, child 3 x 512 MiB"
smi_start cuda
./memwall watch -i 50ms --json -o "$O/watch_cuda.json" --timeline "$O/t_cuda.csv" -- ./gpu_alloc 1024 3 800 child; echo "memwall exit: $?"
smi_stop; smi_report cuda
echo "memwall:"; grep -E '"(peak_gpu_bytes|pid|command|name|total_bytes|peak_used_bytes|peak_tree_bytes)"' "$O/watch_cuda.json"
./memwall watch -i 50ms -o "$O/watch_cuda.txt" -- ./gpu_alloc 256 2 300; cat "$O/watch_cuda.txt"
echo "== 2. PyTorch"
PY=$(command -v python3 || true)
if [ -n "$PY" ] && $PY -c "import torch; assert torch.cuda.is_available()" 2>/dev/null; then
  smi_start torch
  ./memwall watch -i 50ms --json -o "$O/watch_torch.json" -- $PY -c "
import torch, time
x = torch.empty(2 << 30, dtype=torch.uint8, device='cuda'); x.fill_(1); torch.cuda.synchronize(); time.sleep(1.0)
y = torch.empty(1 << 30, dtype=torch.uint8, device='cuda'); y.fill_(1); torch.cuda.synchronize(); time.sleep(1.0)
print('torch max_memory_reserved', torch.cuda.max_memory_reserved())"
  echo "memwall exit: $?"; smi_stop; smi_report torch
  grep -E '"(peak_gpu_bytes|peak_rss_bytes|peak_used_bytes|peak_tree_bytes)"' "$O/watch_torch.json"
else echo "no torch with CUDA here"; fi
echo "== 3. no GPU figures when NVML absent"
MEMWALL_NVML_LIBRARY=/nonexistent ./memwall watch --json -o - -- ./mw-touch 16M | grep '"gpu"'
} 2>&1 | tee "$O/log.txt"
