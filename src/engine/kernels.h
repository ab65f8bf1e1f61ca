/*
 * kernels.h - the engine's numeric kernels, each with a scalar reference
 * (mw_kref_*) that the optimized path (mw_k_*) is tested against.
 *
 * Weights are rows of a matrix W [n, k] (GGUF/ggml order: k contiguous), in
 * any of F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K (and Q4_1, Q5_0,
 * Q5_1: end of file). Activations are f32. As llama.cpp does
 * on the CPU, a product with quantized weights first quantizes the
 * activation row, to Q8_0 (blocks of 32, f16 scale) for Q8_0 and Q4_0
 * weights and to Q8_K (blocks of 256, f32 scale, sums of each 16) for the
 * K-quants, and takes integer dot products;
 * F16 and BF16 weights take the activation rounded to the same type. The
 * references follow the same arithmetic in plain C, so the optimized paths
 * must agree with them to rounding (tests/unit/test_kernels.c).
 *
 * Shapes are given as [rows, cols], row-major, cols contiguous.
 */
#ifndef MW_ENGINE_KERNELS_H
#define MW_ENGINE_KERNELS_H

#include "memwall.h"

/* ---- scalar conversions (exact, round to nearest even): fp16.h --------- */
#include "engine/fp16.h"

/* ---- rows --------------------------------------------------------------- */
/* dst[k] = the values of one row of type t (k a multiple of the block). */
void mw_k_dequant_row(mw_dtype t, const void *src, float *dst, int64_t k);
/* Quantizes a row to Q8_0 / Q4_0 blocks as ggml does (the block layouts are
 * in src/format/dtype.c: f16 scale, then 32 int8 or 16 bytes of nibbles). */
void mw_k_quant_row_q8_0(const float *src, void *dst, int64_t k);
void mw_k_quant_row_q4_0(const float *src, void *dst, int64_t k);
/* Quantizes a row (k a multiple of 256) to the K-quants Q4_K / Q5_K / Q6_K
 * with a scale search like ggml's reference quantizers: per sub-block, the
 * scale (and min) of least weighted squared error (weights x^2 + mean x^2)
 * over 21 (Q6_K: 42) candidate scales around the naive one, each re-fitted
 * by weighted least squares; then the super-block scales and every weight
 * rounded with the stored scales (kernels.c, docs/ENGINE.md). */
void mw_k_quant_row_q4_k(const float *src, void *dst, int64_t k);
void mw_k_quant_row_q5_k(const float *src, void *dst, int64_t k);
void mw_k_quant_row_q6_k(const float *src, void *dst, int64_t k);
/* Q8_0 as llama.cpp's CPU backend quantizes activations and KV rows
 * (id = 127/amax, half to even), which mw_k_prepare_x uses; the function
 * above is ggml's reference quantizer for weights. */
void mw_k_quant_row_q8_0_act(const float *src, void *dst, int64_t k);
/* Q8_K as llama.cpp's CPU backend quantizes activations for K-quant
 * weights (k a multiple of 256; 292-byte blocks: f32 d, int8 qs[256], int16
 * bsums[16]; kernels.c says how it rounds). mw_k_dequant_row reads it. */
void mw_k_quant_row_q8_k(const float *src, void *dst, int64_t k);
/* Converts a row of f32 to F16 / BF16. */
void mw_k_row_to_f16(const float *src, uint16_t *dst, int64_t k);
void mw_k_row_to_bf16(const float *src, uint16_t *dst, int64_t k);

/* ---- matrix products ------------------------------------------------------
 * y[i, j] = Σ_k x[i, k] · W[j, k]   for i < m, j in [j0, j1)
 *   x  [m, k] f32, row stride k
 *   W  [n, k] of type wt, row stride mw_dtype_bytes(wt, k)
 *   y  [m, n] f32, row stride n
 * xq is caller scratch holding x converted for wt (Q8_0 blocks for Q8_0 and
 * Q4_0 weights, Q8_K blocks for Q4_K/Q5_K/Q6_K, F16 for F16, BF16 for BF16;
 * unused for F32; mw_k_prepare_x_bytes says how much), made by
 * mw_k_prepare_x once and shared by all threads; [j0, j1) lets threads split
 * the output columns. */
size_t mw_k_prepare_x_bytes(mw_dtype wt, int64_t m, int64_t k);
void   mw_k_prepare_x(mw_dtype wt, const float *x, int64_t m, int64_t k, void *xq);
void   mw_k_matmul(mw_dtype wt, const void *W, const float *x, const void *xq, float *y,
                   int64_t m, int64_t n, int64_t k, int64_t j0, int64_t j1);
void   mw_kref_matmul(mw_dtype wt, const void *W, const float *x, const void *xq, float *y,
                      int64_t m, int64_t n, int64_t k, int64_t j0, int64_t j1);
/* 1 when the engine can multiply by weights of type t. */
int    mw_k_supported(mw_dtype t);

/* ---- element-wise and row operations ------------------------------------ */
/* y = x / sqrt(mean(x^2) + eps) * w, over n values (y may alias x) */
void mw_k_rmsnorm(float *y, const float *x, const float *w, int64_t n, float eps);
void mw_kref_rmsnorm(float *y, const float *x, const float *w, int64_t n, float eps);
/* Rotary position embedding in place, llama.cpp's "normal" mode (GGUF llama
 * Q/K weights are permuted for it): pairs (x[2i], x[2i+1]) of each head are
 * rotated by pos * theta^(-2i/n_rot), for 2i < n_rot.
 *   x [n_heads, head_dim] */
void mw_k_rope(float *x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int64_t pos, float theta);
void mw_kref_rope(float *x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int64_t pos, float theta);
/* softmax in place over n values (max subtracted first) */
void mw_k_softmax(float *x, int64_t n);
void mw_kref_softmax(float *x, int64_t n);
/* g = silu(g) * u over n values */
void mw_k_silu_mul(float *g, const float *u, int64_t n);
void mw_kref_silu_mul(float *g, const float *u, int64_t n);
/* dot product of two f32 vectors (attention scores) */
float mw_k_dot_f32(const float *a, const float *b, int64_t n);
/* y += a * x over n values (attention: weighted sum of V rows) */
void mw_k_axpy(float *y, float a, const float *x, int64_t n);

/* ---- convert (issue #14): one f32 row to any type (quant_row.c) -------- */
/* Quantizes / converts src[k] (k a multiple of t's block) to type t, which
 * mw_k_quant_row_supported(t) says it can write; other types leave dst. */
void mw_k_quant_row(mw_dtype t, const float *src, void *dst, int64_t k);
int  mw_k_quant_row_supported(mw_dtype t);
/* ---- issue #14: Q4_1, Q5_0, Q5_1 ---------------------------------------------
 * ggml's reference quantizers for its blocks of 32 (layouts in kernels.c;
 * k a multiple of 32). mw_k_dequant_row and mw_k_matmul take these types;
 * their products quantize x to Q8_0 (Q5_0) or to Q8_1 (Q4_1, Q5_1), as
 * llama.cpp's CPU backend does. */
void mw_k_quant_row_q4_1(const float *src, void *dst, int64_t k);
void mw_k_quant_row_q5_0(const float *src, void *dst, int64_t k);
void mw_k_quant_row_q5_1(const float *src, void *dst, int64_t k);
/* Q8_1 as llama.cpp's CPU backend quantizes activations (36-byte blocks:
 * f16 d, f16 s = d * Σ q, int8 qs[32]; rounding as mw_k_quant_row_q8_0_act).
 * mw_k_dequant_row reads it. */
void mw_k_quant_row_q8_1_act(const float *src, void *dst, int64_t k);

#endif /* MW_ENGINE_KERNELS_H */
