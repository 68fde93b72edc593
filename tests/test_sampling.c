/*
 * test_sampling.c -- sampling is exact: for short strings under a small model, every
 * segmentation is enumerated with its probability P(seg)^alpha / Z, and the sampler's
 * frequencies over 20,000 draws pass a chi-square test. Seeds are fixed, so the test is
 * deterministic; it checks the default generator and the glibc parity mode.
 */
#include <math.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bytepiece.h"
#include "test_util.h"

#define MAX_SEGS 256
#define MAX_TOKENS 16
#define N_DRAWS 20000

static const char *const WORDS[] = {"ab", "abc", "bc", "bcd", "cd", "abcd", "da", "dab", "aa", "aaa"};
static const uint64_t WORD_COUNTS[] = {50, 20, 40, 9, 30, 7, 11, 5, 25, 6};

typedef struct segmentation {
    uint32_t ids[MAX_TOKENS];
    size_t n;
    double log_weight; /* alpha * sum of scores */
} segmentation;

typedef struct seg_list {
    segmentation segs[MAX_SEGS];
    size_t n;
} seg_list;

static void enumerate(const bp_model *m, const char *x, size_t len, double alpha,
                      segmentation *cur, seg_list *out)
{
    if (len == 0) {
        assert_true(out->n < MAX_SEGS);
        out->segs[out->n++] = *cur;
        return;
    }
    for (size_t l = 1; l <= len; l++) {
        uint32_t id = bp_model_piece_id(m, x, l);
        if (id == BP_ID_NONE)
            continue;
        segmentation next = *cur;
        assert_true(next.n < MAX_TOKENS);
        next.ids[next.n++] = (uint32_t)id;
        next.log_weight += alpha * bp_model_piece_score(m, (uint32_t)id);
        enumerate(m, x + l, len - l, alpha, &next, out);
    }
}

static size_t find_seg(const seg_list *segs, const uint32_t *ids, size_t n)
{
    for (size_t i = 0; i < segs->n; i++)
        if (segs->segs[i].n == n && memcmp(segs->segs[i].ids, ids, n * sizeof *ids) == 0)
            return i;
    fail_msg("the sampler produced a segmentation that does not exist");
    return 0;
}

/* Upper 0.1% point of chi-square with k degrees of freedom (Wilson-Hilferty). */
static double chi2_critical(size_t k)
{
    double z = 3.0902, h = 2.0 / (9.0 * (double)k);
    double c = 1.0 - h + z * sqrt(h);
    return (double)k * c * c * c;
}

/* Draws N_DRAWS segmentations of `text` and returns the chi-square statistic against the
 * exact distribution; *df receives the degrees of freedom. */
static double sample_chi2(const bp_model *m, const char *text, double alpha, bp_rng *rng,
                          size_t *df)
{
    static seg_list segs;
    segs.n = 0;
    segmentation empty = {.n = 0, .log_weight = 0};
    enumerate(m, text, strlen(text), alpha, &empty, &segs);
    double max_w = -INFINITY, z = 0;
    for (size_t i = 0; i < segs.n; i++)
        max_w = fmax(max_w, segs.segs[i].log_weight);
    for (size_t i = 0; i < segs.n; i++)
        z += exp(segs.segs[i].log_weight - max_w);

    bp_encoder *enc;
    assert_int_equal(bp_encoder_create(m, &enc, NULL), BP_OK);
    size_t counts[MAX_SEGS] = {0};
    bp_encode_options o = bp_test_options(alpha, BP_ENCODE_NO_NORMALIZE, rng);
    for (int d = 0; d < N_DRAWS; d++) {
        uint32_t ids[MAX_TOKENS];
        size_t n;
        assert_int_equal(bp_encode(enc, text, strlen(text), &o, ids, NULL, MAX_TOKENS, &n, NULL), BP_OK);
        counts[find_seg(&segs, ids, n)]++;
    }
    bp_encoder_free(enc);

    double chi2 = 0;
    for (size_t i = 0; i < segs.n; i++) {
        double expected = N_DRAWS * exp(segs.segs[i].log_weight - max_w) / z;
        chi2 += (counts[i] - expected) * (counts[i] - expected) / expected;
    }
    *df = segs.n - 1;
    return chi2;
}

static const char *const TEXTS[] = {"abcd", "aaaa", "dabcd", "abcdab"};
static const double ALPHAS[] = {0.0, 0.1, 1.0};

static void check_all(bool glibc)
{
    bp_model *m = bp_test_small_model(WORDS, WORD_COUNTS, sizeof WORDS / sizeof WORDS[0]);
    for (size_t t = 0; t < sizeof TEXTS / sizeof TEXTS[0]; t++)
        for (size_t a = 0; a < sizeof ALPHAS / sizeof ALPHAS[0]; a++) {
            bp_rng rng;
            if (glibc)
                bp_rng_seed_glibc(&rng, (uint32_t)(1000 + 10 * t + a));
            else
                bp_rng_seed(&rng, 1000 + 10 * t + a, 0);
            size_t df;
            double chi2 = sample_chi2(m, TEXTS[t], ALPHAS[a], &rng, &df);
            assert_true(df >= 3); /* the texts must have several segmentations to test */
            if (chi2 >= chi2_critical(df))
                fail_msg("%s alpha %.1f: chi2 %.2f with %zu df exceeds %.2f", TEXTS[t],
                         ALPHAS[a], chi2, df, chi2_critical(df));
        }
    bp_model_free(m);
}

static void test_sampling_is_exact(void **state)
{
    (void)state;
    check_all(false);
}

static void test_glibc_parity_sampling_is_exact(void **state)
{
    (void)state;
    check_all(true);
}

/* Encodes `text` 50 times with fresh rngs of (seed, stream = draw) into one id stream. */
static size_t draw_series(const bp_model *m, const char *text, uint64_t seed, uint32_t *out)
{
    bp_encoder *enc;
    assert_int_equal(bp_encoder_create(m, &enc, NULL), BP_OK);
    size_t total = 0;
    for (uint64_t k = 0; k < 50; k++) {
        bp_rng rng;
        bp_rng_seed(&rng, seed, k);
        bp_encode_options o = {0.5, BP_ENCODE_NO_NORMALIZE | BP_ENCODE_SAMPLE, &rng};
        size_t n;
        assert_int_equal(bp_encode(enc, text, strlen(text), &o, out + total, NULL, 64, &n, NULL), BP_OK);
        total += n;
    }
    bp_encoder_free(enc);
    return total;
}

static void test_seeds_reproduce_and_differ(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(WORDS, WORD_COUNTS, sizeof WORDS / sizeof WORDS[0]);
    static uint32_t a[50 * 64], b[50 * 64], c[50 * 64];
    const char *text = "abcdabcdaaaadabcd";
    size_t na = draw_series(m, text, 7, a), nb = draw_series(m, text, 7, b);
    size_t nc = draw_series(m, text, 8, c);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na * sizeof *a);
    assert_true(na != nc || memcmp(a, c, na * sizeof *a) != 0);
    bp_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sampling_is_exact),
        cmocka_unit_test(test_glibc_parity_sampling_is_exact),
        cmocka_unit_test(test_seeds_reproduce_and_differ),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
