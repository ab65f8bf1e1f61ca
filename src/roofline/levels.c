/*
 * levels.c - the cache levels of a bandwidth curve (pure).
 */
#include "roofline/roofline.h"

#include <stdlib.h>
#include <string.h>

#define MAX_GROUPS 64
#define MW_RL_DROP 0.88

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_of(const double *bw, size_t a, size_t b)
{
    double tmp[MAX_GROUPS * 4];
    size_t n = 0;
    for (size_t i = a; i <= b && n < sizeof tmp / sizeof tmp[0]; i++) tmp[n++] = bw[i];
    qsort(tmp, n, sizeof tmp[0], cmp_double);
    return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

size_t mw_rl_find_levels(const double *bw, size_t n, size_t max_levels, size_t *first, size_t *last)
{
    size_t gf[MAX_GROUPS], gl[MAX_GROUPS], ng = 0;
    if (n == 0 || max_levels == 0) return 0;
    size_t start = 0;
    for (size_t i = 1; i <= n; i++) {
        /* against the plateau's median, not the previous point: a slow
         * slide (L3 into DRAM) ends a plateau too */
        if (i == n || bw[i] < MW_RL_DROP * median_of(bw, start, i - 1)) {
            if (ng < MAX_GROUPS) { gf[ng] = start; gl[ng] = i - 1; ng++; }
            else gl[ng - 1] = i - 1;   /* no room: the last group grows, so the largest sets stay in it */
            start = i;
        }
    }
    /* lone points between two drops are transitions, when a real plateau
     * exists; the last group (the largest sets: DRAM) always stays */
    size_t keep = 0;
    for (size_t g = 0; g < ng; g++) {
        int lone = gf[g] == gl[g] && g + 1 < ng && g > 0;
        if (!lone) { gf[keep] = gf[g]; gl[keep] = gl[g]; keep++; }
    }
    ng = keep;
    while (ng > max_levels) {
        size_t best = 0;
        double best_r = 0;
        for (size_t g = 0; g + 1 < ng; g++) {
            double r = median_of(bw, gf[g + 1], gl[g + 1]) / median_of(bw, gf[g], gl[g]);
            if (r > 1) r = 1 / r;
            if (r > best_r) { best_r = r; best = g; }
        }
        gl[best] = gl[best + 1];
        memmove(gf + best + 1, gf + best + 2, (ng - best - 2) * sizeof gf[0]);
        memmove(gl + best + 1, gl + best + 2, (ng - best - 2) * sizeof gl[0]);
        ng--;
    }
    for (size_t g = 0; g < ng; g++) { first[g] = gf[g]; last[g] = gl[g]; }
    return ng;
}
