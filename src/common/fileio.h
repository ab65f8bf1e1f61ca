/*
 * fileio.h - small-file reads and writes for /proc, /sys and cgroupfs.
 *
 * Kernel pseudo-files are read whole with one read(2) into a caller buffer:
 * no stdio, no allocation, so the sampler's hot path costs one open, one read
 * and one close (or one pread on a kept descriptor).
 *
 * Files that come from users (model files, config.json, index files, a
 * sweep's JSON Lines) are opened through mw_file_open_regular and the two
 * helpers over it: a named pipe or a device given where a file belongs is
 * refused with one message before anything can block on it.
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

/* What a file of this st_mode is, for "PATH is X, not a regular file":
 * "a FIFO (named pipe)", "a directory", "a character device", ... */
const char *mw_file_kind(unsigned mode);

/*! mw_file_open_regular() : opens path read-only (close-on-exec) when it is
 *  a regular file. The open is non-blocking, so a FIFO with no writer cannot
 *  block it, and fstat decides before any read; the descriptor is made
 *  blocking again. Errors name the path: "PATH: cannot open: <strerror>",
 *  "PATH is a FIFO (named pipe), not a regular file".
 *  @return MW_OK with *fd (the caller closes it) and *size in bytes */
mw_status mw_file_open_regular(const char *path, int *fd, uint64_t *size, mw_err *err);

/* A regular file mapped read-only, whole. An empty file has addr NULL and
 * len 0 (mmap refuses length 0: the format's parser reports the file). */
typedef struct mw_file_map {
    void *addr;
    size_t len;
} mw_file_map;

/*! mw_file_map_open() : maps path (a regular file) read-only, private.
 *  @return MW_OK with *map set; release it with mw_file_map_close */
mw_status mw_file_map_open(const char *path, mw_file_map *map, mw_err *err);

/* Unmaps; a zeroed or closed map is a no-op. */
void mw_file_map_close(mw_file_map *map);

/*! mw_file_read_all() : reads path (a regular file of at most max bytes)
 *  into a NUL-terminated buffer. A larger file is refused: "PATH: N bytes is
 *  too big for <what> (at most M MiB): is this the right file?".
 *  @return MW_OK with *out (mw_free it) and *out_len */
mw_status mw_file_read_all(const char *path, uint64_t max, const char *what, char **out,
                           size_t *out_len, mw_err *err);

/*! mw_file_create_temp() : a new file beside path for the writer to rename
 *  over it: "PATH.tmp.<hex>", made with O_CREAT|O_EXCL|O_NOFOLLOW (mode 0666
 *  less the umask), so a name planted there (a link) is never opened
 *  through; another name is tried.
 *  @return MW_OK with *fd_out (write-only, close-on-exec) and *tmp_out (mw_free it) */
mw_status mw_file_create_temp(const char *path, int *fd_out, char **tmp_out, mw_err *err);

/* The names in dir (not hidden ones) ending in suffix, case aside ("" for
 * all): "a, b, c" into names (cut to cap), their count in *n (0 when dir
 * cannot be read). With *n == 1, names is that one name. */
void mw_dir_list_suffix(const char *dir, const char *suffix, char *names, size_t cap, int *n);

#endif /* MW_COMMON_FILEIO_H */
