/*
 * cuda.c - the GPU tiers of the roofline (docs/ROOFLINE.md, "Tiers"):
 * device-to-device copy, and host-to-device and device-to-host copies from
 * pageable (malloc) and from pinned (cuMemAllocHost) memory, through the
 * CUDA driver API loaded at run time (dlopen): nothing CUDA is needed to
 * build memwall, and a machine without the driver gets the tiers null with
 * the reason. The library: opts.libcuda_path, else $MEMWALL_CUDA_LIBRARY,
 * else libcuda.so.1 (tests/fake_libcuda.c stands in for it in the tests).
 */
#include "roofline/roofline.h"
#include "common/error.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The driver API's types, declared here (cuda.h is not needed). */
typedef int CUresult;
typedef int CUdevice;
typedef struct CUctx_st *CUcontext;
typedef unsigned long long CUdeviceptr;

typedef struct cu_api {
    CUresult (*init)(unsigned);
    CUresult (*device_get_count)(int *);
    CUresult (*device_get)(CUdevice *, int);
    CUresult (*device_get_name)(char *, int, CUdevice);
    CUresult (*ctx_create)(CUcontext *, unsigned, CUdevice);
    CUresult (*ctx_destroy)(CUcontext);
    CUresult (*mem_alloc)(CUdeviceptr *, size_t);
    CUresult (*mem_free)(CUdeviceptr);
    CUresult (*mem_alloc_host)(void **, size_t);
    CUresult (*mem_free_host)(void *);
    CUresult (*dtod)(CUdeviceptr, CUdeviceptr, size_t);
    CUresult (*htod)(CUdeviceptr, const void *, size_t);
    CUresult (*dtoh)(void *, CUdeviceptr, size_t);
    CUresult (*sync)(void);
    CUresult (*error_name)(CUresult, const char **);   /* optional */
} cu_api;

#define MIB (1024ull * 1024)
#define GPU_TIERS 5

/* dlsym into a function pointer without a pedantic object-to-function cast. */
#define LOAD_SYM(lib, fnptr, name) (*(void **)(&(fnptr)) = dlsym((lib), (name)))

static void all_null(mw_roofline_tier *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void all_null(mw_roofline_tier *t, const char *fmt, ...)
{
    char why[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    for (int i = 0; i < GPU_TIERS; i++) mw_rl_tier_null(&t[i], "%s", why);
}

/* "error 2 (CUDA_ERROR_OUT_OF_MEMORY)", or "error 2" */
static const char *cu_error(const cu_api *cu, CUresult rc, char *buf, size_t cap)
{
    const char *name = NULL;
    if (cu->error_name && cu->error_name(rc, &name) != 0) name = NULL;
    char shown[64];
    if (name) snprintf(buf, cap, "error %d (%s)", rc, mw_shown_str(name, shown, sizeof shown));
    else snprintf(buf, cap, "error %d", rc);
    return buf;
}

/* Loads the library and every function; 0 with the GPU tiers null when
 * that fails. */
static void *load(const mw_roofline_opts *o, cu_api *cu, mw_roofline_tier *t)
{
    const char *path = o->libcuda_path && *o->libcuda_path ? o->libcuda_path : getenv("MEMWALL_CUDA_LIBRARY");
    const int named = path && *path;
    char shown[96];
    void *lib = dlopen(named ? path : "libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        if (named) {
            const char *why = dlerror();
            char w[96];
            all_null(t, "%s%s cannot be loaded: %s",
                     o->libcuda_path && *o->libcuda_path ? "" : "MEMWALL_CUDA_LIBRARY=",
                     mw_shown_str(path, shown, sizeof shown), mw_shown_str(why ? why : "unknown error", w, sizeof w));
        } else {
            all_null(t, "no libcuda.so.1: no NVIDIA driver");
        }
        return NULL;
    }
    struct { void **fn; const char *name; } syms[] = {
        {(void **)&cu->init, "cuInit"},
        {(void **)&cu->device_get_count, "cuDeviceGetCount"},
        {(void **)&cu->device_get, "cuDeviceGet"},
        {(void **)&cu->device_get_name, "cuDeviceGetName"},
        {(void **)&cu->ctx_create, "cuCtxCreate_v2"},
        {(void **)&cu->ctx_destroy, "cuCtxDestroy_v2"},
        {(void **)&cu->mem_alloc, "cuMemAlloc_v2"},
        {(void **)&cu->mem_free, "cuMemFree_v2"},
        {(void **)&cu->mem_alloc_host, "cuMemAllocHost_v2"},
        {(void **)&cu->mem_free_host, "cuMemFreeHost"},
        {(void **)&cu->dtod, "cuMemcpyDtoD_v2"},
        {(void **)&cu->htod, "cuMemcpyHtoD_v2"},
        {(void **)&cu->dtoh, "cuMemcpyDtoH_v2"},
        {(void **)&cu->sync, "cuCtxSynchronize"},
    };
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        *syms[i].fn = dlsym(lib, syms[i].name);
        if (!*syms[i].fn) {
            all_null(t, "libcuda lacks %s", syms[i].name);
            /* not dlclosed: see mw_rl_tiers_gpu */
            return NULL;
        }
    }
    LOAD_SYM(lib, cu->error_name, "cuGetErrorName");
    return lib;
}

/* Times `op` of `bytes` per call: one call to warm up, then enough calls
 * per repetition to last 20 ms or more; rates in rate[], their count
 * returned; 0 with why on an error. */
enum { OP_D2D, OP_H2D, OP_D2H };
static int time_copies(const mw_roofline_opts *o, const cu_api *cu, int op, CUdeviceptr dev, CUdeviceptr dev2,
                       void *host, size_t size, double per_call_bytes, double *rate, int reps, char *why,
                       size_t wcap)
{
    char e[80];
    int n = 0;
    unsigned calls = 1;
    for (int r = -1; r < reps && !mw_rl_cancelled(o); r++) {
        const double t0 = mw_rl_now();
        CUresult rc = 0;
        for (unsigned c = 0; c < calls && rc == 0; c++) {
            if (op == OP_D2D) rc = cu->dtod(dev2, dev, size);
            else if (op == OP_H2D) rc = cu->htod(dev, host, size);
            else rc = cu->dtoh(host, dev, size);
        }
        if (rc == 0) rc = cu->sync();
        const double dt = mw_rl_now() - t0;
        if (rc != 0) {
            snprintf(why, wcap, "%s failed: %s",
                     op == OP_D2D ? "cuMemcpyDtoD_v2" : op == OP_H2D ? "cuMemcpyHtoD_v2" : "cuMemcpyDtoH_v2",
                     cu_error(cu, rc, e, sizeof e));
            return 0;
        }
        if (r < 0) {   /* the warm-up sets the calls per repetition */
            if (dt > 0 && dt < 0.02) {
                double want = 0.02 / dt;
                calls = want > 1000 ? 1000 : (unsigned)want + 1;
            }
            continue;
        }
        if (dt > 0) rate[n++] = per_call_bytes * calls / dt;
    }
    return n;
}

void mw_rl_tiers_gpu(const mw_roofline_opts *o, mw_roofline_tier *t, char *gpu_name, size_t cap)
{
    cu_api cu;
    memset(&cu, 0, sizeof cu);
    gpu_name[0] = '\0';
    /* The library is never dlclosed: the driver starts threads of its own
     * that may outlive a context, and unloading it under them would crash. */
    void *lib = load(o, &cu, t);
    if (!lib) return;
    char e[80], why[160] = "";
    CUresult rc = cu.init(0);
    if (rc != 0) { all_null(t, "cuInit failed: %s", cu_error(&cu, rc, e, sizeof e)); return; }
    int count = 0;
    rc = cu.device_get_count(&count);
    if (rc != 0) { all_null(t, "cuDeviceGetCount failed: %s", cu_error(&cu, rc, e, sizeof e)); return; }
    if (count <= 0) { all_null(t, "no CUDA device (the driver found none)"); return; }
    CUdevice dev = 0;
    CUcontext ctx = NULL;
    rc = cu.device_get(&dev, 0);
    if (rc == 0) {
        char name[96] = "";
        if (cu.device_get_name(name, (int)sizeof name, dev) == 0) {
            name[sizeof name - 1] = '\0';
            mw_shown_str(name, gpu_name, cap);
        }
        rc = cu.ctx_create(&ctx, 0, dev);
        if (rc != 0) { all_null(t, "cuCtxCreate_v2 failed: %s", cu_error(&cu, rc, e, sizeof e)); return; }
    } else {
        all_null(t, "cuDeviceGet failed: %s", cu_error(&cu, rc, e, sizeof e));
        return;
    }

    char note[64];
    const size_t size = (size_t)mw_rl_tier_size(o->quick ? 64 * MIB : 256 * MIB, note, sizeof note);
    const int reps = o->quick ? 3 : 5;
    CUdeviceptr d[2] = {0, 0};
    void *pageable = NULL, *pinned = NULL;
    for (int i = 0; i < 2; i++) {
        rc = cu.mem_alloc(&d[i], size);
        if (rc != 0) {
            all_null(t, "cuMemAlloc_v2 of %zu MiB on the GPU failed: %s", (size_t)(size / MIB),
                     cu_error(&cu, rc, e, sizeof e));
            d[i] = 0;
            goto done;
        }
    }
    pageable = mw_malloc(size, MW_MEM_SCRATCH);
    if (pageable) memset(pageable, 1, size);   /* touched: no first-touch faults timed */
    rc = cu.mem_alloc_host(&pinned, size);
    if (rc != 0) {
        pinned = NULL;
        snprintf(why, sizeof why, "cuMemAllocHost_v2 of %zu MiB failed: %s", (size_t)(size / MIB),
                 cu_error(&cu, rc, e, sizeof e));
    } else {
        memset(pinned, 1, size);
    }
    for (int k = 0; k < GPU_TIERS && !mw_rl_cancelled(o); k++) {
        mw_roofline_tier *x = &t[k];
        double rate[8];
        char err[160] = "";
        int n = 0;
        /* order: d2d, h2d pageable, h2d pinned, d2h pageable, d2h pinned */
        void *host = k == 1 || k == 3 ? pageable : k == 2 || k == 4 ? pinned : NULL;
        if (k > 0 && !host) {
            if (k == 2 || k == 4) mw_rl_tier_null(x, "%s", why);
            else mw_rl_tier_null(x, "out of memory for the %zu MiB host buffer", (size_t)(size / MIB));
            continue;
        }
        if (k == 0) n = time_copies(o, &cu, OP_D2D, d[0], d[1], NULL, size, 2.0 * (double)size, rate, reps,
                                    err, sizeof err);
        else n = time_copies(o, &cu, k <= 2 ? OP_H2D : OP_D2H, d[0], 0, host, size, (double)size, rate, reps,
                             err, sizeof err);
        if (!n) {
            if (err[0]) mw_rl_tier_null(x, "%s", err);
            continue;
        }
        mw_rl_figure_of(rate, n, &x->bw);
        x->bytes = k == 0 ? 2 * (uint64_t)size : (uint64_t)size;
        mw_rl_tier_method(x, "%s of %zu MiB%s",
                 k == 0 ? "cuMemcpyDtoD, read + write counted (2x)"
                 : k == 1 ? "cuMemcpyHtoD from malloc'd memory"
                 : k == 2 ? "cuMemcpyHtoD from cuMemAllocHost memory"
                 : k == 3 ? "cuMemcpyDtoH to malloc'd memory" : "cuMemcpyDtoH to cuMemAllocHost memory",
                 (size_t)(size / MIB), note);
    }
done:
    if (pinned) cu.mem_free_host(pinned);
    mw_free(pageable);
    for (int i = 0; i < 2; i++) if (d[i]) cu.mem_free(d[i]);
    cu.ctx_destroy(ctx);
}
