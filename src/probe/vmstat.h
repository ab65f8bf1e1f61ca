/*
 * vmstat.h - system-wide memory counters (/proc/vmstat) and PSI
 * (/proc/pressure/memory), read before and after a run for deltas.
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

/* PSI memory totals in seconds from /proc/pressure/memory; returns 0 when
 * PSI is not available (kernel without CONFIG_PSI or psi=0). */
int mw_psi_read_system(double *some_seconds, double *full_seconds);

#endif /* MW_PROBE_VMSTAT_H */
