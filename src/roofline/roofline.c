/*
 * roofline.c - mw_roofline_measure: bandwidth against working set on one
 * thread and on all, the cache levels found from the curve, and the
 * compute peaks.
 *
 * Threads: each measurement starts its threads once; every repetition
 * starts at a barrier and lasts, for the figure, as long as the slowest
 * thread took (so "all threads" is the rate they reach together). On all
 * threads the working set is split: each thread sweeps its own slice.
 * A repetition repeats the kernel until it moved enough bytes to time it
 * well; each figure is the best (max) of several repetitions, with the
 * min and median beside it.
 */
#include "roofline/roofline.h"
#include "common/error.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 256
#define MAX_REPS 21

/* Published results of every kernel: the compiler cannot drop the work. */
static volatile float mw_rl_sink;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* This thread's CPU time: against the clock, it shows a repetition during
 * which another process had the thread's CPU (its figure is low). */
static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A repetition whose threads had less than this share of its span on a
 * CPU was disturbed: its rate is not the machine's. */
#define OFF_CPU_SHARE 0.90

double mw_rl_rep_rate(const double *t0, const double *t1, const double *cpu, uint32_t n, double amount,
                      int *disturbed)
{
    double first = t0[0], last = t1[0], on_cpu = 0;
    for (uint32_t t = 0; t < n; t++) {
        if (t0[t] < first) first = t0[t];
        if (t1[t] > last) last = t1[t];
        on_cpu += cpu[t];
    }
    const double span = last - first;
    *disturbed = span > 0 && on_cpu < OFF_CPU_SHARE * span * n;
    return span > 0 ? amount / span : 0;
}

void mw_roofline_opts_init(mw_roofline_opts *o)
{
    memset(o, 0, sizeof *o);
}

void mw_roofline_result_free(mw_roofline_result *r)
{
    if (!r) return;
    mw_free(r->points);
    mw_free(r);
}

typedef struct job {
    int      kind;            /* MW_RL_* bandwidth kernel, or 10 + compute kind */
    mw_rl_isa isa;
    int      narrow;          /* read: 16-byte loads (mw_rl_read_narrow) */
    float   *arr[3];          /* each thread's slices: arr[k] + t * per */
    size_t   per;             /* floats per thread per array */
    uint64_t inner;           /* kernel calls (or compute iterations) per repetition */
    int      reps;
    uint32_t threads;
    pthread_barrier_t bar;
    pthread_mutex_t gate_mu;  /* the gate: workers wait here until every */
    pthread_cond_t gate_cv;   /* thread exists (or one could not be made) */
    int      gate;            /* 0 closed, 1 run, -1 give up */
    double   t0[MAX_THREADS][MAX_REPS]; /* each thread's start and end of  */
    double   t1[MAX_THREADS][MAX_REPS]; /* each repetition (the clock's)   */
    double   cpu[MAX_THREADS][MAX_REPS];/* and the CPU time it had         */
    double   work;            /* flops per thread per repetition (compute) */
} job;

typedef struct worker { job *j; uint32_t t; } worker;

enum { C_FMA = 10, C_BF16, C_INT8 };

static void *work(void *arg)
{
    worker *w = arg;
    job *j = w->j;
    float *a = j->arr[0] ? j->arr[0] + w->t * j->per : NULL;
    float *b = j->arr[1] ? j->arr[1] + w->t * j->per : NULL;
    float *c = j->arr[2] ? j->arr[2] + w->t * j->per : NULL;
    float pub = 0;
    if (w->t) {
        pthread_mutex_lock(&j->gate_mu);
        while (!j->gate) pthread_cond_wait(&j->gate_cv, &j->gate_mu);
        int go = j->gate > 0;
        pthread_mutex_unlock(&j->gate_mu);
        if (!go) return NULL;
    }
    for (int r = 0; r < j->reps; r++) {
        pthread_barrier_wait(&j->bar);
        double t0 = now_seconds(), c0 = cpu_seconds(), f = 0;
        switch (j->kind) {
        case MW_RL_READ:
            if (j->narrow) for (uint64_t i = 0; i < j->inner; i++) pub += mw_rl_read_narrow(a, j->per);
            else for (uint64_t i = 0; i < j->inner; i++) pub += mw_rl_read(j->isa, a, j->per);
            break;
        case MW_RL_WRITE: for (uint64_t i = 0; i < j->inner; i++) mw_rl_write(j->isa, a, j->per, (float)i); break;
        case MW_RL_COPY:  for (uint64_t i = 0; i < j->inner; i++) mw_rl_copy(j->isa, b, a, j->per); break;
        case MW_RL_TRIAD: for (uint64_t i = 0; i < j->inner; i++) mw_rl_triad(j->isa, a, b, c, 0.5f, j->per); break;
        case C_FMA:  pub += mw_rl_fma_f32(j->isa, j->inner, &f); break;
        case C_BF16: pub += mw_rl_dot_bf16(j->inner, &f); break;
        case C_INT8: pub += mw_rl_dot_int8(mw_rl_int8_best(), j->inner, &f); break;
        }
        j->t1[w->t][r] = now_seconds();
        j->t0[w->t][r] = t0;
        j->cpu[w->t][r] = cpu_seconds() - c0;
        if (w->t == 0) j->work = f;
        if (a) pub += a[0];  /* what was written is read back: stores stay */
    }
    mw_rl_sink = pub;
    return NULL;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static void figure_unknown(mw_roofline_figure *f) { f->min = f->median = f->max = -1; f->noisy = 0; }

/* Runs j on j->threads threads; rate = amount / (slowest thread's time). */
static int run_job(job *j, double amount, mw_roofline_figure *out)
{
    pthread_t tid[MAX_THREADS];
    worker w[MAX_THREADS];
    figure_unknown(out);
    if (pthread_barrier_init(&j->bar, NULL, j->threads)) return 0;
    pthread_mutex_init(&j->gate_mu, NULL);
    pthread_cond_init(&j->gate_cv, NULL);
    j->gate = 0;
    uint32_t started = 0;
    for (uint32_t t = 1; t < j->threads; t++) {
        w[t] = (worker){j, t};
        if (pthread_create(&tid[t], NULL, work, &w[t])) break;
        started++;
    }
    /* open the gate; when a thread could not be made the barrier would
     * never open, so the others leave at the gate and the figure stays
     * unknown */
    const int all = started + 1 == j->threads;
    pthread_mutex_lock(&j->gate_mu);
    j->gate = all ? 1 : -1;
    pthread_cond_broadcast(&j->gate_cv);
    pthread_mutex_unlock(&j->gate_mu);
    if (!all) {
        for (uint32_t t = 1; t <= started; t++) pthread_join(tid[t], NULL);
        pthread_barrier_destroy(&j->bar);
        pthread_cond_destroy(&j->gate_cv);
        pthread_mutex_destroy(&j->gate_mu);
        return 0;
    }
    w[0] = (worker){j, 0};
    work(&w[0]);
    for (uint32_t t = 1; t < j->threads; t++) pthread_join(tid[t], NULL);
    pthread_barrier_destroy(&j->bar);
    pthread_cond_destroy(&j->gate_cv);
    pthread_mutex_destroy(&j->gate_mu);
    /* A repetition lasts from the first thread's start to the last one's
     * end (threads that waited for a CPU start late: timing each thread
     * alone would count their work as parallel when it was not). It was
     * disturbed when its threads had less than 90% of that span each on
     * a CPU (another process, or more threads than CPUs). The figure is
     * over the undisturbed repetitions when there are any; any disturbed
     * one makes it noisy. */
    double rate[MAX_REPS];
    int n = 0, disturbed = 0;
    for (int pass = 0; pass < 2 && n == 0; pass++) {
        for (int r = 0; r < j->reps; r++) {
            double t0[MAX_THREADS], t1[MAX_THREADS], cpu[MAX_THREADS];
            for (uint32_t t = 0; t < j->threads; t++) {
                t0[t] = j->t0[t][r];
                t1[t] = j->t1[t][r];
                cpu[t] = j->cpu[t][r];
            }
            int off;
            double rt = mw_rl_rep_rate(t0, t1, cpu, j->threads, amount > 0 ? amount : j->work * j->threads, &off);
            if (pass == 0 && off) { disturbed = 1; continue; }
            rate[n++] = rt;
        }
    }
    qsort(rate, (size_t)n, sizeof rate[0], cmp_double);
    out->min = rate[0];
    out->max = rate[n - 1];
    out->median = n % 2 ? rate[n / 2] : (rate[n / 2 - 1] + rate[n / 2]) / 2;
    out->noisy = disturbed || (out->max > 0 && (out->max - out->min) / out->max > MW_ROOFLINE_NOISY);
    return 1;
}

/* 64-byte aligned floats through the counting allocator; *raw is what to free. */
static float *alloc_aligned(size_t bytes, void **raw)
{
    *raw = mw_malloc(bytes + 64, MW_MEM_SCRATCH);
    if (!*raw) return NULL;
    uintptr_t p = ((uintptr_t)*raw + 63) & ~(uintptr_t)63;
    return (float *)p;
}

static uint64_t pow2_floor(uint64_t v)
{
    uint64_t p = 1;
    while (p * 2 <= v) p *= 2;
    return p;
}

/* DRAM read on all threads, the figure plan, sweep and run judge against,
 * is sampled throughout the measurement: a pass over the largest working
 * set after each working set of the curve, and a block of passes at the
 * end, alternating the widest loads and 16-byte ones (narrow loads stream
 * DRAM faster on some cores: stream.c). On a host whose memory other
 * guests share, a figure taken in one half second sees one moment; the
 * STREAM-style peer (bench/bench_roofline.c) spreads its repetitions over
 * seconds. The figure is over the undisturbed samples. */
#define DRAM_SAMPLES 160
typedef struct dram_samples {
    double rate[DRAM_SAMPLES];
    int    n, disturbed;
} dram_samples;

/* A job cleared and set: kind, path, nt threads, reps repetitions of
 * inner kernel calls on per floats a thread (0 for compute). */
static void job_set(job *j, int kind, mw_rl_isa isa, uint32_t nt, int reps, uint64_t inner, size_t per)
{
    memset(j, 0, sizeof *j);
    j->kind = kind;
    j->isa = isa;
    j->threads = nt;
    j->reps = reps;
    j->inner = inner;
    j->per = per;
}

/* reps whole read passes over bytes of a on nt threads (each thread its
 * slice), with wide or 16-byte loads, into *f. @return 0 when not run. */
static int read_passes(job *j, mw_rl_isa isa, int narrow, float *a, uint64_t bytes, uint32_t nt, int reps,
                       mw_roofline_figure *f)
{
    size_t per = (size_t)(bytes / nt / sizeof(float)) & ~(size_t)63;
    if (per < 64) return 0;
    job_set(j, MW_RL_READ, isa, nt, reps, 1, per);
    j->narrow = narrow;
    j->arr[0] = a;
    return run_job(j, (double)per * sizeof(float) * nt, f);
}

/* One pass over bytes of a on nt threads: its rate into ds. */
static void dram_sample(job *j, mw_rl_isa isa, float *a, uint64_t bytes, uint32_t nt, int narrow, dram_samples *ds)
{
    mw_roofline_figure f;
    if (ds->n >= DRAM_SAMPLES || !read_passes(j, isa, narrow, a, bytes, nt, 1, &f)) return;
    if (f.noisy) ds->disturbed = 1;   /* one repetition: noisy only when disturbed */
    else ds->rate[ds->n++] = f.max;
}

/* The figure of the samples (unknown when none). */
static void dram_figure(dram_samples *ds, mw_roofline_figure *out)
{
    if (ds->n == 0) return;
    qsort(ds->rate, (size_t)ds->n, sizeof ds->rate[0], cmp_double);
    out->min = ds->rate[0];
    out->max = ds->rate[ds->n - 1];
    out->median = ds->n % 2 ? ds->rate[ds->n / 2] : (ds->rate[ds->n / 2 - 1] + ds->rate[ds->n / 2]) / 2;
    out->noisy = ds->disturbed || (out->max - out->min) / out->max > MW_ROOFLINE_NOISY;
}

/* DRAM read at the end: on 1 thread a block of whole passes with each load
 * width (the better kept); on all threads a block of passes alternating
 * the widths, added to the samples taken along the curve. */
static void measure_dram_read(job *j, mw_rl_isa isa, float *a, uint64_t bytes, uint32_t threads, int quick,
                              dram_samples *ds, mw_roofline_level *lv)
{
    const int reps = quick ? 11 : MAX_REPS;
    mw_roofline_figure best = lv->bw[MW_RL_READ][0];
    for (int narrow = 0; narrow < 2; narrow++) {
        mw_roofline_figure f;
        if (read_passes(j, isa, narrow, a, bytes, 1, reps, &f) && (narrow == 0 || f.max > best.max)) best = f;
    }
    lv->bw[MW_RL_READ][0] = best;
    if (threads == 1) { lv->bw[MW_RL_READ][1] = best; return; }
    for (int r = 0; r < 2 * reps; r++) dram_sample(j, isa, a, bytes, threads, r & 1, ds);
    dram_figure(ds, &lv->bw[MW_RL_READ][1]);
}

mw_status mw_roofline_measure(const mw_roofline_opts *o, mw_roofline_result **out, mw_err *err)
{
    *out = NULL;
    mw_roofline_opts def;
    if (!o) { mw_roofline_opts_init(&def); o = &def; }
    MW_RETURN_IF(o->threads > MAX_THREADS, err, MW_ERR_INVALID, "roofline: %u threads: at most %d",
                 o->threads, MAX_THREADS);
    MW_RETURN_IF(o->max_bytes && o->max_bytes < (64u << 10), err, MW_ERR_INVALID,
                 "roofline: largest working set %llu bytes: give 64 KiB or more",
                 (unsigned long long)o->max_bytes);
    double t_start = now_seconds();
    mw_roofline_result *r = mw_calloc(1, sizeof *r, MW_MEM_REPORT);
    MW_RETURN_IF(!r, err, MW_ERR_NOMEM, "roofline: out of memory for the result");
    mw_rl_isa isa = mw_rl_isa_best();
    snprintf(r->isa, sizeof r->isa, "%s", mw_rl_isa_name(isa));
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    r->threads = o->threads ? o->threads : (uint32_t)(ncpu > 0 ? (ncpu > MAX_THREADS ? MAX_THREADS : ncpu) : 1);
    mw_rl_cache_sizes(o->cache_root, r->sysfs_cache_bytes);
    uint64_t llc = 0;
    for (int i = 0; i < 4; i++) if (r->sysfs_cache_bytes[i] != MW_UNKNOWN) llc = r->sysfs_cache_bytes[i];
    if (!llc) llc = 32u << 20;   /* no sysfs: assume a large one */

    /* the largest working set: 8 x LLC, or what the caller asked; at most a
     * quarter of the memory available (and of our cgroup's cap) */
    uint64_t want = o->max_bytes ? o->max_bytes : pow2_floor(llc * 8) * (llc * 8 > pow2_floor(llc * 8) ? 2 : 1);
    uint64_t maxb = want;
    mw_machine_memory mm;
    mw_err merr;
    if (mw_machine_memory_read(&mm, &merr) == MW_OK) {
        uint64_t avail = mm.host_available_bytes; /* already capped by our cgroup's limit */
        if (avail != MW_UNKNOWN && avail / 4 < maxb) {
            maxb = pow2_floor(avail / 4);
            if (maxb < (64u << 10)) maxb = 64u << 10;
            char a[32], b[32], c[32];
            snprintf(r->shrunk_reason, sizeof r->shrunk_reason,
                     "largest working set shrunk from %s to %s: only %s of memory available",
                     mw_size_format(want, a, sizeof a), mw_size_format(maxb, b, sizeof b),
                     mw_size_format(avail, c, sizeof c));
            r->shrunk = 1;
        }
    }
    r->max_bytes = maxb;

    /* sizes: 16 KiB up to maxb, doubling (quick) or in steps of sqrt 2 */
    const int steps = o->quick ? 1 : 2;
    size_t cap = 0;
    for (uint64_t s = 16u << 10; s <= maxb; s *= 2) cap += (size_t)steps;
    r->points = mw_calloc(cap + 1, sizeof *r->points, MW_MEM_REPORT);
    if (!r->points) { mw_free(r); return mw_err_set(err, MW_ERR_NOMEM, "roofline: out of memory for the curve"); }
    for (uint64_t s = 16u << 10; s <= maxb; s *= 2) {
        r->points[r->n_points++].bytes = s;
        if (steps == 2 && s * 2 <= maxb) r->points[r->n_points++].bytes = (uint64_t)((double)s * 1.41421356) & ~(uint64_t)4095;
    }

    /* read and write sweep one array of up to maxb, copy two of maxb / 2 */
    void *raw[3] = {NULL, NULL, NULL};
    float *arr[3];
    for (int k = 0; k < 3; k++) {
        const size_t len = (size_t)(k ? maxb / 2 : maxb) + 4096;
        arr[k] = alloc_aligned(len, &raw[k]);
        if (!arr[k]) {
            for (int i = 0; i < k; i++) mw_free(raw[i]);
            mw_roofline_result_free(r);
            return mw_err_set(err, MW_ERR_NOMEM, "roofline: cannot allocate %llu bytes of working set",
                              (unsigned long long)len);
        }
        for (size_t i = 0; i < len / sizeof(float); i++) arr[k][i] = 1.0f;   /* touched: no page faults timed */
    }

    job *j = mw_calloc(1, sizeof *j, MW_MEM_SCRATCH);
    if (!j) {
        for (int k = 0; k < 3; k++) mw_free(raw[k]);
        mw_roofline_result_free(r);
        return mw_err_set(err, MW_ERR_NOMEM, "roofline: out of memory");
    }
    const int reps = o->quick ? 5 : 11;
    const double min_bytes = o->quick ? 16e6 : 64e6;   /* per repetition */
    static const int arrays_of[MW_RL_KERNELS] = {1, 1, 2, 3};
    static const int moved_of[MW_RL_KERNELS] = {1, 1, 2, 3};
    size_t n_measured = r->n_points;
    dram_samples dram_all = {.n = 0};   /* DRAM read samples on all threads */
    for (size_t p = 0; p < r->n_points; p++) {
        if (mw_rl_cancelled(o)) {
            /* stopped: the sets not measured stay unknown (so do the peaks),
             * and the levels are found on those that were */
            n_measured = p;
            for (size_t q = p; q < r->n_points; q++)
                for (int k = 0; k < MW_RL_KERNELS; k++) {
                    figure_unknown(&r->points[q].bw[k][0]);
                    figure_unknown(&r->points[q].bw[k][1]);
                }
            break;
        }
        for (int k = 0; k < MW_RL_KERNELS; k++) {
            for (int th = 0; th < 2; th++) {
                uint32_t nt = th ? r->threads : 1;
                mw_roofline_figure *f = &r->points[p].bw[k][th];
                figure_unknown(f);
                if (th && nt == 1) { *f = r->points[p].bw[k][0]; continue; }
                size_t per = (size_t)(r->points[p].bytes / (uint64_t)arrays_of[k] / nt / sizeof(float)) & ~(size_t)63;
                if (per < 64) continue;
                double bytes = (double)per * sizeof(float) * moved_of[k] * nt;
                job_set(j, k, isa, nt, reps, (uint64_t)ceil(min_bytes / bytes), per);
                for (int a = 0; a < 3; a++) j->arr[a] = a < arrays_of[k] ? arr[a] : NULL;
                run_job(j, bytes * (double)j->inner, f);
            }
        }
        /* a DRAM pass on all threads after each set, the widths in turn
         * (only when the largest set is DRAM's: 4 x LLC or more) */
        if (r->threads > 1 && maxb >= 4 * llc) dram_sample(j, isa, arr[0], maxb, r->threads, (int)(p & 1), &dram_all);
    }

    /* levels from the 1-thread read curve */
    double bw[256];
    size_t first[8], last[8], n = n_measured < 256 ? n_measured : 256;
    for (size_t p = 0; p < n; p++) bw[p] = r->points[p].bw[MW_RL_READ][0].max;
    size_t ncache = 0;
    for (int i = 0; i < 4; i++) if (r->sysfs_cache_bytes[i] != MW_UNKNOWN) ncache = (size_t)i + 1;
    /* no caches in sysfs (some VMs hide /sys/devices/system/cpu/cpu0/cache:
     * a Zen 5 guest under PVM did): up to 3 caches and DRAM, as the curve
     * shows them, rather than one level called DRAM */
    const size_t max_levels = ncache ? ncache + 1 : 4;
    r->n_levels = mw_rl_find_levels(bw, n, max_levels > 8 ? 8 : max_levels, first, last);
    for (size_t l = 0; l < r->n_levels; l++) {
        mw_roofline_level *lv = &r->levels[l];
        size_t mid = (first[l] + last[l]) / 2;
        /* the last plateau is DRAM when it reaches 4 x LLC: even when it is
         * the only one (a flat curve, as unoptimised code gives, shows no
         * cache, and calling 256 MiB "L1" would be false) */
        int dram = l + 1 == r->n_levels && (r->points[last[l]].bytes >= 4 * llc ||
                                            (r->n_levels > 1 && n_measured == r->n_points));
        if (dram) {
            snprintf(lv->name, sizeof lv->name, "DRAM");
            /* the middle of the plateau's sets of 4 x LLC and more: the
             * smaller ones still hit the LLC now and then */
            size_t f = first[l];
            while (f < last[l] && r->points[f].bytes < 4 * llc) f++;
            mid = (f + last[l]) / 2;
        } else {
            /* l < 8: one digit */
            lv->name[0] = 'L';
            lv->name[1] = (char)('1' + l);
            lv->name[2] = '\0';
        }
        lv->bytes = r->points[last[l]].bytes;
        lv->sysfs_bytes = !dram && l < 4 ? r->sysfs_cache_bytes[l] : MW_UNKNOWN;
        memcpy(lv->bw, r->points[mid].bw, sizeof lv->bw);
        if (dram && !mw_rl_cancelled(o))
            measure_dram_read(j, isa, arr[0], r->points[last[l]].bytes, r->threads, o->quick, &dram_all, lv);
    }

    /* compute peaks */
    const double min_flops = o->quick ? 4e8 : 2e9;   /* per repetition, per thread */
    for (int c = C_FMA; c <= C_INT8; c++) {
        mw_roofline_figure *f = c == C_FMA ? r->flops_f32 : c == C_BF16 ? r->flops_bf16 : r->ops_int8;
        figure_unknown(&f[0]);
        figure_unknown(&f[1]);
        if (mw_rl_cancelled(o)) {
            if (c != C_FMA)
                snprintf(c == C_BF16 ? r->bf16_reason : r->int8_reason, sizeof r->bf16_reason,
                         "interrupted by %s before it was measured", mw_signal_name((int)*o->cancel));
            continue;
        }
        if (c == C_BF16 && !mw_rl_bf16_available(r->bf16_reason, sizeof r->bf16_reason)) continue;
        if (c == C_INT8 && !mw_rl_int8_available(r->int8_reason, sizeof r->int8_reason)) continue;
        double per_iter = c == C_FMA ? (isa == MW_RL_AVX512 ? 384 : isa == MW_RL_AVX2 ? 192 : 24)
                        : c == C_BF16 ? 768 : mw_rl_int8_best() == MW_RL_INT8_AVXVNNI ? 768 : 1536;
        for (int th = 0; th < 2; th++) {
            uint32_t nt = th ? r->threads : 1;
            if (th && nt == 1) { f[1] = f[0]; continue; }
            job_set(j, c, isa, nt, o->quick ? 5 : 9, (uint64_t)ceil(min_flops / per_iter), 0);
            run_job(j, 0, &f[th]);
        }
    }
    mw_free(j);
    for (int k = 0; k < 3; k++) mw_free(raw[k]);
    if (!o->no_tiers) mw_rl_tiers_measure(o, r);   /* tiers.c */
    if (mw_rl_cancelled(o) && !r->interrupted_signal) r->interrupted_signal = (int)*o->cancel;
    r->seconds = now_seconds() - t_start;
    *out = r;
    return MW_OK;
}
