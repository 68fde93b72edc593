/*
 * cli_input.c -- how the bp commands read their FILE operands (see cli.h): line by line or
 * whole, or as JSONL documents; zstd-compressed files (recognised by content) decompressed
 * while streaming; progress on standard error for inputs of more than PROGRESS_MIN_BYTES,
 * when standard error is a terminal and standard output is not.
 */
#define _GNU_SOURCE /* fopencookie, getline */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

enum { PROGRESS_MIN_BYTES = 4 << 20 };

/*====== Progress ======*/

/* The progress of reading one operand (a progress_line, and what it shows). */
typedef struct progress {
    const char *name;
    uint64_t done, total; /* bytes; total 0 when unknown (compressed input) */
    uint64_t documents;   /* JSONL: documents so far; 0 otherwise */
    progress_line line;
} progress;

/* Whether progress may be drawn: standard error is a terminal that the output does not
 * also write to. */
static bool progress_wanted(void)
{
    return isatty(STDERR_FILENO) && !isatty(STDOUT_FILENO);
}

static void progress_start(progress *p, const char *name, uint64_t total)
{
    *p = (progress){.name = name, .total = total};
}

static void progress_update(progress *p, uint64_t more)
{
    p->done += more;
    char documents[48];
    if (p->documents > 0)
        snprintf(documents, sizeof documents, "%" PRIu64 " documents", p->documents);
    progress_show(&p->line, p->name, p->done, p->total, NULL,
                  p->documents > 0 ? documents : NULL);
}

static void progress_end(progress *p)
{
    progress_clear(&p->line);
}

/*====== Opening FILE operands: zstd and progress ======*/

/* What a cookie stream reads from: a bp_text_input (zstd) or a plain FILE. */
typedef struct input_cookie {
    bp_text_input *in;     /* zstd-compressed input */
    const unsigned char *piece;
    size_t piece_len;
    FILE *fp;              /* plain input, read through for the progress */
    bool show;
    progress progress;
    char *name;
} input_cookie;

static ssize_t cookie_read(void *c, char *buf, size_t size)
{
    input_cookie *ck = c;
    size_t got = 0;
    if (ck->fp) {
        got = fread(buf, 1, size, ck->fp);
        if (got == 0 && ferror(ck->fp))
            return -1; /* fread has set errno */
    } else {
        while (got < size) {
            if (ck->piece_len == 0) {
                const unsigned char *data;
                size_t len;
                int end_of_text;
                bp_error err;
                bp_status st = bp_text_input_next(ck->in, &data, &len, &end_of_text, &err);
                if (st != BP_OK) {
                    if (ck->show)
                        progress_end(&ck->progress);
                    report("%s", err.message);
                    errno = st == BP_ERR_NOMEM ? ENOMEM : EIO;
                    return got > 0 ? (ssize_t)got : -1;
                }
                if (data == NULL)
                    break;
                ck->piece = data;
                ck->piece_len = len;
                continue;
            }
            size_t n = ck->piece_len < size - got ? ck->piece_len : size - got;
            memcpy(buf + got, ck->piece, n);
            ck->piece += n;
            ck->piece_len -= n;
            got += n;
        }
    }
    if (ck->show)
        progress_update(&ck->progress, got);
    return (ssize_t)got;
}

static int cookie_close(void *c)
{
    input_cookie *ck = c;
    if (ck->show)
        progress_end(&ck->progress);
    int rc = ck->fp ? fclose(ck->fp) : 0;
    bp_text_input_close(ck->in);
    free(ck->name);
    free(ck);
    return rc;
}

static bool starts_with_zstd_magic(FILE *fp)
{
    unsigned char magic[4];
    size_t got = fread(magic, 1, sizeof magic, fp);
    /* zstd frames start 28 B5 2F FD; skippable frames 5? 2A 4D 18 */
    return got == sizeof magic &&
           ((magic[0] == 0x28 && magic[1] == 0xB5 && magic[2] == 0x2F && magic[3] == 0xFD) ||
            ((magic[0] & 0xF0) == 0x50 && magic[1] == 0x2A && magic[2] == 0x4D && magic[3] == 0x18));
}

/* A stream that reads through `ck`, or NULL with errno set (ck is then closed). */
static FILE *cookie_stream(input_cookie *ck)
{
    cookie_io_functions_t io = {.read = cookie_read, .close = cookie_close};
    FILE *stream = fopencookie(ck, "rb", io);
    if (!stream) {
        cookie_close(ck);
        errno = ENOMEM;
    }
    return stream;
}

/* Has ck read `path` through the library, which tells zstd from text by content, also on a
 * pipe that cannot be rewound. @return 0, or -1 after a message with errno set. */
static int open_text_input(input_cookie *ck, const char *path)
{
    bp_error err;
    if (bp_text_input_open(path, BP_INPUT_PLAIN, NULL, 0, &ck->in, &err) == BP_OK)
        return 0;
    report("%s", err.message);
    errno = EIO;
    return -1;
}

/* Standard input, decompressed when it is zstd. */
static FILE *open_stdin(void)
{
    input_cookie *ck = calloc(1, sizeof *ck);
    if (!ck) {
        errno = ENOMEM;
        return NULL;
    }
    if (open_text_input(ck, "-") != 0) {
        free(ck);
        return NULL;
    }
    return cookie_stream(ck);
}

/* fopen(path, "rb"), except for zstd and progress (see open_operand in cli.h). */
static FILE *open_input(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    struct stat sb;
    if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode))
        return fp; /* a pipe cannot be peeked at and rewound; a directory fails at read */
    bool zstd = starts_with_zstd_magic(fp);
    if (!zstd && fseek(fp, 0, SEEK_SET) != 0) {
        int e = errno;
        fclose(fp);
        errno = e;
        return NULL;
    }
    bool show = progress_wanted() && (uint64_t)sb.st_size > (zstd ? PROGRESS_MIN_BYTES / 8
                                                                  : PROGRESS_MIN_BYTES);
    if (!zstd && !show)
        return fp;
    input_cookie *ck = calloc(1, sizeof *ck);
    char *name = strdup(path);
    if (!ck || !name) {
        free(ck);
        free(name);
        fclose(fp);
        errno = ENOMEM;
        return NULL;
    }
    ck->name = name;
    ck->show = show;
    progress_start(&ck->progress, ck->name, zstd ? 0 : (uint64_t)sb.st_size);
    if (zstd) {
        fclose(fp);
        if (open_text_input(ck, path) != 0) {
            free(ck->name);
            free(ck);
            return NULL;
        }
    } else {
        ck->fp = fp;
    }
    return cookie_stream(ck);
}

const char *operand_at(char **paths, int n_paths, int i)
{
    if (n_paths == 0)
        return i == 0 ? "-" : NULL;
    return i < n_paths ? paths[i] : NULL;
}

const char *operand_name(const char *path)
{
    return strcmp(path, "-") == 0 ? "<stdin>" : path;
}

FILE *open_operand(const char *path, const char **name)
{
    *name = operand_name(path);
    return strcmp(path, "-") == 0 ? open_stdin() : open_input(path);
}

void close_operand(FILE *fp)
{
    fclose(fp); /* read-only: nothing to lose on close; standard input's descriptor stays open */
}

/*====== JSONL documents ======*/

struct jsonl_reader {
    bp_text_input *in;
    const char *name;    /* the operand, or "<stdin>" */
    uint64_t record;     /* documents handed out so far */
    unsigned char *doc;  /* a record that came in several pieces, gathered */
    size_t doc_cap;
    bool show;
    progress progress;
};

jsonl_reader *jsonl_open(const char *path, const char *field, unsigned flags)
{
    jsonl_reader *r = calloc(1, sizeof *r);
    if (r == NULL) {
        report("%s", bp_strerror(BP_ERR_NOMEM));
        return NULL;
    }
    bool is_stdin = strcmp(path, "-") == 0;
    r->name = operand_name(path);
    bp_error err;
    if (bp_text_input_open(path, BP_INPUT_JSONL, field, flags, &r->in, &err) != BP_OK) {
        report("%s", err.message);
        free(r);
        return NULL;
    }
    struct stat sb;
    r->show = progress_wanted() && !is_stdin && stat(path, &sb) == 0 &&
              (uint64_t)sb.st_size > PROGRESS_MIN_BYTES;
    progress_start(&r->progress, r->name, 0);
    return r;
}

int jsonl_next(jsonl_reader *r, const unsigned char **text, size_t *len, text_source *src)
{
    size_t gathered = 0;
    for (;;) {
        const unsigned char *data;
        size_t n;
        int end_of_text;
        bp_error err;
        if (bp_text_input_next(r->in, &data, &n, &end_of_text, &err) != BP_OK) {
            progress_end(&r->progress);
            report("%s", err.message);
            return -1;
        }
        if (data == NULL)
            return 0;
        if (!end_of_text || gathered > 0) { /* a record in several pieces: gather it */
            reserve_array(&r->doc, &r->doc_cap, gathered + n, 1);
            memcpy(r->doc + gathered, data, n);
            gathered += n;
            if (!end_of_text)
                continue;
            data = r->doc;
            n = gathered;
        }
        r->record++;
        if (r->show) {
            r->progress.documents = r->record;
            progress_update(&r->progress, n);
        }
        *text = data;
        *len = n;
        *src = (text_source){.name = r->name, .line_no = r->record, .record = true};
        return 1;
    }
}

void jsonl_close(jsonl_reader *r)
{
    if (r == NULL)
        return;
    progress_end(&r->progress);
    bp_text_input_close(r->in);
    free(r->doc);
    free(r);
}

int process_jsonl_inputs(char **paths, int n_paths, const char *field, unsigned flags,
                         text_handler handle, void *ctx)
{
    int rc = 0;
    uint64_t skipped = 0;
    const char *path;
    for (int i = 0; rc == 0 && (path = operand_at(paths, n_paths, i)) != NULL; i++) {
        jsonl_reader *r = jsonl_open(path, field, flags);
        if (r == NULL)
            return 1;
        const unsigned char *text;
        size_t len;
        text_source src;
        int got = 0;
        while (rc == 0 && (got = jsonl_next(r, &text, &len, &src)) > 0)
            rc = handle(ctx, &src, text, len);
        if (got < 0)
            rc = 1;
        skipped += bp_text_input_skipped(r->in);
        jsonl_close(r);
    }
    if (flags & BP_INPUT_SKIP_BAD_LINES)
        fprintf(stderr, "%s: skipped %" PRIu64 " bad line%s (not a JSON object with a string "
                "member \"%s\")\n", program_name, skipped, skipped == 1 ? "" : "s",
                field ? field : "text");
    return rc;
}

/*====== Lines and whole files ======*/

/* The buffer that holds the current line or file; reused across inputs. */
typedef struct input_buffer {
    char *data;
    size_t cap;
} input_buffer;

int report_read_error(const text_source *src, int read_errno)
{
    report("%s: %s", src->name, strerror(read_errno != 0 ? read_errno : EIO));
    return 1;
}

static int read_lines(FILE *fp, text_source *src, input_buffer *buf, text_handler handle,
                      void *ctx)
{
    ssize_t len;
    errno = 0;
    while ((len = getline(&buf->data, &buf->cap, fp)) >= 0) {
        src->line_no++;
        int rc = handle(ctx, src, (const unsigned char *)buf->data, (size_t)len);
        if (rc != 0)
            return rc;
        errno = 0;
    }
    return ferror(fp) ? report_read_error(src, errno) : 0;
}

static int read_whole(FILE *fp, text_source *src, input_buffer *buf, text_handler handle,
                      void *ctx)
{
    size_t len = 0;
    for (;;) {
        reserve_array(&buf->data, &buf->cap, len + READ_CHUNK, 1);
        errno = 0;
        size_t got = fread(buf->data + len, 1, buf->cap - len, fp);
        len += got;
        if (ferror(fp))
            return report_read_error(src, errno);
        if (feof(fp))
            return handle(ctx, src, (const unsigned char *)buf->data, len);
    }
}

/* Feeds every text of one input (a path, or "-" for standard input) to `handle`. */
static int process_input(const char *path, bool whole, input_buffer *buf, text_handler handle,
                         void *ctx)
{
    text_source src = {.line_no = 0};
    FILE *fp = open_operand(path, &src.name);
    if (fp == NULL)
        return report_read_error(&src, errno);
    int rc = whole ? read_whole(fp, &src, buf, handle, ctx)
                   : read_lines(fp, &src, buf, handle, ctx);
    close_operand(fp);
    return rc;
}

int process_inputs(char **paths, int n_paths, bool whole, text_handler handle, void *ctx)
{
    input_buffer buf = {NULL, 0};
    int rc = 0;
    const char *path;
    for (int i = 0; rc == 0 && (path = operand_at(paths, n_paths, i)) != NULL; i++)
        rc = process_input(path, whole, &buf, handle, ctx);
    free(buf.data);
    return rc;
}

