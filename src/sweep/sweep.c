/*
 * sweep.c - the batch-size (or context-length) experiment: each point a
 * fresh child in its own memory cgroup (mw_watch_run), its throughput read
 * from the engine's JSON or the command's output, the points chosen from the
 * plan's prediction and then by doubling and bisection, analyzed by
 * analysis.c. "x" is a point's value on the sweep's axis.
 */
#include "memwall.h"
#include "sweep/jsonl.h"
#include "sweep/slurm.h"
#include "engine/llama.h"
#include "format/model.h"
#include "probe/pagecache.h"
#include "probe/proc.h"
#include "common/error.h"
#include "common/sort.h"
#include "common/json.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define MAX_POINTS 256
/* runs (and warm-up runs) of one point; what-if sizes (mw_sweep_result) */
#define MAX_RUNS 64
#define MAX_WHAT_IF 16
_Static_assert(sizeof ((mw_sweep_result *)0)->what_if_bytes == MAX_WHAT_IF * sizeof(uint64_t),
               "MAX_WHAT_IF is mw_sweep_result's what_if_bytes");

/* Contexts are searched in steps of 256 tokens, as llama.cpp pads its KV
 * cache to 256: a finer answer would not be a context anyone runs. */
#define CTX_STEP 256
/* auto, along the context, when the model's trained context is unknown */
#define CTX_MAX_DEFAULT (1u << 20)

void mw_sweep_opts_init(mw_sweep_opts *o)
{
    memset(o, 0, sizeof *o);
    o->model = MW_DEMO_MODEL;
    o->max_batch = 4096;
    o->batch = 1;
    o->runs = 1;
    o->prompt = 16;
    o->gen = 16;
    o->mem_limit_bytes = MW_UNLIMITED;
    mw_cliff_thresholds_init(&o->thresholds);
}

void mw_sweep_result_free(mw_sweep_result *r)
{
    if (!r) return;
    mw_free(r->points);
    mw_free(r->verdicts);
    mw_free(r);
}

/* ---- one run of one point ------------------------------------------------ */

/* argv[i] with every "{batch}" and "{ctx}" replaced; the strings live in buf. */
static mw_status expand_argv(const char *const *cmd, uint32_t batch, uint32_t ctx, char *buf, size_t cap,
                             const char **argv, size_t max_args, mw_err *err)
{
    size_t used = 0, n = 0;
    for (; cmd[n]; n++) {
        MW_RETURN_IF(n + 1 >= max_args, err, MW_ERR_INVALID, "too many arguments in the command");
        char *out = buf + used;
        size_t room = cap - used;
        size_t len = 0;
        for (const char *p = cmd[n]; *p;) {
            char num[16] = "";
            size_t skip = 0;
            if (!strncmp(p, "{batch}", 7)) { snprintf(num, sizeof num, "%u", batch); skip = 7; }
            else if (!strncmp(p, "{ctx}", 5)) { snprintf(num, sizeof num, "%u", ctx); skip = 5; }
            const char *piece = skip ? num : p;
            size_t plen = skip ? strlen(num) : 1;
            MW_RETURN_IF(len + plen + 1 > room, err, MW_ERR_INVALID, "the command line is too long");
            memcpy(out + len, piece, plen);
            len += plen;
            p += skip ? skip : 1;
        }
        out[len] = '\0';
        argv[n] = out;
        used += len + 1;
    }
    argv[n] = NULL;
    return MW_OK;
}

/* The whole of a (small) temporary file, NUL-terminated; NULL on failure. */
static char *slurp(FILE *f)
{
    if (fflush(f) != 0 || fseek(f, 0, SEEK_END) != 0) return NULL;
    long n = ftell(f);
    if (n < 0 || n > (64l << 20)) return NULL;
    rewind(f);
    char *buf = mw_malloc((size_t)n + 1, MW_MEM_OTHER);
    if (!buf) return NULL;
    size_t got = fread(buf, 1, (size_t)n, f);
    buf[got] = '\0';
    return buf;
}

/* An anonymous temporary file, close-on-exec (tmpfile()'s is not: every
 * point's command would inherit the others' output files). */
static FILE *temp_file(void)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir) dir = "/tmp";
    int fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) { /* a filesystem without O_TMPFILE */
        char tmpl[PATH_MAX];
        if (snprintf(tmpl, sizeof tmpl, "%s/memwall-XXXXXX", dir) >= (int)sizeof tmpl) return NULL;
        fd = mkostemp(tmpl, O_CLOEXEC);
        if (fd >= 0) unlink(tmpl);
    }
    if (fd < 0) return NULL;
    FILE *f = fdopen(fd, "w+");
    if (!f) close(fd);
    return f;
}

/* Engine points: decode (or prompt) tokens/s from the child's memwall.run/1
 * JSON. (The prediction is the sweep's own plan, with this runtime's
 * overhead: add_point.) */
static void parse_engine_json(const char *text, mw_sweep_point *p)
{
    mw_json_init();
    cJSON *j = cJSON_Parse(text);
    if (!j) return;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "decode_tokens_per_second");
    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(j, "prompt_tokens_per_second");
    if (cJSON_IsNumber(d)) p->throughput = d->valuedouble;
    else if (cJSON_IsNumber(pr)) p->throughput = pr->valuedouble;
    mw_sweep_paging_from_json(cJSON_GetObjectItemCaseSensitive(j, "paging"), p);
    cJSON_Delete(j);
}

/* External points: the last match of the regex's first group in the output. */
static double metric_from_output(const char *text, const char *pattern)
{
    regex_t re;
    if (regcomp(&re, pattern, REG_EXTENDED | REG_NEWLINE) != 0) return -1;
    double v = -1;
    regmatch_t m[2];
    for (const char *p = text; regexec(&re, p, 2, m, 0) == 0;) {
        if (m[1].rm_so >= 0) v = strtod(p + m[1].rm_so, NULL);
        p += m[0].rm_eo > 0 ? m[0].rm_eo : 1;
        if (!*p) break;
    }
    regfree(&re);
    return v;
}

/* Out-of-memory messages, GPU first: "CUDA out of memory" also holds the
 * host's generic "out of memory". docs/SWEEP.md lists them with their
 * sources. */
static const char *const gpu_oom_patterns[] = {
    "CUDA out of memory",            /* PyTorch: torch.OutOfMemoryError      */
    "CUDA error: out of memory",     /* PyTorch, CUDA runtime errors         */
    "CUDA_ERROR_OUT_OF_MEMORY",      /* the driver API's name                */
    "cudaErrorMemoryAllocation",     /* the runtime API's name               */
    "cudaMalloc failed: out of memory", /* llama.cpp's CUDA backend          */
    "HIP out of memory",             /* PyTorch on ROCm                      */
    "RESOURCE_EXHAUSTED: Out of memory", /* XLA: JAX, TensorFlow             */
};
static const char *const host_oom_patterns[] = {
    "MemoryError",                   /* Python                               */
    "std::bad_alloc",                /* C++                                  */
    "Cannot allocate memory",        /* strerror(ENOMEM)                     */
    "can't allocate memory",         /* PyTorch's DefaultCPUAllocator        */
    "out of memory",                 /* memwall run, and many others         */
};

mw_oom_kind mw_oom_from_output(const char *text)
{
    if (!text) return MW_OOM_NONE;
    for (size_t i = 0; i < sizeof gpu_oom_patterns / sizeof gpu_oom_patterns[0]; i++)
        if (strstr(text, gpu_oom_patterns[i])) return MW_OOM_GPU;
    for (size_t i = 0; i < sizeof host_oom_patterns / sizeof host_oom_patterns[0]; i++)
        if (strstr(text, host_oom_patterns[i])) return MW_OOM_HOST;
    return MW_OOM_NONE;
}

/* The last non-empty line of text into out (control characters as spaces,
 * cut to fit); "" when there is none. */
static void last_line(const char *text, char *out, size_t cap)
{
    out[0] = '\0';
    if (!text) return;
    const char *end = text + strlen(text);
    while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ')) end--;
    const char *start = end;
    while (start > text && start[-1] != '\n') start--;
    size_t n = (size_t)(end - start) < cap - 1 ? (size_t)(end - start) : cap - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)start[i];
        out[i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    out[n] = '\0';
    /* a cut in the middle of a UTF-8 sequence: drop the partial character */
    if (n == cap - 1) {
        size_t k = n;
        while (k > 0 && ((unsigned char)out[k - 1] & 0xC0) == 0x80) k--;
        unsigned char lead = k > 0 ? (unsigned char)out[k - 1] : 0;
        size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        if (want > 1 && n - (k - 1) < want) out[k - 1] = '\0';
    }
}

/* Lines written to $MEMWALL_REPORT_FD: "throughput N" (items/s) or "items N"
 * (items done, divided by the wall time); the last line of each kind wins. */
static double metric_from_report(const char *text, double wall)
{
    double thr = -1, items = -1;
    for (const char *p = text; p && *p;) {
        if (!strncmp(p, "throughput ", 11)) thr = strtod(p + 11, NULL);
        else if (!strncmp(p, "items ", 6)) items = strtod(p + 6, NULL);
        p = strchr(p, '\n');
        if (p) p++;
    }
    if (thr >= 0) return thr;
    return items >= 0 && wall > 0 ? items / wall : -1;
}

typedef struct progress_ctx {
    const mw_sweep_opts *o;
    uint32_t x, run;
} progress_ctx;

static void on_sample(const mw_sample *s, void *user)
{
    const progress_ctx *c = user;
    c->o->on_progress(c->x, c->run, s, c->o->on_point_user);
}

/* The caller's stop request (opts.cancel): its signal, or 0. */
static int cancel_requested(const mw_sweep_opts *o)
{
    return o->cancel ? (int)*o->cancel : 0;
}

/* What a run executes: the command with its placeholders replaced, or the
 * engine (`memwall run`) at (batch, ctx); the strings live in a. */
typedef struct run_argv {
    char buf[8192];
    const char *argv[128];
    char nb[16], np[16], ng[16], nc[16], nt[16];
    char nbudget[24], nprefetch[16];      /* budget sweeps (issue #15) */
} run_argv;

/* budget: the point's --mem-budget in bytes; 0: none (other axes). */
static mw_status make_argv(const mw_sweep_opts *o, uint32_t batch, uint32_t ctx, uint64_t budget, run_argv *a,
                           mw_err *err)
{
    if (o->cmd) return expand_argv(o->cmd, batch, ctx, a->buf, sizeof a->buf, a->argv, 128, err);
    size_t n = 0;
    snprintf(a->nb, sizeof a->nb, "%u", batch);
    snprintf(a->np, sizeof a->np, "%u", o->prompt);
    snprintf(a->ng, sizeof a->ng, "%u", o->gen);
    a->argv[n++] = o->memwall_path; /* check_opts: required */
    a->argv[n++] = "run";
    a->argv[n++] = o->model;
    a->argv[n++] = "--batch"; a->argv[n++] = a->nb;
    a->argv[n++] = "--prompt"; a->argv[n++] = a->np;
    a->argv[n++] = "--gen"; a->argv[n++] = a->ng;
    if (ctx) { snprintf(a->nc, sizeof a->nc, "%u", ctx); a->argv[n++] = "--ctx"; a->argv[n++] = a->nc; }
    if (o->threads) {
        snprintf(a->nt, sizeof a->nt, "%u", o->threads);
        a->argv[n++] = "--threads";
        a->argv[n++] = a->nt;
    }
    if (budget) { /* a budget sweep's point (issue #15): run streams what does not fit */
        snprintf(a->nbudget, sizeof a->nbudget, "%llu", (unsigned long long)budget);
        a->argv[n++] = "--mem-budget";
        a->argv[n++] = a->nbudget;
        if (o->prefetch_layers) {
            snprintf(a->nprefetch, sizeof a->nprefetch, "%u", o->prefetch_layers);
            a->argv[n++] = "--prefetch";
            a->argv[n++] = a->nprefetch;
        }
    }
    a->argv[n++] = "--force"; /* a point beyond the cap is measured (oom), not refused by run's plan check */
    a->argv[n++] = "--json";
    a->argv[n] = NULL;
    return MW_OK;
}

/* The run's status and memory figures from the watch. */
static void take_watch_result(const mw_watch_result *res, mw_sweep_point *p)
{
    p->exit_code = res->status_code;
    p->status = res->timed_out ? MW_POINT_TIMEOUT
              : res->oom_killed ? MW_POINT_OOM
              : res->status_code != 0 ? MW_POINT_FAILED : MW_POINT_OK;
    p->wall_seconds = res->wall_seconds;
    p->peak_rss_bytes = res->peak_rss_bytes;
    p->cgroup_peak_bytes = res->cgroup_peak_bytes;
    p->swap_peak_bytes = res->cgroup_swap_peak_bytes != MW_UNKNOWN ? res->cgroup_swap_peak_bytes
                                                                   : res->peak_swap_bytes;
    /* swap-in is counted system-wide (no cgroup file has it): a point
     * whose cgroup could hold no swap (--swap-limit 0, the default)
     * swapped nothing in; another process's paging is not this point's.
     * With swap allowed, its own anonymous refaults count it too. */
    p->swap_in_bytes = res->cgroup_swap_limit_bytes == 0
                           ? 0 : res->sys_swap_in_pages * (uint64_t)sysconf(_SC_PAGESIZE);
    p->major_faults = res->major_faults;
    /* the cgroup's own refaults; the system's (other processes' too)
     * only without a cgroup, or on a kernel that does not count them */
    if (res->cgroup_refaults_file != MW_UNKNOWN)
        p->refaults = res->cgroup_refaults_file +
                      (res->cgroup_refaults_anon != MW_UNKNOWN ? res->cgroup_refaults_anon : 0);
    else
        p->refaults = res->sys_refaults_anon + res->sys_refaults_file;
    p->psi_some_seconds = res->psi_some_seconds;
    p->psi_full_seconds = res->psi_full_seconds;
    p->peak_gpu_bytes = res->peak_gpu_bytes;
    p->max_processes = res->max_processes;
    p->peak_process_rss_bytes = MW_UNKNOWN;
    for (uint32_t k = 0; k < res->nprocs; k++) {
        uint64_t hwm = res->procs[k].peak_rss_bytes;
        if (hwm != MW_UNKNOWN && (p->peak_process_rss_bytes == MW_UNKNOWN || hwm > p->peak_process_rss_bytes))
            p->peak_process_rss_bytes = hwm;
    }
    p->peak_rss_anon_bytes = res->peak_rss_anon_bytes;
    p->peak_rss_file_bytes = res->peak_rss_file_bytes;
    p->oom = res->oom_killed ? MW_OOM_CGROUP : MW_OOM_NONE;
}

/* What the command's output says: a failure's last line and whether it ran
 * out of memory; a success's throughput (the engine's JSON, --metric, the
 * report descriptor, or --items-per-run). report: NULL for the engine. */
static void take_output(const mw_sweep_opts *o, uint32_t batch, FILE *out, FILE *errf, FILE *report,
                        mw_sweep_point *p)
{
    char *text = slurp(out);
    if (p->status != MW_POINT_OK) {
        char *etext = slurp(errf);
        last_line(etext, p->message, sizeof p->message);
        /* a command that failed saying it ran out of memory is an OOM */
        mw_oom_kind k = p->status == MW_POINT_FAILED ? mw_oom_from_output(etext) : MW_OOM_NONE;
        if (k == MW_OOM_NONE && p->status == MW_POINT_FAILED) k = mw_oom_from_output(text);
        if (k != MW_OOM_NONE) {
            p->status = MW_POINT_OOM;
            p->oom = k;
        }
        mw_free(etext);
    }
    if (text && p->status == MW_POINT_OK) {
        if (!o->cmd) parse_engine_json(text, p);
        else if (o->metric_regex) p->throughput = metric_from_output(text, o->metric_regex);
        if (report && p->throughput < 0) { /* report: a command's */
            char *rep = slurp(report);
            if (rep) p->throughput = metric_from_report(rep, p->wall_seconds);
            mw_free(rep);
        }
        if (o->cmd && p->throughput < 0 && o->items_per_run > 0 && p->wall_seconds > 0)
            p->throughput = o->items_per_run * batch / p->wall_seconds;
    }
    mw_free(text);
}

/* One run at (batch, ctx); ctx 0: the engine's default (prompt + gen). A
 * signal that stops the sweep makes the point "interrupted" (*signo). */
static mw_status run_once(const mw_sweep_opts *o, uint32_t batch, uint32_t ctx, uint32_t run, mw_sweep_point *p,
                          int *signo, mw_err *err)
{
    run_argv a;
    MW_FORWARD(make_argv(o, batch, ctx, p->budget_bytes, &a, err));
    FILE *out = temp_file(), *errf = temp_file();
    FILE *report = o->cmd ? temp_file() : NULL;
    if (!out || !errf || (o->cmd && !report)) {
        int e = errno;
        if (out) fclose(out);
        if (errf) fclose(errf);
        if (report) fclose(report);
        return mw_err_errno(err, MW_ERR_IO, e, "cannot create a temporary file");
    }
    mw_watch_opts w;
    mw_watch_opts_init(&w);
    /* The command's report descriptor and its number, in the child only:
     * the caller's environment is not ours to change. */
    char report_env[48];
    const char *env_add[] = {report_env, NULL};
    /* an engine point's `memwall run` judges nothing against the machine
     * profile (the sweep does, with the profile it was given): it reads
     * neither the profile nor the machine's key (NVML) in the measured
     * process */
    static const char *const engine_env[] = {"MEMWALL_PROFILE=none", NULL};
    if (!o->cmd) w.env_add = engine_env;
    if (report) {
        snprintf(report_env, sizeof report_env, "MEMWALL_REPORT_FD=%d", fileno(report));
        w.env_add = env_add;
        w.keep_fd = fileno(report);
    }
    w.interval_seconds = 0.02;
    /* a budget sweep's point has its own cap (issue #15) */
    w.mem_limit_bytes = p->mem_limit_bytes != MW_UNKNOWN ? p->mem_limit_bytes : o->mem_limit_bytes;
    w.swap_limit_bytes = o->swap_limit_bytes;
    w.stdout_fd = fileno(out);
    w.stderr_fd = fileno(errf); /* the table stays readable; a failure's last line is kept */
    w.timeout_seconds = o->timeout_seconds;
    w.die_with_watcher = 1; /* a killed sweep leaves no workload running */
    w.kill_on_signal = 1;   /* and a stopped one neither */
    progress_ctx pc = {o, o->axis == MW_SWEEP_CTX ? ctx : o->axis == MW_SWEEP_BUDGET ? mw_sweep_point_x(p, o->axis)
                                                                                      : batch, run};
    if (o->on_progress) {
        w.on_sample = on_sample;
        w.on_sample_user = &pc;
    }
    mw_watch_result *res = NULL;
    mw_status st = mw_watch_run(a.argv, &w, &res, err);
    if (st == MW_OK) {
        take_watch_result(res, p);
        take_output(o, batch, out, errf, report, p);
    }
    if (st == MW_OK && res->signal_received) {
        /* the sweep is being stopped: whatever the tree did, it was cut
         * short (SIGKILL after the grace, or it died of the signal) */
        *signo = res->signal_received;
        p->status = MW_POINT_INTERRUPTED;
        p->oom = MW_OOM_NONE;
        p->throughput = -1;
        snprintf(p->message, sizeof p->message, "interrupted by %s (--resume runs it again)",
                 mw_signal_name(res->signal_received));
    }
    mw_watch_result_free(res);
    fclose(out);
    fclose(errf);
    if (report) fclose(report);
    return st;
}

/* ---- issue #16: a point's runs as a Slurm job made them (src/sweep/slurm.c;
 * docs/CLUSTER.md "Sweeps on Slurm") ------------------------------------------ */

/* The point's message, cut to fit. */
__attribute__((format(printf, 2, 3))) static void point_message(mw_sweep_point *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->message, sizeof p->message, fmt, ap);
    va_end(ap);
}

/* One of the job's files for reading, or an empty temporary file when it is
 * missing (take_output reads both). */
static FILE *job_file(const mw_slurm_job *job, const char *name)
{
    char path[PATH_MAX];
    mw_slurm_job_file(job, name, path, sizeof path);
    FILE *f = fopen(path, "re");
    return f ? f : temp_file();
}

/* Run i of the job: its memwall.watch/1 report and its output, as run_once
 * takes a local run's. No report (the job was killed before memwall wrote
 * it, or its node died): the run failed, or ran out of memory when Slurm
 * says so, with the reason. */
static void take_slurm_run(const mw_sweep_opts *o, uint32_t batch, const mw_slurm_job *job, uint32_t i,
                           mw_sweep_point *p)
{
    mw_watch_result res;
    uint64_t proc_peak;
    mw_err we;
    if (mw_slurm_read_watch(job, i, &res, &proc_peak, &we) == MW_OK) {
        take_watch_result(&res, p);
        p->peak_process_rss_bytes = proc_peak;
        char on[32], en[32];
        snprintf(on, sizeof on, "out-%u", i);
        snprintf(en, sizeof en, "err-%u", i);
        FILE *out = job_file(job, on), *errf = job_file(job, en);
        if (out && errf) take_output(o, batch, out, errf, NULL, p);
        if (out) fclose(out);
        if (errf) fclose(errf);
        return;
    }
    p->exit_code = job->exit_code;
    p->status = !strcmp(job->state, "OUT_OF_MEMORY") ? MW_POINT_OOM
              : job->end == MW_SLURM_RUN_TIMEOUT ? MW_POINT_TIMEOUT : MW_POINT_FAILED;
    p->oom = p->status == MW_POINT_OOM ? MW_OOM_CGROUP : MW_OOM_NONE;
    point_message(p, "Slurm job %llu %s%s%s: no report from run %u (%s)", (unsigned long long)job->id, job->state,
                  job->reason[0] ? ", " : "", job->reason, i, we.msg);
}

/* The job's id, state, node and MaxRSS into the point, and what Slurm's
 * state says beyond memwall's reports: OUT_OF_MEMORY is an OOM point; a
 * node that failed, a job cancelled (not by this sweep's timeouts), timed
 * out or preempted is a failed point with the reason, whatever its
 * reports said; the sweep's own cancellations are a timeout, a queue
 * timeout (failed) or an interruption. */
static void take_slurm_job(const mw_slurm_job *job, mw_sweep_point *p)
{
    p->slurm_job_id = job->id;
    snprintf(p->slurm_state, sizeof p->slurm_state, "%s", job->state);
    snprintf(p->host, sizeof p->host, "%s", job->host);
    p->slurm_max_rss_bytes = job->max_rss_bytes;
    const char *s = job->state;
    unsigned long long id = (unsigned long long)job->id;
    /* issue #16: Slurm's accounting against memwall's own figures, before
     * Slurm's word changes the point; the note ends the point's message */
    char check[200] = "";
    if (job->end == MW_SLURM_ENDED)
        mw_slurm_cross_check(job, p->oom == MW_OOM_CGROUP, p->peak_rss_bytes, p->wall_seconds, check, sizeof check);
    if (job->end == MW_SLURM_CANCELLED_BY_US) {
        p->status = MW_POINT_INTERRUPTED;
        p->oom = MW_OOM_NONE;
        p->throughput = -1;
        point_message(p, "interrupted: Slurm job %llu cancelled (--resume runs it again)", id);
    } else if (job->end == MW_SLURM_QUEUE_TIMEOUT) {
        p->status = MW_POINT_FAILED;
        p->oom = MW_OOM_NONE;
        point_message(p, "Slurm job %llu did not start within the queue timeout (PENDING%s%s): cancelled", id,
                      job->reason[0] ? ", " : "", job->reason);
    } else if (job->end == MW_SLURM_RUN_TIMEOUT) {
        p->status = MW_POINT_TIMEOUT;
        point_message(p, "Slurm job %llu ran past --timeout: cancelled", id);
    } else if (!strcmp(s, "OUT_OF_MEMORY")) {
        if (p->status != MW_POINT_OOM) {
            p->status = MW_POINT_OOM;
            p->oom = MW_OOM_CGROUP;
            point_message(p, "Slurm job %llu: OUT_OF_MEMORY on %s", id, job->host[0] ? job->host : "its node");
        }
    } else if (!strcmp(s, "NODE_FAIL") || !strcmp(s, "CANCELLED") || !strcmp(s, "TIMEOUT") ||
               !strcmp(s, "PREEMPTED") || !strcmp(s, "BOOT_FAIL") || !strcmp(s, "DEADLINE") ||
               job->end == MW_SLURM_LOST) {
        p->status = MW_POINT_FAILED;
        p->oom = MW_OOM_NONE;
        p->throughput = -1;
        point_message(p, "Slurm job %llu: %s on %s%s%s%s", id, s, job->host[0] ? job->host : "no node",
                      job->reason[0] ? " (" : "", job->reason, job->reason[0] ? ")" : "");
    }
    if (check[0]) { /* issue #16: the cross-check's disagreement */
        size_t len = strlen(p->message);
        snprintf(p->message + len, sizeof p->message - len, "%scross-check: %s", len ? "; " : "", check);
    }
}

/* The files dropped from the page cache before each run: --evict's, and
 * an engine point's model file (not the built-in demo, which has none). */
static size_t evict_list(const mw_sweep_opts *o, const char **out, size_t cap)
{
    size_t n = 0;
    if (o->keep_page_cache) return 0;
    for (size_t i = 0; i < o->n_evict_files && n < cap; i++) out[n++] = o->evict_files[i];
    /* (a model that is no regular file is the engine's to refuse, in its words) */
    struct stat st;
    if (!o->cmd && o->model && strcmp(o->model, MW_DEMO_MODEL) != 0 && n < cap && stat(o->model, &st) == 0 &&
        S_ISREG(st.st_mode))
        out[n++] = o->model;
    return n;
}

/* Drops the files' cached pages so that the run's cgroup is charged for
 * every page it maps or reads (pagecache.c says why); the bytes that stayed
 * cached (mapped by another process) into *left. A file that cannot be
 * dropped now (removed since the sweep began) leaves *left unknown: the
 * point is still measured. */
static void evict_files(const mw_sweep_opts *o, uint64_t *left)
{
    const char *files[64];
    size_t n = evict_list(o, files, 64);
    *left = n ? 0 : MW_UNKNOWN;
    for (size_t i = 0; i < n; i++) {
        uint64_t l = 0;
        if (mw_pagecache_evict(files[i], &l, NULL) != MW_OK) {
            *left = MW_UNKNOWN;
            return;
        }
        *left += l;
    }
}

/* A point: o->warmup runs discarded, then o->runs runs; the worst status,
 * medians of time and throughput (and the throughput's range: the spread
 * the cliff's slowdown must exceed), the largest memory figures. A warm-up
 * run that fails is the point's result: the point does not fit. A signal
 * (*signo) ends it as "interrupted". job: the Slurm job that made the
 * runs (issue #16), or NULL: they run here. */
static mw_status run_point(const mw_sweep_opts *o, uint32_t batch, uint32_t ctx, uint64_t budget, uint64_t cap,
                           mw_sweep_point *p, int *signo, const mw_slurm_job *job, mw_err *err)
{
    memset(p, 0, sizeof *p);
    p->batch = batch;
    p->ctx = ctx;
    p->budget_bytes = budget;          /* 0 but in a budget sweep */
    p->mem_limit_bytes = cap;          /* MW_UNKNOWN: the sweep's cap */
    p->stream_bytes_per_step = MW_UNKNOWN;
    p->stream_bytes_per_second = -1;
    p->throughput = p->throughput_min = p->throughput_max = -1;
    p->predicted_bytes = MW_UNKNOWN;
    p->peak_gpu_bytes = MW_UNKNOWN;
    p->file_cached_bytes = MW_UNKNOWN;
    p->peak_process_rss_bytes = MW_UNKNOWN;
    double walls[MAX_RUNS], thr[MAX_RUNS];
    uint32_t runs = o->runs ? o->runs : 1, nthr = 0, done = 0; /* check_opts: at most MAX_RUNS */
    uint32_t warmup = o->warmup;
    for (uint32_t r = 0; r < warmup + runs; r++) {
        mw_sweep_point one;
        one = *p;
        one.throughput = -1;
        one.stream_bytes_per_step = MW_UNKNOWN;
        one.stream_bytes_per_second = -1;
        one.streamed_layers = 0;
        if (!job && r > 0 && cancel_requested(o)) { /* stopped between two runs of the point */
            *signo = cancel_requested(o);
            p->status = MW_POINT_INTERRUPTED;
            snprintf(p->message, sizeof p->message, "interrupted by %s (--resume runs it again)",
                     mw_signal_name(*signo));
            break;
        }
        uint64_t left = MW_UNKNOWN;
        if (job) { /* issue #16: the run as the Slurm job made it (no page-cache eviction: local only) */
            take_slurm_run(o, batch, job, r + 1, &one);
        } else {
            evict_files(o, &left);
            MW_FORWARD(run_once(o, batch, ctx, r + 1, &one, signo, err));
        }
        const int warm = r < warmup;
        if (warm && one.status == MW_POINT_OK) continue; /* discarded */
        const int first = done == 0;
        done++;
        if (left != MW_UNKNOWN && (p->file_cached_bytes == MW_UNKNOWN || left > p->file_cached_bytes))
            p->file_cached_bytes = left;
        if (one.status > p->status) p->status = one.status;
        if (first || one.exit_code) p->exit_code = one.exit_code;
        walls[done - 1] = one.wall_seconds;
        if (one.throughput >= 0) thr[nthr++] = one.throughput;
#define KEEP_MAX(f) if (first || (one.f != MW_UNKNOWN && (p->f == MW_UNKNOWN || one.f > p->f))) p->f = one.f
        KEEP_MAX(peak_rss_bytes);
        KEEP_MAX(peak_rss_anon_bytes);
        KEEP_MAX(peak_rss_file_bytes);
        KEEP_MAX(peak_process_rss_bytes);
        KEEP_MAX(cgroup_peak_bytes);
        KEEP_MAX(swap_peak_bytes);
        KEEP_MAX(swap_in_bytes);
        KEEP_MAX(major_faults);
        KEEP_MAX(refaults);
        KEEP_MAX(peak_gpu_bytes);
#undef KEEP_MAX
        if (first || one.max_processes > p->max_processes) p->max_processes = one.max_processes;
        if (one.psi_some_seconds > p->psi_some_seconds || first) p->psi_some_seconds = one.psi_some_seconds;
        if (one.psi_full_seconds > p->psi_full_seconds || first) p->psi_full_seconds = one.psi_full_seconds;
        p->predicted_bytes = one.predicted_bytes;
        if (one.status == MW_POINT_OK && one.stream_bytes_per_step != MW_UNKNOWN) { /* the last run's */
            p->stream_bytes_per_step = one.stream_bytes_per_step;
            p->stream_bytes_per_second = one.stream_bytes_per_second;
            p->streamed_layers = one.streamed_layers;
        }
        if (one.status != MW_POINT_OK) {
            p->oom = one.oom;
            memcpy(p->message, one.message, sizeof p->message);
            break; /* a failing point is not repeated */
        }
    }
    p->runs = done;
    p->slurm_max_rss_bytes = MW_UNKNOWN;
    qsort(walls, done, sizeof walls[0], mw_cmp_double);
    p->wall_seconds = done ? walls[done / 2] : -1; /* none: interrupted in its warm-up */
    if (nthr) {
        qsort(thr, nthr, sizeof thr[0], mw_cmp_double);
        p->throughput = thr[nthr / 2];
        p->throughput_min = thr[0];
        p->throughput_max = thr[nthr - 1];
    }
    if (job) take_slurm_job(job, p); /* issue #16: Slurm's word on the job */
    return MW_OK;
}

/* ---- which points ---------------------------------------------------------- */

/* The model the plan needs, for engine points (NULL: none). */
static mw_model *plan_model(const mw_sweep_opts *o)
{
    if (o->cmd) return NULL;
    if (!strcmp(o->model, MW_DEMO_MODEL)) {
        mw_hparams hp;
        uint64_t n_params = 0, weights_bytes = 0;
        mw_llama_demo_hparams(&hp);
        mw_llama_demo_sizes(hp.dtype, &n_params, &weights_bytes);
        return mw_model_from_hparams(MW_SOURCE_PRESET, MW_DEMO_MODEL, &hp, n_params, weights_bytes);
    }
    /* The plan needs the hyperparameters and the weights' bytes, not the
     * file: keep a copy, and unmap the file, so that no page of it stays
     * mapped by this process and escapes the eviction before each run. */
    mw_model *f = NULL;
    if (mw_model_open(o->model, &f, NULL) != MW_OK) return NULL;
    mw_model *m = mw_model_from_hparams(f->source, f->path, &f->hp, f->n_params, f->weights_bytes);
    if (m) m->has_hparams = f->has_hparams;
    mw_model_free(f);
    return m;
}

typedef struct sweep_state {
    const mw_sweep_opts *o;
    mw_sweep_result *r;
    int jsonl_fd;                    /* -1: no --jsonl */
    mw_model *plan_model;            /* engine points: the plan's model */
    uint64_t overhead_bytes;         /* engine points: the runtime's own */
    int stopped;                     /* 1: add_point stopped the sweep (a
                                        signal, or the JSON Lines file) */
    /* issue #16: points as Slurm jobs */
    int slurm;                       /* o->launcher == MW_LAUNCH_SLURM     */
    uint32_t parallel;               /* jobs at once (1: one)              */
    mw_slurm_site site;              /* what the pre-flight found          */
} sweep_state;

/* The status add_point passes up through the search when it stops the
 * sweep on purpose; mw_sweep_run turns it back into a result. */
#define SWEEP_STOPPED MW_ERR_INTERNAL

static mw_status stop_sweep(sweep_state *S, int signo)
{
    S->stopped = 1;
    if (signo && !S->r->interrupted_signal) S->r->interrupted_signal = signo;
    return SWEEP_STOPPED;
}

/* Appends the point's line to the JSON Lines file whole, and fsyncs it: a
 * point is either in the file or not, never half (a full disk truncates the
 * part written away, so the file stays valid for --resume). */
static mw_status jsonl_append(sweep_state *S, const mw_sweep_point *p, mw_err *err)
{
    const char *path = S->o->jsonl_path;
    uint32_t x = mw_sweep_point_x(p, S->o->axis);
    const char *xn = mw_sweep_axis_name(S->o->axis);
    char *line;
    size_t len;
    MW_RETURN_IF(mw_sweep_point_json_line(p, &line, &len) != MW_OK, err, MW_ERR_NOMEM,
                 "out of memory writing %s %u's line to %s", xn, x, path);
    struct stat sb;
    int e = fstat(S->jsonl_fd, &sb) == 0 ? 0 : errno;
    off_t start = e ? -1 : sb.st_size; /* where the line starts */
    const char *what = "write";
    for (size_t done = 0; !e && done < len;) {
        ssize_t n = write(S->jsonl_fd, line + done, len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) e = n < 0 ? errno : EIO;
        else done += (size_t)n;
    }
    if (!e && fsync(S->jsonl_fd) != 0) {
        e = errno;
        what = "sync";
    }
    mw_free(line);
    if (!e) return MW_OK;
    /* the file ends at the last whole point again (O_APPEND: the next
     * write goes there) */
    int cut = start >= 0 && ftruncate(S->jsonl_fd, start) == 0;
    return mw_err_set(err, MW_ERR_IO,
                      "cannot %s %s %u's point to %s: %s; the sweep stops here, with the points before it in the "
                      "file (%s): free some space, then run the same command with --resume to measure the rest",
                      what, xn, x, path, strerror(e),
                      cut ? "the partial line was removed" : "--resume removes the partial line");
}

/* The plan at (batch, ctx; 0: prompt + gen), mem: the cap or MW_UNKNOWN,
 * budget: the weights' memory budget (issue #15; 0: none). 0 on failure. */
static int plan_for_budget(const sweep_state *S, uint32_t batch, uint32_t ctx, uint64_t mem, uint64_t budget,
                           mw_plan *plan);

static int plan_for(const sweep_state *S, uint32_t batch, uint32_t ctx, uint64_t mem, mw_plan *plan)
{
    return plan_for_budget(S, batch, ctx, mem, 0, plan);
}

static int plan_for_budget(const sweep_state *S, uint32_t batch, uint32_t ctx, uint64_t mem, uint64_t budget,
                           mw_plan *plan)
{
    const mw_sweep_opts *o = S->o;
    const mw_model *m = S->plan_model;
    if (!m) return 0;
    mw_plan_opts po;
    mw_plan_opts_init(&po);
    po.overhead_bytes = S->overhead_bytes;
    po.batch = batch;
    po.prompt = o->prompt;
    po.gen = o->gen;
    po.ctx = ctx ? ctx : o->prompt + o->gen;
    po.mem_bytes = mem;
    if (!budget) return mw_plan_compute(m, &po, plan, NULL) == MW_OK;
    /* the planner's paging mode (issue #15): the split needs the file's
     * tensors, which the kept copy has not (plan_model): the file's header
     * for this plan, let go after it (the model file is dropped from the
     * page cache before each run anyway) */
    po.mem_budget_bytes = budget;
    po.prefetch_layers = o->prefetch_layers;
    mw_model *f = NULL;
    if (mw_model_open(o->model, &f, NULL) != MW_OK) return 0;
    const int ok = mw_plan_compute(f, &po, plan, NULL) == MW_OK;
    mw_model_free(f);
    return ok;
}

/* The (batch, ctx) of the point at x: the axis varies, the other is fixed. */
static void point_at(const mw_sweep_opts *o, uint32_t x, uint32_t *batch, uint32_t *ctx)
{
    *batch = o->axis == MW_SWEEP_CTX ? o->batch : x;
    *ctx = o->axis == MW_SWEEP_CTX ? x : o->ctx;
}

static const mw_sweep_point *find(const sweep_state *S, uint32_t batch, uint32_t ctx, uint64_t budget)
{
    for (size_t i = 0; i < S->r->n_points; i++)
        if (S->r->points[i].batch == batch && S->r->points[i].ctx == ctx && S->r->points[i].budget_bytes == budget)
            return &S->r->points[i];
    return NULL;
}

/* A budget sweep's point's cap (issue #15, docs/PAGING.md "In the sweep"):
 * the budget, plus what the plan counts beside the weights (KV cache,
 * activations, scratch, overhead), plus the margin. MW_UNKNOWN when there
 * is no plan. */
static uint64_t budget_cap(const sweep_state *S, uint64_t budget)
{
    mw_plan plan; /* with the budget: scratch holds the reader's staging */
    if (!plan_for_budget(S, S->o->batch, S->o->ctx, MW_UNKNOWN, budget, &plan) &&
        !plan_for(S, S->o->batch, S->o->ctx, MW_UNKNOWN, &plan)) /* below the smallest budget: it fails */
        return MW_UNKNOWN;
    uint64_t rest = 0;
    for (int k = 0; k < MW_COMP_COUNT; k++)
        if (k != MW_COMP_WEIGHTS) rest += plan.bytes[k];
    uint64_t cap = budget + rest;
    uint64_t margin = (uint64_t)((double)cap * MW_SWEEP_BUDGET_MARGIN_SHARE);
    if (margin < MW_SWEEP_BUDGET_MARGIN_BYTES) margin = MW_SWEEP_BUDGET_MARGIN_BYTES;
    return cap + margin;
}

static mw_status add_point_at(sweep_state *S, uint32_t batch, uint32_t ctx, uint64_t budget,
                              const mw_sweep_point **out, mw_err *err);
static mw_status record_point(sweep_state *S, mw_sweep_point *p, uint32_t batch, uint32_t ctx, uint64_t budget,
                              int signo, const mw_sweep_point **out, mw_err *err);
/* issue #16: points run as Slurm jobs, up to S->parallel at once */
typedef struct point_key {
    uint32_t batch, ctx;
    uint64_t budget;
} point_key;
static mw_status slurm_points(sweep_state *S, const point_key *keys, size_t n, mw_err *err);

static mw_status add_point(sweep_state *S, uint32_t x, const mw_sweep_point **out, mw_err *err)
{
    uint32_t batch, ctx;
    point_at(S->o, x, &batch, &ctx);
    return add_point_at(S, batch, ctx, 0, out, err);
}

/* The point at (batch, ctx), and budget (bytes; 0: none) in a budget
 * sweep: run, or the one already measured. */
static mw_status add_point_at(sweep_state *S, uint32_t batch, uint32_t ctx, uint64_t budget,
                              const mw_sweep_point **out, mw_err *err)
{
    const mw_sweep_point *known = find(S, batch, ctx, budget);
    if (known) {
        *out = known;
        return MW_OK;
    }
    MW_RETURN_IF(S->r->n_points == MAX_POINTS, err, MW_ERR_INVALID, "more than %d points", MAX_POINTS);
    if (cancel_requested(S->o)) { /* a signal between points */
        mw_err_set(err, MW_ERR_INVALID, "interrupted by %s", mw_signal_name(cancel_requested(S->o)));
        return stop_sweep(S, cancel_requested(S->o));
    }
    if (S->slurm) { /* issue #16: one Slurm job */
        const point_key k = {batch, ctx, budget};
        MW_FORWARD(slurm_points(S, &k, 1, err));
        *out = find(S, batch, ctx, budget);
        MW_RETURN_IF(!*out, err, MW_ERR_INTERNAL, "the Slurm job of batch %u, ctx %u left no point", batch, ctx);
        return MW_OK;
    }
    mw_sweep_point *p = &S->r->points[S->r->n_points];
    int signo = 0;
    uint64_t cap = budget ? budget_cap(S, budget) : MW_UNKNOWN;
    MW_FORWARD(run_point(S->o, batch, ctx, budget, cap, p, &signo, NULL, err));
    return record_point(S, p, batch, ctx, budget, signo, out, err);
}

/* The point just measured at r->points[n_points]: its plan, then it
 * counts, goes to the JSON Lines file and to the caller; a signal (signo,
 * or one pending) stops the sweep after it. */
static mw_status record_point(sweep_state *S, mw_sweep_point *p, uint32_t batch, uint32_t ctx, uint64_t budget,
                              int signo, const mw_sweep_point **out, mw_err *err)
{
    mw_plan plan;
    if (plan_for_budget(S, batch, ctx, MW_UNKNOWN, budget, &plan)) {
        p->predicted_bytes = plan.total_bytes;
        p->step_bytes = plan.decode_step_bytes;
        p->step_flops = plan.decode_step_flops;
    }
    S->r->n_points++;
    if (S->jsonl_fd >= 0 && jsonl_append(S, p, &S->r->stopped) != MW_OK) {
        if (S->o->on_point) S->o->on_point(p, S->o->on_point_user);
        if (err) *err = S->r->stopped;
        return stop_sweep(S, signo);
    }
    if (S->o->on_point) S->o->on_point(p, S->o->on_point_user);
    /* stopped while it ran: it is recorded as interrupted, and nothing more
     * runs (a signal that came during its last moments stops the sweep too) */
    if (!signo) signo = cancel_requested(S->o);
    if (signo) {
        mw_err_set(err, MW_ERR_INVALID, "interrupted by %s", mw_signal_name(signo));
        return stop_sweep(S, signo);
    }
    *out = p;
    return MW_OK;
}

/* ---- issue #16: points as Slurm jobs, up to --parallel at once ------------ */

#define MAX_PARALLEL 64

typedef struct slurm_slot {
    point_key k;
    uint64_t cap;                    /* the point's own (budget sweeps), or MW_UNKNOWN */
    mw_slurm_job job;
} slurm_slot;

static mw_status slurm_submit_point(sweep_state *S, const point_key *k, slurm_slot *slot, mw_err *err)
{
    const mw_sweep_opts *o = S->o;
    run_argv a;
    MW_FORWARD(make_argv(o, k->batch, k->ctx, k->budget, &a, err));
    slot->k = *k;
    slot->cap = k->budget ? budget_cap(S, k->budget) : MW_UNKNOWN;
    uint64_t cap = slot->cap != MW_UNKNOWN ? slot->cap : o->mem_limit_bytes;
    /* Slurm's cgroup holds memwall watch too: the job asks for the point's
     * cap plus what the pre-flight measured it costs, in whole MiB (--mem is
     * in MiB: a fraction rounded up would give the command more than its
     * cap; a local point's cap bounds its command alone) */
    if (cap != MW_UNLIMITED && cap != MW_UNKNOWN && S->site.enforces_memory)
        cap += S->site.overhead_bytes >> 20 << 20;
    static const char *const engine_env[] = {"MEMWALL_PROFILE=none", NULL};
    char label[64];
    mw_sweep_point tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.batch = k->batch;
    tmp.ctx = k->ctx;
    tmp.budget_bytes = k->budget;
    snprintf(label, sizeof label, "%s-%u", mw_sweep_axis_name(o->axis), mw_sweep_point_x(&tmp, o->axis));
    uint32_t nruns = o->warmup + (o->runs ? o->runs : 1);
    /* where Slurm's cgroup does not cap the job (the pre-flight saw no
     * limit), memwall's own cgroup in the job does */
    return mw_slurm_submit(o, a.argv, o->cmd ? NULL : engine_env, nruns, cap, !S->site.enforces_memory, label,
                           &slot->job, err);
}

/* The ended job's point, recorded as a local one is. */
static mw_status slurm_record(sweep_state *S, slurm_slot *slot, mw_err *err)
{
    MW_RETURN_IF(S->r->n_points == MAX_POINTS, err, MW_ERR_INVALID, "more than %d points", MAX_POINTS);
    mw_sweep_point *p = &S->r->points[S->r->n_points];
    int signo = 0;
    MW_FORWARD(run_point(S->o, slot->k.batch, slot->k.ctx, slot->k.budget, slot->cap, p, &signo, &slot->job, err));
    if (p->status == MW_POINT_INTERRUPTED) signo = cancel_requested(S->o);
    const mw_sweep_point *out;
    return record_point(S, p, slot->k.batch, slot->k.ctx, slot->k.budget, signo, &out, err);
}

/* Sleeps s seconds, in steps that notice the caller's stop request. */
static void slurm_sleep(const mw_sweep_opts *o, double s)
{
    double end = mw_slurm_now() + s;
    while (!cancel_requested(o)) {
        double left = end - mw_slurm_now();
        if (left <= 0) return;
        if (left > 0.05) left = 0.05;
        struct timespec ts = {0, (long)(left * 1e9)};
        nanosleep(&ts, NULL);
    }
}

/* The points at keys (those not measured yet), each one sbatch job, up to
 * S->parallel at once; each is recorded as its job ends. A stop request
 * cancels the jobs running (scancel): their points are interrupted. */
static mw_status slurm_points(sweep_state *S, const point_key *keys, size_t n, mw_err *err)
{
    const mw_sweep_opts *o = S->o;
    slurm_slot slots[MAX_PARALLEL];
    size_t active = 0, next = 0;
    uint32_t par = S->parallel < 1 ? 1 : S->parallel > MAX_PARALLEL ? MAX_PARALLEL : S->parallel;
    uint32_t nruns = o->warmup + (o->runs ? o->runs : 1);
    /* the runs' time limit (from when the job is seen running), and 5 s for
     * memwall's start and the polls */
    double run_timeout = o->timeout_seconds > 0 ? o->timeout_seconds * nruns + 5 : 0;
    double poll = o->poll_seconds > 0 ? o->poll_seconds : 1;
    mw_status st = MW_OK;
    for (;;) {
        while (st == MW_OK && active < par && next < n && !cancel_requested(o)) {
            const point_key *k = &keys[next++];
            int dup = find(S, k->batch, k->ctx, k->budget) != NULL;
            for (size_t i = 0; i < active && !dup; i++)
                dup = slots[i].k.batch == k->batch && slots[i].k.ctx == k->ctx && slots[i].k.budget == k->budget;
            if (dup) continue;
            if (S->r->n_points + active >= MAX_POINTS) {
                st = mw_err_set(err, MW_ERR_INVALID, "more than %d points", MAX_POINTS);
                break;
            }
            st = slurm_submit_point(S, k, &slots[active], err);
            if (st == MW_OK) active++;
        }
        if (!active) break;
        if (st == MW_OK && !cancel_requested(o)) slurm_sleep(o, poll);
        int stop = st != MW_OK || cancel_requested(o);
        for (size_t i = 0; i < active;) {
            int ended = mw_slurm_poll(o, &S->site, run_timeout, &slots[i].job);
            if (!ended && stop) {
                mw_slurm_cancel(&slots[i].job, MW_SLURM_CANCELLED_BY_US);
                ended = 1;
            }
            if (!ended) {
                i++;
                continue;
            }
            mw_err e;
            mw_status rs = slurm_record(S, &slots[i], &e);
            slots[i] = slots[--active];
            if (rs != MW_OK && st == MW_OK) {
                st = rs;
                if (err) *err = e;
                if (rs != SWEEP_STOPPED) stop = 1;
            }
            if (rs != MW_OK) stop = 1;
        }
        if (stop && !active) break;
    }
    if (st == MW_OK && cancel_requested(o)) {
        mw_err_set(err, MW_ERR_INVALID, "interrupted by %s", mw_signal_name(cancel_requested(o)));
        return stop_sweep(S, cancel_requested(o));
    }
    return st;
}

/* --resume: one point from the file. Each must be of this sweep: the same
 * context (a batch sweep) or batch (a context sweep); mixing two would fit
 * one line through both. An interrupted point was not measured: it is left
 * out, so it runs again. */
static mw_status resume_point(const mw_sweep_point *p, unsigned line, void *user, mw_err *err)
{
    sweep_state *S = user;
    const mw_sweep_opts *o = S->o;
    if (o->axis == MW_SWEEP_BUDGET && (p->batch != o->batch || p->ctx != o->ctx || p->budget_bytes == 0))
        return mw_err_set(err, MW_ERR_INVALID, "%s:%u: a point at batch %u, ctx %u%s, not of this budget sweep "
                          "(batch %u, ctx %u): give the same --batch and --ctx, or another --jsonl", o->jsonl_path,
                          line, p->batch, p->ctx, p->budget_bytes ? "" : " without a budget", o->batch, o->ctx);
    if (o->axis != MW_SWEEP_BUDGET && p->budget_bytes != 0)
        return mw_err_set(err, MW_ERR_INVALID, "%s:%u: a budget sweep's point, not of this %s sweep: give "
                          "--budgets, or another --jsonl", o->jsonl_path, line, mw_sweep_axis_name(o->axis));
    if (o->axis == MW_SWEEP_BUDGET) {
        /* of this sweep: take it */
    } else if (o->axis == MW_SWEEP_CTX ? p->batch != o->batch || p->ctx == 0 : p->ctx != o->ctx)
        return mw_err_set(err, MW_ERR_INVALID, "%s:%u: a point at batch %u, ctx %u, not of this sweep (%s %u): "
                          "give the same --%s, or another --jsonl", o->jsonl_path, line, p->batch, p->ctx,
                          o->axis == MW_SWEEP_CTX ? "batch" : "ctx",
                          o->axis == MW_SWEEP_CTX ? o->batch : o->ctx,
                          o->axis == MW_SWEEP_CTX ? "batch" : "ctx");
    if (p->status == MW_POINT_INTERRUPTED) return MW_OK;
    if (S->r->n_points == MAX_POINTS) return MW_OK;
    S->r->points[S->r->n_points++] = *p;
    S->r->n_resumed++;
    return MW_OK;
}

/* The process that holds the flock on fd's file, from /proc/locks
 * ("1: FLOCK  ADVISORY  WRITE PID MAJ:MIN:INODE 0 EOF"); 0 when unknown. */
static pid_t lock_holder(int fd)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0) return 0;
    FILE *f = fopen("/proc/locks", "re");
    if (!f) return 0;
    char line[256];
    pid_t who = 0;
    while (!who && fgets(line, sizeof line, f)) {
        char kind[16];
        int pid;
        unsigned maj, min;
        unsigned long long ino;
        const char *p = strchr(line, ':');
        if (!p || sscanf(p + 1, " %15s %*s %*s %d %x:%x:%llu", kind, &pid, &maj, &min, &ino) != 5) continue;
        if (!strcmp(kind, "FLOCK") && maj == major(sb.st_dev) && min == minor(sb.st_dev) &&
            ino == (unsigned long long)sb.st_ino && pid > 0 && pid != (int)getpid())
            who = pid;
    }
    fclose(f);
    return who;
}

/* Opens the JSON Lines file and takes it for the whole sweep: a regular
 * file only (a named pipe would block the open or the read for ever), and
 * an exclusive lock (two sweeps appending to one file would interleave
 * their points). Without --resume it is emptied, after the lock: a second
 * sweep must not truncate the first one's file. Close-on-exec: the points'
 * commands must not inherit it. */
static mw_status take_jsonl(sweep_state *S, mw_err *err)
{
    const char *path = S->o->jsonl_path;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer */
    S->jsonl_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0644);
    if (S->jsonl_fd < 0) return mw_err_errno(err, MW_ERR_IO, errno, "cannot open %s", path);
    struct stat sb;
    if (fstat(S->jsonl_fd, &sb) != 0) return mw_err_errno(err, MW_ERR_IO, errno, "cannot read %s", path);
    MW_RETURN_IF(!S_ISREG(sb.st_mode), err, MW_ERR_INVALID,
                 "%s is not a regular file (%s): --jsonl needs a file the sweep can read back and append to",
                 path, S_ISFIFO(sb.st_mode) ? "a named pipe" : S_ISDIR(sb.st_mode) ? "a directory"
                       : S_ISSOCK(sb.st_mode) ? "a socket" : "a device");
    if (flock(S->jsonl_fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        if (e != EWOULDBLOCK) return mw_err_errno(err, MW_ERR_IO, e, "cannot lock %s", path);
        char who[64] = "another process";
        pid_t holder = lock_holder(S->jsonl_fd);
        if (holder > 0) {
            char comm_path[64], comm[32] = "";
            size_t n = 0;
            snprintf(comm_path, sizeof comm_path, "/proc/%d/comm", (int)holder);
            FILE *f = fopen(comm_path, "re");
            if (f) {
                n = fread(comm, 1, sizeof comm - 1, f);
                fclose(f);
            }
            while (n > 0 && (comm[n - 1] == '\n' || comm[n - 1] == '\0')) n--;
            comm[n] = '\0';
            for (size_t i = 0; i < n; i++)
                if ((unsigned char)comm[i] < 0x20 || comm[i] == 0x7f) comm[i] = '?';
            snprintf(who, sizeof who, "process %d%s%s%s", (int)holder, n ? " (" : "", comm, n ? ")" : "");
        }
        return mw_err_set(err, MW_ERR_INVALID,
                          "%s is in use by another sweep (%s holds its lock): two sweeps cannot write one "
                          "JSON Lines file; wait for that one to end, or give another --jsonl", path, who);
    }
    /* from now on: blocking writes, each at the end */
    if (fcntl(S->jsonl_fd, F_SETFL, O_APPEND) != 0)
        return mw_err_errno(err, MW_ERR_IO, errno, "cannot open %s for appending", path);
    if (!S->o->resume && ftruncate(S->jsonl_fd, 0) != 0)
        return mw_err_errno(err, MW_ERR_IO, errno, "cannot empty %s", path);
    return MW_OK;
}

/* --resume: the points a stopped sweep left in its (locked) JSON Lines
 * file, and what the file needs before more are appended (*scan). */
static mw_status load_jsonl(sweep_state *S, mw_jsonl_scan *scan, mw_err *err)
{
    const char *path = S->o->jsonl_path;
    memset(scan, 0, sizeof *scan);
    struct stat sb;
    char *text = NULL;
    size_t got = 0;
    mw_status st = MW_OK;
    if (fstat(S->jsonl_fd, &sb) != 0) st = mw_err_errno(err, MW_ERR_IO, errno, "cannot read %s", path);
    else if (sb.st_size > (64l << 20))
        st = mw_err_set(err, MW_ERR_INVALID, "%s: %lld bytes, too large for a sweep's JSON Lines file (give "
                        "another --jsonl, or drop --resume)", path, (long long)sb.st_size);
    else if (!(text = mw_malloc((size_t)sb.st_size + 1, MW_MEM_OTHER)))
        st = mw_err_set(err, MW_ERR_NOMEM, "out of memory reading %s", path);
    while (st == MW_OK && got < (size_t)sb.st_size) {
        ssize_t n = pread(S->jsonl_fd, text + got, (size_t)sb.st_size - got, (off_t)got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) st = mw_err_errno(err, MW_ERR_IO, errno, "cannot read %s", path);
        if (n <= 0) break;
        got += (size_t)n;
    }
    if (st == MW_OK) st = mw_sweep_jsonl_scan(text, got, path, resume_point, S, scan, err);
    mw_free(text);
    return st;
}

/* Before appending, repairs what --resume's scan found: a cut last line
 * goes, a missing '\n' is added. */
static mw_status repair_jsonl(sweep_state *S, const mw_jsonl_scan *scan, mw_err *err)
{
    const char *path = S->o->jsonl_path;
    if (scan->cut_bytes) {
        if (ftruncate(S->jsonl_fd, (off_t)scan->keep_bytes) != 0)
            return mw_err_errno(err, MW_ERR_IO, errno, "cannot remove the cut last line (%u) of %s", scan->cut_line,
                                path);
        snprintf(S->r->resume_note, sizeof S->r->resume_note,
                 "%s:%u: removed a cut last line (%zu bytes, not a whole point: the sweep that wrote it was "
                 "killed, or its disk was full); that point runs again", path, scan->cut_line, scan->cut_bytes);
    } else if (scan->add_newline) {
        ssize_t n;
        do n = write(S->jsonl_fd, "\n", 1); while (n < 0 && errno == EINTR);
        if (n != 1)
            return mw_err_errno(err, MW_ERR_IO, n < 0 ? errno : EIO, "cannot end the last line of %s", path);
        snprintf(S->r->resume_note, sizeof S->r->resume_note,
                 "%s: the last point had no line end: added one", path);
    }
    return MW_OK;
}

static double best_throughput(const sweep_state *S)
{
    double best = -1;
    for (size_t i = 0; i < S->r->n_points; i++)
        if (S->r->points[i].status == MW_POINT_OK && S->r->points[i].throughput > best)
            best = S->r->points[i].throughput;
    return best;
}

/* ---- issue #16: the automatic search in waves of --parallel Slurm jobs ---
 * The sequential search decides on the same points: a wave only measures
 * ahead the points it could ask for next, so the largest fitting x is the
 * same (on a workload whose fit does not depend on the order of its runs). */

static point_key key_at(const sweep_state *S, uint32_t x)
{
    point_key k = {0, 0, 0};
    point_at(S->o, x, &k.batch, &k.ctx);
    return k;
}

/* The largest throughput of the ok points below x (the sequential search
 * has measured only those when it reaches x). */
static double best_throughput_below(const sweep_state *S, uint32_t x)
{
    double best = -1;
    for (size_t i = 0; i < S->r->n_points; i++) {
        const mw_sweep_point *q = &S->r->points[i];
        if (q->status == MW_POINT_OK && mw_sweep_point_x(q, S->o->axis) < x && q->throughput > best)
            best = q->throughput;
    }
    return best;
}

/* x and the doublings after it, as auto_points would take them if each fit:
 * up to S->parallel points. */
static mw_status slurm_doubling_wave(sweep_state *S, uint32_t x, uint32_t step, uint32_t max, uint32_t pred,
                                     mw_err *err)
{
    point_key keys[MAX_PARALLEL];
    size_t n = 0;
    uint32_t par = S->parallel > MAX_PARALLEL ? MAX_PARALLEL : S->parallel;
    for (uint32_t c = x; n < par;) {
        keys[n++] = key_at(S, c);
        if (c >= max) break;
        uint32_t next = c > max / 2 ? max : 2 * c;
        if (pred > c && pred < next) next = pred;
        else if (pred == c && pred < max) next = max - pred > step ? pred + step : max;
        c = next;
    }
    return slurm_points(S, keys, n, err);
}

/* Does the measured point at x fit (ok, no paging)? -1: not measured. */
static int fits_at(const sweep_state *S, uint32_t x)
{
    point_key k = key_at(S, x);
    const mw_sweep_point *p = find(S, k.batch, k.ctx, 0);
    if (!p) return -1;
    return p->status == MW_POINT_OK && !mw_sweep_point_paging(p, &S->o->thresholds);
}

/* Up to S->parallel points spread between *ok and *fail (the step below
 * *fail first when the plan predicted *fail), then the bounds narrowed to
 * the largest fit below the smallest failure measured between them. */
static mw_status slurm_bisect_wave(sweep_state *S, uint32_t *ok, uint32_t *fail, uint32_t step, int near_pred,
                                   mw_err *err)
{
    point_key keys[MAX_PARALLEL];
    size_t n = 0;
    uint32_t par = S->parallel > MAX_PARALLEL ? MAX_PARALLEL : S->parallel;
    uint32_t lo = *ok, hi = *fail, span = (hi - lo) / step; /* steps between them, > 1 */
    if (near_pred) keys[n++] = key_at(S, hi - step);
    for (uint32_t j = 1; n < par && j <= par; j++) {
        uint32_t x = lo + (uint32_t)((uint64_t)span * j / (par + 1)) * step;
        if (x <= lo) x = lo + step;
        if (x >= hi) break;
        int dup = 0;
        for (size_t i = 0; i < n; i++) dup |= keys[i].batch == key_at(S, x).batch && keys[i].ctx == key_at(S, x).ctx;
        if (!dup) keys[n++] = key_at(S, x);
    }
    MW_FORWARD(slurm_points(S, keys, n, err));
    /* the smallest failure between them, then the largest fit below it */
    for (uint32_t x = lo + step; x < hi; x += step)
        if (fits_at(S, x) == 0) {
            hi = x;
            break;
        }
    for (uint32_t x = lo + step; x < hi; x += step)
        if (fits_at(S, x) == 1) lo = x;
    MW_RETURN_IF(lo == *ok && hi == *fail, err, MW_ERR_INTERNAL, "the search between %u and %u made no progress",
                 lo, hi);
    *ok = lo;
    *fail = hi;
    return MW_OK;
}

/* Doubling from first (jumping to the plan's prediction when it comes up),
 * then bisection in steps of `step` between the last fit and the first
 * failure: the largest x that fits is found exactly with few runs. A batch
 * sweep stops early when throughput collapses beside a sign of memory
 * pressure (along the context it is expected to fall; without pressure a
 * slower point is noise or arithmetic, and the memory wall is still ahead).
 * first and pred are multiples of step. */
static mw_status auto_points(sweep_state *S, uint32_t first, uint32_t step, uint32_t max, uint32_t pred,
                             mw_err *err)
{
    const int batch_axis = S->o->axis == MW_SWEEP_BATCH;
    uint32_t ok = 0, fail = 0, x = first;
    for (;;) {
        double best = best_throughput(S);
        if (S->slurm && S->parallel > 1) { /* issue #16: the next doublings at once */
            MW_FORWARD(slurm_doubling_wave(S, x, step, max, pred, err));
            best = best_throughput_below(S, x);
        }
        const mw_sweep_point *p;
        MW_FORWARD(add_point(S, x, &p, err));
        /* a point that paged (weights evicted and read back, swap) ran,
         * but did not fit */
        if (p->status != MW_POINT_OK || mw_sweep_point_paging(p, &S->o->thresholds)) {
            fail = x;
            break;
        }
        ok = x;
        if (batch_axis && best > 0 && p->throughput >= 0 && p->throughput < 0.5 * best &&
            mw_sweep_point_pressure(p, &S->o->thresholds))
            return MW_OK; /* collapsed to half, paging: more would only page harder */
        if (x >= max) return MW_OK;
        uint32_t next = x > max / 2 ? max : 2 * x;
        if (pred > x && pred < next) next = pred;                 /* land on the prediction */
        else if (pred == x && pred < max) next = max - pred > step ? pred + step : max; /* and just past it */
        x = next;
    }
    /* The plan is close (within a few per cent for the engine): when its
     * prediction just fails, the step below it is the likeliest answer. */
    int near_pred = pred != 0 && fail == pred && pred - ok > step;
    while (fail - ok > step) {
        if (S->slurm && S->parallel > 1) { /* issue #16: a wave between the two */
            MW_FORWARD(slurm_bisect_wave(S, &ok, &fail, step, near_pred, err));
            near_pred = 0;
            continue;
        }
        uint32_t half = (fail - ok) / 2 / step * step;
        uint32_t mid = near_pred ? fail - step : ok + (half > step ? half : step);
        near_pred = 0;
        const mw_sweep_point *p;
        MW_FORWARD(add_point(S, mid, &p, err));
        if (p->status == MW_POINT_OK && !mw_sweep_point_paging(p, &S->o->thresholds)) ok = mid;
        else fail = mid;
    }
    return MW_OK;
}

/* The plan's largest context at the sweep's batch under mem, with the
 * sweep's prompt and generation (as the points run); 0 when none fits. */
static uint32_t plan_max_ctx(const sweep_state *S, uint64_t mem, uint32_t max)
{
    const mw_sweep_opts *o = S->o;
    uint32_t lo = o->prompt + o->gen - 1, hi = max; /* lo: below any context that runs */
    mw_plan plan;
    if (!plan_for(S, o->batch, lo + 1, MW_UNKNOWN, &plan) || plan.total_bytes > mem) return 0;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo + 1) / 2;
        if (plan_for(S, o->batch, mid, MW_UNKNOWN, &plan) && plan.total_bytes <= mem) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

/* What each point runs, for the report. */
static void describe_workload(const mw_sweep_opts *o, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
#define ADD(...) do { int k_ = snprintf(buf + len, cap - len, __VA_ARGS__); \
                      if (k_ > 0) len = len + (size_t)k_ < cap ? len + (size_t)k_ : cap - 1; } while (0)
    if (o->cmd) {
        for (const char *const *a = o->cmd; *a && len + 2 < cap; a++) ADD("%s%s", len ? " " : "", *a);
        return;
    }
    ADD("memwall run %s", o->model);
    if (o->axis == MW_SWEEP_CTX || o->axis == MW_SWEEP_BUDGET) ADD(" --batch %u", o->batch);
    ADD(" --prompt %u --gen %u", o->prompt, o->gen);
    if ((o->axis == MW_SWEEP_BATCH || o->axis == MW_SWEEP_BUDGET) && o->ctx) ADD(" --ctx %u", o->ctx);
    if (o->axis == MW_SWEEP_BUDGET) {
        ADD(" --mem-budget {budget}");
        if (o->prefetch_layers) ADD(" --prefetch %u", o->prefetch_layers);
    }
#undef ADD
}

/* The options a sweep cannot run with, as an error. */
static mw_status check_opts(const mw_sweep_opts *o, mw_err *err)
{
    MW_RETURN_IF(!o->cmd && (!o->model || !*o->model), err, MW_ERR_INVALID, "no model and no command to sweep");
    MW_RETURN_IF(o->axis != MW_SWEEP_BATCH && o->axis != MW_SWEEP_CTX && o->axis != MW_SWEEP_BUDGET, err,
                 MW_ERR_INVALID, "unknown sweep axis %d", (int)o->axis);
    if (o->axis == MW_SWEEP_BUDGET) { /* issue #15 */
        MW_RETURN_IF(o->cmd, err, MW_ERR_INVALID, "a budget sweep runs memwall's engine (run --mem-budget): give "
                     "a model, not a command");
        MW_RETURN_IF(!o->n_budgets || !o->budgets, err, MW_ERR_INVALID, "a budget sweep needs a list of budgets");
        MW_RETURN_IF(o->n_budgets > MAX_POINTS, err, MW_ERR_INVALID, "%zu budgets: at most %d", o->n_budgets,
                     MAX_POINTS);
        MW_RETURN_IF(o->batch == 0, err, MW_ERR_INVALID, "a budget sweep needs a batch of at least 1");
        MW_RETURN_IF(!strcmp(o->model, MW_DEMO_MODEL), err, MW_ERR_INVALID,
                     "a budget sweep streams weights from a GGUF file: give one (the built-in demo has none)");
        for (size_t i = 0; i < o->n_budgets; i++)
            MW_RETURN_IF(!(o->budgets[i].percent > 0) && o->budgets[i].bytes == 0, err, MW_ERR_INVALID,
                         "budget %zu of the list is 0", i + 1);
    }
    MW_RETURN_IF(o->max_batch == 0, err, MW_ERR_INVALID, "the largest batch must be at least 1");
    MW_RETURN_IF(o->axis == MW_SWEEP_CTX && o->batch == 0, err, MW_ERR_INVALID,
                 "a context sweep needs a batch of at least 1");
    for (size_t i = 0; o->axis == MW_SWEEP_BATCH && i < o->n_batches; i++)
        MW_RETURN_IF(o->batches[i] == 0, err, MW_ERR_INVALID, "batch %zu of the list is 0", i + 1);
    for (size_t i = 0; o->axis == MW_SWEEP_CTX && i < o->n_contexts; i++) {
        MW_RETURN_IF(o->contexts[i] == 0, err, MW_ERR_INVALID, "context %zu of the list is 0", i + 1);
        MW_RETURN_IF(!o->cmd && o->contexts[i] < (uint64_t)o->prompt + o->gen, err, MW_ERR_INVALID,
                     "context %u cannot hold the prompt and the generation (%u + %u tokens): give longer "
                     "contexts, or a shorter --prompt or --gen", o->contexts[i], o->prompt, o->gen);
    }
    if (o->metric_regex) {
        regex_t re;
        int rc = regcomp(&re, o->metric_regex, REG_EXTENDED | REG_NEWLINE);
        MW_RETURN_IF(rc != 0, err, MW_ERR_INVALID, "--metric \"%s\" is not a valid extended regular expression",
                     o->metric_regex);
        size_t groups = re.re_nsub;
        regfree(&re);
        MW_RETURN_IF(groups < 1, err, MW_ERR_INVALID,
                     "--metric \"%s\" needs a group around the number, e.g. \"([0-9.]+) it/s\"", o->metric_regex);
    }
    MW_RETURN_IF(o->resume && !o->jsonl_path, err, MW_ERR_INVALID,
                 "--resume continues the sweep in a --jsonl file: give one");
    MW_RETURN_IF(!o->cmd && (!o->memwall_path || !*o->memwall_path), err, MW_ERR_INVALID,
                 "engine points run `memwall run`: set mw_sweep_opts.memwall_path to the memwall executable "
                 "(the memwall CLI passes its own)");
    MW_RETURN_IF(o->runs > MAX_RUNS, err, MW_ERR_INVALID, "%u runs per point: at most %d", o->runs, MAX_RUNS);
    MW_RETURN_IF(o->warmup > MAX_RUNS, err, MW_ERR_INVALID, "%u warm-up runs per point: at most %d", o->warmup,
                 MAX_RUNS);
    MW_RETURN_IF(o->n_what_if > MAX_WHAT_IF, err, MW_ERR_INVALID, "%zu --what-if sizes: at most %d", o->n_what_if,
                 MAX_WHAT_IF);
    MW_RETURN_IF(o->n_what_if && !o->what_if, err, MW_ERR_INVALID, "%zu --what-if sizes but no list",
                 o->n_what_if);
    /* issue #16: Slurm (the pre-flight checks the cluster itself) */
    MW_RETURN_IF(o->launcher != MW_LAUNCH_LOCAL && o->launcher != MW_LAUNCH_SLURM, err, MW_ERR_INVALID,
                 "unknown launcher %d", (int)o->launcher);
    MW_RETURN_IF(o->parallel > 1 && o->launcher != MW_LAUNCH_SLURM, err, MW_ERR_INVALID,
                 "--parallel %u runs points as Slurm jobs at once: add --launcher slurm (local points run one at "
                 "a time, each with the machine to itself)", o->parallel);
    MW_RETURN_IF(o->parallel > MAX_PARALLEL, err, MW_ERR_INVALID, "--parallel %u: at most %d jobs at once",
                 o->parallel, MAX_PARALLEL);
    MW_RETURN_IF(o->launcher == MW_LAUNCH_SLURM && (!o->spool_dir || !*o->spool_dir), err, MW_ERR_INVALID,
                 "--launcher slurm needs --spool DIR: a directory on a filesystem the nodes share, where the jobs' "
                 "scripts and reports go");
    MW_RETURN_IF(o->launcher == MW_LAUNCH_SLURM && (!o->memwall_path || !*o->memwall_path), err, MW_ERR_INVALID,
                 "--launcher slurm: set mw_sweep_opts.memwall_path to the memwall the nodes run (the CLI passes "
                 "its own)");
    const char *files[64];
    MW_RETURN_IF(o->n_evict_files > 63, err, MW_ERR_INVALID, "%zu files to evict: at most 63", o->n_evict_files);
    size_t nf = evict_list(o, files, 64);
    for (size_t i = 0; i < nf; i++) {
        uint64_t resident;
        mw_err e;
        MW_RETURN_IF(mw_pagecache_resident(files[i], &resident, NULL, &e) != MW_OK, err, MW_ERR_INVALID,
                     "%s (a file to drop from the page cache before each run)", e.msg);
    }
    return MW_OK;
}

/* A budget sweep's points (issue #15): each budget of the list, a
 * percentage taken of the plan's weight bytes (rounded up). */
static mw_status run_budgets(sweep_state *S, mw_err *err)
{
    const mw_sweep_opts *o = S->o;
    mw_plan plan;
    int planned = plan_for(S, o->batch, o->ctx, MW_UNKNOWN, &plan);
    if (planned) S->r->weights_bytes = plan.bytes[MW_COMP_WEIGHTS];
    point_key keys[MAX_POINTS];
    size_t nkeys = 0;
    for (size_t i = 0; i < o->n_budgets; i++) {
        const mw_sweep_budget *b = &o->budgets[i];
        uint64_t bytes = b->bytes;
        if (b->percent > 0) {
            MW_RETURN_IF(!planned || !S->r->weights_bytes, err, MW_ERR_INVALID,
                         "budget %g%%: the weights of %s could not be counted (no plan): give the budgets as "
                         "sizes (e.g. 200M,1G)", b->percent, o->model);
            bytes = (uint64_t)ceil((double)S->r->weights_bytes * b->percent / 100.0);
            if (!bytes) bytes = 1;
        }
        if (S->slurm) { /* issue #16: all of them as jobs, up to --parallel at once */
            MW_RETURN_IF(nkeys == MAX_POINTS, err, MW_ERR_INVALID, "more than %d points", MAX_POINTS);
            keys[nkeys++] = (point_key){o->batch, o->ctx, bytes};
            continue;
        }
        const mw_sweep_point *p;
        MW_FORWARD(add_point_at(S, o->batch, o->ctx, bytes, &p, err));
    }
    return nkeys ? slurm_points(S, keys, nkeys, err) : MW_OK;
}

mw_status mw_sweep_budgets_parse(const char *text, mw_sweep_budget *out, size_t cap, size_t *n, mw_err *err)
{
    *n = 0;
    MW_RETURN_IF(!text || !*text, err, MW_ERR_INVALID,
                 "--budgets needs a list such as 25%%,50%%,100%% (shares of the weights) or 200M,1G (sizes)");
    for (const char *s = text;;) {
        size_t len = strcspn(s, ",");
        char item[64], shown[80];
        mw_shown(s, len, shown, sizeof shown);
        MW_RETURN_IF(len == 0 || len >= sizeof item, err, MW_ERR_INVALID,
                     "--budgets: %s element %zu of '%s': give shares of the weights such as 25%%,50%% or sizes "
                     "such as 200M,1G", len ? "a too long" : "an empty", *n + 1, text);
        MW_RETURN_IF(*n == cap, err, MW_ERR_INVALID, "--budgets: more than %zu budgets", cap);
        memcpy(item, s, len);
        item[len] = '\0';
        mw_sweep_budget b = {0, 0};
        if (item[len - 1] == '%') {
            char *end;
            errno = 0;
            double v = strtod(item, &end);
            MW_RETURN_IF(end == item || end != item + len - 1 || errno || !(v > 0) || v > 1000, err,
                         MW_ERR_INVALID, "--budgets: '%s' is no share of the weights: give a percentage above 0%% "
                         "and up to 1000%% (above 100%% nothing is streamed), such as 50%%", shown);
            b.percent = v;
        } else {
            mw_err e;
            MW_RETURN_IF(mw_size_parse(item, &b.bytes, &e) != MW_OK, err, MW_ERR_INVALID,
                         "--budgets: '%s': %s; give sizes such as 200M,1G or shares such as 25%%,50%%", shown, e.msg);
            MW_RETURN_IF(b.bytes < 4096, err, MW_ERR_INVALID,
                         "--budgets: '%s' is below 4 KiB (a bare number is bytes): give a unit, such as 200M, "
                         "or a share such as 50%%", shown);
        }
        out[(*n)++] = b;
        if (!s[len]) break;
        s += len + 1;
    }
    return MW_OK;
}

/* The points of a list, in its order: one after the other, or as Slurm
 * jobs up to --parallel at once (issue #16). */
static mw_status list_points(sweep_state *S, const uint32_t *list, size_t n, mw_err *err)
{
    if (S->slurm) {
        point_key *keys = mw_calloc(n ? n : 1, sizeof *keys, MW_MEM_OTHER);
        MW_RETURN_IF(!keys, err, MW_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) keys[i] = key_at(S, list[i]);
        mw_status st = slurm_points(S, keys, n, err);
        mw_free(keys);
        return st;
    }
    for (size_t i = 0; i < n; i++) {
        const mw_sweep_point *p;
        MW_FORWARD(add_point(S, list[i], &p, err));
    }
    return MW_OK;
}

/* The points: the list given, or the search. */
static mw_status run_points(sweep_state *S, mw_err *err)
{
    const mw_sweep_opts *o = S->o;
    mw_sweep_result *r = S->r;
    if (o->axis == MW_SWEEP_BUDGET) return run_budgets(S, err); /* issue #15 */
    const int ctx_axis = o->axis == MW_SWEEP_CTX;
    const uint32_t *list = ctx_axis ? o->contexts : o->batches;
    size_t n = ctx_axis ? o->n_contexts : o->n_batches;
    const int capped = o->mem_limit_bytes != MW_UNLIMITED;
    mw_plan plan;
    if (!ctx_axis) {
        if (capped && plan_for(S, 1, o->ctx, o->mem_limit_bytes, &plan))
            r->predicted_max = plan.max_batch;
        if (n) return list_points(S, list, n, err);
        return auto_points(S, 1, 1, o->max_batch, r->predicted_max, err);
    }
    /* along the context: up to the model's trained context by default */
    uint32_t max = o->max_ctx;
    if (!max) max = S->plan_model && S->plan_model->hp.n_ctx_train ? S->plan_model->hp.n_ctx_train : CTX_MAX_DEFAULT;
    if (capped && S->plan_model) r->predicted_max = plan_max_ctx(S, o->mem_limit_bytes, 1u << 24);
    if (n) return list_points(S, list, n, err);
    uint64_t need = o->cmd ? 1 : (uint64_t)o->prompt + o->gen;   /* the engine's shortest context */
    uint64_t first = (need + CTX_STEP - 1) / CTX_STEP * CTX_STEP;
    MW_RETURN_IF(first > max, err, MW_ERR_INVALID,
                 "the longest context to try (%u%s) is below the first one (%llu, for %u prompt + %u generated "
                 "tokens in steps of %d): give a larger --max-ctx", max, o->max_ctx ? "" : ", the model's",
                 (unsigned long long)first, o->prompt, o->gen, CTX_STEP);
    return auto_points(S, (uint32_t)first, CTX_STEP, max, r->predicted_max / CTX_STEP * CTX_STEP, err);
}

mw_status mw_sweep_run(const mw_sweep_opts *opts, mw_sweep_result **out, mw_err *err)
{
    *out = NULL;
    /* a built-in model's name ("tiny") as its file: the points run it, the
     * page cache drops it and the plan reads it by that path */
    mw_sweep_opts resolved = *opts;
    char builtin[4096];
    if (!opts->cmd && opts->model)
        MW_FORWARD(mw_model_path_resolve(opts->model, builtin, sizeof builtin, &resolved.model, err));
    const mw_sweep_opts *o = &resolved;
    MW_FORWARD(check_opts(o, err));
    /* The engine's own memory before it loads anything: this process's now
     * (the same program), so the plan predicts what the points measure, not
     * a generic runtime's overhead. */
    sweep_state S = {o, NULL, -1, NULL, MW_UNKNOWN, 0, 0, 1, {0, 0, 0, "", 0}};
    if (o->launcher == MW_LAUNCH_SLURM) { /* issue #16: before any point runs */
        S.slurm = 1;
        S.parallel = o->parallel > 1 ? o->parallel : 1;
        MW_FORWARD(mw_slurm_preflight(o, &S.site, err));
    }
    uint64_t self_rss = o->cmd ? 0 : mw_proc_self_rss_bytes();
    if (self_rss) S.overhead_bytes = self_rss;
    mw_sweep_result *r = mw_calloc(1, sizeof *r, MW_MEM_OTHER);
    MW_RETURN_IF(!r, err, MW_ERR_NOMEM, "out of memory");
    S.r = r;
    if (S.slurm) { /* issue #16 */
        char oh[32];
        mw_size_format(S.site.overhead_bytes, oh, sizeof oh);
        if (S.site.enforces_memory)
            snprintf(r->launcher_note, sizeof r->launcher_note, "each point a Slurm job capped by Slurm's cgroup: "
                     "--mem = the cap + %llu MiB for memwall watch in the job (its %s measured by the pre-flight "
                     "job, in whole MiB; the points' cgroup figures include it)",
                     (unsigned long long)(S.site.overhead_bytes >> 20), oh);
        else
            snprintf(r->launcher_note, sizeof r->launcher_note, "each point a Slurm job; Slurm's --mem set no "
                     "cgroup limit on the node (no task/cgroup memory constraint), so memwall's own cgroup in the "
                     "job caps it (watch --mem-limit)");
    }
    r->points = mw_calloc(MAX_POINTS, sizeof *r->points, MW_MEM_OTHER);
    mw_status st = r->points ? MW_OK : mw_err_set(err, MW_ERR_NOMEM, "out of memory");
    /* a budget sweep's points each have their own cap (point.mem_limit_bytes) */
    r->mem_limit_bytes = o->axis == MW_SWEEP_BUDGET ? MW_UNLIMITED : o->mem_limit_bytes;
    r->analysis.axis = o->axis;
    /* the ceilings judged against, kept with the result for its reports
     * (calloc left them all unknown) */
    if (o->ceilings) r->ceilings = *o->ceilings;
    describe_workload(o, r->workload, sizeof r->workload);
    const char *files[64];
    /* issue #16: a Slurm job's node drops nothing (eviction is local only) */
    r->n_evicted_files = S.slurm ? 0 : (uint32_t)evict_list(o, files, 64);
    mw_jsonl_scan scan;
    memset(&scan, 0, sizeof scan);
    if (st == MW_OK && o->jsonl_path) st = take_jsonl(&S, err);
    if (st == MW_OK && o->jsonl_path && o->resume) st = load_jsonl(&S, &scan, err);
    if (st == MW_OK && o->jsonl_path) st = repair_jsonl(&S, &scan, err);
    if (st == MW_OK) {
        S.plan_model = plan_model(o);
        st = run_points(&S, err);
        /* stopped on purpose: what was measured is the result */
        if (S.stopped) st = MW_OK;
    }
    if (S.jsonl_fd >= 0) close(S.jsonl_fd);
    mw_model_free(S.plan_model);
    if (st == MW_OK) {
        r->verdicts = mw_calloc(r->n_points ? r->n_points : 1, sizeof *r->verdicts, MW_MEM_OTHER);
        if (!r->verdicts) st = mw_err_set(err, MW_ERR_NOMEM, "out of memory");
        else mw_sweep_analyze_ceilings(r->points, r->n_points, o->axis, &o->thresholds,
                                       o->ceilings ? &r->ceilings : NULL, r->verdicts, &r->analysis);
        for (size_t i = 0; st == MW_OK && i < o->n_what_if; i++) { /* check_opts: at most MAX_WHAT_IF */
            r->what_if_bytes[i] = o->what_if[i];
            /* a GPU workload's wall is its GPU's memory */
            const mw_sweep_fit *fit = r->analysis.fit_gpu.valid ? &r->analysis.fit_gpu : &r->analysis.fit;
            r->what_if_max[i] = mw_sweep_fit_max(fit, o->what_if[i]);
            r->n_what_if = i + 1;
        }
    }
    if (st != MW_OK) {
        mw_sweep_result_free(r);
        return st;
    }
    *out = r;
    return MW_OK;
}
