/*
 * offset_map.c -- where each byte of the NFC text came from in the caller's text, so that
 * encode can give offsets into the bytes it was passed (as Hugging Face tokenizers does).
 *
 * bp_nfc() copies everything but its normalized runs unchanged, and most normalized runs
 * come out as they went in, so the map holds only the places where the shift between the
 * two texts changes: a list of spans, each from a normalized byte to the next span,
 * mapped either exactly (byte k of the span to byte k of its input) or wholly (every byte
 * to the start of its input: a character composed of several input characters, or marks
 * put in another order). Its size is O(clusters of the runs that NFC changes), not a word
 * per byte.
 *
 * A changed run is cut into clusters: each starts at an output code point that is a
 * starter (so is the first code point of its decomposition), at the same place in the
 * canonical decomposition (NFD(NFC(x)) == NFD(x)) where an input code point's
 * decomposition begins. Canonical reordering never moves a mark across a starter, and
 * composition pairs a character only with the last starter before it, which at such a cut
 * is the cut's own starter; so NFC(x y) == NFC(x) NFC(y) there, and a cluster is exactly
 * the NFC of its input characters. Marks go with the starter before them (they may have
 * moved or composed), so a changed cluster is as coarse as a character with its marks.
 * Clusters that come out unchanged are mapped exactly, the others wholly.
 */
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "bp_internal.h"

#define NFC_OPTIONS ((utf8proc_option_t)(UTF8PROC_STABLE | UTF8PROC_COMPOSE))

void bp_offset_map_free(bp_offset_map *map)
{
    if (!map)
        return;
    free(map->spans);
    *map = (bp_offset_map){0};
}

/* The span in force before the first one: the identity. */
static const bp_offset_span identity = {0, 0, false};

/* Starts a span at normalized byte `out`, from input byte `in`, unless the span in force
 * already maps `out` there (an exact span with the same shift). */
static bp_status add_span(bp_offset_map *map, size_t out, size_t in, bool whole)
{
    const bp_offset_span *last = map->n ? &map->spans[map->n - 1] : &identity;
    if (!whole && !last->whole && last->out - last->in == out - in)
        return BP_OK;
    bp_offset_span *spans = bp_grow(map->spans, &map->cap, map->n + 1, sizeof *spans);
    if (!spans)
        return BP_ERR_NOMEM;
    map->spans = spans;
    map->spans[map->n++] = (bp_offset_span){out, in, whole};
    return BP_OK;
}

/* Length of the canonical decomposition of cp (at most 4 code points). */
static size_t decomposition_len(int32_t cp)
{
    int32_t d[8];
    return (size_t)utf8proc_decompose_char(cp, d, 8, NFC_OPTIONS, NULL);
}

static inline bool is_starter(int32_t cp)
{
    return utf8proc_get_property(cp)->combining_class == 0;
}

/* A cursor over well-formed UTF-8 that counts the code points of its decomposition. */
typedef struct nfd_cursor {
    const unsigned char *s;
    size_t len, at;  /* bytes, and the first not yet read */
    size_t nfd;      /* decomposed code points of s[0..at) */
} nfd_cursor;

/* Reads one code point and returns it. */
static int32_t cursor_step(nfd_cursor *c)
{
    int32_t cp = 0; /* always set: the text is well-formed */
    c->at += bp_utf8_decode(c->s + c->at, c->len - c->at, &cp);
    c->nfd += decomposition_len(cp);
    return cp;
}

/* Adds the cluster run->out[from_out..to_out), the NFC of run->in[from_in..to_in): exact
 * when NFC left it as it was, whole when not. */
static bp_status add_cluster(bp_offset_map *map, const bp_nfc_run *run, size_t from_out,
                             size_t to_out, size_t from_in, size_t to_in)
{
    bool same = to_out - from_out == to_in - from_in &&
                memcmp(run->out + from_out, run->in + from_in, to_out - from_out) == 0;
    return add_span(map, run->out_at + from_out, run->in_at + from_in, !same);
}

bp_status bp_offset_map_add_run(void *ctx, const bp_nfc_run *run)
{
    bp_offset_map *map = ctx;
    size_t n_before = map->n;
    nfd_cursor src = {run->in, run->in_len, 0, 0}, dst = {run->out, run->out_len, 0, 0};
    size_t from_out = 0, from_in = 0; /* where the open cluster starts */
    bp_status st = BP_OK;
    while (st == BP_OK && dst.at < run->out_len) {
        size_t cut = dst.at, cut_nfd = dst.nfd;
        /* A starter of NFC text decomposes to a starter first (composites whose
         * decomposition starts with a mark are excluded from composition). */
        if (!is_starter(cursor_step(&dst)) || cut == 0)
            continue;
        while (src.at < run->in_len && src.nfd < cut_nfd)
            cursor_step(&src);
        if (src.nfd != cut_nfd)
            continue;
        st = add_cluster(map, run, from_out, cut, from_in, src.at);
        from_out = cut;
        from_in = src.at;
    }
    while (src.at < run->in_len)
        cursor_step(&src);
    /* The two decompositions differ only where utf8proc does not keep NFD(NFC(x)) ==
     * NFD(x) (before 2.11.2 it folds U+11A7 into a syllable): then the run is one whole
     * span, which is coarse but still true. */
    if (src.nfd != dst.nfd) {
        map->n = n_before;
        from_out = from_in = 0;
    }
    if (st == BP_OK)
        st = add_cluster(map, run, from_out, run->out_len, from_in, run->in_len);
    if (st == BP_OK)
        st = add_span(map, run->out_at + run->out_len, run->in_at + run->in_len, false);
    return st;
}

/* The start of the input character that holds byte q: q itself unless q is inside a
 * well-formed sequence (invalid bytes are characters of their own). */
static size_t character_start(const unsigned char *in, size_t in_len, size_t q)
{
    size_t lead = q;
    while (lead > 0 && q - lead < 3 && lead < in_len && (in[lead] & 0xC0) == 0x80)
        lead--;
    if (lead == q || (in[lead] & 0xC0) == 0x80)
        return q;
    int32_t cp;
    size_t n = bp_utf8_decode(in + lead, in_len - lead, &cp);
    return lead + n > q ? lead : q;
}

void bp_offset_map_apply(const bp_offset_map *map, const unsigned char *in, size_t in_len,
                         size_t *offsets, size_t n)
{
    const bp_offset_span *span = &identity;
    size_t next = 0;
    for (size_t t = 0; t < n; t++) {
        size_t p = offsets[t];
        while (next < map->n && map->spans[next].out <= p)
            span = &map->spans[next++];
        size_t q = span->whole ? span->in : span->in + (p - span->out);
        offsets[t] = character_start(in, in_len, q);
    }
}
