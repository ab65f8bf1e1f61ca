/*
 * ceilings.c - the ceilings a roofline measurement gives (mw_ceilings).
 *
 * MERGE NOTE: the machine-profile branch (wt-profile) implements
 * mw_ceilings_from_roofline in src/roofline/profile.c with the same rule;
 * this file exists only so that `memwall roofline MODEL` links on its own
 * branch: drop it when both are merged (the linker will say so).
 */
#include "memwall.h"

#include <string.h>

void mw_ceilings_from_roofline(const mw_roofline_result *r, mw_ceilings *out)
{
    memset(out, 0, sizeof *out);
    out->dram_read_bytes_per_second = -1;
    out->peak_flops_f32 = out->peak_flops_bf16 = out->peak_ops_int8 = -1;
    if (!r) return;
    if (r->n_levels > 0) {
        const mw_roofline_figure *d = &r->levels[r->n_levels - 1].bw[MW_RL_READ][1];
        if (d->max > 0) {
            out->dram_read_bytes_per_second = d->max;
            out->noisy |= d->noisy;
        }
    }
    if (r->flops_f32[1].max > 0) {
        out->peak_flops_f32 = r->flops_f32[1].max;
        out->noisy |= r->flops_f32[1].noisy;
    }
    if (r->flops_bf16[1].max > 0) out->peak_flops_bf16 = r->flops_bf16[1].max;
    if (r->ops_int8[1].max > 0) out->peak_ops_int8 = r->ops_int8[1].max;
    out->threads = r->threads;
}
