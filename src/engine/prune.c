/*
 * prune.c - the keep-mask of one output row (prune.h): magnitude or Wanda
 * scores, unstructured (exactly `keep` per row) or 2:4.
 *
 * Scores are compared through their ordered keys: a float's bits mapped to
 * a uint32_t whose unsigned order is the float order (positive: sign bit
 * set; negative: all bits flipped), -0 read as +0, NaN mapped to 0, below
 * every other key (-inf maps to 0x007FFFFF). Unstructured selection is a
 * radix select on those keys: four passes, each counting, among the values
 * whose key matches the byte prefix found so far, how many fall in each of
 * the 256 buckets of the next byte, going down from the top bucket until
 * `keep` is reached. The result is the key T of the keep-th largest score
 * and how many of the kept must equal T (the others are > T); the marking
 * pass keeps every key > T and the first ones equal to T, lowest index
 * first. Exact, O(k), no allocation: 256 counters on the stack, and for a
 * row of at most PRUNE_KEYS_STACK values its keys (computed once; a wider
 * row's are recomputed in each of the five passes).
 */
#include "engine/prune.h"

#include <math.h>
#include <string.h>

/* The widest row whose scores' keys are kept on the stack (64 KiB). */
#define PRUNE_KEYS_STACK 16384

static inline uint32_t score_key(float s)
{
    if (s != s) return 0;            /* NaN: the smallest */
    if (s == 0.0f) s = 0.0f;         /* -0 == +0 */
    uint32_t b;
    memcpy(&b, &s, sizeof b);
    return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

static inline float score_of(const float *w, const float *col_norm, int64_t j)
{
    float a = fabsf(w[j]);
    return col_norm ? a * col_norm[j] : a;
}

static inline uint32_t key_at(const float *w, const float *col_norm, int64_t j)
{
    return score_key(score_of(w, col_norm, j));
}

/* 2:4 on one group of n <= 4 values starting at j0: keep the min(2, n)
 * largest (ties: lower index). */
static void mask_group(const float *w, const float *col_norm, int64_t j0, int n, uint64_t *mask)
{
    uint32_t key[4];
    for (int i = 0; i < n; i++) key[i] = key_at(w, col_norm, j0 + i);
    for (int i = 0; i < n; i++) {
        int rank = 0;                /* how many come before i */
        for (int o = 0; o < n; o++)
            if (key[o] > key[i] || (key[o] == key[i] && o < i)) rank++;
        if (rank < 2) mask[(j0 + i) >> 6] |= 1ull << ((j0 + i) & 63);
    }
}

void mw_prune_row_mask(const float *w, const float *col_norm, int64_t k, mw_prune_kind kind, int64_t keep,
                       uint64_t *mask)
{
    if (k <= 0) return;
    int64_t words = (k + 63) / 64;
    memset(mask, 0, (size_t)words * sizeof *mask);
    if (kind == MW_PRUNE_2_4) {
        for (int64_t j = 0; j < k; j += 4) mask_group(w, col_norm, j, k - j < 4 ? (int)(k - j) : 4, mask);
        return;
    }
    if (kind != MW_PRUNE_RATIO || keep >= k) { /* NONE, or keep all */
        for (int64_t j = 0; j < k; j++) mask[j >> 6] |= 1ull << (j & 63);
        return;
    }
    if (keep <= 0) return;
    /* rows of up to PRUNE_KEYS_STACK values: their keys computed once into a
     * stack buffer (64 KiB); wider rows recompute them in every pass */
    uint32_t keys[PRUNE_KEYS_STACK];
    const int cached = k <= PRUNE_KEYS_STACK;
    if (cached)
        for (int64_t j = 0; j < k; j++) keys[j] = key_at(w, col_norm, j);
#define KEY(j) (cached ? keys[j] : key_at(w, col_norm, j))
    /* radix select: the key T of the keep-th largest score */
    uint32_t prefix = 0, pmask = 0;  /* the bytes of T found so far */
    int64_t need = keep;             /* still to keep among keys matching prefix */
    for (int shift = 24; shift >= 0; shift -= 8) {
        int64_t count[256] = {0};
        for (int64_t j = 0; j < k; j++) {
            uint32_t key = KEY(j);
            if ((key & pmask) == prefix) count[(key >> shift) & 255]++;
        }
        int b = 255;
        while (count[b] < need) need -= count[b--]; /* terminates: Σ count >= need */
        prefix |= (uint32_t)b << shift;
        pmask |= 255u << shift;
    }
    /* keep every key > T, and the first `need` keys == T */
    for (int64_t j = 0; j < k; j++) {
        uint32_t key = KEY(j);
        if (key > prefix || (key == prefix && need-- > 0)) mask[j >> 6] |= 1ull << (j & 63);
    }
#undef KEY
}
