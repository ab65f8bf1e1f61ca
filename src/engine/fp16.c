/*
 * fp16.c - exact conversions between f32 and f16 / bf16 (round to nearest
 * even). Their own file: kernels.c (the references and the dispatch) and
 * kernels_x86.c (the SIMD paths' tails) both use them, and kernels.c calls
 * into kernels_x86.c, so they cannot live in either without a circle.
 */
#include "engine/fp16.h"

#include <string.h>

static inline uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

uint16_t mw_fp32_to_fp16(float f)
{
    uint32_t u = f32_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    u &= 0x7fffffffu;
    if (u > 0x7f800000u) /* NaN: quiet, top payload bits kept (as F16C does) */
        return (uint16_t)(sign | 0x7e00u | ((u >> 13) & 0x3ffu));
    if (u >= 0x477ff000u) /* >= 65520 rounds to infinity (65504 is odd) */
        return (uint16_t)(sign | 0x7c00u);
    if (u >= 0x38800000u) { /* a normal half: rebias, round to nearest even */
        uint32_t v = u - 0x38000000u;
        v += 0xfffu + ((v >> 13) & 1u);
        return (uint16_t)(sign | (v >> 13));
    }
    if (u <= 0x33000000u) /* <= 2^-25: ties to the even 0 */
        return sign;
    /* subnormal half: round(|f| * 2^24) to nearest even */
    uint32_t e = u >> 23;                          /* 102..112 */
    uint32_t mant = (u & 0x7fffffu) | 0x800000u;
    uint32_t s = 126u - e;                         /* 14..24 */
    uint32_t h = mant >> s;
    uint32_t rem = mant & ((1u << s) - 1u), half = 1u << (s - 1u);
    if (rem > half || (rem == half && (h & 1u))) h++;
    return (uint16_t)(sign | h);
}

float mw_fp16_to_fp32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
    if (e == 0) {
        float v = (float)mant * 0x1p-24f; /* exact: subnormal or zero */
        return sign ? -v : v;
    }
    if (e == 31) /* inf, or NaN made quiet (as F16C does) */
        return bits_f32(sign | 0x7f800000u | (mant << 13) | (mant ? 0x400000u : 0));
    return bits_f32(sign | ((e + 112u) << 23) | (mant << 13));
}

uint16_t mw_fp32_to_bf16(float f)
{
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((u >> 16) | 0x40u); /* NaN: keep it quiet */
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

float mw_bf16_to_fp32(uint16_t h)
{
    return bits_f32((uint32_t)h << 16);
}
