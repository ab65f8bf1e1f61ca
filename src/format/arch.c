/*
 * arch.c - the tensors an architecture implies, with the names and shapes
 * its Hugging Face checkpoints use (the state_dict of the *ForCausalLM /
 * *LMHeadModel class, which is what save_pretrained writes).
 *
 * Shapes are PyTorch's: nn.Linear stores [out_features, in_features];
 * GPT-2's Conv1D stores [in, out]. Rows (the last, contiguous dimension)
 * must be whole blocks of a quantized type, as ggml requires.
 *
 * Two families:
 *
 *   llama, mistral, qwen2, gemma, phi3, mixtral (RMSNorm, rotary, gated MLP)
 *     model.embed_tokens.weight                         [v, h]
 *     model.layers.N.self_attn.{q,k,v}_proj.weight      [a*d | a_kv*d, h]
 *       phi3 fuses them: self_attn.qkv_proj.weight      [(a + 2*a_kv)*d, h]
 *     model.layers.N.self_attn.o_proj.weight            [h, a*d]
 *     model.layers.N.mlp.{gate,up}_proj.weight          [f, h]
 *       phi3 fuses them: mlp.gate_up_proj.weight        [2*f, h]
 *     model.layers.N.mlp.down_proj.weight               [h, f]
 *       mixtral: block_sparse_moe.gate.weight           [E, h]
 *                block_sparse_moe.experts.E.w1/w3       [f, h], w2 [h, f]
 *     model.layers.N.{input,post_attention}_layernorm.weight  [h]
 *     model.norm.weight [h]; lm_head.weight [v, h] unless tied (gemma ties)
 *
 *     Biases follow transformers: qwen2 has them on q, k, v only (o never);
 *     llama, mistral, gemma, phi3 and mixtral put attention_bias on q, k, v
 *     and o (hp->attn_bias), and llama's mlp_bias on gate, up, down
 *     (hp->mlp_bias). Phi3's fused qkv_proj gets one fused bias.
 *
 *   gpt2 (LayerNorm, learned positions, Conv1D with biases everywhere)
 *     transformer.wte.weight [v, h], transformer.wpe.weight [n_ctx, h]
 *     transformer.h.N.ln_1.{weight,bias} [h], ln_2 likewise
 *     transformer.h.N.attn.c_attn.weight [h, 3h] + bias [3h]
 *     transformer.h.N.attn.c_proj.weight [h, h] + bias [h]
 *     transformer.h.N.mlp.c_fc.weight [h, f] + bias [f]
 *     transformer.h.N.mlp.c_proj.weight [f, h] + bias [h]
 *     transformer.ln_f.{weight,bias}; lm_head tied unless said otherwise
 *     (openai-community/gpt2 itself stores the names without "transformer.")
 *
 *   gpt_neox (LayerNorm with biases, rotary, plain MLP with biases)
 *     gpt_neox.embed_in.weight [v, h]
 *     gpt_neox.layers.N.{input,post_attention}_layernorm.{weight,bias} [h]
 *     gpt_neox.layers.N.attention.query_key_value.weight [3h, h] (+ bias)
 *     gpt_neox.layers.N.attention.dense.weight [h, h] (+ bias)
 *       (attention biases when hp->attn_bias: config attention_bias)
 *     gpt_neox.layers.N.mlp.dense_h_to_4h.weight [f, h] + bias [f]
 *     gpt_neox.layers.N.mlp.dense_4h_to_h.weight [h, f] + bias [h]
 *     gpt_neox.final_layer_norm.{weight,bias}; embed_out.weight [v, h]
 *
 *   qwen2_moe, qwen3_moe (the llama family's attention; qwen3_moe adds
 *   self_attn.{q,k}_norm.weight [d]); a MoE layer's MLP is
 *     model.layers.N.mlp.gate.weight                    [E, h]
 *     model.layers.N.mlp.experts.E.{gate,up}_proj.weight [f_e, h], down [h, f_e]
 *     qwen2_moe: mlp.shared_expert.{gate,up,down}_proj  [f_s, h] / [h, f_s]
 *                mlp.shared_expert_gate.weight          [1, h]
 *     and a dense layer's (mlp_only_layers, decoder_sparse_step) the
 *     llama MLP of intermediate_size.
 *
 *   deepseek_v2, deepseek_v3 (MLA: multi-head latent attention)
 *     self_attn.q_a_proj.weight [q_r, h], q_a_layernorm [q_r],
 *       q_b_proj [a*(d_nope + d_rope), q_r]; or q_proj [a*(d_nope + d_rope), h]
 *       when q_lora_rank is null (V2-Lite)
 *     self_attn.kv_a_proj_with_mqa.weight [kv_r + d_rope, h],
 *       kv_a_layernorm [kv_r], kv_b_proj [a*(d_nope + d_v), kv_r]
 *     self_attn.o_proj.weight [h, a*d_v]
 *     the first first_k_dense_replace layers (and those off moe_layer_freq)
 *     have the llama MLP of intermediate_size; the others
 *     mlp.gate.weight [E, h] (V3: + mlp.gate.e_score_correction_bias [E]),
 *     mlp.experts.E.{gate,up,down}_proj, mlp.shared_experts.{gate,up,down}_proj
 *     of n_shared_experts x moe_intermediate_size.
 *     V3's multi-token-prediction layer (num_nextn_predict_layers, stored
 *     as model.layers.61) is not listed: counts are the main model's, as
 *     DeepSeek's own "671B" is (README_WEIGHTS.md: 671B main + 14B MTP).
 *
 *   qwen3, gemma2, gemma3 (issue #13): the llama layout, plus
 *     model.layers.N.self_attn.{q,k}_norm.weight        [d]  (qwen3, gemma3:
 *       one RMSNorm weight over the head dimension, shared by the heads)
 *     model.layers.N.{pre,post}_feedforward_layernorm.weight  [h]  (gemma2,
 *       gemma3: the MLP is wrapped in norms as attention is)
 *     gemma3 (Gemma3ForConditionalGeneration) names its language model
 *     language_model.model.*; its vision tower (vision_tower.*) and
 *     multi_modal_projector.* are not listed: the counts are the language
 *     model's. gemma2 and gemma3 tie the output to the embedding.
 *
 * Buffers that are not parameters (GPT-2's causal-mask attn.bias, NeoX's
 * rotary inv_freq) are left out: published parameter counts leave them out.
 */
#include "format/arch.h"
#include "format/model_build.h"
#include "common/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* A model with more tensors than this is not a config memwall believes
 * (the largest real ones have tens of thousands: 61 layers x 256 experts). */
#define ARCH_MAX_TENSORS (1u << 20)

static const char *const arch_names[] = {
    "llama", "mistral", "qwen2", "gemma", "phi3", "gpt2", "gpt_neox", "mixtral",
    /* MoE and MLA (issue #13) */
    "qwen2_moe", "qwen3_moe", "deepseek_v2", "deepseek_v3",
    /* issue #13, dense: */
    "qwen3", "gemma2", "gemma3", "gemma3_text",
};

int mw_arch_supported(const char *arch)
{
    if (!arch) return 0;
    for (size_t i = 0; i < MW_ARRAY_LEN(arch_names); i++)
        if (!strcmp(arch, arch_names[i])) return 1;
    return 0;
}

const char *mw_arch_list(void)
{
    return "llama, mistral, qwen2, gemma, phi3, gpt2, gpt_neox, mixtral, qwen2_moe, qwen3_moe, "
           "deepseek_v2, deepseek_v3, qwen3, gemma2, gemma3, gemma3_text";
}

/* What every add needs; sums are checked as they grow, because
 * mw_model_finish adds without checking. */
typedef struct builder {
    mw_model *m;
    mw_err *err;
    mw_dtype mat;           /* 2-D tensors                              */
    mw_dtype vec;           /* 1-D tensors (norms, biases)              */
    uint64_t params;
    uint64_t bytes;
    const char *prefix;     /* before every name (gemma3: "language_model.") */
} builder;

static mw_status add(builder *b, mw_dtype dtype, uint32_t n_dims, uint64_t rows, uint64_t cols,
                     const char *fmt, ...) MW_PRINTF(6, 7);

/* Adds one tensor named by fmt: [rows] when n_dims is 1, else [rows, cols]. */
static mw_status add(builder *b, mw_dtype dtype, uint32_t n_dims, uint64_t rows, uint64_t cols,
                     const char *fmt, ...)
{
    char name[176]; /* longest: model.layers.<u32>.block_sparse_moe.experts.<u32>.w1.weight */
    size_t pre = b->prefix ? (size_t)snprintf(name, sizeof name, "%s", b->prefix) : 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name + pre, sizeof name - pre, fmt, ap);
    va_end(ap);

    const mw_dtype_info *info = mw_dtype_get(dtype);
    uint64_t row = n_dims == 1 ? rows : cols;
    MW_RETURN_IF(row % info->block_elems != 0, b->err, MW_ERR_INVALID,
                 "tensor %s: rows of %llu elements are not a whole number of %s blocks (%u "
                 "elements); pick a type whose block divides %llu",
                 name, (unsigned long long)row, info->name, info->block_elems,
                 (unsigned long long)row);
    uint64_t shape[2] = {rows, cols};
    MW_FORWARD(mw_model_add_tensor(b->m, name, dtype, n_dims, shape, 0, 0, b->err));
    const mw_tensor_info *t = &b->m->tensors[b->m->n_tensors - 1];
    MW_RETURN_IF(b->params > UINT64_MAX - t->n_elems || b->bytes > UINT64_MAX - t->bytes,
                 b->err, MW_ERR_INVALID, "tensor %s: the model's size overflows 64 bits", name);
    b->params += t->n_elems;
    b->bytes += t->bytes;
    return MW_OK;
}

#define MAT(b, r, c, ...) MW_FORWARD(add((b), (b)->mat, 2, (r), (c), __VA_ARGS__))
#define VEC(b, n, ...)    MW_FORWARD(add((b), (b)->vec, 1, (n), 0, __VA_ARGS__))

/* The per-layer tensors qwen3, gemma2 and gemma3 add (issue #13). */
static mw_status add_dense_extras(builder *b, const mw_hparams *hp, uint32_t i)
{
    if (hp->qk_norm) {
        VEC(b, hp->head_dim, "model.layers.%u.self_attn.q_norm.weight", i);
        VEC(b, hp->head_dim, "model.layers.%u.self_attn.k_norm.weight", i);
    }
    if (hp->ffn_norms) {
        VEC(b, hp->n_embd, "model.layers.%u.pre_feedforward_layernorm.weight", i);
        VEC(b, hp->n_embd, "model.layers.%u.post_feedforward_layernorm.weight", i);
    }
    return MW_OK;
}

static mw_status add_llama_family(builder *b, const mw_hparams *hp)
{
    const uint64_t h = hp->n_embd, v = hp->n_vocab, f = hp->n_ff;
    const uint64_t q = (uint64_t)hp->n_heads * hp->head_dim;   /* < 2^64: u32 x u32 */
    const uint64_t kv = (uint64_t)hp->n_kv_heads * hp->head_dim;
    const int qwen2 = !strcmp(hp->arch, "qwen2");
    const int phi3 = !strcmp(hp->arch, "phi3");
    const int moe = !strcmp(hp->arch, "mixtral");
    const int qkv_bias = hp->attn_bias;
    const int o_bias = hp->attn_bias && !qwen2;

    MAT(b, v, h, "model.embed_tokens.weight");
    for (uint32_t i = 0; i < hp->n_layers; i++) {
        if (phi3) {
            MW_RETURN_IF(q > UINT64_MAX - 2 * kv, b->err, MW_ERR_INVALID,
                         "layer %u: qkv_proj's size overflows 64 bits", i);
            MAT(b, q + 2 * kv, h, "model.layers.%u.self_attn.qkv_proj.weight", i);
            if (qkv_bias) VEC(b, q + 2 * kv, "model.layers.%u.self_attn.qkv_proj.bias", i);
        } else {
            MAT(b, q, h, "model.layers.%u.self_attn.q_proj.weight", i);
            if (qkv_bias) VEC(b, q, "model.layers.%u.self_attn.q_proj.bias", i);
            MAT(b, kv, h, "model.layers.%u.self_attn.k_proj.weight", i);
            if (qkv_bias) VEC(b, kv, "model.layers.%u.self_attn.k_proj.bias", i);
            MAT(b, kv, h, "model.layers.%u.self_attn.v_proj.weight", i);
            if (qkv_bias) VEC(b, kv, "model.layers.%u.self_attn.v_proj.bias", i);
        }
        MAT(b, h, q, "model.layers.%u.self_attn.o_proj.weight", i);
        if (o_bias) VEC(b, h, "model.layers.%u.self_attn.o_proj.bias", i);
        if (moe) {
            MAT(b, hp->n_experts, h, "model.layers.%u.block_sparse_moe.gate.weight", i);
            for (uint32_t e = 0; e < hp->n_experts; e++) {
                MAT(b, f, h, "model.layers.%u.block_sparse_moe.experts.%u.w1.weight", i, e);
                MAT(b, h, f, "model.layers.%u.block_sparse_moe.experts.%u.w2.weight", i, e);
                MAT(b, f, h, "model.layers.%u.block_sparse_moe.experts.%u.w3.weight", i, e);
            }
        } else if (phi3) {
            MAT(b, 2 * f, h, "model.layers.%u.mlp.gate_up_proj.weight", i);
            if (hp->mlp_bias) VEC(b, 2 * f, "model.layers.%u.mlp.gate_up_proj.bias", i);
            MAT(b, h, f, "model.layers.%u.mlp.down_proj.weight", i);
            if (hp->mlp_bias) VEC(b, h, "model.layers.%u.mlp.down_proj.bias", i);
        } else {
            MAT(b, f, h, "model.layers.%u.mlp.gate_proj.weight", i);
            if (hp->mlp_bias) VEC(b, f, "model.layers.%u.mlp.gate_proj.bias", i);
            MAT(b, f, h, "model.layers.%u.mlp.up_proj.weight", i);
            if (hp->mlp_bias) VEC(b, f, "model.layers.%u.mlp.up_proj.bias", i);
            MAT(b, h, f, "model.layers.%u.mlp.down_proj.weight", i);
            if (hp->mlp_bias) VEC(b, h, "model.layers.%u.mlp.down_proj.bias", i);
        }
        VEC(b, h, "model.layers.%u.input_layernorm.weight", i);
        VEC(b, h, "model.layers.%u.post_attention_layernorm.weight", i);
        MW_FORWARD(add_dense_extras(b, hp, i));
    }
    VEC(b, h, "model.norm.weight");
    if (!hp->tied_embeddings) MAT(b, v, h, "lm_head.weight");
    return MW_OK;
}

static mw_status add_gpt2(builder *b, const mw_hparams *hp)
{
    const uint64_t h = hp->n_embd, v = hp->n_vocab, f = hp->n_ff;
    MAT(b, v, h, "transformer.wte.weight");
    MAT(b, hp->n_ctx_train, h, "transformer.wpe.weight");
    for (uint32_t i = 0; i < hp->n_layers; i++) {
        VEC(b, h, "transformer.h.%u.ln_1.weight", i);
        VEC(b, h, "transformer.h.%u.ln_1.bias", i);
        MAT(b, h, 3 * h, "transformer.h.%u.attn.c_attn.weight", i);
        VEC(b, 3 * h, "transformer.h.%u.attn.c_attn.bias", i);
        MAT(b, h, h, "transformer.h.%u.attn.c_proj.weight", i);
        VEC(b, h, "transformer.h.%u.attn.c_proj.bias", i);
        VEC(b, h, "transformer.h.%u.ln_2.weight", i);
        VEC(b, h, "transformer.h.%u.ln_2.bias", i);
        MAT(b, h, f, "transformer.h.%u.mlp.c_fc.weight", i);
        VEC(b, f, "transformer.h.%u.mlp.c_fc.bias", i);
        MAT(b, f, h, "transformer.h.%u.mlp.c_proj.weight", i);
        VEC(b, h, "transformer.h.%u.mlp.c_proj.bias", i);
    }
    VEC(b, h, "transformer.ln_f.weight");
    VEC(b, h, "transformer.ln_f.bias");
    if (!hp->tied_embeddings) MAT(b, v, h, "lm_head.weight");
    return MW_OK;
}

static mw_status add_gpt_neox(builder *b, const mw_hparams *hp)
{
    const uint64_t h = hp->n_embd, v = hp->n_vocab, f = hp->n_ff;
    MAT(b, v, h, "gpt_neox.embed_in.weight");
    for (uint32_t i = 0; i < hp->n_layers; i++) {
        VEC(b, h, "gpt_neox.layers.%u.input_layernorm.weight", i);
        VEC(b, h, "gpt_neox.layers.%u.input_layernorm.bias", i);
        VEC(b, h, "gpt_neox.layers.%u.post_attention_layernorm.weight", i);
        VEC(b, h, "gpt_neox.layers.%u.post_attention_layernorm.bias", i);
        MAT(b, 3 * h, h, "gpt_neox.layers.%u.attention.query_key_value.weight", i);
        if (hp->attn_bias) VEC(b, 3 * h, "gpt_neox.layers.%u.attention.query_key_value.bias", i);
        MAT(b, h, h, "gpt_neox.layers.%u.attention.dense.weight", i);
        if (hp->attn_bias) VEC(b, h, "gpt_neox.layers.%u.attention.dense.bias", i);
        MAT(b, f, h, "gpt_neox.layers.%u.mlp.dense_h_to_4h.weight", i);
        VEC(b, f, "gpt_neox.layers.%u.mlp.dense_h_to_4h.bias", i);
        MAT(b, h, f, "gpt_neox.layers.%u.mlp.dense_4h_to_h.weight", i);
        VEC(b, h, "gpt_neox.layers.%u.mlp.dense_4h_to_h.bias", i);
    }
    VEC(b, h, "gpt_neox.final_layer_norm.weight");
    VEC(b, h, "gpt_neox.final_layer_norm.bias");
    if (!hp->tied_embeddings) MAT(b, v, h, "embed_out.weight");
    return MW_OK;
}


/* Whether layer i of a MoE model routes its tokens to experts (else it has
 * the dense MLP of n_ff): transformers' Qwen2MoeDecoderLayer (not in
 * mlp_only_layers and (i + 1) % decoder_sparse_step == 0) and
 * DeepseekV2DecoderLayer (i >= first_k_dense_replace and
 * i % moe_layer_freq == 0); every layer of mixtral. */
int mw_arch_layer_is_moe(const mw_hparams *hp, uint32_t i)
{
    if (hp->n_experts == 0) return 0;
    uint32_t every = hp->moe_every ? hp->moe_every : 1;
    if (!strncmp(hp->arch, "deepseek_", 9))
        return i >= hp->moe_first_dense && i % every == 0;
    if (!strcmp(hp->arch, "qwen2_moe") || !strcmp(hp->arch, "qwen3_moe")) {
        if (i < 64 * MW_ARRAY_LEN(hp->moe_dense_layers) &&
            (hp->moe_dense_layers[i / 64] >> (i % 64) & 1))
            return 0;
        return (i + 1) % every == 0;
    }
    return 1;
}

uint32_t mw_arch_moe_layers(const mw_hparams *hp)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < hp->n_layers; i++) n += (uint32_t)mw_arch_layer_is_moe(hp, i);
    return n;
}

/* A gated MLP of width f under prefix ("model.layers.3.mlp",
 * "model.layers.3.mlp.experts.7", "model.layers.3.mlp.shared_expert"). */
static mw_status add_mlp(builder *b, uint64_t h, uint64_t f, const char *prefix)
{
    MAT(b, f, h, "%s.gate_proj.weight", prefix);
    MAT(b, f, h, "%s.up_proj.weight", prefix);
    MAT(b, h, f, "%s.down_proj.weight", prefix);
    return MW_OK;
}

/* A MoE layer's MLP: router, routed experts, shared expert(s). */
static mw_status add_moe_mlp(builder *b, const mw_hparams *hp, uint32_t i)
{
    const uint64_t h = hp->n_embd, fe = hp->n_ff_expert ? hp->n_ff_expert : hp->n_ff;
    const int deepseek = !strncmp(hp->arch, "deepseek_", 9);
    char prefix[96];
    MAT(b, hp->n_experts, h, "model.layers.%u.mlp.gate.weight", i);
    if (hp->expert_bias) VEC(b, hp->n_experts, "model.layers.%u.mlp.gate.e_score_correction_bias", i);
    for (uint32_t e = 0; e < hp->n_experts; e++) {
        snprintf(prefix, sizeof prefix, "model.layers.%u.mlp.experts.%u", i, e);
        MW_FORWARD(add_mlp(b, h, fe, prefix));
    }
    if (hp->n_ff_shared) {
        snprintf(prefix, sizeof prefix, "model.layers.%u.mlp.%s", i,
                 deepseek ? "shared_experts" : "shared_expert");
        MW_FORWARD(add_mlp(b, h, hp->n_ff_shared, prefix));
    }
    if (hp->shared_expert_gate) MAT(b, 1, h, "model.layers.%u.mlp.shared_expert_gate.weight", i);
    return MW_OK;
}

/* The rest of a qwen_moe or deepseek layer after its attention: a MoE
 * MLP (or the dense one of intermediate_size), and the two norms. */
static mw_status add_moe_layer_rest(builder *b, const mw_hparams *hp, uint32_t i)
{
    const uint64_t h = hp->n_embd;
    if (mw_arch_layer_is_moe(hp, i)) {
        MW_FORWARD(add_moe_mlp(b, hp, i));
    } else {
        char prefix[96];
        snprintf(prefix, sizeof prefix, "model.layers.%u.mlp", i);
        MW_FORWARD(add_mlp(b, h, hp->n_ff, prefix));
    }
    VEC(b, h, "model.layers.%u.input_layernorm.weight", i);
    VEC(b, h, "model.layers.%u.post_attention_layernorm.weight", i);
    return MW_OK;
}

static mw_status add_qwen_moe(builder *b, const mw_hparams *hp)
{
    const uint64_t h = hp->n_embd, v = hp->n_vocab, d = hp->head_dim;
    const uint64_t q = (uint64_t)hp->n_heads * d, kv = (uint64_t)hp->n_kv_heads * d;
    const int bias = hp->attn_bias, o_bias = hp->attn_bias && strcmp(hp->arch, "qwen2_moe");
    MAT(b, v, h, "model.embed_tokens.weight");
    for (uint32_t i = 0; i < hp->n_layers; i++) {
        MAT(b, q, h, "model.layers.%u.self_attn.q_proj.weight", i);
        if (bias) VEC(b, q, "model.layers.%u.self_attn.q_proj.bias", i);
        MAT(b, kv, h, "model.layers.%u.self_attn.k_proj.weight", i);
        if (bias) VEC(b, kv, "model.layers.%u.self_attn.k_proj.bias", i);
        MAT(b, kv, h, "model.layers.%u.self_attn.v_proj.weight", i);
        if (bias) VEC(b, kv, "model.layers.%u.self_attn.v_proj.bias", i);
        MAT(b, h, q, "model.layers.%u.self_attn.o_proj.weight", i);
        if (o_bias) VEC(b, h, "model.layers.%u.self_attn.o_proj.bias", i);
        if (hp->qk_norm) {
            VEC(b, d, "model.layers.%u.self_attn.q_norm.weight", i);
            VEC(b, d, "model.layers.%u.self_attn.k_norm.weight", i);
        }
        MW_FORWARD(add_moe_layer_rest(b, hp, i));
    }
    VEC(b, h, "model.norm.weight");
    if (!hp->tied_embeddings) MAT(b, v, h, "lm_head.weight");
    return MW_OK;
}

static mw_status add_deepseek(builder *b, const mw_hparams *hp)
{
    const uint64_t h = hp->n_embd, v = hp->n_vocab, a = hp->n_heads;
    const uint64_t qk_d = (uint64_t)hp->qk_nope_dim + hp->qk_rope_dim; /* < 2^33 */
    const uint64_t kvb_d = (uint64_t)hp->qk_nope_dim + hp->v_head_dim;
    /* a (< 2^32) times a width under 2^33 can pass 2^64: checked */
    MW_RETURN_IF(qk_d > UINT64_MAX / a || kvb_d > UINT64_MAX / a, b->err, MW_ERR_INVALID,
                 "%s: %llu heads of qk_nope_head_dim + qk_rope_head_dim (or v_head_dim) "
                 "overflow 64 bits", hp->arch, (unsigned long long)a);
    const uint64_t qk = a * qk_d, kvb = a * kvb_d;
    const uint64_t o_in = a * (uint64_t)hp->v_head_dim;
    const uint64_t kva = (uint64_t)hp->kv_lora_rank + hp->qk_rope_dim;
    MAT(b, v, h, "model.embed_tokens.weight");
    for (uint32_t i = 0; i < hp->n_layers; i++) {
        if (hp->q_lora_rank) {
            MAT(b, hp->q_lora_rank, h, "model.layers.%u.self_attn.q_a_proj.weight", i);
            VEC(b, hp->q_lora_rank, "model.layers.%u.self_attn.q_a_layernorm.weight", i);
            MAT(b, qk, hp->q_lora_rank, "model.layers.%u.self_attn.q_b_proj.weight", i);
        } else {
            MAT(b, qk, h, "model.layers.%u.self_attn.q_proj.weight", i);
        }
        MAT(b, kva, h, "model.layers.%u.self_attn.kv_a_proj_with_mqa.weight", i);
        VEC(b, hp->kv_lora_rank, "model.layers.%u.self_attn.kv_a_layernorm.weight", i);
        MAT(b, kvb, hp->kv_lora_rank, "model.layers.%u.self_attn.kv_b_proj.weight", i);
        MAT(b, h, o_in, "model.layers.%u.self_attn.o_proj.weight", i);
        MW_FORWARD(add_moe_layer_rest(b, hp, i));
    }
    VEC(b, h, "model.norm.weight");
    if (!hp->tied_embeddings) MAT(b, v, h, "lm_head.weight");
    return MW_OK;
}

mw_status mw_arch_add_tensors(const mw_hparams *hp, mw_dtype dtype, mw_model *m, mw_err *err)
{
    MW_RETURN_IF(!mw_arch_supported(hp->arch), err, MW_ERR_UNSUPPORTED,
                 "architecture \"%.31s\" is not supported (supported: %s)", hp->arch,
                 mw_arch_list());
    MW_RETURN_IF(!mw_dtype_get(dtype), err, MW_ERR_INVALID, "%s: bad tensor type %d", hp->arch,
                 (int)dtype);
    const int gpt2 = !strcmp(hp->arch, "gpt2");
    const int deepseek = !strncmp(hp->arch, "deepseek_", 9);
    const int qwen_moe = !strcmp(hp->arch, "qwen2_moe") || !strcmp(hp->arch, "qwen3_moe");
    const int moe = !strcmp(hp->arch, "mixtral") || deepseek || qwen_moe;
    static const struct { size_t off; const char *what; } need[] = {
        {offsetof(mw_hparams, n_layers), "layer count"},
        {offsetof(mw_hparams, n_embd), "hidden size"},
        {offsetof(mw_hparams, n_heads), "head count"},
        {offsetof(mw_hparams, n_kv_heads), "KV head count"},
        {offsetof(mw_hparams, head_dim), "head dimension"},
        {offsetof(mw_hparams, n_ff), "feed-forward size"},
        {offsetof(mw_hparams, n_vocab), "vocabulary size"},
    };
    for (size_t i = 0; i < MW_ARRAY_LEN(need); i++) {
        uint32_t val;
        memcpy(&val, (const char *)hp + need[i].off, sizeof val);
        MW_RETURN_IF(val == 0, err, MW_ERR_INVALID,
                     "%s: the %s is not given, so the tensors cannot be listed", hp->arch,
                     need[i].what);
    }
    MW_RETURN_IF(gpt2 && hp->n_ctx_train == 0, err, MW_ERR_INVALID,
                 "gpt2: the position count (n_positions) is not given, so wpe cannot be sized");
    MW_RETURN_IF(moe && hp->n_experts == 0, err, MW_ERR_INVALID,
                 "%s: the expert count (%s) is not given", hp->arch,
                 deepseek ? "n_routed_experts" : qwen_moe ? "num_experts" : "num_local_experts");
    /* At most 12 tensors per dense layer, 3 per expert, 6 outside layers;
     * MoE layers add a router (and its bias), a shared expert and its gate
     * (deepseek_v3: 61 x (13 + 3 x 256) = 47,641, far under the cap). */
    uint64_t per_layer = 12 + (moe ? 6 + 3 * (uint64_t)hp->n_experts : 0);
    uint64_t count = 6 + (uint64_t)hp->n_layers * per_layer;
    MW_RETURN_IF(count > ARCH_MAX_TENSORS, err, MW_ERR_INVALID,
                 "%s: %u layers%s would make about %llu tensors, more than memwall lists (%u); "
                 "check num_hidden_layers%s",
                 hp->arch, hp->n_layers, moe ? " of experts" : "", (unsigned long long)count,
                 ARCH_MAX_TENSORS,
                 !moe ? "" : deepseek ? " and n_routed_experts" : qwen_moe ? " and num_experts"
                                                                           : " and num_local_experts");
    MW_RETURN_IF(moe && (hp->n_experts_used == 0 || hp->n_experts_used > hp->n_experts), err,
                 MW_ERR_INVALID,
                 "%s: %u experts per token (num_experts_per_tok) of %u experts: it must be "
                 "1 to %u",
                 hp->arch, hp->n_experts_used, hp->n_experts, hp->n_experts);
    MW_RETURN_IF(deepseek && (hp->kv_lora_rank == 0 || hp->qk_rope_dim == 0 ||
                              hp->qk_nope_dim == 0 || hp->v_head_dim == 0),
                 err, MW_ERR_INVALID,
                 "%s: multi-head latent attention needs kv_lora_rank, qk_nope_head_dim, "
                 "qk_rope_head_dim and v_head_dim (found %u, %u, %u, %u)",
                 hp->arch, hp->kv_lora_rank, hp->qk_nope_dim, hp->qk_rope_dim, hp->v_head_dim);
    MW_RETURN_IF((deepseek || qwen_moe) && hp->n_ff_expert == 0, err, MW_ERR_INVALID,
                 "%s: the experts' size (moe_intermediate_size) is not given", hp->arch);


    builder b = {.m = m, .err = err, .mat = dtype, .vec = dtype};
    /* Norms and biases stay float when the matrices are quantized (llama.cpp
     * keeps 1-D tensors F32); a float checkpoint keeps them at its type. */
    if (dtype != MW_DTYPE_F32 && dtype != MW_DTYPE_F16 && dtype != MW_DTYPE_BF16)
        b.vec = MW_DTYPE_F32;
    if (gpt2) return add_gpt2(&b, hp);
    if (!strcmp(hp->arch, "gpt_neox")) return add_gpt_neox(&b, hp);
    if (deepseek) return add_deepseek(&b, hp);
    if (qwen_moe) return add_qwen_moe(&b, hp);
    /* gemma3's multimodal checkpoints hold the language model here */
    if (!strcmp(hp->arch, "gemma3")) b.prefix = "language_model.";
    return add_llama_family(&b, hp);
}
