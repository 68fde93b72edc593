/*
 * bp_decode_stream.c -- `bp decode --stream`: ids read from standard input as they
 * arrive, text written as soon as each character is complete, for
 * `generator | bp decode --stream -m M`.
 *
 * Input is read with read(), so a word is decoded when its separator arrives, not when a
 * line or a buffer fills, and the output is flushed after every read. The stream decoder
 * (bp_stream_decode) holds back a character whose bytes have not all arrived.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "bp_decode_stream.h"

enum { SHOWN_BYTES = 64 }; /* of a bad word in a message: enough to recognise it */

/* The word being read, byte by byte (a word may be split between reads). */
typedef struct stream_word {
    unsigned char shown[SHOWN_BYTES];
    size_t len;
    uint64_t value;
    bool not_a_number;
} stream_word;

typedef struct stream_job {
    bp_stream_decoder *dec;
    size_t room;      /* output room one id always suffices with */
    const bp_model *skip_special; /* the model with --skip-special, else NULL */
    output *out;
    text_source src;  /* for messages: standard input and its line */
    stream_word word;
} stream_job;

static bool is_separator(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Writes what the decoder still holds: the stream ends, at its end or at a failure. */
static void flush_decoder(stream_job *job)
{
    size_t len = 0;
    output_reserve(job->out, job->room);
    bp_stream_decode_flush(job->dec, job->out->data + job->out->len, job->room, &len, NULL);
    job->out->len += len;
}

static int report_word(stream_job *job, const char *problem)
{
    const stream_word *w = &job->word;
    char shown[4 * SHOWN_BYTES + 1]; /* bp_piece_escape_bound(SHOWN_BYTES) */
    size_t shown_len = 0;
    bp_piece_escape(w->shown, w->len < SHOWN_BYTES ? w->len : SHOWN_BYTES, shown, sizeof shown,
                    &shown_len, NULL);
    flush_decoder(job);
    report_at(&job->src, "%s '%.*s%s'", problem, (int)shown_len, shown,
              w->len > SHOWN_BYTES ? "..." : "");
    return 1;
}

/* Why the word so far is no id, or NULL while it may be one. */
static const char *word_problem(const stream_word *w)
{
    return w->not_a_number ? "not an id:" : w->value > UINT32_MAX ? "unknown id" : NULL;
}

/* Decodes the word just ended (if any). @return 0, or 1 after reporting a bad word. */
static int end_word(stream_job *job)
{
    stream_word *w = &job->word;
    if (w->len == 0)
        return 0;
    if (word_problem(w))
        return report_word(job, word_problem(w));
    uint32_t id = (uint32_t)w->value;
    output *out = job->out;
    output_reserve(out, job->room);
    size_t len;
    bp_error err;
    size_t n = bp_ids_drop_special(job->skip_special, &id, 1); /* NULL: keeps it */
    bp_status st = bp_stream_decode(job->dec, &id, n, out->data + out->len, job->room, &len, &err);
    if (st != BP_OK) {
        flush_decoder(job);
        report_at(&job->src, "%s", err.message);
        return 1;
    }
    out->len += len;
    *w = (stream_word){.len = 0};
    return 0;
}

static int add_byte(stream_job *job, unsigned char c)
{
    if (is_separator(c)) {
        int rc = end_word(job);
        job->src.line_no += c == '\n';
        return rc;
    }
    stream_word *w = &job->word;
    if (w->len < SHOWN_BYTES)
        w->shown[w->len] = c;
    w->len++;
    if (c < '0' || c > '9')
        w->not_a_number = true;
    else if (w->value <= UINT32_MAX) /* beyond, it is no id of any model: stop counting */
        w->value = w->value * 10 + (uint64_t)(c - '0');
    /* A bad word longer than the message shows ends here: waiting for its end could mean
     * reading an endless input. */
    return word_problem(w) && w->len > SHOWN_BYTES ? report_word(job, word_problem(w)) : 0;
}

/* The output goes out now, not when the buffer fills: someone is watching. */
static void write_now(output *out)
{
    output_flush(out);
    if (fflush(out->stream) != 0 && out->write_errno == 0)
        out->write_errno = errno;
}

int decode_stream(const bp_model *model, bool skip_special, output *out)
{
    stream_job job = {.room = bp_decode_bound(model, 1) + 3, .out = out,
                      .skip_special = skip_special ? model : NULL,
                      .src = {.name = "<stdin>", .line_no = 1}};
    bp_error err;
    if (bp_stream_decoder_create(model, &job.dec, &err) != BP_OK)
        return exit_status(err.code, &err);
    unsigned char chunk[READ_CHUNK];
    int rc = 0;
    while (rc == 0 && out->write_errno == 0) {
        ssize_t got = read(STDIN_FILENO, chunk, sizeof chunk);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = report_read_error(&job.src, errno);
            break;
        }
        if (got == 0) { /* the end: a last word without a separator, then what is held */
            rc = end_word(&job);
            if (rc == 0)
                flush_decoder(&job);
            break;
        }
        for (ssize_t i = 0; i < got && rc == 0; i++)
            rc = add_byte(&job, chunk[i]);
        write_now(out);
    }
    write_now(out);
    bp_stream_decoder_free(job.dec);
    return rc;
}
