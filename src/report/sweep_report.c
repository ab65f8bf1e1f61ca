/* sweep_report.c - `memwall sweep`: the table of points and the verdict;
 * JSON ("memwall.sweep/1") and CSV. A point's JSON is the sweep's own
 * (sweep/jsonl.c), with its verdict added. */
#include "memwall.h"
#include "common/error.h"
#include "common/json.h"
#include "report/json_util.h"
#include "sweep/jsonl.h"

#include <stdio.h>
#include <string.h>


/* "fit: 192 MiB + 6.54 MiB per item (R² 1.0000)" */
static void put_fit(FILE *out, const char *what, const mw_sweep_fit *f, mw_sweep_axis axis)
{
    char a[32], b[32];
    fprintf(out, "  %s: %s + %s per %s (R² %.4f)\n", what,
            mw_size_format((uint64_t)(f->fixed_bytes > 0 ? f->fixed_bytes : 0), a, sizeof a),
            mw_size_format((uint64_t)(f->per_item_bytes > 0 ? f->per_item_bytes : 0), b, sizeof b),
            axis == MW_SWEEP_CTX ? "token of context" : axis == MW_SWEEP_BUDGET ? "KiB of budget" : "item", f->r2);
}

/* ---- budget sweeps (issue #15, docs/PAGING.md "In the sweep") ------------ */

/* Decimal bytes ("1.40 GB"), as the bandwidths are. */
static const char *dec_bytes(uint64_t v, char *buf, size_t cap)
{
    if (v == MW_UNKNOWN) return snprintf(buf, cap, "-"), buf;
    double d = (double)v;
    const char *u = "B";
    if (d >= 1e9) { d /= 1e9; u = "GB"; }
    else if (d >= 1e6) { d /= 1e6; u = "MB"; }
    else if (d >= 1e3) { d /= 1e3; u = "kB"; }
    snprintf(buf, cap, *u == 'B' ? "%.0f %s" : "%.2f %s", d, u);
    return buf;
}

/* The budget sweep's table: budget, its share of the weights, the point's
 * cap, throughput, peak memory, layers streamed, bytes streamed per step,
 * the reader's GB/s (and its share of the disk_cold tier's). */
static void budget_table(const mw_sweep_result *r, FILE *out, const char *bold, const char *reset)
{
    char a[32], b[32], c[32], d[32];
    const int disk = r->ceilings.disk_read_bytes_per_second > 0;
    fprintf(out, "%s  %10s %6s %-8s %10s %12s %12s %8s %12s %10s%s  %s%s\n", bold, "budget", "of W", "status", "cap",
            "throughput", "peak memory", "streamed", "per step", "stream", disk ? "   of disk" : "", "verdict",
            reset);
    for (size_t i = 0; i < r->n_points; i++) {
        const mw_sweep_point *p = &r->points[i];
        char share[16] = "-", thr[32] = "-", layers[16] = "-", gbs[16] = "-", frac[16] = "-";
        if (r->weights_bytes)
            snprintf(share, sizeof share, "%.0f%%", 100.0 * (double)p->budget_bytes / (double)r->weights_bytes);
        if (p->throughput >= 0) snprintf(thr, sizeof thr, "%.1f/s", p->throughput);
        if (p->status == MW_POINT_OK && p->stream_bytes_per_step != MW_UNKNOWN)
            snprintf(layers, sizeof layers, "%u", p->streamed_layers);
        if (p->stream_bytes_per_second > 0) {
            snprintf(gbs, sizeof gbs, "%.2f GB/s", p->stream_bytes_per_second / 1e9);
            if (disk) snprintf(frac, sizeof frac, "%.2f", p->stream_bytes_per_second / r->ceilings.disk_read_bytes_per_second);
        }
        fprintf(out, "  %10s %6s %-8s %10s %12s %12s %8s %12s %10s", mw_size_format(p->budget_bytes, a, sizeof a), share,
                mw_point_status_name(p->status),
                p->mem_limit_bytes != MW_UNKNOWN ? mw_size_format(p->mem_limit_bytes, b, sizeof b) : "-", thr,
                mw_size_format(mw_sweep_point_memory(p), c, sizeof c), layers,
                p->status == MW_POINT_OK ? dec_bytes(p->stream_bytes_per_step, d, sizeof d) : "-", gbs);
        if (disk) fprintf(out, " %9s", frac);
        fprintf(out, "  %s\n", mw_verdict_name(r->verdicts[i]));
    }
    if (r->weights_bytes)
        fprintf(out, "  of W: the budget's share of the weights (%s, as the plan counts them); cap: the point's "
                     "cgroup, the budget + the plan's KV cache, activations, scratch and overhead + a margin\n",
                mw_size_format(r->weights_bytes, a, sizeof a));
    if (disk)
        fprintf(out, "  of disk: the stream's GB/s / the machine profile's disk_cold tier (%.2f GB/s)\n",
                r->ceilings.disk_read_bytes_per_second / 1e9);
}

mw_status mw_sweep_report_text(const mw_sweep_result *r, FILE *out, unsigned flags, mw_err *err)
{
    const char *bold = flags & MW_REPORT_COLOR ? "\033[1m" : "", *reset = flags & MW_REPORT_COLOR ? "\033[0m" : "";
    char a[32], b[32], c[32];
    const mw_sweep_axis axis = r->analysis.axis;
    const char *xn = mw_sweep_axis_name(axis);
    fprintf(out, "%smemwall sweep:%s %s\n", bold, reset, r->workload);
    const char *sep = "  ";
    if (r->mem_limit_bytes != MW_UNLIMITED) {
        fprintf(out, "%seach point in a memory cgroup capped at %s", sep,
                mw_size_format(r->mem_limit_bytes, a, sizeof a));
        sep = "; ";
    }
    if (axis == MW_SWEEP_BUDGET) { /* issue #15 */
        fprintf(out, "%seach point in a memory cgroup capped at its budget + the plan's KV cache and activations",
                sep);
        sep = "; ";
    }
    if (r->predicted_max) {
        fprintf(out, "%sthe plan predicts %s %u fits", sep, xn, r->predicted_max);
        sep = "; ";
    }
    if (r->n_evicted_files) {
        fprintf(out, "%s%s dropped from the page cache before each run", sep,
                r->n_evicted_files == 1 ? "the model file" : "the files to evict");
        sep = "; ";
    }
    if (r->n_resumed) {
        fprintf(out, "%s%zu points resumed from the JSON Lines file", sep, r->n_resumed);
        sep = "; ";
    }
    if (sep[0] == ';') fputc('\n', out);
    /* stopped early: what follows is what was measured until then */
    if (r->interrupted_signal)
        fprintf(out, "  %sinterrupted by %s%s: the points measured until then\n", bold,
                mw_signal_name(r->interrupted_signal), reset);
    if (r->stopped.status != MW_OK)
        fprintf(out, "  %sstopped early%s: the JSON Lines file could not be written\n", bold, reset);
    /* a GPU column when NVML saw the workload use one */
    int gpu = 0;
    for (size_t i = 0; i < r->n_points; i++)
        gpu |= mw_sweep_point_gpu_memory(&r->points[i]) != MW_UNKNOWN;
    /* a column of the fractions of this machine's ceilings, when known */
    int fractions = 0;
    for (size_t i = 0; i < r->n_points; i++)
        fractions |= mw_sweep_point_fractions(&r->points[i], &r->ceilings, NULL, NULL);
    if (axis == MW_SWEEP_BUDGET) budget_table(r, out, bold, reset); /* issue #15 */
    else {
    fprintf(out, "%s  %6s %-8s %12s %-6s", bold, xn, "status", "peak memory", "of");
    if (gpu) fprintf(out, " %12s", "GPU memory");
    fprintf(out, " %12s %7s %12s %10s %8s", "predicted", "error", "throughput", "swap in", "majflt");
    if (fractions) fprintf(out, "  %-17s", "of the ceilings");
    fprintf(out, "  %s%s\n", "verdict", reset);
    for (size_t i = 0; i < r->n_points; i++) {
        const mw_sweep_point *p = &r->points[i];
        char thr[32];
        if (p->throughput >= 0) snprintf(thr, sizeof thr, "%.1f/s", p->throughput);
        else snprintf(thr, sizeof thr, "-");
        char errs[16] = "-";
        if (p->status == MW_POINT_OK && p->predicted_bytes != MW_UNKNOWN && mw_sweep_point_memory(p) != MW_UNKNOWN && mw_sweep_point_memory(p))
            snprintf(errs, sizeof errs, "%+.1f%%", 100.0 * ((double)p->predicted_bytes - (double)mw_sweep_point_memory(p)) /
                                                      (double)mw_sweep_point_memory(p));
        const char *v = mw_verdict_name(r->verdicts[i]);
        mw_memory_source src;
        uint64_t mem = mw_sweep_point_memory_of(p, &src);
        fprintf(out, "  %6u %-8s %12s %-6s", mw_sweep_point_x(p, axis), mw_point_status_name(p->status),
                mw_size_format(mem, a, sizeof a), mw_memory_source_name(src) ? mw_memory_source_name(src) : "-");
        if (gpu) fprintf(out, " %12s", mw_size_format(p->peak_gpu_bytes, a, sizeof a));
        fprintf(out, " %12s %7s %12s %10s %8llu", mw_size_format(p->predicted_bytes, b, sizeof b), errs, thr,
                mw_size_format(p->swap_in_bytes, c, sizeof c), (unsigned long long)p->major_faults);
        if (fractions) {
            double bw, fl;
            char fr[40] = "-";
            if (mw_sweep_point_fractions(p, &r->ceilings, &bw, &fl)) snprintf(fr, sizeof fr, "bw %.2f / fl %.2f", bw, fl);
            fprintf(out, "  %-17s", fr);
        }
        fprintf(out, "  %s\n", v);
    }
    } /* the batch and context table */
    /* which memory figure the column is, and what the cap did not bound */
    int any_rss = 0;
    uint64_t cached = 0;
    for (size_t i = 0; i < r->n_points; i++) {
        mw_memory_source src;
        const mw_sweep_point *p = &r->points[i];
        (void)mw_sweep_point_memory_of(p, &src);
        /* libraries alone (a few MiB) are not worth a note */
        uint64_t m = mw_sweep_point_memory(p);
        any_rss |= src == MW_MEMORY_RSS && p->cgroup_peak_bytes != MW_UNKNOWN &&
                   m - p->cgroup_peak_bytes > (4ull << 20) + p->cgroup_peak_bytes / 50;
        if (p->file_cached_bytes != MW_UNKNOWN && p->file_cached_bytes > cached) cached = p->file_cached_bytes;
    }
    fprintf(out, "  peak memory of: cgroup = the cgroup's peak, every page charged to the point (what the cap "
                 "bounds); rss = the tree's resident set (anonymous + file + shared)\n");
    if (any_rss)
        fprintf(out, "  rss > cgroup: the process mapped file pages (libraries, weights) cached before the point "
                     "and charged to another cgroup, so the cap did not bound them%s\n",
                r->n_evicted_files ? "" : " (--evict FILE drops a model file before each run)");
    if (cached)
        fprintf(out, "  %s of the evicted files stayed in the page cache (mapped by another process): not charged "
                     "to the cap\n", mw_size_format(cached, a, sizeof a));
    /* issue #16: each Slurm job, its state and node (and sacct's MaxRSS) */
    for (size_t i = 0; i < r->n_points; i++) {
        const mw_sweep_point *p = &r->points[i];
        if (!p->slurm_job_id) continue;
        fprintf(out, "  %s %u: Slurm job %llu, %s on %s", xn, mw_sweep_point_x(p, axis),
                (unsigned long long)p->slurm_job_id, p->slurm_state[0] ? p->slurm_state : "?",
                p->host[0] ? p->host : "no node");
        if (p->slurm_max_rss_bytes != MW_UNKNOWN)
            fprintf(out, ", MaxRSS %s", mw_size_format(p->slurm_max_rss_bytes, a, sizeof a));
        /* issue #16: an ok point's message is the cross-check's note (the
         * others' is shown below) */
        if (p->status == MW_POINT_OK && p->message[0]) fprintf(out, ": %s", p->message);
        fputc('\n', out);
    }
    if (r->launcher_note[0]) fprintf(out, "  %s\n", r->launcher_note);
    /* why the points that did not finish stopped: what ran out, their last words */
    for (size_t i = 0; i < r->n_points; i++) {
        const mw_sweep_point *p = &r->points[i];
        if (p->status == MW_POINT_OK) continue;
        if (p->status == MW_POINT_INTERRUPTED && p->message[0]) { /* the message says it */
            fprintf(out, "  %s %u: %s\n", xn, mw_sweep_point_x(p, axis), p->message);
            continue;
        }
        if (axis == MW_SWEEP_BUDGET) /* issue #15: the budget as a size */
            fprintf(out, "  budget %s: %s", mw_size_format(p->budget_bytes, a, sizeof a), mw_point_status_name(p->status));
        else
        fprintf(out, "  %s %u: %s", xn, mw_sweep_point_x(p, axis), mw_point_status_name(p->status));
        if (p->oom == MW_OOM_CGROUP) fprintf(out, ", killed at the cap");
        else if (p->oom == MW_OOM_GPU) fprintf(out, ", the GPU's memory");
        else if (p->oom == MW_OOM_HOST) fprintf(out, ", the command could not allocate");
        else if (p->status == MW_POINT_FAILED) fprintf(out, ", exit %d", p->exit_code);
        if (p->message[0]) fprintf(out, ": %s", p->message);
        fputc('\n', out);
    }
    const mw_sweep_analysis *an = &r->analysis;
    if (an->fit.valid) put_fit(out, "fit", &an->fit, axis);
    if (an->fit_gpu.valid) put_fit(out, "GPU fit", &an->fit_gpu, axis);
    if (axis == MW_SWEEP_BUDGET) { /* issue #15: x is KiB */
        fprintf(out, "  smallest budget that ran to the end: %s",
                an->max_fit ? mw_size_format((uint64_t)an->max_fit * 1024, a, sizeof a) : "none");
        if (an->first_fail) fprintf(out, " (%s did not)", mw_size_format((uint64_t)an->first_fail * 1024, b, sizeof b));
    } else {
    fprintf(out, "  largest %s that fits: %u", axis == MW_SWEEP_CTX ? "context" : "batch", an->max_fit);
    if (an->first_fail) fprintf(out, " (%u does not)", an->first_fail);
    }
    if (an->knee) fprintf(out, "; knee at %u", an->knee);
    if (an->cliff) fprintf(out, "; cliff at %u", an->cliff);
    fprintf(out, "\n");
    /* a fit that is not a line (R² < 0.9: host memory flat under a GPU
     * workload, or noise) says nothing of far-away batches */
    if (an->fit.valid && an->fit.per_item_bytes > 0 && an->fit.r2 >= 0.9 && r->mem_limit_bytes != MW_UNLIMITED)
        fprintf(out, "  under the cap, the fit gives %s %u\n", xn, mw_sweep_fit_max(&an->fit, r->mem_limit_bytes));
    for (size_t i = 0; i < r->n_what_if; i++)
        fprintf(out, "  what if %s: the %sfit gives %s %u\n", mw_size_format(r->what_if_bytes[i], a, sizeof a),
                an->fit_gpu.valid ? "GPU " : "", xn, r->what_if_max[i]);
    fprintf(out, "%sverdict: %s%s — %s\n", bold, mw_verdict_name(an->overall), reset, an->reason);
    /* how: against this machine's ceilings, or by the curve and why */
    if (an->judged[0]) fprintf(out, "  judged %s\n", an->judged);
    return mw_report_end(out, "sweep report", err);
}

/* A point of "memwall.sweep/1": its JSON Lines object (sweep/jsonl.c, the
 * point format's one definition: measurements only), its verdict and its
 * fractions of this machine's ceilings (null when unknown). */
static cJSON *point_json(const mw_sweep_point *p, mw_verdict v, const mw_ceilings *c)
{
    cJSON *o = mw_sweep_point_to_json(p);
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "verdict", mw_verdict_name(v));
    double bw, fl;
    if (mw_sweep_point_fractions(p, c, &bw, &fl)) {
        cJSON_AddNumberToObject(o, "bandwidth_fraction", bw);
        cJSON_AddNumberToObject(o, "compute_fraction", fl);
    } else {
        cJSON_AddNullToObject(o, "bandwidth_fraction");
        cJSON_AddNullToObject(o, "compute_fraction");
    }
    return o;
}

/* "ceilings": those judged against, or null when none is known. */
static void add_ceilings(cJSON *j, const mw_ceilings *c)
{
    if (!(c->dram_read_bytes_per_second > 0) && !(c->peak_flops_f32 > 0)) {
        cJSON_AddNullToObject(j, "ceilings");
        return;
    }
    cJSON *o = cJSON_AddObjectToObject(j, "ceilings");
    if (!o) return;
    char buf[sizeof c->path + 8];
    if (c->dram_read_bytes_per_second > 0)
        cJSON_AddNumberToObject(o, "dram_read_bytes_per_second", c->dram_read_bytes_per_second);
    else cJSON_AddNullToObject(o, "dram_read_bytes_per_second");
    if (c->peak_flops_f32 > 0) cJSON_AddNumberToObject(o, "peak_flops_f32", c->peak_flops_f32);
    else cJSON_AddNullToObject(o, "peak_flops_f32");
    if (c->threads) cJSON_AddNumberToObject(o, "threads", c->threads);
    else cJSON_AddNullToObject(o, "threads");
    cJSON_AddBoolToObject(o, "noisy", c->noisy != 0);
    if (memchr(c->measured, 0, sizeof c->measured) && c->measured[0])
        cJSON_AddStringToObject(o, "measured", mw_shown_str(c->measured, buf, sizeof buf));
    else cJSON_AddNullToObject(o, "measured");
    if (memchr(c->path, 0, sizeof c->path) && c->path[0])
        cJSON_AddStringToObject(o, "profile", mw_shown_str(c->path, buf, sizeof buf));
    else cJSON_AddNullToObject(o, "profile");
}

mw_status mw_sweep_report_json(const mw_sweep_result *r, FILE *out, mw_err *err)
{
    mw_json_init();
    const uint64_t mark = mw_json_mark();
    cJSON *j = cJSON_CreateObject();
    MW_RETURN_IF(!j, err, MW_ERR_NOMEM, "out of memory writing JSON");
    cJSON_AddStringToObject(j, "schema", "memwall.sweep/1");
    cJSON_AddStringToObject(j, "workload", r->workload);
    mw_json_add_u64(j, "mem_limit_bytes", r->mem_limit_bytes == MW_UNLIMITED ? MW_UNKNOWN : r->mem_limit_bytes);
    /* the keys name the axis: max_fit_batch, or max_fit_ctx along the context */
    const char *xn = mw_sweep_axis_name(r->analysis.axis);
    char key[32];
    cJSON_AddStringToObject(j, "axis", xn);
    snprintf(key, sizeof key, "predicted_max_%s", xn);
    if (r->predicted_max) cJSON_AddNumberToObject(j, key, r->predicted_max);
    else cJSON_AddNullToObject(j, key);
    cJSON *pts = cJSON_AddArrayToObject(j, "points");
    for (size_t i = 0; pts && i < r->n_points; i++) {
        cJSON *p = point_json(&r->points[i], r->verdicts[i], &r->ceilings);
        if (p) cJSON_AddItemToArray(pts, p);
    }
    const mw_sweep_analysis *an = &r->analysis;
    snprintf(key, sizeof key, "max_fit_%s", xn);
    cJSON_AddNumberToObject(j, key, an->max_fit);
    const mw_sweep_fit *fits[] = {&an->fit, &an->fit_gpu};
    for (size_t k = 0; k < 2; k++) {
        cJSON *fit = cJSON_AddObjectToObject(j, k ? "fit_gpu" : "fit");
        if (!fit) continue;
        cJSON_AddBoolToObject(fit, "valid", fits[k]->valid);
        cJSON_AddNumberToObject(fit, "fixed_bytes", fits[k]->fixed_bytes);
        cJSON_AddNumberToObject(fit, "per_item_bytes", fits[k]->per_item_bytes);
        cJSON_AddNumberToObject(fit, "r2", fits[k]->r2);
    }
    snprintf(key, sizeof key, "knee_%s", xn);
    if (an->knee) cJSON_AddNumberToObject(j, key, an->knee);
    else cJSON_AddNullToObject(j, key);
    snprintf(key, sizeof key, "cliff_%s", xn);
    if (an->cliff) cJSON_AddNumberToObject(j, key, an->cliff);
    else cJSON_AddNullToObject(j, key);
    snprintf(key, sizeof key, "max_%s", xn);
    cJSON *wi = cJSON_AddArrayToObject(j, "what_if");
    for (size_t i = 0; wi && i < r->n_what_if; i++) {
        cJSON *x = cJSON_CreateObject();
        if (!x) break;
        cJSON_AddNumberToObject(x, "mem_bytes", (double)r->what_if_bytes[i]);
        cJSON_AddNumberToObject(x, key, r->what_if_max[i]);
        cJSON_AddItemToArray(wi, x);
    }
    cJSON_AddNumberToObject(j, "resumed_points", (double)r->n_resumed);
    /* issue #16: how the points ran ("local", or Slurm's note) */
    cJSON_AddStringToObject(j, "launcher", r->launcher_note[0] ? "slurm" : "local");
    if (r->launcher_note[0]) cJSON_AddStringToObject(j, "launcher_note", r->launcher_note);
    else cJSON_AddNullToObject(j, "launcher_note");
    if (r->interrupted_signal) cJSON_AddStringToObject(j, "interrupted_by", mw_signal_name(r->interrupted_signal));
    else cJSON_AddNullToObject(j, "interrupted_by");
    if (r->stopped.status != MW_OK) cJSON_AddStringToObject(j, "error", r->stopped.msg);
    else cJSON_AddNullToObject(j, "error");
    cJSON_AddStringToObject(j, "verdict", mw_verdict_name(an->overall));
    cJSON_AddStringToObject(j, "reason", an->reason);
    cJSON_AddStringToObject(j, "judged_by", an->by_ceilings ? "ceilings" : "curve");
    cJSON_AddStringToObject(j, "judged", an->judged);
    add_ceilings(j, &r->ceilings);
    if (r->analysis.axis == MW_SWEEP_BUDGET) { /* issue #15: what the shares are of; the slow tier */
        if (r->weights_bytes) cJSON_AddNumberToObject(j, "weights_bytes", (double)r->weights_bytes);
        else cJSON_AddNullToObject(j, "weights_bytes");
        if (r->ceilings.disk_read_bytes_per_second > 0)
            cJSON_AddNumberToObject(j, "disk_read_bytes_per_second", r->ceilings.disk_read_bytes_per_second);
        else cJSON_AddNullToObject(j, "disk_read_bytes_per_second");
    }
    return mw_json_write(j, out, 1, "JSON report", mark, err);
}

mw_status mw_sweep_report_csv(const mw_sweep_result *r, FILE *out, mw_err *err)
{
    fprintf(out, "batch,ctx,status,exit_code,runs,wall_seconds,throughput,peak_rss_bytes,cgroup_peak_bytes,"
                 "swap_peak_bytes,swap_in_bytes,major_faults,refaults,psi_some_seconds,predicted_bytes,peak_gpu_bytes,oom,"
                 "verdict,memory_bytes,memory_source,file_cached_bytes,bandwidth_fraction,compute_fraction%s\n",
            r->analysis.axis == MW_SWEEP_BUDGET /* issue #15 */
                ? ",budget_bytes,mem_limit_bytes,streamed_layers,stream_bytes_per_step,stream_bytes_per_second" : "");
    for (size_t i = 0; i < r->n_points; i++) {
        const mw_sweep_point *p = &r->points[i];
        fprintf(out, "%u,", p->batch);
        if (p->ctx) fprintf(out, "%u", p->ctx);
        fprintf(out, ",%s,%d,%u,%.6f,", mw_point_status_name(p->status), p->exit_code, p->runs,
                p->wall_seconds);
        if (p->throughput >= 0) fprintf(out, "%.6f", p->throughput);
        const uint64_t v[] = {p->peak_rss_bytes, p->cgroup_peak_bytes, p->swap_peak_bytes, p->swap_in_bytes,
                              p->major_faults, p->refaults};
        for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
            fputc(',', out);
            if (v[k] != MW_UNKNOWN) fprintf(out, "%llu", (unsigned long long)v[k]);
        }
        fputc(',', out);
        if (p->psi_some_seconds >= 0) fprintf(out, "%.6f", p->psi_some_seconds);
        fputc(',', out);
        if (p->predicted_bytes != MW_UNKNOWN) fprintf(out, "%llu", (unsigned long long)p->predicted_bytes);
        fputc(',', out);
        if (p->peak_gpu_bytes != MW_UNKNOWN) fprintf(out, "%llu", (unsigned long long)p->peak_gpu_bytes);
        fprintf(out, ",%s,%s,", mw_oom_kind_name(p->oom) ? mw_oom_kind_name(p->oom) : "",
                mw_verdict_name(r->verdicts[i]));
        mw_memory_source src;
        uint64_t mem = mw_sweep_point_memory_of(p, &src);
        if (mem != MW_UNKNOWN) fprintf(out, "%llu", (unsigned long long)mem);
        fprintf(out, ",%s,", mw_memory_source_name(src) ? mw_memory_source_name(src) : "");
        if (p->file_cached_bytes != MW_UNKNOWN) fprintf(out, "%llu", (unsigned long long)p->file_cached_bytes);
        double bw, fl;
        if (mw_sweep_point_fractions(p, &r->ceilings, &bw, &fl)) fprintf(out, ",%.6f,%.6f", bw, fl);
        else fputs(",,", out);
        if (r->analysis.axis == MW_SWEEP_BUDGET) { /* issue #15 */
            fprintf(out, ",%llu,", (unsigned long long)p->budget_bytes);
            if (p->mem_limit_bytes != MW_UNKNOWN) fprintf(out, "%llu", (unsigned long long)p->mem_limit_bytes);
            fprintf(out, ",%u,", p->streamed_layers);
            if (p->stream_bytes_per_step != MW_UNKNOWN) fprintf(out, "%llu", (unsigned long long)p->stream_bytes_per_step);
            fputc(',', out);
            if (p->stream_bytes_per_second >= 0) fprintf(out, "%.0f", p->stream_bytes_per_second);
        }
        fputc('\n', out);
    }
    return mw_report_end(out, "CSV report", err);
}
