/*
 * train_segment.c -- the trainer's second pass: every chunk is segmented by Viterbi over
 * byte tags with the n-gram LM (docs/algorithms.md §3.3), and the resulting pieces are
 * counted (§3.4).
 *
 * Tag t of byte i is its position inside its token, capped at order-1; tag 0 starts a
 * token. The emission of tag t at byte i is l_{t+1}(x[i-t..i]); transitions are free
 * (log weight 0) from any tag to 0 and from t to min(t+1, order-1), impossible otherwise.
 * The recurrence reproduces numpy exactly (§3.3.3): each candidate is the sum
 * delta_{i-1}(j) + emission, compared as a sum; ties go to the lowest previous tag; and
 * when every candidate is -inf the argmax is 0 -- which makes a chunk "dead" after a rare
 * character under ensure_unicode (§3.3.4), a behaviour this port keeps on purpose.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "counts_file.h"
#include "train_internal.h"

/* Fills phi[0..order) with the emissions of byte i. A missing (t+1)-gram means every
 * longer one ending at i is missing too (its suffix would have survived), so the lookups
 * stop at the first miss. `win` holds the last bytes read, x[i] lowest. */
static void emissions(const bp_ngram_model *m, bool ensure_unicode, const unsigned char *x,
                      size_t i, uint64_t win, double *phi)
{
    const unsigned n = m->order;
    phi[0] = ensure_unicode && (x[i] & 0xC0) == 0x80 ? -INFINITY : m->l1[x[i]];
    unsigned t = 1;
    if (n > 1 && i >= 1) {
        phi[1] = bp_ngram_l2(m, win);
        for (t = 2; t < n && t <= i && phi[t - 1] > -INFINITY; t++) {
            uint64_t key = (win & ((UINT64_C(1) << (8 * (t + 1))) - 1)) | (uint64_t)(t + 1) << 56;
            const uint64_t *v = bp_u64_table_find(&m->high, key);
            if (!v) {
                phi[t++] = -INFINITY;
                break;
            }
            memcpy(&phi[t], v, sizeof phi[t]);
        }
    }
    for (; t < n; t++)
        phi[t] = -INFINITY;
}

#define PREFETCH_AHEAD 8 /* positions: enough to overlap the table lookups' cache misses */

/* Prefetches the table slots that emissions() will read at byte i (if it exists). */
static void prefetch_emissions(const bp_ngram_model *m, const unsigned char *x, size_t len,
                               size_t i)
{
    if (i >= len)
        return;
    for (unsigned t = 2; t < m->order && t <= i; t++)
        bp_u64_table_prefetch(&m->high, bp_ngram_key(x + i - t, t + 1));
}

bp_status bp_bnlm_segment(const bp_ngram_model *m, bool ensure_unicode, const unsigned char *x,
                          size_t len, bp_bnlm_scratch *s, uint32_t *starts, size_t *n_tokens)
{
    const unsigned n = m->order;
    *n_tokens = 0;
    if (len == 0)
        return BP_OK;
    unsigned char *back = bp_grow(s->back, &s->cap, len * n, 1);
    if (!back)
        return BP_ERR_NOMEM;
    s->back = back;
    double prev[BP_MAX_ORDER], cur[BP_MAX_ORDER], phi[BP_MAX_ORDER];
    uint64_t win = x[0];
    emissions(m, ensure_unicode, x, 0, win, phi);
    for (unsigned t = 0; t < n; t++)
        prev[t] = phi[t];
    for (size_t i = 1; i < len; i++) {
        prefetch_emissions(m, x, len, i + PREFETCH_AHEAD);
        win = win << 8 | x[i];
        emissions(m, ensure_unicode, x, i, win, phi);
        unsigned char *back = s->back + i * n;
        /* Tag 0: reachable from every tag. */
        double best = prev[0] + phi[0];
        unsigned arg = 0;
        for (unsigned j = 1; j < n; j++) {
            double v = prev[j] + phi[0];
            if (v > best) {
                best = v;
                arg = j;
            }
        }
        cur[0] = best;
        back[0] = (unsigned char)arg;
        /* Tags 1 .. n-2: only from t-1. All -inf gives argmax 0, as numpy does. */
        for (unsigned t = 1; t + 1 < n; t++) {
            double v = prev[t - 1] + phi[t];
            cur[t] = v;
            back[t] = v > -INFINITY ? (unsigned char)(t - 1) : 0;
        }
        /* Tag n-1: from n-2 or itself; a tie goes to n-2 (the lower index). */
        if (n >= 2) {
            double a = prev[n - 2] + phi[n - 1], b = prev[n - 1] + phi[n - 1];
            cur[n - 1] = b > a ? b : a;
            back[n - 1] = b > a ? (unsigned char)(n - 1)
                                : a > -INFINITY ? (unsigned char)(n - 2) : 0;
        }
        memcpy(prev, cur, n * sizeof *prev);
    }
    unsigned tag = 0;
    for (unsigned t = 1; t < n; t++)
        if (prev[t] > prev[tag])
            tag = t;
    /* Read the tags back; a token starts wherever the tag is 0. Tag 0 at byte 0 always:
     * delta_0(t > 0) is -inf, so every path through byte 1 comes back to tag 0 there. */
    size_t count = 0;
    for (size_t i = len - 1; i > 0; i--) {
        if (tag == 0)
            count++;
        tag = s->back[i * n + tag];
    }
    count++;
    *n_tokens = count;
    /* Second walk fills the starts from the back, so they come out in text order. */
    tag = 0;
    for (unsigned t = 1; t < n; t++)
        if (prev[t] > prev[tag])
            tag = t;
    size_t k = count;
    for (size_t i = len - 1; i > 0; i--) {
        if (tag == 0)
            starts[--k] = (uint32_t)i;
        tag = s->back[i * n + tag];
    }
    starts[--k] = 0;
    return BP_OK;
}

void bp_bnlm_scratch_free(bp_bnlm_scratch *s)
{
    free(s->back);
    *s = (bp_bnlm_scratch){0};
}

/* Per-thread state of the counting pass. */
typedef struct piece_pass {
    const bp_ngram_model *m;
    bool ensure_unicode;
    bp_piece_table *tables;
    size_t share;              /* bytes a thread's table may reach; 0: no limit */
    bp_runs *runs;             /* per thread: the tables spilled when they reached it */
    bp_bnlm_scratch *scratch;
    uint32_t **starts;
    size_t *starts_cap;
} piece_pass;

/* Writes a piece table as a sorted run and empties it. */
typedef struct piece_run {
    const bp_piece *items;
    size_t n;
} piece_run;

static void fill_piece_run(void *ctx, bp_counts_writer *cw)
{
    const piece_run *pr = ctx;
    for (size_t i = 0; i < pr->n; i++)
        bp_counts_write_entry(cw, pr->items[i].bytes, pr->items[i].len, pr->items[i].count);
}

static bp_status spill(bp_runs *runs, bp_piece_table *t, bp_error *err)
{
    piece_run pr = {bp_piece_table_sorted(t), t->n};
    bp_status st = pr.items ? bp_runs_write(runs, fill_piece_run, &pr, err) : BP_ERR_NOMEM;
    free((void *)pr.items);
    bp_piece_table_free(t);
    return st;
}

static bp_status count_chunk_pieces(void *ctx, unsigned thread, const unsigned char *x,
                                    size_t len)
{
    piece_pass *pp = ctx;
    uint32_t *starts = bp_grow(pp->starts[thread], &pp->starts_cap[thread], len, sizeof *starts);
    if (!starts)
        return BP_ERR_NOMEM;
    pp->starts[thread] = starts;
    size_t n;
    bp_status st = bp_bnlm_segment(pp->m, pp->ensure_unicode, x, len, &pp->scratch[thread], starts, &n);
    /* Checked once a chunk: a chunk adds at most its length to the arena and a few
     * slots, and a growth doubles what the table holds at most. */
    if (st == BP_OK && pp->share && 2 * bp_piece_table_bytes(&pp->tables[thread]) > pp->share)
        st = spill(&pp->runs[thread], &pp->tables[thread], NULL);
    for (size_t k = 0; k < n && st == BP_OK; k++) {
        size_t end = k + 1 < n ? starts[k + 1] : len;
        st = bp_piece_table_add(&pp->tables[thread], x + starts[k], end - starts[k], 1);
    }
    return st;
}

/* When a thread spilled, every table goes to the runs, which then hold all the pieces. */
static bp_status gather_runs(piece_pass *pp, unsigned threads, bp_runs *runs, bp_error *err)
{
    bool spilled = false;
    for (unsigned t = 0; t < threads; t++)
        spilled |= pp->runs[t].written > 0;
    bp_status st = BP_OK;
    for (unsigned t = 0; t < threads && st == BP_OK; t++) {
        if (spilled && pp->tables[t].n)
            st = spill(&pp->runs[t], &pp->tables[t], err);
        if (st == BP_OK)
            st = bp_runs_take(runs, &pp->runs[t], err);
    }
    return st;
}

bp_status bp_count_pieces(const bp_ngram_model *m, const bp_spool *sp, const bp_train_options *o,
                          unsigned threads, bp_piece_table *pieces, bp_runs *runs, bp_error *err)
{
    piece_pass pp = {.m = m, .ensure_unicode = !o->no_ensure_unicode,
                     .share = o->memory_limit / 2 / threads};
    pp.runs = calloc(threads, sizeof *pp.runs);
    for (unsigned t = 0; pp.runs && t < threads; t++)
        pp.runs[t] = (bp_runs){.dir = runs->dir, .info = runs->info};
    pp.tables = calloc(threads, sizeof *pp.tables);
    pp.scratch = calloc(threads, sizeof *pp.scratch);
    pp.starts = calloc(threads, sizeof *pp.starts);
    pp.starts_cap = calloc(threads, sizeof *pp.starts_cap);
    bp_status st = BP_OK;
    if (!pp.tables || !pp.scratch || !pp.starts || !pp.starts_cap || !pp.runs)
        st = bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory segmenting");
    if (st == BP_OK)
        st = bp_spool_for_each(sp, threads, count_chunk_pieces, &pp, o, "segmenting", err);
    if (st == BP_OK)
        st = gather_runs(&pp, threads, runs, err);
    for (unsigned t = 1; pp.tables && t < threads && st == BP_OK && !runs->n; t++)
        if (bp_piece_table_merge(&pp.tables[0], &pp.tables[t]) != BP_OK)
            st = bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory counting pieces");
    for (unsigned t = 0; pp.tables && t < threads; t++) {
        if (t == 0 && st == BP_OK && !runs->n)
            *pieces = pp.tables[0];
        else
            bp_piece_table_free(&pp.tables[t]);
        if (pp.scratch)
            bp_bnlm_scratch_free(&pp.scratch[t]);
        if (pp.starts)
            free(pp.starts[t]);
        if (pp.runs)
            bp_runs_free(&pp.runs[t]);
    }
    free(pp.runs);
    free(pp.tables);
    free(pp.scratch);
    free(pp.starts);
    free(pp.starts_cap);
    return st;
}
