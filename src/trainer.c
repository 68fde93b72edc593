/*
 * trainer.c -- the public trainer: options, ingestion of texts into the spool
 * (train_spool.c), and the order of the stages (train_internal.h).
 */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "counts_file.h"
#include "parallel.h"
#include "train_internal.h"

struct bp_trainer {
    bp_train_options opts;
    unsigned threads;
    bp_chunker *chunker;
    bp_spool spool;
    bp_byte_counts counts;   /* of the chunks spooled so far */
    bp_error sink_error;     /* why the last chunk could not be spooled */
    bool trained;
    bp_train_stats stats;
    double started;          /* when the current stage started */
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void bp_train_options_init(bp_train_options *o)
{
    *o = (bp_train_options){
        .order = 6,
        .min_count = 2,
        .max_piece_length = 36,
        .isolate_digits = 0,
        .no_ensure_unicode = 0,
        .threads = 0,
        .skip_bad_lines = 0,
        .temp_dir = NULL,
        .progress = NULL,
        .progress_ctx = NULL,
    };
}

/*------ Public API ------*/

bp_status bp_trainer_create(const bp_train_options *o, bp_trainer **out, bp_error *err)
{
    if (!out)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "bp_trainer_create: out is NULL");
    *out = NULL;
    bp_train_options defaults;
    bp_train_options_init(&defaults);
    if (!o)
        o = &defaults;
    if (o->order > BP_MAX_ORDER)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX,
                       "order %u is not supported (1 .. %d)", o->order, BP_MAX_ORDER);
    bp_trainer *t = calloc(1, sizeof *t);
    if (!t)
        return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory");
    t->opts = *o; /* with every zero that means "the default" replaced by that default */
    if (!t->opts.order)
        t->opts.order = defaults.order;
    if (!t->opts.min_count)
        t->opts.min_count = defaults.min_count;
    if (!t->opts.max_piece_length)
        t->opts.max_piece_length = defaults.max_piece_length;
    t->threads = bp_thread_count(o->threads, SIZE_MAX, 1);
    t->spool.fd = -1;
    bp_status st = bp_spool_open(&t->spool, o->temp_dir, err);
    if (st == BP_OK && bp_chunker_create(o->isolate_digits, o->skip_bad_lines, &t->chunker) != BP_OK)
        st = bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory");
    if (st != BP_OK) {
        bp_trainer_free(t);
        return st;
    }
    t->started = now_seconds();
    *out = t;
    return BP_OK;
}

/* The chunker's sink: spools the chunk and counts its bytes and byte pairs on the way
 * (levels 1 and 2 of docs/algorithms.md §3.1 need no pass of their own). */
static bp_status ingest_chunk(void *ctx, const unsigned char *x, size_t len)
{
    bp_trainer *t = ctx;
    if (bp_byte_counts_add(&t->counts, x, len) != BP_OK)
        return bp_fail(&t->sink_error, BP_ERR_NOMEM, UINT64_MAX, "out of memory counting bytes");
    t->stats.chunks++;
    return bp_spool_append(&t->spool, x, len, &t->sink_error);
}

/* A failure of the sink (spooling) carries its message in t->sink_error; the chunker's own
 * failures (invalid UTF-8) have already filled err. */
static bp_status chunker_status(bp_trainer *t, bp_status st, bp_error *err)
{
    if (st != BP_OK && st != BP_ERR_BAD_UTF8 && t->sink_error.code == st && err)
        *err = t->sink_error;
    return st;
}

bp_status bp_trainer_feed(bp_trainer *t, const void *data, size_t len, bp_error *err)
{
    if (!t || (!data && len) || t->trained)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "bp_trainer_feed: invalid call");
    bp_status st = bp_chunker_feed(t->chunker, data, len, ingest_chunk, t, err);
    bp_train_report_progress(&t->opts, "reading", t->counts.positions, 0);
    return chunker_status(t, st, err);
}

bp_status bp_trainer_end_text(bp_trainer *t, bp_error *err)
{
    if (!t || t->trained)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "bp_trainer_end_text: invalid call");
    bp_status st = bp_chunker_end_text(t->chunker, ingest_chunk, t, err);
    bp_train_report_progress(&t->opts, "reading", t->counts.positions, 0);
    return chunker_status(t, st, err);
}

bp_status bp_trainer_add_texts(bp_trainer *t, bp_text_reader_fn read, void *ctx, bp_error *err)
{
    if (!t || !read)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "bp_trainer_add_texts: invalid call");
    for (;;) {
        const unsigned char *data;
        size_t len;
        int end_of_text = 0;
        bp_status st = read(ctx, &data, &len, &end_of_text, err);
        if (st != BP_OK)
            return st;
        if (!data)
            return BP_OK;
        st = bp_trainer_feed(t, data, len, err);
        if (st == BP_OK && end_of_text)
            st = bp_trainer_end_text(t, err);
        if (st != BP_OK)
            return st;
    }
}

static bp_status read_text_input(void *ctx, const unsigned char **data, size_t *len,
                                 int *end_of_text, bp_error *err)
{
    return bp_text_input_next(ctx, data, len, end_of_text, err);
}

bp_status bp_trainer_add_input(bp_trainer *t, bp_text_input *in, bp_error *err)
{
    if (!in)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "bp_trainer_add_input: in is NULL");
    return bp_trainer_add_texts(t, read_text_input, in, err);
}

/* Ends a stage: adds its time to *seconds and starts the clock for the next one. */
static void end_stage(bp_trainer *t, double *seconds)
{
    double now = now_seconds();
    *seconds += now - t->started;
    t->started = now;
}

/* Sizes of at least 259; models[] cleared, so that a failure frees what it made. */
/* Where a counting pass of this training spills under memory_limit. */
static bp_runs spill_runs(const bp_trainer *t, bp_counts_kind kind)
{
    bp_runs runs = {.dir = t->opts.temp_dir};
    bp_counts_info_from(&runs.info, kind, &t->opts);
    return runs;
}

static void end_spilling(bp_trainer *t, bp_runs *runs)
{
    t->stats.spilled_bytes += runs->bytes;
    t->stats.spilled_runs += runs->written;
    bp_runs_free(runs);
}

static bp_status check_sizes(const size_t *vocab_sizes, size_t n_sizes, bp_model **models,
                             bp_error *err)
{
    for (size_t i = 0; i < n_sizes; i++) {
        models[i] = NULL;
        if (vocab_sizes[i] < 256 + BP_N_SPECIAL)
            return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX,
                           "vocabulary size %zu is too small (at least 259: 256 bytes + 3 specials)",
                           vocab_sizes[i]);
    }
    return BP_OK;
}

/* Ends the input (the last text, the spool's last block) and the trainer's use. */
static bp_status finish_input(bp_trainer *t, bp_error *err)
{
    t->trained = true;
    bp_status st = chunker_status(t, bp_chunker_end_text(t->chunker, ingest_chunk, t, err), err);
    if (st == BP_OK)
        st = bp_spool_flush(&t->spool, err);
    t->stats.bytes = t->counts.positions;
    t->stats.skipped_lines = bp_chunker_skipped_lines(t->chunker);
    end_stage(t, &t->stats.seconds_reading);
    return st;
}

bp_status bp_trainer_train(bp_trainer *t, const size_t *vocab_sizes, size_t n_sizes,
                           bp_model **models, bp_error *err)
{
    if (!t || !vocab_sizes || !n_sizes || !models || t->trained)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "bp_trainer_train: invalid call");
    bp_status st = check_sizes(vocab_sizes, n_sizes, models, err);
    if (st == BP_OK)
        st = finish_input(t, err);
    if (st != BP_OK)
        return st;
    if (t->counts.positions == 0)
        return bp_fail(err, BP_ERR_EMPTY_CORPUS, UINT64_MAX,
                       "the training corpus is empty (no text to learn from)");

    bp_ngram_model lm = {0};
    bp_runs runs = spill_runs(t, BP_COUNTS_NGRAMS);
    st = bp_ngram_build(&lm, &t->spool, &t->counts, &t->opts, t->threads, &runs, err);
    end_spilling(t, &runs);
    t->stats.ngrams = lm.n_kept;
    bp_byte_counts_free(&t->counts);
    end_stage(t, &t->stats.seconds_counting);
    bp_piece_table pieces = {0};
    runs = spill_runs(t, BP_COUNTS_PIECES);
    if (st == BP_OK)
        st = bp_count_pieces(&lm, &t->spool, &t->opts, t->threads, &pieces, &runs, err);
    bp_ngram_free(&lm);
    t->stats.distinct_pieces = pieces.n;
    end_stage(t, &t->stats.seconds_segmenting);
    if (st == BP_OK && runs.n)
        st = bp_prune_piece_runs(&runs, &t->opts, t->threads, vocab_sizes, n_sizes, models,
                                 &t->stats.distinct_pieces, err);
    else if (st == BP_OK)
        st = bp_prune_pieces(&pieces, &t->opts, t->threads, vocab_sizes, n_sizes, models, err);
    end_spilling(t, &runs);
    bp_piece_table_free(&pieces);
    end_stage(t, &t->stats.seconds_pruning);
    return st;
}

/*------ Training in stages (the count files: train_counts.c) ------*/

bp_status bp_trainer_save_ngram_counts(bp_trainer *t, const char *path, bp_error *err)
{
    if (!t || !path || t->trained)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX,
                       "bp_trainer_save_ngram_counts: invalid call");
    bp_status st = finish_input(t, err);
    bp_runs runs = spill_runs(t, BP_COUNTS_NGRAMS);
    if (st == BP_OK)
        st = bp_ngram_counts_save(path, &t->spool, &t->counts, &t->opts, t->threads,
                                  t->stats.chunks, &runs, &t->stats.ngrams, err);
    end_spilling(t, &runs);
    end_stage(t, &t->stats.seconds_counting);
    return st;
}

bp_status bp_trainer_save_piece_counts(bp_trainer *t, const char *ngram_counts,
                                       const char *path, bp_error *err)
{
    if (!t || !ngram_counts || !path || t->trained)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX,
                       "bp_trainer_save_piece_counts: invalid call");
    bp_status st = finish_input(t, err);
    bp_ngram_model lm = {0};
    if (st == BP_OK)
        st = bp_ngram_load(&lm, ngram_counts, &t->opts, err);
    t->stats.ngrams = lm.n_kept;
    end_stage(t, &t->stats.seconds_counting);
    bp_piece_table pieces = {0};
    bp_runs runs = spill_runs(t, BP_COUNTS_PIECES);
    if (st == BP_OK)
        st = bp_count_pieces(&lm, &t->spool, &t->opts, t->threads, &pieces, &runs, err);
    bp_ngram_free(&lm);
    if (st == BP_OK)
        st = bp_piece_counts_save(path, &pieces, &runs, &t->opts, t->counts.positions,
                                  t->stats.chunks, &t->stats.distinct_pieces, err);
    end_spilling(t, &runs);
    bp_piece_table_free(&pieces);
    end_stage(t, &t->stats.seconds_segmenting);
    return st;
}

bp_status bp_train_from_counts(const char *piece_counts, const bp_train_options *o,
                               const size_t *vocab_sizes, size_t n_sizes, bp_model **models,
                               bp_train_stats *stats, bp_error *err)
{
    if (!piece_counts || !vocab_sizes || !n_sizes || !models)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "bp_train_from_counts: invalid call");
    double started = now_seconds();
    bp_train_options opts;
    bp_train_options_init(&opts);
    if (o) {
        opts.threads = o->threads;
        opts.progress = o->progress;
        opts.progress_ctx = o->progress_ctx;
    }
    bp_counts_info info = {0};
    bp_runs runs = {0};
    uint64_t distinct = 0;
    bp_status st = check_sizes(vocab_sizes, n_sizes, models, err);
    if (st == BP_OK)
        st = bp_counts_read_info(piece_counts, &info, err);
    if (st == BP_OK && info.kind != BP_COUNTS_PIECES)
        st = bp_fail(err, BP_ERR_MISMATCH, UINT64_MAX,
                     "%s holds n-gram counts; training needs piece counts (bp segment makes them)",
                     piece_counts);
    if (st == BP_OK && info.bytes == 0)
        st = bp_fail(err, BP_ERR_EMPTY_CORPUS, UINT64_MAX,
                     "%s: the counts are of no text at all (nothing to learn from)", piece_counts);
    opts.order = info.options.order;
    opts.min_count = info.options.min_count;
    opts.max_piece_length = info.options.max_piece_length;
    opts.isolate_digits = info.options.isolate_digits;
    opts.no_ensure_unicode = info.options.no_ensure_unicode;
    /* The file is pruned as the runs of a training under a memory limit are: read twice,
     * holding only the pieces kept before re-splitting, not a table of every piece. */
    if (st == BP_OK)
        st = bp_runs_add_file(&runs, piece_counts, err);
    if (st == BP_OK)
        st = bp_prune_piece_runs(&runs, &opts, bp_thread_count(opts.threads, SIZE_MAX, 1),
                                 vocab_sizes, n_sizes, models, &distinct, err);
    bp_runs_free(&runs);
    if (stats)
        *stats = (bp_train_stats){.bytes = info.bytes, .chunks = info.chunks,
                                  .distinct_pieces = distinct,
                                  .seconds_pruning = now_seconds() - started};
    return st;
}

void bp_trainer_stats(const bp_trainer *t, bp_train_stats *stats)
{
    if (t && stats) {
        *stats = t->stats;
        if (!t->trained) {
            stats->bytes = t->counts.positions;
            stats->skipped_lines = t->chunker ? bp_chunker_skipped_lines(t->chunker) : 0;
        }
    }
}

void bp_trainer_free(bp_trainer *t)
{
    if (!t)
        return;
    bp_chunker_free(t->chunker);
    bp_spool_close(&t->spool);
    bp_byte_counts_free(&t->counts);
    free(t);
}
