/*
 * fp16.h - exact scalar conversions between f32 and the 16-bit floats
 * (fp16.c), for kernels.c and kernels_x86.c alike.
 */
#ifndef MW_ENGINE_FP16_H
#define MW_ENGINE_FP16_H

#include <stdint.h>

/* round to nearest even; NaN stays a quiet NaN (as F16C does) */
uint16_t mw_fp32_to_fp16(float f);
float    mw_fp16_to_fp32(uint16_t h);
uint16_t mw_fp32_to_bf16(float f);   /* NaN stays a quiet NaN */
float    mw_bf16_to_fp32(uint16_t h);

#endif /* MW_ENGINE_FP16_H */
