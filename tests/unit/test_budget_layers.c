/* test_budget_layers.c - mw_plan_budget_split (src/plan/budget.c, issue #15)
 * against hand-made models (written with the engine part, checked against
 * the planner's implementation):
 * exact splits of a made-up model whose layers differ in size (the largest
 * resident prefix that fits, not the first that does not), the smallest
 * budget and its message, no budget, the default prefetch, and the split
 * of models/tiny.gguf against its own tensors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* token_embd 1000, output_norm 100; layers 300, 500, 400, 200 bytes, each
 * in two tensors */
static void made_up(mw_model *m, mw_tensor_info *t, char names[][32])
{
    memset(m, 0, sizeof *m);
    m->hp.n_layers = 4;
    static const uint64_t lb[4] = {300, 500, 400, 200};
    int n = 0;
    snprintf(names[n], 32, "token_embd.weight");
    t[n].bytes = 1000;
    t[n].name = names[n];
    n++;
    for (int l = 0; l < 4; l++)
        for (int k = 0; k < 2; k++) {
            snprintf(names[n], 32, "blk.%d.%s.weight", l, k ? "ffn_up" : "attn_q");
            t[n].name = names[n];
            t[n].bytes = k ? lb[l] - lb[l] / 4 : lb[l] / 4;
            n++;
        }
    snprintf(names[n], 32, "output_norm.weight");
    t[n].name = names[n];
    t[n].bytes = 100;
    n++;
    m->n_tensors = (uint32_t)n;
    m->tensors = t;
}

static mw_status split(const mw_model *m, uint64_t budget, uint32_t prefetch, mw_budget_split *s, mw_err *e)
{
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    o.mem_budget_bytes = budget;
    o.prefetch_layers = prefetch;
    return mw_plan_budget_split(m, &o, s, e);
}

static void test_made_up(void **state)
{
    (void)state;
    mw_model m;
    mw_tensor_info t[16];
    char names[16][32];
    memset(t, 0, sizeof t);
    made_up(&m, t, names);
    mw_budget_split s;
    mw_err e;
    /* no budget, and a budget of everything: all resident */
    assert_int_equal(split(&m, MW_UNKNOWN, 1, &s, &e), MW_OK);
    assert_int_equal(s.resident_layers, 4);
    assert_int_equal(s.streamed_layers, 0);
    assert_int_equal(s.slots, 0);
    assert_int_equal(s.resident_bytes, 2500);
    assert_int_equal(s.always_bytes, 1100);
    assert_int_equal(split(&m, 2500, 1, &s, &e), MW_OK);
    assert_int_equal(s.resident_layers, 4);
    /* 2499, prefetch 1: r=3 needs 1100+1200+200 = 2500, r=2 1100+800+2x400
     * = 2700, r=1 1100+300+2x500 = 2400: r=1 */
    assert_int_equal(split(&m, 2499, 1, &s, &e), MW_OK);
    assert_int_equal(s.resident_layers, 1);
    assert_int_equal(s.streamed_layers, 3);
    assert_int_equal(s.slots, 2);
    assert_int_equal(s.slot_bytes, 500);
    assert_int_equal(s.resident_layer_bytes, 300);
    assert_int_equal(s.resident_bytes, 2400);
    assert_int_equal(s.streamed_bytes_per_step, 1100);
    assert_int_equal(s.min_budget_bytes, 2100);
    assert_int_equal(s.budget_bytes, 2499);
    /* the smallest: everything streamed through two buffers */
    assert_int_equal(split(&m, 2100, 1, &s, &e), MW_OK);
    assert_int_equal(s.resident_layers, 0);
    assert_int_equal(s.resident_bytes, 2100);
    assert_int_equal(s.streamed_bytes_per_step, 1400);
    assert_int_equal(split(&m, 2099, 1, &s, &e), MW_ERR_INVALID);
    assert_int_equal(s.min_budget_bytes, 2100);
    assert_non_null(strstr(e.msg, "--mem-budget 2100"));
    /* prefetch 0: the default 2, three buffers: 1100 + 3 x 500 = 2600, more
     * than the whole model (2500): the smallest budget that works is then
     * the whole model, all resident */
    assert_int_equal(split(&m, 2450, 0, &s, &e), MW_ERR_INVALID);
    assert_int_equal(s.min_budget_bytes, 2500);
    assert_non_null(strstr(e.msg, "--mem-budget 2500"));
    /* prefetch 1 at 2099 says 2100 (two buffers) */
    /* one layer streamed in one buffer (slots at most the streamed layers) */
    assert_int_equal(split(&m, 2400 + 100, 5, &s, &e), MW_OK);
    assert_int_equal(s.resident_layers, 4);
}

static void test_tiny(void **state)
{
    (void)state;
    const char *src = getenv("MW_SOURCE_DIR");
    if (!src) skip();
    char path[4096];
    snprintf(path, sizeof path, "%s/models/tiny.gguf", src);
    mw_model *m = NULL;
    mw_err e;
    assert_int_equal(mw_model_open(path, &m, &e), MW_OK);
    mw_budget_split s;
    /* one byte short of everything: the last layer streamed */
    assert_int_equal(split(m, m->weights_bytes - 1, 1, &s, &e), MW_OK);
    assert_int_equal(s.n_layers, m->hp.n_layers);
    assert_true(s.resident_layers < s.n_layers);
    assert_int_equal(s.always_bytes + s.resident_layer_bytes + s.streamed_bytes_per_step, m->weights_bytes);
    assert_int_equal(s.resident_bytes, s.always_bytes + s.resident_layer_bytes + s.slots * s.slot_bytes);
    assert_true(s.resident_bytes <= m->weights_bytes - 1);
    /* tiny's layers are alike: the smallest budget is the always-resident
     * tensors and two of them */
    uint64_t layer = (m->weights_bytes - s.always_bytes) / m->hp.n_layers;
    assert_int_equal(s.min_budget_bytes, s.always_bytes + 2 * layer);
    mw_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_made_up),
        cmocka_unit_test(test_tiny),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
