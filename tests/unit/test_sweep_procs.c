/* test_sweep_procs.c - what mw_sweep_run does to its caller and gives its
 * points' commands (issue #10): the caller's environment is left alone,
 * the command gets MEMWALL_REPORT_FD in its own and only descriptors 0-2
 * plus that one; option values it used to cut silently are errors; a JSON
 * Lines file is taken for the whole sweep (a second sweep is refused, the
 * file left as it was). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/mw-test-sweep-procs.XXXXXX";

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void read_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "re");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* Is "N" a line of ls's output? */
static int has_fd(const char *list, int fd)
{
    char key[16];
    int k = snprintf(key, sizeof key, "\n%d\n", fd);
    return !strncmp(list, key + 1, (size_t)k - 1) || strstr(list, key) != NULL;
}

/* The caller's environment is the caller's: MEMWALL_REPORT_FD reaches the
 * command only, and the command's descriptors are 0, 1, 2 and that one
 * (not the JSON Lines file, not the sweep's temporary files). */
static void report_fd_in_the_child_only(void **state)
{
    (void)state;
    char script[512], jsonl[128], fds[128], env[128];
    snprintf(jsonl, sizeof jsonl, "%s/env.jsonl", dir);
    snprintf(fds, sizeof fds, "%s/fds", dir);
    snprintf(env, sizeof env, "%s/env", dir);
    /* the shell's descriptors, listed by ls (another process) */
    snprintf(script, sizeof script, "ls /proc/$$/fd > '%s'; echo \"$MEMWALL_REPORT_FD\" > '%s'", fds, env);
    const char *const cmd[] = {"sh", "-c", script, NULL};
    static const uint32_t batches[] = {1};
    mw_sweep_opts o;
    mw_sweep_opts_init(&o);
    o.cmd = cmd;
    o.batches = batches;
    o.n_batches = 1;
    o.jsonl_path = jsonl;
    setenv("MEMWALL_REPORT_FD", "the caller's", 1);
    /* a descriptor of the caller's, close-on-exec, like any memwall opens */
    int mine = open("/dev/null", O_RDONLY | O_CLOEXEC);
    assert_true(mine > 2);
    mw_sweep_result *r = NULL;
    mw_err err;
    assert_int_equal(mw_sweep_run(&o, &r, &err), MW_OK);
    assert_int_equal(r->n_points, 1);
    assert_int_equal(r->points[0].status, MW_POINT_OK);
    mw_sweep_result_free(r);
    close(mine);
    assert_non_null(getenv("MEMWALL_REPORT_FD")); /* not unset by the sweep */
    assert_string_equal(getenv("MEMWALL_REPORT_FD"), "the caller's");
    unsetenv("MEMWALL_REPORT_FD");

    char buf[256], base[256];
    read_file(env, buf, sizeof buf);
    int report_fd = atoi(buf);
    assert_true(report_fd > 2);
    read_file(fds, buf, sizeof buf);
    /* the same script started by this program without memwall: what the
     * shell itself and this program's inherited descriptors give it */
    pid_t direct = fork();
    if (direct == 0) {
        execl("/bin/sh", "sh", "-c", script, (char *)NULL);
        _exit(127);
    }
    int status;
    assert_int_equal(waitpid(direct, &status, 0), direct);
    read_file(fds, base, sizeof base);
    /* the command's: the baseline's and the report's, nothing else */
    char want[300];
    int n = 0;
    for (int fd = 0; fd < 1024; fd++)
        if (has_fd(base, fd) || fd == report_fd) n += snprintf(want + n, sizeof want - (size_t)n, "%d ", fd);
    char got[300];
    int m = 0;
    for (int fd = 0; fd < 1024; fd++)
        if (has_fd(buf, fd)) m += snprintf(got + m, sizeof got - (size_t)m, "%d ", fd);
    assert_true(has_fd(base, 0) && has_fd(base, 1) && has_fd(base, 2));
    assert_string_equal(got, want);
}

/* A program that is not memwall runs engine points only when told which
 * memwall to run: /proc/self/exe would be this test program. */
static void engine_points_need_memwall_path(void **state)
{
    (void)state;
    mw_sweep_opts o;
    mw_sweep_opts_init(&o);
    static const uint32_t batches[] = {1};
    o.batches = batches;
    o.n_batches = 1;
    mw_sweep_result *r = NULL;
    mw_err err;
    assert_int_equal(mw_sweep_run(&o, &r, &err), MW_ERR_INVALID);
    assert_null(r);
    assert_non_null(strstr(err.msg, "memwall_path"));
}

/* Values the sweep used to cut without a word are errors. */
static void caps_are_errors(void **state)
{
    (void)state;
    static const char *const cmd[] = {"true", NULL};
    static const uint32_t batches[] = {1};
    static const uint64_t sizes[17] = {1u << 30};
    mw_sweep_opts o;
    mw_sweep_opts_init(&o);
    o.cmd = cmd;
    o.batches = batches;
    o.n_batches = 1;
    mw_sweep_result *r = NULL;
    mw_err err;
    o.runs = 65;
    assert_int_equal(mw_sweep_run(&o, &r, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "65 runs per point: at most 64"));
    o.runs = 1;
    o.warmup = 65;
    assert_int_equal(mw_sweep_run(&o, &r, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "at most 64"));
    o.warmup = 0;
    o.what_if = sizes;
    o.n_what_if = 17;
    assert_int_equal(mw_sweep_run(&o, &r, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "17 --what-if sizes: at most 16"));
    o.n_what_if = 16; /* the most is fine */
    assert_int_equal(mw_sweep_run(&o, &r, &err), MW_OK);
    assert_int_equal(r->n_what_if, 16);
    mw_sweep_result_free(r);
}

/* A JSON Lines file another process holds (a running sweep) is refused,
 * naming the holder, and left as it was (not emptied). */
static void jsonl_locked_by_another(void **state)
{
    (void)state;
    char jsonl[128];
    snprintf(jsonl, sizeof jsonl, "%s/locked.jsonl", dir);
    static const char line[] = "{\"batch\":1,\"status\":\"ok\"}\n";
    int fd = open(jsonl, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, line, sizeof line - 1), (ssize_t)(sizeof line - 1));
    close(fd);
    int go[2];
    assert_int_equal(pipe(go), 0);
    pid_t holder = fork();
    if (holder == 0) {
        int f = open(jsonl, O_RDONLY);
        char c = flock(f, LOCK_EX) == 0 ? 'y' : 'n';
        if (write(go[1], &c, 1) != 1) _exit(1);
        pause();
        _exit(0);
    }
    char c = 0;
    assert_int_equal(read(go[0], &c, 1), 1);
    assert_int_equal(c, 'y');
    static const char *const cmd[] = {"true", NULL};
    static const uint32_t batches[] = {2};
    mw_sweep_opts o;
    mw_sweep_opts_init(&o);
    o.cmd = cmd;
    o.batches = batches;
    o.n_batches = 1;
    o.jsonl_path = jsonl;
    mw_sweep_result *r = NULL;
    mw_err err;
    mw_status st = mw_sweep_run(&o, &r, &err);
    kill(holder, SIGKILL);
    waitpid(holder, NULL, 0);
    close(go[0]);
    close(go[1]);
    if (st == MW_OK) mw_sweep_result_free(r);
    assert_int_equal(st, MW_ERR_INVALID);
    char want[160];
    snprintf(want, sizeof want, "is in use by another sweep (process %d", (int)holder);
    assert_non_null(strstr(err.msg, want));
    char buf[256];
    read_file(jsonl, buf, sizeof buf);
    assert_string_equal(buf, line);
    /* the holder gone, the file is free again */
    o.resume = 1;
    assert_int_equal(mw_sweep_run(&o, &r, &err), MW_OK);
    assert_int_equal(r->n_resumed, 1);
    mw_sweep_result_free(r);
}

int main(int argc, char **argv)
{
    (void)argv;
    /* run as a sweep's engine point (a memwall before memwall_path was
     * required ran /proc/self/exe, this program): fail that point at once */
    if (argc > 1) return 3;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(report_fd_in_the_child_only),
        cmocka_unit_test(engine_points_need_memwall_path),
        cmocka_unit_test(caps_are_errors),
        cmocka_unit_test(jsonl_locked_by_another),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
