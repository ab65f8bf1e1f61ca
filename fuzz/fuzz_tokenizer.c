/* fuzz_tokenizer.c - libFuzzer target for the tokenizer (src/format/
 * tokenizer.c). The first byte picks the mode; the rest is the input.
 *   even: encode the input with a fixed vocabulary: bit 2 clear, the
 *         SentencePiece one (<unk> <s> </s>, the 256 byte tokens, merges of
 *         known scores); bit 2 set, a byte-level BPE one (the 256 byte
 *         characters, merges, control and user-defined tokens) with the
 *         pre-tokenizer of bits 3-4. Bit 1 asks for BOS, bit 5 parses
 *         special tokens. When the text is valid UTF-8 (with no U+2581 for
 *         SentencePiece) and no control token was parsed, decode must give
 *         it back exactly.
 *   odd:  the input up to its first NUL is a vocabulary (pieces split at
 *         '\n', scores from their bytes, types from the mode byte's bits;
 *         with bit 5 a "gpt2" one whose merges are its pieces holding a
 *         space, pre-tokenizer from bits 2-3), what follows it a text:
 *         build, encode, decode; errors are fine, crashes, leaks and
 *         out-of-range ids are not.
 * Seeds: fuzz/corpus/tokenizer/. */
#include "format/tokenizer.h"
#include "format/pretok.h"

#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SP "\xe2\x96\x81"
static const char *const PIECES[] = {SP, "h", "e", "l", "o", "he", "ll", "llo", "hello", SP "hello", SP "w",
                                     "or", "ld", "orld", SP "world", SP "t", SP "the", "\xe4\xb8\xad"};
#define N_PIECES (sizeof PIECES / sizeof PIECES[0])

static mw_tokenizer *fixed, *fixed_bpe[4];
static const char *const PRE[4] = {"default", "gpt-2", "llama3", "qwen2"};

/* the 256 byte characters, merges of "he", "ll", "hello", "Ġworld", and
 * <|endoftext|> (control), <|im_start|> (control), <|im (user-defined) */
static const char *const BPE_MERGES[] = {"h e", "l l", "he ll", "hell o", "\xc4\xa0 w", "o r", "\xc4\xa0w or",
                                         "l d", "\xc4\xa0wor ld"};
static const char *const BPE_MORE[] = {"he", "ll", "hell", "hello", "\xc4\xa0w", "or", "\xc4\xa0wor", "ld",
                                       "\xc4\xa0world", "<|endoftext|>", "<|im_start|>", "<|im"};
#define N_BPE_MERGES (sizeof BPE_MERGES / sizeof BPE_MERGES[0])
#define N_BPE_MORE (sizeof BPE_MORE / sizeof BPE_MORE[0])

static mw_tokenizer *fixed_bpe_vocab(int pre)
{
    static mw_tok_str toks[256 + N_BPE_MORE], merges[N_BPE_MERGES];
    static int32_t types[256 + N_BPE_MORE];
    static char chars[256][3];
    for (unsigned b = 0; b < 256; b++) {
        int printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        unsigned c = b, k = 0;
        for (unsigned x = 0; !printable && x < b; x++)
            k += !((x >= 0x21 && x <= 0x7E) || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF));
        if (!printable) c = 256 + k;
        if (c < 0x80) chars[b][0] = (char)c;
        else chars[b][0] = (char)(0xC0 | (c >> 6)), chars[b][1] = (char)(0x80 | (c & 0x3F));
        toks[b] = (mw_tok_str){chars[b], strlen(chars[b])};
        types[b] = 1;
    }
    for (size_t i = 0; i < N_BPE_MORE; i++) {
        toks[256 + i] = (mw_tok_str){BPE_MORE[i], strlen(BPE_MORE[i])};
        types[256 + i] = i + 3 < N_BPE_MORE ? 1 : i + 1 < N_BPE_MORE ? 3 : 4;
    }
    for (size_t i = 0; i < N_BPE_MERGES; i++) merges[i] = (mw_tok_str){BPE_MERGES[i], strlen(BPE_MERGES[i])};
    mw_tok_spec s;
    mw_tok_spec_init(&s);
    s.model = "gpt2", s.model_len = 4;
    s.pre = PRE[pre], s.pre_len = strlen(PRE[pre]);
    s.tokens = toks, s.n_tokens = 256 + N_BPE_MORE;
    s.types = types, s.n_types = s.n_tokens;
    s.merges = merges, s.n_merges = N_BPE_MERGES;
    s.bos = s.eos = 256 + N_BPE_MORE - 3;
    mw_tokenizer *t = NULL;
    mw_err err;
    if (mw_tokenizer_build(&s, "fuzz", &t, &err) != MW_OK) __builtin_trap();
    return t;
}

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

static int contains(const uint8_t *p, size_t n, const char *s)
{
    size_t m = strlen(s);
    for (size_t i = 0; i + m <= n; i++)
        if (!memcmp(p + i, s, m)) return 1;
    return 0;
}

static void run(const mw_tokenizer *t, const uint8_t *text, size_t n, unsigned flags, int must_round_trip)
{
    uint32_t *ids = NULL;
    size_t n_ids = 0, len = 0;
    mw_err err;
    if (mw_tokenizer_encode(t, (const char *)text, n, flags, &ids, &n_ids, &err) != MW_OK) return;
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
    unsigned flags = (mode & 2 ? MW_TOK_ADD_BOS : 0u) | (mode & 0x20 ? MW_TOK_SPECIAL : 0u);
    if (!(mode & 1) && (mode & 4)) {
        int pre = (mode >> 3) & 3;
        if (!fixed_bpe[pre]) fixed_bpe[pre] = fixed_bpe_vocab(pre);
        int ctl = (flags & MW_TOK_SPECIAL) && (contains(data, size, "<|endoftext|>") ||
                                                contains(data, size, "<|im_start|>"));
        run(fixed_bpe[pre], data, size, flags & ~MW_TOK_ADD_BOS, !ctl);
        return 0;
    }
    if (!(mode & 1)) {
        if (!fixed) fixed = fixed_vocab();
        int ctl = (flags & MW_TOK_SPECIAL) && (contains(data, size, "<s>") || contains(data, size, "</s>") ||
                                                contains(data, size, "<unk>"));
        run(fixed, data, size, flags, !has_space_mark(data, size) && !ctl);
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
    mw_tok_str merges[256];
    if (mode & 0x20) {   /* "gpt2": the pieces holding a space are the merges too */
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (memchr(toks[i].ptr, ' ', (size_t)toks[i].len)) merges[k++] = toks[i];
        s.model = "gpt2", s.model_len = 4;
        s.pre = PRE[(mode >> 2) & 3], s.pre_len = strlen(s.pre);
        s.merges = merges, s.n_merges = k;
    }
    mw_tokenizer *t = NULL;
    mw_err err;
    if (mw_tokenizer_build(&s, "fuzz", &t, &err) != MW_OK) return 0;
    if (nul) run(t, nul + 1, size - vlen - 1, flags, 0);
    mw_tokenizer_free(t);
    return 0;
}
