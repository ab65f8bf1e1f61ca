/*
 * calib.c - mw_calib_collect: the input-feature norms ‖X_j‖₂ of every linear
 * weight over a calibration text, for Wanda's score (prune.h).
 *
 * The engine's own forward pass runs over the text (forward.c), and its
 * matmul hook (mw_forward.on_matmul) hands over the f32 input rows of every
 * product before it is computed; each weight's rows are squared and summed
 * per column in double, and the norms are the square roots at the end.
 * wq, wk and wv get the same rows (the attention norm's output), as do
 * w_gate and w_up (the ffn norm's); w_down gets silu(g)·u, wo the attention
 * output, and output.weight the final norm's rows of every token.
 *
 * The tokens: the whole text with the file's vocabulary (no BOS), cut into
 * consecutive windows, each starting with BOS when the vocabulary adds one
 * (as llama.cpp starts every sequence) followed by the next n_ctx - 1 text
 * tokens (n_ctx without BOS); each window runs from position 0 (a fresh KV
 * cache: positions are rewritten before they are read) in steps of at most
 * CALIB_UBATCH tokens. Every text token is fed once; the last window may
 * be shorter.
 */
#include "engine/prune.h"
#include "engine/llama.h"
#include "engine/threadpool.h"
#include "common/error.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Tokens per forward step (eval.c's and llama.cpp's n_ubatch default): the
 * logits of a step are CALIB_UBATCH x vocab floats. */
#define CALIB_UBATCH 512
/* The default window, llama.cpp's perplexity default (as eval.c). */
#define CALIB_CTX_DEFAULT 512u

typedef struct calib_tensor {
    char name[64];
    const mw_weight *w;
    int64_t k;
    double *acc;                     /* Σ x_j² while collecting */
    float *norm;                     /* sqrt(acc) afterwards    */
} calib_tensor;

struct mw_calib {
    calib_tensor *t;
    uint32_t n;
    uint32_t last;                   /* the slot of the previous call */
    uint64_t tokens, windows;
};

void mw_calib_free(mw_calib *c)
{
    if (!c) return;
    for (uint32_t i = 0; i < c->n; i++) {
        mw_free(c->t[i].acc);
        mw_free(c->t[i].norm);
    }
    mw_free(c->t);
    mw_free(c);
}

const float *mw_calib_col_norms(const mw_calib *c, const char *tensor_name, int64_t *k)
{
    if (k) *k = 0;
    if (!c || !tensor_name) return NULL;
    for (uint32_t i = 0; i < c->n; i++)
        if (c->t[i].norm && !strcmp(c->t[i].name, tensor_name)) {
            if (k) *k = c->t[i].k;
            return c->t[i].norm;
        }
    return NULL;
}

uint64_t mw_calib_tokens(const mw_calib *c) { return c ? c->tokens : 0; }
uint64_t mw_calib_windows(const mw_calib *c) { return c ? c->windows : 0; }

/* The hook: the products come in the same order every step, so the slot
 * after the previous one is tried first. */
static void on_matmul(void *ctx, const mw_weight *w, const float *x, int64_t m)
{
    mw_calib *c = ctx;
    uint32_t i = c->last + 1 < c->n ? c->last + 1 : 0;
    if (c->t[i].w != w) {
        for (i = 0; i < c->n && c->t[i].w != w; i++) {
        }
        if (i == c->n) return;       /* not a calibrated weight */
    }
    c->last = i;
    calib_tensor *t = &c->t[i];
    for (int64_t r = 0; r < m; r++) {
        const float *row = x + r * t->k;
        for (int64_t j = 0; j < t->k; j++) t->acc[j] += (double)row[j] * (double)row[j];
    }
}

static mw_status add_tensor(mw_calib *c, const mw_weight *w, const char *name, mw_err *err)
{
    calib_tensor *t = &c->t[c->n];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->w = w;
    t->k = w->cols;
    t->acc = mw_calloc((size_t)w->cols, sizeof(double), MW_MEM_SCRATCH);
    MW_RETURN_IF(!t->acc, err, MW_ERR_NOMEM, "out of memory for the calibration sums of %s", name);
    c->n++;
    return MW_OK;
}

static mw_status build_table(mw_calib *c, const mw_llama *m, mw_err *err)
{
    uint32_t L = m->hp.n_layers;
    c->t = mw_calloc((size_t)L * 7 + 1, sizeof *c->t, MW_MEM_SCRATCH);
    MW_RETURN_IF(!c->t, err, MW_ERR_NOMEM, "out of memory for the calibration table");
    static const char *const names[7] = {"attn_q", "attn_k", "attn_v", "attn_output",
                                         "ffn_gate", "ffn_up", "ffn_down"};
    for (uint32_t l = 0; l < L; l++) {
        const mw_llama_layer *y = &m->layers[l];
        const mw_weight *ws[7] = {&y->wq, &y->wk, &y->wv, &y->wo, &y->w_gate, &y->w_up, &y->w_down};
        for (int i = 0; i < 7; i++) {
            char name[64];
            snprintf(name, sizeof name, "blk.%u.%s.weight", l, names[i]);
            MW_FORWARD(add_tensor(c, ws[i], name, err));
        }
    }
    /* tied: output.weight is not in the file, and token_embd.weight's
     * pruning would change the embeddings too: none */
    if (m->output.data != m->token_embd.data) MW_FORWARD(add_tensor(c, &m->output, "output.weight", err));
    return MW_OK;
}

typedef struct calib_run {
    mw_pool *pool;
    mw_llama *m;
    mw_tokenizer *tok;
    uint32_t *ids;
    size_t n_ids;
    mw_kv_cache kv;
    mw_forward fw;
    int fw_ready;
    int32_t *win, *seq, *pos;        /* [n_ctx] */
    float *logits;                   /* [CALIB_UBATCH or less, vocab] */
} calib_run;

static void run_free(calib_run *R)
{
    if (R->fw_ready) mw_forward_free(&R->fw);
    mw_kv_cache_free(&R->kv);
    mw_free(R->win);
    mw_free(R->seq);
    mw_free(R->pos);
    mw_free(R->logits);
    mw_free(R->ids);
    mw_tokenizer_free(R->tok);
    mw_llama_free(R->m);
    mw_pool_free(R->pool);
}

static mw_status collect(calib_run *R, mw_calib *c, const char *path, const char *text, uint32_t n_ctx,
                         int n_threads, uint64_t max_tokens, mw_err *err)
{
    char sp[128];
    const char *shown = mw_shown_str(path, sp, sizeof sp);
    if (n_threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        n_threads = n > 0 ? (int)n : 1;
    }
    MW_FORWARD(mw_pool_init(&R->pool, n_threads, err));
    MW_FORWARD(mw_llama_load(path, 0, 0, R->pool, &R->m, err));
    const mw_hparams *hp = &R->m->hp;
    MW_RETURN_IF(!R->m->path, err, MW_ERR_INVALID,
                 "%s has no vocabulary to tokenize the calibration text with: give a GGUF file that has one "
                 "(tokenizer.ggml.*)", shown);
    MW_FORWARD(R->m->model ? mw_tokenizer_from_model(R->m->model, &R->tok, err)
                           : mw_tokenizer_open(R->m->path, &R->tok, err));
    MW_RETURN_IF(mw_tokenizer_vocab_size(R->tok) > hp->n_vocab, err, MW_ERR_INVALID,
                 "%s: the vocabulary has %u tokens but the model's output only %u: the file's "
                 "tokenizer.ggml.tokens does not belong to its weights",
                 shown, mw_tokenizer_vocab_size(R->tok), hp->n_vocab);
    /* the window */
    if (!n_ctx) n_ctx = hp->n_ctx_train && hp->n_ctx_train < CALIB_CTX_DEFAULT ? hp->n_ctx_train : CALIB_CTX_DEFAULT;
    MW_RETURN_IF(hp->n_ctx_train && n_ctx > hp->n_ctx_train, err, MW_ERR_INVALID,
                 "a calibration window of %u tokens is more than the context length of %s: %u "
                 "(llama.context_length); give %u or less", n_ctx, shown, hp->n_ctx_train, hp->n_ctx_train);
    MW_RETURN_IF(n_ctx < 2 || n_ctx > (1u << 20), err, MW_ERR_INVALID,
                 "a calibration window of %u tokens: give 2 .. 1048576", n_ctx);
    int64_t bos = -1;
    if (mw_tokenizer_adds_bos(R->tok)) {
        bos = mw_tokenizer_bos(R->tok);
        MW_RETURN_IF(bos < 0 || bos >= (int64_t)hp->n_vocab, err, MW_ERR_INVALID,
                     "%s: the vocabulary adds a BOS token but its id (%lld) is not a token of the model",
                     shown, (long long)bos);
    }
    /* the text */
    size_t len = strlen(text);
    mw_err e2 = {0};
    if (mw_tokenizer_encode(R->tok, text, len, 0, &R->ids, &R->n_ids, &e2) != MW_OK)
        return mw_err_set(err, e2.status, "the calibration text: %s", e2.msg);
    MW_RETURN_IF(R->n_ids == 0, err, MW_ERR_INVALID,
                 "the calibration text has no tokens in the vocabulary of %s: give some text", shown);
    /* the buffers */
    uint32_t ub = n_ctx < CALIB_UBATCH ? n_ctx : CALIB_UBATCH;
    mw_step_shape shape = {ub, n_ctx};
    MW_FORWARD(mw_kv_cache_init(&R->kv, R->m, MW_DTYPE_F16, 1, n_ctx, err));
    MW_FORWARD(mw_forward_init(&R->fw, R->m, &R->kv, R->pool, &shape, 1, 1, err));
    R->fw_ready = 1;
    R->win = mw_malloc((size_t)n_ctx * sizeof *R->win, MW_MEM_SCRATCH);
    R->seq = mw_calloc(n_ctx, sizeof *R->seq, MW_MEM_SCRATCH);
    R->pos = mw_malloc((size_t)n_ctx * sizeof *R->pos, MW_MEM_SCRATCH);
    size_t lbytes = (size_t)ub * hp->n_vocab * sizeof(float);
    R->logits = mw_malloc(lbytes, MW_MEM_ACTIVATIONS);
    MW_RETURN_IF(!R->win || !R->seq || !R->pos || !R->logits, err, MW_ERR_NOMEM,
                 "out of memory for the calibration's windows (%zu bytes of logits)", lbytes);
    for (uint32_t i = 0; i < n_ctx; i++) R->pos[i] = (int32_t)i;
    MW_FORWARD(build_table(c, R->m, err));
    c->last = c->n - 1;
    R->fw.on_matmul = on_matmul;
    R->fw.on_matmul_ctx = c;
    /* the windows */
    size_t next = 0;
    uint64_t room = max_tokens;
    const uint64_t least = bos >= 0 ? 2 : 1; /* a window feeds at least one text token */
    while (next < R->n_ids && room >= least) {
        uint32_t w = 0;
        if (bos >= 0) R->win[w++] = (int32_t)bos;
        while (w < n_ctx && next < R->n_ids && w < room) R->win[w++] = (int32_t)R->ids[next++];
        for (uint32_t s = 0; s < w; s += ub) {
            int64_t n = w - s < ub ? w - s : ub;
            MW_FORWARD(mw_forward_step_rows(&R->fw, n, R->win + s, R->seq, R->pos + s, 0, R->logits, err));
        }
        c->tokens += w;
        c->windows++;
        room -= w;
    }
    for (uint32_t i = 0; i < c->n; i++) {
        calib_tensor *t = &c->t[i];
        t->norm = mw_malloc((size_t)t->k * sizeof(float), MW_MEM_SCRATCH);
        MW_RETURN_IF(!t->norm, err, MW_ERR_NOMEM, "out of memory for the calibration norms of %s", t->name);
        for (int64_t j = 0; j < t->k; j++) t->norm[j] = (float)sqrt(t->acc[j]);
        mw_free(t->acc);
        t->acc = NULL;
        t->w = NULL;                 /* the model is freed */
    }
    return MW_OK;
}

mw_status mw_calib_collect_n(const char *model_path, const char *text, uint32_t n_ctx, int n_threads,
                             uint64_t max_tokens, mw_calib **out, mw_err *err)
{
    *out = NULL;
    MW_RETURN_IF(!model_path, err, MW_ERR_INVALID, "no model given to calibrate");
    MW_RETURN_IF(!strcmp(model_path, MW_DEMO_MODEL), err, MW_ERR_INVALID,
                 "the demo model has no vocabulary to tokenize a calibration text with: write it as a GGUF "
                 "file with 'memwall convert --demo demo.gguf' and calibrate that, or prune by magnitude");
    MW_RETURN_IF(!text || !*text, err, MW_ERR_INVALID, "the calibration text is empty: give some text");
    MW_RETURN_IF(max_tokens < 1 || max_tokens > MW_CALIB_MAX_TOKENS, err, MW_ERR_INVALID,
                 "a calibration of %llu tokens: give 1 .. %llu", (unsigned long long)max_tokens,
                 (unsigned long long)MW_CALIB_MAX_TOKENS);
    mw_calib *c = mw_calloc(1, sizeof *c, MW_MEM_SCRATCH);
    MW_RETURN_IF(!c, err, MW_ERR_NOMEM, "out of memory for the calibration");
    calib_run R;
    memset(&R, 0, sizeof R);
    mw_status st = collect(&R, c, model_path, text, n_ctx, n_threads, max_tokens, err);
    run_free(&R);
    if (st != MW_OK) {
        mw_calib_free(c);
        return st;
    }
    *out = c;
    return MW_OK;
}

mw_status mw_calib_collect(const char *model_path, const char *text, uint32_t n_ctx, int n_threads,
                           mw_calib **out, mw_err *err)
{
    return mw_calib_collect_n(model_path, text, n_ctx, n_threads, MW_CALIB_MAX_TOKENS, out, err);
}
