/*
 * analysis.c - what a sweep's points say: the fit of memory against the
 * axis (the batch, or the context), the largest value that fits, the knee,
 * the cliff, and the verdict per point and overall with the numbers behind
 * it (docs/SWEEP.md, "Analysis and verdict"), judged by the throughput
 * curve or against this machine's ceilings ("Verdicts against the
 * ceilings").
 *
 * Pure: no I/O and no allocation, so it cannot fail. The points may come in
 * any order; they are visited in axis order by rescanning for the next
 * larger value (O(n^2) for n points: a sweep has tens, not thousands).
 * Below, "x" is a point's value on the axis.
 */
#include "memwall.h"
#include "common/error.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* The knee: the gain per doubling of the batch below which bigger batches
 * stop paying (docs/SWEEP.md, "The knee: where bigger batches stop paying"). */
#define KNEE_GAIN_PER_DOUBLING 0.10

/* The least-squares intercept and slope carry rounding (about 1e-15 of the
 * memory), so a cap placed exactly on a fitted point could lose it: fitted
 * memory may exceed the cap by 1e-12 of it (1 mB of a GiB) and still fit. */
#define FIT_MEM_SLACK 1e-12

const char *mw_point_status_name(mw_point_status s)
{
    static const char *const names[] = {"ok", "oom", "timeout", "failed", "interrupted"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "unknown";
}

const char *mw_oom_kind_name(mw_oom_kind k)
{
    static const char *const names[] = {NULL, "cgroup", "host", "gpu"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : NULL;
}

const char *mw_sweep_axis_name(mw_sweep_axis a)
{
    return a == MW_SWEEP_BUDGET ? "budget" : a == MW_SWEEP_CTX ? "ctx" : "batch";
}

uint32_t mw_sweep_point_x(const mw_sweep_point *p, mw_sweep_axis a)
{
    /* along the budget (issue #15): KiB, so that a small model's budgets
     * stay apart and a host's fit in 32 bits (4 TiB) */
    if (a == MW_SWEEP_BUDGET) return p->budget_bytes / 1024 > UINT32_MAX ? UINT32_MAX : (uint32_t)(p->budget_bytes / 1024);
    return a == MW_SWEEP_CTX ? p->ctx : p->batch;
}

int mw_sweep_point_rates(const mw_sweep_point *p, double *bytes_per_second, double *flops_per_second)
{
    if (p->status != MW_POINT_OK || !(p->step_bytes > 0) || !(p->step_flops >= 0) || p->batch == 0 ||
        !(p->throughput >= 0) || !isfinite(p->throughput) || !isfinite(p->step_bytes) || !isfinite(p->step_flops))
        return 0;
    double steps = p->throughput / p->batch;
    *bytes_per_second = p->step_bytes * steps;
    *flops_per_second = p->step_flops * steps;
    return 1;
}

const char *mw_verdict_name(mw_verdict v)
{
    static const char *const names[] = {"unknown", "memory bandwidth", "compute", "paging",
                                        "memory capacity", "fits", "below both ceilings"};
    return (unsigned)v < sizeof names / sizeof names[0] ? names[v] : "unknown";
}

void mw_cliff_thresholds_init(mw_cliff_thresholds *t)
{
    if (!t) return;
    t->swap_in_share = 0.05;
    t->refault_share = 0.10;
    t->major_fault_share = 1.0;
    t->min_bytes = 16ull << 20;
    t->psi_some_share = 0.10;
    t->throughput_drop = 0.25;
}

const char *mw_memory_source_name(mw_memory_source s)
{
    return s == MW_MEMORY_CGROUP ? "cgroup" : s == MW_MEMORY_RSS ? "rss" : NULL;
}

uint64_t mw_sweep_point_memory_of(const mw_sweep_point *q, mw_memory_source *source)
{
    mw_memory_source src = MW_MEMORY_UNKNOWN;
    uint64_t m = MW_UNKNOWN;
    if (q->cgroup_peak_bytes != MW_UNKNOWN) {
        m = q->cgroup_peak_bytes;
        src = MW_MEMORY_CGROUP;
        /* a process's resident set counts every page it maps once,
         * including file pages charged to another cgroup (docs/SWEEP.md);
         * the tree's sum would count shared ones once a process */
        uint64_t rss = q->max_processes == 1 ? q->peak_rss_bytes : q->peak_process_rss_bytes;
        if (rss != MW_UNKNOWN && rss > m) {
            m = rss;
            src = MW_MEMORY_RSS;
        }
    } else if (q->peak_rss_bytes != MW_UNKNOWN) {
        m = q->peak_rss_bytes;
        src = MW_MEMORY_RSS;
    }
    if (source) *source = src;
    return m;
}

uint64_t mw_sweep_point_memory(const mw_sweep_point *q)
{
    return mw_sweep_point_memory_of(q, NULL);
}

uint64_t mw_sweep_point_gpu_memory(const mw_sweep_point *q)
{
    return q->peak_gpu_bytes != MW_UNKNOWN && q->peak_gpu_bytes > 0 ? q->peak_gpu_bytes : MW_UNKNOWN;
}

/* Throughput is unknown when negative (NaN and infinities count as unknown). */
static int throughput_known(double t)
{
    return t >= 0 && isfinite(t);
}

static void fit_memory(const mw_sweep_point *p, size_t n, mw_sweep_axis axis,
                       uint64_t (*memory)(const mw_sweep_point *), uint32_t below, mw_sweep_fit *out);

void mw_sweep_fit_points(const mw_sweep_point *p, size_t n, mw_sweep_axis axis, mw_sweep_fit *out)
{
    fit_memory(p, n, axis, mw_sweep_point_memory, 0, out);
}

static int fit_point(const mw_sweep_point *q, mw_sweep_axis axis, uint64_t (*memory)(const mw_sweep_point *),
                     uint32_t below)
{
    return q->status == MW_POINT_OK && memory(q) != MW_UNKNOWN && (below == 0 || mw_sweep_point_x(q, axis) < below);
}

/* Least squares of memory(point) against x over the ok points where it is
 * known, below x `below` (0: all): a paging point's memory is the cap's,
 * not what its workload asked for. */
static void fit_memory(const mw_sweep_point *p, size_t n, mw_sweep_axis axis,
                       uint64_t (*memory)(const mw_sweep_point *), uint32_t below, mw_sweep_fit *out)
{
    if (!out) return;
    memset(out, 0, sizeof *out);
    if (!p) return;

    /* Two passes over centred values: memory in bytes squared reaches 1e24,
     * fine in a double, but the raw sums' cancellation would not be. */
    double sx = 0, sy = 0;
    size_t m = 0;
    uint32_t first_x = 0;
    int distinct = 0;
    for (size_t i = 0; i < n; i++) {
        if (!fit_point(&p[i], axis, memory, below)) continue;
        uint32_t x = mw_sweep_point_x(&p[i], axis);
        if (m == 0) first_x = x;
        else if (x != first_x) distinct = 1;
        sx += x;
        sy += (double)memory(&p[i]);
        m++;
    }
    out->n_points = m > UINT32_MAX ? UINT32_MAX : (uint32_t)m;
    if (!distinct) return;

    double mx = sx / (double)m, my = sy / (double)m;
    double sxx = 0, sxy = 0, syy = 0;
    for (size_t i = 0; i < n; i++) {
        if (!fit_point(&p[i], axis, memory, below)) continue;
        double dx = mw_sweep_point_x(&p[i], axis) - mx, dy = (double)memory(&p[i]) - my;
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    double slope = sxy / sxx, fixed = my - slope * mx;
    double ssres = 0;
    for (size_t i = 0; i < n; i++) {
        if (!fit_point(&p[i], axis, memory, below)) continue;
        double r = (double)memory(&p[i]) - (fixed + slope * mw_sweep_point_x(&p[i], axis));
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

uint32_t mw_sweep_fit_max(const mw_sweep_fit *fit, uint64_t mem_bytes)
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

/* ---- visiting the points in axis order ----------------------------------- */

/* The points and their axis, as the helpers below see them. */
typedef struct points {
    const mw_sweep_point *p;
    size_t n;
    mw_sweep_axis axis;
} points;

static uint32_t x_of(const points *P, size_t i)
{
    return mw_sweep_point_x(&P->p[i], P->axis);
}

typedef int (*point_filter)(const mw_sweep_point *q, uint32_t x, uint32_t below);

/* Sets *cursor to the smallest x above it among the points that pass keep
 * (a cursor of -1 starts); 0 when there is none. */
static int next_x(const points *P, point_filter keep, uint32_t below, int64_t *cursor)
{
    int64_t best = -1;
    for (size_t i = 0; i < P->n; i++) {
        uint32_t x = x_of(P, i);
        if (keep(&P->p[i], x, below) && (int64_t)x > *cursor && (best < 0 || (int64_t)x < best)) best = x;
    }
    if (best < 0) return 0;
    *cursor = best;
    return 1;
}

static int any_point(const mw_sweep_point *q, uint32_t x, uint32_t below)
{
    (void)q;
    (void)x;
    (void)below;
    return 1;
}

/* The knee's points: ok, a positive throughput (a ratio of two is taken),
 * an x above 0 (a log of two is taken) and below the cliff (below; 0: no
 * cliff), so a fall caused by paging is the cliff's, not a knee. */
static int knee_point(const mw_sweep_point *q, uint32_t x, uint32_t below)
{
    return q->status == MW_POINT_OK && throughput_known(q->throughput) && q->throughput > 0 && x > 0 &&
           (below == 0 || x < below);
}

/* The mean throughput of the knee's points at one x (repeats of a batch,
 * e.g. from another context length, share it). */
static double x_throughput(const points *P, uint32_t x, uint32_t below)
{
    double sum = 0;
    size_t k = 0;
    for (size_t i = 0; i < P->n; i++)
        if (x_of(P, i) == x && knee_point(&P->p[i], x, below)) {
            sum += P->p[i].throughput;
            k++;
        }
    return k ? sum / (double)k : -1;
}

/* What made a point the cliff (a bit each). */
enum { CLIFF_SWAP = 1, CLIFF_FAULTS = 2, CLIFF_PSI = 4, CLIFF_DROP = 8, CLIFF_REFAULT = 16 };

/* Pages (vmstat and /proc counters) to bytes, saturating. */
static uint64_t pages_bytes(uint64_t pages)
{
    if (pages == MW_UNKNOWN) return MW_UNKNOWN;
    uint64_t page = 4096; /* the counters' unit on x86; what a resumed file was measured in */
    return pages > UINT64_MAX / page ? UINT64_MAX - 1 : pages * page;
}

/* The bytes above which traffic of this share of the point's memory is
 * paging: share x memory, and never below t->min_bytes. */
static double traffic_threshold(const mw_sweep_point *q, double share, const mw_cliff_thresholds *t)
{
    uint64_t mem = mw_sweep_point_memory(q);
    double by_share = mem != MW_UNKNOWN ? share * (double)mem : 0;
    return by_share > (double)t->min_bytes ? by_share : (double)t->min_bytes;
}

static int above(uint64_t bytes, double threshold)
{
    return bytes != MW_UNKNOWN && (double)bytes > threshold;
}

static double psi_share(const mw_sweep_point *q)
{
    if (!(q->psi_some_seconds >= 0) || !(q->wall_seconds > 0) || !isfinite(q->psi_some_seconds) ||
        !isfinite(q->wall_seconds))
        return -1;
    return q->psi_some_seconds / q->wall_seconds;
}

/* A throughput's run-to-run range: [min, max] of the runs, or the median
 * alone when the point ran once (no spread was measured). */
static double thr_low(const mw_sweep_point *q)
{
    return q->runs >= 2 && throughput_known(q->throughput_min) ? q->throughput_min : q->throughput;
}

static double thr_high(const mw_sweep_point *q)
{
    return q->runs >= 2 && throughput_known(q->throughput_max) ? q->throughput_max : q->throughput;
}

/* The run-to-run range of the knee's points at one x: the slowest run
 * (lo) and the fastest (hi) of its points. */
static void x_range(const points *P, uint32_t x, uint32_t below, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t i = 0; i < P->n; i++)
        if (x_of(P, i) == x && knee_point(&P->p[i], x, below)) {
            double l = thr_low(&P->p[i]), h = thr_high(&P->p[i]);
            if (l < *lo) *lo = l;
            if (h > *hi) *hi = h;
        }
}

/* Some paging traffic: a quarter of a threshold. */
static int some_traffic(const mw_sweep_point *q, const mw_cliff_thresholds *t)
{
    return above(q->swap_in_bytes, traffic_threshold(q, t->swap_in_share, t) / 4) ||
           above(pages_bytes(q->refaults), traffic_threshold(q, t->refault_share, t) / 4) ||
           above(pages_bytes(q->major_faults), traffic_threshold(q, t->major_fault_share, t) / 4);
}

int mw_sweep_point_pressure(const mw_sweep_point *p, const mw_cliff_thresholds *t)
{
    mw_cliff_thresholds defaults;
    if (!p) return 0;
    if (!t) {
        mw_cliff_thresholds_init(&defaults);
        t = &defaults;
    }
    return some_traffic(p, t) || psi_share(p) > t->psi_some_share / 4;
}

/* best: the ok point of smaller x with the best throughput, or NULL when a
 * fall of throughput is not to be taken as paging (a context sweep's). */
static unsigned cliff_causes(const mw_sweep_point *q, const mw_cliff_thresholds *t, const mw_sweep_point *best)
{
    unsigned c = 0;
    if (q->status != MW_POINT_OK && q->status != MW_POINT_TIMEOUT) return 0;
    if (above(q->swap_in_bytes, traffic_threshold(q, t->swap_in_share, t))) c |= CLIFF_SWAP;
    if (above(pages_bytes(q->refaults), traffic_threshold(q, t->refault_share, t))) c |= CLIFF_REFAULT;
    if (above(pages_bytes(q->major_faults), traffic_threshold(q, t->major_fault_share, t))) c |= CLIFF_FAULTS;
    const int traffic = some_traffic(q, t);
    /* Memory stall counts beside some traffic: without a cgroup's own PSI
     * (cgroup v1) it is the whole system's, other processes' stalls too. */
    if (traffic && psi_share(q) > t->psi_some_share) c |= CLIFF_PSI;
    /* A slowdown is paging only with a sign of memory pressure beside it (on
     * a shared host a run can be slow for other reasons, and a bigger step
     * can be slower by its arithmetic alone), and only when it is larger
     * than the spread of the runs measured at both points: the fastest run
     * here slower than the slowest run there. One run a point measures no
     * spread, so no slowdown counts. */
    const int pressure = mw_sweep_point_pressure(q, t);
    if (pressure && best && q->runs >= 2 && best->runs >= 2 && throughput_known(q->throughput) &&
        throughput_known(best->throughput) && best->throughput > 0 &&
        q->throughput < (1.0 - t->throughput_drop) * best->throughput && thr_high(q) < thr_low(best))
        c |= CLIFF_DROP;
    return c;
}

int mw_sweep_point_paging(const mw_sweep_point *p, const mw_cliff_thresholds *t)
{
    mw_cliff_thresholds defaults;
    if (!p) return 0;
    if (!t) {
        mw_cliff_thresholds_init(&defaults);
        t = &defaults;
    }
    return (cliff_causes(p, t, NULL) & (CLIFF_SWAP | CLIFF_REFAULT | CLIFF_FAULTS | CLIFF_PSI)) != 0;
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

/* The largest memory(point) among the ok points at one x (MW_UNKNOWN: none). */
static uint64_t x_memory_of(const points *P, uint32_t x, uint64_t (*memory)(const mw_sweep_point *))
{
    uint64_t best = MW_UNKNOWN;
    for (size_t i = 0; i < P->n; i++) {
        uint64_t m = memory(&P->p[i]);
        if (x_of(P, i) == x && P->p[i].status == MW_POINT_OK && m != MW_UNKNOWN &&
            (best == MW_UNKNOWN || m > best))
            best = m;
    }
    return best;
}

static uint64_t x_memory(const points *P, uint32_t x)
{
    return x_memory_of(P, x, mw_sweep_point_memory);
}

/* The rates of the first ok point at x that has them; 0 when none does. */
static int x_rates(const points *P, uint32_t x, double *bps, double *fps, double *intensity)
{
    for (size_t i = 0; i < P->n; i++)
        if (x_of(P, i) == x && mw_sweep_point_rates(&P->p[i], bps, fps)) {
            *intensity = P->p[i].step_flops / P->p[i].step_bytes;
            return 1;
        }
    return 0;
}

/* "34.2 GB/s and 35.0 GFLOP/s at batch 1 (1.0 FLOP a byte)" */
static void reason_rates(reason_buf *r, const points *P, uint32_t x, const char *xn)
{
    double bps, fps, in;
    if (!x_rates(P, x, &bps, &fps, &in)) return;
    reason_add(r, "%.3g GB/s and %.3g GFLOP/s at %s %u (%.2g FLOP a byte)", bps / 1e9, fps / 1e9, xn, x, in);
}

/* ---- the analysis, step by step ------------------------------------------ */

/* How the points ended. */
typedef struct outcomes {
    uint32_t min_oom;                /* smallest x that ran out of memory; 0: none */
    int any_oom;
    int gpu_oom;                     /* the point at min_oom ran out of a GPU's */
    size_t n_ok, n_timeout, n_failed, n_interrupted;
} outcomes;

/* Largest ok x (out->max_fit), smallest failed one (out->first_fail),
 * smallest OOM, and the counts. */
static void count_outcomes(const points *P, mw_sweep_analysis *out, outcomes *o)
{
    memset(o, 0, sizeof *o);
    for (size_t i = 0; i < P->n; i++) {
        const mw_sweep_point *q = &P->p[i];
        uint32_t x = x_of(P, i);
        /* stopped by a signal: not measured, neither a wall nor a failure */
        if (q->status == MW_POINT_INTERRUPTED) {
            o->n_interrupted++;
            continue;
        }
        if (q->status == MW_POINT_OK) {
            o->n_ok++;
            if (x > out->max_fit) out->max_fit = x;
            continue;
        }
        if (out->first_fail == 0 || x < out->first_fail) out->first_fail = x;
        if (q->status == MW_POINT_OOM && (o->min_oom == 0 || x < o->min_oom)) o->min_oom = x;
        if (q->status == MW_POINT_TIMEOUT) o->n_timeout++;
        else if (q->status != MW_POINT_OOM) o->n_failed++;
    }
    for (size_t i = 0; i < P->n; i++) {
        const mw_sweep_point *q = &P->p[i];
        o->any_oom |= q->status == MW_POINT_OOM;
        o->gpu_oom |= q->status == MW_POINT_OOM && q->oom == MW_OOM_GPU && x_of(P, i) == o->min_oom;
    }
}

/* The first paging point, and the best throughput before it. */
typedef struct cliff {
    int found;                       /* a cliff at x 0 is still one       */
    size_t i;                        /* its point                         */
    unsigned why;                    /* CLIFF_* bits                      */
    double best_below;               /* best ok throughput of smaller x   */
    uint32_t best_below_x;
    uint32_t below;                  /* the filters' bound: x below it is
                                        before the cliff; 0: no cliff     */
} cliff;

/* The cliff: the first ok or timed-out point, in axis order, above a
 * threshold; throughput is compared with the best of smaller ok x (not
 * along the context, where it is expected to fall). Sets out->cliff. */
static void find_cliff(const points *P, const mw_cliff_thresholds *t, mw_sweep_analysis *out, cliff *c)
{
    const int ctx_axis = P->axis == MW_SWEEP_CTX;
    const mw_sweep_point *best_point = NULL;
    memset(c, 0, sizeof *c);
    c->best_below = -1;
    for (int64_t x = -1; !c->found && next_x(P, any_point, 0, &x);) {
        for (size_t i = 0; i < P->n; i++) {
            if (x_of(P, i) != (uint32_t)x) continue;
            unsigned why = cliff_causes(&P->p[i], t, ctx_axis ? NULL : best_point);
            if (why) {
                c->found = 1;
                c->i = i;
                c->why = why;
                out->cliff = (uint32_t)x;
                break;
            }
        }
        for (size_t i = 0; !c->found && i < P->n; i++)
            if (x_of(P, i) == (uint32_t)x && P->p[i].status == MW_POINT_OK &&
                throughput_known(P->p[i].throughput) && P->p[i].throughput > c->best_below) {
                c->best_below = P->p[i].throughput;
                c->best_below_x = (uint32_t)x;
                best_point = &P->p[i];
            }
    }
    /* A cliff at 0 is still a cliff: the point filters below take 0 as
     * "none", so keep the flag beside the value. */
    c->below = c->found ? out->cliff : 0;
    if (c->found && c->below == 0) c->below = 1; /* nothing below 0 anyway */
}

/* The fits, of the points before the cliff; the largest x that fits is
 * one that neither ran out of memory nor paged. */
static void fit_before_cliff(const points *P, const cliff *c, mw_sweep_analysis *out)
{
    fit_memory(P->p, P->n, P->axis, mw_sweep_point_memory, c->below, &out->fit);
    fit_memory(P->p, P->n, P->axis, mw_sweep_point_gpu_memory, c->below, &out->fit_gpu);
    if (!c->found) return;
    out->max_fit = 0;
    for (size_t i = 0; i < P->n; i++)
        if (P->p[i].status == MW_POINT_OK && x_of(P, i) < out->cliff && x_of(P, i) > out->max_fit)
            out->max_fit = x_of(P, i);
}

/* The throughputs of the knee's points, in axis order. */
typedef struct rates {
    size_t n;                        /* distinct x with a throughput      */
    double first_t, last_t;          /* at the first and last of them     */
    uint32_t first_x, last_x;
    double knee_t, knee_next_t;      /* at the knee and the x after it    */
    uint32_t knee_next_x;
    int grew;                        /* a batch sweep without a knee whose
                                        throughput rose from first to last */
} rates;

/* The gain per doubling of the batch from (x0, t0) to (x1, t1), a step
 * shorter than a doubling counting as one: over a short step (the
 * bisection's 20 -> 21) the runs' noise would otherwise be multiplied
 * (x14 there) into a gain or a fall. */
static double gain_per_doubling(uint32_t x0, double t0, uint32_t x1, double t1)
{
    double doublings = log2((double)x1 / (double)x0);
    return pow(t1 / t0, 1.0 / (doublings > 1.0 ? doublings : 1.0)) - 1.0;
}

/* The knee (batch sweeps): the first batch from which no larger batch
 * clearly gains: by 10% or more per doubling (gain_per_doubling) between
 * the mean throughputs, with every run of the larger batch faster than
 * every run of this one (one run a point measures no spread: the means
 * alone). The last batch before bigger batches are shown to pay. Judged
 * against every larger batch, not the next one only, so a dip of one
 * noisy point is not a knee. Along the context the first and last
 * throughputs are kept. Sets out->knee. */
static void find_knee(const points *P, const cliff *c, mw_sweep_analysis *out, rates *k)
{
    const int ctx_axis = P->axis == MW_SWEEP_CTX;
    memset(k, 0, sizeof *k);
    k->first_t = k->last_t = k->knee_t = k->knee_next_t = -1;
    for (int64_t x = -1; next_x(P, knee_point, c->below, &x);) {
        double tx = x_throughput(P, (uint32_t)x, c->below);
        if (k->n == 0) {
            k->first_t = tx;
            k->first_x = (uint32_t)x;
        }
        if (out->knee == 0 && !ctx_axis) {
            int pays = 0;
            double next_t = -1, x_lo, x_hi, y_lo, y_hi;
            int64_t y = x, next = -1;
            x_range(P, (uint32_t)x, c->below, &x_lo, &x_hi);
            while (next_x(P, knee_point, c->below, &y)) {
                double ty = x_throughput(P, (uint32_t)y, c->below);
                x_range(P, (uint32_t)y, c->below, &y_lo, &y_hi);
                if (next < 0) { next = y; next_t = ty; }
                if (gain_per_doubling((uint32_t)x, tx, (uint32_t)y, ty) >= KNEE_GAIN_PER_DOUBLING &&
                    y_lo > x_hi) /* (points run once: implied by the gain) */
                    pays = 1;
            }
            if (next >= 0 && !pays) {
                out->knee = (uint32_t)x;
                k->knee_t = tx;
                k->knee_next_t = next_t;
                k->knee_next_x = (uint32_t)next;
            }
        }
        k->last_t = tx;
        k->last_x = (uint32_t)x;
        k->n++;
    }
    k->grew = !ctx_axis && out->knee == 0 && k->n >= 2 && k->last_t > k->first_t;
}

/* ---- verdicts against the ceilings --------------------------------------- */

static int ceiling_known(double v)
{
    return v > 0 && isfinite(v);
}

int mw_sweep_point_fractions(const mw_sweep_point *p, const mw_ceilings *c, double *bandwidth_fraction,
                             double *compute_fraction)
{
    double bps, fps;
    if (bandwidth_fraction) *bandwidth_fraction = -1;
    if (compute_fraction) *compute_fraction = -1;
    if (!p || !c || !ceiling_known(c->dram_read_bytes_per_second) || !ceiling_known(c->peak_flops_f32) ||
        !mw_sweep_point_rates(p, &bps, &fps))
        return 0;
    if (bandwidth_fraction) *bandwidth_fraction = bps / c->dram_read_bytes_per_second;
    if (compute_fraction) *compute_fraction = fps / c->peak_flops_f32;
    return 1;
}

/* A point's verdict from its fractions: bound by the larger one when it
 * reaches MW_CEILING_NEAR (a tie is bandwidth's: the weights must arrive
 * before they are used), else below both. */
static mw_verdict ceiling_verdict(double bw, double fl)
{
    if (bw >= MW_CEILING_NEAR && bw >= fl) return MW_VERDICT_BANDWIDTH;
    if (fl >= MW_CEILING_NEAR && fl > bw) return MW_VERDICT_COMPUTE;
    return MW_VERDICT_BELOW_CEILINGS;
}

/* How the verdicts are judged. */
typedef struct judging {
    const mw_ceilings *c;            /* the ceilings when judged by them    */
    int have_best;
    size_t best;                     /* the judged point of best throughput */
} judging;

/* The points the ceilings judge: ok, below the cliff, a throughput. */
static int judged_point(const points *P, size_t i, const cliff *c)
{
    const mw_sweep_point *q = &P->p[i];
    return q->status == MW_POINT_OK && throughput_known(q->throughput) && (c->below == 0 || x_of(P, i) < c->below);
}

/* The length of a string in a fixed field that may lack its NUL. */
static size_t field_len(const char *s, size_t cap)
{
    const char *z = memchr(s, 0, cap);
    return z ? (size_t)(z - s) : cap;
}

/* "25.9" (GB/s, GFLOP/s): 3 significant digits, no exponent. */
static const char *fmt_giga(double v, char *buf, size_t cap)
{
    return fmt_rate(v / 1e9, buf, cap);
}

/* out->judged when the ceilings judge: the profile, its date and figures.
 * A path too long to fit keeps its end (the file's name). */
static void judged_by_ceilings(const mw_ceilings *c, mw_sweep_analysis *out)
{
    char bw[32], fl[32], when[sizeof c->measured + 8], path[sizeof out->judged];
    char tail[sizeof out->judged];
    reason_buf t = {tail, sizeof tail, 0};
    reason_add(&t, "DRAM read %s GB/s, FP32 peak %s GFLOP/s", fmt_giga(c->dram_read_bytes_per_second, bw, sizeof bw),
               fmt_giga(c->peak_flops_f32, fl, sizeof fl));
    if (c->threads) reason_add(&t, " on %u thread%s", c->threads, c->threads == 1 ? "" : "s");
    when[0] = 0;
    if (c->measured[0]) mw_shown(c->measured, field_len(c->measured, sizeof c->measured), when, sizeof when);
    path[0] = 0;
    size_t plen = field_len(c->path, sizeof c->path);
    if (plen) {
        size_t fixed = strlen("against this machine's ceilings (profile , measured : )") + strlen(when) + t.len;
        size_t room = sizeof out->judged > fixed + 16 ? sizeof out->judged - fixed - 1 : 16;
        if (plen <= room) mw_shown(c->path, plen, path, sizeof path);
        else { /* "..." and the end of the path */
            memcpy(path, "...", 3);
            mw_shown(c->path + plen - (room - 3), room - 3, path + 3, sizeof path - 3);
        }
    }
    reason_buf r = {out->judged, sizeof out->judged, 0};
    out->judged[0] = 0;
    reason_add(&r, "against this machine's ceilings (");
    if (path[0]) reason_add(&r, "profile %s%s", path, when[0] ? ", " : ": ");
    if (when[0]) reason_add(&r, "measured %s: ", when);
    reason_add(&r, "%s)", tail);
}

/* Whether the ceilings judge the verdicts, and out->judged either way:
 * along the batch, with both figures known, when every point they would
 * judge has its fractions (a point without them, as a command's, leaves
 * the whole sweep to the curve: the overall verdict compares the points). */
static void choose_judging(const points *P, const cliff *cl, const mw_ceilings *c, mw_sweep_analysis *out,
                           judging *J)
{
    memset(J, 0, sizeof *J);
    out->by_ceilings = 0;
    if (P->axis == MW_SWEEP_CTX) {
        snprintf(out->judged, sizeof out->judged,
                 "by memory alone: a context sweep fixes the batch (no bandwidth or compute verdict)");
        return;
    }
    if (!c || (!ceiling_known(c->dram_read_bytes_per_second) && !ceiling_known(c->peak_flops_f32))) {
        snprintf(out->judged, sizeof out->judged, "by the throughput curve: no machine profile (run memwall roofline)");
        return;
    }
    if (!ceiling_known(c->dram_read_bytes_per_second) || !ceiling_known(c->peak_flops_f32)) {
        snprintf(out->judged, sizeof out->judged,
                 "by the throughput curve: the machine profile has no %s (run memwall roofline)",
                 ceiling_known(c->peak_flops_f32) ? "DRAM read bandwidth" : "FP32 peak");
        return;
    }
    size_t n_judged = 0, n_known = 0;
    for (size_t i = 0; i < P->n; i++) {
        if (!judged_point(P, i, cl)) continue;
        n_judged++;
        double bw, fl;
        if (!mw_sweep_point_fractions(&P->p[i], c, &bw, &fl)) continue;
        n_known++;
        const mw_sweep_point *q = &P->p[i], *b = J->have_best ? &P->p[J->best] : NULL;
        if (!b || q->throughput > b->throughput || (q->throughput == b->throughput && q->batch < b->batch)) {
            J->best = i;
            J->have_best = 1;
        }
    }
    if (n_judged == 0)
        snprintf(out->judged, sizeof out->judged,
                 "by the throughput curve: no point below the cliff measured a throughput");
    else if (n_known == 0)
        snprintf(out->judged, sizeof out->judged,
                 "by the throughput curve: a command's points have no bytes or FLOPs per step");
    else if (n_known < n_judged)
        snprintf(out->judged, sizeof out->judged,
                 "by the throughput curve: %zu of %zu points have no bytes or FLOPs per step", n_judged - n_known,
                 n_judged);
    else {
        J->c = c;
        out->by_ceilings = 1;
        judged_by_ceilings(c, out);
        return;
    }
    J->have_best = 0;
}

/* The ceilings' verdicts of the points they judge. */
static void ceiling_verdicts(const points *P, const cliff *cl, const judging *J, mw_verdict *verdicts)
{
    for (size_t i = 0; J->c && i < P->n; i++) {
        double bw, fl;
        if (judged_point(P, i, cl) && mw_sweep_point_fractions(&P->p[i], J->c, &bw, &fl))
            verdicts[i] = ceiling_verdict(bw, fl);
    }
}

/* The verdict of each point: along the context, an ok point before the
 * cliff says nothing of bandwidth or compute (the batch is fixed). */
static void point_verdicts(const points *P, const cliff *c, const mw_sweep_analysis *out, mw_verdict *verdicts)
{
    const int ctx_axis = P->axis == MW_SWEEP_CTX;
    for (size_t i = 0; i < P->n; i++) {
        const mw_sweep_point *q = &P->p[i];
        uint32_t x = x_of(P, i);
        int paging = c->found && x >= out->cliff;
        mw_verdict v = MW_VERDICT_UNKNOWN;
        switch (q->status) {
        case MW_POINT_OOM: v = MW_VERDICT_CAPACITY; break;
        case MW_POINT_TIMEOUT: v = paging ? MW_VERDICT_PAGING : MW_VERDICT_UNKNOWN; break;
        case MW_POINT_OK:
            if (paging) v = MW_VERDICT_PAGING;
            else if (ctx_axis) v = MW_VERDICT_FITS;
            else if (out->knee != 0 && x > out->knee) v = MW_VERDICT_COMPUTE;
            else if (throughput_known(q->throughput)) v = MW_VERDICT_BANDWIDTH;
            break;
        default: break;
        }
        verdicts[i] = v;
    }
}

/* Overall: a wall first (out of memory unless paging started before it);
 * then, judged against the ceilings, the verdict of the point of best
 * throughput; else the knee, then growth; along the context, "fits" when
 * nothing hit. */
static mw_verdict overall_verdict(const points *P, const outcomes *o, const cliff *c, const rates *k,
                                  const judging *J, const mw_sweep_analysis *out)
{
    if (o->any_oom && (!c->found || out->cliff >= o->min_oom)) return MW_VERDICT_CAPACITY;
    if (c->found) return MW_VERDICT_PAGING;
    if (J->c && J->have_best) {
        double bw, fl;
        if (mw_sweep_point_fractions(&P->p[J->best], J->c, &bw, &fl)) return ceiling_verdict(bw, fl);
    }
    if (out->knee != 0) return MW_VERDICT_COMPUTE;
    if (k->grew) return MW_VERDICT_BANDWIDTH;
    if (P->axis == MW_SWEEP_CTX && o->n_ok) return MW_VERDICT_FITS;
    return MW_VERDICT_UNKNOWN;
}

/* ---- the reason: the numbers behind the verdict ---------------------------- */

/* "out of memory at batch 64 (peak 3.1 GiB at batch 32, the largest below
 * it that fit)" */
static void reason_capacity(reason_buf *r, const points *P, const outcomes *o)
{
    const char *xn = mw_sweep_axis_name(P->axis);
    char s1[32];
    /* The largest ok x below the first OOM, and its peak. */
    uint32_t fit_below_oom = 0;
    int any_ok_below_oom = 0;
    for (size_t i = 0; i < P->n; i++) {
        uint32_t x = x_of(P, i);
        if (P->p[i].status != MW_POINT_OK || (o->any_oom && x >= o->min_oom)) continue;
        any_ok_below_oom = 1;
        if (x > fit_below_oom) fit_below_oom = x;
    }
    /* a GPU's wall is told by its own memory */
    uint64_t (*mem)(const mw_sweep_point *) = o->gpu_oom ? mw_sweep_point_gpu_memory : mw_sweep_point_memory;
    reason_add(r, "out of %smemory at %s %u", o->gpu_oom ? "GPU " : "", xn, o->min_oom);
    if (any_ok_below_oom && x_memory_of(P, fit_below_oom, mem) != MW_UNKNOWN)
        reason_add(r, " (peak %s at %s %u, the largest below it that fit)",
                   mw_size_format(x_memory_of(P, fit_below_oom, mem), s1, sizeof s1), xn, fit_below_oom);
    else if (any_ok_below_oom)
        reason_add(r, " (%s %u, the largest below it, fit)", xn, fit_below_oom);
    else
        reason_add(r, " (no smaller %s ran to the end)", xn);
}

/* "paging from batch 128 (peak 1.9 GiB): 310 MiB swapped in (threshold
 * ...)", each cause that marked the cliff with its threshold. */

/* "40.0 MiB swapped in (threshold 16.0 MiB, 5% of the peak)" */
static void reason_traffic(reason_buf *r, const char *sep, const char *what, const mw_sweep_point *q,
                           uint64_t bytes, double share, const mw_cliff_thresholds *t)
{
    char a[32], b[32];
    reason_add(r, "%s%s %s (threshold %s, %.0f%% of the peak)", sep, mw_size_format(bytes, a, sizeof a), what,
               mw_size_format((uint64_t)traffic_threshold(q, share, t), b, sizeof b), 100.0 * share);
}
static void reason_paging(reason_buf *r, const points *P, const mw_cliff_thresholds *t, const outcomes *o,
                          const cliff *c, const mw_sweep_analysis *out)
{
    const char *xn = mw_sweep_axis_name(P->axis);
    const mw_sweep_point *q = &P->p[c->i];
    const char *sep = ": ";
    char s1[32], s2[32], s3[32];
    reason_add(r, "paging from %s %u", xn, out->cliff);
    if (mw_sweep_point_memory(q) != MW_UNKNOWN)
        reason_add(r, " (peak %s)", mw_size_format(mw_sweep_point_memory(q), s1, sizeof s1));
    if (c->why & CLIFF_SWAP) {
        reason_traffic(r, sep, "swapped in", q, q->swap_in_bytes, t->swap_in_share, t);
        sep = ", ";
    }
    if (c->why & CLIFF_REFAULT) {
        reason_traffic(r, sep, "refaulted, evicted and read back", q, pages_bytes(q->refaults), t->refault_share, t);
        sep = ", ";
    }
    if (c->why & CLIFF_FAULTS) {
        reason_add(r, "%s%llu major faults, %s read (threshold %s, %.0f%% of the peak)", sep,
                   (unsigned long long)q->major_faults,
                   mw_size_format(pages_bytes(q->major_faults), s2, sizeof s2),
                   mw_size_format((uint64_t)traffic_threshold(q, t->major_fault_share, t), s3, sizeof s3),
                   100.0 * t->major_fault_share);
        sep = ", ";
    }
    if (c->why & CLIFF_PSI) {
        reason_add(r, "%sstalled on memory %.0f%% of the time (threshold %.0f%%)", sep,
                   100.0 * q->psi_some_seconds / q->wall_seconds, 100.0 * t->psi_some_share);
        sep = ", ";
    }
    if (c->why & CLIFF_DROP)
        reason_add(r, "%sthroughput %s items/s, %.0f%% below the %s of %s %u (threshold %.0f%%, beyond "
                   "the runs' spread)", sep, fmt_rate(q->throughput, s2, sizeof s2),
                   100.0 * (1.0 - q->throughput / c->best_below),
                   fmt_rate(c->best_below, s3, sizeof s3), xn, c->best_below_x,
                   100.0 * t->throughput_drop);
    if (o->any_oom) reason_add(r, "; out of memory at %s %u", xn, o->min_oom);
}

/* No wall along the context: how far, and what each token costs. */
static void reason_fits(reason_buf *r, const points *P, const mw_sweep_analysis *out)
{
    char s1[32], s2[32];
    uint64_t m = x_memory(P, out->max_fit);
    reason_add(r, "no paging or out-of-memory up to ctx %u", out->max_fit);
    if (m != MW_UNKNOWN) reason_add(r, " (peak %s)", mw_size_format(m, s1, sizeof s1));
    /* under a byte a token is no growth: a fit through noise */
    if (out->fit.valid && out->fit.per_item_bytes >= 1.0)
        reason_add(r, "; memory grows by %s%s per token of context", out->fit.r2 < 0.9 ? "about " : "",
                   mw_size_format((uint64_t)out->fit.per_item_bytes, s2, sizeof s2));
    else if (out->fit.valid)
        reason_add(r, "; memory does not grow with the context");
}

/* No verdict: why not. */
static void reason_unknown(reason_buf *r, const points *P, const outcomes *o, const rates *k,
                           const mw_sweep_analysis *out)
{
    char s1[32], s2[32];
    if (P->n == o->n_interrupted) reason_add(r, "no points measured");
    else if (o->n_ok == 0)
        reason_add(r, "no point ran to the end (%zu timed out, %zu failed)", o->n_timeout, o->n_failed);
    else if (k->n == 0)
        reason_add(r, "no throughput measured (largest batch that ran to the end: %u)", out->max_fit);
    else if (k->n == 1)
        reason_add(r, "throughput measured at one batch only (%u): a verdict needs two", k->first_x);
    else
        reason_add(r, "throughput does not grow with the batch: %s items/s at batch %u, %s at batch %u",
                   fmt_rate(k->first_t, s1, sizeof s1), k->first_x, fmt_rate(k->last_t, s2, sizeof s2),
                   k->last_x);
}

/* What follows the verdict's own sentence: the knee, the growth before a
 * wall, the context's cost in speed, the achieved rates, and how far memory
 * was measured to be no limit. */
static void reason_details(reason_buf *r, const points *P, const rates *k, const mw_sweep_analysis *out)
{
    const int ctx_axis = P->axis == MW_SWEEP_CTX;
    const char *xn = mw_sweep_axis_name(P->axis);
    char s1[32], s2[32];
    if (out->knee != 0) {
        /* a gain of the medians that only the runs' spread discounts */
        int in_spread = gain_per_doubling(out->knee, k->knee_t, k->knee_next_x, k->knee_next_t) >= KNEE_GAIN_PER_DOUBLING;
        reason_add(r, "%sthroughput stops growing after batch %u (%+.0f%% for %u%s)", r->len ? "; " : "",
                   out->knee, 100.0 * (k->knee_next_t / k->knee_t - 1.0), k->knee_next_x,
                   in_spread ? ", within the runs' spread" : "");
    }
    /* Before a wall, say whether the batch still paid. */
    if (k->grew && (out->overall == MW_VERDICT_CAPACITY || out->overall == MW_VERDICT_PAGING))
        reason_add(r, "; until then throughput grew with the batch (%s items/s at batch %u, %s at batch %u)",
                   fmt_rate(k->first_t, s1, sizeof s1), k->first_x, fmt_rate(k->last_t, s2, sizeof s2),
                   k->last_x);
    /* Along the context: what the longest context costs in speed. */
    if (ctx_axis && k->n >= 2)
        reason_add(r, "; throughput %s items/s at ctx %u, %s at ctx %u", fmt_rate(k->first_t, s1, sizeof s1),
                   k->first_x, fmt_rate(k->last_t, s2, sizeof s2), k->last_x);
    /* The plan's bytes and FLOPs of a step, turned into what the points
     * achieved: at the first measured point and at the knee (or the last). */
    uint32_t far_x = out->knee ? out->knee : k->last_x;
    double u1, u2, u3;
    if (k->n >= 1 && x_rates(P, k->first_x, &u1, &u2, &u3)) {
        reason_add(r, "; per the plan's decode step: ");
        reason_rates(r, P, k->first_x, xn);
        if (far_x != k->first_x && x_rates(P, far_x, &u1, &u2, &u3)) {
            reason_add(r, ", ");
            reason_rates(r, P, far_x, xn);
        }
    }
    /* Where memory was no limit, say how far it was measured. */
    if ((out->overall == MW_VERDICT_COMPUTE || out->overall == MW_VERDICT_BANDWIDTH ||
         out->overall == MW_VERDICT_BELOW_CEILINGS) && out->max_fit != 0) {
        uint64_t m = x_memory(P, out->max_fit);
        reason_add(r, "; no paging or out-of-memory up to batch %u", out->max_fit);
        if (m != MW_UNKNOWN) reason_add(r, " (peak %s)", mw_size_format(m, s1, sizeof s1));
    }
}

/* ---- the reason against the ceilings -------------------------------------- */

/* "memory bandwidth: 0.93 of this machine's DRAM read bandwidth at batch 4
 * (24.1 of 25.9 GB/s)", "compute: 0.71 of the FP32 FMA peak at batch 48
 * (165 of 233 GFLOP/s)", or "below both ceilings at batch 48: 0.27 of
 * compute, 0.18 of bandwidth: overhead or parallelism, not the hardware";
 * then whether the profile's figures are noisy. */
static void reason_ceiling_point(reason_buf *r, const points *P, const judging *J, size_t i)
{
    const mw_sweep_point *q = &P->p[i];
    double bw, fl, bps, fps;
    char a[32], b[32];
    if (!mw_sweep_point_fractions(q, J->c, &bw, &fl) || !mw_sweep_point_rates(q, &bps, &fps)) return;
    uint32_t x = x_of(P, i);
    switch (ceiling_verdict(bw, fl)) {
    case MW_VERDICT_BANDWIDTH:
        reason_add(r, "memory bandwidth: %.2f of this machine's DRAM read bandwidth at batch %u (%s of %s GB/s)", bw, x,
                   fmt_giga(bps, a, sizeof a), fmt_giga(J->c->dram_read_bytes_per_second, b, sizeof b));
        break;
    case MW_VERDICT_COMPUTE:
        reason_add(r, "compute: %.2f of the FP32 FMA peak at batch %u (%s of %s GFLOP/s)", fl, x,
                   fmt_giga(fps, a, sizeof a), fmt_giga(J->c->peak_flops_f32, b, sizeof b));
        break;
    default:
        reason_add(r, "below both ceilings at batch %u: %.2f of compute, %.2f of bandwidth: overhead or "
                   "parallelism, not the hardware", x, fl, bw);
        break;
    }
    if (J->c->noisy) reason_add(r, " (the profile's figures are noisy)");
}

/* After a wall: what the ceilings said of the best point below it. */
static void reason_ceilings_below_wall(reason_buf *r, const points *P, const judging *J)
{
    double bw, fl;
    if (!J->c || !J->have_best || !mw_sweep_point_fractions(&P->p[J->best], J->c, &bw, &fl)) return;
    reason_add(r, "; below the wall, the ceilings judge batch %u (the best throughput) %s: %.2f of the DRAM read "
               "bandwidth, %.2f of the FP32 peak%s", x_of(P, J->best), mw_verdict_name(ceiling_verdict(bw, fl)), bw,
               fl, J->c->noisy ? " (the profile's figures are noisy)" : "");
}

/* out->reason: the overall verdict's numbers, then the details. */
static void write_reason(const points *P, const mw_cliff_thresholds *t, const outcomes *o, const cliff *c,
                         const rates *k, const judging *J, mw_sweep_analysis *out)
{
    reason_buf r = {out->reason, sizeof out->reason, 0};
    char s1[32], s2[32];
    if (J->c && J->have_best && out->overall != MW_VERDICT_CAPACITY && out->overall != MW_VERDICT_PAGING) {
        /* the best point's fractions, then the details (the knee is still
         * a fact of the curve) */
        reason_ceiling_point(&r, P, J, J->best);
        reason_add(&r, "; batch %u had the best throughput (%s items/s)", x_of(P, J->best),
                   fmt_rate(P->p[J->best].throughput, s1, sizeof s1));
        reason_details(&r, P, k, out);
        return;
    }
    switch (out->overall) {
    case MW_VERDICT_CAPACITY:
        reason_capacity(&r, P, o);
        reason_ceilings_below_wall(&r, P, J);
        break;
    case MW_VERDICT_PAGING:
        reason_paging(&r, P, t, o, c, out);
        reason_ceilings_below_wall(&r, P, J);
        break;
    case MW_VERDICT_COMPUTE: break; /* the knee, in the details, says it */
    case MW_VERDICT_BANDWIDTH:
        reason_add(&r, "throughput grows with the batch, at least +%.0f%% per doubling: %s items/s at batch %u, %s at batch %u",
                   100.0 * KNEE_GAIN_PER_DOUBLING, fmt_rate(k->first_t, s1, sizeof s1), k->first_x,
                   fmt_rate(k->last_t, s2, sizeof s2), k->last_x);
        break;
    case MW_VERDICT_FITS: reason_fits(&r, P, out); break;
    default: reason_unknown(&r, P, o, k, out); break;
    }
    reason_details(&r, P, k, out);
}

/* ---- along the budget (issue #15, docs/PAGING.md "In the sweep") ---------- */

/* Decimal bytes, as the bandwidths are ("1.4 GB", "4.19 MB"). */
static const char *fmt_dec_bytes(double v, char *buf, size_t cap)
{
    const char *u = "B";
    if (v >= 1e12) { v /= 1e12; u = "TB"; }
    else if (v >= 1e9) { v /= 1e9; u = "GB"; }
    else if (v >= 1e6) { v /= 1e6; u = "MB"; }
    else if (v >= 1e3) { v /= 1e3; u = "kB"; }
    if (v >= 100 || !strcmp(u, "B")) snprintf(buf, cap, "%.0f %s", v, u);
    else snprintf(buf, cap, "%.3g %s", v, u);
    return buf;
}

/* An ok point that streamed weights from the file. */
static int budget_streamed(const mw_sweep_point *q)
{
    return q->status == MW_POINT_OK && q->streamed_layers > 0;
}

/* The ok point that streamed at the smallest budget (most paging), or the
 * ok one that streamed nothing at the smallest budget; -1: none. */
static ptrdiff_t budget_pick(const points *P, int streamed)
{
    ptrdiff_t best = -1;
    for (size_t i = 0; i < P->n; i++) {
        const mw_sweep_point *q = &P->p[i];
        if (q->status != MW_POINT_OK || budget_streamed(q) != streamed) continue;
        if (best < 0 || q->budget_bytes < P->p[best].budget_bytes) best = (ptrdiff_t)i;
    }
    return best;
}

/* "streams 1.4 GB per step at 0.90 of the disk's bandwidth (1.2 of 1.3
 * GB/s) at budget 2.0 GiB (12 of 16 layers), 3.1 items/s" */
static void reason_budget_stream(reason_buf *r, const mw_sweep_point *q, const mw_ceilings *c)
{
    char a[32], b[32], d[32];
    if (q->stream_bytes_per_step != MW_UNKNOWN)
        reason_add(r, "streams %s per step", fmt_dec_bytes((double)q->stream_bytes_per_step, a, sizeof a));
    else reason_add(r, "streams %u layers per step", q->streamed_layers);
    const int bw = q->stream_bytes_per_second > 0 && isfinite(q->stream_bytes_per_second);
    if (bw && c && c->disk_read_bytes_per_second > 0)
        reason_add(r, " at %.2f of the disk's bandwidth (%.3g of %.3g GB/s, the profile's disk_cold tier)",
                   q->stream_bytes_per_second / c->disk_read_bytes_per_second, q->stream_bytes_per_second / 1e9,
                   c->disk_read_bytes_per_second / 1e9);
    else if (bw)
        reason_add(r, " at %.3g GB/s (no disk_cold tier in the machine profile to compare with: run memwall "
                   "roofline)", q->stream_bytes_per_second / 1e9);
    reason_add(r, " at budget %s (%u layers streamed)", mw_size_format(q->budget_bytes, b, sizeof b),
               q->streamed_layers);
    if (throughput_known(q->throughput)) reason_add(r, ", %s items/s", fmt_rate(q->throughput, d, sizeof d));
}

/* The budget sweep's analysis: each ok point that streamed is "paging"
 * (or one the kernel paged, by the cliff's thresholds), one that kept every
 * layer resident "fits", an out-of-memory one "memory capacity". There is
 * no knee or cliff along the budget: less budget streams more, by design.
 * max_fit is the smallest budget (KiB) that ran to the end, first_fail the
 * largest that did not. */
static void analyze_budget(const points *P, const mw_cliff_thresholds *t, const mw_ceilings *c,
                           mw_verdict *verdicts, mw_sweep_analysis *out)
{
    outcomes o;
    count_outcomes(P, out, &o);
    out->max_fit = 0;
    out->first_fail = 0;
    for (size_t i = 0; i < P->n; i++) {
        const mw_sweep_point *q = &P->p[i];
        uint32_t x = x_of(P, i);
        if (q->status == MW_POINT_OK && (out->max_fit == 0 || x < out->max_fit)) out->max_fit = x;
        if (q->status != MW_POINT_OK && q->status != MW_POINT_INTERRUPTED && x > out->first_fail)
            out->first_fail = x;
    }
    fit_memory(P->p, P->n, P->axis, mw_sweep_point_memory, 0, &out->fit);
    fit_memory(P->p, P->n, P->axis, mw_sweep_point_gpu_memory, 0, &out->fit_gpu);
    for (size_t i = 0; verdicts && i < P->n; i++) {
        const mw_sweep_point *q = &P->p[i];
        mw_verdict v = MW_VERDICT_UNKNOWN;
        if (q->status == MW_POINT_OOM) v = MW_VERDICT_CAPACITY;
        else if (q->status == MW_POINT_OK)
            v = budget_streamed(q) || mw_sweep_point_paging(q, t) ? MW_VERDICT_PAGING : MW_VERDICT_FITS;
        verdicts[i] = v;
    }
    const int disk = c && c->disk_read_bytes_per_second > 0;
    snprintf(out->judged, sizeof out->judged, "by the streamed bytes: a budget sweep fixes the batch%s",
             disk ? "; the slow tier is the machine profile's disk_cold" : "");
    ptrdiff_t s = budget_pick(P, 1), f = budget_pick(P, 0);
    out->overall = s >= 0 ? MW_VERDICT_PAGING : f >= 0 ? MW_VERDICT_FITS : o.any_oom ? MW_VERDICT_CAPACITY
                                                                                      : MW_VERDICT_UNKNOWN;
    reason_buf r = {out->reason, sizeof out->reason, 0};
    char a[32], b[32];
    if (s >= 0) reason_budget_stream(&r, &P->p[s], c);
    if (f >= 0) {
        const mw_sweep_point *q = &P->p[f];
        reason_add(&r, "%sno paging from budget %s up (every layer resident", r.len ? "; " : "",
                   mw_size_format(q->budget_bytes, a, sizeof a));
        if (throughput_known(q->throughput)) reason_add(&r, ", %s items/s", fmt_rate(q->throughput, b, sizeof b));
        reason_add(&r, "): the budget stops mattering there");
    } else if (s >= 0) {
        reason_add(&r, "; every budget that ran streamed: the weights need more than the largest");
    }
    for (size_t i = 0; i < P->n; i++) /* the kernel's own paging beside the streaming */
        if (P->p[i].status == MW_POINT_OK && mw_sweep_point_paging(&P->p[i], t)) {
            reason_add(&r, "; the kernel paged too at budget %s (refaults, major faults or swap above the "
                       "cliff's thresholds: the cap is too tight)", mw_size_format(P->p[i].budget_bytes, a, sizeof a));
            break;
        }
    if (o.any_oom) {
        uint32_t x = 0;
        size_t k = 0;
        for (size_t i = 0; i < P->n; i++)
            if (P->p[i].status == MW_POINT_OOM && x_of(P, i) >= x) { x = x_of(P, i); k = i; }
        reason_add(&r, "%sout of memory at budget %s", r.len ? "; " : "",
                   mw_size_format(P->p[k].budget_bytes, a, sizeof a));
    }
    if (!r.len) {
        if (P->n == o.n_interrupted) reason_add(&r, "no points measured");
        else reason_add(&r, "no point ran to the end (%zu timed out, %zu failed)", o.n_timeout, o.n_failed);
    }
}

void mw_sweep_analyze(const mw_sweep_point *p, size_t n, mw_sweep_axis axis, const mw_cliff_thresholds *t,
                      mw_verdict *verdicts, mw_sweep_analysis *out)
{
    mw_sweep_analyze_ceilings(p, n, axis, t, NULL, verdicts, out);
}

void mw_sweep_analyze_ceilings(const mw_sweep_point *p, size_t n, mw_sweep_axis axis, const mw_cliff_thresholds *t,
                               const mw_ceilings *ceilings, mw_verdict *verdicts, mw_sweep_analysis *out)
{
    mw_sweep_analysis scratch;
    mw_cliff_thresholds defaults;
    if (!out) out = &scratch;
    memset(out, 0, sizeof *out);
    out->axis = axis;
    if (!t) {
        mw_cliff_thresholds_init(&defaults);
        t = &defaults;
    }
    if (!p) n = 0;
    const points P = {p, n, axis};
    if (axis == MW_SWEEP_BUDGET) { /* issue #15: its own rules */
        analyze_budget(&P, t, ceilings, verdicts, out);
        return;
    }

    outcomes o;
    cliff c;
    rates k;
    judging J;
    count_outcomes(&P, out, &o);
    find_cliff(&P, t, out, &c);
    fit_before_cliff(&P, &c, out);
    find_knee(&P, &c, out, &k);
    choose_judging(&P, &c, ceilings, out, &J);
    if (verdicts) {
        point_verdicts(&P, &c, out, verdicts);
        ceiling_verdicts(&P, &c, &J, verdicts);
    }
    out->overall = overall_verdict(&P, &o, &c, &k, &J, out);
    write_reason(&P, t, &o, &c, &k, &J, out);
}
