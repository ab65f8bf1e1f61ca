/*
 * tier_util.c - what the tier measurements (tiers.c, cuda.c) share: the
 * tiers' names, a null tier with its reason, a figure from the repetitions'
 * rates, the caller's cancel flag, and a size that fits the memory.
 */
#include "roofline/roofline.h"
#include "common/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MIB (1024ull * 1024)

static const char *const tier_names[MW_TIER_COUNT] = {
    "disk_cold", "fault_4k", "fault_thp", "swap_in", "gpu_d2d",
    "gpu_h2d_pageable", "gpu_h2d_pinned", "gpu_d2h_pageable", "gpu_d2h_pinned",
};

double mw_rl_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void mw_rl_tier_init(mw_roofline_tier *t, int which)
{
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", tier_names[which]);
    t->bw.min = t->bw.median = t->bw.max = -1;
    t->slowdown = -1;
}

void mw_rl_tier_null(mw_roofline_tier *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->reason, sizeof t->reason, fmt, ap);
    va_end(ap);
    t->bw.min = t->bw.median = t->bw.max = -1;
    t->bw.noisy = 0;
    t->method[0] = '\0';
}

void mw_rl_tier_method(mw_roofline_tier *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->method, sizeof t->method, fmt, ap);
    va_end(ap);
}

static int cmp_rate(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

void mw_rl_figure_of(double *rate, int n, mw_roofline_figure *f)
{
    if (n <= 0) { f->min = f->median = f->max = -1; f->noisy = 0; return; }
    qsort(rate, (size_t)n, sizeof rate[0], cmp_rate);
    f->min = rate[0];
    f->max = rate[n - 1];
    f->median = n % 2 ? rate[n / 2] : (rate[n / 2 - 1] + rate[n / 2]) / 2;
    f->noisy = f->max > 0 && (f->max - f->min) / f->max > MW_ROOFLINE_NOISY;
}

int mw_rl_cancelled(const mw_roofline_opts *o)
{
    return o->cancel && *o->cancel;
}

static uint64_t pow2_below(uint64_t v)
{
    uint64_t p = 1;
    while (p * 2 <= v) p *= 2;
    return p;
}

uint64_t mw_rl_tier_size(uint64_t want, char *note, size_t cap)
{
    mw_machine_memory mm;
    mw_err e;
    if (note && cap) note[0] = '\0';
    if (mw_machine_memory_read(&mm, &e) != MW_OK || mm.host_available_bytes == MW_UNKNOWN) return want;
    const uint64_t room = mm.host_available_bytes / 4;
    if (room >= want) return want;
    uint64_t got = pow2_below(room);
    if (got < 16 * MIB) got = 16 * MIB;
    if (got >= want) return want;
    if (note && cap)
        snprintf(note, cap, "; %llu MiB, not %llu: memory short", (unsigned long long)(got / MIB),
                 (unsigned long long)(want / MIB));
    return got;
}
