/*
 * demo_write.c - the demo model as a GGUF file that llama.cpp loads:
 * llama.* hyperparameters, a minimal SentencePiece-style vocabulary (3
 * control tokens, 256 byte tokens <0xNN>, filler pieces), and the weights
 * in GGUF order (dims reversed from PyTorch), output tied to token_embd.
 */
#include "engine/llama.h"
#include "engine/threadpool.h"
#include "format/gguf.h"
#include "common/error.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static mw_status add(mw_gguf_writer *w, const char *name, const mw_weight *t, mw_err *err)
{
    uint64_t dims[2] = {(uint64_t)t->cols, (uint64_t)t->rows};
    return mw_gguf_writer_add_tensor(w, name, t->type, t->rows == 1 ? 1 : 2, dims, t->data, err);
}

mw_status mw_llama_write_vocab(mw_gguf_writer *w, uint32_t n_vocab, mw_err *err)
{
    char **tokens = mw_calloc(n_vocab, sizeof *tokens, MW_MEM_OTHER);
    float *scores = mw_malloc(n_vocab * sizeof *scores, MW_MEM_OTHER);
    int32_t *types = mw_malloc(n_vocab * sizeof *types, MW_MEM_OTHER);
    mw_status st = tokens && scores && types ? MW_OK : mw_err_set(err, MW_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; st == MW_OK && i < n_vocab; i++) {
        char buf[32];
        /* token types: 1 normal, 2 unknown, 3 control, 6 byte */
        if (i == 0) { snprintf(buf, sizeof buf, "<unk>"); types[i] = 2; }
        else if (i == 1) { snprintf(buf, sizeof buf, "<s>"); types[i] = 3; }
        else if (i == 2) { snprintf(buf, sizeof buf, "</s>"); types[i] = 3; }
        else if (i < 3 + 256) { snprintf(buf, sizeof buf, "<0x%02X>", i - 3); types[i] = 6; }
        else { snprintf(buf, sizeof buf, "\xe2\x96\x81t%u", i); types[i] = 1; } /* "▁t<i>" */
        scores[i] = i < 3 + 256 ? 0.0f : -(float)i;
        tokens[i] = mw_strdup(buf, MW_MEM_OTHER);
        if (!tokens[i]) st = mw_err_set(err, MW_ERR_NOMEM, "out of memory");
    }
    if (st == MW_OK) st = mw_gguf_writer_set_str(w, "tokenizer.ggml.model", "llama", err);
    if (st == MW_OK) st = mw_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", (const char *const *)tokens, n_vocab, err);
    if (st == MW_OK) st = mw_gguf_writer_set_array(w, "tokenizer.ggml.scores", MW_GGUF_F32, scores, n_vocab, err);
    if (st == MW_OK) st = mw_gguf_writer_set_array(w, "tokenizer.ggml.token_type", MW_GGUF_I32, types, n_vocab, err);
    if (st == MW_OK) st = mw_gguf_writer_set_u32(w, "tokenizer.ggml.unknown_token_id", 0, err);
    if (st == MW_OK) st = mw_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 1, err);
    if (st == MW_OK) st = mw_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 2, err);
    if (tokens)
        for (uint32_t i = 0; i < n_vocab; i++) mw_free(tokens[i]);
    mw_free(tokens);
    mw_free(scores);
    mw_free(types);
    return st;
}

mw_status mw_llama_write_hparams(struct mw_gguf_writer *w, const mw_hparams *hp, const char *name, mw_err *err)
{
    mw_status st = MW_OK;
#define SET(fn, key, v) if (st == MW_OK) st = fn(w, key, v, err)
    SET(mw_gguf_writer_set_str, "general.architecture", "llama");
    SET(mw_gguf_writer_set_str, "general.name", name);
    SET(mw_gguf_writer_set_u32, "llama.context_length", hp->n_ctx_train);
    SET(mw_gguf_writer_set_u32, "llama.embedding_length", hp->n_embd);
    SET(mw_gguf_writer_set_u32, "llama.block_count", hp->n_layers);
    SET(mw_gguf_writer_set_u32, "llama.feed_forward_length", hp->n_ff);
    SET(mw_gguf_writer_set_u32, "llama.rope.dimension_count", hp->head_dim);
    SET(mw_gguf_writer_set_u32, "llama.attention.head_count", hp->n_heads);
    SET(mw_gguf_writer_set_u32, "llama.attention.head_count_kv", hp->n_kv_heads);
    SET(mw_gguf_writer_set_f32, "llama.attention.layer_norm_rms_epsilon", (float)hp->norm_eps);
    if (hp->rope_theta > 0) SET(mw_gguf_writer_set_f32, "llama.rope.freq_base", (float)hp->rope_theta);
    SET(mw_gguf_writer_set_u32, "llama.vocab_size", hp->n_vocab);
#undef SET
    return st;
}

mw_status mw_demo_write(const char *path, mw_dtype dtype, mw_err *err)
{
    mw_llama *m = NULL;
    /* the weights are made on every CPU: the K-quants' scale search costs
     * ~10x rounding (issue #14) */
    mw_pool *pool = NULL;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    MW_FORWARD(mw_pool_init(&pool, ncpu > 1 ? (int)(ncpu < 64 ? ncpu : 64) : 1, err));
    mw_status ls = mw_llama_load_demo(dtype, 0, pool, &m, err);
    mw_pool_free(pool);
    MW_FORWARD(ls);
    const mw_hparams *hp = &m->hp;
    mw_gguf_writer *w = NULL;
    mw_status st = mw_gguf_writer_init(&w, err);
    if (st == MW_OK) st = mw_llama_write_hparams(w, hp, "memwall demo", err);
    if (st == MW_OK) st = mw_llama_write_vocab(w, hp->n_vocab, err);
    if (st == MW_OK) st = add(w, "token_embd.weight", &m->token_embd, err);
    char name[64];
    for (uint32_t i = 0; st == MW_OK && i < hp->n_layers; i++) {
        const mw_llama_layer *l = &m->layers[i];
        struct { const char *suffix; const mw_weight *t; } ts[] = {
            {"attn_norm", &l->attn_norm}, {"attn_q", &l->wq}, {"attn_k", &l->wk}, {"attn_v", &l->wv},
            {"attn_output", &l->wo}, {"ffn_norm", &l->ffn_norm}, {"ffn_gate", &l->w_gate},
            {"ffn_up", &l->w_up}, {"ffn_down", &l->w_down},
        };
        for (size_t k = 0; st == MW_OK && k < sizeof ts / sizeof ts[0]; k++) {
            snprintf(name, sizeof name, "blk.%u.%s.weight", i, ts[k].suffix);
            st = add(w, name, ts[k].t, err);
        }
    }
    if (st == MW_OK) st = add(w, "output_norm.weight", &m->output_norm, err);
    if (st == MW_OK) st = mw_gguf_writer_write(w, path, err);
    mw_gguf_writer_free(w);
    mw_llama_free(m);
    return st;
}
