/* ceilings.c - a workload against this machine's ceilings, for the run and
 * plan reports. */
#include "report/ceilings.h"

#include <stdio.h>

int mw_ceilings_usable(const mw_ceilings *c)
{
    return c && c->dram_read_bytes_per_second > 0 && c->peak_flops_f32 > 0;
}

const char *mw_ceilings_binds(double bandwidth_fraction, double compute_fraction)
{
    if (bandwidth_fraction < MW_CEILING_NEAR && compute_fraction < MW_CEILING_NEAR) return "below_both";
    return bandwidth_fraction >= compute_fraction ? "bandwidth" : "compute";
}

const char *mw_rate_format(double v, const char *unit, char *buf, size_t cap)
{
    const char *p = "";
    if (v >= 1e12) { v /= 1e12; p = "T"; }
    else if (v >= 1e9) { v /= 1e9; p = "G"; }
    else if (v >= 1e6) { v /= 1e6; p = "M"; }
    else if (v >= 1e3) { v /= 1e3; p = "k"; }
    snprintf(buf, cap, "%.1f %s%s", v, p, unit);
    return buf;
}

const char *mw_rate_pair_format(double v, double of, const char *unit, char *buf, size_t cap)
{
    double d = 1;
    const char *p = "";
    if (of >= 1e12) { d = 1e12; p = "T"; }
    else if (of >= 1e9) { d = 1e9; p = "G"; }
    else if (of >= 1e6) { d = 1e6; p = "M"; }
    else if (of >= 1e3) { d = 1e3; p = "k"; }
    snprintf(buf, cap, "%.1f of %.1f %s%s", v / d, of / d, p, unit);
    return buf;
}

const char *mw_seconds_format(double s, char *buf, size_t cap)
{
    if (s >= 1) snprintf(buf, cap, "%.2f s", s);
    else if (s >= 1e-3) snprintf(buf, cap, "%.3g ms", s * 1e3);
    else snprintf(buf, cap, "%.3g us", s * 1e6);
    return buf;
}

void mw_json_add_ceilings_source(cJSON *o, const mw_ceilings *c)
{
    cJSON_AddStringToObject(o, "profile", c->path);
    cJSON_AddStringToObject(o, "machine", c->machine);
    cJSON_AddStringToObject(o, "measured", c->measured);
    cJSON_AddNumberToObject(o, "dram_read_bytes_per_second", c->dram_read_bytes_per_second);
    cJSON_AddNumberToObject(o, "peak_flops_f32", c->peak_flops_f32);
    cJSON_AddBoolToObject(o, "noisy", c->noisy);
}
