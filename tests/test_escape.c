/* test_escape.c -- pieces as printable words (bp_piece_escape / bp_piece_unescape), the
 * UTF-8 check and the decode bound: exact bytes both ways and exact error codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bytepiece.h"
#include "test_util.h"

/* Escapes bytes[0..len) with the exact bound and checks the word, then reads it back. */
static void check_escape(const char *bytes, size_t len, const char *expect)
{
    char out[256];
    size_t out_len = 0;
    assert_true(bp_piece_escape_bound(len) <= sizeof out);
    assert_int_equal(bp_piece_escape(bytes, len, out, bp_piece_escape_bound(len), &out_len, NULL),
                     BP_OK);
    assert_string_equal(out, expect);
    assert_int_equal(out_len, strlen(expect));
    /* The smallest buffer that works is the word plus its NUL; one byte less fails. */
    char tight[256];
    assert_int_equal(bp_piece_escape(bytes, len, tight, out_len + 1, &out_len, NULL), BP_OK);
    assert_string_equal(tight, expect);
    bp_error err;
    assert_int_equal(bp_piece_escape(bytes, len, tight, out_len, &out_len, &err),
                     BP_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(out_len, strlen(expect));
    unsigned char back[256];
    size_t back_len = 0;
    assert_int_equal(bp_piece_unescape(out, strlen(out), back, &back_len, NULL), BP_OK);
    assert_int_equal(back_len, len);
    assert_memory_equal(back, bytes, len);
}

static void test_escape_words(void **state)
{
    (void)state;
    check_escape("abc", 3, "abc");
    check_escape(" ", 1, "\\x20");
    check_escape("a\\b", 3, "a\\\\b");
    check_escape("\n\t\r", 3, "\\n\\t\\r");
    check_escape("\0\x7f", 2, "\\x00\\x7f");
    check_escape("\xc3\xa9t\xc3\xa9", 5, "\xc3\xa9t\xc3\xa9");           /* été */
    check_escape("\xc2\x80\xc2\xa0", 4, "\\xc2\\x80\xc2\xa0");           /* C1 control, NBSP */
    check_escape("\xe5\x88", 2, "\\xe5\\x88");                            /* cut character */
    check_escape("\xed\xa0\x80", 3, "\\xed\\xa0\\x80");                  /* a surrogate */
    check_escape("\xf0\x9f\x98\x80!", 5, "\xf0\x9f\x98\x80!");           /* emoji */
    check_escape("<bos>", 5, "\\x3cbos>");                                /* not id 1 */
    check_escape("<bos", 4, "<bos");
    check_escape("", 0, "");
}

static void test_escape_contract(void **state)
{
    (void)state;
    size_t n;
    bp_error err;
    assert_int_equal(bp_piece_escape_bound(0), 1);
    assert_int_equal(bp_piece_escape_bound(10), 41);
    assert_int_equal(bp_piece_escape_bound(SIZE_MAX / 2), SIZE_MAX);
    assert_int_equal(bp_piece_escape(NULL, 1, NULL, 0, &n, &err), BP_ERR_INVALID_ARG);
    assert_int_equal(bp_piece_escape("a", 1, NULL, 0, &n, &err), BP_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(n, 1);
    assert_int_equal(bp_piece_escape("a", 1, NULL, 0, NULL, &err), BP_ERR_INVALID_ARG);

    unsigned char out[16];
    assert_int_equal(bp_piece_unescape("\\X41", 4, out, &n, &err), BP_ERR_BAD_ESCAPE);
    assert_int_equal(err.offset, 0);
    assert_int_equal(bp_piece_unescape("ab\\x4", 5, out, &n, &err), BP_ERR_BAD_ESCAPE);
    assert_int_equal(err.offset, 2);
    assert_non_null(strstr(err.message, "two hex digits"));
    assert_int_equal(bp_piece_unescape("a\\", 2, out, &n, &err), BP_ERR_BAD_ESCAPE);
    assert_int_equal(err.offset, 1);
    assert_int_equal(bp_piece_unescape("\\x4A\\x4b", 8, out, &n, &err), BP_OK);
    assert_int_equal(n, 2);
    assert_memory_equal(out, "JK", 2);
    assert_string_equal(bp_strerror(BP_ERR_BAD_ESCAPE), "malformed escape in a piece");
}

static void test_utf8_valid_prefix(void **state)
{
    (void)state;
    assert_int_equal(bp_utf8_valid_prefix("", 0), 0);
    assert_int_equal(bp_utf8_valid_prefix("abc", 3), 3);
    assert_int_equal(bp_utf8_valid_prefix("a\xc3\xa9z", 4), 4);
    assert_int_equal(bp_utf8_valid_prefix("a\xc3", 2), 1);               /* cut short */
    assert_int_equal(bp_utf8_valid_prefix("ab\xc0\x80", 4), 2);          /* overlong */
    assert_int_equal(bp_utf8_valid_prefix("\xed\xa0\x80", 3), 0);        /* surrogate */
    assert_int_equal(bp_utf8_valid_prefix("x\xf4\x90\x80\x80", 5), 1);   /* > U+10FFFF */
    assert_int_equal(bp_utf8_valid_prefix("\xf0\x9f\x98\x80", 4), 4);
}

static void test_decode_bound(void **state)
{
    (void)state;
    static const char *const extra[] = {"hello", "abcdefgh"};
    static const uint64_t counts[] = {5, 3};
    bp_model *m = bp_test_small_model(extra, counts, 2);
    assert_int_equal(bp_decode_bound(m, 0), 0);
    assert_int_equal(bp_decode_bound(m, 3), 24); /* the longest piece has 8 bytes */
    assert_int_equal(bp_decode_bound(m, SIZE_MAX / 4), SIZE_MAX);
    uint32_t ids[] = {260, 260, 259};
    char out[24];
    size_t n;
    assert_int_equal(bp_decode(m, ids, 3, out, bp_decode_bound(m, 3), &n, NULL), BP_OK);
    assert_int_equal(n, 21);
    assert_memory_equal(out, "abcdefghabcdefghhello", 21);
    bp_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_words),
        cmocka_unit_test(test_escape_contract),
        cmocka_unit_test(test_utf8_valid_prefix),
        cmocka_unit_test(test_decode_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
