/* test_quant_scheme.c - the formats people download (--dtype q4_k_m,
 * gptq-int4-g128, fp8, nf4): exact bytes of a tiny model worked out by
 * hand, the same for GGUF and Hugging Face tensor names, and Llama-3-8B
 * against the published file sizes (docs/PLAN.md, "Weights by the names
 * people download"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"
#include "format/model_build.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* 8 layers, width 256, 4 heads of 64 and 1 KV head (GQA 4), gated FFN 512,
 * vocabulary 1000, an untied output; GGUF names (hf 0) or Hugging Face's. */
static mw_model *tiny(int hf)
{
    mw_model *m = mw_model_alloc(MW_SOURCE_GGUF, "tiny");
    assert_non_null(m);
    m->has_hparams = 1;
    strcpy(m->hp.arch, "llama");
    m->hp.n_layers = 8;
    m->hp.n_embd = 256;
    m->hp.n_heads = 4;
    m->hp.n_kv_heads = 1;
    m->hp.head_dim = 64;
    m->hp.n_ff = 512;
    m->hp.n_vocab = 1000;
    m->hp.gated_ffn = 1;
    mw_err err;
    const mw_dtype f = hf ? MW_DTYPE_BF16 : MW_DTYPE_F16;
    const mw_dtype v = hf ? MW_DTYPE_BF16 : MW_DTYPE_F32;
    char name[96];
#define ADD(type, nd, a, b, ...)                                                                  \
    do {                                                                                          \
        uint64_t shape[2] = {a, b};                                                               \
        snprintf(name, sizeof name, __VA_ARGS__);                                                 \
        assert_int_equal(mw_model_add_tensor(m, name, type, nd, shape, 0, 0, &err), MW_OK);       \
    } while (0)
    ADD(f, 2, 1000, 256, "%s", hf ? "model.embed_tokens.weight" : "token_embd.weight");
    for (unsigned i = 0; i < 8; i++) {
        ADD(v, 1, 256, 0, hf ? "model.layers.%u.input_layernorm.weight" : "blk.%u.attn_norm.weight", i);
        ADD(f, 2, 256, 256, hf ? "model.layers.%u.self_attn.q_proj.weight" : "blk.%u.attn_q.weight", i);
        ADD(f, 2, 64, 256, hf ? "model.layers.%u.self_attn.k_proj.weight" : "blk.%u.attn_k.weight", i);
        ADD(f, 2, 64, 256, hf ? "model.layers.%u.self_attn.v_proj.weight" : "blk.%u.attn_v.weight", i);
        ADD(f, 2, 256, 256, hf ? "model.layers.%u.self_attn.o_proj.weight" : "blk.%u.attn_output.weight", i);
        ADD(v, 1, 256, 0, hf ? "model.layers.%u.post_attention_layernorm.weight" : "blk.%u.ffn_norm.weight", i);
        ADD(f, 2, 512, 256, hf ? "model.layers.%u.mlp.gate_proj.weight" : "blk.%u.ffn_gate.weight", i);
        ADD(f, 2, 512, 256, hf ? "model.layers.%u.mlp.up_proj.weight" : "blk.%u.ffn_up.weight", i);
        ADD(f, 2, 256, 512, hf ? "model.layers.%u.mlp.down_proj.weight" : "blk.%u.ffn_down.weight", i);
    }
    ADD(v, 1, 256, 0, "%s", hf ? "model.norm.weight" : "output_norm.weight");
    ADD(f, 2, 1000, 256, "%s", hf ? "lm_head.weight" : "output.weight");
#undef ADD
    mw_model_finish(m);
    return m;
}

static uint64_t weights(const mw_model *m, const char *scheme)
{
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    mw_err err = {0};
    assert_int_equal(mw_weight_scheme_parse(scheme, &o.weight_scheme, &err), MW_OK);
    o.weight_dtype = o.weight_scheme.base;
    mw_plan p;
    mw_status st = mw_plan_compute(m, &o, &p, &err);
    if (st != MW_OK) print_error("%s\n", err.msg);
    assert_int_equal(st, MW_OK);
    return p.bytes[MW_COMP_WEIGHTS];
}

/* Q4_K_M by hand. Q4_K is 144 bytes a 256, Q6_K 210. llama.cpp's
 * use_more_bits(i, 8) picks layers 0 (i < 1), 7 (i >= 7), 3 and 6
 * ((i - 1) % 3 == 2): attn_v and ffn_down in Q6_K there.
 *   a layer: q 65536 -> 36864, k 9216, v 9216 (Q6_K 13440), o 36864,
 *            gate 73728, up 73728, down 73728 (Q6_K 107520), two F32
 *            norms 2048: 315392, or 353408 with more bits
 *   4 x 315392 + 4 x 353408 = 2675200
 *   token_embd Q4_K 144000, output Q6_K 210000, output_norm F32 1024
 *   = 3030224 */
static void q4_k_m_by_hand(void **state)
{
    (void)state;
    for (int hf = 0; hf < 2; hf++) {
        mw_model *m = tiny(hf);
        assert_int_equal(weights(m, "q4_k_m"), 3030224);
        /* the type each tensor takes, named both ways */
        mw_weight_scheme s;
        assert_int_equal(mw_weight_scheme_parse("Q4_K_M", &s, NULL), MW_OK);
        mw_dtype t;
        const uint64_t v[2] = {64, 256};
        mw_weight_scheme_tensor_bytes(&s, m, hf ? "model.layers.3.self_attn.v_proj.weight" : "blk.3.attn_v.weight",
                                      2, v, MW_DTYPE_F16, &t);
        assert_int_equal(t, MW_DTYPE_Q6_K);
        mw_weight_scheme_tensor_bytes(&s, m, hf ? "model.layers.4.self_attn.v_proj.weight" : "blk.4.attn_v.weight",
                                      2, v, MW_DTYPE_F16, &t);
        assert_int_equal(t, MW_DTYPE_Q4_K);
        mw_model_free(m);
    }
}

/* GPTQ int4, groups of 128, per linear [out, in]: qweight in*out/2,
 * qzeros groups*out/2, scales groups*out*2, g_idx in*4.
 *   q [256,256]: 32768 + 256 + 1024 + 1024 = 35072 (o the same)
 *   k, v [64,256]: 8192 + 64 + 256 + 1024 = 9536
 *   gate, up [512,256]: 65536 + 512 + 2048 + 1024 = 69120
 *   down [256,512] (4 groups): 65536 + 512 + 2048 + 2048 = 70144
 *   a layer: 297600 + fp16 norms 1024 = 298624; x 8 = 2388992
 *   embedding and output fp16 2 x 512000, final norm 512: 3413504
 * AWQ stores no g_idx: 6 x 1024 + 2048 = 8192 less a layer: 3347968. */
static void gptq_awq_by_hand(void **state)
{
    (void)state;
    for (int hf = 0; hf < 2; hf++) {
        mw_model *m = tiny(hf);
        assert_int_equal(weights(m, "gptq-int4-g128"), 3413504);
        assert_int_equal(weights(m, "awq-int4-g128"), 3347968);
        /* one group per output channel: q 32768 + 128 + 512 + 1024 = 34432 */
        mw_weight_scheme s;
        assert_int_equal(mw_weight_scheme_parse("gptq-int4-g-1", &s, NULL), MW_OK);
        const uint64_t q[2] = {256, 256};
        assert_int_equal(mw_weight_scheme_tensor_bytes(&s, m, "blk.0.attn_q.weight", 2, q, MW_DTYPE_F16, NULL),
                         34432);
        mw_model_free(m);
    }
}

/* fp8: the linear layers' 557056 elements a layer at 1 byte, with 7 x 8
 * bytes of fp32 scales, and bf16 norms 1024: 558136; x 8 = 4465088;
 * embedding and output bf16 1024000, final norm 512: 5489600.
 * nf4: a tensor of n is n/2 + n/64 + 4 per 256 blocks of 64:
 *   q, o 65536: 32768 + 1024 + 16 = 33808; k, v 16384: 8192 + 256 + 4 =
 *   8452; gate, up, down 131072: 65536 + 2048 + 32 = 67616
 *   a layer 287368 + norms 1024 = 288392; x 8 = 2307136; + 1024512
 *   = 3331648 */
static void fp8_nf4_by_hand(void **state)
{
    (void)state;
    for (int hf = 0; hf < 2; hf++) {
        mw_model *m = tiny(hf);
        assert_int_equal(weights(m, "fp8"), 5489600);
        assert_int_equal(weights(m, "nf4"), 3331648);
        mw_model_free(m);
    }
    /* QLoRA's 4 + 8/64 + 32/(64*256) bits a parameter, exactly for 2^20 */
    assert_int_equal(mw_nf4_bytes(1u << 20), (1u << 19) + (1u << 14) + 4 * 64);
    assert_int_equal(mw_nf4_bytes(1), 1 + 1 + 4);
}

/* Rows that are not whole blocks fall back as llama-quantize does: Q4_K
 * -> Q5_0 (32), and to F16 when not even that divides; the output
 * (Q6_K) to Q8_0. */
static void fallbacks(void **state)
{
    (void)state;
    mw_model *m = tiny(0);
    mw_weight_scheme s;
    assert_int_equal(mw_weight_scheme_parse("q4_k_m", &s, NULL), MW_OK);
    mw_dtype t;
    const uint64_t odd[2] = {64, 96}, odder[2] = {64, 20};
    assert_int_equal(mw_weight_scheme_tensor_bytes(&s, m, "blk.1.attn_q.weight", 2, odd, MW_DTYPE_F16, &t),
                     64 * 3 * 22);
    assert_int_equal(t, MW_DTYPE_Q5_0);
    assert_int_equal(mw_weight_scheme_tensor_bytes(&s, m, "blk.1.attn_q.weight", 2, odder, MW_DTYPE_F16, &t),
                     64 * 20 * 2);
    assert_int_equal(t, MW_DTYPE_F16);
    assert_int_equal(mw_weight_scheme_tensor_bytes(&s, m, "output.weight", 2, odd, MW_DTYPE_F16, &t), 64 * 3 * 34);
    assert_int_equal(t, MW_DTYPE_Q8_0);
    /* vectors stay F32, the MoE router is not quantized */
    const uint64_t vec[1] = {256}, router[2] = {8, 256};
    assert_int_equal(mw_weight_scheme_tensor_bytes(&s, m, "blk.0.attn_norm.weight", 1, vec, MW_DTYPE_F16, &t),
                     1024);
    assert_int_equal(mw_weight_scheme_tensor_bytes(&s, m, "blk.0.ffn_gate_inp.weight", 2, router, MW_DTYPE_F16, &t),
                     8 * 256 * 2);
    /* an 8-expert model keeps attn_v in Q8_0 (llama.cpp's Mixtral rule) */
    m->hp.n_experts = 8;
    const uint64_t v[2] = {64, 256};
    mw_weight_scheme_tensor_bytes(&s, m, "blk.4.attn_v.weight", 2, v, MW_DTYPE_F16, &t);
    assert_int_equal(t, MW_DTYPE_Q8_0);
    mw_model_free(m);
}

static void names(void **state)
{
    (void)state;
    mw_weight_scheme s;
    mw_err err = {0};
    assert_int_equal(mw_weight_scheme_parse("q4_k_m", &s, &err), MW_OK);
    assert_int_equal(s.kind, MW_SCHEME_LLAMACPP);
    assert_int_equal(s.base, MW_DTYPE_Q4_K);
    assert_int_equal(mw_weight_scheme_parse("AWQ-INT4-G64", &s, &err), MW_OK);
    assert_int_equal(s.kind, MW_SCHEME_AWQ);
    assert_int_equal(s.group, 64);
    assert_string_equal(s.name, "awq-int4-g64");
    assert_int_equal(mw_weight_scheme_parse("gptq-int4-g96", &s, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "32, 64, 128 or -1"));
    /* a plain type is no scheme; an unknown name lists the known ones */
    assert_int_equal(mw_weight_scheme_parse("f16", &s, &err), MW_ERR_NOT_FOUND);
    assert_int_equal(mw_weight_scheme_parse("q4_k_xl", &s, &err), MW_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, "q4_k_m"));
    assert_non_null(strstr(err.msg, "gptq-int4"));
    assert_non_null(strstr(err.msg, "nf4"));
    assert_int_equal(s.kind, MW_SCHEME_NONE);
}

/* Llama-3-8B (the preset's config.json, Hugging Face tensor names) against
 * the published files of its conversions (GB = 1e9 bytes, as the Hub shows
 * them; a GGUF also holds ~8 MB of metadata, its vocabulary):
 *   second-state/Llama-3-8B-Instruct-GGUF and
 *   MaziyarPanahi/Meta-Llama-3-8B-Instruct-GGUF: Q4_K_M 4.92 GB, Q4_K_S 4.69,
 *   Q5_K_M 5.73, Q6_K 6.6, Q8_0 8.54, Q3_K_M 4.02
 *   hugging-quants/Meta-Llama-3.1-8B-Instruct-GPTQ-INT4 (the same shapes):
 *   4.97 GB + 764 MB */
static void llama3_8b_published(void **state)
{
    (void)state;
    mw_model *m = NULL;
    mw_err err = {0};
    assert_int_equal(mw_model_open("llama-3-8b", &m, &err), MW_OK);
    static const struct { const char *scheme; double gb; } pub[] = {
        {"q4_k_m", 4.92}, {"q4_k_s", 4.69}, {"q5_k_m", 5.73}, {"q6_k", 6.6}, {"q8_0", 8.54},
        {"q3_k_m", 4.02}, {"gptq-int4-g128", 4.97 + 0.764},
    };
    for (size_t i = 0; i < sizeof pub / sizeof pub[0]; i++) {
        double got = (double)weights(m, pub[i].scheme) / 1e9;
        double off = fabs(got - pub[i].gb) / pub[i].gb;
        if (off >= 0.01) print_error("%s: %.4f GB, published %.2f GB\n", pub[i].scheme, got, pub[i].gb);
        assert_true(off < 0.01);
    }
    /* Q4_K_M exactly: 4,912,898,048 bytes of tensors, 0.15% under 4.92 GB */
    assert_int_equal(weights(m, "q4_k_m"), 4912898048ull);
    mw_model_free(m);
}

/* Llama-3-70B (80 layers, GQA 8: llama.cpp's 70B rule moves attn_v to
 * Q5_K) against mradermacher/Meta-Llama-3-70B-GGUF: Q2_K 26.4 GB, Q3_K_S
 * 30.9, Q3_K_M 34.3, Q3_K_L 37.1, Q4_K_S 40.3, Q4_K_M 42.5, Q5_K_M 49.9,
 * Q6_K 29 + 28.9 (two parts) */
static void llama3_70b_published(void **state)
{
    (void)state;
    mw_model *m = NULL;
    mw_err err = {0};
    assert_int_equal(mw_model_open("llama-3-70b", &m, &err), MW_OK);
    static const struct { const char *scheme; double gb; } pub[] = {
        {"q2_k", 26.4}, {"q3_k_s", 30.9}, {"q3_k_m", 34.3}, {"q3_k_l", 37.1},
        {"q4_k_s", 40.3}, {"q4_k_m", 42.5}, {"q5_k_m", 49.9}, {"q6_k", 29 + 28.9},
    };
    for (size_t i = 0; i < sizeof pub / sizeof pub[0]; i++) {
        double got = (double)weights(m, pub[i].scheme) / 1e9;
        double off = fabs(got - pub[i].gb) / pub[i].gb;
        if (off >= 0.005) print_error("%s: %.4f GB, published %.1f GB\n", pub[i].scheme, got, pub[i].gb);
        assert_true(off < 0.005);
    }
    mw_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(q4_k_m_by_hand),   cmocka_unit_test(gptq_awq_by_hand),
        cmocka_unit_test(fp8_nf4_by_hand),  cmocka_unit_test(fallbacks),
        cmocka_unit_test(names),            cmocka_unit_test(llama3_8b_published),
        cmocka_unit_test(llama3_70b_published),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
