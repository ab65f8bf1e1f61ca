/* test_proc.c - /proc parsers on fixtures with their traps, and the
 * readers on real processes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "probe/proc.h"
#include "probe/vmstat.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char status_live[] =
    "Name:\tpython3\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\nPid:\t4242\n"
    "PPid:\t4200\nVmPeak:\t 900000 kB\nVmSize:\t 880000 kB\nVmHWM:\t  524288 kB\n"
    "VmRSS:\t  262144 kB\nRssAnon:\t  200000 kB\nRssFile:\t   60000 kB\n"
    "RssShmem:\t    2144 kB\nVmSwap:\t     512 kB\nThreads:\t8\n";

static const char status_zombie[] =
    "Name:\tpython3\nState:\tZ (zombie)\nTgid:\t4242\nPid:\t4242\nPPid:\t4200\nThreads:\t1\n";

static void parse_status_live_and_zombie(void **state)
{
    (void)state;
    mw_proc_status st;
    assert_true(mw_proc_parse_status(status_live, &st));
    assert_true(st.hwm_bytes == 524288ull * 1024);
    assert_true(st.rss_bytes == 262144ull * 1024);
    assert_true(st.anon_bytes == 200000ull * 1024);
    assert_true(st.file_bytes == 60000ull * 1024);
    assert_true(st.shmem_bytes == 2144ull * 1024);
    assert_true(st.swap_bytes == 512ull * 1024);
    assert_int_equal(st.ppid, 4200);
    assert_int_equal(st.threads, 8);
    /* a zombie has no memory lines: say so, report unknown */
    assert_false(mw_proc_parse_status(status_zombie, &st));
    assert_true(st.hwm_bytes == MW_UNKNOWN);
    assert_true(st.rss_bytes == MW_UNKNOWN);
}

static void parse_stat_with_hostile_comm(void **state)
{
    (void)state;
    /* comm may hold spaces and parentheses: fields start after the LAST ')' */
    const char *text = "4242 (evil) (name x) S 4200 4242 4200 0 -1 4194560 1234 0 56 0 "
                       "700 300 0 0 20 0 8 0 987654 880000000 65536 18446744073709551615\n";
    mw_proc_stat st;
    char comm[32];
    assert_true(mw_proc_parse_stat(text, &st, comm, sizeof comm));
    assert_string_equal(comm, "evil) (name x");
    assert_int_equal(st.state, 'S');
    assert_int_equal(st.ppid, 4200);
    assert_true(st.minor_faults == 1234);
    assert_true(st.major_faults == 56);
    assert_true(st.utime_ticks == 700);
    assert_true(st.stime_ticks == 300);
    assert_int_equal(st.threads, 8);
    assert_true(st.start_ticks == 987654);
    assert_false(mw_proc_parse_stat("4242 (trunc) S 1 2", &st, NULL, 0));
    assert_false(mw_proc_parse_stat("garbage", &st, NULL, 0));
    assert_false(mw_proc_parse_stat("", &st, NULL, 0));
}

static void parse_smaps_and_vmstat(void **state)
{
    (void)state;
    const char *smaps = "55d0-7ffd ---p 00000000 00:00 0 [rollup]\nRss:  1000 kB\n"
                        "Pss:   600 kB\nPss_Anon:  500 kB\nPss_File:  100 kB\n";
    uint64_t pss;
    assert_true(mw_proc_parse_smaps_rollup(smaps, &pss));
    assert_true(pss == 600 * 1024);
    const char *vm = "nr_free_pages 100\npgmajfault 77\npswpin 5\npswpout 6\n"
                     "workingset_refault_anon 8\nworkingset_refault_file 9\noom_kill 2\n"
                     "allocstall_normal 3\nallocstall_movable 4\n";
    mw_vmstat v;
    mw_vmstat_parse(vm, &v);
    assert_true(v.pgmajfault == 77 && v.pswpin == 5 && v.pswpout == 6);
    assert_true(v.refault_anon == 8 && v.refault_file == 9 && v.oom_kill == 2);
    assert_true(v.allocstall == 7);
}

static void read_real_process_and_children(void **state)
{
    (void)state;
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    pid_t child = fork();
    if (child == 0) {
        char c;
        close(pipefd[1]);
        (void)!read(pipefd[0], &c, 1);
        _exit(0);
    }
    close(pipefd[0]);
    pid_t kids[16];
    size_t n = 0;
    assert_int_equal(mw_proc_children(getpid(), 1, kids, 16, &n), 0);
    int found = 0;
    for (size_t i = 0; i < n && i < 16; i++) found |= kids[i] == child;
    assert_true(found);

    mw_proc_files f;
    assert_int_equal(mw_proc_files_open(child, 1, &f, NULL), MW_OK);
    mw_proc_reading r;
    assert_int_equal(mw_proc_read(&f, &r), 0);
    assert_true(r.ok_status && r.ok_stat);
    assert_int_equal(r.stat.ppid, getpid());
    assert_true(r.status.rss_bytes > 0 && r.status.rss_bytes != MW_UNKNOWN);
    assert_true(r.pss_bytes != MW_UNKNOWN && r.pss_bytes > 0);

    close(pipefd[1]); /* the child exits; before reaping it is a zombie */
    siginfo_t si;
    waitid(P_PID, (id_t)child, &si, WEXITED | WNOWAIT);
    assert_int_equal(mw_proc_read(&f, &r), 0);
    assert_false(r.ok_status);          /* no Vm* lines in a zombie */
    assert_true(r.ok_stat);             /* but its faults are still there */
    waitpid(child, NULL, 0);
    assert_int_equal(mw_proc_read(&f, &r), -1); /* gone */
    mw_proc_files_close(&f);

    mw_err err;
    assert_int_equal(mw_proc_files_open(999999999, 0, &f, &err), MW_ERR_NOT_FOUND);
    assert_true(mw_proc_self_hwm_bytes() > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_status_live_and_zombie),
        cmocka_unit_test(parse_stat_with_hostile_comm),
        cmocka_unit_test(parse_smaps_and_vmstat),
        cmocka_unit_test(read_real_process_and_children),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
