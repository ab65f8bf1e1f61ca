/*
 * fake_nvml.c - a scripted stand-in for libnvidia-ml, for the test suite.
 *
 * Built as a shared library (libfake-nvml.so) and loaded by memwall through
 * MEMWALL_NVML_LIBRARY=PATH. Self-contained: plain libc, no libmemwall, no
 * NVIDIA headers (the few types are declared below, with NVIDIA's layouts).
 *
 * The script is the file named by MEMWALL_FAKE_NVML_SCRIPT. It is read at
 * every nvmlInit_v2, which also resets every call counter (dlopen of the same
 * path returns the same library, so state must not outlive a shutdown).
 * With the variable unset: one device "Fake GPU", total 16 GiB, used 1 GiB,
 * no processes. With it set to a file that cannot be read, or a malformed
 * script, nvmlInit_v2 prints the reason to stderr and returns
 * NVML_ERROR_UNKNOWN (999).
 *
 * Script format, one directive a line; '#' starts a comment, blank lines are
 * ignored; a value with spaces is quoted: name="Fake GPU":
 *
 *   device INDEX [name="Fake GPU"] [total=SIZE] [reserved=SIZE]
 *       declares device INDEX (0..7). Defaults: name "Fake GPU", total
 *       16G, reserved 0, used 0. The device count is 1 + the highest INDEX
 *       any directive names (a gap gets a default device); a script naming
 *       no device has 0 devices.
 *   used INDEX V1 V2 V3 ...
 *       memory used on the device, one value per successful
 *       nvmlDeviceGetMemoryInfo / nvmlDeviceGetMemoryInfo_v2 call, the last
 *       one repeating.
 *   proc INDEX PID V1 V2 ...
 *       a compute process on the device, with its used memory per filling
 *       list call (the last repeats). V may be "na" (NVML_VALUE_NOT_AVAILABLE).
 *   gproc INDEX PID V1 ...
 *       the same, graphics list.
 *   fail init
 *       nvmlInit_v2 returns NVML_ERROR_DRIVER_NOT_LOADED (9).
 *   nov2
 *       nvmlDeviceGetMemoryInfo_v2 returns NVML_ERROR_FUNCTION_NOT_FOUND (13),
 *       so callers must use the v1 call.
 *   procapi N                          (N = 1, 2 or 3; default 3)
 *       the process-list functions newer than _vN return
 *       NVML_ERROR_FUNCTION_NOT_FOUND, so callers must fall back (N = 1: the
 *       unversioned functions, which fill the 16-byte v1 struct).
 *   unsupported compute|graphics
 *       that process list returns NVML_ERROR_NOT_SUPPORTED (3).
 *
 *   SIZE and V are bytes, or a number with a K/M/G/T suffix (powers of 1024,
 *   optionally followed by "iB" or "B"). PID is a number, or "child": the
 *   first PID listed in /proc/self/task/<getpid()>/children (the caller's
 *   first child), resolved at each call; with no child the entry is left out.
 *
 * Behaviour:
 *   - Every call made before nvmlInit_v2 succeeded returns
 *     NVML_ERROR_UNINITIALIZED (1).
 *   - nvmlDeviceGetMemoryInfo_v2 requires version == 0x02000028
 *     (sizeof(nvmlMemory_v2_t) | 2 << 24), else it returns
 *     NVML_ERROR_ARGUMENT_VERSION_MISMATCH (25). It reports total, reserved,
 *     used, and free = total - reserved - used (0 if negative).
 *   - nvmlDeviceGetMemoryInfo (v1) counts reserved as used, as the real v1
 *     does: used = V + reserved, free = total - used.
 *   - nvmlDeviceGet{Compute,Graphics}RunningProcesses{_v3,_v2,}: when *count
 *     is below the number of entries n (even *count == 0 with n > 0) they set
 *     *count = n and return NVML_ERROR_INSUFFICIENT_SIZE (7); otherwise they
 *     fill the array (_v3/_v2: 24-byte nvmlProcessInfo_t, unversioned: 16-byte
 *     nvmlProcessInfo_v1_t), set *count = n and return 0. Only a filling call
 *     advances the processes' value sequences.
 *   - A successful memory-info call advances the device's used sequence.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The NVML types, shared with the real loader so the layouts agree. */
#include "probe/nvml_abi.h"

/* The exported API (prototypes keep the definitions honest). */
nvmlReturn_t nvmlInit_v2(void);
nvmlReturn_t nvmlShutdown(void);
const char *nvmlErrorString(nvmlReturn_t result);
nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count);
nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device);
nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length);
nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t *memory);
nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, nvmlMemory_v2_t *memory);
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device, unsigned int *count,
                                                     nvmlProcessInfo_t *infos);
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t device, unsigned int *count,
                                                     nvmlProcessInfo_t *infos);
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t device, unsigned int *count,
                                                  nvmlProcessInfo_v1_t *infos);
nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v3(nvmlDevice_t device, unsigned int *count,
                                                      nvmlProcessInfo_t *infos);
nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v2(nvmlDevice_t device, unsigned int *count,
                                                      nvmlProcessInfo_t *infos);
nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses(nvmlDevice_t device, unsigned int *count,
                                                   nvmlProcessInfo_v1_t *infos);

/* ---- the scripted state -------------------------------------------------- */

#define FAKE_MAX_DEVICES 8
#define FAKE_MAX_PROCS 1024
#define FAKE_MAX_VALUES 64
#define FAKE_NAME_CAP 96

struct nvmlDevice_st {
    char name[FAKE_NAME_CAP];
    unsigned long long total;
    unsigned long long reserved;
    unsigned long long used[FAKE_MAX_VALUES];
    unsigned nused;
    unsigned long calls;            /* successful memory-info calls */
};

enum { LIST_COMPUTE = 0, LIST_GRAPHICS = 1 };

struct fake_proc {
    unsigned dev;
    int list;                       /* LIST_COMPUTE or LIST_GRAPHICS */
    int child;                      /* pid resolved at each call */
    unsigned pid;
    unsigned long long vals[FAKE_MAX_VALUES];
    unsigned nvals;
    unsigned long calls;            /* filling list calls */
};

static struct fake_state {
    int inited;
    int fail_init;
    int nov2;
    int procapi;
    int unsupported[2];
    unsigned ndev;
    struct nvmlDevice_st dev[FAKE_MAX_DEVICES];
    unsigned nproc;
    struct fake_proc proc[FAKE_MAX_PROCS];
} S;

/* ---- script parsing ------------------------------------------------------ */

#define MAX_TOKENS (FAKE_MAX_VALUES + 8)

/* Splits line in place into tokens; a '"' quotes up to the next '"' (the
 * quotes are removed), so name="Fake GPU" is one token. Stops at '#'.
 * Returns the token count, or -1 when there are too many or a quote is open. */
static int tokenize(char *line, char **tok, int max)
{
    int n = 0;
    char *r = line;
    for (;;) {
        while (*r == ' ' || *r == '\t' || *r == '\r' || *r == '\n') r++;
        if (*r == '\0' || *r == '#') break;
        if (n == max) return -1;
        char *w = r;
        tok[n++] = w;
        while (*r && *r != ' ' && *r != '\t' && *r != '\r' && *r != '\n') {
            if (*r == '"') {
                r++;
                while (*r && *r != '"') *w++ = *r++;
                if (*r != '"') return -1;
                r++;
            } else {
                *w++ = *r++;
            }
        }
        int end = (*r == '\0');
        *w = '\0';
        if (end) break;
        r++;
    }
    return n;
}

static int parse_size(const char *s, unsigned long long *out)
{
    if (*s < '0' || *s > '9') return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno) return -1;
    unsigned shift = 0;
    switch (*end) {
    case 'K': case 'k': shift = 10; end++; break;
    case 'M': case 'm': shift = 20; end++; break;
    case 'G': case 'g': shift = 30; end++; break;
    case 'T': case 't': shift = 40; end++; break;
    default: break;
    }
    if (shift && strcmp(end, "iB") == 0) end += 2;
    else if (strcmp(end, "B") == 0) end += 1;
    if (*end) return -1;
    if (shift && v > (ULLONG_MAX >> shift)) return -1;
    *out = v << shift;
    return 0;
}

static int parse_value(const char *s, int allow_na, unsigned long long *out)
{
    if (allow_na && strcmp(s, "na") == 0) {
        *out = NVML_VALUE_NOT_AVAILABLE;
        return 0;
    }
    return parse_size(s, out);
}

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
    if (*s < '0' || *s > '9') return -1;
    errno = 0;
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v > max) return -1;
    *out = (unsigned)v;
    return 0;
}

static void device_defaults(struct nvmlDevice_st *d)
{
    memset(d, 0, sizeof *d);
    strcpy(d->name, "Fake GPU");
    d->total = 16ull << 30;
    d->nused = 1;
    d->used[0] = 0;
}

/* Makes device idx exist (and every lower index). */
static struct nvmlDevice_st *touch_device(unsigned idx)
{
    while (S.ndev <= idx) device_defaults(&S.dev[S.ndev++]);
    return &S.dev[idx];
}

static int parse_line(char *line, const char **why)
{
    char *tok[MAX_TOKENS];
    int n = tokenize(line, tok, MAX_TOKENS);
    if (n < 0) { *why = "too many fields or an open quote"; return -1; }
    if (n == 0) return 0;

    const char *cmd = tok[0];
    if (strcmp(cmd, "fail") == 0) {
        if (n != 2 || strcmp(tok[1], "init") != 0) { *why = "expected: fail init"; return -1; }
        S.fail_init = 1;
        return 0;
    }
    if (strcmp(cmd, "nov2") == 0) {
        if (n != 1) { *why = "nov2 takes no argument"; return -1; }
        S.nov2 = 1;
        return 0;
    }
    if (strcmp(cmd, "procapi") == 0) {
        unsigned v;
        if (n != 2 || parse_uint(tok[1], 3, &v) || v < 1) { *why = "expected: procapi 1|2|3"; return -1; }
        S.procapi = (int)v;
        return 0;
    }
    if (strcmp(cmd, "unsupported") == 0) {
        if (n != 2) { *why = "expected: unsupported compute|graphics"; return -1; }
        if (strcmp(tok[1], "compute") == 0) S.unsupported[LIST_COMPUTE] = 1;
        else if (strcmp(tok[1], "graphics") == 0) S.unsupported[LIST_GRAPHICS] = 1;
        else { *why = "expected: unsupported compute|graphics"; return -1; }
        return 0;
    }

    unsigned idx;
    if (n < 2 || parse_uint(tok[1], FAKE_MAX_DEVICES - 1, &idx)) {
        *why = "expected a device INDEX (0..7) after the directive";
        return -1;
    }
    if (strcmp(cmd, "device") == 0) {
        struct nvmlDevice_st *d = touch_device(idx);
        for (int i = 2; i < n; i++) {
            if (strncmp(tok[i], "name=", 5) == 0) {
                if (strlen(tok[i] + 5) >= sizeof d->name) { *why = "name too long"; return -1; }
                strcpy(d->name, tok[i] + 5);
            } else if (strncmp(tok[i], "total=", 6) == 0) {
                if (parse_size(tok[i] + 6, &d->total)) { *why = "bad total="; return -1; }
            } else if (strncmp(tok[i], "reserved=", 9) == 0) {
                if (parse_size(tok[i] + 9, &d->reserved)) { *why = "bad reserved="; return -1; }
            } else {
                *why = "unknown device option (name=, total=, reserved=)";
                return -1;
            }
        }
        return 0;
    }
    if (strcmp(cmd, "used") == 0) {
        struct nvmlDevice_st *d = touch_device(idx);
        if (n < 3) { *why = "used needs at least one value"; return -1; }
        if (n - 2 > FAKE_MAX_VALUES) { *why = "too many values"; return -1; }
        d->nused = 0;
        for (int i = 2; i < n; i++)
            if (parse_value(tok[i], 0, &d->used[d->nused++])) { *why = "bad used value"; return -1; }
        return 0;
    }
    if (strcmp(cmd, "proc") == 0 || strcmp(cmd, "gproc") == 0) {
        touch_device(idx);
        if (n < 4) { *why = "expected: proc INDEX PID V..."; return -1; }
        if (n - 3 > FAKE_MAX_VALUES) { *why = "too many values"; return -1; }
        if (S.nproc == FAKE_MAX_PROCS) { *why = "too many processes"; return -1; }
        struct fake_proc *p = &S.proc[S.nproc];
        memset(p, 0, sizeof *p);
        p->dev = idx;
        p->list = cmd[0] == 'g' ? LIST_GRAPHICS : LIST_COMPUTE;
        if (strcmp(tok[2], "child") == 0) p->child = 1;
        else if (parse_uint(tok[2], UINT_MAX, &p->pid)) { *why = "bad PID"; return -1; }
        for (int i = 3; i < n; i++)
            if (parse_value(tok[i], 1, &p->vals[p->nvals++])) { *why = "bad process value"; return -1; }
        S.nproc++;
        return 0;
    }
    *why = "unknown directive";
    return -1;
}

static int load_script(void)
{
    memset(&S, 0, sizeof S);
    S.procapi = 3;
    const char *path = getenv("MEMWALL_FAKE_NVML_SCRIPT");
    if (!path || !*path) {
        device_defaults(&S.dev[0]);
        S.dev[0].used[0] = 1ull << 30;
        S.ndev = 1;
        return 0;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "fake_nvml: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    unsigned lineno = 0;
    int rc = 0;
    while (getline(&line, &cap, f) != -1) {
        lineno++;
        const char *why = NULL;
        if (parse_line(line, &why)) {
            fprintf(stderr, "fake_nvml: %s:%u: %s\n", path, lineno, why);
            rc = -1;
            break;
        }
    }
    free(line);
    fclose(f);
    return rc;
}

/* ---- helpers ------------------------------------------------------------- */

static struct nvmlDevice_st *check_device(nvmlDevice_t device)
{
    for (unsigned i = 0; i < S.ndev; i++)
        if (device == &S.dev[i]) return device;
    return NULL;
}

static unsigned long long seq_value(const unsigned long long *vals, unsigned n,
                                    unsigned long calls)
{
    if (n == 0) return 0;
    return vals[calls < n ? calls : n - 1];
}

/* The first child of the calling process, or 0. */
static unsigned first_child(void)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%ld/children", (long)getpid());
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    unsigned pid = 0;
    if (fscanf(f, "%u", &pid) != 1) pid = 0;
    fclose(f);
    return pid;
}

/* One process-list call. api: 3, 2 or 1 (the unversioned, v1 struct). */
static nvmlReturn_t list_call(nvmlDevice_t device, int list, int api, unsigned int *count,
                              void *infos)
{
    if (!S.inited) return NVML_ERROR_UNINITIALIZED;
    struct nvmlDevice_st *d = check_device(device);
    if (!d || !count) return NVML_ERROR_INVALID_ARGUMENT;
    if (api > S.procapi) return NVML_ERROR_FUNCTION_NOT_FOUND;
    if (S.unsupported[list]) return NVML_ERROR_NOT_SUPPORTED;
    unsigned dev = (unsigned)(d - S.dev);

    unsigned child = 0;
    int child_done = 0;
    unsigned n = 0;
    for (unsigned i = 0; i < S.nproc; i++) {
        struct fake_proc *p = &S.proc[i];
        if (p->dev != dev || p->list != list) continue;
        if (p->child) {
            if (!child_done) { child = first_child(); child_done = 1; }
            if (!child) continue;
        }
        n++;
    }
    if (*count < n) {
        *count = n;
        return NVML_ERROR_INSUFFICIENT_SIZE;
    }
    if (n > 0 && !infos) return NVML_ERROR_INVALID_ARGUMENT;

    unsigned k = 0;
    for (unsigned i = 0; i < S.nproc; i++) {
        struct fake_proc *p = &S.proc[i];
        if (p->dev != dev || p->list != list) continue;
        if (p->child && !child) continue;
        unsigned pid = p->child ? child : p->pid;
        unsigned long long v = seq_value(p->vals, p->nvals, p->calls++);
        if (api == 1) {
            nvmlProcessInfo_v1_t *e = (nvmlProcessInfo_v1_t *)infos + k;
            e->pid = pid;
            e->usedGpuMemory = v;
        } else {
            nvmlProcessInfo_t *e = (nvmlProcessInfo_t *)infos + k;
            e->pid = pid;
            e->usedGpuMemory = v;
            e->gpuInstanceId = 0xFFFFFFFFu;
            e->computeInstanceId = 0xFFFFFFFFu;
        }
        k++;
    }
    *count = n;
    return NVML_SUCCESS;
}

/* ---- the exported API ---------------------------------------------------- */

nvmlReturn_t nvmlInit_v2(void)
{
    if (load_script()) {
        memset(&S, 0, sizeof S);
        return NVML_ERROR_UNKNOWN;
    }
    if (S.fail_init) {
        S.inited = 0;
        return NVML_ERROR_DRIVER_NOT_LOADED;
    }
    S.inited = 1;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlShutdown(void)
{
    if (!S.inited) return NVML_ERROR_UNINITIALIZED;
    S.inited = 0;
    return NVML_SUCCESS;
}

const char *nvmlErrorString(nvmlReturn_t result)
{
    switch (result) {
    case NVML_SUCCESS: return "Success";
    case NVML_ERROR_UNINITIALIZED: return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT: return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
    case NVML_ERROR_INSUFFICIENT_SIZE: return "Insufficient Size";
    case NVML_ERROR_DRIVER_NOT_LOADED: return "Driver Not Loaded";
    case NVML_ERROR_FUNCTION_NOT_FOUND: return "Function Not Found";
    case NVML_ERROR_ARGUMENT_VERSION_MISMATCH: return "Argument version mismatch";
    default: return "Unknown Error";
    }
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count)
{
    if (!S.inited) return NVML_ERROR_UNINITIALIZED;
    if (!count) return NVML_ERROR_INVALID_ARGUMENT;
    *count = S.ndev;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device)
{
    if (!S.inited) return NVML_ERROR_UNINITIALIZED;
    if (!device || index >= S.ndev) return NVML_ERROR_INVALID_ARGUMENT;
    *device = &S.dev[index];
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length)
{
    if (!S.inited) return NVML_ERROR_UNINITIALIZED;
    struct nvmlDevice_st *d = check_device(device);
    if (!d || !name) return NVML_ERROR_INVALID_ARGUMENT;
    size_t len = strlen(d->name);
    if (length <= len) return NVML_ERROR_INSUFFICIENT_SIZE;
    memcpy(name, d->name, len + 1);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t *memory)
{
    if (!S.inited) return NVML_ERROR_UNINITIALIZED;
    struct nvmlDevice_st *d = check_device(device);
    if (!d || !memory) return NVML_ERROR_INVALID_ARGUMENT;
    unsigned long long used = seq_value(d->used, d->nused, d->calls++) + d->reserved;
    memory->total = d->total;
    memory->used = used;
    memory->free = used < d->total ? d->total - used : 0;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, nvmlMemory_v2_t *memory)
{
    if (!S.inited) return NVML_ERROR_UNINITIALIZED;
    struct nvmlDevice_st *d = check_device(device);
    if (!d || !memory) return NVML_ERROR_INVALID_ARGUMENT;
    if (S.nov2) return NVML_ERROR_FUNCTION_NOT_FOUND;
    if (memory->version != NVML_MEMORY_V2_VERSION) return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    unsigned long long used = seq_value(d->used, d->nused, d->calls++);
    unsigned long long taken = used + d->reserved;
    memory->total = d->total;
    memory->reserved = d->reserved;
    memory->used = used;
    memory->free = taken < d->total ? d->total - taken : 0;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device, unsigned int *count,
                                                     nvmlProcessInfo_t *infos)
{
    return list_call(device, LIST_COMPUTE, 3, count, infos);
}

nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t device, unsigned int *count,
                                                     nvmlProcessInfo_t *infos)
{
    return list_call(device, LIST_COMPUTE, 2, count, infos);
}

nvmlReturn_t nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t device, unsigned int *count,
                                                  nvmlProcessInfo_v1_t *infos)
{
    return list_call(device, LIST_COMPUTE, 1, count, infos);
}

nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v3(nvmlDevice_t device, unsigned int *count,
                                                      nvmlProcessInfo_t *infos)
{
    return list_call(device, LIST_GRAPHICS, 3, count, infos);
}

nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v2(nvmlDevice_t device, unsigned int *count,
                                                      nvmlProcessInfo_t *infos)
{
    return list_call(device, LIST_GRAPHICS, 2, count, infos);
}

nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses(nvmlDevice_t device, unsigned int *count,
                                                   nvmlProcessInfo_v1_t *infos)
{
    return list_call(device, LIST_GRAPHICS, 1, count, infos);
}
