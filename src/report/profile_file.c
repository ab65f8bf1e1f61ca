/*
 * profile_file.c - this machine's profile on disk: the roofline's
 * "memwall.roofline/1" document with the machine's key and the date,
 * written whole through a temporary and read back as the ceilings plan,
 * run and sweep judge against (docs/ROOFLINE.md, "The machine profile").
 * It lives in the report layer because the file is the roofline's JSON
 * report, which only report builds; the key and the path are the roofline
 * layer's (roofline/profile.c).
 */
#include "memwall.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/json.h"
#include "report/roofline_doc.h"
#include "roofline/profile.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A profile is a few hundred KiB at most (the curve has ~60 points). */
#define PROFILE_MAX_BYTES (16ull << 20)

/* Makes the folders above path that do not exist yet, 0700 (a cache is
 * the user's own). */
static mw_status make_parent_dirs(const char *path, mw_err *err)
{
    char dir[512];
    MW_RETURN_IF(strlen(path) >= sizeof dir, err, MW_ERR_INVALID, "%s: the path is too long", path);
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) return MW_OK; /* the current folder, or / */
    *slash = '\0';
    for (char *p = dir + 1;; p++) {
        if (*p != '/' && *p != '\0') continue;
        char c = *p;
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            int e = errno;
            return mw_err_errno(err, mw_status_from_errno(e), e, "cannot make the folder %s for the machine profile",
                                dir);
        }
        *p = c;
        if (c == '\0') break;
    }
    return MW_OK;
}

/* Writes text to path through a temporary beside it: written, fsync'd,
 * renamed over path, so a reader sees the old profile or the new one. */
static mw_status write_replace(const char *path, const char *text, mw_err *err)
{
    int fd = -1;
    char *tmp = NULL;
    MW_FORWARD(mw_file_create_temp(path, &fd, &tmp, err));
    size_t len = strlen(text), done = 0;
    int e = 0;
    while (done < len) {
        ssize_t n = write(fd, text + done, len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) { e = errno; break; }
        done += (size_t)n;
    }
    if (!e && fsync(fd) != 0) e = errno;
    if (close(fd) != 0 && !e) e = errno;
    if (!e && rename(tmp, path) != 0) e = errno;
    if (e) {
        unlink(tmp);
        mw_status st = mw_err_errno(err, mw_status_from_errno(e), e, "cannot write the machine profile %s", path);
        mw_free(tmp);
        return st;
    }
    mw_free(tmp);
    /* the rename itself lasts once the folder is synced (best effort) */
    char dir[512];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        if (slash == dir) slash[1] = '\0';
        else *slash = '\0';
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
    }
    return MW_OK;
}

mw_status mw_profile_save(const mw_roofline_result *r, const mw_machine_key *k, mw_err *err)
{
    MW_RETURN_IF(!r || !k, err, MW_ERR_INVALID, "mw_profile_save: no result or no key");
    /* a profile stands for its ceilings: without them it would be read
     * back as damaged */
    MW_RETURN_IF(r->n_levels == 0 || !(r->levels[r->n_levels - 1].bw[MW_RL_READ][1].max > 0) ||
                     !(r->flops_f32[1].max > 0),
                 err, MW_ERR_INVALID,
                 "the measurement has no DRAM read bandwidth or no FP32 peak: it is not saved as this machine's "
                 "profile");
    char path[512];
    mw_status st = mw_profile_locate(k, path, sizeof path, NULL, err);
    if (st == MW_ERR_NOT_FOUND) { /* MEMWALL_PROFILE=none */
        mw_err_clear(err);
        return MW_OK;
    }
    MW_FORWARD(st);
    MW_FORWARD(make_parent_dirs(path, err));

    mw_json_init();
    const uint64_t mark = mw_json_mark();
    cJSON *doc = mw_roofline_json_doc(r);
    MW_RETURN_IF(!doc, err, MW_ERR_NOMEM, "out of memory writing the machine profile %s", path);
    cJSON *key = cJSON_AddObjectToObject(doc, "key");
    if (key) {
        cJSON_AddStringToObject(key, "cpu_model", k->cpu_model);
        cJSON_AddNumberToObject(key, "cpus", k->cpus);
        cJSON_AddNumberToObject(key, "memory_bytes", (double)k->memory_bytes);
        cJSON_AddStringToObject(key, "gpu", k->gpu);
    }
    time_t now = time(NULL);
    char when[32];
    mw_profile_time_text(now, when, sizeof when);
    cJSON_AddStringToObject(doc, "measured", when);
    cJSON_AddNumberToObject(doc, "measured_unix", (double)now);
    char *text = cJSON_Print(doc);
    cJSON_Delete(doc);
    if (!text || mw_json_mark() != mark) {
        cJSON_free(text);
        return mw_err_set(err, MW_ERR_NOMEM, "out of memory writing the machine profile %s", path);
    }
    st = write_replace(path, text, err);
    cJSON_free(text);
    return st;
}

/* ---- reading it back ----------------------------------------------------- */

/* "PATH: the machine profile is damaged: WHAT: run memwall roofline
 * --refresh to measure this machine again" */
static mw_status damaged(mw_err *err, const char *path, const char *fmt, ...) MW_PRINTF(3, 4);
static mw_status damaged(mw_err *err, const char *path, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return mw_err_set(err, MW_ERR_INVALID,
                      "%s: the machine profile is damaged: %s: run memwall roofline --refresh to measure this "
                      "machine again", path, what);
}

/* What a JSON value is, for "is a string, not a number". */
static const char *json_kind(const cJSON *v)
{
    if (!v) return "missing";
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsObject(v)) return "an object";
    return "not a value";
}

/* o[name], a number in [lo, hi] (lo_open: (lo, hi]); label names it in
 * messages. */
static mw_status get_number_at(const cJSON *o, const char *name, const char *label, double lo, double hi,
                               int lo_open, double *out, const char *path, mw_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!v) return damaged(err, path, "%s is missing", label);
    if (!cJSON_IsNumber(v)) return damaged(err, path, "%s is %s, not a number", label, json_kind(v));
    double x = v->valuedouble;
    if (!isfinite(x) || x > hi || (lo_open ? x <= lo : x < lo))
        return damaged(err, path, "%s is %g, not in %s%g, %g]", label, x, lo_open ? "(" : "[", lo, hi);
    *out = x;
    return MW_OK;
}

static mw_status get_number(const cJSON *o, const char *name, double lo, double hi, int lo_open, double *out,
                            const char *path, mw_err *err)
{
    char label[64];
    snprintf(label, sizeof label, "\"%s\"", name);
    return get_number_at(o, name, label, lo, hi, lo_open, out, path, err);
}

static mw_status get_string(const cJSON *o, const char *name, size_t cap, char *out, const char *path, mw_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!v) return damaged(err, path, "\"%s\" is missing", name);
    if (!cJSON_IsString(v) || !v->valuestring)
        return damaged(err, path, "\"%s\" is %s, not a string", name, json_kind(v));
    if (strlen(v->valuestring) >= cap) return damaged(err, path, "\"%s\" is longer than %zu bytes", name, cap - 1);
    snprintf(out, cap, "%s", v->valuestring);
    return MW_OK;
}

/* peaks.NAME.all_threads.best: null when not measured (no such
 * instructions), else a rate in (0, 1e18]. *out -1 when null. */
static mw_status get_peak(const cJSON *peaks, const char *name, double *out, int *noisy, const char *path, mw_err *err)
{
    *out = -1;
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(peaks, name);
    if (!cJSON_IsObject(p)) return damaged(err, path, "\"peaks\".\"%s\" is %s, not an object", name, json_kind(p));
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(p, "all_threads");
    if (cJSON_IsNull(a)) return MW_OK;
    if (!cJSON_IsObject(a))
        return damaged(err, path, "\"peaks\".\"%s\".\"all_threads\" is %s, not an object or null", name, json_kind(a));
    char label[96];
    snprintf(label, sizeof label, "\"peaks\".\"%s\".\"all_threads\".\"best\"", name);
    MW_FORWARD(get_number_at(a, "best", label, 0, 1e18, 1, out, path, err));
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(a, "noisy");
    if (noisy && cJSON_IsTrue(n)) *noisy = 1;
    return MW_OK;
}

/* Whether the DRAM level's all-threads read was flagged noisy. */
static int dram_noisy(const cJSON *doc)
{
    const cJSON *levels = cJSON_GetObjectItemCaseSensitive(doc, "levels");
    int n = cJSON_IsArray(levels) ? cJSON_GetArraySize(levels) : 0;
    if (n <= 0) return 0;
    const cJSON *read = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(levels, n - 1), "read");
    const cJSON *all = cJSON_GetObjectItemCaseSensitive(read, "all_threads");
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(all, "noisy"));
}

static mw_status parse_profile(const cJSON *doc, const mw_machine_key *k, int overridden, const char *path,
                               mw_ceilings *out, mw_err *err)
{
    if (!cJSON_IsObject(doc)) return damaged(err, path, "it holds %s, not a JSON object", json_kind(doc));
    char schema[64];
    MW_FORWARD(get_string(doc, "schema", sizeof schema, schema, path, err));
    if (strcmp(schema, "memwall.roofline/1") != 0) {
        char shown[80];
        return damaged(err, path, "its schema is \"%s\", not \"memwall.roofline/1\"",
                       mw_shown_str(schema, shown, sizeof shown));
    }
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(doc, "key");
    if (!cJSON_IsObject(key)) return damaged(err, path, "\"key\" is %s, not an object", json_kind(key));
    mw_machine_key fk;
    memset(&fk, 0, sizeof fk);
    double cpus, mem;
    MW_FORWARD(get_string(key, "cpu_model", sizeof fk.cpu_model, fk.cpu_model, path, err));
    MW_FORWARD(get_number(key, "cpus", 1, 1 << 20, 0, &cpus, path, err));
    MW_FORWARD(get_number(key, "memory_bytes", 0, 0x1p60, 1, &mem, path, err));
    MW_FORWARD(get_string(key, "gpu", sizeof fk.gpu, fk.gpu, path, err));
    fk.cpus = (uint32_t)cpus;
    fk.memory_bytes = (uint64_t)mem;
    char shown_model[sizeof fk.cpu_model], shown_gpu[sizeof fk.gpu];
    mw_shown_str(fk.cpu_model, shown_model, sizeof shown_model);
    mw_shown_str(fk.gpu, shown_gpu, sizeof shown_gpu);
    snprintf(fk.cpu_model, sizeof fk.cpu_model, "%s", shown_model);
    snprintf(fk.gpu, sizeof fk.gpu, "%s", shown_gpu);
    if (!overridden && k &&
        (strcmp(fk.cpu_model, k->cpu_model) != 0 || fk.cpus != k->cpus || fk.memory_bytes != k->memory_bytes ||
         strcmp(fk.gpu, k->gpu) != 0)) {
        char theirs[160], ours[160];
        mw_machine_key_describe(&fk, theirs, sizeof theirs);
        mw_machine_key_describe(k, ours, sizeof ours);
        return mw_err_set(err, MW_ERR_NOT_FOUND,
                          "%s holds another machine's profile (%s), not this one's (%s): run memwall roofline to "
                          "measure this one", path, theirs, ours);
    }
    double threads, unix_time;
    MW_FORWARD(get_number(doc, "threads", 1, 1 << 20, 0, &threads, path, err));
    MW_FORWARD(get_number(doc, "dram_read_bytes_per_second", 0, 1e15, 1, &out->dram_read_bytes_per_second, path,
                          err));
    MW_FORWARD(get_number(doc, "peak_flops_f32", 0, 1e18, 1, &out->peak_flops_f32, path, err));
    const cJSON *peaks = cJSON_GetObjectItemCaseSensitive(doc, "peaks");
    if (!cJSON_IsObject(peaks)) return damaged(err, path, "\"peaks\" is %s, not an object", json_kind(peaks));
    double f32;
    int noisy = dram_noisy(doc);
    MW_FORWARD(get_peak(peaks, "f32_fma", &f32, &noisy, path, err));
    MW_FORWARD(get_peak(peaks, "bf16_dot", &out->peak_flops_bf16, NULL, path, err));
    MW_FORWARD(get_peak(peaks, "int8_dot", &out->peak_ops_int8, NULL, path, err));
    char measured[sizeof out->measured];
    MW_FORWARD(get_string(doc, "measured", sizeof measured, measured, path, err));
    MW_FORWARD(get_number(doc, "measured_unix", 0, 1e12, 0, &unix_time, path, err));
    out->threads = (uint32_t)threads;
    out->noisy = noisy;
    /* issue #15: the disk_cold tier's read bandwidth, when the profile has
     * it (a profile measured with --no-tiers has none: unknown) */
    out->disk_read_bytes_per_second = -1;
    const cJSON *tiers = cJSON_GetObjectItemCaseSensitive(doc, "tiers");
    const cJSON *tier, *list = cJSON_IsArray(tiers) ? tiers : NULL;
    cJSON_ArrayForEach(tier, list) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(tier, "name");
        const cJSON *bw = cJSON_GetObjectItemCaseSensitive(tier, "bytes_per_second");
        if (cJSON_IsString(name) && !strcmp(name->valuestring, "disk_cold") && cJSON_IsNumber(bw) &&
            bw->valuedouble > 0 && bw->valuedouble < 1e15)
            out->disk_read_bytes_per_second = bw->valuedouble;
    }
    mw_shown_str(measured, out->measured, sizeof out->measured);
    snprintf(out->path, sizeof out->path, "%s", path);
    mw_machine_key_describe(&fk, out->machine, sizeof out->machine);
    return MW_OK;
}

mw_status mw_profile_load(const mw_machine_key *k, mw_ceilings *out, mw_err *err)
{
    MW_RETURN_IF(!out, err, MW_ERR_INVALID, "mw_profile_load: out is NULL");
    memset(out, 0, sizeof *out);
    out->dram_read_bytes_per_second = out->peak_flops_f32 = out->peak_flops_bf16 = out->peak_ops_int8 = -1;
    char path[512];
    int overridden = 0;
    MW_FORWARD(mw_profile_locate(k, path, sizeof path, &overridden, err));
    char *text = NULL;
    size_t len = 0;
    mw_status st = mw_file_read_all(path, PROFILE_MAX_BYTES, "a machine profile", &text, &len, err);
    if (st == MW_ERR_NOT_FOUND)
        return mw_err_set(err, MW_ERR_NOT_FOUND,
                          "no machine profile at %s: run memwall roofline to measure this machine", path);
    MW_FORWARD(st);
    mw_json_init();
    const uint64_t mark = mw_json_mark();
    cJSON *doc = cJSON_ParseWithLength(text, len);
    if (!doc) {
        size_t at = len;
        const char *ep = cJSON_GetErrorPtr();
        if (ep && ep >= text && ep <= text + len) at = (size_t)(ep - text);
        mw_free(text);
        if (mw_json_mark() != mark)
            return mw_err_set(err, MW_ERR_NOMEM, "out of memory reading the machine profile %s", path);
        return damaged(err, path, "not valid JSON (cut short or altered) at byte %zu of %zu", at, len);
    }
    mw_free(text);
    st = parse_profile(doc, k, overridden, path, out, err);
    cJSON_Delete(doc);
    if (st != MW_OK) {
        /* the figures of a damaged profile are not used */
        memset(out, 0, sizeof *out);
        out->dram_read_bytes_per_second = out->peak_flops_f32 = out->peak_flops_bf16 = out->peak_ops_int8 = -1;
    }
    return st;
}
