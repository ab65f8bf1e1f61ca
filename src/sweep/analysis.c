/*
 * analysis.c - what a sweep's points say: the fit of memory against the
 * batch, the largest batch that fits, the knee, the cliff, and the verdict
 * per point and overall with the numbers behind it (docs/SWEEP.md,
 * "Analysis and verdict").
 *
 * Pure: no I/O and no allocation, so it cannot fail. The points may come in
 * any order; they are visited in batch order by rescanning for the next
 * larger batch (O(n^2) for n points: a sweep has tens, not thousands).
 */
#include "memwall.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The knee: the gain per doubling of the batch below which bigger batches
 * stop paying (issue #5: "doubling the batch adds < 10% throughput"). */
#define KNEE_GAIN_PER_DOUBLING 0.10

/* The least-squares intercept and slope carry rounding (about 1e-15 of the
 * memory), so a cap placed exactly on a fitted point could lose it: fitted
 * memory may exceed the cap by 1e-12 of it (1 mB of a GiB) and still fit. */
#define FIT_MEM_SLACK 1e-12

const char *mw_point_status_name(mw_point_status s)
{
    static const char *const names[] = {"ok", "oom", "timeout", "failed"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "unknown";
}

const char *mw_verdict_name(mw_verdict v)
{
    static const char *const names[] = {"unknown", "memory bandwidth", "compute", "paging",
                                        "memory capacity"};
    return (unsigned)v < sizeof names / sizeof names[0] ? names[v] : "unknown";
}

void mw_cliff_thresholds_init(mw_cliff_thresholds *t)
{
    if (!t) return;
    t->swap_in_bytes = 16ull << 20;
    t->major_faults = 1000;
    t->psi_some_share = 0.05;
    t->throughput_drop = 0.25;
    t->refaults = 1000;
}

/* The point's peak memory: the kernel's cgroup peak when there was a cap,
 * else the tree's peak RSS; MW_UNKNOWN when neither was measured. */
static uint64_t point_memory(const mw_sweep_point *q)
{
    return q->cgroup_peak_bytes != MW_UNKNOWN ? q->cgroup_peak_bytes : q->peak_rss_bytes;
}

/* Throughput is unknown when negative (NaN and infinities count as unknown). */
static int throughput_known(double t)
{
    return t >= 0 && isfinite(t);
}

void mw_sweep_fit_points(const mw_sweep_point *p, size_t n, mw_sweep_fit *out)
{
    if (!out) return;
    memset(out, 0, sizeof *out);
    if (!p) return;

    /* Two passes over centred values: memory in bytes squared reaches 1e24,
     * fine in a double, but the raw sums' cancellation would not be. */
    double sx = 0, sy = 0;
    size_t m = 0;
    uint32_t first_batch = 0;
    int distinct = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i].status != MW_POINT_OK || point_memory(&p[i]) == MW_UNKNOWN) continue;
        if (m == 0) first_batch = p[i].batch;
        else if (p[i].batch != first_batch) distinct = 1;
        sx += p[i].batch;
        sy += (double)point_memory(&p[i]);
        m++;
    }
    out->n_points = m > UINT32_MAX ? UINT32_MAX : (uint32_t)m;
    if (!distinct) return;

    double mx = sx / (double)m, my = sy / (double)m;
    double sxx = 0, sxy = 0, syy = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i].status != MW_POINT_OK || point_memory(&p[i]) == MW_UNKNOWN) continue;
        double dx = p[i].batch - mx, dy = (double)point_memory(&p[i]) - my;
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    double slope = sxy / sxx, fixed = my - slope * mx;
    double ssres = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i].status != MW_POINT_OK || point_memory(&p[i]) == MW_UNKNOWN) continue;
        double r = (double)point_memory(&p[i]) - (fixed + slope * p[i].batch);
        ssres += r * r;
    }
    /* Constant memory: the flat line is exact. */
    double r2 = syy > 0 ? 1.0 - ssres / syy : 1.0;
    if (r2 > 1) r2 = 1;
    if (r2 < 0) r2 = 0; /* not reachable with an intercept, but rounding */

    out->valid = 1;
    out->fixed_bytes = fixed;
    out->per_item_bytes = slope;
    out->r2 = r2;
}

uint32_t mw_sweep_fit_max_batch(const mw_sweep_fit *fit, uint64_t mem_bytes)
{
    if (!fit || !fit->valid || !isfinite(fit->fixed_bytes) || isnan(fit->per_item_bytes)) return 0;
    if (fit->per_item_bytes <= 0) return UINT32_MAX; /* memory does not grow with the batch */
    double mem = (double)mem_bytes;
    mem += FIT_MEM_SLACK * fmax(mem, fabs(fit->fixed_bytes));
    double x = floor((mem - fit->fixed_bytes) / fit->per_item_bytes);
    if (!(x >= 0)) return 0; /* the fixed part alone exceeds the memory */
    if (x >= (double)(UINT32_MAX - 1)) return UINT32_MAX - 1;
    return (uint32_t)x;
}

/* ---- visiting the points in batch order ---------------------------------- */

typedef int (*point_filter)(const mw_sweep_point *q, uint32_t below);

/* Sets *cursor to the smallest batch above it among the points that pass
 * keep (a cursor of -1 starts); 0 when there is none. */
static int next_batch(const mw_sweep_point *p, size_t n, point_filter keep, uint32_t below,
                      int64_t *cursor)
{
    int64_t best = -1;
    for (size_t i = 0; i < n; i++)
        if (keep(&p[i], below) && (int64_t)p[i].batch > *cursor &&
            (best < 0 || (int64_t)p[i].batch < best))
            best = p[i].batch;
    if (best < 0) return 0;
    *cursor = best;
    return 1;
}

static int any_point(const mw_sweep_point *q, uint32_t below)
{
    (void)q;
    (void)below;
    return 1;
}

/* The knee's points: ok, a positive throughput (a ratio of two is taken),
 * a batch above 0 (a log of two is taken) and below the cliff (below; 0: no
 * cliff), so a fall caused by paging is the cliff's, not a knee. */
static int knee_point(const mw_sweep_point *q, uint32_t below)
{
    return q->status == MW_POINT_OK && throughput_known(q->throughput) && q->throughput > 0 &&
           q->batch > 0 && (below == 0 || q->batch < below);
}

/* The mean throughput of the knee's points at one batch (repeats of a batch,
 * e.g. from another context length, share it). */
static double batch_throughput(const mw_sweep_point *p, size_t n, uint32_t batch, uint32_t below)
{
    double sum = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (p[i].batch == batch && knee_point(&p[i], below)) {
            sum += p[i].throughput;
            k++;
        }
    return k ? sum / (double)k : -1;
}

/* What made a point the cliff (a bit each). */
enum { CLIFF_SWAP = 1, CLIFF_FAULTS = 2, CLIFF_PSI = 4, CLIFF_DROP = 8 };

static unsigned cliff_causes(const mw_sweep_point *q, const mw_cliff_thresholds *t, double best_below)
{
    unsigned c = 0;
    if (q->status != MW_POINT_OK && q->status != MW_POINT_TIMEOUT) return 0;
    if (q->swap_in_bytes != MW_UNKNOWN && q->swap_in_bytes > t->swap_in_bytes) c |= CLIFF_SWAP;
    if (q->major_faults != MW_UNKNOWN && q->major_faults > t->major_faults) c |= CLIFF_FAULTS;
    if (q->psi_some_seconds >= 0 && q->wall_seconds > 0 && isfinite(q->psi_some_seconds) &&
        isfinite(q->wall_seconds) && q->psi_some_seconds / q->wall_seconds > t->psi_some_share)
        c |= CLIFF_PSI;
    /* A slowdown is paging only with some sign of memory pressure beside it:
     * on a shared host a run can be slow for other reasons (two threads
     * packed on one vCPU halve the speed), and a bigger step can be slower
     * by its arithmetic alone. */
    int pressure = (q->swap_in_bytes != MW_UNKNOWN && q->swap_in_bytes > 0) ||
                   (q->major_faults != MW_UNKNOWN && q->major_faults > 0) ||
                   (q->refaults != MW_UNKNOWN && q->refaults > t->refaults) ||
                   (q->psi_some_seconds > 0 && isfinite(q->psi_some_seconds));
    if (pressure && throughput_known(q->throughput) && best_below > 0 &&
        q->throughput < (1.0 - t->throughput_drop) * best_below)
        c |= CLIFF_DROP;
    return c;
}

/* ---- the reason: a bounded string builder -------------------------------- */

typedef struct reason_buf {
    char *buf;
    size_t cap, len;
} reason_buf;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void reason_add(reason_buf *r, const char *fmt, ...)
{
    if (r->len + 1 >= r->cap) return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(r->buf + r->len, r->cap - r->len, fmt, ap);
    va_end(ap);
    if (k < 0) return;
    r->len += (size_t)k;
    if (r->len >= r->cap) r->len = r->cap - 1; /* truncated */
}

/* A throughput with 3 significant digits and no exponent ("1234", "56.7"). */
static const char *fmt_rate(double t, char *buf, size_t cap)
{
    if (t >= 99.95) snprintf(buf, cap, "%.0f", t);
    else if (t >= 9.995) snprintf(buf, cap, "%.1f", t);
    else snprintf(buf, cap, "%.2f", t);
    return buf;
}

/* The largest peak memory among the ok points of one batch (MW_UNKNOWN: none). */
static uint64_t batch_memory(const mw_sweep_point *p, size_t n, uint32_t batch)
{
    uint64_t best = MW_UNKNOWN;
    for (size_t i = 0; i < n; i++) {
        uint64_t m = point_memory(&p[i]);
        if (p[i].batch == batch && p[i].status == MW_POINT_OK && m != MW_UNKNOWN &&
            (best == MW_UNKNOWN || m > best))
            best = m;
    }
    return best;
}

/* ---- the analysis -------------------------------------------------------- */

void mw_sweep_analyze(const mw_sweep_point *p, size_t n, const mw_cliff_thresholds *t,
                      mw_verdict *verdicts, mw_sweep_analysis *out)
{
    mw_sweep_analysis scratch;
    mw_cliff_thresholds defaults;
    if (!out) out = &scratch;
    memset(out, 0, sizeof *out);
    if (!t) {
        mw_cliff_thresholds_init(&defaults);
        t = &defaults;
    }
    if (!p) n = 0;
    reason_buf r = {out->reason, sizeof out->reason, 0};
    char s1[32], s2[32], s3[32];

    mw_sweep_fit_points(p, n, &out->fit);

    /* Largest ok batch, smallest failed one, smallest OOM, the counts. */
    uint32_t min_oom = 0;
    size_t n_ok = 0, n_timeout = 0, n_failed = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t b = p[i].batch;
        if (p[i].status == MW_POINT_OK) {
            n_ok++;
            if (b > out->max_fit_batch) out->max_fit_batch = b;
            continue;
        }
        if (out->first_fail_batch == 0 || b < out->first_fail_batch) out->first_fail_batch = b;
        if (p[i].status == MW_POINT_OOM && (min_oom == 0 || b < min_oom)) min_oom = b;
        if (p[i].status == MW_POINT_TIMEOUT) n_timeout++;
        else if (p[i].status != MW_POINT_OOM) n_failed++;
    }
    int any_oom = 0;
    for (size_t i = 0; i < n; i++) any_oom |= p[i].status == MW_POINT_OOM;

    /* The cliff: the first ok or timed-out point, in batch order, above a
     * threshold; throughput is compared with the best of smaller ok batches. */
    size_t cliff_i = 0;
    unsigned cliff_why = 0;
    double best_below = -1;
    uint32_t best_below_batch = 0;
    int found_cliff = 0;
    for (int64_t b = -1; !found_cliff && next_batch(p, n, any_point, 0, &b);) {
        for (size_t i = 0; i < n; i++) {
            if (p[i].batch != (uint32_t)b) continue;
            unsigned c = cliff_causes(&p[i], t, best_below);
            if (c) {
                found_cliff = 1;
                cliff_i = i;
                cliff_why = c;
                out->cliff_batch = (uint32_t)b;
                break;
            }
        }
        for (size_t i = 0; !found_cliff && i < n; i++)
            if (p[i].batch == (uint32_t)b && p[i].status == MW_POINT_OK &&
                throughput_known(p[i].throughput) && p[i].throughput > best_below) {
                best_below = p[i].throughput;
                best_below_batch = p[i].batch;
            }
    }
    /* A cliff at batch 0 is still a cliff: the point filters below take 0
     * as "none", so keep the flag beside the batch. */
    uint32_t below = found_cliff ? out->cliff_batch : 0;
    if (found_cliff && below == 0) below = 1; /* nothing below batch 0 anyway */

    /* The knee: the last batch before the gain per doubling of the batch,
     * (t_i / t_i-1)^(1 / log2(b_i / b_i-1)) - 1, falls below 10%. */
    double first_t = -1, last_t = -1, knee_t = -1, knee_next_t = -1;
    uint32_t first_b = 0, last_b = 0, knee_next_b = 0;
    size_t n_rates = 0;
    for (int64_t b = -1; next_batch(p, n, knee_point, below, &b);) {
        double tb = batch_throughput(p, n, (uint32_t)b, below);
        if (n_rates == 0) {
            first_t = tb;
            first_b = (uint32_t)b;
        } else if (out->knee_batch == 0) {
            double doublings = log2((double)b / (double)last_b);
            double gain = pow(tb / last_t, 1.0 / doublings) - 1.0;
            if (gain < KNEE_GAIN_PER_DOUBLING) {
                out->knee_batch = last_b;
                knee_t = last_t;
                knee_next_t = tb;
                knee_next_b = (uint32_t)b;
            }
        }
        last_t = tb;
        last_b = (uint32_t)b;
        n_rates++;
    }

    /* The verdict of each point. */
    for (size_t i = 0; verdicts && i < n; i++) {
        const mw_sweep_point *q = &p[i];
        int paging = found_cliff && q->batch >= out->cliff_batch;
        mw_verdict v = MW_VERDICT_UNKNOWN;
        switch (q->status) {
        case MW_POINT_OOM: v = MW_VERDICT_CAPACITY; break;
        case MW_POINT_TIMEOUT: v = paging ? MW_VERDICT_PAGING : MW_VERDICT_UNKNOWN; break;
        case MW_POINT_OK:
            if (paging) v = MW_VERDICT_PAGING;
            else if (out->knee_batch != 0 && q->batch > out->knee_batch) v = MW_VERDICT_COMPUTE;
            else if (throughput_known(q->throughput)) v = MW_VERDICT_BANDWIDTH;
            break;
        default: break;
        }
        verdicts[i] = v;
    }

    /* Overall, and the numbers that justify it. */
    int grew = out->knee_batch == 0 && n_rates >= 2 && last_t > first_t;
    if (any_oom && (!found_cliff || out->cliff_batch >= min_oom)) out->overall = MW_VERDICT_CAPACITY;
    else if (found_cliff) out->overall = MW_VERDICT_PAGING;
    else if (out->knee_batch != 0) out->overall = MW_VERDICT_COMPUTE;
    else if (grew) out->overall = MW_VERDICT_BANDWIDTH;
    else out->overall = MW_VERDICT_UNKNOWN;

    /* The largest ok batch below the first OOM, and its peak. */
    uint32_t fit_below_oom = 0;
    for (size_t i = 0; i < n; i++)
        if (p[i].status == MW_POINT_OK && (!any_oom || p[i].batch < min_oom) &&
            p[i].batch > fit_below_oom)
            fit_below_oom = p[i].batch;
    int any_ok_below_oom = 0;
    for (size_t i = 0; i < n; i++)
        any_ok_below_oom |= p[i].status == MW_POINT_OK && (!any_oom || p[i].batch < min_oom);

    switch (out->overall) {
    case MW_VERDICT_CAPACITY:
        reason_add(&r, "out of memory at batch %u", min_oom);
        if (any_ok_below_oom && batch_memory(p, n, fit_below_oom) != MW_UNKNOWN)
            reason_add(&r, " (peak %s at batch %u, the largest below it that fit)",
                       mw_size_format(batch_memory(p, n, fit_below_oom), s1, sizeof s1),
                       fit_below_oom);
        else if (any_ok_below_oom)
            reason_add(&r, " (batch %u, the largest below it, fit)", fit_below_oom);
        else
            reason_add(&r, " (no smaller batch ran to the end)");
        break;
    case MW_VERDICT_PAGING: {
        const mw_sweep_point *q = &p[cliff_i];
        const char *sep = ": ";
        reason_add(&r, "paging from batch %u", out->cliff_batch);
        if (point_memory(q) != MW_UNKNOWN)
            reason_add(&r, " (peak %s)", mw_size_format(point_memory(q), s1, sizeof s1));
        if (cliff_why & CLIFF_SWAP) {
            reason_add(&r, "%s%s swapped in (threshold %s)", sep,
                       mw_size_format(q->swap_in_bytes, s2, sizeof s2),
                       mw_size_format(t->swap_in_bytes, s3, sizeof s3));
            sep = ", ";
        }
        if (cliff_why & CLIFF_FAULTS) {
            reason_add(&r, "%s%llu major faults (threshold %llu)", sep,
                       (unsigned long long)q->major_faults, (unsigned long long)t->major_faults);
            sep = ", ";
        }
        if (cliff_why & CLIFF_PSI) {
            reason_add(&r, "%sstalled on memory %.0f%% of the time (threshold %.0f%%)", sep,
                       100.0 * q->psi_some_seconds / q->wall_seconds, 100.0 * t->psi_some_share);
            sep = ", ";
        }
        if (cliff_why & CLIFF_DROP)
            reason_add(&r, "%sthroughput %s items/s, %.0f%% below the %s of batch %u (threshold %.0f%%)",
                       sep, fmt_rate(q->throughput, s2, sizeof s2),
                       100.0 * (1.0 - q->throughput / best_below),
                       fmt_rate(best_below, s3, sizeof s3), best_below_batch,
                       100.0 * t->throughput_drop);
        if (any_oom) reason_add(&r, "; out of memory at batch %u", min_oom);
        break;
    }
    case MW_VERDICT_COMPUTE:
        break; /* the knee below says it */
    case MW_VERDICT_BANDWIDTH:
        reason_add(&r, "throughput grows with the batch, at least +%.0f%% per doubling: %s items/s at batch %u, %s at batch %u",
                   100.0 * KNEE_GAIN_PER_DOUBLING, fmt_rate(first_t, s1, sizeof s1), first_b,
                   fmt_rate(last_t, s2, sizeof s2), last_b);
        break;
    default:
        if (n == 0) reason_add(&r, "no points measured");
        else if (n_ok == 0)
            reason_add(&r, "no point ran to the end (%zu timed out, %zu failed)", n_timeout, n_failed);
        else if (n_rates == 0)
            reason_add(&r, "no throughput measured (largest batch that ran to the end: %u)",
                       out->max_fit_batch);
        else if (n_rates == 1)
            reason_add(&r, "throughput measured at one batch only (%u): a verdict needs two", first_b);
        else
            reason_add(&r, "throughput does not grow with the batch: %s items/s at batch %u, %s at batch %u",
                       fmt_rate(first_t, s1, sizeof s1), first_b, fmt_rate(last_t, s2, sizeof s2),
                       last_b);
        break;
    }
    if (out->knee_batch != 0) {
        reason_add(&r, "%sthroughput stops growing after batch %u (%+.0f%% for %u)",
                   r.len ? "; " : "", out->knee_batch, 100.0 * (knee_next_t / knee_t - 1.0),
                   knee_next_b);
    }
    /* Before a wall, say whether the batch still paid. */
    if (grew && (out->overall == MW_VERDICT_CAPACITY || out->overall == MW_VERDICT_PAGING))
        reason_add(&r, "; until then throughput grew with the batch (%s items/s at batch %u, %s at batch %u)",
                   fmt_rate(first_t, s1, sizeof s1), first_b, fmt_rate(last_t, s2, sizeof s2), last_b);
    /* Where memory was no limit, say how far it was measured. */
    if ((out->overall == MW_VERDICT_COMPUTE || out->overall == MW_VERDICT_BANDWIDTH) &&
        out->max_fit_batch != 0) {
        uint64_t m = batch_memory(p, n, out->max_fit_batch);
        reason_add(&r, "; no paging or out-of-memory up to batch %u", out->max_fit_batch);
        if (m != MW_UNKNOWN) reason_add(&r, " (peak %s)", mw_size_format(m, s1, sizeof s1));
    }
}
