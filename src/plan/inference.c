/*
 * inference.c - what an inference run holds: weights, the KV cache, and the
 * activations of one step found by walking one layer's ops in order and
 * keeping the sum of the tensors alive at each point (the way a graph
 * allocator with liveness, such as ggml-alloc, reuses buffers).
 */
#include "plan/plan_internal.h"
#include "common/error.h"

#include <math.h>
#include <string.h>

static int is_float(mw_dtype t)
{
    return t == MW_DTYPE_F32 || t == MW_DTYPE_F16 || t == MW_DTYPE_BF16 || t == MW_DTYPE_F64;
}

static uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

static double decode_kv_read(const mw_hparams *hp, const mw_plan_opts *o, uint64_t kv_per_token);

mw_status mw_plan_weights(const mw_model *m, const mw_plan_opts *o, uint64_t *bytes, mw_err *err)
{
    uint64_t total = 0;
    if (o->weight_dtype == MW_DTYPE_COUNT) {
        total = m->weights_bytes;
    } else {
        MW_RETURN_IF(m->n_tensors == 0, err, MW_ERR_INVALID, "the model lists no tensors to convert");
        for (uint32_t i = 0; i < m->n_tensors; i++) {
            const mw_tensor_info *t = &m->tensors[i];
            /* As llama.cpp quantizes: matrices take the type; vectors (norms,
             * biases) stay F32 unless the target is a float type. A row that
             * is not a whole number of blocks falls back to F16. */
            mw_dtype d = o->weight_dtype;
            if (t->n_dims < 2 && !is_float(d)) d = MW_DTYPE_F32;
            uint64_t b = mw_dtype_bytes(d, t->n_elems);
            if (b == MW_UNKNOWN || (t->n_dims >= 1 && t->shape[t->n_dims - 1] %
                                    mw_dtype_get(d)->block_elems != 0))
                b = mw_dtype_bytes(MW_DTYPE_F16, t->n_elems);
            total += b;
        }
    }
    *bytes = ceil_div(total, (uint64_t)o->tp * o->pp);
    return MW_OK;
}

void mw_plan_decode_step(const mw_hparams *hp, const mw_plan_opts *o, uint64_t weights_bytes,
                         uint64_t kv_per_token, mw_dtype weight_type, double *bytes, double *flops)
{
    const double B = o->batch, devices = (double)o->tp * o->pp;
    const double L = hp->n_layers, h = hp->n_embd, a = hp->n_heads, akv = hp->n_kv_heads;
    const double d = hp->head_dim, v = hp->n_vocab;
    /* positions attended, on average over the generation: prompt + 1 .. ctx */
    const double pos = o->gen ? o->prompt + (o->gen + 1) / 2.0 : o->prompt;
    const double attn_w = 2 * h * a * d + 2 * h * akv * d;          /* q, o; k, v */
    const double ffn_w = (hp->gated_ffn ? 3 : 2) * h * (double)hp->n_ff;
    double experts = 1, used = 1, read = 1;                         /* dense: one "expert" */
    if (hp->n_experts > 1) {
        experts = hp->n_experts;
        used = hp->n_experts_used ? hp->n_experts_used : 1;
        read = fmin(experts, B * used);                              /* routed to by some sequence */
    }
    const double per_token = L * (attn_w + ffn_w * used) + v * h;   /* weights each token multiplies */
    *flops = (2 * B * per_token + 4 * B * L * a * d * pos) / devices;

    double w = (double)weights_bytes;
    /* the experts nobody is routed to stay unread: their share of the matrices */
    const double matrices = L * (attn_w + ffn_w * experts) + v * h * (hp->tied_embeddings ? 1 : 2);
    w -= w * (L * ffn_w * experts / matrices) * (1 - read / experts);
    /* an untied embedding table is read a row per sequence, not whole */
    uint64_t emb = mw_dtype_bytes(weight_type, (uint64_t)hp->n_vocab * hp->n_embd);
    if (!hp->tied_embeddings && emb != MW_UNKNOWN && (double)emb / devices < w) w -= (double)emb / devices;
    *bytes = w + B * (hp->sliding_window ? decode_kv_read(hp, o, kv_per_token)
                                          : pos * (double)kv_per_token);
}

mw_status mw_plan_kv_per_token(const mw_hparams *hp, const mw_plan_opts *o, uint64_t *bytes,
                               mw_err *err)
{
    /* 2 (K and V) x layers x kv heads x head dim, per device: layers split
     * over pp, kv heads over tp (replicated when fewer heads than ranks). */
    uint64_t layers = ceil_div(hp->n_layers, o->pp);
    uint64_t heads = hp->n_kv_heads >= o->tp ? ceil_div(hp->n_kv_heads, o->tp) : 1;
    uint64_t row = heads * hp->head_dim;
    uint64_t row_bytes = mw_dtype_bytes(o->kv_dtype, row);
    MW_RETURN_IF(row_bytes == MW_UNKNOWN, err, MW_ERR_INVALID,
                 "KV cache type %s needs rows in blocks of %u; this model's rows have %llu values",
                 mw_dtype_get(o->kv_dtype)->name, mw_dtype_get(o->kv_dtype)->block_elems,
                 (unsigned long long)row);
    *bytes = 2 * layers * row_bytes;
    return MW_OK;
}

/* ---- Sliding-window layers (issue #13; docs/PLAN.md, "Sliding-window
 * layers"). A local layer attends to the last sliding_window tokens only, so a
 * runtime keeps only those: llama.cpp's llama_kv_cache_iswa (a cache for
 * the SWA layers sized to the window, another for the rest), vLLM's
 * SlidingWindowManager (blocks outside the window are freed). ---- */

uint32_t mw_plan_layer_window(const mw_hparams *hp, uint32_t layer)
{
    if (!hp->sliding_window) return 0;
    if (hp->swa_period && (layer + 1) % hp->swa_period == 0) return 0;
    return hp->sliding_window;
}

uint32_t mw_plan_sliding_layers(const mw_hparams *hp)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < hp->n_layers; i++) n += mw_plan_layer_window(hp, i) != 0;
    return n;
}

/* Tokens layer i holds at a context of ctx. */
static uint64_t layer_tokens(const mw_hparams *hp, uint32_t layer, uint64_t ctx)
{
    uint32_t w = mw_plan_layer_window(hp, layer);
    return w && w < ctx ? w : ctx;
}

mw_status mw_plan_kv_bytes(const mw_hparams *hp, const mw_plan_opts *o, uint64_t ctx,
                           uint64_t batch, uint64_t *bytes, mw_err *err)
{
    uint64_t per_token = 0;
    MW_FORWARD(mw_plan_kv_per_token(hp, o, &per_token, err));
    /* one layer's K and V of one token, per device (kv heads over tp) */
    uint64_t layers = ceil_div(hp->n_layers, o->pp);
    uint64_t per_layer = per_token / layers;
    /* pp: stages of `layers` consecutive layers; the fullest one counts */
    uint64_t worst = 0;
    for (uint32_t first = 0; first < hp->n_layers; first += (uint32_t)layers) {
        uint64_t stage = 0;
        for (uint32_t i = first; i < hp->n_layers && i < first + layers; i++)
            stage += per_layer * layer_tokens(hp, i, ctx);
        if (stage > worst) worst = stage;
    }
    *bytes = worst * batch;
    return MW_OK;
}

/* Σ over p = a..b of min(p, w) (w = 0: no window). */
static double sum_min(double a, double b, double w)
{
    if (b < a) return 0;
    if (w == 0 || b <= w) return (a + b) * (b - a + 1) / 2;
    if (a >= w) return w * (b - a + 1);
    return (a + w) * (w - a + 1) / 2 + w * (b - w);
}

/* KV bytes one decode step of one sequence reads, per device, on average
 * over the generation: each layer to its mean position, a local layer no
 * further back than its window. */
static double decode_kv_read(const mw_hparams *hp, const mw_plan_opts *o, uint64_t kv_per_token)
{
    uint64_t layers = ceil_div(hp->n_layers, o->pp);
    double per_layer = (double)kv_per_token / (double)layers, sum = 0;
    for (uint32_t i = 0; i < layers && i < hp->n_layers; i++) {
        double w = mw_plan_layer_window(hp, i);
        double tokens = o->gen ? sum_min(o->prompt + 1.0, (double)o->prompt + o->gen, w) / o->gen
                               : (w && w < o->prompt ? w : o->prompt);
        sum += per_layer * tokens;
    }
    return sum;
}

/* The live set of a walk. */
typedef struct walk {
    uint64_t live, peak;
} walk;

static void birth(walk *w, uint64_t bytes)
{
    w->live += bytes;
    if (w->live > w->peak) w->peak = w->live;
}

static void death(walk *w, uint64_t bytes) { w->live -= bytes; }

/* One layer for b sequences of T new tokens attending to S positions.
 * Sizes in elements x e bytes; shapes in the comments, batch-major. */
static uint64_t layer_peak(const mw_hparams *hp, const mw_plan_opts *o, uint64_t b, uint64_t T,
                           uint64_t S, uint64_t *scores_out)
{
    uint64_t e = mw_dtype_get(o->act_dtype)->block_bytes;
    uint64_t tp = o->tp;
    uint64_t n = b * T;                                  /* tokens this step */
    uint64_t h = hp->n_embd;
    uint64_t q_dim = ceil_div((uint64_t)hp->n_heads * hp->head_dim, tp);
    uint64_t kv_dim = ceil_div((uint64_t)hp->n_kv_heads * hp->head_dim, tp);
    uint64_t heads = ceil_div(hp->n_heads, tp);
    uint64_t experts_per_token = hp->n_experts ? hp->n_experts_used : 1;
    uint64_t f = ceil_div((uint64_t)hp->n_ff, tp) * experts_per_token;
    walk w = {0, 0};

    uint64_t x = n * h * e;              /* x      [n, h]  the residual stream */
    birth(&w, x);
    uint64_t xn = n * h * e;             /* xn     [n, h]  norm(x)            */
    birth(&w, xn);
    uint64_t q = n * q_dim * e;          /* q      [n, a*d]                   */
    uint64_t k = n * kv_dim * e;         /* k, v   [n, a_kv*d] -> KV cache    */
    birth(&w, q);
    birth(&w, k);
    birth(&w, k);
    death(&w, xn);
    death(&w, k);                        /* copied into the cache             */
    death(&w, k);
    uint64_t sc = b * heads * T * S * e; /* scores [b, a, T, S]; softmax in place */
    birth(&w, sc);
    death(&w, q);
    uint64_t att = n * q_dim * e;        /* attn   [n, a*d] = softmax . V      */
    birth(&w, att);
    death(&w, sc);
    uint64_t out = n * h * e;            /* o      [n, h]  attn . Wo; x += o   */
    birth(&w, out);
    death(&w, att);
    death(&w, out);
    birth(&w, xn);                       /* xn2    [n, h]                     */
    if (hp->n_experts) birth(&w, n * hp->n_experts * e); /* router logits [n, E] */
    uint64_t up = n * f * e;             /* up (and gate) [n, f x k]          */
    birth(&w, up);
    if (hp->gated_ffn) birth(&w, up);    /* silu(gate) * up, in place         */
    death(&w, xn);
    if (hp->n_experts) death(&w, n * hp->n_experts * e);
    if (hp->gated_ffn) death(&w, up);
    uint64_t down = n * h * e;           /* down   [n, h]; x += down          */
    birth(&w, down);
    death(&w, up);
    death(&w, down);
    *scores_out = sc;
    return w.peak;
}

/* After the last layer: norm of the last token of each sequence and the
 * logits [b, v] (only the last position's are computed). */
static uint64_t final_peak(const mw_hparams *hp, const mw_plan_opts *o, uint64_t b, uint64_t T,
                           uint64_t *logits_out)
{
    uint64_t e = mw_dtype_get(o->act_dtype)->block_bytes;
    uint64_t x = b * T * hp->n_embd * e;
    uint64_t xn = b * hp->n_embd * e;
    uint64_t logits = b * (uint64_t)hp->n_vocab * 4; /* f32, as samplers read them */
    *logits_out = logits;
    return x + xn + logits;
}

uint64_t mw_plan_scratch(const mw_hparams *hp, const mw_plan_opts *o, mw_dtype wt)
{
    uint64_t prompt = o->prompt ? o->prompt : 1;
    uint64_t step = prompt < o->ubatch ? prompt : o->ubatch;
    uint64_t n = (uint64_t)o->batch * step;              /* rows of the largest step */
    uint64_t k = hp->n_embd;                             /* the widest input row */
    uint64_t q_dim = (uint64_t)hp->n_heads * hp->head_dim;
    if (q_dim > k) k = q_dim;
    if (hp->n_ff > k) k = hp->n_ff;
    switch (wt) {
    case MW_DTYPE_Q8_0: case MW_DTYPE_Q4_0: case MW_DTYPE_Q4_1: case MW_DTYPE_Q5_0:
    case MW_DTYPE_Q5_1: {
        uint64_t b = mw_dtype_bytes(MW_DTYPE_Q8_0, k);
        return b == MW_UNKNOWN ? 0 : n * b;
    }
    /* the K-quants take x in Q8_K (as llama.cpp): 292 bytes per 256 */
    case MW_DTYPE_Q4_K: case MW_DTYPE_Q5_K: case MW_DTYPE_Q6_K: {
        uint64_t b = mw_dtype_bytes(MW_DTYPE_Q8_K, k);
        return b == MW_UNKNOWN ? 0 : n * b;
    }
    case MW_DTYPE_F16: case MW_DTYPE_BF16: return n * k * 2;
    default: return 0;
    }
}

void mw_plan_inference_activations(const mw_hparams *hp, const mw_plan_opts *o,
                                   uint64_t *peak, uint64_t *layer, uint64_t *scores,
                                   uint64_t *logits)
{
    uint64_t b = o->batch;
    uint64_t prompt = o->prompt ? o->prompt : 1;
    /* The prompt is processed in steps of at most ubatch tokens; the last
     * step attends to the whole prompt. */
    uint64_t step = prompt < o->ubatch ? prompt : o->ubatch;
    uint64_t sc_p, sc_d, lg;
    uint64_t lp = layer_peak(hp, o, b, step, prompt, &sc_p);         /* last prefill step */
    uint64_t ld = layer_peak(hp, o, b, 1, o->ctx, &sc_d);            /* last decode step */
    uint64_t fp = final_peak(hp, o, b, step, &lg);
    uint64_t fd = final_peak(hp, o, b, 1, &lg);
    *layer = lp > ld ? lp : ld;
    *scores = sc_p > sc_d ? sc_p : sc_d;
    *logits = lg;
    uint64_t p = *layer;
    if (fp > p) p = fp;
    if (fd > p) p = fd;
    /* and the output buffer the logits are copied to for the caller, held
     * across steps (llama.cpp's output buffer; the engine's result) */
    *peak = p + lg;
}
