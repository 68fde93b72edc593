/*
 * bp_interop.c -- `bp export` and `bp import`: models to and from other tools.
 *
 *   bp export [--format sentencepiece] MODEL OUT   a SentencePiece model that spm_encode
 *                                                  and the SentencePiece libraries load
 *                                                  (bp_model_export_sentencepiece)
 *   bp export --format huggingface MODEL OUT       a Hugging Face tokenizer.json
 *                                                  (bp_model_export_huggingface)
 *   bp import [-o MODEL] [PIECES.tsv]              a model from a piece/count table, as the
 *                                                  reference's convert_to_bytepiece
 *                                                  (bp_model_from_counts)
 *
 * `bp import` reads lines "PIECE<TAB>COUNT", or the lines of `bp vocab`
 * ("ID<TAB>PIECE<TAB>COUNT<TAB>SCORE": the id and the score are ignored), with PIECE
 * escaped as `bp vocab` writes it, so that a vocabulary listed by `bp vocab` imports back.
 * Exit status: 0 success, 1 failure on data or I/O, 2 usage error.
 */
#define _GNU_SOURCE /* getopt_long, getline */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "cli.h"

static const char export_help[] =
    "Usage: bp export [OPTION]... MODEL OUT\n"
    "Write the model MODEL to OUT in another tool's format.\n"
    "\n"
    "SentencePiece: a ModelProto that spm_encode and the SentencePiece libraries\n"
    "load, made as the reference BytePiece's convert_to_sentencepiece makes it. Ids\n"
    "are kept: 0, 1, 2 become <unk>, <s>, </s>, and piece i keeps id i with its\n"
    "score as float32. Single bytes 0x20-0x7e (but backslash) are normal pieces,\n"
    "with their byte pieces <0xXX> appended after the last id; other single bytes\n"
    "are byte pieces; a space is written U+2581. Unigram, byte fallback, identity\n"
    "normalization, no dummy prefix. Pieces of more than one byte that are not\n"
    "UTF-8 cannot be SentencePiece pieces: they become unused pieces. SentencePiece\n"
    "encodes each line without its newline and without NFC, and float32 scores can\n"
    "turn near-ties, so its ids equal bp's on most lines, not all (see the README).\n"
    "\n"
    "Hugging Face: a tokenizer.json that the tokenizers library and transformers'\n"
    "PreTrainedTokenizerFast(tokenizer_file=OUT) load, and that gives bp encode's\n"
    "ids (NFC, deterministic) and decodes them back: NFC, a split after each run of\n"
    "newlines (bp's chunks), the byte-level alphabet without its regex, and a\n"
    "Unigram model holding every id in order with its score. Ids 0, 1, 2 are\n"
    "<pad>, <bos>, <eos>, declared as special added tokens; no post-processor, so\n"
    "no <bos>/<eos> is added. A piece written <pad>, <bos> or <eos> is refused.\n"
    "\n"
    "OUT is replaced atomically (a symbolic link is written through, a device or FIFO\n"
    "written into); its directory must exist.\n"
    "\n"
    "      --format FORMAT  the output format: sentencepiece (the default) or\n"
    "                       huggingface\n"
    "  -h, --help           show this help and exit\n";

static const char import_help[] =
    "Usage: bp import [OPTION]... [PIECES]\n"
    "Make a model from a table of pieces and counts, as the reference BytePiece's\n"
    "convert_to_bytepiece does: the single bytes missing from the table are added\n"
    "with count 1, then pieces that no segmentation would choose are removed and\n"
    "their counts given to the pieces that segment them, until none is left; the\n"
    "model may therefore hold fewer pieces, and other counts, than the table. Each\n"
    "line of PIECES is PIECE<TAB>COUNT, or a line of bp vocab output\n"
    "(ID<TAB>PIECE<TAB>COUNT<TAB>SCORE; the id and score are ignored, and the lines\n"
    "of <pad>, <bos>, <eos> skipped). PIECE is escaped as bp vocab writes it: \\\\,\n"
    "\\n, \\t, \\r and \\xHH stand for bytes, every other byte for itself. COUNT is an\n"
    "integer from 1 to 2^53. Empty lines are skipped. With no PIECES, or when PIECES\n"
    "is -, read standard input.\n"
    "\n"
    "  -o, --output MODEL  where to write the model (default bytepiece.model);\n"
    "                      replaced atomically (a link is written through, a device\n"
    "                      or FIFO written into)\n"
    "      --to FORMAT     json (the reference format, the default) or native\n"
    "      --threads N     threads to use; 0, the default, means one per core.\n"
    "                      The model does not depend on it\n"
    "  -h, --help          show this help and exit\n";

enum { OPT_FORMAT = 256, OPT_TO, OPT_THREADS };

#define MAX_COUNT (UINT64_C(1) << 53) /* what a model holds: counts become doubles */

/*====== bp export ======*/

static const struct option export_options[] = {
    {"format", required_argument, NULL, OPT_FORMAT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

typedef bp_status (*export_fn)(const bp_model *model, const char *path, bp_error *err);

static enum parse_result parse_export_args(int argc, char **argv, export_fn *export)
{
    *export = bp_model_export_sentencepiece;
    int opt;
    while ((opt = getopt_long(argc, argv, "h", export_options, NULL)) != -1) {
        switch (opt) {
        case OPT_FORMAT:
            if (strcmp(optarg, "sentencepiece") == 0)
                *export = bp_model_export_sentencepiece;
            else if (strcmp(optarg, "huggingface") == 0)
                *export = bp_model_export_huggingface;
            else
                return bad_option_value("--format", optarg, "sentencepiece or huggingface");
            break;
        case 'h':
            return PARSE_HELP;
        default: /* getopt_long has printed what is wrong */
            usage_hint();
            return PARSE_USAGE;
        }
    }
    return expect_operands(argc, 2, "MODEL or OUT");
}

int run_export(int argc, char **argv)
{
    export_fn export;
    enum parse_result parsed = parse_export_args(argc, argv, &export);
    if (parsed != PARSE_RUN)
        return parsed == PARSE_HELP ? print_text(export_help) : 2;
    const char *in = argv[optind], *out = argv[optind + 1];
    bp_model *model = NULL;
    if (load_model(in, &model) != 0)
        return 1;
    bp_error err;
    bp_status st = export(model, out, &err);
    bp_model_free(model);
    return exit_status(st, &err);
}

/*====== bp import ======*/

typedef struct import_args {
    const char *output;
    const char *input;
    bool native;
    unsigned threads;
} import_args;

static const struct option import_options[] = {
    {"output", required_argument, NULL, 'o'},
    {"to", required_argument, NULL, OPT_TO},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static enum parse_result parse_import_args(int argc, char **argv, import_args *args)
{
    *args = (import_args){.output = "bytepiece.model", .input = "-"};
    int opt;
    uint64_t n;
    while ((opt = getopt_long(argc, argv, "o:h", import_options, NULL)) != -1) {
        switch (opt) {
        case 'o':
            args->output = optarg;
            break;
        case OPT_TO:
            if (strcmp(optarg, "json") == 0)
                args->native = false;
            else if (strcmp(optarg, "native") == 0)
                args->native = true;
            else
                return bad_option_value("--to", optarg, "json or native");
            break;
        case OPT_THREADS:
            if (!parse_u64(optarg, &n) || n > 1024)
                return bad_option_value("--threads", optarg,
                                        "a number of threads from 0 (one per core) to 1024");
            args->threads = (unsigned)n;
            break;
        case 'h':
            return PARSE_HELP;
        default: /* getopt_long has printed what is wrong */
            usage_hint();
            return PARSE_USAGE;
        }
    }
    if (argc - optind > 1) {
        usage_error("too many operands (one PIECES file at most)");
        return PARSE_USAGE;
    }
    if (optind < argc)
        args->input = argv[optind];
    return PARSE_RUN;
}

/* The pieces read so far: their bytes in one arena (offsets, since it moves as it grows),
 * with the line each came from, for messages. */
typedef struct table {
    unsigned char *arena;
    size_t arena_len, arena_cap;
    size_t *off;    /* n + 1 */
    uint64_t *count;
    uint64_t *line;
    size_t n, cap;
} table;

/* Splits line[0..len) at tabs into at most 4 fields. @return the number of fields, or 5
 * when there are more. */
static int split_fields(char *line, size_t len, char **field, size_t *field_len)
{
    int n = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && line[i] != '\t')
            continue;
        if (n == 4)
            return 5;
        field[n] = line + start;
        field_len[n++] = i - start;
        start = i + 1;
    }
    return n;
}

static bool is_special_name(const char *s, size_t len)
{
    for (int i = 0; i < 3; i++)
        if (len == strlen(special_names[i]) && memcmp(s, special_names[i], len) == 0)
            return true;
    return false;
}

/* Parses one line into the table. @return 0, or 1 after a message. */
static int parse_line(table *t, const text_source *src, char *line, size_t len)
{
    char *field[4];
    size_t field_len[4];
    int n = split_fields(line, len, field, field_len);
    if (n != 2 && n != 4) {
        report_at(src, "expected PIECE<TAB>COUNT or ID<TAB>PIECE<TAB>COUNT<TAB>SCORE, got %d field%s",
                  n > 4 ? 5 : n, n == 1 ? "" : "s");
        return 1;
    }
    char *piece = field[n == 2 ? 0 : 1];
    size_t piece_len = field_len[n == 2 ? 0 : 1];
    char *count_text = field[n == 2 ? 1 : 2];
    size_t count_len = field_len[n == 2 ? 1 : 2];
    if (is_special_name(piece, piece_len)) /* the special ids' lines of bp vocab */
        return 0;
    if (piece_len == 0) {
        report_at(src, "empty piece");
        return 1;
    }
    char digits[32];
    uint64_t count = 0;
    bool count_ok = count_len > 0 && count_len < sizeof digits;
    if (count_ok) {
        memcpy(digits, count_text, count_len);
        digits[count_len] = '\0';
        count_ok = parse_u64(digits, &count) && count >= 1 && count <= MAX_COUNT;
    }
    if (n == 4 && count_len == 1 && count_text[0] == '0') { /* bp vocab's special tokens */
        report_at(src, "special token '%.*s' (count 0): bp import makes pieces only; add special "
                  "tokens to the model it writes with bp add-tokens",
                  (int)(piece_len > 60 ? 60 : piece_len), piece);
        return 1;
    }
    if (!count_ok) {
        report_at(src, "invalid count '%.*s': expected an integer from 1 to 2^53",
                  (int)(count_len > 40 ? 40 : count_len), count_text);
        return 1;
    }
    reserve_array(&t->arena, &t->arena_cap, t->arena_len + piece_len, 1);
    size_t bytes_len;
    if (bp_piece_unescape(piece, piece_len, t->arena + t->arena_len, &bytes_len, NULL) != BP_OK) {
        report_at(src, "malformed escape in piece '%.*s' (\\\\, \\n, \\t, \\r, \\xHH)",
                  (int)(piece_len > 60 ? 60 : piece_len), piece);
        return 1;
    }
    if (bytes_len == 0) {
        report_at(src, "empty piece");
        return 1;
    }
    if (t->n + 1 >= t->cap) {
        size_t cap = t->cap;
        reserve_array(&t->off, &cap, t->n + 2, sizeof *t->off);
        cap = t->cap;
        reserve_array(&t->count, &cap, t->n + 2, sizeof *t->count);
        cap = t->cap;
        reserve_array(&t->line, &t->cap, t->n + 2, sizeof *t->line);
        if (t->n == 0)
            t->off[0] = 0;
    }
    t->arena_len += bytes_len;
    t->count[t->n] = count;
    t->line[t->n] = src->line_no;
    t->off[++t->n] = t->arena_len;
    return 0;
}

/* Reads the table from `path` ("-": standard input). @return 0, or 1 after a message. */
static int read_table(const char *path, table *t)
{
    bool is_stdin = strcmp(path, "-") == 0;
    text_source src = {.name = operand_name(path), .line_no = 0};
    FILE *fp = is_stdin ? stdin : fopen(path, "rb");
    if (!fp) {
        report("%s: %s", src.name, strerror(errno));
        return 1;
    }
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t len;
    int rc = 0;
    errno = 0;
    while (rc == 0 && (len = getline(&line, &line_cap, fp)) >= 0) {
        src.line_no++;
        size_t n = (size_t)len;
        if (n > 0 && line[n - 1] == '\n')
            n--;
        if (n > 0 && line[n - 1] == '\r') /* the last field is a number: a CR is no piece's */
            n--;
        if (n > 0)
            rc = parse_line(t, &src, line, n);
        errno = 0;
    }
    if (rc == 0 && ferror(fp)) {
        report("%s: %s", src.name, strerror(errno ? errno : EIO));
        rc = 1;
    }
    free(line);
    if (!is_stdin)
        fclose(fp);
    return rc;
}

int run_import(int argc, char **argv)
{
    import_args args;
    enum parse_result parsed = parse_import_args(argc, argv, &args);
    if (parsed != PARSE_RUN)
        return parsed == PARSE_HELP ? print_text(import_help) : 2;
    if (strcmp(args.input, "-") == 0 && isatty(STDIN_FILENO))
        return usage_error("no PIECES given, and standard input is a terminal");

    table t = {0};
    int rc = read_table(args.input, &t);
    bp_piece *pieces = NULL;
    if (rc == 0) {
        pieces = grow_or_die(NULL, t.n ? t.n : 1, sizeof *pieces);
        for (size_t i = 0; i < t.n; i++)
            pieces[i] = (bp_piece){t.arena + t.off[i], t.off[i + 1] - t.off[i], t.count[i]};
    }
    bp_model *model = NULL;
    bp_error err;
    bp_status st = BP_OK;
    if (rc == 0)
        st = bp_model_from_counts(pieces, t.n, args.threads, &model, &err);
    if (rc == 0 && st != BP_OK) {
        text_source src = {.name = operand_name(args.input)};
        if (st == BP_ERR_DUP_PIECE && err.offset < t.n) {
            src.line_no = t.line[err.offset];
            report_at(&src, "the piece of this line is listed twice");
        } else if ((st == BP_ERR_BAD_COUNT || st == BP_ERR_BAD_ENTRY) && err.offset < t.n) {
            src.line_no = t.line[err.offset];
            report_at(&src, "%s", err.message);
        } else {
            report("%s", err.message);
        }
        rc = 1;
    }
    if (rc == 0)
        rc = exit_status(args.native ? bp_model_save_native(model, args.output, &err)
                                     : bp_model_save(model, args.output, &err),
                         &err);
    bp_model_free(model);
    free(pieces);
    free(t.arena);
    free(t.off);
    free(t.count);
    free(t.line);
    return rc;
}
