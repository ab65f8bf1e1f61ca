/*
 * roofline_report.c - `memwall roofline` as a table and as
 * "memwall.roofline/1" JSON. Rates are the best of the repetitions; the
 * spread (min, median, max) goes to JSON, and a noisy figure is marked
 * with '~' in the table and "noisy": true in JSON - flagged, not hidden.
 */
#include "memwall.h"
#include "common/error.h"
#include "common/json.h"
#include "report/json_util.h"
#include "report/roofline_doc.h"

#include <stdio.h>
#include <string.h>

static const char *const kernel_names[MW_RL_KERNELS] = {"read", "write", "copy", "triad"};

static int known(const mw_roofline_figure *f) { return f->max > 0; }

/* "12.3 GB/s~" (SI units: bandwidth is quoted in decimal), "-" when unknown. */
static const char *rate_text(const mw_roofline_figure *f, const char *unit, char *buf, size_t cap)
{
    if (!known(f)) { snprintf(buf, cap, "-"); return buf; }
    double v = f->max;
    const char *p = "";
    if (v >= 1e12) { v /= 1e12; p = "T"; }
    else if (v >= 1e9) { v /= 1e9; p = "G"; }
    else if (v >= 1e6) { v /= 1e6; p = "M"; }
    snprintf(buf, cap, "%.1f %s%s%s", v, p, unit, f->noisy ? "~" : "");
    return buf;
}

mw_status mw_roofline_report_text(const mw_roofline_result *r, FILE *out, unsigned flags, mw_err *err)
{
    const char *bold = flags & MW_REPORT_COLOR ? "\033[1m" : "", *reset = flags & MW_REPORT_COLOR ? "\033[0m" : "";
    char a[32], b[32], c[32], d[32], e[32], f[32], g[32];
    fprintf(out, "%sThis machine's ceilings%s (%s kernels, 1 and %u threads, measured in %.1f s)\n\n", bold, reset,
            r->isa, r->threads, r->seconds);
    fprintf(out, "Caches (sysfs):");
    static const char *const cn[4] = {"L1d", "L2", "L3", "L4"};
    int ncache = 0;
    for (int i = 0; i < 4; i++)
        if (r->sysfs_cache_bytes[i] != MW_UNKNOWN) {
            fprintf(out, " %s %s", cn[i], mw_size_format(r->sysfs_cache_bytes[i], a, sizeof a));
            ncache++;
        }
    if (!ncache) fprintf(out, " none listed (some VMs hide them): the levels below are the measured curve's plateaus");
    fprintf(out, "\n");
    if (r->shrunk) fprintf(out, "Note: %s\n", r->shrunk_reason);
    fprintf(out, "\n%-6s %-12s %-9s %-13s %-13s %-13s %-13s %-13s\n", "level", "working set", "sysfs",
            "read 1T", "read all", "write all", "copy all", "triad all");
    for (size_t l = 0; l < r->n_levels; l++) {
        const mw_roofline_level *lv = &r->levels[l];
        fprintf(out, "%-6s %-12s %-9s %-13s %-13s %-13s %-13s %-13s\n", lv->name,
                mw_size_format(lv->bytes, a, sizeof a), mw_size_format(lv->sysfs_bytes, b, sizeof b),
                rate_text(&lv->bw[MW_RL_READ][0], "B/s", c, sizeof c),
                rate_text(&lv->bw[MW_RL_READ][1], "B/s", d, sizeof d),
                rate_text(&lv->bw[MW_RL_WRITE][1], "B/s", e, sizeof e),
                rate_text(&lv->bw[MW_RL_COPY][1], "B/s", g, sizeof g),
                rate_text(&lv->bw[MW_RL_TRIAD][1], "B/s", f, sizeof f));
    }
    fprintf(out, "\n%-10s %-16s %-16s\n", "peak", "1 thread", "all threads");
    fprintf(out, "%-10s %-16s %-16s\n", "FP32 FMA", rate_text(&r->flops_f32[0], "FLOP/s", a, sizeof a),
            rate_text(&r->flops_f32[1], "FLOP/s", b, sizeof b));
    if (known(&r->flops_bf16[0]))
        fprintf(out, "%-10s %-16s %-16s\n", "BF16 dot", rate_text(&r->flops_bf16[0], "FLOP/s", a, sizeof a),
                rate_text(&r->flops_bf16[1], "FLOP/s", b, sizeof b));
    else
        fprintf(out, "%-10s -  (%s)\n", "BF16 dot", r->bf16_reason);
    if (known(&r->ops_int8[0]))
        fprintf(out, "%-10s %-16s %-16s\n", "INT8 dot", rate_text(&r->ops_int8[0], "OP/s", a, sizeof a),
                rate_text(&r->ops_int8[1], "OP/s", b, sizeof b));
    else
        fprintf(out, "%-10s -  (%s)\n", "INT8 dot", r->int8_reason);
    if (r->n_tiers) {
        fprintf(out, "\n%-17s %-13s %-26s %s\n", "tier", "rate", "against DRAM read", "how, or why not");
        for (size_t i = 0; i < r->n_tiers; i++) {
            const mw_roofline_tier *t = &r->tiers[i];
            char sl[40] = "-";
            if (known(&t->bw) && t->slowdown > 0) {
                if (t->slowdown >= 1) snprintf(sl, sizeof sl, "x %.3g slower than DRAM", t->slowdown);
                else snprintf(sl, sizeof sl, "x %.3g faster than DRAM", 1 / t->slowdown);
            }
            fprintf(out, "%-17s %-13s %-26s %s\n", t->name, rate_text(&t->bw, "B/s", a, sizeof a), sl,
                    known(&t->bw) ? t->method : t->reason);
        }
        if (r->gpu_name[0]) fprintf(out, "GPU: %s\n", r->gpu_name);
    }
    if (r->interrupted_signal)
        fprintf(out, "\nInterrupted by %s: what was not measured is shown as -\n",
                mw_signal_name(r->interrupted_signal));
    fprintf(out, "\n~ noisy: the repetitions spread by more than %.0f%%, or one shared a CPU with another process"
                 " (best shown; --json has the spread)\n",
            MW_ROOFLINE_NOISY * 100);
    return mw_report_end(out, "roofline report", err);
}

/* {"best", "min", "median", "max", "noisy"}, or null when not measured. */
static void add_figure(cJSON *o, const char *key, const mw_roofline_figure *f)
{
    if (!known(f)) { cJSON_AddNullToObject(o, key); return; }
    cJSON *x = cJSON_AddObjectToObject(o, key);
    if (!x) return;
    cJSON_AddNumberToObject(x, "best", f->max);
    cJSON_AddNumberToObject(x, "min", f->min);
    cJSON_AddNumberToObject(x, "median", f->median);
    cJSON_AddNumberToObject(x, "max", f->max);
    cJSON_AddBoolToObject(x, "noisy", f->noisy);
}

static void add_best(cJSON *o, const char *key, const mw_roofline_figure *f)
{
    if (known(f)) cJSON_AddNumberToObject(o, key, f->max);
    else cJSON_AddNullToObject(o, key);
}

/* {"one_thread": figure, "all_threads": figure} per kernel; bw is a
 * [MW_RL_KERNELS][2] array, flat */
static void add_kernels(cJSON *o, const mw_roofline_figure *bw)
{
    for (int k = 0; k < MW_RL_KERNELS; k++) {
        cJSON *x = cJSON_AddObjectToObject(o, kernel_names[k]);
        if (!x) continue;
        add_figure(x, "one_thread", &bw[k * 2]);
        add_figure(x, "all_threads", &bw[k * 2 + 1]);
    }
}

cJSON *mw_roofline_json_doc(const mw_roofline_result *r)
{
    mw_json_init();
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "schema", "memwall.roofline/1");
    cJSON_AddStringToObject(o, "isa", r->isa);
    cJSON_AddNumberToObject(o, "threads", r->threads);
    cJSON_AddNumberToObject(o, "seconds", r->seconds);
    const mw_roofline_level *dram = r->n_levels ? &r->levels[r->n_levels - 1] : NULL;
    const mw_roofline_figure none = {-1, -1, -1, 0};
    add_best(o, "dram_read_bytes_per_second", dram ? &dram->bw[MW_RL_READ][1] : &none);
    add_best(o, "dram_read_bytes_per_second_one_thread", dram ? &dram->bw[MW_RL_READ][0] : &none);
    add_best(o, "peak_flops_f32", &r->flops_f32[1]);
    add_best(o, "peak_flops_f32_one_thread", &r->flops_f32[0]);
    cJSON *peaks = cJSON_AddObjectToObject(o, "peaks");
    if (peaks) {
        static const char *const names[3] = {"f32_fma", "bf16_dot", "int8_dot"};
        const mw_roofline_figure *fs[3] = {r->flops_f32, r->flops_bf16, r->ops_int8};
        const char *why[3] = {NULL, r->bf16_reason, r->int8_reason};
        for (int i = 0; i < 3; i++) {
            cJSON *x = cJSON_AddObjectToObject(peaks, names[i]);
            if (!x) continue;
            add_figure(x, "one_thread", &fs[i][0]);
            add_figure(x, "all_threads", &fs[i][1]);
            if (!known(&fs[i][0]) && why[i]) cJSON_AddStringToObject(x, "reason", why[i]);
            else cJSON_AddNullToObject(x, "reason");
        }
    }
    cJSON *caches = cJSON_AddObjectToObject(o, "sysfs_caches");
    if (caches) {
        mw_json_add_u64(caches, "l1d_bytes", r->sysfs_cache_bytes[0]);
        mw_json_add_u64(caches, "l2_bytes", r->sysfs_cache_bytes[1]);
        mw_json_add_u64(caches, "l3_bytes", r->sysfs_cache_bytes[2]);
        mw_json_add_u64(caches, "l4_bytes", r->sysfs_cache_bytes[3]);
    }
    cJSON_AddNumberToObject(o, "max_working_set_bytes", (double)r->max_bytes);
    cJSON_AddBoolToObject(o, "shrunk", r->shrunk);
    if (r->shrunk) cJSON_AddStringToObject(o, "shrunk_reason", r->shrunk_reason);
    else cJSON_AddNullToObject(o, "shrunk_reason");
    cJSON *levels = cJSON_AddArrayToObject(o, "levels");
    for (size_t l = 0; levels && l < r->n_levels; l++) {
        const mw_roofline_level *lv = &r->levels[l];
        cJSON *x = cJSON_CreateObject();
        if (!x) break;
        cJSON_AddStringToObject(x, "name", lv->name);
        cJSON_AddNumberToObject(x, "bytes", (double)lv->bytes);
        mw_json_add_u64(x, "sysfs_bytes", lv->sysfs_bytes);
        add_best(x, "read_bytes_per_second", &lv->bw[MW_RL_READ][1]);
        add_best(x, "read_bytes_per_second_one_thread", &lv->bw[MW_RL_READ][0]);
        add_kernels(x, &lv->bw[0][0]);
        cJSON_AddItemToArray(levels, x);
    }
    cJSON *curve = cJSON_AddArrayToObject(o, "curve");
    for (size_t p = 0; curve && p < r->n_points; p++) {
        cJSON *x = cJSON_CreateObject();
        if (!x) break;
        cJSON_AddNumberToObject(x, "bytes", (double)r->points[p].bytes);
        add_kernels(x, &r->points[p].bw[0][0]);
        cJSON_AddItemToArray(curve, x);
    }
    cJSON *tiers = cJSON_AddArrayToObject(o, "tiers");
    for (size_t i = 0; tiers && i < r->n_tiers; i++) {
        const mw_roofline_tier *t = &r->tiers[i];
        cJSON *x = cJSON_CreateObject();
        if (!x) break;
        cJSON_AddStringToObject(x, "name", t->name);
        add_best(x, "bytes_per_second", &t->bw);
        const double mmm[3] = {t->bw.min, t->bw.median, t->bw.max};
        static const char *const keys[3] = {"min", "median", "max"};
        for (int k = 0; k < 3; k++) {
            if (known(&t->bw)) cJSON_AddNumberToObject(x, keys[k], mmm[k]);
            else cJSON_AddNullToObject(x, keys[k]);
        }
        cJSON_AddBoolToObject(x, "noisy", t->bw.noisy);
        if (known(&t->bw) && t->slowdown > 0) cJSON_AddNumberToObject(x, "slowdown", t->slowdown);
        else cJSON_AddNullToObject(x, "slowdown");
        cJSON_AddNumberToObject(x, "bytes", (double)t->bytes);
        if (t->method[0]) cJSON_AddStringToObject(x, "method", t->method);
        else cJSON_AddNullToObject(x, "method");
        if (t->reason[0]) cJSON_AddStringToObject(x, "reason", t->reason);
        else cJSON_AddNullToObject(x, "reason");
        cJSON_AddItemToArray(tiers, x);
    }
    if (r->gpu_name[0]) cJSON_AddStringToObject(o, "gpu_name", r->gpu_name);
    else cJSON_AddNullToObject(o, "gpu_name");
    if (r->interrupted_signal) cJSON_AddStringToObject(o, "interrupted_by", mw_signal_name(r->interrupted_signal));
    else cJSON_AddNullToObject(o, "interrupted_by");
    return o;
}

mw_status mw_roofline_report_json(const mw_roofline_result *r, FILE *out, mw_err *err)
{
    mw_json_init();
    const uint64_t mark = mw_json_mark();
    cJSON *o = mw_roofline_json_doc(r);
    MW_RETURN_IF(!o, err, MW_ERR_NOMEM, "out of memory writing the JSON report");
    return mw_json_write(o, out, 1, "JSON report", mark, err);
}
