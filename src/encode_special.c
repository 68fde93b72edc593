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

bp_status bp_encode_with_special(const bp_special_set *s, const bp_special_encoding *how,
                                 bp_byte_buffer *joined, const unsigned char *text, size_t len,
                                 const unsigned char **x, size_t *x_len)
{
    uint32_t token = 0;
    size_t at = bp_special_find(s, text, len, 0, &token);
    if (at == len) /* the common case: the text as it is */
        return how->stretch(how->ctx, text, len, 0, x, x_len);
    joined->len = 0;
    bp_status st = BP_OK;
    for (size_t pos = 0; pos < len;) {
        const unsigned char *stretch;
        size_t stretch_len;
        st = how->stretch(how->ctx, text + pos, at - pos, pos, &stretch, &stretch_len);
        if (st == BP_OK)
            st = append(joined, stretch, stretch_len);
        if (st != BP_OK || at == len)
            break;
        size_t token_len = s->off[token + 1] - s->off[token];
        how->token(how->ctx, s->first_id + token, at);
        if ((st = append(joined, text + at, token_len)) != BP_OK)
            break;
        pos = at + token_len;
        at = bp_special_find(s, text, len, pos, &token);
    }
    *x = joined->data;
    *x_len = joined->len;
    return st;
}
