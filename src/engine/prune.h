/*
 * prune.h - which weights a pruned model keeps (issue #14), and the
 * calibration statistics that Wanda's score needs.
 *
 * Scores (docs/REMEDIES.md, "Pruning"):
 *   magnitude   s_ij = |W_ij|
 *   Wanda       s_ij = |W_ij| · ‖X_j‖₂      (Sun, Liu, Bair, Kolter, "A Simple
 *               and Effective Pruning Approach for Large Language Models",
 *               arXiv:2306.11695, ICLR 2024: the score, and the comparison
 *               group "per output": each row of W [out, in] is pruned on its
 *               own, never against other rows)
 * where ‖X_j‖₂ is the l2 norm, over every calibration token, of input
 * feature j of the matrix (mw_calib_collect).
 *
 * Masks are what sparse layouts pack (src/engine/sparse.h's keep_mask):
 * (k + 63) / 64 words, bit j % 64 of word j / 64 set = w[j] kept; bits past
 * k are 0. The sparse layouts need k to be a multiple of 64 (whole words per
 * row); the mask itself does not, and 2:4 needs only groups of 4.
 */
#ifndef MW_ENGINE_PRUNE_H
#define MW_ENGINE_PRUNE_H

#include "memwall.h"

typedef enum { MW_PRUNE_NONE, MW_PRUNE_RATIO, MW_PRUNE_2_4 } mw_prune_kind;

/*! mw_prune_row_mask() : the keep-mask of one output row w[0..k).
 *  col_norm NULL: score |w_j| (magnitude); else |w_j| · col_norm[j] (Wanda).
 *  MW_PRUNE_NONE: every value kept (keep ignored).
 *  MW_PRUNE_RATIO: exactly `keep` values kept (clamped to [0, k]): those of
 *    largest score, ties broken by the lower index. A NaN score counts as
 *    smaller than any other (-0 and +0 are equal). Exact selection by radix
 *    select on the scores' ordered bit patterns: 4 counting passes of 256
 *    buckets and one marking pass, O(k), no allocation: the counters, and
 *    the keys of a row of up to 16384 values, are on the stack (64 KiB);
 *    a wider row recomputes its keys in each pass (slower, same result).
 *  MW_PRUNE_2_4: in each group of 4 consecutive inputs (along the row, i.e.
 *    the input dimension) the 2 largest scores are kept (ties: lower index);
 *    keep is ignored. A trailing partial group (k % 4 != 0, which the 2:4
 *    sparse layouts refuse) keeps its min(2, size) largest.
 *  mask: (k + 63) / 64 words, written whole. */
void mw_prune_row_mask(const float *w, const float *col_norm, int64_t k, mw_prune_kind kind, int64_t keep,
                       uint64_t *mask);

/* ---- calibration (Wanda) ------------------------------------------------- */

typedef struct mw_calib mw_calib;

/* The most calibration tokens used: 128 sequences of 2048 tokens, Wanda's
 * own calibration set (github.com/locuslab/wanda main.py: --nsamples
 * default 128, model.seqlen = 2048; the paper's C4 samples). Tokens past it
 * are not fed (the text past it costs only its tokenization). */
#define MW_CALIB_MAX_TOKENS (128ull * 2048ull)

/*! mw_calib_collect() : runs the model at model_path (a GGUF file with a
 *  vocabulary) over text (NUL-terminated, UTF-8), tokenized with the file's
 *  own vocabulary, in windows of n_ctx tokens (0: 512, or the model's
 *  context length when less), each from position 0 in a fresh KV cache (f16)
 *  and beginning with BOS when the vocabulary adds one; every text token is
 *  fed once, at most MW_CALIB_MAX_TOKENS tokens in all. For every linear
 *  weight (blk.N.attn_q/attn_k/attn_v/attn_output/ffn_gate/ffn_up/ffn_down
 *  .weight, and output.weight when the file has its own) it accumulates
 *  Σ x_j² over all fed tokens of the rows that multiply it, then the
 *  norms. n_threads <= 0: the online CPUs. Cost: one forward pass over the
 *  tokens (with every token's logits), about a prefill of the same length.
 *  The demo model (no vocabulary), an empty text, or a text of no tokens is
 *  an error. */
mw_status mw_calib_collect(const char *model_path, const char *text, uint32_t n_ctx, int n_threads,
                           mw_calib **out, mw_err *err);
/* The same with another token cap (1 .. MW_CALIB_MAX_TOKENS). */
mw_status mw_calib_collect_n(const char *model_path, const char *text, uint32_t n_ctx, int n_threads,
                             uint64_t max_tokens, mw_calib **out, mw_err *err);

/*! mw_calib_col_norms() : ‖x_j‖₂ over all calibration tokens of input
 *  column j of the named GGUF weight (e.g. "blk.0.ffn_down.weight"), *k its
 *  columns (may be NULL); NULL when the tensor has none (not a linear weight,
 *  or output tied to token_embd.weight). Owned by c. */
const float *mw_calib_col_norms(const mw_calib *c, const char *tensor_name, int64_t *k);
/* Tokens fed (BOS included), and windows run. */
uint64_t mw_calib_tokens(const mw_calib *c);
uint64_t mw_calib_windows(const mw_calib *c);
void mw_calib_free(mw_calib *c);

#endif /* MW_ENGINE_PRUNE_H */
