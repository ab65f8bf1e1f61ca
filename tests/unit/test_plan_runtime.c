/* test_plan_runtime.c - attention and runtimes (issue #13): flash against
 * unfused attention in the inference walk and in Korthikanti's training
 * activations, each runtime's extras (llama.cpp's 256-cell padding and
 * ubatch logits, vLLM's 16-token blocks, 90% reservation and overhead,
 * transformers' eager softmax), the KV cache types by ggml's block sizes,
 * and the errors. Every figure is worked by hand in the comment beside it
 * (docs/PLAN.md, "Attention and runtimes"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"
#include "test_plan_util.h"

#include <string.h>

#define GIB (1ull << 30)

static void expect_error(const mw_model *m, const mw_plan_opts *o, const char *needle)
{
    mw_plan p;
    mw_err err = {0};
    assert_int_equal(mw_plan_compute(m, o, &p, &err), MW_ERR_INVALID);
    if (!strstr(err.msg, needle)) print_error("'%s' lacks '%s'\n", err.msg, needle);
    assert_non_null(strstr(err.msg, needle));
    /* the same check without a model, as the CLI makes it */
    assert_int_equal(mw_plan_check_runtime(o, &err), MW_ERR_INVALID);
}

/* The check: Mistral-7B, full fine-tune, ZeRO-3 over 8 ranks,
 * sequence 4096, on 80 GB. s = 4096, b = 1, h = 4096, a = 32, L = 32,
 * v = 32000, P = 7,241,732,096.
 *   flash, 34·s·b·h per layer: 34 · 4096 · 4096 = 570,425,344; · 32 =
 *     18,253,611,008 (17.0 GiB)
 *   unfused adds 5·a·s²·b per layer: 5 · 32 · 4096² = 2,684,354,560; · 32 =
 *     85,899,345,920 (80 GiB): 104,152,956,928 = 97.0 GiB, EleutherAI's
 *     sbhL(34 + 5as/h)
 *   output layer and loss 4·s·b·(h + v) = 16384 · 36096 = 591,396,864
 *   state 16 B/param / 8 = 14,483,464,192; overhead low 80 MiB = 83,886,080
 *   unfused total 104,744,353,792 + 14,483,464,192 + 83,886,080 =
 *     119,311,704,064; 80 GiB = 85,899,345,920: 33,412,358,144 short
 *     (31.1 GiB, the figure the issue quotes) */
static void mistral_zero3_flash_and_unfused(void **state)
{
    (void)state;
    mw_model *m = open_preset("mistral-7b");
    assert_int_equal(m->n_params, 7241732096ull);
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    o.training = 1;
    o.zero = 3;
    o.dp = 8;
    o.ctx = 4096;
    o.mem_bytes = 80 * GIB;
    mw_plan p = plan_of(m, &o); /* the default for training: flash */
    assert_int_equal(p.opts.flash_attn, MW_FLASH_ATTN_ON);
    assert_int_equal(p.bytes[MW_COMP_ACTIVATIONS], 18253611008ull + 591396864ull);
    assert_int_equal(p.act_alt_bytes, 18253611008ull + 85899345920ull + 591396864ull);
    assert_int_equal(p.bytes[MW_COMP_WEIGHTS] + p.bytes[MW_COMP_GRADIENTS] + p.bytes[MW_COMP_OPTIMIZER],
                     14483464192ull);
    assert_true(p.fits);
    o.flash_attn = MW_FLASH_ATTN_OFF;
    p = plan_of(m, &o);
    assert_int_equal(p.bytes[MW_COMP_ACTIVATIONS], 104744353792ull);
    assert_int_equal(p.act_alt_bytes, 18253611008ull + 591396864ull);
    assert_int_equal(p.total_bytes, 119311704064ull);
    assert_false(p.fits);
    assert_int_equal(p.total_bytes - o.mem_bytes, 33412358144ull);
    /* selective recompute equals the flash count at t = 1; full stays 2·sbh */
    o.recompute = MW_RECOMPUTE_SELECTIVE;
    assert_int_equal(plan_of(m, &o).bytes[MW_COMP_ACTIVATIONS], 18253611008ull + 591396864ull);
    o.recompute = MW_RECOMPUTE_FULL;
    o.flash_attn = MW_FLASH_ATTN_ON;
    assert_int_equal(plan_of(m, &o).bytes[MW_COMP_ACTIVATIONS], 2ull * 4096 * 4096 * 32 + 591396864ull);
    mw_model_free(m);
}

/* Llama-3-8B, a prompt of 8192 in llama.cpp's ubatches of 512: the last
 * step's scores unfused are [1, 32, 512, 8192] f32 = 32 · 512 · 8192 · 4 =
 * 536,870,912 B; flash holds a 128 x 128 f32 tile per head, 32 · 128 · 128 ·
 * 4 = 2,097,152, and m, l [1, 32, 512] f32, 32 · 512 · 2 · 4 = 131,072:
 * 2,228,224 B. */
static void llama3_prefill_flash_tiles(void **state)
{
    (void)state;
    mw_model *m = open_preset("llama-3-8b");
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    o.ctx = 8192;
    mw_plan p = plan_of(m, &o); /* memwall: unfused, as today */
    assert_int_equal(p.opts.flash_attn, MW_FLASH_ATTN_OFF);
    assert_int_equal(p.act_scores_bytes, 536870912ull);
    o.runtime = MW_RUNTIME_LLAMA_CPP; /* flash by default */
    p = plan_of(m, &o);
    assert_int_equal(p.opts.flash_attn, MW_FLASH_ATTN_ON);
    assert_int_equal(p.act_scores_bytes, 2228224ull);
    /* the walk's peak drops by the scores less the tile: the unfused plan's
     * activations are act_alt_bytes */
    uint64_t flash_act = p.bytes[MW_COMP_ACTIVATIONS], unfused_act = p.act_alt_bytes;
    o.flash_attn = MW_FLASH_ATTN_OFF;
    p = plan_of(m, &o);
    assert_int_equal(p.act_scores_bytes, 536870912ull);
    assert_int_equal(p.bytes[MW_COMP_ACTIVATIONS], unfused_act);
    assert_int_equal(p.act_alt_bytes, flash_act);
    assert_true(unfused_act > flash_act);
    mw_model_free(m);
}

/* llama.cpp: its n_ctx padded to 256 cells; the prompt graph reserved with
 * every token an output, logits [512, 128256] f32 = 262,668,288 B. */
static void llama_cpp_padding_and_logits(void **state)
{
    (void)state;
    mw_model *m = open_preset("llama-3-8b");
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    o.runtime = MW_RUNTIME_LLAMA_CPP;
    o.ctx = 1000; /* GGML_PAD(1000, 256) = 1024 */
    mw_plan p = plan_of(m, &o);
    assert_int_equal(p.kv_cells, 1024);
    assert_int_equal(p.bytes[MW_COMP_KV_CACHE], 1024ull * 131072);
    assert_int_equal(p.act_logits_bytes, 512ull * 128256 * 4);
    o.batch = 3; /* 3 · 1000 = 3000 -> 3072 */
    p = plan_of(m, &o);
    assert_int_equal(p.kv_cells, 3072);
    /* n_ubatch counts the step's tokens over all sequences: three prompts
     * of 1000 are still prefilled 512 tokens a step, so the logits of a
     * step stay [512, v] (not [3 · 512, v]) */
    assert_int_equal(p.act_logits_bytes, 512ull * 128256 * 4);
    o.batch = 64;
    o.ctx = 4; /* 64 prompts of 4 tokens: one step of 256 */
    assert_int_equal(plan_of(m, &o).act_logits_bytes, 256ull * 128256 * 4);
    o.batch = 3;
    o.ctx = 1000;
    o.runtime = MW_RUNTIME_MEMWALL; /* exactly b · ctx; logits of the last position */
    p = plan_of(m, &o);
    assert_int_equal(p.kv_cells, 3000);
    assert_int_equal(p.act_logits_bytes, 3ull * 128256 * 4);
    mw_model_free(m);
}

/* llama.cpp without flash attention reserves its graph for a full cache:
 * Mistral-7B at -c 32768, ubatch 512, f32 activations: the KQ mask
 * [32768, 512] f32 = 67,108,864 is alive through the layer; at the scores
 * the walk holds mask + x [512, 4096] 8,388,608 + q 8,388,608 + scores
 * [32, 512, 32768] f32 2,147,483,648 = 2,231,369,728 B (2128.0 MiB).
 * llama.cpp logged "CUDA0 compute buffer size = 2144.00 MiB" for a model of
 * this attention shape at n_ctx 32768, n_ubatch 512, flash_attn 0 (KV 4096
 * MiB: 128 KiB a token; fedora-copr/logdetective#106): 0.75% more. */
static void llama_cpp_unfused_full_cache(void **state)
{
    (void)state;
    mw_model *m = open_preset("mistral-7b");
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    o.runtime = MW_RUNTIME_LLAMA_CPP;
    o.flash_attn = MW_FLASH_ATTN_OFF;
    o.ctx = 32768;
    mw_plan p = plan_of(m, &o);
    assert_int_equal(p.bytes[MW_COMP_KV_CACHE], 4096ull << 20);
    assert_int_equal(p.act_layer_bytes, 2231369728ull);
    assert_int_equal(p.act_scores_bytes, 2147483648ull);
    /* a prompt shorter than the context still attends to every cell */
    o.prompt = 512;
    assert_int_equal(plan_of(m, &o).act_layer_bytes, 2231369728ull);
    mw_model_free(m);
}

/* KV bytes per token on Llama-3-8B (32 layers, 8 KV heads x 128: rows of
 * 1024 values), K and V: 2 · 32 · row bytes. ggml blocks of 32 values:
 * q4_0 18 B (32 blocks: 576), q4_1 20 (640), q5_0 22 (704), q5_1 24 (768),
 * q8_0 34 (1088), iq4_nl 18 (576); fp8 1 byte a value (1024). */
static void kv_types_by_runtime(void **state)
{
    (void)state;
    mw_model *m = open_preset("llama-3-8b");
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    o.runtime = MW_RUNTIME_LLAMA_CPP;
    o.ctx = 8192;
    static const struct { mw_dtype t; uint64_t per_token; } ll[] = {
        {MW_DTYPE_Q4_0, 36864}, {MW_DTYPE_Q4_1, 40960}, {MW_DTYPE_Q5_0, 45056},
        {MW_DTYPE_Q5_1, 49152}, {MW_DTYPE_Q8_0, 69632}, {MW_DTYPE_IQ4_NL, 36864},
        {MW_DTYPE_F16, 131072}, {MW_DTYPE_F32, 262144},
    };
    for (size_t i = 0; i < sizeof ll / sizeof ll[0]; i++) {
        o.kv_dtype = ll[i].t;
        mw_plan p = plan_of(m, &o);
        assert_int_equal(p.kv_bytes_per_token, ll[i].per_token);
        assert_int_equal(p.bytes[MW_COMP_KV_CACHE], 8192 * ll[i].per_token);
    }
    o.runtime = MW_RUNTIME_VLLM;
    o.kv_dtype = MW_DTYPE_F8_E4M3;
    assert_int_equal(plan_of(m, &o).kv_bytes_per_token, 65536);
    o.kv_dtype = MW_DTYPE_F8_E5M2;
    assert_int_equal(plan_of(m, &o).kv_bytes_per_token, 65536);
    /* vLLM: whole 16-token blocks per sequence: 3 x ceil(1000 / 16) x 16 */
    o.kv_dtype = MW_DTYPE_F16;
    o.ctx = 1000;
    o.batch = 3;
    mw_plan p = plan_of(m, &o);
    assert_int_equal(p.kv_cells, 3 * 1008);
    assert_int_equal(p.bytes[MW_COMP_KV_CACHE], 3ull * 1008 * 131072);
    mw_model_free(m);
}

/* vLLM: 90% of the memory; its overhead (non-torch 0.33-0.39 GiB, CUDA
 * graphs 0.11-1.10 GiB): low (uint64_t)(0.33 · 2^30) + (uint64_t)(0.11 ·
 * 2^30) = 354,334,801 + 118,111,600 = 472,446,401, high 418,759,311 +
 * 1,181,116,006 = 1,599,875,317; no scratch; 16-bit activations; the
 * profiling run of 8192 tokens and 1024 sequences' logits in f32. */
static void vllm_reservation(void **state)
{
    (void)state;
    mw_model *m = open_preset("llama-3-8b");
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    o.runtime = MW_RUNTIME_VLLM;
    o.ubatch = 0; /* the runtime's: max_num_batched_tokens 8192 */
    o.ctx = 4096;
    mw_plan p = plan_of(m, &o);
    assert_int_equal(p.opts.ubatch, 8192);
    assert_int_equal(p.opts.act_dtype, MW_DTYPE_BF16);
    assert_int_equal(p.bytes[MW_COMP_OVERHEAD], 472446401ull);
    assert_int_equal(p.overhead_high_bytes, 1599875317ull);
    assert_int_equal(p.bytes[MW_COMP_SCRATCH], 0);
    assert_int_equal(p.act_logits_bytes, 1024ull * 128256 * 4);
    /* the tile at T = S = 8192: 32 · 128 · 128 · 4 + 32 · 8192 · 8 */
    assert_int_equal(p.act_scores_bytes, 2097152ull + 2097152ull);
    assert_true(p.mem_share > 0.899 && p.mem_share < 0.901);
    /* a memory of exactly the total fits memwall's model, not vLLM's 90% */
    uint64_t total = p.total_bytes;
    o.mem_bytes = total;
    p = plan_of(m, &o);
    assert_false(p.fits);
    o.mem_bytes = (uint64_t)((double)total / 0.9) + 2;
    p = plan_of(m, &o);
    assert_true(p.fits);
    mw_model_free(m);
}

/* transformers: eager attention keeps the bf16 scores, a float32 softmax
 * and the cast back, 2 + 4 + 2 = 8 B a score; the prompt in one step: a
 * prompt of 1024 holds [1, 32, 1024, 1024] scores = 32 · 1024² · 8 =
 * 268,435,456 B. SDPA (the default) holds the tile: 32 · 128 · 128 · 4 +
 * 32 · 1024 · 8 = 2,359,296. */
static void hf_eager_and_sdpa(void **state)
{
    (void)state;
    mw_model *m = open_preset("llama-3-8b");
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    o.runtime = MW_RUNTIME_HF;
    o.ubatch = 0;
    o.prompt = 1024;
    o.gen = 0;
    mw_plan p = plan_of(m, &o);
    assert_int_equal(p.opts.ubatch, 1024);
    assert_int_equal(p.opts.flash_attn, MW_FLASH_ATTN_ON);
    assert_int_equal(p.act_scores_bytes, 2359296ull);
    assert_int_equal(p.bytes[MW_COMP_OVERHEAD], 610ull << 20);
    o.flash_attn = MW_FLASH_ATTN_OFF;
    p = plan_of(m, &o);
    assert_int_equal(p.act_scores_bytes, 268435456ull);
    assert_int_equal(p.kv_cells, 1024); /* DynamicCache: no padding */
    mw_model_free(m);
}

static void runtime_errors(void **state)
{
    (void)state;
    mw_model *m = open_preset("llama-3-8b");
    mw_plan_opts o;
    mw_err err = {0};
    mw_runtime r;
    assert_int_equal(mw_runtime_from_name("tensorrt", &r, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "memwall, llama.cpp, vllm, hf"));
    assert_int_equal(mw_runtime_from_name("llama.cpp", &r, &err), MW_OK);
    assert_int_equal(r, MW_RUNTIME_LLAMA_CPP);
    assert_int_equal(mw_runtime_from_name("transformers", &r, &err), MW_OK);
    assert_int_equal(r, MW_RUNTIME_HF);
    assert_string_equal(mw_runtime_name(MW_RUNTIME_VLLM), "vllm");

    mw_plan_opts_init(&o); /* a type the runtime lacks: the list it offers */
    o.runtime = MW_RUNTIME_HF;
    o.kv_dtype = MW_DTYPE_Q8_0;
    expect_error(m, &o, "offers f32, f16, bf16");
    o.runtime = MW_RUNTIME_VLLM;
    o.kv_dtype = MW_DTYPE_Q4_0;
    expect_error(m, &o, "fp8");
    o.runtime = MW_RUNTIME_MEMWALL;
    o.kv_dtype = MW_DTYPE_F8_E4M3;
    expect_error(m, &o, "offers f32, f16, bf16, q8_0");
    o.runtime = MW_RUNTIME_LLAMA_CPP; /* a quantized V cache needs flash */
    o.kv_dtype = MW_DTYPE_Q4_0;
    o.flash_attn = MW_FLASH_ATTN_OFF;
    expect_error(m, &o, "V cache quantization requires flash_attn");
    o.flash_attn = MW_FLASH_ATTN_ON;
    assert_int_equal(mw_plan_check_runtime(&o, &err), MW_OK);
    mw_plan_opts_init(&o);
    o.runtime = MW_RUNTIME_VLLM;
    o.flash_attn = MW_FLASH_ATTN_OFF;
    expect_error(m, &o, "FlashAttention, FlashInfer");
    mw_plan_opts_init(&o);
    o.training = 1;
    o.runtime = MW_RUNTIME_LLAMA_CPP;
    expect_error(m, &o, "plans inference");
    mw_plan_opts_init(&o);
    o.runtime = (mw_runtime)9;
    expect_error(m, &o, "unknown runtime");
    mw_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mistral_zero3_flash_and_unfused),
        cmocka_unit_test(llama3_prefill_flash_tiles),
        cmocka_unit_test(llama_cpp_padding_and_logits),
        cmocka_unit_test(llama_cpp_unfused_full_cache),
        cmocka_unit_test(kv_types_by_runtime),
        cmocka_unit_test(vllm_reservation),
        cmocka_unit_test(hf_eager_and_sdpa),
        cmocka_unit_test(runtime_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
