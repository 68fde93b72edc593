/*
 * test_text_input.c -- reading corpora (text_input.c): plain files as one text in pieces,
 * bytes kept exactly; JSONL records with escapes, blank lines and bad records (codes, line
 * numbers, skip mode); the same through zstd (compressed here with ZSTD_compress), on
 * standard input through a pipe that delivers a byte at a time; truncated zstd, missing
 * files and directories.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <zstd.h>

#include "bytepiece.h"
#include "test_util.h"

#define MIB ((size_t)1 << 20)

/*------ Files in a scratch directory ------*/

/* Writes bytes to a file of the scratch directory. @return its path (static buffer). */
static const char *put_file(const char *name, const void *data, size_t len)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", bp_test_scratch, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

/* zstd of data[0..len), malloc'd; the compressed size goes to *out_len. */
static unsigned char *compress(const void *data, size_t len, size_t *out_len)
{
    size_t cap = ZSTD_compressBound(len);
    unsigned char *out = malloc(cap);
    assert_non_null(out);
    *out_len = ZSTD_compress(out, cap, data, len, 3);
    assert_false(ZSTD_isError(*out_len));
    return out;
}

static const char *put_zstd_file(const char *name, const void *data, size_t len)
{
    size_t n;
    unsigned char *z = compress(data, len, &n);
    const char *path = put_file(name, z, n);
    free(z);
    return path;
}

/*------ Reading everything an input gives ------*/

typedef struct texts {
    unsigned char *p; /* the texts, each as "<len>:<bytes>|" */
    size_t len, cap;
    size_t n_texts, n_pieces;
    size_t largest_piece;
    uint64_t skipped;
    bp_status status; /* of the call that stopped the reading */
    bp_error err;
} texts;

static void texts_push(texts *t, const void *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        t->cap = 2 * (t->len + n + 1);
        t->p = realloc(t->p, t->cap);
        assert_non_null(t->p);
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = 0;
}

static texts read_texts_from(const char *path, bp_input_format format, const char *field,
                             unsigned flags)
{
    texts t = {0};
    bp_text_input *in = NULL;
    t.status = bp_text_input_open(path, format, field, flags, &in, &t.err);
    if (t.status != BP_OK) {
        assert_null(in);
        return t;
    }
    unsigned char *text = NULL; /* the current text, gathered from its pieces */
    size_t text_len = 0;
    for (;;) {
        const unsigned char *data;
        size_t len;
        int end;
        t.status = bp_text_input_next(in, &data, &len, &end, &t.err);
        if (t.status != BP_OK || !data)
            break;
        t.n_pieces++;
        if (len > t.largest_piece)
            t.largest_piece = len;
        text = realloc(text, text_len + len + 1);
        assert_non_null(text);
        memcpy(text + text_len, data, len);
        text_len += len;
        if (end) {
            char head[32];
            snprintf(head, sizeof head, "%zu:", text_len);
            texts_push(&t, head, strlen(head));
            texts_push(&t, text, text_len);
            texts_push(&t, "|", 1);
            t.n_texts++;
            text_len = 0;
        }
    }
    assert_int_equal(text_len, 0); /* every text was ended */
    t.skipped = bp_text_input_skipped(in);
    free(text);
    bp_text_input_close(in);
    return t;
}

static texts read_plain(const char *path)
{
    return read_texts_from(path, BP_INPUT_PLAIN, NULL, 0);
}

static texts read_jsonl(const char *path, unsigned flags)
{
    return read_texts_from(path, BP_INPUT_JSONL, NULL, flags);
}

/* Expects exactly one text, equal to want[0..len). */
static void assert_one_text(const texts *t, const void *want, size_t len)
{
    assert_int_equal(t->status, BP_OK);
    assert_int_equal(t->n_texts, 1);
    char head[32];
    snprintf(head, sizeof head, "%zu:", len);
    size_t h = strlen(head);
    assert_int_equal(t->len, h + len + 1);
    assert_memory_equal(t->p, head, h);
    if (len)
        assert_memory_equal(t->p + h, want, len);
}

/* A pseudo-random byte string with every byte value, NUL and CR included. */
static unsigned char *random_bytes(size_t len, uint32_t seed)
{
    unsigned char *s = malloc(len);
    assert_non_null(s);
    for (size_t i = 0; i < len; i++) {
        seed = seed * 1664525u + 1013904223u;
        s[i] = (unsigned char)(seed >> 24);
    }
    return s;
}

/*------ Plain text ------*/

static void test_plain_empty_file_is_one_empty_text(void **state)
{
    (void)state;
    const char *path = put_file("empty.txt", "", 0);
    bp_text_input *in;
    bp_error err;
    assert_int_equal(bp_text_input_open(path, BP_INPUT_PLAIN, NULL, 0, &in, &err), BP_OK);
    const unsigned char *data;
    size_t len = 99;
    int end = 0;
    assert_int_equal(bp_text_input_next(in, &data, &len, &end, &err), BP_OK);
    assert_non_null(data);
    assert_int_equal(len, 0);
    assert_int_equal(end, 1);
    assert_int_equal(bp_text_input_next(in, &data, &len, &end, &err), BP_OK);
    assert_null(data);
    assert_int_equal(len, 0);
    assert_int_equal(bp_text_input_next(in, &data, &len, &end, &err), BP_OK); /* stays ended */
    assert_null(data);
    bp_text_input_close(in);
}

static void test_plain_bytes_are_kept_exactly(void **state)
{
    (void)state;
    static const char text[] = "line one\r\nnul \0 here\n\xff\xfe not UTF-8\rlast";
    texts t = read_plain(put_file("small.txt", text, sizeof text - 1));
    assert_one_text(&t, text, sizeof text - 1);
    free(t.p);
}

static void test_plain_large_file_comes_in_pieces(void **state)
{
    (void)state;
    size_t len = 3 * MIB + 12345;
    unsigned char *data = random_bytes(len, 1);
    texts t = read_plain(put_file("large.txt", data, len));
    assert_one_text(&t, data, len);
    assert_true(t.n_pieces >= 4);
    assert_true(t.largest_piece <= MIB);
    free(t.p);
    /* Exactly 2 MiB: the end may come as an empty last piece, never as a missing one. */
    t = read_plain(put_file("exact.txt", data, 2 * MIB));
    assert_one_text(&t, data, 2 * MIB);
    free(t.p);
    free(data);
}

/*------ JSONL ------*/

static const char good_jsonl[] =
    "{\"text\": \"first\"}\n"
    "\n"
    "   \t\r\n"                                             /* blank: skipped */
    "{\"id\": 7, \"text\": \"caf\\u00e9 \\ud83d\\ude00\", \"x\": [1, {\"text\": 2}]}\r\n"
    "{\"text\": \"esc \\\"q\\\" \\\\ \\/ \\b\\f\\n\\r\\t\"}\n"
    "{\"text\": \"nul \\u0000 and \\\\u0000\"}\n"          /* an escaped NUL; a backslash */
    "{\"text\": \"\"}\n"                                    /* an empty text is a text */
    "{\"text\": \"dup 1\", \"text\": \"dup 2\"}\n"          /* the last one counts */
    "{\"text\": \"raw \xe4\xb8\xad\"}";                     /* no final newline */

static const char good_jsonl_texts[] =
    "5:first|"
    "10:caf\xc3\xa9 \xf0\x9f\x98\x80|"
    "17:esc \"q\" \\ / \b\f\n\r\t|"
    "16:nul \0 and \\u0000|"
    "0:|"
    "5:dup 2|"
    "7:raw \xe4\xb8\xad|";

static void test_jsonl_records(void **state)
{
    (void)state;
    texts t = read_jsonl(put_file("good.jsonl", good_jsonl, sizeof good_jsonl - 1), 0);
    assert_int_equal(t.status, BP_OK);
    assert_int_equal(t.n_texts, 7);
    assert_int_equal(t.len, sizeof good_jsonl_texts - 1);
    assert_memory_equal(t.p, good_jsonl_texts, t.len);
    assert_int_equal(t.skipped, 0);
    free(t.p);
}

static void test_jsonl_custom_field(void **state)
{
    (void)state;
    static const char data[] = "{\"text\": \"no\", \"body\": \"yes\"}\n";
    texts t = read_texts_from(put_file("f.jsonl", data, sizeof data - 1), BP_INPUT_JSONL,
                              "body", 0);
    assert_int_equal(t.status, BP_OK);
    assert_string_equal((char *)t.p, "3:yes|");
    free(t.p);
}

/* One bad line after a good one and a blank one: code, message, line number and offset. */
static void assert_bad_record_n(const char *name, const char *bad_line, size_t bad_len,
                                const char *why)
{
    static const char head[] = "{\"text\": \"ok\"}\n\n", tail[] = "\n{\"text\": \"after\"}\n";
    char data[512];
    assert_true(sizeof head + bad_len + sizeof tail <= sizeof data);
    size_t len = 0;
    memcpy(data, head, sizeof head - 1);
    len += sizeof head - 1;
    memcpy(data + len, bad_line, bad_len);
    len += bad_len;
    memcpy(data + len, tail, sizeof tail - 1);
    len += sizeof tail - 1;
    const char *path = put_file(name, data, len);
    char want[600];
    snprintf(want, sizeof want, "%s:3: %s", path, why);
    texts t = read_jsonl(path, 0);
    assert_int_equal(t.status, BP_ERR_BAD_RECORD);
    assert_int_equal(t.err.code, BP_ERR_BAD_RECORD);
    assert_int_equal(t.err.offset, 16); /* where line 3 starts */
    if (!strstr(t.err.message, want))
        fail_msg("message '%s' lacks '%s'", t.err.message, want);
    assert_int_equal(t.n_texts, 1);
    free(t.p);
    /* Skipping: the text after it is read, and the line is counted. */
    t = read_jsonl(path, BP_INPUT_SKIP_BAD_LINES);
    assert_int_equal(t.status, BP_OK);
    assert_string_equal((char *)t.p, "2:ok|5:after|");
    assert_int_equal(t.skipped, 1);
    free(t.p);
}

static void assert_bad_record(const char *name, const char *bad_line, const char *why)
{
    assert_bad_record_n(name, bad_line, strlen(bad_line), why);
}

static void test_jsonl_bad_records(void **state)
{
    (void)state;
    assert_bad_record("notjson.jsonl", "this is not json",
                      "not valid JSON (at column 2: invalid literal (expected true, false or null))");
    assert_bad_record("cut.jsonl", "{\"text\": \"open",
                      "not valid JSON (at column 15: unterminated string)");
    assert_bad_record("trailing.jsonl", "{\"text\": \"a\"} x",
                      "not valid JSON (at column 15: unexpected data after the JSON value)");
    assert_bad_record("array.jsonl", "[\"text\"]", "not a JSON object");
    assert_bad_record("string.jsonl", "\"text\"", "not a JSON object");
    assert_bad_record("missing.jsonl", "{\"txt\": \"a\"}", "no member \"text\"");
    assert_bad_record("number.jsonl", "{\"text\": 12}", "member \"text\" is not a string");
    assert_bad_record("null.jsonl", "{\"text\": null}", "member \"text\" is not a string");
    assert_bad_record("utf8.jsonl", "{\"text\": \"a\xff\"}", "not valid UTF-8 (byte 0xff at column 12)");
    /* Raw control characters: cJSON would take them, and a raw NUL would have cut the
     * text short; Python's json.loads refuses them, and so do we. */
    static const char raw_nul[] = "{\"text\": \"ab\0cd\"}";
    assert_bad_record_n("nul.jsonl", raw_nul, sizeof raw_nul - 1,
                        "not valid JSON (at column 13: control character inside a string");
    assert_bad_record("tab.jsonl", "{\"text\": \"a\tb\"}",
                      "not valid JSON (at column 12: control character inside a string");
    /* The column counts the line as written, \u0000 escapes included. */
    assert_bad_record("column.jsonl", "{\"text\": \"\\u0000\\u0000\"} x",
                      "not valid JSON (at column 26: unexpected data after the JSON value)");
    /* Regression (fuzz_text_input): a pair without its second backslash was taken by the
     * scanner, refused by cJSON and reported as out of memory. */
    assert_bad_record("pair.jsonl", "{\"text\": \"\\ud801udc00\"}",
                      "not valid JSON (at column 11: unpaired UTF-16 surrogate in a \\u escape)");
    assert_bad_record("surrogate.jsonl", "{\"text\": \"\\ud800\"}",
                      "not valid JSON (at column 11: unpaired UTF-16 surrogate in a \\u escape)");
}

static void test_jsonl_skip_counts_every_bad_line(void **state)
{
    (void)state;
    static const char data[] = "x\n{\"text\": \"a\"}\n[]\n{}\n\n{\"text\": \"b\"}\n{";
    texts t = read_jsonl(put_file("many.jsonl", data, sizeof data - 1), BP_INPUT_SKIP_BAD_LINES);
    assert_int_equal(t.status, BP_OK);
    assert_string_equal((char *)t.p, "1:a|1:b|");
    assert_int_equal(t.skipped, 4);
    free(t.p);
}

/* Records longer than the 1 MiB read blocks, one of them cut by a block boundary twice. */
static void test_jsonl_long_lines(void **state)
{
    (void)state;
    size_t n = 3 * MIB;
    char *data = malloc(2 * n + 100);
    assert_non_null(data);
    strcpy(data, "{\"text\": \"");
    size_t len = strlen(data);
    memset(data + len, 'a', n);
    len += n;
    len += (size_t)sprintf(data + len, "\"}\n{\"text\": \"short\"}\n{\"text\": \"");
    memset(data + len, 'b', 1000);
    len += 1000;
    len += (size_t)sprintf(data + len, "\"}");
    texts t = read_jsonl(put_file("long.jsonl", data, len), 0);
    assert_int_equal(t.status, BP_OK);
    assert_int_equal(t.n_texts, 3);
    char head[32];
    snprintf(head, sizeof head, "%zu:", n);
    assert_memory_equal(t.p, head, strlen(head));
    const char *rest = (const char *)t.p + strlen(head) + n;
    assert_memory_equal(rest, "|5:short|1000:bbb", 17);
    free(t.p);
    free(data);
}

/*------ zstd ------*/

static void test_zstd_plain_and_jsonl(void **state)
{
    (void)state;
    size_t len = 3 * MIB + 777;
    unsigned char *data = random_bytes(len, 2);
    texts t = read_plain(put_zstd_file("large.txt.zst", data, len));
    assert_one_text(&t, data, len);
    assert_true(t.largest_piece <= MIB);
    free(t.p);
    free(data);

    t = read_jsonl(put_zstd_file("good.jsonl.zst", good_jsonl, sizeof good_jsonl - 1), 0);
    assert_int_equal(t.status, BP_OK);
    assert_memory_equal(t.p, good_jsonl_texts, sizeof good_jsonl_texts - 1);
    free(t.p);

    /* An empty text compressed is still one empty text. */
    t = read_plain(put_zstd_file("empty.zst", "", 0));
    assert_one_text(&t, "", 0);
    free(t.p);
}

static void test_zstd_several_frames(void **state)
{
    (void)state;
    size_t n1, n2;
    unsigned char *z1 = compress("first frame, ", 13, &n1);
    unsigned char *z2 = compress("second frame", 12, &n2);
    unsigned char *both = malloc(n1 + n2);
    assert_non_null(both);
    memcpy(both, z1, n1);
    memcpy(both + n1, z2, n2);
    texts t = read_plain(put_file("two.zst", both, n1 + n2));
    assert_one_text(&t, "first frame, second frame", 25);
    free(t.p);
    free(z1);
    free(z2);
    free(both);
}

static void test_zstd_truncated(void **state)
{
    (void)state;
    size_t len = MIB, n;
    unsigned char *data = random_bytes(len, 3);
    unsigned char *z = compress(data, len, &n);
    const size_t cut_lengths[] = {5, n / 2, n - 1}; /* in the header, the data, the end */
    for (size_t i = 0; i < 3; i++) {
        const char *path = put_file("cut.zst", z, cut_lengths[i]);
        texts t = read_plain(path);
        assert_int_equal(t.status, BP_ERR_TRUNCATED);
        assert_non_null(strstr(t.err.message, path));
        assert_non_null(strstr(t.err.message, "truncated"));
        free(t.p);
    }
    free(z);
    free(data);
    z = compress(good_jsonl, sizeof good_jsonl - 1, &n);
    texts t = read_jsonl(put_file("cut.jsonl.zst", z, n - 1), 0);
    assert_int_equal(t.status, BP_ERR_TRUNCATED);
    free(t.p);
    free(z);
}

/*------ Standard input, a byte at a time ------*/

typedef struct slow_writer {
    int fd;
    const unsigned char *data;
    size_t len;
} slow_writer;

static void *write_slowly(void *arg)
{
    slow_writer *w = arg;
    for (size_t i = 0; i < w->len; i++)
        if (write(w->fd, w->data + i, 1) != 1)
            break;
    close(w->fd);
    return NULL;
}

/* Reads what a pipe on standard input delivers, one byte per write. */
static texts read_stdin_pipe(const void *data, size_t len, bp_input_format format)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    int saved = dup(STDIN_FILENO);
    assert_true(saved >= 0);
    assert_int_equal(dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
    close(fds[0]);
    slow_writer w = {fds[1], data, len};
    pthread_t tid;
    assert_int_equal(pthread_create(&tid, NULL, write_slowly, &w), 0);
    texts t = read_texts_from("-", format, NULL, 0);
    pthread_join(tid, NULL);
    assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
    close(saved);
    return t;
}

/* A corpus gets the same guard as a model (see test_zstd_window_too_large in
 * test_model_load.c): a small file whose frame header asks for a 2 GiB window is refused
 * before anything large is allocated. */
static void test_zstd_window_too_large(void **state)
{
    (void)state;
    static const unsigned char frame[30] = {
        0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xa8, 0x10, 0x3d, 0x23, 0x40, 0x00, 0x44, 0x3d, 0x23, 0x40,
        0x00, 0x44, 0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x24, 0x10, 0x23, 0x00, 0x00, 0x00, 0x88, 0x2a};
    const char *path = put_file("window.zst", frame, sizeof frame);
    texts t = read_plain(path);
    assert_int_equal(t.status, BP_ERR_TOO_LARGE);
    assert_non_null(strstr(t.err.message, path));
    assert_non_null(strstr(t.err.message, "window larger than 128 MiB"));
    free(t.p);
}

static void test_stdin_zstd_through_a_pipe(void **state)
{
    (void)state;
    size_t n;
    unsigned char *z = compress(good_jsonl, sizeof good_jsonl - 1, &n);
    texts t = read_stdin_pipe(z, n, BP_INPUT_JSONL);
    assert_int_equal(t.status, BP_OK);
    assert_memory_equal(t.p, good_jsonl_texts, sizeof good_jsonl_texts - 1);
    free(t.p);
    t = read_stdin_pipe("ab", 2, BP_INPUT_PLAIN); /* shorter than a zstd magic */
    assert_one_text(&t, "ab", 2);
    free(t.p);
    /* Messages name standard input. */
    t = read_stdin_pipe("{]\n", 3, BP_INPUT_JSONL);
    assert_int_equal(t.status, BP_ERR_BAD_RECORD);
    assert_non_null(strstr(t.err.message, "<stdin>:1: "));
    free(t.p);
    free(z);
}

/*------ Files that cannot be read ------*/

static void test_missing_file_and_directory(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/does-not-exist.txt", bp_test_scratch);
    texts t = read_plain(path);
    assert_int_equal(t.status, BP_ERR_IO);
    assert_non_null(strstr(t.err.message, path));
    assert_non_null(strstr(t.err.message, "No such file or directory"));
    t = read_jsonl(bp_test_scratch, 0);
    assert_int_equal(t.status, BP_ERR_IO);
    assert_non_null(strstr(t.err.message, bp_test_scratch));
    assert_non_null(strstr(t.err.message, "Is a directory"));
}

static void test_invalid_arguments(void **state)
{
    (void)state;
    bp_text_input *in;
    bp_error err;
    assert_int_equal(bp_text_input_open(NULL, BP_INPUT_PLAIN, NULL, 0, &in, &err),
                     BP_ERR_INVALID_ARG);
    assert_int_equal(bp_text_input_open("x", (bp_input_format)7, NULL, 0, &in, &err),
                     BP_ERR_INVALID_ARG);
    assert_int_equal(bp_text_input_next(NULL, NULL, NULL, NULL, &err), BP_ERR_INVALID_ARG);
    assert_int_equal(bp_text_input_skipped(NULL), 0);
    bp_text_input_close(NULL);
}

#define WITH_SCRATCH(f) cmocka_unit_test_setup_teardown(f, bp_test_make_scratch, bp_test_remove_scratch)

int main(void)
{
    const struct CMUnitTest tests[] = {
        WITH_SCRATCH(test_plain_empty_file_is_one_empty_text),
        WITH_SCRATCH(test_plain_bytes_are_kept_exactly),
        WITH_SCRATCH(test_plain_large_file_comes_in_pieces),
        WITH_SCRATCH(test_jsonl_records),
        WITH_SCRATCH(test_jsonl_custom_field),
        WITH_SCRATCH(test_jsonl_bad_records),
        WITH_SCRATCH(test_jsonl_skip_counts_every_bad_line),
        WITH_SCRATCH(test_jsonl_long_lines),
        WITH_SCRATCH(test_zstd_plain_and_jsonl),
        WITH_SCRATCH(test_zstd_several_frames),
        WITH_SCRATCH(test_zstd_truncated),
        WITH_SCRATCH(test_zstd_window_too_large),
        WITH_SCRATCH(test_stdin_zstd_through_a_pipe),
        WITH_SCRATCH(test_missing_file_and_directory),
        WITH_SCRATCH(test_invalid_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
