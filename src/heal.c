/*
 * heal.c -- token healing (bp_heal_prompt): the last tokens of a prompt taken back, with
 * their bytes, so that a generator can let its next token choose where they end.
 */
#include "bp_internal.h"

bp_status bp_heal_prompt(const bp_model *model, const uint32_t *ids, size_t n_ids, size_t n_back,
                         size_t *new_n_ids, void *bytes_out, size_t cap, size_t *bytes_len,
                         bp_error *err)
{
    if (!model || !new_n_ids || !bytes_len || (!ids && n_ids) || (!bytes_out && cap))
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "bp_heal_prompt: invalid argument");
    /* Special ids are not text: <bos> stays, a prompt that ends with <eos> is done, and an
     * added special token (<|im_start|>, ...) is a boundary no piece continues. */
    size_t keep = n_ids;
    while (keep > 0 && n_ids - keep < n_back && ids[keep - 1] >= BP_N_SPECIAL &&
           !bp_model_is_special(model, ids[keep - 1]))
        keep--;
    *new_n_ids = keep;
    return bp_decode_range(model, ids, keep, n_ids, bytes_out, cap, bytes_len, "bp_heal_prompt",
                           err);
}
