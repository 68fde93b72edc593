/*
 * test_prefix.c -- token healing: bp_model_prefix_ids() against a scan of the whole
 * vocabulary (every 1- and 2-byte prefix of the sample model; random prefixes of the 80k
 * reference model, JSON and native), and bp_heal_prompt() on exact cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bytepiece.h"
#include "test_util.h"

/* The ids of every piece that starts with prefix[0..len), in id order, by scanning. */
static size_t brute_prefix_ids(const bp_model *m, const unsigned char *prefix, size_t len,
                               uint32_t *ids)
{
    size_t n = 0, vocab = bp_model_vocab_size(m);
    for (uint32_t id = BP_FIRST_PIECE_ID; id < vocab; id++) {
        size_t plen;
        const unsigned char *p = bp_model_piece(m, id, &plen);
        if (plen >= len && (len == 0 || memcmp(p, prefix, len) == 0))
            ids[n++] = id;
    }
    return n;
}

/* Checks one prefix against the scan, and the buffer contract on the way. */
static void check_prefix(const bp_model *m, const unsigned char *prefix, size_t len,
                         uint32_t *got, uint32_t *want)
{
    size_t vocab = bp_model_vocab_size(m), n = 0;
    size_t n_want = brute_prefix_ids(m, prefix, len, want);
    assert_int_equal(bp_model_prefix_ids(m, prefix, len, got, vocab, &n, NULL), BP_OK);
    assert_int_equal(n, n_want);
    assert_memory_equal(got, want, n * sizeof *got);
    if (n_want > 0) {
        assert_int_equal(bp_model_prefix_ids(m, prefix, len, got, n_want - 1, &n, NULL),
                         BP_ERR_BUFFER_TOO_SMALL);
        assert_int_equal(n, n_want);
    }
}

static bp_model *load_sample_model(void)
{
    /* data/ of the source tree, which this file's path (absolute under CMake) leads to. */
    char path[1024];
    snprintf(path, sizeof path, "%s", __FILE__);
    char *slash = strrchr(path, '/');
    snprintf(slash ? slash + 1 : path, sizeof path - (size_t)(slash ? slash + 1 - path : 0),
             "../data/sample.model");
    bp_model *m = NULL;
    bp_error err;
    if (bp_model_load(path, &m, &err) != BP_OK)
        fail_msg("%s", err.message);
    return m;
}

static void test_every_short_prefix_of_the_sample_model(void **state)
{
    (void)state;
    bp_model *m = load_sample_model();
    size_t vocab = bp_model_vocab_size(m);
    uint32_t *got = malloc(vocab * sizeof *got), *want = malloc(vocab * sizeof *want);
    assert_non_null(got);
    assert_non_null(want);
    check_prefix(m, NULL, 0, got, want); /* every piece */
    assert_int_equal(want[0], BP_FIRST_PIECE_ID);
    for (unsigned a = 0; a < 256; a++) {
        unsigned char prefix[2] = {(unsigned char)a, 0};
        check_prefix(m, prefix, 1, got, want);
        for (unsigned b = 0; b < 256; b++) {
            prefix[1] = (unsigned char)b;
            check_prefix(m, prefix, 2, got, want);
        }
    }
    free(got);
    free(want);
    bp_model_free(m);
}

/* Random prefixes: of random pieces (so that most answers are not empty), with a random
 * byte changed or added now and then. */
static void check_random_prefixes(const bp_model *m, uint64_t seed)
{
    size_t vocab = bp_model_vocab_size(m);
    uint32_t *got = malloc(vocab * sizeof *got), *want = malloc(vocab * sizeof *want);
    assert_non_null(got);
    assert_non_null(want);
    bp_rng rng;
    bp_rng_seed(&rng, seed, 0);
    for (int round = 0; round < 300; round++) {
        uint32_t id = BP_FIRST_PIECE_ID + (uint32_t)(bp_rng_next(&rng) % (vocab - 3));
        size_t plen;
        const unsigned char *p = bp_model_piece(m, id, &plen);
        unsigned char prefix[64];
        size_t len = 1 + bp_rng_next(&rng) % (plen < 63 ? plen : 63);
        memcpy(prefix, p, len);
        uint64_t r = bp_rng_next(&rng);
        if (r % 4 == 0)
            prefix[r / 4 % len] = (unsigned char)(r >> 32);
        else if (r % 4 == 1)
            prefix[len++] = (unsigned char)(r >> 32);
        check_prefix(m, prefix, len, got, want);
    }
    free(got);
    free(want);
}

static void test_random_prefixes_of_the_80k_model(void **state)
{
    (void)state;
    bp_model *m = bp_test_load_reference_model("bytepiece_80k");
    if (!m)
        skip();
    check_random_prefixes(m, 1);
    /* The native form of the same model answers alike. */
    char path[128];
    snprintf(path, sizeof path, "%s/80k.native", bp_test_scratch);
    bp_error err;
    assert_int_equal(bp_model_save_native(m, path, &err), BP_OK);
    bp_model *native = NULL;
    assert_int_equal(bp_model_load(path, &native, &err), BP_OK);
    assert_true(bp_model_is_native(native));
    check_random_prefixes(native, 1);
    check_random_prefixes(native, 2);
    bp_model_free(native);
    bp_model_free(m);
}

static void test_prefix_contract(void **state)
{
    (void)state;
    static const char *const words[] = {"ab", "abc", "abd", "b"};
    static const uint64_t counts[] = {5, 5, 5, 5};
    bp_model *m = bp_test_small_model(words, counts, 3); /* "b" is a byte already */
    uint32_t ids[8];
    size_t n = 99;
    bp_error err;
    assert_int_equal(bp_model_prefix_ids(m, "ab", 2, ids, 8, &n, &err), BP_OK);
    assert_int_equal(n, 3);
    assert_int_equal(ids[0], 259); /* ab */
    assert_int_equal(ids[1], 260); /* abc */
    assert_int_equal(ids[2], 261); /* abd */
    assert_int_equal(bp_model_prefix_ids(m, "abc", 3, ids, 8, &n, &err), BP_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], 260);
    assert_int_equal(bp_model_prefix_ids(m, "abcd", 4, NULL, 0, &n, &err), BP_OK);
    assert_int_equal(n, 0);
    assert_int_equal(bp_model_prefix_ids(m, "a", 1, ids, 2, &n, &err), BP_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(n, 4); /* a, ab, abc, abd */
    assert_int_equal(err.code, BP_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(bp_model_prefix_ids(m, NULL, 1, ids, 8, &n, &err), BP_ERR_INVALID_ARG);
    assert_int_equal(bp_model_prefix_ids(m, "a", 1, NULL, 8, &n, &err), BP_ERR_INVALID_ARG);
    assert_int_equal(bp_model_prefix_ids(m, "a", 1, ids, 8, NULL, &err), BP_ERR_INVALID_ARG);
    assert_int_equal(bp_model_prefix_ids(NULL, "a", 1, ids, 8, &n, &err), BP_ERR_INVALID_ARG);
    bp_model_free(m);
}

static void test_heal_prompt(void **state)
{
    (void)state;
    static const char *const words[] = {"://", "https", ":/"};
    static const uint64_t counts[] = {5, 5, 5};
    bp_model *m = bp_test_small_model(words, counts, 3);
    uint32_t slashes = 259, https = 260, colon = ':' + 3;
    uint32_t prompt[] = {BP_ID_BOS, https, colon};
    unsigned char tail[16];
    size_t kept = 99, len = 99;
    bp_error err;
    assert_int_equal(bp_heal_prompt(m, prompt, 3, 1, &kept, tail, sizeof tail, &len, &err),
                     BP_OK);
    assert_int_equal(kept, 2);
    assert_int_equal(len, 1);
    assert_memory_equal(tail, ":", 1);
    uint32_t allowed[8];
    size_t n;
    assert_int_equal(bp_model_prefix_ids(m, tail, len, allowed, 8, &n, &err), BP_OK);
    assert_int_equal(n, 3);
    assert_int_equal(allowed[0], colon);
    assert_int_equal(allowed[1], slashes); /* "://" */
    assert_int_equal(allowed[2], 261);     /* ":/" */
    /* Two back: "https:"; <bos> is never taken back. */
    assert_int_equal(bp_heal_prompt(m, prompt, 3, 5, &kept, tail, sizeof tail, &len, &err),
                     BP_OK);
    assert_int_equal(kept, 1);
    assert_int_equal(len, 6);
    assert_memory_equal(tail, "https:", 6);
    /* Nothing after an <eos>, and nothing with n_back 0. */
    uint32_t ended[] = {https, BP_ID_EOS};
    assert_int_equal(bp_heal_prompt(m, ended, 2, 1, &kept, NULL, 0, &len, &err), BP_OK);
    assert_int_equal(kept, 2);
    assert_int_equal(len, 0);
    assert_int_equal(bp_heal_prompt(m, prompt, 3, 0, &kept, NULL, 0, &len, &err), BP_OK);
    assert_int_equal(kept, 3);
    /* Too small a buffer: the room needed. */
    assert_int_equal(bp_heal_prompt(m, prompt, 3, 2, &kept, tail, 5, &len, &err),
                     BP_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(len, 6);
    assert_int_equal(kept, 1);
    /* An unknown id among those taken back. */
    uint32_t bad[] = {https, 9999};
    assert_int_equal(bp_heal_prompt(m, bad, 2, 1, &kept, tail, sizeof tail, &len, &err),
                     BP_ERR_UNKNOWN_ID);
    assert_int_equal(err.offset, 1);
    assert_non_null(strstr(err.message, "unknown id 9999 at position 1"));
    assert_int_equal(bp_heal_prompt(m, NULL, 1, 1, &kept, tail, sizeof tail, &len, &err),
                     BP_ERR_INVALID_ARG);
    assert_int_equal(bp_heal_prompt(m, prompt, 3, 1, NULL, tail, sizeof tail, &len, &err),
                     BP_ERR_INVALID_ARG);
    bp_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_short_prefix_of_the_sample_model),
        cmocka_unit_test(test_random_prefixes_of_the_80k_model),
        cmocka_unit_test(test_prefix_contract),
        cmocka_unit_test(test_heal_prompt),
    };
    return cmocka_run_group_tests(tests, bp_test_make_scratch, bp_test_remove_scratch);
}
