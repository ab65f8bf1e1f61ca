/* json_util.c - cJSON helpers for reports: null for unknown. */
#include "report/json_util.h"

void mw_json_add_u64(cJSON *o, const char *key, uint64_t v)
{
    if (v == MW_UNKNOWN) cJSON_AddNullToObject(o, key);
    else cJSON_AddNumberToObject(o, key, (double)v);
}

void mw_json_add_int_or_null(cJSON *o, const char *key, long long v, int known)
{
    if (!known) cJSON_AddNullToObject(o, key);
    else cJSON_AddNumberToObject(o, key, (double)v);
}

void mw_json_add_seconds(cJSON *o, const char *key, double v)
{
    if (v < 0) cJSON_AddNullToObject(o, key);
    else cJSON_AddNumberToObject(o, key, v);
}
