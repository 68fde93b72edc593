/*
 * decode.c -- ids back to bytes: the concatenation of their pieces (ids 0..2 give none).
 */
#include <string.h>

#include "bp_internal.h"

size_t bp_decode_bound(const bp_model *model, size_t n_ids)
{
    size_t longest = model ? model->ac.max_depth : 0;
    return longest && n_ids > SIZE_MAX / longest ? SIZE_MAX : n_ids * longest;
}

bp_status bp_decode(const bp_model *model, const uint32_t *ids, size_t n_ids, void *out,
                    size_t cap, size_t *out_len, bp_error *err)
{
    if (!model || !out_len || (!ids && n_ids) || (!out && cap))
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "bp_decode: invalid argument");
    size_t need = 0;
    for (size_t i = 0; i < n_ids; i++) {
        uint32_t id = ids[i];
        if (id < BP_N_SPECIAL)
            continue;
        if (id - BP_N_SPECIAL >= model->n_pieces)
            return bp_fail(err, BP_ERR_UNKNOWN_ID, i,
                           "unknown id %lu at position %zu (the vocabulary has ids 0 .. %lu)",
                           (unsigned long)id, i,
                           (unsigned long)(model->n_pieces + BP_N_SPECIAL - 1));
        need += model->off[id - BP_N_SPECIAL + 1] - model->off[id - BP_N_SPECIAL];
    }
    *out_len = need;
    if (need > cap)
        return bp_fail(err, BP_ERR_BUFFER_TOO_SMALL, UINT64_MAX,
                       "bp_decode: %zu bytes need room, the buffer holds %zu", need, cap);
    unsigned char *dst = out;
    for (size_t i = 0; i < n_ids; i++) {
        uint32_t id = ids[i];
        if (id < BP_N_SPECIAL)
            continue;
        uint32_t b = model->off[id - BP_N_SPECIAL], e = model->off[id - BP_N_SPECIAL + 1];
        memcpy(dst, model->bytes + b, e - b);
        dst += e - b;
    }
    return BP_OK;
}
