/* sort.c - qsort comparators shared by the layers. */
#include "common/sort.h"

int mw_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
