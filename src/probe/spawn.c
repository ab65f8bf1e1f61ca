/* spawn.c - fork, attach to a cgroup, exec; report exec failures exactly. */
#include "spawn.h"
#include "common/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static ssize_t read_full(int fd, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/* Runs file, or, when the kernel does not know its format (ENOEXEC), hands
 * it to /bin/sh as execvp does. Returns exec's errno. Async-signal-safe: it
 * runs between fork and exec. */
static int exec_file(const char *file, const char *const *argv, char *const *envp)
{
    execve(file, (char *const *)argv, envp);
    int e = errno;
    if (e == ENOEXEC) {
        size_t n = 0;
        while (argv[n]) n++;
        if (n < 254) {
            const char *sh_argv[256];
            sh_argv[0] = "sh";
            sh_argv[1] = file;
            for (size_t i = 1; i <= n; i++) sh_argv[i + 1] = argv[i];
            execve("/bin/sh", (char *const *)sh_argv, envp);
        }
    }
    return e;
}

/* The PATH search of a shell: a name with a '/' is run as it is; otherwise
 * each PATH entry is tried. A directory we may not search is skipped (glibc's
 * execvp would report EACCES for it and turn "not found" into "cannot
 * execute"); a file that exists but cannot be run gives its own error.
 * Returns the errno to report: ENOENT when nothing was found. */
static int exec_search(const char *const *argv, char *const *envp)
{
    const char *name = argv[0];
    if (strchr(name, '/')) return exec_file(name, argv, envp);
    const char *path = getenv("PATH");
    if (!path || !*path) path = "/usr/local/bin:/usr/bin:/bin";
    size_t nlen = strlen(name);
    int found_errno = 0;
    for (const char *p = path;; p++) {
        const char *end = strchr(p, ':');
        size_t dlen = end ? (size_t)(end - p) : strlen(p);
        char full[4096];
        if (dlen + 1 + nlen + 1 <= sizeof full) {
            if (dlen == 0) { /* an empty entry is the current directory */
                memcpy(full, name, nlen + 1);
            } else {
                memcpy(full, p, dlen);
                full[dlen] = '/';
                memcpy(full + dlen + 1, name, nlen + 1);
            }
            if (access(full, F_OK) == 0) {
                int e = exec_file(full, argv, envp);
                if (!found_errno) found_errno = e;
            }
        }
        if (!end) break;
        p = end;
    }
    return found_errno ? found_errno : ENOENT;
}

static void child_exec(const char *const *argv, char *const *envp, const sigset_t *mask, int go_fd,
                       int err_fd, int stdout_fd, int stderr_fd, int keep_fd, int die_with_parent,
                       pid_t parent)
{
    if (die_with_parent) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127); /* the parent died already */
    }
    char c;
    /* Wait until the parent has put us in the cgroup (or gave up: EOF). */
    if (read_full(go_fd, &c, 1) != 1) _exit(127);
    close(go_fd);
    /* Signals the parent reads through its signalfd must be normal here. */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    sigprocmask(SIG_SETMASK, mask, NULL);
    if (stdout_fd >= 0 && stdout_fd != STDOUT_FILENO && dup2(stdout_fd, STDOUT_FILENO) < 0) _exit(126);
    if (stderr_fd >= 0 && stderr_fd != STDERR_FILENO && dup2(stderr_fd, STDERR_FILENO) < 0) _exit(126);
    /* Everything memwall opens is close-on-exec; the one descriptor the
     * command is meant to have (the sweep's MEMWALL_REPORT_FD) is let
     * through here, in the child only. */
    if (keep_fd > STDERR_FILENO && fcntl(keep_fd, F_SETFD, 0) < 0) _exit(126);
    int e = exec_search(argv, envp);
    ssize_t w = write(err_fd, &e, sizeof e);
    (void)w;
    _exit(e == ENOENT ? 127 : 126);
}

/* Is `entry` ("NAME=value") a setting of the variable that `add` sets? */
static int same_name(const char *entry, const char *add)
{
    const char *eq = strchr(add, '=');
    size_t n = eq ? (size_t)(eq - add) : strlen(add);
    return strncmp(entry, add, n) == 0 && entry[n] == '=';
}

/* environ with env_add's settings replacing or joining it, built before the
 * fork (the child may not allocate). The strings are environ's and
 * env_add's: only the array is mw_malloc'd; NULL when out of memory. */
static char **build_envp(const char *const *env_add)
{
    size_t n_env = 0, n_add = 0;
    while (environ && environ[n_env]) n_env++;
    while (env_add[n_add]) n_add++;
    char **envp = mw_malloc((n_env + n_add + 1) * sizeof *envp, MW_MEM_PROBE);
    if (!envp) return NULL;
    size_t n = 0;
    for (size_t i = 0; i < n_env; i++) {
        int replaced = 0;
        for (size_t k = 0; k < n_add && !replaced; k++) replaced = same_name(environ[i], env_add[k]);
        if (!replaced) envp[n++] = environ[i];
    }
    for (size_t k = 0; k < n_add; k++)
        if (strchr(env_add[k], '=')) envp[n++] = (char *)env_add[k];
    envp[n] = NULL;
    return envp;
}

mw_status mw_spawn_start(const char *const *argv, const sigset_t *child_mask,
                         const mw_cgroup *cg, const mw_spawn_io *io, int die_with_parent,
                         pid_t *pid, int *exit_code, mw_err *err)
{
    int go[2], ex[2];
    *exit_code = -1;
    MW_RETURN_IF(!argv || !argv[0] || !argv[0][0], err, MW_ERR_INVALID, "no command to run");
    char **envp = environ;
    if (io->env_add && io->env_add[0]) {
        envp = build_envp(io->env_add);
        MW_RETURN_IF(!envp, err, MW_ERR_NOMEM, "out of memory preparing the environment of %s", argv[0]);
    }
#define FREE_ENVP() do { if (envp != environ) mw_free(envp); } while (0)
    if (pipe2(go, O_CLOEXEC) < 0) {
        int e = errno;
        FREE_ENVP();
        return mw_err_errno(err, MW_ERR_SPAWN, e, "cannot create a pipe to start %s", argv[0]);
    }
    if (pipe2(ex, O_CLOEXEC) < 0) {
        int e = errno;
        close(go[0]); close(go[1]);
        FREE_ENVP();
        return mw_err_errno(err, MW_ERR_SPAWN, e, "cannot create a pipe to start %s", argv[0]);
    }
    pid_t parent = getpid();
    pid_t child = fork();
    if (child < 0) {
        int e = errno;
        close(go[0]); close(go[1]); close(ex[0]); close(ex[1]);
        FREE_ENVP();
        return mw_err_errno(err, MW_ERR_SPAWN, e, "cannot fork to start %s", argv[0]);
    }
    if (child == 0) {
        close(go[1]);
        close(ex[0]);
        child_exec(argv, envp, child_mask, go[0], ex[1], io->stdout_fd, io->stderr_fd, io->keep_fd,
                   die_with_parent, parent);
    }
    FREE_ENVP();
#undef FREE_ENVP
    close(go[0]);
    close(ex[1]);

    if (cg) {
        mw_status st = mw_cgroup_attach(cg, child, err);
        if (st != MW_OK) {
            close(go[1]); /* EOF: the child exits without running argv */
            close(ex[0]);
            kill(child, SIGKILL);
            waitpid(child, NULL, 0);
            return st;
        }
    }
    if (io->attached) io->attached(io->attached_user);
    char c = 'g';
    ssize_t w;
    do w = write(go[1], &c, 1); while (w < 0 && errno == EINTR);
    close(go[1]);

    int exec_errno = 0;
    ssize_t n = read_full(ex[0], &exec_errno, sizeof exec_errno);
    close(ex[0]);
    if (n == (ssize_t)sizeof exec_errno) {
        int status;
        while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
        *exit_code = exec_errno == ENOENT ? 127 : 126;
        if (exec_errno == ENOENT)
            return mw_err_set(err, MW_ERR_SPAWN,
                              "%s: command not found (check the name and PATH)", argv[0]);
        return mw_err_errno(err, MW_ERR_SPAWN, exec_errno, "%s: cannot execute", argv[0]);
    }
    *pid = child;
    return MW_OK;
}
