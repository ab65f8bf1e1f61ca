/*
 * cmd_roofline.c - `memwall roofline [MODEL]`: this machine's measured
 * ceilings, and a model's decode steps and prefill placed against them.
 * Options are documented in cli/doc/roofline.txt.
 */
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* SIGINT, SIGTERM and SIGHUP during the measurement ask the library to
 * stop (mw_cli_stop_signal; it removes its swapfile and temporary file
 * first); what was measured is printed, and memwall exits 128 + the
 * signal. */

const struct option mw_cmd_roofline_options[] = {
    {"quick", no_argument, NULL, 'q'},
    {"refresh", no_argument, NULL, 'r'},
    {"json", no_argument, NULL, 'j'},
    {"swap", no_argument, NULL, 'S'},
    {"no-tiers", no_argument, NULL, 'T'},
    {"batch", required_argument, NULL, 'B'},
    {"ctx", required_argument, NULL, 'c'},
    {"prompt", required_argument, NULL, 'P'},
    {"measure", no_argument, NULL, 'M'},
    {"svg", required_argument, NULL, 's'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* --measure: the engine at each point (decode: prompt 16, gen 16 at its
 * batch; prefill: its prompt at batch 1), timed against its own plan. */
static int measure_points(const char *model, mw_placement *pl)
{
    mw_machine_memory mm;
    int have_mm = mw_machine_memory_read(&mm, NULL) == MW_OK && mm.host_available_bytes > 0;
    for (size_t i = 0; i < pl->n_points; i++) {
        mw_place_point *pt = &pl->points[i];
        mw_run_opts ro;
        mw_run_opts_init(&ro);
        ro.batch = pt->batch;
        ro.prompt = pt->prefill ? pt->tokens : 16;
        ro.gen = pt->prefill ? 0 : 16;
        if (have_mm) ro.mem_available_bytes = mm.host_available_bytes;
        fprintf(stderr, "memwall roofline: measuring %s ...\n", pt->label);
        mw_run_result *run = NULL;
        mw_err err;
        if (mw_run(model, &ro, &run, &err) != MW_OK) {
            mw_cli_error(NULL, "--measure %s: %s", pt->label, err.msg);
            return 0;
        }
        if (!mw_place_measured(pt, run, &pl->ceilings))
            fprintf(stderr, "memwall: --measure %s: the run timed no step\n", pt->label);
        mw_run_result_free(run);
    }
    return 1;
}

/* MODEL's points against the ceilings (r, when not NULL, gives the cache
 * levels), written as asked. */
static int place_model(const char *model, const mw_model *m, const mw_place_opts *po, const mw_ceilings *ceil,
                       const mw_roofline_result *r, int measure, int json, const char *svg)
{
    mw_err err;
    mw_placement *pl = NULL;
    if (mw_place_model(m, po, ceil, r, &pl, &err) != MW_OK) {
        mw_cli_error(NULL, "%s", err.msg);
        return MW_EXIT_FAILURE;
    }
    int code = MW_EXIT_OK;
    if (measure && !measure_points(model, pl)) code = MW_EXIT_FAILURE;
    if (code == MW_EXIT_OK && svg) {
        FILE *f = fopen(svg, "we");
        if (!f) {
            mw_cli_error(NULL, "cannot write the chart to %s: %s", svg, strerror(errno));
            code = MW_EXIT_FAILURE;
        } else {
            if (mw_placement_svg(pl, f, &err) != MW_OK) {
                mw_cli_error(NULL, "%s: %s", svg, err.msg);
                code = MW_EXIT_FAILURE;
            }
            if (fclose(f) != 0 && code == MW_EXIT_OK) {
                mw_cli_error(NULL, "cannot write the chart to %s: %s", svg, strerror(errno));
                code = MW_EXIT_FAILURE;
            }
        }
    }
    if (code == MW_EXIT_OK) {
        mw_status st = json ? mw_placement_report_json(pl, stdout, &err)
                            : mw_placement_report_text(pl, stdout,
                                                       mw_cli_use_color(STDOUT_FILENO) ? MW_REPORT_COLOR : 0, &err);
        if (st != MW_OK) {
            mw_cli_error(NULL, "%s", err.msg);
            code = MW_EXIT_FAILURE;
        }
    }
    mw_placement_free(pl);
    return code;
}

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
    int json = 0, refresh = 0, measure = 0, model_opts = 0, c;
    const char *svg = NULL;
    static uint32_t batches[MW_PLACE_MAX_BATCHES];
    mw_place_opts po;
    mw_place_opts_init(&po);
    mw_roofline_opts o;
    mw_roofline_opts_init(&o);
    mw_cli_operands ops = {.max = 1};
    optind = 1;
    opterr = 0;
    while ((c = mw_cli_getopt(argc, argv, "+:qrjh", mw_cmd_roofline_options, &ops)) != -1) {
        switch (c) {
        case 'q': o.quick = 1; break;
        case 'r': refresh = 1; break;
        case 'j': json = 1; break;
        case 'B':
            if (!mw_cli_parse_u32_list("roofline", "--batch", optarg, 1, MW_CLI_BATCH_MAX, batches,
                                       MW_PLACE_MAX_BATCHES, &po.n_batches))
                return MW_EXIT_USAGE;
            po.batches = batches;
            model_opts = 1;
            break;
        case 'c':
        case 'P':
            if (!mw_cli_parse_u32("roofline", c == 'c' ? "--ctx" : "--prompt", optarg, 1, MW_CLI_TOKENS_MAX,
                                  c == 'c' ? &po.ctx : &po.prompt))
                return MW_EXIT_USAGE;
            model_opts = 1;
            break;
        case 'M': measure = model_opts = 1; break;
        case 's': svg = optarg; model_opts = 1; break;
        case 'S': o.swap = 1; break;
        case 'T': o.no_tiers = 1; break;
        case 'h': fputs(mw_cli_doc_find("roofline")->help, stdout); return MW_EXIT_OK;
        case ':': mw_cli_error("roofline", "option '%s' needs a value", argv[optind - 1]); return MW_EXIT_USAGE;
        default:
            mw_cli_error("roofline", "unknown option '%s'", argv[optind - 1]);
            return MW_EXIT_USAGE;
        }
    }
    if (ops.n > 1) {
        mw_cli_error("roofline", "unexpected '%s': give one model only", ops.v[1]);
        return MW_EXIT_USAGE;
    }
    if (!ops.n && model_opts) {
        mw_cli_error("roofline", "--batch, --ctx, --prompt, --measure and --svg place a MODEL: give one");
        return MW_EXIT_USAGE;
    }
    mw_err err;
    mw_model *m = NULL;
    if (ops.n && mw_model_or_demo_open(ops.v[0], &m, &err) != MW_OK) {
        mw_cli_error(NULL, "%s", err.msg);
        return MW_EXIT_FAILURE;
    }
    if (m && measure && m->source != MW_SOURCE_GGUF && strcmp(ops.v[0], MW_DEMO_MODEL) != 0) {
        mw_cli_error("roofline", "--measure runs the engine, which takes a GGUF file or demo, not '%s'", ops.v[0]);
        mw_model_free(m);
        return MW_EXIT_USAGE;
    }
    mw_cli_stop_signal = 0;
    o.cancel = &mw_cli_stop_signal;
    /* A model is placed on this machine's profile (measured and saved once
     * when there is none, or with --refresh); with MEMWALL_PROFILE=none, on
     * ceilings measured now, and kept nowhere. */
    if (m && !mw_cli_profile_off()) {
        mw_ceilings ceil;
        mw_cli_catch_stop_signals(1);
        int have = mw_cli_ceilings(1, refresh, &mw_cli_stop_signal, 0, &ceil);
        mw_cli_catch_stop_signals(0);
        int code = mw_cli_stop_signal ? 128 + mw_cli_stop_signal
                 : have ? place_model(ops.v[0], m, &po, &ceil, NULL, measure, json, svg) : MW_EXIT_FAILURE;
        if (mw_cli_stop_signal)
            mw_cli_error(NULL, "roofline interrupted by %s: the model was not placed",
                         mw_signal_name(mw_cli_stop_signal));
        else if (!have) mw_cli_error(NULL, "no ceilings to place %s on (see the warning above)", ops.v[0]);
        mw_model_free(m);
        return code;
    }
    if (m) o.no_tiers = 1; /* a model is placed on bandwidth and peaks */
    mw_roofline_result *r = NULL;
    mw_cli_catch_stop_signals(1);
    const mw_status ms = mw_roofline_measure(&o, &r, &err);
    mw_cli_catch_stop_signals(0);
    if (ms != MW_OK) {
        mw_cli_error(NULL, "%s", err.msg);
        mw_model_free(m);
        return mw_cli_stop_signal ? 128 + mw_cli_stop_signal : MW_EXIT_FAILURE;
    }
    if (r->shrunk) fprintf(stderr, "memwall: %s\n", r->shrunk_reason);
    mw_ceilings ceil;
    mw_ceilings_from_roofline(r, &ceil);
    if (m) {
        const int sig = r->interrupted_signal ? r->interrupted_signal : mw_cli_stop_signal;
        int code = sig ? 128 + sig : place_model(ops.v[0], m, &po, &ceil, r, measure, json, svg);
        if (sig) mw_cli_error(NULL, "roofline interrupted by %s: the model was not placed", mw_signal_name(sig));
        mw_model_free(m);
        mw_roofline_result_free(r);
        return code;
    }
    char note[768];
    save_profile(r, o.quick, refresh, note, sizeof note);
    mw_status st = json ? mw_roofline_report_json(r, stdout, &err)
                        : mw_roofline_report_text(r, stdout, mw_cli_use_color(STDOUT_FILENO) ? MW_REPORT_COLOR : 0,
                                                  &err);
    const int sig = r->interrupted_signal ? r->interrupted_signal : mw_cli_stop_signal;
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
    if (sig) {
        mw_cli_error(NULL, "roofline interrupted by %s: what was measured is shown", mw_signal_name(sig));
        return 128 + sig;
    }
    return MW_EXIT_OK;
}
