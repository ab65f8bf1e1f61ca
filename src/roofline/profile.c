/*
 * profile.c - this machine's profile: the key that says which machine a
 * roofline was measured on, where its profile is kept, and the ceilings a
 * measurement gives (docs/ROOFLINE.md, "The machine profile"). Writing and
 * reading the file is the report layer's (report/profile_file.c): the file
 * is the roofline's JSON report, which only report builds.
 */
#include "memwall.h"
#include "roofline/profile.h"
#include "probe/nvml.h"
#include "common/error.h"
#include "common/fileio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void mw_ceilings_from_roofline(const mw_roofline_result *r, mw_ceilings *out)
{
    memset(out, 0, sizeof *out);
    out->dram_read_bytes_per_second = -1;
    out->peak_flops_f32 = out->peak_flops_bf16 = out->peak_ops_int8 = -1;
    if (!r) return;
    if (r->n_levels > 0) {
        const mw_roofline_figure *d = &r->levels[r->n_levels - 1].bw[MW_RL_READ][1];
        if (d->max > 0) {
            out->dram_read_bytes_per_second = d->max;
            out->noisy |= d->noisy;
        }
    }
    if (r->flops_f32[1].max > 0) {
        out->peak_flops_f32 = r->flops_f32[1].max;
        out->noisy |= r->flops_f32[1].noisy;
    }
    if (r->flops_bf16[1].max > 0) out->peak_flops_bf16 = r->flops_bf16[1].max;
    if (r->ops_int8[1].max > 0) out->peak_ops_int8 = r->ops_int8[1].max;
    out->threads = r->threads;
    /* the slow tier streamed weights are read from (issue #15) */
    out->disk_read_bytes_per_second = -1;
    if (r->n_tiers > MW_TIER_DISK_COLD && r->tiers[MW_TIER_DISK_COLD].bw.max > 0)
        out->disk_read_bytes_per_second = r->tiers[MW_TIER_DISK_COLD].bw.max;
    mw_profile_time_text(time(NULL), out->measured, sizeof out->measured);
}

void mw_profile_time_text(time_t t, char *buf, size_t cap)
{
    struct tm tm;
    if (cap == 0) return;
    buf[0] = '\0';
    if (gmtime_r(&t, &tm)) strftime(buf, cap, "%Y-%m-%d %H:%M UTC", &tm);
}

/* ---- the key ------------------------------------------------------------- */

/* Copies the value of a "name\t: value" line of /proc/cpuinfo into out
 * (trimmed, fit for a message) when line is that field; 1 when it was. */
static int cpuinfo_field(const char *line, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    if (strncmp(line, name, n) != 0) return 0;
    const char *p = line + n;
    while (*p == ' ' || *p == '\t') p++;
    if (*p != ':') return 0;
    p++;
    while (*p == ' ' || *p == '\t') p++;
    size_t len = strcspn(p, "\n");
    while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\r')) len--;
    if (len == 0) return 0;
    mw_shown(p, len, out, cap);
    return 1;
}

/* The CPU's name: x86's "model name"; arm64 has none, so "Hardware" (older
 * kernels) or the implementer and part numbers; else "unknown". */
static void read_cpu_model(char *out, size_t cap)
{
    snprintf(out, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "re");
    if (!f) return;
    char line[512], model[128] = "", hardware[128] = "", part[32] = "", implementer[32] = "";
    while (fgets(line, sizeof line, f)) {
        if (!model[0] && cpuinfo_field(line, "model name", model, sizeof model)) break;
        if (!hardware[0]) cpuinfo_field(line, "Hardware", hardware, sizeof hardware);
        if (!part[0]) cpuinfo_field(line, "CPU part", part, sizeof part);
        if (!implementer[0]) cpuinfo_field(line, "CPU implementer", implementer, sizeof implementer);
    }
    fclose(f);
    if (model[0]) snprintf(out, cap, "%s", model);
    else if (hardware[0]) snprintf(out, cap, "%s", hardware);
    else if (part[0]) snprintf(out, cap, "CPU implementer %s part %s", implementer[0] ? implementer : "?", part);
}

mw_status mw_machine_key_read(mw_machine_key *out, mw_err *err)
{
    MW_RETURN_IF(!out, err, MW_ERR_INVALID, "mw_machine_key_read: out is NULL");
    memset(out, 0, sizeof *out);
    read_cpu_model(out->cpu_model, sizeof out->cpu_model);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    out->cpus = n > 0 ? (uint32_t)n : 1;
    char buf[8192];
    MW_FORWARD(mw_read_text("/proc/meminfo", buf, sizeof buf, NULL, err));
    uint64_t kb;
    MW_RETURN_IF(!mw_text_field_u64(buf, "MemTotal", &kb), err, MW_ERR_INVALID,
                 "/proc/meminfo has no MemTotal line: this machine's key cannot be made");
    out->memory_bytes = kb * 1024;
    snprintf(out->gpu, sizeof out->gpu, "none");
    mw_nvml *nv = NULL;
    if (mw_nvml_open(&nv, NULL) == MW_OK) {
        if (mw_nvml_device_count(nv) > 0) {
            mw_gpu_memory mem;
            /* the name is filled even when the memory query fails */
            (void)mw_nvml_device_memory(nv, 0, &mem, NULL);
            if (mem.name[0]) mw_shown_str(mem.name, out->gpu, sizeof out->gpu);
            else snprintf(out->gpu, sizeof out->gpu, "GPU 0");
        }
        mw_nvml_close(nv);
    }
    return MW_OK;
}

uint64_t mw_machine_key_hash(const mw_machine_key *k)
{
    /* FNV-1a, 64 bits, over the fields as text: "model\ncpus\nbytes\ngpu" */
    char text[96 + 96 + 48];
    int len = snprintf(text, sizeof text, "%s\n%u\n%llu\n%s", k->cpu_model, k->cpus,
                       (unsigned long long)k->memory_bytes, k->gpu);
    if (len < 0) len = 0;
    if ((size_t)len >= sizeof text) len = (int)sizeof text - 1;
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < len; i++) {
        h ^= (unsigned char)text[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

void mw_machine_key_describe(const mw_machine_key *k, char *buf, size_t cap)
{
    double gib = (double)k->memory_bytes / (double)(1ull << 30);
    snprintf(buf, cap, "%s, %u CPUs, %.1f GiB, GPU %s", k->cpu_model, k->cpus, gib, k->gpu);
}

/* ---- where the profile is ------------------------------------------------ */

mw_status mw_profile_locate(const mw_machine_key *k, char *buf, size_t cap, int *overridden, mw_err *err)
{
    MW_RETURN_IF(!buf || cap == 0, err, MW_ERR_INVALID, "mw_profile_path: no buffer");
    buf[0] = '\0';
    if (overridden) *overridden = 0;
    const char *env = getenv("MEMWALL_PROFILE");
    if (env && *env) {
        MW_RETURN_IF(!strcmp(env, "none"), err, MW_ERR_NOT_FOUND,
                     "MEMWALL_PROFILE=none: no machine profile is read or written");
        MW_RETURN_IF(strlen(env) >= cap, err, MW_ERR_INVALID,
                     "MEMWALL_PROFILE: the path is longer than %zu bytes: give a shorter one", cap - 1);
        snprintf(buf, cap, "%s", env);
        if (overridden) *overridden = 1;
        return MW_OK;
    }
    MW_RETURN_IF(!k, err, MW_ERR_INVALID, "mw_profile_path: no machine key");
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n;
    /* the XDG base directory spec: a relative XDG_CACHE_HOME is invalid and
     * ignored */
    if (xdg && xdg[0] == '/') {
        n = snprintf(buf, cap, "%s/memwall/machine-%016llx.json", xdg,
                     (unsigned long long)mw_machine_key_hash(k));
    } else {
        MW_RETURN_IF(!home || home[0] != '/', err, MW_ERR_UNAVAILABLE,
                     "no place for this machine's profile: neither XDG_CACHE_HOME nor HOME is an absolute "
                     "path (set one, or MEMWALL_PROFILE=FILE)");
        n = snprintf(buf, cap, "%s/.cache/memwall/machine-%016llx.json", home,
                     (unsigned long long)mw_machine_key_hash(k));
    }
    if (n < 0 || (size_t)n >= cap) {
        buf[0] = '\0';
        return mw_err_set(err, MW_ERR_INVALID,
                          "the machine profile's path would be longer than %zu bytes: set XDG_CACHE_HOME or "
                          "MEMWALL_PROFILE to a shorter path", cap - 1);
    }
    return MW_OK;
}

mw_status mw_profile_path(const mw_machine_key *k, char *buf, size_t cap, mw_err *err)
{
    return mw_profile_locate(k, buf, cap, NULL, err);
}
