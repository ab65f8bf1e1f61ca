/* test_slurm.c - the pure parts of sweep --launcher slurm (issue #16,
 * src/sweep/slurm.c): Slurm's outputs as its clients print them, a run's
 * memwall.watch/1 report read back from a job's directory (whole, cut
 * short, missing), and the point's Slurm fields through JSON Lines. The
 * cluster itself: tests/cli/sweep_slurm.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"
#include "sweep/slurm.h"
#include "sweep/jsonl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* `scontrol show job -o 20` as Slurm 22.05 printed it on this VM for a job
 * killed at its --mem (tests/cli/sweep_slurm.sh's batch 24; cut). */
static const char SCONTROL_OOM[] =
    "JobId=20 JobName=memwall-batch-24 UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901741 "
    "Nice=0 Account=(null) QOS=(null) JobState=OUT_OF_MEMORY Reason=OutOfMemory Dependency=(null) "
    "Requeue=0 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:125 RunTime=00:00:01 TimeLimit=UNLIMITED "
    "ReqNodeList=(null) ExcNodeList=(null) NodeList=mw18170 BatchHost=mw18170 NumNodes=1 NumCPUs=1\n";

static void parse_scontrol(void **state)
{
    (void)state;
    mw_slurm_job job;
    memset(&job, 0, sizeof job);
    job.exit_code = -1;
    assert_int_equal(mw_slurm_parse_scontrol(SCONTROL_OOM, &job), 1);
    assert_string_equal(job.state, "OUT_OF_MEMORY");
    assert_string_equal(job.reason, "OutOfMemory");
    assert_string_equal(job.host, "mw18170");   /* NodeList, not ReqNodeList's (null) */
    assert_int_equal(job.exit_code, 0);
    assert_int_equal(job.exit_signal, 125);
    /* pending: no node yet, Reason None is no reason */
    memset(&job, 0, sizeof job);
    assert_int_equal(mw_slurm_parse_scontrol("JobId=3 JobState=PENDING Reason=None NodeList=(null) "
                                             "ExitCode=0:0", &job), 1);
    assert_string_equal(job.state, "PENDING");
    assert_string_equal(job.reason, "");
    assert_string_equal(job.host, "");
    /* an error instead of a job */
    memset(&job, 0, sizeof job);
    assert_int_equal(mw_slurm_parse_scontrol("slurm_load_jobs error: Invalid job id specified\n", &job), 0);
}

/* sacct's MaxRSS: a number with K, M, G, T (powers of 1024), or bytes. */
static void parse_size(void **state)
{
    (void)state;
    assert_true(mw_slurm_parse_size("123456K") == 123456ull * 1024);
    assert_true(mw_slurm_parse_size("1.5G") == 1610612736ull);
    assert_true(mw_slurm_parse_size("0") == 0);
    assert_true(mw_slurm_parse_size("4096") == 4096);
    assert_true(mw_slurm_parse_size("") == MW_UNKNOWN);
    assert_true(mw_slurm_parse_size("12Q") == MW_UNKNOWN);
    assert_true(mw_slurm_parse_size(NULL) == MW_UNKNOWN);
}

/* `sacct -n -P -o JobID,State,MaxRSS,NodeList,ExitCode`: "|"-separated,
 * the job's line with an empty MaxRSS and a line per step ("ID.batch",
 * "ID.0") with its MaxRSS in K. The first two samples were copied from a
 * real run of tests/cluster/slurm_cluster.sh with accounting (Slurm
 * 22.05.8, slurmdbd, MariaDB 10.11; JobAcctGatherFrequency=1): job 1
 * python3 holding 40 MiB under --mem=64, job 2 touching 80 MiB under
 * --mem=32 (killed before its first sample: MaxRSS 1232K). */
#define SACCT_OK  "1|COMPLETED||mw18174|0:0\n1.batch|COMPLETED|55720K|mw18174|0:0\n"
#define SACCT_OOM "2|OUT_OF_MEMORY||mw18174|0:125\n2.batch|OUT_OF_MEMORY|1232K|mw18174|0:125\n"
static void parse_sacct(void **state)
{
    (void)state;
    mw_slurm_job job;
    memset(&job, 0, sizeof job);
    job.max_rss_bytes = MW_UNKNOWN;
    snprintf(job.state, sizeof job.state, "RUNNING");
    assert_int_equal(mw_slurm_parse_sacct(SACCT_OK, &job), 1);
    assert_string_equal(job.state, "COMPLETED");
    assert_string_equal(job.host, "mw18174");
    assert_true(job.max_rss_bytes == 55720ull * 1024);
    memset(&job, 0, sizeof job);
    job.max_rss_bytes = MW_UNKNOWN;
    assert_int_equal(mw_slurm_parse_sacct(SACCT_OOM, &job), 1);
    assert_string_equal(job.state, "OUT_OF_MEMORY");
    assert_true(job.max_rss_bytes == 1232ull * 1024);
    /* constructed from the first sample: slurmdbd not yet told of the end
     * (the job's line as sacct shows a running job, no step yet; not seen
     * on the idle test cluster, docs/CLUSTER.md): scontrol's final state
     * stands, and the text is incomplete */
    memset(&job, 0, sizeof job);
    job.max_rss_bytes = MW_UNKNOWN;
    snprintf(job.state, sizeof job.state, "OUT_OF_MEMORY");
    assert_int_equal(mw_slurm_parse_sacct("2|RUNNING||mw18174|0:0\n", &job), 0);
    assert_string_equal(job.state, "OUT_OF_MEMORY");
    assert_true(job.max_rss_bytes == MW_UNKNOWN);
    /* the end known, the step's figures not yet: incomplete too */
    assert_int_equal(mw_slurm_parse_sacct("2|OUT_OF_MEMORY||mw18174|0:125\n", &job), 0);
    /* "CANCELLED by 0" (sacct's State of a job scancel ended): the state's
     * first word; no node assigned */
    memset(&job, 0, sizeof job);
    job.max_rss_bytes = MW_UNKNOWN;
    assert_int_equal(mw_slurm_parse_sacct("42|CANCELLED by 0||None assigned|0:0\n", &job), 0);
    assert_string_equal(job.state, "CANCELLED");
    assert_string_equal(job.host, "");
    assert_true(job.max_rss_bytes == MW_UNKNOWN);
    /* accounting disabled: nothing taken */
    assert_int_equal(mw_slurm_parse_sacct("Slurm accounting storage is disabled\n", &job), 0);
    assert_string_equal(job.state, "CANCELLED");
}

/* JobAcctGatherFrequency as `scontrol show config` prints it. */
static void parse_gather_frequency(void **state)
{
    (void)state;
    assert_true(mw_slurm_parse_gather_frequency("JobAcctGatherType       = jobacct_gather/linux\n"
                                                "JobAcctGatherFrequency  = 1\nJobCompType = jobcomp/none\n") == 1);
    assert_true(mw_slurm_parse_gather_frequency("JobAcctGatherFrequency  = energy=0,task=15\n") == 15);
    assert_true(mw_slurm_parse_gather_frequency("JobAcctGatherFrequency  = task=2.5\n") == 2.5);
    assert_true(mw_slurm_parse_gather_frequency("JobAcctGatherFrequency  = energy=0\n") == 30);
    assert_true(mw_slurm_parse_gather_frequency("ClusterName = x\n") == -1);
}

/* The cross-check (docs/CLUSTER.md "Cross-checked with Slurm"): exact
 * inputs on either side of the tolerance, max(64 MiB, 25 % of memwall's
 * peak RSS), and both OOM disagreements. */
static void cross_check(void **state)
{
    (void)state;
    const uint64_t MiB = 1ull << 20;
    mw_slurm_job job;
    char note[200];
    memset(&job, 0, sizeof job);
    snprintf(job.state, sizeof job.state, "COMPLETED");
    job.gather_seconds = 1;
    /* memwall's peak 100 MiB: slack 64 MiB; 164 MiB agrees, one byte more not */
    job.max_rss_bytes = 164 * MiB;
    assert_int_equal(mw_slurm_cross_check(&job, 0, 100 * MiB, 3, note, sizeof note), 0);
    assert_string_equal(note, "");
    job.max_rss_bytes = 164 * MiB + 1;
    assert_int_equal(mw_slurm_cross_check(&job, 0, 100 * MiB, 3, note, sizeof note), 1);
    assert_string_equal(note, "Slurm's MaxRSS 164.0 MiB exceeds memwall's peak RSS 100.0 MiB by more than 64 MiB");
    /* memwall's peak 1 GiB: slack 256 MiB (25 %) */
    job.max_rss_bytes = 1024 * MiB + 256 * MiB;
    assert_int_equal(mw_slurm_cross_check(&job, 0, 1024 * MiB, 3, note, sizeof note), 0);
    /* below by more than the slack: a disagreement in a 2 s run sampled
     * every 1 s, not in a 1.9 s one (a peak between two samples) */
    job.max_rss_bytes = 767 * MiB;
    assert_int_equal(mw_slurm_cross_check(&job, 0, 1024 * MiB, 1.9, note, sizeof note), 0);
    assert_int_equal(mw_slurm_cross_check(&job, 0, 1024 * MiB, 2.0, note, sizeof note), 1);
    assert_string_equal(note, "Slurm's MaxRSS 767.0 MiB is below memwall's peak RSS 1024.0 MiB by more than 256 MiB "
                              "in a 2.0 s run (sampled every 1 s)");
    job.gather_seconds = -1; /* the interval unknown: never flagged below */
    assert_int_equal(mw_slurm_cross_check(&job, 0, 1024 * MiB, 100, note, sizeof note), 0);
    /* no MaxRSS (no accounting), no peak: nothing to compare */
    job.max_rss_bytes = MW_UNKNOWN;
    assert_int_equal(mw_slurm_cross_check(&job, 0, 1024 * MiB, 3, note, sizeof note), 0);
    job.max_rss_bytes = 1;
    assert_int_equal(mw_slurm_cross_check(&job, 0, MW_UNKNOWN, 3, note, sizeof note), 0);
    /* the OOM kill: Slurm's alone, memwall's alone, both */
    snprintf(job.state, sizeof job.state, "OUT_OF_MEMORY");
    job.max_rss_bytes = 1232 * 1024; /* the real OOM job's: sampled before it grew */
    assert_int_equal(mw_slurm_cross_check(&job, 0, 80 * MiB, 0.3, note, sizeof note), 1);
    assert_string_equal(note, "Slurm says OUT_OF_MEMORY, memwall saw no OOM kill");
    assert_int_equal(mw_slurm_cross_check(&job, 1, 80 * MiB, 0.3, note, sizeof note), 0);
    snprintf(job.state, sizeof job.state, "FAILED");
    assert_int_equal(mw_slurm_cross_check(&job, 1, 80 * MiB, 0.3, note, sizeof note), 1);
    assert_string_equal(note, "memwall saw an OOM kill, Slurm says FAILED");
    snprintf(job.state, sizeof job.state, "NODE_FAIL"); /* not a verdict on memory */
    assert_int_equal(mw_slurm_cross_check(&job, 1, 80 * MiB, 0.3, note, sizeof note), 0);
}

/* The text report: an ok point's cross-check note on its job's line. */
static void report_cross_check(void **state)
{
    (void)state;
    mw_sweep_point p;
    memset(&p, 0, sizeof p);
    p.batch = 4;
    p.status = MW_POINT_OK;
    p.runs = 1;
    p.wall_seconds = 3;
    p.throughput = p.throughput_min = p.throughput_max = -1;
    p.peak_rss_bytes = p.cgroup_peak_bytes = 100ull << 20;
    p.swap_peak_bytes = p.swap_in_bytes = p.major_faults = p.refaults = 0;
    p.predicted_bytes = p.peak_gpu_bytes = p.file_cached_bytes = p.peak_process_rss_bytes = MW_UNKNOWN;
    p.stream_bytes_per_step = MW_UNKNOWN;
    p.stream_bytes_per_second = -1;
    p.mem_limit_bytes = MW_UNKNOWN;
    p.psi_some_seconds = p.psi_full_seconds = -1;
    p.slurm_job_id = 7;
    snprintf(p.slurm_state, sizeof p.slurm_state, "COMPLETED");
    snprintf(p.host, sizeof p.host, "n1");
    p.slurm_max_rss_bytes = 200ull << 20;
    mw_slurm_job job;
    memset(&job, 0, sizeof job);
    snprintf(job.state, sizeof job.state, "COMPLETED");
    job.max_rss_bytes = p.slurm_max_rss_bytes;
    job.gather_seconds = 1;
    char note[200];
    assert_int_equal(mw_slurm_cross_check(&job, 0, p.peak_rss_bytes, p.wall_seconds, note, sizeof note), 1);
    snprintf(p.message, sizeof p.message, "cross-check: %.120s", note);
    mw_sweep_result r;
    memset(&r, 0, sizeof r);
    r.points = &p;
    mw_verdict v = (mw_verdict)0;
    r.verdicts = &v;
    r.n_points = 1;
    r.mem_limit_bytes = 256ull << 20;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    mw_err err;
    assert_int_equal(mw_sweep_report_text(&r, f, 0, &err), MW_OK);
    fclose(f);
    assert_non_null(strstr(buf, "batch 4: Slurm job 7, COMPLETED on n1, MaxRSS 200"));
    assert_non_null(strstr(buf, ": cross-check: Slurm's MaxRSS 200.0 MiB exceeds memwall's peak RSS 100.0 MiB by "
                                "more than 64 MiB\n"));
    free(buf);
}

static void put(const char *dir, const char *name, const char *text)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* What memwall watch --json wrote in a job whose command was OOM-killed
 * under Slurm's cgroup (the fields the sweep reads; from a real run). */
static const char WATCH_OOM[] =
    "{\"schema\":\"memwall.watch/1\",\"command\":[\"mw-touch\"],\"pid\":5,\"exit_code\":null,\"signal\":9,"
    "\"oom_killed\":true,\"status_code\":137,\"wall_seconds\":0.4,\"peak_rss_bytes\":110481408,"
    "\"peak_rss_anon_bytes\":100000000,\"peak_rss_file_bytes\":1000000,\"peak_swap_bytes\":0,"
    "\"peak_gpu_bytes\":null,\"major_faults\":0,\"max_processes\":1,"
    "\"cgroup\":{\"version\":1,\"path\":\"/sys/fs/cgroup/memory/slurm_n/uid_0/job_3/step_batch\","
    "\"limit_bytes\":104857600,\"swap_limit_bytes\":0,\"peak_bytes\":104845312,\"swap_peak_bytes\":4096,"
    "\"oom_kills\":1,\"limit_hits\":1,\"refaults_anon\":0,\"refaults_file\":0,\"escaped_processes\":0,"
    "\"escaped_pid\":null,\"inherited\":true},"
    "\"system\":{\"swap_in_bytes\":0,\"refaults_anon\":0,\"refaults_file\":0,\"psi_some_seconds\":null},"
    "\"processes\":[{\"pid\":5,\"peak_rss_bytes\":110481408},{\"pid\":6,\"peak_rss_bytes\":2000000}]}";

static void read_watch(void **state)
{
    (void)state;
    mw_slurm_job job;
    memset(&job, 0, sizeof job);
    snprintf(job.dir, sizeof job.dir, "/tmp/mw_slurm_test_XXXXXX");
    assert_non_null(mkdtemp(job.dir));
    put(job.dir, "watch-1.json", WATCH_OOM);
    mw_watch_result res;
    uint64_t peak;
    mw_err err;
    assert_int_equal(mw_slurm_read_watch(&job, 1, &res, &peak, &err), MW_OK);
    assert_int_equal(res.status_code, 137);
    assert_int_equal(res.oom_killed, 1);
    assert_int_equal(res.cgroup_inherited, 1);
    assert_int_equal(res.cgroup_version, MW_CGROUP_V1);
    assert_true(res.cgroup_limit_bytes == 104857600);
    assert_true(res.cgroup_peak_bytes == 104845312);
    assert_true(res.cgroup_oom_kills == 1);
    assert_true(res.peak_rss_bytes == 110481408);
    assert_true(res.peak_gpu_bytes == MW_UNKNOWN);
    assert_true(peak == 110481408);
    assert_true(res.psi_some_seconds < 0);
    /* cut short (the job was killed while memwall wrote it) */
    char cut[200];
    memcpy(cut, WATCH_OOM, 150);
    cut[150] = '\0';
    put(job.dir, "watch-2.json", cut);
    memset(&err, 0, sizeof err);
    assert_int_equal(mw_slurm_read_watch(&job, 2, &res, &peak, &err), MW_ERR_INVALID);
    assert_non_null(strstr(err.msg, "watch-2.json is no memwall.watch/1 report"));
    /* another document */
    put(job.dir, "watch-3.json", "{\"schema\":\"memwall.run/1\",\"status_code\":0}");
    assert_int_equal(mw_slurm_read_watch(&job, 3, &res, &peak, &err), MW_ERR_INVALID);
    /* missing (the node died first) */
    memset(&err, 0, sizeof err);
    assert_int_not_equal(mw_slurm_read_watch(&job, 4, &res, &peak, &err), MW_OK);
    assert_non_null(strstr(err.msg, "watch-4.json"));
    for (int i = 1; i <= 3; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/watch-%d.json", job.dir, i);
        unlink(path);
    }
    rmdir(job.dir);
}

/* The "slurm" object: written for a job's point, null for a local one,
 * and read back by --resume. */
static void jsonl_round_trip(void **state)
{
    (void)state;
    mw_sweep_point p;
    memset(&p, 0, sizeof p);
    p.batch = 24;
    p.status = MW_POINT_OOM;
    p.oom = MW_OOM_CGROUP;
    p.peak_rss_bytes = p.cgroup_peak_bytes = p.swap_peak_bytes = MW_UNKNOWN;
    p.slurm_job_id = 20;
    snprintf(p.slurm_state, sizeof p.slurm_state, "OUT_OF_MEMORY");
    snprintf(p.host, sizeof p.host, "node-7");
    p.slurm_max_rss_bytes = 268435456;
    char *line;
    size_t len;
    assert_int_equal(mw_sweep_point_json_line(&p, &line, &len), MW_OK);
    assert_non_null(strstr(line, "\"slurm\":{\"job_id\":20,\"state\":\"OUT_OF_MEMORY\",\"host\":\"node-7\","
                                 "\"max_rss_bytes\":268435456}"));
    mw_sweep_point q;
    assert_int_equal(mw_sweep_point_from_json(line, len, &q), 1);
    mw_free(line);
    assert_true(q.slurm_job_id == 20);
    assert_string_equal(q.slurm_state, "OUT_OF_MEMORY");
    assert_string_equal(q.host, "node-7");
    assert_true(q.slurm_max_rss_bytes == 268435456);
    /* not accounted (no sacct): null, read back as unknown */
    p.slurm_max_rss_bytes = MW_UNKNOWN;
    p.host[0] = '\0';
    assert_int_equal(mw_sweep_point_json_line(&p, &line, &len), MW_OK);
    assert_non_null(strstr(line, "\"host\":null,\"max_rss_bytes\":null}"));
    assert_int_equal(mw_sweep_point_from_json(line, len, &q), 1);
    mw_free(line);
    assert_true(q.slurm_max_rss_bytes == MW_UNKNOWN);
    assert_string_equal(q.host, "");
    /* a local point */
    p.slurm_job_id = 0;
    assert_int_equal(mw_sweep_point_json_line(&p, &line, &len), MW_OK);
    assert_non_null(strstr(line, "\"slurm\":null"));
    assert_int_equal(mw_sweep_point_from_json(line, len, &q), 1);
    mw_free(line);
    assert_true(q.slurm_job_id == 0);
    assert_string_equal(q.slurm_state, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_scontrol),
        cmocka_unit_test(parse_size),
        cmocka_unit_test(parse_sacct),
        cmocka_unit_test(parse_gather_frequency),
        cmocka_unit_test(cross_check),
        cmocka_unit_test(report_cross_check),
        cmocka_unit_test(read_watch),
        cmocka_unit_test(jsonl_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
