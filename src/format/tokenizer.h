/*
 * tokenizer.h - the tokenizer (GGUF tokenizer.ggml.model "llama",
 * SentencePiece-style, or "gpt2", byte-level BPE) built from a vocabulary:
 * the public functions are in memwall.h; this is how the GGUF reader, the
 * tests and the fuzz target build one from arrays. Nothing in a spec is trusted: mw_tokenizer_build checks it all.
 */
#ifndef MW_FORMAT_TOKENIZER_H
#define MW_FORMAT_TOKENIZER_H

#include "memwall.h"

/* Limits: a vocabulary of at most this many tokens (the largest real ones
 * hold about 256 Ki), a piece of at most MW_TOK_MAX_PIECE bytes, a text of
 * at most MW_TOK_MAX_TEXT bytes to encode. */
#define MW_TOK_MAX_VOCAB (1u << 24)
#define MW_TOK_MAX_PIECE 65536u
#define MW_TOK_MAX_TEXT (1u << 30)

/* token_type values (llama.cpp's llama_token_type) */
enum {
    MW_TOK_UNDEFINED = 0, MW_TOK_NORMAL = 1, MW_TOK_UNKNOWN = 2, MW_TOK_CONTROL = 3,
    MW_TOK_USER_DEFINED = 4, MW_TOK_UNUSED = 5, MW_TOK_BYTE = 6
};

typedef struct mw_tok_str {
    const char *ptr;             /* need not end in a NUL */
    uint64_t len;
} mw_tok_str;

/* A vocabulary as a file states it. An absent array is NULL; its count
 * must then be 0. Ids: -1 when absent (the defaults are llama.cpp's: unk 0,
 * bos 1, eos 2 when the vocabulary is that large); flags: -1 when absent
 * (default: 1 for add_bos with "llama" or the llama3 pre-tokenizer, else 0;
 * 0 for add_eos; 1 for add_space_prefix with "llama"). */
typedef struct mw_tok_spec {
    const char *model;           /* tokenizer.ggml.model; NULL: absent */
    uint64_t model_len;
    const mw_tok_str *tokens;
    uint64_t n_tokens;
    const float *scores;
    uint64_t n_scores;
    const int32_t *types;
    uint64_t n_types;
    int64_t bos, eos, unk;
    int add_bos, add_eos, add_space_prefix;
    /* "gpt2" only: tokenizer.ggml.pre (NULL: absent, "default") and
     * tokenizer.ggml.merges ("A B", rank = index; NULL: absent) */
    const char *pre;
    uint64_t pre_len;
    const mw_tok_str *merges;
    uint64_t n_merges;
} mw_tok_spec;

/* A spec with every field absent. */
void mw_tok_spec_init(mw_tok_spec *s);

/*! mw_tokenizer_build() : checks spec and copies it into a tokenizer.
 *  `where` names the source in messages (a path). */
mw_status mw_tokenizer_build(const mw_tok_spec *spec, const char *where, mw_tokenizer **out, mw_err *err);

struct mw_gguf;
mw_status mw_tokenizer_from_gguf(const struct mw_gguf *g, const char *where, mw_tokenizer **out, mw_err *err);

#endif /* MW_FORMAT_TOKENIZER_H */
