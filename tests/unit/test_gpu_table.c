/* test_gpu_table.c - GPUs by name (src/plan/gpu_table.c): every row has its
 * figures and a source, lookups (case, separators, aliases, counts,
 * unknown names), and a decode step on a named GPU computed by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"

#include <math.h>
#include <string.h>

static const mw_gpu_spec *find(const char *name, uint32_t *count)
{
    const mw_gpu_spec *g = NULL;
    mw_err err = {0};
    mw_status st = mw_gpu_spec_find(name, &g, count, &err);
    if (st != MW_OK) fail_msg("%s: %s", name, err.msg);
    return g;
}

static void test_every_row(void **state)
{
    (void)state;
    const char *const *names = mw_gpu_spec_names();
    size_t n = 0;
    for (; names[n]; n++) {
        uint32_t count = 0;
        const mw_gpu_spec *g = find(names[n], &count);
        assert_string_equal(g->name, names[n]);
        assert_int_equal(count, 1);
        assert_true(g->memory_bytes > 0);
        assert_true(g->bandwidth_bytes_per_second > 0);
        assert_non_null(g->source);
        assert_true(strlen(g->source) > 20);
        assert_non_null(g->description);
        /* dense peaks: a type the chip has is faster than FP32's vector peak */
        if (g->peak_flops_fp16 > 0) assert_true(g->peak_flops_fp16 > g->peak_flops_fp32);
        if (g->peak_flops_fp8 > 0) assert_true(g->peak_flops_fp8 >= g->peak_flops_fp16);
        assert_true(mw_gpu_spec_usable_bytes(g) <= g->memory_bytes);
    }
    assert_true(n >= 15);
}

static void test_lookups(void **state)
{
    (void)state;
    uint32_t c = 0;
    assert_string_equal(find("h100", &c)->name, "h100-80g");
    assert_int_equal(c, 1);
    assert_string_equal(find("H100_80G", &c)->name, "h100-80g");
    assert_string_equal(find("RTX4090", &c)->name, "rtx-4090");
    assert_string_equal(find("a100", &c)->name, "a100-80g");
    /* counts: NAME:N and NAMExN; a name ending in x stays a name */
    assert_string_equal(find("h100-80g:8", &c)->name, "h100-80g");
    assert_int_equal(c, 8);
    assert_string_equal(find("mi300x", &c)->name, "mi300x");
    assert_int_equal(c, 1);
    assert_string_equal(find("mi300xx2", &c)->name, "mi300x");
    assert_int_equal(c, 2);
    assert_string_equal(find("rtx-4090x4", &c)->name, "rtx-4090");
    assert_int_equal(c, 4);
    assert_string_equal(find("h100x8", &c)->name, "h100-80g");
    assert_int_equal(c, 8);
    /* published figures, exactly as the datasheets give them */
    const mw_gpu_spec *h = find("h100-80g", NULL);
    assert_true(h->memory_bytes == 80ull << 30);
    assert_true(h->bandwidth_bytes_per_second == 3.35e12);
    assert_true(h->peak_flops_fp16 == 989.5e12); /* 1,979 TFLOPS with sparsity, halved */
    /* unified memory: the 75% macOS lets the GPU wire */
    const mw_gpu_spec *m4 = find("m4-max-128g", NULL);
    assert_true(m4->unified_memory);
    assert_true(mw_gpu_spec_usable_bytes(m4) == 96ull << 30);
    assert_true(mw_gpu_spec_usable_bytes(h) == h->memory_bytes);
}

static void test_unknown(void **state)
{
    (void)state;
    static const char *const bad[] = {"h1000", "", "h100:0", "h100:", "h100x", "h100:99999999", "x8", ":8"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const mw_gpu_spec *g = NULL;
        mw_err err = {0};
        assert_int_equal(mw_gpu_spec_find(bad[i], &g, NULL, &err), MW_ERR_INVALID);
        assert_null(g);
        assert_true(err.msg[0] != 0);
    }
    mw_err err = {0};
    const mw_gpu_spec *g = NULL;
    assert_int_equal(mw_gpu_spec_find("gtx-1080", &g, NULL, &err), MW_ERR_INVALID);
    /* the error lists the known names */
    assert_non_null(strstr(err.msg, "h100-80g"));
    assert_non_null(strstr(err.msg, "mi300x"));
    assert_non_null(strstr(err.msg, "gtx-1080"));
}

/* Llama-3-8B (BF16, untied), batch 1, context 4096 = prompt 512 + gen 3584,
 * on an H100 SXM (3.35 TB/s, BF16 989.5 TFLOP/s dense):
 *   bytes = weights 16,060,522,496 - embedding table 128256 x 4096 x 2 =
 *           1,050,673,152 (read a row, not whole) = 15,009,849,344
 *         + KV to the mean position 512 + 3585/2 = 2304.5 tokens x
 *           131,072 B = 302,055,424                 -> 15,311,904,768 B
 *   flops = 2 x (32 x (41,943,040 attn + 176,160,768 ffn) + 525,336,576
 *           head) + 4 x 32 x 32 x 128 x 2304.5     -> 16,217,538,560
 *   step  = max(15,311,904,768 / 3.35e12 = 4.5707e-3 s,
 *               16,217,538,560 / 989.5e12 = 1.639e-5 s): bandwidth binds,
 *   218.78 tokens/s. */
static void test_decode_step(void **state)
{
    (void)state;
    mw_model *m = NULL;
    mw_err err = {0};
    assert_int_equal(mw_model_open("llama-3-8b", &m, &err), MW_OK);
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    mw_plan p;
    assert_int_equal(mw_plan_compute(m, &o, &p, &err), MW_OK);
    assert_true(p.decode_step_bytes == 15311904768.0);
    assert_true(p.decode_step_flops == 16217538560.0);
    mw_gpu_step st;
    assert_int_equal(mw_gpu_step_compute(m, &p, find("h100-80g", NULL), &st), 1);
    assert_true(fabs(st.bandwidth_seconds - 15311904768.0 / 3.35e12) < 1e-15);
    assert_true(fabs(st.compute_seconds - 16217538560.0 / 989.5e12) < 1e-15);
    assert_true(st.step_seconds == st.bandwidth_seconds);
    assert_string_equal(st.binds, "bandwidth");
    assert_string_equal(st.peak_type, "fp16");
    assert_true(fabs(st.tokens_per_second - 3.35e12 / 15311904768.0) < 1e-9);
    /* F32 weights use the FP32 peak; Q8_0 the INT8 one */
    o.weight_dtype = MW_DTYPE_F32;
    assert_int_equal(mw_plan_compute(m, &o, &p, &err), MW_OK);
    assert_int_equal(mw_gpu_step_compute(m, &p, find("h100-80g", NULL), &st), 1);
    assert_string_equal(st.peak_type, "fp32");
    o.weight_dtype = MW_DTYPE_Q8_0;
    assert_int_equal(mw_plan_compute(m, &o, &p, &err), MW_OK);
    assert_int_equal(mw_gpu_step_compute(m, &p, find("h100-80g", NULL), &st), 1);
    assert_string_equal(st.peak_type, "int8");
    /* a large batch is compute bound: 4096 sequences of 2 x 7.5 GFLOP */
    o.weight_dtype = MW_DTYPE_COUNT;
    o.batch = 4096;
    assert_int_equal(mw_plan_compute(m, &o, &p, &err), MW_OK);
    assert_int_equal(mw_gpu_step_compute(m, &p, find("rtx-3090", NULL), &st), 1);
    assert_true(st.compute_seconds > 0);
    assert_true(st.step_seconds == (st.bandwidth_seconds > st.compute_seconds ? st.bandwidth_seconds
                                                                               : st.compute_seconds));
    /* Apple: no published FLOP/s, so only bandwidth bounds */
    assert_int_equal(mw_gpu_step_compute(m, &p, find("m4-max-128g", NULL), &st), 1);
    assert_true(st.compute_seconds < 0);
    assert_string_equal(st.binds, "bandwidth");
    /* training has no decode step */
    o.training = 1;
    o.batch = 1;
    assert_int_equal(mw_plan_compute(m, &o, &p, &err), MW_OK);
    assert_int_equal(mw_gpu_step_compute(m, &p, find("h100", NULL), &st), 0);
    mw_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_row),
        cmocka_unit_test(test_lookups),
        cmocka_unit_test(test_unknown),
        cmocka_unit_test(test_decode_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
