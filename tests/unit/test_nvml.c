/*
 * test_nvml.c - the NVML probe against the scripted fake (tests/fake_nvml.c).
 *
 * MW_FAKE_NVML names the built fake library (ctest sets it); without it the
 * fake-driven tests are skipped. Each test writes a script, points
 * MEMWALL_FAKE_NVML_SCRIPT at it and MEMWALL_NVML_LIBRARY at the fake.
 *
 * test_real_driver runs against the real libnvidia-ml when one loads (it
 * passes when none does). With MW_TEST_CUDA=1 it also allocates device
 * memory through libcuda and expects to see it (under ASan set
 * ASAN_OPTIONS=protect_shadow_gap=0, or cuInit fails).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/test_hooks.h"
#include "probe/nvml.h"

#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define KiB (1ull << 10)
#define MiB (1ull << 20)
#define GiB (1ull << 30)

static char script_path[] = "/tmp/mw-test-nvml-XXXXXX";
static int script_made;

static const char *fake_lib(void)
{
    const char *p = getenv("MW_FAKE_NVML");
    return p && *p ? p : NULL;
}

/* Writes the script and points the environment at it and at the fake. */
static void use_script(const char *text)
{
    const char *lib = fake_lib();
    if (!lib) skip();
    if (!script_made) {
        int fd = mkstemp(script_path);
        assert_true(fd >= 0);
        close(fd);
        script_made = 1;
    }
    FILE *f = fopen(script_path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(setenv("MEMWALL_FAKE_NVML_SCRIPT", script_path, 1), 0);
    assert_int_equal(setenv("MEMWALL_NVML_LIBRARY", lib, 1), 0);
}

static uint64_t probe_bytes(void)
{
    mw_mem_stats st;
    mw_mem_get_stats(&st);
    return st.current_bytes[MW_MEM_PROBE];
}

static mw_nvml *open_ok(void)
{
    mw_nvml *nv = NULL;
    mw_err err = { 0 };
    mw_status st = mw_nvml_open(&nv, &err);
    if (st != MW_OK) fail_msg("mw_nvml_open: %s: %s", mw_status_name(st), err.msg);
    assert_non_null(nv);
    return nv;
}

static const mw_gpu_process *find_pid(const mw_gpu_process *p, size_t n, uint32_t pid)
{
    for (size_t i = 0; i < n; i++)
        if (p[i].pid == pid) return &p[i];
    return NULL;
}

/* ---- open ---------------------------------------------------------------- */

static void test_close_null(void **state)
{
    (void)state;
    mw_nvml_close(NULL);
    assert_int_equal(mw_nvml_device_count(NULL), 0);
    mw_err err;
    assert_int_equal(mw_nvml_open(NULL, &err), MW_ERR_INVALID);
}

static void test_missing_library(void **state)
{
    (void)state;
    uint64_t before = probe_bytes();
    assert_int_equal(setenv("MEMWALL_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1", 1), 0);
    mw_nvml *nv = (mw_nvml *)&nv; /* must be reset */
    mw_err err = { 0 };
    assert_int_equal(mw_nvml_open(&nv, &err), MW_ERR_UNAVAILABLE);
    assert_null(nv);
    assert_int_equal(err.status, MW_ERR_UNAVAILABLE);
    assert_non_null(strstr(err.msg, "/nonexistent/libnvidia-ml.so.1"));
    assert_int_equal(probe_bytes(), before);
    /* No err given: still no crash. */
    assert_int_equal(mw_nvml_open(&nv, NULL), MW_ERR_UNAVAILABLE);
    assert_null(nv);
}

static void test_not_nvml_library(void **state)
{
    (void)state;
    /* A library that loads but has no NVML in it. */
    assert_int_equal(setenv("MEMWALL_NVML_LIBRARY", "libc.so.6", 1), 0);
    mw_nvml *nv = NULL;
    mw_err err = { 0 };
    assert_int_equal(mw_nvml_open(&nv, &err), MW_ERR_UNAVAILABLE);
    assert_null(nv);
    assert_non_null(strstr(err.msg, "nvmlInit"));
}

static void test_fail_init(void **state)
{
    (void)state;
    use_script("# the driver is not loaded\nfail init\ndevice 0\n");
    uint64_t before = probe_bytes();
    mw_nvml *nv = NULL;
    mw_err err = { 0 };
    assert_int_equal(mw_nvml_open(&nv, &err), MW_ERR_UNAVAILABLE);
    assert_null(nv);
    assert_non_null(strstr(err.msg, "Driver Not Loaded"));
    assert_int_equal(probe_bytes(), before);
}

static void test_bad_script(void **state)
{
    (void)state;
    use_script("device 0\nfrobnicate 1\n");
    mw_nvml *nv = NULL;
    mw_err err = { 0 };
    assert_int_equal(mw_nvml_open(&nv, &err), MW_ERR_UNAVAILABLE);
    assert_null(nv);
}

static void test_zero_devices(void **state)
{
    (void)state;
    use_script("# no device at all\n");
    mw_nvml *nv = open_ok();
    assert_int_equal(mw_nvml_device_count(nv), 0);
    mw_gpu_memory mem;
    mw_err err = { 0 };
    assert_int_equal(mw_nvml_device_memory(nv, 0, &mem, &err), MW_ERR_INVALID);
    assert_int_equal(mem.used_bytes, MW_UNKNOWN);
    size_t n = 99;
    mw_gpu_process p[2];
    assert_int_equal(mw_nvml_device_processes(nv, 0, p, 2, &n, &err), MW_ERR_INVALID);
    assert_int_equal(n, 0);
    mw_nvml_close(nv);
}

/* ---- device memory ------------------------------------------------------- */

static void expect_mem(mw_nvml *nv, uint32_t i, const char *name, uint64_t total,
                       uint64_t used, uint64_t reserved, uint64_t free_bytes)
{
    mw_gpu_memory m;
    mw_err err = { 0 };
    mw_status st = mw_nvml_device_memory(nv, i, &m, &err);
    if (st != MW_OK) fail_msg("device %u: %s", i, err.msg);
    assert_string_equal(m.name, name);
    assert_int_equal(m.total_bytes, total);
    assert_int_equal(m.used_bytes, used);
    assert_int_equal(m.reserved_bytes, reserved);
    assert_int_equal(m.free_bytes, free_bytes);
}

static void test_default_device(void **state)
{
    (void)state;
    if (!fake_lib()) skip();
    assert_int_equal(unsetenv("MEMWALL_FAKE_NVML_SCRIPT"), 0);
    assert_int_equal(setenv("MEMWALL_NVML_LIBRARY", fake_lib(), 1), 0);
    mw_nvml *nv = open_ok();
    assert_int_equal(mw_nvml_device_count(nv), 1);
    expect_mem(nv, 0, "Fake GPU", 16 * GiB, 1 * GiB, 0, 15 * GiB);
    size_t n = 99;
    mw_gpu_process p[1];
    assert_int_equal(mw_nvml_device_processes(nv, 0, p, 1, &n, NULL), MW_OK);
    assert_int_equal(n, 0);
    mw_nvml_close(nv);
}

static void test_two_devices(void **state)
{
    (void)state;
    use_script("device 0 name=\"Fake GPU A\" total=16G reserved=512M\n"
               "device 1 name=\"NVIDIA H100 80GB HBM3\" total=80GiB\n"
               "used 0 1G 2G 3G   # then 3G again\n"
               "used 1 10G 10737418240 12G\n");
    mw_nvml *nv = open_ok();
    assert_int_equal(mw_nvml_device_count(nv), 2);
    const uint64_t r = 512 * MiB;
    expect_mem(nv, 0, "Fake GPU A", 16 * GiB, 1 * GiB, r, 16 * GiB - r - 1 * GiB);
    expect_mem(nv, 1, "NVIDIA H100 80GB HBM3", 80 * GiB, 10 * GiB, 0, 70 * GiB);
    expect_mem(nv, 0, "Fake GPU A", 16 * GiB, 2 * GiB, r, 16 * GiB - r - 2 * GiB);
    expect_mem(nv, 0, "Fake GPU A", 16 * GiB, 3 * GiB, r, 16 * GiB - r - 3 * GiB);
    expect_mem(nv, 0, "Fake GPU A", 16 * GiB, 3 * GiB, r, 16 * GiB - r - 3 * GiB);
    expect_mem(nv, 1, "NVIDIA H100 80GB HBM3", 80 * GiB, 10 * GiB, 0, 70 * GiB);
    expect_mem(nv, 1, "NVIDIA H100 80GB HBM3", 80 * GiB, 12 * GiB, 0, 68 * GiB);

    mw_gpu_memory m;
    mw_err err = { 0 };
    assert_int_equal(mw_nvml_device_memory(nv, 2, &m, &err), MW_ERR_INVALID);
    assert_int_equal(mw_nvml_device_memory(nv, 0, NULL, &err), MW_ERR_INVALID);
    mw_nvml_close(nv);

    /* Reopening starts the sequences again (the fake re-reads its script
     * at nvmlInit; close must have dlclose'd and shut NVML down). */
    nv = open_ok();
    expect_mem(nv, 0, "Fake GPU A", 16 * GiB, 1 * GiB, r, 16 * GiB - r - 1 * GiB);
    mw_nvml_close(nv);
}

static void test_memory_v1_fallback(void **state)
{
    (void)state;
    use_script("nov2\n"
               "device 0 name=\"Old GPU\" total=8G reserved=256M\n"
               "used 0 1G 2G\n");
    mw_nvml *nv = open_ok();
    /* v1 counts reserved as used; reserved itself is unknown. */
    const uint64_t r = 256 * MiB;
    expect_mem(nv, 0, "Old GPU", 8 * GiB, 1 * GiB + r, MW_UNKNOWN, 8 * GiB - 1 * GiB - r);
    expect_mem(nv, 0, "Old GPU", 8 * GiB, 2 * GiB + r, MW_UNKNOWN, 8 * GiB - 2 * GiB - r);
    expect_mem(nv, 0, "Old GPU", 8 * GiB, 2 * GiB + r, MW_UNKNOWN, 8 * GiB - 2 * GiB - r);
    mw_nvml_close(nv);

    use_script("nov2\ndevice 0 total=4G\nused 0 100M 200M\n");
    nv = open_ok();
    expect_mem(nv, 0, "Fake GPU", 4 * GiB, 100 * MiB, MW_UNKNOWN, 4 * GiB - 100 * MiB);
    expect_mem(nv, 0, "Fake GPU", 4 * GiB, 200 * MiB, MW_UNKNOWN, 4 * GiB - 200 * MiB);
    mw_nvml_close(nv);
}

/* The fake, like the driver, rejects nvmlMemory_v2 with a bare version 2:
 * the version must be sizeof | 2 << 24. */
struct nvmlDevice_st;

typedef struct {
    unsigned int version;
    unsigned long long total, reserved, free, used;
} test_memory_v2;

static void test_memory_v2_version_matters(void **state)
{
    (void)state;
    if (!fake_lib()) skip();
    assert_int_equal(unsetenv("MEMWALL_FAKE_NVML_SCRIPT"), 0);
    void *lib = dlopen(fake_lib(), RTLD_NOW | RTLD_LOCAL);
    assert_non_null(lib);
    int (*init)(void);
    int (*shutdown)(void);
    int (*handle_by_index)(unsigned int, struct nvmlDevice_st **);
    int (*mem_v2)(struct nvmlDevice_st *, test_memory_v2 *);
    *(void **)(&init) = dlsym(lib, "nvmlInit_v2");
    *(void **)(&shutdown) = dlsym(lib, "nvmlShutdown");
    *(void **)(&handle_by_index) = dlsym(lib, "nvmlDeviceGetHandleByIndex_v2");
    *(void **)(&mem_v2) = dlsym(lib, "nvmlDeviceGetMemoryInfo_v2");
    assert_true(init && shutdown && handle_by_index && mem_v2);

    assert_int_equal(init(), 0);
    struct nvmlDevice_st *dev = NULL;
    assert_int_equal(handle_by_index(0, &dev), 0);
    test_memory_v2 m = { .version = 2 };
    assert_int_equal(mem_v2(dev, &m), 25); /* NVML_ERROR_ARGUMENT_VERSION_MISMATCH */
    m.version = 1u << 24 | (unsigned)sizeof m;
    assert_int_equal(mem_v2(dev, &m), 25);
    m.version = 0x02000028u;
    assert_int_equal(sizeof m | 2u << 24, 0x02000028u);
    assert_int_equal(mem_v2(dev, &m), 0);
    assert_int_equal(m.total, 16 * GiB);
    assert_int_equal(m.used, 1 * GiB);
    assert_int_equal(shutdown(), 0);
    dlclose(lib);
}

/* ---- processes ----------------------------------------------------------- */

static void test_processes_merged(void **state)
{
    (void)state;
    use_script("device 0 total=24G\n"
               "device 1 total=24G\n"
               "proc 0 100 1G\n"
               "proc 0 200 2G\n"
               "proc 0 300 na\n"
               "proc 0 500 8M\n"
               "gproc 0 200 512M\n"
               "gproc 0 400 64M\n"
               "gproc 0 300 na\n"
               "gproc 0 500 na\n"
               "proc 1 100 3G\n");
    mw_nvml *nv = open_ok();
    mw_gpu_process p[16];
    size_t n = 0;
    mw_err err = { 0 };
    assert_int_equal(mw_nvml_device_processes(nv, 0, p, 16, &n, &err), MW_OK);
    assert_int_equal(n, 5);
    const mw_gpu_process *e;
    assert_non_null(e = find_pid(p, n, 100));
    assert_int_equal(e->used_bytes, 1 * GiB);
    assert_non_null(e = find_pid(p, n, 200)); /* compute + graphics: the larger */
    assert_int_equal(e->used_bytes, 2 * GiB);
    assert_non_null(e = find_pid(p, n, 300)); /* N/A in both lists */
    assert_int_equal(e->used_bytes, MW_UNKNOWN);
    assert_non_null(e = find_pid(p, n, 400));
    assert_int_equal(e->used_bytes, 64 * MiB);
    assert_non_null(e = find_pid(p, n, 500)); /* known part of known + N/A */
    assert_int_equal(e->used_bytes, 8 * MiB);

    /* Device 1 has its own list. */
    assert_int_equal(mw_nvml_device_processes(nv, 1, p, 16, &n, &err), MW_OK);
    assert_int_equal(n, 1);
    assert_int_equal(p[0].pid, 100);
    assert_int_equal(p[0].used_bytes, 3 * GiB);

    /* A short table: *n is the full count, only cap entries are written. */
    mw_gpu_process small[3];
    memset(small, 0xab, sizeof small);
    assert_int_equal(mw_nvml_device_processes(nv, 0, small, 2, &n, &err), MW_OK);
    assert_int_equal(n, 5);
    assert_non_null(find_pid(p, 5, small[0].pid));
    assert_non_null(find_pid(p, 5, small[1].pid));
    assert_true(small[0].pid != small[1].pid);
    assert_int_equal(small[2].pid, 0xabababab);

    /* Counting only. */
    assert_int_equal(mw_nvml_device_processes(nv, 0, NULL, 0, &n, &err), MW_OK);
    assert_int_equal(n, 5);

    assert_int_equal(mw_nvml_device_processes(nv, 0, NULL, 1, &n, &err), MW_ERR_INVALID);
    assert_int_equal(mw_nvml_device_processes(nv, 2, p, 16, &n, &err), MW_ERR_INVALID);
    assert_int_equal(mw_nvml_device_processes(nv, 0, p, 16, NULL, &err), MW_ERR_INVALID);
    mw_nvml_close(nv);
}

static void test_processes_sequence(void **state)
{
    (void)state;
    use_script("device 0\nproc 0 7 1M 2M 3M\ngproc 0 7 na 10K na\n");
    mw_nvml *nv = open_ok();
    const uint64_t want[] = { 1 * MiB, 2 * MiB, 3 * MiB, 3 * MiB }; /* max over lists */
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        mw_gpu_process p[2];
        size_t n = 0;
        assert_int_equal(mw_nvml_device_processes(nv, 0, p, 2, &n, NULL), MW_OK);
        assert_int_equal(n, 1);
        assert_int_equal(p[0].pid, 7);
        assert_int_equal(p[0].used_bytes, want[i]);
    }
    mw_nvml_close(nv);
}

static char *many_procs_script(unsigned ncompute, unsigned ngraphics)
{
    size_t cap = 64 + (size_t)(ncompute + ngraphics) * 40;
    char *s = malloc(cap);
    assert_non_null(s);
    size_t len = (size_t)snprintf(s, cap, "device 0 total=80G\n");
    for (unsigned i = 0; i < ncompute; i++)
        len += (size_t)snprintf(s + len, cap - len, "proc 0 %u %uM\n", 1000 + i, i + 1);
    for (unsigned i = 0; i < ngraphics; i++)
        len += (size_t)snprintf(s + len, cap - len, "gproc 0 %u %uK\n", 2000 + i, i + 1);
    return s;
}

static void test_processes_growth(void **state)
{
    (void)state;
    char *script = many_procs_script(40, 45);
    use_script(script);
    free(script);
    mw_nvml *nv = open_ok();
    for (int round = 0; round < 2; round++) { /* the second reuses the buffers */
        mw_gpu_process p[128];
        size_t n = 0;
        mw_err err = { 0 };
        assert_int_equal(mw_nvml_device_processes(nv, 0, p, 128, &n, &err), MW_OK);
        assert_int_equal(n, 85);
        for (unsigned i = 0; i < 40; i++) {
            const mw_gpu_process *e = find_pid(p, n, 1000 + i);
            assert_non_null(e);
            assert_int_equal(e->used_bytes, (i + 1) * MiB);
        }
        for (unsigned i = 0; i < 45; i++) {
            const mw_gpu_process *e = find_pid(p, n, 2000 + i);
            assert_non_null(e);
            assert_int_equal(e->used_bytes, (i + 1) * KiB);
        }
    }
    mw_nvml_close(nv);
}

static void test_processes_old_apis(void **state)
{
    (void)state;
    /* procapi 1: the unversioned functions with the 16-byte v1 struct; a
     * wrong stride would garble every entry after the first. */
    for (int api = 1; api <= 3; api++) {
        char script[256];
        snprintf(script, sizeof script,
                 "procapi %d\ndevice 0\n"
                 "proc 0 11 1M\nproc 0 12 na\nproc 0 13 3M\ngproc 0 13 1M\ngproc 0 14 4G\n",
                 api);
        use_script(script);
        mw_nvml *nv = open_ok();
        mw_gpu_process p[8];
        size_t n = 0;
        mw_err err = { 0 };
        assert_int_equal(mw_nvml_device_processes(nv, 0, p, 8, &n, &err), MW_OK);
        assert_int_equal(n, 4);
        const mw_gpu_process *e;
        assert_non_null(e = find_pid(p, n, 11));
        assert_int_equal(e->used_bytes, 1 * MiB);
        assert_non_null(e = find_pid(p, n, 12));
        assert_int_equal(e->used_bytes, MW_UNKNOWN);
        assert_non_null(e = find_pid(p, n, 13));
        assert_int_equal(e->used_bytes, 3 * MiB);
        assert_non_null(e = find_pid(p, n, 14));
        assert_int_equal(e->used_bytes, 4 * GiB);
        /* And again, on the version it settled on. */
        assert_int_equal(mw_nvml_device_processes(nv, 0, p, 8, &n, &err), MW_OK);
        assert_int_equal(n, 4);
        mw_nvml_close(nv);
    }
}

static void test_processes_unsupported(void **state)
{
    (void)state;
    use_script("unsupported graphics\ndevice 0\nproc 0 5 5M\ngproc 0 6 6M\n");
    mw_nvml *nv = open_ok();
    mw_gpu_process p[4];
    size_t n = 0;
    mw_err err = { 0 };
    assert_int_equal(mw_nvml_device_processes(nv, 0, p, 4, &n, &err), MW_OK);
    assert_int_equal(n, 1);
    assert_int_equal(p[0].pid, 5);
    assert_int_equal(p[0].used_bytes, 5 * MiB);
    mw_nvml_close(nv);

    /* No list at all: unknown, not "no processes". */
    use_script("unsupported graphics\nunsupported compute\ndevice 0\nproc 0 5 5M\n");
    nv = open_ok();
    n = 99;
    assert_int_equal(mw_nvml_device_processes(nv, 0, p, 4, &n, &err), MW_ERR_UNSUPPORTED);
    assert_int_equal(n, 0);
    assert_non_null(strstr(err.msg, "Not Supported"));
    mw_nvml_close(nv);
}

static void test_processes_child(void **state)
{
    (void)state;
    use_script("device 0\nproc 0 child 5M 6M\nproc 0 42 1M\n");
    mw_nvml *nv = open_ok();
    mw_gpu_process p[4];
    size_t n = 0;
    mw_err err = { 0 };

    /* No child yet: the entry is left out. */
    assert_int_equal(mw_nvml_device_processes(nv, 0, p, 4, &n, &err), MW_OK);
    assert_int_equal(n, 1);
    assert_int_equal(p[0].pid, 42);

    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        for (;;) pause();
    }
    assert_int_equal(mw_nvml_device_processes(nv, 0, p, 4, &n, &err), MW_OK);
    assert_int_equal(n, 2);
    const mw_gpu_process *e = find_pid(p, n, (uint32_t)child);
    assert_non_null(e);
    assert_int_equal(e->used_bytes, 5 * MiB);
    assert_non_null(find_pid(p, n, 42));
    assert_int_equal(mw_nvml_device_processes(nv, 0, p, 4, &n, &err), MW_OK);
    assert_non_null(e = find_pid(p, n, (uint32_t)child));
    assert_int_equal(e->used_bytes, 6 * MiB);

    assert_int_equal(kill(child, SIGKILL), 0);
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_int_equal(mw_nvml_device_processes(nv, 0, p, 4, &n, &err), MW_OK);
    assert_int_equal(n, 1);
    assert_int_equal(p[0].pid, 42);
    mw_nvml_close(nv);
}

/* ---- fault injection ----------------------------------------------------- */

static void test_fail_alloc_open(void **state)
{
    (void)state;
    use_script("device 0 name=\"A\"\ndevice 1 name=\"B\"\ndevice 2\n");
    uint64_t before = probe_bytes();
    int nomem = 0, ok = 0;
    for (uint64_t k = 1; k <= 64 && !ok; k++) {
        mw_nvml *nv = NULL;
        mw_err err = { 0 };
        mw_mem_fail_after(k);
        mw_status st = mw_nvml_open(&nv, &err);
        mw_mem_fail_after(0);
        if (st == MW_OK) {
            assert_int_equal(mw_nvml_device_count(nv), 3);
            expect_mem(nv, 1, "B", 16 * GiB, 0, 0, 16 * GiB);
            mw_nvml_close(nv);
            ok = 1;
        } else {
            assert_int_equal(st, MW_ERR_NOMEM);
            assert_int_equal(err.status, MW_ERR_NOMEM);
            assert_null(nv);
            nomem++;
        }
        assert_int_equal(probe_bytes(), before);
    }
    assert_true(ok);
    assert_true(nomem >= 2); /* the handle and the device table */
}

static void test_fail_alloc_processes(void **state)
{
    (void)state;
    char *script = many_procs_script(40, 30);
    use_script(script);
    free(script);
    uint64_t before = probe_bytes();
    int nomem = 0, ok = 0;
    for (uint64_t k = 1; k <= 64 && !ok; k++) {
        mw_nvml *nv = open_ok();
        mw_gpu_process p[80];
        size_t n = 0;
        mw_err err = { 0 };
        mw_mem_fail_after(k);
        mw_status st = mw_nvml_device_processes(nv, 0, p, 80, &n, &err);
        mw_mem_fail_after(0);
        if (st == MW_OK) {
            assert_int_equal(n, 70);
            ok = 1;
        } else {
            assert_int_equal(st, MW_ERR_NOMEM);
            nomem++;
            /* The handle is still usable after a failure. */
            assert_int_equal(mw_nvml_device_processes(nv, 0, p, 80, &n, &err), MW_OK);
            assert_int_equal(n, 70);
        }
        mw_nvml_close(nv);
        assert_int_equal(probe_bytes(), before);
    }
    assert_true(ok);
    assert_true(nomem >= 2); /* the raw buffer and the merge table */
}

/* ---- the real driver, when there is one ---------------------------------- */

typedef int (*cu_init_fn)(unsigned int);
typedef int (*cu_device_get_fn)(int *, int);
typedef int (*cu_ctx_retain_fn)(void **, int);
typedef int (*cu_ctx_release_fn)(int);
typedef int (*cu_ctx_set_fn)(void *);
typedef int (*cu_alloc_fn)(unsigned long long *, size_t);
typedef int (*cu_free_fn)(unsigned long long);

/* Allocates `bytes` on device 0 through libcuda; returns the pointer or 0. */
static unsigned long long cuda_alloc(void **lib_out, size_t bytes)
{
    void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        print_message("real driver: no libcuda.so.1: %s\n", dlerror());
        return 0;
    }
    cu_init_fn init;
    cu_device_get_fn device_get;
    cu_ctx_retain_fn retain;
    cu_ctx_set_fn set;
    cu_alloc_fn alloc;
    *(void **)(&init) = dlsym(lib, "cuInit");
    *(void **)(&device_get) = dlsym(lib, "cuDeviceGet");
    *(void **)(&retain) = dlsym(lib, "cuDevicePrimaryCtxRetain");
    *(void **)(&set) = dlsym(lib, "cuCtxSetCurrent");
    *(void **)(&alloc) = dlsym(lib, "cuMemAlloc_v2");
    assert_true(init && device_get && retain && set && alloc);
    int dev = 0, rc;
    void *ctx = NULL;
    unsigned long long ptr = 0;
    if ((rc = init(0)) != 0 || (rc = device_get(&dev, 0)) != 0 || (rc = retain(&ctx, dev)) != 0 ||
        (rc = set(ctx)) != 0 || (rc = alloc(&ptr, bytes)) != 0) {
        print_message("real driver: CUDA call failed with %d (under ASan set "
                      "ASAN_OPTIONS=protect_shadow_gap=0)\n", rc);
        fail();
    }
    *lib_out = lib;
    return ptr;
}

static void cuda_free(void *lib, unsigned long long ptr)
{
    cu_free_fn free_fn;
    cu_ctx_release_fn release;
    *(void **)(&free_fn) = dlsym(lib, "cuMemFree_v2");
    *(void **)(&release) = dlsym(lib, "cuDevicePrimaryCtxRelease_v2");
    if (!release) *(void **)(&release) = dlsym(lib, "cuDevicePrimaryCtxRelease");
    assert_true(free_fn && release);
    assert_int_equal(free_fn(ptr), 0);
    assert_int_equal(release(0), 0);
    /* libcuda is left loaded: unloading it is not supported. */
}

static void test_real_driver(void **state)
{
    (void)state;
    assert_int_equal(unsetenv("MEMWALL_NVML_LIBRARY"), 0);
    assert_int_equal(unsetenv("MEMWALL_FAKE_NVML_SCRIPT"), 0);
    uint64_t before = probe_bytes();
    mw_nvml *nv = NULL;
    mw_err err = { 0 };
    mw_status st = mw_nvml_open(&nv, &err);
    if (st != MW_OK) {
        assert_int_equal(st, MW_ERR_UNAVAILABLE);
        assert_null(nv);
        print_message("real driver: %s\n", err.msg);
        assert_int_equal(probe_bytes(), before);
        return;
    }
    uint32_t ndev = mw_nvml_device_count(nv);
    print_message("real driver: %u device(s)\n", ndev);
    for (uint32_t i = 0; i < ndev; i++) {
        mw_gpu_memory m;
        st = mw_nvml_device_memory(nv, i, &m, &err);
        if (st != MW_OK) {
            print_message("real driver: GPU %u: %s\n", i, err.msg);
            continue;
        }
        print_message("real driver: GPU %u \"%s\": total %llu used %llu reserved %llu free %llu\n",
                      i, m.name, (unsigned long long)m.total_bytes,
                      (unsigned long long)m.used_bytes, (unsigned long long)m.reserved_bytes,
                      (unsigned long long)m.free_bytes);
        assert_true(m.name[0] != '\0');
        assert_true(m.total_bytes > 0 && m.total_bytes != MW_UNKNOWN);
        assert_true(m.used_bytes <= m.total_bytes);
        assert_true(m.free_bytes <= m.total_bytes);
        if (m.reserved_bytes != MW_UNKNOWN)
            assert_true(m.used_bytes + m.reserved_bytes + m.free_bytes <= m.total_bytes + MiB);
        mw_gpu_process p[64];
        size_t n = 0;
        st = mw_nvml_device_processes(nv, i, p, 64, &n, &err);
        if (st != MW_OK) {
            print_message("real driver: GPU %u processes: %s\n", i, err.msg);
            continue;
        }
        for (size_t j = 0; j < n && j < 64; j++)
            print_message("real driver: GPU %u pid %u used %llu\n", i, p[j].pid,
                          (unsigned long long)p[j].used_bytes);
    }

    const char *cuda = getenv("MW_TEST_CUDA");
    if (ndev > 0 && cuda && strcmp(cuda, "1") == 0) {
        mw_gpu_memory m0, m1;
        assert_int_equal(mw_nvml_device_memory(nv, 0, &m0, &err), MW_OK);
        void *lib = NULL;
        const size_t bytes = 512 * MiB;
        unsigned long long ptr = cuda_alloc(&lib, bytes);
        if (ptr) {
            assert_int_equal(mw_nvml_device_memory(nv, 0, &m1, &err), MW_OK);
            print_message("real driver: after cuMemAlloc(512 MiB): used %llu -> %llu\n",
                          (unsigned long long)m0.used_bytes, (unsigned long long)m1.used_bytes);
            assert_true(m1.used_bytes >= m0.used_bytes + bytes);
            mw_gpu_process p[64];
            size_t n = 0;
            st = mw_nvml_device_processes(nv, 0, p, 64, &n, &err);
            if (st != MW_OK) fail_msg("processes: %s", err.msg);
            int seen = 0;
            for (size_t j = 0; j < n && j < 64; j++) {
                print_message("real driver: pid %u used %llu%s\n", p[j].pid,
                              (unsigned long long)p[j].used_bytes,
                              p[j].pid == (uint32_t)getpid() ? " (this test)" : "");
                if (p[j].used_bytes != MW_UNKNOWN && p[j].used_bytes >= bytes &&
                    p[j].used_bytes < m1.total_bytes)
                    seen++;
                if (p[j].pid == (uint32_t)getpid()) assert_true(p[j].used_bytes >= bytes);
            }
            assert_true(seen >= 1); /* (host PIDs: ours may differ in a container) */
            cuda_free(lib, ptr);
        }
    }
    mw_nvml_close(nv);
    assert_int_equal(probe_bytes(), before);
}

static int group_teardown(void **state)
{
    (void)state;
    if (script_made) unlink(script_path);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_close_null),
        cmocka_unit_test(test_missing_library),
        cmocka_unit_test(test_not_nvml_library),
        cmocka_unit_test(test_fail_init),
        cmocka_unit_test(test_bad_script),
        cmocka_unit_test(test_zero_devices),
        cmocka_unit_test(test_default_device),
        cmocka_unit_test(test_two_devices),
        cmocka_unit_test(test_memory_v1_fallback),
        cmocka_unit_test(test_memory_v2_version_matters),
        cmocka_unit_test(test_processes_merged),
        cmocka_unit_test(test_processes_sequence),
        cmocka_unit_test(test_processes_growth),
        cmocka_unit_test(test_processes_old_apis),
        cmocka_unit_test(test_processes_unsupported),
        cmocka_unit_test(test_processes_child),
        cmocka_unit_test(test_fail_alloc_open),
        cmocka_unit_test(test_fail_alloc_processes),
        cmocka_unit_test(test_real_driver),
    };
    return cmocka_run_group_tests(tests, NULL, group_teardown);
}
