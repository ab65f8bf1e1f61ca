#!/usr/bin/env bash
# memwall plan --lora / --qlora from the command line: PEFT's trainable
# parameter counts (published figures, tests/unit/test_lora.c cites them),
# the JSON keys, GGUF names, and the errors of a bad target or option.
. "$(dirname "$0")/lib.sh"
cd "$MW_SOURCE_DIR" || fail "no source dir"
GGUF=fuzz/corpus/gguf/tiny_llama.gguf

# llama-2-7b, r=8 on PEFT's default q_proj,v_proj: 4,194,304 trainable
expect_exit 0 "$MW" plan llama-2-7b --lora 8 --ctx 512 --mem 24G
expect_contains "$T/stdout" "trainable params: 4,194,304 || all params: 6,742,609,920 || trainable%: 0.0622"
expect_contains "$T/stdout" "PEFT's default for this architecture"
expect_contains "$T/stdout" "frozen base 12.6 GiB (F16), adapters 16.0 MiB (F32)"
expect_contains "$T/stdout" "assumed: adapters F32"
expect_exit 0 "$MW" plan llama-2-7b --lora 8 --ctx 512 --mem 24G --json
cp "$T/stdout" "$T/l2.json"
expect_valid_json "$T/l2.json"
expect_json "$T/l2.json" trainable_params 4194304
expect_json "$T/l2.json" gradients_bytes 16777216
expect_json "$T/l2.json" optimizer_bytes 33554432
if have_jq; then
  expect_json "$T/l2.json" .lora.rank 8
  expect_json "$T/l2.json" .lora.targets q_proj,v_proj
  expect_json "$T/l2.json" .lora.all_params 6742609920
  expect_json "$T/l2.json" .lora.qlora false
  expect_json "$T/l2.json" .workload.mode training
fi
# gpt2's default is c_attn: 294,912 (LoraConfig() on gpt2)
expect_exit 0 "$MW" plan gpt2 --lora 8 --ctx 512 --mem 8G
expect_contains "$T/stdout" "LoRA r=8 on c_attn"
expect_contains "$T/stdout" "trainable params: 294,912 || all params: 124,734,720"
# full fine-tuning says so; inference has no trainable_params
expect_exit 0 "$MW" plan llama-2-7b --train --ctx 512 --mem 24G --json
expect_json "$T/stdout" trainable_params 6738415616
expect_json "$T/stdout" lora null
expect_exit 0 "$MW" plan llama-2-7b --ctx 512 --mem 24G --json
expect_json "$T/stdout" trainable_params null
ok "lora: PEFT's counts, text and JSON"

# all-linear on llama-3-8b r=8: 20,971,520; QLoRA implies r=64, all-linear
expect_exit 0 "$MW" plan llama-3-8b --lora 8 --lora-targets all-linear --ctx 512 --mem 24G
expect_contains "$T/stdout" "trainable params: 20,971,520"
expect_exit 0 "$MW" plan llama-3-8b --qlora --ctx 512 --recompute full --mem 24G --json
cp "$T/stdout" "$T/q.json"
expect_json "$T/q.json" trainable_params 167772160
if have_jq; then
  expect_json "$T/q.json" .lora.rank 64
  expect_json "$T/q.json" .lora.targets all-linear
  expect_json "$T/q.json" .lora.base_dtype nf4
  expect_json "$T/q.json" .lora.adapter_dtype BF16
  expect_json "$T/q.json" .lora.paged_optimizer true
fi
expect_exit 0 "$MW" plan llama-3-8b --qlora --ctx 512 --mem 24G
expect_contains "$T/stdout" "QLoRA r=64 on all-linear"
expect_contains "$T/stdout" "paged AdamW"
# a rank and targets given with --qlora win over its defaults: 32 x 16 x (8192 + 5120)
expect_exit 0 "$MW" plan llama-3-8b --qlora --lora 16 --lora-targets q_proj,v_proj --ctx 512 --mem 24G --json
expect_json "$T/stdout" trainable_params 6815744
ok "qlora: r=64 on all-linear, NF4 base, paged optimizer noted"

# a GGUF file: PEFT's names map to llama.cpp's; q,v = 2 x (8+8) + 2 x (8+4)
expect_exit 0 "$MW" plan "$GGUF" --lora 2 --ctx 16 --mem 1G --json
expect_json "$T/stdout" trainable_params 56
expect_exit 0 "$MW" plan "$GGUF" --lora 2 --lora-targets attn_q,attn_v --ctx 16 --mem 1G --json
expect_json "$T/stdout" trainable_params 56
expect_exit 0 "$MW" plan "$GGUF" --lora 2 --lora-targets all-linear --ctx 16 --mem 1G --json
expect_json "$T/stdout" trainable_params 256
ok "lora: GGUF tensor names"

# errors: a target the model lacks names what it has; bad values
expect_exit 1 "$MW" plan llama-2-7b --lora 8 --lora-targets q_proj,c_attn --mem 24G
expect_contains "$T/stderr" "no module named \"c_attn\""
expect_contains "$T/stderr" "q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj"
expect_exit 1 "$MW" plan phi3-mini --lora 8 --mem 24G
expect_contains "$T/stderr" "no default target modules"
expect_contains "$T/stderr" "qkv_proj"
expect_exit 2 "$MW" plan llama-2-7b --lora 0
expect_contains "$T/stderr" "--lora"
expect_exit 2 "$MW" plan llama-2-7b --lora-targets q_proj
expect_contains "$T/stderr" "needs --lora R"
expect_exit 2 "$MW" plan llama-2-7b --lora 8 --lora-targets ""
expect_exit 2 "$MW" plan llama-2-7b --qlora --dtype q4_0
expect_contains "$T/stderr" "NF4"
expect_exit 2 "$MW" plan llama-2-7b --lora 8 --lora-dtype q8_0
expect_contains "$T/stderr" "--lora-dtype must be f32, f16 or bf16"
expect_exit 1 "$MW" plan llama-2-7b --lora 8 --lora-targets q_proj,,v_proj --mem 24G
expect_contains "$T/stderr" "empty module name"
ok "lora: errors"
