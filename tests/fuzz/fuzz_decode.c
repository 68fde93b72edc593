/*
 * fuzz_decode.c -- libFuzzer target: bp_decode on arbitrary id sequences.
 *
 * Input layout (missing bytes read as 0):
 *   byte 0    bit 0-1 the model: 0 the tiny model, 1 data/sample.model, 2 a model loaded
 *             from JSON whose ids are in reverse order (ids need not follow the pieces'
 *             order); bit 2: ids are 4 bytes (any uint32_t) instead of 2
 *   the rest  the ids, little endian
 *
 * Checks: valid ids give exactly the concatenation of their pieces (ids 0..2 nothing),
 * written into a buffer of exactly the size needed (ASan catches a byte too many); one
 * byte less gives BP_ERR_BUFFER_TOO_SMALL with the size; a NULL buffer with cap 0 asks
 * for the size; the first id outside the vocabulary gives BP_ERR_UNKNOWN_ID with
 * err.offset = its index and a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"

static bp_model *models[3];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t base64(const unsigned char *in, size_t n, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = 0;
    return o;
}

/* The tiny model written as reference JSON with the ids reversed, and loaded back. */
static bp_model *reversed_model(const bp_model *tiny)
{
    size_t v = bp_model_vocab_size(tiny), cap = 64 * v + 16, n = 0;
    char *json = fuzz_xmalloc(cap);
    n += (size_t)snprintf(json + n, cap - n, "{");
    for (uint32_t id = BP_N_SPECIAL; id < v; id++) {
        size_t len;
        const unsigned char *p = bp_model_piece(tiny, id, &len);
        char key[64];
        base64(p, len, key);
        uint32_t new_id = (uint32_t)(v - 1 - (id - BP_N_SPECIAL));
        n += (size_t)snprintf(json + n, cap - n, "%s\"%s\": [%u, \"\", %llu]",
                              id > BP_N_SPECIAL ? ", " : "", key, new_id,
                              (unsigned long long)bp_model_piece_count(tiny, id));
    }
    n += (size_t)snprintf(json + n, cap - n, "}");
    FUZZ_CHECK(n < cap);
    bp_model *m = NULL;
    bp_error err;
    if (bp_model_load_memory(json, n, "reversed", &m, &err) != BP_OK) {
        fprintf(stderr, "fuzz harness: %s\n", err.message);
        abort();
    }
    free(json);
    return m;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    models[0] = fuzz_tiny_model();
    models[1] = fuzz_sample_model();
    models[2] = reversed_model(models[0]);
    return 0;
}

FUZZ_NO_COVERAGE int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    uint8_t mode = fuzz_byte(&in);
    const bp_model *m = models[(mode & 3) % 3];
    size_t width = mode & 4 ? 4 : 2;
    size_t n = in.n / width;
    uint32_t *ids = fuzz_xmalloc(n * sizeof *ids);
    for (size_t i = 0; i < n; i++) {
        uint32_t v = 0;
        for (size_t b = 0; b < width; b++)
            v |= (uint32_t)fuzz_byte(&in) << (8 * b);
        ids[i] = v;
    }

    /* What the answer must be, from the piece accessors. */
    size_t vocab = bp_model_vocab_size(m), need = 0, bad = SIZE_MAX;
    for (size_t i = 0; i < n && bad == SIZE_MAX; i++) {
        size_t len = 0;
        if (ids[i] >= vocab)
            bad = i;
        else if (ids[i] >= BP_N_SPECIAL)
            FUZZ_CHECK(bp_model_piece(m, ids[i], &len) != NULL);
        need += len;
    }

    bp_error err;
    memset(&err, 0, sizeof err);
    size_t out_len = 12345;
    if (bad != SIZE_MAX) {
        unsigned char small[16];
        FUZZ_CHECK_STATUS(bp_decode(m, ids, n, small, sizeof small, &out_len, &err),
                          BP_ERR_UNKNOWN_ID);
        FUZZ_CHECK(err.code == BP_ERR_UNKNOWN_ID && err.offset == bad);
        FUZZ_CHECK(err.message[0] != 0 && memchr(err.message, 0, sizeof err.message));
        FUZZ_CHECK_STATUS(bp_decode(m, ids, n, NULL, 0, &out_len, NULL), BP_ERR_UNKNOWN_ID);
        free(ids);
        return 0;
    }

    /* Size query. */
    FUZZ_CHECK_STATUS(bp_decode(m, ids, n, NULL, 0, &out_len, &err),
                      need ? BP_ERR_BUFFER_TOO_SMALL : BP_OK);
    FUZZ_CHECK(out_len == need);
    /* Exactly the room needed, and one byte less. */
    unsigned char *out = fuzz_xmalloc(need);
    if (need > 0) {
        FUZZ_CHECK_STATUS(bp_decode(m, ids, n, out, need - 1, &out_len, &err),
                          BP_ERR_BUFFER_TOO_SMALL);
        FUZZ_CHECK(out_len == need);
    }
    FUZZ_CHECK_STATUS(bp_decode(m, ids, n, out, need, &out_len, &err), BP_OK);
    FUZZ_CHECK(out_len == need);
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const unsigned char *p = bp_model_piece(m, ids[i], &len);
        if (ids[i] < BP_N_SPECIAL) {
            FUZZ_CHECK(p == NULL && len == 0);
            continue;
        }
        FUZZ_CHECK(memcmp(out + pos, p, len) == 0);
        pos += len;
    }
    FUZZ_CHECK(pos == need);
    free(out);
    free(ids);
    return 0;
}
