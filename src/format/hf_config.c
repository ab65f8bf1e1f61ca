/*
 * hf_config.c - a Hugging Face config.json -> mw_hparams, and the model a
 * config (or a preset, presets.c) implies.
 *
 * Keys and defaults follow transformers' config classes (LlamaConfig,
 * MistralConfig, Qwen2Config, GemmaConfig, Phi3Config, MixtralConfig,
 * GPT2Config, GPTNeoXConfig; Qwen2MoeConfig, Qwen3MoeConfig,
 * DeepseekV2Config, DeepseekV3Config for the MoE and MLA ones): a key a config may leave out gets the class's
 * default (num_key_value_heads = num_attention_heads, gemma's head_dim 256,
 * gemma and gpt2 tie the output to the embedding); a key that sizes a tensor
 * and has no sensible default is required. Every number is checked and an
 * error names the file, the key and the value found.
 *
 * torch_dtype (or "dtype", its name since transformers 4.56) absent: F32,
 * the type transformers gives the weights when it is not told otherwise
 * (GPT-2's config has none, and its checkpoint is F32).
 *
 * The JSON is trusted no more than a weights file: the text need not be
 * NUL-terminated, trailing bytes after the object are rejected, and a key
 * given twice is an error (cJSON would keep the first, Python's json the
 * last: the two would describe different models).
 */
#include "format/hf_config.h"
#include "format/arch.h"
#include "format/model_build.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/json.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_MAX_BYTES (4u << 20) /* real ones are 1-5 KiB */

/* cJSON returns NULL both for bad JSON and for a failed allocation: the
 * allocator's failure count tells them apart. */
static uint64_t alloc_failures(void)
{
    mw_mem_stats s;
    mw_mem_get_stats(&s);
    return s.failures;
}

typedef struct parser {
    const cJSON *root;
    const char *where;       /* the file or preset, for messages */
    const char *type;        /* model_type                       */
    mw_err *err;
} parser;

/* Writes a value for a message: "\"abc\"", "-1", "1.5", "null", "true",
 * "an array". Strings are cut at 40 bytes; controls (and quotes) become
 * '?' (mw_shown), so a message stays one clean line. */
static void describe(const cJSON *v, char *buf, size_t cap)
{
    if (cJSON_IsString(v) && v->valuestring) {
        char s[44]; /* 40 bytes and "..." */
        mw_shown_str(v->valuestring, s, sizeof s);
        for (char *c = s; *c; c++) /* the quotes around it stay unambiguous */
            if (*c == '"' || *c == '\\') *c = '?';
        snprintf(buf, cap, "\"%s\"", s);
    } else if (cJSON_IsNumber(v)) {
        snprintf(buf, cap, "%.15g", v->valuedouble);
    } else if (cJSON_IsBool(v)) {
        snprintf(buf, cap, "%s", cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsNull(v)) {
        snprintf(buf, cap, "null");
    } else if (cJSON_IsArray(v)) {
        snprintf(buf, cap, "an array");
    } else {
        snprintf(buf, cap, "an object");
    }
}

/* The value of key in obj, or NULL when absent or null (transformers treats
 * null as "use the default"). A key given twice is an error. */
static mw_status find_in(const parser *p, const cJSON *obj, const char *key, const cJSON **out)
{
    const cJSON *found = NULL;
    for (const cJSON *c = obj->child; c; c = c->next) {
        if (!c->string || strcmp(c->string, key)) continue;
        MW_RETURN_IF(found, p->err, MW_ERR_INVALID,
                     "%s: key %s is given twice; which one is meant?", p->where, key);
        found = c;
    }
    *out = cJSON_IsNull(found) ? NULL : found;
    return MW_OK;
}

static mw_status find(const parser *p, const char *key, const cJSON **out)
{
    return find_in(p, p->root, key, out);
}

/* A size: a positive integer that fits 32 bits. Absent: dflt, or an error
 * when dflt is 0 (required). */
static mw_status get_u32(const parser *p, const char *key, uint32_t dflt, uint32_t *out)
{
    const cJSON *v = NULL;
    MW_FORWARD(find(p, key, &v));
    if (!v) {
        MW_RETURN_IF(dflt == 0, p->err, MW_ERR_INVALID,
                     "%s: %s is missing (model_type \"%s\" needs it)", p->where, key, p->type);
        *out = dflt;
        return MW_OK;
    }
    char found[64];
    describe(v, found, sizeof found);
    double d = cJSON_IsNumber(v) ? v->valuedouble : -1;
    MW_RETURN_IF(!isfinite(d) || d < 1 || d != floor(d), p->err, MW_ERR_INVALID,
                 "%s: %s must be a positive integer, found %s", p->where, key, found);
    MW_RETURN_IF(d > UINT32_MAX, p->err, MW_ERR_INVALID,
                 "%s: %s must be at most %u, found %s", p->where, key, UINT32_MAX, found);
    *out = (uint32_t)d;
    return MW_OK;
}

/* A positive finite number (rope_theta, epsilons); absent: dflt. */
static mw_status get_positive_in(const parser *p, const cJSON *obj, const char *key, double dflt,
                                 double *out)
{
    const cJSON *v = NULL;
    MW_FORWARD(find_in(p, obj, key, &v));
    if (!v) {
        *out = dflt;
        return MW_OK;
    }
    char found[64];
    describe(v, found, sizeof found);
    MW_RETURN_IF(!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || !(v->valuedouble > 0),
                 p->err, MW_ERR_INVALID, "%s: %s must be a positive number, found %s", p->where,
                 key, found);
    *out = v->valuedouble;
    return MW_OK;
}

static mw_status get_positive(const parser *p, const char *key, double dflt, double *out)
{
    return get_positive_in(p, p->root, key, dflt, out);
}

static mw_status get_bool(const parser *p, const char *key, int dflt, int *out)
{
    const cJSON *v = NULL;
    MW_FORWARD(find(p, key, &v));
    if (!v) {
        *out = dflt;
        return MW_OK;
    }
    char found[64];
    describe(v, found, sizeof found);
    MW_RETURN_IF(!cJSON_IsBool(v), p->err, MW_ERR_INVALID,
                 "%s: %s must be true or false, found %s", p->where, key, found);
    *out = cJSON_IsTrue(v) ? 1 : 0;
    return MW_OK;
}

/* torch_dtype, or dtype (transformers >= 4.56 writes that name). */
static mw_status get_dtype(const parser *p, mw_dtype *out)
{
    const char *key = "torch_dtype";
    const cJSON *v = NULL;
    MW_FORWARD(find(p, key, &v));
    if (!v) {
        key = "dtype";
        MW_FORWARD(find(p, key, &v));
    }
    if (!v) {
        *out = MW_DTYPE_COUNT; /* not stated: the tensors (or F32) decide */
        return MW_OK;
    }
    static const struct { const char *name; mw_dtype t; } names[] = {
        {"bfloat16", MW_DTYPE_BF16}, {"float16", MW_DTYPE_F16}, {"float32", MW_DTYPE_F32},
    };
    char found[64];
    describe(v, found, sizeof found);
    MW_RETURN_IF(!cJSON_IsString(v), p->err, MW_ERR_INVALID,
                 "%s: %s must be a string such as \"bfloat16\", found %s", p->where, key, found);
    for (size_t i = 0; i < MW_ARRAY_LEN(names); i++) {
        if (!strcmp(v->valuestring, names[i].name)) {
            *out = names[i].t;
            return MW_OK;
        }
    }
    return mw_err_set(p->err, MW_ERR_UNSUPPORTED,
                      "%s: %s %s is not supported (bfloat16, float16, float32)", p->where, key,
                      found);
}

/* rope_theta, or rope_parameters.rope_theta (transformers 5's layout). */
static mw_status get_rope_theta(const parser *p, const char *legacy_key, double dflt, double *out)
{
    const cJSON *v = NULL;
    MW_FORWARD(find(p, "rope_theta", &v));
    if (v) return get_positive(p, "rope_theta", dflt, out);
    if (legacy_key) {
        MW_FORWARD(find(p, legacy_key, &v));
        if (v) return get_positive(p, legacy_key, dflt, out);
    }
    MW_FORWARD(find(p, "rope_parameters", &v));
    if (cJSON_IsObject(v)) return get_positive_in(p, v, "rope_theta", dflt, out);
    *out = dflt;
    return MW_OK;
}

static mw_status check_divides(const parser *p, const char *big_key, uint32_t big,
                               const char *small_key, uint32_t small, const char *why)
{
    MW_RETURN_IF(big % small != 0, p->err, MW_ERR_INVALID,
                 "%s: %s %u is not a multiple of %s %u%s", p->where, big_key, big, small_key,
                 small, why);
    return MW_OK;
}

/* ---- Dense architectures of issue #13: qwen3, llama 3.1/3.2 rope scaling,
 * gemma2, gemma3 (docs/PLAN.md, "Architectures"). Kept apart from the
 * common parse so each reads as one block. ---- */

/* gemma3_text's defaults: transformers' Gemma3TextConfig.__init__
 * (models/gemma3/configuration_gemma3.py). The published multimodal configs
 * (google/gemma-3-4b-it ...) leave most keys of their text_config to them. */
#define GEMMA3_VOCAB 262208u
#define GEMMA3_HIDDEN 2304u
#define GEMMA3_FF 9216u
#define GEMMA3_LAYERS 26u
#define GEMMA3_HEADS 8u
#define GEMMA3_KV_HEADS 4u
#define GEMMA3_CTX 131072u
#define GEMMA3_ROPE_THETA 1e6
#define GEMMA3_WINDOW 4096u  /* sliding_window                          */
#define GEMMA3_PERIOD 6u     /* sliding_window_pattern: 5 local, 1 global */
/* Gemma2Config: sliding_window 4096, and layer i local when i is even
 * (layer_types: "sliding_attention" if (i + 1) % 2 else "full_attention";
 * before layer_types, Gemma2Attention: not bool(layer_idx % 2)). */
#define GEMMA2_WINDOW 4096u
#define GEMMA2_PERIOD 2u

/* A positive integer key inside obj (rope_scaling's); absent: *out stays. */
static mw_status get_u32_in(const parser *p, const cJSON *obj, const char *where_key,
                            const char *key, uint32_t *out)
{
    const cJSON *v = NULL;
    MW_FORWARD(find_in(p, obj, key, &v));
    if (!v) return MW_OK; /* *out keeps its default */
    char found[64];
    describe(v, found, sizeof found);
    double d = cJSON_IsNumber(v) ? v->valuedouble : -1;
    MW_RETURN_IF(!isfinite(d) || d < 1 || d != floor(d) || d > UINT32_MAX, p->err,
                 MW_ERR_INVALID, "%s: %s.%s must be a positive 32-bit integer, found %s",
                 p->where, where_key, key, found);
    *out = (uint32_t)d;
    return MW_OK;
}

/* rope_scaling: null or absent (none), or an object whose rope_type (or
 * "type", its older name) transformers knows (ROPE_INIT_FUNCTIONS in
 * modeling_rope_utils.py; "su" is Phi-3's early name for longrope). Only
 * recorded: rope scaling changes no tensor and no cache. transformers 5
 * moves it into rope_parameters, read when rope_scaling is absent. */
static mw_status parse_rope_scaling(const parser *p, mw_hparams *hp)
{
    static const char *const known[] = {"default", "linear", "dynamic", "yarn",
                                        "longrope", "su", "llama3"};
    const char *key = "rope_scaling";
    const cJSON *rs = NULL;
    MW_FORWARD(find(p, key, &rs));
    if (!rs) {
        key = "rope_parameters";
        MW_FORWARD(find(p, key, &rs));
        if (!rs) return MW_OK;
    }
    char found[64];
    describe(rs, found, sizeof found);
    MW_RETURN_IF(!cJSON_IsObject(rs), p->err, MW_ERR_INVALID,
                 "%s: %s must be an object or null, found %s", p->where, key, found);
    const cJSON *t = NULL;
    MW_FORWARD(find_in(p, rs, "rope_type", &t));
    if (!t) MW_FORWARD(find_in(p, rs, "type", &t));
    if (!t) {
        /* rope_parameters holds rope_theta alone for plain rotary */
        MW_RETURN_IF(strcmp(key, "rope_parameters"), p->err, MW_ERR_INVALID,
                     "%s: rope_scaling has no rope_type (or type); which scaling is meant?",
                     p->where);
        return MW_OK;
    }
    describe(t, found, sizeof found);
    MW_RETURN_IF(!cJSON_IsString(t), p->err, MW_ERR_INVALID,
                 "%s: %s.rope_type must be a string, found %s", p->where, key, found);
    size_t i = 0;
    while (i < MW_ARRAY_LEN(known) && strcmp(t->valuestring, known[i])) i++;
    MW_RETURN_IF(i == MW_ARRAY_LEN(known), p->err, MW_ERR_UNSUPPORTED,
                 "%s: %s.rope_type %s is not known (default, linear, dynamic, yarn, longrope, "
                 "su, llama3)",
                 p->where, key, found);
    if (!strcmp(known[i], "default")) return MW_OK;
    snprintf(hp->rope_scaling, sizeof hp->rope_scaling, "%s", known[i]);
    MW_FORWARD(get_positive_in(p, rs, "factor", 0, &hp->rope_factor));
    /* all but longrope scale by a factor (longrope by per-dimension arrays) */
    MW_RETURN_IF(hp->rope_factor == 0 && strcmp(known[i], "longrope") && strcmp(known[i], "su"),
                 p->err, MW_ERR_INVALID, "%s: %s of type %s has no factor", p->where, key,
                 known[i]);
    return get_u32_in(p, rs, key, "original_max_position_embeddings", &hp->rope_orig_ctx);
}

/* layer_types (newer gemma2/gemma3 configs): "sliding_attention" or
 * "full_attention" per layer. memwall keeps the rule (i + 1) % period == 0
 * for global layers, so the list must follow one (every published list does);
 * all full: no sliding layers. */
static mw_status parse_layer_types(const parser *p, mw_hparams *hp)
{
    const cJSON *lt = NULL;
    MW_FORWARD(find(p, "layer_types", &lt));
    if (!lt) return MW_OK;
    MW_RETURN_IF(!cJSON_IsArray(lt) || (uint32_t)cJSON_GetArraySize(lt) != hp->n_layers,
                 p->err, MW_ERR_INVALID,
                 "%s: layer_types must be an array of num_hidden_layers (%u) strings", p->where,
                 hp->n_layers);
    uint32_t i = 0, first_full = 0, n_full = 0;
    for (const cJSON *c = lt->child; c; c = c->next, i++) {
        int full = cJSON_IsString(c) && !strcmp(c->valuestring, "full_attention");
        int slid = cJSON_IsString(c) && !strcmp(c->valuestring, "sliding_attention");
        char found[64];
        describe(c, found, sizeof found);
        MW_RETURN_IF(!full && !slid, p->err, MW_ERR_UNSUPPORTED,
                     "%s: layer_types[%u] is %s; memwall knows \"sliding_attention\" and "
                     "\"full_attention\"",
                     p->where, i, found);
        if (full && n_full++ == 0) first_full = i;
    }
    if (n_full == hp->n_layers) { /* no local layer: the window is moot */
        hp->sliding_window = 0;
        hp->swa_period = 0;
        return MW_OK;
    }
    hp->swa_period = n_full ? first_full + 1 : 0;
    i = 0;
    for (const cJSON *c = lt->child; c; c = c->next, i++) {
        int full = !strcmp(c->valuestring, "full_attention");
        int rule = hp->swa_period && (i + 1) % hp->swa_period == 0;
        MW_RETURN_IF(full != rule, p->err, MW_ERR_UNSUPPORTED,
                     "%s: layer_types[%u] breaks the pattern of a global layer every %u "
                     "(memwall plans periodic sliding-window layers only)",
                     p->where, i, hp->swa_period);
    }
    return MW_OK;
}

/* What qwen3, gemma2 and gemma3 add to the llama layout. */
static mw_status parse_dense_extras(const parser *p, mw_hparams *hp)
{
    const char *t = p->type;
    const int gemma2 = !strcmp(t, "gemma2"), gemma3 = !strcmp(t, "gemma3_text");
    if (!strcmp(t, "qwen3") || gemma3) hp->qk_norm = 1;
    if (!gemma2 && !gemma3) return MW_OK;
    hp->ffn_norms = 1;
    MW_FORWARD(get_u32(p, "sliding_window", gemma2 ? GEMMA2_WINDOW : GEMMA3_WINDOW,
                       &hp->sliding_window));
    if (gemma2) {
        hp->swa_period = GEMMA2_PERIOD;
    } else {
        const cJSON *v = NULL;
        const char *key = "sliding_window_pattern";
        MW_FORWARD(find(p, key, &v));
        if (!v) key = "_sliding_window_pattern"; /* as transformers >= 4.53 saves it */
        MW_FORWARD(get_u32(p, key, GEMMA3_PERIOD, &hp->swa_period));
    }
    return parse_layer_types(p, hp);
}

static mw_status parse_llama_family(const parser *p, mw_hparams *hp)
{
    const char *t = p->type;
    const int moe = !strcmp(t, "mixtral");
    /* gemma2 and gemma3 have gemma's head_dim default and tied output */
    const int g3 = !strcmp(t, "gemma3_text");
    const int gemma = !strcmp(t, "gemma") || !strcmp(t, "gemma2") || g3;
    MW_FORWARD(get_u32(p, "hidden_size", g3 ? GEMMA3_HIDDEN : 0, &hp->n_embd));
    MW_FORWARD(get_u32(p, "num_hidden_layers", g3 ? GEMMA3_LAYERS : 0, &hp->n_layers));
    MW_FORWARD(get_u32(p, "num_attention_heads", g3 ? GEMMA3_HEADS : 0, &hp->n_heads));
    MW_FORWARD(get_u32(p, "num_key_value_heads", g3 ? GEMMA3_KV_HEADS : hp->n_heads,
                       &hp->n_kv_heads));
    MW_FORWARD(get_u32(p, "intermediate_size", g3 ? GEMMA3_FF : 0, &hp->n_ff));
    MW_FORWARD(get_u32(p, "vocab_size", g3 ? GEMMA3_VOCAB : 0, &hp->n_vocab));
    const cJSON *v = NULL;
    MW_FORWARD(find(p, "max_position_embeddings", &v));
    if (v || g3)
        MW_FORWARD(get_u32(p, "max_position_embeddings", GEMMA3_CTX, &hp->n_ctx_train));
    /* head_dim: given (gemma always, Mistral-Nemo and later llamas too), or
     * GemmaConfig's default 256, or hidden / heads. */
    MW_FORWARD(find(p, "head_dim", &v));
    if (v || gemma) {
        MW_FORWARD(get_u32(p, "head_dim", 256, &hp->head_dim));
    } else {
        MW_FORWARD(check_divides(p, "hidden_size", hp->n_embd, "num_attention_heads",
                                 hp->n_heads, " (and no head_dim is given)"));
        hp->head_dim = hp->n_embd / hp->n_heads;
    }
    MW_RETURN_IF(hp->n_kv_heads > hp->n_heads, p->err, MW_ERR_INVALID,
                 "%s: num_key_value_heads %u exceeds num_attention_heads %u", p->where,
                 hp->n_kv_heads, hp->n_heads);
    MW_FORWARD(check_divides(p, "num_attention_heads", hp->n_heads, "num_key_value_heads",
                             hp->n_kv_heads, ""));
    if (moe) {
        MW_FORWARD(get_u32(p, "num_local_experts", 0, &hp->n_experts));
        MW_FORWARD(get_u32(p, "num_experts_per_tok", 0, &hp->n_experts_used));
        MW_RETURN_IF(hp->n_experts_used > hp->n_experts, p->err, MW_ERR_INVALID,
                     "%s: num_experts_per_tok %u exceeds num_local_experts %u", p->where,
                     hp->n_experts_used, hp->n_experts);
    }
    MW_FORWARD(get_rope_theta(p, NULL, moe ? 1e6 : g3 ? GEMMA3_ROPE_THETA : 10000.0,
                              &hp->rope_theta));
    double eps_default = (moe || !strcmp(t, "phi3")) ? 1e-5 : 1e-6;
    MW_FORWARD(get_positive(p, "rms_norm_eps", eps_default, &hp->norm_eps));
    MW_FORWARD(get_bool(p, "tie_word_embeddings", gemma, &hp->tied_embeddings));
    hp->gated_ffn = 1;
    if (!strcmp(t, "qwen2") || !strcmp(t, "qwen2_moe")) {
        hp->attn_bias = 1; /* q, k, v (arch.c: never o) */
    } else if (!strcmp(t, "llama") || gemma || !strcmp(t, "qwen3") || !strcmp(t, "qwen3_moe")) {
        /* those whose attention reads attention_bias (q, k, v, o) */
        MW_FORWARD(get_bool(p, "attention_bias", 0, &hp->attn_bias));
        if (!strcmp(t, "llama")) MW_FORWARD(get_bool(p, "mlp_bias", 0, &hp->mlp_bias));
    }
    MW_FORWARD(parse_rope_scaling(p, hp));
    return parse_dense_extras(p, hp);
}

static mw_status parse_gpt2(const parser *p, mw_hparams *hp)
{
    MW_FORWARD(get_u32(p, "n_embd", 0, &hp->n_embd));
    MW_FORWARD(get_u32(p, "n_layer", 0, &hp->n_layers));
    MW_FORWARD(get_u32(p, "n_head", 0, &hp->n_heads));
    MW_FORWARD(get_u32(p, "n_positions", 0, &hp->n_ctx_train));
    MW_FORWARD(get_u32(p, "vocab_size", 0, &hp->n_vocab));
    MW_FORWARD(check_divides(p, "n_embd", hp->n_embd, "n_head", hp->n_heads, ""));
    const cJSON *v = NULL;
    MW_FORWARD(find(p, "n_inner", &v));
    if (v) {
        MW_FORWARD(get_u32(p, "n_inner", 0, &hp->n_ff));
    } else {
        MW_RETURN_IF(hp->n_embd > UINT32_MAX / 4, p->err, MW_ERR_INVALID,
                     "%s: n_inner defaults to 4 x n_embd, which overflows 32 bits for n_embd %u",
                     p->where, hp->n_embd);
        hp->n_ff = 4 * hp->n_embd;
    }
    MW_FORWARD(get_positive(p, "layer_norm_epsilon", 1e-5, &hp->norm_eps));
    MW_FORWARD(get_bool(p, "tie_word_embeddings", 1, &hp->tied_embeddings));
    hp->n_kv_heads = hp->n_heads;
    hp->head_dim = hp->n_embd / hp->n_heads;
    hp->learned_pos = 1;
    hp->layer_norm = 1;
    hp->attn_bias = hp->mlp_bias = 1;
    return MW_OK;
}

static mw_status parse_gpt_neox(const parser *p, mw_hparams *hp)
{
    MW_FORWARD(get_u32(p, "hidden_size", 0, &hp->n_embd));
    MW_FORWARD(get_u32(p, "num_hidden_layers", 0, &hp->n_layers));
    MW_FORWARD(get_u32(p, "num_attention_heads", 0, &hp->n_heads));
    MW_FORWARD(get_u32(p, "intermediate_size", 0, &hp->n_ff));
    MW_FORWARD(get_u32(p, "vocab_size", 0, &hp->n_vocab));
    const cJSON *v = NULL;
    MW_FORWARD(find(p, "max_position_embeddings", &v));
    if (v) MW_FORWARD(get_u32(p, "max_position_embeddings", 0, &hp->n_ctx_train));
    MW_FORWARD(check_divides(p, "hidden_size", hp->n_embd, "num_attention_heads", hp->n_heads,
                             ""));
    MW_FORWARD(get_rope_theta(p, "rotary_emb_base", 10000.0, &hp->rope_theta));
    MW_FORWARD(get_positive(p, "layer_norm_eps", 1e-5, &hp->norm_eps));
    MW_FORWARD(get_bool(p, "tie_word_embeddings", 0, &hp->tied_embeddings));
    /* use_parallel_residual changes the order of the sums, not the tensors */
    MW_FORWARD(get_bool(p, "attention_bias", 1, &hp->attn_bias));
    hp->n_kv_heads = hp->n_heads;
    hp->head_dim = hp->n_embd / hp->n_heads;
    hp->layer_norm = 1;
    hp->mlp_bias = 1;
    return MW_OK;
}


/* ---- MoE and MLA (issue #13): qwen2_moe, qwen3_moe, deepseek_v2/v3 ----
 * Keys and defaults from transformers' Qwen2MoeConfig, Qwen3MoeConfig,
 * DeepseekV2Config and DeepseekV3Config (and the configuration_deepseek.py
 * the DeepSeek repositories ship). */

/* An optional size: absent or null leaves *out at 0 (deepseek's q_lora_rank
 * is null in V2-Lite: a plain q_proj). */
static mw_status get_u32_or_null(const parser *p, const char *key, uint32_t *out)
{
    const cJSON *v = NULL;
    MW_FORWARD(find(p, key, &v));
    *out = 0;
    if (!v || cJSON_IsNull(v)) return MW_OK;
    return get_u32(p, key, 0, out);
}

/* A count that may be 0 (n_shared_experts, first_k_dense_replace,
 * num_nextn_predict_layers); absent: dflt. */
static mw_status get_count(const parser *p, const char *key, uint32_t dflt, uint32_t *out)
{
    const cJSON *v = NULL;
    MW_FORWARD(find(p, key, &v));
    if (!v) {
        *out = dflt;
        return MW_OK;
    }
    char found[64];
    describe(v, found, sizeof found);
    double d = cJSON_IsNumber(v) ? v->valuedouble : -1;
    MW_RETURN_IF(!isfinite(d) || d < 0 || d != floor(d) || d > UINT32_MAX, p->err,
                 MW_ERR_INVALID, "%s: %s must be a whole number (0 or more), found %s",
                 p->where, key, found);
    *out = (uint32_t)d;
    return MW_OK;
}

static mw_status check_experts(const parser *p, const char *experts_key, mw_hparams *hp)
{
    MW_RETURN_IF(hp->n_experts_used > hp->n_experts, p->err, MW_ERR_INVALID,
                 "%s: num_experts_per_tok %u exceeds %s %u (a token cannot be sent to more "
                 "experts than there are)",
                 p->where, hp->n_experts_used, experts_key, hp->n_experts);
    return MW_OK;
}

/* qwen2_moe and qwen3_moe, after parse_llama_family: the experts. */
static mw_status parse_qwen_moe(const parser *p, mw_hparams *hp)
{
    const int qwen3 = !strcmp(p->type, "qwen3_moe");
    MW_FORWARD(get_u32(p, "num_experts", 0, &hp->n_experts));
    MW_FORWARD(get_u32(p, "num_experts_per_tok", 0, &hp->n_experts_used));
    MW_FORWARD(check_experts(p, "num_experts", hp));
    MW_FORWARD(get_u32(p, "moe_intermediate_size", 0, &hp->n_ff_expert));
    if (!qwen3) {
        /* Qwen2MoeSparseMoeBlock: always a shared expert and its gate */
        MW_FORWARD(get_u32(p, "shared_expert_intermediate_size", 0, &hp->n_ff_shared));
        hp->shared_expert_gate = 1;
    } else {
        hp->qk_norm = 1; /* Qwen3MoeAttention: q_norm, k_norm over head_dim */
    }
    MW_FORWARD(get_u32(p, "decoder_sparse_step", 1, &hp->moe_every));
    const cJSON *v = NULL;
    MW_FORWARD(find(p, "mlp_only_layers", &v));
    if (v && !cJSON_IsNull(v)) {
        char found[64];
        describe(v, found, sizeof found);
        MW_RETURN_IF(!cJSON_IsArray(v), p->err, MW_ERR_INVALID,
                     "%s: mlp_only_layers must be a list of layer numbers, found %s", p->where,
                     found);
        int i = 0;
        for (const cJSON *e = v->child; e; e = e->next, i++) {
            describe(e, found, sizeof found);
            double d = cJSON_IsNumber(e) ? e->valuedouble : -1;
            MW_RETURN_IF(!isfinite(d) || d < 0 || d != floor(d) || d >= hp->n_layers, p->err,
                         MW_ERR_INVALID,
                         "%s: mlp_only_layers[%d] must be a layer number below "
                         "num_hidden_layers %u, found %s",
                         p->where, i, hp->n_layers, found);
            MW_RETURN_IF(d >= 64 * MW_ARRAY_LEN(hp->moe_dense_layers), p->err,
                         MW_ERR_UNSUPPORTED,
                         "%s: mlp_only_layers[%d] = %s: memwall keeps dense layers of the "
                         "first %zu only",
                         p->where, i, found, 64 * MW_ARRAY_LEN(hp->moe_dense_layers));
            uint32_t l = (uint32_t)d;
            hp->moe_dense_layers[l / 64] |= 1ull << (l % 64);
        }
    }
    return MW_OK;
}

/* deepseek_v2, deepseek_v3: MLA attention and DeepSeekMoE. */
static mw_status parse_deepseek(const parser *p, mw_hparams *hp)
{
    const int v3 = !strcmp(p->type, "deepseek_v3");
    MW_FORWARD(get_u32(p, "hidden_size", 0, &hp->n_embd));
    MW_FORWARD(get_u32(p, "num_hidden_layers", 0, &hp->n_layers));
    MW_FORWARD(get_u32(p, "num_attention_heads", 0, &hp->n_heads));
    MW_FORWARD(get_u32(p, "num_key_value_heads", hp->n_heads, &hp->n_kv_heads));
    MW_FORWARD(get_u32(p, "intermediate_size", 0, &hp->n_ff));
    MW_FORWARD(get_u32(p, "vocab_size", 0, &hp->n_vocab));
    const cJSON *v = NULL;
    MW_FORWARD(find(p, "max_position_embeddings", &v));
    if (v) MW_FORWARD(get_u32(p, "max_position_embeddings", 0, &hp->n_ctx_train));
    /* MLA */
    MW_FORWARD(get_u32_or_null(p, "q_lora_rank", &hp->q_lora_rank));
    MW_FORWARD(find(p, "kv_lora_rank", &v));
    MW_RETURN_IF(!v || cJSON_IsNull(v), p->err, MW_ERR_INVALID,
                 "%s: kv_lora_rank is missing; model_type \"%s\" caches a latent of that width "
                 "(multi-head latent attention), so it is required",
                 p->where, p->type);
    MW_FORWARD(get_u32(p, "kv_lora_rank", 0, &hp->kv_lora_rank));
    MW_FORWARD(get_u32(p, "qk_nope_head_dim", 0, &hp->qk_nope_dim));
    MW_FORWARD(get_u32(p, "qk_rope_head_dim", 0, &hp->qk_rope_dim));
    MW_FORWARD(get_u32(p, "v_head_dim", 0, &hp->v_head_dim));
    MW_RETURN_IF(hp->qk_nope_dim > UINT32_MAX - hp->qk_rope_dim, p->err, MW_ERR_INVALID,
                 "%s: qk_nope_head_dim + qk_rope_head_dim overflows 32 bits", p->where);
    hp->head_dim = hp->qk_nope_dim + hp->qk_rope_dim; /* a query's and a key's width */
    /* DeepSeekMoE */
    MW_FORWARD(get_u32(p, "n_routed_experts", 0, &hp->n_experts));
    MW_FORWARD(get_u32(p, "num_experts_per_tok", 0, &hp->n_experts_used));
    MW_FORWARD(check_experts(p, "n_routed_experts", hp));
    MW_FORWARD(get_u32(p, "moe_intermediate_size", 0, &hp->n_ff_expert));
    MW_FORWARD(get_count(p, "n_shared_experts", 0, &hp->n_shared_experts));
    MW_RETURN_IF((uint64_t)hp->n_shared_experts * hp->n_ff_expert > UINT32_MAX, p->err,
                 MW_ERR_INVALID, "%s: n_shared_experts %u x moe_intermediate_size %u overflows "
                 "32 bits", p->where, hp->n_shared_experts, hp->n_ff_expert);
    hp->n_ff_shared = hp->n_shared_experts * hp->n_ff_expert; /* one MLP that wide */
    MW_FORWARD(get_count(p, "first_k_dense_replace", 0, &hp->moe_first_dense));
    MW_RETURN_IF(hp->moe_first_dense > hp->n_layers, p->err, MW_ERR_INVALID,
                 "%s: first_k_dense_replace %u exceeds num_hidden_layers %u", p->where,
                 hp->moe_first_dense, hp->n_layers);
    MW_FORWARD(get_u32(p, "moe_layer_freq", 1, &hp->moe_every));
    MW_FORWARD(get_count(p, "num_nextn_predict_layers", 0, &hp->n_mtp_layers));
    hp->expert_bias = v3; /* DeepseekV3TopkRouter: e_score_correction_bias */
    MW_FORWARD(get_rope_theta(p, NULL, 10000.0, &hp->rope_theta));
    MW_FORWARD(get_positive(p, "rms_norm_eps", 1e-6, &hp->norm_eps));
    MW_FORWARD(get_bool(p, "tie_word_embeddings", 0, &hp->tied_embeddings));
    MW_FORWARD(get_bool(p, "attention_bias", 0, &hp->attn_bias));
    MW_RETURN_IF(hp->attn_bias, p->err, MW_ERR_UNSUPPORTED,
                 "%s: attention_bias true is not supported for %s (no published checkpoint "
                 "has it)", p->where, p->type);
    hp->gated_ffn = 1;
    return MW_OK;
}

static mw_status parse_root(parser *p, mw_hparams *hp)
{
    MW_RETURN_IF(!cJSON_IsObject(p->root), p->err, MW_ERR_INVALID,
                 "%s: the top level is not a JSON object, so this is not a config.json",
                 p->where);
    const cJSON *mt = NULL;
    MW_FORWARD(find(p, "model_type", &mt));
    MW_RETURN_IF(!mt, p->err, MW_ERR_INVALID,
                 "%s: model_type is missing, so the architecture is unknown (supported: %s)",
                 p->where, mw_arch_list());
    char found[64];
    describe(mt, found, sizeof found);
    MW_RETURN_IF(!cJSON_IsString(mt), p->err, MW_ERR_INVALID,
                 "%s: model_type must be a string, found %s", p->where, found);
    MW_RETURN_IF(!mw_arch_supported(mt->valuestring), p->err, MW_ERR_UNSUPPORTED,
                 "%s: model_type %s is not supported (supported: %s)", p->where, found,
                 mw_arch_list());
    p->type = mt->valuestring;

    memset(hp, 0, sizeof *hp);
    snprintf(hp->arch, sizeof hp->arch, "%s", mt->valuestring);
    MW_FORWARD(get_dtype(p, &hp->dtype));
    if (!strcmp(p->type, "gemma3")) {
        /* Gemma3ForConditionalGeneration: the language model is text_config
         * (a Gemma3TextConfig); the vision tower is not planned (arch.c). */
        const cJSON *tc = NULL;
        MW_FORWARD(find(p, "text_config", &tc));
        describe(tc, found, sizeof found);
        MW_RETURN_IF(!cJSON_IsObject(tc), p->err, MW_ERR_INVALID,
                     "%s: model_type \"gemma3\" needs a text_config object (the language "
                     "model), found %s",
                     p->where, tc ? found : "none");
        p->root = tc;
        p->type = "gemma3_text";
        if (hp->dtype == MW_DTYPE_COUNT) MW_FORWARD(get_dtype(p, &hp->dtype));
    }
    if (!strcmp(p->type, "gpt2")) return parse_gpt2(p, hp);
    if (!strcmp(p->type, "gpt_neox")) return parse_gpt_neox(p, hp);
    if (!strncmp(p->type, "deepseek_", 9)) return parse_deepseek(p, hp);
    MW_FORWARD(parse_llama_family(p, hp));
    if (!strcmp(p->type, "qwen2_moe") || !strcmp(p->type, "qwen3_moe"))
        return parse_qwen_moe(p, hp);
    return MW_OK;
}

mw_status mw_hf_config_parse(const char *text, size_t len, const char *where,
                             mw_hparams *hp, mw_err *err)
{
    if (!where) where = "config.json";
    MW_RETURN_IF(!text || !hp, err, MW_ERR_INVALID, "%s: no text to parse", where);
    mw_json_init();
    /* cJSON 1.7.15 may read one byte past the length it is given (cJSON
     * issues #775, #804): it parses a NUL-terminated copy. */
    char *copy = mw_malloc(len + 1, MW_MEM_OTHER);
    MW_RETURN_IF(!copy, err, MW_ERR_NOMEM, "%s: out of memory parsing the JSON", where);
    memcpy(copy, text, len);
    copy[len] = '\0';
    const char *end = NULL;
    uint64_t failures = alloc_failures();
    cJSON *root = cJSON_ParseWithLengthOpts(copy, len, &end, 0);
    size_t at = (end && end >= copy && end <= copy + len) ? (size_t)(end - copy) : len;
    mw_free(copy);
    if (!root) {
        MW_RETURN_IF(alloc_failures() != failures, err, MW_ERR_NOMEM,
                     "%s: out of memory parsing the JSON", where);
        return mw_err_set(err, MW_ERR_INVALID, "%s: not valid JSON (error at byte %zu of %zu)",
                          where, at, len);
    }
    /* cJSON stops after the value: only whitespace may follow it. */
    while (at < len && (text[at] == ' ' || text[at] == '\t' || text[at] == '\n' ||
                        text[at] == '\r'))
        at++;
    if (at < len) {
        cJSON_Delete(root);
        return mw_err_set(err, MW_ERR_INVALID,
                          "%s: unexpected bytes after the JSON object, at byte %zu", where, at);
    }
    parser p = {.root = root, .where = where, .type = "", .err = err};
    mw_hparams h;
    mw_status st = parse_root(&p, &h);
    cJSON_Delete(root);
    if (st == MW_OK) *hp = h;
    return st;
}

/* Reads all of path (a regular file: a FIFO would block) into a
 * NUL-terminated buffer (mw_free it). */
static mw_status read_config(const char *path, char **out, size_t *out_len, mw_err *err)
{
    return mw_file_read_all(path, CONFIG_MAX_BYTES, "a config.json", out,
                            out_len, err);
}

mw_status mw_hf_config_read(const char *path, mw_hparams *hp, mw_err *err)
{
    char *text = NULL;
    size_t len = 0;
    MW_FORWARD(read_config(path, &text, &len, err));
    mw_status st = mw_hf_config_parse(text, len, path, hp, err);
    mw_free(text);
    return st;
}

/* The model of a parsed config: hparams and the tensors they imply. */
static mw_status model_from_hparams(const mw_hparams *hp, mw_model_source source,
                                    const char *path, mw_model **out, mw_err *err)
{
    mw_model *m = mw_model_alloc(source, path);
    MW_RETURN_IF(!m, err, MW_ERR_NOMEM, "out of memory opening %s", path);
    m->hp = *hp;
    m->has_hparams = 1;
    /* transformers loads a checkpoint without torch_dtype as float32 */
    if (m->hp.dtype == MW_DTYPE_COUNT) m->hp.dtype = MW_DTYPE_F32;
    mw_status st = mw_arch_add_tensors(&m->hp, m->hp.dtype, m, err);
    if (st != MW_OK) {
        mw_model_free(m);
        return st;
    }
    mw_model_finish(m);
    *out = m;
    return MW_OK;
}

mw_status mw_hf_config_open_model(const char *path, mw_model **out, mw_err *err)
{
    *out = NULL;
    mw_hparams hp;
    MW_FORWARD(mw_hf_config_read(path, &hp, err));
    return model_from_hparams(&hp, MW_SOURCE_HF_CONFIG, path, out, err);
}

mw_status mw_preset_open_model(const char *name, mw_model **out, mw_err *err)
{
    *out = NULL;
    const char *text = name ? mw_preset_config(name) : NULL;
    if (!text) {
        char list[1024] = ""; /* room for every preset's name */
        size_t n = 0;
        for (const char *const *pn = mw_preset_names(); *pn && n < sizeof list; pn++) {
            int w = snprintf(list + n, sizeof list - n, "%s%s", n ? ", " : "", *pn);
            if (w < 0) break;
            n += (size_t)w;
        }
        return mw_err_set(err, MW_ERR_NOT_FOUND, "no preset named \"%.64s\" (presets: %s)",
                          name ? name : "", list);
    }
    char where[96];
    snprintf(where, sizeof where, "preset %.64s", name);
    mw_hparams hp;
    MW_FORWARD(mw_hf_config_parse(text, strlen(text), where, &hp, err));
    return model_from_hparams(&hp, MW_SOURCE_PRESET, name, out, err);
}
