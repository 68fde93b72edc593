/*
 * bp_info.c -- `bp info` and `bp vocab`: what a model holds.
 *
 *   bp info -m MODEL    a summary: format, vocabulary size, pieces, total count, the
 *                       distribution of piece lengths, normalization
 *   bp vocab -m MODEL   one TSV line per id: id, piece (escaped as `bp encode
 *                       --output-format pieces` writes it), count, score (%.17g)
 *
 * Both only read the model through the public API. `bp vocab` output is what `bp import`
 * reads back. Exit status: 0 success, 1 failure on data or I/O, 2 usage error.
 */
#define _GNU_SOURCE /* getopt_long */

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char info_help[] =
    "Usage: bp info -m MODEL\n"
    "Describe the model MODEL: its format (reference JSON or native, and whether\n"
    "the file is zstd-compressed), the number of ids and of pieces, the total count\n"
    "of the pieces (their scores are log(count) - log(total)), the longest piece,\n"
    "the number of pieces of each length in bytes, how many pieces of more than\n"
    "one byte are not well-formed UTF-8, whether the ids follow the reference order\n"
    "(length, then bytes), the normalization bp encode applies, and the special\n"
    "tokens (bp add-tokens), one line each: special, the id, the token (escaped\n"
    "as pieces are).\n"
    "\n"
    "  -m, --model MODEL  the model: reference BytePiece JSON, plain or\n"
    "                     zstd-compressed, or native (required)\n"
    "  -h, --help         show this help and exit\n";

static const char vocab_help[] =
    "Usage: bp vocab -m MODEL [--prefix BYTES]\n"
    "List the vocabulary of MODEL as tab-separated values, one line per id in id\n"
    "order: the id, the piece, its count and its score (log(count) - log(total),\n"
    "printed with %.17g, so exactly). Pieces are escaped as by bp encode\n"
    "--output-format pieces: bytes 0x21-0x7e and well-formed UTF-8 characters from\n"
    "U+00A0 up stand for themselves; backslash is \\\\, newline \\n, tab \\t, carriage\n"
    "return \\r, every other byte \\xHH. Ids 0, 1, 2 are listed as <pad>, <bos>,\n"
    "<eos> with count 0 and score -inf; a piece that reads like one of them has its\n"
    "'<' written \\x3c. Special tokens (bp add-tokens) come last, listed as their\n"
    "text (escaped the same way) with count 0 and score -inf: not pieces, like ids\n"
    "0, 1, 2. bp import reads this output back (but not special tokens: add them\n"
    "again with bp add-tokens).\n"
    "\n"
    "  -m, --model MODEL  the model: reference BytePiece JSON, plain or\n"
    "                     zstd-compressed, or native (required)\n"
    "      --prefix BYTES list only the pieces that start with BYTES (written\n"
    "                     escaped as in the piece column; a piece equal to BYTES\n"
    "                     included), in id order: for token healing, the tokens a\n"
    "                     generator may continue a cut prompt with\n"
    "  -h, --help         show this help and exit\n";

/* The options of a command that takes -m MODEL and nothing else. */
/* Info and vocab take no FILE operand. @return PARSE_USAGE after a message. */
static enum parse_result reject_operand(const char *operand)
{
    char what[512];
    snprintf(what, sizeof what, "unexpected operand '%.400s'", operand);
    usage_error(what);
    return PARSE_USAGE;
}

static enum parse_result parse_model_only(int argc, char **argv, const char **model_path)
{
    enum parse_result parsed = parse_model_options(argc, argv, model_path);
    if (parsed != PARSE_RUN)
        return parsed;
    if (optind < argc)
        return reject_operand(argv[optind]);
    return PARSE_RUN;
}

/*====== bp info ======*/

/* Whether the file starts with the zstd frame magic (28 B5 2F FD). */
static bool is_zstd_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return false;
    unsigned char magic[4];
    bool zstd = fread(magic, 1, sizeof magic, fp) == sizeof magic && magic[0] == 0x28 &&
                magic[1] == 0xB5 && magic[2] == 0x2F && magic[3] == 0xFD;
    fclose(fp);
    return zstd;
}

/* Whether piece a sorts before piece b in the reference order: length, then bytes. */
static bool reference_before(const unsigned char *a, size_t a_len, const unsigned char *b,
                             size_t b_len)
{
    if (a_len != b_len)
        return a_len < b_len;
    return memcmp(a, b, a_len) < 0;
}

static void write_text(output *out, const char *text, size_t len)
{
    output_reserve(out, len);
    memcpy(out->data + out->len, text, len);
    out->len += len;
}

/* The special tokens' lines of bp info: "special:        ID TOKEN" each. */
static void print_special_tokens(output *out, const bp_model *model)
{
    size_t vocab = bp_model_vocab_size(model);
    for (uint32_t id = (uint32_t)(vocab - bp_model_special_count(model)); id < vocab; id++) {
        char head[64];
        int n = snprintf(head, sizeof head, "special:        %" PRIu32 " ", id);
        write_text(out, head, (size_t)n);
        size_t len;
        const unsigned char *bytes = bp_model_piece(model, id, &len);
        output_escaped(out, bytes, len);
        output_byte(out, '\n');
    }
}

static void print_info(output *out, const char *path, const bp_model *model)
{
    size_t n_special = bp_model_special_count(model);
    size_t vocab = bp_model_vocab_size(model), n_pieces = vocab - 3 - n_special;
    size_t longest = 0, singles = 0, not_utf8 = 0;
    uint64_t total = 0;
    bool reference_order = true;
    size_t *by_len = NULL, by_len_cap = 0;
    const unsigned char *prev = NULL;
    size_t prev_len = 0;
    for (uint32_t id = 3; id < 3 + n_pieces; id++) {
        size_t len;
        const unsigned char *bytes = bp_model_piece(model, id, &len);
        total += bp_model_piece_count(model, id);
        if (len > longest) {
            size_t old = by_len_cap;
            reserve_array(&by_len, &by_len_cap, len + 1, sizeof *by_len);
            memset(by_len + old, 0, (by_len_cap - old) * sizeof *by_len);
            longest = len;
        }
        by_len[len]++;
        singles += len == 1;
        not_utf8 += len > 1 && bp_utf8_valid_prefix(bytes, len) != len;
        if (prev && !reference_before(prev, prev_len, bytes, len))
            reference_order = false;
        prev = bytes;
        prev_len = len;
    }

    char text[1024], specials[64] = "";
    if (n_special > 0)
        snprintf(specials, sizeof specials, "%zu special token%s, ", n_special,
                 n_special == 1 ? "" : "s");
    int n = snprintf(text, sizeof text,
                     "model:          %s\n"
                     "format:         %s%s\n"
                     "ids:            %zu (%zu pieces, %sand <pad> 0, <bos> 1, <eos> 2)\n"
                     "pieces:         %zu single bytes, %zu longer\n"
                     "total count:    %" PRIu64 "\n"
                     "longest piece:  %zu bytes\n"
                     "not UTF-8:      %zu pieces of more than one byte\n"
                     "id order:       %s\n"
                     "normalization:  NFC at encode time (bp encode --no-normalize: none)\n",
                     path, bp_model_is_native(model) ? "native" : "reference JSON",
                     is_zstd_file(path) ? " (zstd-compressed)" : "", vocab, n_pieces, specials,
                     singles,
                     n_pieces - singles, total, longest, not_utf8,
                     reference_order ? "reference (length, then bytes; byte b is id b + 3)"
                                     : "other (not length, then bytes)");
    write_text(out, text, (size_t)n);
    print_special_tokens(out, model);
    static const char table_head[] = "\nlength  pieces\n";
    write_text(out, table_head, sizeof table_head - 1);
    for (size_t len = 1; len <= longest; len++) {
        if (by_len[len] == 0)
            continue;
        n = snprintf(text, sizeof text, "%6zu  %6zu\n", len, by_len[len]);
        write_text(out, text, (size_t)n);
    }
    free(by_len);
}

int run_info(int argc, char **argv)
{
    const char *model_path;
    enum parse_result parsed = parse_model_only(argc, argv, &model_path);
    if (parsed != PARSE_RUN)
        return parsed == PARSE_HELP ? print_text(info_help) : 2;
    bp_model *model = NULL;
    if (load_model(model_path, &model) != 0)
        return 1;
    output out = output_open(stdout);
    print_info(&out, model_path, model);
    bp_model_free(model);
    return output_close(&out, 0);
}

/*====== bp vocab ======*/


/* One line of the listing: id, piece, count, score. */
static void write_vocab_line(output *out, const bp_model *model, uint32_t id)
{
    char num[128];
    int n = snprintf(num, sizeof num, "%" PRIu32 "\t", id);
    write_text(out, num, (size_t)n);
    if (id < 3) {
        write_text(out, special_names[id], strlen(special_names[id]));
    } else {
        size_t len;
        const unsigned char *bytes = bp_model_piece(model, id, &len);
        output_escaped(out, bytes, len);
    }
    n = snprintf(num, sizeof num, "\t%" PRIu64 "\t%.17g\n", bp_model_piece_count(model, id),
                 bp_model_piece_score(model, id));
    write_text(out, num, (size_t)n);
}

static const struct option vocab_options[] = {
    {"model", required_argument, NULL, 'm'},
    {"prefix", required_argument, NULL, 'p'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* -m MODEL, --prefix BYTES (escaped; unescaped into prefix[0..*prefix_len), NULL when
 * absent), --help. */
static enum parse_result parse_vocab_options(int argc, char **argv, const char **model_path,
                                             unsigned char **prefix, size_t *prefix_len)
{
    *model_path = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, "m:h", vocab_options, NULL)) != -1) {
        if (opt == 'm') {
            *model_path = optarg;
        } else if (opt == 'p') {
            size_t len = strlen(optarg);
            bp_error err;
            *prefix = grow_or_die(*prefix, len + 1, 1);
            if (bp_piece_unescape(optarg, len, *prefix, prefix_len, &err) != BP_OK)
                return bad_option_value("--prefix", optarg,
                                        "bytes escaped as in the pieces column (\\\\, \\n, "
                                        "\\t, \\r, \\xHH)");
        } else if (opt == 'h') {
            return PARSE_HELP;
        } else { /* getopt_long has printed what is wrong */
            usage_hint();
            return PARSE_USAGE;
        }
    }
    if (optind < argc)
        return reject_operand(argv[optind]);
    return finish_parse(*model_path);
}

int run_vocab(int argc, char **argv)
{
    const char *model_path;
    unsigned char *prefix = NULL;
    size_t prefix_len = 0;
    enum parse_result parsed = parse_vocab_options(argc, argv, &model_path, &prefix, &prefix_len);
    bp_model *model = NULL;
    if (parsed != PARSE_RUN || load_model(model_path, &model) != 0) {
        free(prefix);
        return parsed == PARSE_HELP ? print_text(vocab_help) : parsed == PARSE_USAGE ? 2 : 1;
    }
    size_t vocab = bp_model_vocab_size(model), n_ids = vocab;
    uint32_t *ids = NULL; /* the ids listed: all of them without --prefix */
    bp_error err;
    int rc = 0;
    if (prefix) {
        ids = grow_or_die(NULL, vocab, sizeof *ids);
        rc = exit_status(bp_model_prefix_ids(model, prefix, prefix_len, ids, vocab, &n_ids, &err),
                         &err);
    }
    output out = output_open(stdout);
    for (size_t i = 0; rc == 0 && i < n_ids && out.write_errno == 0; i++)
        write_vocab_line(&out, model, ids ? ids[i] : (uint32_t)i);
    free(ids);
    free(prefix);
    bp_model_free(model);
    return output_close(&out, rc);
}
