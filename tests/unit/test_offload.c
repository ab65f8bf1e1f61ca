/* test_offload.c - offload splits (src/plan/offload.c) as llama.cpp's -ngl
 * places layers: all layers equal the whole plan, auto is the largest count
 * that fits (one more does not), the output layer first, and the errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"

#include <string.h>

static const mw_gpu_spec *gpu(const char *name)
{
    const mw_gpu_spec *g = NULL;
    assert_int_equal(mw_gpu_spec_find(name, &g, NULL, NULL), MW_OK);
    return g;
}

static mw_offload split(const mw_model *m, const mw_plan_opts *o, const mw_gpu_spec *g)
{
    mw_offload s;
    mw_err err = {0};
    mw_status st = mw_plan_offload(m, o, g, &s, &err);
    if (st != MW_OK) fail_msg("%s", err.msg);
    return s;
}

static mw_model *open_model(const char *name)
{
    mw_model *m = NULL;
    mw_err err = {0};
    assert_int_equal(mw_model_open(name, &m, &err), MW_OK);
    return m;
}

/* -ngl n_layers + 1 (all): the GPU holds what the whole plan holds but the
 * token embeddings, which llama.cpp keeps on the host. */
static void test_all_equals_whole_plan(void **state)
{
    (void)state;
    mw_model *m = open_model("llama-3-8b"); /* untied embeddings */
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    o.ctx = 8192;
    o.host_bytes_per_second = 50e9;
    mw_plan p;
    assert_int_equal(mw_plan_compute(m, &o, &p, NULL), MW_OK);
    o.gpu_layers = 33;
    const mw_gpu_spec *g = gpu("h100-80g");
    mw_offload s = split(m, &o, g);
    assert_int_equal(s.n_layers, 32);
    assert_int_equal(s.gpu_layers, 33);
    assert_int_equal(s.gpu_repeating_layers, 32);
    assert_true(s.output_on_gpu);
    const uint64_t emb = 128256ull * 4096 * 2; /* BF16 token table */
    assert_true(s.host_embed_bytes == emb);
    assert_true(s.host_weights_bytes == emb);
    assert_true(s.gpu_weights_bytes + s.host_weights_bytes == p.bytes[MW_COMP_WEIGHTS]);
    assert_true(s.gpu_kv_bytes == p.bytes[MW_COMP_KV_CACHE]);  /* 1 GiB at 8192 */
    assert_true(s.gpu_kv_bytes == 1ull << 30);
    assert_true(s.host_kv_bytes == 0);
    assert_true(s.gpu_compute_bytes == p.bytes[MW_COMP_ACTIVATIONS] + p.bytes[MW_COMP_SCRATCH]);
    assert_true(s.gpu_bytes == p.total_bytes - emb);
    /* its decode step reads what the whole plan's does, all on the GPU */
    assert_true(s.gpu_read_bytes == p.decode_step_bytes);
    assert_true(s.host_read_bytes == 0);
    assert_true(s.decode_step_seconds == p.decode_step_bytes / g->bandwidth_bytes_per_second);
    /* beyond all is all, as llama.cpp clamps -ngl 999 */
    o.gpu_layers = 999;
    mw_offload s2 = split(m, &o, g);
    assert_int_equal(s2.gpu_layers, 33);
    assert_true(s2.gpu_bytes == s.gpu_bytes);
    mw_model_free(m);
}

/* -ngl 0: nothing but the compute buffer on the GPU; -ngl 1: the output
 * layer only; -ngl 2: it and the last repeating layer. */
static void test_output_first(void **state)
{
    (void)state;
    mw_model *m = open_model("llama-3-8b");
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    mw_plan p;
    assert_int_equal(mw_plan_compute(m, &o, &p, NULL), MW_OK);
    const mw_gpu_spec *g = gpu("rtx-4090");
    o.gpu_layers = 0;
    mw_offload s0 = split(m, &o, g);
    assert_false(s0.output_on_gpu);
    assert_true(s0.gpu_weights_bytes == 0 && s0.gpu_kv_bytes == 0);
    assert_true(s0.host_weights_bytes == p.bytes[MW_COMP_WEIGHTS]);
    assert_true(s0.decode_step_seconds < 0); /* no host bandwidth given */
    o.gpu_layers = 1;
    mw_offload s1 = split(m, &o, g);
    assert_true(s1.output_on_gpu);
    assert_int_equal(s1.gpu_repeating_layers, 0);
    /* the head (128256 x 4096 BF16) and the final norm (4096 BF16) */
    assert_true(s1.gpu_weights_bytes == 128256ull * 4096 * 2 + 4096 * 2);
    assert_true(s1.gpu_kv_bytes == 0);
    o.gpu_layers = 2;
    mw_offload s2 = split(m, &o, g);
    /* one layer: q, o 4096x4096, k, v 1024x4096, 3 x 14336x4096, 2 norms */
    const uint64_t layer = 2 * (2ull * 4096 * 4096 + 2ull * 1024 * 4096 + 3ull * 14336 * 4096 + 2 * 4096);
    assert_true(s2.gpu_weights_bytes - s1.gpu_weights_bytes == layer);
    assert_true(s2.gpu_kv_bytes == p.bytes[MW_COMP_KV_CACHE] / 32);
    assert_true(s2.gpu_bytes + s2.host_bytes == s1.gpu_bytes + s1.host_bytes);
    mw_model_free(m);
}

/* auto: the largest count that fits the GPU less the margin (1 GiB, as
 * llama.cpp's --fit-target), and one more does not. */
static void test_auto(void **state)
{
    (void)state;
    mw_model *m = open_model("llama-3-8b");
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    o.ctx = 8192;
    const char *const names[] = {"t4", "l4", "rtx-3090", "h100"};
    for (size_t i = 0; i < 4; i++) {
        const mw_gpu_spec *g = gpu(names[i]);
        o.gpu_layers = MW_GPU_LAYERS_AUTO;
        mw_offload a = split(m, &o, g);
        assert_true(a.gpu_limit_bytes == g->memory_bytes - (1ull << 30));
        assert_true(a.fits);
        o.gpu_layers = (int32_t)a.gpu_layers;
        mw_offload n = split(m, &o, g);
        assert_true(n.gpu_bytes == a.gpu_bytes);
        assert_true(n.gpu_bytes <= a.gpu_limit_bytes);
        if (a.gpu_layers < 33) {
            o.gpu_layers = (int32_t)a.gpu_layers + 1;
            mw_offload n1 = split(m, &o, g);
            assert_true(n1.gpu_bytes > a.gpu_limit_bytes);
        }
    }
    /* the 16 GiB T4 cannot hold all of a 15 GiB model and 1 GiB of KV */
    o.gpu_layers = MW_GPU_LAYERS_AUTO;
    mw_offload t4 = split(m, &o, gpu("t4"));
    assert_true(t4.gpu_layers > 20 && t4.gpu_layers < 33);
    /* a margin of 0 fits at least as many */
    o.gpu_margin_bytes = 0;
    mw_offload t4b = split(m, &o, gpu("t4"));
    assert_true(t4b.gpu_layers >= t4.gpu_layers);
    /* the two tiers' decode step (the default margin again) */
    o.gpu_margin_bytes = MW_UNKNOWN;
    o.host_bytes_per_second = 40e9;
    mw_offload t4c = split(m, &o, gpu("t4"));
    assert_true(t4c.host_seconds > 0 && t4c.gpu_seconds > 0);
    assert_true(t4c.decode_step_seconds == t4c.gpu_seconds + t4c.host_seconds);
    assert_true(t4c.host_seconds == t4c.host_read_bytes / 40e9);
    mw_model_free(m);
}

/* A tied head: llama.cpp duplicates the token table on the GPU. */
static void test_tied(void **state)
{
    (void)state;
    mw_model *m = open_model("gemma-2b");
    assert_true(m->hp.tied_embeddings);
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    mw_plan p;
    assert_int_equal(mw_plan_compute(m, &o, &p, NULL), MW_OK);
    o.gpu_layers = (int32_t)m->hp.n_layers + 1;
    mw_offload s = split(m, &o, gpu("l4"));
    assert_true(s.host_embed_bytes > 0);
    assert_true(s.gpu_weights_bytes + s.host_weights_bytes == p.bytes[MW_COMP_WEIGHTS] + s.host_embed_bytes);
    assert_true(s.gpu_read_bytes == p.decode_step_bytes);
    mw_model_free(m);
}

/* MoE: a step reads the routed experts only (Mixtral: 2 of 8 at batch 1),
 * so all layers on the GPU read about the plan's decode bytes. */
static void test_moe(void **state)
{
    (void)state;
    mw_model *m = open_model("mixtral-8x7b");
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    o.weight_dtype = MW_DTYPE_Q4_K;
    mw_plan p;
    assert_int_equal(mw_plan_compute(m, &o, &p, NULL), MW_OK);
    o.gpu_layers = (int32_t)m->hp.n_layers + 1;
    mw_offload s = split(m, &o, gpu("h200"));
    double rel = (s.gpu_read_bytes - p.decode_step_bytes) / p.decode_step_bytes;
    assert_true(rel > -1e-3 && rel < 1e-3);
    /* and far less than all the weights */
    assert_true(s.gpu_read_bytes < 0.5 * (double)s.gpu_weights_bytes);
    mw_model_free(m);
}

static void test_errors(void **state)
{
    (void)state;
    mw_model *m = open_model("llama-3-8b");
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    mw_offload s;
    mw_err err = {0};
    o.gpu_layers = 4;
    assert_int_equal(mw_plan_offload(m, &o, NULL, &s, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "--gpu"));
    o.tp = 2;
    assert_int_equal(mw_plan_offload(m, &o, gpu("h100"), &s, &err), MW_ERR_INVALID);
    o.tp = 1;
    o.training = 1;
    assert_int_equal(mw_plan_offload(m, &o, gpu("h100"), &s, &err), MW_ERR_INVALID);
    o.training = 0;
    o.gpu_layers = MW_GPU_LAYERS_NONE;
    assert_int_equal(mw_plan_offload(m, &o, gpu("h100"), &s, &err), MW_ERR_INVALID);
    mw_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_equals_whole_plan),
        cmocka_unit_test(test_output_first),
        cmocka_unit_test(test_auto),
        cmocka_unit_test(test_tied),
        cmocka_unit_test(test_moe),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
