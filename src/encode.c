/*
 * encode.c -- the public encode and decode calls: normalization, chunking, and the
 * per-thread scratch (bp_encoder) that makes steady-state encoding allocation-free.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bp_internal.h"

struct bp_encoder {
    const bp_model *model;
    bp_nfc_buffer nfc;
    const unsigned char *text; /* what the last call segmented: nfc.out or the caller's bytes */
    size_t text_len;
    bp_lattice lat;
    uint32_t *ids;             /* the last call's ids, before they are copied out */
    size_t *starts;
    size_t ids_cap;
};

bp_status bp_encoder_create(const bp_model *model, bp_encoder **out)
{
    if (!out)
        return BP_ERR_INVALID_ARG;
    *out = NULL;
    if (!model)
        return BP_ERR_INVALID_ARG;
    bp_encoder *enc = calloc(1, sizeof *enc);
    if (!enc)
        return BP_ERR_NOMEM;
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
    free(enc->ids);
    free(enc->starts);
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

/* Room for `n` ids (and their starts) in the encoder's own buffers. */
static bp_status reserve_ids(bp_encoder *enc, size_t n)
{
    if (n <= enc->ids_cap)
        return BP_OK;
    size_t cap = n + n / 2 + 64;
    uint32_t *ids = realloc(enc->ids, cap * sizeof *ids);
    if (!ids)
        return BP_ERR_NOMEM;
    enc->ids = ids;
    size_t *starts = realloc(enc->starts, cap * sizeof *starts);
    if (!starts)
        return BP_ERR_NOMEM;
    enc->starts = starts;
    enc->ids_cap = cap;
    return BP_OK;
}

/* Segments enc->text chunk by chunk into enc->ids; returns the count in *n. */
static bp_status segment_chunks(bp_encoder *enc, const bp_encode_options *o, size_t *n)
{
    const unsigned char *x = enc->text;
    size_t len = enc->text_len, k = *n;
    for (size_t pos = 0; pos < len;) {
        size_t chunk = bp_chunk_len(x + pos, len - pos);
        bp_status st = bp_lattice_reserve(&enc->lat, chunk);
        if (st != BP_OK)
            return st;
        k += bp_lattice_segment(enc->model, &enc->lat, x + pos, chunk, o->alpha, o->rng,
                                enc->ids + k, enc->starts + k, pos);
        pos += chunk;
    }
    *n = k;
    return BP_OK;
}

bp_status bp_encode(bp_encoder *enc, const void *text, size_t len, const bp_encode_options *opts,
                    uint32_t *ids, size_t *offsets, size_t cap, size_t *n_ids)
{
    static const bp_encode_options defaults = {-1.0, 0, NULL};
    const bp_encode_options *o = opts ? opts : &defaults;
    if (!enc || !n_ids || (!ids && cap) || (!text && len) || isnan(o->alpha) ||
        (o->alpha >= 0 && !o->rng))
        return BP_ERR_INVALID_ARG;
    if (o->flags & BP_ENCODE_NO_NORMALIZE) {
        enc->text = text;
        enc->text_len = len;
    } else {
        bp_status st = bp_nfc(&enc->nfc, text, len);
        if (st != BP_OK)
            return st;
        enc->text = enc->nfc.out;
        enc->text_len = enc->nfc.len;
    }
    bp_status st = reserve_ids(enc, enc->text_len + 2);
    if (st != BP_OK)
        return st;
    size_t n = 0;
    if (o->flags & BP_ENCODE_BOS) {
        enc->ids[n] = 1;
        enc->starts[n++] = 0;
    }
    st = segment_chunks(enc, o, &n);
    if (st != BP_OK)
        return st;
    if (o->flags & BP_ENCODE_EOS) {
        enc->ids[n] = 2;
        enc->starts[n++] = enc->text_len;
    }
    *n_ids = n;
    if (n > cap)
        return BP_ERR_BUFFER_TOO_SMALL;
    memcpy(ids, enc->ids, n * sizeof *ids);
    if (offsets)
        memcpy(offsets, enc->starts, n * sizeof *offsets);
    return BP_OK;
}

bp_status bp_decode(const bp_model *model, const uint32_t *ids, size_t n_ids, void *out,
                    size_t cap, size_t *out_len, bp_error *err)
{
    if (!model || !out_len || (!ids && n_ids) || (!out && cap))
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "bp_decode: invalid argument");
    size_t need = 0;
    for (size_t i = 0; i < n_ids; i++) {
        uint32_t id = ids[i];
        if (id < BP_N_SPECIAL)
            continue;
        if (id - BP_N_SPECIAL >= model->n_pieces)
            return bp_fail(err, BP_ERR_UNKNOWN_ID, i,
                           "unknown id %lu at position %zu (the vocabulary has ids 0 .. %lu)",
                           (unsigned long)id, i,
                           (unsigned long)(model->n_pieces + BP_N_SPECIAL - 1));
        need += model->off[id - BP_N_SPECIAL + 1] - model->off[id - BP_N_SPECIAL];
    }
    *out_len = need;
    if (need > cap)
        return BP_ERR_BUFFER_TOO_SMALL;
    unsigned char *dst = out;
    for (size_t i = 0; i < n_ids; i++) {
        uint32_t id = ids[i];
        if (id < BP_N_SPECIAL)
            continue;
        uint32_t b = model->off[id - BP_N_SPECIAL], e = model->off[id - BP_N_SPECIAL + 1];
        memcpy(dst, model->bytes + b, e - b);
        dst += e - b;
    }
    return BP_OK;
}
