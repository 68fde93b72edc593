/*
 * fuzz_special.c -- libFuzzer target: special tokens from the input (bp_model_add_special)
 * on the fixed tiny model, then bp_encode with BP_ENCODE_SPECIAL on a text from the input.
 *
 * Input layout (missing bytes read as 0):
 *   byte 0     flags: 1 no normalization, 2 sample (alpha 0.5, seed from bytes 1-8)
 *   bytes 1-8  the seed (little endian)
 *   byte 9     the number of tokens (b % 6)
 *   per token  a length byte (b % 9: 0 makes an empty token), then its bytes
 *   the rest   the text
 *
 * Checks, for every input:
 *   - add-special fails exactly when a token is empty, not well-formed UTF-8 (utf8proc's
 *     decoder), named <pad>/<bos>/<eos> or equal to an earlier one, with
 *     BP_ERR_BAD_SPECIAL at the first such index (counted the oracle's own way);
 *   - otherwise the ids are those of an oracle: the text split at the tokens found
 *     leftmost, longest first, by a naive scan; each stretch encoded on its own without
 *     the flag (one rng across stretches when sampling), each token its id;
 *   - decode(ids) is the stretches normalized (or not) with the tokens between them, which
 *     is bp_encoder_normalized(), and with no normalization the text itself;
 *   - the same text without the flag gives the ids of the model without special tokens.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"

enum { F_NO_NORMALIZE = 1, F_SAMPLE = 2, MAX_TOKENS = 5 };

static bp_model *tiny;
static bp_encoder *tiny_enc;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    tiny = fuzz_tiny_model();
    FUZZ_CHECK_STATUS(bp_encoder_create(tiny, &tiny_enc, NULL), BP_OK);
    return 0;
}

/* The index of the first bad token, or n when all are good. */
static FUZZ_NO_COVERAGE size_t first_bad(const unsigned char *const *tok, const size_t *len,
                                         size_t n)
{
    static const char *const names[] = {"<pad>", "<bos>", "<eos>"};
    for (size_t i = 0; i < n; i++) {
        if (len[i] == 0 || !fuzz_valid_utf8(tok[i], len[i]))
            return i;
        for (size_t k = 0; k < 3; k++)
            if (len[i] == 5 && memcmp(tok[i], names[k], 5) == 0)
                return i;
        for (size_t j = 0; j < i; j++)
            if (len[j] == len[i] && memcmp(tok[j], tok[i], len[i]) == 0)
                return i;
    }
    return n;
}

/* The longest token at x[0..n), or -1. */
static FUZZ_NO_COVERAGE int match_at(const unsigned char *const *tok, const size_t *len,
                                     size_t n_tok, const unsigned char *x, size_t n)
{
    int best = -1;
    for (size_t i = 0; i < n_tok; i++)
        if (len[i] <= n && memcmp(x, tok[i], len[i]) == 0 && (best < 0 || len[i] > len[best]))
            best = (int)i;
    return best;
}

/* Appends the ids of text[0..len) encoded alone (no special tokens) to ids[*n..], and its
 * normalized bytes to norm[*norm_len..]. */
static FUZZ_NO_COVERAGE void encode_alone(const unsigned char *text, size_t len, unsigned flags,
                                          bp_rng *rng, uint32_t *ids, size_t *n,
                                          unsigned char *norm, size_t *norm_len)
{
    bp_encode_options o = {0.5, flags, rng};
    size_t got;
    FUZZ_CHECK_STATUS(bp_encode(tiny_enc, text, len, &o, ids + *n, NULL, bp_encode_bound(len),
                                &got, NULL),
                      BP_OK);
    *n += got;
    size_t x_len;
    const unsigned char *x = bp_encoder_normalized(tiny_enc, &x_len);
    memcpy(norm + *norm_len, x, x_len);
    *norm_len += x_len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    uint8_t mode = fuzz_byte(&in);
    uint64_t seed = fuzz_u64(&in);
    size_t n_tok = fuzz_byte(&in) % (MAX_TOKENS + 1);
    const unsigned char *tok[MAX_TOKENS];
    size_t len[MAX_TOKENS];
    for (size_t i = 0; i < n_tok; i++) {
        len[i] = fuzz_byte(&in) % 9;
        len[i] = len[i] < in.n ? len[i] : in.n;
        tok[i] = in.p;
        in.p += len[i];
        in.n -= len[i];
    }
    const unsigned char *text = in.p;
    size_t text_len = in.n;

    bp_model *m = NULL;
    bp_error err;
    bp_status st = bp_model_add_special(tiny, (const char *const *)tok, len, n_tok, &m, &err);
    size_t bad = first_bad(tok, len, n_tok);
    if (bad < n_tok) {
        FUZZ_CHECK(st == BP_ERR_BAD_SPECIAL && m == NULL && err.offset == bad);
        return 0;
    }
    FUZZ_CHECK_STATUS(st, BP_OK);
    FUZZ_CHECK(bp_model_vocab_size(m) == bp_model_vocab_size(tiny) + n_tok);

    unsigned flags = (mode & F_NO_NORMALIZE ? BP_ENCODE_NO_NORMALIZE : 0) |
                     (mode & F_SAMPLE ? BP_ENCODE_SAMPLE : 0);
    size_t cap = bp_encode_bound(text_len);
    uint32_t *ids = fuzz_xmalloc(cap * sizeof *ids), *want = fuzz_xmalloc(cap * sizeof *want);
    unsigned char *norm = fuzz_xmalloc(3 * text_len + 1);
    bp_encoder *enc;
    FUZZ_CHECK_STATUS(bp_encoder_create(m, &enc, NULL), BP_OK);
    bp_rng rng, oracle_rng;
    bp_rng_seed(&rng, seed, 0);
    oracle_rng = rng;
    bp_encode_options o = {0.5, flags | BP_ENCODE_SPECIAL, &rng};
    size_t n = 0;
    FUZZ_CHECK_STATUS(bp_encode(enc, text, text_len, &o, ids, NULL, cap, &n, NULL), BP_OK);

    /* The oracle: leftmost, longest first; each stretch alone. */
    size_t n_want = 0, norm_len = 0, stretch = 0;
    for (size_t pos = 0; pos <= text_len; pos++) {
        int t = pos < text_len ? match_at(tok, len, n_tok, text + pos, text_len - pos) : -1;
        if (t < 0 && pos < text_len)
            continue;
        encode_alone(text + stretch, pos - stretch, flags, &oracle_rng, want, &n_want, norm,
                     &norm_len);
        if (t < 0)
            break;
        want[n_want++] = (uint32_t)(bp_model_vocab_size(tiny) + (size_t)t);
        memcpy(norm + norm_len, tok[t], len[t]);
        norm_len += len[t];
        pos += len[t] - 1;
        stretch = pos + 1;
    }
    FUZZ_CHECK(n == n_want && memcmp(ids, want, n * sizeof *ids) == 0);
    size_t x_len;
    const unsigned char *x = bp_encoder_normalized(enc, &x_len);
    FUZZ_CHECK(x_len == norm_len && memcmp(x, norm, x_len) == 0);
    unsigned char *decoded = fuzz_xmalloc(bp_decode_bound(m, n) + 1);
    size_t decoded_len;
    FUZZ_CHECK_STATUS(bp_decode(m, ids, n, decoded, bp_decode_bound(m, n), &decoded_len, NULL),
                      BP_OK);
    FUZZ_CHECK(decoded_len == norm_len && memcmp(decoded, norm, norm_len) == 0);
    if (flags & BP_ENCODE_NO_NORMALIZE)
        FUZZ_CHECK(decoded_len == text_len && memcmp(decoded, text, text_len) == 0);

    /* Without the flag, the tokens are text: the ids of the model without them. */
    bp_rng_seed(&rng, seed, 0);
    oracle_rng = rng;
    o.flags = flags;
    FUZZ_CHECK_STATUS(bp_encode(enc, text, text_len, &o, ids, NULL, cap, &n, NULL), BP_OK);
    n_want = norm_len = 0;
    encode_alone(text, text_len, flags, &oracle_rng, want, &n_want, norm, &norm_len);
    FUZZ_CHECK(n == n_want && memcmp(ids, want, n * sizeof *ids) == 0);

    free(decoded);
    bp_encoder_free(enc);
    free(norm);
    free(want);
    free(ids);
    bp_model_free(m);
    return 0;
}
