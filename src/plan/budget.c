/*
 * budget.c - mw_plan_budget_split: which weights stay resident under a
 * memory budget and which are streamed from the file each step (issue #15,
 * docs/PAGING.md). The planner and the engine (engine/llama.c) call this one
 * function, so both count the same split.
 *
 * A layer is its tensors named "blk.<i>."; every other tensor (embeddings,
 * output, output norm) is always resident. Layers 0 .. r-1 are resident for
 * the largest r whose total - always + Σ resident layers + slots x the
 * largest streamed layer - fits the budget; slots = prefetch + 1, at most
 * the streamed layers.
 */
#include "memwall.h"
#include "common/error.h"

#include <stdio.h>
#include <string.h>

/* The layer index of a "blk.<i>.…" tensor, or -1. */
static int64_t layer_of(const char *name)
{
    if (strncmp(name, "blk.", 4) != 0) return -1;
    int64_t v = 0;
    const char *p = name + 4;
    if (*p < '0' || *p > '9') return -1;
    while (*p >= '0' && *p <= '9' && v < (1 << 24)) v = v * 10 + (*p++ - '0');
    return *p == '.' ? v : -1;
}

mw_status mw_plan_budget_split(const mw_model *m, const mw_plan_opts *o, mw_budget_split *out, mw_err *err)
{
    memset(out, 0, sizeof *out);
    const uint32_t L = m->hp.n_layers;
    MW_RETURN_IF(L == 0 || m->n_tensors == 0, err, MW_ERR_INVALID,
                 "a memory budget needs the model's tensors and layer count (a GGUF or "
                 "safetensors file)");
    uint64_t *lb = mw_calloc(L, sizeof *lb, MW_MEM_OTHER);
    MW_RETURN_IF(!lb, err, MW_ERR_NOMEM, "out of memory splitting the weights");
    uint64_t always = 0;
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        const mw_tensor_info *t = &m->tensors[i];
        int64_t l = layer_of(t->name);
        if (l >= 0 && (uint64_t)l < L) lb[l] += t->bytes;
        else always += t->bytes;
    }
    uint32_t prefetch = o->prefetch_layers ? o->prefetch_layers : 2;
    uint64_t largest = 0, all = always;
    for (uint32_t i = 0; i < L; i++) {
        if (lb[i] > largest) largest = lb[i];
        all += lb[i];
    }
    out->budget_bytes = o->mem_budget_bytes;
    out->always_bytes = always;
    out->n_layers = L;
    uint64_t min_slots = (uint64_t)prefetch + 1 < L ? (uint64_t)prefetch + 1 : L;
    out->min_budget_bytes = always + largest * min_slots;
    if (o->mem_budget_bytes == MW_UNKNOWN || o->mem_budget_bytes >= all) {
        out->resident_layers = L;
        out->resident_layer_bytes = all - always;
        out->resident_bytes = all;
        mw_free(lb);
        return MW_OK;
    }
    /* the largest r that fits; suffix maxima of the streamed layers */
    uint64_t prefix = all - always, suffix_max = 0;
    int found = 0;
    for (uint32_t r = L; r-- > 0;) {
        prefix -= lb[r];
        if (lb[r] > suffix_max) suffix_max = lb[r];
        uint32_t streamed = L - r;
        uint32_t slots = prefetch + 1 < streamed ? prefetch + 1 : streamed;
        uint64_t total = always + prefix + (uint64_t)slots * suffix_max;
        if (total <= o->mem_budget_bytes) {
            out->resident_layers = r;
            out->streamed_layers = streamed;
            out->slots = slots;
            out->slot_bytes = suffix_max;
            out->resident_layer_bytes = prefix;
            out->resident_bytes = total;
            out->streamed_bytes_per_step = all - always - prefix;
            found = 1;
            break;
        }
    }
    mw_free(lb);
    if (!found || o->mem_budget_bytes < out->min_budget_bytes) {
        char b[32], need[32];
        mw_size_format(o->mem_budget_bytes, b, sizeof b);
        mw_size_format(out->min_budget_bytes, need, sizeof need);
        return mw_err_set(err, MW_ERR_INVALID,
                          "a memory budget of %s is too small for this model: the smallest that works is %s "
                          "(%llu bytes: the embeddings, output and norms, %llu bytes, and %llu stream "
                          "buffer(s) of the largest layer, %llu bytes): give --mem-budget %llu or more",
                          b, need,
                          (unsigned long long)out->min_budget_bytes, (unsigned long long)always,
                          (unsigned long long)min_slots, (unsigned long long)largest,
                          (unsigned long long)out->min_budget_bytes);
    }
    return MW_OK;
}
