/*
 * spawn.h - start a command the way time(1) does, but able to put it in a
 * cgroup before it runs a single instruction of its own.
 *
 * The child waits on a pipe until the parent has attached it to the cgroup,
 * then execs; a second, close-on-exec pipe carries exec's errno back, so
 * "not found" (127) and "not executable" (126) are told apart from a command
 * that ran and failed.
 */
#ifndef MW_PROBE_SPAWN_H
#define MW_PROBE_SPAWN_H

#include "memwall.h"
#include "cgroup.h"

#include <signal.h>

/* What the child gets besides argv. */
typedef struct mw_spawn_io {
    int stdout_fd, stderr_fd;        /* >= 0: its standard output and error */
    int keep_fd;                     /* > 2: a close-on-exec descriptor the
                                        command inherits all the same; -1 */
    const char *const *env_add;      /* "NAME=value" settings added to (or
                                        replacing those of) the caller's
                                        environment, in the child only; NULL */
    void (*attached)(void *user);    /* called once the child is in cg, before
                                        it may exec; NULL                   */
    void *attached_user;
} mw_spawn_io;

/*! mw_spawn_start() :
 *  Forks and execs argv (PATH search). child_mask is the signal mask the
 *  child gets back before exec. cg may be NULL. io: the child's standard
 *  output and error, the descriptor it keeps, its extra environment (built
 *  before the fork: the child only does async-signal-safe work).
 *  die_with_parent: SIGKILL the child when the parent dies (PR_SET_PDEATHSIG), so a killed sweep leaves no workload.
 *  @return MW_OK with *pid set; MW_ERR_SPAWN when exec failed (the child is
 *  reaped, *exit_code is 127 for ENOENT, 126 otherwise, err names the
 *  command); other codes when the cgroup attach failed (child killed). */
mw_status mw_spawn_start(const char *const *argv, const sigset_t *child_mask,
                         const mw_cgroup *cg, const mw_spawn_io *io, int die_with_parent,
                         pid_t *pid, int *exit_code, mw_err *err);

#endif /* MW_PROBE_SPAWN_H */
