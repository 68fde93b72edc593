/*
 * nbest.c -- the k best segmentations of a text (bp_encode_nbest), exact, best first.
 *
 * The order is the one the header documents: score descending, ties to the longer last
 * piece, then to the better rest. Viterbi (lattice.c, algorithms §4.3) picks exactly the
 * first segmentation of this order, because floating-point addition is monotonic: if the
 * prefix a comes before the prefix b, then a + s(w) >= b + s(w), so a + w comes before
 * b + w. For the same reason the segmentations of x[0..e) that end with the piece w are,
 * in order, the list of x[0..e-|w|) each extended by w: the k best of x[0..e) are the
 * first k of a merge of already sorted lists, one per piece ending at e, taken longest
 * first (§4.2) so that the earlier list wins a tie. The merge is a binary heap over the
 * lists' heads: O(m + k log m) per position for m pieces.
 *
 * Per position the lattice keeps up to k back links (the last piece, as an index in the
 * automaton's output array, and the rank of the segmentation it extends); the scores only
 * while a piece can still reach back to them, in a ring as in lattice.c. The links are
 * kept for the whole text for the read-back: 8 bytes per byte of text and per rank.
 *
 * Chunks are segmented on their own, each from 0 as bp_encode() does (that is why k = 1
 * gives its ids even where a sum over the whole text would round two chunk choices to a
 * tie). A text's segmentation is one of each chunk, its score the chunk scores added left
 * to right, and the k best texts come from the same merge once per chunk: the lists are
 * the chunk's own k best, each added to the best totals of the chunks before it.
 */
#include <stdlib.h>
#include <string.h>

#include "bp_internal.h"

/* A back link: a segmentation's last step and the rank of the segmentation it extends.
 * In a chunk's lattice the step is an index in ac.out (the last piece); across chunks it
 * is the rank of the chunk's own segmentation. */
typedef struct nbest_link {
    uint32_t step;
    uint32_t rank;
} nbest_link;

/* One sorted list of a merge: its candidate r is base[r] + add, for r < n. */
typedef struct merge_list {
    const double *base;
    double add;
    uint32_t n;    /* >= 1 */
    uint32_t step; /* what a candidate of this list records as its step */
} merge_list;

typedef struct merge_head {
    double value;
    uint32_t list; /* an earlier list wins a tie */
    uint32_t rank;
} merge_head;

/* Everything one call needs besides the model and the text. */
typedef struct nbest_work {
    uint32_t k;
    nbest_link *links;       /* (len + 1) * k: the lattice's links at each text position */
    uint32_t *count;         /* len + 1: how many segmentations each position keeps */
    double *ring;            /* (ring_mask + 1) * k scores of the last positions */
    size_t ring_mask;
    size_t n_chunks;
    size_t *chunk_end;       /* n_chunks: where each chunk ends in the text */
    nbest_link *chunk_links; /* n_chunks * k: step = rank in the chunk, rank = in the text
                                before it */
    uint32_t *chunk_count;   /* n_chunks */
    double *totals;          /* 2 * k: the best totals before and after the current chunk */
    merge_list *lists;       /* room for the larger of the longest piece and k */
    merge_head *heap;
} nbest_work;

static bool comes_before(const merge_head *a, const merge_head *b)
{
    return a->value > b->value || (a->value == b->value && a->list < b->list);
}

static void sift_down(merge_head *heap, uint32_t n, uint32_t i)
{
    merge_head moving = heap[i];
    for (;;) {
        uint32_t child = 2 * i + 1;
        if (child >= n)
            break;
        if (child + 1 < n && comes_before(&heap[child + 1], &heap[child]))
            child++;
        if (!comes_before(&heap[child], &moving))
            break;
        heap[i] = heap[child];
        i = child;
    }
    heap[i] = moving;
}

/* Writes the first k candidates of lists[0..n_lists) (n_lists >= 1) to score[] and link[]
 * in order: value descending, then list, then rank. Returns how many: k, or all of them
 * when there are fewer. */
static uint32_t merge_best(const merge_list *lists, uint32_t n_lists, uint32_t k,
                           merge_head *heap, double *score, nbest_link *link)
{
    if (k == 1) { /* the Viterbi's loop: no heap to build for one pop */
        uint32_t best = 0;
        double best_value = lists[0].base[0] + lists[0].add;
        for (uint32_t i = 1; i < n_lists; i++) {
            double value = lists[i].base[0] + lists[i].add;
            if (value > best_value) {
                best_value = value;
                best = i;
            }
        }
        score[0] = best_value;
        link[0] = (nbest_link){lists[best].step, 0};
        return 1;
    }
    for (uint32_t i = 0; i < n_lists; i++)
        heap[i] = (merge_head){lists[i].base[0] + lists[i].add, i, 0};
    for (uint32_t i = n_lists / 2; i-- > 0;)
        sift_down(heap, n_lists, i);
    uint32_t n = 0, live = n_lists;
    while (n < k && live > 0) {
        merge_head *top = &heap[0];
        const merge_list *l = &lists[top->list];
        score[n] = top->value;
        link[n] = (nbest_link){l->step, top->rank};
        n++;
        if (++top->rank < l->n)
            top->value = l->base[top->rank] + l->add;
        else
            *top = heap[--live];
        sift_down(heap, live, 0);
    }
    return n;
}

/* The k-best lattice of one chunk x[0..len) that starts at text position `pos`: fills
 * links and count at positions pos+1 .. pos+len; the chunk's own list is then the ring's
 * row of len. */
static void chunk_forward(nbest_work *w, const bp_automaton *ac, const unsigned char *x,
                          size_t len, size_t pos)
{
    const size_t k = w->k, mask = w->ring_mask;
    nbest_link *links = w->links + pos * k;
    uint32_t *count = w->count + pos;
    w->ring[0] = 0.0;
    count[0] = 1;
    uint32_t state = 0;
    for (size_t e = 1; e <= len; e++) {
        state = bp_automaton_step(ac, state, x[e - 1]);
        const bp_match *o = ac->out + ac->out_begin[state];
        uint32_t m = 0;
        for (;; o++) {
            size_t start = e - o->len;
            w->lists[m++] = (merge_list){w->ring + (start & mask) * k, o->score, count[start],
                                         (uint32_t)(o - ac->out)};
            if (o->len == 1)
                break;
        }
        count[e] = merge_best(w->lists, m, w->k, w->heap, w->ring + (e & mask) * k,
                              links + e * k);
    }
}

/* Combines chunk j's list (the ring's row of its length) with the best totals of the
 * chunks before it (or the empty text's 0 for the first). */
static void chunk_merge(nbest_work *w, size_t j, size_t chunk_len)
{
    const size_t k = w->k;
    const double *chunk_scores = w->ring + (chunk_len & w->ring_mask) * k;
    uint32_t n_chunk = w->count[w->chunk_end[j]];
    const double *before = j % 2 ? w->totals + k : w->totals;
    double *after = j % 2 ? w->totals : w->totals + k;
    uint32_t n_before = j ? w->chunk_count[j - 1] : 1;
    for (uint32_t q = 0; q < n_chunk; q++)
        w->lists[q] = (merge_list){before, chunk_scores[q], n_before, q};
    w->chunk_count[j] = merge_best(w->lists, n_chunk, w->k, w->heap, after,
                                   w->chunk_links + j * k);
}

/* Follows segmentation `rank` of the whole text back to its start. Returns its token
 * count and, when ids_end is not NULL, writes its ids last to first before ids_end. */
static size_t read_back(const nbest_work *w, const bp_automaton *ac, uint32_t rank,
                        uint32_t *ids_end)
{
    const size_t k = w->k;
    size_t n = 0;
    for (size_t j = w->n_chunks; j-- > 0;) {
        nbest_link in_text = w->chunk_links[j * k + rank];
        size_t begin = j ? w->chunk_end[j - 1] : 0;
        uint32_t r = in_text.step;
        for (size_t p = w->chunk_end[j]; p > begin;) {
            nbest_link l = w->links[p * k + r];
            const bp_match *piece = ac->out + l.step;
            if (ids_end)
                *--ids_end = piece->id;
            n++;
            p -= piece->len;
            r = l.rank;
        }
        rank = in_text.rank;
    }
    return n;
}

static void work_free(nbest_work *w)
{
    free(w->links);
    free(w->count);
    free(w->ring);
    free(w->chunk_end);
    free(w->chunk_links);
    free(w->chunk_count);
    free(w->totals);
    free(w->lists);
    free(w->heap);
}

/* Cuts x[0..len) into chunks and allocates everything for k. */
static bp_status work_init(nbest_work *w, const bp_model *m, const unsigned char *x, size_t len,
                           uint32_t k)
{
    *w = (nbest_work){.k = k};
    if (len + 2 > SIZE_MAX / k / sizeof(nbest_link))
        return BP_ERR_TOO_LARGE;
    size_t longest = 0;
    for (size_t pos = 0; pos < len; w->n_chunks++) {
        size_t chunk = bp_chunk_len(x + pos, len - pos);
        longest = chunk > longest ? chunk : longest;
        pos += chunk;
    }
    size_t span = longest < m->ac.max_depth ? longest : m->ac.max_depth, rows = 64;
    while (rows <= span)
        rows *= 2;
    w->ring_mask = rows - 1;
    size_t room = (k > m->ac.max_depth ? k : m->ac.max_depth) + 1;
    size_t n_chunks = w->n_chunks ? w->n_chunks : 1;
    w->links = malloc((len + 1) * k * sizeof *w->links);
    w->count = malloc((len + 1) * sizeof *w->count);
    w->ring = malloc(rows * k * sizeof *w->ring);
    w->chunk_end = malloc(n_chunks * sizeof *w->chunk_end);
    w->chunk_links = malloc(n_chunks * k * sizeof *w->chunk_links);
    w->chunk_count = malloc(n_chunks * sizeof *w->chunk_count);
    w->totals = malloc(2 * k * sizeof *w->totals);
    w->lists = malloc(room * sizeof *w->lists);
    w->heap = malloc(room * sizeof *w->heap);
    if (!w->links || !w->count || !w->ring || !w->chunk_end || !w->chunk_links ||
        !w->chunk_count || !w->totals || !w->lists || !w->heap)
        return BP_ERR_NOMEM;
    w->totals[0] = 0.0; /* the empty text's one segmentation, for a text of no chunk */
    return BP_OK;
}

/* Runs every chunk's lattice and the merges across chunks. */
static void segment_text(nbest_work *w, const bp_model *m, const unsigned char *x, size_t len)
{
    size_t pos = 0;
    for (size_t j = 0; j < w->n_chunks; j++) {
        size_t chunk = bp_chunk_len(x + pos, len - pos);
        chunk_forward(w, &m->ac, x + pos, chunk, pos);
        w->chunk_end[j] = pos + chunk;
        chunk_merge(w, j, chunk);
        pos += chunk;
    }
}

/* Fills *out with the segmentations the merges found, <bos>/<eos> as `flags` say. */
static bp_status collect(const nbest_work *w, const bp_model *m, unsigned flags, bp_nbest *out)
{
    size_t n = w->n_chunks ? w->chunk_count[w->n_chunks - 1] : 1;
    const double *totals = w->n_chunks % 2 ? w->totals + w->k : w->totals;
    size_t specials = !!(flags & BP_ENCODE_BOS) + !!(flags & BP_ENCODE_EOS);
    out->ids_begin = malloc((n + 1) * sizeof *out->ids_begin);
    out->scores = malloc(n * sizeof *out->scores);
    if (!out->ids_begin || !out->scores)
        return BP_ERR_NOMEM;
    size_t n_ids = 0;
    for (uint32_t i = 0; i < n; i++) {
        out->ids_begin[i] = n_ids;
        n_ids += specials + read_back(w, &m->ac, i, NULL);
    }
    out->ids_begin[n] = n_ids;
    out->ids = malloc((n_ids ? n_ids : 1) * sizeof *out->ids);
    if (!out->ids)
        return BP_ERR_NOMEM;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t *begin = out->ids + out->ids_begin[i], *end = out->ids + out->ids_begin[i + 1];
        if (flags & BP_ENCODE_BOS)
            *begin = BP_ID_BOS;
        if (flags & BP_ENCODE_EOS)
            *--end = BP_ID_EOS;
        read_back(w, &m->ac, i, end);
        out->scores[i] = totals[i];
    }
    out->n = n;
    return BP_OK;
}

bp_status bp_encode_nbest(bp_encoder *enc, const void *text, size_t len,
                          const bp_encode_options *opts, size_t k, bp_nbest *out, bp_error *err)
{
    static const bp_encode_options defaults = {0};
    const bp_encode_options *o = opts ? opts : &defaults;
    if (out)
        *out = (bp_nbest){0};
    if (!enc || !out || (!text && len))
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "bp_encode_nbest: %s",
                       !enc ? "enc is NULL" : !out ? "out is NULL" : "text is NULL");
    if (k < 1 || k > BP_NBEST_MAX)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX,
                       "bp_encode_nbest: k must be from 1 to %d (got %zu)", BP_NBEST_MAX, k);
    if (o->flags & BP_ENCODE_SAMPLE)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX,
                       "bp_encode_nbest: BP_ENCODE_SAMPLE does not apply (n-best lists the "
                       "best segmentations, it draws none)");
    const bp_model *m;
    const unsigned char *x;
    size_t x_len;
    bp_status st = bp_encoder_prepare(enc, NULL, 0, 0, &m, &x, &x_len);
    if ((o->flags & BP_ENCODE_SPECIAL) && m->special)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX,
                       "bp_encode_nbest: BP_ENCODE_SPECIAL is not supported yet on a model with "
                       "special tokens");
    st = bp_encoder_prepare(enc, text, len, o->flags, &m, &x, &x_len);
    if (st != BP_OK)
        return bp_fail(err, st, UINT64_MAX, "normalizing %zu bytes: %s", len, bp_strerror(st));
    nbest_work w;
    st = work_init(&w, m, x, x_len, (uint32_t)k);
    if (st == BP_OK) {
        segment_text(&w, m, x, x_len);
        st = collect(&w, m, o->flags, out);
    }
    work_free(&w);
    if (st != BP_OK) {
        bp_nbest_free(out);
        return bp_fail(err, st, UINT64_MAX, "listing the %zu best segmentations of %zu bytes: %s",
                       k, len, bp_strerror(st));
    }
    return BP_OK;
}

void bp_nbest_free(bp_nbest *nbest)
{
    if (!nbest)
        return;
    free(nbest->ids);
    free(nbest->ids_begin);
    free(nbest->scores);
    *nbest = (bp_nbest){0};
}
