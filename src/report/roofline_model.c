/*
 * roofline_model.c - placing a model on this machine's roofline: each
 * decode step of a batch, and the prefill, as FLOPs over bytes from the plan
 * (mw_plan_compute), against the ceilings (docs/ROOFLINE.md, "Placing a
 * model"). Pure: plan and ceilings in, points out; no I/O.
 *
 * It lives in report, over plan and roofline, rather than in the roofline
 * layer: the roofline layer measures the machine and knows no model (its
 * allowed layers are common and probe), and this is a view of the two.
 */
#include "memwall.h"
#include "common/error.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_CTX 4096u
#define DEFAULT_PROMPT 512u

static const uint32_t default_batches[] = {1, 2, 4, 8, 16, 32, 64};

void mw_place_opts_init(mw_place_opts *o)
{
    memset(o, 0, sizeof *o);
    o->prompt = DEFAULT_PROMPT;
}

const char *mw_place_bound_name(mw_place_bound b)
{
    switch (b) {
    case MW_PLACE_BOUND_BANDWIDTH: return "bandwidth";
    case MW_PLACE_BOUND_COMPUTE: return "compute";
    default: return "unknown";
    }
}

void mw_placement_free(mw_placement *p)
{
    if (!p) return;
    mw_free(p->points);
    mw_free(p);
}

/* The ridge: FP32 peak / DRAM read, FLOP/byte; -1 when either is unknown. */
static double ridge_of(const mw_ceilings *c)
{
    if (!c || !(c->peak_flops_f32 > 0) || !(c->dram_read_bytes_per_second > 0)) return -1;
    return c->peak_flops_f32 / c->dram_read_bytes_per_second;
}

/* min(peak, intensity x DRAM read); -1 (and UNKNOWN) when a ceiling or the
 * intensity is unknown. */
static double attainable(const mw_ceilings *c, double intensity, mw_place_bound *bound)
{
    double ridge = ridge_of(c);
    *bound = MW_PLACE_BOUND_UNKNOWN;
    if (ridge < 0 || !(intensity > 0) || !isfinite(intensity)) return -1;
    if (intensity < ridge) {
        *bound = MW_PLACE_BOUND_BANDWIDTH;
        return intensity * c->dram_read_bytes_per_second;
    }
    *bound = MW_PLACE_BOUND_COMPUTE;
    return c->peak_flops_f32;
}

/* The smallest cache level (not DRAM) whose plateau holds bytes. */
static void fits_in(const mw_placement *p, double bytes, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t l = 0; l + 1 < p->n_levels; l++) {
        if (p->levels[l].bytes > 0 && bytes <= (double)p->levels[l].bytes) {
            snprintf(out, cap, "%s", p->levels[l].name);
            return;
        }
    }
}

static void place(const mw_placement *p, mw_place_point *pt)
{
    pt->intensity = pt->bytes > 0 ? pt->flops / pt->bytes : -1;
    pt->attainable_flops_per_second = attainable(&p->ceilings, pt->intensity, &pt->bound);
    fits_in(p, pt->bytes, pt->fits_in, sizeof pt->fits_in);
    pt->fraction = -1;
    pt->measured_seconds = -1;
}

/* One decode step (or, with ctx == prompt and batch 1, the last prompt
 * token's step) as the plan has it: every sequence attends ctx positions. */
static mw_status plan_step(const mw_model *m, uint32_t batch, uint32_t ctx, mw_plan *out, mw_err *err)
{
    mw_plan_opts po;
    mw_plan_opts_init(&po);
    po.batch = batch;
    po.ctx = ctx;
    po.prompt = ctx; /* the KV cache full: a step at context ctx */
    po.gen = 0;
    return mw_plan_compute(m, &po, out, err);
}

/* The prefill of P tokens at batch 1, from two plans of a single step (at
 * contexts 1 and P): their FLOPs are W + c.p (W the weights' 2 FLOPs per
 * weight, logits included; c the attention's per attended position), so
 *   flops = P.(W - 2.v.h) + 2.v.h + c.P.(P + 1) / 2
 * (every token multiplies the weights, only the last computes logits, and
 * token i attends i positions), and
 *   bytes = ceil(P / ubatch).w + P.kv_per_token
 * (the weights read once per ubatch, the prompt's KV written once; what
 * attention rereads of it, and the activations, are left out). */
static mw_status plan_prefill(const mw_model *m, uint32_t prompt, mw_place_point *pt, mw_err *err)
{
    mw_plan one, all;
    MW_FORWARD(plan_step(m, 1, 1, &one, err));
    MW_FORWARD(plan_step(m, 1, prompt, &all, err));
    const double P = prompt;
    double c = prompt > 1 ? (all.decode_step_flops - one.decode_step_flops) / (P - 1) : 0;
    double W = one.decode_step_flops - c;
    double logits = 2.0 * m->hp.n_vocab * m->hp.n_embd;
    if (logits > W) logits = 0; /* cannot be: keep the figure positive */
    pt->flops = P * (W - logits) + logits + c * P * (P + 1) / 2;
    double kv = (double)all.kv_bytes_per_token;
    /* the weights' share from the one-token step: with sliding-window
     * layers (issue #13) a step at P reads less than P positions of KV */
    double w = one.decode_step_bytes - kv;
    uint32_t ub = all.opts.ubatch ? all.opts.ubatch : 512;
    pt->bytes = (double)((prompt + ub - 1) / ub) * w + P * kv;
    return MW_OK;
}

mw_status mw_place_model(const mw_model *m, const mw_place_opts *o, const mw_ceilings *c,
                         const mw_roofline_result *r, mw_placement **out, mw_err *err)
{
    *out = NULL;
    mw_place_opts d;
    if (!o) {
        mw_place_opts_init(&d);
        o = &d;
    }
    const uint32_t *batches = o->batches ? o->batches : default_batches;
    size_t nb = o->batches ? o->n_batches : sizeof default_batches / sizeof default_batches[0];
    MW_RETURN_IF(nb == 0 || nb > MW_PLACE_MAX_BATCHES, err, MW_ERR_INVALID,
                 "give 1 to %d batches to place, not %zu", MW_PLACE_MAX_BATCHES, nb);
    for (size_t i = 0; i < nb; i++)
        MW_RETURN_IF(batches[i] == 0, err, MW_ERR_INVALID, "batch %zu of the list is 0: batches start at 1",
                     i + 1);
    MW_RETURN_IF(o->prompt == 0, err, MW_ERR_INVALID, "--prompt must be at least 1 token");

    mw_placement *p = mw_calloc(1, sizeof *p, MW_MEM_REPORT);
    MW_RETURN_IF(!p, err, MW_ERR_NOMEM, "out of memory placing the model");
    p->points = mw_calloc(nb + 1, sizeof *p->points, MW_MEM_REPORT);
    if (!p->points) {
        mw_placement_free(p);
        return mw_err_set(err, MW_ERR_NOMEM, "out of memory placing the model");
    }
    mw_shown_str(m->path ? m->path : "?", p->model, sizeof p->model);
    p->params = m->n_params;
    p->weights_bytes = m->weights_bytes;
    if (c) p->ceilings = *c;
    else {
        p->ceilings.dram_read_bytes_per_second = -1;
        p->ceilings.peak_flops_f32 = p->ceilings.peak_flops_bf16 = p->ceilings.peak_ops_int8 = -1;
    }
    p->ridge = ridge_of(&p->ceilings);
    if (r) {
        for (size_t l = 0; l < r->n_levels && l < 8; l++) {
            mw_place_level *lv = &p->levels[p->n_levels++];
            snprintf(lv->name, sizeof lv->name, "%s", r->levels[l].name);
            lv->bytes = r->levels[l].bytes;
            lv->read_bytes_per_second = r->levels[l].bw[MW_RL_READ][1].max;
        }
    }

    /* the decode context: as given, else the model's trained one up to 4096 */
    uint32_t ctx = o->ctx;
    if (!ctx) ctx = m->hp.n_ctx_train && m->hp.n_ctx_train < DEFAULT_CTX ? m->hp.n_ctx_train : DEFAULT_CTX;
    mw_status st = MW_OK;
    for (size_t i = 0; i < nb && st == MW_OK; i++) {
        mw_place_point *pt = &p->points[p->n_points];
        mw_plan plan;
        st = plan_step(m, batches[i], ctx, &plan, err);
        if (st != MW_OK) break;
        snprintf(pt->label, sizeof pt->label, "b%u", batches[i]);
        pt->batch = batches[i];
        pt->tokens = 1;
        pt->ctx = ctx;
        pt->flops = plan.decode_step_flops;
        pt->bytes = plan.decode_step_bytes;
        place(p, pt);
        p->n_points++;
    }
    if (st == MW_OK) {
        mw_place_point *pt = &p->points[p->n_points];
        st = plan_prefill(m, o->prompt, pt, err);
        if (st == MW_OK) {
            snprintf(pt->label, sizeof pt->label, "prefill");
            pt->prefill = 1;
            pt->batch = 1;
            pt->tokens = o->prompt;
            pt->ctx = o->prompt;
            place(p, pt);
            p->n_points++;
        }
    }
    if (st != MW_OK) {
        mw_placement_free(p);
        return st;
    }
    *out = p;
    return MW_OK;
}

int mw_place_measured(mw_place_point *pt, const mw_run_result *run, const mw_ceilings *c)
{
    double s = pt->prefill ? run->prompt_seconds : run->decode_step_seconds;
    if (!(s > 0) || !isfinite(s)) return 0;
    if (pt->prefill) {
        /* the prefill point is the run's own workload: the same prompt at batch 1 */
        pt->measured_flops = pt->flops;
        pt->measured_bytes = pt->bytes;
    } else {
        pt->measured_flops = run->predicted.decode_step_flops;
        pt->measured_bytes = run->predicted.decode_step_bytes;
    }
    if (!(pt->measured_flops > 0) || !(pt->measured_bytes > 0)) return 0;
    pt->measured = 1;
    pt->measured_prompt = run->batch ? (uint32_t)(run->prompt_tokens / run->batch) : 0;
    pt->measured_gen = run->gen_per_seq;
    pt->measured_seconds = s;
    pt->measured_intensity = pt->measured_flops / pt->measured_bytes;
    mw_place_bound b;
    pt->measured_attainable_flops_per_second = attainable(c, pt->measured_intensity, &b);
    pt->measured_flops_per_second = pt->measured_flops / s;
    pt->measured_bytes_per_second = pt->measured_bytes / s;
    pt->fraction = pt->measured_attainable_flops_per_second > 0
                       ? pt->measured_flops_per_second / pt->measured_attainable_flops_per_second
                       : -1;
    return 1;
}
