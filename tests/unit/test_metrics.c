/* test_metrics.c - mw_metrics_format (issue #16, the Prometheus text
 * exposition format 0.0.4: prometheus.io/docs/instrumenting/
 * exposition_formats): the exact text of a fixed sample, label escaping,
 * unknown values left out, snprintf-like truncation; and the live arrays
 * mw_watch_run fills in each sample (tests/helpers/mw_touch.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static mw_sample unknown_sample(void)
{
    mw_sample s;
    memset(&s, 0, sizeof s);
    s.t_seconds = -1;
    s.psi_some_seconds = s.psi_full_seconds = -1;
    s.rss_bytes = s.rss_anon_bytes = s.rss_file_bytes = s.rss_shmem_bytes = MW_UNKNOWN;
    s.swap_bytes = s.pss_bytes = s.cgroup_bytes = s.cgroup_limit_bytes = MW_UNKNOWN;
    s.gpu_bytes = s.gpu_device_used_bytes = s.peak_rss_bytes = MW_UNKNOWN;
    s.minor_faults_total = s.major_faults_total = MW_UNKNOWN;
    return s;
}

static char *format(const mw_sample *s, const mw_metrics_info *in)
{
    size_t n = mw_metrics_format(s, in, NULL, 0);
    char *buf = malloc(n + 1);
    assert_non_null(buf);
    assert_int_equal(mw_metrics_format(s, in, buf, n + 1), n);
    assert_int_equal(strlen(buf), n);
    return buf;
}

static void fixed_sample_exact_text(void **state)
{
    (void)state;
    mw_gpu_device_sample gpu[2] = {{0, 85899345920ull, 2147483648ull, 1073741824ull},
                                   {1, 85899345920ull, MW_UNKNOWN, MW_UNKNOWN}};
    mw_proc_sample procs[2] = {{100, MW_RANK_NONE, "python3", 67108864, 0, 1073741824ull, 3},
                               {101, 7, "worker", 4096, 8192, MW_UNKNOWN, 0}};
    mw_sample s = unknown_sample();
    s.t_seconds = 2.5;
    s.processes = 2;
    s.rss_bytes = 67112960;
    s.peak_rss_bytes = 70000000;
    s.rss_anon_bytes = 67108864;
    s.rss_file_bytes = 4096;
    s.swap_bytes = 8192;
    s.major_faults_total = 3;
    s.minor_faults_total = 16400;
    s.psi_some_seconds = 0.125;
    s.psi_full_seconds = 0;
    s.cgroup_bytes = 68000000;
    s.cgroup_limit_bytes = 134217728;
    s.gpu_devices = 2;
    s.gpu = gpu;
    s.nprocs = 2;
    s.procs = procs;
    mw_metrics_info in = {"train.py", "node1", 3, 1};
    char *t = format(&s, &in);
    /* one element a line: C99 only promises 4095-byte literals */
    static const char *const lines[] = {
        "# HELP memwall_up 1 while the watched command runs, 0 once it has ended.\n",
        "# TYPE memwall_up gauge\n",
        "memwall_up{command=\"train.py\",host=\"node1\",rank=\"3\"} 1\n",
        "# HELP memwall_elapsed_seconds Seconds since the command started (or memwall attached).\n",
        "# TYPE memwall_elapsed_seconds gauge\n",
        "memwall_elapsed_seconds{command=\"train.py\",host=\"node1\",rank=\"3\"} 2.5\n",
        "# HELP memwall_processes Live processes in the watched tree.\n",
        "# TYPE memwall_processes gauge\n",
        "memwall_processes{command=\"train.py\",host=\"node1\",rank=\"3\"} 2\n",
        "# HELP memwall_rss_bytes Resident memory of the tree: the sum of VmRSS.\n",
        "# TYPE memwall_rss_bytes gauge\n",
        "memwall_rss_bytes{command=\"train.py\",host=\"node1\",rank=\"3\"} 67112960\n",
        "# HELP memwall_rss_peak_bytes The tree's peak resident memory so far (sums over samples and each "
        "process's VmHWM).\n",
        "# TYPE memwall_rss_peak_bytes gauge\n",
        "memwall_rss_peak_bytes{command=\"train.py\",host=\"node1\",rank=\"3\"} 70000000\n",
        "# HELP memwall_rss_anon_bytes Anonymous resident memory of the tree (RssAnon).\n",
        "# TYPE memwall_rss_anon_bytes gauge\n",
        "memwall_rss_anon_bytes{command=\"train.py\",host=\"node1\",rank=\"3\"} 67108864\n",
        "# HELP memwall_rss_file_bytes File-backed resident memory of the tree (RssFile).\n",
        "# TYPE memwall_rss_file_bytes gauge\n",
        "memwall_rss_file_bytes{command=\"train.py\",host=\"node1\",rank=\"3\"} 4096\n",
        "# HELP memwall_swap_bytes Swapped-out memory of the tree (VmSwap).\n",
        "# TYPE memwall_swap_bytes gauge\n",
        "memwall_swap_bytes{command=\"train.py\",host=\"node1\",rank=\"3\"} 8192\n",
        "# HELP memwall_major_faults_total Major page faults of every process of the tree seen so far.\n",
        "# TYPE memwall_major_faults_total counter\n",
        "memwall_major_faults_total{command=\"train.py\",host=\"node1\",rank=\"3\"} 3\n",
        "# HELP memwall_minor_faults_total Minor page faults of every process of the tree seen so far.\n",
        "# TYPE memwall_minor_faults_total counter\n",
        "memwall_minor_faults_total{command=\"train.py\",host=\"node1\",rank=\"3\"} 16400\n",
        "# HELP memwall_psi_some_seconds_total Memory pressure stall (PSI some) since the start: the cgroup's, "
        "else the system's.\n",
        "# TYPE memwall_psi_some_seconds_total counter\n",
        "memwall_psi_some_seconds_total{command=\"train.py\",host=\"node1\",rank=\"3\"} 0.125\n",
        "# HELP memwall_psi_full_seconds_total Memory pressure stall (PSI full) since the start: the cgroup's, "
        "else the system's.\n",
        "# TYPE memwall_psi_full_seconds_total counter\n",
        "memwall_psi_full_seconds_total{command=\"train.py\",host=\"node1\",rank=\"3\"} 0\n",
        "# HELP memwall_cgroup_usage_bytes The memory cgroup's usage (memory.current).\n",
        "# TYPE memwall_cgroup_usage_bytes gauge\n",
        "memwall_cgroup_usage_bytes{command=\"train.py\",host=\"node1\",rank=\"3\"} 68000000\n",
        "# HELP memwall_cgroup_limit_bytes The memory cgroup's limit.\n",
        "# TYPE memwall_cgroup_limit_bytes gauge\n",
        "memwall_cgroup_limit_bytes{command=\"train.py\",host=\"node1\",rank=\"3\"} 134217728\n",
        "# HELP memwall_gpu_total_bytes Memory of each GPU.\n",
        "# TYPE memwall_gpu_total_bytes gauge\n",
        "memwall_gpu_total_bytes{command=\"train.py\",host=\"node1\",rank=\"3\",gpu=\"0\"} 85899345920\n",
        "memwall_gpu_total_bytes{command=\"train.py\",host=\"node1\",rank=\"3\",gpu=\"1\"} 85899345920\n",
        "# HELP memwall_gpu_used_bytes Used memory of each GPU, every process's.\n",
        "# TYPE memwall_gpu_used_bytes gauge\n",
        "memwall_gpu_used_bytes{command=\"train.py\",host=\"node1\",rank=\"3\",gpu=\"0\"} 2147483648\n",
        "# HELP memwall_gpu_tree_bytes GPU memory of the tree's processes on each GPU.\n",
        "# TYPE memwall_gpu_tree_bytes gauge\n",
        "memwall_gpu_tree_bytes{command=\"train.py\",host=\"node1\",rank=\"3\",gpu=\"0\"} 1073741824\n",
        "# HELP memwall_process_rss_bytes Resident memory of each live process (VmRSS).\n",
        "# TYPE memwall_process_rss_bytes gauge\n",
        "memwall_process_rss_bytes{command=\"train.py\",host=\"node1\",rank=\"3\",pid=\"100\",comm=\"python3\"} "
        "67108864\n",
        "memwall_process_rss_bytes{command=\"train.py\",host=\"node1\",rank=\"7\",pid=\"101\",comm=\"worker\"} "
        "4096\n",
        "# HELP memwall_process_swap_bytes Swapped-out memory of each live process (VmSwap).\n",
        "# TYPE memwall_process_swap_bytes gauge\n",
        "memwall_process_swap_bytes{command=\"train.py\",host=\"node1\",rank=\"3\",pid=\"100\",comm=\"python3\"} "
        "0\n",
        "memwall_process_swap_bytes{command=\"train.py\",host=\"node1\",rank=\"7\",pid=\"101\",comm=\"worker\"} "
        "8192\n",
        "# HELP memwall_process_gpu_bytes GPU memory of each live process, all GPUs.\n",
        "# TYPE memwall_process_gpu_bytes gauge\n",
        "memwall_process_gpu_bytes{command=\"train.py\",host=\"node1\",rank=\"3\",pid=\"100\",comm=\"python3\"} "
        "1073741824\n",
    };
    char want[8192] = "";
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) strcat(want, lines[i]);
    assert_string_equal(t, want);
    free(t);
}

/* Unknown values and families are left out; unknown labels are "" (every
 * series of a family has the same label names). */
static void unknowns_left_out(void **state)
{
    (void)state;
    mw_sample s = unknown_sample();
    mw_metrics_info in = {NULL, "", MW_RANK_NONE, 0};
    char *t = format(&s, &in);
    assert_string_equal(t, "# HELP memwall_up 1 while the watched command runs, 0 once it has ended.\n"
                           "# TYPE memwall_up gauge\n"
                           "memwall_up{command=\"\",host=\"\",rank=\"\"} 0\n"
                           "# HELP memwall_processes Live processes in the watched tree.\n"
                           "# TYPE memwall_processes gauge\n"
                           "memwall_processes{command=\"\",host=\"\",rank=\"\"} 0\n");
    free(t);
    /* NULL info: the same, up 0 */
    char *t2 = format(&s, NULL);
    assert_string_equal(t2, t = format(&s, &in));
    free(t);
    free(t2);
}

/* Label values: backslash, double quote and newline escaped (the format's
 * three escapes); other controls and malformed UTF-8 become '?';
 * well-formed UTF-8 stays. */
static void label_escaping(void **state)
{
    (void)state;
    mw_proc_sample p = {5, MW_RANK_NONE, "a\"b\\c\nd\x1b" "e", 1, MW_UNKNOWN, MW_UNKNOWN, 0};
    mw_sample s = unknown_sample();
    s.nprocs = 1;
    s.procs = &p;
    mw_metrics_info in = {"r\xc3\xa9sum\xc3\xa9 \xff.py", "h\"1", 0, 1};
    char *t = format(&s, &in);
    assert_non_null(strstr(t, "memwall_up{command=\"r\xc3\xa9sum\xc3\xa9 ?.py\",host=\"h\\\"1\",rank=\"0\"} 1\n"));
    assert_non_null(strstr(t, "memwall_process_rss_bytes{command=\"r\xc3\xa9sum\xc3\xa9 ?.py\",host=\"h\\\"1\","
                              "rank=\"0\",pid=\"5\",comm=\"a\\\"b\\\\c\\nd?e\"} 1\n"));
    /* no swap nor GPU known: those families are left out whole */
    assert_null(strstr(t, "memwall_process_swap_bytes"));
    assert_null(strstr(t, "memwall_process_gpu_bytes"));
    free(t);
    /* a comm of 32 bytes without a NUL stays within its array */
    mw_proc_sample full = {6, 1, {0}, 2, 0, MW_UNKNOWN, 0};
    memset(full.comm, 'x', sizeof full.comm);
    s.procs = &full;
    t = format(&s, &in);
    assert_non_null(strstr(t, "comm=\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"} 2\n"));
    free(t);
}

/* snprintf's contract: the whole length, at most cap bytes, NUL-ended. */
static void truncation(void **state)
{
    (void)state;
    mw_sample s = unknown_sample();
    mw_metrics_info in = {"x", "h", MW_RANK_NONE, 1};
    size_t n = mw_metrics_format(&s, &in, NULL, 0);
    char *whole = format(&s, &in);
    char small[40];
    memset(small, 'Z', sizeof small);
    assert_int_equal(mw_metrics_format(&s, &in, small, sizeof small), n);
    assert_int_equal(small[sizeof small - 1], '\0');
    assert_memory_equal(small, whole, sizeof small - 1);
    char one[1] = {'Z'};
    assert_int_equal(mw_metrics_format(&s, &in, one, 1), n);
    assert_int_equal(one[0], '\0');
    free(whole);
}

/* ---- the live arrays of mw_watch_run's samples -------------------------- */

typedef struct seen {
    int samples, max_nprocs, bad;
    uint64_t last_minor_total, max_proc_rss;
    char why[256];
} seen;

static void on_sample(const mw_sample *s, void *user)
{
    seen *v = user;
    v->samples++;
    uint64_t sum = 0;
    if (s->nprocs != s->processes && !v->bad) {
        v->bad = 1;
        snprintf(v->why, sizeof v->why, "nprocs %u but processes %u", s->nprocs, s->processes);
    }
    for (uint32_t i = 0; i < s->nprocs; i++) {
        const mw_proc_sample *p = &s->procs[i];
        if ((p->pid <= 0 || p->rank != MW_RANK_NONE || p->gpu_bytes != MW_UNKNOWN || !p->comm[0]) && !v->bad) {
            v->bad = 1;
            snprintf(v->why, sizeof v->why, "process %d: rank %d gpu %llu comm '%s'", p->pid, p->rank,
                     (unsigned long long)p->gpu_bytes, p->comm);
        }
        sum += p->rss_bytes;
        if (p->rss_bytes > v->max_proc_rss) v->max_proc_rss = p->rss_bytes;
    }
    if (s->nprocs > (uint32_t)v->max_nprocs) v->max_nprocs = (int)s->nprocs;
    if (sum != s->rss_bytes && !v->bad) {
        v->bad = 1;
        snprintf(v->why, sizeof v->why, "Σ process RSS %llu != tree RSS %llu", (unsigned long long)sum,
                 (unsigned long long)s->rss_bytes);
    }
    if ((s->peak_rss_bytes < s->rss_bytes || s->minor_faults_total < v->last_minor_total ||
         s->minor_faults_total < s->minor_faults || s->gpu_devices != 0 ||
         s->cgroup_limit_bytes != MW_UNKNOWN) && !v->bad) {
        v->bad = 1;
        snprintf(v->why, sizeof v->why, "peak %llu rss %llu minor total %llu (was %llu, live %llu) gpus %u",
                 (unsigned long long)s->peak_rss_bytes, (unsigned long long)s->rss_bytes,
                 (unsigned long long)s->minor_faults_total, (unsigned long long)v->last_minor_total,
                 (unsigned long long)s->minor_faults, s->gpu_devices);
    }
    v->last_minor_total = s->minor_faults_total;
}

static void live_arrays_of_a_tree(void **state)
{
    (void)state;
    const char *touch = getenv("MW_TOUCH");
    if (!touch) touch = "./mw-touch";
    /* a parent and 2 children, 32 MiB each, held 400 ms; then the children
     * exit before the parent (their faults must stay in the totals) */
    const char *argv[] = {touch, "--fork", "2", "--hold", "400ms", "32M", NULL};
    mw_watch_opts o;
    mw_watch_opts_init(&o);
    o.interval_seconds = 0.02;
    o.gpu = 0;
    seen v = {0};
    o.on_sample = on_sample;
    o.on_sample_user = &v;
    mw_watch_result *r = NULL;
    mw_err err;
    assert_int_equal(mw_watch_run(argv, &o, &r, &err), MW_OK);
    if (v.bad) fail_msg("%s", v.why);
    assert_true(v.samples >= 5);
    assert_int_equal(v.max_nprocs, 3);
    assert_true(v.max_proc_rss >= 32ull << 20);
    /* the last sample's totals are the result's (every process seen) */
    assert_int_equal(v.last_minor_total, r->minor_faults);
    mw_watch_result_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fixed_sample_exact_text),
        cmocka_unit_test(unknowns_left_out),
        cmocka_unit_test(label_escaping),
        cmocka_unit_test(truncation),
        cmocka_unit_test(live_arrays_of_a_tree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
