/*
 * heal.c -- token healing (bp_heal_prompt): the last tokens of a prompt taken back, with
 * their bytes, so that a generator can let its next token choose where they end.
 */
#include <string.h>

#include "bp_internal.h"

bp_status bp_heal_prompt(const bp_model *model, const uint32_t *ids, size_t n_ids, size_t n_back,
                         size_t *new_n_ids, void *bytes_out, size_t cap, size_t *bytes_len,
                         bp_error *err)
{
    if (!model || !new_n_ids || !bytes_len || (!ids && n_ids) || (!bytes_out && cap))
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "bp_heal_prompt: invalid argument");
    /* Special ids are not text: <bos> stays, and a prompt that ends with <eos> is done. */
    size_t keep = n_ids;
    while (keep > 0 && n_ids - keep < n_back && ids[keep - 1] >= BP_N_SPECIAL)
        keep--;
    size_t need = 0;
    for (size_t i = keep; i < n_ids; i++) {
        const unsigned char *bytes;
        size_t len;
        bp_status st = bp_decode_piece(model, ids[i], i, i, &bytes, &len, err);
        if (st != BP_OK)
            return st;
        need += len;
    }
    *new_n_ids = keep;
    *bytes_len = need;
    if (need > cap)
        return bp_fail(err, BP_ERR_BUFFER_TOO_SMALL, UINT64_MAX,
                       "bp_heal_prompt: %zu bytes need room, the buffer holds %zu", need, cap);
    unsigned char *dst = bytes_out;
    for (size_t i = keep; i < n_ids; i++) {
        const unsigned char *bytes;
        size_t len;
        bp_decode_piece(model, ids[i], i, i, &bytes, &len, NULL); /* checked above */
        if (len > 0) /* bytes_out may be NULL when there is nothing to write */
            memcpy(dst, bytes, len);
        dst += len;
    }
    return BP_OK;
}
