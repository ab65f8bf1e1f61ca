/*
 * test_rng.h - the unit tests' random numbers: xorshift64* (Vigna),
 * seeded per test so every failure replays. Header-only (static), one
 * stream per test binary.
 */
#ifndef MW_TEST_RNG_H
#define MW_TEST_RNG_H

#include <stdint.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static inline void rng_seed(uint64_t s)
{
    rng_state = s * 0x9e3779b97f4a7c15ull + 1;
}

static inline uint64_t rng_u64(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

/* uniform in [-1, 1) */
static inline float rng_f(void)
{
    return (float)((double)(rng_u64() >> 11) * 0x1p-52 - 1.0);
}

#endif
