/*
 * fuzz_stream_decode.c -- libFuzzer target: the stream decoder on arbitrary id streams.
 *
 * Input layout (missing bytes read as 0):
 *   byte 0     bit 0: the model (0 the tiny model, 1 data/sample.model); bit 1: ids are 4
 *              bytes (any uint32_t) instead of 2 (taken modulo the vocabulary size + 4, so
 *              that a few are unknown)
 *   bytes 1-8  the seed of the slice sizes (0 to 8 ids per call)
 *   the rest   the ids, little endian
 *
 * Checks, for every slice: the call first asked for its size with no buffer
 * (BP_ERR_BUFFER_TOO_SMALL and the size, or BP_OK when nothing is ready) changes nothing,
 * and the size is exact (ASan catches a byte too many); a slice with an unknown id gives
 * BP_ERR_UNKNOWN_ID with err.offset = its index and changes nothing, and the ids before it
 * are then decoded and the unknown one dropped; after every call, what the chunks hold is
 * bp_decode() of the ids so far but for an unfinished character at its end, which is held
 * exactly when it can still become well-formed (an oracle built on utf8proc's decoder);
 * and the chunks plus the flush are bp_decode() of all the known ids, byte for byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"

static bp_model *models[2];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    models[0] = fuzz_tiny_model();
    models[1] = fuzz_sample_model();
    return 0;
}

/* The length of the end of s[0..n) that starts a well-formed UTF-8 character without
 * finishing it (0 to 3): whether some continuation makes it one, tried with the lowest
 * byte of each range Unicode allows after a lead (Table 3-7) and checked by utf8proc. */
static FUZZ_NO_COVERAGE size_t unfinished_tail(const unsigned char *s, size_t n)
{
    static const unsigned char second[] = {0x80, 0x90, 0xA0};
    for (size_t k = 1; k <= 3 && k <= n; k++) {
        const unsigned char *p = s + n - k;
        size_t need = p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC0 ? 2 : 1;
        if (need <= k)
            continue;
        for (size_t c = 0; c < sizeof second; c++) {
            unsigned char probe[4] = {0x80, 0x80, 0x80, 0x80};
            memcpy(probe, p, k);
            if (k == 1)
                probe[1] = second[c];
            if (fuzz_valid_utf8(probe, need))
                return k;
        }
    }
    return 0;
}

/* A growable byte string. */
typedef struct bytes {
    unsigned char *p;
    size_t n, cap;
} bytes;

static void bytes_append(bytes *b, const void *s, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = 2 * (b->n + n);
        b->p = realloc(b->p, b->cap);
        FUZZ_CHECK(b->p != NULL);
    }
    if (n)
        memcpy(b->p + b->n, s, n);
    b->n += n;
}

/* Decodes ids[0..n) (known ids) through the stream decoder, sizing the call first, and
 * appends the chunk to *got and bp_decode() of the ids to *want. */
static FUZZ_NO_COVERAGE void feed(const bp_model *m, bp_stream_decoder *dec, const uint32_t *ids,
                                  size_t n, bytes *got, bytes *want)
{
    size_t need = 0, len = 0;
    bp_status st = bp_stream_decode(dec, ids, n, NULL, 0, &need, NULL);
    if (st == BP_ERR_BUFFER_TOO_SMALL) {
        FUZZ_CHECK(need > 0);
        unsigned char *chunk = fuzz_xmalloc(need);
        FUZZ_CHECK_STATUS(bp_stream_decode(dec, ids, n, chunk, need, &len, NULL), BP_OK);
        FUZZ_CHECK(len == need);
        bytes_append(got, chunk, len);
        free(chunk);
    } else {
        FUZZ_CHECK(st == BP_OK && need == 0);
    }
    size_t cap = bp_decode_bound(m, n), whole = 0;
    unsigned char *plain = fuzz_xmalloc(cap);
    FUZZ_CHECK_STATUS(bp_decode(m, ids, n, plain, cap, &whole, NULL), BP_OK);
    bytes_append(want, plain, whole);
    free(plain);
}

FUZZ_NO_COVERAGE int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    uint8_t flags = fuzz_byte(&in);
    bp_rng slices;
    bp_rng_seed(&slices, fuzz_u64(&in), 0);
    const bp_model *m = models[flags & 1];
    uint32_t vocab = (uint32_t)bp_model_vocab_size(m);
    bool wide = flags & 2;
    size_t n_ids = in.n / (wide ? 4 : 2);
    uint32_t *ids = fuzz_xmalloc((n_ids + 1) * sizeof *ids);
    for (size_t i = 0; i < n_ids; i++) {
        uint32_t v = 0;
        for (size_t b = 0; b < (wide ? 4u : 2u); b++)
            v |= (uint32_t)in.p[(wide ? 4 : 2) * i + b] << (8 * b);
        ids[i] = wide ? v : v % (vocab + 4);
    }

    bp_stream_decoder *dec;
    FUZZ_CHECK_STATUS(bp_stream_decoder_create(m, &dec, NULL), BP_OK);
    bytes got = {0}, want = {0};
    for (size_t i = 0; i < n_ids;) {
        size_t slice = (size_t)(bp_rng_next(&slices) % 9);
        if (slice > n_ids - i)
            slice = n_ids - i;
        size_t unknown = 0;
        while (unknown < slice && ids[i + unknown] < vocab)
            unknown++;
        bool drop = unknown < slice;
        if (drop) {
            bp_error err;
            size_t len = 0;
            unsigned char chunk[64];
            FUZZ_CHECK_STATUS(bp_stream_decode(dec, ids + i, slice, chunk, sizeof chunk, &len,
                                               &err),
                              BP_ERR_UNKNOWN_ID);
            FUZZ_CHECK(err.offset == unknown && err.message[0] != '\0');
            slice = unknown; /* the ids before it; the unknown one is dropped below */
        }
        feed(m, dec, ids + i, slice, &got, &want);
        FUZZ_CHECK(got.n <= want.n && (got.n == 0 || memcmp(got.p, want.p, got.n) == 0));
        FUZZ_CHECK(want.n - got.n == unfinished_tail(want.p, want.n));
        i += slice + drop;
    }
    size_t held = 0;
    unsigned char rest[3];
    if (want.n > got.n)
        FUZZ_CHECK_STATUS(bp_stream_decode_flush(dec, rest, want.n - got.n - 1, &held, NULL),
                          BP_ERR_BUFFER_TOO_SMALL);
    FUZZ_CHECK_STATUS(bp_stream_decode_flush(dec, rest, sizeof rest, &held, NULL), BP_OK);
    bytes_append(&got, rest, held);
    FUZZ_CHECK(got.n == want.n && (got.n == 0 || memcmp(got.p, want.p, got.n) == 0));

    bp_stream_decoder_free(dec);
    free(got.p);
    free(want.p);
    free(ids);
    return 0;
}
