/*
 * pretok.h - the pre-tokenizers of byte-level BPE vocabularies (GGUF
 * tokenizer.ggml.pre): they cut a text, as code points, into the words BPE
 * merges within. The regexes of llama.cpp's llm_tokenizer_bpe, matched by
 * hand over Unicode categories (unicode_tables.c); docs/TOKENIZER.md.
 */
#ifndef MW_FORMAT_PRETOK_H
#define MW_FORMAT_PRETOK_H

#include <stddef.h>
#include <stdint.h>

typedef enum mw_pretok {
    MW_PRETOK_DEFAULT = 0,   /* "default" or absent: four regexes in a chain */
    MW_PRETOK_GPT2,          /* "gpt-2": GPT-2's regex */
    MW_PRETOK_LLAMA3,        /* "llama3", "llama-v3", "llama-bpe" */
    MW_PRETOK_QWEN2,         /* "qwen2", "deepseek-r1-qwen" */
} mw_pretok;

/* The pre-tokenizer a tokenizer.ggml.pre value names; 0 when unknown. */
int mw_pretok_from_name(const char *name, size_t len, mw_pretok *out);
/* The names mw_pretok_from_name knows, for messages. */
extern const char mw_pretok_names[];

/* The general-category class of cp (MW_UC_*, unicode_tables.h). */
int mw_uc_class(uint32_t cp);
/* Whether cp is White_Space (the 25 code points of \s). */
int mw_uc_is_space(uint32_t cp);

/* Cuts cps[0..n) into words: ends[k] is the end (exclusive, in code
 * points) of word k, ascending, the last n. Returns the number of words.
 * ends and scratch must each hold n entries (every word is at least one
 * code point). */
size_t mw_pretok_split(mw_pretok p, const uint32_t *cps, size_t n, size_t *ends, size_t *scratch);

#endif /* MW_FORMAT_PRETOK_H */
