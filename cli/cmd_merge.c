/*
 * cmd_merge.c - `memwall merge FILES...`: one report across the ranks and
 * hosts of a distributed job, from the JSON reports of `memwall watch`
 * (issue #16, docs/CLUSTER.md). Options are documented in cli/doc/merge.txt.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const struct option mw_cmd_merge_options[] = {
    {"json", no_argument, NULL, 'j'},
    {"output", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int mw_cmd_merge(int argc, char **argv)
{
    int json = 0;
    const char *output_path = NULL;
    const char **files = mw_calloc((size_t)argc + 1, sizeof *files, MW_MEM_OTHER);
    size_t nfiles = 0;
    if (!files) {
        mw_cli_error(NULL, "out of memory");
        return MW_EXIT_FAILURE;
    }
    optind = 1;
    opterr = 0;
    int code = MW_EXIT_OK;
    /* options before, between and after the files; "--" ends them */
    while (optind < argc) {
        const char *a = argv[optind];
        if (!strcmp(a, "--")) {
            for (optind++; optind < argc; optind++) files[nfiles++] = argv[optind];
            break;
        }
        if (a[0] != '-' || !strcmp(a, "-")) {
            files[nfiles++] = argv[optind++];
            continue;
        }
        int c = getopt_long(argc, argv, "+:jo:h", mw_cmd_merge_options, NULL);
        if (c == -1) break;
        switch (c) {
        case 'j': json = 1; break;
        case 'o': output_path = optarg; break;
        case 'h':
            fputs(mw_cli_doc_find("merge")->help, stdout);
            mw_free(files);
            return MW_EXIT_OK;
        case ':':
            mw_cli_error("merge", "option '%s' needs a value", argv[optind - 1]);
            mw_free(files);
            return MW_EXIT_USAGE;
        default:
            mw_cli_error("merge", "unknown option '%s'", argv[optind - 1]);
            mw_free(files);
            return MW_EXIT_USAGE;
        }
    }
    if (nfiles == 0) {
        mw_cli_error("merge", "no FILES given: the JSON reports of `memwall watch --json -o FILE`, one a rank "
                              "or one a launcher");
        mw_free(files);
        return MW_EXIT_USAGE;
    }
    for (size_t i = 0; i < nfiles; i++)
        if (!strcmp(files[i], "-")) {
            mw_cli_error("merge", "'-' is not a file: give the reports' file names");
            mw_free(files);
            return MW_EXIT_USAGE;
        }

    mw_err err;
    mw_merge_result *res = NULL;
    if (mw_merge_files(files, nfiles, &res, &err) != MW_OK) {
        mw_cli_error(NULL, "%s", err.msg);
        mw_free(files);
        return MW_EXIT_FAILURE;
    }
    mw_free(files);
    FILE *out = stdout;
    if (output_path && strcmp(output_path, "-") != 0) {
        out = fopen(output_path, "we");
        if (!out) {
            mw_cli_error(NULL, "cannot create %s: %s", output_path, strerror(errno));
            mw_merge_result_free(res);
            return MW_EXIT_FAILURE;
        }
    }
    unsigned flags = mw_cli_use_color(fileno(out)) ? MW_REPORT_COLOR : 0;
    mw_status st = json ? mw_merge_report_json(res, out, &err) : mw_merge_report_text(res, out, flags, &err);
    if (st != MW_OK) {
        mw_cli_error(NULL, "%s", err.msg);
        code = MW_EXIT_FAILURE;
    }
    mw_merge_result_free(res);
    if (out != stdout && fclose(out) != 0) {
        mw_cli_error(NULL, "cannot write %s: %s", output_path, strerror(errno));
        code = MW_EXIT_FAILURE;
    }
    return code;
}
