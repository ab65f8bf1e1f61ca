/*
 * plan.c - mw_plan_compute: options, the components, and the inverse
 * questions (largest batch, largest context) by bisection over the same
 * function, which is monotonic in both.
 */
#include "plan/plan_internal.h"
#include "common/error.h"

#include <stdio.h>
#include <string.h>

/* Runtime overhead as a range (docs/PLAN.md): a lean C runtime needs about
 * 80 MiB (llama.cpp's process before any model: 76-80 MiB); a framework on
 * a GPU adds a CUDA context and kernels (610 MiB measured for PyTorch on an
 * H200; gpu_poor assumes 650 MB) and allocator slack (accelerate advises
 * +20% for inference). */
/* (the figures: mw_plan_overhead_range in runtime.c, per runtime) */

static const char *const component_names[MW_COMP_COUNT] = {
    "weights", "kv_cache", "activations", "scratch", "gradients", "optimizer", "overhead",
};

const char *mw_component_name(mw_component c)
{
    return (unsigned)c < MW_COMP_COUNT ? component_names[c] : "unknown";
}

void mw_plan_opts_init(mw_plan_opts *o)
{
    memset(o, 0, sizeof *o);
    o->batch = 1;
    o->ubatch = 512;
    o->weight_dtype = MW_DTYPE_COUNT;
    o->kv_dtype = MW_DTYPE_F16;
    o->act_dtype = MW_DTYPE_F32;
    o->optimizer = MW_OPT_ADAMW;
    o->mixed_precision = 1;
    o->tp = o->pp = o->dp = 1;
    o->mem_bytes = MW_UNKNOWN;
    o->overhead_bytes = MW_UNKNOWN;
    o->lora_dtype = MW_DTYPE_COUNT; /* LoRA: the adapters' default type */
    /* offload split (offload.c): none unless asked */
    o->gpu_layers = MW_GPU_LAYERS_NONE;
    o->gpu_margin_bytes = MW_UNKNOWN;
    /* paging (issue #15): no budget unless asked */
    o->mem_budget_bytes = MW_UNKNOWN;
}

static mw_status check_opts(const mw_model *m, mw_plan_opts *o, mw_err *err)
{
    const mw_hparams *hp = &m->hp;
    MW_RETURN_IF(!m->has_hparams || !hp->n_layers || !hp->n_embd || !hp->n_heads ||
                     !hp->head_dim || !hp->n_vocab,
                 err, MW_ERR_INVALID,
                 "%s: no architecture hyperparameters (layers, width, heads, vocabulary) to plan "
                 "with; give the config.json beside the weights, or a preset",
                 m->path);
    MW_RETURN_IF(o->batch == 0, err, MW_ERR_INVALID, "--batch must be at least 1");
    MW_RETURN_IF(o->tp == 0 || o->pp == 0 || o->dp == 0, err, MW_ERR_INVALID,
                 "--tp, --pp and --dp must be at least 1");
    MW_RETURN_IF(o->pp > hp->n_layers, err, MW_ERR_INVALID,
                 "--pp %u exceeds the model's %u layers", o->pp, hp->n_layers);
    MW_RETURN_IF(o->tp > hp->n_heads, err, MW_ERR_INVALID,
                 "--tp %u exceeds the model's %u attention heads", o->tp, hp->n_heads);
    MW_RETURN_IF(o->zero > 3, err, MW_ERR_INVALID, "--zero must be 0, 1, 2 or 3");
    /* the runtime, its attention and KV cache type (runtime.c) */
    MW_FORWARD(mw_plan_check_runtime(o, err));
    if (o->flash_attn == MW_FLASH_ATTN_DEFAULT) o->flash_attn = mw_plan_flash_default(o);
    /* vLLM and transformers compute in the model's 16-bit type (vLLM's
     * dtype "auto" casts an f32 checkpoint to 16 bits; transformers keeps
     * an f32 one); ggml and memwall in f32 */
    if (!o->training && o->act_dtype == MW_DTYPE_F32 &&
        (o->runtime == MW_RUNTIME_VLLM || o->runtime == MW_RUNTIME_HF)) {
        if (hp->dtype == MW_DTYPE_F16 || hp->dtype == MW_DTYPE_BF16) o->act_dtype = hp->dtype;
        else if (!(o->runtime == MW_RUNTIME_HF && hp->dtype == MW_DTYPE_F32)) o->act_dtype = MW_DTYPE_BF16;
    }
    MW_RETURN_IF(o->act_dtype != MW_DTYPE_F32 && o->act_dtype != MW_DTYPE_F16 &&
                     o->act_dtype != MW_DTYPE_BF16,
                 err, MW_ERR_INVALID, "activations must be f32, f16 or bf16");
    if (o->ctx == 0) {
        if (o->prompt == 0 && o->gen == 0) {
            uint32_t c = hp->n_ctx_train && hp->n_ctx_train < 4096 ? hp->n_ctx_train : 4096;
            o->prompt = c < 512 ? c : 512;
            o->gen = c - o->prompt;
        }
        o->ctx = o->prompt + o->gen;
    }
    MW_RETURN_IF(o->ctx == 0, err, MW_ERR_INVALID, "the context is empty: give --ctx or --prompt");
    MW_RETURN_IF(o->prompt > o->ctx, err, MW_ERR_INVALID,
                 "--prompt %u does not fit in --ctx %u", o->prompt, o->ctx);
    if (o->prompt == 0) o->prompt = o->ctx; /* --ctx alone: the whole context as prompt */
    /* LoRA / QLoRA: adapters are trained, so either implies training; QLoRA
     * without a rank takes the paper's r = 64 (arXiv 2305.14314, §5) */
    if (o->qlora && o->lora_rank == 0) o->lora_rank = 64;
    MW_RETURN_IF(o->lora_targets && o->lora_targets[0] && o->lora_rank == 0, err, MW_ERR_INVALID,
                 "--lora-targets needs --lora R (the adapters' rank) or --qlora");
    MW_RETURN_IF(o->lora_dtype != MW_DTYPE_COUNT && o->lora_dtype != MW_DTYPE_F32 &&
                     o->lora_dtype != MW_DTYPE_F16 && o->lora_dtype != MW_DTYPE_BF16,
                 err, MW_ERR_INVALID, "the LoRA adapters' type must be f32, f16 or bf16");
    MW_RETURN_IF(o->qlora && o->weight_dtype != MW_DTYPE_COUNT, err, MW_ERR_INVALID,
                 "--qlora holds the base in NF4; leave out --dtype (or use --lora R with --dtype)");
    /* issue #14, sparse: memwall's sparse types hold pruned linear weights only
     * (docs/SPARSE.md): a whole model is not converted to one */
    MW_RETURN_IF(mw_dtype_is_sparse(o->weight_dtype), err, MW_ERR_INVALID,
                 "--dtype %s: memwall's sparse types hold the pruned linear weights of a "
                 "file, not a whole model; plan the pruned file itself (docs/SPARSE.md)",
                 mw_dtype_get(o->weight_dtype)->name);
    if (o->lora_rank) o->training = 1;
    if (o->ubatch == 0) o->ubatch = mw_plan_ubatch_default(o); /* the runtime's step */
    /* paging under a memory budget (issue #15, budget.c): memwall's own
     * engine streaming on one device */
    if (o->mem_budget_bytes != MW_UNKNOWN) {
        MW_RETURN_IF(o->training, err, MW_ERR_INVALID,
                     "--mem-budget plans inference that streams its weights; leave out --train, --lora "
                     "and --qlora");
        MW_RETURN_IF(o->tp != 1 || o->pp != 1 || o->dp != 1, err, MW_ERR_INVALID,
                     "--mem-budget plans one process streaming from its model file; leave out --tp, --pp "
                     "and --dp");
        MW_RETURN_IF(o->runtime != MW_RUNTIME_MEMWALL, err, MW_ERR_INVALID,
                     "--mem-budget plans memwall's own streaming; leave out --runtime (other runtimes "
                     "leave paging to the kernel)");
        MW_RETURN_IF(o->gpu_layers != MW_GPU_LAYERS_NONE, err, MW_ERR_INVALID,
                     "--mem-budget streams from the file to host memory; leave out --gpu-layers");
    }
    return MW_OK;
}

/* The components for o (checked), without the inverse questions. */
/* What a plan's inverse questions do not change (they vary the batch or
 * the context only): the weights and the LoRA targets, found once. Their
 * walk over the tensors costs O(tensors), which a bisection would repeat
 * 70 times: DeepSeek-V3 has 45,395 tensors. */
typedef struct fixed_parts {
    int have;
    uint64_t weights;                /* mw_plan_weights (inference)         */
    mw_lora_count lora;              /* mw_plan_lora_count (LoRA)           */
    uint64_t lora_base;              /* the whole base's bytes (LoRA)       */
    mw_budget_split split;           /* with a budget (issue #15)           */
} fixed_parts;

static mw_status compute(const mw_model *m, const mw_plan_opts *o, mw_plan *p, fixed_parts *fx, mw_err *err)
{
    const mw_hparams *hp = &m->hp;
    memset(p, 0, sizeof *p);
    p->opts = *o;
    p->params = m->n_params;
    p->params_active = m->n_params_active ? m->n_params_active : m->n_params; /* MoE */
    uint64_t *b = p->bytes;
    if (o->training && o->lora_rank) {
        /* LoRA / QLoRA (lora.c, training.c) */
        if (!fx->have) {
            MW_FORWARD(mw_plan_lora_count(m, o, &fx->lora, err));
            fx->lora_base = fx->lora.qlora_base_bytes;
            if (!o->qlora) {
                mw_plan_opts whole = *o;
                whole.tp = whole.pp = 1;
                MW_FORWARD(mw_plan_weights(m, &whole, &fx->lora_base, err));
            }
            fx->have = 1;
        }
        const mw_lora_count lc = fx->lora;
        const uint64_t base = fx->lora_base;
        mw_plan_lora_training(hp, base, &lc, o, &p->lora_base_bytes, &p->lora_adapter_bytes,
                              &b[MW_COMP_GRADIENTS], &b[MW_COMP_OPTIMIZER], &b[MW_COMP_ACTIVATIONS],
                              &p->lora_adapter_act_bytes);
        b[MW_COMP_WEIGHTS] = p->lora_base_bytes + p->lora_adapter_bytes;
        p->trainable_params = lc.trainable;
        p->lora_modules = lc.modules;
        p->lora_base_dtype = o->qlora ? MW_DTYPE_COUNT
                             : o->weight_dtype != MW_DTYPE_COUNT ? o->weight_dtype : hp->dtype;
        p->lora_default_targets = lc.default_targets;
        snprintf(p->lora_targets, sizeof p->lora_targets, "%s", lc.targets);
        /* the activations with the other attention (flash <-> unfused) */
        mw_plan_opts alt = *o;
        alt.flash_attn = o->flash_attn == MW_FLASH_ATTN_ON ? MW_FLASH_ATTN_OFF : MW_FLASH_ATTN_ON;
        uint64_t unused[5];
        mw_plan_lora_training(hp, base, &lc, &alt, &unused[0], &unused[1], &unused[2], &unused[3],
                              &p->act_alt_bytes, &unused[4]);
    } else if (o->training) {
        p->trainable_params = m->n_params;
        mw_plan_training(hp, m->n_params, o, &b[MW_COMP_WEIGHTS], &b[MW_COMP_GRADIENTS],
                         &b[MW_COMP_OPTIMIZER], &b[MW_COMP_ACTIVATIONS]);
        /* the activations with the other attention (flash <-> unfused) */
        mw_plan_opts alt = *o;
        alt.flash_attn = o->flash_attn == MW_FLASH_ATTN_ON ? MW_FLASH_ATTN_OFF : MW_FLASH_ATTN_ON;
        uint64_t unused[3];
        mw_plan_training(hp, m->n_params, &alt, &unused[0], &unused[1], &unused[2], &p->act_alt_bytes);
    } else {
        if (!fx->have) {
            MW_FORWARD(mw_plan_weights(m, o, &fx->weights, err));
            /* paging (issue #15): the split does not change with the
             * batch or the context either */
            if (o->mem_budget_bytes != MW_UNKNOWN) MW_FORWARD(mw_plan_budget_split(m, o, &fx->split, err));
            fx->have = 1;
        }
        b[MW_COMP_WEIGHTS] = fx->weights;
        if (o->mem_budget_bytes != MW_UNKNOWN) b[MW_COMP_WEIGHTS] = fx->split.resident_bytes;
        MW_FORWARD(mw_plan_kv_per_token(hp, o, &p->kv_bytes_per_token, err));
        p->kv_cells = mw_plan_kv_cells(o); /* b · ctx, padded as the runtime pads */
        /* Σ over layers: a sliding-window layer holds min(ctx, window) of
         * the (padded) cells of each sequence */
        p->kv_sliding_layers = mw_plan_sliding_layers(hp);
        p->kv_global_layers = hp->n_layers - p->kv_sliding_layers;
        if (p->kv_sliding_layers) {
            uint64_t cells = (p->kv_cells + o->batch - 1) / o->batch;
            MW_FORWARD(mw_plan_kv_bytes(hp, o, cells, o->batch, &b[MW_COMP_KV_CACHE], err));
            p->kv_window = hp->sliding_window < o->ctx ? hp->sliding_window : o->ctx;
        } else {
            b[MW_COMP_KV_CACHE] = p->kv_bytes_per_token * p->kv_cells;
        }
        mw_plan_inference_activations(hp, o, &b[MW_COMP_ACTIVATIONS], &p->act_layer_bytes,
                                      &p->act_scores_bytes, &p->act_logits_bytes);
        /* the activations with the other attention, for the assumption line */
        mw_plan_opts alt = *o;
        alt.flash_attn = o->flash_attn == MW_FLASH_ATTN_ON ? MW_FLASH_ATTN_OFF : MW_FLASH_ATTN_ON;
        uint64_t unused[3];
        mw_plan_inference_activations(hp, &alt, &p->act_alt_bytes, &unused[0], &unused[1], &unused[2]);
        mw_dtype wt = o->weight_dtype != MW_DTYPE_COUNT ? o->weight_dtype : hp->dtype;
        b[MW_COMP_SCRATCH] = mw_plan_scratch(hp, o, wt);
        /* GPU runtimes multiply 16-bit activations by 16-bit weights as they
         * are (cuBLAS): no converted rows (issue #13) */
        if (o->runtime == MW_RUNTIME_VLLM || o->runtime == MW_RUNTIME_HF) b[MW_COMP_SCRATCH] = 0;
        /* a step reads every weight once, resident or streamed */
        mw_plan_decode_step(hp, o, fx->weights, p->kv_bytes_per_token, wt, &p->decode_step_bytes,
                            &p->decode_step_flops);
        if (o->mem_budget_bytes != MW_UNKNOWN) {
            /* paging (issue #15, docs/PLAN.md "Paging under a memory
             * budget"): the streamed layers are read from the file once a
             * forward step (a decode step, or a prefill step of up to
             * ubatch tokens a sequence), for the whole batch */
            const mw_budget_split *sp = &fx->split;
            p->split = *sp;
            p->paging = sp->streamed_layers > 0;
            /* the reader's O_DIRECT staging (the engine's default reads) */
            if (p->paging && o->stream_io != MW_STREAM_IO_BUFFERED) b[MW_COMP_SCRATCH] += MW_STREAM_STAGING_BYTES;
            const uint64_t prefill_steps = ((uint64_t)o->prompt + o->ubatch - 1) / o->ubatch;
            p->stream_prefill_bytes = sp->streamed_bytes_per_step * prefill_steps;
            p->stream_step_seconds = sp->streamed_bytes_per_step == 0 ? 0
                                     : o->stream_bytes_per_second > 0
                                         ? (double)sp->streamed_bytes_per_step / o->stream_bytes_per_second
                                         : -1;
            p->resident_step_seconds =
                o->host_bytes_per_second > 0 ? p->decode_step_bytes / o->host_bytes_per_second : -1;
        }
    }
    uint64_t sum = 0;
    for (int c = 0; c < MW_COMP_OVERHEAD; c++) sum += b[c];
    /* the overhead range of the runtime modelled (runtime.c) */
    uint64_t ov_low, ov_high;
    mw_plan_overhead_range(o, sum, &ov_low, &ov_high);
    b[MW_COMP_OVERHEAD] = o->overhead_bytes != MW_UNKNOWN ? o->overhead_bytes : ov_low;
    p->overhead_high_bytes = ov_high;
    p->mem_share = mw_plan_mem_share(o);
    p->total_bytes = sum + b[MW_COMP_OVERHEAD];
    p->total_high_bytes = sum + p->overhead_high_bytes;
    p->dominant = MW_COMP_WEIGHTS;
    for (int c = 0; c < MW_COMP_OVERHEAD; c++)
        if (b[c] > b[p->dominant]) p->dominant = (mw_component)c;
    return MW_OK;
}

typedef enum { VARY_BATCH, VARY_CTX } vary;

/* Largest value in [1, hi] whose plan fits mem (high: with the overhead's
 * high end); 0 when 1 does not fit. */
static uint32_t largest_fit(const mw_model *m, const mw_plan_opts *base, fixed_parts *fx, vary what, int high,
                            uint64_t mem)
{
    uint32_t lo = 0, hi = 1u << 24;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo + 1) / 2;
        mw_plan_opts o = *base;
        if (what == VARY_BATCH) {
            o.batch = mid;
        } else {
            /* a context given alone is all prompt; else the prompt stays */
            if (base->prompt == base->ctx || o.prompt > mid) o.prompt = mid;
            o.ctx = mid;
            o.gen = mid - o.prompt;
            if (o.runtime == MW_RUNTIME_HF) o.ubatch = o.prompt; /* the prompt in one step */
        }
        mw_plan p;
        int ok = compute(m, &o, &p, fx, NULL) == MW_OK &&
                 (high ? p.total_high_bytes : p.total_bytes) <= (uint64_t)((double)mem * p.mem_share);
        if (ok) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

mw_status mw_plan_compute(const mw_model *m, const mw_plan_opts *opts, mw_plan *out, mw_err *err)
{
    mw_plan_opts o = *opts;
    MW_FORWARD(check_opts(m, &o, err));
    fixed_parts fx = {0};
    MW_FORWARD(compute(m, &o, out, &fx, err));
    if (o.mem_bytes == MW_UNKNOWN) return MW_OK;
    uint64_t usable = (uint64_t)((double)o.mem_bytes * out->mem_share); /* vLLM: 90% */
    out->fits = out->total_bytes <= usable;
    out->fits_high = out->total_high_bytes <= usable;
    out->max_batch = largest_fit(m, &o, &fx, VARY_BATCH, 0, o.mem_bytes);
    out->max_batch_high = largest_fit(m, &o, &fx, VARY_BATCH, 1, o.mem_bytes);
    out->max_ctx = largest_fit(m, &o, &fx, VARY_CTX, 0, o.mem_bytes);
    out->max_batch_dominant = out->dominant;
    if (out->max_batch > 0) {
        mw_plan_opts ob = o;
        ob.batch = out->max_batch;
        mw_plan pb;
        if (compute(m, &ob, &pb, &fx, NULL) == MW_OK) out->max_batch_dominant = pb.dominant;
    }
    return MW_OK;
}
