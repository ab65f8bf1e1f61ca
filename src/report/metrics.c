/*
 * metrics.c - a sample in the Prometheus text exposition format, version
 * 0.0.4 (issue #16; docs/CLUSTER.md, "Prometheus metrics").
 *
 * The format (prometheus.io/docs/instrumenting/exposition_formats): lines
 * "# HELP name text" and "# TYPE name gauge|counter" before a family's
 * samples, then "name{label="value",...} number". In a label value a
 * backslash, a double quote and a newline are written \\, \" and \n; in a
 * HELP text a backslash and a newline. Values are in base units (bytes,
 * seconds) and counters end in _total (prometheus.io/docs/practices/naming).
 *
 * Every series carries command, host and rank, "" when unknown (to
 * Prometheus an empty label is no label, but every series of a family has
 * the same label names, which node_exporter's textfile collector - the Go
 * client's registry - requires of a family, across files too). A value
 * memwall could not measure is left out, never written as 0; a family with
 * no value at all is left out whole, HELP and TYPE included.
 */
#include "memwall.h"
#include "common/utf8.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Text appended to buf[cap], counting what did not fit (snprintf's way). */
typedef struct out {
    char *buf;
    size_t cap, len;
} out;

static void put(out *o, const char *s, size_t n)
{
    if (o->len < o->cap) {
        size_t room = o->cap - o->len;
        memcpy(o->buf + o->len, s, n < room ? n : room);
    }
    o->len += n;
}

static void puts_(out *o, const char *s) { put(o, s, strlen(s)); }

static void putf(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(out *o, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0) put(o, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* A label value: \, " and newline escaped; a malformed UTF-8 byte and the
 * other control characters (a scraper's web page is a terminal of sorts)
 * become '?'. */
static void put_value(out *o, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    while (n > 0) {
        if (*p == '\\') puts_(o, "\\\\");
        else if (*p == '"') puts_(o, "\\\"");
        else if (*p == '\n') puts_(o, "\\n");
        else if (*p < 0x20 || *p == 0x7f) puts_(o, "?");
        else if (*p < 0x80) put(o, (const char *)p, 1);
        else {
            size_t k = mw_utf8_char_len(p, n);
            if (k == 0) {
                puts_(o, "?");
                k = 1;
            } else {
                put(o, (const char *)p, k);
            }
            p += k;
            n -= k;
            continue;
        }
        p++;
        n--;
    }
}

static void put_label(out *o, int *first, const char *name, const char *value)
{
    puts_(o, *first ? "{" : ",");
    *first = 0;
    puts_(o, name);
    puts_(o, "=\"");
    put_value(o, value);
    puts_(o, "\"");
}

/* The labels every series has; rank: the one to write (MW_RANK_NONE: none). */
static void put_common(out *o, int *first, const mw_metrics_info *in, int32_t rank)
{
    char r[16] = "";
    if (rank != MW_RANK_NONE) snprintf(r, sizeof r, "%" PRId32, rank);
    put_label(o, first, "command", in->command ? in->command : "");
    put_label(o, first, "host", in->host ? in->host : "");
    put_label(o, first, "rank", r);
}

static void header(out *o, const char *name, const char *type, const char *help)
{
    putf(o, "# HELP %s ", name);
    puts_(o, help); /* our own texts: no backslash, no newline */
    putf(o, "\n# TYPE %s %s\n", name, type);
}

static void end_labels(out *o, int first)
{
    (void)first; /* never empty: the common labels are always there */
    puts_(o, "} ");
}

/* One family of one series with the common labels. */
static void family_u64(out *o, const mw_metrics_info *in, const char *name, const char *type,
                       const char *help, uint64_t v)
{
    if (v == MW_UNKNOWN) return;
    header(o, name, type, help);
    int first = 1;
    puts_(o, name);
    put_common(o, &first, in, in->rank);
    end_labels(o, first);
    putf(o, "%" PRIu64 "\n", v);
}

static void family_seconds(out *o, const mw_metrics_info *in, const char *name, const char *type,
                           const char *help, double v)
{
    if (!(v >= 0)) return;
    header(o, name, type, help);
    int first = 1;
    puts_(o, name);
    put_common(o, &first, in, in->rank);
    end_labels(o, first);
    putf(o, "%.9g\n", v);
}

enum { GPU_TOTAL, GPU_USED, GPU_TREE };

static uint64_t gpu_field(const mw_gpu_device_sample *g, int which)
{
    return which == GPU_TOTAL ? g->total_bytes : which == GPU_USED ? g->used_bytes : g->tree_bytes;
}

static void family_gpu(out *o, const mw_sample *s, const mw_metrics_info *in, const char *name,
                       const char *help, int which)
{
    int any = 0;
    for (uint32_t d = 0; d < s->gpu_devices; d++) {
        uint64_t v = gpu_field(&s->gpu[d], which);
        if (v == MW_UNKNOWN) continue;
        if (!any) header(o, name, "gauge", help);
        any = 1;
        int first = 1;
        char idx[16];
        snprintf(idx, sizeof idx, "%" PRIu32, s->gpu[d].index);
        puts_(o, name);
        put_common(o, &first, in, in->rank);
        put_label(o, &first, "gpu", idx);
        end_labels(o, first);
        putf(o, "%" PRIu64 "\n", v);
    }
}

enum { PROC_RSS, PROC_SWAP, PROC_GPU };

static uint64_t proc_field(const mw_proc_sample *p, int which)
{
    return which == PROC_RSS ? p->rss_bytes : which == PROC_SWAP ? p->swap_bytes : p->gpu_bytes;
}

/* Per process: its own rank when its environment gives one, else memwall's. */
static void family_proc(out *o, const mw_sample *s, const mw_metrics_info *in, const char *name,
                        const char *help, int which)
{
    int any = 0;
    for (uint32_t i = 0; i < s->nprocs; i++) {
        const mw_proc_sample *p = &s->procs[i];
        uint64_t v = proc_field(p, which);
        if (v == MW_UNKNOWN) continue;
        if (!any) header(o, name, "gauge", help);
        any = 1;
        int first = 1;
        char pid[16], comm[sizeof p->comm + 1];
        snprintf(pid, sizeof pid, "%" PRId32, p->pid);
        memcpy(comm, p->comm, sizeof p->comm);
        comm[sizeof p->comm] = '\0';
        puts_(o, name);
        put_common(o, &first, in, p->rank != MW_RANK_NONE ? p->rank : in->rank);
        put_label(o, &first, "pid", pid);
        put_label(o, &first, "comm", comm);
        end_labels(o, first);
        putf(o, "%" PRIu64 "\n", v);
    }
}

size_t mw_metrics_format(const mw_sample *s, const mw_metrics_info *in, char *buf, size_t cap)
{
    out o = {buf, cap, 0};
    mw_metrics_info none = {NULL, NULL, MW_RANK_NONE, 0};
    if (!in) in = &none;
    family_u64(&o, in, "memwall_up", "gauge",
               "1 while the watched command runs, 0 once it has ended.", in->up ? 1 : 0);
    family_seconds(&o, in, "memwall_elapsed_seconds", "gauge",
                   "Seconds since the command started (or memwall attached).", s->t_seconds);
    family_u64(&o, in, "memwall_processes", "gauge", "Live processes in the watched tree.", s->processes);
    family_u64(&o, in, "memwall_rss_bytes", "gauge", "Resident memory of the tree: the sum of VmRSS.",
               s->rss_bytes);
    family_u64(&o, in, "memwall_rss_peak_bytes", "gauge",
               "The tree's peak resident memory so far (sums over samples and each process's VmHWM).",
               s->peak_rss_bytes);
    family_u64(&o, in, "memwall_rss_anon_bytes", "gauge", "Anonymous resident memory of the tree (RssAnon).",
               s->rss_anon_bytes);
    family_u64(&o, in, "memwall_rss_file_bytes", "gauge", "File-backed resident memory of the tree (RssFile).",
               s->rss_file_bytes);
    family_u64(&o, in, "memwall_swap_bytes", "gauge", "Swapped-out memory of the tree (VmSwap).", s->swap_bytes);
    family_u64(&o, in, "memwall_major_faults_total", "counter",
               "Major page faults of every process of the tree seen so far.", s->major_faults_total);
    family_u64(&o, in, "memwall_minor_faults_total", "counter",
               "Minor page faults of every process of the tree seen so far.", s->minor_faults_total);
    family_seconds(&o, in, "memwall_psi_some_seconds_total", "counter",
                   "Memory pressure stall (PSI some) since the start: the cgroup's, else the system's.",
                   s->psi_some_seconds);
    family_seconds(&o, in, "memwall_psi_full_seconds_total", "counter",
                   "Memory pressure stall (PSI full) since the start: the cgroup's, else the system's.",
                   s->psi_full_seconds);
    family_u64(&o, in, "memwall_cgroup_usage_bytes", "gauge", "The memory cgroup's usage (memory.current).",
               s->cgroup_bytes);
    family_u64(&o, in, "memwall_cgroup_limit_bytes", "gauge", "The memory cgroup's limit.",
               s->cgroup_limit_bytes);
    family_gpu(&o, s, in, "memwall_gpu_total_bytes", "Memory of each GPU.", GPU_TOTAL);
    family_gpu(&o, s, in, "memwall_gpu_used_bytes", "Used memory of each GPU, every process's.", GPU_USED);
    family_gpu(&o, s, in, "memwall_gpu_tree_bytes", "GPU memory of the tree's processes on each GPU.", GPU_TREE);
    family_proc(&o, s, in, "memwall_process_rss_bytes", "Resident memory of each live process (VmRSS).",
                PROC_RSS);
    family_proc(&o, s, in, "memwall_process_swap_bytes", "Swapped-out memory of each live process (VmSwap).",
                PROC_SWAP);
    family_proc(&o, s, in, "memwall_process_gpu_bytes", "GPU memory of each live process, all GPUs.",
                PROC_GPU);
    if (cap > 0) buf[o.len < cap ? o.len : cap - 1] = '\0';
    return o.len;
}
