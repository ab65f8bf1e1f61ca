/* vmstat.c - /proc/vmstat counters. */
#include "vmstat.h"
#include "common/error.h"
#include "common/fileio.h"

#include <string.h>

void mw_vmstat_parse(const char *text, mw_vmstat *out)
{
    memset(out, 0, sizeof *out);
    mw_text_field_u64(text, "pswpin", &out->pswpin);
    mw_text_field_u64(text, "pswpout", &out->pswpout);
    mw_text_field_u64(text, "pgmajfault", &out->pgmajfault);
    mw_text_field_u64(text, "workingset_refault_anon", &out->refault_anon);
    mw_text_field_u64(text, "workingset_refault_file", &out->refault_file);
    mw_text_field_u64(text, "oom_kill", &out->oom_kill);
    static const char *const stalls[] = {
        "allocstall_dma", "allocstall_dma32", "allocstall_normal", "allocstall_movable",
    };
    for (size_t i = 0; i < MW_ARRAY_LEN(stalls); i++) {
        uint64_t v;
        if (mw_text_field_u64(text, stalls[i], &v)) out->allocstall += v;
    }
}

mw_status mw_vmstat_read(mw_vmstat *out, mw_err *err)
{
    char buf[16384]; /* /proc/vmstat is ~5 KiB on 6.x */
    memset(out, 0, sizeof *out);
    MW_FORWARD(mw_read_text("/proc/vmstat", buf, sizeof buf, NULL, err));
    mw_vmstat_parse(buf, out);
    return MW_OK;
}
