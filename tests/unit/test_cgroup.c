/* test_cgroup.c - cgroup detection, fake v1/v2 trees, and a real OOM kill. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "probe/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#define MiB (1024ull * 1024ull)

/* ---- helpers ---------------------------------------------------------------- */

static void make_tmpdir(char *out, size_t cap)
{
    snprintf(out, cap, "/tmp/mw_cgroup_test_XXXXXX");
    assert_non_null(mkdtemp(out));
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    remove(path);
    return 0;
}

static void rm_tree(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void write_file(const char *dir, const char *rel, const char *text)
{
    char path[2 * PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void make_dir(const char *dir, const char *rel)
{
    char path[2 * PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    assert_int_equal(mkdir(path, 0755), 0);
}

/* Reads dir/rel into buf; returns 0 when missing. */
static int read_file(const char *dir, const char *rel, char *buf, size_t cap)
{
    char path[2 * PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
    return 1;
}

static void unlink_file(const char *dir, const char *rel)
{
    char path[2 * PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    assert_int_equal(unlink(path), 0);
}

static int path_exists(const char *dir, const char *rel)
{
    char path[2 * PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    return access(path, F_OK) == 0;
}

static void fake_fs(mw_cgroup_fs *fs, mw_cgroup_version v, const char *mount, const char *self)
{
    memset(fs, 0, sizeof *fs);
    fs->version = v;
    snprintf(fs->mount, sizeof fs->mount, "%s", mount);
    snprintf(fs->self, sizeof fs->self, "%s", self);
}

/* ---- PSI ---------------------------------------------------------------------- */

static void test_psi_parse(void **state)
{
    (void)state;
    double some = 0, full = 0;
    assert_int_equal(mw_psi_parse("some avg10=0.00 avg60=0.00 avg300=0.00 total=1500000\n"
                                  "full avg10=1.00 avg60=0.50 avg300=0.10 total=250000\n",
                                  &some, &full), 1);
    assert_float_equal(some, 1.5, 1e-9);
    assert_float_equal(full, 0.25, 1e-9);

    /* no full line (the system-wide file on old kernels has only some for cpu) */
    assert_int_equal(mw_psi_parse("some avg10=0.00 avg60=0.00 avg300=0.00 total=123", &some, &full), 1);
    assert_float_equal(some, 123e-6, 1e-12);
    assert_true(full < 0);

    assert_int_equal(mw_psi_parse("full avg10=0.00 avg60=0.00 avg300=0.00 total=9\n", &some, &full), 0);
    assert_true(some < 0);
    assert_int_equal(mw_psi_parse("", &some, &full), 0);
    assert_int_equal(mw_psi_parse(NULL, &some, &full), 0);
}

/* ---- parsing mountinfo + /proc/self/cgroup ------------------------------------ */

/* This machine's layout: v1 controllers, cgroup2 at unified without memory. */
static const char hybrid_mountinfo[] =
    "22 1 0:21 / / rw,relatime - overlay overlay rw,lowerdir=/a,upperdir=/b,workdir=/c\n"
    "23 22 0:22 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
    "24 22 0:23 / /sys rw,nosuid,nodev,noexec,relatime - sysfs sysfs rw\n"
    "31 24 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

static const char hybrid_cgroup[] =
    "9:name=systemd:/\n"
    "8:pids:/\n"
    "5:devices:/\n"
    "4:memory:/process_api/abc\n"
    "3:cpuset:/\n"
    "1:cpu:/\n"
    "0::/\n";

static void test_parse_hybrid(void **state)
{
    (void)state;
    mw_cgroup_fs fs;
    mw_err err;
    assert_int_equal(mw_cgroup_fs_parse(hybrid_mountinfo, hybrid_cgroup, &fs, &err), MW_OK);
    assert_int_equal(fs.version, MW_CGROUP_V1);
    assert_string_equal(fs.mount, "/sys/fs/cgroup/memory");
    assert_string_equal(fs.self, "/process_api/abc");
}

static void test_parse_v2_systemd(void **state)
{
    (void)state;
    static const char mi[] =
        "24 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro\n"
        "25 24 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
        "26 24 0:23 / /proc rw,nosuid,nodev,noexec,relatime shared:13 - proc proc rw\n"
        "30 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
        "rw,nsdelegate,memory_recursiveprot\n"
        "31 25 0:27 / /sys/fs/pstore rw,nosuid,nodev,noexec,relatime shared:10 - pstore pstore rw\n"
        "80 24 0:45 / /run/user/1000 rw,nosuid,nodev,relatime shared:400 - tmpfs tmpfs "
        "rw,size=3262680k,nr_inodes=815670,mode=700,uid=1000,gid=1000\n";
    static const char pc[] = "0::/user.slice/user-1000.slice/session-2.scope\n";
    mw_cgroup_fs fs;
    mw_err err;
    assert_int_equal(mw_cgroup_fs_parse(mi, pc, &fs, &err), MW_OK);
    assert_int_equal(fs.version, MW_CGROUP_V2);
    assert_string_equal(fs.mount, "/sys/fs/cgroup");
    assert_string_equal(fs.self, "/user.slice/user-1000.slice/session-2.scope");
}

static void test_parse_v1_combined(void **state)
{
    (void)state;
    /* memory co-mounted with cpu, at a path with an escaped space; a decoy
     * named hierarchy whose options contain "memory" only as part of a word */
    static const char mi[] =
        "20 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n"
        "21 20 0:20 / /sys/fs/cgroup rw,nosuid,nodev,noexec shared:2 - tmpfs tmpfs ro,mode=755\n"
        "22 21 0:21 / /sys/fs/cgroup/decoy rw,nosuid,nodev,noexec shared:3 - cgroup cgroup "
        "rw,xattr,name=memory_decoy\n"
        "23 21 0:22 / /sys/fs/cgroup/cpu,memory\\040x rw,nosuid,nodev,noexec shared:4 - cgroup "
        "cgroup rw,cpu,memory\n"
        "24 21 0:23 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec shared:5 - cgroup2 cgroup2 "
        "rw,nsdelegate\n";
    static const char pc[] =
        "12:name=memory_decoy:/x\n"
        "5:cpu,memory:/jobs/42\n"
        "0::/jobs/42\n";
    mw_cgroup_fs fs;
    mw_err err;
    assert_int_equal(mw_cgroup_fs_parse(mi, pc, &fs, &err), MW_OK);
    assert_int_equal(fs.version, MW_CGROUP_V1);
    assert_string_equal(fs.mount, "/sys/fs/cgroup/cpu,memory x");
    assert_string_equal(fs.self, "/jobs/42");
}

static void test_parse_none(void **state)
{
    (void)state;
    static const char mi[] =
        "20 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n"
        "21 20 0:4 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
        "22 20 0:5 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n";
    mw_cgroup_fs fs;
    mw_err err;
    memset(&err, 0, sizeof err);
    assert_int_equal(mw_cgroup_fs_parse(mi, "1:cpu:/\n", &fs, &err), MW_ERR_UNSUPPORTED);
    assert_int_equal(err.status, MW_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "memory"));
    assert_int_equal(mw_cgroup_fs_parse("", "", &fs, &err), MW_ERR_UNSUPPORTED);
    assert_int_equal(mw_cgroup_fs_parse("garbage line\n\n- - -\n", NULL, &fs, &err),
                     MW_ERR_UNSUPPORTED);
}

static void test_parse_container_root(void **state)
{
    (void)state;
    mw_cgroup_fs fs;
    mw_err err;

    /* v1 container without a cgroup namespace: the mount shows our subtree */
    static const char mi1[] =
        "600 500 0:52 / / rw,relatime master:1 - overlay overlay rw,lowerdir=/l\n"
        "610 600 0:55 / /sys/fs/cgroup ro,nosuid,nodev,noexec - tmpfs tmpfs rw,mode=755\n"
        "615 610 0:32 /docker/abc123 /sys/fs/cgroup/memory ro,nosuid,nodev,noexec,relatime "
        "master:15 - cgroup cgroup rw,memory\n";
    assert_int_equal(mw_cgroup_fs_parse(mi1, "4:memory:/docker/abc123\n", &fs, &err), MW_OK);
    assert_int_equal(fs.version, MW_CGROUP_V1);
    assert_string_equal(fs.mount, "/sys/fs/cgroup/memory");
    assert_string_equal(fs.self, "/");
    assert_int_equal(mw_cgroup_fs_parse(mi1, "4:memory:/docker/abc123/job/7\n", &fs, &err), MW_OK);
    assert_string_equal(fs.self, "/job/7");
    /* a prefix that is not a whole component is not stripped */
    assert_int_equal(mw_cgroup_fs_parse(mi1, "4:memory:/docker/abc1234\n", &fs, &err), MW_OK);
    assert_string_equal(fs.self, "/docker/abc1234");

    /* v2 with two mounts: the one whose root covers our cgroup wins */
    static const char mi2[] =
        "700 600 0:60 /other /mnt/other rw - cgroup2 cgroup2 rw\n"
        "701 600 0:60 /kubepods/pod1 /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n";
    assert_int_equal(mw_cgroup_fs_parse(mi2, "0::/kubepods/pod1/ctr\n", &fs, &err), MW_OK);
    assert_int_equal(fs.version, MW_CGROUP_V2);
    assert_string_equal(fs.mount, "/sys/fs/cgroup");
    assert_string_equal(fs.self, "/ctr");
}

static void test_detect_env(void **state)
{
    (void)state;
    char dir[64];
    make_tmpdir(dir, sizeof dir);
    mw_cgroup_fs fs;
    mw_err err;
    char val[128];

    const char *bad[] = { "v3:/tmp", "v2:", "v2:relative/dir", "/sys/fs/cgroup", "v1" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("MEMWALL_CGROUP_FS", bad[i], 1);
        memset(&err, 0, sizeof err);
        assert_int_equal(mw_cgroup_fs_detect(&fs, &err), MW_ERR_INVALID);
        assert_non_null(strstr(err.msg, "MEMWALL_CGROUP_FS"));
    }

    snprintf(val, sizeof val, "v2:%s/missing", dir);
    setenv("MEMWALL_CGROUP_FS", val, 1);
    assert_int_equal(mw_cgroup_fs_detect(&fs, &err), MW_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, "missing"));

    write_file(dir, "file", "x");
    snprintf(val, sizeof val, "v1:%s/file", dir);
    setenv("MEMWALL_CGROUP_FS", val, 1);
    assert_int_equal(mw_cgroup_fs_detect(&fs, &err), MW_ERR_INVALID);

    snprintf(val, sizeof val, "v1:%s/", dir);
    setenv("MEMWALL_CGROUP_FS", val, 1);
    assert_int_equal(mw_cgroup_fs_detect(&fs, &err), MW_OK);
    assert_int_equal(fs.version, MW_CGROUP_V1);
    assert_string_equal(fs.mount, dir);
    assert_string_equal(fs.self, "/");

    unsetenv("MEMWALL_CGROUP_FS");
    rm_tree(dir);
}

/* ---- fake v2 tree --------------------------------------------------------------- */


/* The cgroup's own refaults (a sweep's paging evidence): v2's keys, v1's
 * hierarchical total_ ones (not the local ones, nor the system's), and the
 * one counter of kernels before 5.9. */
static void test_parse_refaults(void **state)
{
    (void)state;
    uint64_t anon, file;
    const char *v2 = "anon 1000\nfile 2000\nworkingset_refault_anon 12\nworkingset_refault_file 3456\n"
                     "workingset_activate_file 7\npgmajfault 9\n";
    mw_cgroup_parse_refaults(v2, MW_CGROUP_V2, &anon, &file);
    assert_true(anon == 12 && file == 3456);
    const char *v1 = "cache 1\nworkingset_refault_anon 1\nworkingset_refault_file 2\n"
                     "total_workingset_refault_anon 30\ntotal_workingset_refault_file 40\n";
    mw_cgroup_parse_refaults(v1, MW_CGROUP_V1, &anon, &file);
    assert_true(anon == 30 && file == 40);
    /* v2 must not take v1's total_ line for its own (a prefix match) */
    mw_cgroup_parse_refaults("total_workingset_refault_file 40\n", MW_CGROUP_V2, &anon, &file);
    assert_true(anon == MW_UNKNOWN && file == MW_UNKNOWN);
    mw_cgroup_parse_refaults("workingset_refault 77\nworkingset_activate 3\n", MW_CGROUP_V2, &anon, &file);
    assert_true(anon == MW_UNKNOWN && file == 77);
    mw_cgroup_parse_refaults("", MW_CGROUP_V1, &anon, &file);
    assert_true(anon == MW_UNKNOWN && file == MW_UNKNOWN);
}

static void test_fake_v2(void **state)
{
    (void)state;
    char dir[64], val[128], buf[256];
    make_tmpdir(dir, sizeof dir);
    snprintf(val, sizeof val, "v2:%s", dir);
    setenv("MEMWALL_CGROUP_FS", val, 1);

    mw_cgroup_fs fs;
    mw_cgroup cg;
    mw_err err;
    assert_int_equal(mw_cgroup_fs_detect(&fs, &err), MW_OK);
    assert_int_equal(fs.version, MW_CGROUP_V2);
    assert_int_equal(mw_cgroup_create(&fs, "mw-run", 100 * MiB, 0, &cg, &err), MW_OK);
    assert_int_equal(cg.version, MW_CGROUP_V2);
    assert_int_equal(cg.limit_bytes, 100 * MiB);
    assert_int_equal(cg.swap_limit_bytes, 0);
    assert_true(cg.has_swap_control);
    char expect[PATH_MAX];
    snprintf(expect, sizeof expect, "%s/mw-run", dir);
    assert_string_equal(cg.path, expect);

    assert_true(read_file(cg.path, "memory.max", buf, sizeof buf));
    assert_string_equal(buf, "104857600");
    assert_true(read_file(cg.path, "memory.swap.max", buf, sizeof buf));
    assert_string_equal(buf, "0");

    /* the same name again: refused, the first one stays */
    mw_cgroup cg2;
    assert_int_not_equal(mw_cgroup_create(&fs, "mw-run", 100 * MiB, 0, &cg2, &err), MW_OK);
    assert_non_null(strstr(err.msg, "already exists"));
    assert_true(path_exists(dir, "mw-run"));

    /* what the kernel would report */
    write_file(cg.path, "memory.current", "4096\n");
    write_file(cg.path, "memory.peak", "99000000\n");
    write_file(cg.path, "memory.stat", "anon 4096\nworkingset_refault_anon 5\nworkingset_refault_file 6\n");
    write_file(cg.path, "memory.swap.current", "0\n");
    write_file(cg.path, "memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n");
    write_file(cg.path, "memory.pressure",
               "some avg10=0.00 avg60=0.00 avg300=0.00 total=2500000\n"
               "full avg10=0.00 avg60=0.00 avg300=0.00 total=500000\n");
    mw_cgroup_stats st;
    assert_int_equal(mw_cgroup_read(&cg, &st, &err), MW_OK);
    assert_int_equal(st.current_bytes, 4096);
    assert_int_equal(st.peak_bytes, 99000000);
    assert_int_equal(st.swap_current_bytes, 0);
    assert_true(st.swap_peak_bytes == MW_UNKNOWN); /* no memory.swap.peak (< 6.5) */
    assert_int_equal(st.limit_hits, 3);
    assert_int_equal(st.oom_events, 1);
    assert_int_equal(st.oom_kills, 1);
    assert_float_equal(st.psi_some_seconds, 2.5, 1e-9);
    assert_float_equal(st.psi_full_seconds, 0.5, 1e-9);
    assert_true(st.refaults_anon == 5 && st.refaults_file == 6);

    /* pids from cgroup.procs, and attach appending to it */
    write_file(cg.path, "cgroup.procs", "101\n202\n303\n");
    pid_t pids[2];
    size_t n = 0;
    assert_int_equal(mw_cgroup_pids(&cg, pids, 2, &n, &err), MW_OK);
    assert_int_equal(n, 3);
    assert_int_equal(pids[0], 101);
    assert_int_equal(pids[1], 202);
    assert_int_equal(mw_cgroup_attach(&cg, 404, &err), MW_OK);
    assert_int_equal(mw_cgroup_pids(&cg, NULL, 0, &n, &err), MW_OK);
    assert_int_equal(n, 4);

    /* kill_all kills real processes listed in it, never us */
    write_file(cg.path, "cgroup.procs", "");
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        for (;;) pause();
    }
    assert_int_equal(mw_cgroup_attach(&cg, child, &err), MW_OK);
    assert_int_equal(mw_cgroup_attach(&cg, getpid(), &err), MW_OK);
    assert_int_equal(mw_cgroup_attach(&cg, 1, &err), MW_OK);
    assert_int_equal(mw_cgroup_kill_all(&cg, &err), MW_OK);
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);

    /* destroy removes it (and its control files), and is idempotent */
    assert_int_equal(mw_cgroup_destroy(&cg, &err), MW_OK);
    assert_false(path_exists(dir, "mw-run"));
    assert_string_equal(cg.path, "");
    assert_int_equal(mw_cgroup_destroy(&cg, &err), MW_OK);

    /* unlimited memory is written as "max"; swap left alone */
    assert_int_equal(mw_cgroup_create(&fs, "mw-unl", MW_UNLIMITED, MW_UNLIMITED, &cg, &err), MW_OK);
    assert_true(read_file(cg.path, "memory.max", buf, sizeof buf));
    assert_string_equal(buf, "max");
    assert_false(path_exists(cg.path, "memory.swap.max"));
    /* a missing file reads as unknown, not as an error */
    assert_int_equal(mw_cgroup_read(&cg, &st, &err), MW_OK);
    assert_true(st.peak_bytes == MW_UNKNOWN);
    assert_true(st.oom_kills == MW_UNKNOWN);
    assert_true(st.psi_some_seconds < 0);
    assert_int_equal(mw_cgroup_pids(&cg, pids, 2, &n, &err), MW_OK);
    assert_int_equal(n, 0);
    assert_int_equal(mw_cgroup_destroy(&cg, &err), MW_OK);

    unsetenv("MEMWALL_CGROUP_FS");
    rm_tree(dir);
}

static void test_fake_v2_parent_choice(void **state)
{
    (void)state;
    char dir[64], buf[256];
    make_tmpdir(dir, sizeof dir);
    make_dir(dir, "a");
    make_dir(dir, "a/b");
    write_file(dir, "a/b/cgroup.subtree_control", "");
    write_file(dir, "a/b/cgroup.procs", "123\n");
    write_file(dir, "a/cgroup.subtree_control", "cpu memory pids\n");

    mw_cgroup_fs fs;
    mw_cgroup cg;
    mw_err err;
    char expect[PATH_MAX];

    /* our cgroup cannot delegate (it has us): made beside it, under a */
    fake_fs(&fs, MW_CGROUP_V2, dir, "/a/b");
    assert_int_equal(mw_cgroup_create(&fs, "mw", 64 * MiB, 0, &cg, &err), MW_OK);
    snprintf(expect, sizeof expect, "%s/a/mw", dir);
    assert_string_equal(cg.path, expect);
    assert_true(read_file(cg.path, "memory.max", buf, sizeof buf));
    assert_string_equal(buf, "67108864");
    assert_int_equal(mw_cgroup_destroy(&cg, &err), MW_OK);
    assert_false(path_exists(dir, "a/mw"));

    /* when our cgroup delegates memory, it is the parent */
    write_file(dir, "a/b/cgroup.subtree_control", "memory\n");
    assert_int_equal(mw_cgroup_create(&fs, "mw", 64 * MiB, 0, &cg, &err), MW_OK);
    snprintf(expect, sizeof expect, "%s/a/b/mw", dir);
    assert_string_equal(cg.path, expect);
    assert_int_equal(mw_cgroup_destroy(&cg, &err), MW_OK);

    /* "memory" must be a whole word */
    write_file(dir, "a/b/cgroup.subtree_control", "memoryx\n");
    write_file(dir, "a/cgroup.subtree_control", "cpu\n");
    memset(&err, 0, sizeof err);
    assert_int_equal(mw_cgroup_create(&fs, "mw", 64 * MiB, 0, &cg, &err), MW_ERR_UNSUPPORTED);
    assert_int_equal(err.status, MW_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "systemd-run"));
    assert_non_null(strstr(err.msg, "MemoryMax=67108864"));
    assert_non_null(strstr(err.msg, "/a/b"));
    assert_false(path_exists(dir, "a/mw"));
    assert_false(path_exists(dir, "a/b/mw"));

    /* the parent is the root: a fake root delegates */
    fake_fs(&fs, MW_CGROUP_V2, dir, "/a");
    assert_int_equal(mw_cgroup_create(&fs, "mw", 64 * MiB, 0, &cg, &err), MW_OK);
    snprintf(expect, sizeof expect, "%s/mw", dir);
    assert_string_equal(cg.path, expect);
    assert_int_equal(mw_cgroup_destroy(&cg, &err), MW_OK);

    /* a populated parent without memory.swap.max: no swap control */
    write_file(dir, "a/cgroup.subtree_control", "memory\n");
    write_file(dir, "a/memory.max", "max\n");
    fake_fs(&fs, MW_CGROUP_V2, dir, "/a/b");
    assert_int_equal(mw_cgroup_create(&fs, "mw", 64 * MiB, 0, &cg, &err), MW_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "memory.swap.max"));
    assert_false(path_exists(dir, "a/mw"));
    assert_int_equal(mw_cgroup_create(&fs, "mw", 64 * MiB, MW_UNLIMITED, &cg, &err), MW_OK);
    assert_false(cg.has_swap_control);
    assert_int_equal(mw_cgroup_destroy(&cg, &err), MW_OK);
    write_file(dir, "a/memory.swap.max", "max\n");
    assert_int_equal(mw_cgroup_create(&fs, "mw", 64 * MiB, 8 * MiB, &cg, &err), MW_OK);
    assert_true(cg.has_swap_control);
    assert_true(read_file(cg.path, "memory.swap.max", buf, sizeof buf));
    assert_string_equal(buf, "8388608");
    assert_int_equal(mw_cgroup_destroy(&cg, &err), MW_OK);

    rm_tree(dir);
}

/* ---- fake v1 tree -------------------------------------------------------------- */

static void test_fake_v1(void **state)
{
    (void)state;
    char dir[64], val[128], buf[256];
    make_tmpdir(dir, sizeof dir);
    snprintf(val, sizeof val, "v1:%s", dir);
    setenv("MEMWALL_CGROUP_FS", val, 1);

    mw_cgroup_fs fs;
    mw_cgroup cg;
    mw_err err;
    assert_int_equal(mw_cgroup_fs_detect(&fs, &err), MW_OK);
    assert_int_equal(fs.version, MW_CGROUP_V1);
    assert_int_equal(mw_cgroup_create(&fs, "mw", 100 * MiB, 50 * MiB, &cg, &err), MW_OK);
    assert_int_equal(cg.version, MW_CGROUP_V1);
    assert_true(cg.has_swap_control);
    assert_true(read_file(cg.path, "memory.limit_in_bytes", buf, sizeof buf));
    assert_string_equal(buf, "104857600");
    assert_true(read_file(cg.path, "memory.memsw.limit_in_bytes", buf, sizeof buf));
    assert_string_equal(buf, "157286400");

    write_file(cg.path, "memory.usage_in_bytes", "50000000\n");
    write_file(cg.path, "memory.max_usage_in_bytes", "104857600\n");
    write_file(cg.path, "memory.memsw.usage_in_bytes", "60000000\n");
    write_file(cg.path, "memory.memsw.max_usage_in_bytes", "120000000\n");
    write_file(cg.path, "memory.failcnt", "17\n");
    write_file(cg.path, "memory.memsw.failcnt", "3\n");
    write_file(cg.path, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
    mw_cgroup_stats st;
    assert_int_equal(mw_cgroup_read(&cg, &st, &err), MW_OK);
    assert_int_equal(st.current_bytes, 50000000);
    assert_int_equal(st.peak_bytes, 104857600);
    assert_int_equal(st.swap_current_bytes, 10000000);
    assert_int_equal(st.swap_peak_bytes, 120000000 - 104857600);
    assert_int_equal(st.limit_hits, 17 + 3); /* memory + memsw failures */
    assert_int_equal(st.oom_kills, 2);
    assert_true(st.oom_events == MW_UNKNOWN);
    assert_true(st.psi_some_seconds < 0 && st.psi_full_seconds < 0);

    /* 6.13+ kernels do not count memsw failures: a kill still means a hit */
    write_file(cg.path, "memory.failcnt", "0\n");
    write_file(cg.path, "memory.memsw.failcnt", "0\n");
    write_file(cg.path, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
    assert_int_equal(mw_cgroup_read(&cg, &st, &err), MW_OK);
    assert_int_equal(st.oom_kills, 1);
    assert_int_equal(st.limit_hits, 1);

    /* without memsw (swapaccount=0) and on a pre-4.13 kernel */
    unlink_file(cg.path, "memory.memsw.usage_in_bytes");
    unlink_file(cg.path, "memory.memsw.max_usage_in_bytes");
    write_file(cg.path, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\n");
    write_file(cg.path, "memory.usage_in_bytes", "garbage\n");
    assert_int_equal(mw_cgroup_read(&cg, &st, &err), MW_OK);
    assert_true(st.current_bytes == MW_UNKNOWN);
    assert_true(st.swap_current_bytes == MW_UNKNOWN);
    assert_true(st.swap_peak_bytes == MW_UNKNOWN);
    assert_true(st.oom_kills == MW_UNKNOWN);
    assert_int_equal(st.peak_bytes, 104857600);

    assert_int_equal(mw_cgroup_destroy(&cg, &err), MW_OK);
    assert_false(path_exists(dir, "mw"));

    /* the root (a populated fake cgroup) has no memsw: swap accounting off */
    write_file(dir, "memory.limit_in_bytes", "9223372036854771712\n");
    write_file(dir, "cgroup.procs", "1\n");
    memset(&err, 0, sizeof err);
    assert_int_equal(mw_cgroup_create(&fs, "mw", 100 * MiB, 0, &cg, &err), MW_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "swapaccount=1"));
    assert_non_null(strstr(err.msg, dir));
    assert_false(path_exists(dir, "mw"));
    assert_int_equal(mw_cgroup_create(&fs, "mw", 100 * MiB, MW_UNLIMITED, &cg, &err), MW_OK);
    assert_false(cg.has_swap_control);
    assert_false(path_exists(cg.path, "memory.memsw.limit_in_bytes"));
    assert_int_equal(mw_cgroup_destroy(&cg, &err), MW_OK);

    unsetenv("MEMWALL_CGROUP_FS");
    rm_tree(dir);
}

/* ---- errors -------------------------------------------------------------------- */

static void test_errors_name_path(void **state)
{
    (void)state;
    char dir[64], sub[PATH_MAX];
    make_tmpdir(dir, sizeof dir);
    mw_cgroup_fs fs;
    mw_cgroup cg;
    mw_err err;

    /* nonexistent mount */
    snprintf(sub, sizeof sub, "%s/nonexistent", dir);
    fake_fs(&fs, MW_CGROUP_V1, sub, "/");
    memset(&err, 0, sizeof err);
    assert_int_equal(mw_cgroup_create(&fs, "mw", 64 * MiB, 0, &cg, &err), MW_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, sub));

    /* the parent is a regular file */
    write_file(dir, "plainfile", "");
    snprintf(sub, sizeof sub, "%s/plainfile", dir);
    fake_fs(&fs, MW_CGROUP_V1, sub, "/");
    memset(&err, 0, sizeof err);
    assert_int_equal(mw_cgroup_create(&fs, "mw", 64 * MiB, 0, &cg, &err), MW_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, sub));

    /* bad names and arguments */
    fake_fs(&fs, MW_CGROUP_V1, dir, "/");
    assert_int_equal(mw_cgroup_create(&fs, "a/b", 64 * MiB, 0, &cg, &err), MW_ERR_INVALID);
    assert_int_equal(mw_cgroup_create(&fs, "..", 64 * MiB, 0, &cg, &err), MW_ERR_INVALID);
    assert_int_equal(mw_cgroup_create(&fs, "", 64 * MiB, 0, &cg, &err), MW_ERR_INVALID);
    assert_int_equal(mw_cgroup_create(&fs, "mw", 0, 0, &cg, &err), MW_ERR_INVALID);
    fake_fs(&fs, MW_CGROUP_NONE, dir, "/");
    assert_int_equal(mw_cgroup_create(&fs, "mw", 64 * MiB, 0, &cg, &err), MW_ERR_INVALID);

    /* a cgroup that is gone */
    memset(&cg, 0, sizeof cg);
    cg.version = MW_CGROUP_V2;
    snprintf(cg.path, sizeof cg.path, "%s/gone", dir);
    mw_cgroup_stats st;
    memset(&err, 0, sizeof err);
    assert_int_equal(mw_cgroup_read(&cg, &st, &err), MW_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, cg.path));
    assert_true(st.peak_bytes == MW_UNKNOWN);
    size_t n = 9;
    assert_int_equal(mw_cgroup_pids(&cg, NULL, 0, &n, &err), MW_ERR_NOT_FOUND);
    assert_int_equal(n, 0);
    assert_int_equal(mw_cgroup_destroy(&cg, &err), MW_OK);
    assert_string_equal(cg.path, "");
    assert_int_equal(mw_cgroup_destroy(NULL, &err), MW_OK);

    /* destroy refuses to delete files that memwall did not make */
    make_dir(dir, "keep");
    write_file(dir, "keep/memory.max", "1\n");
    write_file(dir, "keep/user-data", "precious\n");
    memset(&cg, 0, sizeof cg);
    cg.version = MW_CGROUP_V2;
    snprintf(cg.path, sizeof cg.path, "%s/keep", dir);
    assert_int_not_equal(mw_cgroup_destroy(&cg, &err), MW_OK);
    assert_non_null(strstr(err.msg, cg.path));
    assert_true(path_exists(dir, "keep/user-data"));

    rm_tree(dir);
}

/* mkdir refused: as root, drop to nobody in a child (root ignores modes). */
static void test_permission_message(void **state)
{
    (void)state;
    char dir[64];
    make_tmpdir(dir, sizeof dir);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        if (geteuid() == 0) {
            if (chmod(dir, 0755) != 0 || setgid(65534) != 0 || setuid(65534) != 0) _exit(10);
        } else if (chmod(dir, 0555) != 0) {
            _exit(11);
        }
        mw_cgroup_fs fs;
        mw_cgroup cg;
        mw_err err;
        fake_fs(&fs, MW_CGROUP_V2, dir, "/");
        mw_status s = mw_cgroup_create(&fs, "mw", 512 * MiB, 0, &cg, &err);
        if (s != MW_ERR_PERMISSION) _exit(1);
        if (!strstr(err.msg, "systemd-run --user --scope -p MemoryMax=536870912 "
                             "-p MemorySwapMax=0 -- memwall watch -- CMD")) _exit(2);
        if (!strstr(err.msg, dir) || !strstr(err.msg, "Permission denied")) _exit(3);
        if (!strstr(err.msg, "Run as root")) _exit(4);
        _exit(0); /* _exit: no leak check after the uid change */
    }
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    chmod(dir, 0700);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    rm_tree(dir);
}

/* ---- the real thing ------------------------------------------------------------- */

/* Makes a real cgroup, or skips the test when this machine cannot. */
static int make_real(mw_cgroup *cg, const char *tag, uint64_t limit, uint64_t swap)
{
    unsetenv("MEMWALL_CGROUP_FS");
    mw_cgroup_fs fs;
    mw_err err;
    if (mw_cgroup_fs_detect(&fs, &err) != MW_OK) {
        print_message("skipping: %s\n", err.msg);
        return 0;
    }
    char name[64];
    snprintf(name, sizeof name, "memwall-test-%d-%s", (int)getpid(), tag);
    mw_status s = mw_cgroup_create(&fs, name, limit, swap, cg, &err);
    if (s == MW_ERR_PERMISSION || s == MW_ERR_UNSUPPORTED) {
        print_message("skipping: %s\n", err.msg);
        return 0;
    }
    if (s != MW_OK) fail_msg("mw_cgroup_create: %s", err.msg);
    return 1;
}

static void test_real_oom_kill(void **state)
{
    (void)state;
    mw_cgroup cg;
    if (!make_real(&cg, "oom", 64 * MiB, 0)) skip();
    mw_err err;

    int go[2];
    assert_int_equal(pipe(go), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        char c;
        close(go[1]);
        if (read(go[0], &c, 1) != 1) _exit(3);
        /* 256 MiB, touched page by page, in 1 MiB pieces */
        for (int i = 0; i < 256; i++) {
            char *p = mmap(NULL, MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED) _exit(4);
            for (size_t off = 0; off < MiB; off += 4096) p[off] = (char)(off + 1);
        }
        _exit(0);
    }
    close(go[0]);
    mw_status as = mw_cgroup_attach(&cg, child, &err);
    if (as == MW_OK) {
        size_t n = 0;
        pid_t pids[4];
        assert_int_equal(mw_cgroup_pids(&cg, pids, 4, &n, &err), MW_OK);
        assert_int_equal(n, 1);
        assert_int_equal(pids[0], child);
    }
    assert_int_equal(write(go[1], "g", 1), 1);
    close(go[1]);
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    if (as != MW_OK) {
        mw_cgroup_destroy(&cg, NULL);
        fail_msg("attach: %s", err.msg);
    }

    mw_cgroup_stats st;
    assert_int_equal(mw_cgroup_read(&cg, &st, &err), MW_OK);
    print_message("real %s cgroup: peak %llu current %llu oom_kills %llu limit_hits %llu "
                  "swap_peak %llu\n", cg.version == MW_CGROUP_V1 ? "v1" : "v2",
                  (unsigned long long)st.peak_bytes, (unsigned long long)st.current_bytes,
                  (unsigned long long)st.oom_kills, (unsigned long long)st.limit_hits,
                  (unsigned long long)st.swap_peak_bytes);
    mw_status ds = mw_cgroup_destroy(&cg, &err);

    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
    if (st.oom_kills != MW_UNKNOWN) assert_true(st.oom_kills >= 1);
    assert_true(st.peak_bytes != MW_UNKNOWN);
    assert_true(st.peak_bytes >= 60 * MiB);
    assert_true(st.peak_bytes <= 64 * MiB + MiB);
    assert_true(st.limit_hits != MW_UNKNOWN && st.limit_hits > 0);
    assert_int_equal(ds, MW_OK);
    assert_string_equal(cg.path, "");
}

static void test_real_kill_all(void **state)
{
    (void)state;
    mw_cgroup cg;
    if (!make_real(&cg, "kill", 64 * MiB, MW_UNLIMITED)) skip();
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", cg.path);
    mw_err err;

    pid_t kids[2];
    for (int i = 0; i < 2; i++) {
        kids[i] = fork();
        assert_true(kids[i] >= 0);
        if (kids[i] == 0) {
            for (;;) pause();
        }
        if (mw_cgroup_attach(&cg, kids[i], &err) != MW_OK) {
            kill(kids[i], SIGKILL);
            waitpid(kids[i], NULL, 0);
            if (i == 1) { kill(kids[0], SIGKILL); waitpid(kids[0], NULL, 0); }
            mw_cgroup_destroy(&cg, NULL);
            fail_msg("attach: %s", err.msg);
        }
    }
    size_t n = 0;
    assert_int_equal(mw_cgroup_pids(&cg, NULL, 0, &n, &err), MW_OK);
    assert_int_equal(n, 2);
    assert_int_equal(mw_cgroup_kill_all(&cg, &err), MW_OK);
    /* remove it before reaping: the dying (then zombie) children must not
     * keep the directory busy for more than the retry window */
    mw_status ds = mw_cgroup_destroy(&cg, &err);
    for (int i = 0; i < 2; i++) {
        int status = 0;
        assert_int_equal(waitpid(kids[i], &status, 0), kids[i]);
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGKILL);
    }
    if (ds != MW_OK) fail_msg("destroy: %s", err.msg);
    assert_int_not_equal(access(path, F_OK), 0);
}

/* This host's cgroup2 mount (hybrid layout) lacks the memory controller:
 * creating there must fail cleanly and leave nothing behind. */
static void test_real_v2_without_memory(void **state)
{
    (void)state;
    const char *cands[] = { "/sys/fs/cgroup/unified", "/sys/fs/cgroup" };
    const char *mount = NULL;
    char buf[512];
    for (size_t i = 0; i < sizeof cands / sizeof cands[0] && !mount; i++) {
        struct statfs sf;
        if (statfs(cands[i], &sf) == 0 && (unsigned long)sf.f_type == 0x63677270ul &&
            read_file(cands[i], "cgroup.controllers", buf, sizeof buf) &&
            !strstr(buf, "memory"))
            mount = cands[i];
    }
    if (!mount || geteuid() != 0) {
        print_message("skipping: no root, or no cgroup2 mount without the memory controller\n");
        skip();
    }
    mw_cgroup_fs fs;
    mw_cgroup cg;
    mw_err err;
    fake_fs(&fs, MW_CGROUP_V2, mount, "/");
    char name[64];
    snprintf(name, sizeof name, "memwall-test-%d-v2", (int)getpid());
    memset(&err, 0, sizeof err);
    mw_status s = mw_cgroup_create(&fs, name, 64 * MiB, 0, &cg, &err);
    print_message("v2 at %s: %s\n", mount, err.msg);
    if (s == MW_OK) mw_cgroup_destroy(&cg, NULL);
    assert_int_equal(s, MW_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, mount));
    assert_non_null(strstr(err.msg, "systemd-run"));
    assert_false(path_exists(mount, name));
}

/* ---- issue #16: the limited cgroup memwall runs in (a Slurm job's) ------- */

/* v1, as Slurm's task/cgroup lays it out on this VM (tests/cli/sweep_slurm.sh
 * saw it): the job and its step have the limit, the task below has none
 * (PAGE_COUNTER_MAX pages, shown as 9223372036854771712). */
static void test_find_limited_v1(void **state)
{
    (void)state;
    char dir[PATH_MAX];
    make_tmpdir(dir, sizeof dir);
    make_dir(dir, "slurm_n1");
    make_dir(dir, "slurm_n1/uid_0");
    make_dir(dir, "slurm_n1/uid_0/job_7");
    make_dir(dir, "slurm_n1/uid_0/job_7/step_batch");
    make_dir(dir, "slurm_n1/uid_0/job_7/step_batch/task_0");
    write_file(dir, "memory.limit_in_bytes", "9223372036854771712\n");
    write_file(dir, "slurm_n1/uid_0/job_7/memory.limit_in_bytes", "268435456\n");
    write_file(dir, "slurm_n1/uid_0/job_7/step_batch/memory.limit_in_bytes", "268435456\n");
    write_file(dir, "slurm_n1/uid_0/job_7/step_batch/memory.memsw.limit_in_bytes", "268435456\n");
    write_file(dir, "slurm_n1/uid_0/job_7/step_batch/task_0/memory.limit_in_bytes", "9223372036854771712\n");
    mw_cgroup_fs fs;
    mw_cgroup cg;
    mw_err err;
    fake_fs(&fs, MW_CGROUP_V1, dir, "/slurm_n1/uid_0/job_7/step_batch/task_0");
    assert_int_equal(mw_cgroup_find_limited(&fs, &cg, &err), MW_OK);
    char want[2 * PATH_MAX];
    snprintf(want, sizeof want, "%s/slurm_n1/uid_0/job_7/step_batch", dir);
    assert_string_equal(cg.path, want);
    assert_int_equal(cg.version, MW_CGROUP_V1);
    assert_true(cg.limit_bytes == 256 * MiB);
    assert_true(cg.has_swap_control);
    assert_true(cg.swap_limit_bytes == 0);   /* memsw = memory: no swap on top */
    /* its figures read as a cgroup memwall made */
    write_file(cg.path, "memory.max_usage_in_bytes", "104857600\n");
    write_file(cg.path, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
    mw_cgroup_stats st;
    assert_int_equal(mw_cgroup_read(&cg, &st, NULL), MW_OK);
    assert_true(st.peak_bytes == 100 * MiB);
    assert_true(st.oom_kills == 2);
    /* no limit anywhere up to the mount: not found */
    write_file(dir, "slurm_n1/uid_0/job_7/memory.limit_in_bytes", "9223372036854771712\n");
    write_file(dir, "slurm_n1/uid_0/job_7/step_batch/memory.limit_in_bytes", "9223372036854771712\n");
    memset(&err, 0, sizeof err);
    assert_int_equal(mw_cgroup_find_limited(&fs, &cg, &err), MW_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, "no memory cgroup with a limit"));
    rm_tree(dir);
}

/* v2: the nearest ancestor with memory.max not "max"; a cgroup without
 * the file (memory not enabled there) is passed over. */
static void test_find_limited_v2(void **state)
{
    (void)state;
    char dir[PATH_MAX];
    make_tmpdir(dir, sizeof dir);
    make_dir(dir, "system.slice");
    make_dir(dir, "system.slice/slurmstepd.scope");
    make_dir(dir, "system.slice/slurmstepd.scope/job_9");
    make_dir(dir, "system.slice/slurmstepd.scope/job_9/step_0");
    make_dir(dir, "system.slice/slurmstepd.scope/job_9/step_0/user");
    make_dir(dir, "system.slice/slurmstepd.scope/job_9/step_0/user/task_0");
    write_file(dir, "system.slice/slurmstepd.scope/job_9/memory.max", "536870912\n");
    write_file(dir, "system.slice/slurmstepd.scope/job_9/memory.swap.max", "0\n");
    write_file(dir, "system.slice/slurmstepd.scope/job_9/step_0/memory.max", "max\n");
    write_file(dir, "system.slice/slurmstepd.scope/job_9/step_0/user/task_0/memory.max", "max\n");
    mw_cgroup_fs fs;
    mw_cgroup cg;
    fake_fs(&fs, MW_CGROUP_V2, dir, "/system.slice/slurmstepd.scope/job_9/step_0/user/task_0");
    assert_int_equal(mw_cgroup_find_limited(&fs, &cg, NULL), MW_OK);
    assert_non_null(strstr(cg.path, "/job_9"));
    assert_null(strstr(cg.path, "step_0"));
    assert_true(cg.limit_bytes == 512 * MiB);
    assert_true(cg.has_swap_control && cg.swap_limit_bytes == 0);
    /* memory.peak when the kernel has it (5.19+); else unknown (watch then
     * keeps the largest memory.current it sampled) */
    assert_int_equal(mw_cgroup_read(&cg, &(mw_cgroup_stats){0}, NULL), MW_OK);
    mw_cgroup_stats st;
    mw_cgroup_read(&cg, &st, NULL);
    assert_true(st.peak_bytes == MW_UNKNOWN);
    write_file(cg.path, "memory.peak", "123456789\n");
    mw_cgroup_read(&cg, &st, NULL);
    assert_true(st.peak_bytes == 123456789);
    /* our own cgroup limited: itself */
    write_file(dir, "system.slice/slurmstepd.scope/job_9/step_0/user/task_0/memory.max", "1048576\n");
    assert_int_equal(mw_cgroup_find_limited(&fs, &cg, NULL), MW_OK);
    assert_true(cg.limit_bytes == MiB);
    assert_non_null(strstr(cg.path, "task_0"));
    rm_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_psi_parse),
        cmocka_unit_test(test_parse_hybrid),
        cmocka_unit_test(test_parse_v2_systemd),
        cmocka_unit_test(test_parse_v1_combined),
        cmocka_unit_test(test_parse_none),
        cmocka_unit_test(test_parse_container_root),
        cmocka_unit_test(test_detect_env),
        cmocka_unit_test(test_parse_refaults),
        cmocka_unit_test(test_fake_v2),
        cmocka_unit_test(test_fake_v2_parent_choice),
        cmocka_unit_test(test_fake_v1),
        cmocka_unit_test(test_errors_name_path),
        cmocka_unit_test(test_permission_message),
        cmocka_unit_test(test_real_oom_kill),
        cmocka_unit_test(test_real_kill_all),
        cmocka_unit_test(test_real_v2_without_memory),
        cmocka_unit_test(test_find_limited_v1),
        cmocka_unit_test(test_find_limited_v2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
