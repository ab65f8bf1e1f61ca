/*
 * sparse.c - memwall's sparse weight types: packing, dequantization,
 * validation, the scalar reference product and the dispatch to the
 * AVX-512 path (sparse_x86.c). Layouts: docs/SPARSE.md.
 *
 *   _SU  (a row of k inputs, `keep` values kept):
 *        u64 mask[k/64] | Q8 only: f16 d[k/64] | values[keep] (f32, f16, i8)
 *   _S24 (per block of 64 inputs, 32 values kept):
 *        F32: u8 idx[8], f32 v[32]   F16: u8 idx[8], f16 v[32]
 *        Q8:  f16 d, u8 idx[8], i8 v[32]
 *        value j sits at input 4*(j/2) + ((idx[j/4] >> 2*(j%4)) & 3)
 *
 *   Q8_SUK (k a multiple of 256): u64 mask[k/64] | f32 d[k/256] |
 *        u8 v[keep], v = w + 128 (w the int8 value, -127..127)
 *
 * The reference sums, per row, each 64-block's products in value order; the
 * Q8 types sum the integer products of each half block (32 inputs, one
 * activation block) exactly and add (d_w·d_x)·isum in float; Q8_SUK does
 * the same per 256 inputs (one Q8_K activation block).
 */
#include "engine/sparse.h"
#include "engine/kernels.h"
#include "engine/kernels_isa.h"
#include "common/error.h"

#include <math.h>
#include <stdatomic.h>
#include <string.h>

#define SB MW_SPARSE_BLOCK
#define SK 256 /* Q8_SUK: inputs per scale (one Q8_K block of x) */


static int popc64(uint64_t v) { return __builtin_popcountll(v); }

/* value bytes of the base type */
static int vbytes(mw_dtype t)
{
    mw_dtype b = mw_sparse_base(t);
    return b == MW_DTYPE_F32 ? 4 : b == MW_DTYPE_F16 ? 2 : 1;
}

/* 2:4: the two kept positions (0..3) of each of the 16 groups of a block */
static void pick24(uint64_t mask, uint8_t idx[8])
{
    memset(idx, 0, 8);
    for (int g = 0; g < 16; g++) {
        int pos[2], n = 0;
        for (int p = 0; p < 4 && n < 2; p++)
            if (mask >> (4 * g + p) & 1) pos[n++] = p;
        for (int p = 0; p < 4 && n < 2; p++) /* too few: lowest clear ones */
            if (!(mask >> (4 * g + p) & 1)) pos[n++] = p;
        if (n == 2 && pos[0] > pos[1]) { int s = pos[0]; pos[0] = pos[1]; pos[1] = s; }
        for (int h = 0; h < 2; h++) {
            int j = 2 * g + h;
            idx[j / 4] |= (uint8_t)(pos[h] << (2 * (j % 4)));
        }
    }
}

static int pos24(const uint8_t *idx, int j) { return 4 * (j / 2) + ((idx[j / 4] >> (2 * (j % 4))) & 3); }

static int8_t q8(float v, float id)
{
    float r = roundf(v * id);
    return (int8_t)(r > 127 ? 127 : r < -127 ? -127 : r);
}

void mw_sparse_pack_row(mw_dtype t, const float *w, const uint64_t *keep_mask, int64_t k, void *dst)
{
    uint8_t *o = dst;
    const int64_t nb = k / SB;
    const int vb = vbytes(t);
    if (mw_sparse_is_24(t)) {
        const int blk = (int)mw_dtype_get(t)->block_bytes;
        for (int64_t b = 0; b < nb; b++, o += blk) {
            const float *wb = w + b * SB;
            uint8_t idx[8];
            pick24(keep_mask[b], idx);
            float v[32], amax = 0;
            for (int j = 0; j < 32; j++) {
                int p = pos24(idx, j);
                v[j] = keep_mask[b] >> p & 1 ? wb[p] : 0.0f;
                if (fabsf(v[j]) > amax) amax = fabsf(v[j]);
            }
            if (t == MW_DTYPE_Q8_S24) {
                const float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
                uint16_t dh = mw_fp32_to_fp16(d);
                memcpy(o, &dh, 2);
                memcpy(o + 2, idx, 8);
                for (int j = 0; j < 32; j++) o[10 + j] = (uint8_t)q8(v[j], id);
            } else {
                memcpy(o, idx, 8);
                for (int j = 0; j < 32; j++) {
                    if (vb == 4) memcpy(o + 8 + 4 * j, &v[j], 4);
                    else { uint16_t h = mw_fp32_to_fp16(v[j]); memcpy(o + 8 + 2 * j, &h, 2); }
                }
            }
        }
        return;
    }
    /* unstructured */
    memcpy(o, keep_mask, (size_t)nb * 8);
    if (t == MW_DTYPE_Q8_SUK) { /* one scale per 256 inputs, values + 128 */
        uint8_t *v = o + nb * 8 + (k / SK) * 4;
        int64_t off = 0;
        for (int64_t g = 0; g < k / SK; g++) {
            float amax = 0;
            for (int p = 0; p < SK; p++)
                if (keep_mask[(g * SK + p) / SB] >> (p % SB) & 1 && fabsf(w[g * SK + p]) > amax)
                    amax = fabsf(w[g * SK + p]);
            const float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
            memcpy(o + nb * 8 + g * 4, &d, 4);
            for (int p = 0; p < SK; p++)
                if (keep_mask[(g * SK + p) / SB] >> (p % SB) & 1)
                    v[off++] = (uint8_t)(q8(w[g * SK + p], id) + 128);
        }
        return;
    }
    uint8_t *vals = o + nb * 8 + (t == MW_DTYPE_Q8_SU ? nb * 2 : 0);
    int64_t off = 0;
    for (int64_t b = 0; b < nb; b++) {
        const uint64_t mk = keep_mask[b];
        const float *wb = w + b * SB;
        float id = 0;
        if (t == MW_DTYPE_Q8_SU) {
            float amax = 0;
            for (int p = 0; p < SB; p++)
                if (mk >> p & 1 && fabsf(wb[p]) > amax) amax = fabsf(wb[p]);
            const float d = amax / 127.0f;
            id = d != 0 ? 1.0f / d : 0.0f;
            uint16_t dh = mw_fp32_to_fp16(d);
            memcpy(o + nb * 8 + b * 2, &dh, 2);
        }
        for (int p = 0; p < SB; p++) {
            if (!(mk >> p & 1)) continue;
            if (vb == 4) memcpy(vals + 4 * off, &wb[p], 4);
            else if (vb == 2) { uint16_t h = mw_fp32_to_fp16(wb[p]); memcpy(vals + 2 * off, &h, 2); }
            else vals[off] = (uint8_t)q8(wb[p], id);
            off++;
        }
    }
}

static float val_at(const uint8_t *v, int vb, int64_t i)
{
    if (vb == 4) return mw_sparse_ldf(v + 4 * i);
    if (vb == 2) return mw_fp16_to_fp32(mw_sparse_ld16(v + 2 * i));
    return (float)(int8_t)v[i];
}

void mw_sparse_dequant_row(mw_dtype t, const void *src, int64_t k, int64_t keep, float *dst)
{
    (void)keep;
    const uint8_t *s = src;
    const int64_t nb = k / SB;
    const int vb = vbytes(t);
    for (int64_t i = 0; i < k; i++) dst[i] = 0.0f;
    if (mw_sparse_is_24(t)) {
        const int blk = (int)mw_dtype_get(t)->block_bytes;
        for (int64_t b = 0; b < nb; b++, s += blk) {
            float d = 1.0f;
            const uint8_t *idx = s, *v = s + 8;
            if (t == MW_DTYPE_Q8_S24) { d = mw_fp16_to_fp32(mw_sparse_ld16(s)); idx = s + 2; v = s + 10; }
            for (int j = 0; j < 32; j++) dst[b * SB + pos24(idx, j)] += val_at(v, vb, j) * d;
        }
        return;
    }
    const uint8_t *ds = s + nb * 8;
    if (t == MW_DTYPE_Q8_SUK) {
        const uint8_t *v = ds + (k / SK) * 4;
        int64_t off = 0;
        for (int64_t b = 0; b < nb; b++) {
            const uint64_t mk = mw_sparse_ld64(s + 8 * b);
            const float d = mw_sparse_ldf(ds + 4 * (b / 4));
            for (int p = 0; p < SB; p++)
                if (mk >> p & 1) dst[b * SB + p] = (float)((int)v[off++] - 128) * d;
        }
        return;
    }
    const uint8_t *v = ds + (t == MW_DTYPE_Q8_SU ? nb * 2 : 0);
    int64_t off = 0;
    for (int64_t b = 0; b < nb; b++) {
        const uint64_t mk = mw_sparse_ld64(s + 8 * b);
        const float d = t == MW_DTYPE_Q8_SU ? mw_fp16_to_fp32(mw_sparse_ld16(ds + 2 * b)) : 1.0f;
        for (int p = 0; p < SB; p++)
            if (mk >> p & 1) dst[b * SB + p] = val_at(v, vb, off++) * d;
    }
}

mw_status mw_sparse_check_rows(mw_dtype t, const void *W, int64_t n, int64_t k, int64_t keep,
                               const char *name, mw_err *err)
{
    MW_RETURN_IF(!mw_dtype_is_sparse(t) || k <= 0 || k % SB != 0, err, MW_ERR_INVALID,
                 "tensor %s: not a sparse type or rows of %lld inputs not a multiple of %d", name,
                 (long long)k, SB);
    MW_RETURN_IF(t == MW_DTYPE_Q8_SUK && k % SK != 0, err, MW_ERR_INVALID,
                 "tensor %s: rows of %lld inputs are not a multiple of %d, which Q8_SUK needs", name,
                 (long long)k, SK);
    if (mw_sparse_is_24(t)) return MW_OK;
    const uint64_t rb = mw_sparse_row_bytes(t, k, keep);
    MW_RETURN_IF(rb == 0, err, MW_ERR_INVALID, "tensor %s: keep %lld out of range for rows of %lld",
                 name, (long long)keep, (long long)k);
    const int64_t nb = k / SB;
    for (int64_t r = 0; r < n; r++) {
        const uint8_t *row = (const uint8_t *)W + (uint64_t)r * rb;
        int64_t c = 0;
        for (int64_t b = 0; b < nb; b++) c += popc64(mw_sparse_ld64(row + 8 * b));
        MW_RETURN_IF(c != keep, err, MW_ERR_INVALID,
                     "tensor %s, row %lld: its masks keep %lld values but the file's %s says "
                     "every row keeps %lld: a corrupt or hostile sparse file",
                     name, (long long)r, (long long)c, MW_GGUF_SPARSE_KEEP_KEY, (long long)keep);
    }
    return MW_OK;
}

/* ---- the reference product ------------------------------------------------ */

/* x row i as f32 values for F32/F16 (F16: the prepared f16 x) */
static float xval(mw_dtype base, const float *x, const void *xq, int64_t i, int64_t k, int64_t p)
{
    if (base == MW_DTYPE_F16) return mw_fp16_to_fp32(((const uint16_t *)xq)[i * k + p]);
    return x[i * k + p];
}

/* Q8_0 activation block c of row i: scale and quants */
static const uint8_t *xq8(const void *xq, int64_t i, int64_t k, int64_t c)
{
    return (const uint8_t *)xq + ((size_t)i * (size_t)(k / MW_K_QK) + (size_t)c) * MW_K_Q8_0_BYTES;
}

static float dot_row(mw_dtype wt, const uint8_t *row, const float *x, const void *xq, int64_t i,
                     int64_t k)
{
    const mw_dtype base = mw_sparse_base(wt);
    const int64_t nb = k / SB;
    const int vb = vbytes(wt);
    float acc = 0;
    if (mw_sparse_is_24(wt)) {
        const int blk = (int)mw_dtype_get(wt)->block_bytes;
        for (int64_t b = 0; b < nb; b++, row += blk) {
            if (wt == MW_DTYPE_Q8_S24) {
                const float dw = mw_fp16_to_fp32(mw_sparse_ld16(row));
                const uint8_t *idx = row + 2, *v = row + 10;
                for (int h = 0; h < 2; h++) {
                    const uint8_t *xb = xq8(xq, i, k, 2 * b + h);
                    int32_t isum = 0;
                    for (int j = 16 * h; j < 16 * h + 16; j++)
                        isum += (int8_t)v[j] * (int8_t)xb[2 + pos24(idx, j) - 32 * h];
                    acc += (dw * mw_fp16_to_fp32(mw_sparse_ld16(xb))) * (float)isum;
                }
            } else {
                for (int j = 0; j < 32; j++)
                    acc += val_at(row + 8, vb, j) * xval(base, x, xq, i, k, b * SB + pos24(row, j));
            }
        }
        return acc;
    }
    const uint8_t *ds = row + nb * 8;
    if (wt == MW_DTYPE_Q8_SUK) { /* exact integer sums per 256, then float */
        const uint8_t *v = ds + (k / SK) * 4;
        int64_t off = 0;
        for (int64_t g = 0; g < k / SK; g++) {
            const uint8_t *xb = (const uint8_t *)xq + ((size_t)i * (size_t)(k / MW_K_QKK) + (size_t)g) * MW_K_Q8_K_BYTES;
            int32_t isum = 0;
            for (int64_t b = 4 * g; b < 4 * g + 4; b++) {
                const uint64_t mk = mw_sparse_ld64(row + 8 * b);
                for (int p = 0; p < SB; p++)
                    if (mk >> p & 1) isum += ((int)v[off++] - 128) * (int8_t)xb[4 + (b - 4 * g) * SB + p];
            }
            acc += (mw_sparse_ldf(ds + 4 * g) * mw_sparse_ldf(xb)) * (float)isum;
        }
        return acc;
    }
    const uint8_t *v = ds + (wt == MW_DTYPE_Q8_SU ? nb * 2 : 0);
    int64_t off = 0;
    for (int64_t b = 0; b < nb; b++) {
        const uint64_t mk = mw_sparse_ld64(row + 8 * b);
        if (wt == MW_DTYPE_Q8_SU) {
            const float dw = mw_fp16_to_fp32(mw_sparse_ld16(ds + 2 * b));
            for (int h = 0; h < 2; h++) {
                const uint8_t *xb = xq8(xq, i, k, 2 * b + h);
                int32_t isum = 0;
                for (int p = 32 * h; p < 32 * h + 32; p++)
                    if (mk >> p & 1) isum += (int8_t)v[off++] * (int8_t)xb[2 + p - 32 * h];
                acc += (dw * mw_fp16_to_fp32(mw_sparse_ld16(xb))) * (float)isum;
            }
        } else {
            for (int p = 0; p < SB; p++)
                if (mk >> p & 1) acc += val_at(v, vb, off++) * xval(base, x, xq, i, k, b * SB + p);
        }
    }
    return acc;
}

static uint64_t row_stride(mw_dtype wt, int64_t k, int64_t keep)
{
    return mw_sparse_row_bytes(wt, k, mw_sparse_is_24(wt) ? k / 2 : keep);
}

void mw_kref_matmul_sparse(mw_dtype wt, const void *W, int64_t keep, const float *x,
                           const void *xq, float *y, int64_t m, int64_t n, int64_t k, int64_t j0,
                           int64_t j1)
{
    const uint64_t rb = row_stride(wt, k, keep);
    for (int64_t j = j0; j < j1; j++) {
        const uint8_t *row = (const uint8_t *)W + (uint64_t)j * rb;
        for (int64_t i = 0; i < m; i++) y[i * n + j] = dot_row(wt, row, x, xq, i, k);
    }
}

#ifdef MW_K_X86
static int simd_ok(void)
{
    static _Atomic int cached = -1;
    int c = atomic_load_explicit(&cached, memory_order_relaxed);
    if (c < 0) {
        __builtin_cpu_init();
        /* the AVX-512 set of the kernels (F/BW/VL/VNNI/BF16) and what
         * sparse_x86.c adds: DQ, VBMI (vpermb), BITALG (vpopcntb) */
        c = mw_k_isa_available(MW_K_ISA_AVX512) && __builtin_cpu_supports("avx512vbmi") &&
            __builtin_cpu_supports("avx512bitalg") && __builtin_cpu_supports("avx512dq");
        atomic_store_explicit(&cached, c, memory_order_relaxed);
    }
    return c;
}
#endif

mw_dtype mw_sparse_x_type(mw_dtype t)
{
    return t == MW_DTYPE_Q8_SUK ? MW_DTYPE_Q4_K : mw_sparse_base(t);
}

int mw_k_sparse_simd(void)
{
#ifdef MW_K_X86
    return mw_k_isa() == MW_K_ISA_AVX512 && simd_ok();
#else
    return 0;
#endif
}

void mw_k_matmul_sparse(mw_dtype wt, const void *W, int64_t keep, const float *x, const void *xq,
                        float *y, int64_t m, int64_t n, int64_t k, int64_t j0, int64_t j1)
{
#ifdef MW_K_X86
    if (mw_k_sparse_simd()) {
        mw_k_matmul_sparse_avx512(wt, W, keep, x, xq, y, m, n, k, j0, j1);
        return;
    }
#endif
    mw_kref_matmul_sparse(wt, W, keep, x, xq, y, m, n, k, j0, j1);
}
