/*
 * guard.h - a cgroup that outlives memwall's SIGKILL does not outlive it
 * for long.
 *
 * memwall removes its cgroup when the run ends, but a memwall killed by
 * SIGKILL cannot, and a grandchild that reparented to init (a daemon, a
 * `setsid cmd &`) keeps it, and runs on uncapped in time, until the next
 * memwall finds the cgroup stale. So when watch makes a cgroup it forks a
 * guard: a tiny process that waits on a socket only memwall holds the
 * other end of. When memwall dies, the kernel closes that end; the guard
 * reads EOF, SIGKILLs every process of the cgroup and removes it. A socket,
 * not PR_SET_PDEATHSIG, because the death signal fires when the *thread*
 * that forked exits, not the process.
 */
#ifndef MW_PROBE_GUARD_H
#define MW_PROBE_GUARD_H

#include "cgroup.h"

#include <sys/types.h>

typedef struct mw_guard {
    pid_t pid;                       /* the guard; 0: none                  */
    int   fd;                        /* memwall's end of the socket; -1     */
} mw_guard;

/*! mw_guard_start() : forks the guard of cg. It closes every descriptor it
 *  inherited, ignores the terminal's signals, and does only
 *  async-signal-safe work (the paths are made before the fork).
 *  @return MW_OK, or an error (no guard: the run goes on without one; the
 *  next memwall still removes a stale cgroup). */
mw_status mw_guard_start(const mw_cgroup *cg, mw_guard *g, mw_err *err);

/*! mw_guard_stop() : the run removed its cgroup itself: tells the guard to
 *  exit without touching anything, and reaps it. No-op without a guard. */
void mw_guard_stop(mw_guard *g);

#endif /* MW_PROBE_GUARD_H */
