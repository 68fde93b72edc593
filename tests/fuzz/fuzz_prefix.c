/*
 * fuzz_prefix.c -- libFuzzer target: what `bp vocab --prefix BYTES` does with its
 * argument: bp_piece_unescape() of arbitrary bytes, then bp_model_prefix_ids().
 *
 * Input layout (missing bytes read as 0):
 *   byte 0     bit 0: the model (0 the tiny model, 1 data/sample.model)
 *   bytes 1-3  a piece (id from bytes 1-2, modulo the vocabulary) and a length (byte 3):
 *              that piece's first bytes are one more prefix, one that pieces do start with
 *   the rest   the argument, escaped (or not: any bytes)
 *
 * Checks: unescaping into exactly `len` bytes of room succeeds or gives BP_ERR_BAD_ESCAPE
 * with err.offset at a backslash; what it reads back escapes and unescapes to itself, and
 * so do the raw argument bytes; for the unescaped bytes, the raw bytes and the piece's
 * prefix, bp_model_prefix_ids() lists exactly the pieces a scan of the vocabulary finds,
 * in id order, into a buffer of exactly that size, and one id less is
 * BP_ERR_BUFFER_TOO_SMALL with the number.
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

/* The ids of every piece that starts with prefix[0..len), in id order, by a scan. */
static FUZZ_NO_COVERAGE size_t scan_prefix(const bp_model *m, const unsigned char *prefix,
                                           size_t len, uint32_t *ids)
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

/* bp_model_prefix_ids(prefix) against the scan, and its size contract. */
static FUZZ_NO_COVERAGE void check_prefix(const bp_model *m, const unsigned char *prefix,
                                          size_t len)
{
    size_t vocab = bp_model_vocab_size(m), n = 0;
    uint32_t *want = fuzz_xmalloc(vocab * sizeof *want);
    size_t n_want = scan_prefix(m, prefix, len, want);
    uint32_t *got = fuzz_xmalloc((n_want ? n_want : 1) * sizeof *got);
    if (n_want > 0) {
        FUZZ_CHECK_STATUS(bp_model_prefix_ids(m, prefix, len, got, n_want - 1, &n, NULL),
                          BP_ERR_BUFFER_TOO_SMALL);
        FUZZ_CHECK(n == n_want);
    }
    FUZZ_CHECK_STATUS(bp_model_prefix_ids(m, prefix, len, n_want ? got : NULL, n_want, &n, NULL),
                      BP_OK);
    FUZZ_CHECK(n == n_want && (n == 0 || memcmp(got, want, n * sizeof *got) == 0));
    free(got);
    free(want);
}

/* Escaping bytes[0..len) and unescaping the result gives the bytes back. */
static FUZZ_NO_COVERAGE void check_round_trip(const unsigned char *bytes, size_t len)
{
    size_t cap = bp_piece_escape_bound(len), elen = 0, back_len = 0;
    char *escaped = fuzz_xmalloc(cap);
    FUZZ_CHECK_STATUS(bp_piece_escape(bytes, len, escaped, cap, &elen, NULL), BP_OK);
    FUZZ_CHECK(elen < cap && escaped[elen] == '\0');
    unsigned char *back = fuzz_xmalloc(elen ? elen : 1);
    FUZZ_CHECK_STATUS(bp_piece_unescape(escaped, elen, back, &back_len, NULL), BP_OK);
    FUZZ_CHECK(back_len == len && (len == 0 || memcmp(back, bytes, len) == 0));
    free(back);
    free(escaped);
}

FUZZ_NO_COVERAGE int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    const bp_model *m = models[fuzz_byte(&in) & 1];
    uint32_t vocab = (uint32_t)bp_model_vocab_size(m);
    uint32_t piece_id = fuzz_byte(&in);
    piece_id |= (uint32_t)fuzz_byte(&in) << 8;
    piece_id = BP_FIRST_PIECE_ID + piece_id % (vocab - BP_FIRST_PIECE_ID);
    size_t piece_len;
    const unsigned char *piece = bp_model_piece(m, piece_id, &piece_len);
    check_prefix(m, piece, fuzz_byte(&in) % (piece_len + 1));

    const char *arg = (const char *)in.p;
    size_t len = in.n, out_len = 0;
    unsigned char *bytes = fuzz_xmalloc(len ? len : 1);
    bp_error err;
    bp_status st = bp_piece_unescape(arg, len, bytes, &out_len, &err);
    if (st == BP_OK) {
        FUZZ_CHECK(out_len <= len);
        check_round_trip(bytes, out_len);
        check_prefix(m, bytes, out_len);
    } else {
        FUZZ_CHECK(st == BP_ERR_BAD_ESCAPE && err.offset < len && arg[err.offset] == '\\');
    }
    check_round_trip(in.p, len);
    check_prefix(m, in.p, len);
    free(bytes);
    return 0;
}
