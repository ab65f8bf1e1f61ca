/* test_plan.c - the planner against hand-computed figures: KV cache, weights
 * (stored and converted), the activation liveness walk, training state with
 * ZeRO, tensor/pipeline sharding, and the inverse questions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"
#include "format/model_build.h"
#include "test_plan_util.h"

#include <string.h>

/* A tiny llama-like model with hyperparameters only (no tensors). */
static mw_model *tiny(void)
{
    mw_model *m = mw_model_alloc(MW_SOURCE_HF_CONFIG, "tiny");
    assert_non_null(m);
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
    m->n_params = 1000;
    m->weights_bytes = 4000;
    return m;
}

static void activation_walk_by_hand(void **state)
{
    (void)state;
    mw_model *m = tiny();
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    o.prompt = 8;
    o.gen = 8;
    mw_plan p = plan_of(m, &o);
    /* Prefill of 8 tokens, f32, walked by hand (docs/PLAN.md):
     * x 2048 + xn 2048 + q 2048 + k 1024 + v 1024 = 8192 at the projections;
     * x + xn2 2048 + gate 4096 + up 4096 = 12288 in the gated MLP: the peak. */
    assert_int_equal(p.act_layer_bytes, 12288);
    /* the peak, and the output buffer of the logits: 1 sequence x 100 x f32 */
    assert_int_equal(p.bytes[MW_COMP_ACTIVATIONS], 12288 + 400);
    assert_int_equal(p.act_scores_bytes, 4 * 8 * 8 * 4); /* prefill: 4 heads x 8 x 8 (decode: 4 x 1 x 16) */
    assert_int_equal(p.act_logits_bytes, 100 * 4);
    /* KV: 2 x 2 layers x 2 heads x 16 x f16 = 256 B per token, x 16 tokens */
    assert_int_equal(p.kv_bytes_per_token, 256);
    assert_int_equal(p.bytes[MW_COMP_KV_CACHE], 256 * 16);
    assert_int_equal(p.bytes[MW_COMP_WEIGHTS], 4000);
    assert_int_equal(p.bytes[MW_COMP_GRADIENTS], 0);
    assert_int_equal(p.total_bytes, 4000 + 4096 + 12288 + 400 + (80u << 20));
    assert_true(p.total_high_bytes > p.total_bytes);
    mw_model_free(m);
}

static void kv_types_and_sharding(void **state)
{
    (void)state;
    mw_model *m = tiny();
    m->hp.head_dim = 32; /* rows of 2 x 32 = 64 values: whole Q8_0 blocks */
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    o.ctx = 10;
    o.kv_dtype = MW_DTYPE_F32;
    assert_int_equal(plan_of(m, &o).kv_bytes_per_token, 2 * 2 * 64 * 4);
    o.kv_dtype = MW_DTYPE_Q8_0;
    assert_int_equal(plan_of(m, &o).kv_bytes_per_token, 2 * 2 * (64 / 32 * 34));
    o.kv_dtype = MW_DTYPE_F16;
    o.tp = 2; /* kv heads split */
    assert_int_equal(plan_of(m, &o).kv_bytes_per_token, 2 * 2 * 32 * 2);
    assert_int_equal(plan_of(m, &o).bytes[MW_COMP_WEIGHTS], 2000);
    o.tp = 4; /* fewer kv heads (2) than ranks: replicated, one each */
    assert_int_equal(plan_of(m, &o).kv_bytes_per_token, 2 * 2 * 32 * 2);
    o.tp = 1;
    o.pp = 2; /* layers split */
    assert_int_equal(plan_of(m, &o).kv_bytes_per_token, 2 * 1 * 64 * 2);
    /* rows that are not whole Q8_0 blocks are refused, saying why */
    m->hp.head_dim = 8;
    o.pp = 1;
    o.kv_dtype = MW_DTYPE_Q8_0;
    mw_plan p;
    mw_err err;
    assert_int_equal(mw_plan_compute(m, &o, &p, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "blocks of 32"));
    mw_model_free(m);
}

static void training_state_and_zero(void **state)
{
    (void)state;
    mw_model *m = tiny();
    m->n_params = 1000000;
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    o.training = 1;
    o.ctx = 128;
    mw_plan p = plan_of(m, &o); /* mixed precision AdamW: 2 + 2 + 12 = 16 B/param */
    assert_int_equal(p.bytes[MW_COMP_WEIGHTS], 2000000);
    assert_int_equal(p.bytes[MW_COMP_GRADIENTS], 2000000);
    assert_int_equal(p.bytes[MW_COMP_OPTIMIZER], 12000000);
    /* Korthikanti, no recompute, flash attention (the training default,
     * issue #13): L * s*b*h*34 + 4*s*b*(h + v) */
    double sbh = 128.0 * 1 * 64;
    assert_int_equal(p.bytes[MW_COMP_ACTIVATIONS], (uint64_t)(2 * sbh * 34 + 4 * 128.0 * 164 + 0.5));
    /* unfused: L * s*b*h*(34 + 5*a*s/h) + 4*s*b*(h + v) */
    o.flash_attn = MW_FLASH_ATTN_OFF;
    p = plan_of(m, &o);
    double want = 2 * sbh * (34 + 5.0 * 4 * 128 / 64) + 4 * 128.0 * (64 + 100);
    assert_int_equal(p.bytes[MW_COMP_ACTIVATIONS], (uint64_t)(want + 0.5));
    o.recompute = MW_RECOMPUTE_SELECTIVE;
    assert_int_equal(plan_of(m, &o).bytes[MW_COMP_ACTIVATIONS],
                     (uint64_t)(2 * sbh * 34 + 4 * 128.0 * 164 + 0.5));
    o.recompute = MW_RECOMPUTE_FULL;
    assert_int_equal(plan_of(m, &o).bytes[MW_COMP_ACTIVATIONS],
                     (uint64_t)(2 * sbh * 2 + 4 * 128.0 * 164 + 0.5));
    o.recompute = MW_RECOMPUTE_NONE;

    o.mixed_precision = 0; /* fp32 Adam: 4 + 4 + 8 */
    p = plan_of(m, &o);
    assert_int_equal(p.bytes[MW_COMP_WEIGHTS] + p.bytes[MW_COMP_GRADIENTS] + p.bytes[MW_COMP_OPTIMIZER], 16000000);
    o.optimizer = MW_OPT_SGD;
    assert_int_equal(plan_of(m, &o).bytes[MW_COMP_OPTIMIZER], 0);
    o.optimizer = MW_OPT_SGD_MOMENTUM;
    assert_int_equal(plan_of(m, &o).bytes[MW_COMP_OPTIMIZER], 4000000);
    o.mixed_precision = 1;
    o.optimizer = MW_OPT_ADAM_8BIT; /* 1 + 1 byte moments + 4 master */
    assert_int_equal(plan_of(m, &o).bytes[MW_COMP_OPTIMIZER], 6000000);

    o.optimizer = MW_OPT_ADAMW;
    o.dp = 4; /* ZeRO 1, 2, 3 over 4 ranks (ZeRO paper 5.1: 4P + 12P/N, 2P + 14P/N, 16P/N) */
    o.zero = 1;
    p = plan_of(m, &o);
    assert_int_equal(p.bytes[MW_COMP_WEIGHTS] + p.bytes[MW_COMP_GRADIENTS] + p.bytes[MW_COMP_OPTIMIZER],
                     4000000 + 12000000 / 4);
    o.zero = 2;
    p = plan_of(m, &o);
    assert_int_equal(p.bytes[MW_COMP_WEIGHTS] + p.bytes[MW_COMP_GRADIENTS] + p.bytes[MW_COMP_OPTIMIZER],
                     2000000 + 14000000 / 4);
    o.zero = 3;
    p = plan_of(m, &o);
    assert_int_equal(p.bytes[MW_COMP_WEIGHTS] + p.bytes[MW_COMP_GRADIENTS] + p.bytes[MW_COMP_OPTIMIZER],
                     16000000 / 4);
    mw_model_free(m);
}

static void inverse_questions_are_exact(void **state)
{
    (void)state;
    mw_model *m = tiny();
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    o.prompt = 16;
    o.gen = 48;
    o.batch = 5;
    mw_plan at5 = plan_of(m, &o);
    o.batch = 1;
    o.mem_bytes = at5.total_bytes;
    mw_plan p = plan_of(m, &o);
    assert_int_equal(p.max_batch, 5);
    assert_true(p.fits);
    o.mem_bytes = at5.total_bytes - 1;
    assert_int_equal(plan_of(m, &o).max_batch, 4);
    /* the largest context at batch 1: its total fits, one more does not */
    o.mem_bytes = at5.total_bytes;
    p = plan_of(m, &o);
    mw_plan_opts oc = o;
    oc.mem_bytes = MW_UNKNOWN;
    oc.gen = p.max_ctx - oc.prompt;
    assert_true(plan_of(m, &oc).total_bytes <= o.mem_bytes);
    oc.gen++;
    assert_true(plan_of(m, &oc).total_bytes > o.mem_bytes);
    /* nothing fits in less than the weights and the runtime */
    o.mem_bytes = 1000;
    p = plan_of(m, &o);
    assert_false(p.fits);
    assert_int_equal(p.max_batch, 0);
    mw_model_free(m);
}

static void bad_requests_explained(void **state)
{
    (void)state;
    mw_model *m = tiny();
    mw_plan_opts o;
    mw_plan p;
    mw_err err;
    mw_plan_opts_init(&o);
    o.tp = 8; /* more than 4 heads */
    assert_int_equal(mw_plan_compute(m, &o, &p, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "--tp 8"));
    mw_plan_opts_init(&o);
    o.pp = 3;
    assert_int_equal(mw_plan_compute(m, &o, &p, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "--pp 3"));
    mw_plan_opts_init(&o);
    o.prompt = 100;
    o.ctx = 50;
    assert_int_equal(mw_plan_compute(m, &o, &p, &err), MW_ERR_INVALID);
    mw_plan_opts_init(&o);
    o.kv_dtype = MW_DTYPE_Q4_0;
    assert_int_equal(mw_plan_compute(m, &o, &p, &err), MW_ERR_INVALID);
    m->has_hparams = 0;
    mw_plan_opts_init(&o);
    assert_int_equal(mw_plan_compute(m, &o, &p, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "config.json"));
    mw_model_free(m);
}

static void presets_llama3_and_conversion(void **state)
{
    (void)state;
    mw_model *m = NULL;
    mw_err err;
    assert_int_equal(mw_model_open("llama-3-8b", &m, &err), MW_OK);
    assert_int_equal(m->n_params, 8030261248ull);
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    o.ctx = 8192;
    o.batch = 4;
    mw_plan p = plan_of(m, &o);
    assert_int_equal(p.kv_bytes_per_token, 131072); /* 128 KiB per token, f16 */
    assert_int_equal(p.bytes[MW_COMP_KV_CACHE], 4ull << 30); /* 8k x 4 = 4 GiB */
    assert_int_equal(p.bytes[MW_COMP_WEIGHTS], 2 * 8030261248ull); /* bf16 */
    /* converted to Q8_0: matrices 34 B per 32, vectors (norms) F32 */
    o.weight_dtype = MW_DTYPE_Q8_0;
    p = plan_of(m, &o);
    uint64_t want = 0;
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        const mw_tensor_info *t = &m->tensors[i];
        want += t->n_dims >= 2 ? t->n_elems / 32 * 34 : t->n_elems * 4;
    }
    assert_int_equal(p.bytes[MW_COMP_WEIGHTS], want);
    mw_model_free(m);
    assert_int_equal(mw_model_open("gpt2", &m, &err), MW_OK);
    assert_int_equal(m->n_params, 124439808ull);
    mw_model_free(m);
    assert_int_equal(mw_model_open("no-such-model", &m, &err), MW_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, "llama-3-8b"));
}

static void decode_step_by_hand(void **state)
{
    (void)state;
    mw_model *m = tiny();
    m->hp.dtype = MW_DTYPE_F32;
    /* matrices: 2 x (q,o 2x64x64 + k,v 2x64x32 + 3x64x128) + embedding and
     * output 2 x 100x64 = 86528 values of 4 bytes */
    m->weights_bytes = 86528 * 4;
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    o.batch = 3;
    o.prompt = 10;
    o.gen = 4;
    mw_plan p = plan_of(m, &o);
    /* 2 FLOPs per weight a token: 2 x 3 x (73728 + 6400); attention: 4 x 3
     * sequences x 2 layers x 4 heads x 16 x 12.5 positions (10 + 5/2) */
    assert_true(p.decode_step_flops == 2.0 * 3 * 80128 + 4.0 * 3 * 2 * 4 * 16 * 12.5);
    /* the weights less the untied embedding table (100x64 F32), and 3 x 12.5
     * positions of 256 bytes of f16 KV (2 x 2 layers x 2 heads x 16 x 2) */
    assert_true(p.decode_step_bytes == 86528.0 * 4 - 25600 + 3 * 12.5 * 256);
    /* tied: the table is the output matrix, read whole */
    m->hp.tied_embeddings = 1;
    p = plan_of(m, &o);
    assert_true(p.decode_step_bytes == 86528.0 * 4 + 3 * 12.5 * 256);
    /* a mixture of 4 experts, 2 a token: one sequence reads half of them,
     * two read them all */
    m->hp.n_experts = 4;
    m->hp.n_experts_used = 2;
    o.batch = 1;
    mw_plan p1 = plan_of(m, &o);
    o.batch = 2;
    mw_plan p2 = plan_of(m, &o);
    double kv1 = 12.5 * 256, kv2 = 2 * 12.5 * 256;
    assert_true(p2.decode_step_bytes - kv2 == 86528.0 * 4);
    assert_true(p1.decode_step_bytes - kv1 < p2.decode_step_bytes - kv2);
    mw_model_free(m);
}

/* ---- MoE and MLA (issue #13) ---- */

/* A tiny deepseek_v3: MLA (kv_lora 32, rope 8, nope 16, v 16), the first
 * layer dense (f 96), the second 4 routed experts of 16 (1 a token) and one
 * shared expert of 16. Hyperparameters only; f32. */
static mw_model *tiny_deepseek(void)
{
    mw_model *m = mw_model_alloc(MW_SOURCE_HF_CONFIG, "tiny-deepseek");
    assert_non_null(m);
    m->has_hparams = 1;
    mw_hparams *hp = &m->hp;
    strcpy(hp->arch, "deepseek_v3");
    hp->n_layers = 2;
    hp->n_embd = 64;
    hp->n_heads = hp->n_kv_heads = 4;
    hp->kv_lora_rank = 32;
    hp->qk_rope_dim = 8;
    hp->qk_nope_dim = 16;
    hp->v_head_dim = 16;
    hp->head_dim = 24;
    hp->n_ff = 96;
    hp->n_vocab = 100;
    hp->n_ctx_train = 256;
    hp->gated_ffn = 1;
    hp->n_experts = 4;
    hp->n_experts_used = 1;
    hp->n_ff_expert = 16;
    hp->n_shared_experts = 1;
    hp->n_ff_shared = 16;
    hp->moe_first_dense = 1;
    hp->moe_every = 1;
    hp->dtype = MW_DTYPE_F32;
    /* matrices: attention per layer q 64x96 + kv_a 64x40 + kv_b 32x128 + o
     * 64x64 = 16896, twice; the dense MLP 3x64x96 = 18432; the MoE layer 4
     * experts of 3x64x16 = 3072, the shared one 3072, the router 4x64; the
     * embedding and the output 2 x 100x64: 80640 values of 4 bytes */
    m->n_params = 80640;
    m->weights_bytes = 80640 * 4;
    return m;
}

static void mla_kv_cache_is_the_latent(void **state)
{
    (void)state;
    mw_model *m = NULL;
    mw_err err = {0};
    assert_int_equal(mw_model_open("deepseek-v3", &m, &err), MW_OK);
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    o.ctx = 8192;
    mw_plan p = plan_of(m, &o);
    /* 61 layers x (512 + 64) x 2 bytes = 70,272 B per token at 16 bits */
    assert_int_equal(p.kv_bytes_per_token, 70272);
    assert_int_equal(p.bytes[MW_COMP_KV_CACHE], 70272ull * 8192);
    o.kv_dtype = MW_DTYPE_BF16;
    assert_int_equal(plan_of(m, &o).kv_bytes_per_token, 70272);
    o.kv_dtype = MW_DTYPE_Q8_0; /* 576 = 18 blocks of 34 bytes */
    assert_int_equal(plan_of(m, &o).kv_bytes_per_token, 61 * 18 * 34);
    o.kv_dtype = MW_DTYPE_F16;
    o.tp = 8; /* one latent per token: every rank holds it whole */
    assert_int_equal(plan_of(m, &o).kv_bytes_per_token, 70272);
    o.tp = 1;
    o.pp = 2; /* 31 of 61 layers on the first stage */
    assert_int_equal(plan_of(m, &o).kv_bytes_per_token, 31 * 576 * 2);
    o.pp = 1;
    /* the plan reports both counts */
    p = plan_of(m, &o);
    assert_true(p.params == 671026419200ull);
    assert_true(p.params_active == 37552297472ull);
    mw_model_free(m);
    /* a row the KV type's blocks do not divide is refused */
    m = tiny_deepseek();
    m->hp.qk_rope_dim = 9; /* 41 values */
    o.kv_dtype = MW_DTYPE_Q8_0;
    mw_plan bad;
    assert_int_equal(mw_plan_compute(m, &o, &bad, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "latent rows (kv_lora_rank + qk_rope_head_dim) have 41"));
    mw_model_free(m);
}

static void moe_mla_decode_step_and_walk_by_hand(void **state)
{
    (void)state;
    mw_model *m = tiny_deepseek();
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    o.batch = 1;
    o.prompt = 10;
    o.gen = 4;
    mw_plan p = plan_of(m, &o);
    /* KV: 2 layers x 40 latent values x 2 bytes */
    assert_int_equal(p.kv_bytes_per_token, 160);
    /* one sequence reads 1 of the 4 routed experts (3 x 3072 x 4 bytes
     * unread), the shared expert always, the dense layer, and not the
     * untied embedding table (6400 x 4): 322560 - 36864 - 25600, and 12.5
     * positions of KV */
    assert_true(p.decode_step_bytes == 322560.0 - 36864 - 25600 + 12.5 * 160);
    /* FLOPs: 2 per weight a token multiplies (attention 2 x 16896, dense
     * 18432, 1 expert 3072 + the shared 3072 + the router 256, output 6400
     * = 65024) and per attended position 2 x 4 heads x (32 + 8) for the
     * scores over the latent plus 2 x 4 x 32 for the sum: 576 */
    assert_true(p.decode_step_flops == 2.0 * 65024 + 2 * 576 * 12.5);
    /* four sequences may touch all four experts */
    o.batch = 4;
    p = plan_of(m, &o);
    assert_true(p.decode_step_bytes == 322560.0 - 25600 + 4 * 12.5 * 160);
    assert_true(p.decode_step_flops == 4 * (2.0 * 65024 + 2 * 576 * 12.5));

    /* the walk: prefill of 8 tokens, f32: x 2048 + xn 2048 + q 8x96x4 3072 +
     * k 3072 (a x (nope + rope)) + v 8x64x4 2048 = 12288 at the projections;
     * the MLP's peak is the dense layer's (96 wider than 1 x 16 + 16): x +
     * xn2 + router logits 128 + gate and up 2 x 3072 = 10368 */
    o.batch = 1;
    o.prompt = 8;
    o.gen = 8;
    p = plan_of(m, &o);
    assert_int_equal(p.act_layer_bytes, 12288);
    /* all layers MoE: the routed and shared experts' rows, 32, not 96 */
    m->hp.moe_first_dense = 0;
    m->hp.n_ff = 4096; /* unused: no dense layer is left */
    p = plan_of(m, &o);
    assert_int_equal(p.act_layer_bytes, 12288);
    mw_model_free(m);
}

/* issue #13: a sliding-window layer holds min(ctx, window) tokens; the KV
 * cache is the sum over layers (llama.cpp's iSWA cache, vLLM's
 * SlidingWindowManager). */
static void kv_with_sliding_windows(void **state)
{
    (void)state;
    mw_model *m = NULL;
    mw_err err;
    assert_int_equal(mw_model_open("gemma-3-4b", &m, &err), MW_OK);
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    o.ctx = 8192;
    mw_plan p = plan_of(m, &o);
    /* gemma-3-4b: 34 layers, 4 KV heads of 256, f16: 2 x 4 x 256 x 2 = 4096
     * bytes a token a layer, 139264 (136 KiB) a token over all 34. Layer i
     * is global when (i + 1) % 6 == 0: layers 5, 11, 17, 23, 29, so 5 global
     * and 29 local of window 1024. At ctx 8192:
     *   29 x 1024 x 4096 = 121,634,816
     *  + 5 x 8192 x 4096 = 167,772,160
     *  = 289,406,976 bytes (276 MiB), against 1,140,850,688 if every layer
     * held the whole context. */
    assert_int_equal(p.kv_bytes_per_token, 139264);
    assert_int_equal(p.bytes[MW_COMP_KV_CACHE], 289406976ull);
    assert_int_equal(p.kv_sliding_layers, 29);
    assert_int_equal(p.kv_global_layers, 5);
    assert_int_equal(p.kv_window, 1024);
    /* a context within the window: every layer holds all of it */
    o.ctx = 1000;
    p = plan_of(m, &o);
    assert_int_equal(p.bytes[MW_COMP_KV_CACHE], 1000ull * 139264);
    assert_int_equal(p.kv_window, 1000);
    /* batch multiplies; q8_0 (34 bytes a block of 32): 2 x 4 x 8 x 34 =
     * 2176 bytes a token a layer */
    o.ctx = 8192;
    o.batch = 3;
    o.kv_dtype = MW_DTYPE_Q8_0;
    p = plan_of(m, &o);
    assert_int_equal(p.bytes[MW_COMP_KV_CACHE], 3ull * 2176 * (29 * 1024 + 5 * 8192));
    /* the largest context in 10 GiB: local layers stop growing at 1024, so
     * it is larger than if every layer held the whole context */
    o.batch = 1;
    o.kv_dtype = MW_DTYPE_F16;
    o.mem_bytes = 10ull << 30;
    mw_plan swa = plan_of(m, &o);
    m->hp.sliding_window = 0;
    mw_plan all = plan_of(m, &o);
    assert_true(all.max_ctx > 0);
    assert_true(swa.max_ctx > 3 * all.max_ctx);
    mw_model_free(m);

    /* gemma-2-2b: every other layer local with window 4096; at ctx 8192
     * 13 x 4096 + 13 x 8192 tokens of 2 x 4 x 256 x 2 = 4096 bytes */
    assert_int_equal(mw_model_open("gemma-2-2b", &m, &err), MW_OK);
    mw_plan_opts_init(&o);
    o.ctx = 8192;
    p = plan_of(m, &o);
    assert_int_equal(p.bytes[MW_COMP_KV_CACHE], 4096ull * (13 * 4096 + 13 * 8192));
    assert_int_equal(p.kv_sliding_layers, 13);
    mw_model_free(m);

    /* no window: unchanged, kv_bytes_per_token x ctx x batch */
    assert_int_equal(mw_model_open("qwen3-8b", &m, &err), MW_OK);
    mw_plan_opts_init(&o);
    o.ctx = 4096;
    o.batch = 2;
    p = plan_of(m, &o);
    assert_int_equal(p.kv_bytes_per_token, 2 * 36 * 8 * 128 * 2);
    assert_int_equal(p.bytes[MW_COMP_KV_CACHE], 2ull * 4096 * 147456);
    assert_int_equal(p.kv_sliding_layers, 0);
    assert_int_equal(p.kv_global_layers, 36);
    assert_int_equal(p.kv_window, 0);
    mw_model_free(m);

    /* tiny, layer 0 local (window 4), layer 1 global; 128 bytes a token a
     * layer (2 x 2 heads x 16 x f16) */
    m = tiny();
    m->hp.sliding_window = 4;
    m->hp.swa_period = 2;
    mw_plan_opts_init(&o);
    o.prompt = 8;
    o.gen = 8;
    p = plan_of(m, &o);
    assert_int_equal(p.bytes[MW_COMP_KV_CACHE], 4 * 128 + 16 * 128);
    /* pp 2: one layer a stage; the global one's stage holds the most */
    o.pp = 2;
    p = plan_of(m, &o);
    assert_int_equal(p.kv_bytes_per_token, 256 / 2);
    assert_int_equal(p.bytes[MW_COMP_KV_CACHE], 16 * 128);
    /* every layer local (period 0) */
    o.pp = 1;
    m->hp.swa_period = 0;
    p = plan_of(m, &o);
    assert_int_equal(p.bytes[MW_COMP_KV_CACHE], 2 * 4 * 128);
    assert_int_equal(p.kv_sliding_layers, 2);
    assert_int_equal(p.kv_global_layers, 0);
    mw_model_free(m);
}

/* A decode step reads a local layer's cache only back to its window. */
static void decode_step_reads_windows(void **state)
{
    (void)state;
    mw_model *m = tiny();
    m->hp.dtype = MW_DTYPE_F32;
    m->hp.tied_embeddings = 1;
    m->weights_bytes = 86528 * 4;
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    o.prompt = 8;
    o.gen = 8;
    mw_plan full = plan_of(m, &o);
    /* without windows: 12.5 mean positions (9 .. 16) x 256 bytes */
    assert_true(full.decode_step_bytes == 86528.0 * 4 + 12.5 * 256);
    m->hp.sliding_window = 4;
    m->hp.swa_period = 2;
    mw_plan win = plan_of(m, &o);
    /* layer 0 reads min(p, 4) = 4 of its 128-byte rows at every step, layer
     * 1 the mean 12.5 */
    assert_true(win.decode_step_bytes == 86528.0 * 4 + 4 * 128 + 12.5 * 128);
    /* a window of 12 cuts positions 13 .. 16: mean of 9,10,11,12,12,12,12,12 = 11.25 */
    m->hp.sliding_window = 12;
    win = plan_of(m, &o);
    assert_true(win.decode_step_bytes == 86528.0 * 4 + 11.25 * 128 + 12.5 * 128);
    /* prompt only (gen 0): min(prompt, window) */
    o.gen = 0;
    o.ctx = 0;
    o.prompt = 20;
    win = plan_of(m, &o);
    assert_true(win.decode_step_bytes == 86528.0 * 4 + 12 * 128 + 20 * 128);
    mw_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(activation_walk_by_hand),
        cmocka_unit_test(kv_types_and_sharding),
        cmocka_unit_test(training_state_and_zero),
        cmocka_unit_test(inverse_questions_are_exact),
        cmocka_unit_test(bad_requests_explained),
        cmocka_unit_test(presets_llama3_and_conversion),
        cmocka_unit_test(decode_step_by_hand),
        cmocka_unit_test(kv_with_sliding_windows),
        cmocka_unit_test(decode_step_reads_windows),
        cmocka_unit_test(mla_kv_cache_is_the_latent),
        cmocka_unit_test(moe_mla_decode_step_and_walk_by_hand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
