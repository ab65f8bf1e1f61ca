/*
 * sparse_x86.c - the AVX-512 path of mw_k_matmul_sparse (sparse.h), for
 * CPUs with AVX-512 F/BW/VL/DQ/VNNI/VBMI/BITALG (Ice Lake, Zen 4 and later;
 * sparse.c checks __builtin_cpu_supports before calling it).
 *
 * Unstructured (_SU): each 64-input block's kept values are spread to
 * their positions and multiplied with x as a dense block. F32 and F16
 * (converted first) by vexpandps under the mask; Q8 by VBMI2's vpexpandb
 * where it is fast, else by vpermb with indices made from the mask's
 * prefix counts (expand_bytes_fast). The values are read with
 * plain 64-byte loads that may run past the row: a masked load costs more
 * than the spreading on Zen 4 (bench/sparse_matvec.c), so only the rows
 * within 64 bytes of the tensor's end use masked loads ("tail" rows) and
 * nothing outside the tensor is ever read. 2:4 (_S24): the other way
 * round: x is gathered at the 32 kept positions by permutes (vpermt2ps,
 * vpermt2w) whose indices come from the 2-bit fields (any bit pattern
 * indexes inside the block, so a hostile file cannot make it read
 * elsewhere). Either way the expanded block (or its indices) is made once
 * and used for up to 4 rows of x; Q8 blocks take exact integer products per
 * half block, scaled by d_w·d_x in float.
 *
 * Q8_SUK (issue #14): values stored as w + 128 are spread into a background
 * of 0x80 (= w 0), so vpdpbusd multiplies them as unsigned bytes with x's
 * Q8_K quants directly; -128·Σx, lane by lane (per call at m = 1, by a
 * second vpdpbusd at m > 1), corrects the offset. The 4 blocks of each 256 inputs accumulate in
 * int32, and only once per 256 inputs is the sum converted, scaled by
 * d_w·d_x and added in float.
 */
#include "engine/sparse.h"
#include "engine/kernels_isa.h"

#ifdef MW_K_X86

#include <immintrin.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define T_SP                                                                                   \
    __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vbmi,"         \
                          "avx512vnni,avx512bitalg")))
/* the same plus VBMI2, for the vpexpandb kernels only (dispatched at run
 * time: expand_bytes_fast) */
#define T_SP2                                                                                  \
    __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vbmi,"         \
                          "avx512vnni,avx512bitalg,avx512vbmi2")))
#define INLINE static inline __attribute__((always_inline))
#define SB MW_SPARSE_BLOCK
#define MT 4 /* rows of x per pass over a weight row */
/* the small loops over rows of x and accumulators must be unrolled, so
 * that the arrays of vectors live in registers */
#if defined(__clang__)
#define UNROLL _Pragma("unroll")
#else
#define UNROLL _Pragma("GCC unroll 16")
#endif


/* Four accumulators per row of x, so that the FMAs of a block do not wait
 * on each other (m = 1 would otherwise run at the FMA latency): kernels
 * with fewer than four FMAs per block rotate them from block to block. */
#define ACC_INIT                                                                                   \
    __m512 acc[MT][4];                                                                             \
    UNROLL for (int r = 0; r < MT; r++)                                                                   \
        UNROLL for (int q = 0; q < 4; q++) acc[r][q] = _mm512_setzero_ps()
#define ACC_ROTATE2                                                                                \
    UNROLL for (int r = 0; r < MT; r++) {                                                                 \
        const __m512 t0 = acc[r][0], t1 = acc[r][1];                                               \
        acc[r][0] = acc[r][2], acc[r][1] = acc[r][3], acc[r][2] = t0, acc[r][3] = t1;              \
    }
#define ACC_ROTATE4                                                                                \
    UNROLL for (int r = 0; r < MT; r++) {                                                                 \
        const __m512 t0 = acc[r][0];                                                               \
        acc[r][0] = acc[r][1], acc[r][1] = acc[r][2], acc[r][2] = acc[r][3], acc[r][3] = t0;       \
    }
#define ACC_DONE                                                                                   \
    UNROLL for (int r = 0; r < mt; r++)                                                                   \
    out[r] = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[r][0], acc[r][1]),               \
                                                _mm512_add_ps(acc[r][2], acc[r][3])))

/* Software prefetch PD bytes ahead in a row's streams (masks, values,
 * blocks). Without it the unstructured kernels, whose value loads are
 * masked to a data-dependent count, read DRAM at a fraction of the rate
 * the dense kernels reach (bench/sparse_matvec.c; kernels_x86.c saw the
 * same for Q8_0). 4 KiB, not 1: one thread of Q8_SUK, 4096 x 4096 from
 * DRAM, took 0.64 ms at 1 KiB, 0.42 at 4 and 0.34 at 8 (Zen 5); demo
 * decode on 2 threads did not tell 1, 4 and 8 KiB apart, and 4 KiB ahead
 * of a short row (768 inputs: ~500 bytes at 50%) is already 8 rows. */
#define PD 4096
#define PF(p) _mm_prefetch((const char *)(p), _MM_HINT_T0)

/* mask of the first c lanes (c <= 64) */
static inline uint64_t first(int c) { return c >= 64 ? ~0ull : (1ull << c) - 1; }

/* 64 bytes at p of which the first c are wanted: a plain load, or in a
 * tail row (within 64 bytes of the tensor's end) one masked to c */
INLINE T_SP __m512i ld_bytes(const uint8_t *p, int c, int tail)
{
    return tail ? _mm512_maskz_loadu_epi8(first(c), p) : _mm512_loadu_si512(p);
}

/* x of row i as 4 x 16 f32 of block b: F32 from x, F16 from xq */
INLINE T_SP void x_f32(int base_f16, const float *x, const void *xq, int64_t i, int64_t k,
                       int64_t b, __m512 xv[4])
{
    if (base_f16) {
        const uint16_t *h = (const uint16_t *)xq + i * k + b * SB;
        UNROLL for (int q = 0; q < 4; q++)
            xv[q] = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(h + 16 * q)));
    } else {
        const float *f = x + i * k + b * SB;
        UNROLL for (int q = 0; q < 4; q++) xv[q] = _mm512_loadu_ps(f + 16 * q);
    }
}

/* ---- spreading packed bytes ------------------------------------------------
 * Lane p of a 64-input block takes packed byte popcount(mask & ((1 << p) -
 * 1)): the mask bytes' exclusive prefix counts (SWAR, one multiply) plus
 * the count below p in its own byte (vpopcntb). Computed once a block and
 * used for every byte plane (F16_SU's two). */
INLINE T_SP __m512i spread_index(uint64_t mk)
{
    uint64_t cnt = mk - ((mk >> 1) & 0x5555555555555555ull);
    cnt = (cnt & 0x3333333333333333ull) + ((cnt >> 2) & 0x3333333333333333ull);
    cnt = (cnt + (cnt >> 4)) & 0x0f0f0f0f0f0f0f0full;
    const uint64_t prefix = cnt * 0x0101010101010100ull; /* byte g: Σ of bytes < g */
    const __m512i byte_of = _mm512_set_epi64(
        0x0707070707070707ll, 0x0606060606060606ll, 0x0505050505050505ll, 0x0404040404040404ll,
        0x0303030303030303ll, 0x0202020202020202ll, 0x0101010101010101ll, 0);
    const __m512i below = _mm512_set1_epi64(0x7f3f1f0f07030100ll); /* (1 << p%8) - 1 */
    const __m512i mb = _mm512_permutexvar_epi8(byte_of, _mm512_set1_epi64((long long)mk));
    const __m512i pb = _mm512_permutexvar_epi8(byte_of, _mm512_set1_epi64((long long)prefix));
    return _mm512_add_epi8(pb, _mm512_popcnt_epi8(_mm512_and_si512(mb, below)));
}

/* the packed bytes spread over the block's 64 lanes, zero where the mask is
 * clear: vpermb with spread_index, or VBMI2's vpexpandb (the caller's T_SP2
 * kernels; the choice is expand_bytes_fast's) */
INLINE T_SP __m512i spread_bytes(uint64_t mk, __m512i packed)
{
    return _mm512_maskz_permutexvar_epi8(mk, spread_index(mk), packed);
}
INLINE T_SP2 __m512i spread_bytes_vbmi2(uint64_t mk, __m512i packed)
{
    return _mm512_maskz_expand_epi8(mk, packed);
}
/* the same into a background of 0x80 (Q8_SUK: the stored zero) */
INLINE T_SP __m512i spread_bytes_80(uint64_t mk, __m512i packed)
{
    return _mm512_mask_permutexvar_epi8(_mm512_set1_epi8((char)0x80), mk, spread_index(mk), packed);
}
INLINE T_SP2 __m512i spread_bytes_80_vbmi2(uint64_t mk, __m512i packed)
{
    return _mm512_mask_expand_epi8(_mm512_set1_epi8((char)0x80), mk, packed);
}

/* ---- F32_SU / F16_SU -------------------------------------------------------- */
INLINE T_SP void su_float_rows(int mode, int tail, const uint8_t *row, int64_t k, const float *x,
                               const void *xq, int64_t i0, int mt, float *out)
{
    const int f16 = mode & 1; /* weights F16 (bit 1: x F16, else f32) */
    const int64_t nb = k / SB;
    const uint8_t *vals = row + 8 * nb;
    ACC_INIT;
    int64_t off = 0;
    for (int64_t b = 0; b < nb; b++) {
        const uint64_t mk = mw_sparse_ld64(row + 8 * b);
        PF(row + 8 * b + PD);
        PF(vals + (f16 ? 2 : 4) * off + PD);
        if (!f16) PF(vals + 4 * off + PD + 64);
        __m512 w[4];
        if (f16) { /* converted first, then spread: vexpandps, not vpexpandw */
            UNROLL for (int q = 0; q < 4; q++) {
                const __mmask16 mq = (__mmask16)(mk >> (16 * q));
                const int c = __builtin_popcount(mq);
                const __m256i v = tail ? _mm256_maskz_loadu_epi16((__mmask16)first(c), vals + 2 * off)
                                       : _mm256_loadu_si256((const __m256i *)(vals + 2 * off));
                w[q] = _mm512_maskz_expand_ps(mq, _mm512_cvtph_ps(v));
                off += c;
            }
        } else {
            UNROLL for (int q = 0; q < 4; q++) {
                const __mmask16 mq = (__mmask16)(mk >> (16 * q));
                const int c = __builtin_popcount(mq);
                const __m512 v = tail ? _mm512_maskz_loadu_ps((__mmask16)first(c), vals + 4 * off)
                                      : _mm512_loadu_ps(vals + 4 * off);
                w[q] = _mm512_maskz_expand_ps(mq, v);
                off += c;
            }
        }
        UNROLL for (int r = 0; r < mt; r++) {
            __m512 xv[4];
            x_f32(mode >> 1 & 1, x, xq, i0 + r, k, b, xv);
            UNROLL for (int q = 0; q < 4; q++) acc[r][q] = _mm512_fmadd_ps(w[q], xv[q], acc[r][q]);
        }
    }
    ACC_DONE;
}

/* ---- Q8: x blocks -------------------------------------------------------- */
#define XQ8(xq, i, k, c) \
    ((const uint8_t *)(xq) + ((size_t)(i) * (size_t)((k) / 32) + (size_t)(c)) * MW_K_Q8_0_BYTES)

INLINE T_SP __m512i x16(const uint8_t *xb)
{
    return _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(xb + 2)));
}

/* x's two Q8_0 blocks of 64-block b of row i: their 64 quants, and their
 * scales in lanes 0-7 and 8-15 */
INLINE T_SP __m512i x64_quants(const void *xq, int64_t i, int64_t k, int64_t b)
{
    const uint8_t *xa = XQ8(xq, i, k, 2 * b), *xc = xa + MW_K_Q8_0_BYTES;
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(xa + 2))),
                              _mm256_loadu_si256((const __m256i *)(xc + 2)), 1);
}
INLINE T_SP __m512 x64_scales(const void *xq, int64_t i, int64_t k, int64_t b)
{
    const uint8_t *xa = XQ8(xq, i, k, 2 * b), *xc = xa + MW_K_Q8_0_BYTES;
    return _mm512_mask_blend_ps(0xff00, _mm512_set1_ps(_cvtsh_ss(mw_sparse_ld16(xa))),
                                _mm512_set1_ps(_cvtsh_ss(mw_sparse_ld16(xc))));
}

/* ---- Q8_SU, m > 1 ----------------------------------------------------------
 * the block's kept int8 spread over its 64 lanes; then vpdpbusd of |w|
 * (unsigned) and x with w's sign: 4 products a lane, lanes 0-7 of x block
 * 2b, 8-15 of 2b+1 */
INLINE T_SP void su_q8_rows(int tail, const uint8_t *row, int64_t k, const void *xq, int64_t i0,
                            int mt, float *out)
{
    const int64_t nb = k / SB;
    const uint8_t *ds = row + 8 * nb, *vals = ds + 2 * nb;
    ACC_INIT;
    int64_t off = 0;
    for (int64_t b = 0; b < nb; b++) {
        const uint64_t mk = mw_sparse_ld64(row + 8 * b);
        PF(row + 8 * b + PD);
        PF(vals + off + PD);
        const int c = __builtin_popcountll(mk);
        const __m512i w = spread_bytes(mk, ld_bytes(vals + off, c, tail));
        off += c;
        const __m512i wa = _mm512_abs_epi8(w);
        const __mmask64 neg = _mm512_movepi8_mask(w);
        const float dw = _cvtsh_ss(mw_sparse_ld16(ds + 2 * b));
        UNROLL for (int r = 0; r < mt; r++) {
            __m512i xv = x64_quants(xq, i0 + r, k, b);
            xv = _mm512_mask_sub_epi8(xv, neg, _mm512_setzero_si512(), xv);
            const __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), wa, xv);
            const __m512 sc = _mm512_mul_ps(_mm512_set1_ps(dw), x64_scales(xq, i0 + r, k, b));
            acc[r][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), sc, acc[r][0]);
        }
        ACC_ROTATE4;
    }
    ACC_DONE;
}

/* ---- Q8_SUK, m > 1 -----------------------------------------------------------
 * per 256 inputs: each block spread once (values + 128, background 0x80)
 * and vpdpbusd'd with every row's Q8_K quants into an int32 sum, and
 * 128 · each 4 quants into a second one, subtracted lane by lane (so each
 * lane holds the exact Σ w·x of its 16 inputs, as at m = 1: a sum over the
 * whole 256 in one lane would cancel in float, not exactly); then one
 * convert and one FMA by d_w·d_x per row. */
#define XQ8K(xq, i, k, g) \
    ((const uint8_t *)(xq) + ((size_t)(i) * (size_t)((k) / 256) + (size_t)(g)) * MW_K_Q8_K_BYTES)

INLINE T_SP void suk_q8_rows(int tail, const uint8_t *row, int64_t k, const void *xq, int64_t i0,
                             int mt, float *out)
{
    const int64_t nb = k / SB, ng = k / 256;
    const uint8_t *ds = row + 8 * nb, *vals = ds + 4 * ng;
    ACC_INIT;
    int64_t off = 0;
    for (int64_t g = 0; g < ng; g++) {
        __m512i p[MT], nx[MT];
        const __m512i b80 = _mm512_set1_epi8((char)0x80);
        UNROLL for (int r = 0; r < mt; r++) p[r] = nx[r] = _mm512_setzero_si512();
        PF(row + 32 * g + PD);
        UNROLL for (int q = 0; q < 4; q++) {
            const uint64_t mk = mw_sparse_ld64(row + 8 * (4 * g + q));
            PF(vals + off + PD);
            const int c = __builtin_popcountll(mk);
            const __m512i w = spread_bytes_80(mk, ld_bytes(vals + off, c, tail));
            off += c;
            UNROLL for (int r = 0; r < mt; r++) {
                const __m512i xv = _mm512_loadu_si512(XQ8K(xq, i0 + r, k, g) + 4 + 64 * q);
                p[r] = _mm512_dpbusd_epi32(p[r], w, xv);
                nx[r] = _mm512_dpbusd_epi32(nx[r], b80, xv);
            }
        }
        const float dw = mw_sparse_ldf(ds + 4 * g);
        UNROLL for (int r = 0; r < mt; r++)
            acc[r][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(p[r], nx[r])),
                                        _mm512_set1_ps(dw * mw_sparse_ldf(XQ8K(xq, i0 + r, k, g))), acc[r][0]);
        ACC_ROTATE4;
    }
    ACC_DONE;
}

/* ---- 2:4 indices ------------------------------------------------------------
 * 16 values from 4 index bytes: lane j = 4*(j/2) + ((bits >> 2j) & 3) */
INLINE T_SP __m512i idx16(uint32_t bits)
{
    const __m512i sh = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i base = _mm512_setr_epi32(0, 0, 4, 4, 8, 8, 12, 12, 16, 16, 20, 20, 24, 24, 28, 28);
    const __m512i f = _mm512_and_si512(_mm512_srlv_epi32(_mm512_set1_epi32((int)bits), sh),
                                       _mm512_set1_epi32(3));
    return _mm512_add_epi32(f, base);
}

/* 32 values (int16 lanes) from 8 index bytes: lane j = 4*(j/2) + field j */
INLINE T_SP __m512i idx32w(uint64_t bits)
{
    /* byte j/4 into the low byte of 16-bit lane j, high byte zero */
    const __m512i sel = _mm512_set_epi8(
        0, 7, 0, 7, 0, 7, 0, 7, 0, 6, 0, 6, 0, 6, 0, 6, 0, 5, 0, 5, 0, 5, 0, 5, 0, 4, 0, 4, 0, 4, 0, 4,
        0, 3, 0, 3, 0, 3, 0, 3, 0, 2, 0, 2, 0, 2, 0, 2, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m512i by = _mm512_maskz_permutexvar_epi8(0x5555555555555555ull, sel,
                                                     _mm512_set1_epi64((long long)bits));
    const __m512i sh = _mm512_set_epi16(6, 4, 2, 0, 6, 4, 2, 0, 6, 4, 2, 0, 6, 4, 2, 0, 6, 4, 2, 0, 6,
                                        4, 2, 0, 6, 4, 2, 0, 6, 4, 2, 0);
    const __m512i base = _mm512_set_epi16(60, 60, 56, 56, 52, 52, 48, 48, 44, 44, 40, 40, 36, 36,
                                          32, 32, 28, 28, 24, 24, 20, 20, 16, 16, 12, 12, 8, 8, 4, 4,
                                          0, 0);
    const __m512i f = _mm512_and_si512(_mm512_srlv_epi16(by, sh), _mm512_set1_epi16(3));
    return _mm512_add_epi16(f, base);
}

/* ---- F32_S24 / F16_S24 ------------------------------------------------------ */
INLINE T_SP void s24_float_rows(int mode, const uint8_t *row, int64_t k, const float *x,
                                const void *xq, int64_t i0, int mt, float *out)
{
    const int f16 = mode & 1; /* weights F16 (bit 1: x F16, else f32) */
    const int64_t nb = k / SB;
    const int blk = f16 ? 72 : 136;
    ACC_INIT;
    for (int64_t b = 0; b < nb; b++, row += blk) {
        PF(row + PD);
        if (!f16) PF(row + PD + 64);
        const __m512i i0v = idx16(mw_sparse_ld32(row)), i1v = idx16(mw_sparse_ld32(row + 4));
        __m512 v0, v1;
        if (f16) {
            v0 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(row + 8)));
            v1 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(row + 40)));
        } else {
            v0 = _mm512_loadu_ps(row + 8);
            v1 = _mm512_loadu_ps(row + 72);
        }
        UNROLL for (int r = 0; r < mt; r++) {
            __m512 xv[4];
            x_f32(mode >> 1 & 1, x, xq, i0 + r, k, b, xv);
            acc[r][0] = _mm512_fmadd_ps(v0, _mm512_permutex2var_ps(xv[0], i0v, xv[1]), acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(v1, _mm512_permutex2var_ps(xv[2], i1v, xv[3]), acc[r][1]);
        }
        ACC_ROTATE2;
    }
    ACC_DONE;
}

/* ---- Q8_S24 ------------------------------------------------------------------- */
INLINE T_SP void s24_q8_rows(const uint8_t *row, int64_t k, const void *xq, int64_t i0, int mt,
                             float *out)
{
    const int64_t nb = k / SB;
    ACC_INIT;
    for (int64_t b = 0; b < nb; b++, row += 42) {
        PF(row + PD);
        const float dw = _cvtsh_ss(mw_sparse_ld16(row));
        const __m512i iv = idx32w(mw_sparse_ld64(row + 2));
        const __m512i w = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(row + 10)));
        UNROLL for (int r = 0; r < mt; r++) {
            const uint8_t *xa = XQ8(xq, i0 + r, k, 2 * b), *xb = xa + MW_K_Q8_0_BYTES;
            const __m512i xg = _mm512_permutex2var_epi16(x16(xa), iv, x16(xb));
            const __m512i p = _mm512_madd_epi16(w, xg); /* lanes 0-7: block 2b; 8-15: 2b+1 */
            const __m512 sc = _mm512_mask_blend_ps(0xff00, _mm512_set1_ps(dw * _cvtsh_ss(mw_sparse_ld16(xa))),
                                                   _mm512_set1_ps(dw * _cvtsh_ss(mw_sparse_ld16(xb))));
            acc[r][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), sc, acc[r][0]);
        }
        ACC_ROTATE4;
    }
    ACC_DONE;
}

/* one weight row times rows i0..i0+mt-1 of x */
#define DEF_ROWS(name, call)                                                                   \
    static T_SP __attribute__((noinline)) void name(const uint8_t *row, int64_t keep, int64_t k,   \
                                                    const float *x, const void *xq, int64_t i0,    \
                                                    int mt, int tail, float *out)                  \
    {                                                                                              \
        (void)keep;                                                                                \
        (void)x;                                                                                   \
        (void)xq;                                                                                  \
        (void)tail;                                                                                \
        switch (mt) {                                                                              \
        case 1: call(1); break;                                                                    \
        case 2: call(2); break;                                                                    \
        case 3: call(3); break;                                                                    \
        default: call(4); break;                                                                   \
        }                                                                                          \
    }
#define C_F32SU(n) su_float_rows(0, tail, row, k, x, xq, i0, n, out)
#define C_F16SU(n) su_float_rows(3, tail, row, k, x, xq, i0, n, out)
#define C_F16SU_X32(n) su_float_rows(1, tail, row, k, x, xq, i0, n, out)
#define C_Q8SU(n) su_q8_rows(tail, row, k, xq, i0, n, out)
#define C_Q8SUK(n) suk_q8_rows(tail, row, k, xq, i0, n, out)
#define C_F32S24(n) s24_float_rows(0, row, k, x, xq, i0, n, out)
#define C_F16S24(n) s24_float_rows(3, row, k, x, xq, i0, n, out)
#define C_F16S24_X32(n) s24_float_rows(1, row, k, x, xq, i0, n, out)
#define C_Q8S24(n) s24_q8_rows(row, k, xq, i0, n, out)
DEF_ROWS(rows_f32_su, C_F32SU)
DEF_ROWS(rows_f16_su, C_F16SU)
DEF_ROWS(rows_f16_su_x32, C_F16SU_X32)
DEF_ROWS(rows_q8_su, C_Q8SU)
DEF_ROWS(rows_q8_suk, C_Q8SUK)
DEF_ROWS(rows_f32_s24, C_F32S24)
DEF_ROWS(rows_f16_s24, C_F16S24)
DEF_ROWS(rows_f16_s24_x32, C_F16S24_X32)
DEF_ROWS(rows_q8_s24, C_Q8S24)

/* ---- Q8_SU at m = 1 ----------------------------------------------------------
 * x's two Q8_0 blocks of each 64-block gathered once per call (on the
 * stack, k <= Q8SU_MAX_K): their 64 quants in one vector, lanes 0-7 / 8-15
 * holding the two scales, and -128 times the sums of each 4 quants, so a
 * row's block is vpdpbusd((w + 128) as unsigned, x) started from that
 * vector (= Σ w·x per 4 inputs exactly), one convert and one FMA. */
#define Q8SU_MAX_K 16384
typedef struct q8x_block {
    __m512i q;     /* 64 int8 quants             */
    __m512i bias;  /* -128 Σ of each 4 quants     */
    __m512 scale;  /* d_x of block 2b (lanes 0-7), 2b+1 (8-15) */
} q8x_block;

static T_SP void q8su_gather_x(const void *xq, int64_t k, q8x_block *xb)
{
    const __m512i ones = _mm512_set1_epi8(1);
    for (int64_t b = 0; b < k / SB; b++) {
        const __m512i q = x64_quants(xq, 0, k, b);
        xb[b].q = q;
        /* Σ of each 4 quants: vpdpbusd(0, 1, q); times -128 */
        xb[b].bias = _mm512_slli_epi32(
            _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, q)), 7);
        xb[b].scale = x64_scales(xq, 0, k, b);
    }
}

/* rows j0..j1-1 (tail rows from jtail on); SPREAD: spread_bytes or
 * spread_bytes_vbmi2. w + 128 as unsigned: a zero (clear) lane becomes 128,
 * its product with x cancelled by the bias like every other's. */
#define Q8SU_M1_ROWS(SPREAD)                                                                       \
    const int64_t nb = k / SB;                                                                     \
    const __m512i flip = _mm512_set1_epi8((char)0x80);                                             \
    for (int64_t j = j0; j < j1; j++) {                                                            \
        const uint8_t *row = W + (uint64_t)j * rb;                                                 \
        const int tail = j >= jtail;                                                               \
        if (j + 1 < j1)                                                                            \
            for (int l = 0; l < 4; l++) PF(row + rb + 64 * l);                                     \
        const uint8_t *ds = row + 8 * nb, *vals = ds + 2 * nb;                                     \
        __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();                                 \
        int64_t off = 0;                                                                           \
        for (int64_t b = 0; b < nb; b++) {                                                         \
            const uint64_t mk = mw_sparse_ld64(row + 8 * b);                                       \
            PF(row + 8 * b + PD);                                                                  \
            PF(vals + off + PD);                                                                   \
            const int c = __builtin_popcountll(mk);                                                \
            const __m512i w = SPREAD(mk, ld_bytes(vals + off, c, tail));                           \
            off += c;                                                                              \
            const __m512i p = _mm512_dpbusd_epi32(xb[b].bias, _mm512_xor_si512(w, flip), xb[b].q); \
            const __m512 sc =                                                                      \
                _mm512_mul_ps(_mm512_set1_ps(_cvtsh_ss(mw_sparse_ld16(ds + 2 * b))), xb[b].scale); \
            a0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), sc, a0);                                   \
            const __m512 t = a0;                                                                   \
            a0 = a1, a1 = t;                                                                       \
        }                                                                                          \
        y[j] = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));                                        \
    }

static T_SP __attribute__((noinline)) void q8su_m1(const uint8_t *W, uint64_t rb, int64_t k,
                                                   const q8x_block *xb, float *y, int64_t j0,
                                                   int64_t j1, int64_t jtail)
{
    Q8SU_M1_ROWS(spread_bytes)
}
static T_SP2 __attribute__((noinline)) void q8su_m1_vbmi2(const uint8_t *W, uint64_t rb, int64_t k,
                                                          const q8x_block *xb, float *y, int64_t j0,
                                                          int64_t j1, int64_t jtail)
{
    Q8SU_M1_ROWS(spread_bytes_vbmi2)
}

/* ---- Q8_SUK at m = 1 ----------------------------------------------------------
 * x's Q8_K blocks read once per call (on the stack, k <= Q8SU_MAX_K): the
 * 64 quants of each 64-block, and per 256 inputs -128 times the lane-wise
 * sums of each 4 quants over its 4 blocks, and d_x. A row's 64-block is
 * then a mask load, a popcount, a value load, the spread into 0x80 and one
 * vpdpbusd; every 256 inputs one convert and one FMA. */
static T_SP void q8suk_gather_x(const void *xq, int64_t k, __m512i *xv, __m512i *bias, float *dx)
{
    const __m512i ones = _mm512_set1_epi8(1);
    for (int64_t g = 0; g < k / 256; g++) {
        const uint8_t *xb = XQ8K(xq, 0, k, g);
        dx[g] = mw_sparse_ldf(xb);
        __m512i sum = _mm512_setzero_si512();
        for (int q = 0; q < 4; q++) {
            xv[4 * g + q] = _mm512_loadu_si512(xb + 4 + 64 * q);
            sum = _mm512_dpbusd_epi32(sum, ones, xv[4 * g + q]);
        }
        bias[g] = _mm512_slli_epi32(_mm512_sub_epi32(_mm512_setzero_si512(), sum), 7);
    }
}

/* two int32 chains per 256 (blocks 0, 2 and 1, 3), joined before the
 * convert */
#define Q8SUK_BLOCK(q, P, SPREAD)                                                                   \
    {                                                                                              \
        const uint64_t mk = mw_sparse_ld64(row + 8 * (4 * g + q));                                 \
        PF(vals + off + PD);                                                                       \
        const int c = __builtin_popcountll(mk);                                                    \
        P = _mm512_dpbusd_epi32(P, SPREAD(mk, ld_bytes(vals + off, c, tail)), xv[4 * g + q]);      \
        off += c;                                                                                  \
    }
#define Q8SUK_M1_ROWS(SPREAD)                                                                      \
    const int64_t nb = k / SB, ng = k / 256;                                                       \
    for (int64_t j = j0; j < j1; j++) {                                                            \
        const uint8_t *row = W + (uint64_t)j * rb;                                                 \
        const int tail = j >= jtail;                                                               \
        if (j + 1 < j1)                                                                            \
            for (int l = 0; l < 4; l++) PF(row + rb + 64 * l);                                     \
        const uint8_t *ds = row + 8 * nb, *vals = ds + 4 * ng;                                     \
        __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();                                 \
        int64_t off = 0;                                                                           \
        for (int64_t g = 0; g < ng; g++) {                                                         \
            PF(row + 32 * g + PD);                                                                 \
            __m512i pa = bias[g], pb = _mm512_setzero_si512();                                     \
            Q8SUK_BLOCK(0, pa, SPREAD)                                                             \
            Q8SUK_BLOCK(1, pb, SPREAD)                                                             \
            Q8SUK_BLOCK(2, pa, SPREAD)                                                             \
            Q8SUK_BLOCK(3, pb, SPREAD)                                                             \
            const __m512 sc = _mm512_set1_ps(mw_sparse_ldf(ds + 4 * g) * dx[g]);                   \
            a0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(pa, pb)), sc, a0);            \
            const __m512 t = a0;                                                                   \
            a0 = a1, a1 = t;                                                                       \
        }                                                                                          \
        y[j] = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));                                        \
    }

static T_SP __attribute__((noinline)) void q8suk_m1(const uint8_t *W, uint64_t rb, int64_t k,
                                                    const __m512i *xv, const __m512i *bias,
                                                    const float *dx, float *y, int64_t j0,
                                                    int64_t j1, int64_t jtail)
{
    Q8SUK_M1_ROWS(spread_bytes_80)
}
static T_SP2 __attribute__((noinline)) void q8suk_m1_vbmi2(const uint8_t *W, uint64_t rb, int64_t k,
                                                           const __m512i *xv, const __m512i *bias,
                                                           const float *dx, float *y, int64_t j0,
                                                           int64_t j1, int64_t jtail)
{
    Q8SUK_M1_ROWS(spread_bytes_80_vbmi2)
}

/* vpexpandb (VBMI2) spreads a block faster than spread_index + vpermb
 * wherever it was measured (bench/sparse_matvec.c in cache, one thread):
 * Zen 4, Q8_SU 0.038 against 0.055 ms; Zen 5 (family 1Ah model 2),
 * Q8_SU 0.025 against 0.040 and Q8_SUK 0.019 against 0.032; Intel, where
 * it is 2 uops. (An earlier standalone harness on Zen 5 had it slower,
 * 6.9 ns a block against 4.4; the kernels themselves do not.) So vpermb
 * only without VBMI2. MEMWALL_SPARSE_SPREAD=vpermb or vpexpandb overrides
 * the choice (to measure both; the tests run both). */
static int expand_bytes_fast(void)
{
    static _Atomic int cached = -1;
    int c = atomic_load_explicit(&cached, memory_order_relaxed);
    if (c >= 0) return c;
    c = __builtin_cpu_supports("avx512vbmi2");
    const char *e = getenv("MEMWALL_SPARSE_SPREAD");
    if (e && strcmp(e, "vpermb") == 0) c = 0;
    atomic_store_explicit(&cached, c, memory_order_relaxed);
    return c;
}

/* ---- Q8_S24 at m = 1 ----------------------------------------------------------
 * The same idea: x's 64 quants of each block widened to int16 once per
 * call (two vectors) with the scales' vector; a row's block is then its
 * indices, one vpermt2w, one vpmaddwd, one convert and one FMA. */
typedef struct q8x16_block {
    __m512i lo, hi; /* int16 quants of x blocks 2b and 2b+1 */
    __m512 scale;   /* d_x of block 2b (lanes 0-7), 2b+1 (8-15) */
} q8x16_block;

static T_SP __attribute__((noinline)) void q8s24_m1(const uint8_t *W, uint64_t rb, int64_t k,
                                                    const void *xq, float *y, int64_t j0, int64_t j1)
{
    const int64_t nb = k / SB;
    q8x16_block xb[Q8SU_MAX_K / SB];
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *xa = XQ8(xq, 0, k, 2 * b), *xc = xa + MW_K_Q8_0_BYTES;
        xb[b].lo = x16(xa);
        xb[b].hi = x16(xc);
        xb[b].scale = _mm512_mask_blend_ps(0xff00, _mm512_set1_ps(_cvtsh_ss(mw_sparse_ld16(xa))),
                                           _mm512_set1_ps(_cvtsh_ss(mw_sparse_ld16(xc))));
    }
    for (int64_t j = j0; j < j1; j++) {
        const uint8_t *row = W + (uint64_t)j * rb;
        if (j + 1 < j1)
            for (int l = 0; l < 4; l++) PF(row + rb + 64 * l);
        __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
        for (int64_t b = 0; b < nb; b++, row += 42) {
            PF(row + PD);
            const __m512i iv = idx32w(mw_sparse_ld64(row + 2));
            const __m512i w = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(row + 10)));
            const __m512i p = _mm512_madd_epi16(w, _mm512_permutex2var_epi16(xb[b].lo, iv, xb[b].hi));
            const __m512 sc = _mm512_mul_ps(_mm512_set1_ps(_cvtsh_ss(mw_sparse_ld16(row))), xb[b].scale);
            a0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), sc, a0);
            const __m512 t = a0;
            a0 = a1, a1 = t;
        }
        y[j] = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
    }
}

typedef void (*rows_fn)(const uint8_t *, int64_t, int64_t, const float *, const void *, int64_t,
                        int, int, float *);

T_SP void mw_k_matmul_sparse_avx512(mw_dtype wt, const void *W, int64_t keep, const float *x,
                               const void *xq, float *y, int64_t m, int64_t n, int64_t k,
                               int64_t j0, int64_t j1)
{
    rows_fn f;
    switch (wt) {
    case MW_DTYPE_F32_SU: f = rows_f32_su; break;
    case MW_DTYPE_F16_SU: f = rows_f16_su; break;
    case MW_DTYPE_Q8_SU: f = rows_q8_su; break;
    case MW_DTYPE_Q8_SUK: f = rows_q8_suk; break;
    case MW_DTYPE_F32_S24: f = rows_f32_s24; break;
    case MW_DTYPE_F16_S24: f = rows_f16_s24; break;
    case MW_DTYPE_Q8_S24: f = rows_q8_s24; break;
    default: return;
    }
    const uint64_t rb = mw_sparse_row_bytes(wt, k, mw_sparse_is_24(wt) ? k / 2 : keep);
    /* rows from jtail on end within 64 bytes of W's end: their value loads
     * are masked (ld_bytes) */
    const int64_t jtail = n - (int64_t)((64 + rb - 1) / rb);
    if (wt == MW_DTYPE_Q8_SU && m == 1 && k <= Q8SU_MAX_K) {
        q8x_block xb[Q8SU_MAX_K / SB];
        q8su_gather_x(xq, k, xb);
        if (expand_bytes_fast()) q8su_m1_vbmi2(W, rb, k, xb, y, j0, j1, jtail);
        else q8su_m1(W, rb, k, xb, y, j0, j1, jtail);
        return;
    }
    if (wt == MW_DTYPE_Q8_SUK && m == 1 && k <= Q8SU_MAX_K) {
        __m512i xv[Q8SU_MAX_K / SB], bias[Q8SU_MAX_K / 256];
        float dx[Q8SU_MAX_K / 256];
        q8suk_gather_x(xq, k, xv, bias, dx);
        if (expand_bytes_fast()) q8suk_m1_vbmi2(W, rb, k, xv, bias, dx, y, j0, j1, jtail);
        else q8suk_m1(W, rb, k, xv, bias, dx, y, j0, j1, jtail);
        return;
    }
    if (wt == MW_DTYPE_Q8_S24 && m == 1 && k <= Q8SU_MAX_K) {
        q8s24_m1(W, rb, k, xq, y, j0, j1);
        return;
    }
    /* F16 weights at m = 1: x's f16 values converted to f32 once per call
     * (exactly), not once per weight row */
    const int x32_once = m == 1 && k <= Q8SU_MAX_K && mw_sparse_base(wt) == MW_DTYPE_F16;
    float x32[x32_once ? k : 1];
    if (x32_once) {
        for (int64_t i = 0; i < k; i += 16)
            _mm512_storeu_ps(x32 + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((const uint16_t *)xq + i))));
        x = x32;
        f = wt == MW_DTYPE_F16_SU ? rows_f16_su_x32 : rows_f16_s24_x32;
    }
    for (int64_t j = j0; j < j1; j++) {
        const uint8_t *row = (const uint8_t *)W + (uint64_t)j * rb;
        if (j + 1 < j1) /* the next row: start its first lines early */
            for (int l = 0; l < 4; l++) _mm_prefetch((const char *)(row + rb + 64 * l), _MM_HINT_T0);
        for (int64_t i = 0; i < m; i += MT) {
            float out[MT];
            const int mt = m - i < MT ? (int)(m - i) : MT;
            f(row, keep, k, x, xq, i, mt, j >= jtail, out);
            UNROLL for (int r = 0; r < mt; r++) y[(i + r) * n + j] = out[r];
        }
    }
}

#else
typedef int mw_sparse_x86_unused;
#endif /* MW_K_X86 */
