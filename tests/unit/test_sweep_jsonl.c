/* test_sweep_jsonl.c - the sweep's JSON Lines file read back by --resume
 * (a last line cut at every byte, a point without its newline, bad lines in
 * the middle, two points on one line), interrupted points in the analysis,
 * and a sweep stopped between points through mw_sweep_opts.cancel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"
#include "sweep/jsonl.h"
#include "common/test_hooks.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static mw_sweep_point point(uint32_t batch, mw_point_status status)
{
    mw_sweep_point p;
    memset(&p, 0, sizeof p);
    p.batch = batch;
    p.status = status;
    p.runs = 1;
    p.wall_seconds = 0.5;
    p.throughput = status == MW_POINT_OK ? 100.0 * batch : -1;
    p.peak_rss_bytes = (100ull << 20) + (10ull << 20) * batch;
    p.cgroup_peak_bytes = MW_UNKNOWN;
    p.swap_peak_bytes = p.swap_in_bytes = p.major_faults = p.refaults = 0;
    p.predicted_bytes = p.peak_gpu_bytes = MW_UNKNOWN;
    if (status == MW_POINT_INTERRUPTED) snprintf(p.message, sizeof p.message, "interrupted by SIGINT");
    return p;
}

/* The file of the given points, as the sweep writes it. */
static size_t file_of(const mw_sweep_point *p, size_t n, char *buf, size_t cap)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        char *line;
        size_t k;
        assert_int_equal(mw_sweep_point_json_line(&p[i], &line, &k), MW_OK);
        assert_true(k > 1 && line[k - 1] == '\n' && !memchr(line, '\n', k - 1));
        assert_true(len + k < cap);
        memcpy(buf + len, line, k);
        len += k;
        mw_free(line);
    }
    buf[len] = '\0';
    return len;
}

typedef struct seen {
    mw_sweep_point p[16];
    unsigned line[16];
    size_t n;
    int fail_at; /* > 0: the callback fails at this line */
} seen;

static mw_status collect(const mw_sweep_point *p, unsigned line, void *user, mw_err *err)
{
    seen *s = user;
    if (s->fail_at && (int)line == s->fail_at) {
        if (err) {
            err->status = MW_ERR_INVALID;
            snprintf(err->msg, sizeof err->msg, "refused at %u", line);
        }
        return MW_ERR_INVALID;
    }
    assert_true(s->n < 16);
    s->p[s->n] = *p;
    s->line[s->n++] = line;
    return MW_OK;
}

static void round_trip(void **state)
{
    (void)state;
    mw_sweep_point in[3] = {point(1, MW_POINT_OK), point(2, MW_POINT_OOM), point(4, MW_POINT_INTERRUPTED)};
    in[1].oom = MW_OOM_CGROUP;
    in[1].ctx = 512;
    snprintf(in[1].message, sizeof in[1].message, "killed \"at\" the cap");
    char buf[8192];
    size_t len = file_of(in, 3, buf, sizeof buf);
    seen s = {0};
    mw_jsonl_scan scan;
    mw_err err;
    assert_int_equal(mw_sweep_jsonl_scan(buf, len, "s.jsonl", collect, &s, &scan, &err), MW_OK);
    assert_int_equal(s.n, 3);
    assert_int_equal(scan.n_lines, 3);
    assert_int_equal(scan.keep_bytes, len);
    assert_int_equal(scan.cut_bytes, 0);
    assert_int_equal(scan.add_newline, 0);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(s.line[i], i + 1);
        assert_int_equal(s.p[i].batch, in[i].batch);
        assert_int_equal(s.p[i].status, in[i].status);
        assert_int_equal(s.p[i].peak_rss_bytes, in[i].peak_rss_bytes);
        assert_string_equal(s.p[i].message, in[i].message);
    }
    assert_int_equal(s.p[1].oom, MW_OOM_CGROUP);
    assert_int_equal(s.p[1].ctx, 512);
    assert_string_equal(mw_point_status_name(MW_POINT_INTERRUPTED), "interrupted");
    /* an empty file, and blank lines */
    assert_int_equal(mw_sweep_jsonl_scan("", 0, "s.jsonl", collect, &s, &scan, &err), MW_OK);
    assert_int_equal(scan.n_lines, 0);
    s.n = 0;
    char blanky[8300];
    snprintf(blanky, sizeof blanky, "\n  \n%s\n", buf);
    assert_int_equal(mw_sweep_jsonl_scan(blanky, strlen(blanky), "s.jsonl", collect, &s, &scan, &err), MW_OK);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.line[0], 3);
    assert_int_equal(scan.keep_bytes, strlen(blanky));
}

/* The last line cut at every byte: the whole points before it stay, the cut
 * goes; all but its '\n' is a whole point that only needs the newline. */
static void cut_at_every_byte(void **state)
{
    (void)state;
    mw_sweep_point in[3] = {point(1, MW_POINT_OK), point(2, MW_POINT_OK), point(3, MW_POINT_TIMEOUT)};
    char buf[8192];
    size_t len = file_of(in, 3, buf, sizeof buf);
    size_t start = len - 1;
    while (start > 0 && buf[start - 1] != '\n') start--;
    for (size_t cut = start + 1; cut < len; cut++) {
        seen s = {0};
        mw_jsonl_scan scan;
        mw_err err;
        assert_int_equal(mw_sweep_jsonl_scan(buf, cut, "s.jsonl", collect, &s, &scan, &err), MW_OK);
        if (cut == len - 1) {
            assert_int_equal(s.n, 3);
            assert_int_equal(scan.add_newline, 1);
            assert_int_equal(scan.keep_bytes, cut);
            assert_int_equal(scan.cut_bytes, 0);
        } else {
            assert_int_equal(s.n, 2);
            assert_int_equal(scan.add_newline, 0);
            assert_int_equal(scan.keep_bytes, start);
            assert_int_equal(scan.cut_bytes, cut - start);
            assert_int_equal(scan.cut_line, 3);
        }
    }
}

static void bad_lines(void **state)
{
    (void)state;
    mw_sweep_point in[2] = {point(1, MW_POINT_OK), point(2, MW_POINT_OK)};
    char one[4096], two[4096], text[16384];
    size_t l1 = file_of(in, 1, one, sizeof one);
    file_of(in + 1, 1, two, sizeof two);
    one[l1 - 1] = '\0'; /* without its newline */
    const char *bad[] = {
        "%s%s\n%s",                       /* two points on one line */
        "%s\n{\"batch\": 3, \"status\": \"weird\"}\n%s",  /* an unknown status */
        "%s\n{\"batch\": 0, \"status\": \"ok\"}\n%s",     /* batch 0 */
        "%s\n[1, 2]\n%s",                 /* not an object */
        "%s\n{\"batch\": 3, \"stat\n%s",  /* cut, then more lines */
        "%s\nnot json\n%s",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (i == 0) snprintf(text, sizeof text, bad[i], one, two, two);
        else snprintf(text, sizeof text, bad[i], one, two);
        seen s = {0};
        mw_jsonl_scan scan;
        mw_err err;
        memset(&err, 0, sizeof err);
        assert_int_equal(mw_sweep_jsonl_scan(text, strlen(text), "dir/s.jsonl", collect, &s, &scan, &err),
                         MW_ERR_INVALID);
        const char *want = i == 0 ? "dir/s.jsonl:1: not a sweep point" : "dir/s.jsonl:2: not a sweep point";
        if (!strstr(err.msg, want)) fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, want);
    }
    /* a NUL inside a line */
    char nul[4096];
    size_t l2 = file_of(in, 1, nul, sizeof nul);
    nul[5] = '\0';
    seen s = {0};
    mw_jsonl_scan scan;
    assert_int_equal(mw_sweep_jsonl_scan(nul, l2, "s.jsonl", collect, &s, &scan, NULL), MW_ERR_INVALID);
    /* the callback's refusal stops the scan with its status */
    size_t lt = file_of(in, 2, text, sizeof text);
    s.n = 0;
    s.fail_at = 2;
    mw_err err;
    assert_int_equal(mw_sweep_jsonl_scan(text, lt, "s.jsonl", collect, &s, &scan, &err), MW_ERR_INVALID);
    assert_string_equal(err.msg, "refused at 2");
    assert_int_equal(s.n, 1);
    /* the point parser alone: one object and nothing after it */
    mw_sweep_point p;
    assert_int_equal(mw_sweep_point_from_json(two, strlen(two), &p), 1);
    assert_int_equal(p.batch, 2);
    const char *trailing = "{\"batch\":1,\"status\":\"ok\"} x", *spaces = "{\"batch\":1,\"status\":\"ok\"}  \r";
    assert_int_equal(mw_sweep_point_from_json(trailing, strlen(trailing), &p), 0);
    assert_int_equal(mw_sweep_point_from_json(spaces, strlen(spaces), &p), 1);
    assert_int_equal(mw_sweep_point_from_json("", 0, &p), 0);
}

/* An interrupted point was not measured: no failure, no wall, no fit. */
static void interrupted_in_the_analysis(void **state)
{
    (void)state;
    mw_sweep_point p[3] = {point(1, MW_POINT_OK), point(2, MW_POINT_OK), point(4, MW_POINT_INTERRUPTED)};
    p[2].peak_rss_bytes = 1; /* far off the line: would spoil a fit that took it */
    p[2].swap_in_bytes = 1ull << 40; /* and would be a cliff */
    mw_verdict v[3];
    mw_sweep_analysis a;
    mw_sweep_analyze(p, 3, MW_SWEEP_BATCH, NULL, v, &a);
    assert_int_equal(a.max_fit, 2);
    assert_int_equal(a.first_fail, 0);
    assert_int_equal(a.cliff, 0);
    assert_true(a.fit.valid);
    assert_int_equal(a.fit.n_points, 2);
    assert_int_equal(v[2], MW_VERDICT_UNKNOWN);
    assert_int_equal(a.overall, MW_VERDICT_BANDWIDTH);
    /* only an interrupted point: nothing measured */
    mw_sweep_analyze(p + 2, 1, MW_SWEEP_BATCH, NULL, v, &a);
    assert_int_equal(a.overall, MW_VERDICT_UNKNOWN);
    assert_string_equal(a.reason, "no points measured");
}

/* mw_sweep_opts.cancel set between points (here by on_point, as a signal
 * handler would): the sweep stops before the next point, with what it
 * measured, and says by which signal. */
static volatile sig_atomic_t cancel_flag;

static void cancel_after_two(const mw_sweep_point *p, void *user)
{
    (void)user;
    if (p->batch == 2) cancel_flag = SIGTERM;
}

static void cancel_between_points(void **state)
{
    (void)state;
    char dir[] = "/tmp/mw-test-jsonl.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/s.jsonl", dir);
    static const char *const cmd[] = {"true", NULL};
    static const uint32_t batches[] = {1, 2, 3, 4, 5};
    mw_sweep_opts o;
    mw_sweep_opts_init(&o);
    o.cmd = cmd;
    o.batches = batches;
    o.n_batches = 5;
    o.jsonl_path = path;
    o.cancel = &cancel_flag;
    o.on_point = cancel_after_two;
    cancel_flag = 0;
    mw_sweep_result *r = NULL;
    mw_err err;
    assert_int_equal(mw_sweep_run(&o, &r, &err), MW_OK);
    assert_int_equal(r->n_points, 2);
    assert_int_equal(r->interrupted_signal, SIGTERM);
    assert_int_equal(r->stopped.status, MW_OK);
    assert_int_equal(r->points[1].status, MW_POINT_OK);
    assert_int_equal(r->analysis.max_fit, 2);
    mw_sweep_result_free(r);

    /* --resume: the two are kept, the rest run; already cancelled: nothing runs */
    cancel_flag = 0;
    o.on_point = NULL;
    o.resume = 1;
    assert_int_equal(mw_sweep_run(&o, &r, &err), MW_OK);
    assert_int_equal(r->n_resumed, 2);
    assert_int_equal(r->n_points, 5);
    assert_int_equal(r->interrupted_signal, 0);
    assert_string_equal(r->resume_note, "");
    mw_sweep_result_free(r);
    cancel_flag = SIGINT;
    static const uint32_t more[] = {6};
    o.batches = more;
    o.n_batches = 1;
    assert_int_equal(mw_sweep_run(&o, &r, &err), MW_OK);
    assert_int_equal(r->n_points, 5);
    assert_int_equal(r->interrupted_signal, SIGINT);
    mw_sweep_result_free(r);
    unlink(path);
    rmdir(dir);
}

/* Writing a point: a full device is an error with a message; an allocation
 * that fails while the line is built (cJSON would drop a key and carry on)
 * is refused, never written short. */
static void write_errors(void **state)
{
    (void)state;
    mw_sweep_point p = point(8, MW_POINT_OK);
    mw_err err;
    FILE *full = fopen("/dev/full", "w");
    if (full) {
        assert_int_equal(mw_sweep_point_jsonl(&p, full, &err), MW_ERR_IO);
        assert_non_null(strstr(err.msg, "batch 8"));
        assert_non_null(strstr(err.msg, "No space left"));
        fclose(full);
    }
    int refused = 0, written = 0;
    for (uint64_t n = 1; n < 400 && written < 3; n++) {
        char *line = NULL;
        size_t len = 0;
        mw_mem_fail_after(n);
        mw_status st = mw_sweep_point_json_line(&p, &line, &len);
        mw_mem_fail_after(0);
        if (st == MW_OK) {
            /* a whole line: as long as the one built without failures */
            char *ref = NULL;
            size_t ref_len = 0;
            assert_int_equal(mw_sweep_point_json_line(&p, &ref, &ref_len), MW_OK);
            assert_int_equal(len, ref_len);
            assert_memory_equal(line, ref, len);
            mw_free(ref);
            written++;
        } else {
            assert_int_equal(st, MW_ERR_NOMEM);
            assert_null(line);
            refused++;
        }
        mw_free(line);
    }
    assert_true(refused > 10); /* a line takes tens of allocations */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(cut_at_every_byte),
        cmocka_unit_test(bad_lines),
        cmocka_unit_test(interrupted_in_the_analysis),
        cmocka_unit_test(cancel_between_points),
        cmocka_unit_test(write_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
