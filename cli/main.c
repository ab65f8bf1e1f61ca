/*
 * main.c - memwall's entry point: global options, help, command dispatch.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

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
