/* fileio.c - one-shot reads and writes of kernel pseudo-files. */
#include "fileio.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
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
