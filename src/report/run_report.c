/* run_report.c - `memwall run`: speed, and memory measured next to the
 * plan's prediction, as text or JSON ("memwall.run/1"). */
#include "memwall.h"
#include "common/error.h"
#include "common/json.h"
#include "common/utf8.h"
#include "report/json_util.h"
#include "report/ceilings.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const mw_component shown[] = {MW_COMP_WEIGHTS, MW_COMP_KV_CACHE, MW_COMP_ACTIVATIONS,
                                     MW_COMP_SCRATCH};

/* The decode step's achieved rates (the plan's bytes and FLOPs of a step
 * over its measured median time) as fractions of this machine's DRAM read
 * bandwidth and FP32 peak. @return 0 when either is unknown. */
static int decode_fractions(const mw_run_result *r, const mw_ceilings *c, double *bytes_per_s, double *flops_per_s,
                            double *bw, double *comp)
{
    if (!mw_ceilings_usable(c) || !r->gen_tokens || !(r->decode_step_seconds > 0) ||
        !(r->predicted.decode_step_bytes > 0) || !(r->predicted.decode_step_flops > 0))
        return 0;
    *bytes_per_s = r->predicted.decode_step_bytes / r->decode_step_seconds;
    *flops_per_s = r->predicted.decode_step_flops / r->decode_step_seconds;
    *bw = *bytes_per_s / c->dram_read_bytes_per_second;
    *comp = *flops_per_s / c->peak_flops_f32;
    return 1;
}

/* "decode: 0.93 of this machine's DRAM read bandwidth (...), 0.11 of its
 * FP32 peak (...): memory bandwidth binds", and where the figures are from. */
static void ceilings_text(const mw_run_result *r, const mw_ceilings *c, FILE *out)
{
    if (!r->gen_tokens) return;
    if (!mw_ceilings_usable(c)) {
        fprintf(out, "  (no machine profile: run memwall roofline to judge against this machine's ceilings)\n");
        return;
    }
    double bps, fps, bw, comp;
    if (!decode_fractions(r, c, &bps, &fps, &bw, &comp)) return;
    char a[48], b[48];
    fprintf(out, "  decode: %.2f of this machine's DRAM read bandwidth (%s), %.2f of its FP32 peak (%s): ", bw,
            mw_rate_pair_format(bps, c->dram_read_bytes_per_second, "B/s", a, sizeof a), comp,
            mw_rate_pair_format(fps, c->peak_flops_f32, "FLOP/s", b, sizeof b));
    const char *binds = mw_ceilings_binds(bw, comp);
    if (!strcmp(binds, "bandwidth")) fprintf(out, "memory bandwidth binds\n");
    else if (!strcmp(binds, "compute")) fprintf(out, "compute binds\n");
    else
        fprintf(out, "below both ceilings (%.2f of compute, %.2f of bandwidth): overhead or parallelism, not the "
                "hardware\n", comp, bw);
    fprintf(out, "  (machine profile %s, measured %s%s)\n", c->path[0] ? c->path : "(this run's roofline)",
            c->measured, c->noisy ? "; its figures were noisy" : "");
}

/* issue #15, paging under a memory budget (docs/PAGING.md): with a
 * budget, what was streamed and how fast. */
static void paging_text(const mw_run_result *r, FILE *out)
{
    const mw_budget_split *sp = &r->split;
    if (!sp->n_layers) return;
    char a[32], b[32];
    if (!r->paging) {
        fprintf(out, "  paging: none, all %u layers fit the budget %s (resident weights %s)\n", sp->n_layers,
                mw_size_format(sp->budget_bytes, a, sizeof a), mw_size_format(sp->resident_bytes, b, sizeof b));
        return;
    }
    double gbs = r->stream_read_seconds > 0 ? (double)r->stream_bytes_read / r->stream_read_seconds / 1e9 : 0;
    fprintf(out, "  paging: %u of %u layers streamed, %.1f MiB per step, read at %.2f GB/s (%s); ",
            sp->streamed_layers, sp->n_layers, (double)sp->streamed_bytes_per_step / 1048576.0, gbs,
            r->stream_io == MW_STREAM_IO_DIRECT ? "O_DIRECT" : "buffered, dropped from the page cache");
    fprintf(out, "resident weights %s of budget %s\n", mw_size_format(sp->resident_bytes, a, sizeof a),
            mw_size_format(sp->budget_bytes, b, sizeof b));
    fprintf(out, "  paging: %u buffers of %.1f MiB, %.1f MiB read in %.3f s, forward pass waited %.3f s\n",
            sp->slots, (double)sp->slot_bytes / 1048576.0, (double)r->stream_bytes_read / 1048576.0,
            r->stream_read_seconds, r->stream_wait_seconds);
}

mw_status mw_run_report_text(const mw_run_result *r, const mw_ceilings *ceilings, FILE *out, unsigned flags,
                             mw_err *err)
{
    const char *bold = flags & MW_REPORT_COLOR ? "\033[1m" : "", *reset = flags & MW_REPORT_COLOR ? "\033[0m" : "";
    char a[32], b[32], c[32];
    fprintf(out, "%smemwall run:%s %s, batch %u, %u threads\n", bold, reset, r->model, r->batch, r->threads);
    fprintf(out, "  %-18s %.3f s\n", "load", r->load_seconds);
    fprintf(out, "  %-18s %llu tokens in %.3f s: %.1f tokens/s\n", "prompt",
            (unsigned long long)r->prompt_tokens, r->prompt_seconds, r->prompt_tokens_per_second);
    if (r->gen_tokens)
        fprintf(out, "  %-18s %llu tokens in %.3f s: %.1f tokens/s (%.2f ms per step of %u)\n", "decode",
                (unsigned long long)r->gen_tokens, r->decode_seconds, r->decode_tokens_per_second,
                r->decode_step_seconds * 1e3, r->batch);
    ceilings_text(r, ceilings, out);
    fprintf(out, "%s  %-18s %12s %12s %10s%s\n", bold, "memory", "measured", "predicted", "difference", reset);
    for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++) {
        mw_component k = shown[i];
        uint64_t m = r->measured[k], p = r->predicted.bytes[k];
        double d = p ? 100.0 * ((double)m - (double)p) / (double)p : (m ? INFINITY : 0);
        fprintf(out, "  %-18s %12s %12s %+9.2f%%%s\n", mw_component_name(k), mw_size_format(m, a, sizeof a),
                mw_size_format(p, b, sizeof b), d,
                k == MW_COMP_WEIGHTS && r->weights_mapped ? "  (mapped from the file)" : "");
    }
    fprintf(out, "  %-18s %12s %12s  (the plan's runtime overhead: %s to %s)\n", "", "", "",
            mw_size_format(r->predicted.bytes[MW_COMP_OVERHEAD], a, sizeof a),
            mw_size_format(r->predicted.overhead_high_bytes, c, sizeof c));
    paging_text(r, out); /* issue #15 */
    return mw_report_end(out, "run report", err);
}

static void breakdown(cJSON *o, const uint64_t *bytes)
{
    cJSON_AddNumberToObject(o, "weights_bytes", (double)bytes[MW_COMP_WEIGHTS]);
    cJSON_AddNumberToObject(o, "kv_cache_bytes", (double)bytes[MW_COMP_KV_CACHE]);
    cJSON_AddNumberToObject(o, "activations_bytes", (double)bytes[MW_COMP_ACTIVATIONS]);
    cJSON_AddNumberToObject(o, "scratch_bytes", (double)bytes[MW_COMP_SCRATCH]);
}

mw_status mw_run_report_json(const mw_run_result *r, const mw_ceilings *c, FILE *out, mw_err *err)
{
    mw_json_init();
    /* cJSON_Add* drop a key quietly when an allocation fails: count the
     * failures, so a report with a key missing is an error, not output */
    const uint64_t mark = mw_json_mark();
    cJSON *j = cJSON_CreateObject();
    MW_RETURN_IF(!j, err, MW_ERR_NOMEM, "out of memory writing the JSON report");
    cJSON_AddStringToObject(j, "schema", "memwall.run/1");
    cJSON_AddStringToObject(j, "model", r->model);
    cJSON_AddNumberToObject(j, "batch", r->batch);
    cJSON_AddNumberToObject(j, "threads", r->threads);
    cJSON_AddNumberToObject(j, "prompt_tokens", (double)r->prompt_tokens);
    cJSON_AddNumberToObject(j, "gen_tokens", (double)r->gen_tokens);
    cJSON_AddNumberToObject(j, "load_seconds", r->load_seconds);
    cJSON_AddNumberToObject(j, "prompt_seconds", r->prompt_seconds);
    cJSON_AddNumberToObject(j, "decode_seconds", r->decode_seconds);
    cJSON_AddNumberToObject(j, "prompt_tokens_per_second", r->prompt_tokens_per_second);
    if (r->gen_tokens) {
        cJSON_AddNumberToObject(j, "decode_tokens_per_second", r->decode_tokens_per_second);
        cJSON_AddNumberToObject(j, "decode_step_seconds", r->decode_step_seconds);
    } else {
        cJSON_AddNullToObject(j, "decode_tokens_per_second");
        cJSON_AddNullToObject(j, "decode_step_seconds");
    }
    double bps, fps, bw, comp;
    if (mw_ceilings_usable(c)) {
        cJSON *x = cJSON_AddObjectToObject(j, "ceilings");
        if (x) {
            mw_json_add_ceilings_source(x, c);
            if (decode_fractions(r, c, &bps, &fps, &bw, &comp)) {
                cJSON_AddNumberToObject(x, "decode_bytes_per_second", bps);
                cJSON_AddNumberToObject(x, "decode_flops_per_second", fps);
                cJSON_AddNumberToObject(x, "bandwidth_fraction", bw);
                cJSON_AddNumberToObject(x, "compute_fraction", comp);
                cJSON_AddStringToObject(x, "binds", mw_ceilings_binds(bw, comp));
            } else {
                /* no decode step to judge (--gen 0) */
                cJSON_AddNullToObject(x, "decode_bytes_per_second");
                cJSON_AddNullToObject(x, "decode_flops_per_second");
                cJSON_AddNullToObject(x, "bandwidth_fraction");
                cJSON_AddNullToObject(x, "compute_fraction");
                cJSON_AddNullToObject(x, "binds");
            }
        }
    } else {
        cJSON_AddNullToObject(j, "ceilings");
    }
    cJSON *m = cJSON_AddObjectToObject(j, "measured");
    if (m) {
        breakdown(m, r->measured);
        cJSON_AddBoolToObject(m, "weights_mapped", r->weights_mapped);
    }
    cJSON *p = cJSON_AddObjectToObject(j, "predicted");
    if (p) {
        breakdown(p, r->predicted.bytes);
        cJSON_AddNumberToObject(p, "overhead_low_bytes", (double)r->predicted.bytes[MW_COMP_OVERHEAD]);
        cJSON_AddNumberToObject(p, "overhead_high_bytes", (double)r->predicted.overhead_high_bytes);
    }
    cJSON *g = cJSON_AddArrayToObject(j, "generated");
    for (uint32_t s = 0; g && s < r->batch; s++) {
        cJSON *row = cJSON_CreateArray();
        if (!row) break;
        uint32_t n = r->gen_lens ? r->gen_lens[s] : r->gen_per_seq;   /* up to its stop token */
        for (uint32_t t = 0; t < n && t < r->gen_per_seq; t++)
            cJSON_AddItemToArray(row, cJSON_CreateNumber(r->generated[(size_t)s * r->gen_per_seq + t]));
        cJSON_AddItemToArray(g, row);
    }
    if (r->texts) {
        /* the generated text of each sequence, after the prompt's tokens */
        cJSON *t = cJSON_AddObjectToObject(j, "text");
        if (t) {
            cJSON_AddNumberToObject(t, "prompt_tokens", r->prompt_text_tokens);
            cJSON *arr = cJSON_AddArrayToObject(t, "generated");
            for (uint32_t s = 0; arr && s < r->batch; s++) {
                /* a model may end on a partial character: JSON needs UTF-8 */
                const char *txt = r->texts[s] ? r->texts[s] : "";
                char *fixed = mw_utf8_repair(txt, strlen(txt), NULL);
                cJSON_AddItemToArray(arr, cJSON_CreateString(fixed ? fixed : ""));
                mw_free(fixed);
            }
        }
    }
    if (r->split.n_layers) { /* issue #15, paging (docs/JSON.md) */
        const mw_budget_split *sp = &r->split;
        cJSON *pg = cJSON_AddObjectToObject(j, "paging");
        if (pg) {
            mw_json_add_budget_split(pg, sp);
            if (r->paging) cJSON_AddStringToObject(pg, "stream_io", mw_stream_io_name(r->stream_io));
            else cJSON_AddNullToObject(pg, "stream_io");
            cJSON_AddNumberToObject(pg, "stream_bytes_read", (double)r->stream_bytes_read);
            cJSON_AddNumberToObject(pg, "stream_read_seconds", r->stream_read_seconds);
            cJSON_AddNumberToObject(pg, "stream_wait_seconds", r->stream_wait_seconds);
            if (r->stream_read_seconds > 0)
                cJSON_AddNumberToObject(pg, "stream_bytes_per_second",
                                        (double)r->stream_bytes_read / r->stream_read_seconds);
            else cJSON_AddNullToObject(pg, "stream_bytes_per_second");
        }
    }
    return mw_json_write(j, out, 1, "JSON report", mark, err);
}
