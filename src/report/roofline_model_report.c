/*
 * roofline_model_report.c - `memwall roofline MODEL` as a table with one
 * sentence a point, and as "memwall.roofline-model/1" JSON (docs/JSON.md).
 * Unknown figures (a ceiling not measured) are "-" in text and null in JSON.
 */
#include "memwall.h"
#include "common/error.h"
#include "common/json.h"
#include "report/json_util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* "104 GFLOP/s", three significant digits, SI prefixes; "-" when unknown. */
static const char *si(double v, const char *unit, char *buf, size_t cap)
{
    if (!(v > 0) || !isfinite(v)) {
        snprintf(buf, cap, "-");
        return buf;
    }
    static const char *const pre[] = {"", "k", "M", "G", "T", "P"};
    int i = 0;
    while (v >= 1000 && i < 5) {
        v /= 1000;
        i++;
    }
    snprintf(buf, cap, v >= 100 ? "%.0f %s%s" : v >= 10 ? "%.1f %s%s" : "%.2f %s%s", v, pre[i], unit);
    return buf;
}

static const char *num(double v, char *buf, size_t cap)
{
    if (!(v >= 0) || !isfinite(v)) snprintf(buf, cap, "-");
    else snprintf(buf, cap, v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v);
    return buf;
}

/* The sentence of one point (no newline). */
static void sentence(const mw_placement *p, const mw_place_point *pt, FILE *out)
{
    char a[32], b[32], c[32], d[32];
    if (pt->prefill) fprintf(out, "prefill of %u tokens: ", pt->tokens);
    else fprintf(out, "batch %u: ", pt->batch);
    fprintf(out, "%s FLOP/byte", num(pt->intensity, a, sizeof a));
    if (pt->bound == MW_PLACE_BOUND_BANDWIDTH)
        fprintf(out, ", below the ridge (%s): memory bandwidth binds", num(p->ridge, b, sizeof b));
    else if (pt->bound == MW_PLACE_BOUND_COMPUTE)
        fprintf(out, ", at or above the ridge (%s): the FP32 peak binds", num(p->ridge, b, sizeof b));
    else fprintf(out, ", against an unknown ceiling (not measured): no bound");
    fprintf(out, "; attainable %s", si(pt->attainable_flops_per_second, "FLOP/s", c, sizeof c));
    if (pt->fits_in[0])
        fprintf(out, " (its %s a step would fit in %s; placed against DRAM all the same)",
                mw_size_format((uint64_t)pt->bytes, d, sizeof d), pt->fits_in);
    if (pt->measured) {
        fprintf(out, "; measured %s", si(pt->measured_flops_per_second, "FLOP/s", a, sizeof a));
        if (pt->prefill) fprintf(out, ", %s of it", num(pt->fraction, b, sizeof b));
        else
        {
            /* the run's context is short: its intensity, and so its bound, may differ */
            int cross = p->ridge > 0 && (pt->measured_intensity < p->ridge) != (pt->intensity < p->ridge);
            fprintf(out, " and %s at prompt %u, gen %u (%s FLOP/byte%s), %s of the attainable there",
                    si(pt->measured_bytes_per_second, "B/s", d, sizeof d), pt->measured_prompt, pt->measured_gen,
                    num(pt->measured_intensity, c, sizeof c),
                    !cross ? "" : pt->measured_intensity < p->ridge ? ", where bandwidth binds" : ", where compute binds",
                    num(pt->fraction, b, sizeof b));
        }
    }
}

mw_status mw_placement_report_text(const mw_placement *p, FILE *out, unsigned flags, mw_err *err)
{
    const char *bold = flags & MW_REPORT_COLOR ? "\033[1m" : "", *reset = flags & MW_REPORT_COLOR ? "\033[0m" : "";
    char a[32], b[32], c[32], d[32], e[32];
    int any_measured = 0;
    for (size_t i = 0; i < p->n_points; i++) any_measured |= p->points[i].measured;
    const mw_ceilings *cl = &p->ceilings;
    fprintf(out, "%s%s on this machine's roofline%s (%s parameters, %s of weights)\n", bold, p->model, reset,
            si((double)p->params, "", a, sizeof a), mw_size_format(p->weights_bytes, b, sizeof b));
    fprintf(out, "Ceilings (%u threads%s): DRAM read %s, FP32 peak %s: ridge %s FLOP/byte\n", cl->threads,
            cl->noisy ? ", noisy" : "", si(cl->dram_read_bytes_per_second, "B/s", c, sizeof c),
            si(cl->peak_flops_f32, "FLOP/s", d, sizeof d), num(p->ridge, e, sizeof e));
    const mw_place_point *last = p->n_points ? &p->points[p->n_points - 1] : NULL;
    if (p->n_points > 1)
        fprintf(out, "Decode: one step of the batch at context %u; prefill: %u tokens at batch 1\n",
                p->points[0].ctx, last->tokens);
    fprintf(out, "\n%-8s %10s %14s %10s", "point", "FLOP/byte", "attainable", "bound");
    if (any_measured) fprintf(out, " %14s %10s %9s", "measured", "at F/B", "fraction");
    fprintf(out, "\n");
    for (size_t i = 0; i < p->n_points; i++) {
        const mw_place_point *pt = &p->points[i];
        fprintf(out, "%-8s %10s %14s %10s", pt->label, num(pt->intensity, a, sizeof a),
                si(pt->attainable_flops_per_second, "FLOP/s", b, sizeof b), mw_place_bound_name(pt->bound));
        if (any_measured)
            fprintf(out, " %14s %10s %9s",
                    pt->measured ? si(pt->measured_flops_per_second, "FLOP/s", c, sizeof c) : "-",
                    pt->measured ? num(pt->measured_intensity, e, sizeof e) : "-",
                    pt->measured ? num(pt->fraction, d, sizeof d) : "-");
        fprintf(out, "\n");
    }
    fprintf(out, "\n");
    for (size_t i = 0; i < p->n_points; i++) {
        sentence(p, &p->points[i], out);
        fprintf(out, ".\n");
    }
    return mw_report_end(out, "the placement report", err);
}

/* v, or null when not a positive finite number. */
static void add_pos(cJSON *o, const char *key, double v)
{
    if (v > 0 && isfinite(v)) cJSON_AddNumberToObject(o, key, v);
    else cJSON_AddNullToObject(o, key);
}

mw_status mw_placement_report_json(const mw_placement *p, FILE *out, mw_err *err)
{
    mw_json_init();
    const uint64_t mark = mw_json_mark();
    cJSON *o = cJSON_CreateObject();
    MW_RETURN_IF(!o, err, MW_ERR_NOMEM, "out of memory writing the JSON report");
    cJSON_AddStringToObject(o, "schema", "memwall.roofline-model/1");
    cJSON *m = cJSON_AddObjectToObject(o, "model");
    if (m) {
        cJSON_AddStringToObject(m, "name", p->model);
        cJSON_AddNumberToObject(m, "params", (double)p->params);
        cJSON_AddNumberToObject(m, "weights_bytes", (double)p->weights_bytes);
    }
    cJSON *c = cJSON_AddObjectToObject(o, "ceilings");
    if (c) {
        add_pos(c, "dram_read_bytes_per_second", p->ceilings.dram_read_bytes_per_second);
        add_pos(c, "peak_flops_f32", p->ceilings.peak_flops_f32);
        add_pos(c, "peak_flops_bf16", p->ceilings.peak_flops_bf16);
        add_pos(c, "peak_ops_int8", p->ceilings.peak_ops_int8);
        cJSON_AddNumberToObject(c, "threads", p->ceilings.threads);
        cJSON_AddBoolToObject(c, "noisy", p->ceilings.noisy);
        if (p->ceilings.path[0]) cJSON_AddStringToObject(c, "profile", p->ceilings.path);
        else cJSON_AddNullToObject(c, "profile");
    }
    add_pos(o, "ridge_flop_per_byte", p->ridge);
    cJSON *lv = cJSON_AddArrayToObject(o, "levels");
    for (size_t l = 0; lv && l < p->n_levels; l++) {
        cJSON *x = cJSON_CreateObject();
        if (!x) break;
        cJSON_AddStringToObject(x, "name", p->levels[l].name);
        cJSON_AddNumberToObject(x, "bytes", (double)p->levels[l].bytes);
        add_pos(x, "read_bytes_per_second", p->levels[l].read_bytes_per_second);
        cJSON_AddItemToArray(lv, x);
    }
    cJSON *pts = cJSON_AddArrayToObject(o, "points");
    for (size_t i = 0; pts && i < p->n_points; i++) {
        const mw_place_point *pt = &p->points[i];
        cJSON *x = cJSON_CreateObject();
        if (!x) break;
        cJSON_AddStringToObject(x, "label", pt->label);
        cJSON_AddStringToObject(x, "kind", pt->prefill ? "prefill" : "decode");
        cJSON_AddNumberToObject(x, "batch", pt->batch);
        cJSON_AddNumberToObject(x, "tokens", pt->tokens);
        cJSON_AddNumberToObject(x, "ctx", pt->ctx);
        cJSON_AddNumberToObject(x, "flops", pt->flops);
        cJSON_AddNumberToObject(x, "bytes", pt->bytes);
        add_pos(x, "intensity", pt->intensity);
        add_pos(x, "attainable_flops_per_second", pt->attainable_flops_per_second);
        cJSON_AddStringToObject(x, "bound", mw_place_bound_name(pt->bound));
        if (pt->fits_in[0]) cJSON_AddStringToObject(x, "fits_in", pt->fits_in);
        else cJSON_AddNullToObject(x, "fits_in");
        if (!pt->measured) {
            cJSON_AddNullToObject(x, "measured");
        } else {
            cJSON *y = cJSON_AddObjectToObject(x, "measured");
            if (y) {
                cJSON_AddNumberToObject(y, "prompt", pt->measured_prompt);
                cJSON_AddNumberToObject(y, "gen", pt->measured_gen);
                mw_json_add_seconds(y, "seconds", pt->measured_seconds);
                cJSON_AddNumberToObject(y, "flops", pt->measured_flops);
                cJSON_AddNumberToObject(y, "bytes", pt->measured_bytes);
                add_pos(y, "intensity", pt->measured_intensity);
                add_pos(y, "attainable_flops_per_second", pt->measured_attainable_flops_per_second);
                add_pos(y, "flops_per_second", pt->measured_flops_per_second);
                add_pos(y, "bytes_per_second", pt->measured_bytes_per_second);
                add_pos(y, "fraction", pt->fraction);
            }
        }
        cJSON_AddItemToArray(pts, x);
    }
    return mw_json_write(o, out, 1, "JSON report", mark, err);
}
