/*
 * alloc.c - the counting allocator (after redis zmalloc and SQLite malloc.c).
 *
 * Each block carries a 16-byte header holding its size and tag, so free()
 * can subtract what it adds without asking libc (malloc_usable_size is not
 * portable and over-counts). 16 bytes keeps the user pointer aligned for any
 * type malloc would serve.
 *
 *   [ size | tag | pad ][ user bytes ... ]
 *   ^ header (16 B)      ^ returned pointer
 *
 * Counters are C11 atomics: the engine allocates from worker threads.
 */
#include "memwall.h"
#include "common/test_hooks.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct block_header {
    uint64_t size;
    uint32_t tag;
    uint32_t magic;
} block_header;

#define HEADER_MAGIC 0x4d57414cu /* "MWAL" */

_Static_assert(sizeof(block_header) == 16, "header keeps 16-byte alignment");

static _Atomic uint64_t current_bytes[MW_MEM_TAG_COUNT];
static _Atomic uint64_t peak_bytes[MW_MEM_TAG_COUNT];
static _Atomic uint64_t total_current;
static _Atomic uint64_t total_peak;
static _Atomic uint64_t n_allocations;
static _Atomic uint64_t n_failures;

/* Fault injection: countdown to the allocation that fails; 0 = off.
 * fail_env_read: MEMWALL_FAIL_ALLOC consulted once. */
static _Atomic uint64_t fail_countdown;
static atomic_int fail_env_read;

static void atomic_max(_Atomic uint64_t *slot, uint64_t v)
{
    uint64_t cur = atomic_load_explicit(slot, memory_order_relaxed);
    while (v > cur &&
           !atomic_compare_exchange_weak_explicit(slot, &cur, v, memory_order_relaxed,
                                                  memory_order_relaxed)) {
    }
}

static void count_add(mw_mem_tag tag, uint64_t size)
{
    uint64_t c = atomic_fetch_add_explicit(&current_bytes[tag], size, memory_order_relaxed) + size;
    atomic_max(&peak_bytes[tag], c);
    uint64_t t = atomic_fetch_add_explicit(&total_current, size, memory_order_relaxed) + size;
    atomic_max(&total_peak, t);
    atomic_fetch_add_explicit(&n_allocations, 1, memory_order_relaxed);
}

static void count_sub(mw_mem_tag tag, uint64_t size)
{
    atomic_fetch_sub_explicit(&current_bytes[tag], size, memory_order_relaxed);
    atomic_fetch_sub_explicit(&total_current, size, memory_order_relaxed);
}

static int should_fail(void)
{
    if (!atomic_load_explicit(&fail_env_read, memory_order_acquire)) {
        int expected = 0;
        if (atomic_compare_exchange_strong(&fail_env_read, &expected, 1)) {
            const char *env = getenv("MEMWALL_FAIL_ALLOC");
            if (env && *env) atomic_store(&fail_countdown, strtoull(env, NULL, 10));
        }
    }
    uint64_t c = atomic_load_explicit(&fail_countdown, memory_order_relaxed);
    while (c != 0) {
        if (atomic_compare_exchange_weak(&fail_countdown, &c, c - 1)) {
            if (c == 1) {
                atomic_fetch_add_explicit(&n_failures, 1, memory_order_relaxed);
                return 1;
            }
            return 0;
        }
    }
    return 0;
}

void mw_mem_fail_after(uint64_t n)
{
    atomic_store(&fail_env_read, 1);
    atomic_store(&fail_countdown, n);
}

static mw_mem_tag clamp_tag(mw_mem_tag tag)
{
    return (unsigned)tag < MW_MEM_TAG_COUNT ? tag : MW_MEM_OTHER;
}

void *mw_malloc(size_t size, mw_mem_tag tag)
{
    tag = clamp_tag(tag);
    if (size > SIZE_MAX - sizeof(block_header) || should_fail()) return NULL;
    block_header *h = malloc(sizeof *h + size);
    if (!h) {
        atomic_fetch_add_explicit(&n_failures, 1, memory_order_relaxed);
        return NULL;
    }
    h->size = size;
    h->tag = (uint32_t)tag;
    h->magic = HEADER_MAGIC;
    count_add(tag, size);
    return h + 1;
}

void *mw_calloc(size_t n, size_t size, mw_mem_tag tag)
{
    if (size && n > SIZE_MAX / size) return NULL;
    void *p = mw_malloc(n * size, tag);
    if (p) memset(p, 0, n * size);
    return p;
}

void mw_free(void *ptr)
{
    if (!ptr) return;
    block_header *h = (block_header *)ptr - 1;
    if (h->magic != HEADER_MAGIC) abort(); /* not ours, or freed twice */
    h->magic = 0;
    count_sub((mw_mem_tag)h->tag, h->size);
    free(h);
}

void *mw_realloc(void *ptr, size_t size, mw_mem_tag tag)
{
    if (!ptr) return mw_malloc(size, tag);
    block_header *h = (block_header *)ptr - 1;
    if (h->magic != HEADER_MAGIC) abort();
    if (size > SIZE_MAX - sizeof(block_header) || should_fail()) return NULL;
    uint64_t old = h->size;
    mw_mem_tag old_tag = (mw_mem_tag)h->tag;
    block_header *nh = realloc(h, sizeof *nh + size);
    if (!nh) {
        atomic_fetch_add_explicit(&n_failures, 1, memory_order_relaxed);
        return NULL;
    }
    count_sub(old_tag, old);
    tag = clamp_tag(tag);
    nh->size = size;
    nh->tag = (uint32_t)tag;
    count_add(tag, size);
    return nh + 1;
}

char *mw_strdup(const char *s, mw_mem_tag tag)
{
    size_t n = strlen(s) + 1;
    char *p = mw_malloc(n, tag);
    if (p) memcpy(p, s, n);
    return p;
}

void mw_mem_get_stats(mw_mem_stats *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < MW_MEM_TAG_COUNT; i++) {
        out->current_bytes[i] = atomic_load(&current_bytes[i]);
        out->peak_bytes[i] = atomic_load(&peak_bytes[i]);
    }
    out->total_current_bytes = atomic_load(&total_current);
    out->total_peak_bytes = atomic_load(&total_peak);
    out->allocations = atomic_load(&n_allocations);
    out->failures = atomic_load(&n_failures);
}

const char *mw_mem_tag_name(mw_mem_tag tag)
{
    static const char *const names[MW_MEM_TAG_COUNT] = {
        "other", "probe", "report", "weights", "kv_cache", "activations", "scratch",
    };
    return (unsigned)tag < MW_MEM_TAG_COUNT ? names[tag] : "unknown";
}
