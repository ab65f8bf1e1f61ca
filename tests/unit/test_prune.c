/* test_prune.c - the pruning masks (engine/prune.c) against a brute-force
 * reference (a full sort by score, ties by index) on random rows, exact
 * counts, ties, NaN, the 2:4 pattern, Wanda against magnitude; and the
 * calibration norms (engine/calib.c) on models/tiny.gguf against the same
 * norms computed here from the file's embedding and attn_norm. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"
#include "engine/prune.h"
#include "engine/llama.h"
#include "engine/kernels.h"
#include "common/fileio.h"
#include "format/gguf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t rng = 0x243f6a8885a308d3ull;
static uint32_t next_u32(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng >> 32);
}
static float next_f(void) { return ((float)next_u32() / 4294967296.0f - 0.5f) * 2.0f; }

static int bit(const uint64_t *m, int64_t j) { return (int)((m[j >> 6] >> (j & 63)) & 1); }

static int64_t popcount_mask(const uint64_t *m, int64_t k)
{
    int64_t n = 0;
    for (int64_t j = 0; j < k; j++) n += bit(m, j);
    return n;
}

/* the reference: scores sorted descending (NaN last), ties by index */
typedef struct ref_item {
    float s;
    int64_t j;
} ref_item;

static int ref_cmp(const void *a, const void *b)
{
    const ref_item *x = a, *y = b;
    int xn = isnan(x->s), yn = isnan(y->s);
    if (xn != yn) return xn - yn;                 /* NaN after numbers */
    if (!xn && x->s != y->s) return x->s > y->s ? -1 : 1;
    return x->j < y->j ? -1 : x->j > y->j;
}

static void ref_mask(const float *w, const float *norm, int64_t k, mw_prune_kind kind, int64_t keep, uint64_t *m)
{
    memset(m, 0, (size_t)((k + 63) / 64) * sizeof *m);
    ref_item *it = malloc((size_t)k * sizeof *it);
    assert_non_null(it);
    for (int64_t j = 0; j < k; j++) {
        it[j].s = fabsf(w[j]) * (norm ? norm[j] : 1.0f);
        it[j].j = j;
    }
    if (kind == MW_PRUNE_2_4) {
        for (int64_t g = 0; g < k; g += 4) {
            int64_t n = k - g < 4 ? k - g : 4;
            qsort(it + g, (size_t)n, sizeof *it, ref_cmp);
            for (int64_t i = 0; i < n && i < 2; i++) m[it[g + i].j >> 6] |= 1ull << (it[g + i].j & 63);
        }
    } else {
        qsort(it, (size_t)k, sizeof *it, ref_cmp);
        if (keep > k) keep = k;
        for (int64_t i = 0; i < keep; i++) m[it[i].j >> 6] |= 1ull << (it[i].j & 63);
    }
    free(it);
}

static void check_against_ref(const float *w, const float *norm, int64_t k, mw_prune_kind kind, int64_t keep)
{
    int64_t words = (k + 63) / 64;
    uint64_t *a = malloc((size_t)words * sizeof *a), *b = malloc((size_t)words * sizeof *b);
    assert_non_null(a);
    assert_non_null(b);
    memset(a, 0xAB, (size_t)words * sizeof *a); /* written whole */
    mw_prune_row_mask(w, norm, k, kind, keep, a);
    ref_mask(w, norm, k, kind, keep, b);
    for (int64_t i = 0; i < words; i++) {
        if (a[i] != b[i]) fail_msg("k %lld kind %d keep %lld: word %lld is %llx, the reference %llx", (long long)k,
                                   (int)kind, (long long)keep, (long long)i, (unsigned long long)a[i],
                                   (unsigned long long)b[i]);
    }
    free(a);
    free(b);
}

static void test_exact_count(void **state)
{
    (void)state;
    float w[256];
    uint64_t m[4];
    for (int i = 0; i < 256; i++) w[i] = next_f();
    for (int64_t keep = 0; keep <= 256; keep++) {
        mw_prune_row_mask(w, NULL, 256, MW_PRUNE_RATIO, keep, m);
        assert_int_equal(popcount_mask(m, 256), keep);
    }
    /* clamped: past k keeps all, negative none; NONE keeps all */
    mw_prune_row_mask(w, NULL, 256, MW_PRUNE_RATIO, 1000, m);
    assert_int_equal(popcount_mask(m, 256), 256);
    mw_prune_row_mask(w, NULL, 256, MW_PRUNE_RATIO, -3, m);
    assert_int_equal(popcount_mask(m, 256), 0);
    mw_prune_row_mask(w, NULL, 256, MW_PRUNE_NONE, 3, m);
    assert_int_equal(popcount_mask(m, 256), 256);
    /* bits past k are 0 */
    mw_prune_row_mask(w, NULL, 70, MW_PRUNE_NONE, 0, m);
    assert_int_equal(m[0], ~0ull);
    assert_int_equal(m[1], (1ull << 6) - 1);
}

static void test_magnitude_keeps_largest(void **state)
{
    (void)state;
    const float w[8] = {0.1f, -0.9f, 0.3f, 0.0f, -0.5f, 0.7f, -0.2f, 0.05f};
    uint64_t m;
    mw_prune_row_mask(w, NULL, 8, MW_PRUNE_RATIO, 3, &m);
    assert_int_equal(m, (1ull << 1) | (1ull << 5) | (1ull << 4)); /* |-0.9|, 0.7, |-0.5| */
    mw_prune_row_mask(w, NULL, 8, MW_PRUNE_RATIO, 1, &m);
    assert_int_equal(m, 1ull << 1);
}

static void test_ties_lower_index(void **state)
{
    (void)state;
    float w[100];
    uint64_t m[2];
    for (int i = 0; i < 100; i++) w[i] = (i % 2) ? 1.0f : -1.0f; /* all |w| equal */
    mw_prune_row_mask(w, NULL, 100, MW_PRUNE_RATIO, 37, m);
    for (int i = 0; i < 100; i++) assert_int_equal(bit(m, i), i < 37);
    /* a tie at the threshold: one larger value at the end, then the lowest
     * indices of the tied ones */
    w[99] = 2.0f;
    mw_prune_row_mask(w, NULL, 100, MW_PRUNE_RATIO, 3, m);
    for (int i = 0; i < 100; i++) assert_int_equal(bit(m, i), i == 99 || i < 2);
    /* -0 and +0 tie */
    float z[4] = {-0.0f, 0.0f, -0.0f, 0.0f};
    uint64_t mz;
    mw_prune_row_mask(z, NULL, 4, MW_PRUNE_RATIO, 2, &mz);
    assert_int_equal(mz, 3);
    mw_prune_row_mask(z, NULL, 4, MW_PRUNE_2_4, 0, &mz);
    assert_int_equal(mz, 3);
}

static void test_nan_smallest(void **state)
{
    (void)state;
    float w[8] = {NAN, 0.0f, -NAN, 1e-30f, INFINITY, NAN, -INFINITY, 0.5f};
    uint64_t m;
    /* order: inf(4) = inf(6) > 0.5(7) > 1e-30(3) > 0(1) > NaN(0, 2, 5) */
    mw_prune_row_mask(w, NULL, 8, MW_PRUNE_RATIO, 5, &m);
    assert_int_equal(m, (1ull << 4) | (1ull << 6) | (1ull << 7) | (1ull << 3) | (1ull << 1));
    mw_prune_row_mask(w, NULL, 8, MW_PRUNE_RATIO, 6, &m);
    assert_int_equal(m, 0xDBull | 0); /* + the first NaN, index 0 */
    /* a NaN norm makes the score NaN */
    float w2[4] = {1.0f, 1.0f, 1.0f, 1.0f}, n2[4] = {NAN, 1.0f, NAN, 0.5f};
    mw_prune_row_mask(w2, n2, 4, MW_PRUNE_RATIO, 2, &m);
    assert_int_equal(m, (1ull << 1) | (1ull << 3));
    mw_prune_row_mask(w2, n2, 4, MW_PRUNE_2_4, 0, &m);
    assert_int_equal(m, (1ull << 1) | (1ull << 3));
    check_against_ref(w, NULL, 8, MW_PRUNE_RATIO, 4);
    check_against_ref(w, NULL, 8, MW_PRUNE_2_4, 0);
}

static void test_two_four_pattern(void **state)
{
    (void)state;
    enum { K = 4096 };
    static float w[K];
    static uint64_t m[K / 64];
    for (int i = 0; i < K; i++) w[i] = next_f();
    mw_prune_row_mask(w, NULL, K, MW_PRUNE_2_4, 12345 /* ignored */, m);
    for (int g = 0; g < K; g += 4) {
        int kept = bit(m, g) + bit(m, g + 1) + bit(m, g + 2) + bit(m, g + 3);
        assert_int_equal(kept, 2);
        /* every kept one at least as large as every dropped one */
        for (int a = g; a < g + 4; a++)
            for (int b = g; b < g + 4; b++)
                if (bit(m, a) && !bit(m, b)) assert_true(fabsf(w[a]) >= fabsf(w[b]));
    }
    const float t[8] = {0.1f, 0.4f, -0.3f, 0.2f, 1.0f, 1.0f, 1.0f, 1.0f};
    uint64_t mt;
    mw_prune_row_mask(t, NULL, 8, MW_PRUNE_2_4, 0, &mt);
    assert_int_equal(mt, (1ull << 1) | (1ull << 2) | (1ull << 4) | (1ull << 5));
    /* a trailing partial group keeps min(2, size) */
    mw_prune_row_mask(t, NULL, 5, MW_PRUNE_2_4, 0, &mt);
    assert_int_equal(mt, (1ull << 1) | (1ull << 2) | (1ull << 4));
    mw_prune_row_mask(t, NULL, 7, MW_PRUNE_2_4, 0, &mt);
    assert_int_equal(mt, (1ull << 1) | (1ull << 2) | (1ull << 4) | (1ull << 5));
}

static void test_wanda_differs(void **state)
{
    (void)state;
    /* equal norms: Wanda = magnitude; a large norm on small weights turns
     * the choice */
    const float w[8] = {0.9f, 0.8f, 0.7f, 0.6f, 0.1f, 0.2f, 0.3f, 0.05f};
    const float same[8] = {2, 2, 2, 2, 2, 2, 2, 2};
    const float norm[8] = {1, 1, 1, 1, 100, 100, 1, 1};
    uint64_t mm, mw, ms;
    mw_prune_row_mask(w, NULL, 8, MW_PRUNE_RATIO, 4, &mm);
    mw_prune_row_mask(w, same, 8, MW_PRUNE_RATIO, 4, &ms);
    mw_prune_row_mask(w, norm, 8, MW_PRUNE_RATIO, 4, &mw);
    assert_int_equal(mm, 0x0F);
    assert_int_equal(ms, mm);
    assert_int_equal(mw, (1ull << 4) | (1ull << 5) | (1ull << 0) | (1ull << 1)); /* 20, 10, 0.9, 0.8 */
    mw_prune_row_mask(w, NULL, 8, MW_PRUNE_2_4, 0, &mm);
    mw_prune_row_mask(w, norm, 8, MW_PRUNE_2_4, 0, &mw);
    assert_int_equal(mm, 0x03 | 0x60);  /* 0.9 0.8 | 0.2 0.3 */
    assert_int_equal(mw, 0x03 | 0x30);  /* 0.9 0.8 | 20 10   */
}

static void test_random_against_sort(void **state)
{
    (void)state;
    /* past 16384 the keys are recomputed in each pass (prune.c) */
    static const int64_t ks[] = {1, 3, 4, 7, 63, 64, 65, 128, 192, 500, 512, 2048, 4097, 16384, 16385, 20000};
    float *w = malloc(20000 * sizeof *w), *norm = malloc(20000 * sizeof *norm);
    assert_non_null(w);
    assert_non_null(norm);
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
        int64_t k = ks[i];
        for (int rep = 0; rep < 6; rep++) {
            for (int64_t j = 0; j < k; j++) {
                /* rep 2, 3: few distinct values (many ties); rep 4: with
                 * NaNs and zeros */
                w[j] = rep == 2 || rep == 3 ? (float)((int)(next_u32() % 5) - 2) * 0.25f : next_f();
                if (rep == 4 && next_u32() % 7 == 0) w[j] = next_u32() % 2 ? NAN : 0.0f;
                norm[j] = (float)(next_u32() % 1000) * 0.01f;
            }
            int64_t keeps[] = {0, 1, k / 2, k - 1, k, (int64_t)(next_u32() % (uint32_t)(k + 1))};
            for (size_t q = 0; q < sizeof keeps / sizeof keeps[0]; q++) {
                check_against_ref(w, NULL, k, MW_PRUNE_RATIO, keeps[q]);
                check_against_ref(w, norm, k, MW_PRUNE_RATIO, keeps[q]);
            }
            check_against_ref(w, NULL, k, MW_PRUNE_2_4, 0);
            check_against_ref(w, norm, k, MW_PRUNE_2_4, 0);
        }
    }
    free(w);
    free(norm);
}

/* ---- calibration --------------------------------------------------------- */

static char tiny[512], heldout[512];

static void paths(void)
{
    const char *src = getenv("MW_SOURCE_DIR");
    snprintf(tiny, sizeof tiny, "%s/models/tiny.gguf", src ? src : ".");
    snprintf(heldout, sizeof heldout, "%s/models/tiny.heldout.txt", src ? src : ".");
}

static int sanitized(void)
{
    const char *s = getenv("MW_SANITIZED");
    return s && *s == '1';
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The inputs of blk.0.attn_q.weight are rmsnorm(embd[t]) * attn_norm of
 * every fed token: computed here from the file in double, with the fed
 * tokens rebuilt as calib.c documents them (BOS + n_ctx - 1 text tokens a
 * window). */
static void check_layer0(const char *path, const mw_calib *c, const char *text, uint32_t n_ctx, uint64_t max_tokens)
{
    mw_err err = {0};
    mw_llama *m = NULL;
    mw_tokenizer *tok = NULL;
    assert_int_equal(mw_llama_load(path, 0, 0, NULL, &m, &err), MW_OK);
    assert_int_equal(mw_tokenizer_open(path, &tok, &err), MW_OK);
    uint32_t *ids = NULL;
    size_t n_ids = 0;
    assert_int_equal(mw_tokenizer_encode(tok, text, strlen(text), 0, &ids, &n_ids, &err), MW_OK);
    int64_t bos = mw_tokenizer_adds_bos(tok) ? mw_tokenizer_bos(tok) : -1;
    const int64_t h = m->hp.n_embd;
    /* the embedding row as the file holds it (F32, or dequantized) */
    const uint8_t *E = m->token_embd.data;
    const size_t row_bytes = (size_t)mw_dtype_bytes(m->token_embd.type, (uint64_t)h);
    const float *g = m->layers[0].attn_norm.data;
    float *e = malloc((size_t)h * sizeof *e);
    assert_non_null(e);
    double *acc = calloc((size_t)h, sizeof *acc);
    assert_non_null(acc);
    uint64_t fed = 0, windows = 0;
    size_t next = 0;
    while (next < n_ids && fed + (bos >= 0 ? 2 : 1) <= max_tokens) {
        uint32_t w = 0;
        windows++;
        while (w < n_ctx && fed < max_tokens) {
            int64_t t;
            if (w == 0 && bos >= 0) t = bos;
            else if (next < n_ids) t = ids[next++];
            else break;
            mw_k_dequant_row(m->token_embd.type, E + (size_t)t * row_bytes, e, h);
            double ss = 0;
            for (int64_t j = 0; j < h; j++) ss += (double)e[j] * e[j];
            double r = 1.0 / sqrt(ss / (double)h + (double)m->eps);
            for (int64_t j = 0; j < h; j++) {
                double x = (double)e[j] * r * g[j];
                acc[j] += x * x;
            }
            w++;
            fed++;
        }
    }
    assert_int_equal(mw_calib_tokens(c), fed);
    assert_int_equal(mw_calib_windows(c), windows);
    int64_t k = 0, kk = 0, kv = 0;
    const float *q = mw_calib_col_norms(c, "blk.0.attn_q.weight", &k);
    const float *kn = mw_calib_col_norms(c, "blk.0.attn_k.weight", &kk);
    const float *vn = mw_calib_col_norms(c, "blk.0.attn_v.weight", &kv);
    assert_non_null(q);
    assert_non_null(kn);
    assert_non_null(vn);
    assert_int_equal(k, h);
    assert_int_equal(kk, h);
    assert_int_equal(kv, h);
    for (int64_t j = 0; j < h; j++) {
        double want = sqrt(acc[j]);
        if (fabs(q[j] - want) > 1e-4 * want + 1e-6)
            fail_msg("column %lld: %.8g, computed directly %.8g", (long long)j, (double)q[j], want);
        assert_true(kn[j] == q[j]); /* the same rows, the same sums */
        assert_true(vn[j] == q[j]);
    }
    free(acc);
    free(e);
    mw_free(ids);
    mw_tokenizer_free(tok);
    mw_llama_free(m);
}

static void test_calib_tiny(void **state)
{
    (void)state;
    paths();
    mw_err err = {0};
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(mw_file_read_all(heldout, 1u << 24, "a text", &text, &len, &err), MW_OK);
    if (sanitized() && len > 6000) text[6000] = 0; /* -O0 with ASan: ~20x slower */
    mw_calib *c = NULL;
    double t0 = now();
    assert_int_equal(mw_calib_collect(tiny, text, 0, 2, &c, &err), MW_OK);
    double dt = now() - t0;
    print_message("calibration of %s over %s: %llu tokens in %llu windows, %.3f s (2 threads)\n", tiny, heldout,
                  (unsigned long long)mw_calib_tokens(c), (unsigned long long)mw_calib_windows(c), dt);
    check_layer0(tiny, c, text, 256, MW_CALIB_MAX_TOKENS); /* tiny's context: the default window */
    /* every linear weight has norms of its width; tied output has none */
    char name[64];
    for (int l = 0; l < 4; l++) {
        static const char *const roles[] = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up",
                                            "ffn_down"};
        for (int r = 0; r < 7; r++) {
            snprintf(name, sizeof name, "blk.%d.%s.weight", l, roles[r]);
            int64_t k = 0;
            const float *n = mw_calib_col_norms(c, name, &k);
            assert_non_null(n);
            assert_int_equal(k, r == 6 ? 512 : 192);
            double sum = 0;
            for (int64_t j = 0; j < k; j++) {
                assert_true(isfinite(n[j]) && n[j] >= 0);
                sum += n[j];
            }
            assert_true(sum > 0);
        }
        /* gate and up share their rows */
        snprintf(name, sizeof name, "blk.%d.ffn_gate.weight", l);
        const float *ga = mw_calib_col_norms(c, name, NULL);
        snprintf(name, sizeof name, "blk.%d.ffn_up.weight", l);
        const float *up = mw_calib_col_norms(c, name, NULL);
        assert_memory_equal(ga, up, 192 * sizeof(float));
    }
    int64_t k = 7;
    assert_null(mw_calib_col_norms(c, "output.weight", &k));
    assert_int_equal(k, 0);
    assert_null(mw_calib_col_norms(c, "token_embd.weight", NULL));
    assert_null(mw_calib_col_norms(c, "blk.0.attn_norm.weight", NULL));
    assert_null(mw_calib_col_norms(c, "blk.4.attn_q.weight", NULL));
    mw_calib_free(c);

    /* a smaller window and a token cap: the same rebuild */
    c = NULL;
    assert_int_equal(mw_calib_collect_n(tiny, text, 100, 1, 1000, &c, &err), MW_OK);
    assert_true(mw_calib_tokens(c) <= 1000);
    check_layer0(tiny, c, text, 100, 1000);
    mw_calib_free(c);
    mw_free(text);
}


/* tiny.gguf with an untied output.weight (token_embd's values reversed):
 * its metadata copied key by key (the types tiny.gguf holds), its tensors
 * as they are, and the output after them. */
static void write_untied(const char *out)
{
    mw_err err = {0};
    mw_gguf *g = NULL;
    mw_gguf_writer *w = NULL;
    assert_int_equal(mw_gguf_open(tiny, &g, &err), MW_OK);
    assert_int_equal(mw_gguf_writer_init(&w, &err), MW_OK);
    for (uint64_t i = 0; i < mw_gguf_kv_count(g); i++) {
        const mw_gguf_kv *kv = mw_gguf_kv_at(g, i);
        char key[256];
        assert_true(kv->key_len < sizeof key);
        memcpy(key, kv->key, kv->key_len);
        key[kv->key_len] = 0;
        const mw_gguf_value *v = &kv->value;
        mw_status st = MW_ERR_INTERNAL;
        switch (v->type) {
        case MW_GGUF_STRING: {
            char *str = calloc(v->v.str.len + 1, 1);
            assert_non_null(str);
            memcpy(str, v->v.str.ptr, v->v.str.len);
            st = mw_gguf_writer_set_str(w, key, str, &err);
            free(str);
            break;
        }
        case MW_GGUF_U32: st = mw_gguf_writer_set_u32(w, key, (uint32_t)v->v.u, &err); break;
        case MW_GGUF_U64: st = mw_gguf_writer_set_u64(w, key, v->v.u, &err); break;
        case MW_GGUF_I32: st = mw_gguf_writer_set_i32(w, key, (int32_t)v->v.i, &err); break;
        case MW_GGUF_F32: st = mw_gguf_writer_set_f32(w, key, (float)v->v.f, &err); break;
        case MW_GGUF_BOOL: st = mw_gguf_writer_set_bool(w, key, (int)v->v.u, &err); break;
        case MW_GGUF_ARRAY: {
            uint64_t n = v->v.arr.count;
            const uint8_t *pos = v->v.arr.data;
            mw_gguf_value e;
            if (v->v.arr.type == MW_GGUF_STRING) {
                char **strs = calloc(n ? n : 1, sizeof *strs);
                assert_non_null(strs);
                for (uint64_t j = 0; j < n; j++) {
                    pos = mw_gguf_array_elem(MW_GGUF_STRING, pos, &e);
                    strs[j] = calloc(e.v.str.len + 1, 1);
                    assert_non_null(strs[j]);
                    memcpy(strs[j], e.v.str.ptr, e.v.str.len);
                }
                st = mw_gguf_writer_set_str_array(w, key, (const char *const *)strs, n, &err);
                for (uint64_t j = 0; j < n; j++) free(strs[j]);
                free(strs);
            } else {
                assert_true(v->v.arr.type == MW_GGUF_F32 || v->v.arr.type == MW_GGUF_I32 ||
                            v->v.arr.type == MW_GGUF_U32);
                uint32_t *vals = calloc(n ? n : 1, 4);
                assert_non_null(vals);
                for (uint64_t j = 0; j < n; j++) {
                    pos = mw_gguf_array_elem(v->v.arr.type, pos, &e);
                    if (v->v.arr.type == MW_GGUF_F32) {
                        float f = (float)e.v.f;
                        memcpy(&vals[j], &f, 4);
                    } else if (v->v.arr.type == MW_GGUF_I32) {
                        int32_t x = (int32_t)e.v.i;
                        memcpy(&vals[j], &x, 4);
                    } else {
                        vals[j] = (uint32_t)e.v.u;
                    }
                }
                st = mw_gguf_writer_set_array(w, key, v->v.arr.type, vals, n, &err);
                free(vals);
            }
            break;
        }
        default: fail_msg("tiny.gguf's key %s has type %d, which this copier does not handle", key, (int)v->type);
        }
        if (st != MW_OK) fail_msg("%s", err.msg);
    }
    const mw_gguf_tensor *te = NULL;
    for (uint64_t i = 0; i < mw_gguf_tensor_count(g); i++) {
        const mw_gguf_tensor *t = mw_gguf_tensor_at(g, i);
        char name[256];
        memcpy(name, t->name, t->name_len);
        name[t->name_len] = 0;
        if (!strcmp(name, "token_embd.weight")) te = t;
        assert_int_equal(mw_gguf_writer_add_tensor(w, name, t->dtype, t->n_dims, t->dims, t->data, &err), MW_OK);
    }
    assert_non_null(te);
    assert_int_equal(te->dtype, MW_DTYPE_F32);
    uint64_t n = te->dims[0] * te->dims[1];
    float *rev = malloc(n * sizeof *rev);
    assert_non_null(rev);
    for (uint64_t i = 0; i < n; i++) rev[i] = ((const float *)te->data)[n - 1 - i];
    assert_int_equal(mw_gguf_writer_add_tensor(w, "output.weight", MW_DTYPE_F32, 2, te->dims, rev, &err), MW_OK);
    assert_int_equal(mw_gguf_writer_write(w, out, &err), MW_OK);
    mw_gguf_writer_free(w);
    free(rev);
    mw_gguf_close(g);
}

/* output.weight's inputs are the final norm's rows r = x / rms(x) * g of
 * every fed token, so Σ_j (r_j / g_j)² = h · ms / (ms + eps) per token:
 * Σ_j norm_j² / g_j² is tokens · h, a little less (eps). */
static void test_calib_untied_output(void **state)
{
    (void)state;
    paths();
    char path[] = "/tmp/mw_test_prune_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_untied(path);
    mw_err err = {0};
    mw_calib *c = NULL;
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(mw_file_read_all(heldout, 1u << 24, "a text", &text, &len, &err), MW_OK);
    assert_true(len > 20000);
    text[sanitized() ? 4000 : 20000] = 0; /* enough */
    mw_status st = mw_calib_collect(path, text, 128, 2, &c, &err);
    if (st != MW_OK) fail_msg("%s", err.msg);
    int64_t k = 0;
    const float *on = mw_calib_col_norms(c, "output.weight", &k);
    assert_non_null(on);
    assert_int_equal(k, 192);
    assert_null(mw_calib_col_norms(c, "token_embd.weight", NULL));
    mw_llama *m = NULL;
    assert_int_equal(mw_llama_load(path, 0, 0, NULL, &m, &err), MW_OK);
    assert_true(m->output.data != m->token_embd.data);
    const float *g = m->output_norm.data;
    double sum = 0;
    for (int64_t j = 0; j < k; j++) {
        assert_true(fabsf(g[j]) > 1e-3f);
        sum += (double)on[j] * on[j] / ((double)g[j] * g[j]);
    }
    double want = (double)mw_calib_tokens(c) * (double)k;
    print_message("output.weight: sum of (norm_j / g_j)^2 %.6g, tokens x h %.6g\n", sum, want);
    assert_true(sum <= want * (1 + 1e-5));
    assert_true(sum >= want * (1 - 1e-3));
    mw_llama_free(m);
    mw_calib_free(c);
    mw_free(text);
    unlink(path);
}

/* A quantized model (mw-gen-gguf: Q8_0 and Q4_K matrices and embedding,
 * the test vocabulary of "hello world"): the inputs are the f32 rows before
 * the product quantizes them, layer 0's still the dequantized embedding's
 * norm. */
static void test_calib_quantized(void **state)
{
    (void)state;
    static const char *const types[] = {"q8_0", "q4_k"};
    for (int ti = 0; ti < 2; ti++) {
        char path[] = "/tmp/mw_test_prune_q_XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        close(fd);
        const char *gen = getenv("MW_GEN_GGUF");
        char def[512], cmd[1200];
        if (!gen) {
            const char *b = getenv("MW_BUILD_DIR");
            snprintf(def, sizeof def, "%s/tests/mw-gen-gguf", b ? b : "build");
            gen = def;
        }
        snprintf(cmd, sizeof cmd,
                 "'%s' --layers 2 --embd 256 --heads 4 --kv-heads 2 --ff 512 --ctx 64 --vocab 600 --dtype %s "
                 "--test-vocab '%s'", gen, types[ti], path);
        assert_int_equal(system(cmd), 0);
        static char text[4096];
        size_t n = 0;
        for (int i = 0; i < 100; i++) n += (size_t)snprintf(text + n, sizeof text - n, "%shello world", i ? " " : "");
        mw_err err = {0};
        mw_calib *c = NULL;
        mw_status st = mw_calib_collect(path, text, 0, 2, &c, &err);
        if (st != MW_OK) fail_msg("%s", err.msg);
        assert_true(mw_calib_windows(c) >= 4); /* 200 text tokens in windows of 64 */
        check_layer0(path, c, text, 64, MW_CALIB_MAX_TOKENS);
        int64_t k = 0;
        const float *dn = mw_calib_col_norms(c, "blk.1.ffn_down.weight", &k);
        assert_non_null(dn);
        assert_int_equal(k, 512);
        mw_calib_free(c);
        unlink(path);
    }
}

static void test_calib_refused(void **state)
{
    (void)state;
    paths();
    mw_err err = {0};
    mw_calib *c = (mw_calib *)1;
    assert_int_equal(mw_calib_collect(MW_DEMO_MODEL, "some text", 0, 1, &c, &err), MW_ERR_INVALID);
    assert_null(c);
    assert_non_null(strstr(err.msg, "vocabulary"));
    assert_int_equal(mw_calib_collect(tiny, "", 0, 1, &c, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "empty"));
    assert_int_equal(mw_calib_collect(tiny, "some text", 257, 1, &c, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "context length"));
    assert_int_equal(mw_calib_collect(tiny, "some text", 1, 1, &c, &err), MW_ERR_INVALID);
    assert_int_equal(mw_calib_collect_n(tiny, "some text", 0, 1, 0, &c, &err), MW_ERR_INVALID);
    assert_int_not_equal(mw_calib_collect("/nonexistent/model.gguf", "some text", 0, 1, &c, &err), MW_OK);
    assert_null(c);
    /* malformed UTF-8 is the tokenizer's refusal, named as the calibration text */
    assert_int_not_equal(mw_calib_collect(tiny, "ab\xff\xfe", 0, 1, &c, &err), MW_OK);
    assert_non_null(strstr(err.msg, "calibration text"));
    assert_null(mw_calib_col_norms(NULL, "blk.0.attn_q.weight", NULL));
    mw_calib_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_count),
        cmocka_unit_test(test_magnitude_keeps_largest),
        cmocka_unit_test(test_ties_lower_index),
        cmocka_unit_test(test_nan_smallest),
        cmocka_unit_test(test_two_four_pattern),
        cmocka_unit_test(test_wanda_differs),
        cmocka_unit_test(test_random_against_sort),
        cmocka_unit_test(test_calib_tiny),
        cmocka_unit_test(test_calib_untied_output),
        cmocka_unit_test(test_calib_quantized),
        cmocka_unit_test(test_calib_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
