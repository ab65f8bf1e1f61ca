/*
 * proc.h - reading one process from /proc: memory, faults, children.
 *
 * Parsers are pure functions of the file text (tested on fixtures); readers
 * keep descriptors open and use pread so a sample costs one syscall a file.
 *
 * Traps (docs/WATCH.md, "Traps handled"):
 *   - a zombie's status has no Vm* lines: VmHWM must be read while it lives;
 *   - /proc/PID/stat's comm may hold spaces and ')' - parse from the last ')';
 *   - children are listed per thread (/proc/PID/task/TID/children).
 */
#ifndef MW_PROBE_PROC_H
#define MW_PROBE_PROC_H

#include "memwall.h"

/* From /proc/PID/status. Byte values; MW_UNKNOWN when absent. */
typedef struct mw_proc_status {
    uint64_t rss_bytes;        /* VmRSS    */
    uint64_t hwm_bytes;        /* VmHWM    */
    uint64_t anon_bytes;       /* RssAnon  */
    uint64_t file_bytes;       /* RssFile  */
    uint64_t shmem_bytes;      /* RssShmem */
    uint64_t swap_bytes;       /* VmSwap   */
    int32_t  ppid;             /* PPid, -1 when absent */
    uint32_t threads;          /* Threads, 0 when absent */
} mw_proc_status;

/* Returns 1 when the memory lines are present (a live process with an mm),
 * 0 for a zombie or kernel thread. */
int mw_proc_parse_status(const char *text, mw_proc_status *st);

/* From /proc/PID/stat. */
typedef struct mw_proc_stat {
    char     state;            /* R S D Z T ... */
    int32_t  ppid;
    uint64_t minor_faults;     /* field 10 */
    uint64_t major_faults;     /* field 12 */
    uint64_t utime_ticks;      /* field 14 */
    uint64_t stime_ticks;      /* field 15 */
    uint32_t threads;          /* field 20 */
    uint64_t start_ticks;      /* field 22: tells a reused PID apart */
} mw_proc_stat;

/* Returns 1 on success, 0 when the text is malformed. comm (optional, cap
 * bytes) gets the name between the first '(' and the last ')'. */
int mw_proc_parse_stat(const char *text, mw_proc_stat *st, char *comm, size_t comm_cap);

/* Pss and SwapPss from /proc/PID/smaps_rollup; 1 when Pss was found. */
int mw_proc_parse_smaps_rollup(const char *text, uint64_t *pss_bytes);

/* Appends the PIDs of pid's children (every thread's) to out[*n..cap).
 * *n grows past cap when they do not fit. `threads` is a hint: 1 reads
 * only /proc/PID/task/PID/children. Returns 0, or -1 when the process is
 * gone. */
int mw_proc_children(pid_t pid, uint32_t threads, pid_t *out, size_t cap, size_t *n);

/* Descriptors on one process's status, stat (and smaps_rollup) files. */
typedef struct mw_proc_files {
    int status_fd;
    int stat_fd;
    int smaps_fd;              /* -1 unless opened with pss */
    int children_fd;           /* task/PID/children of the main thread */
} mw_proc_files;

/* Opens /proc/PID/{status,stat[,smaps_rollup]}; MW_ERR_NOT_FOUND when gone. */
mw_status mw_proc_files_open(pid_t pid, int pss, mw_proc_files *f, mw_err *err);
void mw_proc_files_close(mw_proc_files *f);

/* Like mw_proc_children, reading the main thread's list through f (one
 * pread) when the process has a single thread. */
int mw_proc_read_children(const mw_proc_files *f, pid_t pid, uint32_t threads,
                          pid_t *out, size_t cap, size_t *n);

/* One reading of a process. ok_status is 0 for a zombie or a gone process. */
typedef struct mw_proc_reading {
    int ok_status;             /* status had memory lines              */
    int ok_stat;               /* stat parsed                          */
    mw_proc_status status;
    mw_proc_stat stat;
    uint64_t pss_bytes;        /* MW_UNKNOWN unless smaps was read     */
} mw_proc_reading;

/* Reads through open descriptors. Returns 0, or -1 when the process is gone
 * (reads fail with ESRCH). */
int mw_proc_read(const mw_proc_files *f, mw_proc_reading *r);

/* VmHWM and VmRSS of the calling process, or 0. */
uint64_t mw_proc_self_hwm_bytes(void);
uint64_t mw_proc_self_rss_bytes(void);

#endif /* MW_PROBE_PROC_H */
