/*
 * test_roundtrip.c -- nothing is lost: decode(encode(x)) == x for any bytes with
 * normalization off, and == NFC(x) with it on (utf8proc's NFC as the oracle), for
 * deterministic and sampled segmentations, on random input and on the golden texts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <utf8proc.h>

#include "bytepiece.h"
#include "test_util.h"

static const char *const WORDS[] = {"th", "the", "he", " the", "in", "ing", "\n\n", "é",
                                    "中文", "文", "\xff\xfe", "ab\xc3"};
static const uint64_t WORD_COUNTS[] = {90, 80, 70, 60, 50, 40, 30, 20, 10, 9, 8, 7};

/* Encodes `text`, decodes the ids and checks the bytes equal expect[0..expect_len). */
static void check_roundtrip(bp_encoder *enc, const bp_model *m, const unsigned char *text,
                            size_t len, const bp_encode_options *o, const unsigned char *expect,
                            size_t expect_len)
{
    size_t cap = bp_encode_bound(len), n, out_len;
    uint32_t *ids = malloc(cap * sizeof *ids);
    assert_non_null(ids);
    assert_int_equal(bp_encode(enc, text, len, o, ids, NULL, cap, &n, NULL), BP_OK);
    unsigned char *out = malloc(expect_len + 1);
    assert_non_null(out);
    bp_error err;
    assert_int_equal(bp_decode(m, ids, n, out, expect_len + 1, &out_len, &err), BP_OK);
    assert_int_equal(out_len, expect_len);
    assert_memory_equal(out, expect, expect_len);
    free(out);
    free(ids);
}

/* The same text encoded deterministically and sampled at alpha 0, 0.1 and 1. */
static void check_all_modes(bp_encoder *enc, const bp_model *m, const unsigned char *text,
                            size_t len, unsigned flags, const unsigned char *expect,
                            size_t expect_len, uint64_t stream)
{
    static const double alphas[] = {-1.0, 0.0, 0.1, 1.0};
    for (size_t a = 0; a < sizeof alphas / sizeof alphas[0]; a++) {
        bp_rng rng;
        bp_rng_seed(&rng, 99, stream);
        bp_encode_options o = bp_test_options(alphas[a], flags, &rng);
        check_roundtrip(enc, m, text, len, &o, expect, expect_len);
    }
}

static uint64_t next_random(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Random bytes biased towards the model's pieces, newlines and invalid UTF-8. */
static size_t random_bytes(uint64_t *rnd, unsigned char *buf, size_t cap)
{
    static const char *const bits[] = {"the", "\n", "\n\n\n", "\xff", "\xc3", "\xa9", "ing",
                                       "\xe4\xb8", "中文", "é", "e\xcc\x81", "\r\n", " "};
    size_t len = next_random(rnd) % cap, n = 0;
    while (n < len) {
        if (next_random(rnd) % 2) {
            buf[n++] = (unsigned char)next_random(rnd);
        } else {
            const char *b = bits[next_random(rnd) % (sizeof bits / sizeof bits[0])];
            size_t bl = strlen(b);
            if (n + bl > len)
                break;
            memcpy(buf + n, b, bl);
            n += bl;
        }
    }
    return n;
}

static void test_raw_bytes_roundtrip(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(WORDS, WORD_COUNTS, sizeof WORDS / sizeof WORDS[0]);
    bp_encoder *enc;
    assert_int_equal(bp_encoder_create(m, &enc, NULL), BP_OK);
    uint64_t rnd = 0x9E3779B97F4A7C15u;
    unsigned char buf[600];
    for (uint64_t i = 0; i < 2000; i++) {
        size_t len = random_bytes(&rnd, buf, sizeof buf);
        check_all_modes(enc, m, buf, len, BP_ENCODE_NO_NORMALIZE, buf, len, i);
    }
    bp_encoder_free(enc);
    bp_model_free(m);
}

/* Random valid UTF-8 over an alphabet rich in composition: decode(encode(x)) == NFC(x). */
static void test_nfc_roundtrip(void **state)
{
    (void)state;
    static const int32_t alphabet[] = {'a', 'e', ' ', '\n', 0xE9, 0x301, 0x300, 0x327, 0x1100,
                                       0x1161, 0x11A8, 0xAC00, 0x4E2D, 0x6587, 0x304B, 0x3099,
                                       0x212B, 0x958, 0x1F600, 0x200D, 0x344};
    bp_model *m = bp_test_small_model(WORDS, WORD_COUNTS, sizeof WORDS / sizeof WORDS[0]);
    bp_encoder *enc;
    assert_int_equal(bp_encoder_create(m, &enc, NULL), BP_OK);
    uint64_t rnd = 12345;
    unsigned char buf[400];
    for (uint64_t i = 0; i < 2000; i++) {
        size_t len = 0, n_cp = next_random(&rnd) % 60;
        for (size_t k = 0; k < n_cp; k++)
            len += (size_t)utf8proc_encode_char(
                alphabet[next_random(&rnd) % (sizeof alphabet / sizeof alphabet[0])], buf + len);
        utf8proc_uint8_t *nfc = NULL;
        utf8proc_ssize_t nfc_len =
            utf8proc_map(buf, (utf8proc_ssize_t)len, &nfc, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
        assert_true(nfc_len >= 0);
        check_all_modes(enc, m, buf, len, 0, nfc, (size_t)nfc_len, i);
        free(nfc);
    }
    bp_encoder_free(enc);
    bp_model_free(m);
}

/* The golden texts with a reference model, NFC on (en and zh are NFC; edge is not). */
static void test_golden_texts_roundtrip(void **state)
{
    (void)state;
    bp_model *m = bp_test_load_reference_model("bytepiece.plus.80k");
    if (!m)
        skip();
    bp_encoder *enc;
    assert_int_equal(bp_encoder_create(m, &enc, NULL), BP_OK);
    const char *texts[] = {"corpus/golden_edge.txt", "corpus/golden_en.txt", "corpus/golden_zh.txt"};
    for (size_t t = 0; t < 3; t++) {
        size_t len;
        unsigned char *text = bp_test_read_file(bp_test_shared_path(texts[t]), &len);
        assert_non_null(text);
        utf8proc_uint8_t *nfc = NULL;
        utf8proc_ssize_t nfc_len =
            utf8proc_map(text, (utf8proc_ssize_t)len, &nfc, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
        assert_true(nfc_len >= 0);
        check_all_modes(enc, m, text, len, 0, nfc, (size_t)nfc_len, t);
        check_roundtrip(enc, m, text, len, &(bp_encode_options){-1, BP_ENCODE_NO_NORMALIZE, NULL},
                        text, len);
        free(nfc);
        free(text);
    }
    bp_encoder_free(enc);
    bp_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raw_bytes_roundtrip),
        cmocka_unit_test(test_nfc_roundtrip),
        cmocka_unit_test(test_golden_texts_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
