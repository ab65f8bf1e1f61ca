/*
 * peak.c - the compute peaks: FP32 FMA (AVX-512, AVX2, plain C), BF16 dot
 * (vdpbf16ps) and INT8 dot (vpdpbusd). Each loop keeps 12 independent
 * accumulator chains in registers: two FMA pipes of 4-cycle latency need 8
 * in flight, and 12 leaves room for a longer latency. The accumulators are
 * summed and returned for the caller to publish, so nothing is elided.
 * Target attributes per function: no -march flag needed.
 */
#include "roofline/roofline.h"

#include <stdio.h>

#if defined(__x86_64__) && defined(__GNUC__)
#define RL_X86 1
#include <cpuid.h>
#include <immintrin.h>
#define T_AVX2 __attribute__((target("avx2,fma")))
#define T_AVX512 __attribute__((target("avx2,fma,avx512f")))
#define T_BF16 __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512bf16")))
#define T_VNNI __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni")))
#define T_AVXVNNI __attribute__((target("avx2,fma,avxvnni")))
#endif

#define NACC 12

static float fma_c(uint64_t iters, double *flops)
{
    float acc[NACC];
    for (int j = 0; j < NACC; j++) acc[j] = (float)j;
    const float m = 0.999999f, a = 1e-6f;
    for (uint64_t i = 0; i < iters; i++)
        for (int j = 0; j < NACC; j++) acc[j] = acc[j] * m + a;
    float s = 0;
    for (int j = 0; j < NACC; j++) s += acc[j];
    *flops = 2.0 * NACC * (double)iters;
    return s;
}

#ifdef RL_X86
/* The 12 chains written out: GCC keeps them in registers this way. */
#define CHAINS(OP) OP(0) OP(1) OP(2) OP(3) OP(4) OP(5) OP(6) OP(7) OP(8) OP(9) OP(10) OP(11)

T_AVX2 static float fma_avx2(uint64_t iters, double *flops)
{
    const __m256 m = _mm256_set1_ps(0.999999f), a = _mm256_set1_ps(1e-6f);
#define DECL(j) __m256 c##j = _mm256_set1_ps((float)(j));
    CHAINS(DECL)
#undef DECL
    for (uint64_t i = 0; i < iters; i++) {
#define STEP(j) c##j = _mm256_fmadd_ps(c##j, m, a);
        CHAINS(STEP)
#undef STEP
    }
    __m256 s = _mm256_setzero_ps();
#define SUM(j) s = _mm256_add_ps(s, c##j);
    CHAINS(SUM)
#undef SUM
    float t[8];
    _mm256_storeu_ps(t, s);
    *flops = 2.0 * 8 * NACC * (double)iters;
    return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}

T_AVX512 static float fma_avx512(uint64_t iters, double *flops)
{
    const __m512 m = _mm512_set1_ps(0.999999f), a = _mm512_set1_ps(1e-6f);
#define DECL(j) __m512 c##j = _mm512_set1_ps((float)(j));
    CHAINS(DECL)
#undef DECL
    for (uint64_t i = 0; i < iters; i++) {
#define STEP(j) c##j = _mm512_fmadd_ps(c##j, m, a);
        CHAINS(STEP)
#undef STEP
    }
    __m512 s = _mm512_setzero_ps();
#define SUM(j) s = _mm512_add_ps(s, c##j);
    CHAINS(SUM)
#undef SUM
    *flops = 2.0 * 16 * NACC * (double)iters;
    return _mm512_reduce_add_ps(s);
}

/* 32 bf16 pairs per instruction: 32 products and 32 sums. Inputs 2^-10
 * (bf16 0x3a80): products 2^-20, far from subnormal, and the sums grow
 * slowly enough never to overflow. */
T_BF16 static float bf16_avx512(uint64_t iters, double *flops)
{
    const __m512bh x = (__m512bh)_mm512_set1_epi16(0x3a80);
#define DECL(j) __m512 c##j = _mm512_setzero_ps();
    CHAINS(DECL)
#undef DECL
    for (uint64_t i = 0; i < iters; i++) {
#define STEP(j) c##j = _mm512_dpbf16_ps(c##j, x, x);
        CHAINS(STEP)
#undef STEP
    }
    __m512 s = _mm512_setzero_ps();
#define SUM(j) s = _mm512_add_ps(s, c##j);
    CHAINS(SUM)
#undef SUM
    *flops = 64.0 * NACC * (double)iters;
    return _mm512_reduce_add_ps(s);
}

/* 64 u8 x s8 products and their sums per instruction (int32 lanes wrap
 * harmlessly: the value only has to be published). */
T_VNNI static float int8_avx512(uint64_t iters, double *flops)
{
    const __m512i u = _mm512_set1_epi8(3), v = _mm512_set1_epi8(-2);
#define DECL(j) __m512i c##j = _mm512_setzero_si512();
    CHAINS(DECL)
#undef DECL
    for (uint64_t i = 0; i < iters; i++) {
#define STEP(j) c##j = _mm512_dpbusd_epi32(c##j, u, v);
        CHAINS(STEP)
#undef STEP
    }
    __m512i s = _mm512_setzero_si512();
#define SUM(j) s = _mm512_add_epi32(s, c##j);
    CHAINS(SUM)
#undef SUM
    *flops = 128.0 * NACC * (double)iters;
    /* summed as unsigned: the lanes wrap, and GCC's _mm512_reduce_add_epi32
     * adds them as int, which overflows (undefined; UBSan says so) */
    uint32_t lanes[16], sum = 0;
    _mm512_storeu_si512(lanes, s);
    for (int k = 0; k < 16; k++) sum += lanes[k];
    return (float)(int32_t)sum; /* two's complement back (GCC: modulo, defined) */
}

/* The VEX-encoded vpdpbusd of AVX-VNNI (CPUs without AVX-512: Alder Lake
 * and later cores, Zen 5): 32 u8 x s8 products and their sums per
 * instruction. */
T_AVXVNNI static float int8_avxvnni(uint64_t iters, double *flops)
{
    const __m256i u = _mm256_set1_epi8(3), v = _mm256_set1_epi8(-2);
#define DECL(j) __m256i c##j = _mm256_setzero_si256();
    CHAINS(DECL)
#undef DECL
    for (uint64_t i = 0; i < iters; i++) {
#define STEP(j) c##j = _mm256_dpbusd_avx_epi32(c##j, u, v);
        CHAINS(STEP)
#undef STEP
    }
    __m256i s = _mm256_setzero_si256();
#define SUM(j) s = _mm256_add_epi32(s, c##j);
    CHAINS(SUM)
#undef SUM
    *flops = 64.0 * NACC * (double)iters;
    uint32_t lanes[8], sum = 0;
    _mm256_storeu_si256((__m256i *)lanes, s);
    for (int k = 0; k < 8; k++) sum += lanes[k];
    return (float)(int32_t)sum;
}
#endif

float mw_rl_fma_f32(mw_rl_isa isa, uint64_t iters, double *flops)
{
#ifdef RL_X86
    if (isa == MW_RL_AVX512) return fma_avx512(iters, flops);
    if (isa == MW_RL_AVX2) return fma_avx2(iters, flops);
#endif
    (void)isa;
    return fma_c(iters, flops);
}

int mw_rl_has_avxvnni(void)
{
#ifdef RL_X86
    /* CPUID leaf 7 subleaf 1, EAX bit 4 (clang 14's __builtin_cpu_supports
     * has no "avxvnni"); the YMM state is the OS's when it has AVX2 */
    unsigned a, b, c, d;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __get_cpuid_count(7, 1, &a, &b, &c, &d) && ((a >> 4) & 1);
#else
    return 0;
#endif
}

int mw_rl_bf16_available(char *why, size_t cap)
{
#ifdef RL_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl"))
        return 1;
    snprintf(why, cap, "this CPU has no AVX512_BF16 (vdpbf16ps)");
#else
    snprintf(why, cap, "no BF16 dot path for this architecture");
#endif
    return 0;
}

int mw_rl_int8_available(char *why, size_t cap)
{
#ifdef RL_X86
    __builtin_cpu_init();
    if ((__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl")) ||
        mw_rl_has_avxvnni())
        return 1;
    snprintf(why, cap, "this CPU has neither AVX512_VNNI nor AVX-VNNI (vpdpbusd)");
#else
    snprintf(why, cap, "no INT8 dot path for this architecture");
#endif
    return 0;
}

float mw_rl_dot_bf16(uint64_t iters, double *flops)
{
#ifdef RL_X86
    return bf16_avx512(iters, flops);
#else
    (void)iters;
    *flops = 0;
    return 0;
#endif
}

mw_rl_int8_path mw_rl_int8_best(void)
{
#ifdef RL_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl"))
        return MW_RL_INT8_AVX512VNNI;
    if (mw_rl_has_avxvnni()) return MW_RL_INT8_AVXVNNI;
#endif
    return MW_RL_INT8_NONE;
}

float mw_rl_dot_int8(mw_rl_int8_path path, uint64_t iters, double *flops)
{
#ifdef RL_X86
    if (path == MW_RL_INT8_AVX512VNNI) return int8_avx512(iters, flops);
    if (path == MW_RL_INT8_AVXVNNI) return int8_avxvnni(iters, flops);
    *flops = 0;
    return 0;
#else
    (void)path;
    (void)iters;
    *flops = 0;
    return 0;
#endif
}
