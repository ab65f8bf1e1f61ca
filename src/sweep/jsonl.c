/*
 * jsonl.c - reading back the sweep's JSON Lines file. A sweep killed by
 * SIGKILL, or stopped by a full disk before it could truncate, can leave its
 * last line cut; anything else that is not a point means the file is not
 * ours (or was edited), and is refused with its line number.
 */
#include "sweep/jsonl.h"
#include "common/error.h"
#include "common/json.h"

#include <cjson/cJSON.h>
#include <string.h>

int mw_sweep_point_from_json(const char *line, size_t len, mw_sweep_point *p)
{
    if (len == 0 || memchr(line, '\0', len)) return 0;
    mw_json_init();
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(line, len, &end, 0);
    if (!j) return 0;
    /* one object and nothing after it: two points run together on one line
     * (an append after a cut line, by an older memwall) are no point */
    for (; end && end < line + len; end++)
        if (*end != ' ' && *end != '\t' && *end != '\r' && *end != '\n') {
            cJSON_Delete(j);
            return 0;
        }
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "batch");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "status");
    int status = -1;
    for (int k = MW_POINT_OK; cJSON_IsString(s) && k <= MW_POINT_INTERRUPTED; k++)
        if (!strcmp(s->valuestring, mw_point_status_name((mw_point_status)k))) status = k;
    if (!cJSON_IsObject(j) || !cJSON_IsNumber(b) || b->valuedouble < 1 || b->valuedouble > UINT32_MAX ||
        status < 0) {
        cJSON_Delete(j);
        return 0;
    }
    memset(p, 0, sizeof *p);
    p->batch = (uint32_t)b->valuedouble;
    p->status = (mw_point_status)status;
#define NUM(field, key, unknown) do { const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key); \
        p->field = cJSON_IsNumber(v) ? v->valuedouble : (unknown); } while (0)
    NUM(exit_code, "exit_code", 0);
    NUM(runs, "runs", 1);
    NUM(ctx, "ctx", 0);
    NUM(wall_seconds, "wall_seconds", -1);
    NUM(throughput, "throughput", -1);
    NUM(peak_rss_bytes, "peak_rss_bytes", MW_UNKNOWN);
    NUM(cgroup_peak_bytes, "cgroup_peak_bytes", MW_UNKNOWN);
    NUM(swap_peak_bytes, "swap_peak_bytes", MW_UNKNOWN);
    NUM(swap_in_bytes, "swap_in_bytes", MW_UNKNOWN);
    NUM(major_faults, "major_faults", MW_UNKNOWN);
    NUM(refaults, "refaults", MW_UNKNOWN);
    NUM(psi_some_seconds, "psi_some_seconds", -1);
    NUM(psi_full_seconds, "psi_full_seconds", -1);
    NUM(predicted_bytes, "predicted_bytes", MW_UNKNOWN);
    NUM(peak_gpu_bytes, "peak_gpu_bytes", MW_UNKNOWN);
    NUM(step_bytes, "step_bytes", 0);
    NUM(step_flops, "step_flops", 0);
    NUM(max_processes, "max_processes", 0);
    NUM(peak_rss_anon_bytes, "peak_rss_anon_bytes", MW_UNKNOWN);
    NUM(peak_rss_file_bytes, "peak_rss_file_bytes", MW_UNKNOWN);
    NUM(file_cached_bytes, "file_cached_bytes", MW_UNKNOWN);
    NUM(peak_process_rss_bytes, "peak_process_rss_bytes", MW_UNKNOWN);
    NUM(throughput_min, "throughput_min", -1);
    NUM(throughput_max, "throughput_max", -1);
#undef NUM
    const cJSON *oom = cJSON_GetObjectItemCaseSensitive(j, "oom");
    for (int k = MW_OOM_CGROUP; cJSON_IsString(oom) && k <= MW_OOM_GPU; k++)
        if (!strcmp(oom->valuestring, mw_oom_kind_name((mw_oom_kind)k))) p->oom = (mw_oom_kind)k;
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(j, "message");
    if (cJSON_IsString(msg)) snprintf(p->message, sizeof p->message, "%s", msg->valuestring);
    cJSON_Delete(j);
    return 1;
}

static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return 0;
    return 1;
}

mw_status mw_sweep_jsonl_scan(const char *text, size_t len, const char *path, mw_jsonl_point_fn fn, void *user,
                              mw_jsonl_scan *scan, mw_err *err)
{
    memset(scan, 0, sizeof *scan);
    unsigned lineno = 0;
    for (size_t start = 0; start < len;) {
        const char *nl = memchr(text + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - text) : len; /* the line is [start, end) */
        lineno++;
        mw_sweep_point p;
        int is_point = !blank(text + start, end - start) && mw_sweep_point_from_json(text + start, end - start, &p);
        if (!nl) {
            /* the last line, without its '\n' */
            if (!is_point) { /* cut (or only blanks): it goes */
                scan->keep_bytes = start;
                scan->cut_bytes = len - start;
                scan->cut_line = lineno;
                return MW_OK;
            }
            scan->add_newline = 1;
        } else if (!is_point && !blank(text + start, end - start)) {
            return mw_err_set(err, MW_ERR_INVALID,
                              "%s:%u: not a sweep point (the file was edited, or is not a sweep's: fix or delete "
                              "that line, give another --jsonl, or drop --resume)", path, lineno);
        }
        if (is_point) {
            scan->n_lines++;
            if (fn) MW_FORWARD(fn(&p, lineno, user, err));
        }
        start = nl ? end + 1 : len;
        scan->keep_bytes = start;
    }
    return MW_OK;
}
