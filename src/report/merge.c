/*
 * merge.c - one report across the ranks and hosts of a distributed job
 * (memwall merge, issue #16, docs/CLUSTER.md "Distributed jobs, rank by
 * rank"; schema "memwall.merge/1" in docs/JSON.md).
 *
 * Input: "memwall.watch/1" documents. A file with a non-empty ranks[] (a
 * watch of mpirun or torchrun) gives each of its ranks; a file without
 * (`srun memwall watch -o 'run-%r.json'`) gives one entry, the watcher's
 * rank, with the whole tree's peak. Every file is checked before anything
 * is merged: an error names the file and says what to do.
 *
 * The cap. A rank hit its cap at start_unix_seconds + cap_hit_seconds. In
 * a file with several ranks they share one cgroup: an OOM-killed rank hit
 * it (at cap_hit_seconds, or its end when no hit time was seen); when none
 * was killed, the cap's hit goes to the file's largest rank (the one that
 * pressed it most).
 */
#include "memwall.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/json.h"
#include "report/json_util.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MERGE_FILE_MAX (64ull << 20)   /* a watch report of 64 MiB is not one */
#define BYTES_MAX 9007199254740992.0   /* 2^53: exact in a JSON number */

typedef struct merge_list {
    mw_merge_rank *v;
    size_t n, cap;
} merge_list;

static mw_status bad(mw_err *err, const char *path, const char *what)
{
    return mw_err_set(err, MW_ERR_INVALID,
                      "%s: %s; give memwall merge the files `memwall watch --json -o FILE` wrote", path, what);
}

/* A non-negative integer of bytes or a count; null (when allowed) is
 * MW_UNKNOWN. Missing: *out = dflt when allowed (dflt != 0 flag). */
static mw_status get_u64(const cJSON *o, const char *key, int nullable, const char *path, const char *where,
                         uint64_t *out, mw_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    char what[160];
    if (!v || (cJSON_IsNull(v) && !nullable)) {
        snprintf(what, sizeof what, "%s has no \"%s\"", where, key);
        return bad(err, path, what);
    }
    if (cJSON_IsNull(v)) {
        *out = MW_UNKNOWN;
        return MW_OK;
    }
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > 1.8446744073709552e19 ||
        v->valuedouble != floor(v->valuedouble)) {
        snprintf(what, sizeof what, "%s's \"%s\" is not a non-negative whole number", where, key);
        return bad(err, path, what);
    }
    *out = v->valuedouble >= 1.8446744073709552e19 ? MW_UNKNOWN : (uint64_t)v->valuedouble;
    return MW_OK;
}

/* Seconds (>= 0), null -> -1; missing -> -1 when optional. */
static mw_status get_seconds(const cJSON *o, const char *key, int optional, const char *path, const char *where,
                             double *out, mw_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    char what[160];
    *out = -1;
    if (!v) {
        if (optional) return MW_OK;
        snprintf(what, sizeof what, "%s has no \"%s\"", where, key);
        return bad(err, path, what);
    }
    if (cJSON_IsNull(v)) return MW_OK;
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || !isfinite(v->valuedouble)) {
        snprintf(what, sizeof what, "%s's \"%s\" is not a number of seconds (or null)", where, key);
        return bad(err, path, what);
    }
    *out = v->valuedouble;
    return MW_OK;
}

/* A rank: a whole number 0 .. 2^31-1, or null (MW_RANK_NONE). */
static mw_status get_rank(const cJSON *o, const char *key, int nullable, const char *path, const char *where,
                          int32_t *out, mw_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    char what[160];
    *out = MW_RANK_NONE;
    if (v && cJSON_IsNull(v) && nullable) return MW_OK;
    if (!v && nullable) return MW_OK; /* a watch report from before ranks */
    if (!v || !cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > 2147483647.0 ||
        v->valuedouble != floor(v->valuedouble)) {
        snprintf(what, sizeof what, "%s's \"%s\" is not a rank (a whole number from 0%s)", where, key,
                 nullable ? ", or null" : "");
        return bad(err, path, what);
    }
    *out = (int32_t)v->valuedouble;
    return MW_OK;
}

static mw_status get_bool(const cJSON *o, const char *key, const char *path, const char *where, int *out,
                          mw_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || !cJSON_IsBool(v)) {
        char what[160];
        snprintf(what, sizeof what, "%s's \"%s\" is not true or false", where, key);
        return bad(err, path, what);
    }
    *out = cJSON_IsTrue(v);
    return MW_OK;
}

static mw_status push(merge_list *l, const mw_merge_rank *r, mw_err *err)
{
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 16;
        mw_merge_rank *nv = mw_realloc(l->v, ncap * sizeof *nv, MW_MEM_REPORT);
        MW_RETURN_IF(!nv, err, MW_ERR_NOMEM, "out of memory merging ranks");
        l->v = nv;
        l->cap = ncap;
    }
    l->v[l->n++] = *r;
    return MW_OK;
}

/* One watch document's ranks into l. */
static mw_status parse_doc(const cJSON *doc, const char *path, merge_list *l, mw_err *err)
{
    if (!cJSON_IsObject(doc)) return bad(err, path, "not a JSON object (a memwall watch --json report is one)");
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(doc, "schema");
    if (!cJSON_IsString(schema)) return bad(err, path, "no \"schema\": not a memwall report");
    if (strcmp(schema->valuestring, "memwall.watch/1") != 0) {
        char what[200], shown[64];
        snprintf(what, sizeof what, "schema \"%s\", not \"memwall.watch/1\"",
                 mw_shown_str(schema->valuestring, shown, sizeof shown));
        return bad(err, path, what);
    }
    mw_merge_rank base;
    memset(&base, 0, sizeof base);
    snprintf(base.file, sizeof base.file, "%s", path);
    const cJSON *host = cJSON_GetObjectItemCaseSensitive(doc, "host");
    if (host && !cJSON_IsString(host)) return bad(err, path, "\"host\" is not a string");
    mw_shown_str(host ? host->valuestring : "unknown", base.host, sizeof base.host);
    double start = -1, cap_hit = -1, wall = -1;
    MW_FORWARD(get_seconds(doc, "start_unix_seconds", 1, path, "the report", &start, err));
    MW_FORWARD(get_seconds(doc, "cap_hit_seconds", 1, path, "the report", &cap_hit, err));
    MW_FORWARD(get_seconds(doc, "wall_seconds", 0, path, "the report", &wall, err));
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(doc, "status_code");
    if (!cJSON_IsNumber(sc) || !(sc->valuedouble >= 0 && sc->valuedouble <= 65535) ||
        sc->valuedouble != floor(sc->valuedouble))
        return bad(err, path, "\"status_code\" is not an exit status (a whole number from 0)");
    base.status_code = (int)sc->valuedouble;
    int tree_oom = 0;
    MW_FORWARD(get_bool(doc, "oom_killed", path, "the report", &tree_oom, err));
    base.limit_bytes = MW_UNKNOWN;
    const cJSON *cg = cJSON_GetObjectItemCaseSensitive(doc, "cgroup");
    if (!cg) return bad(err, path, "no \"cgroup\" (an object, or null)");
    if (cJSON_IsObject(cg)) MW_FORWARD(get_u64(cg, "limit_bytes", 1, path, "\"cgroup\"", &base.limit_bytes, err));
    else if (!cJSON_IsNull(cg)) return bad(err, path, "\"cgroup\" is neither an object nor null");

    const cJSON *ranks = cJSON_GetObjectItemCaseSensitive(doc, "ranks");
    if (ranks && !cJSON_IsArray(ranks)) return bad(err, path, "\"ranks\" is not an array");
    const int nr = ranks ? cJSON_GetArraySize(ranks) : 0;
    if (nr == 0) { /* the whole tree is the watcher's rank */
        mw_merge_rank r = base;
        MW_FORWARD(get_rank(doc, "rank", 1, path, "the report", &r.rank, err));
        MW_FORWARD(get_u64(doc, "peak_rss_bytes", 0, path, "the report", &r.peak_rss_bytes, err));
        MW_FORWARD(get_u64(doc, "peak_gpu_bytes", 1, path, "the report", &r.peak_gpu_bytes, err));
        r.oom_killed = tree_oom;
        r.cap_hit_unix_seconds = -1;
        if (start >= 0 && cap_hit >= 0) r.cap_hit_unix_seconds = start + cap_hit;
        else if (start >= 0 && tree_oom) r.cap_hit_unix_seconds = start + wall;
        return push(l, &r, err);
    }
    const size_t first = l->n;
    int any_oom = 0;
    size_t largest = first;
    for (int i = 0; i < nr; i++) {
        const cJSON *e = cJSON_GetArrayItem(ranks, i);
        char where[48];
        snprintf(where, sizeof where, "ranks[%d]", i);
        if (!cJSON_IsObject(e)) return bad(err, path, "an entry of \"ranks\" is not an object");
        mw_merge_rank r = base;
        double end = -1;
        MW_FORWARD(get_rank(e, "rank", 0, path, where, &r.rank, err));
        MW_FORWARD(get_u64(e, "peak_rss_bytes", 0, path, where, &r.peak_rss_bytes, err));
        MW_FORWARD(get_u64(e, "peak_gpu_bytes", 1, path, where, &r.peak_gpu_bytes, err));
        MW_FORWARD(get_bool(e, "oom_killed", path, where, &r.oom_killed, err));
        MW_FORWARD(get_seconds(e, "end_seconds", 0, path, where, &end, err));
        r.cap_hit_unix_seconds = -1;
        if (r.oom_killed && start >= 0) {
            double at = cap_hit >= 0 ? cap_hit : end >= 0 ? end : wall;
            r.cap_hit_unix_seconds = start + at;
        }
        any_oom |= r.oom_killed;
        MW_FORWARD(push(l, &r, err));
        if (l->v[l->n - 1].peak_rss_bytes > l->v[largest].peak_rss_bytes) largest = l->n - 1;
    }
    if (!any_oom && cap_hit >= 0 && start >= 0) l->v[largest].cap_hit_unix_seconds = start + cap_hit;
    return MW_OK;
}

static mw_status read_one(const char *path, merge_list *l, mw_err *err)
{
    char *text = NULL;
    size_t len = 0;
    mw_err rerr;
    mw_status st = mw_file_read_all(path, MERGE_FILE_MAX, "a memwall watch report", &text, &len, &rerr);
    if (st == MW_ERR_NOMEM) return mw_err_set(err, st, "%s", rerr.msg);
    if (st != MW_OK)
        return mw_err_set(err, MW_ERR_INVALID, "%s; give memwall merge the files `memwall watch --json -o FILE` wrote",
                          rerr.msg);
    mw_json_init();
    const uint64_t mark = mw_json_mark();
    cJSON *doc = cJSON_ParseWithLength(text, len);
    mw_free(text);
    if (!doc) {
        if (mw_json_mark() != mark) return mw_err_set(err, MW_ERR_NOMEM, "out of memory reading %s", path);
        return bad(err, path, "not JSON (a text report? write it with --json)");
    }
    st = parse_doc(doc, path, l, err);
    cJSON_Delete(doc);
    if (st == MW_OK && mw_json_mark() != mark) st = mw_err_set(err, MW_ERR_NOMEM, "out of memory reading %s", path);
    return st;
}

/* by rank (none last), then host, then file */
static int cmp_merge(const void *a, const void *b)
{
    const mw_merge_rank *x = a, *y = b;
    uint32_t rx = (uint32_t)x->rank, ry = (uint32_t)y->rank; /* MW_RANK_NONE (-1) sorts last */
    if (rx != ry) return rx < ry ? -1 : 1;
    int c = strcmp(x->host, y->host);
    return c ? c : strcmp(x->file, y->file);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

mw_status mw_merge_files(const char *const *paths, size_t n, mw_merge_result **out, mw_err *err)
{
    MW_RETURN_IF(!out, err, MW_ERR_INVALID, "mw_merge_files: out is NULL");
    *out = NULL;
    MW_RETURN_IF(!paths || n == 0, err, MW_ERR_INVALID,
                 "nothing to merge: give the JSON files of `memwall watch --json -o FILE`");
    merge_list l = {0};
    for (size_t i = 0; i < n; i++) {
        mw_status st = read_one(paths[i], &l, err);
        if (st != MW_OK) {
            mw_free(l.v);
            return st;
        }
    }
    qsort(l.v, l.n, sizeof *l.v, cmp_merge);
    for (size_t i = 1; i < l.n; i++) {
        const mw_merge_rank *a = &l.v[i - 1], *b = &l.v[i];
        if (a->rank != MW_RANK_NONE && a->rank == b->rank && !strcmp(a->host, b->host)) {
            mw_status st = mw_err_set(err, MW_ERR_INVALID,
                                      "%s: rank %d on host %s is also in %s: are these files of two runs? "
                                      "Merge the files of one run",
                                      b->file, (int)b->rank, a->host, a->file);
            mw_free(l.v);
            return st;
        }
    }
    mw_merge_result *r = mw_calloc(1, sizeof *r, MW_MEM_REPORT);
    uint64_t *peaks = l.n ? mw_malloc(l.n * sizeof *peaks, MW_MEM_REPORT) : NULL;
    if (!r || (l.n && !peaks)) {
        mw_free(r);
        mw_free(peaks);
        mw_free(l.v);
        return mw_err_set(err, MW_ERR_NOMEM, "out of memory merging ranks");
    }
    r->ranks = l.v;
    r->n_ranks = l.n;
    r->n_files = n;
    r->first_cap_index = SIZE_MAX;
    r->imbalance = -1;
    for (size_t i = 0; i < l.n; i++) {
        const mw_merge_rank *k = &l.v[i];
        peaks[i] = k->peak_rss_bytes;
        if (k->peak_rss_bytes > l.v[r->max_index].peak_rss_bytes) r->max_index = i;
        if (k->cap_hit_unix_seconds >= 0 &&
            (r->first_cap_index == SIZE_MAX || k->cap_hit_unix_seconds < l.v[r->first_cap_index].cap_hit_unix_seconds))
            r->first_cap_index = i;
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++) seen = !strcmp(l.v[j].host, k->host);
        if (!seen) r->n_hosts++;
    }
    if (l.n) {
        qsort(peaks, l.n, sizeof *peaks, cmp_u64);
        /* an even count's median: the mean of the middle two */
        r->median_peak_bytes = l.n % 2 ? peaks[l.n / 2] : peaks[l.n / 2 - 1] / 2 + peaks[l.n / 2] / 2 +
                                                              (peaks[l.n / 2 - 1] % 2 + peaks[l.n / 2] % 2) / 2;
        r->max_peak_bytes = l.v[r->max_index].peak_rss_bytes;
        if (r->median_peak_bytes > 0) r->imbalance = (double)r->max_peak_bytes / (double)r->median_peak_bytes;
    }
    mw_free(peaks);
    *out = r;
    return MW_OK;
}

void mw_merge_result_free(mw_merge_result *r)
{
    if (!r) return;
    mw_free(r->ranks);
    mw_free(r);
}

static void rank_str(int32_t rank, char *buf, size_t cap)
{
    if (rank == MW_RANK_NONE) snprintf(buf, cap, "-");
    else snprintf(buf, cap, "%d", (int)rank);
}

static void utc_str(double t, char *buf, size_t cap)
{
    time_t s = (time_t)t;
    struct tm tm;
    if (t < 0 || !gmtime_r(&s, &tm)) {
        snprintf(buf, cap, "-");
        return;
    }
    char day[24];
    strftime(day, sizeof day, "%Y-%m-%d %H:%M:%S", &tm);
    int ms = (int)((t - (double)s) * 1000);
    snprintf(buf, cap, "%.19s.%03d UTC", day, ms < 0 ? 0 : ms > 999 ? 999 : ms);
}

mw_status mw_merge_report_text(const mw_merge_result *r, FILE *out, unsigned flags, mw_err *err)
{
    const char *bold = (flags & MW_REPORT_COLOR) ? "\033[1m" : "", *red = (flags & MW_REPORT_COLOR) ? "\033[31m" : "",
               *dim = (flags & MW_REPORT_COLOR) ? "\033[2m" : "", *reset = (flags & MW_REPORT_COLOR) ? "\033[0m" : "";
    char a[32], b[32], c[32], rk[16];
    fprintf(out, "%smemwall merge:%s %zu rank%s from %zu file%s on %zu host%s\n", bold, reset, r->n_ranks,
            r->n_ranks == 1 ? "" : "s", r->n_files, r->n_files == 1 ? "" : "s", r->n_hosts, r->n_hosts == 1 ? "" : "s");
    fprintf(out, "  %s%-6s %-16s %-10s %-10s %-10s %-6s %s%s\n", dim, "rank", "host", "peak rss", "peak gpu", "cap",
            "status", "file", reset);
    for (size_t i = 0; i < r->n_ranks; i++) {
        const mw_merge_rank *k = &r->ranks[i];
        char file[96];
        rank_str(k->rank, rk, sizeof rk);
        fprintf(out, "  %-6s %-16s %-10s %-10s %-10s %-6d %s%s%s%s\n", rk, k->host,
                mw_size_format(k->peak_rss_bytes, a, sizeof a), mw_size_format(k->peak_gpu_bytes, b, sizeof b),
                k->limit_bytes == MW_UNKNOWN ? "-" : mw_size_format(k->limit_bytes, c, sizeof c), k->status_code,
                mw_shown_str(k->file, file, sizeof file), k->oom_killed ? red : "",
                k->oom_killed ? "  OOM-killed" : "", k->oom_killed ? reset : "");
    }
    if (r->n_ranks) {
        const mw_merge_rank *m = &r->ranks[r->max_index];
        rank_str(m->rank, rk, sizeof rk);
        fprintf(out, "  %-16s rank %s on %s: %s%s%s\n", "largest", rk, m->host, bold,
                mw_size_format(r->max_peak_bytes, a, sizeof a), reset);
        fprintf(out, "  %-16s %s\n", "median", mw_size_format(r->median_peak_bytes, a, sizeof a));
        if (r->imbalance >= 0) fprintf(out, "  %-16s %.2fx (largest / median)\n", "imbalance", r->imbalance);
        else fprintf(out, "  %-16s - (the median is 0)\n", "imbalance");
    }
    if (r->first_cap_index != SIZE_MAX) {
        const mw_merge_rank *f = &r->ranks[r->first_cap_index];
        rank_str(f->rank, rk, sizeof rk);
        utc_str(f->cap_hit_unix_seconds, a, sizeof a);
        fprintf(out, "  %-16s %srank %s on %s at %s%s%s\n", "first at cap", red, rk, f->host, a,
                f->oom_killed ? " (OOM-killed)" : "", reset);
    } else {
        fprintf(out, "  %-16s none\n", "first at cap");
    }
    return mw_report_end(out, "merge report", err);
}

static cJSON *rank_ref(const mw_merge_rank *k)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    mw_json_add_int_or_null(o, "rank", k->rank, k->rank != MW_RANK_NONE);
    cJSON_AddStringToObject(o, "host", k->host);
    cJSON_AddStringToObject(o, "file", k->file);
    return o;
}

mw_status mw_merge_report_json(const mw_merge_result *r, FILE *out, mw_err *err)
{
    mw_json_init();
    const uint64_t mark = mw_json_mark();
    cJSON *o = cJSON_CreateObject();
    if (o) {
        cJSON_AddStringToObject(o, "schema", "memwall.merge/1");
        cJSON_AddStringToObject(o, "memwall_version", MW_VERSION_STRING);
        cJSON_AddNumberToObject(o, "files", (double)r->n_files);
        cJSON_AddNumberToObject(o, "hosts", (double)r->n_hosts);
        cJSON *ranks = cJSON_AddArrayToObject(o, "ranks");
        for (size_t i = 0; ranks && i < r->n_ranks; i++) {
            const mw_merge_rank *k = &r->ranks[i];
            cJSON *e = rank_ref(k);
            if (!e) break;
            mw_json_add_u64(e, "peak_rss_bytes", k->peak_rss_bytes);
            mw_json_add_u64(e, "peak_gpu_bytes", k->peak_gpu_bytes);
            mw_json_add_u64(e, "limit_bytes", k->limit_bytes);
            mw_json_add_seconds(e, "cap_hit_unix_seconds", k->cap_hit_unix_seconds);
            cJSON_AddBoolToObject(e, "oom_killed", k->oom_killed);
            cJSON_AddNumberToObject(e, "status_code", k->status_code);
            cJSON_AddItemToArray(ranks, e);
        }
        if (r->n_ranks) {
            cJSON *m = rank_ref(&r->ranks[r->max_index]);
            if (m) {
                mw_json_add_u64(m, "peak_rss_bytes", r->max_peak_bytes);
                cJSON_AddItemToObject(o, "largest", m);
            }
            mw_json_add_u64(o, "median_peak_bytes", r->median_peak_bytes);
        } else {
            cJSON_AddNullToObject(o, "largest");
            cJSON_AddNullToObject(o, "median_peak_bytes");
        }
        if (r->imbalance >= 0) cJSON_AddNumberToObject(o, "imbalance", r->imbalance);
        else cJSON_AddNullToObject(o, "imbalance");
        if (r->first_cap_index != SIZE_MAX) {
            const mw_merge_rank *f = &r->ranks[r->first_cap_index];
            cJSON *fc = rank_ref(f);
            if (fc) {
                cJSON_AddNumberToObject(fc, "unix_seconds", f->cap_hit_unix_seconds);
                cJSON_AddBoolToObject(fc, "oom_killed", f->oom_killed);
                cJSON_AddItemToObject(o, "first_at_cap", fc);
            }
        } else {
            cJSON_AddNullToObject(o, "first_at_cap");
        }
    }
    return mw_json_write(o, out, 1, "merge report", mark, err);
}
