/*
 * cmd_convert.c - `memwall convert --demo OUT.gguf [--dtype T]`: write the
 * built-in demo model as a GGUF file. Options: cli/doc/convert.txt.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

const struct option mw_cmd_convert_options[] = {
    {"demo", no_argument, NULL, 'D'},
    {"dtype", required_argument, NULL, 'd'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int mw_cmd_convert(int argc, char **argv)
{
    int demo = 0, c;
    mw_dtype dtype = MW_DTYPE_F16;
    mw_err err;
    mw_cli_operands ops = {.max = 1};
    optind = 1;
    opterr = 0;
    while ((c = mw_cli_getopt(argc, argv, "+:d:h", mw_cmd_convert_options, &ops)) != -1) {
        switch (c) {
        case 'D': demo = 1; break;
        case 'd':
            if (mw_dtype_from_name(optarg, &dtype, &err) != MW_OK) {
                mw_cli_error("convert", "--dtype: %s", err.msg);
                return MW_EXIT_USAGE;
            }
            break;
        case 'h': fputs(mw_cli_doc_find("convert")->help, stdout); return MW_EXIT_OK;
        case ':': mw_cli_error("convert", "option '%s' needs a value", argv[optind - 1]); return MW_EXIT_USAGE;
        default: mw_cli_error("convert", "unknown option '%s'", argv[optind - 1]); return MW_EXIT_USAGE;
        }
    }
    if (ops.n > 1) {
        mw_cli_error("convert", "unexpected '%s': give one output file: memwall convert --demo OUT.gguf", ops.v[1]);
        return MW_EXIT_USAGE;
    }
    if (!demo) {
        mw_cli_error("convert", "only --demo is supported so far: memwall convert --demo OUT.gguf");
        return MW_EXIT_USAGE;
    }
    if (ops.n != 1) {
        mw_cli_error("convert", "give the output file: memwall convert --demo OUT.gguf");
        return MW_EXIT_USAGE;
    }
    if (mw_demo_write(ops.v[0], dtype, &err) != MW_OK) {
        mw_cli_error(NULL, "%s", err.msg);
        return MW_EXIT_FAILURE;
    }
    return MW_EXIT_OK;
}
