/*
 * budget.c - paging under a memory budget (issue #15; docs/PLAN.md "Paging
 * under a memory budget", docs/PAGING.md): which weights stay resident and
 * which are streamed from the model file each step. The planner and the
 * engine both call mw_plan_budget_split, so they agree to the byte.
 *
 * The rule: every tensor outside the repeating layers (token embeddings,
 * the output matrix when it is not tied, the final norm) is always
 * resident. A layer's bytes are its tensors' (llama: attn_norm, attn_q,
 * attn_k, attn_v, attn_output, ffn_norm, ffn_gate, ffn_up, ffn_down) in the
 * types the plan counts. Layers 0 .. k-1 are resident for the largest k
 * with always + Σ layers[0..k) + slots x slot_bytes <= budget, where the
 * streamed layers k .. L-1 go through slots = min(prefetch + 1, L - k)
 * buffers of slot_bytes = the largest streamed layer (0 and 0 when k = L).
 */
#include "plan/plan_internal.h"
#include "common/error.h"
#include "format/model.h"

#include <string.h>

#define SHOWN(s) mw_shown_str((s), (char[256]){0}, 256)

/* prefetch 0 in the options means the default: the reader runs 2 ahead */
static uint32_t prefetch_of(const mw_plan_opts *o) { return o->prefetch_layers ? o->prefetch_layers : 2; }

static uint64_t umin(uint64_t a, uint64_t b) { return a < b ? a : b; }

mw_status mw_plan_budget_split(const mw_model *m, const mw_plan_opts *o, mw_budget_split *out, mw_err *err)
{
    memset(out, 0, sizeof *out);
    MW_RETURN_IF(!m || !o, err, MW_ERR_INVALID, "mw_plan_budget_split: no model or options");
    /* no budget (MW_UNKNOWN, the largest u64): everything fits, resident */
    MW_RETURN_IF(m->n_tensors == 0, err, MW_ERR_INVALID,
                 "%s lists no tensors to split between memory and the file; give a GGUF file, a "
                 "config.json or a preset",
                 SHOWN(m->path ? m->path : "the model"));
    const uint32_t L = m->hp.n_layers;
    out->budget_bytes = o->mem_budget_bytes;
    out->n_layers = L;
    uint64_t *layer = mw_calloc((size_t)L + 1, sizeof *layer, MW_MEM_OTHER);
    MW_RETURN_IF(!layer, err, MW_ERR_NOMEM, "out of memory splitting the weights for the budget");
    mw_status st = MW_OK;
    uint64_t always = 0;
    /* a scheme's per-tensor types, found in one pass over the tensors */
    uint64_t *scheme_bytes = NULL;
    if (o->weight_scheme.kind != MW_SCHEME_NONE) {
        scheme_bytes = mw_calloc(m->n_tensors, sizeof *scheme_bytes, MW_MEM_OTHER);
        uint32_t bad = 0;
        if (!scheme_bytes) {
            mw_err_set(err, MW_ERR_NOMEM, "out of memory splitting the weights for the budget");
            st = MW_ERR_NOMEM;
            goto done;
        }
        if (mw_weight_scheme_each_tensor_bytes(&o->weight_scheme, m, scheme_bytes, &bad) != 0) {
            mw_err_set(err, MW_ERR_INVALID, "tensor %s: its size in %s overflows 64 bits",
                       SHOWN(m->tensors[bad].name), o->weight_scheme.name);
            st = MW_ERR_INVALID;
            goto done;
        }
    }
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        const mw_tensor_info *t = &m->tensors[i];
        uint64_t b = scheme_bytes ? scheme_bytes[i] : mw_plan_tensor_bytes(t, o);
        if (b == MW_UNKNOWN) {
            mw_err_set(err, MW_ERR_INVALID, "tensor %s: its size overflows 64 bits", SHOWN(t->name));
            st = MW_ERR_INVALID;
            goto done;
        }
        long l = mw_plan_layer_of(t->name);
        /* a layer past n_layers (DeepSeek-V3's next-token layer) is kept
         * with the always-resident tensors, as the offload split does */
        if (l >= 0 && (uint64_t)l < L) layer[l] += b;
        else always += b;
    }
    out->always_bytes = always;
    /* suffix[k]: the largest of layers k .. L-1 (suffix[L] = 0) */
    uint64_t *suffix = mw_calloc((size_t)L + 1, sizeof *suffix, MW_MEM_OTHER);
    if (!suffix) {
        mw_err_set(err, MW_ERR_NOMEM, "out of memory splitting the weights for the budget");
        st = MW_ERR_NOMEM;
        goto done;
    }
    for (uint32_t k = L; k-- > 0;) suffix[k] = layer[k] > suffix[k + 1] ? layer[k] : suffix[k + 1];
    const uint64_t want_slots = (uint64_t)prefetch_of(o) + 1;
    out->min_budget_bytes = always + suffix[0] * umin(want_slots, L);
    /* the largest k that fits: always + Σ layers[0..k) + slots x slot */
    uint64_t sum = 0;
    uint32_t best = 0;
    int found = 0;
    for (uint32_t k = 0; k <= L; k++) {
        const uint64_t slots = umin(want_slots, L - k);
        const uint64_t need = always + sum + slots * suffix[k];
        if (need <= o->mem_budget_bytes) best = k, found = 1;
        if (k < L) sum += layer[k];
    }
    /* the floor: every layer streamed through the asked buffers, unless the
     * whole model is smaller (then everything resident, no buffers) */
    if (sum < out->min_budget_bytes - always) out->min_budget_bytes = always + sum;
    if (o->mem_budget_bytes < out->min_budget_bytes) found = 0;
    uint32_t k = found ? best : 0;
    out->resident_layers = k;
    out->streamed_layers = L - k;
    out->slots = (uint32_t)umin(want_slots, L - k);
    out->slot_bytes = out->slots ? suffix[k] : 0;
    for (uint32_t l = 0; l < L; l++) {
        if (l < k) out->resident_layer_bytes += layer[l];
        else out->streamed_bytes_per_step += layer[l];
    }
    out->resident_bytes = always + out->resident_layer_bytes + (uint64_t)out->slots * out->slot_bytes;
    const uint64_t largest = suffix[0];
    mw_free(suffix);
    if (!found) {
        mw_err_set(err, MW_ERR_INVALID,
                   "a memory budget of %llu bytes is below the smallest that works, %llu bytes (%.1f MiB): "
                   "the always-resident embeddings, output and norms (%llu bytes) and %u stream buffer(s) "
                   "of the largest layer (%llu bytes each, --prefetch %u); give --mem-budget %llu or more",
                   (unsigned long long)o->mem_budget_bytes, (unsigned long long)out->min_budget_bytes,
                   (double)out->min_budget_bytes / 1048576.0, (unsigned long long)always,
                   (unsigned)umin(want_slots, L), (unsigned long long)largest,
                   (unsigned)prefetch_of(o), (unsigned long long)out->min_budget_bytes);
        st = MW_ERR_INVALID;
    }
done:
    mw_free(scheme_bytes);
    mw_free(layer);
    return st;
}
