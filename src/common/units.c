/* units.c - sizes ("1.5GiB") and durations ("100ms") as the CLI takes them. */
#include "error.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The largest size and duration the parsers take (memwall.h). */
#define MW_SIZE_MAX_BYTES 1152921504606846976.0 /* 2^60 */
#define MW_DURATION_MAX_SECONDS (7 * 24 * 3600.0)

typedef struct unit { const char *suffix; double factor; } unit;

/* Longest suffixes first is not needed: matching is on the whole rest. */
static const unit size_units[] = {
    {"", 1}, {"B", 1},
    {"K", 1024.0}, {"KB", 1000.0}, {"KiB", 1024.0}, {"k", 1024.0}, {"kB", 1000.0}, {"kiB", 1024.0},
    {"M", 1048576.0}, {"MB", 1e6}, {"MiB", 1048576.0},
    {"G", 1073741824.0}, {"GB", 1e9}, {"GiB", 1073741824.0},
    {"T", 1099511627776.0}, {"TB", 1e12}, {"TiB", 1099511627776.0},
};

static const unit duration_units[] = {
    {"", 1}, {"s", 1}, {"ms", 1e-3}, {"us", 1e-6}, {"m", 60}, {"min", 60}, {"h", 3600},
};

/* Splits "1.5GiB" into 1.5 and "GiB"; rejects signs, spaces, hex, inf, nan. */
static mw_status parse_number(const char *what, const char *text, double *value,
                              const char **rest, mw_err *err)
{
    MW_RETURN_IF(!text || !*text, err, MW_ERR_INVALID, "empty %s", what);
    const char *p = text;
    int digits = 0, dot = 0;
    while ((*p >= '0' && *p <= '9') || (*p == '.' && !dot)) {
        if (*p == '.') dot = 1; else digits++;
        p++;
    }
    MW_RETURN_IF(!digits, err, MW_ERR_INVALID, "invalid %s \"%s\": expected a number first (e.g. %s)",
                 what, text, strcmp(what, "size") == 0 ? "512M, 1.5GiB, 4096" : "100ms, 1ms, 2s");
    char num[64];
    size_t n = (size_t)(p - text);
    MW_RETURN_IF(n >= sizeof num, err, MW_ERR_INVALID, "invalid %s \"%s\": number too long", what, text);
    memcpy(num, text, n);
    num[n] = '\0';
    errno = 0;
    *value = strtod(num, NULL);
    MW_RETURN_IF(errno, err, MW_ERR_INVALID, "invalid %s \"%s\": number out of range", what, text);
    *rest = p;
    return MW_OK;
}

mw_status mw_size_parse(const char *text, uint64_t *out_bytes, mw_err *err)
{
    double v;
    const char *rest;
    MW_FORWARD(parse_number("size", text, &v, &rest, err));
    for (size_t i = 0; i < MW_ARRAY_LEN(size_units); i++) {
        if (strcmp(rest, size_units[i].suffix) != 0) continue;
        double bytes = v * size_units[i].factor;
        /* 1 EiB: more than any machine has, and far from uint64_t's end, so
         * a size can be added to or multiplied by a small count safely */
        MW_RETURN_IF(bytes > MW_SIZE_MAX_BYTES, err, MW_ERR_INVALID,
                     "invalid size \"%s\": more than 1 EiB (2^60 bytes), the largest size", text);
        /* Bytes are whole: round "1.5K" = 1536 exactly, "0.3K" = 307. */
        *out_bytes = (uint64_t)floor(bytes + 0.5);
        return MW_OK;
    }
    return mw_err_set(err, MW_ERR_INVALID,
                      "invalid size \"%s\": unknown unit \"%s\" (use bytes, K, M, G, T, "
                      "KiB..TiB for powers of 1024, kB..TB for powers of 1000)", text, rest);
}

mw_status mw_duration_parse(const char *text, double *out_seconds, mw_err *err)
{
    double v;
    const char *rest;
    MW_FORWARD(parse_number("duration", text, &v, &rest, err));
    for (size_t i = 0; i < MW_ARRAY_LEN(duration_units); i++) {
        if (strcmp(rest, duration_units[i].suffix) != 0) continue;
        double seconds = v * duration_units[i].factor;
        /* a week: longer than any run memwall watches, and a bound that
         * keeps seconds exact as a timespec (time_t) or as nanoseconds */
        MW_RETURN_IF(!(seconds <= MW_DURATION_MAX_SECONDS), err, MW_ERR_INVALID,
                     "invalid duration \"%s\": more than a week (168h), the longest duration", text);
        *out_seconds = seconds;
        return MW_OK;
    }
    return mw_err_set(err, MW_ERR_INVALID,
                      "invalid duration \"%s\": unknown unit \"%s\" (use us, ms, s, m, h; "
                      "a bare number is seconds)", text, rest);
}

char *mw_size_format(uint64_t bytes, char *buf, size_t cap)
{
    static const char *const names[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (bytes == MW_UNKNOWN) {
        snprintf(buf, cap, "-");
        return buf;
    }
    if (bytes < 1024) {
        snprintf(buf, cap, "%llu B", (unsigned long long)bytes);
        return buf;
    }
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024.0 && u < 6) { v /= 1024.0; u++; }
    /* 3 significant digits; 999.5 rounds up to the next unit's 1.00. */
    if (v >= 999.5 && u < 6) { v /= 1024.0; u++; }
    if (v < 9.995)       snprintf(buf, cap, "%.2f %s", v, names[u]);
    else if (v < 99.95)  snprintf(buf, cap, "%.1f %s", v, names[u]);
    else                 snprintf(buf, cap, "%.0f %s", v, names[u]);
    return buf;
}

char *mw_count_format(uint64_t n, char *buf, size_t cap)
{
    static const char *const names[] = {"", " K", " M", " B", " T"};
    double v = (double)n;
    int u = 0;
    while (v >= 999.5 && u < 4) { v /= 1000.0; u++; }
    if (u == 0)          snprintf(buf, cap, "%llu", (unsigned long long)n);
    else if (v < 9.995)  snprintf(buf, cap, "%.2f%s", v, names[u]);
    else if (v < 99.95)  snprintf(buf, cap, "%.1f%s", v, names[u]);
    else                 snprintf(buf, cap, "%.0f%s", v, names[u]);
    return buf;
}

const char *mw_signal_name(int sig)
{
    switch (sig) {
    case SIGKILL: return "SIGKILL";
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGHUP: return "SIGHUP";
    case SIGSEGV: return "SIGSEGV";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGPIPE: return "SIGPIPE";
    default: return "signal";
    }
}
