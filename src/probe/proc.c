/* proc.c - /proc/PID/{status,stat,smaps_rollup,task/TID/children}. */
#include "proc.h"
#include "common/error.h"
#include "common/fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Status files are ~1.5 KiB; smaps_rollup ~ 1 KiB. */
#define STATUS_CAP 4096

static int field_kb(const char *text, const char *key, uint64_t *out)
{
    uint64_t kb;
    if (!mw_text_field_u64(text, key, &kb)) {
        *out = MW_UNKNOWN;
        return 0;
    }
    *out = kb * 1024;
    return 1;
}

int mw_proc_parse_status(const char *text, mw_proc_status *st)
{
    uint64_t v;
    st->ppid = mw_text_field_u64(text, "PPid", &v) ? (int32_t)v : -1;
    st->threads = mw_text_field_u64(text, "Threads", &v) ? (uint32_t)v : 0;
    int has_mm = field_kb(text, "VmRSS", &st->rss_bytes);
    field_kb(text, "VmHWM", &st->hwm_bytes);
    field_kb(text, "RssAnon", &st->anon_bytes);
    field_kb(text, "RssFile", &st->file_bytes);
    field_kb(text, "RssShmem", &st->shmem_bytes);
    field_kb(text, "VmSwap", &st->swap_bytes);
    return has_mm;
}

int mw_proc_parse_stat(const char *text, mw_proc_stat *st, char *comm, size_t comm_cap)
{
    const char *open = strchr(text, '(');
    const char *close = strrchr(text, ')');
    if (!open || !close || close < open || close[1] != ' ') return 0;
    if (comm && comm_cap) {
        size_t n = (size_t)(close - open - 1);
        if (n >= comm_cap) n = comm_cap - 1;
        memcpy(comm, open + 1, n);
        comm[n] = '\0';
    }
    /* Fields from 3 (state) on, after ") ". */
    const char *p = close + 2;
    st->state = *p;
    unsigned long long f[23] = {0}; /* f[i] = field i+3 .. */
    int i = 0;
    p++;
    while (*p && i < 20) {
        while (*p == ' ') p++;
        char *end;
        long long x = strtoll(p, &end, 10);
        if (end == p) return 0;
        f[i++] = (unsigned long long)x;
        p = end;
    }
    if (i < 20) return 0;
    /* f[0] = field 4 (ppid); field k is f[k-4]. */
    st->ppid = (int32_t)f[0];
    st->minor_faults = f[10 - 4];
    st->major_faults = f[12 - 4];
    st->utime_ticks = f[14 - 4];
    st->stime_ticks = f[15 - 4];
    st->threads = (uint32_t)f[20 - 4];
    st->start_ticks = f[22 - 4];
    return 1;
}

int mw_proc_parse_smaps_rollup(const char *text, uint64_t *pss_bytes)
{
    return field_kb(text, "Pss", pss_bytes);
}

static void parse_children(const char *buf, pid_t *out, size_t cap, size_t *n)
{
    for (const char *p = buf; *p;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p) break;
        if (*n < cap) out[*n] = (pid_t)v;
        (*n)++;
        p = end;
    }
}

static int read_children_file(const char *path, pid_t *out, size_t cap, size_t *n)
{
    char buf[4096];
    if (mw_read_text(path, buf, sizeof buf, NULL, NULL) != MW_OK) return -1;
    parse_children(buf, out, cap, n);
    return 0;
}

int mw_proc_read_children(const mw_proc_files *f, pid_t pid, uint32_t threads,
                          pid_t *out, size_t cap, size_t *n)
{
    if (threads > 1 || f->children_fd < 0) return mw_proc_children(pid, threads, out, cap, n);
    char buf[4096];
    if (mw_pread_text(f->children_fd, buf, sizeof buf) < 0) return -1;
    parse_children(buf, out, cap, n);
    return 0;
}

int mw_proc_children(pid_t pid, uint32_t threads, pid_t *out, size_t cap, size_t *n)
{
    char path[64];
    if (threads <= 1) {
        snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
        return read_children_file(path, out, cap, n);
    }
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d) return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        char cpath[320];
        snprintf(cpath, sizeof cpath, "/proc/%d/task/%s/children", (int)pid, e->d_name);
        read_children_file(cpath, out, cap, n); /* a thread may exit meanwhile */
    }
    closedir(d);
    return 0;
}

static int open_proc_file(pid_t pid, const char *name)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/%.64s", (int)pid, name);
    return open(path, O_RDONLY | O_CLOEXEC);
}

mw_status mw_proc_files_open(pid_t pid, int pss, mw_proc_files *f, mw_err *err)
{
    f->status_fd = open_proc_file(pid, "status");
    f->stat_fd = f->status_fd >= 0 ? open_proc_file(pid, "stat") : -1;
    f->smaps_fd = -1;
    f->children_fd = -1;
    if (f->status_fd < 0 || f->stat_fd < 0) {
        int e = errno;
        mw_proc_files_close(f);
        return mw_err_errno(err, mw_status_from_errno(e), e, "cannot open /proc/%d", (int)pid);
    }
    if (pss) f->smaps_fd = open_proc_file(pid, "smaps_rollup"); /* optional (4.14+) */
    char path[64];
    snprintf(path, sizeof path, "task/%d/children", (int)pid); /* CONFIG_PROC_CHILDREN */
    f->children_fd = open_proc_file(pid, path);
    return MW_OK;
}

void mw_proc_files_close(mw_proc_files *f)
{
    if (f->status_fd >= 0) close(f->status_fd);
    if (f->stat_fd >= 0) close(f->stat_fd);
    if (f->smaps_fd >= 0) close(f->smaps_fd);
    if (f->children_fd >= 0) close(f->children_fd);
    f->status_fd = f->stat_fd = f->smaps_fd = f->children_fd = -1;
}

int mw_proc_read(const mw_proc_files *f, mw_proc_reading *r)
{
    char buf[STATUS_CAP];
    r->ok_status = r->ok_stat = 0;
    r->pss_bytes = MW_UNKNOWN;
    if (mw_pread_text(f->stat_fd, buf, sizeof buf) < 0) return -1;
    r->ok_stat = mw_proc_parse_stat(buf, &r->stat, NULL, 0);
    if (mw_pread_text(f->status_fd, buf, sizeof buf) < 0) return -1;
    r->ok_status = mw_proc_parse_status(buf, &r->status);
    if (r->ok_status && f->smaps_fd >= 0 && mw_pread_text(f->smaps_fd, buf, sizeof buf) >= 0)
        mw_proc_parse_smaps_rollup(buf, &r->pss_bytes);
    return 0;
}

/* The calling process's status, or 0 when it cannot be read. */
static int read_self_status(mw_proc_status *st)
{
    char buf[STATUS_CAP];
    return mw_read_text("/proc/self/status", buf, sizeof buf, NULL, NULL) == MW_OK &&
           mw_proc_parse_status(buf, st);
}

uint64_t mw_proc_self_hwm_bytes(void)
{
    mw_proc_status st;
    return read_self_status(&st) && st.hwm_bytes != MW_UNKNOWN ? st.hwm_bytes : 0;
}

uint64_t mw_proc_self_rss_bytes(void)
{
    mw_proc_status st;
    return read_self_status(&st) && st.rss_bytes != MW_UNKNOWN ? st.rss_bytes : 0;
}
