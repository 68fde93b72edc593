/*
 * encode_formats.c -- what `bp encode` reads and writes besides lines of text and lines of
 * ids: the pipeline formats of LLM training (see cli.h).
 *
 *   input   --input-format jsonl [--field NAME]: one document per JSONL record, read with
 *           bp_text_input (zstd-compressed or not, streaming);
 *           line and --whole input: FILEs that are zstd-compressed (recognised by content)
 *           are decompressed while streaming (open_input);
 *   output  --output-format u16|u32: the ids of each document packed little-endian, no
 *           separators (--bos/--eos mark documents); jsonl: one object per document,
 *           {"ids":[...]} and with --offsets {"ids":[...],"offsets":[...]}, each offset
 *           the byte where the token starts in the normalized text;
 *   progress on standard error for inputs of more than PROGRESS_MIN_BYTES, when standard
 *           error is a terminal and standard output is not.
 */
#define _GNU_SOURCE /* fopencookie */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

enum { PROGRESS_MIN_BYTES = 4 << 20, PROGRESS_INTERVAL_MS = 200 };

/*====== Options ======*/

/* Packs ids little-endian in `width` bytes each, whatever the machine's byte order. */
static void write_le_ids(output *out, const uint32_t *ids, size_t n, unsigned width)
{
    output_reserve(out, width * n);
    unsigned char *p = (unsigned char *)out->data + out->len;
    for (size_t i = 0; i < n; i++)
        for (unsigned b = 0; b < width; b++)
            *p++ = (unsigned char)(ids[i] >> 8 * b);
    out->len += width * n;
}

static void write_u16_text(output *out, const uint32_t *ids, const size_t *offsets, size_t n)
{
    (void)offsets;
    write_le_ids(out, ids, n, 2);
}

static void write_u32_text(output *out, const uint32_t *ids, const size_t *offsets, size_t n)
{
    (void)offsets;
    write_le_ids(out, ids, n, 4);
}

/* Writes `value` in decimal at p (room for 20 bytes). @return the end. */
static char *format_u64(char *p, uint64_t value)
{
    char digits[20];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value > 0);
    while (n > 0)
        *p++ = digits[--n];
    return p;
}

/* Appends `"name":[v0,v1,...]`, values from ids (when not NULL) or offsets. */
static void write_json_array(output *out, const char *name, const uint32_t *ids,
                             const size_t *offsets, size_t n)
{
    enum { GROUP = 4096, MAX_DIGITS = 20 };
    size_t name_len = strlen(name);
    output_reserve(out, name_len + 5);
    char *p = out->data + out->len;
    *p++ = '"';
    memcpy(p, name, name_len);
    p += name_len;
    memcpy(p, "\":[", 3);
    out->len = (size_t)(p + 3 - out->data);
    for (size_t i = 0; i < n;) {
        size_t end = n - i > GROUP ? i + GROUP : n;
        output_reserve(out, (end - i) * (MAX_DIGITS + 1));
        p = out->data + out->len;
        for (; i < end; i++) {
            if (i > 0)
                *p++ = ',';
            p = format_u64(p, ids ? ids[i] : (uint64_t)offsets[i]);
        }
        out->len = (size_t)(p - out->data);
    }
    output_byte(out, ']');
}

static void write_jsonl_text(output *out, const uint32_t *ids, const size_t *offsets, size_t n)
{
    output_byte(out, '{');
    write_json_array(out, "ids", ids, NULL, n);
    if (offsets) {
        output_byte(out, ',');
        write_json_array(out, "offsets", NULL, offsets, n);
    }
    output_byte(out, '}');
    output_byte(out, '\n');
}

bool parse_text_format(const char *value, encode_formats *f)
{
    if (strcmp(value, "u16") == 0) {
        f->write_text = write_u16_text;
        f->binary = 2;
    } else if (strcmp(value, "u32") == 0) {
        f->write_text = write_u32_text;
        f->binary = 4;
    } else if (strcmp(value, "jsonl") == 0) {
        f->write_text = write_jsonl_text;
        f->binary = 0;
    } else {
        return false;
    }
    return true;
}

bool parse_input_format(const char *value, encode_formats *f)
{
    if (strcmp(value, "lines") == 0)
        f->jsonl_input = false;
    else if (strcmp(value, "jsonl") == 0)
        f->jsonl_input = true;
    else
        return false;
    return true;
}

enum parse_result check_encode_formats(const encode_formats *f, bool whole)
{
    const char *what = NULL;
    if (f->field && !f->jsonl_input)
        what = "--field needs --input-format jsonl";
    else if (f->jsonl_input && whole)
        what = "--whole and --input-format jsonl exclude each other (a record is a document)";
    else if (f->offsets && f->write_text != write_jsonl_text)
        what = "--offsets needs --output-format jsonl";
    if (what == NULL)
        return PARSE_RUN;
    usage_error(what);
    return PARSE_USAGE;
}

int check_encode_output(const encode_formats *f, const bp_model *model, const char *model_path)
{
    if (f->binary == 2 && bp_model_vocab_size(model) > 65536) {
        report("--output-format u16 holds ids up to 65535, but %s has %zu ids: use u32",
               model_path, bp_model_vocab_size(model));
        return 1;
    }
    if (f->binary && isatty(STDOUT_FILENO)) {
        report("refusing to write binary ids to a terminal: redirect the output");
        return 2;
    }
    return 0;
}

/*====== Progress ======*/

typedef struct progress {
    const char *name;
    uint64_t done, total; /* bytes; total 0 when unknown (compressed input) */
    uint64_t documents;   /* JSONL: documents so far; 0 otherwise */
    double start, last;
    bool shown;
} progress;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Whether progress may be drawn: standard error is a terminal that the output does not
 * also write to. */
static bool progress_wanted(void)
{
    return isatty(STDERR_FILENO) && !isatty(STDOUT_FILENO);
}

static void progress_start(progress *p, const char *name, uint64_t total)
{
    *p = (progress){.name = name, .total = total};
    p->start = p->last = now_seconds();
}

static void progress_update(progress *p, uint64_t more)
{
    p->done += more;
    double now = now_seconds();
    if ((now - p->last) * 1000 < PROGRESS_INTERVAL_MS)
        return;
    p->last = now;
    double rate = now > p->start ? (double)p->done / (now - p->start) : 0;
    char line[256];
    size_t n = (size_t)snprintf(line, sizeof line, "%.60s: %.1f MB", p->name, (double)p->done / 1e6);
    if (p->total > 0 && p->done <= p->total)
        n += (size_t)snprintf(line + n, sizeof line - n, " of %.1f MB (%.0f%%)",
                              (double)p->total / 1e6, 100.0 * (double)p->done / (double)p->total);
    if (p->documents > 0)
        n += (size_t)snprintf(line + n, sizeof line - n, ", %" PRIu64 " documents", p->documents);
    snprintf(line + n, sizeof line - n, ", %.1f MB/s", rate / 1e6);
    fprintf(stderr, "\r\033[K%s: %s", program_name, line);
    fflush(stderr);
    p->shown = true;
}

static void progress_end(progress *p)
{
    if (p->shown)
        fputs("\r\033[K", stderr);
    p->shown = false;
}

/*====== Opening line inputs: zstd and progress ======*/

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

FILE *open_input(const char *path)
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
        bp_error err;
        if (bp_text_input_open(path, BP_INPUT_PLAIN, NULL, 0, &ck->in, &err) != BP_OK) {
            report("%s", err.message);
            free(ck->name);
            free(ck);
            errno = EIO;
            return NULL;
        }
    } else {
        ck->fp = fp;
    }
    cookie_io_functions_t io = {.read = cookie_read, .close = cookie_close};
    FILE *stream = fopencookie(ck, "rb", io);
    if (!stream) {
        cookie_close(ck);
        errno = ENOMEM;
    }
    return stream;
}

/*====== JSONL documents ======*/

/* Feeds every record of one JSONL input to `handle`. @return 0, or 1 after a message. */
static int process_jsonl_input(const char *path, const char *field, document_handler handle,
                               void *ctx, unsigned char **doc, size_t *doc_cap)
{
    bool is_stdin = strcmp(path, "-") == 0;
    const char *name = is_stdin ? "<stdin>" : path;
    bp_text_input *in;
    bp_error err;
    if (bp_text_input_open(path, BP_INPUT_JSONL, field, 0, &in, &err) != BP_OK) {
        report("%s", err.message);
        return 1;
    }
    struct stat sb;
    progress pr;
    bool show = progress_wanted() && !is_stdin && stat(path, &sb) == 0 &&
                (uint64_t)sb.st_size > PROGRESS_MIN_BYTES;
    progress_start(&pr, name, 0);
    size_t len = 0;
    uint64_t record = 0;
    int rc = 0;
    for (;;) {
        const unsigned char *data;
        size_t n;
        int end_of_text;
        bp_status st = bp_text_input_next(in, &data, &n, &end_of_text, &err);
        if (st != BP_OK) {
            progress_end(&pr);
            report("%s", err.message);
            rc = 1;
            break;
        }
        if (data == NULL)
            break;
        if (!end_of_text || len > 0) { /* a record in several pieces: gather it */
            reserve_array(doc, doc_cap, len + n, 1);
            memcpy(*doc + len, data, n);
            len += n;
            if (!end_of_text)
                continue;
            data = *doc;
            n = len;
        }
        len = 0;
        record++;
        /* Messages name the record: "FILE, record N: ...". */
        char where[512];
        snprintf(where, sizeof where, "%.400s, record %" PRIu64, name, record);
        text_source src = {.name = where, .line_no = 0};
        rc = handle(ctx, &src, data, n);
        if (show) {
            pr.documents = record;
            progress_update(&pr, n);
        }
        if (rc != 0)
            break;
    }
    progress_end(&pr);
    bp_text_input_close(in);
    return rc;
}

int process_jsonl_inputs(char **paths, int n_paths, const char *field, document_handler handle,
                         void *ctx)
{
    unsigned char *doc = NULL;
    size_t doc_cap = 0;
    int rc = n_paths == 0 ? process_jsonl_input("-", field, handle, ctx, &doc, &doc_cap) : 0;
    for (int i = 0; i < n_paths && rc == 0; i++)
        rc = process_jsonl_input(paths[i], field, handle, ctx, &doc, &doc_cap);
    free(doc);
    return rc;
}
