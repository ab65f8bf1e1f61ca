/*
 * kernels_isa.h - internal: which instruction set the kernels of kernels.h
 * run on, and the table of functions each set provides.
 *
 * kernels.c picks the best set the CPU has at the first call
 * (__builtin_cpu_supports), so the library needs no -march flag and runs on
 * any x86-64 (and, scalar only, anywhere else). kernels_x86.c holds the SIMD
 * paths, each function compiled for its set with a target attribute.
 * Tests and benchmarks force a set with mw_k_force_isa().
 */
#ifndef MW_ENGINE_KERNELS_ISA_H
#define MW_ENGINE_KERNELS_ISA_H

#include "engine/kernels.h"

#include <string.h>

typedef enum mw_k_isa_id {
    MW_K_ISA_AUTO = -1,    /* mw_k_force_isa: back to the best one available */
    MW_K_ISA_SCALAR = 0,   /* portable C: the references                     */
    MW_K_ISA_AVX2,         /* AVX2 + FMA + F16C                              */
    MW_K_ISA_AVX512,       /* AVX-512 F/BW/VL/VNNI/BF16 (Zen 4/5, Sapphire Rapids) */
    MW_K_ISA_COUNT
} mw_k_isa_id;

/*! mw_k_isa() : @return the set the kernels use now (detected at first use). */
int mw_k_isa(void);
/*! mw_k_isa_available() : @return 1 when this build and CPU can run isa. */
int mw_k_isa_available(int isa);
/*! mw_k_isa_name() : @return "scalar", "avx2", "avx512" (or "?"). */
const char *mw_k_isa_name(int isa);
/*! mw_k_force_isa() :
 *  Makes every kernel use isa (MW_K_ISA_AUTO: the best available). Not for
 *  use while other threads run kernels. @return 0, or -1 (nothing changed)
 *  when isa is not available. */
int mw_k_force_isa(int isa);

/* One instruction set's kernels. Matmul entries take the prepared x (xq)
 * or, for F32, x itself as `xp`; the arguments are those of mw_k_matmul. */
typedef void (*mw_k_matmul_fn)(const void *W, const void *xp, float *y, int64_t m, int64_t n,
                               int64_t k, int64_t j0, int64_t j1);
typedef struct mw_k_ops {
    mw_k_matmul_fn matmul_f32, matmul_f16, matmul_bf16, matmul_q8_0, matmul_q4_0;
    mw_k_matmul_fn matmul_q4_k, matmul_q5_k, matmul_q6_k;
    void  (*quant_row_q8_0)(const float *src, void *dst, int64_t k);
    void  (*quant_row_q8_0_act)(const float *src, void *dst, int64_t k);
    void  (*quant_row_q8_k)(const float *src, void *dst, int64_t k);
    void  (*row_to_f16)(const float *src, uint16_t *dst, int64_t k);
    void  (*row_to_bf16)(const float *src, uint16_t *dst, int64_t k);
    void  (*f16_to_row)(const uint16_t *src, float *dst, int64_t k);
    float (*dot_f32)(const float *a, const float *b, int64_t n);
    void  (*axpy)(float *y, float a, const float *x, int64_t n);
    void  (*rmsnorm)(float *y, const float *x, const float *w, int64_t n, float eps);
    void  (*softmax)(float *x, int64_t n);
    void  (*silu_mul)(float *g, const float *u, int64_t n);
    /* issue #14: Q4_1 / Q5_1 (x in Q8_1) and Q5_0 (x in Q8_0) weights */
    mw_k_matmul_fn matmul_q4_1, matmul_q5_0, matmul_q5_1;
} mw_k_ops;

/* Bytes of one block of the types the kernels know (ggml's block layouts; src/format/dtype.c). */
#define MW_K_QK 32            /* elements per Q8_0 / Q4_0 block */
#define MW_K_Q8_0_BYTES 34    /* f16 d; int8 qs[32]             */
#define MW_K_Q4_0_BYTES 18    /* f16 d; uint8 qs[16]            */
#define MW_K_QKK 256          /* weights per K-quant super-block */
#define MW_K_Q4_K_BYTES 144   /* f16 d, dmin; u8 scales[12]; u8 qs[128]            */
#define MW_K_Q5_K_BYTES 176   /* f16 d, dmin; u8 scales[12]; u8 qh[32]; u8 qs[128] */
#define MW_K_Q6_K_BYTES 210   /* u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d        */
#define MW_K_Q8_K_BYTES 292   /* f32 d; i8 qs[256]; i16 bsums[16] (sums of 16 qs)  */
/* issue #14: ggml's other blocks of 32 (qh: bit j = fifth bit of weight j) */
#define MW_K_Q4_1_BYTES 20    /* f16 d, m; u8 qs[16]            */
#define MW_K_Q5_0_BYTES 22    /* f16 d; u8 qh[4]; u8 qs[16]     */
#define MW_K_Q5_1_BYTES 24    /* f16 d, m; u8 qh[4]; u8 qs[16]  */
#define MW_K_Q8_1_BYTES 36    /* f16 d, s (= d * Σ qs); i8 qs[32] */

/* K-quant weights times Q8_K x, one super-block of 256: every path sums the
 * integer products of the super-block exactly (isum: Σ_sub sc·Σ q·xq, with
 * Q6_K's -32 already in it; msum: Σ_sub m·Σ xq for Q4_K/Q5_K's mins, from
 * the bsums), then adds them to the row's float sum in this one order, so
 * all paths give the same bits (tests/unit/test_kquants.c). llama.cpp also
 * sums integers per super-block and scales by d·xd and dmin·xd; its lanes
 * are scaled before they are added, so it rounds a little differently. */
static inline float mw_kq8k_d(const unsigned char *xb)
{
    float d;
    memcpy(&d, xb, sizeof d);
    return d;
}
static inline float mw_kq_acc(float acc, float xd, float d, float dmin, int32_t isum, int32_t msum)
{
    const float a = (xd * d) * (float)isum;
    const float b = (xd * dmin) * (float)msum;
    return acc + (a - b);
}

#if defined(__x86_64__) || defined(__i386__)
#define MW_K_X86 1
extern const mw_k_ops mw_k_ops_avx2;
extern const mw_k_ops mw_k_ops_avx512;
#endif

#endif /* MW_ENGINE_KERNELS_ISA_H */
