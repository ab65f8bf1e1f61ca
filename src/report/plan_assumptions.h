/*
 * plan_assumptions.h - the assumptions a plan's figures rest on (attention,
 * runtime, overhead), one line each, shared by the text, JSON and Markdown
 * reports so all three say the same (src/report/plan_report.c).
 */
#ifndef MW_REPORT_PLAN_ASSUMPTIONS_H
#define MW_REPORT_PLAN_ASSUMPTIONS_H

#include "memwall.h"

#include <stddef.h>

#define MW_PLAN_ASSUME_MAX 3
#define MW_PLAN_ASSUME_LEN 320

/* Fills line[0..n) and returns n (at most MW_PLAN_ASSUME_MAX). */
size_t mw_plan_assumption_lines(const mw_plan *p, char line[MW_PLAN_ASSUME_MAX][MW_PLAN_ASSUME_LEN]);

#endif /* MW_REPORT_PLAN_ASSUMPTIONS_H */
