/*
 * bp_report_measure.c -- the figures of one model on one text, for `bp report`: tokens,
 * characters, characters split across tokens, bytes left as single-byte tokens of
 * multi-byte characters, and the encoding speed. Definitions: bp_report.h and `bp report
 * --help`; tests/cli_report.sh checks each figure against `bp encode` run on its own.
 */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "bp_report.h"
#include "clock.h"

/* Speed: the text is encoded again until this much CPU time has gone by (at least once,
 * at most MAX_SPEED_RUNS times), and the fastest run counts. CPU time of the thread, not
 * wall time: on a busy machine the wall time of a run is mostly waiting for a core. */
#define MIN_SPEED_SECONDS 0.3
enum { MAX_SPEED_RUNS = 10 };

/* Per byte of the normalized text: whether a token starts there, and whether that token
 * is one byte long. */
enum { TOKEN_START = 1, SINGLE_BYTE_TOKEN = 2 };

double bytes_per_token(const text_figures *f)
{
    return f->tokens ? (double)f->bytes / (double)f->tokens : 0.0;
}

double tokens_per_1000_characters(const text_figures *f)
{
    return f->characters ? 1000.0 * (double)f->tokens / (double)f->characters : 0.0;
}

double split_character_share(const text_figures *f)
{
    return f->characters ? (double)f->split_characters / (double)f->characters : 0.0;
}

double byte_token_share(const text_figures *f)
{
    return f->bytes ? (double)f->byte_token_bytes / (double)f->bytes : 0.0;
}

double encode_mb_per_second(const text_figures *f)
{
    return f->encode_seconds > 0 ? f->input_bytes / f->encode_seconds / 1e6 : 0.0;
}

/* Walks the characters of the normalized text and counts the split ones and the bytes of
 * single-byte tokens inside them. A byte outside a well-formed character counts as one
 * character of one byte, which no token can split. */
static void count_characters(const unsigned char *text, size_t len, const unsigned char *marks,
                             text_figures *f)
{
    size_t i = 0;
    while (i < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(text + i, (utf8proc_ssize_t)(len - i), &cp);
        size_t char_len = n > 0 ? (size_t)n : 1;
        f->characters++;
        if (char_len > 1) {
            bool split = false;
            for (size_t j = i; j < i + char_len; j++) {
                split |= j > i && (marks[j] & TOKEN_START);
                f->byte_token_bytes += (marks[j] & SINGLE_BYTE_TOKEN) != 0;
            }
            f->split_characters += split;
        }
        i += char_len;
    }
}

/* The fastest of a few encodings of the text (the ids are thrown away). */
static int time_encoding(bp_encoder *enc, const report_text *text, text_figures *f)
{
    size_t cap = bp_encode_bound(text->len), n_ids;
    uint32_t *ids = grow_or_die(NULL, cap ? cap : 1, sizeof *ids);
    double spent = 0, fastest = 0;
    unsigned runs = 0;
    bp_error err;
    while (runs < MAX_SPEED_RUNS && (runs == 0 || spent < MIN_SPEED_SECONDS)) {
        double start = clock_seconds(CLOCK_THREAD_CPUTIME_ID);
        if (bp_encode(enc, text->bytes, text->len, NULL, ids, NULL, cap, &n_ids, &err) != BP_OK) {
            free(ids);
            return exit_status(err.code, &err);
        }
        double seconds = clock_seconds(CLOCK_THREAD_CPUTIME_ID) - start;
        fastest = runs == 0 || seconds < fastest ? seconds : fastest;
        spent += seconds;
        runs++;
    }
    free(ids);
    f->encode_seconds = fastest;
    f->encode_runs = runs;
    return 0;
}

int measure_text(const bp_model *model, const report_text *text, text_figures *out)
{
    *out = (text_figures){.input_bytes = (double)text->len};
    bp_encoder *enc;
    bp_error err;
    if (bp_encoder_create(model, &enc, &err) != BP_OK)
        return exit_status(err.code, &err);
    uint32_t *ids = NULL;
    size_t cap = 0, n_ids = 0;
    int rc = exit_status(bp_encode_append(enc, text->bytes, text->len, NULL, &ids, NULL, &cap,
                                          &n_ids, &err),
                         &err);
    if (rc == 0) {
        size_t len;
        const unsigned char *normalized = bp_encoder_normalized(enc, &len);
        unsigned char *marks = grow_or_die(NULL, len ? len : 1, 1);
        memset(marks, 0, len);
        /* The tokens spell the normalized text: each starts where the one before ends (the
         * offsets of bp_encode point into the text before normalization instead). */
        for (size_t t = 0, at = 0; t < n_ids; t++) {
            size_t piece_len;
            bp_model_piece(model, ids[t], &piece_len);
            marks[at] = TOKEN_START | (piece_len == 1 ? SINGLE_BYTE_TOKEN : 0);
            at += piece_len;
        }
        out->bytes = len;
        out->tokens = n_ids;
        count_characters(normalized, len, marks, out);
        free(marks);
        rc = time_encoding(enc, text, out);
    }
    free(ids);
    bp_encoder_free(enc);
    return rc;
}
