/* test_profile.c - this machine's profile (roofline/profile.c and
 * report/profile_file.c): the key, where the file goes (XDG_CACHE_HOME,
 * HOME, MEMWALL_PROFILE), a save and load round trip, another machine's
 * file, damaged files refused with the path and what is wrong, and clean
 * allocation failures. The roofline result is synthetic: nothing here is
 * timed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"
#include "common/json.h"
#include "common/test_hooks.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/mw-test-profile-XXXXXX";

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir)) return -1;
    mw_json_init(); /* cJSON's allocator, before this test's own trees */
    unsetenv("MEMWALL_PROFILE");
    setenv("MEMWALL_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1", 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void fig(mw_roofline_figure *f, double v, int noisy)
{
    f->min = v * 0.9;
    f->median = v * 0.95;
    f->max = v;
    f->noisy = noisy;
}

/* Two levels (L1, DRAM), peaks, one curve point; BF16 measured, INT8 not. */
static void make_result(mw_roofline_result *r, mw_roofline_point *pt)
{
    memset(r, 0, sizeof *r);
    r->threads = 2;
    snprintf(r->isa, sizeof r->isa, "avx2");
    for (int i = 0; i < 4; i++) r->sysfs_cache_bytes[i] = MW_UNKNOWN;
    r->max_bytes = 256u << 20;
    r->n_levels = 2;
    for (size_t l = 0; l < 2; l++) {
        mw_roofline_level *lv = &r->levels[l];
        snprintf(lv->name, sizeof lv->name, "%s", l ? "DRAM" : "L1");
        lv->bytes = l ? 256u << 20 : 32u << 10;
        lv->sysfs_bytes = l ? MW_UNKNOWN : 32u << 10;
        for (int k = 0; k < MW_RL_KERNELS; k++) {
            fig(&lv->bw[k][0], l ? 9e9 : 100e9, 0);
            fig(&lv->bw[k][1], l ? 20e9 : 190e9, 0);
        }
    }
    r->levels[1].bw[MW_RL_READ][1].noisy = 1;
    fig(&r->flops_f32[0], 60e9, 0);
    fig(&r->flops_f32[1], 118e9, 0);
    fig(&r->flops_bf16[0], 200e9, 0);
    fig(&r->flops_bf16[1], 390e9, 0);
    r->ops_int8[0] = r->ops_int8[1] = (mw_roofline_figure){-1, -1, -1, 0};
    snprintf(r->int8_reason, sizeof r->int8_reason, "no AVX512_VNNI");
    memset(pt, 0, sizeof *pt);
    pt->bytes = 64u << 10;
    for (int k = 0; k < MW_RL_KERNELS; k++) {
        fig(&pt->bw[k][0], 50e9, 0);
        fig(&pt->bw[k][1], 90e9, 0);
    }
    r->n_points = 1;
    r->points = pt;
    r->seconds = 1.5;
}

static void use_dir(const char *sub)
{
    char d[256];
    snprintf(d, sizeof d, "%s/%s", dir, sub);
    setenv("XDG_CACHE_HOME", d, 1);
    unsetenv("MEMWALL_PROFILE");
}

static mw_machine_key key_a(void)
{
    mw_machine_key k;
    memset(&k, 0, sizeof k);
    snprintf(k.cpu_model, sizeof k.cpu_model, "Test CPU 9000");
    k.cpus = 2;
    k.memory_bytes = 8ull << 30;
    snprintf(k.gpu, sizeof k.gpu, "none");
    return k;
}

/* FNV-1a 64 of "model\ncpus\nbytes\ngpu", written again here from the
 * spec (docs/ROOFLINE.md) */
static uint64_t fnv(const mw_machine_key *k)
{
    char t[512];
    snprintf(t, sizeof t, "%s\n%u\n%llu\n%s", k->cpu_model, k->cpus, (unsigned long long)k->memory_bytes, k->gpu);
    uint64_t h = 14695981039346656037ull;
    for (const char *p = t; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return h;
}

static void path_from_the_environment(void **state)
{
    (void)state;
    mw_machine_key k = key_a();
    char path[512], want[512];
    mw_err err;
    unsetenv("MEMWALL_PROFILE");
    setenv("HOME", "/home/someone", 1);
    setenv("XDG_CACHE_HOME", "/var/cache/x", 1);
    assert_int_equal(mw_profile_path(&k, path, sizeof path, &err), MW_OK);
    snprintf(want, sizeof want, "/var/cache/x/memwall/machine-%016llx.json", (unsigned long long)fnv(&k));
    assert_string_equal(path, want);
    /* unset, empty, relative: $HOME/.cache */
    snprintf(want, sizeof want, "/home/someone/.cache/memwall/machine-%016llx.json", (unsigned long long)fnv(&k));
    unsetenv("XDG_CACHE_HOME");
    assert_int_equal(mw_profile_path(&k, path, sizeof path, &err), MW_OK);
    assert_string_equal(path, want);
    setenv("XDG_CACHE_HOME", "", 1);
    assert_int_equal(mw_profile_path(&k, path, sizeof path, &err), MW_OK);
    assert_string_equal(path, want);
    setenv("XDG_CACHE_HOME", "relative/cache", 1);
    assert_int_equal(mw_profile_path(&k, path, sizeof path, &err), MW_OK);
    assert_string_equal(path, want);
    /* another key, another file */
    mw_machine_key k2 = k;
    k2.cpus = 4;
    char other[512];
    assert_int_equal(mw_profile_path(&k2, other, sizeof other, &err), MW_OK);
    assert_string_not_equal(path, other);
    /* no HOME: nowhere, said so */
    unsetenv("HOME");
    assert_int_equal(mw_profile_path(&k, path, sizeof path, &err), MW_ERR_UNAVAILABLE);
    assert_non_null(strstr(err.msg, "HOME"));
    assert_non_null(strstr(err.msg, "MEMWALL_PROFILE"));
    setenv("HOME", "relative", 1);
    assert_int_equal(mw_profile_path(&k, path, sizeof path, &err), MW_ERR_UNAVAILABLE);
    /* too long for the buffer */
    setenv("HOME", "/home/someone", 1);
    assert_int_equal(mw_profile_path(&k, path, 40, &err), MW_ERR_INVALID);
    /* MEMWALL_PROFILE */
    setenv("MEMWALL_PROFILE", "/some/file.json", 1);
    assert_int_equal(mw_profile_path(&k, path, sizeof path, &err), MW_OK);
    assert_string_equal(path, "/some/file.json");
    setenv("MEMWALL_PROFILE", "none", 1);
    assert_int_equal(mw_profile_path(&k, path, sizeof path, &err), MW_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, "MEMWALL_PROFILE=none"));
    unsetenv("MEMWALL_PROFILE");
}

static void this_machines_key(void **state)
{
    (void)state;
    mw_machine_key k;
    mw_err err;
    assert_int_equal(mw_machine_key_read(&k, &err), MW_OK);
    assert_true(k.cpu_model[0] != '\0');
    assert_int_equal(k.cpus, (uint32_t)sysconf(_SC_NPROCESSORS_ONLN));
    assert_true(k.memory_bytes > (64ull << 20));
    assert_string_equal(k.gpu, "none"); /* no NVML */
    mw_machine_key k2;
    assert_int_equal(mw_machine_key_read(&k2, &err), MW_OK);
    assert_memory_equal(&k, &k2, sizeof k); /* stable */
}

/* With NVML (the scripted fake), the first device's name is the key's GPU:
 * a machine with another GPU is another machine. */
static void the_key_names_the_gpu(void **state)
{
    (void)state;
    const char *lib = getenv("MW_FAKE_NVML");
    if (!lib || !*lib) skip();
    char script[256];
    snprintf(script, sizeof script, "%s/nvml.script", dir);
    FILE *f = fopen(script, "w");
    assert_non_null(f);
    fputs("device 0 name=\"Fake H100\" total=80G\ndevice 1 name=\"Other\"\n", f);
    assert_int_equal(fclose(f), 0);
    setenv("MEMWALL_FAKE_NVML_SCRIPT", script, 1);
    setenv("MEMWALL_NVML_LIBRARY", lib, 1);
    mw_machine_key k, none;
    mw_err err;
    mw_status st = mw_machine_key_read(&k, &err);
    setenv("MEMWALL_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1", 1);
    unsetenv("MEMWALL_FAKE_NVML_SCRIPT");
    assert_int_equal(st, MW_OK);
    assert_string_equal(k.gpu, "Fake H100");
    assert_int_equal(mw_machine_key_read(&none, &err), MW_OK);
    assert_string_equal(none.gpu, "none");
    setenv("HOME", "/home/someone", 1);
    unsetenv("XDG_CACHE_HOME");
    unsetenv("MEMWALL_PROFILE");
    char a[512], b[512];
    assert_int_equal(mw_profile_path(&k, a, sizeof a, &err), MW_OK);
    assert_int_equal(mw_profile_path(&none, b, sizeof b, &err), MW_OK);
    assert_string_not_equal(a, b);
}

static void ceilings_from_a_result(void **state)
{
    (void)state;
    mw_roofline_result r;
    mw_roofline_point pt;
    make_result(&r, &pt);
    mw_ceilings c;
    mw_ceilings_from_roofline(&r, &c);
    assert_true(c.dram_read_bytes_per_second == 20e9);
    assert_true(c.peak_flops_f32 == 118e9);
    assert_true(c.peak_flops_bf16 == 390e9);
    assert_true(c.peak_ops_int8 <= 0);
    assert_int_equal(c.threads, 2);
    assert_int_equal(c.noisy, 1);
    assert_string_equal(c.path, "");
    assert_non_null(strstr(c.measured, " UTC"));
    /* a measurement without DRAM (none of its levels) is not a profile */
    use_dir("nodram");
    r.n_levels = 0;
    mw_machine_key k = key_a();
    mw_err err;
    assert_int_equal(mw_profile_save(&r, &k, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "no DRAM read bandwidth"));
    char d[256];
    struct stat st;
    snprintf(d, sizeof d, "%s/nodram/memwall", dir);
    assert_int_not_equal(stat(d, &st), 0);
}

static void round_trip(void **state)
{
    (void)state;
    use_dir("rt/cache");
    mw_roofline_result r;
    mw_roofline_point pt;
    make_result(&r, &pt);
    mw_machine_key k = key_a();
    mw_err err;
    mw_ceilings c;
    assert_int_equal(mw_profile_load(&k, &c, &err), MW_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, "run memwall roofline"));
    assert_int_equal(mw_profile_save(&r, &k, &err), MW_OK);
    char path[512];
    assert_int_equal(mw_profile_path(&k, path, sizeof path, &err), MW_OK);
    struct stat st;
    char d[256];
    snprintf(d, sizeof d, "%s/rt/cache/memwall", dir);
    assert_int_equal(stat(d, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    snprintf(d, sizeof d, "%s/rt", dir);
    assert_int_equal(stat(d, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(mw_profile_load(&k, &c, &err), MW_OK);
    assert_true(fabs(c.dram_read_bytes_per_second - 20e9) < 1);
    assert_true(fabs(c.peak_flops_f32 - 118e9) < 1);
    assert_true(fabs(c.peak_flops_bf16 - 390e9) < 1);
    assert_true(c.peak_ops_int8 <= 0);
    assert_int_equal(c.threads, 2);
    assert_int_equal(c.noisy, 1);
    assert_string_equal(c.path, path);
    assert_int_equal(strlen(c.measured), strlen("2026-12-03 10:04 UTC"));
    assert_non_null(strstr(c.machine, "Test CPU 9000, 2 CPUs, 8.0 GiB, GPU none"));
    /* no temporary left beside it */
    snprintf(d, sizeof d, "%s/rt/cache/memwall", dir);
    DIR *dh = opendir(d);
    assert_non_null(dh);
    int files = 0;
    for (struct dirent *e; (e = readdir(dh));) {
        if (e->d_name[0] == '.') continue;
        files++;
        assert_null(strstr(e->d_name, ".tmp."));
    }
    closedir(dh);
    assert_int_equal(files, 1);
    /* saved again: replaced, still one file */
    assert_int_equal(mw_profile_save(&r, &k, &err), MW_OK);
    assert_int_equal(mw_profile_load(&k, &c, &err), MW_OK);

    /* another machine: not found (its own path has no file) */
    mw_machine_key k2 = k;
    snprintf(k2.gpu, sizeof k2.gpu, "Fake GPU");
    assert_int_equal(mw_profile_load(&k2, &c, &err), MW_ERR_NOT_FOUND);
    /* ... and another machine's file at its path is not used */
    char path2[512];
    assert_int_equal(mw_profile_path(&k2, path2, sizeof path2, &err), MW_OK);
    assert_int_equal(rename(path, path2), 0);
    assert_int_equal(mw_profile_load(&k2, &c, &err), MW_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, "another machine's profile"));
    assert_non_null(strstr(err.msg, path2));
    assert_true(c.dram_read_bytes_per_second <= 0);
    /* MEMWALL_PROFILE=FILE: used whatever its key */
    setenv("MEMWALL_PROFILE", path2, 1);
    assert_int_equal(mw_profile_load(&k, &c, &err), MW_OK);
    assert_string_equal(c.path, path2);
    assert_non_null(strstr(c.machine, "Test CPU 9000"));
    /* MEMWALL_PROFILE=none: nothing read, nothing written */
    setenv("MEMWALL_PROFILE", "none", 1);
    assert_int_equal(mw_profile_load(&k, &c, &err), MW_ERR_NOT_FOUND);
    use_dir("none/cache");
    setenv("MEMWALL_PROFILE", "none", 1);
    assert_int_equal(mw_profile_save(&r, &k, &err), MW_OK);
    snprintf(d, sizeof d, "%s/none", dir);
    assert_int_not_equal(stat(d, &st), 0);
    /* MEMWALL_PROFILE=FILE in a folder not made yet */
    snprintf(d, sizeof d, "%s/new/sub/p.json", dir);
    setenv("MEMWALL_PROFILE", d, 1);
    assert_int_equal(mw_profile_save(&r, &k, &err), MW_OK);
    assert_int_equal(mw_profile_load(&k2, &c, &err), MW_OK);
    unsetenv("MEMWALL_PROFILE");
}

/* The saved document of make_result, parsed (cJSON_Delete it). */
static cJSON *good_doc(void)
{
    char p[256];
    snprintf(p, sizeof p, "%s/good.json", dir);
    setenv("MEMWALL_PROFILE", p, 1);
    mw_roofline_result r;
    mw_roofline_point pt;
    make_result(&r, &pt);
    mw_machine_key k = key_a();
    mw_err err;
    assert_int_equal(mw_profile_save(&r, &k, &err), MW_OK);
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    cJSON *doc = cJSON_Parse(text);
    assert_non_null(doc);
    return doc;
}

/* Writes text as a profile, loads it, and expects MW_ERR_INVALID with the
 * path, `what` and the advice in the message. */
static void expect_damaged(const char *text, const char *what)
{
    char p[256];
    snprintf(p, sizeof p, "%s/bad.json", dir);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    setenv("MEMWALL_PROFILE", p, 1);
    mw_machine_key k = key_a();
    mw_ceilings c;
    mw_err err;
    mw_status st = mw_profile_load(&k, &c, &err);
    if (st != MW_ERR_INVALID || !strstr(err.msg, p) || !strstr(err.msg, what) ||
        !strstr(err.msg, "run memwall roofline --refresh"))
        fail_msg("expected INVALID naming %s and '%s', got %s: %s", p, what, mw_status_name(st), err.msg);
    assert_true(c.dram_read_bytes_per_second <= 0);
    assert_string_equal(c.path, "");
}

/* The good document with one change made by edit, as text. */
static void expect_damaged_edit(void (*edit)(cJSON *), const char *what)
{
    cJSON *doc = good_doc();
    edit(doc);
    char *text = cJSON_Print(doc);
    cJSON_Delete(doc);
    assert_non_null(text);
    expect_damaged(text, what);
    cJSON_free(text);
}

static void set_num(cJSON *o, const char *k, double v) { cJSON_ReplaceItemInObject(o, k, cJSON_CreateNumber(v)); }
static void neg_dram(cJSON *d) { set_num(d, "dram_read_bytes_per_second", -5); }
static void huge_dram(cJSON *d) { set_num(d, "dram_read_bytes_per_second", 1e30); }
static void zero_peak(cJSON *d) { set_num(d, "peak_flops_f32", 0); }
static void string_dram(cJSON *d) { cJSON_ReplaceItemInObject(d, "dram_read_bytes_per_second", cJSON_CreateString("fast")); }
static void no_dram(cJSON *d) { cJSON_DeleteItemFromObject(d, "dram_read_bytes_per_second"); }
static void null_dram(cJSON *d) { cJSON_ReplaceItemInObject(d, "dram_read_bytes_per_second", cJSON_CreateNull()); }
static void wrong_schema(cJSON *d) { cJSON_ReplaceItemInObject(d, "schema", cJSON_CreateString("memwall.sweep/1")); }
static void no_schema(cJSON *d) { cJSON_DeleteItemFromObject(d, "schema"); }
static void no_key(cJSON *d) { cJSON_DeleteItemFromObject(d, "key"); }
static void key_cpus_string(cJSON *d)
{
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(d, "key"), "cpus", cJSON_CreateString("two"));
}
static void no_key_gpu(cJSON *d) { cJSON_DeleteItemFromObject(cJSON_GetObjectItem(d, "key"), "gpu"); }
static void no_measured(cJSON *d) { cJSON_DeleteItemFromObject(d, "measured"); }
static void long_measured(cJSON *d)
{
    cJSON_ReplaceItemInObject(d, "measured", cJSON_CreateString("a date far too long for the field here"));
}
static void neg_threads(cJSON *d) { set_num(d, "threads", -1); }
static void no_peaks(cJSON *d) { cJSON_DeleteItemFromObject(d, "peaks"); }
static void bad_bf16(cJSON *d)
{
    cJSON *a = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "peaks"), "bf16_dot"), "all_threads");
    set_num(a, "best", -3);
}

static void damaged_files(void **state)
{
    (void)state;
    /* cut short anywhere: a truncated file */
    cJSON *doc = good_doc();
    char *text = cJSON_Print(doc);
    cJSON_Delete(doc);
    assert_non_null(text);
    size_t len = strlen(text);
    for (size_t cut = 0; cut < len; cut += len / 37 + 1) {
        char saved = text[cut];
        text[cut] = '\0';
        expect_damaged(text, cut ? "not valid JSON" : "not valid JSON");
        text[cut] = saved;
    }
    cJSON_free(text);
    expect_damaged("[1, 2]", "not a JSON object");
    expect_damaged("\"x\"", "not a JSON object");
    expect_damaged_edit(neg_dram, "\"dram_read_bytes_per_second\" is -5");
    expect_damaged_edit(huge_dram, "\"dram_read_bytes_per_second\" is 1e+30");
    expect_damaged_edit(zero_peak, "\"peak_flops_f32\" is 0");
    expect_damaged_edit(string_dram, "\"dram_read_bytes_per_second\" is a string, not a number");
    expect_damaged_edit(null_dram, "\"dram_read_bytes_per_second\" is null, not a number");
    expect_damaged_edit(no_dram, "\"dram_read_bytes_per_second\" is missing");
    expect_damaged_edit(wrong_schema, "its schema is \"memwall.sweep/1\"");
    expect_damaged_edit(no_schema, "\"schema\" is missing");
    expect_damaged_edit(no_key, "\"key\" is missing, not an object");
    expect_damaged_edit(key_cpus_string, "\"cpus\" is a string");
    expect_damaged_edit(no_key_gpu, "\"gpu\" is missing");
    expect_damaged_edit(no_measured, "\"measured\" is missing");
    expect_damaged_edit(long_measured, "\"measured\" is longer than");
    expect_damaged_edit(neg_threads, "\"threads\" is -1");
    expect_damaged_edit(no_peaks, "\"peaks\" is missing");
    expect_damaged_edit(bad_bf16, "\"peaks\".\"bf16_dot\".\"all_threads\".\"best\" is -3");
    /* not a regular file */
    char p[256];
    snprintf(p, sizeof p, "%s", dir);
    setenv("MEMWALL_PROFILE", p, 1);
    mw_machine_key k = key_a();
    mw_ceilings c;
    mw_err err;
    assert_int_not_equal(mw_profile_load(&k, &c, &err), MW_OK);
    assert_non_null(strstr(err.msg, dir));
    unsetenv("MEMWALL_PROFILE");
}

static void allocation_failures(void **state)
{
    (void)state;
    mw_roofline_result r;
    mw_roofline_point pt;
    make_result(&r, &pt);
    mw_machine_key k = key_a();
    use_dir("alloc");
    mw_err err;
    mw_ceilings c;
    assert_int_equal(mw_profile_save(&r, &k, &err), MW_OK);
    int failed = 0, passed = 0;
    for (uint64_t n = 1; n < 2000 && !passed; n++) {
        mw_mem_fail_after(n);
        mw_status st = mw_profile_save(&r, &k, &err);
        mw_mem_fail_after(0);
        if (st == MW_OK) { passed = 1; break; }
        assert_int_equal(st, MW_ERR_NOMEM);
        failed++;
        /* the profile there before is whole */
        assert_int_equal(mw_profile_load(&k, &c, &err), MW_OK);
    }
    assert_true(passed);
    assert_true(failed > 0);
    failed = passed = 0;
    for (uint64_t n = 1; n < 2000 && !passed; n++) {
        mw_mem_fail_after(n);
        mw_status st = mw_profile_load(&k, &c, &err);
        mw_mem_fail_after(0);
        if (st == MW_OK) { passed = 1; break; }
        if (st != MW_ERR_NOMEM) fail_msg("allocation %llu: %s: %s", (unsigned long long)n, mw_status_name(st), err.msg);
        failed++;
    }
    assert_true(passed);
    assert_true(failed > 0);
    /* no temporaries left by the failed saves */
    char d[256];
    snprintf(d, sizeof d, "%s/alloc/memwall", dir);
    DIR *dh = opendir(d);
    assert_non_null(dh);
    for (struct dirent *e; (e = readdir(dh));) assert_null(strstr(e->d_name, ".tmp."));
    closedir(dh);
}

/* A report written to a memory buffer (caller frees). */
static char *report_text(int json, const mw_run_result *r, const mw_ceilings *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    mw_err err;
    assert_int_equal(json ? mw_run_report_json(r, c, f, &err) : mw_run_report_text(r, c, f, 0, &err), MW_OK);
    fclose(f);
    return buf;
}

/* A decode step of 10 ms that moves 200 MB and does `flops`, against
 * 25 GB/s and 100 GFLOP/s: 0.8 of the bandwidth. */
static void run_step(mw_run_result *r, double bytes, double flops)
{
    memset(r, 0, sizeof *r);
    snprintf(r->model, sizeof r->model, "demo");
    r->batch = 4;
    r->threads = 2;
    r->gen_tokens = 32;
    r->decode_step_seconds = 0.010;
    r->predicted.decode_step_bytes = bytes;
    r->predicted.decode_step_flops = flops;
}

static void run_report_against_the_ceilings(void **state)
{
    (void)state;
    mw_ceilings c;
    memset(&c, 0, sizeof c);
    c.dram_read_bytes_per_second = 25e9;
    c.peak_flops_f32 = 100e9;
    c.peak_flops_bf16 = c.peak_ops_int8 = -1;
    c.threads = 2;
    snprintf(c.measured, sizeof c.measured, "2026-12-03 10:04 UTC");
    snprintf(c.path, sizeof c.path, "/cache/memwall/machine-0123456789abcdef.json");
    snprintf(c.machine, sizeof c.machine, "Test CPU, 2 CPUs, 8.0 GiB, GPU none");
    mw_run_result r;

    run_step(&r, 200e6, 0.1e9); /* 20 GB/s: 0.80; 10 GFLOP/s: 0.10 */
    char *t = report_text(0, &r, &c);
    assert_non_null(strstr(t, "decode: 0.80 of this machine's DRAM read bandwidth (20.0 of 25.0 GB/s), 0.10 of its "
                              "FP32 peak (10.0 of 100.0 GFLOP/s): memory bandwidth binds"));
    assert_non_null(strstr(t, "(machine profile /cache/memwall/machine-0123456789abcdef.json, measured 2026-12-03"));
    free(t);
    t = report_text(1, &r, &c);
    cJSON *j = cJSON_Parse(t);
    free(t);
    assert_non_null(j);
    cJSON *x = cJSON_GetObjectItem(j, "ceilings");
    assert_true(cJSON_IsObject(x));
    assert_true(fabs(cJSON_GetObjectItem(x, "bandwidth_fraction")->valuedouble - 0.8) < 1e-9);
    assert_true(fabs(cJSON_GetObjectItem(x, "compute_fraction")->valuedouble - 0.1) < 1e-9);
    assert_string_equal(cJSON_GetObjectItem(x, "binds")->valuestring, "bandwidth");
    assert_string_equal(cJSON_GetObjectItem(x, "profile")->valuestring, c.path);
    assert_string_equal(cJSON_GetObjectItem(x, "measured")->valuestring, c.measured);
    cJSON_Delete(j);

    run_step(&r, 50e6, 0.6e9); /* 0.20 of bandwidth, 0.60 of compute */
    t = report_text(0, &r, &c);
    assert_non_null(strstr(t, "0.20 of this machine's DRAM read bandwidth"));
    assert_non_null(strstr(t, "0.60 of its FP32 peak (60.0 of 100.0 GFLOP/s): compute binds"));
    free(t);

    run_step(&r, 45e6, 0.27e9); /* 0.18 and 0.27: neither */
    t = report_text(0, &r, &c);
    assert_non_null(strstr(t, ": below both ceilings (0.27 of compute, 0.18 of bandwidth): overhead or parallelism, "
                              "not the hardware"));
    free(t);
    t = report_text(1, &r, &c);
    assert_non_null(strstr(t, "\"binds\":\t\"below_both\""));
    free(t);

    /* exactly MW_CEILING_NEAR binds */
    run_step(&r, 125e6, 0.01e9);
    t = report_text(1, &r, &c);
    assert_non_null(strstr(t, "\"binds\":\t\"bandwidth\""));
    free(t);

    /* no profile */
    t = report_text(0, &r, NULL);
    assert_non_null(strstr(t, "(no machine profile: run memwall roofline to judge against this machine's ceilings)"));
    free(t);
    t = report_text(1, &r, NULL);
    assert_non_null(strstr(t, "\"ceilings\":\tnull"));
    free(t);
    /* --gen 0: the profile, no fractions */
    r.gen_tokens = 0;
    t = report_text(1, &r, &c);
    assert_non_null(strstr(t, "\"bandwidth_fraction\":\tnull"));
    free(t);
}

static void plan_report_on_this_machine(void **state)
{
    (void)state;
    mw_model *m = NULL;
    mw_err err;
    assert_int_equal(mw_model_open("llama-3-8b", &m, &err), MW_OK);
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    o.batch = 2;
    mw_plan p;
    assert_int_equal(mw_plan_compute(m, &o, &p, &err), MW_OK);
    assert_true(p.decode_step_bytes > 0 && p.decode_step_flops > 0);
    mw_ceilings c;
    memset(&c, 0, sizeof c);
    c.dram_read_bytes_per_second = p.decode_step_bytes / 0.5; /* 0.5 s a step */
    c.peak_flops_f32 = p.decode_step_flops / 0.1;             /* 0.1 s */
    snprintf(c.path, sizeof c.path, "/p.json");
    snprintf(c.measured, sizeof c.measured, "2026-12-03 10:04 UTC");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(mw_plan_report_json(m, &p, NULL, 0, &c, f, &err), MW_OK);
    fclose(f);
    cJSON *j = cJSON_Parse(buf);
    free(buf);
    cJSON *x = cJSON_GetObjectItem(j, "on_this_machine");
    assert_true(cJSON_IsObject(x));
    assert_true(fabs(cJSON_GetObjectItem(x, "step_seconds_min")->valuedouble - 0.5) < 1e-9);
    assert_true(fabs(cJSON_GetObjectItem(x, "tokens_per_second_max")->valuedouble - 4.0) < 1e-9);
    assert_string_equal(cJSON_GetObjectItem(x, "binds")->valuestring, "bandwidth");
    cJSON_Delete(j);
    /* compute the longer: compute binds */
    c.peak_flops_f32 = p.decode_step_flops / 2.0;
    f = open_memstream(&buf, &len);
    assert_int_equal(mw_plan_report_text(m, &p, NULL, 0, &c, f, 0, &err), MW_OK);
    fclose(f);
    assert_non_null(strstr(buf, "on this machine: at most 1 tokens/s at batch 2, a decode step taking at least "
                                "2.00 s: compute binds"));
    free(buf);
    /* no profile: nothing in the text, null in JSON */
    f = open_memstream(&buf, &len);
    assert_int_equal(mw_plan_report_text(m, &p, NULL, 0, NULL, f, 0, &err), MW_OK);
    fclose(f);
    assert_null(strstr(buf, "on this machine"));
    free(buf);
    f = open_memstream(&buf, &len);
    assert_int_equal(mw_plan_report_json(m, &p, NULL, 0, NULL, f, &err), MW_OK);
    fclose(f);
    assert_non_null(strstr(buf, "\"on_this_machine\":\tnull"));
    free(buf);
    mw_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(path_from_the_environment),
        cmocka_unit_test(this_machines_key),
        cmocka_unit_test(the_key_names_the_gpu),
        cmocka_unit_test(ceilings_from_a_result),
        cmocka_unit_test(round_trip),
        cmocka_unit_test(damaged_files),
        cmocka_unit_test(allocation_failures),
        cmocka_unit_test(run_report_against_the_ceilings),
        cmocka_unit_test(plan_report_on_this_machine),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
