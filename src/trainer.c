/*
 * trainer.c -- the public trainer: options, ingestion of texts into the spool, the passes
 * over the spool on worker threads, and the order of the stages (train_internal.h).
 *
 * Why a spool: training reads its corpus more than once (one pass per n-gram level, then
 * the segmentation pass). Texts arrive once, from files, stdin or a caller's reader; they
 * are normalized and chunked once, and the chunks are written to an unlinked temporary
 * file that every later pass reads back in blocks with pread. Memory therefore does not
 * grow with the corpus, and blocks are independent units of work for the threads.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "parallel.h"
#include "train_internal.h"

#define SPOOL_BLOCK (512u << 10) /* bytes of records per block; a chunk is at most ~40 KB */
#define SPOOL_FIRST_BUFFER (16u << 10) /* the write buffer grows to SPOOL_BLOCK as needed, so
                                        * that a small corpus costs little memory */

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
        .ensure_unicode = 1,
        .threads = 0,
        .skip_bad_lines = 0,
        .temp_dir = NULL,
        .progress = NULL,
        .progress_ctx = NULL,
    };
}

static void report_progress(const bp_train_options *o, const char *stage, uint64_t done,
                            uint64_t total)
{
    if (o->progress) {
        bp_train_progress p = {stage, done, total};
        o->progress(o->progress_ctx, &p);
    }
}

/*------ Spool ------*/

bp_status bp_spool_open(bp_spool *sp, const char *dir, bp_error *err)
{
    *sp = (bp_spool){.fd = -1};
    if (!dir)
        dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    char path[4096];
    if (snprintf(path, sizeof path, "%s/bp-train-XXXXXX", dir) >= (int)sizeof path)
        return bp_fail(err, BP_ERR_IO, UINT64_MAX, "%s: temporary directory path too long", dir);
    sp->fd = mkstemp(path);
    if (sp->fd < 0)
        return bp_fail_errno(err, BP_ERR_IO, errno, "cannot create a temporary file in %s", dir);
    unlink(path); /* the file lives as long as the descriptor: nothing is ever left behind */
    sp->wcap = SPOOL_FIRST_BUFFER;
    sp->wbuf = malloc(sp->wcap);
    sp->block_off = malloc(16 * sizeof *sp->block_off);
    if (!sp->wbuf || !sp->block_off)
        return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory");
    sp->blocks_cap = 16;
    sp->block_off[0] = 0;
    return BP_OK;
}

bp_status bp_spool_flush(bp_spool *sp, bp_error *err)
{
    if (sp->wlen == 0)
        return BP_OK;
    for (size_t done = 0; done < sp->wlen;) {
        ssize_t w = write(sp->fd, sp->wbuf + done, sp->wlen - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return bp_fail_errno(err, BP_ERR_IO, w < 0 ? errno : ENOSPC,
                                 "cannot write the temporary corpus file");
        done += (size_t)w;
    }
    uint64_t *b = bp_grow(sp->block_off, &sp->blocks_cap, sp->n_blocks + 2, sizeof *b);
    if (!b)
        return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory");
    sp->block_off = b;
    sp->size += sp->wlen;
    sp->block_off[++sp->n_blocks] = sp->size;
    if (sp->wlen > sp->max_block)
        sp->max_block = sp->wlen;
    sp->wlen = 0;
    return BP_OK;
}

bp_status bp_spool_append(bp_spool *sp, const unsigned char *chunk, size_t len, bp_error *err)
{
    if (len + 4 > SPOOL_BLOCK)
        return bp_fail(err, BP_ERR_TOO_LARGE, UINT64_MAX, "a chunk of %zu bytes", len);
    if (sp->wlen + 4 + len > SPOOL_BLOCK) {
        bp_status st = bp_spool_flush(sp, err);
        if (st != BP_OK)
            return st;
    }
    if (sp->wlen + 4 + len > sp->wcap) {
        size_t cap = sp->wcap;
        while (cap < sp->wlen + 4 + len)
            cap *= 2;
        if (cap > SPOOL_BLOCK)
            cap = SPOOL_BLOCK;
        unsigned char *w = realloc(sp->wbuf, cap);
        if (!w)
            return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory");
        sp->wbuf = w;
        sp->wcap = cap;
    }
    uint32_t n = (uint32_t)len;
    unsigned char *p = sp->wbuf + sp->wlen;
    p[0] = (unsigned char)n;
    p[1] = (unsigned char)(n >> 8);
    p[2] = (unsigned char)(n >> 16);
    p[3] = (unsigned char)(n >> 24);
    memcpy(p + 4, chunk, len);
    sp->wlen += 4 + len;
    return BP_OK;
}

void bp_spool_close(bp_spool *sp)
{
    if (sp->fd >= 0)
        close(sp->fd);
    free(sp->wbuf);
    free(sp->block_off);
    *sp = (bp_spool){.fd = -1};
}

/* The work of one pass: blocks are claimed through a shared counter. */
typedef struct pass {
    const bp_spool *sp;
    bp_chunk_fn fn;
    void *ctx;
    const bp_train_options *opts;
    const char *stage;
    atomic_size_t next_block;
    atomic_uint_fast64_t bytes_done;
    atomic_int failed;
    bp_status status;        /* of the first failure, written once under `lock` */
    bp_error error;
    pthread_mutex_t lock;
} pass;

static void pass_fail(pass *p, bp_status st, const bp_error *e)
{
    pthread_mutex_lock(&p->lock);
    if (!atomic_load(&p->failed)) {
        p->status = st;
        p->error = *e;
        atomic_store(&p->failed, 1);
    }
    pthread_mutex_unlock(&p->lock);
}

static bp_status run_block(pass *p, unsigned thread, const unsigned char *buf, size_t len,
                           bp_error *e)
{
    for (size_t pos = 0; pos + 4 <= len;) {
        size_t n = (size_t)buf[pos] | (size_t)buf[pos + 1] << 8 | (size_t)buf[pos + 2] << 16 |
                   (size_t)buf[pos + 3] << 24;
        if (pos + 4 + n > len)
            return bp_fail(e, BP_ERR_IO, UINT64_MAX, "the temporary corpus file is corrupt");
        bp_status st = p->fn(p->ctx, thread, buf + pos + 4, n);
        if (st != BP_OK)
            return bp_fail(e, st, UINT64_MAX, "%s: %s", p->stage, bp_strerror(st));
        pos += 4 + n;
    }
    return BP_OK;
}

static void pass_worker(void *ctx, unsigned thread)
{
    pass *p = ctx;
    unsigned char *buf = malloc(p->sp->max_block ? p->sp->max_block : 1);
    bp_error e;
    if (!buf) {
        bp_fail(&e, BP_ERR_NOMEM, UINT64_MAX, "out of memory");
        pass_fail(p, BP_ERR_NOMEM, &e);
        return;
    }
    while (!atomic_load(&p->failed)) {
        size_t k = atomic_fetch_add(&p->next_block, 1);
        if (k >= p->sp->n_blocks)
            break;
        uint64_t off = p->sp->block_off[k];
        size_t len = (size_t)(p->sp->block_off[k + 1] - off), got = 0;
        while (got < len) {
            ssize_t r = pread(p->sp->fd, buf + got, len - got, (off_t)(off + got));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                bp_fail_errno(&e, BP_ERR_IO, r < 0 ? errno : EIO,
                              "cannot read the temporary corpus file");
                pass_fail(p, BP_ERR_IO, &e);
                free(buf);
                return;
            }
            got += (size_t)r;
        }
        bp_status st = run_block(p, thread, buf, len, &e);
        if (st != BP_OK) {
            pass_fail(p, st, &e);
            break;
        }
        uint64_t done = atomic_fetch_add(&p->bytes_done, len) + len;
        if (thread == 0) /* one reporter, so the callback never runs concurrently */
            report_progress(p->opts, p->stage, done, p->sp->size);
    }
    free(buf);
}

bp_status bp_spool_for_each(const bp_spool *sp, unsigned threads, bp_chunk_fn fn, void *ctx,
                            const bp_train_options *o, const char *stage, bp_error *err)
{
    pass p = {.sp = sp, .fn = fn, .ctx = ctx, .opts = o, .stage = stage, .status = BP_OK};
    atomic_init(&p.next_block, 0);
    atomic_init(&p.bytes_done, 0);
    atomic_init(&p.failed, 0);
    pthread_mutex_init(&p.lock, NULL);
    /* A block is the unit of work: more threads than blocks would only be started to
     * find nothing to do (a small corpus is one block). */
    bp_parallel_for(bp_thread_count(threads, sp->n_blocks, 1), pass_worker, &p);
    pthread_mutex_destroy(&p.lock);
    if (p.status != BP_OK && err)
        *err = p.error;
    return p.status;
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
    if (o->order < 1 || o->order > BP_MAX_ORDER)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX,
                       "order %u is not supported (1 .. %d)", o->order, BP_MAX_ORDER);
    if (o->min_count < 1 || o->max_piece_length < 1)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX,
                       "min_count and max_piece_length must be at least 1");
    bp_trainer *t = calloc(1, sizeof *t);
    if (!t)
        return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory");
    t->opts = *o;
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
 * (levels 1 and 2 of §3.1 need no pass of their own). */
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
    report_progress(&t->opts, "reading", t->counts.positions, 0);
    return chunker_status(t, st, err);
}

bp_status bp_trainer_end_text(bp_trainer *t, bp_error *err)
{
    if (!t || t->trained)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "bp_trainer_end_text: invalid call");
    return chunker_status(t, bp_chunker_end_text(t->chunker, ingest_chunk, t, err), err);
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

/* Ends a stage: adds its time to *seconds and starts the clock for the next one. */
static void end_stage(bp_trainer *t, double *seconds)
{
    double now = now_seconds();
    *seconds += now - t->started;
    t->started = now;
}

bp_status bp_trainer_train(bp_trainer *t, const size_t *vocab_sizes, size_t n_sizes,
                           bp_model **models, bp_error *err)
{
    if (!t || !vocab_sizes || !n_sizes || !models || t->trained)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "bp_trainer_train: invalid call");
    for (size_t i = 0; i < n_sizes; i++) {
        models[i] = NULL;
        if (vocab_sizes[i] < 256 + BP_N_SPECIAL)
            return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX,
                           "vocabulary size %zu is too small (at least 259: 256 bytes + 3 specials)",
                           vocab_sizes[i]);
    }
    t->trained = true;
    bp_status st = chunker_status(t, bp_chunker_end_text(t->chunker, ingest_chunk, t, err), err);
    if (st == BP_OK)
        st = bp_spool_flush(&t->spool, err);
    t->stats.bytes = t->counts.positions;
    t->stats.skipped_lines = bp_chunker_skipped_lines(t->chunker);
    end_stage(t, &t->stats.seconds_reading);
    if (st != BP_OK)
        return st;
    if (t->counts.positions == 0)
        return bp_fail(err, BP_ERR_EMPTY_CORPUS, UINT64_MAX,
                       "the training corpus is empty (no text to learn from)");

    bp_ngram_model lm = {0};
    st = bp_ngram_build(&lm, &t->spool, &t->counts, &t->opts, t->threads, err);
    t->stats.ngrams = lm.n_kept;
    bp_byte_counts_free(&t->counts);
    end_stage(t, &t->stats.seconds_counting);
    bp_piece_table pieces = {0};
    if (st == BP_OK)
        st = bp_count_pieces(&lm, &t->spool, &t->opts, t->threads, &pieces, err);
    bp_ngram_free(&lm);
    t->stats.distinct_pieces = pieces.n;
    end_stage(t, &t->stats.seconds_segmenting);
    if (st == BP_OK)
        st = bp_prune_pieces(&pieces, &t->opts, t->threads, vocab_sizes, n_sizes, models, err);
    bp_piece_table_free(&pieces);
    end_stage(t, &t->stats.seconds_pruning);
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
