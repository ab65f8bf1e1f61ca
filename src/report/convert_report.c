/*
 * convert_report.c - `memwall convert`'s summary, as text and as JSON
 * (docs/JSON.md "convert").
 */
#include "report/json_util.h"
#include "common/error.h"

#include <stdio.h>

/* a string from a file or the user, fit for a message */
#define SHOWN(s) mw_shown_str((s), (char[520]){0}, 520)

mw_status mw_convert_report_text(const mw_convert_result *r, FILE *out, mw_err *err)
{
    char a[32], b[32], c[32];
    fprintf(out, "input     %s\n", SHOWN(r->in));
    fprintf(out, "output    %s (%s)\n", SHOWN(r->out), r->dtype);
    fprintf(out, "tensors   %u:", r->n_tensors);
    for (int t = 0; t < MW_DTYPE_COUNT; t++)
        if (r->n_by_type[t])
            fprintf(out, " %u %s (%s)", r->n_by_type[t], mw_dtype_get((mw_dtype)t)->name,
                    mw_size_format(r->bytes_by_type[t], a, sizeof a));
    fputc('\n', out);
    fprintf(out, "bytes     %s -> %s (x%.3f); file %s\n", mw_size_format(r->bytes_in, a, sizeof a),
            mw_size_format(r->bytes_out, b, sizeof b), r->bytes_in ? (double)r->bytes_out / (double)r->bytes_in : 0.0,
            mw_size_format(r->file_bytes, c, sizeof c));
    fprintf(out, "tokenizer %s\n", r->tokenizer ? r->tokenizer : "?");
    if (r->n_requantized) fprintf(out, "requantized %u tensors that were already quantized\n", r->n_requantized);
    if (r->n_pruned)
        fprintf(out, "pruned    %u tensors, %u of them stored sparse (memwall-only: docs/SPARSE.md)\n", r->n_pruned,
                r->n_sparse);
    if (r->n_densified) fprintf(out, "densified %u sparse tensors\n", r->n_densified);
    fprintf(out, "time      %.2f s\n", r->seconds);
    return mw_report_end(out, "the summary", err);
}

mw_status mw_convert_report_json(const mw_convert_result *r, FILE *out, mw_err *err)
{
    mw_json_init();
    const uint64_t mark = mw_json_mark();
    cJSON *j = cJSON_CreateObject();
    MW_RETURN_IF(!j, err, MW_ERR_NOMEM, "out of memory writing the JSON report");
    cJSON_AddStringToObject(j, "schema", "memwall.convert/1");
    cJSON_AddStringToObject(j, "input", r->in);
    cJSON_AddStringToObject(j, "output", r->out);
    cJSON_AddStringToObject(j, "dtype", r->dtype);
    mw_json_add_int_or_null(j, "file_type", r->file_type, r->file_type != 0xFFFFFFFFu);
    cJSON_AddNumberToObject(j, "tensors", r->n_tensors);
    cJSON *by = cJSON_AddObjectToObject(j, "by_type");
    for (int t = 0; by && t < MW_DTYPE_COUNT; t++) {
        if (!r->n_by_type[t]) continue;
        cJSON *o = cJSON_AddObjectToObject(by, mw_dtype_get((mw_dtype)t)->name);
        if (!o) continue;
        cJSON_AddNumberToObject(o, "tensors", r->n_by_type[t]);
        mw_json_add_u64(o, "bytes", r->bytes_by_type[t]);
    }
    mw_json_add_u64(j, "bytes_in", r->bytes_in);
    mw_json_add_u64(j, "bytes_out", r->bytes_out);
    cJSON_AddNumberToObject(j, "ratio", r->bytes_in ? (double)r->bytes_out / (double)r->bytes_in : 0.0);
    mw_json_add_u64(j, "file_bytes", r->file_bytes);
    cJSON_AddStringToObject(j, "tokenizer", r->tokenizer ? r->tokenizer : "");
    cJSON_AddNumberToObject(j, "requantized", r->n_requantized);
    cJSON_AddNumberToObject(j, "pruned", r->n_pruned);
    cJSON_AddNumberToObject(j, "sparse", r->n_sparse);
    cJSON_AddNumberToObject(j, "densified", r->n_densified);
    cJSON_AddNumberToObject(j, "seconds", r->seconds);
    return mw_json_write(j, out, 1, "JSON report", mark, err);
}
