/* json_util.h - cJSON helpers shared by every JSON report: null for unknown. */
#ifndef MW_REPORT_JSON_UTIL_H
#define MW_REPORT_JSON_UTIL_H

#include "memwall.h"
#include <cjson/cJSON.h>

/* Adds v, or null when v is MW_UNKNOWN. */
void mw_json_add_u64(cJSON *o, const char *key, uint64_t v);
/* Adds v, or null when !known. */
void mw_json_add_int_or_null(cJSON *o, const char *key, long long v, int known);
/* Adds seconds, or null when negative (unknown). */
void mw_json_add_seconds(cJSON *o, const char *key, double v);

/* The hyperparameters as an object's keys (inspect and plan share them). */
void mw_json_add_hparams(cJSON *o, const mw_hparams *hp);

#endif
