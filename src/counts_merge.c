/*
 * counts_merge.c -- the k-way merge of sorted count streams, summing equal entries: the
 * core of `bp merge` and of the sorted runs a bounded-memory training spills
 * (train_runs.c).
 *
 * The smallest entry is found by a scan of the inputs: a merge takes a handful of inputs
 * (many shards merge best as a tree, in parallel; a memory limit spills few, large runs).
 */
#include <stdlib.h>

#include "counts_file.h"

/* An input's current entry, kept side by side with the others' for the scan. */
typedef struct merge_head {
    uint64_t key;                /* bp_counts_key of the entry */
    size_t len;
    const unsigned char *bytes;  /* NULL once the input ended */
    uint64_t count;
    bool smallest;               /* the entry is the one being emitted */
} merge_head;

static bp_status advance(bp_counts_reader *in, merge_head *h, bp_error *err)
{
    bp_status st = bp_counts_next(in, &h->bytes, &h->len, &h->count, err);
    h->key = in->key;
    return st;
}

static int compare_heads(const merge_head *a, const merge_head *b)
{
    return bp_counts_compare_keyed(a->key, a->bytes, a->len, b->key, b->bytes, b->len);
}

/* The input holding the smallest entry, or n when all have ended. */
static size_t smallest(const merge_head *h, size_t n)
{
    size_t best = n;
    for (size_t i = 0; i < n; i++)
        if (h[i].bytes && (best == n || compare_heads(&h[i], &h[best]) < 0))
            best = i;
    return best;
}

static bp_status merge_loop(bp_counts_reader *in, merge_head *h, size_t n,
                            bp_counts_entry_fn emit, void *ctx, bp_error *err)
{
    bp_status st = BP_OK;
    for (size_t i = 0; i < n && st == BP_OK; i++)
        st = advance(&in[i], &h[i], err);
    for (size_t lo; st == BP_OK && (lo = smallest(h, n)) < n;) {
        uint64_t sum = 0;
        for (size_t i = lo; i < n && st == BP_OK; i++) {
            h[i].smallest = i == lo || (h[i].bytes && compare_heads(&h[i], &h[lo]) == 0);
            if (h[i].smallest && sum + h[i].count < sum)
                st = bp_fail(err, BP_ERR_TOO_LARGE, UINT64_MAX,
                             "a count of the merge exceeds 2^64 - 1");
            sum += h[i].smallest ? h[i].count : 0;
        }
        /* Emitted before the inputs advance: a reader keeps its last entry valid. */
        if (st == BP_OK)
            st = emit(ctx, h[lo].bytes, h[lo].len, sum, err);
        for (size_t i = lo; i < n && st == BP_OK; i++)
            if (h[i].smallest)
                st = advance(&in[i], &h[i], err);
    }
    return st;
}

bp_status bp_counts_merge_each(bp_counts_reader *in, size_t n, bp_counts_entry_fn emit,
                               void *ctx, bp_error *err)
{
    merge_head *h = calloc(n ? n : 1, sizeof *h);
    bp_status st = h ? merge_loop(in, h, n, emit, ctx, err)
                     : bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory merging counts");
    free(h);
    return st;
}
