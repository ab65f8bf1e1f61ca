/* fileio.c - one-shot reads and writes of kernel pseudo-files, and the
 * opening of files users give (regular files only). */
#include "fileio.h"
#include "error.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

long mw_pread_text(int fd, char *buf, size_t cap)
{
    if (cap == 0) { errno = EINVAL; return -1; }
    size_t len = 0;
    /* A pseudo-file arrives whole in one read when the buffer can hold it,
     * so a short read is the end: no second read just to see EOF (the
     * sampler reads two files per process per sample). */
    for (;;) {
        size_t want = cap - 1 - len;
        ssize_t n = pread(fd, buf + len, want, (off_t)len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        len += (size_t)n;
        if (n == 0 || (size_t)n < want || len == cap - 1) break;
    }
    buf[len] = '\0';
    return (long)len;
}

mw_status mw_read_text(const char *path, char *buf, size_t cap, size_t *out_len, mw_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mw_err_errno(err, mw_status_from_errno(errno), errno, "cannot open %s", path);
    long n = mw_pread_text(fd, buf, cap);
    int saved = errno;
    close(fd);
    if (n < 0)
        return mw_err_errno(err, mw_status_from_errno(saved), saved, "cannot read %s", path);
    if (out_len) *out_len = (size_t)n;
    return MW_OK;
}

mw_status mw_write_text(const char *path, const char *text, int create, mw_err *err)
{
    int flags = O_WRONLY | O_CLOEXEC | (create ? O_CREAT | O_TRUNC : 0);
    int fd = open(path, flags, 0644);
    if (fd < 0)
        return mw_err_errno(err, mw_status_from_errno(errno), errno, "cannot open %s for writing", path);
    size_t len = strlen(text);
    ssize_t n;
    do n = write(fd, text, len); while (n < 0 && errno == EINTR);
    int saved = errno;
    close(fd);
    if (n < 0)
        return mw_err_errno(err, mw_status_from_errno(saved), saved,
                            "cannot write \"%s\" to %s", text, path);
    if ((size_t)n != len)
        return mw_err_set(err, MW_ERR_IO, "short write of \"%s\" to %s", text, path);
    return MW_OK;
}

mw_status mw_read_u64(const char *path, uint64_t *out, mw_err *err)
{
    char buf[64];
    MW_FORWARD(mw_read_text(path, buf, sizeof buf, NULL, err));
    if (strncmp(buf, "max", 3) == 0) { *out = MW_UNLIMITED; return MW_OK; }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    MW_RETURN_IF(end == buf || errno, err, MW_ERR_INVALID,
                 "%s: expected a number, found \"%.20s\"", path, buf);
    *out = (uint64_t)v;
    return MW_OK;
}

int mw_text_field_u64(const char *text, const char *key, uint64_t *out)
{
    size_t klen = strlen(key);
    for (const char *p = text; p && *p; ) {
        if (strncmp(p, key, klen) == 0) {
            const char *v = p + klen;
            /* the key must end here: separator is ':', ' ' or '\t' */
            if (*v == ':' || *v == ' ' || *v == '\t' || *v == '=') {
                while (*v == ':' || *v == ' ' || *v == '\t' || *v == '=') v++;
                char *end;
                unsigned long long x = strtoull(v, &end, 10);
                if (end != v) { *out = (uint64_t)x; return 1; }
                return 0;
            }
        }
        p = strchr(p, '\n');
        if (p) p++;
    }
    return 0;
}

/* ---- files users give -------------------------------------------------------- */

const char *mw_file_kind(unsigned mode)
{
    switch (mode & S_IFMT) {
    case S_IFREG: return "a regular file";
    case S_IFDIR: return "a directory";
    case S_IFIFO: return "a FIFO (named pipe)";
    case S_IFCHR: return "a character device";
    case S_IFBLK: return "a block device";
    case S_IFSOCK: return "a socket";
    case S_IFLNK: return "a symbolic link";
    }
    return "not a file";
}

mw_status mw_file_open_regular(const char *path, int *fd_out, uint64_t *size, mw_err *err)
{
    *fd_out = -1;
    /* O_NONBLOCK: opening a FIFO for reading blocks until a writer comes */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return mw_err_errno(err, mw_status_from_errno(errno), errno, "%s: cannot open", path);
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return mw_err_errno(err, mw_status_from_errno(e), e, "%s: cannot stat", path);
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return mw_err_set(err, MW_ERR_INVALID, "%s is %s, not a regular file: give the file itself",
                          path, mw_file_kind((unsigned)sb.st_mode));
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
        int e = errno;
        close(fd);
        return mw_err_errno(err, MW_ERR_IO, e, "%s: cannot open", path);
    }
    *fd_out = fd;
    *size = (uint64_t)sb.st_size;
    return MW_OK;
}

mw_status mw_file_map_open(const char *path, mw_file_map *map, mw_err *err)
{
    map->addr = NULL;
    map->len = 0;
    int fd;
    uint64_t size;
    MW_FORWARD(mw_file_open_regular(path, &fd, &size, err));
    if (size > SIZE_MAX) {
        close(fd);
        return mw_err_set(err, MW_ERR_UNSUPPORTED, "%s: %llu bytes, too large to map here", path,
                          (unsigned long long)size);
    }
    if (size > 0) {
        void *a = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (a == MAP_FAILED) {
            int e = errno;
            close(fd);
            return mw_err_errno(err, e == ENOMEM ? MW_ERR_NOMEM : MW_ERR_IO, e,
                                "%s: cannot map %llu bytes", path, (unsigned long long)size);
        }
        map->addr = a;
        map->len = (size_t)size;
    }
    close(fd); /* the mapping holds the file */
    return MW_OK;
}

void mw_file_map_close(mw_file_map *map)
{
    if (map->addr) munmap(map->addr, map->len);
    map->addr = NULL;
    map->len = 0;
}

mw_status mw_file_read_all(const char *path, uint64_t max, const char *what, char **out,
                           size_t *out_len, mw_err *err)
{
    *out = NULL;
    *out_len = 0;
    int fd;
    uint64_t size;
    MW_FORWARD(mw_file_open_regular(path, &fd, &size, err));
    if (size > max || size >= SIZE_MAX) {
        close(fd);
        return mw_err_set(err, MW_ERR_INVALID,
                          "%s: %llu bytes is too big for %s (at most %llu MiB): is this the "
                          "right file?",
                          path, (unsigned long long)size, what, (unsigned long long)(max >> 20));
    }
    char *buf = mw_malloc((size_t)size + 1, MW_MEM_OTHER);
    if (!buf) {
        close(fd);
        return mw_err_set(err, MW_ERR_NOMEM, "%s: out of memory reading %llu bytes", path,
                          (unsigned long long)size);
    }
    size_t len = 0;
    while (len < size) { /* a file that grew meanwhile is read as it was */
        ssize_t r = read(fd, buf + len, (size_t)size - len);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            mw_free(buf);
            return mw_err_errno(err, mw_status_from_errno(e), e, "%s: cannot read", path);
        }
        if (r == 0) break; /* shrank meanwhile: what is there */
        len += (size_t)r;
    }
    close(fd);
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return MW_OK;
}

/* Creates a new file beside path for the writer to rename over it:
 * "PATH.tmp.<hex>", made with O_CREAT|O_EXCL|O_NOFOLLOW. A name someone
 * planted there (a link to a file of root's, say) is never opened through:
 * O_EXCL fails on any existing name, links included, and another name is
 * tried. @return MW_OK with *fd_out and *tmp_out (mw_free it) */
mw_status mw_file_create_temp(const char *path, int *fd_out, char **tmp_out, mw_err *err)
{
    static _Atomic unsigned counter;
    size_t plen = strlen(path), cap = plen + 32;
    char *tmp = mw_malloc(cap, MW_MEM_OTHER);
    MW_RETURN_IF(!tmp, err, MW_ERR_NOMEM, "%s: out of memory", path);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t seed = (uint64_t)getpid() << 32 ^ (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 20;
    int e = EEXIST;
    for (unsigned tries = 0; tries < 100 && e == EEXIST; tries++) {
        /* splitmix64 over the seed and a counter: names an attacker cannot
         * list in advance, and distinct for threads of one process */
        uint64_t x = seed + 0x9e3779b97f4a7c15ull * (uint64_t)(atomic_fetch_add(&counter, 1) + 1);
        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
        x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
        x ^= x >> 31;
        snprintf(tmp, cap, "%s.tmp.%012llx", path, (unsigned long long)(x & 0xffffffffffffull));
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd >= 0) {
            *fd_out = fd;
            *tmp_out = tmp;
            return MW_OK;
        }
        e = errno;
    }
    mw_status st = mw_err_errno(err, mw_status_from_errno(e), e,
                                "%s: cannot create a temporary file beside it (%s)", path, tmp);
    mw_free(tmp);
    return st;
}

void mw_dir_list_suffix(const char *dir, const char *suffix, char *names, size_t cap, int *n)
{
    names[0] = '\0';
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return;
    size_t len = 0, sl = strlen(suffix);
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t el = strlen(e->d_name);
        if (e->d_name[0] == '.' || el < sl || strcasecmp(e->d_name + el - sl, suffix) != 0) continue;
        (*n)++;
        if (len + 2 < cap) {
            int k = snprintf(names + len, cap - len, "%s%s", len ? ", " : "", e->d_name);
            if (k > 0) len = (size_t)k + len < cap ? len + (size_t)k : cap - 1;
        }
    }
    closedir(d);
}
