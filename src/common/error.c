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
