/* run_report.c - `memwall run`: speed, and memory measured next to the
 * plan's prediction, as text or JSON ("memwall.run/1"). */
#include "memwall.h"
#include "common/error.h"
#include "common/json.h"
#include "report/json_util.h"

#include <math.h>
#include <stdio.h>

static const mw_component shown[] = {MW_COMP_WEIGHTS, MW_COMP_KV_CACHE, MW_COMP_ACTIVATIONS,
                                     MW_COMP_SCRATCH};

mw_status mw_run_report_text(const mw_run_result *r, FILE *out, unsigned flags, mw_err *err)
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
    return mw_report_end(out, "run report", err);
}

static void breakdown(cJSON *o, const uint64_t *bytes)
{
    cJSON_AddNumberToObject(o, "weights_bytes", (double)bytes[MW_COMP_WEIGHTS]);
    cJSON_AddNumberToObject(o, "kv_cache_bytes", (double)bytes[MW_COMP_KV_CACHE]);
    cJSON_AddNumberToObject(o, "activations_bytes", (double)bytes[MW_COMP_ACTIVATIONS]);
    cJSON_AddNumberToObject(o, "scratch_bytes", (double)bytes[MW_COMP_SCRATCH]);
}

mw_status mw_run_report_json(const mw_run_result *r, FILE *out, mw_err *err)
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
        for (uint32_t t = 0; t < r->gen_per_seq; t++)
            cJSON_AddItemToArray(row, cJSON_CreateNumber(r->generated[(size_t)s * r->gen_per_seq + t]));
        cJSON_AddItemToArray(g, row);
    }
    return mw_json_write(j, out, 1, "JSON report", mark, err);
}
