/*
 * threadpool.h - one pool of worker threads for the engine's whole run.
 *
 * Threads are made once (mw_pool_init) and reused for every operation: no
 * thread is created per operation. Between operations workers wait on a
 * spin barrier with a short pause, since on this project's VMs a futex
 * wake-up costs ~10 µs against ~0.3 µs for a spin (docs/BENCHMARKS.md, the pool's dispatch); after
 * a longer idle spell (~1 ms of spinning) they sleep on a condition variable
 * so an idle pool costs no CPU.
 *
 *     mw_pool *p;
 *     mw_pool_init(&p, 2, &err);
 *     mw_pool_run(p, work, &args);   // work(args, ith, nth) on every thread,
 *                                    // the caller being thread 0; returns
 *                                    // when all are done
 *     mw_pool_free(p);
 */
#ifndef MW_ENGINE_THREADPOOL_H
#define MW_ENGINE_THREADPOOL_H

#include "memwall.h"

typedef struct mw_pool mw_pool;
typedef void (*mw_pool_fn)(void *args, int ith, int nth);

/* n_threads >= 1 (1: no workers, run() calls fn inline). */
mw_status mw_pool_init(mw_pool **out, int n_threads, mw_err *err);
void mw_pool_free(mw_pool *p);
int  mw_pool_size(const mw_pool *p);
/* Runs fn(args, ith, nth) for ith in [0, nth) in parallel and waits. */
void mw_pool_run(mw_pool *p, mw_pool_fn fn, void *args);
/* [*lo, *hi) of n items for thread ith of nth: contiguous, balanced. */
void mw_pool_split(int64_t n, int ith, int nth, int64_t *lo, int64_t *hi);

#endif /* MW_ENGINE_THREADPOOL_H */
