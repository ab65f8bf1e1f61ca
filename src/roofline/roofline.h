/*
 * roofline.h - internals of the roofline layer (over common and probe):
 * the bandwidth and compute kernels (stream.c, peak.c), the level finder
 * (levels.c, pure) and the cache sizes sysfs gives (caches.c).
 */
#ifndef MW_ROOFLINE_ROOFLINE_H
#define MW_ROOFLINE_ROOFLINE_H

#include "memwall.h"
#include <stddef.h>
#include <stdint.h>

typedef enum mw_rl_isa { MW_RL_SCALAR, MW_RL_AVX2, MW_RL_AVX512 } mw_rl_isa;

/* The best path this CPU runs (__builtin_cpu_supports), and its name. */
mw_rl_isa mw_rl_isa_best(void);
const char *mw_rl_isa_name(mw_rl_isa isa);

/* Bandwidth kernels on n floats (n a multiple of 64, arrays 64-byte aligned).
 * read returns the sum, so the loads cannot be elided (callers publish it). */
float mw_rl_read(mw_rl_isa isa, const float *a, size_t n);
void  mw_rl_write(mw_rl_isa isa, float *a, size_t n, float v);
void  mw_rl_copy(mw_rl_isa isa, float *b, const float *a, size_t n);
void  mw_rl_triad(mw_rl_isa isa, float *a, const float *b, const float *c, float s, size_t n);

/* Compute loops: iters iterations; return a value to publish and set
 * *flops to the operations done. */
float mw_rl_fma_f32(mw_rl_isa isa, uint64_t iters, double *flops);
/* 1 when the CPU has it; else 0 and why in why[cap]. */
int   mw_rl_bf16_available(char *why, size_t cap);
int   mw_rl_int8_available(char *why, size_t cap);
float mw_rl_dot_bf16(uint64_t iters, double *flops);
/* The INT8 dot paths: vpdpbusd EVEX (AVX512_VNNI, 512-bit) or VEX (AVX-VNNI,
 * 256-bit); the best this CPU has. */
typedef enum mw_rl_int8_path { MW_RL_INT8_NONE, MW_RL_INT8_AVXVNNI, MW_RL_INT8_AVX512VNNI } mw_rl_int8_path;
mw_rl_int8_path mw_rl_int8_best(void);
float mw_rl_dot_int8(mw_rl_int8_path path, uint64_t iters, double *flops);

/*! mw_rl_find_levels() : the plateaus of a bandwidth curve bw[0..n) over
 *  growing working sets. A point more than 12% below the median of the
 *  plateau so far ends that plateau; a lone point between two drops is a transition and
 *  belongs to no level; when more than max_levels remain, the two adjacent
 *  plateaus with the closest medians merge. Writes each level's first and
 *  last point index to first[], last[].
 *  @return the number of levels (the last one holds the largest set). */
size_t mw_rl_find_levels(const double *bw, size_t n, size_t max_levels, size_t *first, size_t *last);

/* L1d, L2, L3, L4 data/unified cache sizes of cpu0 from sysfs (root may
 * point elsewhere, for tests; NULL: /sys/devices/system/cpu/cpu0/cache),
 * MW_UNKNOWN where absent. @return the number of levels found. */
size_t mw_rl_cache_sizes(const char *root, uint64_t out[4]);

#endif
