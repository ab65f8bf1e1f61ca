/*
 * nvml_abi.h - the part of NVIDIA's NVML ABI that memwall uses: types,
 * return codes and struct layouts, declared here (no NVIDIA header needed).
 *
 * Shared by the run-time loader (src/probe/nvml.c) and the test suite's fake
 * library (tests/fake_nvml.c), so the two cannot disagree on a layout.
 */
#ifndef MW_PROBE_NVML_ABI_H
#define MW_PROBE_NVML_ABI_H

#include <limits.h>

typedef int nvmlReturn_t;
typedef struct nvmlDevice_st *nvmlDevice_t;

typedef struct nvmlMemory_st {
    unsigned long long total;
    unsigned long long free;
    unsigned long long used;
} nvmlMemory_t;

typedef struct nvmlMemory_v2_st {
    unsigned int version;
    unsigned long long total;
    unsigned long long reserved;
    unsigned long long free;
    unsigned long long used;
} nvmlMemory_v2_t;

/* The entry of the unversioned process-list functions (old drivers). */
typedef struct nvmlProcessInfo_v1_st {
    unsigned int pid;
    unsigned long long usedGpuMemory;
} nvmlProcessInfo_v1_t;

/* The entry of the _v2 and _v3 process-list functions. */
typedef struct nvmlProcessInfo_st {
    unsigned int pid;
    unsigned long long usedGpuMemory;
    unsigned int gpuInstanceId;
    unsigned int computeInstanceId;
} nvmlProcessInfo_t;

/* The r530 drivers' _v3 entry. */
typedef struct nvmlProcessInfo_cc_st {
    unsigned int pid;
    unsigned long long usedGpuMemory;
    unsigned int gpuInstanceId;
    unsigned int computeInstanceId;
    unsigned long long usedGpuCcProtectedMemory;
} nvmlProcessInfo_cc_t;

#define NVML_SUCCESS 0
#define NVML_ERROR_UNINITIALIZED 1
#define NVML_ERROR_INVALID_ARGUMENT 2
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_NO_PERMISSION 4
#define NVML_ERROR_INSUFFICIENT_SIZE 7
#define NVML_ERROR_DRIVER_NOT_LOADED 9
#define NVML_ERROR_FUNCTION_NOT_FOUND 13
#define NVML_ERROR_ARGUMENT_VERSION_MISMATCH 25
#define NVML_ERROR_UNKNOWN 999

#define NVML_VALUE_NOT_AVAILABLE ULLONG_MAX
#define NVML_DEVICE_NAME_BUFFER 96

/* NVML_STRUCT_VERSION(Memory, 2): the size in the low bits, the version in
 * the top byte. A bare 2 is rejected with ARGUMENT_VERSION_MISMATCH. */
#define NVML_MEMORY_V2_VERSION ((unsigned int)(sizeof(nvmlMemory_v2_t) | (2u << 24)))

#if defined(__LP64__)
_Static_assert(NVML_MEMORY_V2_VERSION == 0x02000028u, "nvmlMemory_v2 is 0x02000028 on LP64");
_Static_assert(sizeof(nvmlProcessInfo_v1_t) == 16 && sizeof(nvmlProcessInfo_t) == 24 &&
                   sizeof(nvmlProcessInfo_cc_t) == 32,
               "NVML process info layouts on LP64");
#endif

#endif /* MW_PROBE_NVML_ABI_H */
