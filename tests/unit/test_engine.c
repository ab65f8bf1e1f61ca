/* test_engine.c - the engine on small GGUF models written by our writer:
 * bad models named precisely; results that must not depend on how the work
 * is cut (batching, prefill steps, threads, mmap); the measured memory
 * against the plan (weights and KV to the byte, activations within 5%);
 * allocation failures. Agreement with PyTorch and llama.cpp is checked by
 * tests/ref and tests/llamacpp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"
#include "common/test_hooks.h"
#include "engine/kernels.h"
#include "engine/llama.h"
#include "format/gguf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define H 64
#define HEADS 4
#define KV_HEADS 2
#define HEAD_DIM 32
#define FF 96
#define VOCAB 128
#define LAYERS 2

typedef struct spec {
    mw_dtype type;             /* of the matrices */
    const char *arch;
    const char *skip;          /* a tensor to leave out */
    const char *bad_shape;     /* a tensor to give a wrong shape */
    int tied;
} spec;

static uint64_t rng_state;
static float rnd(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return ((float)(rng_state >> 40) / (float)(1u << 24) - 0.5f) * 0.2f;
}

/* Writes a tiny llama model; returns its path in buf. */
static void write_model(const spec *sp, char *path, size_t cap)
{
    static int counter;
    snprintf(path, cap, "/tmp/mw-engine-%d-%d.gguf", (int)getpid(), counter++);
    mw_err err = {0};
    mw_gguf_writer *w;
    assert_int_equal(mw_gguf_writer_init(&w, &err), MW_OK);
    assert_int_equal(mw_gguf_writer_set_str(w, "general.architecture", sp->arch ? sp->arch : "llama", &err), MW_OK);
    const char *a = sp->arch ? sp->arch : "llama";
    char key[96];
#define U32(k, v) (snprintf(key, sizeof key, "%s." k, a), assert_int_equal(mw_gguf_writer_set_u32(w, key, v, &err), MW_OK))
    U32("block_count", LAYERS);
    U32("embedding_length", H);
    U32("feed_forward_length", FF);
    U32("attention.head_count", HEADS);
    U32("attention.head_count_kv", KV_HEADS);
    U32("context_length", 256);
    U32("attention.key_length", HEAD_DIM);
    U32("attention.value_length", HEAD_DIM);
    U32("vocab_size", VOCAB);
#undef U32
    snprintf(key, sizeof key, "%s.attention.layer_norm_rms_epsilon", a);
    assert_int_equal(mw_gguf_writer_set_f32(w, key, 1e-5f, &err), MW_OK);
    /* tensors: data buffers kept until the write */
    static uint8_t *bufs[64];
    int nb = 0;
    rng_state = 12345;
    struct { const char *name; int64_t rows, cols; int norm; } ts[64];
    int nt = 0;
#define T(nm, r, c, n) (ts[nt].name = (nm), ts[nt].rows = (r), ts[nt].cols = (c), ts[nt].norm = (n), nt++)
    static char names[64][48];
    T("token_embd.weight", VOCAB, H, 0);
    for (int l = 0; l < LAYERS; l++) {
        const char *suf[] = {"attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm",
                             "ffn_gate", "ffn_up", "ffn_down"};
        int64_t rows[] = {1, HEADS * HEAD_DIM, KV_HEADS * HEAD_DIM, KV_HEADS * HEAD_DIM, H, 1, FF, FF, H};
        int64_t cols[] = {H, H, H, H, HEADS * HEAD_DIM, H, H, H, FF};
        for (int k = 0; k < 9; k++) {
            snprintf(names[nt], sizeof names[0], "blk.%d.%s.weight", l, suf[k]);
            T(names[nt], rows[k], cols[k], rows[k] == 1);
        }
    }
    T("output_norm.weight", 1, H, 1);
    if (!sp->tied) T("output.weight", VOCAB, H, 0);
#undef T
    for (int i = 0; i < nt; i++) {
        if (sp->skip && !strcmp(sp->skip, ts[i].name)) continue;
        mw_dtype t = ts[i].norm ? MW_DTYPE_F32 : sp->type;
        int64_t rows = ts[i].rows, cols = ts[i].cols;
        if (sp->bad_shape && !strcmp(sp->bad_shape, ts[i].name)) rows += 1;
        size_t row_bytes = (size_t)mw_dtype_bytes(t, (uint64_t)cols);
        uint8_t *b = malloc(row_bytes * (size_t)rows);
        assert_non_null(b);
        float row[256];
        for (int64_t r = 0; r < rows; r++) {
            for (int64_t c = 0; c < cols; c++) row[c] = ts[i].norm ? 1.0f + rnd() : rnd();
            uint8_t *dst = b + (size_t)r * row_bytes;
            switch (t) {
            case MW_DTYPE_F32: memcpy(dst, row, (size_t)cols * 4); break;
            case MW_DTYPE_F16: mw_k_row_to_f16(row, (uint16_t *)dst, cols); break;
            case MW_DTYPE_BF16: mw_k_row_to_bf16(row, (uint16_t *)dst, cols); break;
            case MW_DTYPE_Q8_0: mw_k_quant_row_q8_0(row, dst, cols); break;
            case MW_DTYPE_Q4_0: mw_k_quant_row_q4_0(row, dst, cols); break;
            default: memset(dst, 0, row_bytes); break; /* a type the engine refuses */
            }
        }
        bufs[nb++] = b;
        uint64_t dims[2] = {(uint64_t)cols, (uint64_t)rows};
        assert_int_equal(mw_gguf_writer_add_tensor(w, ts[i].name, t, rows == 1 ? 1 : 2, dims, b, &err), MW_OK);
    }
    mw_status st = mw_gguf_writer_write(w, path, &err);
    if (st != MW_OK) print_error("%s\n", err.msg);
    assert_int_equal(st, MW_OK);
    mw_gguf_writer_free(w);
    for (int i = 0; i < nb; i++) free(bufs[i]);
}

static const int32_t p0[] = {5, 17, 99, 3, 42, 7, 8, 120, 64, 1};
static const int32_t p1[] = {11, 12, 13};
static const int32_t p2[] = {100, 90, 80, 70, 60, 50, 40};

static mw_run_result *run(const char *path, uint32_t n_seqs, const int32_t *const *toks,
                          const uint32_t *lens, uint32_t gen, uint32_t threads, uint32_t ubatch,
                          mw_dtype kv, int no_mmap)
{
    mw_run_opts o;
    mw_run_opts_init(&o);
    o.n_seqs = n_seqs;
    o.tokens = toks;
    o.n_tokens = lens;
    o.gen = gen;
    o.threads = threads;
    o.ubatch = ubatch;
    o.kv_dtype = kv;
    o.no_mmap = no_mmap;
    mw_run_result *r = NULL;
    mw_err err = {0};
    mw_status st = mw_run(path, &o, &r, &err);
    if (st != MW_OK) print_error("mw_run: %s\n", err.msg);
    assert_int_equal(st, MW_OK);
    return r;
}

static double max_rel(const float *a, const float *b, size_t n)
{
    double dmax = 0, bmax = 0;
    for (size_t i = 0; i < n; i++) {
        dmax = fmax(dmax, fabs((double)a[i] - b[i]));
        bmax = fmax(bmax, fabs((double)b[i]));
    }
    return bmax ? dmax / bmax : dmax;
}

static void results_do_not_depend_on_how_work_is_cut(void **state)
{
    (void)state;
    char path[128];
    spec sp = {MW_DTYPE_F32, NULL, NULL, NULL, 0};
    write_model(&sp, path, sizeof path);
    const int32_t *toks[] = {p0, p1, p2};
    uint32_t lens[] = {10, 3, 7};
    /* three sequences together, prefilled in one step, 2 threads */
    mw_run_result *all = run(path, 3, toks, lens, 6, 2, 512, MW_DTYPE_F32, 0);
    /* each alone */
    for (uint32_t s = 0; s < 3; s++) {
        mw_run_result *one = run(path, 1, &toks[s], &lens[s], 6, 1, 512, MW_DTYPE_F32, 0);
        double e = max_rel(one->logits, all->logits + (size_t)s * VOCAB, VOCAB);
        if (!(e < 1e-5)) print_error("sequence %u alone vs batched: %g\n", s, e);
        assert_true(e < 1e-5);
        assert_memory_equal(one->generated, all->generated + s * 6, 6 * sizeof(int32_t));
        mw_run_result_free(one);
    }
    /* the prompt in steps of 3 tokens, one thread, weights read into memory */
    mw_run_result *cut = run(path, 3, toks, lens, 6, 1, 3, MW_DTYPE_F32, 1);
    assert_true(max_rel(cut->logits, all->logits, 3 * VOCAB) < 1e-5);
    assert_memory_equal(cut->generated, all->generated, 3 * 6 * sizeof(int32_t));
    /* an f16 or q8_0 KV cache stays close */
    mw_run_result *f16 = run(path, 3, toks, lens, 0, 2, 512, MW_DTYPE_F16, 0);
    mw_run_result *f32 = run(path, 3, toks, lens, 0, 2, 512, MW_DTYPE_F32, 0);
    mw_run_result *q8 = run(path, 3, toks, lens, 0, 2, 512, MW_DTYPE_Q8_0, 0);
    assert_true(max_rel(f16->logits, f32->logits, 3 * VOCAB) < 5e-3);
    assert_true(max_rel(q8->logits, f32->logits, 3 * VOCAB) < 3e-2);
    mw_run_result_free(f16);
    mw_run_result_free(f32);
    mw_run_result_free(q8);
    mw_run_result_free(cut);
    mw_run_result_free(all);
    unlink(path);
}

static void every_weight_type_runs(void **state)
{
    (void)state;
    const int32_t *toks[] = {p0, p2};
    uint32_t lens[] = {10, 7};
    char path[128];
    spec ref_sp = {MW_DTYPE_F32, NULL, NULL, NULL, 1};
    write_model(&ref_sp, path, sizeof path);
    mw_run_result *ref = run(path, 2, toks, lens, 0, 2, 512, MW_DTYPE_F32, 0);
    unlink(path);
    struct { mw_dtype t; double tol; } types[] = {
        {MW_DTYPE_F16, 1e-2}, {MW_DTYPE_BF16, 5e-2}, {MW_DTYPE_Q8_0, 5e-2}, {MW_DTYPE_Q4_0, 0.3},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        spec sp = {types[i].t, NULL, NULL, NULL, 1};
        write_model(&sp, path, sizeof path);
        mw_run_result *r = run(path, 2, toks, lens, 0, 2, 512, MW_DTYPE_F32, 0);
        double e = max_rel(r->logits, ref->logits, 2 * VOCAB);
        if (!(e < types[i].tol)) print_error("%s: %g\n", mw_dtype_get(types[i].t)->name, e);
        assert_true(e < types[i].tol);
        mw_run_result_free(r);
        unlink(path);
    }
    mw_run_result_free(ref);
}

static void measured_memory_matches_the_plan(void **state)
{
    (void)state;
    char path[128];
    spec sp = {MW_DTYPE_Q8_0, NULL, NULL, NULL, 0};
    write_model(&sp, path, sizeof path);
    for (int no_mmap = 0; no_mmap <= 1; no_mmap++) {
        mw_run_opts o;
        mw_run_opts_init(&o);
        o.batch = 3;
        o.prompt = 20;
        o.gen = 5;
        o.threads = 2;
        o.no_mmap = no_mmap;
        mw_run_result *r = NULL;
        mw_err err;
        assert_int_equal(mw_run(path, &o, &r, &err), MW_OK);
        assert_int_equal(r->weights_mapped, !no_mmap);
        assert_int_equal(r->measured[MW_COMP_WEIGHTS], r->predicted.bytes[MW_COMP_WEIGHTS]);
        assert_int_equal(r->measured[MW_COMP_KV_CACHE], r->predicted.bytes[MW_COMP_KV_CACHE]);
        double act = (double)r->measured[MW_COMP_ACTIVATIONS], pact = (double)r->predicted.bytes[MW_COMP_ACTIVATIONS];
        if (!(fabs(act - pact) <= 0.05 * pact)) print_error("activations %g vs %g\n", act, pact);
        assert_true(fabs(act - pact) <= 0.05 * pact);
        assert_int_equal(r->measured[MW_COMP_SCRATCH], r->predicted.bytes[MW_COMP_SCRATCH]);
        assert_int_equal(r->prompt_tokens, 60);
        assert_int_equal(r->gen_tokens, 15);
        assert_true(r->prompt_tokens_per_second > 0 && r->decode_tokens_per_second > 0);
        mw_run_result_free(r);
    }
    unlink(path);
}

/* With mem_available_bytes, a workload whose plan needs more is refused
 * with the plan's numbers before its KV cache or activations exist (issue
 * 10: `run --prompt 2000000000` was OOM-killed though its plan said 15.8
 * TiB); one that fits exactly runs. */
/* A sequence stops at its stop token; the batch stops when all have: the
 * result holds the steps run and each sequence's length up to its stop. */
static void generation_stops_at_the_stop_token(void **state)
{
    (void)state;
    char path[128];
    spec sp = {MW_DTYPE_F32, NULL, NULL, NULL, 0};
    write_model(&sp, path, sizeof path);
    const int32_t *toks[] = {p0, p1};
    uint32_t lens[] = {10, 3};
    mw_run_result *full = run(path, 2, toks, lens, 8, 1, 512, MW_DTYPE_F32, 0);
    assert_int_equal(full->gen_per_seq, 8);
    assert_int_equal(full->gen_lens[0], 8);
    assert_int_equal(full->gen_lens[1], 8);
    assert_null(full->texts);

    /* stop at sequence 0's third token: sequence 0 stops there; the run
     * stops when sequence 1 has generated it too, or after 8 steps */
    int32_t stop = full->generated[2];
    uint32_t first0 = 0, first1 = 8;
    while (full->generated[first0] != stop) first0++;
    for (uint32_t g = 0; g < 8; g++)
        if (full->generated[8 + g] == stop) { first1 = g; break; }
    mw_run_opts o;
    mw_run_opts_init(&o);
    assert_int_equal(o.stop_token, -1);
    o.n_seqs = 2;
    o.tokens = toks;
    o.n_tokens = lens;
    o.gen = 8;
    o.threads = 1;
    o.kv_dtype = MW_DTYPE_F32;
    o.stop_token = stop;
    mw_run_result *r = NULL;
    mw_err err;
    assert_int_equal(mw_run(path, &o, &r, &err), MW_OK);
    uint32_t steps = first1 < 8 ? (first0 > first1 ? first0 : first1) + 1 : 8;
    assert_int_equal(r->gen_per_seq, steps);
    assert_int_equal(r->gen_lens[0], first0 + 1);
    assert_int_equal(r->gen_lens[1], first1 < 8 ? first1 + 1 : 8);
    assert_int_equal(r->gen_tokens, 2 * steps);
    /* the ids, as batch x steps, are those of the full run */
    for (uint32_t s = 0; s < 2; s++)
        for (uint32_t g = 0; g < steps; g++)
            assert_int_equal(r->generated[s * steps + g], full->generated[s * 8 + g]);
    mw_run_result_free(r);
    mw_run_result_free(full);

    /* EOS needs a vocabulary; text needs one from a file */
    o.stop_token = MW_RUN_STOP_EOS;
    assert_int_equal(mw_run(path, &o, &r, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "EOS"));
    mw_run_opts_init(&o);
    o.text = "hello";
    o.text_len = 5;
    o.gen = 1;
    assert_int_equal(mw_run(MW_DEMO_MODEL, &o, &r, &err), MW_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "demo model has no vocabulary"));
    o.n_seqs = 1;
    o.tokens = toks;
    o.n_tokens = lens;
    assert_int_equal(mw_run(path, &o, &r, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "one or the other"));
}

static void plan_checked_before_allocating(void **state)
{
    (void)state;
    char path[128];
    spec sp = {MW_DTYPE_F32, NULL, NULL, NULL, 0};
    write_model(&sp, path, sizeof path);
    mw_run_opts o;
    mw_run_opts_init(&o);
    assert_true(o.mem_available_bytes == MW_UNKNOWN); /* no check by default */
    o.batch = 2;
    o.prompt = 20;
    o.gen = 4;
    o.threads = 1;
    mw_run_result *r = NULL;
    mw_err err;
    assert_int_equal(mw_run(path, &o, &r, &err), MW_OK);
    uint64_t need = r->predicted.total_bytes;
    mw_run_result_free(r);

    o.mem_available_bytes = need; /* fits exactly */
    assert_int_equal(mw_run(path, &o, &r, &err), MW_OK);
    mw_run_result_free(r);

    o.mem_available_bytes = need - 1;
    mw_mem_stats before, after;
    mw_mem_get_stats(&before);
    r = (mw_run_result *)0x1;
    assert_int_equal(mw_run(path, &o, &r, &err), MW_ERR_NOMEM);
    assert_null(r);
    mw_mem_get_stats(&after);
    assert_non_null(strstr(err.msg, "needs"));
    assert_non_null(strstr(err.msg, "KV cache"));
    assert_non_null(strstr(err.msg, "available"));
    assert_non_null(strstr(err.msg, "--force"));
    /* nothing of the workload's size was allocated: no KV cache, no
     * activations (their peaks did not move) */
    assert_true(after.peak_bytes[MW_MEM_KV_CACHE] == before.peak_bytes[MW_MEM_KV_CACHE] ||
                before.peak_bytes[MW_MEM_KV_CACHE] >= need);
    assert_true(after.current_bytes[MW_MEM_KV_CACHE] == before.current_bytes[MW_MEM_KV_CACHE]);

    /* the case: 2e9 prompt tokens, refused before the prompts'
     * 8 GB of token ids */
    o.batch = 1;
    o.prompt = 2000000000;
    o.gen = 32;
    o.mem_available_bytes = 1ull << 30;
    mw_mem_get_stats(&before);
    assert_int_equal(mw_run(path, &o, &r, &err), MW_ERR_NOMEM);
    mw_mem_get_stats(&after);
    assert_true(after.total_peak_bytes < before.total_peak_bytes + (64ull << 20));
    assert_non_null(strstr(err.msg, "TiB"));
    unlink(path);
}

static void bad_models_named(void **state)
{
    (void)state;
    struct { spec sp; const char *want; } cases[] = {
        {{MW_DTYPE_F32, NULL, "blk.1.ffn_up.weight", NULL, 0}, "tensor blk.1.ffn_up.weight is missing"},
        {{MW_DTYPE_F32, NULL, NULL, "blk.0.attn_k.weight", 0}, "blk.0.attn_k.weight has shape [65, 64], expected [64, 64]"},
        {{MW_DTYPE_Q8_1, NULL, NULL, NULL, 0}, "has type Q8_1; the engine runs F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K and Q6_K"},
        {{MW_DTYPE_F32, "gpt2", NULL, NULL, 0}, "general.architecture is \"gpt2\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[128];
        write_model(&cases[i].sp, path, sizeof path);
        mw_run_opts o;
        mw_run_opts_init(&o);
        o.prompt = 4;
        o.gen = 1;
        mw_run_result *r = NULL;
        mw_err err = {0};
        assert_int_not_equal(mw_run(path, &o, &r, &err), MW_OK);
        if (!strstr(err.msg, cases[i].want)) print_error("got: %s\n", err.msg);
        assert_non_null(strstr(err.msg, cases[i].want));
        assert_null(r);
        unlink(path);
    }
    mw_run_opts o;
    mw_run_opts_init(&o);
    mw_run_result *r = NULL;
    mw_err err;
    assert_int_not_equal(mw_run("/nonexistent.gguf", &o, &r, &err), MW_OK);
    /* token ids outside the vocabulary */
    char path[128];
    spec sp = {MW_DTYPE_F32, NULL, NULL, NULL, 0};
    write_model(&sp, path, sizeof path);
    static const int32_t bad[] = {1, 2, VOCAB};
    const int32_t *toks[] = {bad};
    uint32_t lens[] = {3};
    o.n_seqs = 1;
    o.tokens = toks;
    o.n_tokens = lens;
    assert_int_equal(mw_run(path, &o, &r, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "outside the vocabulary"));
    unlink(path);
}

static void demo_sizes_match_the_demo(void **state)
{
    (void)state;
    /* the sweep plans the demo from these figures without generating it */
    mw_dtype types[] = {MW_DTYPE_F16, MW_DTYPE_Q8_0};
    for (size_t i = 0; i < 2; i++) {
        mw_llama *m = NULL;
        mw_err err;
        assert_int_equal(mw_llama_load_demo(types[i], 0, NULL, &m, &err), MW_OK);
        uint64_t params, bytes;
        mw_llama_demo_sizes(types[i], &params, &bytes);
        assert_int_equal(params, m->n_params);
        assert_int_equal(bytes, m->weights_bytes);
        mw_llama_free(m);
    }
    uint64_t params, bytes;
    mw_llama_demo_sizes(MW_DTYPE_F16, &params, &bytes);
    assert_int_equal(params, 100092672); /* documented in docs/ENGINE.md */
}

static void allocation_failures_are_clean(void **state)
{
    (void)state;
    char path[128];
    spec sp = {MW_DTYPE_F16, NULL, NULL, NULL, 0};
    write_model(&sp, path, sizeof path);
    int ok = 0, nomem = 0;
    for (uint64_t k = 1; k <= 60; k++) {
        mw_run_opts o;
        mw_run_opts_init(&o);
        o.batch = 2;
        o.prompt = 5;
        o.gen = 2;
        o.threads = 2;
        mw_run_result *r = NULL;
        mw_err err;
        mw_mem_fail_after(k);
        mw_status st = mw_run(path, &o, &r, &err);
        mw_mem_fail_after(0);
        assert_true(st == MW_OK || st == MW_ERR_NOMEM);
        if (st == MW_OK) ok++;
        else { nomem++; assert_null(r); }
        mw_run_result_free(r);
    }
    assert_true(ok > 0 && nomem > 0);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(results_do_not_depend_on_how_work_is_cut),
        cmocka_unit_test(every_weight_type_runs),
        cmocka_unit_test(measured_memory_matches_the_plan),
        cmocka_unit_test(plan_checked_before_allocating),
        cmocka_unit_test(generation_stops_at_the_stop_token),
        cmocka_unit_test(bad_models_named),
        cmocka_unit_test(demo_sizes_match_the_demo),
        cmocka_unit_test(allocation_failures_are_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
