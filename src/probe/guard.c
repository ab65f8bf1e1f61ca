/* guard.c - the process that removes a cgroup when memwall is SIGKILLed
 * (guard.h says why and how). */
#include "guard.h"
#include "common/error.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* What the guard needs, made before the fork. */
typedef struct guard_paths {
    char dir[PATH_MAX];
    char procs[PATH_MAX + 16];
    char kill_file[PATH_MAX + 16];   /* v2 cgroup.kill; "" on v1 */
} guard_paths;

static void nap_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* SIGKILLs the processes listed in cgroup.procs; returns how many were
 * listed (-1: the list cannot be read). Async-signal-safe: a 4 KiB stack
 * buffer, numbers carried across reads. */
static int kill_listed(const char *procs)
{
    int fd = open(procs, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    char buf[4096];
    long v = 0;
    int in_num = 0, listed = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] >= '0' && buf[i] <= '9') {
                v = v * 10 + (buf[i] - '0');
                in_num = 1;
            } else if (in_num) {
                if (v > 1) { kill((pid_t)v, SIGKILL); listed++; }
                v = 0;
                in_num = 0;
            }
        }
    }
    if (in_num && v > 1) { kill((pid_t)v, SIGKILL); listed++; }
    close(fd);
    return listed;
}

static void guard_cleanup(const guard_paths *p)
{
    if (p->kill_file[0]) {
        int fd = open(p->kill_file, O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            ssize_t w = write(fd, "1", 1);
            (void)w;
            close(fd);
        }
    }
    /* a process may fork between the read and the kill: again until the
     * list is empty (about 2 s at most) */
    for (int pass = 0; pass < 200 && kill_listed(p->procs) > 0; pass++) nap_ms(10);
    /* the kernel drops a killed process from the cgroup a moment after */
    for (int tries = 0; tries < 200; tries++) {
        if (rmdir(p->dir) == 0 || errno == ENOENT || errno == ENOTEMPTY || errno == ENOTDIR) break;
        nap_ms(10);
    }
}

static void guard_main(int fd, const guard_paths *p)
{
    /* keep nothing of memwall's: a lock on its JSON Lines file, a pipe a
     * shell waits on, its terminal */
    if (fd <= STDERR_FILENO) fd = fcntl(fd, F_DUPFD, STDERR_FILENO + 1); /* memwall ran without stdio */
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
    }
    if ((fd > STDERR_FILENO + 1 && close_range(STDERR_FILENO + 1, (unsigned)fd - 1, 0) != 0) ||
        close_range((unsigned)fd + 1, ~0U, 0) != 0) {
        for (int i = STDERR_FILENO + 1; i < 4096; i++) /* before Linux 5.9 */
            if (i != fd) close(i);
    }
    prctl(PR_SET_NAME, "memwall-guard");
    /* Ctrl-C reaches the whole foreground group: memwall decides what the
     * tree gets; the guard waits for memwall */
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    char c = 0;
    ssize_t n;
    do n = read(fd, &c, 1); while (n < 0 && errno == EINTR);
    if (n == 1 && c == 'q') _exit(0);   /* memwall removed the cgroup itself */
    guard_cleanup(p);                    /* EOF: memwall is gone */
    _exit(0);
}

mw_status mw_guard_start(const mw_cgroup *cg, mw_guard *g, mw_err *err)
{
    g->pid = 0;
    g->fd = -1;
    guard_paths p;
    memset(&p, 0, sizeof p);
    snprintf(p.dir, sizeof p.dir, "%s", cg->path);
    snprintf(p.procs, sizeof p.procs, "%s/cgroup.procs", cg->path);
    if (cg->version == MW_CGROUP_V2) snprintf(p.kill_file, sizeof p.kill_file, "%s/cgroup.kill", cg->path);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return mw_err_errno(err, MW_ERR_IO, errno, "cannot create the socket of the cgroup's guard");
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(sv[0]);
        close(sv[1]);
        return mw_err_errno(err, MW_ERR_SPAWN, e, "cannot fork the cgroup's guard");
    }
    if (pid == 0) guard_main(sv[1], &p);
    close(sv[1]);
    g->pid = pid;
    g->fd = sv[0];
    return MW_OK;
}

void mw_guard_stop(mw_guard *g)
{
    if (g->fd >= 0) {
        ssize_t n;
        do n = send(g->fd, "q", 1, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
        close(g->fd);
        g->fd = -1;
    }
    if (g->pid > 0) {
        while (waitpid(g->pid, NULL, 0) < 0 && errno == EINTR) {}
        g->pid = 0;
    }
}
