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

typedef struct merge_state {
    bp_counts_reader *in;
    const unsigned char **bytes; /* the current entry of each input; NULL once it ended */
    size_t *len;
    uint64_t *count;
    size_t n;
} merge_state;

static bp_status advance(merge_state *ms, size_t i, bp_error *err)
{
    return bp_counts_next(&ms->in[i], &ms->bytes[i], &ms->len[i], &ms->count[i], err);
}

/* The input holding the smallest entry, or n when all have ended. */
static size_t smallest(const merge_state *ms)
{
    size_t best = ms->n;
    for (size_t i = 0; i < ms->n; i++)
        if (ms->bytes[i] && (best == ms->n || bp_counts_compare(ms->bytes[i], ms->len[i],
                                                                ms->bytes[best], ms->len[best]) < 0))
            best = i;
    return best;
}

static bool same_entry(const merge_state *ms, size_t i, const unsigned char *bytes, size_t len)
{
    return ms->bytes[i] && bp_counts_compare(ms->bytes[i], ms->len[i], bytes, len) == 0;
}

static bp_status merge_loop(merge_state *ms, bp_counts_entry_fn emit, void *ctx, bp_error *err)
{
    bp_status st = BP_OK;
    for (size_t i = 0; i < ms->n && st == BP_OK; i++)
        st = advance(ms, i, err);
    for (size_t lo; st == BP_OK && (lo = smallest(ms)) < ms->n;) {
        const unsigned char *lo_bytes = ms->bytes[lo];
        size_t lo_len = ms->len[lo];
        uint64_t sum = 0;
        for (size_t i = lo; i < ms->n; i++)
            if (same_entry(ms, i, lo_bytes, lo_len)) {
                if (sum + ms->count[i] < sum)
                    return bp_fail(err, BP_ERR_TOO_LARGE, UINT64_MAX,
                                   "a count of the merge exceeds 2^64 - 1");
                sum += ms->count[i];
            }
        /* Emitted before the inputs advance: a reader keeps its last entry valid. */
        st = emit(ctx, lo_bytes, lo_len, sum, err);
        for (size_t i = ms->n; i-- > lo && st == BP_OK;)
            if (i == lo || same_entry(ms, i, lo_bytes, lo_len))
                st = advance(ms, i, err);
    }
    return st;
}

bp_status bp_counts_merge_each(bp_counts_reader *in, size_t n, bp_counts_entry_fn emit,
                               void *ctx, bp_error *err)
{
    merge_state ms = {in, calloc(n ? n : 1, sizeof *ms.bytes), calloc(n ? n : 1, sizeof *ms.len),
                      calloc(n ? n : 1, sizeof *ms.count), n};
    bp_status st = ms.bytes && ms.len && ms.count ? merge_loop(&ms, emit, ctx, err)
                   : bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory merging counts");
    free(ms.bytes);
    free(ms.len);
    free(ms.count);
    return st;
}
