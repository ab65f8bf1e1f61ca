/* test_roofline_tiers.c - the roofline's slower tiers: the fault tiers give
 * a rate, the cold read leaves nothing behind and refuses a tmpfs, the swap
 * header is Linux's, the GPU tiers through the fake libcuda (all five, and
 * each failure: no library, a missing symbol, cuInit, no device, no device
 * memory, no pinned memory) are figures or null with the reason, a cancel
 * flag stops them, and allocation failures give a reason, not a crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"
#include "common/test_hooks.h"
#include "roofline/roofline.h"

#include <dirent.h>
#include <dlfcn.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

static int known(const mw_roofline_tier *t) { return t->bw.max > 0; }

static void quick_opts(mw_roofline_opts *o)
{
    mw_roofline_opts_init(o);
    o->quick = 1;
}

static void fault_tiers_give_a_rate(void **state)
{
    (void)state;
    mw_roofline_opts o;
    quick_opts(&o);
    mw_roofline_tier t;
    mw_rl_tier_init(&t, MW_TIER_FAULT_4K);
    mw_rl_tier_fault(&o, 0, &t);
    assert_string_equal(t.name, "fault_4k");
    assert_true(known(&t));
    assert_true(t.bw.min > 0 && t.bw.min <= t.bw.median && t.bw.median <= t.bw.max);
    assert_true(t.bytes >= (16u << 20));
    assert_non_null(strstr(t.method, "4 KiB"));
    assert_string_equal(t.reason, "");

    mw_rl_tier_init(&t, MW_TIER_FAULT_THP);
    mw_rl_tier_fault(&o, 1, &t);
    assert_string_equal(t.name, "fault_thp");
    char text[256] = "", mode[16] = "";
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (f) {
        if (!fgets(text, sizeof text, f)) text[0] = '\0';
        fclose(f);
    }
    if (mw_rl_thp_mode(text, mode, sizeof mode) && strcmp(mode, "never") != 0) {
        assert_true(known(&t));
        assert_non_null(strstr(t.method, "huge pages"));
    } else {
        assert_false(known(&t));
        assert_true(t.reason[0] != '\0');
    }
}

static void thp_mode_parse(void **state)
{
    (void)state;
    char m[16];
    assert_true(mw_rl_thp_mode("always [madvise] never\n", m, sizeof m));
    assert_string_equal(m, "madvise");
    assert_true(mw_rl_thp_mode("always madvise [never]\n", m, sizeof m));
    assert_string_equal(m, "never");
    assert_false(mw_rl_thp_mode("always madvise never\n", m, sizeof m));
    assert_false(mw_rl_thp_mode("[unterminated", m, sizeof m));
}

static void swap_header_is_linux_s(void **state)
{
    (void)state;
    unsigned char page[4096], uuid[16];
    for (int i = 0; i < 16; i++) uuid[i] = (unsigned char)(i * 17 + 1);
    memset(page, 0xee, sizeof page);
    assert_true(mw_rl_swap_header(page, sizeof page, 256u << 20, uuid));
    assert_memory_equal(page + 4096 - 10, "SWAPSPACE2", 10);
    uint32_t version, last_page, bad;
    memcpy(&version, page + 1024, 4);
    memcpy(&last_page, page + 1028, 4);
    memcpy(&bad, page + 1032, 4);
    assert_int_equal(version, 1);
    assert_int_equal(last_page, (256u << 20) / 4096 - 1);
    assert_int_equal(bad, 0);
    assert_memory_equal(page + 1036, uuid, 16);
    for (int i = 0; i < 1024; i++) assert_int_equal(page[i], 0);   /* the boot bits */
    /* a larger page size puts the magic at its own end */
    static unsigned char big[65536];
    assert_true(mw_rl_swap_header(big, sizeof big, 64u << 20, uuid));
    assert_memory_equal(big + sizeof big - 10, "SWAPSPACE2", 10);
    memcpy(&last_page, big + 1028, 4);
    assert_int_equal(last_page, (64u << 20) / 65536 - 1);
    /* under 10 pages, or a page under 4 KiB: refused */
    assert_false(mw_rl_swap_header(page, sizeof page, 9 * 4096, uuid));
    assert_false(mw_rl_swap_header(page, 1024, 1u << 20, uuid));
}

static int dir_is_empty(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n == 0;
}

static void disk_cold_leaves_nothing(void **state)
{
    (void)state;
    char dir[] = "/var/tmp/mw-tiers-test-XXXXXX";
    if (!mkdtemp(dir)) skip();
    mw_roofline_opts o;
    quick_opts(&o);
    o.tmp_dir = dir;
    mw_roofline_tier t;
    mw_rl_tier_init(&t, MW_TIER_DISK_COLD);
    mw_rl_tier_disk_cold(&o, &t);
    if (known(&t)) {
        assert_true(t.bytes >= (16u << 20));
        assert_true(strstr(t.method, "cache dropped") || strstr(t.method, "O_DIRECT"));
        assert_string_equal(t.reason, "");
    } else {
        print_message("disk_cold not measured here: %s\n", t.reason);
        assert_true(t.reason[0] != '\0');
    }
    assert_true(dir_is_empty(dir));

    /* the residency check's memory fails: O_DIRECT instead, still a figure */
    mw_rl_tier_init(&t, MW_TIER_DISK_COLD);
    mw_mem_fail_after(2);
    mw_rl_tier_disk_cold(&o, &t);
    mw_mem_fail_after(0);
    if (known(&t)) assert_non_null(strstr(t.method, "O_DIRECT"));
    else assert_true(t.reason[0] != '\0');
    /* the read buffer fails: null with the reason */
    mw_rl_tier_init(&t, MW_TIER_DISK_COLD);
    mw_mem_fail_after(1);
    mw_rl_tier_disk_cold(&o, &t);
    mw_mem_fail_after(0);
    assert_false(known(&t));
    assert_non_null(strstr(t.reason, "out of memory"));
    assert_true(dir_is_empty(dir));
    rmdir(dir);
}

static void disk_cold_refuses_a_tmpfs(void **state)
{
    (void)state;
    struct statfs s;
    if (statfs("/dev/shm", &s) != 0 || s.f_type != TMPFS_MAGIC) skip();
    mw_roofline_opts o;
    quick_opts(&o);
    o.tmp_dir = "/dev/shm";
    mw_roofline_tier t;
    mw_rl_tier_init(&t, MW_TIER_DISK_COLD);
    mw_rl_tier_disk_cold(&o, &t);
    assert_false(known(&t));
    assert_non_null(strstr(t.reason, "tmpfs"));
}

static void swap_in_without_swap_says_why(void **state)
{
    (void)state;
    char buf[512] = "";
    FILE *f = fopen("/proc/swaps", "r");
    if (!f) skip();
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *nl = strchr(buf, '\n');
    if (!nl || nl[1]) skip();   /* swap is active here */
    mw_roofline_opts o;
    quick_opts(&o);
    mw_roofline_tier t;
    mw_rl_tier_init(&t, MW_TIER_SWAP_IN);
    mw_rl_tier_swap_in(&o, &t);
    assert_false(known(&t));
    assert_string_equal(t.reason, "no swap active: give --swap (root) for a temporary swapfile");
}

/* The GPU tiers through the library at lib, with the knob set (or none). */
static void gpu_run(const char *lib, const char *knob, mw_roofline_tier *t, char *name, size_t cap)
{
    mw_roofline_opts o;
    quick_opts(&o);
    o.libcuda_path = lib;
    if (knob) setenv(knob, "1", 1);
    for (int i = 0; i < 5; i++) mw_rl_tier_init(&t[i], MW_TIER_GPU_D2D + i);
    mw_rl_tiers_gpu(&o, t, name, cap);
    if (knob) unsetenv(knob);
}

static void gpu_tiers_from_the_fake(void **state)
{
    (void)state;
    const char *lib = getenv("MW_FAKE_CUDA");
    assert_non_null(lib);
    mw_roofline_tier t[5];
    char name[96];
    gpu_run(lib, NULL, t, name, sizeof name);
    assert_string_equal(name, "memwall fake GPU");
    static const char *const names[5] = {"gpu_d2d", "gpu_h2d_pageable", "gpu_h2d_pinned", "gpu_d2h_pageable",
                                         "gpu_d2h_pinned"};
    for (int i = 0; i < 5; i++) {
        assert_string_equal(t[i].name, names[i]);
        assert_true(known(&t[i]));
        assert_string_equal(t[i].reason, "");
        assert_true(t[i].method[0] != '\0');
    }
    assert_int_equal(t[0].bytes, 2 * t[1].bytes);   /* read + write */
    assert_non_null(strstr(t[0].method, "2x"));
    assert_non_null(strstr(t[2].method, "cuMemAllocHost"));
}

static void all_null_with(const mw_roofline_tier *t, const char *why)
{
    for (int i = 0; i < 5; i++) {
        assert_false(known(&t[i]));
        if (!strstr(t[i].reason, why)) fail_msg("%s: reason \"%s\" lacks \"%s\"", t[i].name, t[i].reason, why);
        assert_string_equal(t[i].method, "");
    }
}

static void gpu_failures_give_reasons(void **state)
{
    (void)state;
    const char *lib = getenv("MW_FAKE_CUDA"), *nodtod = getenv("MW_FAKE_CUDA_NODTOD");
    assert_non_null(lib);
    assert_non_null(nodtod);
    mw_roofline_tier t[5];
    char name[96];
    gpu_run(lib, "FAKE_CUDA_FAIL_INIT", t, name, sizeof name);
    all_null_with(t, "cuInit failed: error 100");
    assert_string_equal(name, "");
    gpu_run(lib, "FAKE_CUDA_NO_DEVICES", t, name, sizeof name);
    all_null_with(t, "no CUDA device");
    gpu_run(lib, "FAKE_CUDA_FAIL_ALLOC", t, name, sizeof name);
    all_null_with(t, "cuMemAlloc_v2 of 64 MiB on the GPU failed: error 2 (CUDA_ERROR_OUT_OF_MEMORY)");
    assert_string_equal(name, "memwall fake GPU");
    gpu_run(nodtod, NULL, t, name, sizeof name);
    all_null_with(t, "libcuda lacks cuMemcpyDtoD_v2");
    gpu_run("/nonexistent/libcuda.so.1", NULL, t, name, sizeof name);
    all_null_with(t, "cannot be loaded");

    /* no pinned memory: the pinned tiers null, the others measured */
    gpu_run(lib, "FAKE_CUDA_FAIL_PINNED", t, name, sizeof name);
    assert_true(known(&t[0]) && known(&t[1]) && known(&t[3]));
    assert_false(known(&t[2]) || known(&t[4]));
    assert_non_null(strstr(t[2].reason, "cuMemAllocHost_v2 of 64 MiB failed"));
    /* each allocation failing in turn: never a crash, a figure or a reason
     * for each tier; one of them is the pageable buffer's (those two null) */
    int pageable_failed = 0;
    for (uint64_t n = 1; n <= 8; n++) {
        mw_mem_fail_after(n);
        gpu_run(lib, NULL, t, name, sizeof name);
        mw_mem_fail_after(0);
        for (int i = 0; i < 5; i++) assert_true(known(&t[i]) || t[i].reason[0]);
        if (!known(&t[1]) && strstr(t[1].reason, "out of memory")) {
            assert_true(known(&t[0]) && known(&t[2]) && known(&t[4]));
            assert_non_null(strstr(t[3].reason, "out of memory"));
            pageable_failed = 1;
        }
    }
    assert_true(pageable_failed);

    /* the default: $MEMWALL_CUDA_LIBRARY, else libcuda.so.1 */
    setenv("MEMWALL_CUDA_LIBRARY", lib, 1);
    gpu_run(NULL, NULL, t, name, sizeof name);
    unsetenv("MEMWALL_CUDA_LIBRARY");
    assert_true(known(&t[0]));
    void *real = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (real) { dlclose(real); return; }   /* a real driver here: not "absent" */
    gpu_run(NULL, NULL, t, name, sizeof name);
    all_null_with(t, "no libcuda.so.1: no NVIDIA driver");
}

/* All tiers with a made-up DRAM level: slowdowns against it; then a
 * cancel flag already set: every tier null, the signal recorded. */
static void tiers_measure_and_cancel(void **state)
{
    (void)state;
    mw_roofline_result *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->n_levels = 1;
    snprintf(r->levels[0].name, sizeof r->levels[0].name, "DRAM");
    r->levels[0].bw[MW_RL_READ][1].max = 20e9;
    mw_roofline_opts o;
    quick_opts(&o);
    o.libcuda_path = getenv("MW_FAKE_CUDA");
    volatile sig_atomic_t stop = 0;
    o.cancel = &stop;
    mw_rl_tiers_measure(&o, r);
    assert_int_equal(r->n_tiers, MW_TIER_COUNT);
    assert_int_equal(r->interrupted_signal, 0);
    assert_string_equal(r->gpu_name, "memwall fake GPU");
    for (int i = 0; i < MW_TIER_COUNT; i++) {
        const mw_roofline_tier *t = &r->tiers[i];
        if (known(t)) assert_true(t->slowdown > 0 && t->slowdown * t->bw.max > 19.9e9 && t->slowdown * t->bw.max < 20.1e9);
        else { assert_true(t->slowdown < 0); assert_true(t->reason[0] != '\0'); }
    }
    assert_true(known(&r->tiers[MW_TIER_FAULT_4K]));

    memset(r, 0, sizeof *r);
    stop = SIGINT;
    mw_rl_tiers_measure(&o, r);
    assert_int_equal(r->interrupted_signal, SIGINT);
    for (int i = 0; i < MW_TIER_COUNT; i++) {
        assert_false(known(&r->tiers[i]));
        assert_non_null(strstr(r->tiers[i].reason, "interrupted by SIGINT"));
    }
    free(r);
}

/* Through the public API: --no-tiers gives none; the JSON has the keys. */
static void no_tiers_and_report(void **state)
{
    (void)state;
    mw_roofline_opts o;
    quick_opts(&o);
    o.no_tiers = 1;
    o.max_bytes = 1u << 20;
    mw_roofline_result *r = NULL;
    mw_err err;
    assert_int_equal(mw_roofline_measure(&o, &r, &err), MW_OK);
    assert_int_equal(r->n_tiers, 0);
    /* a made-up set of tiers through the JSON writer */
    r->n_tiers = MW_TIER_COUNT;
    for (int i = 0; i < MW_TIER_COUNT; i++) mw_rl_tier_init(&r->tiers[i], i);
    r->tiers[MW_TIER_FAULT_4K].bw = (mw_roofline_figure){1e9, 2e9, 3e9, 1};
    r->tiers[MW_TIER_FAULT_4K].slowdown = 7;
    mw_rl_tier_method(&r->tiers[MW_TIER_FAULT_4K], "by hand");
    mw_rl_tier_null(&r->tiers[MW_TIER_SWAP_IN], "no swap \"here\"");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(mw_roofline_report_json(r, f, &err), MW_OK);
    fclose(f);
    /* the writer indents with tabs: drop them and the newlines */
    size_t w = 0;
    for (size_t i = 0; buf[i]; i++) if (buf[i] != '\t' && buf[i] != '\n') buf[w++] = buf[i];
    buf[w] = '\0';
    assert_non_null(strstr(buf, "\"tiers\""));
    assert_non_null(strstr(buf, "\"name\":\"fault_4k\""));
    assert_non_null(strstr(buf, "\"bytes_per_second\":3000000000,\"min\":1000000000,\"median\":2000000000"));
    assert_non_null(strstr(buf, "\"slowdown\":7"));
    assert_non_null(strstr(buf, "\"reason\":\"no swap \\\"here\\\"\""));
    assert_non_null(strstr(buf, "\"gpu_name\":null"));
    free(buf);
    buf = NULL;
    f = open_memstream(&buf, &len);
    assert_int_equal(mw_roofline_report_text(r, f, 0, &err), MW_OK);
    fclose(f);
    assert_non_null(strstr(buf, "x 7 slower than DRAM"));
    assert_non_null(strstr(buf, "no swap \"here\""));
    free(buf);
    mw_roofline_result_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fault_tiers_give_a_rate),
        cmocka_unit_test(thp_mode_parse),
        cmocka_unit_test(swap_header_is_linux_s),
        cmocka_unit_test(disk_cold_leaves_nothing),
        cmocka_unit_test(disk_cold_refuses_a_tmpfs),
        cmocka_unit_test(swap_in_without_swap_says_why),
        cmocka_unit_test(gpu_tiers_from_the_fake),
        cmocka_unit_test(gpu_failures_give_reasons),
        cmocka_unit_test(tiers_measure_and_cancel),
        cmocka_unit_test(no_tiers_and_report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
