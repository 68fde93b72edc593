/*
 * bp_report_html.c -- the page of `bp report`: one HTML file with its style inline and its
 * charts as inline SVG (bp_report_svg.c); no script, nothing fetched. It reads top to
 * bottom: the models, the figures on each text (charts, then the table), bytes per token
 * against the vocabulary size for the sizes of one training, the vocabularies, and what
 * each figure means. A model has the same colour on every chart and table.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bp_report.h"

static const char style[] =
    "body{font-family:sans-serif;margin:24px auto;max-width:940px;color:#222;line-height:1.4}"
    "h1{font-size:24px}h2{font-size:19px;margin-top:32px;border-bottom:1px solid #ccc}"
    "table{border-collapse:collapse;margin:10px 0;font-size:13px}"
    "th,td{border:1px solid #ccc;padding:3px 7px;text-align:right;vertical-align:top}"
    "th{background:#f2f2f2}td.name,th.name{text-align:left;white-space:nowrap}"
    "code,td.piece{font-family:monospace;text-align:left;white-space:pre}"
    ".swatch{display:inline-block;width:12px;height:12px;margin-right:6px;"
    "vertical-align:middle}svg.chart{display:block;margin:14px 0}dt{font-weight:bold}"
    ".note{background:#fff6d6;padding:6px 10px}.wide{overflow-x:auto}";

/* A figure of a model on a text, as the charts and the table show it. */
typedef struct figure {
    const char *title;
    const char *axis;
    const char *format;
    double (*value)(const text_figures *f);
    double scale;  /* 100 for shares shown in percent */
} figure;

static const figure figures[] = {
    {"Bytes per token (higher: more compression)", "bytes per token", "%.3f", bytes_per_token,
     1},
    {"Tokens per 1,000 characters (lower: fewer tokens)", "tokens per 1,000 characters",
     "%.1f", tokens_per_1000_characters, 1},
    {"Characters split across tokens", "% of the characters", "%.2f%%", split_character_share,
     100},
    {"Bytes left as single-byte tokens of multi-byte characters", "% of the bytes", "%.2f%%",
     byte_token_share, 100},
    {"Encode speed (one thread, NFC included)", "MB per second", "%.1f", encode_mb_per_second,
     1},
};
enum { N_FIGURES = sizeof figures / sizeof figures[0] };

static void model_name_cell(output *out, const report_data *r, size_t m)
{
    out_printf(out, "<td class=\"name\"><span class=\"swatch\" style=\"background:%s\">"
               "</span>", series_colour(m));
    out_html(out, r->models[m].label);
    out_printf(out, "</td>");
}

/* What the charts and the table call a text: its file name. */
static const char *text_label(const report_data *r, size_t t)
{
    const char *slash = strrchr(r->texts[t].path, '/');
    return slash ? slash + 1 : r->texts[t].path;
}

static const char **model_labels(const report_data *r)
{
    const char **labels = grow_or_die(NULL, r->n_models, sizeof *labels);
    for (size_t m = 0; m < r->n_models; m++)
        labels[m] = r->models[m].label;
    return labels;
}

static void write_models(output *out, const report_data *r)
{
    out_printf(out, "<h2>Models</h2>\n<table><tr><th class=\"name\">model</th>"
               "<th class=\"name\">file</th><th>ids</th><th>pieces</th>"
               "<th>longest piece (bytes)</th></tr>\n");
    for (size_t m = 0; m < r->n_models; m++) {
        out_printf(out, "<tr>");
        model_name_cell(out, r, m);
        out_printf(out, "<td class=\"name\"><code>");
        out_html(out, r->models[m].path);
        out_printf(out, "</code></td><td>%zu</td><td>%zu</td><td>%zu</td></tr>\n",
                   bp_model_vocab_size(r->models[m].model), r->models[m].survey.n_pieces,
                   r->models[m].survey.longest);
    }
    out_printf(out, "</table>\n<p>Texts: ");
    for (size_t t = 0; t < r->n_texts; t++) {
        out_printf(out, "%s<code>", t ? ", " : "");
        out_html(out, r->texts[t].path);
        out_printf(out, "</code> (%zu bytes)", r->texts[t].len);
    }
    out_printf(out, ".</p>\n");
}

static void write_text_charts(output *out, const report_data *r, const char **labels)
{
    const char **rows = grow_or_die(NULL, r->n_texts, sizeof *rows);
    double *values = grow_or_die(NULL, r->n_texts * r->n_models, sizeof *values);
    for (size_t t = 0; t < r->n_texts; t++)
        rows[t] = text_label(r, t);
    for (size_t k = 0; k < N_FIGURES; k++) {
        for (size_t t = 0; t < r->n_texts; t++)
            for (size_t m = 0; m < r->n_models; m++)
                values[t * r->n_models + m] =
                    figures[k].value(&r->figures[m * r->n_texts + t]) * figures[k].scale;
        bar_chart chart = {figures[k].title, figures[k].axis, rows, r->n_texts, labels,
                           r->n_models, values, figures[k].format};
        svg_bar_chart(out, &chart);
    }
    free(rows);
    free(values);
}

static void write_text_table(output *out, const report_data *r)
{
    out_printf(out, "<div class=\"wide\"><table><tr><th class=\"name\">text</th>"
               "<th class=\"name\">model</th><th>bytes</th><th>characters</th><th>tokens</th>"
               "<th>bytes per token</th><th>tokens per 1,000 chars</th><th>split chars</th>"
               "<th>byte tokens</th><th>encode MB/s</th></tr>\n");
    for (size_t t = 0; t < r->n_texts; t++)
        for (size_t m = 0; m < r->n_models; m++) {
            const text_figures *f = &r->figures[m * r->n_texts + t];
            out_printf(out, "<tr><td class=\"name\">");
            out_html(out, text_label(r, t));
            out_printf(out, "</td>");
            model_name_cell(out, r, m);
            out_printf(out, "<td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td>",
                       f->bytes, f->characters, f->tokens);
            for (size_t k = 0; k < N_FIGURES; k++) {
                out_printf(out, "<td>");
                out_printf(out, figures[k].format, figures[k].value(f) * figures[k].scale);
                out_printf(out, "</td>");
            }
            out_printf(out, "</tr>\n");
        }
    out_printf(out, "</table></div>\n");
}

/* The models that are sizes of one training: those whose path is PREFIX.SIZE for the
 * PREFIX most of them share (at least two). @return their number, their indices in
 * members[], by increasing size. */
static size_t sweep_members(const report_data *r, size_t *members)
{
    size_t best = 0;
    for (size_t a = 0; a < r->n_models; a++) {
        if (r->models[a].sweep_size == 0)
            continue;
        size_t prefix = (size_t)(strrchr(r->models[a].path, '.') - r->models[a].path), n = 0;
        size_t *found = grow_or_die(NULL, r->n_models, sizeof *found);
        for (size_t b = 0; b < r->n_models; b++)
            if (r->models[b].sweep_size != 0 &&
                strrchr(r->models[b].path, '.') - r->models[b].path == (ptrdiff_t)prefix &&
                memcmp(r->models[a].path, r->models[b].path, prefix) == 0)
                found[n++] = b;
        if (n > best) {
            best = n;
            memcpy(members, found, n * sizeof *found);
        }
        free(found);
    }
    for (size_t i = 1; i < best; i++) /* insertion sort by size: a handful of models */
        for (size_t j = i; j > 0 && r->models[members[j]].sweep_size <
                                        r->models[members[j - 1]].sweep_size; j--) {
            size_t swap = members[j];
            members[j] = members[j - 1];
            members[j - 1] = swap;
        }
    return best >= 2 ? best : 0;
}

static void write_sweep(output *out, const report_data *r)
{
    size_t *members = grow_or_die(NULL, r->n_models, sizeof *members);
    size_t n = sweep_members(r, members);
    if (n > 0) {
        const char **series = grow_or_die(NULL, r->n_texts, sizeof *series);
        double *x = grow_or_die(NULL, r->n_texts * n, sizeof *x);
        double *y = grow_or_die(NULL, r->n_texts * n, sizeof *y);
        for (size_t t = 0; t < r->n_texts; t++) {
            series[t] = text_label(r, t);
            for (size_t i = 0; i < n; i++) {
                x[t * n + i] = (double)bp_model_vocab_size(r->models[members[i]].model);
                y[t * n + i] = bytes_per_token(&r->figures[members[i] * r->n_texts + t]);
            }
        }
        out_printf(out, "<h2>Bytes per token against the vocabulary size</h2>\n<p>The models "
                   "<code>");
        out_html(out, r->models[members[0]].path);
        out_printf(out, "</code> &hellip; <code>");
        out_html(out, r->models[members[n - 1]].path);
        out_printf(out, "</code> are sizes of one training; one line per text.</p>\n");
        line_chart chart = {"Bytes per token against the vocabulary size",
                            "vocabulary size (ids, log scale)", "bytes per token", series,
                            r->n_texts, n, x, y, true, r->n_models};
        svg_line_chart(out, &chart);
        free(series);
        free(x);
        free(y);
    }
    free(members);
}

static void write_length_chart(output *out, const report_data *r, const char **labels)
{
    size_t longest = 0;
    for (size_t m = 0; m < r->n_models; m++)
        longest = r->models[m].survey.longest > longest ? r->models[m].survey.longest : longest;
    double *x = grow_or_die(NULL, r->n_models * longest, sizeof *x);
    double *y = grow_or_die(NULL, r->n_models * longest, sizeof *y);
    for (size_t m = 0; m < r->n_models; m++) {
        const vocab_survey *s = &r->models[m].survey;
        for (size_t len = 1; len <= longest; len++) {
            x[m * longest + len - 1] = (double)len;
            y[m * longest + len - 1] = len <= s->longest
                ? 100.0 * (double)s->by_length[len] / (double)s->n_pieces : NAN;
        }
    }
    line_chart chart = {"Piece lengths", "piece length (bytes)", "% of the pieces", labels,
                        r->n_models, longest, x, y, false, 0};
    svg_line_chart(out, &chart);
    free(x);
    free(y);
}

/* The kinds of piece some model has at least `least` (a share of its pieces) of. @return
 * their number, the kinds in kinds[] and their names in names[]. */
static size_t kinds_present(const report_data *r, double least, size_t *kinds,
                            const char **names)
{
    size_t n = 0;
    for (size_t k = 0; k < N_PIECE_KINDS; k++) {
        bool present = false;
        for (size_t m = 0; m < r->n_models; m++)
            present |= r->models[m].survey.by_kind[k] > 0 &&
                       (double)r->models[m].survey.by_kind[k] >=
                           least * (double)r->models[m].survey.n_pieces;
        if (present) {
            kinds[n] = k;
            names[n++] = piece_kind_names[k];
        }
    }
    return n;
}

/* The chart shows the kinds that make at least 0.5% of some model's pieces, so that the
 * rare ones do not drown it; the table under it has them all. */
static void write_kinds(output *out, const report_data *r, const char **labels)
{
    const char *names[N_PIECE_KINDS];
    size_t kinds[N_PIECE_KINDS];
    size_t n_rows = kinds_present(r, 0.005, kinds, names);
    double *values = grow_or_die(NULL, n_rows * r->n_models + 1, sizeof *values);
    for (size_t i = 0; i < n_rows; i++)
        for (size_t m = 0; m < r->n_models; m++)
            values[i * r->n_models + m] = 100.0 * (double)r->models[m].survey.by_kind[kinds[i]] /
                                          (double)r->models[m].survey.n_pieces;
    bar_chart chart = {"Pieces by script and kind (those over 0.5% of the pieces)",
                       "% of the pieces", names, n_rows, labels, r->n_models, values,
                       "%.1f%%"};
    svg_bar_chart(out, &chart);
    free(values);
    n_rows = kinds_present(r, 0, kinds, names);
    out_printf(out, "<div class=\"wide\"><table><tr><th class=\"name\">pieces</th>");
    for (size_t m = 0; m < r->n_models; m++)
        model_name_cell(out, r, m);
    out_printf(out, "</tr>\n");
    for (size_t i = 0; i < n_rows; i++) {
        out_printf(out, "<tr><td class=\"name\">%s</td>", names[i]);
        for (size_t m = 0; m < r->n_models; m++)
            out_printf(out, "<td>%zu</td>", r->models[m].survey.by_kind[kinds[i]]);
        out_printf(out, "</tr>\n");
    }
    out_printf(out, "</table></div>\n");
}

/* A table of the longest or the most frequent pieces: one column pair per model. */
static void write_top_pieces(output *out, const report_data *r, bool frequent)
{
    out_printf(out, "<h3>The %d %s pieces</h3>\n<div class=\"wide\"><table><tr><th>#</th>",
               TOP_PIECES,
               frequent ? "most frequent" : "longest");
    for (size_t m = 0; m < r->n_models; m++) {
        model_name_cell(out, r, m);
        out_printf(out, "<th>%s</th>", frequent ? "count" : "bytes");
    }
    out_printf(out, "</tr>\n");
    for (size_t i = 0; i < TOP_PIECES; i++) {
        out_printf(out, "<tr><td>%zu</td>", i + 1);
        for (size_t m = 0; m < r->n_models; m++) {
            const vocab_survey *s = &r->models[m].survey;
            if (i >= s->n_top) {
                out_printf(out, "<td></td><td></td>");
                continue;
            }
            uint32_t id = frequent ? s->frequent_ids[i] : s->longest_ids[i];
            size_t len;
            const unsigned char *bytes = bp_model_piece(r->models[m].model, id, &len);
            out_printf(out, "<td class=\"piece\">");
            out_html_piece(out, bytes, len);
            if (frequent)
                out_printf(out, "</td><td>%" PRIu64 "</td>", bp_model_piece_count(r->models[m].model, id));
            else
                out_printf(out, "</td><td>%zu</td>", len);
        }
        out_printf(out, "</tr>\n");
    }
    out_printf(out, "</table></div>\n");
}

static const char definitions[] =
    "<h2>What the figures mean</h2>\n<dl>\n"
    "<dt>The text</dt><dd>Each text file is one text, encoded whole as <code>bp encode "
    "--whole</code> does: put in NFC, then segmented. Every count is over the normalized "
    "(NFC) text.</dd>\n"
    "<dt>Characters</dt><dd>The well-formed UTF-8 characters of the text; a byte outside "
    "one counts as one character.</dd>\n"
    "<dt>Bytes per token</dt><dd>The bytes of the text divided by its number of tokens.</dd>\n"
    "<dt>Tokens per 1,000 characters</dt><dd>1,000 times the tokens divided by the "
    "characters.</dd>\n"
    "<dt>Characters split across tokens</dt><dd>The share of the characters inside which a "
    "token starts (after their first byte): a token boundary cuts them.</dd>\n"
    "<dt>Bytes left as single-byte tokens of multi-byte characters</dt><dd>The share of the "
    "bytes of the text that are a token of one byte lying inside a character of two or "
    "more bytes (the model had no better piece for it).</dd>\n"
    "<dt>Encode speed</dt><dd>Megabytes (10<sup>6</sup> bytes) of the text as given per "
    "second of CPU time of <code>bp_encode()</code> on one thread, NFC included: the "
    "fastest of up to 10 runs over at least 0.3 s of CPU time (CPU time, so that other "
    "work on the machine counts little). It depends on the machine.</dd>\n"
    "<dt>Piece lengths</dt><dd>Pieces of each length in bytes, as a share of the "
    "pieces.</dd>\n"
    "<dt>Pieces by script and kind</dt><dd>The first that applies: not whole UTF-8 (single "
    "bytes from 0x80 and pieces cut inside a character); whitespace only; digits (Unicode "
    "Nd, with any spaces and punctuation); punctuation and symbols (P* and S*, with any "
    "spaces); letters of one script (with any marks, spaces, digits and punctuation); "
    "letters of several scripts (mixed); other (controls, unassigned). A letter's script is "
    "that of its Unicode block (utf8proc, which gives the categories, has no script "
    "property): Latin, Greek, Cyrillic, Armenian, Hebrew, Arabic, Devanagari, Bengali, "
    "Thai, Georgian, Hangul, Hiragana, Katakana and Han by their main blocks; letters "
    "elsewhere count as other scripts.</dd>\n"
    "<dt>Pieces shown</dt><dd>Escaped as <code>bp encode --output-format pieces</code> "
    "writes them: <code>\\x20</code> is a space, <code>\\n</code> a newline, "
    "<code>\\xHH</code> any byte that is not printable UTF-8. Most frequent: by training "
    "count. Ties go to the lower id.</dd>\n"
    "</dl>\n";

void write_report_html(output *out, const report_data *r)
{
    const char **labels = model_labels(r);
    out_printf(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
               "<title>bp report</title>\n<style>%s</style>\n</head>\n<body>\n"
               "<h1>Vocabulary report</h1>\n<p>%zu model%s on %zu text%s, by bp %s.</p>\n",
               style, r->n_models, r->n_models == 1 ? "" : "s", r->n_texts,
               r->n_texts == 1 ? "" : "s", bp_version_string());
    if (r->note) {
        out_printf(out, "<p class=\"note\">");
        out_html(out, r->note);
        out_printf(out, "</p>\n");
    }
    write_models(out, r);
    out_printf(out, "<h2>On the texts</h2>\n");
    write_text_charts(out, r, labels);
    write_text_table(out, r);
    write_sweep(out, r);
    out_printf(out, "<h2>The vocabularies</h2>\n");
    write_length_chart(out, r, labels);
    write_kinds(out, r, labels);
    write_top_pieces(out, r, false);
    write_top_pieces(out, r, true);
    out_printf(out, "%s</body>\n</html>\n", definitions);
    free(labels);
}
