/*
 * bench_util.h - what the kernel benchmarks share: medians of runs, a
 * monotonic clock, a fixed pseudo-random stream and page-faulted buffers.
 * Header-only (static functions): each benchmark is one executable.
 */
#ifndef MW_BENCH_UTIL_H
#define MW_BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_RUNS 64

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct { double med, min, max; int n; } stat3;

/* Median, min and max of v[0..n) (sorted in place). */
static stat3 stats(double *v, int n)
{
    stat3 s = {0, 0, 0, n};
    if (n <= 0) return s;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    s.min = v[0];
    s.max = v[n - 1];
    s.med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    return s;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng = 88172645463325252ull;

/* Uniform in [-0.05, 0.05): weight-like values from a fixed xorshift. */
static float rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((double)(rng >> 11) * 0x1p-53 * 2.0 - 1.0) * 0.05f;
}

/* n bytes, 64-byte aligned, zeroed (its pages faulted in before timing);
 * exits with who's message when out of memory. */
static void *alloc_or_die_for(const char *who, size_t n)
{
    void *p = aligned_alloc(64, (n + 63) / 64 * 64);
    if (!p) {
        fprintf(stderr, "%s: out of memory (%zu bytes)\n", who, n);
        exit(1);
    }
    memset(p, 0, n);
    return p;
}

#endif /* MW_BENCH_UTIL_H */
