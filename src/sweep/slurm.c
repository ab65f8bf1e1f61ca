/*
 * slurm.c - a sweep's point as one Slurm job (issue #16; slurm.h says
 * what a job's directory holds; docs/CLUSTER.md "Sweeps on Slurm").
 *
 * Slurm is driven through its own clients (sbatch, scontrol, sacct,
 * scancel, sinfo), run without a shell with a time limit each, their
 * output captured: the commands' outputs are what Slurm documents for
 * scripts (`sbatch --parsable`, `scontrol show job -o`, `sacct -P`).
 */
#include "sweep/slurm.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/json.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* the longest a client may take before it is killed (a controller that
 * does not answer: sbatch retries for a while) */
#define TOOL_TIMEOUT_SECONDS 30.0

double mw_slurm_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs argv (PATH searched), its standard output and error into out (cut
 * to fit, NUL-terminated). @return its exit status, 127 when it could not
 * run, 124 when it was killed after timeout seconds. */
static int run_tool(const char *const *argv, char *out, size_t cap, double timeout)
{
    out[0] = '\0';
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        snprintf(out, cap, "cannot create a pipe: %s", strerror(errno));
        return 127;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(out, cap, "cannot fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return 127;
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execvp(argv[0], (char *const *)argv);
        dprintf(2, "cannot run %s: %s", argv[0], strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    size_t len = 0;
    double deadline = mw_slurm_now() + timeout;
    int killed = 0;
    for (;;) {
        double left = deadline - mw_slurm_now();
        if (left <= 0 && !killed) {
            kill(pid, SIGKILL);
            killed = 1;
        }
        struct pollfd pf = {fds[0], POLLIN, 0};
        int n = poll(&pf, 1, killed ? 1000 : (int)(left * 1000) + 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (killed) break;
            continue;
        }
        char buf[4096];
        ssize_t got = read(fds[0], buf, sizeof buf);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        size_t take = (size_t)got < cap - 1 - len ? (size_t)got : cap - 1 - len;
        memcpy(out + len, buf, take);
        len += take;
    }
    out[len] = '\0';
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (killed) return 124;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* The text's first line, trailing blanks cut, control characters shown. */
static void first_line(const char *text, char *out, size_t cap)
{
    size_t n = strcspn(text, "\n");
    while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\r')) n--;
    mw_shown(text, n, out, cap);
}

/* Is name an executable file in a directory of PATH? */
static int on_path(const char *name)
{
    const char *path = getenv("PATH");
    if (!path) return 0;
    for (const char *p = path;;) {
        size_t len = strcspn(p, ":");
        char full[PATH_MAX];
        if (len && snprintf(full, sizeof full, "%.*s/%s", (int)len, p, name) < (int)sizeof full &&
            access(full, X_OK) == 0)
            return 1;
        if (!p[len]) return 0;
        p += len + 1;
    }
}

void mw_slurm_job_file(const mw_slurm_job *job, const char *name, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s", job->dir, name);
}

/* Appends s to the script, single-quoted for sh ('\'' for each quote). */
static void put_quoted(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'') fputs("'\\''", f);
        else fputc(*s, f);
    }
    fputc('\'', f);
}

/* The job's directory: SPOOL/memwall-<label>-<pid>-<n>. */
static mw_status make_job_dir(const mw_sweep_opts *o, const char *label, mw_slurm_job *job, mw_err *err)
{
    static unsigned counter;
    for (int tries = 0; tries < 1000; tries++) {
        int k = snprintf(job->dir, sizeof job->dir, "%s/memwall-%s-%d-%u", o->spool_dir, label, (int)getpid(),
                         counter++);
        MW_RETURN_IF(k < 0 || k >= (int)sizeof job->dir, err, MW_ERR_INVALID, "--spool %s: the path is too long",
                     o->spool_dir);
        if (mkdir(job->dir, 0755) == 0) return MW_OK;
        if (errno != EEXIST)
            return mw_err_errno(err, MW_ERR_IO, errno, "cannot make the job directory %s in --spool (give a "
                                "directory this user can write to, shared with the nodes)", job->dir);
    }
    return mw_err_set(err, MW_ERR_IO, "cannot make a job directory in %s", o->spool_dir);
}

/* Writes job.sh: the runs, one `memwall watch` each. */
static mw_status write_script(const mw_sweep_opts *o, const char *const *argv, const char *const *env,
                              uint32_t nruns, uint64_t cap_bytes, int watch_cap, const mw_slurm_job *job,
                              mw_err *err)
{
    char path[PATH_MAX];
    mw_slurm_job_file(job, "job.sh", path, sizeof path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    if (fd < 0) return mw_err_errno(err, MW_ERR_IO, errno, "cannot write the job script %s", path);
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return mw_err_errno(err, MW_ERR_IO, errno, "cannot write the job script %s", path);
    }
    fputs("#!/bin/sh\n# written by memwall sweep --launcher slurm: each run of the point under\n"
          "# `memwall watch --json`, in the job's cgroup (Slurm's --mem is the cap)\n", f);
    for (const char *const *e = env; e && *e; e++) {
        fputs("export ", f);
        put_quoted(f, *e);
        fputc('\n', f);
    }
    for (uint32_t i = 1; i <= nruns; i++) {
        char file[PATH_MAX];
        put_quoted(f, o->memwall_path);
        fputs(" watch --json -q --interval 0.1 -o ", f);
        snprintf(file, sizeof file, "%s/watch-%u.json", job->dir, i);
        put_quoted(f, file);
        if (watch_cap && cap_bytes != MW_UNLIMITED && cap_bytes != MW_UNKNOWN) {
            fprintf(f, " --mem-limit %llu --swap-limit %llu", (unsigned long long)cap_bytes,
                    (unsigned long long)(o->swap_limit_bytes == MW_UNLIMITED ? 0 : o->swap_limit_bytes));
        }
        fputs(" --", f);
        for (const char *const *a = argv; *a; a++) {
            fputc(' ', f);
            put_quoted(f, *a);
        }
        snprintf(file, sizeof file, "%s/out-%u", job->dir, i);
        fputs(" >", f);
        put_quoted(f, file);
        snprintf(file, sizeof file, "%s/err-%u", job->dir, i);
        fputs(" 2>", f);
        put_quoted(f, file);
        fputs(" || exit $?\n", f);
    }
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) return mw_err_errno(err, MW_ERR_IO, errno, "cannot write the job script %s", path);
    return MW_OK;
}

mw_status mw_slurm_submit(const mw_sweep_opts *o, const char *const *argv, const char *const *env, uint32_t nruns,
                          uint64_t cap_bytes, int watch_cap, const char *label, mw_slurm_job *job, mw_err *err)
{
    memset(job, 0, sizeof *job);
    job->nruns = nruns;
    job->started_at = -1;
    job->exit_code = -1;
    job->max_rss_bytes = MW_UNKNOWN;
    MW_FORWARD(make_job_dir(o, label, job, err));
    MW_FORWARD(write_script(o, argv, env, nruns, cap_bytes, watch_cap, job, err));
    char name[96], mem[40], outp[PATH_MAX], errp[PATH_MAX], script[PATH_MAX];
    snprintf(name, sizeof name, "memwall-%s", label);
    mw_slurm_job_file(job, "slurm.out", outp, sizeof outp);
    mw_slurm_job_file(job, "slurm.err", errp, sizeof errp);
    mw_slurm_job_file(job, "job.sh", script, sizeof script);
    const char *args[96];
    size_t n = 0;
    args[n++] = "sbatch";
    args[n++] = "--parsable";
    args[n++] = "--no-requeue";   /* a node that dies fails the point, rather than rerunning it */
    args[n++] = "--job-name";
    args[n++] = name;
    if (cap_bytes != MW_UNLIMITED && cap_bytes != MW_UNKNOWN) {
        /* --mem is in MiB: rounded up, so the cap is never below the point's */
        snprintf(mem, sizeof mem, "--mem=%llu", (unsigned long long)((cap_bytes + (1u << 20) - 1) >> 20));
        args[n++] = mem;
    }
    if (o->slurm_partition) {
        args[n++] = "--partition";
        args[n++] = o->slurm_partition;
    }
    for (const char *const *a = o->sbatch_args; a && *a; a++) {
        MW_RETURN_IF(n + 8 >= sizeof args / sizeof args[0], err, MW_ERR_INVALID, "too many --sbatch-arg");
        args[n++] = *a;
    }
    args[n++] = "--output";
    args[n++] = outp;
    args[n++] = "--error";
    args[n++] = errp;
    args[n++] = script;
    args[n] = NULL;
    char out[2048], shown[512];
    int rc = run_tool(args, out, sizeof out, TOOL_TIMEOUT_SECONDS);
    char *end = NULL;
    unsigned long long id = rc == 0 ? strtoull(out, &end, 10) : 0;
    if (rc != 0 || id == 0 || end == out) {
        first_line(out, shown, sizeof shown);
        return mw_err_set(err, MW_ERR_IO, "sbatch failed (exit %d) for %s: %s; check --partition and "
                          "--sbatch-arg, and that slurmctld answers (sinfo)", rc, job->dir, shown);
    }
    job->id = id;
    job->submitted_at = mw_slurm_now();
    return MW_OK;
}

/* "KEY=value" of `scontrol show job -o` (space-separated) into out. */
static int scontrol_field(const char *text, const char *key, char *out, size_t cap)
{
    size_t klen = strlen(key);
    for (const char *p = text; (p = strstr(p, key)) != NULL; p++) {
        if ((p == text || p[-1] == ' ' || p[-1] == '\n') && p[klen] == '=') {
            const char *v = p + klen + 1;
            size_t n = strcspn(v, " \n");
            mw_shown(v, n, out, cap);
            return 1;
        }
    }
    out[0] = '\0';
    return 0;
}

int mw_slurm_parse_scontrol(const char *text, mw_slurm_job *job)
{
    char v[64];
    if (!scontrol_field(text, "JobState", job->state, sizeof job->state)) return 0;
    scontrol_field(text, "Reason", job->reason, sizeof job->reason);
    if (!strcmp(job->reason, "None")) job->reason[0] = '\0';
    if (scontrol_field(text, "NodeList", v, sizeof v) && strcmp(v, "(null)") != 0)
        snprintf(job->host, sizeof job->host, "%s", v);
    if (scontrol_field(text, "ExitCode", v, sizeof v)) {
        int a = -1, b = 0;
        if (sscanf(v, "%d:%d", &a, &b) >= 1) {
            job->exit_code = a;
            job->exit_signal = b;
        }
    }
    return 1;
}

uint64_t mw_slurm_parse_size(const char *text)
{
    if (!text) return MW_UNKNOWN;
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || errno || v < 0) return MW_UNKNOWN;
    double mul = 1;
    switch (*end) {
    case 'K': mul = 1024.0; break;
    case 'M': mul = 1024.0 * 1024; break;
    case 'G': mul = 1024.0 * 1024 * 1024; break;
    case 'T': mul = 1024.0 * 1024 * 1024 * 1024; break;
    case '\0': case '\n': case '|': break;
    default: return MW_UNKNOWN;
    }
    return (uint64_t)llround(v * mul);
}

static int state_is_final(const char *s)
{
    static const char *const final[] = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL",
                                        "OUT_OF_MEMORY", "PREEMPTED", "BOOT_FAIL", "DEADLINE"};
    for (size_t i = 0; i < sizeof final / sizeof final[0]; i++)
        if (!strcmp(s, final[i])) return 1;
    return 0;
}

int mw_slurm_parse_sacct(const char *text, mw_slurm_job *job)
{
    size_t n = strlen(text);
    char *copy = mw_malloc(n + 1, MW_MEM_OTHER);
    if (!copy) return 0;
    memcpy(copy, text, n + 1);
    int final = 0, step_rss = 0;
    for (char *line = copy; line && *line;) {
        char *eol = strchr(line, '\n');
        if (eol) *eol = '\0';
        char *f[5] = {0};
        char *s = line;
        for (int k = 0; k < 5 && s; k++) {
            f[k] = s;
            s = strchr(s, '|');
            if (s) *s++ = '\0';
        }
        if (f[4]) {
            if (!strchr(f[0], '.')) { /* the job's own line; steps are "ID.batch", "ID.0" */
                char st[24];
                snprintf(st, sizeof st, "%.*s", (int)strcspn(f[1], " "), f[1]); /* "CANCELLED by 0" */
                /* slurmdbd may not have the job's end yet (RUNNING, or
                 * PENDING for a job it never saw start): scontrol's final
                 * state stands */
                if (*st && state_is_final(st)) {
                    snprintf(job->state, sizeof job->state, "%s", st);
                    final = 1;
                }
                if (*f[3] && strcmp(f[3], "None assigned")) mw_shown(f[3], strlen(f[3]), job->host, sizeof job->host);
            }
            uint64_t rss = mw_slurm_parse_size(f[2]);
            if (*f[2] && rss != MW_UNKNOWN) {
                step_rss = 1;
                if (job->max_rss_bytes == MW_UNKNOWN || rss > job->max_rss_bytes) job->max_rss_bytes = rss;
            }
        }
        line = eol ? eol + 1 : NULL;
    }
    mw_free(copy);
    return final && step_rss;
}

double mw_slurm_parse_gather_frequency(const char *text)
{
    const char *p = strstr(text, "JobAcctGatherFrequency");
    if (!p) return -1;
    p += strlen("JobAcctGatherFrequency");
    while (*p == ' ' || *p == '=') p++;
    size_t len = strcspn(p, "\n");
    /* "task=N" among comma-separated types, or a bare number (the task's) */
    for (const char *q = p; q < p + len;) {
        size_t item = strcspn(q, ",\n");
        if (item > len - (size_t)(q - p)) item = len - (size_t)(q - p);
        const char *num = NULL;
        if (item > 5 && !strncmp(q, "task=", 5)) num = q + 5;
        else if (item > 0 && *q >= '0' && *q <= '9') num = q;
        if (num) {
            char *end;
            double v = strtod(num, &end);
            if (end > num && v >= 0) return v;
        }
        q += item;
        if (*q == ',') q++;
        else break;
    }
    return 30; /* Slurm's default task sampling interval (slurm.conf(5)) */
}

int mw_slurm_cross_check(const mw_slurm_job *job, int memwall_oom, uint64_t peak_rss, double wall_seconds,
                         char *note, size_t cap)
{
    note[0] = '\0';
    const char *s = job->state;
    if (!strcmp(s, "OUT_OF_MEMORY") && !memwall_oom) {
        snprintf(note, cap, "Slurm says OUT_OF_MEMORY, memwall saw no OOM kill");
        return 1;
    }
    if (memwall_oom && (!strcmp(s, "COMPLETED") || !strcmp(s, "FAILED"))) {
        snprintf(note, cap, "memwall saw an OOM kill, Slurm says %s", s);
        return 1;
    }
    uint64_t rss = job->max_rss_bytes;
    if (rss == MW_UNKNOWN || peak_rss == MW_UNKNOWN) return 0;
    uint64_t slack = (uint64_t)((double)peak_rss * MW_SLURM_RSS_SLACK_FRACTION);
    if (slack < MW_SLURM_RSS_SLACK_BYTES) slack = MW_SLURM_RSS_SLACK_BYTES;
    double mib = 1024.0 * 1024.0;
    if (rss > peak_rss && rss - peak_rss > slack) {
        snprintf(note, cap, "Slurm's MaxRSS %.1f MiB exceeds memwall's peak RSS %.1f MiB by more than %.0f MiB",
                 (double)rss / mib, (double)peak_rss / mib, (double)slack / mib);
        return 1;
    }
    if (rss < peak_rss && peak_rss - rss > slack && job->gather_seconds > 0 &&
        wall_seconds >= 2 * job->gather_seconds) {
        snprintf(note, cap, "Slurm's MaxRSS %.1f MiB is below memwall's peak RSS %.1f MiB by more than %.0f MiB "
                 "in a %.1f s run (sampled every %g s)", (double)rss / mib, (double)peak_rss / mib,
                 (double)slack / mib, wall_seconds, job->gather_seconds);
        return 1;
    }
    return 0;
}

/* sacct's figures for an ended job (mw_slurm_parse_sacct): asked again
 * for up to 5 s until slurmdbd has the job's end and its steps' MaxRSS. */
static void read_sacct(mw_slurm_job *job)
{
    char id[32], out[8192];
    snprintf(id, sizeof id, "%llu", (unsigned long long)job->id);
    const char *args[] = {"sacct", "-n", "-P", "-j", id, "-o", "JobID,State,MaxRSS,NodeList,ExitCode", NULL};
    for (int tries = 0; tries < 10; tries++) {
        if (tries) {
            struct timespec ts = {0, 500000000L};
            nanosleep(&ts, NULL);
        }
        if (run_tool(args, out, sizeof out, TOOL_TIMEOUT_SECONDS) != 0) return;
        if (mw_slurm_parse_sacct(out, job)) return;
    }
}

void mw_slurm_cancel(mw_slurm_job *job, mw_slurm_end why)
{
    char id[32], out[1024];
    snprintf(id, sizeof id, "%llu", (unsigned long long)job->id);
    const char *args[] = {"scancel", id, NULL};
    run_tool(args, out, sizeof out, TOOL_TIMEOUT_SECONDS);
    job->end = why;
    if (!job->state[0] || !state_is_final(job->state)) snprintf(job->state, sizeof job->state, "CANCELLED");
}

int mw_slurm_poll(const mw_sweep_opts *o, const mw_slurm_site *site, double run_timeout, mw_slurm_job *job)
{
    if (job->end != MW_SLURM_RUNNING) return 1;
    char id[32], out[8192];
    snprintf(id, sizeof id, "%llu", (unsigned long long)job->id);
    const char *args[] = {"scontrol", "show", "job", "-o", id, NULL};
    int rc = run_tool(args, out, sizeof out, TOOL_TIMEOUT_SECONDS);
    double now = mw_slurm_now();
    if (rc == 0 && mw_slurm_parse_scontrol(out, job)) {
        if (state_is_final(job->state)) {
            job->end = MW_SLURM_ENDED;
            job->gather_seconds = site->gather_seconds;
            if (site->has_sacct) read_sacct(job);
            return 1;
        }
        if (!strcmp(job->state, "PENDING")) {
            double qt = o->queue_timeout_seconds > 0 ? o->queue_timeout_seconds : 600;
            if (now - job->submitted_at > qt) {
                mw_slurm_cancel(job, MW_SLURM_QUEUE_TIMEOUT);
                return 1;
            }
        } else if (job->started_at < 0) {
            job->started_at = now;
        }
        if (run_timeout > 0 && job->started_at >= 0 && now - job->started_at > run_timeout) {
            mw_slurm_cancel(job, MW_SLURM_RUN_TIMEOUT);
            return 1;
        }
        return 0;
    }
    if (strstr(out, "Invalid job id")) { /* purged (MinJobAge): sacct, if any, remembers */
        if (site->has_sacct) {
            job->gather_seconds = site->gather_seconds;
            read_sacct(job);
            if (state_is_final(job->state)) {
                job->end = MW_SLURM_ENDED;
                return 1;
            }
        }
        job->end = MW_SLURM_LOST;
        snprintf(job->state, sizeof job->state, "UNKNOWN");
        return 1;
    }
    /* the controller did not answer this time (restarting, busy): ask again
     * at the next poll, within the same timeouts */
    double qt = o->queue_timeout_seconds > 0 ? o->queue_timeout_seconds : 600;
    if (job->started_at < 0 && now - job->submitted_at > qt) {
        mw_slurm_cancel(job, MW_SLURM_QUEUE_TIMEOUT);
        return 1;
    }
    return 0;
}

/* ---- reading a run's memwall.watch/1 ------------------------------------- */

static uint64_t json_u64(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) && v->valuedouble >= 0 ? (uint64_t)v->valuedouble : MW_UNKNOWN;
}

static double json_seconds(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

mw_status mw_slurm_read_watch(const mw_slurm_job *job, uint32_t i, mw_watch_result *res, uint64_t *proc_peak,
                              mw_err *err)
{
    char path[PATH_MAX], name[32];
    snprintf(name, sizeof name, "watch-%u.json", i);
    mw_slurm_job_file(job, name, path, sizeof path);
    char *text = NULL;
    size_t text_len;
    MW_FORWARD(mw_file_read_all(path, 16u << 20, "memwall watch's JSON report", &text, &text_len, err));
    mw_json_init();
    cJSON *j = cJSON_Parse(text);
    mw_free(text);
    const cJSON *schema = j ? cJSON_GetObjectItemCaseSensitive(j, "schema") : NULL;
    const cJSON *sc = j ? cJSON_GetObjectItemCaseSensitive(j, "status_code") : NULL;
    if (!cJSON_IsString(schema) || strcmp(schema->valuestring, "memwall.watch/1") != 0 || !cJSON_IsNumber(sc)) {
        cJSON_Delete(j);
        return mw_err_set(err, MW_ERR_INVALID, "%s is no memwall.watch/1 report (cut short: the job was killed "
                          "while memwall wrote it?)", path);
    }
    memset(res, 0, sizeof *res);
    res->status_code = sc->valueint;
    const cJSON *oom = cJSON_GetObjectItemCaseSensitive(j, "oom_killed");
    res->oom_killed = cJSON_IsTrue(oom);
    res->wall_seconds = json_seconds(j, "wall_seconds");
    res->peak_rss_bytes = json_u64(j, "peak_rss_bytes");
    res->peak_rss_anon_bytes = json_u64(j, "peak_rss_anon_bytes");
    res->peak_rss_file_bytes = json_u64(j, "peak_rss_file_bytes");
    res->peak_swap_bytes = json_u64(j, "peak_swap_bytes");
    res->peak_gpu_bytes = json_u64(j, "peak_gpu_bytes");
    res->major_faults = json_u64(j, "major_faults");
    const cJSON *mp = cJSON_GetObjectItemCaseSensitive(j, "max_processes");
    res->max_processes = cJSON_IsNumber(mp) ? (uint32_t)mp->valuedouble : 0;
    res->cgroup_limit_bytes = res->cgroup_swap_limit_bytes = res->cgroup_peak_bytes = MW_UNKNOWN;
    res->cgroup_swap_peak_bytes = res->cgroup_refaults_anon = res->cgroup_refaults_file = MW_UNKNOWN;
    res->cgroup_oom_kills = res->cgroup_limit_hits = MW_UNKNOWN;
    const cJSON *cg = cJSON_GetObjectItemCaseSensitive(j, "cgroup");
    if (cJSON_IsObject(cg)) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(cg, "version");
        res->cgroup_version = cJSON_IsNumber(v) ? (mw_cgroup_version)v->valueint : MW_CGROUP_NONE;
        res->cgroup_limit_bytes = json_u64(cg, "limit_bytes");
        res->cgroup_swap_limit_bytes = json_u64(cg, "swap_limit_bytes");
        res->cgroup_peak_bytes = json_u64(cg, "peak_bytes");
        res->cgroup_swap_peak_bytes = json_u64(cg, "swap_peak_bytes");
        res->cgroup_oom_kills = json_u64(cg, "oom_kills");
        res->cgroup_limit_hits = json_u64(cg, "limit_hits");
        res->cgroup_refaults_anon = json_u64(cg, "refaults_anon");
        res->cgroup_refaults_file = json_u64(cg, "refaults_file");
        res->cgroup_inherited = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cg, "inherited"));
    }
    const cJSON *sys = cJSON_GetObjectItemCaseSensitive(j, "system");
    long page = sysconf(_SC_PAGESIZE);
    if (cJSON_IsObject(sys)) {
        uint64_t si = json_u64(sys, "swap_in_bytes");
        res->sys_swap_in_pages = si == MW_UNKNOWN ? 0 : si / (uint64_t)(page > 0 ? page : 4096);
        uint64_t ra = json_u64(sys, "refaults_anon"), rf = json_u64(sys, "refaults_file");
        res->sys_refaults_anon = ra == MW_UNKNOWN ? 0 : ra;
        res->sys_refaults_file = rf == MW_UNKNOWN ? 0 : rf;
        res->psi_some_seconds = json_seconds(sys, "psi_some_seconds");
        res->psi_full_seconds = json_seconds(sys, "psi_full_seconds");
    } else {
        res->psi_some_seconds = res->psi_full_seconds = -1;
    }
    *proc_peak = MW_UNKNOWN;
    const cJSON *procs = cJSON_GetObjectItemCaseSensitive(j, "processes");
    const cJSON *p;
    cJSON_ArrayForEach(p, procs) {
        uint64_t hwm = json_u64(p, "peak_rss_bytes");
        if (hwm != MW_UNKNOWN && (*proc_peak == MW_UNKNOWN || hwm > *proc_peak)) *proc_peak = hwm;
    }
    cJSON_Delete(j);
    return MW_OK;
}

/* ---- before any point ------------------------------------------------------ */

mw_status mw_slurm_preflight(const mw_sweep_opts *o, mw_slurm_site *site, mw_err *err)
{
    memset(site, 0, sizeof *site);
    static const char *const tools[] = {"sbatch", "scontrol", "scancel", "sinfo"};
    for (size_t i = 0; i < sizeof tools / sizeof tools[0]; i++)
        MW_RETURN_IF(!on_path(tools[i]), err, MW_ERR_NOT_FOUND,
                     "--launcher slurm: no %s on PATH: install Slurm's clients (Debian: apt-get install "
                     "slurm-client) or add their directory to PATH", tools[i]);
    char out[4096], shown[600];
    const char *sinfo[] = {"sinfo", "-h", "-o", "%P", NULL};
    int rc = run_tool(sinfo, out, sizeof out, TOOL_TIMEOUT_SECONDS);
    if (rc != 0) {
        /* Slurm's own words: its line about munge when there is one (the
         * cause), and its last line (what failed) */
        const char *m = strstr(out, "Munge ");
        const char *line = m ? m : out;
        while (m && line > out && line[-1] != '\n') line--;
        const char *last = out + strlen(out);
        while (last > out && (last[-1] == '\n' || last[-1] == ' ')) last--;
        const char *ls = last;
        while (ls > out && ls[-1] != '\n') ls--;
        char a[300] = "", b[300] = "";
        if (m && line != ls) first_line(line, a, sizeof a);
        mw_shown(ls, (size_t)(last - ls), b, sizeof b);
        snprintf(shown, sizeof shown, "%s%s%s", a, a[0] ? " / " : "", b);
        int munge = strstr(out, "unge") != NULL || strstr(out, "uthentication") != NULL;
        return mw_err_set(err, MW_ERR_IO, "--launcher slurm: sinfo failed (exit %d): %s; %s", rc, shown,
                          munge ? "munge looks down: start munged (systemctl start munge) on this machine and "
                                  "the controller, then try again"
                                : "check that slurmctld runs and that SLURM_CONF names its slurm.conf (is munged "
                                  "running? systemctl start munge)");
    }
    if (o->slurm_partition) {
        const char *sp[] = {"sinfo", "-h", "-p", o->slurm_partition, "-o", "%P", NULL};
        char parts[4096];
        rc = run_tool(sp, parts, sizeof parts, TOOL_TIMEOUT_SECONDS);
        if (rc != 0 || !parts[0]) {
            for (char *c = out; *c; c++)
                if (*c == '\n') *c = ' ';
            mw_shown(out, strlen(out), shown, sizeof shown);
            char pn[128];
            mw_shown(o->slurm_partition, strlen(o->slurm_partition), pn, sizeof pn);
            return mw_err_set(err, MW_ERR_INVALID, "--partition %s: no such partition (sinfo lists: %s): give one "
                              "of those", pn, shown);
        }
    }
    MW_RETURN_IF(!o->spool_dir || !*o->spool_dir, err, MW_ERR_INVALID,
                 "--launcher slurm needs --spool DIR: a directory on a filesystem the nodes share, where the "
                 "jobs' scripts and reports go");
    MW_RETURN_IF(!o->memwall_path || !*o->memwall_path, err, MW_ERR_INVALID,
                 "--launcher slurm: set mw_sweep_opts.memwall_path to the memwall the nodes run (the CLI passes "
                 "its own)");
    struct stat sb;
    if (stat(o->spool_dir, &sb) != 0)
        return mw_err_errno(err, MW_ERR_NOT_FOUND, errno, "--spool %s cannot be used (make it, on a filesystem "
                            "the nodes share)", o->spool_dir);
    MW_RETURN_IF(!S_ISDIR(sb.st_mode), err, MW_ERR_INVALID, "--spool %s is not a directory: give a directory "
                 "on a filesystem the nodes share", o->spool_dir);
    MW_RETURN_IF(access(o->spool_dir, W_OK | X_OK) != 0, err, MW_ERR_PERMISSION,
                 "--spool %s is not writable by this user: give a directory you can write to, shared with the "
                 "nodes (or chmod it)", o->spool_dir);
    /* one tiny job: `memwall watch -- true`, its report in the spool */
    mw_slurm_job job;
    static const char *const t[] = {"true", NULL};
    MW_FORWARD(mw_slurm_submit(o, t, NULL, 1, 64ull << 20, 0, "preflight", &job, err));
    double poll = o->poll_seconds > 0 ? o->poll_seconds : 1;
    while (!mw_slurm_poll(o, site, 0, &job)) {
        if (o->cancel && *o->cancel) {
            mw_slurm_cancel(&job, MW_SLURM_CANCELLED_BY_US);
            return mw_err_set(err, MW_ERR_INVALID, "interrupted during the pre-flight job %llu",
                              (unsigned long long)job.id);
        }
        struct timespec ts = {(time_t)poll, (long)((poll - floor(poll)) * 1e9)};
        nanosleep(&ts, NULL);
    }
    double qt = o->queue_timeout_seconds > 0 ? o->queue_timeout_seconds : 600;
    MW_RETURN_IF(job.end == MW_SLURM_QUEUE_TIMEOUT, err, MW_ERR_IO,
                 "--launcher slurm: the pre-flight job %llu did not start within --queue-timeout %.0f s (%s%s%s): "
                 "check the partition's nodes (sinfo), or give a longer --queue-timeout", (unsigned long long)job.id,
                 qt, job.state, job.reason[0] ? ", " : "", job.reason);
    mw_watch_result res;
    uint64_t peak;
    mw_err we;
    if (mw_slurm_read_watch(&job, 1, &res, &peak, &we) != MW_OK) {
        char ep[PATH_MAX], etext[512] = "";
        mw_slurm_job_file(&job, "slurm.err", ep, sizeof ep);
        char *e = NULL;
        size_t elen;
        if (mw_file_read_all(ep, 1u << 20, "Slurm's output", &e, &elen, NULL) == MW_OK) {
            first_line(e, etext, sizeof etext);
            mw_free(e);
        }
        return mw_err_set(err, MW_ERR_IO, "--launcher slurm: the pre-flight job %llu ended %s on %s, but its report "
                          "did not appear in --spool %s (%s%s%s): the spool must be on a filesystem the nodes share "
                          "at the same path, writable there, and %s must run on the nodes",
                          (unsigned long long)job.id, job.state, job.host[0] ? job.host : "no node", o->spool_dir,
                          we.msg, etext[0] ? "; Slurm says: " : "", etext, o->memwall_path);
    }
    site->enforces_memory = res.cgroup_inherited && res.cgroup_limit_bytes != MW_UNKNOWN &&
                            res.cgroup_limit_bytes <= (64ull << 20);
    /* memwall watch and the script's shell sit in the job's cgroup with the
     * command: the job asks that much more than the point's cap */
    if (site->enforces_memory && res.cgroup_peak_bytes != MW_UNKNOWN) {
        uint64_t cmd = res.peak_rss_bytes != MW_UNKNOWN ? res.peak_rss_bytes : 0;
        site->overhead_bytes = res.cgroup_peak_bytes > cmd ? res.cgroup_peak_bytes - cmd : 0;
    }
    snprintf(site->node, sizeof site->node, "%s", job.host);
    char id[32];
    snprintf(id, sizeof id, "%llu", (unsigned long long)job.id);
    const char *sa[] = {"sacct", "-n", "-X", "-j", id, "-o", "State", NULL};
    site->has_sacct = on_path("sacct") && run_tool(sa, out, sizeof out, TOOL_TIMEOUT_SECONDS) == 0;
    /* issue #16: how often Slurm samples a task's RSS (the cross-check) */
    site->gather_seconds = -1;
    if (site->has_sacct) {
        const char *sc[] = {"scontrol", "show", "config", NULL};
        char *conf = mw_malloc(65536, MW_MEM_OTHER);
        if (conf && run_tool(sc, conf, 65536, TOOL_TIMEOUT_SECONDS) == 0)
            site->gather_seconds = mw_slurm_parse_gather_frequency(conf);
        mw_free(conf);
    }
    return MW_OK;
}
