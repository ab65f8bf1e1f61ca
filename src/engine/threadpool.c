/*
 * threadpool.c - the engine's one pool of worker threads (threadpool.h).
 *
 * Hand-off protocol (after ggml-cpu's threadpool and OpenMP's spin-then-
 * sleep barriers):
 *
 *   caller (thread 0)                      worker ith
 *   ----------------------------------     -----------------------------------
 *   fn, args, pending = nth-1
 *   gen += 1            (seq_cst)    --->  spins on gen != seen (~1 ms), then
 *   if n_sleeping: lock, broadcast         sleeps on wake_cv (n_sleeping++)
 *   fn(args, 0, nth)                       fn(args, ith, nth)
 *   spin on pending == 0 (~1 ms), then <---  pending -= 1  (acq_rel)
 *   sleep on done_cv (caller_waiting)       last one: if caller_waiting, signal
 *
 * Why spin first: a futex wake-up costs ~10 µs on this project's VMs against
 * well under 1 µs for a spin hand-off (docs/BENCHMARKS.md, "Engine thread
 * pool": 7.6 µs a mutex/condvar pool, 0.14 µs this one, back to back), and
 * the engine dispatches hundreds of operations per token. Why sleep after ~1 ms:
 * an idle pool must cost no CPU.
 *
 * When not to spin: a spinning thread holds its CPU, which only pays when
 * the thread it waits for runs on another one. This VM's kernel packs
 * threads onto few vCPUs (sched_vcpu_pack on its command line) and wakes a
 * sleeper on its waker's CPU, so the caller and a worker often share one
 * vCPU, for seconds at a time. Measured with bench/bench_threadpool.c:
 *   - a pure 1 ms spin then held the CPU the other side needed for the whole
 *     window: 2.0 ms per operation after an idle spell;
 *   - blocking whenever the two shared a CPU kept them together (each futex
 *     wake-up lands on the waker's CPU): 7.8 µs back to back, like a
 *     mutex/condvar pool;
 *   - yielding whenever the caller waited cost a whole time slice per yield
 *     next to a busy process: 12 ms per operation after an idle spell.
 * So each thread notes its CPU once per operation (sched_getcpu reads rseq
 * memory, ~2 ns) and a waiter
 *   - spins (pause) when the thread it waits for ran elsewhere;
 *   - yields, for up to 200 µs, when that thread ran its last fn on this CPU
 *     (back to back: ~2 µs per operation, and the two stay runnable, so the
 *     kernel can move one of them to the other vCPU);
 *   - blocks at once when the caller has just woken sleeping workers (they
 *     may land on its CPU and take 10-40 µs to run anyway), or when the pool
 *     has more threads than usable CPUs.
 *
 * Memory ordering: the caller's writes before mw_pool_run (fn, args, and
 * whatever fn reads) are released by the gen increment and acquired by each
 * worker's load of gen. Each worker's writes are released by its decrement
 * of pending; the decrements form one release sequence, so the caller's
 * acquire load that reads 0 sees every worker's writes.
 *
 * No lost wake-ups: sleeping is a Dekker pair on seq_cst atomics. A worker
 * increments n_sleeping then re-reads gen under the mutex; the caller bumps
 * gen then reads n_sleeping. One of them sees the other's store, so either
 * the worker does not wait or the caller broadcasts (taking the mutex, which
 * the worker holds until it is inside pthread_cond_wait). The same holds for
 * caller_waiting against the last decrement of pending.
 *
 * One caller at a time: mw_pool_run is not re-entrant and must not be called
 * from fn or from two threads at once on the same pool.
 */
#include "engine/threadpool.h"
#include "common/error.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define MW_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define MW_CPU_RELAX() __asm__ __volatile__("yield" ::: "memory")
#else
#define MW_CPU_RELAX() atomic_signal_fence(memory_order_seq_cst)
#endif

/* How long a waiter spins before it sleeps on a condition variable, and how
 * long it yields instead when it shares its CPU with the thread it awaits. */
#define MW_POOL_SPIN_NS  1000000LL
#define MW_POOL_YIELD_NS  200000LL
/* Pauses between clock reads (clock_gettime is a ~20 ns vDSO call with a TSC
 * clocksource, a pause ~25 ns on Zen 5, so the clock costs little). */
#define MW_POOL_SPINS_PER_CLOCK 64
/* A sanity bound on n_threads, not a tuning figure. */
#define MW_POOL_MAX_THREADS 4096
#define MW_CACHE_LINE 64

typedef struct mw_pool_worker {
    mw_pool *pool;
    int ith;
    atomic_int cpu;              /* where it ran its last fn; -1 unknown */
    char pad[MW_CACHE_LINE - sizeof(void *) - 2 * sizeof(int)]; /* one line each */
} mw_pool_worker;

/* Fields are grouped by who writes them, each group on its own cache line
 * (padding rather than _Alignas: mw_malloc guarantees only 16 bytes). */
struct mw_pool {
    int n_threads;
    int oversubscribed;          /* n_threads > usable CPUs: never spin      */
    pthread_t *threads;          /* [n_threads - 1]; worker i is ith i + 1   */
    mw_pool_worker *workers;     /* [n_threads - 1]                          */
    pthread_mutex_t mu;          /* guards sleeping on both condvars         */
    pthread_cond_t wake_cv;      /* workers sleep here between operations    */
    pthread_cond_t done_cv;      /* the caller sleeps here on a long operation */
    char pad0[MW_CACHE_LINE];

    /* written by the caller once per operation, read by every worker */
    _Atomic uint32_t gen;        /* operations started (wraps; compared with ==) */
    atomic_int stop;
    atomic_int caller_cpu;       /* the caller's CPU at dispatch; -1 unknown */
    mw_pool_fn fn;               /* published by the release of gen */
    void *args;
    char pad1[MW_CACHE_LINE];

    /* decremented by each worker once per operation */
    atomic_int pending;          /* workers that have not finished fn        */
    char pad2[MW_CACHE_LINE];

    /* written only around sleeping */
    atomic_int n_sleeping;       /* workers inside (or entering) wake_cv wait */
    atomic_int caller_waiting;   /* caller inside (or entering) done_cv wait  */
    char pad3[MW_CACHE_LINE];
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* How a waiter waits before it sleeps on a condition variable (see top). */
typedef enum wait_mode {
    WAIT_SPIN,   /* pause loop, up to MW_POOL_SPIN_NS       */
    WAIT_YIELD,  /* sched_yield loop, up to MW_POOL_YIELD_NS */
    WAIT_BLOCK,  /* sleep at once                           */
} wait_mode;

typedef struct spinner {
    wait_mode mode;
    unsigned i;
    int64_t t0;
} spinner;

static void spinner_start(spinner *s, wait_mode mode)
{
    s->mode = mode;
    s->i = 0;
    s->t0 = mode == WAIT_YIELD ? now_ns() : 0;
}

/* One step of the wait. @return 0 once the waiter should sleep. */
static int spinner_step(spinner *s)
{
    switch (s->mode) {
    case WAIT_SPIN:
        MW_CPU_RELAX();
        if (++s->i % MW_POOL_SPINS_PER_CLOCK == 0) {
            int64_t t = now_ns();
            if (s->t0 == 0) s->t0 = t;
            else if (t - s->t0 > MW_POOL_SPIN_NS) return 0;
        }
        return 1;
    case WAIT_YIELD:
        sched_yield();
        return now_ns() - s->t0 <= MW_POOL_YIELD_NS;
    default:
        return 0;
    }
}

/* Waits until gen differs from seen. @return the new generation. */
static uint32_t worker_wait(mw_pool *p, uint32_t seen, wait_mode mode)
{
    uint32_t g;
    spinner s;
    spinner_start(&s, mode);
    do {
        g = atomic_load_explicit(&p->gen, memory_order_acquire);
        if (g != seen) return g;
    } while (spinner_step(&s));
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add(&p->n_sleeping, 1);                 /* seq_cst: see top */
    while ((g = atomic_load(&p->gen)) == seen)
        pthread_cond_wait(&p->wake_cv, &p->mu);
    atomic_fetch_sub(&p->n_sleeping, 1);
    pthread_mutex_unlock(&p->mu);
    return g;
}

static void *worker_main(void *arg)
{
    mw_pool_worker *w = arg;
    mw_pool *p = w->pool;
    uint32_t seen = 0; /* gen at init; a late-starting worker still sees gen 1 */
    wait_mode mode = WAIT_BLOCK; /* first wait: the pool may stay unused for long */
    for (;;) {
        seen = worker_wait(p, seen, mode);
        if (atomic_load_explicit(&p->stop, memory_order_acquire)) break;
        p->fn(p->args, w->ith, p->n_threads);
        int cpu = sched_getcpu();
        atomic_store_explicit(&w->cpu, cpu, memory_order_relaxed);
        if (p->oversubscribed)
            mode = WAIT_BLOCK;
        else if (cpu >= 0 && cpu == atomic_load_explicit(&p->caller_cpu, memory_order_relaxed))
            mode = WAIT_YIELD; /* the caller may be queued behind this thread */
        else
            mode = WAIT_SPIN;
        /* seq_cst (so also release): pairs with caller_waiting, see top */
        if (atomic_fetch_sub(&p->pending, 1) == 1 && atomic_load(&p->caller_waiting)) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done_cv);
            pthread_mutex_unlock(&p->mu);
        }
    }
    return NULL;
}

/* woke: workers were asleep at dispatch; cpu: the caller's (see top) */
static void caller_wait(mw_pool *p, int woke, int cpu)
{
    wait_mode mode = woke || p->oversubscribed ? WAIT_BLOCK : WAIT_SPIN;
    for (int i = 0; i < p->n_threads - 1 && mode == WAIT_SPIN && cpu >= 0; i++)
        if (atomic_load_explicit(&p->workers[i].cpu, memory_order_relaxed) == cpu)
            mode = WAIT_YIELD;
    spinner s;
    spinner_start(&s, mode);
    do {
        if (atomic_load_explicit(&p->pending, memory_order_acquire) == 0) return;
    } while (spinner_step(&s));
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->caller_waiting, 1);
    while (atomic_load(&p->pending) != 0)   /* seq_cst, so also acquire */
        pthread_cond_wait(&p->done_cv, &p->mu);
    atomic_store(&p->caller_waiting, 0);
    pthread_mutex_unlock(&p->mu);
}

/* Stops and joins the first n_started workers. */
static void stop_workers(mw_pool *p, int n_started)
{
    atomic_store(&p->stop, 1);
    atomic_fetch_add(&p->gen, 1);
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->wake_cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < n_started; i++) pthread_join(p->threads[i], NULL);
}

static void pool_release(mw_pool *p)
{
    pthread_cond_destroy(&p->done_cv);
    pthread_cond_destroy(&p->wake_cv);
    pthread_mutex_destroy(&p->mu);
    mw_free(p->workers);
    mw_free(p->threads);
    mw_free(p);
}

/* CPUs this process may run on (taskset, cpusets), else those online. */
static long usable_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
}

mw_status mw_pool_init(mw_pool **out, int n_threads, mw_err *err)
{
    MW_RETURN_IF(out == NULL, err, MW_ERR_INVALID, "mw_pool_init: out is NULL");
    *out = NULL;
    MW_RETURN_IF(n_threads < 1 || n_threads > MW_POOL_MAX_THREADS, err, MW_ERR_INVALID,
                 "thread pool: %d threads asked for; give 1 to %d", n_threads,
                 MW_POOL_MAX_THREADS);

    mw_pool *p = mw_calloc(1, sizeof *p, MW_MEM_OTHER);
    MW_RETURN_IF(p == NULL, err, MW_ERR_NOMEM, "thread pool: out of memory for the pool");
    p->n_threads = n_threads;
    p->oversubscribed = n_threads > usable_cpus();
    atomic_init(&p->gen, 0);
    atomic_init(&p->stop, 0);
    atomic_init(&p->pending, 0);
    atomic_init(&p->n_sleeping, 0);
    atomic_init(&p->caller_waiting, 0);
    atomic_init(&p->caller_cpu, -1);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake_cv, NULL);
    pthread_cond_init(&p->done_cv, NULL);

    int n_workers = n_threads - 1;
    if (n_workers > 0) {
        p->threads = mw_calloc((size_t)n_workers, sizeof *p->threads, MW_MEM_OTHER);
        p->workers = mw_calloc((size_t)n_workers, sizeof *p->workers, MW_MEM_OTHER);
        if (p->threads == NULL || p->workers == NULL) {
            pool_release(p);
            return mw_err_set(err, MW_ERR_NOMEM,
                              "thread pool: out of memory for %d worker records", n_workers);
        }
    }

    /* Workers block asynchronous signals (they inherit the creator's mask),
     * so SIGINT, SIGCHLD and the like go to the application's own threads.
     * Faults stay unblocked: a crash in fn still reaches the handlers that
     * report it (sanitizers, debuggers). */
    sigset_t all, old;
    sigfillset(&all);
    static const int faults[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS};
    for (size_t i = 0; i < MW_ARRAY_LEN(faults); i++) sigdelset(&all, faults[i]);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = 0, started = 0;
    for (; started < n_workers; started++) {
        mw_pool_worker *w = &p->workers[started];
        w->pool = p;
        w->ith = started + 1;
        atomic_init(&w->cpu, -1);
        rc = pthread_create(&p->threads[started], NULL, worker_main, w);
        if (rc != 0) break;
        char name[16]; /* the kernel's limit, NUL included */
        snprintf(name, sizeof name, "mw-pool-%d", w->ith);
        pthread_setname_np(p->threads[started], name);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);

    if (rc != 0) {
        stop_workers(p, started);
        pool_release(p);
        /* glibc answers EAGAIN when the stack cannot be mapped or a thread
         * limit (RLIMIT_NPROC, kernel.threads-max) is reached: resources. */
        mw_status st = (rc == EAGAIN || rc == ENOMEM) ? MW_ERR_NOMEM : mw_status_from_errno(rc);
        return mw_err_errno(err, st, rc,
                            "thread pool: pthread_create failed for worker %d of %d "
                            "(lower the thread count or raise the thread/memory limits)",
                            started + 1, n_workers);
    }
    *out = p;
    return MW_OK;
}

void mw_pool_free(mw_pool *p)
{
    if (p == NULL) return;
    stop_workers(p, p->n_threads - 1);
    pool_release(p);
}

int mw_pool_size(const mw_pool *p)
{
    return p ? p->n_threads : 0;
}

void mw_pool_run(mw_pool *p, mw_pool_fn fn, void *args)
{
    if (p == NULL || p->n_threads == 1) { /* no workers: an ordinary call */
        fn(args, 0, 1);
        return;
    }
    int cpu = sched_getcpu();
    p->fn = fn;
    p->args = args;
    atomic_store_explicit(&p->caller_cpu, cpu, memory_order_relaxed);
    atomic_store_explicit(&p->pending, p->n_threads - 1, memory_order_relaxed);
    atomic_fetch_add(&p->gen, 1);              /* seq_cst: releases the above */
    int woke = atomic_load(&p->n_sleeping) > 0;
    if (woke) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->wake_cv);
        pthread_mutex_unlock(&p->mu);
    }
    fn(args, 0, p->n_threads);
    caller_wait(p, woke, cpu);
}

void mw_pool_split(int64_t n, int ith, int nth, int64_t *lo, int64_t *hi)
{
    if (n <= 0 || nth <= 0 || ith < 0 || ith >= nth) { /* nothing to do */
        *lo = *hi = 0;
        return;
    }
    /* the first n % nth threads take one item more */
    int64_t base = n / nth, rem = n % nth;
    *lo = ith * base + (ith < rem ? ith : rem);
    *hi = *lo + base + (ith < rem ? 1 : 0);
}
