/* json_util.c - helpers shared by the reports: JSON values (null for
 * unknown), writing a document, and the end of a text report. */
#include "report/json_util.h"
#include "format/arch.h"
#include "common/error.h"

#include <errno.h>

void mw_json_add_u64(cJSON *o, const char *key, uint64_t v)
{
    if (v == MW_UNKNOWN) cJSON_AddNullToObject(o, key);
    else cJSON_AddNumberToObject(o, key, (double)v);
}

void mw_json_add_int_or_null(cJSON *o, const char *key, long long v, int known)
{
    if (!known) cJSON_AddNullToObject(o, key);
    else cJSON_AddNumberToObject(o, key, (double)v);
}

void mw_json_add_seconds(cJSON *o, const char *key, double v)
{
    if (v < 0) cJSON_AddNullToObject(o, key);
    else cJSON_AddNumberToObject(o, key, v);
}

void mw_json_add_budget_split(cJSON *o, const mw_budget_split *s)
{
    cJSON_AddNumberToObject(o, "budget_bytes", (double)s->budget_bytes);
    cJSON_AddNumberToObject(o, "n_layers", s->n_layers);
    cJSON_AddNumberToObject(o, "resident_layers", s->resident_layers);
    cJSON_AddNumberToObject(o, "streamed_layers", s->streamed_layers);
    cJSON_AddNumberToObject(o, "always_bytes", (double)s->always_bytes);
    cJSON_AddNumberToObject(o, "resident_layer_bytes", (double)s->resident_layer_bytes);
    cJSON_AddNumberToObject(o, "slots", s->slots);
    cJSON_AddNumberToObject(o, "slot_bytes", (double)s->slot_bytes);
    cJSON_AddNumberToObject(o, "resident_bytes", (double)s->resident_bytes);
    cJSON_AddNumberToObject(o, "min_budget_bytes", (double)s->min_budget_bytes);
    cJSON_AddNumberToObject(o, "streamed_bytes_per_step", (double)s->streamed_bytes_per_step);
}

void mw_json_add_hparams(cJSON *o, const mw_hparams *hp)
{
    cJSON_AddStringToObject(o, "architecture", hp->arch);
    cJSON_AddNumberToObject(o, "layers", hp->n_layers);
    cJSON_AddNumberToObject(o, "hidden_size", hp->n_embd);
    cJSON_AddNumberToObject(o, "heads", hp->n_heads);
    cJSON_AddNumberToObject(o, "kv_heads", hp->n_kv_heads);
    cJSON_AddNumberToObject(o, "head_dim", hp->head_dim);
    cJSON_AddNumberToObject(o, "ffn_size", hp->n_ff);
    cJSON_AddNumberToObject(o, "vocab_size", hp->n_vocab);
    cJSON_AddNumberToObject(o, "context_length", hp->n_ctx_train);
    cJSON_AddNumberToObject(o, "experts", hp->n_experts);
    cJSON_AddNumberToObject(o, "experts_per_token", hp->n_experts_used);
    /* MoE and MLA (issue #13): only for the models that have them */
    if (hp->n_experts && (hp->n_ff_expert || hp->n_ff_shared)) {
        cJSON_AddNumberToObject(o, "expert_ffn_size", hp->n_ff_expert ? hp->n_ff_expert : hp->n_ff);
        cJSON_AddNumberToObject(o, "shared_expert_ffn_size", hp->n_ff_shared);
        cJSON_AddNumberToObject(o, "moe_layers", mw_arch_moe_layers(hp));
    }
    if (hp->kv_lora_rank) {
        cJSON_AddNumberToObject(o, "q_lora_rank", hp->q_lora_rank);
        cJSON_AddNumberToObject(o, "kv_lora_rank", hp->kv_lora_rank);
        cJSON_AddNumberToObject(o, "qk_nope_head_dim", hp->qk_nope_dim);
        cJSON_AddNumberToObject(o, "qk_rope_head_dim", hp->qk_rope_dim);
        cJSON_AddNumberToObject(o, "v_head_dim", hp->v_head_dim);
    }
    cJSON_AddBoolToObject(o, "tied_embeddings", hp->tied_embeddings);
    cJSON_AddBoolToObject(o, "gated_ffn", hp->gated_ffn);
    cJSON_AddBoolToObject(o, "layer_norm", hp->layer_norm);
    const mw_dtype_info *d = mw_dtype_get(hp->dtype);
    if (d) cJSON_AddStringToObject(o, "dtype", d->name);
    else cJSON_AddNullToObject(o, "dtype");
    /* issue #13, dense architectures (docs/JSON.md) */
    cJSON_AddBoolToObject(o, "qk_norm", hp->qk_norm);
    if (hp->sliding_window) cJSON_AddNumberToObject(o, "sliding_window", hp->sliding_window);
    else cJSON_AddNullToObject(o, "sliding_window");
    cJSON_AddNumberToObject(o, "sliding_window_period", hp->swa_period);
    if (hp->rope_scaling[0]) cJSON_AddStringToObject(o, "rope_scaling", hp->rope_scaling);
    else cJSON_AddNullToObject(o, "rope_scaling");
    cJSON_AddNumberToObject(o, "rope_factor", hp->rope_factor);
}

mw_status mw_report_end(FILE *out, const char *what, mw_err *err)
{
    /* fflush first: ferror alone misses what is still in the buffer */
    errno = 0;
    int flushed = fflush(out) == 0;
    int e = errno;
    if (flushed && !ferror(out)) return MW_OK;
    if (e) return mw_err_errno(err, MW_ERR_IO, e, "cannot write the %s", what);
    return mw_err_set(err, MW_ERR_IO, "cannot write the %s", what);
}

mw_status mw_json_write(cJSON *doc, FILE *out, int formatted, const char *what, uint64_t mark, mw_err *err)
{
    char *text = NULL;
    if (doc) text = formatted ? cJSON_Print(doc) : cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    if (text && mw_json_mark() != mark) { /* a key or value was dropped */
        cJSON_free(text);
        text = NULL;
    }
    MW_RETURN_IF(!text, err, MW_ERR_NOMEM, "out of memory writing the %s", what);
    errno = 0;
    int ok = fputs(text, out) >= 0 && fputc('\n', out) != EOF;
    int e = errno;
    cJSON_free(text);
    if (!ok && e) return mw_err_errno(err, MW_ERR_IO, e, "cannot write the %s", what);
    MW_RETURN_IF(!ok, err, MW_ERR_IO, "cannot write the %s", what);
    return mw_report_end(out, what, err);
}
