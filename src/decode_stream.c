/*
 * decode_stream.c -- decoding ids as they arrive (bp_stream_decoder): the bytes of each
 * call, minus an unfinished UTF-8 character at the end, which is held until a later id
 * finishes it, so that a caller printing every chunk never prints half a character.
 *
 * Only a sequence that can still become a well-formed character is held (at most 3
 * bytes, a lead byte and its continuations so far); every other byte is released at
 * once, so invalid UTF-8 passes through unchanged and never stalls the output. The
 * concatenation of all chunks and the final flush is exactly bp_decode() of the ids.
 */
#include <stdlib.h>
#include <string.h>

#include "bp_internal.h"

#define MAX_HELD 3 /* a 4-byte character less its last byte */

struct bp_stream_decoder {
    const bp_model *model;
    unsigned char held[MAX_HELD]; /* the unfinished character at the end of the stream */
    size_t n_held;
    uint64_t ids_seen;            /* since creation or the last flush: positions in messages */
};

bp_status bp_stream_decoder_create(const bp_model *model, bp_stream_decoder **out, bp_error *err)
{
    if (!out)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX,
                       "bp_stream_decoder_create: invalid argument");
    *out = NULL;
    if (!model)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX,
                       "bp_stream_decoder_create: invalid argument");
    bp_stream_decoder *dec = calloc(1, sizeof *dec);
    if (!dec)
        return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "bp_stream_decoder_create: out of memory");
    dec->model = model;
    *out = dec;
    return BP_OK;
}

void bp_stream_decoder_free(bp_stream_decoder *dec) { free(dec); }

/* Keeps in tail[0..*n) the last (up to MAX_HELD) bytes of the stream after bytes[0..len). */
static void follow_tail(unsigned char *tail, size_t *n, const unsigned char *bytes, size_t len)
{
    if (len >= MAX_HELD) {
        memcpy(tail, bytes + len - MAX_HELD, MAX_HELD);
        *n = MAX_HELD;
        return;
    }
    size_t keep = *n + len > MAX_HELD ? MAX_HELD - len : *n;
    memmove(tail, tail + *n - keep, keep);
    memcpy(tail + keep, bytes, len);
    *n = keep + len;
}

/* The number of bytes at the end of tail[0..n) (n <= MAX_HELD) that start a well-formed
 * UTF-8 sequence without finishing it: what a later byte may still complete. */
static size_t unfinished_len(const unsigned char *tail, size_t n)
{
    for (size_t k = 1; k <= n; k++) {
        unsigned char lead = tail[n - k];
        if (lead >= 0x80 && lead < 0xC0)
            continue; /* a continuation byte: its lead, if any, is further back */
        if (lead < 0xC2 || lead > 0xF4)
            return 0; /* ASCII, or a byte that starts no well-formed sequence */
        size_t need = lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
        if (k >= need)
            return 0; /* complete, or followed by too many continuations */
        if (k == 1)
            return 1; /* every lead C2..F4 has continuations that finish it */
        /* Only the second byte's range depends on the lead (Unicode Table 3-7): the bytes
         * so far can be finished iff they are when padded with the continuation 0x80. */
        unsigned char probe[4] = {0x80, 0x80, 0x80, 0x80};
        memcpy(probe, tail + n - k, k);
        int32_t cp;
        return bp_utf8_decode(probe, need, &cp) == need ? k : 0;
    }
    return 0;
}

/* Appends bytes[0..len) to the stream: to out while *written < ready, then to the held
 * sequence (the first pass made sure that it fits). */
static void put_bytes(bp_stream_decoder *dec, unsigned char *out, size_t ready, size_t *written,
                      const unsigned char *bytes, size_t len)
{
    size_t to_out = len <= ready - *written ? len : ready - *written;
    if (to_out > 0)
        memcpy(out + *written, bytes, to_out); /* out may be NULL when nothing is ready */
    *written += to_out;
    memcpy(dec->held + dec->n_held, bytes + to_out, len - to_out);
    dec->n_held += len - to_out;
}

bp_status bp_stream_decode(bp_stream_decoder *dec, const uint32_t *ids, size_t n_ids, void *out,
                           size_t cap, size_t *out_len, bp_error *err)
{
    if (!dec || !out_len || (!ids && n_ids) || (!out && cap))
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "bp_stream_decode: invalid argument");
    const bp_model *m = dec->model;
    /* First pass: check every id and find where the stream will end, so that a failing
     * call changes nothing. */
    unsigned char tail[MAX_HELD];
    size_t tail_len = dec->n_held, total = dec->n_held;
    memcpy(tail, dec->held, dec->n_held);
    for (size_t i = 0; i < n_ids; i++) {
        const unsigned char *bytes;
        size_t len;
        bp_status st = bp_decode_piece(m, ids[i], i, dec->ids_seen + i, &bytes, &len, err);
        if (st != BP_OK)
            return st;
        follow_tail(tail, &tail_len, bytes, len);
        total += len;
    }
    size_t hold = unfinished_len(tail, tail_len), ready = total - hold;
    *out_len = ready;
    if (ready > cap)
        return bp_fail(err, BP_ERR_BUFFER_TOO_SMALL, UINT64_MAX,
                       "bp_stream_decode: %zu bytes need room, the buffer holds %zu", ready, cap);
    /* Second pass: the stream (held bytes, then the pieces) goes to `out` up to `ready`
     * bytes, the rest becomes the new held sequence. */
    unsigned char before[MAX_HELD];
    size_t n_before = dec->n_held, written = 0;
    memcpy(before, dec->held, n_before);
    dec->n_held = 0;
    put_bytes(dec, out, ready, &written, before, n_before);
    for (size_t i = 0; i < n_ids; i++) {
        const unsigned char *bytes;
        size_t len;
        bp_decode_piece(m, ids[i], i, 0, &bytes, &len, NULL); /* checked above */
        put_bytes(dec, out, ready, &written, bytes, len);
    }
    dec->ids_seen += n_ids;
    return BP_OK;
}

bp_status bp_stream_decode_flush(bp_stream_decoder *dec, void *out, size_t cap, size_t *out_len,
                                 bp_error *err)
{
    if (!dec || !out_len || (!out && cap))
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX,
                       "bp_stream_decode_flush: invalid argument");
    *out_len = dec->n_held;
    if (dec->n_held > cap)
        return bp_fail(err, BP_ERR_BUFFER_TOO_SMALL, UINT64_MAX,
                       "bp_stream_decode_flush: %zu bytes need room, the buffer holds %zu",
                       dec->n_held, cap);
    if (dec->n_held > 0) /* out may be NULL when nothing is held */
        memcpy(out, dec->held, dec->n_held);
    dec->n_held = 0;
    dec->ids_seen = 0;
    return BP_OK;
}
