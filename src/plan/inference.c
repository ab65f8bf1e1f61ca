/*
 * inference.c - what an inference run holds: weights, the KV cache, and the
 * activations of one step found by walking one layer's ops in order and
 * keeping the sum of the tensors alive at each point (the way a graph
 * allocator with liveness, such as ggml-alloc, reuses buffers).
 */
#include "plan/plan_internal.h"
#include "common/error.h"
#include "format/arch.h"

#include <math.h>
#include <string.h>

static int is_float(mw_dtype t)
{
    return t == MW_DTYPE_F32 || t == MW_DTYPE_F16 || t == MW_DTYPE_BF16 || t == MW_DTYPE_F64;
}

static uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

static double decode_kv_read(const mw_hparams *hp, const mw_plan_opts *o, uint64_t kv_per_token);

mw_status mw_plan_weights(const mw_model *m, const mw_plan_opts *o, uint64_t *bytes, mw_err *err)
{
    uint64_t total = 0;
    if (o->weight_scheme.kind != MW_SCHEME_NONE) {
        /* a downloaded format (quant_scheme.c): each tensor its own type */
        MW_FORWARD(mw_weight_scheme_model_bytes(&o->weight_scheme, m, &total, err));
    } else if (o->weight_dtype == MW_DTYPE_COUNT) {
        total = m->weights_bytes;
    } else {
        MW_RETURN_IF(m->n_tensors == 0, err, MW_ERR_INVALID, "the model lists no tensors to convert");
        for (uint32_t i = 0; i < m->n_tensors; i++) {
            const mw_tensor_info *t = &m->tensors[i];
            /* As llama.cpp quantizes: matrices take the type; vectors (norms,
             * biases) stay F32 unless the target is a float type. A row that
             * is not a whole number of blocks falls back to F16. */
            mw_dtype d = o->weight_dtype;
            if (t->n_dims < 2 && !is_float(d)) d = MW_DTYPE_F32;
            uint64_t b = mw_dtype_bytes(d, t->n_elems);
            if (b == MW_UNKNOWN || (t->n_dims >= 1 && t->shape[t->n_dims - 1] %
                                    mw_dtype_get(d)->block_elems != 0))
                b = mw_dtype_bytes(MW_DTYPE_F16, t->n_elems);
            total += b;
        }
    }
    *bytes = ceil_div(total, (uint64_t)o->tp * o->pp);
    return MW_OK;
}

/* ---- MoE and MLA (issue #13; docs/PLAN.md "MoE and MLA") ---- */

static int is_mla(const mw_hparams *hp) { return hp->kv_lora_rank > 0; }

/* A routed expert's FFN width: moe_intermediate_size, or n_ff (mixtral). */
static uint64_t ff_expert(const mw_hparams *hp)
{
    return hp->n_ff_expert ? hp->n_ff_expert : hp->n_ff;
}

/* The attention matrices of one layer, in elements. MLA (DeepSeek-V2
 * paper, arXiv 2405.04434, section 2.1.2): W_DQ [q_r, h] and W_UQ
 * [a(d_nope + d_rope), q_r] (or one W_Q [a(d_nope + d_rope), h]),
 * W_DKV plus W_KR [kv_r + d_rope, h], W_UK and W_UV [a(d_nope + d_v), kv_r],
 * W_O [h, a d_v]. Decoding with the up-projections absorbed into the query
 * and the output (as vLLM's and FlashMLA's MLA decode does) multiplies
 * each of these once per token, as the unabsorbed form does. */
static double attn_matrices(const mw_hparams *hp)
{
    const double h = hp->n_embd, a = hp->n_heads;
    if (!is_mla(hp)) return 2 * h * a * hp->head_dim + 2 * h * (double)hp->n_kv_heads * hp->head_dim;
    const double qk = a * ((double)hp->qk_nope_dim + hp->qk_rope_dim);
    const double q = hp->q_lora_rank ? h * hp->q_lora_rank + (double)hp->q_lora_rank * qk : h * qk;
    const double kv = h * ((double)hp->kv_lora_rank + hp->qk_rope_dim) +
                      (double)hp->kv_lora_rank * a * ((double)hp->qk_nope_dim + hp->v_head_dim);
    return q + kv + h * a * hp->v_head_dim;
}

/* FLOPs per attended position per token: QK^T and A.V, 2 each per
 * multiply-add. MLA decodes over the cached latent: scores over
 * kv_r + d_rope values, the weighted sum over kv_r, per head. */
static double attn_flops_per_position(const mw_hparams *hp)
{
    const double a = hp->n_heads;
    if (!is_mla(hp)) return 4 * a * hp->head_dim;
    return 2 * a * ((double)hp->kv_lora_rank + hp->qk_rope_dim) + 2 * a * hp->kv_lora_rank;
}

void mw_plan_decode_step(const mw_hparams *hp, const mw_plan_opts *o, uint64_t weights_bytes,
                         uint64_t kv_per_token, mw_dtype weight_type, double *bytes, double *flops)
{
    const double B = o->batch, devices = (double)o->tp * o->pp;
    const double L = hp->n_layers, h = hp->n_embd, v = hp->n_vocab;
    /* positions attended, on average over the generation: prompt + 1 .. ctx */
    const double pos = o->gen ? o->prompt + (o->gen + 1) / 2.0 : o->prompt;
    const double attn_w = attn_matrices(hp);                         /* q, k, v, o (or MLA's) */
    const double m = hp->gated_ffn ? 3 : 2;
    const double dense_ffn = m * h * (double)hp->n_ff;
    double moe_layers = 0, experts = 1, used = 1, read = 1;
    double expert_w = 0, shared_w = 0, router_w = 0;
    if (hp->n_experts > 1) {
        moe_layers = mw_arch_moe_layers(hp);
        experts = hp->n_experts;
        used = hp->n_experts_used ? hp->n_experts_used : 1;
        read = fmin(experts, B * used);                              /* routed to by some sequence */
        expert_w = m * h * (double)ff_expert(hp);
        shared_w = m * h * (double)hp->n_ff_shared;                  /* always read and used */
        router_w = h * experts;
    }
    const double dense_layers = L - moe_layers;
    /* weights each token multiplies */
    const double per_token = L * attn_w + dense_layers * dense_ffn +
                             moe_layers * (expert_w * used + shared_w + router_w) + v * h;
    *flops = (2 * B * per_token + B * L * attn_flops_per_position(hp) * pos) / devices;

    double w = (double)weights_bytes;
    /* the experts nobody is routed to stay unread: their share of the matrices */
    const double matrices = L * attn_w + dense_layers * dense_ffn +
                            moe_layers * (expert_w * experts + shared_w + router_w) +
                            v * h * (hp->tied_embeddings ? 1 : 2);
    if (moe_layers > 0) w -= w * (moe_layers * expert_w * experts / matrices) * (1 - read / experts);
    /* an untied embedding table is read a row per sequence, not whole */
    uint64_t emb = mw_dtype_bytes(weight_type, (uint64_t)hp->n_vocab * hp->n_embd);
    if (!hp->tied_embeddings && emb != MW_UNKNOWN && (double)emb / devices < w) w -= (double)emb / devices;
    *bytes = w + B * (hp->sliding_window ? decode_kv_read(hp, o, kv_per_token)
                                          : pos * (double)kv_per_token);
}

/* MLA caches one latent per token per layer: kv_lora_rank compressed
 * values plus the qk_rope_head_dim decoupled rotary key, shared by every
 * head (DeepSeek-V2 paper, section 2.1.2: (d_c + d_h^R) l elements per
 * token). vLLM (MLACommonBackend: head size kv_lora_rank +
 * qk_rope_head_dim, one KV head) and SGLang store exactly this; memwall
 * models the same. Tensor parallelism does not split it (one "head": each
 * rank holds the whole latent); pipeline stages split the layers. */
static mw_status kv_per_token_mla(const mw_hparams *hp, const mw_plan_opts *o, uint64_t *bytes,
                                  mw_err *err)
{
    uint64_t layers = ceil_div(hp->n_layers, o->pp);
    uint64_t row = (uint64_t)hp->kv_lora_rank + hp->qk_rope_dim;
    uint64_t row_bytes = mw_dtype_bytes(o->kv_dtype, row);
    MW_RETURN_IF(row_bytes == MW_UNKNOWN, err, MW_ERR_INVALID,
                 "KV cache type %s needs rows in blocks of %u; this model's latent rows "
                 "(kv_lora_rank + qk_rope_head_dim) have %llu values",
                 mw_dtype_get(o->kv_dtype)->name, mw_dtype_get(o->kv_dtype)->block_elems,
                 (unsigned long long)row);
    *bytes = layers * row_bytes;
    return MW_OK;
}

mw_status mw_plan_kv_per_token(const mw_hparams *hp, const mw_plan_opts *o, uint64_t *bytes,
                               mw_err *err)
{
    if (is_mla(hp)) return kv_per_token_mla(hp, o, bytes, err);
    /* 2 (K and V) x layers x kv heads x head dim, per device: layers split
     * over pp, kv heads over tp (replicated when fewer heads than ranks). */
    uint64_t layers = ceil_div(hp->n_layers, o->pp);
    uint64_t heads = hp->n_kv_heads >= o->tp ? ceil_div(hp->n_kv_heads, o->tp) : 1;
    uint64_t row = heads * hp->head_dim;
    uint64_t row_bytes = mw_dtype_bytes(o->kv_dtype, row);
    MW_RETURN_IF(row_bytes == MW_UNKNOWN, err, MW_ERR_INVALID,
                 "KV cache type %s needs rows in blocks of %u; this model's rows have %llu values",
                 mw_dtype_get(o->kv_dtype)->name, mw_dtype_get(o->kv_dtype)->block_elems,
                 (unsigned long long)row);
    *bytes = 2 * layers * row_bytes;
    return MW_OK;
}

/* ---- Sliding-window layers (issue #13; docs/PLAN.md, "Sliding-window
 * layers"). A local layer attends to the last sliding_window tokens only, so a
 * runtime keeps only those: llama.cpp's llama_kv_cache_iswa (a cache for
 * the SWA layers sized to the window, another for the rest), vLLM's
 * SlidingWindowManager (blocks outside the window are freed). ---- */

uint32_t mw_plan_layer_window(const mw_hparams *hp, uint32_t layer)
{
    if (!hp->sliding_window) return 0;
    if (hp->swa_period && (layer + 1) % hp->swa_period == 0) return 0;
    return hp->sliding_window;
}

uint32_t mw_plan_sliding_layers(const mw_hparams *hp)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < hp->n_layers; i++) n += mw_plan_layer_window(hp, i) != 0;
    return n;
}

/* Tokens layer i holds at a context of ctx. */
static uint64_t layer_tokens(const mw_hparams *hp, uint32_t layer, uint64_t ctx)
{
    uint32_t w = mw_plan_layer_window(hp, layer);
    return w && w < ctx ? w : ctx;
}

mw_status mw_plan_kv_bytes(const mw_hparams *hp, const mw_plan_opts *o, uint64_t ctx,
                           uint64_t batch, uint64_t *bytes, mw_err *err)
{
    uint64_t per_token = 0;
    MW_FORWARD(mw_plan_kv_per_token(hp, o, &per_token, err));
    /* one layer's K and V of one token, per device (kv heads over tp) */
    uint64_t layers = ceil_div(hp->n_layers, o->pp);
    uint64_t per_layer = per_token / layers;
    /* pp: stages of `layers` consecutive layers; the fullest one counts */
    uint64_t worst = 0;
    for (uint32_t first = 0; first < hp->n_layers; first += (uint32_t)layers) {
        uint64_t stage = 0;
        for (uint32_t i = first; i < hp->n_layers && i < first + layers; i++)
            stage += per_layer * layer_tokens(hp, i, ctx);
        if (stage > worst) worst = stage;
    }
    *bytes = worst * batch;
    return MW_OK;
}

/* Σ over p = a..b of min(p, w) (w = 0: no window). */
static double sum_min(double a, double b, double w)
{
    if (b < a) return 0;
    if (w == 0 || b <= w) return (a + b) * (b - a + 1) / 2;
    if (a >= w) return w * (b - a + 1);
    return (a + w) * (w - a + 1) / 2 + w * (b - w);
}

/* KV bytes one decode step of one sequence reads, per device, on average
 * over the generation: each layer to its mean position, a local layer no
 * further back than its window. */
static double decode_kv_read(const mw_hparams *hp, const mw_plan_opts *o, uint64_t kv_per_token)
{
    uint64_t layers = ceil_div(hp->n_layers, o->pp);
    double per_layer = (double)kv_per_token / (double)layers, sum = 0;
    for (uint32_t i = 0; i < layers && i < hp->n_layers; i++) {
        double w = mw_plan_layer_window(hp, i);
        double tokens = o->gen ? sum_min(o->prompt + 1.0, (double)o->prompt + o->gen, w) / o->gen
                               : (w && w < o->prompt ? w : o->prompt);
        sum += per_layer * tokens;
    }
    return sum;
}

/* The live set of a walk. */
typedef struct walk {
    uint64_t live, peak;
} walk;

static void birth(walk *w, uint64_t bytes)
{
    w->live += bytes;
    if (w->live > w->peak) w->peak = w->live;
}

static void death(walk *w, uint64_t bytes) { w->live -= bytes; }

/* Attention's working set beside q for b sequences of T tokens attending to
 * S positions over `heads` heads, e bytes per activation:
 * - unfused: the scores [b, a, T, S], softmax in place (ggml's soft_max,
 *   memwall's engine); transformers' eager attention also makes a float32
 *   softmax and casts it back (modeling_llama.py eager_attention_forward:
 *   softmax(..., dtype=torch.float32).to(query.dtype)): 2e + 4 bytes per
 *   score while the three are alive;
 * - flash: FlashAttention-2 (Dao 2023, arXiv 2307.08691, §3.1 Algorithm 1
 *   and §3.3: blocks of Br x Bc from {64, 128} x {64, 128}) never writes the
 *   scores; memwall counts, per sequence and head, one tile of at most
 *   128 x 128 scores in f32 (on a GPU it sits in on-chip memory: an upper
 *   bound) and the softmax statistics m and l [b, a, T] in f32. */
#define FLASH_TILE 128u

static uint64_t attn_scores_bytes(const mw_plan_opts *o, uint64_t b, uint64_t heads, uint64_t T, uint64_t S,
                                  uint64_t e)
{
    if (o->flash_attn == MW_FLASH_ATTN_ON) {
        uint64_t br = T < FLASH_TILE ? T : FLASH_TILE, bc = S < FLASH_TILE ? S : FLASH_TILE;
        return b * heads * br * bc * 4 + b * heads * T * 2 * 4;
    }
    uint64_t per = o->runtime == MW_RUNTIME_HF ? 2 * e + 4 : e;
    return b * heads * T * S * per;
}

/* One layer for b sequences of T new tokens attending to S positions.
 * Sizes in elements x e bytes; shapes in the comments, batch-major. */
static uint64_t layer_peak(const mw_hparams *hp, const mw_plan_opts *o, uint64_t b, uint64_t T,
                           uint64_t S, uint64_t *scores_out)
{
    uint64_t e = mw_dtype_get(o->act_dtype)->block_bytes;
    uint64_t tp = o->tp;
    uint64_t n = b * T;                                  /* tokens this step */
    uint64_t h = hp->n_embd;
    uint64_t q_dim = ceil_div((uint64_t)hp->n_heads * hp->head_dim, tp);
    uint64_t kv_dim = ceil_div((uint64_t)hp->n_kv_heads * hp->head_dim, tp);
    uint64_t v_dim = kv_dim, att_dim = q_dim;
    if (is_mla(hp)) {
        /* MLA: k [n, a(d_nope + d_rope)] and v [n, a d_v] from the latent */
        kv_dim = q_dim;
        v_dim = att_dim = ceil_div((uint64_t)hp->n_heads * hp->v_head_dim, tp);
    }
    uint64_t heads = ceil_div(hp->n_heads, tp);
    uint64_t f = ceil_div((uint64_t)hp->n_ff, tp);
    if (hp->n_experts) {
        /* k routed experts and the shared one(s) live together; a dense
         * layer (deepseek's first ones) may be wider */
        uint64_t fm = ceil_div(ff_expert(hp), tp) * (hp->n_experts_used ? hp->n_experts_used : 1) +
                      ceil_div(hp->n_ff_shared, tp);
        f = mw_arch_moe_layers(hp) < hp->n_layers && f > fm ? f : fm;
    }
    walk w = {0, 0};
    /* llama.cpp: the KQ mask [S, n], an input alive through the graph
     * (llama-graph.cpp build_attn_inp_kq_mask): f32, and for flash attention
     * its f16 copy alone at the peak. Measured: llama.cpp's compute buffer
     * grows by 4 B (unfused) and 2 B (flash) per cell per ubatch token
     * (tests/llamacpp/plan_runtime.sh, docs/PLAN.md) */
    if (o->runtime == MW_RUNTIME_LLAMA_CPP) birth(&w, S * n * (o->flash_attn == MW_FLASH_ATTN_ON ? 2 : 4));

    uint64_t x = n * h * e;              /* x      [n, h]  the residual stream */
    birth(&w, x);
    uint64_t xn = n * h * e;             /* xn     [n, h]  norm(x)            */
    birth(&w, xn);
    uint64_t q = n * q_dim * e;          /* q      [n, a*d]                   */
    uint64_t k = n * kv_dim * e;         /* k, v   [n, a_kv*d] -> KV cache    */
    uint64_t vv = n * v_dim * e;
    birth(&w, q);
    birth(&w, k);
    birth(&w, vv);
    death(&w, xn);
    death(&w, k);                        /* copied into the cache             */
    death(&w, vv);
    uint64_t sc = attn_scores_bytes(o, b, heads, T, S, e); /* scores [b, a, T, S] or tiles */
    birth(&w, sc);
    death(&w, q);
    uint64_t att = n * att_dim * e;      /* attn   [n, a*d] = softmax . V      */
    birth(&w, att);
    death(&w, sc);
    uint64_t out = n * h * e;            /* o      [n, h]  attn . Wo; x += o   */
    birth(&w, out);
    death(&w, att);
    death(&w, out);
    birth(&w, xn);                       /* xn2    [n, h]                     */
    if (hp->n_experts) birth(&w, n * hp->n_experts * e); /* router logits [n, E] */
    uint64_t up = n * f * e;             /* up (and gate) [n, f x k]          */
    birth(&w, up);
    if (hp->gated_ffn) birth(&w, up);    /* silu(gate) * up, in place         */
    death(&w, xn);
    if (hp->n_experts) death(&w, n * hp->n_experts * e);
    if (hp->gated_ffn) death(&w, up);
    uint64_t down = n * h * e;           /* down   [n, h]; x += down          */
    birth(&w, down);
    death(&w, up);
    death(&w, down);
    *scores_out = sc;
    return w.peak;
}

/* After the last layer: the residual stream of the n tokens of the step,
 * the norm of the n_out positions whose logits are computed, and those
 * logits [n_out, v] (memwall, transformers: the last position of each
 * sequence; llama.cpp reserves its prompt graph with every token an output;
 * vLLM's profiling samples max_num_seqs). */
static uint64_t final_peak(const mw_hparams *hp, const mw_plan_opts *o, uint64_t n, uint64_t n_out,
                           uint64_t *logits_out)
{
    uint64_t e = mw_dtype_get(o->act_dtype)->block_bytes;
    uint64_t x = n * hp->n_embd * e;
    uint64_t xn = n_out * hp->n_embd * e;
    uint64_t logits = n_out * (uint64_t)hp->n_vocab * 4; /* f32, as samplers read them */
    *logits_out = logits;
    return x + xn + logits;
}

uint64_t mw_plan_scratch(const mw_hparams *hp, const mw_plan_opts *o, mw_dtype wt)
{
    uint64_t prompt = o->prompt ? o->prompt : 1;
    uint64_t step = prompt < o->ubatch ? prompt : o->ubatch;
    uint64_t n = (uint64_t)o->batch * step;              /* rows of the largest step */
    if (o->runtime == MW_RUNTIME_LLAMA_CPP)              /* its ubatch: all sequences' */
        n = (uint64_t)o->batch * prompt < o->ubatch ? (uint64_t)o->batch * prompt : o->ubatch;
    uint64_t k = hp->n_embd;                             /* the widest input row */
    uint64_t q_dim = (uint64_t)hp->n_heads * hp->head_dim;
    if (q_dim > k) k = q_dim;
    if (hp->n_ff > k) k = hp->n_ff;
    /* memwall's sparse types take x as their values' dense type does */
    if (mw_dtype_is_sparse(wt))  /* (Q8_SUK takes x in Q8_K, as the K-quants) */
        wt = wt == MW_DTYPE_Q8_SUK ? MW_DTYPE_Q4_K : mw_sparse_base(wt);
    switch (wt) {
    case MW_DTYPE_Q8_0: case MW_DTYPE_Q4_0: case MW_DTYPE_Q5_0: {
        uint64_t b = mw_dtype_bytes(MW_DTYPE_Q8_0, k);
        return b == MW_UNKNOWN ? 0 : n * b;
    }
    /* issue #14: Q4_1 / Q5_1 take x in Q8_1 (with block sums, as llama.cpp): 36 bytes per 32 */
    case MW_DTYPE_Q4_1: case MW_DTYPE_Q5_1: {
        uint64_t b = mw_dtype_bytes(MW_DTYPE_Q8_1, k);
        return b == MW_UNKNOWN ? 0 : n * b;
    }
    /* the K-quants take x in Q8_K (as llama.cpp): 292 bytes per 256 */
    case MW_DTYPE_Q4_K: case MW_DTYPE_Q5_K: case MW_DTYPE_Q6_K: {
        uint64_t b = mw_dtype_bytes(MW_DTYPE_Q8_K, k);
        return b == MW_UNKNOWN ? 0 : n * b;
    }
    case MW_DTYPE_F16: case MW_DTYPE_BF16: return n * k * 2;
    default: return 0;
    }
}

void mw_plan_inference_activations(const mw_hparams *hp, const mw_plan_opts *o,
                                   uint64_t *peak, uint64_t *layer, uint64_t *scores,
                                   uint64_t *logits)
{
    uint64_t b = o->batch;
    uint64_t prompt = o->prompt ? o->prompt : 1;
    /* The prompt is processed in steps of at most ubatch tokens; the last
     * step attends to the whole prompt. */
    uint64_t step = prompt < o->ubatch ? prompt : o->ubatch;
    uint64_t sc_p, sc_d, lg, lg_p;
    if (o->runtime == MW_RUNTIME_VLLM) {
        /* vLLM sizes activations by its profiling run (gpu_model_runner.py
         * profile_run): one step of max_num_batched_tokens (ubatch) tokens,
         * then a sampler run over the logits of max_num_seqs sequences in
         * f32 (its OpenAI server's defaults on a GPU of 70 GB or more: 8192
         * tokens and 1024 sequences, vllm/engine/arg_utils.py
         * get_batch_defaults); they are its peak, not held */
        uint64_t n_seqs = b > 1024 ? b : 1024;
        if (n_seqs > o->ubatch) n_seqs = o->ubatch > b ? o->ubatch : b;
        uint64_t lp = layer_peak(hp, o, 1, o->ubatch, o->ubatch, &sc_p);
        uint64_t fp = final_peak(hp, o, o->ubatch, n_seqs, &lg);
        *layer = lp;
        *scores = sc_p;
        *logits = lg;
        *peak = lp > fp ? lp : fp;
        return;
    }
    /* llama.cpp reserves its graphs for a full cache: every step attends
     * to all its cells, the sequences' together (llama_context's reserve:
     * memory->init_full()) */
    uint64_t s_pre = prompt, s_dec = o->ctx;
    if (o->runtime == MW_RUNTIME_LLAMA_CPP) s_pre = s_dec = mw_plan_kv_cells(o);
    /* llama.cpp's n_ubatch counts the tokens of a step over all sequences
     * together, not per sequence: its prefill step is min(b · prompt,
     * ubatch) tokens attending to the whole cache */
    uint64_t pb = b, pt = step;
    if (o->runtime == MW_RUNTIME_LLAMA_CPP) {
        pb = 1;
        pt = b * prompt < o->ubatch ? b * prompt : o->ubatch;
    }
    uint64_t lp = layer_peak(hp, o, pb, pt, s_pre, &sc_p);           /* last prefill step */
    uint64_t ld = layer_peak(hp, o, b, 1, s_dec, &sc_d);             /* last decode step */
    /* llama.cpp reserves its compute buffer with the prompt graph's every
     * token an output (src/llama-context.cpp: graph_reserve(n_tokens,
     * n_seqs, n_tokens, ...)): logits [pb · pt, v] f32 */
    uint64_t fp = final_peak(hp, o, pb * pt, o->runtime == MW_RUNTIME_LLAMA_CPP ? pt : b, &lg_p);
    uint64_t fd = final_peak(hp, o, b, b, &lg);
    *layer = lp > ld ? lp : ld;
    *scores = sc_p > sc_d ? sc_p : sc_d;
    *logits = lg_p > lg ? lg_p : lg;     /* the largest logits tensor */
    uint64_t p = *layer;
    if (fp > p) p = fp;
    if (fd > p) p = fd;
    /* and the output buffer the logits are copied to for the caller, held
     * across steps (llama.cpp's output buffer; the engine's result) */
    *peak = p + lg;
}
