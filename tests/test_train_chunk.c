/*
 * test_train_chunk.c -- the training chunker (train_chunk.c): the reference's regex
 * `.{,10000}\n{1,100}|.{1,10000}` (and its isolate_digits form) on the NFC text, worked
 * out by hand for each of its cases; NFC and chunks that do not depend on how the text is
 * split into feeds; invalid UTF-8 with its byte offset, and skip_bad_lines.
 * (While developing, the chunker was also compared with Python's re.findall on the
 * corpora in ../shared; that check needs Python and is not part of the suite.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bp_internal.h"
#include "test_util.h"

/*------ Collecting chunks ------*/

/* All chunks of a run, each written as "<len>:<bytes>" so that one comparison checks
 * both the bytes and where the cuts are. */
typedef struct chunks {
    unsigned char *p;
    size_t len, cap;
    size_t n;
    bp_status fail_with; /* the sink fails with this on its second chunk, if not BP_OK */
} chunks;

static void chunks_push(chunks *c, const void *s, size_t n)
{
    if (c->len + n + 1 > c->cap) {
        c->cap = 2 * (c->len + n + 1);
        c->p = realloc(c->p, c->cap);
        assert_non_null(c->p);
    }
    memcpy(c->p + c->len, s, n);
    c->len += n;
    c->p[c->len] = 0;
}

static bp_status collect(void *ctx, const unsigned char *chunk, size_t len)
{
    chunks *c = ctx;
    assert_true(len > 0);
    if (c->fail_with != BP_OK && c->n == 1)
        return c->fail_with;
    char head[32];
    snprintf(head, sizeof head, "%zu:", len);
    chunks_push(c, head, strlen(head));
    chunks_push(c, chunk, len);
    c->n++;
    return BP_OK;
}

/* The expected record of a list of chunks given as NUL-terminated strings. */
static chunks expected(const char *const *list, size_t n)
{
    chunks c = {0};
    for (size_t i = 0; i < n; i++)
        collect(&c, (const unsigned char *)list[i], strlen(list[i]));
    return c;
}

/* Chunks `text` fed in pieces that end at cuts[0..n_cuts) (increasing). */
static chunks chunk_fed_at(const void *text, size_t len, bool isolate_digits,
                           const size_t *cuts, size_t n_cuts)
{
    bp_chunker *c;
    assert_int_equal(bp_chunker_create(isolate_digits, false, &c), BP_OK);
    chunks got = {0};
    bp_error err;
    size_t at = 0;
    for (size_t i = 0; i <= n_cuts; i++) {
        size_t end = i < n_cuts ? cuts[i] : len;
        assert_int_equal(bp_chunker_feed(c, (const unsigned char *)text + at, end - at,
                                         collect, &got, &err), BP_OK);
        at = end;
    }
    assert_int_equal(bp_chunker_end_text(c, collect, &got, &err), BP_OK);
    bp_chunker_free(c);
    return got;
}

static chunks chunk_whole(const void *text, size_t len, bool isolate_digits)
{
    return chunk_fed_at(text, len, isolate_digits, NULL, 0);
}

static void assert_chunks_equal(const chunks *got, const chunks *want)
{
    assert_int_equal(got->n, want->n);
    assert_int_equal(got->len, want->len);
    if (want->len)
        assert_memory_equal(got->p, want->p, want->len);
}

#define ASSERT_CHUNKS(text, isolate, ...)                                                  \
    do {                                                                                   \
        const char *const list_[] = {__VA_ARGS__};                                         \
        chunks want_ = expected(list_, sizeof list_ / sizeof list_[0]);                    \
        chunks got_ = chunk_whole(text, strlen(text), isolate);                            \
        assert_chunks_equal(&got_, &want_);                                                \
        free(want_.p);                                                                     \
        free(got_.p);                                                                      \
    } while (0)

/* A string of `n` copies of `unit`, malloc'd. */
static char *repeat(const char *unit, size_t n)
{
    size_t u = strlen(unit);
    char *s = malloc(u * n + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * u, unit, u);
    s[u * n] = 0;
    return s;
}

static char *concat(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    assert_non_null(s);
    memcpy(s, a, la);
    memcpy(s + la, b, lb + 1);
    return s;
}

/*------ The regex, case by case ------*/

static void test_lines_and_newlines(void **state)
{
    (void)state;
    ASSERT_CHUNKS("ab\ncd", false, "ab\n", "cd");
    ASSERT_CHUNKS("ab\n\n\ncd\n", false, "ab\n\n\n", "cd\n");
    ASSERT_CHUNKS("\n\nab", false, "\n\n", "ab");          /* `.{0}\n{1,100}` */
    ASSERT_CHUNKS("a\r\nb\rc", false, "a\r\n", "b\rc");    /* \r is an ordinary character */
    ASSERT_CHUNKS("x", false, "x");
    ASSERT_CHUNKS("\n", false, "\n");
    ASSERT_CHUNKS("12 ab\n34", false, "12 ab\n", "34");     /* digits are ordinary */
}

static void test_empty_text_gives_no_chunk(void **state)
{
    (void)state;
    chunks got = chunk_whole("", 0, false);
    assert_int_equal(got.n, 0);
    got = chunk_whole("", 0, true);
    assert_int_equal(got.n, 0);
    /* Ending a text that had no feed at all, twice. */
    bp_chunker *c;
    bp_error err;
    assert_int_equal(bp_chunker_create(false, false, &c), BP_OK);
    assert_int_equal(bp_chunker_end_text(c, collect, &got, &err), BP_OK);
    assert_int_equal(bp_chunker_end_text(c, collect, &got, &err), BP_OK);
    assert_int_equal(got.n, 0);
    bp_chunker_free(c);
}

/* 150 newlines: `\n{1,100}` takes 100, and the other 50 form a chunk with no characters. */
static void test_newline_runs_are_cut_at_100(void **state)
{
    (void)state;
    char *nl100 = repeat("\n", 100), *nl50 = repeat("\n", 50), *nl150 = repeat("\n", 150),
         *nl250 = repeat("\n", 250), *nl101 = repeat("\n", 101);
    char *a150 = concat("a", nl150), *a100 = concat("a", nl100);
    char *a250b = concat(a100, nl150), *tmp = concat(a250b, "b");
    ASSERT_CHUNKS(a150, false, a100, nl50);
    ASSERT_CHUNKS(nl250, false, nl100, nl100, nl50);
    ASSERT_CHUNKS(tmp, false, a100, nl100, nl50, "b");
    ASSERT_CHUNKS(nl101, false, nl100, "\n");
    ASSERT_CHUNKS(a100, false, a100);
    free(nl100), free(nl50), free(nl150), free(nl250), free(nl101);
    free(a150), free(a100), free(a250b), free(tmp);
}

/* A line of more than 10000 characters: the first branch cannot reach its '\n', so the
 * second takes 10000 characters at a time and the last piece takes the newlines. */
static void test_long_lines_are_cut_at_10000_characters(void **state)
{
    (void)state;
    char *x10000 = repeat("x", 10000), *x20000 = repeat("x", 20000);
    char *line10000 = concat(x10000, "\n\n"), *line10001 = concat(x10000, "x\n");
    char *line20000 = concat(x20000, "\n");
    char *x10000nl = concat(x10000, "\n");
    ASSERT_CHUNKS(line10000, false, line10000);
    ASSERT_CHUNKS(line10001, false, x10000, "x\n");
    ASSERT_CHUNKS(line20000, false, x10000, x10000nl);
    ASSERT_CHUNKS(x20000, false, x10000, x10000);
    ASSERT_CHUNKS(x10000, false, x10000);
    free(x10000), free(x20000), free(line10000), free(line10001), free(line20000);
    free(x10000nl);
}

/* Lengths count code points of the NFC text, not bytes. */
static void test_long_lines_count_code_points_after_nfc(void **state)
{
    (void)state;
    char *zh10000 = repeat("中", 10000), *zh10001 = repeat("中", 10001);
    char *zh10000nl = concat(zh10000, "\n"), *zh10001nl = concat(zh10001, "\n");
    ASSERT_CHUNKS(zh10000nl, false, zh10000nl);
    ASSERT_CHUNKS(zh10001nl, false, zh10000, "中\n");
    char *emoji = repeat("\xF0\x9F\x98\x80", 10001); /* 4-byte characters */
    char *emoji10000 = repeat("\xF0\x9F\x98\x80", 10000);
    ASSERT_CHUNKS(emoji, false, emoji10000, "\xF0\x9F\x98\x80");
    /* 10001 times e + U+0301 is 20002 code points, but 10001 after NFC (U+00E9). */
    char *decomposed = repeat("e\xCC\x81", 10001), *composed10000 = repeat("\xC3\xA9", 10000);
    ASSERT_CHUNKS(decomposed, false, composed10000, "\xC3\xA9");
    free(zh10000), free(zh10001), free(zh10000nl), free(zh10001nl);
    free(emoji), free(emoji10000), free(decomposed), free(composed10000);
}

static void test_isolate_digits(void **state)
{
    (void)state;
    ASSERT_CHUNKS("ab12c\nd", true, "ab", "1", "2", "c\n", "d");
    ASSERT_CHUNKS("1\n\n2", true, "1", "\n\n", "2");
    ASSERT_CHUNKS("a1\n", true, "a", "1", "\n"); /* the run before a digit has no newline */
    ASSERT_CHUNKS("2024", true, "2", "0", "2", "4");
    /* Unicode Nd: FULLWIDTH DIGIT THREE, ARABIC-INDIC DIGIT THREE, DEVANAGARI DIGIT ONE. */
    ASSERT_CHUNKS("x\xEF\xBC\x93y\xD9\xA3\n\xE0\xA5\xA7", true, "x", "\xEF\xBC\x93", "y",
                  "\xD9\xA3", "\n", "\xE0\xA5\xA7");
    /* Numbers that are not Nd stay ordinary: VULGAR FRACTION ONE HALF, CIRCLED DIGIT ONE,
     * SUPERSCRIPT TWO. */
    ASSERT_CHUNKS("a\xC2\xBD\xE2\x91\xA0\xC2\xB2" "b", true, "a\xC2\xBD\xE2\x91\xA0\xC2\xB2" "b");
    /* Without isolate_digits nothing is special about them. */
    ASSERT_CHUNKS("x\xEF\xBC\x93y12\n", false, "x\xEF\xBC\x93y12\n");
}

static void test_isolate_digits_long_runs(void **state)
{
    (void)state;
    char *x10000 = repeat("x", 10000), *x10001 = repeat("x", 10001);
    char *run = concat(x10001, "7\n"), *run2 = concat(x10000, "\n");
    ASSERT_CHUNKS(run, true, x10000, "x", "7", "\n");
    ASSERT_CHUNKS(run2, true, run2);
    free(x10000), free(x10001), free(run), free(run2);
}

/*------ Streaming ------*/

static void assert_same_as_whole(const char *text, size_t len, bool isolate,
                                 const size_t *cuts, size_t n_cuts)
{
    chunks want = chunk_whole(text, len, isolate);
    chunks got = chunk_fed_at(text, len, isolate, cuts, n_cuts);
    assert_chunks_equal(&got, &want);
    free(want.p);
    free(got.p);
}

static void test_nfc_across_feeds(void **state)
{
    (void)state;
    static const size_t at1[] = {1}, at2[] = {2};
    /* e, then COMBINING ACUTE ACCENT in the next feed: one character U+00E9. */
    chunks got = chunk_fed_at("e\xCC\x81", 3, false, at1, 1);
    assert_string_equal((char *)got.p, "2:\xC3\xA9");
    free(got.p);
    /* The accent's own bytes split between feeds. */
    got = chunk_fed_at("e\xCC\x81", 3, false, at2, 1);
    assert_string_equal((char *)got.p, "2:\xC3\xA9");
    free(got.p);
    /* Hangul L + V compose to U+AC00. */
    got = chunk_fed_at("\xE1\x84\x80\xE1\x85\xA1", 6, false, (const size_t[]){3}, 1);
    assert_string_equal((char *)got.p, "3:\xEA\xB0\x80");
    free(got.p);
    /* Canonical reordering of marks that arrive one feed at a time: dot below (220)
     * before dot above (230), then composed with the d: U+1E0D U+0307. */
    got = chunk_fed_at("d\xCC\x87\xCC\xA3", 5, false, (const size_t[]){1, 3}, 2);
    assert_string_equal((char *)got.p, "5:\xE1\xB8\x8D\xCC\x87");
    free(got.p);
}

/* Every way to cut small texts into two or three feeds gives the chunks of one feed. */
static void test_every_split_gives_the_same_chunks(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "ab\ncd\n\n\xC3\xA9x",
        "e\xCC\x81\xCC\xA3\n\xE4\xB8\xAD\xE6\x96\x87 12\r\n",
        "\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8 \xEA\xB0\x80\xE1\x86\xA8\n3\xEF\xBC\x93",
        "\n\n\xF0\x9F\x98\x80\xF0\x9F\x98\x80z\xD9\xA3\n",
        "A\xCC\x8A\xE0\xA4\x95\xE0\xA4\xBC\xCD\x85\xCC\x80x",
    };
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
        size_t len = strlen(texts[t]);
        for (int isolate = 0; isolate <= 1; isolate++) {
            for (size_t i = 0; i <= len; i++) {
                assert_same_as_whole(texts[t], len, isolate, (size_t[]){i}, 1);
                for (size_t j = i; j <= len; j++)
                    assert_same_as_whole(texts[t], len, isolate, (size_t[]){i, j}, 2);
            }
        }
    }
}

/* Feeds around the 10000-character limit: pieces of 1, 3 and 4097 bytes. */
static void test_long_line_in_small_feeds(void **state)
{
    (void)state;
    char *line = repeat("\xC3\xA9x\xE4\xB8\xAD", 3400); /* 10200 characters */
    char *text = concat(line, "\n\n12");
    size_t len = strlen(text);
    static const size_t steps[] = {1, 3, 4097};
    for (size_t s = 0; s < 3; s++) {
        size_t n_cuts = len / steps[s];
        size_t *cuts = malloc(n_cuts * sizeof *cuts);
        assert_non_null(cuts);
        for (size_t i = 0; i < n_cuts; i++)
            cuts[i] = (i + 1) * steps[s];
        assert_same_as_whole(text, len, false, cuts, n_cuts);
        assert_same_as_whole(text, len, true, cuts, n_cuts);
        free(cuts);
    }
    free(line);
    free(text);
}

/*------ Invalid UTF-8 ------*/

/* Feeds `text` in pieces cut at cuts[], expects BP_ERR_BAD_UTF8 at byte `offset`. */
static void assert_bad_utf8_at(const char *text, size_t len, const size_t *cuts, size_t n_cuts,
                               uint64_t offset)
{
    bp_chunker *c;
    assert_int_equal(bp_chunker_create(false, false, &c), BP_OK);
    chunks got = {0};
    bp_error err;
    bp_status st = BP_OK;
    size_t at = 0;
    for (size_t i = 0; i <= n_cuts && st == BP_OK; i++) {
        size_t end = i < n_cuts ? cuts[i] : len;
        st = bp_chunker_feed(c, (const unsigned char *)text + at, end - at, collect, &got, &err);
        at = end;
    }
    if (st == BP_OK)
        st = bp_chunker_end_text(c, collect, &got, &err);
    assert_int_equal(st, BP_ERR_BAD_UTF8);
    assert_int_equal(err.code, BP_ERR_BAD_UTF8);
    assert_int_equal(err.offset, offset);
    char want[64];
    snprintf(want, sizeof want, "byte offset %llu", (unsigned long long)offset);
    assert_non_null(strstr(err.message, want));
    bp_chunker_free(c);
    free(got.p);
}

static void test_invalid_utf8_offsets(void **state)
{
    (void)state;
    assert_bad_utf8_at("ab\xFF" "cd", 5, NULL, 0, 2);
    assert_bad_utf8_at("ab\nc\xC0\xAF", 6, NULL, 0, 4);           /* overlong */
    assert_bad_utf8_at("\xED\xA0\x80", 3, NULL, 0, 0);              /* surrogate */
    assert_bad_utf8_at("x\xE4\xB8" "a", 4, NULL, 0, 1);             /* cut short */
    assert_bad_utf8_at("\xC3\xA9\x80", 3, NULL, 0, 2);              /* stray continuation */
    assert_bad_utf8_at("\xF4\x90\x80\x80", 4, NULL, 0, 0);          /* above U+10FFFF */
    /* Offsets count from the start of the text, across feeds. */
    assert_bad_utf8_at("abc" "d\xFF", 5, (size_t[]){3}, 1, 4);
    assert_bad_utf8_at("\xE4\xB8\xAD\xE4\xB8" "a", 6, (size_t[]){4}, 1, 3);
    /* The text ends inside a character: only known at its end. */
    assert_bad_utf8_at("abc\xE4\xB8", 5, NULL, 0, 3);
    assert_bad_utf8_at("abc\xF0\x9F\x98", 6, (size_t[]){4, 5}, 2, 3);
    /* A valid sequence split between feeds is no error. */
    chunks got = chunk_fed_at("\xE4\xB8\xAD", 3, false, (size_t[]){1, 2}, 2);
    assert_string_equal((char *)got.p, "3:\xE4\xB8\xAD");
    free(got.p);
}

static void test_error_abandons_the_text_only(void **state)
{
    (void)state;
    bp_chunker *c;
    assert_int_equal(bp_chunker_create(false, false, &c), BP_OK);
    chunks got = {0};
    bp_error err;
    assert_int_equal(bp_chunker_feed(c, (const unsigned char *)"ab\n\xFF", 4, collect, &got,
                                     &err), BP_ERR_BAD_UTF8);
    assert_int_equal(bp_chunker_feed(c, (const unsigned char *)"more", 4, collect, &got, &err),
                     BP_ERR_BAD_UTF8);
    assert_int_equal(bp_chunker_end_text(c, collect, &got, &err), BP_OK);
    free(got.p);
    got = (chunks){0};
    /* The next text starts afresh, offsets from 0. */
    assert_int_equal(bp_chunker_feed(c, (const unsigned char *)"ok\n", 3, collect, &got, &err),
                     BP_OK);
    assert_int_equal(bp_chunker_end_text(c, collect, &got, &err), BP_OK);
    assert_string_equal((char *)got.p, "3:ok\n");
    assert_int_equal(bp_chunker_feed(c, (const unsigned char *)"\xFF", 1, collect, &got, &err),
                     BP_ERR_BAD_UTF8);
    assert_int_equal(err.offset, 0);
    bp_chunker_free(c);
    free(got.p);
}

/*------ skip_bad_lines ------*/

/* Chunks `text` with skip_bad_lines, fed in pieces of `step` bytes. */
static chunks chunk_skipping(const char *text, size_t len, size_t step, uint64_t *skipped)
{
    bp_chunker *c;
    assert_int_equal(bp_chunker_create(false, true, &c), BP_OK);
    chunks got = {0};
    bp_error err;
    for (size_t at = 0; at < len; at += step) {
        size_t n = len - at < step ? len - at : step;
        assert_int_equal(bp_chunker_feed(c, (const unsigned char *)text + at, n, collect, &got,
                                         &err), BP_OK);
    }
    assert_int_equal(bp_chunker_end_text(c, collect, &got, &err), BP_OK);
    *skipped = bp_chunker_skipped_lines(c);
    bp_chunker_free(c);
    return got;
}

/* The text with its bad lines dropped is `clean`, whatever the size of the feeds. */
static void assert_skips(const char *text, const char *clean, uint64_t n_bad)
{
    chunks want = chunk_whole(clean, strlen(clean), false);
    for (size_t step = 1; step <= strlen(text); step++) {
        uint64_t skipped;
        chunks got = chunk_skipping(text, strlen(text), step, &skipped);
        assert_chunks_equal(&got, &want);
        assert_int_equal(skipped, n_bad);
        free(got.p);
    }
    free(want.p);
}

static void test_skip_bad_lines(void **state)
{
    (void)state;
    assert_skips("good\nb\xFF" "ad\nnext", "good\nnext", 1);
    assert_skips("b\xFF\xFE" "ad\n\xC0\n" "fine\n", "fine\n", 2); /* two bad bytes: one line */
    assert_skips("a\nb\xFF", "a\n", 1);                           /* the last line */
    assert_skips("a\n\xE4\xB8", "a\n", 1);                         /* cut short at the end */
    assert_skips("a\n\n\xFF\n\nb\n", "a\n\n\nb\n", 1);            /* the line's own '\n' goes */
    assert_skips("e\n\xCC\x81\xFF\n\xCC\x81x", "e\n\xCC\x81x", 1); /* marks after the line */
    assert_skips("no errors\nhere\n", "no errors\nhere\n", 0);
}

static void test_sink_failure_stops(void **state)
{
    (void)state;
    bp_chunker *c;
    assert_int_equal(bp_chunker_create(false, false, &c), BP_OK);
    chunks got = {.fail_with = BP_ERR_IO};
    bp_error err;
    /* "a\n" goes out when the 'b' arrives, "b\n" (refused) when the 'c' does. */
    assert_int_equal(bp_chunker_feed(c, (const unsigned char *)"a\nb\nc\n", 6, collect, &got,
                                     &err), BP_ERR_IO);
    assert_int_equal(got.n, 1);
    assert_int_equal(bp_chunker_end_text(c, collect, &got, &err), BP_OK);
    bp_chunker_free(c);
    free(got.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_and_newlines),
        cmocka_unit_test(test_empty_text_gives_no_chunk),
        cmocka_unit_test(test_newline_runs_are_cut_at_100),
        cmocka_unit_test(test_long_lines_are_cut_at_10000_characters),
        cmocka_unit_test(test_long_lines_count_code_points_after_nfc),
        cmocka_unit_test(test_isolate_digits),
        cmocka_unit_test(test_isolate_digits_long_runs),
        cmocka_unit_test(test_nfc_across_feeds),
        cmocka_unit_test(test_every_split_gives_the_same_chunks),
        cmocka_unit_test(test_long_line_in_small_feeds),
        cmocka_unit_test(test_invalid_utf8_offsets),
        cmocka_unit_test(test_error_abandons_the_text_only),
        cmocka_unit_test(test_skip_bad_lines),
        cmocka_unit_test(test_sink_failure_stops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
