/* offset_check.h -- the contract of bp_encode()'s offsets, as one check that the unit test
 * (test_offsets.c) and the fuzz target (fuzz/fuzz_encode.c) both run. Needs the internal
 * header (bp_nfc, bp_utf8_decode). */
#ifndef BP_OFFSET_CHECK_H
#define BP_OFFSET_CHECK_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bp_internal.h"

/* The tokens of ids[0..n) from t on that share offsets[t] = a: whether NFC(text[a..b)), b
 * the next distinct offset (or len), is spelled[*at ..] and each of the tokens starts
 * inside it (*token_at: where token t starts in spelled). Moves *at, *token_at and *next
 * past them. */
static bool offset_span_holds_tokens(const bp_model *m, const unsigned char *text, size_t len,
                                     const uint32_t *ids, const size_t *offsets, size_t n,
                                     const unsigned char *spelled, size_t spelled_len,
                                     size_t *next, size_t *at, size_t *token_at,
                                     bp_nfc_buffer *nfc)
{
    size_t t = *next, a = offsets[t], j = t;
    while (j < n && offsets[j] == a)
        j++;
    *next = j;
    size_t b = j < n ? offsets[j] : len;
    if (bp_nfc(nfc, text + a, b - a) != BP_OK || nfc->len > spelled_len - *at ||
        memcmp(spelled + *at, nfc->out, nfc->len) != 0)
        return false;
    for (size_t k = t; k < j; k++) {
        if (*token_at < *at || *token_at >= *at + nfc->len)
            return false;
        size_t plen;
        bp_model_piece(m, ids[k], &plen);
        *token_at += plen;
    }
    *at += nfc->len;
    return true;
}

/* Checks the offsets of the tokens ids[0..n) (no <bos> or <eos>) that bp_encode() gave for
 * text[0..len), with NFC (`normalized`) or without. @return NULL, or what is wrong.
 * Without NFC, each token starts where the previous one ends. With it, the first starts at
 * 0, the offsets never decrease, each is the start of a character of the input (a
 * well-formed sequence, or any other byte), the NFC of the spans from one offset to the
 * next larger one (the last to len), laid end to end, is the text the tokens spell, and
 * each token starts inside the span of its own offset. */
static const char *offset_violation(const bp_model *m, const unsigned char *text, size_t len,
                                    bool normalized, const uint32_t *ids, const size_t *offsets,
                                    size_t n)
{
    if (!normalized) {
        size_t pos = 0;
        for (size_t t = 0; t < n; t++) {
            if (offsets[t] != pos)
                return "without NFC, a token does not start where the previous one ends";
            size_t plen;
            bp_model_piece(m, ids[t], &plen);
            pos += plen;
        }
        return pos == len ? NULL : "without NFC, the pieces do not add up to the text";
    }
    if (n == 0)
        return len == 0 ? NULL : "no tokens for a text that is not empty";
    if (offsets[0] != 0)
        return "the first token does not start at 0";
    size_t boundary = 0; /* the first character start not before the last offset seen */
    for (size_t t = 0; t < n; t++) {
        if (t > 0 && offsets[t] < offsets[t - 1])
            return "an offset decreases";
        while (boundary < offsets[t] && boundary < len) {
            int32_t cp;
            size_t k = bp_utf8_decode(text + boundary, len - boundary, &cp);
            boundary += k ? k : 1;
        }
        if (boundary != offsets[t] || offsets[t] >= len)
            return "an offset is not the start of an input character";
    }
    size_t spelled_len = 0;
    for (size_t t = 0; t < n; t++) {
        size_t plen;
        bp_model_piece(m, ids[t], &plen);
        spelled_len += plen;
    }
    unsigned char *spelled = malloc(spelled_len ? spelled_len : 1);
    size_t got = 0;
    if (!spelled || bp_decode(m, ids, n, spelled, spelled_len, &got, NULL) != BP_OK) {
        free(spelled);
        return "the tokens do not decode";
    }
    bp_nfc_buffer nfc = {0};
    const char *wrong = NULL;
    size_t at = 0, token_at = 0;
    for (size_t t = 0; t < n && !wrong;)
        if (!offset_span_holds_tokens(m, text, len, ids, offsets, n, spelled, spelled_len, &t,
                                      &at, &token_at, &nfc))
            wrong = "a token does not start inside the NFC of the input from its offset to the "
                    "next";
    if (!wrong && at != spelled_len)
        wrong = "the NFC of the spans between offsets is not the text the tokens spell";
    bp_nfc_buffer_free(&nfc);
    free(spelled);
    return wrong;
}

#endif
