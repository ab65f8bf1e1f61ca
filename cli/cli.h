/*
 * cli.h - what the command files share: the generated help texts, the
 * command table, exit codes and terminal styling.
 */
#ifndef MW_CLI_H
#define MW_CLI_H

#include "memwall.h"
#include <getopt.h>
#include <signal.h>
#include <stddef.h>

/* Exit codes (cli/doc/memwall.txt, EXIT STATUS). */
enum {
    MW_EXIT_OK = 0,
    MW_EXIT_FAILURE = 1,
    MW_EXIT_USAGE = 2,
    MW_EXIT_WRAPPER_FAILURE = 125,  /* memwall failed while wrapping a command */
    MW_EXIT_CANNOT_EXECUTE = 126,
    MW_EXIT_NOT_FOUND = 127
};

/* Generated from cli/doc/<name>.txt by tools/gen_help.c. */
typedef struct mw_cli_doc {
    const char *name;
    const char *summary;
    const char *help;                /* the whole --help text            */
    const char *const *options;      /* documented long options, NULL-ended */
} mw_cli_doc;

extern const mw_cli_doc mw_cli_docs[];
extern const size_t mw_cli_docs_count;

const mw_cli_doc *mw_cli_doc_find(const char *name);

/* A command: its entry point and its getopt table (checked against the
 * documented options by tests/unit/test_cli_docs.c). */
typedef struct mw_cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const struct option *longopts;
} mw_cli_command;

extern const mw_cli_command mw_cli_commands[];
extern const size_t mw_cli_commands_count;

/* Prints "memwall: <fmt>" and, when given, "Try 'memwall CMD --help'." on
 * stderr. */
void mw_cli_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The operands (MODEL, OUT.gguf) of a command whose options may come before
 * and after them: `memwall sweep model.gguf --ctx 4096`. Set max (at most 3)
 * and command_after_dashdash, zero the rest. */
typedef struct mw_cli_operands {
    int max;                    /* operands the command takes; one more ends the parse */
    int command_after_dashdash; /* 1: what follows "--" is a command (sweep -- CMD);
                                   0: more operands (inspect -- -odd-name.gguf) */
    int n;                      /* operands seen; max + 1 when v[max] is one too many */
    char *v[4];                 /* the operands in order: v[0 .. min(n, max + 1) - 1] */
    int dashdash;               /* with command_after_dashdash: "--" ended the options,
                                   and optind is just after it */
} mw_cli_operands;

/*! mw_cli_getopt() :
 * getopt_long(argc, argv, optstring, longopts, NULL), except that a
 * non-option is taken as the next operand and the options after it are
 * parsed too - whatever POSIXLY_CORRECT says, since optstring must start with
 * "+" (getopt then stops at each operand, and this steps over it). Set
 * optind = 1 and opterr = 0 before the first call.
 * @return the next option as getopt_long does (optarg, optind, optopt set),
 *         or -1 at the end of the options: the end of argv, "--" (see
 *         mw_cli_operands.command_after_dashdash), or an operand past max
 *         (ops->n == ops->max + 1, ops->v[ops->max] names it). */
int mw_cli_getopt(int argc, char **argv, const char *optstring, const struct option *longopts,
                  mw_cli_operands *ops);

/* The one MODEL operand of `cmd` (ops from mw_cli_getopt with max 1),
 * opened. Prints the error and returns the exit code (2: usage, 1: the model
 * could not be read) or 0 with *out set. */
int mw_cli_open_model(const char *cmd, const mw_cli_operands *ops, mw_model **out);

/* The option parsers below: each bounds its value and, when text is not a
 * value in [min, max], prints "memwall: OPT ... from MIN to MAX, not 'TEXT'"
 * (with "Try 'memwall CMD --help'.") and returns 0; the command then exits
 * with its usage code (2; 125 for watch). On success: 1, *out set. */

/* The largest token count (positions are int32_t in the engine). */
#define MW_CLI_TOKENS_MAX 2147483647u
/* The engine's largest batch and thread count (mw_run, its thread pool). */
#define MW_CLI_BATCH_MAX 4096u
#define MW_CLI_THREADS_MAX 4096u
/* Memory sizes (--mem, --mem-limit, --what-if): a page at least. */
#define MW_CLI_MEM_MIN 4096ull
#define MW_CLI_SIZE_MAX (1ull << 60)   /* mw_size_parse's largest */

/* A whole number in [min, max] (decimal, no sign). */
int mw_cli_parse_u32(const char *cmd, const char *opt, const char *text, uint32_t min, uint32_t max,
                     uint32_t *out);

/* A comma-separated list of 1 to cap whole numbers, each in [min, max]
 * (`--batch 1,4,16`), into buf; *n set. */
int mw_cli_parse_u32_list(const char *cmd, const char *opt, const char *text, uint32_t min, uint32_t max,
                          uint32_t *buf, size_t cap, size_t *n);

/* A size (mw_size_parse) in [min, max] bytes. A bare number from 1 to 4095
 * is refused with a hint: "--mem 24" is far more likely 24G than 24 bytes
 * ("24B" still says bytes where min allows). */
int mw_cli_parse_size(const char *cmd, const char *opt, const char *text, uint64_t min, uint64_t max,
                      uint64_t *out);

/* A duration (mw_duration_parse) in [min, max] seconds. */
int mw_cli_parse_duration(const char *cmd, const char *opt, const char *text, double min, double max,
                          double *out);

/* 1 when MEMWALL_PROFILE=none: no machine profile read, measured or
 * written. */
int mw_cli_profile_off(void);

/*! mw_cli_ceilings() : this machine's ceilings from its profile (cli/
 *  profile.c). With measure, or refresh, a missing (or damaged) profile is
 *  measured once (a roofline without its tiers: 6 to 30 s; said on stderr
 *  unless quiet) and saved;
 *  refresh measures whatever there is. A damaged profile is a warning.
 *  cancel: the command's stop flag, or NULL.
 *  @return 1 with *out filled, 0 when there are none (out zeroed). */
int mw_cli_ceilings(int measure, int refresh, volatile sig_atomic_t *cancel, int quiet, mw_ceilings *out);

/* The stop request of a long command (sweep, roofline): SIGINT, SIGTERM
 * and SIGHUP store their number here (the first wins), for the library's
 * opts.cancel; the command then prints what was measured and exits 128 +
 * the signal. mw_cli_catch_stop_signals(1) installs the handler, (0) puts
 * the defaults back. */
extern volatile sig_atomic_t mw_cli_stop_signal;
void mw_cli_catch_stop_signals(int catch);

/*! mw_cli_read_file() : the whole of path ("-": standard input), at most
 *  max bytes, NUL-terminated, into *buf (free()) and *len. Prints the error
 *  ("OPT: cannot read PATH: reason", or too large) and returns 0 on failure. */
int mw_cli_read_file(const char *cmd, const char *opt, const char *path, size_t max, char **buf, size_t *len);

/*! mw_cli_write_model_text() : text a model made (decoded tokens: bytes
 *  from its file) written so that a terminal acts on none of it: control
 *  bytes (ESC...) and malformed UTF-8 become '?'; newlines and tabs stay.
 *  @return 0 on a write error. */
int mw_cli_write_model_text(FILE *out, const char *s, size_t len);

/* 1 when colour may be used on fd: a terminal, NO_COLOR unset, TERM not dumb. */
int mw_cli_use_color(int fd);

/* ---- Output formats and exports (issue #13; docs/OUTPUT.md) ---------------
 * plan, sweep and run: --format table|json|csv|markdown for standard output,
 * and --export-json FILE, --export-csv FILE, --export-markdown FILE, in any
 * combination, each at most once, written after standard output (as
 * hyperfine's --export-* options). Append MW_CLI_OUTPUT_OPTIONS to the
 * command's option table and pass each getopt code to
 * mw_cli_outputs_option. */
typedef enum mw_cli_format {
    MW_CLI_FORMAT_TABLE = 0, MW_CLI_FORMAT_JSON, MW_CLI_FORMAT_CSV, MW_CLI_FORMAT_MARKDOWN, MW_CLI_FORMAT_COUNT
} mw_cli_format;

/* getopt codes of the output options: above every short option's */
enum { MW_CLI_OPT_FORMAT = 0x200, MW_CLI_OPT_EXPORT_JSON, MW_CLI_OPT_EXPORT_CSV, MW_CLI_OPT_EXPORT_MARKDOWN };
#define MW_CLI_OUTPUT_OPTIONS                                                   \
    {"format", required_argument, NULL, MW_CLI_OPT_FORMAT},                     \
    {"export-json", required_argument, NULL, MW_CLI_OPT_EXPORT_JSON},           \
    {"export-csv", required_argument, NULL, MW_CLI_OPT_EXPORT_CSV},             \
    {"export-markdown", required_argument, NULL, MW_CLI_OPT_EXPORT_MARKDOWN}

typedef struct mw_cli_outputs {
    mw_cli_format format;                      /* standard output's (zero: table) */
    const char *format_by;                     /* the option that chose it, or NULL */
    const char *exports[MW_CLI_FORMAT_COUNT];  /* [JSON], [CSV], [MARKDOWN]: FILE or NULL */
} mw_cli_outputs;

/* The format's name: "table", "json", "csv", "markdown". */
const char *mw_cli_format_name(mw_cli_format f);

/*! mw_cli_outputs_option() : takes getopt's code c (and optarg) when it is
 *  an output option. @return 1 taken, 0 not an output option, -1 a wrong
 *  value (printed: the command exits 2). */
int mw_cli_outputs_option(const char *cmd, mw_cli_outputs *o, int c, const char *arg);

/*! mw_cli_outputs_alias() : an older option that picks a format (--json,
 *  sweep's --csv). @return 1, or 0 when another format was chosen (printed). */
int mw_cli_outputs_alias(const char *cmd, mw_cli_outputs *o, mw_cli_format f, const char *opt);

/*! mw_cli_outputs_clash() : whether an export names path (the same name,
 *  or the same file), which the command reads or writes itself (its model,
 *  --jsonl, --svg): printed as "EXPORT names the same file as OPT". path
 *  may be NULL. @return 1 when one does (the command exits 2). */
int mw_cli_outputs_clash(const char *cmd, const mw_cli_outputs *o, const char *opt, const char *path);

/* Writes the report in format f to out (colour: ANSI colours allowed, the
 * table format only). */
typedef mw_status (*mw_cli_render)(mw_cli_format f, FILE *out, int color, void *user, mw_err *err);

/*! mw_cli_outputs_write() : the report on standard output in o->format,
 *  then each export through mw_report_write_file (atomic; a link at FILE is
 *  replaced, not followed). A failure is printed, naming the file, and the
 *  others are still written. @return MW_EXIT_OK or MW_EXIT_FAILURE. */
int mw_cli_outputs_write(const mw_cli_outputs *o, mw_cli_render render, void *user);

#endif /* MW_CLI_H */
