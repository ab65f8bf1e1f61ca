/*
 * runtime.c - what each modelled runtime allocates beyond memwall's own
 * walk (issue #13; docs/PLAN.md, "Attention and runtimes"): its default for
 * flash attention, the KV cache types it offers, how it pads the cache,
 * its prefill step, the share of device memory it may use, and its
 * overhead range. Pure functions; every figure's source is named beside it.
 */
#include "plan/plan_internal.h"
#include "common/error.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static const char *const runtime_names[MW_RUNTIME_COUNT] = {"memwall", "llama.cpp", "vllm", "hf"};

const char *mw_runtime_name(mw_runtime r)
{
    return (unsigned)r < MW_RUNTIME_COUNT ? runtime_names[r] : "unknown";
}

mw_status mw_runtime_from_name(const char *name, mw_runtime *out, mw_err *err)
{
    static const struct { const char *name; mw_runtime r; } names[] = {
        {"memwall", MW_RUNTIME_MEMWALL}, {"llama.cpp", MW_RUNTIME_LLAMA_CPP},
        {"llamacpp", MW_RUNTIME_LLAMA_CPP}, {"llama-cpp", MW_RUNTIME_LLAMA_CPP},
        {"vllm", MW_RUNTIME_VLLM}, {"hf", MW_RUNTIME_HF}, {"transformers", MW_RUNTIME_HF},
    };
    for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++) {
        if (!strcasecmp(name, names[i].name)) {
            *out = names[i].r;
            return MW_OK;
        }
    }
    return mw_err_set(err, MW_ERR_INVALID,
                      "unknown runtime '%s' (known: memwall, llama.cpp, vllm, hf)", name ? name : "");
}

/* The KV cache types each runtime offers:
 * - memwall: the planner's types before runtimes: f32, f16, bf16, q8_0;
 * - llama.cpp: the --cache-type-k/-v list of common/arg.cpp (kv_cache_types):
 *   f32, f16, bf16, q8_0, q4_0, q4_1, iq4_nl, q5_0, q5_1;
 * - vLLM: --kv-cache-dtype auto (the model's f16, bf16 or f32), fp8 =
 *   fp8_e4m3, fp8_e5m2 (vllm/config/cache.py CacheDType);
 * - transformers: DynamicCache holds the model's dtype. */
static int kv_offered(mw_runtime r, mw_dtype t)
{
    int fl = t == MW_DTYPE_F32 || t == MW_DTYPE_F16 || t == MW_DTYPE_BF16;
    switch (r) {
    case MW_RUNTIME_MEMWALL: return fl || t == MW_DTYPE_Q8_0;
    case MW_RUNTIME_LLAMA_CPP:
        return fl || t == MW_DTYPE_Q8_0 || t == MW_DTYPE_Q4_0 || t == MW_DTYPE_Q4_1 ||
               t == MW_DTYPE_Q5_0 || t == MW_DTYPE_Q5_1 || t == MW_DTYPE_IQ4_NL;
    case MW_RUNTIME_VLLM: return fl || t == MW_DTYPE_F8_E4M3 || t == MW_DTYPE_F8_E5M2;
    case MW_RUNTIME_HF: return fl;
    default: return 0;
    }
}

static const char *kv_offered_list(mw_runtime r)
{
    switch (r) {
    case MW_RUNTIME_LLAMA_CPP: return "f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, iq4_nl";
    case MW_RUNTIME_VLLM: return "f16, bf16, f32 (auto: the model's), fp8 (f8_e4m3), fp8_e5m2 (f8_e5m2)";
    case MW_RUNTIME_HF: return "f32, f16, bf16 (the model's dtype)";
    default: return "f32, f16, bf16, q8_0";
    }
}

static int kv_quantized(mw_dtype t)
{
    return t != MW_DTYPE_F32 && t != MW_DTYPE_F16 && t != MW_DTYPE_BF16 && t != MW_DTYPE_F8_E4M3 &&
           t != MW_DTYPE_F8_E5M2;
}

mw_flash_attn mw_plan_flash_default(const mw_plan_opts *o)
{
    /* Training: FlashAttention or PyTorch's SDPA (its flash and
     * memory-efficient kernels) is what the common trainers run (Megatron-LM
     * --use-flash-attn, transformers' default attn_implementation "sdpa"). */
    if (o->training) return MW_FLASH_ATTN_ON;
    switch (o->runtime) {
    /* llama.cpp: flash_attn_type defaults to auto, resolved to enabled
     * where the backend supports it (src/llama-context.cpp: "Flash
     * Attention was auto, set to enabled"); memwall assumes it is. */
    case MW_RUNTIME_LLAMA_CPP: return MW_FLASH_ATTN_ON;
    /* vLLM: every GPU backend is fused (FlashAttention, FlashInfer) */
    case MW_RUNTIME_VLLM: return MW_FLASH_ATTN_ON;
    /* transformers: attn_implementation "sdpa" by default; causal, unpadded
     * batches take its flash or memory-efficient kernel */
    case MW_RUNTIME_HF: return MW_FLASH_ATTN_ON;
    /* memwall's engine computes the scores unfused (src/engine/forward.c) */
    default: return MW_FLASH_ATTN_OFF;
    }
}

mw_status mw_plan_check_runtime(const mw_plan_opts *o, mw_err *err)
{
    MW_RETURN_IF((unsigned)o->runtime >= MW_RUNTIME_COUNT, err, MW_ERR_INVALID,
                 "unknown runtime %d (known: memwall, llama.cpp, vllm, hf)", (int)o->runtime);
    MW_RETURN_IF((unsigned)o->flash_attn > MW_FLASH_ATTN_ON, err, MW_ERR_INVALID,
                 "--flash-attn must be on or off");
    MW_RETURN_IF(o->training && (o->runtime == MW_RUNTIME_LLAMA_CPP || o->runtime == MW_RUNTIME_VLLM), err,
                 MW_ERR_INVALID,
                 "--runtime %s plans inference; training is planned as PyTorch trainers run it "
                 "(--runtime memwall or hf)", mw_runtime_name(o->runtime));
    if (o->training) return MW_OK;
    mw_flash_attn fa = o->flash_attn != MW_FLASH_ATTN_DEFAULT ? o->flash_attn : mw_plan_flash_default(o);
    MW_RETURN_IF(o->runtime == MW_RUNTIME_VLLM && fa == MW_FLASH_ATTN_OFF, err, MW_ERR_INVALID,
                 "--flash-attn off: vLLM's attention backends (FlashAttention, FlashInfer) are all fused "
                 "and never hold the score matrix; drop --flash-attn or plan another --runtime");
    const mw_dtype_info *kv = mw_dtype_get(o->kv_dtype);
    char name[16] = "?"; /* the type as the options spell it: q4_0 */
    for (size_t i = 0; kv && kv->name[i] && i + 1 < sizeof name; i++) {
        name[i] = (char)tolower((unsigned char)kv->name[i]);
        name[i + 1] = '\0';
    }
    MW_RETURN_IF(!kv || !kv_offered(o->runtime, o->kv_dtype), err, MW_ERR_INVALID,
                 "--kv-dtype %s: runtime %s offers %s%s", name, mw_runtime_name(o->runtime),
                 kv_offered_list(o->runtime),
                 o->runtime == MW_RUNTIME_MEMWALL ? " (--runtime llama.cpp offers more)" : "");
    /* llama.cpp refuses a quantized V cache without flash attention: the
     * unfused path multiplies by a transposed V, which a block-quantized
     * row cannot be (llama_init_from_model: "V cache quantization requires
     * flash_attn"). */
    MW_RETURN_IF(o->runtime == MW_RUNTIME_LLAMA_CPP && kv_quantized(o->kv_dtype) && fa == MW_FLASH_ATTN_OFF,
                 err, MW_ERR_INVALID,
                 "--kv-dtype %s with --flash-attn off: llama.cpp needs flash attention for a quantized V "
                 "cache (\"V cache quantization requires flash_attn\"); use --flash-attn on or --kv-dtype f16",
                 name);
    return MW_OK;
}

uint32_t mw_plan_ubatch_default(const mw_plan_opts *o)
{
    switch (o->runtime) {
    /* vLLM sizes activations by a profiling run of max_num_batched_tokens
     * tokens in one step: 8192 for its OpenAI server on a GPU of 70 GB or
     * more but an A100 (vllm/engine/arg_utils.py get_batch_defaults; 2048
     * on the others: give --ubatch 2048 there) */
    case MW_RUNTIME_VLLM: return 8192;
    /* transformers' generate() runs the whole prompt in one forward */
    case MW_RUNTIME_HF: return o->prompt ? o->prompt : 1;
    /* llama.cpp's n_ubatch default (common/common.h), memwall's engine too */
    default: return 512;
    }
}

uint64_t mw_plan_kv_cells(const mw_plan_opts *o)
{
    uint64_t n = (uint64_t)o->batch * o->ctx;
    switch (o->runtime) {
    /* llama.cpp pads the context of its (unified) cache to 256 cells:
     * src/llama-context.cpp, cparams.n_ctx = GGML_PAD(cparams.n_ctx, 256) */
    case MW_RUNTIME_LLAMA_CPP: return (n + 255) / 256 * 256;
    /* vLLM allocates whole blocks of block_size tokens per sequence: 16 on
     * CUDA when not given (vllm/config/cache.py has no static default;
     * vllm/platforms/cuda.py check_and_update_config sets 16; paged
     * attention, arXiv 2309.06180 §4) */
    case MW_RUNTIME_VLLM: return (uint64_t)o->batch * (((uint64_t)o->ctx + 15) / 16 * 16);
    /* memwall's cache and transformers' DynamicCache hold exactly b · ctx */
    default: return n;
    }
}

double mw_plan_mem_share(const mw_plan_opts *o)
{
    /* vLLM takes gpu_memory_utilization = 0.9 of each GPU's memory (its
     * EngineArgs default) for weights, activations and the KV cache */
    return !o->training && o->runtime == MW_RUNTIME_VLLM ? 0.9 : 1.0;
}

#define MIB (1ull << 20)
#define GIB (1ull << 30)

void mw_plan_overhead_range(const mw_plan_opts *o, uint64_t sum, uint64_t *low, uint64_t *high)
{
    switch (o->runtime) {
    case MW_RUNTIME_VLLM:
        /* inside the reservation: non-torch memory (NCCL, cuBLAS workspaces)
         * 0.33-0.39 GiB in vLLM's own logs ("non_torch_memory takes 0.33GiB",
         * vllm-project/vllm#14452; 0.39GiB, #11251), and the CUDA graphs'
         * memory, 0.11-1.10 GiB in its "Graph capturing finished in N secs,
         * took X GiB" and "Estimated CUDA graph memory" lines (0.36 GiB,
         * gpustack/runner#251; 0.31 and 0.96-1.10 GiB in published logs).
         * The profiling run sized the rest: no allocator slack on top. */
        *low = (uint64_t)(0.33 * GIB) + (uint64_t)(0.11 * GIB);
        *high = (uint64_t)(0.39 * GIB) + (uint64_t)(1.10 * GIB);
        return;
    case MW_RUNTIME_HF:
        /* PyTorch: a CUDA context and kernels, 610 MiB measured on an H200
         * (docs/BENCHMARKS.md), to gpu_poor's 650 MB plus accelerate's +20%
         * for the caching allocator's slack */
        *low = 610 * MIB;
        *high = 650 * MIB + (uint64_t)(0.20 * (double)sum);
        return;
    default:
        /* a lean C runtime (llama.cpp's process, 76-80 MiB) to a framework
         * on a GPU (plan.c, docs/PLAN.md "Runtime overhead") */
        *low = 80 * MIB;
        *high = 650 * MIB + (uint64_t)(0.20 * (double)sum);
        return;
    }
}
