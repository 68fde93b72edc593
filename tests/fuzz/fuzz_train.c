/*
 * fuzz_train.c -- libFuzzer target: the trainer on tiny fuzzed corpora.
 *
 * Input layout (missing bytes read as 0):
 *   byte 0    order 1 + b % 7
 *   byte 1    flags: 1 isolate digits, 2 no ensure-unicode, 4 skip bad lines, 8 two threads,
 *             16 a second, smaller vocabulary size, 32 save the model and load it back
 *   byte 2    min count 1 + b % 4
 *   byte 3    max piece length 1 + b % 16
 *   byte 4    vocabulary size 259 + b (the second one, if any, is 259 + b / 2)
 *   byte 5    feed size: each text is fed in pieces of 1 + b % 16 bytes
 *   the rest  the texts, separated by 0x1F bytes
 *
 * Checks: feeding fails only with BP_ERR_BAD_UTF8, exactly for a text that is not valid
 * UTF-8 (never when skipping bad lines); training gives BP_ERR_EMPTY_CORPUS exactly when no
 * byte of text was kept, else one model per size, no larger than asked, holding every
 * single byte at id b + 3 (the reference order), unique pieces, no multi-byte piece longer
 * than the maximum or starting with a UTF-8 continuation byte (ensure-unicode) or holding
 * an ASCII digit (isolate digits); every text encodes and decodes back (raw bytes and NFC);
 * a saved model loads back identical.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_util.h"

enum {
    F_ISOLATE_DIGITS = 1,
    F_NO_ENSURE_UNICODE = 2,
    F_SKIP_BAD_LINES = 4,
    F_TWO_THREADS = 8,
    F_TWO_SIZES = 16,
    F_SAVE = 32,
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *temp_dir; /* where the trainer spools its corpus: memory when possible */
static char save_path[256];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    temp_dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : NULL;
    snprintf(save_path, sizeof save_path, "%s/bp_fuzz_train_%ld.model",
             temp_dir ? temp_dir : "/tmp", (long)getpid());
    return 0;
}

static void check_model(const bp_model *m, size_t max_vocab, const bp_train_options *o)
{
    size_t vocab = bp_model_vocab_size(m);
    FUZZ_CHECK(vocab >= 256 + BP_N_SPECIAL && vocab <= max_vocab);
    for (unsigned b = 0; b < 256; b++) {
        unsigned char c = (unsigned char)b;
        FUZZ_CHECK(bp_model_piece_id(m, &c, 1) == (b + BP_N_SPECIAL));
    }
    size_t prev_len = 0;
    for (uint32_t id = BP_N_SPECIAL; id < vocab; id++) {
        size_t len;
        const unsigned char *p = bp_model_piece(m, id, &len);
        FUZZ_CHECK(p != NULL && len > 0 && len >= prev_len); /* reference order: by length */
        prev_len = len;
        FUZZ_CHECK(bp_model_piece_id(m, p, len) == id);
        FUZZ_CHECK(bp_model_piece_count(m, id) > 0);
        if (len == 1)
            continue;
        FUZZ_CHECK(len <= o->max_piece_length);
        if (!o->no_ensure_unicode)
            FUZZ_CHECK((p[0] & 0xC0) != 0x80);
        if (o->isolate_digits)
            for (size_t i = 0; i < len; i++)
                FUZZ_CHECK(p[i] < '0' || p[i] > '9');
    }
}

static void check_roundtrip(const bp_model *m, const unsigned char *text, size_t len)
{
    bp_encoder *enc = NULL;
    FUZZ_CHECK_STATUS(bp_encoder_create(m, &enc, NULL), BP_OK);
    size_t cap = bp_encode_bound(len), n = 0, out_len = 0;
    uint32_t *ids = fuzz_xmalloc(cap * sizeof *ids);
    unsigned char *out = fuzz_xmalloc(3 * len + 1);
    bp_error err;
    bp_encode_options raw = {-1.0, BP_ENCODE_NO_NORMALIZE, NULL};
    FUZZ_CHECK_STATUS(bp_encode(enc, text, len, &raw, ids, NULL, cap, &n, NULL), BP_OK);
    FUZZ_CHECK_STATUS(bp_decode(m, ids, n, out, 3 * len + 1, &out_len, &err), BP_OK);
    FUZZ_CHECK(out_len == len && memcmp(out, text, len) == 0);
    bp_encode_options nfc = {-1.0, 0, NULL};
    FUZZ_CHECK_STATUS(bp_encode(enc, text, len, &nfc, ids, NULL, cap, &n, NULL), BP_OK);
    FUZZ_CHECK_STATUS(bp_decode(m, ids, n, out, 3 * len + 1, &out_len, &err), BP_OK);
    size_t want_len;
    unsigned char *want = fuzz_nfc_oracle(text, len, &want_len);
    FUZZ_CHECK(out_len == want_len && memcmp(out, want, want_len) == 0);
    free(want);
    free(out);
    free(ids);
    bp_encoder_free(enc);
}

static void check_save_load(const bp_model *m)
{
    bp_error err;
    FUZZ_CHECK_STATUS(bp_model_save(m, save_path, &err), BP_OK);
    bp_model *back = NULL;
    FUZZ_CHECK_STATUS(bp_model_load(save_path, &back, &err), BP_OK);
    unlink(save_path);
    size_t vocab = bp_model_vocab_size(m);
    FUZZ_CHECK(bp_model_vocab_size(back) == vocab);
    for (uint32_t id = BP_N_SPECIAL; id < vocab; id++) {
        size_t la, lb;
        const unsigned char *a = bp_model_piece(m, id, &la), *b = bp_model_piece(back, id, &lb);
        FUZZ_CHECK(la == lb && memcmp(a, b, la) == 0);
        FUZZ_CHECK(bp_model_piece_count(m, id) == bp_model_piece_count(back, id));
    }
    bp_model_free(back);
}

FUZZ_NO_COVERAGE int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    bp_train_options o;
    bp_train_options_init(&o);
    o.order = 1 + fuzz_byte(&in) % 7;
    uint8_t flags = fuzz_byte(&in);
    o.isolate_digits = (flags & F_ISOLATE_DIGITS) != 0;
    o.no_ensure_unicode = (flags & F_NO_ENSURE_UNICODE) != 0;
    o.skip_bad_lines = (flags & F_SKIP_BAD_LINES) != 0;
    o.threads = flags & F_TWO_THREADS ? 2 : 1;
    o.min_count = 1 + fuzz_byte(&in) % 4;
    o.max_piece_length = 1 + fuzz_byte(&in) % 16;
    o.temp_dir = temp_dir;
    uint8_t v = fuzz_byte(&in);
    size_t sizes[2] = {259 + (size_t)v, 259 + (size_t)v / 2};
    size_t n_sizes = flags & F_TWO_SIZES ? 2 : 1;
    size_t feed = 1 + fuzz_byte(&in) % 16;

    bp_trainer *t = NULL;
    bp_error err;
    FUZZ_CHECK_STATUS(bp_trainer_create(&o, &t, &err), BP_OK);
    const unsigned char *texts = in.p;
    size_t texts_len = in.n;
    bool any_text = false; /* a byte of valid text was fed */
    for (size_t pos = 0; pos <= texts_len;) {
        const unsigned char *sep = memchr(texts + pos, 0x1F, texts_len - pos);
        size_t end = sep ? (size_t)(sep - texts) : texts_len;
        const unsigned char *text = texts + pos;
        size_t len = end - pos;
        bool valid = fuzz_valid_utf8(text, len);
        bp_status st = BP_OK;
        for (size_t k = 0; k < len && st == BP_OK; k += feed)
            st = bp_trainer_feed(t, text + k, len - k < feed ? len - k : feed, &err);
        if (st == BP_OK)
            st = bp_trainer_end_text(t, &err);
        if (st != BP_OK) {
            /* Only invalid UTF-8 is refused, and only when not skipping it. */
            FUZZ_CHECK(st == BP_ERR_BAD_UTF8 && !valid && !o.skip_bad_lines);
            bp_trainer_free(t);
            return 0;
        }
        FUZZ_CHECK(valid || o.skip_bad_lines);
        /* With skipping, a text may lose lines; count only texts kept whole. */
        if (valid && len > 0)
            any_text = true;
        pos = end + 1;
    }
    bp_model *models[2] = {NULL, NULL};
    bp_status st = bp_trainer_train(t, sizes, n_sizes, models, &err);
    bp_trainer_free(t);
    if (st == BP_ERR_EMPTY_CORPUS) {
        FUZZ_CHECK(!any_text);
        FUZZ_CHECK(models[0] == NULL && models[1] == NULL);
        return 0;
    }
    FUZZ_CHECK_STATUS(st, BP_OK);
    for (size_t i = 0; i < n_sizes; i++) {
        FUZZ_CHECK(models[i] != NULL);
        check_model(models[i], sizes[i], &o);
    }
    for (size_t pos = 0; pos <= texts_len;) {
        const unsigned char *sep = memchr(texts + pos, 0x1F, texts_len - pos);
        size_t end = sep ? (size_t)(sep - texts) : texts_len;
        check_roundtrip(models[n_sizes - 1], texts + pos, end - pos);
        pos = end + 1;
    }
    if (flags & F_SAVE)
        check_save_load(models[0]);
    for (size_t i = 0; i < n_sizes; i++)
        bp_model_free(models[i]);
    return 0;
}
