/*
 * jsonl.c - the sweep's point format: one point as a JSON object, written
 * as a line of the JSON Lines file (--jsonl) and the points of
 * "memwall.sweep/1" (report/sweep_report.c adds each point's verdict), and
 * read back (--resume). One field table drives both directions, so a field
 * written is a field read.
 *
 * Reading back: a sweep killed by SIGKILL, or stopped by a full disk before
 * it could truncate, can leave its last line cut; anything else that is not
 * a point means the file is not ours (or was edited), and is refused with
 * its line number.
 */
#include "sweep/jsonl.h"
#include "common/error.h"
#include "common/json.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <errno.h>
#include <math.h>
#include <string.h>

/* ---- the field table ---------------------------------------------------------- */

typedef enum field_kind {
    F_U32,          /* uint32_t, always written                              */
    F_U32_OPT,      /* uint32_t, omitted when 0 (read: 0)                    */
    F_U32_NULL,     /* uint32_t, null when 0 (unknown)                       */
    F_INT,          /* int                                                   */
    F_U64,          /* uint64_t, null when MW_UNKNOWN                        */
    F_NEG_UNKNOWN,  /* double, null when < 0 (read: -1)                      */
    F_POS,          /* double, null when <= 0 (read: 0)                      */
    F_STATUS,       /* mw_point_status by name                               */
    F_OOM,          /* mw_oom_kind by name, null when none                   */
    F_MESSAGE,      /* char[], omitted when ""                               */
    F_DERIVED,      /* written from the others (write), never read           */
    /* a budget sweep's (issue #15): written only when budget_bytes is not
     * 0; read: absent or null gives `absent` */
    F_B_U64,        /* uint64_t, null when MW_UNKNOWN                        */
    F_B_NEG,        /* double, null when < 0                                 */
    F_B_U32,        /* uint32_t                                              */
    /* issue #16: "slurm": {"job_id","state","host","max_rss_bytes"}, null
     * for a local point (slurm_job_id 0) */
    F_SLURM
} field_kind;

typedef struct field {
    const char *key;
    field_kind kind;
    size_t off;                                      /* in mw_sweep_point */
    double absent;                                   /* read: a missing or null value */
    void (*write)(cJSON *o, const mw_sweep_point *p); /* F_DERIVED */
} field;

static void write_memory(cJSON *o, const mw_sweep_point *p);
static void write_rates(cJSON *o, const mw_sweep_point *p);

#define AT(member) offsetof(mw_sweep_point, member)
#define UNK ((double)MW_UNKNOWN)
/* In the order of the line. "batch" and "status" are required on reading. */
static const field FIELDS[] = {
    {"batch",                  F_U32,         AT(batch),                  0,   NULL},
    {"ctx",                    F_U32_OPT,     AT(ctx),                    0,   NULL},
    {"status",                 F_STATUS,      AT(status),                 0,   NULL},
    {"exit_code",              F_INT,         AT(exit_code),              0,   NULL},
    {"runs",                   F_U32,         AT(runs),                   1,   NULL},
    {"wall_seconds",           F_NEG_UNKNOWN, AT(wall_seconds),           -1,  NULL},
    {"throughput",             F_NEG_UNKNOWN, AT(throughput),             -1,  NULL},
    {"peak_rss_bytes",         F_U64,         AT(peak_rss_bytes),         UNK, NULL},
    {"cgroup_peak_bytes",      F_U64,         AT(cgroup_peak_bytes),      UNK, NULL},
    {"swap_peak_bytes",        F_U64,         AT(swap_peak_bytes),        UNK, NULL},
    {"swap_in_bytes",          F_U64,         AT(swap_in_bytes),          UNK, NULL},
    {"major_faults",           F_U64,         AT(major_faults),           UNK, NULL},
    {"refaults",               F_U64,         AT(refaults),               UNK, NULL},
    {"psi_some_seconds",       F_NEG_UNKNOWN, AT(psi_some_seconds),       -1,  NULL},
    {"psi_full_seconds",       F_NEG_UNKNOWN, AT(psi_full_seconds),       -1,  NULL},
    {"predicted_bytes",        F_U64,         AT(predicted_bytes),        UNK, NULL},
    {"peak_gpu_bytes",         F_U64,         AT(peak_gpu_bytes),         UNK, NULL},
    {"memory_bytes, memory_source", F_DERIVED, 0,                         0,   write_memory},
    {"max_processes",          F_U32_NULL,    AT(max_processes),          0,   NULL},
    {"peak_rss_anon_bytes",    F_U64,         AT(peak_rss_anon_bytes),    UNK, NULL},
    {"peak_rss_file_bytes",    F_U64,         AT(peak_rss_file_bytes),    UNK, NULL},
    {"file_cached_bytes",      F_U64,         AT(file_cached_bytes),      UNK, NULL},
    {"peak_process_rss_bytes", F_U64,         AT(peak_process_rss_bytes), UNK, NULL},
    {"throughput_min",         F_NEG_UNKNOWN, AT(throughput_min),         -1,  NULL},
    {"throughput_max",         F_NEG_UNKNOWN, AT(throughput_max),         -1,  NULL},
    {"step_bytes",             F_POS,         AT(step_bytes),             0,   NULL},
    {"step_flops",             F_POS,         AT(step_flops),             0,   NULL},
    {"bytes_per_second, flops_per_second", F_DERIVED, 0,                  0,   write_rates},
    {"oom",                    F_OOM,         AT(oom),                    0,   NULL},
    {"message",                F_MESSAGE,     AT(message),                0,   NULL},
    /* budget sweeps (issue #15, docs/PAGING.md): only in their points */
    {"budget_bytes",           F_B_U64,       AT(budget_bytes),           0,   NULL},
    {"mem_limit_bytes",        F_B_U64,       AT(mem_limit_bytes),        UNK, NULL},
    {"streamed_layers",        F_B_U32,       AT(streamed_layers),        0,   NULL},
    {"stream_bytes_per_step",  F_B_U64,       AT(stream_bytes_per_step),  UNK, NULL},
    {"stream_bytes_per_second", F_B_NEG,      AT(stream_bytes_per_second), -1, NULL},
    /* a point run as a Slurm job (issue #16, docs/CLUSTER.md) */
    {"slurm",                  F_SLURM,       AT(slurm_job_id),           0,   NULL},
};
#undef AT
#undef UNK

static void number_or_null(cJSON *o, const char *key, int known, double v)
{
    if (known) cJSON_AddNumberToObject(o, key, v);
    else cJSON_AddNullToObject(o, key);
}

static void write_memory(cJSON *o, const mw_sweep_point *p)
{
    mw_memory_source src;
    uint64_t mem = mw_sweep_point_memory_of(p, &src);
    number_or_null(o, "memory_bytes", mem != MW_UNKNOWN, (double)mem);
    if (mw_memory_source_name(src)) cJSON_AddStringToObject(o, "memory_source", mw_memory_source_name(src));
    else cJSON_AddNullToObject(o, "memory_source");
}

static void write_rates(cJSON *o, const mw_sweep_point *p)
{
    double bps = 0, fps = 0;
    int known = mw_sweep_point_rates(p, &bps, &fps);
    number_or_null(o, "bytes_per_second", known, bps);
    number_or_null(o, "flops_per_second", known, fps);
}

/* ---- writing -------------------------------------------------------------------- */

cJSON *mw_sweep_point_to_json(const mw_sweep_point *p)
{
    mw_json_init();
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    const char *base = (const char *)p;
    for (size_t i = 0; i < sizeof FIELDS / sizeof FIELDS[0]; i++) {
        const field *f = &FIELDS[i];
        const void *at = base + f->off;
        uint32_t u32;
        uint64_t u64;
        double d;
        int n;
        switch (f->kind) {
        case F_U32:
        case F_U32_OPT:
        case F_U32_NULL:
            memcpy(&u32, at, sizeof u32);
            if (f->kind == F_U32_OPT && u32 == 0) break;
            number_or_null(o, f->key, f->kind != F_U32_NULL || u32 != 0, u32);
            break;
        case F_INT:
            memcpy(&n, at, sizeof n);
            cJSON_AddNumberToObject(o, f->key, n);
            break;
        case F_U64:
            memcpy(&u64, at, sizeof u64);
            number_or_null(o, f->key, u64 != MW_UNKNOWN, (double)u64);
            break;
        case F_NEG_UNKNOWN:
        case F_POS:
            memcpy(&d, at, sizeof d);
            number_or_null(o, f->key, f->kind == F_POS ? d > 0 : d >= 0, d);
            break;
        case F_STATUS:
            cJSON_AddStringToObject(o, f->key, mw_point_status_name(p->status));
            break;
        case F_OOM:
            if (mw_oom_kind_name(p->oom)) cJSON_AddStringToObject(o, f->key, mw_oom_kind_name(p->oom));
            else cJSON_AddNullToObject(o, f->key);
            break;
        case F_MESSAGE:
            if (p->message[0]) cJSON_AddStringToObject(o, f->key, p->message);
            break;
        case F_DERIVED:
            f->write(o, p);
            break;
        case F_B_U64:
            if (!p->budget_bytes) break;
            memcpy(&u64, at, sizeof u64);
            number_or_null(o, f->key, u64 != MW_UNKNOWN, (double)u64);
            break;
        case F_B_NEG:
            if (!p->budget_bytes) break;
            memcpy(&d, at, sizeof d);
            number_or_null(o, f->key, d >= 0, d);
            break;
        case F_B_U32:
            if (!p->budget_bytes) break;
            memcpy(&u32, at, sizeof u32);
            cJSON_AddNumberToObject(o, f->key, u32);
            break;
        case F_SLURM: { /* issue #16 */
            if (!p->slurm_job_id) {
                cJSON_AddNullToObject(o, f->key);
                break;
            }
            cJSON *sj = cJSON_AddObjectToObject(o, f->key);
            if (!sj) break;
            cJSON_AddNumberToObject(sj, "job_id", (double)p->slurm_job_id);
            cJSON_AddStringToObject(sj, "state", p->slurm_state);
            if (p->host[0]) cJSON_AddStringToObject(sj, "host", p->host);
            else cJSON_AddNullToObject(sj, "host");
            number_or_null(sj, "max_rss_bytes", p->slurm_max_rss_bytes != MW_UNKNOWN, (double)p->slurm_max_rss_bytes);
            break;
        }
        }
    }
    return o;
}

mw_status mw_sweep_point_json_line(const mw_sweep_point *p, char **line, size_t *len)
{
    *line = NULL;
    *len = 0;
    const uint64_t failures = mw_json_mark();
    cJSON *o = mw_sweep_point_to_json(p);
    if (!o) return MW_ERR_NOMEM;
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (text && mw_json_mark() != failures) { /* a key was lost */
        cJSON_free(text);
        text = NULL;
    }
    if (!text) return MW_ERR_NOMEM;
    size_t n = strlen(text);
    char *buf = mw_malloc(n + 2, MW_MEM_REPORT);
    if (buf) {
        memcpy(buf, text, n);
        buf[n] = '\n';
        buf[n + 1] = '\0';
        *line = buf;
        *len = n + 1;
    }
    cJSON_free(text);
    return buf ? MW_OK : MW_ERR_NOMEM;
}

mw_status mw_sweep_point_jsonl(const mw_sweep_point *p, FILE *out, mw_err *err)
{
    char *line;
    size_t len;
    MW_RETURN_IF(mw_sweep_point_json_line(p, &line, &len) != MW_OK, err, MW_ERR_NOMEM,
                 "out of memory writing the point at batch %u as a JSON line", p->batch);
    errno = 0;
    int ok = fwrite(line, 1, len, out) == len && fflush(out) == 0;
    int e = errno;
    mw_free(line);
    if (!ok) return mw_err_errno(err, MW_ERR_IO, e ? e : EIO, "cannot write the point at batch %u as a JSON line",
                                 p->batch);
    return MW_OK;
}

/* ---- reading -------------------------------------------------------------------- */

/* A number of the field's type: a value out of its range reads as absent. */
static void read_field(const field *f, const cJSON *v, mw_sweep_point *p)
{
    char *at = (char *)p + f->off;
    int num = cJSON_IsNumber(v);
    double d = num ? v->valuedouble : f->absent;
    switch (f->kind) {
    case F_U32:
    case F_U32_OPT:
    case F_U32_NULL:
    case F_B_U32: {
        if (!(d >= 0 && d <= UINT32_MAX)) d = f->absent;
        uint32_t u32 = (uint32_t)d;
        memcpy(at, &u32, sizeof u32);
        break;
    }
    case F_INT: {
        if (!(d >= -2147483648.0 && d <= 2147483647.0)) d = f->absent;
        int n = (int)d;
        memcpy(at, &n, sizeof n);
        break;
    }
    case F_U64: {
        /* 2^64 and above (or below 0) do not fit: unknown */
        uint64_t u64 = num && d >= 0 && d < 18446744073709551616.0 ? (uint64_t)d : MW_UNKNOWN;
        memcpy(at, &u64, sizeof u64);
        break;
    }
    case F_B_U64: {
        /* absent, null or out of range: the field's absent value (UNK is
         * not representable as a double-to-uint64 conversion) */
        uint64_t u64 = f->absent == (double)MW_UNKNOWN ? MW_UNKNOWN : (uint64_t)f->absent;
        if (num && d >= 0 && d < 18446744073709551616.0) u64 = (uint64_t)d;
        memcpy(at, &u64, sizeof u64);
        break;
    }
    case F_B_NEG:
        if (!(d >= 0)) d = f->absent;
        memcpy(at, &d, sizeof d);
        break;
    case F_NEG_UNKNOWN:
    case F_POS:
        memcpy(at, &d, sizeof d);
        break;
    case F_OOM:
        for (int k = MW_OOM_CGROUP; cJSON_IsString(v) && k <= MW_OOM_GPU; k++)
            if (!strcmp(v->valuestring, mw_oom_kind_name((mw_oom_kind)k))) p->oom = (mw_oom_kind)k;
        break;
    case F_MESSAGE:
        if (cJSON_IsString(v)) snprintf(p->message, sizeof p->message, "%s", v->valuestring);
        break;
    case F_SLURM: { /* issue #16 */
        p->slurm_max_rss_bytes = MW_UNKNOWN;
        if (!cJSON_IsObject(v)) break;
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(v, "job_id");
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(v, "state");
        const cJSON *host = cJSON_GetObjectItemCaseSensitive(v, "host");
        const cJSON *rss = cJSON_GetObjectItemCaseSensitive(v, "max_rss_bytes");
        if (cJSON_IsNumber(id) && id->valuedouble >= 1 && id->valuedouble < 18446744073709551616.0)
            p->slurm_job_id = (uint64_t)id->valuedouble;
        if (cJSON_IsString(st)) snprintf(p->slurm_state, sizeof p->slurm_state, "%s", st->valuestring);
        if (cJSON_IsString(host)) snprintf(p->host, sizeof p->host, "%s", host->valuestring);
        if (cJSON_IsNumber(rss) && rss->valuedouble >= 0 && rss->valuedouble < 18446744073709551616.0)
            p->slurm_max_rss_bytes = (uint64_t)rss->valuedouble;
        break;
    }
    case F_STATUS:  /* required: read before the table */
    case F_DERIVED: /* not a measurement */
        break;
    }
}

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
    for (size_t i = 0; i < sizeof FIELDS / sizeof FIELDS[0]; i++)
        read_field(&FIELDS[i], cJSON_GetObjectItemCaseSensitive(j, FIELDS[i].key), p);
    p->status = (mw_point_status)status;
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

/* ---- a budget sweep's point, from its run's JSON (issue #15) --------------- */

void mw_sweep_paging_from_json(const cJSON *paging, mw_sweep_point *p)
{
    if (!paging) return; /* not said: unknown */
    if (cJSON_IsNull(paging)) { /* run says: no paging */
        p->streamed_layers = 0;
        p->stream_bytes_per_step = 0;
        return;
    }
    if (!cJSON_IsObject(paging)) return;
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(paging, "streamed_layers");
    const cJSON *decode = cJSON_GetObjectItemCaseSensitive(paging, "stream_decode_bytes_per_step");
    const cJSON *split = cJSON_GetObjectItemCaseSensitive(paging, "streamed_bytes_per_step");
    const cJSON *read = cJSON_GetObjectItemCaseSensitive(paging, "stream_bytes_read");
    const cJSON *secs = cJSON_GetObjectItemCaseSensitive(paging, "stream_read_seconds");
    if (cJSON_IsNumber(layers) && layers->valuedouble >= 0 && layers->valuedouble <= UINT32_MAX)
        p->streamed_layers = (uint32_t)layers->valuedouble;
    const cJSON *step = cJSON_IsNumber(decode) && decode->valuedouble >= 0 ? decode : split;
    if (cJSON_IsNumber(step) && step->valuedouble >= 0 && step->valuedouble < 18446744073709551616.0)
        p->stream_bytes_per_step = (uint64_t)step->valuedouble;
    else if (p->streamed_layers == 0 && cJSON_IsNumber(layers))
        p->stream_bytes_per_step = 0;
    if (cJSON_IsNumber(read) && cJSON_IsNumber(secs) && read->valuedouble > 0 && secs->valuedouble > 0 &&
        isfinite(read->valuedouble / secs->valuedouble))
        p->stream_bytes_per_second = read->valuedouble / secs->valuedouble;
}
