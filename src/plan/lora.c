/*
 * lora.c - LoRA and QLoRA adapters over a model's tensor list: which linear
 * modules a target list picks (PEFT's rules), the trainable parameters
 * exactly as PEFT counts them, and a QLoRA base's NF4 bytes
 * (docs/PLAN.md, "Fine-tuning with adapters").
 *
 * PEFT (huggingface/peft, src/peft/tuners/lora, src/peft/utils/constants.py):
 *   - a target key picks every module whose name equals it or ends with
 *     "." + key (the suffix rule of check_target_module_exists);
 *   - "all-linear" picks every linear layer but the output head;
 *   - with no target_modules, TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING
 *     gives the default per model_type (below); a type not in it is an error
 *     there ("Please specify `target_modules`"), and here;
 *   - a targeted nn.Linear [out, in] gains lora_A [r, in] and lora_B [out, r]:
 *     r * (in + out) parameters. GPT-2's Conv1D stores [in, out]: the sum is
 *     the same. An expert tensor [E, out, in] (GGUF's merged experts) counts
 *     as E linears.
 *
 * QLoRA (Dettmers et al. 2023, arXiv 2305.14314, §3; bitsandbytes
 * Linear4bit): each linear layer but the output head is stored as NF4, 4 bits
 * a weight in blocks of 64, each block's absmax quantized again to 8 bits
 * (double quantization) in blocks of 256 with one fp32 scale per such block:
 * 4 + 8/64 + 32/(64*256) = 4.127 bits a weight (the paper's 0.127 bits of
 * constants). The embeddings, output head and biases stay in the 16-bit
 * compute type (bf16) and the norms in fp32, as qlora.py (artidoro/qlora)
 * loads them (torch_dtype bf16; modules named "norm" cast to fp32).
 */
#include "plan/plan_internal.h"
#include "common/error.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define MAX_KEYS 24
#define KEY_CAP 64
/* a string from a file or the command line, fit for a message */
#define SHOWN(s) mw_shown_str((s), (char[256]){0}, 256)

/* PEFT's TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING (peft
 * src/peft/utils/constants.py) for the architectures memwall reads; memwall
 * names gemma3's text model "gemma3" (PEFT: "gemma3_text"). */
static const struct {
    const char *arch, *targets;
} peft_defaults[] = {
    {"llama", "q_proj,v_proj"},  {"llama4", "q_proj,v_proj"},  {"mistral", "q_proj,v_proj"},
    {"mixtral", "q_proj,v_proj"}, {"qwen2", "q_proj,v_proj"},  {"qwen3", "q_proj,v_proj"},
    {"gemma", "q_proj,v_proj"},  {"gemma2", "q_proj,v_proj"},  {"gemma3", "q_proj,v_proj"},
    {"gemma3_text", "q_proj,v_proj"}, {"gpt2", "c_attn"},      {"gpt_neox", "query_key_value"},
    {"gptneox", "query_key_value"},
};

/* PEFT's (Hugging Face) module names -> the GGUF tensor names llama.cpp
 * gives the same matrices (llama.cpp gguf-py/gguf/tensor_mapping.py):
 * a GGUF model's targets may be written either way. */
static const struct {
    const char *hf, *gguf[3];
} gguf_aliases[] = {
    {"q_proj", {"attn_q"}},
    {"k_proj", {"attn_k"}},
    {"v_proj", {"attn_v"}},
    {"o_proj", {"attn_output"}},
    {"gate_proj", {"ffn_gate", "ffn_gate_exps"}},
    {"up_proj", {"ffn_up", "ffn_up_exps"}},
    {"down_proj", {"ffn_down", "ffn_down_exps"}},
    {"qkv_proj", {"attn_qkv"}},
    {"c_attn", {"attn_qkv"}},
    {"query_key_value", {"attn_qkv"}},
    {"gate_up_proj", {"ffn_up"}},
    {"w1", {"ffn_gate_exps"}},
    {"w2", {"ffn_down_exps"}},
    {"w3", {"ffn_up_exps"}},
};

const char *mw_lora_default_targets(const char *arch)
{
    for (size_t i = 0; i < sizeof peft_defaults / sizeof peft_defaults[0]; i++)
        if (!strcmp(arch, peft_defaults[i].arch)) return peft_defaults[i].targets;
    return NULL;
}

/* NF4 with double quantization (bitsandbytes): the packed 4-bit values,
 * one uint8 absmax per block of 64, one fp32 scale per 256 blocks. */
uint64_t mw_lora_nf4_bytes(uint64_t n)
{
    uint64_t blocks = (n + 63) / 64;
    return (n + 1) / 2 + blocks + 4 * ((blocks + 255) / 256);
}

/* "model.layers.3.mlp.up_proj.weight" -> module "model.layers.3.mlp.up_proj";
 * 0 when the tensor is not a matrix's weight. */
static int module_of(const mw_tensor_info *t, char *mod, size_t cap)
{
    size_t n = strlen(t->name);
    if (t->n_dims < 2 || n < 8 || strcmp(t->name + n - 7, ".weight") != 0 || n - 7 >= cap) return 0;
    memcpy(mod, t->name, n - 7);
    mod[n - 7] = '\0';
    return 1;
}

/* A module inside a numbered block (a decoder layer: "layers.3", "h.3",
 * "blk.3"): the linear layers "all-linear" takes. Embeddings and the output
 * head have no number in their names. */
static int in_layer(const char *mod)
{
    const char *p = mod;
    while (*p) {
        const char *e = strchr(p, '.');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        int digits = len > 0;
        for (size_t i = 0; i < len; i++)
            if (!isdigit((unsigned char)p[i])) digits = 0;
        if (digits && e) return 1;
        if (!e) break;
        p = e + 1;
    }
    return 0;
}

static const char *last_component(const char *mod)
{
    const char *d = strrchr(mod, '.');
    return d ? d + 1 : mod;
}

/* PEFT's suffix rule: name == key or name ends with "." + key. */
static int suffix_match(const char *mod, const char *key)
{
    size_t n = strlen(mod), k = strlen(key);
    if (n == k) return !strcmp(mod, key);
    return n > k && mod[n - k - 1] == '.' && !strcmp(mod + n - k, key);
}

/* The distinct last components of the model's linear modules in its
 * layers, comma-separated (for the error naming what the model has). */
static void linear_names(const mw_model *m, char *out, size_t cap)
{
    out[0] = '\0';
    char seen[48][KEY_CAP];
    size_t n = 0;
    for (uint32_t i = 0; i < m->n_tensors && n < 48; i++) {
        char mod[256];
        if (!module_of(&m->tensors[i], mod, sizeof mod) || !in_layer(mod)) continue;
        const char *last = last_component(mod);
        if (strlen(last) >= KEY_CAP) continue;
        size_t j = 0;
        while (j < n && strcmp(seen[j], last)) j++;
        if (j < n) continue;
        snprintf(seen[n++], KEY_CAP, "%s", last);
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "%s%s", len ? ", " : "", last);
    }
    if (!out[0]) snprintf(out, cap, "none");
}

mw_status mw_plan_lora_count(const mw_model *m, const mw_plan_opts *o, mw_lora_count *c, mw_err *err)
{
    memset(c, 0, sizeof *c);
    const mw_hparams *hp = &m->hp;
    const char *list = o->lora_targets && o->lora_targets[0] ? o->lora_targets : NULL;
    if (!list && o->qlora) list = "all-linear"; /* QLoRA's paper: every linear layer */
    if (!list) {
        list = mw_lora_default_targets(hp->arch);
        char have[512] = "";
        if (!list) linear_names(m, have, sizeof have); /* for the message */
        MW_RETURN_IF(!list, err, MW_ERR_INVALID,
                     "LoRA: PEFT has no default target modules for architecture \"%s\" "
                     "(TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING); give --lora-targets "
                     "(this model's linear modules: %s; or all-linear)",
                     SHOWN(hp->arch), have);
        c->default_targets = 1;
    }
    MW_RETURN_IF(strlen(list) >= sizeof c->targets, err, MW_ERR_INVALID,
                 "--lora-targets: the list is longer than %zu characters", sizeof c->targets - 1);
    snprintf(c->targets, sizeof c->targets, "%s", list);

    /* split the list */
    char keys[MAX_KEYS][KEY_CAP];
    size_t nk = 0;
    for (const char *p = list;;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        MW_RETURN_IF(len == 0, err, MW_ERR_INVALID,
                     "--lora-targets: an empty module name in \"%s\" (give names separated by commas)",
                     SHOWN(list));
        MW_RETURN_IF(len >= KEY_CAP, err, MW_ERR_INVALID, "--lora-targets: a module name longer than %d "
                     "characters in \"%s\"", KEY_CAP - 1, SHOWN(list));
        MW_RETURN_IF(nk == MAX_KEYS, err, MW_ERR_INVALID, "--lora-targets: more than %d module names",
                     MAX_KEYS);
        memcpy(keys[nk], p, len);
        keys[nk++][len] = '\0';
        if (!e) break;
        p = e + 1;
    }
    int all = 0;
    for (size_t k = 0; k < nk; k++)
        if (!strcmp(keys[k], "all-linear")) all = 1;
    MW_RETURN_IF(all && nk > 1, err, MW_ERR_INVALID,
                 "--lora-targets: all-linear stands alone (it already takes every linear layer)");

    const int gguf = m->source == MW_SOURCE_GGUF;
    uint64_t hits[MAX_KEYS] = {0};
    const uint64_t r = o->lora_rank;
    double act_modules = 0;
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        const mw_tensor_info *t = &m->tensors[i];
        char mod[256];
        int is_mat = module_of(t, mod, sizeof mod);
        int linear = is_mat && in_layer(mod);
        if (o->qlora) {
            /* the base as QLoRA loads it: linear layers NF4, norms fp32,
             * embeddings, the output head and biases bf16 */
            int norm = t->n_dims < 2 && strstr(t->name, "norm") != NULL;
            c->qlora_base_bytes += linear ? mw_lora_nf4_bytes(t->n_elems) : t->n_elems * (norm ? 4 : 2);
        }
        if (!is_mat) continue;
        int hit = 0;
        if (all) {
            hit = linear;
        } else {
            for (size_t k = 0; k < nk; k++) {
                int h = suffix_match(mod, keys[k]);
                for (size_t a = 0; gguf && !h && a < sizeof gguf_aliases / sizeof gguf_aliases[0]; a++) {
                    if (strcmp(keys[k], gguf_aliases[a].hf)) continue;
                    for (int g = 0; g < 3 && gguf_aliases[a].gguf[g] && !h; g++)
                        h = suffix_match(mod, gguf_aliases[a].gguf[g]);
                }
                if (h) {
                    hits[k]++;
                    hit = 1;
                }
            }
        }
        if (!hit) continue;
        /* [out, in]: r (in + out); [E, out, in]: E such linears */
        uint64_t experts = t->n_dims >= 3 ? t->shape[0] : 1;
        uint64_t in = t->shape[t->n_dims - 1], out = t->shape[t->n_dims - 2];
        c->trainable += experts * r * (in + out);
        c->modules += experts;
        /* the tokens each adapter sees: all of them, or an expert's share */
        int expert = t->n_dims >= 3 || strstr(mod, ".experts.") != NULL;
        double share = expert && hp->n_experts > 1 && hp->n_experts_used
                           ? (double)hp->n_experts_used / hp->n_experts : 1.0;
        act_modules += (double)experts * share;
        if (!linear) c->outside_layers = 1;
    }
    c->act_modules_per_layer = hp->n_layers ? act_modules / hp->n_layers : act_modules;
    char have[512];
    if (all) {
        MW_RETURN_IF(c->modules == 0, err, MW_ERR_INVALID,
                     "--lora-targets all-linear: %s lists no linear layers to adapt", SHOWN(m->path));
        return MW_OK;
    }
    for (size_t k = 0; k < nk; k++) {
        if (hits[k]) continue;
        linear_names(m, have, sizeof have);
        mw_err_set(err, MW_ERR_INVALID,
                   "--lora-targets: the model (%s, architecture %s) has no module named \"%s\"; its linear "
                   "modules are: %s (or all-linear)",
                   SHOWN(m->path), SHOWN(hp->arch), SHOWN(keys[k]), have);
        return MW_ERR_INVALID;
    }
    return MW_OK;
}
