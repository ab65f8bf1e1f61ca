/*
 * test_tokenizer.c - the SentencePiece-style tokenizer (src/format/
 * tokenizer.c) over a hand-built vocabulary whose merges are worked out by
 * hand in the comments: encodings, byte fallback, the unknown token,
 * round trips, malformed vocabularies, malformed UTF-8, GGUF files and
 * allocation failures. Then byte-level BPE ("gpt2"): each pre-tokenizer's
 * words (pretok.c) on tricky texts, written by hand from the regexes,
 * merge ranks, GPT-2's byte mapping, special tokens and every bad input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "memwall.h"
#include "common/test_hooks.h"
#include "format/gguf.h"
#include "format/tokenizer.h"
#include "format/pretok.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "test_tmpdir.h"

MW_TEST_TMPDIR("tok")

#define OK(expr) do { mw_err err_; memset(&err_, 0, sizeof err_); mw_status s_ = (expr); \
    if (s_ != MW_OK) fail_msg("%s: %s", #expr, err_.msg); } while (0)
#define SP "\xe2\x96\x81"

/* ids: 0 <unk>, 1 <s>, 2 </s>, 3..258 <0x00>..<0xFF>, then PIECES from 259 */
#define BYTE(b) (3u + (b))
enum { P_SP = 259, P_H, P_E, P_L, P_O, P_W, P_R, P_D, P_T, P_HE, P_LL, P_LLO, P_HELLO, P_SPHELLO, P_SPW, P_OR,
       P_LD, P_ORLD, P_SPWORLD, P_SPT, P_SPTHE, P_END };
static const struct { const char *piece; float score; } PIECES[] = {
    {SP, -10}, {"h", -10}, {"e", -10}, {"l", -10}, {"o", -10}, {"w", -10}, {"r", -10}, {"d", -10},
    {"t", -10}, {"he", -3}, {"ll", -2}, {"llo", -1}, {"hello", -0.5f}, {SP "hello", -0.1f}, {SP "w", -4},
    {"or", -3}, {"ld", -3}, {"orld", -2.5f}, {SP "world", -0.2f}, {SP "t", -5}, {SP "the", -1},
};
#define N_VOCAB (259 + (int)(sizeof PIECES / sizeof PIECES[0]))

static mw_tok_str toks[N_VOCAB];
static float scores[N_VOCAB];
static int32_t types[N_VOCAB];
static char byte_names[256][8];

static void fill_spec(mw_tok_spec *s)
{
    toks[0] = (mw_tok_str){"<unk>", 5};
    toks[1] = (mw_tok_str){"<s>", 3};
    toks[2] = (mw_tok_str){"</s>", 4};
    types[0] = 2, types[1] = types[2] = 3;
    for (int b = 0; b < 256; b++) {
        snprintf(byte_names[b], sizeof byte_names[b], "<0x%02X>", b);
        toks[3 + b] = (mw_tok_str){byte_names[b], 6};
        types[3 + b] = 6;
    }
    for (int i = 0; i < N_VOCAB; i++) scores[i] = 0;
    for (size_t i = 0; i < sizeof PIECES / sizeof PIECES[0]; i++) {
        toks[259 + i] = (mw_tok_str){PIECES[i].piece, strlen(PIECES[i].piece)};
        scores[259 + i] = PIECES[i].score;
        types[259 + i] = 1;
    }
    mw_tok_spec_init(s);
    s->model = "llama";
    s->model_len = 5;
    s->tokens = toks;
    s->n_tokens = N_VOCAB;
    s->scores = scores;
    s->n_scores = N_VOCAB;
    s->types = types;
    s->n_types = N_VOCAB;
    s->bos = 1, s->eos = 2, s->unk = 0;
}

static mw_tokenizer *vocab(void)
{
    mw_tok_spec s;
    fill_spec(&s);
    mw_tokenizer *t = NULL;
    OK(mw_tokenizer_build(&s, "test", &t, &err_));
    return t;
}

static void expect_ids(const mw_tokenizer *t, const char *text, int bos, const uint32_t *want, size_t n_want)
{
    uint32_t *ids = NULL;
    size_t n = 0;
    OK(mw_tokenizer_encode(t, text, strlen(text), bos, &ids, &n, &err_));
    int same = n == n_want;
    for (size_t i = 0; same && i < n; i++) same = ids[i] == want[i];
    if (!same) {
        fprintf(stderr, "\"%s\": got", text);
        for (size_t i = 0; i < n; i++) fprintf(stderr, " %u", ids[i]);
        fprintf(stderr, ", want");
        for (size_t i = 0; i < n_want; i++) fprintf(stderr, " %u", want[i]);
        fputc('\n', stderr);
    }
    mw_free(ids);
    assert_true(same);
}
#define EXPECT(t, text, bos, ...) do { static const uint32_t w_[] = {__VA_ARGS__}; \
    expect_ids(t, text, bos, w_, sizeof w_ / sizeof w_[0]); } while (0)

static void encode_known(void **state)
{
    (void)state;
    mw_tokenizer *t = vocab();
    assert_int_equal(mw_tokenizer_vocab_size(t), N_VOCAB);
    assert_int_equal(mw_tokenizer_bos(t), 1);
    assert_int_equal(mw_tokenizer_eos(t), 2);
    assert_true(mw_tokenizer_adds_bos(t));
    /* "▁hello▁world": ll, llo, he (tied with or/ld at -3: leftmost), hello,
     * ▁hello; or, ld, orld, ▁w, ▁world */
    EXPECT(t, "hello world", 1, 1, P_SPHELLO, P_SPWORLD);
    EXPECT(t, "hello world", 0, P_SPHELLO, P_SPWORLD);
    /* he (-3) before ▁t (-5), then ▁t + he = ▁the */
    EXPECT(t, "the", 0, P_SPTHE);
    /* "▁hellohe": hello can form only once; the second "he" stays */
    EXPECT(t, "hellohe", 0, P_SPHELLO, P_HE);
    /* "▁held": he, then l, d apart ("ld" -3 merges after he, leftmost) */
    EXPECT(t, "held", 0, P_SP, P_HE, P_LD);
    /* byte fallback: é (C3 A9), 中 (E4 B8 AD), 😀 (F0 9F 98 80) */
    EXPECT(t, "\xc3\xa9", 0, P_SP, BYTE(0xC3), BYTE(0xA9));
    EXPECT(t, "\xe4\xb8\xad", 0, P_SP, BYTE(0xE4), BYTE(0xB8), BYTE(0xAD));
    EXPECT(t, "\xf0\x9f\x98\x80", 0, P_SP, BYTE(0xF0), BYTE(0x9F), BYTE(0x98), BYTE(0x80));
    /* whitespace runs: every space a ▁ */
    EXPECT(t, "a  b", 0, P_SP, BYTE('a'), P_SP, P_SP, BYTE('b'));
    EXPECT(t, " ", 0, P_SP, P_SP);
    EXPECT(t, "\t\n", 0, P_SP, BYTE('\t'), BYTE('\n'));
    /* empty: nothing, or the BOS alone (no space prefix) */
    uint32_t *ids = (uint32_t *)1;
    size_t n = 7;
    OK(mw_tokenizer_encode(t, "", 0, 0, &ids, &n, &err_));
    assert_int_equal(n, 0);
    assert_null(ids);
    EXPECT(t, "", 1, 1);
    mw_tokenizer_free(t);
}

static char *decode(const mw_tokenizer *t, const uint32_t *ids, size_t n, size_t *len)
{
    char *s = NULL;
    OK(mw_tokenizer_decode(t, ids, n, &s, len, &err_));
    return s;
}

static void decode_known(void **state)
{
    (void)state;
    mw_tokenizer *t = vocab();
    size_t len;
    static const uint32_t a[] = {1, P_SPHELLO, P_SPWORLD, 2};
    char *s = decode(t, a, 4, &len);
    assert_string_equal(s, "hello world");
    assert_int_equal(len, 11);
    mw_free(s);
    static const uint32_t b[] = {P_SP, BYTE(0xC3), BYTE(0xA9), 0, BYTE(0)};
    s = decode(t, b, 5, &len);
    assert_int_equal(len, 2 + 3 + 1);
    assert_memory_equal(s, "\xc3\xa9\xe2\x96\x85\0", 6);   /* <unk> shows as U+2585 */
    mw_free(s);
    s = decode(t, NULL, 0, &len);
    assert_string_equal(s, "");
    mw_free(s);
    static const uint32_t bad[] = {P_SP, N_VOCAB};
    mw_err err;
    char *x = (char *)1;
    assert_int_equal(mw_tokenizer_decode(t, bad, 2, &x, &len, &err), MW_ERR_INVALID);
    assert_null(x);
    assert_non_null(strstr(err.msg, "position 1"));
    mw_tokenizer_free(t);
}

/* the unknown token when a character has no byte tokens; an error without
 * either */
static void unknown_fallback(void **state)
{
    (void)state;
    mw_tok_spec s;
    fill_spec(&s);
    for (int b = 0; b < 256; b++) types[3 + b] = 1;   /* no byte tokens any more */
    mw_tokenizer *t = NULL;
    OK(mw_tokenizer_build(&s, "test", &t, &err_));
    EXPECT(t, "h\xc3\xa9", 0, P_SP, P_H, 0);
    mw_tokenizer_free(t);
    /* a vocabulary of one token: the unknown id defaults to 0 (llama.cpp's),
     * and there is no BOS (the default 1 is past it) */
    static const mw_tok_str one[] = {{"a", 1}};
    mw_tok_spec s1;
    mw_tok_spec_init(&s1);
    s1.model = "llama", s1.model_len = 5, s1.tokens = one, s1.n_tokens = 1;
    OK(mw_tokenizer_build(&s1, "test", &t, &err_));
    /* unk defaults to 0 = "a": falls back to it */
    uint32_t *ids;
    size_t n;
    OK(mw_tokenizer_encode(t, "b", 1, 1, &ids, &n, &err_));   /* no BOS in a 1-token vocabulary */
    assert_int_equal(n, 2);
    assert_int_equal(ids[0], 0);
    mw_free(ids);
    mw_tokenizer_free(t);
}

static const char *const CORPUS[] = {
    "hello world", "Hello, World!", "the quick brown fox jumps over the lazy dog", "  leading spaces",
    "trailing spaces   ", "a\tb\tc", "line one\nline two\n", "\n\n\n", " ", "  ", "x", "hellohello",
    "held the world", "caf\xc3\xa9", "na\xc3\xafve r\xc3\xa9sum\xc3\xa9", "\xc3\x85ngstr\xc3\xb6m",
    "\xe4\xb8\xad\xe6\x96\x87", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x83\x86\xe3\x82\xad",
    "\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4", "\xf0\x9f\x98\x80\xf0\x9f\x98\x81 grin",
    "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd", "0123456789", "3.14159 2.71828", "int main(void) { return 0; }",
    "for (i = 0; i < n; i++) x[i] += y[i];", "def f(x):\n    return x * 2\n", "{\"a\": [1, 2, 3]}",
    "<s> is not parsed", "</s>", "<0x41>", "\xce\x93\xce\xb5\xce\xb9\xce\xb1", "\xd0\x9f\xd1\x80\xd0\xb8",
    "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7", "tab\tand  two  spaces", "end with newline\n",
    "\xc2\xa0nbsp", "mixed \xe4\xb8\xad ascii \xf0\x9f\x98\x80 text", "o", "ll", "lllll",
};

static void round_trip(void **state)
{
    (void)state;
    mw_tokenizer *t = vocab();
    size_t n_corpus = sizeof CORPUS / sizeof CORPUS[0], count = 0;
    char buf[512];
    /* each string, and each pair joined (the pairs make it 100+) */
    for (size_t i = 0; i < n_corpus; i++)
        for (size_t j = 0; j <= n_corpus; j += (i % 7) + 3) {
            snprintf(buf, sizeof buf, "%s%s", CORPUS[i], j < n_corpus ? CORPUS[j] : "");
            for (int bos = 0; bos <= 1; bos++) {
                uint32_t *ids = NULL;
                size_t n = 0, len = 0;
                OK(mw_tokenizer_encode(t, buf, strlen(buf), bos, &ids, &n, &err_));
                char *s = decode(t, ids, n, &len);
                if (len != strlen(buf) || memcmp(s, buf, len)) fail_msg("round trip of \"%s\" gave \"%s\"", buf, s);
                mw_free(s);
                mw_free(ids);
            }
            count++;
        }
    assert_true(count >= 100);
    mw_tokenizer_free(t);
}

static void bad_utf8(void **state)
{
    (void)state;
    mw_tokenizer *t = vocab();
    static const struct { const char *s; size_t len, at; } cases[] = {
        {"ab\xff" "cd", 5, 2}, {"\xc3", 1, 0}, {"x\xc0\xaf", 3, 1}, {"ok \xed\xa0\x80", 6, 3},
        {"\xf4\x90\x80\x80", 4, 0}, {"\xe4\xb8", 2, 0}, {"\x80", 1, 0}, {"\xf0\x9f\x98", 3, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t *ids = (uint32_t *)1;
        size_t n = 9;
        mw_err err;
        assert_int_equal(mw_tokenizer_encode(t, cases[i].s, cases[i].len, 1, &ids, &n, &err), MW_ERR_INVALID);
        assert_null(ids);
        assert_int_equal(n, 0);
        char want[64];
        snprintf(want, sizeof want, "byte offset %zu", cases[i].at);
        if (!strstr(err.msg, want)) fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.msg, want);
        assert_non_null(strstr(err.msg, "UTF-8"));
    }
    mw_tokenizer_free(t);
}

static void expect_bad(const mw_tok_spec *s, mw_status want, const char *msg_has)
{
    mw_tokenizer *t = (mw_tokenizer *)1;
    mw_err err;
    mw_status st = mw_tokenizer_build(s, "v.gguf", &t, &err);
    if (st != want || !strstr(err.msg, msg_has))
        fail_msg("want %s with \"%s\", got %s: %s", mw_status_name(want), msg_has, mw_status_name(st), err.msg);
    assert_null(t);
    assert_non_null(strstr(err.msg, "v.gguf"));
}

static void malformed_vocab(void **state)
{
    (void)state;
    mw_tok_spec s;
    fill_spec(&s); s.model = NULL;
    expect_bad(&s, MW_ERR_INVALID, "no tokenizer.ggml.model");
    fill_spec(&s); s.model = "gpt2", s.model_len = 4;
    expect_bad(&s, MW_ERR_INVALID, "no tokenizer.ggml.merges");
    fill_spec(&s); s.model = "bert\x1b[31m", s.model_len = 9;
    expect_bad(&s, MW_ERR_UNSUPPORTED, "\"bert?[31m\" is not supported");
    fill_spec(&s); s.tokens = NULL, s.n_tokens = 0;
    expect_bad(&s, MW_ERR_INVALID, "no tokenizer.ggml.tokens");
    fill_spec(&s); s.n_tokens = (uint64_t)MW_TOK_MAX_VOCAB + 1;
    expect_bad(&s, MW_ERR_INVALID, "limit");
    fill_spec(&s); s.n_scores = N_VOCAB - 1;
    expect_bad(&s, MW_ERR_INVALID, "tokenizer.ggml.scores holds");
    fill_spec(&s); s.n_types = N_VOCAB + 1;
    expect_bad(&s, MW_ERR_INVALID, "tokenizer.ggml.token_type holds");
    fill_spec(&s); s.bos = N_VOCAB;
    expect_bad(&s, MW_ERR_INVALID, "bos_token_id");
    fill_spec(&s); s.eos = INT64_MAX;
    expect_bad(&s, MW_ERR_INVALID, "eos_token_id");
    fill_spec(&s); s.unk = N_VOCAB + 5;
    expect_bad(&s, MW_ERR_INVALID, "unknown_token_id");
    fill_spec(&s); types[270] = 9;
    expect_bad(&s, MW_ERR_INVALID, "token 270 has type 9");
    fill_spec(&s); types[270] = -1;
    expect_bad(&s, MW_ERR_INVALID, "token 270 has type -1");
    fill_spec(&s); types[P_H] = 6;   /* "h" claims to be a byte token */
    expect_bad(&s, MW_ERR_INVALID, "not <0xNN>");
    fill_spec(&s); scores[270] = NAN;
    expect_bad(&s, MW_ERR_INVALID, "token 270's score");
    static char big[MW_TOK_MAX_PIECE + 2];
    fill_spec(&s); toks[275] = (mw_tok_str){big, sizeof big};
    expect_bad(&s, MW_ERR_INVALID, "token 275 is");
    /* absent scores and types: zeros and normal tokens */
    fill_spec(&s); s.scores = NULL, s.n_scores = 0, s.types = NULL, s.n_types = 0;
    mw_tokenizer *t = NULL;
    OK(mw_tokenizer_build(&s, "test", &t, &err_));
    size_t len;
    static const uint32_t ids[] = {1, BYTE('A')};
    char *x = decode(t, ids, 2, &len);   /* no types: <s> and <0x41> are text */
    assert_string_equal(x, "<s><0x41>");
    mw_free(x);
    mw_tokenizer_free(t);
}

/* ---- GGUF files ---------------------------------------------------------- */

typedef enum { G_OK, G_NO_TOKENS, G_GPT2, G_SCORES_I32, G_SHORT_TYPES, G_BOS_FAR, G_BOS_NEG, G_NO_MODEL,
               G_BPE, G_BPE_BAD_PRE, G_BPE_PRE_U32, G_BPE_MERGES_I32, G_BPE_BAD_MERGE } gcase;

static const char *write_gguf(gcase c)
{
    static char path[400];
    snprintf(path, sizeof path, "%s/v%d.gguf", tmpdir, (int)c);
    mw_tok_spec s;
    fill_spec(&s);
    const char *names[N_VOCAB];
    static char store[N_VOCAB][16];
    for (int i = 0; i < N_VOCAB; i++) {
        snprintf(store[i], sizeof store[i], "%.*s", (int)toks[i].len, toks[i].ptr);
        names[i] = store[i];
    }
    mw_gguf_writer *w;
    mw_err err;
    OK(mw_gguf_writer_init(&w, &err_));
    mw_status st = mw_gguf_writer_set_str(w, "general.architecture", "llama", &err);
    int bpe = c == G_GPT2 || c >= G_BPE;
    if (c != G_NO_MODEL) st = st ? st : mw_gguf_writer_set_str(w, "tokenizer.ggml.model", bpe ? "gpt2" : "llama", &err);
    if (c >= G_BPE) {
        static const char *const merges[] = {"h e", "l l", "he ll"};
        static const char *const bad[] = {"h e", "l l", "he zz"};
        if (c == G_BPE_PRE_U32) st = st ? st : mw_gguf_writer_set_u32(w, "tokenizer.ggml.pre", 7, &err);
        else st = st ? st : mw_gguf_writer_set_str(w, "tokenizer.ggml.pre",
                                                   c == G_BPE_BAD_PRE ? "starcoder" : "qwen2", &err);
        if (c == G_BPE_MERGES_I32)
            st = st ? st : mw_gguf_writer_set_array(w, "tokenizer.ggml.merges", MW_GGUF_I32, types, 3, &err);
        else
            st = st ? st : mw_gguf_writer_set_str_array(w, "tokenizer.ggml.merges",
                                                         c == G_BPE_BAD_MERGE ? bad : merges, 3, &err);
    }
    if (c != G_NO_TOKENS) st = st ? st : mw_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", names, N_VOCAB, &err);
    if (c == G_SCORES_I32) st = st ? st : mw_gguf_writer_set_array(w, "tokenizer.ggml.scores", MW_GGUF_I32, types, N_VOCAB, &err);
    else st = st ? st : mw_gguf_writer_set_array(w, "tokenizer.ggml.scores", MW_GGUF_F32, scores, N_VOCAB, &err);
    st = st ? st : mw_gguf_writer_set_array(w, "tokenizer.ggml.token_type", MW_GGUF_I32, types,
                                            c == G_SHORT_TYPES ? N_VOCAB - 1 : N_VOCAB, &err);
    if (c == G_BOS_NEG) st = st ? st : mw_gguf_writer_set_i32(w, "tokenizer.ggml.bos_token_id", -1, &err);
    else st = st ? st : mw_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", c == G_BOS_FAR ? 100000 : 1, &err);
    st = st ? st : mw_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 2, &err);
    st = st ? st : mw_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", 0, &err);
    st = st ? st : mw_gguf_writer_write(w, path, &err);
    mw_gguf_writer_free(w);
    if (st) fail_msg("%s", err.msg);
    return path;
}

static void gguf_files(void **state)
{
    (void)state;
    mw_tokenizer *t = NULL;
    OK(mw_tokenizer_open(write_gguf(G_OK), &t, &err_));
    assert_int_equal(mw_tokenizer_vocab_size(t), N_VOCAB);
    assert_false(mw_tokenizer_adds_bos(t));
    EXPECT(t, "hello world", 1, 1, P_SPHELLO, P_SPWORLD);
    mw_tokenizer_free(t);
    /* from an opened model */
    mw_model *m = NULL;
    OK(mw_model_open(write_gguf(G_OK), &m, &err_));
    OK(mw_tokenizer_from_model(m, &t, &err_));
    mw_model_free(m);
    EXPECT(t, "the", 0, P_SPTHE);
    mw_tokenizer_free(t);
    /* "gpt2" from a file: "he" and "ll" merge into "hell", no token: as in
     * llama.cpp, its bytes that are one-byte tokens stand for it */
    OK(mw_tokenizer_open(write_gguf(G_BPE), &t, &err_));
    EXPECT(t, "hell", 0, P_H, P_E, P_L, P_L);
    /* the space's character "Ġ" is no token and neither of its two bytes
     * is: it gives no id at all, as in llama.cpp */
    EXPECT(t, "he ll", 0, P_HE, P_LL);
    mw_tokenizer_free(t);
    OK(mw_model_open("llama-2-7b", &m, &err_));
    mw_err err;
    assert_int_equal(mw_tokenizer_from_model(m, &t, &err), MW_ERR_UNSUPPORTED);
    assert_null(t);
    mw_model_free(m);

    static const struct { gcase c; mw_status st; const char *has; } bad[] = {
        {G_NO_TOKENS, MW_ERR_INVALID, "no tokenizer.ggml.tokens"},
        {G_GPT2, MW_ERR_INVALID, "no tokenizer.ggml.merges"},
        {G_SCORES_I32, MW_ERR_INVALID, "tokenizer.ggml.scores is not an array of f32"},
        {G_SHORT_TYPES, MW_ERR_INVALID, "token_type holds"},
        {G_BOS_FAR, MW_ERR_INVALID, "bos_token_id is 100000"},
        {G_BOS_NEG, MW_ERR_INVALID, "bos_token_id is not a non-negative integer"},
        {G_NO_MODEL, MW_ERR_INVALID, "no tokenizer.ggml.model"},
        {G_BPE_BAD_PRE, MW_ERR_UNSUPPORTED, "tokenizer.ggml.pre \"starcoder\" is not a pre-tokenizer"},
        {G_BPE_PRE_U32, MW_ERR_INVALID, "tokenizer.ggml.pre is not a string"},
        {G_BPE_MERGES_I32, MW_ERR_INVALID, "tokenizer.ggml.merges is not an array of string"},
        {G_BPE_BAD_MERGE, MW_ERR_INVALID, "tokenizer.ggml.merges[2] \"he zz\": its second part is no token"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t = (mw_tokenizer *)1;
        mw_status st = mw_tokenizer_open(write_gguf(bad[i].c), &t, &err);
        if (st != bad[i].st || !strstr(err.msg, bad[i].has))
            fail_msg("case %d: %s: %s", (int)bad[i].c, mw_status_name(st), err.msg);
        assert_null(t);
    }
    assert_int_not_equal(mw_tokenizer_open("/nonexistent/x.gguf", &t, &err), MW_OK);
}

static uint64_t mem_now(void)
{
    mw_mem_stats s;
    mw_mem_get_stats(&s);
    return s.total_current_bytes;
}

static void alloc_failures(void **state)
{
    (void)state;
    const char *path = write_gguf(G_OK);
    uint64_t before = mem_now();
    int done = 0;
    for (uint64_t k = 1; k < 1000 && !done; k++) {
        mw_mem_stats s0, s1;
        mw_mem_get_stats(&s0);
        mw_mem_fail_after(k);
        mw_tokenizer *t = NULL;
        mw_err err;
        mw_status st = mw_tokenizer_open(path, &t, &err);
        uint32_t *ids = NULL;
        char *text = NULL;
        size_t n = 0, len = 0;
        const char *in = "hello world \xe4\xb8\xad \xf0\x9f\x98\x80 held the world again and again";
        if (st == MW_OK) st = mw_tokenizer_encode(t, in, strlen(in), 1, &ids, &n, &err);
        if (st == MW_OK) st = mw_tokenizer_decode(t, ids, n, &text, &len, &err);
        mw_mem_fail_after(0);
        mw_mem_get_stats(&s1);
        if (s1.failures == s0.failures) {
            OK(st);
            assert_string_equal(text, in);
            done = 1;
        } else {
            if (st != MW_ERR_NOMEM) fail_msg("k=%llu: %s: %s", (unsigned long long)k, mw_status_name(st), err.msg);
            assert_true(strlen(err.msg) > 0);
        }
        mw_free(text);
        mw_free(ids);
        mw_tokenizer_free(t);
        assert_int_equal(mem_now(), before);
    }
    assert_true(done);
}

/* ---- byte-level BPE ------------------------------------------------------ */

/* text's words by pre-tokenizer p, joined by '|' */
static void expect_words(mw_pretok p, const char *text, const char *want)
{
    uint32_t cps[256];
    size_t off[257], ends[256], scratch[256], n = 0;
    const unsigned char *u = (const unsigned char *)text;
    for (size_t i = 0; u[i];) {
        size_t k = u[i] < 0x80 ? 1 : u[i] < 0xE0 ? 2 : u[i] < 0xF0 ? 3 : 4;
        uint32_t c = k == 1 ? u[i] : k == 2 ? (u[i] & 0x1Fu) << 6 | (u[i + 1] & 0x3Fu)
                   : k == 3 ? (u[i] & 0x0Fu) << 12 | (u[i + 1] & 0x3Fu) << 6 | (u[i + 2] & 0x3Fu)
                   : (u[i] & 0x07u) << 18 | (u[i + 1] & 0x3Fu) << 12 | (u[i + 2] & 0x3Fu) << 6 | (u[i + 3] & 0x3Fu);
        off[n] = i;
        cps[n++] = c;
        i += k;
    }
    off[n] = strlen(text);
    size_t w = mw_pretok_split(p, cps, n, ends, scratch);
    char got[1024];
    size_t g = 0;
    for (size_t k = 0, a = 0; k < w; a = ends[k++]) {
        if (k) got[g++] = '|';
        memcpy(got + g, text + off[a], off[ends[k]] - off[a]);
        g += off[ends[k]] - off[a];
    }
    got[g] = '\0';
    if (strcmp(got, want)) fail_msg("pre %d, \"%s\": got \"%s\", want \"%s\"", (int)p, text, got, want);
}

static void pretokenizers(void **state)
{
    (void)state;
    mw_pretok p;
    assert_true(mw_pretok_from_name("llama-bpe", 9, &p) && p == MW_PRETOK_LLAMA3);
    assert_true(mw_pretok_from_name("qwen2", 5, &p) && p == MW_PRETOK_QWEN2);
    assert_false(mw_pretok_from_name("gpt2", 4, &p));   /* llama.cpp's name is "gpt-2" */
    assert_int_equal(mw_uc_class('a'), 1);
    assert_int_equal(mw_uc_class(0x4E2D), 1);    /* 中: Lo */
    assert_int_equal(mw_uc_class(0x0663), 2);    /* Arabic-Indic 3: Nd */
    assert_int_equal(mw_uc_class(0x00BD), 2);    /* ½: No */
    assert_int_equal(mw_uc_class(0x300C), 3);    /* 「: Ps */
    assert_int_equal(mw_uc_class(0x0301), 5);    /* combining acute: Mn */
    assert_int_equal(mw_uc_class(0x0378), 0);    /* unassigned */
    assert_true(mw_uc_is_space(0x3000) && mw_uc_is_space(0x85) && !mw_uc_is_space(0x200B) && !mw_uc_is_space(0x1F));

    /* GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S) */
    expect_words(MW_PRETOK_GPT2, "Hello world", "Hello| world");
    expect_words(MW_PRETOK_GPT2, "it's DON'T", "it|'s| DON|'|T");           /* lower-case contractions only */
    expect_words(MW_PRETOK_GPT2, "a  b", "a| | b");                         /* \s+(?!\S) leaves the last space */
    expect_words(MW_PRETOK_GPT2, "a   ", "a|   ");                          /* at the end: all of them */
    expect_words(MW_PRETOK_GPT2, "x\tb", "x|\t|b");                         /* a lone tab matches nothing */
    expect_words(MW_PRETOK_GPT2, "12345 67", "12345| 67");
    expect_words(MW_PRETOK_GPT2, "f(x) += 1;", "f|(|x|)| +=| 1|;");
    expect_words(MW_PRETOK_GPT2, "caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87", "caf\xc3\xa9| \xe4\xb8\xad\xe6\x96\x87");
    expect_words(MW_PRETOK_GPT2, "e\xcc\x81", "e|\xcc\x81");               /* a mark is no letter */
    /* Llama 3: (?i:'s|...)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
    expect_words(MW_PRETOK_LLAMA3, "it's DON'T", "it|'s| DON|'T");          /* any case */
    expect_words(MW_PRETOK_LLAMA3, "1234567", "123|456|7");
    expect_words(MW_PRETOK_LLAMA3, "x1234", "x|123|4");
    expect_words(MW_PRETOK_LLAMA3, "\tword (x)", "\tword| (|x|)");         /* a tab leads a word */
    expect_words(MW_PRETOK_LLAMA3, "a.\n\nb", "a|.\n\n|b");                /* punctuation takes the newlines */
    expect_words(MW_PRETOK_LLAMA3, "a  \n  \n  b", "a|  \n  \n| | b");   /* \s*[\r\n]+ first */
    expect_words(MW_PRETOK_LLAMA3, "x   ", "x|   ");
    expect_words(MW_PRETOK_LLAMA3, "$100", "$|100");
    /* Qwen2: the same with \p{N} one digit at a time */
    expect_words(MW_PRETOK_QWEN2, "1234 x", "1|2|3|4| x");
    expect_words(MW_PRETOK_QWEN2, "We'LL go", "We|'LL| go");
    /* default: [\p{P}$+<=>^~|]+ then GPT-2's, then \p{N}+, then [0-9]{3} */
    expect_words(MW_PRETOK_DEFAULT, "don't", "don|'|t");                    /* the apostrophe is cut off first */
    expect_words(MW_PRETOK_DEFAULT, "Hello, world!", "Hello|,| world|!");
    expect_words(MW_PRETOK_DEFAULT, "x 1234567", "x| |123|456|7");         /* " 1234567", then digits */
    expect_words(MW_PRETOK_DEFAULT, "a<=b `c`", "a|<=|b| `|c|`");          /* ` is not in the first class */
    /* Arabic-Indic digits: \p{N}+ keeps them whole, [0-9]{3} does not cut them */
    expect_words(MW_PRETOK_DEFAULT, "\xd9\xa3\xd9\xa4\xd9\xa5\xd9\xa6", "\xd9\xa3\xd9\xa4\xd9\xa5\xd9\xa6");
}

/* a "gpt2" vocabulary: ids 0-255 the byte characters in byte order, then
 * MERGED (the results of MERGES, in order), then the specials */
static const char *const MERGES[] = {
    "h e", "l l", "he ll", "hell o", "\xc4\xa0 w", "o r", "\xc4\xa0w or", "l d", "\xc4\xa0wor ld", "a b",
};
static const char *const MERGED[] = {
    "he", "ll", "hell", "hello", "\xc4\xa0w", "or", "\xc4\xa0wor", "ld", "\xc4\xa0world", "ab", "xy",
};
enum { B_HE = 256, B_LL, B_HELL, B_HELLO, B_GW, B_OR, B_GWOR, B_LD, B_GWORLD, B_AB, B_XY, B_EOT, B_IM,
       B_IM_START, B_USER, B_N };
static mw_tok_str btoks[B_N];
static int32_t btypes[B_N];
static char bchars[256][3];
static mw_tok_str bmerges[sizeof MERGES / sizeof MERGES[0]];

static void fill_bpe(mw_tok_spec *s, const char *pre)
{
    for (unsigned b = 0; b < 256; b++) {
        int printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        unsigned c = b, k = 0;
        for (unsigned x = 0; !printable && x < b; x++)
            k += !((x >= 0x21 && x <= 0x7E) || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF));
        if (!printable) c = 256 + k;
        if (c < 0x80) bchars[b][0] = (char)c, bchars[b][1] = 0;
        else bchars[b][0] = (char)(0xC0 | (c >> 6)), bchars[b][1] = (char)(0x80 | (c & 0x3F)), bchars[b][2] = 0;
        btoks[b] = (mw_tok_str){bchars[b], strlen(bchars[b])};
        btypes[b] = 1;
    }
    for (int i = B_HE; i <= B_XY; i++)
        btoks[i] = (mw_tok_str){MERGED[i - B_HE], strlen(MERGED[i - B_HE])}, btypes[i] = 1;
    btoks[B_EOT] = (mw_tok_str){"<|endoftext|>", 13}, btypes[B_EOT] = 3;
    btoks[B_IM] = (mw_tok_str){"<|im", 4}, btypes[B_IM] = 4;
    btoks[B_IM_START] = (mw_tok_str){"<|im_start|>", 12}, btypes[B_IM_START] = 3;
    btoks[B_USER] = (mw_tok_str){"<u>", 3}, btypes[B_USER] = 4;
    for (size_t i = 0; i < sizeof MERGES / sizeof MERGES[0]; i++)
        bmerges[i] = (mw_tok_str){MERGES[i], strlen(MERGES[i])};
    mw_tok_spec_init(s);
    s->model = "gpt2", s->model_len = 4;
    s->pre = pre, s->pre_len = pre ? strlen(pre) : 0;
    s->tokens = btoks, s->n_tokens = B_N;
    s->types = btypes, s->n_types = B_N;
    s->merges = bmerges, s->n_merges = sizeof MERGES / sizeof MERGES[0];
    s->bos = s->eos = B_EOT;
}

static mw_tokenizer *bpe_vocab(const char *pre)
{
    mw_tok_spec s;
    fill_bpe(&s, pre);
    mw_tokenizer *t = NULL;
    OK(mw_tokenizer_build(&s, "test", &t, &err_));
    return t;
}

static void bpe_encode(void **state)
{
    (void)state;
    mw_tokenizer *t = bpe_vocab("gpt-2");
    assert_false(mw_tokenizer_adds_bos(t));
    /* "hello": h e l l o -> he (rank 0), ll (1), hell (2), hello (3);
     * " world": Ġ w o r l d -> Ġw (4), or (5), Ġwor (6), ld (7), Ġworld (8) */
    EXPECT(t, "hello world", 0, B_HELLO, B_GWORLD);
    EXPECT(t, "hello world", MW_TOK_ADD_BOS | MW_TOK_ADD_EOS, B_EOT, B_HELLO, B_GWORLD, B_EOT);
    /* ranks decide, not length: "hell" + "o" only after "he" and "ll" */
    EXPECT(t, "hellhe", 0, B_HELL, B_HE);
    /* no merge: byte tokens; the bytes of U+4E2D are 0xE4 0xB8 0xAD */
    EXPECT(t, "\xe4\xb8\xad", 0, 0xE4, 0xB8, 0xAD);
    EXPECT(t, "\n\t", 0, '\n', '\t');
    /* "xy" is a token no merge reaches: llama3 takes a word that is a
     * token whole (ignore_merges), the others do not */
    EXPECT(t, "xy", 0, 'x', 'y');
    mw_tokenizer_free(t);
    t = bpe_vocab("llama3");
    assert_true(mw_tokenizer_adds_bos(t));
    EXPECT(t, "xy", 0, B_XY);
    EXPECT(t, "xy ab", 0, B_XY, ' ', B_AB);   /* " ab" is no token: merged from Ġ a b */
    mw_tokenizer_free(t);
    t = bpe_vocab(NULL);   /* no tokenizer.ggml.pre: "default" */
    EXPECT(t, "ab,ab", 0, B_AB, ',', B_AB);
    mw_tokenizer_free(t);
}

static void bpe_bytes_round_trip(void **state)
{
    (void)state;
    mw_tokenizer *t = bpe_vocab("qwen2");
    /* GPT-2's mapping: space Ġ (U+0120), newline Ċ (U+010A), NUL Ā
     * (U+0100), DEL ġ (U+0121), soft hyphen 0xAD Ń (U+0143), '!' itself */
    assert_string_equal(bchars[' '], "\xc4\xa0");
    assert_string_equal(bchars['\n'], "\xc4\x8a");
    assert_string_equal(bchars[0], "\xc4\x80");
    assert_string_equal(bchars[0x7F], "\xc4\xa1");
    assert_string_equal(bchars[0xAD], "\xc5\x83");
    /* every ASCII byte and a few multi-byte characters come back exactly */
    char text[200];
    size_t n = 0;
    for (int c = 0; c < 128; c++) text[n++] = (char)c;
    const char *more = "\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\xc2\xad<u><|im_start|>";
    memcpy(text + n, more, strlen(more));
    n += strlen(more);
    uint32_t *ids = NULL;
    size_t n_ids = 0, len = 0;
    char *back = NULL;
    OK(mw_tokenizer_encode(t, text, n, 0, &ids, &n_ids, &err_));
    OK(mw_tokenizer_decode(t, ids, n_ids, &back, &len, &err_));
    assert_int_equal(len, n);
    assert_memory_equal(back, text, n);
    mw_free(back);
    mw_free(ids);
    /* control tokens decode to nothing */
    static const uint32_t ctl[] = {B_EOT, 'a', B_IM_START, B_USER};
    OK(mw_tokenizer_decode(t, ctl, 4, &back, &len, &err_));
    assert_string_equal(back, "a<u>");
    mw_free(back);
    mw_err err;
    static const uint32_t far[] = {'a', B_N};
    assert_int_equal(mw_tokenizer_decode(t, far, 2, &back, &len, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "at position 1"));
    mw_tokenizer_free(t);
}

static void special_tokens(void **state)
{
    (void)state;
    mw_tokenizer *t = bpe_vocab("llama3");
    /* user-defined tokens always; control tokens only with MW_TOK_SPECIAL;
     * the longer first: "<|im_start|>" before "<|im" */
    EXPECT(t, "a<u>b", 0, 'a', B_USER, 'b');
    EXPECT(t, "<|im_start|>", MW_TOK_SPECIAL, B_IM_START);
    EXPECT(t, "<|im_start|>", 0, B_IM, '_', 's', 't', 'a', 'r', 't', '|', '>');
    EXPECT(t, "x<|endoftext|>", MW_TOK_SPECIAL, 'x', B_EOT);
    EXPECT(t, "<|endoftext|><u><u>", MW_TOK_SPECIAL, B_EOT, B_USER, B_USER);
    mw_err err;
    uint32_t *ids = NULL;
    size_t n = 0;
    assert_int_equal(mw_tokenizer_encode(t, "a", 1, 8u, &ids, &n, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "flags"));
    assert_int_equal(mw_tokenizer_encode(t, "ab\xff", 3, 0, &ids, &n, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "byte offset 2"));
    mw_tokenizer_free(t);

    /* a special token that is not well-formed UTF-8 ("\xc3", the first
     * byte of "é") would cut a character of the text: it splits nothing
     * (found by fuzz_tokenizer: the cut piece looped past its buffer) */
    mw_tok_spec bs;
    fill_bpe(&bs, "llama3");
    btoks[B_USER] = (mw_tok_str){"\xc3", 1};
    OK(mw_tokenizer_build(&bs, "test", &t, &err_));
    EXPECT(t, "\xc3\xa9\xc3\xa9", 0, 0xC3, 0xA9, 0xC3, 0xA9);
    mw_tokenizer_free(t);
    btoks[B_USER] = (mw_tok_str){"<u>", 3};

    /* "llama": a space in front of each piece after a special token, as
     * llama.cpp does; <s> is control */
    mw_tok_spec s;
    fill_spec(&s);
    types[P_LLO] = 4;   /* "llo" user-defined */
    OK(mw_tokenizer_build(&s, "test", &t, &err_));
    EXPECT(t, "the", 0, P_SPTHE);
    EXPECT(t, "thellothe", 0, P_SPTHE, P_LLO, P_SPTHE);
    EXPECT(t, "llothe", 0, P_LLO, P_SPTHE);
    EXPECT(t, "<s>the", MW_TOK_SPECIAL, 1, P_SPTHE);
    EXPECT(t, "<s>", 0, P_SP, BYTE('<'), BYTE('s'), BYTE('>'));
    mw_tokenizer_free(t);
    types[P_LLO] = 1;
}

static void expect_bad_bpe(mw_tok_spec *s, mw_status want, const char *has, const char *has2)
{
    expect_bad(s, want, has);
    mw_tokenizer *t = NULL;
    mw_err err;
    (void)mw_tokenizer_build(s, "v.gguf", &t, &err);
    if (has2 && !strstr(err.msg, has2)) fail_msg("\"%s\" lacks \"%s\"", err.msg, has2);
}

static void bpe_malformed(void **state)
{
    (void)state;
    mw_tok_spec s;
    fill_bpe(&s, "llama3"); s.merges = NULL, s.n_merges = 0;
    expect_bad_bpe(&s, MW_ERR_INVALID, "no tokenizer.ggml.merges", NULL);
    fill_bpe(&s, "llama3"); bmerges[3] = (mw_tok_str){"hello", 5};
    expect_bad_bpe(&s, MW_ERR_INVALID, "tokenizer.ggml.merges[3] \"hello\" is not two tokens", NULL);
    fill_bpe(&s, "llama3"); bmerges[0] = (mw_tok_str){" he", 3};   /* the space is looked for after byte 0 */
    expect_bad_bpe(&s, MW_ERR_INVALID, "tokenizer.ggml.merges[0]", "not two tokens");
    fill_bpe(&s, "llama3"); bmerges[9] = (mw_tok_str){"a zz", 4};
    expect_bad_bpe(&s, MW_ERR_INVALID, "tokenizer.ggml.merges[9] \"a zz\": its second part is no token", NULL);
    fill_bpe(&s, "llama3"); bmerges[1] = (mw_tok_str){"qq l", 4};
    expect_bad_bpe(&s, MW_ERR_INVALID, "merges[1]", "first part");
    fill_bpe(&s, "gpt2");
    expect_bad_bpe(&s, MW_ERR_UNSUPPORTED, "tokenizer.ggml.pre \"gpt2\" is not a pre-tokenizer", "llama3");
    fill_bpe(&s, "falcon\x1b");
    expect_bad_bpe(&s, MW_ERR_UNSUPPORTED, "\"falcon?\"", "default (or none), gpt-2");
    fill_bpe(&s, "qwen2"); s.model = "bert", s.model_len = 4;
    expect_bad_bpe(&s, MW_ERR_UNSUPPORTED, "tokenizer.ggml.model \"bert\" is not supported", "\"gpt2\"");
    /* a merge given twice: the first rank stands, no error */
    fill_bpe(&s, "qwen2"); bmerges[9] = (mw_tok_str){"h e", 3};
    mw_tokenizer *t = NULL;
    OK(mw_tokenizer_build(&s, "test", &t, &err_));
    EXPECT(t, "hello", 0, B_HELLO);
    mw_tokenizer_free(t);
}

static void bpe_long_text(void **state)
{
    (void)state;
    /* 1 MiB of text: linear enough to be quick (a loose bound) */
    mw_tokenizer *t = bpe_vocab("llama3");
    size_t n = 1u << 20;
    char *text = malloc(n);
    assert_non_null(text);
    static const char unit[] = "hello world, it's 2024! \xe4\xb8\xad\xe6\x96\x87 <u> x\n";
    for (size_t i = 0; i < n; i++) text[i] = unit[i % (sizeof unit - 1)];
    n -= n % (sizeof unit - 1);
    uint32_t *ids = NULL;
    size_t n_ids = 0, len = 0;
    char *back = NULL;
    OK(mw_tokenizer_encode(t, text, n, 0, &ids, &n_ids, &err_));
    OK(mw_tokenizer_decode(t, ids, n_ids, &back, &len, &err_));
    assert_int_equal(len, n);
    assert_memory_equal(back, text, n);
    mw_free(back);
    mw_free(ids);
    free(text);
    mw_tokenizer_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encode_known),   cmocka_unit_test(decode_known),    cmocka_unit_test(unknown_fallback),
        cmocka_unit_test(round_trip),     cmocka_unit_test(bad_utf8),        cmocka_unit_test(malformed_vocab),
        cmocka_unit_test(gguf_files),     cmocka_unit_test(alloc_failures),  cmocka_unit_test(pretokenizers),
        cmocka_unit_test(bpe_encode),     cmocka_unit_test(bpe_bytes_round_trip), cmocka_unit_test(special_tokens),
        cmocka_unit_test(bpe_malformed),  cmocka_unit_test(bpe_long_text),
    };
    return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
