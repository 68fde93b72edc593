/*
 * bp_decode.c -- `bp decode`: lines of token ids back to the bytes of their pieces.
 */
#define _GNU_SOURCE /* getopt_long, whose optind says where the operands start */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "bytepiece.h"
#include "bp_decode_stream.h"
#include "cli.h"

static const char decode_help[] =
    "Usage: bp decode -m MODEL [--skip-special] [FILE]...\n"
    "  or:  bp decode --stream -m MODEL [--skip-special]\n"
    "Decode lines of token ids (decimal, separated by spaces, tabs or CRs, so CRLF\n"
    "line ends are accepted) and write the bytes of their pieces and nothing else: no\n"
    "separator, no newline. With no FILE, or when FILE is -, read standard input.\n"
    "'bp encode -m M | bp decode -m M' gives the input back, in NFC unless it was\n"
    "encoded with --no-normalize. Ids 0, 1, 2 (<pad>, <bos>, <eos>) give no bytes;\n"
    "a special token gives its text (see --skip-special);\n"
    "an id outside the vocabulary or a word that is not a number is an error, found\n"
    "at its first byte that is neither a digit nor a separator.\n"
    "\n"
    "  -m, --model MODEL  the model: reference BytePiece JSON, plain or\n"
    "                     zstd-compressed, or native (required)\n"
    "      --skip-special leave out the special tokens (bp add-tokens), which are\n"
    "                     otherwise written as their text; also with --stream\n"
    "      --stream       read ids from standard input as they arrive (separated by\n"
    "                     spaces, tabs, CRs or newlines) and write each character as\n"
    "                     soon as its bytes are all there, flushing at once: for\n"
    "                     'generator | bp decode --stream -m M'. Bytes that are not\n"
    "                     well-formed UTF-8 are written as they come\n"
    "  -h, --help         show this help and exit\n";

enum { SHOWN_BYTES = 64 }; /* of a bad word: enough to recognise it; it may be a whole line */

/* The word being read. A word stops being an id at its first byte that is not a digit (or
 * when the number outgrows an id); it is then reported with what follows of it, up to
 * SHOWN_BYTES, so that a line that never ends (/dev/zero) is not read whole. */
typedef struct id_word {
    unsigned char shown[SHOWN_BYTES + 1]; /* one more, to know that the word goes on */
    size_t len;                           /* bytes so far, counted up to SHOWN_BYTES + 1 */
    uint64_t value;
    const char *problem; /* NULL while the word can still be an id */
} id_word;

typedef struct decode_job {
    const bp_model *model;
    const bp_model *skip_special; /* the model with --skip-special, else NULL */
    uint32_t *ids; /* the ids of the current line */
    size_t n_ids, ids_cap;
    output *out;
    text_source src;
    id_word word;
} decode_job;

/* Separators of ids: '\n' ends a line; '\r' anywhere, so that id files with CRLF line ends
 * decode. */
static bool is_separator(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Reports the current word, which is no id of the model. @return 1. */
static int report_bad_word(const decode_job *job)
{
    const id_word *w = &job->word;
    size_t len = w->len < SHOWN_BYTES ? w->len : SHOWN_BYTES;
    char shown[4 * SHOWN_BYTES + 1]; /* bp_piece_escape_bound(SHOWN_BYTES) */
    size_t shown_len = 0;
    bp_piece_escape(w->shown, len, shown, sizeof shown, &shown_len, NULL);
    report_at(&job->src, "%s '%.*s%s'", w->problem, (int)shown_len, shown,
              w->len > SHOWN_BYTES ? "..." : "");
    return 1;
}

/* Adds a byte to the current word. @return 1 after reporting a bad word that is already
 * longer than what the message shows. */
static int add_to_word(decode_job *job, unsigned char c)
{
    id_word *w = &job->word;
    w->shown[w->len++] = c;
    if (c < '0' || c > '9') {
        w->problem = "not an id:"; /* even after too large a number: it is no number */
    } else if (!w->problem) {
        w->value = w->value * 10 + (uint64_t)(c - '0');
        if (w->value > UINT32_MAX)
            w->problem = "unknown id"; /* no id of any model */
    }
    return w->problem && w->len > SHOWN_BYTES ? report_bad_word(job) : 0;
}

/* Ends the current word (if any) at a separator or the end of the input. @return 1 after
 * reporting a bad word. */
static int end_word(decode_job *job)
{
    id_word *w = &job->word;
    if (w->len == 0)
        return 0;
    if (w->problem)
        return report_bad_word(job);
    reserve_array(&job->ids, &job->ids_cap, job->n_ids + 1, sizeof *job->ids);
    job->ids[job->n_ids++] = (uint32_t)w->value;
    *w = (id_word){.len = 0};
    return 0;
}

/* Writes the bytes of the current line's ids. @return 1 after a failure. */
static int end_line(decode_job *job)
{
    output *out = job->out;
    size_t needed;
    bp_error err;
    job->n_ids = bp_ids_drop_special(job->skip_special, job->ids, job->n_ids);
    /* A call with no room asks for the size (and checks the ids); the line's bytes are
     * then written in place. */
    bp_status status = bp_decode(job->model, job->ids, job->n_ids, NULL, 0, &needed, &err);
    if (status == BP_OK || status == BP_ERR_BUFFER_TOO_SMALL) {
        output_reserve(out, needed);
        status = bp_decode(job->model, job->ids, job->n_ids, out->data + out->len,
                           out->cap - out->len, &needed, &err);
    }
    job->n_ids = 0;
    if (status == BP_ERR_UNKNOWN_ID) {
        report_at(&job->src, "unknown id '%" PRIu32 "'", job->ids[err.offset]);
        return 1;
    }
    if (status != BP_OK) {
        report_at(&job->src, "%s", bp_strerror(status));
        return 1;
    }
    out->len += needed;
    return out->write_errno != 0;
}

static int decode_bytes(decode_job *job, const unsigned char *bytes, size_t len)
{
    int rc = 0;
    for (size_t i = 0; i < len && rc == 0; i++) {
        if (!is_separator(bytes[i])) {
            rc = add_to_word(job, bytes[i]);
            continue;
        }
        rc = end_word(job);
        if (rc == 0 && bytes[i] == '\n') {
            rc = end_line(job);
            job->src.line_no++;
        }
    }
    return rc;
}

/* Decodes one input (a path, or "-" for standard input), read in chunks rather than lines:
 * a bad byte stops it at once, however long its line. */
static int decode_input(decode_job *job, const char *path)
{
    job->src = (text_source){.line_no = 1};
    job->word = (id_word){.len = 0};
    job->n_ids = 0;
    FILE *fp = open_operand(path, &job->src.name);
    if (fp == NULL)
        return report_read_error(&job->src, errno);
    unsigned char chunk[READ_CHUNK];
    size_t got;
    int rc = 0;
    errno = 0;
    while (rc == 0 && (got = fread(chunk, 1, sizeof chunk, fp)) > 0)
        rc = decode_bytes(job, chunk, got);
    if (rc == 0 && ferror(fp))
        rc = report_read_error(&job->src, errno);
    if (rc == 0)
        rc = end_word(job);
    if (rc == 0)
        rc = end_line(job); /* a last line without '\n' */
    close_operand(fp);
    return rc;
}

static const struct option decode_options[] = {
    {"model", required_argument, NULL, 'm'},
    {"stream", no_argument, NULL, 's'},
    {"skip-special", no_argument, NULL, 'k'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static enum parse_result parse_decode_options(int argc, char **argv, const char **model_path,
                                              bool *stream, bool *skip_special)
{
    *model_path = NULL;
    *stream = false;
    *skip_special = false;
    int opt;
    while ((opt = getopt_long(argc, argv, "m:h", decode_options, NULL)) != -1) {
        if (opt == 'm') {
            *model_path = optarg;
        } else if (opt == 's') {
            *stream = true;
        } else if (opt == 'k') {
            *skip_special = true;
        } else if (opt == 'h') {
            return PARSE_HELP;
        } else { /* getopt_long has printed what is wrong */
            usage_hint();
            return PARSE_USAGE;
        }
    }
    if (*stream && optind < argc) {
        usage_error("--stream reads standard input only: no FILE operand");
        return PARSE_USAGE;
    }
    return finish_parse(*model_path);
}

int run_decode(int argc, char **argv)
{
    const char *model_path;
    bool stream, skip_special;
    enum parse_result parsed = parse_decode_options(argc, argv, &model_path, &stream,
                                                    &skip_special);
    if (parsed != PARSE_RUN)
        return parsed == PARSE_HELP ? print_text(decode_help) : 2;

    output out = output_open(stdout);
    bp_model *model = NULL;
    int rc = load_model(model_path, &model);
    decode_job job = {.model = model, .skip_special = skip_special ? model : NULL, .out = &out};
    if (rc == 0 && stream) {
        rc = decode_stream(model, skip_special, &out);
    } else {
        const char *path;
        for (int i = 0; rc == 0 && (path = operand_at(argv + optind, argc - optind, i)) != NULL;
             i++)
            rc = decode_input(&job, path);
    }
    rc = output_close(&out, rc); /* what came before a failure is written out */
    free(job.ids);
    bp_model_free(model);
    return rc;
}
