/*
 * decode.c -- ids back to bytes: the concatenation of their pieces (ids 0..2 give none).
 */
#include <string.h>

#include "bp_internal.h"

size_t bp_decode_bound(const bp_model *model, size_t n_ids)
{
    size_t longest = model ? model->ac.max_depth : 0;
    if (model && model->special && model->special->max_len > longest)
        longest = model->special->max_len;
    return longest && n_ids > SIZE_MAX / longest ? SIZE_MAX : n_ids * longest;
}

bp_status bp_decode_piece(const bp_model *m, uint32_t id, size_t index, uint64_t position,
                          const unsigned char **bytes, size_t *len, bp_error *err)
{
    *bytes = m->bytes; /* no bytes, but a valid pointer for memcpy */
    *len = 0;
    if (id < BP_N_SPECIAL)
        return BP_OK;
    if (id - BP_N_SPECIAL >= m->n_pieces) {
        if (bp_model_is_special(m, id)) {
            *bytes = bp_model_piece(m, id, len);
            return BP_OK;
        }
        return bp_fail(err, BP_ERR_UNKNOWN_ID, index,
                       "unknown id %lu at position %llu (the vocabulary has ids 0 .. %lu)",
                       (unsigned long)id, (unsigned long long)position,
                       (unsigned long)(bp_model_vocab_size(m) - 1));
    }
    *bytes = m->bytes + m->off[id - BP_N_SPECIAL];
    *len = m->off[id - BP_N_SPECIAL + 1] - m->off[id - BP_N_SPECIAL];
    return BP_OK;
}

bp_status bp_decode_range(const bp_model *model, const uint32_t *ids, size_t lo, size_t hi,
                          void *out, size_t cap, size_t *out_len, const char *who, bp_error *err)
{
    size_t need = 0;
    for (size_t i = lo; i < hi; i++) {
        const unsigned char *bytes;
        size_t len;
        bp_status st = bp_decode_piece(model, ids[i], i, i, &bytes, &len, err);
        if (st != BP_OK)
            return st;
        need += len;
    }
    *out_len = need;
    if (need > cap)
        return bp_fail(err, BP_ERR_BUFFER_TOO_SMALL, UINT64_MAX,
                       "%s: %zu bytes need room, the buffer holds %zu", who, need, cap);
    unsigned char *dst = out;
    for (size_t i = lo; i < hi; i++) {
        const unsigned char *bytes;
        size_t len;
        bp_decode_piece(model, ids[i], i, i, &bytes, &len, NULL); /* checked above */
        if (len > 0) { /* out may be NULL when there is nothing to write */
            memcpy(dst, bytes, len);
            dst += len;
        }
    }
    return BP_OK;
}

bp_status bp_decode(const bp_model *model, const uint32_t *ids, size_t n_ids, void *out,
                    size_t cap, size_t *out_len, bp_error *err)
{
    if (!model || !out_len || (!ids && n_ids) || (!out && cap))
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "bp_decode: invalid argument");
    return bp_decode_range(model, ids, 0, n_ids, out, cap, out_len, "bp_decode", err);
}
