/* test_sweep_budget.c - the budget sweep (issue #15, docs/PAGING.md "In the
 * sweep"): --budgets lists, a point's figures from its run's "paging"
 * object, the JSON Lines fields, the verdict's wording, and the options a
 * budget sweep refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"
#include "sweep/jsonl.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- --budgets ------------------------------------------------------------ */

static void test_parse_percentages(void **state)
{
    (void)state;
    mw_sweep_budget b[8];
    size_t n = 99;
    mw_err err;
    assert_int_equal(mw_sweep_budgets_parse("25%,50%,75%,100%", b, 8, &n, &err), MW_OK);
    assert_int_equal(n, 4);
    assert_true(b[0].percent == 25.0 && b[1].percent == 50.0 && b[2].percent == 75.0 && b[3].percent == 100.0);
    for (size_t i = 0; i < n; i++) assert_int_equal(b[i].bytes, 0);
    /* above 100%: nothing streamed, allowed; fractions too */
    assert_int_equal(mw_sweep_budgets_parse("12.5%,150%", b, 8, &n, &err), MW_OK);
    assert_int_equal(n, 2);
    assert_true(b[0].percent == 12.5 && b[1].percent == 150.0);
}

static void test_parse_sizes(void **state)
{
    (void)state;
    mw_sweep_budget b[8];
    size_t n = 0;
    mw_err err;
    assert_int_equal(mw_sweep_budgets_parse("200M,1G,50%", b, 8, &n, &err), MW_OK);
    assert_int_equal(n, 3);
    assert_int_equal(b[0].bytes, 200ull << 20);
    assert_true(b[0].percent == 0);
    assert_int_equal(b[1].bytes, 1ull << 30);
    assert_true(b[2].percent == 50.0 && b[2].bytes == 0);
}

static void expect_bad(const char *text, const char *needle)
{
    mw_sweep_budget b[4];
    size_t n = 0;
    mw_err err;
    memset(&err, 0, sizeof err);
    assert_int_equal(mw_sweep_budgets_parse(text, b, 4, &n, &err), MW_ERR_INVALID);
    if (!strstr(err.msg, needle)) fail_msg("'%s': message \"%s\" lacks \"%s\"", text, err.msg, needle);
}

static void test_parse_errors(void **state)
{
    (void)state;
    expect_bad("", "--budgets needs a list");
    expect_bad("0%", "above 0%");
    expect_bad("-5%", "above 0%");
    expect_bad("1001%", "up to 1000%");
    expect_bad("50%%", "no share of the weights");
    expect_bad("x%", "no share of the weights");
    expect_bad("50%,", "an empty element 2");
    expect_bad(",50%", "an empty element 1");
    expect_bad("50%,,1G", "an empty element 2");
    expect_bad("100", "below 4 KiB");
    expect_bad("abc", "'abc'");
    expect_bad("0", "below 4 KiB");
    expect_bad("1G,2G,3G,4G,5G", "more than 4 budgets");
}

/* ---- a point's figures from its run's JSON ----------------------------- */

static mw_sweep_point budget_point(uint64_t budget, uint32_t layers, uint64_t step, double bps, double thr)
{
    mw_sweep_point p;
    memset(&p, 0, sizeof p);
    p.batch = 1;
    p.status = MW_POINT_OK;
    p.runs = 1;
    p.wall_seconds = 1.0;
    p.throughput = thr;
    p.throughput_min = p.throughput_max = -1;
    p.peak_rss_bytes = budget + (20ull << 20);
    p.cgroup_peak_bytes = budget + (16ull << 20);
    p.swap_peak_bytes = p.swap_in_bytes = p.major_faults = p.refaults = 0;
    p.predicted_bytes = p.peak_gpu_bytes = p.file_cached_bytes = p.peak_process_rss_bytes = MW_UNKNOWN;
    p.peak_rss_anon_bytes = p.peak_rss_file_bytes = MW_UNKNOWN;
    p.max_processes = 1;
    p.budget_bytes = budget;
    p.mem_limit_bytes = budget + (64ull << 20);
    p.streamed_layers = layers;
    p.stream_bytes_per_step = step;
    p.stream_bytes_per_second = bps;
    return p;
}

static void paging_of(const char *json, mw_sweep_point *p)
{
    cJSON *j = cJSON_Parse(json);
    assert_non_null(j);
    mw_sweep_paging_from_json(cJSON_GetObjectItemCaseSensitive(j, "paging"), p);
    cJSON_Delete(j);
}

static void test_paging_from_run_json(void **state)
{
    (void)state;
    mw_sweep_point p = budget_point(4 << 20, 0, MW_UNKNOWN, -1, 10);
    /* the engine's keys (issue #15): the decode figure wins over the split's */
    paging_of("{\"paging\":{\"streamed_layers\":3,\"resident_layers\":1,\"slots\":3,\"resident_bytes\":4000000,"
              "\"budget_bytes\":4194304,\"streamed_bytes_per_step\":6000000,\"stream_bytes_read\":120000000,"
              "\"stream_read_seconds\":0.5,\"stream_wait_seconds\":0.1,\"stream_decode_bytes_per_step\":5999000,"
              "\"io\":\"direct\"}}", &p);
    assert_int_equal(p.streamed_layers, 3);
    assert_int_equal(p.stream_bytes_per_step, 5999000);
    assert_true(p.stream_bytes_per_second == 240000000.0);
    /* without the decode figure: the split's */
    p = budget_point(4 << 20, 0, MW_UNKNOWN, -1, 10);
    paging_of("{\"paging\":{\"streamed_layers\":2,\"streamed_bytes_per_step\":6000000}}", &p);
    assert_int_equal(p.stream_bytes_per_step, 6000000);
    assert_true(p.stream_bytes_per_second < 0); /* no read time: unknown */
    /* null: run says nothing was streamed */
    p = budget_point(4 << 20, 7, MW_UNKNOWN, -1, 10);
    paging_of("{\"paging\":null}", &p);
    assert_int_equal(p.streamed_layers, 0);
    assert_int_equal(p.stream_bytes_per_step, 0);
    /* absent: unknown, untouched */
    p = budget_point(4 << 20, 0, MW_UNKNOWN, -1, 10);
    paging_of("{\"decode_tokens_per_second\":3}", &p);
    assert_true(p.stream_bytes_per_step == MW_UNKNOWN);
    /* an object of no streaming: 0 bytes a step */
    p = budget_point(4 << 20, 0, MW_UNKNOWN, -1, 10);
    paging_of("{\"paging\":{\"streamed_layers\":0}}", &p);
    assert_int_equal(p.stream_bytes_per_step, 0);
}

/* ---- the JSON Lines fields ------------------------------------------------ */

static void test_jsonl_round_trip(void **state)
{
    (void)state;
    mw_sweep_point p = budget_point(3000000, 5, 1400000000ull, 9e8, 2.5), q;
    char *line;
    size_t len;
    assert_int_equal(mw_sweep_point_json_line(&p, &line, &len), MW_OK);
    assert_non_null(strstr(line, "\"budget_bytes\":3000000"));
    assert_non_null(strstr(line, "\"streamed_layers\":5"));
    assert_non_null(strstr(line, "\"stream_bytes_per_step\":1400000000"));
    assert_non_null(strstr(line, "\"stream_bytes_per_second\":900000000"));
    assert_int_equal(mw_sweep_point_from_json(line, len - 1, &q), 1);
    mw_free(line);
    assert_int_equal(q.budget_bytes, p.budget_bytes);
    assert_int_equal(q.mem_limit_bytes, p.mem_limit_bytes);
    assert_int_equal(q.streamed_layers, 5);
    assert_int_equal(q.stream_bytes_per_step, p.stream_bytes_per_step);
    assert_true(q.stream_bytes_per_second == 9e8);
    /* unknown figures are null and read back unknown */
    p.stream_bytes_per_step = MW_UNKNOWN;
    p.stream_bytes_per_second = -1;
    assert_int_equal(mw_sweep_point_json_line(&p, &line, &len), MW_OK);
    assert_non_null(strstr(line, "\"stream_bytes_per_step\":null"));
    assert_int_equal(mw_sweep_point_from_json(line, len - 1, &q), 1);
    mw_free(line);
    assert_true(q.stream_bytes_per_step == MW_UNKNOWN && q.stream_bytes_per_second < 0);
    /* another sweep's point has none of the keys, and reads back without a budget */
    p.budget_bytes = 0;
    assert_int_equal(mw_sweep_point_json_line(&p, &line, &len), MW_OK);
    assert_null(strstr(line, "budget_bytes"));
    assert_null(strstr(line, "stream_bytes"));
    assert_null(strstr(line, "mem_limit_bytes"));
    assert_int_equal(mw_sweep_point_from_json(line, len - 1, &q), 1);
    mw_free(line);
    assert_int_equal(q.budget_bytes, 0);
    assert_true(q.mem_limit_bytes == MW_UNKNOWN && q.stream_bytes_per_step == MW_UNKNOWN);
}

/* ---- the verdict --------------------------------------------------------- */

static void test_axis(void **state)
{
    (void)state;
    mw_sweep_point p = budget_point(3ull << 30, 0, 0, -1, 1);
    assert_string_equal(mw_sweep_axis_name(MW_SWEEP_BUDGET), "budget");
    assert_int_equal(mw_sweep_point_x(&p, MW_SWEEP_BUDGET), 3u << 20); /* KiB */
    p.budget_bytes = 1ull << 50;
    assert_int_equal(mw_sweep_point_x(&p, MW_SWEEP_BUDGET), UINT32_MAX);
}

static void test_verdict_paging_with_disk(void **state)
{
    (void)state;
    mw_sweep_point p[3] = {
        budget_point(2000ull << 20, 8, 1400000000ull, 0.9e9, 0.6),  /* streams */
        budget_point(3000ull << 20, 4, 700000000ull, 0.92e9, 1.2),  /* streams less */
        budget_point(4200ull << 20, 0, 0, -1, 9.5),                  /* all resident */
    };
    mw_ceilings c;
    memset(&c, 0, sizeof c);
    c.dram_read_bytes_per_second = 20e9;
    c.peak_flops_f32 = 100e9;
    c.disk_read_bytes_per_second = 1.0e9;
    mw_verdict v[3];
    mw_sweep_analysis an;
    mw_sweep_analyze_ceilings(p, 3, MW_SWEEP_BUDGET, NULL, &c, v, &an);
    assert_int_equal(an.overall, MW_VERDICT_PAGING);
    assert_int_equal(v[0], MW_VERDICT_PAGING);
    assert_int_equal(v[1], MW_VERDICT_PAGING);
    assert_int_equal(v[2], MW_VERDICT_FITS);
    /* the point of most paging (the smallest budget) names the regime */
    if (!strstr(an.reason, "streams 1.4 GB per step at 0.90 of the disk's bandwidth (0.9 of 1 GB/s"))
        fail_msg("reason: %s", an.reason);
    assert_non_null(strstr(an.reason, "at budget 1.95 GiB (8 layers streamed), 0.60 items/s"));
    /* and where the budget stops mattering */
    if (!strstr(an.reason, "no paging from budget 4.10 GiB up (every layer resident, 9.50 items/s): the budget "
                           "stops mattering there"))
        fail_msg("reason: %s", an.reason);
    assert_non_null(strstr(an.judged, "disk_cold"));
    assert_int_equal(an.max_fit, 2000u << 10); /* the smallest budget that ran, KiB */
    assert_int_equal(an.first_fail, 0);
    assert_int_equal(an.knee, 0);
    assert_int_equal(an.cliff, 0);
    /* memory against the budget: the fit's slope is a KiB's bytes */
    assert_true(an.fit.valid);
    assert_true(an.fit.per_item_bytes > 1023.9 && an.fit.per_item_bytes < 1024.1);
}

static void test_verdict_without_disk(void **state)
{
    (void)state;
    mw_sweep_point p[2] = {
        budget_point(4ull << 20, 3, 4190000, 0.85e9, 50),
        budget_point(8ull << 20, 2, 2000000, 0.8e9, 80),
    };
    mw_verdict v[2];
    mw_sweep_analysis an;
    mw_sweep_analyze(p, 2, MW_SWEEP_BUDGET, NULL, v, &an);
    assert_int_equal(an.overall, MW_VERDICT_PAGING);
    if (!strstr(an.reason, "streams 4.19 MB per step at 0.85 GB/s (no disk_cold tier in the machine profile"))
        fail_msg("reason: %s", an.reason);
    assert_non_null(strstr(an.reason, "every budget that ran streamed"));
    assert_null(strstr(an.judged, "disk_cold"));
}

static void test_verdict_fits_and_capacity(void **state)
{
    (void)state;
    mw_sweep_point p[2] = {budget_point(4ull << 20, 0, 0, -1, 50), budget_point(8ull << 20, 0, 0, -1, 52)};
    mw_verdict v[2];
    mw_sweep_analysis an;
    mw_sweep_analyze(p, 2, MW_SWEEP_BUDGET, NULL, v, &an);
    assert_int_equal(an.overall, MW_VERDICT_FITS);
    assert_non_null(strstr(an.reason, "no paging from budget 4.00 MiB up"));
    /* out of memory at the smaller budget, paging at the larger */
    p[0].status = MW_POINT_OOM;
    p[0].oom = MW_OOM_CGROUP;
    p[0].throughput = -1;
    p[1] = budget_point(8ull << 20, 2, 3000000, 1e9, 40);
    mw_sweep_analyze(p, 2, MW_SWEEP_BUDGET, NULL, v, &an);
    assert_int_equal(v[0], MW_VERDICT_CAPACITY);
    assert_int_equal(v[1], MW_VERDICT_PAGING);
    assert_int_equal(an.overall, MW_VERDICT_PAGING);
    assert_non_null(strstr(an.reason, "out of memory at budget 4.00 MiB"));
    assert_int_equal(an.first_fail, 4u << 10);
    /* nothing ran: capacity */
    p[1].status = MW_POINT_OOM;
    mw_sweep_analyze(p, 2, MW_SWEEP_BUDGET, NULL, v, &an);
    assert_int_equal(an.overall, MW_VERDICT_CAPACITY);
    assert_int_equal(an.max_fit, 0);
}

/* ---- the reports ----------------------------------------------------------- */

static char *report_of(const mw_sweep_result *r, int which)
{
    static char buf[16384];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    assert_non_null(f);
    mw_err err;
    mw_status st = which == 0 ? mw_sweep_report_text(r, f, 0, &err)
                 : which == 1 ? mw_sweep_report_json(r, f, &err) : mw_sweep_report_csv(r, f, &err);
    assert_int_equal(st, MW_OK);
    fclose(f);
    return buf;
}

static void test_reports(void **state)
{
    (void)state;
    mw_sweep_point p[2] = {
        budget_point(2000ull << 20, 8, 1400000000ull, 0.9e9, 0.6),
        budget_point(4200ull << 20, 0, 0, -1, 9.5),
    };
    mw_verdict v[2];
    mw_sweep_result r;
    memset(&r, 0, sizeof r);
    r.n_points = 2;
    r.points = p;
    r.verdicts = v;
    r.mem_limit_bytes = MW_UNLIMITED;
    r.weights_bytes = 4000ull << 20;
    r.ceilings.disk_read_bytes_per_second = 1e9;
    snprintf(r.workload, sizeof r.workload, "memwall run m.gguf --batch 1 --mem-budget {budget}");
    mw_sweep_analyze_ceilings(p, 2, MW_SWEEP_BUDGET, NULL, &r.ceilings, v, &r.analysis);
    const char *t = report_of(&r, 0);
    /* budget, share, status, cap, throughput, peak, layers, per step, GB/s, of disk, verdict */
    if (!strstr(t, "1.95 GiB    50% ok         2.02 GiB        0.6/s     1.97 GiB        8      1.40 GB  "
                   "0.90 GB/s      0.90  paging\n"))
        fail_msg("text:\n%s", strstr(t, "budget   of W"));
    assert_non_null(strstr(t, "of W: the budget's share of the weights (3.91 GiB"));
    assert_non_null(strstr(t, "smallest budget that ran to the end: 1.95 GiB"));
    assert_non_null(strstr(t, "fit: "));
    assert_non_null(strstr(t, "per KiB of budget"));
    assert_non_null(strstr(t, "verdict: paging — streams 1.4 GB per step at 0.90 of the disk's bandwidth"));
    const char *j = report_of(&r, 1);
    cJSON *doc = cJSON_Parse(j);
    assert_non_null(doc);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(doc, "axis")->valuestring, "budget");
    assert_true(cJSON_GetObjectItemCaseSensitive(doc, "weights_bytes")->valuedouble == (double)(4000ull << 20));
    assert_true(cJSON_GetObjectItemCaseSensitive(doc, "disk_read_bytes_per_second")->valuedouble == 1e9);
    assert_true(cJSON_GetObjectItemCaseSensitive(doc, "max_fit_budget")->valuedouble == 2000 * 1024);
    const cJSON *p0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "points"), 0);
    assert_true(cJSON_GetObjectItemCaseSensitive(p0, "stream_bytes_per_step")->valuedouble == 1.4e9);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(p0, "verdict")->valuestring, "paging");
    cJSON_Delete(doc);
    const char *c = report_of(&r, 2);
    assert_non_null(strstr(c, ",budget_bytes,mem_limit_bytes,streamed_layers,stream_bytes_per_step,"
                              "stream_bytes_per_second\n"));
    assert_non_null(strstr(c, ",2097152000,2164260864,8,1400000000,900000000\n"));
}

/* ---- options a budget sweep refuses ------------------------------------- */

static void expect_refused(const mw_sweep_opts *o, const char *needle)
{
    mw_sweep_result *r = (mw_sweep_result *)1;
    mw_err err;
    memset(&err, 0, sizeof err);
    assert_int_equal(mw_sweep_run(o, &r, &err), MW_ERR_INVALID);
    assert_null(r);
    if (!strstr(err.msg, needle)) fail_msg("message \"%s\" lacks \"%s\"", err.msg, needle);
}

static void test_refused_options(void **state)
{
    (void)state;
    static const mw_sweep_budget half = {0, 50};
    static const char *const cmd[] = {"true", NULL};
    mw_sweep_opts o;
    mw_sweep_opts_init(&o);
    o.axis = MW_SWEEP_BUDGET;
    o.memwall_path = "/bin/false";
    expect_refused(&o, "needs a list of budgets");
    o.budgets = &half;
    o.n_budgets = 1;
    expect_refused(&o, "GGUF file"); /* the demo */
    o.cmd = cmd;
    expect_refused(&o, "give a model, not a command");
    o.cmd = NULL;
    o.model = "/nonexistent/model.gguf";
    static const mw_sweep_budget zero = {0, 0};
    o.budgets = &zero;
    expect_refused(&o, "budget 1 of the list is 0");
}

/* ---- end to end, with a stand-in for `memwall run --mem-budget` ---------- */

/* A script in the engine's place: it says which --mem-budget and --prefetch
 * it was given (in the log), and answers as run --json does: streaming
 * below 8 MB, all resident from there. */
static const char *const FAKE_RUN =
    "#!/bin/sh\n"
    "b= p= prev=\n"
    "for a; do case $prev in --mem-budget) b=$a;; --prefetch) p=$a;; esac; prev=$a; done\n"
    "[ -n \"$b\" ] || { echo 'no --mem-budget' >&2; exit 5; }\n"
    "echo \"$b $p\" >> \"$(dirname \"$0\")/log\"\n"
    "if [ \"$b\" -ge 8000000 ]; then echo '{\"decode_tokens_per_second\": 20, \"paging\": null}'\n"
    "else echo '{\"decode_tokens_per_second\": 10, \"paging\": {\"streamed_layers\": 2, "
    "\"streamed_bytes_per_step\": 5000000, \"stream_bytes_read\": 1000000, \"stream_read_seconds\": 0.002}}'\n"
    "fi\n";

static char dir[256];

static void write_text(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static size_t log_lines(char *buf, size_t cap)
{
    char path[300];
    snprintf(path, sizeof path, "%s/log", dir);
    FILE *f = fopen(path, "r");
    buf[0] = '\0';
    if (!f) return 0;
    size_t n = fread(buf, 1, cap - 1, f), lines = 0;
    fclose(f);
    buf[n] = '\0';
    for (size_t i = 0; i < n; i++) lines += buf[i] == '\n';
    return lines;
}

static void test_end_to_end(void **state)
{
    (void)state;
    const char *src = getenv("MW_SOURCE_DIR");
    if (!src) skip();
    char model[512], fake[300], jsonl[300], log[1024];
    snprintf(model, sizeof model, "%s/models/tiny.gguf", src);
    const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(dir, sizeof dir, "%s/mw-budget-XXXXXX", tmp);
    assert_non_null(mkdtemp(dir));
    snprintf(fake, sizeof fake, "%s/memwall", dir);
    snprintf(jsonl, sizeof jsonl, "%s/points.jsonl", dir);
    write_text(fake, FAKE_RUN, 0755);
    mw_sweep_budget budgets[4];
    size_t n;
    mw_err err;
    assert_int_equal(mw_sweep_budgets_parse("50%,100%,3M", budgets, 4, &n, &err), MW_OK);
    mw_sweep_opts o;
    mw_sweep_opts_init(&o);
    o.model = model;
    o.memwall_path = fake;
    o.axis = MW_SWEEP_BUDGET;
    o.budgets = budgets;
    o.n_budgets = n;
    o.prefetch_layers = 3;
    o.keep_page_cache = 1;
    o.jsonl_path = jsonl;
    mw_sweep_result *r = NULL;
    mw_status st = mw_sweep_run(&o, &r, &err);
    if (st != MW_OK && (strstr(err.msg, "cgroup") || strstr(err.msg, "systemd"))) skip(); /* no cgroup here */
    if (st != MW_OK) fail_msg("%s", err.msg);
    assert_int_equal(r->n_points, 3);
    assert_true(r->weights_bytes > 0);
    assert_true(r->mem_limit_bytes == MW_UNLIMITED); /* each point has its own */
    const uint64_t half = (r->weights_bytes + 1) / 2;
    assert_int_equal(r->points[0].budget_bytes, half);
    assert_int_equal(r->points[1].budget_bytes, r->weights_bytes);
    assert_int_equal(r->points[2].budget_bytes, 3ull << 20);
    for (size_t i = 0; i < 3; i++) {
        const mw_sweep_point *p = &r->points[i];
        if (p->status != MW_POINT_OK) fail_msg("point %zu: %s (%s)", i, mw_point_status_name(p->status), p->message);
        assert_int_equal(p->batch, 1);
        assert_true(p->mem_limit_bytes != MW_UNKNOWN &&
                    p->mem_limit_bytes >= p->budget_bytes + MW_SWEEP_BUDGET_MARGIN_BYTES);
    }
    /* the tiny model's weights are 8.7 MB: the half and 3 MiB stream, all of them do not */
    assert_int_equal(r->points[0].streamed_layers, 2);
    assert_int_equal(r->points[0].stream_bytes_per_step, 5000000);
    assert_true(r->points[0].stream_bytes_per_second == 5e8);
    assert_true(r->points[0].throughput == 10);
    assert_int_equal(r->points[1].streamed_layers, 0);
    assert_int_equal(r->points[1].stream_bytes_per_step, 0);
    assert_int_equal(r->verdicts[0], MW_VERDICT_PAGING);
    assert_int_equal(r->verdicts[1], MW_VERDICT_FITS);
    assert_int_equal(r->analysis.overall, MW_VERDICT_PAGING);
    assert_non_null(strstr(r->analysis.reason, "streams 5 MB per step at 0.5 GB/s"));
    assert_non_null(strstr(r->workload, "--mem-budget {budget} --prefetch 3"));
    mw_sweep_result_free(r);
    /* what the engine was given: each budget in bytes, the prefetch */
    assert_int_equal(log_lines(log, sizeof log), 3);
    char want[64];
    snprintf(want, sizeof want, "%llu 3\n", (unsigned long long)half);
    assert_non_null(strstr(log, want));
    assert_non_null(strstr(log, "3145728 3\n"));
    /* --resume: all three from the file, nothing runs again */
    o.resume = 1;
    assert_int_equal(mw_sweep_run(&o, &r, &err), MW_OK);
    assert_int_equal(r->n_resumed, 3);
    assert_int_equal(r->n_points, 3);
    assert_int_equal(r->points[0].streamed_layers, 2);
    assert_int_equal(r->analysis.overall, MW_VERDICT_PAGING);
    mw_sweep_result_free(r);
    assert_int_equal(log_lines(log, sizeof log), 3);
    /* another batch's file is not this sweep's */
    o.batch = 2;
    r = NULL;
    assert_int_equal(mw_sweep_run(&o, &r, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "not of this budget sweep"));
    char path[300];
    snprintf(path, sizeof path, "%s/log", dir);
    unlink(path);
    unlink(jsonl);
    unlink(fake);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_percentages),
        cmocka_unit_test(test_parse_sizes),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_paging_from_run_json),
        cmocka_unit_test(test_jsonl_round_trip),
        cmocka_unit_test(test_axis),
        cmocka_unit_test(test_verdict_paging_with_disk),
        cmocka_unit_test(test_verdict_without_disk),
        cmocka_unit_test(test_verdict_fits_and_capacity),
        cmocka_unit_test(test_reports),
        cmocka_unit_test(test_refused_options),
        cmocka_unit_test(test_end_to_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
