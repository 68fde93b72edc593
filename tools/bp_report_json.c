/*
 * bp_report_json.c -- `bp report --format json`: the figures of the page for scripts. One
 * object: "texts", "models" (with the vocabulary survey) and "results", one per model and
 * text, each on a line of its own. Counts are exact; the derived figures are printed with
 * 10 significant digits.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bp_report.h"

static void json_text(output *out, const char *text)
{
    out_json_string(out, text, strlen(text));
}

/* A list of pieces, escaped (as bp encode --output-format pieces), with their counts. */
static void json_pieces(output *out, const bp_model *model, const uint32_t *ids, size_t n)
{
    output_byte(out, '[');
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const unsigned char *bytes = bp_model_piece(model, ids[i], &len);
        output escaped = output_open(NULL);
        output_escaped(&escaped, bytes, len);
        out_printf(out, "%s{\"id\": %" PRIu32 ", \"piece\": ", i ? ", " : "", ids[i]);
        out_json_string(out, escaped.data, escaped.len);
        out_printf(out, ", \"bytes\": %zu, \"count\": %" PRIu64 "}", len,
                   bp_model_piece_count(model, ids[i]));
        free(escaped.data);
    }
    output_byte(out, ']');
}

static void json_model(output *out, const report_model *m)
{
    const vocab_survey *s = &m->survey;
    out_printf(out, "    {\"path\": ");
    json_text(out, m->path);
    out_printf(out, ", \"label\": ");
    json_text(out, m->label);
    out_printf(out, ", \"ids\": %zu, \"pieces\": %zu, \"longest_piece\": %zu,\n",
               bp_model_vocab_size(m->model), s->n_pieces, s->longest);
    out_printf(out, "     \"pieces_by_length\": [");
    for (size_t len = 0; len <= s->longest; len++)
        out_printf(out, "%s%zu", len ? ", " : "", s->by_length[len]);
    out_printf(out, "],\n     \"pieces_by_kind\": {");
    for (size_t k = 0; k < N_PIECE_KINDS; k++) {
        out_printf(out, "%s", k ? ", " : "");
        json_text(out, piece_kind_names[k]);
        out_printf(out, ": %zu", s->by_kind[k]);
    }
    out_printf(out, "},\n     \"longest_pieces\": ");
    json_pieces(out, m->model, s->longest_ids, s->n_top);
    out_printf(out, ",\n     \"most_frequent_pieces\": ");
    json_pieces(out, m->model, s->frequent_ids, s->n_top);
    out_printf(out, "}");
}

void write_report_json(output *out, const report_data *r)
{
    out_printf(out, "{\n  \"bp_version\": \"%s\",\n  \"note\": ", bp_version_string());
    if (r->note)
        json_text(out, r->note);
    else
        out_printf(out, "null");
    out_printf(out, ",\n  \"texts\": [\n");
    for (size_t t = 0; t < r->n_texts; t++) {
        out_printf(out, "    {\"path\": ");
        json_text(out, r->texts[t].path);
        out_printf(out, ", \"input_bytes\": %zu}%s\n", r->texts[t].len,
                   t + 1 < r->n_texts ? "," : "");
    }
    out_printf(out, "  ],\n  \"models\": [\n");
    for (size_t m = 0; m < r->n_models; m++) {
        json_model(out, &r->models[m]);
        out_printf(out, "%s\n", m + 1 < r->n_models ? "," : "");
    }
    out_printf(out, "  ],\n  \"results\": [\n");
    for (size_t i = 0; i < r->n_models * r->n_texts; i++) {
        const text_figures *f = &r->figures[i];
        out_printf(out, "    {\"model\": ");
        json_text(out, r->models[i / r->n_texts].path);
        out_printf(out, ", \"text\": ");
        json_text(out, r->texts[i % r->n_texts].path);
        out_printf(out,
                   ", \"bytes\": %" PRIu64 ", \"characters\": %" PRIu64 ", \"tokens\": %" PRIu64
                   ", \"split_characters\": %" PRIu64 ", \"byte_token_bytes\": %" PRIu64
                   ", \"bytes_per_token\": %.10g, \"tokens_per_1000_characters\": %.10g"
                   ", \"split_character_share\": %.10g, \"byte_token_share\": %.10g"
                   ", \"encode_mb_per_s\": %.4g, \"encode_runs\": %u}%s\n",
                   f->bytes, f->characters, f->tokens, f->split_characters,
                   f->byte_token_bytes, bytes_per_token(f), tokens_per_1000_characters(f),
                   split_character_share(f), byte_token_share(f), encode_mb_per_second(f),
                   f->encode_runs, i + 1 < r->n_models * r->n_texts ? "," : "");
    }
    out_printf(out, "  ]\n}\n");
}
