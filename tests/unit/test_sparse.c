/* test_sparse.c - memwall's sparse weight types (issue #14, docs/SPARSE.md):
 * the layouts' exact byte counts, the type table, pack -> dequant round
 * trips, the AVX-512 product against the scalar reference (random masks
 * with empty and full blocks, 1 to 6 rows of x, a part of the output rows),
 * the reference against a double-precision product of the dequantized
 * operands, hostile 2:4 index patterns, and the row validation that
 * refuses a mask keeping the wrong count. Q8_SUK (a scale per 256, values
 * + 128, x in Q8_K): its sizes, pack by hand, the same product checks with
 * empty and full 256-groups, rows past the m = 1 kernel's stack (k 16640)
 * and the forced-scalar dispatch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"
#include "common/error.h"
#include "engine/kernels.h"
#include "engine/kernels_isa.h"
#include "engine/sparse.h"
#include "format/gguf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_rng.h"

static const mw_dtype ALL[6] = {MW_DTYPE_F32_SU, MW_DTYPE_F16_SU, MW_DTYPE_Q8_SU,
                                MW_DTYPE_F32_S24, MW_DTYPE_F16_S24, MW_DTYPE_Q8_S24};

/* ---- the table and the sizes ------------------------------------------- */

static void test_types(void **state)
{
    (void)state;
    static const char *names[6] = {"F32_SU", "F16_SU", "Q8_SU", "F32_S24", "F16_S24", "Q8_S24"};
    for (int i = 0; i < 6; i++) {
        const mw_dtype_info *d = mw_dtype_get(ALL[i]);
        assert_string_equal(d->name, names[i]);
        assert_int_equal(d->ggml_id, 4096 + i); /* beyond ggml's types: llama.cpp refuses them */
        assert_int_equal(d->block_elems, 64);
        mw_dtype t;
        mw_err err;
        assert_int_equal(mw_dtype_from_ggml(4096u + (unsigned)i, &t, &err), MW_OK);
        assert_int_equal(t, ALL[i]);
        assert_int_equal(mw_dtype_from_name(names[i], &t, &err), MW_OK);
        assert_int_equal(t, ALL[i]);
        assert_true(mw_dtype_is_sparse(ALL[i]));
        assert_int_equal(mw_sparse_is_24(ALL[i]), i >= 3);
        assert_int_equal(mw_sparse_type(mw_sparse_base(ALL[i]), i >= 3), ALL[i]);
    }
    assert_false(mw_dtype_is_sparse(MW_DTYPE_Q8_0));
    assert_false(mw_dtype_is_sparse(MW_DTYPE_COUNT));
    assert_int_equal(mw_sparse_base(MW_DTYPE_F16_SU), MW_DTYPE_F16);
    assert_int_equal(mw_sparse_base(MW_DTYPE_Q8_S24), MW_DTYPE_Q8_0);
    assert_int_equal(mw_sparse_base(MW_DTYPE_Q4_K), MW_DTYPE_COUNT);
    assert_int_equal(mw_sparse_type(MW_DTYPE_Q4_K, 0), MW_DTYPE_COUNT);
    /* unstructured: no fixed size without keep */
    assert_true(mw_dtype_bytes(MW_DTYPE_F16_SU, 4096) == MW_UNKNOWN);
    assert_true(mw_dtype_bits(MW_DTYPE_Q8_SU) == 0);
}

static void test_bytes(void **state)
{
    (void)state;
    /* the layouts of docs/SPARSE.md, by hand: k = 4096 is 64 blocks of 64 */
    assert_int_equal(mw_dtype_bytes(MW_DTYPE_F32_S24, 4096), 64 * (8 + 32 * 4)); /* 8704 */
    assert_int_equal(mw_dtype_bytes(MW_DTYPE_F16_S24, 4096), 64 * (8 + 32 * 2)); /* 4608 */
    assert_int_equal(mw_dtype_bytes(MW_DTYPE_Q8_S24, 4096), 64 * (2 + 8 + 32));  /* 2688 */
    assert_int_equal(mw_sparse_row_bytes(MW_DTYPE_F32_S24, 4096, 0), 8704);
    assert_int_equal(mw_sparse_keep_q16(0.5), 32768);
    assert_int_equal(mw_sparse_keep_q16(0.7), 19661); /* 0.3 * 65536 = 19660.8 */
    assert_int_equal(mw_sparse_keep_q16(0.0), 65536);
    assert_int_equal(mw_sparse_keep_q16(1.0), 0);
    assert_int_equal(mw_sparse_row_keep(4096, 32768), 2048);
    assert_int_equal(mw_sparse_row_keep(11008, 19661), 3302); /* (11008*19661+32768)>>16 */
    assert_int_equal(mw_sparse_row_keep(64, 65536), 64);
    assert_int_equal(mw_sparse_row_keep(64, 1), 0);
    assert_int_equal(mw_sparse_row_bytes(MW_DTYPE_F32_SU, 4096, 2048), 64 * 8 + 2048 * 4);
    assert_int_equal(mw_sparse_row_bytes(MW_DTYPE_F16_SU, 4096, 2048), 64 * 8 + 2048 * 2);
    assert_int_equal(mw_sparse_row_bytes(MW_DTYPE_Q8_SU, 4096, 2048), 64 * 8 + 64 * 2 + 2048);
    assert_int_equal(mw_sparse_row_bytes(MW_DTYPE_Q8_SU, 4096, 2047), 64 * 8 + 64 * 2 + 2047);
    /* dense for comparison: F16 8192, Q8_0 4352: F16_SU(0.5) 56%, Q8_SU(0.5) 62% */
    assert_int_equal(mw_sparse_row_bytes(MW_DTYPE_F16_SU, 100, 50), 0);  /* k not x64 */
    assert_int_equal(mw_sparse_row_bytes(MW_DTYPE_F16_SU, 128, 129), 0); /* keep > k */
    assert_int_equal(mw_sparse_row_bytes(MW_DTYPE_F16, 128, 64), 0);     /* not sparse */
}

/* ---- helpers ------------------------------------------------------------ */

/* a random mask over k with exactly keep bits when keep >= 0 (blocks 0 and
 * 1 forced empty and full when keep allows), or 2:4 when keep < 0 */
static void rand_mask(uint64_t *mask, int64_t k, int64_t keep)
{
    const int64_t nb = k / 64;
    memset(mask, 0, (size_t)nb * 8);
    if (keep < 0) {
        for (int64_t g = 0; g < k / 4; g++) {
            int a = (int)(rng_u64() % 4), b = (int)(rng_u64() % 3);
            if (b >= a) b++;
            mask[g / 16] |= (1ull << (4 * (g % 16) + a)) | (1ull << (4 * (g % 16) + b));
        }
        return;
    }
    int64_t have = 0, from = 0;
    if (nb >= 2 && keep >= 64 && keep <= k - 64) {
        mask[1] = ~0ull; /* block 0 empty, block 1 full */
        have = 64;
        from = 128;
    }
    while (have < keep) {
        int64_t p = from + (int64_t)(rng_u64() % (uint64_t)(k - from));
        if (mask[p / 64] >> (p % 64) & 1) continue;
        mask[p / 64] |= 1ull << (p % 64);
        have++;
    }
}

static void fill(float *v, int64_t n)
{
    for (int64_t i = 0; i < n; i++) v[i] = rng_f() * 0.1f;
}

/* ---- pack -> dequant ------------------------------------------------------ */

static void test_roundtrip(void **state)
{
    (void)state;
    rng_seed(11);
    const int64_t k = 512, keep = 200;
    float w[512], d[512];
    uint64_t mask[8];
    uint8_t buf[4096];
    for (int i = 0; i < 6; i++) {
        const mw_dtype t = ALL[i];
        const int s24 = mw_sparse_is_24(t);
        fill(w, k);
        rand_mask(mask, k, s24 ? -1 : keep);
        mw_sparse_pack_row(t, w, mask, k, buf);
        mw_sparse_dequant_row(t, buf, k, keep, d);
        float amax[8] = {0};
        for (int64_t p = 0; p < k; p++)
            if (mask[p / 64] >> (p % 64) & 1 && fabsf(w[p]) > amax[p / 64]) amax[p / 64] = fabsf(w[p]);
        for (int64_t p = 0; p < k; p++) {
            const int kept = mask[p / 64] >> (p % 64) & 1;
            if (!kept) {
                assert_true(d[p] == 0.0f);
                continue;
            }
            const mw_dtype b = mw_sparse_base(t);
            if (b == MW_DTYPE_F32) assert_true(d[p] == w[p]);
            else if (b == MW_DTYPE_F16) assert_true(d[p] == mw_fp16_to_fp32(mw_fp32_to_fp16(w[p])));
            else { /* half a step, plus the step's own rounding to f16 (127 steps at most) */
                const float dq = amax[p / 64] / 127.0f, dh = mw_fp16_to_fp32(mw_fp32_to_fp16(dq));
                assert_true(fabsf(d[p] - w[p]) <= 0.5f * dq + 127.0f * fabsf(dh - dq) + 1e-6f * dq);
            }
        }
    }
    /* 2:4 layout by hand: one block keeping inputs 1, 3 of every group */
    uint64_t m1 = 0;
    for (int g = 0; g < 16; g++) m1 |= (0xAull << (4 * g));
    for (int p = 0; p < 64; p++) w[p] = (float)p;
    mw_sparse_pack_row(MW_DTYPE_F32_S24, w, &m1, 64, buf);
    for (int j = 0; j < 8; j++) assert_int_equal(buf[j], 0xDD); /* fields 1,3,1,3: 0b11011101 */
    float v;
    memcpy(&v, buf + 8 + 4 * 5, 4); /* value 5: group 2, second kept: input 11 */
    assert_true(v == 11.0f);
    /* unstructured: mask words first, then the values in order */
    uint64_t m2 = 0x8000000000000001ull;
    mw_sparse_pack_row(MW_DTYPE_F32_SU, w, &m2, 64, buf);
    uint64_t mk;
    memcpy(&mk, buf, 8);
    assert_true(mk == m2);
    memcpy(&v, buf + 12, 4);
    assert_true(v == 63.0f);
}

/* ---- products --------------------------------------------------------------- */

/* max |a - b| / (Σ|x·w| + tiny) over the outputs */
static void check_product(mw_dtype t, int64_t keep, const uint8_t *W, int64_t n, int64_t k,
                          int64_t m, const float *x, const void *xq, float *y1, float *y2,
                          int64_t j0, int64_t j1, int simd)
{
    const uint64_t rb = mw_sparse_row_bytes(t, k, mw_sparse_is_24(t) ? k / 2 : keep);
    for (int64_t i = 0; i < m * n; i++) y1[i] = y2[i] = -777.0f;
    mw_kref_matmul_sparse(t, W, keep, x, xq, y1, m, n, k, j0, j1);
    if (simd) mw_k_matmul_sparse_avx512(t, W, keep, x, xq, y2, m, n, k, j0, j1);
    float *wd = malloc((size_t)k * sizeof *wd), *xd = malloc((size_t)k * sizeof *xd);
    const mw_dtype base = mw_sparse_base(t);
    for (int64_t i = 0; i < m; i++) {
        /* x as the kernels see it */
        if (base == MW_DTYPE_F32) memcpy(xd, x + i * k, (size_t)k * sizeof *xd);
        else if (base == MW_DTYPE_F16)
            for (int64_t p = 0; p < k; p++) xd[p] = mw_fp16_to_fp32(((const uint16_t *)xq)[i * k + p]);
        else if (t == MW_DTYPE_Q8_SUK) /* x in Q8_K */
            mw_k_dequant_row(MW_DTYPE_Q8_K, (const uint8_t *)xq + (size_t)i * (size_t)(k / 256) * MW_K_Q8_K_BYTES, xd, k);
        else mw_k_dequant_row(MW_DTYPE_Q8_0, (const uint8_t *)xq + (size_t)i * (size_t)(k / 32) * 34, xd, k);
        for (int64_t j = 0; j < n; j++) {
            if (j < j0 || j >= j1) {
                assert_true(y1[i * n + j] == -777.0f); /* outside [j0, j1): untouched */
                if (simd) assert_true(y2[i * n + j] == -777.0f);
                continue;
            }
            mw_sparse_dequant_row(t, W + (uint64_t)j * rb, k, keep, wd);
            double s = 0, a = 0;
            for (int64_t p = 0; p < k; p++) {
                s += (double)wd[p] * xd[p];
                a += fabs((double)wd[p] * xd[p]);
            }
            const double tol = 1e-5 * a + 1e-9;
            if (fabs(y1[i * n + j] - s) > tol || (simd && fabs(y2[i * n + j] - y1[i * n + j]) > tol)) {
                fprintf(stderr, "%s m=%lld i=%lld j=%lld: ref %.9g simd %.9g exact %.9g (Σ|xw| %g)\n",
                        mw_dtype_get(t)->name, (long long)m, (long long)i, (long long)j,
                        (double)y1[i * n + j], simd ? (double)y2[i * n + j] : 0.0, s, a);
                fail();
            }
        }
    }
    free(wd);
    free(xd);
}

static void run_products(int hostile24)
{
    const int simd = mw_k_sparse_simd();
    if (!simd) fprintf(stderr, "note: no AVX-512 VBMI/BITALG here: the reference alone is checked\n");
    const int64_t ks[] = {64, 128, 448};
    for (int ti = 0; ti < 6; ti++) {
        const mw_dtype t = ALL[ti];
        if (hostile24 && !mw_sparse_is_24(t)) continue;
        for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
            const int64_t k = ks[ki], n = 9;
            const int64_t keeps[] = {k / 2, k, 0 + 1, k - 1};
            for (int kk = 0; kk < (mw_sparse_is_24(t) ? 1 : 4); kk++) {
                const int64_t keep = mw_sparse_is_24(t) ? k / 2 : keeps[kk];
                const uint64_t rb = mw_sparse_row_bytes(t, k, keep);
                uint8_t *W = malloc(rb * (uint64_t)n);
                float *wr = malloc((size_t)k * sizeof *wr);
                uint64_t *mask = malloc((size_t)(k / 64) * 8);
                for (int64_t j = 0; j < n; j++) {
                    fill(wr, k);
                    if (j == 4 && !mw_sparse_is_24(t)) { /* a row of tiny and huge values */
                        wr[0] = 1e-30f;
                        wr[k - 1] = 3.0f;
                        /* F16 subnormals and F16's largest */
                        for (int64_t p = 1; p < k - 1; p += 5)
                            wr[p] = (p % 2 ? -1.0f : 1.0f) * (p % 3 ? 3e-6f * (float)(p % 7 + 1) : 6.1e-5f);
                        if (t != MW_DTYPE_Q8_SU) wr[k / 2] = -65504.0f;
                    }
                    rand_mask(mask, k, mw_sparse_is_24(t) ? -1 : keep);
                    mw_sparse_pack_row(t, wr, mask, k, W + (uint64_t)j * rb);
                    if (hostile24) { /* any 2-bit fields: duplicates, unordered */
                        const int off = t == MW_DTYPE_Q8_S24 ? 2 : 0;
                        const int blk = (int)mw_dtype_get(t)->block_bytes;
                        for (int64_t b = 0; b < k / 64; b++)
                            for (int q = 0; q < 8; q++)
                                W[(uint64_t)j * rb + (uint64_t)b * blk + off + q] = (uint8_t)rng_u64();
                    }
                }
                mw_err err;
                assert_int_equal(mw_sparse_check_rows(t, W, n, k, keep, "w", &err), MW_OK);
                for (int64_t m = 1; m <= 6; m++) {
                    float *x = malloc((size_t)(m * k) * sizeof *x);
                    float *y1 = malloc((size_t)(m * n) * sizeof *y1), *y2 = malloc((size_t)(m * n) * sizeof *y2);
                    fill(x, m * k);
                    const mw_dtype base = mw_sparse_base(t);
                    size_t xb = mw_k_prepare_x_bytes(base, m, k);
                    void *xq = xb ? malloc(xb) : NULL;
                    if (xq) mw_k_prepare_x(base, x, m, k, xq);
                    check_product(t, keep, W, n, k, m, x, xq, y1, y2, 0, n, simd);
                    check_product(t, keep, W, n, k, m, x, xq, y1, y2, 2, 7, simd);
                    free(xq);
                    free(x);
                    free(y1);
                    free(y2);
                }
                free(W);
                free(wr);
                free(mask);
            }
        }
    }
}

static void test_products(void **state)
{
    (void)state;
    rng_seed(23);
    run_products(0);
}

static void test_hostile_24(void **state)
{
    (void)state;
    rng_seed(29);
    run_products(1);
}

/* the dispatch: forced scalar gives the reference's bits */
static void test_dispatch(void **state)
{
    (void)state;
    rng_seed(31);
    const int64_t k = 256, n = 5, keep = 100;
    const mw_dtype t = MW_DTYPE_Q8_SU;
    const uint64_t rb = mw_sparse_row_bytes(t, k, keep);
    uint8_t *W = malloc(rb * n);
    float wr[256], x[256], y1[5], y2[5];
    uint64_t mask[4];
    for (int64_t j = 0; j < n; j++) {
        fill(wr, k);
        rand_mask(mask, k, keep);
        mw_sparse_pack_row(t, wr, mask, k, W + j * rb);
    }
    fill(x, k);
    uint8_t xq[8 * 34];
    mw_k_prepare_x(MW_DTYPE_Q8_0, x, 1, k, xq);
    assert_int_equal(mw_k_force_isa(MW_K_ISA_SCALAR), 0);
    assert_false(mw_k_sparse_simd());
    mw_k_matmul_sparse(t, W, keep, x, xq, y1, 1, n, k, 0, n);
    mw_kref_matmul_sparse(t, W, keep, x, xq, y2, 1, n, k, 0, n);
    assert_memory_equal(y1, y2, sizeof y1);
    mw_k_force_isa(MW_K_ISA_AUTO);
    free(W);
}

/* ---- Q8_SUK (issue #14: one f32 scale per 256, values + 128, x in Q8_K) ---- */

static void test_suk_type(void **state)
{
    (void)state;
    const mw_dtype t = MW_DTYPE_Q8_SUK;
    const mw_dtype_info *d = mw_dtype_get(t);
    assert_string_equal(d->name, "Q8_SUK");
    assert_int_equal(d->ggml_id, 4102);
    assert_int_equal(d->block_elems, 256);
    mw_dtype u;
    mw_err err;
    assert_int_equal(mw_dtype_from_ggml(4102u, &u, &err), MW_OK);
    assert_int_equal(u, t);
    assert_true(mw_dtype_is_sparse(t));
    assert_false(mw_sparse_is_24(t));
    assert_int_equal(mw_sparse_base(t), MW_DTYPE_Q8_0);        /* what --densify writes */
    assert_int_equal(mw_sparse_x_type(t), MW_DTYPE_Q4_K);      /* x prepared as Q8_K */
    assert_int_equal(mw_sparse_x_type(MW_DTYPE_Q8_SU), MW_DTYPE_Q8_0);
    assert_int_equal(mw_k_prepare_x_bytes(mw_sparse_x_type(t), 1, 4096), 16 * 292);
    assert_true(mw_dtype_bytes(t, 4096) == MW_UNKNOWN);
    /* rows by hand: k = 4096 is 64 mask words, 16 f32 scales, keep bytes */
    assert_int_equal(mw_sparse_row_bytes(t, 4096, 2048), 64 * 8 + 16 * 4 + 2048); /* 2624 */
    assert_int_equal(mw_sparse_row_bytes(t, 11008, 5504), 172 * 8 + 43 * 4 + 5504);
    assert_int_equal(mw_sparse_row_bytes(t, 256, 0), 32 + 4);
    assert_int_equal(mw_sparse_row_bytes(t, 320, 100), 0); /* k not x256 */
    assert_int_equal(mw_sparse_row_bytes(t, 256, 257), 0);
    /* the row check refuses k not a multiple of 256 */
    uint8_t W[64] = {0};
    assert_int_equal(mw_sparse_check_rows(t, W, 1, 64, 0, "blk.0.attn_q.weight", &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "multiple of 256"));
    assert_non_null(strstr(err.msg, "blk.0.attn_q.weight"));
}

/* a mask with exactly keep bits; variant 1: the first 256 inputs empty (a
 * zero scale) when keep allows, 2: the first 256 full */
static void suk_mask(uint64_t *mask, int64_t k, int64_t keep, int variant)
{
    memset(mask, 0, (size_t)(k / 64) * 8);
    int64_t have = 0, from = 0;
    if (variant == 1 && keep <= k - 256) from = 256;
    if (variant == 2 && keep >= 256) {
        for (int q = 0; q < 4; q++) mask[q] = ~0ull;
        have = 256;
        from = 256;
    }
    while (have < keep) {
        int64_t p = from + (int64_t)(rng_u64() % (uint64_t)(k - from));
        if (mask[p / 64] >> (p % 64) & 1) continue;
        mask[p / 64] |= 1ull << (p % 64);
        have++;
    }
}

static void test_suk_roundtrip(void **state)
{
    (void)state;
    rng_seed(41);
    const int64_t k = 768, keep = 300;
    float w[768], d[768];
    uint64_t mask[12];
    const uint64_t rb = mw_sparse_row_bytes(MW_DTYPE_Q8_SUK, k, keep);
    uint8_t *buf = malloc(rb);
    for (int variant = 0; variant < 3; variant++) {
        fill(w, k);
        suk_mask(mask, k, keep, variant);
        mw_sparse_pack_row(MW_DTYPE_Q8_SUK, w, mask, k, buf);
        mw_sparse_dequant_row(MW_DTYPE_Q8_SUK, buf, k, keep, d);
        for (int64_t g = 0; g < k / 256; g++) {
            float amax = 0, dg;
            for (int64_t p = 256 * g; p < 256 * g + 256; p++)
                if (mask[p / 64] >> (p % 64) & 1 && fabsf(w[p]) > amax) amax = fabsf(w[p]);
            memcpy(&dg, buf + (k / 64) * 8 + 4 * g, 4);
            assert_true(dg == amax / 127.0f); /* the f32 scale, exactly */
            for (int64_t p = 256 * g; p < 256 * g + 256; p++) {
                if (!(mask[p / 64] >> (p % 64) & 1)) assert_true(d[p] == 0.0f);
                else assert_true(fabsf(d[p] - w[p]) <= 0.5f * dg * (1 + 1e-5f) + 1e-12f);
            }
        }
    }
    /* by hand: one kept value per 256, w = -1 in the first, 0.5 in the second:
     * scales 1/127 and 0.5/127, values -127 + 128 = 1 and 127 + 128 = 255 */
    uint64_t m2[8] = {1, 0, 0, 0, 0, 0, 0, 1ull << 63};
    float w2[512] = {0};
    w2[0] = -1.0f;
    w2[511] = 0.5f;
    uint8_t b2[64 + 8 + 2];
    mw_sparse_pack_row(MW_DTYPE_Q8_SUK, w2, m2, 512, b2);
    float s0, s1;
    memcpy(&s0, b2 + 64, 4);
    memcpy(&s1, b2 + 68, 4);
    assert_true(s0 == 1.0f / 127.0f && s1 == 0.5f / 127.0f);
    assert_int_equal(b2[72], 1);
    assert_int_equal(b2[73], 255);
    free(buf);
}

static void test_suk_products(void **state)
{
    (void)state;
    rng_seed(43);
    const mw_dtype t = MW_DTYPE_Q8_SUK;
    const int simd = mw_k_sparse_simd();
    if (!simd) fprintf(stderr, "note: no AVX-512 VBMI/BITALG here: the reference alone is checked\n");
    const int64_t ks[] = {256, 512, 1280};
    for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
        const int64_t k = ks[ki];
        const int64_t keeps[] = {k / 2, k, 1, k - 1, 3};
        for (size_t kk = 0; kk < sizeof keeps / sizeof keeps[0]; kk++) {
            const int64_t keep = keeps[kk];
            for (int64_t n = 1; n <= 9; n += 4) { /* 1, 5, 9 rows: all, some, no tail rows */
                const uint64_t rb = mw_sparse_row_bytes(t, k, keep);
                uint8_t *W = malloc(rb * (uint64_t)n); /* exactly: ASan sees a read past it */
                float *wr = malloc((size_t)k * sizeof *wr);
                uint64_t *mask = malloc((size_t)(k / 64) * 8);
                for (int64_t j = 0; j < n; j++) {
                    fill(wr, k);
                    if (j == 2) { /* tiny and large values */
                        wr[0] = 1e-30f;
                        wr[k - 1] = 3.0f;
                        for (int64_t p = 1; p < k - 1; p += 5) wr[p] = (p % 2 ? -1.0f : 1.0f) * 3e-6f * (float)(p % 7 + 1);
                    }
                    suk_mask(mask, k, keep, (int)(j % 3));
                    mw_sparse_pack_row(t, wr, mask, k, W + (uint64_t)j * rb);
                }
                mw_err err;
                assert_int_equal(mw_sparse_check_rows(t, W, n, k, keep, "w", &err), MW_OK);
                for (int64_t m = 1; m <= 6; m++) {
                    float *x = malloc((size_t)(m * k) * sizeof *x);
                    float *y1 = malloc((size_t)(m * n) * sizeof *y1), *y2 = malloc((size_t)(m * n) * sizeof *y2);
                    fill(x, m * k);
                    if (m == 2) x[k + 5] = 40.0f; /* one large activation: a small x scale elsewhere */
                    const size_t xb = mw_k_prepare_x_bytes(mw_sparse_x_type(t), m, k);
                    assert_int_equal(xb, (size_t)m * (size_t)(k / 256) * MW_K_Q8_K_BYTES);
                    void *xq = malloc(xb);
                    mw_k_prepare_x(mw_sparse_x_type(t), x, m, k, xq);
                    check_product(t, keep, W, n, k, m, x, xq, y1, y2, 0, n, simd);
                    if (n > 2) check_product(t, keep, W, n, k, m, x, xq, y1, y2, 1, n - 1, simd);
                    free(xq);
                    free(x);
                    free(y1);
                    free(y2);
                }
                /* a wrong count in the last row's last mask word is refused */
                uint64_t wl;
                memcpy(&wl, W + (uint64_t)(n - 1) * rb + (uint64_t)(k / 64 - 1) * 8, 8);
                wl ^= 1ull << 17;
                memcpy(W + (uint64_t)(n - 1) * rb + (uint64_t)(k / 64 - 1) * 8, &wl, 8);
                assert_int_equal(mw_sparse_check_rows(t, W, n, k, keep, "w", &err), MW_ERR_INVALID);
                free(W);
                free(wr);
                free(mask);
            }
        }
    }
}

/* Q8_SUK rows longer than the m = 1 kernel's stack gather (k > 16384) take
 * the general path; forced scalar, the dispatch gives the reference's bits */
static void test_suk_long_and_dispatch(void **state)
{
    (void)state;
    rng_seed(47);
    const mw_dtype t = MW_DTYPE_Q8_SUK;
    const int64_t k = 16640, n = 3, keep = 8320;
    const uint64_t rb = mw_sparse_row_bytes(t, k, keep);
    uint8_t *W = malloc(rb * n);
    float *wr = malloc((size_t)k * sizeof *wr), *x = malloc((size_t)k * sizeof *x);
    uint64_t *mask = malloc((size_t)(k / 64) * 8);
    for (int64_t j = 0; j < n; j++) {
        fill(wr, k);
        suk_mask(mask, k, keep, (int)j);
        mw_sparse_pack_row(t, wr, mask, k, W + (uint64_t)j * rb);
    }
    fill(x, k);
    void *xq = malloc(mw_k_prepare_x_bytes(mw_sparse_x_type(t), 1, k));
    mw_k_prepare_x(mw_sparse_x_type(t), x, 1, k, xq);
    float y1[3], y2[3];
    check_product(t, keep, W, n, k, 1, x, xq, y1, y2, 0, n, mw_k_sparse_simd());
    assert_int_equal(mw_k_force_isa(MW_K_ISA_SCALAR), 0);
    assert_false(mw_k_sparse_simd());
    mw_k_matmul_sparse(t, W, keep, x, xq, y1, 1, n, k, 0, n);
    mw_kref_matmul_sparse(t, W, keep, x, xq, y2, 1, n, k, 0, n);
    assert_memory_equal(y1, y2, sizeof y1);
    mw_k_force_isa(MW_K_ISA_AUTO);
    free(W), free(wr), free(x), free(mask), free(xq);
}

/* ---- validation ------------------------------------------------------------- */

static void test_check_rows(void **state)
{
    (void)state;
    rng_seed(37);
    const int64_t k = 192, n = 6, keep = 90;
    const mw_dtype t = MW_DTYPE_F16_SU;
    const uint64_t rb = mw_sparse_row_bytes(t, k, keep);
    uint8_t *W = calloc(n, rb);
    float wr[192];
    uint64_t mask[3];
    for (int64_t j = 0; j < n; j++) {
        fill(wr, k);
        rand_mask(mask, k, keep);
        mw_sparse_pack_row(t, wr, mask, k, W + j * rb);
    }
    mw_err err;
    assert_int_equal(mw_sparse_check_rows(t, W, n, k, keep, "blk.0.ffn_up.weight", &err), MW_OK);
    /* one more bit in row 3's third mask word (the second is full): 91 values */
    uint64_t w1;
    memcpy(&w1, W + 3 * rb + 16, 8);
    for (int b = 0; b < 64; b++)
        if (!(w1 >> b & 1)) { w1 |= 1ull << b; break; }
    memcpy(W + 3 * rb + 16, &w1, 8);
    assert_int_equal(mw_sparse_check_rows(t, W, n, k, keep, "blk.0.ffn_up.weight", &err),
                     MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "blk.0.ffn_up.weight, row 3"));
    assert_non_null(strstr(err.msg, "keep 91"));
    /* all masks full: 192 values in every row */
    memset(W, 0xff, rb);
    assert_int_equal(mw_sparse_check_rows(t, W, n, k, keep, "x", &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "row 0"));
    /* 2:4 rows need no check, any bytes */
    assert_int_equal(mw_sparse_check_rows(MW_DTYPE_Q8_S24, W, 1, 64, 0, "x", &err), MW_OK);
    free(W);
}

/* ---- the reader ------------------------------------------------------------ */

/* fuzz/corpus/gguf/sparse_types.gguf: keep_q16 32768 (the first kv: its
 * value at byte 59), an F16_SU [2 x 64] tensor and a Q8_S24 [128] one */
static void test_reader(void **state)
{
    (void)state;
    const char *src = getenv("MW_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/fuzz/corpus/gguf/sparse_types.gguf", src ? src : ".");
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static uint8_t buf[4096];
    const size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_true(n > 400 && n < sizeof buf);
    mw_gguf *g;
    mw_err err;
    assert_int_equal(mw_gguf_open_memory(buf, n, &g, &err), MW_OK);
    const mw_gguf_tensor *t = mw_gguf_find_tensor(g, "sparse.su");
    assert_non_null(t);
    assert_int_equal(t->bytes, 2 * (8 + 32 * 2)); /* keep 32 of 64 */
    t = mw_gguf_find_tensor(g, "sparse.s24");
    assert_int_equal(t->bytes, 2 * 42);
    mw_gguf_close(g);
    uint32_t v;
    memcpy(&v, buf + 59, 4);
    assert_int_equal(v, 32768);
    /* keep 0 of 64 */
    v = 1;
    memcpy(buf + 59, &v, 4);
    assert_int_equal(mw_gguf_open_memory(buf, n, &g, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "keeps no value"));
    assert_non_null(strstr(err.msg, "sparse.su"));
    v = 0;
    memcpy(buf + 59, &v, 4);
    assert_int_equal(mw_gguf_open_memory(buf, n, &g, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "must be a u32 in 1..65536"));
    v = 65537;
    memcpy(buf + 59, &v, 4);
    assert_int_equal(mw_gguf_open_memory(buf, n, &g, &err), MW_ERR_INVALID);
    /* keep everything: 64 values a row, 2 x 136 bytes: past the end of the file */
    v = 65536;
    memcpy(buf + 59, &v, 4);
    assert_int_equal(mw_gguf_open_memory(buf, n, &g, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "sparse"));
    /* no key */
    v = 32768;
    memcpy(buf + 59, &v, 4);
    buf[32 + 20] = 'x'; /* memwall.sparse.keep_q16 -> keep_x16 */
    assert_int_equal(mw_gguf_open_memory(buf, n, &g, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "no memwall.sparse.keep_q16 key"));
    assert_non_null(strstr(err.msg, "F16_SU"));
    buf[32 + 20] = 'q';
    assert_int_equal(mw_gguf_open_memory(buf, n, &g, &err), MW_OK);
    mw_gguf_close(g);
    /* rows of 32 inputs: not whole 64-blocks (sparse.su's dims[0], after its
     * name: the tensor infos start after the two kvs) */
    uint8_t *d0 = memmem(buf, n, "sparse.su", 9);
    assert_non_null(d0);
    uint64_t k32 = 32;
    memcpy(d0 + 9 + 4, &k32, 8);
    assert_int_equal(mw_gguf_open_memory(buf, n, &g, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "F16_SU blocks"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types),       cmocka_unit_test(test_bytes),
        cmocka_unit_test(test_roundtrip),   cmocka_unit_test(test_products),
        cmocka_unit_test(test_hostile_24),  cmocka_unit_test(test_dispatch),
        cmocka_unit_test(test_check_rows),  cmocka_unit_test(test_reader),
        cmocka_unit_test(test_suk_type),    cmocka_unit_test(test_suk_roundtrip),
        cmocka_unit_test(test_suk_products), cmocka_unit_test(test_suk_long_and_dispatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
