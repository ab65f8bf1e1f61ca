/* output_tables.c - the pasteable reports (issue #13, docs/OUTPUT.md): plan
 * and run as CSV, and plan, sweep and run as GitHub-flavoured Markdown,
 * built as small tables (report/table_out.h: RFC 4180 quoting, GFM pipe
 * escaping). The sweep's CSV is sweep_report.c's. A CSV is one rectangular
 * table whose rows can be appended across runs; the Markdown is headed by
 * what was planned or measured, then its tables. */
#include "memwall.h"
#include "common/error.h"
#include "report/json_util.h"
#include "report/ceilings.h"
#include "report/plan_assumptions.h"
#include "report/table_out.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *dtype_name(mw_dtype t, const char *none)
{
    const mw_dtype_info *d = mw_dtype_get(t);
    return d ? d->name : none;
}

/* Ends a report written as tables: the table's status, then the stream's. */
static mw_status finish(mw_tab *t, mw_status st, FILE *out, const char *what, mw_err *err)
{
    mw_tab_free(t);
    if (st != MW_OK) return st;
    return mw_report_end(out, what, err);
}

/* ---- plan ------------------------------------------------------------------ */

/* The components of a plan in plan_cols, "weights_bytes" .. "total_high_bytes"
 * (the JSON's key names, docs/JSON.md). */
#define PLAN_COMPONENT_COLS 10
static const char *const plan_cols[] = {
    "model", "mode", "batch", "ctx", "prompt", "gen", "weight_dtype", "kv_dtype", "optimizer", "recompute",
    "tp", "pp", "dp", "zero", "params",
    "weights_bytes", "kv_cache_bytes", "activations_bytes", "scratch_bytes",
    "gradients_bytes", "optimizer_bytes", "overhead_low_bytes", "overhead_high_bytes",
    "total_bytes", "total_high_bytes", "dominant",
    "target", "mem_bytes", "fits", "fits_with_high_overhead", "max_batch", "max_batch_high_overhead", "max_ctx",
    "dominant_at_max_batch",
    /* a GPU by name (--gpu): its decode step; an offload split (--gpu-layers) */
    "decode_step_s", "tokens_per_s", "binds", "gpu_layers", "gpu_bytes", "host_bytes",
};
#define PLAN_TARGET_COLS 14 /* "target" to the end */
#define PLAN_COLS (sizeof plan_cols / sizeof plan_cols[0])

static void plan_row(mw_tab *t, const mw_model *m, const mw_plan *p, const mw_plan_target *tg)
{
    const mw_plan_opts *o = &p->opts;
    mw_tab_cell(t, m->path);
    mw_tab_cell(t, o->training ? "training" : "inference");
    mw_tab_cellf(t, "%u", o->batch);
    mw_tab_cellf(t, "%u", o->ctx);
    mw_tab_cellf(t, "%u", o->prompt);
    mw_tab_cellf(t, "%u", o->ctx - o->prompt);
    mw_tab_cell(t, o->weight_scheme.kind != MW_SCHEME_NONE ? o->weight_scheme.name : dtype_name(o->weight_dtype, ""));
    mw_tab_cell(t, dtype_name(o->kv_dtype, ""));
    mw_tab_cell(t, o->training ? mw_plan_optimizer_name(o->optimizer) : "");
    mw_tab_cell(t, o->training ? mw_plan_recompute_name(o->recompute) : "");
    mw_tab_cellf(t, "%u", o->tp);
    mw_tab_cellf(t, "%u", o->pp);
    mw_tab_cellf(t, "%u", o->dp);
    mw_tab_cellf(t, "%u", o->zero);
    mw_tab_cell_u64(t, p->params);
    const uint64_t v[] = {p->bytes[MW_COMP_WEIGHTS], p->bytes[MW_COMP_KV_CACHE], p->bytes[MW_COMP_ACTIVATIONS],
                          p->bytes[MW_COMP_SCRATCH], p->bytes[MW_COMP_GRADIENTS], p->bytes[MW_COMP_OPTIMIZER],
                          p->bytes[MW_COMP_OVERHEAD], p->overhead_high_bytes, p->total_bytes, p->total_high_bytes};
    _Static_assert(sizeof v / sizeof v[0] == PLAN_COMPONENT_COLS,
                   "one value per component column");
    for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) mw_tab_cell_u64(t, v[k]);
    mw_tab_cell(t, mw_component_name(p->dominant));
    if (!tg) {
        for (int k = 0; k < PLAN_TARGET_COLS; k++) mw_tab_cell(t, "");
        return;
    }
    const mw_plan *q = &tg->plan;
    mw_tab_cell(t, tg->name);
    if (tg->offload) {
        /* a split answers whether its layers fit the GPU, not the inverse
         * questions */
        const mw_offload *x = tg->offload;
        mw_tab_cell_u64(t, x->gpu_limit_bytes);
        mw_tab_cell(t, x->fits ? "true" : "false");
        for (int k = 0; k < 5; k++) mw_tab_cell(t, "");
        if (x->decode_step_seconds > 0) mw_tab_cellf(t, "%.6g", x->decode_step_seconds);
        else mw_tab_cell(t, "");
        if (x->decode_step_seconds > 0) mw_tab_cellf(t, "%.6g", (double)q->opts.batch / x->decode_step_seconds);
        else mw_tab_cell(t, "");
        mw_tab_cell(t, x->decode_step_seconds > 0 ? "bandwidth" : "");
        mw_tab_cellf(t, "%u", x->gpu_layers);
        mw_tab_cell_u64(t, x->gpu_bytes);
        mw_tab_cell_u64(t, x->host_bytes);
        return;
    }
    mw_tab_cell_u64(t, q->opts.mem_bytes);
    mw_tab_cell(t, q->fits ? "true" : "false");
    mw_tab_cell(t, q->fits_high ? "true" : "false");
    mw_tab_cellf(t, "%u", q->max_batch);
    mw_tab_cellf(t, "%u", q->max_batch_high);
    mw_tab_cellf(t, "%u", q->max_ctx);
    mw_tab_cell(t, mw_component_name(q->max_batch_dominant));
    mw_gpu_step g;
    if (tg->gpu && mw_gpu_step_compute(m, q, tg->gpu, &g)) {
        mw_tab_cellf(t, "%.6g", g.step_seconds);
        mw_tab_cellf(t, "%.6g", g.tokens_per_second);
        mw_tab_cell(t, g.binds);
    } else {
        for (int k = 0; k < 3; k++) mw_tab_cell(t, "");
    }
    for (int k = 0; k < 3; k++) mw_tab_cell(t, "");
}

mw_status mw_plan_report_csv(const mw_model *m, const mw_plan *base, const mw_plan_target *t, size_t n_targets,
                             FILE *out, mw_err *err)
{
    MW_RETURN_IF(!m || !base || (n_targets && !t), err, MW_ERR_INVALID, "mw_plan_report_csv: nothing to write");
    mw_tab tab;
    mw_tab_init(&tab, PLAN_COLS, NULL);
    for (size_t c = 0; c < PLAN_COLS; c++) mw_tab_cell(&tab, plan_cols[c]);
    /* each target's row holds its own plan: a target planned with other
     * settings (a GPU of its own) shows its own components */
    if (!n_targets) plan_row(&tab, m, base, NULL);
    for (size_t i = 0; i < n_targets; i++) plan_row(&tab, m, &t[i].plan, &t[i]);
    return finish(&tab, mw_tab_write_csv(&tab, out, "CSV report", err), out, "CSV report", err);
}

/* The heading text of a Markdown report: escaped as a cell is. */
static void md_heading(FILE *out, const char *what, const char *name)
{
    fprintf(out, "## memwall %s: ", what);
    mw_md_cell(out, name);
    fputs("\n\n", out);
}

/* "x.yz GiB" of a byte count, for the GiB column. */
static void gib_cell(mw_tab *t, uint64_t v)
{
    mw_tab_cellf(t, "%.2f", (double)v / (double)(1ull << 30));
}

static mw_status plan_targets_markdown(const mw_model *m, const mw_plan *p, const mw_plan_target *t,
                                       size_t n_targets, int any_gpu, FILE *out, mw_err *err);
static mw_status offload_markdown(const mw_plan_target *tg, FILE *out, mw_err *err);

mw_status mw_plan_report_markdown(const mw_model *m, const mw_plan *p, const mw_plan_target *t, size_t n_targets,
                                  FILE *out, mw_err *err)
{
    MW_RETURN_IF(!m || !p || (n_targets && !t), err, MW_ERR_INVALID, "mw_plan_report_markdown: nothing to write");
    const mw_plan_opts *o = &p->opts;
    char a[32], b[32];
    md_heading(out, "plan", m->path);
    const char *weights = o->weight_scheme.kind != MW_SCHEME_NONE ? o->weight_scheme.name
                                                                    : dtype_name(o->weight_dtype, "as stored");
    if (o->training)
        fprintf(out, "Training: micro-batch %u x sequence %u, %s, %s, recompute %s; %s parameters.\n\n", o->batch,
                o->ctx, o->mixed_precision ? "mixed precision" : "fp32", mw_plan_optimizer_name(o->optimizer),
                mw_plan_recompute_name(o->recompute), mw_count_format(p->params, a, sizeof a));
    else
        fprintf(out, "Inference: batch %u, context %u (prompt %u + gen %u), weights %s, KV cache %s; %s "
                "parameters.\n\n", o->batch, o->ctx, o->prompt, o->ctx - o->prompt, weights,
                dtype_name(o->kv_dtype, "?"), mw_count_format(p->params, b, sizeof b));
    /* the assumptions the figures rest on, one a line, as the text says them */
    if (o->lora_rank)
        fprintf(out, "- %s r=%u on %s: %" PRIu64 " trainable parameters of %" PRIu64 " (base frozen)\n",
                o->qlora ? "QLoRA" : "LoRA", o->lora_rank, p->lora_targets, p->trainable_params,
                p->params + p->trainable_params);
    if (!o->training && o->weight_scheme.kind != MW_SCHEME_NONE)
        fprintf(out, "- weights %s: %s\n", o->weight_scheme.name, mw_weight_scheme_describe(&o->weight_scheme));
    char assume[MW_PLAN_ASSUME_MAX][MW_PLAN_ASSUME_LEN];
    for (size_t i = 0, n = mw_plan_assumption_lines(p, assume); i < n; i++) fprintf(out, "- %s\n", assume[i]);
    if (o->tp > 1 || o->pp > 1 || o->dp > 1 || o->zero)
        fprintf(out, "- per device of tp %u x pp %u x dp %u, ZeRO-%u\n", o->tp, o->pp, o->dp, o->zero);
    if (!o->training)
        fprintf(out, "- activations: one layer's peak (attention scores %s, logits %s)\n",
                mw_size_format(p->act_scores_bytes, a, sizeof a), mw_size_format(p->act_logits_bytes, b, sizeof b));
    else
        fprintf(out, "- activations: recompute %s\n", mw_plan_recompute_name(o->recompute));
    /* paging under a memory budget (issue #15; docs/PLAN.md) */
    if (!o->training && o->mem_budget_bytes != MW_UNKNOWN) {
        const mw_budget_split *sp = &p->split;
        fprintf(out, "- paging: budget %" PRIu64 " bytes: %u of %u layers resident (%" PRIu64 " bytes with %u "
                "stream buffers of %" PRIu64 "), %u streamed: %" PRIu64 " bytes a decode step, %" PRIu64
                " over the prefill", sp->budget_bytes, sp->resident_layers, sp->n_layers, sp->resident_bytes,
                sp->slots, sp->slot_bytes, sp->streamed_layers, sp->streamed_bytes_per_step,
                p->stream_prefill_bytes);
        if (p->stream_step_seconds >= 0) fprintf(out, "; the stream %.3g s a step", p->stream_step_seconds);
        fputc('\n', out);
    }
    fputc('\n', out);

    mw_tab tab;
    mw_tab_init(&tab, 4, "lrrr");
    mw_tab_cell(&tab, "component");
    mw_tab_cell(&tab, "bytes");
    mw_tab_cell(&tab, "GiB");
    mw_tab_cell(&tab, "share");
    for (int c = 0; c < MW_COMP_COUNT; c++) {
        /* the rows the text table shows: training state only when planned */
        if (c != MW_COMP_OVERHEAD && p->bytes[c] == 0 &&
            (c == MW_COMP_GRADIENTS || c == MW_COMP_OPTIMIZER || c == MW_COMP_KV_CACHE || c == MW_COMP_SCRATCH))
            continue;
        mw_tab_cell(&tab, c == MW_COMP_OVERHEAD ? "runtime overhead (low end)" : mw_component_name((mw_component)c));
        mw_tab_cell_u64(&tab, p->bytes[c]);
        gib_cell(&tab, p->bytes[c]);
        mw_tab_cellf(&tab, "%.1f%%", p->total_bytes ? 100.0 * (double)p->bytes[c] / (double)p->total_bytes : 0.0);
    }
    mw_tab_cell(&tab, "total");
    mw_tab_cell_u64(&tab, p->total_bytes);
    gib_cell(&tab, p->total_bytes);
    mw_tab_cell(&tab, "100.0%");
    mw_tab_cell(&tab, "total (overhead's high end)");
    mw_tab_cell_u64(&tab, p->total_high_bytes);
    gib_cell(&tab, p->total_high_bytes);
    mw_tab_cell(&tab, "");
    mw_status st = mw_tab_write_markdown(&tab, out, "Markdown report", err);
    mw_tab_free(&tab);
    if (st != MW_OK || !n_targets) return finish(&tab, st, out, "Markdown report", err);

    int any_gpu = 0, any_answer = 0;
    for (size_t i = 0; i < n_targets; i++) {
        any_gpu |= t[i].gpu && !t[i].offload;
        any_answer |= !t[i].offload;
    }
    if (any_answer) {
        st = plan_targets_markdown(m, p, t, n_targets, any_gpu, out, err);
        if (st != MW_OK) return st;
    }
    for (size_t i = 0; i < n_targets; i++)
        if (t[i].offload && (st = offload_markdown(&t[i], out, err)) != MW_OK) return st;
    return mw_report_end(out, "Markdown report", err);
}

/* The answers of the targets (memory sizes and GPUs by name): one row each;
 * with GPUs, their decode step. */
static mw_status plan_targets_markdown(const mw_model *m, const mw_plan *p, const mw_plan_target *t,
                                       size_t n_targets, int any_gpu, FILE *out, mw_err *err)
{
    const mw_plan_opts *o = &p->opts;
    char a[32], b[32];
    mw_tab tab;
    fputc('\n', out);
    const char *unit = o->training ? "micro-batch" : "batch";
    char h1[64], h2[64];
    snprintf(h1, sizeof h1, "largest %s at context %u", unit, o->ctx);
    snprintf(h2, sizeof h2, "largest context at %s %u", unit, o->batch);
    mw_tab_init(&tab, any_gpu ? 7 : 6, any_gpu ? "lrlrrll" : "lrlrrl");
    mw_tab_cell(&tab, "target");
    mw_tab_cell(&tab, "memory");
    mw_tab_cell(&tab, "fits");
    mw_tab_cell(&tab, h1);
    mw_tab_cell(&tab, h2);
    mw_tab_cell(&tab, "dominant there");
    if (any_gpu) mw_tab_cell(&tab, "decode step (batch, bound)");
    for (size_t i = 0; i < n_targets; i++) {
        if (t[i].offload) continue;
        const mw_plan *q = &t[i].plan;
        mw_tab_cell(&tab, t[i].name);
        mw_tab_cell(&tab, mw_size_format(q->opts.mem_bytes, a, sizeof a));
        if (q->fits_high) mw_tab_cell(&tab, "yes");
        else if (q->fits) mw_tab_cellf(&tab, "yes, unless the runtime takes more than %s",
                                       mw_size_format(q->opts.mem_bytes - (q->total_bytes - q->bytes[MW_COMP_OVERHEAD]),
                                                      b, sizeof b));
        else mw_tab_cellf(&tab, "no, %s short", mw_size_format(q->total_bytes - q->opts.mem_bytes, b, sizeof b));
        if (q->max_batch) mw_tab_cellf(&tab, "%u (%u at the high overhead)", q->max_batch, q->max_batch_high);
        else mw_tab_cell(&tab, "none");
        if (q->max_ctx && m->hp.n_ctx_train && q->max_ctx > m->hp.n_ctx_train)
            mw_tab_cellf(&tab, "%u (trained for %u)", q->max_ctx, m->hp.n_ctx_train);
        else if (q->max_ctx) mw_tab_cellf(&tab, "%u", q->max_ctx);
        else mw_tab_cell(&tab, "none");
        mw_tab_cell(&tab, q->max_batch ? mw_component_name(q->max_batch_dominant) : "");
        if (any_gpu) {
            mw_gpu_step g;
            if (t[i].gpu && mw_gpu_step_compute(m, q, t[i].gpu, &g))
                mw_tab_cellf(&tab, "%s, %.4g tokens/s at %u (%s)", mw_seconds_format(g.step_seconds, a, sizeof a),
                             g.tokens_per_second, q->opts.batch, g.binds);
            else
                mw_tab_cell(&tab, "");
        }
    }
    mw_status st = mw_tab_write_markdown(&tab, out, "Markdown report", err);
    mw_tab_free(&tab);
    return st;
}

/* An offload split (--gpu-layers): the GPU and host rows, the decode step. */
static mw_status offload_markdown(const mw_plan_target *tg, FILE *out, mw_err *err)
{
    const mw_offload *x = tg->offload;
    char a[32], b[32];
    fputc('\n', out);
    fputs("Offload split on ", out);
    mw_md_cell(out, tg->gpu ? tg->gpu->name : tg->name);
    fprintf(out, ": %u of %u layers on the GPU (llama.cpp -ngl %u); %s.\n\n", x->gpu_layers, x->n_layers + 1,
            x->gpu_layers, x->fits ? "fits" : "does not fit");
    mw_tab tab;
    mw_tab_init(&tab, 6, "lrrrrr");
    static const char *const head[] = {"device", "weights", "kv_cache", "compute+overhead", "total", "limit"};
    for (size_t k = 0; k < 6; k++) mw_tab_cell(&tab, head[k]);
    mw_tab_cell(&tab, "gpu");
    mw_tab_cell(&tab, mw_size_format(x->gpu_weights_bytes, a, sizeof a));
    mw_tab_cell(&tab, mw_size_format(x->gpu_kv_bytes, a, sizeof a));
    mw_tab_cell(&tab, mw_size_format(x->gpu_compute_bytes + x->gpu_overhead_bytes, a, sizeof a));
    mw_tab_cell(&tab, mw_size_format(x->gpu_bytes, a, sizeof a));
    mw_tab_cell(&tab, mw_size_format(x->gpu_limit_bytes, b, sizeof b));
    mw_tab_cell(&tab, "host");
    mw_tab_cell(&tab, mw_size_format(x->host_weights_bytes, a, sizeof a));
    mw_tab_cell(&tab, mw_size_format(x->host_kv_bytes, a, sizeof a));
    mw_tab_cell(&tab, "");
    mw_tab_cell(&tab, mw_size_format(x->host_bytes, a, sizeof a));
    mw_tab_cell(&tab, "");
    mw_status st = mw_tab_write_markdown(&tab, out, "Markdown report", err);
    mw_tab_free(&tab);
    if (st != MW_OK) return st;
    if (x->decode_step_seconds > 0)
        fprintf(out, "\nDecode step about %s (GPU %s, host %s): bandwidth-bound, each tier reads its weights and "
                "KV cache once a step.\n", mw_seconds_format(x->decode_step_seconds, a, sizeof a),
                mw_seconds_format(x->gpu_seconds, b, sizeof b), mw_seconds_format(x->host_seconds, a, sizeof a));
    return MW_OK;
}

/* ---- sweep ------------------------------------------------------------------ */

mw_status mw_sweep_report_markdown(const mw_sweep_result *r, FILE *out, mw_err *err)
{
    MW_RETURN_IF(!r, err, MW_ERR_INVALID, "mw_sweep_report_markdown: no sweep");
    const mw_sweep_axis axis = r->analysis.axis;
    const char *xn = mw_sweep_axis_name(axis);
    char a[32];
    md_heading(out, "sweep", r->workload);
    if (r->mem_limit_bytes != MW_UNLIMITED)
        fprintf(out, "- each point in a memory cgroup capped at %s\n", mw_size_format(r->mem_limit_bytes, a, sizeof a));
    if (r->predicted_max) fprintf(out, "- the plan predicts %s %u fits\n", xn, r->predicted_max);
    if (r->n_resumed) fprintf(out, "- %zu points resumed from the JSON Lines file\n", r->n_resumed);
    if (r->interrupted_signal)
        fprintf(out, "- interrupted by %s: the points measured until then\n", mw_signal_name(r->interrupted_signal));
    if (r->stopped.status != MW_OK) fprintf(out, "- stopped early: the JSON Lines file could not be written\n");
    if (r->mem_limit_bytes != MW_UNLIMITED || r->predicted_max || r->n_resumed || r->interrupted_signal ||
        r->stopped.status != MW_OK)
        fputc('\n', out);
    /* the text table's columns: GPU memory and the ceilings' fractions when known */
    int gpu = 0, fractions = 0;
    for (size_t i = 0; i < r->n_points; i++) {
        gpu |= mw_sweep_point_gpu_memory(&r->points[i]) != MW_UNKNOWN;
        fractions |= mw_sweep_point_fractions(&r->points[i], &r->ceilings, NULL, NULL);
    }
    const int budget = axis == MW_SWEEP_BUDGET; /* issue #15: streamed columns */
    char align[24];
    snprintf(align, sizeof align, "rllr%srrrrr%s%sl", gpu ? "r" : "", fractions ? "rr" : "", budget ? "rrrr" : "");
    mw_tab tab;
    mw_tab_init(&tab, strlen(align), align);
    mw_tab_cell(&tab, budget ? "budget KiB" : xn);
    mw_tab_cell(&tab, "status");
    mw_tab_cell(&tab, "memory of");
    mw_tab_cell(&tab, "peak memory");
    if (gpu) mw_tab_cell(&tab, "GPU memory");
    mw_tab_cell(&tab, "predicted");
    mw_tab_cell(&tab, "error");
    mw_tab_cell(&tab, "throughput /s");
    mw_tab_cell(&tab, "swap in");
    mw_tab_cell(&tab, "major faults");
    if (fractions) {
        mw_tab_cell(&tab, "of DRAM bandwidth");
        mw_tab_cell(&tab, "of FP32 peak");
    }
    if (budget) {
        mw_tab_cell(&tab, "cap");
        mw_tab_cell(&tab, "streamed layers");
        mw_tab_cell(&tab, "streamed per step");
        mw_tab_cell(&tab, "stream GB/s");
    }
    mw_tab_cell(&tab, "verdict");
    for (size_t i = 0; i < r->n_points; i++) {
        const mw_sweep_point *p = &r->points[i];
        mw_memory_source src;
        uint64_t mem = mw_sweep_point_memory_of(p, &src);
        mw_tab_cellf(&tab, "%u", mw_sweep_point_x(p, axis));
        mw_tab_cell(&tab, mw_point_status_name(p->status));
        mw_tab_cell(&tab, mw_memory_source_name(src) ? mw_memory_source_name(src) : "");
        mw_tab_cell(&tab, mem != MW_UNKNOWN ? mw_size_format(mem, a, sizeof a) : "");
        if (gpu) mw_tab_cell(&tab, p->peak_gpu_bytes != MW_UNKNOWN ? mw_size_format(p->peak_gpu_bytes, a, sizeof a) : "");
        mw_tab_cell(&tab, p->predicted_bytes != MW_UNKNOWN ? mw_size_format(p->predicted_bytes, a, sizeof a) : "");
        if (p->status == MW_POINT_OK && p->predicted_bytes != MW_UNKNOWN && mem != MW_UNKNOWN && mem)
            mw_tab_cellf(&tab, "%+.1f%%", 100.0 * ((double)p->predicted_bytes - (double)mem) / (double)mem);
        else mw_tab_cell(&tab, "");
        if (p->throughput >= 0) mw_tab_cellf(&tab, "%.1f", p->throughput);
        else mw_tab_cell(&tab, "");
        mw_tab_cell(&tab, p->swap_in_bytes != MW_UNKNOWN ? mw_size_format(p->swap_in_bytes, a, sizeof a) : "");
        mw_tab_cell_u64(&tab, p->major_faults);
        if (fractions) {
            double bw, fl;
            if (mw_sweep_point_fractions(p, &r->ceilings, &bw, &fl)) {
                mw_tab_cellf(&tab, "%.2f", bw);
                mw_tab_cellf(&tab, "%.2f", fl);
            } else {
                mw_tab_cell(&tab, "");
                mw_tab_cell(&tab, "");
            }
        }
        if (budget) {
            const int known = p->status == MW_POINT_OK && p->stream_bytes_per_step != MW_UNKNOWN;
            mw_tab_cell(&tab, p->mem_limit_bytes != MW_UNKNOWN ? mw_size_format(p->mem_limit_bytes, a, sizeof a) : "");
            if (known) mw_tab_cellf(&tab, "%u", p->streamed_layers);
            else mw_tab_cell(&tab, "");
            mw_tab_cell(&tab, known ? mw_size_format(p->stream_bytes_per_step, a, sizeof a) : "");
            if (p->stream_bytes_per_second > 0) mw_tab_cellf(&tab, "%.2f", p->stream_bytes_per_second / 1e9);
            else mw_tab_cell(&tab, "");
        }
        mw_tab_cell(&tab, mw_verdict_name(r->verdicts[i]));
    }
    mw_status st = mw_tab_write_markdown(&tab, out, "Markdown report", err);
    if (st != MW_OK) return finish(&tab, st, out, "Markdown report", err);
    const mw_sweep_analysis *an = &r->analysis;
    if (axis == MW_SWEEP_BUDGET) /* issue #15: x is KiB; the smallest budget that ran */
        fprintf(out, "\n- smallest budget that ran to the end: %s",
                an->max_fit ? mw_size_format((uint64_t)an->max_fit * 1024, a, sizeof a) : "none");
    else
    fprintf(out, "\n- largest %s that fits: %u", axis == MW_SWEEP_CTX ? "context" : "batch", an->max_fit);
    if (an->first_fail && axis == MW_SWEEP_BUDGET)
        fprintf(out, " (%s did not)", mw_size_format((uint64_t)an->first_fail * 1024, a, sizeof a));
    else if (an->first_fail) fprintf(out, " (%u does not)", an->first_fail);
    if (an->knee) fprintf(out, "; knee at %u", an->knee);
    if (an->cliff) fprintf(out, "; cliff at %u", an->cliff);
    fputc('\n', out);
    fputs("- **verdict: ", out);
    mw_md_cell(out, mw_verdict_name(an->overall));
    fputs("**: ", out);
    mw_md_cell(out, an->reason);
    fputc('\n', out);
    if (an->judged[0]) {
        fputs("- judged ", out);
        mw_md_cell(out, an->judged);
        fputc('\n', out);
    }
    return finish(&tab, MW_OK, out, "Markdown report", err);
}

/* ---- run ------------------------------------------------------------------ */

static const mw_component run_shown[] = {MW_COMP_WEIGHTS, MW_COMP_KV_CACHE, MW_COMP_ACTIVATIONS, MW_COMP_SCRATCH};
#define RUN_SHOWN (sizeof run_shown / sizeof run_shown[0])

mw_status mw_run_report_csv(const mw_run_result *r, FILE *out, mw_err *err)
{
    MW_RETURN_IF(!r, err, MW_ERR_INVALID, "mw_run_report_csv: no run");
    static const char *const cols[] = {
        "model", "batch", "threads", "prompt_tokens", "gen_tokens", "load_seconds", "prompt_seconds",
        "decode_seconds", "prompt_tokens_per_second", "decode_tokens_per_second", "decode_step_seconds",
    };
    const size_t nc = sizeof cols / sizeof cols[0];
    mw_tab tab;
    mw_tab_init(&tab, nc + 2 * RUN_SHOWN + 3, NULL);
    for (size_t c = 0; c < nc; c++) mw_tab_cell(&tab, cols[c]);
    for (size_t k = 0; k < RUN_SHOWN; k++) {
        mw_tab_cellf(&tab, "measured_%s_bytes", mw_component_name(run_shown[k]));
        mw_tab_cellf(&tab, "predicted_%s_bytes", mw_component_name(run_shown[k]));
    }
    mw_tab_cell(&tab, "weights_mapped");
    mw_tab_cell(&tab, "predicted_overhead_low_bytes");
    mw_tab_cell(&tab, "predicted_overhead_high_bytes");
    mw_tab_cell(&tab, r->model);
    mw_tab_cellf(&tab, "%u", r->batch);
    mw_tab_cellf(&tab, "%u", r->threads);
    mw_tab_cellf(&tab, "%llu", (unsigned long long)r->prompt_tokens);
    mw_tab_cellf(&tab, "%llu", (unsigned long long)r->gen_tokens);
    mw_tab_cellf(&tab, "%.6f", r->load_seconds);
    mw_tab_cellf(&tab, "%.6f", r->prompt_seconds);
    mw_tab_cellf(&tab, "%.6f", r->decode_seconds);
    mw_tab_cellf(&tab, "%.6f", r->prompt_tokens_per_second);
    /* no decode step (--gen 0): empty, as the JSON's null */
    if (r->gen_tokens) {
        mw_tab_cellf(&tab, "%.6f", r->decode_tokens_per_second);
        mw_tab_cellf(&tab, "%.9f", r->decode_step_seconds);
    } else {
        mw_tab_cell(&tab, "");
        mw_tab_cell(&tab, "");
    }
    for (size_t k = 0; k < RUN_SHOWN; k++) {
        mw_tab_cell_u64(&tab, r->measured[run_shown[k]]);
        mw_tab_cell_u64(&tab, r->predicted.bytes[run_shown[k]]);
    }
    mw_tab_cell(&tab, r->weights_mapped ? "true" : "false");
    mw_tab_cell_u64(&tab, r->predicted.bytes[MW_COMP_OVERHEAD]);
    mw_tab_cell_u64(&tab, r->predicted.overhead_high_bytes);
    return finish(&tab, mw_tab_write_csv(&tab, out, "CSV report", err), out, "CSV report", err);
}

mw_status mw_run_report_markdown(const mw_run_result *r, FILE *out, mw_err *err)
{
    MW_RETURN_IF(!r, err, MW_ERR_INVALID, "mw_run_report_markdown: no run");
    char a[32], b[32];
    md_heading(out, "run", r->model);
    fprintf(out, "Batch %u, %u threads; loaded in %.3f s.\n\n", r->batch, r->threads, r->load_seconds);
    mw_tab tab;
    mw_tab_init(&tab, 4, "lrrr");
    mw_tab_cell(&tab, "phase");
    mw_tab_cell(&tab, "tokens");
    mw_tab_cell(&tab, "seconds");
    mw_tab_cell(&tab, "tokens/s");
    mw_tab_cell(&tab, "prompt");
    mw_tab_cellf(&tab, "%llu", (unsigned long long)r->prompt_tokens);
    mw_tab_cellf(&tab, "%.3f", r->prompt_seconds);
    mw_tab_cellf(&tab, "%.1f", r->prompt_tokens_per_second);
    if (r->gen_tokens) {
        mw_tab_cellf(&tab, "decode (%.2f ms a step)", r->decode_step_seconds * 1e3);
        mw_tab_cellf(&tab, "%llu", (unsigned long long)r->gen_tokens);
        mw_tab_cellf(&tab, "%.3f", r->decode_seconds);
        mw_tab_cellf(&tab, "%.1f", r->decode_tokens_per_second);
    }
    mw_status st = mw_tab_write_markdown(&tab, out, "Markdown report", err);
    mw_tab_free(&tab);
    if (st != MW_OK) return st;
    fputc('\n', out);
    mw_tab_init(&tab, 4, "lrrr");
    mw_tab_cell(&tab, "memory");
    mw_tab_cell(&tab, "measured");
    mw_tab_cell(&tab, "predicted");
    mw_tab_cell(&tab, "difference");
    for (size_t k = 0; k < RUN_SHOWN; k++) {
        mw_component c = run_shown[k];
        uint64_t m = r->measured[c], p = r->predicted.bytes[c];
        mw_tab_cellf(&tab, "%s%s", mw_component_name(c), c == MW_COMP_WEIGHTS && r->weights_mapped ? " (mapped)" : "");
        mw_tab_cell(&tab, mw_size_format(m, a, sizeof a));
        mw_tab_cell(&tab, mw_size_format(p, b, sizeof b));
        if (p) mw_tab_cellf(&tab, "%+.2f%%", 100.0 * ((double)m - (double)p) / (double)p);
        else mw_tab_cell(&tab, m ? "" : "0.00%");
    }
    st = mw_tab_write_markdown(&tab, out, "Markdown report", err);
    if (st == MW_OK)
        fprintf(out, "\n- the plan's runtime overhead, not measured: %s to %s\n",
                mw_size_format(r->predicted.bytes[MW_COMP_OVERHEAD], a, sizeof a),
                mw_size_format(r->predicted.overhead_high_bytes, b, sizeof b));
    return finish(&tab, st, out, "Markdown report", err);
}
