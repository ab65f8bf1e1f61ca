/*
 * quant_scheme.c - the weight formats people download, as the type (and
 * bytes) each tensor takes: llama.cpp's file types, GPTQ and AWQ int4, fp8
 * and bitsandbytes nf4. docs/PLAN.md, "Weights by the names people
 * download", has the sources; in short:
 *
 *   llama.cpp   llama-quantize's mixes (src/llama-quant.cpp,
 *               llama_tensor_get_type_impl, read 2025): the output matrix
 *               (and a tied token embedding) Q6_K unless the type is Q8_0;
 *               attn_v and ffn_down take more bits in the layers its
 *               use_more_bits(i, n) picks (i < n/8, i >= 7n/8, or every
 *               third layer between); 8-expert models keep attn_k/attn_v in
 *               Q8_0; vectors stay F32; a row that is not a whole number of
 *               blocks falls back (Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0,
 *               IQ4_XS -> IQ4_NL, Q2_K/Q3_K -> Q4_0, then F16). Re-expressed
 *               here for the tensor names memwall knows, GGUF and Hugging
 *               Face; no importance matrix is assumed (it changes only
 *               iq4_xs's first ffn_down layers).
 *   gptq/awq    per linear layer [out, in] of the decoder blocks (AutoGPTQ
 *               QuantLinear; AutoAWQ WQLinear_GEMM): qweight int32 [in/8,
 *               out] (AWQ [in, out/8]), qzeros int32 [in/g, out/8], scales
 *               fp16 [in/g, out], and for GPTQ g_idx int32 [in]; biases,
 *               embeddings, lm_head, the router and norms stay fp16.
 *   fp8         F8_E4M3 linear layers with an fp32 weight_scale and
 *               input_scale each (per-tensor static checkpoints such as
 *               neuralmagic/Meta-Llama-3-8B-Instruct-FP8); the rest BF16.
 *   nf4         bitsandbytes 4-bit NormalFloat of the decoder's linear
 *               layers with double quantization (QLoRA, arXiv:2305.14314);
 *               embeddings, lm_head and norms BF16.
 */
#include "common/error.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* llama.cpp's file types memwall models (LLAMA_FTYPE_MOSTLY_*). */
enum ftype {
    FT_Q4_0 = 1, FT_Q4_1, FT_Q5_0, FT_Q5_1, FT_Q8_0, FT_Q2_K, FT_Q2_K_S, FT_Q3_K_S, FT_Q3_K_M,
    FT_Q3_K_L, FT_Q4_K_S, FT_Q4_K_M, FT_Q5_K_S, FT_Q5_K_M, FT_Q6_K, FT_IQ4_NL, FT_IQ4_XS
};

static const struct {
    const char *name;
    enum ftype ft;
    mw_dtype base;
    const char *describe;
} llamacpp[] = {
    {"q4_0", FT_Q4_0, MW_DTYPE_Q4_0, "Q4_0; Q6_K for the output"},
    {"q4_1", FT_Q4_1, MW_DTYPE_Q4_1, "Q4_1; Q6_K for the output"},
    {"q5_0", FT_Q5_0, MW_DTYPE_Q5_0, "Q5_0; Q6_K for the output"},
    {"q5_1", FT_Q5_1, MW_DTYPE_Q5_1, "Q5_1; Q6_K for the output"},
    {"q8_0", FT_Q8_0, MW_DTYPE_Q8_0, "Q8_0 throughout"},
    {"q2_k", FT_Q2_K, MW_DTYPE_Q2_K, "Q2_K; Q3_K for ffn_down and attn_output, attn_v Q3_K (Q4_K with GQA >= 4), "
                                     "Q6_K for the output"},
    {"q2_k_s", FT_Q2_K_S, MW_DTYPE_Q2_K, "Q2_K; Q4_K for ffn_down in the first 1/8 of the layers (and attn_v "
                                         "with GQA >= 4), Q6_K for the output"},
    {"q3_k_s", FT_Q3_K_S, MW_DTYPE_Q3_K, "Q3_K; Q6_K for the output"},
    {"q3_k_m", FT_Q3_K_M, MW_DTYPE_Q3_K, "Q3_K; Q4_K for attn_output and ffn_down (Q5_K in the first 1/16), "
                                         "attn_v Q5_K in 2 layers then Q4_K, Q6_K for the output"},
    {"q3_k_l", FT_Q3_K_L, MW_DTYPE_Q3_K, "Q3_K; Q5_K for attn_v, attn_output and ffn_down, Q6_K for the output"},
    {"q4_k_s", FT_Q4_K_S, MW_DTYPE_Q4_K, "Q4_K; Q5_K for attn_v in 4 layers and ffn_down in the first 1/8, "
                                         "Q6_K for the output"},
    {"q4_k_m", FT_Q4_K_M, MW_DTYPE_Q4_K, "Q4_K; Q6_K for the output, and for attn_v and ffn_down in the layers "
                                         "llama.cpp's use_more_bits picks"},
    {"q5_k_s", FT_Q5_K_S, MW_DTYPE_Q5_K, "Q5_K; Q6_K for the output"},
    {"q5_k_m", FT_Q5_K_M, MW_DTYPE_Q5_K, "Q5_K; Q6_K for the output, and for attn_v and ffn_down in the layers "
                                         "llama.cpp's use_more_bits picks"},
    {"q6_k", FT_Q6_K, MW_DTYPE_Q6_K, "Q6_K throughout"},
    {"iq4_nl", FT_IQ4_NL, MW_DTYPE_IQ4_NL, "IQ4_NL; Q5_K for attn_v with GQA >= 4 and ffn_down in the first 1/8, "
                                           "Q6_K for the output"},
    {"iq4_xs", FT_IQ4_XS, MW_DTYPE_IQ4_XS, "IQ4_XS; Q5_K for attn_v with GQA >= 4 and ffn_down in the first 1/8 "
                                           "(no importance matrix), Q6_K for the output"},
};
#define N_LLAMACPP (sizeof llamacpp / sizeof llamacpp[0])

const char *mw_weight_scheme_names(void)
{
    return "q4_0, q4_1, q5_0, q5_1, q8_0, q2_k, q2_k_s, q3_k_s, q3_k_m, q3_k_l, q4_k_s, q4_k_m, q5_k_s, "
           "q5_k_m, q6_k, iq4_nl, iq4_xs (llama.cpp file types); gptq-int4-g32|g64|g128|g-1, "
           "awq-int4-g32|g64|g128|g-1; fp8; nf4";
}

mw_status mw_weight_scheme_parse(const char *name, mw_weight_scheme *out, mw_err *err)
{
    memset(out, 0, sizeof *out);
    out->base = MW_DTYPE_COUNT;
    MW_RETURN_IF(!name || !*name, err, MW_ERR_INVALID, "no weight format given");
    for (size_t i = 0; i < N_LLAMACPP; i++) {
        if (strcasecmp(name, llamacpp[i].name)) continue;
        out->kind = MW_SCHEME_LLAMACPP;
        out->ftype = (uint32_t)llamacpp[i].ft;
        out->base = llamacpp[i].base;
        snprintf(out->name, sizeof out->name, "%s", llamacpp[i].name);
        return MW_OK;
    }
    if (!strcasecmp(name, "fp8") || !strcasecmp(name, "fp8-e4m3")) {
        out->kind = MW_SCHEME_FP8;
        out->base = MW_DTYPE_F8_E4M3;
        snprintf(out->name, sizeof out->name, "fp8");
        return MW_OK;
    }
    if (!strcasecmp(name, "nf4")) {
        out->kind = MW_SCHEME_NF4;
        out->base = MW_DTYPE_BF16;
        snprintf(out->name, sizeof out->name, "nf4");
        return MW_OK;
    }
    int gptq = !strncasecmp(name, "gptq-int4-g", 11), awq = !strncasecmp(name, "awq-int4-g", 10);
    if (gptq || awq) {
        const char *g = name + (gptq ? 11 : 10);
        uint32_t group = 0;
        int ok = 1;
        if (!strcmp(g, "-1")) group = 0;
        else if (!strcmp(g, "32")) group = 32;
        else if (!strcmp(g, "64")) group = 64;
        else if (!strcmp(g, "128")) group = 128;
        else ok = 0;
        MW_RETURN_IF(!ok, err, MW_ERR_INVALID,
                     "%s: the group size must be 32, 64, 128 or -1 (one group per output channel), "
                     "as %s-int4-g128", name, gptq ? "gptq" : "awq");
        out->kind = gptq ? MW_SCHEME_GPTQ : MW_SCHEME_AWQ;
        out->group = group;
        out->base = MW_DTYPE_F16;
        snprintf(out->name, sizeof out->name, "%s-int4-g%s", gptq ? "gptq" : "awq", g);
        return MW_OK;
    }
    return mw_err_set(err, MW_ERR_NOT_FOUND, "unknown weight format \"%s\" (known: %s)", name,
                      mw_weight_scheme_names());
}

const char *mw_weight_scheme_describe(const mw_weight_scheme *s)
{
    switch (s->kind) {
    case MW_SCHEME_LLAMACPP:
        for (size_t i = 0; i < N_LLAMACPP; i++)
            if ((uint32_t)llamacpp[i].ft == s->ftype) return llamacpp[i].describe;
        return "?";
    case MW_SCHEME_GPTQ:
        return "int4 linear layers (qweight, qzeros, fp16 scales per group, g_idx); embeddings, lm_head, "
               "norms fp16";
    case MW_SCHEME_AWQ:
        return "int4 linear layers (qweight, qzeros, fp16 scales per group); embeddings, lm_head, norms fp16";
    case MW_SCHEME_FP8:
        return "F8_E4M3 linear layers with fp32 per-tensor scales; embeddings, lm_head, norms BF16";
    case MW_SCHEME_NF4:
        return "NF4 linear layers (absmax per 64, double-quantized); embeddings, lm_head, norms BF16";
    case MW_SCHEME_NONE: break;
    }
    return "as the type given";
}

uint64_t mw_nf4_bytes(uint64_t n)
{
    uint64_t blocks = (n + 63) / 64;                   /* one 8-bit absmax each */
    return (n + 1) / 2 + blocks + 4 * ((blocks + 255) / 256);
}

/* What a tensor is, by its name in either naming. */
enum cat {
    C_OTHER, C_TOKEN_EMBD, C_OUTPUT, C_POS_EMBD, C_ROUTER, C_ATTN_Q, C_ATTN_K, C_ATTN_V, C_ATTN_QKV,
    C_ATTN_OUT, C_FFN_UP, C_FFN_GATE, C_FFN_DOWN
};

static int has(const char *s, const char *part) { return strstr(s, part) != NULL; }

static int ends(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

static enum cat categorize(const char *n)
{
    if (!strcmp(n, "output.weight") || !strcmp(n, "lm_head.weight") || ends(n, "embed_out.weight"))
        return C_OUTPUT;
    if (!strcmp(n, "token_embd.weight") || ends(n, "embed_tokens.weight") || ends(n, "wte.weight") ||
        ends(n, "embed_in.weight") || ends(n, "word_embeddings.weight"))
        return C_TOKEN_EMBD;
    if (ends(n, "wpe.weight") || has(n, "position_embd")) return C_POS_EMBD;
    if (has(n, "ffn_gate_inp") || ends(n, "block_sparse_moe.gate.weight") || ends(n, "mlp.gate.weight"))
        return C_ROUTER;
    if (has(n, "attn_qkv.weight") || has(n, "qkv_proj.weight") || has(n, "c_attn.weight") ||
        has(n, "query_key_value.weight"))
        return C_ATTN_QKV;
    if (has(n, "attn_v.weight") || has(n, "v_proj.weight")) return C_ATTN_V;
    if (has(n, "attn_k.weight") || has(n, "k_proj.weight")) return C_ATTN_K;
    if (has(n, "attn_q.weight") || has(n, "q_proj.weight")) return C_ATTN_Q;
    if (has(n, "attn_output.weight") || has(n, "o_proj.weight") || has(n, "attn.c_proj.weight") ||
        has(n, "attention.dense.weight"))
        return C_ATTN_OUT;
    if (has(n, "ffn_down") || has(n, "down_proj") || has(n, "mlp.c_proj") || has(n, "dense_4h_to_h") ||
        ends(n, ".w2.weight"))
        return C_FFN_DOWN;
    if (has(n, "ffn_gate") || has(n, "gate_proj") || ends(n, ".w1.weight")) return C_FFN_GATE;
    if (has(n, "ffn_up") || has(n, "up_proj") || has(n, "c_fc") || has(n, "dense_h_to_4h") ||
        ends(n, ".w3.weight"))
        return C_FFN_UP;
    return C_OTHER;
}

/* The layer in "blk.N.", "layers.N." or "h.N."; -1 when none. */
static long layer_of(const char *n)
{
    static const char *const keys[] = {"blk.", "layers.", "h."};
    for (size_t k = 0; k < 3; k++) {
        for (const char *p = strstr(n, keys[k]); p; p = strstr(p + 1, keys[k])) {
            if (p != n && p[-1] != '.') continue;
            const char *d = p + strlen(keys[k]);
            if (!isdigit((unsigned char)*d)) continue;
            return strtol(d, NULL, 10);
        }
    }
    return -1;
}

static int is_linear(enum cat c) { return c >= C_ATTN_Q; }

static int use_more_bits(long i, long n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

static int is_float(mw_dtype t) { return t == MW_DTYPE_F32 || t == MW_DTYPE_F16 || t == MW_DTYPE_BF16; }

/* llama-quantize's fallback for a row that is not a whole number of blocks. */
static mw_dtype fallback(mw_dtype t, uint64_t ncols)
{
    if (ncols % mw_dtype_get(t)->block_elems == 0) return t;
    switch (t) {
    case MW_DTYPE_IQ4_XS: t = MW_DTYPE_IQ4_NL; break;
    case MW_DTYPE_Q2_K: case MW_DTYPE_Q3_K: t = MW_DTYPE_Q4_0; break;
    case MW_DTYPE_Q4_K: t = MW_DTYPE_Q5_0; break;
    case MW_DTYPE_Q5_K: t = MW_DTYPE_Q5_1; break;
    case MW_DTYPE_Q6_K: t = MW_DTYPE_Q8_0; break;
    default: break;
    }
    return ncols % mw_dtype_get(t)->block_elems == 0 ? t : MW_DTYPE_F16;
}

static int model_has_output(const mw_model *m)
{
    for (uint32_t i = 0; i < m->n_tensors; i++)
        if (categorize(m->tensors[i].name) == C_OUTPUT) return 1;
    return m->n_tensors == 0 && !m->hp.tied_embeddings;
}

/* llama_tensor_get_type_impl's choice for a quantizable tensor. */
static mw_dtype llamacpp_type(enum ftype ft, mw_dtype t, enum cat c, long i, const mw_model *m, int has_output,
                              uint64_t ncols)
{
    const mw_hparams *hp = &m->hp;
    const long n = hp->n_layers;
    const uint32_t gqa = hp->n_kv_heads ? hp->n_heads / hp->n_kv_heads : 1;
    const uint32_t experts = hp->n_experts;
    /* llama.cpp's LLM_TYPE_70B: 80 layers with grouped-query attention */
    const int is_70b = hp->n_layers == 80 && hp->n_kv_heads && hp->n_kv_heads != hp->n_heads;
    if (i < 0) i = 0;
    if (c == C_OUTPUT || (!has_output && c == C_TOKEN_EMBD)) {
        if (ncols % mw_dtype_get(t)->block_elems != 0) return MW_DTYPE_Q8_0;
        return t == MW_DTYPE_Q8_0 ? t : MW_DTYPE_Q6_K;
    }
    if (c == C_TOKEN_EMBD) return t;
    if (c == C_ATTN_V || c == C_ATTN_QKV) {
        /* a fused attn_qkv is in attn_v's category in llama.cpp (its own
         * older rule comes after, unreached) */
        if (ft == FT_Q2_K) t = gqa >= 4 ? MW_DTYPE_Q4_K : MW_DTYPE_Q3_K;
        else if (ft == FT_Q2_K_S && gqa >= 4) t = MW_DTYPE_Q4_K;
        else if (ft == FT_Q3_K_M) t = i < 2 ? MW_DTYPE_Q5_K : MW_DTYPE_Q4_K;
        else if (ft == FT_Q3_K_L) t = MW_DTYPE_Q5_K;
        else if ((ft == FT_IQ4_NL || ft == FT_IQ4_XS) && gqa >= 4) t = MW_DTYPE_Q5_K;
        else if ((ft == FT_Q4_K_M || ft == FT_Q5_K_M) && use_more_bits(i, n)) t = MW_DTYPE_Q6_K;
        else if (ft == FT_Q4_K_S && i < 4) t = MW_DTYPE_Q5_K;
        if (is_70b && (t == MW_DTYPE_Q3_K || t == MW_DTYPE_Q4_K)) t = MW_DTYPE_Q5_K;
        if (experts == 8) t = MW_DTYPE_Q8_0;
        return t;
    }
    if (c == C_ATTN_K) return experts == 8 ? MW_DTYPE_Q8_0 : t;
    if (c == C_FFN_DOWN) {
        if (ft == FT_Q2_K) t = MW_DTYPE_Q3_K;
        else if (ft == FT_Q2_K_S) { if (i < n / 8) t = MW_DTYPE_Q4_K; }
        else if (ft == FT_Q3_K_M) t = i < n / 16 ? MW_DTYPE_Q5_K : MW_DTYPE_Q4_K;
        else if (ft == FT_Q3_K_L) t = MW_DTYPE_Q5_K;
        else if (ft == FT_Q4_K_M) { if (use_more_bits(i, n)) t = MW_DTYPE_Q6_K; }
        else if (i < n / 8 && (ft == FT_IQ4_NL || ft == FT_IQ4_XS)) t = MW_DTYPE_Q5_K;
        else if (ft == FT_Q5_K_M && use_more_bits(i, n)) t = MW_DTYPE_Q6_K;
        else if (ft == FT_Q4_K_S && i < n / 8) t = MW_DTYPE_Q5_K;
        return t;
    }
    if (c == C_ATTN_OUT) {
        if (experts == 8) {
            if (ft == FT_Q2_K || ft == FT_Q3_K_S || ft == FT_Q3_K_M || ft == FT_IQ4_NL || ft == FT_Q4_K_S ||
                ft == FT_Q4_K_M || ft == FT_IQ4_XS)
                t = MW_DTYPE_Q5_K;
        } else if (ft == FT_Q2_K) t = MW_DTYPE_Q3_K;
        else if (ft == FT_Q3_K_M) t = MW_DTYPE_Q4_K;
        else if (ft == FT_Q3_K_L) t = MW_DTYPE_Q5_K;
        return t;
    }
    return t;
}

static uint64_t mul_ok(uint64_t a, uint64_t b)
{
    return a && b > UINT64_MAX / a ? MW_UNKNOWN : a * b;
}

/* GPTQ/AWQ bytes of a linear layer [out, in]: int4 weights, int4 zeros and
 * fp16 scales per group of g input rows (0: one group), GPTQ's g_idx. */
static uint64_t int4_linear_bytes(uint64_t out, uint64_t in, uint32_t g, int g_idx)
{
    uint64_t groups = g ? (in + g - 1) / g : 1;
    uint64_t w = mul_ok(in, out);
    uint64_t s = mul_ok(groups, out);
    if (w == MW_UNKNOWN || s == MW_UNKNOWN || s > UINT64_MAX / 4) return MW_UNKNOWN;
    return w / 2 + s / 2 + s * 2 + (g_idx ? in * 4 : 0);
}

/* One tensor's bytes; has_output: whether m has an output matrix (found
 * once per model: the search is over every tensor). */
static uint64_t tensor_bytes(const mw_weight_scheme *s, const mw_model *m, int has_output, const char *name,
                             uint32_t n_dims, const uint64_t *shape, mw_dtype stored, mw_dtype *type)
{
    uint64_t n = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
        n = mul_ok(n, shape[d]);
        if (n == MW_UNKNOWN) return MW_UNKNOWN;
    }
    const uint64_t ncols = n_dims ? shape[n_dims - 1] : 1;
    const enum cat c = categorize(name ? name : "");
    mw_dtype t;
    switch (s->kind) {
    case MW_SCHEME_LLAMACPP: {
        /* llama-quantize quantizes matrices named *weight, not norms, the
         * router or position embeddings; vectors are F32 in its files */
        int quantize = n_dims >= 2 && name && ends(name, "weight") && !has(name, "_norm.weight") &&
                       !has(name, "layernorm") && c != C_ROUTER && c != C_POS_EMBD;
        if (!quantize) t = n_dims < 2 ? MW_DTYPE_F32 : is_float(stored) ? stored : MW_DTYPE_F16;
        else t = fallback(llamacpp_type((enum ftype)s->ftype, s->base, c, layer_of(name), m,
                                        has_output, ncols), ncols);
        if (type) *type = t;
        return mw_dtype_bytes(t, n);
    }
    case MW_SCHEME_GPTQ:
    case MW_SCHEME_AWQ:
        if (is_linear(c) && n_dims == 2 && shape[0] % 8 == 0 && shape[1] % 8 == 0) {
            if (type) *type = MW_DTYPE_COUNT;     /* int4 in int32 words: no one type */
            return int4_linear_bytes(shape[0], shape[1], s->group, s->kind == MW_SCHEME_GPTQ);
        }
        if (is_linear(c) && n_dims == 3 && shape[1] % 8 == 0 && shape[2] % 8 == 0) {
            uint64_t one = int4_linear_bytes(shape[1], shape[2], s->group, s->kind == MW_SCHEME_GPTQ);
            if (type) *type = MW_DTYPE_COUNT;
            return one == MW_UNKNOWN ? MW_UNKNOWN : mul_ok(shape[0], one);
        }
        t = MW_DTYPE_F16;
        break;
    case MW_SCHEME_FP8:
        if (is_linear(c) && n_dims >= 2) {
            if (type) *type = MW_DTYPE_F8_E4M3;
            return n + 8;                         /* weight_scale, input_scale: fp32 */
        }
        t = MW_DTYPE_BF16;
        break;
    case MW_SCHEME_NF4:
        if (is_linear(c) && n_dims >= 2) {
            if (type) *type = MW_DTYPE_COUNT;
            return mw_nf4_bytes(n);
        }
        t = MW_DTYPE_BF16;
        break;
    default:
        t = stored;
        break;
    }
    if (type) *type = t;
    return mw_dtype_bytes(t, n);
}

uint64_t mw_weight_scheme_tensor_bytes(const mw_weight_scheme *s, const mw_model *m, const char *name,
                                       uint32_t n_dims, const uint64_t *shape, mw_dtype stored, mw_dtype *type)
{
    return tensor_bytes(s, m, model_has_output(m), name, n_dims, shape, stored, type);
}

/* Paging (issue #15, src/plan/budget.c): each tensor's bytes in the
 * scheme into bytes[n_tensors], the model's facts found once (linear in the
 * tensor count, as mw_weight_scheme_model_bytes). @return 0, or -1 with
 * *bad the index of a tensor whose size overflows. */
int mw_weight_scheme_each_tensor_bytes(const mw_weight_scheme *s, const mw_model *m, uint64_t *bytes,
                                       uint32_t *bad)
{
    const int has_output = model_has_output(m);
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        const mw_tensor_info *t = &m->tensors[i];
        bytes[i] = tensor_bytes(s, m, has_output, t->name, t->n_dims, t->shape, t->dtype, NULL);
        if (bytes[i] == MW_UNKNOWN) {
            *bad = i;
            return -1;
        }
    }
    return 0;
}

mw_status mw_weight_scheme_model_bytes(const mw_weight_scheme *s, const mw_model *m, uint64_t *bytes, mw_err *err)
{
    MW_RETURN_IF(m->n_tensors == 0, err, MW_ERR_INVALID, "the model lists no tensors to convert to %s", s->name);
    const int has_output = model_has_output(m);
    uint64_t total = 0;
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        const mw_tensor_info *t = &m->tensors[i];
        uint64_t b = tensor_bytes(s, m, has_output, t->name, t->n_dims, t->shape, t->dtype, NULL);
        MW_RETURN_IF(b == MW_UNKNOWN || total + b < total, err, MW_ERR_INVALID,
                     "tensor %s: its size in %s overflows 64 bits", t->name, s->name);
        total += b;
    }
    *bytes = total;
    return MW_OK;
}

/* ---- convert (issue #14): the per-tensor type decision ------------------- */

mw_dtype mw_weight_scheme_tensor_type(const mw_weight_scheme *s, const mw_model *m, const char *name,
                                      uint32_t n_dims, const uint64_t *shape, mw_dtype stored)
{
    mw_dtype t = MW_DTYPE_COUNT;
    tensor_bytes(s, m, model_has_output(m), name, n_dims, shape, stored, &t);
    return t;
}
