/* fuzz_tokenizer.c - libFuzzer target for the tokenizer (src/format/
 * tokenizer.c). The first byte picks the mode; the rest is the input.
 *   even: encode the input with a fixed vocabulary (<unk> <s> </s>, the 256
 *         byte tokens, merges of known scores); when it is valid UTF-8 with
 *         no U+2581, decode must give it back exactly.
 *   odd:  the input up to its first NUL is a vocabulary (pieces split at
 *         '\n', scores from their bytes, types from the mode byte's bits),
 *         what follows it a text: build, encode, decode; errors are fine,
 *         crashes, leaks and out-of-range ids are not.
 * Seeds: fuzz/corpus/tokenizer/. */
#include "format/tokenizer.h"

#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SP "\xe2\x96\x81"
static const char *const PIECES[] = {SP, "h", "e", "l", "o", "he", "ll", "llo", "hello", SP "hello", SP "w",
                                     "or", "ld", "orld", SP "world", SP "t", SP "the", "\xe4\xb8\xad"};
#define N_PIECES (sizeof PIECES / sizeof PIECES[0])

static mw_tokenizer *fixed;

static mw_tokenizer *fixed_vocab(void)
{
    static mw_tok_str toks[259 + N_PIECES];
    static float scores[259 + N_PIECES];
    static int32_t types[259 + N_PIECES];
    static char names[256][8];
    toks[0] = (mw_tok_str){"<unk>", 5}, types[0] = 2;
    toks[1] = (mw_tok_str){"<s>", 3}, types[1] = 3;
    toks[2] = (mw_tok_str){"</s>", 4}, types[2] = 3;
    for (int b = 0; b < 256; b++) {
        snprintf(names[b], sizeof names[b], "<0x%02X>", b);
        toks[3 + b] = (mw_tok_str){names[b], 6}, types[3 + b] = 6;
    }
    for (size_t i = 0; i < N_PIECES; i++) {
        toks[259 + i] = (mw_tok_str){PIECES[i], strlen(PIECES[i])};
        scores[259 + i] = -(float)(i % 5);   /* ties on purpose */
        types[259 + i] = 1;
    }
    mw_tok_spec s;
    mw_tok_spec_init(&s);
    s.model = "llama", s.model_len = 5;
    s.tokens = toks, s.n_tokens = 259 + N_PIECES;
    s.scores = scores, s.n_scores = s.n_tokens;
    s.types = types, s.n_types = s.n_tokens;
    mw_tokenizer *t = NULL;
    mw_err err;
    if (mw_tokenizer_build(&s, "fuzz", &t, &err) != MW_OK) __builtin_trap();
    return t;
}

static int has_space_mark(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 3 <= n; i++)
        if (!memcmp(p + i, SP, 3)) return 1;
    return 0;
}

static void run(const mw_tokenizer *t, const uint8_t *text, size_t n, int bos, int must_round_trip)
{
    uint32_t *ids = NULL;
    size_t n_ids = 0, len = 0;
    mw_err err;
    if (mw_tokenizer_encode(t, (const char *)text, n, bos, &ids, &n_ids, &err) != MW_OK) return;
    for (size_t i = 0; i < n_ids; i++)
        if (ids[i] >= mw_tokenizer_vocab_size(t)) __builtin_trap();
    char *back = NULL;
    if (mw_tokenizer_decode(t, ids, n_ids, &back, &len, &err) != MW_OK) __builtin_trap();
    if (must_round_trip && (len != n || memcmp(back, text, n))) __builtin_trap();
    mw_free(back);
    mw_free(ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    uint8_t mode = data[0];
    data++, size--;
    if (!(mode & 1)) {
        if (!fixed) fixed = fixed_vocab();
        run(fixed, data, size, mode & 2, !has_space_mark(data, size));
        return 0;
    }
    const uint8_t *nul = memchr(data, 0, size);
    size_t vlen = nul ? (size_t)(nul - data) : size;
    mw_tok_str toks[256];
    float scores[256];
    int32_t types[256];
    size_t n = 0;
    for (size_t i = 0, start = 0; i <= vlen && n < 256; i++)
        if (i == vlen || data[i] == '\n') {
            toks[n] = (mw_tok_str){(const char *)data + start, i - start};
            scores[n] = i > start ? (float)(int8_t)data[start] : 0.0f;
            types[n] = (int32_t)((mode >> 1) + n) % 8;   /* 7: refused */
            n++;
            start = i + 1;
        }
    mw_tok_spec s;
    mw_tok_spec_init(&s);
    s.model = "llama", s.model_len = 5;
    s.tokens = toks, s.n_tokens = n;
    s.scores = scores, s.n_scores = n;
    if (mode & 0x80) s.types = types, s.n_types = n;
    s.unk = (mode & 0x40) ? (int64_t)(mode & 0x0f) : -1;
    mw_tokenizer *t = NULL;
    mw_err err;
    if (mw_tokenizer_build(&s, "fuzz", &t, &err) != MW_OK) return 0;
    if (nul) run(t, nul + 1, size - vlen - 1, mode & 2, 0);
    mw_tokenizer_free(t);
    return 0;
}
