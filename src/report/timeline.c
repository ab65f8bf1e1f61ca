/*
 * timeline.c - every sample, as it is taken, to CSV or JSON Lines.
 *
 * Each line is formatted into a stack buffer and written with one write(2)
 * on an O_APPEND descriptor: no stdio buffer to lose, so a watcher killed by
 * SIGKILL leaves a file that is complete up to its last sample.
 */
#include "memwall.h"
#include "common/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

struct mw_timeline {
    int fd;
    mw_timeline_format format;
};

static const char csv_header[] =
    "t_seconds,processes,rss_bytes,rss_anon_bytes,rss_file_bytes,rss_shmem_bytes,"
    "swap_bytes,pss_bytes,minor_faults,major_faults,cgroup_bytes,gpu_bytes,"
    "gpu_device_used_bytes,psi_some_seconds,psi_full_seconds\n";

mw_timeline_format mw_timeline_format_for_path(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot && (!strcasecmp(dot, ".jsonl") || !strcasecmp(dot, ".json") ||
                !strcasecmp(dot, ".ndjson")))
        return MW_TIMELINE_JSONL;
    return MW_TIMELINE_CSV;
}

static mw_status write_all(int fd, const char *buf, size_t len, mw_err *err)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return mw_err_errno(err, MW_ERR_IO, errno, "cannot write the timeline");
        buf += n;
        len -= (size_t)n;
    }
    return MW_OK;
}

mw_status mw_timeline_open(const char *path, mw_timeline_format format,
                           mw_timeline **out, mw_err *err)
{
    *out = NULL;
    MW_RETURN_IF(!path || !*path || !strcmp(path, "-"), err, MW_ERR_INVALID,
                 "--timeline needs a file name (standard output carries the summary)");
    mw_timeline *tl = mw_malloc(sizeof *tl, MW_MEM_REPORT);
    MW_RETURN_IF(!tl, err, MW_ERR_NOMEM, "out of memory opening the timeline");
    tl->format = format;
    tl->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (tl->fd < 0) {
        int e = errno;
        mw_free(tl);
        return mw_err_errno(err, mw_status_from_errno(e), e, "cannot create timeline file %s", path);
    }
    if (format == MW_TIMELINE_CSV) {
        mw_status st = write_all(tl->fd, csv_header, sizeof csv_header - 1, err);
        if (st != MW_OK) {
            mw_timeline_close(tl);
            return st;
        }
    }
    *out = tl;
    return MW_OK;
}

/* Appends one value: an integer, or empty (CSV) / null (JSON) when unknown. */
static int put_u64(char *buf, size_t cap, size_t pos, const char *key, uint64_t v, int json)
{
    if (pos >= cap) return (int)pos;
    const char *sep = json ? (pos > 1 ? "," : "") : (pos > 0 ? "," : "");
    int n;
    if (json)
        n = v == MW_UNKNOWN ? snprintf(buf + pos, cap - pos, "%s\"%s\":null", sep, key)
                            : snprintf(buf + pos, cap - pos, "%s\"%s\":%llu", sep, key,
                                       (unsigned long long)v);
    else
        n = v == MW_UNKNOWN ? snprintf(buf + pos, cap - pos, "%s", sep)
                            : snprintf(buf + pos, cap - pos, "%s%llu", sep, (unsigned long long)v);
    return (int)pos + (n > 0 ? n : 0);
}

static int put_f(char *buf, size_t cap, size_t pos, const char *key, double v, int known, int json)
{
    if (pos >= cap) return (int)pos;
    const char *sep = json ? (pos > 1 ? "," : "") : (pos > 0 ? "," : "");
    int n;
    if (json)
        n = !known ? snprintf(buf + pos, cap - pos, "%s\"%s\":null", sep, key)
                   : snprintf(buf + pos, cap - pos, "%s\"%s\":%.6f", sep, key, v);
    else
        n = !known ? snprintf(buf + pos, cap - pos, "%s", sep)
                   : snprintf(buf + pos, cap - pos, "%s%.6f", sep, v);
    return (int)pos + (n > 0 ? n : 0);
}

mw_status mw_timeline_write(mw_timeline *tl, const mw_sample *s, mw_err *err)
{
    char buf[1024];
    int json = tl->format == MW_TIMELINE_JSONL;
    size_t p = 0;
    if (json) buf[p++] = '{';
    p = (size_t)put_f(buf, sizeof buf, p, "t_seconds", s->t_seconds, 1, json);
    p = (size_t)put_u64(buf, sizeof buf, p, "processes", s->processes, json);
    p = (size_t)put_u64(buf, sizeof buf, p, "rss_bytes", s->rss_bytes, json);
    p = (size_t)put_u64(buf, sizeof buf, p, "rss_anon_bytes", s->rss_anon_bytes, json);
    p = (size_t)put_u64(buf, sizeof buf, p, "rss_file_bytes", s->rss_file_bytes, json);
    p = (size_t)put_u64(buf, sizeof buf, p, "rss_shmem_bytes", s->rss_shmem_bytes, json);
    p = (size_t)put_u64(buf, sizeof buf, p, "swap_bytes", s->swap_bytes, json);
    p = (size_t)put_u64(buf, sizeof buf, p, "pss_bytes", s->pss_bytes, json);
    p = (size_t)put_u64(buf, sizeof buf, p, "minor_faults", s->minor_faults, json);
    p = (size_t)put_u64(buf, sizeof buf, p, "major_faults", s->major_faults, json);
    p = (size_t)put_u64(buf, sizeof buf, p, "cgroup_bytes", s->cgroup_bytes, json);
    p = (size_t)put_u64(buf, sizeof buf, p, "gpu_bytes", s->gpu_bytes, json);
    p = (size_t)put_u64(buf, sizeof buf, p, "gpu_device_used_bytes", s->gpu_device_used_bytes, json);
    p = (size_t)put_f(buf, sizeof buf, p, "psi_some_seconds", s->psi_some_seconds,
                      s->psi_some_seconds >= 0, json);
    p = (size_t)put_f(buf, sizeof buf, p, "psi_full_seconds", s->psi_full_seconds,
                      s->psi_full_seconds >= 0, json);
    if (p + 3 > sizeof buf) return mw_err_set(err, MW_ERR_INTERNAL, "timeline line too long");
    if (json) buf[p++] = '}';
    buf[p++] = '\n';
    return write_all(tl->fd, buf, p, err);
}

void mw_timeline_close(mw_timeline *tl)
{
    if (!tl) return;
    if (tl->fd >= 0) close(tl->fd);
    mw_free(tl);
}
