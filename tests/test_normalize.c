/*
 * test_normalize.c -- strict UTF-8 decoding, chunking and NFC (normalize.c). The oracle
 * for NFC is utf8proc_map(UTF8PROC_STABLE | UTF8PROC_COMPOSE) applied to each maximal
 * valid UTF-8 run (found with utf8proc_iterate), invalid bytes copied in between.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <utf8proc.h>

#include "bp_internal.h"
#include "test_util.h"

/*------ Helpers: a growable byte string, the oracle, the comparison ------*/

typedef struct bytes {
    unsigned char *p;
    size_t len, cap;
} bytes;

static void bytes_push(bytes *b, const void *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = 2 * (b->len + n + 1);
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void bytes_push_str(bytes *b, const char *s)
{
    bytes_push(b, s, strlen(s));
}

static void bytes_push_cp(bytes *b, int32_t cp)
{
    unsigned char u[4];
    bytes_push(b, u, (size_t)utf8proc_encode_char(cp, u));
}

static void append_oracle_nfc_of_valid(bytes *out, const unsigned char *s, size_t len)
{
    if (len == 0)
        return;
    utf8proc_uint8_t *nfc = NULL;
    utf8proc_ssize_t n = utf8proc_map(s, (utf8proc_ssize_t)len, &nfc,
                                      (utf8proc_option_t)(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
    assert_true(n >= 0);
    bytes_push(out, nfc, (size_t)n);
    free(nfc);
}

/* Oracle NFC of any bytes into *out (replacing its content). */
static void oracle_nfc(bytes *out, const unsigned char *s, size_t len)
{
    out->len = 0;
    size_t run = 0, i = 0;
    while (i < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &cp);
        if (n > 0) {
            i += (size_t)n;
            continue;
        }
        append_oracle_nfc_of_valid(out, s + run, i - run);
        bytes_push(out, s + i, 1);
        run = ++i;
    }
    append_oracle_nfc_of_valid(out, s + run, len - run);
}

static int same_bytes(const unsigned char *a, size_t a_len, const void *b, size_t b_len)
{
    return a_len == b_len && (a_len == 0 || memcmp(a, b, a_len) == 0);
}

static void fail_with_hex(const char *what, const unsigned char *s, size_t len)
{
    char hex[3 * 64 + 1] = "";
    for (size_t i = 0; i < len && i < 64; i++)
        snprintf(hex + 3 * i, 4, "%02X ", s[i]);
    fail_msg("%s for input (%zu bytes): %s%s", what, len, hex, len > 64 ? "..." : "");
}

/* Asserts bp_nfc(s) == oracle(s), leaving the result in buf. */
static void assert_nfc_matches_oracle(bp_nfc_buffer *buf, bytes *expect, const unsigned char *s,
                                      size_t len)
{
    oracle_nfc(expect, s, len);
    assert_int_equal(bp_nfc(buf, s, len), BP_OK);
    if (!same_bytes(buf->out, buf->len, expect->p, expect->len))
        fail_with_hex("bp_nfc differs from the oracle", s, len);
}

/*------ bp_utf8_decode ------*/

typedef struct decode_case {
    unsigned char s[4];
    size_t n;          /* bytes available */
    size_t want_len;   /* 0: not well-formed */
    int32_t want_cp;
} decode_case;

/* The first and last well-formed sequence of each row of Unicode Table 3-7, and the
 * ill-formed neighbours of the rows with a restricted second byte. */
static const decode_case DECODE_CASES[] = {
    {{0x00}, 1, 1, 0x0000},
    {{0x7F}, 1, 1, 0x007F},
    {{0xC2, 0x80}, 2, 2, 0x0080},
    {{0xDF, 0xBF}, 2, 2, 0x07FF},
    {{0xE0, 0xA0, 0x80}, 3, 3, 0x0800},
    {{0xE0, 0xBF, 0xBF}, 3, 3, 0x0FFF},
    {{0xE1, 0x80, 0x80}, 3, 3, 0x1000},
    {{0xEC, 0xBF, 0xBF}, 3, 3, 0xCFFF},
    {{0xED, 0x80, 0x80}, 3, 3, 0xD000},
    {{0xED, 0x9F, 0xBF}, 3, 3, 0xD7FF},
    {{0xEE, 0x80, 0x80}, 3, 3, 0xE000},
    {{0xEF, 0xBF, 0xBF}, 3, 3, 0xFFFF},
    {{0xF0, 0x90, 0x80, 0x80}, 4, 4, 0x10000},
    {{0xF0, 0xBF, 0xBF, 0xBF}, 4, 4, 0x3FFFF},
    {{0xF1, 0x80, 0x80, 0x80}, 4, 4, 0x40000},
    {{0xF3, 0xBF, 0xBF, 0xBF}, 4, 4, 0xFFFFF},
    {{0xF4, 0x80, 0x80, 0x80}, 4, 4, 0x100000},
    {{0xF4, 0x8F, 0xBF, 0xBF}, 4, 4, 0x10FFFF},
    /* a longer buffer: only the first sequence is read */
    {{0xC3, 0xA9, 0x41}, 3, 2, 0x00E9},
    /* lone continuation bytes */
    {{0x80}, 1, 0, 0},
    {{0xBF, 0x80}, 2, 0, 0},
    /* overlongs */
    {{0xC0, 0x80}, 2, 0, 0},
    {{0xC1, 0xBF}, 2, 0, 0},
    {{0xE0, 0x80, 0x80}, 3, 0, 0},
    {{0xE0, 0x9F, 0xBF}, 3, 0, 0},
    {{0xF0, 0x80, 0x80, 0x80}, 4, 0, 0},
    {{0xF0, 0x8F, 0xBF, 0xBF}, 4, 0, 0},
    /* surrogates */
    {{0xED, 0xA0, 0x80}, 3, 0, 0},
    {{0xED, 0xBF, 0xBF}, 3, 0, 0},
    /* above U+10FFFF */
    {{0xF4, 0x90, 0x80, 0x80}, 4, 0, 0},
    {{0xF5, 0x80, 0x80, 0x80}, 4, 0, 0},
    {{0xF7, 0xBF, 0xBF, 0xBF}, 4, 0, 0},
    {{0xF8, 0x88, 0x80, 0x80}, 4, 0, 0},
    {{0xFE}, 1, 0, 0},
    {{0xFF}, 1, 0, 0},
    /* a non-continuation byte where a continuation is due */
    {{0xC2, 0x41}, 2, 0, 0},
    {{0xE1, 0x80, 0x41}, 3, 0, 0},
    {{0xF1, 0x80, 0x80, 0xC0}, 4, 0, 0},
    /* truncated at the end of the buffer */
    {{0xC2}, 1, 0, 0},
    {{0xE4, 0xB8}, 2, 0, 0},
    {{0xE4, 0xB8, 0xAD}, 2, 0, 0},
    {{0xF0, 0x9F, 0x98}, 3, 0, 0},
    {{0xF0, 0x9F, 0x98, 0x80}, 3, 0, 0},
    /* nothing to read */
    {{0x41}, 0, 0, 0},
};

static void test_utf8_decode_table_3_7(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof DECODE_CASES / sizeof DECODE_CASES[0]; k++) {
        const decode_case *c = &DECODE_CASES[k];
        int32_t cp = -1;
        size_t got = bp_utf8_decode(c->s, c->n, &cp);
        if (got != c->want_len)
            fail_msg("case %zu (%02X %02X ..., n=%zu): length %zu, want %zu", k, c->s[0], c->s[1],
                     c->n, got, c->want_len);
        if (got)
            assert_int_equal(cp, c->want_cp);
    }
}

/* bp_utf8_decode agrees with utf8proc_iterate (also strict) on every buffer of 1 to 3
 * bytes and on every 4-byte buffer whose first two bytes start a 4-byte form. */
static void assert_decode_agrees(const unsigned char *s, size_t n)
{
    int32_t cp = -1;
    utf8proc_int32_t ref_cp;
    size_t got = bp_utf8_decode(s, n, &cp);
    utf8proc_ssize_t ref = utf8proc_iterate(s, (utf8proc_ssize_t)n, &ref_cp);
    if (ref < 0 ? got != 0 : got != (size_t)ref || cp != ref_cp)
        fail_with_hex("bp_utf8_decode disagrees with utf8proc_iterate", s, n);
}

static void test_utf8_decode_matches_utf8proc(void **state)
{
    (void)state;
    unsigned char s[4];
    for (unsigned b0 = 0; b0 < 256; b0++) {
        s[0] = (unsigned char)b0;
        assert_decode_agrees(s, 1);
        for (unsigned b1 = 0; b1 < 256; b1++) {
            s[1] = (unsigned char)b1;
            assert_decode_agrees(s, 2);
            for (unsigned b2 = 0; b2 < 256; b2++) {
                s[2] = (unsigned char)b2;
                assert_decode_agrees(s, 3);
            }
        }
    }
    static const unsigned char tails[] = {0x00, 0x7F, 0x80, 0xBF, 0xC0, 0xFF};
    for (unsigned b0 = 0xF0; b0 < 0xF8; b0++)
        for (unsigned b1 = 0; b1 < 256; b1++)
            for (size_t t2 = 0; t2 < sizeof tails; t2++)
                for (size_t t3 = 0; t3 < sizeof tails; t3++) {
                    unsigned char q[4] = {(unsigned char)b0, (unsigned char)b1, tails[t2], tails[t3]};
                    assert_decode_agrees(q, 4);
                }
}

/*------ bp_chunk_len ------*/

/* Splits `text` with bp_chunk_len and compares the chunk lengths with `want` (0-ended). */
static void assert_chunks(const char *text, const size_t *want)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t len = strlen(text), pos = 0, k = 0;
    while (pos < len) {
        size_t n = bp_chunk_len(s + pos, len - pos);
        if (n != want[k])
            fail_msg("chunk %zu of \"%s\": length %zu, want %zu", k, text, n, want[k]);
        pos += n;
        k++;
    }
    assert_int_equal(want[k], 0);
}

static void test_chunk_len(void **state)
{
    (void)state;
    assert_int_equal(bp_chunk_len((const unsigned char *)"", 0), 0);
    assert_chunks("a", (const size_t[]){1, 0});
    assert_chunks("\n", (const size_t[]){1, 0});
    assert_chunks("\n\n\na", (const size_t[]){3, 1, 0});
    assert_chunks("ab\r\n", (const size_t[]){4, 0});
    assert_chunks("a\n\nb\n", (const size_t[]){3, 2, 0});
    assert_chunks("one\ntwo", (const size_t[]){4, 3, 0});
    assert_chunks("a\rb\x0b\x0c\n", (const size_t[]){6, 0});
}

/*------ NFC: the fast path's boundaries, exhaustively ------*/

/* Starters and marks that a wrongly "inert" code point c would interact with: 'e' takes
 * U+0301 and other marks; a mark of class 240 is reordered after any c of a lower non-zero
 * class; alpha takes U+0345 (class 240); the Hangul L jamo and LV syllable take V and T
 * jamo; and one first element for every second element of combining class 0 (Indic vowel
 * signs and the like, listed from utf8proc's data). */
static const char *const BOUNDARY_PREFIXES[] = {
    "e", u8"e\u0345", u8"\u03B1", u8"\u1100", u8"\uAC00",
    u8"\u09C7", u8"\u0B47", u8"\u0BC6", u8"\u0CC6", u8"\u0D46", u8"\u0DD9", u8"\u1025",
    u8"\u1B05", u8"\U00011131", u8"\U00011347", u8"\U000114B9", u8"\U000115B8", u8"\U00011935",
};

#define N_BOUNDARY_PREFIXES (sizeof BOUNDARY_PREFIXES / sizeof BOUNDARY_PREFIXES[0])

/* For every code point c, bp_nfc of "p1 c p2 c ... pk c" equals the oracle. Where the
 * fast path takes c as inert it cuts before every c, so this checks that the cut is safe
 * after each prefix and that c is its own NFC; the next prefix after c also checks that
 * c is normalized together with what follows.
 * To keep this fast, a code point beyond the BMP whose utf8proc property record is the
 * same as the previous code point's (the long runs of unassigned, private-use and CJK
 * extension code points) is checked after the first prefix only: there both the fast
 * path and utf8proc's composition see a code point only through its record (everything
 * algorithmic, i.e. Hangul, is in the BMP). */
static void test_boundaries_for_every_code_point(void **state)
{
    (void)state;
    bp_nfc_buffer buf = {0};
    bytes s = {0}, expect = {0};
    const utf8proc_property_t *prev = NULL;
    for (int32_t c = 0; c <= 0x10FFFF; c++) {
        if (c == 0xD800)
            c = 0xE000;
        const utf8proc_property_t *prop = utf8proc_get_property(c);
        size_t n_prefixes = c > 0xFFFF && prop == prev ? 1 : N_BOUNDARY_PREFIXES;
        prev = prop;
        s.len = 0;
        for (size_t k = 0; k < n_prefixes; k++) {
            bytes_push_str(&s, BOUNDARY_PREFIXES[k]);
            bytes_push_cp(&s, c);
        }
        assert_nfc_matches_oracle(&buf, &expect, s.p, s.len);
    }
    bp_nfc_buffer_free(&buf);
    free(s.p);
    free(expect.p);
}

/*------ NFC: random strings ------*/

static uint64_t next_random(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Inclusive code point ranges to draw from: chosen so that compositions, reorderings,
 * singletons, exclusions and Hangul are frequent. */
static const int32_t ALPHABET[][2] = {
    {'a', 'e'}, {' ', ' '}, {'\n', '\n'}, {'0', '1'}, {0, 0},
    {0xC0, 0xFF},                               /* Latin-1 letters */
    {0x0300, 0x036F}, {0x0300, 0x0308},         /* combining marks, the common ones twice */
    {0x0323, 0x0328}, {0x0345, 0x0345},
    {0x1100, 0x1112}, {0x1161, 0x1175}, {0x11A7, 0x11C3}, /* L, V, T jamo (and edges) */
    {0xAC00, 0xAC00}, {0xAC01, 0xD7A3},         /* LV and other syllables */
    {0x4E00, 0x9FFF}, {0x3042, 0x3093}, {0x3099, 0x309A}, /* CJK, hiragana, voicing marks */
    {0x0915, 0x0915}, {0x093C, 0x093C}, {0x0958, 0x095F}, /* Devanagari nukta forms */
    {0x212B, 0x212B}, {0x2126, 0x2126}, {0x1F71, 0x1F71}, {0xF900, 0xF903}, /* singletons */
    {0x0344, 0x0344}, {0x0F71, 0x0F73},         /* non-starter decompositions */
    {0x0B47, 0x0B47}, {0x0B3E, 0x0B3E}, {0x0B57, 0x0B57}, /* Oriya two-part vowels */
    {0x0CC6, 0x0CC6}, {0x0CC2, 0x0CC2}, {0x0CD5, 0x0CD5}, /* Kannada */
    {0x03B1, 0x03B1}, {0x0313, 0x0314}, {0x1EBF, 0x1EBF}, /* Greek breathing, Vietnamese */
    {0x1F600, 0x1F64F}, {0x1F3FB, 0x1F3FF}, {0x200D, 0x200D}, /* emoji, skin tones, ZWJ */
    {0x20000, 0x2A6DF}, {0x1D400, 0x1D7FF},     /* 4-byte CJK and math letters */
};

#define N_ALPHABET (sizeof ALPHABET / sizeof ALPHABET[0])

static int32_t random_code_point(uint64_t *rng)
{
    const int32_t *r = ALPHABET[next_random(rng) % N_ALPHABET];
    return r[0] + (int32_t)(next_random(rng) % (uint64_t)(r[1] - r[0] + 1));
}

/* Ill-formed pieces; 0xE4 0xB8 is a sequence cut short, and a lone 0x80 never follows it
 * (that would complete it). */
static const char *const INVALID_PIECES[] = {"\xFF", "\x80", "\xE4\xB8"};

/* A random string of up to 40 code points, with ill-formed pieces if `with_invalid`. */
static void random_text(bytes *s, uint64_t *rng, int with_invalid)
{
    s->len = 0;
    size_t n = next_random(rng) % 41;
    int after_truncated = 0;
    for (size_t k = 0; k < n; k++) {
        if (with_invalid && next_random(rng) % 6 == 0) {
            size_t pick = next_random(rng) % 3;
            if (after_truncated && pick == 1)
                pick = 0;
            bytes_push_str(s, INVALID_PIECES[pick]);
            after_truncated = pick == 2;
        } else {
            bytes_push_cp(s, random_code_point(rng));
            after_truncated = 0;
        }
    }
}

/* bp_nfc equals the oracle, is idempotent, and leaves its own (NFC) output unchanged. */
static void check_random_strings(int with_invalid, uint64_t seed)
{
    bp_nfc_buffer buf = {0}, again = {0};
    bytes s = {0}, expect = {0};
    uint64_t rng = seed;
    for (int iter = 0; iter < 20000; iter++) {
        random_text(&s, &rng, with_invalid);
        assert_nfc_matches_oracle(&buf, &expect, s.p, s.len);
        assert_int_equal(bp_nfc(&again, buf.out, buf.len), BP_OK);
        if (!same_bytes(again.out, again.len, buf.out, buf.len))
            fail_with_hex("bp_nfc is not idempotent", s.p, s.len);
    }
    bp_nfc_buffer_free(&buf);
    bp_nfc_buffer_free(&again);
    free(s.p);
    free(expect.p);
}

static void test_random_strings_match_oracle(void **state)
{
    (void)state;
    check_random_strings(0, 0x9E3779B97F4A7C15u);
}

static void test_random_strings_with_invalid_bytes(void **state)
{
    (void)state;
    check_random_strings(1, 0xD1B54A32D192ED03u);
}

/*------ NFC: runs of combining marks ------*/

/* Up to MARKS_PER_CLASS code points of each combining class utf8proc knows (the first ones
 * found), some of them decomposable (U+0340, U+0344...): the marks of random_marked_text. */
#define MARKS_PER_CLASS 3

typedef struct mark_table {
    int32_t marks[256 * MARKS_PER_CLASS];
    size_t n_marks;
    size_t first_of_class[256]; /* index into marks, per class present */
    unsigned char classes[256];
    size_t n_classes;
} mark_table;

static void fill_mark_table(mark_table *t)
{
    size_t per_class[256] = {0};
    int32_t found[256][MARKS_PER_CLASS];
    for (int32_t cp = 0; cp <= 0x10FFFF; cp++) {
        if (cp == 0xD800)
            cp = 0xE000;
        unsigned cc = utf8proc_get_property(cp)->combining_class;
        if (cc > 0 && per_class[cc] < MARKS_PER_CLASS)
            found[cc][per_class[cc]++] = cp;
    }
    t->n_marks = t->n_classes = 0;
    for (unsigned cc = 1; cc < 256; cc++) {
        if (per_class[cc] == 0)
            continue;
        t->classes[t->n_classes++] = (unsigned char)cc;
        t->first_of_class[cc] = t->n_marks;
        for (size_t k = 0; k < per_class[cc]; k++)
            t->marks[t->n_marks++] = found[cc][k];
    }
    /* Unicode 15 has 55 classes; far fewer would mean the table walk is broken. */
    assert_true(t->n_classes >= 50);
}

/* A mark of the class at index `class_index` of t->classes. */
static int32_t mark_of_class(const mark_table *t, size_t class_index, uint64_t *rng)
{
    unsigned cc = t->classes[class_index];
    size_t first = t->first_of_class[cc];
    size_t next = class_index + 1 < t->n_classes ? t->first_of_class[t->classes[class_index + 1]]
                                                  : t->n_marks;
    return t->marks[first + next_random(rng) % (next - first)];
}

/* Random text made of pieces: a code point of ALPHABET, a short run of marks of any
 * classes, a long run (9 to 300, past the insertion sort) of marks of 2 to 4 classes, a
 * character that decomposes into more code points than it has bytes, or an ill-formed
 * piece (which splits a run of marks in two). */
static void random_marked_text(bytes *s, uint64_t *rng, const mark_table *t)
{
    static const int32_t EXPANDING[] = {0x0390, 0x1F82, 0x0344, 0x0F73, 0x1D160};
    s->len = 0;
    size_t n = 1 + next_random(rng) % 12;
    int after_truncated = 0;
    for (size_t k = 0; k < n; k++) {
        uint64_t kind = next_random(rng) % 16;
        int truncated = 0;
        if (kind < 5) {
            bytes_push_cp(s, random_code_point(rng));
        } else if (kind < 9) {
            for (size_t m = 1 + next_random(rng) % 6; m > 0; m--)
                bytes_push_cp(s, mark_of_class(t, next_random(rng) % t->n_classes, rng));
        } else if (kind < 12) {
            size_t classes[4], n_classes = 2 + next_random(rng) % 3;
            for (size_t c = 0; c < n_classes; c++)
                classes[c] = next_random(rng) % t->n_classes;
            for (size_t m = 9 + next_random(rng) % 292; m > 0; m--)
                bytes_push_cp(s, mark_of_class(t, classes[next_random(rng) % n_classes], rng));
        } else if (kind < 14) {
            bytes_push_cp(s, EXPANDING[next_random(rng) % (sizeof EXPANDING / sizeof EXPANDING[0])]);
        } else {
            size_t pick = next_random(rng) % 3;
            if (after_truncated && pick == 1)
                pick = 0;
            bytes_push_str(s, INVALID_PIECES[pick]);
            truncated = pick == 2;
        }
        after_truncated = truncated; /* as in random_text */
    }
}

static void test_random_mark_runs_match_oracle(void **state)
{
    (void)state;
    mark_table *t = malloc(sizeof *t);
    assert_non_null(t);
    fill_mark_table(t);
    bp_nfc_buffer buf = {0};
    bytes s = {0}, expect = {0};
    uint64_t rng = 0x2545F4914F6CDD1Du;
    for (int iter = 0; iter < 4000; iter++) {
        random_marked_text(&s, &rng, t);
        assert_nfc_matches_oracle(&buf, &expect, s.p, s.len);
    }
    bp_nfc_buffer_free(&buf);
    free(s.p);
    free(expect.p);
    free(t);
}

/* Pushes `count` copies of each code point of the 0-ended list `cps`, list by list. */
static void push_repeated(bytes *b, size_t count, const int32_t *cps)
{
    for (size_t k = 0; k < count; k++)
        for (const int32_t *cp = cps; *cp; cp++)
            bytes_push_cp(b, *cp);
}

static void assert_nfc_bytes(bp_nfc_buffer *buf, const bytes *in, const bytes *want)
{
    assert_int_equal(bp_nfc(buf, in->p, in->len), BP_OK);
    assert_int_equal(buf->len, want->len);
    assert_memory_equal(buf->out, want->p, want->len);
}

/* Runs of tens of thousands of marks, far beyond the insertion sort and any initial
 * buffer, with the output worked out from the rules: marks are sorted by class, those of
 * one class keep their order, and a mark composes with the starter unless a mark of the
 * same or a higher class comes between them. Too long for the oracle (quadratic). */
static void test_long_mark_runs_exact(void **state)
{
    (void)state;
    enum { N = 20000 };
    bp_nfc_buffer buf = {0};
    bytes in = {0}, want = {0};

    /* The document: U+0316 (class 220) moves before every U+0301 (230), so the
     * first U+0301 is unblocked and composes with 'a'; the others stay. */
    bytes_push_str(&in, "a");
    push_repeated(&in, N, (const int32_t[]){0x0301, 0});
    push_repeated(&in, N, (const int32_t[]){0x0316, 0});
    bytes_push_cp(&want, 0x00E1);
    push_repeated(&want, N, (const int32_t[]){0x0316, 0});
    push_repeated(&want, N - 1, (const int32_t[]){0x0301, 0});
    assert_nfc_bytes(&buf, &in, &want);

    /* Five marks interleaved, two pairs of one class each: the classes come out in
     * ascending order (1, 220, 230), each pair still alternating as it came in. 'x' takes
     * none of them. */
    in.len = want.len = 0;
    bytes_push_str(&in, "x");
    push_repeated(&in, N, (const int32_t[]){0x0301, 0x0316, 0x0300, 0x0317, 0x0334, 0});
    bytes_push_str(&in, "!");
    bytes_push_str(&want, "x");
    push_repeated(&want, N, (const int32_t[]){0x0334, 0});
    push_repeated(&want, N, (const int32_t[]){0x0316, 0x0317, 0});
    push_repeated(&want, N, (const int32_t[]){0x0301, 0x0300, 0});
    bytes_push_str(&want, "!");
    assert_nfc_bytes(&buf, &in, &want);

    /* No starter at all: the text starts inside a run of marks. */
    in.len = want.len = 0;
    push_repeated(&in, N, (const int32_t[]){0x0345, 0x0301, 0x0316, 0});
    push_repeated(&want, N, (const int32_t[]){0x0316, 0});
    push_repeated(&want, N, (const int32_t[]){0x0301, 0});
    push_repeated(&want, N, (const int32_t[]){0x0345, 0});
    assert_nfc_bytes(&buf, &in, &want);

    /* An invalid byte splits the run: nothing moves across it, and the marks after it have
     * no starter to compose with. */
    in.len = want.len = 0;
    bytes_push_str(&in, "e");
    push_repeated(&in, N, (const int32_t[]){0x0301, 0x0316, 0});
    bytes_push_str(&in, "\xFF");
    push_repeated(&in, N, (const int32_t[]){0x0301, 0x0316, 0});
    bytes_push_cp(&want, 0x00E9);
    push_repeated(&want, N, (const int32_t[]){0x0316, 0});
    push_repeated(&want, N - 1, (const int32_t[]){0x0301, 0});
    bytes_push_str(&want, "\xFF");
    push_repeated(&want, N, (const int32_t[]){0x0316, 0});
    push_repeated(&want, N, (const int32_t[]){0x0301, 0});
    assert_nfc_bytes(&buf, &in, &want);

    /* Many short runs, each just past the insertion sort (9 marks), then one just within
     * it (8), each after its own starter. */
    in.len = want.len = 0;
    for (int k = 0; k < 1000; k++) {
        bytes_push_str(&in, "o");
        push_repeated(&in, 3, (const int32_t[]){0x0301, 0x0323, 0x031B, 0});
        bytes_push_str(&in, "u");
        push_repeated(&in, 2, (const int32_t[]){0x0308, 0x0328, 0x0301, 0x0328, 0});
    }
    for (int k = 0; k < 1000; k++) {
        /* o + U+031B (216) is U+01A1, which with U+0323 (220) is U+1EE3, which takes no
         * U+0301; u + U+0328 (202) is U+0173, which takes no U+0308 (230), and U+0301
         * (230) is blocked by U+0308. */
        bytes_push_cp(&want, 0x1EE3);
        push_repeated(&want, 2, (const int32_t[]){0x031B, 0});
        push_repeated(&want, 2, (const int32_t[]){0x0323, 0});
        push_repeated(&want, 3, (const int32_t[]){0x0301, 0});
        bytes_push_cp(&want, 0x0173);
        push_repeated(&want, 3, (const int32_t[]){0x0328, 0});
        push_repeated(&want, 2, (const int32_t[]){0x0308, 0x0301, 0});
    }
    assert_nfc_bytes(&buf, &in, &want);

    bp_nfc_buffer_free(&buf);
    assert_null(buf.marks);
    free(in.p);
    free(want.p);
}

/*------ NFC: examples, buffers, edge cases ------*/

static void assert_nfc_is(bp_nfc_buffer *buf, const char *in, const char *want)
{
    assert_int_equal(bp_nfc(buf, (const unsigned char *)in, strlen(in)), BP_OK);
    if (!same_bytes(buf->out, buf->len, want, strlen(want)))
        fail_with_hex("unexpected NFC", (const unsigned char *)in, strlen(in));
}

static void test_nfc_examples(void **state)
{
    (void)state;
    bp_nfc_buffer buf = {0};
    assert_nfc_is(&buf, "", "");
    assert_nfc_is(&buf, "plain ASCII\n", "plain ASCII\n");
    assert_nfc_is(&buf, u8"中文测试：今天天气很好。", u8"中文测试：今天天气很好。");
    assert_nfc_is(&buf, u8"caf\u00E9 na\u00EFve \u00C5ngstr\u00F6m", u8"caf\u00E9 na\u00EFve \u00C5ngstr\u00F6m");
    assert_nfc_is(&buf, u8"cafe\u0301", u8"caf\u00E9");
    assert_nfc_is(&buf, u8"\u212B \u2126", u8"\u00C5 \u03A9");
    assert_nfc_is(&buf, u8"\u1100\u1161\u11A8!", u8"\uAC01!");
    assert_nfc_is(&buf, u8"\uAC00\u11A8", u8"\uAC01");
    assert_nfc_is(&buf, u8"\u304B\u3099", u8"\u304C");
    assert_nfc_is(&buf, u8"\u0958", u8"\u0915\u093C");
    assert_nfc_is(&buf, u8"a\u0328\u0301", u8"\u0105\u0301");
    assert_nfc_is(&buf, u8"a\u0301\u0328", u8"\u0105\u0301");
    assert_nfc_is(&buf, u8"\u0B47\u0B3E", u8"\u0B4B");
    /* invalid bytes stop composition and are kept */
    assert_nfc_is(&buf, "e\xFF\xCC\x81", "e\xFF\xCC\x81");
    assert_nfc_is(&buf, "\xE4\xB8" "e\xCC\x81\x80", "\xE4\xB8\xC3\xA9\x80");
    bp_nfc_buffer_free(&buf);
}

/* Outputs longer than the input and active runs longer than any earlier one make both
 * buffers grow in the middle of a call; a later short call reuses them. */
static void test_nfc_buffers_grow_and_are_reused(void **state)
{
    (void)state;
    bp_nfc_buffer buf = {0};
    bytes s = {0}, expect = {0};
    for (int k = 0; k < 3000; k++)
        bytes_push_str(&s, u8"\u0958"); /* 3 bytes whose NFC takes 6 */
    assert_nfc_matches_oracle(&buf, &expect, s.p, s.len);
    assert_int_equal(buf.len, 2 * s.len);
    s.len = 0;
    bytes_push_str(&s, "x");
    for (int k = 0; k < 50000; k++)
        bytes_push_cp(&s, 0x0300 + k % 5); /* one long active run */
    assert_nfc_matches_oracle(&buf, &expect, s.p, s.len);
    unsigned char *out = buf.out;
    assert_nfc_matches_oracle(&buf, &expect, (const unsigned char *)"short", 5);
    assert_ptr_equal(buf.out, out);
    bp_nfc_buffer_free(&buf);
    assert_null(buf.out);
    assert_null(buf.cps);
    bp_nfc_buffer_free(NULL);
    free(s.p);
    free(expect.p);
}

/*------ NFC: the shared corpus ------*/

static void check_corpus_file(const char *name, int is_nfc)
{
    char rel[64];
    snprintf(rel, sizeof rel, "corpus/%s", name);
    const char *path = bp_test_shared_path(rel);
    if (!path)
        skip();
    size_t len;
    unsigned char *text = bp_test_read_file(path, &len);
    assert_non_null(text);
    bp_nfc_buffer buf = {0};
    bytes expect = {0};
    assert_nfc_matches_oracle(&buf, &expect, text, len);
    if (is_nfc)
        assert_memory_equal(buf.out, text, len);
    bp_nfc_buffer_free(&buf);
    free(expect.p);
    free(text);
}

static void test_corpus_golden_files(void **state)
{
    (void)state;
    check_corpus_file("golden_edge.txt", 0);
    check_corpus_file("golden_en.txt", 1);
    check_corpus_file("golden_zh.txt", 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_decode_table_3_7),
        cmocka_unit_test(test_utf8_decode_matches_utf8proc),
        cmocka_unit_test(test_chunk_len),
        cmocka_unit_test(test_boundaries_for_every_code_point),
        cmocka_unit_test(test_random_strings_match_oracle),
        cmocka_unit_test(test_random_strings_with_invalid_bytes),
        cmocka_unit_test(test_random_mark_runs_match_oracle),
        cmocka_unit_test(test_long_mark_runs_exact),
        cmocka_unit_test(test_nfc_examples),
        cmocka_unit_test(test_nfc_buffers_grow_and_are_reused),
        cmocka_unit_test(test_corpus_golden_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
