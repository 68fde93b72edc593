/*
 * test_special.c -- special tokens (bp_model_add_special): exact ids around them with
 * BP_ENCODE_SPECIAL (leftmost, longest first, matched before NFC, each stretch encoded on
 * its own), the same ids with and without the flag on text without them (golden texts
 * too, when ../shared is present), sampling, batch and append with the flag, decoding
 * and dropping them, native format version 2 (round trip, version 1 unchanged, version 3
 * refused, damaged sections rejected), JSON refusing them, token healing stopping at them.
 */
#define _GNU_SOURCE /* memmem */

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

#define ID(byte) ((uint32_t)(unsigned char)(byte) + 3u) /* a single byte's id */
#define AB 259u /* the one longer piece of the small model */
#define MAX_IDS 256

static const char *const AB_PIECE[] = {"ab"};
static const uint64_t AB_COUNT[] = {1000};

/* The 256 bytes, "ab", then the special tokens given (ids 260, 261, ...). */
static bp_model *model_with(const char *const *tokens, size_t n)
{
    bp_model *base = bp_test_small_model(AB_PIECE, AB_COUNT, 1), *m = NULL;
    size_t lens[8];
    for (size_t i = 0; i < n; i++)
        lens[i] = strlen(tokens[i]);
    bp_error err;
    if (bp_model_add_special(base, tokens, lens, n, &m, &err) != BP_OK)
        fail_msg("add special: %s", err.message);
    bp_model_free(base);
    return m;
}

/* Encodes text with `flags` into ids (and offsets); returns the count. */
static size_t encode(const bp_model *m, const char *text, size_t len, unsigned flags,
                     uint32_t *ids, size_t *offsets)
{
    bp_encoder *enc;
    assert_int_equal(bp_encoder_create(m, &enc, NULL), BP_OK);
    bp_encode_options o = {.flags = flags};
    size_t n = 0;
    bp_error err;
    if (bp_encode(enc, text, len, &o, ids, offsets, MAX_IDS, &n, &err) != BP_OK)
        fail_msg("encode: %s", err.message);
    bp_encoder_free(enc);
    return n;
}

static void assert_ids(const uint32_t *got, size_t n, const uint32_t *want, size_t n_want)
{
    assert_int_equal(n, n_want);
    for (size_t i = 0; i < n; i++)
        if (got[i] != want[i])
            fail_msg("id %zu: got %u, want %u", i, got[i], want[i]);
}

/*====== The model ======*/

static void test_add_and_accessors(void **state)
{
    (void)state;
    const char *tokens[] = {"<|im_start|>", "[INST]"};
    bp_model *m = model_with(tokens, 2);
    assert_int_equal(bp_model_vocab_size(m), 262);
    assert_int_equal(bp_model_special_count(m), 2);
    assert_int_equal(bp_model_special_id(m, "[INST]", 6), 261);
    assert_int_equal(bp_model_special_id(m, "[INST", 5), BP_ID_NONE);
    assert_int_equal(bp_model_piece_id(m, "[INST]", 6), BP_ID_NONE); /* not a piece */
    assert_true(bp_model_is_special(m, 260) && bp_model_is_special(m, 261));
    assert_false(bp_model_is_special(m, 259) || bp_model_is_special(m, 2) ||
                 bp_model_is_special(m, 262));
    size_t len;
    const unsigned char *text = bp_model_piece(m, 260, &len);
    assert_int_equal(len, 12);
    assert_memory_equal(text, "<|im_start|>", 12);
    assert_int_equal(bp_model_piece_count(m, 260), 0);
    assert_true(bp_model_piece_score(m, 260) < -1e308);
    assert_null(bp_model_piece(m, 262, &len));
    /* A second addition continues the ids; the first model is unchanged. */
    const char *more[] = {"<|endoftext|>"};
    size_t more_len = 13;
    bp_model *m2 = NULL;
    assert_int_equal(bp_model_add_special(m, more, &more_len, 1, &m2, NULL), BP_OK);
    assert_int_equal(bp_model_special_id(m2, "<|endoftext|>", 13), 262);
    assert_int_equal(bp_model_special_id(m2, "[INST]", 6), 261);
    assert_int_equal(bp_model_vocab_size(m), 262);
    assert_int_equal(bp_model_piece_id(m2, "ab", 2), AB);
    bp_model_free(m2);
    bp_model_free(m);
}

static void expect_bad(const bp_model *m, const char *const *tokens, const size_t *lens, size_t n,
                       uint64_t index, const char *words)
{
    bp_model *out = (bp_model *)1;
    bp_error err;
    assert_int_equal(bp_model_add_special(m, tokens, lens, n, &out, &err), BP_ERR_BAD_SPECIAL);
    assert_null(out);
    assert_int_equal(err.code, BP_ERR_BAD_SPECIAL);
    assert_int_equal(err.offset, index);
    if (!strstr(err.message, words))
        fail_msg("message '%s' lacks '%s'", err.message, words);
}

static void test_bad_tokens(void **state)
{
    (void)state;
    const char *one[] = {"<|a|>"};
    bp_model *m = model_with(one, 1);
    const char *empty[] = {"x", ""};
    expect_bad(m, empty, (size_t[]){1, 0}, 2, 1, "is empty");
    const char *bad_utf8[] = {"\xff<"};
    expect_bad(m, bad_utf8, (size_t[]){2}, 1, 0, "not valid UTF-8");
    const char *cut[] = {"ok", "\xe4\xb8"}; /* a character cut short */
    expect_bad(m, cut, (size_t[]){2, 2}, 2, 1, "not valid UTF-8");
    const char *twice[] = {"<|b|>", "<|c|>", "<|b|>"};
    expect_bad(m, twice, (size_t[]){5, 5, 5}, 3, 2,
               "repeats an earlier token of the list (index 0)");
    const char *again[] = {"<|c|>", "<|a|>"};
    expect_bad(m, again, (size_t[]){5, 5}, 2, 1, "already a special token of the model (id 260)");
    const char *named[] = {"<eos>"};
    expect_bad(m, named, (size_t[]){5}, 1, 0, "<pad>, <bos>, <eos>");
    bp_model *out;
    assert_int_equal(bp_model_add_special(NULL, one, (size_t[]){5}, 1, &out, NULL),
                     BP_ERR_INVALID_ARG);
    assert_int_equal(bp_model_add_special(m, NULL, NULL, 1, &out, NULL), BP_ERR_INVALID_ARG);
    assert_int_equal(bp_strerror(BP_ERR_BAD_SPECIAL)[0], 'b');
    bp_model_free(m);
}

/*====== Encoding ======*/

static void test_encode_around_specials(void **state)
{
    (void)state;
    const char *tokens[] = {"<|a|>", "<|a|>b", "|a|>x"};
    bp_model *m = model_with(tokens, 3); /* ids 260, 261, 262 */
    uint32_t ids[MAX_IDS];
    size_t offsets[MAX_IDS];
    /* Without the flag the token text is ordinary text. */
    size_t n = encode(m, "a<|a|>b", 7, 0, ids, NULL);
    assert_ids(ids, n,
               (uint32_t[]){ID('a'), ID('<'), ID('|'), ID('a'), ID('|'), ID('>'), ID('b')}, 7);
    /* Longest first at a position: "<|a|>b" beats "<|a|>"; "ab" never spans a token. */
    n = encode(m, "a<|a|>b", 7, BP_ENCODE_SPECIAL, ids, offsets);
    assert_ids(ids, n, (uint32_t[]){ID('a'), 261}, 2);
    assert_int_equal(offsets[1], 1);
    n = encode(m, "a<|a|>ab", 8, BP_ENCODE_SPECIAL, ids, offsets);
    assert_ids(ids, n, (uint32_t[]){ID('a'), 260, AB}, 3);
    assert_int_equal(offsets[2], 6);
    /* Leftmost first: "<|a|>" at 0 wins over "|a|>x" at 1. */
    n = encode(m, "<|a|>x", 6, BP_ENCODE_SPECIAL, ids, NULL);
    assert_ids(ids, n, (uint32_t[]){260, ID('x')}, 2);
    n = encode(m, "|a|>xab", 7, BP_ENCODE_SPECIAL, ids, NULL);
    assert_ids(ids, n, (uint32_t[]){262, AB}, 2);
    /* Adjacent tokens, at the start and at the end, with <bos> and <eos>. */
    n = encode(m, "<|a|><|a|>", 10, BP_ENCODE_SPECIAL | BP_ENCODE_BOS | BP_ENCODE_EOS, ids,
               offsets);
    assert_ids(ids, n, (uint32_t[]){BP_ID_BOS, 260, 260, BP_ID_EOS}, 4);
    assert_int_equal(offsets[2], 5);
    assert_int_equal(offsets[3], 10);
    /* A token cut short is text; chunks still end at newlines inside a stretch. */
    n = encode(m, "ab\n<|a|", 7, BP_ENCODE_SPECIAL, ids, NULL);
    assert_ids(ids, n, (uint32_t[]){AB, ID('\n'), ID('<'), ID('|'), ID('a'), ID('|')}, 6);
    bp_model_free(m);
}

static void test_specials_before_nfc(void **state)
{
    (void)state;
    /* U+212B ANGSTROM SIGN becomes U+00C5 in NFC: as a token it is matched first. */
    const char *tokens[] = {"\xe2\x84\xab", "<s1>"};
    bp_model *m = model_with(tokens, 2); /* 260, 261 */
    uint32_t ids[MAX_IDS];
    size_t n = encode(m, "\xe2\x84\xab", 3, 0, ids, NULL);
    assert_ids(ids, n, (uint32_t[]){ID(0xc3), ID(0x85)}, 2);
    n = encode(m, "\xe2\x84\xab", 3, BP_ENCODE_SPECIAL, ids, NULL);
    assert_ids(ids, n, (uint32_t[]){260}, 1);
    /* Each stretch is normalized on its own: e + U+0301 composes before the token, and a
     * combining mark after it stays alone (NFC of the whole text would leave it too, but
     * the stretch is what is normalized). */
    const char text[] = "e\xcc\x81<s1>\xcc\x81";
    size_t offsets[MAX_IDS];
    bp_encoder *enc;
    assert_int_equal(bp_encoder_create(m, &enc, NULL), BP_OK);
    bp_encode_options o = {.flags = BP_ENCODE_SPECIAL};
    assert_int_equal(bp_encode(enc, text, sizeof text - 1, &o, ids, offsets, MAX_IDS, &n, NULL),
                     BP_OK);
    assert_ids(ids, n, (uint32_t[]){ID(0xc3), ID(0xa9), 261, ID(0xcc), ID(0x81)}, 5);
    /* Offsets point into the caller's text: both bytes of the composed é at the e, the
     * token where it starts, the mark after it. */
    assert_int_equal(offsets[0], 0);
    assert_int_equal(offsets[1], 0);
    assert_int_equal(offsets[2], 3);
    assert_int_equal(offsets[3], 7);
    assert_int_equal(offsets[4], 7);
    size_t norm_len;
    const unsigned char *norm = bp_encoder_normalized(enc, &norm_len);
    assert_int_equal(norm_len, 8);
    assert_memory_equal(norm, "\xc3\xa9<s1>\xcc\x81", 8);
    bp_encoder_free(enc);
    bp_model_free(m);
}

/* Encodes text with and without BP_ENCODE_SPECIAL (optionally sampling with seed 7) and
 * checks that the ids are equal. */
static void assert_flag_changes_nothing(const bp_model *m, const unsigned char *text, size_t len,
                                        double alpha)
{
    bp_encoder *enc;
    assert_int_equal(bp_encoder_create(m, &enc, NULL), BP_OK);
    uint32_t *ids[2] = {NULL, NULL};
    size_t n[2] = {0, 0}, cap[2] = {0, 0};
    for (int with = 0; with < 2; with++) {
        bp_rng rng;
        bp_rng_seed(&rng, 7, 0);
        bp_encode_options o = bp_test_options(alpha, with ? BP_ENCODE_SPECIAL : 0, &rng);
        bp_error err;
        if (bp_encode_append(enc, text, len, &o, &ids[with], NULL, &cap[with], &n[with], &err))
            fail_msg("encode: %s", err.message);
    }
    assert_int_equal(n[0], n[1]);
    assert_memory_equal(ids[0], ids[1], n[0] * sizeof *ids[0]);
    free(ids[0]);
    free(ids[1]);
    bp_encoder_free(enc);
}

static void test_no_specials_same_ids(void **state)
{
    (void)state;
    const char *tokens[] = {"<|endoftext|>", "<|im_start|>"};
    bp_model *m = model_with(tokens, 2);
    const char text[] = "ab <|endoftext| <|im_start\nabab e\xcc\x81 \xff\xfe";
    assert_flag_changes_nothing(m, (const unsigned char *)text, sizeof text - 1, -1.0);
    assert_flag_changes_nothing(m, (const unsigned char *)text, sizeof text - 1, 0.5);
    bp_model_free(m);
}

static void test_golden_texts_same_ids(void **state)
{
    (void)state;
    bp_model *ref = bp_test_load_reference_model("bytepiece.plus.80k");
    if (!ref)
        skip();
    const char *tokens[] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>", "[INST]"};
    size_t lens[] = {13, 12, 10, 6};
    bp_model *m = NULL;
    assert_int_equal(bp_model_add_special(ref, tokens, lens, 4, &m, NULL), BP_OK);
    const char *goldens[] = {"corpus/golden_en.txt", "corpus/golden_zh.txt",
                             "corpus/golden_edge.txt"};
    for (size_t g = 0; g < 3; g++) {
        size_t len;
        unsigned char *text = bp_test_read_file(bp_test_shared_path(goldens[g]), &len);
        assert_non_null(text);
        assert_null(memmem(text, len, "<|", 2)); /* truly without special tokens */
        assert_flag_changes_nothing(m, text, len, -1.0);
        /* And the ids are the model's without special tokens. */
        bp_encoder *a, *b;
        assert_int_equal(bp_encoder_create(ref, &a, NULL), BP_OK);
        assert_int_equal(bp_encoder_create(m, &b, NULL), BP_OK);
        uint32_t *ids[2] = {NULL, NULL};
        size_t n[2] = {0, 0}, cap[2] = {0, 0};
        bp_encode_options o = {.flags = BP_ENCODE_SPECIAL};
        assert_int_equal(bp_encode_append(a, text, len, NULL, &ids[0], NULL, &cap[0], &n[0], NULL),
                         BP_OK);
        assert_int_equal(bp_encode_append(b, text, len, &o, &ids[1], NULL, &cap[1], &n[1], NULL),
                         BP_OK);
        assert_int_equal(n[0], n[1]);
        assert_memory_equal(ids[0], ids[1], n[0] * sizeof *ids[0]);
        free(ids[0]);
        free(ids[1]);
        bp_encoder_free(a);
        bp_encoder_free(b);
        free(text);
    }
    bp_model_free(m);
    bp_model_free(ref);
}

static void test_sampling_with_specials(void **state)
{
    (void)state;
    const char *tokens[] = {"<|a|>"};
    bp_model *m = model_with(tokens, 1);
    const char text[] = "abab<|a|>abab<|a|>";
    uint32_t first[MAX_IDS], again[MAX_IDS];
    size_t n_first = 0, n_again = 0;
    bp_encoder *enc;
    assert_int_equal(bp_encoder_create(m, &enc, NULL), BP_OK);
    for (int run = 0; run < 2; run++) {
        bp_rng rng;
        bp_rng_seed(&rng, 42, 3);
        bp_encode_options o = bp_test_options(0.0, BP_ENCODE_SPECIAL, &rng);
        assert_int_equal(bp_encode(enc, text, sizeof text - 1, &o, run ? again : first, NULL,
                                   MAX_IDS, run ? &n_again : &n_first, NULL),
                         BP_OK);
    }
    assert_int_equal(n_first, n_again);
    assert_memory_equal(first, again, n_first * sizeof *first);
    assert_int_equal(first[n_first - 1], 260);
    size_t specials = 0;
    for (size_t i = 0; i < n_first; i++)
        specials += first[i] == 260;
    assert_int_equal(specials, 2);
    char out[64];
    size_t out_len;
    assert_int_equal(bp_decode(m, first, n_first, out, sizeof out, &out_len, NULL), BP_OK);
    assert_int_equal(out_len, sizeof text - 1);
    assert_memory_equal(out, text, out_len);
    bp_encoder_free(enc);
    bp_model_free(m);
}

static void test_batch_with_specials(void **state)
{
    (void)state;
    const char *tokens[] = {"<|a|>"};
    bp_model *m = model_with(tokens, 1);
    const char *texts[] = {"ab<|a|>b", "", "<|a|>"};
    size_t lens[] = {8, 0, 5};
    bp_batch_options o = {.flags = BP_ENCODE_SPECIAL | BP_ENCODE_OFFSETS, .threads = 2};
    bp_batch batch;
    assert_int_equal(bp_encode_batch(m, (const void *const *)texts, lens, 3, &o, &batch, NULL),
                     BP_OK);
    assert_ids(batch.ids, batch.ids_begin[3], (uint32_t[]){AB, 260, ID('b'), 260}, 4);
    assert_int_equal(batch.ids_begin[1], 3);
    assert_int_equal(batch.ids_begin[2], 3);
    assert_int_equal(batch.offsets[2], 7);
    bp_batch_free(&batch);
    bp_model_free(m);
}

/*====== Decoding ======*/

static void test_decode_and_drop(void **state)
{
    (void)state;
    const char *tokens[] = {"<|im_start|>", "\xe2\x82\xac"}; /* 260, 261 (the euro sign) */
    bp_model *m = model_with(tokens, 2);
    uint32_t ids[] = {260, ID('h'), ID('i'), BP_ID_EOS, 261, ID(0xe2), 261, ID(0x82)};
    char out[64];
    size_t out_len;
    assert_int_equal(bp_decode_bound(m, 1), 12);
    assert_int_equal(bp_decode(m, ids, 8, out, sizeof out, &out_len, NULL), BP_OK);
    const char want[] = "<|im_start|>hi\xe2\x82\xac\xe2\xe2\x82\xac\x82";
    assert_int_equal(out_len, sizeof want - 1);
    assert_memory_equal(out, want, out_len);
    /* The stream decoder gives the same bytes, id by id. */
    bp_stream_decoder *dec;
    assert_int_equal(bp_stream_decoder_create(m, &dec, NULL), BP_OK);
    char streamed[64];
    size_t total = 0, got;
    for (size_t i = 0; i < 8; i++) {
        assert_int_equal(bp_stream_decode(dec, ids + i, 1, streamed + total, 15, &got, NULL),
                         BP_OK);
        total += got;
    }
    assert_int_equal(bp_stream_decode_flush(dec, streamed + total, 3, &got, NULL), BP_OK);
    total += got;
    assert_int_equal(total, out_len);
    assert_memory_equal(streamed, out, total);
    bp_stream_decoder_free(dec);
    /* Dropping keeps ids 0..2, pieces and unknown ids, in order. */
    uint32_t mixed[] = {260, ID('h'), BP_ID_EOS, 261, 9999, 260};
    assert_int_equal(bp_ids_drop_special(m, mixed, 6), 3);
    assert_ids(mixed, 3, (uint32_t[]){ID('h'), BP_ID_EOS, 9999}, 3);
    assert_int_equal(bp_ids_drop_special(NULL, mixed, 3), 3);
    uint32_t unknown[] = {262};
    bp_error err;
    assert_int_equal(bp_decode(m, unknown, 1, out, sizeof out, &out_len, &err), BP_ERR_UNKNOWN_ID);
    assert_non_null(strstr(err.message, "ids 0 .. 261"));
    bp_model_free(m);
}

static void test_heal_stops_at_special(void **state)
{
    (void)state;
    const char *tokens[] = {"<|im_start|>"};
    bp_model *m = model_with(tokens, 1);
    uint32_t ids[] = {ID('x'), 260, AB};
    size_t kept, len;
    unsigned char back[64];
    assert_int_equal(bp_heal_prompt(m, ids, 3, 3, &kept, back, sizeof back, &len, NULL), BP_OK);
    assert_int_equal(kept, 2);
    assert_int_equal(len, 2);
    assert_memory_equal(back, "ab", 2);
    bp_model_free(m);
}

/*====== Formats ======*/

static const char *in_scratch(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", bp_test_scratch, name);
    return path;
}

static uint32_t get32(const unsigned char *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Sets the checksum of a native image after a change (the format's, docs §6). */
static void reseal(unsigned char *p, size_t size)
{
    uint64_t sum = bp_checksum64(p + 32, size - 32, 0);
    for (int i = 0; i < 8; i++)
        p[24 + i] = (unsigned char)(sum >> (8 * i));
}

static unsigned char *saved_image(const bp_model *m, const char *name, size_t *size)
{
    bp_error err;
    if (bp_model_save_native(m, in_scratch(name), &err) != BP_OK)
        fail_msg("save: %s", err.message);
    unsigned char *p = bp_test_read_file(in_scratch(name), size);
    assert_non_null(p);
    return p;
}

static bp_status load(const unsigned char *p, size_t size, bp_model **m)
{
    *m = NULL;
    return bp_model_load_memory(p, size, "v2", m, NULL);
}

static void test_native_versions(void **state)
{
    (void)state;
    const char *tokens[] = {"<|im_start|>", "[INST]", "\xe4\xb8\xad"};
    bp_model *m = model_with(tokens, 3);
    bp_model *plain = bp_test_small_model(AB_PIECE, AB_COUNT, 1);
    size_t size1, size2;
    unsigned char *v1 = saved_image(plain, "v1.bpm", &size1);
    unsigned char *v2 = saved_image(m, "v2.bpm", &size2);
    /* Without special tokens: version 1, the reserved field 0, ending at the pieces. */
    assert_int_equal(get32(v1 + 8), 1);
    assert_int_equal(get32(v1 + 60), 0);
    /* With them: version 2, their number at 60, the same pieces and automaton before
     * them, then the offsets (8-aligned) and bytes: 12 + 6 + 3 bytes. */
    assert_int_equal(get32(v2 + 8), 2);
    assert_int_equal(get32(v2 + 60), 3);
    size_t at = (size1 + 7) & ~(size_t)7;
    assert_int_equal(size2, at + 4 * 4 + 21);
    assert_memory_equal(v1 + 32, v2 + 32, 28);  /* the counts of the header */
    assert_memory_equal(v1 + 64, v2 + 64, size1 - 64);
    assert_int_equal(get32(v2 + at + 12), 21);
    assert_memory_equal(v2 + at + 16, "<|im_start|>[INST]\xe4\xb8\xad", 21);
    /* Round trip: the same special tokens and ids. */
    bp_model *back;
    assert_int_equal(load(v2, size2, &back), BP_OK);
    assert_int_equal(bp_model_vocab_size(back), 263);
    assert_int_equal(bp_model_special_id(back, "\xe4\xb8\xad", 3), 262);
    uint32_t ids[MAX_IDS];
    size_t n = encode(back, "[INST]ab", 8, BP_ENCODE_SPECIAL, ids, NULL);
    assert_ids(ids, n, (uint32_t[]){261, AB}, 2);
    size_t again_size;
    unsigned char *again = saved_image(back, "again.bpm", &again_size);
    assert_int_equal(again_size, size2);
    assert_memory_equal(again, v2, size2);
    free(again);
    bp_model_free(back);
    /* A v1 file with the model of a v2 file without its tokens is byte for byte v1. */
    bp_model *v1_back;
    assert_int_equal(load(v1, size1, &v1_back), BP_OK);
    assert_int_equal(bp_model_special_count(v1_back), 0);
    bp_model_free(v1_back);
    /* Version 3 is not read. */
    put32(v2 + 8, 3);
    bp_error err;
    assert_int_equal(bp_model_load_memory(v2, size2, "v3", &back, &err), BP_ERR_VERSION);
    assert_non_null(strstr(err.message, "versions 1 and 2"));
    free(v1);
    free(v2);
    bp_model_free(plain);
    bp_model_free(m);
}

static void test_native_v2_damaged(void **state)
{
    (void)state;
    const char *tokens[] = {"<|im_start|>", "[INST]"}; /* 12 + 6 bytes */
    bp_model *m = model_with(tokens, 2);
    bp_model *plain = bp_test_small_model(AB_PIECE, AB_COUNT, 1);
    size_t size1, size2;
    unsigned char *v1 = saved_image(plain, "p.bpm", &size1);
    unsigned char *v2 = saved_image(m, "m.bpm", &size2);
    /* The offsets (3 entries) at `at`, the 18 bytes at the next multiple of 8. */
    size_t at = (size1 + 7) & ~(size_t)7, bytes = at + 16;
    assert_int_equal(size2, bytes + 18);
    unsigned char *p = malloc(size2);
    assert_non_null(p);
    /* Empty token: offsets 0, 0, 18. */
    memcpy(p, v2, size2);
    put32(p + at + 4, 0);
    reseal(p, size2);
    bp_model *out;
    assert_int_equal(bp_model_load_memory(p, size2, "e", &out, NULL), BP_ERR_CORRUPT);
    /* Not UTF-8. */
    memcpy(p, v2, size2);
    p[bytes + 1] = 0xff;
    reseal(p, size2);
    assert_int_equal(bp_model_load_memory(p, size2, "u", &out, NULL), BP_ERR_CORRUPT);
    /* Two equal tokens: "[INST]" twice in 12 bytes + 6. */
    memcpy(p, v2, size2);
    memcpy(p + bytes, "[INST][INST][INST]", 18);
    put32(p + at + 4, 6);
    put32(p + at + 8, 12);
    reseal(p, size2);
    assert_int_equal(bp_model_load_memory(p, size2, "d", &out, NULL), BP_ERR_CORRUPT);
    /* A reserved name. */
    memcpy(p, v2, size2);
    memcpy(p + bytes, "<eos>", 5);
    put32(p + at + 4, 5);
    reseal(p, size2);
    assert_int_equal(bp_model_load_memory(p, size2, "n", &out, NULL), BP_ERR_CORRUPT);
    /* Version 2 without tokens, and a token count past the section. */
    memcpy(p, v2, size2);
    put32(p + 60, 0);
    reseal(p, size2);
    assert_int_equal(bp_model_load_memory(p, size2, "z", &out, NULL), BP_ERR_CORRUPT);
    memcpy(p, v2, size2);
    put32(p + 60, 3);
    reseal(p, size2);
    assert_int_equal(bp_model_load_memory(p, size2, "c", &out, NULL), BP_ERR_CORRUPT);
    /* The last offset is not where the file ends. */
    memcpy(p, v2, size2);
    put32(p + at + 8, 17);
    reseal(p, size2);
    assert_int_equal(bp_model_load_memory(p, size2, "l", &out, NULL), BP_ERR_CORRUPT);
    /* Offsets that do not start at 0 / decrease. */
    memcpy(p, v2, size2);
    put32(p + at, 1);
    reseal(p, size2);
    assert_int_equal(bp_model_load_memory(p, size2, "s", &out, NULL), BP_ERR_CORRUPT);
    /* A flipped byte of the tokens without resealing: the checksum. */
    memcpy(p, v2, size2);
    p[size2 - 1] ^= 1;
    assert_int_equal(bp_model_load_memory(p, size2, "f", &out, NULL), BP_ERR_CORRUPT);
    /* Every truncation. */
    for (size_t cut = 0; cut < size2; cut += cut < 64 ? 1 : 97) {
        bp_status st = bp_model_load_memory(v2, cut, "t", &out, NULL);
        if (st == BP_OK)
            fail_msg("a cut at %zu loaded", cut);
        bp_model_free(out);
    }
    free(p);
    free(v1);
    free(v2);
    bp_model_free(plain);
    bp_model_free(m);
}

static void test_json_refuses(void **state)
{
    (void)state;
    const char *tokens[] = {"<|a|>", "<|b|>"};
    bp_model *m = model_with(tokens, 2);
    bp_error err;
    assert_int_equal(bp_model_save(m, in_scratch("m.json"), &err), BP_ERR_BAD_SPECIAL);
    assert_non_null(strstr(err.message, "2 special tokens"));
    FILE *fp = fopen(in_scratch("m.json"), "rb");
    assert_null(fp);
    bp_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_and_accessors),
        cmocka_unit_test(test_bad_tokens),
        cmocka_unit_test(test_encode_around_specials),
        cmocka_unit_test(test_specials_before_nfc),
        cmocka_unit_test(test_no_specials_same_ids),
        cmocka_unit_test(test_golden_texts_same_ids),
        cmocka_unit_test(test_sampling_with_specials),
        cmocka_unit_test(test_batch_with_specials),
        cmocka_unit_test(test_decode_and_drop),
        cmocka_unit_test(test_heal_stops_at_special),
        cmocka_unit_test(test_native_versions),
        cmocka_unit_test(test_native_v2_damaged),
        cmocka_unit_test(test_json_refuses),
    };
    return cmocka_run_group_tests(tests, bp_test_make_scratch, bp_test_remove_scratch);
}
