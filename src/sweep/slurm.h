/*
 * slurm.h - a sweep's point as one Slurm job (issue #16, docs/CLUSTER.md
 * "Sweeps on Slurm"): internal to src/sweep.
 *
 * A job is a directory of the spool (SPOOL/memwall-<axis>-<x>-<pid>-<n>/)
 * holding its script (job.sh), Slurm's own output (slurm.out, slurm.err)
 * and, for each run i of the point, what `memwall watch --json` wrote
 * (watch-i.json) and the command's output (out-i, err-i). The job is
 * submitted with sbatch --parsable --no-requeue --mem=<cap in MiB, rounded
 * up>, polled with `scontrol show job -o` (and sacct when accounting is
 * enabled) until it ends, and cancelled with scancel.
 */
#ifndef MW_SWEEP_SLURM_H
#define MW_SWEEP_SLURM_H

#include "memwall.h"
#include <limits.h>

typedef enum mw_slurm_end {
    MW_SLURM_RUNNING = 0,       /* not ended yet                              */
    MW_SLURM_ENDED,             /* Slurm says it ended (state in job.state)    */
    MW_SLURM_QUEUE_TIMEOUT,     /* never started within queue_timeout: cancelled */
    MW_SLURM_RUN_TIMEOUT,       /* ran past the runs' timeout: cancelled       */
    MW_SLURM_CANCELLED_BY_US,   /* the sweep was stopped (a signal)            */
    MW_SLURM_LOST               /* Slurm no longer knows it (purged), no sacct */
} mw_slurm_end;

typedef struct mw_slurm_job {
    uint64_t id;
    char     dir[PATH_MAX - 64];    /* its directory in the spool             */
    uint32_t nruns;                 /* runs the script makes (warm-up + runs) */
    double   submitted_at;          /* monotonic seconds                      */
    double   started_at;            /* < 0: not seen running yet              */
    mw_slurm_end end;
    char     state[24];             /* JobState / sacct State: COMPLETED, ... */
    char     reason[96];            /* Slurm's Reason, or ""                  */
    char     host[64];              /* NodeList                               */
    int      exit_code;             /* ExitCode's first number; -1: unknown   */
    int      exit_signal;           /* its second                             */
    uint64_t max_rss_bytes;         /* sacct MaxRSS; MW_UNKNOWN without accounting */
    double   gather_seconds;        /* the site's JobAcctGatherFrequency (task
                                       sampling, s); <= 0: unknown (issue #16,
                                       the cross-check)                        */
} mw_slurm_job;

/* What the pre-flight found: whether Slurm's cgroup caps a job's memory
 * (its `memwall watch` saw a limited cgroup), and whether sacct works. */
typedef struct mw_slurm_site {
    int enforces_memory;            /* 1: --mem is a cgroup limit on the node */
    int has_sacct;                  /* 1: accounting storage answers          */
    uint64_t overhead_bytes;        /* what a job costs its cgroup beside its
                                       command (the script's shell, memwall
                                       watch): the pre-flight job's cgroup peak
                                       less its `true`'s; 0 when not enforced */
    char node[64];                  /* where the pre-flight job ran           */
    double gather_seconds;          /* JobAcctGatherFrequency's task interval
                                       (scontrol show config); <= 0: unknown */
} mw_slurm_site;

/*! mw_slurm_preflight() : before any point: sbatch, squeue, scontrol on
 *  PATH; sinfo answers (munge, the controller); the partition exists; the
 *  spool is a writable directory; and one tiny job (memwall watch --json
 *  -- true, within queue_timeout) writes into the spool, which proves the
 *  controller, munge, a node and the shared path at once. Each failure is
 *  an error saying what and what to do. */
mw_status mw_slurm_preflight(const mw_sweep_opts *o, mw_slurm_site *site, mw_err *err);

/*! mw_slurm_submit() : writes the job's script (nruns runs of `memwall
 *  watch --json -- argv...`, stopping at the first that fails; with
 *  watch_cap, watch's own --mem-limit cap_bytes as well, where Slurm does
 *  not enforce --mem) and submits it. label: "batch-4" etc. (the job's
 *  name is memwall-<label>). env: NULL-terminated NAME=value the command
 *  gets, or NULL. */
mw_status mw_slurm_submit(const mw_sweep_opts *o, const char *const *argv, const char *const *env, uint32_t nruns,
                          uint64_t cap_bytes, int watch_cap, const char *label, mw_slurm_job *job, mw_err *err);

/*! mw_slurm_poll() : asks Slurm about the job once; cancels it (scancel)
 *  past the queue timeout or run_timeout (> 0: seconds it may run).
 *  @return 1 when it has ended (job->end, state, host, exit code filled). */
int mw_slurm_poll(const mw_sweep_opts *o, const mw_slurm_site *site, double run_timeout, mw_slurm_job *job);

/* scancel, and job->end = why (the caller's reason). */
void mw_slurm_cancel(mw_slurm_job *job, mw_slurm_end why);

/*! mw_slurm_read_watch() : run i's memwall.watch/1 document from the job's
 *  directory into res (the figures the sweep takes; procs left NULL) and
 *  its largest process's peak RSS into *proc_peak. @return MW_ERR_IO when
 *  missing, MW_ERR_INVALID when it is no such document. */
mw_status mw_slurm_read_watch(const mw_slurm_job *job, uint32_t i, mw_watch_result *res, uint64_t *proc_peak,
                              mw_err *err);

/* Path of one of the job's files ("out-1", "slurm.err"): into buf. */
void mw_slurm_job_file(const mw_slurm_job *job, const char *name, char *buf, size_t cap);

/* Monotonic seconds. */
double mw_slurm_now(void);

/* A Slurm memory size as sacct prints it ("123456K", "1.5G", "0") in bytes;
 * MW_UNKNOWN when empty or not a size. */
uint64_t mw_slurm_parse_size(const char *text);

/* `scontrol show job -o` text: its JobState, Reason, NodeList, ExitCode
 * into job (pure, for tests). @return 0 when it has no JobState. */
int mw_slurm_parse_scontrol(const char *text, mw_slurm_job *job);

/* `sacct -n -P -o JobID,State,MaxRSS,NodeList,ExitCode` text: the job
 * line's State ("CANCELLED by 0" as CANCELLED) when it is a final one (a
 * job that slurmdbd still has RUNNING keeps scontrol's state) and
 * NodeList, the largest MaxRSS of its lines (steps) into job (pure, for
 * tests). @return 1 when the text is complete: the job's line with a final
 * state and a step with a MaxRSS (slurmdbd records the job's end and its
 * steps' figures a moment after scontrol shows it ended). */
int mw_slurm_parse_sacct(const char *text, mw_slurm_job *job);

/* JobAcctGatherFrequency's value as `scontrol show config` prints it
 * ("30", "task=1", "energy=0,task=15") in seconds: the task sampling
 * interval; 30 (Slurm's default) when the text has no task figure, -1
 * when the text holds no JobAcctGatherFrequency line at all. */
double mw_slurm_parse_gather_frequency(const char *config_text);

/* issue #16: the cross-check of Slurm's accounting against memwall's
 * figures for a point's job (docs/CLUSTER.md "Cross-checked with Slurm"):
 * memwall_oom (memwall saw an OOM kill), peak_rss (the tree's peak RSS,
 * largest over the runs; MW_UNKNOWN: none), wall_seconds (the point's
 * run time, the median of its runs). They disagree when Slurm's State is OUT_OF_MEMORY and memwall saw
 * no OOM kill, or the reverse (Slurm's state COMPLETED or FAILED), or when
 * MaxRSS exceeds peak_rss by more than MW_SLURM_RSS_TOLERANCE, or falls
 * short of it by more than that in a run that lasted at least twice the
 * gather interval (a shorter peak may fall between two samples). @return
 * 1 with a short note in note (NUL-terminated) when they disagree, else 0
 * and note "". */
#define MW_SLURM_RSS_SLACK_BYTES (64ull << 20)
#define MW_SLURM_RSS_SLACK_FRACTION 0.25
int mw_slurm_cross_check(const mw_slurm_job *job, int memwall_oom, uint64_t peak_rss, double wall_seconds,
                         char *note, size_t cap);

#endif /* MW_SWEEP_SLURM_H */
