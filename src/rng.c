/*
 * rng.c -- the caller-owned random state used by the sampler.
 *
 * Default mode: xoshiro256** seeded through splitmix64 from (seed, stream), so every text
 * of a run gets its own independent stream and results do not depend on how texts are
 * spread over threads. Integer arithmetic only: the same draws on every platform.
 *
 * Parity mode: glibc's TYPE_3 additive feedback generator behind srand()/rand(), which the
 * reference sampler uses (docs/algorithms.md §4.4.4 item 1): r[0] = seed (0 counts as 1),
 * r[i] = 16807 r[i-1] mod (2^31 - 1) for i < 31, r[i] = r[i-31] for i = 31..33,
 * r[i] = r[i-31] + r[i-3] (mod 2^32) after that, and output k is r[k + 344] >> 1.
 *
 * bp_rng.opaque_ layout: [0] = mode; default: [1..4] = xoshiro state;
 * glibc: [1] = ring position, [2..17] = the 31-entry ring as 32-bit words.
 */
#include <string.h>

#include "bp_internal.h"

enum { MODE_XOSHIRO = 0x5eed, MODE_GLIBC = 0x61bc };
#define GLIBC_DEG 31
#define GLIBC_SEP 3

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

void bp_rng_seed(bp_rng *rng, uint64_t seed, uint64_t stream)
{
    memset(rng, 0, sizeof *rng);
    rng->opaque_[0] = MODE_XOSHIRO;
    /* Mix the stream index through its own splitmix64 step before combining, so that
     * neighbouring (seed, stream) pairs do not give overlapping sequences. */
    uint64_t s = stream ^ UINT64_C(0xD1B54A32D192ED03);
    uint64_t x = seed ^ splitmix64(&s);
    for (int i = 1; i <= 4; i++)
        rng->opaque_[i] = splitmix64(&x);
}

static uint32_t *glibc_ring(bp_rng *rng) { return (uint32_t *)(void *)&rng->opaque_[2]; }

/* One step of the additive feedback generator: the front pointer sits GLIBC_SEP ahead of
 * the rear one, modulo the ring size. */
static uint32_t glibc_step(bp_rng *rng)
{
    uint32_t *r = glibc_ring(rng);
    uint32_t rear = (uint32_t)rng->opaque_[1];
    uint32_t front = (rear + GLIBC_SEP) % GLIBC_DEG;
    uint32_t v = r[front] += r[rear];
    rng->opaque_[1] = (rear + 1) % GLIBC_DEG;
    return v;
}

void bp_rng_seed_glibc(bp_rng *rng, uint32_t seed)
{
    memset(rng, 0, sizeof *rng);
    rng->opaque_[0] = MODE_GLIBC;
    uint32_t *r = glibc_ring(rng);
    int32_t word = seed == 0 ? 1 : (int32_t)seed;
    r[0] = (uint32_t)word;
    for (int i = 1; i < GLIBC_DEG; i++) {
        /* 16807 * word mod (2^31 - 1) without overflow (Schrage's method). */
        int32_t hi = word / 127773, lo = word % 127773;
        word = 16807 * lo - 2836 * hi;
        if (word < 0)
            word += 2147483647;
        r[i] = (uint32_t)word;
    }
    rng->opaque_[1] = 0;
    for (int i = 0; i < 10 * GLIBC_DEG; i++)
        glibc_step(rng);
}

bool bp_rng_is_glibc(const bp_rng *rng) { return rng->opaque_[0] == MODE_GLIBC; }

int32_t bp_rng_glibc_rand(bp_rng *rng) { return (int32_t)(glibc_step(rng) >> 1); }

uint64_t bp_rng_next(bp_rng *rng)
{
    if (bp_rng_is_glibc(rng)) /* 31 bits per draw: join three */
        return ((uint64_t)bp_rng_glibc_rand(rng) << 33) ^ ((uint64_t)bp_rng_glibc_rand(rng) << 2) ^
               (uint64_t)bp_rng_glibc_rand(rng);
    return bp_xoshiro_next(&rng->opaque_[1]);
}

double bp_rng_uniform(bp_rng *rng) { return (double)(bp_rng_next(rng) >> 11) * 0x1.0p-53; }
