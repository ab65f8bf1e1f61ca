/*
 * vmstat.h - system-wide memory counters (/proc/vmstat), read before and
 * after a run for deltas. (PSI is read by watch.c through mw_psi_parse.)
 */
#ifndef MW_PROBE_VMSTAT_H
#define MW_PROBE_VMSTAT_H

#include "memwall.h"

typedef struct mw_vmstat {
    uint64_t pswpin, pswpout;          /* pages swapped in / out          */
    uint64_t pgmajfault;
    uint64_t refault_anon, refault_file; /* workingset_refault_*        */
    uint64_t oom_kill;
    uint64_t allocstall;               /* sum of allocstall_* (direct reclaim) */
} mw_vmstat;

/* Pure parser of /proc/vmstat text; a missing counter reads as 0. */
void mw_vmstat_parse(const char *text, mw_vmstat *out);

/* Reads /proc/vmstat; MW_ERR_* when unreadable (then *out is zeroed). */
mw_status mw_vmstat_read(mw_vmstat *out, mw_err *err);

#endif /* MW_PROBE_VMSTAT_H */
