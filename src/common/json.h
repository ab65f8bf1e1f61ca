/*
 * json.h - the one place cJSON's allocator is set: through mw_malloc, so
 * JSON parsing (format/) and printing (report/) are counted and reached by
 * fault injection. cJSON's hooks are global, so they are installed once,
 * before the first tree is made, and never changed again.
 */
#ifndef MW_COMMON_JSON_H
#define MW_COMMON_JSON_H

/* Idempotent and thread-safe. Call before any cJSON use. */
void mw_json_init(void);

#endif /* MW_COMMON_JSON_H */
