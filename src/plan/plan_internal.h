/*
 * plan_internal.h - the planner's parts: inference (weights, KV cache, an
 * activation liveness walk) and training (gradients, optimizer state,
 * Korthikanti et al. activations), each a pure function. docs/PLAN.md gives
 * every formula with its source.
 */
#ifndef MW_PLAN_INTERNAL_H
#define MW_PLAN_INTERNAL_H

#include "memwall.h"

/* Weights per device: the stored bytes (or converted to opts->weight_dtype)
 * divided over tp x pp. */
mw_status mw_plan_weights(const mw_model *m, const mw_plan_opts *o, uint64_t *bytes, mw_err *err);

/* KV cache bytes of one token of one sequence, all layers, per device. */
mw_status mw_plan_kv_per_token(const mw_hparams *hp, const mw_plan_opts *o, uint64_t *bytes,
                               mw_err *err);

/* Sliding-window layers (issue #13): the window layer i keeps (0: a
 * global layer, which keeps the whole context), and how many layers of the
 * model are local. */
uint32_t mw_plan_layer_window(const mw_hparams *hp, uint32_t layer);
uint32_t mw_plan_sliding_layers(const mw_hparams *hp);

/* The KV cache of batch sequences of ctx tokens, per device: Σ over layers
 * of one token's bytes x min(ctx, the layer's window); with pp, the stage
 * holding the most. Without sliding layers: kv_per_token x ctx x batch. */
mw_status mw_plan_kv_bytes(const mw_hparams *hp, const mw_plan_opts *o, uint64_t ctx,
                           uint64_t batch, uint64_t *bytes, mw_err *err);

/* Inference activations: the per-step peak working set (max over prefill
 * and decode) from a liveness walk over one layer's ops, and the final
 * norm + logits; plus the output buffer of the logits [b, v] f32 held for
 * the caller across steps. */
void mw_plan_inference_activations(const mw_hparams *hp, const mw_plan_opts *o,
                                   uint64_t *peak, uint64_t *layer, uint64_t *scores,
                                   uint64_t *logits);

/* Scratch of a CPU runtime: the activation rows converted for the weights'
 * type before a matrix product (Q8_0 blocks for quantized weights, F16 or
 * BF16 values for those; nothing for F32), for the largest step. */
uint64_t mw_plan_scratch(const mw_hparams *hp, const mw_plan_opts *o, mw_dtype weight_type);

/* One decode step of the batch (inference), per device: the bytes it reads
 * (the weights once, only the experts some sequence is routed to, the
 * embedding table's own rows unless it is also the output matrix, and the
 * KV cache up to the mean position) and the FLOPs it does (2 per weight per
 * sequence, and attention's 4 per head dimension per attended position). */
void mw_plan_decode_step(const mw_hparams *hp, const mw_plan_opts *o, uint64_t weights_bytes,
                         uint64_t kv_per_token, mw_dtype weight_type, double *bytes, double *flops);

/* Training: weights, gradients, optimizer state and activations per device. */
void mw_plan_training(const mw_hparams *hp, uint64_t params, const mw_plan_opts *o,
                      uint64_t *weights, uint64_t *grads, uint64_t *optim, uint64_t *act);

/* LoRA / QLoRA (lora.c, docs/PLAN.md "Fine-tuning with adapters"): the
 * modules a target list picks over the model's tensors and what they add. */
typedef struct mw_lora_count {
    uint64_t trainable;              /* adapter parameters, as PEFT counts  */
    uint64_t modules;                /* adapted linears (experts each)      */
    double   act_modules_per_layer;  /* adapters a token passes per layer   */
    uint64_t qlora_base_bytes;       /* the whole base as QLoRA holds it    */
    int      default_targets;        /* the targets are PEFT's default      */
    int      outside_layers;         /* a target outside the layers (lm_head) */
    char     targets[128];           /* the list used                       */
} mw_lora_count;

/* PEFT's default targets for an architecture (NULL: none). */
const char *mw_lora_default_targets(const char *arch);
/* Bytes of n weights in NF4 with double quantization (bitsandbytes). */
uint64_t mw_lora_nf4_bytes(uint64_t n);
/* The targets of o (lora_targets, else QLoRA's all-linear, else PEFT's
 * default) over m's tensors; MW_ERR_INVALID naming a target the model does
 * not have and listing the linear modules it has. */
mw_status mw_plan_lora_count(const mw_model *m, const mw_plan_opts *o, mw_lora_count *c, mw_err *err);

/* LoRA training per device: the frozen base (base_bytes for the whole
 * model), the adapters' weights, gradients and optimizer state, and the
 * activations (full fine-tuning's, plus the adapters' x*A). */
void mw_plan_lora_training(const mw_hparams *hp, uint64_t base_bytes, const mw_lora_count *c,
                           const mw_plan_opts *o, uint64_t *base, uint64_t *adapter, uint64_t *grads,
                           uint64_t *optim, uint64_t *act, uint64_t *adapter_act);
/* --- attention and runtimes (runtime.c; docs/PLAN.md "Attention and
 * runtimes") --- */
/* The runtime's attention when o->flash_attn is DEFAULT. */
mw_flash_attn mw_plan_flash_default(const mw_plan_opts *o);
/* The runtime's prefill step (o->ubatch 0): llama.cpp and memwall 512,
 * vLLM 8192 (max_num_batched_tokens), hf the whole prompt. */
uint32_t mw_plan_ubatch_default(const mw_plan_opts *o);
/* KV tokens the runtime allocates for the batch (b · ctx, padded). */
uint64_t mw_plan_kv_cells(const mw_plan_opts *o);
/* Share of a device's memory the runtime may use (vLLM 0.9, else 1). */
double mw_plan_mem_share(const mw_plan_opts *o);
/* The runtime's overhead range, given the sum of the other components. */
void mw_plan_overhead_range(const mw_plan_opts *o, uint64_t sum, uint64_t *low, uint64_t *high);

/* --- paging under a memory budget (issue #15; budget.c, offload.c) --- */
/* A tensor's bytes as mw_plan_weights counts them without a scheme (stored,
 * or converted to o->weight_dtype with the same rule). */
uint64_t mw_plan_tensor_bytes(const mw_tensor_info *t, const mw_plan_opts *o);
/* The repeating layer a tensor belongs to by its name ("blk.N.",
 * "model.layers.N.", "transformer.h.N.", "gpt_neox.layers.N."); -1
 * outside the layers. */
long mw_plan_layer_of(const char *name);

#endif /* MW_PLAN_INTERNAL_H */
