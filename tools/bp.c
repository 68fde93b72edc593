/*
 * bp.c -- the bp command-line tool of libbytepiece.
 *
 *   bp encode -m MODEL [OPTION]... [FILE]...   text -> token ids (or escaped pieces)
 *   bp decode -m MODEL [FILE]...               token ids -> text
 *
 * The tool is thin on purpose: it parses flags, streams its inputs, calls the public API
 * (bytepiece.h, nothing else of the library) and formats the output. Every algorithm lives
 * in the library.
 *
 * Memory: in line mode (encode's default, and decode) one line is held at a time, whatever
 * its length; encode --whole holds one file, because the file is one text.
 * Output goes through one large buffer written with fwrite, never printf per token.
 * Errors: a write error (full disk) is reported and gives exit status 1; a closed pipe kills
 * the process quietly through the default SIGPIPE action, as it does `cat`.
 * Exit status: 0 success, 1 failure on data or I/O, 2 usage error.
 */
#define _GNU_SOURCE /* getopt_long, which also lets options follow file operands */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "bytepiece.h"
#include "cli.h"

/*====== Help texts ======*/

static const char main_help[] =
    "Usage: bp COMMAND [OPTION]... [FILE]...\n"
    "Tokenize text with a BytePiece model (byte-level Unigram).\n"
    "\n"
    "Commands:\n"
    "  encode     text to token ids (or pieces), one output line per input line\n"
    "  decode     token ids back to text\n"
    "  train      train a model on text files (the reference BytePiece trainer)\n"
    "  convert    convert a model between reference JSON and the fast native format\n"
    "  info       describe a model: format, sizes, piece lengths, total count\n"
    "  vocab      list a model's ids, pieces, counts and scores (TSV)\n"
    "  export     write a model for SentencePiece (spm_encode and its libraries)\n"
    "  import     make a model from a table of pieces and counts\n"
    "\n"
    "Run 'bp COMMAND --help' for the options of a command.\n"
    "\n"
    "  -h, --help     show this help and exit\n"
    "      --version  show the version and the Unicode version of the NFC tables\n"
    "\n"
    "Exit status: 0 success, 1 failure on data or I/O, 2 usage error.\n";

static const char encode_help[] =
    "Usage: bp encode -m MODEL [OPTION]... [FILE]...\n"
    "Encode text as token ids. With no FILE, or when FILE is -, read standard input.\n"
    "Each input line, with its '\\n', is one text and gives one output line: its ids\n"
    "separated by single spaces, ending in '\\n'. A last line without '\\n' is encoded\n"
    "as it is, and its output line still ends in '\\n'. Empty input gives empty\n"
    "output. Several FILEs are encoded in order into one output. Options and FILEs\n"
    "may come in any order; '--' ends the options.\n"
    "\n"
    "  -m, --model MODEL      the model: reference BytePiece JSON, plain or\n"
    "                         zstd-compressed, or native (bp convert) (required)\n"
    "      --whole            each FILE is one text and gives one output line;\n"
    "                         an empty FILE gives an empty line\n"
    "      --alpha A          sample a segmentation with probability\n"
    "                         P(seg)^A / Z (A >= 0; 0 is uniform); a negative A,\n"
    "                         the default, gives the best segmentation\n"
    "      --seed S           seed of the sampling run, 0 .. 2^64-1 (default:\n"
    "                         from the clock); text k of the run (from 0, counted\n"
    "                         across FILEs) draws from its own stream (S, k), so\n"
    "                         a seed fixes the output\n"
    "      --glibc-rand       reproduce the reference BytePiece after\n"
    "                         set_seed(S): glibc srand(S) once, then one rand()\n"
    "                         sequence across all texts; S < 2^32, default 0\n"
    "                         (which glibc treats as 1)\n"
    "      --output-format F  ids (the default), pieces (see below), u16 or u32\n"
    "                         (each id as 2 or 4 bytes, little-endian, nothing\n"
    "                         between texts but --bos/--eos; u16 only for models\n"
    "                         of at most 65536 ids), or jsonl: {\"ids\":[...]}\n"
    "                         per text, one per line\n"
    "      --offsets          with jsonl, also \"offsets\":[...]: the byte where\n"
    "                         each token starts in the normalized text\n"
    "      --input-format F   lines (the default) or jsonl: each line of a FILE\n"
    "                         is a JSON object whose string member (--field) is\n"
    "                         one text, a document (then one thread)\n"
    "      --field NAME       the member holding the text (default text)\n"
    "      --bos              start each text with <bos> (id 1)\n"
    "      --eos              end each text with <eos> (id 2)\n"
    "      --no-normalize     encode the raw bytes; by default the text is put in\n"
    "                         NFC first (invalid UTF-8 passes through as bytes)\n"
    "      --threads N        encode lines on N threads (0: one per core; default\n"
    "                         1); the output is the same for every N. Inputs under\n"
    "                         1 MB, --whole and --glibc-rand use one thread\n"
    "  -h, --help             show this help and exit\n"
    "\n"
    "With --output-format pieces, each token is printed as the bytes of its piece,\n"
    "tokens separated by single spaces. Bytes 0x21-0x7e and well-formed UTF-8\n"
    "characters from U+00A0 up stand for themselves; backslash is written \\\\,\n"
    "newline \\n, tab \\t, carriage return \\r, and every other byte (space, control\n"
    "bytes, bytes that are not part of a well-formed character) \\xHH with two\n"
    "lowercase hex digits. <bos> and <eos> stand for ids 1 and 2; a piece that\n"
    "reads <pad>, <bos> or <eos> has its '<' written \\x3c.\n"
    "\n"
    "FILEs that are zstd-compressed (recognised by content) are decompressed while\n"
    "they are read; with --input-format jsonl, standard input may be too. Inputs\n"
    "over 4 MB show their progress on standard error when it is a terminal and\n"
    "standard output is not. u16 with a model of more than 65536 ids is refused\n"
    "(exit status 1), and so is u16 or u32 output to a terminal (exit status 2).\n";

static const char decode_help[] =
    "Usage: bp decode -m MODEL [FILE]...\n"
    "Decode lines of token ids (decimal, separated by spaces or tabs; CRLF line ends\n"
    "are accepted) and write the bytes of their pieces and nothing else: no\n"
    "separator, no newline. With no FILE, or when FILE is -, read standard input.\n"
    "'bp encode -m M | bp decode -m M' gives the input back, in NFC unless it was\n"
    "encoded with --no-normalize. Ids 0, 1, 2 (<pad>, <bos>, <eos>) give no bytes;\n"
    "an id outside the vocabulary or a word that is not a number is an error.\n"
    "\n"
    "  -m, --model MODEL  the model: reference BytePiece JSON, plain or\n"
    "                     zstd-compressed (required)\n"
    "  -h, --help         show this help and exit\n";

/*====== Token formatting ======*/

enum { N_SPECIAL = 3, MAX_DECIMAL_U32 = 10 }; /* special_names, escaping: cli.h */

/* Writes `value` in decimal at p (room for MAX_DECIMAL_U32 bytes) and returns the end.
 * Below 10^8 (every id of any real model) without a branch on the value: the eight digits
 * are made two at a time from a table into one 64-bit word, whose leading zeros are
 * shifted out before it is stored whole (the bytes past the number are scratch). */
static char *format_u32(char *p, uint32_t value)
{
    static const char pairs[201] = "00010203040506070809101112131415161718192021222324"
                                   "25262728293031323334353637383940414243444546474849"
                                   "50515253545556575859606162636465666768697071727374"
                                   "75767778798081828384858687888990919293949596979899";
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (value < 100000000) {
        unsigned n = 1 + (value >= 10) + (value >= 100) + (value >= 1000) + (value >= 10000) +
                     (value >= 100000) + (value >= 1000000) + (value >= 10000000);
        uint32_t hi = value / 10000, lo = value % 10000;
        char digits[8];
        memcpy(digits, pairs + 2 * (hi / 100), 2);
        memcpy(digits + 2, pairs + 2 * (hi % 100), 2);
        memcpy(digits + 4, pairs + 2 * (lo / 100), 2);
        memcpy(digits + 6, pairs + 2 * (lo % 100), 2);
        uint64_t word;
        memcpy(&word, digits, 8);
        word >>= 8 * (8 - n); /* the first byte in memory is the lowest */
        memcpy(p, &word, 8);
        return p + n;
    }
#endif
    unsigned n = value < 10 ? 1 : value < 100 ? 2 : value < 1000 ? 3 : value < 10000 ? 4
               : value < 100000 ? 5 : value < 1000000 ? 6 : value < 10000000 ? 7
               : value < 100000000 ? 8 : value < 1000000000 ? 9 : 10;
    char *end = p + n;
    while (value >= 100) {
        unsigned i = (value % 100) * 2;
        value /= 100;
        *--end = pairs[i + 1];
        *--end = pairs[i];
    }
    if (value >= 10) {
        *--end = pairs[value * 2 + 1];
        *--end = pairs[value * 2];
    } else {
        *--end = (char)('0' + value);
    }
    return p + n;
}

static void write_u32(output *out, uint32_t value)
{
    output_reserve(out, MAX_DECIMAL_U32);
    out->len = (size_t)(format_u32(out->data + out->len, value) - out->data);
}

static void write_piece(output *out, const bp_model *model, uint32_t id)
{
    if (id < N_SPECIAL) {
        size_t len = strlen(special_names[id]);
        output_reserve(out, len);
        memcpy(out->data + out->len, special_names[id], len);
        out->len += len;
        return;
    }
    size_t len;
    const unsigned char *bytes = bp_model_piece(model, id, &len);
    output_reserve(out, MAX_ESCAPED_PER_BYTE * len);
    out->len += escape_piece(out->data + out->len, bytes, len);
}

static void write_id(output *out, const bp_model *model, uint32_t id)
{
    (void)model; /* an id needs no lookup; the signature is shared with write_piece */
    write_u32(out, id);
}

typedef void (*token_writer)(output *out, const bp_model *model, uint32_t id);

/*====== Reading inputs ======*/

/* Receives one text: a line with its '\n', or a whole file. @return 0 to go on, 1 to stop
 * (after reporting what failed, unless the failure is a write error left in the output). */
typedef int (*text_handler)(void *ctx, const text_source *src, const unsigned char *text,
                            size_t len);

/* The buffer that holds the current line or file; reused across inputs. */
typedef struct input_buffer {
    char *data;
    size_t cap;
} input_buffer;

/* A read error belongs to the file, not to the line read before it. @return 1. */
static int report_read_error(const text_source *src, int read_errno)
{
    report("%s: %s", src->name, strerror(read_errno != 0 ? read_errno : EIO));
    return 1;
}

static int read_lines(FILE *fp, text_source *src, input_buffer *buf, text_handler handle,
                      void *ctx)
{
    ssize_t len;
    errno = 0;
    while ((len = getline(&buf->data, &buf->cap, fp)) >= 0) {
        src->line_no++;
        int rc = handle(ctx, src, (const unsigned char *)buf->data, (size_t)len);
        if (rc != 0)
            return rc;
        errno = 0;
    }
    return ferror(fp) ? report_read_error(src, errno) : 0;
}

static int read_whole(FILE *fp, text_source *src, input_buffer *buf, text_handler handle,
                      void *ctx)
{
    size_t len = 0;
    for (;;) {
        reserve_array(&buf->data, &buf->cap, len + READ_CHUNK, 1);
        errno = 0;
        size_t got = fread(buf->data + len, 1, buf->cap - len, fp);
        len += got;
        if (ferror(fp))
            return report_read_error(src, errno);
        if (feof(fp))
            return handle(ctx, src, (const unsigned char *)buf->data, len);
    }
}

/* Feeds every text of one input (a path, or "-" for standard input) to `handle`. */
static int process_input(const char *path, bool whole, input_buffer *buf, text_handler handle,
                         void *ctx)
{
    bool is_stdin = strcmp(path, "-") == 0;
    text_source src = {.name = is_stdin ? "<stdin>" : path, .line_no = 0};
    FILE *fp = is_stdin ? stdin : open_input(path); /* zstd, progress: encode_formats.c */
    if (fp == NULL)
        return report_read_error(&src, errno);
    int rc = whole ? read_whole(fp, &src, buf, handle, ctx)
                   : read_lines(fp, &src, buf, handle, ctx);
    if (!is_stdin)
        fclose(fp); /* read-only: nothing to lose on close */
    return rc;
}

/* Feeds every text of the FILE operands, in order (standard input when there are none),
 * to `handle`; stops at the first failure. */
static int process_inputs(char **paths, int n_paths, bool whole, text_handler handle, void *ctx)
{
    input_buffer buf = {NULL, 0};
    int rc = n_paths == 0 ? process_input("-", whole, &buf, handle, ctx) : 0;
    for (int i = 0; i < n_paths && rc == 0; i++)
        rc = process_input(paths[i], whole, &buf, handle, ctx);
    free(buf.data);
    return rc;
}

/*====== bp encode ======*/

typedef struct encode_args {
    const char *model_path;
    double alpha;
    uint64_t seed;
    bool seed_given;
    bool glibc_rand;
    bool whole;
    unsigned flags;
    unsigned threads; /* 0: one per core */
    token_writer write_token;
    encode_formats fmt; /* the pipeline formats (encode_formats.c) */
} encode_args;

enum {
    OPT_ALPHA = 256, /* past every char, so long-only options never clash with short ones */
    OPT_SEED,
    OPT_GLIBC_RAND,
    OPT_OUTPUT_FORMAT,
    OPT_WHOLE,
    OPT_BOS,
    OPT_EOS,
    OPT_NO_NORMALIZE,
    OPT_THREADS,
    OPT_OFFSETS,
    OPT_INPUT_FORMAT,
    OPT_FIELD,
};

static const struct option encode_options[] = {
    {"model", required_argument, NULL, 'm'},
    {"alpha", required_argument, NULL, OPT_ALPHA},
    {"seed", required_argument, NULL, OPT_SEED},
    {"glibc-rand", no_argument, NULL, OPT_GLIBC_RAND},
    {"output-format", required_argument, NULL, OPT_OUTPUT_FORMAT},
    {"whole", no_argument, NULL, OPT_WHOLE},
    {"bos", no_argument, NULL, OPT_BOS},
    {"eos", no_argument, NULL, OPT_EOS},
    {"no-normalize", no_argument, NULL, OPT_NO_NORMALIZE},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"offsets", no_argument, NULL, OPT_OFFSETS},
    {"input-format", required_argument, NULL, OPT_INPUT_FORMAT},
    {"field", required_argument, NULL, OPT_FIELD},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static enum parse_result parse_output_format(const char *value, encode_args *args)
{
    if (strcmp(value, "ids") == 0)
        args->write_token = write_id;
    else if (strcmp(value, "pieces") == 0)
        args->write_token = write_piece;
    else if (!parse_text_format(value, &args->fmt))
        return bad_option_value("--output-format", value, "ids, pieces, u16, u32 or jsonl");
    return PARSE_RUN;
}

enum { MAX_THREADS = 256 };

/* Handles one option of `bp encode`. */
static enum parse_result apply_encode_option(int opt, const char *value, encode_args *args)
{
    uint64_t n;
    switch (opt) {
    case 'm':
        args->model_path = value;
        return PARSE_RUN;
    case OPT_ALPHA:
        return parse_finite_double(value, &args->alpha)
                   ? PARSE_RUN
                   : bad_option_value("--alpha", value, "a number");
    case OPT_SEED:
        args->seed_given = true;
        return parse_u64(value, &args->seed)
                   ? PARSE_RUN
                   : bad_option_value("--seed", value, "an integer from 0 to 2^64-1");
    case OPT_GLIBC_RAND:
        args->glibc_rand = true;
        return PARSE_RUN;
    case OPT_OUTPUT_FORMAT:
        return parse_output_format(value, args);
    case OPT_WHOLE:
        args->whole = true;
        return PARSE_RUN;
    case OPT_BOS:
        args->flags |= BP_ENCODE_BOS;
        return PARSE_RUN;
    case OPT_EOS:
        args->flags |= BP_ENCODE_EOS;
        return PARSE_RUN;
    case OPT_NO_NORMALIZE:
        args->flags |= BP_ENCODE_NO_NORMALIZE;
        return PARSE_RUN;
    case OPT_THREADS:
        if (!parse_u64(value, &n) || n > MAX_THREADS)
            return bad_option_value("--threads", value, "a number of threads from 0 to 256");
        args->threads = (unsigned)n;
        return PARSE_RUN;
    case OPT_OFFSETS:
        args->fmt.offsets = true;
        return PARSE_RUN;
    case OPT_INPUT_FORMAT:
        return parse_input_format(value, &args->fmt)
                   ? PARSE_RUN
                   : bad_option_value("--input-format", value, "lines or jsonl");
    case OPT_FIELD:
        args->fmt.field = value;
        return PARSE_RUN;
    case 'h':
        return PARSE_HELP;
    default: /* getopt_long has printed what is wrong */
        usage_hint();
        return PARSE_USAGE;
    }
}

static enum parse_result parse_encode_args(int argc, char **argv, encode_args *args)
{
    *args = (encode_args){.alpha = -1.0, .threads = 1, .write_token = write_id};
    int opt;
    while ((opt = getopt_long(argc, argv, "m:h", encode_options, NULL)) != -1) {
        enum parse_result result = apply_encode_option(opt, optarg, args);
        if (result != PARSE_RUN)
            return result;
    }
    if (args->glibc_rand && args->seed > UINT32_MAX) {
        usage_error("--seed must be below 2^32 with --glibc-rand");
        return PARSE_USAGE;
    }
    if (check_encode_formats(&args->fmt, args->whole) != PARSE_RUN)
        return PARSE_USAGE;
    return finish_parse(args->model_path);
}

/* A seed nobody chose: the clock mixed with the process id, so that runs started in the
 * same instant differ. The library runs it through splitmix64, so xor is mixing enough. */
static uint64_t clock_seed(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t nanoseconds = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
    return nanoseconds ^ ((uint64_t)getpid() * UINT64_C(0x9E3779B97F4A7C15));
}

/* What one encoding thread owns: an encoder, a random state, room for ids. */
typedef struct encoder_slot {
    const encode_args *args;
    const bp_model *model;
    bp_encoder *enc;
    bp_encode_options opts;
    bp_rng rng;
    uint64_t seed;
    uint32_t *ids;
    size_t ids_cap;
    size_t *offsets; /* --offsets: one per id */
    size_t offsets_cap;
} encoder_slot;

static bp_status start_slot(encoder_slot *slot, const encode_args *args, const bp_model *model,
                            uint64_t seed)
{
    *slot = (encoder_slot){.args = args, .model = model, .seed = seed};
    bp_status status = bp_encoder_create(model, &slot->enc);
    slot->opts = (bp_encode_options){.alpha = args->alpha, .flags = args->flags, .rng = &slot->rng};
    if (args->glibc_rand)
        bp_rng_seed_glibc(&slot->rng, (uint32_t)seed); /* one state for the whole run */
    return status;
}

static void end_slot(encoder_slot *slot)
{
    free(slot->ids);
    free(slot->offsets);
    bp_encoder_free(slot->enc);
}

/* Writes one output line: the ids, space-separated, then '\n'. Ids are formatted two
 * digits at a time straight into the output buffer, a few thousand per reservation. */
static void write_id_line(output *out, const uint32_t *ids, size_t n_ids)
{
    enum { GROUP = 4096 };
    for (size_t i = 0; i < n_ids;) {
        size_t end = n_ids - i > GROUP ? i + GROUP : n_ids;
        output_reserve(out, (end - i) * (MAX_DECIMAL_U32 + 1));
        char *p = out->data + out->len;
        for (; i < end; i++) {
            if (i > 0)
                *p++ = ' ';
            p = format_u32(p, ids[i]);
        }
        out->len = (size_t)(p - out->data);
    }
    output_byte(out, '\n');
}

static void write_tokens(output *out, const encoder_slot *slot, size_t n_ids)
{
    if (slot->args->fmt.write_text) { /* u16, u32, jsonl */
        slot->args->fmt.write_text(out, slot->ids, slot->args->fmt.offsets ? slot->offsets : NULL,
                                   n_ids);
        return;
    }
    if (slot->args->write_token == write_id) {
        write_id_line(out, slot->ids, n_ids);
        return;
    }
    for (size_t i = 0; i < n_ids; i++) {
        if (i > 0)
            output_byte(out, ' ');
        slot->args->write_token(out, slot->model, slot->ids[i]);
    }
    output_byte(out, '\n');
}

/* Encodes text number `text_index` of the run into slot->ids. Room for one id per byte
 * (plus <bos> and <eos>) suffices unless NFC lengthens the text; then the call is made
 * again with the size it reported (and the random state it started from). */
static bp_status encode_one(encoder_slot *slot, uint64_t text_index, const unsigned char *text,
                            size_t len, size_t *n_ids)
{
    bool sampling = slot->args->alpha >= 0;
    if (sampling && !slot->args->glibc_rand)
        bp_rng_seed(&slot->rng, slot->seed, text_index);
    reserve_array(&slot->ids, &slot->ids_cap, len + 2, sizeof *slot->ids);
    bp_rng before = slot->rng;
    if (slot->args->fmt.offsets)
        reserve_array(&slot->offsets, &slot->offsets_cap, slot->ids_cap, sizeof *slot->offsets);
    bp_status status = bp_encode(slot->enc, text, len, &slot->opts, slot->ids, slot->offsets,
                                 slot->ids_cap, n_ids);
    if (status == BP_ERR_BUFFER_TOO_SMALL) {
        reserve_array(&slot->ids, &slot->ids_cap, *n_ids, sizeof *slot->ids);
        if (slot->args->fmt.offsets)
            reserve_array(&slot->offsets, &slot->offsets_cap, slot->ids_cap,
                          sizeof *slot->offsets);
        slot->rng = before;
        status = bp_encode(slot->enc, text, len, &slot->opts, slot->ids, slot->offsets,
                           slot->ids_cap, n_ids);
    }
    return status;
}

/*------ One thread ------*/

typedef struct encode_job {
    encoder_slot slot;
    uint64_t text_index; /* texts encoded so far in the run, across files */
    output *out;
} encode_job;

static int encode_text(void *ctx, const text_source *src, const unsigned char *text, size_t len)
{
    encode_job *job = ctx;
    size_t n_ids;
    bp_status status = encode_one(&job->slot, job->text_index++, text, len, &n_ids);
    if (status != BP_OK) {
        report_at(src, "%s", bp_strerror(status));
        return 1;
    }
    write_tokens(job->out, &job->slot, n_ids);
    return job->out->write_errno != 0;
}

/*------ Several threads ------*/

/* Lines are read in blocks of about BLOCK_BYTES (a longer line makes a longer block); a
 * block is cut into parts of about PART_BYTES, which the threads take in turn, each
 * encoding and formatting its part into the part's own output buffer; the parts' outputs
 * are then written in order. While the threads work on one block, the main thread writes
 * the output of the previous block and reads the next one. Text k of the run is seeded
 * with stream k, so the output is the one-thread output, byte for byte. An input smaller
 * than one block is encoded without starting any thread. */
enum { BLOCK_BYTES = 1 << 20, PART_BYTES = 1 << 16 };

typedef struct part {
    size_t lo, hi;     /* lines lo .. hi-1 of the block */
    output out;        /* their formatted output (out.stream unused) */
    bp_status status;  /* BP_OK, or the failure at line fail_line */
    size_t fail_line;
    size_t good_len;   /* out.len before the failing line */
} part;

typedef struct block {
    unsigned char *text;
    size_t len, cap;
    size_t *line_end;  /* line i is text[i ? line_end[i - 1] : 0 .. line_end[i]) */
    size_t n_lines, lines_cap;
    uint64_t first_text;    /* index in the run of line 0 */
    uint64_t first_line_no; /* 1-based line number of line 0 in its file */
    const char *src_name;
    part *parts;
    size_t n_parts, parts_cap;
    size_t next_part;  /* the next part to take (under the pool's lock) */
    size_t parts_done;
} block;

typedef struct pool {
    pthread_mutex_t lock;
    pthread_cond_t work, done;
    block *current;    /* the block being encoded, NULL when none */
    bool stop;
    encoder_slot *slots; /* one per thread; slot 0 is the main thread's */
    pthread_t *threads;
    unsigned n_threads, started;
} pool;

/* Encodes and formats part `p` of `b` with `slot`. */
static void run_part(encoder_slot *slot, block *b, size_t p)
{
    part *pt = &b->parts[p];
    pt->out.len = 0;
    pt->status = BP_OK;
    for (size_t i = pt->lo; i < pt->hi; i++) {
        size_t start = i ? b->line_end[i - 1] : 0, n_ids;
        bp_status status =
            encode_one(slot, b->first_text + i, b->text + start, b->line_end[i] - start, &n_ids);
        if (status != BP_OK) {
            pt->status = status;
            pt->fail_line = i;
            pt->good_len = pt->out.len;
            return;
        }
        write_tokens(&pt->out, slot, n_ids);
    }
}

/* Takes parts of the current block until none is left. */
static void work_on(pool *pl, block *b, encoder_slot *slot)
{
    for (;;) {
        pthread_mutex_lock(&pl->lock);
        size_t p = b->next_part < b->n_parts ? b->next_part++ : SIZE_MAX;
        pthread_mutex_unlock(&pl->lock);
        if (p == SIZE_MAX)
            return;
        run_part(slot, b, p);
        pthread_mutex_lock(&pl->lock);
        if (++b->parts_done == b->n_parts)
            pthread_cond_broadcast(&pl->done);
        pthread_mutex_unlock(&pl->lock);
    }
}

typedef struct worker_arg {
    pool *pl;
    unsigned index;
} worker_arg;

static void *worker_main(void *arg)
{
    worker_arg *wa = arg;
    pool *pl = wa->pl;
    encoder_slot *slot = &pl->slots[wa->index];
    pthread_mutex_lock(&pl->lock);
    for (;;) {
        while (!pl->stop && (pl->current == NULL || pl->current->next_part >= pl->current->n_parts))
            pthread_cond_wait(&pl->work, &pl->lock);
        if (pl->stop)
            break;
        block *b = pl->current;
        pthread_mutex_unlock(&pl->lock);
        work_on(pl, b, slot);
        pthread_mutex_lock(&pl->lock);
    }
    pthread_mutex_unlock(&pl->lock);
    return NULL;
}

static worker_arg worker_args[MAX_THREADS];

/* Starts the threads besides the main one (once). @return false if none could start. */
static bool start_workers(pool *pl)
{
    if (pl->started)
        return true;
    for (unsigned i = 1; i < pl->n_threads; i++) {
        worker_args[i] = (worker_arg){pl, i};
        if (pthread_create(&pl->threads[i], NULL, worker_main, &worker_args[i]) != 0)
            break;
        pl->started = i;
    }
    return pl->started > 0;
}

static void stop_workers(pool *pl)
{
    pthread_mutex_lock(&pl->lock);
    pl->stop = true;
    pthread_cond_broadcast(&pl->work);
    pthread_mutex_unlock(&pl->lock);
    for (unsigned i = 1; i <= pl->started; i++)
        pthread_join(pl->threads[i], NULL);
}

/* Cuts the block into parts of about PART_BYTES of whole lines. */
static void cut_parts(block *b)
{
    b->n_parts = 0;
    for (size_t lo = 0; lo < b->n_lines;) {
        size_t start = lo ? b->line_end[lo - 1] : 0, hi = lo + 1;
        while (hi < b->n_lines && b->line_end[hi - 1] - start < PART_BYTES)
            hi++;
        if (b->n_parts == b->parts_cap) {
            size_t old = b->parts_cap;
            reserve_array(&b->parts, &b->parts_cap, old + 1, sizeof *b->parts);
            for (size_t i = old; i < b->parts_cap; i++)
                b->parts[i] = (part){.out = {.stream = NULL}};
        }
        b->parts[b->n_parts++].lo = lo;
        b->parts[b->n_parts - 1].hi = hi;
        lo = hi;
    }
    b->next_part = 0;
    b->parts_done = 0;
}

/* The reader of the FILE operands, line by line into blocks. */
typedef struct block_reader {
    char **paths;
    int n_paths, next_path;
    FILE *fp;
    const char *name;
    uint64_t line_no;   /* lines of the current file handed out so far */
    uint64_t text_index;
    unsigned char *carry; /* bytes read past the last complete line */
    size_t carry_len, carry_cap;
} block_reader;

/* Opens the next input. @return 0, -1 when there is none left, 1 after an error. */
static int open_next(block_reader *r)
{
    const char *path = r->n_paths == 0 ? (r->next_path == 0 ? "-" : NULL)
                       : r->next_path < r->n_paths ? r->paths[r->next_path] : NULL;
    if (path == NULL)
        return -1;
    r->next_path++;
    bool is_stdin = strcmp(path, "-") == 0;
    r->name = is_stdin ? "<stdin>" : path;
    r->line_no = 0;
    r->fp = is_stdin ? stdin : open_input(path); /* zstd, progress: encode_formats.c */
    if (r->fp == NULL) {
        text_source src = {.name = r->name, .line_no = 0};
        return report_read_error(&src, errno);
    }
    return 0;
}

static void close_current(block_reader *r)
{
    if (r->fp != NULL && r->fp != stdin)
        fclose(r->fp);
    r->fp = NULL;
}

static void add_line(block *b, size_t end)
{
    reserve_array(&b->line_end, &b->lines_cap, b->n_lines + 1, sizeof *b->line_end);
    b->line_end[b->n_lines++] = end;
}

/* Fills `b` with the next lines of one file: about BLOCK_BYTES, always whole lines.
 * @return 0 (b->n_lines == 0 at the end of all input) or 1 after a read error. */
static int read_block(block_reader *r, block *b)
{
    b->len = b->n_lines = 0;
    for (;;) {
        if (r->fp == NULL) {
            int rc = open_next(r);
            if (rc != 0)
                return rc > 0 ? 1 : 0;
        }
        b->first_text = r->text_index;
        b->first_line_no = r->line_no + 1;
        b->src_name = r->name;
        reserve_array(&b->text, &b->cap, r->carry_len + READ_CHUNK, 1);
        if (r->carry_len > 0)
            memcpy(b->text, r->carry, r->carry_len);
        b->len = r->carry_len;
        r->carry_len = 0;
        size_t scanned = 0; /* b->text[0..scanned) holds no '\n' after the last line */
        bool eof = false;
        while (!eof && (b->n_lines == 0 || b->len < BLOCK_BYTES)) {
            for (unsigned char *nl; (nl = memchr(b->text + scanned, '\n', b->len - scanned));)
                add_line(b, scanned = (size_t)(nl - b->text) + 1);
            scanned = b->len;
            if (b->n_lines > 0 && b->len >= BLOCK_BYTES)
                break;
            reserve_array(&b->text, &b->cap, b->len + READ_CHUNK, 1);
            errno = 0;
            size_t got = fread(b->text + b->len, 1, b->cap - b->len, r->fp);
            b->len += got;
            if (ferror(r->fp)) {
                text_source src = {.name = r->name, .line_no = 0};
                return report_read_error(&src, errno);
            }
            eof = got == 0 && feof(r->fp);
        }
        size_t used = b->n_lines ? b->line_end[b->n_lines - 1] : 0;
        if (eof && used < b->len) /* a last line without '\n' */
            add_line(b, used = b->len);
        r->carry_len = b->len - used;
        if (r->carry_len > 0) {
            reserve_array(&r->carry, &r->carry_cap, r->carry_len, 1);
            memcpy(r->carry, b->text + used, r->carry_len);
        }
        b->len = used;
        r->line_no += b->n_lines;
        r->text_index += b->n_lines;
        if (eof)
            close_current(r);
        if (b->n_lines > 0)
            return 0;
    }
}

/* Writes the outputs of a finished block in order. @return 0, or 1 after reporting the
 * first failure (the output of the lines before it is written). */
static int write_block(block *b, output *out)
{
    for (size_t p = 0; p < b->n_parts; p++) {
        part *pt = &b->parts[p];
        size_t len = pt->status == BP_OK ? pt->out.len : pt->good_len;
        if (len > 0) {
            output_reserve(out, len);
            memcpy(out->data + out->len, pt->out.data, len);
            out->len += len;
        }
        if (pt->status != BP_OK) {
            text_source src = {.name = b->src_name, .line_no = b->first_line_no + pt->fail_line};
            report_at(&src, "%s", bp_strerror(pt->status));
            return 1;
        }
    }
    return out->write_errno != 0;
}

/* Has the block encoded: by the workers while the main thread returns (started), or right
 * here by the main thread when the input is too small to be worth threads. */
static void start_block(pool *pl, block *b, bool use_threads)
{
    cut_parts(b);
    if (use_threads && start_workers(pl)) {
        pthread_mutex_lock(&pl->lock);
        pl->current = b;
        pthread_cond_broadcast(&pl->work);
        pthread_mutex_unlock(&pl->lock);
        return;
    }
    for (size_t p = 0; p < b->n_parts; p++)
        run_part(&pl->slots[0], b, p);
    b->parts_done = b->next_part = b->n_parts;
}

/* Waits until the block's parts are all done, helping with them meanwhile. */
static void finish_block(pool *pl, block *b)
{
    if (pl->started)
        work_on(pl, b, &pl->slots[0]);
    pthread_mutex_lock(&pl->lock);
    while (b->parts_done < b->n_parts)
        pthread_cond_wait(&pl->done, &pl->lock);
    if (pl->current == b)
        pl->current = NULL;
    pthread_mutex_unlock(&pl->lock);
}

static void free_block(block *b)
{
    for (size_t p = 0; p < b->parts_cap; p++)
        free(b->parts[p].out.data);
    free(b->parts);
    free(b->text);
    free(b->line_end);
}

static int encode_parallel(const encode_args *args, const bp_model *model, uint64_t seed,
                           char **paths, int n_paths, unsigned n_threads, output *out)
{
    pool pl = {.n_threads = n_threads};
    pthread_mutex_init(&pl.lock, NULL);
    pthread_cond_init(&pl.work, NULL);
    pthread_cond_init(&pl.done, NULL);
    pl.slots = grow_or_die(NULL, n_threads, sizeof *pl.slots);
    pl.threads = grow_or_die(NULL, n_threads, sizeof *pl.threads);
    int rc = 0;
    unsigned ready = 0;
    for (; ready < n_threads && rc == 0; ready++)
        if (start_slot(&pl.slots[ready], args, model, seed) != BP_OK) {
            report("%s", bp_strerror(BP_ERR_NOMEM));
            rc = 1;
        }
    block blocks[2] = {{0}, {0}};
    block_reader reader = {.paths = paths, .n_paths = n_paths};
    block *cur = &blocks[0], *next = &blocks[1], *busy = NULL;
    if (rc == 0)
        rc = read_block(&reader, cur);
    if (rc == 0 && cur->n_lines > 0) {
        int read_rc = read_block(&reader, next);
        /* Threads only when there is more than one block's worth of input. */
        bool use_threads = next->n_lines > 0 || cur->len >= BLOCK_BYTES;
        start_block(&pl, cur, use_threads);
        busy = cur;
        for (;;) {
            finish_block(&pl, busy);
            busy = NULL;
            bool more = read_rc == 0 && next->n_lines > 0;
            if (more) {
                start_block(&pl, next, use_threads);
                busy = next;
            }
            rc = write_block(cur, out);
            if (rc == 0)
                rc = read_rc;
            if (rc != 0 || !more)
                break;
            block *t = cur;
            cur = next;
            next = t;
            read_rc = read_block(&reader, next);
        }
    }
    if (busy)
        finish_block(&pl, busy);
    if (pl.started)
        stop_workers(&pl);
    close_current(&reader);
    free(reader.carry);
    free_block(&blocks[0]);
    free_block(&blocks[1]);
    for (unsigned i = 0; i < ready; i++)
        end_slot(&pl.slots[i]);
    free(pl.slots);
    free(pl.threads);
    pthread_mutex_destroy(&pl.lock);
    pthread_cond_destroy(&pl.work);
    pthread_cond_destroy(&pl.done);
    return rc;
}

static unsigned online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (unsigned)n;
}

static int run_encode(int argc, char **argv)
{
    encode_args args;
    enum parse_result parsed = parse_encode_args(argc, argv, &args);
    if (parsed != PARSE_RUN)
        return parsed == PARSE_HELP ? print_text(encode_help) : 2;

    output out = output_open(stdout);
    bp_model *model = NULL;
    uint64_t seed = args.seed_given || args.glibc_rand ? args.seed : clock_seed();
    unsigned threads = args.threads == 0 ? online_cpus() : args.threads;
    /* --glibc-rand runs one random sequence through all texts in order: one thread. */
    if (args.glibc_rand || args.whole || args.fmt.jsonl_input)
        threads = 1;
    int rc = load_model(args.model_path, &model);
    int bad_output = rc == 0 ? check_encode_output(&args.fmt, model, args.model_path) : 0;
    if (bad_output != 0)
        rc = 1;
    if (rc == 0 && threads > 1) {
        rc = encode_parallel(&args, model, seed, argv + optind, argc - optind, threads, &out);
    } else if (rc == 0) {
        encode_job job = {.out = &out};
        if (start_slot(&job.slot, &args, model, seed) != BP_OK) {
            report("%s", bp_strerror(BP_ERR_NOMEM));
            rc = 1;
        }
        if (rc == 0 && args.fmt.jsonl_input)
            rc = process_jsonl_inputs(argv + optind, argc - optind, args.fmt.field, encode_text,
                                      &job);
        else if (rc == 0)
            rc = process_inputs(argv + optind, argc - optind, args.whole, encode_text, &job);
        end_slot(&job.slot);
    }
    rc = output_close(&out, rc); /* what came before a failure is written out */
    bp_model_free(model);
    return bad_output != 0 ? bad_output : rc;
}

/*====== bp decode ======*/

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
    char shown[MAX_ESCAPED_PER_BYTE * SHOWN_BYTES];
    size_t shown_len = escape_bytes(shown, word, len < SHOWN_BYTES ? len : SHOWN_BYTES);
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

static int run_decode(int argc, char **argv)
{
    const char *model_path;
    enum parse_result parsed = parse_model_options(argc, argv, &model_path);
    if (parsed != PARSE_RUN)
        return parsed == PARSE_HELP ? print_text(decode_help) : 2;

    output out = output_open(stdout);
    bp_model *model = NULL;
    int rc = load_model(model_path, &model);
    decode_job job = {.model = model, .out = &out};
    if (rc == 0)
        rc = process_inputs(argv + optind, argc - optind, false, decode_line, &job);
    rc = output_close(&out, rc); /* what came before a failure is written out */
    free(job.ids);
    bp_model_free(model);
    return rc;
}

/*====== Entry point ======*/

static int print_version(void)
{
    char text[256];
    snprintf(text, sizeof text, "bp %s (Unicode %s via utf8proc)\n", bp_version_string(),
             bp_unicode_version());
    return print_text(text);
}

int main(int argc, char **argv)
{
    /* A closed pipe ends the run silently, as for cat, even if our parent ignored SIGPIPE. */
    signal(SIGPIPE, SIG_DFL);

    /* Each command parses argv from its own name on, and getopt_long prints its complaints
     * under argv[0]: so that becomes "bp encode" (messages then read "bp encode: ..."). */
    static char encode_name[] = "bp encode", decode_name[] = "bp decode",
                train_name[] = "bp train", convert_name[] = "bp convert",
                info_name[] = "bp info", vocab_name[] = "bp vocab",
                export_name[] = "bp export", import_name[] = "bp import";
    static const struct {
        const char *word;
        char *name;
        int (*run)(int argc, char **argv);
    } commands[] = {{"encode", encode_name, run_encode},
                    {"decode", decode_name, run_decode},
                    {"train", train_name, run_train},
                    {"convert", convert_name, run_convert},
                    {"info", info_name, run_info},
                    {"vocab", vocab_name, run_vocab},
                    {"export", export_name, run_export},
                    {"import", import_name, run_import}};

    if (argc < 2)
        return usage_error("missing command");
    const char *word = argv[1];
    if (strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0)
        return print_text(main_help);
    if (strcmp(word, "--version") == 0)
        return print_version();
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(word, commands[i].word) == 0) {
            program_name = commands[i].name;
            argv[1] = commands[i].name;
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    char what[256];
    snprintf(what, sizeof what, "unknown command '%.200s'", word);
    return usage_error(what);
}
