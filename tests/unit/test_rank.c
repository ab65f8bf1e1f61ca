/* test_rank.c - ranks of a distributed job (issue #16): which variables
 * mw_rank_from_environ believes and in what order, hostile values, and
 * mw_watch_run's ranks[] on a tree of mw-touch workloads with known sizes
 * (tests/helpers/mw_touch.c), the cap's first hit and the OOM-killed rank. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MiB (1024.0 * 1024.0)

/* env as /proc/PID/environ holds it: "A=1\0B=2\0" (sizeof - 1: no final
 * terminator beyond the last entry's) */
#define ENV(s) s, sizeof s - 1

static void rank_of(const char *env, size_t len, int32_t want_rank, int32_t want_local)
{
    int32_t r = -5, l = -5;
    mw_rank_from_environ(env, len, &r, &l);
    assert_int_equal(r, want_rank);
    assert_int_equal(l, want_local);
}

static void environ_variables(void **state)
{
    (void)state;
    rank_of(ENV(""), MW_RANK_NONE, MW_RANK_NONE);
    rank_of(ENV("PATH=/bin\0HOME=/root\0"), MW_RANK_NONE, MW_RANK_NONE);
    /* torchrun */
    rank_of(ENV("RANK=3\0LOCAL_RANK=1\0WORLD_SIZE=4\0"), 3, 1);
    /* Open MPI's mpirun */
    rank_of(ENV("OMPI_COMM_WORLD_RANK=7\0OMPI_COMM_WORLD_LOCAL_RANK=3\0PMIX_RANK=7\0"), 7, 3);
    /* PMIx only, MPICH-style PMI */
    rank_of(ENV("PMIX_RANK=5\0"), 5, MW_RANK_NONE);
    rank_of(ENV("PMI_RANK=2\0MPI_LOCALRANKID=0\0"), 2, 0);
    /* srun */
    rank_of(ENV("SLURM_PROCID=12\0SLURM_LOCALID=4\0"), 12, 4);
    /* torchrun under srun: the worker's RANK wins over the task's
     * SLURM_PROCID, whatever the order in the block */
    rank_of(ENV("SLURM_PROCID=1\0SLURM_LOCALID=0\0RANK=6\0LOCAL_RANK=2\0"), 6, 2);
    /* the last entry without its NUL, and a value at the very end */
    rank_of("A=b\0RANK=42", 11, 42, MW_RANK_NONE);
}

static void environ_hostile(void **state)
{
    (void)state;
    /* not a whole number 0..2^31-1: the next variable is tried */
    rank_of(ENV("RANK=-1\0SLURM_PROCID=4\0"), 4, MW_RANK_NONE);
    rank_of(ENV("RANK=\0"), MW_RANK_NONE, MW_RANK_NONE);
    rank_of(ENV("RANK=1x\0"), MW_RANK_NONE, MW_RANK_NONE);
    rank_of(ENV("RANK= 1\0"), MW_RANK_NONE, MW_RANK_NONE);
    rank_of(ENV("RANK=+1\0"), MW_RANK_NONE, MW_RANK_NONE);
    rank_of(ENV("RANK=2147483647\0"), 2147483647, MW_RANK_NONE);
    rank_of(ENV("RANK=2147483648\0"), MW_RANK_NONE, MW_RANK_NONE);
    rank_of(ENV("RANK=99999999999999999999\0"), MW_RANK_NONE, MW_RANK_NONE);
    /* names that only start or end like one */
    rank_of(ENV("XRANK=1\0RANKS=2\0RANK_X=3\0"), MW_RANK_NONE, MW_RANK_NONE);
    rank_of(ENV("RANK\0=1\0"), MW_RANK_NONE, MW_RANK_NONE);
    /* a length that cuts the block: nothing read past it */
    rank_of("RANK=12345", 7, 12, MW_RANK_NONE);
    rank_of("RANK=1", 0, MW_RANK_NONE, MW_RANK_NONE);
    /* NULL outputs are allowed */
    mw_rank_from_environ(ENV("RANK=1\0"), NULL, NULL);
}

static void environ_own(void **state)
{
    (void)state;
    const char *vars[] = {"RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID",
                          "LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) unsetenv(vars[i]);
    rank_of(NULL, 0, MW_RANK_NONE, MW_RANK_NONE);
    setenv("SLURM_PROCID", "9", 1);
    setenv("SLURM_LOCALID", "1", 1);
    rank_of(NULL, 0, 9, 1);
    setenv("RANK", "bad", 1);
    rank_of(NULL, 0, 9, 1);
    setenv("RANK", "0", 1);
    rank_of(NULL, 0, 0, 1);
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) unsetenv(vars[i]);
}

static const char *touch_path(void)
{
    const char *p = getenv("MW_TOUCH");
    return p ? p : "./mw-touch";
}

static const mw_rank_summary *find_rank(const mw_watch_result *r, int32_t rank)
{
    for (uint32_t i = 0; i < r->n_ranks; i++)
        if (r->ranks[i].rank == rank) return &r->ranks[i];
    return NULL;
}

/* Three ranks started by a shell, as a launcher would: rank 0 touches 16
 * MiB, rank 1 48 MiB in two processes of 24 MiB (the rank's peak is their
 * sum), rank 2 32 MiB; the shell itself has none. */
static void watch_ranks(void **state)
{
    (void)state;
    char script[1024];
    const char *t = touch_path();
    snprintf(script, sizeof script,
             "RANK=0 LOCAL_RANK=0 %s --hold 400ms 16M & "
             "RANK=1 LOCAL_RANK=1 %s --fork 1 --hold 400ms 24M & "
             "OMPI_COMM_WORLD_RANK=2 %s --hold 400ms 32M & wait",
             t, t, t);
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    mw_watch_opts o;
    mw_watch_opts_init(&o);
    o.interval_seconds = 0.02;
    o.gpu = 0;
    mw_watch_result *r = NULL;
    mw_err err;
    struct timespec before;
    clock_gettime(CLOCK_REALTIME, &before);
    assert_int_equal(mw_watch_run(argv, &o, &r, &err), MW_OK);
    assert_int_equal(r->status_code, 0);
    assert_int_equal(r->n_ranks, 3);
    for (uint32_t i = 0; i < 3; i++) assert_int_equal(r->ranks[i].rank, (int32_t)i); /* sorted */
    const mw_rank_summary *r0 = find_rank(r, 0), *r1 = find_rank(r, 1), *r2 = find_rank(r, 2);
    assert_int_equal(r0->local_rank, 0);
    assert_int_equal(r1->local_rank, 1);
    assert_int_equal(r2->local_rank, MW_RANK_NONE);
    assert_int_equal(r0->processes, 1);
    assert_int_equal(r1->processes, 2);
    assert_int_equal(r2->processes, 1);
    /* each at least what it touched, at most that plus a small program's
     * libc and stack (~1.3 MiB each; docs/WATCH.md) */
    assert_true(r0->peak_rss_bytes >= 16 * MiB && r0->peak_rss_bytes <= 16 * MiB + 4 * MiB);
    assert_true(r1->peak_rss_bytes >= 48 * MiB && r1->peak_rss_bytes <= 48 * MiB + 8 * MiB);
    assert_true(r2->peak_rss_bytes >= 32 * MiB && r2->peak_rss_bytes <= 32 * MiB + 4 * MiB);
    for (uint32_t i = 0; i < 3; i++) {
        assert_true(r->ranks[i].peak_gpu_bytes == MW_UNKNOWN);
        assert_false(r->ranks[i].oom_killed);
        assert_true(r->ranks[i].start_seconds >= 0 && r->ranks[i].end_seconds >= r->ranks[i].start_seconds + 0.3);
    }
    /* the processes say their ranks; the shell has none */
    assert_int_equal(r->procs[0].rank, MW_RANK_NONE);
    uint32_t ranked = 0;
    for (uint32_t i = 0; i < r->nprocs; i++) ranked += r->procs[i].rank != MW_RANK_NONE;
    assert_int_equal(ranked, 4);
    /* host, start, the watcher's own rank (none here), no cap */
    char host[64];
    assert_int_equal(gethostname(host, sizeof host), 0);
    assert_string_equal(r->host, host);
    double b = (double)before.tv_sec + (double)before.tv_nsec * 1e-9;
    assert_true(r->start_unix_seconds >= b && r->start_unix_seconds < b + 2);
    assert_int_equal(r->watcher_rank, MW_RANK_NONE);
    assert_true(r->cap_hit_seconds < 0);
    mw_watch_result_free(r);
}

/* Under a 48 MiB cap, rank 1 grows until the OOM killer ends it; rank 0
 * (8 MiB) lives: the cap's first hit is seen, and the rank that died of it
 * is named. */
static void watch_rank_oom(void **state)
{
    (void)state;
    char script[1024];
    const char *t = touch_path();
    snprintf(script, sizeof script,
             "RANK=0 %s --hold 1s 8M & "
             "RANK=1 %s --step-delay 50ms 16M 16M 16M 16M; wait",
             t, t);
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    mw_watch_opts o;
    mw_watch_opts_init(&o);
    o.interval_seconds = 0.01;
    o.gpu = 0;
    o.mem_limit_bytes = 48u << 20;
    mw_watch_result *r = NULL;
    mw_err err;
    mw_status st = mw_watch_run(argv, &o, &r, &err);
    if (st == MW_ERR_PERMISSION || st == MW_ERR_UNSUPPORTED) {
        print_message("skipped: %s\n", err.msg);
        skip();
    }
    assert_int_equal(st, MW_OK);
    assert_true(r->cgroup_oom_kills >= 1);
    assert_true(r->cap_hit_seconds >= 0 && r->cap_hit_seconds <= r->wall_seconds);
    assert_int_equal(r->n_ranks, 2);
    assert_false(find_rank(r, 0)->oom_killed);
    assert_true(find_rank(r, 1)->oom_killed);
    mw_watch_result_free(r);
}

/* A command that could not start: the new fields are still set. */
static void spawn_failure_fields(void **state)
{
    (void)state;
    const char *argv[] = {"/nonexistent/memwall-test-cmd", NULL};
    mw_watch_result *r = NULL;
    mw_err err;
    setenv("SLURM_PROCID", "3", 1);
    assert_int_equal(mw_watch_run(argv, NULL, &r, &err), MW_ERR_SPAWN);
    unsetenv("SLURM_PROCID");
    assert_non_null(r);
    assert_int_equal(r->n_ranks, 0);
    assert_null(r->ranks);
    assert_true(r->cap_hit_seconds < 0);
    assert_int_equal(r->watcher_rank, 3);
    assert_int_equal(r->watcher_local_rank, MW_RANK_NONE);
    assert_true(r->host[0] != '\0');
    assert_true(r->start_unix_seconds > 1.6e9);
    mw_watch_result_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(environ_variables),
        cmocka_unit_test(environ_hostile),
        cmocka_unit_test(environ_own),
        cmocka_unit_test(watch_ranks),
        cmocka_unit_test(watch_rank_oom),
        cmocka_unit_test(spawn_failure_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
