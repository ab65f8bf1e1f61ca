/* eval_report.c - `memwall eval`: perplexity (and against a reference: KL,
 * top-1 agreement, the perplexity ratio) as text or JSON ("memwall.eval/1").
 * The figures' meaning is in docs/EVAL.md. */
#include "memwall.h"
#include "common/error.h"
#include "common/json.h"
#include "report/json_util.h"

#include <stdio.h>

static void num_or_null(cJSON *o, const char *key, double v, int known)
{
    if (known) cJSON_AddNumberToObject(o, key, v);
    else cJSON_AddNullToObject(o, key);
}

mw_status mw_eval_report_text(const mw_eval_result *r, FILE *out, unsigned flags, mw_err *err)
{
    const char *bold = flags & MW_REPORT_COLOR ? "\033[1m" : "", *reset = flags & MW_REPORT_COLOR ? "\033[0m" : "";
    fprintf(out, "%smemwall eval:%s %s on %s, %u threads\n", bold, reset, r->model, r->text_file, r->threads);
    if (r->stride)
        fprintf(out, "  %-16s %llu in the text; %u windows of %u, one every %u tokens (%u evaluated), the last %u "
                "scored in each\n", "tokens", (unsigned long long)r->file_tokens, r->chunks_available, r->ctx,
                r->stride, r->chunks, r->scored_per_chunk);
    else
        fprintf(out, "  %-16s %llu in the text; %u chunks of %u%s (%u evaluated), %u scored each\n", "tokens",
                (unsigned long long)r->file_tokens, r->chunks_available, r->ctx,
                r->bos_first ? ", each starting with BOS" : "", r->chunks, r->scored_per_chunk);
    if (r->perplexity_err >= 0)
        fprintf(out, "  %-16s %s%.4f +/- %.5f%s over %llu tokens\n", "perplexity", bold, r->perplexity,
                r->perplexity_err, reset, (unsigned long long)r->tokens);
    else
        fprintf(out, "  %-16s %s%.4f%s over %llu token\n", "perplexity", bold, r->perplexity, reset,
                (unsigned long long)r->tokens);
    fprintf(out, "  %-16s %.3f s, %.1f tokens/s\n", "time", r->seconds, r->tokens_per_second);
    if (r->has_ref) {
        fprintf(out, "%s  against %s%s\n", bold, r->ref, reset);
        if (r->ref_perplexity_err >= 0)
            fprintf(out, "  %-16s %.4f +/- %.5f\n", "ref perplexity", r->ref_perplexity, r->ref_perplexity_err);
        else
            fprintf(out, "  %-16s %.4f\n", "ref perplexity", r->ref_perplexity);
        fprintf(out, "  %-16s %.6f\n", "ppl ratio", r->perplexity_ratio);
        fprintf(out, "  %-16s mean %.6g, median %.6g, p99 %.6g, max %.6g (nats)\n", "KL(ref||model)", r->kl_mean,
                r->kl_median, r->kl_p99, r->kl_max);
        fprintf(out, "  %-16s %.4f (%.2f%% of positions)\n", "top-1 agreement", r->top1_agreement,
                100.0 * r->top1_agreement);
        fprintf(out, "  %-16s %.3f s\n", "ref time", r->ref_seconds);
    }
    if (r->interrupted)
        fprintf(out, "  (stopped after %u of %u chunks: the figures are over those)\n", r->chunks,
                r->chunks_available);
    return mw_report_end(out, "eval report", err);
}

mw_status mw_eval_report_json(const mw_eval_result *r, FILE *out, mw_err *err)
{
    mw_json_init();
    const uint64_t mark = mw_json_mark();
    cJSON *j = cJSON_CreateObject();
    MW_RETURN_IF(!j, err, MW_ERR_NOMEM, "out of memory writing the JSON report");
    cJSON_AddStringToObject(j, "schema", "memwall.eval/1");
    cJSON_AddStringToObject(j, "model", r->model);
    cJSON_AddStringToObject(j, "text_file", r->text_file);
    cJSON_AddStringToObject(j, "method", r->stride ? "llama.cpp-perplexity-stride" : "llama.cpp-perplexity");
    cJSON_AddNumberToObject(j, "ctx", r->ctx);
    num_or_null(j, "stride", r->stride, r->stride != 0);
    cJSON_AddNumberToObject(j, "n_vocab", r->n_vocab);
    cJSON_AddNumberToObject(j, "threads", r->threads);
    cJSON_AddBoolToObject(j, "bos_first", r->bos_first);
    cJSON_AddNumberToObject(j, "file_tokens", (double)r->file_tokens);
    cJSON_AddNumberToObject(j, "chunks_available", r->chunks_available);
    cJSON_AddNumberToObject(j, "chunks", r->chunks);
    cJSON_AddNumberToObject(j, "scored_per_chunk", r->scored_per_chunk);
    cJSON_AddNumberToObject(j, "tokens", (double)r->tokens);
    cJSON_AddNumberToObject(j, "nll_mean", r->nll_mean);
    cJSON_AddNumberToObject(j, "perplexity", r->perplexity);
    num_or_null(j, "perplexity_err", r->perplexity_err, r->perplexity_err >= 0);
    cJSON_AddNumberToObject(j, "seconds", r->seconds);
    cJSON_AddNumberToObject(j, "tokens_per_second", r->tokens_per_second);
    cJSON_AddBoolToObject(j, "interrupted", r->interrupted);
    if (r->has_ref) {
        cJSON_AddStringToObject(j, "ref", r->ref);
        cJSON_AddNumberToObject(j, "ref_perplexity", r->ref_perplexity);
        num_or_null(j, "ref_perplexity_err", r->ref_perplexity_err, r->ref_perplexity_err >= 0);
        cJSON_AddNumberToObject(j, "perplexity_ratio", r->perplexity_ratio);
        cJSON_AddNumberToObject(j, "kl_mean", r->kl_mean);
        cJSON_AddNumberToObject(j, "kl_median", r->kl_median);
        cJSON_AddNumberToObject(j, "kl_p99", r->kl_p99);
        cJSON_AddNumberToObject(j, "kl_max", r->kl_max);
        cJSON_AddNumberToObject(j, "top1_agreement", r->top1_agreement);
        cJSON_AddNumberToObject(j, "ref_seconds", r->ref_seconds);
    } else {
        const char *keys[] = {"ref", "ref_perplexity", "ref_perplexity_err", "perplexity_ratio", "kl_mean",
                              "kl_median", "kl_p99", "kl_max", "top1_agreement", "ref_seconds"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) cJSON_AddNullToObject(j, keys[i]);
    }
    cJSON *a = cJSON_AddArrayToObject(j, "per_chunk");
    for (uint32_t c = 0; a && c < r->chunks; c++) {
        const mw_eval_chunk *ch = &r->per_chunk[c];
        cJSON *o = cJSON_CreateObject();
        if (!o) break;
        cJSON_AddNumberToObject(o, "nll_mean", ch->nll_mean);
        num_or_null(o, "ref_nll_mean", ch->ref_nll_mean, r->has_ref);
        num_or_null(o, "kl_mean", ch->kl_mean, r->has_ref);
        num_or_null(o, "top1_agreement", ch->top1_agreement, r->has_ref);
        cJSON_AddItemToArray(a, o);
    }
    return mw_json_write(j, out, 1, "JSON report", mark, err);
}
