/*
 * encode.c -- the public encode calls: normalization, chunking, the per-thread
 * scratch (bp_encoder) that makes steady-state encoding allocation-free, and batch
 * encoding over threads.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bp_internal.h"

struct bp_encoder {
    const bp_model *model;
    bp_nfc_buffer nfc;
    const unsigned char *text; /* what the last call segmented: nfc.out or the caller's bytes */
    size_t text_len;
    bp_lattice lat;            /* O(longest chunk), reused: no allocation in steady state */
};

bp_status bp_encoder_create(const bp_model *model, bp_encoder **out, bp_error *err)
{
    if (out)
        *out = NULL;
    if (!out || !model)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "bp_encoder_create: %s is NULL",
                       out ? "model" : "out");
    bp_encoder *enc = calloc(1, sizeof *enc);
    if (!enc)
        return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory creating an encoder");
    enc->model = model;
    *out = enc;
    return BP_OK;
}

void bp_encoder_free(bp_encoder *enc)
{
    if (!enc)
        return;
    bp_nfc_buffer_free(&enc->nfc);
    bp_lattice_free(&enc->lat);
    free(enc);
}

size_t bp_encode_bound(size_t text_len)
{
    /* NFC grows UTF-8 text by at most a factor of 3; each byte gives at most one token. */
    if (text_len > (SIZE_MAX - 2) / 3)
        return SIZE_MAX;
    return 3 * text_len + 2;
}

const unsigned char *bp_encoder_normalized(const bp_encoder *enc, size_t *len)
{
    if (len)
        *len = enc ? enc->text_len : 0;
    return enc ? enc->text : NULL;
}

/* Whether text[0..len) is all ASCII, 8 bytes at a time. ASCII text is its own NFC. */
static bool is_ascii(const unsigned char *text, size_t len)
{
    uint64_t acc = 0;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t word;
        memcpy(&word, text + i, sizeof word);
        acc |= word;
    }
    for (; i < len; i++)
        acc |= text[i];
    return (acc & UINT64_C(0x8080808080808080)) == 0;
}

/* Normalizes (or not) the text into enc->text / enc->text_len. */
static bp_status prepare_text(bp_encoder *enc, const unsigned char *text, size_t len,
                              unsigned flags)
{
    if ((flags & BP_ENCODE_NO_NORMALIZE) || is_ascii(text, len)) {
        enc->text = text;
        enc->text_len = len;
        return BP_OK;
    }
    bp_status st = bp_nfc(&enc->nfc, text, len);
    if (st != BP_OK)
        return st;
    enc->text = enc->nfc.out;
    enc->text_len = enc->nfc.len;
    return BP_OK;
}

bp_status bp_encoder_prepare(bp_encoder *enc, const void *text, size_t len, unsigned flags,
                             const bp_model **model, const unsigned char **x, size_t *x_len)
{
    bp_status st = prepare_text(enc, text, len, flags);
    *model = enc->model;
    *x = enc->text;
    *x_len = enc->text_len;
    return st;
}

/* The output of one call: ids go straight to the caller's buffer while they fit; past
 * that, tokens are only counted. */
typedef struct sink {
    uint32_t *ids;
    size_t *offsets;
    size_t cap, n;
} sink;

static void put_special(sink *out, uint32_t id, size_t offset)
{
    if (out->n < out->cap) {
        out->ids[out->n] = id;
        if (out->offsets)
            out->offsets[out->n] = offset;
    }
    out->n++;
}

/* Segments enc->text chunk by chunk into `out`: the best segmentation for alpha < 0, else a
 * sample drawn with `rng` (the lattice's convention). */
static bp_status segment_chunks(bp_encoder *enc, double alpha, bp_rng *rng, sink *out)
{
    const bp_model *m = enc->model;
    const unsigned char *x = enc->text;
    size_t len = enc->text_len;
    if (alpha >= 0 && !bp_rng_is_glibc(rng)) {
        bp_status st = bp_lattice_set_alpha(&enc->lat, m, alpha);
        if (st != BP_OK)
            return st;
    }
    for (size_t pos = 0; pos < len;) {
        size_t chunk = bp_chunk_len(x + pos, len - pos);
        bp_status st = bp_lattice_reserve_for(&enc->lat, m, chunk);
        if (st != BP_OK)
            return st;
        bp_lattice_forward(m, &enc->lat, x + pos, chunk, alpha, rng);
        size_t room = out->n <= out->cap ? out->cap - out->n : 0, n;
        if (room >= chunk) { /* the common case: one pass from the end, then move down */
            uint32_t *ids = out->ids + out->n;
            size_t *offsets = out->offsets ? out->offsets + out->n : NULL;
            n = bp_lattice_emit_backward(m, &enc->lat, chunk, ids + chunk,
                                         offsets ? offsets + chunk : NULL, pos);
            memmove(ids, ids + chunk - n, n * sizeof *ids);
            if (offsets)
                memmove(offsets, offsets + chunk - n, n * sizeof *offsets);
        } else {
            n = bp_lattice_count(m, &enc->lat, chunk);
            if (n <= room)
                bp_lattice_emit(m, &enc->lat, chunk, n, out->ids + out->n,
                                out->offsets ? out->offsets + out->n : NULL, pos);
            else
                out->cap = 0; /* once a chunk does not fit, nothing more is written */
        }
        out->n += n;
        pos += chunk;
    }
    return BP_OK;
}

/* Checks the sampling part of `o` (nothing to check without BP_ENCODE_SAMPLE). */
static bp_status check_sampling(const bp_encode_options *o, bool have_rng, bp_error *err)
{
    if (!(o->flags & BP_ENCODE_SAMPLE))
        return BP_OK;
    if (!(o->alpha >= 0)) /* also NaN */
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX,
                       "sampling needs an alpha >= 0 (got %g)", o->alpha);
    if (!have_rng)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "sampling needs a bp_rng");
    return BP_OK;
}

bp_status bp_encode(bp_encoder *enc, const void *text, size_t len, const bp_encode_options *opts,
                    uint32_t *ids, size_t *offsets, size_t cap, size_t *n_ids, bp_error *err)
{
    static const bp_encode_options defaults = {0};
    const bp_encode_options *o = opts ? opts : &defaults;
    if (!enc || !n_ids || (!ids && cap) || (!text && len))
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX,
                       "bp_encode: %s", !enc ? "enc is NULL" : !n_ids ? "n_ids is NULL"
                                        : !text && len ? "text is NULL" : "ids is NULL");
    bp_status st = check_sampling(o, o->rng != NULL, err);
    if (st != BP_OK)
        return st;
    bool sample = o->flags & BP_ENCODE_SAMPLE;
    if ((st = prepare_text(enc, text, len, o->flags)) != BP_OK)
        return bp_fail(err, st, UINT64_MAX, "normalizing %zu bytes: %s", len, bp_strerror(st));
    size_t given_cap = cap;
    sink out = {ids, offsets, cap, 0};
    if (o->flags & BP_ENCODE_BOS)
        put_special(&out, BP_ID_BOS, 0);
    st = segment_chunks(enc, sample ? o->alpha : -1.0, sample ? o->rng : NULL, &out);
    if (st != BP_OK)
        return bp_fail(err, st, UINT64_MAX, "segmenting %zu bytes: %s", len, bp_strerror(st));
    if (o->flags & BP_ENCODE_EOS)
        put_special(&out, BP_ID_EOS, enc->text_len);
    *n_ids = out.n;
    if (out.n > given_cap)
        return bp_fail(err, BP_ERR_BUFFER_TOO_SMALL, UINT64_MAX,
                       "bp_encode: %zu ids need room, the buffer holds %zu", out.n, given_cap);
    return BP_OK;
}

/*====== Batch encoding ======*/

/* The texts are cut into jobs of consecutive texts, about JOB_BYTES of input each. Two
 * phases run on the threads, each taking jobs in turn: encoding, where a job's ids go to
 * the job's own buffer (reserved at one id per byte, so it rarely grows), and joining,
 * where they are copied to their place in the result, whose offsets are known only once
 * every job is encoded. Joining in parallel matters: the result is fresh memory, and
 * touching it for the first time costs about as much as writing it.
 * Text i draws from stream first_stream + i of the seed, so the result does not depend on
 * the number of threads. Less input than MIN_THREADED_BYTES is encoded by the calling
 * thread alone. */
enum { JOB_BYTES = 1 << 18, MIN_THREADED_BYTES = 1 << 19, MAX_BATCH_THREADS = 256 };

typedef struct batch_job {
    size_t lo, hi;      /* texts lo .. hi-1 */
    size_t room;        /* ids reserved: one per byte, plus <bos> and <eos> per text */
    uint32_t *ids;
    size_t n_ids, cap;
    size_t *counts;     /* ids of each text */
    size_t out_begin;   /* where the job's ids go in the result */
} batch_job;

typedef enum batch_phase { PHASE_ENCODE, PHASE_JOIN } batch_phase;

typedef struct batch_run {
    const bp_model *model;
    const void *const *texts;
    const size_t *lens;
    const bp_batch_options *opts;
    bp_batch *out;
    batch_job *jobs;
    size_t n_jobs;
    batch_phase phase;
    pthread_mutex_t lock;
    size_t next_job;
    bp_status status;   /* the first failure, BP_OK if none */
} batch_run;

static bp_status grow_ids(batch_job *job, size_t need)
{
    if (need > SIZE_MAX / sizeof *job->ids)
        return BP_ERR_TOO_LARGE;
    uint32_t *ids = bp_grow(job->ids, &job->cap, need, sizeof *ids);
    if (!ids)
        return BP_ERR_NOMEM;
    job->ids = ids;
    return BP_OK;
}

static bp_status encode_job(batch_run *run, bp_encoder *enc, batch_job *job)
{
    const bp_batch_options *o = run->opts;
    bp_rng rng;
    bp_encode_options eo = {o->alpha, o->flags, (o->flags & BP_ENCODE_SAMPLE) ? &rng : NULL};
    job->counts = malloc((job->hi - job->lo) * sizeof *job->counts);
    if (!job->counts)
        return BP_ERR_NOMEM;
    bp_status st = grow_ids(job, job->room);
    if (st != BP_OK)
        return st;
    for (size_t i = job->lo; i < job->hi; i++) {
        size_t len = run->lens[i], n;
        if (len > SIZE_MAX - job->n_ids - 2)
            return BP_ERR_TOO_LARGE;
        size_t room = len + 2; /* one id per byte, <bos> and <eos> */
        do { /* a second round only when NFC lengthened the text, with the room it said */
            if ((st = grow_ids(job, job->n_ids + room)) != BP_OK)
                return st;
            if (eo.rng)
                bp_rng_seed(&rng, o->seed, o->first_stream + i);
            st = bp_encode(enc, run->texts[i], len, &eo, job->ids + job->n_ids, NULL,
                           job->cap - job->n_ids, &n, NULL);
            room = n;
        } while (st == BP_ERR_BUFFER_TOO_SMALL);
        if (st != BP_OK)
            return st;
        job->counts[i - job->lo] = n;
        job->n_ids += n;
    }
    return BP_OK;
}

/* Copies a job's ids to their place in the result and frees its buffer. */
static void join_job(batch_run *run, batch_job *job)
{
    bp_batch *out = run->out;
    memcpy(out->ids + job->out_begin, job->ids, job->n_ids * sizeof *job->ids);
    size_t k = job->out_begin;
    for (size_t i = job->lo; i < job->hi; i++) {
        out->ids_begin[i] = k;
        k += job->counts[i - job->lo];
    }
    free(job->ids);
    job->ids = NULL;
}

static void *batch_worker(void *arg)
{
    batch_run *run = arg;
    bp_encoder *enc = NULL;
    bp_status st = run->phase == PHASE_ENCODE ? bp_encoder_create(run->model, &enc, NULL) : BP_OK;
    for (;;) {
        pthread_mutex_lock(&run->lock);
        if (st != BP_OK && run->status == BP_OK)
            run->status = st;
        size_t j = run->status == BP_OK && run->next_job < run->n_jobs ? run->next_job++
                                                                         : SIZE_MAX;
        pthread_mutex_unlock(&run->lock);
        if (j == SIZE_MAX)
            break;
        if (run->phase == PHASE_ENCODE)
            st = encode_job(run, enc, &run->jobs[j]);
        else
            join_job(run, &run->jobs[j]);
    }
    bp_encoder_free(enc);
    return NULL;
}

/* Runs one phase over all jobs on `threads` threads, the calling thread among them. */
static bp_status run_phase(batch_run *run, batch_phase phase, unsigned threads)
{
    run->phase = phase;
    run->next_job = 0;
    pthread_t tids[MAX_BATCH_THREADS];
    unsigned started = 0;
    for (unsigned t = 1; t < threads; t++)
        if (pthread_create(&tids[started], NULL, batch_worker, run) == 0)
            started++;
    batch_worker(run);
    for (unsigned t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
    return run->status;
}

static unsigned default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > MAX_BATCH_THREADS ? MAX_BATCH_THREADS : (unsigned)n;
}

/* Cuts texts into jobs (a new array in *jobs, which the caller frees, also on failure). */
static bp_status plan_jobs(const size_t *lens, size_t n_texts, batch_job **jobs, size_t *n_jobs,
                           size_t *total_bytes)
{
    size_t cap = 0;
    for (size_t lo = 0; lo < n_texts;) {
        size_t bytes = 0, room = 0, hi = lo;
        while (hi < n_texts && (hi == lo || bytes < JOB_BYTES)) {
            if (lens[hi] > SIZE_MAX / sizeof(uint32_t) - 2 - room)
                return BP_ERR_TOO_LARGE;
            bytes += lens[hi];
            room += lens[hi++] + 2;
        }
        batch_job *grown = bp_grow(*jobs, &cap, *n_jobs + 1, sizeof *grown);
        if (!grown)
            return BP_ERR_NOMEM;
        *jobs = grown;
        (*jobs)[(*n_jobs)++] = (batch_job){.lo = lo, .hi = hi, .room = room};
        *total_bytes += bytes;
        lo = hi;
    }
    return BP_OK;
}

bp_status bp_encode_batch(const bp_model *model, const void *const *texts, const size_t *lens,
                          size_t n_texts, const bp_batch_options *opts, bp_batch *out,
                          bp_error *err)
{
    static const bp_batch_options defaults = {0};
    if (!opts)
        opts = &defaults;
    if (out)
        *out = (bp_batch){0};
    if (!out || !model || (n_texts && (!texts || !lens)))
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "bp_encode_batch: %s is NULL",
                       !out ? "out" : !model ? "model" : !texts ? "texts" : "lens");
    for (size_t i = 0; i < n_texts; i++)
        if (!texts[i] && lens[i])
            return bp_fail(err, BP_ERR_INVALID_ARG, i, "bp_encode_batch: text %zu is NULL", i);
    bp_encode_options sampling = {opts->alpha, opts->flags, NULL};
    bp_status st = check_sampling(&sampling, true, err);
    if (st != BP_OK)
        return st;
    out->ids_begin = calloc(n_texts + 1, sizeof *out->ids_begin);
    if (!out->ids_begin)
        return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory encoding a batch");
    out->n_texts = n_texts;
    batch_run run = {.model = model, .texts = texts, .lens = lens, .opts = opts, .out = out};
    size_t total_bytes = 0;
    st = plan_jobs(lens, n_texts, &run.jobs, &run.n_jobs, &total_bytes);
    unsigned threads = opts->threads ? opts->threads : default_threads();
    if (threads > MAX_BATCH_THREADS)
        threads = MAX_BATCH_THREADS;
    if (threads > run.n_jobs)
        threads = run.n_jobs ? (unsigned)run.n_jobs : 1;
    if (total_bytes < MIN_THREADED_BYTES)
        threads = 1;
    pthread_mutex_init(&run.lock, NULL);
    if (st == BP_OK)
        st = run_phase(&run, PHASE_ENCODE, threads);
    size_t n_ids = 0;
    for (size_t j = 0; j < run.n_jobs && st == BP_OK; j++) {
        run.jobs[j].out_begin = n_ids;
        n_ids += run.jobs[j].n_ids;
    }
    if (st == BP_OK && !(out->ids = malloc((n_ids ? n_ids : 1) * sizeof *out->ids)))
        st = BP_ERR_NOMEM;
    if (st == BP_OK)
        st = run_phase(&run, PHASE_JOIN, threads);
    pthread_mutex_destroy(&run.lock);
    out->ids_begin[n_texts] = n_ids;
    for (size_t j = 0; j < run.n_jobs; j++) {
        free(run.jobs[j].ids); /* NULL once joined */
        free(run.jobs[j].counts);
    }
    free(run.jobs);
    if (st != BP_OK) {
        bp_batch_free(out);
        return bp_fail(err, st, UINT64_MAX, "encoding a batch of %zu texts: %s", n_texts,
                       bp_strerror(st));
    }
    return BP_OK;
}

void bp_batch_free(bp_batch *batch)
{
    if (!batch)
        return;
    free(batch->ids);
    free(batch->ids_begin);
    *batch = (bp_batch){0};
}
