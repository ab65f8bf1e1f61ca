/* test_arch.c - the tensors an architecture implies: exact parameter counts
 * of every preset against the published totals, weight bytes per type,
 * names and shapes of the real checkpoints, and the errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"
#include "common/error.h"
#include "format/arch.h"
#include "format/hf_config.h"
#include "format/model_build.h"
#include "test_plan_util.h"

#include <stdio.h>
#include <string.h>

static const mw_tensor_info *tensor(const mw_model *m, const char *name)
{
    for (uint32_t i = 0; i < m->n_tensors; i++)
        if (!strcmp(m->tensors[i].name, name)) return &m->tensors[i];
    return NULL;
}

/* The tensor exists with this shape ([n] when d1 is 0). */
static void assert_shape(const mw_model *m, const char *name, uint64_t d0, uint64_t d1)
{
    const mw_tensor_info *t = tensor(m, name);
    if (!t) fail_msg("no tensor %s in %s", name, m->path);
    assert_int_equal(t->n_dims, d1 ? 2 : 1);
    assert_true(t->shape[0] == d0);
    if (d1) assert_true(t->shape[1] == d1);
}

/* The published totals (model cards, the Hub's safetensors metadata and the
 * papers); the first four are the reference ones of formulas.md. */
static const struct {
    const char *name;
    uint64_t params;
    mw_dtype dtype;
    uint32_t n_tensors;
} expected[] = {
    {"llama-2-7b",   6738415616ull,  MW_DTYPE_F16,  1 + 32 * 9 + 2},
    {"llama-3-8b",   8030261248ull,  MW_DTYPE_BF16, 1 + 32 * 9 + 2},
    {"mistral-7b",   7241732096ull,  MW_DTYPE_BF16, 1 + 32 * 9 + 2},
    {"gpt2",         124439808ull,   MW_DTYPE_F32,  2 + 12 * 12 + 2},
    {"llama-3-70b",  70553706496ull, MW_DTYPE_BF16, 1 + 80 * 9 + 2},
    {"mixtral-8x7b", 46702792704ull, MW_DTYPE_BF16, 1 + 32 * (4 + 1 + 8 * 3 + 2) + 2},
    {"qwen2-7b",     7615616512ull,  MW_DTYPE_BF16, 1 + 28 * 12 + 2},
    {"gemma-2b",     2506172416ull,  MW_DTYPE_BF16, 1 + 18 * 9 + 1},
    {"phi3-mini",    3821079552ull,  MW_DTYPE_BF16, 1 + 32 * 6 + 2},
    {"pythia-1.4b",  1414647808ull,  MW_DTYPE_F16,  1 + 24 * 12 + 2 + 1},
    /* issue #13, dense. Llama-3.1-8B: the tensors of Llama-3-8B (its card:
     * 8B); Llama-3.2-1B 1,235,814,400 and -3B 3,212,749,824, tied (the
     * Hub's safetensors totals: 1.24B, 3.21B). Qwen3: each card gives the
     * total and the non-embedding count in billions, and both agree with
     * these integers: 0.6B / 0.44B (596,049,920 - 151936 x 1024), 4.0B /
     * 3.6B, 8.2B / 6.95B (two 151936 x 4096 tables), 14.8B / 13.2B, 32.8B /
     * 31.2B. (Qwen3-0.6B's checkpoint also stores lm_head though tied: the
     * Hub shows 0.75B.) gemma-2-2b 2,614,341,888 (the Hub's 2.61B),
     * gemma-2-9b 9,241,705,984 (9.24B);
     * gemma-3-1b 999,885,952 (1B). gemma-3 4b/12b/27b: the language model
     * only (the cards' 4.3B, 12.2B, 27.4B include the 0.4B SigLIP tower and
     * projector, which memwall does not list). Mistral-NeMo 12,247,782,400
     * (its card: 12B). Phi-3.5-mini 3,821,079,552, as Phi-3-mini (its card:
     * 3.8B). Per layer: 9 tensors, + 2 q/k norms (qwen3), + 2
     * feed-forward norms (gemma2), + both (gemma3). */
    {"llama-3.1-8b", 8030261248ull,  MW_DTYPE_BF16, 1 + 32 * 9 + 2},
    {"llama-3.2-1b", 1235814400ull,  MW_DTYPE_BF16, 1 + 16 * 9 + 1},
    {"llama-3.2-3b", 3212749824ull,  MW_DTYPE_BF16, 1 + 28 * 9 + 1},
    {"qwen3-0.6b",   596049920ull,   MW_DTYPE_BF16, 1 + 28 * 11 + 1},
    {"qwen3-4b",     4022468096ull,  MW_DTYPE_BF16, 1 + 36 * 11 + 1},
    {"qwen3-8b",     8190735360ull,  MW_DTYPE_BF16, 1 + 36 * 11 + 2},
    {"qwen3-14b",    14768307200ull, MW_DTYPE_BF16, 1 + 40 * 11 + 2},
    {"qwen3-32b",    32762123264ull, MW_DTYPE_BF16, 1 + 64 * 11 + 2},
    {"gemma-2-2b",   2614341888ull,  MW_DTYPE_F32,  1 + 26 * 11 + 1},
    {"gemma-2-9b",   9241705984ull,  MW_DTYPE_BF16, 1 + 42 * 11 + 1},
    {"gemma-3-1b",   999885952ull,   MW_DTYPE_BF16, 1 + 26 * 13 + 1},
    {"gemma-3-4b",   3880263168ull,  MW_DTYPE_BF16, 1 + 34 * 13 + 1},
    {"gemma-3-12b",  11766034176ull, MW_DTYPE_BF16, 1 + 48 * 13 + 1},
    {"gemma-3-27b",  27009346304ull, MW_DTYPE_BF16, 1 + 62 * 13 + 1},
    {"mistral-nemo", 12247782400ull, MW_DTYPE_BF16, 1 + 40 * 9 + 2},
    {"phi-3.5-mini", 3821079552ull,  MW_DTYPE_BF16, 1 + 32 * 6 + 2},
    /* reconstructed configs (presets.c says how): the Llama 3 paper's sizes */
    {"llama-3.1-70b", 70553706496ull, MW_DTYPE_BF16, 1 + 80 * 9 + 2},
    {"llama-3.1-405b", 405853388800ull, MW_DTYPE_BF16, 1 + 126 * 9 + 2},
    {"qwen3-1.7b",   1720574976ull,  MW_DTYPE_BF16, 1 + 28 * 11 + 1},
    /* MoE and MLA (issue #13). DeepSeek-V3's main model: 671,026,419,200 in
     * 45,395 tensors, as audits of the checkpoint's headers count it (and
     * DeepSeek's README_WEIGHTS.md: 671B main + 14B MTP, not listed here);
     * Qwen3-30B-A3B: its index's total_size 61,064,245,248 bytes / 2 (BF16);
     * DeepSeek-V2.5 (V2's sizes): 236B in the paper. */
    {"deepseek-v3",      671026419200ull, MW_DTYPE_BF16,
     1 + 61 * 9 + 3 * 3 + 58 * (2 + 256 * 3 + 3) + 2},
    {"deepseek-r1",      671026419200ull, MW_DTYPE_BF16,
     1 + 61 * 9 + 3 * 3 + 58 * (2 + 256 * 3 + 3) + 2},
    {"deepseek-v2.5",    235741434880ull, MW_DTYPE_BF16, 1 + 60 * 9 + 3 + 59 * (1 + 160 * 3 + 3) + 2},
    {"qwen3-30b-a3b",    30532122624ull,  MW_DTYPE_BF16, 1 + 48 * (8 + 1 + 128 * 3) + 2},
    /* the Hub's safetensors total; index total_size 470,187,269,120 bytes
     * in 36,945 tensors */
    {"qwen3-235b-a22b",  235093634560ull, MW_DTYPE_BF16, 1 + 94 * (8 + 1 + 128 * 3) + 2},
};

/* Active parameters (mw_model.n_params_active: all but the routed experts a
 * token is not sent to, the embedding table counted) against the cards'
 * "activated parameters", to the precision they state (within one unit of
 * the last digit given). Mixtral's and Qwen's cards count the embedding
 * table; DeepSeek's leave the input embedding out (a lookup, not a product:
 * README_WEIGHTS.md's 36.6B for V3 "including 0.9B for the output head"),
 * so theirs is compared with the embedding subtracted. */
/* DeepSeek-V2-Lite's sizing keys, as two copies of its config.json in the
 * code corpus give them (no preset: neither copy has its torch_dtype). */
static const char deepseek_v2_lite[] =
    "{\"model_type\": \"deepseek_v2\", \"hidden_size\": 2048, \"intermediate_size\": 10944,"
    " \"num_hidden_layers\": 27, \"num_attention_heads\": 16, \"num_key_value_heads\": 16,"
    " \"vocab_size\": 102400, \"q_lora_rank\": null, \"kv_lora_rank\": 512,"
    " \"qk_nope_head_dim\": 128, \"qk_rope_head_dim\": 64, \"v_head_dim\": 128,"
    " \"n_routed_experts\": 64, \"num_experts_per_tok\": 6, \"n_shared_experts\": 2,"
    " \"moe_intermediate_size\": 1408, \"first_k_dense_replace\": 1, \"moe_layer_freq\": 1,"
    " \"tie_word_embeddings\": false, \"torch_dtype\": \"bfloat16\"}";

/* Qwen1.5-MoE-A2.7B's sizing keys (Qwen/Qwen1.5-MoE-A2.7B-Chat's config.json
 * as copies in the code corpus give them; its GPTQ-Int4 variant's published
 * config has the same; no preset: no copy of the BF16 one was found). */
static const char qwen15_moe[] =
    "{\"model_type\": \"qwen2_moe\", \"hidden_size\": 2048, \"intermediate_size\": 5632,"
    " \"num_hidden_layers\": 24, \"num_attention_heads\": 16, \"num_key_value_heads\": 16,"
    " \"vocab_size\": 151936, \"num_experts\": 60, \"num_experts_per_tok\": 4,"
    " \"moe_intermediate_size\": 1408, \"shared_expert_intermediate_size\": 5632,"
    " \"decoder_sparse_step\": 1, \"tie_word_embeddings\": false, \"torch_dtype\": \"bfloat16\"}";

/* Mixtral-8x22B-v0.1's sizing keys, as a copy of its config.json in the
 * code corpus gives them (no preset: the copy has no torch_dtype). */
static const char mixtral_8x22b[] =
    "{\"model_type\": \"mixtral\", \"hidden_size\": 6144, \"intermediate_size\": 16384,"
    " \"max_position_embeddings\": 65536, \"num_attention_heads\": 48,"
    " \"num_experts_per_tok\": 2, \"num_hidden_layers\": 56, \"num_key_value_heads\": 8,"
    " \"num_local_experts\": 8, \"tie_word_embeddings\": false, \"vocab_size\": 32000,"
    " \"torch_dtype\": \"bfloat16\"}";

/* The model a config text implies (mw_hf_config_parse + the tensors). */
static mw_model *open_text(const char *text)
{
    mw_hparams hp;
    mw_err err = {0};
    if (mw_hf_config_parse(text, strlen(text), "config", &hp, &err) != MW_OK) fail_msg("%s", err.msg);
    mw_model *m = mw_model_alloc(MW_SOURCE_HF_CONFIG, "config");
    assert_non_null(m);
    m->hp = hp;
    m->has_hparams = 1;
    if (mw_arch_add_tensors(&hp, hp.dtype, m, &err) != MW_OK) fail_msg("%s", err.msg);
    mw_model_finish(m);
    return m;
}

static const struct {
    const char *name;
    uint64_t active;        /* memwall's, exactly                         */
    double card;            /* the published figure                       */
    double unit;            /* its precision                              */
    int no_embedding;       /* the card leaves the input embedding out    */
} active[] = {
    {"mixtral-8x7b",     12879925248ull, 12.9e9, 0.1e9, 0}, /* Mixtral paper: 12.9B of 46.7B */
    {"qwen3-30b-a3b",    3353032704ull,  3.3e9,  0.1e9, 0}, /* card: 3.3B of 30.5B          */
    {"deepseek-v3",      37552297472ull, 36.6e9, 0.1e9, 1}, /* README_WEIGHTS: 36.6B (37B)  */
    {"deepseek-v2.5",    21375800320ull, 21e9,   1e9,   1}, /* V2 paper: 21B of 236B        */
    {"deepseek-v2-lite", 2661150208ull,  2.4e9,  0.1e9, 1}, /* card: 2.4B of 15.7B          */
    {"qwen1.5-moe-a2.7b", 2689173504ull, 2.7e9,  0.1e9, 0}, /* card: 2.7B of 14.3B          */
    {"qwen3-235b-a22b",  22190763520ull, 22e9,   1e9,   0}, /* card: 22B of 235B            */
    {"mixtral-8x22b",    39152031744ull, 39e9,   1e9,   0}, /* Mistral: 39B of 141B         */
};

static void moe_active_params_match_the_cards(void **state)
{
    (void)state;
    for (size_t i = 0; i < MW_ARRAY_LEN(active); i++) {
        mw_model *m = !strcmp(active[i].name, "deepseek-v2-lite")  ? open_text(deepseek_v2_lite)
                      : !strcmp(active[i].name, "qwen1.5-moe-a2.7b") ? open_text(qwen15_moe)
                      : !strcmp(active[i].name, "mixtral-8x22b")     ? open_text(mixtral_8x22b)
                                                                     : open_preset(active[i].name);
        if (m->n_params_active != active[i].active)
            fail_msg("%s: %llu active parameters, expected %llu", active[i].name,
                     (unsigned long long)m->n_params_active,
                     (unsigned long long)active[i].active);
        double a = (double)m->n_params_active;
        if (active[i].no_embedding) a -= (double)m->hp.n_vocab * m->hp.n_embd;
        if (!(a > active[i].card - active[i].unit && a < active[i].card + active[i].unit))
            fail_msg("%s: %.4g active, the card says %.4g", active[i].name, a, active[i].card);
        /* routed experts less their unused share: total - unused exactly */
        uint64_t fe = m->hp.n_ff_expert ? m->hp.n_ff_expert : m->hp.n_ff;
        if (!strcmp(active[i].name, "qwen1.5-moe-a2.7b")) /* the card's 14.3B in all */
            assert_true(m->n_params == 14315784192ull);
        if (!strcmp(active[i].name, "mixtral-8x22b")) /* the Hub's safetensors total */
            assert_true(m->n_params == 140620634112ull);
        uint64_t unused = (uint64_t)mw_arch_moe_layers(&m->hp) *
                          (m->hp.n_experts - m->hp.n_experts_used) * 3 * m->hp.n_embd * fe;
        assert_true(m->n_params - m->n_params_active == unused);
        mw_model_free(m);
    }
    /* a dense model uses all of its parameters */
    mw_model *m = open_preset("llama-3-8b");
    assert_true(m->n_params_active == m->n_params);
    mw_model_free(m);
}

static void mla_and_moe_names_and_shapes(void **state)
{
    (void)state;
    mw_model *m = open_preset("deepseek-v3");
    assert_int_equal(m->hp.kv_lora_rank, 512);
    assert_int_equal(mw_arch_moe_layers(&m->hp), 58);
    assert_shape(m, "model.layers.0.self_attn.q_a_proj.weight", 1536, 7168);
    assert_shape(m, "model.layers.0.self_attn.q_a_layernorm.weight", 1536, 0);
    assert_shape(m, "model.layers.0.self_attn.q_b_proj.weight", 128 * 192, 1536);
    assert_shape(m, "model.layers.0.self_attn.kv_a_proj_with_mqa.weight", 512 + 64, 7168);
    assert_shape(m, "model.layers.0.self_attn.kv_a_layernorm.weight", 512, 0);
    assert_shape(m, "model.layers.0.self_attn.kv_b_proj.weight", 128 * (128 + 128), 512);
    assert_shape(m, "model.layers.0.self_attn.o_proj.weight", 7168, 128 * 128);
    assert_shape(m, "model.layers.2.mlp.gate_proj.weight", 18432, 7168);     /* dense */
    assert_null(tensor(m, "model.layers.2.mlp.gate.weight"));
    assert_shape(m, "model.layers.3.mlp.gate.weight", 256, 7168);           /* MoE from 3 */
    assert_shape(m, "model.layers.3.mlp.gate.e_score_correction_bias", 256, 0);
    assert_shape(m, "model.layers.60.mlp.experts.255.down_proj.weight", 7168, 2048);
    assert_shape(m, "model.layers.60.mlp.shared_experts.up_proj.weight", 2048, 7168);
    assert_null(tensor(m, "model.layers.3.mlp.gate_proj.weight"));
    assert_null(tensor(m, "model.layers.61.self_attn.o_proj.weight")); /* MTP: not listed */
    assert_shape(m, "lm_head.weight", 129280, 7168);
    mw_model_free(m);

    m = open_text(deepseek_v2_lite); /* q_lora_rank null: a plain q_proj */
    /* 15,706,484,224: the model card's 15.7B, and what the loaded model reports */
    assert_true(m->n_params == 15706484224ull);
    assert_int_equal(m->n_tensors, 1 + 27 * 7 + 3 + 26 * (1 + 64 * 3 + 3) + 2);
    assert_int_equal(m->hp.q_lora_rank, 0);
    assert_shape(m, "model.layers.0.self_attn.q_proj.weight", 16 * 192, 2048);
    assert_null(tensor(m, "model.layers.0.self_attn.q_a_proj.weight"));
    assert_shape(m, "model.layers.1.mlp.shared_experts.gate_proj.weight", 2 * 1408, 2048);
    assert_null(tensor(m, "model.layers.1.mlp.gate.e_score_correction_bias")); /* V3 only */
    mw_model_free(m);

    /* the tensor cap (2^20): DeepSeek-V3's 61 x 256 experts x 3 are far under
     * it; 61 layers of 10,000 experts (1.8 million tensors) are refused
     * before any is made, naming the key */
    mw_hparams big;
    mw_err err = {0};
    const char *v3 = mw_preset_config("deepseek-v3");
    assert_int_equal(mw_hf_config_parse(v3, strlen(v3), "v3", &big, &err), MW_OK);
    big.n_experts = 10000;
    m = mw_model_alloc(MW_SOURCE_PRESET, "big");
    assert_int_equal(mw_arch_add_tensors(&big, MW_DTYPE_BF16, m, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "more than memwall lists"));
    assert_non_null(strstr(err.msg, "n_routed_experts"));
    assert_int_equal(m->n_tensors, 0);
    mw_model_free(m);
    /* MLA without its sizes, experts per token out of range: refused */
    assert_int_equal(mw_hf_config_parse(v3, strlen(v3), "v3", &big, &err), MW_OK);
    big.kv_lora_rank = 0;
    m = mw_model_alloc(MW_SOURCE_PRESET, "bad");
    assert_int_equal(mw_arch_add_tensors(&big, MW_DTYPE_BF16, m, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "multi-head latent attention needs kv_lora_rank"));
    mw_model_free(m);
    assert_int_equal(mw_hf_config_parse(v3, strlen(v3), "v3", &big, &err), MW_OK);
    big.n_heads = UINT32_MAX; /* a x (d_nope + d_v) past 2^64: refused, not wrapped */
    big.qk_nope_dim = big.v_head_dim = UINT32_MAX - 100;
    m = mw_model_alloc(MW_SOURCE_PRESET, "bad");
    assert_int_equal(mw_arch_add_tensors(&big, MW_DTYPE_BF16, m, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "overflow 64 bits"));
    mw_model_free(m);
    assert_int_equal(mw_hf_config_parse(v3, strlen(v3), "v3", &big, &err), MW_OK);
    big.n_experts_used = 257;
    m = mw_model_alloc(MW_SOURCE_PRESET, "bad");
    assert_int_equal(mw_arch_add_tensors(&big, MW_DTYPE_BF16, m, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "257 experts per token (num_experts_per_tok) of 256"));
    mw_model_free(m);

    m = open_preset("qwen3-30b-a3b");
    assert_shape(m, "model.layers.0.self_attn.q_proj.weight", 32 * 128, 2048);
    assert_shape(m, "model.layers.0.self_attn.q_norm.weight", 128, 0);
    assert_shape(m, "model.layers.47.self_attn.k_norm.weight", 128, 0);
    assert_shape(m, "model.layers.0.mlp.gate.weight", 128, 2048);
    assert_shape(m, "model.layers.47.mlp.experts.127.gate_proj.weight", 768, 2048);
    assert_null(tensor(m, "model.layers.0.self_attn.q_proj.bias"));
    assert_null(tensor(m, "model.layers.0.mlp.shared_expert.gate_proj.weight"));
    mw_model_free(m);

    /* qwen2_moe: a shared expert with its gate, q/k/v biases, and dense
     * layers from mlp_only_layers and decoder_sparse_step */
    static const char qwen2_moe[] =
        "{\"model_type\": \"qwen2_moe\", \"hidden_size\": 64, \"num_hidden_layers\": 4,"
        " \"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"intermediate_size\": 96,"
        " \"vocab_size\": 100, \"num_experts\": 4, \"num_experts_per_tok\": 2,"
        " \"moe_intermediate_size\": 32, \"shared_expert_intermediate_size\": 48,"
        " \"decoder_sparse_step\": 2, \"mlp_only_layers\": [3], \"torch_dtype\": \"bfloat16\"}";
    mw_hparams hp;
    assert_int_equal(mw_hf_config_parse(qwen2_moe, strlen(qwen2_moe), "q", &hp, &err), MW_OK);
    m = mw_model_alloc(MW_SOURCE_PRESET, "q");
    m->hp = hp;
    m->has_hparams = 1;
    assert_int_equal(mw_arch_add_tensors(&hp, MW_DTYPE_BF16, m, &err), MW_OK);
    mw_model_finish(m);
    /* layers 1 only: (i + 1) % 2 == 0 gives 1 and 3, and 3 is mlp_only */
    assert_int_equal(mw_arch_moe_layers(&hp), 1);
    assert_shape(m, "model.layers.0.mlp.gate_proj.weight", 96, 64);
    assert_shape(m, "model.layers.3.mlp.down_proj.weight", 64, 96);
    assert_shape(m, "model.layers.1.mlp.gate.weight", 4, 64);
    assert_shape(m, "model.layers.1.mlp.experts.3.up_proj.weight", 32, 64);
    assert_shape(m, "model.layers.1.mlp.shared_expert.down_proj.weight", 64, 48);
    assert_shape(m, "model.layers.1.mlp.shared_expert_gate.weight", 1, 64);
    assert_shape(m, "model.layers.1.self_attn.k_proj.bias", 32, 0);
    assert_null(tensor(m, "model.layers.1.self_attn.o_proj.bias"));
    /* by hand: embedding + lm_head 2 x 6400; attention per layer q,o 2 x 4096
     * + k,v 2 x 2048 + biases 64 + 32 + 32 = 12416; norms 2 x 64; dense
     * MLP 3 x 64 x 96 = 18432; the MoE one 4 x 3 x 64 x 32 + router 256 +
     * shared 3 x 64 x 48 + its gate 64 = 24576 + 256 + 9216 + 64; final norm */
    uint64_t want = 2 * 6400 + 4 * (12416 + 128) + 3 * 18432 + 24576 + 256 + 9216 + 64 + 64;
    assert_true(m->n_params == want);
    assert_true(m->n_params - m->n_params_active == 2 * 3 * 64 * 32); /* 2 of 4 unused */
    mw_model_free(m);
}


/* The non-embedding counts of the Qwen3 cards, to their stated precision. */
static void qwen3_non_embedding_matches_cards(void **state)
{
    (void)state;
    static const struct { const char *name; double total, non_emb, step_n; } card[] = {
        {"qwen3-0.6b", 0.6, 0.44, 0.01}, {"qwen3-1.7b", 1.7, 1.4, 0.1}, {"qwen3-4b", 4.0, 3.6, 0.1},
        {"qwen3-8b", 8.2, 6.95, 0.01},   {"qwen3-14b", 14.8, 13.2, 0.1},
        {"qwen3-32b", 32.8, 31.2, 0.1},
    };
    for (size_t i = 0; i < MW_ARRAY_LEN(card); i++) {
        mw_model *m = open_preset(card[i].name);
        uint64_t emb = (uint64_t)m->hp.n_vocab * m->hp.n_embd * (m->hp.tied_embeddings ? 1 : 2);
        double total = (double)m->n_params / 1e9, non = (double)(m->n_params - emb) / 1e9;
        const double step_t = 0.1, step_n = card[i].step_n; /* the cards' last digit */
        if (total < card[i].total - step_t / 2 || total >= card[i].total + step_t / 2 ||
            non < card[i].non_emb - step_n / 2 || non >= card[i].non_emb + step_n / 2)
            fail_msg("%s: %.3fB / %.3fB non-embedding, the card %.2fB / %.2fB", card[i].name,
                     total, non, card[i].total, card[i].non_emb);
        mw_model_free(m);
    }
}

/* The tensors qwen3, gemma2 and gemma3 add, by their checkpoints' names. */
static void dense_architectures_names_and_shapes(void **state)
{
    (void)state;
    mw_model *m = open_preset("qwen3-8b");
    assert_shape(m, "model.layers.35.self_attn.q_norm.weight", 128, 0);
    assert_shape(m, "model.layers.0.self_attn.k_norm.weight", 128, 0);
    assert_shape(m, "model.layers.0.self_attn.q_proj.weight", 32 * 128, 4096);
    assert_null(tensor(m, "model.layers.0.self_attn.q_proj.bias"));
    assert_shape(m, "lm_head.weight", 151936, 4096);
    mw_model_free(m);
    m = open_preset("qwen3-4b"); /* head_dim 128 x 32 heads = 4096 != hidden 2560 */
    assert_shape(m, "model.layers.0.self_attn.q_proj.weight", 4096, 2560);
    assert_shape(m, "model.layers.0.self_attn.o_proj.weight", 2560, 4096);
    assert_null(tensor(m, "lm_head.weight"));
    mw_model_free(m);
    m = open_preset("gemma-2-2b");
    assert_shape(m, "model.layers.25.pre_feedforward_layernorm.weight", 2304, 0);
    assert_shape(m, "model.layers.25.post_feedforward_layernorm.weight", 2304, 0);
    assert_shape(m, "model.layers.0.self_attn.q_proj.weight", 8 * 256, 2304);
    assert_null(tensor(m, "model.layers.0.self_attn.q_norm.weight"));
    assert_null(tensor(m, "lm_head.weight"));
    mw_model_free(m);
    m = open_preset("gemma-3-4b"); /* Gemma3ForConditionalGeneration's names */
    assert_shape(m, "language_model.model.embed_tokens.weight", 262208, 2560);
    assert_shape(m, "language_model.model.layers.33.self_attn.k_norm.weight", 256, 0);
    assert_shape(m, "language_model.model.layers.0.self_attn.k_proj.weight", 4 * 256, 2560);
    assert_shape(m, "language_model.model.layers.0.pre_feedforward_layernorm.weight", 2560, 0);
    assert_shape(m, "language_model.model.norm.weight", 2560, 0);
    assert_null(tensor(m, "model.embed_tokens.weight"));
    mw_model_free(m);
    m = open_preset("gemma-3-1b"); /* Gemma3ForCausalLM: model.* */
    assert_shape(m, "model.layers.0.self_attn.q_norm.weight", 256, 0);
    mw_model_free(m);
    m = open_preset("mistral-nemo"); /* head_dim 128, not 5120 / 32 = 160 */
    assert_shape(m, "model.layers.0.self_attn.q_proj.weight", 4096, 5120);
    assert_shape(m, "model.layers.0.self_attn.k_proj.weight", 1024, 5120);
    mw_model_free(m);
}

static void preset_params_are_exact(void **state)
{
    (void)state;
    for (size_t i = 0; i < MW_ARRAY_LEN(expected); i++) {
        mw_model *m = open_preset(expected[i].name);
        if (m->n_params != expected[i].params)
            fail_msg("%s: %llu parameters, published %llu", expected[i].name,
                     (unsigned long long)m->n_params, (unsigned long long)expected[i].params);
        assert_int_equal(m->n_tensors, expected[i].n_tensors);
        assert_int_equal(m->hp.dtype, expected[i].dtype);
        mw_model_free(m);
    }
    /* every preset is in the table */
    size_t n = 0;
    for (const char *const *p = mw_preset_names(); *p; p++) n++;
    assert_int_equal(n, MW_ARRAY_LEN(expected));
}

static void preset_weight_bytes_at_their_type(void **state)
{
    (void)state;
    for (size_t i = 0; i < MW_ARRAY_LEN(expected); i++) {
        mw_model *m = open_preset(expected[i].name);
        uint64_t per = expected[i].dtype == MW_DTYPE_F32 ? 4 : 2;
        assert_true(m->weights_bytes == per * expected[i].params);
        for (uint32_t t = 0; t < m->n_tensors; t++)
            assert_int_equal(m->tensors[t].dtype, expected[i].dtype); /* norms too */
        mw_model_free(m);
    }
}

/* Builds the tensors of a preset's hparams at another type. */
static mw_status build_at(const char *preset, mw_dtype dtype, mw_model **out, mw_err *err)
{
    mw_hparams hp;
    const char *text = mw_preset_config(preset);
    assert_non_null(text);
    assert_int_equal(mw_hf_config_parse(text, strlen(text), preset, &hp, err), MW_OK);
    mw_model *m = mw_model_alloc(MW_SOURCE_PRESET, preset);
    assert_non_null(m);
    m->hp = hp;
    m->has_hparams = 1;
    mw_status st = mw_arch_add_tensors(&hp, dtype, m, err);
    mw_model_finish(m);
    *out = m;
    return st;
}

static void q8_0_matrices_and_f32_vectors(void **state)
{
    (void)state;
    static const char *const names[] = {"llama-2-7b", "llama-3-8b", "gpt2", "pythia-1.4b",
                                        "mixtral-8x7b", "qwen2-7b"};
    for (size_t i = 0; i < MW_ARRAY_LEN(names); i++) {
        mw_model *m;
        mw_err err = {0};
        assert_int_equal(build_at(names[i], MW_DTYPE_Q8_0, &m, &err), MW_OK);
        uint64_t mat = 0, vec = 0;
        for (uint32_t t = 0; t < m->n_tensors; t++) {
            const mw_tensor_info *ti = &m->tensors[t];
            if (ti->n_dims == 2) {
                assert_int_equal(ti->dtype, MW_DTYPE_Q8_0);
                mat += ti->n_elems;
            } else {
                assert_int_equal(ti->dtype, MW_DTYPE_F32);
                vec += ti->n_elems;
            }
        }
        assert_int_equal(mat % 32, 0);
        assert_true(m->weights_bytes == mat / 32 * 34 + vec * 4);
        assert_true(m->n_params == mat + vec);
        if (i == 0) {
            /* Llama-2-7B: 65 norms of 4096 (266,240 F32), the rest in Q8_0 */
            assert_true(vec == 65 * 4096);
            assert_true(m->weights_bytes == 7160348672ull);
        }
        mw_model_free(m);
    }
}

static void f16_keeps_vectors_at_f16(void **state)
{
    (void)state;
    mw_model *m;
    mw_err err = {0};
    assert_int_equal(build_at("qwen2-7b", MW_DTYPE_F16, &m, &err), MW_OK);
    assert_int_equal(tensor(m, "model.norm.weight")->dtype, MW_DTYPE_F16);
    assert_int_equal(tensor(m, "model.layers.0.self_attn.q_proj.bias")->dtype, MW_DTYPE_F16);
    assert_true(m->weights_bytes == 2 * 7615616512ull);
    mw_model_free(m);
}

static void llama3_8b_kv_hparams(void **state)
{
    (void)state;
    mw_model *m = open_preset("llama-3-8b");
    assert_int_equal(m->source, MW_SOURCE_PRESET);
    assert_int_equal(m->has_hparams, 1);
    assert_string_equal(m->hp.arch, "llama");
    assert_int_equal(m->hp.n_layers, 32);
    assert_int_equal(m->hp.n_heads, 32);
    assert_int_equal(m->hp.n_kv_heads, 8);
    assert_int_equal(m->hp.head_dim, 128);
    assert_int_equal(m->hp.n_embd, 4096);
    assert_int_equal(m->hp.n_ff, 14336);
    assert_int_equal(m->hp.n_vocab, 128256);
    assert_int_equal(m->hp.n_ctx_train, 8192);
    assert_float_equal(m->hp.rope_theta, 500000.0, 1e-9);
    assert_float_equal(m->hp.norm_eps, 1e-5, 1e-15);
    assert_int_equal(m->hp.gated_ffn, 1);
    assert_int_equal(m->hp.tied_embeddings, 0);
    /* formulas.md: 2 L a_kv d B = 131,072 B per token at f16 */
    assert_int_equal(2ull * m->hp.n_layers * m->hp.n_kv_heads * m->hp.head_dim * 2, 131072);
    mw_model_free(m);
}

static void llama_names_and_shapes(void **state)
{
    (void)state;
    mw_model *m = open_preset("llama-3-8b");
    assert_string_equal(m->tensors[0].name, "model.embed_tokens.weight");
    assert_shape(m, "model.embed_tokens.weight", 128256, 4096);
    assert_shape(m, "model.layers.0.self_attn.q_proj.weight", 4096, 4096);
    assert_shape(m, "model.layers.0.self_attn.k_proj.weight", 1024, 4096);
    assert_shape(m, "model.layers.0.self_attn.v_proj.weight", 1024, 4096);
    assert_shape(m, "model.layers.0.self_attn.o_proj.weight", 4096, 4096);
    assert_shape(m, "model.layers.31.mlp.gate_proj.weight", 14336, 4096);
    assert_shape(m, "model.layers.31.mlp.up_proj.weight", 14336, 4096);
    assert_shape(m, "model.layers.31.mlp.down_proj.weight", 4096, 14336);
    assert_shape(m, "model.layers.31.input_layernorm.weight", 4096, 0);
    assert_shape(m, "model.layers.31.post_attention_layernorm.weight", 4096, 0);
    assert_shape(m, "model.norm.weight", 4096, 0);
    assert_shape(m, "lm_head.weight", 128256, 4096);
    assert_null(tensor(m, "model.layers.32.mlp.down_proj.weight"));
    assert_null(tensor(m, "model.layers.0.self_attn.q_proj.bias"));
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        assert_true(m->tensors[i].offset == 0);
        assert_int_equal(m->tensors[i].file, 0);
    }
    assert_int_equal(m->n_files, 0);
    mw_model_free(m);
}

static void other_families_names_and_shapes(void **state)
{
    (void)state;
    mw_model *m = open_preset("gemma-2b"); /* tied, head_dim 256 with 8 heads */
    assert_shape(m, "model.layers.0.self_attn.q_proj.weight", 2048, 2048);
    assert_shape(m, "model.layers.0.self_attn.k_proj.weight", 256, 2048);
    assert_shape(m, "model.layers.17.mlp.down_proj.weight", 2048, 16384);
    assert_shape(m, "model.norm.weight", 2048, 0);
    assert_null(tensor(m, "lm_head.weight"));
    assert_int_equal(m->hp.tied_embeddings, 1);
    mw_model_free(m);

    m = open_preset("qwen2-7b"); /* q, k, v biases; none on o */
    assert_shape(m, "model.layers.0.self_attn.q_proj.bias", 3584, 0);
    assert_shape(m, "model.layers.0.self_attn.k_proj.bias", 512, 0);
    assert_shape(m, "model.layers.27.self_attn.v_proj.bias", 512, 0);
    assert_null(tensor(m, "model.layers.0.self_attn.o_proj.bias"));
    assert_null(tensor(m, "model.layers.0.mlp.up_proj.bias"));
    mw_model_free(m);

    m = open_preset("phi3-mini"); /* fused projections */
    assert_shape(m, "model.layers.0.self_attn.qkv_proj.weight", 3 * 3072, 3072);
    assert_shape(m, "model.layers.0.mlp.gate_up_proj.weight", 2 * 8192, 3072);
    assert_shape(m, "model.layers.0.mlp.down_proj.weight", 3072, 8192);
    assert_null(tensor(m, "model.layers.0.self_attn.q_proj.weight"));
    assert_shape(m, "lm_head.weight", 32064, 3072);
    mw_model_free(m);

    m = open_preset("mixtral-8x7b");
    assert_int_equal(m->hp.n_experts, 8);
    assert_int_equal(m->hp.n_experts_used, 2);
    assert_shape(m, "model.layers.0.block_sparse_moe.gate.weight", 8, 4096);
    assert_shape(m, "model.layers.0.block_sparse_moe.experts.0.w1.weight", 14336, 4096);
    assert_shape(m, "model.layers.31.block_sparse_moe.experts.7.w2.weight", 4096, 14336);
    assert_shape(m, "model.layers.31.block_sparse_moe.experts.7.w3.weight", 14336, 4096);
    assert_null(tensor(m, "model.layers.0.mlp.gate_proj.weight"));
    mw_model_free(m);

    m = open_preset("gpt2"); /* Conv1D: [in, out] */
    assert_shape(m, "transformer.wte.weight", 50257, 768);
    assert_shape(m, "transformer.wpe.weight", 1024, 768);
    assert_shape(m, "transformer.h.0.attn.c_attn.weight", 768, 2304);
    assert_shape(m, "transformer.h.0.attn.c_attn.bias", 2304, 0);
    assert_shape(m, "transformer.h.11.mlp.c_fc.weight", 768, 3072);
    assert_shape(m, "transformer.h.11.mlp.c_proj.weight", 3072, 768);
    assert_shape(m, "transformer.h.11.ln_2.bias", 768, 0);
    assert_shape(m, "transformer.ln_f.bias", 768, 0);
    assert_null(tensor(m, "lm_head.weight"));
    assert_int_equal(m->hp.learned_pos, 1);
    assert_int_equal(m->hp.layer_norm, 1);
    assert_int_equal(m->hp.gated_ffn, 0);
    mw_model_free(m);

    m = open_preset("pythia-1.4b");
    assert_shape(m, "gpt_neox.embed_in.weight", 50304, 2048);
    assert_shape(m, "gpt_neox.layers.0.attention.query_key_value.weight", 6144, 2048);
    assert_shape(m, "gpt_neox.layers.0.attention.query_key_value.bias", 6144, 0);
    assert_shape(m, "gpt_neox.layers.23.attention.dense.bias", 2048, 0);
    assert_shape(m, "gpt_neox.layers.23.mlp.dense_h_to_4h.weight", 8192, 2048);
    assert_shape(m, "gpt_neox.layers.23.mlp.dense_4h_to_h.weight", 2048, 8192);
    assert_shape(m, "gpt_neox.layers.23.input_layernorm.bias", 2048, 0);
    assert_shape(m, "gpt_neox.final_layer_norm.weight", 2048, 0);
    assert_shape(m, "embed_out.weight", 50304, 2048);
    mw_model_free(m);
}

/* A small llama whose sizes a test can bend. */
static mw_hparams tiny_llama(void)
{
    mw_hparams hp;
    memset(&hp, 0, sizeof hp);
    snprintf(hp.arch, sizeof hp.arch, "llama");
    hp.n_layers = 2;
    hp.n_embd = 64;
    hp.n_heads = 4;
    hp.n_kv_heads = 2;
    hp.head_dim = 16;
    hp.n_ff = 172;
    hp.n_vocab = 256;
    hp.gated_ffn = 1;
    hp.dtype = MW_DTYPE_F32;
    return hp;
}

static mw_status build(const mw_hparams *hp, mw_dtype dtype, mw_model **out, mw_err *err)
{
    mw_model *m = mw_model_alloc(MW_SOURCE_HF_CONFIG, "tiny");
    assert_non_null(m);
    mw_status st = mw_arch_add_tensors(hp, dtype, m, err);
    mw_model_finish(m);
    *out = m;
    return st;
}

static void block_must_divide_rows(void **state)
{
    (void)state;
    mw_hparams hp = tiny_llama();
    mw_model *m;
    mw_err err = {0};
    assert_int_equal(build(&hp, MW_DTYPE_F16, &m, &err), MW_OK);
    /* 256*64*2 (embed + head) + 2 * (64*64 + 2*32*64 + 64*64 + 3*64*172 + 128) + 64 */
    assert_true(m->n_params == 32768 + 2 * (4096 + 4096 + 4096 + 33024 + 128) + 64);
    mw_model_free(m);

    /* rows of 172 are not whole Q8_0 blocks (32): down_proj is named */
    assert_int_equal(build(&hp, MW_DTYPE_Q8_0, &m, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "model.layers.0.mlp.down_proj.weight"));
    assert_non_null(strstr(err.msg, "not a whole number of Q8_0 blocks (32"));
    mw_model_free(m);

    /* a row of 64 is not a Q4_K block (256), even where the count (256*64) is */
    hp.n_ff = 256;
    assert_int_equal(build(&hp, MW_DTYPE_Q4_K, &m, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "model.embed_tokens.weight: rows of 64 elements"));
    mw_model_free(m);
    hp.n_embd = 256;
    hp.head_dim = 64;
    assert_int_equal(build(&hp, MW_DTYPE_Q4_K, &m, &err), MW_OK);
    mw_model_free(m);
}

static void biases_follow_the_config(void **state)
{
    (void)state;
    mw_hparams hp = tiny_llama();
    hp.attn_bias = 1; /* llama's attention_bias: q, k, v and o */
    mw_model *m;
    mw_err err = {0};
    assert_int_equal(build(&hp, MW_DTYPE_F32, &m, &err), MW_OK);
    assert_shape(m, "model.layers.1.self_attn.k_proj.bias", 32, 0);
    assert_shape(m, "model.layers.1.self_attn.o_proj.bias", 64, 0);
    assert_null(tensor(m, "model.layers.1.mlp.down_proj.bias"));
    mw_model_free(m);
    hp.mlp_bias = 1;
    hp.tied_embeddings = 1;
    assert_int_equal(build(&hp, MW_DTYPE_F32, &m, &err), MW_OK);
    assert_shape(m, "model.layers.1.mlp.gate_proj.bias", 172, 0);
    assert_shape(m, "model.layers.1.mlp.down_proj.bias", 64, 0);
    assert_null(tensor(m, "lm_head.weight"));
    mw_model_free(m);
}

static void bad_hparams_are_explained(void **state)
{
    (void)state;
    mw_hparams hp = tiny_llama();
    mw_model *m;
    mw_err err = {0};

    snprintf(hp.arch, sizeof hp.arch, "falcon");
    assert_int_equal(build(&hp, MW_DTYPE_F16, &m, &err), MW_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "\"falcon\" is not supported (supported: llama, mistral"));
    mw_model_free(m);

    hp = tiny_llama();
    hp.n_ff = 0;
    assert_int_equal(build(&hp, MW_DTYPE_F16, &m, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "feed-forward size is not given"));
    mw_model_free(m);

    hp = tiny_llama();
    hp.n_layers = 1000000; /* would be 12 million tensors: refused before any is made */
    assert_int_equal(build(&hp, MW_DTYPE_F16, &m, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "more than memwall lists"));
    assert_int_equal(m->n_tensors, 0);
    mw_model_free(m);

    hp = tiny_llama();
    snprintf(hp.arch, sizeof hp.arch, "mixtral");
    assert_int_equal(build(&hp, MW_DTYPE_F16, &m, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "num_local_experts"));
    mw_model_free(m);
    hp.n_experts = 100000; /* 2 layers x 100000 experts x 3: 600k tensors, allowed... */
    hp.n_layers = 4;       /* ...but 4 layers are 1.2 million: refused */
    assert_int_equal(build(&hp, MW_DTYPE_F16, &m, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "num_local_experts"));
    mw_model_free(m);

    hp = tiny_llama();
    snprintf(hp.arch, sizeof hp.arch, "gpt2");
    assert_int_equal(build(&hp, MW_DTYPE_F16, &m, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "n_positions"));
    mw_model_free(m);

    /* sizes whose bytes overflow 64 bits are refused, not wrapped */
    hp = tiny_llama();
    hp.n_vocab = UINT32_MAX;
    hp.n_embd = UINT32_MAX;
    hp.n_heads = 1;
    hp.n_kv_heads = 1;
    hp.head_dim = UINT32_MAX;
    assert_int_equal(build(&hp, MW_DTYPE_F32, &m, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "model.embed_tokens.weight"));
    mw_model_free(m);
    assert_int_equal(build(&hp, MW_DTYPE_I8, &m, &err), MW_ERR_INVALID); /* 1 B each: sum */
    assert_non_null(strstr(err.msg, "overflows 64 bits"));
    mw_model_free(m);
}

static void arch_names(void **state)
{
    (void)state;
    static const char *const yes[] = {"llama", "mistral", "qwen2", "gemma",
                                      "phi3", "gpt2", "gpt_neox", "mixtral",
                                      "qwen2_moe", "qwen3_moe", "deepseek_v2", "deepseek_v3"};
    for (size_t i = 0; i < MW_ARRAY_LEN(yes); i++) {
        assert_true(mw_arch_supported(yes[i]));
        assert_non_null(strstr(mw_arch_list(), yes[i]));
    }
    assert_false(mw_arch_supported("falcon"));
    assert_false(mw_arch_supported("Llama"));
    assert_false(mw_arch_supported(""));
    assert_false(mw_arch_supported(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(preset_params_are_exact),
        cmocka_unit_test(qwen3_non_embedding_matches_cards),
        cmocka_unit_test(dense_architectures_names_and_shapes),
        cmocka_unit_test(preset_weight_bytes_at_their_type),
        cmocka_unit_test(q8_0_matrices_and_f32_vectors),
        cmocka_unit_test(f16_keeps_vectors_at_f16),
        cmocka_unit_test(llama3_8b_kv_hparams),
        cmocka_unit_test(llama_names_and_shapes),
        cmocka_unit_test(other_families_names_and_shapes),
        cmocka_unit_test(block_must_divide_rows),
        cmocka_unit_test(biases_follow_the_config),
        cmocka_unit_test(bad_hparams_are_explained),
        cmocka_unit_test(arch_names),
        cmocka_unit_test(moe_active_params_match_the_cards),
        cmocka_unit_test(mla_and_moe_names_and_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

