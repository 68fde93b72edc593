/*
 * encode_blocks.c -- `bp encode --threads N`: the texts (lines, or JSONL documents) are
 * gathered in blocks of about BLOCK_BYTES, always whole texts, and each block is encoded
 * by the library's batch API: N - 1 threads of its own start on it, and this thread joins
 * them in bp_encode_batch_finish() once it has written the output of the previous block
 * and read the next one, so that reading and formatting overlap the encoding and N
 * threads are busy in all. Text k of the run draws from stream k of the seed
 * (the batch's first_stream), so the output is the one-thread output, byte for byte. An
 * input smaller than one block is encoded on this thread alone.
 */
#include <stdlib.h>
#include <string.h>

#include "bp_encode.h"

enum { BLOCK_BYTES = 1 << 20 };

/* Where a run of consecutive texts of a block comes from, for messages. */
typedef struct block_source {
    size_t first;    /* the text of the block that starts the run */
    text_source src; /* where that text comes from; the next ones follow it line by line */
} block_source;

typedef struct block {
    unsigned char *bytes;  /* the texts, one after another */
    size_t len, cap;
    size_t *lens;          /* of each text */
    const void **texts;    /* where each text starts, once the block is full */
    size_t n_texts, lens_cap, texts_cap;
    block_source *sources;
    size_t n_sources, sources_cap;
    uint64_t first_text;   /* the index in the run of text 0 */
} block;

typedef struct pipeline {
    bp_batch_job *job;     /* the library's, which encodes one block at a time */
    const bp_model *model;
    const encode_formats *fmt;
    bp_batch_options opts;
    output *out;
    block blocks[2];
    block *filling;        /* the block that receives the texts read */
    block *encoding;       /* the block the library is encoding, or NULL */
    uint64_t texts_read;
    bool stopped;          /* a failure of the pipeline was reported: nothing more is written */
} pipeline;

static void add_source(block *b, const text_source *src)
{
    if (b->n_sources > 0) {
        const block_source *last = &b->sources[b->n_sources - 1];
        if (last->src.name == src->name &&
            last->src.line_no + (b->n_texts - last->first) == src->line_no)
            return;
    }
    reserve_array(&b->sources, &b->sources_cap, b->n_sources + 1, sizeof *b->sources);
    b->sources[b->n_sources++] = (block_source){.first = b->n_texts, .src = *src};
}

/* Reports the failure `st` of text `i` of block `b` (any text, when i is out of range). */
static int report_failure(const block *b, bp_status st, uint64_t i)
{
    const block_source *at = NULL;
    for (size_t s = 0; s < b->n_sources && b->sources[s].first <= i; s++)
        at = &b->sources[s];
    if (at == NULL || i >= b->n_texts) {
        report("%s", bp_strerror(st));
        return 1;
    }
    text_source src = at->src;
    src.line_no += i - at->first;
    report_at(&src, "%s", bp_strerror(st));
    return 1;
}

/* Points b->texts at the texts, now that b->bytes no longer moves. */
static void point_at_texts(block *b)
{
    reserve_array(&b->texts, &b->texts_cap, b->n_texts, sizeof *b->texts);
    for (size_t i = 0, start = 0; i < b->n_texts; start += b->lens[i++])
        b->texts[i] = b->bytes + start;
}

static void write_block(pipeline *pl, const bp_batch *result)
{
    for (size_t i = 0; i < result->n_texts; i++) {
        size_t begin = result->ids_begin[i];
        write_encoded(pl->out, pl->fmt, pl->model, result->ids + begin,
                      result->offsets ? result->offsets + begin : NULL,
                      result->ids_begin[i + 1] - begin);
    }
}

static void empty_block(block *b)
{
    b->len = b->n_texts = b->n_sources = 0;
}

/* Waits for the block the library is encoding and takes its result. @return 0, or 1
 * after a message. */
static int collect(pipeline *pl, bp_batch *result)
{
    block *b = pl->encoding;
    pl->encoding = NULL;
    bp_error err;
    bp_status st = bp_encode_batch_finish(pl->job, result, &err);
    return st == BP_OK ? 0 : report_failure(b, st, err.offset);
}

/* Has the library start on the filled block, then writes the block it had before.
 * @return 0, or 1 after a failure (reported, or a write error left in the output). */
static int hand_over(pipeline *pl)
{
    block *b = pl->filling, *prev = pl->encoding;
    bp_batch result = {0};
    int failed = prev ? collect(pl, &result) : 0;
    if (!failed) {
        point_at_texts(b);
        pl->opts.first_stream = b->first_text;
        bp_error err;
        bp_status st = bp_encode_batch_start(pl->job, b->texts, b->lens, b->n_texts, &pl->opts,
                                             &err);
        failed = st == BP_OK ? 0 : report_failure(b, st, UINT64_MAX);
    }
    if (!failed) {
        pl->encoding = b;
        pl->filling = b == &pl->blocks[0] ? &pl->blocks[1] : &pl->blocks[0];
        pl->filling->first_text = pl->texts_read;
    }
    if (prev) { /* what was encoded is written, also when the next block failed to start */
        write_block(pl, &result);
        bp_batch_free(&result);
        empty_block(prev);
    }
    return failed || pl->out->write_errno != 0;
}

/* Receives each text from the readers of cli_input.c. */
static int add_text(void *ctx, const text_source *src, const unsigned char *text, size_t len)
{
    pipeline *pl = ctx;
    block *b = pl->filling;
    add_source(b, src);
    reserve_array(&b->bytes, &b->cap, b->len + len, 1);
    if (len > 0)
        memcpy(b->bytes + b->len, text, len);
    b->len += len;
    reserve_array(&b->lens, &b->lens_cap, b->n_texts + 1, sizeof *b->lens);
    b->lens[b->n_texts++] = len;
    pl->texts_read++;
    if (b->len >= BLOCK_BYTES)
        pl->stopped = hand_over(pl) != 0;
    return pl->stopped;
}

/* Encodes and writes the texts still unwritten: those of the block being filled, and the
 * one the library has. A first block that is also the last is less than a block's worth
 * of input: it is encoded on this thread. @return 0, or 1 after a failure. */
static int drain(pipeline *pl)
{
    int failed = 0;
    if (pl->filling->n_texts > 0 && pl->encoding == NULL) {
        block *b = pl->filling;
        point_at_texts(b);
        pl->opts.threads = 1;
        pl->opts.first_stream = b->first_text;
        bp_batch result;
        bp_error err;
        bp_status st = bp_encode_batch(pl->model, b->texts, b->lens, b->n_texts, &pl->opts,
                                       &result, &err);
        failed = st == BP_OK ? 0 : report_failure(b, st, err.offset);
        write_block(pl, &result);
        bp_batch_free(&result);
        return failed;
    }
    if (pl->filling->n_texts > 0)
        failed = hand_over(pl);
    if (pl->encoding != NULL) {
        bp_batch result = {0};
        failed |= collect(pl, &result);
        write_block(pl, &result);
        bp_batch_free(&result);
    }
    return failed;
}

static void free_block(block *b)
{
    free(b->bytes);
    free(b->lens);
    free(b->texts);
    free(b->sources);
}

int encode_in_blocks(const encode_args *args, const bp_model *model, uint64_t seed,
                     char **paths, int n_paths, unsigned n_threads, output *out)
{
    unsigned flags = args->flags | (args->fmt.offsets ? BP_ENCODE_OFFSETS : 0) |
                     (args->alpha >= 0 ? BP_ENCODE_SAMPLE : 0);
    pipeline pl = {.model = model, .fmt = &args->fmt, .out = out,
                   .opts = {.alpha = args->alpha, .flags = flags, .seed = seed,
                            .threads = n_threads > 1 ? n_threads - 1 : 1}};
    pl.filling = &pl.blocks[0];
    pl.texts_read = pl.filling->first_text = args->first_text;
    bp_error err;
    if (bp_batch_job_create(model, &pl.job, &err) != BP_OK) {
        report("%s", err.message);
        return 1;
    }
    int rc = args->fmt.jsonl_input
                 ? process_jsonl_inputs(paths, n_paths, args->fmt.field,
                                        args->fmt.input_flags, add_text, &pl)
                 : process_inputs(paths, n_paths, false, add_text, &pl);
    /* After a read failure the texts read before it are still written, as on one thread;
     * after a failure of the pipeline, nothing more is (freeing the job drops its batch). */
    rc |= pl.stopped ? 1 : drain(&pl);
    bp_batch_job_free(pl.job);
    free_block(&pl.blocks[0]);
    free_block(&pl.blocks[1]);
    return rc;
}
