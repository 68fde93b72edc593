/*
 * fuzz_model_load.c -- libFuzzer target: bp_model_load_memory on arbitrary bytes.
 *
 * The loader recognises the format by content (reference JSON, plain or zstd-compressed,
 * and the native format once it exists), so one target covers them all; the seed corpus
 * holds a file of each kind. Whatever the bytes, the call must return cleanly: either
 * BP_OK with a model that is safe to use, or an error with *out == NULL, a known code and
 * a message. ASan/LSan catch reads out of bounds and leaks; libFuzzer's -timeout catches
 * hangs and -rss_limit_mb memory blow-ups.
 *
 * For an accepted model it checks what a model promises: at least the 256 single bytes
 * (each found by bp_model_piece_id), every piece found again under its own id, counts > 0
 * and finite scores, every special token (native version 2) UTF-8 and found again by
 * bp_model_special_id, and that the input itself, encoded with normalization off, decodes
 * back byte for byte. Native inputs with a zero checksum field get a valid checksum from
 * the harness (see fix_native()) and, when accepted, only the guarantees a crafted file
 * keeps: no call reads out of bounds or hangs, ids stay in the vocabulary.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_model(const bp_model *m, const uint8_t *data, size_t size)
{
    size_t vocab = bp_model_vocab_size(m);
    FUZZ_CHECK(vocab >= 256 + BP_N_SPECIAL);
    for (unsigned b = 0; b < 256; b++) {
        unsigned char c = (unsigned char)b;
        uint32_t id = bp_model_piece_id(m, &c, 1);
        FUZZ_CHECK(id >= BP_N_SPECIAL && (size_t)id < vocab);
    }
    size_t n_special = bp_model_special_count(m);
    for (uint32_t id = (uint32_t)(vocab - n_special); id < vocab; id++) {
        /* A special token (native version 2): its text, UTF-8, found by its text. */
        size_t len;
        const unsigned char *p = bp_model_piece(m, id, &len);
        FUZZ_CHECK(p != NULL && len > 0 && bp_model_is_special(m, id));
        FUZZ_CHECK(fuzz_valid_utf8(p, len) && bp_model_special_id(m, p, len) == id);
        FUZZ_CHECK(bp_model_piece_count(m, id) == 0);
    }
    vocab -= n_special;
    for (uint32_t id = BP_N_SPECIAL; id < vocab; id++) {
        size_t len;
        const unsigned char *p = bp_model_piece(m, id, &len);
        FUZZ_CHECK(p != NULL && len > 0 && !bp_model_is_special(m, id));
        FUZZ_CHECK(bp_model_piece_id(m, p, len) == id);
        FUZZ_CHECK(bp_model_piece_count(m, id) > 0);
        double s = bp_model_piece_score(m, id);
        FUZZ_CHECK(isfinite(s) && s <= 0.0);
    }
    FUZZ_CHECK(bp_model_piece(m, 0, NULL) == NULL &&
               bp_model_piece(m, (uint32_t)(vocab + n_special), NULL) == NULL);

    bp_encoder *enc = NULL;
    FUZZ_CHECK_STATUS(bp_encoder_create(m, &enc, NULL), BP_OK);
    size_t cap = bp_encode_bound(size), n = 0, out_len = 0;
    uint32_t *ids = fuzz_xmalloc(cap * sizeof *ids);
    bp_encode_options o = {-1.0, BP_ENCODE_NO_NORMALIZE, NULL};
    FUZZ_CHECK_STATUS(bp_encode(enc, data, size, &o, ids, NULL, cap, &n, NULL), BP_OK);
    unsigned char *out = fuzz_xmalloc(size);
    bp_error err;
    FUZZ_CHECK_STATUS(bp_decode(m, ids, n, out, size, &out_len, &err), BP_OK);
    FUZZ_CHECK(out_len == size && memcmp(out, data, size) == 0);
    free(out);
    free(ids);
    bp_encoder_free(enc);
}

/* Only what a model must guarantee even when it was crafted to pass the native format's
 * checksum (model_native.c: "can give wrong tokens but can never make encoding read out of
 * bounds or loop forever"): every call returns, ids stay in the vocabulary. */
static void check_crafted_model(const bp_model *m, const uint8_t *data, size_t size)
{
    size_t vocab = bp_model_vocab_size(m);
    for (uint32_t id = 0; id < vocab + 2; id++) {
        size_t len;
        const unsigned char *p = bp_model_piece(m, id, &len);
        if (p)
            (void)bp_model_piece_id(m, p, len);
    }
    bp_encoder *enc = NULL;
    FUZZ_CHECK_STATUS(bp_encoder_create(m, &enc, NULL), BP_OK);
    size_t cap = bp_encode_bound(size), n = 0, out_len = 0;
    uint32_t *ids = fuzz_xmalloc(cap * sizeof *ids);
    bp_rng rng;
    bp_rng_seed(&rng, size, 0);
    for (int mode = 0; mode < 3; mode++) {
        bp_encode_options o = {0.5, mode == 0 ? BP_ENCODE_NO_NORMALIZE : mode == 2 ? BP_ENCODE_SAMPLE : 0,
                               &rng};
        FUZZ_CHECK_STATUS(bp_encode(enc, data, size, &o, ids, NULL, cap, &n, NULL), BP_OK);
        FUZZ_CHECK(n <= cap);
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK(ids[i] < vocab);
        bp_error err;
        bp_status st = bp_decode(m, ids, n, NULL, 0, &out_len, &err);
        FUZZ_CHECK(st == BP_OK || st == BP_ERR_BUFFER_TOO_SMALL);
    }
    free(ids);
    bp_encoder_free(enc);
}

/* Native models carry a checksum that mutations almost never match, which would leave the
 * validation behind it unfuzzed. An input in the native format whose checksum field
 * (bytes 24..31) is zero therefore gets its file size (bytes 16..23) and checksum filled in
 * here before loading (docs/native-format.md); a non-zero checksum is left alone.
 * Returns a malloc'd copy, or NULL when the input is not such a one. */
static uint8_t *fix_native(const uint8_t *data, size_t size)
{
    static const unsigned char magic[8] = {0x89, 'B', 'P', 'M', 0x0D, 0x0A, 0x1A, 0x0A};
    if (size < 64 || memcmp(data, magic, 8) != 0)
        return NULL;
    for (int i = 24; i < 32; i++)
        if (data[i] != 0)
            return NULL;
    uint8_t *copy = fuzz_xmalloc(size);
    memcpy(copy, data, size);
    uint64_t sum = bp_checksum64(copy + 32, size - 32, 0);
    for (int i = 0; i < 8; i++) {
        copy[16 + i] = (uint8_t)((uint64_t)size >> (8 * i));
        copy[24 + i] = (uint8_t)(sum >> (8 * i));
    }
    return copy;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bp_model *m = (bp_model *)1; /* must be overwritten */
    bp_error err;
    memset(&err, 0xAA, sizeof err);
    uint8_t *fixed = fix_native(data, size);
    bp_status st = bp_model_load_memory(fixed ? fixed : data, size, "fuzz", &m, &err);
    if (st != BP_OK) {
        FUZZ_CHECK(m == NULL);
        FUZZ_CHECK(strcmp(bp_strerror(st), "unknown error code") != 0);
        FUZZ_CHECK(st != BP_ERR_INVALID_ARG && st != BP_ERR_UNKNOWN_ID &&
                   st != BP_ERR_BUFFER_TOO_SMALL);
        /* No allocation fails here (ASan aborts on a huge one): out of memory would be
         * another error mislabelled, as a surrogate pair that the JSON scanner accepted
         * and cJSON refused once was. */
        FUZZ_CHECK(st != BP_ERR_NOMEM);
        FUZZ_CHECK(err.code == st);
        FUZZ_CHECK(memchr(err.message, 0, sizeof err.message) != NULL && err.message[0] != 0);
        FUZZ_CHECK(strncmp(err.message, "fuzz", 4) == 0); /* names the source */
        free(fixed);
        return 0;
    }
    FUZZ_CHECK(m != NULL && m != (bp_model *)1);
    if (fixed)
        check_crafted_model(m, data, size);
    else
        check_model(m, data, size);
    bp_model_free(m);
    free(fixed);
    return 0;
}
