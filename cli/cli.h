/*
 * cli.h - what the command files share: the generated help texts, the
 * command table, exit codes and terminal styling.
 */
#ifndef MW_CLI_H
#define MW_CLI_H

#include "memwall.h"
#include <getopt.h>
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

/* The one MODEL operand of `cmd` (argv[optind], nothing after it), opened.
 * Prints the error and returns the exit code (2: usage, 1: the model could
 * not be read) or 0 with *out set. */
int mw_cli_open_model(const char *cmd, int argc, char **argv, int optind_, mw_model **out);

/* Parses a whole number >= min for option opt of cmd; prints the error and
 * returns 0 when text is not one. */
int mw_cli_parse_u32(const char *cmd, const char *opt, const char *text, uint32_t min, uint32_t *out);

/* 1 when colour may be used on fd: a terminal, NO_COLOR unset, TERM not dumb. */
int mw_cli_use_color(int fd);

#endif /* MW_CLI_H */
