/*
 * train_prune.c -- from piece counts to vocabularies (docs/algorithms.md §3.5): complete
 * the single bytes, keep the frequent short pieces, re-split the others with the kept ones,
 * prune wasted pieces to a fixed point, and cut to each vocabulary size, largest first.
 *
 * Re-splitting is the Unigram Viterbi of the tokenizer itself: a model is built from the
 * kept pieces (scores log(c) - log(total), §3.5.2) and every piece to split is segmented
 * whole, with no normalization and no chunking, by bp_lattice_segment -- the same core
 * that encodes text. Pieces are split on worker threads into per-thread count arrays that
 * are summed, so the result does not depend on the number of threads.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "parallel.h"
#include "train_internal.h"

/* A set of pieces; the bytes belong to the piece table (or to `single_bytes`). */
typedef struct piece_set {
    bp_piece *items;
    size_t n;
} piece_set;

static const unsigned char single_bytes[256] = {
#define B4(i) i, i + 1, i + 2, i + 3
#define B16(i) B4(i), B4(i + 4), B4(i + 8), B4(i + 12)
#define B64(i) B16(i), B16(i + 16), B16(i + 32), B16(i + 48)
    B64(0), B64(64), B64(128), B64(192)};

/*------ split_pieces (§3.5.2) ------*/

typedef struct split_job {
    const bp_model *model;
    const piece_set *todo;
    uint64_t **counts;      /* per thread, one per kept piece */
    atomic_size_t next;
    atomic_int failed;
} split_job;

#define SPLIT_BATCH 256        /* pieces claimed at a time by a thread */
#define SPLIT_PER_THREAD 1024  /* pieces of work needed to start one more thread */

static void split_worker(void *ctx, unsigned thread)
{
    split_job *job = ctx;
    uint64_t *counts = job->counts[thread];
    bp_lattice lat = {0};
    uint32_t *ids = NULL;
    size_t ids_cap = 0;
    while (!atomic_load(&job->failed)) {
        size_t lo = atomic_fetch_add(&job->next, SPLIT_BATCH);
        if (lo >= job->todo->n)
            break;
        size_t hi = lo + SPLIT_BATCH < job->todo->n ? lo + SPLIT_BATCH : job->todo->n;
        for (size_t i = lo; i < hi; i++) {
            const bp_piece *p = &job->todo->items[i];
            if (p->len > ids_cap) {
                uint32_t *grown = realloc(ids, p->len * sizeof *ids);
                if (!grown || bp_lattice_reserve(&lat, p->len) != BP_OK) {
                    free(grown ? grown : ids);
                    ids = NULL;
                    atomic_store(&job->failed, 1);
                    goto done;
                }
                ids = grown;
                ids_cap = p->len;
            }
            size_t n = bp_lattice_segment(job->model, &lat, p->bytes, p->len, -1.0, NULL, ids,
                                          NULL, 0);
            for (size_t k = 0; k < n; k++)
                counts[ids[k] - BP_N_SPECIAL] += p->count;
        }
    }
done:
    free(ids);
    bp_lattice_free(&lat);
}

/* Segments every piece of `todo` with `model` (of n_keep pieces) and adds, for each of its
 * pieces, count x occurrences in the segmentations to sums[0..n_keep). */
static bp_status split_with(const bp_model *model, size_t n_keep, const piece_set *todo,
                            unsigned threads, uint64_t *sums, bp_error *err)
{
    /* Segmenting a piece takes about a microsecond or less, starting a thread tens of
     * microseconds: a thread is worth it only with SPLIT_PER_THREAD pieces to do. */
    threads = bp_thread_count(threads, todo->n, SPLIT_PER_THREAD);
    split_job job = {.model = model, .todo = todo};
    atomic_init(&job.next, 0);
    atomic_init(&job.failed, 0);
    uint64_t *counts[BP_MAX_THREADS] = {sums};
    job.counts = counts;
    for (unsigned t = 1; t < threads; t++)
        if (!(counts[t] = calloc(n_keep ? n_keep : 1, sizeof **counts)))
            atomic_store(&job.failed, 1);
    if (!atomic_load(&job.failed))
        bp_parallel_for(threads, split_worker, &job);
    for (unsigned t = 1; t < threads; t++) {
        if (counts[t])
            for (size_t i = 0; i < n_keep; i++)
                sums[i] += counts[t][i];
        free(counts[t]);
    }
    if (atomic_load(&job.failed))
        return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory while pruning pieces");
    return BP_OK;
}

/* Segments every piece of `todo` with a model of `keep` and returns, for each kept piece,
 * the sum over todo of count x occurrences in its segmentation (a new calloc'd array). */
static bp_status split_pieces(const piece_set *keep, const piece_set *todo, unsigned threads,
                              uint64_t **out, bp_error *err)
{
    bp_model *model = NULL;
    bp_status st = bp_model_from_pieces(keep->items, keep->n, &model, err);
    uint64_t *sums = st == BP_OK ? calloc(keep->n ? keep->n : 1, sizeof *sums) : NULL;
    if (st == BP_OK && !sums)
        st = bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory while pruning pieces");
    if (st == BP_OK)
        st = split_with(model, keep->n, todo, threads, sums, err);
    bp_model_free(model);
    if (st != BP_OK) {
        free(sums);
        return st;
    }
    *out = sums;
    return BP_OK;
}

/*------ The steps of §3.5 ------*/

/* keep[i].count += split counts of `todo` (§3.5.1 step 3; the model is built from keep as
 * it was before the additions). */
static bp_status absorb(piece_set *keep, const piece_set *todo, unsigned threads, bp_error *err)
{
    uint64_t *counts;
    bp_status st = split_pieces(keep, todo, threads, &counts, err);
    if (st != BP_OK)
        return st;
    for (size_t i = 0; i < keep->n; i++)
        keep->items[i].count += counts[i];
    free(counts);
    return BP_OK;
}

/* §3.5.3: re-segment every kept piece with the kept set itself; pieces no segmentation
 * uses disappear and the counts are redistributed. Stops when the size does not change
 * (the counts of that last round are kept, as in the reference). */
static bp_status prune_wasted(piece_set *keep, const bp_train_options *o, unsigned threads,
                              bp_error *err)
{
    for (;;) {
        size_t before = keep->n;
        uint64_t *counts;
        bp_status st = split_pieces(keep, keep, threads, &counts, err);
        if (st != BP_OK)
            return st;
        size_t n = 0;
        for (size_t i = 0; i < keep->n; i++) {
            if (counts[i]) {
                keep->items[n] = keep->items[i];
                keep->items[n++].count = counts[i];
            }
        }
        free(counts);
        keep->n = n;
        bp_train_report_progress(o, "pruning", n, before);
        if (n == before)
            return BP_OK;
    }
}

static int compare_bytes(const bp_piece *a, const bp_piece *b)
{
    int c = memcmp(a->bytes, b->bytes, a->len < b->len ? a->len : b->len);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

/* The vocabulary-cut order (§3.5.4): single bytes first, then count descending, length
 * descending, bytes ascending. */
static int compare_cut(const void *pa, const void *pb)
{
    const bp_piece *a = pa, *b = pb;
    int multi_a = a->len > 1, multi_b = b->len > 1;
    if (multi_a != multi_b)
        return multi_a - multi_b;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    if (a->len != b->len)
        return a->len > b->len ? -1 : 1;
    return compare_bytes(a, b);
}

/* The model file order (§3.6): length, then bytes. */
static int compare_model(const void *pa, const void *pb)
{
    const bp_piece *a = pa, *b = pb;
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    return compare_bytes(a, b);
}

/* Cuts `keep` to vocab_size - 3 pieces (§3.5.4), re-splitting the rest into the kept ones. */
static bp_status cut_to_size(piece_set *keep, size_t vocab_size, const bp_train_options *o,
                             unsigned threads, bp_error *err)
{
    size_t room = vocab_size - BP_N_SPECIAL;
    if (keep->n <= room)
        return BP_OK;
    qsort(keep->items, keep->n, sizeof *keep->items, compare_cut);
    piece_set kept = {keep->items, room};
    piece_set rest = {keep->items + room, keep->n - room};
    bp_status st = absorb(&kept, &rest, threads, err);
    keep->n = room;
    return st == BP_OK ? prune_wasted(keep, o, threads, err) : st;
}

/* A model of `keep` with ids in the reference order: length, then bytes, from 3. */
static bp_status make_model(const piece_set *keep, bp_model **out, bp_error *err)
{
    bp_piece *sorted = malloc((keep->n ? keep->n : 1) * sizeof *sorted);
    if (!sorted)
        return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory");
    memcpy(sorted, keep->items, keep->n * sizeof *sorted);
    qsort(sorted, keep->n, sizeof *sorted, compare_model);
    bp_status st = bp_model_from_pieces(sorted, keep->n, out, err);
    free(sorted);
    return st;
}

/* §3.5.1 step 2: the pieces kept before re-splitting. */
static bool is_kept(const bp_train_options *o, size_t len, uint64_t count)
{
    return len == 1 || (len <= o->max_piece_length && count >= o->min_count);
}

/* §3.5.1 steps 1-2: all pieces plus the missing single bytes, split into kept and dropped. */
static bp_status partition(const bp_piece_table *pieces, const bp_train_options *o,
                           piece_set *keep, piece_set *drop)
{
    size_t cap = pieces->n + 256;
    keep->items = malloc(cap * sizeof *keep->items);
    drop->items = malloc(cap * sizeof *drop->items);
    keep->n = drop->n = 0;
    if (!keep->items || !drop->items)
        return BP_ERR_NOMEM;
    for (size_t i = 0; i < pieces->cap; i++) {
        const bp_piece_slot *s = &pieces->slots[i];
        if (!s->hash)
            continue;
        bp_piece p = {pieces->arena + s->off, s->len, s->count};
        if (is_kept(o, p.len, p.count))
            keep->items[keep->n++] = p;
        else
            drop->items[drop->n++] = p;
    }
    for (unsigned b = 0; b < 256; b++)
        if (!bp_piece_table_get(pieces, &single_bytes[b], 1))
            keep->items[keep->n++] = (bp_piece){&single_bytes[b], 1, 1};
    return BP_OK;
}

/* §3.5.3-4 on the kept pieces, absorbed already (st: how that went); frees keep. */
static bp_status finish_pruning(piece_set keep, bp_status st, const bp_train_options *o,
                                unsigned threads, const size_t *vocab_sizes, size_t n_sizes,
                                bp_model **models, bp_error *err)
{
    if (st == BP_OK)
        st = prune_wasted(&keep, o, threads, err);
    /* Sizes largest first, each cut from the previous result. */
    size_t *order = malloc(n_sizes * sizeof *order);
    if (!order && st == BP_OK)
        st = bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory");
    for (size_t i = 0; order && i < n_sizes; i++) {
        size_t j = i;
        for (; j > 0 && vocab_sizes[order[j - 1]] < vocab_sizes[i]; j--)
            order[j] = order[j - 1];
        order[j] = i;
    }
    for (size_t k = 0; k < n_sizes && st == BP_OK; k++) {
        size_t i = order[k];
        st = cut_to_size(&keep, vocab_sizes[i], o, threads, err);
        if (st == BP_OK)
            st = make_model(&keep, &models[i], err);
    }
    if (st != BP_OK)
        for (size_t i = 0; i < n_sizes; i++) {
            bp_model_free(models[i]);
            models[i] = NULL;
        }
    free(order);
    free(keep.items);
    return st;
}

bp_status bp_prune_pieces(const bp_piece_table *pieces, const bp_train_options *o,
                          unsigned threads, const size_t *vocab_sizes, size_t n_sizes,
                          bp_model **models, bp_error *err)
{
    piece_set keep, drop;
    bp_status st = partition(pieces, o, &keep, &drop);
    if (st != BP_OK)
        st = bp_fail(err, st, UINT64_MAX, "out of memory while pruning pieces");
    if (st == BP_OK)
        st = absorb(&keep, &drop, threads, err);
    free(drop.items);
    return finish_pruning(keep, st, o, threads, vocab_sizes, n_sizes, models, err);
}

/*------ Pruning from sorted runs (a training under a memory limit) ------*/

/* The first scan of the runs: the kept pieces, into a table. */
typedef struct kept_scan {
    const bp_train_options *o;
    bp_piece_table *kept;
    uint64_t distinct;
} kept_scan;

static bp_status scan_kept(void *ctx, const unsigned char *bytes, size_t len, uint64_t count,
                           bp_error *err)
{
    kept_scan *ks = ctx;
    ks->distinct++;
    if (is_kept(ks->o, len, count) && bp_piece_table_add(ks->kept, bytes, len, count) != BP_OK)
        return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory while pruning pieces");
    return BP_OK;
}

#define DROP_BATCH_PIECES ((size_t)1 << 16)
#define DROP_BATCH_BYTES ((size_t)4 << 20) /* above the longest entry of a count file */

/* The second scan: the dropped pieces, split in batches with the model of the kept ones
 * (§3.5.1 step 3, as absorb(), whose model is also built before any addition). */
typedef struct drop_scan {
    const bp_train_options *o;
    const bp_model *model;
    size_t n_keep;
    unsigned threads;
    uint64_t *sums;
    piece_set batch;
    unsigned char *arena;
    size_t arena_len;
} drop_scan;

static bp_status split_batch(drop_scan *ds, bp_error *err)
{
    bp_status st = split_with(ds->model, ds->n_keep, &ds->batch, ds->threads, ds->sums, err);
    ds->batch.n = ds->arena_len = 0;
    return st;
}

static bp_status scan_dropped(void *ctx, const unsigned char *bytes, size_t len, uint64_t count,
                              bp_error *err)
{
    drop_scan *ds = ctx;
    if (is_kept(ds->o, len, count))
        return BP_OK;
    bp_status st = BP_OK;
    if (ds->batch.n == DROP_BATCH_PIECES || DROP_BATCH_BYTES - ds->arena_len < len)
        st = split_batch(ds, err);
    memcpy(ds->arena + ds->arena_len, bytes, len);
    ds->batch.items[ds->batch.n++] = (bp_piece){ds->arena + ds->arena_len, len, count};
    ds->arena_len += len;
    return st;
}

/* keep[i].count += the split counts of the dropped pieces of the runs. */
static bp_status absorb_runs(piece_set *keep, bp_runs *runs, const bp_train_options *o,
                             unsigned threads, bp_error *err)
{
    drop_scan ds = {.o = o, .n_keep = keep->n, .threads = threads};
    bp_model *model = NULL;
    bp_status st = bp_model_from_pieces(keep->items, keep->n, &model, err);
    ds.model = model;
    ds.sums = calloc(keep->n ? keep->n : 1, sizeof *ds.sums);
    ds.batch.items = malloc(DROP_BATCH_PIECES * sizeof *ds.batch.items);
    ds.arena = malloc(DROP_BATCH_BYTES);
    if (st == BP_OK && (!ds.sums || !ds.batch.items || !ds.arena))
        st = bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory while pruning pieces");
    if (st == BP_OK)
        st = bp_runs_scan(runs, scan_dropped, &ds, err);
    if (st == BP_OK)
        st = split_batch(&ds, err);
    for (size_t i = 0; st == BP_OK && i < keep->n; i++)
        keep->items[i].count += ds.sums[i];
    bp_model_free(model);
    free(ds.sums);
    free(ds.batch.items);
    free(ds.arena);
    return st;
}

bp_status bp_prune_piece_runs(bp_runs *runs, const bp_train_options *o, unsigned threads,
                              const size_t *vocab_sizes, size_t n_sizes, bp_model **models,
                              uint64_t *distinct, bp_error *err)
{
    bp_piece_table kept = {0};
    kept_scan ks = {o, &kept, 0};
    piece_set keep = {0}, drop = {0};
    bp_status st = bp_runs_scan(runs, scan_kept, &ks, err);
    *distinct = ks.distinct;
    if (st == BP_OK && partition(&kept, o, &keep, &drop) != BP_OK)
        st = bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory while pruning pieces");
    free(drop.items); /* empty: every piece of `kept` is kept */
    if (st == BP_OK)
        st = absorb_runs(&keep, runs, o, threads, err);
    st = finish_pruning(keep, st, o, threads, vocab_sizes, n_sizes, models, err);
    bp_piece_table_free(&kept);
    return st;
}
