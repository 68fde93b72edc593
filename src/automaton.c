/*
 * automaton.c -- the byte-level Aho-Corasick automaton over all pieces of a model.
 *
 * Encoding needs, at every end position of a chunk, every piece that ends there, longest
 * first: that is the order in which the reference (pyahocorasick) reports matches, and the
 * deterministic tie-break and the glibc-parity sampler depend on it (algorithms §4.2).
 *
 * Layout: a double array (base/check) holds the goto function, so a transition is two
 * array reads; fail[] holds the failure links; the outputs of every state are stored flat
 * and already in match order (its own piece, if any, then the outputs of its failure
 * state), so enumerating the matches at a position is a linear scan with no pointer
 * chasing.
 *
 * Construction, in three passes over the states in breadth-first order:
 *   1. place the trie in the double array (pieces sorted by bytes, so the pieces below a
 *      state form one contiguous range and its children are the distinct next bytes);
 *   2. failure links: fail(child of p on c) = step(fail(p), c), shallower states first;
 *   3. output lists: own piece + outputs of the failure state (already built).
 */
#include <stdlib.h>
#include <string.h>

#include "bp_internal.h"

#define NO_PIECE UINT32_MAX
#define FREE_SLOT (-1)
#define ROOT_SLOT_MARK (-2) /* slot 0 is the root: never free, never anyone's child */

/* The piece table while building, and the order it is sorted in. */
typedef struct piece_view {
    const unsigned char *bytes;
    const uint32_t *off;
} piece_view;

/* A trie node waiting to be placed: the pieces [lo, hi) of the sorted order all start
 * with the node's string, which has `depth` bytes. */
typedef struct pending_node {
    uint32_t state, lo, hi, depth;
} pending_node;

/* Build-time state of the double array: slots and a doubly linked list of free slots in
 * increasing order, so placing children never scans occupied slots. */
typedef struct builder {
    bp_automaton *ac;
    int32_t *next_free, *prev_free; /* n_slots entries; -1 ends the list */
    int32_t free_head, free_tail;
    uint32_t *term;                 /* per slot: piece that ends at this state, or NO_PIECE */
    uint32_t *order;                /* states in breadth-first order */
    uint32_t *parent;               /* per slot */
    unsigned char *label;           /* per slot: byte on the edge from the parent */
} builder;

/* A piece as the sort sees it: qsort has no context argument, so each entry carries its
 * bytes (the library keeps no global state, not even during a build). */
typedef struct sort_entry {
    const unsigned char *bytes;
    uint32_t len, index;
} sort_entry;

static int compare_entries(const void *a, const void *b)
{
    const sort_entry *x = a, *y = b;
    int c = memcmp(x->bytes, y->bytes, x->len < y->len ? x->len : y->len);
    if (c)
        return c;
    return (x->len > y->len) - (x->len < y->len);
}

static void *grow_array(void *p, size_t old_n, size_t new_n, size_t elem, int fill)
{
    unsigned char *q = realloc(p, new_n * elem);
    if (q && fill >= 0)
        memset(q + old_n * elem, fill, (new_n - old_n) * elem);
    return q;
}

/* Extends the slot arrays to at least `need` slots; the new slots join the free list. */
static bool ensure_slots(builder *b, uint32_t need)
{
    bp_automaton *ac = b->ac;
    if (need <= ac->n_slots)
        return true;
    uint32_t old = ac->n_slots, n = old ? old : 1024;
    while (n < need)
        n += n / 2;
    int32_t *base = grow_array(ac->base, old, n, sizeof *base, 0);
    if (base) ac->base = base;
    int32_t *check = grow_array(ac->check, old, n, sizeof *check, 0xff); /* -1: FREE_SLOT */
    if (check) ac->check = check;
    int32_t *nf = grow_array(b->next_free, old, n, sizeof *nf, -1);
    if (nf) b->next_free = nf;
    int32_t *pf = grow_array(b->prev_free, old, n, sizeof *pf, -1);
    if (pf) b->prev_free = pf;
    uint32_t *term = grow_array(b->term, old, n, sizeof *term, 0xff); /* NO_PIECE */
    if (term) b->term = term;
    uint32_t *parent = grow_array(b->parent, old, n, sizeof *parent, 0);
    if (parent) b->parent = parent;
    unsigned char *label = grow_array(b->label, old, n, 1, 0);
    if (label) b->label = label;
    if (!base || !check || !nf || !pf || !term || !parent || !label)
        return false;
    for (uint32_t i = old; i < n; i++) {
        b->prev_free[i] = b->free_tail;
        if (b->free_tail >= 0)
            b->next_free[b->free_tail] = (int32_t)i;
        else
            b->free_head = (int32_t)i;
        b->free_tail = (int32_t)i;
    }
    ac->n_slots = n;
    return true;
}

static void take_slot(builder *b, uint32_t t, uint32_t owner, unsigned char c)
{
    int32_t p = b->prev_free[t], n = b->next_free[t];
    if (p >= 0) b->next_free[p] = n; else b->free_head = n;
    if (n >= 0) b->prev_free[n] = p; else b->free_tail = p;
    b->ac->check[t] = (int32_t)owner;
    b->parent[t] = owner;
    b->label[t] = c;
}

/* Finds a base such that base + c is free for every child byte c in kids[0..n). */
static bool find_base(builder *b, const unsigned char *kids, unsigned n, int32_t *out)
{
    for (int32_t f = b->free_head;; f = b->next_free[f]) {
        if (f < 0) { /* every existing free slot failed: grow and continue past the end */
            uint32_t end = b->ac->n_slots;
            if (!ensure_slots(b, end + 256))
                return false;
            f = (int32_t)end;
        }
        int32_t base = f - kids[0];
        if (base < 0)
            continue;
        if (!ensure_slots(b, (uint32_t)base + 256))
            return false;
        unsigned k = 1;
        while (k < n && b->ac->check[base + kids[k]] == FREE_SLOT)
            k++;
        if (k == n) {
            *out = base;
            return true;
        }
    }
}

static uint32_t piece_len(const piece_view *v, uint32_t i) { return v->off[i + 1] - v->off[i]; }

/* Pass 1: places the trie. Fills term/parent/label and the breadth-first order. */
static bp_status place_trie(builder *b, const piece_view *v, const uint32_t *sorted, uint32_t n,
                            uint32_t *dup)
{
    bp_automaton *ac = b->ac;
    size_t q_cap = 1024, q_head = 0, q_tail = 0, n_order = 0, order_cap = 1024;
    pending_node *queue = malloc(q_cap * sizeof *queue);
    b->order = malloc(order_cap * sizeof *b->order);
    bp_status st = BP_ERR_NOMEM;
    if (!queue || !b->order || !ensure_slots(b, 256))
        goto done;
    take_slot(b, 0, 0, 0);
    ac->check[0] = ROOT_SLOT_MARK;
    queue[q_tail++] = (pending_node){0, 0, n, 0};
    while (q_head < q_tail) {
        pending_node node = queue[q_head++];
        if (n_order == order_cap) {
            uint32_t *o = realloc(b->order, (order_cap *= 2) * sizeof *o);
            if (!o) goto done;
            b->order = o;
        }
        b->order[n_order++] = node.state;
        uint32_t i = node.lo;
        if (i < node.hi && piece_len(v, sorted[i]) == node.depth) {
            b->term[node.state] = sorted[i++];
            if (i < node.hi && piece_len(v, sorted[i]) == node.depth) {
                *dup = sorted[i];
                st = BP_ERR_DUP_PIECE;
                goto done;
            }
        }
        if (i == node.hi)
            continue;
        unsigned char kids[256];
        uint32_t kid_lo[257];
        unsigned n_kids = 0;
        for (; i < node.hi; i++) {
            unsigned char c = v->bytes[v->off[sorted[i]] + node.depth];
            if (n_kids == 0 || kids[n_kids - 1] != c) {
                kids[n_kids] = c;
                kid_lo[n_kids++] = i;
            }
        }
        kid_lo[n_kids] = node.hi;
        int32_t base;
        if (!find_base(b, kids, n_kids, &base))
            goto done;
        ac->base[node.state] = base;
        if (q_tail + n_kids > q_cap) {
            /* Compact the consumed front before growing. */
            memmove(queue, queue + q_head, (q_tail - q_head) * sizeof *queue);
            q_tail -= q_head;
            q_head = 0;
            if (q_tail + n_kids > q_cap) {
                pending_node *q = realloc(queue, (q_cap = 2 * q_cap + n_kids) * sizeof *q);
                if (!q) goto done;
                queue = q;
            }
        }
        for (unsigned k = 0; k < n_kids; k++) {
            uint32_t t = (uint32_t)base + kids[k];
            take_slot(b, t, node.state, kids[k]);
            queue[q_tail++] = (pending_node){t, kid_lo[k], kid_lo[k + 1], node.depth + 1};
        }
    }
    ac->n_states = (uint32_t)n_order;
    st = BP_OK;
done:
    free(queue);
    return st;
}

/* Pass 2: failure links, in breadth-first order so that fail(parent) is final. */
static void link_failures(builder *b)
{
    bp_automaton *ac = b->ac;
    ac->fail[0] = 0;
    for (uint32_t k = 1; k < ac->n_states; k++) {
        uint32_t t = b->order[k], p = b->parent[t];
        ac->fail[t] = p == 0 ? 0 : bp_automaton_step(ac, ac->fail[p], b->label[t]);
    }
}

/* Pass 3: flat output lists, longest first: own piece, then the failure state's list. */
static bp_status build_outputs(builder *b, const piece_view *v, const double *scores)
{
    bp_automaton *ac = b->ac;
    uint32_t *count = calloc(ac->n_slots, sizeof *count);
    ac->out_begin = malloc(((size_t)ac->n_slots + 1) * sizeof *ac->out_begin);
    if (!count || !ac->out_begin) {
        free(count);
        return BP_ERR_NOMEM;
    }
    for (uint32_t k = 1; k < ac->n_states; k++) {
        uint32_t t = b->order[k];
        count[t] = (b->term[t] != NO_PIECE) + count[ac->fail[t]];
    }
    size_t total = 0;
    for (uint32_t s = 0; s < ac->n_slots; s++) {
        ac->out_begin[s] = (uint32_t)total;
        total += count[s];
    }
    ac->out_begin[ac->n_slots] = (uint32_t)total;
    free(count);
    if (total > UINT32_MAX)
        return BP_ERR_TOO_LARGE;
    ac->n_out = total;
    ac->out = malloc((total ? total : 1) * sizeof *ac->out);
    if (!ac->out)
        return BP_ERR_NOMEM;
    for (uint32_t k = 1; k < ac->n_states; k++) {
        uint32_t t = b->order[k], f = ac->fail[t];
        bp_match *dst = ac->out + ac->out_begin[t];
        uint32_t p = b->term[t];
        if (p != NO_PIECE)
            *dst++ = (bp_match){scores[p], piece_len(v, p), p + BP_N_SPECIAL};
        memcpy(dst, ac->out + ac->out_begin[f],
               (ac->out_begin[f + 1] - ac->out_begin[f]) * sizeof *dst);
    }
    return BP_OK;
}

bp_status bp_automaton_build(bp_automaton *ac, const unsigned char *bytes, const uint32_t *off,
                             const double *scores, uint32_t n, uint32_t *dup)
{
    memset(ac, 0, sizeof *ac);
    piece_view v = {bytes, off};
    builder b = {.ac = ac, .free_head = -1, .free_tail = -1};
    uint32_t *sorted = malloc((n ? n : 1) * sizeof *sorted);
    sort_entry *entries = malloc((n ? n : 1) * sizeof *entries);
    bp_status st = BP_ERR_NOMEM;
    if (!sorted || !entries)
        goto done;
    for (uint32_t i = 0; i < n; i++)
        entries[i] = (sort_entry){bytes + off[i], piece_len(&v, i), i};
    qsort(entries, n, sizeof *entries, compare_entries);
    for (uint32_t i = 0; i < n; i++)
        sorted[i] = entries[i].index;
    free(entries);
    entries = NULL;
    st = place_trie(&b, &v, sorted, n, dup);
    if (st != BP_OK)
        goto done;
    ac->fail = calloc(ac->n_slots, sizeof *ac->fail);
    if (!ac->fail) {
        st = BP_ERR_NOMEM;
        goto done;
    }
    link_failures(&b);
    st = build_outputs(&b, &v, scores);
done:
    free(entries);
    free(sorted);
    free(b.next_free);
    free(b.prev_free);
    free(b.term);
    free(b.order);
    free(b.parent);
    free(b.label);
    if (st != BP_OK)
        bp_automaton_free(ac);
    return st;
}

void bp_automaton_free(bp_automaton *ac)
{
    free(ac->base);
    free(ac->check);
    free(ac->fail);
    free(ac->out_begin);
    free(ac->out);
    memset(ac, 0, sizeof *ac);
}

uint32_t bp_automaton_find(const bp_automaton *ac, const unsigned char *bytes, size_t len)
{
    uint32_t s = 0;
    for (size_t i = 0; i < len; i++) {
        int32_t t = ac->base[s] + bytes[i];
        if ((uint32_t)t >= ac->n_slots || ac->check[t] != (int32_t)s)
            return UINT32_MAX;
        s = (uint32_t)t;
    }
    return s;
}
