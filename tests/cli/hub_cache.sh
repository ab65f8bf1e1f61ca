#!/usr/bin/env bash
# Models by the names people use: `memwall plan org/name` and `memwall
# inspect` from a fake Hugging Face cache (HF_HOME), a models--org--name
# folder given directly, the errors with their exit codes; and --dtype
# with the formats people download (q4_k_m, gptq/awq int4, fp8, nf4).
. "$(dirname "$0")/lib.sh"
cd "$MW_SOURCE_DIR" || fail "no source dir"

H1=0123456789abcdef0123456789abcdef01234567
export HF_HOME="$T/hf"
unset HF_HUB_CACHE HUGGINGFACE_HUB_CACHE XDG_CACHE_HOME
# a cached model: its config.json a link into blobs/, as the hub writes it
R="$HF_HOME/hub/models--acme--Tiny-LM"
mkdir -p "$R/refs" "$R/blobs" "$R/snapshots/$H1" || fail "mkdir"
cat > "$R/blobs/cfg" <<'EOF'
{"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 256,
 "intermediate_size": 512, "num_hidden_layers": 8, "num_attention_heads": 4,
 "num_key_value_heads": 1, "vocab_size": 1024, "max_position_embeddings": 2048,
 "rms_norm_eps": 1e-5, "tie_word_embeddings": false, "torch_dtype": "bfloat16"}
EOF
ln -s ../../blobs/cfg "$R/snapshots/$H1/config.json" || fail "ln"
echo "$H1" > "$R/refs/main"

# plan and inspect by id: the report's first line names it
expect_exit 0 "$MW" plan acme/Tiny-LM --mem 1G
head -n 1 "$T/stdout" > "$T/first"
expect_contains "$T/first" "memwall plan: acme/Tiny-LM ("
expect_contains "$T/first" "snapshots/$H1"
expect_exit 0 "$MW" inspect acme/Tiny-LM
head -n 1 "$T/stdout" > "$T/first"
expect_contains "$T/first" "acme/Tiny-LM ("
expect_exit 0 "$MW" inspect "$R"
expect_contains "$T/stdout" "acme/Tiny-LM ("
if have_jq; then
    expect_exit 0 "$MW" plan acme/Tiny-LM --json --mem 1G
    expect_json "$T/stdout" .hparams.layers 8
fi
# weights too: a model.safetensors linked into blobs/ is read through the link
W="$HF_HOME/hub/models--acme--With-Weights"
mkdir -p "$W/refs" "$W/blobs" "$W/snapshots/$H1" || fail "mkdir"
cp fuzz/corpus/safetensors/llama_like "$W/blobs/st" || fail "cp"
ln -s ../../blobs/st "$W/snapshots/$H1/model.safetensors" || fail "ln"
printf '%s' "$H1" > "$W/refs/main"
expect_exit 0 "$MW" inspect acme/With-Weights
expect_contains "$T/stdout" "acme/With-Weights ("
expect_contains "$T/stdout" "(safetensors)"
ok "plan and inspect org/name from the cache, and its models-- folder"

# not cached: exit 1, where it looked, how to download, a matching preset
expect_exit 1 "$MW" plan nobody/Nothing-1B
expect_contains "$T/stderr" "not in the Hugging Face cache"
expect_contains "$T/stderr" "models--nobody--Nothing-1B"
expect_contains "$T/stderr" "huggingface-cli download nobody/Nothing-1B"
expect_exit 1 "$MW" inspect meta-llama/Meta-Llama-3-8B-Instruct
expect_contains "$T/stderr" "without its files: llama-3-8b"
# broken caches: exit 1, what is wrong and where
B="$HF_HOME/hub/models--acme--Broken"
mkdir -p "$B/refs"
expect_exit 1 "$MW" plan acme/Broken
expect_contains "$T/stderr" "no snapshots/ folder"
mkdir -p "$B/snapshots/$H1"
cp "$R/blobs/cfg" "$B/snapshots/$H1/config.json"
expect_exit 1 "$MW" plan acme/Broken
expect_contains "$T/stderr" "refs/main is missing"
expect_contains "$T/stderr" "snapshots/$H1"
echo "not-a-hash" > "$B/refs/main"
expect_exit 1 "$MW" inspect acme/Broken
expect_contains "$T/stderr" "not a commit hash"
echo "fedcba9876543210fedcba9876543210fedcba98" > "$B/refs/main"
expect_exit 1 "$MW" plan acme/Broken
expect_contains "$T/stderr" "which is not there"
rm "$B/refs/main" && mkfifo "$B/refs/main"
expect_exit 1 timeout 10 "$MW" plan acme/Broken
expect_contains "$T/stderr" "FIFO"
# the snapshot folder the messages point to works
expect_exit 0 "$MW" plan "$B/snapshots/$H1" --mem 1G
ok "uncached and broken hub models: exit 1 with what, where and what to do"

# --dtype: the formats people download, named in text and JSON
expect_exit 0 "$MW" plan llama-3-8b --dtype q4_k_m --mem 16G
expect_contains "$T/stdout" "weights: q4_k_m (Q4_K; Q6_K for the output"
if have_jq; then
    # exact: tensors of Llama-3-8B as llama-quantize's Q4_K_M mix
    # (tests/unit/test_quant_scheme.c; 0.15% under the published 4.92 GB)
    expect_exit 0 "$MW" plan llama-3-8b --dtype q4_k_m --mem 16G --json
    expect_json "$T/stdout" weights_bytes 4912898048
    expect_json "$T/stdout" .workload.weight_scheme q4_k_m
    expect_exit 0 "$MW" plan llama-3-8b --dtype gptq-int4-g128 --mem 16G --json
    expect_json "$T/stdout" .workload.weight_scheme gptq-int4-g128
    g=$(json_get "$T/stdout" weights_bytes) || exit
    expect_num "gptq-int4-g128 weights" "$g" ">" 5700000000
    expect_num "gptq-int4-g128 weights" "$g" "<" 5770000000
    expect_exit 0 "$MW" plan llama-3-8b --dtype f16 --mem 16G --json
    expect_json "$T/stdout" .workload.weight_scheme null
    expect_json "$T/stdout" .workload.weight_dtype F16
fi
for d in q5_k_m q6_k iq4_xs awq-int4-g64 gptq-int4-g-1 fp8 nf4 Q4_K_S; do
    expect_exit 0 "$MW" plan acme/Tiny-LM --dtype "$d" --mem 1G
    expect_contains "$T/stdout" "weights: $(echo "$d" | tr 'A-Z' 'a-z')"
done
expect_exit 2 "$MW" plan llama-3-8b --dtype q4_k_xl
expect_contains "$T/stderr" 'unknown type "q4_k_xl"'
expect_contains "$T/stderr" "q4_k_m"
expect_contains "$T/stderr" "gptq-int4"
expect_exit 2 "$MW" plan llama-3-8b --dtype gptq-int4-g96
expect_contains "$T/stderr" "32, 64, 128 or -1"
ok "plan --dtype q4_k_m, gptq/awq int4, fp8, nf4; unknown formats exit 2 listing the known"

# A GGUF repository (one file per quantization, as llama.cpp users download
# them): org/name/FILE names one; org/name runs when the snapshot holds one
# GGUF file; run, tokenize and sweep take the ids as plan does.
G="$HF_HOME/hub/models--acme--Tiny-GGUF"
mkdir -p "$G/refs" "$G/blobs" "$G/snapshots/$H1" || fail "mkdir"
cp models/tiny.gguf "$G/blobs/q8" || fail "cp"
ln -s ../../blobs/q8 "$G/snapshots/$H1/tiny-Q8_0.gguf" || fail "ln"
echo "$H1" > "$G/refs/main"
expect_exit 0 "$MW" plan acme/Tiny-GGUF/tiny-Q8_0.gguf --mem 1G
head -n 1 "$T/stdout" > "$T/first"
expect_contains "$T/first" "memwall plan: acme/Tiny-GGUF/tiny-Q8_0.gguf ("
expect_exit 0 "$MW" run acme/Tiny-GGUF --text "Once upon a time" --gen 4 --json
cp "$T/stdout" "$T/run.json"
expect_json "$T/run.json" schema memwall.run/1
expect_exit 0 "$MW" tokenize acme/Tiny-GGUF/tiny-Q8_0.gguf "hello"
expect_exit 0 "$MW" tokenize "$MW_SOURCE_DIR/models/tiny.gguf" "hello"
cp "$T/stdout" "$T/direct"
expect_exit 0 "$MW" tokenize acme/Tiny-GGUF "hello"
cmp -s "$T/stdout" "$T/direct" || fail "tokenize by hub id differs from the file's"
expect_exit 1 "$MW" run acme/Tiny-GGUF/missing.gguf --gen 1
expect_contains "$T/stderr" "acme/Tiny-GGUF has no missing.gguf in the cache"
expect_contains "$T/stderr" "tiny-Q8_0.gguf"
expect_exit 1 "$MW" plan "acme/Tiny-GGUF/../Tiny-LM"
expect_contains "$T/stderr" 'no file, folder, built-in model or preset named'
ln -s ../../blobs/q8 "$G/snapshots/$H1/tiny-F32.gguf" || fail "ln"
expect_exit 1 "$MW" run acme/Tiny-GGUF --gen 1
expect_contains "$T/stderr" "acme/Tiny-GGUF holds 2 GGUF files"
expect_contains "$T/stderr" "acme/Tiny-GGUF/FILE.gguf"
expect_exit 1 "$MW" run acme/Tiny-LM --gen 1
expect_contains "$T/stderr" "acme/Tiny-LM holds no GGUF file"
ok "GGUF repositories: org/name/FILE, org/name with one GGUF for run and tokenize; missing, several, none, '..'"

# A scheme over a model of many tensors stays linear in them: DeepSeek-V3's
# 45,395 tensors and Qwen3-30B-A3B's 18,867, planned with their inverse
# questions (a bisection of about 70 plans). The whole-model facts a scheme
# needs were once searched per tensor and per plan: over ten minutes for
# Qwen3-30B-A3B at q4_k_m; now well under a second (the bound is loose for
# sanitizer builds on a loaded machine).
expect_exit 0 timeout 120 "$MW" plan deepseek-v3 --dtype q4_k_m --mem 24G
expect_exit 0 timeout 120 "$MW" plan qwen3-30b-a3b --dtype q4_k_m --gpu rtx-4090 --gpu-layers auto
expect_exit 0 timeout 120 "$MW" plan deepseek-v3 --lora 8 --lora-targets all-linear --mem 80G
ok "q4_k_m and LoRA over 45,395 tensors with the inverse questions: done in time"
