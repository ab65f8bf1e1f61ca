#!/usr/bin/env bash
# plan_runtime.sh - memwall plan --runtime and --flash-attn (issue #13): the
# issue's Mistral-7B ZeRO-3 check both ways, each runtime's extras in JSON,
# the assumption lines beside the numbers, and the usage errors (exit 2).
# Figures worked by hand in tests/unit/test_plan_runtime.c.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
export MEMWALL_PROFILE=none

# Mistral-7B full fine-tune, ZeRO-3 over 8 x 80 GB at sequence 4096:
# flash (the default for training) fits; unfused is 31.1 GiB short
expect_exit 0 "$MW" plan mistral-7b --train --zero 3 --dp 8 --ctx 4096 --mem 80G
expect_contains "$T/stdout" "attention: flash (assumed for training"
expect_contains "$T/stdout" "would give 97.6 GiB"
expect_contains "$T/stdout" "--mem: 80.0 GiB: fits"
expect_exit 0 "$MW" plan mistral-7b --train --zero 3 --dp 8 --ctx 4096 --mem 80G --flash-attn off
expect_contains "$T/stdout" "attention: unfused (--flash-attn off"
expect_contains "$T/stdout" "does not fit (31.1 GiB short)"
expect_exit 0 "$MW" plan mistral-7b --train --zero 3 --dp 8 --ctx 4096 --mem 80G --json
cp "$T/stdout" "$T/train.json"
expect_json "$T/train.json" flash_attn true
expect_json "$T/train.json" activations_bytes $((18253611008 + 591396864))
expect_json "$T/train.json" activations_other_attention_bytes $((104152956928 + 591396864))
expect_json "$T/train.json" fits true
ok "plan --train: flash 17 GiB of activations, unfused 97 GiB, said which"

# llama.cpp: flash by default, 256-cell padding, q4_0 KV by ggml's blocks
expect_exit 0 "$MW" plan llama-3-8b --runtime llama.cpp --ctx 1000 --kv-dtype q4_0 --json
cp "$T/stdout" "$T/ll.json"
expect_json "$T/ll.json" runtime llama.cpp
expect_json "$T/ll.json" flash_attn true
expect_json "$T/ll.json" kv_cells 1024
expect_json "$T/ll.json" kv_bytes_per_token 36864
expect_json "$T/ll.json" kv_cache_bytes $((1024 * 36864))
expect_json "$T/ll.json" logits_bytes $((512 * 128256 * 4))
expect_contains "$T/ll.json" '"assumptions"'
expect_contains "$T/ll.json" "KV cells padded to 256 (1024 for 1000 tokens)"
# llama-3-8b prefill of 8192: scores 32 x 512 x 8192 x 4 unfused, a tile fused
expect_exit 0 "$MW" plan llama-3-8b --runtime llama.cpp --ctx 8192 --json
expect_json "$T/stdout" attention_scores_bytes 2228224
expect_exit 0 "$MW" plan llama-3-8b --runtime llama.cpp --ctx 8192 --flash-attn off --json
expect_json "$T/stdout" attention_scores_bytes 536870912
expect_exit 0 "$MW" plan llama-3-8b --ctx 8192
expect_contains "$T/stdout" "attention: unfused (memwall's engine)"
expect_contains "$T/stdout" "runtime: memwall"
expect_contains "$T/stdout" "overhead: 80.0 MiB to"
ok "plan --runtime llama.cpp: padding, logits, KV types, flash tiles"

# vLLM: 90% reserved, 16-token blocks, fp8 KV, 8192-token profiling step
expect_exit 0 "$MW" plan llama-3-8b --runtime vllm --ctx 1000 --batch 3 --kv-dtype fp8 --mem 80G --json
cp "$T/stdout" "$T/vllm.json"
expect_json "$T/vllm.json" runtime vllm
expect_json "$T/vllm.json" kv_bytes_per_token 65536
expect_json "$T/vllm.json" kv_cells 3024
expect_json "$T/vllm.json" mem_share 0.9
expect_json "$T/vllm.json" scratch_bytes 0
expect_exit 0 "$MW" plan llama-3-8b --runtime vllm --mem 16G
expect_contains "$T/stdout" "runtime: vllm: 90% of GPU memory reserved"
expect_contains "$T/stdout" "in the 90% the runtime reserves"
# transformers: SDPA by default, eager materializes the scores
expect_exit 0 "$MW" plan llama-3-8b --runtime hf --prompt 1024 --gen 0 --json
expect_json "$T/stdout" attention_scores_bytes 2359296
expect_exit 0 "$MW" plan llama-3-8b --runtime hf --prompt 1024 --gen 0 --flash-attn off --json
expect_json "$T/stdout" attention_scores_bytes 268435456
ok "plan --runtime vllm and hf"

# usage errors: exit 2 with what to change
expect_exit 2 "$MW" plan llama-3-8b --runtime tensorrt
expect_contains "$T/stderr" "known: memwall, llama.cpp, vllm, hf"
expect_exit 2 "$MW" plan llama-3-8b --runtime llama.cpp --kv-dtype q4_0 --flash-attn off
expect_contains "$T/stderr" "V cache quantization requires flash_attn"
expect_exit 2 "$MW" plan llama-3-8b --runtime hf --kv-dtype q8_0
expect_contains "$T/stderr" "runtime hf offers f32, f16, bf16"
expect_exit 2 "$MW" plan llama-3-8b --runtime vllm --kv-dtype q4_0
expect_contains "$T/stderr" "fp8"
expect_exit 2 "$MW" plan llama-3-8b --runtime vllm --flash-attn off
expect_contains "$T/stderr" "FlashAttention, FlashInfer"
expect_exit 2 "$MW" plan llama-3-8b --train --runtime llama.cpp
expect_contains "$T/stderr" "plans inference"
expect_exit 2 "$MW" plan llama-3-8b --flash-attn maybe
expect_contains "$T/stderr" "--flash-attn must be one of off, on"
ok "plan --runtime/--flash-attn/--kv-dtype: clear usage errors"
