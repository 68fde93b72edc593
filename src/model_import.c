/*
 * model_import.c -- bp_model_from_counts(): a consistent model from any table of pieces and
 * counts, the reference's Trainer.convert_to_bytepiece() (docs/algorithms.md §3.7). That
 * function sets max_vocab_size = [len(pieces) + 259], max_piece_length = inf and
 * min_count = 1 and runs prune_pieces: every missing single byte is added with count 1,
 * nothing is dropped by count or length, and the wasted-piece fixed point removes the
 * pieces that no segmentation would use, giving their counts to the pieces that segment
 * them. The vocabulary cut never applies (len + 256 pieces at most fit in len + 259 ids).
 * This is the trainer's own pruning (train_prune.c), so an imported table and a trained
 * one are pruned alike.
 */
#include <stdint.h>
#include <stdlib.h>

#include "train_internal.h"

bp_status bp_model_from_counts(const bp_piece *pieces, size_t n_pieces, unsigned threads,
                               bp_model **out, bp_error *err)
{
    if (out)
        *out = NULL;
    if (!out || (!pieces && n_pieces > 0))
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX,
                       "bp_model_from_counts: no output or no pieces");
    if (n_pieces > SIZE_MAX - 259)
        return bp_fail(err, BP_ERR_TOO_LARGE, UINT64_MAX, "too many pieces");
    bp_piece_table table = {0};
    bp_status st = BP_OK;
    for (size_t i = 0; i < n_pieces && st == BP_OK; i++) {
        const bp_piece *p = &pieces[i];
        if (p->len == 0 || !p->bytes)
            st = bp_fail(err, BP_ERR_BAD_ENTRY, i, "piece %zu is empty", i);
        else if (p->count == 0)
            st = bp_fail(err, BP_ERR_BAD_COUNT, i, "piece %zu has count 0 (counts must be at least 1)", i);
        else if (bp_piece_table_get(&table, p->bytes, p->len) != 0)
            st = bp_fail(err, BP_ERR_DUP_PIECE, i, "piece %zu repeats an earlier piece", i);
        else if (bp_piece_table_add(&table, p->bytes, p->len, p->count) != BP_OK)
            st = bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory");
    }
    if (st == BP_OK) {
        bp_train_options o;
        bp_train_options_init(&o);
        o.min_count = 1;
        o.max_piece_length = SIZE_MAX;
        size_t vocab_size = n_pieces + 259;
        bp_model *model = NULL;
        st = bp_prune_pieces(&table, &o, threads, &vocab_size, 1, &model, err);
        if (st == BP_OK)
            *out = model;
    }
    bp_piece_table_free(&table);
    return st;
}
