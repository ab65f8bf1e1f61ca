/*
 * bench_threadpool.c - what one mw_pool_run costs (dispatch latency), against
 * the two obvious peers measured in the same run:
 *
 *   mw_pool        src/engine/threadpool.c: spin ~1 ms on a generation
 *                  counter, then sleep on a condition variable
 *   create+join    pthread_create nth-1 threads per operation, join them
 *   mutex/condvar  a pool whose workers always sleep on a condition variable
 *                  (futex wake-up per operation, no spinning)
 *
 * fn is empty, so the figure is pure hand-off: wake the workers, run thread
 * 0's share on the caller, wait for all. Two regimes:
 *   back to back   operations issued in a tight loop (an engine's decode)
 *   after idle     one operation after 5 ms without any (workers asleep)
 *
 *   ./bench_threadpool              # full run (~15 s on 2 vCPUs)
 *   ./bench_threadpool --quick      # smoke test
 *
 * Prints a markdown table of medians (min-max over the samples) in µs per
 * operation. Back to back: each sample is the mean over a batch of
 * operations; after idle: each sample is one operation.
 */
#include "engine/threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec * 1e-3;
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0) {}
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct stats { double med, min, max; } stats;

static stats summarize(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    stats s = {n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]), v[0], v[n - 1]};
    return s;
}

/* the work: nothing, but not optimised away */
static atomic_int sink;
static void empty_fn(void *args, int ith, int nth)
{
    (void)args; (void)nth;
    if (ith < 0) atomic_fetch_add_explicit(&sink, 1, memory_order_relaxed);
}

/* ---- peer 1: pthread_create + join per operation ------------------------- */

typedef struct naive_arg { mw_pool_fn fn; void *args; int ith, nth; } naive_arg;

static void *naive_thread(void *v)
{
    naive_arg *a = v;
    a->fn(a->args, a->ith, a->nth);
    return NULL;
}

#define MAX_NTH 64

static void naive_run(int nth, mw_pool_fn fn, void *args)
{
    pthread_t t[MAX_NTH];
    naive_arg a[MAX_NTH];
    for (int i = 1; i < nth; i++) {
        a[i] = (naive_arg){fn, args, i, nth};
        if (pthread_create(&t[i], NULL, naive_thread, &a[i]) != 0) {
            fprintf(stderr, "bench_threadpool: pthread_create failed\n");
            exit(1);
        }
    }
    fn(args, 0, nth);
    for (int i = 1; i < nth; i++) pthread_join(t[i], NULL);
}

/* ---- peer 2: a mutex/condvar-only pool ----------------------------------- */

typedef struct cv_pool {
    int nth;
    pthread_t t[MAX_NTH];
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    unsigned gen;
    int pending, stop;
    mw_pool_fn fn;
    void *args;
} cv_pool;

typedef struct cv_worker { cv_pool *p; int ith; } cv_worker;
static cv_worker cv_workers[MAX_NTH];

static void *cv_thread(void *v)
{
    cv_worker *w = v;
    cv_pool *p = w->p;
    unsigned seen = 0;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->gen == seen) pthread_cond_wait(&p->work, &p->mu);
        seen = p->gen;
        int stop = p->stop;
        mw_pool_fn fn = p->fn;
        void *args = p->args;
        pthread_mutex_unlock(&p->mu);
        if (stop) return NULL;
        fn(args, w->ith, p->nth);
        pthread_mutex_lock(&p->mu);
        if (--p->pending == 0) pthread_cond_signal(&p->done);
        pthread_mutex_unlock(&p->mu);
    }
}

static void cv_init(cv_pool *p, int nth)
{
    memset(p, 0, sizeof *p);
    p->nth = nth;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    for (int i = 1; i < nth; i++) {
        cv_workers[i] = (cv_worker){p, i};
        if (pthread_create(&p->t[i], NULL, cv_thread, &cv_workers[i]) != 0) {
            fprintf(stderr, "bench_threadpool: pthread_create failed\n");
            exit(1);
        }
    }
}

static void cv_run(cv_pool *p, mw_pool_fn fn, void *args)
{
    if (p->nth == 1) {
        fn(args, 0, 1);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->args = args;
    p->pending = p->nth - 1;
    p->gen++;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    fn(args, 0, p->nth);
    pthread_mutex_lock(&p->mu);
    while (p->pending > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

static void cv_free(cv_pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    p->gen++;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->nth; i++) pthread_join(p->t[i], NULL);
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->mu);
}

/* ---- the harness --------------------------------------------------------- */

enum { IMPL_POOL, IMPL_NAIVE, IMPL_CV, IMPL_COUNT };
static const char *const impl_name[IMPL_COUNT] = {
    "mw_pool (spin, then condvar)", "pthread_create + join per op", "mutex/condvar pool"};

typedef struct runner {
    int impl, nth;
    mw_pool *pool;
    cv_pool *cv;
} runner;

static void run_once(runner *r)
{
    switch (r->impl) {
    case IMPL_POOL: mw_pool_run(r->pool, empty_fn, NULL); break;
    case IMPL_NAIVE: naive_run(r->nth, empty_fn, NULL); break;
    default: cv_run(r->cv, empty_fn, NULL); break;
    }
}

/* µs per operation: samples of the mean over `batch` back-to-back operations */
static stats back_to_back(runner *r, int samples, int batch)
{
    double *v = malloc((size_t)samples * sizeof *v);
    for (int i = 0; i < batch; i++) run_once(r); /* warm up */
    for (int s = 0; s < samples; s++) {
        double t0 = now_us();
        for (int i = 0; i < batch; i++) run_once(r);
        v[s] = (now_us() - t0) / batch;
    }
    stats st = summarize(v, samples);
    free(v);
    return st;
}

/* µs for one operation after idle_us without any */
static stats after_idle(runner *r, int samples, long idle_us)
{
    double *v = malloc((size_t)samples * sizeof *v);
    for (int s = 0; s < samples; s++) {
        sleep_us(idle_us);
        double t0 = now_us();
        run_once(r);
        v[s] = now_us() - t0;
    }
    stats st = summarize(v, samples);
    free(v);
    return st;
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    if (argc > 1 && !quick) {
        fprintf(stderr, "usage: bench_threadpool [--quick]\n");
        return 2;
    }
    static const int nths[] = {1, 2};
    const int b2b_samples = quick ? 5 : 21;
    const int idle_samples = quick ? 20 : 201;
    const long idle_us = 5000;

    printf("# Thread pool dispatch latency (µs per operation of an empty fn)\n\n");
    printf("%ld online CPUs. Back to back: median (min-max) of %d batches, each the mean of a "
           "batch of operations; after %ld ms idle: median (min-max) of %d single operations.\n\n",
           sysconf(_SC_NPROCESSORS_ONLN), b2b_samples, idle_us / 1000, idle_samples);
    printf("| threads | implementation | back to back µs | after %ld ms idle µs |\n", idle_us / 1000);
    printf("|---|---|---|---|\n");

    for (size_t k = 0; k < sizeof nths / sizeof nths[0]; k++) {
        int nth = nths[k];
        for (int impl = 0; impl < IMPL_COUNT; impl++) {
            runner r = {impl, nth, NULL, NULL};
            cv_pool cv;
            if (impl == IMPL_POOL) {
                mw_err err;
                if (mw_pool_init(&r.pool, nth, &err) != MW_OK) {
                    fprintf(stderr, "bench_threadpool: %s\n", err.msg);
                    return 1;
                }
            } else if (impl == IMPL_CV) {
                cv_init(&cv, nth);
                r.cv = &cv;
            }
            /* batches of ~20-50 ms, whatever the implementation's speed */
            int batch = impl == IMPL_NAIVE ? (quick ? 200 : 1000) : (quick ? 2000 : 20000);
            fprintf(stderr, "%d thread(s), %s...\n", nth, impl_name[impl]);
            stats b = back_to_back(&r, b2b_samples, batch);
            stats i = after_idle(&r, idle_samples, idle_us);
            printf("| %d | %s | %.3f (%.3f-%.3f) | %.2f (%.2f-%.2f) |\n", nth, impl_name[impl],
                   b.med, b.min, b.max, i.med, i.min, i.max);
            fflush(stdout);
            if (impl == IMPL_POOL) mw_pool_free(r.pool);
            else if (impl == IMPL_CV) cv_free(&cv);
        }
    }
    return 0;
}
