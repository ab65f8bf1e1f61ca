/*
 * cmd_roofline.c - `memwall roofline`: this machine's measured ceilings.
 * Options are documented in cli/doc/roofline.txt.
 */
#include "cli.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* SIGINT and SIGTERM during the measurement ask the library to stop (it
 * removes its swapfile and temporary file first); what was measured is
 * printed, and memwall exits 128 + the signal. */
static volatile sig_atomic_t stop_signal;
static void on_stop_signal(int sig) { if (!stop_signal) stop_signal = sig; }
static void stop_signals(void (*handler)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

const struct option mw_cmd_roofline_options[] = {
    {"quick", no_argument, NULL, 'q'},
    {"json", no_argument, NULL, 'j'},
    {"swap", no_argument, NULL, 'S'},
    {"no-tiers", no_argument, NULL, 'T'},
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
        case 'S': o.swap = 1; break;
        case 'T': o.no_tiers = 1; break;
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
    stop_signal = 0;
    o.cancel = &stop_signal;
    stop_signals(on_stop_signal);
    const mw_status ms = mw_roofline_measure(&o, &r, &err);
    stop_signals(SIG_DFL);
    if (ms != MW_OK) {
        mw_cli_error(NULL, "%s", err.msg);
        return stop_signal ? 128 + stop_signal : MW_EXIT_FAILURE;
    }
    if (r->shrunk) fprintf(stderr, "memwall: %s\n", r->shrunk_reason);
    mw_status st = json ? mw_roofline_report_json(r, stdout, &err)
                        : mw_roofline_report_text(r, stdout, mw_cli_use_color(STDOUT_FILENO) ? MW_REPORT_COLOR : 0,
                                                  &err);
    const int sig = r->interrupted_signal ? r->interrupted_signal : stop_signal;
    mw_roofline_result_free(r);
    if (st != MW_OK) {
        mw_cli_error(NULL, "%s", err.msg);
        return MW_EXIT_FAILURE;
    }
    if (sig) {
        mw_cli_error(NULL, "roofline interrupted by %s: what was measured is shown", mw_signal_name(sig));
        return 128 + sig;
    }
    return MW_EXIT_OK;
}
