/* test_lora.c - LoRA and QLoRA plans: trainable parameters exactly as PEFT's
 * print_trainable_parameters reports them (published outputs, cited), the
 * target rules (PEFT's defaults, suffix matching, all-linear, GGUF names),
 * the memory components against full fine-tuning, NF4 bytes, QLoRA's 65B on
 * one 48 GB GPU, and the errors. docs/PLAN.md "Fine-tuning with adapters". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"
#include "format/arch.h"
#include "format/hf_config.h"
#include "format/model_build.h"
#include "plan/plan_internal.h"
#include "test_plan_util.h"

#include <stdio.h>
#include <string.h>

static mw_plan lora_plan(const mw_model *m, uint32_t r, const char *targets)
{
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    o.lora_rank = r;
    o.lora_targets = targets;
    o.ctx = 512;
    mw_plan p;
    mw_err err = {0};
    if (mw_plan_compute(m, &o, &p, &err) != MW_OK) fail_msg("%s", err.msg);
    return p;
}

/* PEFT's print_trainable_parameters, published:
 *  - Llama-2-7b-hf, LoraConfig r=8 on q_proj, v_proj (PEFT's default for
 *    llama): "trainable params: 4,194,304 || all params: 6,742,609,920 ||
 *    trainable%: 0.06220594176090199" (a llama-recipes finetuning.py
 *    --use_peft --peft_method lora log, whose default lora_config is r=8,
 *    q_proj/v_proj); 32 layers x (8 x (4096 + 4096)) x 2.
 *  - gpt2 with LoraConfig() (r=8, PEFT's default target c_attn):
 *    "trainable params: 294,912 || all params: 124,734,720 || trainable%:
 *    0.23643136409814364"; 12 layers x 8 x (768 + 2304).
 *  - Meta-Llama-3-8B at r=8 on all seven projections ("all-linear"):
 *    per layer q 8(4096+4096) 65,536 + k 8(4096+1024) 40,960 + v 40,960 +
 *    o 65,536 + gate 8(4096+14336) 147,456 + up 147,456 + down 147,456
 *    = 655,360; x 32 layers = 20,971,520 (by hand). */
static void peft_counts_are_exact(void **state)
{
    (void)state;
    mw_model *m = open_preset("llama-2-7b");
    mw_plan p = lora_plan(m, 8, NULL);
    assert_int_equal(p.trainable_params, 4194304);
    assert_int_equal(p.params + p.trainable_params, 6742609920ull);
    assert_true(p.lora_default_targets);
    assert_string_equal(p.lora_targets, "q_proj,v_proj");
    assert_int_equal(p.lora_modules, 64);
    /* trainable% as PEFT prints it: 0.06220594176090199 */
    double pct = 100.0 * (double)p.trainable_params / (double)(p.params + p.trainable_params);
    assert_true(pct > 0.062205941760 && pct < 0.062205941762);
    /* the same list given explicitly, in either order */
    assert_int_equal(lora_plan(m, 8, "v_proj,q_proj").trainable_params, 4194304);
    mw_model_free(m);

    m = open_preset("gpt2");
    p = lora_plan(m, 8, NULL);
    assert_int_equal(p.trainable_params, 294912);
    assert_int_equal(p.params + p.trainable_params, 124734720ull);
    assert_string_equal(p.lora_targets, "c_attn");
    mw_model_free(m);

    m = open_preset("llama-3-8b");
    assert_int_equal(lora_plan(m, 8, "all-linear").trainable_params, 20971520);
    assert_int_equal(lora_plan(m, 8, "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj").trainable_params,
                     20971520);
    /* r scales it linearly; k_proj alone is 32 x 16 x 5120 */
    assert_int_equal(lora_plan(m, 16, "k_proj").trainable_params, 32 * 16 * 5120);
    mw_model_free(m);
}

/* Fused and expert modules: phi3's qkv_proj [(a + 2 a_kv) d, h], mixtral's
 * router "gate" (an nn.Linear: all-linear takes it) and experts w1/w2/w3. */
static void fused_and_expert_modules(void **state)
{
    (void)state;
    mw_model *m = open_preset("phi3-mini");
    const mw_hparams *hp = &m->hp;
    uint64_t qkv = (uint64_t)(hp->n_heads + 2 * hp->n_kv_heads) * hp->head_dim;
    assert_int_equal(lora_plan(m, 4, "qkv_proj").trainable_params,
                     (uint64_t)hp->n_layers * 4 * (hp->n_embd + qkv));
    /* PEFT has no default for phi3: the error lists its modules */
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    o.lora_rank = 8;
    mw_plan p;
    mw_err err = {0};
    assert_int_equal(mw_plan_compute(m, &o, &p, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "no default target modules"));
    assert_non_null(strstr(err.msg, "qkv_proj"));
    assert_non_null(strstr(err.msg, "gate_up_proj"));
    mw_model_free(m);

    m = open_preset("mixtral-8x7b");
    hp = &m->hp;
    uint64_t L = hp->n_layers, h = hp->n_embd, f = hp->n_ff, E = hp->n_experts;
    uint64_t kv = (uint64_t)hp->n_kv_heads * hp->head_dim, q = (uint64_t)hp->n_heads * hp->head_dim;
    /* w1 [f, h] in every expert: the suffix "w1" */
    assert_int_equal(lora_plan(m, 8, "w1").trainable_params, L * E * 8 * (h + f));
    /* "gate" is the router alone, not gate_proj-like names */
    assert_int_equal(lora_plan(m, 8, "gate").trainable_params, L * 8 * (h + E));
    uint64_t per_layer = 8 * ((h + q) * 2 + (h + kv) * 2 + (h + E) + E * 3 * (h + f));
    p = lora_plan(m, 8, "all-linear");
    assert_int_equal(p.trainable_params, L * per_layer);
    assert_int_equal(p.lora_modules, L * (4 + 1 + 3 * E));
    mw_model_free(m);
}

/* A GGUF-named model (blk.N.attn_q ...; shapes in PyTorch order as memwall
 * stores GGUF's reversed dims): PEFT's names map to llama.cpp's. */
static void gguf_names(void **state)
{
    (void)state;
    mw_model *m = mw_model_alloc(MW_SOURCE_GGUF, "tiny.gguf");
    assert_non_null(m);
    mw_err err = {0};
    m->has_hparams = 1;
    strcpy(m->hp.arch, "llama");
    m->hp.n_layers = 2;
    m->hp.n_embd = 64;
    m->hp.n_heads = 4;
    m->hp.n_kv_heads = 2;
    m->hp.head_dim = 16;
    m->hp.n_ff = 128;
    m->hp.n_vocab = 100;
    m->hp.n_ctx_train = 256;
    m->hp.gated_ffn = 1;
    m->hp.dtype = MW_DTYPE_F16;
    const uint64_t emb[2] = {100, 64}, norm[1] = {64};
    assert_int_equal(mw_model_add_tensor(m, "token_embd.weight", MW_DTYPE_F16, 2, emb, 0, 0, &err), MW_OK);
    for (unsigned i = 0; i < 2; i++) {
        static const struct { const char *n; uint64_t out, in; } mats[] = {
            {"attn_q", 64, 64}, {"attn_k", 32, 64}, {"attn_v", 32, 64}, {"attn_output", 64, 64},
            {"ffn_gate", 128, 64}, {"ffn_up", 128, 64}, {"ffn_down", 64, 128},
        };
        char name[64];
        for (size_t k = 0; k < sizeof mats / sizeof mats[0]; k++) {
            snprintf(name, sizeof name, "blk.%u.%s.weight", i, mats[k].n);
            const uint64_t shape[2] = {mats[k].out, mats[k].in};
            assert_int_equal(mw_model_add_tensor(m, name, MW_DTYPE_F16, 2, shape, 0, 0, &err), MW_OK);
        }
        snprintf(name, sizeof name, "blk.%u.attn_norm.weight", i);
        assert_int_equal(mw_model_add_tensor(m, name, MW_DTYPE_F32, 1, norm, 0, 0, &err), MW_OK);
    }
    assert_int_equal(mw_model_add_tensor(m, "output.weight", MW_DTYPE_F16, 2, emb, 0, 0, &err), MW_OK);
    mw_model_finish(m);
    /* PEFT's default for llama (q_proj, v_proj) = attn_q, attn_v:
     * 2 layers x 4 x ((64 + 64) + (64 + 32)) */
    assert_int_equal(lora_plan(m, 4, NULL).trainable_params, 2 * 4 * (128 + 96));
    /* the GGUF names work too */
    assert_int_equal(lora_plan(m, 4, "attn_q,attn_v").trainable_params, 2 * 4 * (128 + 96));
    /* all-linear: the seven per layer, not token_embd or output */
    uint64_t per = 128 + 96 + 96 + 128 + 192 + 192 + 192;
    assert_int_equal(lora_plan(m, 4, "all-linear").trainable_params, 2 * 4 * per);
    assert_int_equal(lora_plan(m, 4, "down_proj").trainable_params, 2 * 4 * 192);
    mw_model_free(m);
}

/* GGUF's merged experts [E, out, in] (ffn_gate_exps ...): E linears each,
 * named by PEFT's gate_proj / w1 or llama.cpp's own; x*A for an expert's
 * share of the tokens (used / E). */
static void gguf_merged_experts(void **state)
{
    (void)state;
    mw_model *m = mw_model_alloc(MW_SOURCE_GGUF, "moe.gguf");
    assert_non_null(m);
    mw_err err = {0};
    m->has_hparams = 1;
    strcpy(m->hp.arch, "llama");
    m->hp.n_layers = 1;
    m->hp.n_embd = 8;
    m->hp.n_heads = 2;
    m->hp.n_kv_heads = 2;
    m->hp.head_dim = 4;
    m->hp.n_ff = 16;
    m->hp.n_vocab = 6;
    m->hp.n_ctx_train = 64;
    m->hp.gated_ffn = 1;
    m->hp.n_experts = 4;
    m->hp.n_experts_used = 2;
    m->hp.dtype = MW_DTYPE_F32;
    const uint64_t q[2] = {8, 8}, router[2] = {4, 8}, up[3] = {4, 16, 8}, down[3] = {4, 8, 16};
    assert_int_equal(mw_model_add_tensor(m, "blk.0.attn_q.weight", MW_DTYPE_F32, 2, q, 0, 0, &err), MW_OK);
    assert_int_equal(mw_model_add_tensor(m, "blk.0.ffn_gate_inp.weight", MW_DTYPE_F32, 2, router, 0, 0, &err),
                     MW_OK);
    assert_int_equal(mw_model_add_tensor(m, "blk.0.ffn_gate_exps.weight", MW_DTYPE_F32, 3, up, 0, 0, &err), MW_OK);
    assert_int_equal(mw_model_add_tensor(m, "blk.0.ffn_up_exps.weight", MW_DTYPE_F32, 3, up, 0, 0, &err), MW_OK);
    assert_int_equal(mw_model_add_tensor(m, "blk.0.ffn_down_exps.weight", MW_DTYPE_F32, 3, down, 0, 0, &err),
                     MW_OK);
    mw_model_finish(m);
    mw_plan p = lora_plan(m, 2, "gate_proj");
    assert_int_equal(p.trainable_params, 4 * 2 * (8 + 16));
    assert_int_equal(p.lora_modules, 4);
    /* 512 tokens x r 2 x (4 experts x 2/4 of the tokens) x 1 layer x 2 B */
    assert_int_equal(p.lora_adapter_act_bytes, 512 * 2 * 2 * 2);
    assert_int_equal(lora_plan(m, 2, "w2").trainable_params, 4 * 2 * (16 + 8));
    assert_int_equal(lora_plan(m, 2, "ffn_up_exps").trainable_params, 4 * 2 * (8 + 16));
    /* all-linear: q, the router, and the 3 x 4 experts */
    p = lora_plan(m, 2, "all-linear");
    assert_int_equal(p.trainable_params, 2 * (16 + 12 + 3 * 4 * 24));
    assert_int_equal(p.lora_modules, 2 + 12);
    mw_model_free(m);
}

/* LoRA against full fine-tuning on llama-2-7b (F16 config), r=8 q/v,
 * micro-batch 1 x 512, AdamW, mixed precision. */
static void memory_against_full_finetuning(void **state)
{
    (void)state;
    mw_model *m = open_preset("llama-2-7b");
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    o.training = 1;
    o.ctx = 512;
    mw_plan full, lora;
    mw_err err = {0};
    assert_int_equal(mw_plan_compute(m, &o, &full, &err), MW_OK);
    assert_int_equal(full.trainable_params, m->n_params);
    o.lora_rank = 8;
    assert_int_equal(mw_plan_compute(m, &o, &lora, &err), MW_OK);
    const uint64_t P = 4194304;
    /* frozen base at its stored type (F16: the preset's torch_dtype) */
    assert_int_equal(lora.lora_base_bytes, m->weights_bytes);
    assert_int_equal(lora.lora_base_bytes, 6738415616ull * 2);
    /* adapters f32 (PEFT's autocast_adapter_dtype): weights and gradients
     * 4 B each, AdamW m + v 8 B, no master copy */
    assert_int_equal(lora.lora_adapter_bytes, P * 4);
    assert_int_equal(lora.bytes[MW_COMP_WEIGHTS], 6738415616ull * 2 + P * 4);
    assert_int_equal(lora.bytes[MW_COMP_GRADIENTS], P * 4);
    assert_int_equal(lora.bytes[MW_COMP_OPTIMIZER], P * 8);
    /* full fine-tuning: 2 + 2 + 12 B per parameter */
    assert_int_equal(full.bytes[MW_COMP_GRADIENTS], 6738415616ull * 2);
    assert_int_equal(full.bytes[MW_COMP_OPTIMIZER], 6738415616ull * 12);
    /* activations: full fine-tuning's, plus x*A: 512 tokens x r 8 x 2
     * adapters a layer x 32 layers x 2 B */
    assert_int_equal(lora.lora_adapter_act_bytes, 512ull * 8 * 2 * 32 * 2);
    assert_int_equal(lora.bytes[MW_COMP_ACTIVATIONS], full.bytes[MW_COMP_ACTIVATIONS] + 512ull * 8 * 2 * 32 * 2);
    assert_true(lora.total_bytes < full.total_bytes / 5);

    /* --dtype q8_0 converts the frozen base; bf16 adapters halve theirs */
    o.weight_dtype = MW_DTYPE_Q8_0;
    o.lora_dtype = MW_DTYPE_BF16;
    assert_int_equal(mw_plan_compute(m, &o, &lora, &err), MW_OK);
    assert_true(lora.lora_base_bytes < m->weights_bytes * 6 / 10);
    assert_int_equal(lora.lora_base_dtype, MW_DTYPE_Q8_0);
    assert_int_equal(lora.lora_adapter_bytes, P * 2);
    assert_int_equal(lora.bytes[MW_COMP_GRADIENTS], P * 2);
    assert_int_equal(lora.bytes[MW_COMP_OPTIMIZER], P * 8);

    /* ZeRO-3 over 4 ranks shards base, adapters, gradients and state */
    o.weight_dtype = MW_DTYPE_COUNT;
    o.lora_dtype = MW_DTYPE_COUNT;
    o.dp = 4;
    o.zero = 3;
    assert_int_equal(mw_plan_compute(m, &o, &lora, &err), MW_OK);
    assert_int_equal(lora.lora_base_bytes, 6738415616ull * 2 / 4);
    assert_int_equal(lora.lora_adapter_bytes, P);
    assert_int_equal(lora.bytes[MW_COMP_OPTIMIZER], P * 2);
    mw_model_free(m);
}

/* NF4 with double quantization: 4 + 8/64 + 32/(64 x 256) bits a weight
 * (QLoRA, arXiv 2305.14314, §3 "Double Quantization": 0.127 bits of
 * constants instead of 32/64 = 0.5). */
static void nf4_bytes_exact(void **state)
{
    (void)state;
    /* 16384 weights = 256 blocks of 64: 8192 + 256 + 4 B = 4.126953125 bits */
    assert_int_equal(mw_lora_nf4_bytes(16384), 8452);
    assert_int_equal(mw_lora_nf4_bytes(16384) * 8, 16384 * 4 + 256 * 8 + 32);
    /* a 4096 x 4096 matrix: 8 Mi / 2 + 262144 + 4 x 1024 */
    assert_int_equal(mw_lora_nf4_bytes(4096ull * 4096), 8388608 + 262144 + 4096);
    /* partial blocks round up: 65 weights = 2 blocks, 1 second-level scale */
    assert_int_equal(mw_lora_nf4_bytes(65), 33 + 2 + 4);
}

/* LLaMA-65B: dim 8192, 80 layers, 64 heads (Touvron et al. 2023, arXiv
 * 2302.13971, Table 2); FFN 22016 (transformers'
 * convert_llama_weights_to_hf.py: 256-multiple of 2/3 x 4 x 8192), vocab
 * 32000, untied. Parameters by hand: embeddings 2 x 32000 x 8192 +
 * 80 x (4 x 8192^2 + 3 x 8192 x 22016 + 2 x 8192) + 8192
 * = 65,285,660,672. */
static mw_model *llama_65b(void)
{
    mw_model *m = mw_model_alloc(MW_SOURCE_HF_CONFIG, "llama-65b");
    assert_non_null(m);
    m->has_hparams = 1;
    mw_hparams *hp = &m->hp;
    strcpy(hp->arch, "llama");
    hp->n_layers = 80;
    hp->n_embd = 8192;
    hp->n_heads = 64;
    hp->n_kv_heads = 64;
    hp->head_dim = 128;
    hp->n_ff = 22016;
    hp->n_vocab = 32000;
    hp->n_ctx_train = 2048;
    hp->gated_ffn = 1;
    hp->dtype = MW_DTYPE_F16;
    mw_err err = {0};
    if (mw_arch_add_tensors(hp, MW_DTYPE_F16, m, &err) != MW_OK) fail_msg("%s", err.msg);
    mw_model_finish(m);
    return m;
}

/* QLoRA's claim: a 65B model fine-tunes on one 48 GB GPU (arXiv
 * 2305.14314, abstract). Its Guanaco-65B recipe (artidoro/qlora
 * scripts/finetune_guanaco_65b.sh): --bits 4 --quant_type nf4
 * --double_quant --bf16 --lora_r 64 --lora_modules all
 * --gradient_checkpointing --source_max_len 16 --target_max_len 512
 * --per_device_train_batch_size 4; optimizer paged_adamw_32bit (qlora.py's
 * default). */
static void qlora_65b_on_48gb(void **state)
{
    (void)state;
    mw_model *m = llama_65b();
    assert_int_equal(m->n_params, 65285660672ull);
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    o.qlora = 1; /* implies training, r = 64, all-linear, bf16 adapters */
    o.recompute = MW_RECOMPUTE_FULL;
    o.batch = 4;
    o.ctx = 16 + 512;
    o.mem_bytes = 48000000000ull; /* 48 GB, the smaller reading */
    mw_plan p;
    mw_err err = {0};
    if (mw_plan_compute(m, &o, &p, &err) != MW_OK) fail_msg("%s", err.msg);
    assert_true(p.opts.training);
    assert_int_equal(p.opts.lora_rank, 64);
    assert_string_equal(p.lora_targets, "all-linear");
    /* r=64 on the seven projections: 80 x 64 x (4 x 16384 + 3 x 30208) */
    assert_int_equal(p.trainable_params, 80ull * 64 * (4 * 16384 + 3 * 30208));
    /* base: the 80 x 7 linears in NF4, embeddings and head bf16, norms fp32 */
    uint64_t base = 80 * (4 * mw_lora_nf4_bytes(8192ull * 8192) + 3 * mw_lora_nf4_bytes(8192ull * 22016)) +
                    2 * 32000ull * 8192 * 2 + (80 * 2 + 1) * 8192ull * 4;
    assert_int_equal(p.lora_base_bytes, base);
    assert_int_equal(p.lora_adapter_bytes, p.trainable_params * 2);
    assert_int_equal(p.bytes[MW_COMP_OPTIMIZER], p.trainable_params * 8);
    print_message("QLoRA llama-65b, batch 4 x 528: base %.2f GB, adapters+grads+state %.2f GB, activations %.2f GB, "
                  "total %.2f GB\n", p.lora_base_bytes / 1e9,
                  (p.lora_adapter_bytes + p.bytes[MW_COMP_GRADIENTS] + p.bytes[MW_COMP_OPTIMIZER]) / 1e9,
                  p.bytes[MW_COMP_ACTIVATIONS] / 1e9, p.total_bytes / 1e9);
    assert_true(p.fits);
    /* 16-bit LoRA of the same model does not fit: its base alone is 130 GB */
    o.qlora = 0;
    o.lora_rank = 64;
    o.lora_targets = "all-linear";
    if (mw_plan_compute(m, &o, &p, &err) != MW_OK) fail_msg("%s", err.msg);
    assert_false(p.fits);
    assert_true(p.lora_base_bytes > 130000000000ull);
    mw_model_free(m);
}

static void errors_explained(void **state)
{
    (void)state;
    mw_model *m = open_preset("llama-2-7b");
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    mw_plan p;
    mw_err err = {0};
    /* a name no architecture has */
    o.lora_rank = 8;
    o.lora_targets = "q_proj,x_proj";
    assert_int_equal(mw_plan_compute(m, &o, &p, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "\"x_proj\""));
    assert_non_null(strstr(err.msg, "q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj"));
    /* a name of another architecture: GPT-2's c_attn on llama */
    o.lora_targets = "c_attn";
    assert_int_equal(mw_plan_compute(m, &o, &p, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "no module named \"c_attn\""));
    /* the suffix rule is whole components: "proj" is no module */
    o.lora_targets = "proj";
    assert_int_equal(mw_plan_compute(m, &o, &p, &err), MW_ERR_INVALID);
    /* empty names, all-linear with others */
    o.lora_targets = "q_proj,,v_proj";
    assert_int_equal(mw_plan_compute(m, &o, &p, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "empty"));
    o.lora_targets = "all-linear,q_proj";
    assert_int_equal(mw_plan_compute(m, &o, &p, &err), MW_ERR_INVALID);
    /* targets without a rank (r = 0 is full fine-tuning) */
    o.lora_rank = 0;
    o.lora_targets = "q_proj";
    assert_int_equal(mw_plan_compute(m, &o, &p, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "--lora R"));
    /* QLoRA defines the base's type */
    o.lora_targets = NULL;
    o.qlora = 1;
    o.weight_dtype = MW_DTYPE_Q4_0;
    assert_int_equal(mw_plan_compute(m, &o, &p, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "NF4"));
    /* QLoRA without training asked: training, r = 64, all-linear */
    o.weight_dtype = MW_DTYPE_COUNT;
    o.training = 0;
    o.ctx = 512;
    assert_int_equal(mw_plan_compute(m, &o, &p, &err), MW_OK);
    assert_true(p.opts.training);
    assert_int_equal(p.opts.lora_rank, 64);
    assert_int_equal(p.trainable_params, 32ull * 64 * (4 * 8192 + 3 * (4096 + 11008)));
    /* an adapter type that is not a float */
    o.lora_dtype = MW_DTYPE_Q8_0;
    assert_int_equal(mw_plan_compute(m, &o, &p, &err), MW_ERR_INVALID);
    mw_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(peft_counts_are_exact),
        cmocka_unit_test(fused_and_expert_modules),
        cmocka_unit_test(gguf_names),
        cmocka_unit_test(gguf_merged_experts),
        cmocka_unit_test(memory_against_full_finetuning),
        cmocka_unit_test(nf4_bytes_exact),
        cmocka_unit_test(qlora_65b_on_48gb),
        cmocka_unit_test(errors_explained),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
