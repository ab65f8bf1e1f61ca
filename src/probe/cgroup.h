/*
 * cgroup.h - memory cgroups, v1 and v2: find them, make one, cap it, read it.
 *
 * memwall runs a command in a fresh memory cgroup of its own to cap its
 * memory (--mem-limit) and to read the exact peak and OOM kills of the whole
 * process tree. Which hierarchy holds the memory controller is detected from
 * /proc/self/mountinfo and /proc/self/cgroup, never assumed:
 *
 *   v2  <mount>/<path>/memory.max, memory.swap.max, memory.current,
 *       memory.peak (5.19+), memory.swap.current, memory.swap.peak (6.5+),
 *       memory.events (oom, oom_kill, max), memory.pressure, cgroup.kill
 *   v1  <mount>/<path>/memory.limit_in_bytes, memory.memsw.limit_in_bytes,
 *       memory.usage_in_bytes, memory.max_usage_in_bytes, memory.memsw.*,
 *       memory.failcnt, memory.oom_control (oom_kill N)
 *
 * Tests point MEMWALL_CGROUP_FS at a fake tree ("v2:/tmp/x" or "v1:/tmp/x",
 * with our own cgroup taken as "/"), so both code paths run on any machine.
 */
#ifndef MW_PROBE_CGROUP_H
#define MW_PROBE_CGROUP_H

#include "memwall.h"
#include <limits.h>

typedef struct mw_cgroup_fs {
    mw_cgroup_version version;  /* hierarchy with the memory controller  */
    char mount[PATH_MAX];       /* where it is mounted                   */
    char self[PATH_MAX];        /* our own cgroup in it, "/..."          */
} mw_cgroup_fs;

/*! mw_cgroup_fs_parse() : pure parser for tests and detect().
 *  mountinfo: text of /proc/self/mountinfo; proc_cgroup: text of
 *  /proc/self/cgroup. Prefers a v1 "memory" hierarchy when one is mounted
 *  (then memory is not available in v2), else the cgroup2 mount.
 *  @return MW_OK, or MW_ERR_UNSUPPORTED when neither is present. */
mw_status mw_cgroup_fs_parse(const char *mountinfo, const char *proc_cgroup,
                             mw_cgroup_fs *fs, mw_err *err);

/*! mw_cgroup_fs_detect() : reads /proc/self/{mountinfo,cgroup}, or
 *  MEMWALL_CGROUP_FS="v1:DIR" / "v2:DIR" when set (self is then "/"). */
mw_status mw_cgroup_fs_detect(mw_cgroup_fs *fs, mw_err *err);

typedef struct mw_cgroup {
    mw_cgroup_version version;
    char path[PATH_MAX];        /* absolute directory of the cgroup      */
    uint64_t limit_bytes;       /* MW_UNLIMITED: none                    */
    uint64_t swap_limit_bytes;  /* swap on top of limit; MW_UNLIMITED    */
    int has_swap_control;       /* memsw (v1) / memory.swap.max (v2)     */
} mw_cgroup;

/*! mw_cgroup_create() :
 *  Makes <parent>/<name> where parent is chosen so the memory controller
 *  applies: v1 our own cgroup; v2 our own cgroup when its
 *  cgroup.subtree_control has (or accepts) "+memory", else its parent (the
 *  "no internal processes" rule stops a populated cgroup from delegating).
 *  Sets the limits: v2 memory.max, memory.swap.max; v1 limit_in_bytes then
 *  memsw.limit_in_bytes = limit + swap. swap_limit MW_UNLIMITED leaves swap
 *  as the system has it. When swap control is missing (v1 without
 *  swapaccount, v2 without memory.swap.max) and swap_limit is finite: error.
 *  Errors (MW_ERR_PERMISSION, MW_ERR_UNSUPPORTED) say what failed and name
 *  the alternative: `systemd-run --user --scope -p MemoryMax=SIZE -p
 *  MemorySwapMax=0 -- memwall watch -- CMD`. On error nothing is left behind. */
mw_status mw_cgroup_create(const mw_cgroup_fs *fs, const char *name,
                           uint64_t limit_bytes, uint64_t swap_limit_bytes,
                           mw_cgroup *cg, mw_err *err);

/* Moves pid into the cgroup (writes it to cgroup.procs). */
mw_status mw_cgroup_attach(const mw_cgroup *cg, pid_t pid, mw_err *err);

typedef struct mw_cgroup_stats {
    uint64_t current_bytes;     /* memory.current / usage_in_bytes       */
    uint64_t peak_bytes;        /* memory.peak / max_usage_in_bytes      */
    uint64_t swap_current_bytes;/* v2 memory.swap.current; v1 memsw-usage */
    uint64_t swap_peak_bytes;   /* v2 memory.swap.peak; v1 memsw max - peak */
    uint64_t oom_events;        /* v2 events "oom"; v1 UNKNOWN           */
    uint64_t oom_kills;         /* v2 events "oom_kill"; v1 oom_control  */
    uint64_t limit_hits;        /* v2 events "max"; v1 failcnt           */
    double   psi_some_seconds;  /* v2 memory.pressure totals; <0 unknown */
    double   psi_full_seconds;
    uint64_t refaults_anon;     /* memory.stat workingset_refault_anon:  */
    uint64_t refaults_file;     /* the cgroup's own (v1: total_*, with its
                                   children), not the system's; UNKNOWN
                                   on kernels without them (< 5.9 has one
                                   workingset_refault: counted as file)  */
} mw_cgroup_stats;

/* The cgroup's refaults in memory.stat's text (parsed; UNKNOWN if absent). */
void mw_cgroup_parse_refaults(const char *stat, mw_cgroup_version version, uint64_t *anon, uint64_t *file);

/*! mw_cgroup_read() : every field it cannot read is MW_UNKNOWN (or <0 for
 *  PSI); only a missing cgroup directory is an error. */
mw_status mw_cgroup_read(const mw_cgroup *cg, mw_cgroup_stats *st, mw_err *err);

/* Lists the PIDs in the cgroup (cgroup.procs). *n gets the count (may exceed
 * cap; only cap are stored). */
mw_status mw_cgroup_pids(const mw_cgroup *cg, pid_t *pids, size_t cap, size_t *n, mw_err *err);

/* SIGKILLs every process left in it (v2 cgroup.kill when present). */
mw_status mw_cgroup_kill_all(const mw_cgroup *cg, mw_err *err);

/*! mw_cgroup_destroy() : removes the directory (retrying briefly while the
 *  kernel finishes tearing processes down). In a fake tree (regular files),
 *  the control files memwall wrote are unlinked first. Idempotent. */
mw_status mw_cgroup_destroy(mw_cgroup *cg, mw_err *err);

/* 1 when cg lives on cgroupfs; 0 in a fake tree of plain directories. */
int mw_cgroup_is_real(const mw_cgroup *cg);

/* Parses a PSI file ("some avg10=.. total=N\nfull ... total=N"), totals in
 * seconds; returns 0 when the text has no "some" line. */
int mw_psi_parse(const char *text, double *some_seconds, double *full_seconds);

/* ---- issue #16: the memory cgroup memwall itself runs in (a Slurm job's) */

/* A v1 limit at or above this is "no limit": the kernel shows an unlimited
 * memory.limit_in_bytes as PAGE_COUNTER_MAX pages (9223372036854771712
 * with 4 KiB pages), never exactly 2^63 - 1. */
#define MW_CGROUP_V1_UNLIMITED_MIN (1ull << 62)

/*! mw_cgroup_find_limited() : the nearest memory cgroup at or above our own
 *  (fs->self, under fs->mount) that has a memory limit: v2 memory.max not
 *  "max", v1 memory.limit_in_bytes below MW_CGROUP_V1_UNLIMITED_MIN. Slurm
 *  sets the limit on the job's cgroup and runs the steps below it. Fills
 *  cg (version, path, limit_bytes, swap_limit_bytes as limit + memsw or
 *  memory.swap.max, has_swap_control); cg is only to be read, never
 *  written, attached to or destroyed. @return MW_OK, MW_ERR_NOT_FOUND when
 *  no cgroup up to the mount's root has a limit. */
mw_status mw_cgroup_find_limited(const mw_cgroup_fs *fs, mw_cgroup *cg, mw_err *err);

#endif /* MW_PROBE_CGROUP_H */
