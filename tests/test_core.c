/*
 * test_core.c -- the shared core on small hand-made models: the automaton's match order,
 * Viterbi's optimum and tie-break, the encode/decode contracts, and the RNG.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bp_internal.h"
#include "test_util.h"

static const char *const WORDS[] = {"ab", "abc", "bc", "bcd", "cd", "abcd", "da", "dab", "aa", "aaa"};
static const uint64_t WORD_COUNTS[] = {50, 20, 40, 9, 30, 7, 11, 5, 25, 6};
#define N_WORDS (sizeof WORDS / sizeof WORDS[0])

/* At every end position the automaton yields exactly the pieces that are suffixes of the
 * text read so far, longest first (the reference's match order). */
static void test_automaton_match_order(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(WORDS, WORD_COUNTS, N_WORDS);
    const char *text = "xabcdabcdaaaabzdab";
    size_t len = strlen(text);
    uint32_t s = 0;
    for (size_t e = 1; e <= len; e++) {
        s = bp_automaton_step(&m->ac, s, (unsigned char)text[e - 1]);
        const bp_match *out = m->ac.out + m->ac.out_begin[s];
        size_t n_out = bp_automaton_n_outputs(&m->ac, s);
        size_t k = 0;
        for (size_t l = e; l >= 1; l--) { /* longest first */
            uint32_t id = bp_model_piece_id(m, text + e - l, l);
            if (id == BP_ID_NONE)
                continue;
            assert_true(k < n_out);
            assert_int_equal(out[k].id, id);
            assert_int_equal(out[k].len, l);
            assert_true(out[k].score == bp_model_piece_score(m, (uint32_t)id));
            k++;
        }
        assert_int_equal(k, n_out);
    }
    bp_model_free(m);
}

/* Best score over all segmentations of x[0..len), summed left to right like the lattice. */
static double brute_best(const bp_model *m, const char *x, size_t len, double so_far)
{
    if (len == 0)
        return so_far;
    double best = -INFINITY;
    for (size_t l = 1; l <= len; l++) {
        uint32_t id = bp_model_piece_id(m, x, l);
        if (id != BP_ID_NONE) {
            double v = brute_best(m, x + l, len - l, so_far + bp_model_piece_score(m, (uint32_t)id));
            if (v > best)
                best = v;
        }
    }
    return best;
}

static void test_viterbi_is_optimal(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(WORDS, WORD_COUNTS, N_WORDS);
    bp_encoder *enc;
    assert_int_equal(bp_encoder_create(m, &enc, NULL), BP_OK);
    const char *texts[] = {"abcd", "abcdabcd", "aaaaab", "dabcdaab", "bcdabcabcd", "a", "zz"};
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
        size_t len = strlen(texts[t]), n;
        uint32_t ids[64];
        bp_encode_options o = {-1, BP_ENCODE_NO_NORMALIZE, NULL};
        assert_int_equal(bp_encode(enc, texts[t], len, &o, ids, NULL, 64, &n, NULL), BP_OK);
        double sum = 0;
        size_t covered = 0;
        for (size_t i = 0; i < n; i++) {
            size_t plen;
            const unsigned char *p = bp_model_piece(m, ids[i], &plen);
            assert_memory_equal(p, texts[t] + covered, plen);
            covered += plen;
            sum += bp_model_piece_score(m, ids[i]);
        }
        assert_int_equal(covered, len);
        assert_true(sum == brute_best(m, texts[t], len, 0.0));
    }
    bp_encoder_free(enc);
    bp_model_free(m);
}

/* "--------" splits as "--" + "------" or "------" + "--" with bit-identical sums (addition
 * commutes). The reference keeps the candidate reported first at the end position, the
 * longer last piece: "--" then "------" (docs/algorithms.md §4.3). */
static void test_viterbi_tie_goes_to_longest_last_piece(void **state)
{
    (void)state;
    const char *const words[] = {"--", "------"};
    const uint64_t counts[] = {1000, 900};
    bp_model *m = bp_test_small_model(words, counts, 2);
    bp_encoder *enc;
    assert_int_equal(bp_encoder_create(m, &enc, NULL), BP_OK);
    uint32_t ids[16];
    size_t n;
    bp_encode_options o = {-1, BP_ENCODE_NO_NORMALIZE, NULL};
    assert_int_equal(bp_encode(enc, "--------", 8, &o, ids, NULL, 16, &n, NULL), BP_OK);
    assert_int_equal(n, 2);
    assert_int_equal(ids[0], bp_model_piece_id(m, "--", 2));
    assert_int_equal(ids[1], bp_model_piece_id(m, "------", 6));
    bp_encoder_free(enc);
    bp_model_free(m);
}

/* Chunks end at newline runs; no token crosses a chunk boundary even when a piece would. */
static void test_chunks_are_independent(void **state)
{
    (void)state;
    const char *const words[] = {"a\nb", "\n\n", "b\n"};
    const uint64_t counts[] = {100000, 100, 100};
    bp_model *m = bp_test_small_model(words, counts, 3);
    bp_encoder *enc;
    assert_int_equal(bp_encoder_create(m, &enc, NULL), BP_OK);
    uint32_t ids[16];
    size_t offsets[16], n;
    bp_encode_options o = {-1, BP_ENCODE_NO_NORMALIZE | BP_ENCODE_BOS | BP_ENCODE_EOS, NULL};
    assert_int_equal(bp_encode(enc, "a\nb\n\n", 5, &o, ids, offsets, 16, &n, NULL), BP_OK);
    /* Chunks "a\n" and "b\n\n": "a\nb" cannot be used although it is the best piece; in
     * the second chunk "b\n" + "\n" outscores "b" + "\n\n" (counts 100 and 4 vs 1 and 100). */
    assert_int_equal(ids[0], 1);
    assert_int_equal(ids[1], 'a' + 3);
    assert_int_equal(ids[2], '\n' + 3);
    assert_int_equal(ids[3], bp_model_piece_id(m, "b\n", 2));
    assert_int_equal(offsets[3], 2);
    assert_int_equal(ids[4], '\n' + 3);
    assert_int_equal(offsets[4], 4);
    assert_int_equal(n, 6);
    assert_int_equal(ids[n - 1], 2);
    assert_int_equal(offsets[n - 1], 5);
    for (size_t i = 1; i + 1 < n; i++)
        assert_int_not_equal(ids[i], bp_model_piece_id(m, "a\nb", 3));
    bp_encoder_free(enc);
    bp_model_free(m);
}

static void test_encode_contract(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(WORDS, WORD_COUNTS, N_WORDS);
    bp_encoder *enc;
    assert_int_equal(bp_encoder_create(m, &enc, NULL), BP_OK);
    uint32_t ids[8];
    size_t n = 0;
    bp_encode_options o = {-1, BP_ENCODE_NO_NORMALIZE, NULL};
    /* Too small: the size needed is reported, and a second call with room succeeds. */
    assert_int_equal(bp_encode(enc, "zzzz", 4, &o, ids, NULL, 2, &n, NULL), BP_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(n, 4);
    assert_int_equal(bp_encode(enc, "zzzz", 4, &o, ids, NULL, 8, &n, NULL), BP_OK);
    assert_int_equal(n, 4);
    /* Empty text: no ids, or just bos/eos. */
    assert_int_equal(bp_encode(enc, "", 0, &o, ids, NULL, 8, &n, NULL), BP_OK);
    assert_int_equal(n, 0);
    o.flags |= BP_ENCODE_BOS | BP_ENCODE_EOS;
    assert_int_equal(bp_encode(enc, NULL, 0, &o, ids, NULL, 8, &n, NULL), BP_OK);
    assert_int_equal(n, 2);
    assert_int_equal(ids[0], 1);
    assert_int_equal(ids[1], 2);
    /* Zero-initialised options and NULL both mean the best segmentation of the NFC text;
     * alpha is only read with BP_ENCODE_SAMPLE. */
    const char *nfd = "ze\xcc\x81zz"; /* z, e + U+0301, z, z: NFC makes it 'z', 'é', 'z', 'z' */
    uint32_t with_null[8], with_zero[8];
    size_t n_null, n_zero;
    bp_encode_options zero = {0};
    assert_int_equal(bp_encode(enc, nfd, 6, NULL, with_null, NULL, 8, &n_null, NULL), BP_OK);
    assert_int_equal(bp_encode(enc, nfd, 6, &zero, with_zero, NULL, 8, &n_zero, NULL), BP_OK);
    assert_int_equal(n_null, 5); /* z, 0xc3, 0xa9, z, z: the model has no piece for é */
    assert_int_equal(n_zero, n_null);
    assert_memory_equal(with_zero, with_null, n_null * sizeof *with_null);
    assert_int_equal(with_null[1], 0xc3 + BP_FIRST_PIECE_ID);
    zero.alpha = NAN;
    assert_int_equal(bp_encode(enc, nfd, 6, &zero, with_zero, NULL, 8, &n_zero, NULL), BP_OK);
    assert_memory_equal(with_zero, with_null, n_null * sizeof *with_null);
    /* Invalid arguments, each with its message. */
    bp_error err;
    o.flags |= BP_ENCODE_SAMPLE;
    o.alpha = NAN;
    assert_int_equal(bp_encode(enc, "a", 1, &o, ids, NULL, 8, &n, &err), BP_ERR_INVALID_ARG);
    assert_int_equal(err.code, BP_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "alpha >= 0"));
    o.alpha = -0.5;
    assert_int_equal(bp_encode(enc, "a", 1, &o, ids, NULL, 8, &n, &err), BP_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "alpha >= 0"));
    o.alpha = 0.1; /* sampling without an rng */
    assert_int_equal(bp_encode(enc, "a", 1, &o, ids, NULL, 8, &n, &err), BP_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "bp_rng"));
    assert_int_equal(bp_encode(NULL, "a", 1, NULL, ids, NULL, 8, &n, &err), BP_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "enc is NULL"));
    assert_int_equal(bp_encode(enc, "zzzz", 4, NULL, ids, NULL, 2, &n, &err),
                     BP_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(err.code, BP_ERR_BUFFER_TOO_SMALL);
    bp_encoder_free(enc);
    assert_int_equal(bp_encoder_create(NULL, &enc, &err), BP_ERR_INVALID_ARG);
    assert_null(enc);
    assert_non_null(strstr(err.message, "model is NULL"));
    bp_model_free(m);
}

/* bp_encode_append: text after text into growing arrays, the ids and offsets of one
 * bp_encode() call with room each, random draws included, also when NFC lengthens a text
 * past one id per input byte (U+0958 is 3 bytes, its NFC U+0915 U+093C is 6). */
static void test_encode_append(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(WORDS, WORD_COUNTS, N_WORDS);
    bp_encoder *enc;
    assert_int_equal(bp_encoder_create(m, &enc, NULL), BP_OK);
    char lengthens[3 * 40 + 1] = "";
    for (int i = 0; i < 40; i++)
        strcat(lengthens, "\xe0\xa5\x98");
    const char *texts[] = {"abcd dab\n", lengthens, "", "aaa bc"};
    for (int sample = 0; sample < 2; sample++) {
        bp_rng rng, want_rng;
        bp_rng_seed(&rng, 5, 0);
        want_rng = rng;
        bp_encode_options o = {0.3, BP_ENCODE_EOS | (sample ? BP_ENCODE_SAMPLE : 0), &rng};
        bp_encode_options want_o = o;
        want_o.rng = &want_rng;
        uint32_t *ids = NULL;
        size_t *offsets = NULL, cap = 0, n = 0;
        uint32_t want[1024];
        size_t want_offsets[1024], n_want = 0, n_first = 0;
        for (size_t t = 0; t < 4; t++) {
            size_t k;
            assert_int_equal(bp_encode(enc, texts[t], strlen(texts[t]), &want_o, want + n_want,
                                       want_offsets + n_want, 1024 - n_want, &k, NULL), BP_OK);
            n_want += k;
            assert_int_equal(bp_encode_append(enc, texts[t], strlen(texts[t]), &o, &ids,
                                              t == 0 ? NULL : &offsets, &cap, &n, NULL), BP_OK);
            assert_int_equal(n, n_want);
            assert_true(cap >= n);
            if (t == 0)
                n_first = n;
            if (t == 1) /* more ids than its bytes + 2: the first call could not hold them */
                assert_true(n - n_first > strlen(lengthens) + 2);
        }
        assert_memory_equal(ids, want, n * sizeof *ids);
        /* Offsets were asked from the second text on. */
        assert_memory_equal(offsets + n_first, want_offsets + n_first,
                            (n - n_first) * sizeof *offsets);
        free(ids);
        free(offsets);
    }
    /* Contract: bad arguments, and nothing appended on failure. */
    uint32_t *ids = NULL;
    size_t cap = 0, n = 0;
    bp_error err;
    assert_int_equal(bp_encode_append(enc, "a", 1, NULL, NULL, NULL, &cap, &n, &err),
                     BP_ERR_INVALID_ARG);
    n = 1;
    assert_int_equal(bp_encode_append(enc, "a", 1, NULL, &ids, NULL, &cap, &n, &err),
                     BP_ERR_INVALID_ARG); /* *n_ids > *cap */
    n = 0;
    bp_encode_options bad = {-1.0, BP_ENCODE_SAMPLE, NULL};
    assert_int_equal(bp_encode_append(enc, "a", 1, &bad, &ids, NULL, &cap, &n, &err),
                     BP_ERR_INVALID_ARG);
    assert_int_equal(n, 0);
    free(ids);
    bp_encoder_free(enc);
    bp_model_free(m);
}

static void test_decode_contract(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(WORDS, WORD_COUNTS, N_WORDS);
    uint32_t abc = bp_model_piece_id(m, "abc", 3);
    uint32_t ids[] = {1, abc, 'x' + 3, 0, abc, 2};
    char out[16];
    size_t len;
    bp_error err;
    assert_int_equal(bp_decode(m, ids, 6, out, sizeof out, &len, &err), BP_OK);
    assert_int_equal(len, 7);
    assert_memory_equal(out, "abcxabc", 7);
    assert_int_equal(bp_decode(m, ids, 6, out, 3, &len, &err), BP_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(len, 7);
    assert_int_equal(bp_decode(m, ids, 6, NULL, 0, &len, &err), BP_ERR_BUFFER_TOO_SMALL);
    uint32_t vocab = (uint32_t)bp_model_vocab_size(m);
    uint32_t bad[] = {abc, abc, vocab};
    assert_int_equal(bp_decode(m, bad, 3, out, sizeof out, &len, &err), BP_ERR_UNKNOWN_ID);
    assert_int_equal(err.code, BP_ERR_UNKNOWN_ID);
    assert_int_equal(err.offset, 2);
    char expect[64];
    snprintf(expect, sizeof expect, "unknown id %u at position 2", vocab);
    assert_non_null(strstr(err.message, expect));
    assert_int_equal(bp_decode(m, NULL, 0, NULL, 0, &len, &err), BP_OK);
    assert_int_equal(len, 0);
    bp_model_free(m);
}

static void test_model_accessors(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(WORDS, WORD_COUNTS, N_WORDS);
    assert_int_equal(bp_model_vocab_size(m), 256 + N_WORDS + 3);
    size_t len;
    assert_null(bp_model_piece(m, 2, &len));
    assert_int_equal(len, 0);
    assert_null(bp_model_piece(m, (uint32_t)bp_model_vocab_size(m), &len));
    const unsigned char *p = bp_model_piece(m, 259, &len); /* first extra piece */
    assert_int_equal(len, 2);
    assert_memory_equal(p, "ab", 2);
    assert_int_equal(bp_model_piece_count(m, 259), 50);
    assert_int_equal(bp_model_piece_id(m, "a", 1), 'a' + 3);
    assert_int_equal(bp_model_piece_id(m, "abcd", 4), 259 + 5);
    assert_int_equal(bp_model_piece_id(m, "abd", 3), BP_ID_NONE); /* not a state */
    assert_int_equal(bp_model_piece_id(m, "bcda", 4), BP_ID_NONE);
    uint64_t total = 0;
    for (unsigned b = 0; b < 256; b++)
        total += 1 + b % 7;
    for (size_t i = 0; i < N_WORDS; i++)
        total += WORD_COUNTS[i];
    assert_true(bp_model_piece_score(m, 259) == log(50.0) - log((double)total));
    assert_true(isinf(bp_model_piece_score(m, 0)));
    bp_model_free(m);
}

/* The parity generator reproduces glibc's srand()/rand() exactly. */
static void test_glibc_rand_parity(void **state)
{
    (void)state;
    const uint32_t seeds[] = {0, 1, 42, 12345, 2147483647u, 2147483648u + 5, 4294967295u};
    for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; s++) {
        bp_rng rng;
        bp_rng_seed_glibc(&rng, seeds[s]);
        srand(seeds[s]);
        for (int i = 0; i < 2000; i++)
            assert_int_equal(bp_rng_glibc_rand(&rng), rand());
    }
}

static void test_rng_streams(void **state)
{
    (void)state;
    bp_rng a, b, c, d;
    bp_rng_seed(&a, 7, 0);
    bp_rng_seed(&b, 7, 0);
    bp_rng_seed(&c, 7, 1);
    bp_rng_seed(&d, 8, 0);
    int diff_stream = 0, diff_seed = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = bp_rng_next(&a);
        assert_true(x == bp_rng_next(&b));
        diff_stream += x != bp_rng_next(&c);
        diff_seed += x != bp_rng_next(&d);
    }
    assert_int_equal(diff_stream, 100);
    assert_int_equal(diff_seed, 100);
    /* Known answers, computed independently from the published splitmix64 and
     * xoshiro256** definitions: the streams must not change across platforms or releases. */
    bp_rng_seed(&a, 42, 0);
    assert_true(bp_rng_next(&a) == UINT64_C(0x0ede10bd185e0938));
    assert_true(bp_rng_next(&a) == UINT64_C(0xd956f6b8750ccaa8));
    assert_true(bp_rng_next(&a) == UINT64_C(0xec1174591e2d4211));
    bp_rng_seed(&a, 7, 3);
    assert_true(bp_rng_next(&a) == UINT64_C(0x8298cd4cdf68c2be));
    double u = bp_rng_uniform(&a);
    assert_true(u == (double)(UINT64_C(0x4037edf8e3ed5847) >> 11) * 0x1.0p-53);
}

static void test_version(void **state)
{
    (void)state;
    assert_string_equal(bp_version_string(), BP_VERSION_STRING);
    assert_int_equal(bp_version_number(), BP_VERSION_NUMBER);
    assert_non_null(bp_unicode_version());
    assert_string_equal(bp_strerror(BP_ERR_UNKNOWN_ID), "unknown id");
    assert_string_equal(bp_strerror((bp_status)999), "unknown error code");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_automaton_match_order),
        cmocka_unit_test(test_viterbi_is_optimal),
        cmocka_unit_test(test_viterbi_tie_goes_to_longest_last_piece),
        cmocka_unit_test(test_chunks_are_independent),
        cmocka_unit_test(test_encode_contract),
        cmocka_unit_test(test_encode_append),
        cmocka_unit_test(test_decode_contract),
        cmocka_unit_test(test_model_accessors),
        cmocka_unit_test(test_glibc_rand_parity),
        cmocka_unit_test(test_rng_streams),
        cmocka_unit_test(test_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
