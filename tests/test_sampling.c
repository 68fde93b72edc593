/*
 * test_sampling.c -- sampling is exact: for short strings under a small model, every
 * segmentation is enumerated with its probability P(seg)^alpha / Z, and the sampler's
 * frequencies over 20,000 draws pass a chi-square test. Seeds are fixed, so the test is
 * deterministic; it checks the default generator and the glibc parity mode. Huge alphas
 * (up to 1e308, where alpha * score overflows) must give the best segmentation, and tied
 * best segmentations in their exact shares.
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

/* Seeds the default generator (stream 0) or the glibc parity mode. */
static void seed_rng(bp_rng *rng, bool glibc, uint64_t seed)
{
    if (glibc)
        bp_rng_seed_glibc(rng, (uint32_t)seed);
    else
        bp_rng_seed(rng, seed, 0);
}

static const char *const TEXTS[] = {"abcd", "aaaa", "dabcd", "abcdab"};
static const double ALPHAS[] = {0.0, 0.1, 1.0};

static void check_all(bool glibc)
{
    bp_model *m = bp_test_small_model(WORDS, WORD_COUNTS, sizeof WORDS / sizeof WORDS[0]);
    for (size_t t = 0; t < sizeof TEXTS / sizeof TEXTS[0]; t++)
        for (size_t a = 0; a < sizeof ALPHAS / sizeof ALPHAS[0]; a++) {
            bp_rng rng;
            seed_rng(&rng, glibc, 1000 + 10 * t + a);
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

static const double HUGE_ALPHAS[] = {1e6, 1e100, 1e308};

/* The sum of the scores of ids[0..n) from the left, in the order the Viterbi pass adds. */
static double score_sum(const bp_model *m, const uint32_t *ids, size_t n)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += bp_model_piece_score(m, ids[i]);
    return sum;
}

/* Samples each line of text[0..len) (one chunk each) at `alpha` and compares it with the
 * best segmentation. A sample may differ only where another segmentation is as good up to
 * 100 / alpha (a weight of e^-100 or more): at alpha 1e308 that is an exact tie, since
 * any difference of scores times 1e308 is larger. Returns how many lines equal the best
 * segmentation; *n_lines gets the number of lines. */
static size_t count_best_samples(const bp_model *m, const unsigned char *text, size_t len,
                                 double alpha, bool glibc, size_t *n_lines)
{
    bp_encoder *enc;
    assert_int_equal(bp_encoder_create(m, &enc, NULL), BP_OK);
    uint32_t *best = malloc((len + 1) * sizeof *best), *got = malloc((len + 1) * sizeof *got);
    assert_true(best && got);
    bp_rng rng;
    seed_rng(&rng, glibc, 77);
    bp_encode_options det = bp_test_options(-1.0, BP_ENCODE_NO_NORMALIZE, NULL);
    bp_encode_options sam = bp_test_options(alpha, BP_ENCODE_NO_NORMALIZE, &rng);
    size_t same = 0, lines = 0;
    for (size_t pos = 0; pos < len; lines++) {
        const unsigned char *nl = memchr(text + pos, '\n', len - pos);
        size_t line_len = nl ? (size_t)(nl - text) + 1 - pos : len - pos;
        size_t n_best, n_got;
        assert_int_equal(
            bp_encode(enc, text + pos, line_len, &det, best, NULL, len, &n_best, NULL), BP_OK);
        assert_int_equal(
            bp_encode(enc, text + pos, line_len, &sam, got, NULL, len, &n_got, NULL), BP_OK);
        if (n_best == n_got && memcmp(best, got, n_best * sizeof *best) == 0) {
            same++;
        } else {
            double gap = score_sum(m, best, n_best) - score_sum(m, got, n_got);
            if (!(alpha * gap <= 100.0))
                fail_msg("alpha %g%s, line %zu: the sample scores %g below the best (%zu "
                         "tokens, the best has %zu)", alpha, glibc ? " (glibc)" : "", lines + 1,
                         gap, n_got, n_best);
        }
        pos += line_len;
    }
    free(best);
    free(got);
    bp_encoder_free(enc);
    *n_lines = lines;
    return same;
}

/* Short lines of the letters a..d, where the small model's pieces overlap in many ways,
 * and one line long enough (30,000 bytes) that alpha 1e6 times its scores passes the
 * range the plain log domain is kept for. */
static unsigned char *letter_text(size_t *len)
{
    size_t cap = 60000, n = 0;
    unsigned char *text = malloc(cap);
    assert_non_null(text);
    uint32_t x = 12345;
    for (int line = 0; line < 400; line++) {
        size_t line_len = 5 + line % 40;
        for (size_t i = 0; i < line_len; i++) {
            x = x * 1103515245u + 12345u;
            text[n++] = (unsigned char)('a' + (x >> 16) % 4);
        }
        text[n++] = '\n';
    }
    for (size_t i = 0; i < 30000; i++)
        text[n++] = (unsigned char)("dabcdaab"[i % 8]);
    *len = n;
    return text;
}

/* In memory, so it runs without ../shared. */
static void test_huge_alpha_gives_the_best_segmentation(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(WORDS, WORD_COUNTS, sizeof WORDS / sizeof WORDS[0]);
    size_t len;
    unsigned char *text = letter_text(&len);
    for (int glibc = 0; glibc < 2; glibc++)
        for (size_t a = 0; a < sizeof HUGE_ALPHAS / sizeof HUGE_ALPHAS[0]; a++) {
            size_t n_lines, same = count_best_samples(m, text, len, HUGE_ALPHAS[a], glibc,
                                                      &n_lines);
            assert_int_equal(n_lines, 401);
            if (same * 10 < n_lines * 9)
                fail_msg("alpha %g: only %zu of %zu lines are the best segmentation",
                         HUGE_ALPHAS[a], same, n_lines);
        }
    free(text);
    bp_model_free(m);
}

/* The same on real text with a published model (the glibc mode is tested above). */
static void test_huge_alpha_real_text(void **state)
{
    (void)state;
    bp_model *m = bp_test_load_reference_model("bytepiece.plus.80k");
    if (!m)
        skip();
    const char *names[] = {"corpus/golden_en.txt", "corpus/golden_zh.txt"};
    for (size_t t = 0; t < 2; t++) {
        size_t len;
        unsigned char *text = bp_test_read_file(bp_test_shared_path(names[t]), &len);
        assert_non_null(text);
        for (size_t a = 0; a < sizeof HUGE_ALPHAS / sizeof HUGE_ALPHAS[0]; a++) {
            size_t n_lines, same = count_best_samples(m, text, len, HUGE_ALPHAS[a], false,
                                                      &n_lines);
            if (same * 10 < n_lines * 9)
                fail_msg("%s alpha %g: only %zu of %zu lines are the best segmentation",
                         names[t], HUGE_ALPHAS[a], same, n_lines);
        }
        free(text);
    }
    bp_model_free(m);
}

/* "aaaaa" with the piece "aa" has three best segmentations, aa|aa|a, aa|a|aa and a|aa|aa,
 * with the same score to the last bit (the same three scores added in another order).
 * However large alpha is, each must come a third of the time: no tie may be rounded away. */
static void test_huge_alpha_keeps_ties_exact(void **state)
{
    (void)state;
    static const char *const aa[] = {"aa"};
    static const uint64_t aa_count[] = {50};
    bp_model *m = bp_test_small_model(aa, aa_count, 1);
    const uint32_t a = 'a' + 3, pair = 259;
    const uint32_t ties[3][3] = {{pair, pair, a}, {pair, a, pair}, {a, pair, pair}};
    bp_encoder *enc;
    assert_int_equal(bp_encoder_create(m, &enc, NULL), BP_OK);
    for (int glibc = 0; glibc < 2; glibc++)
        for (size_t k = 0; k < sizeof HUGE_ALPHAS / sizeof HUGE_ALPHAS[0]; k++) {
            bp_rng rng;
            seed_rng(&rng, glibc, 500 + k);
            bp_encode_options o = bp_test_options(HUGE_ALPHAS[k], BP_ENCODE_NO_NORMALIZE, &rng);
            size_t counts[3] = {0};
            for (int d = 0; d < 3000; d++) {
                uint32_t ids[8];
                size_t n, i = 0;
                assert_int_equal(bp_encode(enc, "aaaaa", 5, &o, ids, NULL, 8, &n, NULL), BP_OK);
                assert_int_equal(n, 3);
                while (i < 3 && memcmp(ids, ties[i], sizeof ties[i]) != 0)
                    i++;
                if (i == 3)
                    fail_msg("alpha %g: %u %u %u is not a best segmentation", HUGE_ALPHAS[k],
                             ids[0], ids[1], ids[2]);
                counts[i]++;
            }
            double chi2 = 0;
            for (int i = 0; i < 3; i++)
                chi2 += (counts[i] - 1000.0) * (counts[i] - 1000.0) / 1000.0;
            if (chi2 >= chi2_critical(2))
                fail_msg("alpha %g%s: the three ties came %zu, %zu and %zu times of 3000",
                         HUGE_ALPHAS[k], glibc ? " (glibc)" : "", counts[0], counts[1],
                         counts[2]);
        }
    bp_encoder_free(enc);
    bp_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sampling_is_exact),
        cmocka_unit_test(test_glibc_parity_sampling_is_exact),
        cmocka_unit_test(test_seeds_reproduce_and_differ),
        cmocka_unit_test(test_huge_alpha_gives_the_best_segmentation),
        cmocka_unit_test(test_huge_alpha_real_text),
        cmocka_unit_test(test_huge_alpha_keeps_ties_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
