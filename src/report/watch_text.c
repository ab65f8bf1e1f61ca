/*
 * watch_text.c - the human summary of a watched run, memory first.
 *
 *   memwall watch: python3 train.py
 *   exit             killed: out of memory (SIGKILL), under the 512 MiB cap
 *   memory
 *     peak (tree)    498 MiB   anon 490 MiB · file 8.0 MiB · shmem 0 B
 *     ...
 */
#include "memwall.h"
#include "common/error.h"
#include "report/json_util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_PROC_ROWS 12

typedef struct style { const char *bold, *red, *dim, *reset; } style;

static void secs(char *buf, size_t cap, double v)
{
    if (v < 0) snprintf(buf, cap, "-");
    else if (v < 10) snprintf(buf, cap, "%.3f s", v);
    else snprintf(buf, cap, "%.1f s", v);
}

static void count(char *buf, size_t cap, uint64_t v)
{
    if (v == MW_UNKNOWN) { snprintf(buf, cap, "-"); return; }
    /* thousands separated by commas: 1,234,567 */
    char raw[32];
    int n = snprintf(raw, sizeof raw, "%llu", (unsigned long long)v);
    size_t o = 0;
    for (int i = 0; i < n && o + 2 < cap; i++) {
        if (i > 0 && (n - i) % 3 == 0) buf[o++] = ',';
        buf[o++] = raw[i];
    }
    buf[o] = '\0';
}

static void write_exit(const mw_watch_result *r, FILE *out, const style *st)
{
    char lim[32];
    fprintf(out, "  %-16s ", "exit");
    if (r->oom_killed && r->term_signal == SIGKILL) {
        fprintf(out, "%skilled: out of memory%s (SIGKILL)", st->red, st->reset);
        if (r->cgroup_version != MW_CGROUP_NONE && r->cgroup_limit_bytes != MW_UNLIMITED)
            fprintf(out, ", under the %s cap", mw_size_format(r->cgroup_limit_bytes, lim, sizeof lim));
    } else if (r->term_signal > 0) {
        fprintf(out, "%skilled by %s (%d)%s", st->red, mw_signal_name(r->term_signal), r->term_signal, st->reset);
    } else if (r->exit_code >= 0) {
        fprintf(out, "%s%d%s", r->exit_code ? st->red : "", r->exit_code, r->exit_code ? st->reset : "");
    } else {
        fprintf(out, "unknown (attached to a running process)");
    }
    if (r->oom_killed && r->term_signal != SIGKILL)
        fprintf(out, "; %sa process of the tree was killed: out of memory%s", st->red, st->reset);
    fprintf(out, "\n");
}

static void write_processes(const mw_watch_result *r, FILE *out, const style *st)
{
    if (r->nprocs == 0) return;
    fprintf(out, "  %s%-8s %-10s %-10s %-10s %-10s %-9s %s%s\n", st->dim, "pid", "peak rss",
            "anon", "file", "swap", "majflt", "command", st->reset);
    /* Show the biggest first; the order of discovery is in --json. */
    uint32_t shown[MAX_PROC_ROWS];
    uint32_t nshown = 0;
    for (uint32_t k = 0; k < r->nprocs && nshown < MAX_PROC_ROWS; k++) {
        uint32_t best = UINT32_MAX;
        for (uint32_t i = 0; i < r->nprocs; i++) {
            int taken = 0;
            for (uint32_t j = 0; j < nshown; j++) taken |= shown[j] == i;
            if (taken) continue;
            uint64_t v = r->procs[i].peak_rss_bytes == MW_UNKNOWN ? 0 : r->procs[i].peak_rss_bytes;
            uint64_t b = best == UINT32_MAX ? 0 : r->procs[best].peak_rss_bytes;
            if (best == UINT32_MAX || v > b) best = i;
        }
        shown[nshown++] = best;
    }
    for (uint32_t j = 0; j < nshown; j++) {
        const mw_proc_summary *p = &r->procs[shown[j]];
        char a[32], b[32], c[32], d[32], e[32];
        fprintf(out, "  %-8d %-10s %-10s %-10s %-10s %-9s %s\n", p->pid,
                mw_size_format(p->peak_rss_bytes, a, sizeof a),
                mw_size_format(p->peak_rss_anon_bytes, b, sizeof b),
                mw_size_format(p->peak_rss_file_bytes, c, sizeof c),
                mw_size_format(p->peak_swap_bytes, d, sizeof d),
                (count(e, sizeof e, p->major_faults), e), p->comm);
    }
    if (r->nprocs > nshown)
        fprintf(out, "  %s... %u more processes (all in --json)%s\n", st->dim, r->nprocs - nshown, st->reset);
}

/* issue #16: the ranks of a distributed job seen in the tree (at most
 * MAX_RANK_ROWS rows, by rank), and the largest against the median */
#define MAX_RANK_ROWS 64

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void write_ranks(const mw_watch_result *r, FILE *out, const style *st)
{
    if (r->n_ranks == 0) return;
    char a[32], b[32], c[32];
    fprintf(out, "%sranks%s (%u seen)\n", st->bold, st->reset, r->n_ranks);
    fprintf(out, "  %s%-8s %-6s %-10s %-10s %-9s %-6s %s%s\n", st->dim, "rank", "local", "peak rss", "peak gpu",
            "majflt", "procs", "", st->reset);
    uint64_t *peaks = mw_malloc(r->n_ranks * sizeof *peaks, MW_MEM_REPORT);
    size_t np = 0, largest = 0;
    for (uint32_t i = 0; i < r->n_ranks; i++) {
        const mw_rank_summary *k = &r->ranks[i];
        if (k->peak_rss_bytes > r->ranks[largest].peak_rss_bytes) largest = i;
        if (peaks) peaks[np++] = k->peak_rss_bytes;
        if (i >= MAX_RANK_ROWS) continue;
        char local[16];
        if (k->local_rank == MW_RANK_NONE) snprintf(local, sizeof local, "-");
        else snprintf(local, sizeof local, "%d", (int)k->local_rank);
        fprintf(out, "  %-8d %-6s %-10s %-10s %-9s %-6u %s%s%s\n", (int)k->rank, local,
                mw_size_format(k->peak_rss_bytes, a, sizeof a), mw_size_format(k->peak_gpu_bytes, b, sizeof b),
                (count(c, sizeof c, k->major_faults), c), k->processes, st->red,
                k->oom_killed ? "OOM-killed" : "", st->reset);
    }
    if (r->n_ranks > MAX_RANK_ROWS)
        fprintf(out, "  %s... %u more ranks (all in --json)%s\n", st->dim, r->n_ranks - MAX_RANK_ROWS, st->reset);
    if (!peaks) return;
    qsort(peaks, np, sizeof *peaks, cmp_u64);
    /* the median of an even count: the mean of the middle two */
    uint64_t median = np % 2 ? peaks[np / 2]
                             : peaks[np / 2 - 1] / 2 + peaks[np / 2] / 2 + (peaks[np / 2 - 1] % 2 + peaks[np / 2] % 2) / 2;
    mw_free(peaks);
    fprintf(out, "  %-16s rank %d at %s; median %s", "largest", (int)r->ranks[largest].rank,
            mw_size_format(r->ranks[largest].peak_rss_bytes, a, sizeof a), mw_size_format(median, b, sizeof b));
    if (median > 0) fprintf(out, " (%.2fx the median)", (double)r->ranks[largest].peak_rss_bytes / (double)median);
    fprintf(out, "\n");
}

mw_status mw_watch_report_text(const mw_watch_result *r, FILE *out, unsigned flags, mw_err *err)
{
    style st = {"", "", "", ""};
    if (flags & MW_REPORT_COLOR) st = (style){"\033[1m", "\033[31m", "\033[2m", "\033[0m"};
    char a[32], b[32], c[32], d[32];
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

    fprintf(out, "%smemwall watch:%s", st.bold, st.reset);
    for (char **arg = r->argv; arg && *arg; arg++) fprintf(out, " %s", *arg);
    fprintf(out, "\n");
    write_exit(r, out, &st);
    if (r->watcher_rank != MW_RANK_NONE) { /* issue #16: `srun memwall watch` */
        char host[64];
        fprintf(out, "  %-16s %d", "rank", (int)r->watcher_rank);
        if (r->watcher_local_rank != MW_RANK_NONE) fprintf(out, " (local %d)", (int)r->watcher_local_rank);
        fprintf(out, " on %s\n", mw_shown_str(r->host, host, sizeof host));
    }

    fprintf(out, "%smemory%s\n", st.bold, st.reset);
    fprintf(out, "  %-16s %s%s%s   anon %s · file %s · shmem %s\n", "peak rss (tree)", st.bold,
            mw_size_format(r->peak_rss_bytes, a, sizeof a), st.reset,
            mw_size_format(r->peak_rss_anon_bytes, b, sizeof b),
            mw_size_format(r->peak_rss_file_bytes, c, sizeof c),
            mw_size_format(r->peak_rss_shmem_bytes, d, sizeof d));
    if (r->peak_pss_bytes != MW_UNKNOWN)
        fprintf(out, "  %-16s %s\n", "peak pss (tree)", mw_size_format(r->peak_pss_bytes, a, sizeof a));
    fprintf(out, "  %-16s %s\n", "peak swap", mw_size_format(r->peak_swap_bytes, a, sizeof a));
    if (r->cgroup_version != MW_CGROUP_NONE) {
        fprintf(out, "  %-16s %s", "cgroup peak", mw_size_format(r->cgroup_peak_bytes, a, sizeof a));
        if (r->cgroup_limit_bytes != MW_UNLIMITED && r->cgroup_peak_bytes != MW_UNKNOWN)
            fprintf(out, " of the %s cap (%.0f%%)", mw_size_format(r->cgroup_limit_bytes, b, sizeof b),
                    100.0 * (double)r->cgroup_peak_bytes / (double)r->cgroup_limit_bytes);
        count(c, sizeof c, r->cgroup_limit_hits);
        count(d, sizeof d, r->cgroup_oom_kills);
        fprintf(out, "; cap reached %s times, OOM kills %s (cgroup v%d%s)\n", c, d, (int)r->cgroup_version,
                r->cgroup_inherited ? ", the one memwall ran in" : ""); /* issue #16 */
        if (r->cgroup_swap_limit_bytes != MW_UNKNOWN && r->cgroup_swap_limit_bytes != MW_UNLIMITED)
            fprintf(out, "  %-16s %s allowed, peak %s\n", "cgroup swap",
                    mw_size_format(r->cgroup_swap_limit_bytes, a, sizeof a),
                    mw_size_format(r->cgroup_swap_peak_bytes, b, sizeof b));
        if (r->escaped_processes)
            fprintf(out, "  %-16s %s%u process%s left the cap's cgroup (the first: %d): %s memory is neither "
                    "capped nor in the cgroup peak%s\n", "escaped", st.red, r->escaped_processes,
                    r->escaped_processes == 1 ? "" : "es", (int)r->escaped_pid,
                    r->escaped_processes == 1 ? "its" : "their", st.reset);
    }
    fprintf(out, "  %-16s %u seen, at most %u at once\n", "processes", r->nprocs, r->max_processes);
    write_processes(r, out, &st);
    write_ranks(r, out, &st); /* issue #16 */

    fprintf(out, "%sfaults and pressure%s\n", st.bold, st.reset);
    count(a, sizeof a, r->minor_faults);
    count(b, sizeof b, r->major_faults);
    fprintf(out, "  %-16s minor %s · major %s\n", "page faults", a, b);
    fprintf(out, "  %-16s in %s · out %s; refaults anon %llu · file %llu; OOM kills %llu\n",
            "system swap", mw_size_format(r->sys_swap_in_pages * page, a, sizeof a),
            mw_size_format(r->sys_swap_out_pages * page, b, sizeof b),
            (unsigned long long)r->sys_refaults_anon, (unsigned long long)r->sys_refaults_file,
            (unsigned long long)r->sys_oom_kills);
    if (r->psi_some_seconds >= 0)
        fprintf(out, "  %-16s some %s · full %s\n", "memory stall",
                (secs(a, sizeof a, r->psi_some_seconds), a), (secs(b, sizeof b, r->psi_full_seconds), b));
    else
        fprintf(out, "  %-16s not available (no PSI in this kernel)\n", "memory stall");

    if (r->gpu_devices) {
        fprintf(out, "%sgpu%s\n", st.bold, st.reset);
        fprintf(out, "  %-16s %s\n", "peak (tree)", mw_size_format(r->peak_gpu_bytes, a, sizeof a));
        for (uint32_t i = 0; i < r->gpu_devices; i++) {
            const mw_gpu_device_summary *g = &r->gpu[i];
            fprintf(out, "  gpu %-12u %s: tree peak %s; device peak %s of %s\n", g->index, g->name,
                    mw_size_format(g->peak_tree_bytes, a, sizeof a),
                    mw_size_format(g->peak_used_bytes, b, sizeof b),
                    mw_size_format(g->total_bytes, c, sizeof c));
        }
    }

    fprintf(out, "%stime%s\n", st.bold, st.reset);
    fprintf(out, "  %-16s wall %s · user %s · sys %s\n", "command",
            (secs(a, sizeof a, r->wall_seconds), a), (secs(b, sizeof b, r->user_seconds), b),
            (secs(c, sizeof c, r->sys_seconds), c));
    fprintf(out, "  %-16s %llu samples every %g ms; memwall used %s CPU (%.2f%% of wall)\n", "sampling",
            (unsigned long long)r->samples, r->interval_seconds * 1e3,
            (secs(a, sizeof a, r->watcher_cpu_seconds), a),
            r->wall_seconds > 0 ? 100.0 * r->watcher_cpu_seconds / r->wall_seconds : 0.0);
    return mw_report_end(out, "summary", err);
}
