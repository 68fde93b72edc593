/*
 * automaton.c -- the byte-level Aho-Corasick automaton over all pieces of a model.
 *
 * Encoding needs, at every end position of a chunk, every piece that ends there, longest
 * first: that is the order in which the reference (pyahocorasick) reports matches, and the
 * deterministic tie-break and the glibc-parity sampler depend on it
 * (docs/algorithms.md §4.2).
 *
 * Layout: a double array holds the goto function, base and check side by side in one
 * 8-byte slot, so a transition is one cache line; fail[] holds the failure links; the
 * outputs of every state are stored contiguously and already in match order (its own
 * piece, if any, then the outputs of its failure state) up to and including a single
 * byte, so enumerating the matches at a position is a linear scan with no pointer
 * chasing, and lists share their common tails.
 *
 * Construction, in three passes over the states in breadth-first order:
 *   1. place the trie in the double array (pieces sorted by bytes, so the pieces below a
 *      state form one contiguous range and its children are the distinct next bytes). The
 *      number of states is counted first from the sorted pieces (1 + the sum of each
 *      piece's length minus its common prefix with the previous one), so the arrays are
 *      allocated once at about the right size instead of growing;
 *   2. failure links: fail(child of p on c) = step(fail(p), c), shallower states first;
 *   3. output lists: own piece + outputs of the failure state, tails shared (see
 *      build_outputs).
 * A state without children gets base 0: base + c then lands on one of the root's
 * children (slots 0..256 belong to the root), whose check never names it.
 */
#include <stdlib.h>
#include <string.h>

#include "bp_internal.h"

#define NO_PIECE UINT32_MAX

/* The piece table while building. */
typedef struct piece_view {
    const unsigned char *bytes;
    const uint32_t *off;
} piece_view;

/* A trie node waiting to be placed: the pieces [lo, hi) of the sorted order all start
 * with the node's string, which has `depth` bytes. */
typedef struct pending_node {
    uint32_t state, lo, hi, depth;
} pending_node;

/* Build-time state of the double array: a doubly linked list of the free slots in
 * increasing order, so placing children never scans occupied slots. */
typedef struct builder {
    bp_automaton *ac;
    uint32_t cap;                   /* allocated slots (ac->n_slots is the used length) */
    int32_t *next_free, *prev_free; /* cap entries; -1 ends the list */
    int32_t free_head, free_tail;
    uint32_t *term;                 /* per slot: piece that ends at this state, or NO_PIECE */
    uint32_t *order;                /* states in breadth-first order */
    uint32_t max_slot;              /* highest slot index in use (state or base + 255) */
} builder;

/* A piece as the sort sees it: qsort has no context argument, so each entry carries its
 * bytes (the library keeps no global state, not even during a build), and its first 8
 * bytes as a big-endian number, which decides most comparisons without memcmp. */
typedef struct sort_entry {
    uint64_t prefix;
    const unsigned char *bytes;
    uint32_t len, index;
} sort_entry;

static int compare_entries(const void *a, const void *b)
{
    const sort_entry *x = a, *y = b;
    if (x->prefix != y->prefix)
        return x->prefix < y->prefix ? -1 : 1;
    uint32_t n = x->len < y->len ? x->len : y->len;
    int c = n > 8 ? memcmp(x->bytes + 8, y->bytes + 8, n - 8) : 0;
    if (c)
        return c;
    return (x->len > y->len) - (x->len < y->len);
}

/* The first 8 bytes of a piece as a big-endian number, zero-padded: ordering by it orders
 * by those bytes, with a proper prefix first. */
static uint64_t prefix_key(const unsigned char *p, uint32_t len)
{
    uint64_t k = 0;
    for (uint32_t i = 0; i < 8; i++)
        k = k << 8 | (i < len ? p[i] : 0);
    return k;
}

/* Grows the slot arrays to hold at least `need` slots; new slots join the free list. */
static bool ensure_capacity(builder *b, uint32_t need)
{
    if (need <= b->cap)
        return true;
    bp_automaton *ac = b->ac;
    uint32_t old = b->cap, n = old ? old : 1024;
    while (n < need)
        n = n + n / 2 > n ? n + n / 2 : UINT32_MAX;
    bp_ac_slot *slot = realloc(ac->slot, (size_t)n * sizeof *slot);
    if (slot) ac->slot = slot;
    int32_t *nf = realloc(b->next_free, (size_t)n * sizeof *nf);
    if (nf) b->next_free = nf;
    int32_t *pf = realloc(b->prev_free, (size_t)n * sizeof *pf);
    if (pf) b->prev_free = pf;
    uint32_t *term = realloc(b->term, (size_t)n * sizeof *term);
    if (term) b->term = term;
    if (!slot || !nf || !pf || !term)
        return false;
    for (uint32_t i = old; i < n; i++) {
        ac->slot[i] = (bp_ac_slot){0, BP_AC_FREE};
        term[i] = NO_PIECE;
        nf[i] = i + 1 < n ? (int32_t)(i + 1) : -1;
        pf[i] = i > old ? (int32_t)(i - 1) : b->free_tail;
    }
    if (b->free_tail >= 0)
        nf[b->free_tail] = (int32_t)old;
    else
        b->free_head = (int32_t)old;
    b->free_tail = (int32_t)(n - 1);
    b->cap = n;
    return true;
}

static void take_slot(builder *b, uint32_t t, int32_t owner)
{
    int32_t p = b->prev_free[t], n = b->next_free[t];
    if (p >= 0) b->next_free[p] = n; else b->free_head = n;
    if (n >= 0) b->prev_free[n] = p; else b->free_tail = p;
    b->ac->slot[t].check = owner;
    if (t > b->max_slot)
        b->max_slot = t;
}

/* Finds a base such that base + c is free for every child byte c in kids[0..n) and
 * base + 255 is a slot (so that a step from the state never leaves the array). */
static bool find_base(builder *b, const unsigned char *kids, unsigned n, int32_t *out)
{
    for (int32_t f = b->free_head;; f = b->next_free[f]) {
        if (f < 0) { /* every free slot failed: grow and continue past the old end */
            uint32_t end = b->cap;
            if (!ensure_capacity(b, end + 512))
                return false;
            f = (int32_t)end;
        }
        int32_t base = f - kids[0];
        if (base < 0)
            continue;
        if ((uint32_t)base + 256 > b->cap && !ensure_capacity(b, (uint32_t)base + 256))
            return false;
        const bp_ac_slot *slot = b->ac->slot;
        unsigned k = 1;
        while (k < n && slot[base + kids[k]].check == BP_AC_FREE)
            k++;
        if (k == n) {
            *out = base;
            return true;
        }
    }
}

static uint32_t piece_len(const piece_view *v, uint32_t i) { return v->off[i + 1] - v->off[i]; }

/* The number of trie states over the sorted pieces: the root plus, for each piece, the
 * bytes beyond its common prefix with the previous piece. */
static size_t count_states(const piece_view *v, const uint32_t *sorted, uint32_t n)
{
    size_t states = 1;
    for (uint32_t i = 0; i < n; i++) {
        const unsigned char *p = v->bytes + v->off[sorted[i]];
        uint32_t len = piece_len(v, sorted[i]), common = 0;
        if (i > 0) {
            const unsigned char *q = v->bytes + v->off[sorted[i - 1]];
            uint32_t qlen = piece_len(v, sorted[i - 1]);
            while (common < len && common < qlen && p[common] == q[common])
                common++;
        }
        states += len - common;
    }
    return states;
}

/* Pass 1: places the trie. Fills term and the breadth-first order. */
static bp_status place_trie(builder *b, const piece_view *v, const uint32_t *sorted, uint32_t n,
                            size_t n_states, uint32_t *dup)
{
    bp_automaton *ac = b->ac;
    /* Breadth-first, the queue never holds more than all states. */
    pending_node *queue = malloc(n_states * sizeof *queue);
    b->order = malloc(n_states * sizeof *b->order);
    /* A dense trie packs nearly perfectly; leave some room for the fragmentation. */
    size_t guess = n_states + n_states / 16 + 1024;
    bp_status st = BP_ERR_NOMEM;
    if (!queue || !b->order || guess > INT32_MAX || !ensure_capacity(b, (uint32_t)guess))
        goto done;
    size_t q_head = 0, q_tail = 0;
    take_slot(b, 0, BP_AC_ROOT);
    queue[q_tail++] = (pending_node){0, 0, n, 0};
    while (q_head < q_tail) {
        pending_node node = queue[q_head];
        b->order[q_head++] = node.state;
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
            continue; /* a leaf: base 0 (see the top of the file) */
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
        ac->slot[node.state].base = base;
        if ((uint32_t)base + 255 > b->max_slot)
            b->max_slot = (uint32_t)base + 255;
        for (unsigned k = 0; k < n_kids; k++) {
            uint32_t t = (uint32_t)base + kids[k];
            take_slot(b, t, (int32_t)node.state);
            queue[q_tail++] = (pending_node){t, kid_lo[k], kid_lo[k + 1], node.depth + 1};
        }
    }
    ac->n_states = (uint32_t)q_tail;
    ac->n_slots = b->max_slot + 1;
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
        uint32_t t = b->order[k], p = (uint32_t)ac->slot[t].check;
        unsigned char c = (unsigned char)(t - (uint32_t)ac->slot[p].base);
        ac->fail[t] = p == 0 ? 0 : bp_automaton_step(ac, ac->fail[p], c);
    }
}

/* Pass 3: the output lists, longest first. The list of a state whose string is a piece is
 * that piece followed by the list of its dictionary parent, the longest proper suffix that
 * is a piece (the nearest piece on the failure chain); every list therefore ends with a
 * single byte, and that is how its end is found (there is no end index). A state whose
 * string is not a piece shares the list of its nearest piece on the failure chain.
 * Lists share their tails: each piece p keeps one "preferred" child (the first piece in
 * breadth-first order whose dictionary parent is p), stored just before p's list, so
 * that the child's list is the child plus p's list in place; every other child starts a
 * new segment with a copy of p's list. A segment is laid out as
 * [c_k, ..., c_1, head, copy of the list of head's parent], c_1 the head's preferred
 * child, c_2 c_1's, and so on. This stores 240k entries for the 80k model instead of the
 * 617k of one flat list per state. */
static bp_status build_outputs(builder *b, const piece_view *v, const double *scores)
{
    bp_automaton *ac = b->ac;
    size_t ns = ac->n_slots;
    /* The free lists are done with: their memory (>= n_slots entries each, already paged
     * in) serves again, which spares fresh pages (costly on some virtual machines). */
    uint32_t *nearest = (uint32_t *)b->next_free; /* nearest piece state on the fail chain */
    uint32_t *dparent = (uint32_t *)b->prev_free; /* dictionary parent of a piece state */
    uint32_t *pref = malloc(ns * sizeof *pref);       /* preferred child, or NO_PIECE */
    uint32_t *list_len = malloc(ns * sizeof *list_len);
    ac->out_begin = malloc(ns * sizeof *ac->out_begin);
    bp_status st = BP_ERR_NOMEM;
    if (!nearest || !dparent || !pref || !list_len || !ac->out_begin)
        goto done;
    /* Dictionary parents, list lengths, preferred children and the total size. */
    nearest[0] = NO_PIECE;
    size_t total = 0;
    for (uint32_t k = 1; k < ac->n_states; k++) {
        uint32_t t = b->order[k], f = ac->fail[t];
        nearest[t] = b->term[t] != NO_PIECE ? t : nearest[f];
        if (b->term[t] == NO_PIECE)
            continue;
        uint32_t d = nearest[f]; /* NO_PIECE exactly for the single bytes (f is the root) */
        dparent[t] = d;
        pref[t] = NO_PIECE;
        list_len[t] = d == NO_PIECE ? 1 : list_len[d] + 1;
        if (d == NO_PIECE)
            total += 1;
        else if (pref[d] == NO_PIECE)
            pref[d] = t, total += 1;
        else
            total += 1 + list_len[d];
    }
    if (total > UINT32_MAX) {
        st = BP_ERR_TOO_LARGE;
        goto done;
    }
    ac->n_out = (uint32_t)total;
    ac->out = malloc((total ? total : 1) * sizeof *ac->out);
    if (!ac->out)
        goto done;
    /* Segments, heads in breadth-first order: the list of a head's parent is then placed. */
    size_t pos = 0;
    for (uint32_t k = 1; k < ac->n_states; k++) {
        uint32_t head = b->order[k];
        if (b->term[head] == NO_PIECE)
            continue;
        uint32_t d = dparent[head];
        if (d != NO_PIECE && pref[d] == head)
            continue; /* placed in its parent's segment */
        size_t chain = 0;
        for (uint32_t c = pref[head]; c != NO_PIECE; c = pref[c])
            chain++;
        size_t at = pos + chain; /* the head's place; its preferred chain goes before it */
        for (uint32_t c = head; c != NO_PIECE; c = pref[c], at--) {
            uint32_t p = b->term[c];
            ac->out[at] = (bp_match){scores[p], piece_len(v, p), p + BP_N_SPECIAL};
            ac->out_begin[c] = (uint32_t)at;
        }
        pos += chain + 1;
        if (d != NO_PIECE) {
            memcpy(ac->out + pos, ac->out + ac->out_begin[d], list_len[d] * sizeof *ac->out);
            pos += list_len[d];
        }
    }
    /* States that are not pieces share the list of their nearest piece. */
    ac->out_begin[0] = 0;
    for (uint32_t s = 0; s < ns; s++)
        if (s > 0 && ac->slot[s].check != BP_AC_FREE && b->term[s] == NO_PIECE)
            ac->out_begin[s] = ac->out_begin[nearest[s]];
        else if (ac->slot[s].check == BP_AC_FREE)
            ac->out_begin[s] = 0;
    st = BP_OK;
done:
    free(pref);
    free(list_len);
    return st;
}

bool bp_sort_pieces(const unsigned char *bytes, const uint32_t *off, uint32_t n,
                    uint32_t *sorted)
{
    piece_view v = {bytes, off};
    sort_entry *entries = malloc((n ? n : 1) * sizeof *entries);
    if (!entries)
        return false;
    for (uint32_t i = 0; i < n; i++)
        entries[i] = (sort_entry){prefix_key(bytes + off[i], piece_len(&v, i)), bytes + off[i],
                                  piece_len(&v, i), i};
    qsort(entries, n, sizeof *entries, compare_entries);
    for (uint32_t i = 0; i < n; i++)
        sorted[i] = entries[i].index;
    free(entries);
    return true;
}

bp_status bp_automaton_build(bp_automaton *ac, const unsigned char *bytes, const uint32_t *off,
                             const double *scores, uint32_t n, uint32_t *dup)
{
    memset(ac, 0, sizeof *ac);
    piece_view v = {bytes, off};
    builder b = {.ac = ac, .free_head = -1, .free_tail = -1};
    uint32_t *sorted = malloc((n ? n : 1) * sizeof *sorted);
    bp_status st = BP_ERR_NOMEM;
    if (!sorted || !bp_sort_pieces(bytes, off, n, sorted))
        goto done;
    size_t n_states = count_states(&v, sorted, n);
    if (n_states > INT32_MAX / 2) {
        st = BP_ERR_TOO_LARGE;
        goto done;
    }
    st = place_trie(&b, &v, sorted, n, n_states, dup);
    if (st != BP_OK)
        goto done;
    /* Give back the slots the estimate left unused. */
    bp_ac_slot *slot = realloc(ac->slot, (size_t)ac->n_slots * sizeof *slot);
    if (slot)
        ac->slot = slot;
    ac->fail = calloc(ac->n_slots, sizeof *ac->fail);
    if (!ac->fail) {
        st = BP_ERR_NOMEM;
        goto done;
    }
    link_failures(&b);
    st = build_outputs(&b, &v, scores);
    if (st == BP_OK) {
        ac->max_depth = 0;
        for (uint32_t i = 0; i < n; i++)
            if (piece_len(&v, i) > ac->max_depth)
                ac->max_depth = piece_len(&v, i);
    }
done:
    free(sorted);
    free(b.next_free);
    free(b.prev_free);
    free(b.term);
    free(b.order);
    if (st != BP_OK)
        bp_automaton_free(ac);
    return st;
}

void bp_automaton_free(bp_automaton *ac)
{
    if (!ac->borrowed) { /* else they live in a native model's file image */
        free(ac->slot);
        free(ac->fail);
        free(ac->out_begin);
        free(ac->out);
    }
    memset(ac, 0, sizeof *ac);
}

#ifdef BP_ASSERTS
/* The number of bytes of state s's string: the steps up the check (parent) links. */
static uint32_t state_depth(const bp_automaton *ac, uint32_t s)
{
    uint32_t depth = 0;
    for (; s != 0; depth++) {
        BP_ASSERT(ac->slot[s].check >= 0 && (uint32_t)ac->slot[s].check < ac->n_slots);
        s = (uint32_t)ac->slot[s].check;
    }
    return depth;
}

void bp_automaton_check(const bp_automaton *ac)
{
    BP_ASSERT(ac->n_states >= 1 && ac->n_states <= ac->n_slots && ac->n_out >= 1);
    BP_ASSERT(ac->slot[0].check == BP_AC_ROOT);
    for (unsigned c = 0; c < 256; c++)
        BP_ASSERT(ac->slot[(uint32_t)ac->slot[0].base + c].check == 0);
    uint32_t states = 0;
    for (uint32_t s = 0; s < ac->n_slots; s++) {
        if (ac->slot[s].check == BP_AC_FREE)
            continue;
        states++;
        BP_ASSERT(ac->slot[s].base >= 0 && (uint32_t)ac->slot[s].base + 255 < ac->n_slots);
        if (s == 0)
            continue;
        uint32_t f = ac->fail[s], depth = state_depth(ac, s);
        BP_ASSERT(f < ac->n_slots && ac->slot[f].check != BP_AC_FREE);
        BP_ASSERT(state_depth(ac, f) < depth);
        uint32_t j = ac->out_begin[s];
        BP_ASSERT(j < ac->n_out && ac->out[j].len >= 1 && ac->out[j].len <= depth);
        for (; ac->out[j].len != 1; j++)
            BP_ASSERT(j + 1 < ac->n_out && ac->out[j + 1].len < ac->out[j].len);
    }
    BP_ASSERT(states == ac->n_states);
}
#endif

uint32_t bp_automaton_find(const bp_automaton *ac, const unsigned char *bytes, size_t len)
{
    uint32_t s = 0;
    for (size_t i = 0; i < len; i++) {
        uint32_t t = (uint32_t)ac->slot[s].base + bytes[i];
        if (t >= ac->n_slots || ac->slot[t].check != (int32_t)s)
            return UINT32_MAX;
        s = t;
    }
    return s;
}
