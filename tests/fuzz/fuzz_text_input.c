/*
 * fuzz_text_input.c -- libFuzzer target: reading corpora (bp_text_input_*) from arbitrary
 * files, plain and JSONL, as written and zstd-compressed.
 *
 * Input layout (missing bytes read as 0):
 *   byte 0    flags: 1 JSONL (else plain), 2 compress the file with zstd, 4 the JSONL member
 *             is "t" (else "text")
 *   the rest  the file's content
 *
 * Checks: content that starts like zstd is decompressed, and may fail, but only cleanly
 * (mutated zstd is mostly corrupt). Other content: a plain file is exactly one text whose
 * pieces concatenate to the content. A JSONL file read while skipping bad lines never
 * fails, gives valid UTF-8 texts (NUL allowed: it comes from \u0000), and its texts plus
 * its skipped lines are its non-blank lines; read without skipping, it gives the same
 * texts up to the first bad line, where it fails with BP_ERR_BAD_RECORD naming the file,
 * or all of them when no line was skipped; when every line is {"text": "S"} with S plain
 * ASCII, the texts are exactly the S. The zstd-compressed file gives exactly what the
 * plain one gives.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

#include "fuzz_util.h"

enum { F_JSONL = 1, F_ZSTD = 2, F_SHORT_FIELD = 4 };

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[256];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(path, sizeof path, "%s/bp_fuzz_text_input_%ld",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", (long)getpid());
    return 0;
}

static void write_file(const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(fwrite(data, 1, len, f) == len);
    FUZZ_CHECK(fclose(f) == 0);
}

/* What reading the file gave: the status, the texts one after the other with where each
 * ends, the lines skipped, and the message of a failure. */
typedef struct reading {
    bp_status status;
    unsigned char *bytes; /* the texts, one after the other */
    size_t len, cap;
    size_t *ends;         /* where each text ends in `bytes` */
    size_t n_texts, ends_cap;
    uint64_t skipped;
    char message[sizeof ((bp_error *)0)->message];
} reading;

static void append(reading *r, const unsigned char *p, size_t n)
{
    if (r->len + n > r->cap) {
        r->cap = 2 * (r->len + n) + 64;
        r->bytes = realloc(r->bytes, r->cap);
        FUZZ_CHECK(r->bytes != NULL);
    }
    memcpy(r->bytes + r->len, p, n);
    r->len += n;
}

static reading read_all(bp_input_format format, const char *field, unsigned flags)
{
    reading r = {.bytes = fuzz_xmalloc(64), .cap = 64}; /* never NULL: no null arithmetic */
    bp_text_input *in = NULL;
    bp_error err;
    r.status = bp_text_input_open(path, format, field, flags, &in, &err);
    FUZZ_CHECK_STATUS(r.status, BP_OK);
    for (;;) {
        const unsigned char *data;
        size_t len;
        int end;
        r.status = bp_text_input_next(in, &data, &len, &end, &err);
        if (r.status != BP_OK) {
            memcpy(r.message, err.message, sizeof r.message);
            break;
        }
        if (!data)
            break;
        append(&r, data, len);
        if (end) {
            if (r.n_texts == r.ends_cap) {
                r.ends_cap = 2 * r.ends_cap + 16;
                r.ends = realloc(r.ends, r.ends_cap * sizeof *r.ends);
                FUZZ_CHECK(r.ends != NULL);
            }
            r.ends[r.n_texts++] = r.len;
        }
    }
    r.skipped = bp_text_input_skipped(in);
    bp_text_input_close(in);
    return r;
}

static void free_reading(reading *r)
{
    free(r->bytes);
    free(r->ends);
}

static bool same_texts(const reading *a, const reading *b, size_t n_texts)
{
    if (a->n_texts < n_texts || b->n_texts < n_texts)
        return false;
    for (size_t i = 0; i < n_texts; i++)
        if (a->ends[i] != b->ends[i])
            return false;
    size_t len = n_texts ? a->ends[n_texts - 1] : 0;
    return memcmp(a->bytes, b->bytes, len) == 0;
}

/* The next line of s[0..n) from *pos: s[*begin..*end), without its '\n' (the last line
 * may lack one). Returns false after the last line. */
static bool next_line(const unsigned char *s, size_t n, size_t *pos, size_t *begin,
                      size_t *end)
{
    if (*pos >= n)
        return false;
    const unsigned char *nl = memchr(s + *pos, '\n', n - *pos);
    *begin = *pos;
    *end = nl ? (size_t)(nl - s) : n;
    *pos = *end + 1;
    return true;
}

/* Whether a line holds only spaces, tabs and CRs (the reader skips it silently). */
static bool blank_line(const unsigned char *s, size_t begin, size_t end)
{
    for (size_t i = begin; i < end; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    return true;
}

static size_t non_blank_lines(const unsigned char *s, size_t n)
{
    size_t count = 0, pos = 0, begin, end;
    while (next_line(s, n, &pos, &begin, &end))
        count += !blank_line(s, begin, end);
    return count;
}

/* Whether line[0..n) is exactly {"FIELD": "S"} with S printable ASCII without '"' and
 * '\\': then the record is good and its text is S (*text, *text_len). */
static bool simple_record(const unsigned char *line, size_t n, const char *field,
                          const unsigned char **text, size_t *text_len)
{
    char head[16];
    size_t h = (size_t)snprintf(head, sizeof head, "{\"%s\": \"", field);
    if (n < h + 2 || memcmp(line, head, h) != 0 || memcmp(line + n - 2, "\"}", 2) != 0)
        return false;
    for (size_t i = h; i < n - 2; i++)
        if (line[i] < 0x20 || line[i] > 0x7E || line[i] == '"' || line[i] == '\\')
            return false;
    *text = line + h;
    *text_len = n - 2 - h;
    return true;
}

/* When every non-blank line is a simple record, the texts are exactly theirs. */
static void check_simple_records(const reading *r, const unsigned char *s, size_t n,
                                 const char *field)
{
    const unsigned char *text;
    size_t len, pos = 0, begin, end;
    while (next_line(s, n, &pos, &begin, &end))
        if (!blank_line(s, begin, end) &&
            !simple_record(s + begin, end - begin, field, &text, &len))
            return; /* a line of another form: no exact expectation */
    size_t k = 0;
    pos = 0;
    while (next_line(s, n, &pos, &begin, &end)) {
        if (!simple_record(s + begin, end - begin, field, &text, &len))
            continue;
        size_t text_begin = k ? r->ends[k - 1] : 0;
        FUZZ_CHECK(k < r->n_texts && r->ends[k] - text_begin == len);
        FUZZ_CHECK(memcmp(r->bytes + text_begin, text, len) == 0);
        k++;
    }
    FUZZ_CHECK(k == r->n_texts && r->skipped == 0);
}

static void check_plain(const reading *r, const unsigned char *content, size_t n)
{
    FUZZ_CHECK_STATUS(r->status, BP_OK);
    FUZZ_CHECK(r->n_texts == 1 && r->ends[0] == n);
    FUZZ_CHECK(n == 0 || memcmp(r->bytes, content, n) == 0);
}

static void check_jsonl(const reading *skip, const reading *strict, const unsigned char *content,
                        size_t n)
{
    FUZZ_CHECK_STATUS(skip->status, BP_OK);
    FUZZ_CHECK(skip->n_texts + skip->skipped == non_blank_lines(content, n));
    size_t begin = 0;
    for (size_t i = 0; i < skip->n_texts; i++) {
        FUZZ_CHECK(fuzz_valid_utf8(skip->bytes + begin, skip->ends[i] - begin));
        begin = skip->ends[i];
    }
    FUZZ_CHECK(strict->skipped == 0);
    if (skip->skipped == 0) {
        FUZZ_CHECK_STATUS(strict->status, BP_OK);
        FUZZ_CHECK(strict->n_texts == skip->n_texts && same_texts(strict, skip, skip->n_texts));
    } else {
        FUZZ_CHECK_STATUS(strict->status, BP_ERR_BAD_RECORD);
        FUZZ_CHECK(strstr(strict->message, path) != NULL);
        FUZZ_CHECK(same_texts(strict, skip, strict->n_texts));
    }
}

static void check_same(const reading *a, const reading *b)
{
    FUZZ_CHECK(a->status == b->status && a->skipped == b->skipped);
    FUZZ_CHECK(a->n_texts == b->n_texts && same_texts(a, b, a->n_texts));
}

FUZZ_NO_COVERAGE int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    uint8_t flags = fuzz_byte(&in);
    const unsigned char *content = in.p;
    size_t n = in.n;
    bp_input_format format = flags & F_JSONL ? BP_INPUT_JSONL : BP_INPUT_PLAIN;
    const char *field = flags & F_SHORT_FIELD ? "t" : NULL;

    write_file(content, n);
    reading plain = read_all(format, field, 0), skip = {0};
    if (bp_is_zstd(content, n)) {
        /* The content itself looks compressed: it is decompressed, and mutated zstd is
         * mostly corrupt. Any outcome but a crash, a leak or an unknown error is fine. */
        FUZZ_CHECK(plain.status == BP_OK || plain.status == BP_ERR_IO ||
                   plain.status == BP_ERR_TRUNCATED || plain.status == BP_ERR_TOO_LARGE ||
                   plain.status == BP_ERR_BAD_RECORD);
        free_reading(&plain);
        unlink(path);
        return 0;
    }
    if (format == BP_INPUT_PLAIN) {
        check_plain(&plain, content, n);
    } else {
        skip = read_all(format, field, BP_INPUT_SKIP_BAD_LINES);
        check_jsonl(&skip, &plain, content, n);
        check_simple_records(&skip, content, n, field ? field : "text");
    }
    if (flags & F_ZSTD) {
        size_t cap = ZSTD_compressBound(n);
        void *z = fuzz_xmalloc(cap);
        size_t zlen = ZSTD_compress(z, cap, content, n, 1);
        FUZZ_CHECK(!ZSTD_isError(zlen));
        write_file(z, zlen);
        free(z);
        reading zplain = read_all(format, field, 0);
        check_same(&zplain, &plain);
        free_reading(&zplain);
        if (format == BP_INPUT_JSONL) {
            reading zskip = read_all(format, field, BP_INPUT_SKIP_BAD_LINES);
            check_same(&zskip, &skip);
            free_reading(&zskip);
        }
    }
    free_reading(&plain);
    free_reading(&skip);
    unlink(path);
    return 0;
}
