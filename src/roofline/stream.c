/*
 * stream.c - the bandwidth kernels: read, write, copy, triad, each as plain
 * C and as AVX2 and AVX-512 paths. Every SIMD function carries its own
 * target attribute (as engine/kernels_x86.c does), so the build needs no
 * -march flag; mw_rl_isa_best() asks the CPU at run time.
 *
 * read keeps four independent accumulators (one add chain would bound it
 * by the add latency, not the loads) and returns their sum, which the
 * caller publishes: the compiler cannot drop the loads.
 */
#include "roofline/roofline.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define RL_X86 1
#include <immintrin.h>
#define T_AVX2 __attribute__((target("avx2,fma")))
#define T_AVX512 __attribute__((target("avx2,fma,avx512f")))
#endif

mw_rl_isa mw_rl_isa_best(void)
{
#ifdef RL_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return MW_RL_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return MW_RL_AVX2;
#endif
    return MW_RL_SCALAR;
}

const char *mw_rl_isa_name(mw_rl_isa isa)
{
    return isa == MW_RL_AVX512 ? "avx512" : isa == MW_RL_AVX2 ? "avx2" : "scalar";
}

/* ---- plain C ---------------------------------------------------------------- */

static float read_c(const float *a, size_t n)
{
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (size_t i = 0; i < n; i += 4) {
        s0 += a[i]; s1 += a[i + 1]; s2 += a[i + 2]; s3 += a[i + 3];
    }
    return (s0 + s1) + (s2 + s3);
}
static void write_c(float *a, size_t n, float v) { for (size_t i = 0; i < n; i++) a[i] = v; }
static void copy_c(float *b, const float *a, size_t n) { for (size_t i = 0; i < n; i++) b[i] = a[i]; }
static void triad_c(float *a, const float *b, const float *c, float s, size_t n)
{
    for (size_t i = 0; i < n; i++) a[i] = b[i] + s * c[i];
}

#ifdef RL_X86
/* ---- SSE: the read with 16-byte loads --------------------------------------- */

/* Eight accumulators of 16-byte loads, 128 bytes an iteration. On the Zen 4
 * VM this project runs on, two threads of this loop stream DRAM 20-35%
 * faster than the 64-byte loads of read_avx512 (33.5-46.7 against
 * 27.3-33.9 GB/s, interleaved, five runs), where in the caches the wide
 * loads win: the DRAM read figure is the better of the two (roofline.c). */
static float read_sse(const float *a, size_t n)
{
    __m128 s0 = _mm_setzero_ps(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
    for (size_t i = 0; i < n; i += 32) {
        s0 = _mm_add_ps(s0, _mm_load_ps(a + i));
        s1 = _mm_add_ps(s1, _mm_load_ps(a + i + 4));
        s2 = _mm_add_ps(s2, _mm_load_ps(a + i + 8));
        s3 = _mm_add_ps(s3, _mm_load_ps(a + i + 12));
        s4 = _mm_add_ps(s4, _mm_load_ps(a + i + 16));
        s5 = _mm_add_ps(s5, _mm_load_ps(a + i + 20));
        s6 = _mm_add_ps(s6, _mm_load_ps(a + i + 24));
        s7 = _mm_add_ps(s7, _mm_load_ps(a + i + 28));
    }
    __m128 s = _mm_add_ps(_mm_add_ps(_mm_add_ps(s0, s1), _mm_add_ps(s2, s3)),
                          _mm_add_ps(_mm_add_ps(s4, s5), _mm_add_ps(s6, s7)));
    float t[4];
    _mm_storeu_ps(t, s);
    return (t[0] + t[1]) + (t[2] + t[3]);
}

/* ---- AVX2 ---------------------------------------------------------------------- */

T_AVX2 static float read_avx2(const float *a, size_t n)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (size_t i = 0; i < n; i += 32) {
        s0 = _mm256_add_ps(s0, _mm256_load_ps(a + i));
        s1 = _mm256_add_ps(s1, _mm256_load_ps(a + i + 8));
        s2 = _mm256_add_ps(s2, _mm256_load_ps(a + i + 16));
        s3 = _mm256_add_ps(s3, _mm256_load_ps(a + i + 24));
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));
    float t[8];
    _mm256_storeu_ps(t, s);
    return ((t[0] + t[1]) + (t[2] + t[3])) + ((t[4] + t[5]) + (t[6] + t[7]));
}
T_AVX2 static void write_avx2(float *a, size_t n, float v)
{
    __m256 x = _mm256_set1_ps(v);
    for (size_t i = 0; i < n; i += 8) _mm256_store_ps(a + i, x);
}
T_AVX2 static void copy_avx2(float *b, const float *a, size_t n)
{
    for (size_t i = 0; i < n; i += 8) _mm256_store_ps(b + i, _mm256_load_ps(a + i));
}
T_AVX2 static void triad_avx2(float *a, const float *b, const float *c, float s, size_t n)
{
    __m256 x = _mm256_set1_ps(s);
    for (size_t i = 0; i < n; i += 8)
        _mm256_store_ps(a + i, _mm256_fmadd_ps(x, _mm256_load_ps(c + i), _mm256_load_ps(b + i)));
}

/* ---- AVX-512 ------------------------------------------------------------------- */

T_AVX512 static float read_avx512(const float *a, size_t n)
{
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (size_t i = 0; i < n; i += 64) {
        s0 = _mm512_add_ps(s0, _mm512_load_ps(a + i));
        s1 = _mm512_add_ps(s1, _mm512_load_ps(a + i + 16));
        s2 = _mm512_add_ps(s2, _mm512_load_ps(a + i + 32));
        s3 = _mm512_add_ps(s3, _mm512_load_ps(a + i + 48));
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}
T_AVX512 static void write_avx512(float *a, size_t n, float v)
{
    __m512 x = _mm512_set1_ps(v);
    for (size_t i = 0; i < n; i += 16) _mm512_store_ps(a + i, x);
}
T_AVX512 static void copy_avx512(float *b, const float *a, size_t n)
{
    for (size_t i = 0; i < n; i += 16) _mm512_store_ps(b + i, _mm512_load_ps(a + i));
}
T_AVX512 static void triad_avx512(float *a, const float *b, const float *c, float s, size_t n)
{
    __m512 x = _mm512_set1_ps(s);
    for (size_t i = 0; i < n; i += 16)
        _mm512_store_ps(a + i, _mm512_fmadd_ps(x, _mm512_load_ps(c + i), _mm512_load_ps(b + i)));
}
#endif

float mw_rl_read(mw_rl_isa isa, const float *a, size_t n)
{
#ifdef RL_X86
    if (isa == MW_RL_AVX512) return read_avx512(a, n);
    if (isa == MW_RL_AVX2) return read_avx2(a, n);
#endif
    (void)isa;
    return read_c(a, n);
}

void mw_rl_write(mw_rl_isa isa, float *a, size_t n, float v)
{
#ifdef RL_X86
    if (isa == MW_RL_AVX512) { write_avx512(a, n, v); return; }
    if (isa == MW_RL_AVX2) { write_avx2(a, n, v); return; }
#endif
    (void)isa;
    write_c(a, n, v);
}

void mw_rl_copy(mw_rl_isa isa, float *b, const float *a, size_t n)
{
#ifdef RL_X86
    if (isa == MW_RL_AVX512) { copy_avx512(b, a, n); return; }
    if (isa == MW_RL_AVX2) { copy_avx2(b, a, n); return; }
#endif
    (void)isa;
    copy_c(b, a, n);
}

void mw_rl_triad(mw_rl_isa isa, float *a, const float *b, const float *c, float s, size_t n)
{
#ifdef RL_X86
    if (isa == MW_RL_AVX512) { triad_avx512(a, b, c, s, n); return; }
    if (isa == MW_RL_AVX2) { triad_avx2(a, b, c, s, n); return; }
#endif
    (void)isa;
    triad_c(a, b, c, s, n);
}

float mw_rl_read_narrow(const float *a, size_t n)
{
#ifdef RL_X86
    return read_sse(a, n);
#else
    return read_c(a, n);
#endif
}
