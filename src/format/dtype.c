/*
 * dtype.c - every tensor element type memwall knows: ggml's (with their
 * block layouts, ggml src/ggml-common.h) and safetensors' dtypes.
 *
 * QK_K = 256 for the K-quants and most i-quants; the legacy quants and
 * IQ4_NL / MXFP4 use blocks of 32.
 */
#include "common/error.h"

#include <strings.h>

static const mw_dtype_info types[MW_DTYPE_COUNT] = {
    /*                      name       elems bytes ggml safetensors */
    [MW_DTYPE_F32]      = {"F32",       1,   4,   0,  "F32"},
    [MW_DTYPE_F16]      = {"F16",       1,   2,   1,  "F16"},
    [MW_DTYPE_BF16]     = {"BF16",      1,   2,  30,  "BF16"},
    [MW_DTYPE_F64]      = {"F64",       1,   8,  28,  "F64"},
    [MW_DTYPE_Q4_0]     = {"Q4_0",     32,  18,   2,  NULL}, /* f16 d; u8 qs[16]        */
    [MW_DTYPE_Q4_1]     = {"Q4_1",     32,  20,   3,  NULL}, /* f16 d, m; u8 qs[16]     */
    [MW_DTYPE_Q5_0]     = {"Q5_0",     32,  22,   6,  NULL}, /* f16 d; u8 qh[4], qs[16] */
    [MW_DTYPE_Q5_1]     = {"Q5_1",     32,  24,   7,  NULL},
    [MW_DTYPE_Q8_0]     = {"Q8_0",     32,  34,   8,  NULL}, /* f16 d; i8 qs[32]        */
    [MW_DTYPE_Q8_1]     = {"Q8_1",     32,  36,   9,  NULL}, /* f16 d, s; i8 qs[32]     */
    [MW_DTYPE_Q2_K]     = {"Q2_K",    256,  84,  10,  NULL},
    [MW_DTYPE_Q3_K]     = {"Q3_K",    256, 110,  11,  NULL},
    [MW_DTYPE_Q4_K]     = {"Q4_K",    256, 144,  12,  NULL},
    [MW_DTYPE_Q5_K]     = {"Q5_K",    256, 176,  13,  NULL},
    [MW_DTYPE_Q6_K]     = {"Q6_K",    256, 210,  14,  NULL},
    [MW_DTYPE_Q8_K]     = {"Q8_K",    256, 292,  15,  NULL}, /* f32 d; i8 qs[256]; i16 bsums[16] */
    [MW_DTYPE_IQ2_XXS]  = {"IQ2_XXS", 256,  66,  16,  NULL},
    [MW_DTYPE_IQ2_XS]   = {"IQ2_XS",  256,  74,  17,  NULL},
    [MW_DTYPE_IQ3_XXS]  = {"IQ3_XXS", 256,  98,  18,  NULL},
    [MW_DTYPE_IQ1_S]    = {"IQ1_S",   256,  50,  19,  NULL},
    [MW_DTYPE_IQ4_NL]   = {"IQ4_NL",   32,  18,  20,  NULL},
    [MW_DTYPE_IQ3_S]    = {"IQ3_S",   256, 110,  21,  NULL},
    [MW_DTYPE_IQ2_S]    = {"IQ2_S",   256,  82,  22,  NULL},
    [MW_DTYPE_IQ4_XS]   = {"IQ4_XS",  256, 136,  23,  NULL},
    [MW_DTYPE_IQ1_M]    = {"IQ1_M",   256,  56,  29,  NULL},
    [MW_DTYPE_TQ1_0]    = {"TQ1_0",   256,  54,  34,  NULL},
    [MW_DTYPE_TQ2_0]    = {"TQ2_0",   256,  66,  35,  NULL},
    [MW_DTYPE_MXFP4]    = {"MXFP4",    32,  17,  39,  NULL}, /* u8 e; u8 qs[16]         */
    [MW_DTYPE_I8]       = {"I8",        1,   1,  24,  "I8"},
    [MW_DTYPE_I16]      = {"I16",       1,   2,  25,  "I16"},
    [MW_DTYPE_I32]      = {"I32",       1,   4,  26,  "I32"},
    [MW_DTYPE_I64]      = {"I64",       1,   8,  27,  "I64"},
    [MW_DTYPE_U8]       = {"U8",        1,   1,  -1,  "U8"},
    [MW_DTYPE_U16]      = {"U16",       1,   2,  -1,  "U16"},
    [MW_DTYPE_U32]      = {"U32",       1,   4,  -1,  "U32"},
    [MW_DTYPE_U64]      = {"U64",       1,   8,  -1,  "U64"},
    [MW_DTYPE_BOOL]     = {"BOOL",      1,   1,  -1,  "BOOL"},
    [MW_DTYPE_F8_E4M3]  = {"F8_E4M3",   1,   1,  -1,  "F8_E4M3"},
    [MW_DTYPE_F8_E5M2]  = {"F8_E5M2",   1,   1,  -1,  "F8_E5M2"},
    /* issue #14, sparse: memwall's own types (docs/SPARSE.md), GGUF ids
     * 4096.. that ggml does not know. _SU rows are sized by keep (bytes 0
     * here: mw_sparse_row_bytes); _S24 blocks of 64 inputs keep 32 values. */
    [MW_DTYPE_F32_SU]   = {"F32_SU",   64,   0, 4096, NULL}, /* u64 mask[k/64]; f32 v[keep] */
    [MW_DTYPE_F16_SU]   = {"F16_SU",   64,   0, 4097, NULL}, /* u64 mask[k/64]; f16 v[keep] */
    [MW_DTYPE_Q8_SU]    = {"Q8_SU",    64,   0, 4098, NULL}, /* mask; f16 d[k/64]; i8 v[keep] */
    [MW_DTYPE_F32_S24]  = {"F32_S24",  64, 136, 4099, NULL}, /* u8 idx[8]; f32 v[32]        */
    [MW_DTYPE_F16_S24]  = {"F16_S24",  64,  72, 4100, NULL}, /* u8 idx[8]; f16 v[32]        */
    [MW_DTYPE_Q8_S24]   = {"Q8_S24",   64,  42, 4101, NULL}, /* f16 d; u8 idx[8]; i8 v[32]  */
    [MW_DTYPE_Q8_SUK]   = {"Q8_SUK",  256,   0, 4102, NULL}, /* mask; f32 d[k/256]; u8 w+128[keep] */
};

const mw_dtype_info *mw_dtype_get(mw_dtype t)
{
    return (unsigned)t < MW_DTYPE_COUNT ? &types[t] : NULL;
}

mw_status mw_dtype_from_name(const char *name, mw_dtype *out, mw_err *err)
{
    for (int i = 0; i < MW_DTYPE_COUNT; i++) {
        if (!strcasecmp(name, types[i].name)) {
            *out = (mw_dtype)i;
            return MW_OK;
        }
    }
    return mw_err_set(err, MW_ERR_INVALID,
                      "unknown type \"%s\" (known: f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, "
                      "q2_k..q8_k, iq*, i8..i64, u8..u64, bool, f8_e4m3, f8_e5m2)", name);
}

mw_status mw_dtype_from_ggml(uint32_t ggml_id, mw_dtype *out, mw_err *err)
{
    for (int i = 0; i < MW_DTYPE_COUNT; i++) {
        if (types[i].ggml_id >= 0 && (uint32_t)types[i].ggml_id == ggml_id) {
            *out = (mw_dtype)i;
            return MW_OK;
        }
    }
    return mw_err_set(err, MW_ERR_UNSUPPORTED,
                      "unknown ggml tensor type %u (a newer or removed type: 4, 5 and 31-33, 36-38 "
                      "are retired in ggml; update memwall for newer ones)", ggml_id);
}

uint64_t mw_dtype_bytes(mw_dtype t, uint64_t n_elems)
{
    const mw_dtype_info *d = mw_dtype_get(t);
    if (!d || d->block_bytes == 0 || n_elems % d->block_elems != 0) return MW_UNKNOWN;
    uint64_t blocks = n_elems / d->block_elems;
    if (blocks > (UINT64_MAX - 1) / d->block_bytes) return MW_UNKNOWN;
    return blocks * d->block_bytes;
}

double mw_dtype_bits(mw_dtype t)
{
    const mw_dtype_info *d = mw_dtype_get(t);
    return d ? 8.0 * d->block_bytes / d->block_elems : 0;
}

/* ---- issue #14, sparse: memwall's sparse types (docs/SPARSE.md) ---------- */

int mw_dtype_is_sparse(mw_dtype t)
{
    return (t >= MW_DTYPE_F32_SU && t <= MW_DTYPE_Q8_S24) || t == MW_DTYPE_Q8_SUK;
}

int mw_sparse_is_24(mw_dtype t) { return t >= MW_DTYPE_F32_S24 && t <= MW_DTYPE_Q8_S24; }

mw_dtype mw_sparse_type(mw_dtype base, int two_four)
{
    switch (base) {
    case MW_DTYPE_F32:  return two_four ? MW_DTYPE_F32_S24 : MW_DTYPE_F32_SU;
    case MW_DTYPE_F16:  return two_four ? MW_DTYPE_F16_S24 : MW_DTYPE_F16_SU;
    case MW_DTYPE_Q8_0: return two_four ? MW_DTYPE_Q8_S24 : MW_DTYPE_Q8_SU;
    default:            return MW_DTYPE_COUNT;
    }
}

mw_dtype mw_sparse_base(mw_dtype t)
{
    switch (t) {
    case MW_DTYPE_F32_SU: case MW_DTYPE_F32_S24: return MW_DTYPE_F32;
    case MW_DTYPE_F16_SU: case MW_DTYPE_F16_S24: return MW_DTYPE_F16;
    case MW_DTYPE_Q8_SU:  case MW_DTYPE_Q8_S24:  return MW_DTYPE_Q8_0;
    case MW_DTYPE_Q8_SUK:                        return MW_DTYPE_Q8_0;
    default:              return MW_DTYPE_COUNT;
    }
}

uint32_t mw_sparse_keep_q16(double ratio)
{
    if (!(ratio > 0)) return 65536; /* also NaN: keep everything */
    if (ratio >= 1) return 0;
    return (uint32_t)((1.0 - ratio) * 65536.0 + 0.5);
}

int64_t mw_sparse_row_keep(int64_t k, uint32_t keep_q16)
{
    if (k <= 0) return 0;
    if (keep_q16 >= 65536) return k;
    /* k < 2^47 keeps the product inside 64 bits */
    if (k >= ((int64_t)1 << 47)) return -1;
    int64_t keep = (int64_t)(((uint64_t)k * keep_q16 + 32768) >> 16);
    return keep > k ? k : keep;
}

uint64_t mw_sparse_row_bytes(mw_dtype t, int64_t k, int64_t keep)
{
    if (!mw_dtype_is_sparse(t) || k <= 0 || k % MW_SPARSE_BLOCK != 0) return 0;
    if (t == MW_DTYPE_Q8_SUK && k % 256 != 0) return 0;
    uint64_t blocks = (uint64_t)k / MW_SPARSE_BLOCK;
    if (mw_sparse_is_24(t)) return blocks * types[t].block_bytes;
    if (keep < 0 || keep > k) return 0;
    uint64_t masks = 8 * blocks, kk = (uint64_t)keep;
    switch (t) {
    case MW_DTYPE_F32_SU: return masks + 4 * kk;
    case MW_DTYPE_F16_SU: return masks + 2 * kk;
    case MW_DTYPE_Q8_SUK: return masks + 4 * (blocks / 4) + kk; /* f32 d per 256 */
    default:              return masks + 2 * blocks + kk; /* Q8_SU */
    }
}
