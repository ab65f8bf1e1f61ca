/*
 * commands.c - the command table and the helpers every command shares
 * (docs lookup, error messages, colour). Kept apart from main.c so the
 * tests can link the CLI without its main().
 */
#include "cli.h"

#include <signal.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int mw_cmd_convert(int argc, char **argv);
int mw_cmd_eval(int argc, char **argv);
int mw_cmd_inspect(int argc, char **argv);
int mw_cmd_roofline(int argc, char **argv);
int mw_cmd_run(int argc, char **argv);
int mw_cmd_sweep(int argc, char **argv);
int mw_cmd_tokenize(int argc, char **argv);
int mw_cmd_plan(int argc, char **argv);
int mw_cmd_watch(int argc, char **argv);
int mw_cmd_merge(int argc, char **argv); /* issue #16 */
extern const struct option mw_cmd_convert_options[];
extern const struct option mw_cmd_eval_options[];
extern const struct option mw_cmd_inspect_options[];
extern const struct option mw_cmd_roofline_options[];
extern const struct option mw_cmd_run_options[];
extern const struct option mw_cmd_sweep_options[];
extern const struct option mw_cmd_tokenize_options[];
extern const struct option mw_cmd_plan_options[];
extern const struct option mw_cmd_watch_options[];
extern const struct option mw_cmd_merge_options[]; /* issue #16 */

const mw_cli_command mw_cli_commands[] = {
    {"convert", mw_cmd_convert, mw_cmd_convert_options},
    {"eval", mw_cmd_eval, mw_cmd_eval_options},
    {"inspect", mw_cmd_inspect, mw_cmd_inspect_options},
    {"merge", mw_cmd_merge, mw_cmd_merge_options}, /* issue #16 */
    {"plan", mw_cmd_plan, mw_cmd_plan_options},
    {"roofline", mw_cmd_roofline, mw_cmd_roofline_options},
    {"run", mw_cmd_run, mw_cmd_run_options},
    {"sweep", mw_cmd_sweep, mw_cmd_sweep_options},
    {"tokenize", mw_cmd_tokenize, mw_cmd_tokenize_options},
    {"watch", mw_cmd_watch, mw_cmd_watch_options},
};
const size_t mw_cli_commands_count = sizeof mw_cli_commands / sizeof mw_cli_commands[0];

const mw_cli_doc *mw_cli_doc_find(const char *name)
{
    for (size_t i = 0; i < mw_cli_docs_count; i++)
        if (!strcmp(mw_cli_docs[i].name, name)) return &mw_cli_docs[i];
    return NULL;
}

void mw_cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fputs("memwall: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (cmd) fprintf(stderr, "Try 'memwall %s --help'.\n", cmd);
}

/* Adds arg to ops; 0 when it is one operand too many. */
static int operand_add(mw_cli_operands *ops, char *arg)
{
    if (ops->n <= ops->max && ops->n < (int)(sizeof ops->v / sizeof ops->v[0])) ops->v[ops->n] = arg;
    ops->n++;
    return ops->n <= ops->max;
}

int mw_cli_getopt(int argc, char **argv, const char *optstring, const struct option *longopts,
                  mw_cli_operands *ops)
{
    while (ops->n <= ops->max) {
        int before = optind;
        int c = getopt_long(argc, argv, optstring, longopts, NULL);
        if (c != -1) return c;
        if (optind > before) {
            /* getopt stepped over "--": the options end here */
            if (ops->command_after_dashdash) {
                ops->dashdash = 1;
                return -1;
            }
            while (optind < argc && operand_add(ops, argv[optind])) optind++;
            if (optind < argc) optind++;
            return -1;
        }
        if (optind >= argc) return -1;
        /* an operand: take it, and go on with the options after it */
        if (!operand_add(ops, argv[optind++])) return -1;
    }
    return -1;
}

int mw_cli_open_model(const char *cmd, const mw_cli_operands *ops, mw_model **out)
{
    *out = NULL;
    if (ops->n == 0) {
        mw_cli_error(cmd, "give one model: a GGUF or safetensors file, a folder, a config.json or a preset name");
        return MW_EXIT_USAGE;
    }
    if (ops->n > 1) {
        mw_cli_error(cmd, "unexpected '%s': give one model only", ops->v[1]);
        return MW_EXIT_USAGE;
    }
    mw_err err;
    if (mw_model_or_demo_open(ops->v[0], out, &err) != MW_OK) {
        mw_cli_error(NULL, "%s", err.msg);
        return MW_EXIT_FAILURE;
    }
    return MW_EXIT_OK;
}

/* The length of the character at s[i..len) worth printing: printable ASCII
 * or well-formed UTF-8 from U+00A0 up; 0 for anything else. */
static size_t printable(const unsigned char *s, size_t i, size_t len)
{
    unsigned c = s[i];
    if (c >= 0x20 && c < 0x7F) return 1;
    size_t k = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (!k || len - i < k) return 0;
    unsigned lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : c == 0xC2 ? 0xA0 : 0x80;
    unsigned hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
    if (s[i + 1] < lo || s[i + 1] > hi) return 0;
    for (size_t j = 2; j < k; j++)
        if (s[i + j] < 0x80 || s[i + j] > 0xBF) return 0;
    return k;
}

int mw_cli_write_model_text(FILE *out, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        size_t k = printable(u, i, len);
        if (k) fwrite(s + i, 1, k, out), i += k;
        else fputc(s[i] == '\n' || s[i] == '\t' ? s[i] : '?', out), i++;
    }
    return !ferror(out);
}

int mw_cli_read_file(const char *cmd, const char *opt, const char *path, size_t max, char **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    int is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rbe");
    if (!f) {
        mw_cli_error(cmd, "%s: cannot read %s: %s", opt, path, strerror(errno));
        return 0;
    }
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap + 1);
    int ok = b != NULL;
    while (ok) {
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
        if (n == cap) {
            if (cap > max) break;
            char *nb = realloc(b, cap * 2 + 1);
            if (!nb) ok = 0;
            else b = nb, cap *= 2;
        }
    }
    int rerr = ferror(f), saved = errno;
    if (!is_stdin) fclose(f);
    if (!ok) mw_cli_error(cmd, "%s: out of memory reading %s", opt, path);
    else if (rerr) mw_cli_error(cmd, "%s: cannot read %s: %s", opt, path, strerror(saved));
    else if (n > max) mw_cli_error(cmd, "%s: %s is larger than %zu MiB", opt, path, max >> 20);
    if (!ok || rerr || n > max) {
        free(b);
        return 0;
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return 1;
}

int mw_cli_parse_u32(const char *cmd, const char *opt, const char *text, uint32_t min, uint32_t max,
                     uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    /* strtoull takes "-1" (as ULLONG_MAX) and leading spaces: digits only */
    if (text[0] < '0' || text[0] > '9' || errno || *end || v < min || v > max) {
        mw_cli_error(cmd, "%s needs a whole number from %u to %u, not '%s'", opt, min, max, text);
        return 0;
    }
    *out = (uint32_t)v;
    return 1;
}

int mw_cli_parse_u32_list(const char *cmd, const char *opt, const char *text, uint32_t min, uint32_t max,
                          uint32_t *buf, size_t cap, size_t *n)
{
    *n = 0;
    for (const char *s = text;;) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        /* digits only: strtoull takes "-1" and leading spaces */
        if (*s < '0' || *s > '9' || errno || v < min || v > max || *n == cap || (*end && *end != ',') ||
            (*end == ',' && !end[1])) {
            mw_cli_error(cmd, "%s takes a list of 1 to %zu numbers from %u to %u such as 1,4,16, not '%s'", opt, cap,
                         min, max, text);
            return 0;
        }
        buf[(*n)++] = (uint32_t)v;
        if (!*end) return 1;
        s = end + 1;
    }
}

/* "24" or "1.5": a number without a unit. */
static int is_bare_number(const char *text)
{
    if (!*text) return 0;
    for (const char *p = text; *p; p++)
        if ((*p < '0' || *p > '9') && *p != '.') return 0;
    return 1;
}

int mw_cli_parse_size(const char *cmd, const char *opt, const char *text, uint64_t min, uint64_t max,
                      uint64_t *out)
{
    mw_err err;
    uint64_t v;
    char a[32], b[32];
    if (mw_size_parse(text, &v, &err) != MW_OK) {
        mw_cli_error(cmd, "%s: %s; give %s to %s", opt, err.msg, mw_size_format(min, a, sizeof a),
                     mw_size_format(max, b, sizeof b));
        return 0;
    }
    if (is_bare_number(text) && v > 0 && v < 4096) {
        mw_cli_error(cmd, "%s %s has no unit, so it would be %s bytes: did you mean %sG? (or %sM; below 4096 a "
                     "size needs a unit)", opt, text, text, text, text);
        return 0;
    }
    if (v < min || v > max) {
        mw_cli_error(cmd, "%s needs a size from %s to %s, not '%s'", opt, mw_size_format(min, a, sizeof a),
                     mw_size_format(max, b, sizeof b), text);
        return 0;
    }
    *out = v;
    return 1;
}

/* A duration in the largest unit that writes it whole: "1h", "30s", "1ms". */
static const char *duration_text(double s, char *buf, size_t cap)
{
    static const struct { const char *unit; double seconds; } units[] = {
        {"h", 3600}, {"m", 60}, {"s", 1}, {"ms", 1e-3}, {"us", 1e-6},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        double v = s / units[i].seconds;
        if (v >= 1 && v == (double)(long long)v) {
            snprintf(buf, cap, "%lld%s", (long long)v, units[i].unit);
            return buf;
        }
    }
    snprintf(buf, cap, "%gs", s);
    return buf;
}

int mw_cli_parse_duration(const char *cmd, const char *opt, const char *text, double min, double max, double *out)
{
    mw_err err;
    double v;
    char a[32], b[32];
    if (mw_duration_parse(text, &v, &err) != MW_OK) {
        mw_cli_error(cmd, "%s: %s; give %s to %s", opt, err.msg, duration_text(min, a, sizeof a),
                     duration_text(max, b, sizeof b));
        return 0;
    }
    if (!(v >= min && v <= max)) {
        mw_cli_error(cmd, "%s needs a duration from %s to %s, not '%s'", opt, duration_text(min, a, sizeof a),
                     duration_text(max, b, sizeof b), text);
        return 0;
    }
    *out = v;
    return 1;
}

int mw_cli_use_color(int fd)
{
    const char *no = getenv("NO_COLOR");
    const char *term = getenv("TERM");
    if (no && *no) return 0;
    if (term && !strcmp(term, "dumb")) return 0;
    return isatty(fd);
}

volatile sig_atomic_t mw_cli_stop_signal;

static void on_stop_signal(int sig)
{
    if (!mw_cli_stop_signal) mw_cli_stop_signal = sig;
}

void mw_cli_catch_stop_signals(int catch)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = catch ? on_stop_signal : SIG_DFL;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

/* ---- Output formats and exports (issue #13; docs/OUTPUT.md) --------------- */

static const char *const format_names[MW_CLI_FORMAT_COUNT] = {"table", "json", "csv", "markdown"};

const char *mw_cli_format_name(mw_cli_format f)
{
    return (unsigned)f < MW_CLI_FORMAT_COUNT ? format_names[f] : "?";
}

int mw_cli_outputs_alias(const char *cmd, mw_cli_outputs *o, mw_cli_format f, const char *opt)
{
    if (o->format_by && o->format != f) {
        int by_format = !strcmp(o->format_by, "--format");   /* else an alias: --json, --csv */
        mw_cli_error(cmd, "%s and %s%s%s both given: give one", opt, o->format_by, by_format ? " " : "",
                     by_format ? mw_cli_format_name(o->format) : "");
        return 0;
    }
    o->format = f;
    o->format_by = opt;
    return 1;
}

int mw_cli_outputs_option(const char *cmd, mw_cli_outputs *o, int c, const char *arg)
{
    if (c == MW_CLI_OPT_FORMAT) {
        for (int f = 0; f < MW_CLI_FORMAT_COUNT; f++) {
            if (strcmp(arg, format_names[f]) != 0) continue;
            if (o->format_by && o->format != (mw_cli_format)f) {
                int by_format = !strcmp(o->format_by, "--format");
                mw_cli_error(cmd, "--format %s and %s%s%s both given: give one", arg, o->format_by,
                             by_format ? " " : "", by_format ? mw_cli_format_name(o->format) : "");
                return -1;
            }
            o->format = (mw_cli_format)f;
            o->format_by = "--format";
            return 1;
        }
        mw_cli_error(cmd, "--format must be one of table, json, csv, markdown, not '%s'", arg);
        return -1;
    }
    mw_cli_format f = c == MW_CLI_OPT_EXPORT_JSON ? MW_CLI_FORMAT_JSON
                    : c == MW_CLI_OPT_EXPORT_CSV ? MW_CLI_FORMAT_CSV
                    : c == MW_CLI_OPT_EXPORT_MARKDOWN ? MW_CLI_FORMAT_MARKDOWN : MW_CLI_FORMAT_TABLE;
    if (f == MW_CLI_FORMAT_TABLE) return 0;
    const char *opt = f == MW_CLI_FORMAT_JSON ? "--export-json" : f == MW_CLI_FORMAT_CSV ? "--export-csv"
                                                                                      : "--export-markdown";
    if (!*arg) {
        mw_cli_error(cmd, "%s needs a file name", opt);
        return -1;
    }
    if (o->exports[f]) {
        mw_cli_error(cmd, "%s given twice ('%s' and '%s'): give each export once", opt, o->exports[f], arg);
        return -1;
    }
    for (int k = 0; k < MW_CLI_FORMAT_COUNT; k++) {
        if (o->exports[k] && !strcmp(o->exports[k], arg)) {
            mw_cli_error(cmd, "%s and --export-%s both name '%s': give each export its own file", opt,
                         format_names[k], arg);
            return -1;
        }
    }
    o->exports[f] = arg;
    return 1;
}

int mw_cli_outputs_clash(const char *cmd, const mw_cli_outputs *o, const char *opt, const char *path)
{
    if (!path) return 0;
    struct stat a, b;
    int have = stat(path, &a) == 0;
    for (int f = 0; f < MW_CLI_FORMAT_COUNT; f++) {
        if (!o->exports[f]) continue;
        if (strcmp(o->exports[f], path) != 0 &&
            !(have && stat(o->exports[f], &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino))
            continue;
        mw_cli_error(cmd, "--export-%s '%s' names the same file as %s: give the export another name", format_names[f],
                     o->exports[f], opt);
        return 1;
    }
    return 0;
}

/* One export: the command's renderer in one format, for mw_report_write_file. */
typedef struct export_job {
    mw_cli_render render;
    mw_cli_format format;
    void *user;
} export_job;

static mw_status write_export(FILE *out, void *user, mw_err *err)
{
    const export_job *j = user;
    return j->render(j->format, out, 0, j->user, err);
}

int mw_cli_outputs_write(const mw_cli_outputs *o, mw_cli_render render, void *user)
{
    int code = MW_EXIT_OK;
    mw_err err;
    /* standard output first: an export that fails loses nothing shown */
    int color = o->format == MW_CLI_FORMAT_TABLE && mw_cli_use_color(STDOUT_FILENO);
    if (render(o->format, stdout, color, user, &err) != MW_OK) {
        mw_cli_error(NULL, "%s", err.msg);
        code = MW_EXIT_FAILURE;
    }
    for (int f = 0; f < MW_CLI_FORMAT_COUNT; f++) {
        if (!o->exports[f]) continue;
        export_job j = {render, (mw_cli_format)f, user};
        if (mw_report_write_file(o->exports[f], write_export, &j, &err) != MW_OK) {
            mw_cli_error(NULL, "--export-%s: %s", format_names[f], err.msg);
            code = MW_EXIT_FAILURE;
        }
    }
    return code;
}
