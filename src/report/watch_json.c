/*
 * watch_json.c - the "memwall.watch/1" JSON document (docs/JSON.md).
 *
 * Raw numbers only: bytes, seconds, counts. A figure memwall could not
 * measure is null, never 0. Keys are only ever added within version 1.
 */
#include "memwall.h"
#include "common/error.h"
#include "common/json.h"
#include "report/json_util.h"

#include <signal.h>
#include <unistd.h>

static cJSON *process_json(const mw_proc_summary *p)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddNumberToObject(o, "pid", p->pid);
    mw_json_add_int_or_null(o, "ppid", p->ppid, p->ppid >= 0);
    cJSON_AddStringToObject(o, "command", p->comm);
    mw_json_add_u64(o, "peak_rss_bytes", p->peak_rss_bytes);
    mw_json_add_u64(o, "peak_rss_anon_bytes", p->peak_rss_anon_bytes);
    mw_json_add_u64(o, "peak_rss_file_bytes", p->peak_rss_file_bytes);
    mw_json_add_u64(o, "peak_rss_shmem_bytes", p->peak_rss_shmem_bytes);
    mw_json_add_u64(o, "peak_swap_bytes", p->peak_swap_bytes);
    mw_json_add_u64(o, "peak_pss_bytes", p->peak_pss_bytes);
    mw_json_add_u64(o, "peak_gpu_bytes", p->peak_gpu_bytes);
    mw_json_add_u64(o, "minor_faults", p->minor_faults);
    mw_json_add_u64(o, "major_faults", p->major_faults);
    mw_json_add_seconds(o, "start_seconds", p->start_seconds);
    mw_json_add_seconds(o, "end_seconds", p->end_seconds);
    /* issue #16 */
    mw_json_add_int_or_null(o, "rank", p->rank, p->rank != MW_RANK_NONE);
    mw_json_add_int_or_null(o, "local_rank", p->local_rank, p->local_rank != MW_RANK_NONE);
    return o;
}

/* issue #16: ranks and hosts (docs/JSON.md, docs/CLUSTER.md) */
static void ranks_json(cJSON *o, const mw_watch_result *r)
{
    cJSON_AddStringToObject(o, "host", r->host);
    cJSON_AddNumberToObject(o, "start_unix_seconds", r->start_unix_seconds);
    mw_json_add_int_or_null(o, "rank", r->watcher_rank, r->watcher_rank != MW_RANK_NONE);
    mw_json_add_int_or_null(o, "local_rank", r->watcher_local_rank, r->watcher_local_rank != MW_RANK_NONE);
    mw_json_add_seconds(o, "cap_hit_seconds", r->cap_hit_seconds);
    cJSON *ranks = cJSON_AddArrayToObject(o, "ranks");
    for (uint32_t i = 0; ranks && i < r->n_ranks; i++) {
        const mw_rank_summary *k = &r->ranks[i];
        cJSON *kj = cJSON_CreateObject();
        if (!kj) break;
        cJSON_AddNumberToObject(kj, "rank", k->rank);
        mw_json_add_int_or_null(kj, "local_rank", k->local_rank, k->local_rank != MW_RANK_NONE);
        cJSON_AddNumberToObject(kj, "processes", k->processes);
        mw_json_add_u64(kj, "peak_rss_bytes", k->peak_rss_bytes);
        mw_json_add_u64(kj, "peak_gpu_bytes", k->peak_gpu_bytes);
        mw_json_add_u64(kj, "major_faults", k->major_faults);
        mw_json_add_seconds(kj, "start_seconds", k->start_seconds);
        mw_json_add_seconds(kj, "end_seconds", k->end_seconds);
        cJSON_AddBoolToObject(kj, "oom_killed", k->oom_killed);
        cJSON_AddItemToArray(ranks, kj);
    }
}

static cJSON *watch_json(const mw_watch_result *r)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

    cJSON_AddStringToObject(o, "schema", "memwall.watch/1");
    cJSON_AddStringToObject(o, "memwall_version", MW_VERSION_STRING);
    cJSON *cmd = cJSON_AddArrayToObject(o, "command");
    for (char **a = r->argv; cmd && a && *a; a++)
        cJSON_AddItemToArray(cmd, cJSON_CreateString(*a));
    cJSON_AddNumberToObject(o, "pid", r->pid);
    mw_json_add_int_or_null(o, "exit_code", r->exit_code, r->exit_code >= 0);
    mw_json_add_int_or_null(o, "signal", r->term_signal, r->term_signal > 0);
    cJSON_AddBoolToObject(o, "oom_killed", r->oom_killed);
    cJSON_AddNumberToObject(o, "status_code", r->status_code);
    mw_json_add_seconds(o, "wall_seconds", r->wall_seconds);
    mw_json_add_seconds(o, "user_seconds", r->user_seconds);
    mw_json_add_seconds(o, "sys_seconds", r->sys_seconds);
    mw_json_add_seconds(o, "watcher_cpu_seconds", r->watcher_cpu_seconds);

    mw_json_add_u64(o, "peak_rss_bytes", r->peak_rss_bytes);
    mw_json_add_u64(o, "peak_rss_anon_bytes", r->peak_rss_anon_bytes);
    mw_json_add_u64(o, "peak_rss_file_bytes", r->peak_rss_file_bytes);
    mw_json_add_u64(o, "peak_rss_shmem_bytes", r->peak_rss_shmem_bytes);
    mw_json_add_u64(o, "peak_swap_bytes", r->peak_swap_bytes);
    mw_json_add_u64(o, "peak_pss_bytes", r->peak_pss_bytes);
    mw_json_add_u64(o, "peak_gpu_bytes", r->peak_gpu_bytes);
    mw_json_add_u64(o, "minor_faults", r->minor_faults);
    mw_json_add_u64(o, "major_faults", r->major_faults);
    cJSON_AddNumberToObject(o, "max_processes", r->max_processes);
    cJSON_AddNumberToObject(o, "samples", (double)r->samples);
    cJSON_AddNumberToObject(o, "interval_seconds", r->interval_seconds);

    if (r->cgroup_version == MW_CGROUP_NONE) {
        cJSON_AddNullToObject(o, "cgroup");
    } else {
        cJSON *c = cJSON_AddObjectToObject(o, "cgroup");
        if (c) {
            cJSON_AddNumberToObject(c, "version", r->cgroup_version);
            cJSON_AddStringToObject(c, "path", r->cgroup_path);
            mw_json_add_u64(c, "limit_bytes", r->cgroup_limit_bytes);
            mw_json_add_u64(c, "swap_limit_bytes", r->cgroup_swap_limit_bytes);
            mw_json_add_u64(c, "peak_bytes", r->cgroup_peak_bytes);
            mw_json_add_u64(c, "swap_peak_bytes", r->cgroup_swap_peak_bytes);
            mw_json_add_u64(c, "oom_kills", r->cgroup_oom_kills);
            mw_json_add_u64(c, "limit_hits", r->cgroup_limit_hits);
            mw_json_add_u64(c, "refaults_anon", r->cgroup_refaults_anon);
            mw_json_add_u64(c, "refaults_file", r->cgroup_refaults_file);
            cJSON_AddNumberToObject(c, "escaped_processes", r->escaped_processes);
            if (r->escaped_pid > 0) cJSON_AddNumberToObject(c, "escaped_pid", r->escaped_pid);
            else cJSON_AddNullToObject(c, "escaped_pid");
            /* issue #16: 1 when it is the cgroup memwall ran in (a Slurm job's) */
            cJSON_AddBoolToObject(c, "inherited", r->cgroup_inherited);
        }
    }

    cJSON *s = cJSON_AddObjectToObject(o, "system");
    if (s) {
        mw_json_add_u64(s, "swap_in_bytes", r->sys_swap_in_pages * page);
        mw_json_add_u64(s, "swap_out_bytes", r->sys_swap_out_pages * page);
        mw_json_add_u64(s, "major_faults", r->sys_major_faults);
        mw_json_add_u64(s, "refaults_anon", r->sys_refaults_anon);
        mw_json_add_u64(s, "refaults_file", r->sys_refaults_file);
        mw_json_add_u64(s, "oom_kills", r->sys_oom_kills);
        mw_json_add_seconds(s, "psi_some_seconds", r->psi_some_seconds);
        mw_json_add_seconds(s, "psi_full_seconds", r->psi_full_seconds);
    }

    if (r->gpu_devices == 0) {
        cJSON_AddNullToObject(o, "gpu");
    } else {
        cJSON *g = cJSON_AddObjectToObject(o, "gpu");
        cJSON *devs = g ? cJSON_AddArrayToObject(g, "devices") : NULL;
        for (uint32_t i = 0; devs && i < r->gpu_devices; i++) {
            const mw_gpu_device_summary *d = &r->gpu[i];
            cJSON *dj = cJSON_CreateObject();
            if (!dj) break;
            cJSON_AddNumberToObject(dj, "index", d->index);
            cJSON_AddStringToObject(dj, "name", d->name);
            mw_json_add_u64(dj, "total_bytes", d->total_bytes);
            mw_json_add_u64(dj, "peak_used_bytes", d->peak_used_bytes);
            mw_json_add_u64(dj, "peak_tree_bytes", d->peak_tree_bytes);
            cJSON_AddItemToArray(devs, dj);
        }
    }

    ranks_json(o, r); /* issue #16 */

    cJSON *procs = cJSON_AddArrayToObject(o, "processes");
    for (uint32_t i = 0; procs && i < r->nprocs; i++) {
        cJSON *p = process_json(&r->procs[i]);
        if (p) cJSON_AddItemToArray(procs, p);
    }
    return o;
}

mw_status mw_watch_report_json(const mw_watch_result *res, FILE *out, mw_err *err)
{
    mw_json_init();
    const uint64_t mark = mw_json_mark();
    cJSON *doc = watch_json(res);
    return mw_json_write(doc, out, 1, "JSON report", mark, err);
}
