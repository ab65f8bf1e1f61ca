/*
 * fileio.h - small-file reads and writes for /proc, /sys and cgroupfs.
 *
 * Kernel pseudo-files are read whole with one read(2) into a caller buffer:
 * no stdio, no allocation, so the sampler's hot path costs one open, one read
 * and one close (or one pread on a kept descriptor).
 */
#ifndef MW_COMMON_FILEIO_H
#define MW_COMMON_FILEIO_H

#include "memwall.h"

/* Reads up to cap-1 bytes of path into buf and NUL-terminates it.
 * *out_len (optional) gets the length. Errors name the path. */
mw_status mw_read_text(const char *path, char *buf, size_t cap, size_t *out_len, mw_err *err);

/* Same, through an open descriptor at offset 0 (pread). -1 on error with errno. */
long mw_pread_text(int fd, char *buf, size_t cap);

/* Writes text to path (O_WRONLY|O_TRUNC, no create unless `create`).
 * Errors name the path and the value. */
mw_status mw_write_text(const char *path, const char *text, int create, mw_err *err);

/* Reads a file holding one unsigned decimal ("max" gives MW_UNLIMITED). */
mw_status mw_read_u64(const char *path, uint64_t *out, mw_err *err);

/* Finds "key<sep>value" at a line start in text and parses value as an
 * unsigned decimal. Returns 1 when found, 0 when not. The key must be the
 * whole field name ("oom_kill" does not match "oom_kill_disable"). */
int mw_text_field_u64(const char *text, const char *key, uint64_t *out);

#endif /* MW_COMMON_FILEIO_H */
