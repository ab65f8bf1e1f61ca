/*
 * memwall.h - find where an AI model hits the memory wall, and move it.
 *
 * This is the whole public API of libmemwall. The `memwall` command line tool
 * is built on nothing but this header.
 *
 * The library is organised in seven layers; each may use only the layers
 * listed above it (probe: common alone). docs/ARCHITECTURE.md draws them and
 * their data flow.
 *
 *   common  status codes, the counting allocator, size and duration parsing
 *   format  reads models: GGUF, safetensors (one file or shards),
 *           config.json, built-in presets; checks every offset and size
 *   plan    predicts memory component by component (weights, KV cache,
 *           activations, training state) and the largest batch and context
 *           that fit a memory size; pure functions
 *   engine  runs llama-family models on the CPU (mw_run) and measures each
 *           component's memory next to the plan's prediction
 *   probe   observes processes from the outside: /proc, cgroups v1 and v2,
 *           /proc/vmstat, PSI, and NVML loaded at run time
 *   sweep   the batch (or context) experiment: each point a memory-capped
 *           child watched by the probe, then the fit, knee, cliff and verdict
 *   report  renders results for people (text) and programs (JSON, CSV, SVG)
 *
 * Conventions
 *   - Every fallible function returns an mw_status and, when given a non-NULL
 *     `mw_err *`, fills it with a message that says what failed, where, and
 *     what to do. The library never prints to stdout and never exits.
 *   - Sizes are uint64_t byte counts whose names end in _bytes; durations are
 *     doubles in seconds. MW_UNKNOWN marks a figure that could not be read
 *     (JSON null); it is never silently 0.
 *   - Objects come in init/free (or run/free) pairs; every *_free(NULL) is a
 *     no-op.
 *   - Every heap byte the library takes goes through the counting allocator
 *     (mw_malloc), tagged by purpose, so memwall can report its own footprint.
 *
 * Example: run a command under a 2 GiB cap and print what it used.
 *
 *     #include <memwall.h>
 *
 *     mw_watch_opts opts;
 *     mw_watch_opts_init(&opts);
 *     opts.mem_limit_bytes = 2ull << 30;
 *
 *     const char *argv[] = { "python3", "train.py", NULL };
 *     mw_watch_result *res = NULL;
 *     mw_err err;
 *     if (mw_watch_run(argv, &opts, &res, &err) != MW_OK) {
 *         fprintf(stderr, "memwall: %s\n", err.msg);
 *         return 1;
 *     }
 *     printf("peak %llu bytes, oom %d\n",
 *            (unsigned long long)res->peak_rss_bytes, res->oom_killed);
 *     mw_watch_report_text(res, stdout, 0, &err);
 *     mw_watch_result_free(res);
 *
 * Example: plan a model before downloading it: does batch 8 at an 8192-token
 * context fit 24 GiB, and what is the largest batch that does?
 *
 *     mw_model *m = NULL;
 *     mw_err err;
 *     if (mw_model_open("llama-3-8b", &m, &err) != MW_OK) {
 *         fprintf(stderr, "memwall: %s\n", err.msg);
 *         return 1;
 *     }
 *     mw_plan_opts po;
 *     mw_plan_opts_init(&po);
 *     po.batch = 8;
 *     po.ctx = 8192;
 *     po.mem_bytes = 24ull << 30;
 *     mw_plan plan;
 *     mw_status st = mw_plan_compute(m, &po, &plan, &err);
 *     mw_model_free(m);
 *     if (st != MW_OK) {
 *         fprintf(stderr, "memwall: %s\n", err.msg);
 *         return 1;
 *     }
 *     printf("%llu bytes, fits %d, largest batch %u\n",
 *            (unsigned long long)plan.total_bytes, plan.fits, plan.max_batch);
 *
 * Example: run the built-in demo model and set its measured KV cache
 * beside the plan's.
 *
 *     mw_run_opts ro;
 *     mw_run_opts_init(&ro);
 *     ro.batch = 4;
 *     ro.prompt = 16;
 *     ro.gen = 8;
 *     mw_run_result *run = NULL;
 *     mw_err err;
 *     if (mw_run(MW_DEMO_MODEL, &ro, &run, &err) != MW_OK) {
 *         fprintf(stderr, "memwall: %s\n", err.msg);
 *         return 1;
 *     }
 *     printf("%.1f tokens/s; KV cache %llu bytes, planned %llu\n",
 *            run->decode_tokens_per_second,
 *            (unsigned long long)run->measured[MW_COMP_KV_CACHE],
 *            (unsigned long long)run->predicted.bytes[MW_COMP_KV_CACHE]);
 *     mw_run_result_free(run);
 *
 * Example: sweep a command's batch, each point capped at 4 GiB, and read
 * where it hits the wall.
 *
 *     const char *cmd[] = { "python3", "bench.py", "--batch", "{batch}", NULL };
 *     const uint32_t batches[] = { 1, 2, 4, 8, 16, 32 };
 *     mw_sweep_opts so;
 *     mw_sweep_opts_init(&so);
 *     so.cmd = cmd;
 *     so.batches = batches;
 *     so.n_batches = 6;
 *     so.mem_limit_bytes = 4ull << 30;
 *     so.items_per_run = 100;          // throughput: 100 x batch / wall time
 *     mw_sweep_result *sw = NULL;
 *     mw_err err;
 *     if (mw_sweep_run(&so, &sw, &err) != MW_OK) {
 *         fprintf(stderr, "memwall: %s\n", err.msg);
 *         return 1;
 *     }
 *     printf("largest batch that fits: %u; %s: %s\n", sw->analysis.max_fit,
 *            mw_verdict_name(sw->analysis.overall), sw->analysis.reason);
 *     mw_sweep_result_free(sw);
 */
#ifndef MEMWALL_H
#define MEMWALL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* MW_API marks the public functions: the shared library is built with
 * -fvisibility=hidden and exports these and nothing else (the test
 * `exports` checks that the two sets are equal). */
#ifndef MW_API
#  if defined(__GNUC__) && __GNUC__ >= 4
#    define MW_API __attribute__((visibility("default")))
#  else
#    define MW_API
#  endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The project's one version: CMakeLists.txt reads these three lines (the
 * library's soname, pkg-config, the man page), and the string is made from
 * them, so there is nothing else to update. */
#define MW_VERSION_MAJOR 0
#define MW_VERSION_MINOR 1
#define MW_VERSION_PATCH 0
#define MW_VERSION_QUOTE_(x) #x
#define MW_VERSION_QUOTE(x) MW_VERSION_QUOTE_(x)
#define MW_VERSION_STRING MW_VERSION_QUOTE(MW_VERSION_MAJOR) "." \
    MW_VERSION_QUOTE(MW_VERSION_MINOR) "." MW_VERSION_QUOTE(MW_VERSION_PATCH)

/* A figure that could not be measured. Reported as null in JSON. */
#define MW_UNKNOWN UINT64_MAX
/* No limit (for memory and swap caps). */
#define MW_UNLIMITED UINT64_MAX

MW_API const char *mw_version(void);

/* ------------------------------------------------------------------------
 * Status and errors
 * ------------------------------------------------------------------------ */

typedef enum mw_status {
    MW_OK = 0,
    MW_ERR_NOMEM,         /* an allocation failed (or was made to fail)    */
    MW_ERR_INVALID,       /* bad argument or malformed input               */
    MW_ERR_IO,            /* a read or write of a file failed              */
    MW_ERR_NOT_FOUND,     /* a file, process or symbol does not exist      */
    MW_ERR_PERMISSION,    /* not allowed (e.g. cgroup not writable)        */
    MW_ERR_UNSUPPORTED,   /* the kernel or library lacks a feature         */
    MW_ERR_UNAVAILABLE,   /* an optional facility is absent (e.g. no NVML) */
    MW_ERR_SPAWN,         /* the command could not be started              */
    MW_ERR_INTERNAL,      /* a bug in memwall                              */
    MW_STATUS_COUNT
} mw_status;

#define MW_ERR_MSG_CAP 512

/* Filled by failing functions. `status` repeats the returned code. */
typedef struct mw_err {
    mw_status status;
    char msg[MW_ERR_MSG_CAP];
} mw_err;

/*! mw_status_name() :
 *  @return a constant lower-case name for the code, e.g. "permission". */
MW_API const char *mw_status_name(mw_status status);

/* ------------------------------------------------------------------------
 * The counting allocator
 *
 * Every allocation is tagged with what it is for. Per-tag current and peak
 * bytes answer "what did memwall itself use" (the profiler profiles itself);
 * the engine's tags give a measured memory breakdown next to the plan.
 * ------------------------------------------------------------------------ */

typedef enum mw_mem_tag {
    MW_MEM_OTHER = 0,
    MW_MEM_PROBE,         /* process tables and samples of the probe */
    MW_MEM_REPORT,        /* rendering buffers                       */
    MW_MEM_WEIGHTS,
    MW_MEM_KV_CACHE,
    MW_MEM_ACTIVATIONS,
    MW_MEM_SCRATCH,
    MW_MEM_TAG_COUNT
} mw_mem_tag;

typedef struct mw_mem_stats {
    uint64_t current_bytes[MW_MEM_TAG_COUNT];
    uint64_t peak_bytes[MW_MEM_TAG_COUNT];
    uint64_t total_current_bytes;
    uint64_t total_peak_bytes;
    uint64_t allocations;    /* successful calls since start */
    uint64_t failures;       /* failed (or injected) calls   */
} mw_mem_stats;

/* malloc/calloc/realloc/free with a tag. NULL on failure; free(NULL) no-op. */
MW_API void *mw_malloc(size_t size, mw_mem_tag tag);
MW_API void *mw_calloc(size_t n, size_t size, mw_mem_tag tag);
MW_API void *mw_realloc(void *ptr, size_t size, mw_mem_tag tag);
MW_API void  mw_free(void *ptr);
MW_API char *mw_strdup(const char *s, mw_mem_tag tag);

MW_API void mw_mem_get_stats(mw_mem_stats *out);
MW_API const char *mw_mem_tag_name(mw_mem_tag tag);

/* Fault injection for tests: MEMWALL_FAIL_ALLOC=N in the environment makes
 * the N-th allocation fail, and only that one (read at the first
 * allocation), so a test can fail any allocation of a program built on
 * libmemwall, the command line tool included. */

/* ------------------------------------------------------------------------
 * Sizes and durations (the command line's units)
 * ------------------------------------------------------------------------ */

/*! mw_size_parse() :
 *  Parses "4096", "512M", "1.5GiB", "2G", "100kB". K/M/G/T (with or without
 *  "iB") are powers of 1024; kB/MB/GB/TB are powers of 1000; a trailing B
 *  is optional. Whitespace, signs, unknown suffixes and sizes above 1 EiB
 *  (2^60 bytes) are errors. @return MW_OK or MW_ERR_INVALID (err says why). */
MW_API mw_status mw_size_parse(const char *text, uint64_t *out_bytes, mw_err *err);

/*! mw_duration_parse() :
 *  Parses "100ms", "1ms", "0.5s", "250us", "2m", or a bare number of
 *  seconds, up to a week (168h). @return MW_OK or MW_ERR_INVALID. */
MW_API mw_status mw_duration_parse(const char *text, double *out_seconds, mw_err *err);

/*! mw_size_format() :
 *  Writes bytes in IEC units with 3 significant digits ("1.50 GiB",
 *  "512 MiB", "812 B"); MW_UNKNOWN is written as "-". @return buf. */
MW_API char *mw_size_format(uint64_t bytes, char *buf, size_t cap);

/*! mw_count_format() : a count with an SI suffix, 3 significant digits
 *  ("8.03 B", "124 M", "12.9 K", "812"). @return buf. */
MW_API char *mw_count_format(uint64_t n, char *buf, size_t cap);

/*! mw_signal_name() : "SIGINT", "SIGTERM", ... for the signals a run
 *  reports (termination, kills, faults); "signal" for others. */
MW_API const char *mw_signal_name(int sig);

/* ------------------------------------------------------------------------
 * Watching a process tree (the probe)
 * ------------------------------------------------------------------------ */

/* One sample of the whole tree, passed to mw_watch_opts.on_sample. */
typedef struct mw_sample {
    double   t_seconds;              /* since the command started          */
    uint32_t processes;              /* live processes in the tree         */
    uint64_t rss_bytes;              /* sum of VmRSS over the tree         */
    uint64_t rss_anon_bytes;
    uint64_t rss_file_bytes;
    uint64_t rss_shmem_bytes;
    uint64_t swap_bytes;             /* sum of VmSwap                      */
    uint64_t pss_bytes;              /* sum of Pss (with --pss) or UNKNOWN */
    uint64_t minor_faults;           /* cumulative, live processes         */
    uint64_t major_faults;
    uint64_t cgroup_bytes;           /* cgroup memory.current or UNKNOWN   */
    uint64_t gpu_bytes;              /* tree's GPU memory (NVML) or UNKNOWN*/
    uint64_t gpu_device_used_bytes;  /* all devices' used memory or UNKNOWN*/
    double   psi_some_seconds;       /* memory stall since start or <0     */
    double   psi_full_seconds;

    /* --- issue #16: what live metrics show (docs/CLUSTER.md, "Prometheus");
     * the arrays are valid during the on_sample callback only --- */
    uint64_t cgroup_limit_bytes;     /* the cgroup's limit, or MW_UNKNOWN  */
    uint32_t gpu_devices;            /* entries of gpu; 0: no NVML         */
    const struct mw_gpu_device_sample *gpu;
    uint32_t nprocs;                 /* entries of procs: the live processes */
    const struct mw_proc_sample *procs;
    /* --- issue #16, Prometheus: counters that never go down and the
     * peak so far (minor_/major_faults above drop when a process exits) --- */
    uint64_t peak_rss_bytes;         /* the tree's peak so far (as the result's) */
    uint64_t minor_faults_total;     /* every process seen, exited ones too */
    uint64_t major_faults_total;
} mw_sample;

/* One GPU in a sample (issue #16). */
typedef struct mw_gpu_device_sample {
    uint32_t index;
    uint64_t total_bytes;
    uint64_t used_bytes;             /* device-wide, every process         */
    uint64_t tree_bytes;             /* this tree's processes              */
} mw_gpu_device_sample;

/* One live process in a sample (issue #16). */
typedef struct mw_proc_sample {
    int32_t  pid;
    int32_t  rank;                   /* MW_RANK_NONE: its environment names none */
    char     comm[32];
    uint64_t rss_bytes;
    uint64_t swap_bytes;
    uint64_t gpu_bytes;              /* NVML, else MW_UNKNOWN              */
    uint64_t major_faults;
} mw_proc_sample;

/* What one process of the tree used over its life (as far as seen). */
typedef struct mw_proc_summary {
    int32_t  pid;
    int32_t  ppid;
    char     comm[32];               /* /proc/PID/comm                     */
    uint64_t peak_rss_bytes;         /* VmHWM (the kernel's high-water)    */
    uint64_t peak_rss_anon_bytes;    /* max sampled RssAnon                */
    uint64_t peak_rss_file_bytes;
    uint64_t peak_rss_shmem_bytes;
    uint64_t peak_swap_bytes;
    uint64_t peak_pss_bytes;         /* with --pss, else UNKNOWN           */
    uint64_t peak_gpu_bytes;         /* NVML, else UNKNOWN                 */
    uint64_t minor_faults;
    uint64_t major_faults;
    double   start_seconds;          /* first seen, since the command start */
    double   end_seconds;            /* last seen alive; <0: still running  */
    /* issue #16: the rank its environment gives it (mw_rank_from_environ),
     * read when it is first seen; MW_RANK_NONE when none */
    int32_t  rank;
    int32_t  local_rank;
} mw_proc_summary;

/* Ranks of a distributed job (issue #16, docs/CLUSTER.md). */
#define MW_RANK_NONE (-1)

/* What the processes of one rank used (issue #16): every process of the
 * tree whose environment gives it that rank (a rank's own children, e.g.
 * data loader workers, inherit it). */
typedef struct mw_rank_summary {
    int32_t  rank;
    int32_t  local_rank;             /* MW_RANK_NONE when none is given    */
    uint32_t processes;              /* seen with this rank                */
    uint64_t peak_rss_bytes;         /* max over samples of Σ RSS of its live
                                        processes, and at least any one's VmHWM */
    uint64_t peak_gpu_bytes;         /* NVML, else MW_UNKNOWN              */
    uint64_t major_faults;
    double   start_seconds;          /* its first process first seen       */
    double   end_seconds;            /* its last process last seen; <0: alive */
    int      oom_killed;             /* one of its processes was OOM-killed */
} mw_rank_summary;

/*! mw_rank_from_environ() : the rank an environment gives a process: the
 *  first of RANK, OMPI_COMM_WORLD_RANK, PMIX_RANK, PMI_RANK, SLURM_PROCID
 *  that is a non-negative integer (torchrun's RANK first: under srun it is
 *  the worker's, SLURM_PROCID the launcher's), and its local rank from
 *  LOCAL_RANK, OMPI_COMM_WORLD_LOCAL_RANK, MPI_LOCALRANKID, SLURM_LOCALID;
 *  MW_RANK_NONE for either when none is. env: len bytes of NUL-separated
 *  "NAME=value" strings, as /proc/PID/environ holds them; NULL: this
 *  process's own environment. */
MW_API void mw_rank_from_environ(const char *env, size_t len, int32_t *rank, int32_t *local_rank);

typedef struct mw_gpu_device_summary {
    uint32_t index;
    char     name[96];
    uint64_t total_bytes;
    uint64_t peak_used_bytes;        /* device-wide, every process         */
    uint64_t peak_tree_bytes;        /* this tree's processes only         */
} mw_gpu_device_summary;

typedef enum mw_cgroup_version {
    MW_CGROUP_NONE = 0,
    MW_CGROUP_V1 = 1,
    MW_CGROUP_V2 = 2
} mw_cgroup_version;

typedef struct mw_watch_result {
    /* the command */
    int32_t  pid;                    /* root of the tree                   */
    int      exit_code;              /* -1 when unknown (--pid) or signal  */
    int      term_signal;            /* 0 unless killed by a signal        */
    int      oom_killed;             /* 1: a process of it was OOM-killed  */
    int      timed_out;              /* 1: killed after opts.timeout_seconds */
    int      status_code;            /* what memwall exits with: the code,
                                        128+signal, or 0 with --pid        */
    double   wall_seconds;
    double   user_seconds;           /* of the reaped tree; <0 unknown     */
    double   sys_seconds;
    double   watcher_cpu_seconds;    /* memwall's own CPU time             */

    /* the whole tree */
    uint64_t peak_rss_bytes;         /* max(Σ sampled RSS, any VmHWM, ru_maxrss) */
    uint64_t peak_rss_anon_bytes;
    uint64_t peak_rss_file_bytes;
    uint64_t peak_rss_shmem_bytes;
    uint64_t peak_swap_bytes;
    uint64_t peak_pss_bytes;         /* UNKNOWN unless opts.pss            */
    uint64_t minor_faults;
    uint64_t major_faults;
    uint32_t max_processes;          /* most processes alive at once       */
    uint64_t samples;
    double   interval_seconds;

    /* the memory cgroup memwall made (--mem-limit) */
    mw_cgroup_version cgroup_version; /* NONE when no cgroup was used       */
    char     cgroup_path[256];
    uint64_t cgroup_limit_bytes;
    uint64_t cgroup_swap_limit_bytes;
    uint64_t cgroup_peak_bytes;
    uint64_t cgroup_swap_peak_bytes;
    uint64_t cgroup_oom_kills;        /* v2 memory.events oom_kill, v1 oom_control */
    uint64_t cgroup_limit_hits;       /* v2 memory.events max, v1 failcnt   */
    uint64_t cgroup_refaults_anon;    /* memory.stat workingset_refault_*:  */
    uint64_t cgroup_refaults_file;    /* the cgroup's own; UNKNOWN w/o one  */

    /* system-wide deltas over the run (/proc/vmstat, /proc/pressure) */
    uint64_t sys_swap_in_pages;
    uint64_t sys_swap_out_pages;
    uint64_t sys_major_faults;
    uint64_t sys_refaults_anon;
    uint64_t sys_refaults_file;
    uint64_t sys_oom_kills;
    double   psi_some_seconds;        /* cgroup's when one, else system's; <0 unknown */
    double   psi_full_seconds;

    /* GPU, when NVML is present (gpu_devices == 0 otherwise) */
    uint32_t gpu_devices;
    mw_gpu_device_summary *gpu;      /* gpu_devices entries                */
    uint64_t peak_gpu_bytes;         /* tree's, all devices; UNKNOWN w/o NVML */

    /* every process seen */
    uint32_t nprocs;
    mw_proc_summary *procs;          /* nprocs entries, in order of discovery */

    /* the command's argv (NULL-terminated), for reports */
    char   **argv;

    int      signal_received;        /* the first SIGINT, SIGTERM or SIGHUP
                                        memwall received while it ran; 0: none */

    /* processes of the tree seen outside the cap's cgroup (they moved
     * themselves out, e.g. wrote their PID to another cgroup.procs): their
     * memory is neither capped nor in cgroup_peak_bytes. 0 without a
     * cgroup (or a fake tree, where it is not checked) */
    uint32_t escaped_processes;
    int32_t  escaped_pid;            /* the first one seen; 0: none        */

    /* --- issue #16: ranks and hosts (docs/CLUSTER.md) --- */
    char     host[64];               /* this machine's name (gethostname)  */
    double   start_unix_seconds;     /* when the command started (or --pid's
                                        watch), seconds since the epoch     */
    int32_t  watcher_rank;           /* memwall's own environment's rank
                                        (`srun memwall watch`); MW_RANK_NONE */
    int32_t  watcher_local_rank;
    uint32_t n_ranks;                /* ranks seen in the tree (0: none)   */
    mw_rank_summary *ranks;          /* n_ranks entries, by rank           */
    double   cap_hit_seconds;        /* the first sample at which the cgroup's
                                        usage reached its limit (or its limit
                                        hits rose), or an OOM kill, since the
                                        start; < 0: never, or no cap        */

    /* --- issue #16: the cgroup memwall ran in, when it made none --- */
    int      cgroup_inherited;       /* 1: cgroup_* describe the memory cgroup
                                        memwall itself ran in (a Slurm job's)
                                        because it has a limit; memwall only
                                        reads it                          */
} mw_watch_result;

typedef void (*mw_sample_fn)(const mw_sample *sample, void *user);

typedef struct mw_watch_opts {
    double   interval_seconds;       /* default 0.1; at least 0.001        */
    int      pss;                    /* read smaps_rollup for PSS (slower) */
    int      gpu;                    /* 1 (default): use NVML when present */
    uint64_t mem_limit_bytes;        /* MW_UNLIMITED (default): no cgroup  */
    uint64_t swap_limit_bytes;       /* MW_UNLIMITED: 0 when mem_limit set */
    pid_t    attach_pid;             /* >0: watch this running process     */
    int      forward_signals;        /* 1 (default): SIGINT/TERM/HUP sent to
                                        memwall are passed on to the child */
    mw_sample_fn on_sample;          /* called after each sample, or NULL  */
    void    *on_sample_user;
    int      stdout_fd;              /* >= 0: the command's standard output
                                        goes there (default -1: inherited)  */
    int      stderr_fd;              /* >= 0: its standard error (default -1) */
    double   timeout_seconds;        /* > 0: SIGKILL the tree after this;
                                        res->timed_out says so              */
    int      die_with_watcher;       /* the command gets SIGKILL if memwall
                                        dies first (the sweep's points)     */
    int      kill_on_signal;         /* 1: SIGINT/TERM/HUP end the whole tree:
                                        forwarded (forward_signals), SIGKILL
                                        after 2 s if the root lives on, and
                                        what is left of the tree (the
                                        cgroup's) SIGKILLed once it exits;
                                        res->signal_received says which   */
    const char *const *env_add;      /* NULL-terminated "NAME=value" settings
                                        the command gets on top of (or
                                        instead of) the caller's environment;
                                        the caller's own is not changed; NULL */
    int      keep_fd;                /* > 2: a descriptor the command inherits
                                        although memwall opens everything
                                        close-on-exec (the sweep's
                                        MEMWALL_REPORT_FD); -1 (default): none.
                                        Every other descriptor above 2 that is
                                        close-on-exec stays memwall's      */
} mw_watch_opts;

MW_API void mw_watch_opts_init(mw_watch_opts *opts);

/*! mw_watch_run() :
 *  Starts argv (no shell; argv[0] looked up in PATH), or attaches to
 *  opts->attach_pid when argv is NULL, and samples the process tree until the
 *  root exits. Blocks SIGINT, SIGTERM, SIGHUP and SIGCHLD in the calling
 *  thread while it runs (they are read through a signalfd) and restores the
 *  mask before returning.
 *  @return MW_OK when the command ran (whatever its exit status; see
 *          res->status_code), MW_ERR_SPAWN (err.msg says why; res is still
 *          filled: status_code 127 not found, 126 not executable),
 *          MW_ERR_PERMISSION / MW_ERR_UNSUPPORTED when --mem-limit cannot
 *          make a cgroup, MW_ERR_NOMEM. On MW_OK and MW_ERR_SPAWN *out is set
 *          and must be freed with mw_watch_result_free(). */
MW_API mw_status mw_watch_run(const char *const *argv, const mw_watch_opts *opts,
                              mw_watch_result **out, mw_err *err);

MW_API void mw_watch_result_free(mw_watch_result *res);

/* --- issue #16: Prometheus (docs/CLUSTER.md, "Prometheus metrics") --- */

/* The labels every series carries, and whether the command still runs. */
typedef struct mw_metrics_info {
    const char *command;             /* label command (argv[0]'s basename);
                                        NULL: ""                           */
    const char *host;                /* label host; NULL: ""                */
    int32_t     rank;                /* label rank: the watcher's own
                                        (mw_rank_from_environ); MW_RANK_NONE:
                                        "" (every series has the 3 labels) */
    int         up;                  /* memwall_up: 1 while the command runs,
                                        0 once it has ended                */
} mw_metrics_info;

/*! mw_metrics_format() : a sample in the Prometheus text exposition format
 *  0.0.4 (# HELP and # TYPE for each family, label values escaped, bytes
 *  and seconds, counters ending in _total); values that are unknown are
 *  left out. Like snprintf: writes at most cap bytes into buf (NUL-
 *  terminated when cap > 0) and @return the length of the whole text; a
 *  return >= cap means buf was too small. No allocation. */
MW_API size_t mw_metrics_format(const mw_sample *s, const mw_metrics_info *info, char *buf, size_t cap);

/* ------------------------------------------------------------------------
 * Reports
 * ------------------------------------------------------------------------ */

enum {
    MW_REPORT_COLOR = 1 << 0         /* ANSI colours (caller decides: tty, NO_COLOR) */
};

/* Every report flushes its stream before it returns, and returns MW_ERR_IO
 * with a message in err (may be NULL) when a write or the flush failed (a
 * full disk, a closed pipe): what was measured stays in the result. */

/*! mw_watch_report_text() : the human summary, memory first, IEC units. */
MW_API mw_status mw_watch_report_text(const mw_watch_result *res, FILE *out, unsigned flags, mw_err *err);

/*! mw_watch_report_json() : the stable JSON document (schema in
 *  docs/JSON.md, "memwall.watch/1"), raw numbers in bytes and seconds, null
 *  for unknown, followed by a newline. */
MW_API mw_status mw_watch_report_json(const mw_watch_result *res, FILE *out, mw_err *err);

/* ------------------------------------------------------------------------
 * One report across ranks and hosts: memwall merge (issue #16,
 * docs/CLUSTER.md)
 * ------------------------------------------------------------------------ */

/* One rank, from a "memwall.watch/1" file: the file's ranks[] (a watch of
 * a launcher such as mpirun or torchrun), or the whole tree as the
 * watcher's rank (`srun memwall watch`). */
typedef struct mw_merge_rank {
    int32_t  rank;                   /* MW_RANK_NONE: the file names none  */
    char     host[64];
    char     file[512];
    uint64_t peak_rss_bytes;
    uint64_t peak_gpu_bytes;         /* MW_UNKNOWN without NVML             */
    uint64_t limit_bytes;            /* its cgroup's limit, else MW_UNKNOWN */
    double   cap_hit_unix_seconds;   /* when it reached its cap (or was OOM-
                                        killed), epoch seconds; < 0: never  */
    int      oom_killed;
    int      status_code;            /* the watch's: what the command exited with */
} mw_merge_rank;

typedef struct mw_merge_result {
    size_t   n_ranks;
    mw_merge_rank *ranks;            /* by rank, then host, then file       */
    size_t   n_files;
    size_t   n_hosts;
    uint64_t max_peak_bytes;         /* the largest rank's peak             */
    uint64_t median_peak_bytes;
    double   imbalance;              /* max / median peak; < 0: unknown     */
    size_t   max_index;              /* the largest rank (index into ranks) */
    size_t   first_cap_index;        /* the rank that hit its cap first;
                                        SIZE_MAX: none did                  */
} mw_merge_result;

/*! mw_merge_files() : reads n "memwall.watch/1" JSON files (each checked:
 *  an unreadable file, one that is no such document, or a rank twice on a
 *  host is an error naming the file) and merges their ranks. @return MW_OK
 *  (*out to free with mw_merge_result_free), MW_ERR_IO, MW_ERR_INVALID,
 *  MW_ERR_NOMEM. */
MW_API mw_status mw_merge_files(const char *const *paths, size_t n, mw_merge_result **out, mw_err *err);
MW_API void mw_merge_result_free(mw_merge_result *r);
/*! mw_merge_report_text() / _json() : the table of ranks, the imbalance and
 *  the first rank at its cap; the JSON's schema is "memwall.merge/1"
 *  (docs/JSON.md). */
MW_API mw_status mw_merge_report_text(const mw_merge_result *r, FILE *out, unsigned flags, mw_err *err);
MW_API mw_status mw_merge_report_json(const mw_merge_result *r, FILE *out, mw_err *err);

/* A sample timeline written as the samples are taken: one line per sample,
 * each written with a single write(2), so a killed run leaves a complete
 * file up to its last sample. */
typedef enum mw_timeline_format {
    MW_TIMELINE_CSV = 0,
    MW_TIMELINE_JSONL = 1
} mw_timeline_format;

typedef struct mw_timeline mw_timeline;

/*! mw_timeline_open() : creates (truncates) path; "-" is not accepted.
 *  MW_TIMELINE_CSV writes a header line first. */
MW_API mw_status mw_timeline_open(const char *path, mw_timeline_format format,
                                  mw_timeline **out, mw_err *err);
MW_API mw_status mw_timeline_write(mw_timeline *tl, const mw_sample *sample, mw_err *err);
MW_API void mw_timeline_close(mw_timeline *tl);

/*! mw_timeline_format_for_path() : JSONL for *.jsonl / *.json / *.ndjson,
 *  CSV otherwise. */
MW_API mw_timeline_format mw_timeline_format_for_path(const char *path);

/* ------------------------------------------------------------------------
 * Tensor element types
 *
 * One list for every format: ggml's types (GGUF, with their block layouts)
 * and safetensors' dtypes. Block-quantized types store `block_elems`
 * elements in `block_bytes` bytes; plain types have block_elems 1.
 * ------------------------------------------------------------------------ */

typedef enum mw_dtype {
    MW_DTYPE_F32 = 0, MW_DTYPE_F16, MW_DTYPE_BF16, MW_DTYPE_F64,
    MW_DTYPE_Q4_0, MW_DTYPE_Q4_1, MW_DTYPE_Q5_0, MW_DTYPE_Q5_1, MW_DTYPE_Q8_0, MW_DTYPE_Q8_1,
    MW_DTYPE_Q2_K, MW_DTYPE_Q3_K, MW_DTYPE_Q4_K, MW_DTYPE_Q5_K, MW_DTYPE_Q6_K, MW_DTYPE_Q8_K,
    MW_DTYPE_IQ2_XXS, MW_DTYPE_IQ2_XS, MW_DTYPE_IQ3_XXS, MW_DTYPE_IQ1_S, MW_DTYPE_IQ4_NL,
    MW_DTYPE_IQ3_S, MW_DTYPE_IQ2_S, MW_DTYPE_IQ4_XS, MW_DTYPE_IQ1_M,
    MW_DTYPE_TQ1_0, MW_DTYPE_TQ2_0, MW_DTYPE_MXFP4,
    MW_DTYPE_I8, MW_DTYPE_I16, MW_DTYPE_I32, MW_DTYPE_I64,
    MW_DTYPE_U8, MW_DTYPE_U16, MW_DTYPE_U32, MW_DTYPE_U64, MW_DTYPE_BOOL,
    MW_DTYPE_F8_E4M3, MW_DTYPE_F8_E5M2,
    /* issue #14, sparse: memwall's own sparse types (docs/SPARSE.md; GGUF
     * type ids 4096..4101, which llama.cpp refuses). _SU: unstructured, a
     * fixed number of values kept per row (memwall.sparse.keep_q16);
     * _S24: 2 of each group of 4 inputs kept. */
    MW_DTYPE_F32_SU, MW_DTYPE_F16_SU, MW_DTYPE_Q8_SU,
    MW_DTYPE_F32_S24, MW_DTYPE_F16_S24, MW_DTYPE_Q8_S24,
    /* issue #14: unstructured int8 with one f32 scale per 256 inputs and
     * values stored as w + 128, taking x in Q8_K (GGUF id 4102; rows of a
     * multiple of 256 inputs): the faster Q8 type convert writes */
    MW_DTYPE_Q8_SUK,
    MW_DTYPE_COUNT
} mw_dtype;

typedef struct mw_dtype_info {
    const char *name;            /* "Q8_0", "BF16", "F8_E4M3" ...         */
    uint32_t block_elems;        /* elements per block (1: not blocked)   */
    uint32_t block_bytes;        /* bytes per block                       */
    int32_t  ggml_id;            /* ggml_type id, -1 when not a ggml type */
    const char *safetensors;     /* safetensors dtype name, or NULL       */
} mw_dtype_info;

/* NULL for an out-of-range value. */
MW_API const mw_dtype_info *mw_dtype_get(mw_dtype t);
/* Case-insensitive name ("q8_0", "bf16", "f16") -> type; MW_ERR_INVALID with
 * the list of names when unknown. */
MW_API mw_status mw_dtype_from_name(const char *name, mw_dtype *out, mw_err *err);
/* ggml type id -> type; MW_ERR_UNSUPPORTED naming the id when unknown. */
MW_API mw_status mw_dtype_from_ggml(uint32_t ggml_id, mw_dtype *out, mw_err *err);
/* Bytes of n elements (whole blocks); MW_UNKNOWN when n is not a multiple
 * of the block or the product overflows. */
MW_API uint64_t mw_dtype_bytes(mw_dtype t, uint64_t n_elems);
/* Bits per element, e.g. 8.5 for Q8_0. */
MW_API double mw_dtype_bits(mw_dtype t);

/* ---- issue #14, sparse: memwall's sparse types (docs/SPARSE.md) ---------
 * Rows of k inputs (k a multiple of 64). The 2:4 types have fixed 64-input
 * blocks (mw_dtype_bytes works for them); the unstructured (_SU) types keep
 * `keep` values in every row of a tensor, so their size needs keep:
 * mw_dtype_bytes returns MW_UNKNOWN and mw_dtype_bits 0 for them. */
#define MW_SPARSE_BLOCK 64
#define MW_GGUF_SPARSE_KEEP_KEY "memwall.sparse.keep_q16"
/* general.description of a file with sparse tensors (memwall convert) */
#define MW_SPARSE_DESCRIPTION "memwall-only GGUF: pruned weights in memwall's sparse types (docs/SPARSE.md); " \
                              "llama.cpp cannot load it: memwall convert IN OUT.gguf --densify writes a copy it can"
/* 1 for the seven sparse types. */
MW_API int mw_dtype_is_sparse(mw_dtype t);
/* The sparse type of base F32, F16 or Q8_0 (two_four: 2:4, else
 * unstructured); MW_DTYPE_COUNT for any other base. */
MW_API mw_dtype mw_sparse_type(mw_dtype base, int two_four);
/* The dense type a sparse type densifies to (F32, F16, Q8_0; Q8_0 for
 * Q8_SUK too); MW_DTYPE_COUNT for a type that is not sparse. */
MW_API mw_dtype mw_sparse_base(mw_dtype t);
/* 1 for the 2:4 types. */
MW_API int mw_sparse_is_24(mw_dtype t);
/* The kept fraction 1 - ratio in 1/65536 units, rounded to nearest
 * (0 for ratio >= 1, 65536 for ratio <= 0). */
MW_API uint32_t mw_sparse_keep_q16(double ratio);
/* Values kept per row of k: (k * keep_q16 + 32768) >> 16, at most k; -1
 * when k >= 2^47 (the product would overflow). */
MW_API int64_t mw_sparse_row_keep(int64_t k, uint32_t keep_q16);
/* Bytes of one row of k inputs (keep: values kept, unstructured types
 * only; the 2:4 types keep k/2). 0 when k is not a positive multiple of 64
 * (of 256 for Q8_SUK), keep is outside [0, k] or t is not sparse. */
MW_API uint64_t mw_sparse_row_bytes(mw_dtype t, int64_t k, int64_t keep);

/* ------------------------------------------------------------------------
 * Models: what a file (or a config.json, or a preset) says about a model
 * ------------------------------------------------------------------------ */

#define MW_MAX_DIMS 8

typedef enum mw_model_source {
    MW_SOURCE_GGUF = 1,
    MW_SOURCE_SAFETENSORS,          /* one file, or shards through an index */
    MW_SOURCE_HF_CONFIG,            /* config.json alone: no weights        */
    MW_SOURCE_PRESET                /* a built-in config                    */
} mw_model_source;

typedef struct mw_tensor_info {
    char    *name;
    mw_dtype dtype;
    uint32_t n_dims;
    uint64_t shape[MW_MAX_DIMS];     /* row-major, outermost first (PyTorch
                                        order; GGUF's dims are reversed)   */
    uint64_t n_elems;
    uint64_t bytes;
    uint64_t offset;                 /* absolute byte offset in its file    */
    uint32_t file;                   /* index into mw_model.files           */
} mw_tensor_info;

/* Hyperparameters of a decoder-only transformer. 0 means "not given". */
typedef struct mw_hparams {
    char     arch[32];               /* llama, mistral, qwen2, gemma, phi3,
                                        gpt2, gpt_neox, mixtral, qwen2_moe,
                                        qwen3_moe, deepseek_v2, deepseek_v3,
                                        qwen3, gemma2, gemma3, gemma3_text  */
    uint32_t n_layers;               /* L */
    uint32_t n_embd;                 /* h */
    uint32_t n_heads;                /* a */
    uint32_t n_kv_heads;             /* a_kv (GQA; = a without it)           */
    uint32_t head_dim;               /* d (usually h / a)                   */
    uint32_t n_ff;                   /* f (per expert for MoE)              */
    uint32_t n_vocab;                /* v */
    uint32_t n_ctx_train;            /* maximum positions                   */
    uint32_t n_experts;              /* MoE: experts per layer (0: dense)   */
    uint32_t n_experts_used;         /* MoE: experts per token              */
    int      tied_embeddings;        /* output projection = token embedding */
    int      gated_ffn;              /* SwiGLU/GeGLU: 3 matrices, else 2    */
    int      layer_norm;             /* LayerNorm (weight + bias), else RMS */
    int      attn_bias;              /* attention biases, as the architecture
                                        places them (format/arch.c)         */
    int      mlp_bias;               /* biases on the MLP                   */
    int      learned_pos;            /* learned position embeddings (gpt2)  */
    double   rope_theta;
    double   norm_eps;
    mw_dtype dtype;                  /* the weights' type: torch_dtype, else
                                        the type holding the most bytes;
                                        MW_DTYPE_COUNT when neither says    */
    /* --- MoE and MLA (issue #13: deepseek_v2/v3, qwen2_moe, qwen3_moe;
     * docs/PLAN.md "MoE and MLA"). All 0 for dense models and mixtral,
     * whose experts are n_ff wide in every layer. --- */
    uint32_t n_ff_expert;            /* a routed expert's FFN size
                                        (moe_intermediate_size); 0: n_ff  */
    uint32_t n_ff_shared;            /* the shared expert(s)' FFN size in all:
                                        qwen2_moe shared_expert_intermediate_
                                        size; deepseek n_shared_experts x
                                        moe_intermediate_size (0: none)     */
    uint32_t n_shared_experts;       /* deepseek: n_shared_experts            */
    int      shared_expert_gate;     /* qwen2_moe: a [1, h] gate on it        */
    int      expert_bias;            /* deepseek_v3: gate.e_score_correction_
                                        bias [E]                            */
    uint32_t moe_first_dense;        /* deepseek first_k_dense_replace: the
                                        first layers are dense (n_ff)       */
    uint32_t moe_every;              /* deepseek moe_layer_freq, qwen
                                        decoder_sparse_step (0 or 1: all)   */
    uint64_t moe_dense_layers[4];    /* qwen mlp_only_layers: bit i = layer i
                                        is dense (layers < 256)             */
    uint32_t q_lora_rank;            /* MLA: q_a_proj rank (0: plain q_proj) */
    uint32_t kv_lora_rank;           /* MLA: the cached latent (0: not MLA)  */
    uint32_t qk_nope_dim;            /* MLA: qk_nope_head_dim                */
    uint32_t qk_rope_dim;            /* MLA: qk_rope_head_dim (cached too)   */
    uint32_t v_head_dim;             /* MLA: v_head_dim                      */
    uint32_t n_mtp_layers;           /* num_nextn_predict_layers: not listed
                                        as tensors (the main model only)    */
    /* Dense architectures of issue #13 (qwen3, llama 3.1/3.2, gemma2,
     * gemma3; format/hf_config.c, docs/PLAN.md). All 0 for the others. */
    int      qk_norm;                /* RMSNorm weights [d] on q and k per
                                        layer (qwen3, gemma3)               */
    int      ffn_norms;              /* pre_/post_feedforward_layernorm as
                                        well (gemma2, gemma3)               */
    uint32_t sliding_window;         /* tokens a local layer attends to and
                                        keeps in its KV cache; 0: none      */
    uint32_t swa_period;             /* with sliding_window: layer i is global
                                        when (i + 1) % swa_period == 0
                                        (gemma2: 2, gemma3: 6); 0: every
                                        layer is local                      */
    char     rope_scaling[16];       /* rope_scaling's type ("llama3",
                                        "linear", "longrope", ...); "": none */
    double   rope_factor;            /* its factor; 0 when it has none      */
    uint32_t rope_orig_ctx;          /* original_max_position_embeddings  */
} mw_hparams;

typedef struct mw_model {
    mw_model_source source;
    char     *path;                  /* what was opened                     */
    int       has_hparams;
    mw_hparams hp;
    uint32_t  n_tensors;             /* for a config or preset: the tensors
                                        its architecture implies            */
    mw_tensor_info *tensors;
    uint32_t  n_files;
    char    **files;                 /* the weight files (shards)           */
    uint64_t  n_params;              /* from the tensors, else the config   */
    uint64_t  weights_bytes;         /* as stored, else at hp.dtype         */
    uint64_t  n_params_active;       /* MoE: the parameters one token uses:
                                        n_params less the routed experts it
                                        is not sent to (embedding counted,
                                        as Mixtral's and Qwen's cards do);
                                        = n_params for a dense model        */
    struct mw_model_impl *impl;      /* the reader's own state (mappings):
                                        opaque, released by mw_model_free  */
} mw_model;

/*! mw_model_open() :
 *  Opens a GGUF file, a safetensors file, a folder (config.json and any
 *  *.safetensors / model.safetensors.index.json in it), a config.json, or a
 *  preset name (mw_preset_names()). Every count, offset and size in a file
 *  is checked; errors say what is wrong and at which offset.
 *  @return MW_OK and *out (free with mw_model_free). */
MW_API mw_status mw_model_open(const char *what, mw_model **out, mw_err *err);
MW_API void mw_model_free(mw_model *m);

/* NULL-terminated list of the built-in preset names. */
MW_API const char *const *mw_preset_names(void);

/* The built-in models shipped as files (models/; "tiny", a small llama
 * trained on text, models/README.md): NULL-terminated names. mw_model_open
 * and mw_run take these names. */
MW_API const char *const *mw_builtin_model_names(void);
/*! mw_builtin_model_path() : where the built-in model's file is:
 *  $MEMWALL_MODELS_DIR when set (there only); else the installed data folder
 *  or the source tree memwall was built from, the first that has it. @return MW_OK and buf, or
 *  MW_ERR_NOT_FOUND saying where it looked. */
MW_API mw_status mw_builtin_model_path(const char *name, char *buf, size_t cap, mw_err *err);

/* ------------------------------------------------------------------------
 * Tokenizer: a model's vocabulary (GGUF tokenizer.ggml.*): model "llama"
 * (SentencePiece-style) or "gpt2" (byte-level BPE with the pre-tokenizers
 * default, gpt-2, llama3 and qwen2), docs/TOKENIZER.md.
 * ------------------------------------------------------------------------ */

typedef struct mw_tokenizer mw_tokenizer;

/*! mw_tokenizer_open() : the vocabulary of the GGUF file at path. Every
 *  count, id and length in the file is checked; a malformed vocabulary is
 *  refused with what is wrong. Free with mw_tokenizer_free. */
MW_API mw_status mw_tokenizer_open(const char *path, mw_tokenizer **out, mw_err *err);
/*! mw_tokenizer_from_model() : the same from a model opened from a GGUF file
 *  (mw_model_open); the tokenizer copies what it needs: m may be freed. */
MW_API mw_status mw_tokenizer_from_model(const mw_model *m, mw_tokenizer **out, mw_err *err);
MW_API void mw_tokenizer_free(mw_tokenizer *t);

/* mw_tokenizer_encode's flags (0 and 1 keep their old meaning: add_bos). */
#define MW_TOK_ADD_BOS 1u   /* BOS first, when the vocabulary has one */
#define MW_TOK_SPECIAL 2u   /* control tokens written in the text are parsed */
#define MW_TOK_ADD_EOS 4u   /* EOS last, when the vocabulary has one */

/*! mw_tokenizer_encode() : text[0..len) (UTF-8; malformed UTF-8 is refused
 *  with its byte offset) as token ids. The text is first split on the
 *  user-defined tokens written in it (always) and, with MW_TOK_SPECIAL, on
 *  its control tokens, as llama.cpp does; the pieces between go through
 *  the vocabulary's algorithm. *ids (free with mw_free) holds *n_ids ids;
 *  for an empty text it may be NULL with *n_ids 0. */
MW_API mw_status mw_tokenizer_encode(const mw_tokenizer *t, const char *text, size_t len, unsigned flags,
                                     uint32_t **ids, size_t *n_ids, mw_err *err);
/*! mw_tokenizer_decode() : the text of ids (control tokens such as BOS and
 *  EOS left out, byte tokens as their bytes, the space the encoder put in
 *  front removed). *text (free with mw_free) is NUL-terminated, *len bytes
 *  long (it may hold NUL bytes a byte token gave). An id out of range is
 *  refused with its position. */
MW_API mw_status mw_tokenizer_decode(const mw_tokenizer *t, const uint32_t *ids, size_t n_ids,
                                     char **text, size_t *len, mw_err *err);
MW_API uint32_t mw_tokenizer_vocab_size(const mw_tokenizer *t);
/* The BOS and EOS ids; -1 when the vocabulary has none. */
MW_API int64_t mw_tokenizer_bos(const mw_tokenizer *t);
MW_API int64_t mw_tokenizer_eos(const mw_tokenizer *t);
/* Whether the vocabulary asks for a BOS (tokenizer.ggml.add_bos_token;
 * absent: yes for "llama" and the llama3 pre-tokenizer, else no), and for
 * an EOS (tokenizer.ggml.add_eos_token; absent: no). */
MW_API int mw_tokenizer_adds_bos(const mw_tokenizer *t);
MW_API int mw_tokenizer_adds_eos(const mw_tokenizer *t);

/* ------------------------------------------------------------------------
 * Planning: predicted memory, component by component (docs/PLAN.md)
 * ------------------------------------------------------------------------ */

typedef enum mw_optimizer {
    MW_OPT_ADAMW = 0, MW_OPT_ADAM, MW_OPT_SGD, MW_OPT_SGD_MOMENTUM, MW_OPT_ADAM_8BIT
} mw_optimizer;

typedef enum mw_recompute {
    MW_RECOMPUTE_NONE = 0, MW_RECOMPUTE_SELECTIVE, MW_RECOMPUTE_FULL
} mw_recompute;

/* --- Weight schemes: the names people download (issue #13; docs/PLAN.md,
 * "Weights by the names people download"). A scheme gives each tensor its
 * own type from its name, shape and layer: llama.cpp's file types
 * (llama-quantize's mixes: q4_k_m puts Q6_K on the output and on attn_v and
 * ffn_down in some layers), GPTQ and AWQ int4 with a group size, fp8
 * (F8_E4M3 matrices) and bitsandbytes nf4. --- */
typedef enum mw_weight_scheme_kind {
    MW_SCHEME_NONE = 0,              /* mw_plan_opts.weight_dtype alone     */
    MW_SCHEME_LLAMACPP,              /* a llama.cpp file type               */
    MW_SCHEME_GPTQ,                  /* AutoGPTQ int4: qweight, qzeros,
                                        scales, g_idx                       */
    MW_SCHEME_AWQ,                   /* AutoAWQ int4 (GEMM): no g_idx       */
    MW_SCHEME_FP8,                   /* F8_E4M3 matrices, per-tensor scales */
    MW_SCHEME_NF4                    /* bitsandbytes NF4, double-quantized  */
} mw_weight_scheme_kind;

typedef struct mw_weight_scheme {
    mw_weight_scheme_kind kind;
    char     name[24];               /* canonical: "q4_k_m", "gptq-int4-g128" */
    mw_dtype base;                   /* the type most matrices take (Q4_K;
                                        F16 beside GPTQ/AWQ's int4; F8_E4M3;
                                        BF16 beside NF4): what the compute
                                        reads (scratch, decode step)        */
    uint32_t ftype;                  /* llama.cpp: which mix (internal)     */
    uint32_t group;                  /* GPTQ/AWQ: group size; 0 per channel */
} mw_weight_scheme;

/*! mw_weight_scheme_parse() : a scheme from its name (case-insensitive):
 *  q4_0 q4_1 q5_0 q5_1 q8_0 q2_k q3_k_s q3_k_m q3_k_l q4_k_s q4_k_m q5_k_s
 *  q5_k_m q6_k iq4_nl iq4_xs; gptq-int4-gN / awq-int4-gN (N 32, 64, 128,
 *  -1: per channel); fp8; nf4. @return MW_OK, or MW_ERR_NOT_FOUND with the
 *  known names (a plain type name such as "f16" or "q4_k" is no scheme). */
MW_API mw_status mw_weight_scheme_parse(const char *name, mw_weight_scheme *out, mw_err *err);
/* The scheme names, comma-separated, for error messages and help. */
MW_API const char *mw_weight_scheme_names(void);
/* One line saying which tensors take which type ("Q4_K; Q6_K for the
 * output, attn_v and ffn_down in ..."). */
MW_API const char *mw_weight_scheme_describe(const mw_weight_scheme *s);
/*! mw_weight_scheme_tensor_bytes() : the bytes of one tensor, given its
 *  name (GGUF "blk.N.attn_v.weight" or Hugging Face
 *  "model.layers.N.self_attn.v_proj.weight"), shape (PyTorch order) and
 *  stored type, in model m (its layers, heads, experts; whether it has an
 *  output matrix). *type (optional) gets the main type it takes.
 *  @return bytes, MW_UNKNOWN when the sizes overflow. */
MW_API uint64_t mw_weight_scheme_tensor_bytes(const mw_weight_scheme *s, const mw_model *m, const char *name,
                                              uint32_t n_dims, const uint64_t *shape, mw_dtype stored,
                                              mw_dtype *type);
/*! mw_weight_scheme_model_bytes() : the bytes of all of m's tensors in the
 *  scheme (linear in the tensor count: a model's whole-model facts, such
 *  as whether it has an output matrix, are found once). */
MW_API mw_status mw_weight_scheme_model_bytes(const mw_weight_scheme *s, const mw_model *m, uint64_t *bytes,
                                              mw_err *err);
/* bitsandbytes NF4 bytes of n parameters: 4 bits each, an 8-bit absmax per
 * 64, an fp32 scale per 256 absmax blocks (double quantization: QLoRA,
 * arXiv:2305.14314 section 3: 4 + 8/64 + 32/(64*256) bits a parameter). */
MW_API uint64_t mw_nf4_bytes(uint64_t n_params);
/* Attention and runtimes (docs/PLAN.md, "Attention and runtimes"): whose
 * allocations the plan models, and whether attention is fused. */
typedef enum mw_runtime {
    MW_RUNTIME_MEMWALL = 0,          /* memwall's own engine (unfused)       */
    MW_RUNTIME_LLAMA_CPP,            /* llama.cpp: flash attention (auto),
                                        KV cells padded to 256, logits of a
                                        whole ubatch in the compute buffer  */
    MW_RUNTIME_VLLM,                 /* vLLM: 90% of GPU memory reserved, KV
                                        in 16-token blocks, CUDA graphs     */
    MW_RUNTIME_HF,                   /* transformers generate(): SDPA,
                                        DynamicCache, one-step prefill      */
    MW_RUNTIME_COUNT
} mw_runtime;

typedef enum mw_flash_attn {
    MW_FLASH_ATTN_DEFAULT = 0,       /* the runtime's (the plan says which) */
    MW_FLASH_ATTN_OFF,               /* scores [b, a, T, S] materialized    */
    MW_FLASH_ATTN_ON                 /* tiles and softmax statistics only   */
} mw_flash_attn;

MW_API const char *mw_runtime_name(mw_runtime r);    /* "llama.cpp", "vllm" ... */
/*! mw_runtime_from_name() : "memwall", "llama.cpp" (or "llamacpp"), "vllm",
 *  "hf" (or "transformers"); MW_ERR_INVALID listing them otherwise. */
MW_API mw_status mw_runtime_from_name(const char *name, mw_runtime *out, mw_err *err);

/* How streamed weights are read (docs/PAGING.md): AUTO tries O_DIRECT and
 * falls back to BUFFERED where the file system refuses it (tmpfs);
 * BUFFERED reads through the page cache and drops each range after it is
 * read (posix_fadvise POSIX_FADV_DONTNEED), so the page cache does not
 * quietly hold the streamed layers. */
typedef enum mw_stream_io {
    MW_STREAM_IO_AUTO = 0,
    MW_STREAM_IO_BUFFERED,
    MW_STREAM_IO_DIRECT
} mw_stream_io;

MW_API const char *mw_stream_io_name(mw_stream_io io); /* "auto", "buffered", "direct" */

typedef struct mw_plan_opts {
    int      training;               /* 0: inference                        */
    uint32_t batch;                  /* sequences (per data-parallel rank)  */
    uint32_t prompt;                 /* inference: prompt tokens            */
    uint32_t gen;                    /* inference: generated tokens         */
    uint32_t ubatch;                 /* inference: prompt tokens per prefill
                                        step and sequence (llama.cpp's
                                        n_ubatch); default 512 (see runtime) */
    uint32_t ctx;                    /* KV tokens per sequence (inference,
                                        0: prompt + gen) or sequence length
                                        (training)                          */
    mw_dtype weight_dtype;           /* MW_DTYPE_COUNT: as stored           */
    mw_dtype kv_dtype;               /* default F16; the runtime's types (mw_plan_check_runtime) */
    mw_dtype act_dtype;              /* inference activations; default F32  */
    mw_optimizer optimizer;          /* training                            */
    int      mixed_precision;        /* training: 16-bit weights/activations
                                        with fp32 master weights            */
    mw_recompute recompute;          /* training activation checkpointing   */
    uint32_t tp, pp, dp;             /* tensor, pipeline, data parallel     */
    uint32_t zero;                   /* ZeRO stage 0..3 over dp ranks       */
    uint64_t mem_bytes;              /* memory per device for the inverse
                                        questions; MW_UNKNOWN: none         */
    uint64_t overhead_bytes;         /* the runtime's own memory, when known
                                        (the total's overhead); MW_UNKNOWN:
                                        80 MiB, a lean C runtime's          */
    /* --- LoRA / QLoRA fine-tuning (docs/PLAN.md "Fine-tuning with
     * adapters"). A rank or qlora implies training. --- */
    uint32_t lora_rank;              /* r; 0: full fine-tuning (qlora: 64)  */
    const char *lora_targets;        /* PEFT module names, comma-separated,
                                        or "all-linear"; NULL: PEFT's default
                                        for the architecture (qlora:
                                        all-linear). Not copied: keep it
                                        alive while the plan is used        */
    int      qlora;                  /* base in NF4 with double quantization,
                                        compute bf16, paged AdamW           */
    mw_dtype lora_dtype;             /* adapters' type; MW_DTYPE_COUNT: f32
                                        (PEFT), bf16 with qlora (qlora.py)  */
    /* Offload split (mw_plan_offload, `plan --gpu-layers`; docs/PLAN.md,
     * "Offload split"): */
    int32_t  gpu_layers;             /* layers on the GPU as llama.cpp's -ngl
                                        counts them: the output layer first,
                                        then repeating layers from the last;
                                        n_layers + 1 = all.
                                        MW_GPU_LAYERS_NONE (default): no
                                        split; MW_GPU_LAYERS_AUTO: the most
                                        that fit                            */
    uint64_t gpu_margin_bytes;       /* left free on the GPU by AUTO;
                                        MW_UNKNOWN: 1 GiB (llama.cpp
                                        --fit-target's default)             */
    double   host_bytes_per_second;  /* host memory's read bandwidth for the
                                        host part's decode time; <= 0:
                                        unknown                             */
    /* --- weight scheme (issue #13, hub/--dtype helper): kind
     * MW_SCHEME_NONE (zeroed by mw_plan_opts_init) keeps weight_dtype's
     * meaning; otherwise each tensor takes the scheme's type and
     * weight_dtype should be the scheme's base. --- */
    mw_weight_scheme weight_scheme;
    /* --- attention and runtime (issue #13; docs/PLAN.md "Attention and
     * runtimes"). With a runtime other than memwall, ubatch 0 takes that
     * runtime's step (llama.cpp 512, vLLM's max_num_batched_tokens 8192,
     * hf the whole prompt); the plan's opts hold what was used. --- */
    mw_runtime runtime;              /* default MW_RUNTIME_MEMWALL          */
    mw_flash_attn flash_attn;        /* DEFAULT: the runtime's; in the
                                        plan's opts, ON or OFF as used      */
    /* --- paging under a memory budget (issue #15, docs/PAGING.md): the
     * weights' share of memory; what does not fit is streamed from the
     * model file each step (mw_budget_split). --- */
    uint64_t mem_budget_bytes;       /* MW_UNKNOWN (default): all resident  */
    uint32_t prefetch_layers;        /* layers the reader runs ahead; 0: 2  */
    mw_stream_io stream_io;          /* the reads: AUTO and DIRECT count the
                                        reader's O_DIRECT staging in scratch
                                        (MW_STREAM_STAGING_BYTES), BUFFERED
                                        has none                             */
    double   stream_bytes_per_second; /* the slow tier's read bandwidth for
                                        the streamed bytes' time (the
                                        roofline's disk_cold tier); <= 0:
                                        unknown                              */
} mw_plan_opts;

/* ---- Paging under a memory budget (issue #15, docs/PAGING.md) ----------
 * Which weights stay resident and which are streamed, decided the same way
 * by the planner and the engine: the embeddings, the output layer and the
 * norms are always resident; then the first repeating layers as long as
 * they, the always-resident tensors and the stream buffers fit the budget;
 * the remaining layers are read from the file each step into `slots`
 * reused buffers of the largest streamed layer's size (slots = prefetch +
 * 1, at most the streamed layers). */
typedef struct mw_budget_split {
    uint64_t budget_bytes;           /* as asked                            */
    uint64_t always_bytes;           /* embeddings, output, norms           */
    uint32_t n_layers;
    uint32_t resident_layers;        /* layers 0 .. resident_layers-1       */
    uint32_t streamed_layers;        /* the rest; 0: everything fits        */
    uint32_t slots;                  /* stream buffers (0 when none)        */
    uint64_t slot_bytes;             /* each: the largest streamed layer    */
    uint64_t resident_layer_bytes;   /* Σ of the resident layers            */
    uint64_t resident_bytes;         /* always + resident layers + slots x
                                        slot_bytes: the weights' memory      */
    uint64_t streamed_bytes_per_step; /* Σ of the streamed layers: read once
                                        per forward step (a decode step, or
                                        a prefill step of up to ubatch
                                        tokens a sequence)                  */
    uint64_t min_budget_bytes;       /* the smallest budget that works:
                                        always + the largest layer x
                                        min(prefetch + 1, n_layers), or the
                                        whole model when that is smaller    */
} mw_budget_split;

/* The O_DIRECT staging buffer of the stream's reader (two 8 MiB requests
 * in flight, 4 KiB aligned): scratch memory while some layer is streamed
 * with direct reads; the plan counts it in scratch when it pages. */
#define MW_STREAM_STAGING_BYTES ((uint64_t)(16u << 20) + 4096u)

/*! mw_plan_budget_split() : the split of m's weights (stored types, or
 *  o->weight_dtype / weight_scheme as the plan counts them) for
 *  o->mem_budget_bytes and o->prefetch_layers. MW_ERR_INVALID when the
 *  budget is below min_budget_bytes (err names the smallest budget that
 *  works, and *out is filled so the caller can show it). */
MW_API mw_status mw_plan_budget_split(const mw_model *m, const mw_plan_opts *o, mw_budget_split *out,
                                      mw_err *err);

#define MW_GPU_LAYERS_NONE (-1)
#define MW_GPU_LAYERS_AUTO (-2)

MW_API void mw_plan_opts_init(mw_plan_opts *o);   /* inference, batch 1, ctx 4096 */

typedef enum mw_component {
    MW_COMP_WEIGHTS = 0, MW_COMP_KV_CACHE, MW_COMP_ACTIVATIONS, MW_COMP_SCRATCH,
    MW_COMP_GRADIENTS, MW_COMP_OPTIMIZER, MW_COMP_OVERHEAD, MW_COMP_COUNT
} mw_component;

MW_API const char *mw_component_name(mw_component c);   /* "weights", "kv_cache" ... */

/* Every figure is per device (after tp, pp and ZeRO sharding). */
typedef struct mw_plan {
    mw_plan_opts opts;               /* as used (defaults filled in)        */
    uint64_t params;                 /* whole model                         */
    uint64_t bytes[MW_COMP_COUNT];   /* overhead: the low end of its range  */
    uint64_t overhead_high_bytes;
    uint64_t total_bytes;            /* Σ bytes[] (overhead low)            */
    uint64_t total_high_bytes;       /* with the overhead's high end        */
    uint64_t kv_bytes_per_token;     /* per sequence token, all layers      */
    uint64_t act_layer_bytes;        /* peak working set of one layer       */
    uint64_t act_scores_bytes;       /* attention scores within it          */
    uint64_t act_logits_bytes;       /* the logits buffer                   */
    mw_component dominant;           /* largest component                   */
    double   decode_step_bytes;      /* inference: one decode step of the
                                        batch reads this (weights, the KV
                                        cache to the mean position) ...     */
    double   decode_step_flops;      /* ... and does this (docs/PLAN.md)    */
    /* with opts.mem_bytes: */
    int      fits;                   /* total_bytes <= mem                  */
    int      fits_high;              /* total_high_bytes <= mem             */
    uint32_t max_batch;              /* largest batch at opts.ctx (0: none) */
    uint32_t max_batch_high;         /* the same with the overhead's high end */
    uint32_t max_ctx;                /* largest context at opts.batch        */
    mw_component max_batch_dominant; /* what dominates at max_batch          */
    /* --- training: what is trained; LoRA's parts (opts.lora_rank > 0) --- */
    uint64_t trainable_params;       /* as PEFT's print_trainable_parameters
                                        counts them (full: params)          */
    uint64_t lora_modules;           /* adapted linear layers              */
    uint64_t lora_base_bytes;        /* frozen base weights (in weights)    */
    uint64_t lora_adapter_bytes;     /* adapter weights (in weights)        */
    uint64_t lora_adapter_act_bytes; /* adapters' x*A (in activations)      */
    mw_dtype lora_base_dtype;        /* the base's type; MW_DTYPE_COUNT: NF4
                                        (qlora) or as stored, mixed         */
    char     lora_targets[128];      /* the targets used                    */
    int      lora_default_targets;   /* they are PEFT's default             */
    /* MoE (issue #13): */
    uint64_t params_active;          /* mw_model.n_params_active            */
    /* --- attention and runtime (issue #13) --- */
    uint64_t act_alt_bytes;          /* activations with the other attention
                                        (unfused when flash, and back)      */
    uint64_t kv_cells;               /* KV tokens allocated for the batch
                                        (b · ctx padded as the runtime does) */
    double   mem_share;              /* share of mem_bytes the runtime may
                                        use: vLLM 0.9, else 1               */
    /* Sliding-window layers (issue #13): the KV cache is the sum over layers
     * of bytes per token x min(ctx, the layer's window) x batch. */
    uint32_t kv_sliding_layers;      /* whole model; 0: all layers global   */
    uint32_t kv_global_layers;       /* whole model                         */
    uint32_t kv_window;              /* tokens a sliding layer keeps: min(
                                        ctx, sliding_window); 0: none       */
    /* --- paging under a memory budget (opts.mem_budget_bytes, issue #15):
     * bytes[MW_COMP_WEIGHTS] is then split.resident_bytes --- */
    int      paging;                 /* 1: some layers are streamed         */
    mw_budget_split split;           /* with a budget                       */
    uint64_t stream_prefill_bytes;   /* streamed over the whole prefill     */
    double   stream_step_seconds;    /* split.streamed_bytes_per_step / the
                                        tier's bandwidth; < 0: unknown      */
    double   resident_step_seconds;  /* the resident bytes of a decode step
                                        / host bandwidth; < 0: unknown      */
} mw_plan;

/*! mw_plan_check_runtime() : the runtime, attention and KV cache type of o
 *  agree (a type the runtime offers; llama.cpp's quantized V cache needs
 *  flash attention); no model needed. MW_ERR_INVALID saying what to change. */
MW_API mw_status mw_plan_check_runtime(const mw_plan_opts *o, mw_err *err);

/*! mw_plan_compute() : a pure function: no I/O.
 *  @return MW_ERR_INVALID when the model has no hyperparameters or an
 *  option is out of range (err says which). */
MW_API mw_status mw_plan_compute(const mw_model *m, const mw_plan_opts *o, mw_plan *out, mw_err *err);

/* ---- GPUs by name and offload splits (docs/PLAN.md, "GPUs by name",
 * "Offload split") ---- */

/* One GPU's datasheet figures. Peaks are dense (no 2:4 sparsity), in
 * operations per second; 0: unknown or not supported (the row's source
 * says which). */
typedef struct mw_gpu_spec {
    const char *name;                /* "h100-80g"                          */
    const char *description;         /* "NVIDIA H100 80GB SXM5"             */
    uint64_t memory_bytes;           /* the device's memory                 */
    double   bandwidth_bytes_per_second;
    double   peak_flops_fp32;        /* non-tensor FP32                     */
    double   peak_flops_fp16;        /* FP16/BF16 tensor (matrix) cores     */
    double   peak_flops_fp8;
    double   peak_ops_int8;
    int      unified_memory;         /* host and GPU share memory (Apple)   */
    const char *source;              /* datasheet name / URL                */
} mw_gpu_spec;

/*! mw_gpu_spec_find() : a GPU by name, case-insensitive, '-', '_' and ' '
 *  ignored ("RTX_4090" = "rtx-4090"), aliases (h100 = h100-80g); with a
 *  count as NAME:N or NAMExN ("h100-80g:8", "mi300xx2"; the whole name is
 *  tried first). count may be NULL (then a count is still accepted).
 *  @return MW_ERR_INVALID listing the known names when unknown. */
MW_API mw_status mw_gpu_spec_find(const char *name, const mw_gpu_spec **out, uint32_t *count, mw_err *err);
/* NULL-terminated names of the table's rows. */
MW_API const char *const *mw_gpu_spec_names(void);
/* The memory a plan may use: all of it, or for unified memory the share
 * macOS lets the GPU wire by default (75%). */
MW_API uint64_t mw_gpu_spec_usable_bytes(const mw_gpu_spec *g);

/* One decode step of an inference plan on a GPU: it moves
 * p->decode_step_bytes at the bandwidth and does p->decode_step_flops at
 * the peak of the weights' compute type (F32: fp32; F16/BF16: fp16; FP8:
 * fp8; quantized: int8; falling back to fp16 then fp32 where unknown). */
typedef struct mw_gpu_step {
    double bandwidth_seconds;        /* bytes / bandwidth                   */
    double compute_seconds;          /* flops / peak; < 0: peak unknown     */
    double step_seconds;             /* the larger                          */
    double tokens_per_second;        /* batch / step_seconds                */
    double peak;                     /* the peak used (0: unknown)          */
    const char *peak_type;           /* "fp32", "fp16", "fp8", "int8"       */
    const char *binds;               /* "bandwidth" or "compute"            */
} mw_gpu_step;

/*! mw_gpu_step_compute() : pure. @return 0 without a decode step (a
 *  training plan) or a bandwidth. */
MW_API int mw_gpu_step_compute(const mw_model *m, const mw_plan *p, const mw_gpu_spec *g, mw_gpu_step *out);

/* An offload split (llama.cpp -ngl): per device bytes and the decode step
 * over the two tiers. */
typedef struct mw_offload {
    uint32_t n_layers;               /* the model's repeating layers        */
    uint32_t gpu_layers;             /* as -ngl counts: 0 .. n_layers + 1   */
    uint32_t gpu_repeating_layers;   /* of them, repeating layers           */
    int      output_on_gpu;          /* the output layer (norm, head)       */
    uint64_t gpu_weights_bytes;      /* its layers' (and head's) weights    */
    uint64_t gpu_kv_bytes;           /* its layers' KV cache                */
    uint64_t gpu_compute_bytes;      /* compute buffer: activations+scratch */
    uint64_t gpu_overhead_bytes;     /* the runtime's (the plan's low end)  */
    uint64_t gpu_bytes;              /* their sum                           */
    uint64_t host_weights_bytes;     /* the other layers, the embeddings    */
    uint64_t host_embed_bytes;       /* of them, the input embeddings       */
    uint64_t host_kv_bytes;
    uint64_t host_bytes;
    uint64_t gpu_limit_bytes;        /* usable memory less the margin       */
    int      fits;                   /* gpu_bytes <= gpu_limit_bytes        */
    double   gpu_read_bytes;         /* per decode step                     */
    double   host_read_bytes;
    double   gpu_seconds, host_seconds; /* < 0: that bandwidth unknown      */
    double   decode_step_seconds;    /* their sum; < 0: unknown             */
} mw_offload;

/*! mw_plan_offload() : pure. o->gpu_layers N (0 .. n_layers + 1, larger
 *  clamped as llama.cpp does) or MW_GPU_LAYERS_AUTO (the most that fit
 *  g's usable memory less o->gpu_margin_bytes). One GPU; inference only.
 *  @return MW_ERR_INVALID for training, tp/pp > 1, or no split asked. */
MW_API mw_status mw_plan_offload(const mw_model *m, const mw_plan_opts *o, const mw_gpu_spec *g, mw_offload *out,
                                 mw_err *err);

/* ------------------------------------------------------------------------
 * This machine's memory (for plan's default --mem)
 * ------------------------------------------------------------------------ */

typedef struct mw_machine_memory {
    uint64_t host_total_bytes;       /* MemTotal                            */
    uint64_t host_available_bytes;   /* MemAvailable, or our cgroup's cap
                                        when that is lower                  */
    uint64_t cgroup_limit_bytes;     /* our own cgroup's cap, or MW_UNLIMITED */
    uint32_t n_gpus;                 /* through NVML; 0 without it          */
    struct {
        char     name[96];
        uint64_t total_bytes;
        uint64_t free_bytes;
    } gpus[8];
} mw_machine_memory;

MW_API mw_status mw_machine_memory_read(mw_machine_memory *out, mw_err *err);

/* ------------------------------------------------------------------------
 * The engine: `memwall run` (llama-family decoders on the CPU)
 * ------------------------------------------------------------------------ */

/* The built-in demo model's name for mw_run and mw_model_open-like uses. */
#define MW_DEMO_MODEL "demo"


typedef struct mw_run_opts {
    uint32_t batch;                  /* sequences (0: 1, or n_seqs)         */
    uint32_t prompt;                 /* random prompt tokens per sequence   */
    uint32_t gen;                    /* greedy tokens to generate           */
    uint32_t ctx;                    /* KV tokens per sequence (0: fit)     */
    uint32_t ubatch;                 /* prompt tokens per step and sequence */
    uint32_t threads;                /* 0: the CPUs available               */
    uint64_t seed;                   /* of the random prompts               */
    mw_dtype kv_dtype;               /* F32, F16 (default) or Q8_0          */
    int      no_mmap;                /* read weights into memory            */
    int      mlock;                  /* lock the weights in memory          */
    uint32_t n_seqs;                 /* explicit prompts (0: random)        */
    const int32_t *const *tokens;    /* n_seqs arrays of token ids          */
    const uint32_t *n_tokens;        /* their lengths                       */
    uint64_t mem_available_bytes;    /* refuse a workload whose plan (low
                                        end) needs more, before allocating
                                        it; MW_UNKNOWN (default): no check  */
    /* Text (a GGUF file's own vocabulary, mw_tokenizer_*): the prompt of
     * every sequence, tokenized with BOS as the vocabulary asks; the result
     * then holds each sequence's generated text. NULL: --tokens or random. */
    const char *text;
    size_t   text_len;
    int32_t  stop_token;             /* a sequence that generates it is done
                                        and generation ends when all are;
                                        MW_RUN_STOP_EOS: the vocabulary's
                                        EOS; -1 (default): never            */
    /* With text: called after each step with each generating sequence's new
     * text (whole UTF-8 characters; a byte token's partial character waits
     * for the rest); a non-zero return ends generation after that step. */
    int    (*on_text)(void *user, uint32_t seq, const char *piece, size_t len);
    void    *on_text_user;
    /* Paging under a memory budget (issue #15, docs/PAGING.md): the
     * weights' memory (mw_budget_split.resident_bytes) stays within
     * mem_budget_bytes; the layers that do not fit are read from the GGUF
     * file each step into reused buffers by a background reader running
     * prefetch_layers ahead. A GGUF file only (not the demo). */
    uint64_t mem_budget_bytes;       /* MW_UNKNOWN (default): all resident  */
    uint32_t prefetch_layers;        /* 0: 2                                */
    mw_stream_io stream_io;          /* how streamed bytes are read         */
} mw_run_opts;

#define MW_RUN_STOP_EOS (-2)

MW_API void mw_run_opts_init(mw_run_opts *o);

typedef struct mw_run_result {
    char     model[256];
    uint32_t batch, n_vocab, threads;
    uint64_t prompt_tokens;          /* Σ over sequences                    */
    uint64_t gen_tokens;             /* Σ over sequences                    */
    double   load_seconds;
    double   prompt_seconds, decode_seconds;
    double   prompt_tokens_per_second, decode_tokens_per_second;
    double   decode_step_seconds;    /* median time of one decode step      */
    /* measured by the tagged counting allocator (weights: allocated, or
     * mapped from the file with mmap) and predicted by mw_plan_compute for
     * the same settings */
    uint64_t measured[MW_COMP_COUNT];
    int      weights_mapped;         /* 1: measured weights are mapped bytes */
    mw_plan  predicted;
    int32_t *generated;              /* batch x gen_per_seq greedy tokens   */
    uint32_t gen_per_seq;            /* decode steps run (< gen when every
                                        sequence stopped early)            */
    uint32_t *gen_lens;              /* batch: tokens each sequence generated
                                        up to and including its stop token */
    char    **texts;                 /* with opts.text: batch NUL-terminated
                                        generated texts; else NULL          */
    uint32_t prompt_text_tokens;     /* with opts.text: its token count     */
    float   *logits;                 /* batch x n_vocab: each sequence's last
                                        position                            */
    /* paging (opts.mem_budget_bytes; zero without): */
    int      paging;                 /* 1: some layers were streamed        */
    mw_budget_split split;           /* the split used                      */
    mw_stream_io stream_io;          /* BUFFERED or DIRECT, as used         */
    uint64_t stream_bytes_read;      /* Σ over the run (prefill + decode)   */
    double   stream_read_seconds;    /* the reader's time in its reads      */
    double   stream_wait_seconds;    /* the forward pass waiting for a layer */
    uint64_t stream_decode_bytes_per_step; /* streamed per decode step      */
} mw_run_result;

/*! mw_run() : loads model (a GGUF file or MW_DEMO_MODEL), runs the prompts
 *  and the generation, and measures. Errors name the tensor or key at fault.
 *  @return MW_OK and *out (free with mw_run_result_free). */
MW_API mw_status mw_run(const char *model, const mw_run_opts *opts, mw_run_result **out, mw_err *err);
MW_API void mw_run_result_free(mw_run_result *r);

/*! mw_demo_write() : writes the demo model as a GGUF file that llama.cpp
 *  loads (weights of type dtype: F32, F16, BF16, Q8_0 or Q4_0; norms F32),
 *  with a minimal tokenizer (byte tokens and fillers). */
MW_API mw_status mw_demo_write(const char *path, mw_dtype dtype, mw_err *err);

/* c: this machine's ceilings (its profile; NULL: none), against which the
 * decode step's achieved bandwidth and FLOP/s are judged (docs/ROOFLINE.md,
 * "The machine profile"). */
struct mw_ceilings;
MW_API mw_status mw_run_report_text(const mw_run_result *r, const struct mw_ceilings *c, FILE *out, unsigned flags,
                                    mw_err *err);
MW_API mw_status mw_run_report_json(const mw_run_result *r, const struct mw_ceilings *c, FILE *out, mw_err *err);

/* ------------------------------------------------------------------------
 * Evaluation: a model's quality as a number (`memwall eval`, docs/EVAL.md)
 * ------------------------------------------------------------------------ */

typedef struct mw_eval_opts {
    const char *text_file;           /* the evaluation text (UTF-8)         */
    uint32_t ctx;                    /* tokens per chunk; 0 (default): 512,
                                        or the model's context when less    */
    uint32_t max_chunks;             /* evaluate at most this many (0: all) */
    uint32_t stride;                 /* 0: llama.cpp's default chunks; else
                                        sliding windows of ctx every stride
                                        tokens, each scoring its last stride
                                        (llama.cpp's --ppl-stride; 1 .. ctx-1) */
    uint32_t threads;                /* 0: the CPUs available               */
    mw_dtype kv_dtype;               /* F32, F16 (default) or Q8_0          */
    const char *ref;                 /* reference model for KL (NULL: none) */
    /* The caller's stop request, or NULL: when it turns nonzero, the
     * evaluation stops after the chunk under way and returns what was
     * measured (result->interrupted set). */
    volatile sig_atomic_t *cancel;
} mw_eval_opts;

MW_API void mw_eval_opts_init(mw_eval_opts *o);

/* One chunk's figures (with a reference: its KL mean and top-1 too). */
typedef struct mw_eval_chunk {
    double nll_mean;                 /* mean -log p(token) over its scored  */
    double ref_nll_mean;             /* the reference's; < 0 without one    */
    double kl_mean;                  /* < 0 without a reference             */
    double top1_agreement;           /* < 0 without a reference             */
} mw_eval_chunk;

typedef struct mw_eval_result {
    char     model[256], ref[256], text_file[256];   /* as given, shown safely */
    uint32_t ctx, n_vocab, threads;
    uint32_t stride;                 /* 0: consecutive chunks; else windows  */
    int      bos_first;              /* each chunk's first token was BOS    */
    uint64_t file_tokens;            /* the whole text's tokens             */
    uint32_t chunks_available;       /* file_tokens / ctx; with a stride,
                                        ceil((file_tokens - ctx) / stride)  */
    uint32_t chunks;                 /* evaluated                           */
    uint32_t scored_per_chunk;       /* ctx - 1 - ctx/2; or the stride      */
    uint64_t tokens;                 /* scored predictions, Σ over chunks   */
    double   nll_mean;               /* mean -log p over them               */
    double   perplexity;             /* exp(nll_mean)                       */
    double   perplexity_err;         /* ± as llama.cpp's (docs/EVAL.md)     */
    double   seconds;                /* the model's forward passes          */
    double   tokens_per_second;      /* chunks x (ctx - 1) fed / seconds    */
    double   ref_seconds;            /* the reference's; < 0 without one    */
    int      interrupted;            /* opts.cancel stopped it early         */
    int      has_ref;
    double   ref_perplexity, ref_perplexity_err;
    double   kl_mean, kl_median, kl_p99, kl_max;  /* KL(ref || model), nats */
    double   top1_agreement;         /* fraction of positions, argmax equal  */
    double   perplexity_ratio;       /* perplexity / ref_perplexity          */
    mw_eval_chunk *per_chunk;        /* chunks entries                       */
} mw_eval_result;

/*! mw_eval() : the perplexity of model (a GGUF file with its vocabulary)
 *  over opts->text_file as llama.cpp's perplexity tool computes it, and with
 *  opts->ref the KL divergence of the next-token distributions against the
 *  reference's (docs/EVAL.md). Bad input (an empty or too short text,
 *  malformed UTF-8, ctx < 2 or past the model's context length, different
 *  vocabularies) is refused with what is wrong. A stop through opts->cancel
 *  after at least one chunk returns MW_OK with what was measured.
 *  @return MW_OK and *out (free with mw_eval_result_free). */
MW_API mw_status mw_eval(const char *model, const mw_eval_opts *opts, mw_eval_result **out, mw_err *err);
MW_API void mw_eval_result_free(mw_eval_result *r);
MW_API mw_status mw_eval_report_text(const mw_eval_result *r, FILE *out, unsigned flags, mw_err *err);
/*! mw_eval_report_json() : schema "memwall.eval/1". */
MW_API mw_status mw_eval_report_json(const mw_eval_result *r, FILE *out, mw_err *err);

/* ------------------------------------------------------------------------
 * The sweep: the batch-size experiment (`memwall sweep`)
 * ------------------------------------------------------------------------ */

typedef enum mw_point_status {
    MW_POINT_OK = 0,                 /* ran to the end, exit 0             */
    MW_POINT_OOM,                    /* killed by the OOM killer (or an
                                        out-of-memory message)              */
    MW_POINT_TIMEOUT,                /* killed after --timeout             */
    MW_POINT_FAILED,                 /* another failure (exit code)        */
    MW_POINT_INTERRUPTED             /* the sweep was stopped by a signal while
                                        it ran: not a measurement (no oom, no
                                        failure; --resume reruns it)        */
} mw_point_status;

MW_API const char *mw_point_status_name(mw_point_status s);   /* "ok", "oom", ... */

/* What ran out at an "oom" point. */
typedef enum mw_oom_kind {
    MW_OOM_NONE = 0,
    MW_OOM_CGROUP,                   /* the kernel's OOM killer, at the cap */
    MW_OOM_HOST,                     /* the command failed saying it could not
                                        allocate (host) memory              */
    MW_OOM_GPU                       /* the command failed saying a GPU ran
                                        out of memory ("CUDA out of memory") */
} mw_oom_kind;

MW_API const char *mw_oom_kind_name(mw_oom_kind k);   /* NULL, "cgroup", "host", "gpu" */

/*! mw_oom_from_output() : the out-of-memory message in a failed command's
 *  output, if any: MW_OOM_GPU for CUDA, HIP or XLA's, MW_OOM_HOST for
 *  Python's MemoryError, std::bad_alloc, ENOMEM's text or "out of memory";
 *  MW_OOM_NONE otherwise (docs/SWEEP.md lists the patterns). */
MW_API mw_oom_kind mw_oom_from_output(const char *text);

/* What a sweep varies: the batch at a fixed context, or the context (the
 * KV cache's growth) at a fixed batch. */
typedef enum mw_sweep_axis {
    MW_SWEEP_BATCH = 0,
    MW_SWEEP_CTX,
    MW_SWEEP_BUDGET                  /* issue #15: the weights' memory budget,
                                        at a fixed batch (docs/PAGING.md)  */
} mw_sweep_axis;

MW_API const char *mw_sweep_axis_name(mw_sweep_axis a);   /* "batch", "ctx", "budget" */

/* One point of a sweep (medians over its runs). Unknown: MW_UNKNOWN / < 0. */
typedef struct mw_sweep_point {
    uint32_t batch;
    uint32_t ctx;                    /* 0 when the sweep has no context     */
    mw_point_status status;
    int      exit_code;
    uint32_t runs;
    double   wall_seconds;
    double   throughput;             /* items (tokens) per second; < 0: unknown */
    uint64_t peak_rss_bytes;         /* the tree's (mw_watch_result)        */
    uint64_t cgroup_peak_bytes;      /* the kernel's, with a cap            */
    uint64_t swap_peak_bytes;        /* cgroup swap, or the tree's VmSwap   */
    uint64_t swap_in_bytes;          /* system-wide pswpin delta            */
    uint64_t major_faults;           /* the tree's                          */
    uint64_t refaults;               /* system workingset refaults          */
    double   psi_some_seconds, psi_full_seconds;
    uint64_t predicted_bytes;        /* the plan's total, or MW_UNKNOWN     */
    uint64_t peak_gpu_bytes;         /* the tree's GPU memory (NVML), or
                                        MW_UNKNOWN                          */
    double   step_bytes, step_flops; /* engine points: the plan's decode step
                                        of the batch (one token a sequence);
                                        <= 0: unknown                       */
    mw_oom_kind oom;                 /* an oom point's cause                */
    char     message[160];           /* a point that did not finish: the last
                                        line of its standard error          */
    uint32_t max_processes;          /* most processes of the tree alive at
                                        once; 0: unknown                    */
    uint64_t peak_rss_anon_bytes;    /* the tree's peak RSS, split (MW_UNKNOWN) */
    uint64_t peak_rss_file_bytes;    /* mapped file pages: libraries, weights */
    uint64_t file_cached_bytes;      /* the evicted files' bytes still in the
                                        page cache when the run started (mapped
                                        by another process): not charged to
                                        the point's cap; MW_UNKNOWN: nothing
                                        was evicted (docs/SWEEP.md)          */
    double   throughput_min, throughput_max; /* over the runs; < 0: unknown */
    uint64_t peak_process_rss_bytes; /* the largest one process's peak RSS
                                        (VmHWM) in the tree, MW_UNKNOWN     */
    /* --- budget sweeps (MW_SWEEP_BUDGET, issue #15, docs/PAGING.md): from
     * the point's `memwall run --mem-budget` JSON ("paging"); budget_bytes
     * 0 in the other sweeps' points --- */
    uint64_t budget_bytes;           /* the weights' memory budget          */
    uint64_t stream_bytes_per_step;  /* streamed per decode step (0: none
                                        streamed; MW_UNKNOWN: not said)     */
    double   stream_bytes_per_second; /* the reader's bytes / its read time;
                                        < 0: unknown or nothing streamed    */
    uint32_t streamed_layers;        /* layers read from the file each step */
    uint64_t mem_limit_bytes;        /* the point's own cgroup cap: budget +
                                        the plan's KV cache, activations,
                                        scratch, overhead + the margin
                                        (MW_UNKNOWN: the sweep's cap)       */
    /* --- issue #16: a point run as a Slurm job (docs/CLUSTER.md); job id
     * 0 for a local point --- */
    uint64_t slurm_job_id;
    char     slurm_state[24];        /* sacct's State: COMPLETED, OUT_OF_MEMORY,
                                        FAILED, CANCELLED, NODE_FAIL, TIMEOUT */
    char     host[64];               /* the node it ran on; "": unknown     */
    uint64_t slurm_max_rss_bytes;    /* sacct's MaxRSS (its largest step's),
                                        MW_UNKNOWN when not accounted      */
} mw_sweep_point;

/* The point's value on the axis: its batch or its context; along the
 * budget, its budget in KiB (budget_bytes / 1024, at most UINT32_MAX). */
MW_API uint32_t mw_sweep_point_x(const mw_sweep_point *p, mw_sweep_axis a);
/* Which figure a point's memory is (docs/SWEEP.md, "The memory of a point"). */
typedef enum mw_memory_source {
    MW_MEMORY_UNKNOWN = 0,
    MW_MEMORY_CGROUP,                /* the cgroup's peak: every page charged
                                        to the point, counted once          */
    MW_MEMORY_RSS                    /* a peak resident set (anon + file +
                                        shmem): the tree's, or its largest
                                        process's; it includes mapped files
                                        another cgroup was charged for      */
} mw_memory_source;

MW_API const char *mw_memory_source_name(mw_memory_source s);   /* "cgroup", "rss" */

/* The point's peak memory: what its workload had resident. The cgroup's
 * peak, unless a process's own peak RSS is larger (file pages cached before
 * the point, charged to another cgroup): the tree's when it was one
 * process, else its largest process's (a sum over processes would count a
 * page they share once each). The tree's RSS without a cgroup. MW_UNKNOWN
 * when neither was measured; *source (may be NULL) says which. */
MW_API uint64_t mw_sweep_point_memory_of(const mw_sweep_point *p, mw_memory_source *source);
MW_API uint64_t mw_sweep_point_memory(const mw_sweep_point *p);
/* Its GPU memory: MW_UNKNOWN unless NVML measured some (a workload that
 * holds none has no GPU wall). */
MW_API uint64_t mw_sweep_point_gpu_memory(const mw_sweep_point *p);

/*! mw_sweep_point_rates() : the memory traffic and arithmetic a point
 *  achieved, from the plan's decode step and its throughput (steps/s =
 *  throughput / batch). @return 1 when both are known. */
MW_API int mw_sweep_point_rates(const mw_sweep_point *p, double *bytes_per_second, double *flops_per_second);

/* Linear fit of peak memory against the axis: fixed + per_item · x, an item
 * being a sequence of the batch or a token of the context. */
typedef struct mw_sweep_fit {
    int    valid;                    /* at least 2 ok points of 2 batches   */
    double fixed_bytes;
    double per_item_bytes;
    double r2;
    uint32_t n_points;
} mw_sweep_fit;

typedef enum mw_verdict {
    MW_VERDICT_UNKNOWN = 0,
    MW_VERDICT_BANDWIDTH,            /* throughput grows with the batch:
                                        each weight read is amortized       */
    MW_VERDICT_COMPUTE,              /* past the knee: flat throughput      */
    MW_VERDICT_PAGING,               /* swap-in, major faults or stall above
                                        the thresholds, or falling speed    */
    MW_VERDICT_CAPACITY,             /* out of memory                       */
    MW_VERDICT_FITS,                 /* a context sweep's point (or whole
                                        sweep) that met no memory wall: with
                                        the batch fixed, nothing more is said */
    MW_VERDICT_BELOW_CEILINGS        /* judged against this machine's
                                        ceilings: far below both (overhead or
                                        parallelism, not the hardware)       */
} mw_verdict;

MW_API const char *mw_verdict_name(mw_verdict v);   /* "memory bandwidth" ... */

/* Thresholds of the cliff (documented in docs/SWEEP.md, "The cliff: where paging starts"). Each
 * kind of traffic is judged in bytes against the point's own memory (its
 * working set): paging is reading back what did not stay resident. */
typedef struct mw_cliff_thresholds {
    double   swap_in_share;          /* swapped-in bytes / memory; 0.05     */
    double   refault_share;          /* refaulted bytes (pages evicted, read
                                        back) / memory; 0.10                */
    double   major_fault_share;      /* major-fault bytes / memory; 1.0: a
                                        cold start reads its file pages once */
    uint64_t min_bytes;              /* none of the three counts below this
                                        many bytes; default 16 MiB           */
    double   psi_some_share;         /* memory stall / wall; default 0.10   */
    double   throughput_drop;        /* below the best point so far, beside
                                        some sign of memory pressure, beyond
                                        both points' run-to-run spread (so
                                        it needs 2 runs a point); 0.25      */
} mw_cliff_thresholds;

MW_API void mw_cliff_thresholds_init(mw_cliff_thresholds *t);

/*! mw_sweep_point_paging() : 1 when the point's own traffic says it paged
 *  (swap-in, refault or major-fault bytes, or memory stall, above the
 *  thresholds; t NULL: the defaults), whatever its throughput. Pure. */
MW_API int mw_sweep_point_paging(const mw_sweep_point *p, const mw_cliff_thresholds *t);
/*! mw_sweep_point_pressure() : 1 when the point shows any sign of memory
 *  pressure: a quarter of a paging threshold of swap-in, refault or
 *  major-fault traffic, or a quarter of the memory stall threshold. A
 *  slower point without it is slow for another reason (arithmetic, a
 *  shared host), not because memory ran out. Pure. */
MW_API int mw_sweep_point_pressure(const mw_sweep_point *p, const mw_cliff_thresholds *t);

/* This machine's ceilings, for judging a workload against them: the
 * summary of a roofline that plan, sweep and run use (docs/ROOFLINE.md,
 * "The machine profile"). Unknown: <= 0. */
typedef struct mw_ceilings {
    double   dram_read_bytes_per_second;    /* all threads */
    double   peak_flops_f32;                /* FP32 FMA, all threads */
    double   peak_flops_bf16;               /* vdpbf16ps, all threads */
    double   peak_ops_int8;                 /* vpdpbusd, all threads */
    uint32_t threads;                       /* the threads of "all threads" */
    int      noisy;                         /* a figure above was flagged noisy */
    char     measured[32];                  /* when: "2026-12-03 10:04 UTC" */
    char     path[512];                     /* the profile file; "" when none */
    char     machine[256];                  /* the key written in the profile:
                                               "CPU, 2 CPUs, 7.8 GiB, GPU none" */
    /* issue #15 (budget sweeps): the roofline's disk_cold tier, the slow
     * tier streamed weights are read from; <= 0: unknown */
    double   disk_read_bytes_per_second;
} mw_ceilings;

/* A point against this machine's ceilings (docs/SWEEP.md, "Verdicts
 * against the ceilings"): the fraction of DRAM read bandwidth its plan's
 * decode step moved, and of the FP32 peak it computed. A point at or above
 * MW_CEILING_NEAR of either is bound by the larger one; below it for both,
 * it is "below both ceilings". */
#define MW_CEILING_NEAR 0.5
/*! mw_sweep_point_fractions() : @return 1 when both fractions are known
 *  (an engine point with a throughput, ceilings with both figures). */
MW_API int mw_sweep_point_fractions(const mw_sweep_point *p, const mw_ceilings *c, double *bandwidth_fraction,
                                    double *compute_fraction);

/* Values on the sweep's axis (a batch or a context); 0: none. */
typedef struct mw_sweep_analysis {
    mw_sweep_axis axis;
    mw_sweep_fit fit;                /* host: the cgroup's peak, else RSS   */
    mw_sweep_fit fit_gpu;            /* GPU memory, when NVML measured it   */
    uint32_t max_fit;                /* largest measured ok, below the cliff */
    uint32_t first_fail;             /* smallest that failed                */
    uint32_t knee;                   /* where doubling the batch adds < 10%
                                        throughput (batch sweeps only)      */
    uint32_t cliff;                  /* first paging point                  */
    mw_verdict overall;
    int      by_ceilings;            /* 1: bandwidth, compute and below-both
                                        verdicts judged against the ceilings;
                                        0: by the throughput curve (the knee) */
    char     judged[192];            /* how the verdicts were judged: the
                                        profile and its date, or why the
                                        curve rule was used                 */
    char     reason[768];            /* the numbers behind the verdict      */
} mw_sweep_analysis;

/*! mw_sweep_fit_points() : least squares of the ok points' memory (the
 *  cgroup peak when known, else the tree's peak RSS) against their value on
 *  the axis. Pure. */
MW_API void mw_sweep_fit_points(const mw_sweep_point *p, size_t n, mw_sweep_axis axis, mw_sweep_fit *out);
/*! mw_sweep_fit_max() : the largest value on the axis whose fitted memory
 *  fits mem_bytes; 0 when none; UINT32_MAX when per-item is not positive. */
MW_API uint32_t mw_sweep_fit_max(const mw_sweep_fit *fit, uint64_t mem_bytes);
/*! mw_sweep_analyze() : fit, largest fitting value, knee, cliff, a verdict
 *  per point (verdicts[i], may be NULL) and overall, with the reason. The
 *  points may come in any order. A context sweep has no knee (throughput is
 *  expected to fall as the context grows), and only swap-in, major faults
 *  and stall mark its cliff. Pure. */
MW_API void mw_sweep_analyze(const mw_sweep_point *p, size_t n, mw_sweep_axis axis, const mw_cliff_thresholds *t,
                             mw_verdict *verdicts, mw_sweep_analysis *out);
/*! mw_sweep_analyze_ceilings() : the same, with this machine's ceilings
 *  (NULL: none, the curve rule): ok points of a batch sweep whose rates are
 *  known are judged against them. Pure. */
MW_API void mw_sweep_analyze_ceilings(const mw_sweep_point *p, size_t n, mw_sweep_axis axis,
                                      const mw_cliff_thresholds *t, const mw_ceilings *c, mw_verdict *verdicts,
                                      mw_sweep_analysis *out);

typedef void (*mw_sweep_point_fn)(const mw_sweep_point *point, void *user);

/* A budget sweep's point (issue #15): a size, or a share of the model's
 * weight bytes as the planner counts them (mw_plan bytes[MW_COMP_WEIGHTS]
 * without a budget). */
typedef struct mw_sweep_budget {
    uint64_t bytes;                  /* percent <= 0: this size             */
    double   percent;                /* > 0: this share of the weights, in %
                                        (100: all of them)                  */
} mw_sweep_budget;

/*! mw_sweep_budgets_parse() : a --budgets list: comma-separated shares of
 *  the weights ("25%", above 0 and up to 1000%: above 100% nothing is
 *  streamed) or sizes ("200M", "1G": at least 4 KiB, as mw_size_parse
 *  reads them), at most cap of them, into out[0 .. *n). @return MW_OK, or
 *  MW_ERR_INVALID with err naming the bad element and what to give. */
MW_API mw_status mw_sweep_budgets_parse(const char *text, mw_sweep_budget *out, size_t cap, size_t *n,
                                        mw_err *err);

/* The margin a budget sweep's point's cap has above the plan's figures
 * (docs/PAGING.md, "In the sweep"): 32 MiB, or 5% of the cap when more. */
#define MW_SWEEP_BUDGET_MARGIN_BYTES (32ull << 20)
#define MW_SWEEP_BUDGET_MARGIN_SHARE 0.05

/* Where a sweep's points run (issue #16). */
typedef enum mw_sweep_launcher {
    MW_LAUNCH_LOCAL = 0,             /* a child of this process, in its own cgroup */
    MW_LAUNCH_SLURM                  /* one sbatch job a run, `memwall watch
                                        --json` around the command on the
                                        node, Slurm's --mem as the cap      */
} mw_sweep_launcher;

typedef struct mw_sweep_opts {
    const char *model;               /* engine points: a GGUF file or "demo"  */
    const char *const *cmd;          /* external points: argv with "{batch}"
                                        (and "{ctx}") replaced per point;
                                        NULL: the engine                      */
    const char *memwall_path;        /* engine points run this binary's `run`:
                                        required for them (the CLI passes its
                                        own); NULL is an error               */
    mw_sweep_axis axis;              /* what varies (MW_SWEEP_BATCH)          */
    const uint32_t *batches;         /* batch sweeps: the points; NULL: auto  */
    size_t   n_batches;
    uint32_t max_batch;              /* auto: the largest to try (4096)       */
    const uint32_t *contexts;        /* context sweeps: the points; NULL: auto */
    size_t   n_contexts;
    uint32_t batch;                  /* context sweeps: every point's batch (1) */
    uint32_t max_ctx;                /* auto: the largest context to try (0: the
                                        model's trained context, else 2^20)   */
    uint32_t runs;                   /* runs per point, medians (1; at most 64) */
    uint32_t warmup;                 /* runs per point discarded first (0; at
                                        most 64)                              */
    const char *const *evict_files;  /* files dropped from the page cache
                                        before each run, so that the point's
                                        cgroup is charged for what it maps
                                        (docs/SWEEP.md); engine points add
                                        their model file unless keep_page_cache */
    size_t   n_evict_files;
    int      keep_page_cache;        /* 1: evict nothing (a warm start; file
                                        pages cached before are not capped) */
    uint32_t prompt, gen, threads;   /* engine workload per point             */
    uint32_t ctx;                    /* batch sweeps: every point's context
                                        (0: prompt + gen)                     */
    uint64_t mem_limit_bytes;        /* the cap of each point's cgroup        */
    uint64_t swap_limit_bytes;       /* swap allowed on top (0)               */
    double   timeout_seconds;        /* per run (0: none)                     */
    double   items_per_run;          /* external: throughput =
                                        items_per_run x batch / wall          */
    const char *metric_regex;        /* external: throughput from the output  */
    const char *jsonl_path;          /* each point appended as it ends        */
    int      resume;                 /* take the points already in jsonl_path
                                        and run only the others               */
    const uint64_t *what_if;         /* memory sizes to extrapolate the fit to */
    size_t   n_what_if;              /* at most 16 (more is an error)         */
    mw_cliff_thresholds thresholds;
    mw_sweep_point_fn on_point;      /* after each point, or NULL             */
    void    *on_point_user;
    /* during a run: each sample of the point's tree (its value on the
     * axis, the run number) */
    void   (*on_progress)(uint32_t x, uint32_t run, const mw_sample *s, void *user);
    /* The caller's stop request, or NULL: a signal handler stores the
     * signal's number (SIGINT, SIGTERM, SIGHUP). Checked before each run;
     * the sweep then stops and says so in mw_sweep_result.interrupted_signal.
     * (A signal that arrives while a point runs is read by mw_watch_run
     * itself, which ends the point's tree.) The library installs no signal
     * handlers. */
    volatile sig_atomic_t *cancel;
    const mw_ceilings *ceilings;     /* this machine's (the CLI loads the
                                        profile), or NULL: the curve rule   */
    /* --- budget sweeps (MW_SWEEP_BUDGET, issue #15, docs/PAGING.md): engine
     * points only, at `batch` (1); each point runs `memwall run
     * --mem-budget B` in a cgroup capped at B + the plan's KV cache,
     * activations, scratch and overhead + the margin (mem_limit_bytes is
     * not used) --- */
    const mw_sweep_budget *budgets;  /* the points (required: no search)    */
    size_t   n_budgets;
    uint32_t prefetch_layers;        /* run --prefetch N; 0: run's default  */
    /* --- issue #16: points as Slurm jobs (docs/CLUSTER.md) --- */
    mw_sweep_launcher launcher;      /* MW_LAUNCH_LOCAL (default)           */
    const char *slurm_partition;     /* sbatch --partition; NULL: the default */
    const char *const *sbatch_args;  /* NULL-terminated, given to sbatch as
                                        they are; NULL: none               */
    const char *spool_dir;           /* required with Slurm: a directory every
                                        node sees at the same path, where the
                                        jobs' scripts and reports go       */
    uint32_t parallel;               /* jobs at once (Slurm); 0 or 1: one   */
    double   queue_timeout_seconds;  /* a job not started after this is
                                        cancelled and its point failed (0: 600) */
    double   poll_seconds;           /* between squeue/sacct polls (0: 1)   */
} mw_sweep_opts;

MW_API void mw_sweep_opts_init(mw_sweep_opts *o);

typedef struct mw_sweep_result {
    size_t   n_points;
    mw_sweep_point *points;          /* in the order they ran               */
    mw_verdict *verdicts;            /* one per point                       */
    mw_sweep_analysis analysis;      /* its axis is the sweep's             */
    uint64_t mem_limit_bytes;
    uint32_t predicted_max;          /* the plan's largest batch (context)
                                        under the cap; 0 when no plan       */
    size_t   n_resumed;              /* points taken from the JSON Lines file */
    size_t   n_what_if;
    uint64_t what_if_bytes[16];      /* memory sizes asked about, and the     */
    uint32_t what_if_max[16];        /* largest batch (context) the fit gives:
                                        the GPU fit when valid, else the host's */
    char     workload[512];          /* what each point ran                 */
    uint32_t n_evicted_files;        /* files dropped from the page cache
                                        before each run (0: none)           */
    int      interrupted_signal;     /* the SIGINT, SIGTERM or SIGHUP that
                                        stopped the sweep early; 0: none     */
    mw_err   stopped;                /* status != MW_OK: the failure that
                                        stopped the sweep early (the JSON Lines
                                        file could not be written); the points
                                        measured before it are all here      */
    mw_ceilings ceilings;            /* those judged against (opts'), or
                                        all unknown                         */
    char     resume_note[256];       /* --resume: what was repaired in the
                                        JSON Lines file, for the caller to
                                        show; "" when nothing                */
    /* budget sweeps (issue #15): what the percentages are of (the plan's
     * weight bytes); 0 in other sweeps or without a plan */
    uint64_t weights_bytes;
    /* issue #16: with --launcher slurm, how the points were run and capped
     * (whether Slurm's cgroup enforced --mem); "" for a local sweep */
    char     launcher_note[256];
} mw_sweep_result;

/*! mw_sweep_run() : runs the points, each in a fresh memory-capped child
 *  watched by mw_watch_run, and analyzes them. A sweep stopped early (a
 *  signal through opts->cancel or during a point, or a JSON Lines write
 *  that failed) still returns MW_OK with what was measured:
 *  interrupted_signal and stopped say why. Each point's line is written
 *  whole and fsync'd; a line that cannot be is truncated away. */
MW_API mw_status mw_sweep_run(const mw_sweep_opts *o, mw_sweep_result **out, mw_err *err);
MW_API void mw_sweep_result_free(mw_sweep_result *r);

MW_API mw_status mw_sweep_report_text(const mw_sweep_result *r, FILE *out, unsigned flags, mw_err *err);
MW_API mw_status mw_sweep_report_json(const mw_sweep_result *r, FILE *out, mw_err *err);
MW_API mw_status mw_sweep_report_csv(const mw_sweep_result *r, FILE *out, mw_err *err);
/*! mw_sweep_report_svg() : a self-contained SVG chart (800x450, no scripts
 *  or fonts): peak memory and throughput against the axis (log2), with the
 *  cap, the knee, the cliff and the verdict. @return MW_OK, MW_ERR_IO, or
 *  MW_ERR_INVALID without a result or a stream. */
MW_API mw_status mw_sweep_report_svg(const mw_sweep_result *r, FILE *out, mw_err *err);
/* One point as a JSON object on one line (the JSON Lines file), flushed.
 * @return MW_OK, MW_ERR_NOMEM, or MW_ERR_IO when the stream fails (err
 * says which point, and why). */
MW_API mw_status mw_sweep_point_jsonl(const mw_sweep_point *p, FILE *out, mw_err *err);
/*! mw_sweep_point_json_line() : the same line, '\n'-terminated, in *line
 *  (*len bytes, NUL after them; free with mw_free), for a caller that
 *  writes it in one piece. @return MW_OK or MW_ERR_NOMEM (also when an
 *  allocation failed while it was built: a key would be missing). */
MW_API mw_status mw_sweep_point_json_line(const mw_sweep_point *p, char **line, size_t *len);

/* ------------------------------------------------------------------------
 * Reports of models and plans
 * ------------------------------------------------------------------------ */

/*! mw_model_report_text() : architecture, hyperparameters, totals per type
 *  and the tensor table (all of it when max_tensors is 0). */
MW_API mw_status mw_model_report_text(const mw_model *m, FILE *out, unsigned flags, uint32_t max_tensors,
                               mw_err *err);
/*! mw_model_report_json() : schema "memwall.inspect/1" (docs/JSON.md). */
MW_API mw_status mw_model_report_json(const mw_model *m, FILE *out, mw_err *err);

/* A plan answered for one memory size ("host", "gpu 0", "--mem"). */
typedef struct mw_plan_target {
    char     name[128];
    mw_plan  plan;                   /* computed with opts.mem_bytes = that size */
    /* a GPU by name (--gpu): its row and count (tp over them); NULL else */
    const mw_gpu_spec *gpu;
    uint32_t gpu_count;
    /* an offload split on gpu (--gpu-layers): answered instead of the
     * memory questions (the report's "offload"); NULL else */
    const mw_offload *offload;
} mw_plan_target;

/*! mw_plan_report_text() : the component table and the answer for each
 *  target. base is the plan without a memory size. c: this machine's
 *  ceilings (NULL: none), which bound an inference plan's decode speed on
 *  this machine (docs/ROOFLINE.md, "The machine profile"). */
MW_API mw_status mw_plan_report_text(const mw_model *m, const mw_plan *base, const mw_plan_target *t,
                              size_t n_targets, const struct mw_ceilings *c, FILE *out, unsigned flags, mw_err *err);
/*! mw_plan_report_json() : schema "memwall.plan/1" (docs/JSON.md). */
MW_API mw_status mw_plan_report_json(const mw_model *m, const mw_plan *base, const mw_plan_target *t,
                                     size_t n_targets, const struct mw_ceilings *c, FILE *out, mw_err *err);

/* ------------------------------------------------------------------------
 * This machine's ceilings (memwall roofline; docs/ARCHITECTURE.md)
 * ------------------------------------------------------------------------ */

/* One measured rate over several repetitions: bytes/s or FLOP/s. The best is
 * max. Unknown (not measured): all three negative. noisy: (max - min) / max
 * exceeds MW_ROOFLINE_NOISY, or a repetition was disturbed (its threads had
 * less than 90% of its span, first start to last end, on a CPU: another
 * process had one); the three figures are then the undisturbed
 * repetitions' when there are any. */
#define MW_ROOFLINE_NOISY 0.10
typedef struct mw_roofline_figure {
    double min, median, max;
    int    noisy;
} mw_roofline_figure;

/* The bandwidth kernels: read (sum), write (fill), copy (b = a), triad
 * (a = b + s c). Bytes counted as STREAM does (no write-allocate). */
enum { MW_RL_READ, MW_RL_WRITE, MW_RL_COPY, MW_RL_TRIAD, MW_RL_KERNELS };

typedef struct mw_roofline_point {
    uint64_t bytes;                         /* the working set, all arrays, all threads */
    mw_roofline_figure bw[MW_RL_KERNELS][2]; /* [kernel][0: 1 thread, 1: all threads] */
} mw_roofline_point;

typedef struct mw_roofline_level {
    char     name[8];                       /* "L1", "L2", "L3", "DRAM" */
    uint64_t bytes;                         /* the largest working set on its plateau */
    uint64_t sysfs_bytes;                   /* the cache size sysfs gives, MW_UNKNOWN for DRAM */
    mw_roofline_figure bw[MW_RL_KERNELS][2]; /* the plateau's middle point */
} mw_roofline_level;

/* A slower tier a model falls back to (docs/ROOFLINE.md, "Tiers"), as a
 * rate and as its slowdown against DRAM read on all threads. */
enum {
    MW_TIER_DISK_COLD,          /* a file read with nothing cached            */
    MW_TIER_FAULT_4K,           /* first touch of fresh memory, 4 KiB pages   */
    MW_TIER_FAULT_THP,          /* ... transparent hugepages (2 MiB)          */
    MW_TIER_SWAP_IN,            /* pages read back from swap                  */
    MW_TIER_GPU_D2D,            /* device memory: device-to-device copy       */
    MW_TIER_GPU_H2D_PAGEABLE,   /* host -> device from malloc'd memory        */
    MW_TIER_GPU_H2D_PINNED,     /* host -> device from page-locked memory     */
    MW_TIER_GPU_D2H_PAGEABLE,
    MW_TIER_GPU_D2H_PINNED,
    MW_TIER_COUNT
};

typedef struct mw_roofline_tier {
    char     name[24];                      /* "disk_cold", "fault_4k", "fault_thp",
                                               "swap_in", "gpu_d2d", "gpu_h2d_pageable",
                                               "gpu_h2d_pinned", "gpu_d2h_pageable",
                                               "gpu_d2h_pinned" */
    mw_roofline_figure bw;                  /* bytes/s; unknown: see reason */
    double   slowdown;                      /* DRAM read (all threads) / bw.max; > 1
                                               is slower; < 0 unknown (the GPU's
                                               device copy is < 1: faster) */
    uint64_t bytes;                         /* bytes moved per repetition */
    char     method[96];                    /* how: "page cache dropped (posix_fadvise
                                               DONTNEED, checked with mincore)", "O_DIRECT" */
    char     reason[160];                   /* unknown: why ("no swap: give --swap (root)") */
} mw_roofline_tier;

typedef struct mw_roofline_opts {
    int      quick;                         /* <= 5 s instead of <= 30 s on 2 cores */
    uint32_t threads;                       /* 0: every online CPU */
    uint64_t max_bytes;                     /* 0: 8 x the last-level cache, shrunk
                                               to a quarter of the memory available */
    int      no_tiers;                      /* 1: bandwidth and peaks only */
    int      swap;                          /* 1: with no swap active, make a temporary
                                               swapfile (root) for the swap-in tier;
                                               it is removed before return */
    const char *tmp_dir;                    /* the cold-read file and the swapfile;
                                               NULL: $TMPDIR, else /var/tmp */
    const char *libcuda_path;               /* NULL: $MEMWALL_CUDA_LIBRARY, else
                                               libcuda.so.1 (dlopen at run time) */
    volatile sig_atomic_t *cancel;          /* the caller's stop request (a signal
                                               number), or NULL: checked between
                                               measurements; the swapfile and the
                                               temporary files are removed, the figures
                                               so far kept (result->interrupted_signal) */
    const char *cache_root;                 /* NULL: /sys/devices/system/cpu/cpu0/cache;
                                               elsewhere for tests. Where it holds no
                                               caches (some VMs), the levels come from
                                               the measured curve alone */
} mw_roofline_opts;

typedef struct mw_roofline_result {
    uint32_t threads;                       /* "all threads" */
    char     isa[16];                       /* "avx512", "avx2", "scalar" */
    uint64_t sysfs_cache_bytes[4];          /* L1d, L2, L3, L4 (MW_UNKNOWN: none) */
    uint64_t max_bytes;                     /* the largest working set measured */
    int      shrunk;                        /* 1: smaller than 8 x LLC, see shrunk_reason */
    char     shrunk_reason[192];
    size_t   n_points;
    mw_roofline_point *points;              /* growing working sets */
    size_t   n_levels;
    mw_roofline_level levels[8];            /* found from the 1-thread read curve; DRAM last */
    mw_roofline_figure flops_f32[2];        /* FP32 FMA, [1 thread, all] */
    mw_roofline_figure flops_bf16[2];       /* vdpbf16ps; unknown: bf16_reason */
    mw_roofline_figure ops_int8[2];         /* vpdpbusd; unknown: int8_reason */
    char     bf16_reason[96], int8_reason[96];
    size_t   n_tiers;                       /* MW_TIER_COUNT, or 0 with no_tiers */
    mw_roofline_tier tiers[MW_TIER_COUNT];  /* indexed by MW_TIER_* */
    char     gpu_name[96];                  /* the device measured, "" when none */
    int      interrupted_signal;            /* opts.cancel stopped it: the figures
                                               measured so far are kept */
    double   seconds;                       /* the whole measurement */
} mw_roofline_result;

MW_API void mw_roofline_opts_init(mw_roofline_opts *o);
/*! mw_roofline_measure() : measures bandwidth against working set and the
 *  compute peaks. *out is the caller's, freed with mw_roofline_result_free.
 *  @return MW_OK, MW_ERR_NOMEM, MW_ERR_INVALID (opts). */
MW_API mw_status mw_roofline_measure(const mw_roofline_opts *o, mw_roofline_result **out, mw_err *err);
MW_API void mw_roofline_result_free(mw_roofline_result *r);
MW_API mw_status mw_roofline_report_text(const mw_roofline_result *r, FILE *out, unsigned flags, mw_err *err);
/*! mw_roofline_report_json() : schema "memwall.roofline/1". */
MW_API mw_status mw_roofline_report_json(const mw_roofline_result *r, FILE *out, mw_err *err);


/*! mw_ceilings_from_roofline() : the ceilings a measurement gives. */
MW_API void mw_ceilings_from_roofline(const mw_roofline_result *r, mw_ceilings *out);

/* The key of this machine's profile: what makes figures measured on it
 * stand for it (a different CPU, core count, memory or GPU is another
 * machine). */
typedef struct mw_machine_key {
    char     cpu_model[96];                 /* /proc/cpuinfo "model name" */
    uint32_t cpus;                          /* online CPUs */
    uint64_t memory_bytes;                  /* MemTotal */
    char     gpu[96];                       /* NVML's first device name, "none" */
} mw_machine_key;

MW_API mw_status mw_machine_key_read(mw_machine_key *out, mw_err *err);
/*! mw_profile_path() : $XDG_CACHE_HOME/memwall/machine-<hash of key>.json
 *  (XDG_CACHE_HOME unset or relative: $HOME/.cache), or $MEMWALL_PROFILE.
 *  @return MW_OK; MW_ERR_NOT_FOUND for MEMWALL_PROFILE=none (no profile);
 *  MW_ERR_UNAVAILABLE when neither XDG_CACHE_HOME nor HOME is absolute. */
MW_API mw_status mw_profile_path(const mw_machine_key *k, char *buf, size_t cap, mw_err *err);
/*! mw_profile_save() : writes the roofline as this machine's profile (the
 *  roofline's JSON with the key and the date; a temporary renamed over the
 *  file, folders made 0700). MEMWALL_PROFILE=none: writes nothing, MW_OK.
 *  In the report layer (the file is the roofline's JSON report). */
MW_API mw_status mw_profile_save(const mw_roofline_result *r, const mw_machine_key *k, mw_err *err);
/*! mw_profile_load() : this machine's ceilings from its profile (the file
 *  MEMWALL_PROFILE names is used whatever key it holds; k may then be NULL).
 *  @return MW_OK; MW_ERR_NOT_FOUND when there is none for this key (or
 *  MEMWALL_PROFILE=none); MW_ERR_INVALID when the file is damaged (err says
 *  where and what); MW_ERR_NOMEM. */
MW_API mw_status mw_profile_load(const mw_machine_key *k, mw_ceilings *out, mw_err *err);

/* Placing a model on this machine's roofline (`memwall roofline MODEL`;
 * docs/ROOFLINE.md, "Placing a model"): each decode step of a batch, and
 * the prefill, as FLOPs over bytes from the plan (mw_plan_compute), against
 * the ceilings. Attainable = min(FP32 peak, intensity x DRAM read), both on
 * all threads; the bandwidth binds below the ridge (peak / DRAM read). */
#define MW_PLACE_MAX_BATCHES 256            /* a --batch list's longest */

typedef enum mw_place_bound {
    MW_PLACE_BOUND_UNKNOWN = 0,             /* a ceiling is unknown */
    MW_PLACE_BOUND_BANDWIDTH,               /* intensity < ridge */
    MW_PLACE_BOUND_COMPUTE                  /* intensity >= ridge */
} mw_place_bound;

MW_API const char *mw_place_bound_name(mw_place_bound b);  /* "bandwidth", "compute", "unknown" */

typedef struct mw_place_point {
    char     label[16];                     /* "b1", "b2", ..., "prefill" */
    int      prefill;                       /* 1: the prefill of --prompt tokens */
    uint32_t batch;                         /* sequences */
    uint32_t tokens;                        /* per sequence: 1 (decode) or the prompt */
    uint32_t ctx;                           /* decode: positions each sequence attends */
    double   flops, bytes;                  /* one step (the whole prefill) */
    double   intensity;                     /* FLOP/byte */
    double   attainable_flops_per_second;   /* < 0: unknown (a ceiling is) */
    mw_place_bound bound;
    char     fits_in[8];                    /* the smallest cache level holding
                                               bytes ("L2"), "" when none or
                                               unknown; DRAM is used anyway */
    /* measured (mw_place_measured): */
    int      measured;
    uint32_t measured_prompt, measured_gen; /* the engine's workload */
    double   measured_seconds;              /* one decode step (median), or the prefill */
    double   measured_flops, measured_bytes;/* the plan's, for that workload */
    double   measured_intensity;
    double   measured_attainable_flops_per_second; /* at measured_intensity */
    double   measured_flops_per_second, measured_bytes_per_second;
    double   fraction;                      /* of measured_attainable; < 0 unknown */
} mw_place_point;

/* A cache level's read bandwidth (all threads), for the chart's slopes. */
typedef struct mw_place_level {
    char     name[8];
    uint64_t bytes;                         /* the plateau's largest working set */
    double   read_bytes_per_second;
} mw_place_level;

typedef struct mw_place_opts {
    const uint32_t *batches;                /* NULL: 1, 2, 4, ..., 64 */
    size_t   n_batches;                     /* 1 .. MW_PLACE_MAX_BATCHES */
    uint32_t ctx;                           /* decode: positions each sequence
                                               attends (0: the model's trained
                                               context, at most 4096) */
    uint32_t prompt;                        /* prefill tokens (0: 512) */
} mw_place_opts;

MW_API void mw_place_opts_init(mw_place_opts *o);

typedef struct mw_placement {
    char     model[256];                    /* as given, shown safely */
    uint64_t params, weights_bytes;
    mw_ceilings ceilings;                   /* those placed against */
    double   ridge;                         /* FLOP/byte; < 0: unknown */
    size_t   n_levels;                      /* cache levels, DRAM last; 0: unknown */
    mw_place_level levels[8];
    size_t   n_points;                      /* the batches, then the prefill */
    mw_place_point *points;
} mw_placement;

/*! mw_place_model() : places m's decode steps and prefill against c; r (may
 *  be NULL) gives the cache levels. Pure: no I/O.
 *  @return MW_OK and *out (free with mw_placement_free); MW_ERR_INVALID for
 *  options out of range or a model without hyperparameters (err says). */
MW_API mw_status mw_place_model(const mw_model *m, const mw_place_opts *o, const mw_ceilings *c,
                                const mw_roofline_result *r, mw_placement **out, mw_err *err);
MW_API void mw_placement_free(mw_placement *p);
/*! mw_place_measured() : fills pt's measured fields from an engine run of
 *  its batch (decode: run->decode_step_seconds; prefill: prompt_seconds),
 *  with the run's own plan (run->predicted) for the FLOPs and bytes. Pure.
 *  @return 1 when measured, 0 when the run timed nothing. */
MW_API int mw_place_measured(mw_place_point *pt, const mw_run_result *run, const mw_ceilings *c);
/*! mw_model_or_demo_open() : what mw_model_open opens, or MW_DEMO_MODEL
 *  (the engine's built-in model's hyperparameters and sizes). */
MW_API mw_status mw_model_or_demo_open(const char *what, mw_model **out, mw_err *err);
MW_API mw_status mw_placement_report_text(const mw_placement *p, FILE *out, unsigned flags, mw_err *err);
/*! mw_placement_report_json() : schema "memwall.roofline-model/1". */
MW_API mw_status mw_placement_report_json(const mw_placement *p, FILE *out, mw_err *err);
/*! mw_placement_svg() : a log-log roofline chart (FLOP/byte, FLOP/s). */
MW_API mw_status mw_placement_svg(const mw_placement *p, FILE *out, mw_err *err);

/* ------------------------------------------------------------------------
 * Output people can paste (issue #13): CSV and Markdown reports of plan,
 * sweep and run, and a report written to a file atomically (--format,
 * --export-*; docs/OUTPUT.md gives the columns and the layouts)
 * ------------------------------------------------------------------------ */

/*! mw_plan_report_csv() : one row per memory target (one row with the
 *  target's cells empty when there is none): the workload, every component
 *  in bytes and the target's answers (docs/OUTPUT.md). RFC 4180 quoting. */
MW_API mw_status mw_plan_report_csv(const mw_model *m, const mw_plan *base, const mw_plan_target *t,
                                    size_t n_targets, FILE *out, mw_err *err);
/*! mw_plan_report_markdown() : a heading naming the model and the
 *  workload, the assumptions as a list, the component table and the table
 *  of targets (GitHub-flavoured Markdown). */
MW_API mw_status mw_plan_report_markdown(const mw_model *m, const mw_plan *base, const mw_plan_target *t,
                                         size_t n_targets, FILE *out, mw_err *err);
/*! mw_sweep_report_markdown() : the sweep's table, one row per point, and
 *  its verdict (CSV: mw_sweep_report_csv). */
MW_API mw_status mw_sweep_report_markdown(const mw_sweep_result *r, FILE *out, mw_err *err);
/*! mw_run_report_csv() : one row: the run's speeds and each memory
 *  component measured and predicted, in bytes. */
MW_API mw_status mw_run_report_csv(const mw_run_result *r, FILE *out, mw_err *err);
/*! mw_run_report_markdown() : the run's speeds and its memory, measured
 *  against predicted, as two tables. */
MW_API mw_status mw_run_report_markdown(const mw_run_result *r, FILE *out, mw_err *err);

/* Writes one report to out; returns MW_OK or the error (err set). */
typedef mw_status (*mw_report_writer)(FILE *out, void *user, mw_err *err);
/*! mw_report_write_file() : write(out, user, err) into a new file beside
 *  path (made with O_CREAT|O_EXCL|O_NOFOLLOW: a link planted there is never
 *  written through), synced and renamed over path: a link at path is
 *  replaced, not followed, and a reader sees the old file or the whole new
 *  one. On failure the temporary is removed and err names path.
 *  @return MW_OK, or the writer's or the file system's error. */
MW_API mw_status mw_report_write_file(const char *path, mw_report_writer write, void *user, mw_err *err);

/* ------------------------------------------------------------------------
 * Convert (issue #14): a llama-family model (GGUF, safetensors, a sharded
 * safetensors folder) to GGUF at another precision (src/convert/).
 * ------------------------------------------------------------------------ */

/*! mw_weight_scheme_tensor_type() : the type one tensor takes in scheme s
 *  (a llama.cpp file type: its per-tensor mix and llama-quantize's
 *  fallbacks for rows that are not whole blocks), the decision
 *  mw_weight_scheme_tensor_bytes sizes; MW_DTYPE_COUNT when the scheme has
 *  no one ggml type for it (GPTQ/AWQ/NF4). */
MW_API mw_dtype mw_weight_scheme_tensor_type(const mw_weight_scheme *s, const mw_model *m, const char *name,
                                             uint32_t n_dims, const uint64_t *shape, mw_dtype stored);

/* One --keep TYPE:PATTERN: tensors whose GGUF name matches the fnmatch(3)
 * glob take type (the first that matches wins over dtype). */
typedef struct mw_convert_keep {
    mw_dtype    type;
    const char *pattern;
} mw_convert_keep;

/* After each tensor written (the CLI's progress bar). */
typedef struct mw_convert_progress {
    uint32_t    done, total;             /* tensors */
    uint64_t    bytes_done, bytes_total; /* output tensor bytes */
    double      elapsed_s;
    const char *tensor;                  /* the one just written */
} mw_convert_progress;
typedef void (*mw_convert_progress_fn)(const mw_convert_progress *p, void *user);

typedef struct mw_convert_opts {
    const char *in;                  /* file, folder, built-in name, hub id */
    const char *out;                 /* the GGUF file to write              */
    const char *dtype;               /* a type (f32, f16, bf16, q8_0, q4_0,
                                        q4_k, q5_k, q6_k, ...) or a llama.cpp
                                        file type (q4_k_m, q5_k_s, ...,
                                        mw_weight_scheme_names); NULL: f16  */
    const mw_convert_keep *keep;     /* n_keep --keep rules, in order       */
    uint32_t    n_keep;
    mw_convert_progress_fn progress; /* NULL: none                          */
    void       *progress_user;
    /* warnings (placeholder vocabulary, requantized tensors): one line
     * each, through warn (NULL: none) */
    void      (*warn)(const char *line, void *user);
    void       *warn_user;
    uint32_t    threads;             /* rows read and encoded in parallel;
                                        0: the CPUs available               */
    /* ---- pruning (docs/REMEDIES.md, docs/SPARSE.md): the blocks' linear
     * weights lose values, by magnitude or Wanda's score, and are stored
     * in memwall's sparse types (values F32, F16 or Q8_0) unless densify;
     * densify alone writes a sparse input's tensors dense. ---- */
    int         prune_kind;          /* 0 none, 1 a ratio, 2 2:4 (as
                                        mw_prune_kind: NONE, RATIO, 2_4)    */
    double      prune_ratio;         /* kind 1: the fraction removed, (0,1) */
    int         prune_score;         /* 0 magnitude, 1 wanda (needs calib)  */
    const char *calib_path;          /* wanda's calibration text            */
    int         densify;             /* write pruned / sparse weights dense
                                        (zeros kept): a GGUF llama.cpp loads;
                                        with dtype NULL each tensor keeps its
                                        type, sparse ones their values'     */
} mw_convert_opts;

typedef struct mw_convert_result {
    char        in[512], out[512];   /* as given (the model's shown path)   */
    char        dtype[32];           /* the type or file type written       */
    uint32_t    file_type;           /* general.file_type written           */
    uint32_t    n_tensors;
    uint32_t    n_by_type[MW_DTYPE_COUNT];     /* tensors of each type      */
    uint64_t    bytes_by_type[MW_DTYPE_COUNT]; /* their bytes               */
    uint64_t    bytes_in;            /* the input's tensor bytes            */
    uint64_t    bytes_out;           /* the output's tensor bytes (unpadded) */
    uint64_t    file_bytes;          /* the output file's size              */
    uint32_t    n_requantized;       /* already-quantized tensors requantized */
    uint32_t    n_pruned;            /* tensors pruned (--prune)            */
    uint32_t    n_sparse;            /* ... of them stored sparse           */
    uint32_t    n_densified;         /* sparse tensors written dense        */
    const char *tokenizer;           /* "copied", "tokenizer.json" or
                                        "placeholder"                       */
    double      seconds;
} mw_convert_result;

/*! mw_convert() : reads o->in tensor by tensor (mapped: about one tensor's
 *  f32 rows and its output in memory), converts each and writes o->out
 *  through a temporary renamed over it (no file and no temporary on
 *  failure; o->in is never written, and o->out naming it is refused).
 *  @return MW_OK and *r, or why not (MW_ERR_UNSUPPORTED: the architecture,
 *  a tensor type, pruning; MW_ERR_INVALID: shapes, options). */
MW_API mw_status mw_convert(const mw_convert_opts *o, mw_convert_result *r, mw_err *err);
/*! mw_convert_report_text() / _json() : the summary: input, output,
 *  tensors by type, bytes in -> out, time (docs/JSON.md "convert"). */
MW_API mw_status mw_convert_report_text(const mw_convert_result *r, FILE *out, mw_err *err);
MW_API mw_status mw_convert_report_json(const mw_convert_result *r, FILE *out, mw_err *err);

#ifdef __cplusplus
}
#endif

#endif /* MEMWALL_H */
