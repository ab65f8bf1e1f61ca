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
/* read with 16-byte loads (x86; plain C elsewhere): for DRAM, where narrow
 * loads can stream faster than wide ones (stream.c). */
float mw_rl_read_narrow(const float *a, size_t n);
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
/* 1 when the CPU (and the OS) has AVX-VNNI, the VEX vpdpbusd. */
int mw_rl_has_avxvnni(void);
float mw_rl_dot_int8(mw_rl_int8_path path, uint64_t iters, double *flops);

/*! mw_rl_rep_rate() : one repetition of n threads (each one's start t0,
 *  end t1 and CPU time cpu, seconds): amount over its span, first start to
 *  last end; *disturbed when the threads had less than 90% of the span each
 *  on a CPU. Pure. */
double mw_rl_rep_rate(const double *t0, const double *t1, const double *cpu, uint32_t n, double amount,
                      int *disturbed);

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

/* ---- the slower tiers (tiers.c, cuda.c; docs/ROOFLINE.md "Tiers") ----
 * A tier that cannot be measured gets its figure unknown and the reason;
 * none of these fails. Each checks opts->cancel between repetitions. */

/* Fills r's tiers (n_tiers, tiers, gpu_name, slowdowns against the DRAM
 * level's read on all threads) and interrupted_signal when opts->cancel
 * stopped it. Called at the end of mw_roofline_measure. */
void mw_rl_tiers_measure(const mw_roofline_opts *o, mw_roofline_result *r);
void mw_rl_tier_fault(const mw_roofline_opts *o, int huge, mw_roofline_tier *t);
void mw_rl_tier_disk_cold(const mw_roofline_opts *o, mw_roofline_tier *t);
/* Swap-in; with no swap active and opts->swap, a temporary swapfile
 * (swapon, then swapoff and unlink before return, cancelled or not). */
void mw_rl_tier_swap_in(const mw_roofline_opts *o, mw_roofline_tier *t);
/* The five GPU tiers t[0..5) (MW_TIER_GPU_D2D onwards) through libcuda. */
void mw_rl_tiers_gpu(const mw_roofline_opts *o, mw_roofline_tier *t, char *gpu_name, size_t cap);

/*! mw_rl_swap_header() : Linux's swap header (version 1, "SWAPSPACE2")
 *  for a swapfile of file_bytes, into page[0..page_size). 0 when the file
 *  is too small (under 10 pages) or too large. */
int mw_rl_swap_header(unsigned char *page, size_t page_size, uint64_t file_bytes, const unsigned char uuid[16]);
/* The bracketed mode of a transparent_hugepage/enabled text. */
int mw_rl_thp_mode(const char *text, char *mode, size_t cap);

/* Helpers shared by tiers.c and cuda.c. */
double mw_rl_now(void);
int  mw_rl_cancelled(const mw_roofline_opts *o);
void mw_rl_tier_init(mw_roofline_tier *t, int which);
void mw_rl_tier_null(mw_roofline_tier *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mw_rl_tier_method(mw_roofline_tier *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* min, median, max of rate[0..n) (sorted in place); unknown when n is 0. */
void mw_rl_figure_of(double *rate, int n, mw_roofline_figure *f);
/* want, or less (a power of two, 16 MiB or more) when a quarter of the
 * memory available is less; note says so ("" when not shrunk). */
uint64_t mw_rl_tier_size(uint64_t want, char *note, size_t cap);

#endif
