# plan_gpu.sh - memwall plan with GPUs by name (--gpu NAME[:N|xN], several)
# and offload splits (--gpu-layers N|auto, --host-bw): the figures of
# src/plan/gpu_table.c reach the text and the JSON, and bad input exits 2
# with a message that says what to do.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

GIB=1073741824

# ---- one GPU by name: its memory answers and decode step ---------------------
expect_exit 0 "$MW" plan llama-3-8b --gpu h100-80g
expect_contains "$T/stdout" "h100-80g: 80.0 GiB: fits"
expect_contains "$T/stdout" "NVIDIA H100 80GB SXM5"
expect_contains "$T/stdout" "memory bandwidth binds"
expect_not_contains "$T/stdout" "this host"
expect_exit 0 "$MW" plan llama-3-8b --gpu h100-80g --json
cp "$T/stdout" "$T/h100.json"
expect_valid_json "$T/h100.json"
expect_json "$T/h100.json" mem_bytes $((80 * GIB))
if have_jq; then
    expect_json "$T/h100.json" '.gpus | length' 1
    expect_json "$T/h100.json" '.gpus[0].name' h100-80g
    expect_json "$T/h100.json" '.gpus[0].count' 1
    expect_json "$T/h100.json" '.gpus[0].memory_bytes' $((80 * GIB))
    expect_json "$T/h100.json" '.gpus[0].bandwidth' 3350000000000
    expect_json "$T/h100.json" '.gpus[0].binds' bandwidth
    expect_json "$T/h100.json" '.gpus[0].peak_type' fp16
    # decode_step_bytes 15,311,904,768 (unit_gpu_table) at 3.35 TB/s
    step=$(json_get "$T/h100.json" '.gpus[0].decode_step_s') || exit
    tps=$(json_get "$T/h100.json" '.gpus[0].tokens_per_s') || exit
    expect_num "decode step" "$step" ">" 0.00457
    expect_num "decode step" "$step" "<" 0.00458
    expect_num "tokens/s" "$tps" ">" 218
    expect_num "tokens/s" "$tps" "<" 219
    expect_json "$T/h100.json" '.offload' null
else
    ok "SKIPPED the nested gpus.* checks: jq is not installed"
fi
ok "--gpu h100-80g: 80 GiB, bandwidth binds at 218.8 tokens/s"

# ---- several GPUs, counts (tensor parallel over them), unified memory --------
expect_exit 0 "$MW" plan llama-3-70b --gpu h100-80g:8 --gpu mi300xx2 --gpu rtx-4090 --gpu m4-max-128g --json
cp "$T/stdout" "$T/many.json"
expect_valid_json "$T/many.json"
if have_jq; then
    expect_json "$T/many.json" '.gpus | length' 4
    expect_json "$T/many.json" '.gpus[0].count' 8
    expect_json "$T/many.json" '.gpus[0].tp' 8
    expect_json "$T/many.json" '.gpus[1].name' mi300x
    expect_json "$T/many.json" '.gpus[1].count' 2
    expect_json "$T/many.json" '.gpus[2].fits' false
    expect_json "$T/many.json" '.gpus[3].unified_memory' true
    expect_json "$T/many.json" '.gpus[3].usable_memory_bytes' $((96 * GIB))
    expect_json "$T/many.json" '.gpus[3].peak_flops_fp16' null
    expect_json "$T/many.json" '.targets | length' 4
fi
expect_exit 0 "$MW" plan llama-3-70b --gpu h100x8 --gpu rtx-4090
expect_contains "$T/stdout" "8 x NVIDIA H100 80GB SXM5, tensor parallel over 8"
expect_contains "$T/stdout" "rtx-4090: 24.0 GiB: does not fit"
# --tp given: kept
expect_exit 0 "$MW" plan llama-3-70b --gpu h100:8 --tp 4 --pp 2 --json
have_jq && expect_json "$T/stdout" '.gpus[0].tp' 4
ok "several --gpu: h100-80g:8 and mi300xx2 tensor parallel, an M4 Max at 75% of 128 GiB"

# ---- unknown names and bad counts: exit 2, the known names listed ------------
expect_exit 2 "$MW" plan llama-3-8b --gpu h1000
expect_contains "$T/stderr" "unknown GPU 'h1000'"
expect_contains "$T/stderr" "h100-80g, h100-pcie, h200"
expect_contains "$T/stderr" "mi300x"
expect_exit 2 "$MW" plan llama-3-8b --gpu h100:0
expect_contains "$T/stderr" "the count must be 1 to 65536"
expect_exit 2 "$MW" plan llama-3-8b --gpu h100:99999999999999999999
expect_contains "$T/stderr" "the count must be 1 to 65536"
expect_exit 2 "$MW" plan llama-3-8b --gpu rtx-4090:abc
expect_exit 2 "$MW" plan gpt2 --gpu h100:64
expect_contains "$T/stderr" "attention heads"
ok "unknown GPU names and counts exit 2 with the list"

# ---- offload splits -----------------------------------------------------------
expect_exit 2 "$MW" plan llama-3-8b --gpu-layers 10
expect_contains "$T/stderr" "--gpu-layers needs a GPU to split with: give --gpu NAME"
expect_exit 2 "$MW" plan llama-3-8b --gpu-layers ten --gpu t4
expect_exit 2 "$MW" plan llama-3-8b --gpu-layers 10 --gpu t4:2
expect_contains "$T/stderr" "one GPU"
expect_exit 2 "$MW" plan llama-3-8b --gpu-layers 10 --gpu t4 --train
expect_exit 2 "$MW" plan llama-3-8b --host-bw 50GB
expect_contains "$T/stderr" "--gpu-layers"

expect_exit 0 "$MW" plan llama-3-8b --ctx 8192 --gpu t4 --gpu-layers auto --host-bw 50GB
expect_contains "$T/stdout" "offload split on t4:"
expect_contains "$T/stdout" "(embeddings 0.98 GiB stay on the host"
expect_exit 0 "$MW" plan llama-3-8b --ctx 8192 --gpu t4 --gpu-layers auto --host-bw 50GB --json
cp "$T/stdout" "$T/t4.json"
expect_valid_json "$T/t4.json"
if have_jq; then
    n=$(json_get "$T/t4.json" '.offload.gpu_layers') || exit
    expect_num "auto layers on a T4" "$n" ">" 20
    expect_num "auto layers on a T4" "$n" "<" 33
    expect_json "$T/t4.json" '.offload.fits' true
    expect_json "$T/t4.json" '.offload.host_bandwidth' 50000000000
    # one more layer does not fit the 15 GiB left after the 1 GiB margin
    expect_exit 0 "$MW" plan llama-3-8b --ctx 8192 --gpu t4 --gpu-layers $((n + 1)) --json
    gb=$(json_get "$T/stdout" '.offload.gpu_bytes') || exit
    expect_num "gpu bytes at $((n + 1)) layers" "$gb" ">" $((15 * GIB))
    # all layers: the GPU holds the whole plan less the embeddings
    expect_exit 0 "$MW" plan llama-3-8b --ctx 8192 --gpu h100 --gpu-layers 33 --json
    cp "$T/stdout" "$T/all.json"
    expect_json "$T/all.json" '.offload.gpu_weights_bytes' $((16060522496 - 1050673152))
    expect_json "$T/all.json" '.offload.gpu_kv_cache_bytes' $GIB
    expect_json "$T/all.json" '.offload.host_kv_cache_bytes' 0
    expect_json "$T/all.json" '.offload.host_step_s' 0
    # no host bandwidth and no profile: the step is unknown, said so
    expect_json "$T/t4.json" '.offload.gpu_step_s | type' number
fi
expect_exit 0 "$MW" plan llama-3-8b --gpu t4 --gpu-layers 8
expect_contains "$T/stdout" "give --host-bw"
ok "--gpu-layers auto on a T4: the most layers that fit, one more does not; 33 = all"

# ---- the GPU NVML sees, by its name ------------------------------------------
if [ -f "$MW_FAKE_NVML" ]; then
    printf 'device 0 name="NVIDIA H200" total=141G\nused 0 0\n' > "$T/nvml.txt"
    expect_exit 0 env MEMWALL_NVML_LIBRARY="$MW_FAKE_NVML" MEMWALL_FAKE_NVML_SCRIPT="$T/nvml.txt" \
        "$MW" plan llama-3-8b --gpu-layers auto --host-bw 50GB
    expect_contains "$T/stdout" "offload split on gpu 0 (NVIDIA H200, NVML): 33 of 33 layers"
    expect_contains "$T/stdout" "at 4.8 TB/s"
    ok "--gpu-layers without --gpu: NVML's GPU, its bandwidth from the table by name"
fi

# the same answers pasted: Markdown has a decode step column for GPUs and a
# table of the split's two tiers; CSV a row for the split with its layers
expect_exit 0 "$MW" plan llama-3-8b --gpu rtx-3090 --gpu h100-80g --gpu-layers 20 --host-bw 50GB --format markdown
expect_contains "$T/stdout" "| decode step (batch, bound) |"
expect_contains "$T/stdout" "tokens/s at 1 (bandwidth) |"
expect_contains "$T/stdout" "Offload split on rtx-3090: 20 of 33 layers on the GPU (llama.cpp -ngl 20); fits."
expect_contains "$T/stdout" "| gpu | "
expect_contains "$T/stdout" "| host | "
expect_exit 0 "$MW" plan llama-3-8b --gpu rtx-3090 --gpu-layers 20 --host-bw 50GB --format csv
expect_contains "$T/stdout" ",bandwidth,,,"
grep -q '^[^"]*,offload split on rtx-3090,[0-9]*,true,,,,,,[0-9.e-]*,[0-9.e+]*,bandwidth,20,[0-9]*,[0-9]*$' "$T/stdout" ||
    { show csv "$T/stdout"; fail "the split's CSV row"; }
ok "plan --gpu and --gpu-layers as Markdown and CSV"
