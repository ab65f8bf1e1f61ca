#!/usr/bin/env bash
# memwall inspect and memwall plan from the command line: golden outputs,
# JSON keys with known values, every kind of MODEL, and clear errors for
# bad models and options.
. "$(dirname "$0")/lib.sh"
cd "$MW_SOURCE_DIR" || fail "no source dir"
GGUF=fuzz/corpus/gguf/tiny_llama.gguf
ST=fuzz/corpus/safetensors/llama_like

# inspect: a GGUF file (golden), its JSON, a safetensors file, a preset
expect_exit 0 "$MW" inspect "$GGUF"
golden_check inspect-tiny-llama.txt "$T/stdout"
expect_exit 0 "$MW" inspect --json "$GGUF"
cp "$T/stdout" "$T/inspect.json"
expect_json "$T/inspect.json" schema memwall.inspect/1
expect_json "$T/inspect.json" source gguf
expect_json "$T/inspect.json" params 696
if have_jq; then
  expect_eq "tensor count" "$(jq '.tensors | length' "$T/inspect.json")" 12
  expect_eq "q shape (PyTorch order)" "$(jq -c '.tensors[2].shape' "$T/inspect.json")" "[8,8]"
  expect_eq "architecture" "$(jq -r '.hparams.architecture' "$T/inspect.json")" llama
fi
expect_exit 0 "$MW" inspect "$ST"
expect_contains "$T/stdout" "(safetensors)"
expect_exit 0 "$MW" inspect --json llama-3-8b
cp "$T/stdout" "$T/l3.json"
expect_json "$T/l3.json" params 8030261248
expect_json "$T/l3.json" source preset
ok "inspect: gguf, safetensors, preset"

# plan: golden text for a fixed memory size, and the JSON figures
expect_exit 0 "$MW" plan llama-3-8b --ctx 8192 --batch 4 --mem 24G
golden_check plan-llama-3-8b.txt "$T/stdout"
expect_exit 0 "$MW" plan llama-3-8b --ctx 8192 --batch 4 --mem 24G --json
cp "$T/stdout" "$T/plan.json"
expect_json "$T/plan.json" schema memwall.plan/1
expect_json "$T/plan.json" params 8030261248
expect_json "$T/plan.json" weights_bytes 16060522496
expect_json "$T/plan.json" kv_cache_bytes 4294967296
expect_json "$T/plan.json" kv_bytes_per_token 131072
expect_num max_batch "$(json_get "$T/plan.json" max_batch)" ">=" 1
for k in activations_bytes total_bytes; do
  expect_num "$k" "$(json_get "$T/plan.json" "$k")" ">" 0
done
# --dtype q8_0 shrinks the weights by 34/32 over 2 bytes; --kv-dtype q8_0 the cache
expect_exit 0 "$MW" plan llama-3-8b --dtype q8_0 --kv-dtype q8_0 --ctx 4096 --json
cp "$T/stdout" "$T/q8.json"
expect_json "$T/q8.json" kv_bytes_per_token 69632
# training with ZeRO-3 over 8 ranks: 16 bytes per parameter / 8
expect_exit 0 "$MW" plan llama-2-7b --train --zero 3 --dp 8 --ctx 2048 --json
cp "$T/stdout" "$T/train.json"
w=$(json_get "$T/train.json" weights_bytes); g=$(json_get "$T/train.json" gradients_bytes)
o=$(json_get "$T/train.json" optimizer_bytes)
expect_eq "ZeRO-3 state" "$((w + g + o))" "$((6738415616 * 16 / 8))"
ok "plan: golden, inference and training figures"

# MODEL as a config.json, and as a folder holding one
mkdir -p "$T/m"
cat > "$T/m/config.json" <<'JSON'
{"model_type": "mistral", "hidden_size": 4096, "num_hidden_layers": 32,
 "num_attention_heads": 32, "num_key_value_heads": 8, "intermediate_size": 14336,
 "vocab_size": 32000, "max_position_embeddings": 32768, "torch_dtype": "bfloat16"}
JSON
expect_exit 0 "$MW" plan "$T/m/config.json" --mem 16G --json
cp "$T/stdout" "$T/cfg.json"
expect_json "$T/cfg.json" params 7241732096
expect_exit 0 "$MW" inspect "$T/m"
expect_contains "$T/stdout" "(config.json)"
ok "plan and inspect: config.json, folder"

# GPUs through NVML are answered beside the host
cat > "$T/nvml.txt" <<'EOF2'
device 0 name="Fake H100" total=80G
EOF2
MEMWALL_NVML_LIBRARY=$MW_FAKE_NVML MEMWALL_FAKE_NVML_SCRIPT=$T/nvml.txt \
  expect_exit 0 "$MW" plan llama-3-8b --ctx 4096
expect_contains "$T/stdout" "gpu 0 (Fake H100, total): 80.0 GiB: fits"
ok "plan: answers for each GPU"

# errors: what is wrong, where; exit 1 for models, 2 for the command line
expect_exit 1 "$MW" inspect no-such-model
expect_contains "$T/stderr" 'no file, folder, built-in model or preset named "no-such-model"'
head -c 100 "$GGUF" > "$T/trunc.gguf"
expect_exit 1 "$MW" inspect "$T/trunc.gguf"
expect_contains "$T/stderr" "trunc.gguf"
printf '{"model_type": "falcon", "hidden_size": 8}' > "$T/falcon.json"
expect_exit 1 "$MW" plan "$T/falcon.json"
expect_contains "$T/stderr" 'model_type "falcon" is not supported'
expect_exit 1 "$MW" plan "$GGUF" --kv-dtype q8_0
expect_contains "$T/stderr" "blocks of 32"
expect_exit 2 "$MW" plan llama-3-8b --batch 0
expect_contains "$T/stderr" "--batch needs a whole number from 1 to"
expect_exit 2 "$MW" plan llama-3-8b --optimizer lion
expect_contains "$T/stderr" "--optimizer must be one of adamw"
expect_exit 2 "$MW" plan llama-3-8b --dtype q9_9
expect_contains "$T/stderr" 'unknown type "q9_9"'
expect_exit 2 "$MW" plan
expect_exit 2 "$MW" inspect a b
expect_exit 2 "$MW" plan llama-3-8b --tp 64
expect_contains "$T/stderr" "--tp 64 exceeds"
ok "errors"

# "demo", the engine's built-in model, is a model for plan and inspect as it
# is for run, sweep and roofline: its weights are the run's (191 MiB)
expect_exit 0 "$MW" plan demo --json
expect_json "$T/stdout" params 100092672
expect_json "$T/stdout" weights_bytes 200223744
expect_exit 0 "$MW" inspect demo
expect_contains "$T/stdout" "100092672"
ok "demo"

# issue #13, dense architectures: sliding-window layers hold their window
# only (gemma-3-4b at ctx 8192: 29 x 1024 + 5 x 8192 tokens of 4096 bytes,
# docs/PLAN.md), reported in the text and the JSON; a gemma3 multimodal
# config.json plans its language model; bad window values are refused
expect_exit 0 "$MW" plan gemma-3-4b --ctx 8192 --mem 24G
expect_contains "$T/stdout" "KV: 29 local layers hold 1024 tokens, 5 global hold 8192"
expect_exit 0 "$MW" plan gemma-3-4b --ctx 8192 --mem 24G --json
cp "$T/stdout" "$T/g3.json"
expect_json "$T/g3.json" kv_cache_bytes 289406976
expect_json "$T/g3.json" kv_bytes_per_token 139264
expect_json "$T/g3.json" params 3880263168
if have_jq; then
  expect_eq "sliding layers" "$(jq '.kv_layers.sliding' "$T/g3.json")" 29
  expect_eq "their tokens" "$(jq '.kv_layers.sliding_tokens' "$T/g3.json")" 1024
  expect_eq "window" "$(jq '.hparams.sliding_window' "$T/g3.json")" 1024
  expect_eq "period" "$(jq '.hparams.sliding_window_period' "$T/g3.json")" 6
fi
mkdir -p "$T/g3"
cat > "$T/g3/config.json" <<'JSON'
{"architectures": ["Gemma3ForConditionalGeneration"], "model_type": "gemma3",
 "text_config": {"hidden_size": 2560, "intermediate_size": 10240,
  "model_type": "gemma3_text", "num_hidden_layers": 34,
  "rope_scaling": {"factor": 8.0, "rope_type": "linear"},
  "sliding_window": 1024},
 "torch_dtype": "bfloat16", "vision_config": {"model_type": "siglip_vision_model"}}
JSON
expect_exit 0 "$MW" inspect "$T/g3"
expect_contains "$T/stdout" "3880263168"
expect_contains "$T/stdout" "1024 tokens on 5 of every 6 layers"
cat > "$T/g3/config.json" <<'JSON'
{"model_type": "gemma3_text", "sliding_window": 0}
JSON
expect_exit 1 "$MW" plan "$T/g3"
expect_contains "$T/stderr" "sliding_window must be a positive integer, found 0"
cat > "$T/g3/config.json" <<'JSON'
{"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2,
 "num_attention_heads": 4, "intermediate_size": 128, "vocab_size": 100,
 "rope_scaling": {"rope_type": "ntk", "factor": 2}}
JSON
expect_exit 1 "$MW" plan "$T/g3"
expect_contains "$T/stderr" 'rope_scaling.rope_type "ntk" is not known'
ok "dense architectures: sliding-window KV, gemma3 text_config, bad values"

# MoE and MLA (issue #13): active and total parameters, the latent KV cache
expect_exit 0 "$MW" inspect deepseek-v3
expect_contains "$T/stdout" "parameters active      37552297472 (37.6 B: 8 of 256 routed experts per token)"
expect_contains "$T/stdout" "latent attention       latent 512 + rope 64 cached"
expect_exit 0 "$MW" plan deepseek-v3 --ctx 4096 --json
cp "$T/stdout" "$T/ds.json"
expect_json "$T/ds.json" params 671026419200
expect_json "$T/ds.json" params_active 37552297472
expect_json "$T/ds.json" kv_bytes_per_token 70272
expect_json "$T/ds.json" kv_cache_bytes 287834112
expect_exit 0 "$MW" plan qwen3-30b-a3b --ctx 4096
expect_contains "$T/stdout" "30.5 B parameters (3.35 B active per token)"
expect_exit 0 "$MW" plan llama-3-8b --json
expect_json "$T/stdout" params_active 8030261248
ok "moe and mla"
