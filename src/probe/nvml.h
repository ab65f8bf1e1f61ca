/*
 * nvml.h - GPU memory through NVML, loaded at run time.
 *
 * No build dependency on the NVIDIA driver: libnvidia-ml.so.1 (then
 * libnvidia-ml.so) is dlopen'ed and each function dlsym'ed, newest version
 * first. The few NVML types needed are declared in nvml.c (as nvtop does).
 * MEMWALL_NVML_LIBRARY=PATH loads another library instead: the test suite's
 * scripted fake (tests/fake_nvml.c).
 *
 * No library, no driver or no device is not an error for callers: open()
 * returns MW_ERR_UNAVAILABLE and GPU figures are reported as unknown.
 */
#ifndef MW_PROBE_NVML_H
#define MW_PROBE_NVML_H

#include "memwall.h"

typedef struct mw_nvml mw_nvml;

typedef struct mw_gpu_memory {
    char     name[96];
    uint64_t total_bytes;
    uint64_t used_bytes;        /* v2 semantics: excludes reserved       */
    uint64_t reserved_bytes;    /* MW_UNKNOWN with the v1 call           */
    uint64_t free_bytes;
} mw_gpu_memory;

typedef struct mw_gpu_process {
    uint32_t pid;               /* host PID                              */
    uint64_t used_bytes;        /* MW_UNKNOWN when NVML says N/A         */
} mw_gpu_process;

mw_status mw_nvml_open(mw_nvml **out, mw_err *err);
void      mw_nvml_close(mw_nvml *nvml);
uint32_t  mw_nvml_device_count(const mw_nvml *nvml);

/* Device memory (nvmlDeviceGetMemoryInfo_v2, version 0x02000028; falls back
 * to nvmlDeviceGetMemoryInfo). The name is read once at open. */
mw_status mw_nvml_device_memory(mw_nvml *nvml, uint32_t index,
                                mw_gpu_memory *out, mw_err *err);

/* Processes using the device: compute, graphics and MPS compute lists
 * merged, one entry per PID (memory summed). Grows its internal buffer on
 * NVML_ERROR_INSUFFICIENT_SIZE. *n gets the count (may exceed cap). */
mw_status mw_nvml_device_processes(mw_nvml *nvml, uint32_t index,
                                   mw_gpu_process *procs, size_t cap,
                                   size_t *n, mw_err *err);

#endif /* MW_PROBE_NVML_H */
