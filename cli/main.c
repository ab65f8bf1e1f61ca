/*
 * main.c - memwall's entry point: global options, help, command dispatch.
 */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int mw_cmd_watch(int argc, char **argv);
extern const struct option mw_cmd_watch_options[];

const mw_cli_command mw_cli_commands[] = {
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

int mw_cli_use_color(int fd)
{
    const char *no = getenv("NO_COLOR");
    const char *term = getenv("TERM");
    if (no && *no) return 0;
    if (term && !strcmp(term, "dumb")) return 0;
    return isatty(fd);
}

static int print_help(const char *name, FILE *out)
{
    const mw_cli_doc *d = mw_cli_doc_find(name);
    if (!d) {
        mw_cli_error(NULL, "no command '%s'. Commands are listed by 'memwall --help'.", name);
        return MW_EXIT_USAGE;
    }
    fputs(d->help, out);
    return MW_EXIT_OK;
}

static const mw_cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < mw_cli_commands_count; i++)
        if (!strcmp(mw_cli_commands[i].name, name)) return &mw_cli_commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_help("memwall", stderr);
        return MW_EXIT_USAGE;
    }
    const char *a = argv[1];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) return print_help("memwall", stdout);
    if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
        printf("memwall %s\n", mw_version());
        return MW_EXIT_OK;
    }
    if (!strcmp(a, "help")) {
        if (argc > 3) {
            mw_cli_error(NULL, "'help' takes one command name at most");
            return MW_EXIT_USAGE;
        }
        return print_help(argc == 3 ? argv[2] : "memwall", stdout);
    }
    if (a[0] == '-') {
        mw_cli_error(NULL, "unknown option '%s' before the command. Try 'memwall --help'.", a);
        return MW_EXIT_USAGE;
    }
    const mw_cli_command *cmd = find_command(a);
    if (!cmd) {
        mw_cli_error(NULL, "no command '%s'. Commands are listed by 'memwall --help'.", a);
        return MW_EXIT_USAGE;
    }
    return cmd->run(argc - 1, argv + 1);
}
