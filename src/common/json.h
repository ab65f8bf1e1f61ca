/*
 * json.h - the one place cJSON's allocator is set: through mw_malloc, so
 * JSON parsing (format/) and printing (report/) are counted and reached by
 * fault injection. cJSON's hooks are global, so they are installed once,
 * before the first tree is made, and never changed again.
 */
#ifndef MW_COMMON_JSON_H
#define MW_COMMON_JSON_H

#include <stdint.h>

/* Idempotent and thread-safe. Call before any cJSON use. */
void mw_json_init(void);

/* The allocator's failure count now. cJSON drops a key or value it cannot
 * allocate and carries on, so a writer takes the mark before building a
 * document and refuses it when the count moved meanwhile (a key would be
 * missing). */
uint64_t mw_json_mark(void);

#endif /* MW_COMMON_JSON_H */
