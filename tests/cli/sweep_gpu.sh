#!/usr/bin/env bash
# memwall sweep of a GPU workload, with the scripted fake NVML
# (tests/fake_nvml.c): each point's GPU memory is recorded, fitted on its
# own (1 GiB + 512 MiB per item, exactly), and used for --what-if; a command
# that fails with PyTorch's "CUDA out of memory" is an oom point of the GPU,
# and one that fails otherwise keeps its last line of standard error.
#
# The fake reads its script at every nvmlInit, that is once per point, so
# each point's command writes the script the next point (twice its batch)
# will read.
. "$(dirname "$0")/lib.sh"
have_jq || skip "needs jq (scripts/deps.sh --test installs it)"
[ -f "$MW_FAKE_NVML" ] || fail "the fake NVML library is not built: $MW_FAKE_NVML"
need_memory_cgroup
MiB=1048576
GiB=1073741824

nvml_script() { # BATCH: the script for a point at BATCH (1 GiB + 512 MiB a sample)
  printf 'device 0 name="Fake H100" total=80G\nproc 0 child %dM\n' "$((1024 + 512 * $1))"
}
export -f nvml_script
nvml_script 1 > "$T/nvml.txt"
cat > "$T/train.sh" <<'EOF'
#!/usr/bin/env bash
# a stand-in for a training script on a GPU: batch 8 does not fit the GPU
b=$1 nvml=$2
nvml_script $((2 * b)) > "$nvml"
# (a real run holds its GPU memory a while before it fails or ends: the
# watch samples it; failing at once raced the first sample under ASan load)
sleep 0.15
if [ "$b" -ge 8 ]; then
  echo "Traceback (most recent call last):" >&2
  echo "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 79.19 GiB" >&2
  exit 1
fi
echo "throughput $((100 * b))" >&"$MEMWALL_REPORT_FD"
EOF
chmod +x "$T/train.sh"

fake() { MEMWALL_NVML_LIBRARY=$MW_FAKE_NVML MEMWALL_FAKE_NVML_SCRIPT=$T/nvml.txt "$@"; }

expect_exit 0 fake "$MW" sweep -q --json --batches 1,2,4,8 --mem-limit 512M --what-if 8G,80G \
  -- "$T/train.sh" "{batch}" "$T/nvml.txt"
cp "$T/stdout" "$T/gpu.json"
expect_eq "GPU memory per point" "$(jq -c '[.points[].peak_gpu_bytes]' "$T/gpu.json")" \
  "[$((1536 * MiB)),$((2048 * MiB)),$((3072 * MiB)),$((5120 * MiB))]"
expect_eq "statuses" "$(jq -r '[.points[].status] | join(",")' "$T/gpu.json")" "ok,ok,ok,oom"
expect_json "$T/gpu.json" '.points[3].oom' gpu
expect_contains "$T/gpu.json" "CUDA out of memory. Tried to allocate 2.00 GiB"
expect_json "$T/gpu.json" '.fit_gpu.valid' true
fixed=$(jq '.fit_gpu.fixed_bytes' "$T/gpu.json")
per=$(jq '.fit_gpu.per_item_bytes' "$T/gpu.json")
expect_num "GPU fixed bytes" "$fixed" ">" "$((GiB - 1))"
expect_num "GPU fixed bytes" "$fixed" "<" "$((GiB + 1))"
expect_num "GPU bytes per item" "$per" ">" "$((512 * MiB - 1))"
expect_num "GPU bytes per item" "$per" "<" "$((512 * MiB + 1))"
expect_eq "what if 8G, 80G" "$(jq -c '[.what_if[].max_batch]' "$T/gpu.json")" "[14,158]"
expect_json "$T/gpu.json" verdict "memory capacity"
expect_contains "$T/gpu.json" "out of GPU memory at batch 8 (peak 3.00 GiB at batch 4"
ok "GPU memory recorded and fitted; a CUDA OOM is the GPU's wall"

# the table: a GPU column, and why the last point stopped
nvml_script 1 > "$T/nvml.txt"
expect_exit 0 fake "$MW" sweep -q --batches 1,8 --mem-limit 512M -- "$T/train.sh" "{batch}" "$T/nvml.txt"
expect_contains "$T/stdout" "GPU memory"
expect_contains "$T/stdout" "1.50 GiB"
expect_contains "$T/stdout" "batch 8: oom, the GPU's memory: torch.OutOfMemoryError: CUDA out of memory."
expect_contains "$T/stdout" "verdict: memory capacity — out of GPU memory at batch 8"
ok "text report"

# no NVML: no GPU figures, no GPU fit
expect_exit 0 "$MW" sweep -q --json --batches 1,2 --mem-limit 512M -- "$MW_TOUCH" 8M
expect_eq "no GPU memory" "$(jq -c '[.points[].peak_gpu_bytes]' "$T/stdout")" "[null,null]"
expect_json "$T/stdout" '.fit_gpu.valid' false
ok "without NVML"

# a failure that is not about memory keeps its exit code and last words;
# a host allocation failure is an oom of the host
expect_exit 0 "$MW" sweep -q --json --batches 1 --mem-limit 512M -- sh -c 'echo "warming up" >&2; echo "bad flag --bs" >&2; exit 3'
expect_json "$T/stdout" '.points[0].status' failed
expect_json "$T/stdout" '.points[0].exit_code' 3
expect_json "$T/stdout" '.points[0].message' "bad flag --bs"
expect_json "$T/stdout" '.points[0].oom' null
expect_exit 0 "$MW" sweep -q --json --batches 1 --mem-limit 512M -- sh -c 'echo "MemoryError" >&2; exit 1'
expect_json "$T/stdout" '.points[0].status' oom
expect_json "$T/stdout" '.points[0].oom' host
# a long last line is cut to 159 bytes on a character boundary: "a" and 79
# two-byte characters fill it exactly, and none is dropped
expect_exit 0 "$MW" sweep -q --json --batches 1 --mem-limit 512M -- sh -c 'printf a >&2; for i in $(seq 100); do printf "\303\251" >&2; done; exit 2'
expect_json "$T/stdout" '.points[0].message | length' 80
expect_json "$T/stdout" '.points[0].message | utf8bytelength' 159
ok "failures and host allocation failures"
