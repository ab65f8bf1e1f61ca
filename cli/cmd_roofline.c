/*
 * cmd_roofline.c - `memwall roofline`: this machine's measured ceilings.
 * Options are documented in cli/doc/roofline.txt.
 */
#include "cli.h"

#include <stdio.h>
#include <unistd.h>

const struct option mw_cmd_roofline_options[] = {
    {"quick", no_argument, NULL, 'q'},
    {"refresh", no_argument, NULL, 'r'},
    {"json", no_argument, NULL, 'j'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Saves r as this machine's profile: after a full measurement, and after a
 * --quick one only when there is no valid profile yet or with --refresh
 * (a quick curve is coarser). Writes what happened into note[cap], for the
 * report's last line. @return 0 when saving failed (a warning: the
 * measurement stands). */
static int save_profile(const mw_roofline_result *r, int quick, int refresh, char *note, size_t cap)
{
    note[0] = '\0';
    if (mw_cli_profile_off() || r->interrupted_signal) return 1;
    mw_machine_key k;
    mw_err err;
    char path[512];
    if (mw_machine_key_read(&k, &err) != MW_OK || mw_profile_path(&k, path, sizeof path, &err) != MW_OK) {
        mw_cli_error(NULL, "warning: this machine's profile was not saved: %s", err.msg);
        return 0;
    }
    if (quick && !refresh) {
        mw_ceilings old;
        if (mw_profile_load(&k, &old, NULL) == MW_OK) {
            snprintf(note, cap, "This machine's profile: %s (measured %s) kept: a --quick measurement does not "
                     "replace it (--refresh does)", path, old.measured);
            return 1;
        }
    }
    if (mw_profile_save(r, &k, &err) != MW_OK) {
        mw_cli_error(NULL, "warning: this machine's profile was not saved: %s", err.msg);
        return 0;
    }
    snprintf(note, cap, "This machine's profile: saved to %s (plan, run and sweep judge against it)", path);
    return 1;
}

int mw_cmd_roofline(int argc, char **argv)
{
    int json = 0, refresh = 0, c;
    mw_roofline_opts o;
    mw_roofline_opts_init(&o);
    mw_cli_operands ops = {.max = 0};
    optind = 1;
    opterr = 0;
    while ((c = mw_cli_getopt(argc, argv, "+:qrjh", mw_cmd_roofline_options, &ops)) != -1) {
        switch (c) {
        case 'q': o.quick = 1; break;
        case 'r': refresh = 1; break;
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
    char note[768];
    save_profile(r, o.quick, refresh, note, sizeof note);
    mw_status st = json ? mw_roofline_report_json(r, stdout, &err)
                        : mw_roofline_report_text(r, stdout, mw_cli_use_color(STDOUT_FILENO) ? MW_REPORT_COLOR : 0,
                                                  &err);
    mw_roofline_result_free(r);
    if (st != MW_OK) {
        mw_cli_error(NULL, "%s", err.msg);
        return MW_EXIT_FAILURE;
    }
    if (note[0]) {
        /* JSON on stdout stays one document: the note goes to stderr */
        if (json) fprintf(stderr, "memwall: %s\n", note);
        else if (printf("%s\n", note) < 0 || fflush(stdout) != 0) {
            mw_cli_error(NULL, "cannot write the roofline report");
            return MW_EXIT_FAILURE;
        }
    }
    return MW_EXIT_OK;
}
