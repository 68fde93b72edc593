/*
 * normalize.c -- NFC of byte strings, strict UTF-8 decoding and chunking.
 *
 * bp_nfc() puts every maximal run of well-formed UTF-8 in NFC with utf8proc's tables (the
 * result equals utf8proc_map(UTF8PROC_STABLE | UTF8PROC_COMPOSE) on each run) and copies
 * bytes that are not well-formed UTF-8 unchanged. Most text is already NFC, so the work is
 * split at safe boundaries: runs of "inert" code points are copied as they are, and only
 * the short stretches around the other code points are normalized: decomposed and put in
 * canonical order here, then composed by utf8proc. The order is made by a sort that is
 * linear in the length of a run of marks, where utf8proc's own swaps take quadratic time
 * (a document of one long run of marks would stall the encoder and the trainer).
 *
 * Boundary invariant. A code point c is inert when NFC(c) == c, its canonical
 * decomposition (itself, if it has none) starts with a starter (combining class 0), and
 * neither c nor that starter can be the second element of a canonical composition (which
 * includes the Hangul V and T jamo). Then NFC(x c y) == NFC(x) NFC(c y) for all x, y:
 * decomposition is per code point; canonical reordering only permutes runs of non-starters,
 * so it never moves anything across c's leading starter; and composition pairs a character
 * only with the last starter before it, so nothing after that starter can reach back into
 * x, and the starter itself composes with nothing in x. Hence the text can be cut before
 * every inert code point: a run of inert code points is its own NFC, and a run of the
 * other ("active") code points is normalized together with the one inert code point
 * before it, which may be the first element of a composition. Invalid bytes are hard
 * boundaries by definition, so a run never extends across one.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "bp_internal.h"

#define NFC_OPTIONS ((utf8proc_option_t)(UTF8PROC_STABLE | UTF8PROC_COMPOSE))

/*------ UTF-8 decoding and chunking ------*/

static inline int is_continuation(unsigned char b)
{
    return (b & 0xC0) == 0x80;
}

/* The decoder itself, inlined into the NFC loops (bp_utf8_decode is the exported name). */
static inline size_t decode_utf8(const unsigned char *s, size_t n, int32_t *cp)
{
    if (n == 0)
        return 0;
    unsigned c0 = s[0];
    if (c0 < 0x80) {
        *cp = (int32_t)c0;
        return 1;
    }
    /* 80..BF are continuation bytes; C0 and C1 could only start overlong forms. */
    if (c0 < 0xC2 || c0 > 0xF4)
        return 0;
    if (c0 < 0xE0) {
        if (n < 2 || !is_continuation(s[1]))
            return 0;
        *cp = (int32_t)(((c0 & 0x1Fu) << 6) | (s[1] & 0x3Fu));
        return 2;
    }
    /* The second byte's range is narrower after E0 (no overlongs), ED (no surrogates),
     * F0 (no overlongs) and F4 (nothing above U+10FFFF): Unicode Table 3-7. */
    unsigned lo = c0 == 0xE0 ? 0xA0 : c0 == 0xF0 ? 0x90 : 0x80;
    unsigned hi = c0 == 0xED ? 0x9F : c0 == 0xF4 ? 0x8F : 0xBF;
    size_t need = c0 < 0xF0 ? 3 : 4;
    if (n < need || s[1] < lo || s[1] > hi || !is_continuation(s[2]))
        return 0;
    if (need == 3) {
        *cp = (int32_t)(((c0 & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu));
        return 3;
    }
    if (!is_continuation(s[3]))
        return 0;
    *cp = (int32_t)(((c0 & 0x07u) << 18) | ((s[1] & 0x3Fu) << 12) | ((s[2] & 0x3Fu) << 6) |
                    (s[3] & 0x3Fu));
    return 4;
}

size_t bp_utf8_decode(const unsigned char *s, size_t n, int32_t *cp)
{
    return decode_utf8(s, n, cp);
}

size_t bp_chunk_len(const unsigned char *text, size_t len)
{
    const unsigned char *nl = memchr(text, '\n', len);
    if (!nl)
        return len;
    size_t i = (size_t)(nl - text);
    while (i < len && text[i] == '\n')
        i++;
    return i;
}

/*------ Which code points start a safe boundary ------*/

/* Whether a code point can be the second element of a composition table entry: the field
 * utf8proc's own composition loop tests. */
static inline int is_composition_second(const utf8proc_property_t *p)
{
#if UTF8PROC_VERSION_MAJOR > 2 || (UTF8PROC_VERSION_MAJOR == 2 && UTF8PROC_VERSION_MINOR >= 10)
    return p->comb_issecond;
#else
    /* Before 2.10, comb_index < 0x8000 marks a first element, other values but
     * UINT16_MAX a second element. */
    return p->comb_index != UINT16_MAX && p->comb_index >= 0x8000;
#endif
}

/* The inert test of the header comment, at the cost of at most one table lookup. It is
 * conservative about canonical decompositions: a code point that has one counts as
 * active, because telling primary composites (inert) from singletons and excluded
 * composites (not) would take a decomposition per character. Every code point below
 * U+0300 is inert, decomposable or not (the decomposable ones are Latin letters that are
 * primary composites of an ASCII letter and marks). The unit test checks the predicate,
 * shortcuts included, against utf8proc for every code point. */
static inline int is_inert(int32_t cp)
{
    if (cp < 0x300)
        return 1;
    /* CJK Unified Ideographs: no decompositions, no marks. The bulk of Chinese text, so
     * skipping the (out-of-line) table lookup for it is worth one comparison. */
    if (cp >= 0x4E00 && cp <= 0x9FFF)
        return 1;
    /* Conjoining jamo compose algorithmically, not through the table (and utf8proc before
     * 2.11.2 also folds U+11A7 into an LV syllable): leave the whole block to utf8proc. */
    if (cp >= 0x1100 && cp <= 0x11FF)
        return 0;
    const utf8proc_property_t *p = utf8proc_get_property(cp);
    int canonically_decomposable = p->decomp_seqindex != UINT16_MAX && p->decomp_type == 0;
    return p->combining_class == 0 && !canonically_decomposable && !is_composition_second(p);
}

/* Index of the first byte at or after i that is not ASCII (or len). */
static inline size_t skip_ascii(const unsigned char *s, size_t i, size_t len)
{
    while (len - i >= 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & UINT64_C(0x8080808080808080))
            break;
        i += 8;
    }
    while (i < len && s[i] < 0x80)
        i++;
    return i;
}

/* End of the run of active code points that continues at i: the start of the next
 * ASCII byte, inert code point or invalid byte, or len. */
static size_t active_run_end(const unsigned char *s, size_t i, size_t len)
{
    while (i < len && s[i] >= 0x80) {
        int32_t cp;
        size_t n = decode_utf8(s + i, len - i, &cp);
        if (n == 0 || is_inert(cp))
            break;
        i += n;
    }
    return i;
}

/* Exported names of two helpers above: the training chunker (train_chunk.c) cuts streamed
 * text at the same safe boundaries, and it and the corpus reader skip ASCII the same way. */
bool bp_nfc_is_inert(int32_t cp)
{
    return is_inert(cp);
}

size_t bp_skip_ascii(const unsigned char *s, size_t i, size_t len)
{
    return skip_ascii(s, i, len);
}

/*------ Output buffers ------*/

static bp_status reserve_out(bp_nfc_buffer *buf, size_t extra)
{
    if (extra > SIZE_MAX - buf->len)
        return BP_ERR_NOMEM;
    unsigned char *out = bp_grow(buf->out, &buf->cap, buf->len + extra, 1);
    if (!out)
        return BP_ERR_NOMEM;
    buf->out = out;
    return BP_OK;
}

static bp_status append_bytes(bp_nfc_buffer *buf, const unsigned char *s, size_t n)
{
    bp_status st = reserve_out(buf, n);
    if (st != BP_OK)
        return st;
    memcpy(buf->out + buf->len, s, n);
    buf->len += n;
    return BP_OK;
}

/*------ Decomposition in canonical order ------*/

/* Runs of marks up to this length are ordered by insertion sort, longer ones by counting
 * sort: its fixed cost (a pass over the 256 classes) is then spread over the run. */
#define SHORT_MARK_RUN 8

/* Bits of a code point in the keys of the counting sort, the combining class above them. */
#define CP_BITS 21

static inline int combining_class(int32_t cp)
{
    return utf8proc_get_property(cp)->combining_class;
}

static void insertion_sort_marks(int32_t *marks, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        int32_t cp = marks[i];
        int cc = combining_class(cp);
        size_t j = i;
        for (; j > 0 && combining_class(marks[j - 1]) > cc; j--)
            marks[j] = marks[j - 1];
        marks[j] = cp;
    }
}

/* Stable sort of buf->cps[from..to) by combining class, in time linear in the length. The
 * keys in buf->marks carry the class next to the code point, so each is looked up once. */
static bp_status counting_sort_marks(bp_nfc_buffer *buf, size_t from, size_t to)
{
    size_t n = to - from;
    uint32_t *keys = bp_grow(buf->marks, &buf->marks_cap, n, sizeof *keys);
    if (!keys)
        return BP_ERR_NOMEM;
    buf->marks = keys;
    size_t next[256] = {0}; /* per class: its count, then where its next mark goes */
    for (size_t k = 0; k < n; k++) {
        uint32_t cc = (uint32_t)combining_class(buf->cps[from + k]);
        keys[k] = cc << CP_BITS | (uint32_t)buf->cps[from + k];
        next[cc]++;
    }
    size_t pos = from;
    for (size_t cc = 0; cc < 256; cc++) {
        size_t count = next[cc];
        next[cc] = pos;
        pos += count;
    }
    for (size_t k = 0; k < n; k++)
        buf->cps[next[keys[k] >> CP_BITS]++] = (int32_t)(keys[k] & ((1u << CP_BITS) - 1));
    return BP_OK;
}

/* Puts the run of marks buf->cps[from..to) in canonical order: a stable sort by combining
 * class. utf8proc_decompose orders marks by swapping neighbours whose classes are out of
 * order, which ends in the same order (it never swaps two marks of the same class) but
 * takes time quadratic in the length of the run. */
static bp_status order_marks(bp_nfc_buffer *buf, size_t from, size_t to)
{
    if (to - from <= SHORT_MARK_RUN) {
        insertion_sort_marks(buf->cps + from, to - from);
        return BP_OK;
    }
    return counting_sort_marks(buf, from, to);
}

/* Writes the canonical decomposition of s[0..n), well-formed UTF-8, to buf->cps in
 * canonical order, as utf8proc_decompose(NFC_OPTIONS) would, and its length to *n_cps.
 * Only runs of marks found out of order are sorted, which in real text is rare. */
static bp_status decompose_ordered(bp_nfc_buffer *buf, const unsigned char *s, size_t n,
                                   size_t *n_cps)
{
    /* A code point takes at least one byte: usually enough room from the start. */
    int32_t *cps = bp_grow(buf->cps, &buf->cps_cap, n, sizeof *cps);
    if (!cps)
        return BP_ERR_NOMEM;
    buf->cps = cps;
    size_t len = 0;
    size_t run = 0;     /* start of the run of marks (class > 0) that ends at len */
    int last_class = 0; /* class of buf->cps[len - 1] */
    bool unordered = false;
    for (size_t i = 0; i < n;) {
        int32_t cp = 0; /* always set: s is well-formed */
        i += decode_utf8(s + i, n - i, &cp);
        utf8proc_ssize_t k;
        for (;;) {
            size_t room = buf->cps_cap - len;
            k = utf8proc_decompose_char(cp, buf->cps + len, (utf8proc_ssize_t)room, NFC_OPTIONS,
                                        NULL);
            /* A negative k, an error, is only possible for a code point out of range. */
            if (k < 0)
                return BP_ERR_NOMEM;
            if ((size_t)k <= room)
                break;
            cps = bp_grow(buf->cps, &buf->cps_cap, len + (size_t)k, sizeof *cps);
            if (!cps)
                return BP_ERR_NOMEM;
            buf->cps = cps;
        }
        for (size_t end = len + (size_t)k; len < end; len++) {
            int cc = combining_class(buf->cps[len]);
            if (cc == 0) {
                if (unordered && order_marks(buf, run, len) != BP_OK)
                    return BP_ERR_NOMEM;
                unordered = false;
                run = len + 1;
            } else if (cc < last_class) {
                unordered = true;
            }
            last_class = cc;
        }
    }
    *n_cps = len;
    return unordered ? order_marks(buf, run, len) : BP_OK;
}

/* Appends NFC(s[0..n)), s being well-formed UTF-8: decomposition here, composition by
 * utf8proc. */
static bp_status append_nfc(bp_nfc_buffer *buf, const unsigned char *s, size_t n)
{
    size_t n_cps;
    bp_status st = decompose_ordered(buf, s, n, &n_cps);
    if (st != BP_OK)
        return st;
    n_cps = (size_t)utf8proc_normalize_utf32(buf->cps, (utf8proc_ssize_t)n_cps, NFC_OPTIONS);
    /* Encoding here rather than with utf8proc_reencode(), which would compose again. */
    st = reserve_out(buf, 4 * n_cps);
    if (st != BP_OK)
        return st;
    for (size_t k = 0; k < n_cps; k++)
        buf->len += (size_t)utf8proc_encode_char(buf->cps[k], buf->out + buf->len);
    return BP_OK;
}

/*------ NFC ------*/

void bp_nfc_buffer_free(bp_nfc_buffer *buf)
{
    if (!buf)
        return;
    free(buf->out);
    free(buf->cps);
    free(buf->marks);
    *buf = (bp_nfc_buffer){0};
}

bp_status bp_nfc(bp_nfc_buffer *buf, const unsigned char *text, size_t len)
{
    return bp_nfc_runs(buf, text, len, NULL, NULL);
}

/* Tells on_run of the run text[cut..end) if NFC changed it into out[out_at..). */
static bp_status report_run(const bp_nfc_buffer *buf, const unsigned char *text, size_t cut,
                            size_t end, size_t out_at, bp_nfc_run_fn on_run, void *ctx)
{
    bp_nfc_run run = {text + cut, buf->out + out_at, cut, end - cut, out_at, buf->len - out_at};
    if (run.in_len == run.out_len && memcmp(run.in, run.out, run.in_len) == 0)
        return BP_OK;
    return on_run(ctx, &run);
}

bp_status bp_nfc_runs(bp_nfc_buffer *buf, const unsigned char *text, size_t len,
                      bp_nfc_run_fn on_run, void *ctx)
{
    buf->len = 0;
    if (len == 0) /* text may then be NULL */
        return BP_OK;
    /* Already-NFC text, the common case, needs exactly len bytes: reserve them at once. */
    bp_status st = reserve_out(buf, len);
    size_t copied = 0; /* text[0..copied) is in buf->out */
    size_t cut = 0;    /* the last safe cut point seen: start of an inert code point or
                          the byte after an invalid one */
    size_t i = 0;
    while (st == BP_OK && i < len) {
        if (text[i] < 0x80) {
            i = skip_ascii(text, i, len);
            cut = i - 1;
            continue;
        }
        int32_t cp;
        size_t n = decode_utf8(text + i, len - i, &cp);
        if (n == 0) {
            cut = ++i;
        } else if (is_inert(cp)) {
            cut = i;
            i += n;
        } else {
            size_t end = active_run_end(text, i + n, len);
            st = append_bytes(buf, text + copied, cut - copied);
            size_t out_at = buf->len;
            if (st == BP_OK)
                st = append_nfc(buf, text + cut, end - cut);
            if (st == BP_OK && on_run)
                st = report_run(buf, text, cut, end, out_at, on_run, ctx);
            /* text[end] is ASCII, inert or invalid (or the end), so end is a cut too. */
            copied = cut = i = end;
        }
    }
    if (st == BP_OK)
        st = append_bytes(buf, text + copied, len - copied);
    return st;
}

size_t bp_utf8_valid_prefix(const void *text, size_t n)
{
    const unsigned char *s = text;
    size_t i = 0;
    while (i < n) {
        if (s[i] < 0x80) {
            i = bp_skip_ascii(s, i, n);
            continue;
        }
        int32_t cp;
        size_t len = bp_utf8_decode(s + i, n - i, &cp);
        if (len == 0)
            return i;
        i += len;
    }
    return n;
}
