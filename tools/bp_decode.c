/*
 * bp_decode.c -- `bp decode`: lines of token ids back to the bytes of their pieces.
 */
#define _GNU_SOURCE /* getopt_long, whose optind says where the operands start */

#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "bytepiece.h"
#include "bp_decode_stream.h"
#include "cli.h"

static const char decode_help[] =
    "Usage: bp decode -m MODEL [FILE]...\n"
    "  or:  bp decode --stream -m MODEL\n"
    "Decode lines of token ids (decimal, separated by spaces or tabs; CRLF line ends\n"
    "are accepted) and write the bytes of their pieces and nothing else: no\n"
    "separator, no newline. With no FILE, or when FILE is -, read standard input.\n"
    "'bp encode -m M | bp decode -m M' gives the input back, in NFC unless it was\n"
    "encoded with --no-normalize. Ids 0, 1, 2 (<pad>, <bos>, <eos>) give no bytes;\n"
    "an id outside the vocabulary or a word that is not a number is an error.\n"
    "\n"
    "  -m, --model MODEL  the model: reference BytePiece JSON, plain or\n"
    "                     zstd-compressed (required)\n"
    "      --stream       read ids from standard input as they arrive (separated by\n"
    "                     spaces, tabs, CRs or newlines) and write each character as\n"
    "                     soon as its bytes are all there, flushing at once: for\n"
    "                     'generator | bp decode --stream -m M'. Bytes that are not\n"
    "                     well-formed UTF-8 are written as they come\n"
    "  -h, --help         show this help and exit\n";

typedef struct decode_job {
    const bp_model *model;
    uint32_t *ids;
    size_t ids_cap;
    output *out;
} decode_job;

/* Separators of ids; '\r' too, so that id files with CRLF line ends decode. */
static bool is_blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Reports a word of a decode input line that is not an id of the model. */
static void report_bad_word(const text_source *src, const char *problem,
                           const unsigned char *word, size_t len)
{
    enum { SHOWN_BYTES = 64 }; /* enough to recognise the word; it may be a whole line */
    char shown[4 * SHOWN_BYTES + 1]; /* bp_piece_escape_bound(SHOWN_BYTES) */
    size_t shown_len = 0;
    bp_piece_escape(word, len < SHOWN_BYTES ? len : SHOWN_BYTES, shown, sizeof shown, &shown_len,
                    NULL);
    report_at(src, "%s '%.*s%s'", problem, (int)shown_len, shown, len > SHOWN_BYTES ? "..." : "");
}

/* Parses a word of decimal digits. @return false if it holds anything else; sets
 * *too_large when the number does not fit an id (it then is no id of any model). */
static bool parse_id(const unsigned char *word, size_t len, uint32_t *id, bool *too_large)
{
    uint64_t value = 0;
    *too_large = false;
    for (size_t i = 0; i < len; i++) {
        if (word[i] < '0' || word[i] > '9')
            return false;
        value = value * 10 + (uint64_t)(word[i] - '0');
        if (value > UINT32_MAX) {
            *too_large = true;
            value = UINT32_MAX; /* keep scanning: a later non-digit still makes it a non-number */
        }
    }
    *id = (uint32_t)value;
    return true;
}

/* Splits a line into ids in job->ids. @return their number, or SIZE_MAX after reporting a
 * word that is no id. */
static size_t parse_id_line(decode_job *job, const text_source *src, const unsigned char *line,
                            size_t len)
{
    reserve_array(&job->ids, &job->ids_cap, len / 2 + 1, sizeof *job->ids);
    size_t n_ids = 0;
    for (size_t i = 0; i < len;) {
        if (is_blank(line[i])) {
            i++;
            continue;
        }
        size_t start = i;
        while (i < len && !is_blank(line[i]))
            i++;
        bool too_large;
        if (!parse_id(line + start, i - start, &job->ids[n_ids], &too_large)) {
            report_bad_word(src, "not an id:", line + start, i - start);
            return SIZE_MAX;
        }
        if (too_large) {
            report_bad_word(src, "unknown id", line + start, i - start);
            return SIZE_MAX;
        }
        n_ids++;
    }
    return n_ids;
}

static int decode_line(void *ctx, const text_source *src, const unsigned char *line, size_t len)
{
    decode_job *job = ctx;
    if (len > 0 && line[len - 1] == '\n')
        len--;
    size_t n_ids = parse_id_line(job, src, line, len);
    if (n_ids == SIZE_MAX)
        return 1;

    output *out = job->out;
    size_t needed;
    bp_error err;
    bp_status status = bp_decode(job->model, job->ids, n_ids, out->data + out->len,
                                 out->cap - out->len, &needed, &err);
    if (status == BP_ERR_BUFFER_TOO_SMALL) {
        output_reserve(out, needed);
        status = bp_decode(job->model, job->ids, n_ids, out->data + out->len,
                           out->cap - out->len, &needed, &err);
    }
    if (status == BP_ERR_UNKNOWN_ID) {
        report_at(src, "unknown id '%" PRIu32 "'", job->ids[err.offset]);
        return 1;
    }
    if (status != BP_OK) {
        report_at(src, "%s", bp_strerror(status));
        return 1;
    }
    out->len += needed;
    return out->write_errno != 0;
}

static const struct option decode_options[] = {
    {"model", required_argument, NULL, 'm'},
    {"stream", no_argument, NULL, 's'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static enum parse_result parse_decode_options(int argc, char **argv, const char **model_path,
                                              bool *stream)
{
    *model_path = NULL;
    *stream = false;
    int opt;
    while ((opt = getopt_long(argc, argv, "m:h", decode_options, NULL)) != -1) {
        if (opt == 'm') {
            *model_path = optarg;
        } else if (opt == 's') {
            *stream = true;
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
    bool stream;
    enum parse_result parsed = parse_decode_options(argc, argv, &model_path, &stream);
    if (parsed != PARSE_RUN)
        return parsed == PARSE_HELP ? print_text(decode_help) : 2;

    output out = output_open(stdout);
    bp_model *model = NULL;
    int rc = load_model(model_path, &model);
    decode_job job = {.model = model, .out = &out};
    if (rc == 0 && stream)
        rc = decode_stream(model, &out);
    else if (rc == 0)
        rc = process_inputs(argv + optind, argc - optind, false, decode_line, &job);
    rc = output_close(&out, rc); /* what came before a failure is written out */
    free(job.ids);
    bp_model_free(model);
    return rc;
}
