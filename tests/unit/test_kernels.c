/* test_kernels.c - the engine's kernels (src/engine/kernels.h): every
 * optimized kernel against its scalar reference, on every instruction set
 * this machine has (scalar, AVX2, AVX-512: each test runs once per path,
 * forced with mw_k_force_isa, and is skipped for a path the CPU lacks);
 * exhaustive f16 / bf16 conversions; quantization round trips and the
 * Q4_0 nibble layout on hand-built blocks.
 *
 * Matrix products are also checked against a double-precision sum of the
 * exact products of the (dequantized) operands, with a tolerance relative
 * to Σ|x·w| (a sum's rounding scales with that, not with the result). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"
#include "common/error.h"
#include "engine/kernels.h"
#include "engine/kernels_isa.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------- */

#include "test_rng.h"

/* roughly normal, N(0, sigma) */
static float rng_normal(float sigma)
{
    return (rng_f() + rng_f() + rng_f()) * sigma;
}

static void fill(float *v, int64_t n, float sigma)
{
    for (int64_t i = 0; i < n; i++) v[i] = rng_normal(sigma);
}

static float bits_f(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint32_t f_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    assert_non_null(p);
    return p;
}

/* |a - b| <= rel * scale + abs */
static void assert_close(double a, double b, double rel, double scale, double abs_tol, const char *what,
                         int64_t i)
{
    if (!(fabs(a - b) <= rel * scale + abs_tol)) {
        print_error("%s[%lld]: %.9g vs %.9g (|diff| %.3g > %.3g)\n", what, (long long)i, a, b,
                    fabs(a - b), rel * scale + abs_tol);
        fail();
    }
}

static const mw_dtype matmul_types[] = {MW_DTYPE_F32, MW_DTYPE_F16, MW_DTYPE_BF16, MW_DTYPE_Q8_0,
                                        MW_DTYPE_Q4_0,
                                        /* issue #14 */
                                        MW_DTYPE_Q4_1, MW_DTYPE_Q5_0, MW_DTYPE_Q5_1};

static int is_quant(mw_dtype t)
{
    return t == MW_DTYPE_Q8_0 || t == MW_DTYPE_Q4_0 || t == MW_DTYPE_Q4_1 || t == MW_DTYPE_Q5_0 ||
           t == MW_DTYPE_Q5_1;
}

/* the type x is prepared in: Q8_1 (with block sums) for Q4_1 / Q5_1 */
static mw_dtype x_type_of(mw_dtype t)
{
    if (t == MW_DTYPE_Q4_1 || t == MW_DTYPE_Q5_1) return MW_DTYPE_Q8_1;
    return is_quant(t) ? MW_DTYPE_Q8_0 : t;
}

/* Rows of f32 to weights of type t, always with the scalar path's
 * converters (so W is the same whichever path a test runs). */
static void make_weights(mw_dtype t, const float *src, void *dst, int64_t n, int64_t k)
{
    const size_t row = (size_t)mw_dtype_bytes(t, (uint64_t)k);
    int isa = mw_k_isa();
    assert_int_equal(mw_k_force_isa(MW_K_ISA_SCALAR), 0);
    for (int64_t j = 0; j < n; j++) {
        uint8_t *d = (uint8_t *)dst + (size_t)j * row;
        const float *s = src + j * k;
        switch (t) {
        case MW_DTYPE_F32: memcpy(d, s, (size_t)k * 4); break;
        case MW_DTYPE_F16: mw_k_row_to_f16(s, (uint16_t *)d, k); break;
        case MW_DTYPE_BF16: mw_k_row_to_bf16(s, (uint16_t *)d, k); break;
        case MW_DTYPE_Q8_0: mw_k_quant_row_q8_0(s, d, k); break;
        case MW_DTYPE_Q4_0: mw_k_quant_row_q4_0(s, d, k); break;
        case MW_DTYPE_Q4_1: mw_k_quant_row_q4_1(s, d, k); break;
        case MW_DTYPE_Q5_0: mw_k_quant_row_q5_0(s, d, k); break;
        case MW_DTYPE_Q5_1: mw_k_quant_row_q5_1(s, d, k); break;
        default: fail();
        }
    }
    assert_int_equal(mw_k_force_isa(isa), 0);
}

/* ---- per-path setup: state points at the isa id ----------------------------- */

#include "test_kernel_paths.h"

static int path_of(void **state)
{
    const int isa = *(int *)*state;
    if (!mw_k_isa_available(isa)) {
        print_message("(no %s on this machine or build)\n", mw_k_isa_name(isa));
        skip();
    }
    assert_int_equal(mw_k_isa(), isa);
    return isa;
}

/* ---- matrix products ---------------------------------------------------------- */

static void check_matmul(mw_dtype t, int64_t m, int64_t n, int64_t k, int64_t j0, int64_t j1)
{
    const size_t wrow = (size_t)mw_dtype_bytes(t, (uint64_t)k);
    float *wf = xmalloc((size_t)(n * k) * 4), *x = xmalloc((size_t)(m * k) * 4);
    uint8_t *W = xmalloc(wrow * (size_t)n);
    fill(wf, n * k, 0.05f);
    fill(x, m * k, 1.0f);
    if (m * k > 2) x[1] = 0.0f;
    make_weights(t, wf, W, n, k);

    const size_t xb = mw_k_prepare_x_bytes(t, m, k);
    assert_true(t == MW_DTYPE_F32 ? xb == 0 : xb > 0);
    void *xq = xmalloc(xb);
    mw_k_prepare_x(t, x, m, k, xq);

    float *y = xmalloc((size_t)(m * n) * 4), *yr = xmalloc((size_t)(m * n) * 4);
    for (int64_t i = 0; i < m * n; i++) y[i] = yr[i] = 1234.5f; /* outside [j0, j1): untouched */
    mw_k_matmul(t, W, x, xq, y, m, n, k, j0, j1);
    mw_kref_matmul(t, W, x, xq, yr, m, n, k, j0, j1);

    /* the exact value of what both computed: the dequantized operands' products in double */
    float *wd = xmalloc((size_t)k * 4), *xd = xmalloc((size_t)k * 4);
    const mw_dtype xt = x_type_of(t);
    const size_t xrow = (size_t)mw_dtype_bytes(xt, (uint64_t)k);
    /* Q4_1 / Q5_1 add each block's min times Q8_1's s = d Σq, stored f16:
     * the exact product of the dequantized operands is off by that rounding
     * (2^-11 of the min's term), so that comparison is looser there */
    const double rel_exact = xt == MW_DTYPE_Q8_1 ? 2e-3 : 1e-5;
    char what[64];
    snprintf(what, sizeof what, "%s m=%lld k=%lld y", mw_dtype_get(t)->name, (long long)m, (long long)k);
    for (int64_t i = 0; i < m; i++) {
        if (t == MW_DTYPE_F32)
            memcpy(xd, x + i * k, (size_t)k * 4);
        else
            mw_k_dequant_row(xt, (const uint8_t *)xq + (size_t)i * xrow, xd, k);
        for (int64_t j = 0; j < n; j++) {
            if (j < j0 || j >= j1) {
                assert_true(y[i * n + j] == 1234.5f);
                assert_true(yr[i * n + j] == 1234.5f);
                continue;
            }
            mw_k_dequant_row(t, W + (size_t)j * wrow, wd, k);
            double exact = 0, scale = 0;
            for (int64_t l = 0; l < k; l++) {
                exact += (double)xd[l] * (double)wd[l];
                scale += fabs((double)xd[l] * (double)wd[l]);
            }
            assert_close(y[i * n + j], yr[i * n + j], 1e-5, scale, 1e-30, what, i * n + j);
            assert_close(y[i * n + j], exact, rel_exact, scale, 1e-30, what, i * n + j);
            assert_close(yr[i * n + j], exact, rel_exact, scale, 1e-30, what, i * n + j);
        }
    }
    free(wf); free(x); free(W); free(xq); free(y); free(yr); free(wd); free(xd);
}

static void matmul_matches_reference(void **state)
{
    path_of(state);
    rng_seed(1);
    static const int64_t ks[] = {32, 64, 96, 4096, 11008};
    static const int64_t ms[] = {1, 3, 7};
    for (size_t ti = 0; ti < MW_ARRAY_LEN(matmul_types); ti++) {
        const mw_dtype t = matmul_types[ti];
        for (size_t ki = 0; ki < MW_ARRAY_LEN(ks); ki++) {
            for (size_t mi = 0; mi < MW_ARRAY_LEN(ms); mi++) {
                const int64_t n = ks[ki] > 1000 ? 11 : 19;
                check_matmul(t, ms[mi], n, ks[ki], 0, n);   /* all columns */
                check_matmul(t, ms[mi], n, ks[ki], 3, n - 2); /* a thread's share */
                check_matmul(t, ms[mi], n, ks[ki], 5, 6);   /* one column */
            }
        }
    }
}

/* F32 / F16 / BF16 take any k: tails shorter than a vector */
static void matmul_float_tails(void **state)
{
    path_of(state);
    rng_seed(2);
    static const int64_t ks[] = {1, 7, 8, 15, 17, 31, 33, 47, 100, 1000};
    for (size_t ti = 0; ti < 3; ti++)
        for (size_t ki = 0; ki < MW_ARRAY_LEN(ks); ki++)
            for (int64_t m = 1; m <= 5; m++) check_matmul(matmul_types[ti], m, 9, ks[ki], 1, 9);
}

/* m large enough for several x blocks (the L2 blocking) and every tile */
static void matmul_prefill_shapes(void **state)
{
    path_of(state);
    rng_seed(3);
    for (size_t ti = 0; ti < MW_ARRAY_LEN(matmul_types); ti++) {
        check_matmul(matmul_types[ti], 64, 10, 4096, 0, 10);
        check_matmul(matmul_types[ti], 66, 7, 2048, 1, 7);
        check_matmul(matmul_types[ti], 13, 33, 256, 2, 31);
    }
}

/* Q4_0 weights with a hand-built block: dot = Σ (nibble - 8) d · x */
static void matmul_hand_built_q4_0(void **state)
{
    path_of(state);
    uint8_t w[MW_K_Q4_0_BYTES] = {0x00, 0x3c}; /* d = 1.0 */
    float x[32], xr[32];
    for (int j = 0; j < 16; j++) w[2 + j] = (uint8_t)(j | ((15 - j) << 4)); /* e_j = j-8, e_j+16 = 7-j */
    for (int j = 0; j < 32; j++) x[j] = (float)(j % 5 - 2) * 63.5f; /* quantizes exactly: amax 127, d 1 */
    uint8_t xq[MW_K_Q8_0_BYTES];
    mw_k_prepare_x(MW_DTYPE_Q4_0, x, 1, 32, xq);
    mw_k_dequant_row(MW_DTYPE_Q8_0, xq, xr, 32);
    double want = 0;
    for (int j = 0; j < 16; j++) want += (j - 8) * (double)xr[j] + (7 - j) * (double)xr[j + 16];
    float y = 0;
    mw_k_matmul(MW_DTYPE_Q4_0, w, x, xq, &y, 1, 1, 32, 0, 1);
    assert_float_equal(y, want, 1e-3);
    mw_kref_matmul(MW_DTYPE_Q4_0, w, x, xq, &y, 1, 1, 32, 0, 1);
    assert_float_equal(y, want, 1e-3);
}

/* ---- conversions ------------------------------------------------------------------ */

/* The value of a half by its definition, for comparison. */
static double half_value(uint16_t h)
{
    const int e = (h >> 10) & 31, mant = h & 1023;
    const double v = e == 0 ? ldexp(mant, -24) : ldexp(1024 + mant, e - 25);
    return h & 0x8000 ? -v : v;
}

static void fp16_exhaustive(void **state)
{
    path_of(state);
    uint16_t *h = xmalloc(65536 * 2), *back = xmalloc(65536 * 2);
    float *f = xmalloc(65536 * 4), *fs = xmalloc(65536 * 4);
    for (uint32_t i = 0; i < 65536; i++) h[i] = (uint16_t)i;
    mw_k_dequant_row(MW_DTYPE_F16, h, f, 65536); /* the path's row converter */
    for (uint32_t i = 0; i < 65536; i++) fs[i] = mw_fp16_to_fp32((uint16_t)i);
    mw_k_row_to_f16(f, back, 65536);
    for (uint32_t i = 0; i < 65536; i++) {
        const int e = (i >> 10) & 31;
        if (e == 31 && (i & 1023)) { /* NaN: stays NaN, quiet, sign and payload kept */
            assert_true(isnan(fs[i]) && isnan(f[i]));
            assert_int_equal(f_bits(f[i]), f_bits(fs[i]));
            assert_int_equal(back[i], i | 0x200);
            assert_int_equal(mw_fp32_to_fp16(fs[i]), i | 0x200);
            continue;
        }
        if (e == 31) assert_true(isinf(fs[i]) && (fs[i] < 0) == ((i & 0x8000) != 0));
        else assert_true((double)fs[i] == half_value((uint16_t)i));
        assert_int_equal(f_bits(f[i]), f_bits(fs[i]));
        assert_int_equal(mw_fp32_to_fp16(fs[i]), i);
        assert_int_equal(back[i], i);
    }
    free(h); free(back); free(f); free(fs);
}

static void fp32_to_fp16_edges(void **state)
{
    path_of(state);
    static const struct { float f; uint16_t h; } cases[] = {
        {0.0f, 0x0000}, {-0.0f, 0x8000}, {1.0f, 0x3c00}, {-2.0f, 0xc000},
        {65504.0f, 0x7bff}, {65519.99f, 0x7bff}, {65520.0f, 0x7c00}, {-65520.0f, 0xfc00},
        {1e10f, 0x7c00}, {INFINITY, 0x7c00}, {-INFINITY, 0xfc00},
        {0x1p-24f, 0x0001}, {0x1p-25f, 0x0000}, {-0x1p-25f, 0x8000}, {0x1.000002p-25f, 0x0001},
        {0x1.8p-24f, 0x0002},           /* 1.5 ulp: tie to even 2 */
        {0x1.4p-23f, 0x0002},           /* 2.5 ulp: tie to even 2 */
        {0x1.cp-23f, 0x0004},           /* 3.5 ulp: tie to even 4 */
        {0x1p-14f, 0x0400},             /* smallest normal */
        {0x1.ff8p-15f, 0x03ff},         /* largest subnormal */
        {0x1.ffcp-15f, 0x0400},         /* tie between them: to the even 0x400 */
        {0x1.ffbfp-15f, 0x03ff},
        {1.0f + 0x1p-11f, 0x3c00},      /* tie: down to even */
        {1.0f + 0x3p-11f, 0x3c02},      /* tie: up to even */
        {0x1.002002p+0f, 0x3c01},     /* just above the tie */
        {1e-10f, 0x0000}, {-1e-10f, 0x8000}, {0.1f, 0x2e66}, {3.14159265f, 0x4248},
    };
    for (size_t i = 0; i < MW_ARRAY_LEN(cases); i++) {
        uint16_t h = mw_fp32_to_fp16(cases[i].f), hv;
        if (h != cases[i].h) print_error("fp16(%a) = %#x, want %#x\n", (double)cases[i].f, h, cases[i].h);
        assert_int_equal(h, cases[i].h);
        mw_k_row_to_f16(&cases[i].f, &hv, 1);
        assert_int_equal(hv, cases[i].h);
    }
    assert_true((mw_fp32_to_fp16(NAN) & 0x7e00) == 0x7e00);
    assert_true((mw_fp32_to_fp16(bits_f(0x7f800001)) & 0x7e00) == 0x7e00); /* sNaN made quiet */

    /* the path's row converter (F16C on x86) agrees bit for bit on any f32,
     * NaNs and subnormals included, over lengths with every tail */
    rng_seed(4);
    enum { N = 1 << 16 };
    float *f = xmalloc(N * 4);
    uint16_t *a = xmalloc(N * 2), *b = xmalloc(N * 2);
    for (int i = 0; i < N; i++) {
        uint32_t u = (uint32_t)rng_u64();
        if (i % 4 == 1) u = (u & 0x87ffffffu) | 0x30000000u; /* near the f16 range */
        if (i % 4 == 2) u = (u & 0x80ffffffu) | 0x38000000u;
        f[i] = bits_f(u);
    }
    for (int len = N - 17; len <= N; len += 4) {
        mw_k_row_to_f16(f, a, len);
        for (int i = 0; i < len; i++) b[i] = mw_fp32_to_fp16(f[i]);
        assert_memory_equal(a, b, (size_t)len * 2);
    }
    free(f); free(a); free(b);
}

static void bf16_conversions(void **state)
{
    path_of(state);
    for (uint32_t i = 0; i < 65536; i++) {
        const float f = mw_bf16_to_fp32((uint16_t)i);
        assert_int_equal(f_bits(f), i << 16);
        if (isnan(f))
            assert_int_equal(mw_fp32_to_bf16(f), i | 0x40);
        else
            assert_int_equal(mw_fp32_to_bf16(f), i);
    }
    static const struct { uint32_t u; uint16_t h; } cases[] = {
        {0x3f808000, 0x3f80}, /* tie: down to even */
        {0x3f818000, 0x3f82}, /* tie: up to even   */
        {0x3f808001, 0x3f81}, {0x3f807fff, 0x3f80},
        {0x7f7fffff, 0x7f80}, /* the largest float rounds to infinity */
        {0x7f800001, 0x7fc0}, /* sNaN: quiet */
        {0xffc00001, 0xffc0}, {0x00000001, 0x0000}, {0x00008000, 0x0000}, {0x00018000, 0x0002},
        {0x80000000, 0x8000}, {0xff800000, 0xff80},
    };
    for (size_t i = 0; i < MW_ARRAY_LEN(cases); i++) {
        uint16_t hv;
        const float f = bits_f(cases[i].u);
        assert_int_equal(mw_fp32_to_bf16(f), cases[i].h);
        mw_k_row_to_bf16(&f, &hv, 1);
        assert_int_equal(hv, cases[i].h);
    }
    rng_seed(5);
    enum { N = 1 << 16 };
    float *f = xmalloc(N * 4), *g = xmalloc(N * 4);
    uint16_t *a = xmalloc(N * 2);
    for (int i = 0; i < N; i++) f[i] = bits_f((uint32_t)rng_u64());
    for (int len = N - 33; len <= N; len += 4) {
        mw_k_row_to_bf16(f, a, len);
        for (int i = 0; i < len; i++) assert_int_equal(a[i], mw_fp32_to_bf16(f[i]));
    }
    mw_k_dequant_row(MW_DTYPE_BF16, a, g, N);
    for (int i = 0; i < N; i++) assert_int_equal(f_bits(g[i]), (uint32_t)a[i] << 16);
    free(f); free(g); free(a);
}

/* ---- quantization ------------------------------------------------------------------ */

static void q8_0_round_trip(void **state)
{
    const int isa = path_of(state);
    rng_seed(6);
    enum { K = 32 * 200 };
    float *x = xmalloc(K * 4), *back = xmalloc(K * 4);
    uint8_t *q = xmalloc(K / 32 * 34), *qs = xmalloc(K / 32 * 34);
    for (int i = 0; i < K; i++) x[i] = rng_normal(i < K / 2 ? 1.0f : 1e-3f);
    for (int i = 64; i < 96; i++) x[i] = 0.0f; /* an all-zero block: d = 0 */
    for (int i = 96; i < 128; i++) x[i] = (float)(i - 112) + 0.5f; /* halves: roundf ties */
    x[96] = -127.0f;
    mw_k_quant_row_q8_0(x, q, K);
    mw_k_dequant_row(MW_DTYPE_Q8_0, q, back, K);
    for (int b = 0; b < K / 32; b++) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[b * 32 + j]));
        const float d = amax / 127.0f;
        assert_int_equal(q[b * 34] | (q[b * 34 + 1] << 8), mw_fp32_to_fp16(d));
        /* half a step, plus what storing d as f16 costs (a lot where d is
         * an f16 subnormal, below 2^-14) */
        const float d16 = mw_fp16_to_fp32(mw_fp32_to_fp16(d));
        for (int j = 0; j < 32; j++) {
            const int i = b * 32 + j;
            assert_close(back[i], x[i], 0.0, 0.0, 0.501 * d + 127 * fabsf(d16 - d), "q8_0 round trip", i);
            assert_int_equal((int8_t)q[b * 34 + 2 + j], (int)roundf(x[i] * (d ? 1.0f / d : 0.0f)));
        }
    }
    for (int j = 0; j < 32; j++) assert_int_equal(q[2 * 34 + 2 + j], 0);
    /* roundf: halves away from zero (d = 1 exactly in block 3) */
    assert_int_equal(q[3 * 34] | (q[3 * 34 + 1] << 8), 0x3c00);
    assert_int_equal((int8_t)q[3 * 34 + 2 + 1], -15);  /* -14.5 */
    assert_int_equal((int8_t)q[3 * 34 + 2 + 16], 1);   /*   0.5 */
    assert_int_equal((int8_t)q[3 * 34 + 2 + 15], -1);  /*  -0.5 */
    assert_int_equal((int8_t)q[3 * 34 + 2 + 18], 3);   /*   2.5 */
    /* this path's quantizer writes the scalar one's bytes */
    assert_int_equal(mw_k_force_isa(MW_K_ISA_SCALAR), 0);
    mw_k_quant_row_q8_0(x, qs, K);
    assert_int_equal(mw_k_force_isa(isa), 0);
    assert_memory_equal(q, qs, K / 32 * 34);
    /* the activation quantizer (llama.cpp's CPU rule): id = 127/amax and
     * halves to even, on every path alike */
    mw_k_quant_row_q8_0_act(x, q, K);
    for (int b = 0; b < K / 32; b++) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[b * 32 + j]));
        for (int j = 0; j < 32; j++)
            assert_int_equal((int8_t)q[b * 34 + 2 + j], (int)nearbyintf(x[b * 32 + j] * (amax ? 127.0f / amax : 0.0f)));
    }
    assert_int_equal((int8_t)q[3 * 34 + 2 + 1], -14);  /* -14.5 to even */
    assert_int_equal((int8_t)q[3 * 34 + 2 + 16], 0);   /*   0.5 to even */
    assert_int_equal((int8_t)q[3 * 34 + 2 + 18], 2);   /*   2.5 to even */
    assert_int_equal(mw_k_force_isa(MW_K_ISA_SCALAR), 0);
    mw_k_quant_row_q8_0_act(x, qs, K);
    assert_int_equal(mw_k_force_isa(isa), 0);
    assert_memory_equal(q, qs, K / 32 * 34);
    free(x); free(back); free(q); free(qs);
}

static void q4_0_round_trip(void **state)
{
    path_of(state);
    rng_seed(7);
    enum { K = 32 * 200 };
    float *x = xmalloc(K * 4), *back = xmalloc(K * 4);
    uint8_t *q = xmalloc(K / 32 * 18);
    for (int i = 0; i < K; i++) x[i] = rng_normal(i < K / 2 ? 1.0f : 1e-3f);
    for (int i = 64; i < 96; i++) x[i] = 0.0f;
    mw_k_quant_row_q4_0(x, q, K);
    mw_k_dequant_row(MW_DTYPE_Q4_0, q, back, K);
    for (int b = 0; b < K / 32; b++) {
        float amax = 0, max = 0;
        for (int j = 0; j < 32; j++)
            if (amax < fabsf(x[b * 32 + j])) amax = fabsf(x[b * 32 + j]), max = x[b * 32 + j];
        const float d = max / -8.0f;
        assert_int_equal(q[b * 18] | (q[b * 18 + 1] << 8), mw_fp32_to_fp16(d));
        /* the clamp at 15 costs up to one step on the side opposite the max */
        for (int j = 0; j < 32; j++)
            assert_close(back[b * 32 + j], x[b * 32 + j], 0.0, 0.0, 1.01 * fabsf(d) + 1e-30,
                         "q4_0 round trip", b * 32 + j);
    }
    free(x); free(back); free(q);
}

/* formats.md: qs[j] holds element j in its low nibble, j+16 in its high one */
static void q4_0_nibble_layout(void **state)
{
    path_of(state);
    float x[32], back[32];
    for (int j = 0; j < 16; j++) {
        x[j] = (float)(j - 8);       /* x[0] = -8: the max magnitude, d = -8/-8 = 1 */
        x[j + 16] = (float)(7 - j);
    }
    uint8_t q[18];
    mw_k_quant_row_q4_0(x, q, 32);
    assert_int_equal(q[0] | (q[1] << 8), 0x3c00);
    for (int j = 0; j < 16; j++) assert_int_equal(q[2 + j], j | ((15 - j) << 4));
    mw_k_dequant_row(MW_DTYPE_Q4_0, q, back, 32);
    for (int j = 0; j < 32; j++) assert_true(back[j] == x[j]);

    /* a positive max: d = 8/-8 = -1, so nibble = (int)(-x + 8.5), clamped to 15 */
    for (int j = 0; j < 32; j++) x[j] = 0.0f;
    x[5] = 8.0f;
    x[20] = -8.0f; /* ties with the max in magnitude but comes later: nibble 16 -> 15 */
    x[21] = 3.0f;
    mw_k_quant_row_q4_0(x, q, 32);
    assert_int_equal(q[0] | (q[1] << 8), 0xbc00);
    assert_int_equal(q[2 + 5] & 15, 0);
    assert_int_equal(q[2 + 4] >> 4, 15);
    assert_int_equal(q[2 + 5] >> 4, 5);
    assert_int_equal(q[2 + 0], 8 | (8 << 4));
    mw_k_dequant_row(MW_DTYPE_Q4_0, q, back, 32);
    assert_true(back[5] == 8.0f && back[20] == -7.0f && back[21] == 3.0f && back[0] == 0.0f);

    /* a hand-built Q8_0 block */
    uint8_t b8[34] = {0x00, 0x38}; /* d = 0.5 */
    for (int j = 0; j < 32; j++) b8[2 + j] = (uint8_t)(int8_t)(j * 8 - 128);
    mw_k_dequant_row(MW_DTYPE_Q8_0, b8, back, 32);
    for (int j = 0; j < 32; j++) assert_true(back[j] == (float)(j * 8 - 128) * 0.5f);
}

/* issue #14: Q4_1 / Q5_0 / Q5_1 / Q8_1 blocks built by hand from ggml's
 * layouts (block_q4_1: f16 d, f16 m, qs[16]; block_q5_0: f16 d, qh[4],
 * qs[16]; block_q5_1: f16 d, f16 m, qh[4], qs[16]; block_q8_1: f16 d, f16
 * s, qs[32]), on values each quantizer represents exactly (q[j] = j). */
static void q51_layouts(void **state)
{
    path_of(state);
    float x[32], back[32];
    uint8_t b[36];
    /* Q5_0: x = (j - 16)/2: max -8 (first of largest magnitude), d = 0.5 */
    for (int j = 0; j < 32; j++) x[j] = (float)(j - 16) * 0.5f;
    mw_k_quant_row_q5_0(x, b, 32);
    assert_int_equal(b[0] | b[1] << 8, 0x3800);
    assert_int_equal(b[2], 0x00); assert_int_equal(b[3], 0x00);
    assert_int_equal(b[4], 0xff); assert_int_equal(b[5], 0xff); /* weights 16..31 have bit 4 */
    for (int j = 0; j < 16; j++) assert_int_equal(b[6 + j], j | j << 4);
    mw_k_dequant_row(MW_DTYPE_Q5_0, b, back, 32);
    for (int j = 0; j < 32; j++) assert_true(back[j] == x[j]);
    /* Q4_1: x = 1 + (j % 16)/4: min 1, d = 0.25 */
    for (int j = 0; j < 32; j++) x[j] = 1.0f + 0.25f * (float)(j % 16);
    mw_k_quant_row_q4_1(x, b, 32);
    assert_int_equal(b[0] | b[1] << 8, 0x3400);
    assert_int_equal(b[2] | b[3] << 8, 0x3c00);
    for (int j = 0; j < 16; j++) assert_int_equal(b[4 + j], j | j << 4);
    mw_k_dequant_row(MW_DTYPE_Q4_1, b, back, 32);
    for (int j = 0; j < 32; j++) assert_true(back[j] == x[j]);
    /* Q5_1: x = -2 + j/8: min -2, d = 0.125 */
    for (int j = 0; j < 32; j++) x[j] = -2.0f + 0.125f * (float)j;
    mw_k_quant_row_q5_1(x, b, 32);
    assert_int_equal(b[0] | b[1] << 8, 0x3000);
    assert_int_equal(b[2] | b[3] << 8, 0xc000);
    assert_int_equal(b[4] | b[5] << 8 | b[6] << 16 | (uint32_t)b[7] << 24, 0xffff0000u);
    for (int j = 0; j < 16; j++) assert_int_equal(b[8 + j], j | j << 4);
    mw_k_dequant_row(MW_DTYPE_Q5_1, b, back, 32);
    for (int j = 0; j < 32; j++) assert_true(back[j] == x[j]);
    /* a constant block: d = 0, every weight the min */
    for (int j = 0; j < 32; j++) x[j] = -0.75f;
    mw_k_quant_row_q5_1(x, b, 32);
    mw_k_dequant_row(MW_DTYPE_Q5_1, b, back, 32);
    for (int j = 0; j < 32; j++) assert_true(back[j] == -0.75f);
    /* Q8_1: x = j - 10: d = 21/127, q = nearest(x 127/21), s = d Σq */
    for (int j = 0; j < 32; j++) x[j] = (float)(j - 10);
    mw_k_quant_row_q8_1_act(x, b, 32);
    int sum = 0;
    for (int j = 0; j < 32; j++) {
        const int q = (int)nearbyintf(x[j] * (127.0f / 21.0f));
        assert_int_equal((int8_t)b[4 + j], q);
        sum += q;
    }
    assert_int_equal((int8_t)b[4 + 31], 127);
    assert_int_equal(b[0] | b[1] << 8, mw_fp32_to_fp16(21.0f / 127.0f));
    assert_int_equal(b[2] | b[3] << 8, mw_fp32_to_fp16(21.0f / 127.0f * (float)sum));
    /* the product of the Q5_1 block above (rebuilt) with this x:
     * d_w d_x Σ q_w q_x + m_w s_x */
    for (int j = 0; j < 32; j++) back[j] = -2.0f + 0.125f * (float)j;
    uint8_t w[MW_K_Q5_1_BYTES];
    mw_k_quant_row_q5_1(back, w, 32);
    int32_t isum = 0;
    for (int j = 0; j < 32; j++) isum += j * (int8_t)b[4 + j];
    const float want = 0.125f * mw_fp16_to_fp32((uint16_t)(b[0] | b[1] << 8)) * (float)isum +
                       -2.0f * mw_fp16_to_fp32((uint16_t)(b[2] | b[3] << 8));
    uint8_t xq[MW_K_Q8_1_BYTES];
    mw_k_prepare_x(MW_DTYPE_Q5_1, x, 1, 32, xq);
    assert_memory_equal(xq, b, MW_K_Q8_1_BYTES);
    float y = 0.0f, yr = 0.0f;
    mw_k_matmul(MW_DTYPE_Q5_1, w, x, xq, &y, 1, 1, 32, 0, 1);
    mw_kref_matmul(MW_DTYPE_Q5_1, w, x, xq, &yr, 1, 1, 32, 0, 1);
    assert_true(yr == want);
    assert_true(fabsf(y - want) <= 1e-6f * fabsf(want));
}

/* issue #14: random rows through Q4_1 / Q5_0 / Q5_1 and back: every value
 * within one step d of its input (half a step but for Q5_0's clamped top
 * and the f16 rounding of m), and Q5_1 finer than Q4_1 */
static void q51_round_trip(void **state)
{
    path_of(state);
    rng_seed(14);
    enum { K = 4096 };
    static const mw_dtype ts[] = {MW_DTYPE_Q4_1, MW_DTYPE_Q5_0, MW_DTYPE_Q5_1};
    float *x = xmalloc(K * 4), *back = xmalloc(K * 4);
    uint8_t *q = xmalloc(K);
    double se[3] = {0};
    fill(x, K, 0.05f);
    x[7] = 0.4f; /* an outlier */
    for (int ti = 0; ti < 3; ti++) {
        const mw_dtype t = ts[ti];
        const size_t bb = (size_t)mw_dtype_bytes(t, 32);
        make_weights(t, x, q, 1, K);
        mw_k_dequant_row(t, q, back, K);
        for (int64_t b = 0; b < K / 32; b++) {
            const uint8_t *blk = q + (size_t)b * bb;
            const float d = mw_fp16_to_fp32((uint16_t)(blk[0] | blk[1] << 8));
            const float m = t == MW_DTYPE_Q5_0 ? 0.0f : mw_fp16_to_fp32((uint16_t)(blk[2] | blk[3] << 8));
            for (int j = 0; j < 32; j++) {
                const int64_t i = b * 32 + j;
                assert_close(back[i], x[i], 0.0, 0.0, fabsf(d) + fabsf(m) * 1e-3 + 1e-7, "q51 round trip", i);
                se[ti] += ((double)back[i] - x[i]) * ((double)back[i] - x[i]);
            }
        }
    }
    print_message("RMS error: Q4_1 %.3g, Q5_0 %.3g, Q5_1 %.3g\n", sqrt(se[0] / K), sqrt(se[1] / K),
                  sqrt(se[2] / K));
    assert_true(se[2] < se[0] && se[1] < se[0]);
    free(x); free(back); free(q);
}

static void prepare_x_layouts(void **state)
{
    const int isa = path_of(state);
    rng_seed(8);
    const int64_t m = 3, k = 96;
    float x[3 * 96];
    fill(x, m * k, 2.0f);
    assert_int_equal(mw_k_prepare_x_bytes(MW_DTYPE_F32, m, k), 0);
    assert_int_equal(mw_k_prepare_x_bytes(MW_DTYPE_F16, m, k), m * k * 2);
    assert_int_equal(mw_k_prepare_x_bytes(MW_DTYPE_BF16, m, k), m * k * 2);
    assert_int_equal(mw_k_prepare_x_bytes(MW_DTYPE_Q8_0, m, k), m * 3 * 34);
    assert_int_equal(mw_k_prepare_x_bytes(MW_DTYPE_Q4_0, m, k), m * 3 * 34);
    assert_int_equal(mw_k_prepare_x_bytes(MW_DTYPE_Q5_0, m, k), m * 3 * 34);
    assert_int_equal(mw_k_prepare_x_bytes(MW_DTYPE_Q4_1, m, k), m * 3 * 36);
    assert_int_equal(mw_k_prepare_x_bytes(MW_DTYPE_Q5_1, m, k), m * 3 * 36);
    uint8_t a[3 * 96 * 2], b[3 * 96 * 2];
    for (size_t ti = 1; ti < MW_ARRAY_LEN(matmul_types); ti++) {
        const mw_dtype t = matmul_types[ti];
        const size_t n = mw_k_prepare_x_bytes(t, m, k);
        mw_k_prepare_x(t, x, m, k, a);
        assert_int_equal(mw_k_force_isa(MW_K_ISA_SCALAR), 0);
        mw_k_prepare_x(t, x, m, k, b);
        assert_int_equal(mw_k_force_isa(isa), 0);
        assert_memory_equal(a, b, n);
        for (int64_t i = 0; i < m * k; i++) {
            const uint8_t *p = a + 2 * i;
            if (t == MW_DTYPE_F16) assert_int_equal(p[0] | (p[1] << 8), mw_fp32_to_fp16(x[i]));
            if (t == MW_DTYPE_BF16) assert_int_equal(p[0] | (p[1] << 8), mw_fp32_to_bf16(x[i]));
        }
    }
    assert_true(mw_k_supported(MW_DTYPE_Q8_0) && mw_k_supported(MW_DTYPE_F32));
    assert_true(mw_k_supported(MW_DTYPE_Q4_K) && mw_k_supported(MW_DTYPE_Q6_K));
    assert_false(mw_k_supported(MW_DTYPE_Q2_K) || mw_k_supported(MW_DTYPE_F64));
    assert_true(mw_k_supported(MW_DTYPE_Q4_1) && mw_k_supported(MW_DTYPE_Q5_0) &&
                mw_k_supported(MW_DTYPE_Q5_1));
}

/* ---- row operations ----------------------------------------------------------------- */

static const int64_t row_sizes[] = {1, 2, 7, 8, 15, 16, 17, 31, 33, 64, 100, 128, 4096, 11008};

static void rmsnorm_matches_reference(void **state)
{
    path_of(state);
    rng_seed(9);
    for (size_t si = 0; si < MW_ARRAY_LEN(row_sizes); si++) {
        const int64_t n = row_sizes[si];
        float *x = xmalloc((size_t)n * 4), *w = xmalloc((size_t)n * 4);
        float *y = xmalloc((size_t)n * 4), *yr = xmalloc((size_t)n * 4);
        fill(x, n, 3.0f);
        fill(w, n, 1.0f);
        mw_k_rmsnorm(y, x, w, n, 1e-5f);
        mw_kref_rmsnorm(yr, x, w, n, 1e-5f);
        double ss = 0;
        for (int64_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
        const double sc = 1.0 / sqrt(ss / (double)n + 1e-5);
        for (int64_t i = 0; i < n; i++) {
            assert_close(y[i], yr[i], 1e-6, fabs(yr[i]), 1e-30, "rmsnorm", i);
            assert_close(y[i], x[i] * sc * w[i], 1e-5, fabs(x[i] * sc * w[i]), 1e-30, "rmsnorm exact", i);
        }
        mw_k_rmsnorm(x, x, w, n, 1e-5f); /* in place */
        for (int64_t i = 0; i < n; i++) assert_close(x[i], yr[i], 1e-6, fabs(yr[i]), 1e-30, "rmsnorm alias", i);
        free(x); free(w); free(y); free(yr);
    }
}

static void softmax_matches_reference(void **state)
{
    path_of(state);
    rng_seed(10);
    for (size_t si = 0; si < MW_ARRAY_LEN(row_sizes); si++) {
        const int64_t n = row_sizes[si];
        float *x = xmalloc((size_t)n * 4), *xr = xmalloc((size_t)n * 4);
        for (int pass = 0; pass < 3; pass++) {
            fill(x, n, pass == 0 ? 1.0f : pass == 1 ? 30.0f : 0.01f);
            if (pass == 1 && n > 3) x[n - 2] = -INFINITY; /* a masked position */
            memcpy(xr, x, (size_t)n * 4);
            mw_k_softmax(x, n);
            mw_kref_softmax(xr, n);
            double sum = 0;
            for (int64_t i = 0; i < n; i++) {
                assert_close(x[i], xr[i], 1e-5, fabs(xr[i]), 1e-37, "softmax", i);
                sum += x[i];
            }
            assert_float_equal(sum, 1.0, 1e-5);
            if (pass == 1 && n > 3) assert_true(x[n - 2] == 0.0f);
        }
        free(x); free(xr);
    }
}

static void silu_mul_matches_reference(void **state)
{
    path_of(state);
    rng_seed(11);
    for (size_t si = 0; si < MW_ARRAY_LEN(row_sizes); si++) {
        const int64_t n = row_sizes[si];
        float *g = xmalloc((size_t)n * 4), *gr = xmalloc((size_t)n * 4), *u = xmalloc((size_t)n * 4);
        fill(g, n, 4.0f);
        fill(u, n, 1.0f);
        if (n >= 8) { /* the exp's extremes: overflow to inf, results near 0 */
            g[0] = 95.0f; g[1] = -95.0f; g[2] = 88.5f; g[3] = -88.5f; g[4] = 0.0f; g[5] = -20.0f;
        }
        memcpy(gr, g, (size_t)n * 4);
        mw_k_silu_mul(g, u, n);
        mw_kref_silu_mul(gr, u, n);
        for (int64_t i = 0; i < n; i++) assert_close(g[i], gr[i], 1e-6, fabs(gr[i]), 1e-37, "silu_mul", i);
        free(g); free(gr); free(u);
    }
}

static void dot_and_axpy(void **state)
{
    path_of(state);
    rng_seed(12);
    for (size_t si = 0; si < MW_ARRAY_LEN(row_sizes); si++) {
        const int64_t n = row_sizes[si];
        float *a = xmalloc((size_t)n * 4), *b = xmalloc((size_t)n * 4), *y = xmalloc((size_t)n * 4);
        fill(a, n, 1.0f);
        fill(b, n, 1.0f);
        double exact = 0, scale = 0;
        for (int64_t i = 0; i < n; i++) {
            exact += (double)a[i] * b[i];
            scale += fabs((double)a[i] * b[i]);
        }
        assert_close(mw_k_dot_f32(a, b, n), exact, 1e-6, scale, 1e-30, "dot", n);
        memcpy(y, b, (size_t)n * 4);
        mw_k_axpy(y, 0.37f, a, n);
        for (int64_t i = 0; i < n; i++) {
            const double want = (double)b[i] + 0.37 * (double)a[i];
            assert_close(y[i], want, 1e-6, fabs(b[i]) + fabs(a[i]), 0, "axpy", i);
        }
        free(a); free(b); free(y);
    }
    assert_true(mw_k_dot_f32(NULL, NULL, 0) == 0.0f);
}

static void rope_matches_reference(void **state)
{
    path_of(state);
    rng_seed(13);
    static const struct { int64_t heads, dim, rot, pos; } cases[] = {
        {1, 2, 2, 1}, {4, 64, 64, 0}, {4, 64, 64, 7}, {32, 128, 128, 1000},
        {8, 128, 64, 4095}, {2, 256, 256, 123456}, {3, 160, 160, 5},
    };
    for (size_t ci = 0; ci < MW_ARRAY_LEN(cases); ci++) {
        const int64_t n = cases[ci].heads * cases[ci].dim;
        float *x = xmalloc((size_t)n * 4), *xr = xmalloc((size_t)n * 4), *x0 = xmalloc((size_t)n * 4);
        fill(x, n, 1.0f);
        memcpy(xr, x, (size_t)n * 4);
        memcpy(x0, x, (size_t)n * 4);
        mw_k_rope(x, cases[ci].heads, cases[ci].dim, cases[ci].rot, cases[ci].pos, 10000.0f);
        mw_kref_rope(xr, cases[ci].heads, cases[ci].dim, cases[ci].rot, cases[ci].pos, 10000.0f);
        for (int64_t h = 0; h < cases[ci].heads; h++) {
            for (int64_t i = 0; i < cases[ci].dim; i++) {
                const int64_t at = h * cases[ci].dim + i;
                assert_close(x[at], xr[at], 1e-6, 2.0, 0, "rope", at);
                if (i >= cases[ci].rot) assert_true(x[at] == x0[at]); /* past n_rot: untouched */
            }
            /* each pair keeps its length; pair 0 turns by pos radians */
            for (int64_t i = 0; 2 * i < cases[ci].rot; i++) {
                const float *v = x + h * cases[ci].dim + 2 * i, *v0 = x0 + h * cases[ci].dim + 2 * i;
                assert_float_equal(hypot(v[0], v[1]), hypot(v0[0], v0[1]), 1e-5);
            }
            const float *v = x + h * cases[ci].dim, *v0 = x0 + h * cases[ci].dim;
            const double t = (double)cases[ci].pos;
            assert_float_equal(v[0], v0[0] * cos(t) - v0[1] * sin(t), 1e-3);
            assert_float_equal(v[1], v0[0] * sin(t) + v0[1] * cos(t), 1e-3);
        }
        free(x); free(xr); free(x0);
    }
}

/* ---- dispatch --------------------------------------------------------------------------- */

static void isa_selection(void **state)
{
    (void)state;
    assert_int_equal(mw_k_force_isa(MW_K_ISA_AUTO), 0);
    const int best = mw_k_isa();
    assert_true(mw_k_isa_available(best));
    for (int i = best + 1; i < MW_K_ISA_COUNT; i++) assert_false(mw_k_isa_available(i));
    assert_true(mw_k_isa_available(MW_K_ISA_SCALAR));
    assert_int_equal(mw_k_force_isa(99), -1);
    assert_int_equal(mw_k_isa(), best);
    assert_int_equal(mw_k_force_isa(MW_K_ISA_SCALAR), 0);
    assert_int_equal(mw_k_isa(), MW_K_ISA_SCALAR);
    assert_int_equal(mw_k_force_isa(MW_K_ISA_AUTO), 0);
    assert_int_equal(mw_k_isa(), best);
    assert_string_equal(mw_k_isa_name(MW_K_ISA_AVX2), "avx2");
    print_message("kernels use %s on this machine\n", mw_k_isa_name(best));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(isa_selection),
        PATH_TESTS(fp16_exhaustive),
        PATH_TESTS(fp32_to_fp16_edges),
        PATH_TESTS(bf16_conversions),
        PATH_TESTS(q8_0_round_trip),
        PATH_TESTS(q4_0_round_trip),
        PATH_TESTS(q4_0_nibble_layout),
        PATH_TESTS(prepare_x_layouts),
        PATH_TESTS(q51_layouts), /* issue #14 */
        PATH_TESTS(q51_round_trip),
        PATH_TESTS(matmul_hand_built_q4_0),
        PATH_TESTS(matmul_matches_reference),
        PATH_TESTS(matmul_float_tails),
        PATH_TESTS(matmul_prefill_shapes),
        PATH_TESTS(rmsnorm_matches_reference),
        PATH_TESTS(softmax_matches_reference),
        PATH_TESTS(silu_mul_matches_reference),
        PATH_TESTS(dot_and_axpy),
        PATH_TESTS(rope_matches_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
