/* test_watch.c - mw_watch_run on workloads with known memory (tests/helpers/
 * mw_touch.c): peaks within 2% plus a fixed overhead, tree totals, exit codes
 * and signals, the spawner's own memory, cgroup OOM, and allocation faults. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"
#include "common/test_hooks.h"
#include "probe/cgroup.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MiB (1024.0 * 1024.0)
/* What a tiny C program maps besides what it touches: libc, stack, page
 * tables do not count in RSS; the measured figure is ~1.3 MiB (libc text and
 * data) on Debian 12. Documented in docs/WATCH.md. */
#define FIXED_OVERHEAD (4.0 * MiB)

static const char *touch_path(void)
{
    const char *p = getenv("MW_TOUCH");
    return p ? p : "./mw-touch";
}

static mw_watch_result *watch(const char *const *argv, double interval, mw_status want)
{
    mw_watch_opts o;
    mw_watch_opts_init(&o);
    o.interval_seconds = interval;
    o.gpu = 0;
    mw_watch_result *r = NULL;
    mw_err err = {0};
    mw_status st = mw_watch_run(argv, &o, &r, &err);
    if (st != want) print_error("mw_watch_run: %s (%s)\n", mw_status_name(st), err.msg);
    assert_int_equal(st, want);
    return r;
}

static void assert_near(uint64_t measured, double expected, double overhead)
{
    double m = (double)measured;
    if (!(m >= expected && m <= expected * 1.02 + overhead))
        print_error("measured %.0f, expected %.0f (+2%% +%.0f)\n", m, expected, overhead);
    assert_true(m >= expected && m <= expected * 1.02 + overhead);
}

static void peak_of_one_process(void **state)
{
    (void)state;
    /* the hold outlasts two intervals, so the sampled anon split sees the top */
    const char *argv[] = {touch_path(), "64M", "64M", "128M", "--hold", "300ms", NULL};
    mw_watch_result *r = watch(argv, 0.1, MW_OK);
    assert_int_equal(r->exit_code, 0);
    assert_int_equal(r->status_code, 0);
    assert_false(r->oom_killed);
    assert_near(r->peak_rss_bytes, 256 * MiB, FIXED_OVERHEAD);
    assert_near(r->peak_rss_anon_bytes, 256 * MiB, FIXED_OVERHEAD);
    assert_int_equal(r->nprocs, 1);
    assert_near(r->procs[0].peak_rss_bytes, 256 * MiB, FIXED_OVERHEAD);
    assert_true(r->minor_faults >= 65536); /* 256 MiB of 4 KiB pages */
    assert_true(r->samples >= 2);
    assert_true(r->wall_seconds > 0.05);
    mw_watch_result_free(r);
}

static void peak_between_samples(void **state)
{
    (void)state;
    /* A short spike, freed before exit: a 1 s interval sees at most the first
     * and last samples, but VmHWM keeps the high-water mark. */
    const char *argv[] = {touch_path(), "--free", "200M", "8M", "--hold", "20ms", NULL};
    mw_watch_result *r = watch(argv, 1.0, MW_OK);
    assert_near(r->peak_rss_bytes, 200 * MiB, FIXED_OVERHEAD);
    mw_watch_result_free(r);
}

static void tree_totals(void **state)
{
    (void)state;
    /* root + 3 siblings + a chain of 2 = 6 processes, 32 MiB each, alive
     * together during the hold */
    const char *argv[] = {touch_path(), "--fork", "3", "--depth", "2", "32M", "--hold", "400ms", NULL};
    mw_watch_result *r = watch(argv, 0.02, MW_OK);
    assert_int_equal(r->nprocs, 6);
    assert_int_equal(r->max_processes, 6);
    assert_near(r->peak_rss_anon_bytes, 6 * 32 * MiB, 6 * FIXED_OVERHEAD);
    for (uint32_t i = 0; i < r->nprocs; i++) {
        assert_near(r->procs[i].peak_rss_bytes, 32 * MiB, FIXED_OVERHEAD);
        assert_true(r->procs[i].end_seconds >= r->procs[i].start_seconds);
    }
    /* the root's parent is us; every other process's parent is in the tree */
    assert_int_equal(r->procs[0].ppid, getpid());
    for (uint32_t i = 1; i < r->nprocs; i++) {
        int found = 0;
        for (uint32_t j = 0; j < r->nprocs; j++) found |= r->procs[j].pid == r->procs[i].ppid;
        assert_true(found);
    }
    mw_watch_result_free(r);
}

static void shmem_is_split_out(void **state)
{
    (void)state;
    const char *argv[] = {touch_path(), "--shmem", "48M", "16M", "--hold", "50ms", NULL};
    mw_watch_result *r = watch(argv, 0.02, MW_OK);
    assert_near(r->peak_rss_shmem_bytes, 48 * MiB, FIXED_OVERHEAD);
    assert_near(r->peak_rss_anon_bytes, 16 * MiB, FIXED_OVERHEAD);
    mw_watch_result_free(r);
}

static void exit_codes_and_signals(void **state)
{
    (void)state;
    const char *a1[] = {touch_path(), "--exit", "3", NULL};
    mw_watch_result *r = watch(a1, 0.01, MW_OK);
    assert_int_equal(r->exit_code, 3);
    assert_int_equal(r->status_code, 3);
    mw_watch_result_free(r);

    const char *a2[] = {touch_path(), "--raise", "15", NULL};
    r = watch(a2, 0.01, MW_OK);
    assert_int_equal(r->term_signal, SIGTERM);
    assert_int_equal(r->status_code, 128 + SIGTERM);
    assert_int_equal(r->exit_code, -1);
    assert_false(r->oom_killed);
    mw_watch_result_free(r);

    const char *a3[] = {"/nonexistent/command", NULL};
    mw_err err;
    mw_watch_opts o;
    mw_watch_opts_init(&o);
    assert_int_equal(mw_watch_run(a3, &o, &r, &err), MW_ERR_SPAWN);
    assert_int_equal(r->status_code, 127);
    assert_non_null(strstr(err.msg, "not found"));
    mw_watch_result_free(r);

    char path[] = "/tmp/mw-noexec-XXXXXX"; /* exists, not executable */
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    const char *a4[] = {path, NULL};
    assert_int_equal(mw_watch_run(a4, &o, &r, &err), MW_ERR_SPAWN);
    assert_int_equal(r->status_code, 126);
    assert_non_null(strstr(err.msg, "cannot execute"));
    mw_watch_result_free(r);
    unlink(path);
}

static void spawner_memory_not_counted(void **state)
{
    (void)state;
    /* Make the watcher big: ru_maxrss of its child starts at this RSS. */
    size_t big = 300u << 20;
    char *ballast = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(ballast != MAP_FAILED);
    memset(ballast, 1, big);
    /* The child outlives a few samples, so its own VmHWM is read; wait4's
     * ru_maxrss (>= 300 MiB here) must not be taken for the child's peak. */
    const char *argv[] = {touch_path(), "8M", "--hold", "100ms", NULL};
    mw_watch_result *r = watch(argv, 0.01, MW_OK);
    assert_near(r->peak_rss_bytes, 8 * MiB, FIXED_OVERHEAD);
    assert_near(r->procs[0].peak_rss_bytes, 8 * MiB, FIXED_OVERHEAD);
    mw_watch_result_free(r);
    munmap(ballast, big);
}

static void bad_options(void **state)
{
    (void)state;
    mw_watch_opts o;
    mw_watch_opts_init(&o);
    mw_watch_result *r = (mw_watch_result *)0x1;
    mw_err err;
    o.interval_seconds = 0.0001;
    const char *argv[] = {"true", NULL};
    assert_int_equal(mw_watch_run(argv, &o, &r, &err), MW_ERR_INVALID);
    assert_null(r);
    /* a huge interval overflowed ppoll's timespec: EINVAL in a busy loop
     * that never reaped the child (issue 10); above an hour is refused */
    o.interval_seconds = 9223372036854775807.0;
    assert_int_equal(mw_watch_run(argv, &o, &r, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "1 hour maximum"));
    assert_null(r);
    o.interval_seconds = 3601;
    assert_int_equal(mw_watch_run(argv, &o, &r, &err), MW_ERR_INVALID);
    mw_watch_opts_init(&o);
    assert_int_equal(mw_watch_run(NULL, &o, &r, &err), MW_ERR_INVALID);
    o.attach_pid = 999999999;
    assert_int_equal(mw_watch_run(NULL, &o, &r, &err), MW_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, "999999999"));
}

static void attach_to_running(void **state)
{
    (void)state;
    pid_t child = fork();
    if (child == 0) {
        execl(touch_path(), "mw-touch", "40M", "--hold", "300ms", (char *)NULL);
        _exit(127);
    }
    usleep(50000);
    mw_watch_opts o;
    mw_watch_opts_init(&o);
    o.attach_pid = child;
    o.interval_seconds = 0.01;
    o.gpu = 0;
    mw_watch_result *r = NULL;
    mw_err err;
    /* Our own child: waitid in the test reaps it after the watch ends; the
     * watcher sees it as a zombie and stops. */
    assert_int_equal(mw_watch_run(NULL, &o, &r, &err), MW_OK);
    assert_int_equal(r->status_code, 0);
    assert_int_equal(r->exit_code, -1);
    assert_near(r->peak_rss_bytes, 40 * MiB, FIXED_OVERHEAD);
    mw_watch_result_free(r);
    waitpid(child, NULL, 0);
}

static void oom_under_cgroup(void **state)
{
    (void)state;
    mw_watch_opts o;
    mw_watch_opts_init(&o);
    o.interval_seconds = 0.01;
    o.gpu = 0;
    o.mem_limit_bytes = 64u << 20;
    const char *argv[] = {touch_path(), "32M", "32M", "32M", "32M", NULL};
    mw_watch_result *r = NULL;
    mw_err err;
    mw_status st = mw_watch_run(argv, &o, &r, &err);
    if (st == MW_ERR_PERMISSION || st == MW_ERR_UNSUPPORTED) {
        print_message("skipped: %s\n", err.msg);
        skip();
    }
    assert_int_equal(st, MW_OK);
    assert_true(r->oom_killed);
    assert_int_equal(r->term_signal, SIGKILL);
    assert_int_equal(r->status_code, 137);
    assert_true(r->cgroup_version != MW_CGROUP_NONE);
    assert_true(r->cgroup_oom_kills >= 1);
    assert_true(r->cgroup_peak_bytes <= (64u << 20) && r->cgroup_peak_bytes > (48u << 20));
    /* memwall removed its cgroup */
    assert_int_equal(access(r->cgroup_path, F_OK), -1);

    /* a cgroup left by a memwall that was SIGKILLed (its PID gone) is
     * removed by the next memwall */
    char stale[600];
    pid_t gone = fork();
    if (gone == 0) _exit(0);
    waitpid(gone, NULL, 0);
    snprintf(stale, sizeof stale, "%.*s/memwall-%d-7",
             (int)(strrchr(r->cgroup_path, '/') - r->cgroup_path), r->cgroup_path, (int)gone);
    assert_int_equal(mkdir(stale, 0755), 0);
    mw_watch_result_free(r);

    /* the same command with room to spare is not an OOM */
    o.mem_limit_bytes = 512u << 20;
    assert_int_equal(mw_watch_run(argv, &o, &r, &err), MW_OK);
    assert_false(r->oom_killed);
    assert_int_equal(r->status_code, 0);
    assert_true(r->cgroup_oom_kills == 0);
    assert_near(r->cgroup_peak_bytes, 128 * MiB, 8 * MiB);
    assert_int_equal(access(stale, F_OK), -1);
    mw_watch_result_free(r);
}

/* A cgroup left by a SIGKILLed memwall whose PID is ours now (PIDs come
 * back) neither blocks our run ("already exists") nor stays: names carry
 * the start time, and the left-over is removed as stale. */
static void reused_pid_cgroup_name(void **state)
{
    (void)state;
    const char *argv[] = {touch_path(), "1M", NULL};
    mw_watch_opts o;
    mw_watch_opts_init(&o);
    o.interval_seconds = 0.01;
    o.gpu = 0;
    o.mem_limit_bytes = 64u << 20;
    mw_watch_result *r = NULL;
    mw_err err;
    mw_status st = mw_watch_run(argv, &o, &r, &err);
    if (st == MW_ERR_PERMISSION || st == MW_ERR_UNSUPPORTED) {
        print_message("skipped: %s\n", err.msg);
        skip();
    }
    assert_int_equal(st, MW_OK);
    char parent[512];
    snprintf(parent, sizeof parent, "%.*s", (int)(strrchr(r->cgroup_path, '/') - r->cgroup_path), r->cgroup_path);
    mw_watch_result_free(r);
    /* what an earlier memwall with our PID left: the names it would have
     * used (memwall-PID-N), and one of today's form with another start */
    char left[65][600];
    for (int n = 0; n < 64; n++) {
        snprintf(left[n], sizeof left[n], "%s/memwall-%d-%d", parent, (int)getpid(), n);
        assert_int_equal(mkdir(left[n], 0755), 0);
    }
    snprintf(left[64], sizeof left[64], "%s/memwall-%d-1-0", parent, (int)getpid());
    assert_int_equal(mkdir(left[64], 0755), 0);
    st = mw_watch_run(argv, &o, &r, &err);
    if (st != MW_OK) print_message("%s\n", err.msg);
    for (int n = 0; n < 65; n++) {
        if (access(left[n], F_OK) == 0) print_message("left over: %s\n", left[n]);
        if (st != MW_OK) rmdir(left[n]);
    }
    assert_int_equal(st, MW_OK);
    assert_int_equal(r->status_code, 0);
    mw_watch_result_free(r);
    for (int n = 0; n < 65; n++) assert_int_equal(access(left[n], F_OK), -1);
}

static void allocation_failures_are_clean(void **state)
{
    (void)state;
    /* Fail each allocation in turn: every run either succeeds or returns
     * MW_ERR_NOMEM, never crashes or leaks (ASan checks the leaks). */
    const char *argv[] = {touch_path(), "--fork", "1", "1M", NULL};
    int nomem = 0, ok = 0;
    for (uint64_t k = 1; k <= 40; k++) {
        mw_watch_opts o;
        mw_watch_opts_init(&o);
        o.interval_seconds = 0.005;
        o.gpu = 0;
        mw_watch_result *r = NULL;
        mw_err err;
        mw_mem_fail_after(k);
        mw_status st = mw_watch_run(argv, &o, &r, &err);
        mw_mem_fail_after(0);
        assert_true(st == MW_OK || st == MW_ERR_NOMEM);
        if (st == MW_OK) {
            ok++;
            /* what was measured is kept even when a later allocation failed */
            assert_int_equal(r->status_code, 0);
            char *buf = NULL;
            size_t len = 0;
            FILE *f = open_memstream(&buf, &len);
            mw_mem_fail_after(1);
            mw_status js = mw_watch_report_json(r, f, &err);
            mw_mem_fail_after(0);
            assert_true(js == MW_OK || js == MW_ERR_NOMEM);
            fclose(f);
            free(buf);
        } else {
            nomem++;
            assert_null(r);
        }
        mw_watch_result_free(r);
    }
    assert_true(nomem > 0 && ok > 0);
}

/* ---- issue #16: without --mem-limit, the limited cgroup memwall runs in (a
 * Slurm job's) is the result's, read only: faked with MEMWALL_CGROUP_FS
 * (our own cgroup is the fake tree's root) --- */
static void put(const char *dir, const char *name, const char *text)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void inherited_cgroup(void **state)
{
    (void)state;
    char dir[] = "/tmp/mw_watch_inherit_XXXXXX", env[64];
    assert_non_null(mkdtemp(dir));
    put(dir, "memory.limit_in_bytes", "67108864\n");
    put(dir, "memory.usage_in_bytes", "2000000\n");
    put(dir, "memory.max_usage_in_bytes", "5000000\n");
    put(dir, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
    put(dir, "memory.failcnt", "7\n");
    snprintf(env, sizeof env, "v1:%s", dir);
    setenv("MEMWALL_CGROUP_FS", env, 1);
    const char *argv[] = {"true", NULL};
    mw_watch_result *r = watch(argv, 0.01, MW_OK);
    assert_int_equal(r->cgroup_inherited, 1);
    assert_int_equal(r->cgroup_version, MW_CGROUP_V1);
    assert_string_equal(r->cgroup_path, dir);
    assert_true(r->cgroup_limit_bytes == 64 * 1048576ull);
    assert_true(r->cgroup_peak_bytes == 5000000);
    /* counters since the command started: none of the 3 kills before it */
    assert_true(r->cgroup_oom_kills == 0);
    assert_true(r->cgroup_limit_hits == 0);
    assert_int_equal(r->oom_killed, 0);
    mw_watch_result_free(r);
    /* nothing was written to it */
    char buf[64] = "";
    FILE *f = fopen(strcat(strcpy((char[4200]){0}, dir), "/memory.limit_in_bytes"), "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_string_equal(buf, "67108864\n");
    /* no limit (v1's PAGE_COUNTER_MAX): no cgroup in the result */
    put(dir, "memory.limit_in_bytes", "9223372036854771712\n");
    r = watch(argv, 0.01, MW_OK);
    assert_int_equal(r->cgroup_inherited, 0);
    assert_int_equal(r->cgroup_version, MW_CGROUP_NONE);
    mw_watch_result_free(r);
    unsetenv("MEMWALL_CGROUP_FS");
    const char *files[] = {"memory.limit_in_bytes", "memory.usage_in_bytes", "memory.max_usage_in_bytes",
                           "memory.oom_control", "memory.failcnt"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(peak_of_one_process),
        cmocka_unit_test(peak_between_samples),
        cmocka_unit_test(tree_totals),
        cmocka_unit_test(shmem_is_split_out),
        cmocka_unit_test(exit_codes_and_signals),
        cmocka_unit_test(spawner_memory_not_counted),
        cmocka_unit_test(bad_options),
        cmocka_unit_test(attach_to_running),
        cmocka_unit_test(oom_under_cgroup),
        cmocka_unit_test(reused_pid_cgroup_name),
        cmocka_unit_test(allocation_failures_are_clean),
        cmocka_unit_test(inherited_cgroup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
