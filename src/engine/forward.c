/*
 * forward.c - one step of a llama decoder over a KV cache, on the pool.
 *
 * A step takes n tokens, each of a sequence at a position (a prefill chunk
 * of several sequences, or one token of each sequence when decoding):
 *
 *   x = embed(tokens)                                   x   [n, h]
 *   per layer:
 *     xn = rmsnorm(x) * attn_norm                       xn  [n, h]
 *     q, k, v = xn·Wqᵀ, xn·Wkᵀ, xn·Wvᵀ; rope(q, k)       q [n, a·d]  k, v [n, a_kv·d]
 *     K, V cache[seq, pos] = k, v
 *     sc = q·Kᵀ / sqrt(d), causal, softmax              sc  [n, a, S]   (q dies)
 *     att = sc·V                                        att [n, a·d]    (sc dies)
 *     x += att·Woᵀ                                      o   [n, h]
 *     xn = rmsnorm(x) * ffn_norm
 *     x += (silu(xn·W_gateᵀ) * xn·W_upᵀ)·W_downᵀ         g, u [n, f]  dn [n, h]
 *   logits[s] = rmsnorm(x[last[s]]) * output_norm · outputᵀ     [seqs, v]
 *
 * The buffers live in one arena at offsets found by replaying their births
 * and deaths in this order (plan/inference.c walks the same order to
 * predict the peak), first-fit, 64-byte aligned.
 */
#include "engine/llama.h"
#include "engine/stream.h" /* issue #15, paging */
#include "engine/kernels.h"
#include "engine/sparse.h" /* issue #14, sparse */
#include "common/error.h"

#include <math.h>
#include <string.h>

/* ---- the KV cache ------------------------------------------------------- */

mw_status mw_kv_cache_init(mw_kv_cache *kv, const mw_llama *m, mw_dtype type, uint32_t n_seqs,
                           uint32_t ctx, mw_err *err)
{
    memset(kv, 0, sizeof *kv);
    MW_RETURN_IF(type != MW_DTYPE_F32 && type != MW_DTYPE_F16 && type != MW_DTYPE_Q8_0, err,
                 MW_ERR_INVALID, "the KV cache type must be f32, f16 or q8_0, not %s",
                 mw_dtype_get(type) ? mw_dtype_get(type)->name : "?");
    MW_RETURN_IF(type == MW_DTYPE_Q8_0 && m->hp.head_dim % 32, err, MW_ERR_INVALID,
                 "a q8_0 KV cache needs a head dimension that is a multiple of 32 (this model: %u)",
                 m->hp.head_dim);
    uint64_t kvd = (uint64_t)m->hp.n_kv_heads * m->hp.head_dim;
    kv->type = type;
    kv->n_seqs = n_seqs;
    kv->ctx = ctx;
    kv->row_bytes = (size_t)mw_dtype_bytes(type, kvd);
    uint64_t bytes = (uint64_t)m->hp.n_layers * n_seqs * ctx * kv->row_bytes;
    kv->k = mw_malloc(bytes, MW_MEM_KV_CACHE);
    kv->v = kv->k ? mw_malloc(bytes, MW_MEM_KV_CACHE) : NULL;
    if (!kv->k || !kv->v) {
        mw_kv_cache_free(kv);
        return mw_err_set(err, MW_ERR_NOMEM, "out of memory for the KV cache (2 x %llu bytes)",
                          (unsigned long long)bytes);
    }
    /* Cleared once, as llama.cpp clears its cache buffer: the pages are then
     * resident from the start, so the process holds what the plan predicts
     * (and a memory cap sees it) instead of growing as positions fill. */
    memset(kv->k, 0, bytes);
    memset(kv->v, 0, bytes);
    return MW_OK;
}

void mw_kv_cache_free(mw_kv_cache *kv)
{
    mw_free(kv->k);
    mw_free(kv->v);
    kv->k = kv->v = NULL;
}

static uint8_t *kv_row(const mw_kv_cache *kv, uint8_t *base, uint32_t layer, int64_t seq, int64_t pos)
{
    return base + (((size_t)layer * kv->n_seqs + (size_t)seq) * kv->ctx + (size_t)pos) * kv->row_bytes;
}

/* ---- the arena layout ---------------------------------------------------- */

enum { B_X, B_XN, B_Q, B_K, B_V, B_SC, B_ATT, B_O, B_XN2, B_G, B_U, B_DN, B_XL, B_LOGITS, B_COUNT };

typedef struct layout {
    size_t off[B_COUNT];
    size_t size[B_COUNT];
    size_t total;
} layout;

#define ALIGN 64

/* First-fit placement of the next birth among the live blocks. */
static void place(layout *L, const int *live, int n_live, int id)
{
    size_t need = (L->size[id] + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    size_t at = 0;
    for (;;) {
        int moved = 0;
        for (int i = 0; i < n_live; i++) {
            int b = live[i];
            size_t bs = L->off[b], be = bs + ((L->size[b] + ALIGN - 1) & ~(size_t)(ALIGN - 1));
            if (at < be && bs < at + need) { /* overlaps: skip past it */
                at = be;
                moved = 1;
            }
        }
        if (!moved) break;
    }
    L->off[id] = at;
    if (at + need > L->total) L->total = at + need;
}

static void compute_layout(const mw_llama *m, int64_t n, int64_t S, int64_t seqs, layout *L)
{
    const mw_hparams *hp = &m->hp;
    size_t e = sizeof(float);
    size_t h = hp->n_embd, qd = (size_t)hp->n_heads * hp->head_dim;
    size_t kvd = (size_t)hp->n_kv_heads * hp->head_dim, f = hp->n_ff;
    memset(L, 0, sizeof *L);
    L->size[B_X] = (size_t)n * h * e;
    L->size[B_XN] = (size_t)n * h * e;
    L->size[B_Q] = (size_t)n * qd * e;
    L->size[B_K] = (size_t)n * kvd * e;
    L->size[B_V] = (size_t)n * kvd * e;
    L->size[B_SC] = (size_t)n * hp->n_heads * (size_t)S * e;
    L->size[B_ATT] = (size_t)n * qd * e;
    L->size[B_O] = (size_t)n * h * e;
    L->size[B_XN2] = (size_t)n * h * e;
    L->size[B_G] = (size_t)n * f * e;
    L->size[B_U] = (size_t)n * f * e;
    L->size[B_DN] = (size_t)n * h * e;
    L->size[B_XL] = (size_t)seqs * h * e;
    L->size[B_LOGITS] = (size_t)seqs * hp->n_vocab * e;
    /* births (+id) and deaths (-id - 1), in the order of the step */
    static const int events[] = {
        B_X, B_XN, B_Q, B_K, B_V, -B_XN - 1, -B_K - 1, -B_V - 1,
        B_SC, -B_Q - 1, B_ATT, -B_SC - 1, B_O, -B_ATT - 1, -B_O - 1,
        B_XN2, B_G, B_U, -B_XN2 - 1, -B_U - 1, B_DN, -B_G - 1, -B_DN - 1,
        B_XL, B_LOGITS,
    };
    int live[B_COUNT], n_live = 0;
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
        int ev = events[i];
        if (ev >= 0) {
            place(L, live, n_live, ev);
            live[n_live++] = ev;
        } else {
            int id = -ev - 1;
            for (int k = 0; k < n_live; k++)
                if (live[k] == id) { live[k] = live[--n_live]; break; }
        }
    }
}

size_t mw_forward_arena_bytes(const mw_llama *m, mw_step_shape shape, int64_t n_seqs)
{
    layout L;
    compute_layout(m, shape.n, shape.S, n_seqs, &L);
    return L.total;
}

/* issue #14, sparse: the type x is prepared for (a sparse type's dense base) */
static mw_dtype x_prep_type(mw_dtype t) { return mw_dtype_is_sparse(t) ? mw_sparse_x_type(t) : t; }

/* The scratch of prepared rows: the widest input of the step's products. */
static size_t xq_bytes_for(const mw_llama *m, int64_t n)
{
    const mw_hparams *hp = &m->hp;
    int64_t k = hp->n_embd;
    if ((int64_t)hp->n_heads * hp->head_dim > k) k = (int64_t)hp->n_heads * hp->head_dim;
    if (hp->n_ff > k) k = hp->n_ff;
    /* every matrix: a file may mix types (a Q4_K_M file has Q4_K, Q6_K and
     * sometimes Q8_0 or F16 ones, not the same in every layer) */
    size_t most = mw_k_prepare_x_bytes(x_prep_type(m->output.type), n, k);
    size_t e = mw_k_prepare_x_bytes(m->token_embd.type, n, k);
    if (e > most) most = e;
    for (int64_t l = 0; l < (int64_t)hp->n_layers; l++) {
        const mw_llama_layer *L = &m->layers[l];
        const mw_weight *ws[] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->w_gate, &L->w_up, &L->w_down};
        for (size_t i = 0; i < sizeof ws / sizeof ws[0]; i++) {
            size_t b = mw_k_prepare_x_bytes(x_prep_type(ws[i]->type), n, k);
            if (b > most) most = b;
        }
    }
    return most;
}

mw_status mw_forward_init(mw_forward *f, const mw_llama *m, mw_kv_cache *kv, mw_pool *pool,
                          const mw_step_shape *shapes, int n_shapes, int64_t max_seqs, mw_err *err)
{
    memset(f, 0, sizeof *f);
    f->m = m;
    f->kv = kv;
    f->pool = pool;
    f->max_seqs = max_seqs;
    for (int i = 0; i < n_shapes; i++) {
        size_t b = mw_forward_arena_bytes(m, shapes[i], max_seqs);
        if (b > f->arena_bytes) f->arena_bytes = b;
        if (shapes[i].n > f->max_tokens) f->max_tokens = shapes[i].n;
    }
    f->arena = mw_malloc(f->arena_bytes, MW_MEM_ACTIVATIONS);
    f->xq_bytes = xq_bytes_for(m, f->max_tokens > max_seqs ? f->max_tokens : max_seqs);
    f->xq = f->xq_bytes ? mw_malloc(f->xq_bytes, MW_MEM_SCRATCH) : NULL;
    if (!f->arena || (f->xq_bytes && !f->xq)) {
        mw_forward_free(f);
        return mw_err_set(err, MW_ERR_NOMEM, "out of memory for the activations (%zu bytes)",
                          f->arena_bytes);
    }
    return MW_OK;
}

void mw_forward_free(mw_forward *f)
{
    mw_free(f->arena);
    mw_free(f->xq);
    f->arena = NULL;
    f->xq = NULL;
}

/* ---- parallel operations ------------------------------------------------- */

typedef struct mm_args {
    const mw_weight *w;
    const float *x;
    const void *xq;
    float *y;
    int64_t m;
} mm_args;

static void mm_work(void *p, int ith, int nth)
{
    mm_args *a = p;
    int64_t lo, hi;
    mw_pool_split(a->w->rows, ith, nth, &lo, &hi);
    if (lo < hi && mw_dtype_is_sparse(a->w->type)) /* issue #14, sparse */
        mw_k_matmul_sparse(a->w->type, a->w->data, a->w->keep, a->x, a->xq, a->y, a->m, a->w->rows,
                           a->w->cols, lo, hi);
    else if (lo < hi) mw_k_matmul(a->w->type, a->w->data, a->x, a->xq, a->y, a->m, a->w->rows, a->w->cols, lo, hi);
}

/* y [m, w.rows] = x [m, w.cols] · Wᵀ */
static void matmul(mw_forward *f, const mw_weight *w, const float *x, float *y, int64_t m)
{
    if (f->on_matmul) f->on_matmul(f->on_matmul_ctx, w, x, m); /* issue #14: calibration hook */
    const mw_dtype xt = x_prep_type(w->type);
    if (xt != MW_DTYPE_F32) mw_k_prepare_x(xt, x, m, w->cols, f->xq);
    mm_args a = {w, x, f->xq, y, m};
    mw_pool_run(f->pool, mm_work, &a);
}

typedef struct rows_args {
    mw_forward *f;
    int op;
    int64_t n;
    const int32_t *tokens, *seq, *pos;
    float *a, *b, *c;
    const mw_weight *w;
    uint32_t layer;
    int64_t S;
    int error;                       /* set by a worker: token out of range */
} rows_args;

enum { OP_EMBED, OP_NORM, OP_ROPE_STORE, OP_SCORES, OP_ATTN_SUM, OP_SILU, OP_ADD };

static void store_row(mw_dtype type, const float *src, uint8_t *dst, int64_t k)
{
    switch (type) {
    case MW_DTYPE_F32: memcpy(dst, src, (size_t)k * sizeof *src); break;
    case MW_DTYPE_F16: mw_k_row_to_f16(src, (uint16_t *)dst, k); break;
    default: mw_k_quant_row_q8_0_act(src, dst, k); break;
    }
}

/* One head's d values of a cache row, as f32. */
static const float *load_head(const mw_kv_cache *kv, const uint8_t *row, int64_t head, int64_t d, float *tmp)
{
    switch (kv->type) {
    case MW_DTYPE_F32: return (const float *)row + head * d;
    case MW_DTYPE_F16: mw_k_dequant_row(MW_DTYPE_F16, (const uint16_t *)row + head * d, tmp, d); return tmp;
    default:
        mw_k_dequant_row(MW_DTYPE_Q8_0, row + (size_t)(head * d / 32) * 34, tmp, d);
        return tmp;
    }
}

/* Attention in two passes over (token, head) items, so that q is dead
 * before att is written (the arena may place att over q's bytes, as the
 * plan's walk assumes):
 *   scores  sc[i, hd, 0..p] = softmax(q[i, hd] · K[seq, 0..p, kvh] / sqrt(d))
 *   sum     att[i, hd] = Σ_t sc[i, hd, t] · V[seq, t, kvh]                  */
static void attention_scores(rows_args *A, int64_t item, float *tmp)
{
    const mw_llama *m = A->f->m;
    const mw_kv_cache *kv = A->f->kv;
    const mw_hparams *hp = &m->hp;
    int64_t heads = hp->n_heads, d = hp->head_dim, group = hp->n_heads / hp->n_kv_heads;
    int64_t i = item / heads, hd = item % heads, kvh = hd / group;
    int64_t s = A->seq[i], p = A->pos[i];
    const float *q = A->a + (i * heads + hd) * d;               /* q   [n, a, d] */
    float *sc = A->b + (i * heads + hd) * A->S;                  /* sc  [n, a, S] */
    float scale = 1.0f / sqrtf((float)d);
    for (int64_t t = 0; t <= p; t++) {
        const float *k = load_head(kv, kv_row(kv, kv->k, A->layer, s, t), kvh, d, tmp);
        sc[t] = mw_k_dot_f32(q, k, d) * scale;
    }
    mw_k_softmax(sc, p + 1);
}

static void attention_sum(rows_args *A, int64_t item, float *tmp)
{
    const mw_llama *m = A->f->m;
    const mw_kv_cache *kv = A->f->kv;
    const mw_hparams *hp = &m->hp;
    int64_t heads = hp->n_heads, d = hp->head_dim, group = hp->n_heads / hp->n_kv_heads;
    int64_t i = item / heads, hd = item % heads, kvh = hd / group;
    int64_t s = A->seq[i], p = A->pos[i];
    const float *sc = A->b + (i * heads + hd) * A->S;            /* sc  [n, a, S] */
    float *out = A->c + (i * heads + hd) * d;                    /* att [n, a, d] */
    memset(out, 0, (size_t)d * sizeof *out);
    for (int64_t t = 0; t <= p; t++) {
        const float *v = load_head(kv, kv_row(kv, kv->v, A->layer, s, t), kvh, d, tmp);
        mw_k_axpy(out, sc[t], v, d);
    }
}

static void rows_work(void *p, int ith, int nth)
{
    rows_args *A = p;
    const mw_llama *m = A->f->m;
    const mw_hparams *hp = &m->hp;
    int64_t h = hp->n_embd, lo, hi;
    float tmp[1024];
    if (A->op == OP_SCORES || A->op == OP_ATTN_SUM) {
        mw_pool_split(A->n * hp->n_heads, ith, nth, &lo, &hi);
        for (int64_t it = lo; it < hi; it++) {
            if (A->op == OP_SCORES) attention_scores(A, it, tmp);
            else attention_sum(A, it, tmp);
        }
        return;
    }
    mw_pool_split(A->n, ith, nth, &lo, &hi);
    for (int64_t i = lo; i < hi; i++) {
        switch (A->op) {
        case OP_EMBED: {
            int32_t t = A->tokens[i];
            if (t < 0 || (uint32_t)t >= hp->n_vocab) {
                A->error = 1;
                memset(A->a + i * h, 0, (size_t)h * sizeof(float));
                break;
            }
            const mw_weight *e = &m->token_embd;
            size_t row = (size_t)mw_dtype_bytes(e->type, (uint64_t)h);
            mw_k_dequant_row(e->type, (const uint8_t *)e->data + (size_t)t * row, A->a + i * h, h);
            break;
        }
        case OP_NORM:
            mw_k_rmsnorm(A->b + i * h, A->a + i * h, A->w->data, h, m->eps);
            break;
        case OP_ROPE_STORE: {
            int64_t d = hp->head_dim, kvd = (int64_t)hp->n_kv_heads * d;
            float *q = A->a + i * hp->n_heads * d, *k = A->b + i * kvd, *v = A->c + i * kvd;
            mw_k_rope(q, hp->n_heads, d, m->n_rot, A->pos[i], m->rope_theta);
            mw_k_rope(k, hp->n_kv_heads, d, m->n_rot, A->pos[i], m->rope_theta);
            mw_kv_cache *kv = A->f->kv;
            store_row(kv->type, k, kv_row(kv, kv->k, A->layer, A->seq[i], A->pos[i]), kvd);
            store_row(kv->type, v, kv_row(kv, kv->v, A->layer, A->seq[i], A->pos[i]), kvd);
            break;
        }
        case OP_SILU:
            mw_k_silu_mul(A->a + i * hp->n_ff, A->b + i * hp->n_ff, hp->n_ff);
            break;
        case OP_ADD: {
            float *x = A->a + i * h;
            const float *y = A->b + i * h;
            for (int64_t j = 0; j < h; j++) x[j] += y[j];
            break;
        }
        }
    }
}

static void run_rows(mw_forward *f, rows_args *a)
{
    a->f = f;
    mw_pool_run(f->pool, rows_work, a);
}

/* The step up to the final norm: the residual stream x [n, h] of every
 * token, in the arena at L->off[B_X]. */
static mw_status forward_layers(mw_forward *f, int64_t n, const int32_t *tokens, const int32_t *seq,
                                const int32_t *pos, layout *Lout, mw_err *err)
{
    const mw_llama *m = f->m;
    const mw_hparams *hp = &m->hp;
    MW_RETURN_IF(n <= 0 || n > f->max_tokens, err, MW_ERR_INTERNAL, "step of %lld tokens (at most %lld)",
                 (long long)n, (long long)f->max_tokens);
    int64_t S = 0;
    for (int64_t i = 0; i < n; i++) {
        MW_RETURN_IF(seq[i] < 0 || seq[i] >= (int32_t)f->kv->n_seqs || pos[i] < 0 ||
                         pos[i] >= (int32_t)f->kv->ctx,
                     err, MW_ERR_INVALID, "token %lld: sequence %d position %d is outside the KV cache "
                     "(%u sequences x %u positions: raise --ctx)", (long long)i, seq[i], pos[i],
                     f->kv->n_seqs, f->kv->ctx);
        if (pos[i] + 1 > S) S = pos[i] + 1;
    }
    layout L;
    compute_layout(m, n, S, f->max_seqs, &L);
    *Lout = L;
    MW_RETURN_IF(L.total > f->arena_bytes, err, MW_ERR_INTERNAL,
                 "a step of %lld tokens over %lld positions needs %zu bytes of activations, more than "
                 "the %zu planned", (long long)n, (long long)S, L.total, f->arena_bytes);
#define BUF(id) ((float *)(f->arena + L.off[id]))
    float *x = BUF(B_X);
    rows_args a = {0};
    a.n = n;
    a.tokens = tokens;
    a.seq = seq;
    a.pos = pos;
    a.S = S;
    a.op = OP_EMBED;
    a.a = x;
    run_rows(f, &a);
    MW_RETURN_IF(a.error, err, MW_ERR_INVALID, "a token id is outside the vocabulary (0..%u)",
                 hp->n_vocab - 1);
    for (uint32_t li = 0; li < hp->n_layers; li++) {
        const mw_llama_layer *l = &m->layers[li];
        /* issue #15, paging: a streamed layer's weights from the reader */
        mw_llama_layer streamed;
        if (m->stream && li >= m->split.resident_layers) {
            const void *p[MW_STREAM_TENSORS];
            MW_FORWARD(mw_stream_acquire(m->stream, li, p, err));
            streamed = *l;
            mw_weight *ws = &streamed.attn_norm;
            for (int t = 0; t < MW_STREAM_TENSORS; t++) ws[t].data = p[t];
            l = &streamed;
        }
        a.layer = li;
        a.op = OP_NORM; a.a = x; a.b = BUF(B_XN); a.w = &l->attn_norm;
        run_rows(f, &a);
        matmul(f, &l->wq, BUF(B_XN), BUF(B_Q), n);
        matmul(f, &l->wk, BUF(B_XN), BUF(B_K), n);
        matmul(f, &l->wv, BUF(B_XN), BUF(B_V), n);
        a.op = OP_ROPE_STORE; a.a = BUF(B_Q); a.b = BUF(B_K); a.c = BUF(B_V);
        run_rows(f, &a);
        a.op = OP_SCORES; a.a = BUF(B_Q); a.b = BUF(B_SC);
        run_rows(f, &a);                 /* q dies here */
        a.op = OP_ATTN_SUM; a.c = BUF(B_ATT);
        run_rows(f, &a);
        matmul(f, &l->wo, BUF(B_ATT), BUF(B_O), n);
        a.op = OP_ADD; a.a = x; a.b = BUF(B_O);
        run_rows(f, &a);
        a.op = OP_NORM; a.a = x; a.b = BUF(B_XN2); a.w = &l->ffn_norm;
        run_rows(f, &a);
        matmul(f, &l->w_gate, BUF(B_XN2), BUF(B_G), n);
        matmul(f, &l->w_up, BUF(B_XN2), BUF(B_U), n);
        a.op = OP_SILU; a.a = BUF(B_G); a.b = BUF(B_U);
        run_rows(f, &a);
        matmul(f, &l->w_down, BUF(B_G), BUF(B_DN), n);
        a.op = OP_ADD; a.a = x; a.b = BUF(B_DN);
        run_rows(f, &a);
        if (l == &streamed) mw_stream_release(m->stream, li); /* issue #15 */
    }
#undef BUF
    return MW_OK;
}

mw_status mw_forward_step(mw_forward *f, int64_t n, const int32_t *tokens, const int32_t *seq,
                          const int32_t *pos, const int32_t *last, float *logits, mw_err *err)
{
    const mw_llama *m = f->m;
    const mw_hparams *hp = &m->hp;
    layout L;
    MW_FORWARD(forward_layers(f, n, tokens, seq, pos, &L, err));
#define BUF(id) ((float *)(f->arena + L.off[id]))
    float *x = BUF(B_X);
    /* the last position of each sequence that asks for logits */
    float *xl = BUF(B_XL);
    int32_t rows[4096];
    int64_t nl = 0;
    for (int64_t s = 0; s < f->max_seqs && nl < 4096; s++) {
        if (last[s] < 0) continue;
        mw_k_rmsnorm(xl + nl * hp->n_embd, x + (int64_t)last[s] * hp->n_embd, m->output_norm.data,
                     hp->n_embd, m->eps);
        rows[nl++] = (int32_t)s;
    }
    if (nl) {
        float *lg = BUF(B_LOGITS);
        matmul(f, &m->output, xl, lg, nl);
        for (int64_t r = 0; r < nl; r++)
            memcpy(logits + (size_t)rows[r] * hp->n_vocab, lg + r * hp->n_vocab, hp->n_vocab * sizeof(float));
    }
#undef BUF
    return MW_OK;
}

mw_status mw_forward_step_rows(mw_forward *f, int64_t n, const int32_t *tokens, const int32_t *seq,
                               const int32_t *pos, int64_t from, float *logits, mw_err *err)
{
    const mw_llama *m = f->m;
    const mw_hparams *hp = &m->hp;
    MW_RETURN_IF(from < 0 || from >= n, err, MW_ERR_INTERNAL, "logits from row %lld of a step of %lld tokens",
                 (long long)from, (long long)n);
    layout L;
    MW_FORWARD(forward_layers(f, n, tokens, seq, pos, &L, err));
    /* After the layers only x is live: xn's bytes (n rows of h, placed
     * while x lived, so apart from it) hold the normed rows, and the
     * product goes straight to the caller's buffer - the arena holds no
     * [n, vocab] block, and the plan's activation peak stays what it
     * predicts (docs/EVAL.md). */
    float *x = (float *)(f->arena + L.off[B_X]);
    float *xn = (float *)(f->arena + L.off[B_XN]);
    int64_t rows = n - from;
    for (int64_t r = 0; r < rows; r++)
        mw_k_rmsnorm(xn + r * hp->n_embd, x + (from + r) * hp->n_embd, m->output_norm.data, hp->n_embd, m->eps);
    matmul(f, &m->output, xn, logits, rows);
    return MW_OK;
}
