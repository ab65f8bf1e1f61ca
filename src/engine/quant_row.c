/*
 * quant_row.c - mw_k_quant_row: one f32 row to any dense type the engine
 * has a quantizer for (the converter's one entry point; kernels.h).
 * F32 is copied, F16/BF16 rounded to nearest even, Q8_0/Q4_0/Q4_1/Q5_0/
 * Q5_1 as ggml's reference quantizers, Q4_K/Q5_K/Q6_K with a scale search
 * (kernels.c, docs/ENGINE.md). A type without a quantizer here leaves dst
 * as it was: callers ask mw_k_quant_row_supported first.
 */
#include "engine/kernels.h"

#include <string.h>

int mw_k_quant_row_supported(mw_dtype t)
{
    switch (t) {
    case MW_DTYPE_F32: case MW_DTYPE_F16: case MW_DTYPE_BF16: case MW_DTYPE_Q8_0:
    case MW_DTYPE_Q4_0: case MW_DTYPE_Q4_1: case MW_DTYPE_Q5_0: case MW_DTYPE_Q5_1:
    case MW_DTYPE_Q4_K: case MW_DTYPE_Q5_K: case MW_DTYPE_Q6_K:
        return 1;
    default:
        return 0;
    }
}

void mw_k_quant_row(mw_dtype t, const float *src, void *dst, int64_t k)
{
    switch (t) {
    case MW_DTYPE_F32: memcpy(dst, src, (size_t)k * sizeof *src); break;
    case MW_DTYPE_F16: mw_k_row_to_f16(src, dst, k); break;
    case MW_DTYPE_BF16: mw_k_row_to_bf16(src, dst, k); break;
    case MW_DTYPE_Q8_0: mw_k_quant_row_q8_0(src, dst, k); break;
    case MW_DTYPE_Q4_0: mw_k_quant_row_q4_0(src, dst, k); break;
    case MW_DTYPE_Q4_1: mw_k_quant_row_q4_1(src, dst, k); break;
    case MW_DTYPE_Q5_0: mw_k_quant_row_q5_0(src, dst, k); break;
    case MW_DTYPE_Q5_1: mw_k_quant_row_q5_1(src, dst, k); break;
    case MW_DTYPE_Q4_K: mw_k_quant_row_q4_k(src, dst, k); break;
    case MW_DTYPE_Q5_K: mw_k_quant_row_q5_k(src, dst, k); break;
    case MW_DTYPE_Q6_K: mw_k_quant_row_q6_k(src, dst, k); break;
    default: break;
    }
}
