/* test_roofline.c - the roofline layer: the level finder on synthetic
 * curves, every kernel path against the plain C one on small arrays, the
 * sysfs cache reader on a fake tree, a whole quick measurement's internal
 * consistency, and clean allocation failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_threads_fail.h"

#include "memwall.h"
#include "common/test_hooks.h"
#include "roofline/roofline.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* L1 200, L2 110, L3 95, DRAM 18 with noise and slides between them */
static void levels_of_a_four_level_curve(void **state)
{
    (void)state;
    const double bw[] = {201, 205, 199,            /* L1: 0..2 */
                         140,                      /* transition */
                         117, 118, 116, 113, 119,  /* L2: 4..8 */
                         99, 98, 100, 95, 100,     /* L3: 9..13 */
                         77, 60, 40,               /* slide */
                         21, 19, 18, 17, 17};      /* DRAM: 17..21 */
    size_t first[8], last[8];
    size_t n = mw_rl_find_levels(bw, sizeof bw / sizeof bw[0], 4, first, last);
    assert_int_equal(n, 4);
    assert_int_equal(first[0], 0);
    assert_int_equal(last[0], 2);
    assert_int_equal(first[1], 4);
    assert_int_equal(last[1], 8);
    assert_int_equal(first[2], 9);
    assert_int_equal(last[2], 13);
    assert_int_equal(last[3], 21);
    assert_true(first[3] >= 17);
}

static void levels_merge_down_to_the_cap(void **state)
{
    (void)state;
    const double bw[] = {200, 200, 100, 100, 90, 90, 79, 79, 10, 10};
    size_t first[8], last[8];
    size_t n = mw_rl_find_levels(bw, 10, 3, first, last);
    assert_int_equal(n, 3);
    assert_int_equal(last[n - 1], 9);   /* the largest sets stay last */
    assert_int_equal(first[0], 0);
    assert_int_equal(last[0], 1);
}

static void levels_of_flat_and_tiny_curves(void **state)
{
    (void)state;
    const double flat[] = {50, 51, 49, 50, 50};
    size_t first[8], last[8];
    assert_int_equal(mw_rl_find_levels(flat, 5, 4, first, last), 1);
    assert_int_equal(first[0], 0);
    assert_int_equal(last[0], 4);
    assert_int_equal(mw_rl_find_levels(flat, 0, 4, first, last), 0);
    const double one[] = {5};
    assert_int_equal(mw_rl_find_levels(one, 1, 4, first, last), 1);
}

static float *aligned_floats(size_t n, void **raw)
{
    *raw = malloc(n * sizeof(float) + 64);
    assert_non_null(*raw);
    return (float *)(((uintptr_t)*raw + 63) & ~(uintptr_t)63);
}

/* every path this CPU has, against plain C: small integers, so the sums
 * are exact in any order */
static void kernels_match_plain_c(void **state)
{
    (void)state;
    const size_t n = 64 * 37;
    void *ra, *rb, *rc;
    float *a = aligned_floats(n, &ra), *b = aligned_floats(n, &rb), *c = aligned_floats(n, &rc);
    for (mw_rl_isa isa = MW_RL_SCALAR; isa <= mw_rl_isa_best(); isa++) {
        double want = 0;
        for (size_t i = 0; i < n; i++) { a[i] = (float)(i % 7); want += (float)(i % 7); }
        assert_true(mw_rl_read(isa, a, n) == (float)want);
        assert_true(mw_rl_read_narrow(a, n) == (float)want); /* small integers: exact in any order */
        mw_rl_write(isa, a, n, 3.0f);
        for (size_t i = 0; i < n; i++) assert_true(a[i] == 3.0f);
        for (size_t i = 0; i < n; i++) { a[i] = (float)i; b[i] = -1; }
        mw_rl_copy(isa, b, a, n);
        assert_memory_equal(a, b, n * sizeof(float));
        for (size_t i = 0; i < n; i++) { b[i] = (float)i; c[i] = (float)(i % 5); }
        mw_rl_triad(isa, a, b, c, 0.5f, n);
        for (size_t i = 0; i < n; i++) assert_true(a[i] == (float)i + 0.5f * (float)(i % 5));
    }
    free(ra);
    free(rb);
    free(rc);
}

static void compute_loops_count_their_work(void **state)
{
    (void)state;
    for (mw_rl_isa isa = MW_RL_SCALAR; isa <= mw_rl_isa_best(); isa++) {
        double flops = 0;
        float v = mw_rl_fma_f32(isa, 1000, &flops);
        assert_true(isfinite(v));
        assert_true(flops == 1000.0 * 2 * 12 * (isa == MW_RL_AVX512 ? 16 : isa == MW_RL_AVX2 ? 8 : 1));
    }
    char why[96] = "";
    double flops = 0;
    if (mw_rl_bf16_available(why, sizeof why)) {
        /* 2^-10 * 2^-10 summed in pairs: exact */
        float v = mw_rl_dot_bf16(10, &flops);
        assert_true(flops == 64.0 * 12 * 10);
        assert_true(v == (float)(12 * 16 * 10 * 2) / (1024.0f * 1024.0f));
    } else {
        assert_true(strlen(why) > 0);
    }
    if (mw_rl_int8_available(why, sizeof why)) {
        assert_int_not_equal(mw_rl_int8_best(), MW_RL_INT8_NONE);
        /* each path this CPU has: 4 products of 3 x -2 per int32 lane */
        for (int path = MW_RL_INT8_AVXVNNI; path <= MW_RL_INT8_AVX512VNNI; path++) {
            int has = path == MW_RL_INT8_AVX512VNNI
                          ? __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw") &&
                                __builtin_cpu_supports("avx512vl")
                          : mw_rl_has_avxvnni();
            if (!has) continue;
            int lanes = path == MW_RL_INT8_AVX512VNNI ? 16 : 8;
            float v = mw_rl_dot_int8((mw_rl_int8_path)path, 10, &flops);
            assert_true(flops == 8.0 * lanes * 12 * 10);
            assert_true(v == (float)(12 * lanes * 10 * 4 * 3 * -2));
        }
    } else {
        assert_true(strlen(why) > 0);
        assert_int_equal(mw_rl_int8_best(), MW_RL_INT8_NONE);
    }
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void cache_sizes_from_a_fake_sysfs(void **state)
{
    (void)state;
    char root[] = "/tmp/mw-rl-XXXXXX", path[512];
    assert_non_null(mkdtemp(root));
    const char *const spec[][3] = {{"1", "Data", "48K"}, {"1", "Instruction", "32K"},
                                   {"2", "Unified", "2048K"}, {"3", "Unified", "96M"}};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/index%d", root, i);
        assert_int_equal(mkdir(path, 0700), 0);
        snprintf(path, sizeof path, "%s/index%d/level", root, i);
        write_file(path, spec[i][0]);
        snprintf(path, sizeof path, "%s/index%d/type", root, i);
        write_file(path, spec[i][1]);
        snprintf(path, sizeof path, "%s/index%d/size", root, i);
        write_file(path, spec[i][2]);
    }
    uint64_t s[4];
    assert_int_equal(mw_rl_cache_sizes(root, s), 3);
    assert_true(s[0] == 48u << 10);
    assert_true(s[1] == 2u << 20);
    assert_true(s[2] == 96ull << 20);
    assert_true(s[3] == MW_UNKNOWN);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(mw_rl_cache_sizes("/nonexistent", s), 0);
    assert_true(s[0] == MW_UNKNOWN);
}

static void known(const mw_roofline_figure *f)
{
    assert_true(f->max > 0);
    assert_true(f->min > 0);
    assert_true(f->min <= f->median && f->median <= f->max);
    /* noisy: a wide spread, or a repetition that shared a CPU */
    if ((f->max - f->min) / f->max > MW_ROOFLINE_NOISY) assert_true(f->noisy);
}

/* Twice as many threads as CPUs: every repetition of an all-threads figure
 * has threads waiting for a CPU, so each is flagged noisy (a disturbed
 * figure is not the machine's), while the 1-thread FP32 peak is measured. */
static void threads_sharing_cpus_are_noisy(void **state)
{
    (void)state;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    mw_roofline_opts o;
    mw_roofline_opts_init(&o);
    o.quick = 1;
    o.no_tiers = 1;
    o.max_bytes = 256u << 10;
    o.threads = (uint32_t)(ncpu > 0 ? ncpu : 1) * 2;
    mw_roofline_result *r = NULL;
    mw_err err;
    assert_int_equal(mw_roofline_measure(&o, &r, &err), MW_OK);
    assert_true(r->flops_f32[0].max > 0);
    assert_true(r->flops_f32[1].max > 0);
    assert_int_equal(r->flops_f32[1].noisy, 1);
    mw_roofline_result_free(r);
}

/* A repetition's rate is over its span, first start to last end: two
 * threads that ran one after another on one CPU did the work of one, and
 * were disturbed (timing each thread alone counted them as two CPUs). */
static void a_repetition_spans_its_threads(void **state)
{
    (void)state;
    int off = -1;
    /* side by side, 1 s each, on their CPUs: 2 units a second */
    const double t0a[] = {10.0, 10.0}, t1a[] = {11.0, 11.0}, cpua[] = {1.0, 1.0};
    assert_true(mw_rl_rep_rate(t0a, t1a, cpua, 2, 2.0, &off) == 2.0);
    assert_int_equal(off, 0);
    /* one after the other: 2 units in 2 s, 1 s of CPU each in a 2 s span */
    const double t0b[] = {10.0, 11.0}, t1b[] = {11.0, 12.0};
    assert_true(mw_rl_rep_rate(t0b, t1b, cpua, 2, 2.0, &off) == 1.0);
    assert_int_equal(off, 1);
    /* started 5 ms apart after the barrier: still on their CPUs (> 90%) */
    const double t0c[] = {10.0, 10.005}, t1c[] = {11.0, 11.005}, cpuc[] = {0.999, 0.999};
    assert_true(fabs(mw_rl_rep_rate(t0c, t1c, cpuc, 2, 2.0, &off) - 2.0 / 1.005) < 1e-12);
    assert_int_equal(off, 0);
    /* one thread preempted for a third of the span */
    const double cpud[] = {1.0, 0.66};
    mw_rl_rep_rate(t0a, t1a, cpud, 2, 2.0, &off);
    assert_int_equal(off, 1);
}

/* A VM that hides the caches from sysfs (a Zen 5 guest under PVM did):
 * the levels come from the curve alone, caches below DRAM, not one level
 * called DRAM. Bandwidth only (no tiers, no peaks needed), 1 thread. */
static void without_sysfs_caches_the_curve_gives_the_levels(void **state)
{
    (void)state;
    char dir[] = "/tmp/mw-rl-nocache-XXXXXX";
    assert_non_null(mkdtemp(dir));
    mw_roofline_opts o;
    mw_roofline_opts_init(&o);
    o.quick = 1;
    o.no_tiers = 1;
    o.threads = 1;
    o.cache_root = dir;
    mw_roofline_result *r = NULL;
    mw_err err;
    assert_int_equal(mw_roofline_measure(&o, &r, &err), MW_OK);
    rmdir(dir);
    for (int i = 0; i < 4; i++) assert_true(r->sysfs_cache_bytes[i] == MW_UNKNOWN);
    const char *san = getenv("MW_SANITIZED");
    const int optimised = !san || strcmp(san, "1") != 0;
    assert_true(r->n_levels >= (optimised ? 2u : 1u));
    assert_true(r->n_levels <= 4);
    assert_string_equal(r->levels[r->n_levels - 1].name, "DRAM");
    if (optimised) assert_string_equal(r->levels[0].name, "L1");
    for (size_t l = 0; l < r->n_levels; l++) assert_true(r->levels[l].sysfs_bytes == MW_UNKNOWN);
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(mw_roofline_report_text(r, f, 0, &err), MW_OK);
    char buf[4096] = {0};
    rewind(f);
    assert_true(fread(buf, 1, sizeof buf - 1, f) > 0);
    fclose(f);
    assert_non_null(strstr(buf, "Caches (sysfs): none listed"));
    mw_roofline_result_free(r);
}

static void a_quick_run_is_consistent(void **state)
{
    (void)state;
    mw_roofline_opts o;
    mw_roofline_opts_init(&o);
    o.quick = 1;
    mw_roofline_result *r = NULL;
    mw_err err;
    assert_int_equal(mw_roofline_measure(&o, &r, &err), MW_OK);
    assert_non_null(r);
    assert_true(r->n_points >= 4);
    /* DRAM last always; a cache below it in an optimised build (unoptimised
     * and instrumented, as under ASan, the curve can be flat) */
    const char *sanitized = getenv("MW_SANITIZED");
    const int optimised = !sanitized || strcmp(sanitized, "1") != 0;
    assert_true(r->n_levels >= (optimised ? 2u : 1u));
    assert_string_equal(r->levels[r->n_levels - 1].name, "DRAM");
    if (optimised) assert_string_equal(r->levels[0].name, "L1");
    for (size_t p = 0; p < r->n_points; p++) {
        if (p) assert_true(r->points[p].bytes > r->points[p - 1].bytes);
        for (int k = 0; k < MW_RL_KERNELS; k++) { known(&r->points[p].bw[k][0]); known(&r->points[p].bw[k][1]); }
    }
    for (size_t l = 0; l + 1 < r->n_levels; l++) assert_true(r->levels[l].bytes < r->levels[l + 1].bytes);
    /* the first level is faster than DRAM by far on any machine, in an
     * optimised build (unoptimised and instrumented, as under ASan, every
     * load pays the shadow check and the caches hardly show) */
    const char *san = getenv("MW_SANITIZED");
    if (!san || strcmp(san, "1") != 0)
        assert_true(r->levels[0].bw[MW_RL_READ][0].max > 1.5 * r->levels[r->n_levels - 1].bw[MW_RL_READ][0].max);
    known(&r->flops_f32[0]);
    known(&r->flops_f32[1]);
    if (r->flops_bf16[0].max < 0) assert_true(strlen(r->bf16_reason) > 0);
    if (r->ops_int8[0].max < 0) assert_true(strlen(r->int8_reason) > 0);
    assert_true(r->seconds > 0 && r->seconds < 15);
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(mw_roofline_report_text(r, f, 0, &err), MW_OK);
    assert_int_equal(mw_roofline_report_json(r, f, &err), MW_OK);
    fclose(f);
    mw_roofline_result_free(r);
    mw_roofline_result_free(NULL);
}

static void bad_options_are_refused(void **state)
{
    (void)state;
    mw_roofline_opts o;
    mw_roofline_opts_init(&o);
    o.max_bytes = 1000;
    mw_roofline_result *r = (mw_roofline_result *)&o;
    mw_err err;
    assert_int_equal(mw_roofline_measure(&o, &r, &err), MW_ERR_INVALID);
    assert_null(r);
    assert_non_null(strstr(err.msg, "64 KiB"));
    o.max_bytes = 0;
    o.threads = 100000;
    assert_int_equal(mw_roofline_measure(&o, &r, &err), MW_ERR_INVALID);
}

/* a small working set keeps each try short */
static void allocation_failures_are_clean(void **state)
{
    (void)state;
    mw_roofline_opts o;
    mw_roofline_opts_init(&o);
    o.quick = 1;
    o.max_bytes = 128u << 10;
    int failed = 0;
    for (uint64_t n = 1; n <= 12; n++) {
        mw_roofline_result *r = NULL;
        mw_err err;
        mw_mem_fail_after(n);
        mw_status st = mw_roofline_measure(&o, &r, &err);
        mw_mem_fail_after(0);
        if (st == MW_OK) {
            assert_non_null(r);
            mw_roofline_result_free(r);
        } else {
            assert_int_equal(st, MW_ERR_NOMEM);
            assert_null(r);
            failed++;
        }
    }
    assert_true(failed >= 4);
}

/* pthread_create failing (a 1 TiB default stack, as test_threadpool does):
 * the run still ends, with the 1-thread figures and the all-threads ones
 * unknown (null), never a hang at a barrier that cannot open */
static void thread_creation_failure_leaves_all_threads_unknown(void **state)
{
    (void)state;
    threads_fail tf;
    threads_fail_begin(&tf);
    mw_roofline_opts o;
    mw_roofline_opts_init(&o);
    o.quick = 1;
    o.threads = 3;
    o.max_bytes = 128u << 10;
    mw_roofline_result *r = NULL;
    mw_err err;
    mw_status st = mw_roofline_measure(&o, &r, &err);
    threads_fail_end(&tf);
    assert_int_equal(st, MW_OK);
    if (r->flops_f32[1].max > 0) {
        mw_roofline_result_free(r);
        skip(); /* this libc or sanitizer runtime ignores the default stack size */
    }
    assert_true(r->flops_f32[0].max > 0);
    assert_true(r->points[0].bw[MW_RL_READ][0].max > 0);
    assert_true(r->points[0].bw[MW_RL_READ][1].max < 0);
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(mw_roofline_report_json(r, f, &err), MW_OK);
    assert_int_equal(mw_roofline_report_text(r, f, 0, &err), MW_OK);
    fclose(f);
    mw_roofline_result_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(levels_of_a_four_level_curve),
        cmocka_unit_test(levels_merge_down_to_the_cap),
        cmocka_unit_test(levels_of_flat_and_tiny_curves),
        cmocka_unit_test(kernels_match_plain_c),
        cmocka_unit_test(compute_loops_count_their_work),
        cmocka_unit_test(cache_sizes_from_a_fake_sysfs),
        cmocka_unit_test(a_quick_run_is_consistent),
        cmocka_unit_test(without_sysfs_caches_the_curve_gives_the_levels),
        cmocka_unit_test(threads_sharing_cpus_are_noisy),
        cmocka_unit_test(a_repetition_spans_its_threads),
        cmocka_unit_test(bad_options_are_refused),
        cmocka_unit_test(allocation_failures_are_clean),
        cmocka_unit_test(thread_creation_failure_leaves_all_threads_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
