/*
 * nvml.c - GPU memory through NVML, loaded at run time (see nvml.h).
 *
 * The NVML types are declared here with NVIDIA's layouts and tag names, so
 * there is no build dependency on the driver (nvtop does the same). Each
 * function is dlsym'ed newest version first.
 *
 * Process lists come in three layouts, all with pid at the start and
 * usedGpuMemory next:
 *   unversioned   nvmlProcessInfo_v1_t  {pid, used}                    16 B
 *   _v2, _v3      nvmlProcessInfo_t     {pid, used, gpuInst, compInst} 24 B
 *   _v3 on r530   + usedGpuCcProtectedMemory                           32 B
 * The r530 drivers briefly shipped _v3 with the 32-byte struct (NVIDIA moved
 * that field to nvmlProcessDetail_v1_t in r535). They are told apart the way
 * nvitop does: nvmlDeviceGetConfComputeMemSizeInfo present and
 * nvmlDeviceGetRunningProcessDetailList absent. Whatever the layout, the
 * buffer handed to NVML holds `count` entries of the largest one, so a wrong
 * guess can garble figures but never overrun memory.
 */
#include "probe/nvml.h"

#include "common/error.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "nvml_abi.h"

typedef nvmlReturn_t (*nvml_void_fn)(void);
typedef const char *(*nvml_errstr_fn)(nvmlReturn_t);
typedef nvmlReturn_t (*nvml_count_fn)(unsigned int *);
typedef nvmlReturn_t (*nvml_handle_fn)(unsigned int, nvmlDevice_t *);
typedef nvmlReturn_t (*nvml_name_fn)(nvmlDevice_t, char *, unsigned int);
typedef nvmlReturn_t (*nvml_mem1_fn)(nvmlDevice_t, nvmlMemory_t *);
typedef nvmlReturn_t (*nvml_mem2_fn)(nvmlDevice_t, nvmlMemory_v2_t *);
typedef nvmlReturn_t (*nvml_procs1_fn)(nvmlDevice_t, unsigned int *, nvmlProcessInfo_v1_t *);
typedef nvmlReturn_t (*nvml_procs_fn)(nvmlDevice_t, unsigned int *, nvmlProcessInfo_t *);
typedef nvmlReturn_t (*nvml_procs_cc_fn)(nvmlDevice_t, unsigned int *, nvmlProcessInfo_cc_t *);

/* ---- the handle ---------------------------------------------------------- */

/* The most entries one process list may have; more is treated as an error. */
#define MW_NVML_MAX_PROCS 65536u
/* Calls per list before giving up on a list that keeps growing. */
#define MW_NVML_MAX_TRIES 8

enum { PROC_COMPUTE, PROC_GRAPHICS, PROC_MPS, PROC_LISTS };

static const char *const list_base_names[PROC_LISTS] = {
    "nvmlDeviceGetComputeRunningProcesses",
    "nvmlDeviceGetGraphicsRunningProcesses",
    "nvmlDeviceGetMPSComputeRunningProcesses",
};

typedef struct proc_list_api {
    nvml_procs_fn v3;               /* _v3 with nvmlProcessInfo_t ...          */
    nvml_procs_cc_fn v3cc;          /* ... or, on r530 drivers, the 32-byte one */
    nvml_procs_fn v2;
    nvml_procs1_fn v1;
    int level;                      /* newest version still in use: 3, 2, 1; 0 none */
} proc_list_api;

typedef struct nvml_dev {
    nvmlDevice_t handle;
    int ok;                         /* the handle was obtained */
    int mem_v1;                     /* use nvmlDeviceGetMemoryInfo from now on */
    char name[NVML_DEVICE_NAME_BUFFER];
} nvml_dev;

typedef struct merged_proc {
    uint32_t pid;
    uint32_t known;                 /* 1: sum holds a figure */
    uint64_t sum;
} merged_proc;

struct mw_nvml {
    void *lib;
    int inited;

    nvml_void_fn shutdown;
    nvml_errstr_fn error_string;
    nvml_name_fn get_name;
    nvml_mem1_fn mem_v1;
    nvml_mem2_fn mem_v2;            /* NULL when absent */
    proc_list_api lists[PROC_LISTS];
    int v3_cc;                      /* _v3 fills the 32-byte r530 struct */

    uint32_t ndev;
    nvml_dev *devs;

    /* Kept between calls: raw NVML entries and the merge table. */
    void *raw;
    size_t raw_cap;                 /* entries (of the largest layout) */
    merged_proc *merged;
    size_t merged_cap;
};

/* dlsym into a function pointer without a pedantic object-to-function cast. */
#define LOAD_SYM(lib, fnptr, name) (*(void **)(&(fnptr)) = dlsym((lib), (name)))

static const char *nv_strerror(const mw_nvml *nv, nvmlReturn_t rc)
{
    const char *s = nv->error_string ? nv->error_string(rc) : NULL;
    return s ? s : "unknown NVML error";
}

static mw_status nv_status(nvmlReturn_t rc)
{
    switch (rc) {
    case NVML_ERROR_NOT_SUPPORTED:
    case NVML_ERROR_FUNCTION_NOT_FOUND: return MW_ERR_UNSUPPORTED;
    case NVML_ERROR_NO_PERMISSION: return MW_ERR_PERMISSION;
    default: return MW_ERR_IO;
    }
}

/* ---- open / close -------------------------------------------------------- */

static mw_status load_library(mw_nvml *nv, mw_err *err)
{
    const char *path = getenv("MEMWALL_NVML_LIBRARY");
    if (path && *path) {
        nv->lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!nv->lib) {
            const char *why = dlerror();
            return mw_err_set(err, MW_ERR_UNAVAILABLE,
                              "MEMWALL_NVML_LIBRARY=%s cannot be loaded: %s: GPU figures omitted",
                              path, why ? why : "unknown error");
        }
        return MW_OK;
    }
    nv->lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!nv->lib) nv->lib = dlopen("libnvidia-ml.so", RTLD_NOW | RTLD_LOCAL);
    if (!nv->lib)
        return mw_err_set(err, MW_ERR_UNAVAILABLE,
                          "NVML not found (no NVIDIA driver): GPU figures omitted");
    return MW_OK;
}

/* Moves l->level to the next older version present (0: none left). */
static void lower_level(proc_list_api *l)
{
    for (l->level--; l->level > 0; l->level--) {
        if (l->level == 3 && (l->v3 || l->v3cc)) return;
        if (l->level == 2 && l->v2) return;
        if (l->level == 1 && l->v1) return;
    }
}

static mw_status missing_symbol(mw_err *err, const char *name)
{
    return mw_err_set(err, MW_ERR_UNAVAILABLE,
                      "NVML library lacks %s (driver too old?): GPU figures omitted", name);
}

static mw_status load_symbols(mw_nvml *nv, nvml_void_fn *init, nvml_count_fn *count,
                              nvml_handle_fn *handle, mw_err *err)
{
    void *lib = nv->lib;

    if (!LOAD_SYM(lib, *init, "nvmlInit_v2") && !LOAD_SYM(lib, *init, "nvmlInit"))
        return missing_symbol(err, "nvmlInit");
    if (!LOAD_SYM(lib, nv->shutdown, "nvmlShutdown"))
        return missing_symbol(err, "nvmlShutdown");
    LOAD_SYM(lib, nv->error_string, "nvmlErrorString"); /* optional: messages only */
    if (!LOAD_SYM(lib, *count, "nvmlDeviceGetCount_v2") &&
        !LOAD_SYM(lib, *count, "nvmlDeviceGetCount"))
        return missing_symbol(err, "nvmlDeviceGetCount");
    if (!LOAD_SYM(lib, *handle, "nvmlDeviceGetHandleByIndex_v2") &&
        !LOAD_SYM(lib, *handle, "nvmlDeviceGetHandleByIndex"))
        return missing_symbol(err, "nvmlDeviceGetHandleByIndex");
    if (!LOAD_SYM(lib, nv->get_name, "nvmlDeviceGetName"))
        return missing_symbol(err, "nvmlDeviceGetName");
    LOAD_SYM(lib, nv->mem_v2, "nvmlDeviceGetMemoryInfo_v2");
    if (!LOAD_SYM(lib, nv->mem_v1, "nvmlDeviceGetMemoryInfo"))
        return missing_symbol(err, "nvmlDeviceGetMemoryInfo");

    nv->v3_cc = dlsym(lib, "nvmlDeviceGetConfComputeMemSizeInfo") != NULL &&
                dlsym(lib, "nvmlDeviceGetRunningProcessDetailList") == NULL;
    for (int i = 0; i < PROC_LISTS; i++) {
        proc_list_api *l = &nv->lists[i];
        char name[64];
        snprintf(name, sizeof name, "%s_v3", list_base_names[i]);
        if (nv->v3_cc) LOAD_SYM(lib, l->v3cc, name);
        else LOAD_SYM(lib, l->v3, name);
        snprintf(name, sizeof name, "%s_v2", list_base_names[i]);
        LOAD_SYM(lib, l->v2, name);
        LOAD_SYM(lib, l->v1, list_base_names[i]);
        l->level = 4;
        lower_level(l);
    }
    if (nv->lists[PROC_COMPUTE].level == 0)
        return missing_symbol(err, list_base_names[PROC_COMPUTE]);
    return MW_OK;
}

mw_status mw_nvml_open(mw_nvml **out, mw_err *err)
{
    MW_RETURN_IF(!out, err, MW_ERR_INVALID, "mw_nvml_open: out is NULL");
    *out = NULL;

    mw_nvml *nv = mw_calloc(1, sizeof *nv, MW_MEM_PROBE);
    MW_RETURN_IF(!nv, err, MW_ERR_NOMEM, "NVML: out of memory for the handle");

    nvml_void_fn init = NULL;
    nvml_count_fn get_count = NULL;
    nvml_handle_fn get_handle = NULL;
    mw_status st = load_library(nv, err);
    if (st == MW_OK) st = load_symbols(nv, &init, &get_count, &get_handle, err);
    if (st != MW_OK) goto fail;

    nvmlReturn_t rc = init();
    if (rc != NVML_SUCCESS) {
        st = mw_err_set(err, MW_ERR_UNAVAILABLE, "nvmlInit: %s (NVML error %d): GPU figures omitted",
                        nv_strerror(nv, rc), rc);
        goto fail;
    }
    nv->inited = 1;

    unsigned int count = 0;
    rc = get_count(&count);
    if (rc != NVML_SUCCESS) {
        st = mw_err_set(err, MW_ERR_UNAVAILABLE,
                        "nvmlDeviceGetCount: %s (NVML error %d): GPU figures omitted",
                        nv_strerror(nv, rc), rc);
        goto fail;
    }
    if (count > 0) {
        nv->devs = mw_calloc(count, sizeof *nv->devs, MW_MEM_PROBE);
        if (!nv->devs) {
            st = mw_err_set(err, MW_ERR_NOMEM, "NVML: out of memory for %u devices", count);
            goto fail;
        }
    }
    nv->ndev = count;

    /* A device we may not open (cgroup device rules, fallen off the bus)
     * keeps its index; queries on it say why. */
    for (unsigned int i = 0; i < count; i++) {
        nvml_dev *d = &nv->devs[i];
        if (get_handle(i, &d->handle) != NVML_SUCCESS) {
            snprintf(d->name, sizeof d->name, "GPU %u (unavailable)", i);
            continue;
        }
        d->ok = 1;
        if (nv->get_name(d->handle, d->name, sizeof d->name) != NVML_SUCCESS)
            snprintf(d->name, sizeof d->name, "GPU %u", i);
        d->name[sizeof d->name - 1] = '\0';
    }

    *out = nv;
    return MW_OK;

fail:
    mw_nvml_close(nv);
    return st;
}

void mw_nvml_close(mw_nvml *nv)
{
    if (!nv) return;
    if (nv->inited) nv->shutdown();
    if (nv->lib) dlclose(nv->lib);
    mw_free(nv->devs);
    mw_free(nv->raw);
    mw_free(nv->merged);
    mw_free(nv);
}

uint32_t mw_nvml_device_count(const mw_nvml *nv)
{
    return nv ? nv->ndev : 0;
}

static mw_status check_device(const mw_nvml *nv, uint32_t index, mw_err *err)
{
    MW_RETURN_IF(!nv, err, MW_ERR_INVALID, "NVML: no handle");
    MW_RETURN_IF(index >= nv->ndev, err, MW_ERR_INVALID,
                 "NVML: device %u does not exist (%u devices)", index, nv->ndev);
    MW_RETURN_IF(!nv->devs[index].ok, err, MW_ERR_UNAVAILABLE,
                 "NVML: device %u could not be opened", index);
    return MW_OK;
}

/* ---- device memory ------------------------------------------------------- */

mw_status mw_nvml_device_memory(mw_nvml *nv, uint32_t index, mw_gpu_memory *out, mw_err *err)
{
    MW_RETURN_IF(!out, err, MW_ERR_INVALID, "mw_nvml_device_memory: out is NULL");
    memset(out, 0, sizeof *out);
    out->total_bytes = out->used_bytes = out->reserved_bytes = out->free_bytes = MW_UNKNOWN;
    if (nv && index < nv->ndev) memcpy(out->name, nv->devs[index].name, sizeof out->name);
    MW_FORWARD(check_device(nv, index, err));
    nvml_dev *d = &nv->devs[index];

    if (nv->mem_v2 && !d->mem_v1) {
        nvmlMemory_v2_t m;
        memset(&m, 0, sizeof m);
        m.version = NVML_MEMORY_V2_VERSION;
        nvmlReturn_t rc = nv->mem_v2(d->handle, &m);
        if (rc == NVML_SUCCESS) {
            out->total_bytes = m.total;
            out->used_bytes = m.used;
            out->reserved_bytes = m.reserved;
            out->free_bytes = m.free;
            return MW_OK;
        }
        if (rc != NVML_ERROR_NOT_SUPPORTED && rc != NVML_ERROR_FUNCTION_NOT_FOUND &&
            rc != NVML_ERROR_ARGUMENT_VERSION_MISMATCH)
            return mw_err_set(err, nv_status(rc), "nvmlDeviceGetMemoryInfo_v2 on GPU %u: %s",
                              index, nv_strerror(nv, rc));
        d->mem_v1 = 1;
    }

    nvmlMemory_t m;
    memset(&m, 0, sizeof m);
    nvmlReturn_t rc = nv->mem_v1(d->handle, &m);
    if (rc != NVML_SUCCESS)
        return mw_err_set(err, nv_status(rc), "nvmlDeviceGetMemoryInfo on GPU %u: %s", index,
                          nv_strerror(nv, rc));
    out->total_bytes = m.total;
    out->used_bytes = m.used;
    out->reserved_bytes = MW_UNKNOWN;
    out->free_bytes = m.free;
    return MW_OK;
}

/* ---- device processes ---------------------------------------------------- */

static void entry_at(const mw_nvml *nv, int level, size_t i, uint32_t *pid, uint64_t *used)
{
    unsigned long long u;
    if (level == 1) {
        const nvmlProcessInfo_v1_t *e = (const nvmlProcessInfo_v1_t *)nv->raw + i;
        *pid = e->pid;
        u = e->usedGpuMemory;
    } else if (level == 3 && nv->v3_cc) {
        const nvmlProcessInfo_cc_t *e = (const nvmlProcessInfo_cc_t *)nv->raw + i;
        *pid = e->pid;
        u = e->usedGpuMemory;
    } else {
        const nvmlProcessInfo_t *e = (const nvmlProcessInfo_t *)nv->raw + i;
        *pid = e->pid;
        u = e->usedGpuMemory;
    }
    *used = u == NVML_VALUE_NOT_AVAILABLE ? MW_UNKNOWN : (uint64_t)u;
}

static nvmlReturn_t list_call(const mw_nvml *nv, const proc_list_api *l, nvmlDevice_t dev,
                              unsigned int *count)
{
    switch (l->level) {
    case 3:
        if (l->v3cc) return l->v3cc(dev, count, *count ? nv->raw : NULL);
        return l->v3(dev, count, *count ? nv->raw : NULL);
    case 2: return l->v2(dev, count, *count ? nv->raw : NULL);
    default: return l->v1(dev, count, *count ? nv->raw : NULL);
    }
}

/* Makes room for n raw entries of any layout. */
static mw_status grow_raw(mw_nvml *nv, size_t n, mw_err *err)
{
    if (n <= nv->raw_cap) return MW_OK;
    void *p = mw_realloc(nv->raw, n * sizeof(nvmlProcessInfo_cc_t), MW_MEM_PROBE);
    MW_RETURN_IF(!p, err, MW_ERR_NOMEM, "NVML: out of memory for %zu process entries", n);
    nv->raw = p;
    nv->raw_cap = n;
    return MW_OK;
}

static mw_status grow_merged(mw_nvml *nv, size_t n, mw_err *err)
{
    if (n <= nv->merged_cap) return MW_OK;
    merged_proc *p = mw_realloc(nv->merged, n * sizeof *p, MW_MEM_PROBE);
    MW_RETURN_IF(!p, err, MW_ERR_NOMEM, "NVML: out of memory for %zu processes", n);
    nv->merged = p;
    nv->merged_cap = n;
    return MW_OK;
}

static const char *list_version_suffix(int level)
{
    return level == 3 ? "_v3" : level == 2 ? "_v2" : "";
}

/* Reads one list of device `index` into nv->raw. *got: entries read.
 * *skipped: the list is not supported (nothing read). */
static mw_status fetch_list(mw_nvml *nv, int which, uint32_t index, size_t *got, int *skipped,
                            nvmlReturn_t *skip_rc, mw_err *err)
{
    proc_list_api *l = &nv->lists[which];
    nvmlDevice_t dev = nv->devs[index].handle;
    *got = 0;
    *skipped = 0;

    int tries = 0;
    while (l->level > 0) {
        size_t cap = nv->raw_cap < MW_NVML_MAX_PROCS ? nv->raw_cap : MW_NVML_MAX_PROCS;
        unsigned int count = (unsigned int)cap;
        nvmlReturn_t rc = list_call(nv, l, dev, &count);
        if (rc == NVML_SUCCESS) {
            *got = count <= cap ? count : cap; /* never trust more than we gave */
            return MW_OK;
        }
        if (rc == NVML_ERROR_FUNCTION_NOT_FOUND || rc == NVML_ERROR_ARGUMENT_VERSION_MISMATCH) {
            /* The symbol exists but this driver does not implement it: use
             * the next older version of this list from now on. */
            lower_level(l);
            continue;
        }
        if (rc == NVML_ERROR_NOT_SUPPORTED || rc == NVML_ERROR_NO_PERMISSION) {
            *skipped = 1;
            *skip_rc = rc;
            return MW_OK;
        }
        if (rc != NVML_ERROR_INSUFFICIENT_SIZE)
            return mw_err_set(err, nv_status(rc), "%s%s on GPU %u: %s", list_base_names[which],
                              list_version_suffix(l->level), index, nv_strerror(nv, rc));

        /* Too small: grow to what NVML asked for, with slack for processes
         * starting between the calls, and ask again. */
        MW_RETURN_IF(++tries >= MW_NVML_MAX_TRIES, err, MW_ERR_IO,
                     "%s on GPU %u: the process list kept growing (%u entries)",
                     list_base_names[which], index, count);
        MW_RETURN_IF(count > MW_NVML_MAX_PROCS, err, MW_ERR_IO,
                     "%s on GPU %u: NVML reports %u processes (more than %u)",
                     list_base_names[which], index, count, MW_NVML_MAX_PROCS);
        size_t want = (size_t)count + count / 4 + 8;
        if (want <= cap) want = cap * 2; /* NVML said too small without a larger count */
        if (want > MW_NVML_MAX_PROCS) want = MW_NVML_MAX_PROCS;
        MW_FORWARD(grow_raw(nv, want, err));
    }
    *skipped = 1;
    *skip_rc = NVML_ERROR_FUNCTION_NOT_FOUND;
    return MW_OK;
}

static int cmp_merged(const void *a, const void *b)
{
    const merged_proc *x = a, *y = b;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

mw_status mw_nvml_device_processes(mw_nvml *nv, uint32_t index, mw_gpu_process *procs,
                                   size_t cap, size_t *n, mw_err *err)
{
    MW_RETURN_IF(!n, err, MW_ERR_INVALID, "mw_nvml_device_processes: n is NULL");
    *n = 0;
    MW_RETURN_IF(cap > 0 && !procs, err, MW_ERR_INVALID,
                 "mw_nvml_device_processes: procs is NULL");
    MW_FORWARD(check_device(nv, index, err));

    size_t total = 0;
    int any_read = 0;
    nvmlReturn_t skip_rc = NVML_ERROR_NOT_SUPPORTED;
    for (int which = 0; which < PROC_LISTS; which++) {
        if (nv->lists[which].level == 0) continue;
        size_t got = 0;
        int skipped = 0;
        MW_FORWARD(fetch_list(nv, which, index, &got, &skipped, &skip_rc, err));
        if (skipped) continue;
        any_read = 1;
        MW_FORWARD(grow_merged(nv, total + got, err));
        for (size_t i = 0; i < got; i++) {
            merged_proc *m = &nv->merged[total++];
            uint64_t used;
            entry_at(nv, nv->lists[which].level, i, &m->pid, &used);
            m->known = used != MW_UNKNOWN;
            m->sum = m->known ? used : 0;
        }
    }
    if (!any_read)
        return mw_err_set(err, skip_rc == NVML_ERROR_NO_PERMISSION ? MW_ERR_PERMISSION
                                                                     : MW_ERR_UNSUPPORTED,
                          "NVML cannot list the processes on GPU %u: %s", index,
                          nv_strerror(nv, skip_rc));

    /* One entry per pid: sort, then fold runs. A process that uses the GPU
     * for compute and graphics ("C+G" in nvidia-smi) is listed in both with
     * its whole usage, so the largest known figure is kept, not the sum. */
    if (total > 1) qsort(nv->merged, total, sizeof *nv->merged, cmp_merged);
    size_t distinct = 0;
    for (size_t i = 0; i < total;) {
        merged_proc acc = nv->merged[i++];
        while (i < total && nv->merged[i].pid == acc.pid) {
            const merged_proc *m = &nv->merged[i++];
            if (!m->known) continue;
            if (m->sum > acc.sum) acc.sum = m->sum;
            acc.known = 1;
        }
        if (distinct < cap) {
            procs[distinct].pid = acc.pid;
            procs[distinct].used_bytes = acc.known ? acc.sum : MW_UNKNOWN;
        }
        distinct++;
    }
    *n = distinct;
    return MW_OK;
}
