/*
 * profile.c - this machine's profile for the commands that judge against
 * its ceilings: sweep (measures it once when there is none), run and plan
 * (never measure; --refresh does), roofline (saves it). docs/ROOFLINE.md,
 * "The machine profile".
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mw_cli_profile_off(void)
{
    const char *env = getenv("MEMWALL_PROFILE");
    return env && !strcmp(env, "none");
}

/* Measures the ceilings (bandwidth and peaks, no tiers) and saves them as
 * this machine's profile. @return 1 with *out, 0 when the measurement
 * failed or was interrupted (said on stderr). */
static int measure_and_save(const mw_machine_key *k, int again, volatile sig_atomic_t *cancel, int quiet,
                            mw_ceilings *out)
{
    char path[512];
    mw_err err;
    int have_path = mw_profile_path(k, path, sizeof path, &err) == MW_OK;
    if (!have_path) mw_cli_error(NULL, "warning: %s; the ceilings are measured but not kept", err.msg);
    else if (!quiet)
        fprintf(stderr, "memwall: measuring this machine's ceilings %s (6 to 30 s); cached in %s\n",
                again ? "again" : "once", path);
    mw_roofline_opts o;
    mw_roofline_opts_init(&o);
    o.no_tiers = 1; /* the slower tiers bind nothing run or sweep judges */
    o.cancel = cancel;
    mw_roofline_result *r = NULL;
    if (mw_roofline_measure(&o, &r, &err) != MW_OK) {
        mw_cli_error(NULL, "warning: measuring this machine's ceilings failed: %s", err.msg);
        return 0;
    }
    if (r->interrupted_signal) {
        mw_roofline_result_free(r);
        return 0;
    }
    mw_ceilings_from_roofline(r, out);
    if (have_path) {
        if (mw_profile_save(r, k, &err) == MW_OK) snprintf(out->path, sizeof out->path, "%s", path);
        else mw_cli_error(NULL, "warning: the machine profile was not saved: %s", err.msg);
    }
    mw_roofline_result_free(r);
    return 1;
}

int mw_cli_ceilings(int measure, int refresh, volatile sig_atomic_t *cancel, int quiet, mw_ceilings *out)
{
    memset(out, 0, sizeof *out);
    if (mw_cli_profile_off()) return 0;
    mw_machine_key k;
    mw_err err;
    const char *env = getenv("MEMWALL_PROFILE");
    if (env && *env && !refresh) {
        /* a file named: used whatever its key, so the key (and NVML) is
         * needed only to measure */
        mw_status st = mw_profile_load(NULL, out, &err);
        if (st == MW_OK) return 1;
        if (st != MW_ERR_NOT_FOUND) mw_cli_error(NULL, "warning: %s", err.msg);
        if (!measure) return 0;
        refresh = 1;
    }
    if (mw_machine_key_read(&k, &err) != MW_OK) {
        mw_cli_error(NULL, "warning: no machine profile: %s", err.msg);
        return 0;
    }
    if (!refresh) {
        mw_status st = mw_profile_load(&k, out, &err);
        if (st == MW_OK) return 1;
        /* none yet, or another machine's: said by the reports; a damaged one
         * or an unreadable one: said here */
        if (st != MW_ERR_NOT_FOUND) mw_cli_error(NULL, "warning: %s", err.msg);
        if (!measure) return 0;
    }
    return measure_and_save(&k, refresh, cancel, quiet, out);
}
