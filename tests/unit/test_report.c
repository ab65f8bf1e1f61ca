/* test_report.c - every report says when it cannot be written: to a full
 * device (/dev/full) each returns MW_ERR_IO with a message that names the
 * report and the reason, as the CLI then prints it. The output is small
 * enough to stay in stdio's buffer, so only the report's own flush sees
 * the failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"

#include <cjson/cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static FILE *open_full(void)
{
    FILE *f = fopen("/dev/full", "w");
    if (!f) skip();
    return f;
}

/* The status and message of one write to /dev/full. */
static void expect_io_error(mw_status st, const mw_err *err, const char *what)
{
    assert_int_equal(st, MW_ERR_IO);
    assert_int_equal(err->status, MW_ERR_IO);
    if (!strstr(err->msg, what) || !strstr(err->msg, "No space left on device"))
        fail_msg("message '%s' should name '%s' and the reason", err->msg, what);
}

static void setup_sweep(mw_sweep_result *r, mw_sweep_point *pt, mw_verdict *v)
{
    memset(r, 0, sizeof *r);
    memset(pt, 0, sizeof *pt);
    pt->batch = 1;
    pt->status = MW_POINT_OK;
    pt->runs = 1;
    pt->wall_seconds = 1;
    pt->throughput = 10;
    pt->peak_rss_bytes = 100u << 20;
    pt->cgroup_peak_bytes = 100u << 20;
    pt->swap_peak_bytes = pt->swap_in_bytes = pt->major_faults = pt->refaults = 0;
    pt->psi_some_seconds = pt->psi_full_seconds = -1;
    pt->predicted_bytes = pt->peak_gpu_bytes = MW_UNKNOWN;
    pt->peak_rss_anon_bytes = pt->peak_rss_file_bytes = pt->file_cached_bytes = MW_UNKNOWN;
    pt->peak_process_rss_bytes = MW_UNKNOWN;
    pt->throughput_min = pt->throughput_max = -1;
    *v = MW_VERDICT_BANDWIDTH;
    r->n_points = 1;
    r->points = pt;
    r->verdicts = v;
    r->mem_limit_bytes = 1ull << 30;
    snprintf(r->workload, sizeof r->workload, "true");
    mw_sweep_analyze(pt, 1, MW_SWEEP_BATCH, NULL, NULL, &r->analysis);
}

static void watch_reports(void **state)
{
    (void)state;
    char *argv[] = {"true", NULL};
    mw_watch_result res;
    memset(&res, 0, sizeof res);
    res.argv = argv;
    res.peak_pss_bytes = res.peak_gpu_bytes = MW_UNKNOWN;
    res.psi_some_seconds = res.psi_full_seconds = -1;
    mw_err err;
    FILE *f = open_full();
    expect_io_error(mw_watch_report_text(&res, f, 0, &err), &err, "summary");
    fclose(f);
    f = open_full();
    expect_io_error(mw_watch_report_json(&res, f, &err), &err, "JSON report");
    fclose(f);
    /* without an mw_err: the status alone */
    f = open_full();
    assert_int_equal(mw_watch_report_text(&res, f, 0, NULL), MW_ERR_IO);
    fclose(f);
}

static void timeline_writes(void **state)
{
    (void)state;
    mw_timeline *tl = NULL;
    mw_err err;
    if (access("/dev/full", W_OK) != 0) skip();
    /* CSV writes its header at once */
    expect_io_error(mw_timeline_open("/dev/full", MW_TIMELINE_CSV, &tl, &err), &err, "timeline");
    assert_null(tl);
    assert_int_equal(mw_timeline_open("/dev/full", MW_TIMELINE_JSONL, &tl, &err), MW_OK);
    mw_sample s;
    memset(&s, 0, sizeof s);
    s.pss_bytes = s.cgroup_bytes = s.gpu_bytes = s.gpu_device_used_bytes = MW_UNKNOWN;
    s.psi_some_seconds = s.psi_full_seconds = -1;
    expect_io_error(mw_timeline_write(tl, &s, &err), &err, "timeline");
    mw_timeline_close(tl);
}

static void model_and_plan_reports(void **state)
{
    (void)state;
    mw_model *m = NULL;
    mw_err err;
    assert_int_equal(mw_model_open("llama-3-8b", &m, &err), MW_OK);
    FILE *f = open_full();
    expect_io_error(mw_model_report_text(m, f, 0, 10, &err), &err, "model report");
    fclose(f);
    f = open_full();
    expect_io_error(mw_model_report_json(m, f, &err), &err, "JSON report");
    fclose(f);

    mw_plan_opts o;
    mw_plan_opts_init(&o);
    mw_plan base;
    mw_plan_target t;
    memset(&t, 0, sizeof t);
    assert_int_equal(mw_plan_compute(m, &o, &base, &err), MW_OK);
    o.mem_bytes = 16ull << 30;
    snprintf(t.name, sizeof t.name, "--mem");
    assert_int_equal(mw_plan_compute(m, &o, &t.plan, &err), MW_OK);
    f = open_full();
    expect_io_error(mw_plan_report_text(m, &base, &t, 1, NULL, f, 0, &err), &err, "plan report");
    fclose(f);
    f = open_full();
    expect_io_error(mw_plan_report_json(m, &base, &t, 1, NULL, f, &err), &err, "JSON report");
    fclose(f);
    mw_model_free(m);
}

static void run_reports(void **state)
{
    (void)state;
    mw_run_result r;
    memset(&r, 0, sizeof r);
    snprintf(r.model, sizeof r.model, "demo");
    r.batch = 1;
    r.threads = 1;
    mw_err err;
    FILE *f = open_full();
    expect_io_error(mw_run_report_text(&r, NULL, f, 0, &err), &err, "run report");
    fclose(f);
    f = open_full();
    expect_io_error(mw_run_report_json(&r, NULL, f, &err), &err, "JSON report");
    fclose(f);
}

static void sweep_reports(void **state)
{
    (void)state;
    mw_sweep_result r;
    mw_sweep_point pt;
    mw_verdict v;
    setup_sweep(&r, &pt, &v);
    mw_err err;
    FILE *f = open_full();
    expect_io_error(mw_sweep_report_text(&r, f, 0, &err), &err, "sweep report");
    fclose(f);
    f = open_full();
    expect_io_error(mw_sweep_report_json(&r, f, &err), &err, "JSON report");
    fclose(f);
    f = open_full();
    expect_io_error(mw_sweep_report_csv(&r, f, &err), &err, "CSV report");
    fclose(f);
    f = open_full();
    expect_io_error(mw_sweep_report_svg(&r, f, &err), &err, "SVG");
    fclose(f);
}

/* The same reports to a working stream succeed (the flush is no error). */
static void reports_to_a_file(void **state)
{
    (void)state;
    mw_sweep_result r;
    mw_sweep_point pt;
    mw_verdict v;
    setup_sweep(&r, &pt, &v);
    FILE *f = tmpfile();
    assert_non_null(f);
    mw_err err;
    assert_int_equal(mw_sweep_report_text(&r, f, 0, &err), MW_OK);
    assert_int_equal(mw_sweep_report_csv(&r, f, &err), MW_OK);
    assert_int_equal(mw_sweep_report_json(&r, f, &err), MW_OK);
    assert_true(ftell(f) > 0);
    fclose(f);
}

/* A report written to memory. */
static char *report_to_memory(const mw_sweep_result *r, int which)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    mw_err err;
    mw_status st = which == 0 ? mw_sweep_report_text(r, f, 0, &err)
                 : which == 1 ? mw_sweep_report_csv(r, f, &err)
                              : mw_sweep_report_json(r, f, &err);
    assert_int_equal(st, MW_OK);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static void contains(const char *s, const char *needle)
{
    if (!strstr(s, needle)) fail_msg("'%s' should contain '%s'", s, needle);
}

/* The verdicts against this machine's ceilings in each report: text's
 * judged line and fractions column, CSV's two last columns, JSON's keys. */
static void sweep_reports_with_ceilings(void **state)
{
    (void)state;
    mw_sweep_result r;
    mw_sweep_point pt[2];
    mw_verdict v[2];
    setup_sweep(&r, &pt[0], &v[0]);
    pt[1] = pt[0];
    pt[1].batch = 2;
    pt[1].throughput = 20;
    r.n_points = 2;
    /* 10 steps/s at both: 2.331e9 bytes and 2.33e9 FLOPs a step are 0.9 of
     * 25.9 GB/s and 0.1 of 233 GFLOP/s */
    for (int i = 0; i < 2; i++) {
        pt[i].step_bytes = 2.331e9;
        pt[i].step_flops = 2.33e9;
    }
    r.ceilings.dram_read_bytes_per_second = 25.9e9;
    r.ceilings.peak_flops_f32 = 233e9;
    r.ceilings.threads = 2;
    snprintf(r.ceilings.measured, sizeof r.ceilings.measured, "2026-12-03 10:04 UTC");
    snprintf(r.ceilings.path, sizeof r.ceilings.path, "/tmp/machine.json");
    mw_sweep_analyze_ceilings(pt, 2, MW_SWEEP_BATCH, NULL, &r.ceilings, v, &r.analysis);
    assert_int_equal(r.analysis.overall, MW_VERDICT_BANDWIDTH);

    char *text = report_to_memory(&r, 0);
    contains(text, "of the ceilings");
    contains(text, "  bw 0.90 / fl 0.10  memory bandwidth\n");
    contains(text, "verdict: memory bandwidth — memory bandwidth: 0.90 of this machine's DRAM read bandwidth at batch 2 "
                   "(23.3 of 25.9 GB/s)");
    contains(text, "\n  judged against this machine's ceilings (profile /tmp/machine.json, measured 2026-12-03 10:04 "
                   "UTC: DRAM read 25.9 GB/s, FP32 peak 233 GFLOP/s on 2 threads)\n");
    free(text);

    char *csv = report_to_memory(&r, 1);
    contains(csv, ",memory_source,file_cached_bytes,bandwidth_fraction,compute_fraction\n");
    contains(csv, ",memory bandwidth,104857600,cgroup,,0.900000,0.100000\n");
    free(csv);

    char *json = report_to_memory(&r, 2);
    cJSON *j = cJSON_Parse(json);
    assert_non_null(j);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "judged_by")), "ceilings");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "judged")), r.analysis.judged);
    const cJSON *c = cJSON_GetObjectItem(j, "ceilings");
    assert_true(cJSON_IsObject(c));
    assert_float_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(c, "dram_read_bytes_per_second")), 25.9e9, 1);
    assert_float_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(c, "peak_flops_f32")), 233e9, 1);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(c, "measured")), "2026-12-03 10:04 UTC");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(c, "profile")), "/tmp/machine.json");
    assert_float_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(c, "threads")), 2, 0);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(c, "noisy")));
    const cJSON *p1 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "points"), 1);
    assert_float_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(p1, "bandwidth_fraction")), 0.9, 1e-9);
    assert_float_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(p1, "compute_fraction")), 0.1, 1e-9);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(p1, "verdict")), "memory bandwidth");
    cJSON_Delete(j);
    free(json);

    /* no ceilings: the curve, nulls, empty columns, no fractions column */
    memset(&r.ceilings, 0, sizeof r.ceilings);
    mw_sweep_analyze_ceilings(pt, 2, MW_SWEEP_BATCH, NULL, NULL, v, &r.analysis);
    text = report_to_memory(&r, 0);
    assert_null(strstr(text, "of the ceilings"));
    assert_null(strstr(text, "bw 0."));
    contains(text, "\n  judged by the throughput curve: no machine profile (run memwall roofline)\n");
    free(text);
    csv = report_to_memory(&r, 1);
    contains(csv, ",cgroup,,,\n");
    free(csv);
    json = report_to_memory(&r, 2);
    j = cJSON_Parse(json);
    assert_non_null(j);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "judged_by")), "curve");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "ceilings")));
    p1 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "points"), 0);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(p1, "bandwidth_fraction")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(p1, "compute_fraction")));
    cJSON_Delete(j);
    free(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(watch_reports),
        cmocka_unit_test(timeline_writes),
        cmocka_unit_test(model_and_plan_reports),
        cmocka_unit_test(run_reports),
        cmocka_unit_test(sweep_reports),
        cmocka_unit_test(reports_to_a_file),
        cmocka_unit_test(sweep_reports_with_ceilings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
