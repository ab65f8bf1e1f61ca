/*
 * pagecache.c - how much of a file the page cache holds, and dropping it.
 *
 * Why a sweep needs this: a memory cgroup is charged for a page-cache page
 * by the cgroup that first read it, not by every process that maps it. A
 * model file read before a point (by an earlier point, by the user, by
 * `inspect`) is therefore charged elsewhere, and the point's cap neither
 * counts nor bounds its weights (docs/SWEEP.md, "File-backed weights").
 * Dropping the file's cached pages before each run makes the point's own
 * cgroup pay for every page it maps.
 *
 * Traps:
 *   - POSIX_FADV_DONTNEED drops only clean pages that no process maps (a
 *     file just written is dirty: synced first); what stays is measured
 *     (mincore) and reported, never assumed gone;
 *   - mincore() of a file mapping reports the page cache, whoever maps it,
 *     without faulting anything in (the mapping is never touched);
 *   - a FIFO or device would block or mean nothing: regular files only.
 */
#include "probe/pagecache.h"
#include "common/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* mincore's vector is one byte a page: 64 Ki pages (256 MiB of 4 KiB pages)
 * a call keeps it at 64 KiB on the stack. */
#define MINCORE_CHUNK_PAGES 65536

static mw_status open_regular(const char *path, int *fd, uint64_t *size, mw_err *err)
{
    /* O_NONBLOCK: a FIFO planted at the path must not block the open */
    *fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (*fd < 0) return mw_err_errno(err, errno == ENOENT ? MW_ERR_NOT_FOUND : MW_ERR_IO, errno, "cannot open %s", path);
    struct stat st;
    if (fstat(*fd, &st) != 0) {
        int e = errno;
        close(*fd);
        return mw_err_errno(err, MW_ERR_IO, e, "cannot stat %s", path);
    }
    if (!S_ISREG(st.st_mode)) {
        close(*fd);
        return mw_err_set(err, MW_ERR_INVALID, "%s is not a regular file: only a file's pages can be cached", path);
    }
    *size = (uint64_t)st.st_size;
    return MW_OK;
}

/* Resident bytes of an open file of `size` bytes (whole pages; the last one
 * counted as what remains of the file). */
static mw_status resident_of(int fd, uint64_t size, const char *path, uint64_t *resident, mw_err *err)
{
    *resident = 0;
    if (size == 0) return MW_OK;
    const uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    MW_RETURN_IF(size > (uint64_t)SIZE_MAX, err, MW_ERR_INVALID, "%s: too large to map", path);
    void *map = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) return mw_err_errno(err, MW_ERR_IO, errno, "cannot map %s", path);
    unsigned char vec[MINCORE_CHUNK_PAGES];
    uint64_t pages = (size + page - 1) / page, got = 0;
    mw_status st = MW_OK;
    for (uint64_t first = 0; first < pages; first += MINCORE_CHUNK_PAGES) {
        uint64_t n = pages - first < MINCORE_CHUNK_PAGES ? pages - first : MINCORE_CHUNK_PAGES;
        if (mincore((char *)map + first * page, (size_t)(n * page), vec) != 0) {
            st = mw_err_errno(err, MW_ERR_IO, errno, "cannot read the page-cache state of %s", path);
            break;
        }
        for (uint64_t i = 0; i < n; i++)
            if (vec[i] & 1) got += first + i + 1 == pages ? size - (pages - 1) * page : page;
    }
    munmap(map, (size_t)size);
    *resident = got;
    return st;
}

mw_status mw_pagecache_resident(const char *path, uint64_t *resident_bytes, uint64_t *size_bytes, mw_err *err)
{
    int fd;
    uint64_t size;
    MW_FORWARD(open_regular(path, &fd, &size, err));
    mw_status st = resident_of(fd, size, path, resident_bytes, err);
    if (size_bytes) *size_bytes = size;
    close(fd);
    return st;
}

mw_status mw_pagecache_evict(const char *path, uint64_t *left_bytes, mw_err *err)
{
    int fd;
    uint64_t size;
    MW_FORWARD(open_regular(path, &fd, &size, err));
    /* Dirty pages (a model just written) are not dropped, only queued for
     * writeback: write them first. fdatasync works on a read-only descriptor. */
    (void)fdatasync(fd);
    int rc = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED); /* returns the error, not errno */
    mw_status st = rc == 0 ? MW_OK : mw_err_errno(err, MW_ERR_IO, rc, "cannot drop %s from the page cache", path);
    uint64_t left = 0;
    if (st == MW_OK) st = resident_of(fd, size, path, &left, err);
    if (left_bytes) *left_bytes = left;
    close(fd);
    return st;
}
