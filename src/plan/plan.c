/*
 * plan.c - mw_plan_compute: options, the components, and the inverse
 * questions (largest batch, largest context) by bisection over the same
 * function, which is monotonic in both.
 */
#include "plan/plan_internal.h"
#include "common/error.h"

#include <string.h>

/* Runtime overhead as a range (docs/PLAN.md): a lean C runtime needs about
 * 80 MiB (llama.cpp's process before any model: 76-80 MiB); a framework on
 * a GPU adds a CUDA context and kernels (610 MiB measured for PyTorch on an
 * H200; gpu_poor assumes 650 MB) and allocator slack (accelerate advises
 * +20% for inference). */
#define OVERHEAD_LOW_BYTES (80ull << 20)
#define OVERHEAD_HIGH_FIXED_BYTES (650ull << 20)
#define OVERHEAD_HIGH_SHARE 0.20

static const char *const component_names[MW_COMP_COUNT] = {
    "weights", "kv_cache", "activations", "scratch", "gradients", "optimizer", "overhead",
};

const char *mw_component_name(mw_component c)
{
    return (unsigned)c < MW_COMP_COUNT ? component_names[c] : "unknown";
}

void mw_plan_opts_init(mw_plan_opts *o)
{
    memset(o, 0, sizeof *o);
    o->batch = 1;
    o->ubatch = 512;
    o->weight_dtype = MW_DTYPE_COUNT;
    o->kv_dtype = MW_DTYPE_F16;
    o->act_dtype = MW_DTYPE_F32;
    o->optimizer = MW_OPT_ADAMW;
    o->mixed_precision = 1;
    o->tp = o->pp = o->dp = 1;
    o->mem_bytes = MW_UNKNOWN;
    o->overhead_bytes = MW_UNKNOWN;
}

static mw_status check_opts(const mw_model *m, mw_plan_opts *o, mw_err *err)
{
    const mw_hparams *hp = &m->hp;
    MW_RETURN_IF(!m->has_hparams || !hp->n_layers || !hp->n_embd || !hp->n_heads ||
                     !hp->head_dim || !hp->n_vocab,
                 err, MW_ERR_INVALID,
                 "%s: no architecture hyperparameters (layers, width, heads, vocabulary) to plan "
                 "with; give the config.json beside the weights, or a preset",
                 m->path);
    MW_RETURN_IF(o->batch == 0, err, MW_ERR_INVALID, "--batch must be at least 1");
    MW_RETURN_IF(o->ubatch == 0, err, MW_ERR_INVALID, "--ubatch must be at least 1");
    MW_RETURN_IF(o->tp == 0 || o->pp == 0 || o->dp == 0, err, MW_ERR_INVALID,
                 "--tp, --pp and --dp must be at least 1");
    MW_RETURN_IF(o->pp > hp->n_layers, err, MW_ERR_INVALID,
                 "--pp %u exceeds the model's %u layers", o->pp, hp->n_layers);
    MW_RETURN_IF(o->tp > hp->n_heads, err, MW_ERR_INVALID,
                 "--tp %u exceeds the model's %u attention heads", o->tp, hp->n_heads);
    MW_RETURN_IF(o->zero > 3, err, MW_ERR_INVALID, "--zero must be 0, 1, 2 or 3");
    MW_RETURN_IF(o->kv_dtype != MW_DTYPE_F32 && o->kv_dtype != MW_DTYPE_F16 &&
                     o->kv_dtype != MW_DTYPE_BF16 && o->kv_dtype != MW_DTYPE_Q8_0,
                 err, MW_ERR_INVALID, "--kv-dtype must be f32, f16, bf16 or q8_0");
    MW_RETURN_IF(o->act_dtype != MW_DTYPE_F32 && o->act_dtype != MW_DTYPE_F16 &&
                     o->act_dtype != MW_DTYPE_BF16,
                 err, MW_ERR_INVALID, "activations must be f32, f16 or bf16");
    if (o->ctx == 0) {
        if (o->prompt == 0 && o->gen == 0) {
            uint32_t c = hp->n_ctx_train && hp->n_ctx_train < 4096 ? hp->n_ctx_train : 4096;
            o->prompt = c < 512 ? c : 512;
            o->gen = c - o->prompt;
        }
        o->ctx = o->prompt + o->gen;
    }
    MW_RETURN_IF(o->ctx == 0, err, MW_ERR_INVALID, "the context is empty: give --ctx or --prompt");
    MW_RETURN_IF(o->prompt > o->ctx, err, MW_ERR_INVALID,
                 "--prompt %u does not fit in --ctx %u", o->prompt, o->ctx);
    if (o->prompt == 0) o->prompt = o->ctx; /* --ctx alone: the whole context as prompt */
    return MW_OK;
}

/* The components for o (checked), without the inverse questions. */
static mw_status compute(const mw_model *m, const mw_plan_opts *o, mw_plan *p, mw_err *err)
{
    const mw_hparams *hp = &m->hp;
    memset(p, 0, sizeof *p);
    p->opts = *o;
    p->params = m->n_params;
    uint64_t *b = p->bytes;
    if (o->training) {
        mw_plan_training(hp, m->n_params, o, &b[MW_COMP_WEIGHTS], &b[MW_COMP_GRADIENTS],
                         &b[MW_COMP_OPTIMIZER], &b[MW_COMP_ACTIVATIONS]);
    } else {
        MW_FORWARD(mw_plan_weights(m, o, &b[MW_COMP_WEIGHTS], err));
        MW_FORWARD(mw_plan_kv_per_token(hp, o, &p->kv_bytes_per_token, err));
        /* Σ over layers: a sliding-window layer holds min(ctx, window) */
        MW_FORWARD(mw_plan_kv_bytes(hp, o, o->ctx, o->batch, &b[MW_COMP_KV_CACHE], err));
        p->kv_sliding_layers = mw_plan_sliding_layers(hp);
        p->kv_global_layers = hp->n_layers - p->kv_sliding_layers;
        if (p->kv_sliding_layers)
            p->kv_window = hp->sliding_window < o->ctx ? hp->sliding_window : o->ctx;
        mw_plan_inference_activations(hp, o, &b[MW_COMP_ACTIVATIONS], &p->act_layer_bytes,
                                      &p->act_scores_bytes, &p->act_logits_bytes);
        mw_dtype wt = o->weight_dtype != MW_DTYPE_COUNT ? o->weight_dtype : hp->dtype;
        b[MW_COMP_SCRATCH] = mw_plan_scratch(hp, o, wt);
        mw_plan_decode_step(hp, o, b[MW_COMP_WEIGHTS], p->kv_bytes_per_token, wt, &p->decode_step_bytes,
                            &p->decode_step_flops);
    }
    uint64_t sum = 0;
    for (int c = 0; c < MW_COMP_OVERHEAD; c++) sum += b[c];
    b[MW_COMP_OVERHEAD] = o->overhead_bytes != MW_UNKNOWN ? o->overhead_bytes : OVERHEAD_LOW_BYTES;
    p->overhead_high_bytes = OVERHEAD_HIGH_FIXED_BYTES + (uint64_t)(OVERHEAD_HIGH_SHARE * (double)sum);
    p->total_bytes = sum + b[MW_COMP_OVERHEAD];
    p->total_high_bytes = sum + p->overhead_high_bytes;
    p->dominant = MW_COMP_WEIGHTS;
    for (int c = 0; c < MW_COMP_OVERHEAD; c++)
        if (b[c] > b[p->dominant]) p->dominant = (mw_component)c;
    return MW_OK;
}

typedef enum { VARY_BATCH, VARY_CTX } vary;

/* Largest value in [1, hi] whose plan fits mem (high: with the overhead's
 * high end); 0 when 1 does not fit. */
static uint32_t largest_fit(const mw_model *m, const mw_plan_opts *base, vary what, int high,
                            uint64_t mem)
{
    uint32_t lo = 0, hi = 1u << 24;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo + 1) / 2;
        mw_plan_opts o = *base;
        if (what == VARY_BATCH) {
            o.batch = mid;
        } else {
            /* a context given alone is all prompt; else the prompt stays */
            if (base->prompt == base->ctx || o.prompt > mid) o.prompt = mid;
            o.ctx = mid;
            o.gen = mid - o.prompt;
        }
        mw_plan p;
        int ok = compute(m, &o, &p, NULL) == MW_OK &&
                 (high ? p.total_high_bytes : p.total_bytes) <= mem;
        if (ok) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

mw_status mw_plan_compute(const mw_model *m, const mw_plan_opts *opts, mw_plan *out, mw_err *err)
{
    mw_plan_opts o = *opts;
    MW_FORWARD(check_opts(m, &o, err));
    MW_FORWARD(compute(m, &o, out, err));
    if (o.mem_bytes == MW_UNKNOWN) return MW_OK;
    out->fits = out->total_bytes <= o.mem_bytes;
    out->fits_high = out->total_high_bytes <= o.mem_bytes;
    out->max_batch = largest_fit(m, &o, VARY_BATCH, 0, o.mem_bytes);
    out->max_batch_high = largest_fit(m, &o, VARY_BATCH, 1, o.mem_bytes);
    out->max_ctx = largest_fit(m, &o, VARY_CTX, 0, o.mem_bytes);
    out->max_batch_dominant = out->dominant;
    if (out->max_batch > 0) {
        mw_plan_opts ob = o;
        ob.batch = out->max_batch;
        mw_plan pb;
        if (compute(m, &ob, &pb, NULL) == MW_OK) out->max_batch_dominant = pb.dominant;
    }
    return MW_OK;
}
