/*
 * plan_assumptions.h - what the plan's reports say alike: the assumptions
 * a plan's figures rest on (attention, runtime, overhead), one line each,
 * and the names of its choices; shared by the text, JSON, CSV and Markdown
 * reports so all say the same (defined in src/report/plan_report.c).
 */
#ifndef MW_REPORT_PLAN_ASSUMPTIONS_H
#define MW_REPORT_PLAN_ASSUMPTIONS_H

#include "memwall.h"

#include <stddef.h>

#define MW_PLAN_ASSUME_MAX 3
#define MW_PLAN_ASSUME_LEN 320

/* The --optimizer and --recompute names, as the plan's JSON writes them. */
const char *mw_plan_optimizer_name(mw_optimizer o);
const char *mw_plan_recompute_name(mw_recompute r);

/* Fills line[0..n) and returns n (at most MW_PLAN_ASSUME_MAX). */
size_t mw_plan_assumption_lines(const mw_plan *p, char line[MW_PLAN_ASSUME_MAX][MW_PLAN_ASSUME_LEN]);

#endif /* MW_REPORT_PLAN_ASSUMPTIONS_H */
