/*
 * train_counts.c -- the trainer's sums as count files (counts_file.c): pass 1 and pass 2
 * of a shard written out, the merged n-gram counts read back into the n-gram model, piece
 * counts read back for pruning, and the merge of count files.
 *
 * Exactness: the trainer keeps, at each level, the n-grams counting at least min_count
 * whose prefix and suffix survived the level below. An n-gram never counts more than its
 * prefix or suffix, so that set is simply every n-gram counting at least min_count: from
 * the complete counts of every shard, summed, the same n-grams survive with the same
 * counts, whatever the split. That is why a shard's file keeps every n-gram, and why
 * min_count is applied only when the summed counts are read (bp_ngram_load), or by the
 * last merge (bp_counts_merge_pruned), which drops what bp_ngram_load would drop: the
 * n-grams of 2 or more bytes under min_count (the 1-grams all count, §3.2 step 1).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "counts_file.h"
#include "train_internal.h"

/* What a fill callback of bp_write_file_from() failed with. Setting the writer's errnum
 * makes bp_write_file_from() remove the file; the caller then reports `err`. */
typedef struct fill_status {
    bp_status st;
    bp_error err;
} fill_status;

static void fill_failed(bp_writer *w)
{
    if (w->errnum == 0)
        w->errnum = ECANCELED;
}

/* The result of a write whose fill may have failed on its own. */
static bp_status write_result(bp_status written, const fill_status *fs, bp_error *err)
{
    if (fs->st != BP_OK) {
        if (err)
            *err = fs->err;
        return fs->st;
    }
    return written;
}

/*------ Pass 1 of a shard ------*/

typedef struct ngram_job {
    const bp_spool *sp;
    const bp_byte_counts *c;
    const bp_train_options *o;
    unsigned threads;
    bp_runs *runs;
    bp_counts_info info;
    fill_status fs;
} ngram_job;

static void fill_ngrams(bp_writer *w, const void *ctx)
{
    ngram_job *job = (ngram_job *)ctx;
    bp_counts_writer cw;
    bp_counts_write_begin(&cw, w, &job->info);
    for (unsigned b = 0; b < 256; b++)
        if (job->c->uni[b])
            bp_counts_write_entry(&cw, (const unsigned char[]){(unsigned char)b}, 1, job->c->uni[b]);
    for (unsigned b0 = 0; b0 < 256 && job->o->order >= 2; b0++)
        for (unsigned b1 = 0; b1 < 256; b1++)
            if (bp_pair_count(job->c, b0, b1))
                bp_counts_write_entry(&cw, (const unsigned char[]){(unsigned char)b0, (unsigned char)b1},
                                      2, bp_pair_count(job->c, b0, b1));
    if (w->errnum == 0)
        job->fs.st = bp_ngram_count_sorted(job->sp, job->o, job->threads, &cw, job->runs,
                                           &job->fs.err);
    /* Counts that spilled stream from their runs straight into the file. */
    if (job->fs.st == BP_OK && job->runs->n)
        job->fs.st = bp_runs_merge(job->runs, bp_counts_write_merged, &cw, &job->fs.err);
    if (job->fs.st != BP_OK)
        fill_failed(w);
    bp_counts_write_end(&cw, &job->info);
}

bp_status bp_ngram_counts_save(const char *path, const bp_spool *sp, const bp_byte_counts *c,
                               const bp_train_options *o, unsigned threads, uint64_t chunks,
                               bp_runs *runs, uint64_t *entries, bp_error *err)
{
    ngram_job job = {sp, c, o, threads, runs, {0}, {BP_OK, {0}}};
    bp_counts_info_from(&job.info, BP_COUNTS_NGRAMS, o);
    job.info.bytes = c->positions;
    job.info.chunks = chunks;
    bp_status st = write_result(bp_write_file_from(path, fill_ngrams, &job, err), &job.fs, err);
    *entries = job.info.entries;
    return st;
}

/*------ The merged n-gram counts, read back (pass 2 of a shard) ------*/

/* A count file with its next entry read ahead (bytes NULL at the end). */
typedef struct ngram_source {
    bp_counts_reader r;
    const unsigned char *bytes;
    size_t len;
    uint64_t count;
    uint64_t min_count;
    bool reader_failed;
    bp_u64_slot *level;   /* the level being read, before it goes into a table */
    size_t level_cap;
} ngram_source;

static bp_status advance(ngram_source *ns, bp_error *err)
{
    bp_status st = bp_counts_next(&ns->r, &ns->bytes, &ns->len, &ns->count, err);
    ns->reader_failed = st != BP_OK;
    return st;
}

/* Levels 1 and 2, into the dense counts the n-gram model starts from. */
static bp_status read_bytes_and_pairs(ngram_source *ns, bp_byte_counts *c, bp_error *err)
{
    bp_status st = advance(ns, err);
    for (; st == BP_OK && ns->bytes && ns->len <= 2; st = advance(ns, err)) {
        unsigned b0 = ns->bytes[0];
        if (ns->len == 1) {
            c->uni[b0] = ns->count;
            continue;
        }
        if (!c->pair[b0] && !(c->pair[b0] = calloc(256, sizeof *c->pair[b0])))
            return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory");
        c->pair[b0][ns->bytes[1]] = ns->count;
    }
    c->positions = ns->r.info.bytes;
    return st;
}

/* A bp_ngram_level_fn: the k-grams of the file that reach min_count (the others cannot
 * survive, and need no memory). */
static bp_status read_level(void *ctx, unsigned k, const bp_ngram_model *m,
                            const bp_u64_table *prev, bp_u64_table *counts, bp_error *err)
{
    ngram_source *ns = ctx;
    (void)m, (void)prev; /* the file holds every k-gram: no candidate needs choosing */
    bp_status st = BP_OK;
    size_t n = 0;
    /* Gathered first, so that the table is sized once: growing it entry by entry would
     * move and zero its slots again at every doubling. */
    for (; st == BP_OK && ns->bytes && ns->len == k; st = advance(ns, err)) {
        if (ns->count < ns->min_count)
            continue;
        bp_u64_slot *level = bp_grow(ns->level, &ns->level_cap, n + 1, sizeof *level);
        if (!level)
            return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory reading n-gram counts");
        ns->level = level;
        level[n++] = (bp_u64_slot){bp_ngram_key(ns->bytes, k), ns->count};
    }
    if (st == BP_OK && bp_u64_table_reserve(counts, n) != BP_OK)
        return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory reading n-gram counts");
    for (size_t i = 0; st == BP_OK && i < n; i++)
        if (bp_u64_table_add(counts, ns->level[i].key, ns->level[i].val) != BP_OK)
            return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory reading n-gram counts");
    return st;
}

bp_status bp_ngram_load(bp_ngram_model *m, const char *path, const bp_train_options *o,
                        bp_error *err)
{
    memset(m, 0, sizeof *m);
    ngram_source ns = {.min_count = o->min_count};
    bp_counts_info want;
    bp_counts_info_from(&want, BP_COUNTS_NGRAMS, o);
    bp_byte_counts c = {0};
    bp_error e;
    bp_status st = bp_counts_open(&ns.r, path, &e);
    if (ns.r.info.kind == BP_COUNTS_NGRAMS_PRUNED)
        want.kind = BP_COUNTS_NGRAMS_PRUNED; /* what read_level keeps, and no more */
    if (st == BP_OK)
        st = bp_counts_check_match(&want, "this training", &ns.r.info, path, &e);
    if (st == BP_OK)
        st = read_bytes_and_pairs(&ns, &c, &e);
    if (st == BP_OK)
        st = bp_ngram_build_from(m, &c, o, read_level, &ns, &e);
    if (st == BP_ERR_BAD_COUNTS && !ns.reader_failed) { /* the model's own check */
        char why[sizeof e.message];
        memcpy(why, e.message, sizeof why);
        bp_fail(&e, st, UINT64_MAX, "%s: %s", path, why);
    }
    if (st != BP_OK && err)
        *err = e;
    bp_byte_counts_free(&c);
    free(ns.level);
    bp_counts_close(&ns.r);
    return st;
}

/*------ Piece counts ------*/

typedef struct piece_job {
    bp_piece *items;
    size_t n;
    bp_runs *runs; /* when pass 2 spilled: the pieces, instead of `items` */
    bp_counts_info info;
    fill_status fs;
} piece_job;

static void fill_pieces(bp_writer *w, const void *ctx)
{
    piece_job *job = (piece_job *)ctx;
    bp_counts_writer cw;
    bp_counts_write_begin(&cw, w, &job->info);
    for (size_t i = 0; i < job->n; i++)
        bp_counts_write_entry(&cw, job->items[i].bytes, job->items[i].len, job->items[i].count);
    if (job->runs->n)
        job->fs.st = bp_runs_merge(job->runs, bp_counts_write_merged, &cw, &job->fs.err);
    if (job->fs.st != BP_OK)
        fill_failed(w);
    bp_counts_write_end(&cw, &job->info);
}

bp_status bp_piece_counts_save(const char *path, const bp_piece_table *t, bp_runs *runs,
                               const bp_train_options *o, uint64_t bytes, uint64_t chunks,
                               uint64_t *entries, bp_error *err)
{
    piece_job job = {bp_piece_table_sorted(t), t->n, runs, {0}, {BP_OK, {0}}};
    if (!job.items)
        return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory");
    bp_counts_info_from(&job.info, BP_COUNTS_PIECES, o);
    job.info.bytes = bytes;
    job.info.chunks = chunks;
    bp_status st = write_result(bp_write_file_from(path, fill_pieces, &job, err), &job.fs, err);
    *entries = job.info.entries;
    free(job.items);
    return st;
}

/*------ Merging ------*/

/* A merge of count files into one (counts_merge.c). */
typedef struct merge_job {
    bp_counts_reader *in;
    size_t n;
    bp_counts_info info;
    bp_counts_writer *cw;
    fill_status fs;
} merge_job;

/* Puts a merged entry into the file; into a pruned file only if pass 2 reads it
 * (bp_ngram_load's choice). */
static bp_status write_sum(void *ctx, const unsigned char *bytes, size_t len, uint64_t count,
                           bp_error *err)
{
    const merge_job *job = ctx;
    if (job->info.kind == BP_COUNTS_NGRAMS_PRUNED && len > 1 &&
        count < job->info.options.min_count)
        return BP_OK;
    return bp_counts_write_merged(job->cw, bytes, len, count, err);
}

static void fill_merge(bp_writer *w, const void *ctx)
{
    merge_job *job = (merge_job *)ctx;
    bp_counts_writer cw;
    bp_counts_write_begin(&cw, w, &job->info);
    job->cw = &cw;
    bp_status st = bp_counts_merge_each(job->in, job->n, write_sum, job, &job->fs.err);
    if (st != BP_OK && w->errnum == 0) {
        job->fs.st = st;
        fill_failed(w);
    }
    bp_counts_write_end(&cw, &job->info);
}

/* Opens the inputs of a merge and sets the result's header and totals. */
static bp_status open_inputs(merge_job *job, const char *const *inputs, bool prune,
                             bp_error *err)
{
    for (size_t i = 0; i < job->n; i++) {
        bp_status st = bp_counts_open(&job->in[i], inputs[i], err);
        const bp_counts_info *in = &job->in[i].info;
        if (st == BP_OK && in->kind == BP_COUNTS_NGRAMS_PRUNED)
            st = bp_fail(err, BP_ERR_MISMATCH, UINT64_MAX,
                         "%s holds pruned n-gram counts, which do not add up: merge the files "
                         "it was made from", inputs[i]);
        else if (st == BP_OK && prune && in->kind != BP_COUNTS_NGRAMS)
            st = bp_fail(err, BP_ERR_MISMATCH, UINT64_MAX,
                         "%s holds piece counts: only n-gram counts are pruned", inputs[i]);
        if (st == BP_OK && i > 0)
            st = bp_counts_check_match(&job->in[0].info, inputs[0], in, inputs[i], err);
        if (st != BP_OK)
            return st;
        if (i == 0)
            job->info = (bp_counts_info){.kind = prune ? BP_COUNTS_NGRAMS_PRUNED : in->kind,
                                         .options = in->options};
        if (job->info.bytes + in->bytes < in->bytes || job->info.chunks + in->chunks < in->chunks)
            return bp_fail(err, BP_ERR_TOO_LARGE, UINT64_MAX, "the merged text size exceeds 2^64 - 1");
        job->info.bytes += in->bytes;
        job->info.chunks += in->chunks;
    }
    return BP_OK;
}

static bp_status merge_files(const char *const *inputs, size_t n, const char *path, bool prune,
                             bp_counts_info *info, bp_error *err)
{
    if (!inputs || !n || !path)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "bp_counts_merge: invalid call");
    merge_job job = {.n = n, .fs = {BP_OK, {0}}};
    job.in = calloc(n, sizeof *job.in);
    bp_status st = BP_OK;
    if (!job.in)
        st = bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory");
    for (size_t i = 0; job.in && i < n; i++)
        job.in[i].fd = -1;
    if (st == BP_OK)
        st = open_inputs(&job, inputs, prune, err);
    if (st == BP_OK)
        st = write_result(bp_write_file_from(path, fill_merge, &job, err), &job.fs, err);
    if (st == BP_OK && info)
        *info = job.info;
    for (size_t i = 0; job.in && i < n; i++)
        bp_counts_close(&job.in[i]);
    free(job.in);
    return st;
}

bp_status bp_counts_merge(const char *const *inputs, size_t n, const char *path,
                          bp_counts_info *info, bp_error *err)
{
    return merge_files(inputs, n, path, false, info, err);
}

bp_status bp_counts_merge_pruned(const char *const *inputs, size_t n, const char *path,
                                 bp_counts_info *info, bp_error *err)
{
    return merge_files(inputs, n, path, true, info, err);
}
