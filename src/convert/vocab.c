/*
 * vocab.c - a Hugging Face model's vocabulary as GGUF tokenizer.ggml.*
 * keys, for `memwall convert` (convert.h).
 *
 * tokenizer.json with a byte-level BPE model (GPT-2, Llama 3, Qwen2 style:
 * model.type "BPE" and a ByteLevel pre-tokenizer or decoder) becomes
 * tokenizer.ggml.model "gpt2" with its tokens (ids padded to vocab_size
 * with "[PADn]", type unused, as llama.cpp's converter pads), merges
 * ("a b"), token_type (1 normal; added tokens: 3 control when special,
 * else 4 user-defined) and tokenizer.ggml.pre chosen from the
 * pre-tokenizer's regex: \p{N}{1,3} -> "llama-bpe", a single \p{N} with
 * the (?i:'s|...) contractions -> "qwen2", ByteLevel alone -> "gpt-2",
 * anything else "default" with a warning (docs/TOKENIZER.md lists what
 * memwall's tokenizer knows). bos/eos: config.json's ids, else
 * tokenizer_config.json's token strings looked up in the vocabulary.
 * Anything else (no tokenizer.json, SentencePiece-style BPE with
 * byte_fallback, Unigram): the placeholder vocabulary of vocab_size ids
 * (engine/llama.h mw_llama_write_vocab) and a warning: runs by token id
 * work, text does not.
 */
#include "convert/convert.h"
#include "engine/llama.h"
#include "format/gguf.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/json.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <stdio.h>

/* a string from a file or the user, fit for a message */
#define SHOWN(s) mw_shown_str((s), (char[520]){0}, 520)
#include <string.h>
#include <sys/stat.h>

static cJSON *read_json(const char *dir, const char *file, mw_status *st, mw_err *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    struct stat sb;
    *st = MW_OK;
    if (stat(path, &sb) != 0) return NULL;
    char *text = NULL;
    size_t len = 0;
    *st = mw_file_read_all(path, 1u << 30, file, &text, &len, err);
    if (*st != MW_OK) return NULL;
    mw_json_init();
    mw_mem_stats before, after;
    mw_mem_get_stats(&before);
    cJSON *root = cJSON_ParseWithLength(text, len);
    mw_free(text);
    mw_mem_get_stats(&after);
    /* cJSON says only NULL: a failed allocation is not a malformed file */
    if (!root && after.failures != before.failures)
        *st = mw_err_set(err, MW_ERR_NOMEM, "%s: out of memory parsing it", SHOWN(path));
    else if (!root) *st = mw_err_set(err, MW_ERR_INVALID, "%s: not valid JSON", SHOWN(path));
    return root;
}

static int json_id(const cJSON *root, const char *key, uint32_t *id)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (cJSON_IsArray(v)) v = cJSON_GetArrayItem(v, 0);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 4e9) return 0;
    *id = (uint32_t)v->valuedouble;
    return 1;
}

/* Whether any object in j has "type": type. */
static int has_type(const cJSON *j, const char *type)
{
    if (!j) return 0;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "type");
    if (cJSON_IsString(t) && !strcmp(t->valuestring, type)) return 1;
    for (const cJSON *c = j->child; c; c = c->next)
        if ((cJSON_IsObject(c) || cJSON_IsArray(c)) && has_type(c, type)) return 1;
    return 0;
}

/* The first Split regex in j, or NULL. */
static const char *split_regex(const cJSON *j)
{
    if (!j) return NULL;
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(j, "pattern");
    const cJSON *re = pat ? cJSON_GetObjectItemCaseSensitive(pat, "Regex") : NULL;
    if (cJSON_IsString(re)) return re->valuestring;
    for (const cJSON *c = j->child; c; c = c->next) {
        const char *r = (cJSON_IsObject(c) || cJSON_IsArray(c)) ? split_regex(c) : NULL;
        if (r) return r;
    }
    return NULL;
}

static mw_status placeholder(const mw_hparams *hp, mw_gguf_writer *w, const char **kind, const char *why,
                             void (*warn)(const char *, void *), void *wu, mw_err *err)
{
    if (warn) {
        char line[512];
        snprintf(line, sizeof line,
                 "%s: writing a placeholder vocabulary of %u ids (runs by token id work; text does not)", why,
                 hp->n_vocab);
        warn(line, wu);
    }
    *kind = "placeholder";
    return mw_llama_write_vocab(w, hp->n_vocab, err);
}

/* The id of a token string (tokenizer_config.json's bos_token: a string or
 * {"content": ...}) in tokens[n]; 0 when absent. */
static int token_id(const cJSON *cfg, const char *key, char **tokens, uint32_t n, uint32_t *id)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
    if (cJSON_IsObject(v)) v = cJSON_GetObjectItemCaseSensitive(v, "content");
    if (!cJSON_IsString(v)) return 0;
    for (uint32_t i = 0; i < n; i++)
        if (tokens[i] && !strcmp(tokens[i], v->valuestring)) return *id = i, 1;
    return 0;
}

static mw_status bpe(const cJSON *tok, const cJSON *model, const char *dir, const mw_hparams *hp,
                     mw_gguf_writer *w, void (*warn)(const char *, void *), void *wu, mw_err *err)
{
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(tok, "added_tokens");
    MW_RETURN_IF(!cJSON_IsObject(vocab) || !cJSON_IsArray(merges), err, MW_ERR_INVALID,
                 "%s/tokenizer.json: a BPE model without vocab or merges", SHOWN(dir));
    uint32_t n = hp->n_vocab;
    for (const cJSON *e = vocab->child; e; e = e->next)
        if (cJSON_IsNumber(e) && e->valuedouble >= 0 && e->valuedouble < 1e7 && (uint32_t)e->valuedouble >= n)
            n = (uint32_t)e->valuedouble + 1;
    for (const cJSON *a = added ? added->child : NULL; a; a = a->next) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(a, "id");
        if (cJSON_IsNumber(id) && id->valuedouble >= 0 && id->valuedouble < 1e7 && (uint32_t)id->valuedouble >= n)
            n = (uint32_t)id->valuedouble + 1;
    }
    char **tokens = mw_calloc(n ? n : 1, sizeof *tokens, MW_MEM_OTHER);
    int32_t *types = mw_calloc(n ? n : 1, sizeof *types, MW_MEM_OTHER);
    int n_merges = cJSON_GetArraySize(merges);
    char **mstr = mw_calloc(n_merges ? (size_t)n_merges : 1, sizeof *mstr, MW_MEM_OTHER);
    char pad[32];
    mw_status st = tokens && types && mstr ? MW_OK : mw_err_set(err, MW_ERR_NOMEM, "out of memory");
    for (const cJSON *e = vocab->child; st == MW_OK && e; e = e->next) {
        if (!cJSON_IsNumber(e) || e->valuedouble < 0 || (uint32_t)e->valuedouble >= n) continue;
        uint32_t id = (uint32_t)e->valuedouble;
        tokens[id] = e->string;
        types[id] = 1;
    }
    for (const cJSON *a = added ? added->child : NULL; st == MW_OK && a; a = a->next) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(a, "id");
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(a, "content");
        if (!cJSON_IsNumber(id) || !cJSON_IsString(c) || id->valuedouble < 0 || (uint32_t)id->valuedouble >= n)
            continue;
        uint32_t i = (uint32_t)id->valuedouble;
        tokens[i] = c->valuestring;
        types[i] = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "special")) ? 3 : 4;
    }
    /* ids no token has: llama.cpp's converter's "[PADn]", unused */
    char **pads = mw_calloc(n ? n : 1, sizeof *pads, MW_MEM_OTHER);
    if (st == MW_OK && !pads) st = mw_err_set(err, MW_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; st == MW_OK && i < n; i++) {
        if (tokens[i]) continue;
        snprintf(pad, sizeof pad, "[PAD%u]", i);
        pads[i] = mw_strdup(pad, MW_MEM_OTHER);
        if (!pads[i]) st = mw_err_set(err, MW_ERR_NOMEM, "out of memory");
        tokens[i] = pads[i];
        types[i] = 5;
    }
    int i = 0;
    for (const cJSON *e = merges->child; st == MW_OK && e; e = e->next, i++) {
        if (cJSON_IsString(e)) {
            mstr[i] = mw_strdup(e->valuestring, MW_MEM_OTHER);
        } else if (cJSON_IsArray(e) && cJSON_GetArraySize(e) == 2 && cJSON_IsString(e->child) &&
                   cJSON_IsString(e->child->next)) {
            size_t l = strlen(e->child->valuestring) + strlen(e->child->next->valuestring) + 2;
            mstr[i] = mw_malloc(l, MW_MEM_OTHER);
            if (mstr[i]) snprintf(mstr[i], l, "%s %s", e->child->valuestring, e->child->next->valuestring);
        } else {
            st = mw_err_set(err, MW_ERR_INVALID, "%s/tokenizer.json: merge %d is neither \"a b\" nor [a, b]",
                            SHOWN(dir), i);
            break;
        }
        if (!mstr[i]) st = mw_err_set(err, MW_ERR_NOMEM, "out of memory");
    }
    /* the pre-tokenizer */
    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(tok, "pre_tokenizer");
    const char *re = split_regex(pre);
    const char *pre_name = "default";
    if (re && strstr(re, "\\p{N}{1,3}")) pre_name = "llama-bpe";
    else if (re && strstr(re, "(?i:'s|'t|'re|'ve|'m|'ll|'d)") && strstr(re, "\\p{N}|")) pre_name = "qwen2";
    else if (!re && has_type(pre, "ByteLevel")) pre_name = "gpt-2";
    else if (warn) {
        char line[256];
        snprintf(line, sizeof line, "%s/tokenizer.json: pre-tokenizer not one memwall knows (llama3, qwen2, "
                                    "gpt-2): writing tokenizer.ggml.pre \"default\"", SHOWN(dir));
        warn(line, wu);
    }
    if (st == MW_OK) st = mw_gguf_writer_set_str(w, "tokenizer.ggml.model", "gpt2", err);
    if (st == MW_OK) st = mw_gguf_writer_set_str(w, "tokenizer.ggml.pre", pre_name, err);
    if (st == MW_OK) st = mw_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", (const char *const *)tokens, n, err);
    if (st == MW_OK) st = mw_gguf_writer_set_array(w, "tokenizer.ggml.token_type", MW_GGUF_I32, types, n, err);
    if (st == MW_OK)
        st = mw_gguf_writer_set_str_array(w, "tokenizer.ggml.merges", (const char *const *)mstr, (uint64_t)n_merges,
                                          err);
    /* bos / eos */
    mw_status jst = MW_OK;
    cJSON *cfg = st == MW_OK ? read_json(dir, "config.json", &jst, err) : NULL;
    cJSON *tcfg = st == MW_OK && jst == MW_OK ? read_json(dir, "tokenizer_config.json", &jst, err) : NULL;
    if (st == MW_OK) st = jst;
    uint32_t bos, eos;
    if (st == MW_OK && ((cfg && json_id(cfg, "bos_token_id", &bos)) || (tcfg && token_id(tcfg, "bos_token", tokens, n, &bos))))
        st = mw_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", bos, err);
    if (st == MW_OK && ((cfg && json_id(cfg, "eos_token_id", &eos)) || (tcfg && token_id(tcfg, "eos_token", tokens, n, &eos))))
        st = mw_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", eos, err);
    const cJSON *ab = tcfg ? cJSON_GetObjectItemCaseSensitive(tcfg, "add_bos_token") : NULL;
    if (st == MW_OK && cJSON_IsBool(ab)) st = mw_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", cJSON_IsTrue(ab), err);
    cJSON_Delete(cfg);
    cJSON_Delete(tcfg);
    for (int k = 0; mstr && k < n_merges; k++) mw_free(mstr[k]);
    for (uint32_t k = 0; pads && k < n; k++) mw_free(pads[k]);
    mw_free(pads);
    mw_free(mstr);
    mw_free(tokens);
    mw_free(types);
    return st;
}

mw_status mw_convert_hf_vocab(const char *dir, const mw_hparams *hp, struct mw_gguf_writer *w, const char **kind,
                              void (*warn)(const char *line, void *user), void *wu, mw_err *err)
{
    mw_status st;
    cJSON *tok = read_json(dir, "tokenizer.json", &st, err);
    MW_FORWARD(st);
    if (!tok) return placeholder(hp, w, kind, "no tokenizer.json", warn, wu, err);
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(tok, "model");
    const cJSON *type = model ? cJSON_GetObjectItemCaseSensitive(model, "type") : NULL;
    int byte_level = has_type(cJSON_GetObjectItemCaseSensitive(tok, "pre_tokenizer"), "ByteLevel") ||
                     has_type(cJSON_GetObjectItemCaseSensitive(tok, "decoder"), "ByteLevel");
    if (!cJSON_IsString(type) || strcmp(type->valuestring, "BPE") || !byte_level) {
        st = placeholder(hp, w, kind, "tokenizer.json is not a byte-level BPE vocabulary (SentencePiece-style "
                                      "vocabularies are not converted yet)", warn, wu, err);
    } else {
        st = bpe(tok, model, dir, hp, w, warn, wu, err);
        *kind = "tokenizer.json";
    }
    cJSON_Delete(tok);
    return st;
}
