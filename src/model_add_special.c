/*
 * model_add_special.c -- bp_model_add_special(): a new model with the pieces of another
 * and more special tokens. Above both model.c (which builds the copy) and special.c
 * (which validates the tokens), so that neither depends on the other's caller.
 */
#include <stdlib.h>

#include "bp_internal.h"

bp_status bp_model_add_special(const bp_model *model, const char *const *tokens,
                               const size_t *lens, size_t n, bp_model **out, bp_error *err)
{
    if (out)
        *out = NULL;
    if (!model || !out || (n && (!tokens || !lens)))
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX,
                       "bp_model_add_special: %s is NULL",
                       !model ? "model" : !out ? "out" : !tokens ? "tokens" : "lens");
    for (size_t i = 0; i < n; i++)
        if (!tokens[i] && lens[i])
            return bp_fail(err, BP_ERR_INVALID_ARG, i,
                           "bp_model_add_special: token %zu is NULL with a length of %zu", i,
                           lens[i]);
    /* The new set is the old tokens, then the new ones: validated as one list, so that a
     * token already in the model is a duplicate like any other. */
    size_t n_old = bp_model_special_count(model);
    if (n > SIZE_MAX / sizeof(size_t) - n_old)
        return bp_fail(err, BP_ERR_TOO_LARGE, UINT64_MAX, "bp_model_add_special: too many tokens");
    const unsigned char **all = malloc((n_old + n ? n_old + n : 1) * sizeof *all);
    size_t *all_lens = malloc((n_old + n ? n_old + n : 1) * sizeof *all_lens);
    bp_piece *pieces = malloc((size_t)model->n_pieces * sizeof *pieces);
    bp_status st = BP_OK;
    if (!all || !all_lens || !pieces)
        st = bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "bp_model_add_special: out of memory");
    bp_special_set *set = NULL;
    bp_model *m = NULL;
    if (st == BP_OK) {
        const bp_special_set *old = model->special;
        for (size_t i = 0; i < n_old; i++) {
            all[i] = old->bytes + old->off[i];
            all_lens[i] = old->off[i + 1] - old->off[i];
        }
        for (size_t i = 0; i < n; i++) {
            all[n_old + i] = (const unsigned char *)tokens[i];
            all_lens[n_old + i] = lens[i];
        }
        st = bp_special_set_make(all, all_lens, n_old + n, n_old,
                                 model->n_pieces + BP_N_SPECIAL, "bp_model_add_special", &set,
                                 err);
    }
    if (st == BP_OK) {
        for (uint32_t i = 0; i < model->n_pieces; i++)
            pieces[i] = (bp_piece){model->bytes + model->off[i],
                                   model->off[i + 1] - model->off[i], model->counts[i]};
        st = bp_model_build(pieces, NULL, model->n_pieces, "bp_model_add_special", &m, err);
    }
    free(all);
    free(all_lens);
    free(pieces);
    if (st != BP_OK) {
        bp_special_set_free(set);
        return st;
    }
    m->special = set;
    *out = m;
    return BP_OK;
}
