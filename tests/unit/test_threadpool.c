/* test_threadpool.c - the engine's thread pool: every thread once per run,
 * exact totals over many runs, visibility of results, pools of 1 and of more
 * threads than CPUs, an idle pool that sleeps, the work split, and clean
 * failures (allocation, pthread_create). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_threads_fail.h"

#include "memwall.h"
#include "common/test_hooks.h"
#include "common/error.h"
#include "engine/threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAX_NTH 16

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {}
}

static uint64_t mem_current(void)
{
    mw_mem_stats s;
    mw_mem_get_stats(&s);
    return s.total_current_bytes;
}

/* ---- every ith exactly once, on the right threads ----------------------- */

typedef struct {
    int hits[MAX_NTH];          /* plain ints: each slot written by one thread */
    int nth_seen[MAX_NTH];
    pthread_t caller;
    atomic_int caller_not_ith0; /* ith 0 ran somewhere else than the caller   */
    atomic_int bad_ith;
} once_args;

static void count_once(void *vargs, int ith, int nth)
{
    once_args *a = vargs;
    if (ith < 0 || ith >= nth || nth > MAX_NTH) {
        atomic_fetch_add(&a->bad_ith, 1);
        return;
    }
    a->hits[ith]++;
    a->nth_seen[ith] = nth;
    if (ith == 0 && !pthread_equal(pthread_self(), a->caller))
        atomic_fetch_add(&a->caller_not_ith0, 1);
}

static void check_each_ith_once(mw_pool *p, int runs)
{
    int nth = mw_pool_size(p);
    once_args a;
    memset(&a, 0, sizeof a);
    a.caller = pthread_self();
    atomic_init(&a.caller_not_ith0, 0);
    atomic_init(&a.bad_ith, 0);
    for (int r = 1; r <= runs; r++) {
        mw_pool_run(p, count_once, &a);
        /* checked after every run: run() returned only once all were done */
        for (int i = 0; i < nth; i++) {
            assert_int_equal(a.hits[i], r);
            assert_int_equal(a.nth_seen[i], nth);
        }
        for (int i = nth; i < MAX_NTH; i++) assert_int_equal(a.hits[i], 0);
    }
    assert_int_equal(atomic_load(&a.bad_ith), 0);
    assert_int_equal(atomic_load(&a.caller_not_ith0), 0);
}

static void every_ith_once_per_run(void **state)
{
    (void)state;
    static const int sizes[] = {1, 2, 3, 4};
    for (size_t k = 0; k < MW_ARRAY_LEN(sizes); k++) {
        mw_pool *p = NULL;
        mw_err err;
        assert_int_equal(mw_pool_init(&p, sizes[k], &err), MW_OK);
        assert_int_equal(mw_pool_size(p), sizes[k]);
        check_each_ith_once(p, 2000);
        mw_pool_free(p);
    }
}

/* ---- 100k runs of a tiny fn: the exact total, after every run ----------- */

static void add_one(void *args, int ith, int nth)
{
    (void)ith; (void)nth;
    atomic_fetch_add_explicit((atomic_long *)args, 1, memory_order_relaxed);
}

static void add_ith(void *args, int ith, int nth)
{
    (void)nth;
    atomic_fetch_add_explicit((atomic_long *)args, 1000 + ith, memory_order_relaxed);
}

static void exact_total_over_100k_runs(void **state)
{
    (void)state;
    mw_pool *p = NULL;
    assert_int_equal(mw_pool_init(&p, 2, NULL), MW_OK);
    atomic_long counter;
    atomic_init(&counter, 0);
    long expect = 0;
    for (int r = 0; r < 100000; r++) {
        /* alternate fn and args so a stale fn or args would show */
        if (r % 2) {
            mw_pool_run(p, add_one, &counter);
            expect += 2;
        } else {
            mw_pool_run(p, add_ith, &counter);
            expect += 1000 + 1001;
        }
        if (atomic_load_explicit(&counter, memory_order_relaxed) != expect)
            fail_msg("run %d: counter %ld, expected %ld", r,
                     (long)atomic_load(&counter), expect);
    }
    mw_pool_free(p);
}

/* ---- plain (non-atomic) writes on every thread are seen by the caller ---- */

#define VIS_N 40000

typedef struct {
    const int32_t *in;  /* [VIS_N], written by the caller before the run */
    int32_t *out;       /* [VIS_N], written by the workers                */
    int32_t add;
} vis_args;

static void vis_work(void *vargs, int ith, int nth)
{
    vis_args *a = vargs;
    int64_t lo, hi;
    mw_pool_split(VIS_N, ith, nth, &lo, &hi);
    for (int64_t i = lo; i < hi; i++) a->out[i] = a->in[i] * 3 + a->add;
}

static void results_are_visible(void **state)
{
    (void)state;
    static const int sizes[] = {2, 3, 8};
    int32_t *in = mw_malloc(VIS_N * sizeof *in, MW_MEM_SCRATCH);
    int32_t *out = mw_malloc(VIS_N * sizeof *out, MW_MEM_SCRATCH);
    assert_non_null(in);
    assert_non_null(out);
    for (size_t k = 0; k < MW_ARRAY_LEN(sizes); k++) {
        mw_pool *p = NULL;
        assert_int_equal(mw_pool_init(&p, sizes[k], NULL), MW_OK);
        for (int r = 0; r < 300; r++) {
            for (int i = 0; i < VIS_N; i++) in[i] = i ^ r;
            vis_args a = {in, out, r};
            mw_pool_run(p, vis_work, &a);
            for (int i = 0; i < VIS_N; i++)
                if (out[i] != (i ^ r) * 3 + r)
                    fail_msg("pool of %d, run %d: out[%d] = %d", sizes[k], r, i, out[i]);
            if (r % 50 == 49) sleep_ms(3); /* also through the sleeping path */
        }
        mw_pool_free(p);
    }
    mw_free(out);
    mw_free(in);
}

/* ---- a pool of 1: fn called inline, on the caller ---------------------- */

static void pool_of_one(void **state)
{
    (void)state;
    uint64_t before = mem_current();
    mw_pool *p = NULL;
    assert_int_equal(mw_pool_init(&p, 1, NULL), MW_OK);
    assert_int_equal(mw_pool_size(p), 1);
    check_each_ith_once(p, 100);
    mw_pool_free(p);
    assert_true(mem_current() == before);
    /* and the NULL pool behaves as one */
    once_args a;
    memset(&a, 0, sizeof a);
    a.caller = pthread_self();
    mw_pool_run(NULL, count_once, &a);
    assert_int_equal(a.hits[0], 1);
    assert_int_equal(a.nth_seen[0], 1);
    assert_int_equal(mw_pool_size(NULL), 0);
}

/* ---- more threads than CPUs (8 on this 2-vCPU machine) ------------------ */

static void more_threads_than_cpus(void **state)
{
    (void)state;
    mw_pool *p = NULL;
    mw_err err;
    assert_int_equal(mw_pool_init(&p, 8, &err), MW_OK);
    assert_int_equal(mw_pool_size(p), 8);
    check_each_ith_once(p, 2000);
    atomic_long counter;
    atomic_init(&counter, 0);
    for (int r = 0; r < 2000; r++) mw_pool_run(p, add_one, &counter);
    assert_true(atomic_load(&counter) == 2000L * 8);
    mw_pool_free(p);
}

/* ---- an idle pool sleeps: no CPU after the spin window ------------------ */

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru); /* all threads of the process */
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

static void idle_pool_uses_no_cpu(void **state)
{
    (void)state;
    static const int sizes[] = {2, 8};
    for (size_t k = 0; k < MW_ARRAY_LEN(sizes); k++) {
        mw_pool *p = NULL;
        assert_int_equal(mw_pool_init(&p, sizes[k], NULL), MW_OK);
        atomic_long counter;
        atomic_init(&counter, 0);
        for (int r = 0; r < 1000; r++) mw_pool_run(p, add_one, &counter);
        sleep_ms(50); /* ≫ the ~1 ms spin window */
        double c0 = cpu_seconds();
        sleep_ms(200);
        double used = cpu_seconds() - c0;
        /* one spinning thread would show ~0.2 s; allow 20 ms for noise,
         * sanitizer runtimes and rusage granularity */
        if (used > 0.020)
            fail_msg("pool of %d: %.1f ms of CPU in 200 ms idle", sizes[k], used * 1e3);
        /* and it wakes up */
        mw_pool_run(p, add_one, &counter);
        assert_true(atomic_load(&counter) == 1001L * sizes[k]);
        mw_pool_free(p);
    }
}

/* ---- many sleep/wake cycles: no lost wake-up ----------------------------- */

static void wakes_after_sleeping(void **state)
{
    (void)state;
    mw_pool *p = NULL;
    assert_int_equal(mw_pool_init(&p, 3, NULL), MW_OK);
    atomic_long counter;
    atomic_init(&counter, 0);
    for (int r = 1; r <= 40; r++) {
        /* around the spin window, where sleeping and waking race */
        struct timespec ts = {0, 600000L + (long)(r % 8) * 100000L};
        nanosleep(&ts, NULL);
        mw_pool_run(p, add_one, &counter);
        assert_true(atomic_load(&counter) == 3L * r);
    }
    mw_pool_free(p);
}

/* ---- a long fn: the caller sleeps and is woken ------------------------- */

static void slow_worker(void *args, int ith, int nth)
{
    (void)nth;
    if (ith == 1) sleep_ms(20); /* ≫ the caller's spin window */
    atomic_fetch_add((atomic_long *)args, 1);
}

static void long_operation(void **state)
{
    (void)state;
    mw_pool *p = NULL;
    assert_int_equal(mw_pool_init(&p, 2, NULL), MW_OK);
    atomic_long counter;
    atomic_init(&counter, 0);
    for (int r = 1; r <= 5; r++) {
        mw_pool_run(p, slow_worker, &counter);
        assert_true(atomic_load(&counter) == 2L * r);
    }
    mw_pool_free(p);
}

/* ---- mw_pool_split: contiguous, exact, balanced within 1 ----------------- */

static void split_covers_exactly(void **state)
{
    (void)state;
    static const int64_t big[] = {1000003, 4096, 1ll << 40, (1ll << 40) + 7, INT64_MAX / 2};
    for (int nth = 1; nth <= 33; nth++) {
        for (int64_t n = 0; n < 300 + (int64_t)MW_ARRAY_LEN(big); n++) {
            int64_t nn = n < 300 ? n : big[n - 300];
            int64_t prev_hi = 0, min_len = INT64_MAX, max_len = 0;
            for (int ith = 0; ith < nth; ith++) {
                int64_t lo = -1, hi = -1;
                mw_pool_split(nn, ith, nth, &lo, &hi);
                assert_true(lo == prev_hi); /* contiguous, in order */
                assert_true(hi >= lo);
                if (hi - lo < min_len) min_len = hi - lo;
                if (hi - lo > max_len) max_len = hi - lo;
                prev_hi = hi;
            }
            assert_true(prev_hi == nn); /* covers [0, n) */
            assert_true(max_len - min_len <= 1);
        }
    }
    /* out of range: an empty range, nothing written twice */
    int64_t lo = -1, hi = -1;
    mw_pool_split(10, 2, 2, &lo, &hi);
    assert_true(lo == hi);
    mw_pool_split(10, -1, 2, &lo, &hi);
    assert_true(lo == hi);
    mw_pool_split(-5, 0, 2, &lo, &hi);
    assert_true(lo == 0 && hi == 0);
    mw_pool_split(10, 0, 0, &lo, &hi);
    assert_true(lo == hi);
}

/* ---- errors ---------------------------------------------------------------- */

static void bad_arguments(void **state)
{
    (void)state;
    mw_pool *p = (mw_pool *)&p;
    mw_err err = {0};
    assert_int_equal(mw_pool_init(&p, 0, &err), MW_ERR_INVALID);
    assert_null(p);
    assert_non_null(strstr(err.msg, "0 threads"));
    assert_int_equal(mw_pool_init(&p, -3, NULL), MW_ERR_INVALID);
    assert_int_equal(mw_pool_init(NULL, 2, &err), MW_ERR_INVALID);
    mw_pool_free(NULL);
}

static void allocation_failures_are_clean(void **state)
{
    (void)state;
    int failures = 0;
    for (uint64_t n = 1; n < 20; n++) {
        uint64_t before = mem_current();
        mw_pool *p = (mw_pool *)&p;
        mw_err err = {0};
        mw_mem_fail_after(n);
        mw_status st = mw_pool_init(&p, 4, &err);
        mw_mem_fail_after(0);
        if (st == MW_OK) {
            atomic_long counter;
            atomic_init(&counter, 0);
            mw_pool_run(p, add_one, &counter);
            assert_true(atomic_load(&counter) == 4);
            mw_pool_free(p);
            assert_true(mem_current() == before);
            break;
        }
        failures++;
        assert_int_equal(st, MW_ERR_NOMEM);
        assert_int_equal(err.status, MW_ERR_NOMEM);
        assert_null(p);
        assert_non_null(strstr(err.msg, "thread pool"));
        assert_true(mem_current() == before);
    }
    assert_true(failures >= 1);
}

/* pthread_create fails when the default stack cannot be mapped: a 1 TiB
 * stack is refused under the kernel's overcommit heuristic. */
static void thread_creation_failure_is_clean(void **state)
{
    (void)state;
    threads_fail tf;
    threads_fail_begin(&tf);

    uint64_t before = mem_current();
    mw_pool *p = (mw_pool *)&p;
    mw_err err = {0};
    mw_status st = mw_pool_init(&p, 3, &err);

    threads_fail_end(&tf);
    if (st == MW_OK) {
        mw_pool_free(p);
        skip(); /* this libc or sanitizer runtime ignores the default stack size */
    }
    assert_int_not_equal(st, MW_OK);
    assert_int_equal(err.status, st);
    assert_null(p);
    assert_non_null(strstr(err.msg, "pthread_create failed for worker 1 of 2"));
    assert_true(mem_current() == before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_ith_once_per_run),
        cmocka_unit_test(exact_total_over_100k_runs),
        cmocka_unit_test(results_are_visible),
        cmocka_unit_test(pool_of_one),
        cmocka_unit_test(more_threads_than_cpus),
        cmocka_unit_test(idle_pool_uses_no_cpu),
        cmocka_unit_test(wakes_after_sleeping),
        cmocka_unit_test(long_operation),
        cmocka_unit_test(split_covers_exactly),
        cmocka_unit_test(bad_arguments),
        cmocka_unit_test(allocation_failures_are_clean),
        cmocka_unit_test(thread_creation_failure_is_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
