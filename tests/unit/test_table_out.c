/* test_table_out.c - the pasteable outputs (issue #13, docs/OUTPUT.md):
 * CSV cells quoted as RFC 4180 section 2 says (a comma, a quote, CR or LF
 * in a cell: enclosed in quotes, quotes doubled), Markdown cells escaped as
 * the GFM spec's tables extension says ('|' as "\|"; a newline would end
 * the row), every row as wide as the header, the plan's CSV and Markdown of
 * the demo model, and mw_report_write_file: atomic, never through a link. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"
#include "common/error.h"
#include "report/table_out.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What fn wrote to a memory stream, NUL-terminated (free()). */
static char *csv_of(const char *cell)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    mw_csv_cell(f, cell);
    fclose(f);
    return buf;
}

static char *md_of(const char *cell)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    mw_md_cell(f, cell);
    fclose(f);
    return buf;
}

static void expect_csv(const char *cell, const char *want)
{
    char *got = csv_of(cell);
    assert_string_equal(got, want);
    free(got);
}

static void expect_md(const char *cell, const char *want)
{
    char *got = md_of(cell);
    assert_string_equal(got, want);
    free(got);
}

static void csv_cells(void **state)
{
    (void)state;
    expect_csv("plain", "plain");
    expect_csv("", "");
    expect_csv(NULL, "");
    expect_csv("with space", "with space");         /* 2.4: spaces are part of a field */
    expect_csv("a,b", "\"a,b\"");                   /* 2.6 */
    expect_csv("say \"hi\"", "\"say \"\"hi\"\"\""); /* 2.7: quotes doubled */
    expect_csv("\"", "\"\"\"\"");
    expect_csv("two\nlines", "\"two\nlines\"");     /* 2.6: line breaks kept, quoted */
    expect_csv("cr\rhere", "\"cr\rhere\"");
    expect_csv("a|b", "a|b");                       /* nothing special to CSV */
}

static void markdown_cells(void **state)
{
    (void)state;
    expect_md("plain", "plain");
    expect_md("", "");
    expect_md(NULL, "");
    expect_md("a|b", "a\\|b");                      /* GFM: a pipe in a cell is escaped */
    expect_md("a\\b", "a\\\\b");                    /* so a backslash cannot eat the escape */
    expect_md("a\\|b", "a\\\\\\|b");
    expect_md("two\nlines\r\n", "two lines  ");     /* a row is one line */
    expect_md("a,b \"q\"", "a,b \"q\"");            /* nothing special to a pipe table */
}

static char *tab_text(mw_tab *t, int markdown, mw_status *st)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    mw_err err;
    *st = markdown ? mw_tab_write_markdown(t, f, "test table", &err) : mw_tab_write_csv(t, f, "test table", &err);
    fclose(f);
    return buf;
}

static void tables(void **state)
{
    (void)state;
    mw_tab t;
    mw_tab_init(&t, 3, "lrl");
    mw_tab_cell(&t, "name");
    mw_tab_cell(&t, "bytes");
    mw_tab_cell(&t, "note");
    mw_tab_cell(&t, "a,b");
    mw_tab_cell_u64(&t, 42);
    mw_tab_cell(&t, "x|y");
    mw_tab_cell(&t, "");
    mw_tab_cell_u64(&t, MW_UNKNOWN);                /* unknown: an empty cell */
    mw_tab_cellf(&t, "%s \"%d\"", "q", 7);
    assert_int_equal(mw_tab_rows(&t), 2);
    mw_status st;
    char *csv = tab_text(&t, 0, &st);
    assert_int_equal(st, MW_OK);
    assert_string_equal(csv, "name,bytes,note\n\"a,b\",42,x|y\n,,\"q \"\"7\"\"\"\n");
    free(csv);
    char *md = tab_text(&t, 1, &st);
    assert_int_equal(st, MW_OK);
    assert_string_equal(md, "| name | bytes | note |\n"
                            "| --- | ---: | --- |\n"
                            "| a,b | 42 | x\\|y |\n"
                            "|  |  | q \"7\" |\n");
    free(md);
    /* a short last row is refused, not written ragged */
    mw_tab_cell(&t, "alone");
    csv = tab_text(&t, 0, &st);
    assert_int_equal(st, MW_ERR_INVALID);
    assert_string_equal(csv, "");
    free(csv);
    mw_tab_free(&t);
    mw_tab_free(&t);                                 /* twice: harmless */
}

/* The number of CSV fields of each record of text (RFC 4180 quoting), all
 * equal to the header's: @return the records, or -1 on a ragged row. */
static int csv_records(const char *text, size_t *cols)
{
    int records = 0, quoted = 0;
    size_t fields = 1;
    *cols = 0;
    for (const char *p = text; *p; p++) {
        if (quoted) {
            if (*p == '"' && p[1] == '"') p++;
            else if (*p == '"') quoted = 0;
            continue;
        }
        if (*p == '"') quoted = 1;
        else if (*p == ',') fields++;
        else if (*p == '\n') {
            if (!records) *cols = fields;
            else if (fields != *cols) return -1;
            records++;
            fields = 1;
        }
    }
    return records;
}

static void plan_outputs(void **state)
{
    (void)state;
    mw_model *m = NULL;
    mw_err err;
    assert_int_equal(mw_model_or_demo_open("demo", &m, &err), MW_OK);
    mw_plan_opts o;
    mw_plan_opts_init(&o);
    mw_plan base;
    assert_int_equal(mw_plan_compute(m, &o, &base, &err), MW_OK);
    mw_plan_target t[2];
    memset(t, 0, sizeof t);
    snprintf(t[0].name, sizeof t[0].name, "gpu 0 (a, \"b\" | c)");   /* every character to escape */
    snprintf(t[1].name, sizeof t[1].name, "--mem");
    o.mem_bytes = 8ull << 30;
    assert_int_equal(mw_plan_compute(m, &o, &t[0].plan, &err), MW_OK);
    o.mem_bytes = 64ull << 20;
    assert_int_equal(mw_plan_compute(m, &o, &t[1].plan, &err), MW_OK);
    assert_true(t[0].plan.fits);
    assert_false(t[1].plan.fits);

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(mw_plan_report_csv(m, &base, t, 2, f, &err), MW_OK);
    fclose(f);
    size_t cols;
    assert_int_equal(csv_records(buf, &cols), 3);    /* the header and one row per target */
    assert_int_equal(cols, 40);
    assert_non_null(strstr(buf, ",\"gpu 0 (a, \"\"b\"\" | c)\",8589934592,true,"));
    assert_non_null(strstr(buf, ",--mem,67108864,false,"));
    /* the weights in bytes, exactly the plan's */
    char want[64];
    snprintf(want, sizeof want, ",%llu,", (unsigned long long)base.bytes[MW_COMP_WEIGHTS]);
    assert_non_null(strstr(buf, want));
    free(buf);
    /* no target: one row, the target's cells empty */
    f = open_memstream(&buf, &len);
    assert_int_equal(mw_plan_report_csv(m, &base, NULL, 0, f, &err), MW_OK);
    fclose(f);
    assert_int_equal(csv_records(buf, &cols), 2);
    assert_non_null(strstr(buf, "weights,,,,,,,,,,,,,,\n"));
    free(buf);

    f = open_memstream(&buf, &len);
    assert_int_equal(mw_plan_report_markdown(m, &base, t, 2, f, &err), MW_OK);
    fclose(f);
    assert_non_null(strstr(buf, "## memwall plan: demo\n"));
    assert_non_null(strstr(buf, "| component | bytes | GiB | share |\n| --- | ---: | ---: | ---: |\n"));
    assert_non_null(strstr(buf, "| gpu 0 (a, \"b\" \\| c) | 8.00 GiB | yes |"));
    assert_non_null(strstr(buf, "| --mem | 64.0 MiB | no, "));
    assert_non_null(strstr(buf, "- attention: unfused (memwall's engine)"));
    assert_non_null(strstr(buf, "- overhead: 80.0 MiB to "));
    free(buf);
    mw_model_free(m);
}


/* The sweep's Markdown and the run's CSV and Markdown of made-up results:
 * one row per point, a model name that needs quoting, and a full device
 * said as MW_ERR_IO naming the report. */
static void sweep_and_run_outputs(void **state)
{
    (void)state;
    mw_sweep_point pt[2];
    mw_verdict v[2] = {MW_VERDICT_BANDWIDTH, MW_VERDICT_BANDWIDTH};
    memset(pt, 0, sizeof pt);
    for (int i = 0; i < 2; i++) {
        pt[i].batch = 1u << i;
        pt[i].status = MW_POINT_OK;
        pt[i].runs = 1;
        pt[i].wall_seconds = 1;
        pt[i].throughput = 10.0 * (i + 1);
        pt[i].peak_rss_bytes = pt[i].cgroup_peak_bytes = (100ull + i) << 20;
        pt[i].swap_peak_bytes = pt[i].swap_in_bytes = pt[i].major_faults = pt[i].refaults = 0;
        pt[i].psi_some_seconds = pt[i].psi_full_seconds = -1;
        pt[i].predicted_bytes = pt[i].peak_gpu_bytes = MW_UNKNOWN;
        pt[i].peak_rss_anon_bytes = pt[i].peak_rss_file_bytes = pt[i].file_cached_bytes = MW_UNKNOWN;
        pt[i].peak_process_rss_bytes = MW_UNKNOWN;
        pt[i].throughput_min = pt[i].throughput_max = -1;
    }
    mw_sweep_result r;
    memset(&r, 0, sizeof r);
    r.n_points = 2;
    r.points = pt;
    r.verdicts = v;
    r.mem_limit_bytes = 1ull << 30;
    snprintf(r.workload, sizeof r.workload, "sh -c 'a | b'");
    mw_sweep_analyze(pt, 2, MW_SWEEP_BATCH, NULL, NULL, &r.analysis);
    char *buf = NULL;
    size_t len = 0;
    mw_err err;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(mw_sweep_report_markdown(&r, f, &err), MW_OK);
    fclose(f);
    assert_non_null(strstr(buf, "## memwall sweep: sh -c 'a \\| b'\n"));
    assert_non_null(strstr(buf, "| 1 | ok | cgroup | 100 MiB |"));
    assert_non_null(strstr(buf, "| 2 | ok | cgroup | 101 MiB |"));
    assert_non_null(strstr(buf, "| 10.0 |"));
    free(buf);

    mw_run_result run;
    memset(&run, 0, sizeof run);
    snprintf(run.model, sizeof run.model, "dir,with \"quotes\"/m.gguf");
    run.batch = 2;
    run.threads = 4;
    run.prompt_tokens = 16;
    run.gen_tokens = 0;                        /* no decode: empty cells */
    run.measured[MW_COMP_WEIGHTS] = run.predicted.bytes[MW_COMP_WEIGHTS] = 1000;
    f = open_memstream(&buf, &len);
    assert_int_equal(mw_run_report_csv(&run, f, &err), MW_OK);
    fclose(f);
    size_t cols;
    assert_int_equal(csv_records(buf, &cols), 2);
    assert_int_equal(cols, 22);
    assert_non_null(strstr(buf, "\n\"dir,with \"\"quotes\"\"/m.gguf\",2,4,16,0,"));
    assert_non_null(strstr(buf, ",,,1000,1000,"));
    free(buf);
    f = open_memstream(&buf, &len);
    assert_int_equal(mw_run_report_markdown(&run, f, &err), MW_OK);
    fclose(f);
    assert_non_null(strstr(buf, "| weights | 1000 B | 1000 B | +0.00% |"));
    assert_null(strstr(buf, "decode"));
    free(buf);

    f = fopen("/dev/full", "w");
    if (!f) return;
    assert_int_equal(mw_run_report_csv(&run, f, &err), MW_ERR_IO);
    assert_non_null(strstr(err.msg, "CSV report"));
    fclose(f);
    f = fopen("/dev/full", "w");
    assert_int_equal(mw_sweep_report_markdown(&r, f, &err), MW_ERR_IO);
    assert_non_null(strstr(err.msg, "Markdown report"));
    fclose(f);
}

static mw_status write_hello(FILE *out, void *user, mw_err *err)
{
    (void)err;
    fputs(user, out);
    return MW_OK;
}

static mw_status write_fails(FILE *out, void *user, mw_err *err)
{
    (void)user;
    fputs("partial", out);
    mw_err_set(err, MW_ERR_NOMEM, "out of memory writing the test");
    return MW_ERR_NOMEM;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    static char buf[256];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void write_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/mw_table_out_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[300], victim[300], tmpname[320];
    snprintf(path, sizeof path, "%s/out.csv", dir);
    snprintf(victim, sizeof victim, "%s/victim", dir);
    mw_err err;
    assert_int_equal(mw_report_write_file(path, write_hello, "one\n", &err), MW_OK);
    assert_string_equal(slurp(path), "one\n");
    /* replaced whole */
    assert_int_equal(mw_report_write_file(path, write_hello, "two\n", &err), MW_OK);
    assert_string_equal(slurp(path), "two\n");
    /* a link planted at the path is replaced, its target left alone */
    FILE *v = fopen(victim, "w");
    assert_non_null(v);
    fputs("victim\n", v);
    fclose(v);
    unlink(path);
    assert_int_equal(symlink(victim, path), 0);
    assert_int_equal(mw_report_write_file(path, write_hello, "three\n", &err), MW_OK);
    assert_string_equal(slurp(victim), "victim\n");
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_string_equal(slurp(path), "three\n");
    /* a writer's failure: the old file stays, no temporary is left */
    assert_int_equal(mw_report_write_file(path, write_fails, NULL, &err), MW_ERR_NOMEM);
    assert_non_null(strstr(err.msg, path));
    assert_string_equal(slurp(path), "three\n");
    /* a missing folder: the error names the path */
    char missing[320];
    snprintf(missing, sizeof missing, "%s/no/such/out.md", dir);
    assert_int_not_equal(mw_report_write_file(missing, write_hello, "x", &err), MW_OK);
    assert_non_null(strstr(err.msg, missing));
    /* a folder, and a link to a device, are refused */
    assert_int_equal(mw_report_write_file(dir, write_hello, "x", &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "a folder"));
    snprintf(tmpname, sizeof tmpname, "%s/null", dir);
    assert_int_equal(symlink("/dev/null", tmpname), 0);
    assert_int_equal(mw_report_write_file(tmpname, write_hello, "x", &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "a link to a device"));
    struct stat dn;
    assert_int_equal(lstat(tmpname, &dn), 0);
    assert_true(S_ISLNK(dn.st_mode));
    unlink(tmpname);
    /* nothing else is left in the folder: no temporary */
    char cmd[400];
    snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 2", dir);
    assert_int_equal(system(cmd), 0);
    unlink(path);
    unlink(victim);
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csv_cells),
        cmocka_unit_test(markdown_cells),
        cmocka_unit_test(tables),
        cmocka_unit_test(plan_outputs),
        cmocka_unit_test(sweep_and_run_outputs),
        cmocka_unit_test(write_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
