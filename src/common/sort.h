/* sort.h - qsort comparators shared by the layers (the medians of a run's
 * step times and of a sweep point's runs). */
#ifndef MW_COMMON_SORT_H
#define MW_COMMON_SORT_H

/* Ascending doubles for qsort; NaN compares equal to everything (callers
 * sort measured times and rates, which are never NaN). */
int mw_cmp_double(const void *a, const void *b);

#endif
