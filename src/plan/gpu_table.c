/*
 * gpu_table.c - GPUs by name for `memwall plan --gpu NAME` (docs/PLAN.md,
 * "GPUs by name"): memory, memory bandwidth and dense peak FLOP/s by type,
 * each row with its source. A figure no source gives is 0 (unknown), never
 * a guess.
 *
 * Conventions (docs/PLAN.md):
 * - memory: the datasheet's "GB" read as GiB, since DRAM comes in binary
 *   sizes (an RTX 4090's 12 x 16 Gbit GDDR6X chips are 24 GiB; NVML
 *   reports 24564 MiB of them; an A100 80GB reports 81920 MiB);
 * - bandwidth: the datasheet's GB/s or TB/s, decimal (1e9, 1e12 B/s);
 * - FLOP/s: dense, without 2:4 structured sparsity: where a datasheet marks
 *   a figure "with sparsity" (NVIDIA's asterisk), half of it;
 *   fp32 is the non-tensor (vector) FP32 peak; fp16 the FP16/BF16 tensor
 *   (matrix) peak, with FP32 accumulate on GeForce cards, whose FP16
 *   accumulate rate is twice that (what PyTorch and llama.cpp's cuBLAS
 *   path use is FP32 accumulate for BF16 and, by default, FP16 too).
 */
#include "memwall.h"
#include "common/error.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define GIB (1024ull * 1024 * 1024)
#define T 1e12

/* The share of unified memory macOS lets the GPU wire by default (Metal's
 * recommendedMaxWorkingSetSize; raised with `sysctl iogpu.wired_limit_mb`):
 * "75% of total RAM" (gpustack/gpustack#1375), what llama.cpp's Metal
 * backend reports as the device's memory (ggml-org/llama.cpp#1870). */
#define APPLE_GPU_SHARE 0.75

static const mw_gpu_spec gpus[] = {
    /* NVIDIA A100 Tensor Core GPU datasheet (nvidia-a100-datasheet-us-
     * nvidia-1758950-r4-web.pdf), SXM column: FP32 19.5 TFLOPS; BF16/FP16
     * Tensor 312 (624*); INT8 624 (1,248*) TOPS; no FP8. */
    {"a100-40g", "NVIDIA A100 40GB SXM4", 40 * GIB, 1555e9, 19.5 * T, 312 * T, 0, 624 * T, 0,
     "NVIDIA A100 datasheet (nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf): 40GB HBM2 "
     "1,555 GB/s; FP32 19.5, BF16/FP16 tensor 312 TFLOPS, INT8 624 TOPS (dense)"},
    {"a100-80g", "NVIDIA A100 80GB SXM4", 80 * GIB, 2039e9, 19.5 * T, 312 * T, 0, 624 * T, 0,
     "NVIDIA A100 datasheet (nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf), SXM: 80GB "
     "HBM2e 2,039 GB/s; FP32 19.5, BF16/FP16 tensor 312 TFLOPS, INT8 624 TOPS (dense)"},
    /* NVIDIA H100 Tensor Core GPU datasheet: SXM FP32 67 TFLOPS, BF16/FP16
     * 1,979* TFLOPS, FP8 3,958* TFLOPS, INT8 3,958* TOPS, 80GB 3.35TB/s;
     * PCIe FP32 51, BF16/FP16 1,513*, FP8 3,026*, INT8 3,026*, 80GB 2TB/s
     * (* with sparsity). */
    {"h100-80g", "NVIDIA H100 80GB SXM5", 80 * GIB, 3.35e12, 67 * T, 989.5 * T, 1979 * T, 1979 * T, 0,
     "NVIDIA H100 datasheet (nvidia.com/en-us/data-center/h100), SXM: 80GB HBM3 3.35 TB/s; FP32 "
     "67, BF16/FP16 tensor 1,979/2, FP8 3,958/2 TFLOPS, INT8 3,958/2 TOPS (sparse figures halved)"},
    {"h100-pcie", "NVIDIA H100 80GB PCIe", 80 * GIB, 2.0e12, 51 * T, 756.5 * T, 1513 * T, 1513 * T, 0,
     "NVIDIA H100 datasheet (2022, PCIe column; H100 PCIe product brief PB-11133-001): 80GB HBM2e "
     "2 TB/s; FP32 51, BF16/FP16 tensor 1,513/2, FP8 3,026/2 TFLOPS, INT8 3,026/2 TOPS"},
    /* NVIDIA H200 Tensor Core GPU datasheet, SXM: 141GB HBM3e 4.8TB/s,
     * compute as H100 SXM. */
    {"h200", "NVIDIA H200 141GB SXM5", 141 * GIB, 4.8e12, 67 * T, 989.5 * T, 1979 * T, 1979 * T, 0,
     "NVIDIA H200 datasheet (nvidia.com/en-us/data-center/h200), SXM: 141GB HBM3e 4.8 TB/s; FP32 "
     "67, BF16/FP16 tensor 1,979/2, FP8 3,958/2 TFLOPS, INT8 3,958/2 TOPS (sparse figures halved)"},
    /* NVIDIA HGX platform specifications (nvidia.com/en-us/data-center/
     * hgx), HGX B200, per GPU: 180GB HBM3E 7.7TB/s; FP32 75 TFLOPS;
     * FP16/BF16 4.5 PFLOPS, FP8/FP6 9 PFLOPS, INT8 9 POPS, tensor figures
     * with sparsity (the table's footnote; dense 2,250 / 4,500 as listed by
     * glennklockwood.com/garden/processors/B200 for the 1,000 W HGX part).
     * An earlier datasheet said 8TB/s; the HGX table's 7.7 is used. */
    {"b200", "NVIDIA B200 180GB (HGX)", 180 * GIB, 7.7e12, 75 * T, 2250 * T, 4500 * T, 4500 * T, 0,
     "NVIDIA HGX B200 specifications (nvidia.com/en-us/data-center/hgx), per GPU: 180GB HBM3E "
     "7.7 TB/s; FP32 75, FP16/BF16 4.5 P/2, FP8 9 P/2 TFLOPS, INT8 9 P/2 TOPS (sparse halved)"},
    /* NVIDIA L4 Tensor Core GPU datasheet: 24GB GDDR6 300GB/s; FP32 30.3;
     * FP16/BF16 242*; FP8 485*; INT8 485* TOPS. */
    {"l4", "NVIDIA L4 24GB", 24 * GIB, 300e9, 30.3 * T, 121 * T, 242.5 * T, 242.5 * T, 0,
     "NVIDIA L4 datasheet (nvidia.com/en-us/data-center/l4): 24GB GDDR6 300 GB/s; FP32 30.3, "
     "BF16/FP16 tensor 242/2, FP8 485/2 TFLOPS, INT8 485/2 TOPS (sparse figures halved)"},
    /* NVIDIA L40S datasheet: 48GB GDDR6 864GB/s; FP32 91.6; BF16/FP16
     * 362.05 (733*); FP8 733 (1,466*); INT8 733 (1,466*) TOPS. */
    {"l40s", "NVIDIA L40S 48GB", 48 * GIB, 864e9, 91.6 * T, 362.05 * T, 733 * T, 733 * T, 0,
     "NVIDIA L40S datasheet (nvidia.com/en-us/data-center/l40s): 48GB GDDR6 864 GB/s; FP32 91.6, "
     "BF16/FP16 tensor 362.05, FP8 733 TFLOPS, INT8 733 TOPS (dense)"},
    /* NVIDIA A10 Tensor Core GPU datasheet: 24GB GDDR6 600GB/s; FP32 31.2;
     * BF16/FP16 125 (250*); INT8 250 (500*) TOPS. (AWS's A10G is a
     * different part without an NVIDIA datasheet: not listed.) */
    {"a10", "NVIDIA A10 24GB", 24 * GIB, 600e9, 31.2 * T, 125 * T, 0, 250 * T, 0,
     "NVIDIA A10 datasheet (nvidia.com/en-us/data-center/products/a10-gpu): 24GB GDDR6 600 GB/s; "
     "FP32 31.2, BF16/FP16 tensor 125 TFLOPS, INT8 250 TOPS (dense)"},
    /* NVIDIA T4 datasheet: 16GB GDDR6; FP32 8.1; mixed precision
     * (FP16/FP32) 65 TFLOPS; INT8 130 TOPS. Bandwidth: NVIDIA's pages say
     * "300 GB/sec" (datasheet) and "320+ GB/s" (product page); 320 is its
     * 256-bit GDDR6 at 10 Gbps, used here. */
    {"t4", "NVIDIA T4 16GB", 16 * GIB, 320e9, 8.1 * T, 65 * T, 0, 130 * T, 0,
     "NVIDIA T4 datasheet and product page (nvidia.com/en-us/data-center/tesla-t4): 16GB GDDR6 "
     "320 GB/s (256-bit at 10 Gbps; the datasheet rounds to 300); FP32 "
     "8.1, FP16 tensor 65 TFLOPS, INT8 130 TOPS"},
    /* NVIDIA V100 datasheet, SXM2: 32GB HBM2 900GB/s; FP32 15.7; tensor
     * 125 TFLOPS; no INT8 tensor cores, no FP8. */
    {"v100-32g", "NVIDIA V100 32GB SXM2", 32 * GIB, 900e9, 15.7 * T, 125 * T, 0, 0, 0,
     "NVIDIA V100 datasheet (nvidia.com/en-us/data-center/v100), SXM2: 32GB HBM2 900 GB/s; FP32 "
     "15.7, tensor 125 TFLOPS"},
    /* NVIDIA Ampere GA102 whitepaper v2.0, appendix A (GeForce RTX 3090):
     * 24GB GDDR6X 936 GB/s; FP32 35.6; FP16 tensor with FP32 accumulate 71
     * (142*); INT8 284 (568*) TOPS. */
    {"rtx-3090", "NVIDIA GeForce RTX 3090", 24 * GIB, 936e9, 35.6 * T, 71 * T, 0, 284 * T, 0,
     "NVIDIA Ampere GA102 GPU architecture whitepaper v2.0, appendix A: 24GB GDDR6X 936 GB/s; FP32 "
     "35.6, FP16 tensor (FP32 accumulate) 71 TFLOPS, INT8 284 TOPS (dense)"},
    /* NVIDIA Ada GPU architecture whitepaper, appendix A (GeForce RTX 4090):
     * 24GB GDDR6X 1008 GB/s; FP32 82.6; FP16 tensor with FP32 accumulate
     * 165.2 (330.4*); FP8 with FP32 accumulate 330.3 (660.6*); INT8 660.6
     * (1321.2*) TOPS. */
    {"rtx-4090", "NVIDIA GeForce RTX 4090", 24 * GIB, 1008e9, 82.6 * T, 165.2 * T, 330.3 * T, 660.6 * T, 0,
     "NVIDIA Ada GPU architecture whitepaper, appendix A: 24GB GDDR6X 1,008 GB/s; FP32 82.6, FP16 "
     "tensor (FP32 accumulate) 165.2, FP8 (FP32 accumulate) 330.3 TFLOPS, INT8 660.6 TOPS (dense)"},
    /* NVIDIA GeForce RTX 5090 specifications (nvidia.com/en-us/geforce/
     * graphics-cards/50-series/rtx-5090): 32GB GDDR7, 1,792 GB/s; FP32
     * 104.8 TFLOPS (21,760 cores at 2.41 GHz). Its dense tensor rates by
     * type are not in a source found here: 0 (unknown). */
    {"rtx-5090", "NVIDIA GeForce RTX 5090", 32 * GIB, 1792e9, 104.8 * T, 0, 0, 0, 0,
     "NVIDIA GeForce RTX 5090 specifications and RTX Blackwell whitepaper: 32GB GDDR7 1,792 GB/s; "
     "FP32 104.8 TFLOPS; dense tensor rates by type not sourced (unknown)"},
    /* NVIDIA Ampere GA102 whitepaper v2.0, appendix C (RTX A6000): 48GB
     * GDDR6 768 GB/s; FP32 38.7; FP16 tensor (FP32 accumulate) 154.8
     * (309.7*); INT8 309.7 (619.4*) TOPS. */
    {"rtx-a6000", "NVIDIA RTX A6000 48GB", 48 * GIB, 768e9, 38.7 * T, 154.8 * T, 0, 309.7 * T, 0,
     "NVIDIA Ampere GA102 GPU architecture whitepaper v2.0, appendix C: 48GB GDDR6 768 GB/s; FP32 "
     "38.7, FP16 tensor (FP32 accumulate) 154.8 TFLOPS, INT8 309.7 TOPS (dense)"},
    /* AMD Instinct MI250X data sheet (amd.com/en/products/accelerators/
     * instinct/mi200/mi250x): 128GB HBM2e 3.2768 TB/s; FP32 vector 47.9
     * (matrix 95.7); FP16/BF16 383 TFLOPS; INT8 383 TOPS; no FP8. */
    {"mi250x", "AMD Instinct MI250X", 128 * GIB, 3.2768e12, 47.9 * T, 383 * T, 0, 383 * T, 0,
     "AMD Instinct MI250X data sheet (amd.com): 128GB HBM2e 3.2768 TB/s; FP32 vector 47.9, "
     "FP16/BF16 matrix 383 TFLOPS, INT8 383 TOPS"},
    /* AMD Instinct MI300X data sheet (amd.com/en/products/accelerators/
     * instinct/mi300/mi300x): 192GB HBM3 5.3 TB/s; FP32 vector 81.7
     * (matrix 163.4); FP16/BF16 1,307.4 (2,614.9 with sparsity); FP8
     * 2,614.9; INT8 2,614.9 TOPS. */
    {"mi300x", "AMD Instinct MI300X", 192 * GIB, 5.3e12, 81.7 * T, 1307.4 * T, 2614.9 * T, 2614.9 * T, 0,
     "AMD Instinct MI300X data sheet (amd.com): 192GB HBM3 5.3 TB/s; FP32 vector 81.7, FP16/BF16 "
     "1,307.4, FP8 2,614.9 TFLOPS, INT8 2,614.9 TOPS (dense)"},
    /* Apple: unified memory (the CPU and GPU share it); Apple's press
     * releases and tech specs give memory and bandwidth, not FLOP/s by
     * type: 0 (unknown). M2 Max: up to 96GB, 400GB/s (Apple newsroom,
     * January 2023); M2 Ultra: up to 192GB, 800GB/s (June 2023); M3 Max
     * (16-core CPU, 40-core GPU): up to 128GB, 400GB/s (October 2023; the
     * 14-core part has 300GB/s); M4 Max (16-core CPU, 40-core GPU): up to
     * 128GB, 546GB/s (October 2024). The usable part is set below. */
    {"m2-max-96g", "Apple M2 Max 96GB (unified memory)", 96 * GIB, 400e9, 0, 0, 0, 0, 1,
     "Apple newsroom, M2 Pro and M2 Max (January 2023): up to 96GB unified memory, 400GB/s; FLOP/s "
     "not published (unknown)"},
    {"m2-ultra-192g", "Apple M2 Ultra 192GB (unified memory)", 192 * GIB, 800e9, 0, 0, 0, 0, 1,
     "Apple newsroom, M2 Ultra (June 2023): up to 192GB unified memory, 800GB/s; FLOP/s not "
     "published (unknown)"},
    {"m3-max-128g", "Apple M3 Max 128GB, 40-core GPU (unified memory)", 128 * GIB, 400e9, 0, 0, 0, 0, 1,
     "Apple newsroom, M3 family (October 2023): M3 Max up to 128GB unified memory, 400GB/s (40-core "
     "GPU part); FLOP/s not published (unknown)"},
    {"m4-max-128g", "Apple M4 Max 128GB, 40-core GPU (unified memory)", 128 * GIB, 546e9, 0, 0, 0, 0, 1,
     "Apple newsroom, M4 Pro and M4 Max (October 2024): M4 Max up to 128GB unified memory, 546GB/s; "
     "FLOP/s not published (unknown)"},
};
#define N_GPUS (sizeof gpus / sizeof gpus[0])

/* Other names people use: alias -> the row's name. */
static const char *const aliases[][2] = {
    {"h100", "h100-80g"},  {"h100-sxm", "h100-80g"}, {"a100", "a100-80g"}, {"a100-sxm", "a100-80g"},
    {"v100", "v100-32g"},  {"h200-sxm", "h200"},     {"a6000", "rtx-a6000"},
};
#define N_ALIASES (sizeof aliases / sizeof aliases[0])

/* Case-insensitive, ignoring '-', '_' and ' ' ("RTX_4090" = "rtx4090" =
 * "rtx-4090"). */
static int name_eq(const char *a, size_t alen, const char *b)
{
    size_t i = 0;
    for (;;) {
        while (i < alen && (a[i] == '-' || a[i] == '_' || a[i] == ' ')) i++;
        while (*b == '-' || *b == '_' || *b == ' ') b++;
        if (i == alen || !*b) return i == alen && !*b;
        if (tolower((unsigned char)a[i]) != tolower((unsigned char)*b)) return 0;
        i++;
        b++;
    }
}

static const mw_gpu_spec *lookup(const char *name, size_t len)
{
    for (size_t i = 0; i < N_ALIASES; i++)
        if (name_eq(name, len, aliases[i][0])) return lookup(aliases[i][1], strlen(aliases[i][1]));
    for (size_t i = 0; i < N_GPUS; i++)
        if (name_eq(name, len, gpus[i].name)) return &gpus[i];
    return NULL;
}

const char *const *mw_gpu_spec_names(void)
{
    static const char *names[N_GPUS + 1];
    for (size_t i = 0; i < N_GPUS; i++) names[i] = gpus[i].name;
    names[N_GPUS] = NULL;
    return names;
}

uint64_t mw_gpu_spec_usable_bytes(const mw_gpu_spec *g)
{
    return g->unified_memory ? (uint64_t)((double)g->memory_bytes * APPLE_GPU_SHARE) : g->memory_bytes;
}

mw_status mw_gpu_spec_find(const char *name, const mw_gpu_spec **out, uint32_t *count, mw_err *err)
{
    MW_RETURN_IF(!name || !*name, err, MW_ERR_INVALID, "--gpu needs a GPU name");
    size_t len = strlen(name);
    uint64_t n = 1;
    const mw_gpu_spec *g = lookup(name, len);
    if (!g) {
        /* a count: NAME:N, or NAME followed by xN (mi300x alone is a name:
         * the whole name is tried first) */
        const char *sep = strrchr(name, ':');
        if (!sep) {
            const char *p = name + len;
            while (p > name && isdigit((unsigned char)p[-1])) p--;
            if (p < name + len && p > name + 1 && (p[-1] == 'x' || p[-1] == 'X')) sep = p - 1;
        }
        if (sep && sep[1]) {
            char *end = NULL;
            n = 0;
            for (end = (char *)sep + 1; isdigit((unsigned char)*end); end++)
                if (n <= 65536) n = n * 10 + (uint64_t)(*end - '0'); /* past the bound: stays above it */
            if (!*end) g = lookup(name, (size_t)(sep - name));
            MW_RETURN_IF(g && (n == 0 || n > 65536), err, MW_ERR_INVALID,
                         "--gpu %s: the count must be 1 to 65536", name);
        }
    }
    if (!g) {
        char list[1024] = "";
        for (size_t i = 0; i < N_GPUS; i++) {
            strncat(list, gpus[i].name, sizeof list - strlen(list) - 1);
            strncat(list, i + 1 < N_GPUS ? ", " : "", sizeof list - strlen(list) - 1);
        }
        char shown[64];
        mw_shown_str(name, shown, sizeof shown);
        MW_RETURN_IF(1, err, MW_ERR_INVALID,
                     "unknown GPU '%s'; known: %s (aliases h100, a100, v100, a6000; a count as "
                     "NAME:N or NAMExN, e.g. h100-80g:8)",
                     shown, list);
    }
    *out = g;
    if (count) *count = (uint32_t)n;
    return MW_OK;
}
