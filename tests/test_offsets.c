/*
 * test_offsets.c -- bp_encode()'s offsets point into the caller's text, not its NFC: exact
 * offsets on hand-made NFD, NFC, reordered, Hangul, invalid UTF-8 and CRLF texts (through
 * bp_encode, bp_encode_append and the batch API, on one thread and two); and the contract
 * (offset_check.h) on random texts of combining marks, jamo and invalid bytes, and on the
 * golden texts with the 80k reference model when ../shared is present.
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
#include "offset_check.h"
#include "test_util.h"

/* A text, its NFC (the byte model's tokens, one per byte: id = byte + 3) and the offset of
 * each of those tokens in the text. */
typedef struct offsets_case {
    const char *what;
    const char *text, *nfc;
    size_t offsets[16];
} offsets_case;

static const offsets_case CASES[] = {
    {"NFD e + U+0301: both bytes of the composed character at the e", "cafe\xcc\x81",
     "caf\xc3\xa9", {0, 1, 2, 3, 3}},
    {"NFC: the second byte of a character at its first", "caf\xc3\xa9", "caf\xc3\xa9",
     {0, 1, 2, 3, 3}},
    {"a 4-byte character", "x\xf0\x9f\x98\x80", "x\xf0\x9f\x98\x80", {0, 1, 1, 1, 1}},
    {"invalid bytes are characters of their own, around a composed one", "a\xff" "e\xcc\x81\xc3",
     "a\xff\xc3\xa9\xc3", {0, 1, 2, 2, 5}},
    {"a stray continuation byte after a character", "\xc3\xa9\xa9", "\xc3\xa9\xa9", {0, 0, 2}},
    {"CRLF, and a mark at the start of a line", "e\xcc\x81\r\n\xcc\x81x\r\n",
     "\xc3\xa9\r\n\xcc\x81x\r\n", {0, 0, 3, 4, 5, 5, 7, 8, 9}},
    {"marks put in canonical order compose: every byte at the a", "a\xcc\x81\xcc\xa3",
     "\xe1\xba\xa1\xcc\x81", {0, 0, 0, 0, 0}},
    {"marks reordered with no starter before them", "\xcc\x81\xcc\xa3", "\xcc\xa3\xcc\x81",
     {0, 0, 0, 0}},
    {"conjoining jamo L V T and L V become two syllables",
     "\xe1\x84\x80\xe1\x85\xa1\xe1\x86\xa8\xe1\x84\x80\xe1\x85\xa1", "\xea\xb0\x81\xea\xb0\x80",
     {0, 0, 0, 9, 9, 9}},
    {"a singleton: U+212B ANGSTROM SIGN becomes U+00C5", "\xe2\x84\xab", "\xc3\x85", {0, 0}},
    {"U+0958 grows into ka + nukta; the ka + nukta before it stays exact",
     "\xe0\xa4\x95\xe0\xa4\xbc\xe0\xa5\x98", "\xe0\xa4\x95\xe0\xa4\xbc\xe0\xa4\x95\xe0\xa4\xbc",
     {0, 0, 0, 3, 3, 3, 6, 6, 6, 6, 6, 6}},
    {"a decomposed syllable between words", "a \xe1\x84\x80\xe1\x85\xa1 b",
     "a \xea\xb0\x80 b", {0, 1, 2, 2, 2, 8, 9}},
    {"ASCII", "ab\r\n", "ab\r\n", {0, 1, 2, 3}},
};
#define N_CASES (sizeof CASES / sizeof CASES[0])

/* Checks one encoding of CASES[c] (<bos> and <eos> around the tokens). */
static void check_case(size_t c, const uint32_t *ids, const size_t *offsets, size_t n)
{
    const offsets_case *k = &CASES[c];
    size_t nfc_len = strlen(k->nfc);
    print_message("%s\n", k->what);
    assert_int_equal(n, nfc_len + 2);
    assert_int_equal(ids[0], BP_ID_BOS);
    assert_int_equal(offsets[0], 0);
    for (size_t i = 0; i < nfc_len; i++) {
        assert_int_equal(ids[i + 1], (unsigned char)k->nfc[i] + 3u);
        assert_int_equal(offsets[i + 1], k->offsets[i]);
    }
    assert_int_equal(ids[n - 1], BP_ID_EOS);
    assert_int_equal(offsets[n - 1], strlen(k->text));
}

static void test_exact_offsets(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(NULL, NULL, 0);
    bp_encoder *enc;
    assert_int_equal(bp_encoder_create(m, &enc, NULL), BP_OK);
    bp_encode_options o = {0, BP_ENCODE_BOS | BP_ENCODE_EOS, NULL};
    uint32_t ids[64];
    size_t offsets[64], n;
    for (size_t c = 0; c < N_CASES; c++) {
        const char *text = CASES[c].text;
        assert_int_equal(bp_encode(enc, text, strlen(text), &o, ids, offsets, 64, &n, NULL),
                         BP_OK);
        check_case(c, ids, offsets, n);
    }
    bp_encoder_free(enc);
    bp_model_free(m);
}

/* bp_encode_append gives the same offsets, each text's from its own start. */
static void test_append_offsets(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(NULL, NULL, 0);
    bp_encoder *enc;
    assert_int_equal(bp_encoder_create(m, &enc, NULL), BP_OK);
    bp_encode_options o = {0, BP_ENCODE_BOS | BP_ENCODE_EOS, NULL};
    uint32_t *ids = NULL;
    size_t *offsets = NULL, cap = 0, n = 0, begin[N_CASES + 1] = {0};
    for (size_t c = 0; c < N_CASES; c++) {
        assert_int_equal(bp_encode_append(enc, CASES[c].text, strlen(CASES[c].text), &o, &ids,
                                          &offsets, &cap, &n, NULL),
                         BP_OK);
        begin[c + 1] = n;
    }
    for (size_t c = 0; c < N_CASES; c++)
        check_case(c, ids + begin[c], offsets + begin[c], begin[c + 1] - begin[c]);
    free(ids);
    free(offsets);
    bp_encoder_free(enc);
    bp_model_free(m);
}

/* The batch API's BP_ENCODE_OFFSETS, on one thread and on two (the texts repeated past
 * the size that one thread takes alone). */
static void test_batch_offsets(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(NULL, NULL, 0);
    enum { REPEAT = 20000 };
    size_t n_texts = N_CASES * REPEAT;
    const void **texts = malloc(n_texts * sizeof *texts);
    size_t *lens = malloc(n_texts * sizeof *lens);
    assert_non_null(texts);
    assert_non_null(lens);
    for (size_t i = 0; i < n_texts; i++) {
        texts[i] = CASES[i % N_CASES].text;
        lens[i] = strlen(CASES[i % N_CASES].text);
    }
    for (unsigned threads = 1; threads <= 2; threads++) {
        bp_batch_options o = {0, BP_ENCODE_OFFSETS | BP_ENCODE_BOS | BP_ENCODE_EOS, 0, 0, threads};
        bp_batch b;
        assert_int_equal(bp_encode_batch(m, texts, lens, n_texts, &o, &b, NULL), BP_OK);
        for (size_t i = 0; i < n_texts; i += REPEAT / 2 + 1) {
            size_t at = b.ids_begin[i];
            check_case(i % N_CASES, b.ids + at, b.offsets + at, b.ids_begin[i + 1] - at);
        }
        bp_batch_free(&b);
    }
    free(texts);
    free(lens);
    bp_model_free(m);
}

/* A model with multi-byte pieces: a token may hold several input characters, composed or
 * not; without NFC the offsets are the bytes of the pieces as they are. */
static void test_offsets_of_longer_pieces(void **state)
{
    (void)state;
    static const char *const extra[] = {"caf", "\xc3\xa9", "\xc3\xa9 na"};
    static const uint64_t counts[] = {1000, 1000, 1000};
    bp_model *m = bp_test_small_model(extra, counts, 3);
    uint32_t caf = bp_model_piece_id(m, "caf", 3);
    uint32_t e_acute = bp_model_piece_id(m, "\xc3\xa9", 2);
    uint32_t e_acute_na = bp_model_piece_id(m, "\xc3\xa9 na", 5);
    bp_encoder *enc;
    assert_int_equal(bp_encoder_create(m, &enc, NULL), BP_OK);
    const char *nfd = "cafe\xcc\x81 nae\xcc\x81"; /* café naé, 12 bytes */
    uint32_t ids[16];
    size_t offsets[16], n;
    bp_encode_options o = {0, BP_ENCODE_BOS | BP_ENCODE_EOS, NULL};
    assert_int_equal(bp_encode(enc, nfd, 12, &o, ids, offsets, 16, &n, NULL), BP_OK);
    const uint32_t want_ids[] = {BP_ID_BOS, caf, e_acute_na, e_acute, BP_ID_EOS};
    const size_t want_offsets[] = {0, 0, 3, 9, 12};
    assert_int_equal(n, 5);
    assert_memory_equal(ids, want_ids, sizeof want_ids);
    assert_memory_equal(offsets, want_offsets, sizeof want_offsets);

    o.flags |= BP_ENCODE_NO_NORMALIZE;
    assert_int_equal(bp_encode(enc, nfd, 12, &o, ids, offsets, 16, &n, NULL), BP_OK);
    const uint32_t raw_ids[] = {BP_ID_BOS, caf, 'e' + 3, 0xcc + 3, 0x81 + 3, ' ' + 3, 'n' + 3,
                                'a' + 3, 'e' + 3, 0xcc + 3, 0x81 + 3, BP_ID_EOS};
    const size_t raw_offsets[] = {0, 0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    assert_int_equal(n, 12);
    assert_memory_equal(ids, raw_ids, sizeof raw_ids);
    assert_memory_equal(offsets, raw_offsets, sizeof raw_offsets);
    bp_encoder_free(enc);
    bp_model_free(m);
}

/* Encodes text[0..len) with <bos> and <eos> and checks the contract of its offsets. */
static void check_contract(bp_encoder *enc, const bp_model *m, const unsigned char *text,
                           size_t len, unsigned flags)
{
    size_t cap = bp_encode_bound(len), n;
    uint32_t *ids = malloc(cap * sizeof *ids);
    size_t *offsets = malloc(cap * sizeof *offsets);
    assert_non_null(ids);
    assert_non_null(offsets);
    bp_encode_options o = {0, flags | BP_ENCODE_BOS | BP_ENCODE_EOS, NULL};
    assert_int_equal(bp_encode(enc, text, len, &o, ids, offsets, cap, &n, NULL), BP_OK);
    assert_true(n >= 2);
    assert_int_equal(offsets[0], 0);
    assert_int_equal(offsets[n - 1], len);
    const char *wrong = offset_violation(m, text, len, !(flags & BP_ENCODE_NO_NORMALIZE),
                                         ids + 1, offsets + 1, n - 2);
    if (wrong) {
        for (size_t i = 0; i < len; i++)
            print_message("%02x", text[i]);
        fail_msg("\n%s", wrong);
    }
    free(ids);
    free(offsets);
}

/* Pieces of random text: what NFC composes, reorders, splits or leaves alone. */
static const char *const FRAGMENTS[] = {
    "a", "e", "o", "x", " ", "\n", "\r\n", "\xcc\x80", "\xcc\x81", "\xcc\xa3", "\xcc\xa7",
    "\xcd\x85", "\xe0\xa4\xbc", "\xd6\xb4", "\xc3\xa9", "\xe1\xba\xa1", "\xe1\xbe\x83",
    "\xe2\x84\xab", "\xe0\xa5\x98", "\xcd\x84", "\xe0\xbd\xb3", "\xe0\xa4\x95",
    "\xe1\x84\x80", "\xe1\x84\x92", "\xe1\x85\xa1", "\xe1\x85\xb5", "\xe1\x86\xa7",
    "\xe1\x86\xa8", "\xe1\x87\x82", "\xea\xb0\x80", "\xea\xb0\x81", "\xe0\xad\x87",
    "\xe0\xac\xbe", "\xe0\xad\x97", "\xe4\xb8\xad", "\xf0\x9f\x98\x80", "\x80", "\xff",
    "\xc3", "\xe4\xb8", "\xed\xa0\x80", "\xce\xb1", "\xcc\x93"};
#define N_FRAGMENTS (sizeof FRAGMENTS / sizeof FRAGMENTS[0])

/* Random texts on a byte model (a token per byte: every place is tried) and on a model
 * with longer pieces, with NFC and without. */
static void test_contract_on_random_texts(void **state)
{
    (void)state;
    static const char *const extra[] = {"e\xcc\x81", "\xc3\xa9", "\xea\xb0\x80", "a ",
                                        "\xcc\x81\xcc\xa3", "\xe1\x84\x80\xe1\x85\xa1",
                                        "\xc3\xa9\xcc\xa3", "\xa9\xcc"};
    static const uint64_t counts[] = {50, 80, 60, 90, 40, 70, 30, 20};
    bp_model *models[2] = {bp_test_small_model(NULL, NULL, 0),
                           bp_test_small_model(extra, counts, 8)};
    bp_rng rng;
    bp_rng_seed(&rng, 13, 5);
    unsigned char text[512];
    for (size_t k = 0; k < 2; k++) {
        bp_encoder *enc;
        assert_int_equal(bp_encoder_create(models[k], &enc, NULL), BP_OK);
        for (int round = 0; round < 3000; round++) {
            size_t len = 0, n_fragments = bp_rng_next(&rng) % 40;
            for (size_t f = 0; f < n_fragments; f++) {
                const char *frag = FRAGMENTS[bp_rng_next(&rng) % N_FRAGMENTS];
                memcpy(text + len, frag, strlen(frag));
                len += strlen(frag);
            }
            check_contract(enc, models[k], text, len, 0);
            check_contract(enc, models[k], text, len, BP_ENCODE_NO_NORMALIZE);
        }
        bp_encoder_free(enc);
        bp_model_free(models[k]);
    }
}

/* The golden texts with the 80k reference model, whole and line by line. */
static void test_contract_on_golden_texts(void **state)
{
    (void)state;
    bp_model *m = bp_test_load_reference_model("bytepiece.plus.80k");
    if (!m)
        skip();
    bp_encoder *enc;
    assert_int_equal(bp_encoder_create(m, &enc, NULL), BP_OK);
    static const char *const golden[] = {"corpus/golden_en.txt", "corpus/golden_zh.txt",
                                         "corpus/golden_edge.txt"};
    for (size_t g = 0; g < 3; g++) {
        size_t len;
        unsigned char *text = bp_test_read_file(bp_test_shared_path(golden[g]), &len);
        assert_non_null(text);
        check_contract(enc, m, text, len, 0);
        check_contract(enc, m, text, len, BP_ENCODE_NO_NORMALIZE);
        for (size_t pos = 0; pos < len;) {
            const unsigned char *nl = memchr(text + pos, '\n', len - pos);
            size_t end = nl ? (size_t)(nl - text) + 1 : len;
            check_contract(enc, m, text + pos, end - pos, 0);
            pos = end;
        }
        free(text);
    }
    bp_encoder_free(enc);
    bp_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_offsets),
        cmocka_unit_test(test_append_offsets),
        cmocka_unit_test(test_batch_offsets),
        cmocka_unit_test(test_offsets_of_longer_pieces),
        cmocka_unit_test(test_contract_on_random_texts),
        cmocka_unit_test(test_contract_on_golden_texts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
