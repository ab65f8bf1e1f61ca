/*
 * llama.h - a llama-family decoder bound to its weights, and its forward
 * pass over a KV cache.
 *
 * Weights come from a GGUF file (mapped, zero-copy; or read into memory
 * with no_mmap) or from the built-in demo model (generated from a fixed
 * seed). Every byte the engine allocates goes through the counting
 * allocator with its tag: MW_MEM_WEIGHTS, MW_MEM_KV_CACHE,
 * MW_MEM_ACTIVATIONS, MW_MEM_SCRATCH.
 */
#ifndef MW_ENGINE_LLAMA_H
#define MW_ENGINE_LLAMA_H

#include "memwall.h"
#include "engine/threadpool.h"

/* A weight matrix W [rows, cols] (cols contiguous), or a vector (rows 1). */
typedef struct mw_weight {
    const void *data;
    mw_dtype type;
    int64_t rows, cols;
    int64_t keep;                    /* issue #14, sparse: values kept per
                                        row (sparse types; 0 otherwise)  */
} mw_weight;

typedef struct mw_llama_layer {
    mw_weight attn_norm;             /* [h] F32                        */
    mw_weight wq;                    /* [a*d, h]                       */
    mw_weight wk, wv;                /* [a_kv*d, h]                    */
    mw_weight wo;                    /* [h, a*d]                       */
    mw_weight ffn_norm;              /* [h] F32                        */
    mw_weight w_gate, w_up;          /* [f, h]                         */
    mw_weight w_down;                /* [h, f]                         */
} mw_llama_layer;

typedef struct mw_llama {
    mw_hparams hp;
    uint32_t n_rot;                  /* rotary dimensions per head     */
    float eps, rope_theta;
    mw_weight token_embd;            /* [v, h]                         */
    mw_weight output_norm;           /* [h] F32                        */
    mw_weight output;                /* [v, h]; token_embd when tied   */
    mw_llama_layer *layers;          /* n_layers                       */
    uint64_t weights_bytes;          /* Σ of the tensors' bytes        */
    uint64_t n_params;               /* Σ of the tensors' elements     */
    int mapped;                      /* weights are mapped from a file */
    mw_model *model;                 /* keeps a file's mapping alive   */
    char *path;                      /* the file (a built-in name's
                                        resolved); NULL for the demo   */
    void **owned;                    /* allocated tensors (no_mmap, demo) */
    uint32_t n_owned;
    /* issue #15, paging under a memory budget (mw_llama_load_budget): the
     * layers from split.resident_layers on have data NULL; the forward pass
     * gets them from stream (engine/stream.h) */
    struct mw_stream *stream;        /* NULL: every layer resident     */
    mw_budget_split split;
} mw_llama;

/*! mw_llama_load() : path is a GGUF file or MW_DEMO_MODEL. Checks the
 *  architecture, every tensor's presence, shape and type, naming the tensor
 *  or key at fault. pool (may be NULL) speeds up the demo's generation. */
mw_status mw_llama_load(const char *path, int no_mmap, int mlock, mw_pool *pool,
                        mw_llama **out, mw_err *err);
void mw_llama_free(mw_llama *m);

/*! mw_llama_load_budget() : issue #15, a GGUF file under a memory budget
 *  (docs/PAGING.md): the split of mw_plan_budget_split; the resident
 *  tensors read (pread) into MW_MEM_WEIGHTS buffers, nothing mapped; the
 *  other layers streamed by a reader running prefetch layers ahead (0: 2). */
mw_status mw_llama_load_budget(const char *path, uint64_t budget, uint32_t prefetch, mw_stream_io io,
                               mw_pool *pool, mw_llama **out, mw_err *err);

/* The demo model with its matrices in type dtype (F32, F16, BF16, Q8_0,
 * Q4_0); mw_llama_load(MW_DEMO_MODEL) is this with F16. */
mw_status mw_llama_load_demo(mw_dtype dtype, int mlock, mw_pool *pool, mw_llama **out, mw_err *err);

/* The demo model's hyperparameters (12 layers, width 768, GQA 12/4 heads,
 * ffn 2048, vocabulary 32000, tied embeddings): about 100M parameters. */
void mw_llama_demo_hparams(mw_hparams *hp);

/* What mw_llama_load_demo(dtype) holds, without generating it: parameters
 * and weight bytes (matrices in dtype, norms F32, output tied). */
void mw_llama_demo_sizes(mw_dtype dtype, uint64_t *n_params, uint64_t *weights_bytes);

/*! mw_llama_write_hparams() : adds to w general.architecture "llama",
 *  general.name and the llama.* hyperparameters of hp that llama.cpp reads
 *  (context, widths, layers, heads, rope dimension and base, norm epsilon,
 *  vocabulary size). The demo's file and `memwall convert` use it.
 *  @return MW_OK, or the writer's status. */
struct mw_gguf_writer;
mw_status mw_llama_write_hparams(struct mw_gguf_writer *w, const mw_hparams *hp, const char *name, mw_err *err);

/*! mw_llama_write_vocab() : adds to w the minimal SentencePiece-style
 *  vocabulary (tokenizer.ggml.*) of n_vocab ids that llama.cpp needs to
 *  load a llama GGUF: <unk> <s> </s>, the 256 byte tokens <0xNN>, then
 *  filler pieces. The demo's file and tests/helpers/mw_gen_gguf.c use it.
 *  @return MW_OK, or the writer's status. */
struct mw_gguf_writer;
mw_status mw_llama_write_vocab(struct mw_gguf_writer *w, uint32_t n_vocab, mw_err *err);

/*! mw_llama_demo_value() : the demo's weight element i of tensor t, a
 *  deterministic function of (t, i): N(0, 0.02)-like for matrices. */
float mw_llama_demo_value(uint32_t tensor, uint64_t i);

/* ---- the forward pass -------------------------------------------------- */

typedef struct mw_kv_cache {
    mw_dtype type;                   /* F32, F16 or Q8_0               */
    uint32_t n_seqs, ctx;
    size_t row_bytes;                /* one token's K (or V) of a layer */
    uint8_t *k, *v;                  /* [layer][seq][ctx] rows         */
} mw_kv_cache;

mw_status mw_kv_cache_init(mw_kv_cache *kv, const mw_llama *m, mw_dtype type, uint32_t n_seqs,
                           uint32_t ctx, mw_err *err);
void mw_kv_cache_free(mw_kv_cache *kv);

/* A step's shape: n tokens (all sequences together) attending to at most
 * S positions. */
typedef struct mw_step_shape {
    int64_t n, S;
} mw_step_shape;

/* The buffers of one step, laid out in one arena by liveness - the order of
 * births and deaths of plan/inference.c's walk, placed first-fit - and
 * sized once for the largest of the run's step shapes. */
typedef struct mw_forward {
    const mw_llama *m;
    mw_kv_cache *kv;
    mw_pool *pool;
    int64_t max_tokens, max_seqs;
    uint8_t *arena;                  /* MW_MEM_ACTIVATIONS             */
    size_t arena_bytes;
    void *xq;                        /* MW_MEM_SCRATCH: prepared rows  */
    size_t xq_bytes;
    /* issue #14, pruning calibration (engine/calib.c): when set (after
     * mw_forward_init, which clears it), every product y = x·Wᵀ first calls
     * on_matmul(on_matmul_ctx, &W, x, m) with its m input rows x [m, W.cols]
     * (f32, before any quantization of x). NULL: no call, no cost. */
    void (*on_matmul)(void *ctx, const mw_weight *w, const float *x, int64_t m);
    void *on_matmul_ctx;
} mw_forward;

/*! mw_forward_init() : shapes are the step shapes the run will use (its
 *  prefill and decode steps); max_seqs the batch. */
mw_status mw_forward_init(mw_forward *f, const mw_llama *m, mw_kv_cache *kv, mw_pool *pool,
                          const mw_step_shape *shapes, int n_shapes, int64_t max_seqs, mw_err *err);
void mw_forward_free(mw_forward *f);

/* The arena bytes the liveness layout needs for one step shape. */
size_t mw_forward_arena_bytes(const mw_llama *m, mw_step_shape shape, int64_t n_seqs);

/*! mw_forward_step() : processes n tokens: tokens[i] of sequence seq[i] at
 *  position pos[i] (each sequence's positions ascending and contiguous with
 *  its cache). For each sequence s with last[s] >= 0, logits[s * vocab ...]
 *  receive the logits of token index last[s]. */
mw_status mw_forward_step(mw_forward *f, int64_t n, const int32_t *tokens, const int32_t *seq,
                          const int32_t *pos, const int32_t *last, float *logits, mw_err *err);

/*! mw_forward_step_rows() : the step of mw_forward_step (one sequence or
 *  several), with the logits of every token index from..n-1 instead of each
 *  sequence's last: logits[(i - from) * vocab ...] for token i. The rows go
 *  straight from the final norm to logits (the caller's [n - from, vocab]
 *  buffer): the arena needs nothing more than mw_forward_step's. */
mw_status mw_forward_step_rows(mw_forward *f, int64_t n, const int32_t *tokens, const int32_t *seq,
                               const int32_t *pos, int64_t from, float *logits, mw_err *err);

#endif /* MW_ENGINE_LLAMA_H */
