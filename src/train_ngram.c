/*
 * train_ngram.c -- n-gram counting and pruning into conditional log-probabilities
 * (docs/algorithms.md §3.1-3.2).
 *
 * Counting is level-wise ("apriori"): a k-gram can reach min_count only if its (k-1)-byte
 * prefix and suffix both did, so level k counts only the k-grams whose prefix and suffix
 * survived level k-1. That is exact for every k-gram that survives, and it keeps each
 * level's table to the candidates instead of every distinct n-gram of the corpus.
 * Levels 1 and 2 are counted while spooling (dense arrays); levels 3..order take one pass
 * each over the spool.
 *
 * Arithmetic follows the reference: l_1(b) = log c(b) - log N' (N' counts the bytes that
 * were completed to 1), l_k(g) = log c(g) - log c(g's first k-1 bytes), as differences of
 * two logs of the counts converted to double.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "counts_file.h"
#include "train_internal.h"

#define PREFETCH_AHEAD 8 /* positions: enough to overlap the table lookups' cache misses */

/* What one level's pass needs: which (k-1)-grams survived, and per-thread state. */
typedef struct level_pass {
    unsigned k;
    const bp_ngram_model *m;   /* level 2 survivors are its finite l2 entries (k == 3) */
    const bp_u64_table *prev;  /* counts of the level k-1 survivors (k >= 4) */
    bp_u64_table *cand;        /* per thread: counts of this level's candidates */
    size_t share;              /* bytes of slots a thread's table may reach; 0: no limit */
    bp_runs *runs;             /* per thread: the tables spilled when they reached it */
    unsigned char **ok;        /* per thread: scratch, "the (k-1)-gram at i survived" */
    size_t *ok_cap;
} level_pass;

static bool survived(const level_pass *lp, uint64_t bytes)
{
    if (lp->k == 3)
        return bp_ngram_l2(lp->m, bytes) > -INFINITY;
    return bp_u64_table_find(lp->prev, bytes | (uint64_t)(lp->k - 1) << 56) != NULL;
}

/* Writes a table sorted by key as a run (keys are big-endian bytes within a level). */
typedef struct table_run {
    const bp_u64_table *t;
    unsigned k;
} table_run;

static void fill_table_run(void *ctx, bp_counts_writer *cw)
{
    const table_run *tr = ctx;
    for (size_t i = 0; i < tr->t->n; i++) {
        unsigned char g[BP_MAX_ORDER];
        for (unsigned j = 0; j < tr->k; j++)
            g[j] = (unsigned char)(tr->t->slots[i].key >> (8 * (tr->k - 1 - j)));
        bp_counts_write_entry(cw, g, tr->k, tr->t->slots[i].val);
    }
}

static bp_status spill(bp_runs *runs, bp_u64_table *t, unsigned k, bp_error *err)
{
    bp_u64_table_sort_out(t);
    table_run tr = {t, k};
    bp_status st = bp_runs_write(runs, fill_table_run, &tr, err);
    bp_u64_table_clear(t);
    return st;
}

static bp_status count_level_chunk(void *ctx, unsigned thread, const unsigned char *x, size_t len)
{
    level_pass *lp = ctx;
    const unsigned k = lp->k, w = k - 1;
    if (len < k)
        return BP_OK;
    unsigned char *ok = bp_grow(lp->ok[thread], &lp->ok_cap[thread], len, 1);
    if (!ok)
        return BP_ERR_NOMEM;
    lp->ok[thread] = ok;
    const uint64_t mask = (UINT64_C(1) << (8 * w)) - 1;
    uint64_t win = 0;
    for (size_t i = 0; i < len; i++) {
        if (lp->k > 3 && i + PREFETCH_AHEAD < len && i + PREFETCH_AHEAD + 1 >= w)
            bp_u64_table_prefetch(lp->prev, bp_ngram_key(x + i + PREFETCH_AHEAD + 1 - w, w));
        win = (win << 8 | x[i]) & mask;
        if (i + 1 >= w)
            ok[i + 1 - w] = survived(lp, win);
    }
    bp_u64_table *cand = &lp->cand[thread];
    for (size_t s = 0; s + k <= len; s++) {
        size_t ahead = s + PREFETCH_AHEAD;
        if (ahead + k <= len && ok[ahead] && ok[ahead + 1])
            bp_u64_table_prefetch(cand, bp_ngram_key(x + ahead, k));
        if (ok[s] && ok[s + 1]) {
            /* The growth would hold old and new slots: three times the current ones. */
            if (lp->share && bp_u64_table_grows(cand) &&
                3 * cand->cap * sizeof *cand->slots > lp->share) {
                bp_status st = spill(&lp->runs[thread], cand, k, NULL);
                if (st != BP_OK)
                    return st;
            }
            bp_status st = bp_u64_table_add(cand, bp_ngram_key(x + s, k), 1);
            if (st != BP_OK)
                return st;
        }
    }
    return BP_OK;
}

/* When a thread spilled, every table goes to the runs, which then hold the whole level. */
static bp_status gather_runs(level_pass *lp, unsigned threads, bp_runs *runs, bp_error *err)
{
    bool spilled = false;
    for (unsigned t = 0; t < threads; t++)
        spilled |= lp->runs[t].written > 0;
    bp_status st = BP_OK;
    for (unsigned t = 0; t < threads && st == BP_OK; t++) {
        if (spilled && lp->cand[t].n)
            st = spill(&lp->runs[t], &lp->cand[t], lp->k, err);
        if (st == BP_OK)
            st = bp_runs_take(runs, &lp->runs[t], err);
    }
    return st;
}

/* Counts level k over the spool; the merged candidate counts end up in *counts, or, when
 * o->memory_limit made tables spill, in `runs` (*counts then empty). */
static bp_status count_level(level_pass *lp, const bp_spool *sp, const bp_train_options *o,
                             unsigned threads, bp_u64_table *counts, bp_runs *runs,
                             bp_error *err)
{
    lp->cand = calloc(threads, sizeof *lp->cand);
    lp->ok = calloc(threads, sizeof *lp->ok);
    lp->ok_cap = calloc(threads, sizeof *lp->ok_cap);
    lp->runs = calloc(threads, sizeof *lp->runs);
    lp->share = o->memory_limit / 2 / threads;
    bp_status st = BP_OK;
    if (!lp->cand || !lp->ok || !lp->ok_cap || !lp->runs)
        st = bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory counting n-grams");
    for (unsigned t = 0; lp->runs && t < threads; t++)
        lp->runs[t] = (bp_runs){.dir = runs->dir, .info = runs->info};
    if (st == BP_OK)
        st = bp_spool_for_each(sp, threads, count_level_chunk, lp, o, "counting n-grams", err);
    if (st == BP_OK)
        st = gather_runs(lp, threads, runs, err);
    for (unsigned t = 1; lp->cand && t < threads && st == BP_OK && !runs->n; t++)
        if (bp_u64_table_merge(&lp->cand[0], &lp->cand[t]) != BP_OK)
            st = bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory counting n-grams");
    for (unsigned t = 0; lp->cand && t < threads; t++) {
        if (t == 0 && st == BP_OK && !runs->n)
            *counts = lp->cand[0];
        else
            bp_u64_table_free(&lp->cand[t]);
    }
    for (unsigned t = 0; lp->ok && t < threads; t++)
        free(lp->ok[t]);
    for (unsigned t = 0; lp->runs && t < threads; t++)
        bp_runs_free(&lp->runs[t]);
    free(lp->runs);
    free(lp->cand);
    free(lp->ok);
    free(lp->ok_cap);
    return st;
}

static uint64_t as_bits(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

/* Keeps the level-k counts that reach min_count (into *survivors) and stores their
 * log-probabilities conditioned on their prefix into m->high. When every count survives
 * (counts read from a file hold no others), the counts table itself becomes *survivors,
 * and *counts is left empty. */
static bp_status keep_level(bp_ngram_model *m, unsigned k, bp_u64_table *counts,
                            uint64_t min_count, const bp_byte_counts *c,
                            const bp_u64_table *prev, bp_u64_table *survivors)
{
    /* Sized once for all the survivors: the tables never hold two copies of their slots. */
    size_t n_survivors = 0;
    for (size_t i = 0; i < counts->cap; i++)
        n_survivors += counts->slots[i].key && counts->slots[i].val >= min_count;
    bool all_survive = n_survivors == counts->n;
    if (bp_u64_table_reserve(&m->high, m->high.n + n_survivors) != BP_OK ||
        (!all_survive && bp_u64_table_reserve(survivors, n_survivors) != BP_OK))
        return BP_ERR_NOMEM;
    for (size_t i = 0; i < counts->cap; i++) {
        uint64_t key = counts->slots[i].key, n = counts->slots[i].val;
        if (!key || n < min_count)
            continue;
        uint64_t prefix = (key & ((UINT64_C(1) << 56) - 1)) >> 8;
        const uint64_t *found =
            k == 3 ? NULL : bp_u64_table_find(prev, prefix | (uint64_t)(k - 1) << 56);
        uint64_t pc = k == 3 ? bp_pair_count(c, (unsigned)(prefix >> 8), prefix & 0xFF)
                             : found ? *found : 0;
        /* Counted from texts, a prefix occurs at least as often as the n-gram; counts read
         * from a file are checked, as a crafted file could say otherwise. */
        if (pc < n)
            return BP_ERR_BAD_COUNTS;
        double lp = log((double)n) - log((double)pc);
        if (bp_u64_table_add(&m->high, key, as_bits(lp)) != BP_OK ||
            (!all_survive && bp_u64_table_add(survivors, key, n) != BP_OK))
            return BP_ERR_NOMEM;
        m->n_kept++;
    }
    if (all_survive) {
        *survivors = *counts;
        *counts = (bp_u64_table){0};
    }
    return BP_OK;
}

bp_status bp_ngram_build_from(bp_ngram_model *m, const bp_byte_counts *c,
                              const bp_train_options *o, bp_ngram_level_fn level, void *ctx,
                              bp_error *err)
{
    memset(m, 0, sizeof *m);
    m->order = o->order;
    /* §3.2 step 1: every byte is a 1-gram; missing ones count 1 and add to N. */
    uint64_t c1[256], n_total = c->positions;
    for (unsigned b = 0; b < 256; b++) {
        c1[b] = c->uni[b] ? c->uni[b] : 1;
        n_total += !c->uni[b];
    }
    double log_n = log((double)n_total);
    for (unsigned b = 0; b < 256; b++)
        m->l1[b] = log((double)c1[b]) - log_n;
    m->n_kept = 256;
    /* Rows for the bytes that reach min_count: a pair never counts more than its first
     * byte, so no other byte begins a surviving pair. */
    size_t rows = 1;
    for (unsigned b = 0; b < 256; b++)
        rows += o->order >= 2 && c->uni[b] >= o->min_count;
    m->l2_rows = malloc(rows * 256 * sizeof *m->l2_rows);
    if (!m->l2_rows)
        return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory");
    for (unsigned b1 = 0; b1 < 256; b1++)
        m->l2_rows[b1] = -INFINITY;
    double *row = m->l2_rows;
    for (unsigned b0 = 0; b0 < 256; b0++) {
        m->l2[b0] = m->l2_rows;
        if (o->order < 2 || c->uni[b0] < o->min_count)
            continue;
        m->l2[b0] = row += 256;
        for (unsigned b1 = 0; b1 < 256; b1++) {
            uint64_t n = bp_pair_count(c, b0, b1);
            bool keep = n >= o->min_count;
            row[b1] = keep ? log((double)n) - log((double)c1[b0]) : -INFINITY;
            m->n_kept += keep;
        }
    }
    bp_u64_table prev = {0};
    bp_status st = BP_OK;
    for (unsigned k = 3; k <= o->order && st == BP_OK; k++) {
        bp_u64_table counts = {0}, survivors = {0};
        st = level(ctx, k, m, &prev, &counts, err);
        bp_status kept =
            st == BP_OK ? keep_level(m, k, &counts, o->min_count, c, &prev, &survivors) : BP_OK;
        if (kept == BP_ERR_BAD_COUNTS)
            st = bp_fail(err, kept, UINT64_MAX, "an n-gram counts more than its prefix");
        else if (kept != BP_OK)
            st = bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory counting n-grams");
        bp_u64_table_free(&counts);
        bp_u64_table_free(&prev);
        prev = survivors;
    }
    bp_u64_table_free(&prev);
    if (st != BP_OK)
        bp_ngram_free(m);
    return st;
}

/* The spool as the source of each level: a pass over it counting the candidates. */
typedef struct spool_levels {
    const bp_spool *sp;
    const bp_train_options *o;
    unsigned threads;
    bp_runs *runs;
} spool_levels;

/* Adds a merged entry of the runs to the level's counts if it can survive. */
typedef struct survivor_sink {
    bp_u64_table *counts;
    uint64_t min_count;
} survivor_sink;

static bp_status add_candidate(void *ctx, const unsigned char *bytes, size_t len, uint64_t count,
                               bp_error *err)
{
    const survivor_sink *sink = ctx;
    if (count >= sink->min_count &&
        bp_u64_table_add(sink->counts, bp_ngram_key(bytes, (unsigned)len), count) != BP_OK)
        return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory counting n-grams");
    return BP_OK;
}

static bp_status count_spool_level(void *ctx, unsigned k, const bp_ngram_model *m,
                                   const bp_u64_table *prev, bp_u64_table *counts, bp_error *err)
{
    const spool_levels *sl = ctx;
    level_pass lp = {.k = k, .m = m, .prev = prev};
    bp_status st = count_level(&lp, sl->sp, sl->o, sl->threads, counts, sl->runs, err);
    /* Only the candidates that reach min_count are kept from the runs: keep_level drops
     * the others, and they are what made the level too large. */
    survivor_sink sink = {counts, sl->o->min_count};
    if (st == BP_OK && sl->runs->n)
        st = bp_runs_merge(sl->runs, add_candidate, &sink, err);
    return st;
}

bp_status bp_ngram_build(bp_ngram_model *m, const bp_spool *sp, const bp_byte_counts *c,
                         const bp_train_options *o, unsigned threads, bp_runs *runs,
                         bp_error *err)
{
    spool_levels sl = {sp, o, threads, runs};
    return bp_ngram_build_from(m, c, o, count_spool_level, &sl, err);
}

void bp_ngram_free(bp_ngram_model *m)
{
    free(m->l2_rows);
    bp_u64_table_free(&m->high);
    m->l2_rows = NULL;
}
