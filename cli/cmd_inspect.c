/*
 * cmd_inspect.c - `memwall inspect MODEL`: what a model file holds.
 * Options are documented in cli/doc/inspect.txt.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

const struct option mw_cmd_inspect_options[] = {
    {"json", no_argument, NULL, 'j'},
    {"all", no_argument, NULL, 'a'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int mw_cmd_inspect(int argc, char **argv)
{
    int json = 0, all = 0, c;
    mw_cli_operands ops = {.max = 1};
    optind = 1;
    opterr = 0;
    while ((c = mw_cli_getopt(argc, argv, "+:jah", mw_cmd_inspect_options, &ops)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'a': all = 1; break;
        case 'h': fputs(mw_cli_doc_find("inspect")->help, stdout); return MW_EXIT_OK;
        default:
            mw_cli_error("inspect", "unknown option '%s'", argv[optind - 1]);
            return MW_EXIT_USAGE;
        }
    }
    mw_model *m = NULL;
    mw_err err;
    int code = mw_cli_open_model("inspect", &ops, &m);
    if (code != MW_EXIT_OK) return code;
    mw_status st = json ? mw_model_report_json(m, stdout, &err)
                        : mw_model_report_text(m, stdout, mw_cli_use_color(STDOUT_FILENO) ? MW_REPORT_COLOR : 0,
                                               all ? 0 : 40);
    mw_model_free(m);
    if (st != MW_OK && json) { /* the JSON report says why (out of memory, say) */
        mw_cli_error(NULL, "%s", err.msg);
        return MW_EXIT_FAILURE;
    }
    if (st != MW_OK || fflush(stdout) != 0) {
        mw_cli_error(NULL, "cannot write the report");
        return MW_EXIT_FAILURE;
    }
    return MW_EXIT_OK;
}
