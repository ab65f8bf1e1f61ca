/* test_sweep_analysis.c - the sweep's analysis on synthetic points: the
 * memory fit and the largest batch for a cap, the knee, the cliff (each of
 * its four triggers), and the verdicts per point and overall, by the
 * throughput curve and against this machine's ceilings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memwall.h"
#include "common/error.h"

#include <math.h>
#include <string.h>

#define MIB (1024.0 * 1024.0)

/* A point that ran to the end with nothing else measured about paging:
 * no swap-in, no major faults, no stall. */
static mw_sweep_point pt(uint32_t batch, mw_point_status status, uint64_t mem, double tput)
{
    mw_sweep_point q;
    memset(&q, 0, sizeof q);
    q.batch = batch;
    q.status = status;
    q.runs = 1;
    q.wall_seconds = 1.0;
    q.throughput = tput;
    q.peak_rss_bytes = mem;
    q.cgroup_peak_bytes = MW_UNKNOWN;
    q.swap_peak_bytes = 0;
    q.swap_in_bytes = 0;
    q.major_faults = 0;
    q.refaults = 0;
    q.psi_some_seconds = 0;
    q.psi_full_seconds = 0;
    q.predicted_bytes = MW_UNKNOWN;
    q.peak_process_rss_bytes = MW_UNKNOWN;
    return q;
}

/* 100 MiB + 10 MiB per item. */
static uint64_t linear_mem(uint32_t batch)
{
    return (100ull << 20) + (10ull << 20) * batch;
}

static void analyze(const mw_sweep_point *p, size_t n, mw_verdict *v, mw_sweep_analysis *a)
{
    mw_cliff_thresholds t;
    mw_cliff_thresholds_init(&t);
    mw_sweep_analyze(p, n, MW_SWEEP_BATCH, &t, v, a);
    assert_true(strlen(a->reason) > 0);
    assert_true(strlen(a->reason) < sizeof a->reason);
}

static void names(void **state)
{
    (void)state;
    assert_string_equal(mw_point_status_name(MW_POINT_OK), "ok");
    assert_string_equal(mw_point_status_name(MW_POINT_OOM), "oom");
    assert_string_equal(mw_point_status_name(MW_POINT_TIMEOUT), "timeout");
    assert_string_equal(mw_point_status_name(MW_POINT_FAILED), "failed");
    assert_string_equal(mw_point_status_name((mw_point_status)42), "unknown");
    assert_string_equal(mw_verdict_name(MW_VERDICT_UNKNOWN), "unknown");
    assert_string_equal(mw_verdict_name(MW_VERDICT_BANDWIDTH), "memory bandwidth");
    assert_string_equal(mw_verdict_name(MW_VERDICT_COMPUTE), "compute");
    assert_string_equal(mw_verdict_name(MW_VERDICT_PAGING), "paging");
    assert_string_equal(mw_verdict_name(MW_VERDICT_CAPACITY), "memory capacity");
    assert_string_equal(mw_verdict_name((mw_verdict)42), "unknown");

    mw_cliff_thresholds t;
    memset(&t, 0xff, sizeof t);
    mw_cliff_thresholds_init(&t);
    assert_true(t.min_bytes == 16ull << 20);
    assert_float_equal(t.swap_in_share, 0.05, 0);
    assert_float_equal(t.refault_share, 0.10, 0);
    assert_float_equal(t.major_fault_share, 1.0, 0);
    assert_float_equal(t.psi_some_share, 0.10, 0);
    assert_float_equal(t.throughput_drop, 0.25, 0);
    mw_cliff_thresholds_init(NULL);
}

static void fit_exact(void **state)
{
    (void)state;
    static const uint32_t batches[] = {1, 2, 4, 8, 16, 32, 48};
    mw_sweep_point p[MW_ARRAY_LEN(batches)];
    for (size_t i = 0; i < MW_ARRAY_LEN(batches); i++)
        p[i] = pt(batches[i], MW_POINT_OK, linear_mem(batches[i]), -1);
    mw_sweep_fit f;
    mw_sweep_fit_points(p, MW_ARRAY_LEN(p), MW_SWEEP_BATCH, &f);
    assert_true(f.valid);
    assert_int_equal(f.n_points, MW_ARRAY_LEN(p));
    assert_float_equal(f.fixed_bytes, 100 * MIB, 1e-3);
    assert_float_equal(f.per_item_bytes, 10 * MIB, 1e-6);
    assert_float_equal(f.r2, 1.0, 1e-12);

    /* The largest batch for a cap: (1024 - 100) / 10 = 92.4 -> 92. */
    assert_int_equal(mw_sweep_fit_max(&f, 1ull << 30), 92);
    /* A cap exactly on batch 92's memory keeps it; a byte less does not. */
    assert_int_equal(mw_sweep_fit_max(&f, linear_mem(92)), 92);
    assert_int_equal(mw_sweep_fit_max(&f, linear_mem(92) - 1), 91);
    assert_int_equal(mw_sweep_fit_max(&f, 8ull << 30), (8192 - 100) / 10);
    /* Not even the fixed part fits; only the fixed part fits. */
    assert_int_equal(mw_sweep_fit_max(&f, 50ull << 20), 0);
    assert_int_equal(mw_sweep_fit_max(&f, 105ull << 20), 0);
    assert_int_equal(mw_sweep_fit_max(&f, 0), 0);
    /* Beyond 32 bits: clamped below UINT32_MAX (which means "no limit"). */
    assert_true(mw_sweep_fit_max(&f, UINT64_MAX) == UINT32_MAX - 1);
    assert_int_equal(mw_sweep_fit_max(NULL, 1ull << 30), 0);

    /* The cgroup peak wins over the tree's RSS when known. */
    for (size_t i = 0; i < MW_ARRAY_LEN(p); i++) {
        p[i].cgroup_peak_bytes = p[i].peak_rss_bytes;
        p[i].peak_rss_bytes = (i % 2) ? 1 : 5ull << 30; /* would ruin the fit */
    }
    p[0].peak_rss_bytes = linear_mem(batches[0]);
    p[0].cgroup_peak_bytes = MW_UNKNOWN; /* this one falls back to RSS */
    mw_sweep_fit_points(p, MW_ARRAY_LEN(p), MW_SWEEP_BATCH, &f);
    assert_true(f.valid);
    assert_float_equal(f.fixed_bytes, 100 * MIB, 1e-3);
    assert_float_equal(f.per_item_bytes, 10 * MIB, 1e-6);
    assert_float_equal(f.r2, 1.0, 1e-12);
}

static void fit_noisy(void **state)
{
    (void)state;
    /* +-1% noise, a fixed pattern (reproducible). */
    static const double noise[] = {+0.01, -0.01, +0.006, -0.008, +0.01, -0.004, +0.002, -0.01};
    mw_sweep_point p[MW_ARRAY_LEN(noise)];
    for (size_t i = 0; i < MW_ARRAY_LEN(noise); i++) {
        uint32_t b = 1u << i;
        p[i] = pt(b, MW_POINT_OK, (uint64_t)((double)linear_mem(b) * (1 + noise[i])), -1);
    }
    mw_sweep_fit f;
    mw_sweep_fit_points(p, MW_ARRAY_LEN(p), MW_SWEEP_BATCH, &f);
    assert_true(f.valid);
    assert_true(fabs(f.fixed_bytes / (100 * MIB) - 1) < 0.02);
    assert_true(fabs(f.per_item_bytes / (10 * MIB) - 1) < 0.02);
    assert_true(f.r2 > 0.99 && f.r2 < 1.0);
    uint32_t m = mw_sweep_fit_max(&f, 1ull << 30);
    assert_true(m >= 90 && m <= 94);
}

static void fit_only_ok_points(void **state)
{
    (void)state;
    mw_sweep_point p[] = {
        pt(64, MW_POINT_OOM, 1ull << 30, -1), /* killed at the cap: not on the line */
        pt(1, MW_POINT_OK, linear_mem(1), 10),
        pt(128, MW_POINT_TIMEOUT, 3ull << 30, -1),
        pt(2, MW_POINT_OK, linear_mem(2), 20),
        pt(3, MW_POINT_FAILED, 1, -1),
        pt(4, MW_POINT_OK, linear_mem(4), 40),
        pt(8, MW_POINT_OK, MW_UNKNOWN, 80), /* memory not measured */
    };
    mw_sweep_fit f;
    mw_sweep_fit_points(p, MW_ARRAY_LEN(p), MW_SWEEP_BATCH, &f);
    assert_true(f.valid);
    assert_int_equal(f.n_points, 3);
    assert_float_equal(f.fixed_bytes, 100 * MIB, 1e-3);
    assert_float_equal(f.per_item_bytes, 10 * MIB, 1e-6);
    assert_float_equal(f.r2, 1.0, 1e-12);
}

static void fit_degenerate(void **state)
{
    (void)state;
    mw_sweep_fit f;
    memset(&f, 0x5a, sizeof f);
    mw_sweep_fit_points(NULL, 0, MW_SWEEP_BATCH, &f);
    assert_false(f.valid);
    assert_int_equal(f.n_points, 0);
    assert_int_equal(mw_sweep_fit_max(&f, 1ull << 30), 0);
    mw_sweep_fit_points(NULL, 0, MW_SWEEP_BATCH, NULL);

    /* One point; then two of the same batch: no slope. */
    mw_sweep_point p[] = {pt(4, MW_POINT_OK, linear_mem(4), 1), pt(4, MW_POINT_OK, linear_mem(4) + 7, 1)};
    mw_sweep_fit_points(p, 1, MW_SWEEP_BATCH, &f);
    assert_false(f.valid);
    assert_int_equal(f.n_points, 1);
    mw_sweep_fit_points(p, 2, MW_SWEEP_BATCH, &f);
    assert_false(f.valid);
    assert_int_equal(f.n_points, 2);
    assert_int_equal(mw_sweep_fit_max(&f, 1ull << 30), 0);

    /* Memory that does not grow with the batch: every batch fits (if the
     * fixed part does). */
    mw_sweep_point c[] = {pt(1, MW_POINT_OK, 500ull << 20, 1), pt(8, MW_POINT_OK, 500ull << 20, 2)};
    mw_sweep_fit_points(c, 2, MW_SWEEP_BATCH, &f);
    assert_true(f.valid);
    assert_float_equal(f.per_item_bytes, 0, 0);
    assert_float_equal(f.fixed_bytes, 500 * MIB, 0);
    assert_float_equal(f.r2, 1.0, 0);
    assert_true(mw_sweep_fit_max(&f, 1ull << 30) == UINT32_MAX);
    /* Memory that shrinks with the batch: the same answer. */
    c[1].peak_rss_bytes = 400ull << 20;
    mw_sweep_fit_points(c, 2, MW_SWEEP_BATCH, &f);
    assert_true(f.per_item_bytes < 0);
    assert_true(mw_sweep_fit_max(&f, 1ull << 30) == UINT32_MAX);
}

static void knee_at_four(void **state)
{
    (void)state;
    /* Gains per doubling: +90%, +84%, +5.7%, +1.4%: the knee is batch 4. */
    mw_sweep_point p[] = {
        pt(1, MW_POINT_OK, linear_mem(1), 100), pt(2, MW_POINT_OK, linear_mem(2), 190),
        pt(4, MW_POINT_OK, linear_mem(4), 350), pt(8, MW_POINT_OK, linear_mem(8), 370),
        pt(16, MW_POINT_OK, linear_mem(16), 375),
    };
    mw_verdict v[MW_ARRAY_LEN(p)];
    mw_sweep_analysis a;
    analyze(p, MW_ARRAY_LEN(p), v, &a);
    assert_int_equal(a.knee, 4);
    assert_int_equal(a.cliff, 0);
    assert_int_equal(a.max_fit, 16);
    assert_int_equal(a.first_fail, 0);
    assert_true(a.fit.valid);
    assert_int_equal(a.overall, MW_VERDICT_COMPUTE);
    assert_int_equal(v[0], MW_VERDICT_BANDWIDTH);
    assert_int_equal(v[1], MW_VERDICT_BANDWIDTH);
    assert_int_equal(v[2], MW_VERDICT_BANDWIDTH);
    assert_int_equal(v[3], MW_VERDICT_COMPUTE);
    assert_int_equal(v[4], MW_VERDICT_COMPUTE);
    assert_non_null(strstr(a.reason, "throughput stops growing after batch 4 (+6% for 8)"));
    assert_non_null(strstr(a.reason, "no paging or out-of-memory up to batch 16 (peak 260 MiB)"));

    /* The verdicts may be left out. */
    mw_sweep_analysis b;
    mw_sweep_analyze(p, MW_ARRAY_LEN(p), MW_SWEEP_BATCH, NULL, NULL, &b);
    assert_int_equal(b.knee, 4);
    assert_int_equal(b.overall, MW_VERDICT_COMPUTE);
    mw_sweep_analyze(p, MW_ARRAY_LEN(p), MW_SWEEP_BATCH, NULL, v, NULL);
    assert_int_equal(v[4], MW_VERDICT_COMPUTE);
}

static void knee_per_doubling(void **state)
{
    (void)state;
    /* Steps longer than a doubling are judged per doubling: +10% from 4 to
     * 16 is +4.9% per doubling, a knee; a step shorter than a doubling
     * counts as one (the bisection's 20 -> 21 would multiply its noise
     * x14): +5% from 4 to 5 is a knee, +12% is not. */
    mw_sweep_point p[] = {
        pt(1, MW_POINT_OK, linear_mem(1), 100), pt(4, MW_POINT_OK, linear_mem(4), 300),
        pt(16, MW_POINT_OK, linear_mem(16), 330),
    };
    mw_sweep_analysis a;
    analyze(p, MW_ARRAY_LEN(p), NULL, &a);
    assert_int_equal(a.knee, 4);
    p[2].batch = 5;
    p[2].throughput = 315;
    analyze(p, MW_ARRAY_LEN(p), NULL, &a);
    assert_int_equal(a.knee, 4);
    p[2].throughput = 336;
    analyze(p, MW_ARRAY_LEN(p), NULL, &a);
    assert_int_equal(a.knee, 0);
    assert_int_equal(a.overall, MW_VERDICT_BANDWIDTH);

    /* Every larger batch is judged, not the next only: a noisy dip at 4
     * followed by growth is not a knee (4 -> 8 gains 122%, 2 -> 8 45%
     * per doubling); the demo's 32 -> 48 after 16 -> 32 at +12.5% is. */
    mw_sweep_point d[] = {pt(1, MW_POINT_OK, linear_mem(1), 100), pt(2, MW_POINT_OK, linear_mem(2), 190),
                          pt(4, MW_POINT_OK, linear_mem(4), 180), pt(8, MW_POINT_OK, linear_mem(8), 400)};
    analyze(d, 4, NULL, &a);
    assert_int_equal(a.knee, 0);
    mw_sweep_point e[] = {pt(8, MW_POINT_OK, linear_mem(8), 467), pt(16, MW_POINT_OK, linear_mem(16), 529),
                          pt(32, MW_POINT_OK, linear_mem(32), 595), pt(48, MW_POINT_OK, linear_mem(48), 612)};
    analyze(e, 4, NULL, &a);
    assert_int_equal(a.knee, 32);

    /* A gain counts when the runs are apart: the demo's figures of a
     * fresh-clone CI run (means 431, 499, 599 at 16, 32, 48, three runs
     * each): every run at 48 (593-601) beat every run at 32 (484-567):
     * +20%, no knee. Had one run at 48 been as slow as 560, the gain is
     * within the spread, and 32 is the knee. */
    mw_sweep_point sp[] = {pt(16, MW_POINT_OK, linear_mem(16), 431), pt(32, MW_POINT_OK, linear_mem(32), 499),
                           pt(48, MW_POINT_OK, linear_mem(48), 599)};
    const double lo[] = {369, 484, 593}, hi[] = {489, 567, 601};
    for (int i = 0; i < 3; i++) {
        sp[i].runs = 3;
        sp[i].throughput_min = lo[i];
        sp[i].throughput_max = hi[i];
    }
    analyze(sp, 3, NULL, &a);
    assert_int_equal(a.knee, 0);
    sp[2].throughput_min = 560;
    analyze(sp, 3, NULL, &a);
    assert_int_equal(a.knee, 32);
    assert_non_null(strstr(a.reason, "after batch 32 (+20% for 48, within the runs' spread)"));

    /* Flat from the start: the knee is the first batch. */
    mw_sweep_point f[] = {pt(1, MW_POINT_OK, linear_mem(1), 100), pt(2, MW_POINT_OK, linear_mem(2), 101),
                          pt(4, MW_POINT_OK, linear_mem(4), 102)};
    mw_verdict v[3];
    analyze(f, 3, v, &a);
    assert_int_equal(a.knee, 1);
    assert_int_equal(a.overall, MW_VERDICT_COMPUTE);
    assert_int_equal(v[0], MW_VERDICT_BANDWIDTH);
    assert_int_equal(v[1], MW_VERDICT_COMPUTE);

    /* Repeats of a batch share their mean throughput (200 and 180: 190). */
    mw_sweep_point r[] = {pt(1, MW_POINT_OK, linear_mem(1), 100), pt(2, MW_POINT_OK, linear_mem(2), 200),
                          pt(2, MW_POINT_OK, linear_mem(2), 180), pt(4, MW_POINT_OK, linear_mem(4), 205)};
    analyze(r, 4, NULL, &a);
    assert_int_equal(a.knee, 2);
    assert_non_null(strstr(a.reason, "after batch 2 (+8% for 4)"));
}

/* 1..16 doubling with throughput doubling too: memory bandwidth all along. */
static void bandwidth_sweep(mw_sweep_point *p)
{
    for (uint32_t i = 0; i < 5; i++) p[i] = pt(1u << i, MW_POINT_OK, linear_mem(1u << i), 100.0 * (1u << i));
}

static void bandwidth_only(void **state)
{
    (void)state;
    mw_sweep_point p[5];
    bandwidth_sweep(p);
    mw_verdict v[5];
    mw_sweep_analysis a;
    analyze(p, 5, v, &a);
    assert_int_equal(a.knee, 0);
    assert_int_equal(a.cliff, 0);
    assert_int_equal(a.max_fit, 16);
    assert_int_equal(a.overall, MW_VERDICT_BANDWIDTH);
    for (int i = 0; i < 5; i++) assert_int_equal(v[i], MW_VERDICT_BANDWIDTH);
    assert_non_null(strstr(a.reason, "100 items/s at batch 1, 1600 at batch 16"));
    assert_non_null(strstr(a.reason, "up to batch 16 (peak 260 MiB)"));
}

static void cliff_by_swap_in(void **state)
{
    (void)state;
    mw_sweep_point p[5];
    bandwidth_sweep(p);
    p[1].swap_in_bytes = MW_UNKNOWN;     /* not measured: no evidence */
    p[2].swap_in_bytes = 16ull << 20;    /* at the threshold (16 MiB > 5% of 140): not above */
    p[3].swap_in_bytes = 40ull << 20;    /* batch 8 */
    mw_verdict v[5];
    mw_sweep_analysis a;
    analyze(p, 5, v, &a);
    assert_int_equal(a.cliff, 8);
    assert_int_equal(a.knee, 0); /* throughput was still doubling below */
    assert_int_equal(a.overall, MW_VERDICT_PAGING);
    assert_int_equal(v[0], MW_VERDICT_BANDWIDTH);
    assert_int_equal(v[2], MW_VERDICT_BANDWIDTH);
    assert_int_equal(v[3], MW_VERDICT_PAGING);
    assert_int_equal(v[4], MW_VERDICT_PAGING);
    assert_non_null(strstr(a.reason, "paging from batch 8 (peak 180 MiB): 40.0 MiB swapped in (threshold 16.0 MiB, 5% of the peak)"));
    assert_non_null(strstr(a.reason, "until then throughput grew"));

    /* A higher threshold: no cliff. */
    mw_cliff_thresholds t;
    mw_cliff_thresholds_init(&t);
    t.min_bytes = 64ull << 20;
    mw_sweep_analyze(p, 5, MW_SWEEP_BATCH, &t, v, &a);
    assert_int_equal(a.cliff, 0);
    assert_int_equal(a.overall, MW_VERDICT_BANDWIDTH);
}

static void cliff_by_major_faults(void **state)
{
    (void)state;
    mw_sweep_point p[5];
    bandwidth_sweep(p);
    /* a cold start reads its working set once: only more is paging */
    p[0].major_faults = MW_UNKNOWN;
    p[1].major_faults = 30720; /* batch 2: 120 MiB of 4 KiB pages, its peak: at the threshold */
    p[2].major_faults = 35841; /* batch 4: one page above its 140 MiB */
    p[3].major_faults = 0;    /* later points follow the cliff anyway */
    mw_verdict v[5];
    mw_sweep_analysis a;
    analyze(p, 5, v, &a);
    assert_int_equal(a.cliff, 4);
    assert_int_equal(a.overall, MW_VERDICT_PAGING);
    assert_int_equal(v[1], MW_VERDICT_BANDWIDTH);
    assert_int_equal(v[2], MW_VERDICT_PAGING);
    assert_int_equal(v[3], MW_VERDICT_PAGING);
    assert_non_null(strstr(a.reason, "paging from batch 4 (peak 140 MiB): 35841 major faults, 140 MiB read (threshold 140 MiB, 100% of the peak)"));
}

static void cliff_by_psi(void **state)
{
    (void)state;
    mw_sweep_point p[5];
    bandwidth_sweep(p);
    p[0].psi_some_seconds = 5;   /* no wall time: no share */
    p[0].wall_seconds = 0;
    p[1].psi_some_seconds = 0.2; /* 10% of 2 s: at the threshold */
    p[1].wall_seconds = 2;
    p[2].psi_some_seconds = -1;  /* unknown */
    p[3].psi_some_seconds = 0.3; /* 15% of 2 s, batch 8 */
    p[3].wall_seconds = 2;
    mw_verdict v[5];
    mw_sweep_analysis a;
    /* a stall with no page traffic of the point's own: another process's
     * (v1 has only the system's PSI), not paging */
    analyze(p, 5, v, &a);
    assert_int_equal(a.cliff, 0);
    /* with some traffic (5 MiB refaulted: above a quarter of 16 MiB) */
    for (int i = 0; i < 5; i++) p[i].refaults = 1280;
    analyze(p, 5, v, &a);
    assert_int_equal(a.cliff, 8);
    assert_int_equal(a.overall, MW_VERDICT_PAGING);
    assert_non_null(strstr(a.reason, "stalled on memory 15% of the time (threshold 10%)"));
}

static void cliff_by_throughput_drop(void **state)
{
    (void)state;
    /* 400 -> 280: 30% below the best of smaller batches. */
    mw_sweep_point p[] = {
        pt(1, MW_POINT_OK, linear_mem(1), 100), pt(2, MW_POINT_OK, linear_mem(2), 200),
        pt(4, MW_POINT_OK, linear_mem(4), 400), pt(8, MW_POINT_OK, linear_mem(8), 280),
        pt(16, MW_POINT_OK, linear_mem(16), 350),
    };
    mw_verdict v[5];
    mw_sweep_analysis a;
    /* a fall with no sign of memory pressure is not paging (noise, or the
     * step's own arithmetic): no cliff */
    analyze(p, 5, v, &a);
    assert_int_equal(a.cliff, 0);
    assert_true(a.overall != MW_VERDICT_PAGING);
    /* some pressure beside it (2000 pages refaulted, 7.8 MiB: above a
     * quarter of the 18 MiB threshold, below the threshold itself) ... */
    p[3].refaults = 2000;
    p[4].refaults = 2000;
    /* ... but one run a point measures no spread: no cliff */
    analyze(p, 5, v, &a);
    assert_int_equal(a.cliff, 0);
    /* ... nor when the runs' ranges overlap (the fastest run of batch 8 as
     * fast as the slowest of batch 4) */
    for (int i = 0; i < 5; i++) {
        p[i].runs = 3;
        p[i].throughput_min = p[i].throughput * 0.95;
        p[i].throughput_max = p[i].throughput * 1.05;
    }
    p[3].throughput_max = 381;
    p[2].throughput_min = 380;
    analyze(p, 5, v, &a);
    assert_int_equal(a.cliff, 0);
    /* with the ranges apart, the fall is beyond the noise: the cliff */
    p[3].throughput_max = 294;
    analyze(p, 5, v, &a);
    assert_int_equal(a.cliff, 8);
    assert_int_equal(a.knee, 0); /* the fall is the cliff's, not a knee */
    assert_int_equal(a.overall, MW_VERDICT_PAGING);
    assert_int_equal(v[2], MW_VERDICT_BANDWIDTH);
    assert_int_equal(v[3], MW_VERDICT_PAGING);
    assert_int_equal(v[4], MW_VERDICT_PAGING);
    assert_non_null(strstr(a.reason, "throughput 280 items/s, 30% below the 400 of batch 4 (threshold 25%, beyond the runs' spread)"));

    /* Exactly 25% below is not a cliff; the fall is then a knee. */
    p[3].throughput = 300;
    analyze(p, 5, v, &a);
    assert_int_equal(a.cliff, 0);
    assert_int_equal(a.knee, 4);
    assert_int_equal(a.overall, MW_VERDICT_COMPUTE);
    assert_non_null(strstr(a.reason, "after batch 4 (-25% for 8)"));
}

static void cliff_then_oom(void **state)
{
    (void)state;
    mw_sweep_point p[] = {
        pt(1, MW_POINT_OK, linear_mem(1), 100), pt(2, MW_POINT_OK, linear_mem(2), 190),
        pt(4, MW_POINT_OK, linear_mem(4), 350), pt(8, MW_POINT_OK, linear_mem(8), 370),
        pt(16, MW_POINT_TIMEOUT, linear_mem(16), -1), pt(32, MW_POINT_OOM, 1ull << 30, -1),
    };
    p[3].swap_in_bytes = 200ull << 20;
    p[4].swap_in_bytes = 900ull << 20; /* the timed-out point paged too */
    mw_verdict v[6];
    mw_sweep_analysis a;
    analyze(p, 6, v, &a);
    assert_int_equal(a.cliff, 8);
    assert_int_equal(a.knee, 0); /* 4 -> 8 is at the cliff: not judged */
    assert_int_equal(a.max_fit, 4); /* 8 ran, but paged: it did not fit */
    assert_int_equal(a.first_fail, 16);
    assert_int_equal(a.overall, MW_VERDICT_PAGING);
    assert_int_equal(v[2], MW_VERDICT_BANDWIDTH);
    assert_int_equal(v[3], MW_VERDICT_PAGING);
    assert_int_equal(v[4], MW_VERDICT_PAGING);
    assert_int_equal(v[5], MW_VERDICT_CAPACITY);
    assert_non_null(strstr(a.reason, "paging from batch 8"));
    assert_non_null(strstr(a.reason, "200 MiB swapped in"));
    assert_non_null(strstr(a.reason, "; out of memory at batch 32"));

    /* A timeout is a cliff by its own figures: first timeout, then ok. */
    p[3].swap_in_bytes = 0;
    analyze(p, 6, v, &a);
    assert_int_equal(a.cliff, 16);
    assert_int_equal(a.knee, 4);
    assert_int_equal(v[3], MW_VERDICT_COMPUTE);
    assert_int_equal(v[4], MW_VERDICT_PAGING);
    /* Without paging figures a timeout says nothing, and the OOM rules. */
    p[4].swap_in_bytes = 0;
    analyze(p, 6, v, &a);
    assert_int_equal(a.cliff, 0);
    assert_int_equal(v[4], MW_VERDICT_UNKNOWN);
    assert_int_equal(a.overall, MW_VERDICT_CAPACITY);
    assert_non_null(strstr(a.reason, "out of memory at batch 32 (peak 180 MiB at batch 8, the largest below it that fit)"));
}

/* Bandwidth-bound up to 8, the knee, then the wall at 64: the demo's story. */
static const mw_sweep_point *oom_sweep(size_t *n)
{
    static mw_sweep_point p[8];
    p[0] = pt(1, MW_POINT_OK, linear_mem(1), 100);
    p[1] = pt(2, MW_POINT_OK, linear_mem(2), 195);
    p[2] = pt(4, MW_POINT_OK, linear_mem(4), 380);
    p[3] = pt(8, MW_POINT_OK, linear_mem(8), 700);
    p[4] = pt(16, MW_POINT_OK, linear_mem(16), 730);
    p[5] = pt(32, MW_POINT_OK, linear_mem(32), 740);
    p[6] = pt(64, MW_POINT_OOM, 512ull << 20, -1);
    p[7] = pt(128, MW_POINT_OOM, 512ull << 20, -1);
    *n = 8;
    return p;
}

static void ends_in_oom(void **state)
{
    (void)state;
    size_t n;
    const mw_sweep_point *p = oom_sweep(&n);
    mw_verdict v[8];
    mw_sweep_analysis a;
    analyze(p, n, v, &a);
    assert_int_equal(a.max_fit, 32);
    assert_int_equal(a.first_fail, 64);
    assert_int_equal(a.knee, 8);
    assert_int_equal(a.cliff, 0);
    assert_int_equal(a.fit.n_points, 6);
    assert_float_equal(a.fit.per_item_bytes, 10 * MIB, 1e-6);
    assert_int_equal(a.overall, MW_VERDICT_CAPACITY);
    static const mw_verdict want[] = {MW_VERDICT_BANDWIDTH, MW_VERDICT_BANDWIDTH, MW_VERDICT_BANDWIDTH,
                                      MW_VERDICT_BANDWIDTH, MW_VERDICT_COMPUTE,   MW_VERDICT_COMPUTE,
                                      MW_VERDICT_CAPACITY,  MW_VERDICT_CAPACITY};
    for (size_t i = 0; i < n; i++) assert_int_equal(v[i], want[i]);
    assert_string_equal(a.reason, "out of memory at batch 64 (peak 420 MiB at batch 32, the largest below it "
                                  "that fit); throughput stops growing after batch 8 (+4% for 16)");

    /* Nothing fit at all. */
    mw_sweep_point o[] = {pt(8, MW_POINT_OOM, 1, -1), pt(4, MW_POINT_OOM, 1, -1)};
    analyze(o, 2, v, &a);
    assert_int_equal(a.overall, MW_VERDICT_CAPACITY);
    assert_int_equal(a.max_fit, 0);
    assert_int_equal(a.first_fail, 4);
    assert_false(a.fit.valid);
    assert_string_equal(a.reason, "out of memory at batch 4 (no smaller batch ran to the end)");
}

static void unsorted_input(void **state)
{
    (void)state;
    size_t n;
    const mw_sweep_point *sorted = oom_sweep(&n);
    static const size_t order[] = {6, 2, 7, 0, 5, 3, 1, 4};
    mw_sweep_point p[8];
    for (size_t i = 0; i < n; i++) p[i] = sorted[order[i]];
    mw_verdict vs[8], v[8];
    mw_sweep_analysis as, a;
    analyze(sorted, n, vs, &as);
    analyze(p, n, v, &a);
    assert_int_equal(a.max_fit, as.max_fit);
    assert_int_equal(a.first_fail, as.first_fail);
    assert_int_equal(a.knee, as.knee);
    assert_int_equal(a.cliff, as.cliff);
    assert_int_equal(a.overall, as.overall);
    assert_float_equal(a.fit.fixed_bytes, as.fit.fixed_bytes, 1e-3);
    assert_float_equal(a.fit.per_item_bytes, as.fit.per_item_bytes, 1e-6);
    assert_string_equal(a.reason, as.reason);
    for (size_t i = 0; i < n; i++) assert_int_equal(v[i], vs[order[i]]);

    /* And a cliff found in batch order, not input order. */
    mw_sweep_point c[5];
    bandwidth_sweep(c);
    c[4].swap_in_bytes = 1ull << 30;    /* batch 16 */
    c[3].major_faults = 50000;         /* batch 8 (195 MiB read of 180): the first */
    mw_sweep_point r[5] = {c[4], c[0], c[3], c[2], c[1]};
    analyze(r, 5, v, &a);
    assert_int_equal(a.cliff, 8);
    assert_int_equal(v[0], MW_VERDICT_PAGING);
    assert_int_equal(v[2], MW_VERDICT_PAGING);
    assert_int_equal(v[3], MW_VERDICT_BANDWIDTH);
}

static void empty_and_one_point(void **state)
{
    (void)state;
    mw_sweep_analysis a;
    memset(&a, 0x5a, sizeof a);
    analyze(NULL, 0, NULL, &a);
    assert_false(a.fit.valid);
    assert_int_equal(a.max_fit, 0);
    assert_int_equal(a.first_fail, 0);
    assert_int_equal(a.knee, 0);
    assert_int_equal(a.cliff, 0);
    assert_int_equal(a.overall, MW_VERDICT_UNKNOWN);
    assert_string_equal(a.reason, "no points measured");

    mw_sweep_point p[] = {pt(4, MW_POINT_OK, linear_mem(4), 300)};
    mw_verdict v[2];
    analyze(p, 1, v, &a);
    assert_false(a.fit.valid);
    assert_int_equal(a.fit.n_points, 1);
    assert_int_equal(a.max_fit, 4);
    assert_int_equal(a.knee, 0);
    assert_int_equal(a.cliff, 0);
    assert_int_equal(a.overall, MW_VERDICT_UNKNOWN);
    assert_int_equal(v[0], MW_VERDICT_BANDWIDTH); /* a throughput, not past a knee */
    assert_non_null(strstr(a.reason, "one batch only (4)"));

    /* Without throughput, nothing to judge but memory. */
    p[0].throughput = -1;
    analyze(p, 1, v, &a);
    assert_int_equal(v[0], MW_VERDICT_UNKNOWN);
    assert_int_equal(a.overall, MW_VERDICT_UNKNOWN);
    assert_non_null(strstr(a.reason, "no throughput measured (largest batch that ran to the end: 4)"));

    /* Only failures. */
    mw_sweep_point f[] = {pt(2, MW_POINT_FAILED, MW_UNKNOWN, -1), pt(1, MW_POINT_TIMEOUT, MW_UNKNOWN, -1)};
    analyze(f, 2, v, &a);
    assert_int_equal(a.overall, MW_VERDICT_UNKNOWN);
    assert_int_equal(a.first_fail, 1);
    assert_int_equal(a.max_fit, 0);
    assert_int_equal(v[0], MW_VERDICT_UNKNOWN);
    assert_int_equal(v[1], MW_VERDICT_UNKNOWN);
    assert_string_equal(a.reason, "no point ran to the end (1 timed out, 1 failed)");
}

static void reason_is_bounded(void **state)
{
    (void)state;
    /* Every trigger at once, with the longest numbers: still one string. */
    mw_sweep_point p[] = {pt(4000000000u, MW_POINT_OK, UINT64_MAX - 1, 1e300),
                          pt(4000000001u, MW_POINT_OK, UINT64_MAX - 1, 1e-300),
                          pt(4000000002u, MW_POINT_OOM, 1, -1)};
    p[1].swap_in_bytes = UINT64_MAX - 1;
    p[1].major_faults = UINT64_MAX - 1;
    p[1].psi_some_seconds = 1e300;
    p[1].wall_seconds = 1e-300;
    mw_verdict v[3];
    mw_sweep_analysis a;
    analyze(p, 3, v, &a);
    assert_int_equal(a.cliff, 4000000001u);
    assert_int_equal(a.overall, MW_VERDICT_PAGING);
}

/* ---- the context axis ---------------------------------------------------- */

/* A context sweep's point: batch 4 at ctx, 200 MiB + 96 KiB per token. */
static mw_sweep_point cpt(uint32_t ctx, mw_point_status status, double tput)
{
    mw_sweep_point q = pt(4, status, status == MW_POINT_OK ? (200ull << 20) + 96ull * 1024 * ctx : MW_UNKNOWN, tput);
    q.ctx = ctx;
    return q;
}

static void analyze_ctx(const mw_sweep_point *p, size_t n, mw_verdict *v, mw_sweep_analysis *a)
{
    mw_sweep_analyze(p, n, MW_SWEEP_CTX, NULL, v, a);
    assert_int_equal(a->axis, MW_SWEEP_CTX);
    assert_true(strlen(a->reason) > 0);
}

static void ctx_fit_and_wall(void **state)
{
    (void)state;
    assert_string_equal(mw_sweep_axis_name(MW_SWEEP_BATCH), "batch");
    assert_string_equal(mw_sweep_axis_name(MW_SWEEP_CTX), "ctx");
    /* throughput falls as the context grows: no knee, no cliff, no paging */
    mw_sweep_point p[] = {cpt(1024, MW_POINT_OK, 100), cpt(256, MW_POINT_OK, 120), cpt(512, MW_POINT_OK, 110),
                          cpt(4096, MW_POINT_OOM, -1), cpt(2048, MW_POINT_OK, 40), cpt(3072, MW_POINT_OOM, -1)};
    assert_int_equal(mw_sweep_point_x(&p[0], MW_SWEEP_CTX), 1024);
    assert_int_equal(mw_sweep_point_x(&p[0], MW_SWEEP_BATCH), 4);
    mw_verdict v[6];
    mw_sweep_analysis a;
    analyze_ctx(p, 6, v, &a);
    assert_true(a.fit.valid);
    assert_int_equal(a.fit.n_points, 4);
    assert_true(fabs(a.fit.per_item_bytes - 96.0 * 1024) < 1e-6);
    assert_true(fabs(a.fit.fixed_bytes - 200 * MIB) < 1e-3);
    assert_int_equal(a.max_fit, 2048);
    assert_int_equal(a.first_fail, 3072);
    assert_int_equal(a.knee, 0);
    assert_int_equal(a.cliff, 0);
    assert_int_equal(a.overall, MW_VERDICT_CAPACITY);
    assert_int_equal(v[0], MW_VERDICT_FITS);
    assert_int_equal(v[3], MW_VERDICT_CAPACITY);
    assert_int_equal(v[4], MW_VERDICT_FITS); /* a third of the speed, yet no sign of paging */
    assert_string_equal(a.reason, "out of memory at ctx 3072 (peak 392 MiB at ctx 2048, the largest below it that "
                                  "fit); throughput 120 items/s at ctx 256, 40.0 at ctx 2048");
    /* the fit's answer for a cap, in tokens: (1 GiB - 200 MiB) / 96 KiB */
    assert_int_equal(mw_sweep_fit_max(&a.fit, 1ull << 30), (1024 - 200) * 1024 / 96);

    /* the same points as a batch sweep see one batch: no fit */
    mw_sweep_analysis b;
    mw_sweep_analyze(p, 6, MW_SWEEP_BATCH, NULL, NULL, &b);
    assert_false(b.fit.valid);
}

static void ctx_no_wall_and_paging(void **state)
{
    (void)state;
    mw_sweep_point p[] = {cpt(256, MW_POINT_OK, 50), cpt(512, MW_POINT_OK, 49), cpt(1024, MW_POINT_OK, 48)};
    mw_verdict v[3];
    mw_sweep_analysis a;
    analyze_ctx(p, 3, v, &a);
    assert_int_equal(a.overall, MW_VERDICT_FITS);
    assert_string_equal(mw_verdict_name(a.overall), "fits");
    assert_string_equal(a.reason, "no paging or out-of-memory up to ctx 1024 (peak 296 MiB); memory grows by "
                                  "96.0 KiB per token of context; throughput 50.0 items/s at ctx 256, 48.0 at "
                                  "ctx 1024");
    /* a fall of throughput with a little pressure is no cliff along the
     * context (it is along the batch) ... */
    p[2].throughput = 10;
    p[2].refaults = 5000;
    analyze_ctx(p, 3, v, &a);
    assert_int_equal(a.cliff, 0);
    assert_int_equal(a.overall, MW_VERDICT_FITS);
    /* ... but swap-in above the threshold is */
    p[2].swap_in_bytes = 64ull << 20;
    analyze_ctx(p, 3, v, &a);
    assert_int_equal(a.cliff, 1024);
    assert_int_equal(a.overall, MW_VERDICT_PAGING);
    assert_int_equal(v[1], MW_VERDICT_FITS);
    assert_int_equal(v[2], MW_VERDICT_PAGING);
    assert_non_null(strstr(a.reason, "paging from ctx 1024 (peak 296 MiB): 64.0 MiB swapped in"));
}

/* ---- GPU memory and out-of-memory messages ------------------------------- */

static void oom_messages(void **state)
{
    (void)state;
    assert_null(mw_oom_kind_name(MW_OOM_NONE));
    assert_string_equal(mw_oom_kind_name(MW_OOM_CGROUP), "cgroup");
    assert_string_equal(mw_oom_kind_name(MW_OOM_HOST), "host");
    assert_string_equal(mw_oom_kind_name(MW_OOM_GPU), "gpu");
    assert_null(mw_oom_kind_name((mw_oom_kind)99));
    static const struct { const char *text; mw_oom_kind want; } cases[] = {
        {"torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB", MW_OOM_GPU},
        {"RuntimeError: CUDA error: out of memory\nCUDA kernel errors might be", MW_OOM_GPU},
        {"cuMemAlloc: CUDA_ERROR_OUT_OF_MEMORY", MW_OOM_GPU},
        {"error: cudaErrorMemoryAllocation", MW_OOM_GPU},
        {"ggml_backend_cuda_buffer_type_alloc_buffer: allocating 8192.00 MiB on device 0: cudaMalloc failed: "
         "out of memory", MW_OOM_GPU},
        {"torch.OutOfMemoryError: HIP out of memory.", MW_OOM_GPU},
        {"jaxlib.xla_extension.XlaRuntimeError: RESOURCE_EXHAUSTED: Out of memory while trying", MW_OOM_GPU},
        {"Traceback (most recent call last):\nMemoryError", MW_OOM_HOST},
        {"terminate called after throwing an instance of 'std::bad_alloc'", MW_OOM_HOST},
        {"mmap: Cannot allocate memory", MW_OOM_HOST},
        {"[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory: you tried", MW_OOM_HOST},
        {"memwall: out of memory for the KV cache (2 x 1024 bytes)", MW_OOM_HOST},
        {"Segmentation fault", MW_OOM_NONE},
        {"", MW_OOM_NONE},
    };
    for (size_t i = 0; i < MW_ARRAY_LEN(cases); i++) {
        if (mw_oom_from_output(cases[i].text) != cases[i].want) fail_msg("case %zu: %s", i, cases[i].text);
    }
    assert_int_equal(mw_oom_from_output(NULL), MW_OOM_NONE);
}

static void gpu_fit_and_wall(void **state)
{
    (void)state;
    /* host memory flat at 2 GiB; GPU 1 GiB + 512 MiB per item; a CUDA OOM at 8 */
    mw_sweep_point p[4];
    for (uint32_t i = 0; i < 4; i++) {
        uint32_t b = 1u << i;
        p[i] = pt(b, i < 3 ? MW_POINT_OK : MW_POINT_OOM, 2ull << 30, i < 3 ? 100.0 * b : -1);
        p[i].peak_gpu_bytes = (1ull << 30) + (512ull << 20) * b;
    }
    p[3].oom = MW_OOM_GPU;
    mw_verdict v[4];
    mw_sweep_analysis a;
    analyze(p, 4, v, &a);
    assert_true(a.fit.valid);
    assert_true(fabs(a.fit.per_item_bytes) < 1e-3);
    assert_true(a.fit_gpu.valid);
    assert_int_equal(a.fit_gpu.n_points, 3);
    assert_true(fabs(a.fit_gpu.per_item_bytes - 512 * MIB) < 1e-3);
    assert_true(fabs(a.fit_gpu.fixed_bytes - 1024 * MIB) < 1e-3);
    assert_int_equal(mw_sweep_fit_max(&a.fit_gpu, 8ull << 30), 14);
    assert_int_equal(a.overall, MW_VERDICT_CAPACITY);
    assert_non_null(strstr(a.reason, "out of GPU memory at batch 8 (peak 3.00 GiB at batch 4, the largest below"));
    /* the host's OOM killer: host memory, host wording */
    p[3].oom = MW_OOM_CGROUP;
    analyze(p, 4, v, &a);
    assert_non_null(strstr(a.reason, "out of memory at batch 8 (peak 2.00 GiB at batch 4"));
    /* GPU memory of 0 (NVML saw the process hold none) is no GPU wall */
    for (int i = 0; i < 4; i++) p[i].peak_gpu_bytes = 0;
    analyze(p, 4, v, &a);
    assert_false(a.fit_gpu.valid);
}

static void rates_from_the_plan(void **state)
{
    (void)state;
    /* 1e9 bytes and 1e9 FLOPs a sequence per step: 100 tokens/s at batch 1
     * is 100 steps/s; 400 at batch 8 is 50 steps/s */
    mw_sweep_point p[] = {pt(1, MW_POINT_OK, linear_mem(1), 100), pt(2, MW_POINT_OK, linear_mem(2), 190),
                          pt(4, MW_POINT_OK, linear_mem(4), 360), pt(8, MW_POINT_OK, linear_mem(8), 370)};
    for (int i = 0; i < 4; i++) {
        p[i].step_bytes = 1e9;
        p[i].step_flops = 1e9 * p[i].batch;
    }
    double bps, fps;
    assert_true(mw_sweep_point_rates(&p[3], &bps, &fps));
    assert_true(fabs(bps - 1e9 * 370 / 8) < 1e-3);
    assert_true(fabs(fps - 370e9) < 1e-3);
    p[3].step_bytes = 0;
    assert_false(mw_sweep_point_rates(&p[3], &bps, &fps));
    p[3].step_bytes = 1e9;
    mw_sweep_point failed = pt(16, MW_POINT_OOM, MW_UNKNOWN, -1);
    failed.step_bytes = 1e9;
    assert_false(mw_sweep_point_rates(&failed, &bps, &fps));

    mw_verdict v[4];
    mw_sweep_analysis a;
    analyze(p, 4, v, &a);
    assert_int_equal(a.knee, 4);
    assert_non_null(strstr(a.reason, "; per the plan's decode step: 100 GB/s and 100 GFLOP/s at batch 1 (1 FLOP a "
                                     "byte), 90 GB/s and 360 GFLOP/s at batch 4 (4 FLOP a byte)"));
}


/* ---- which memory, and paging judged on evidence (issue #9) -------------- */

static void memory_counts_file_pages(void **state)
{
    (void)state;
    /* A memory-mapped model cached before the point (issue #9's GGUF
     * sweep): the cgroup was charged 7.6 MB, the process had 210 MB
     * resident. One process: its RSS is what it used. */
    mw_sweep_point q = pt(2, MW_POINT_OK, 210000000, 10);
    q.cgroup_peak_bytes = 7600000;
    q.peak_process_rss_bytes = 210000000;
    q.max_processes = 1;
    mw_memory_source src;
    assert_true(mw_sweep_point_memory_of(&q, &src) == 210000000);
    assert_int_equal(src, MW_MEMORY_RSS);
    assert_string_equal(mw_memory_source_name(src), "rss");
    /* a tree of several processes counts shared pages once a process in
     * its RSS sum: its largest process's own peak is taken instead (a shell
     * wrapper and the model's process, or a tracer sharing its memory) */
    q.max_processes = 3;
    q.peak_rss_bytes = 600000000; /* three processes sharing 200 MB */
    q.peak_process_rss_bytes = 205000000;
    assert_true(mw_sweep_point_memory_of(&q, &src) == 205000000);
    assert_int_equal(src, MW_MEMORY_RSS);
    q.peak_process_rss_bytes = MW_UNKNOWN; /* not known (a resumed old file) */
    assert_true(mw_sweep_point_memory_of(&q, &src) == 7600000);
    assert_int_equal(src, MW_MEMORY_CGROUP);
    assert_string_equal(mw_memory_source_name(src), "cgroup");
    q.peak_rss_bytes = 210000000;
    /* the cgroup's peak when it is the larger (page cache the point read) */
    q.max_processes = 1;
    q.cgroup_peak_bytes = 250000000;
    assert_true(mw_sweep_point_memory(&q) == 250000000);
    /* no cgroup: RSS; nothing: unknown */
    q.cgroup_peak_bytes = MW_UNKNOWN;
    assert_true(mw_sweep_point_memory_of(&q, &src) == 210000000);
    assert_int_equal(src, MW_MEMORY_RSS);
    q.peak_rss_bytes = MW_UNKNOWN;
    assert_true(mw_sweep_point_memory_of(&q, &src) == MW_UNKNOWN);
    assert_int_equal(src, MW_MEMORY_UNKNOWN);
    assert_null(mw_memory_source_name(src));
}

static void noise_is_not_paging(void **state)
{
    (void)state;
    /* issue #9's PyTorch sweep, one run a point: throughput 3.40 -> 2.00
     * samples/s with 171 MiB of a 768 MiB cap, no swap, 4 major faults.
     * Not paging. */
    mw_sweep_point p[] = {
        pt(1, MW_POINT_OK, 160ull << 20, 1.9), pt(2, MW_POINT_OK, 165ull << 20, 3.4),
        pt(4, MW_POINT_OK, 171ull << 20, 2.0), pt(8, MW_POINT_OK, 180ull << 20, 3.0),
    };
    for (int i = 0; i < 4; i++) {
        p[i].major_faults = 4;
        p[i].refaults = 40;
        p[i].psi_some_seconds = 0.001;
    }
    mw_verdict v[4];
    mw_sweep_analysis a;
    analyze(p, 4, v, &a);
    assert_int_equal(a.cliff, 0);
    assert_true(a.overall != MW_VERDICT_PAGING);
    for (int i = 0; i < 4; i++) {
        assert_true(v[i] != MW_VERDICT_PAGING);
        assert_false(mw_sweep_point_paging(&p[i], NULL));
    }
    /* A cold start of a memory-mapped model: major faults for the whole
     * file once (and readahead makes them few). Not paging either. */
    p[3].major_faults = (180ull << 20) / 4096;
    assert_false(mw_sweep_point_paging(&p[3], NULL));
    /* Weights evicted at the cap and read back: refaults of 2 GiB at a
     * 514 MiB peak (the 135M model's batch 22 under 512 MiB) are. */
    mw_sweep_point q = pt(22, MW_POINT_OK, 514ull << 20, 75);
    q.refaults = (2ull << 30) / 4096;
    assert_true(mw_sweep_point_paging(&q, NULL));
    q.refaults = (51ull << 20) / 4096; /* 51 MiB: under 10% of the peak */
    assert_false(mw_sweep_point_paging(&q, NULL));
    mw_cliff_thresholds t;
    mw_cliff_thresholds_init(&t);
    t.refault_share = 0.05;
    assert_true(mw_sweep_point_paging(&q, &t));
    /* pressure, the weaker sign an auto sweep's early stop needs beside a
     * halved throughput (issue #14: the demo at F16 halved at batch 8 on a
     * shared host with no fault, and the sweep stopped there, 20 batches
     * short of the memory wall): a quarter of a threshold is pressure */
    mw_sweep_point quiet = pt(8, MW_POINT_OK, 295ull << 20, 218);
    assert_false(mw_sweep_point_pressure(&quiet, NULL));
    assert_false(mw_sweep_point_pressure(NULL, NULL));
    quiet.refaults = (20ull << 20) / 4096; /* 20 MiB of 295: 2/3 of 10% */
    assert_true(mw_sweep_point_pressure(&quiet, NULL));
    assert_false(mw_sweep_point_paging(&quiet, NULL));
    assert_false(mw_sweep_point_paging(NULL, NULL));
}

static void paging_points_leave_the_fit(void **state)
{
    (void)state;
    /* 100 MiB + 10 MiB a batch until batch 8, which pages at a 170 MiB cap
     * (its memory is the cap's, not its demand): out of the fit, and not
     * the largest batch that fits. */
    mw_sweep_point p[] = {
        pt(1, MW_POINT_OK, linear_mem(1), 100), pt(2, MW_POINT_OK, linear_mem(2), 190),
        pt(4, MW_POINT_OK, linear_mem(4), 350), pt(8, MW_POINT_OK, 170ull << 20, 60),
    };
    p[3].refaults = (1ull << 30) / 4096;
    mw_verdict v[4];
    mw_sweep_analysis a;
    analyze(p, 4, v, &a);
    assert_int_equal(a.cliff, 8);
    assert_int_equal(a.max_fit, 4);
    assert_true(a.fit.valid);
    assert_int_equal(a.fit.n_points, 3);
    assert_float_equal(a.fit.fixed_bytes, 100.0 * (1 << 20), 1);
    assert_float_equal(a.fit.per_item_bytes, 10.0 * (1 << 20), 1e-3);
    assert_non_null(strstr(a.reason, "1.00 GiB refaulted, evicted and read back (threshold 17.0 MiB, 10% of the peak)"));
}

/* ---- verdicts against this machine's ceilings (issue #11) ---------------- */

/* The lead's example machine: 25.9 GB/s of DRAM read, 233 GFLOP/s FP32 on
 * 2 threads, from a profile file. */
static mw_ceilings machine(void)
{
    mw_ceilings c;
    memset(&c, 0, sizeof c);
    c.dram_read_bytes_per_second = 25.9e9;
    c.peak_flops_f32 = 233e9;
    c.threads = 2;
    snprintf(c.measured, sizeof c.measured, "2026-12-03 10:04 UTC");
    snprintf(c.path, sizeof c.path, "/home/u/.cache/memwall/machine.json");
    return c;
}

/* An engine point whose plan's step makes its throughput reach these
 * fractions of c's ceilings. */
static mw_sweep_point at(uint32_t batch, double tput, double bw, double fl, const mw_ceilings *c)
{
    mw_sweep_point q = pt(batch, MW_POINT_OK, linear_mem(batch), tput);
    double steps = tput / batch;
    q.step_bytes = bw * c->dram_read_bytes_per_second / steps;
    q.step_flops = fl * c->peak_flops_f32 / steps;
    return q;
}

static void analyze_c(const mw_sweep_point *p, size_t n, const mw_ceilings *c, mw_verdict *v, mw_sweep_analysis *a)
{
    mw_cliff_thresholds t;
    mw_cliff_thresholds_init(&t);
    mw_sweep_analyze_ceilings(p, n, MW_SWEEP_BATCH, &t, c, v, a);
    assert_true(strlen(a->reason) > 0);
    assert_true(strlen(a->reason) < sizeof a->reason);
    assert_true(strlen(a->judged) > 0);
    assert_true(strlen(a->judged) < sizeof a->judged);
}

static void has(const char *s, const char *needle)
{
    if (!strstr(s, needle)) fail_msg("'%s' should contain '%s'", s, needle);
}

static void fractions_of_a_point(void **state)
{
    (void)state;
    mw_ceilings c = machine();
    mw_sweep_point q = at(4, 40, 0.9, 0.1, &c);
    double bw = 0, fl = 0;
    assert_true(mw_sweep_point_fractions(&q, &c, &bw, &fl));
    assert_float_equal(bw, 0.9, 1e-12);
    assert_float_equal(fl, 0.1, 1e-12);
    /* the rates they come from: step figures x steps/s */
    double bps, fps;
    assert_true(mw_sweep_point_rates(&q, &bps, &fps));
    assert_float_equal(bps / c.dram_read_bytes_per_second, bw, 1e-12);
    assert_true(mw_sweep_point_fractions(&q, &c, NULL, NULL));
    /* unknown: no ceilings, one figure missing, no step figures, no
     * throughput, a point that did not finish; the outputs say -1 */
    assert_false(mw_sweep_point_fractions(&q, NULL, &bw, &fl));
    assert_float_equal(bw, -1, 0);
    assert_float_equal(fl, -1, 0);
    mw_ceilings half = c;
    half.peak_flops_f32 = 0;
    assert_false(mw_sweep_point_fractions(&q, &half, &bw, &fl));
    half = c;
    half.dram_read_bytes_per_second = NAN;
    assert_false(mw_sweep_point_fractions(&q, &half, &bw, &fl));
    mw_sweep_point cmd = pt(4, MW_POINT_OK, linear_mem(4), 40);
    assert_false(mw_sweep_point_fractions(&cmd, &c, &bw, &fl));
    mw_sweep_point none = q;
    none.throughput = -1;
    assert_false(mw_sweep_point_fractions(&none, &c, &bw, &fl));
    mw_sweep_point oom = q;
    oom.status = MW_POINT_OOM;
    assert_false(mw_sweep_point_fractions(&oom, &c, &bw, &fl));
    assert_false(mw_sweep_point_fractions(NULL, &c, &bw, &fl));
}

static void ceilings_say_bandwidth(void **state)
{
    (void)state;
    mw_ceilings c = machine();
    /* The curve has a knee at 4 (batch 8 gains nothing) and would call
     * batch 8 compute; every point moves 0.5-0.93 of DRAM's bandwidth and
     * does 0.1 of the FP32 peak: all memory bandwidth. */
    mw_sweep_point p[] = {at(1, 12, 0.5, 0.02, &c), at(2, 22, 0.8, 0.05, &c), at(4, 40, 0.93, 0.1, &c),
                          at(8, 39, 0.9, 0.1, &c)};
    mw_verdict v[4];
    mw_sweep_analysis a;
    analyze_c(p, 4, &c, v, &a);
    assert_int_equal(a.by_ceilings, 1);
    assert_int_equal(a.knee, 4); /* still found: a fact of the curve */
    for (int i = 0; i < 4; i++) assert_int_equal(v[i], MW_VERDICT_BANDWIDTH);
    assert_int_equal(a.overall, MW_VERDICT_BANDWIDTH);
    assert_string_equal(a.judged, "against this machine's ceilings (profile /home/u/.cache/memwall/machine.json, "
                                  "measured 2026-12-03 10:04 UTC: DRAM read 25.9 GB/s, FP32 peak 233 GFLOP/s on 2 "
                                  "threads)");
    /* the verdict of the best throughput's point, said so */
    has(a.reason, "memory bandwidth: 0.93 of this machine's DRAM read bandwidth at batch 4 (24.1 of 25.9 GB/s); "
                  "batch 4 had the best throughput (40.0 items/s)");
    has(a.reason, "; throughput stops growing after batch 4 (-3% for 8)");
    has(a.reason, "; no paging or out-of-memory up to batch 8");
    assert_null(strstr(a.reason, "noisy"));

    /* the same points by the curve: batch 8 is past the knee */
    mw_verdict w[4];
    mw_sweep_analysis b;
    analyze(p, 4, w, &b);
    assert_int_equal(b.by_ceilings, 0);
    assert_int_equal(w[3], MW_VERDICT_COMPUTE);
    assert_int_equal(b.overall, MW_VERDICT_COMPUTE);
    assert_string_equal(b.judged, "by the throughput curve: no machine profile (run memwall roofline)");

    /* a tie at or above the threshold is bandwidth's */
    mw_sweep_point tie[] = {at(1, 10, 0.6, 0.6, &c), at(2, 20, 0.6, 0.6, &c)};
    analyze_c(tie, 2, &c, v, &a);
    assert_int_equal(v[0], MW_VERDICT_BANDWIDTH);
    assert_int_equal(a.overall, MW_VERDICT_BANDWIDTH);
}

static void ceilings_say_compute(void **state)
{
    (void)state;
    mw_ceilings c = machine();
    /* throughput still grows (the curve: bandwidth, no knee), but the
     * arithmetic reaches half the FP32 peak and more */
    mw_sweep_point p[] = {at(16, 100, 0.3, 0.5, &c), at(32, 150, 0.2, 0.65, &c), at(48, 200, 0.1, 0.8, &c)};
    mw_verdict v[3];
    mw_sweep_analysis a;
    analyze_c(p, 3, &c, v, &a);
    assert_int_equal(a.by_ceilings, 1);
    assert_int_equal(a.knee, 0);
    for (int i = 0; i < 3; i++) assert_int_equal(v[i], MW_VERDICT_COMPUTE);
    assert_int_equal(a.overall, MW_VERDICT_COMPUTE);
    has(a.reason, "compute: 0.80 of the FP32 FMA peak at batch 48 (186 of 233 GFLOP/s); batch 48 had the best "
                  "throughput (200 items/s)");
    /* the reason's example: 0.71 of 233 is 165 */
    p[2] = at(48, 200, 0.1, 0.71, &c);
    analyze_c(p, 3, &c, v, &a);
    has(a.reason, "compute: 0.71 of the FP32 FMA peak at batch 48 (165 of 233 GFLOP/s)");

    mw_sweep_analysis b;
    analyze(p, 3, v, &b);
    assert_int_equal(b.overall, MW_VERDICT_BANDWIDTH);
    /* 0.1 / 0.8 at one point too */
    mw_sweep_point one[] = {at(8, 80, 0.1, 0.8, &c)};
    analyze_c(one, 1, &c, v, &a);
    assert_int_equal(v[0], MW_VERDICT_COMPUTE);
    assert_int_equal(a.overall, MW_VERDICT_COMPUTE);
}

static void ceilings_say_below_both(void **state)
{
    (void)state;
    mw_ceilings c = machine();
    mw_sweep_point p[] = {at(16, 100, 0.2, 0.3, &c), at(32, 150, 0.25, 0.49, &c), at(48, 160, 0.18, 0.27, &c)};
    mw_verdict v[3];
    mw_sweep_analysis a;
    analyze_c(p, 3, &c, v, &a);
    assert_int_equal(a.by_ceilings, 1);
    for (int i = 0; i < 3; i++) assert_int_equal(v[i], MW_VERDICT_BELOW_CEILINGS);
    assert_int_equal(a.overall, MW_VERDICT_BELOW_CEILINGS);
    assert_string_equal(mw_verdict_name(a.overall), "below both ceilings");
    has(a.reason, "below both ceilings at batch 48: 0.27 of compute, 0.18 of bandwidth: overhead or parallelism, "
                  "not the hardware; batch 48 had the best throughput (160 items/s)");
    has(a.reason, "; no paging or out-of-memory up to batch 48");
    /* noisy figures: said after the verdict's sentence */
    c.noisy = 1;
    analyze_c(p, 3, &c, v, &a);
    has(a.reason, "not the hardware (the profile's figures are noisy); batch 48");
    /* one point reaches half of the bandwidth: it alone is bound */
    c.noisy = 0;
    p[0] = at(16, 100, 0.5, 0.3, &c);
    analyze_c(p, 3, &c, v, &a);
    assert_int_equal(v[0], MW_VERDICT_BANDWIDTH);
    assert_int_equal(v[1], MW_VERDICT_BELOW_CEILINGS);
    assert_int_equal(a.overall, MW_VERDICT_BELOW_CEILINGS); /* batch 48's, the best throughput */
}

static void ceilings_keep_the_walls(void **state)
{
    (void)state;
    mw_ceilings c = machine();
    /* batch 8 pages (swap-in), batch 16 runs out of memory */
    mw_sweep_point p[] = {at(1, 10, 0.9, 0.05, &c), at(2, 19, 0.9, 0.1, &c), at(4, 35, 0.85, 0.15, &c),
                          at(8, 5, 0.1, 0.02, &c), pt(16, MW_POINT_OOM, MW_UNKNOWN, -1)};
    p[3].swap_in_bytes = 300ull << 20;
    mw_verdict v[5];
    mw_sweep_analysis a;
    analyze_c(p, 5, &c, v, &a);
    assert_int_equal(a.cliff, 8);
    assert_int_equal(v[3], MW_VERDICT_PAGING);
    assert_int_equal(v[4], MW_VERDICT_CAPACITY);
    for (int i = 0; i < 3; i++) assert_int_equal(v[i], MW_VERDICT_BANDWIDTH);
    assert_int_equal(a.overall, MW_VERDICT_PAGING);
    assert_int_equal(a.by_ceilings, 1);
    assert_true(strncmp(a.reason, "paging from batch 8", 19) == 0);
    has(a.reason, "; out of memory at batch 16; below the wall, the ceilings judge batch 4 (the best throughput) "
                  "memory bandwidth: 0.85 of the DRAM read bandwidth, 0.15 of the FP32 peak");

    /* the OOM first: memory capacity */
    mw_sweep_point q[] = {at(1, 10, 0.2, 0.1, &c), at(2, 19, 0.3, 0.2, &c), pt(4, MW_POINT_OOM, MW_UNKNOWN, -1)};
    analyze_c(q, 3, &c, v, &a);
    assert_int_equal(a.overall, MW_VERDICT_CAPACITY);
    assert_int_equal(v[2], MW_VERDICT_CAPACITY);
    assert_int_equal(v[0], MW_VERDICT_BELOW_CEILINGS);
    assert_true(strncmp(a.reason, "out of memory at batch 4 (peak ", 31) == 0);
    has(a.reason, "; below the wall, the ceilings judge batch 2 (the best throughput) below both ceilings: 0.30 of "
                  "the DRAM read bandwidth, 0.20 of the FP32 peak");
    /* a timeout below the wall keeps its verdict (unknown) */
    q[2] = pt(4, MW_POINT_TIMEOUT, MW_UNKNOWN, -1);
    analyze_c(q, 3, &c, v, &a);
    assert_int_equal(v[2], MW_VERDICT_UNKNOWN);
}

/* Without ceilings, or without step figures, the curve decides: the very
 * same analysis as mw_sweep_analyze's, judged saying why. */
static void curve_without_ceilings(void **state)
{
    (void)state;
    mw_ceilings c = machine();
    mw_sweep_point p[] = {pt(1, MW_POINT_OK, linear_mem(1), 100), pt(2, MW_POINT_OK, linear_mem(2), 190),
                          pt(4, MW_POINT_OK, linear_mem(4), 350), pt(8, MW_POINT_OK, linear_mem(8), 370),
                          pt(16, MW_POINT_OK, linear_mem(16), 375)};
    mw_verdict v0[5], v1[5];
    mw_sweep_analysis a0, a1;
    analyze(p, 5, v0, &a0);
    assert_int_equal(a0.knee, 4);
    assert_int_equal(a0.by_ceilings, 0);

    /* a command's points: no bytes or FLOPs per step */
    analyze_c(p, 5, &c, v1, &a1);
    assert_int_equal(a1.by_ceilings, 0);
    assert_string_equal(a1.judged, "by the throughput curve: a command's points have no bytes or FLOPs per step");
    assert_memory_equal(v0, v1, sizeof v0);
    assert_string_equal(a0.reason, a1.reason);
    assert_int_equal(a0.overall, a1.overall);
    assert_int_equal(a0.knee, a1.knee);

    /* some points with step figures, some without: the curve for all */
    p[0] = at(1, 100, 0.9, 0.1, &c);
    analyze(p, 5, v0, &a0); /* its reason now gives batch 1's rates */
    analyze_c(p, 5, &c, v1, &a1);
    assert_int_equal(a1.by_ceilings, 0);
    assert_string_equal(a1.judged, "by the throughput curve: 4 of 5 points have no bytes or FLOPs per step");
    assert_memory_equal(v0, v1, sizeof v0);

    /* ceilings with no figure are no profile; with one, the other missing */
    mw_ceilings none;
    memset(&none, 0, sizeof none);
    analyze_c(p, 5, &none, v1, &a1);
    assert_string_equal(a1.judged, "by the throughput curve: no machine profile (run memwall roofline)");
    assert_string_equal(a0.reason, a1.reason);
    mw_ceilings half = c;
    half.peak_flops_f32 = 0;
    analyze_c(p, 5, &half, v1, &a1);
    assert_string_equal(a1.judged, "by the throughput curve: the machine profile has no FP32 peak (run memwall "
                                   "roofline)");
    half = c;
    half.dram_read_bytes_per_second = -1;
    analyze_c(p, 5, &half, v1, &a1);
    assert_string_equal(a1.judged, "by the throughput curve: the machine profile has no DRAM read bandwidth (run "
                                   "memwall roofline)");
    assert_memory_equal(v0, v1, sizeof v0);

    /* mw_sweep_analyze is mw_sweep_analyze_ceilings with NULL */
    mw_cliff_thresholds t;
    mw_cliff_thresholds_init(&t);
    mw_sweep_analyze_ceilings(p, 5, MW_SWEEP_BATCH, &t, NULL, v1, &a1);
    assert_memory_equal(&a0, &a1, sizeof a0);

    /* along the context the batch is fixed: fits, whatever the ceilings */
    mw_sweep_point x[] = {at(1, 10, 0.9, 0.1, &c), at(1, 9, 0.9, 0.1, &c)};
    x[0].ctx = 512;
    x[1].ctx = 1024;
    mw_sweep_analyze_ceilings(x, 2, MW_SWEEP_CTX, &t, &c, v1, &a1);
    assert_int_equal(a1.by_ceilings, 0);
    assert_int_equal(v1[0], MW_VERDICT_FITS);
    assert_int_equal(a1.overall, MW_VERDICT_FITS);
    has(a1.judged, "a context sweep");

    /* nothing measured a throughput: nothing to judge */
    mw_sweep_point y[] = {pt(1, MW_POINT_OK, linear_mem(1), -1), pt(2, MW_POINT_OK, linear_mem(2), -1)};
    analyze_c(y, 2, &c, v1, &a1);
    assert_int_equal(a1.by_ceilings, 0);
    assert_int_equal(a1.overall, MW_VERDICT_UNKNOWN);
    has(a1.judged, "no point below the cliff measured a throughput");
}

static void judged_is_bounded(void **state)
{
    (void)state;
    mw_ceilings c = machine();
    /* a long path keeps its end, the file's name */
    memset(c.path, 'd', sizeof c.path - 1);
    c.path[0] = '/';
    c.path[sizeof c.path - 1] = 0;
    memcpy(c.path + sizeof c.path - 1 - strlen("/machine.json"), "/machine.json", strlen("/machine.json"));
    /* a control character from the file is not shown */
    c.measured[0] = '\033';
    mw_sweep_point p[] = {at(1, 10, 0.9, 0.1, &c), at(2, 19, 0.9, 0.1, &c)};
    mw_verdict v[2];
    mw_sweep_analysis a;
    analyze_c(p, 2, &c, v, &a);
    assert_int_equal(a.by_ceilings, 1);
    has(a.judged, "against this machine's ceilings (profile ...ddd");
    has(a.judged, "/machine.json, measured ?026-12-03 10:04 UTC: DRAM read 25.9 GB/s, FP32 peak 233 GFLOP/s on 2 "
                  "threads)");
    assert_null(strchr(a.judged, '\033'));
    /* no path or date (ceilings set by a program); one thread */
    c.path[0] = 0;
    c.measured[0] = 0;
    c.threads = 1;
    analyze_c(p, 2, &c, v, &a);
    assert_string_equal(a.judged, "against this machine's ceilings (DRAM read 25.9 GB/s, FP32 peak 233 GFLOP/s on 1 "
                                  "thread)");
    /* the longest reason: paging with every cause, a knee, noisy figures */
    c.noisy = 1;
    mw_sweep_point q[] = {at(1, 100, 0.9, 0.1, &c), at(2, 190, 0.9, 0.1, &c), at(4, 350, 0.9, 0.1, &c),
                          at(8, 355, 0.9, 0.1, &c), at(16, 60, 0.1, 0.1, &c), pt(32, MW_POINT_OOM, MW_UNKNOWN, -1)};
    q[4].swap_in_bytes = 1ull << 30;
    q[4].refaults = 1ull << 20;
    q[4].major_faults = 1ull << 20;
    q[4].psi_some_seconds = 0.9;
    q[4].runs = q[3].runs = 3;
    q[4].throughput_min = q[4].throughput_max = 60;
    q[3].throughput_min = q[3].throughput_max = 355;
    mw_verdict w[6];
    analyze_c(q, 6, &c, w, &a);
    assert_int_equal(a.overall, MW_VERDICT_PAGING);
    has(a.reason, "(the profile's figures are noisy)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names),
        cmocka_unit_test(fit_exact),
        cmocka_unit_test(fit_noisy),
        cmocka_unit_test(fit_only_ok_points),
        cmocka_unit_test(fit_degenerate),
        cmocka_unit_test(knee_at_four),
        cmocka_unit_test(knee_per_doubling),
        cmocka_unit_test(bandwidth_only),
        cmocka_unit_test(cliff_by_swap_in),
        cmocka_unit_test(cliff_by_major_faults),
        cmocka_unit_test(cliff_by_psi),
        cmocka_unit_test(cliff_by_throughput_drop),
        cmocka_unit_test(cliff_then_oom),
        cmocka_unit_test(ends_in_oom),
        cmocka_unit_test(unsorted_input),
        cmocka_unit_test(empty_and_one_point),
        cmocka_unit_test(reason_is_bounded),
        cmocka_unit_test(ctx_fit_and_wall),
        cmocka_unit_test(ctx_no_wall_and_paging),
        cmocka_unit_test(oom_messages),
        cmocka_unit_test(gpu_fit_and_wall),
        cmocka_unit_test(rates_from_the_plan),
        cmocka_unit_test(memory_counts_file_pages),
        cmocka_unit_test(noise_is_not_paging),
        cmocka_unit_test(paging_points_leave_the_fit),
        cmocka_unit_test(fractions_of_a_point),
        cmocka_unit_test(ceilings_say_bandwidth),
        cmocka_unit_test(ceilings_say_compute),
        cmocka_unit_test(ceilings_say_below_both),
        cmocka_unit_test(ceilings_keep_the_walls),
        cmocka_unit_test(curve_without_ceilings),
        cmocka_unit_test(judged_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
