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
