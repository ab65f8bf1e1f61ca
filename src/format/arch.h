/*
 * arch.h - the tensors an architecture implies from its hyperparameters.
 *
 * For a config.json without weights (and for presets), the tensor list is
 * synthesized with the real checkpoints' names and shapes, so parameter
 * counts and weight bytes come from the same sum as for a weights file.
 * The counts are exact for the reference models (tests/unit/test_arch.c):
 * Llama-2-7B 6,738,415,616; Llama-3-8B 8,030,261,248; Mistral-7B-v0.1
 * 7,241,732,096; GPT-2 small 124,439,808.
 */
#ifndef MW_FORMAT_ARCH_H
#define MW_FORMAT_ARCH_H

#include "memwall.h"

/* 1 when arch (hp->arch) is one memwall knows. */
int mw_arch_supported(const char *arch);
/* "llama, mistral, ..." for messages. */
const char *mw_arch_list(void);

/*! mw_arch_add_tensors() : adds the tensors of hp->arch to m (offset 0,
 *  file 0) with its Hugging Face checkpoint names and PyTorch shapes (arch.c
 *  lists them). Matrices are of type dtype; 1-D tensors (norms, biases) too
 *  when dtype is F32, F16 or BF16, else F32 (as llama.cpp keeps them when it
 *  quantizes). A quantized dtype whose block does not divide a row, missing
 *  sizes, or a model of more than 2^20 tensors are MW_ERR_INVALID naming the
 *  tensor or the size; an unknown arch is MW_ERR_UNSUPPORTED. On error m
 *  holds the tensors added so far: free it. */
mw_status mw_arch_add_tensors(const mw_hparams *hp, mw_dtype dtype, mw_model *m, mw_err *err);

/* MoE (issue #13): whether layer i routes to experts (else its MLP is dense,
 * n_ff wide): deepseek's first_k_dense_replace and moe_layer_freq, qwen's
 * mlp_only_layers and decoder_sparse_step; every layer of mixtral; none of
 * a dense model. */
int mw_arch_layer_is_moe(const mw_hparams *hp, uint32_t i);
/* How many layers do. */
uint32_t mw_arch_moe_layers(const mw_hparams *hp);

#endif /* MW_FORMAT_ARCH_H */
