/*
 * encode.c -- the public encode calls: normalization, chunking, the per-thread
 * scratch (bp_encoder) that makes steady-state encoding allocation-free, and batch
 * encoding over threads.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bp_internal.h"
#include "parallel.h"

struct bp_encoder {
    const bp_model *model;
    bp_nfc_buffer nfc;
    const unsigned char *text; /* what the last call segmented: nfc.out or the caller's bytes */
    size_t text_len;
    bp_offset_map map;         /* nfc.out to the caller's bytes, when offsets are asked for */
    bool mapped;               /* whether the last call's offsets go through `map` */
    bp_lattice lat;            /* O(longest chunk), reused: no allocation in steady state */
    bp_byte_buffer joined;     /* with special tokens: what the call segmented */
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
    bp_offset_map_free(&enc->map);
    bp_lattice_free(&enc->lat);
    free(enc->joined.data);
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

/* Normalizes (or not) the text into enc->text / enc->text_len; with `want_map`, also
 * enc->map, for offsets into `text`. */
static bp_status prepare_text(bp_encoder *enc, const unsigned char *text, size_t len,
                              unsigned flags, bool want_map)
{
    enc->mapped = false;
    if ((flags & BP_ENCODE_NO_NORMALIZE) || is_ascii(text, len)) {
        enc->text = text;
        enc->text_len = len;
        return BP_OK;
    }
    enc->mapped = want_map;
    enc->map.n = 0;
    bp_status st = bp_nfc_runs(&enc->nfc, text, len, want_map ? bp_offset_map_add_run : NULL,
                               &enc->map);
    if (st != BP_OK)
        return st;
    enc->text = enc->nfc.out;
    enc->text_len = enc->nfc.len;
    return BP_OK;
}

bp_status bp_encoder_prepare(bp_encoder *enc, const void *text, size_t len, unsigned flags,
                             const bp_model **model, const unsigned char **x, size_t *x_len)
{
    bp_status st = prepare_text(enc, text, len, flags, false);
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

/* Segments enc->text chunk by chunk into `out`, offsets into enc->text: the best
 * segmentation for alpha < 0, else a sample drawn with `rng` (the lattice's convention). */
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

/* One bp_encode() call, for the special-token pass (encode_special.c) to call back. */
typedef struct encode_call {
    bp_encoder *enc;
    unsigned flags;
    double alpha;
    bp_rng *rng;
    sink *out;
} encode_call;

/* Normalizes and segments text[0..len) as a text of its own (a bp_special_encoding's
 * stretch, and the whole text without special tokens); `start` is where the stretch starts
 * in the caller's text, which its tokens' offsets point into. */
static bp_status encode_stretch(void *ctx, const unsigned char *text, size_t len, size_t start,
                                const unsigned char **x, size_t *x_len)
{
    encode_call *call = ctx;
    sink *out = call->out;
    size_t first = out->n;
    bp_status st = prepare_text(call->enc, text, len, call->flags, out->offsets != NULL);
    if (st == BP_OK)
        st = segment_chunks(call->enc, call->alpha, call->rng, out);
    *x = call->enc->text;
    *x_len = call->enc->text_len;
    if (st != BP_OK || !out->offsets || out->n > out->cap) /* no offsets, or not all written */
        return st;
    if (call->enc->mapped)
        bp_offset_map_apply(&call->enc->map, text, len, out->offsets + first, out->n - first);
    if (start > 0)
        for (size_t i = first; i < out->n; i++)
            out->offsets[i] += start;
    return BP_OK;
}

static void encode_token(void *ctx, uint32_t id, size_t offset)
{
    put_special(((encode_call *)ctx)->out, id, offset);
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
    size_t given_cap = cap;
    sink out = {ids, offsets, cap, 0};
    if (o->flags & BP_ENCODE_BOS)
        put_special(&out, BP_ID_BOS, 0);
    encode_call call = {enc, o->flags, sample ? o->alpha : -1.0, sample ? o->rng : NULL, &out};
    if ((o->flags & BP_ENCODE_SPECIAL) && enc->model->special) {
        const bp_special_encoding how = {encode_stretch, encode_token, &call};
        st = bp_encode_with_special(enc->model->special, &how, &enc->joined, text, len,
                                    &enc->text, &enc->text_len);
    } else {
        st = encode_stretch(&call, text, len, 0, &enc->text, &enc->text_len);
    }
    if (st != BP_OK)
        return bp_fail(err, st, UINT64_MAX, "encoding %zu bytes: %s", len, bp_strerror(st));
    if (o->flags & BP_ENCODE_EOS)
        put_special(&out, BP_ID_EOS, len);
    *n_ids = out.n;
    if (out.n > given_cap)
        return bp_fail(err, BP_ERR_BUFFER_TOO_SMALL, UINT64_MAX,
                       "bp_encode: %zu ids need room, the buffer holds %zu", out.n, given_cap);
    return BP_OK;
}

/* Makes room for `need` ids in *ids and, when offsets is not NULL, as many offsets in
 * *offsets: the two arrays share the capacity *cap (an *offsets still NULL is made as
 * large as *ids, for a caller whose earlier texts needed no offsets). */
static bp_status reserve_ids(uint32_t **ids, size_t **offsets, size_t *cap, size_t need)
{
    if (offsets && !*offsets && *cap > 0) {
        size_t none = 0;
        if (!(*offsets = bp_grow(NULL, &none, *cap, sizeof **offsets)))
            return BP_ERR_NOMEM;
    }
    if (need <= *cap)
        return BP_OK;
    size_t ids_cap = *cap, offsets_cap = *cap;
    if (offsets) {
        size_t *grown = bp_grow(*offsets, &offsets_cap, need, sizeof **offsets);
        if (!grown)
            return BP_ERR_NOMEM;
        *offsets = grown;
    }
    uint32_t *grown = bp_grow(*ids, &ids_cap, need, sizeof **ids);
    if (!grown)
        return BP_ERR_NOMEM;
    *ids = grown;
    *cap = offsets && offsets_cap < ids_cap ? offsets_cap : ids_cap;
    return BP_OK;
}

bp_status bp_encode_append(bp_encoder *enc, const void *text, size_t len,
                           const bp_encode_options *opts, uint32_t **ids, size_t **offsets,
                           size_t *cap, size_t *n_ids, bp_error *err)
{
    if (!ids || !cap || !n_ids || *n_ids > *cap)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX,
                       "bp_encode_append: NULL ids, cap or n_ids, or *n_ids > *cap");
    bp_rng *rng = opts && (opts->flags & BP_ENCODE_SAMPLE) ? opts->rng : NULL;
    bp_rng start;
    if (rng)
        start = *rng;
    /* One id per byte plus <bos> and <eos> is enough unless NFC lengthens the text; then
     * a second call gets the room the first one reported, and the random state it had. */
    size_t room = len < SIZE_MAX - 2 ? len + 2 : SIZE_MAX;
    for (;;) {
        if (room > SIZE_MAX - *n_ids)
            return bp_fail(err, BP_ERR_TOO_LARGE, UINT64_MAX,
                           "bp_encode_append: %zu bytes do not fit after %zu ids", len, *n_ids);
        if (reserve_ids(ids, offsets, cap, *n_ids + room) != BP_OK)
            return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory for %zu ids",
                           *n_ids + room);
        size_t n;
        bp_error first;
        bp_status st = bp_encode(enc, text, len, opts, *ids + *n_ids,
                                 offsets ? *offsets + *n_ids : NULL, *cap - *n_ids, &n,
                                 err ? &first : NULL);
        if (st == BP_OK) {
            *n_ids += n;
            return BP_OK;
        }
        if (st != BP_ERR_BUFFER_TOO_SMALL || n <= room) { /* the room cannot be the cause */
            if (err)
                *err = first;
            return st;
        }
        room = n;
        if (rng)
            *rng = start;
    }
}

/*====== Batch encoding ======*/

/* The texts are cut into parts of consecutive texts, about PART_BYTES of input each. Two
 * phases run on the workers, each taking parts in turn: encoding, where a part's ids (and
 * offsets) go to the part's own buffers (reserved at one id per byte, so they rarely
 * grow), and joining, where they are copied to their place in the result, whose positions
 * are known only once every part is encoded. The worker that ends the encoding phase lays
 * out the result; joining in parallel matters because the result is fresh memory, and
 * touching it for the first time costs about as much as writing it. Workers need no
 * caller between the phases, so a batch can run while its caller does other work.
 * A job keeps its scratch from batch to batch: an encoder per worker (whose sampling
 * weights cost an 80k model about 2 ms to compute) and the parts' buffers, so that a
 * stream of batches pays no set-up per batch.
 * Text i draws from stream first_stream + i of the seed, so the result does not depend on
 * the number of threads. Parts are small enough for the threads to end a batch together
 * (the last part is all the others wait for); a thread takes at least THREAD_BYTES of
 * input, so that small batches are encoded by one thread. */
enum { PART_BYTES = 1 << 16, THREAD_BYTES = 1 << 18 };

typedef struct batch_part {
    size_t lo, hi;      /* texts lo .. hi-1 */
    size_t room;        /* ids reserved: one per byte, plus <bos> and <eos> per text */
    size_t n_ids;
    uint32_t *ids;      /* the buffers are kept for the next batch */
    size_t *offsets;    /* used with BP_ENCODE_OFFSETS */
    size_t *counts;     /* ids of each text */
    size_t cap, counts_cap; /* cap: of ids and offsets alike */
    size_t out_begin;   /* where the part's ids go in the result */
} batch_part;

typedef enum batch_phase { PHASE_ENCODE, PHASE_JOIN } batch_phase;

struct bp_batch_job {
    const bp_model *model;
    bp_encoder *encoders[BP_MAX_THREADS]; /* of each worker index, kept across batches */
    batch_part *parts;
    size_t n_parts, parts_cap;
    bool running;            /* started and not yet finished */
    /* The batch: */
    const void *const *texts;
    const size_t *lens;
    bp_batch_options opts;
    bp_batch out;
    unsigned threads;
    pthread_mutex_t lock;    /* guards the fields below while workers run */
    pthread_cond_t encoded;  /* the encoding phase has ended */
    batch_phase phase;
    size_t next_part;
    unsigned encoding;       /* workers encoding a part right now */
    bp_status status;        /* BP_OK, or the failure at text failed_text */
    size_t failed_text;
    bp_team team;            /* the workers of bp_encode_batch_start() */
};

/* Encodes the texts of `part`; on failure, *failed_text is the text that failed. */
static bp_status encode_part(const bp_batch_job *job, bp_encoder *enc, batch_part *part,
                             size_t *failed_text)
{
    const bp_batch_options *o = &job->opts;
    bool offsets = o->flags & BP_ENCODE_OFFSETS;
    bp_rng rng;
    bp_encode_options eo = {o->alpha, o->flags, (o->flags & BP_ENCODE_SAMPLE) ? &rng : NULL};
    size_t **part_offsets = offsets ? &part->offsets : NULL;
    *failed_text = part->lo;
    size_t *counts = bp_grow(part->counts, &part->counts_cap, part->hi - part->lo,
                             sizeof *counts);
    if (!counts)
        return BP_ERR_NOMEM;
    part->counts = counts;
    /* One reservation for the whole part: its texts then rarely grow the buffers. */
    bp_status st = reserve_ids(&part->ids, part_offsets, &part->cap, part->room);
    for (size_t i = part->lo; i < part->hi && st == BP_OK; i++) {
        *failed_text = i;
        if (eo.rng)
            bp_rng_seed(&rng, o->seed, o->first_stream + i);
        size_t before = part->n_ids;
        st = bp_encode_append(enc, job->texts[i], job->lens[i], &eo, &part->ids, part_offsets,
                              &part->cap, &part->n_ids, NULL);
        if (st == BP_OK)
            part->counts[i - part->lo] = part->n_ids - before;
    }
    return st;
}

/* Places each part in the result and allocates it (under job->lock, once every part is
 * encoded). */
static bp_status lay_out_result(bp_batch_job *job)
{
    size_t n_ids = 0;
    for (size_t p = 0; p < job->n_parts; p++) {
        job->parts[p].out_begin = n_ids;
        n_ids += job->parts[p].n_ids;
    }
    job->out.ids_begin[job->out.n_texts] = n_ids;
    size_t n = n_ids ? n_ids : 1;
    if (!(job->out.ids = malloc(n * sizeof *job->out.ids)))
        return BP_ERR_NOMEM;
    if ((job->opts.flags & BP_ENCODE_OFFSETS) &&
        !(job->out.offsets = malloc(n * sizeof *job->out.offsets)))
        return BP_ERR_NOMEM;
    return BP_OK;
}

/* Copies a part's ids to their place in the result. */
static void join_part(bp_batch_job *job, const batch_part *part)
{
    bp_batch *out = &job->out;
    memcpy(out->ids + part->out_begin, part->ids, part->n_ids * sizeof *part->ids);
    if (out->offsets)
        memcpy(out->offsets + part->out_begin, part->offsets,
               part->n_ids * sizeof *part->offsets);
    size_t k = part->out_begin;
    for (size_t i = part->lo; i < part->hi; i++) {
        out->ids_begin[i] = k;
        k += part->counts[i - part->lo];
    }
}

/* Records a failure; the one at the lowest text wins, so that the report does not depend
 * on timing (parts are claimed in order, so every text before it has been tried). */
static void batch_fail(bp_batch_job *job, bp_status st, size_t text)
{
    if (job->status == BP_OK || text < job->failed_text) {
        job->status = st;
        job->failed_text = text;
    }
}

/* One worker: encodes parts while there are any, waits for the others to finish theirs,
 * then joins parts. The worker that sees the encoding end lays out the result. */
static void batch_worker(void *ctx, unsigned worker)
{
    bp_batch_job *job = ctx;
    bp_encoder **enc = &job->encoders[worker]; /* this worker's alone during the batch */
    pthread_mutex_lock(&job->lock);
    for (;;) {
        if (job->phase == PHASE_ENCODE) {
            if (job->status == BP_OK && job->next_part < job->n_parts) {
                batch_part *part = &job->parts[job->next_part++];
                job->encoding++;
                pthread_mutex_unlock(&job->lock);
                size_t failed_text = part->lo;
                bp_status st = *enc ? BP_OK : bp_encoder_create(job->model, enc, NULL);
                if (st == BP_OK)
                    st = encode_part(job, *enc, part, &failed_text);
                pthread_mutex_lock(&job->lock);
                job->encoding--;
                if (st != BP_OK)
                    batch_fail(job, st, failed_text);
            } else if (job->encoding > 0) {
                pthread_cond_wait(&job->encoded, &job->lock);
            } else {
                if (job->status == BP_OK)
                    job->status = lay_out_result(job);
                job->phase = PHASE_JOIN;
                job->next_part = 0;
                pthread_cond_broadcast(&job->encoded);
            }
            continue;
        }
        if (job->status != BP_OK || job->next_part >= job->n_parts)
            break;
        const batch_part *part = &job->parts[job->next_part++];
        pthread_mutex_unlock(&job->lock);
        join_part(job, part);
        pthread_mutex_lock(&job->lock);
    }
    pthread_mutex_unlock(&job->lock);
}

/* Cuts the texts into parts (reusing the buffers of earlier batches). @return the input's
 * total bytes in *total_bytes. */
static bp_status plan_parts(bp_batch_job *job, size_t *total_bytes)
{
    job->n_parts = 0;
    for (size_t lo = 0; lo < job->out.n_texts;) {
        size_t bytes = 0, room = 0, hi = lo;
        while (hi < job->out.n_texts && (hi == lo || bytes < PART_BYTES)) {
            if (job->lens[hi] > SIZE_MAX / sizeof(uint32_t) - 2 - room)
                return BP_ERR_TOO_LARGE;
            bytes += job->lens[hi];
            room += job->lens[hi++] + 2;
        }
        if (job->n_parts == job->parts_cap) {
            size_t old = job->parts_cap;
            batch_part *grown = bp_grow(job->parts, &job->parts_cap, old + 1, sizeof *grown);
            if (!grown)
                return BP_ERR_NOMEM;
            memset(grown + old, 0, (job->parts_cap - old) * sizeof *grown);
            job->parts = grown;
        }
        batch_part *part = &job->parts[job->n_parts++];
        part->lo = lo;
        part->hi = hi;
        part->room = room;
        part->n_ids = 0;
        *total_bytes += bytes;
        lo = hi;
    }
    return BP_OK;
}

/* The checks and the plan of a batch in `job`; no text is read yet. */
static bp_status prepare_batch(bp_batch_job *job, const void *const *texts, const size_t *lens,
                               size_t n_texts, const bp_batch_options *opts, bp_error *err)
{
    static const bp_batch_options defaults = {0};
    if (!opts)
        opts = &defaults;
    if (n_texts && (!texts || !lens))
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "batch encoding: %s is NULL",
                       texts ? "lens" : "texts");
    bp_encode_options sampling = {opts->alpha, opts->flags, NULL};
    bp_status checked = check_sampling(&sampling, true, err);
    if (checked != BP_OK)
        return checked;
    for (size_t i = 0; i < n_texts; i++)
        if (!texts[i] && lens[i])
            return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX,
                           "batch encoding: text %zu is NULL with a length of %zu", i, lens[i]);
    job->texts = texts;
    job->lens = lens;
    job->opts = *opts;
    job->out = (bp_batch){.n_texts = n_texts};
    job->phase = PHASE_ENCODE;
    job->next_part = 0;
    job->status = BP_OK;
    size_t total_bytes = 0;
    bp_status st = (job->out.ids_begin = calloc(n_texts + 1, sizeof *job->out.ids_begin))
                       ? plan_parts(job, &total_bytes)
                       : BP_ERR_NOMEM;
    if (st != BP_OK) {
        bp_batch_free(&job->out);
        return bp_fail(err, st, UINT64_MAX, "batch encoding: %s", bp_strerror(st));
    }
    job->threads = bp_thread_count(opts->threads, total_bytes, THREAD_BYTES);
    return BP_OK;
}

/* Hands the result of the batch just run to *out. */
static bp_status collect_batch(bp_batch_job *job, bp_batch *out, bp_error *err)
{
    bp_status st = job->status;
    if (st == BP_OK)
        *out = job->out;
    else
        bp_batch_free(&job->out);
    job->out = (bp_batch){0};
    if (st != BP_OK) {
        bp_fail(err, st, UINT64_MAX, "batch encoding, text %zu: %s", job->failed_text,
                bp_strerror(st));
        if (err)
            err->offset = job->failed_text;
    }
    return st;
}

bp_status bp_batch_job_create(const bp_model *model, bp_batch_job **out, bp_error *err)
{
    if (!out)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "bp_batch_job_create: out is NULL");
    *out = NULL;
    if (!model)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "bp_batch_job_create: model is NULL");
    bp_batch_job *job = calloc(1, sizeof *job);
    if (!job)
        return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "bp_batch_job_create: out of memory");
    job->model = model;
    pthread_mutex_init(&job->lock, NULL);
    pthread_cond_init(&job->encoded, NULL);
    *out = job;
    return BP_OK;
}

bp_status bp_encode_batch_start(bp_batch_job *job, const void *const *texts, const size_t *lens,
                                size_t n_texts, const bp_batch_options *opts, bp_error *err)
{
    if (!job || job->running)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX,
                       "bp_encode_batch_start: %s", job ? "a batch is running" : "job is NULL");
    bp_status st = prepare_batch(job, texts, lens, n_texts, opts, err);
    if (st != BP_OK)
        return st;
    job->running = true;
    bp_team_start(&job->team, 0, job->threads, batch_worker, job);
    return BP_OK;
}

bp_status bp_encode_batch_finish(bp_batch_job *job, bp_batch *out, bp_error *err)
{
    if (out)
        *out = (bp_batch){0};
    if (!job || !job->running || !out)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "bp_encode_batch_finish: %s",
                       !job ? "job is NULL" : !job->running ? "no batch is running"
                                                            : "out is NULL");
    /* Waiting is idle time: the caller takes parts too, as one more worker (with an
     * encoder of its own), so that the work it did meanwhile costs the batch nothing. */
    if (job->threads < BP_MAX_THREADS)
        batch_worker(job, job->threads);
    bp_team_join(&job->team);
    job->running = false;
    return collect_batch(job, out, err);
}

void bp_batch_job_free(bp_batch_job *job)
{
    if (!job)
        return;
    if (job->running) {
        bp_team_join(&job->team);
        bp_batch_free(&job->out);
    }
    for (unsigned w = 0; w < BP_MAX_THREADS; w++)
        bp_encoder_free(job->encoders[w]);
    for (size_t p = 0; p < job->parts_cap; p++) {
        free(job->parts[p].ids);
        free(job->parts[p].offsets);
        free(job->parts[p].counts);
    }
    free(job->parts);
    pthread_mutex_destroy(&job->lock);
    pthread_cond_destroy(&job->encoded);
    free(job);
}

bp_status bp_encode_batch(const bp_model *model, const void *const *texts, const size_t *lens,
                          size_t n_texts, const bp_batch_options *opts, bp_batch *out,
                          bp_error *err)
{
    if (!out)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "bp_encode_batch: out is NULL");
    *out = (bp_batch){0};
    bp_batch_job *job;
    bp_status st = bp_batch_job_create(model, &job, err);
    if (st == BP_OK)
        st = prepare_batch(job, texts, lens, n_texts, opts, err);
    if (st == BP_OK) {
        bp_parallel_for(job->threads, batch_worker, job);
        st = collect_batch(job, out, err);
    }
    bp_batch_job_free(job);
    return st;
}

void bp_batch_free(bp_batch *batch)
{
    if (!batch)
        return;
    free(batch->ids);
    free(batch->offsets);
    free(batch->ids_begin);
    *batch = (bp_batch){0};
}
