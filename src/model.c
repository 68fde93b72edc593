/*
 * model.c -- a model built from a piece table: validation, scores, the automaton, and the
 * read-only accessors. The JSON loader, bp_model_from_pieces() and the trainer end here,
 * so the checks that make a piece table safe to encode with live in one place. A native
 * model is the exception: it arrives with its automaton built, and model_native.c checks
 * its file image instead (it is only freed here).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bp_internal.h"

#define MAX_EXACT_COUNT (UINT64_C(1) << 53) /* counts become doubles for the scores */

/* Checks counts, lengths and ids, and returns in slot[i] the position piece i takes
 * (its id minus 3). */
static bp_status check_table(const bp_piece *pieces, const uint32_t *ids, size_t n,
                             const char *name, uint32_t *slot, uint64_t *total, bp_error *err)
{
    const char *nm = bp_source_name(name);
    unsigned char *taken = calloc(n ? n : 1, 1);
    if (!taken)
        return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "%s: out of memory", nm);
    bp_status st = BP_OK;
    *total = 0;
    for (size_t i = 0; i < n && st == BP_OK; i++) {
        uint64_t id = ids ? ids[i] : i + BP_N_SPECIAL;
        if (pieces[i].len == 0)
            st = bp_fail(err, BP_ERR_BAD_ENTRY, UINT64_MAX, "%s: piece with id %llu is empty", nm,
                         (unsigned long long)id);
        else if (pieces[i].count == 0 || pieces[i].count > MAX_EXACT_COUNT)
            st = bp_fail(err, BP_ERR_BAD_COUNT, UINT64_MAX,
                         "%s: piece with id %llu has count %llu (must be 1 .. 2^53)", nm,
                         (unsigned long long)id, (unsigned long long)pieces[i].count);
        else if (id < BP_N_SPECIAL || id >= n + BP_N_SPECIAL)
            st = bp_fail(err, BP_ERR_BAD_ID, UINT64_MAX,
                         "%s: id %llu is out of range (ids must be 3 .. %llu for %zu pieces)", nm,
                         (unsigned long long)id, (unsigned long long)(n + BP_N_SPECIAL - 1), n);
        else if (taken[id - BP_N_SPECIAL])
            st = bp_fail(err, BP_ERR_BAD_ID, UINT64_MAX, "%s: id %llu is used twice", nm,
                         (unsigned long long)id);
        else if (*total + pieces[i].count < *total)
            st = bp_fail(err, BP_ERR_BAD_COUNT, UINT64_MAX, "%s: the counts add up past 2^64", nm);
        else {
            taken[id - BP_N_SPECIAL] = 1;
            slot[i] = (uint32_t)(id - BP_N_SPECIAL);
            *total += pieces[i].count;
        }
    }
    free(taken);
    return st;
}

/* Every single byte must be a piece: it is what makes every text encodable, and the
 * sampler's log-sum-exp cannot meet -inf + -inf (docs/algorithms.md §4.4.4). */
static bp_status check_single_bytes(const bp_model *m, const char *name, bp_error *err)
{
    bool seen[256] = {false};
    for (uint32_t i = 0; i < m->n_pieces; i++)
        if (m->off[i + 1] - m->off[i] == 1)
            seen[m->bytes[m->off[i]]] = true;
    for (unsigned b = 0; b < 256; b++)
        if (!seen[b])
            return bp_fail(err, BP_ERR_MISSING_BYTE, UINT64_MAX,
                           "%s: the single byte 0x%02X is not a piece (all 256 must be)",
                           bp_source_name(name), b);
    return BP_OK;
}

/* Copies the pieces into one arena in id order and computes the scores: log(count) -
 * log(total), a difference of two logs exactly as the reference (algorithms §4.1, §5.7). */
static bp_status fill_pieces(bp_model *m, const bp_piece *pieces, const uint32_t *slot, size_t n)
{
    size_t total_len = 0;
    for (size_t i = 0; i < n; i++) {
        if (pieces[i].len > UINT32_MAX - total_len)
            return BP_ERR_TOO_LARGE;
        total_len += pieces[i].len;
    }
    m->bytes = malloc(total_len ? total_len : 1);
    m->off = malloc((n + 1) * sizeof *m->off);
    m->counts = malloc((n ? n : 1) * sizeof *m->counts);
    m->scores = malloc((n ? n : 1) * sizeof *m->scores);
    if (!m->bytes || !m->off || !m->counts || !m->scores)
        return BP_ERR_NOMEM;
    /* Lengths by slot first, then offsets, then the bytes. */
    uint32_t *len_by_slot = calloc(n + 1, sizeof *len_by_slot);
    if (!len_by_slot)
        return BP_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        len_by_slot[slot[i]] = (uint32_t)pieces[i].len;
    m->off[0] = 0;
    for (size_t s = 0; s < n; s++) {
        m->off[s + 1] = m->off[s] + len_by_slot[s];
        if (len_by_slot[s] > m->max_piece_len)
            m->max_piece_len = len_by_slot[s];
    }
    free(len_by_slot);
    double log_total = log((double)m->total_count);
    for (size_t i = 0; i < n; i++) {
        uint32_t s = slot[i];
        memcpy(m->bytes + m->off[s], pieces[i].bytes, pieces[i].len);
        m->counts[s] = pieces[i].count;
        m->scores[s] = log((double)pieces[i].count) - log_total;
    }
    return BP_OK;
}

bp_status bp_model_build(const bp_piece *pieces, const uint32_t *ids, size_t n, const char *name,
                         bp_model **out, bp_error *err)
{
    const char *nm = bp_source_name(name);
    if (!out || (!pieces && n))
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "%s: no piece table", nm);
    *out = NULL;
    if (n > (size_t)INT32_MAX - BP_N_SPECIAL)
        return bp_fail(err, BP_ERR_TOO_LARGE, UINT64_MAX, "%s: %zu pieces is too many", nm, n);
    bp_model *m = calloc(1, sizeof *m);
    uint32_t *slot = malloc((n ? n : 1) * sizeof *slot);
    bp_status st;
    if (!m || !slot) {
        st = bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "%s: out of memory", nm);
        goto fail;
    }
    m->n_pieces = (uint32_t)n;
    st = check_table(pieces, ids, n, name, slot, &m->total_count, err);
    if (st != BP_OK)
        goto fail;
    st = fill_pieces(m, pieces, slot, n);
    if (st != BP_OK) {
        bp_fail(err, st, UINT64_MAX, "%s: %s", nm, bp_strerror(st));
        goto fail;
    }
    st = check_single_bytes(m, name, err);
    if (st != BP_OK)
        goto fail;
    uint32_t dup = 0;
    st = bp_automaton_build(&m->ac, m->bytes, m->off, m->scores, m->n_pieces, &dup);
    if (st == BP_ERR_DUP_PIECE) {
        bp_fail(err, st, UINT64_MAX, "%s: id %u repeats the piece of another id (%u bytes)", nm,
                dup + BP_N_SPECIAL, m->off[dup + 1] - m->off[dup]);
        goto fail;
    }
    if (st != BP_OK) {
        bp_fail(err, st, UINT64_MAX, "%s: %s", nm, bp_strerror(st));
        goto fail;
    }
    free(slot);
    bp_model_check(m);
    *out = m;
    return BP_OK;
fail:
    free(slot);
    bp_model_free(m);
    return st;
}

#ifdef BP_ASSERTS
void bp_model_check(const bp_model *m)
{
    const uint32_t n = m->n_pieces;
    BP_ASSERT(n >= 256 && m->off[0] == 0);
    uint32_t longest = 0;
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        BP_ASSERT(m->off[i] < m->off[i + 1]);
        if (m->off[i + 1] - m->off[i] > longest)
            longest = m->off[i + 1] - m->off[i];
        total += m->counts[i];
    }
    BP_ASSERT(longest == m->max_piece_len && longest == m->ac.max_depth);
    BP_ASSERT(total == m->total_count);
    double log_total = log((double)total);
    for (uint32_t i = 0; i < n; i++) {
        BP_ASSERT(m->scores[i] == log((double)m->counts[i]) - log_total);
        BP_ASSERT(m->scores[i] < 0 && m->scores[i] >= -BP_MAX_ABS_SCORE);
    }
    const bp_automaton *ac = &m->ac;
    bp_automaton_check(ac);
    for (uint32_t j = 0; j < ac->n_out; j++) {
        uint32_t i = ac->out[j].id - BP_N_SPECIAL;
        BP_ASSERT(ac->out[j].id >= BP_N_SPECIAL && i < n);
        BP_ASSERT(ac->out[j].len == m->off[i + 1] - m->off[i]);
        BP_ASSERT(ac->out[j].score == m->scores[i]);
    }
}
#endif

bp_status bp_model_from_pieces(const bp_piece *pieces, size_t n_pieces, bp_model **out,
                               bp_error *err)
{
    return bp_model_build(pieces, NULL, n_pieces, NULL, out, err);
}

void bp_model_free(bp_model *m)
{
    if (!m)
        return;
    bp_automaton_free(&m->ac);
    free(atomic_load(&m->by_bytes));
    bp_special_set_free(m->special);
    if (m->arena) { /* a native model: everything lives in its file image */
        bp_native_release(m);
    } else {
        free(m->bytes);
        free(m->off);
        free(m->counts);
        free(m->scores);
    }
    free(m);
}

size_t bp_model_vocab_size(const bp_model *m)
{
    return m ? (size_t)m->n_pieces + BP_N_SPECIAL + bp_model_special_count(m) : 0;
}

/* Index of piece `id` in the model's arrays, or -1 when `id` is not a piece. */
static int64_t piece_index(const bp_model *m, uint32_t id)
{
    if (!m || id < BP_N_SPECIAL || id - BP_N_SPECIAL >= m->n_pieces)
        return -1;
    return (int64_t)id - BP_N_SPECIAL;
}

const unsigned char *bp_model_piece(const bp_model *m, uint32_t id, size_t *len)
{
    if (bp_model_is_special(m, id)) { /* a special token's text, so that decoding writes it */
        uint32_t t = id - m->special->first_id;
        if (len)
            *len = m->special->off[t + 1] - m->special->off[t];
        return m->special->bytes + m->special->off[t];
    }
    int64_t i = piece_index(m, id);
    if (len)
        *len = i < 0 ? 0 : m->off[i + 1] - m->off[i];
    return i < 0 ? NULL : m->bytes + m->off[i];
}

uint64_t bp_model_piece_count(const bp_model *m, uint32_t id)
{
    int64_t i = piece_index(m, id);
    return i < 0 ? 0 : m->counts[i];
}

double bp_model_piece_score(const bp_model *m, uint32_t id)
{
    int64_t i = piece_index(m, id);
    return i < 0 ? -INFINITY : m->scores[i];
}

uint32_t bp_model_piece_id(const bp_model *m, const void *bytes, size_t len)
{
    if (!m || !bytes || len == 0)
        return BP_ID_NONE;
    uint32_t s = bp_automaton_find(&m->ac, bytes, len);
    if (s == UINT32_MAX)
        return BP_ID_NONE;
    /* A state's first output is its own piece when its string is one. */
    const bp_match *first = m->ac.out + m->ac.out_begin[s];
    if (s == 0 || first->len != len)
        return BP_ID_NONE;
    return first->id;
}

int bp_model_is_native(const bp_model *m)
{
    return m && m->arena ? 1 : 0; /* only a native model lives in a file image */
}
