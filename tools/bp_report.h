/*
 * bp_report.h -- what the files of `bp report` share: the figures measured per model and
 * text (bp_report_measure.c), the vocabulary survey of a model (bp_report_vocab.c), and
 * the two writers of the page (bp_report_html.c with its charts in bp_report_svg.c) and of
 * the JSON (bp_report_json.c), over the text helpers of bp_report_output.c. bp_report.c
 * parses the command line and writes the file; bp train --report calls write_report()
 * with the models it trained. The files form a stack (tools/layering.sh checks it).
 * Every definition of a figure lives in the help text of `bp report` and in docs/bp.1, and
 * the page repeats it: change them together.
 */
#ifndef BP_REPORT_H
#define BP_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"

/* A held-out text, read whole (zstd-compressed or not). */
typedef struct report_text {
    const char *path;
    unsigned char *bytes;
    size_t len;
} report_text;

/* The figures of one model on one text. Counts are over the normalized (NFC) text, the
 * text bp_encode() segments. */
typedef struct text_figures {
    uint64_t bytes;            /* of the normalized text */
    uint64_t characters;       /* well-formed UTF-8 characters, plus one per other byte */
    uint64_t tokens;
    uint64_t split_characters; /* multi-byte characters with a token starting inside them */
    uint64_t byte_token_bytes; /* bytes that are a token of one byte inside a multi-byte
                                  character */
    double input_bytes;        /* of the text as given, before NFC */
    double encode_seconds;     /* CPU time of the fastest of `encode_runs` encodings of the
                                  text on one thread (CPU time and the fastest run: the
                                  least disturbed by other work on the machine) */
    unsigned encode_runs;
} text_figures;

/* The derived figures, the same on the page and in the JSON. */
double bytes_per_token(const text_figures *f);
double tokens_per_1000_characters(const text_figures *f);
double split_character_share(const text_figures *f);   /* of the characters */
double byte_token_share(const text_figures *f);        /* of the bytes */
double encode_mb_per_second(const text_figures *f);    /* 10^6 input bytes per second */

/* Encodes the text with the model and counts. @return 0, or 1 after a message. */
int measure_text(const bp_model *model, const report_text *text, text_figures *out);

/* What a piece is made of (the first that applies): a piece that is not whole UTF-8; only
 * whitespace; only digits (Nd); only punctuation and symbols (P*, S*); letters of one
 * script (with any marks, spaces, digits, punctuation beside them); letters of several. */
enum piece_kind {
    KIND_NOT_UTF8,
    KIND_WHITESPACE,
    KIND_DIGITS,
    KIND_PUNCTUATION,
    KIND_LATIN,
    KIND_GREEK,
    KIND_CYRILLIC,
    KIND_ARMENIAN,
    KIND_HEBREW,
    KIND_ARABIC,
    KIND_DEVANAGARI,
    KIND_BENGALI,
    KIND_THAI,
    KIND_GEORGIAN,
    KIND_HANGUL,
    KIND_HIRAGANA,
    KIND_KATAKANA,
    KIND_HAN,
    KIND_OTHER_SCRIPT,  /* letters of a script outside the blocks above */
    KIND_MIXED_SCRIPTS,
    KIND_OTHER,         /* controls, unassigned code points and the like */
    N_PIECE_KINDS
};

extern const char *const piece_kind_names[N_PIECE_KINDS];

enum { TOP_PIECES = 20 };

/* The vocabulary survey of one model (pieces only: ids 3 and up). */
typedef struct vocab_survey {
    size_t n_pieces;
    size_t longest;              /* bytes */
    size_t *by_length;           /* longest + 1 entries: pieces of each length in bytes */
    size_t by_kind[N_PIECE_KINDS];
    uint32_t longest_ids[TOP_PIECES];   /* longest first (ties: lower id) */
    uint32_t frequent_ids[TOP_PIECES];  /* highest count first (ties: lower id) */
    size_t n_top;                /* entries of both lists: min(TOP_PIECES, n_pieces) */
} vocab_survey;

enum piece_kind classify_piece(const unsigned char *bytes, size_t len);

void survey_vocab(const bp_model *model, vocab_survey *out);

void free_survey(vocab_survey *survey);

/* One model of the report. */
typedef struct report_model {
    const char *path;
    const char *label;  /* what the page calls it: the file name without its directories */
    bp_model *model;
    vocab_survey survey;
    uint64_t sweep_size; /* the SIZE of a path MODEL.SIZE, 0 otherwise */
} report_model;

/* Everything the writers show; figures[m * n_texts + t] is model m on text t. */
typedef struct report {
    report_model *models;
    size_t n_models;
    const report_text *texts;
    size_t n_texts;
    text_figures *figures;
    const char *note;  /* a sentence the page shows under its title (may be NULL) */
} report_data;

/* A string of the output, printf-style. */
void out_printf(output *out, const char *fmt, ...) BP_PRINTF_LIKE(2);

/* Text for HTML (&, <, >, " escaped), and a piece escaped by bp_piece_escape then for HTML. */
void out_html(output *out, const char *text);
void out_html_piece(output *out, const unsigned char *bytes, size_t len);

/* A JSON string with its quotes. */
void out_json_string(output *out, const char *text, size_t len);

void write_report_html(output *out, const report_data *r);
void write_report_json(output *out, const report_data *r);

/* The charts of the page (inline SVG). */

/* A horizontal bar chart: one group of bars per row (a text, a kind of piece), one bar per
 * model in each, each bar labelled with its value and its model, so that it reads without
 * colour. values[row * n_models + m]. */
typedef struct bar_chart {
    const char *title;
    const char *axis;          /* what the values are, with their unit */
    const char *const *rows;
    size_t n_rows;
    const char *const *models;
    size_t n_models;
    const double *values;
    const char *value_format;  /* printf format of one value, e.g. "%.2f" */
} bar_chart;

void svg_bar_chart(output *out, const bar_chart *chart);

/* A line chart: one line per series, with a marker of its own shape at each point and its
 * name written at its last point. y[s * n_points + i] at x[s * n_points + i]; a NaN y
 * leaves the point out. `series_colour_offset` picks the colours (models share theirs with
 * the bar charts). */
typedef struct line_chart {
    const char *title;
    const char *x_axis;
    const char *y_axis;
    const char *const *series;
    size_t n_series;
    size_t n_points;
    const double *x;
    const double *y;
    bool log_x;
    size_t series_colour_offset;
} line_chart;

void svg_line_chart(output *out, const line_chart *chart);

/* The colour of model (or series) i, the same on every chart and table. */
const char *series_colour(size_t i);

/* Measures every model on every text and writes the page (or the JSON, with `json`) to
 * `out_path` ("-": standard output), atomically: to a temporary file renamed into place,
 * so that a failure leaves no file. The models stay the caller's; labels are made from
 * their paths. @return 0, or 1 after a message. */
int write_report(const char *out_path, bool json, bp_model *const *models,
                 const char *const *model_paths, size_t n_models, const char *const *text_paths,
                 size_t n_texts, const char *note);

#endif
