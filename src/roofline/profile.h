/*
 * profile.h - internals of this machine's profile shared by the roofline
 * layer (profile.c: the key, the path) and the report layer
 * (report/profile_file.c: writing and reading the file).
 */
#ifndef MW_ROOFLINE_PROFILE_H
#define MW_ROOFLINE_PROFILE_H

#include "memwall.h"
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/*! mw_profile_locate() : mw_profile_path, and whether MEMWALL_PROFILE
 *  named the file (*overridden = 1: it is used whatever key it holds).
 *  @return MW_OK; MW_ERR_NOT_FOUND for MEMWALL_PROFILE=none;
 *  MW_ERR_UNAVAILABLE with neither XDG_CACHE_HOME nor HOME absolute */
mw_status mw_profile_locate(const mw_machine_key *k, char *buf, size_t cap, int *overridden, mw_err *err);

/* FNV-1a (64 bits) of the key's fields: the profile's file name. */
uint64_t mw_machine_key_hash(const mw_machine_key *k);

/* "Intel(R) Xeon(R) ..., 2 CPUs, 7.8 GiB, GPU none" */
void mw_machine_key_describe(const mw_machine_key *k, char *buf, size_t cap);

/* "2026-12-03 10:04 UTC" */
void mw_profile_time_text(time_t t, char *buf, size_t cap);

#endif
