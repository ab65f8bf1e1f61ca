/*
 * training.c - what a training step holds per device: weights, gradients,
 * optimizer state (ZeRO, arXiv 1910.02054 §3.1, §5) and activations
 * (Korthikanti et al. 2022, arXiv 2205.05198, Table 2).
 */
#include "plan/plan_internal.h"

static uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

void mw_plan_training(const mw_hparams *hp, uint64_t params, const mw_plan_opts *o,
                      uint64_t *weights, uint64_t *grads, uint64_t *optim, uint64_t *act)
{
    /* Bytes per parameter. Mixed precision keeps 16-bit weights and
     * gradients and an fp32 master copy with the optimizer state. */
    int mp = o->mixed_precision;
    double w = mp ? 2 : 4, g = mp ? 2 : 4, s = 0;
    switch (o->optimizer) {
    case MW_OPT_ADAMW:
    case MW_OPT_ADAM:         s = 8; break;   /* m and v, fp32               */
    case MW_OPT_ADAM_8BIT:    s = 2; break;   /* m and v, 1 byte each        */
    case MW_OPT_SGD_MOMENTUM: s = 4; break;   /* momentum buffer             */
    case MW_OPT_SGD:          s = 0; break;
    }
    if (mp) s += 4;                           /* fp32 master weights         */

    /* Tensor and pipeline parallelism split the parameters (embeddings and
     * the output layer are split by tp in Megatron; pp puts L/pp layers on
     * a stage); ZeRO then splits state over the dp ranks. */
    uint64_t p_dev = ceil_div(params, (uint64_t)o->tp * o->pp);
    uint64_t n = o->dp;
    double ws = o->zero >= 3 ? w / (double)n : w;
    double gs = o->zero >= 2 ? g / (double)n : g;
    double ss = o->zero >= 1 ? s / (double)n : s;
    *weights = (uint64_t)((double)p_dev * ws + 0.5);
    *grads = (uint64_t)((double)p_dev * gs + 0.5);
    *optim = (uint64_t)((double)p_dev * ss + 0.5);

    /* Activations of one layer for micro-batch b, sequence s_len, hidden h,
     * heads a, tensor parallel t, 16-bit (Korthikanti Table 2):
     *   none       s·b·h·(10 + 24/t + 5·a·s/(h·t)); with flash attention
 *              s·b·h·(10 + 24/t)
     *   selective  s·b·h·34/t
     *   full       s·b·h·2   (only the layer's input is kept)
     * With 1F1B pipelining the first stage holds pp micro-batches of L/pp
     * layers: L layers' worth. fp32 training doubles the bytes. */
    double sb = (double)o->ctx * o->batch;
    double h = hp->n_embd, a = hp->n_heads, t = o->tp;
    double per_layer;
    switch (o->recompute) {
    case MW_RECOMPUTE_FULL:      per_layer = sb * h * 2; break;
    case MW_RECOMPUTE_SELECTIVE: per_layer = sb * h * 34 / t; break;
    default:
        /* flash attention (issue #13) holds no a·s² scores or softmax or
         * dropout mask: the 5·a·s/(h·t) term goes, leaving 10 + 24/t (34 at
         * t = 1, EleutherAI's transformer math: sbhL(34 + 5as/h) unfused) */
        per_layer = sb * h * (10 + 24 / t + (o->flash_attn == MW_FLASH_ATTN_ON ? 0 : 5 * a * o->ctx / (h * t)));
        break;
    }
    /* The output layer and the loss on the last stage (Megatron):
     * 4·s·b·h·(1 + v/h), the vocabulary split by t. */
    double out = 4 * sb * (h + (double)hp->n_vocab / t);
    double total = per_layer * hp->n_layers + out;
    if (!mp) total *= 2;
    *act = (uint64_t)(total + 0.5);
}

/* LoRA: the base is frozen (no gradients, no optimizer state) and held in
 * its stored, --dtype or NF4 type; only the adapters train. Their state, in
 * bytes per adapter parameter a = B(adapter type) (f32 by default: PEFT's
 * get_peft_model upcasts fp16/bf16 adapters to fp32, autocast_adapter_dtype
 * = True; bf16 under QLoRA, as qlora.py casts them): weights a, gradients
 * a, optimizer as below with no separate fp32 master copy (the adapters are
 * the parameters the optimizer steps). Adam/AdamW: m and v in fp32, 8 B
 * (torch AdamW over fp32 adapters; bitsandbytes' paged_adamw_32bit under
 * QLoRA). tp x pp split base and adapters alike; ZeRO shards the adapters'
 * optimizer state (1), gradients (2) and both weights (3) over dp.
 *
 * Activations: the frozen layers still pass gradients back to the adapters
 * of the layers below, so the backward needs the same saved tensors as full
 * fine-tuning (Korthikanti et al. Table 2, as mw_plan_training): a frozen
 * weight removes its own gradient, not the activations around it. (PyTorch
 * need not keep the input of a linear whose weight is frozen and that has
 * no adapter: for such a layer this is an upper bound.) Each adapter adds
 * its own x*A [tokens, r] at the activations' type, for every layer unless
 * full recompute keeps only the layer inputs; PEFT's default lora_dropout
 * is 0 (nn.Identity), so no dropped copy of x is kept. */
void mw_plan_lora_training(const mw_hparams *hp, uint64_t base_bytes, const mw_lora_count *c,
                           const mw_plan_opts *o, uint64_t *base, uint64_t *adapter, uint64_t *grads,
                           uint64_t *optim, uint64_t *act, uint64_t *adapter_act)
{
    uint64_t w_unused, g_unused, s_unused;
    mw_plan_training(hp, 0, o, &w_unused, &g_unused, &s_unused, act);
    mw_dtype at = o->lora_dtype != MW_DTYPE_COUNT ? o->lora_dtype : o->qlora ? MW_DTYPE_BF16 : MW_DTYPE_F32;
    double a = mw_dtype_bits(at) / 8, s = 0;
    switch (o->optimizer) {
    case MW_OPT_ADAMW:
    case MW_OPT_ADAM:         s = 8; break;   /* m and v, fp32               */
    case MW_OPT_ADAM_8BIT:    s = 2; break;   /* m and v, 1 byte each        */
    case MW_OPT_SGD_MOMENTUM: s = a; break;   /* momentum, the adapters' type */
    case MW_OPT_SGD:          s = 0; break;
    }
    const uint64_t split = (uint64_t)o->tp * o->pp, n = o->dp;
    uint64_t p_dev = ceil_div(c->trainable, split);
    uint64_t b_dev = ceil_div(base_bytes, split);
    *base = o->zero >= 3 ? ceil_div(b_dev, n) : b_dev;
    *adapter = (uint64_t)((double)p_dev * (o->zero >= 3 ? a / (double)n : a) + 0.5);
    *grads = (uint64_t)((double)p_dev * (o->zero >= 2 ? a / (double)n : a) + 0.5);
    *optim = (uint64_t)((double)p_dev * (o->zero >= 1 ? s / (double)n : s) + 0.5);
    double layers = o->recompute == MW_RECOMPUTE_FULL ? 1 : hp->n_layers; /* 1F1B: L layers' worth */
    double ab = o->mixed_precision ? 2 : 4;
    double xa = (double)o->ctx * o->batch * o->lora_rank * c->act_modules_per_layer * layers * ab;
    *adapter_act = (uint64_t)(xa + 0.5);
    *act += *adapter_act;
}
