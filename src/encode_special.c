/*
 * encode_special.c -- encoding with BP_ENCODE_SPECIAL: the model's special tokens are
 * found in the caller's bytes, before normalization, and each stretch of text between them
 * is encoded exactly as a text of its own (its own NFC, its own chunks), so that a text
 * without special tokens gives the ids it gives without the flag, and a special token can
 * neither be split by NFC nor merge with the text around it.
 */
#include <string.h>

#include "bp_internal.h"

/* Appends bytes[0..len) to `buf`. BP_OK or BP_ERR_NOMEM. */
static bp_status append(bp_byte_buffer *buf, const unsigned char *bytes, size_t len)
{
    if (len > SIZE_MAX - buf->len)
        return BP_ERR_NOMEM;
    unsigned char *grown = bp_grow(buf->data, &buf->cap, buf->len + len, 1);
    if (!grown)
        return BP_ERR_NOMEM;
    buf->data = grown;
    if (len > 0)
        memcpy(buf->data + buf->len, bytes, len);
    buf->len += len;
    return BP_OK;
}

/* Encodes text[0..len) (no special token in it) into `out` as bp_encode() would, offsets
 * from `base`; with `joined`, its normalized bytes are appended there. */
static bp_status encode_stretch(bp_encoder *enc, bp_byte_buffer *joined, const unsigned char *text,
                                size_t len, unsigned flags, double alpha, bp_rng *rng,
                                bp_sink *out)
{
    const bp_model *m;
    const unsigned char *x;
    size_t x_len, base = joined ? joined->len : 0;
    bp_status st = bp_encoder_prepare(enc, text, len, flags, &m, &x, &x_len);
    if (st == BP_OK && joined)
        st = append(joined, x, x_len);
    return st == BP_OK ? bp_encoder_segment(enc, base, alpha, rng, out) : st;
}

bp_status bp_encode_with_special(bp_encoder *enc, const bp_special_set *s,
                                 bp_byte_buffer *joined, const unsigned char *text, size_t len,
                                 unsigned flags, double alpha, bp_rng *rng, bp_sink *out)
{
    uint32_t token = 0;
    size_t at = bp_special_find(s, text, len, 0, &token);
    if (at == len) /* the common case: the text as it is, at no cost beyond the scan */
        return encode_stretch(enc, NULL, text, len, flags, alpha, rng, out);
    joined->len = 0;
    bp_status st = BP_OK;
    for (size_t pos = 0; pos < len;) {
        st = encode_stretch(enc, joined, text + pos, at - pos, flags, alpha, rng, out);
        if (st != BP_OK || at == len)
            break;
        size_t token_len = s->off[token + 1] - s->off[token];
        bp_sink_put(out, s->first_id + token, joined->len);
        st = append(joined, text + at, token_len);
        pos = at + token_len;
        at = bp_special_find(s, text, len, pos, &token);
    }
    /* The encoder's text is now what was segmented, for bp_encoder_normalized(). */
    const bp_model *m;
    const unsigned char *x;
    size_t x_len;
    if (st == BP_OK)
        st = bp_encoder_prepare(enc, joined->data, joined->len, BP_ENCODE_NO_NORMALIZE, &m, &x,
                                &x_len);
    return st;
}
