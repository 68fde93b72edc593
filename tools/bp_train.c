/*
 * bp_train.c -- `bp train`: trains a model on plain-text or JSONL files (zstd or not, or
 * standard input) with the library's trainer and writes it in the reference JSON format.
 * The command only wires things together: bp_text_input reads the inputs, bp_trainer_*
 * trains, bp_model_save writes atomically. What it adds is failing early -- option values,
 * the output directories and every input file are checked before any text is read, so a
 * long training never ends on a typo -- and telling the user how it goes: progress on
 * stderr when it is a terminal, a one-line summary at the end.
 * Exit status: 0 success, 1 failure on data or I/O, 2 usage error.
 */
#define _GNU_SOURCE /* getopt_long, which also lets options follow file operands */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bp_report.h"

static const char train_help[] =
    "Usage: bp train [OPTION]... [FILE]...\n"
    "Train a BytePiece model on the text of the FILEs with the algorithm of the\n"
    "reference BytePiece trainer: the same texts and options give the same model,\n"
    "byte for byte. Each plain FILE is one text, read as bytes (no newline\n"
    "translation); with --jsonl, each line of a FILE is a JSON object whose string\n"
    "member holds one text. FILEs may be zstd-compressed (recognised by content).\n"
    "With no FILE, or when FILE is -, read standard input. Training text must be\n"
    "UTF-8; it is put in NFC first.\n"
    "\n"
    "  -o, --output MODEL         where to write the model (default bytepiece.model);\n"
    "                             with several sizes, MODEL.SIZE for each SIZE\n"
    "      --vocab-size N[,N...]  vocabulary sizes, counting the 3 special ids, each\n"
    "                             at least 259 (default 10000); a model may come out\n"
    "                             a few ids smaller, as pieces that would never be\n"
    "                             chosen are pruned\n"
    "      --order N              n-gram order of the segmentation model, 1 to 7\n"
    "                             (default 6)\n"
    "      --min-count N          least count of a kept n-gram and piece (default 2)\n"
    "      --max-piece-length N   longest piece, in bytes (default 36)\n"
    "      --isolate-digits       make every Unicode decimal digit a piece of its own\n"
    "      --no-ensure-unicode    let pieces start inside a UTF-8 character\n"
    "      --threads N            threads to use; 0, the default, means one per core.\n"
    "                             The model does not depend on it\n"
    "      --jsonl                read JSON Lines instead of plain text\n"
    "      --field NAME           the member holding the text (default text)\n"
    "      --skip-bad-lines       skip and count lines that are not valid UTF-8, and\n"
    "                             JSONL lines that are no record with the field,\n"
    "                             instead of stopping at the first (each line is\n"
    "                             then held in memory until it ends)\n"
    "      --temp-dir DIR         where to keep the normalized corpus while training\n"
    "                             (default $TMPDIR, else /tmp)\n"
    "      --memory-limit SIZE    keep the n-gram and piece counting tables within\n"
    "                             half of SIZE (256M, 2G: K, M, G, T are powers of\n"
    "                             1024; at least 1M) by spilling sorted runs to\n"
    "                             --temp-dir; the same model. Peak memory stays under\n"
    "                             SIZE plus the n-grams and pieces that reach\n"
    "                             --min-count and about 40 MB of buffers\n"
    "      --from-counts PIECES   no FILE: train from the merged piece counts of a\n"
    "                             sharded training (bp count, bp merge, bp segment),\n"
    "                             with the options they were made with\n"
    "      --report FILE          also write the page of bp report for the models\n"
    "                             trained, measured on the --heldout texts, or else on\n"
    "                             the training FILEs (plain text only; the page says so)\n"
    "      --heldout TEXT         a held-out text for --report; give it once per text\n"
    "  -q, --quiet                print neither progress nor summary\n"
    "  -h, --help                 show this help and exit\n"
    "\n"
    "Progress (stage, amount done, rate, time left) goes to standard error when it\n"
    "is a terminal, and a one-line summary (time per stage, peak memory, the size of\n"
    "each model, lines skipped) ends the run, with a line more for each model that\n"
    "came out under 90% of the size asked for, saying why. The model is written in\n"
    "the reference JSON format, to a temporary file renamed into place; missing\n"
    "directories are not created.\n";

static const char count_help[] =
    "Usage: bp count -o COUNTS [OPTION]... [FILE]...\n"
    "Pass 1 of a training split between machines: count every n-gram of the texts of\n"
    "the FILEs, read exactly as bp train reads them, into the count file COUNTS. Sum\n"
    "the files of all shards with bp merge, then run bp segment on each shard.\n"
    "No n-gram is dropped here (--min-count applies to the sum), so COUNTS grows with\n"
    "the distinct n-grams of the shard.\n"
    "\n"
    "  -o, --output COUNTS        the count file to write (required)\n"
    "      --order, --min-count, --max-piece-length, --isolate-digits,\n"
    "      --no-ensure-unicode    as for bp train: recorded in COUNTS, and every later\n"
    "                             stage uses them; files of different options never mix\n"
    "      --threads, --jsonl, --field, --skip-bad-lines, --temp-dir, --memory-limit,\n"
    "      -q, -h                 as for bp train (the same COUNTS with any limit)\n"
    "\n"
    "The file is written to a temporary file renamed into place (docs/count-format.md).\n"
    "Exit status: 0 success, 1 failure, 2 usage error.\n";

static const char segment_help[] =
    "Usage: bp segment -n NGRAMS -o PIECES [OPTION]... [FILE]...\n"
    "Pass 2 of a training split between machines: segment the texts of the FILEs with\n"
    "the n-gram model of NGRAMS, the merged counts of every shard (bp count, bp merge),\n"
    "and write the count of each piece to PIECES. The training options are those of\n"
    "NGRAMS. Sum the piece counts of all shards with bp merge, then run\n"
    "bp train --from-counts.\n"
    "\n"
    "  -n, --ngrams NGRAMS        the merged n-gram counts (required)\n"
    "  -o, --output PIECES        the count file to write (required)\n"
    "      --threads, --jsonl, --field, --skip-bad-lines, --temp-dir, --memory-limit,\n"
    "      -q, -h                 as for bp train (the piece counts spill; the n-gram\n"
    "                             model of NGRAMS stays in memory)\n"
    "\n"
    "Exit status: 0 success, 1 failure, 2 usage error.\n";

enum {
    MIN_VOCAB_SIZE = 259,       /* the 256 bytes and the 3 special ids */
    MAX_VOCAB_SIZE = 2147483647, /* what a model can hold */
    MAX_ORDER = 7,
    MAX_THREADS = 1024,
};

/* The commands that read texts with the trainer: they share options, checks and reading. */
enum stage {
    STAGE_TRAIN,   /* bp train */
    STAGE_COUNT,   /* bp count: pass 1 of a shard */
    STAGE_SEGMENT, /* bp segment: pass 2 of a shard */
};

typedef struct train_args {
    enum stage stage;
    const char *output;
    size_t *sizes;
    size_t n_sizes, sizes_cap;
    bp_train_options opts;
    bool jsonl;
    const char *field;
    bool quiet;
    const char *from_counts;  /* bp train --from-counts */
    const char *ngram_counts; /* bp segment -n */
    const char *text_option;  /* the last option given that only training on texts takes */
    const char *report;   /* --report FILE, or NULL */
    const char **heldout; /* --heldout TEXTs */
    size_t n_heldout, heldout_cap;
} train_args;

/*====== Options ======*/

enum {
    OPT_VOCAB_SIZE = 256,
    OPT_ORDER,
    OPT_MIN_COUNT,
    OPT_MAX_PIECE_LENGTH,
    OPT_ISOLATE_DIGITS,
    OPT_NO_ENSURE_UNICODE,
    OPT_THREADS,
    OPT_JSONL,
    OPT_FIELD,
    OPT_SKIP_BAD_LINES,
    OPT_TEMP_DIR,
    OPT_FROM_COUNTS,
    OPT_REPORT,
    OPT_HELDOUT,
    OPT_MEMORY_LIMIT,
};

static const struct option train_options[] = {
    {"output", required_argument, NULL, 'o'},
    {"vocab-size", required_argument, NULL, OPT_VOCAB_SIZE},
    {"order", required_argument, NULL, OPT_ORDER},
    {"min-count", required_argument, NULL, OPT_MIN_COUNT},
    {"max-piece-length", required_argument, NULL, OPT_MAX_PIECE_LENGTH},
    {"isolate-digits", no_argument, NULL, OPT_ISOLATE_DIGITS},
    {"no-ensure-unicode", no_argument, NULL, OPT_NO_ENSURE_UNICODE},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"jsonl", no_argument, NULL, OPT_JSONL},
    {"field", required_argument, NULL, OPT_FIELD},
    {"skip-bad-lines", no_argument, NULL, OPT_SKIP_BAD_LINES},
    {"temp-dir", required_argument, NULL, OPT_TEMP_DIR},
    {"from-counts", required_argument, NULL, OPT_FROM_COUNTS},
    {"report", required_argument, NULL, OPT_REPORT},
    {"heldout", required_argument, NULL, OPT_HELDOUT},
    {"memory-limit", required_argument, NULL, OPT_MEMORY_LIMIT},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* bp count: those of bp train that shape the counts or read the texts. */
static const struct option count_options[] = {
    {"output", required_argument, NULL, 'o'},
    {"order", required_argument, NULL, OPT_ORDER},
    {"min-count", required_argument, NULL, OPT_MIN_COUNT},
    {"max-piece-length", required_argument, NULL, OPT_MAX_PIECE_LENGTH},
    {"isolate-digits", no_argument, NULL, OPT_ISOLATE_DIGITS},
    {"no-ensure-unicode", no_argument, NULL, OPT_NO_ENSURE_UNICODE},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"jsonl", no_argument, NULL, OPT_JSONL},
    {"field", required_argument, NULL, OPT_FIELD},
    {"skip-bad-lines", no_argument, NULL, OPT_SKIP_BAD_LINES},
    {"temp-dir", required_argument, NULL, OPT_TEMP_DIR},
    {"memory-limit", required_argument, NULL, OPT_MEMORY_LIMIT},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* bp segment: the training options come from the n-gram counts. */
static const struct option segment_options[] = {
    {"output", required_argument, NULL, 'o'},
    {"ngrams", required_argument, NULL, 'n'},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"jsonl", no_argument, NULL, OPT_JSONL},
    {"field", required_argument, NULL, OPT_FIELD},
    {"skip-bad-lines", no_argument, NULL, OPT_SKIP_BAD_LINES},
    {"temp-dir", required_argument, NULL, OPT_TEMP_DIR},
    {"memory-limit", required_argument, NULL, OPT_MEMORY_LIMIT},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* A decimal integer in [low, high], or a usage error naming what was expected. */
static enum parse_result parse_range(const char *option, const char *value, uint64_t low,
                                     uint64_t high, const char *expected, uint64_t *out)
{
    if (!parse_u64(value, out) || *out < low || *out > high)
        return bad_option_value(option, value, expected);
    return PARSE_RUN;
}

/* "N[,N...]": sizes are kept in the order given, each once. */
static enum parse_result parse_sizes(const char *value, train_args *args)
{
    static const char expected[] = "sizes from 259 to 2147483647, separated by commas";
    args->n_sizes = 0;
    const char *p = value;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char word[32];
        uint64_t size;
        if (len == 0 || len >= sizeof word)
            return bad_option_value("--vocab-size", value, expected);
        memcpy(word, p, len);
        word[len] = '\0';
        if (parse_range("--vocab-size", word, MIN_VOCAB_SIZE, MAX_VOCAB_SIZE, expected, &size) !=
            PARSE_RUN)
            return PARSE_USAGE;
        bool seen = false;
        for (size_t i = 0; i < args->n_sizes; i++)
            seen |= args->sizes[i] == size;
        if (!seen) {
            reserve_array(&args->sizes, &args->sizes_cap, args->n_sizes + 1,
                          sizeof *args->sizes);
            args->sizes[args->n_sizes++] = (size_t)size;
        }
        if (!comma)
            return PARSE_RUN;
        p = comma + 1;
    }
}

/* Handles one option of `bp train`. */
static enum parse_result apply_train_option(int opt, const char *value, train_args *args)
{
    bp_train_options *o = &args->opts;
    uint64_t n = 0;
    enum parse_result result = PARSE_RUN;
    static const char *const text_options[] = {
        [OPT_ORDER - OPT_VOCAB_SIZE] = "--order",
        [OPT_MIN_COUNT - OPT_VOCAB_SIZE] = "--min-count",
        [OPT_MAX_PIECE_LENGTH - OPT_VOCAB_SIZE] = "--max-piece-length",
        [OPT_ISOLATE_DIGITS - OPT_VOCAB_SIZE] = "--isolate-digits",
        [OPT_NO_ENSURE_UNICODE - OPT_VOCAB_SIZE] = "--no-ensure-unicode",
        [OPT_JSONL - OPT_VOCAB_SIZE] = "--jsonl",
        [OPT_FIELD - OPT_VOCAB_SIZE] = "--field",
        [OPT_SKIP_BAD_LINES - OPT_VOCAB_SIZE] = "--skip-bad-lines",
        [OPT_TEMP_DIR - OPT_VOCAB_SIZE] = "--temp-dir",
    };
    if (opt >= OPT_VOCAB_SIZE && opt <= OPT_TEMP_DIR && text_options[opt - OPT_VOCAB_SIZE])
        args->text_option = text_options[opt - OPT_VOCAB_SIZE];
    switch (opt) {
    case 'o':
        args->output = value;
        break;
    case OPT_VOCAB_SIZE:
        result = parse_sizes(value, args);
        break;
    case OPT_ORDER:
        result = parse_range("--order", value, 1, MAX_ORDER, "an n-gram order from 1 to 7", &n);
        o->order = (unsigned)n;
        break;
    case OPT_MIN_COUNT:
        result = parse_range("--min-count", value, 1, UINT64_MAX, "a count of at least 1", &n);
        o->min_count = n;
        break;
    case OPT_MAX_PIECE_LENGTH:
        result = parse_range("--max-piece-length", value, 1, SIZE_MAX,
                             "a length of at least 1", &n);
        o->max_piece_length = (size_t)n;
        break;
    case OPT_ISOLATE_DIGITS:
        o->isolate_digits = 1;
        break;
    case OPT_NO_ENSURE_UNICODE:
        o->no_ensure_unicode = 1;
        break;
    case OPT_THREADS:
        result = parse_range("--threads", value, 0, MAX_THREADS,
                             "a number of threads from 0 (one per core) to 1024", &n);
        o->threads = (unsigned)n;
        break;
    case OPT_JSONL:
        args->jsonl = true;
        break;
    case OPT_FIELD:
        args->field = value;
        break;
    case OPT_SKIP_BAD_LINES:
        o->skip_bad_lines = 1;
        break;
    case OPT_TEMP_DIR:
        o->temp_dir = value;
        break;
    case OPT_FROM_COUNTS:
        args->from_counts = value;
        break;
    case OPT_MEMORY_LIMIT:
        result = parse_memory_limit(value, &o->memory_limit);
        break;
    case 'n':
        args->ngram_counts = value;
        break;
    case OPT_REPORT:
        args->report = value;
        break;
    case OPT_HELDOUT:
        reserve_array(&args->heldout, &args->heldout_cap, args->n_heldout + 1,
                      sizeof *args->heldout);
        args->heldout[args->n_heldout++] = value;
        break;
    case 'q':
        args->quiet = true;
        break;
    case 'h':
        result = PARSE_HELP;
        break;
    default: /* getopt_long has printed what is wrong */
        usage_hint();
        result = PARSE_USAGE;
    }
    return result;
}

/* The options of each command, and the short ones. */
static const struct option *const stage_options[] = {train_options, count_options,
                                                    segment_options};
static const char *const stage_short_options[] = {"o:qh", "o:qh", "o:n:qh"};

/* What a command needs beyond its options' values. @return PARSE_RUN, or PARSE_USAGE
 * after a message. */
static enum parse_result check_combination(int argc, const train_args *args)
{
    char what[128];
    if (args->from_counts && (args->text_option || optind < argc)) {
        snprintf(what, sizeof what, "--from-counts takes no %s: %s",
                 optind < argc ? "FILE" : args->text_option,
                 optind < argc ? "it reads no text" : "the counts fix the options");
        return usage_error(what), PARSE_USAGE;
    }
    if (args->stage != STAGE_TRAIN && !args->output)
        return usage_error("-o OUTPUT is required"), PARSE_USAGE;
    if (args->stage == STAGE_SEGMENT && !args->ngram_counts)
        return usage_error("-n NGRAMS (the merged n-gram counts) is required"), PARSE_USAGE;
    if (args->field && !args->jsonl)
        return usage_error("--field needs --jsonl"), PARSE_USAGE;
    if (args->n_heldout > 0 && !args->report)
        return usage_error("--heldout needs --report"), PARSE_USAGE;
    if (args->report && args->from_counts)
        return usage_error("--report does not go with --from-counts: run bp report on the models"),
               PARSE_USAGE;
    if (args->report && args->n_heldout == 0 && (args->jsonl || optind == argc))
        return usage_error("--report measures on plain training files only: give --heldout TEXT"),
               PARSE_USAGE;
    if (!args->from_counts && optind == argc && isatty(STDIN_FILENO))
        return usage_error("no FILE given, and standard input is a terminal"), PARSE_USAGE;
    return PARSE_RUN;
}

static enum parse_result parse_train_args(int argc, char **argv, enum stage stage,
                                          train_args *args)
{
    *args = (train_args){.stage = stage, .output = stage == STAGE_TRAIN ? "bytepiece.model" : NULL};
    bp_train_options_init(&args->opts);
    enum parse_result result = parse_sizes("10000", args);
    int opt;
    while (result == PARSE_RUN && (opt = getopt_long(argc, argv, stage_short_options[stage],
                                                     stage_options[stage], NULL)) != -1)
        result = apply_train_option(opt, optarg, args);
    return result == PARSE_RUN ? check_combination(argc, args) : result;
}

/*====== Checks before training ======*/

/* The model file for the i-th size: MODEL, or MODEL.SIZE when there are several sizes. */
static char *model_path(const train_args *args, size_t i)
{
    size_t len = strlen(args->output) + 32;
    char *path = grow_or_die(NULL, len, 1);
    if (args->n_sizes > 1)
        snprintf(path, len, "%s.%zu", args->output, args->sizes[i]);
    else
        snprintf(path, len, "%s", args->output);
    return path;
}

/* Whether a file can be created at `path`: its directory (or, for a link, that of the
 * file it leads to) exists and is writable, or it is a writable device or FIFO; the path
 * is not a directory, and it is none of the input files (the model would replace the
 * corpus). The model is still written atomically at the end; this only spares a long
 * training that could not be saved. @return 0, or 1 after a message. */
static int check_output(const char *path, char **files, int n_files)
{
    struct stat sb;
    bool exists = stat(path, &sb) == 0;
    if (exists && S_ISDIR(sb.st_mode)) {
        report("cannot create %s: %s", path, strerror(EISDIR));
        return 1;
    }
    for (int i = 0; i < n_files && exists; i++) {
        struct stat in;
        if (strcmp(files[i], "-") != 0 && stat(files[i], &in) == 0 && in.st_dev == sb.st_dev &&
            in.st_ino == sb.st_ino) {
            report("%s is also an input: the model would replace it (choose another -o)", path);
            return 1;
        }
    }
    if (exists && (S_ISCHR(sb.st_mode) || S_ISFIFO(sb.st_mode))) { /* written into, in place */
        if (access(path, W_OK) == 0)
            return 0;
        report("cannot write %s: %s", path, strerror(errno));
        return 1;
    }
    /* A link is written through: the new file goes beside the file it leads to. */
    char *real = exists ? realpath(path, NULL) : NULL;
    const char *target = real ? real : path;
    const char *slash = strrchr(target, '/');
    char *dir = slash == target ? strdup("/")
                : slash        ? strndup(target, (size_t)(slash - target))
                               : strdup(".");
    free(real);
    if (!dir) {
        report("out of memory");
        return 1;
    }
    int rc = 0;
    if (access(dir, W_OK | X_OK) != 0) {
        report("cannot create %s: %s", path, strerror(errno));
        rc = 1;
    }
    free(dir);
    return rc;
}

static bp_input_format input_format(const train_args *args)
{
    return args->jsonl ? BP_INPUT_JSONL : BP_INPUT_PLAIN;
}

static unsigned input_flags(const train_args *args)
{
    return args->opts.skip_bad_lines ? BP_INPUT_SKIP_BAD_LINES : 0;
}

/* Opens (and closes) every input file, so that a missing one stops the run at once.
 * Standard input and pipes (such as <(zcat ...)) are left alone: opening one reads its
 * first bytes, which would then be lost. @return 0, or 1 after a message. */
static int check_inputs(const train_args *args, char **files, int n_files)
{
    for (int i = 0; i < n_files; i++) {
        struct stat sb;
        if (strcmp(files[i], "-") == 0 ||
            (stat(files[i], &sb) == 0 && !S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode)))
            continue;
        bp_text_input *in;
        bp_error err;
        if (bp_text_input_open(files[i], input_format(args), args->field, input_flags(args),
                               &in, &err) != BP_OK) {
            report("%s", err.message);
            return 1;
        }
        bp_text_input_close(in);
    }
    return 0;
}

/* The page of --report can be written, and its texts read: checked before training, as
 * the models are. @return 0, 1 after a message, or 2 after a usage error. */
static int check_report(const train_args *args, char **files, int n_files)
{
    for (int i = 0; i < n_files && args->n_heldout == 0; i++)
        if (strcmp(files[i], "-") == 0)
            return usage_error("--report cannot measure on standard input: give --heldout TEXT");
    if (check_output(args->report, files, n_files) != 0)
        return 1;
    for (size_t i = 0; i < args->n_heldout; i++) {
        bp_text_input *in;
        bp_error err;
        if (bp_text_input_open(args->heldout[i], BP_INPUT_PLAIN, NULL, 0, &in, &err) != BP_OK)
            return exit_status(err.code, &err);
        bp_text_input_close(in);
    }
    return 0;
}

/*====== Progress ======*/

typedef struct progress {
    bool shown;           /* on a terminal, and not --quiet */
    progress_line line;
    const char *file;     /* reading: the current input, and which of how many */
    int file_index, n_files;
    uint64_t bytes_read;  /* reading: bytes of text read from every input so far */
} progress;

/* Clears the progress line, so that a message or the summary starts on a clean line. */
static void end_progress(progress *p)
{
    progress_clear(&p->line);
}

/* The trainer's callback. Reading is shown by read_piece, which knows the files. */
static void on_train_progress(void *ctx, const bp_train_progress *tp)
{
    progress *p = ctx;
    if (strcmp(tp->stage, "reading") != 0)
        progress_show(&p->line, tp->stage, tp->done, tp->total,
                      strcmp(tp->stage, "pruning") == 0 ? "pieces" : NULL, NULL);
}

/*====== Reading and training ======*/

/* What bp_trainer_add_texts reads from: one input, and whether a failure was its own. */
typedef struct reader {
    bp_text_input *in;
    progress *progress;
    bool failed;
} reader;

static bp_status read_piece(void *ctx, const unsigned char **data, size_t *len,
                            int *end_of_text, bp_error *err)
{
    reader *r = ctx;
    bp_status st = bp_text_input_next(r->in, data, len, end_of_text, err);
    r->failed = st != BP_OK;
    r->progress->bytes_read += *len;
    progress *p = r->progress;
    if (p->shown) {
        char file[96];
        snprintf(file, sizeof file, "%.60s (%d/%d)", p->file, p->file_index + 1, p->n_files);
        progress_show(&p->line, "reading", p->bytes_read, 0, NULL, file);
    }
    return st;
}

/* Feeds one input to the trainer. @return 0, or 1 after a message. */
static int feed_input(bp_trainer *t, const train_args *args, const char *path,
                      progress *p, uint64_t *skipped)
{
    reader r = {.progress = p};
    bp_error err;
    if (bp_text_input_open(path, input_format(args), args->field, input_flags(args), &r.in,
                           &err) != BP_OK) {
        end_progress(p);
        report("%s", err.message);
        return 1;
    }
    p->file = operand_name(path);
    bp_status st = bp_trainer_add_texts(t, read_piece, &r, &err);
    *skipped += bp_text_input_skipped(r.in);
    bp_text_input_close(r.in);
    if (st == BP_OK)
        return 0;
    end_progress(p);
    /* The input's messages name the file (and the line); the trainer knows no names. */
    const char *hint = st == BP_ERR_BAD_UTF8 || st == BP_ERR_BAD_RECORD
                           ? " (--skip-bad-lines skips such lines)" : "";
    if (!r.failed && st == BP_ERR_BAD_UTF8)
        report("%s: %s%s", p->file, err.message, hint);
    else
        report("%s%s", err.message, hint);
    return 1;
}

/* Writes the model of each size. @return 0, or 1 after a message. */
static int save_models(const train_args *args, bp_model *const *models)
{
    int rc = 0;
    for (size_t i = 0; i < args->n_sizes && rc == 0; i++) {
        char *path = model_path(args, i);
        bp_error err;
        if (bp_model_save(models[i], path, &err) != BP_OK) {
            report("%s", err.message);
            rc = 1;
        }
        free(path);
    }
    return rc;
}

/* Writes the page of bp report for the models trained, on the held-out texts or else on
 * the training files. @return 0, or 1 after a message. */
static int report_models(const train_args *args, bp_model *const *models, char **files,
                         int n_files)
{
    const char **paths = grow_or_die(NULL, args->n_sizes, sizeof *paths);
    for (size_t i = 0; i < args->n_sizes; i++)
        paths[i] = model_path(args, i);
    bool heldout = args->n_heldout > 0;
    int rc = write_report(args->report, false, models, paths, args->n_sizes,
                          heldout ? args->heldout : (const char *const *)files,
                          heldout ? args->n_heldout : (size_t)n_files,
                          heldout ? NULL
                                  : "Measured on the training text (bp train got no "
                                    "--heldout): a model compresses the text it was trained "
                                    "on better than new text.");
    for (size_t i = 0; i < args->n_sizes; i++)
        free((char *)paths[i]);
    free(paths);
    return rc;
}

/* A model under 90% of the size asked for is not what the user expected (the wasted-piece
 * pruning alone takes a fraction of a percent: 79,899 ids of 80,000 for the reference
 * model): says so, and why, on a line of its own. */
static void explain_small_model(const train_args *args, const bp_train_stats *s, size_t i,
                                size_t got)
{
    size_t asked = args->sizes[i];
    if (got >= asked - asked / 10)
        return;
    char *path = model_path(args, i);
    fprintf(stderr,
            "%s: %s: %zu ids of the %zu asked for: the corpus segments into %" PRIu64
            " distinct piece%s, and a piece is kept only if it occurs at least %" PRIu64
            " times (--min-count), has at most %zu bytes (--max-piece-length) and is not "
            "better split into other pieces (the 256 single bytes are always kept); a larger "
            "or more varied corpus gives more\n",
            program_name, path, got, asked, s->distinct_pieces,
            s->distinct_pieces == 1 ? "" : "s", args->opts.min_count,
            args->opts.max_piece_length);
    free(path);
}

/* "PEAK" of the summaries: the peak resident memory of the process. */
static const char *peak_memory(char *buf, size_t size)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return human_bytes(buf, size, (double)ru.ru_maxrss * 1024); /* kB on Linux */
}

/* The end of a training's summary: each model and its size, then the small ones' reasons. */
static void print_models(const train_args *args, const bp_train_stats *s, uint64_t skipped,
                         bp_model *const *models)
{
    for (size_t i = 0; i < args->n_sizes; i++) {
        char *path = model_path(args, i);
        fprintf(stderr, "%s %s: %zu ids", i == 0 ? ";" : ",", path,
                bp_model_vocab_size(models[i]));
        free(path);
    }
    if (skipped > 0)
        fprintf(stderr, "; skipped %" PRIu64 " bad line%s", skipped, skipped == 1 ? "" : "s");
    fputc('\n', stderr);
    for (size_t i = 0; i < args->n_sizes; i++)
        explain_small_model(args, s, i, bp_model_vocab_size(models[i]));
}

/* What a memory limit made the run write to temporary files, if anything. */
static void print_spilled(const bp_train_stats *s)
{
    char bytes[32];
    if (s->spilled_runs > 0)
        fprintf(stderr, "; spilled %s in %" PRIu64 " run%s",
                human_bytes(bytes, sizeof bytes, (double)s->spilled_bytes), s->spilled_runs,
                s->spilled_runs == 1 ? "" : "s");
}

static void print_summary(const train_args *args, const bp_train_stats *s, uint64_t skipped,
                          int n_files, bp_model *const *models)
{
    char bytes[32], peak[32];
    fprintf(stderr, "%s: %s in %d input%s, %" PRIu64 " chunks; ", program_name,
            human_bytes(bytes, sizeof bytes, (double)s->bytes), n_files, n_files == 1 ? "" : "s",
            s->chunks);
    switch (args->stage) {
    case STAGE_TRAIN:
        fprintf(stderr,
                "reading %.2f s, counting %.2f s, segmenting %.2f s, pruning %.2f s; peak memory %s",
                s->seconds_reading, s->seconds_counting, s->seconds_segmenting,
                s->seconds_pruning, peak_memory(peak, sizeof peak));
        print_spilled(s);
        print_models(args, s, skipped, models);
        return;
    case STAGE_COUNT:
        fprintf(stderr, "reading %.2f s, counting %.2f s; peak memory %s; %s: %" PRIu64 " n-grams",
                s->seconds_reading, s->seconds_counting, peak_memory(peak, sizeof peak),
                args->output, s->ngrams);
        print_spilled(s);
        break;
    case STAGE_SEGMENT:
        fprintf(stderr,
                "reading %.2f s, loading n-grams %.2f s, segmenting %.2f s; peak memory %s; "
                "%s: %" PRIu64 " distinct pieces",
                s->seconds_reading, s->seconds_counting, s->seconds_segmenting,
                peak_memory(peak, sizeof peak), args->output, s->distinct_pieces);
        print_spilled(s);
        break;
    }
    if (skipped > 0)
        fprintf(stderr, "; skipped %" PRIu64 " bad line%s", skipped, skipped == 1 ? "" : "s");
    fputc('\n', stderr);
}

/* The stage's work once every input is fed. */
static bp_status finish_stage(const train_args *args, bp_trainer *t, bp_model **models,
                              bp_error *err)
{
    switch (args->stage) {
    case STAGE_COUNT:
        return bp_trainer_save_ngram_counts(t, args->output, err);
    case STAGE_SEGMENT:
        return bp_trainer_save_piece_counts(t, args->ngram_counts, args->output, err);
    default:
        return bp_trainer_train(t, args->sizes, args->n_sizes, models, err);
    }
}

/* Reads every input with the trainer and runs the stage. @return the exit status. */
static int train(const train_args *args, char **files, int n_files)
{
    progress p = {.shown = !args->quiet && isatty(STDERR_FILENO), .n_files = n_files};
    bp_train_options opts = args->opts;
    if (p.shown) {
        opts.progress = on_train_progress;
        opts.progress_ctx = &p;
    }
    bp_trainer *t = NULL;
    bp_error err;
    if (bp_trainer_create(&opts, &t, &err) != BP_OK) {
        report("%s", err.message);
        return 1;
    }
    uint64_t skipped = 0;
    int rc = 0;
    for (int i = 0; i < n_files && rc == 0; i++) {
        p.file_index = i;
        rc = feed_input(t, args, files[i], &p, &skipped);
    }
    bp_model **models = grow_or_die(NULL, args->n_sizes, sizeof *models);
    for (size_t i = 0; i < args->n_sizes; i++)
        models[i] = NULL;
    if (rc == 0 && finish_stage(args, t, models, &err) != BP_OK) {
        end_progress(&p);
        report("%s", err.message);
        rc = 1;
    }
    end_progress(&p);
    if (rc == 0 && args->stage == STAGE_TRAIN)
        rc = save_models(args, models);
    if (rc == 0 && args->report)
        rc = report_models(args, models, files, n_files);
    if (rc == 0 && !args->quiet) {
        bp_train_stats stats;
        bp_trainer_stats(t, &stats);
        print_summary(args, &stats, skipped + stats.skipped_lines, n_files, models);
    }
    for (size_t i = 0; i < args->n_sizes; i++)
        bp_model_free(models[i]);
    free(models);
    bp_trainer_free(t);
    return rc;
}

/* bp train --from-counts. @return the exit status. */
static int train_from_counts(const train_args *args)
{
    bp_model **models = grow_or_die(NULL, args->n_sizes, sizeof *models);
    for (size_t i = 0; i < args->n_sizes; i++)
        models[i] = NULL;
    progress p = {.shown = !args->quiet && isatty(STDERR_FILENO)};
    bp_train_options opts = args->opts;
    if (p.shown) {
        opts.progress = on_train_progress;
        opts.progress_ctx = &p;
    }
    bp_train_stats stats;
    bp_error err;
    int rc = 0;
    if (bp_train_from_counts(args->from_counts, &opts, args->sizes, args->n_sizes, models,
                             &stats, &err) != BP_OK) {
        end_progress(&p);
        report("%s", err.message);
        rc = 1;
    }
    end_progress(&p);
    if (rc == 0)
        rc = save_models(args, models);
    if (rc == 0 && !args->quiet) {
        char bytes[32], peak[32];
        fprintf(stderr,
                "%s: piece counts of %s of text, %" PRIu64 " chunks, %" PRIu64
                " distinct pieces; pruning %.2f s; peak memory %s",
                program_name, human_bytes(bytes, sizeof bytes, (double)stats.bytes), stats.chunks,
                stats.distinct_pieces, stats.seconds_pruning, peak_memory(peak, sizeof peak));
        print_models(args, &stats, 0, models);
    }
    for (size_t i = 0; i < args->n_sizes; i++)
        bp_model_free(models[i]);
    free(models);
    return rc;
}

/* Sets the options of bp segment from its n-gram counts. @return 0, or 1 after a message. */
static int take_count_options(train_args *args)
{
    bp_counts_info info;
    bp_error err;
    if (bp_counts_read_info(args->ngram_counts, &info, &err) != BP_OK) {
        report("%s", err.message);
        return 1;
    }
    args->opts.order = info.options.order;
    args->opts.min_count = info.options.min_count;
    args->opts.max_piece_length = info.options.max_piece_length;
    args->opts.isolate_digits = info.options.isolate_digits;
    args->opts.no_ensure_unicode = info.options.no_ensure_unicode;
    return 0;
}

/* A command that reads texts with the trainer. @return the exit status. */
static int run_stage(int argc, char **argv, enum stage stage, const char *help)
{
    train_args args;
    enum parse_result parsed = parse_train_args(argc, argv, stage, &args);
    if (parsed != PARSE_RUN) {
        free(args.sizes);
        free(args.heldout);
        return parsed == PARSE_HELP ? print_text(help) : 2;
    }
    static char stdin_operand[] = "-";
    char *only_stdin[] = {stdin_operand};
    char **files = optind < argc ? argv + optind : only_stdin;
    int n_files = optind < argc ? argc - optind : 1;
    int rc = 0;
    size_t n_outputs = stage == STAGE_TRAIN ? args.n_sizes : 1;
    for (size_t i = 0; i < n_outputs && rc == 0; i++) {
        char *path = stage == STAGE_TRAIN ? model_path(&args, i) : strdup(args.output);
        rc = check_output(path, files, args.from_counts ? 0 : n_files);
        free(path);
    }
    if (rc == 0 && stage == STAGE_SEGMENT)
        rc = take_count_options(&args);
    if (rc == 0 && args.from_counts)
        rc = train_from_counts(&args);
    else if (rc == 0)
        rc = check_inputs(&args, files, n_files);
    if (rc == 0 && args.report)
        rc = check_report(&args, files, n_files);
    if (rc == 0 && !args.from_counts)
        rc = train(&args, files, n_files);
    free(args.sizes);
    free(args.heldout);
    return rc;
}

int run_train(int argc, char **argv)
{
    return run_stage(argc, argv, STAGE_TRAIN, train_help);
}

int run_count(int argc, char **argv)
{
    return run_stage(argc, argv, STAGE_COUNT, count_help);
}

int run_segment(int argc, char **argv)
{
    return run_stage(argc, argv, STAGE_SEGMENT, segment_help);
}
