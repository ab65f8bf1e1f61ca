/*
 * watch.c - sample a process tree until its root exits (mw_watch_run).
 *
 * One thread, one loop:
 *
 *   spawn (or attach) ─► sample ─► ppoll(signalfd, until next tick) ─┐
 *                          ▲                                          │
 *                          └──── SIGCHLD? root exited? ◄──────────────┘
 *                                   │ yes
 *                                   ▼
 *          final sample of the zombie ─► wait4 (rusage) ─► cgroup stats
 *
 * A sample walks the tree from the root through /proc/PID/task/TID/children,
 * reading each live process's status and stat through descriptors kept open
 * (pread: one syscall a file). Processes are never forgotten: the result
 * lists every one seen, with its own peak.
 *
 * Peaks. VmHWM is the kernel's high-water mark of a process, so a process's
 * peak is exact up to the last sample before it exits. The tree's peak is the
 * largest of: the most RSS seen at once (sum over a sample), any single
 * VmHWM, and the root's ru_maxrss from wait4 when that exceeds memwall's own
 * high-water mark at fork (ru_maxrss starts at the parent's RSS; a figure at
 * or below ours may be ours, so it is ignored). With a cgroup the kernel's
 * own peak is exact for the whole tree and reported beside it.
 */
#include "memwall.h"
#include "cgroup.h"
#include "guard.h"
#include "nvml.h"
#include "proc.h"
#include "spawn.h"
#include "vmstat.h"
#include "common/error.h"
#include "common/fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIN_INTERVAL 0.001
#define MAX_INTERVAL 3600.0
/* NVML is queried at most this often, whatever the interval: a process list
 * costs ~1 ms on a real driver, and the driver refreshes it less often. */
#define GPU_MIN_INTERVAL 0.010
#define MAX_GPU_DEVICES 16
#define MAX_GPU_PROCS 1024
/* kill_on_signal: how long the tree has to end on the forwarded signal
 * (a Python workload unwinds its KeyboardInterrupt) before SIGKILL */
#define SIGNAL_KILL_GRACE 2.0

typedef struct tracked {
    mw_proc_summary sum;
    mw_proc_files files;
    uint64_t start_ticks;
    uint32_t threads;
    int alive;
    uint64_t utime_ticks, stime_ticks;
    uint64_t gpu_now;               /* this sample's GPU bytes, all devices */
    int escaped;                    /* seen outside the cap's cgroup */
    /* --- issue #16: ranks (sum.rank / sum.local_rank) and procs[] --- */
    long rank_idx;                  /* into watch.ranks; -1: no rank */
    uint64_t rss_now;               /* this sample's VmRSS; 0 when gone or unknown */
    uint64_t swap_now;              /* this sample's VmSwap (MW_UNKNOWN) */
    double env_recheck_at;          /* rank-less: read environ again then */
    int oom_killed;                 /* died as the cgroup counted an OOM kill */
} tracked;

/* issue #16: a rank while it runs: its summary and this sample's sums */
typedef struct rank_track {
    mw_rank_summary sum;
    uint64_t rss_now, gpu_now;
} rank_track;

typedef struct watch {
    const mw_watch_opts *opts;
    tracked *procs;
    size_t nprocs, cap;
    /* issue #16 (Prometheus): the sample's live arrays, reused */
    mw_proc_sample *live;
    size_t live_cap;
    mw_gpu_device_sample gpu_live[MAX_GPU_DEVICES];
    pid_t root;
    struct timespec t0;
    double last_t;

    mw_cgroup cg;
    int have_cg;
    int cg_current_fd;
    int check_escapes;              /* 0: no cgroup, or a fake tree */
    double escape_check_at;         /* the next check, in run seconds */
    char cg_procs[PATH_MAX + 16];   /* its cgroup.procs */
    char cg_rel[PATH_MAX];          /* its path as /proc/PID/cgroup says it */
    mw_guard guard;                 /* removes it if memwall is SIGKILLed */

    mw_nvml *nvml;
    uint32_t ngpu;
    mw_gpu_device_summary gpu[MAX_GPU_DEVICES];
    mw_gpu_process *gpu_procs;
    double next_gpu_t;
    uint64_t last_gpu_bytes, last_gpu_device_bytes;

    double psi_some0, psi_full0;    /* at start; <0: no PSI */
    int psi_fd;                     /* the cgroup's memory.pressure (v2) or
                                       /proc/pressure/memory; -1: none */

    mw_watch_result *res;
    pid_t *kids;                    /* scratch for children lists */
    size_t kids_cap;

    double kill_at;                 /* kill_on_signal: SIGKILL the tree at
                                       this time; < 0: no signal yet */
    int tree_killed;

    /* --- issue #16: ranks and the cap's first hit (rank_* below) --- */
    rank_track *ranks;              /* in order of discovery; sorted at the end */
    size_t nranks, ranks_cap;
    char *envbuf;                   /* scratch for /proc/PID/environ */
    int ev_fd, ev2_fd;              /* v2 memory.events; v1 memory.failcnt and
                                       memory.oom_control; -1: none; ev_state
                                       0: not opened yet */
    int ev_state;
    uint64_t ev_hits0, ev_ooms;     /* limit hits at the first reading, OOM
                                       kills at the last one */
    uint32_t oom_pending;           /* OOM kills counted, victims not yet seen */
    double oom_pending_t;
    double prev_t;                  /* the sample before this one */
    int start_unix_set;
    /* issue #16: without --mem-limit, the limited cgroup memwall runs in
     * (a Slurm job's), read only; its figures at the start */
    int have_icg;
    mw_cgroup icg;                  /* the nearest one with a limit */
    char icg_self[PATH_MAX];        /* our own (v1: OOM kills count there) */
    mw_cgroup_stats icg0, icg_self0;
} watch;

#define ESCAPE_CHECK_SECONDS 0.1
static void check_escapes(watch *w, double t);

static double elapsed(const watch *w)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - w->t0.tv_sec) + (double)(now.tv_nsec - w->t0.tv_nsec) * 1e-9;
}

static void umax(uint64_t *slot, uint64_t v)
{
    if (v == MW_UNKNOWN) return;
    if (*slot == MW_UNKNOWN || v > *slot) *slot = v;
}

static void proc_comm(pid_t pid, char *comm, size_t cap)
{
    char path[64], buf[64];
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    size_t n = 0;
    if (mw_read_text(path, buf, sizeof buf, &n, NULL) == MW_OK && n > 0) {
        if (buf[n - 1] == '\n') buf[n - 1] = '\0';
        snprintf(comm, cap, "%.*s", (int)cap - 1, buf);
    } else {
        snprintf(comm, cap, "?");
    }
}

/* ------------------------------------------------------------------------
 * issue #16: the ranks of a distributed job and when the cap was first hit
 * (docs/CLUSTER.md, "Distributed jobs, rank by rank").
 *
 * A process's rank comes from its environment (mw_rank_from_environ), read
 * when it is first seen. A child seen between fork and exec still has its
 * parent's environment (mpirun's, torchrun's: no rank), so a rank-less
 * process is read again every ENV_RECHECK_EVERY for its first
 * ENV_RECHECK_SECONDS. A rank's figures sum its live processes' RSS at each
 * sample; its peak is at least any one of its processes' VmHWM.
 * ------------------------------------------------------------------------ */
#define ENV_MAX (256 * 1024)        /* bytes of /proc/PID/environ read */
#define ENV_RECHECK_SECONDS 2.0
#define ENV_RECHECK_EVERY 0.05
#define CAP_SLACK_PAGES 2           /* usage this close to the limit is at it */
#define OOM_VICTIM_WAIT 1.0         /* an OOM kill counted, no process gone
                                       after this: not attributed           */

static void result_ranks_init(mw_watch_result *r)
{
    if (gethostname(r->host, sizeof r->host) != 0) snprintf(r->host, sizeof r->host, "?");
    r->host[sizeof r->host - 1] = '\0';
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    r->start_unix_seconds = (double)now.tv_sec + (double)now.tv_nsec * 1e-9;
    mw_rank_from_environ(NULL, 0, &r->watcher_rank, &r->watcher_local_rank);
    r->n_ranks = 0;
    r->ranks = NULL;
    r->cap_hit_seconds = -1;
}

/* The entry of rank (made when new); -1 when out of memory. */
static long rank_slot(watch *w, int32_t rank, int32_t local, double t)
{
    for (size_t i = 0; i < w->nranks; i++)
        if (w->ranks[i].sum.rank == rank) {
            if (w->ranks[i].sum.local_rank == MW_RANK_NONE) w->ranks[i].sum.local_rank = local;
            return (long)i;
        }
    if (w->nranks == w->ranks_cap) {
        size_t ncap = w->ranks_cap ? w->ranks_cap * 2 : 8;
        rank_track *nr = mw_realloc(w->ranks, ncap * sizeof *nr, MW_MEM_PROBE);
        if (!nr) return -1;
        w->ranks = nr;
        w->ranks_cap = ncap;
    }
    memset(&w->ranks[w->nranks], 0, sizeof w->ranks[w->nranks]);
    mw_rank_summary *r = &w->ranks[w->nranks].sum;
    r->rank = rank;
    r->local_rank = local;
    r->peak_gpu_bytes = w->nvml ? 0 : MW_UNKNOWN;
    r->start_seconds = t;
    r->end_seconds = -1;
    return (long)w->nranks++;
}

/* Reads p's environment for its rank (a process gone, or one we may not
 * read - EACCES - keeps MW_RANK_NONE). */
static void rank_reread(watch *w, tracked *p)
{
    if (!w->envbuf && !(w->envbuf = mw_malloc(ENV_MAX, MW_MEM_PROBE))) return;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/environ", (int)p->sum.pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    size_t n = 0;
    while (n < ENV_MAX) {
        ssize_t got = read(fd, w->envbuf + n, ENV_MAX - n);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        n += (size_t)got;
    }
    close(fd);
    if (n == ENV_MAX) /* cut: drop the last, maybe partial, entry */
        while (n > 0 && w->envbuf[n - 1] != '\0') n--;
    int32_t rank, local;
    mw_rank_from_environ(w->envbuf, n, &rank, &local);
    if (rank == MW_RANK_NONE) return;
    long idx = rank_slot(w, rank, local, p->sum.start_seconds);
    if (idx < 0) return;
    p->sum.rank = rank;
    p->sum.local_rank = local;
    p->rank_idx = idx;
    w->ranks[idx].sum.processes++;
}

/* A process first seen at t. */
static void rank_read(watch *w, tracked *p, double t)
{
    p->sum.rank = p->sum.local_rank = MW_RANK_NONE;
    p->rank_idx = -1;
    p->env_recheck_at = t + ENV_RECHECK_EVERY;
    rank_reread(w, p);
}

/* The cap's counters: v2 memory.events "max" and "oom_kill"; v1
 * memory.failcnt and memory.oom_control "oom_kill". UNKNOWN when unread. */
static void cap_counters(watch *w, uint64_t *hits, uint64_t *ooms)
{
    char buf[1024];
    *hits = *ooms = MW_UNKNOWN;
    if (w->res->cgroup_version == MW_CGROUP_V2) {
        if (w->ev_fd >= 0 && mw_pread_text(w->ev_fd, buf, sizeof buf) > 0) {
            uint64_t v;
            if (mw_text_field_u64(buf, "max", &v)) *hits = v;
            if (mw_text_field_u64(buf, "oom_kill", &v)) *ooms = v;
        }
    } else {
        if (w->ev_fd >= 0 && mw_pread_text(w->ev_fd, buf, sizeof buf) > 0) *hits = strtoull(buf, NULL, 10);
        uint64_t v;
        if (w->ev2_fd >= 0 && mw_pread_text(w->ev2_fd, buf, sizeof buf) > 0 && mw_text_field_u64(buf, "oom_kill", &v))
            *ooms = v;
    }
}

/* The first sample at which the cap was hit (usage at the limit, limit
 * hits or OOM kills risen); OOM kills wait for their victim. Works for the
 * cgroup memwall made and for one it inherited, whatever filled cgroup_*. */
static void cap_sample(watch *w, double t, const mw_sample *s)
{
    mw_watch_result *r = w->res;
    if (r->cgroup_version == MW_CGROUP_NONE) return;
    if (!w->ev_state) {
        char path[sizeof r->cgroup_path + 32];
        int v2 = r->cgroup_version == MW_CGROUP_V2;
        snprintf(path, sizeof path, "%s/%s", r->cgroup_path, v2 ? "memory.events" : "memory.failcnt");
        w->ev_fd = open(path, O_RDONLY | O_CLOEXEC);
        if (!v2) {
            snprintf(path, sizeof path, "%s/memory.oom_control", r->cgroup_path);
            w->ev2_fd = open(path, O_RDONLY | O_CLOEXEC);
        }
        /* memwall's own cgroup starts at 0; an inherited one counts from now */
        if (r->cgroup_inherited) cap_counters(w, &w->ev_hits0, &w->ev_ooms);
        else w->ev_hits0 = w->ev_ooms = 0;
        w->ev_state = 1;
    }
    uint64_t hits, ooms;
    cap_counters(w, &hits, &ooms);
    int hit = 0;
    const uint64_t lim = r->cgroup_limit_bytes, slack = CAP_SLACK_PAGES * (uint64_t)sysconf(_SC_PAGESIZE);
    if (lim != MW_UNKNOWN && lim != MW_UNLIMITED && s->cgroup_bytes != MW_UNKNOWN && s->cgroup_bytes + slack >= lim)
        hit = 1;
    if (hits != MW_UNKNOWN && w->ev_hits0 != MW_UNKNOWN && hits > w->ev_hits0) hit = 1;
    if (ooms != MW_UNKNOWN) {
        if (w->ev_ooms != MW_UNKNOWN && ooms > w->ev_ooms) {
            hit = 1;
            w->oom_pending += (uint32_t)(ooms - w->ev_ooms);
            w->oom_pending_t = t;
        }
        w->ev_ooms = ooms;
    }
    if (hit && r->cap_hit_seconds < 0) r->cap_hit_seconds = t;
    /* victims: of the processes gone since the last sample, the largest
     * (the OOM killer picks by size), one per kill counted */
    while (w->oom_pending > 0) {
        tracked *victim = NULL;
        for (size_t i = 0; i < w->nprocs; i++) {
            tracked *p = &w->procs[i];
            if (p->alive || p->oom_killed || p->sum.end_seconds < w->prev_t) continue;
            if (!victim || p->sum.peak_rss_bytes > victim->sum.peak_rss_bytes) victim = p;
        }
        if (!victim) break;
        victim->oom_killed = 1;
        w->oom_pending--;
    }
    if (w->oom_pending && t - w->oom_pending_t > OOM_VICTIM_WAIT) w->oom_pending = 0;
}

/* After each sample: ranks of young rank-less processes, each rank's sums,
 * the cap's first hit. */
static void rank_sample(watch *w, double t, const mw_sample *s)
{
    if (!w->start_unix_set) { /* the start, on the clock of the samples */
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        w->res->start_unix_seconds = (double)now.tv_sec + (double)now.tv_nsec * 1e-9 - t;
        w->start_unix_set = 1;
    }
    for (size_t i = 0; i < w->nprocs; i++) {
        tracked *p = &w->procs[i];
        if (!p->alive || p->rank_idx >= 0 || t - p->sum.start_seconds > ENV_RECHECK_SECONDS ||
            t < p->env_recheck_at)
            continue;
        p->env_recheck_at = t + ENV_RECHECK_EVERY;
        rank_reread(w, p);
    }
    for (size_t k = 0; k < w->nranks; k++) w->ranks[k].rss_now = w->ranks[k].gpu_now = 0;
    for (size_t i = 0; i < w->nprocs; i++) {
        const tracked *p = &w->procs[i];
        if (p->rank_idx < 0) continue;
        rank_track *rk = &w->ranks[p->rank_idx];
        umax(&rk->sum.peak_rss_bytes, p->sum.peak_rss_bytes);
        if (w->nvml) umax(&rk->sum.peak_gpu_bytes, p->sum.peak_gpu_bytes); /* its peak before its rank was read */
        if (!p->alive) continue;
        rk->rss_now += p->rss_now;
        rk->gpu_now += p->gpu_now;
    }
    for (size_t k = 0; k < w->nranks; k++) {
        umax(&w->ranks[k].sum.peak_rss_bytes, w->ranks[k].rss_now);
        if (w->nvml) umax(&w->ranks[k].sum.peak_gpu_bytes, w->ranks[k].gpu_now);
    }
    cap_sample(w, t, s);
    w->prev_t = t;
}

static int cmp_rank(const void *a, const void *b)
{
    const mw_rank_summary *x = a, *y = b;
    return (x->rank > y->rank) - (x->rank < y->rank);
}

/* At the end: the ranks' faults, times and OOM kills from their processes,
 * sorted into the result; the cap's first hit when only the final counts
 * (or the root's OOM kill) show it. */
static void rank_finish(watch *w, int attached)
{
    mw_watch_result *r = w->res;
    if (r->cap_hit_seconds < 0 && r->cgroup_version != MW_CGROUP_NONE) {
        int late = r->oom_killed;
        if (!r->cgroup_inherited && r->cgroup_limit_hits != MW_UNKNOWN && r->cgroup_limit_hits > 0) late = 1;
        if (late) r->cap_hit_seconds = w->last_t;
    } else if (r->cap_hit_seconds < 0 && r->oom_killed) {
        r->cap_hit_seconds = w->last_t;
    }
    /* an OOM kill with no victim seen: the root's, when it died of it */
    int any = 0;
    for (size_t i = 0; i < w->nprocs; i++) any |= w->procs[i].oom_killed;
    if (!attached && !any && r->oom_killed && r->term_signal == SIGKILL && w->nprocs) w->procs[0].oom_killed = 1;
    if (!w->nranks) return;
    for (size_t k = 0; k < w->nranks; k++) w->ranks[k].sum.major_faults = 0;
    for (size_t i = 0; i < w->nprocs; i++) {
        const tracked *p = &w->procs[i];
        if (p->rank_idx < 0) continue;
        mw_rank_summary *rk = &w->ranks[p->rank_idx].sum;
        rk->major_faults += p->sum.major_faults;
        if (p->sum.start_seconds < rk->start_seconds) rk->start_seconds = p->sum.start_seconds;
        rk->oom_killed |= p->oom_killed;
    }
    for (size_t k = 0; k < w->nranks; k++) {
        mw_rank_summary *rk = &w->ranks[k].sum;
        double end = 0;
        for (size_t i = 0; i < w->nprocs; i++) {
            const tracked *p = &w->procs[i];
            if (p->rank_idx != (long)k) continue;
            if (p->sum.end_seconds < 0) { end = -1; break; }
            if (p->sum.end_seconds > end) end = p->sum.end_seconds;
        }
        rk->end_seconds = end;
    }
    r->ranks = mw_calloc(w->nranks, sizeof *r->ranks, MW_MEM_PROBE);
    if (!r->ranks) return;
    for (size_t k = 0; k < w->nranks; k++) r->ranks[k] = w->ranks[k].sum;
    qsort(r->ranks, w->nranks, sizeof *r->ranks, cmp_rank);
    r->n_ranks = (uint32_t)w->nranks;
}
/* --- end of issue #16's ranks --- */

/* Adds pid to the table; returns its index or -1 (gone, or no memory: the
 * process is then not followed, but the run goes on). */
static long track(watch *w, pid_t pid, double t)
{
    for (size_t i = 0; i < w->nprocs; i++)
        if (w->procs[i].alive && w->procs[i].sum.pid == pid) return (long)i;
    if (w->nprocs == w->cap) {
        size_t ncap = w->cap ? w->cap * 2 : 16;
        tracked *np = mw_realloc(w->procs, ncap * sizeof *np, MW_MEM_PROBE);
        if (!np) return -1;
        w->procs = np;
        w->cap = ncap;
    }
    tracked *p = &w->procs[w->nprocs];
    memset(p, 0, sizeof *p);
    if (mw_proc_files_open(pid, w->opts->pss, &p->files, NULL) != MW_OK) return -1;
    /* A parent lists its zombie children too: one we saw exit must not come
     * back as a new process, and a zombie never seen alive has no memory
     * left to report. The start time tells a reused PID apart. */
    mw_proc_reading rd;
    if (mw_proc_read(&p->files, &rd) < 0 || !rd.ok_stat || rd.stat.state == 'Z') {
        mw_proc_files_close(&p->files);
        return -1;
    }
    for (size_t i = 0; i < w->nprocs; i++) {
        if (w->procs[i].sum.pid == pid && w->procs[i].start_ticks == rd.stat.start_ticks) {
            mw_proc_files_close(&p->files);
            return (long)i;
        }
    }
    p->start_ticks = rd.stat.start_ticks;
    p->alive = 1;
    p->sum.pid = pid;
    p->sum.ppid = -1;
    p->sum.start_seconds = t;
    p->sum.end_seconds = -1;
    p->sum.peak_pss_bytes = MW_UNKNOWN;
    p->sum.peak_gpu_bytes = MW_UNKNOWN;
    p->sum.peak_swap_bytes = 0;
    proc_comm(pid, p->sum.comm, sizeof p->sum.comm);
    rank_read(w, p, t); /* issue #16 */
    return (long)w->nprocs++;
}

static void untrack(watch *w, tracked *p, double t)
{
    (void)w;
    p->alive = 0;
    p->sum.end_seconds = t;
    mw_proc_files_close(&p->files);
}

static void gpu_sample(watch *w, double t, mw_sample *s)
{
    if (!w->nvml || w->ngpu == 0) return;
    if (t < w->next_gpu_t) {
        s->gpu_bytes = w->last_gpu_bytes;
        s->gpu_device_used_bytes = w->last_gpu_device_bytes;
        return;
    }
    w->next_gpu_t = t + GPU_MIN_INTERVAL;
    for (size_t i = 0; i < w->nprocs; i++) w->procs[i].gpu_now = 0;
    uint64_t tree = 0, device_used = 0;
    for (uint32_t d = 0; d < w->ngpu; d++) {
        mw_gpu_memory mem;
        if (mw_nvml_device_memory(w->nvml, d, &mem, NULL) == MW_OK) {
            device_used += mem.used_bytes;
            umax(&w->gpu[d].peak_used_bytes, mem.used_bytes);
            w->gpu_live[d].used_bytes = mem.used_bytes;
        }
        size_t n = 0;
        if (mw_nvml_device_processes(w->nvml, d, w->gpu_procs, MAX_GPU_PROCS, &n, NULL) != MW_OK)
            continue;
        if (n > MAX_GPU_PROCS) n = MAX_GPU_PROCS;
        uint64_t dev_tree = 0;
        for (size_t k = 0; k < n; k++) {
            if (w->gpu_procs[k].used_bytes == MW_UNKNOWN) continue;
            for (size_t i = 0; i < w->nprocs; i++) {
                tracked *p = &w->procs[i];
                if (!p->alive || (uint32_t)p->sum.pid != w->gpu_procs[k].pid) continue;
                p->gpu_now += w->gpu_procs[k].used_bytes;
                dev_tree += w->gpu_procs[k].used_bytes;
            }
        }
        umax(&w->gpu[d].peak_tree_bytes, dev_tree);
        w->gpu_live[d].tree_bytes = dev_tree;
        tree += dev_tree;
    }
    for (size_t i = 0; i < w->nprocs; i++)
        if (w->procs[i].alive) umax(&w->procs[i].sum.peak_gpu_bytes, w->procs[i].gpu_now);
    w->last_gpu_bytes = s->gpu_bytes = tree;
    w->last_gpu_device_bytes = s->gpu_device_used_bytes = device_used;
    umax(&w->res->peak_gpu_bytes, tree);
}

/* issue #16 (Prometheus): what live metrics show, filled before on_sample:
 * the cap, each GPU, each live process, the peak so far and fault counters
 * over every process seen (they never go down). The arrays are the
 * watcher's, grown when the tree does and reused between samples; when
 * they cannot grow, the processes that fit are listed. */
static void live_arrays(watch *w, mw_sample *s)
{
    mw_watch_result *r = w->res;
    s->cgroup_limit_bytes = r->cgroup_limit_bytes;
    s->peak_rss_bytes = r->peak_rss_bytes;
    s->minor_faults_total = s->major_faults_total = 0;
    size_t alive = 0;
    for (size_t i = 0; i < w->nprocs; i++) {
        s->minor_faults_total += w->procs[i].sum.minor_faults;
        s->major_faults_total += w->procs[i].sum.major_faults;
        alive += w->procs[i].alive != 0;
    }
    if (alive > w->live_cap) {
        size_t ncap = w->live_cap ? w->live_cap : 16;
        while (ncap < alive) ncap *= 2;
        mw_proc_sample *np = mw_realloc(w->live, ncap * sizeof *np, MW_MEM_PROBE);
        if (np) {
            w->live = np;
            w->live_cap = ncap;
        }
    }
    uint32_t n = 0;
    for (size_t i = 0; i < w->nprocs && n < w->live_cap; i++) {
        const tracked *p = &w->procs[i];
        if (!p->alive) continue;
        mw_proc_sample *ps = &w->live[n++];
        ps->pid = p->sum.pid;
        ps->rank = p->sum.rank; /* MW_RANK_NONE when its environment names none */
        memcpy(ps->comm, p->sum.comm, sizeof ps->comm);
        ps->rss_bytes = p->rss_now;
        ps->swap_bytes = p->swap_now;
        ps->gpu_bytes = w->nvml && w->ngpu ? p->gpu_now : MW_UNKNOWN;
        ps->major_faults = p->sum.major_faults;
    }
    s->nprocs = n;
    s->procs = n ? w->live : NULL;
    s->gpu_devices = w->nvml ? w->ngpu : 0;
    s->gpu = s->gpu_devices ? w->gpu_live : NULL;
}

/* One sample of the whole tree. */
static void sample(watch *w, mw_sample *s)
{
    double t = elapsed(w);
    memset(s, 0, sizeof *s);
    s->t_seconds = t;
    s->pss_bytes = w->opts->pss ? 0 : MW_UNKNOWN;
    s->cgroup_bytes = MW_UNKNOWN;
    s->gpu_bytes = MW_UNKNOWN;
    s->gpu_device_used_bytes = MW_UNKNOWN;
    s->psi_some_seconds = s->psi_full_seconds = -1;

    mw_watch_result *r = w->res;
    uint64_t max_hwm = 0;
    /* The table grows while we walk it: children found here are read in
     * this same pass, so a new grandchild is seen in the sample it appears. */
    for (size_t i = 0; i < w->nprocs; i++) {
        tracked *p = &w->procs[i];
        if (!p->alive) continue;
        mw_proc_reading rd;
        if (mw_proc_read(&p->files, &rd) < 0) {
            untrack(w, p, w->last_t);
            continue;
        }
        if (rd.ok_stat) {
            p->sum.ppid = rd.stat.ppid;
            p->sum.minor_faults = rd.stat.minor_faults;
            p->sum.major_faults = rd.stat.major_faults;
            p->threads = rd.stat.threads;
            p->utime_ticks = rd.stat.utime_ticks;
            p->stime_ticks = rd.stat.stime_ticks;
        }
        s->minor_faults += p->sum.minor_faults;
        s->major_faults += p->sum.major_faults;
        if (!rd.ok_status) { /* zombie: its memory is gone */
            untrack(w, p, t);
            continue;
        }
        const mw_proc_status *st = &rd.status;
        p->rss_now = st->rss_bytes == MW_UNKNOWN ? 0 : st->rss_bytes; /* issue #16: per rank, procs[] */
        p->swap_now = st->swap_bytes;
        umax(&p->sum.peak_rss_bytes, st->hwm_bytes);
        umax(&p->sum.peak_rss_bytes, st->rss_bytes);
        umax(&p->sum.peak_rss_anon_bytes, st->anon_bytes);
        umax(&p->sum.peak_rss_file_bytes, st->file_bytes);
        umax(&p->sum.peak_rss_shmem_bytes, st->shmem_bytes);
        umax(&p->sum.peak_swap_bytes, st->swap_bytes);
        umax(&p->sum.peak_pss_bytes, rd.pss_bytes);
        if (p->sum.peak_rss_bytes > max_hwm) max_hwm = p->sum.peak_rss_bytes;

        s->processes++;
        if (st->rss_bytes != MW_UNKNOWN) s->rss_bytes += st->rss_bytes;
        if (st->anon_bytes != MW_UNKNOWN) s->rss_anon_bytes += st->anon_bytes;
        if (st->file_bytes != MW_UNKNOWN) s->rss_file_bytes += st->file_bytes;
        if (st->shmem_bytes != MW_UNKNOWN) s->rss_shmem_bytes += st->shmem_bytes;
        if (st->swap_bytes != MW_UNKNOWN) s->swap_bytes += st->swap_bytes;
        if (w->opts->pss && rd.pss_bytes != MW_UNKNOWN) s->pss_bytes += rd.pss_bytes;

        size_t nk = 0;
        pid_t pid = p->sum.pid;  /* p may move when track() grows the table */
        if (mw_proc_read_children(&p->files, pid, p->threads, w->kids, w->kids_cap, &nk) == 0) {
            if (nk > w->kids_cap) nk = w->kids_cap;
            for (size_t k = 0; k < nk; k++) track(w, w->kids[k], t);
        }
    }
    w->last_t = t;
    check_escapes(w, t);

    gpu_sample(w, t, s);

    if (w->cg_current_fd >= 0) {
        char buf[32];
        if (mw_pread_text(w->cg_current_fd, buf, sizeof buf) > 0)
            s->cgroup_bytes = strtoull(buf, NULL, 10);
    }
    if (w->psi_fd >= 0) {
        double some, full;
        char buf[512];
        if (mw_pread_text(w->psi_fd, buf, sizeof buf) > 0 && mw_psi_parse(buf, &some, &full)) {
            s->psi_some_seconds = some - w->psi_some0;
            s->psi_full_seconds = full >= 0 && w->psi_full0 >= 0 ? full - w->psi_full0 : -1;
        }
    }

    /* Tree figures. */
    r->samples++;
    if (s->processes > r->max_processes) r->max_processes = s->processes;
    umax(&r->peak_rss_bytes, s->rss_bytes);
    umax(&r->peak_rss_bytes, max_hwm);
    umax(&r->peak_rss_anon_bytes, s->rss_anon_bytes);
    umax(&r->peak_rss_file_bytes, s->rss_file_bytes);
    umax(&r->peak_rss_shmem_bytes, s->rss_shmem_bytes);
    umax(&r->peak_swap_bytes, s->swap_bytes);
    if (w->opts->pss) umax(&r->peak_pss_bytes, s->pss_bytes);
    if (s->cgroup_bytes != MW_UNKNOWN) umax(&r->cgroup_peak_bytes, s->cgroup_bytes);
    rank_sample(w, t, s); /* issue #16: ranks, the cap's first hit */
    /* Faults of exited processes stay counted: totals are per process. */
    if (w->opts->on_sample) {
        live_arrays(w, s); /* issue #16: only for a caller that reads them */
        w->opts->on_sample(s, w->opts->on_sample_user);
    }
}

static double cpu_seconds_self(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

void mw_watch_opts_init(mw_watch_opts *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->interval_seconds = 0.1;
    opts->gpu = 1;
    opts->mem_limit_bytes = MW_UNLIMITED;
    opts->swap_limit_bytes = 0;
    opts->forward_signals = 1;
    opts->stdout_fd = -1;
    opts->stderr_fd = -1;
    opts->keep_fd = -1;
}

void mw_watch_result_free(mw_watch_result *res)
{
    if (!res) return;
    if (res->argv) {
        for (char **a = res->argv; *a; a++) mw_free(*a);
        mw_free(res->argv);
    }
    mw_free(res->procs);
    mw_free(res->gpu);
    mw_free(res->ranks); /* issue #16 */
    mw_free(res);
}

static mw_watch_result *result_new(const char *const *argv, pid_t attach)
{
    mw_watch_result *r = mw_calloc(1, sizeof *r, MW_MEM_PROBE);
    if (!r) return NULL;
    r->exit_code = -1;
    r->user_seconds = r->sys_seconds = -1;
    r->peak_pss_bytes = MW_UNKNOWN;
    r->peak_gpu_bytes = MW_UNKNOWN;
    r->cgroup_limit_bytes = r->cgroup_swap_limit_bytes = MW_UNKNOWN;
    r->cgroup_peak_bytes = r->cgroup_swap_peak_bytes = MW_UNKNOWN;
    r->cgroup_refaults_anon = r->cgroup_refaults_file = MW_UNKNOWN;
    r->cgroup_oom_kills = r->cgroup_limit_hits = MW_UNKNOWN;
    r->psi_some_seconds = r->psi_full_seconds = -1;
    result_ranks_init(r); /* issue #16 */
    size_t n = 0;
    char buf[32];
    const char *attach_argv[] = {buf, NULL};
    if (!argv) {
        snprintf(buf, sizeof buf, "pid:%d", (int)attach);
        argv = attach_argv;
    }
    while (argv[n]) n++;
    r->argv = mw_calloc(n + 1, sizeof *r->argv, MW_MEM_PROBE);
    if (!r->argv) goto fail;
    for (size_t i = 0; i < n; i++)
        if (!(r->argv[i] = mw_strdup(argv[i], MW_MEM_PROBE))) goto fail;
    return r;
fail:
    mw_watch_result_free(r);
    return NULL;
}

static void finish_result(watch *w)
{
    mw_watch_result *r = w->res;
    r->nprocs = 0;
    r->procs = w->nprocs ? mw_calloc(w->nprocs, sizeof *r->procs, MW_MEM_PROBE) : NULL;
    uint64_t minflt = 0, majflt = 0, uticks = 0, sticks = 0;
    for (size_t i = 0; i < w->nprocs; i++) {
        const tracked *p = &w->procs[i];
        if (r->procs) r->procs[r->nprocs++] = p->sum;
        minflt += p->sum.minor_faults;
        majflt += p->sum.major_faults;
        uticks += p->utime_ticks;
        sticks += p->stime_ticks;
    }
    r->minor_faults = minflt;
    r->major_faults = majflt;
    if (r->user_seconds < 0) { /* attached: CPU of the processes seen */
        double hz = (double)sysconf(_SC_CLK_TCK);
        r->user_seconds = (double)uticks / hz;
        r->sys_seconds = (double)sticks / hz;
    }
    if (w->ngpu) {
        r->gpu = mw_calloc(w->ngpu, sizeof *r->gpu, MW_MEM_PROBE);
        if (r->gpu) {
            memcpy(r->gpu, w->gpu, w->ngpu * sizeof *r->gpu);
            r->gpu_devices = w->ngpu;
        }
    }
}

static void open_gpu(watch *w)
{
    if (!w->opts->gpu || mw_nvml_open(&w->nvml, NULL) != MW_OK) return;
    w->gpu_procs = mw_malloc(MAX_GPU_PROCS * sizeof *w->gpu_procs, MW_MEM_PROBE);
    uint32_t n = mw_nvml_device_count(w->nvml);
    if (!w->gpu_procs || n == 0) {
        mw_nvml_close(w->nvml);
        w->nvml = NULL;
        return;
    }
    if (n > MAX_GPU_DEVICES) n = MAX_GPU_DEVICES;
    for (uint32_t d = 0; d < n; d++) {
        mw_gpu_memory mem;
        w->gpu[d].index = d;
        w->gpu[d].peak_used_bytes = MW_UNKNOWN;
        w->gpu[d].peak_tree_bytes = MW_UNKNOWN;
        w->gpu[d].total_bytes = MW_UNKNOWN;
        if (mw_nvml_device_memory(w->nvml, d, &mem, NULL) == MW_OK) {
            snprintf(w->gpu[d].name, sizeof w->gpu[d].name, "%s", mem.name);
            w->gpu[d].total_bytes = mem.total_bytes;
        }
        /* issue #16 (Prometheus): the device in each sample */
        w->gpu_live[d] = (mw_gpu_device_sample){d, w->gpu[d].total_bytes, MW_UNKNOWN, MW_UNKNOWN};
    }
    w->ngpu = n;
    w->res->peak_gpu_bytes = 0;
}

/* Memory pressure: the cgroup's own on v2 (it starts at 0), else the
 * system's, measured from now. */
static void open_psi(watch *w)
{
    char path[PATH_MAX + 32];
    w->psi_some0 = w->psi_full0 = -1;
    if (w->have_cg && w->cg.version == MW_CGROUP_V2) {
        snprintf(path, sizeof path, "%s/memory.pressure", w->cg.path);
        w->psi_fd = open(path, O_RDONLY | O_CLOEXEC);
        if (w->psi_fd >= 0) {
            w->psi_some0 = w->psi_full0 = 0;
            return;
        }
    }
    w->psi_fd = open("/proc/pressure/memory", O_RDONLY | O_CLOEXEC);
    char buf[512];
    if (w->psi_fd >= 0 &&
        !(mw_pread_text(w->psi_fd, buf, sizeof buf) > 0 &&
          mw_psi_parse(buf, &w->psi_some0, &w->psi_full0))) {
        close(w->psi_fd);
        w->psi_fd = -1;
    }
}

/* The start time (stat field 22, clock ticks since boot) of a process; 0
 * when it is gone or unreadable. With the PID it names a process for good:
 * a PID comes back, a PID with its start time does not. */
static uint64_t start_ticks_of(pid_t pid)
{
    char path[64], buf[1024];
    mw_proc_stat st;
    if (pid > 0) snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    else snprintf(path, sizeof path, "/proc/self/stat");
    if (mw_read_text(path, buf, sizeof buf, NULL, NULL) != MW_OK || !mw_proc_parse_stat(buf, &st, NULL, 0))
        return 0;
    return st.start_ticks;
}

/* Is the cgroup named `name` a left-over of a memwall that is gone?
 * Names are memwall-PID-START-N (START: that memwall's start time), or
 * memwall-PID-N from a memwall before 0.2 (no start time: only a PID that
 * is gone, or our own, which we no longer use for such names, is stale). */
static int cgroup_name_is_stale(const char *name, pid_t self, uint64_t self_start)
{
    int pid;
    unsigned long long start;
    unsigned n;
    char tail;
    if (sscanf(name, "memwall-%d-%llu-%u%c", &pid, &start, &n, &tail) == 3 && pid > 0) {
        if (pid == (int)self) return start != self_start;
        return start_ticks_of(pid) != start; /* gone (0), or its PID reused */
    }
    if (sscanf(name, "memwall-%d-%u%c", &pid, &n, &tail) == 2 && pid > 0) {
        if (pid == (int)self) return 1;
        return kill(pid, 0) != 0 && errno == ESRCH;
    }
    return 0;
}

/* A memwall killed by SIGKILL cannot remove its cgroup (its guard does, see
 * guard.h, unless the guard was killed too): the next one removes every
 * memwall cgroup beside its own whose memwall is gone (its processes are
 * killed first, so the directory can go). */
static void remove_stale_cgroups(const mw_cgroup *mine, uint64_t self_start)
{
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", mine->path);
    char *slash = strrchr(parent, '/');
    if (!slash) return;
    *slash = '\0';
    DIR *d = opendir(parent);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!cgroup_name_is_stale(e->d_name, getpid(), self_start)) continue;
        mw_cgroup stale = *mine;
        if (snprintf(stale.path, sizeof stale.path, "%s/%s", parent, e->d_name) >= (int)sizeof stale.path) continue;
        if (!strcmp(stale.path, mine->path)) continue;
        mw_cgroup_kill_all(&stale, NULL);
        mw_cgroup_destroy(&stale, NULL);
    }
    closedir(d);
}

/* Escapes are checked on a real tree only: a fake tree's cgroup.procs lists
 * the root alone (its children were never written there). */
static void open_escape_check(watch *w, const mw_cgroup_fs *fs)
{
    w->check_escapes = 0;
    if (!mw_cgroup_is_real(&w->cg)) return;
    size_t mlen = strlen(fs->mount);
    while (mlen > 1 && fs->mount[mlen - 1] == '/') mlen--;
    if (strncmp(w->cg.path, fs->mount, mlen) != 0) return;
    const char *rel = w->cg.path + (mlen == 1 ? 0 : mlen);
    if (snprintf(w->cg_rel, sizeof w->cg_rel, "%s", *rel ? rel : "/") >= (int)sizeof w->cg_rel) return;
    snprintf(w->cg_procs, sizeof w->cg_procs, "%s/cgroup.procs", w->cg.path);
    w->check_escapes = 1;
}

static mw_status make_cgroup(watch *w, mw_err *err)
{
    mw_cgroup_fs fs;
    MW_FORWARD(mw_cgroup_fs_detect(&fs, err));
    static unsigned counter;
    uint64_t self_start = start_ticks_of(0);
    char name[96];
    /* PID and start time: a cgroup left by a SIGKILLed memwall whose PID
     * is ours now cannot be taken for ours (nor block our mkdir) */
    snprintf(name, sizeof name, "memwall-%d-%llu-%u", (int)getpid(), (unsigned long long)self_start, counter++);
    MW_FORWARD(mw_cgroup_create(&fs, name, w->opts->mem_limit_bytes, w->opts->swap_limit_bytes,
                                &w->cg, err));
    w->have_cg = 1;
    remove_stale_cgroups(&w->cg, self_start);
    open_escape_check(w, &fs);
    mw_watch_result *r = w->res;
    r->cgroup_version = w->cg.version;
    snprintf(r->cgroup_path, sizeof r->cgroup_path, "%.*s", (int)sizeof r->cgroup_path - 1, w->cg.path);
    r->cgroup_limit_bytes = w->cg.limit_bytes;
    r->cgroup_swap_limit_bytes = w->cg.has_swap_control ? w->cg.swap_limit_bytes : MW_UNKNOWN;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", w->cg.path,
             w->cg.version == MW_CGROUP_V2 ? "memory.current" : "memory.usage_in_bytes");
    w->cg_current_fd = open(path, O_RDONLY | O_CLOEXEC);
    return MW_OK;
}

/* Called by spawn once the command is in the cgroup and before it runs:
 * the guard is memwall's second child, after the command (tools that take
 * a watcher's first child for its command, the fake NVML's "child", still
 * find it). No guard (it could not fork): the run goes on, and the next
 * memwall removes the cgroup if this one is SIGKILLed. */
static void start_guard(void *user)
{
    watch *w = user;
    if (w->have_cg) mw_guard_start(&w->cg, &w->guard, NULL);
}

static void close_cgroup(watch *w)
{
    if (!w->have_cg) return;
    mw_watch_result *r = w->res;
    mw_cgroup_stats st;
    if (mw_cgroup_read(&w->cg, &st, NULL) == MW_OK) {
        umax(&r->cgroup_peak_bytes, st.peak_bytes);
        r->cgroup_swap_peak_bytes = st.swap_peak_bytes;
        r->cgroup_oom_kills = st.oom_kills;
        r->cgroup_limit_hits = st.limit_hits;
        r->cgroup_refaults_anon = st.refaults_anon;
        r->cgroup_refaults_file = st.refaults_file;
        if (st.psi_some_seconds >= 0) {
            r->psi_some_seconds = st.psi_some_seconds;
            r->psi_full_seconds = st.psi_full_seconds;
        }
    }
    /* Processes that outlived the root (daemons, stragglers) would keep the
     * cgroup busy: the run is over, so they go too. */
    mw_cgroup_kill_all(&w->cg, NULL);
    if (w->cg_current_fd >= 0) close(w->cg_current_fd);
    w->cg_current_fd = -1;
    w->check_escapes = 0;
    mw_cgroup_destroy(&w->cg, NULL);
    mw_guard_stop(&w->guard);
    w->have_cg = 0;
}

/* ---- issue #16: the cgroup memwall was started in (a Slurm job's) ----------
 * Without --mem-limit memwall makes no cgroup; when the one it runs in (or
 * an ancestor: Slurm limits the job and its step, the tasks sit below) has
 * a memory limit, the result's cgroup_* describe that one, read only
 * (cgroup_inherited = 1): its limit, its peak (v1 max_usage_in_bytes, v2
 * memory.peak, else the largest memory.current sampled), and the OOM kills
 * and limit hits since the command started (the OOM kills of memwall's own
 * cgroup when it is below: v1 counts a kill only in the victim's cgroup,
 * and the job's would count another task's). */
static void inherit_cgroup(watch *w)
{
    mw_cgroup_fs fs;
    if (mw_cgroup_fs_detect(&fs, NULL) != MW_OK || mw_cgroup_find_limited(&fs, &w->icg, NULL) != MW_OK) return;
    w->have_icg = 1;
    if (snprintf(w->icg_self, sizeof w->icg_self, "%s%s", fs.mount, strcmp(fs.self, "/") ? fs.self : "") >=
        (int)sizeof w->icg_self)
        snprintf(w->icg_self, sizeof w->icg_self, "%s", w->icg.path);
    mw_cgroup_read(&w->icg, &w->icg0, NULL);
    mw_cgroup self = w->icg;
    snprintf(self.path, sizeof self.path, "%s", w->icg_self);
    mw_cgroup_read(&self, &w->icg_self0, NULL);
    mw_watch_result *r = w->res;
    r->cgroup_inherited = 1;
    r->cgroup_version = w->icg.version;
    snprintf(r->cgroup_path, sizeof r->cgroup_path, "%.*s", (int)sizeof r->cgroup_path - 1, w->icg.path);
    r->cgroup_limit_bytes = w->icg.limit_bytes;
    r->cgroup_swap_limit_bytes = w->icg.has_swap_control ? w->icg.swap_limit_bytes : MW_UNKNOWN;
    char path[PATH_MAX + 32];
    if (snprintf(path, sizeof path, "%s/%s", w->icg.path,
                 w->icg.version == MW_CGROUP_V2 ? "memory.current" : "memory.usage_in_bytes") < (int)sizeof path)
        w->cg_current_fd = open(path, O_RDONLY | O_CLOEXEC);
}

/* a counter's growth since the start; UNKNOWN when either is */
static uint64_t grown(uint64_t now, uint64_t then)
{
    if (now == MW_UNKNOWN) return MW_UNKNOWN;
    return then == MW_UNKNOWN ? now : now >= then ? now - then : 0;
}

static void close_inherited(watch *w)
{
    if (!w->have_icg) return;
    mw_watch_result *r = w->res;
    mw_cgroup_stats st, ss;
    if (mw_cgroup_read(&w->icg, &st, NULL) == MW_OK) {
        umax(&r->cgroup_peak_bytes, st.peak_bytes);
        r->cgroup_swap_peak_bytes = st.swap_peak_bytes;
        r->cgroup_oom_kills = grown(st.oom_kills, w->icg0.oom_kills);
        r->cgroup_limit_hits = grown(st.limit_hits, w->icg0.limit_hits);
        r->cgroup_refaults_anon = grown(st.refaults_anon, w->icg0.refaults_anon);
        r->cgroup_refaults_file = grown(st.refaults_file, w->icg0.refaults_file);
    }
    mw_cgroup self = w->icg;
    snprintf(self.path, sizeof self.path, "%s", w->icg_self);
    /* the kills of memwall's own cgroup (the command's tree and memwall),
     * not of the whole job's: another step's or task's kill is not ours */
    if (strcmp(w->icg_self, w->icg.path) != 0 && mw_cgroup_read(&self, &ss, NULL) == MW_OK) {
        uint64_t k = grown(ss.oom_kills, w->icg_self0.oom_kills);
        if (k != MW_UNKNOWN) r->cgroup_oom_kills = k;
    }
    /* every OOM kill followed a charge that failed at the limit */
    if (r->cgroup_oom_kills != MW_UNKNOWN &&
        (r->cgroup_limit_hits == MW_UNKNOWN || r->cgroup_limit_hits < r->cgroup_oom_kills))
        r->cgroup_limit_hits = r->cgroup_oom_kills;
    if (w->cg_current_fd >= 0) close(w->cg_current_fd);
    w->cg_current_fd = -1;
    w->have_icg = 0;
}

/* The memory cgroup of a process, as /proc/PID/cgroup names it (v1: the
 * line whose controllers include memory; v2: the "0::" line), into out;
 * 0 when unreadable. */
static int proc_memory_cgroup(pid_t pid, mw_cgroup_version v, char *out, size_t cap)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
    if (mw_read_text(path, buf, sizeof buf, NULL, NULL) != MW_OK) return 0;
    for (char *line = buf; line && *line;) {
        char *eol = strchr(line, '\n');
        if (eol) *eol = '\0';
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (c2) {
            *c2 = '\0';
            const char *ctl = c1 + 1;
            int match = 0;
            if (v == MW_CGROUP_V2) {
                match = !strncmp(line, "0:", 2) && *ctl == '\0';
            } else {
                for (const char *t = ctl; *t && !match;) {
                    size_t n = strcspn(t, ",");
                    match = n == 6 && !strncmp(t, "memory", 6);
                    t += n + (t[n] == ',');
                }
            }
            if (match) {
                snprintf(out, cap, "%s", c2 + 1);
                return 1;
            }
        }
        line = eol ? eol + 1 : NULL;
    }
    return 0;
}

/* Processes of the tree that left the cap's cgroup: the cgroup's own list
 * (cgroup.procs) against the tree just sampled. A process missing from the
 * list may only have exited, or moved into a cgroup below ours (still
 * capped): its /proc/PID/cgroup decides, and it must still live after that
 * read. No allocation: the list goes into the scratch of children PIDs.
 * The file is opened afresh each time: v1 keeps the list an open file read
 * first for a second (CGROUP_PIDLIST_DESTROY_DELAY). At most every
 * ESCAPE_CHECK_SECONDS: at a 10 ms interval, a check each sample cost a
 * third more CPU than the sampling itself (docs/BENCHMARKS.md). */
static void check_escapes(watch *w, double t)
{
    if (!w->check_escapes || t < w->escape_check_at) return;
    w->escape_check_at = t + ESCAPE_CHECK_SECONDS;
    int fd = open(w->cg_procs, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    size_t n = 0;
    char buf[4096];
    long v = 0;
    int in_num = 0;
    off_t off = 0;
    for (;;) {
        ssize_t got = pread(fd, buf, sizeof buf, off);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) { close(fd); return; }
        if (got == 0) break;
        off += got;
        for (ssize_t i = 0; i < got; i++) {
            if (buf[i] >= '0' && buf[i] <= '9') {
                v = v * 10 + (buf[i] - '0');
                in_num = 1;
            } else if (in_num) {
                if (n == w->kids_cap) { close(fd); return; } /* more than we can compare: not now */
                w->kids[n++] = (pid_t)v;
                v = 0;
                in_num = 0;
            }
        }
    }
    close(fd);
    if (in_num) {
        if (n == w->kids_cap) return;
        w->kids[n++] = (pid_t)v;
    }
    size_t rel_len = strlen(w->cg_rel);
    for (size_t i = 0; i < w->nprocs; i++) {
        tracked *p = &w->procs[i];
        if (!p->alive || p->escaped) continue;
        int listed = 0;
        for (size_t k = 0; k < n && !listed; k++) listed = w->kids[k] == p->sum.pid;
        if (listed) continue;
        char where[PATH_MAX];
        if (!proc_memory_cgroup(p->sum.pid, w->cg.version, where, sizeof where)) continue;
        if (!strncmp(where, w->cg_rel, rel_len) && (where[rel_len] == '\0' || where[rel_len] == '/')) continue;
        mw_proc_reading rd;
        if (mw_proc_read(&p->files, &rd) < 0 || !rd.ok_stat || rd.stat.state == 'Z' ||
            rd.stat.start_ticks != p->start_ticks)
            continue;
        p->escaped = 1;
        if (!w->res->escaped_processes) w->res->escaped_pid = p->sum.pid;
        w->res->escaped_processes++;
    }
}

/* SIGKILL to every live process of the tree, and to the cgroup's (which
 * holds any the sampler has not seen yet). */
static void kill_tree(watch *w)
{
    for (size_t i = 0; i < w->nprocs; i++)
        if (w->procs[i].alive) kill(w->procs[i].sum.pid, SIGKILL);
    if (w->have_cg) mw_cgroup_kill_all(&w->cg, NULL);
}

static int root_exited(pid_t root)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, (id_t)root, &si, WEXITED | WNOHANG | WNOWAIT) < 0) return errno == ECHILD;
    return si.si_pid == root;
}

static int attached_gone(const watch *w)
{
    return w->nprocs == 0 || !w->procs[0].alive;
}

/* Waits for the next tick or a signal; returns 1 when the run should end. */
static int wait_tick(watch *w, int sfd, double next, int attached)
{
    for (;;) {
        double now = elapsed(w);
        double left = next - now;
        if (left < 0) left = 0;
        struct timespec ts = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
        struct pollfd pfd = {.fd = sfd, .events = POLLIN};
        int rc = ppoll(&pfd, 1, &ts, NULL);
        if (rc == 0) return 0;
        if (rc < 0) {
            if (errno == EINTR) continue;
            return 0;
        }
        struct signalfd_siginfo si;
        int stop = 0, deadline = 0;
        while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
            if (si.ssi_signo == SIGCHLD) {
                if (!attached && root_exited(w->root)) stop = 1;
                continue;
            }
            if (!w->res->signal_received) w->res->signal_received = (int)si.ssi_signo;
            if (attached) {
                stop = 1; /* Ctrl-C ends watching an attached process */
                continue;
            }
            if (w->opts->forward_signals && si.ssi_code != SI_KERNEL) {
                /* A terminal's SIGINT reaches the whole foreground group,
                 * the child included (SI_KERNEL); only signals sent to
                 * memwall alone are passed on, so none arrives twice. */
                kill(w->root, (int)si.ssi_signo);
            }
            if (w->opts->kill_on_signal && w->kill_at < 0) {
                w->kill_at = elapsed(w) + (w->opts->forward_signals ? SIGNAL_KILL_GRACE : 0);
                deadline = 1;
            }
        }
        if (stop) return 1;
        if (deadline) return 0; /* the caller's loop wakes up for it */
    }
}

static void reap_root(watch *w, uint64_t self_hwm)
{
    mw_watch_result *r = w->res;
    int status = 0;
    struct rusage ru;
    pid_t got;
    do got = wait4(w->root, &status, 0, &ru); while (got < 0 && errno == EINTR);
    r->wall_seconds = elapsed(w);
    if (got != w->root) return;
    if (WIFEXITED(status)) {
        r->exit_code = WEXITSTATUS(status);
        r->status_code = r->exit_code;
    } else if (WIFSIGNALED(status)) {
        r->term_signal = WTERMSIG(status);
        r->status_code = 128 + r->term_signal;
    }
    r->user_seconds = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6;
    r->sys_seconds = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
    /* ru_maxrss (KiB) covers the root and its reaped descendants, but it
     * starts at memwall's own RSS at fork: only a figure above our own
     * high-water mark is theirs. */
    uint64_t maxrss = (uint64_t)ru.ru_maxrss * 1024;
    if (maxrss > self_hwm) {
        umax(&r->peak_rss_bytes, maxrss);
        /* With no descendants ever seen, the figure is the root's own. */
        if (w->nprocs == 1) umax(&w->procs[0].sum.peak_rss_bytes, maxrss);
    }
}

/* The options mw_watch_run cannot run with, as an error. */
static mw_status check_opts(const char *const *argv, const mw_watch_opts *o, mw_err *err)
{
    int attached = argv == NULL;
    MW_RETURN_IF(attached && o->attach_pid <= 0, err, MW_ERR_INVALID, "nothing to watch: give a command or a PID");
    MW_RETURN_IF(!attached && (!argv[0] || !argv[0][0]), err, MW_ERR_INVALID, "empty command");
    MW_RETURN_IF(!(o->interval_seconds >= MIN_INTERVAL), err, MW_ERR_INVALID,
                 "sampling interval %g s is below the 1 ms minimum", o->interval_seconds);
    /* a huge interval overflowed ppoll's timespec: EINVAL at once, forever */
    MW_RETURN_IF(!(o->interval_seconds <= MAX_INTERVAL), err, MW_ERR_INVALID,
                 "sampling interval %g s is above the 1 hour maximum", o->interval_seconds);
    MW_RETURN_IF(attached && o->mem_limit_bytes != MW_UNLIMITED, err, MW_ERR_INVALID,
                 "--mem-limit needs a command to start; it cannot cap a running process");
    return MW_OK;
}

/* The watch's state, its result and its list of children. */
static mw_status watch_init(watch *w, const char *const *argv, const mw_watch_opts *o, mw_err *err)
{
    memset(w, 0, sizeof *w);
    w->opts = o;
    w->cg_current_fd = -1;
    w->guard.fd = -1;
    w->psi_fd = -1;
    w->kids_cap = 4096;
    w->kill_at = -1;
    w->ev_fd = w->ev2_fd = -1; /* issue #16 */
    w->res = result_new(argv, o->attach_pid);
    w->kids = mw_malloc(w->kids_cap * sizeof *w->kids, MW_MEM_PROBE);
    if (!w->res || !w->kids) {
        mw_watch_result_free(w->res);
        mw_free(w->kids);
        return mw_err_set(err, MW_ERR_NOMEM, "out of memory preparing to watch");
    }
    w->res->interval_seconds = o->interval_seconds;
    return MW_OK;
}

/* Starts argv in the cgroup (when one was made), or takes the running
 * process to attach to; the root is tracked from here on. old: the signal
 * mask the command gets. */
static mw_status start_or_attach(watch *w, const char *const *argv, const sigset_t *old, mw_err *err)
{
    const mw_watch_opts *o = w->opts;
    mw_watch_result *r = w->res;
    if (!argv) {
        w->root = o->attach_pid;
        MW_RETURN_IF(track(w, w->root, 0) < 0, err, MW_ERR_NOT_FOUND,
                     "no process %d to watch (or /proc/%d is not readable)", (int)w->root, (int)w->root);
    } else {
        int code = -1;
        mw_spawn_io io = {o->stdout_fd, o->stderr_fd, o->keep_fd, o->env_add, start_guard, w};
        mw_status st = mw_spawn_start(argv, old, w->have_cg ? &w->cg : NULL, &io, o->die_with_watcher, &w->root,
                                      &code, err);
        if (st != MW_OK) {
            if (st == MW_ERR_SPAWN) {
                r->exit_code = code;
                r->status_code = code;
                r->wall_seconds = elapsed(w);
            }
            return st;
        }
        track(w, w->root, 0);
    }
    r->pid = w->root;
    return MW_OK;
}

/* Samples every interval until the root exits (or, attached, is gone),
 * killing the tree at the timeout or when the grace after a forwarded
 * signal is over. The last sample into *s. */
static void sample_until_exit(watch *w, int sfd, int attached, mw_sample *s)
{
    const mw_watch_opts *o = w->opts;
    mw_watch_result *r = w->res;
    double next = 0;
    for (;;) {
        sample(w, s);
        if (attached && attached_gone(w)) break;
        next += o->interval_seconds;
        double now = elapsed(w);
        if (next < now) next = now; /* fell behind: don't burst */
        if (!attached && o->timeout_seconds > 0 && !r->timed_out && now >= o->timeout_seconds) {
            /* the whole tree: the cgroup's when there is one */
            r->timed_out = 1;
            kill_tree(w);
        }
        if (!attached && o->timeout_seconds > 0 && !r->timed_out && next > o->timeout_seconds)
            next = o->timeout_seconds; /* wake up in time for it */
        /* kill_on_signal: the grace after the forwarded signal is over */
        if (w->kill_at >= 0 && !w->tree_killed && now >= w->kill_at) {
            w->tree_killed = 1;
            kill_tree(w);
        }
        if (w->kill_at >= 0 && !w->tree_killed && next > w->kill_at) next = w->kill_at;
        if (wait_tick(w, sfd, next, attached)) break;
    }
}

/* After the root's exit: its final figures, the system's deltas since vm0,
 * the cgroup's own figures (then the cgroup goes), and whether an OOM kill
 * ended it. s: the last sample. */
static void finish_run(watch *w, int attached, const mw_vmstat *vm0, mw_sample *s, uint64_t self_hwm, double cpu0)
{
    mw_watch_result *r = w->res;
    if (!attached) {
        /* The root is a zombie now: its stat still has its final faults. */
        sample(w, s);
        reap_root(w, self_hwm);
        /* Asked to stop: nothing of the tree outlives the root (orphans
         * reparented away; the cgroup's go in close_cgroup too). */
        if (w->opts->kill_on_signal && r->signal_received) kill_tree(w);
    } else {
        r->wall_seconds = elapsed(w);
        r->status_code = 0;
    }
    r->watcher_cpu_seconds = cpu_seconds_self() - cpu0;

    mw_vmstat vm1;
    mw_vmstat_read(&vm1, NULL);
    r->sys_swap_in_pages = vm1.pswpin - vm0->pswpin;
    r->sys_swap_out_pages = vm1.pswpout - vm0->pswpout;
    r->sys_major_faults = vm1.pgmajfault - vm0->pgmajfault;
    r->sys_refaults_anon = vm1.refault_anon - vm0->refault_anon;
    r->sys_refaults_file = vm1.refault_file - vm0->refault_file;
    r->sys_oom_kills = vm1.oom_kill - vm0->oom_kill;
    if (s->psi_some_seconds >= 0) {
        r->psi_some_seconds = s->psi_some_seconds;
        r->psi_full_seconds = s->psi_full_seconds;
    }
    close_cgroup(w);
    close_inherited(w); /* issue #16 */
    if (!attached) {
        if (r->cgroup_version != MW_CGROUP_NONE && r->cgroup_oom_kills != MW_UNKNOWN)
            r->oom_killed = r->cgroup_oom_kills > 0;
        else
            r->oom_killed = r->term_signal == SIGKILL && r->sys_oom_kills > 0 && !r->timed_out;
    }
    finish_result(w);
    rank_finish(w, attached); /* issue #16 */
}

/* Drops the SIGCHLDs the run caused, then gives the caller its mask back. */
static void restore_signals(int sfd, const sigset_t *old)
{
    close(sfd);
    struct timespec zero = {0, 0};
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    while (sigtimedwait(&chld, NULL, &zero) > 0) {}
    sigprocmask(SIG_SETMASK, old, NULL);
}

/* Everything but the result. */
static void watch_release(watch *w)
{
    close_cgroup(w);
    close_inherited(w); /* issue #16 */
    for (size_t i = 0; i < w->nprocs; i++)
        if (w->procs[i].alive) mw_proc_files_close(&w->procs[i].files);
    if (w->psi_fd >= 0) close(w->psi_fd);
    mw_free(w->procs);
    mw_free(w->kids);
    mw_free(w->gpu_procs);
    mw_free(w->live); /* issue #16 */
    mw_nvml_close(w->nvml);
    /* issue #16 */
    mw_free(w->ranks);
    mw_free(w->envbuf);
    if (w->ev_fd >= 0) close(w->ev_fd);
    if (w->ev2_fd >= 0) close(w->ev2_fd);
}

mw_status mw_watch_run(const char *const *argv, const mw_watch_opts *opts_in,
                       mw_watch_result **out, mw_err *err)
{
    mw_watch_opts defaults;
    if (!opts_in) {
        mw_watch_opts_init(&defaults);
        opts_in = &defaults;
    }
    *out = NULL;
    const int attached = argv == NULL;
    MW_FORWARD(check_opts(argv, opts_in, err));
    watch w;
    MW_FORWARD(watch_init(&w, argv, opts_in, err));

    mw_status st = MW_OK;
    if (opts_in->mem_limit_bytes != MW_UNLIMITED) st = make_cgroup(&w, err);
    else if (!attached) inherit_cgroup(&w); /* issue #16: a Slurm job's cgroup, read only */
    if (st == MW_OK) {
        /* signals are read through a signalfd while the command runs */
        sigset_t set, old;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGHUP);
        sigaddset(&set, SIGCHLD);
        sigprocmask(SIG_BLOCK, &set, &old);
        int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sfd < 0) {
            st = mw_err_errno(err, MW_ERR_UNSUPPORTED, errno, "cannot create a signalfd");
            sigprocmask(SIG_SETMASK, &old, NULL);
        } else {
            mw_vmstat vm0;
            mw_vmstat_read(&vm0, NULL);
            open_psi(&w);
            open_gpu(&w);
            double cpu0 = cpu_seconds_self();
            uint64_t self_hwm = mw_proc_self_hwm_bytes();
            clock_gettime(CLOCK_MONOTONIC, &w.t0);
            st = start_or_attach(&w, argv, &old, err);
            if (st == MW_OK) {
                mw_sample s;
                sample_until_exit(&w, sfd, attached, &s);
                finish_run(&w, attached, &vm0, &s, self_hwm, cpu0);
            }
            restore_signals(sfd, &old);
        }
    }
    watch_release(&w);
    if (st == MW_OK || st == MW_ERR_SPAWN) *out = w.res;
    else mw_watch_result_free(w.res);
    return st;
}
