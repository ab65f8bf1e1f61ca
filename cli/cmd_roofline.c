/*
 * cmd_roofline.c - `memwall roofline`: this machine's measured ceilings.
 * Options are documented in cli/doc/roofline.txt.
 */
#include "cli.h"

#include <stdio.h>
#include <unistd.h>

const struct option mw_cmd_roofline_options[] = {
    {"quick", no_argument, NULL, 'q'},
    {"json", no_argument, NULL, 'j'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int mw_cmd_roofline(int argc, char **argv)
{
    int json = 0, c;
    mw_roofline_opts o;
    mw_roofline_opts_init(&o);
    mw_cli_operands ops = {.max = 0};
    optind = 1;
    opterr = 0;
    while ((c = mw_cli_getopt(argc, argv, "+:qjh", mw_cmd_roofline_options, &ops)) != -1) {
        switch (c) {
        case 'q': o.quick = 1; break;
        case 'j': json = 1; break;
        case 'h': fputs(mw_cli_doc_find("roofline")->help, stdout); return MW_EXIT_OK;
        default:
            mw_cli_error("roofline", "unknown option '%s'", argv[optind - 1]);
            return MW_EXIT_USAGE;
        }
    }
    if (ops.n > 0) {
        mw_cli_error("roofline", "unexpected '%s': roofline takes no operand yet", ops.v[0]);
        return MW_EXIT_USAGE;
    }
    mw_roofline_result *r = NULL;
    mw_err err;
    if (mw_roofline_measure(&o, &r, &err) != MW_OK) {
        mw_cli_error(NULL, "%s", err.msg);
        return MW_EXIT_FAILURE;
    }
    if (r->shrunk) fprintf(stderr, "memwall: %s\n", r->shrunk_reason);
    mw_status st = json ? mw_roofline_report_json(r, stdout, &err)
                        : mw_roofline_report_text(r, stdout, mw_cli_use_color(STDOUT_FILENO) ? MW_REPORT_COLOR : 0,
                                                  &err);
    mw_roofline_result_free(r);
    if (st != MW_OK) {
        mw_cli_error(NULL, "%s", err.msg);
        return MW_EXIT_FAILURE;
    }
    return MW_EXIT_OK;
}
