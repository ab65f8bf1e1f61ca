/* test_merge.c - memwall merge (issue #16): exact peaks, median, imbalance
 * and first rank at its cap over hand-written memwall.watch/1 files (one a
 * rank as `srun memwall watch` writes them, and a launcher's with ranks[]),
 * and hostile files, each refused naming the file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"
#include "test_tmpdir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

MW_TEST_TMPDIR("merge")

static char paths[16][300];

/* writes tmpdir/name with text; returns its path (kept in slot) */
static const char *put(int slot, const char *name, const char *text)
{
    snprintf(paths[slot], sizeof paths[slot], "%s/%s", tmpdir, name);
    FILE *f = fopen(paths[slot], "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    return paths[slot];
}

/* one rank's report as `srun memwall watch --json` writes it */
static const char *rank_file(int slot, const char *host, const char *rank, const char *peak, const char *start,
                             const char *cap_hit, const char *oom, const char *wall)
{
    char text[2048], name[64];
    snprintf(text, sizeof text,
             "{\"schema\": \"memwall.watch/1\", \"command\": [\"train\"], \"pid\": 10, \"exit_code\": 0,"
             " \"oom_killed\": %s, \"status_code\": 0, \"wall_seconds\": %s, \"peak_rss_bytes\": %s,"
             " \"peak_gpu_bytes\": null, \"cgroup\": {\"limit_bytes\": 1048576}, \"host\": \"%s\","
             " \"start_unix_seconds\": %s, \"rank\": %s, \"local_rank\": null, \"cap_hit_seconds\": %s,"
             " \"ranks\": [], \"processes\": []}",
             oom, wall, peak, host, start, rank, cap_hit);
    snprintf(name, sizeof name, "rank-%d.json", slot);
    return put(slot, name, text);
}

static mw_merge_result *merge(const char *const *files, size_t n)
{
    mw_merge_result *r = NULL;
    mw_err err;
    mw_status st = mw_merge_files(files, n, &r, &err);
    if (st != MW_OK) fail_msg("merge: %s", err.msg);
    return r;
}

/* srun-style files: peaks 100, 300, 200 bytes -> largest rank 1 (300),
 * median 200, imbalance exactly 1.5; rank 2 hit its cap at 1000 + 5 s,
 * rank 0 was OOM-killed with no hit time: at its end, 1002 + 1.5 s, first. */
static void per_rank_files(void **state)
{
    (void)state;
    const char *f[3];
    f[0] = rank_file(0, "a", "0", "100", "1002", "null", "true", "1.5");
    f[1] = rank_file(1, "a", "1", "300", "1000", "null", "false", "9");
    f[2] = rank_file(2, "a", "2", "200", "1000", "5", "false", "9");
    mw_merge_result *r = merge(f, 3);
    assert_int_equal(r->n_ranks, 3);
    assert_int_equal(r->n_files, 3);
    assert_int_equal(r->n_hosts, 1);
    for (int i = 0; i < 3; i++) assert_int_equal(r->ranks[i].rank, i);
    assert_int_equal(r->max_peak_bytes, 300);
    assert_int_equal(r->ranks[r->max_index].rank, 1);
    assert_int_equal(r->median_peak_bytes, 200);
    assert_true(r->imbalance == 1.5);
    assert_int_equal(r->first_cap_index, 0);
    assert_true(r->ranks[0].cap_hit_unix_seconds == 1003.5);
    assert_true(r->ranks[0].oom_killed);
    assert_true(r->ranks[1].cap_hit_unix_seconds < 0);
    assert_true(r->ranks[2].cap_hit_unix_seconds == 1005.0);
    assert_int_equal(r->ranks[1].limit_bytes, 1048576);
    assert_true(r->ranks[1].peak_gpu_bytes == MW_UNKNOWN);
    assert_string_equal(r->ranks[2].host, "a");
    assert_string_equal(r->ranks[2].file, f[2]);

    /* the reports, as text and JSON */
    char out[400];
    snprintf(out, sizeof out, "%s/report.txt", tmpdir);
    FILE *o = fopen(out, "w+");
    mw_err err;
    assert_int_equal(mw_merge_report_text(r, o, 0, &err), MW_OK);
    assert_int_equal(mw_merge_report_json(r, o, &err), MW_OK);
    rewind(o);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, o);
    buf[n] = '\0';
    fclose(o);
    assert_non_null(strstr(buf, "3 ranks from 3 files on 1 host"));
    assert_non_null(strstr(buf, "1.50x (largest / median)"));
    assert_non_null(strstr(buf, "first at cap     rank 0 on a at 1970-01-01 00:16:43.500 UTC (OOM-killed)"));
    assert_non_null(strstr(buf, "\"schema\":\t\"memwall.merge/1\""));
    assert_non_null(strstr(buf, "\"imbalance\":\t1.5"));
    assert_non_null(strstr(buf, "\"median_peak_bytes\":\t200"));
    assert_non_null(strstr(buf, "\"unix_seconds\":\t1003.5"));
    mw_merge_result_free(r);
}

/* A launcher's file (host b: ranks 0 and 1 under one cap, hit at 500 + 2 s,
 * no OOM kill: the hit goes to its largest rank) with the srun-style files
 * of host a: five ranks; peaks 100 300 200 | 10 20 -> median 100, largest
 * 300, imbalance exactly 3; the first at its cap: rank 1 on b at 502. */
static void launcher_file(void **state)
{
    (void)state;
    const char *f[4];
    f[0] = rank_file(0, "a", "0", "100", "1002", "null", "true", "1.5");
    f[1] = rank_file(1, "a", "1", "300", "1000", "null", "false", "9");
    f[2] = rank_file(2, "a", "2", "200", "1000", "5", "false", "9");
    f[3] = put(3, "launcher.json",
               "{\"schema\": \"memwall.watch/1\", \"oom_killed\": false, \"status_code\": 0,"
               " \"wall_seconds\": 3, \"peak_rss_bytes\": 30, \"peak_gpu_bytes\": null, \"cgroup\": null,"
               " \"host\": \"b\", \"start_unix_seconds\": 500, \"rank\": null, \"cap_hit_seconds\": 2,"
               " \"ranks\": [{\"rank\": 1, \"local_rank\": 1, \"processes\": 1, \"peak_rss_bytes\": 20,"
               " \"peak_gpu_bytes\": 7, \"major_faults\": 0, \"start_seconds\": 0, \"end_seconds\": 3,"
               " \"oom_killed\": false}, {\"rank\": 0, \"local_rank\": 0, \"processes\": 2,"
               " \"peak_rss_bytes\": 10, \"peak_gpu_bytes\": null, \"major_faults\": 0, \"start_seconds\": 0,"
               " \"end_seconds\": null, \"oom_killed\": false}]}");
    mw_merge_result *r = merge(f, 4);
    assert_int_equal(r->n_ranks, 5);
    assert_int_equal(r->n_hosts, 2);
    /* by rank, then host */
    const int32_t want_rank[] = {0, 0, 1, 1, 2};
    const char *want_host[] = {"a", "b", "a", "b", "a"};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(r->ranks[i].rank, want_rank[i]);
        assert_string_equal(r->ranks[i].host, want_host[i]);
    }
    assert_int_equal(r->median_peak_bytes, 100);
    assert_int_equal(r->max_peak_bytes, 300);
    assert_true(r->imbalance == 3.0);
    assert_int_equal(r->ranks[3].peak_gpu_bytes, 7);
    assert_true(r->ranks[3].limit_bytes == MW_UNKNOWN);
    assert_int_equal(r->first_cap_index, 3);
    assert_true(r->ranks[3].cap_hit_unix_seconds == 502.0);
    assert_true(r->ranks[1].cap_hit_unix_seconds < 0);
    mw_merge_result_free(r);
}

/* An even count: the median is the mean of the middle two, rounded down
 * (3 and 6 -> 4); a report without a rank, and one from before ranks (no
 * host, no start) merge too. */
static void even_and_old(void **state)
{
    (void)state;
    const char *f[2];
    f[0] = rank_file(0, "a", "null", "3", "1000", "null", "false", "1");
    f[1] = put(1, "old.json",
               "{\"schema\": \"memwall.watch/1\", \"oom_killed\": false, \"status_code\": 1,"
               " \"wall_seconds\": 1, \"peak_rss_bytes\": 6, \"peak_gpu_bytes\": null, \"cgroup\": null,"
               " \"processes\": []}");
    mw_merge_result *r = merge(f, 2);
    assert_int_equal(r->n_ranks, 2);
    assert_int_equal(r->median_peak_bytes, 4);
    assert_int_equal(r->max_peak_bytes, 6);
    assert_true(r->imbalance == 1.5);
    assert_int_equal(r->ranks[0].rank, MW_RANK_NONE);
    assert_int_equal(r->ranks[1].rank, MW_RANK_NONE);
    assert_string_equal(r->ranks[1].host, "unknown");
    assert_int_equal(r->ranks[1].status_code, 1);
    assert_int_equal(r->first_cap_index, SIZE_MAX);
    mw_merge_result_free(r);
}

/* each refused with MW_ERR_INVALID, naming the file and the fault */
static void refused(const char *const *files, size_t n, const char *name, const char *fault)
{
    mw_merge_result *r = (mw_merge_result *)1;
    mw_err err;
    assert_int_equal(mw_merge_files(files, n, &r, &err), MW_ERR_INVALID);
    assert_null(r);
    if (name && !strstr(err.msg, name)) fail_msg("'%s' does not name %s", err.msg, name);
    if (!strstr(err.msg, fault)) fail_msg("'%s' does not say '%s'", err.msg, fault);
}

static const char *doc_with(int slot, const char *name, const char *peak_and_ranks)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"schema\": \"memwall.watch/1\", \"oom_killed\": false, \"status_code\": 0,"
             " \"wall_seconds\": 1, \"peak_gpu_bytes\": null, \"cgroup\": null, \"host\": \"h\", %s}",
             peak_and_ranks);
    return put(slot, name, text);
}

static void hostile_files(void **state)
{
    (void)state;
    const char *f[2] = {NULL, NULL};
    refused(f, 0, NULL, "nothing to merge");
    snprintf(paths[0], sizeof paths[0], "%s/missing.json", tmpdir);
    f[0] = paths[0];
    refused(f, 1, "missing.json", "memwall watch --json -o FILE");
    f[0] = put(0, "text.json", "memwall watch: true\n  exit 0\n");
    refused(f, 1, "text.json", "not JSON");
    f[0] = put(0, "cut.json", "{\"schema\": \"memwall.watch/1\", \"peak_rss");
    refused(f, 1, "cut.json", "not JSON");
    f[0] = put(0, "array.json", "[1, 2]");
    refused(f, 1, "array.json", "not a JSON object");
    f[0] = put(0, "sweep.json", "{\"schema\": \"memwall.sweep/1\"}");
    refused(f, 1, "sweep.json", "not \"memwall.watch/1\"");
    f[0] = doc_with(0, "str.json", "\"peak_rss_bytes\": \"lots\"");
    refused(f, 1, "str.json", "\"peak_rss_bytes\" is not a non-negative whole number");
    f[0] = doc_with(0, "neg.json", "\"peak_rss_bytes\": -4");
    refused(f, 1, "neg.json", "not a non-negative whole number");
    f[0] = doc_with(0, "frac.json", "\"peak_rss_bytes\": 1.5");
    refused(f, 1, "frac.json", "not a non-negative whole number");
    f[0] = put(0, "status.json",
               "{\"schema\": \"memwall.watch/1\", \"oom_killed\": false, \"status_code\": 1e300,"
               " \"wall_seconds\": 1, \"peak_rss_bytes\": 1, \"peak_gpu_bytes\": null, \"cgroup\": null}");
    refused(f, 1, "status.json", "\"status_code\" is not an exit status");
    f[0] = doc_with(0, "nopeak.json", "\"rank\": 0");
    refused(f, 1, "nopeak.json", "has no \"peak_rss_bytes\"");
    f[0] = doc_with(0, "rankstr.json", "\"peak_rss_bytes\": 1, \"rank\": \"0\"");
    refused(f, 1, "rankstr.json", "is not a rank");
    f[0] = doc_with(0, "ranks.json", "\"peak_rss_bytes\": 1, \"ranks\": {}");
    refused(f, 1, "ranks.json", "\"ranks\" is not an array");
    f[0] = doc_with(0, "entry.json", "\"peak_rss_bytes\": 1, \"ranks\": [3]");
    refused(f, 1, "entry.json", "not an object");
    f[0] = doc_with(0, "rneg.json",
                    "\"peak_rss_bytes\": 1, \"ranks\": [{\"rank\": -1, \"peak_rss_bytes\": 1,"
                    " \"peak_gpu_bytes\": null, \"oom_killed\": false, \"end_seconds\": 1}]");
    refused(f, 1, "rneg.json", "ranks[0]'s \"rank\" is not a rank");
    f[0] = doc_with(0, "oomstr.json",
                    "\"peak_rss_bytes\": 1, \"ranks\": [{\"rank\": 1, \"peak_rss_bytes\": 1,"
                    " \"peak_gpu_bytes\": null, \"oom_killed\": 0, \"end_seconds\": 1}]");
    refused(f, 1, "oomstr.json", "\"oom_killed\" is not true or false");
    /* the same rank twice on one host (two runs' files mixed) */
    f[0] = doc_with(0, "one.json", "\"peak_rss_bytes\": 1, \"rank\": 4");
    f[1] = doc_with(1, "two.json", "\"peak_rss_bytes\": 2, \"rank\": 4");
    refused(f, 2, "two.json", "rank 4 on host h is also in");
    /* the same rank on two hosts is two ranks' files of two jobs: allowed */
    f[1] = put(1, "other.json",
               "{\"schema\": \"memwall.watch/1\", \"oom_killed\": false, \"status_code\": 0, \"wall_seconds\": 1,"
               " \"peak_rss_bytes\": 2, \"peak_gpu_bytes\": null, \"cgroup\": null, \"host\": \"g\", \"rank\": 4}");
    mw_merge_result *r = merge(f, 2);
    assert_int_equal(r->n_hosts, 2);
    mw_merge_result_free(r);
    /* a host name with terminal escapes is shown with '?' */
    f[0] = put(0, "esc.json",
               "{\"schema\": \"memwall.watch/1\", \"oom_killed\": false, \"status_code\": 0, \"wall_seconds\": 1,"
               " \"peak_rss_bytes\": 2, \"peak_gpu_bytes\": null, \"cgroup\": null, \"host\": \"x\\u001b[31m\"}");
    r = merge(f, 1);
    assert_null(strchr(r->ranks[0].host, 0x1b));
    mw_merge_result_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(per_rank_files),
        cmocka_unit_test(launcher_file),
        cmocka_unit_test(even_and_old),
        cmocka_unit_test(hostile_files),
    };
    return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
