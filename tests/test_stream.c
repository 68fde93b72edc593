/*
 * test_stream.c -- the stream decoder (bp_stream_decode): exact chunks on hand-made
 * cases, and, on random id sequences full of invalid UTF-8, chunks that are exactly what
 * an independent oracle says is ready and that add up to bp_decode().
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

/* Pieces that end or start inside characters: a + the first two bytes of U+4E2D, its last
 * byte + a, the first three bytes of U+1F600, two lone continuations, a whole U+00E9. */
static const char *const PIECES[] = {"a\xE4\xB8", "\xAD" "a", "\xF0\x9F\x98", "\x80\x80",
                                     "\xC3\xA9", "ab"};
static const uint64_t COUNTS[] = {5, 5, 5, 5, 5, 5};
#define N_PIECES (sizeof PIECES / sizeof PIECES[0])
#define BYTE_ID(b) ((uint32_t)(b) + BP_FIRST_PIECE_ID)

static bp_model *stream_model(void) { return bp_test_small_model(PIECES, COUNTS, N_PIECES); }

static uint32_t piece(const bp_model *m, const char *bytes)
{
    uint32_t id = bp_model_piece_id(m, bytes, strlen(bytes));
    assert_int_not_equal(id, BP_ID_NONE);
    return id;
}

/* Decodes one id and checks the chunk handed back. */
static void expect_chunk(bp_stream_decoder *dec, uint32_t id, const char *want, size_t want_len)
{
    unsigned char out[64];
    size_t len = 999;
    bp_error err;
    assert_int_equal(bp_stream_decode(dec, &id, 1, out, sizeof out, &len, &err), BP_OK);
    assert_int_equal(len, want_len);
    assert_memory_equal(out, want, want_len);
}

static void expect_flush(bp_stream_decoder *dec, const char *want, size_t want_len)
{
    unsigned char out[3];
    size_t len = 999;
    bp_error err;
    assert_int_equal(bp_stream_decode_flush(dec, out, sizeof out, &len, &err), BP_OK);
    assert_int_equal(len, want_len);
    assert_memory_equal(out, want, want_len);
}

static void test_emoji_over_byte_pieces(void **state)
{
    (void)state;
    bp_model *m = stream_model();
    bp_stream_decoder *dec;
    assert_int_equal(bp_stream_decoder_create(m, &dec, NULL), BP_OK);
    expect_chunk(dec, BYTE_ID('x'), "x", 1);
    expect_chunk(dec, BYTE_ID(0xF0), "", 0);
    expect_chunk(dec, BYTE_ID(0x9F), "", 0);
    expect_chunk(dec, BYTE_ID(0x98), "", 0);
    expect_chunk(dec, BYTE_ID(0x80), "\xF0\x9F\x98\x80", 4);
    /* Ids 0..2 give nothing and leave what is held alone. */
    expect_chunk(dec, BYTE_ID(0xF0), "", 0);
    expect_chunk(dec, BP_ID_BOS, "", 0);
    expect_chunk(dec, BP_ID_PAD, "", 0);
    expect_chunk(dec, BYTE_ID(0x9F), "", 0);
    expect_chunk(dec, BP_ID_EOS, "", 0);
    expect_chunk(dec, BYTE_ID(0x98), "", 0);
    expect_chunk(dec, BYTE_ID(0x81), "\xF0\x9F\x98\x81", 4);
    /* A piece that ends inside a character, finished by the next one. */
    expect_chunk(dec, piece(m, "a\xE4\xB8"), "a", 1);
    expect_chunk(dec, piece(m, "\xAD" "a"), "\xE4\xB8\xAD" "a", 4);
    expect_chunk(dec, piece(m, "\xF0\x9F\x98"), "", 0);
    expect_chunk(dec, BYTE_ID(0x82), "\xF0\x9F\x98\x82", 4);
    expect_flush(dec, "", 0);
    bp_stream_decoder_free(dec);
    bp_model_free(m);
}

static void test_invalid_bytes_come_out_at_once(void **state)
{
    (void)state;
    bp_model *m = stream_model();
    bp_stream_decoder *dec;
    assert_int_equal(bp_stream_decoder_create(m, &dec, NULL), BP_OK);
    expect_chunk(dec, BYTE_ID(0xFF), "\xFF", 1);             /* never in UTF-8 */
    expect_chunk(dec, BYTE_ID(0xC0), "\xC0", 1);             /* only overlong forms */
    expect_chunk(dec, BYTE_ID(0x80), "\x80", 1);             /* a lone continuation */
    expect_chunk(dec, piece(m, "\x80\x80"), "\x80\x80", 2);
    expect_chunk(dec, BYTE_ID(0xE2), "", 0);                 /* may start U+2000.. */
    expect_chunk(dec, BYTE_ID('A'), "\xE2" "A", 2);          /* ... no longer */
    expect_chunk(dec, BYTE_ID(0xE0), "", 0);
    expect_chunk(dec, BYTE_ID(0x80), "\xE0\x80", 2);         /* overlong: E0 needs A0..BF */
    expect_chunk(dec, BYTE_ID(0xED), "", 0);
    expect_chunk(dec, BYTE_ID(0xA0), "\xED\xA0", 2);         /* a surrogate */
    expect_chunk(dec, BYTE_ID(0xF4), "", 0);
    expect_chunk(dec, BYTE_ID(0x90), "\xF4\x90", 2);         /* above U+10FFFF */
    expect_chunk(dec, BYTE_ID(0xF0), "", 0);
    expect_chunk(dec, BYTE_ID(0xC3), "\xF0", 1);             /* a new lead ends the old one */
    expect_chunk(dec, BYTE_ID(0xA9), "\xC3\xA9", 2);
    expect_chunk(dec, BYTE_ID(0xC3), "", 0);
    expect_chunk(dec, piece(m, "\xC3\xA9"), "\xC3\xC3\xA9", 3);
    bp_stream_decoder_free(dec);
    bp_model_free(m);
}

static void test_flush_emits_what_is_held(void **state)
{
    (void)state;
    bp_model *m = stream_model();
    bp_stream_decoder *dec;
    assert_int_equal(bp_stream_decoder_create(m, &dec, NULL), BP_OK);
    expect_chunk(dec, BYTE_ID(0xE4), "", 0);
    expect_flush(dec, "\xE4", 1); /* a lone lead byte at the end */
    expect_flush(dec, "", 0);
    uint32_t ids[] = {BYTE_ID('z'), BYTE_ID(0xF0), BYTE_ID(0x9F), BYTE_ID(0x98)};
    unsigned char out[16];
    size_t len;
    assert_int_equal(bp_stream_decode(dec, ids, 4, out, sizeof out, &len, NULL), BP_OK);
    assert_int_equal(len, 1);
    assert_memory_equal(out, "z", 1);
    /* Flush needs room for all it holds, or changes nothing. */
    assert_int_equal(bp_stream_decode_flush(dec, out, 2, &len, NULL), BP_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(len, 3);
    expect_flush(dec, "\xF0\x9F\x98", 3);
    bp_stream_decoder_free(dec);
    bp_model_free(m);
}

static void test_failures_change_nothing(void **state)
{
    (void)state;
    bp_model *m = stream_model();
    bp_stream_decoder *dec;
    bp_error err;
    assert_int_equal(bp_stream_decoder_create(NULL, &dec, &err), BP_ERR_INVALID_ARG);
    assert_null(dec);
    assert_int_equal(bp_stream_decoder_create(m, NULL, &err), BP_ERR_INVALID_ARG);
    assert_int_equal(bp_stream_decoder_create(m, &dec, &err), BP_OK);
    unsigned char out[16];
    size_t len;
    uint32_t vocab = (uint32_t)bp_model_vocab_size(m);
    uint32_t first[] = {BYTE_ID('a'), BYTE_ID(0xF0)};
    assert_int_equal(bp_stream_decode(dec, first, 2, out, sizeof out, &len, &err), BP_OK);
    assert_int_equal(len, 1);
    uint32_t bad[] = {BYTE_ID(0x9F), BYTE_ID('b'), vocab, BYTE_ID('c')};
    assert_int_equal(bp_stream_decode(dec, bad, 4, out, sizeof out, &len, &err),
                     BP_ERR_UNKNOWN_ID);
    assert_int_equal(err.code, BP_ERR_UNKNOWN_ID);
    assert_int_equal(err.offset, 2);
    char want[96];
    snprintf(want, sizeof want, "unknown id %u at position 4 (the vocabulary has ids 0 .. %u)",
             vocab, vocab - 1);
    assert_string_equal(err.message, want);
    /* Too small a buffer: the room needed, nothing consumed. */
    uint32_t good[] = {BYTE_ID(0x9F), BYTE_ID(0x98), BYTE_ID(0x80), BYTE_ID('b')};
    assert_int_equal(bp_stream_decode(dec, good, 4, out, 4, &len, &err),
                     BP_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(len, 5);
    assert_int_equal(bp_stream_decode(dec, good, 4, NULL, 0, &len, &err),
                     BP_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(len, 5);
    /* Still usable, still holding F0: the emoji comes out whole. */
    assert_int_equal(bp_stream_decode(dec, good, 4, out, 5, &len, &err), BP_OK);
    assert_int_equal(len, 5);
    assert_memory_equal(out, "\xF0\x9F\x98\x80" "b", 5);
    /* Nothing ready and no buffer is fine. */
    uint32_t lead = BYTE_ID(0xC3);
    assert_int_equal(bp_stream_decode(dec, &lead, 1, NULL, 0, &len, &err), BP_OK);
    assert_int_equal(len, 0);
    assert_int_equal(bp_stream_decode(dec, NULL, 0, NULL, 0, &len, &err), BP_OK);
    assert_int_equal(bp_stream_decode(dec, NULL, 1, out, sizeof out, &len, &err),
                     BP_ERR_INVALID_ARG);
    assert_int_equal(bp_stream_decode(dec, &lead, 1, NULL, 4, &len, &err), BP_ERR_INVALID_ARG);
    assert_int_equal(bp_stream_decode(dec, &lead, 1, out, sizeof out, NULL, &err),
                     BP_ERR_INVALID_ARG);
    assert_int_equal(bp_stream_decode(NULL, &lead, 1, out, sizeof out, &len, &err),
                     BP_ERR_INVALID_ARG);
    assert_int_equal(bp_stream_decode_flush(NULL, out, sizeof out, &len, &err),
                     BP_ERR_INVALID_ARG);
    expect_flush(dec, "\xC3", 1);
    bp_stream_decoder_free(dec);
    bp_stream_decoder_free(NULL);
    bp_model_free(m);
}

/*------ Random streams against an oracle ------*/

/* Every proper prefix (1 to 3 bytes) of the UTF-8 form of a code point above U+007F,
 * found by encoding them all: a set built without the library's notion of well-formed. */
typedef struct prefix_set {
    unsigned char *bits; /* indexed by length - 1 and the bytes, 3 * 2^24 bits */
} prefix_set;

static size_t prefix_key(const unsigned char *s, size_t k)
{
    size_t key = 0;
    for (size_t i = 0; i < k; i++)
        key = key << 8 | s[i];
    return (k - 1) << 24 | key;
}

static size_t utf8_encode(uint32_t cp, unsigned char *s)
{
    if (cp < 0x800) {
        s[0] = (unsigned char)(0xC0 | cp >> 6), s[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        s[0] = (unsigned char)(0xE0 | cp >> 12);
        s[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        s[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    s[0] = (unsigned char)(0xF0 | cp >> 18);
    s[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    s[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    s[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

static prefix_set make_prefix_set(void)
{
    prefix_set set = {calloc((size_t)3 << 21, 1)};
    assert_non_null(set.bits);
    for (uint32_t cp = 0x80; cp <= 0x10FFFF; cp++) {
        if (cp >= 0xD800 && cp <= 0xDFFF)
            continue;
        unsigned char s[4];
        size_t n = utf8_encode(cp, s);
        for (size_t k = 1; k < n; k++) {
            size_t key = prefix_key(s, k);
            set.bits[key >> 3] |= (unsigned char)(1u << (key & 7));
        }
    }
    return set;
}

/* What a stream decoder must have handed back once it has seen d[0..n): all but the
 * suffix that is an unfinished character (at most one suffix can be: each starts with a
 * lead byte, which is no continuation). */
static size_t oracle_ready(const prefix_set *set, const unsigned char *d, size_t n)
{
    for (size_t k = 1; k <= 3 && k <= n; k++) {
        size_t key = prefix_key(d + n - k, k);
        if (set->bits[key >> 3] & (1u << (key & 7)))
            return n - k;
    }
    return n;
}

/* Ids that make bytes likely to form, break and finish characters. */
static uint32_t random_id(bp_rng *rng, uint32_t vocab)
{
    uint64_t r = bp_rng_next(rng);
    switch (r % 8) {
    case 0: return (uint32_t)(r >> 8) % vocab;                       /* anything, 0..2 too */
    case 1: return BYTE_ID((r >> 8) % 128);                          /* ASCII */
    case 2: case 3: return BYTE_ID(0x80 + (r >> 8) % 64);            /* continuations */
    case 4: return BYTE_ID(0xC0 + (r >> 8) % 64);                    /* leads and worse */
    case 5: return BYTE_ID(0xE0 + (r >> 8) % 32);
    default: return vocab - 1 - (uint32_t)((r >> 8) % N_PIECES);     /* the pieces above */
    }
}

static void test_random_streams_match_decode(void **state)
{
    (void)state;
    bp_model *m = stream_model();
    uint32_t vocab = (uint32_t)bp_model_vocab_size(m);
    prefix_set set = make_prefix_set();
    bp_rng rng;
    bp_rng_seed(&rng, 7, 0);
    enum { MAX_IDS = 64 };
    uint32_t ids[MAX_IDS];
    unsigned char whole[MAX_IDS * 4], got[MAX_IDS * 4 + 3], chunk[MAX_IDS * 4 + 3];
    bp_stream_decoder *dec;
    assert_int_equal(bp_stream_decoder_create(m, &dec, NULL), BP_OK);
    for (int round = 0; round < 3000; round++) {
        size_t n = 1 + bp_rng_next(&rng) % MAX_IDS, whole_len, got_len = 0, len;
        for (size_t i = 0; i < n; i++)
            ids[i] = random_id(&rng, vocab);
        assert_int_equal(bp_decode(m, ids, n, whole, sizeof whole, &whole_len, NULL), BP_OK);
        /* One id at a time: a chunk boundary after every id, each checked. */
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(bp_stream_decode(dec, ids + i, 1, chunk, sizeof chunk, &len, NULL),
                             BP_OK);
            memcpy(got + got_len, chunk, len);
            got_len += len;
            size_t seen_len; /* bytes of the ids so far: bp_decode tells the room needed */
            bp_decode(m, ids, i + 1, NULL, 0, &seen_len, NULL);
            assert_int_equal(got_len, oracle_ready(&set, whole, seen_len));
        }
        assert_int_equal(bp_stream_decode_flush(dec, chunk, 3, &len, NULL), BP_OK);
        memcpy(got + got_len, chunk, len);
        assert_int_equal(got_len + len, whole_len);
        assert_memory_equal(got, whole, whole_len);
        /* Random slices, with the documented bound as the buffer. */
        got_len = 0;
        for (size_t i = 0; i < n;) {
            size_t take = 1 + bp_rng_next(&rng) % (n - i);
            size_t cap = bp_decode_bound(m, take) + 3;
            assert_int_equal(bp_stream_decode(dec, ids + i, take, got + got_len, cap, &len, NULL),
                             BP_OK);
            got_len += len;
            i += take;
            size_t seen_len;
            bp_decode(m, ids, i, NULL, 0, &seen_len, NULL);
            assert_int_equal(got_len, oracle_ready(&set, whole, seen_len));
        }
        assert_int_equal(bp_stream_decode_flush(dec, got + got_len, 3, &len, NULL), BP_OK);
        assert_int_equal(got_len + len, whole_len);
        assert_memory_equal(got, whole, whole_len);
    }
    bp_stream_decoder_free(dec);
    free(set.bits);
    bp_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_emoji_over_byte_pieces),
        cmocka_unit_test(test_invalid_bytes_come_out_at_once),
        cmocka_unit_test(test_flush_emits_what_is_held),
        cmocka_unit_test(test_failures_change_nothing),
        cmocka_unit_test(test_random_streams_match_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
