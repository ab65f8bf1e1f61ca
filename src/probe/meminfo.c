/* meminfo.c - how much memory this machine has: /proc/meminfo, our own
 * cgroup's cap, and each GPU's through NVML (when present). */
#include "memwall.h"
#include "cgroup.h"
#include "nvml.h"
#include "common/error.h"
#include "common/fileio.h"

#include <stdio.h>
#include <string.h>

/* Our cgroup's memory cap: v2 memory.max, v1 memory.limit_in_bytes (v1
 * reports "no limit" as a huge number rounded to the page size). */
static uint64_t own_cgroup_limit(void)
{
    mw_cgroup_fs fs;
    if (mw_cgroup_fs_detect(&fs, NULL) != MW_OK) return MW_UNLIMITED;
    char path[2 * PATH_MAX + 32];
    snprintf(path, sizeof path, "%s%s/%s", fs.mount, strcmp(fs.self, "/") ? fs.self : "",
             fs.version == MW_CGROUP_V2 ? "memory.max" : "memory.limit_in_bytes");
    uint64_t v;
    if (mw_read_u64(path, &v, NULL) != MW_OK) return MW_UNLIMITED;
    return v >= (1ull << 60) ? MW_UNLIMITED : v;
}

mw_status mw_machine_memory_read(mw_machine_memory *out, mw_err *err)
{
    memset(out, 0, sizeof *out);
    char buf[8192];
    MW_FORWARD(mw_read_text("/proc/meminfo", buf, sizeof buf, NULL, err));
    uint64_t kb;
    MW_RETURN_IF(!mw_text_field_u64(buf, "MemTotal", &kb), err, MW_ERR_INVALID,
                 "/proc/meminfo has no MemTotal line");
    out->host_total_bytes = kb * 1024;
    /* MemAvailable exists since Linux 3.14; MemFree is the fallback. */
    if (mw_text_field_u64(buf, "MemAvailable", &kb) || mw_text_field_u64(buf, "MemFree", &kb))
        out->host_available_bytes = kb * 1024;
    out->cgroup_limit_bytes = own_cgroup_limit();
    if (out->cgroup_limit_bytes != MW_UNLIMITED &&
        out->cgroup_limit_bytes < out->host_available_bytes)
        out->host_available_bytes = out->cgroup_limit_bytes;

    mw_nvml *nv = NULL;
    if (mw_nvml_open(&nv, NULL) == MW_OK) {
        uint32_t n = mw_nvml_device_count(nv);
        for (uint32_t d = 0; d < n && out->n_gpus < 8; d++) {
            mw_gpu_memory mem;
            if (mw_nvml_device_memory(nv, d, &mem, NULL) != MW_OK) continue;
            snprintf(out->gpus[out->n_gpus].name, sizeof out->gpus[0].name, "%s", mem.name);
            out->gpus[out->n_gpus].total_bytes = mem.total_bytes;
            out->gpus[out->n_gpus].free_bytes = mem.free_bytes;
            out->n_gpus++;
        }
        mw_nvml_close(nv);
    }
    return MW_OK;
}
