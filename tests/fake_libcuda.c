/*
 * fake_libcuda.c - a stand-in for the CUDA driver library (libcuda.so.1),
 * for the roofline's GPU tiers in the test suite.
 *
 * Built as a shared library (libfake-cuda.so) and loaded by memwall through
 * MEMWALL_CUDA_LIBRARY=PATH (or mw_roofline_opts.libcuda_path). Plain libc:
 * "device memory" is host memory, every copy is a memcpy, and the one device
 * is named "memwall fake GPU". The types are declared here, as memwall does.
 *
 * Knobs (environment, read at every call that uses them):
 *   FAKE_CUDA_FAIL_INIT=1     cuInit returns 100 (CUDA_ERROR_NO_DEVICE)
 *   FAKE_CUDA_NO_DEVICES=1    cuDeviceGetCount gives 0
 *   FAKE_CUDA_FAIL_ALLOC=1    cuMemAlloc_v2 returns 2 (CUDA_ERROR_OUT_OF_MEMORY)
 *   FAKE_CUDA_FAIL_PINNED=1   cuMemAllocHost_v2 returns 2
 * Built with -DFAKE_CUDA_OMIT_DTOD (libfake-cuda-nodtod.so) it lacks
 * cuMemcpyDtoD_v2, as an old or broken driver might.
 */
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef int CUdevice;
typedef struct CUctx_st *CUcontext;
typedef unsigned long long CUdeviceptr;

#define FAKE_API __attribute__((visibility("default")))

static int knob(const char *name)
{
    const char *v = getenv(name);
    return v && strcmp(v, "1") == 0;
}

static int initialised;
static char fake_context;   /* what a CUcontext points to */

FAKE_API CUresult cuInit(unsigned flags)
{
    if (flags != 0) return 1;   /* CUDA_ERROR_INVALID_VALUE */
    if (knob("FAKE_CUDA_FAIL_INIT")) return 100;
    initialised = 1;
    return 0;
}

FAKE_API CUresult cuDeviceGetCount(int *count)
{
    if (!initialised) return 3;   /* CUDA_ERROR_NOT_INITIALIZED */
    *count = knob("FAKE_CUDA_NO_DEVICES") ? 0 : 1;
    return 0;
}

FAKE_API CUresult cuDeviceGet(CUdevice *dev, int ordinal)
{
    if (!initialised) return 3;
    if (ordinal != 0 || knob("FAKE_CUDA_NO_DEVICES")) return 101;   /* CUDA_ERROR_INVALID_DEVICE */
    *dev = 0;
    return 0;
}

FAKE_API CUresult cuDeviceGetName(char *name, int len, CUdevice dev)
{
    if (dev != 0 || len <= 0) return 101;
    strncpy(name, "memwall fake GPU", (size_t)len);
    name[len - 1] = '\0';
    return 0;
}

FAKE_API CUresult cuCtxCreate_v2(CUcontext *ctx, unsigned flags, CUdevice dev)
{
    (void)flags;
    if (!initialised) return 3;
    if (dev != 0) return 101;
    *ctx = (CUcontext)(void *)&fake_context;
    return 0;
}

FAKE_API CUresult cuCtxDestroy_v2(CUcontext ctx)
{
    return ctx == (CUcontext)(void *)&fake_context ? 0 : 201;   /* CUDA_ERROR_INVALID_CONTEXT */
}

FAKE_API CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t bytes)
{
    if (knob("FAKE_CUDA_FAIL_ALLOC")) return 2;
    void *m = malloc(bytes);
    if (!m) return 2;
    memset(m, 0, bytes);
    *p = (CUdeviceptr)(unsigned long)m;
    return 0;
}

FAKE_API CUresult cuMemFree_v2(CUdeviceptr p)
{
    free((void *)(unsigned long)p);
    return 0;
}

FAKE_API CUresult cuMemAllocHost_v2(void **p, size_t bytes)
{
    if (knob("FAKE_CUDA_FAIL_PINNED")) return 2;
    *p = malloc(bytes);
    return *p ? 0 : 2;
}

FAKE_API CUresult cuMemFreeHost(void *p)
{
    free(p);
    return 0;
}

#ifndef FAKE_CUDA_OMIT_DTOD
FAKE_API CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes)
{
    memcpy((void *)(unsigned long)dst, (const void *)(unsigned long)src, bytes);
    return 0;
}
#endif

FAKE_API CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void *src, size_t bytes)
{
    memcpy((void *)(unsigned long)dst, src, bytes);
    return 0;
}

FAKE_API CUresult cuMemcpyDtoH_v2(void *dst, CUdeviceptr src, size_t bytes)
{
    memcpy(dst, (const void *)(unsigned long)src, bytes);
    return 0;
}

FAKE_API CUresult cuCtxSynchronize(void)
{
    return 0;
}

FAKE_API CUresult cuGetErrorName(CUresult rc, const char **name)
{
    switch (rc) {
    case 2: *name = "CUDA_ERROR_OUT_OF_MEMORY"; return 0;
    case 100: *name = "CUDA_ERROR_NO_DEVICE"; return 0;
    default: *name = NULL; return 1;
    }
}
