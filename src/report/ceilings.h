/* ceilings.h - a workload against this machine's ceilings (its profile),
 * shared by the run and plan reports (docs/ROOFLINE.md, "The machine
 * profile"). */
#ifndef MW_REPORT_CEILINGS_H
#define MW_REPORT_CEILINGS_H

#include "memwall.h"
#include <cjson/cJSON.h>
#include <stddef.h>

/* 1 when c holds both the DRAM read bandwidth and the FP32 peak. */
int mw_ceilings_usable(const mw_ceilings *c);

/* Which ceiling binds at these fractions of DRAM read and of the FP32 peak:
 * at or above MW_CEILING_NEAR of either, the larger one ("bandwidth",
 * "compute"); below it for both, "below_both". */
const char *mw_ceilings_binds(double bandwidth_fraction, double compute_fraction);

/* "24.1 GB/s", "110.0 GFLOP/s": SI prefixes, as the roofline report. */
const char *mw_rate_format(double v, const char *unit, char *buf, size_t cap);

/* "24.1 of 25.9 GB/s": both in the prefix of `of`. */
const char *mw_rate_pair_format(double v, double of, const char *unit, char *buf, size_t cap);

/* "1.05 s", "16.3 ms", "250 us" */
const char *mw_seconds_format(double s, char *buf, size_t cap);

/* The profile's keys every report cites: profile (the path), machine,
 * measured, dram_read_bytes_per_second, peak_flops_f32, noisy. */
void mw_json_add_ceilings_source(cJSON *o, const mw_ceilings *c);

#endif
