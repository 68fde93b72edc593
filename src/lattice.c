/*
 * lattice.c -- segmentation of one chunk over the automaton: deterministic Viterbi and
 * exact sampling. Shared by encoding and by the trainer's re-splitting of pieces.
 *
 * Both passes visit the matches in the reference's order: end positions ascending, and at
 * one end the pieces longest first (algorithms §4.2). Per end position e the lattice keeps
 * one value (best score, or log-partition when sampling) and the chosen last token; the
 * segmentation is read back from the end, so memory is O(chunk), never O(matches).
 *
 * Floating point is copied from the reference operation by operation (compiled with
 * -ffp-contract=off so that no multiply-add is fused): §4.3 for Viterbi, §4.4.2 for
 * sampling.
 */
#include <math.h>
#include <stdlib.h>

#include "bp_internal.h"

void bp_lattice_free(bp_lattice *lat)
{
    free(lat->score);
    free(lat->tok_id);
    free(lat->tok_len);
    *lat = (bp_lattice){0};
}

bp_status bp_lattice_reserve(bp_lattice *lat, size_t len)
{
    if (len <= lat->cap && lat->score)
        return BP_OK;
    if (len >= SIZE_MAX / sizeof(double) - 1)
        return BP_ERR_TOO_LARGE;
    size_t cap = len + len / 2 + 64;
    double *score = malloc((cap + 1) * sizeof *score);
    uint32_t *id = malloc((cap + 1) * sizeof *id);
    uint32_t *tl = malloc((cap + 1) * sizeof *tl);
    if (!score || !id || !tl) {
        free(score);
        free(id);
        free(tl);
        return BP_ERR_NOMEM;
    }
    bp_lattice_free(lat);
    *lat = (bp_lattice){cap, score, id, tl};
    return BP_OK;
}

/* §4.3: maximise the sum of scores. A later (shorter) candidate replaces the held one only
 * when strictly greater, so at equal score the longest piece wins. */
static void viterbi_forward(const bp_automaton *ac, bp_lattice *lat, const unsigned char *x,
                            size_t len)
{
    double *S = lat->score;
    S[0] = 0.0;
    uint32_t state = 0;
    for (size_t e = 1; e <= len; e++) {
        state = bp_automaton_step(ac, state, x[e - 1]);
        const bp_match *m = ac->out + ac->out_begin[state];
        const bp_match *end = ac->out + ac->out_begin[state + 1];
        /* The first (longest) candidate always beats the initial -inf: take it directly. */
        double best = S[e - m->len] + m->score;
        uint32_t best_id = m->id, best_len = m->len;
        for (m++; m < end; m++) {
            double cand = S[e - m->len] + m->score;
            if (cand > best) {
                best = cand;
                best_id = m->id;
                best_len = m->len;
            }
        }
        S[e] = best;
        lat->tok_id[e] = best_id;
        lat->tok_len[e] = best_len;
    }
}

/* The reference's log-sum-exp, literally: x + log(1 + exp(y - x)) with x the larger, and
 * no shortcut for a large difference (§4.4.4 item 3: not log1p, nothing skipped). */
static double log_add(double x, double y)
{
    if (x < y) {
        double t = x;
        x = y;
        y = t;
    }
    return x + log(1.0 + exp(y - x));
}

/* §4.4.2: weighted reservoir sampling against the running log-partition Z[e]. The k-th
 * candidate at e replaces the held one with probability exp(a_k - Z_k(e)), which leaves
 * each candidate chosen with probability exp(a) / exp(Z(e)); the read-back from the end
 * then draws a segmentation with probability P(seg)^alpha / Z (§4.4.3).
 * The first candidate is always accepted (§4.4.4 item 2: the reference can reject it and
 * hang). In glibc parity mode every candidate, the first included, consumes one rand()
 * and the test is the reference's integer one. */
static void sample_forward(const bp_automaton *ac, bp_lattice *lat, const unsigned char *x,
                           size_t len, double alpha, bp_rng *rng)
{
    const bool glibc = bp_rng_is_glibc(rng);
    double *Z = lat->score;
    Z[0] = 0.0;
    uint32_t state = 0;
    for (size_t e = 1; e <= len; e++) {
        state = bp_automaton_step(ac, state, x[e - 1]);
        const bp_match *m = ac->out + ac->out_begin[state];
        const bp_match *end = ac->out + ac->out_begin[state + 1];
        double z = Z[e - m->len] + alpha * m->score; /* log_add(-inf, a) == a exactly */
        uint32_t pick_id = m->id, pick_len = m->len;
        if (glibc)
            bp_rng_glibc_rand(rng);
        for (m++; m < end; m++) {
            double a = Z[e - m->len] + alpha * m->score;
            z = log_add(z, a);
            bool accept = glibc ? (double)bp_rng_glibc_rand(rng) < exp(a - z) * 2147483647.0
                                : bp_rng_uniform(rng) < exp(a - z);
            if (accept) {
                pick_id = m->id;
                pick_len = m->len;
            }
        }
        Z[e] = z;
        lat->tok_id[e] = pick_id;
        lat->tok_len[e] = pick_len;
    }
}

size_t bp_lattice_segment(const bp_model *m, bp_lattice *lat, const unsigned char *x, size_t len,
                          double alpha, bp_rng *rng, uint32_t *ids, size_t *starts,
                          size_t base_off)
{
    if (len == 0)
        return 0;
    if (alpha < 0)
        viterbi_forward(&m->ac, lat, x, len);
    else
        sample_forward(&m->ac, lat, x, len, alpha, rng);
    /* Read back from the end: count the tokens, then fill the output from its back. */
    size_t n = 0;
    for (size_t e = len; e > 0; e -= lat->tok_len[e])
        n++;
    size_t k = n;
    for (size_t e = len; e > 0; e -= lat->tok_len[e]) {
        k--;
        ids[k] = lat->tok_id[e];
        if (starts)
            starts[k] = base_off + e - lat->tok_len[e];
    }
    return n;
}
