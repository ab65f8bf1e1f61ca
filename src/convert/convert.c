/*
 * convert.c - mw_convert: a llama-family model to GGUF at another precision
 * (issue #14; docs/ENGINE.md "Convert").
 *
 * Input: a GGUF file (general.architecture llama), a safetensors file or a
 * sharded folder with config.json (model_type llama or mistral), or a name
 * mw_model_open resolves (built-in models, hub ids). The input's files are
 * mapped read-only; nothing is written to them.
 *
 * Each tensor: its GGUF name (Hugging Face names mapped as llama.cpp's
 * convert_hf_to_gguf.py maps them), its type (a --keep rule, else the
 * llama.cpp file type's per-tensor choice, mw_weight_scheme_tensor_type,
 * else the plain type for matrices and F32 for vectors), then, when the
 * file is written, one deferred tensor at a time (format/gguf_write.c):
 *
 *   read rows as f32 (Q/K rows permuted for llama.cpp's rope; a sparse
 *   tensor's rows with zeros where nothing is kept)
 *     -> prune_rows()       (--prune: each row's keep-mask, engine/prune.c,
 *                            from |w| or Wanda's |w|·‖x‖ with the norms
 *                            engine/calib.c collected on --calib's text)
 *     -> mw_k_quant_row     (engine/quant_row.c), or mw_sparse_pack_row
 *                            for pruned weights stored sparse
 *                            (engine/sparse.c, docs/SPARSE.md)
 *     -> the writer's buffer, written to the temporary file
 *
 * A tensor already of the type it goes to, unpermuted and unpruned, is
 * copied as is (no requantization).
 *
 * Pruning touches the linear weights of the blocks (attn_q/k/v/output,
 * ffn_gate/up/down), not the embedding or the output layer (as Wanda
 * does). Pruned weights are stored in memwall's sparse types (F32, F16 or
 * Q8_0 values) and the file says it is memwall's own; --densify writes
 * them dense instead (zeros kept), and turns a sparse file back into one
 * llama.cpp loads.
 */
#include "convert/convert.h"
#include "engine/kernels.h"
#include "engine/llama.h"
#include "engine/prune.h"
#include "engine/sparse.h"
#include "engine/threadpool.h"
#include "format/gguf.h"
#include "format/model.h"
#include "common/error.h"
#include "common/fileio.h"
#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>

/* a string from a file or the user, fit for a message */
#define SHOWN(s) mw_shown_str((s), (char[520]){0}, 520)
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- names and the Q/K permutation -------------------------------------- */

int mw_convert_hf_name(const char *hf, char *out, size_t cap)
{
    static const struct { const char *hf, *gguf; } top[] = {
        {"model.embed_tokens.weight", "token_embd.weight"},
        {"model.norm.weight", "output_norm.weight"},
        {"lm_head.weight", "output.weight"},
    };
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++)
        if (!strcmp(hf, top[i].hf)) return snprintf(out, cap, "%s", top[i].gguf) < (int)cap ? 1 : -1;
    static const char prefix[] = "model.layers.";
    if (strncmp(hf, prefix, sizeof prefix - 1)) return -1;
    const char *p = hf + sizeof prefix - 1;
    if (!isdigit((unsigned char)*p)) return -1;
    char *end;
    unsigned long layer = strtoul(p, &end, 10);
    if (*end != '.' || layer > 99999) return -1;
    const char *rest = end + 1;
    static const struct { const char *hf, *gguf; } blk[] = {
        {"input_layernorm", "attn_norm"},
        {"post_attention_layernorm", "ffn_norm"},
        {"self_attn.q_proj", "attn_q"},
        {"self_attn.k_proj", "attn_k"},
        {"self_attn.v_proj", "attn_v"},
        {"self_attn.o_proj", "attn_output"},
        {"mlp.gate_proj", "ffn_gate"},
        {"mlp.up_proj", "ffn_up"},
        {"mlp.down_proj", "ffn_down"},
    };
    if (!strcmp(rest, "self_attn.rotary_emb.inv_freq")) return 0; /* llama.cpp drops it */
    for (size_t i = 0; i < sizeof blk / sizeof blk[0]; i++) {
        size_t n = strlen(blk[i].hf);
        if (strncmp(rest, blk[i].hf, n)) continue;
        const char *suffix = rest + n;
        if (strcmp(suffix, ".weight") && strcmp(suffix, ".bias")) continue;
        int k = snprintf(out, cap, "blk.%lu.%s%s", layer, blk[i].gguf, suffix);
        return k > 0 && (size_t)k < cap ? 1 : -1;
    }
    return -1;
}

int mw_convert_qk_kind(const char *n)
{
    const char *dot = strncmp(n, "blk.", 4) ? NULL : strchr(n + 4, '.');
    if (!dot) return 0;
    if (!strcmp(dot, ".attn_q.weight") || !strcmp(dot, ".attn_q.bias")) return 1;
    if (!strcmp(dot, ".attn_k.weight") || !strcmp(dot, ".attn_k.bias")) return 2;
    return 0;
}

uint64_t mw_convert_qk_src_row(uint64_t r, uint64_t n_rows, uint32_t n_head)
{
    const uint64_t d = n_rows / n_head, half = d / 2;
    const uint64_t h = r / d, w = r % d;      /* w = 2j + i */
    return h * d + (w % 2) * half + w / 2;
}

uint32_t mw_convert_file_type(const char *name)
{
    /* llama.h, enum llama_ftype (LLAMA_FTYPE_ALL_F32 = 0, MOSTLY_F16 = 1,
     * Q4_0 = 2, Q4_1 = 3, Q8_0 = 7, Q5_0 = 8, Q5_1 = 9, Q2_K = 10,
     * Q3_K_S..L = 11..13, Q4_K_S = 14, Q4_K_M = 15, Q5_K_S = 16,
     * Q5_K_M = 17, Q6_K = 18, Q2_K_S = 21, IQ4_NL = 25, IQ4_XS = 30,
     * BF16 = 32). A plain K-quant throughout has no type of its own:
     * q4_k and q5_k are written as their _S mixes, the nearest. */
    static const struct { const char *name; uint32_t ft; } t[] = {
        {"f32", 0}, {"f16", 1}, {"q4_0", 2}, {"q4_1", 3}, {"q8_0", 7}, {"q5_0", 8}, {"q5_1", 9},
        {"q2_k", 10}, {"q3_k_s", 11}, {"q3_k_m", 12}, {"q3_k_l", 13}, {"q4_k_s", 14}, {"q4_k_m", 15},
        {"q5_k_s", 16}, {"q5_k_m", 17}, {"q6_k", 18}, {"q2_k_s", 21}, {"iq4_nl", 25}, {"iq4_xs", 30},
        {"bf16", 32}, {"q4_k", 14}, {"q5_k", 16},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcasecmp(name, t[i].name)) return t[i].ft;
    return 0xFFFFFFFFu;
}

/* ---- the conversion --------------------------------------------------------- */

typedef struct conv conv;

typedef struct ctensor {
    char name[64];                   /* GGUF name */
    const mw_tensor_info *ti;        /* the input's */
    const uint8_t *data;
    mw_dtype src, dst;
    uint64_t rows, k;                /* k: the innermost dimension */
    uint32_t n_dims;
    uint64_t dims[4];                /* GGUF order */
    uint32_t qk_heads;               /* rows permuted over this many heads; 0 none */
    int prune;                       /* pruned (--prune and a block's linear weight) */
    int64_t keep_in, keep_out;       /* values a row keeps: a sparse input's, the output's */
    uint64_t out_bytes;
    conv *cv;
} ctensor;

struct conv {
    const mw_convert_opts *o;
    mw_model *m;
    ctensor *t;
    uint32_t n_t;
    mw_file_map *maps;               /* safetensors input: one per file */
    uint32_t n_maps;
    float *f32;                      /* one tensor's rows as f32 */
    mw_pool *pool;                   /* the rows of a tensor split over it */
    size_t f32_cap;
    uint32_t done, n_requant;
    char requant_first[128];         /* the first tensor requantized */
    uint64_t bytes_done, bytes_total;
    struct timespec t0;
    int hf;                          /* input in Hugging Face naming */
    /* pruning (--prune, --densify) */
    mw_calib *calib;                 /* Wanda's input norms; NULL for magnitude */
    uint32_t in_q16, out_q16;        /* memwall.sparse.keep_q16: the input's, the output's */
    uint64_t *masks;                 /* one tensor's keep-masks, k/64 words a row */
    size_t masks_cap;                /* words */
    uint32_t n_sparse_in, n_sparse_out, n_pruned;
    int any_su_out;                  /* an unstructured sparse tensor written */
};

static double since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) * 1e-9;
}

static void warnf(const mw_convert_opts *o, const char *fmt, ...) MW_PRINTF(2, 3);
static void warnf(const mw_convert_opts *o, const char *fmt, ...)
{
    if (!o->warn) return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    o->warn(line, o->warn_user);
}

/* ---- pruning ----------------------------------------------------------------- */

/* 1 for the weights --prune removes values from: a block's linear layers
 * (the embedding and the output layer stay whole, as in Wanda). */
static int prunable(const char *name)
{
    static const char *const lin[] = {"attn_q", "attn_k", "attn_v", "attn_output",
                                      "ffn_gate", "ffn_up", "ffn_down"};
    unsigned layer;
    char part[32];
    int end = 0;
    if (sscanf(name, "blk.%u.%31[a-z_].weight%n", &layer, part, &end) != 2 || name[end]) return 0;
    for (size_t i = 0; i < sizeof lin / sizeof lin[0]; i++)
        if (!strcmp(part, lin[i])) return 1;
    return 0;
}

typedef struct prune_job {
    const ctensor *t;
    const float *norms;              /* Wanda's ‖x_j‖; NULL: magnitude */
    int zero;                        /* --densify: pruned values set to 0 in place */
} prune_job;

static void prune_fn(void *args, int ith, int nth)
{
    const prune_job *j = args;
    const ctensor *t = j->t;
    const int64_t k = (int64_t)t->k, words = (k + 63) / 64;
    const mw_convert_opts *o = t->cv->o;
    const mw_prune_kind kind = o->prune_kind == 2 ? MW_PRUNE_2_4 : MW_PRUNE_RATIO;
    int64_t lo, hi;
    mw_pool_split((int64_t)t->rows, ith, nth, &lo, &hi);
    for (int64_t r = lo; r < hi; r++) {
        float *row = t->cv->f32 + (uint64_t)r * t->k;
        uint64_t *mask = t->cv->masks + (uint64_t)r * (uint64_t)words;
        mw_prune_row_mask(row, j->norms, k, kind, t->keep_out, mask);
        if (j->zero)
            for (int64_t c = 0; c < k; c++)
                if (!(mask[c / 64] >> (c % 64) & 1)) row[c] = 0.0f;
    }
}

/* The pruning step: each of the tensor's rows (f32, in GGUF row order) gets
 * its keep-mask in cv->masks; with --densify the values it drops become 0
 * in rows (the encoder then writes them dense). */
static mw_status prune_rows(conv *cv, const ctensor *t, mw_err *err)
{
    if (!t->prune) return MW_OK;
    prune_job job = {t, NULL, cv->o->densify};
    if (cv->calib) {
        int64_t kk = 0;
        job.norms = mw_calib_col_norms(cv->calib, t->name, &kk);
        MW_RETURN_IF(!job.norms || kk != (int64_t)t->k, err, MW_ERR_INVALID,
                     "tensor %s: the calibration collected no input norms for it (%lld of %llu columns)",
                     t->name, (long long)kk, (unsigned long long)t->k);
    }
    mw_pool_run(cv->pool, prune_fn, &job);
    return MW_OK;
}

static int pruning(const mw_convert_opts *o)
{
    return o->prune_kind != 0;
}

/* One tensor's rows over the pool: read as f32 (permuted), or encoded. */
typedef struct rows_job {
    const ctensor *t;
    void *dst;
    uint64_t srb, drb;               /* a row's bytes in and out */
    int encode;
} rows_job;

static void rows_fn(void *args, int ith, int nth)
{
    const rows_job *j = args;
    const ctensor *t = j->t;
    float *f32 = t->cv->f32;
    const int sparse_in = mw_dtype_is_sparse(t->src), sparse_out = mw_dtype_is_sparse(t->dst);
    const uint64_t words = (t->k + 63) / 64;
    int64_t lo, hi;
    mw_pool_split((int64_t)t->rows, ith, nth, &lo, &hi);
    for (int64_t r = lo; r < hi; r++) {
        float *row = f32 + (uint64_t)r * t->k;
        if (j->encode && sparse_out) {
            mw_sparse_pack_row(t->dst, row, t->cv->masks + (uint64_t)r * words, (int64_t)t->k,
                               (uint8_t *)j->dst + (uint64_t)r * j->drb);
        } else if (j->encode) {
            mw_k_quant_row(t->dst, row, (uint8_t *)j->dst + (uint64_t)r * j->drb, (int64_t)t->k);
        } else if (sparse_in) {
            mw_sparse_dequant_row(t->src, t->data + (uint64_t)r * j->srb, (int64_t)t->k, t->keep_in, row);
        } else {
            uint64_t sr = t->qk_heads ? mw_convert_qk_src_row((uint64_t)r, t->rows, t->qk_heads) : (uint64_t)r;
            mw_k_dequant_row(t->src, t->data + sr * j->srb, row, (int64_t)t->k);
        }
    }
}

static uint64_t row_bytes(mw_dtype t, uint64_t k, int64_t keep)
{
    return mw_dtype_is_sparse(t) ? mw_sparse_row_bytes(t, (int64_t)k, keep) : mw_dtype_bytes(t, k);
}

static mw_status fill(void *ctx, void *dst, uint64_t bytes, mw_err *err)
{
    ctensor *t = ctx;
    conv *cv = t->cv;
    if (t->src == t->dst && !t->qk_heads && !t->prune) {
        memcpy(dst, t->data, (size_t)bytes);
    } else {
        const uint64_t srb = row_bytes(t->src, t->k, t->keep_in), drb = row_bytes(t->dst, t->k, t->keep_out);
        if (mw_dtype_is_sparse(t->src))
            /* a hostile file's masks could send the unpacking past a row */
            MW_FORWARD(mw_sparse_check_rows(t->src, t->data, (int64_t)t->rows, (int64_t)t->k, t->keep_in,
                                            t->name, err));
        if (t->qk_heads && t->n_dims == 1) {
            /* a q/k bias: its values are the rows (F32/F16/BF16, checked) */
            const uint64_t eb = mw_dtype_bytes(t->src, 1);
            for (uint64_t r = 0; r < t->k; r++)
                mw_k_dequant_row(t->src, t->data + mw_convert_qk_src_row(r, t->k, t->qk_heads) * eb, cv->f32 + r, 1);
        }
        rows_job job = {t, dst, srb, drb, 0};
        if (!(t->qk_heads && t->n_dims == 1)) mw_pool_run(cv->pool, rows_fn, &job);
        MW_FORWARD(prune_rows(cv, t, err));
        job.encode = 1;
        mw_pool_run(cv->pool, rows_fn, &job);
    }
    /* the input's pages of this tensor are not needed again: out of this
     * process's resident set (a clean read-only mapping: re-read from the
     * file if ever touched), so RSS stays about one tensor */
    const long page = sysconf(_SC_PAGESIZE);
    if (page > 0 && t->ti->bytes) {
        uintptr_t a = (uintptr_t)t->data & ~(uintptr_t)(page - 1);
        uintptr_t e = (uintptr_t)t->data + (uintptr_t)t->ti->bytes;
        madvise((void *)a, (size_t)(e - a), MADV_DONTNEED);
    }
    cv->done++;
    cv->bytes_done += bytes;
    if (cv->o->progress) {
        mw_convert_progress p = {cv->done, cv->n_t, cv->bytes_done, cv->bytes_total, since(&cv->t0), t->name};
        cv->o->progress(&p, cv->o->progress_user);
    }
    return MW_OK;
}

/* The type o->dtype names: a llama.cpp file type (as `memwall plan --dtype`
 * reads it: the file types first), else a plain type. */
static mw_status parse_dtype(const char *name, mw_weight_scheme *s, mw_dtype *plain, mw_err *err)
{
    mw_err sub;
    memset(s, 0, sizeof *s);
    s->kind = MW_SCHEME_NONE;
    *plain = MW_DTYPE_COUNT;
    if (mw_weight_scheme_parse(name, s, &sub) == MW_OK) {
        MW_RETURN_IF(s->kind != MW_SCHEME_LLAMACPP, err, MW_ERR_UNSUPPORTED,
                     "--dtype %s: convert writes GGUF types and llama.cpp file types, not %s", name, s->name);
        return MW_OK;
    }
    s->kind = MW_SCHEME_NONE;
    MW_RETURN_IF(mw_dtype_from_name(name, plain, &sub) != MW_OK || !mw_k_quant_row_supported(*plain), err,
                 MW_ERR_INVALID,
                 "--dtype %s: not a type convert writes (f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, "
                 "q5_k, q6_k) nor "
                 "a llama.cpp file type (%s)", name, mw_weight_scheme_names());
    return MW_OK;
}

static int same_file(const struct stat *a, const char *path)
{
    struct stat b;
    return stat(path, &b) == 0 && a->st_dev == b.st_dev && a->st_ino == b.st_ino;
}

/* The folder of the input's first file ("." when none). */
static void input_dir(const mw_model *m, char *buf, size_t cap)
{
    const char *f = m->n_files ? m->files[0] : m->path;
    const char *slash = strrchr(f, '/');
    if (!slash) snprintf(buf, cap, ".");
    else snprintf(buf, cap, "%.*s", (int)(slash - f), f);
}

/* ---- metadata ----------------------------------------------------------------- */

/* The raw encoding of a GGUF value (what follows its type). */
static size_t value_span(const mw_gguf_kv *kv, const uint8_t **start)
{
    *start = (const uint8_t *)kv->key + kv->key_len + 4;
    const mw_gguf_value *v = &kv->value;
    switch (v->type) {
    case MW_GGUF_STRING: return 8 + (size_t)v->v.str.len;
    case MW_GGUF_ARRAY: {
        const uint8_t *p = v->v.arr.data;
        mw_gguf_value e;
        for (uint64_t i = 0; i < v->v.arr.count; i++) p = mw_gguf_array_elem(v->v.arr.type, p, &e);
        return (size_t)(p - *start);
    }
    case MW_GGUF_U8: case MW_GGUF_I8: case MW_GGUF_BOOL: return 1;
    case MW_GGUF_U16: case MW_GGUF_I16: return 2;
    case MW_GGUF_U32: case MW_GGUF_I32: case MW_GGUF_F32: return 4;
    default: return 8;
    }
}

/* every key of g but those the output sets itself (the file type, unless
 * it keeps the input's types; its own description when the output gets
 * memwall's, for sparse tensors) */
static mw_status copy_gguf_kvs(const mw_gguf *g, mw_gguf_writer *w, int own_description, int keep_file_type,
                               mw_err *err)
{
    for (uint64_t i = 0; i < mw_gguf_kv_count(g); i++) {
        const mw_gguf_kv *kv = mw_gguf_kv_at(g, i);
        char key[256];
        if (kv->key_len >= sizeof key) continue;
        memcpy(key, kv->key, (size_t)kv->key_len);
        key[kv->key_len] = '\0';
        /* what this file sets itself */
        if (!strcmp(key, "general.alignment") ||
            (!keep_file_type && (!strcmp(key, "general.file_type") || !strcmp(key, "general.quantization_version"))))
            continue;
        /* pruning's keys are the output's own (a densified file has none) */
        if (!strncmp(key, "memwall.sparse.", 15) || !strncmp(key, "memwall.prune.", 14)) continue;
        if (!strcmp(key, "general.description") &&
            (own_description || (kv->value.type == MW_GGUF_STRING &&
                                 kv->value.v.str.len >= sizeof MW_SPARSE_DESCRIPTION - 1 &&
                                 !memcmp(kv->value.v.str.ptr, MW_SPARSE_DESCRIPTION,
                                         sizeof MW_SPARSE_DESCRIPTION - 1))))
            continue;
        const uint8_t *p;
        size_t n = value_span(kv, &p);
        MW_FORWARD(mw_gguf_writer_set_raw(w, key, kv->value.type, p, n, err));
    }
    return MW_OK;
}

static mw_status hf_kvs(const mw_model *m, const char *dir, mw_gguf_writer *w, mw_err *err)
{
    const mw_hparams *hp = &m->hp;
    char name[256];
    const char *base = strrchr(dir, '/');
    snprintf(name, sizeof name, "%.200s", base ? base + 1 : dir);
    mw_status st = mw_llama_write_hparams(w, hp, name, err);
#define SET(fn, key, v) if (st == MW_OK) st = fn(w, key, v, err)
    if (hp->n_heads && hp->head_dim != hp->n_embd / hp->n_heads) {
        /* as llama.cpp's converter: a head_dim of its own is written */
        SET(mw_gguf_writer_set_u32, "llama.attention.key_length", hp->head_dim);
        SET(mw_gguf_writer_set_u32, "llama.attention.value_length", hp->head_dim);
    }
    if (hp->rope_scaling[0] && strcmp(hp->rope_scaling, "default")) {
        /* linear and yarn: llama.cpp's keys; llama3 needs its rope_freqs
         * tensor, which convert does not make (refused in check_model) */
        SET(mw_gguf_writer_set_str, "llama.rope.scaling.type", hp->rope_scaling);
        if (hp->rope_factor > 0) SET(mw_gguf_writer_set_f32, "llama.rope.scaling.factor", (float)hp->rope_factor);
        if (hp->rope_orig_ctx)
            SET(mw_gguf_writer_set_u32, "llama.rope.scaling.original_context_length", hp->rope_orig_ctx);
    }
#undef SET
    return st;
}

/* ---- the model ------------------------------------------------------------- */

static mw_status check_model(conv *cv, mw_err *err)
{
    mw_model *m = cv->m;
    const char *shown = SHOWN(m->path);
    if (m->source == MW_SOURCE_GGUF) {
        char arch[64] = "";
        mw_gguf_get_str(mw_gguf_of_model(m), "general.architecture", arch, sizeof arch);
        MW_RETURN_IF(strcmp(arch, "llama"), err, MW_ERR_UNSUPPORTED,
                     "%s: unsupported architecture %s: convert handles llama-family models (llama, mistral)",
                     shown, SHOWN(arch));
        return MW_OK;
    }
    MW_RETURN_IF(m->source != MW_SOURCE_SAFETENSORS, err, MW_ERR_INVALID,
                 "%s holds no weights (a config or a preset): convert needs a GGUF or safetensors model", shown);
    MW_RETURN_IF(!m->has_hparams, err, MW_ERR_NOT_FOUND,
                 "%s: no config.json beside the weights: convert needs the model's hyperparameters "
                 "(put the model's config.json in its folder)", shown);
    MW_RETURN_IF(strcmp(m->hp.arch, "llama") && strcmp(m->hp.arch, "mistral"), err, MW_ERR_UNSUPPORTED,
                 "%s: unsupported architecture %s: convert handles llama-family models (llama, mistral)", shown,
                 SHOWN(m->hp.arch));
    MW_RETURN_IF(!strcmp(m->hp.rope_scaling, "llama3") || !strcmp(m->hp.rope_scaling, "longrope") ||
                 !strcmp(m->hp.rope_scaling, "dynamic"), err, MW_ERR_UNSUPPORTED,
                 "%s: rope_scaling \"%s\" is not supported by convert yet (llama3 needs llama.cpp's "
                 "rope_freqs tensor); linear and yarn are", shown, m->hp.rope_scaling);
    MW_RETURN_IF(!m->hp.n_heads || !m->hp.n_kv_heads || !m->hp.head_dim || m->hp.head_dim % 2, err,
                 MW_ERR_INVALID, "%s: config.json gives no usable head count / head size", shown);
    return MW_OK;
}

static mw_status plan_tensor(conv *cv, ctensor *ct, const mw_tensor_info *ti, const mw_weight_scheme *s,
                             mw_dtype plain, mw_err *err)
{
    const mw_convert_opts *o = cv->o;
    const char *shown_in = SHOWN(ti->name);
    MW_RETURN_IF(ti->n_dims < 1 || ti->n_dims > 4, err, MW_ERR_UNSUPPORTED,
                 "tensor %s has %u dimensions (GGUF takes 1 to 4)", shown_in, ti->n_dims);
    ct->ti = ti;
    ct->cv = cv;
    ct->src = ti->dtype;
    ct->n_dims = ti->n_dims;
    for (uint32_t d = 0; d < ti->n_dims; d++) ct->dims[d] = ti->shape[ti->n_dims - 1 - d];
    ct->k = ct->dims[0];
    ct->rows = ct->k ? ti->n_elems / ct->k : 0;
    /* the type: --keep, the file type's choice, or the plain type */
    mw_dtype t = MW_DTYPE_COUNT;
    for (uint32_t i = 0; i < o->n_keep && t == MW_DTYPE_COUNT; i++)
        if (fnmatch(o->keep[i].pattern, ct->name, 0) == 0) t = o->keep[i].type;
    const char *why = t != MW_DTYPE_COUNT ? "--keep" : "--dtype";
    if (t == MW_DTYPE_COUNT) {
        if (s->kind == MW_SCHEME_LLAMACPP)
            t = mw_weight_scheme_tensor_type(s, cv->m, ti->name, ti->n_dims, ti->shape, ti->dtype);
        else if (plain == MW_DTYPE_COUNT) /* --densify without --dtype: each tensor as it is, sparse made dense */
            t = mw_dtype_is_sparse(ti->dtype) ? mw_sparse_base(ti->dtype) : ti->dtype;
        else t = ti->n_dims >= 2 ? plain : MW_DTYPE_F32;
    }
    ct->prune = pruning(o) && ti->n_dims == 2 && prunable(ct->name);
    const int sparse_in = mw_dtype_is_sparse(ct->src);
    if (sparse_in) {
        MW_RETURN_IF(!o->densify && !ct->prune, err, MW_ERR_UNSUPPORTED,
                     "tensor %s is %s, memwall's sparse storage of pruned weights: add --densify to write it "
                     "dense (llama.cpp loads the result), or --prune to prune it again", ct->name,
                     mw_dtype_get(ct->src)->name);
        ct->keep_in = mw_sparse_is_24(ct->src) ? (int64_t)ct->k / 2 : mw_sparse_row_keep((int64_t)ct->k, cv->in_q16);
        cv->n_sparse_in++;
    }
    char shape[96] = "";
    for (uint32_t d = 0, len = 0; d < ct->n_dims && len < sizeof shape; d++)
        len += (uint32_t)snprintf(shape + len, sizeof shape - len, "%s%llu", d ? " x " : "",
                                  (unsigned long long)ct->dims[d]);
    MW_RETURN_IF(ti->n_dims < 2 && t != MW_DTYPE_COUNT && mw_dtype_get(t)->block_elems > 1, err, MW_ERR_INVALID,
                 "tensor %s is a vector (a norm or a bias): it stays f32, f16 or bf16 (%s gave it %s)", ct->name,
                 why, mw_dtype_get(t)->name);
    const int copy = t == ct->src && !ct->qk_heads && !ct->prune;
    MW_RETURN_IF(t == MW_DTYPE_COUNT || (!copy && !mw_k_quant_row_supported(t)), err, MW_ERR_UNSUPPORTED,
                 "tensor %s: type %s (%s) is not one convert can write yet (f32, f16, bf16, q8_0, q4_0, q4_1, "
                 "q5_0, q5_1, q4_k, q5_k, q6_k): give it another with --keep TYPE:%s", ct->name,
                 t == MW_DTYPE_COUNT ? "?" : mw_dtype_get(t)->name, why, ct->name);
    const uint32_t block = mw_dtype_get(t)->block_elems;
    MW_RETURN_IF(ct->k % block != 0, err, MW_ERR_INVALID,
                 "tensor %s [%s, GGUF order]: rows of %llu values are not whole %s blocks of %u: keep it in "
                 "another type (--keep f16:%s) or use a llama.cpp file type (--dtype q4_k_m), which falls back",
                 ct->name, shape, (unsigned long long)ct->k, mw_dtype_get(t)->name, block, ct->name);
    ct->dst = t;
    if (ct->prune) {
        ct->keep_out = o->prune_kind == 2 ? (int64_t)ct->k / 2 : mw_sparse_row_keep((int64_t)ct->k, cv->out_q16);
        cv->n_pruned++;
    }
    if (ct->prune && !o->densify) {
        /* stored sparse: the values of type t, in blocks of 64 inputs */
        const mw_dtype sp = mw_sparse_type(t, o->prune_kind == 2);
        MW_RETURN_IF(sp == MW_DTYPE_COUNT, err, MW_ERR_UNSUPPORTED,
                     "tensor %s: pruned weights are stored sparse with F32, F16 or Q8_0 values (docs/SPARSE.md), "
                     "not %s (%s): use --dtype f32, f16 or q8_0 for the pruned tensors, or --densify to write "
                     "them dense in %s", ct->name, mw_dtype_get(t)->name, why, mw_dtype_get(t)->name);
        MW_RETURN_IF(ct->k % 64 != 0, err, MW_ERR_INVALID,
                     "tensor %s [%s, GGUF order]: rows of %llu values are not whole blocks of 64, which the "
                     "sparse layouts need (docs/SPARSE.md): prune with --densify to keep it dense", ct->name,
                     shape, (unsigned long long)ct->k);
        ct->dst = sp;
        cv->n_sparse_out++;
        if (!mw_sparse_is_24(sp)) cv->any_su_out = 1;
    }
    MW_RETURN_IF(ct->prune && o->prune_kind == 2 && ct->k % 4 != 0, err, MW_ERR_INVALID,
                 "tensor %s: rows of %llu values are not whole groups of 4, which 2:4 pruning needs", ct->name,
                 (unsigned long long)ct->k);
    MW_RETURN_IF(ct->qk_heads && ct->n_dims == 1 && mw_dtype_get(ct->src)->block_elems != 1, err,
                 MW_ERR_UNSUPPORTED, "tensor %s: a quantized q/k bias cannot be permuted", ct->name);
    MW_RETURN_IF(!copy && !sparse_in && !mw_k_supported(ct->src), err, MW_ERR_UNSUPPORTED,
                 "tensor %s is %s, which convert cannot read (it reads F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, "
                 "Q5_1, Q4_K, Q5_K, Q6_K and memwall's sparse types)", ct->name, mw_dtype_get(ct->src)->name);
    MW_RETURN_IF(!copy && ct->k % mw_dtype_get(ct->src)->block_elems != 0, err, MW_ERR_INVALID,
                 "tensor %s: rows of %llu values are not whole blocks of its type %s", ct->name,
                 (unsigned long long)ct->k, mw_dtype_get(ct->src)->name);
    const mw_dtype src_dense = sparse_in ? mw_sparse_base(ct->src) : ct->src;
    const mw_dtype dst_dense = mw_dtype_is_sparse(ct->dst) ? mw_sparse_base(ct->dst) : ct->dst;
    /* (to a float type nothing is lost again: no warning) */
    if (!copy && mw_dtype_get(src_dense)->block_elems > 1 && mw_dtype_get(dst_dense)->block_elems > 1 &&
        src_dense != dst_dense) {
        if (!cv->n_requant) snprintf(cv->requant_first, sizeof cv->requant_first, "%s (%s -> %s)", ct->name,
                                     mw_dtype_get(ct->src)->name, mw_dtype_get(t)->name);
        cv->n_requant++;
    }
    const uint64_t rb = row_bytes(ct->dst, ct->k, ct->keep_out);
    MW_RETURN_IF(rb == MW_UNKNOWN || (ct->rows && rb > UINT64_MAX / ct->rows), err, MW_ERR_INVALID,
                 "tensor %s: its size overflows", ct->name);
    ct->out_bytes = ct->n_dims == 1 ? mw_dtype_bytes(ct->dst, ti->n_elems) : rb * ct->rows;
    MW_RETURN_IF(ct->out_bytes == MW_UNKNOWN, err, MW_ERR_INVALID, "tensor %s: its size overflows", ct->name);
    if (!copy) {
        MW_RETURN_IF(ti->n_elems > SIZE_MAX / sizeof(float), err, MW_ERR_NOMEM, "tensor %s too large", ct->name);
        if ((size_t)ti->n_elems > cv->f32_cap) cv->f32_cap = (size_t)ti->n_elems;
    }
    if (ct->prune) {
        const size_t words = (size_t)((ct->k + 63) / 64) * (size_t)ct->rows;
        if (words > cv->masks_cap) cv->masks_cap = words;
    }
    return MW_OK;
}

static void conv_free(conv *cv)
{
    for (uint32_t i = 0; i < cv->n_maps; i++) mw_file_map_close(&cv->maps[i]);
    mw_free(cv->maps);
    mw_free(cv->t);
    mw_free(cv->f32);
    mw_free(cv->masks);
    mw_calib_free(cv->calib);
    mw_pool_free(cv->pool);
    mw_model_free(cv->m);
}

static mw_status check_pruning(const mw_convert_opts *o, mw_err *err)
{
    MW_RETURN_IF(o->prune_kind < 0 || o->prune_kind > 2, err, MW_ERR_INVALID, "prune_kind %d: 0, 1 or 2",
                 o->prune_kind);
    MW_RETURN_IF(o->prune_kind == 1 && !(o->prune_ratio > 0 && o->prune_ratio < 1), err, MW_ERR_INVALID,
                 "--prune %g: a ratio is between 0 and 1 (exclusive)", o->prune_ratio);
    MW_RETURN_IF(o->prune_score < 0 || o->prune_score > 1, err, MW_ERR_INVALID, "prune_score %d: 0 or 1",
                 o->prune_score);
    MW_RETURN_IF(o->prune_score == 1 && !o->calib_path, err, MW_ERR_INVALID,
                 "--prune-score wanda needs calibration text: --calib FILE");
    MW_RETURN_IF((o->prune_score || o->calib_path) && !o->prune_kind, err, MW_ERR_INVALID,
                 "--prune-score and --calib go with --prune R|2:4");
    MW_RETURN_IF(o->calib_path && o->prune_score != 1, err, MW_ERR_INVALID,
                 "--calib is Wanda's calibration text: add --prune-score wanda");
    if (o->prune_kind == 1) {
        const uint32_t q = mw_sparse_keep_q16(o->prune_ratio);
        MW_RETURN_IF(q == 0 || q >= 65536, err, MW_ERR_INVALID,
                     "--prune %g keeps %s of each row: give a ratio that removes some values and keeps some",
                     o->prune_ratio, q == 0 ? "nothing" : "everything");
    }
    return MW_OK;
}

/* Wanda's input norms: the engine runs the model (a GGUF file) over the
 * calibration text. */
static mw_status collect_calibration(conv *cv, mw_err *err)
{
    const mw_convert_opts *o = cv->o;
    MW_RETURN_IF(cv->m->source != MW_SOURCE_GGUF, err, MW_ERR_UNSUPPORTED,
                 "%s: Wanda's calibration runs the model with memwall's engine, which reads GGUF: convert it "
                 "to GGUF first (memwall convert %s base.gguf --dtype f16), then prune base.gguf",
                 SHOWN(cv->m->path), SHOWN(o->in));
    MW_RETURN_IF(cv->n_sparse_in, err, MW_ERR_UNSUPPORTED,
                 "%s holds sparse tensors: calibrate on the dense model (Wanda's norms come from the "
                 "unpruned weights)", SHOWN(cv->m->path));
    char *text = NULL;
    size_t len = 0;
    MW_FORWARD(mw_file_read_all(o->calib_path, (uint64_t)256 << 20, "a calibration text", &text, &len, err));
    mw_status st = mw_calib_collect(cv->m->path, text, 0, (int)o->threads, &cv->calib, err);
    mw_free(text);
    return st;
}

mw_status mw_convert(const mw_convert_opts *o, mw_convert_result *r, mw_err *err)
{
    memset(r, 0, sizeof *r);
    MW_RETURN_IF(!o->in || !*o->in, err, MW_ERR_INVALID, "no input model given");
    MW_RETURN_IF(!o->out || !*o->out, err, MW_ERR_INVALID, "no output file given");
    for (uint32_t i = 0; i < o->n_keep; i++) {
        MW_RETURN_IF(!o->keep[i].pattern || !*o->keep[i].pattern, err, MW_ERR_INVALID, "--keep with no pattern");
        MW_RETURN_IF(!mw_k_quant_row_supported(o->keep[i].type), err, MW_ERR_INVALID,
                     "--keep %s:%s: convert cannot write %s (f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, "
                     "q4_k, q5_k, q6_k)",
                     mw_dtype_get(o->keep[i].type)->name, o->keep[i].pattern, mw_dtype_get(o->keep[i].type)->name);
    }
    MW_FORWARD(check_pruning(o, err));
    /* --densify without --dtype: every tensor keeps its type, sparse ones
     * their values' (plain MW_DTYPE_COUNT) */
    const int as_input = o->densify && !o->dtype;
    const char *dtype_name = o->dtype ? o->dtype : as_input ? "as input" : "f16";
    mw_weight_scheme scheme = {.kind = MW_SCHEME_NONE};
    mw_dtype plain = MW_DTYPE_COUNT;
    if (!as_input) MW_FORWARD(parse_dtype(dtype_name, &scheme, &plain, err));

    conv cv = {.o = o};
    clock_gettime(CLOCK_MONOTONIC, &cv.t0);
    MW_FORWARD(mw_model_open(o->in, &cv.m, err));
    mw_status st = check_model(&cv, err);
    mw_model *m = cv.m;
    /* OUT must not be any of the input's files (also through a link) */
    struct stat ost;
    if (st == MW_OK && stat(o->out, &ost) == 0) {
        if (S_ISDIR(ost.st_mode))
            st = mw_err_set(err, MW_ERR_INVALID, "%s is a folder: give the GGUF file to write", SHOWN(o->out));
        for (uint32_t f = 0; st == MW_OK && f < m->n_files; f++)
            if (same_file(&ost, m->files[f]))
                st = mw_err_set(err, MW_ERR_INVALID,
                                "%s is the input file %s: write the converted model to another file",
                                SHOWN(o->out), SHOWN(m->files[f]));
    }
    cv.hf = m->source == MW_SOURCE_SAFETENSORS;
    const mw_gguf *g = cv.hf ? NULL : mw_gguf_of_model(m);
    if (g) {
        uint64_t q = 0;
        if (mw_gguf_get_u64(g, MW_GGUF_SPARSE_KEEP_KEY, &q) && q <= 65536) cv.in_q16 = (uint32_t)q;
    }
    if (o->prune_kind == 1) cv.out_q16 = mw_sparse_keep_q16(o->prune_ratio);
    if (st == MW_OK && cv.hf) {
        cv.maps = mw_calloc(m->n_files ? m->n_files : 1, sizeof *cv.maps, MW_MEM_OTHER);
        if (!cv.maps) st = mw_err_set(err, MW_ERR_NOMEM, "out of memory");
        for (uint32_t f = 0; st == MW_OK && f < m->n_files; f++, cv.n_maps++)
            st = mw_file_map_open(m->files[f], &cv.maps[f], err);
    }
    if (st == MW_OK) {
        cv.t = mw_calloc(m->n_tensors ? m->n_tensors : 1, sizeof *cv.t, MW_MEM_OTHER);
        if (!cv.t) st = mw_err_set(err, MW_ERR_NOMEM, "out of memory");
    }
    uint64_t bytes_in = 0;
    for (uint32_t i = 0; st == MW_OK && i < m->n_tensors; i++) {
        const mw_tensor_info *ti = &m->tensors[i];
        ctensor *ct = &cv.t[cv.n_t];
        if (cv.hf) {
            int k = mw_convert_hf_name(ti->name, ct->name, sizeof ct->name);
            if (k == 0) continue;
            if (k < 0) {
                st = mw_err_set(err, MW_ERR_UNSUPPORTED,
                                "tensor %s: not a tensor of a llama model convert knows (embed_tokens, layers.N."
                                "{input_layernorm, self_attn.[qkvo]_proj, post_attention_layernorm, mlp."
                                "{gate,up,down}_proj}, norm, lm_head)", SHOWN(ti->name));
                break;
            }
            const mw_file_map *map = &cv.maps[ti->file];
            if (ti->offset > map->len || ti->bytes > map->len - ti->offset) {
                st = mw_err_set(err, MW_ERR_INVALID, "%s: tensor %s ends past the file's %llu bytes (truncated?)",
                                SHOWN(m->files[ti->file]), SHOWN(ti->name), (unsigned long long)map->len);
                break;
            }
            ct->data = (const uint8_t *)map->addr + ti->offset;
            int qk = mw_convert_qk_kind(ct->name);
            ct->qk_heads = qk == 1 ? m->hp.n_heads : qk == 2 ? m->hp.n_kv_heads : 0;
            if (qk && (ti->shape[0] % ct->qk_heads || (ti->shape[0] / ct->qk_heads) % 2)) {
                st = mw_err_set(err, MW_ERR_INVALID, "tensor %s: %llu rows are not %u heads of an even size",
                                SHOWN(ti->name), (unsigned long long)ti->shape[0], ct->qk_heads);
                break;
            }
        } else {
            const mw_gguf_tensor *gt = mw_gguf_find_tensor(g, ti->name);
            if (!gt || strlen(ti->name) >= sizeof ct->name) {
                st = mw_err_set(err, MW_ERR_INVALID, "tensor %s: not found in the GGUF file", SHOWN(ti->name));
                break;
            }
            snprintf(ct->name, sizeof ct->name, "%s", ti->name);
            ct->data = gt->data;
        }
        st = plan_tensor(&cv, ct, ti, &scheme, plain, err);
        bytes_in += ti->bytes;
        cv.n_t++;
    }
    /* issue #14: unstructured Q8 pruned tensors are written as Q8_SUK (a
     * scale per 256 inputs, x in Q8_K: the faster kernels, docs/SPARSE.md)
     * when every one of them has rows of a multiple of 256 inputs, else all
     * as Q8_SU (one type for the file's pruned Q8 tensors) */
    uint32_t n_q8su = 0, n_q8su_256 = 0;
    for (uint32_t i = 0; st == MW_OK && i < cv.n_t; i++)
        if (cv.t[i].dst == MW_DTYPE_Q8_SU) {
            n_q8su++;
            n_q8su_256 += cv.t[i].k % 256 == 0;
        }
    for (uint32_t i = 0; st == MW_OK && n_q8su && n_q8su_256 == n_q8su && i < cv.n_t; i++) {
        ctensor *ct = &cv.t[i];
        if (ct->dst != MW_DTYPE_Q8_SU) continue;
        ct->dst = MW_DTYPE_Q8_SUK;
        const uint64_t rb = row_bytes(ct->dst, ct->k, ct->keep_out);
        if (rb == MW_UNKNOWN || (ct->rows && rb > UINT64_MAX / ct->rows))
            st = mw_err_set(err, MW_ERR_INVALID, "tensor %s: its size overflows", ct->name);
        else ct->out_bytes = rb * ct->rows;
    }
    if (st == MW_OK && n_q8su && n_q8su_256 < n_q8su)
        warnf(o, "%u of the %u pruned Q8 tensors have rows that are not a multiple of 256 inputs: all are "
                 "written as Q8_SU, not the faster Q8_SUK (docs/SPARSE.md)", n_q8su - n_q8su_256, n_q8su);
    for (uint32_t i = 0; st == MW_OK && i < o->n_keep; i++) {
        int used = 0;
        for (uint32_t j = 0; j < cv.n_t && !used; j++) used = fnmatch(o->keep[i].pattern, cv.t[j].name, 0) == 0;
        if (!used)
            st = mw_err_set(err, MW_ERR_INVALID, "--keep %s:%s matches no tensor (GGUF names, e.g. "
                                                 "token_embd.weight, blk.*.ffn_down.weight, output.weight)",
                            mw_dtype_get(o->keep[i].type)->name, o->keep[i].pattern);
    }
    if (st == MW_OK && cv.n_requant)
        warnf(o, "requantizing %u already quantized tensors, %s the first: quantization errors add up "
                 "(convert from the original weights when you have them)", cv.n_requant, cv.requant_first);
    if (st == MW_OK && cv.n_t == 0) st = mw_err_set(err, MW_ERR_INVALID, "%s has no tensors", SHOWN(m->path));
    if (st == MW_OK && pruning(o) && !cv.n_pruned)
        st = mw_err_set(err, MW_ERR_INVALID, "%s: no tensor to prune (--prune takes the blocks' linear weights, "
                                             "blk.N.attn_q/k/v/output and ffn_gate/up/down)", SHOWN(m->path));
    if (st == MW_OK && o->densify && !pruning(o) && !cv.n_sparse_in)
        warnf(o, "--densify: %s holds no sparse tensors; the file is converted as it is", SHOWN(m->path));
    if (st == MW_OK && cv.masks_cap) {
        cv.masks = mw_malloc(cv.masks_cap * sizeof *cv.masks, MW_MEM_OTHER);
        if (!cv.masks) st = mw_err_set(err, MW_ERR_NOMEM, "out of memory for the keep-masks");
    }
    if (st == MW_OK && o->prune_score == 1) st = collect_calibration(&cv, err);
    if (st == MW_OK && cv.f32_cap) {
        cv.f32 = mw_malloc(cv.f32_cap * sizeof(float), MW_MEM_OTHER);
        if (!cv.f32) st = mw_err_set(err, MW_ERR_NOMEM, "out of memory for a tensor of %zu values", cv.f32_cap);
    }

    if (st == MW_OK) {
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        uint32_t n = o->threads ? o->threads : ncpu > 0 ? (uint32_t)ncpu : 1;
        st = mw_pool_init(&cv.pool, (int)(n > 4096 ? 4096 : n), err);
    }

    /* the file */
    mw_gguf_writer *w = NULL;
    if (st == MW_OK) st = mw_gguf_writer_init(&w, err);
    const char *tokenizer = "copied";
    char dir[PATH_MAX];
    input_dir(m, dir, sizeof dir);
    if (st == MW_OK && !cv.hf) st = copy_gguf_kvs(g, w, cv.n_sparse_out != 0, as_input, err);
    if (st == MW_OK && cv.hf) st = hf_kvs(m, dir, w, err);
    uint32_t ft = mw_convert_file_type(scheme.kind == MW_SCHEME_LLAMACPP ? scheme.name : dtype_name);
    /* (--densify without --dtype keeps the input's file type keys) */
    int quantized = !as_input && (scheme.kind == MW_SCHEME_LLAMACPP ||
                                  (plain != MW_DTYPE_F32 && plain != MW_DTYPE_F16 && plain != MW_DTYPE_BF16));
    if (st == MW_OK && ft != 0xFFFFFFFFu) st = mw_gguf_writer_set_u32(w, "general.file_type", ft, err);
    if (st == MW_OK && quantized) st = mw_gguf_writer_set_u32(w, "general.quantization_version", 2, err);
    if (st == MW_OK && pruning(o)) {
        char pattern[32];
        if (o->prune_kind == 2) snprintf(pattern, sizeof pattern, "2:4");
        else snprintf(pattern, sizeof pattern, "%g", o->prune_ratio);
        st = mw_gguf_writer_set_str(w, "memwall.prune.pattern", pattern, err);
        if (st == MW_OK)
            st = mw_gguf_writer_set_str(w, "memwall.prune.score", o->prune_score ? "wanda" : "magnitude", err);
    }
    if (st == MW_OK && cv.any_su_out) st = mw_gguf_writer_set_u32(w, MW_GGUF_SPARSE_KEEP_KEY, cv.out_q16, err);
    if (st == MW_OK && cv.n_sparse_out)
        st = mw_gguf_writer_set_str(w, "general.description", MW_SPARSE_DESCRIPTION, err);
    if (st == MW_OK && cv.hf) st = mw_convert_hf_vocab(dir, &m->hp, w, &tokenizer, o->warn, o->warn_user, err);
    for (uint32_t i = 0; st == MW_OK && i < cv.n_t; i++) {
        ctensor *ct = &cv.t[i];
        cv.bytes_total += ct->out_bytes;
        st = mw_gguf_writer_add_tensor_fn(w, ct->name, ct->dst, ct->n_dims, ct->dims, ct->out_bytes, fill, ct, err);
    }
    if (st == MW_OK) st = mw_gguf_writer_write(w, o->out, err);
    mw_gguf_writer_free(w);

    if (st == MW_OK) {
        snprintf(r->in, sizeof r->in, "%s", m->path);
        snprintf(r->out, sizeof r->out, "%s", o->out);
        snprintf(r->dtype, sizeof r->dtype, "%s", scheme.kind == MW_SCHEME_LLAMACPP ? scheme.name : dtype_name);
        r->file_type = ft;
        r->n_tensors = cv.n_t;
        for (uint32_t i = 0; i < cv.n_t; i++) {
            r->n_by_type[cv.t[i].dst]++;
            r->bytes_by_type[cv.t[i].dst] += cv.t[i].out_bytes;
            r->bytes_out += cv.t[i].out_bytes;
        }
        r->bytes_in = bytes_in;
        struct stat sb;
        r->file_bytes = stat(o->out, &sb) == 0 ? (uint64_t)sb.st_size : 0;
        r->n_requantized = cv.n_requant;
        r->n_pruned = cv.n_pruned;
        r->n_sparse = cv.n_sparse_out;
        r->n_densified = o->densify ? cv.n_sparse_in : 0;
        r->tokenizer = tokenizer;
        r->seconds = since(&cv.t0);
    }
    conv_free(&cv);
    return st;
}
