/*
 * piece_order.c -- the pieces in byte order, and the query it answers: every piece that
 * starts with given bytes (bp_model_prefix_ids), which token healing constrains a
 * generator's next token to.
 *
 * The double array cannot list a state's children without probing its 256 possible
 * slots, and a native file's trie is not rebuilt on loading (so not proven to spell the
 * pieces), so prefix queries use an index of their own: the piece indices sorted by their
 * bytes (m->by_bytes, 4 bytes per piece: 320 KB for an 80k model), in which the pieces
 * that start with a prefix are one range, found by binary search. It is sorted from the
 * pieces themselves by the first query, not at load time, so that loading (a native
 * model's few milliseconds) and the models that never serve such a query pay nothing.
 * The model is shared between threads: the index is published with a compare-and-swap,
 * and a thread that loses the race frees its copy and uses the winner's.
 */
#include <stdlib.h>
#include <string.h>

#include "bp_internal.h"

/* The model's index, made if it is not yet. NULL when out of memory. */
static const uint32_t *pieces_by_bytes(const bp_model *model)
{
    bp_model *m = (bp_model *)model; /* only the atomic cache is written */
    uint32_t *order = atomic_load(&m->by_bytes);
    if (order)
        return order;
    order = malloc(((size_t)m->n_pieces ? m->n_pieces : 1) * sizeof *order);
    if (!order || !bp_sort_pieces(m->bytes, m->off, m->n_pieces, order)) {
        free(order);
        return NULL;
    }
    uint32_t *expected = NULL;
    if (!atomic_compare_exchange_strong(&m->by_bytes, &expected, order)) {
        free(order); /* another thread published the same index first */
        return expected;
    }
    return order;
}

/* How piece i compares with the strings that start with prefix[0..len): -1 below them
 * all, 0 one of them, 1 above them all. */
static int compare_to_prefix(const bp_model *m, uint32_t i, const unsigned char *prefix,
                             size_t len)
{
    size_t plen = m->off[i + 1] - m->off[i], common = plen < len ? plen : len;
    int c = common ? memcmp(m->bytes + m->off[i], prefix, common) : 0; /* prefix may be NULL */
    if (c)
        return c < 0 ? -1 : 1;
    return plen < len ? -1 : 0;
}

/* The first position of `order` whose piece compares above `below` with the prefix. */
static size_t search(const bp_model *m, const uint32_t *order, const unsigned char *prefix,
                     size_t len, int below)
{
    size_t lo = 0, hi = m->n_pieces;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (compare_to_prefix(m, order[mid], prefix, len) <= below)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int compare_ids(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

bp_status bp_model_prefix_ids(const bp_model *model, const void *bytes, size_t len,
                              uint32_t *ids, size_t cap, size_t *n_ids, bp_error *err)
{
    if (!model || !n_ids || (!bytes && len) || (!ids && cap))
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX,
                       "bp_model_prefix_ids: invalid argument");
    const uint32_t *order = pieces_by_bytes(model);
    if (!order)
        return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "bp_model_prefix_ids: out of memory");
    size_t lo = search(model, order, bytes, len, -1), hi = search(model, order, bytes, len, 0);
    *n_ids = hi - lo;
    if (hi - lo > cap)
        return bp_fail(err, BP_ERR_BUFFER_TOO_SMALL, UINT64_MAX,
                       "bp_model_prefix_ids: %zu ids need room, the buffer holds %zu", hi - lo,
                       cap);
    for (size_t i = lo; i < hi; i++)
        ids[i - lo] = order[i] + BP_N_SPECIAL;
    if (hi > lo) /* ids may be NULL when there are none */
        qsort(ids, hi - lo, sizeof *ids, compare_ids);
    return BP_OK;
}
