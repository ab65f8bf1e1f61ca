/* test_budget.c - paging under a memory budget (issue #15, src/plan/
 * budget.c): mw_plan_budget_split at every boundary, with exact integers,
 * and mw_plan_compute with a budget.
 *
 * The figures are the presets' shapes, each checked against the published
 * parameter count: Llama-3.2-1B (config.json of meta-llama/Llama-3.2-1B:
 * hidden 2048, intermediate 8192, 16 layers, 32 heads / 8 KV heads of 64,
 * vocabulary 128256, tied embeddings; 1,235,814,400 parameters in its
 * safetensors) and Llama-3-8B (meta-llama/Meta-Llama-3-8B: hidden 4096,
 * intermediate 14336, 32 layers, 32 / 8 heads of 128, vocabulary 128256,
 * untied; 8,030,261,248 parameters), both BF16. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"

#include <string.h>

/* Llama-3.2-1B, BF16: the embedding table (tied: the output) and the final
 * norm; one layer's 9 tensors: q 2048x2048, k and v 512x2048, o 2048x2048,
 * gate, up, down 8192x2048, two norms of 2048. */
#define L1B_ALWAYS (128256ull * 2048 * 2 + 2048 * 2)                                  /* 525,340,672 */
#define L1B_LAYER  ((2048ull * 2048 * 2 + 512ull * 2048 * 2 + 3ull * 8192 * 2048 + 2 * 2048) * 2) /* 121,643,008 */
/* Llama-3-8B, BF16, untied: embedding, output, final norm; one layer. */
#define L8B_ALWAYS (2 * 128256ull * 4096 * 2 + 4096 * 2)                              /* 2,101,354,496 */
#define L8B_LAYER  ((4096ull * 4096 * 2 + 1024ull * 4096 * 2 + 3ull * 14336 * 4096 + 2 * 4096) * 2) /* 436,224,000 */

static mw_model *open_model(const char *name)
{
    mw_model *m = NULL;
    mw_err err = {0};
    assert_int_equal(mw_model_open(name, &m, &err), MW_OK);
    return m;
}

static mw_budget_split split_ok(const mw_model *m, uint64_t budget, uint32_t prefetch)
{
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    o.mem_budget_bytes = budget;
    o.prefetch_layers = prefetch;
    mw_budget_split s;
    mw_err err = {0};
    if (mw_plan_budget_split(m, &o, &s, &err) != MW_OK) fail_msg("%s", err.msg);
    /* invariants of every split */
    assert_true(s.resident_bytes <= budget);
    assert_int_equal(s.resident_layers + s.streamed_layers, s.n_layers);
    assert_true(s.resident_bytes == s.always_bytes + s.resident_layer_bytes + (uint64_t)s.slots * s.slot_bytes);
    return s;
}

/* the shapes give the published parameter counts: the constants are right */
static void test_published_counts(void **state)
{
    (void)state;
    mw_model *m = open_model("llama-3.2-1b");
    assert_true(m->n_params == 1235814400ull);
    assert_true(L1B_ALWAYS == 525340672ull && L1B_LAYER == 121643008ull);
    assert_true(m->weights_bytes == L1B_ALWAYS + 16 * L1B_LAYER);
    mw_model_free(m);
    m = open_model("llama-3-8b");
    assert_true(m->n_params == 8030261248ull);
    assert_true(m->weights_bytes == L8B_ALWAYS + 32 * L8B_LAYER);
    mw_model_free(m);
}

static void test_boundaries_tied(void **state)
{
    (void)state;
    mw_model *m = open_model("llama-3.2-1b");
    const uint64_t min = L1B_ALWAYS + 3 * L1B_LAYER; /* prefetch 2: 3 buffers */
    /* budget = the minimum: every layer streamed through 3 buffers */
    mw_budget_split s = split_ok(m, min, 0);
    assert_true(s.min_budget_bytes == 890269696ull && min == 890269696ull);
    assert_true(s.always_bytes == L1B_ALWAYS);
    assert_int_equal(s.n_layers, 16);
    assert_int_equal(s.resident_layers, 0);
    assert_int_equal(s.streamed_layers, 16);
    assert_int_equal(s.slots, 3);
    assert_true(s.slot_bytes == L1B_LAYER);
    assert_true(s.resident_bytes == min);
    assert_true(s.streamed_bytes_per_step == 16 * L1B_LAYER);
    /* min - 1: an error naming the smallest budget, and the split filled */
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    o.mem_budget_bytes = min - 1;
    mw_err err = {0};
    assert_int_equal(mw_plan_budget_split(m, &o, &s, &err), MW_ERR_INVALID);
    assert_true(s.min_budget_bytes == min);
    assert_non_null(strstr(err.msg, "890269696"));
    /* exactly k resident layers: always + (k + 3) layers; one byte less: k - 1 */
    for (uint32_t k = 1; k <= 12; k++) {
        s = split_ok(m, L1B_ALWAYS + (k + 3) * L1B_LAYER, 0);
        assert_int_equal(s.resident_layers, k);
        assert_int_equal(s.slots, 3);
        assert_true(s.resident_layer_bytes == k * L1B_LAYER);
        assert_true(s.streamed_bytes_per_step == (16 - k) * L1B_LAYER);
        s = split_ok(m, L1B_ALWAYS + (k + 3) * L1B_LAYER - 1, 0);
        assert_int_equal(s.resident_layers, k - 1);
    }
    /* the whole model: nothing streamed, no buffers */
    s = split_ok(m, m->weights_bytes, 0);
    assert_int_equal(s.resident_layers, 16);
    assert_int_equal(s.streamed_layers, 0);
    assert_int_equal(s.slots, 0);
    assert_true(s.slot_bytes == 0 && s.streamed_bytes_per_step == 0);
    assert_true(s.resident_bytes == m->weights_bytes);
    /* one byte less: with 3 buffers, 12 layers resident (13 need the whole) */
    s = split_ok(m, m->weights_bytes - 1, 0);
    assert_int_equal(s.resident_layers, 12);
    /* far above: the same as the whole */
    s = split_ok(m, UINT64_MAX - 1, 0);
    assert_int_equal(s.streamed_layers, 0);
    mw_model_free(m);
}

static void test_prefetch(void **state)
{
    (void)state;
    mw_model *m = open_model("llama-3.2-1b");
    /* prefetch 1: double buffering */
    mw_budget_split s = split_ok(m, L1B_ALWAYS + 2 * L1B_LAYER, 1);
    assert_true(s.min_budget_bytes == L1B_ALWAYS + 2 * L1B_LAYER);
    assert_int_equal(s.slots, 2);
    assert_int_equal(s.resident_layers, 0);
    /* prefetch 2 is the default (0) */
    s = split_ok(m, L1B_ALWAYS + 7 * L1B_LAYER, 2);
    assert_int_equal(s.resident_layers, 4);
    mw_budget_split s0 = split_ok(m, L1B_ALWAYS + 7 * L1B_LAYER, 0);
    assert_memory_equal(&s, &s0, sizeof s);
    /* prefetch 5: 6 buffers */
    s = split_ok(m, L1B_ALWAYS + 6 * L1B_LAYER, 5);
    assert_true(s.min_budget_bytes == L1B_ALWAYS + 6 * L1B_LAYER);
    assert_int_equal(s.slots, 6);
    assert_int_equal(s.resident_layers, 0);
    /* one byte short of the whole: k resident need k + min(6, 16 - k)
     * layers' bytes: 9 + 6 = 15 fits; 10 + 6, 11 + 5, 12 + 4 ... all 16 */
    s = split_ok(m, L1B_ALWAYS + 16 * L1B_LAYER - 1, 5);
    assert_int_equal(s.resident_layers, 9);
    assert_int_equal(s.slots, 6);
    s = split_ok(m, L1B_ALWAYS + 15 * L1B_LAYER - 1, 5);
    assert_int_equal(s.resident_layers, 8);
    /* more buffers than layers: at most the layers */
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    o.prefetch_layers = 40;
    o.mem_budget_bytes = L1B_ALWAYS + 16 * L1B_LAYER - 1;
    mw_err err = {0};
    assert_int_equal(mw_plan_budget_split(m, &o, &s, &err), MW_ERR_INVALID);
    assert_true(s.min_budget_bytes == L1B_ALWAYS + 16 * L1B_LAYER);
    mw_model_free(m);
}

static void test_untied(void **state)
{
    (void)state;
    mw_model *m = open_model("llama-3-8b");
    mw_budget_split s = split_ok(m, L8B_ALWAYS + 3 * L8B_LAYER, 0);
    assert_true(s.always_bytes == L8B_ALWAYS); /* the output matrix too */
    assert_true(s.slot_bytes == L8B_LAYER);
    assert_int_equal(s.resident_layers, 0);
    assert_int_equal(s.streamed_layers, 32);
    s = split_ok(m, L8B_ALWAYS + 23 * L8B_LAYER, 0);
    assert_int_equal(s.resident_layers, 20);
    assert_true(s.streamed_bytes_per_step == 12 * L8B_LAYER);
    mw_model_free(m);
}

/* with --dtype the split counts the converted bytes as the plan does */
static void test_dtype(void **state)
{
    (void)state;
    mw_model *m = open_model("llama-3.2-1b");
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    o.weight_dtype = MW_DTYPE_Q8_0;
    mw_plan p;
    assert_int_equal(mw_plan_compute(m, &o, &p, NULL), MW_OK);
    const uint64_t layer = (2048ull * 2048 * 2 + 512ull * 2048 * 2 + 3ull * 8192 * 2048) / 32 * 34 + 2 * 2048 * 4;
    o.mem_budget_bytes = p.bytes[MW_COMP_WEIGHTS] - 16 * layer + 3 * layer; /* the minimum */
    mw_budget_split s;
    assert_int_equal(mw_plan_budget_split(m, &o, &s, NULL), MW_OK);
    assert_true(s.slot_bytes == layer);
    assert_true(s.min_budget_bytes == o.mem_budget_bytes);
    assert_int_equal(s.resident_layers, 0);
    o.mem_budget_bytes = p.bytes[MW_COMP_WEIGHTS];
    assert_int_equal(mw_plan_budget_split(m, &o, &s, NULL), MW_OK);
    assert_int_equal(s.streamed_layers, 0);
    assert_true(s.resident_bytes == p.bytes[MW_COMP_WEIGHTS]);
    /* a scheme (q4_k_m: Q6_K on some layers' attn_v and ffn_down): the
     * same total as the plan's, and layers of unequal size */
    mw_plan_opts_init(&o);
    mw_err err = {0};
    assert_int_equal(mw_weight_scheme_parse("q4_k_m", &o.weight_scheme, &err), MW_OK);
    o.weight_dtype = o.weight_scheme.base;
    assert_int_equal(mw_plan_compute(m, &o, &p, NULL), MW_OK);
    o.mem_budget_bytes = p.bytes[MW_COMP_WEIGHTS];
    assert_int_equal(mw_plan_budget_split(m, &o, &s, NULL), MW_OK);
    assert_int_equal(s.streamed_layers, 0);
    assert_true(s.resident_bytes == p.bytes[MW_COMP_WEIGHTS]);
    o.mem_budget_bytes = 1;
    assert_int_equal(mw_plan_budget_split(m, &o, &s, NULL), MW_ERR_INVALID);
    const uint64_t small = s.min_budget_bytes;
    o.mem_budget_bytes = small;
    assert_int_equal(mw_plan_budget_split(m, &o, &s, NULL), MW_OK);
    assert_true(s.always_bytes + 3 * s.slot_bytes == small);
    assert_true(s.streamed_bytes_per_step + s.always_bytes == p.bytes[MW_COMP_WEIGHTS]);
    mw_model_free(m);
}

static void test_plan_with_budget(void **state)
{
    (void)state;
    mw_model *m = open_model("llama-3.2-1b");
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    o.prompt = 1000; /* two 512-token prefill steps */
    o.ctx = 2000;
    o.mem_bytes = 64ull << 30;
    mw_plan base;
    assert_int_equal(mw_plan_compute(m, &o, &base, NULL), MW_OK);
    assert_int_equal(base.paging, 0);
    o.mem_budget_bytes = L1B_ALWAYS + 8 * L1B_LAYER; /* 5 resident, 11 streamed */
    o.stream_bytes_per_second = 2e9;
    o.host_bytes_per_second = 50e9;
    mw_plan p;
    assert_int_equal(mw_plan_compute(m, &o, &p, NULL), MW_OK);
    assert_int_equal(p.paging, 1);
    assert_int_equal(p.split.resident_layers, 5);
    assert_true(p.bytes[MW_COMP_WEIGHTS] == L1B_ALWAYS + 8 * L1B_LAYER);
    assert_true(p.stream_prefill_bytes == 2 * 11 * L1B_LAYER);
    assert_true(p.stream_step_seconds == (double)(11 * L1B_LAYER) / 2e9);
    /* the step still reads every weight, resident or streamed */
    assert_true(p.decode_step_bytes == base.decode_step_bytes);
    assert_true(p.resident_step_seconds == base.decode_step_bytes / 50e9);
    /* the other components are unchanged but scratch, which holds the
     * reader's O_DIRECT staging; the total is lower by the rest */
    for (int c = 1; c < MW_COMP_OVERHEAD; c++)
        assert_true(p.bytes[c] == base.bytes[c] + (c == MW_COMP_SCRATCH ? MW_STREAM_STAGING_BYTES : 0));
    assert_true(p.total_bytes < base.total_bytes);
    /* buffered reads have no staging: every other component unchanged */
    o.stream_io = MW_STREAM_IO_BUFFERED;
    mw_plan pb;
    assert_int_equal(mw_plan_compute(m, &o, &pb, NULL), MW_OK);
    for (int c = 1; c < MW_COMP_OVERHEAD; c++) assert_true(pb.bytes[c] == base.bytes[c]);
    o.stream_io = MW_STREAM_IO_AUTO;
    assert_true(p.max_batch >= base.max_batch);
    /* unknown bandwidth: unknown times */
    o.stream_bytes_per_second = 0;
    o.host_bytes_per_second = 0;
    assert_int_equal(mw_plan_compute(m, &o, &p, NULL), MW_OK);
    assert_true(p.stream_step_seconds < 0 && p.resident_step_seconds < 0);
    /* below the minimum, training, tp: errors */
    mw_err err = {0};
    o.mem_budget_bytes = 1;
    assert_int_equal(mw_plan_compute(m, &o, &p, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "890269696"));
    o.mem_budget_bytes = 1ull << 30;
    o.training = 1;
    assert_int_equal(mw_plan_compute(m, &o, &p, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "--train"));
    o.training = 0;
    o.tp = 2;
    assert_int_equal(mw_plan_compute(m, &o, &p, &err), MW_ERR_INVALID);
    mw_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_published_counts), cmocka_unit_test(test_boundaries_tied),
        cmocka_unit_test(test_prefetch),         cmocka_unit_test(test_untied),
        cmocka_unit_test(test_dtype),            cmocka_unit_test(test_plan_with_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
