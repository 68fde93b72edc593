/*
 * train_chunk.c -- cutting training texts into the reference's training chunks: the
 * result equals Python's re.findall(R, unicodedata.normalize('NFC', text)) with
 * R = `.{,10000}\n{1,100}|.{1,10000}`, or `\d|[^\n\d]{,10000}\n{1,100}|[^\n\d]{1,10000}`
 * with isolate_digits (docs/algorithms.md §2), each match encoded as UTF-8. Working the
 * regex through gives a small state machine over the code points of the NFC text: a chunk
 * collects up to 10000 ordinary characters, then up to 100 newlines; an ordinary character
 * after a newline, a 10001st character or a 101st newline starts a new chunk; with
 * isolate_digits a Unicode Nd digit ends the chunk before it and is a chunk of its own.
 *
 * Texts arrive in pieces of any size, so the raw bytes are held until a point where NFC
 * may cut them (just before an inert code point, normalize.c), and only the bytes before
 * it are normalized and chunked; what is held is therefore the tail after the last such
 * point, a few bytes in ordinary text. Training text must be UTF-8, as Python's str is:
 * the raw bytes are checked before they are normalized, so an error gives the offset in
 * the text as the caller gave it. With skip_bad_lines, a line holding invalid UTF-8 is
 * dropped from after the '\n' before it to the '\n' that ends it (inclusive), and the text
 * goes on as if it had never been there; since a chunk of the line may only be passed on
 * once the line is known to be good, each line is then held whole until its '\n' arrives
 * (memory bounded by the longest line instead of by the NFC tail). A failure (invalid
 * UTF-8 when not skipping, a sink's error) abandons the current text: the chunks already
 * passed on stay passed on, the rest of the text is ignored up to bp_chunker_end_text(),
 * and the next text starts afresh.
 */
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "bp_internal.h"

#define MAX_CHUNK_CHARS 10000 /* code points before the newlines */
#define MAX_CHUNK_NEWLINES 100
#define MAX_CHUNK_BYTES (4 * MAX_CHUNK_CHARS + MAX_CHUNK_NEWLINES)

struct bp_chunker {
    bool isolate_digits;
    bool skip_bad_lines;

    /* Raw bytes of the current text not yet normalized: raw[head..raw_len), moved to the
     * front once per feed. raw[head..checked) is well-formed UTF-8; raw[head..cut) may be
     * normalized now (cut is head, or the start of the last inert code point checked --
     * when skipping bad lines, the last '\n' checked). */
    unsigned char *raw;
    size_t raw_len, raw_cap;
    size_t head, checked, cut;
    uint64_t raw_offset; /* offset of raw[0] in the text (exact when not skipping lines) */
    bool dropping;       /* the rest of a bad line is being discarded up to its '\n' */
    bool failed;         /* the current text failed: the rest of it is ignored */
    bp_status failure;

    bp_nfc_buffer nfc;

    /* The chunk being collected, possibly across pieces of the text. */
    size_t chunk_len;
    unsigned chars, newlines;
    uint64_t skipped_lines;
    unsigned char chunk[MAX_CHUNK_BYTES];
};

bp_status bp_chunker_create(bool isolate_digits, bool skip_bad_lines, bp_chunker **out)
{
    bp_chunker *c = calloc(1, sizeof *c);
    if (!c)
        return BP_ERR_NOMEM;
    c->isolate_digits = isolate_digits;
    c->skip_bad_lines = skip_bad_lines;
    *out = c;
    return BP_OK;
}

void bp_chunker_free(bp_chunker *c)
{
    if (!c)
        return;
    free(c->raw);
    bp_nfc_buffer_free(&c->nfc);
    free(c);
}

uint64_t bp_chunker_skipped_lines(const bp_chunker *c)
{
    return c->skipped_lines;
}

/*------ Chunking normalized text ------*/

/* Passes the chunk collected so far (if any) to the sink and starts an empty one. */
static bp_status emit_chunk(bp_chunker *c, bp_chunk_sink sink, void *ctx)
{
    if (c->chunk_len == 0)
        return BP_OK;
    size_t len = c->chunk_len;
    c->chunk_len = 0;
    c->chars = c->newlines = 0;
    return sink(ctx, c->chunk, len);
}

/* Length of the character at s[0] of well-formed UTF-8, from its lead byte. */
static size_t char_len(unsigned char lead)
{
    return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}

/* Whether the character at s[0] (well-formed UTF-8) matches Python's \d: category Nd. */
static bool is_digit_at(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80)
        return s[0] >= '0' && s[0] <= '9';
    int32_t cp;
    return bp_utf8_decode(s, n, &cp) > 0 && utf8proc_category(cp) == UTF8PROC_CATEGORY_ND;
}

/* End of the run of ordinary characters (neither '\n' nor, with isolate_digits, a digit)
 * that starts at s[i], taking at most `room` characters; their number goes to *taken. */
static size_t ordinary_run_end(const bp_chunker *c, const unsigned char *s, size_t i, size_t n,
                               unsigned room, unsigned *taken)
{
    unsigned k = 0;
    while (i < n && s[i] != '\n' && k < room) {
        if (c->isolate_digits && is_digit_at(s + i, n - i))
            break;
        i += char_len(s[i]);
        k++;
    }
    *taken = k;
    return i;
}

/* Runs the chunk state machine over s[0..n), well-formed NFC UTF-8. */
static bp_status chunk_normalized(bp_chunker *c, const unsigned char *s, size_t n,
                                  bp_chunk_sink sink, void *ctx)
{
    bp_status st = BP_OK;
    size_t i = 0;
    while (st == BP_OK && i < n) {
        if (s[i] == '\n') {
            if (c->newlines == MAX_CHUNK_NEWLINES)
                st = emit_chunk(c, sink, ctx); /* `\n{1,100}` is full: the rest starts a chunk */
            c->chunk[c->chunk_len++] = '\n';
            c->newlines++;
            i++;
        } else if (c->isolate_digits && is_digit_at(s + i, n - i)) {
            size_t len = char_len(s[i]);
            st = emit_chunk(c, sink, ctx);
            if (st == BP_OK)
                st = sink(ctx, s + i, len);
            i += len;
        } else {
            /* A character after newlines, or after 10000 characters, starts a new chunk:
             * the first branch of the regex cannot take it, so the match ends before it. */
            if (c->newlines > 0 || c->chars == MAX_CHUNK_CHARS)
                st = emit_chunk(c, sink, ctx);
            unsigned taken;
            size_t end = ordinary_run_end(c, s, i, n, MAX_CHUNK_CHARS - c->chars, &taken);
            memcpy(c->chunk + c->chunk_len, s + i, end - i);
            c->chunk_len += end - i;
            c->chars += taken;
            i = end;
        }
    }
    return st;
}

/*------ Raw bytes: checking, holding back, normalizing ------*/

static bp_status append_raw(bp_chunker *c, const unsigned char *data, size_t len)
{
    unsigned char *p = len <= SIZE_MAX - c->raw_len
                           ? bp_grow(c->raw, &c->raw_cap, c->raw_len + len, 1)
                           : NULL;
    if (!p)
        return BP_ERR_NOMEM;
    c->raw = p;
    memcpy(c->raw + c->raw_len, data, len);
    c->raw_len += len;
    return BP_OK;
}

/* Whether s[0..n) is the beginning of a well-formed sequence that the end of the bytes
 * received so far has cut short. Padding with continuation bytes lets the decoder judge
 * (the lead byte alone says enough when nothing follows it). */
static bool is_cut_sequence(const unsigned char *s, size_t n)
{
    if (n == 1)
        return s[0] >= 0xC2 && s[0] <= 0xF4;
    if (n >= 4)
        return false;
    unsigned char padded[4] = {0x80, 0x80, 0x80, 0x80};
    memcpy(padded, s, n);
    int32_t cp;
    return bp_utf8_decode(padded, 4, &cp) > n;
}

/* Index of the last '\n' in raw[from..to), or SIZE_MAX. */
static size_t last_newline(const bp_chunker *c, size_t from, size_t to)
{
    while (to > from)
        if (c->raw[--to] == '\n')
            return to;
    return SIZE_MAX;
}

/* Checks raw[checked..raw_len) and moves `checked` and `cut` on. Stops early at a
 * sequence cut short by the end of the bytes (unless the text ends there). @return the
 * index of the first byte that is not well-formed UTF-8, or SIZE_MAX. */
static size_t check_raw(bp_chunker *c, bool text_ends)
{
    const unsigned char *s = c->raw;
    size_t n = c->raw_len, i = c->checked, bad = SIZE_MAX;
    while (i < n) {
        if (s[i] < 0x80) {
            i = bp_skip_ascii(s, i, n);
            if (!c->skip_bad_lines)
                c->cut = i - 1;
            continue;
        }
        int32_t cp;
        size_t len = bp_utf8_decode(s + i, n - i, &cp);
        if (len == 0) {
            if (text_ends || !is_cut_sequence(s + i, n - i))
                bad = i;
            break;
        }
        if (!c->skip_bad_lines && bp_nfc_is_inert(cp))
            c->cut = i;
        i += len;
    }
    if (c->skip_bad_lines) {
        size_t nl = last_newline(c, c->checked, i);
        if (nl != SIZE_MAX)
            c->cut = nl;
    }
    c->checked = i;
    return bad;
}

/* Normalizes and chunks raw[head..end) and moves head to end. */
static bp_status flush_raw(bp_chunker *c, size_t end, bp_chunk_sink sink, void *ctx)
{
    if (end == c->head)
        return BP_OK;
    bp_status st = bp_nfc(&c->nfc, c->raw + c->head, end - c->head);
    if (st == BP_OK)
        st = chunk_normalized(c, c->nfc.out, c->nfc.len, sink, ctx);
    c->head = end;
    return st;
}

/* Moves what is left, raw[head..raw_len), to the front of the buffer. */
static void compact_raw(bp_chunker *c)
{
    if (c->head == 0)
        return;
    memmove(c->raw, c->raw + c->head, c->raw_len - c->head);
    c->raw_len -= c->head;
    c->checked -= c->head;
    c->cut -= c->head;
    c->raw_offset += c->head;
    c->head = 0;
}

/* Drops the line holding the bad byte raw[bad]: from after the '\n' before it up to and
 * including the next '\n', or to the end of what has arrived, in which case the rest of
 * the line is discarded as it comes. What comes before the line is passed on first, so
 * that dropping is a move of `head` rather than of the bytes after the line (a file of
 * many bad lines would otherwise be moved once per line). */
static bp_status drop_line(bp_chunker *c, size_t bad, bp_chunk_sink sink, void *ctx)
{
    c->skipped_lines++;
    size_t prev = last_newline(c, c->head, bad);
    const unsigned char *nl = memchr(c->raw + bad, '\n', c->raw_len - bad);
    bp_status st = BP_OK;
    if (prev != SIZE_MAX)
        st = flush_raw(c, prev, sink, ctx); /* now raw[head] is the '\n' before the line */
    /* The line goes with one '\n': the '\n' before it, when there is one, rather than its
     * own -- the same bytes remain, and only `head` moves. */
    if (nl) {
        c->head = (size_t)(nl - c->raw) + (prev == SIZE_MAX);
    } else {
        c->raw_len = c->head + (prev != SIZE_MAX);
        c->dropping = true;
    }
    c->checked = c->cut = c->head;
    return st;
}

/* Forgets the current text; the next feed starts a new one. */
static void reset_text(bp_chunker *c)
{
    c->raw_len = c->head = c->checked = c->cut = 0;
    c->raw_offset = 0;
    c->dropping = c->failed = false;
    c->chunk_len = 0;
    c->chars = c->newlines = 0;
}

/* A failure abandons the current text: what follows of it is ignored up to its end. */
static bp_status fail_text(bp_chunker *c, bp_status st, bp_error *err)
{
    c->failed = true;
    c->failure = st;
    if (st == BP_ERR_NOMEM)
        bp_fail(err, st, UINT64_MAX, "out of memory");
    return st; /* a sink's failure carries the sink's own message */
}

/* Checks what has arrived, drops bad lines or fails, and normalizes and chunks all that
 * may be cut off (everything, when the text ends). */
static bp_status process_raw(bp_chunker *c, bool text_ends, bp_chunk_sink sink, void *ctx,
                             bp_error *err)
{
    size_t bad;
    while ((bad = check_raw(c, text_ends)) != SIZE_MAX) {
        if (!c->skip_bad_lines) {
            uint64_t off = c->raw_offset + bad;
            c->failed = true;
            c->failure = BP_ERR_BAD_UTF8;
            if (is_cut_sequence(c->raw + bad, c->raw_len - bad))
                return bp_fail(err, BP_ERR_BAD_UTF8, off,
                               "invalid UTF-8 at byte offset %llu (the text ends inside a "
                               "character)", (unsigned long long)off);
            return bp_fail(err, BP_ERR_BAD_UTF8, off,
                           "invalid UTF-8 at byte offset %llu (byte 0x%02x)",
                           (unsigned long long)off, c->raw[bad]);
        }
        bp_status st = drop_line(c, bad, sink, ctx);
        if (st != BP_OK)
            return fail_text(c, st, err);
    }
    bp_status st = flush_raw(c, text_ends ? c->raw_len : c->cut, sink, ctx);
    if (st != BP_OK)
        return fail_text(c, st, err);
    compact_raw(c);
    return BP_OK;
}

bp_status bp_chunker_feed(bp_chunker *c, const unsigned char *data, size_t len,
                          bp_chunk_sink sink, void *ctx, bp_error *err)
{
    if (c->failed)
        return bp_fail(err, c->failure, UINT64_MAX,
                       "this text was abandoned after an earlier error (%s)",
                       bp_strerror(c->failure));
    if (c->dropping) {
        const unsigned char *nl = len ? memchr(data, '\n', len) : NULL;
        if (!nl)
            return BP_OK;
        c->dropping = false;
        len -= (size_t)(nl + 1 - data);
        data = nl + 1;
    }
    if (len == 0)
        return BP_OK;
    if (append_raw(c, data, len) != BP_OK)
        return fail_text(c, BP_ERR_NOMEM, err);
    return process_raw(c, false, sink, ctx, err);
}

bp_status bp_chunker_end_text(bp_chunker *c, bp_chunk_sink sink, void *ctx, bp_error *err)
{
    bp_status st = BP_OK;
    if (!c->failed) {
        st = process_raw(c, true, sink, ctx, err);
        if (st == BP_OK)
            st = emit_chunk(c, sink, ctx);
    }
    reset_text(c);
    return st;
}
