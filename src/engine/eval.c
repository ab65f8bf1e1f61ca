/*
 * eval.c - mw_eval: perplexity over a text, as llama.cpp's perplexity tool
 * computes it, and the KL divergence against a reference model.
 *
 * The method (docs/EVAL.md, checked against llama.cpp's
 * tools/perplexity/perplexity.cpp):
 *   - the whole text is tokenized with the model's vocabulary, BOS first
 *     when the vocabulary asks for one (llama.cpp: common_tokenize(..., true));
 *   - it is cut into consecutive chunks of ctx tokens, the remainder dropped;
 *   - in each chunk the first token is replaced by BOS when the vocabulary
 *     adds one, and the chunk runs from position 0 in a fresh cache;
 *   - with first = ctx/2, the logits at positions first .. ctx-2 score the
 *     tokens at first+1 .. ctx-1: ctx - 1 - first predictions per chunk.
 * The chunk's last token predicts nothing scored, so it is not fed: the
 * logits of the positions before it are the same without it (causal).
 *
 * With a stride S (llama.cpp's --ppl-stride, its perplexity_v2; Hugging
 * Face's sliding-window perplexity): windows of ctx tokens start every S
 * tokens, ceil((tokens - ctx) / S) of them; each scores its last S
 * predictions (logits at ctx-S-1 .. ctx-2), so every scored token had at
 * least ctx - S - 1 tokens before it. No token is replaced by BOS (llama.cpp
 * writes BOS into its token array only after the window was decoded).
 *
 * log-softmax in double; perplexity = exp(mean NLL); its ± is llama.cpp's:
 * sqrt((mean(NLL²) - mean(NLL)²) / (N - 1)) · perplexity.
 * KL(P || Q) per position, P the reference's distribution, Q the model's.
 */
#include "engine/llama.h"
#include "engine/threadpool.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/sort.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The largest text read (the tokenizer's own limit is 1 GiB). */
#define EVAL_TEXT_MAX (1ull << 30)
/* Tokens per forward step within a chunk (llama.cpp's n_ubatch default):
 * the attention scores of a step are ubatch x heads x ctx floats. */
#define EVAL_UBATCH 512
/* The largest chunk (positions are int32_t; a cache of 1 Mi positions is
 * already far past any model here). */
#define EVAL_CTX_MAX (1u << 20)

void mw_eval_opts_init(mw_eval_opts *o)
{
    memset(o, 0, sizeof *o);
    o->ctx = 0;                      /* 512, or the model's context when less */
    o->kv_dtype = MW_DTYPE_F16;
}

void mw_eval_result_free(mw_eval_result *r)
{
    if (!r) return;
    mw_free(r->per_chunk);
    mw_free(r);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* One model with its cache, forward pass and logits rows. */
typedef struct eval_model {
    mw_llama *m;
    mw_kv_cache kv;
    mw_forward fw;
    float *logits;                   /* [scored, vocab], MW_MEM_ACTIVATIONS */
    double seconds;
} eval_model;

static void model_free(eval_model *e)
{
    mw_forward_free(&e->fw);
    mw_kv_cache_free(&e->kv);
    mw_llama_free(e->m);
    mw_free(e->logits);
    memset(e, 0, sizeof *e);
}

typedef struct eval_state {
    mw_pool *pool;
    mw_tokenizer *tok, *ref_tok;
    eval_model model, ref;
    char *text;
    uint32_t *ids;
    size_t n_ids;
    int32_t *chunk, *seq, *pos;      /* [ctx]                              */
    double *kls;                     /* [chunks x scored]                  */
    double *row_nll, *row_ref_nll, *row_kl;  /* [EVAL_UBATCH]: one step's rows */
    uint8_t *row_same;
} eval_state;

static void state_free(eval_state *S)
{
    model_free(&S->model);
    model_free(&S->ref);
    mw_tokenizer_free(S->tok);
    mw_tokenizer_free(S->ref_tok);
    mw_pool_free(S->pool);
    mw_free(S->text);
    mw_free(S->ids);
    mw_free(S->chunk);
    mw_free(S->seq);
    mw_free(S->pos);
    mw_free(S->kls);
    mw_free(S->row_nll);
    mw_free(S->row_ref_nll);
    mw_free(S->row_kl);
    mw_free(S->row_same);
}

static mw_status refuse_demo(const char *what, const char *role, mw_err *err)
{
    MW_RETURN_IF(!strcmp(what, MW_DEMO_MODEL), err, MW_ERR_INVALID,
                 "the demo model (%s) has no vocabulary file to tokenize the text with: write it as a GGUF "
                 "file with 'memwall convert --demo demo.gguf' and evaluate demo.gguf",
                 role);
    return MW_OK;
}

/* The two vocabularies must be the same, id for id: the KL compares the
 * probability of the same token. */
static mw_status same_vocab(const mw_tokenizer *a, const mw_tokenizer *b, const char *pa, const char *pb,
                            mw_err *err)
{
    char sa[128], sb[128];
    uint32_t na = mw_tokenizer_vocab_size(a), nb = mw_tokenizer_vocab_size(b);
    MW_RETURN_IF(na != nb, err, MW_ERR_INVALID,
                 "the vocabularies differ: %s has %u tokens, the reference %s %u; KL needs the same vocabulary",
                 mw_shown_str(pa, sa, sizeof sa), na, mw_shown_str(pb, sb, sizeof sb), nb);
    MW_RETURN_IF(mw_tokenizer_bos(a) != mw_tokenizer_bos(b) || mw_tokenizer_eos(a) != mw_tokenizer_eos(b) ||
                     mw_tokenizer_adds_bos(a) != mw_tokenizer_adds_bos(b),
                 err, MW_ERR_INVALID,
                 "the vocabularies differ: BOS %lld / EOS %lld (adds BOS: %d) in %s, %lld / %lld (%d) in the "
                 "reference %s",
                 (long long)mw_tokenizer_bos(a), (long long)mw_tokenizer_eos(a), mw_tokenizer_adds_bos(a),
                 mw_shown_str(pa, sa, sizeof sa), (long long)mw_tokenizer_bos(b), (long long)mw_tokenizer_eos(b),
                 mw_tokenizer_adds_bos(b), mw_shown_str(pb, sb, sizeof sb));
    for (uint32_t id = 0; id < na; id++) {
        char *ta = NULL, *tb = NULL;
        size_t la = 0, lb = 0;
        mw_status st = mw_tokenizer_decode(a, &id, 1, &ta, &la, err);
        if (st == MW_OK) st = mw_tokenizer_decode(b, &id, 1, &tb, &lb, err);
        int differ = st == MW_OK && (la != lb || memcmp(ta, tb, la));
        char va[72], vb[72];
        if (differ) {
            /* as decoded text, quoted; a token that decodes to nothing (a
             * control token, a lone U+2581 the decoder drops) said so */
            char t[64];
            snprintf(va, sizeof va, la ? "\"%s\"" : "(no text)", la ? mw_shown(ta, la, t, sizeof t) : "");
            snprintf(vb, sizeof vb, lb ? "\"%s\"" : "(no text)", lb ? mw_shown(tb, lb, t, sizeof t) : "");
        }
        mw_free(ta);
        mw_free(tb);
        MW_FORWARD(st);
        MW_RETURN_IF(differ, err, MW_ERR_INVALID,
                     "the vocabularies differ first at token id %u: %s in %s, %s in the reference %s; KL "
                     "needs the same vocabulary",
                     id, va, mw_shown_str(pa, sa, sizeof sa), vb, mw_shown_str(pb, sb, sizeof sb));
    }
    return MW_OK;
}

/* Loads one model and checks it against the evaluation's vocabulary and ctx. */
static mw_status model_load(eval_model *e, const char *path, const char *role, const mw_eval_opts *o,
                            uint32_t vocab, mw_pool *pool, mw_err *err)
{
    char sp[128];
    MW_FORWARD(mw_llama_load(path, 0, 0, pool, &e->m, err));
    const mw_hparams *hp = &e->m->hp;
    MW_RETURN_IF(hp->n_vocab < vocab, err, MW_ERR_INVALID,
                 "%s (%s): its output has %u rows but its vocabulary %u tokens", mw_shown_str(path, sp, sizeof sp),
                 role, hp->n_vocab, vocab);
    MW_RETURN_IF(o->ctx && hp->n_ctx_train && o->ctx > hp->n_ctx_train, err, MW_ERR_INVALID,
                 "--ctx %u is more than the context length of %s (%s): %u (llama.context_length); give --ctx %u "
                 "or less",
                 o->ctx, mw_shown_str(path, sp, sizeof sp), role, hp->n_ctx_train, hp->n_ctx_train);
    return MW_OK;
}

static mw_status model_buffers(eval_model *e, const mw_eval_opts *o, uint32_t scored, mw_pool *pool, mw_err *err)
{
    int64_t fed = (int64_t)o->ctx - 1;
    mw_step_shape shape = {fed < EVAL_UBATCH ? fed : EVAL_UBATCH, fed};
    MW_FORWARD(mw_kv_cache_init(&e->kv, e->m, o->kv_dtype, 1, o->ctx, err));
    MW_FORWARD(mw_forward_init(&e->fw, e->m, &e->kv, pool, &shape, 1, 1, err));
    /* the scored rows of one step: at most EVAL_UBATCH */
    uint32_t rows = scored < EVAL_UBATCH ? scored : EVAL_UBATCH;
    size_t bytes = (size_t)rows * e->m->hp.n_vocab * sizeof(float);
    e->logits = mw_malloc(bytes, MW_MEM_ACTIVATIONS);
    MW_RETURN_IF(!e->logits, err, MW_ERR_NOMEM, "out of memory for %u rows of logits (%zu bytes)", rows, bytes);
    return MW_OK;
}

/* One step of the chunk: tokens [b, b + n) at their positions; with
 * from < n, the logits of token rows from .. n-1 land in e->logits (rows
 * from 0), else none are computed. */
static mw_status model_step(eval_model *e, eval_state *S, int64_t b, int64_t n, int64_t from, mw_err *err)
{
    double t0 = now();
    mw_status st;
    if (from >= n) {
        int32_t last = -1;
        st = mw_forward_step(&e->fw, n, S->chunk + b, S->seq, S->pos + b, &last, NULL, err);
    } else {
        st = mw_forward_step_rows(&e->fw, n, S->chunk + b, S->seq, S->pos + b, from, e->logits, err);
    }
    e->seconds += now() - t0;
    return st;
}

/* log Σ exp(x) over n floats, in double */
static double log_sum_exp(const float *x, uint32_t n, uint32_t *argmax)
{
    uint32_t best = 0;
    for (uint32_t i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    double mx = x[best], s = 0;
    for (uint32_t i = 0; i < n; i++) s += exp((double)x[i] - mx);
    *argmax = best;
    return mx + log(s);
}

/* KL(P || Q) of one position: p, q its logits (P the reference's). */
static double kl_div(const float *p, double lse_p, const float *q, double lse_q, uint32_t n)
{
    double s = 0;
    for (uint32_t i = 0; i < n; i++) {
        double lp = (double)p[i] - lse_p, lq = (double)q[i] - lse_q;
        s += exp(lp) * (lp - lq);
    }
    return s;
}

/* The figures of one step's scored rows, row by row (summed afterwards in
 * row order: the result does not depend on the threads). */
typedef struct score_args {
    const float *q, *p;              /* the model's and the reference's rows */
    const int32_t *want;             /* [rows] the tokens they predict      */
    uint32_t V;
    int64_t rows;
    double *nll, *ref_nll, *kl;      /* [rows]                             */
    uint8_t *same_top;               /* [rows]                             */
} score_args;

static void score_work(void *args, int ith, int nth)
{
    score_args *A = args;
    int64_t lo, hi;
    mw_pool_split(A->rows, ith, nth, &lo, &hi);
    for (int64_t i = lo; i < hi; i++) {
        const float *q = A->q + (size_t)i * A->V;
        uint32_t qa, pa;
        double lq = log_sum_exp(q, A->V, &qa);
        A->nll[i] = lq - (double)q[A->want[i]];
        if (!A->p) continue;
        const float *p = A->p + (size_t)i * A->V;
        double lp = log_sum_exp(p, A->V, &pa);
        A->ref_nll[i] = lp - (double)p[A->want[i]];
        A->kl[i] = kl_div(p, lp, q, lq, A->V);
        A->same_top[i] = pa == qa;
    }
}

/* Reads and tokenizes the text (BOS first when the vocabulary adds one, as
 * llama.cpp's common_tokenize(..., true)); an empty file is refused. */
static mw_status load_text(eval_state *S, const mw_eval_opts *o, mw_err *err)
{
    char sp[128];
    size_t len = 0;
    MW_FORWARD(mw_file_read_all(o->text_file, EVAL_TEXT_MAX, "an evaluation text", &S->text, &len, err));
    MW_RETURN_IF(len == 0, err, MW_ERR_INVALID, "%s is empty: there is no text to evaluate",
                 mw_shown_str(o->text_file, sp, sizeof sp));
    mw_err e2;
    if (mw_tokenizer_encode(S->tok, S->text, len, mw_tokenizer_adds_bos(S->tok), &S->ids, &S->n_ids, &e2) != MW_OK)
        return mw_err_set(err, e2.status, "%s: %s", mw_shown_str(o->text_file, sp, sizeof sp), e2.msg);
    return MW_OK;
}

/* After the models' checks (a --ctx past their context length is the
 * error to give first): one chunk must fit. */
static mw_status check_length(const eval_state *S, const mw_eval_opts *o, mw_err *err)
{
    char sp[128];
    MW_RETURN_IF(S->n_ids < o->ctx, err, MW_ERR_INVALID,
                 "%s holds %zu tokens, fewer than the %u of one chunk (--ctx %u): give a longer text or a smaller "
                 "--ctx",
                 mw_shown_str(o->text_file, sp, sizeof sp), S->n_ids, o->ctx, o->ctx);
    return MW_OK;
}

/* --ctx and --stride against each other (ctx 0: settled after loading). */
static mw_status check_ctx(const mw_eval_opts *o, mw_err *err)
{
    if (o->ctx == 0) return MW_OK;
    MW_RETURN_IF(o->ctx < 3, err, MW_ERR_INVALID,
                 "--ctx %u is too small: a chunk of ctx tokens scores the predictions of positions ctx/2+1 .. "
                 "ctx-1 (llama.cpp's method), none below 3",
                 o->ctx);
    MW_RETURN_IF(o->ctx > EVAL_CTX_MAX, err, MW_ERR_INVALID, "--ctx %u is more than %u", o->ctx, EVAL_CTX_MAX);
    MW_RETURN_IF(o->stride >= o->ctx, err, MW_ERR_INVALID,
                 "--stride %u is not below --ctx %u: a window scores its last stride tokens, after at least one "
                 "of context",
                 o->stride, o->ctx);
    return MW_OK;
}

static double std_err(double sum, double sum2, uint64_t n, double ppl)
{
    if (n < 2) return -1;
    double mean = sum / (double)n, var = sum2 / (double)n - mean * mean;
    return var > 0 ? sqrt(var / (double)(n - 1)) * ppl : 0;
}

mw_status mw_eval(const char *model, const mw_eval_opts *opts, mw_eval_result **out, mw_err *err)
{
    *out = NULL;
    mw_eval_opts o = *opts;
    MW_RETURN_IF(!model, err, MW_ERR_INVALID, "no model given");
    MW_RETURN_IF(!o.text_file, err, MW_ERR_INVALID, "no evaluation text given (--text-file)");
    MW_FORWARD(check_ctx(&o, err));
    MW_FORWARD(refuse_demo(model, "the model", err));
    if (o.ref) MW_FORWARD(refuse_demo(o.ref, "the reference", err));
    if (o.threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        o.threads = n > 0 ? (uint32_t)n : 1;
    }
    eval_state S;
    memset(&S, 0, sizeof S);
    mw_eval_result *r = mw_calloc(1, sizeof *r, MW_MEM_OTHER);
    mw_status st = r ? MW_OK : mw_err_set(err, MW_ERR_NOMEM, "out of memory");
    if (st == MW_OK) st = mw_tokenizer_open(model, &S.tok, err);
    if (st == MW_OK && o.ref) st = mw_tokenizer_open(o.ref, &S.ref_tok, err);
    if (st == MW_OK && o.ref) st = same_vocab(S.tok, S.ref_tok, model, o.ref, err);
    /* the text before the models: its errors are the likelier ones */
    if (st == MW_OK) st = load_text(&S, &o, err);
    if (st == MW_OK) st = mw_pool_init(&S.pool, (int)o.threads, err);
    const uint32_t vocab = S.tok ? mw_tokenizer_vocab_size(S.tok) : 0;
    if (st == MW_OK) st = model_load(&S.model, model, "the model", &o, vocab, S.pool, err);
    if (st == MW_OK && o.ref) st = model_load(&S.ref, o.ref, "the reference", &o, vocab, S.pool, err);
    if (st == MW_OK && o.ref && S.ref.m->hp.n_vocab != S.model.m->hp.n_vocab)
        st = mw_err_set(err, MW_ERR_INVALID,
                        "the model's output has %u rows, the reference's %u: KL needs the same vocabulary",
                        S.model.m->hp.n_vocab, S.ref.m->hp.n_vocab);
    /* the default context: 512 (llama.cpp's), or the models' when less */
    if (st == MW_OK && o.ctx == 0) {
        o.ctx = 512;
        if (S.model.m->hp.n_ctx_train && S.model.m->hp.n_ctx_train < o.ctx) o.ctx = S.model.m->hp.n_ctx_train;
        if (o.ref && S.ref.m->hp.n_ctx_train && S.ref.m->hp.n_ctx_train < o.ctx) o.ctx = S.ref.m->hp.n_ctx_train;
        st = check_ctx(&o, err);
    }
    if (st == MW_OK) st = check_length(&S, &o, err);
    if (st != MW_OK) goto done;
    /* the first position whose logits are scored */
    const uint32_t first = o.stride ? o.ctx - o.stride - 1 : o.ctx / 2, scored = o.ctx - 1 - first;

    const uint32_t V = S.model.m->hp.n_vocab;
    r->chunks_available = (uint32_t)(o.stride ? (S.n_ids - o.ctx + o.stride - 1) / o.stride : S.n_ids / o.ctx);
    if (r->chunks_available == 0) {
        char sp[128];
        st = mw_err_set(err, MW_ERR_INVALID,
                        "%s holds %zu tokens: sliding windows of %u need more than %u (--stride %u): give a longer "
                        "text or a smaller --ctx",
                        mw_shown_str(o.text_file, sp, sizeof sp), S.n_ids, o.ctx, o.ctx, o.stride);
        goto done;
    }
    uint32_t chunks = r->chunks_available;
    if (o.max_chunks && o.max_chunks < chunks) chunks = o.max_chunks;
    st = model_buffers(&S.model, &o, scored, S.pool, err);
    if (st == MW_OK && o.ref) st = model_buffers(&S.ref, &o, scored, S.pool, err);
    if (st != MW_OK) goto done;
    S.chunk = mw_malloc(o.ctx * sizeof(int32_t), MW_MEM_OTHER);
    S.seq = mw_calloc(o.ctx, sizeof(int32_t), MW_MEM_OTHER);
    S.pos = mw_malloc(o.ctx * sizeof(int32_t), MW_MEM_OTHER);
    r->per_chunk = mw_calloc(chunks, sizeof *r->per_chunk, MW_MEM_OTHER);
    if (o.ref) S.kls = mw_malloc((size_t)chunks * scored * sizeof(double), MW_MEM_OTHER);
    S.row_nll = mw_malloc(EVAL_UBATCH * sizeof(double), MW_MEM_OTHER);
    S.row_ref_nll = mw_malloc(EVAL_UBATCH * sizeof(double), MW_MEM_OTHER);
    S.row_kl = mw_malloc(EVAL_UBATCH * sizeof(double), MW_MEM_OTHER);
    S.row_same = mw_malloc(EVAL_UBATCH, MW_MEM_OTHER);
    if (!S.chunk || !S.seq || !S.pos || !r->per_chunk || (o.ref && !S.kls) || !S.row_nll || !S.row_ref_nll ||
        !S.row_kl || !S.row_same) {
        st = mw_err_set(err, MW_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (uint32_t i = 0; i < o.ctx; i++) S.pos[i] = (int32_t)i;

    const int64_t bos = !o.stride && mw_tokenizer_adds_bos(S.tok) ? mw_tokenizer_bos(S.tok) : -1;
    double nll = 0, nll2 = 0, rnll = 0, rnll2 = 0;
    uint64_t count = 0, same_top = 0;
    uint32_t c = 0;
    for (; c < chunks; c++) {
        if (o.cancel && *o.cancel) break;
        const uint32_t *src = S.ids + (size_t)c * (o.stride ? o.stride : o.ctx);
        for (uint32_t i = 0; i < o.ctx; i++) S.chunk[i] = (int32_t)src[i];
        if (bos >= 0) S.chunk[0] = (int32_t)bos;
        mw_eval_chunk *ch = &r->per_chunk[c];
        double cn = 0, crn = 0, ckl = 0;
        uint64_t ctop = 0;
        /* the chunk's last token predicts nothing scored: not fed */
        const int64_t fed = (int64_t)o.ctx - 1;
        for (int64_t b = 0; b < fed; b += EVAL_UBATCH) {
            const int64_t n = fed - b < EVAL_UBATCH ? fed - b : EVAL_UBATCH;
            const int64_t from = (int64_t)first > b ? (int64_t)first - b : 0;
            st = model_step(&S.model, &S, b, n, from, err);
            if (st == MW_OK && o.ref) st = model_step(&S.ref, &S, b, n, from, err);
            if (st != MW_OK) goto done;
            if (from >= n) continue;
            score_args A = {S.model.logits, o.ref ? S.ref.logits : NULL, S.chunk + b + from + 1, V, n - from,
                            S.row_nll, S.row_ref_nll, S.row_kl, S.row_same};
            mw_pool_run(S.pool, score_work, &A);
            for (int64_t i = 0; i < A.rows; i++) {
                const double v = S.row_nll[i];
                nll += v, nll2 += v * v, cn += v;
                if (o.ref) {
                    const double rv = S.row_ref_nll[i];
                    rnll += rv, rnll2 += rv * rv, crn += rv;
                    S.kls[count] = S.row_kl[i];
                    ckl += S.row_kl[i];
                    ctop += S.row_same[i];
                }
                count++;
            }
        }
        ch->nll_mean = cn / scored;
        ch->ref_nll_mean = o.ref ? crn / scored : -1;
        ch->kl_mean = o.ref ? ckl / scored : -1;
        ch->top1_agreement = o.ref ? (double)ctop / scored : -1;
        same_top += ctop;
    }
    if (c == 0) {
        st = mw_err_set(err, MW_ERR_INVALID, "stopped before the first chunk: nothing was measured");
        goto done;
    }
    r->interrupted = c < chunks;
    r->chunks = c;
    r->tokens = count;
    r->nll_mean = nll / (double)count;
    r->perplexity = exp(r->nll_mean);
    r->perplexity_err = std_err(nll, nll2, count, r->perplexity);
    r->seconds = S.model.seconds;
    r->tokens_per_second = S.model.seconds > 0 ? (double)c * (o.ctx - 1) / S.model.seconds : 0;
    r->ref_seconds = -1;
    if (o.ref) {
        r->has_ref = 1;
        r->ref_seconds = S.ref.seconds;
        r->ref_perplexity = exp(rnll / (double)count);
        r->ref_perplexity_err = std_err(rnll, rnll2, count, r->ref_perplexity);
        r->perplexity_ratio = r->perplexity / r->ref_perplexity;
        r->top1_agreement = (double)same_top / (double)count;
        double s = 0;
        for (uint64_t i = 0; i < count; i++) s += S.kls[i];
        r->kl_mean = s / (double)count;
        qsort(S.kls, count, sizeof *S.kls, mw_cmp_double);
        r->kl_median = count % 2 ? S.kls[count / 2] : 0.5 * (S.kls[count / 2 - 1] + S.kls[count / 2]);
        /* nearest rank: the smallest value with at least 99% at or below it */
        uint64_t rank = (uint64_t)ceil(0.99 * (double)count);
        r->kl_p99 = S.kls[(rank ? rank : 1) - 1];
        r->kl_max = S.kls[count - 1];
    }
    mw_shown_str(model, r->model, sizeof r->model);
    if (o.ref) mw_shown_str(o.ref, r->ref, sizeof r->ref);
    mw_shown_str(o.text_file, r->text_file, sizeof r->text_file);
    r->ctx = o.ctx;
    r->stride = o.stride;
    r->n_vocab = V;
    r->threads = o.threads;
    r->bos_first = bos >= 0;
    r->file_tokens = S.n_ids;
    r->scored_per_chunk = scored;
done:
    state_free(&S);
    if (st != MW_OK) {
        mw_eval_result_free(r);
        return st;
    }
    *out = r;
    return MW_OK;
}
