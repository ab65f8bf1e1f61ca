/* model_report.c - `memwall inspect`: a model's architecture, types and
 * tensors, as text or JSON ("memwall.inspect/1"). */
#include "memwall.h"
#include "format/arch.h"
#include "common/error.h"
#include "common/json.h"
#include "report/json_util.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *source_name(mw_model_source s)
{
    switch (s) {
    case MW_SOURCE_GGUF: return "gguf";
    case MW_SOURCE_SAFETENSORS: return "safetensors";
    case MW_SOURCE_HF_CONFIG: return "config.json";
    case MW_SOURCE_PRESET: return "preset";
    }
    return "unknown";
}

static void shape_text(const mw_tensor_info *t, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (uint32_t d = 0; d < t->n_dims && len + 2 < cap; d++) {
        int k = snprintf(buf + len, cap - len, "%s%" PRIu64, d ? " x " : "", t->shape[d]);
        if (k > 0) len += (size_t)k;
    }
    if (t->n_dims == 0) snprintf(buf, cap, "scalar");
}

/* Per-type totals: elements and bytes. */
typedef struct type_total { uint64_t tensors, elems, bytes; } type_total;

static void totals_by_type(const mw_model *m, type_total *tt)
{
    memset(tt, 0, sizeof(type_total) * MW_DTYPE_COUNT);
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        type_total *x = &tt[m->tensors[i].dtype];
        x->tensors++;
        x->elems += m->tensors[i].n_elems;
        x->bytes += m->tensors[i].bytes;
    }
}

static void hparams_text(const mw_hparams *hp, FILE *out)
{
    char arch[sizeof hp->arch + 4];
    fprintf(out, "  %-22s %s\n", "architecture", hp->arch[0] ? mw_shown_str(hp->arch, arch, sizeof arch) : "-");
    fprintf(out, "  %-22s %u\n", "layers", hp->n_layers);
    fprintf(out, "  %-22s %u\n", "hidden size", hp->n_embd);
    fprintf(out, "  %-22s %u (kv %u, head dim %u)\n", "attention heads", hp->n_heads,
            hp->n_kv_heads, hp->head_dim);
    fprintf(out, "  %-22s %u%s\n", "ffn size", hp->n_ff, hp->gated_ffn ? " (gated)" : "");
    fprintf(out, "  %-22s %u\n", "vocabulary", hp->n_vocab);
    fprintf(out, "  %-22s %u\n", "trained context", hp->n_ctx_train);
    if (hp->n_experts) fprintf(out, "  %-22s %u, %u per token\n", "experts", hp->n_experts, hp->n_experts_used);
    /* MoE and MLA (issue #13) */
    if (hp->n_experts && (hp->n_ff_expert || hp->n_ff_shared))
        fprintf(out, "  %-22s expert ffn %u, shared ffn %u, %u of %u layers MoE\n", "experts' sizes",
                hp->n_ff_expert ? hp->n_ff_expert : hp->n_ff, hp->n_ff_shared,
                mw_arch_moe_layers(hp), hp->n_layers);
    if (hp->kv_lora_rank)
        fprintf(out, "  %-22s latent %u + rope %u cached; q rank %u, nope %u, v %u\n",
                "latent attention", hp->kv_lora_rank, hp->qk_rope_dim, hp->q_lora_rank,
                hp->qk_nope_dim, hp->v_head_dim);
    fprintf(out, "  %-22s %s%s%s\n", "layout", hp->layer_norm ? "layernorm" : "rmsnorm",
            hp->tied_embeddings ? ", tied embeddings" : "", hp->learned_pos ? ", learned positions" : "");
    /* issue #13, dense architectures */
    if (hp->sliding_window && hp->swa_period)
        fprintf(out, "  %-22s %u tokens on %u of every %u layers\n", "sliding window",
                hp->sliding_window, hp->swa_period - 1, hp->swa_period);
    else if (hp->sliding_window)
        fprintf(out, "  %-22s %u tokens, every layer\n", "sliding window", hp->sliding_window);
    if (hp->rope_scaling[0] && hp->rope_factor > 0)
        fprintf(out, "  %-22s %s, factor %g\n", "rope scaling", hp->rope_scaling, hp->rope_factor);
    else if (hp->rope_scaling[0])
        fprintf(out, "  %-22s %s\n", "rope scaling", hp->rope_scaling);
}

mw_status mw_model_report_text(const mw_model *m, FILE *out, unsigned flags, uint32_t max_tensors, mw_err *err)
{
    const char *bold = flags & MW_REPORT_COLOR ? "\033[1m" : "", *reset = flags & MW_REPORT_COLOR ? "\033[0m" : "";
    char a[32], b[32];
    /* names from the file (and the path) go to a terminal: escaped, so a
     * model cannot send escape codes (mw_shown) */
    char shown[1024];
    fprintf(out, "%s%s%s (%s)\n", bold, mw_shown_str(m->path, shown, sizeof shown), reset,
            source_name(m->source));
    char params[32];
    mw_count_format(m->n_params, params, sizeof params);
    fprintf(out, "  %-22s %" PRIu64, "parameters", m->n_params);
    if (m->n_params >= 1000) fprintf(out, " (%s)", params);
    fprintf(out, "\n");
    if (m->n_params_active && m->n_params_active != m->n_params) {
        /* MoE (issue #13): what one token uses (docs/PLAN.md "MoE and MLA") */
        mw_count_format(m->n_params_active, params, sizeof params);
        fprintf(out, "  %-22s %" PRIu64 " (%s: %u of %u routed experts per token)\n",
                "parameters active", m->n_params_active, params, m->hp.n_experts_used,
                m->hp.n_experts);
    }
    fprintf(out, "  %-22s %s (%" PRIu64 " bytes)\n", "weights", mw_size_format(m->weights_bytes, a, sizeof a),
            m->weights_bytes);
    if (m->n_files > 1) fprintf(out, "  %-22s %u\n", "files (shards)", m->n_files);
    if (m->has_hparams) hparams_text(&m->hp, out);
    if (m->n_tensors == 0) return mw_report_end(out, "model report", err);

    type_total tt[MW_DTYPE_COUNT];
    totals_by_type(m, tt);
    fprintf(out, "%sby type%s\n  %-8s %8s %16s %12s %7s\n", bold, reset, "type", "tensors", "elements", "bytes", "share");
    for (int t = 0; t < MW_DTYPE_COUNT; t++) {
        if (!tt[t].tensors) continue;
        fprintf(out, "  %-8s %8" PRIu64 " %16" PRIu64 " %12s %6.1f%%\n", mw_dtype_get((mw_dtype)t)->name,
                tt[t].tensors, tt[t].elems, mw_size_format(tt[t].bytes, a, sizeof a),
                m->weights_bytes ? 100.0 * (double)tt[t].bytes / (double)m->weights_bytes : 0.0);
    }
    uint32_t n = max_tensors && max_tensors < m->n_tensors ? max_tensors : m->n_tensors;
    /* the name column as wide as the longest name shown (44 at least, 96
     * at most: gemma3's language_model.model.layers.N... are 60 wide) */
    int w = 44;
    for (uint32_t i = 0; i < n; i++) {
        size_t len = strlen(m->tensors[i].name);
        if (len > (size_t)w) w = len < 96 ? (int)len : 96;
    }
    fprintf(out, "%stensors%s (%u)\n  %-*s %-22s %-8s %10s %14s\n", bold, reset, m->n_tensors, w, "name",
            "shape", "type", "bytes", "offset");
    for (uint32_t i = 0; i < n; i++) {
        const mw_tensor_info *t = &m->tensors[i];
        char shape[96];
        shape_text(t, shape, sizeof shape);
        fprintf(out, "  %-*s %-22s %-8s %10s %14" PRIu64 "\n", w, mw_shown_str(t->name, shown, sizeof shown),
                shape, mw_dtype_get(t->dtype)->name,
                mw_size_format(t->bytes, b, sizeof b), t->offset);
    }
    if (n < m->n_tensors) fprintf(out, "  ... %u more (--all, or --json)\n", m->n_tensors - n);
    return mw_report_end(out, "model report", err);
}

mw_status mw_model_report_json(const mw_model *m, FILE *out, mw_err *err)
{
    mw_json_init();
    /* cJSON_Add* drop a key quietly when an allocation fails: count the
     * failures, so a report with a key missing is an error, not output */
    const uint64_t mark = mw_json_mark();
    cJSON *o = cJSON_CreateObject();
    MW_RETURN_IF(!o, err, MW_ERR_NOMEM, "out of memory writing the JSON report");
    cJSON_AddStringToObject(o, "schema", "memwall.inspect/1");
    cJSON_AddStringToObject(o, "path", m->path);
    cJSON_AddStringToObject(o, "source", source_name(m->source));
    cJSON_AddNumberToObject(o, "params", (double)m->n_params);
    cJSON_AddNumberToObject(o, "params_active", /* MoE: what one token uses */
                            (double)(m->n_params_active ? m->n_params_active : m->n_params));
    cJSON_AddNumberToObject(o, "weights_bytes", (double)m->weights_bytes);
    cJSON *files = cJSON_AddArrayToObject(o, "files");
    for (uint32_t i = 0; files && i < m->n_files; i++) cJSON_AddItemToArray(files, cJSON_CreateString(m->files[i]));
    if (m->has_hparams) {
        cJSON *h = cJSON_AddObjectToObject(o, "hparams");
        if (h) mw_json_add_hparams(h, &m->hp);
    } else {
        cJSON_AddNullToObject(o, "hparams");
    }
    type_total tt[MW_DTYPE_COUNT];
    totals_by_type(m, tt);
    cJSON *types = cJSON_AddObjectToObject(o, "by_type");
    for (int t = 0; types && t < MW_DTYPE_COUNT; t++) {
        if (!tt[t].tensors) continue;
        cJSON *x = cJSON_AddObjectToObject(types, mw_dtype_get((mw_dtype)t)->name);
        if (!x) continue;
        cJSON_AddNumberToObject(x, "tensors", (double)tt[t].tensors);
        cJSON_AddNumberToObject(x, "elements", (double)tt[t].elems);
        cJSON_AddNumberToObject(x, "bytes", (double)tt[t].bytes);
    }
    cJSON *ts = cJSON_AddArrayToObject(o, "tensors");
    for (uint32_t i = 0; ts && i < m->n_tensors; i++) {
        const mw_tensor_info *t = &m->tensors[i];
        cJSON *x = cJSON_CreateObject();
        if (!x) break;
        cJSON_AddStringToObject(x, "name", t->name);
        cJSON_AddStringToObject(x, "type", mw_dtype_get(t->dtype)->name);
        cJSON *shape = cJSON_AddArrayToObject(x, "shape");
        for (uint32_t d = 0; shape && d < t->n_dims; d++) cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t->shape[d]));
        cJSON_AddNumberToObject(x, "elements", (double)t->n_elems);
        cJSON_AddNumberToObject(x, "bytes", (double)t->bytes);
        cJSON_AddNumberToObject(x, "offset", (double)t->offset);
        cJSON_AddNumberToObject(x, "file", t->file);
        cJSON_AddItemToArray(ts, x);
    }
    return mw_json_write(o, out, 1, "JSON report", mark, err);
}
