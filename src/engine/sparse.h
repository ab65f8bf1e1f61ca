/*
 * sparse.h - memwall's sparse weight types (issue #14; layouts in
 * docs/SPARSE.md): packing, dequantization, validation and the matrix
 * product the engine runs on them directly.
 *
 * The type queries and sizes (mw_dtype_is_sparse, mw_sparse_type,
 * mw_sparse_base, mw_sparse_keep_q16, mw_sparse_row_keep,
 * mw_sparse_row_bytes) are public, in memwall.h (src/format/dtype.c): the
 * GGUF reader needs them to size tensors.
 *
 * Products take x prepared as for the dense base type: mw_k_prepare_x(
 * mw_sparse_base(wt), ...) - nothing for F32, x rounded to F16 for F16
 * (as dense F16 does), Q8_0 activation blocks of 32 for Q8 (each 64-input
 * block of weights uses two activation scales) - except Q8_SUK, which takes
 * x in Q8_K (blocks of 256, as the K-quants do): prepare x with
 * mw_k_prepare_x(mw_sparse_x_type(wt), ...) for every sparse type.
 */
#ifndef MW_ENGINE_SPARSE_H
#define MW_ENGINE_SPARSE_H

#include "memwall.h"

#include <string.h>

/* Unaligned little-endian loads from a packed row (sparse.c, sparse_x86.c). */
static inline uint64_t mw_sparse_ld64(const uint8_t *p) { uint64_t v; memcpy(&v, p, sizeof v); return v; }
static inline uint32_t mw_sparse_ld32(const uint8_t *p) { uint32_t v; memcpy(&v, p, sizeof v); return v; }
static inline uint16_t mw_sparse_ld16(const uint8_t *p) { uint16_t v; memcpy(&v, p, sizeof v); return v; }
static inline float    mw_sparse_ldf(const uint8_t *p)  { float v;    memcpy(&v, p, sizeof v); return v; }

/* Packs one row of k f32 weights (k a multiple of 64) into type t, keeping
 * the inputs whose bit is set in keep_mask (k/64 words; bit j%64 of word
 * j/64 keeps w[j]). Unstructured types store every kept value (the row's
 * keep is the popcount: the caller makes it the tensor's keep). 2:4 types
 * expect exactly 2 bits per group of 4: a group with more keeps its first
 * two set bits, one with fewer is filled up with its lowest clear positions
 * holding 0. Q8 types scale each 64-block by amax/127 of its kept values
 * and round to nearest (ggml's Q8_0 reference rounding); Q8_SUK scales each
 * 256 inputs so (k a multiple of 256) and stores the values plus 128. */
void mw_sparse_pack_row(mw_dtype t, const float *w, const uint64_t *keep_mask, int64_t k, void *dst);

/* dst[k] = the dense row (zeros where nothing is kept) of a row of type t
 * holding keep values (unstructured types; ignored for 2:4). The row must
 * be valid (mw_sparse_check_rows). Two 2:4 values at the same position add. */
void mw_sparse_dequant_row(mw_dtype t, const void *src, int64_t k, int64_t keep, float *dst);

/* Checks that every one of n rows of an unstructured tensor keeps exactly
 * keep values (Σ popcount(mask) == keep), so no kernel reads past a row;
 * MW_ERR_INVALID naming the tensor (name) and the first bad row. 2:4 rows
 * need no check (every 2-bit position stays inside its block). */
mw_status mw_sparse_check_rows(mw_dtype t, const void *W, int64_t n, int64_t k, int64_t keep,
                               const char *name, mw_err *err);

/* y[i, j] = Σ_k x[i, k] · W[j, k] for i < m, j in [j0, j1), W [n, k] of the
 * sparse type wt with rows of mw_sparse_row_bytes(wt, k, keep) bytes, x
 * [m, k] f32 and xq = mw_k_prepare_x(mw_sparse_x_type(wt), x). The AVX-512
 * path (AVX-512 with VBMI and BITALG) when the kernels run AVX-512, else
 * the reference. W must hold all n rows (the whole tensor): the AVX-512
 * path reads up to 64 bytes past a row's values with plain loads, except
 * in the rows at W's end (docs/SPARSE.md). */
void mw_k_matmul_sparse(mw_dtype wt, const void *W, int64_t keep, const float *x, const void *xq,
                        float *y, int64_t m, int64_t n, int64_t k, int64_t j0, int64_t j1);
/* The scalar reference of the same product. */
void mw_kref_matmul_sparse(mw_dtype wt, const void *W, int64_t keep, const float *x,
                           const void *xq, float *y, int64_t m, int64_t n, int64_t k, int64_t j0,
                           int64_t j1);
/* The weight type whose prepared x a product with the sparse type t takes
 * (pass it to mw_k_prepare_x / mw_k_prepare_x_bytes): mw_sparse_base(t),
 * but Q4_K (x in Q8_K blocks of 256) for Q8_SUK. */
mw_dtype mw_sparse_x_type(mw_dtype t);
/* 1 when mw_k_matmul_sparse runs its AVX-512 path now. */
int mw_k_sparse_simd(void);

/* internal: the AVX-512 path (sparse_x86.c) */
void mw_k_matmul_sparse_avx512(mw_dtype wt, const void *W, int64_t keep, const float *x,
                               const void *xq, float *y, int64_t m, int64_t n, int64_t k,
                               int64_t j0, int64_t j1);

#endif /* MW_ENGINE_SPARSE_H */
