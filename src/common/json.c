/* json.c - cJSON's allocator, set once (see json.h). */
#include "common/json.h"
#include "memwall.h"

#include <cjson/cJSON.h>
#include <pthread.h>

static void *json_malloc(size_t n) { return mw_malloc(n, MW_MEM_OTHER); }

static void install(void)
{
    cJSON_Hooks hooks = {json_malloc, mw_free};
    cJSON_InitHooks(&hooks);
}

void mw_json_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install);
}

uint64_t mw_json_mark(void)
{
    mw_mem_stats s;
    mw_mem_get_stats(&s);
    return s.failures;
}
