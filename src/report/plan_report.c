/* plan_report.c - `memwall plan`: the predicted components and, for each
 * memory size, whether it fits and the largest batch and context that do;
 * text or JSON ("memwall.plan/1"). */
#include "memwall.h"
#include "common/error.h"
#include "common/json.h"
#include "report/json_util.h"
#include "report/ceilings.h"

#include <inttypes.h>
#include <stdio.h>

static const char *optimizer_name(mw_optimizer o)
{
    static const char *const n[] = {"adamw", "adam", "sgd", "sgd-momentum", "adam8bit"};
    return (unsigned)o < 5 ? n[o] : "?";
}

static const char *recompute_name(mw_recompute r)
{
    static const char *const n[] = {"none", "selective", "full"};
    return (unsigned)r < 3 ? n[r] : "?";
}

static void workload_text(const mw_model *m, const mw_plan_opts *o, FILE *out)
{
    char params[32];
    fprintf(out, "memwall plan: %s, %s parameters\n", m->path, mw_count_format(m->n_params, params, sizeof params));
    if (o->training) {
        fprintf(out, "  training: micro-batch %u x sequence %u, %s, %s, recompute %s", o->batch, o->ctx,
                o->mixed_precision ? "mixed precision" : "fp32", optimizer_name(o->optimizer),
                recompute_name(o->recompute));
    } else {
        const mw_dtype_info *w = mw_dtype_get(o->weight_dtype);
        fprintf(out, "  inference: batch %u, context %u (prompt %u + gen %u), weights %s, kv %s", o->batch,
                o->ctx, o->prompt, o->ctx - o->prompt, w ? w->name : "as stored",
                mw_dtype_get(o->kv_dtype)->name);
    }
    if (o->tp > 1 || o->pp > 1 || o->dp > 1 || o->zero)
        fprintf(out, "; per device of tp %u x pp %u x dp %u, ZeRO-%u", o->tp, o->pp, o->dp, o->zero);
    fprintf(out, "\n");
}

/* The decode speed this machine's ceilings allow: a step moves at least
 * decode_step_bytes at the DRAM read bandwidth and computes
 * decode_step_flops at the FP32 peak, so it takes at least the longer of the
 * two, and the batch makes at most batch tokens a step. @return 0 without
 * a decode step or usable ceilings. */
static int on_this_machine(const mw_plan *p, const mw_ceilings *c, double *step_s, double *tokens_s,
                           double *bytes_s, double *flops_s)
{
    if (p->opts.training || !(p->decode_step_bytes > 0) || !(p->decode_step_flops > 0) || !mw_ceilings_usable(c))
        return 0;
    *bytes_s = p->decode_step_bytes / c->dram_read_bytes_per_second;
    *flops_s = p->decode_step_flops / c->peak_flops_f32;
    *step_s = *bytes_s > *flops_s ? *bytes_s : *flops_s;
    *tokens_s = (double)p->opts.batch / *step_s;
    return 1;
}

static void on_this_machine_text(const mw_plan *p, const mw_ceilings *c, FILE *out)
{
    double step, tps, bs, fs;
    /* no profile: nothing said (a plan is about memory; JSON has null) */
    if (!on_this_machine(p, c, &step, &tps, &bs, &fs)) return;
    char a[32], b[32], c1[32], d[32], e[32], f[32];
    fprintf(out, "  on this machine: at most %.4g tokens/s at batch %u, a decode step taking at least %s: %s binds "
            "(%s at %s: %s; %.3g GFLOP at %s: %s)\n", tps, p->opts.batch, mw_seconds_format(step, a, sizeof a),
            bs >= fs ? "memory bandwidth" : "compute", mw_size_format((uint64_t)p->decode_step_bytes, b, sizeof b),
            mw_rate_format(c->dram_read_bytes_per_second, "B/s", c1, sizeof c1), mw_seconds_format(bs, d, sizeof d),
            p->decode_step_flops / 1e9, mw_rate_format(c->peak_flops_f32, "FLOP/s", e, sizeof e),
            mw_seconds_format(fs, f, sizeof f));
    fprintf(out, "  (machine profile %s, measured %s%s)\n", c->path, c->measured,
            c->noisy ? "; its figures were noisy" : "");
}

mw_status mw_plan_report_text(const mw_model *m, const mw_plan *p, const mw_plan_target *t,
                              size_t n_targets, const mw_ceilings *ceilings, FILE *out, unsigned flags, mw_err *err)
{
    const char *bold = flags & MW_REPORT_COLOR ? "\033[1m" : "", *reset = flags & MW_REPORT_COLOR ? "\033[0m" : "";
    const char *red = flags & MW_REPORT_COLOR ? "\033[31m" : "", *green = flags & MW_REPORT_COLOR ? "\033[32m" : "";
    char a[32], b[32];
    workload_text(m, &p->opts, out);
    fprintf(out, "%s  %-18s %12s %7s%s\n", bold, "component", "bytes", "share", reset);
    for (int c = 0; c < MW_COMP_COUNT; c++) {
        if (c != MW_COMP_OVERHEAD && p->bytes[c] == 0 &&
            (c == MW_COMP_GRADIENTS || c == MW_COMP_OPTIMIZER || c == MW_COMP_KV_CACHE ||
             c == MW_COMP_SCRATCH))
            continue;
        if (c == MW_COMP_OVERHEAD) {
            fprintf(out, "  %-18s %12s %7s  to %s\n", "runtime overhead", mw_size_format(p->bytes[c], a, sizeof a),
                    "", mw_size_format(p->overhead_high_bytes, b, sizeof b));
            continue;
        }
        fprintf(out, "  %-18s %12s %6.1f%%", mw_component_name((mw_component)c),
                mw_size_format(p->bytes[c], a, sizeof a),
                p->total_bytes ? 100.0 * (double)p->bytes[c] / (double)p->total_bytes : 0.0);
        if (c == MW_COMP_KV_CACHE) fprintf(out, "  %s per token", mw_size_format(p->kv_bytes_per_token, b, sizeof b));
        /* issue #13: sliding-window layers hold their window only */
        if (c == MW_COMP_KV_CACHE && p->kv_sliding_layers)
            fprintf(out, " of all layers\n    KV: %u local layers hold %u tokens, %u global hold %u",
                    p->kv_sliding_layers, p->kv_window, p->kv_global_layers, p->opts.ctx);
        if (c == MW_COMP_ACTIVATIONS && !p->opts.training)
            fprintf(out, "  (one layer's peak; scores %s, logits %s)", mw_size_format(p->act_scores_bytes, b, sizeof b),
                    (mw_size_format(p->act_logits_bytes, a, sizeof a), a));
        fprintf(out, "\n");
    }
    fprintf(out, "%s  %-18s %12s%s  to %s\n", bold, "total", mw_size_format(p->total_bytes, a, sizeof a), reset,
            mw_size_format(p->total_high_bytes, b, sizeof b));
    if (!p->opts.training && p->decode_step_bytes > 0)
        fprintf(out, "  a decode step of the batch reads %s and does %.3g GFLOP: %.3g FLOP per byte\n",
                mw_size_format((uint64_t)p->decode_step_bytes, a, sizeof a), p->decode_step_flops / 1e9,
                p->decode_step_flops / p->decode_step_bytes);
    on_this_machine_text(p, ceilings, out);
    for (size_t i = 0; i < n_targets; i++) {
        const mw_plan *q = &t[i].plan;
        fprintf(out, "%s%s%s: %s: ", bold, t[i].name, reset, mw_size_format(q->opts.mem_bytes, a, sizeof a));
        if (q->fits_high) fprintf(out, "%sfits%s", green, reset);
        else if (q->fits) fprintf(out, "fits unless the runtime takes more than %s",
                                  mw_size_format(q->opts.mem_bytes - (q->total_bytes - q->bytes[MW_COMP_OVERHEAD]), b, sizeof b));
        else fprintf(out, "%sdoes not fit%s (%s short)", red, reset,
                     mw_size_format(q->total_bytes - q->opts.mem_bytes, b, sizeof b));
        fprintf(out, "\n");
        const char *unit = p->opts.training ? "micro-batch" : "batch";
        if (q->max_batch)
            fprintf(out, "  largest %s at context %u: %u (%u with the overhead's high end); largest part there: %s\n",
                    unit, p->opts.ctx, q->max_batch, q->max_batch_high, mw_component_name(q->max_batch_dominant));
        else
            fprintf(out, "  no %s fits at context %u\n", unit, p->opts.ctx);
        if (q->max_ctx) {
            fprintf(out, "  largest context at %s %u: %u", unit, p->opts.batch, q->max_ctx);
            if (m->hp.n_ctx_train && q->max_ctx > m->hp.n_ctx_train)
                fprintf(out, " (beyond the %u the model was trained for)", m->hp.n_ctx_train);
            fprintf(out, "\n");
        }
    }
    return mw_report_end(out, "plan report", err);
}

static void add_components(cJSON *o, const mw_plan *p)
{
    cJSON_AddNumberToObject(o, "weights_bytes", (double)p->bytes[MW_COMP_WEIGHTS]);
    cJSON_AddNumberToObject(o, "kv_cache_bytes", (double)p->bytes[MW_COMP_KV_CACHE]);
    cJSON_AddNumberToObject(o, "activations_bytes", (double)p->bytes[MW_COMP_ACTIVATIONS]);
    cJSON_AddNumberToObject(o, "scratch_bytes", (double)p->bytes[MW_COMP_SCRATCH]);
    cJSON_AddNumberToObject(o, "gradients_bytes", (double)p->bytes[MW_COMP_GRADIENTS]);
    cJSON_AddNumberToObject(o, "optimizer_bytes", (double)p->bytes[MW_COMP_OPTIMIZER]);
    cJSON_AddNumberToObject(o, "overhead_low_bytes", (double)p->bytes[MW_COMP_OVERHEAD]);
    cJSON_AddNumberToObject(o, "overhead_high_bytes", (double)p->overhead_high_bytes);
    cJSON_AddNumberToObject(o, "total_bytes", (double)p->total_bytes);
    cJSON_AddNumberToObject(o, "total_high_bytes", (double)p->total_high_bytes);
}

mw_status mw_plan_report_json(const mw_model *m, const mw_plan *p, const mw_plan_target *t,
                              size_t n_targets, const mw_ceilings *c, FILE *out, mw_err *err)
{
    mw_json_init();
    /* cJSON_Add* drop a key quietly when an allocation fails: count the
     * failures, so a report with a key missing is an error, not output */
    const uint64_t mark = mw_json_mark();
    const mw_plan_opts *o = &p->opts;
    cJSON *j = cJSON_CreateObject();
    MW_RETURN_IF(!j, err, MW_ERR_NOMEM, "out of memory writing the JSON report");
    cJSON_AddStringToObject(j, "schema", "memwall.plan/1");
    cJSON_AddStringToObject(j, "model", m->path);
    cJSON *h = cJSON_AddObjectToObject(j, "hparams");
    if (h) mw_json_add_hparams(h, &m->hp);
    cJSON *w = cJSON_AddObjectToObject(j, "workload");
    if (w) {
        cJSON_AddStringToObject(w, "mode", o->training ? "training" : "inference");
        cJSON_AddNumberToObject(w, "batch", o->batch);
        cJSON_AddNumberToObject(w, "ctx", o->ctx);
        cJSON_AddNumberToObject(w, "prompt", o->prompt);
        cJSON_AddNumberToObject(w, "ubatch", o->ubatch);
        cJSON_AddNumberToObject(w, "gen", o->ctx - o->prompt);
        const mw_dtype_info *wd = mw_dtype_get(o->weight_dtype);
        if (wd) cJSON_AddStringToObject(w, "weight_dtype", wd->name);
        else cJSON_AddNullToObject(w, "weight_dtype");
        cJSON_AddStringToObject(w, "kv_dtype", mw_dtype_get(o->kv_dtype)->name);
        cJSON_AddStringToObject(w, "act_dtype", mw_dtype_get(o->act_dtype)->name);
        cJSON_AddStringToObject(w, "optimizer", optimizer_name(o->optimizer));
        cJSON_AddBoolToObject(w, "mixed_precision", o->mixed_precision);
        cJSON_AddStringToObject(w, "recompute", recompute_name(o->recompute));
        cJSON_AddNumberToObject(w, "tp", o->tp);
        cJSON_AddNumberToObject(w, "pp", o->pp);
        cJSON_AddNumberToObject(w, "dp", o->dp);
        cJSON_AddNumberToObject(w, "zero", o->zero);
    }
    cJSON_AddNumberToObject(j, "params", (double)p->params);
    add_components(j, p);
    cJSON_AddNumberToObject(j, "kv_bytes_per_token", (double)p->kv_bytes_per_token);
    /* issue #13: sliding-window layers (docs/JSON.md) */
    if (!p->opts.training) {
        cJSON *kw = cJSON_AddObjectToObject(j, "kv_layers");
        if (kw) {
            cJSON_AddNumberToObject(kw, "sliding", p->kv_sliding_layers);
            cJSON_AddNumberToObject(kw, "global", p->kv_global_layers);
            cJSON_AddNumberToObject(kw, "sliding_tokens", p->kv_window);
            cJSON_AddNumberToObject(kw, "global_tokens", p->opts.ctx);
        }
    }
    cJSON_AddNumberToObject(j, "activation_layer_bytes", (double)p->act_layer_bytes);
    cJSON_AddNumberToObject(j, "attention_scores_bytes", (double)p->act_scores_bytes);
    cJSON_AddNumberToObject(j, "logits_bytes", (double)p->act_logits_bytes);
    cJSON_AddStringToObject(j, "dominant", mw_component_name(p->dominant));
    if (!p->opts.training) {
        cJSON_AddNumberToObject(j, "decode_step_bytes", p->decode_step_bytes);
        cJSON_AddNumberToObject(j, "decode_step_flops", p->decode_step_flops);
        double step, tps, bs, fs;
        if (on_this_machine(p, c, &step, &tps, &bs, &fs)) {
            cJSON *x = cJSON_AddObjectToObject(j, "on_this_machine");
            if (x) {
                mw_json_add_ceilings_source(x, c);
                cJSON_AddNumberToObject(x, "step_seconds_min", step);
                cJSON_AddNumberToObject(x, "bandwidth_step_seconds", bs);
                cJSON_AddNumberToObject(x, "compute_step_seconds", fs);
                cJSON_AddNumberToObject(x, "tokens_per_second_max", tps);
                cJSON_AddStringToObject(x, "binds", bs >= fs ? "bandwidth" : "compute");
            }
        } else {
            cJSON_AddNullToObject(j, "on_this_machine");
        }
    }
    if (n_targets) {
        /* the first memory size answers the top-level keys */
        cJSON_AddNumberToObject(j, "mem_bytes", (double)t[0].plan.opts.mem_bytes);
        cJSON_AddBoolToObject(j, "fits", t[0].plan.fits);
        cJSON_AddNumberToObject(j, "max_batch", t[0].plan.max_batch);
        cJSON_AddNumberToObject(j, "max_ctx", t[0].plan.max_ctx);
    } else {
        cJSON_AddNullToObject(j, "max_batch");
    }
    cJSON *ts = cJSON_AddArrayToObject(j, "targets");
    for (size_t i = 0; ts && i < n_targets; i++) {
        const mw_plan *q = &t[i].plan;
        cJSON *x = cJSON_CreateObject();
        if (!x) break;
        cJSON_AddStringToObject(x, "name", t[i].name);
        cJSON_AddNumberToObject(x, "mem_bytes", (double)q->opts.mem_bytes);
        cJSON_AddBoolToObject(x, "fits", q->fits);
        cJSON_AddBoolToObject(x, "fits_with_high_overhead", q->fits_high);
        cJSON_AddNumberToObject(x, "max_batch", q->max_batch);
        cJSON_AddNumberToObject(x, "max_batch_high_overhead", q->max_batch_high);
        cJSON_AddNumberToObject(x, "max_ctx", q->max_ctx);
        cJSON_AddStringToObject(x, "dominant_at_max_batch", mw_component_name(q->max_batch_dominant));
        cJSON_AddItemToArray(ts, x);
    }
    return mw_json_write(j, out, 1, "JSON report", mark, err);
}
