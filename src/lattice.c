/*
 * lattice.c -- segmentation of one chunk over the automaton: deterministic Viterbi and
 * exact sampling. Shared by encoding and by the trainer's re-splitting of pieces.
 *
 * Every pass visits the matches in the reference's order: end positions ascending, and at
 * one end the pieces longest first (docs/algorithms.md §4.2). Per end position e the
 * lattice keeps the chosen last token (its index in the automaton's output array, which
 * gives both id and length); the segmentation is read back from the end. The value of each
 * position (best score, log-partition or partition) is only needed while a piece can still
 * reach back to it, so it lives in a ring of the last 2^k positions, 2^k > the longest
 * piece: memory is 4 bytes per byte of chunk, never O(matches), and the ring stays in L1.
 *
 * Floating point is copied from the reference operation by operation where the output
 * must be bit-identical (compiled with -ffp-contract=off so that no multiply-add is
 * fused): §4.3 for Viterbi, §4.4.2 for the glibc-parity sampler.
 *
 * The default sampler works in the linear domain instead of the log domain, with no exp or
 * log per candidate: with w = exp(alpha * score) per output (bp_lattice_set_alpha) and
 * W(e) = sum over the candidates at e of W(start) * w, candidate k of an end position is
 * accepted with probability c_k / (c_1 + ... + c_k), c_k = W(start_k) * w_k: that is
 * u * T_k < c_k with u uniform in [0, 1) and T_k the running sum. This is the same
 * weighted reservoir as the reference's (§4.4.2, with exp(Z) = W), so each segmentation is
 * drawn with probability P(seg)^alpha / Z. To stay in range, when W(e) leaves
 * [2^-64, 2^64] every live value of the ring is multiplied by the same power of two
 * (exact), which changes no ratio. The values alive at one time are within a bounded
 * factor of each other (see linear_domain_is_safe); when that bound could leave the
 * double range (large alpha times the score range times the longest piece), sampling
 * stays in the log domain, as exact but slower.
 *
 * The log domain adds alpha * score to log-partitions of size up to alpha * 44.4 * len
 * (every score is >= -log(2^64), as the counts add up to less than 2^64). For a huge alpha
 * or chunk that loses the log(k) of k tied segmentations, and past the double range gives
 * -inf - -inf = NaN, which rejects every candidate but the first (the longest) and so
 * stops tending to the best segmentation. There the split log domain takes over: it keeps
 * each log-partition as alpha * (best score) + (the rest), in which alpha only multiplies
 * differences to the best, so nothing overflows and no tie is rounded away.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bp_internal.h"

#define RESCALE_LOW 0x1.0p-64
#define RESCALE_HIGH 0x1.0p64
/* The log domain is kept while its log-partitions stay below this, so that it rounds
 * them to 2^-12 at worst; it is also the reference's arithmetic (glibc parity). */
#define LOG_DOMAIN_LIMIT 0x1.0p40

void bp_lattice_free(bp_lattice *lat)
{
    free(lat->choice);
    free(lat->ring);
    free(lat->weight);
    *lat = (bp_lattice){0};
}

/* Room for chunks of `len` bytes whose pieces reach back at most `span` bytes. */
static bp_status reserve(bp_lattice *lat, size_t len, size_t span)
{
    if (len >= SIZE_MAX / sizeof(double) / 2)
        return BP_ERR_TOO_LARGE;
    if (!lat->choice || len > lat->cap) {
        size_t cap = len + len / 8 + 64;
        uint32_t *choice = malloc((cap + 1) * sizeof *choice);
        if (!choice)
            return BP_ERR_NOMEM;
        free(lat->choice);
        lat->choice = choice;
        lat->cap = cap;
    }
    size_t ring = 64;
    while (ring <= span)
        ring *= 2;
    if (!lat->ring || ring > lat->ring_mask + 1) {
        double *r = malloc(2 * ring * sizeof *r); /* two values a position: split domain */
        if (!r)
            return BP_ERR_NOMEM;
        free(lat->ring);
        lat->ring = r;
        lat->ring_mask = ring - 1;
    }
    return BP_OK;
}

bp_status bp_lattice_reserve(bp_lattice *lat, size_t len)
{
    return reserve(lat, len, len);
}

bp_status bp_lattice_reserve_for(bp_lattice *lat, const bp_model *m, size_t len)
{
    return reserve(lat, len, len < m->ac.max_depth ? len : m->ac.max_depth);
}

/* Whether the linear-domain sampler keeps every live value a normal double. With
 * w_lo = exp(alpha * smin) the smallest weight (scores are <= 0, so weights are <= 1),
 * lw = log2(1 / w_lo) and L the longest piece, for positions s < e at most L apart:
 * W(e) >= W(s) * w_lo^(e - s) (a path of single bytes), and W(e) <= L * 2^(2L) *
 * w_lo^-L * W(s) (count the segmentations that cross s). So after a rescale leaves the
 * newest value in [2^-64, 2^64], all live values stay within
 * 2^-(64 + (L + 1) lw + 2L + log2 L) .. 2^(64 + L lw + log2 L), which must be normal. */
static bool linear_domain_is_safe(const bp_model *m, double alpha)
{
    double smin = 0;
    for (uint32_t i = 0; i < m->n_pieces; i++)
        if (m->scores[i] < smin)
            smin = m->scores[i];
    double lw = alpha * -smin / log(2.0);
    double L = m->ac.max_depth;
    double need = 64 + (L + 1) * lw + 2 * L + log2(L + 1) + 16;
    return isfinite(lw) && need <= 1000;
}

bp_status bp_lattice_set_alpha(bp_lattice *lat, const bp_model *m, double alpha)
{
    if (lat->w_model == m && lat->w_alpha == alpha && (lat->weight || !lat->linear))
        return BP_OK;
    lat->w_model = NULL;
    lat->linear = alpha >= 0 && linear_domain_is_safe(m, alpha);
    if (lat->linear) {
        const bp_automaton *ac = &m->ac;
        double *w = realloc(lat->weight, (ac->n_out ? ac->n_out : 1) * sizeof *w);
        double *piece_w = malloc((m->n_pieces ? m->n_pieces : 1) * sizeof *piece_w);
        if (w)
            lat->weight = w;
        if (!w || !piece_w) {
            free(piece_w);
            return BP_ERR_NOMEM;
        }
        for (uint32_t i = 0; i < m->n_pieces; i++)
            piece_w[i] = exp(alpha * m->scores[i]);
        for (uint32_t j = 0; j < ac->n_out; j++)
            w[j] = piece_w[ac->out[j].id - BP_N_SPECIAL];
        free(piece_w);
    }
    lat->w_model = m;
    lat->w_alpha = alpha;
    return BP_OK;
}

/* §4.3: maximise the sum of scores. A later (shorter) candidate replaces the held one only
 * when strictly greater, so at equal score the longest piece wins. */
static void viterbi_forward(const bp_automaton *ac, bp_lattice *lat, const unsigned char *x,
                            size_t len)
{
    const bp_ac_slot *slot = ac->slot;
    const uint32_t *fail = ac->fail, *out_begin = ac->out_begin;
    const bp_match *out = ac->out;
    double *S = lat->ring;
    const size_t mask = lat->ring_mask;
    uint32_t *choice = lat->choice;
    S[0] = 0.0;
    uint32_t s = 0;
    for (size_t e = 1; e <= len; e++) {
        unsigned char c = x[e - 1];
        uint32_t t;
        while (slot[t = (uint32_t)slot[s].base + c].check != (int32_t)s)
            s = fail[s];
        s = t;
        BP_ASSERT(s < ac->n_slots);
        const bp_match *o = out + out_begin[s], *best_o = o;
        BP_ASSERT(o->len <= e && o->len <= mask); /* the ring reaches back far enough */
        /* The first (longest) candidate always beats the initial -inf: take it directly. */
        double best = S[(e - o->len) & mask] + o->score;
        while (o->len != 1) {
            o++;
            BP_ASSERT(o->len < o[-1].len);
            double cand = S[(e - o->len) & mask] + o->score;
            bool better = cand > best;
            best = better ? cand : best;
            best_o = better ? o : best_o;
        }
        S[e & mask] = best;
        choice[e] = (uint32_t)(best_o - out);
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

/* §4.4.2 in the log domain: weighted reservoir sampling against the running log-partition
 * Z[e]. The k-th candidate at e replaces the held one with probability exp(a_k - Z_k(e)),
 * which leaves each candidate chosen with probability exp(a) / exp(Z(e)); the read-back
 * from the end then draws a segmentation with probability P(seg)^alpha / Z (§4.4.3).
 * The first candidate is always accepted (§4.4.4 item 2: the reference can reject it and
 * hang). In glibc parity mode every candidate, the first included, consumes one rand()
 * and the test is the reference's integer one: this path reproduces its samples. */
static void sample_forward_log(const bp_automaton *ac, bp_lattice *lat, const unsigned char *x,
                               size_t len, double alpha, bp_rng *rng)
{
    const bool glibc = bp_rng_is_glibc(rng);
    const size_t mask = lat->ring_mask;
    double *Z = lat->ring;
    Z[0] = 0.0;
    uint32_t state = 0;
    for (size_t e = 1; e <= len; e++) {
        state = bp_automaton_step(ac, state, x[e - 1]);
        const bp_match *m = ac->out + ac->out_begin[state];
        BP_ASSERT(m->len <= e && m->len <= mask);
        double z = Z[(e - m->len) & mask] + alpha * m->score; /* log_add(-inf, a) == a */
        uint32_t pick = (uint32_t)(m - ac->out);
        if (glibc)
            bp_rng_glibc_rand(rng);
        while (m->len != 1) {
            m++;
            double a = Z[(e - m->len) & mask] + alpha * m->score;
            z = log_add(z, a);
            bool accept = glibc ? (double)bp_rng_glibc_rand(rng) < exp(a - z) * 2147483647.0
                                : bp_rng_uniform(rng) < exp(a - z);
            if (accept)
                pick = (uint32_t)(m - ac->out);
        }
        BP_ASSERT(isfinite(z)); /* bp_lattice_forward keeps this domain in range */
        Z[e & mask] = z;
        lat->choice[e] = pick;
    }
}

/* §4.4.2 for any alpha >= 0 in the split log domain: Z(e) = alpha * best(e) + rest(e),
 * with best(e) the best score of x[0..e), computed with Viterbi's sums (so bit-identical
 * to them), and rest(e) = log(sum over the segmentations of x[0..e) of
 * exp(alpha * (score - best(e)))), which lies in [0, e log 2]. At one end the candidates
 * are taken against the running best M: lz = log(sum so far of exp(alpha * (b - M) +
 * rest(start))), shifted when a better candidate comes. alpha only multiplies b - M <= 0,
 * which gives a finite weight or exp(-inf) = 0, so even at alpha = 1e308 no value
 * overflows and the samples tend to the best segmentation, while tied segmentations keep
 * their exact shares in rest. The random draws are the log domain's, one per candidate
 * in the same order (§4.4.4 items 1 and 2). */
static void sample_forward_split(const bp_automaton *ac, bp_lattice *lat,
                                 const unsigned char *x, size_t len, double alpha, bp_rng *rng)
{
    const bool glibc = bp_rng_is_glibc(rng);
    const size_t mask = lat->ring_mask;
    double *best = lat->ring, *rest = lat->ring + mask + 1;
    best[0] = 0.0;
    rest[0] = 0.0;
    uint32_t state = 0;
    for (size_t e = 1; e <= len; e++) {
        state = bp_automaton_step(ac, state, x[e - 1]);
        const bp_match *m = ac->out + ac->out_begin[state];
        BP_ASSERT(m->len <= e && m->len <= mask);
        size_t start = (e - m->len) & mask;
        double top = best[start] + m->score, lz = rest[start];
        uint32_t pick = (uint32_t)(m - ac->out);
        if (glibc)
            bp_rng_glibc_rand(rng);
        while (m->len != 1) {
            m++;
            start = (e - m->len) & mask;
            double b = best[start] + m->score, r = rest[start];
            if (b > top) {
                lz += alpha * (top - b);
                top = b;
            } else {
                r += alpha * (b - top);
            }
            lz = log_add(lz, r);
            bool accept = glibc ? (double)bp_rng_glibc_rand(rng) < exp(r - lz) * 2147483647.0
                                : bp_rng_uniform(rng) < exp(r - lz);
            if (accept)
                pick = (uint32_t)(m - ac->out);
        }
        BP_ASSERT(lz >= 0 && lz <= (double)e); /* e log 2 bounds it; NaN fails too */
        best[e & mask] = top;
        rest[e & mask] = lz;
        lat->choice[e] = pick;
    }
}

/* Multiplies the live values of the ring (positions max(0, e - mask) .. e) by the power
 * of two that brings W(e) into [0.5, 1): exact, so no ratio changes. */
static void rescale(double *W, size_t mask, size_t e)
{
    int exponent;
    frexp(W[e & mask], &exponent);
    double f = ldexp(1.0, -exponent);
    size_t first = e > mask ? e - mask : 0;
    for (size_t p = first; p <= e; p++)
        W[p & mask] *= f;
    BP_ASSERT(W[e & mask] >= 0.5 && W[e & mask] < 1.0);
}

/* The default sampler in the linear domain (see the top of the file). One random draw per
 * candidate after the first, none for the first, which is always accepted. */
static void sample_forward_linear(const bp_automaton *ac, bp_lattice *lat,
                                  const unsigned char *x, size_t len, bp_rng *rng)
{
    const bp_ac_slot *slot = ac->slot;
    const uint32_t *fail = ac->fail, *out_begin = ac->out_begin;
    const bp_match *out = ac->out;
    const double *w = lat->weight;
    double *W = lat->ring;
    const size_t mask = lat->ring_mask;
    uint32_t *choice = lat->choice;
    uint64_t rs[4];
    memcpy(rs, &rng->opaque_[1], sizeof rs);
    W[0] = 1.0;
    uint32_t s = 0;
    for (size_t e = 1; e <= len; e++) {
        unsigned char c = x[e - 1];
        uint32_t t;
        while (slot[t = (uint32_t)slot[s].base + c].check != (int32_t)s)
            s = fail[s];
        s = t;
        BP_ASSERT(s < ac->n_slots);
        uint32_t j = out_begin[s];
        BP_ASSERT(out[j].len <= e && out[j].len <= mask);
        double total = W[(e - out[j].len) & mask] * w[j];
        uint32_t pick = j;
        while (out[j].len != 1) {
            j++;
            double cand = W[(e - out[j].len) & mask] * w[j];
            total += cand;
            double u = (double)(bp_xoshiro_next(rs) >> 11) * 0x1.0p-53;
            pick = u * total < cand ? j : pick;
        }
        BP_ASSERT(isnormal(total)); /* see linear_domain_is_safe */
        W[e & mask] = total;
        choice[e] = pick;
        if (total < RESCALE_LOW || total > RESCALE_HIGH)
            rescale(W, mask, e);
    }
    memcpy(&rng->opaque_[1], rs, sizeof rs);
}

void bp_lattice_forward(const bp_model *m, bp_lattice *lat, const unsigned char *x, size_t len,
                        double alpha, bp_rng *rng)
{
    BP_ASSERT(lat->choice && len <= lat->cap);
    BP_ASSERT((len < m->ac.max_depth ? len : m->ac.max_depth) <= lat->ring_mask);
    if (alpha < 0)
        viterbi_forward(&m->ac, lat, x, len);
    else if (!bp_rng_is_glibc(rng) && lat->linear && lat->w_model == m && lat->w_alpha == alpha)
        sample_forward_linear(&m->ac, lat, x, len, rng);
    else if (alpha * BP_MAX_ABS_SCORE * (double)len <= LOG_DOMAIN_LIMIT)
        sample_forward_log(&m->ac, lat, x, len, alpha, rng);
    else
        sample_forward_split(&m->ac, lat, x, len, alpha, rng);
}

size_t bp_lattice_count(const bp_model *m, const bp_lattice *lat, size_t len)
{
    const bp_match *out = m->ac.out;
    size_t n = 0;
    for (size_t e = len; e > 0; e -= out[lat->choice[e]].len) {
        BP_ASSERT(lat->choice[e] < m->ac.n_out && out[lat->choice[e]].len <= e);
        n++;
    }
    return n;
}

void bp_lattice_emit(const bp_model *m, const bp_lattice *lat, size_t len, size_t n,
                     uint32_t *ids, size_t *starts, size_t base_off)
{
    const bp_match *out = m->ac.out;
    size_t k = n;
    for (size_t e = len; e > 0;) {
        const bp_match *tok = out + lat->choice[e];
        BP_ASSERT(tok->len <= e && k > 0); /* n is bp_lattice_count's */
        e -= tok->len;
        ids[--k] = tok->id;
        if (starts)
            starts[k] = base_off + e;
    }
}

size_t bp_lattice_emit_backward(const bp_model *m, const bp_lattice *lat, size_t len,
                                uint32_t *ids_end, size_t *starts_end, size_t base_off)
{
    const bp_match *out = m->ac.out;
    uint32_t *ids = ids_end;
    for (size_t e = len; e > 0;) {
        const bp_match *tok = out + lat->choice[e];
        BP_ASSERT(lat->choice[e] < m->ac.n_out && tok->len <= e);
        e -= tok->len;
        *--ids = tok->id;
        if (starts_end)
            *--starts_end = base_off + e;
    }
    return (size_t)(ids_end - ids);
}

size_t bp_lattice_segment(const bp_model *m, bp_lattice *lat, const unsigned char *x, size_t len,
                          double alpha, bp_rng *rng, uint32_t *ids, size_t *starts,
                          size_t base_off)
{
    if (len == 0)
        return 0;
    bp_lattice_forward(m, lat, x, len, alpha, rng);
    /* One pass from the end into the top of the room (len tokens at most), then down. */
    size_t n = bp_lattice_emit_backward(m, lat, len, ids + len, starts ? starts + len : NULL,
                                        base_off);
    memmove(ids, ids + len - n, n * sizeof *ids);
    if (starts)
        memmove(starts, starts + len - n, n * sizeof *starts);
    return n;
}
