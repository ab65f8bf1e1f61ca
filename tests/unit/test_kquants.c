/* test_kquants.c - the K-quant weight types Q4_K, Q5_K, Q6_K in the engine
 * (src/engine/kernels.c): the bit layouts on hand-built super-blocks with
 * known scales, the quantizers' round-trip error on random rows (the bounds
 * measured and written in docs/ENGINE.md), the Q8_K activation quantizer on
 * hand-checked blocks, and the matrix product against a double-precision dot
 * of the dequantized operands and, bit for bit, against the scalar reference
 * on every instruction set this machine has (scalar, AVX2, AVX-512 VNNI). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"
#include "common/error.h"
#include "engine/kernels.h"
#include "engine/kernels_isa.h"
#include "format/gguf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test_rng.h"

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    assert_non_null(p);
    return p;
}

static const mw_dtype ktypes[] = {MW_DTYPE_Q4_K, MW_DTYPE_Q5_K, MW_DTYPE_Q6_K};

static void quant(mw_dtype t, const float *src, void *dst, int64_t k)
{
    switch (t) {
    case MW_DTYPE_Q4_K: mw_k_quant_row_q4_k(src, dst, k); break;
    case MW_DTYPE_Q5_K: mw_k_quant_row_q5_k(src, dst, k); break;
    case MW_DTYPE_Q6_K: mw_k_quant_row_q6_k(src, dst, k); break;
    default: fail();
    }
}

/* ---- the block sizes the format reader and the planner use ------------------ */

static void block_sizes(void **state)
{
    (void)state;
    static const struct { mw_dtype t; uint32_t bytes; double bits; } want[] = {
        {MW_DTYPE_Q4_K, MW_K_Q4_K_BYTES, 4.5},
        {MW_DTYPE_Q5_K, MW_K_Q5_K_BYTES, 5.5},
        {MW_DTYPE_Q6_K, MW_K_Q6_K_BYTES, 6.5625},
    };
    for (size_t i = 0; i < MW_ARRAY_LEN(want); i++) {
        const mw_dtype_info *di = mw_dtype_get(want[i].t);
        assert_int_equal(di->block_elems, 256);
        assert_int_equal(di->block_bytes, want[i].bytes);
        assert_true(8.0 * (double)mw_dtype_bytes(want[i].t, 256 * 1000) / (256 * 1000) == want[i].bits);
        assert_true(mw_k_supported(want[i].t));
        /* x goes to Q8_K for them: k/256 blocks of 292 bytes per row */
        assert_int_equal(mw_k_prepare_x_bytes(want[i].t, 3, 512), 3 * 2 * 292);
    }
    /* Q8_K (activations only): f32 d, 256 int8, 16 int16 = 9.125 bits */
    assert_true(8.0 * (double)mw_dtype_bytes(MW_DTYPE_Q8_K, 256 * 1000) / (256 * 1000) == 9.125);
    assert_false(mw_k_supported(MW_DTYPE_Q8_K));
}

/* ---- hand-built super-blocks ------------------------------------------------ */

/* 6-bit scales and mins chosen so that sub-blocks 4-7 need their high 2 bits
 * (values >= 16), packed as the format says: bytes 0-3 hold the scales of
 * sub-blocks 0-3 in their low 6 bits and the top 2 bits of the scales of 4-7;
 * bytes 4-7 the same for the mins; bytes 8-11 the low 4 bits of the scale
 * (low nibble) and min (high nibble) of sub-blocks 4-7. */
static const int hb_sc[8] = {1, 2, 3, 63, 21, 38, 55, 16};
static const int hb_mn[8] = {5, 0, 7, 8, 18, 35, 50, 63};

static void pack_scales(uint8_t s[12])
{
    for (int j = 0; j < 4; j++) {
        s[j] = (uint8_t)(hb_sc[j] | ((hb_sc[j + 4] >> 4) << 6));
        s[j + 4] = (uint8_t)(hb_mn[j] | ((hb_mn[j + 4] >> 4) << 6));
        s[j + 8] = (uint8_t)((hb_sc[j + 4] & 15) | ((hb_mn[j + 4] & 15) << 4));
    }
}

static void q4_k_layout(void **state)
{
    (void)state;
    uint8_t b[MW_K_Q4_K_BYTES] = {0x00, 0x3c, 0x00, 0x38}; /* d = 1.0, dmin = 0.5 */
    pack_scales(b + 4);
    /* the packing itself, byte by byte: 21 = 0b010101, 18 = 0b010010 */
    assert_int_equal(b[4 + 0], 1 | (1 << 6));         /* sc0 = 1, sc4 >> 4 = 1 */
    assert_int_equal(b[4 + 4], 5 | (1 << 6));         /* m0 = 5, m4 >> 4 = 1 */
    assert_int_equal(b[4 + 8], 5 | (2 << 4));         /* sc4 & 15 = 5, m4 & 15 = 2 */
    assert_int_equal(b[4 + 11], 0 | (15 << 4));       /* sc7 & 15 = 0, m7 & 15 = 15 */
    int q[256];
    for (int i = 0; i < 256; i++) q[i] = (i * 7 + i / 32) % 16;
    /* 32-byte groups; byte l of group c: weight 64c+l low, 64c+32+l high */
    for (int c = 0; c < 4; c++)
        for (int l = 0; l < 32; l++) b[16 + 32 * c + l] = (uint8_t)(q[64 * c + l] | (q[64 * c + 32 + l] << 4));
    float y[256];
    mw_k_dequant_row(MW_DTYPE_Q4_K, b, y, 256);
    for (int i = 0; i < 256; i++) {
        const float want = 1.0f * (float)(hb_sc[i / 32] * q[i]) - 0.5f * (float)hb_mn[i / 32];
        if (y[i] != want) fail_msg("Q4_K weight %d: %g, want %g", i, y[i], want);
    }
}

static void q5_k_layout(void **state)
{
    (void)state;
    uint8_t b[MW_K_Q5_K_BYTES] = {0x00, 0x40, 0x00, 0x3c}; /* d = 2.0, dmin = 1.0 */
    pack_scales(b + 4);
    int q[256];
    for (int i = 0; i < 256; i++) q[i] = (i * 11 + 3) % 32;
    /* fifth bits: byte l of the 32, bit 2c for weight 64c+l, bit 2c+1 for 64c+32+l */
    for (int c = 0; c < 4; c++) {
        for (int l = 0; l < 32; l++) {
            const int lo = q[64 * c + l], hi = q[64 * c + 32 + l];
            b[48 + 32 * c + l] = (uint8_t)((lo & 15) | ((hi & 15) << 4));
            b[16 + l] = (uint8_t)(b[16 + l] | ((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
        }
    }
    float y[256];
    mw_k_dequant_row(MW_DTYPE_Q5_K, b, y, 256);
    for (int i = 0; i < 256; i++) {
        const float want = 2.0f * (float)(hb_sc[i / 32] * q[i]) - 1.0f * (float)hb_mn[i / 32];
        if (y[i] != want) fail_msg("Q5_K weight %d: %g, want %g", i, y[i], want);
    }
}

static void q6_k_layout(void **state)
{
    (void)state;
    uint8_t b[MW_K_Q6_K_BYTES] = {0};
    b[208] = 0x00, b[209] = 0x34; /* d = 0.25 */
    int sc[16], q[256];
    for (int j = 0; j < 16; j++) sc[j] = j * 17 - 128; /* -128 .. 127 */
    for (int j = 0; j < 16; j++) b[192 + j] = (uint8_t)(int8_t)sc[j];
    for (int i = 0; i < 256; i++) q[i] = (i * 13 + i / 16) % 64; /* stored, 0..63; weight q-32 */
    /* two halves of 128: low 4 bits in 64 bytes, high 2 bits in 32 bytes.
     * byte l (l < 32) of the low part: weight l low nibble, 64+l high;
     * byte 32+l: weights 32+l and 96+l; high byte l: bits 0-1 weight l,
     * 2-3 weight 32+l, 4-5 weight 64+l, 6-7 weight 96+l. */
    for (int h = 0; h < 2; h++) {
        const int *o = q + 128 * h;
        uint8_t *ql = b + 64 * h, *qh = b + 128 + 32 * h;
        for (int l = 0; l < 32; l++) {
            ql[l] = (uint8_t)((o[l] & 15) | ((o[l + 64] & 15) << 4));
            ql[l + 32] = (uint8_t)((o[l + 32] & 15) | ((o[l + 96] & 15) << 4));
            qh[l] = (uint8_t)((o[l] >> 4) | ((o[l + 32] >> 4) << 2) | ((o[l + 64] >> 4) << 4) | ((o[l + 96] >> 4) << 6));
        }
    }
    float y[256];
    mw_k_dequant_row(MW_DTYPE_Q6_K, b, y, 256);
    for (int i = 0; i < 256; i++) {
        const float want = 0.25f * (float)(sc[i / 16] * (q[i] - 32));
        if (y[i] != want) fail_msg("Q6_K weight %d: %g, want %g", i, y[i], want);
    }
}

/* A hand-built Q4_K block times x: the product is Σ w_i x_i exactly (x made
 * of values Q8_K represents exactly: max 127, so iscale = -1 and d = -1). */
static void q4_k_hand_built_dot(void **state)
{
    (void)state;
    uint8_t b[MW_K_Q4_K_BYTES] = {0x00, 0x3c, 0x00, 0x38};
    pack_scales(b + 4);
    for (int i = 0; i < 128; i++) b[16 + i] = (uint8_t)(i * 37 + 11);
    float w[256], x[256];
    mw_k_dequant_row(MW_DTYPE_Q4_K, b, w, 256);
    for (int i = 0; i < 256; i++) x[i] = i % 32 == 5 ? 127.0f : (float)((i * 5) % 9 - 4);
    double want = 0;
    for (int i = 0; i < 256; i++) want += (double)w[i] * x[i];
    uint8_t xq[MW_K_Q8_K_BYTES];
    assert_int_equal(mw_k_prepare_x_bytes(MW_DTYPE_Q4_K, 1, 256), sizeof xq);
    mw_k_prepare_x(MW_DTYPE_Q4_K, x, 1, 256, xq);
    float y = 0;
    mw_k_matmul(MW_DTYPE_Q4_K, b, x, xq, &y, 1, 1, 256, 0, 1);
    assert_true((double)y == want);
}

/* ---- quantizers: round-trip error ------------------------------------------ */

/* relative RMS error of quantize-then-dequantize over rows of k, for normal
 * (sum of 3 uniforms) and uniform data; the bounds are about 1.2x what was
 * measured (docs/ENGINE.md) */
static double rt_error(mw_dtype t, int normal, int64_t k, int rows)
{
    float *x = xmalloc((size_t)k * 4), *y = xmalloc((size_t)k * 4);
    uint8_t *q = xmalloc((size_t)mw_dtype_bytes(t, (uint64_t)k));
    double se = 0, ss = 0;
    for (int r = 0; r < rows; r++) {
        for (int64_t i = 0; i < k; i++)
            x[i] = normal ? (rng_f() + rng_f() + rng_f()) * 0.02f : rng_f() * 0.05f;
        quant(t, x, q, k);
        mw_k_dequant_row(t, q, y, k);
        for (int64_t i = 0; i < k; i++) {
            se += ((double)y[i] - x[i]) * ((double)y[i] - x[i]);
            ss += (double)x[i] * x[i];
        }
    }
    free(x); free(y); free(q);
    return sqrt(se / ss);
}

static void quant_round_trip(void **state)
{
    (void)state;
    static const double bound[2][3] = {
        /* normal */  {0.082, 0.041, 0.020},
        /* uniform */ {0.067, 0.033, 0.016},
    };
    rng_seed(11);
    for (int normal = 1; normal >= 0; normal--) {
        for (size_t ti = 0; ti < MW_ARRAY_LEN(ktypes); ti++) {
            const double e = rt_error(ktypes[ti], normal, 4096, 16);
            print_message("%s %s data: relative RMS error %.4f (bound %.3f)\n",
                          mw_dtype_get(ktypes[ti])->name, normal ? "normal" : "uniform", e,
                          bound[!normal][ti]);
            assert_true(e < bound[!normal][ti]);
            assert_true(e > 0.0); /* a real quantizer loses something */
        }
    }
}

/* Edge rows: zeros, a constant, all positive, all negative, one outlier:
 * valid blocks whose values stay within a step of the input. */
static void quant_edge_rows(void **state)
{
    (void)state;
    float x[512], y[512];
    uint8_t q[2 * MW_K_Q6_K_BYTES];
    for (size_t ti = 0; ti < MW_ARRAY_LEN(ktypes); ti++) {
        const mw_dtype t = ktypes[ti];
        for (int kind = 0; kind < 5; kind++) {
            float amax = 0;
            for (int i = 0; i < 512; i++) {
                x[i] = kind == 0 ? 0.0f : kind == 1 ? 0.75f : kind == 2 ? 0.01f * (float)(i % 37 + 1)
                     : kind == 3 ? -0.01f * (float)(i % 29 + 1) : (i == 300 ? 40.0f : 0.001f * (float)(i % 7 - 3));
                amax = fmaxf(amax, fabsf(x[i]));
            }
            quant(t, x, q, 512);
            mw_k_dequant_row(t, q, y, 512);
            for (int i = 0; i < 512; i++) {
                assert_true(isfinite(y[i]));
                /* Q4_K: a step is at most range/15, range <= 2 amax */
                if (fabsf(y[i] - x[i]) > 2.0f * amax / 15.0f + 1e-6f)
                    fail_msg("%s row kind %d [%d]: %g vs %g", mw_dtype_get(t)->name, kind, i, y[i], x[i]);
            }
            if (kind == 0)
                for (int i = 0; i < 512; i++) assert_true(y[i] == 0.0f);
        }
    }
}

/* ---- the matrix product ---------------------------------------------------- */

#include "test_kernel_paths.h"

/* y = x W^T for W [n, k] of type t, against Σ over the dequantized W and the
 * dequantized Q8_K x in double, within 1e-5 of Σ|x w|, and against the
 * scalar reference bit for bit: every path sums each super-block's integer
 * products exactly and adds them in one float order (mw_kq_acc) */
static void check_matmul(mw_dtype t, int64_t m, int64_t n, int64_t k, int64_t j0, int64_t j1)
{
    const size_t row = (size_t)mw_dtype_bytes(t, (uint64_t)k);
    float *wf = xmalloc((size_t)(n * k) * 4), *x = xmalloc((size_t)(m * k) * 4);
    float *wd = xmalloc((size_t)(n * k) * 4), *xd = xmalloc((size_t)(m * k) * 4);
    float *y = xmalloc((size_t)(m * n) * 4), *yr = xmalloc((size_t)(m * n) * 4);
    uint8_t *W = xmalloc(row * (size_t)n);
    const size_t xb = mw_k_prepare_x_bytes(t, m, k);
    uint8_t *xq = xmalloc(xb);
    for (int64_t i = 0; i < n * k; i++) wf[i] = (rng_f() + rng_f()) * 0.03f + (i % 256 < 32 ? 0.01f : 0.0f);
    for (int64_t i = 0; i < m * k; i++) x[i] = rng_f() * 2.0f;
    for (int64_t j = 0; j < n; j++) {
        quant(t, wf + j * k, W + (size_t)j * row, k);
        mw_k_dequant_row(t, W + (size_t)j * row, wd + j * k, k);
    }
    mw_k_prepare_x(t, x, m, k, xq);
    for (int64_t i = 0; i < m; i++)
        mw_k_dequant_row(MW_DTYPE_Q8_K, xq + (size_t)i * (xb / (size_t)m), xd + i * k, k);
    for (int64_t i = 0; i < m * n; i++) y[i] = yr[i] = -7.0f;
    mw_k_matmul(t, W, x, xq, y, m, n, k, j0, j1);
    mw_kref_matmul(t, W, x, xq, yr, m, n, k, j0, j1);
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j = 0; j < n; j++) {
            const float got = y[i * n + j];
            if (j < j0 || j >= j1) {
                assert_true(got == -7.0f && yr[i * n + j] == -7.0f); /* untouched */
                continue;
            }
            double want = 0, mag = 0;
            for (int64_t l = 0; l < k; l++) {
                want += (double)xd[i * k + l] * wd[j * k + l];
                mag += fabs((double)xd[i * k + l] * wd[j * k + l]);
            }
            const int same = got == yr[i * n + j];
            if (!(fabs(got - want) <= 1e-5 * mag) || !same)
                fail_msg("%s m %lld n %lld k %lld y[%lld,%lld]: %.9g (ref %.9g), want %.9g (Σ|xw| %.3g)",
                         mw_dtype_get(t)->name, (long long)m, (long long)n, (long long)k, (long long)i,
                         (long long)j, got, yr[i * n + j], want, mag);
        }
    }
    free(wf); free(x); free(wd); free(xd); free(y); free(yr); free(W); free(xq);
}

static void matmul_matches_dequant(void **state)
{
    if (!mw_k_isa_available(*(int *)*state)) skip();
    rng_seed(5);
    for (size_t ti = 0; ti < MW_ARRAY_LEN(ktypes); ti++) {
        check_matmul(ktypes[ti], 1, 9, 256, 0, 9);
        check_matmul(ktypes[ti], 3, 11, 1024, 2, 9);
        check_matmul(ktypes[ti], 5, 7, 2048, 6, 7);
        check_matmul(ktypes[ti], 1, 4, 4096, 0, 4);
        check_matmul(ktypes[ti], 1, 5, 512, 1, 4);
        check_matmul(ktypes[ti], 9, 13, 512, 3, 12);
        check_matmul(ktypes[ti], 7, 3, 4352, 0, 3);
        check_matmul(ktypes[ti], 4, 2, 256, 0, 2);
    }
}

/* Worst cases for the integer sums: W of random bytes (every scale, min and
 * quant pattern, Q6_K scales down to -128) with sane f16 d and dmin, and x
 * rows of ±127 (all quants at full size) or with an all-zero block: each
 * path equals the scalar reference bit for bit. */
static void matmul_extreme_blocks(void **state)
{
    if (!mw_k_isa_available(*(int *)*state)) skip();
    rng_seed(23);
    const int64_t m = 6, n = 5, k = 1024;
    for (size_t ti = 0; ti < MW_ARRAY_LEN(ktypes); ti++) {
        const mw_dtype t = ktypes[ti];
        const size_t row = (size_t)mw_dtype_bytes(t, (uint64_t)k), bb = mw_dtype_get(t)->block_bytes;
        uint8_t *W = xmalloc(row * (size_t)n);
        for (size_t i = 0; i < row * (size_t)n; i++) W[i] = (uint8_t)(rng_f() * 256.0f);
        for (size_t b = 0; b < row * (size_t)n / bb; b++) {
            uint8_t *blk = W + b * bb;
            uint8_t *dp = t == MW_DTYPE_Q6_K ? blk + 208 : blk;
            dp[0] = (uint8_t)(rng_f() * 256.0f); /* f16 in [2^-4, 2^-2): finite */
            dp[1] = (uint8_t)(0x2c + (b % 4));
            if (t != MW_DTYPE_Q6_K) {
                blk[2] = 0x55;
                blk[3] = 0x2a;
            }
        }
        float *x = xmalloc((size_t)(m * k) * 4), *y = xmalloc((size_t)(m * n) * 4), *yr = xmalloc((size_t)(m * n) * 4);
        for (int64_t i = 0; i < m * k; i++) {
            const int64_t r = i / k, l = i % k;
            x[i] = r == 0 ? 127.0f : r == 1 ? -127.0f : r == 2 ? (l % 2 ? 127.0f : -127.0f)
                 : r == 3 ? (l < 256 ? 0.0f : rng_f() - 0.5f) : (rng_f() - 0.5f) * 3.0f;
        }
        uint8_t *xq = xmalloc(mw_k_prepare_x_bytes(t, m, k));
        mw_k_prepare_x(t, x, m, k, xq);
        mw_k_matmul(t, W, x, xq, y, m, n, k, 0, n);
        mw_kref_matmul(t, W, x, xq, yr, m, n, k, 0, n);
        for (int64_t i = 0; i < m * n; i++) {
            if (!(y[i] == yr[i]) || !isfinite(y[i]))
                fail_msg("%s on %s: y[%lld] %.9g, reference %.9g", mw_dtype_get(t)->name,
                         mw_k_isa_name(mw_k_isa()), (long long)i, y[i], yr[i]);
        }
        free(W); free(x); free(y); free(yr); free(xq);
    }
}

/* ---- Q8_K, the activations of K-quant products ------------------------------ */

/* mw_k_prepare_x on each path makes the bytes of the reference quantizer
 * mw_k_quant_row_q8_k: random rows, rows with halves (x·iscale at .5),
 * an all-zero block, equal magnitudes of both signs, one huge value */
static void q8_k_paths(void **state)
{
    if (!mw_k_isa_available(*(int *)*state)) skip();
    rng_seed(31);
    const int64_t m = 7, k = 1024;
    float *x = xmalloc((size_t)(m * k) * 4);
    const size_t xb = mw_k_prepare_x_bytes(MW_DTYPE_Q5_K, m, k);
    assert_int_equal(xb, (size_t)(m * (k / 256)) * MW_K_Q8_K_BYTES);
    uint8_t *got = xmalloc(xb), *want = xmalloc(xb);
    for (int64_t i = 0; i < m * k; i++) {
        const int64_t r = i / k, l = i % k;
        x[i] = r == 0 ? (rng_f() - 0.5f) * 3.0f
             : r == 1 ? (l % 256 == 0 ? -127.0f : (float)(l % 255) - 126.5f) /* halves, iscale 1 */
             : r == 2 ? (l < 256 ? 0.0f : rng_f())
             : r == 3 ? (l % 2 ? 5.0f : -5.0f)
             : r == 4 ? (l == 700 ? 1e30f : rng_f() - 0.5f)
             : (rng_f() - 0.5f) * 1e-30f;
    }
    memset(got, 0xa5, xb);
    mw_k_prepare_x(MW_DTYPE_Q5_K, x, m, k, got);
    for (int64_t i = 0; i < m; i++) mw_k_quant_row_q8_k(x + i * k, want + (size_t)i * (xb / (size_t)m), k);
    for (size_t i = 0; i < xb; i++)
        if (got[i] != want[i])
            fail_msg("%s: byte %zu of the Q8_K rows: %u, reference %u", mw_k_isa_name(mw_k_isa()), i, got[i], want[i]);
    free(x); free(got); free(want);
}

static float q8k_d(const uint8_t *b)
{
    float d;
    memcpy(&d, b, 4);
    return d;
}

static int16_t q8k_bsum(const uint8_t *b, int j)
{
    int16_t v;
    memcpy(&v, b + 260 + 2 * j, 2);
    return v;
}

/* the bsums are the sums of each 16 quants */
static void check_bsums(const uint8_t *b)
{
    for (int j = 0; j < 16; j++) {
        int sum = 0;
        for (int l = 0; l < 16; l++) sum += (int8_t)b[4 + 16 * j + l];
        assert_int_equal(q8k_bsum(b, j), sum);
    }
}

static void q8_k_blocks(void **state)
{
    (void)state;
    float x[512];
    uint8_t b[2 * MW_K_Q8_K_BYTES];
    assert_int_equal(mw_dtype_get(MW_DTYPE_Q8_K)->block_bytes, MW_K_Q8_K_BYTES);

    /* all zero (and a zero second block after a non-zero first) */
    for (int i = 0; i < 512; i++) x[i] = i < 256 ? 1.0f : 0.0f;
    memset(b, 0x5a, sizeof b);
    mw_k_quant_row_q8_k(x, b, 512);
    assert_true(q8k_d(b + MW_K_Q8_K_BYTES) == 0.0f);
    for (int i = 0; i < 256; i++) assert_int_equal(b[MW_K_Q8_K_BYTES + 4 + i], 0);
    for (int j = 0; j < 16; j++) assert_int_equal(q8k_bsum(b + MW_K_Q8_K_BYTES, j), 0);
    /* the first block: max 1 gives iscale -127, d = 1/-127, every q -127 */
    assert_true(q8k_d(b) == 1.0f / (-127.0f / 1.0f));
    for (int i = 0; i < 256; i++) assert_int_equal((int8_t)b[4 + i], -127);
    for (int j = 0; j < 16; j++) assert_int_equal(q8k_bsum(b, j), -16 * 127);

    /* negative max -127: iscale 1, d 1, q = x rounded half to even (2.5 -> 2,
     * 3.5 -> 4, -0.5 -> 0, 126.5 -> 126), +127 of the same size stays 127 */
    static const float v[] = {2.5f, 3.5f, -0.5f, 126.5f, -1.5f, 0.49f, 127.0f, -126.5f};
    static const int qv[] = {2, 4, 0, 126, -2, 0, 127, -126};
    for (int i = 0; i < 256; i++) x[i] = v[i % 8];
    x[5] = -127.0f; /* before the first +127 (x[6]): the first of largest size wins */
    mw_k_quant_row_q8_k(x, b, 256);
    assert_true(q8k_d(b) == 1.0f);
    for (int i = 0; i < 256; i++)
        if ((int8_t)b[4 + i] != (i == 5 ? -127 : qv[i % 8]))
            fail_msg("q[%d] = %d for x %g", i, (int8_t)b[4 + i], x[i]);
    check_bsums(b);

    /* the first of equal magnitudes with opposite signs: +127 first gives
     * iscale -1, d -1, and the later -127 maps to +127 */
    for (int i = 0; i < 256; i++) x[i] = 0.0f;
    x[3] = 127.0f;
    x[9] = -127.0f;
    x[10] = 2.5f;
    mw_k_quant_row_q8_k(x, b, 256);
    assert_true(q8k_d(b) == -1.0f);
    assert_int_equal((int8_t)b[4 + 3], -127);
    assert_int_equal((int8_t)b[4 + 9], 127);
    assert_int_equal((int8_t)b[4 + 10], -2); /* -2.5 to even */
    check_bsums(b);

    /* one big value: the rest round to 0 or ±1 */
    for (int i = 0; i < 256; i++) x[i] = (float)(i % 3) - 1.0f; /* -1, 0, 1 */
    x[100] = 1000.0f;
    mw_k_quant_row_q8_k(x, b, 256);
    const float iscale = -127.0f / 1000.0f;
    assert_true(q8k_d(b) == 1.0f / iscale);
    for (int i = 0; i < 256; i++)
        assert_int_equal((int8_t)b[4 + i], i == 100 ? -127 : (int)nearbyintf(iscale * x[i]));
    check_bsums(b);
    /* dequantized: d q within half a step of x */
    float y[256];
    mw_k_dequant_row(MW_DTYPE_Q8_K, b, y, 256);
    for (int i = 0; i < 256; i++) assert_true(fabsf(y[i] - x[i]) <= 0.5f * fabsf(q8k_d(b)) * 1.0001f);
}

/* ---- issue #14: the scale search against round to nearest ----------------------
 * rtn_quant is the quantizer the engine had before (rounding to nearest with
 * the format's scales), kept here as the reference the search must beat:
 * Q4_K/Q5_K: per sub-block of 32, scale (max - min(0, min))/nmax and min
 * -min(0, min) rounded up; Q6_K: per sub-block of 16, scale amax/31; the
 * super-block scale the largest over 63 (127); each weight rounded with the
 * stored scales. */
static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void put_f16(uint8_t *b, float v)
{
    const uint16_t h = mw_fp32_to_fp16(v);
    b[0] = (uint8_t)h;
    b[1] = (uint8_t)(h >> 8);
}

static float get_f16(const uint8_t *b)
{
    return mw_fp16_to_fp32((uint16_t)(b[0] | b[1] << 8));
}

static void rtn_set_scale_min(uint8_t *s, int j, int sc, int m)
{
    if (j < 4) {
        s[j] = (uint8_t)((s[j] & 0xc0) | sc);
        s[j + 4] = (uint8_t)((s[j + 4] & 0xc0) | m);
    } else {
        s[j + 4] = (uint8_t)((sc & 0x0f) | ((m & 0x0f) << 4));
        s[j - 4] = (uint8_t)((s[j - 4] & 0x3f) | ((sc >> 4) << 6));
        s[j] = (uint8_t)((s[j] & 0x3f) | ((m >> 4) << 6));
    }
}

static void rtn_quant(mw_dtype t, const float *src, uint8_t *out, int64_t k)
{
    int8_t q[256];
    for (int64_t i = 0; i < k / 256; i++, src += 256) {
        if (t == MW_DTYPE_Q6_K) {
            float scale[16], mx = 0.0f;
            for (int j = 0; j < 16; j++) {
                float amax = 0.0f;
                for (int l = 0; l < 16; l++) amax = fmaxf(amax, fabsf(src[16 * j + l]));
                scale[j] = amax / 31.0f;
                mx = fmaxf(mx, scale[j]);
            }
            memset(out, 0, 210);
            put_f16(out + 208, mx / 127.0f);
            const float d = get_f16(out + 208);
            for (int j = 0; j < 16; j++) {
                const int sc = d > 0.0f ? clampi((int)nearbyintf(scale[j] / d), 0, 127) : 0;
                out[192 + j] = (uint8_t)sc;
                for (int l = 0; l < 16; l++)
                    q[16 * j + l] = (int8_t)(sc ? clampi((int)nearbyintf(src[16 * j + l] / (d * (float)sc)), -32, 31) : 0);
            }
            for (int h = 0; h < 2; h++) {
                uint8_t *ql = out + 64 * h, *qh = out + 128 + 32 * h;
                const int8_t *o = q + 128 * h;
                for (int l = 0; l < 32; l++) {
                    const int a = o[l] + 32, b = o[l + 32] + 32, c = o[l + 64] + 32, e = o[l + 96] + 32;
                    ql[l] = (uint8_t)((a & 0x0f) | ((c & 0x0f) << 4));
                    ql[l + 32] = (uint8_t)((b & 0x0f) | ((e & 0x0f) << 4));
                    qh[l] = (uint8_t)((a >> 4) | ((b >> 4) << 2) | ((c >> 4) << 4) | ((e >> 4) << 6));
                }
            }
            out += 210;
            continue;
        }
        const int five = t == MW_DTYPE_Q5_K, nmax = five ? 31 : 15;
        const size_t bytes = five ? 176 : 144;
        float scale[8], mins[8], ms = 0.0f, mm = 0.0f;
        for (int j = 0; j < 8; j++) {
            float lo = 0.0f, hi = 0.0f;
            for (int l = 0; l < 32; l++) {
                lo = fminf(lo, src[32 * j + l]);
                hi = fmaxf(hi, src[32 * j + l]);
            }
            scale[j] = (hi - lo) / (float)nmax;
            mins[j] = -lo;
            ms = fmaxf(ms, scale[j]);
            mm = fmaxf(mm, mins[j]);
        }
        memset(out, 0, bytes);
        put_f16(out, ms / 63.0f);
        put_f16(out + 2, mm / 63.0f);
        const float d = get_f16(out), dmin = get_f16(out + 2);
        for (int j = 0; j < 8; j++) {
            const int sc = d > 0.0f ? clampi((int)nearbyintf(scale[j] / d), 0, 63) : 0;
            const int m = dmin > 0.0f ? clampi((int)ceilf(mins[j] / dmin), 0, 63) : 0;
            rtn_set_scale_min(out + 4, j, sc, m);
            const float step = d * (float)sc, off = dmin * (float)m;
            for (int l = 0; l < 32; l++)
                q[32 * j + l] = (int8_t)(step > 0.0f ? clampi((int)nearbyintf((src[32 * j + l] + off) / step), 0, nmax) : 0);
        }
        uint8_t *qs = out + (five ? 48 : 16), *qh = out + 16;
        for (int c = 0; c < 4; c++, qs += 32) {
            for (int l = 0; l < 32; l++) {
                const int lo = q[64 * c + l], hi = q[64 * c + 32 + l];
                qs[l] = (uint8_t)((lo & 0x0f) | ((hi & 0x0f) << 4));
                if (five) qh[l] = (uint8_t)(qh[l] | ((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
            }
        }
        out += bytes;
    }
}

/* Every super-block valid: d (and dmin) finite and, for Q4_K/Q5_K, not
 * negative; every dequantized value finite. */
static void check_blocks(mw_dtype t, const uint8_t *q, int64_t k)
{
    const size_t bb = (size_t)mw_dtype_bytes(t, 256);
    float y[256];
    for (int64_t i = 0; i < k / 256; i++, q += bb) {
        if (t == MW_DTYPE_Q6_K) {
            assert_true(isfinite(get_f16(q + 208)));
        } else {
            const float d = get_f16(q), dmin = get_f16(q + 2);
            assert_true(isfinite(d) && isfinite(dmin) && d >= 0.0f && dmin >= 0.0f);
        }
        mw_k_dequant_row(t, q, y, 256);
        for (int l = 0; l < 256; l++) assert_true(isfinite(y[l]));
    }
}

/* squared error of rows [rows, k] quantized by the search (rtn 0) or by
 * rounding to nearest (rtn 1); ss gets Σ x^2 */
static double sq_error(mw_dtype t, int rtn, const float *x, int64_t rows, int64_t k, double *ss)
{
    const size_t rb = (size_t)mw_dtype_bytes(t, (uint64_t)k);
    uint8_t *q = xmalloc(rb);
    float *y = xmalloc((size_t)k * 4);
    double se = 0.0, s2 = 0.0;
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * k;
        if (rtn) rtn_quant(t, xr, q, k);
        else quant(t, xr, q, k);
        check_blocks(t, q, k);
        mw_k_dequant_row(t, q, y, k);
        for (int64_t i = 0; i < k; i++) {
            se += ((double)y[i] - xr[i]) * ((double)y[i] - xr[i]);
            s2 += (double)xr[i] * xr[i];
        }
    }
    free(q);
    free(y);
    *ss = s2;
    return se;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* quantize speed in MB/s of f32 input, median of 5 runs over the rows */
static double quant_mb_s(mw_dtype t, int rtn, const float *x, int64_t rows, int64_t k)
{
    uint8_t *q = xmalloc((size_t)mw_dtype_bytes(t, (uint64_t)k));
    double v[5];
    for (int run = 0; run < 5; run++) {
        const double t0 = now_s();
        for (int64_t r = 0; r < rows; r++) {
            if (rtn) rtn_quant(t, x + r * k, q, k);
            else quant(t, x + r * k, q, k);
        }
        v[run] = (double)(rows * k * 4) / 1e6 / (now_s() - t0);
    }
    free(q);
    qsort(v, 5, sizeof v[0], cmp_double);
    return v[2];
}

static void compare_with_rtn(const char *what, const float *x, int64_t rows, int64_t k)
{
    for (size_t ti = 0; ti < MW_ARRAY_LEN(ktypes); ti++) {
        const mw_dtype t = ktypes[ti];
        double ss, ss2;
        const double e_search = sq_error(t, 0, x, rows, k, &ss);
        const double e_rtn = sq_error(t, 1, x, rows, k, &ss2);
        print_message("%s %s: relative RMS error %.4f searched, %.4f round to nearest; "
                      "quantize %.0f MB/s searched, %.0f MB/s round to nearest\n",
                      what, mw_dtype_get(t)->name, sqrt(e_search / ss), sqrt(e_rtn / ss),
                      quant_mb_s(t, 0, x, rows, k), quant_mb_s(t, 1, x, rows, k));
        assert_true(e_search < e_rtn);
        assert_true(e_search > 0.0);
    }
}

/* normal rows (Box-Muller) */
static void search_beats_rtn_gaussian(void **state)
{
    (void)state;
    rng_seed(14);
    const int64_t rows = 64, k = 4096;
    float *x = xmalloc((size_t)(rows * k) * 4);
    for (int64_t i = 0; i < rows * k; i += 2) {
        const double u1 = 0.5 * (rng_f() + 1.0) + 1e-12, u2 = 0.5 * (rng_f() + 1.0);
        const double r = sqrt(-2.0 * log(u1));
        x[i] = (float)(0.02 * r * cos(6.283185307179586 * u2));
        x[i + 1] = (float)(0.02 * r * sin(6.283185307179586 * u2));
    }
    compare_with_rtn("gaussian", x, rows, k);
    free(x);
}

/* the trained weights of models/tiny.gguf: the ffn_down rows (512 wide) of
 * its 4 layers */
static void search_beats_rtn_tiny(void **state)
{
    (void)state;
    const char *dir = getenv("MW_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/models/tiny.gguf", dir ? dir : ".");
    mw_gguf *g = NULL;
    mw_err err = {0};
    if (mw_gguf_open(path, &g, &err) != MW_OK) {
        print_message("(no %s: %s)\n", path, err.msg);
        skip();
    }
    const int64_t k = 512, per = 192, layers = 4;
    float *x = xmalloc((size_t)(layers * per * k) * 4);
    for (int64_t l = 0; l < layers; l++) {
        char name[64];
        snprintf(name, sizeof name, "blk.%lld.ffn_down.weight", (long long)l);
        const mw_gguf_tensor *t = mw_gguf_find_tensor(g, name);
        assert_non_null(t);
        assert_int_equal(t->dtype, MW_DTYPE_F32);
        assert_int_equal(t->dims[0], k);
        assert_int_equal(t->dims[1], per);
        memcpy(x + l * per * k, t->data, (size_t)(per * k) * 4);
    }
    mw_gguf_close(g);
    compare_with_rtn("tiny.gguf ffn_down", x, layers * per, k);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(block_sizes),
        cmocka_unit_test(q4_k_layout),
        cmocka_unit_test(q5_k_layout),
        cmocka_unit_test(q6_k_layout),
        cmocka_unit_test(q4_k_hand_built_dot),
        cmocka_unit_test(quant_round_trip),
        cmocka_unit_test(quant_edge_rows),
        cmocka_unit_test(search_beats_rtn_gaussian), /* issue #14 */
        cmocka_unit_test(search_beats_rtn_tiny),
        cmocka_unit_test(q8_k_blocks),
        PATH_TESTS(q8_k_paths),
        PATH_TESTS(matmul_matches_dequant),
        PATH_TESTS(matmul_extreme_blocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
