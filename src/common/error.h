/*
 * error.h - internal helpers for the status + message error model.
 *
 * Functions return an mw_status and fill an optional mw_err. These macros keep
 * the "check, say what and where, return" pattern to one line (after zstd's
 * lib/common/error_private.h):
 *
 *     MW_RETURN_IF(n > cap, err, MW_ERR_INVALID,
 *                  "%s: %zu processes exceed the table (%zu)", path, n, cap);
 *     MW_FORWARD(mw_read_text(path, buf, sizeof buf, NULL, err));
 */
#ifndef MW_COMMON_ERROR_H
#define MW_COMMON_ERROR_H

#include "memwall.h"

#if defined(__GNUC__)
#define MW_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define MW_PRINTF(f, a)
#endif

/* Sets err (when non-NULL) and returns status. */
mw_status mw_err_set(mw_err *err, mw_status status, const char *fmt, ...) MW_PRINTF(3, 4);

/* Like mw_err_set, appending ": strerror(errnum)". */
mw_status mw_err_errno(mw_err *err, mw_status status, int errnum, const char *fmt, ...) MW_PRINTF(4, 5);

/* MW_OK and an empty message. */
void mw_err_clear(mw_err *err);

/* The status that best describes an errno value from open/read/write/mkdir. */
mw_status mw_status_from_errno(int errnum);

/*! mw_shown() : a string from a file (a tensor name, a dtype, a metadata
 *  value), fit for a terminal or a message. s[0..len) need not end in a NUL.
 *  Printable ASCII and well-formed UTF-8 (U+00A0 and up) are copied; every
 *  other byte (controls such as ESC and BEL, DEL, C1 controls, malformed
 *  UTF-8) becomes '?', so a model file cannot send escape codes. Cut to fit
 *  buf[cap] with "..." at the end, never inside a character.
 *  @return buf (always NUL-terminated when cap > 0) */
const char *mw_shown(const char *s, size_t len, char *buf, size_t cap);

/* mw_shown of a NUL-terminated string. */
const char *mw_shown_str(const char *s, char *buf, size_t cap);

#define MW_RETURN_IF(cond, err, status, ...)                 \
    do {                                                     \
        if (cond) return mw_err_set((err), (status), __VA_ARGS__); \
    } while (0)

#define MW_FORWARD(expr)                                     \
    do {                                                     \
        mw_status mw_fwd_status_ = (expr);                   \
        if (mw_fwd_status_ != MW_OK) return mw_fwd_status_;  \
    } while (0)

#define MW_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif /* MW_COMMON_ERROR_H */
