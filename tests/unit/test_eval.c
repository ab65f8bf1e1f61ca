/* test_eval.c - mw_eval on small GGUF models written by mw-gen-gguf
 * (--test-vocab, whose pieces make "hello world" the ids 1 272 277): a model
 * against itself (KL exactly 0, top-1 1), against a Q8_0 copy of the same
 * weights (KL > 0 and small), the chunking arithmetic on hand-counted
 * texts, every refused input, the all-rows forward step against one-token
 * steps, and allocation failures. The perplexity itself is checked against
 * PyTorch by tests/cli/eval_ref.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"
#include "common/test_hooks.h"
#include "engine/llama.h"
#include "engine/threadpool.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256];
static char f16_path[300], q8_path[300], meta_path[300], v600_path[300];

static void gen(const char *out, const char *extra)
{
    const char *g = getenv("MW_GEN_GGUF");
    char def[512];
    if (!g) {
        const char *b = getenv("MW_BUILD_DIR");
        snprintf(def, sizeof def, "%s/tests/mw-gen-gguf", b ? b : "build");
        g = def;
    }
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "'%s' --layers 2 --embd 64 --heads 2 --kv-heads 1 --ff 128 --ctx 256 %s '%s'", g,
             extra, out);
    assert_int_equal(system(cmd), 0);
}

static void write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* "hello world" k times, joined by spaces: BOS + 2k tokens */
static void hello_text(const char *path, int k)
{
    static char buf[65536];
    size_t n = 0;
    for (int i = 0; i < k; i++) n += (size_t)snprintf(buf + n, sizeof buf - n, "%shello world", i ? " " : "");
    write_file(path, buf, n);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/mw-test-eval.XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(f16_path, sizeof f16_path, "%s/f16.gguf", dir);
    snprintf(q8_path, sizeof q8_path, "%s/q8.gguf", dir);
    snprintf(meta_path, sizeof meta_path, "%s/meta.gguf", dir);
    snprintf(v600_path, sizeof v600_path, "%s/v600.gguf", dir);
    gen(f16_path, "--vocab 512 --test-vocab");
    gen(q8_path, "--vocab 512 --test-vocab --dtype q8_0");
    gen(meta_path, "--vocab 512 --vocab-meta");
    gen(v600_path, "--vocab 600 --test-vocab");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *text_path(const char *name)
{
    static char p[4][400];
    static int i;
    i = (i + 1) % 4;
    snprintf(p[i], sizeof p[i], "%s/%s", dir, name);
    return p[i];
}

static mw_eval_result *eval_ok(const char *model, const char *text, uint32_t ctx, uint32_t chunks, const char *ref)
{
    mw_eval_opts o;
    mw_eval_opts_init(&o);
    o.text_file = text;
    o.ctx = ctx;
    o.max_chunks = chunks;
    o.threads = 2;
    o.ref = ref;
    mw_eval_result *r = NULL;
    mw_err err;
    mw_status st = mw_eval(model, &o, &r, &err);
    if (st != MW_OK) fail_msg("mw_eval: %s", err.msg);
    return r;
}

/* mw_eval fails with status st and a message holding each of the words */
static void eval_fails(const char *model, const char *text, uint32_t ctx, const char *ref, mw_status st,
                       const char *w1, const char *w2)
{
    mw_eval_opts o;
    mw_eval_opts_init(&o);
    o.text_file = text;
    o.ctx = ctx;
    o.threads = 1;
    o.ref = ref;
    mw_eval_result *r = NULL;
    mw_err err;
    memset(&err, 0, sizeof err);
    mw_status got = mw_eval(model, &o, &r, &err);
    assert_null(r);
    if (got != st) fail_msg("expected status %d, got %d: %s", st, got, err.msg);
    if (w1 && !strstr(err.msg, w1)) fail_msg("'%s' not in: %s", w1, err.msg);
    if (w2 && !strstr(err.msg, w2)) fail_msg("'%s' not in: %s", w2, err.msg);
}

static void self_kl_is_exactly_zero(void **state)
{
    (void)state;
    const char *t = text_path("self.txt");
    hello_text(t, 100);
    mw_eval_result *r = eval_ok(f16_path, t, 32, 0, f16_path);
    assert_true(r->has_ref);
    assert_true(r->kl_mean == 0.0 && r->kl_median == 0.0 && r->kl_p99 == 0.0 && r->kl_max == 0.0);
    assert_true(r->top1_agreement == 1.0);
    assert_true(r->perplexity_ratio == 1.0);
    assert_true(r->perplexity == r->ref_perplexity);
    assert_true(r->perplexity > 1.0 && isfinite(r->perplexity));
    for (uint32_t c = 0; c < r->chunks; c++) assert_true(r->per_chunk[c].kl_mean == 0.0);
    mw_eval_result_free(r);
}

static void q8_against_f16_small_kl(void **state)
{
    (void)state;
    const char *t = text_path("q8.txt");
    hello_text(t, 100);
    mw_eval_result *r = eval_ok(q8_path, t, 32, 0, f16_path);
    assert_true(r->kl_mean > 0.0);
    assert_true(r->kl_mean < 1e-3);
    assert_true(r->kl_max >= r->kl_p99 && r->kl_p99 >= r->kl_median && r->kl_median >= 0.0);
    assert_true(r->top1_agreement > 0.5 && r->top1_agreement <= 1.0);
    assert_true(fabs(r->perplexity_ratio - 1.0) < 0.01);
    assert_true(r->perplexity != r->ref_perplexity);
    /* without --ref: the same perplexity as with it */
    mw_eval_result *s = eval_ok(q8_path, t, 32, 0, NULL);
    assert_false(s->has_ref);
    assert_true(s->perplexity == r->perplexity);
    mw_eval_result_free(s);
    mw_eval_result_free(r);
}

/* 50 x "hello world": BOS + 100 = 101 tokens */
static void chunking_arithmetic(void **state)
{
    (void)state;
    const char *t = text_path("chunks.txt");
    hello_text(t, 50);
    static const struct { uint32_t ctx, max, chunks, avail, per, tokens; } cases[] = {
        {10, 0, 10, 10, 4, 40},    /* 101 / 10 = 10 chunks; 10 - 1 - 5 = 4 scored each */
        {7, 0, 14, 14, 3, 42},     /* 14 x 7 = 98, 3 dropped; 7 - 1 - 3 = 3 */
        {7, 3, 3, 14, 3, 9},       /* --chunks 3 */
        {101, 0, 1, 1, 50, 50},    /* exactly one chunk: 101 - 1 - 50 */
        {3, 0, 33, 33, 1, 33},     /* the smallest: 3 - 1 - 1 = 1 */
        {4, 0, 25, 25, 1, 25},     /* 4 - 1 - 2 = 1 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mw_eval_result *r = eval_ok(f16_path, t, cases[i].ctx, cases[i].max, NULL);
        assert_int_equal(r->file_tokens, 101);
        assert_int_equal(r->chunks, cases[i].chunks);
        assert_int_equal(r->chunks_available, cases[i].avail);
        assert_int_equal(r->scored_per_chunk, cases[i].per);
        assert_int_equal(r->tokens, cases[i].tokens);
        assert_true(r->bos_first);
        assert_false(r->interrupted);
        /* the perplexity is exp of the mean of the chunks' means (same size) */
        double s = 0;
        for (uint32_t c = 0; c < r->chunks; c++) s += r->per_chunk[c].nll_mean;
        assert_true(fabs(exp(s / r->chunks) - r->perplexity) < 1e-9 * r->perplexity);
        mw_eval_result_free(r);
    }
    /* one token short of a chunk */
    eval_fails(f16_path, t, 102, NULL, MW_ERR_INVALID, "101 tokens", "102");

    /* sliding windows: ceil((101 - ctx) / stride), the last stride scored */
    static const struct { uint32_t ctx, stride, chunks, tokens; } win[] = {
        {10, 4, 23, 92},           /* (101 - 10 + 3) / 4 = 23 */
        {10, 9, 11, 99},           /* (91 + 8) / 9 = 11 */
        {10, 1, 91, 91},           /* every position past the first window's */
        {100, 50, 1, 50},          /* (1 + 49) / 50 = 1 */
    };
    for (size_t i = 0; i < sizeof win / sizeof win[0]; i++) {
        mw_eval_opts o;
        mw_eval_opts_init(&o);
        o.text_file = t;
        o.ctx = win[i].ctx;
        o.stride = win[i].stride;
        o.threads = 2;
        mw_eval_result *r = NULL;
        mw_err err;
        if (mw_eval(f16_path, &o, &r, &err) != MW_OK) fail_msg("mw_eval --stride: %s", err.msg);
        assert_int_equal(r->chunks, win[i].chunks);
        assert_int_equal(r->scored_per_chunk, win[i].stride);
        assert_int_equal(r->tokens, win[i].tokens);
        assert_int_equal(r->stride, win[i].stride);
        assert_false(r->bos_first);
        mw_eval_result_free(r);
    }
    /* a window of ctx needs more than ctx tokens; stride below ctx */
    mw_eval_opts o;
    mw_eval_opts_init(&o);
    o.text_file = t;
    o.ctx = 101;
    o.stride = 5;
    mw_eval_result *r = NULL;
    mw_err err;
    assert_int_equal(mw_eval(f16_path, &o, &r, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "sliding windows"));
    o.ctx = 10;
    o.stride = 10;
    assert_int_equal(mw_eval(f16_path, &o, &r, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "--stride 10"));
    assert_null(r);
}

static void bad_input_refused(void **state)
{
    (void)state;
    const char *ok = text_path("ok.txt");
    hello_text(ok, 50);
    const char *empty = text_path("empty.txt");
    write_file(empty, "", 0);
    eval_fails(f16_path, empty, 8, NULL, MW_ERR_INVALID, "is empty", NULL);
    const char *bad = text_path("bad.txt");
    write_file(bad, "hello world \xff hello", 19);
    eval_fails(f16_path, bad, 8, NULL, MW_ERR_INVALID, "UTF-8", "offset 12");
    eval_fails(f16_path, ok, 257, NULL, MW_ERR_INVALID, "context length", "256");
    eval_fails(f16_path, ok, 2, NULL, MW_ERR_INVALID, "--ctx 2", NULL);
    eval_fails(f16_path, ok, 0, NULL, MW_ERR_INVALID, "the 256 of one chunk", NULL);
    eval_fails(f16_path, ok, 8, meta_path, MW_ERR_INVALID, "first at token id 259", NULL);
    eval_fails(f16_path, ok, 8, v600_path, MW_ERR_INVALID, "512 tokens", "600");
    eval_fails(MW_DEMO_MODEL, ok, 8, NULL, MW_ERR_INVALID, "convert --demo", NULL);
    eval_fails(f16_path, ok, 8, MW_DEMO_MODEL, MW_ERR_INVALID, "convert --demo", NULL);
    eval_fails(f16_path, text_path("missing.txt"), 8, NULL, MW_ERR_NOT_FOUND, "missing.txt", NULL);
    eval_fails(f16_path, NULL, 8, NULL, MW_ERR_INVALID, "--text-file", NULL);
    /* a model file that is not a model */
    eval_fails(ok, ok, 8, NULL, MW_ERR_INVALID, NULL, NULL);
}

static void stop_before_any_chunk(void **state)
{
    (void)state;
    const char *t = text_path("stop.txt");
    hello_text(t, 50);
    volatile sig_atomic_t stop = SIGINT;
    mw_eval_opts o;
    mw_eval_opts_init(&o);
    o.text_file = t;
    o.ctx = 10;
    o.threads = 1;
    o.cancel = &stop;
    mw_eval_result *r = NULL;
    mw_err err;
    assert_int_not_equal(mw_eval(f16_path, &o, &r, &err), MW_OK);
    assert_null(r);
    assert_non_null(strstr(err.msg, "stopped"));
}

/* The all-rows step gives, for every position, the logits that one-token
 * steps give. */
static void rows_match_one_token_steps(void **state)
{
    (void)state;
    mw_pool *pool = NULL;
    mw_llama *m = NULL;
    mw_err err;
    assert_int_equal(mw_pool_init(&pool, 2, &err), MW_OK);
    assert_int_equal(mw_llama_load(f16_path, 0, 0, pool, &m, &err), MW_OK);
    enum { N = 20, FROM = 7 };
    const uint32_t V = m->hp.n_vocab;
    int32_t tok[N], seq[N] = {0}, pos[N];
    for (int i = 0; i < N; i++) tok[i] = (int32_t)((i * 37 + 5) % V), pos[i] = i;
    mw_kv_cache kv;
    mw_forward fw;
    mw_step_shape shapes[2] = {{N, N}, {1, N}};
    assert_int_equal(mw_kv_cache_init(&kv, m, MW_DTYPE_F32, 1, N, &err), MW_OK);
    assert_int_equal(mw_forward_init(&fw, m, &kv, pool, shapes, 2, 1, &err), MW_OK);
    float *all = malloc((size_t)(N - FROM) * V * sizeof(float)), *one = malloc((size_t)V * sizeof(float));
    assert_non_null(all);
    assert_non_null(one);
    assert_int_equal(mw_forward_step_rows(&fw, N, tok, seq, pos, FROM, all, &err), MW_OK);
    for (int i = 0; i < N; i++) {
        int32_t last = 0;
        assert_int_equal(mw_forward_step(&fw, 1, tok + i, seq, pos + i, &last, one, &err), MW_OK);
        if (i < FROM) continue;
        for (uint32_t v = 0; v < V; v++) {
            float a = all[(size_t)(i - FROM) * V + v], b = one[v];
            if (fabsf(a - b) > 1e-4f * (1.0f + fabsf(b))) fail_msg("position %d, logit %u: %g vs %g", i, v, a, b);
        }
    }
    /* from out of range */
    assert_int_not_equal(mw_forward_step_rows(&fw, N, tok, seq, pos, N, all, &err), MW_OK);
    free(all);
    free(one);
    mw_forward_free(&fw);
    mw_kv_cache_free(&kv);
    mw_llama_free(m);
    mw_pool_free(pool);
}

static void allocation_failures_are_clean(void **state)
{
    (void)state;
    const char *t = text_path("alloc.txt");
    hello_text(t, 30);
    for (int with_ref = 0; with_ref < 2; with_ref++) {
        mw_eval_opts o;
        mw_eval_opts_init(&o);
        o.text_file = t;
        o.ctx = 16;
        o.threads = 1;
        o.ref = with_ref ? f16_path : NULL;
        mw_eval_result *r = NULL;
        mw_err err;
        /* the allocations of a whole run (with a reference, the
         * vocabularies' comparison makes some per id) */
        mw_mem_stats a, b;
        mw_mem_get_stats(&a);
        assert_int_equal(mw_eval(q8_path, &o, &r, &err), MW_OK);
        mw_eval_result_free(r);
        mw_mem_get_stats(&b);
        uint64_t n = b.allocations - a.allocations;
        assert_true(n > 10);
        for (uint64_t k = 1; k <= n; k++) {
            r = NULL;
            mw_mem_fail_after(k);
            mw_status st = mw_eval(q8_path, &o, &r, &err);
            mw_mem_fail_after(0);
            if (st != MW_ERR_NOMEM)
                fail_msg("allocation %llu of %llu failing: status %d (%s)", (unsigned long long)k,
                         (unsigned long long)n, st, st ? err.msg : "ok");
            assert_null(r);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(self_kl_is_exactly_zero),
        cmocka_unit_test(q8_against_f16_small_kl),
        cmocka_unit_test(chunking_arithmetic),
        cmocka_unit_test(bad_input_refused),
        cmocka_unit_test(stop_before_any_chunk),
        cmocka_unit_test(rows_match_one_token_steps),
        cmocka_unit_test(allocation_failures_are_clean),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
