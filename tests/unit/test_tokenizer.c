/*
 * test_tokenizer.c - the SentencePiece-style tokenizer (src/format/
 * tokenizer.c) over a hand-built vocabulary whose merges are worked out by
 * hand in the comments: encodings, byte fallback, the unknown token,
 * round trips, malformed vocabularies, malformed UTF-8, GGUF files and
 * allocation failures.
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
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    expect_bad(&s, MW_ERR_UNSUPPORTED, "future work");
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

static char tmpdir[256];

typedef enum { G_OK, G_NO_TOKENS, G_GPT2, G_SCORES_I32, G_SHORT_TYPES, G_BOS_FAR, G_BOS_NEG, G_NO_MODEL } gcase;

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
    if (c != G_NO_MODEL) st = st ? st : mw_gguf_writer_set_str(w, "tokenizer.ggml.model", c == G_GPT2 ? "gpt2" : "llama", &err);
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
    OK(mw_model_open("llama-2-7b", &m, &err_));
    mw_err err;
    assert_int_equal(mw_tokenizer_from_model(m, &t, &err), MW_ERR_UNSUPPORTED);
    assert_null(t);
    mw_model_free(m);

    static const struct { gcase c; mw_status st; const char *has; } bad[] = {
        {G_NO_TOKENS, MW_ERR_INVALID, "no tokenizer.ggml.tokens"},
        {G_GPT2, MW_ERR_UNSUPPORTED, "\"gpt2\""},
        {G_SCORES_I32, MW_ERR_INVALID, "tokenizer.ggml.scores is not an array of f32"},
        {G_SHORT_TYPES, MW_ERR_INVALID, "token_type holds"},
        {G_BOS_FAR, MW_ERR_INVALID, "bos_token_id is 100000"},
        {G_BOS_NEG, MW_ERR_INVALID, "bos_token_id is not a non-negative integer"},
        {G_NO_MODEL, MW_ERR_INVALID, "no tokenizer.ggml.model"},
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

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "%s/mw-tok-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encode_known),   cmocka_unit_test(decode_known),    cmocka_unit_test(unknown_fallback),
        cmocka_unit_test(round_trip),     cmocka_unit_test(bad_utf8),        cmocka_unit_test(malformed_vocab),
        cmocka_unit_test(gguf_files),     cmocka_unit_test(alloc_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
