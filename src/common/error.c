/* error.c - status names and error message formatting. */
#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const status_names[MW_STATUS_COUNT] = {
    [MW_OK] = "ok",
    [MW_ERR_NOMEM] = "out of memory",
    [MW_ERR_INVALID] = "invalid",
    [MW_ERR_IO] = "i/o error",
    [MW_ERR_NOT_FOUND] = "not found",
    [MW_ERR_PERMISSION] = "permission",
    [MW_ERR_UNSUPPORTED] = "unsupported",
    [MW_ERR_UNAVAILABLE] = "unavailable",
    [MW_ERR_SPAWN] = "spawn",
    [MW_ERR_INTERNAL] = "internal",
};

const char *mw_status_name(mw_status status)
{
    if ((unsigned)status >= MW_STATUS_COUNT) return "unknown status";
    return status_names[status];
}

const char *mw_version(void) { return MW_VERSION_STRING; }

static mw_status err_vset(mw_err *err, mw_status status, int errnum,
                          const char *fmt, va_list ap)
{
    if (!err) return status;
    err->status = status;
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    if (errnum && n >= 0 && (size_t)n < sizeof err->msg)
        snprintf(err->msg + n, sizeof err->msg - (size_t)n, ": %s", strerror(errnum));
    return status;
}

mw_status mw_err_set(mw_err *err, mw_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset(err, status, 0, fmt, ap);
    va_end(ap);
    return status;
}

mw_status mw_err_errno(mw_err *err, mw_status status, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset(err, status, errnum, fmt, ap);
    va_end(ap);
    return status;
}

void mw_err_clear(mw_err *err)
{
    if (!err) return;
    err->status = MW_OK;
    err->msg[0] = '\0';
}

mw_status mw_status_from_errno(int errnum)
{
    switch (errnum) {
    case ENOENT: case ESRCH: case ENOTDIR: return MW_ERR_NOT_FOUND;
    case EACCES: case EPERM: case EROFS:   return MW_ERR_PERMISSION;
    case ENOMEM:                           return MW_ERR_NOMEM;
    case EINVAL:                           return MW_ERR_INVALID;
    case ENOSYS: case EOPNOTSUPP:          return MW_ERR_UNSUPPORTED;
    default:                               return MW_ERR_IO;
    }
}

/* The length of the well-formed UTF-8 character at s[0..n) with a code
 * point of U+00A0 or more (the C1 controls U+0080..U+009F are refused: some
 * terminals read U+009B as CSI), or 0. */
static size_t utf8_shown_len(const unsigned char *s, size_t n)
{
    size_t k = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
    if (k == 0 || k > n || s[0] > 0xf4) return 0;
    uint32_t cp = s[0] & (0x7f >> k);
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    static const uint32_t min[5] = {0, 0, 0xa0, 0x800, 0x10000};
    if (cp < min[k] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return k;
}

/* The bytes s[i..] shows as: k > 0 copied, 0 one '?'. */
static size_t piece(const unsigned char *u, size_t i, size_t len)
{
    if (u[i] >= 0x20 && u[i] < 0x7f) return 1;
    return u[i] >= 0x80 ? utf8_shown_len(u + i, len - i) : 0;
}

const char *mw_shown(const char *s, size_t len, char *buf, size_t cap)
{
    if (cap == 0) return buf;
    const unsigned char *u = (const unsigned char *)s;
    size_t shown_len = 0;
    for (size_t i = 0; i < len;) {
        size_t k = piece(u, i, len);
        shown_len += k ? k : 1;
        i += k ? k : 1;
    }
    int cut = shown_len > cap - 1;
    size_t limit = cut && cap >= 4 ? cap - 4 : cap - 1, out = 0;
    for (size_t i = 0; i < len;) {
        size_t k = piece(u, i, len), take = k ? k : 1;
        if (out + take > limit) break;
        if (k) memcpy(buf + out, u + i, k);
        else buf[out] = '?';
        out += take;
        i += take;
    }
    if (cut && cap >= 4) memcpy(buf + out, "...", 3), out += 3;
    buf[out] = '\0';
    return buf;
}

const char *mw_shown_str(const char *s, char *buf, size_t cap)
{
    return mw_shown(s, strlen(s), buf, cap);
}
