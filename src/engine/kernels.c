/*
 * kernels.c - the portable half of kernels.h: the scalar references
 * (mw_kref_*, also the scalar path), and the dispatch to the SIMD paths of
 * kernels_x86.c. The conversions both use are in fp16.c, so that the two
 * files do not call each other.
 *
 * Arithmetic follows llama.cpp's CPU backend (ggml) so that a model run here
 * and there agrees to rounding:
 *   - Q8_0 / Q4_0 weights: x is quantized to Q8_0 per block of 32; each block
 *     gives an exact integer dot, summed in float as d_w * d_x * isum, with
 *     d_w and d_x the f16-rounded scales stored in the blocks.
 *   - Q5_0 weights: as Q4_0 (x in Q8_0). Q4_1 / Q5_1 weights: x in Q8_1,
 *     whose s = d_x * Σq adds each block's min once: d_w d_x isum + m s_x.
 *   - F16 / BF16 weights: x is rounded to the same type; products summed in f32.
 *   - rmsnorm: squares summed in double (ggml_float); rope: ggml's angle
 *     recurrence; softmax: sum in double, then one float scale.
 * The SIMD paths sum in a different order (several partial sums), so they
 * agree with the references to float rounding, not bit for bit.
 */
#include "engine/kernels_isa.h"

#include <math.h>
#include <stdatomic.h>
#include <string.h>

#ifdef MW_K_X86
#include <cpuid.h>
#endif

/* ---- scalar rows ---------------------------------------------------------- */

static inline float blk_d(const uint8_t *b)
{
    return mw_fp16_to_fp32((uint16_t)(b[0] | (b[1] << 8)));
}

static inline void blk_set_d(uint8_t *b, float d)
{
    uint16_t h = mw_fp32_to_fp16(d);
    b[0] = (uint8_t)h;
    b[1] = (uint8_t)(h >> 8);
}

static void quant_row_q8_0_scalar(const float *src, void *dst, int64_t k)
{
    uint8_t *out = dst;
    for (int64_t b = 0; b < k / MW_K_QK; b++, src += MW_K_QK, out += MW_K_Q8_0_BYTES) {
        float amax = 0.0f;
        for (int j = 0; j < MW_K_QK; j++) amax = fmaxf(amax, fabsf(src[j]));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        blk_set_d(out, d);
        for (int j = 0; j < MW_K_QK; j++) out[2 + j] = (uint8_t)(int8_t)roundf(src[j] * id);
    }
}

/* llama.cpp's CPU quantizer for activations and KV rows: id = 127/amax,
 * rounding half to even (see kernels_x86.c). */
static void quant_row_q8_0_act_scalar(const float *src, void *dst, int64_t k)
{
    uint8_t *out = dst;
    for (int64_t b = 0; b < k / MW_K_QK; b++, src += MW_K_QK, out += MW_K_Q8_0_BYTES) {
        float amax = 0.0f;
        for (int j = 0; j < MW_K_QK; j++) amax = fmaxf(amax, fabsf(src[j]));
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        blk_set_d(out, amax / 127.0f);
        for (int j = 0; j < MW_K_QK; j++) out[2 + j] = (uint8_t)(int8_t)nearbyintf(src[j] * id);
    }
}

void mw_k_quant_row_q4_0(const float *src, void *dst, int64_t k)
{
    uint8_t *out = dst;
    for (int64_t b = 0; b < k / MW_K_QK; b++, src += MW_K_QK, out += MW_K_Q4_0_BYTES) {
        float amax = 0.0f, max = 0.0f; /* the first element of largest magnitude */
        for (int j = 0; j < MW_K_QK; j++) {
            if (amax < fabsf(src[j])) {
                amax = fabsf(src[j]);
                max = src[j];
            }
        }
        const float d = max / -8.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        blk_set_d(out, d);
        for (int j = 0; j < MW_K_QK / 2; j++) {
            int8_t lo = (int8_t)(src[j] * id + 8.5f), hi = (int8_t)(src[j + 16] * id + 8.5f);
            if (lo > 15) lo = 15;
            if (hi > 15) hi = 15;
            out[2 + j] = (uint8_t)(lo | (hi << 4));
        }
    }
}

static void row_to_f16_scalar(const float *src, uint16_t *dst, int64_t k)
{
    for (int64_t i = 0; i < k; i++) dst[i] = mw_fp32_to_fp16(src[i]);
}

static void row_to_bf16_scalar(const float *src, uint16_t *dst, int64_t k)
{
    for (int64_t i = 0; i < k; i++) dst[i] = mw_fp32_to_bf16(src[i]);
}

static void f16_to_row_scalar(const uint16_t *src, float *dst, int64_t k)
{
    for (int64_t i = 0; i < k; i++) dst[i] = mw_fp16_to_fp32(src[i]);
}

/* ---- scalar matrix products (the references) ----------------------------- */

static void matmul_f32_scalar(const void *W, const void *xp, float *y, int64_t m, int64_t n,
                              int64_t k, int64_t j0, int64_t j1)
{
    const float *x = xp;
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j = j0; j < j1; j++) {
            const float *w = (const float *)W + j * k, *xi = x + i * k;
            float acc = 0.0f;
            for (int64_t l = 0; l < k; l++) acc += xi[l] * w[l];
            y[i * n + j] = acc;
        }
    }
}

static void matmul_f16_scalar(const void *W, const void *xp, float *y, int64_t m, int64_t n,
                              int64_t k, int64_t j0, int64_t j1)
{
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j = j0; j < j1; j++) {
            const uint16_t *w = (const uint16_t *)W + j * k, *xi = (const uint16_t *)xp + i * k;
            float acc = 0.0f;
            for (int64_t l = 0; l < k; l++) acc += mw_fp16_to_fp32(xi[l]) * mw_fp16_to_fp32(w[l]);
            y[i * n + j] = acc;
        }
    }
}

static void matmul_bf16_scalar(const void *W, const void *xp, float *y, int64_t m, int64_t n,
                               int64_t k, int64_t j0, int64_t j1)
{
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j = j0; j < j1; j++) {
            const uint16_t *w = (const uint16_t *)W + j * k, *xi = (const uint16_t *)xp + i * k;
            float acc = 0.0f;
            for (int64_t l = 0; l < k; l++) acc += mw_bf16_to_fp32(xi[l]) * mw_bf16_to_fp32(w[l]);
            y[i * n + j] = acc;
        }
    }
}

static void matmul_q8_0_scalar(const void *W, const void *xp, float *y, int64_t m, int64_t n,
                               int64_t k, int64_t j0, int64_t j1)
{
    const int64_t nb = k / MW_K_QK;
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j = j0; j < j1; j++) {
            const uint8_t *w = (const uint8_t *)W + j * nb * MW_K_Q8_0_BYTES;
            const uint8_t *xi = (const uint8_t *)xp + i * nb * MW_K_Q8_0_BYTES;
            float acc = 0.0f;
            for (int64_t b = 0; b < nb; b++, w += MW_K_Q8_0_BYTES, xi += MW_K_Q8_0_BYTES) {
                int32_t isum = 0;
                for (int l = 0; l < MW_K_QK; l++) isum += (int8_t)w[2 + l] * (int8_t)xi[2 + l];
                acc += blk_d(w) * blk_d(xi) * (float)isum;
            }
            y[i * n + j] = acc;
        }
    }
}

static void matmul_q4_0_scalar(const void *W, const void *xp, float *y, int64_t m, int64_t n,
                               int64_t k, int64_t j0, int64_t j1)
{
    const int64_t nb = k / MW_K_QK;
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j = j0; j < j1; j++) {
            const uint8_t *w = (const uint8_t *)W + j * nb * MW_K_Q4_0_BYTES;
            const uint8_t *xi = (const uint8_t *)xp + i * nb * MW_K_Q8_0_BYTES;
            float acc = 0.0f;
            for (int64_t b = 0; b < nb; b++, w += MW_K_Q4_0_BYTES, xi += MW_K_Q8_0_BYTES) {
                int32_t isum = 0;
                for (int l = 0; l < MW_K_QK / 2; l++) {
                    isum += ((w[2 + l] & 0x0f) - 8) * (int8_t)xi[2 + l];
                    isum += ((w[2 + l] >> 4) - 8) * (int8_t)xi[2 + l + 16];
                }
                acc += blk_d(w) * blk_d(xi) * (float)isum;
            }
            y[i * n + j] = acc;
        }
    }
}

/* ---- Q4_1, Q5_0, Q5_1 (issue #14) -------------------------------------------
 * ggml's other blocks of 32 (block_q4_1, block_q5_0, block_q5_1):
 *   Q4_1 20 B: f16 d | f16 m | 16 B nibbles;           weight = d*q + m, q 0..15
 *   Q5_0 22 B: f16 d | u32 qh | 16 B nibbles;          weight = d*(q - 16), q 0..31
 *   Q5_1 24 B: f16 d | f16 m | u32 qh | 16 B nibbles;  weight = d*q + m, q 0..31
 * Byte j of the nibbles holds weight j (low) and weight 16+j (high); bit e
 * of qh (little endian) is the fifth bit of weight e. llama-quantize writes
 * Q5_0 / Q5_1 for the K-quant types' tensors whose rows are not a multiple
 * of 256 (src/format/quant_scheme.c). As llama.cpp's CPU backend does
 * (ggml-cpu's type traits: vec_dot_type), x is quantized to Q8_0 for Q5_0
 * and to Q8_1 for Q4_1 / Q5_1, whose s = d*Σq lets the mins be added once
 * per block: Σ w x = d_w d_x Σ q q_x + m s_x. */
static size_t q51_bytes(mw_dtype t)
{
    return t == MW_DTYPE_Q4_1 ? MW_K_Q4_1_BYTES : t == MW_DTYPE_Q5_0 ? MW_K_Q5_0_BYTES : MW_K_Q5_1_BYTES;
}

/* The raw quants of one block in weight order (0..15 or 0..31), its d and
 * its m (0 for Q5_0). */
static void q51_unpack(mw_dtype t, const uint8_t *b, int q[32], float *d, float *m)
{
    const int has_m = t != MW_DTYPE_Q5_0, five = t != MW_DTYPE_Q4_1;
    *d = blk_d(b);
    *m = has_m ? blk_d(b + 2) : 0.0f;
    const uint8_t *qh = b + (has_m ? 4 : 2), *qs = qh + (five ? 4 : 0);
    const uint32_t h = five ? (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 |
                                  (uint32_t)qh[3] << 24
                            : 0u;
    for (int j = 0; j < 16; j++) {
        q[j] = (qs[j] & 0x0f) | (int)((h >> j) & 1u) << 4;
        q[j + 16] = (qs[j] >> 4) | (int)((h >> (j + 16)) & 1u) << 4;
    }
}

/* The quants of one block packed (q in 0..nmax, weight order). */
static void q51_pack(mw_dtype t, const int q[32], uint8_t *b)
{
    const int has_m = t != MW_DTYPE_Q5_0, five = t != MW_DTYPE_Q4_1;
    uint8_t *qh = b + (has_m ? 4 : 2), *qs = qh + (five ? 4 : 0);
    uint32_t h = 0;
    for (int j = 0; j < 16; j++) {
        qs[j] = (uint8_t)((q[j] & 0x0f) | (q[j + 16] & 0x0f) << 4);
        h |= (uint32_t)((q[j] >> 4) & 1) << j | (uint32_t)((q[j + 16] >> 4) & 1) << (j + 16);
    }
    if (five)
        for (int i = 0; i < 4; i++) qh[i] = (uint8_t)(h >> (8 * i));
}

/* ggml's reference quantizers (what llama-quantize writes without an
 * importance matrix): Q4_1 / Q5_1 take the block's min and max, d = (max -
 * min)/nmax, m = min, q = (int)((x - min)/d + 0.5) at most nmax; Q5_0 takes
 * the first value of largest magnitude max, d = max/-16, q = (int)(x/d +
 * 16.5) at most 31. (ggml does not clamp Q5_1's q; it cannot exceed 31
 * there but for float rounding, which clamping keeps in range.) */
static void quant_row_q51(mw_dtype t, const float *src, uint8_t *out, int64_t k)
{
    const int nmax = t == MW_DTYPE_Q4_1 ? 15 : 31;
    const size_t bytes = q51_bytes(t);
    for (int64_t b = 0; b < k / MW_K_QK; b++, src += MW_K_QK, out += bytes) {
        int q[32];
        memset(out, 0, bytes);
        if (t == MW_DTYPE_Q5_0) {
            float amax = 0.0f, max = 0.0f;
            for (int j = 0; j < MW_K_QK; j++) {
                if (amax < fabsf(src[j])) {
                    amax = fabsf(src[j]);
                    max = src[j];
                }
            }
            const float d = max / -16.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
            blk_set_d(out, d);
            for (int j = 0; j < MW_K_QK; j++) {
                const int v = (int8_t)(src[j] * id + 16.5f);
                q[j] = v > 31 ? 31 : v;
            }
        } else {
            float lo = src[0], hi = src[0];
            for (int j = 1; j < MW_K_QK; j++) {
                lo = fminf(lo, src[j]);
                hi = fmaxf(hi, src[j]);
            }
            const float d = (hi - lo) / (float)nmax, id = d != 0.0f ? 1.0f / d : 0.0f;
            blk_set_d(out, d);
            blk_set_d(out + 2, lo);
            for (int j = 0; j < MW_K_QK; j++) {
                const int v = (int)(uint8_t)((src[j] - lo) * id + 0.5f);
                q[j] = v > nmax ? nmax : v;
            }
        }
        q51_pack(t, q, out);
    }
}

void mw_k_quant_row_q4_1(const float *src, void *dst, int64_t k)
{
    quant_row_q51(MW_DTYPE_Q4_1, src, dst, k);
}

void mw_k_quant_row_q5_0(const float *src, void *dst, int64_t k)
{
    quant_row_q51(MW_DTYPE_Q5_0, src, dst, k);
}

void mw_k_quant_row_q5_1(const float *src, void *dst, int64_t k)
{
    quant_row_q51(MW_DTYPE_Q5_1, src, dst, k);
}

/* Q8_1 as llama.cpp's CPU backend quantizes activations for Q4_1 / Q5_1:
 * Q8_0's act rounding (id = 127/amax, half to even; d = amax/127 stored
 * f16), and s = d * Σ q with the unrounded d, stored f16. */
void mw_k_quant_row_q8_1_act(const float *src, void *dst, int64_t k)
{
    uint8_t *out = dst;
    for (int64_t b = 0; b < k / MW_K_QK; b++, src += MW_K_QK, out += MW_K_Q8_1_BYTES) {
        float amax = 0.0f;
        for (int j = 0; j < MW_K_QK; j++) amax = fmaxf(amax, fabsf(src[j]));
        const float d = amax / 127.0f, id = amax != 0.0f ? 127.0f / amax : 0.0f;
        int sum = 0;
        for (int j = 0; j < MW_K_QK; j++) {
            const int v = (int)nearbyintf(src[j] * id);
            out[4 + j] = (uint8_t)(int8_t)v;
            sum += v;
        }
        blk_set_d(out, d);
        blk_set_d(out + 2, d * (float)sum);
    }
}

/* Σ over blocks of (d_w d_x) isum [+ m_w s_x], in ggml's order. */
static void matmul_q51_scalar(mw_dtype t, const void *W, const void *xp, float *y, int64_t m,
                              int64_t n, int64_t k, int64_t j0, int64_t j1)
{
    const int64_t nb = k / MW_K_QK;
    const size_t wb = q51_bytes(t), xb = t == MW_DTYPE_Q5_0 ? MW_K_Q8_0_BYTES : MW_K_Q8_1_BYTES;
    const int off = t == MW_DTYPE_Q5_0 ? 16 : 0, xo = t == MW_DTYPE_Q5_0 ? 2 : 4;
    int q[32];
    float d, mn;
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j = j0; j < j1; j++) {
            const uint8_t *w = (const uint8_t *)W + (size_t)j * (size_t)nb * wb;
            const uint8_t *xi = (const uint8_t *)xp + (size_t)i * (size_t)nb * xb;
            float acc = 0.0f;
            for (int64_t b = 0; b < nb; b++, w += wb, xi += xb) {
                q51_unpack(t, w, q, &d, &mn);
                int32_t isum = 0;
                for (int l = 0; l < MW_K_QK; l++) isum += (q[l] - off) * (int8_t)xi[xo + l];
                if (off)
                    acc += d * blk_d(xi) * (float)isum;
                else
                    acc += d * blk_d(xi) * (float)isum + mn * blk_d(xi + 2);
            }
            y[i * n + j] = acc;
        }
    }
}

static void matmul_q4_1_scalar(const void *W, const void *xp, float *y, int64_t m, int64_t n,
                               int64_t k, int64_t j0, int64_t j1)
{
    matmul_q51_scalar(MW_DTYPE_Q4_1, W, xp, y, m, n, k, j0, j1);
}

static void matmul_q5_0_scalar(const void *W, const void *xp, float *y, int64_t m, int64_t n,
                               int64_t k, int64_t j0, int64_t j1)
{
    matmul_q51_scalar(MW_DTYPE_Q5_0, W, xp, y, m, n, k, j0, j1);
}

static void matmul_q5_1_scalar(const void *W, const void *xp, float *y, int64_t m, int64_t n,
                               int64_t k, int64_t j0, int64_t j1)
{
    matmul_q51_scalar(MW_DTYPE_Q5_1, W, xp, y, m, n, k, j0, j1);
}

/* ---- K-quants (super-blocks of 256 weights) --------------------------------
 * Byte layouts (ggml's block_q4_K / block_q5_K / block_q6_K):
 *   Q4_K 144 B: f16 d | f16 dmin | 12 B of 6-bit scales and mins for the 8
 *               sub-blocks of 32 | 128 B of 4-bit quants.
 *   Q5_K 176 B: as Q4_K, with 32 B of fifth bits between the scales and the
 *               4-bit quants.
 *   Q6_K 210 B: 128 B of low 4 bits | 64 B of high 2 bits | 16 int8 scales
 *               (sub-blocks of 16) | f16 d.
 * Weight = d*sc*q - dmin*m (Q4_K, Q5_K; q in 0..15 / 0..31) or d*sc*(q-32)
 * (Q6_K). The quants of 64 consecutive weights share 32 bytes: byte l holds
 * weight l in its low nibble and weight 32+l in its high one. */

/* The 6-bit scale and min of sub-block j from the 12-byte field: sub-blocks
 * 0-3 use the low 6 bits of bytes j (scale) and j+4 (min); sub-blocks 4-7 use
 * the nibbles of byte j+4 (scale low, min high) for their low 4 bits and the
 * top 2 bits of bytes j-4 (scale) and j (min) for their high 2 bits. */
static inline void kq_scale_min(const uint8_t *s, int j, int *sc, int *m)
{
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4);
        *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

static inline void kq_set_scale_min(uint8_t *s, int j, int sc, int m)
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

/* The integer quants of one super-block, in weight order: 0..15 (Q4_K),
 * 0..31 (Q5_K), -32..31 (Q6_K); and the per-sub-block scales (and mins). */
static void kq_unpack(mw_dtype t, const uint8_t *b, int8_t q[MW_K_QKK], int sc[16], int mn[8],
                      float *d, float *dmin)
{
    if (t == MW_DTYPE_Q6_K) {
        const uint8_t *ql = b, *qh = b + 128;
        const int8_t *s = (const int8_t *)(b + 192);
        for (int h = 0; h < 2; h++, ql += 64, qh += 32) {
            int8_t *o = q + 128 * h;
            for (int l = 0; l < 32; l++) {
                o[l] = (int8_t)(((ql[l] & 0x0f) | ((qh[l] & 3) << 4)) - 32);
                o[l + 32] = (int8_t)(((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32);
                o[l + 64] = (int8_t)(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
                o[l + 96] = (int8_t)(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
            }
        }
        for (int j = 0; j < 16; j++) sc[j] = s[j];
        *d = blk_d(b + 208);
        *dmin = 0.0f;
        return;
    }
    *d = blk_d(b);
    *dmin = blk_d(b + 2);
    for (int j = 0; j < 8; j++) kq_scale_min(b + 4, j, &sc[j], &mn[j]);
    const uint8_t *qs = b + (t == MW_DTYPE_Q5_K ? 48 : 16), *qh = b + 16;
    for (int c = 0; c < 4; c++, qs += 32) {
        for (int l = 0; l < 32; l++) {
            int lo = qs[l] & 0x0f, hi = qs[l] >> 4;
            if (t == MW_DTYPE_Q5_K) {
                lo |= ((qh[l] >> (2 * c)) & 1) << 4;
                hi |= ((qh[l] >> (2 * c + 1)) & 1) << 4;
            }
            q[64 * c + l] = (int8_t)lo;
            q[64 * c + 32 + l] = (int8_t)hi;
        }
    }
}

static size_t kq_bytes(mw_dtype t)
{
    return t == MW_DTYPE_Q4_K ? MW_K_Q4_K_BYTES : t == MW_DTYPE_Q5_K ? MW_K_Q5_K_BYTES : MW_K_Q6_K_BYTES;
}

static void kq_dequant_row(mw_dtype t, const uint8_t *b, float *dst, int64_t k)
{
    int8_t q[MW_K_QKK];
    int sc[16], mn[8];
    float d, dmin;
    for (int64_t i = 0; i < k / MW_K_QKK; i++, b += kq_bytes(t), dst += MW_K_QKK) {
        kq_unpack(t, b, q, sc, mn, &d, &dmin);
        if (t == MW_DTYPE_Q6_K) {
            for (int l = 0; l < MW_K_QKK; l++) dst[l] = d * (float)sc[l / 16] * (float)q[l];
        } else {
            for (int l = 0; l < MW_K_QKK; l++)
                dst[l] = d * (float)sc[l / 32] * (float)q[l] - dmin * (float)mn[l / 32];
        }
    }
}

static inline int kq_clamp(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* nearest integer, half to even, as nearbyintf in the default rounding mode
 * but without a libm call (baseline x86-64 has no roundss): adding 1.5*2^23
 * leaves no fraction bits; |v| is clamped to 2^22 first, far beyond any
 * quant. */
static inline int kq_nearest(float v)
{
    v = v > 4194304.0f ? 4194304.0f : v < -4194304.0f ? -4194304.0f : v;
    const float t = v + 12582912.0f; /* C11 float arithmetic: not reassociated */
    return (int)(t - 12582912.0f);
}

static float kq_weighted_fit(const float *x, const float *w, int n, float iscale, float min0,
                             int nmax, float *a_out, float *b_out)
{
    float sw = 0.0f, sl = 0.0f, sll = 0.0f, sx = 0.0f, slx = 0.0f;
    for (int l = 0; l < n; l++) {
        const int q = kq_clamp(kq_nearest(iscale * (x[l] - min0)), 0, nmax);
        sw += w[l];
        sl += w[l] * (float)q;
        sll += w[l] * (float)(q * q);
        sx += w[l] * x[l];
        slx += w[l] * (float)q * x[l];
    }
    const float D = sw * sll - sl * sl;
    float a, b;
    if (D > 0.0f) {
        a = (sw * slx - sl * sx) / D;
        b = (sll * sx - sl * slx) / D;
        if (b > 0.0f) { /* the format has no positive offset */
            b = 0.0f;
            a = slx / sll;
        }
    } else { /* one level used: a constant sub-block */
        a = sll > 0.0f ? slx / sll : 0.0f;
        b = 0.0f;
        if (sll == 0.0f) b = sw > 0.0f && sx < 0.0f ? sx / sw : 0.0f;
    }
    if (a < 0.0f) a = 0.0f;
    /* Σ w (a q + b - x)^2 from the sums (Σ w x^2 is the same for every
     * candidate, so it is left out: only the order matters) */
    const float err = a * a * sll + 2.0f * a * b * sl + b * b * sw - 2.0f * a * slx - 2.0f * b * sx;
    *a_out = a;
    *b_out = b;
    return err;
}

/* Q4_K / Q5_K with a scale search (the method of ggml's reference
 * quantizers, written anew; docs/ENGINE.md):
 *   1. Per sub-block of 32, weights w_l = x_l^2 + mean(x^2) (the mean over
 *      the sub-block: large values count more, none counts nothing).
 *   2. Candidate inverse scales iscale = (nmax + r) / (max - min0), min0 =
 *      min(0, min x), for r = -1.0, -0.9, ..., +1.0 (21; r = 0 is the naive
 *      round to nearest). Each rounds q_l = clamp(nearest(iscale (x_l -
 *      min0)), 0, nmax) and re-fits x ≈ a q + b by weighted least squares
 *      (b <= 0, since the format stores -b as a min >= 0; a >= 0); the pair
 *      (a, -b) of least weighted squared error is kept.
 *   3. The super-block's d and dmin are the largest scale and min over 63
 *      (stored f16); the 6-bit scales and mins are rounded against them,
 *      and every weight is rounded again with its sub-block's stored scale
 *      d*sc and min dmin*m. */
#define KQ_NCAND 21 /* r = -1.0 .. +1.0 in steps of 0.1 */

static void quant_row_q45_k(const float *src, uint8_t *out, int64_t k, int nmax)
{
    const int five = nmax == 31;
    const size_t bytes = five ? MW_K_Q5_K_BYTES : MW_K_Q4_K_BYTES;
    for (int64_t i = 0; i < k / MW_K_QKK; i++, src += MW_K_QKK, out += bytes) {
        float scale[8], mins[8], max_scale = 0.0f, max_min = 0.0f;
        for (int j = 0; j < 8; j++) {
            const float *x = src + 32 * j;
            float lo = 0.0f, hi = 0.0f, s2 = 0.0f, w[32];
            for (int l = 0; l < 32; l++) {
                lo = fminf(lo, x[l]);
                hi = fmaxf(hi, x[l]);
                s2 += x[l] * x[l];
            }
            const float avg = s2 / 32.0f;
            for (int l = 0; l < 32; l++) w[l] = x[l] * x[l] + avg;
            scale[j] = 0.0f;
            mins[j] = -lo;
            if (hi > lo) {
                float best = INFINITY;
                for (int c = 0; c < KQ_NCAND; c++) {
                    const float r = -1.0f + 0.1f * (float)c;
                    float a, b;
                    const float e = kq_weighted_fit(x, w, 32, ((float)nmax + r) / (hi - lo), lo, nmax, &a, &b);
                    if (e < best) {
                        best = e;
                        scale[j] = a;
                        mins[j] = -b;
                    }
                }
            }
            max_scale = fmaxf(max_scale, scale[j]);
            max_min = fmaxf(max_min, mins[j]);
        }
        memset(out, 0, bytes);
        blk_set_d(out, max_scale / 63.0f);
        blk_set_d(out + 2, max_min / 63.0f);
        const float d = blk_d(out), dmin = blk_d(out + 2);
        int8_t q[MW_K_QKK];
        for (int j = 0; j < 8; j++) {
            const int sc = d > 0.0f ? kq_clamp((int)nearbyintf(scale[j] / d), 0, 63) : 0;
            const int m = dmin > 0.0f ? kq_clamp((int)nearbyintf(mins[j] / dmin), 0, 63) : 0;
            kq_set_scale_min(out + 4, j, sc, m);
            const float step = d * (float)sc, off = dmin * (float)m;
            for (int l = 0; l < 32; l++)
                q[32 * j + l] = (int8_t)(step > 0.0f
                                             ? kq_clamp((int)nearbyintf((src[32 * j + l] + off) / step), 0, nmax)
                                             : 0);
        }
        uint8_t *qs = out + (five ? 48 : 16), *qh = out + 16;
        for (int c = 0; c < 4; c++, qs += 32) {
            for (int l = 0; l < 32; l++) {
                const int lo = q[64 * c + l], hi = q[64 * c + 32 + l];
                qs[l] = (uint8_t)((lo & 0x0f) | ((hi & 0x0f) << 4));
                if (five) qh[l] = (uint8_t)(qh[l] | ((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
            }
        }
    }
}

void mw_k_quant_row_q4_k(const float *src, void *dst, int64_t k)
{
    quant_row_q45_k(src, dst, k, 15);
}

void mw_k_quant_row_q5_k(const float *src, void *dst, int64_t k)
{
    quant_row_q45_k(src, dst, k, 31);
}

/* Q6_K with a scale search: per sub-block of 16, weights w_l = x_l^2 +
 * mean(x^2); xm the value of largest magnitude (the first, with its sign);
 * candidate inverse scales iscale = -(32 + r)/xm and +(31 + r)/xm for r =
 * -1.0 .. +1.0 in steps of 0.1 (42: xm toward -32 or toward +31), each
 * rounding q_l = clamp(nearest(iscale x_l), -32, 31) and fitting the signed
 * scale a = Σ w x q / Σ w q^2 by weighted least squares; the a of least
 * weighted squared error is kept. The super-block's d is the a of largest
 * magnitude over -127 (stored f16; that sub-block's int8 scale is -127:
 * ggml maps it to -128, but on the demo model llama.cpp 80fb11ac's results
 * then part from the format's arithmetic on short prompts, with -127 or
 * +127 they agree to 1e-5; docs/ENGINE.md), the int8 scales are rounded
 * against it (-128..127), and each weight is rounded again into -32..31
 * with its stored scale d*sc. */
void mw_k_quant_row_q6_k(const float *src, void *dst, int64_t k)
{
    uint8_t *out = dst;
    for (int64_t i = 0; i < k / MW_K_QKK; i++, src += MW_K_QKK, out += MW_K_Q6_K_BYTES) {
        float scale[16], max_scale = 0.0f, amax_scale = 0.0f;
        for (int j = 0; j < 16; j++) {
            const float *x = src + 16 * j;
            float amax = 0.0f, xm = 0.0f, s2 = 0.0f, w[16];
            for (int l = 0; l < 16; l++) {
                if (fabsf(x[l]) > amax) {
                    amax = fabsf(x[l]);
                    xm = x[l];
                }
                s2 += x[l] * x[l];
            }
            const float avg = s2 / 16.0f;
            for (int l = 0; l < 16; l++) w[l] = x[l] * x[l] + avg;
            scale[j] = 0.0f;
            float best = -1.0f; /* the largest (Σ w x q)^2 / Σ w q^2 = least error */
            for (int c = 0; amax > 0.0f && c < 2 * KQ_NCAND; c++) {
                const float r = -1.0f + 0.1f * (float)(c % KQ_NCAND);
                const float is = c < KQ_NCAND ? -(32.0f + r) / xm : (31.0f + r) / xm;
                float sxq = 0.0f, sqq = 0.0f;
                for (int l = 0; l < 16; l++) {
                    const float q = (float)kq_clamp(kq_nearest(is * x[l]), -32, 31);
                    sxq += w[l] * x[l] * q;
                    sqq += w[l] * q * q;
                }
                if (sqq > 0.0f && sxq * sxq / sqq > best) {
                    best = sxq * sxq / sqq;
                    scale[j] = sxq / sqq;
                }
            }
            if (fabsf(scale[j]) > amax_scale) {
                amax_scale = fabsf(scale[j]);
                max_scale = scale[j];
            }
        }
        memset(out, 0, MW_K_Q6_K_BYTES);
        blk_set_d(out + 208, max_scale / -127.0f);
        const float d = blk_d(out + 208);
        int8_t q[MW_K_QKK];
        for (int j = 0; j < 16; j++) {
            const int sc = d != 0.0f ? kq_clamp((int)nearbyintf(scale[j] / d), -128, 127) : 0;
            out[192 + j] = (uint8_t)(int8_t)sc;
            const float step = d * (float)sc;
            for (int l = 0; l < 16; l++)
                q[16 * j + l] = (int8_t)(step != 0.0f ? kq_clamp((int)nearbyintf(src[16 * j + l] / step), -32, 31)
                                                      : 0);
        }
        uint8_t *ql = out, *qh = out + 128;
        for (int h = 0; h < 2; h++, ql += 64, qh += 32) {
            const int8_t *o = q + 128 * h;
            for (int l = 0; l < 32; l++) {
                const int a = o[l] + 32, b = o[l + 32] + 32, c = o[l + 64] + 32, e = o[l + 96] + 32;
                ql[l] = (uint8_t)((a & 0x0f) | ((c & 0x0f) << 4));
                ql[l + 32] = (uint8_t)((b & 0x0f) | ((e & 0x0f) << 4));
                qh[l] = (uint8_t)((a >> 4) | ((b >> 4) << 2) | ((c >> 4) << 4) | ((e >> 4) << 6));
            }
        }
    }
}

/* Q8_K, the activations of K-quant products, as llama.cpp's CPU backend
 * makes them (ggml's quantize_row_q8_K_ref, which x86 uses too): per block
 * of 256, the value of largest magnitude max (the first one, with its sign)
 * gives iscale = -127/max; q = nearest(iscale*x) rounded half to even, at
 * most 127; d = 1/iscale (so d < 0 when max > 0); bsums the sums of each 16
 * q. An all-zero block has d = 0 and zero quants and sums. */
void mw_k_quant_row_q8_k(const float *src, void *dst, int64_t k)
{
    uint8_t *out = dst;
    for (int64_t b = 0; b < k / MW_K_QKK; b++, src += MW_K_QKK, out += MW_K_Q8_K_BYTES) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < MW_K_QKK; j++) {
            const float a = fabsf(src[j]);
            if (a > amax) {
                amax = a;
                max = src[j];
            }
        }
        int8_t *qs = (int8_t *)(out + 4);
        int16_t bsums[16];
        float d = 0.0f;
        if (amax == 0.0f) {
            memset(qs, 0, MW_K_QKK);
            memset(bsums, 0, sizeof bsums);
        } else {
            const float iscale = -127.0f / max;
            for (int j = 0; j < MW_K_QKK; j++) {
                const float v = nearbyintf(iscale * src[j]);
                qs[j] = (int8_t)(v > 127.0f ? 127 : (int)v);
            }
            for (int j = 0; j < 16; j++) {
                int sum = 0;
                for (int l = 0; l < 16; l++) sum += qs[16 * j + l];
                bsums[j] = (int16_t)sum;
            }
            d = 1.0f / iscale;
        }
        memcpy(out, &d, sizeof d);
        memcpy(out + 4 + MW_K_QKK, bsums, sizeof bsums);
    }
}

static inline int16_t q8k_bsum(const uint8_t *xb, int j)
{
    int16_t v;
    memcpy(&v, xb + 4 + MW_K_QKK + 2 * j, sizeof v);
    return v;
}

/* K-quant weights times x in Q8_K (one block of x per super-block): the
 * super-block's integer sums, then mw_kq_acc (kernels_isa.h):
 *   Q4_K/Q5_K: isum = Σ_s sc_s Σ q·xq, msum = Σ_s m_s (bsum_2s + bsum_2s+1)
 *   Q6_K:      isum = Σ_s sc_s Σ (q-32)·xq  (sub-blocks of 16), msum = 0 */
static void matmul_kq_scalar(mw_dtype t, const void *W, const void *xp, float *y, int64_t m,
                             int64_t n, int64_t k, int64_t j0, int64_t j1)
{
    const int64_t nb = k / MW_K_QKK;
    const size_t wb = kq_bytes(t);
    int8_t q[MW_K_QKK];
    int sc[16], mn[8];
    float d, dmin;
    for (int64_t j = j0; j < j1; j++) {
        const uint8_t *w0 = (const uint8_t *)W + (size_t)j * (size_t)nb * wb;
        for (int64_t i = 0; i < m; i++) {
            const uint8_t *xi = (const uint8_t *)xp + (size_t)i * (size_t)nb * MW_K_Q8_K_BYTES;
            const uint8_t *w = w0;
            float acc = 0.0f;
            for (int64_t b = 0; b < nb; b++, w += wb, xi += MW_K_Q8_K_BYTES) {
                kq_unpack(t, w, q, sc, mn, &d, &dmin);
                const int8_t *xq = (const int8_t *)(xi + 4);
                int32_t isum = 0, msum = 0;
                if (t == MW_DTYPE_Q6_K) {
                    for (int s = 0; s < 16; s++) {
                        int32_t dot = 0;
                        for (int l = 0; l < 16; l++) dot += q[16 * s + l] * xq[16 * s + l];
                        isum += sc[s] * dot;
                    }
                } else {
                    for (int s = 0; s < 8; s++) {
                        int32_t dot = 0;
                        for (int l = 0; l < 32; l++) dot += q[32 * s + l] * xq[32 * s + l];
                        isum += sc[s] * dot;
                        msum += mn[s] * (q8k_bsum(xi, 2 * s) + q8k_bsum(xi, 2 * s + 1));
                    }
                }
                acc = mw_kq_acc(acc, mw_kq8k_d(xi), d, dmin, isum, msum);
            }
            y[i * n + j] = acc;
        }
    }
}

static void matmul_q4_k_scalar(const void *W, const void *xp, float *y, int64_t m, int64_t n,
                               int64_t k, int64_t j0, int64_t j1)
{
    matmul_kq_scalar(MW_DTYPE_Q4_K, W, xp, y, m, n, k, j0, j1);
}

static void matmul_q5_k_scalar(const void *W, const void *xp, float *y, int64_t m, int64_t n,
                               int64_t k, int64_t j0, int64_t j1)
{
    matmul_kq_scalar(MW_DTYPE_Q5_K, W, xp, y, m, n, k, j0, j1);
}

static void matmul_q6_k_scalar(const void *W, const void *xp, float *y, int64_t m, int64_t n,
                               int64_t k, int64_t j0, int64_t j1)
{
    matmul_kq_scalar(MW_DTYPE_Q6_K, W, xp, y, m, n, k, j0, j1);
}

/* ---- scalar row operations ----------------------------------------------- */

static float dot_f32_scalar(const float *a, const float *b, int64_t n)
{
    float acc = 0.0f;
    for (int64_t i = 0; i < n; i++) acc += a[i] * b[i];
    return acc;
}

static void axpy_scalar(float *y, float a, const float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

void mw_kref_rmsnorm(float *y, const float *x, const float *w, int64_t n, float eps)
{
    double sum = 0.0; /* ggml: float squares summed as ggml_float (double) */
    for (int64_t i = 0; i < n; i++) sum += (double)(x[i] * x[i]);
    const float mean = (float)(sum / (double)n);
    const float scale = 1.0f / sqrtf(mean + eps);
    for (int64_t i = 0; i < n; i++) y[i] = (x[i] * scale) * w[i];
}

void mw_kref_softmax(float *x, int64_t n)
{
    if (n <= 0) return;
    float max = -INFINITY;
    for (int64_t i = 0; i < n; i++) max = fmaxf(max, x[i]);
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) {
        x[i] = expf(x[i] - max);
        sum += (double)x[i];
    }
    const float scale = (float)(1.0 / sum);
    for (int64_t i = 0; i < n; i++) x[i] *= scale;
}

void mw_kref_silu_mul(float *g, const float *u, int64_t n)
{
    for (int64_t i = 0; i < n; i++) g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

/* Rope angles as ggml computes them (ggml_rope_cache_init): theta starts at
 * pos and is multiplied by theta_scale = base^(-2/n_rot) in float for each
 * pair, so pair i gets pos * scale^i with the recurrence's rounding rather
 * than pos * powf(base, -2i/n_rot); matching it keeps us bit-compatible with
 * llama.cpp's caches. cos/sin are those of libm (cosf, sinf). */
void mw_kref_rope(float *x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int64_t pos,
                  float theta)
{
    const float theta_scale = powf(theta, -2.0f / (float)n_rot);
    for (int64_t h = 0; h < n_heads; h++) {
        float *v = x + h * head_dim;
        float t = (float)pos;
        for (int64_t i = 0; 2 * i + 1 < n_rot && 2 * i + 1 < head_dim; i++) {
            const float c = cosf(t), s = sinf(t);
            const float x0 = v[2 * i], x1 = v[2 * i + 1];
            v[2 * i] = x0 * c - x1 * s;
            v[2 * i + 1] = x0 * s + x1 * c;
            t *= theta_scale;
        }
    }
}

/* ---- dispatch -------------------------------------------------------------- */

static const mw_k_ops ops_scalar = {
    .matmul_f32 = matmul_f32_scalar,
    .matmul_f16 = matmul_f16_scalar,
    .matmul_bf16 = matmul_bf16_scalar,
    .matmul_q8_0 = matmul_q8_0_scalar,
    .matmul_q4_0 = matmul_q4_0_scalar,
    .matmul_q4_k = matmul_q4_k_scalar,
    .matmul_q5_k = matmul_q5_k_scalar,
    .matmul_q6_k = matmul_q6_k_scalar,
    .quant_row_q8_0 = quant_row_q8_0_scalar,
    .quant_row_q8_0_act = quant_row_q8_0_act_scalar,
    .quant_row_q8_k = mw_k_quant_row_q8_k,
    .row_to_f16 = row_to_f16_scalar,
    .row_to_bf16 = row_to_bf16_scalar,
    .f16_to_row = f16_to_row_scalar,
    .dot_f32 = dot_f32_scalar,
    .axpy = axpy_scalar,
    .rmsnorm = mw_kref_rmsnorm,
    .softmax = mw_kref_softmax,
    .silu_mul = mw_kref_silu_mul,
    .matmul_q4_1 = matmul_q4_1_scalar,
    .matmul_q5_0 = matmul_q5_0_scalar,
    .matmul_q5_1 = matmul_q5_1_scalar,
};

static const mw_k_ops *ops_for(int isa)
{
    switch (isa) {
    case MW_K_ISA_SCALAR: return &ops_scalar;
#ifdef MW_K_X86
    case MW_K_ISA_AVX2: return &mw_k_ops_avx2;
    case MW_K_ISA_AVX512: return &mw_k_ops_avx512;
#endif
    default: return NULL;
    }
}

int mw_k_isa_available(int isa)
{
    switch (isa) {
    case MW_K_ISA_SCALAR: return 1;
#ifdef MW_K_X86
    case MW_K_ISA_AVX2: {
        /* clang's __builtin_cpu_supports has no "f16c": CPUID.1:ECX bit 29
         * (the OS's saving of AVX state is checked by the "avx2" test) */
        unsigned a, b, c, d;
        const int f16c = __get_cpuid(1, &a, &b, &c, &d) && (c >> 29 & 1u);
        __builtin_cpu_init();
        return f16c && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    case MW_K_ISA_AVX512:
        __builtin_cpu_init();
        return mw_k_isa_available(MW_K_ISA_AVX2) && __builtin_cpu_supports("avx512f") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bf16");
#endif
    default: return 0;
    }
}

static int best_isa(void)
{
    for (int isa = MW_K_ISA_COUNT - 1; isa > MW_K_ISA_SCALAR; isa--)
        if (mw_k_isa_available(isa)) return isa;
    return MW_K_ISA_SCALAR;
}

/* -1 until the first kernel call; every thread that races there computes the
 * same answer, so a relaxed atomic is enough. */
static atomic_int current_isa = -1;

int mw_k_isa(void)
{
    int isa = atomic_load_explicit(&current_isa, memory_order_relaxed);
    if (isa < 0) {
        isa = best_isa();
        atomic_store_explicit(&current_isa, isa, memory_order_relaxed);
    }
    return isa;
}

int mw_k_force_isa(int isa)
{
    if (isa == MW_K_ISA_AUTO) isa = best_isa();
    if (!mw_k_isa_available(isa)) return -1;
    atomic_store_explicit(&current_isa, isa, memory_order_relaxed);
    return 0;
}

const char *mw_k_isa_name(int isa)
{
    static const char *const names[MW_K_ISA_COUNT] = {"scalar", "avx2", "avx512"};
    return isa >= 0 && isa < MW_K_ISA_COUNT ? names[isa] : "?";
}

static inline const mw_k_ops *ops(void)
{
    return ops_for(mw_k_isa());
}

/* ---- kernels.h ------------------------------------------------------------- */

int mw_k_supported(mw_dtype t)
{
    return t == MW_DTYPE_F32 || t == MW_DTYPE_F16 || t == MW_DTYPE_BF16 || t == MW_DTYPE_Q8_0 ||
           t == MW_DTYPE_Q4_0 || t == MW_DTYPE_Q4_K || t == MW_DTYPE_Q5_K || t == MW_DTYPE_Q6_K ||
           t == MW_DTYPE_Q4_1 || t == MW_DTYPE_Q5_0 || t == MW_DTYPE_Q5_1; /* issue #14 */
}

void mw_k_quant_row_q8_0_act(const float *src, void *dst, int64_t k)
{
    ops()->quant_row_q8_0_act(src, dst, k);
}

void mw_k_quant_row_q8_0(const float *src, void *dst, int64_t k)
{
    ops()->quant_row_q8_0(src, dst, k);
}

void mw_k_row_to_f16(const float *src, uint16_t *dst, int64_t k)
{
    ops()->row_to_f16(src, dst, k);
}

void mw_k_row_to_bf16(const float *src, uint16_t *dst, int64_t k)
{
    ops()->row_to_bf16(src, dst, k);
}

/* Types the engine cannot read come out as NaN rather than garbage. */
void mw_k_dequant_row(mw_dtype t, const void *src, float *dst, int64_t k)
{
    const uint8_t *b = src;
    switch (t) {
    case MW_DTYPE_F32:
        memcpy(dst, src, (size_t)k * sizeof(float));
        break;
    case MW_DTYPE_F16:
        ops()->f16_to_row(src, dst, k);
        break;
    case MW_DTYPE_BF16:
        for (int64_t i = 0; i < k; i++)
            dst[i] = mw_bf16_to_fp32((uint16_t)(b[2 * i] | (b[2 * i + 1] << 8)));
        break;
    case MW_DTYPE_Q8_0:
        for (int64_t i = 0; i < k / MW_K_QK; i++, b += MW_K_Q8_0_BYTES) {
            const float d = blk_d(b);
            for (int j = 0; j < MW_K_QK; j++) dst[i * MW_K_QK + j] = (float)(int8_t)b[2 + j] * d;
        }
        break;
    case MW_DTYPE_Q4_0:
        for (int64_t i = 0; i < k / MW_K_QK; i++, b += MW_K_Q4_0_BYTES) {
            const float d = blk_d(b);
            for (int j = 0; j < MW_K_QK / 2; j++) {
                dst[i * MW_K_QK + j] = (float)((b[2 + j] & 0x0f) - 8) * d;
                dst[i * MW_K_QK + j + 16] = (float)((b[2 + j] >> 4) - 8) * d;
            }
        }
        break;
    case MW_DTYPE_Q4_K:
    case MW_DTYPE_Q5_K:
    case MW_DTYPE_Q6_K:
        kq_dequant_row(t, b, dst, k);
        break;
    case MW_DTYPE_Q4_1: /* issue #14 */
    case MW_DTYPE_Q5_0:
    case MW_DTYPE_Q5_1: {
        int q[32];
        float d, mn;
        const int off = t == MW_DTYPE_Q5_0 ? 16 : 0;
        for (int64_t i = 0; i < k / MW_K_QK; i++, b += q51_bytes(t)) {
            q51_unpack(t, b, q, &d, &mn);
            for (int j = 0; j < MW_K_QK; j++) dst[i * MW_K_QK + j] = (float)(q[j] - off) * d + mn;
        }
        break;
    }
    case MW_DTYPE_Q8_1: /* activations only (mw_k_prepare_x) */
        for (int64_t i = 0; i < k / MW_K_QK; i++, b += MW_K_Q8_1_BYTES) {
            const float d = blk_d(b);
            for (int j = 0; j < MW_K_QK; j++) dst[i * MW_K_QK + j] = (float)(int8_t)b[4 + j] * d;
        }
        break;
    case MW_DTYPE_Q8_K: /* activations only (mw_k_prepare_x) */
        for (int64_t i = 0; i < k / MW_K_QKK; i++, b += MW_K_Q8_K_BYTES) {
            const float d = mw_kq8k_d(b);
            for (int j = 0; j < MW_K_QKK; j++) dst[i * MW_K_QKK + j] = (float)(int8_t)b[4 + j] * d;
        }
        break;
    default:
        for (int64_t i = 0; i < k; i++) dst[i] = NAN;
        break;
    }
}

static mw_dtype x_type(mw_dtype wt)
{
    switch (wt) {
    case MW_DTYPE_Q8_0:
    case MW_DTYPE_Q4_0:
    case MW_DTYPE_Q5_0: return MW_DTYPE_Q8_0;
    case MW_DTYPE_Q4_1:
    case MW_DTYPE_Q5_1: return MW_DTYPE_Q8_1; /* issue #14: with the block sums */
    case MW_DTYPE_Q4_K:
    case MW_DTYPE_Q5_K:
    case MW_DTYPE_Q6_K: return MW_DTYPE_Q8_K;
    case MW_DTYPE_F16: return MW_DTYPE_F16;
    case MW_DTYPE_BF16: return MW_DTYPE_BF16;
    default: return MW_DTYPE_F32; /* F32 (and unsupported types): x as is */
    }
}

size_t mw_k_prepare_x_bytes(mw_dtype wt, int64_t m, int64_t k)
{
    mw_dtype xt = x_type(wt);
    if (xt == MW_DTYPE_F32 || m <= 0 || k <= 0) return 0;
    uint64_t row = mw_dtype_bytes(xt, (uint64_t)k);
    return row == MW_UNKNOWN ? 0 : (size_t)(row * (uint64_t)m);
}

void mw_k_prepare_x(mw_dtype wt, const float *x, int64_t m, int64_t k, void *xq)
{
    const mw_k_ops *o = ops();
    mw_dtype xt = x_type(wt);
    if (xt == MW_DTYPE_F32) return;
    const size_t row = (size_t)mw_dtype_bytes(xt, (uint64_t)k);
    for (int64_t i = 0; i < m; i++) {
        void *dst = (uint8_t *)xq + (size_t)i * row;
        if (xt == MW_DTYPE_Q8_0)
            o->quant_row_q8_0_act(x + i * k, dst, k);
        else if (xt == MW_DTYPE_Q8_K)
            o->quant_row_q8_k(x + i * k, dst, k);
        else if (xt == MW_DTYPE_Q8_1)
            mw_k_quant_row_q8_1_act(x + i * k, dst, k);
        else if (xt == MW_DTYPE_F16)
            o->row_to_f16(x + i * k, dst, k);
        else
            o->row_to_bf16(x + i * k, dst, k);
    }
}

static mw_k_matmul_fn matmul_for(const mw_k_ops *o, mw_dtype wt)
{
    switch (wt) {
    case MW_DTYPE_F32: return o->matmul_f32;
    case MW_DTYPE_F16: return o->matmul_f16;
    case MW_DTYPE_BF16: return o->matmul_bf16;
    case MW_DTYPE_Q8_0: return o->matmul_q8_0;
    case MW_DTYPE_Q4_0: return o->matmul_q4_0;
    case MW_DTYPE_Q4_K: return o->matmul_q4_k;
    case MW_DTYPE_Q5_K: return o->matmul_q5_k;
    case MW_DTYPE_Q6_K: return o->matmul_q6_k;
    case MW_DTYPE_Q4_1: return o->matmul_q4_1;
    case MW_DTYPE_Q5_0: return o->matmul_q5_0;
    case MW_DTYPE_Q5_1: return o->matmul_q5_1;
    default: return NULL;
    }
}

/* An unsupported type leaves y as it was (callers check mw_k_supported). */
void mw_k_matmul(mw_dtype wt, const void *W, const float *x, const void *xq, float *y, int64_t m,
                 int64_t n, int64_t k, int64_t j0, int64_t j1)
{
    mw_k_matmul_fn fn = matmul_for(ops(), wt);
    const void *xp = wt == MW_DTYPE_F32 ? (const void *)x : xq;
    if (fn && m > 0 && j1 > j0) fn(W, xp, y, m, n, k, j0, j1);
}

void mw_kref_matmul(mw_dtype wt, const void *W, const float *x, const void *xq, float *y,
                    int64_t m, int64_t n, int64_t k, int64_t j0, int64_t j1)
{
    mw_k_matmul_fn fn = matmul_for(&ops_scalar, wt);
    const void *xp = wt == MW_DTYPE_F32 ? (const void *)x : xq;
    if (fn && m > 0 && j1 > j0) fn(W, xp, y, m, n, k, j0, j1);
}

void mw_k_rmsnorm(float *y, const float *x, const float *w, int64_t n, float eps)
{
    ops()->rmsnorm(y, x, w, n, eps);
}

/* The references' arithmetic, with each pair's cos/sin computed once for all
 * heads (in chunks, so no allocation whatever n_rot is). */
void mw_k_rope(float *x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int64_t pos, float theta)
{
    enum { CHUNK = 64 };
    float cs[CHUNK], sn[CHUNK];
    const float theta_scale = powf(theta, -2.0f / (float)n_rot);
    int64_t pairs = (n_rot < head_dim ? n_rot : head_dim) / 2;
    float t = (float)pos;
    for (int64_t p0 = 0; p0 < pairs; p0 += CHUNK) {
        const int64_t np = pairs - p0 < CHUNK ? pairs - p0 : CHUNK;
        for (int64_t i = 0; i < np; i++) {
            cs[i] = cosf(t);
            sn[i] = sinf(t);
            t *= theta_scale;
        }
        for (int64_t h = 0; h < n_heads; h++) {
            float *v = x + h * head_dim + 2 * p0;
            for (int64_t i = 0; i < np; i++) {
                const float x0 = v[2 * i], x1 = v[2 * i + 1];
                v[2 * i] = x0 * cs[i] - x1 * sn[i];
                v[2 * i + 1] = x0 * sn[i] + x1 * cs[i];
            }
        }
    }
}

void mw_k_softmax(float *x, int64_t n)
{
    ops()->softmax(x, n);
}

void mw_k_silu_mul(float *g, const float *u, int64_t n)
{
    ops()->silu_mul(g, u, n);
}

float mw_k_dot_f32(const float *a, const float *b, int64_t n)
{
    return ops()->dot_f32(a, b, n);
}

void mw_k_axpy(float *y, float a, const float *x, int64_t n)
{
    ops()->axpy(y, a, x, n);
}
