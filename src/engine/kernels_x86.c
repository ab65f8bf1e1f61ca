/*
 * kernels_x86.c - the SIMD paths of kernels.h for x86-64: AVX2 + FMA + F16C,
 * and AVX-512 (F/BW/VL/VNNI/BF16). Every function carries its own target
 * attribute, so this file builds without -march flags and kernels.c calls a
 * path only after the CPU said it has it.
 *
 * Matrix products work on tiles of R rows of x (R <= 4) by C rows of W: each
 * weight block is loaded once per tile and used for R rows of x, and the C
 * independent accumulator chains hide the FMA latency at m = 1 (decode,
 * where streaming W is all that matters). For m > 1 the loop over x tiles is
 * inside the loop over W tiles, so a tile of W rows stays in L1 while every
 * x row of an L2-sized block of x passes over it: W is read from memory once
 * per block of x, not once per row. While on one tile, the next tile of W is
 * prefetched (see PF below).
 *
 * Quantized dots: a block gives an exact int32 dot per lane; lanes are
 * scaled by d_w * d_x and summed in float (so the float sum is per lane,
 * then across lanes: a different order than the reference's).
 *   AVX2:    |w| * sign(x, w) with vpmaddubsw (no overflow: |w| <= 128, |x| <= 127)
 *   AVX-512: vpdpbusd needs an unsigned operand: (w + 128) . x - 128 Σx for
 *            Q8_0 and q . x - 8 Σx for Q4_0 (q the raw nibble), the Σx term
 *            computed once per x block and used to start the accumulator;
 *            two blocks per 512-bit step, their two f16 scales converted by
 *            one vcvtph2ps and spread over the lanes by one vpermps.
 * BF16 on AVX-512 uses vdpbf16ps: products of two bf16 are exact in f32 and
 * are summed in f32, but the instruction treats subnormal inputs and
 * results as zero (no model weight or activation is that small in practice).
 * F16 is converted with F16C (exact). The quantizers (Q8_0, Q8_K) and the
 * f16 / bf16 row converters write the same bytes as the scalar ones (tests
 * check it).
 *
 * Q4_1, Q5_0, Q5_1 (issue #14) take one block per step, 256-bit: AVX2 with
 * vpmaddubsw (Q4_1 / Q5_1 quants are unsigned as they are; Q5_0 takes the
 * sign trick), AVX-512 with VNNI vpdpbusd; their mins add m * s_x per block.
 *
 * K-quants (Q4_K, Q5_K, Q6_K) times x in Q8_K are the exception to the
 * per-lane float sums: each super-block's integer sums are reduced exactly
 * and added in the reference's float order (mw_kq_acc), so their results
 * are the reference's bits (see the K-quant section below).
 */
#include "engine/kernels_isa.h"

#ifdef MW_K_X86

#include <immintrin.h>
#include <math.h>
#include <string.h>

#define T_AVX2 __attribute__((target("avx2,fma,f16c")))
#define T_AVX512 \
    __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni,avx512bf16")))
#define INLINE static inline __attribute__((always_inline))

#if defined(__clang__)
#define UNROLL _Pragma("unroll")
#else
#define UNROLL _Pragma("GCC unroll 4")
#endif

/* Software prefetch of the next tile of W while computing this one, swept
 * linearly at the rate this tile consumes its own rows. Without it a tile's
 * C short row streams (68 cache lines for a Q8_0 row of 4096) never train
 * the hardware prefetcher, and m = 1 read Q8_0 weights from DRAM at 12 GB/s
 * instead of 35 (bench_kernels). T0 measured better than T1 or NTA. */
#define PF(p) _mm_prefetch((const char *)(p), _MM_HINT_T0)

/* A tile: y[r*n + c] for r < R, c < C, from W rows at W + c*wrow and x rows
 * (prepared) at X + r*xrow. */
typedef void (*tile_fn)(const uint8_t *W, size_t wrow, const uint8_t *X, size_t xrow, float *y,
                        int64_t n, int64_t k, const uint8_t *pf);

typedef struct tiles {
    tile_fn f[4][4];   /* [R-1][C-1]; NULL where no tile of that shape is made */
    int c_one, c_many; /* tile width in W rows when m == 1, when m > 1        */
} tiles;

/* How many tiles ahead to prefetch: enough that the lines are at least
 * PF_MIN_BYTES ahead of the tile being read. One tile of the demo's
 * 768-input Q8_0 rows is 3.2 KiB, too close to cover DRAM's latency: at 2
 * tiles (6.4 KiB) its decode on 2 threads went from 336 to 397 tok/s
 * (bench/decode_rounds.py, 7 rounds, Zen 5); a 4096-input row's tile
 * (17 KiB) stays at 1. */
#define PF_MIN_BYTES 6144
static int pf_tiles_for(int c, size_t wrow)
{
    const size_t tile = (size_t)c * wrow;
    if (tile == 0) return 1;
    const size_t n = (PF_MIN_BYTES + tile - 1) / tile; /* >= 1 */
    return n > 8 ? 8 : (int)n;
}

/* x rows per block: about 256 KiB of prepared x, so a block stays in L2
 * (1 MiB on Zen 5) while W streams past it. */
#define X_BLOCK_BYTES (256u << 10)

static void drive(const tiles *t, const uint8_t *W, size_t wrow, const uint8_t *X, size_t xrow,
                  float *y, int64_t m, int64_t n, int64_t k, int64_t j0, int64_t j1)
{
    const int cw = m == 1 ? t->c_one : t->c_many;
    const int pf_tiles = pf_tiles_for(cw, wrow);
    int64_t mb = (int64_t)(X_BLOCK_BYTES / (xrow ? xrow : 1)) & ~(int64_t)3;
    if (mb < 4) mb = 4;
    for (int64_t i0 = 0; i0 < m; i0 += mb) {
        const int64_t i1 = m - i0 > mb ? i0 + mb : m;
        for (int64_t j = j0; j < j1;) {
            const int c = j1 - j >= cw ? cw : 1;
            /* while on this tile, prefetch a whole tile pf_tiles tiles
             * ahead (once per x block: later x tiles find it in cache) */
            const int64_t ahead = (int64_t)pf_tiles * c;
            const uint8_t *pf = j + ahead + c <= j1 ? W + (size_t)(j + ahead) * wrow : NULL;
            for (int64_t i = i0; i < i1; i += 4) {
                const int r = i1 - i >= 4 ? 4 : (int)(i1 - i);
                t->f[r - 1][c - 1](W + (size_t)j * wrow, wrow, X + (size_t)i * xrow, xrow,
                                   y + i * n + j, n, k, i == i0 ? pf : NULL);
            }
            j += c;
        }
    }
}

/* ======================================================================= */
/* AVX2 + FMA + F16C                                                        */
/* ======================================================================= */

INLINE T_AVX2 float hsum256(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* the f16 scale d at the start of a Q8_0 / Q4_0 block */
INLINE T_AVX2 float blk_d(const uint8_t *b)
{
    uint16_t h;
    memcpy(&h, b, sizeof h);
    return _cvtsh_ss(h);
}

INLINE T_AVX2 __m256 bf16x8_avx2(const uint16_t *p)
{
    __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}

INLINE T_AVX2 float bf16_1(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* The element types of the float tiles, with their 8-wide loads. */
enum { EF32, EF16, EBF16 };
#define ESIZE(E) ((E) == EF32 ? 4 : 2) /* bytes per element    */
#define LINE(E) (64 / ESIZE(E))        /* elements per 64 bytes */

INLINE T_AVX2 __m256 load8(const void *p, int64_t l, const int E)
{
    if (E == EF32) return _mm256_loadu_ps((const float *)p + l);
    if (E == EF16)
        return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)p + l)));
    return bf16x8_avx2((const uint16_t *)p + l);
}

INLINE T_AVX2 float load1(const void *p, int64_t l, const int E)
{
    if (E == EF32) return ((const float *)p)[l];
    if (E == EF16) return _cvtsh_ss(((const uint16_t *)p)[l]);
    return bf16_1(((const uint16_t *)p)[l]);
}

INLINE T_AVX2 void float_tile_avx2(const uint8_t *W, size_t wrow, const uint8_t *X, size_t xrow,
    float *y, int64_t n, int64_t k, const uint8_t *pf, const int R, const int C, const int E)
{
    __m256 acc[4][4];
    UNROLL for (int r = 0; r < R; r++)
        UNROLL for (int c = 0; c < C; c++) acc[r][c] = _mm256_setzero_ps();
    int64_t l = 0;
    for (; l + 8 <= k; l += 8) {
        __m256 wv[4];
        UNROLL for (int c = 0; c < C; c++) {
            if (pf && l % LINE(E) == 0) PF(pf + ((size_t)l * C + (size_t)c * LINE(E)) * ESIZE(E));
            wv[c] = load8(W + c * wrow, l, E);
        }
        UNROLL for (int r = 0; r < R; r++) {
            const __m256 xv = load8(X + r * xrow, l, E);
            UNROLL for (int c = 0; c < C; c++) acc[r][c] = _mm256_fmadd_ps(xv, wv[c], acc[r][c]);
        }
    }
    UNROLL for (int r = 0; r < R; r++) {
        UNROLL for (int c = 0; c < C; c++) {
            float s = hsum256(acc[r][c]);
            for (int64_t t = l; t < k; t++)
                s += load1(X + r * xrow, t, E) * load1(W + c * wrow, t, E);
            y[r * n + c] = s;
        }
    }
}

/* 32 Q4_0 nibbles as int8 in element order: low nibbles are elements 0..15,
 * high nibbles 16..31; minus 8 unless raw. */
INLINE T_AVX2 __m256i q4_elems(const uint8_t *qs, const int raw)
{
    const __m128i m4 = _mm_set1_epi8(0x0f);
    const __m128i q = _mm_loadu_si128((const __m128i *)qs);
    const __m128i lo = _mm_and_si128(q, m4), hi = _mm_and_si128(_mm_srli_epi16(q, 4), m4);
    const __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
    return raw ? v : _mm256_sub_epi8(v, _mm256_set1_epi8(8));
}

INLINE T_AVX2 void quant_tile_avx2(const uint8_t *W, size_t wrow, const uint8_t *X, size_t xrow,
    float *y, int64_t n, int64_t k, const uint8_t *pf, const int R, const int C, const int Q4)
{
    const size_t wb = Q4 ? MW_K_Q4_0_BYTES : MW_K_Q8_0_BYTES;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[4][4];
    UNROLL for (int r = 0; r < R; r++)
        UNROLL for (int c = 0; c < C; c++) acc[r][c] = _mm256_setzero_ps();
    const int64_t nb = k / MW_K_QK;
    for (int64_t b = 0; b < nb; b++) {
        __m256i wv[4], aw[4];
        float dw[4];
        UNROLL for (int c = 0; c < C; c++) {
            const uint8_t *p = W + c * wrow + (size_t)b * wb;
            if (pf) PF(pf + ((size_t)b * C + c) * wb);
            dw[c] = blk_d(p);
            wv[c] = Q4 ? q4_elems(p + 2, 0) : _mm256_loadu_si256((const __m256i *)(p + 2));
            aw[c] = _mm256_sign_epi8(wv[c], wv[c]);
        }
        UNROLL for (int r = 0; r < R; r++) {
            const uint8_t *p = X + r * xrow + (size_t)b * MW_K_Q8_0_BYTES;
            const float dx = blk_d(p);
            const __m256i xv = _mm256_loadu_si256((const __m256i *)(p + 2));
            UNROLL for (int c = 0; c < C; c++) {
                const __m256i s16 = _mm256_maddubs_epi16(aw[c], _mm256_sign_epi8(xv, wv[c]));
                const __m256 s = _mm256_cvtepi32_ps(_mm256_madd_epi16(s16, ones));
                acc[r][c] = _mm256_fmadd_ps(_mm256_set1_ps(dw[c] * dx), s, acc[r][c]);
            }
        }
    }
    UNROLL for (int r = 0; r < R; r++)
        UNROLL for (int c = 0; c < C; c++) y[r * n + c] = hsum256(acc[r][c]);
}

#define TILE_AVX2(name, body, R, C, X)                                                          \
    static T_AVX2 void name##_##R##_##C(const uint8_t *W, size_t wrow, const uint8_t *Xp,      \
                                        size_t xrow, float *y, int64_t n, int64_t k,            \
                                          const uint8_t *pf)                                   \
    {                                                                                          \
        body(W, wrow, Xp, xrow, y, n, k, pf, R, C, X);                                             \
    }
/* AVX2 has 16 vector registers: 1 x 4 tiles for decode, 4 x 2 otherwise */
#define TILES_AVX2(name, body, X)                                                               \
    TILE_AVX2(name, body, 1, 1, X) TILE_AVX2(name, body, 1, 2, X) TILE_AVX2(name, body, 1, 4, X) \
    TILE_AVX2(name, body, 2, 1, X) TILE_AVX2(name, body, 2, 2, X)                               \
    TILE_AVX2(name, body, 3, 1, X) TILE_AVX2(name, body, 3, 2, X)                               \
    TILE_AVX2(name, body, 4, 1, X) TILE_AVX2(name, body, 4, 2, X)                               \
    static const tiles name = {{{name##_1_1, name##_1_2, NULL, name##_1_4},                     \
                                {name##_2_1, name##_2_2, NULL, NULL},                           \
                                {name##_3_1, name##_3_2, NULL, NULL},                           \
                                {name##_4_1, name##_4_2, NULL, NULL}},                          \
                               4, 2};

TILES_AVX2(t2_f32, float_tile_avx2, EF32)
TILES_AVX2(t2_f16, float_tile_avx2, EF16)
TILES_AVX2(t2_bf16, float_tile_avx2, EBF16)
TILES_AVX2(t2_q8_0, quant_tile_avx2, 0)
TILES_AVX2(t2_q4_0, quant_tile_avx2, 1)

static size_t q_row(int64_t k, size_t block_bytes)
{
    return (size_t)(k / MW_K_QK) * block_bytes;
}

#define MATMUL(fn, ATTR, tab, wrow_expr, xrow_expr)                                             \
    static ATTR void fn(const void *W, const void *xp, float *y, int64_t m, int64_t n, int64_t k, \
                        int64_t j0, int64_t j1)                                                 \
    {                                                                                           \
        drive(&tab, W, wrow_expr, xp, xrow_expr, y, m, n, k, j0, j1);                           \
    }

MATMUL(matmul_f32_avx2, T_AVX2, t2_f32, (size_t)k * 4, (size_t)k * 4)
MATMUL(matmul_f16_avx2, T_AVX2, t2_f16, (size_t)k * 2, (size_t)k * 2)
MATMUL(matmul_bf16_avx2, T_AVX2, t2_bf16, (size_t)k * 2, (size_t)k * 2)
MATMUL(matmul_q8_0_avx2, T_AVX2, t2_q8_0, q_row(k, MW_K_Q8_0_BYTES), q_row(k, MW_K_Q8_0_BYTES))
MATMUL(matmul_q4_0_avx2, T_AVX2, t2_q4_0, q_row(k, MW_K_Q4_0_BYTES), q_row(k, MW_K_Q8_0_BYTES))

/* ---- issue #14: Q4_1, Q5_0, Q5_1 weights (AVX2) ---------------------------
 * One block of 32 per step, as the Q4_0 tile: the raw quants (0..15 or
 * 0..31) in element order, the fifth bits spread from qh (bit e -> 16 in
 * byte e). Q5_0 (x in Q8_0) takes q - 16 with the sign trick; Q4_1 / Q5_1
 * (x in Q8_1) are unsigned, so vpmaddubsw takes them as they are, and the
 * min adds m * s_x once per block (summed apart from the lanes). WT: 0 Q4_1,
 * 1 Q5_0, 2 Q5_1. */
INLINE T_AVX2 __m256i q5_hbits_avx2(const uint8_t *qh)
{
    uint32_t h;
    memcpy(&h, qh, sizeof h);
    const __m256i shuf = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                          2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    const __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)h), shuf);
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit), _mm256_set1_epi8(16));
}

#define Q51_WB(WT) ((WT) == 0 ? MW_K_Q4_1_BYTES : (WT) == 1 ? MW_K_Q5_0_BYTES : MW_K_Q5_1_BYTES)
#define Q51_XB(WT) ((WT) == 1 ? MW_K_Q8_0_BYTES : MW_K_Q8_1_BYTES)

INLINE T_AVX2 __m256i q51_raw_avx2(const uint8_t *p, const int WT)
{
    if (WT == 0) return q4_elems(p + 4, 1);
    const uint8_t *qh = p + (WT == 1 ? 2 : 4);
    return _mm256_or_si256(q4_elems(qh + 4, 1), q5_hbits_avx2(qh));
}

INLINE T_AVX2 void q51_tile_avx2(const uint8_t *W, size_t wrow, const uint8_t *X, size_t xrow,
    float *y, int64_t n, int64_t k, const uint8_t *pf, const int R, const int C, const int WT)
{
    const size_t wb = Q51_WB(WT), xb = Q51_XB(WT);
    const int xo = WT == 1 ? 2 : 4;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[4][4];
    float macc[4][4] = {{0}};
    UNROLL for (int r = 0; r < R; r++)
        UNROLL for (int c = 0; c < C; c++) acc[r][c] = _mm256_setzero_ps();
    const int64_t nb = k / MW_K_QK;
    for (int64_t b = 0; b < nb; b++) {
        __m256i wv[4], aw[4];
        float dw[4], mw[4];
        UNROLL for (int c = 0; c < C; c++) {
            const uint8_t *p = W + c * wrow + (size_t)b * wb;
            if (pf) PF(pf + ((size_t)b * C + c) * wb);
            dw[c] = blk_d(p);
            mw[c] = WT == 1 ? 0.0f : blk_d(p + 2);
            wv[c] = q51_raw_avx2(p, WT);
            if (WT == 1) wv[c] = _mm256_sub_epi8(wv[c], _mm256_set1_epi8(16));
            aw[c] = WT == 1 ? _mm256_sign_epi8(wv[c], wv[c]) : wv[c];
        }
        UNROLL for (int r = 0; r < R; r++) {
            const uint8_t *p = X + r * xrow + (size_t)b * xb;
            const float dx = blk_d(p), sx = WT == 1 ? 0.0f : blk_d(p + 2);
            const __m256i xv = _mm256_loadu_si256((const __m256i *)(p + xo));
            UNROLL for (int c = 0; c < C; c++) {
                const __m256i s16 = _mm256_maddubs_epi16(aw[c], WT == 1 ? _mm256_sign_epi8(xv, wv[c]) : xv);
                const __m256 s = _mm256_cvtepi32_ps(_mm256_madd_epi16(s16, ones));
                acc[r][c] = _mm256_fmadd_ps(_mm256_set1_ps(dw[c] * dx), s, acc[r][c]);
                if (WT != 1) macc[r][c] += mw[c] * sx;
            }
        }
    }
    UNROLL for (int r = 0; r < R; r++)
        UNROLL for (int c = 0; c < C; c++) y[r * n + c] = hsum256(acc[r][c]) + macc[r][c];
}

TILES_AVX2(t2_q4_1, q51_tile_avx2, 0)
TILES_AVX2(t2_q5_0, q51_tile_avx2, 1)
TILES_AVX2(t2_q5_1, q51_tile_avx2, 2)
MATMUL(matmul_q4_1_avx2, T_AVX2, t2_q4_1, q_row(k, MW_K_Q4_1_BYTES), q_row(k, MW_K_Q8_1_BYTES))
MATMUL(matmul_q5_0_avx2, T_AVX2, t2_q5_0, q_row(k, MW_K_Q5_0_BYTES), q_row(k, MW_K_Q8_0_BYTES))
MATMUL(matmul_q5_1_avx2, T_AVX2, t2_q5_1, q_row(k, MW_K_Q5_1_BYTES), q_row(k, MW_K_Q8_1_BYTES))

/* ---- rows (AVX2) ---------------------------------------------------------- */

/* roundf() of 8 floats: half away from zero, as ggml's reference quantizer
 * rounds (vroundps has no such mode). v - trunc(v) is exact. */
INLINE T_AVX2 __m256 roundf8(__m256 v)
{
    const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256 frac = _mm256_andnot_ps(sign, _mm256_sub_ps(v, t));
    const __m256 up = _mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
    const __m256 one = _mm256_or_ps(_mm256_set1_ps(1.0f), _mm256_and_ps(sign, v));
    return _mm256_add_ps(t, _mm256_and_ps(up, one));
}

/* act = 0: ggml's reference quantizer (id = 1/d, rounding half away from
 * zero), for weights. act = 1: what llama.cpp's CPU backend does to
 * activations and KV rows (id = 127/amax, rounding half to even). */
static T_AVX2 void quant_row_q8_0_avx2_impl(const float *src, void *dst, int64_t k, int act)
{
    uint8_t *out = dst;
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int64_t b = 0; b < k / MW_K_QK; b++, src += MW_K_QK, out += MW_K_Q8_0_BYTES) {
        __m256 v[4];
        __m256 amax = _mm256_setzero_ps();
        for (int i = 0; i < 4; i++) {
            v[i] = _mm256_loadu_ps(src + 8 * i);
            amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, v[i]));
        }
        __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
        m = _mm_max_ps(m, _mm_movehl_ps(m, m));
        m = _mm_max_ss(m, _mm_movehdup_ps(m));
        const float amaxs = _mm_cvtss_f32(m);
        const float d = amaxs / 127.0f;
        const float id = act ? (amaxs != 0.0f ? 127.0f / amaxs : 0.0f) : (d != 0.0f ? 1.0f / d : 0.0f);
        const uint16_t h = mw_fp32_to_fp16(d);
        memcpy(out, &h, sizeof h);
        __m256i q[4];
        for (int i = 0; i < 4; i++) {
            __m256 s = _mm256_mul_ps(v[i], _mm256_set1_ps(id));
            /* cvtps rounds by MXCSR: to nearest even by default */
            q[i] = act ? _mm256_cvtps_epi32(s) : _mm256_cvttps_epi32(roundf8(s));
        }
        /* packs work within 128-bit lanes: put the 32-bit groups back in order */
        __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]),
                                       _mm256_packs_epi32(q[2], q[3]));
        p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)(out + 2), p);
    }
}

static T_AVX2 void quant_row_q8_0_avx2(const float *src, void *dst, int64_t k)
{
    quant_row_q8_0_avx2_impl(src, dst, k, 0);
}

static T_AVX2 void quant_row_q8_0_act_avx2(const float *src, void *dst, int64_t k)
{
    quant_row_q8_0_avx2_impl(src, dst, k, 1);
}

static T_AVX2 void row_to_f16_avx2(const float *src, uint16_t *dst, int64_t k)
{
    int64_t i = 0;
    for (; i + 8 <= k; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(src + i),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    for (; i < k; i++) dst[i] = mw_fp32_to_fp16(src[i]);
}

static T_AVX2 void f16_to_row_avx2(const uint16_t *src, float *dst, int64_t k)
{
    int64_t i = 0;
    for (; i + 8 <= k; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    for (; i < k; i++) dst[i] = mw_fp16_to_fp32(src[i]);
}

/* fp32 -> bf16 rounding to nearest even, in integers, as mw_fp32_to_bf16
 * does (vcvtneps2bf16 would flush subnormals) */
INLINE T_AVX2 __m256i bf16_round8(__m256 f)
{
    const __m256i u = _mm256_castps_si256(f);
    const __m256i hi = _mm256_srli_epi32(u, 16);
    const __m256i odd = _mm256_and_si256(hi, _mm256_set1_epi32(1));
    const __m256i r = _mm256_srli_epi32(
        _mm256_add_epi32(u, _mm256_add_epi32(_mm256_set1_epi32(0x7fff), odd)), 16);
    const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, _mm256_set1_epi32(0x7fffffff)),
                                           _mm256_set1_epi32(0x7f800000));
    return _mm256_blendv_epi8(r, _mm256_or_si256(hi, _mm256_set1_epi32(0x40)), nan);
}

static T_AVX2 void row_to_bf16_avx2(const float *src, uint16_t *dst, int64_t k)
{
    int64_t i = 0;
    for (; i + 16 <= k; i += 16) {
        const __m256i a = bf16_round8(_mm256_loadu_ps(src + i));
        const __m256i b = bf16_round8(_mm256_loadu_ps(src + i + 8));
        const __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), 0xd8);
        _mm256_storeu_si256((__m256i *)(dst + i), p);
    }
    for (; i < k; i++) dst[i] = mw_fp32_to_bf16(src[i]);
}

static T_AVX2 float dot_f32_avx2(const float *a, const float *b, int64_t n)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8)
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    float s = hsum256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

static T_AVX2 void axpy_avx2(float *y, float a, const float *x, int64_t n)
{
    const __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i,
                         _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += a * x[i];
}

static T_AVX2 void rmsnorm_avx2(float *y, const float *x, const float *w, int64_t n, float eps)
{
    __m256d s0 = _mm256_setzero_pd(), s1 = s0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        const __m256 sq = _mm256_mul_ps(v, v); /* squares in float, sums in double (ggml) */
        s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(sq)));
        s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(sq, 1)));
    }
    __m256d s = _mm256_add_pd(s0, s1);
    __m128d h = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
    double sum = _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
    for (; i < n; i++) sum += (double)(x[i] * x[i]);
    const float mean = (float)(sum / (double)n);
    const float scale = 1.0f / sqrtf(mean + eps);
    const __m256 vs = _mm256_set1_ps(scale);
    for (i = 0; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + i), vs);
        _mm256_storeu_ps(y + i, _mm256_mul_ps(v, _mm256_loadu_ps(w + i)));
    }
    for (; i < n; i++) y[i] = (x[i] * scale) * w[i];
}

/* expf of 8 floats, within ~2 ulp of libm's (also for subnormal results):
 * e^x = 2^n e^r with n = round(x log2 e), r = x - n ln2 (Cody-Waite), e^r
 * by its Taylor series to r^7 (|r| <= 0.35: truncation < 0.1 ulp), and 2^n
 * applied in two steps so that n in [-150, 128] needs no special case. */
INLINE T_AVX2 __m256 exp8(__m256 x)
{
    /* clamp to [-104, 89] (beyond: 0 and inf anyway); a NaN stays NaN */
    x = _mm256_max_ps(_mm256_set1_ps(-104.0f), _mm256_min_ps(_mm256_set1_ps(89.0f), x));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.0f / 5040.0f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    const __m256i ni = _mm256_cvtps_epi32(n);
    const __m256i n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
    const __m256i bias = _mm256_set1_epi32(127);
    const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
    const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

static T_AVX2 void softmax_avx2(float *x, int64_t n)
{
    if (n <= 0) return;
    __m256 vm = _mm256_set1_ps(-INFINITY);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) vm = _mm256_max_ps(vm, _mm256_loadu_ps(x + i));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(vm), _mm256_extractf128_ps(vm, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    float max = _mm_cvtss_f32(_mm_max_ss(m4, _mm_movehdup_ps(m4)));
    for (; i < n; i++) max = fmaxf(max, x[i]);
    const __m256 vmax = _mm256_set1_ps(max);
    __m256d s0 = _mm256_setzero_pd(), s1 = s0;
    for (i = 0; i + 8 <= n; i += 8) {
        const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), vmax));
        _mm256_storeu_ps(x + i, e);
        s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
        s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
    }
    __m256d s = _mm256_add_pd(s0, s1);
    __m128d h = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
    double sum = _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
    for (; i < n; i++) {
        x[i] = expf(x[i] - max);
        sum += (double)x[i];
    }
    const float scale = (float)(1.0 / sum);
    const __m256 vs = _mm256_set1_ps(scale);
    for (i = 0; i + 8 <= n; i += 8)
        _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), vs));
    for (; i < n; i++) x[i] *= scale;
}

static T_AVX2 void silu_mul_avx2(float *g, const float *u, int64_t n)
{
    const __m256 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(g + i);
        const __m256 e = exp8(_mm256_xor_ps(v, sign));
        const __m256 s = _mm256_div_ps(v, _mm256_add_ps(one, e));
        _mm256_storeu_ps(g + i, _mm256_mul_ps(s, _mm256_loadu_ps(u + i)));
    }
    for (; i < n; i++) g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

/* Q8_K (kernels.c's mw_k_quant_row_q8_k, the reference, says what): the
 * same float operations 8 at a time, so the same bytes. The max's sign is
 * that of the first value of largest magnitude. */
static T_AVX2 void quant_row_q8_k_avx2(const float *src, void *dst, int64_t k)
{
    uint8_t *out = dst;
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int64_t b = 0; b < k / MW_K_QKK; b++, src += MW_K_QKK, out += MW_K_Q8_K_BYTES) {
        __m256 am = _mm256_setzero_ps();
        for (int j = 0; j < MW_K_QKK; j += 8) /* a NaN x (first operand) is skipped, as in the reference */
            am = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(src + j)), am);
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(am), _mm256_extractf128_ps(am, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        const float amax = _mm_cvtss_f32(m4);
        int8_t *qs = (int8_t *)(out + 4);
        int16_t bsums[16];
        float d = 0.0f;
        if (amax == 0.0f) {
            memset(qs, 0, MW_K_QKK);
            memset(bsums, 0, sizeof bsums);
        } else {
            float max = amax;
            for (int j = 0; j < MW_K_QKK; j++)
                if (fabsf(src[j]) == amax) {
                    max = src[j];
                    break;
                }
            const float iscale = -127.0f / max;
            const __m256 is = _mm256_set1_ps(iscale), lim = _mm256_set1_ps(127.0f);
            for (int j = 0; j < MW_K_QKK; j += 32) {
                __m256i v[4];
                for (int u = 0; u < 4; u++) {
                    __m256 f = _mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(src + j + 8 * u), is),
                                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
                    v[u] = _mm256_cvtps_epi32(_mm256_min_ps(f, lim));
                }
                const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(v[0], v[1]), _mm256_packs_epi32(v[2], v[3]));
                const __m256i q = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
                _mm256_storeu_si256((__m256i *)(qs + j), q);
                /* the sums of each 16: vpmaddubsw of ones by q, then pairs */
                const __m256i s16 = _mm256_maddubs_epi16(_mm256_set1_epi8(1), q);
                const __m256i s32 = _mm256_madd_epi16(s16, _mm256_set1_epi16(1)); /* 8 sums of 4 */
                const __m256i h = _mm256_hadd_epi32(s32, s32); /* sums of 8: 0 1 . . | 2 3 . . */
                const __m256i h2 = _mm256_hadd_epi32(h, h);    /* sums of 16: 0 . | 1 . */
                bsums[j / 16] = (int16_t)_mm256_cvtsi256_si32(h2);
                bsums[j / 16 + 1] = (int16_t)_mm_cvtsi128_si32(_mm256_extracti128_si256(h2, 1));
            }
            d = 1.0f / iscale;
        }
        memcpy(out, &d, sizeof d);
        memcpy(out + 4 + MW_K_QKK, bsums, sizeof bsums);
    }
}

/* ---- K-quants (Q4_K, Q5_K, Q6_K) times x in Q8_K ---------------------------
 * Per W row, x rows in groups of up to 4: a super-block's quants are
 * unpacked once into registers (unsigned: 0..15, 0..31, 0..63) and met by
 * each x row's Q8_K block. vpmaddubsw (pairs, no saturation: 2·63·127 <
 * 32767) then vpmaddwd by the sub-block's scale give int32 lanes, summed
 * into the super-block's exact isum; the mins (Q4_K/Q5_K) and Q6_K's -32
 * come from x's bsums with one vpmaddwd. mw_kq_acc (kernels_isa.h) adds
 * them in the reference's order, so the result has the reference's bits. */

/* the 6-bit scales and mins of the 8 sub-blocks, from the 12-byte field */
INLINE void kq_scales8(const uint8_t *s, uint8_t sc[8], uint8_t mn[8])
{
    uint32_t a, b, c;
    memcpy(&a, s, 4);
    memcpy(&b, s + 4, 4);
    memcpy(&c, s + 8, 4);
    const uint32_t sl = a & 0x3f3f3f3fu, ml = b & 0x3f3f3f3fu;
    const uint32_t sh = (c & 0x0f0f0f0fu) | ((a >> 2) & 0x30303030u);
    const uint32_t mh = ((c >> 4) & 0x0f0f0f0fu) | ((b >> 2) & 0x30303030u);
    memcpy(sc, &sl, 4);
    memcpy(sc + 4, &sh, 4);
    memcpy(mn, &ml, 4);
    memcpy(mn + 4, &mh, 4);
}

/* the sums of the 8 int32 lanes of s and of m at once */
INLINE T_AVX2 void hsum2_i32_avx2(__m256i s, __m256i m, int32_t *ss, int32_t *ms)
{
    const __m256i h = _mm256_hadd_epi32(s, m); /* s01 s23 m01 m23 | s45 s67 m45 m67 */
    __m128i t = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
    t = _mm_add_epi32(t, _mm_shuffle_epi32(t, _MM_SHUFFLE(2, 3, 0, 1)));
    *ss = _mm_cvtsi128_si32(t);
    *ms = _mm_extract_epi32(t, 2);
}

/* the 8 scales as int16, each in all 16 lanes of scv[s] */
INLINE T_AVX2 void scales16_avx2(const uint8_t sc[8], __m256i scv[8])
{
    uint64_t s8;
    memcpy(&s8, sc, 8);
    const __m256i b = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(_mm_cvtsi64_si128((long long)s8)));
    for (int s = 0; s < 8; s++)
        scv[s] = _mm256_shuffle_epi8(b, _mm256_set1_epi16((short)(((2 * s + 1) << 8) | (2 * s))));
}

/* the 16 int16 bsums of a Q8_K block */
INLINE T_AVX2 __m256i q8k_bsums(const uint8_t *xb)
{
    return _mm256_loadu_si256((const __m256i *)(xb + 4 + MW_K_QKK));
}

/* Q4_K/Q5_K: the quants of a super-block in weight order, 32 per register */
INLINE T_AVX2 void q45k_unpack_avx2(const uint8_t *w, int five, __m256i q[8])
{
    const __m256i m4 = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(1);
    const uint8_t *qs = w + (five ? 48 : 16);
    const __m256i hb = five ? _mm256_loadu_si256((const __m256i *)(w + 16)) : _mm256_setzero_si256();
    for (int c = 0; c < 4; c++) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
        q[2 * c] = _mm256_and_si256(v, m4);
        q[2 * c + 1] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
        if (five) {
            q[2 * c] = _mm256_or_si256(q[2 * c], _mm256_slli_epi16(_mm256_and_si256(
                _mm256_srl_epi16(hb, _mm_cvtsi32_si128(2 * c)), one), 4));
            q[2 * c + 1] = _mm256_or_si256(q[2 * c + 1], _mm256_slli_epi16(_mm256_and_si256(
                _mm256_srl_epi16(hb, _mm_cvtsi32_si128(2 * c + 1)), one), 4));
        }
    }
}

/* [m0, m0, m1, m1, ..., m7, m7] as int16, against the 16 bsums */
INLINE T_AVX2 __m256i mins_pairs16(const uint8_t mn[8])
{
    uint64_t m8;
    memcpy(&m8, mn, 8);
    const __m128i v = _mm_cvtsi64_si128((long long)m8);
    return _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(v, v));
}

INLINE T_AVX2 void q45k_rows_avx2(const uint8_t *w, const uint8_t *const *xb, int R, int five,
                                  float *acc)
{
    uint8_t sc[8], mn[8];
    kq_scales8(w + 4, sc, mn);
    const float d = blk_d(w), dmin = blk_d(w + 2);
    __m256i q[8], scv[8];
    q45k_unpack_avx2(w, five, q);
    scales16_avx2(sc, scv);
    const __m256i mins = mins_pairs16(mn);
    for (int r = 0; r < R; r++) {
        const uint8_t *x = xb[r] + 4;
        __m256i sum = _mm256_setzero_si256();
        for (int s = 0; s < 8; s++) {
            const __m256i p = _mm256_maddubs_epi16(q[s], _mm256_loadu_si256((const __m256i *)(x + 32 * s)));
            sum = _mm256_add_epi32(sum, _mm256_madd_epi16(p, scv[s]));
        }
        int32_t isum, msum;
        hsum2_i32_avx2(sum, _mm256_madd_epi16(q8k_bsums(xb[r]), mins), &isum, &msum);
        acc[r] = mw_kq_acc(acc[r], mw_kq8k_d(xb[r]), d, dmin, isum, msum);
    }
}

/* Q6_K: the quants (0..63, the -32 not taken yet) in weight order */
INLINE T_AVX2 void q6k_unpack_avx2(const uint8_t *w, __m256i g[8])
{
    const __m256i m4 = _mm256_set1_epi8(0x0f), m2 = _mm256_set1_epi8(3);
    for (int h = 0; h < 2; h++) {
        const uint8_t *ql = w + 64 * h, *qhp = w + 128 + 32 * h;
        const __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
        const __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
        const __m256i qh = _mm256_loadu_si256((const __m256i *)qhp);
        __m256i *o = g + 4 * h;
        o[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m2), 4));
        o[1] = _mm256_or_si256(_mm256_and_si256(l1, m4),
                               _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m2), 4));
        o[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                               _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m2), 4));
        o[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                               _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m2), 4));
    }
}

INLINE T_AVX2 void q6k_rows_avx2(const uint8_t *w, const uint8_t *const *xb, int R, float *acc)
{
    const int8_t *sc = (const int8_t *)(w + 192);
    const float d = blk_d(w + 208);
    __m256i g[8], scv[8];
    q6k_unpack_avx2(w, g);
    for (int s = 0; s < 8; s++) /* 32 weights: sub-blocks 2s (16 lanes low) and 2s+1 */
        scv[s] = _mm256_setr_m128i(_mm_set1_epi16(sc[2 * s]), _mm_set1_epi16(sc[2 * s + 1]));
    const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)sc));
    for (int r = 0; r < R; r++) {
        const uint8_t *x = xb[r] + 4;
        __m256i sum = _mm256_setzero_si256();
        for (int s = 0; s < 8; s++) {
            const __m256i p = _mm256_maddubs_epi16(g[s], _mm256_loadu_si256((const __m256i *)(x + 32 * s)));
            sum = _mm256_add_epi32(sum, _mm256_madd_epi16(p, scv[s]));
        }
        /* Σ sc (q - 32) x = Σ sc q x - 32 Σ sc bsum */
        int32_t isum, off;
        hsum2_i32_avx2(sum, _mm256_madd_epi16(q8k_bsums(xb[r]), sc16), &isum, &off);
        acc[r] = mw_kq_acc(acc[r], mw_kq8k_d(xb[r]), d, 0.0f, isum - 32 * off, 0);
    }
}

/* y[i, j] for j in [j0, j1), all i, with rows(w, xb, R, acc) adding one
 * super-block of W row j times R <= G x rows to acc */
#define KQ_MATMUL(name, ATTR, G, wbytes, rows)                                                       \
    static ATTR void name(const void *W, const void *xp, float *y, int64_t m, int64_t n, int64_t k, \
                          int64_t j0, int64_t j1)                                                    \
    {                                                                                                \
        const int64_t nb = k / MW_K_QKK;                                                             \
        const size_t wrow = (size_t)nb * (wbytes), xrow = (size_t)nb * MW_K_Q8_K_BYTES;              \
        for (int64_t j = j0; j < j1; j++) {                                                          \
            const uint8_t *w0 = (const uint8_t *)W + (size_t)j * wrow;                               \
            for (int64_t i = 0; i < m; i += (G)) {                                                   \
                const int R = m - i >= (G) ? (G) : (int)(m - i);                                     \
                const uint8_t *xb[G];                                                                \
                float acc[G];                                                                        \
                for (int r = 0; r < R; r++) {                                                        \
                    xb[r] = (const uint8_t *)xp + (size_t)(i + r) * xrow;                            \
                    acc[r] = 0.0f;                                                                   \
                }                                                                                    \
                const uint8_t *w = w0;                                                               \
                for (int64_t b = 0; b < nb; b++, w += (wbytes)) {                                    \
                    rows;                                                                            \
                    for (int r = 0; r < R; r++) xb[r] += MW_K_Q8_K_BYTES;                            \
                }                                                                                    \
                for (int r = 0; r < R; r++) y[(i + r) * n + j] = acc[r];                             \
            }                                                                                        \
        }                                                                                            \
    }
KQ_MATMUL(matmul_q4_k_avx2, T_AVX2, 4, MW_K_Q4_K_BYTES, q45k_rows_avx2(w, xb, R, 0, acc))
KQ_MATMUL(matmul_q5_k_avx2, T_AVX2, 4, MW_K_Q5_K_BYTES, q45k_rows_avx2(w, xb, R, 1, acc))
KQ_MATMUL(matmul_q6_k_avx2, T_AVX2, 4, MW_K_Q6_K_BYTES, q6k_rows_avx2(w, xb, R, acc))

const mw_k_ops mw_k_ops_avx2 = {
    .matmul_f32 = matmul_f32_avx2,
    .matmul_f16 = matmul_f16_avx2,
    .matmul_bf16 = matmul_bf16_avx2,
    .matmul_q8_0 = matmul_q8_0_avx2,
    .matmul_q4_0 = matmul_q4_0_avx2,
    .matmul_q4_k = matmul_q4_k_avx2,
    .matmul_q5_k = matmul_q5_k_avx2,
    .matmul_q6_k = matmul_q6_k_avx2,
    .quant_row_q8_0 = quant_row_q8_0_avx2,
    .quant_row_q8_0_act = quant_row_q8_0_act_avx2,
    .quant_row_q8_k = quant_row_q8_k_avx2,
    .row_to_f16 = row_to_f16_avx2,
    .row_to_bf16 = row_to_bf16_avx2,
    .f16_to_row = f16_to_row_avx2,
    .dot_f32 = dot_f32_avx2,
    .axpy = axpy_avx2,
    .rmsnorm = rmsnorm_avx2,
    .softmax = softmax_avx2,
    .silu_mul = silu_mul_avx2,
    .matmul_q4_1 = matmul_q4_1_avx2, /* issue #14 */
    .matmul_q5_0 = matmul_q5_0_avx2,
    .matmul_q5_1 = matmul_q5_1_avx2,
};

/* ======================================================================= */
/* AVX-512 F/BW/VL/VNNI/BF16                                               */
/* ======================================================================= */

INLINE T_AVX512 __mmask16 tail16(int64_t left)
{
    return left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1u);
}

/* 16 elements of type E (masked: lanes past the mask are 0) */
INLINE T_AVX512 __m512 load16(const void *p, int64_t l, __mmask16 m, const int E)
{
    if (E == EF32) return _mm512_maskz_loadu_ps(m, (const float *)p + l);
    const __m256i h = _mm256_maskz_loadu_epi16(m, (const uint16_t *)p + l);
    if (E == EF16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

INLINE T_AVX512 __m512 load16u(const void *p, int64_t l, const int E)
{
    if (E == EF32) return _mm512_loadu_ps((const float *)p + l);
    const __m256i h = _mm256_loadu_si256((const __m256i *)((const uint16_t *)p + l));
    if (E == EF16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

INLINE T_AVX512 void float_tile_avx512(const uint8_t *W, size_t wrow, const uint8_t *X, size_t xrow,
    float *y, int64_t n, int64_t k, const uint8_t *pf, const int R, const int C, const int E)
{
    __m512 acc[4][4];
    UNROLL for (int r = 0; r < R; r++)
        UNROLL for (int c = 0; c < C; c++) acc[r][c] = _mm512_setzero_ps();
    int64_t l = 0;
    for (; l + 16 <= k; l += 16) {
        __m512 wv[4];
        UNROLL for (int c = 0; c < C; c++) {
            if (pf && l % LINE(E) == 0) PF(pf + ((size_t)l * C + (size_t)c * LINE(E)) * ESIZE(E));
            wv[c] = load16u(W + c * wrow, l, E);
        }
        UNROLL for (int r = 0; r < R; r++) {
            const __m512 xv = load16u(X + r * xrow, l, E);
            UNROLL for (int c = 0; c < C; c++) acc[r][c] = _mm512_fmadd_ps(xv, wv[c], acc[r][c]);
        }
    }
    if (l < k) {
        const __mmask16 m = tail16(k - l);
        __m512 wv[4];
        UNROLL for (int c = 0; c < C; c++) wv[c] = load16(W + c * wrow, l, m, E);
        UNROLL for (int r = 0; r < R; r++) {
            const __m512 xv = load16(X + r * xrow, l, m, E);
            UNROLL for (int c = 0; c < C; c++) acc[r][c] = _mm512_fmadd_ps(xv, wv[c], acc[r][c]);
        }
    }
    UNROLL for (int r = 0; r < R; r++)
        UNROLL for (int c = 0; c < C; c++) y[r * n + c] = _mm512_reduce_add_ps(acc[r][c]);
}

/* BF16 . BF16 with vdpbf16ps, 32 elements per instruction */
INLINE T_AVX512 void bf16_tile_avx512(const uint8_t *W, size_t wrow, const uint8_t *X, size_t xrow,
    float *y, int64_t n, int64_t k, const uint8_t *pf, const int R, const int C, const int unused)
{
    (void)unused;
    __m512 acc[4][4];
    UNROLL for (int r = 0; r < R; r++)
        UNROLL for (int c = 0; c < C; c++) acc[r][c] = _mm512_setzero_ps();
    int64_t l = 0;
    for (; l + 32 <= k; l += 32) {
        __m512i wv[4];
        UNROLL for (int c = 0; c < C; c++) {
            if (pf) PF(pf + ((size_t)l * C + (size_t)c * 32) * 2);
            wv[c] = _mm512_loadu_si512((const void *)(W + c * wrow + 2 * l));
        }
        UNROLL for (int r = 0; r < R; r++) {
            const __m512i xv = _mm512_loadu_si512((const void *)(X + r * xrow + 2 * l));
            UNROLL for (int c = 0; c < C; c++)
                acc[r][c] = _mm512_dpbf16_ps(acc[r][c], (__m512bh)xv, (__m512bh)wv[c]);
        }
    }
    if (l < k) {
        const __mmask32 m = (__mmask32)((1ull << (k - l)) - 1u);
        __m512i wv[4];
        UNROLL for (int c = 0; c < C; c++)
            wv[c] = _mm512_maskz_loadu_epi16(m, W + c * wrow + 2 * l);
        UNROLL for (int r = 0; r < R; r++) {
            const __m512i xv = _mm512_maskz_loadu_epi16(m, X + r * xrow + 2 * l);
            UNROLL for (int c = 0; c < C; c++)
                acc[r][c] = _mm512_dpbf16_ps(acc[r][c], (__m512bh)xv, (__m512bh)wv[c]);
        }
    }
    UNROLL for (int r = 0; r < R; r++)
        UNROLL for (int c = 0; c < C; c++) y[r * n + c] = _mm512_reduce_add_ps(acc[r][c]);
}

INLINE T_AVX512 uint16_t ld16(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, sizeof h);
    return h;
}

/* The f16 scales of two blocks, a and b, as floats in lanes 0 and 1. */
INLINE T_AVX512 __m128 blk_d2(const uint8_t *a, const uint8_t *b)
{
    return _mm_cvtph_ps(_mm_insert_epi16(_mm_cvtsi32_si128(ld16(a)), ld16(b), 1));
}

/* Q8_0 / Q4_0 . Q8_0 with vpdpbusd (see the top of the file for the bias),
 * two blocks per 512-bit step. Q8_0: lanes 0-7 are block b, 8-15 block b+1.
 * Q4_0: the four 16-byte quarters hold [b low nibbles, b+1 low, b high,
 * b+1 high], and x's halves are permuted to match, so unpacking the nibbles
 * takes one shift and one mask for two blocks. A last odd block takes a
 * 256-bit step. */
INLINE T_AVX512 void quant_tile_avx512(const uint8_t *W, size_t wrow, const uint8_t *X, size_t xrow,
    float *y, int64_t n, int64_t k, const uint8_t *pf, const int R, const int C, const int Q4)
{
    const size_t wb = Q4 ? MW_K_Q4_0_BYTES : MW_K_Q8_0_BYTES, xb = MW_K_Q8_0_BYTES;
    const __m512i bias = _mm512_set1_epi8(Q4 ? 8 : (char)-128);
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    const __m512i zero = _mm512_setzero_si512();
    /* which block's scale each 32-bit lane takes (lane 0 of dw*dx: b, lane 1: b+1) */
    const __m512i sel = Q4 ? _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1)
                           : _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    const __m512i xperm = _mm512_setr_epi64(0, 1, 4, 5, 2, 3, 6, 7);
    __m512 acc[4][4];
    UNROLL for (int r = 0; r < R; r++)
        UNROLL for (int c = 0; c < C; c++) acc[r][c] = _mm512_setzero_ps();
    const int64_t nb = k / MW_K_QK;
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) {
        __m512i wu[4];
        __m128 dw[4];
        UNROLL for (int c = 0; c < C; c++) {
            const uint8_t *p = W + c * wrow + (size_t)b * wb;
            if (pf) {
                PF(pf + ((size_t)b * C + 2 * c) * wb);
                if (!Q4) PF(pf + ((size_t)b * C + 2 * c + 1) * wb);
            }
            dw[c] = blk_d2(p, p + wb);
            if (Q4) {
                const __m256i q = _mm256_inserti128_si256(
                    _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(p + 2))),
                    _mm_loadu_si128((const __m128i *)(p + wb + 2)), 1);
                wu[c] = _mm512_and_si512(
                    _mm512_inserti64x4(_mm512_castsi256_si512(q), _mm256_srli_epi16(q, 4), 1), m4);
            } else {
                const __m512i w = _mm512_inserti64x4(
                    _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(p + 2))),
                    _mm256_loadu_si256((const __m256i *)(p + wb + 2)), 1);
                wu[c] = _mm512_xor_si512(w, bias);
            }
        }
        UNROLL for (int r = 0; r < R; r++) {
            const uint8_t *p = X + r * xrow + (size_t)b * xb;
            __m512i xv = _mm512_inserti64x4(
                _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(p + 2))),
                _mm256_loadu_si256((const __m256i *)(p + xb + 2)), 1);
            if (Q4) xv = _mm512_permutexvar_epi64(xperm, xv);
            const __m128 dx = blk_d2(p, p + xb);
            const __m512i corr = _mm512_sub_epi32(zero, _mm512_dpbusd_epi32(zero, bias, xv));
            UNROLL for (int c = 0; c < C; c++) {
                const __m128 d2 = _mm_mul_ps(dw[c], dx);
                const __m512 s = _mm512_permutexvar_ps(sel, _mm512_castps128_ps512(d2));
                const __m512 v = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(corr, wu[c], xv));
                acc[r][c] = _mm512_fmadd_ps(s, v, acc[r][c]);
            }
        }
    }
    float tail[4][4] = {{0}};
    if (b < nb) {
        const __m256i bias1 = _mm512_castsi512_si256(bias);
        __m256i wu[4];
        float dw[4];
        UNROLL for (int c = 0; c < C; c++) {
            const uint8_t *p = W + c * wrow + (size_t)b * wb;
            dw[c] = blk_d(p);
            wu[c] = Q4 ? q4_elems(p + 2, 1)
                       : _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(p + 2)), bias1);
        }
        UNROLL for (int r = 0; r < R; r++) {
            const uint8_t *p = X + r * xrow + (size_t)b * xb;
            const float dx = blk_d(p);
            const __m256i xv = _mm256_loadu_si256((const __m256i *)(p + 2));
            const __m256i z = _mm256_setzero_si256();
            const __m256i corr = _mm256_sub_epi32(z, _mm256_dpbusd_epi32(z, bias1, xv));
            UNROLL for (int c = 0; c < C; c++) {
                const __m256 v = _mm256_cvtepi32_ps(_mm256_dpbusd_epi32(corr, wu[c], xv));
                tail[r][c] = hsum256(_mm256_mul_ps(_mm256_set1_ps(dw[c] * dx), v));
            }
        }
    }
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int c = 0; c < C; c++)
        y[r * n + c] = _mm512_reduce_add_ps(acc[r][c]) + tail[r][c];
}

#define TILE_AVX512(name, body, R, C, X)                                                        \
    static T_AVX512 void name##_##R##_##C(const uint8_t *W, size_t wrow, const uint8_t *Xp,    \
                                          size_t xrow, float *y, int64_t n, int64_t k,         \
                                          const uint8_t *pf)                                   \
    {                                                                                          \
        body(W, wrow, Xp, xrow, y, n, k, pf, R, C, X);                                         \
    }
/* 32 vector registers: 4 x 4 tiles */
#define TILES_AVX512(name, body, X)                                                                \
    TILE_AVX512(name, body, 1, 1, X) TILE_AVX512(name, body, 1, 4, X)                              \
    TILE_AVX512(name, body, 2, 1, X) TILE_AVX512(name, body, 2, 4, X)                              \
    TILE_AVX512(name, body, 3, 1, X) TILE_AVX512(name, body, 3, 4, X)                              \
    TILE_AVX512(name, body, 4, 1, X) TILE_AVX512(name, body, 4, 4, X)                              \
    static const tiles name = {{{name##_1_1, NULL, NULL, name##_1_4},                              \
                                {name##_2_1, NULL, NULL, name##_2_4},                              \
                                {name##_3_1, NULL, NULL, name##_3_4},                              \
                                {name##_4_1, NULL, NULL, name##_4_4}},                             \
                               4, 4};

TILES_AVX512(t5_f32, float_tile_avx512, EF32)
TILES_AVX512(t5_f16, float_tile_avx512, EF16)
TILES_AVX512(t5_bf16, bf16_tile_avx512, 0)
TILES_AVX512(t5_q8_0, quant_tile_avx512, 0)
TILES_AVX512(t5_q4_0, quant_tile_avx512, 1)

MATMUL(matmul_f32_avx512, T_AVX512, t5_f32, (size_t)k * 4, (size_t)k * 4)
MATMUL(matmul_f16_avx512, T_AVX512, t5_f16, (size_t)k * 2, (size_t)k * 2)
MATMUL(matmul_bf16_avx512, T_AVX512, t5_bf16, (size_t)k * 2, (size_t)k * 2)
MATMUL(matmul_q8_0_avx512, T_AVX512, t5_q8_0, q_row(k, MW_K_Q8_0_BYTES), q_row(k, MW_K_Q8_0_BYTES))
MATMUL(matmul_q4_0_avx512, T_AVX512, t5_q4_0, q_row(k, MW_K_Q4_0_BYTES), q_row(k, MW_K_Q8_0_BYTES))

/* ---- issue #14: Q4_1, Q5_0, Q5_1 weights (AVX-512) -------------------------
 * As the AVX2 tile, with VNNI on 256-bit vectors: the raw quants are the
 * unsigned operand of vpdpbusd, the fifth bits come from qh as a byte mask,
 * and Q5_0's -16 is the accumulator's start -16 Σx (one vpdpbusd per x
 * block). */
INLINE T_AVX512 __m256i q51_raw_avx512(const uint8_t *p, const int WT)
{
    if (WT == 0) return q4_elems(p + 4, 1);
    const uint8_t *qh = p + (WT == 1 ? 2 : 4);
    uint32_t h;
    memcpy(&h, qh, sizeof h);
    return _mm256_or_si256(q4_elems(qh + 4, 1), _mm256_maskz_mov_epi8((__mmask32)h, _mm256_set1_epi8(16)));
}

INLINE T_AVX512 void q51_tile_avx512(const uint8_t *W, size_t wrow, const uint8_t *X, size_t xrow,
    float *y, int64_t n, int64_t k, const uint8_t *pf, const int R, const int C, const int WT)
{
    const size_t wb = Q51_WB(WT), xb = Q51_XB(WT);
    const int xo = WT == 1 ? 2 : 4;
    const __m256i z = _mm256_setzero_si256(), b16 = _mm256_set1_epi8(16);
    __m256 acc[4][4];
    float macc[4][4] = {{0}};
    UNROLL for (int r = 0; r < R; r++)
        UNROLL for (int c = 0; c < C; c++) acc[r][c] = _mm256_setzero_ps();
    const int64_t nb = k / MW_K_QK;
    for (int64_t b = 0; b < nb; b++) {
        __m256i wu[4];
        float dw[4], mw[4];
        UNROLL for (int c = 0; c < C; c++) {
            const uint8_t *p = W + c * wrow + (size_t)b * wb;
            if (pf) PF(pf + ((size_t)b * C + c) * wb);
            dw[c] = blk_d(p);
            mw[c] = WT == 1 ? 0.0f : blk_d(p + 2);
            wu[c] = q51_raw_avx512(p, WT);
        }
        UNROLL for (int r = 0; r < R; r++) {
            const uint8_t *p = X + r * xrow + (size_t)b * xb;
            const float dx = blk_d(p), sx = WT == 1 ? 0.0f : blk_d(p + 2);
            const __m256i xv = _mm256_loadu_si256((const __m256i *)(p + xo));
            const __m256i start = WT == 1 ? _mm256_sub_epi32(z, _mm256_dpbusd_epi32(z, b16, xv)) : z;
            UNROLL for (int c = 0; c < C; c++) {
                const __m256 s = _mm256_cvtepi32_ps(_mm256_dpbusd_epi32(start, wu[c], xv));
                acc[r][c] = _mm256_fmadd_ps(_mm256_set1_ps(dw[c] * dx), s, acc[r][c]);
                if (WT != 1) macc[r][c] += mw[c] * sx;
            }
        }
    }
    UNROLL for (int r = 0; r < R; r++)
        UNROLL for (int c = 0; c < C; c++) y[r * n + c] = hsum256(acc[r][c]) + macc[r][c];
}

TILES_AVX512(t5_q4_1, q51_tile_avx512, 0)
TILES_AVX512(t5_q5_0, q51_tile_avx512, 1)
TILES_AVX512(t5_q5_1, q51_tile_avx512, 2)
MATMUL(matmul_q4_1_avx512, T_AVX512, t5_q4_1, q_row(k, MW_K_Q4_1_BYTES), q_row(k, MW_K_Q8_1_BYTES))
MATMUL(matmul_q5_0_avx512, T_AVX512, t5_q5_0, q_row(k, MW_K_Q5_0_BYTES), q_row(k, MW_K_Q8_0_BYTES))
MATMUL(matmul_q5_1_avx512, T_AVX512, t5_q5_1, q_row(k, MW_K_Q5_1_BYTES), q_row(k, MW_K_Q8_1_BYTES))

/* ---- rows (AVX-512) --------------------------------------------------------- */

static T_AVX512 float dot_f32_avx512(const float *a, const float *b, int64_t n)
{
    __m512 s0 = _mm512_setzero_ps(), s1 = s0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
    }
    for (; i < n; i += 16) {
        const __mmask16 m = tail16(n - i);
        s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

static T_AVX512 void axpy_avx512(float *y, float a, const float *x, int64_t n)
{
    const __m512 va = _mm512_set1_ps(a);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = tail16(n - i);
        const __m512 v =
            _mm512_fmadd_ps(va, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i));
        _mm512_mask_storeu_ps(y + i, m, v);
    }
}

/* the upper 8 floats of 16 */
INLINE T_AVX512 __m256 hi8(__m512 v)
{
    return _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
}

static T_AVX512 void rmsnorm_avx512(float *y, const float *x, const float *w, int64_t n, float eps)
{
    __m512d s0 = _mm512_setzero_pd(), s1 = s0;
    for (int64_t i = 0; i < n; i += 16) {
        const __m512 v = _mm512_maskz_loadu_ps(tail16(n - i), x + i);
        const __m512 sq = _mm512_mul_ps(v, v); /* squares in float, sums in double (ggml) */
        s0 = _mm512_add_pd(s0, _mm512_cvtps_pd(_mm512_castps512_ps256(sq)));
        s1 = _mm512_add_pd(s1, _mm512_cvtps_pd(hi8(sq)));
    }
    const double sum = _mm512_reduce_add_pd(_mm512_add_pd(s0, s1));
    const float mean = (float)(sum / (double)n);
    const __m512 vs = _mm512_set1_ps(1.0f / sqrtf(mean + eps));
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = tail16(n - i);
        const __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), vs);
        _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(v, _mm512_maskz_loadu_ps(m, w + i)));
    }
}

/* exp8's method, 16 wide */
INLINE T_AVX512 __m512 exp16(__m512 x)
{
    x = _mm512_max_ps(_mm512_set1_ps(-104.0f), _mm512_min_ps(_mm512_set1_ps(89.0f), x));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.0f / 5040.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    const __m512i ni = _mm512_cvtps_epi32(n);
    const __m512i n1 = _mm512_srai_epi32(ni, 1), n2 = _mm512_sub_epi32(ni, n1);
    const __m512i bias = _mm512_set1_epi32(127);
    const __m512 s1 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n1, bias), 23));
    const __m512 s2 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n2, bias), 23));
    return _mm512_mul_ps(_mm512_mul_ps(p, s1), s2);
}

static T_AVX512 void softmax_avx512(float *x, int64_t n)
{
    if (n <= 0) return;
    __m512 vm = _mm512_set1_ps(-INFINITY);
    for (int64_t i = 0; i < n; i += 16)
        vm = _mm512_max_ps(vm, _mm512_mask_loadu_ps(vm, tail16(n - i), x + i));
    const __m512 vmax = _mm512_set1_ps(_mm512_reduce_max_ps(vm));
    __m512d s0 = _mm512_setzero_pd(), s1 = s0;
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = tail16(n - i);
        const __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), vmax);
        const __m512 e = _mm512_maskz_mov_ps(m, exp16(d)); /* lanes past n: 0 */
        _mm512_mask_storeu_ps(x + i, m, e);
        s0 = _mm512_add_pd(s0, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
        s1 = _mm512_add_pd(s1, _mm512_cvtps_pd(hi8(e)));
    }
    const double sum = _mm512_reduce_add_pd(_mm512_add_pd(s0, s1));
    const __m512 vs = _mm512_set1_ps((float)(1.0 / sum));
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = tail16(n - i);
        _mm512_mask_storeu_ps(x + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), vs));
    }
}

static T_AVX512 void silu_mul_avx512(float *g, const float *u, int64_t n)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = tail16(n - i);
        const __m512 v = _mm512_maskz_loadu_ps(m, g + i);
        const __m512 e = exp16(_mm512_sub_ps(_mm512_setzero_ps(), v));
        const __m512 s = _mm512_div_ps(v, _mm512_add_ps(one, e));
        _mm512_mask_storeu_ps(g + i, m, _mm512_mul_ps(s, _mm512_maskz_loadu_ps(m, u + i)));
    }
}

/* ---- K-quants times x in Q8_K (AVX-512 VNNI) ------------------------------
 * As the AVX2 path, 64 weights per register: vpdpbusd (unsigned quants by
 * signed x, 4 products per int32 lane, exact), then the lanes times their
 * sub-block's scale (Q4_K/Q5_K: 8 lanes per sub-block of 32; Q6_K: 4 lanes
 * per sub-block of 16) added to the sum by one vpdpwssd: a lane's 4 products
 * are at most 4·63·127 = 32004 in size (x is never -128), so the lane's low
 * int16 holds it exactly and its high int16 is only the sign; the scale
 * vector has the scale in each lane's low int16 and 0 in the high one, so
 * vpdpwssd adds lane·scale exactly (2 instructions per 64 weights and x row,
 * against 3 with vpmulld + vpaddd). */

INLINE T_AVX512 __m512i cat256(__m256i lo, __m256i hi)
{
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

/* the sums of the 16 lanes of s and the 8 of m at once */
INLINE T_AVX512 void hsum2_i32_avx512(__m512i s, __m256i m, int32_t *ss, int32_t *ms)
{
    hsum2_i32_avx2(_mm256_add_epi32(_mm512_castsi512_si256(s), _mm512_extracti64x4_epi64(s, 1)), m, ss, ms);
}

/* Q4_K/Q5_K: the quants in weight order, 64 per register (q[c]: weights
 * 64c..64c+63, the low nibbles of 32 bytes then their high nibbles) */
INLINE T_AVX512 void q45k_unpack_avx512(const uint8_t *w, int five, __m512i q[4])
{
    const __m512i m4 = _mm512_set1_epi8(0x0f), one = _mm512_set1_epi8(1);
    const uint8_t *qs = w + (five ? 48 : 16);
    const __m512i qh = five ? _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(w + 16)))
                            : _mm512_setzero_si512();
    for (int h = 0; h < 2; h++) {
        const __m512i v = _mm512_loadu_si512(qs + 64 * h); /* the bytes of c = 2h, 2h+1 */
        __m512i lo = _mm512_and_si512(v, m4), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
        if (five) { /* bit 2c of qh[l]: weight 64c+l; bit 2c+1: weight 64c+32+l */
            const __m512i cl = cat256(_mm256_set1_epi16((short)(4 * h)), _mm256_set1_epi16((short)(4 * h + 2)));
            const __m512i ch = cat256(_mm256_set1_epi16((short)(4 * h + 1)), _mm256_set1_epi16((short)(4 * h + 3)));
            lo = _mm512_or_si512(lo, _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(qh, cl), one), 4));
            hi = _mm512_or_si512(hi, _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(qh, ch), one), 4));
        }
        q[2 * h] = _mm512_shuffle_i64x2(lo, hi, 0x44);     /* lo's and hi's low halves: c = 2h */
        q[2 * h + 1] = _mm512_shuffle_i64x2(lo, hi, 0xee); /* their high halves: c = 2h+1 */
    }
}

INLINE T_AVX512 void q45k_rows_avx512(const uint8_t *w, const uint8_t *const *xb, int R, int five,
                                      float *acc)
{
    uint8_t sc[8], mn[8];
    kq_scales8(w + 4, sc, mn);
    const float d = blk_d(w), dmin = blk_d(w + 2);
    __m512i q[4], scv[4];
    q45k_unpack_avx512(w, five, q);
    uint64_t s8;
    memcpy(&s8, sc, 8);
    const __m512i sc32 = _mm512_cvtepu8_epi32(_mm_cvtsi64_si128((long long)s8)); /* lanes 0-7 */
    for (int c = 0; c < 4; c++) /* lanes 0-7: sub-block 2c, 8-15: 2c+1 (high int16 zero) */
        scv[c] = _mm512_permutexvar_epi32(
            cat256(_mm256_set1_epi32(2 * c), _mm256_set1_epi32(2 * c + 1)), sc32);
    const __m256i mins = mins_pairs16(mn);
    for (int r = 0; r < R; r++) {
        const uint8_t *x = xb[r] + 4;
        __m512i s2[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()}; /* two chains */
        for (int c = 0; c < 4; c++) {
            const __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q[c], _mm512_loadu_si512(x + 64 * c));
            s2[c & 1] = _mm512_dpwssd_epi32(s2[c & 1], p, scv[c]);
        }
        const __m512i sum = _mm512_add_epi32(s2[0], s2[1]);
        int32_t isum, msum;
        hsum2_i32_avx512(sum, _mm256_madd_epi16(q8k_bsums(xb[r]), mins), &isum, &msum);
        acc[r] = mw_kq_acc(acc[r], mw_kq8k_d(xb[r]), d, dmin, isum, msum);
    }
}

INLINE T_AVX512 void q6k_rows_avx512(const uint8_t *w, const uint8_t *const *xb, int R, float *acc)
{
    const int8_t *sc = (const int8_t *)(w + 192);
    const float d = blk_d(w + 208);
    const __m512i m4 = _mm512_set1_epi8(0x0f), m2 = _mm512_set1_epi8(3);
    const __m512i sc32 = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)sc));
    /* shift counts of qh's bit pairs: low 32 bytes / high 32 bytes */
    const __m512i sh_lo = cat256(_mm256_setzero_si256(), _mm256_set1_epi16(2));
    const __m512i sh_hi = cat256(_mm256_set1_epi16(4), _mm256_set1_epi16(6));
    __m512i q[4], scv[4];
    for (int h = 0; h < 2; h++) {
        const __m512i l = _mm512_loadu_si512(w + 64 * h); /* ql: weights 128h + (0..63 | 64..127) */
        const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(w + 128 + 32 * h)));
        q[2 * h] = _mm512_or_si512(_mm512_and_si512(l, m4),
                                   _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(qh, sh_lo), m2), 4));
        q[2 * h + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4),
                                       _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(qh, sh_hi), m2), 4));
    }
    for (int t = 0; t < 4; t++) { /* weights 64t..: sub-blocks 4t..4t+3, 4 lanes each */
        const __m512i idx = _mm512_setr_epi32(4 * t, 4 * t, 4 * t, 4 * t, 4 * t + 1, 4 * t + 1, 4 * t + 1,
                                              4 * t + 1, 4 * t + 2, 4 * t + 2, 4 * t + 2, 4 * t + 2,
                                              4 * t + 3, 4 * t + 3, 4 * t + 3, 4 * t + 3);
        scv[t] = _mm512_and_si512(_mm512_permutexvar_epi32(idx, sc32), _mm512_set1_epi32(0xffff));
    }
    const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)sc));
    for (int r = 0; r < R; r++) {
        const uint8_t *x = xb[r] + 4;
        __m512i s2[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()}; /* two chains */
        for (int t = 0; t < 4; t++) {
            const __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q[t], _mm512_loadu_si512(x + 64 * t));
            s2[t & 1] = _mm512_dpwssd_epi32(s2[t & 1], p, scv[t]);
        }
        const __m512i sum = _mm512_add_epi32(s2[0], s2[1]);
        int32_t isum, off;
        hsum2_i32_avx512(sum, _mm256_madd_epi16(q8k_bsums(xb[r]), sc16), &isum, &off);
        acc[r] = mw_kq_acc(acc[r], mw_kq8k_d(xb[r]), d, 0.0f, isum - 32 * off, 0);
    }
}

KQ_MATMUL(matmul_q4_k_avx512, T_AVX512, 8, MW_K_Q4_K_BYTES, q45k_rows_avx512(w, xb, R, 0, acc))
KQ_MATMUL(matmul_q5_k_avx512, T_AVX512, 8, MW_K_Q5_K_BYTES, q45k_rows_avx512(w, xb, R, 1, acc))
KQ_MATMUL(matmul_q6_k_avx512, T_AVX512, 8, MW_K_Q6_K_BYTES, q6k_rows_avx512(w, xb, R, acc))

const mw_k_ops mw_k_ops_avx512 = {
    .matmul_f32 = matmul_f32_avx512,
    .matmul_f16 = matmul_f16_avx512,
    .matmul_bf16 = matmul_bf16_avx512,
    .matmul_q8_0 = matmul_q8_0_avx512,
    .matmul_q4_0 = matmul_q4_0_avx512,
    .matmul_q4_k = matmul_q4_k_avx512,
    .matmul_q5_k = matmul_q5_k_avx512,
    .matmul_q6_k = matmul_q6_k_avx512,
    .quant_row_q8_0 = quant_row_q8_0_avx2,
    .quant_row_q8_0_act = quant_row_q8_0_act_avx2,
    .quant_row_q8_k = quant_row_q8_k_avx2,
    .row_to_f16 = row_to_f16_avx2,
    .row_to_bf16 = row_to_bf16_avx2,
    .f16_to_row = f16_to_row_avx2,
    .dot_f32 = dot_f32_avx512,
    .axpy = axpy_avx512,
    .rmsnorm = rmsnorm_avx512,
    .softmax = softmax_avx512,
    .silu_mul = silu_mul_avx512,
    .matmul_q4_1 = matmul_q4_1_avx512, /* issue #14 */
    .matmul_q5_0 = matmul_q5_0_avx512,
    .matmul_q5_1 = matmul_q5_1_avx512,
};

#else /* not x86: kernels.c uses the scalar path only */
typedef int mw_kernels_x86_unused;
#endif
