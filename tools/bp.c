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
    "                         zstd-compressed (required)\n"
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
    "      --output-format F  ids (the default) or pieces (see below)\n"
    "      --bos              start each text with <bos> (id 1)\n"
    "      --eos              end each text with <eos> (id 2)\n"
    "      --no-normalize     encode the raw bytes; by default the text is put in\n"
    "                         NFC first (invalid UTF-8 passes through as bytes)\n"
    "  -h, --help             show this help and exit\n"
    "\n"
    "With --output-format pieces, each token is printed as the bytes of its piece,\n"
    "tokens separated by single spaces. Bytes 0x21-0x7e and well-formed UTF-8\n"
    "characters from U+00A0 up stand for themselves; backslash is written \\\\,\n"
    "newline \\n, tab \\t, carriage return \\r, and every other byte (space, control\n"
    "bytes, bytes that are not part of a well-formed character) \\xHH with two\n"
    "lowercase hex digits. <bos> and <eos> stand for ids 1 and 2; a piece that\n"
    "reads <pad>, <bos> or <eos> has its '<' written \\x3c.\n";

static const char decode_help[] =
    "Usage: bp decode -m MODEL [FILE]...\n"
    "Decode lines of token ids (decimal, separated by spaces or tabs) and write the\n"
    "bytes of their pieces and nothing else: no separator, no newline. With no FILE,\n"
    "or when FILE is -, read standard input. 'bp encode -m M | bp decode -m M' gives\n"
    "the input back, in NFC unless it was encoded with --no-normalize. Ids 0, 1, 2\n"
    "(<pad>, <bos>, <eos>) give no bytes; an id outside the vocabulary or a word\n"
    "that is not a number is an error.\n"
    "\n"
    "  -m, --model MODEL  the model: reference BytePiece JSON, plain or\n"
    "                     zstd-compressed (required)\n"
    "  -h, --help         show this help and exit\n";

/*====== Token formatting ======*/

static const char *const special_names[] = {"<pad>", "<bos>", "<eos>"};
enum { N_SPECIAL = 3, MAX_ESCAPED_PER_BYTE = 4 /* "\xHH" */, MAX_DECIMAL_U32 = 10 };

static void write_u32(output *out, uint32_t value)
{
    char digits[MAX_DECIMAL_U32];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value != 0);
    output_reserve(out, n);
    while (n > 0)
        out->data[out->len++] = digits[--n];
}

/* Length of the well-formed UTF-8 character (U+0080 and up) starting at s, 0 if none. */
static size_t utf8_char_len(const unsigned char *s, size_t avail)
{
    unsigned char lead = s[0], low = 0x80, high = 0xBF;
    size_t len;
    if (lead >= 0xC2 && lead <= 0xDF) {
        len = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        len = 3;
        low = lead == 0xE0 ? 0xA0 : 0x80;  /* no overlong forms */
        high = lead == 0xED ? 0x9F : 0xBF; /* no surrogates */
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        len = 4;
        low = lead == 0xF0 ? 0x90 : 0x80;
        high = lead == 0xF4 ? 0x8F : 0xBF; /* nothing above U+10FFFF */
    } else {
        return 0;
    }
    if (avail < len || s[1] < low || s[1] > high)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

static size_t escape_byte(char *dst, unsigned char byte)
{
    static const char hex[] = "0123456789abcdef";
    const char *named = byte == '\\' ? "\\\\" : byte == '\n' ? "\\n"
                      : byte == '\t' ? "\\t" : byte == '\r' ? "\\r" : NULL;
    if (named != NULL) {
        memcpy(dst, named, 2);
        return 2;
    }
    if (byte > 0x20 && byte < 0x7F) {
        dst[0] = (char)byte;
        return 1;
    }
    dst[0] = '\\';
    dst[1] = 'x';
    dst[2] = hex[byte >> 4];
    dst[3] = hex[byte & 15];
    return 4;
}

/* Writes bytes as one space-free, line-free word (the scheme of `bp encode --help`) into
 * dst, which holds MAX_ESCAPED_PER_BYTE * len bytes. @return the length written. */
static size_t escape_bytes(char *dst, const unsigned char *bytes, size_t len)
{
    size_t written = 0;
    for (size_t i = 0; i < len;) {
        size_t char_len = bytes[i] >= 0x80 ? utf8_char_len(bytes + i, len - i) : 0;
        bool c1_control = char_len == 2 && bytes[i] == 0xC2 && bytes[i + 1] < 0xA0;
        if (char_len > 0 && !c1_control) {
            memcpy(dst + written, bytes + i, char_len);
            written += char_len;
            i += char_len;
        } else {
            written += escape_byte(dst + written, bytes[i++]);
        }
    }
    return written;
}

static bool reads_as_special_name(const unsigned char *bytes, size_t len)
{
    if (bytes[0] != '<') /* the quick answer for almost every piece */
        return false;
    for (size_t i = 0; i < N_SPECIAL; i++)
        if (len == strlen(special_names[i]) && memcmp(bytes, special_names[i], len) == 0)
            return true;
    return false;
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
    if (reads_as_special_name(bytes, len)) {
        /* Keep a piece spelled like a special token apart from the special token. */
        memcpy(out->data + out->len, "\\x3c", 4);
        out->len += 4;
        bytes++;
        len--;
    }
    out->len += escape_bytes(out->data + out->len, bytes, len);
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
    FILE *fp = is_stdin ? stdin : fopen(path, "rb");
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
    token_writer write_token;
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
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static enum parse_result parse_output_format(const char *value, encode_args *args)
{
    if (strcmp(value, "ids") == 0)
        args->write_token = write_id;
    else if (strcmp(value, "pieces") == 0)
        args->write_token = write_piece;
    else
        return bad_option_value("--output-format", value, "ids or pieces");
    return PARSE_RUN;
}

/* Handles one option of `bp encode`. */
static enum parse_result apply_encode_option(int opt, const char *value, encode_args *args)
{
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
    case 'h':
        return PARSE_HELP;
    default: /* getopt_long has printed what is wrong */
        usage_hint();
        return PARSE_USAGE;
    }
}

static enum parse_result parse_encode_args(int argc, char **argv, encode_args *args)
{
    *args = (encode_args){.alpha = -1.0, .write_token = write_id};
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

typedef struct encode_job {
    const encode_args *args;
    const bp_model *model;
    bp_encoder *enc;
    bp_encode_options opts;
    bp_rng rng;
    uint64_t seed;
    uint64_t text_index; /* texts encoded so far in the run, across files */
    uint32_t *ids;
    size_t ids_cap;
    output *out;
} encode_job;

static int start_encoder(encode_job *job, const bp_model *model)
{
    job->model = model;
    bp_status status = bp_encoder_create(model, &job->enc);
    if (status != BP_OK) {
        report("%s", bp_strerror(status));
        return 1;
    }
    job->opts = (bp_encode_options){
        .alpha = job->args->alpha, .flags = job->args->flags, .rng = &job->rng};
    if (job->args->glibc_rand)
        bp_rng_seed_glibc(&job->rng, (uint32_t)job->seed); /* one state for the whole run */
    return 0;
}

static void write_tokens(encode_job *job, size_t n_ids)
{
    for (size_t i = 0; i < n_ids; i++) {
        if (i > 0)
            output_byte(job->out, ' ');
        job->args->write_token(job->out, job->model, job->ids[i]);
    }
    output_byte(job->out, '\n');
}

static int encode_text(void *ctx, const text_source *src, const unsigned char *text, size_t len)
{
    encode_job *job = ctx;
    reserve_array(&job->ids, &job->ids_cap, bp_encode_bound(len), sizeof *job->ids);
    bool sampling = job->args->alpha >= 0;
    if (sampling && !job->args->glibc_rand)
        bp_rng_seed(&job->rng, job->seed, job->text_index);
    job->text_index++;
    size_t n_ids;
    bp_status status =
        bp_encode(job->enc, text, len, &job->opts, job->ids, NULL, job->ids_cap, &n_ids);
    if (status != BP_OK) {
        report_at(src, "%s", bp_strerror(status));
        return 1;
    }
    write_tokens(job, n_ids);
    return job->out->write_errno != 0;
}

static int run_encode(int argc, char **argv)
{
    encode_args args;
    enum parse_result parsed = parse_encode_args(argc, argv, &args);
    if (parsed != PARSE_RUN)
        return parsed == PARSE_HELP ? print_text(encode_help) : 2;

    output out = output_open(stdout);
    bp_model *model = NULL;
    encode_job job = {
        .args = &args,
        .seed = args.seed_given || args.glibc_rand ? args.seed : clock_seed(),
        .out = &out,
    };
    int rc = load_model(args.model_path, &model);
    if (rc == 0)
        rc = start_encoder(&job, model);
    if (rc == 0)
        rc = process_inputs(argv + optind, argc - optind, args.whole, encode_text, &job);
    rc = output_close(&out, rc); /* what came before a failure is written out */
    free(job.ids);
    bp_encoder_free(job.enc);
    bp_model_free(model);
    return rc;
}

/*====== bp decode ======*/

static const struct option decode_options[] = {
    {"model", required_argument, NULL, 'm'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static enum parse_result parse_decode_args(int argc, char **argv, const char **model_path)
{
    *model_path = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, "m:h", decode_options, NULL)) != -1) {
        if (opt == 'm') {
            *model_path = optarg;
        } else if (opt == 'h') {
            return PARSE_HELP;
        } else { /* getopt_long has printed what is wrong */
            usage_hint();
            return PARSE_USAGE;
        }
    }
    return finish_parse(*model_path);
}

typedef struct decode_job {
    const bp_model *model;
    uint32_t *ids;
    size_t ids_cap;
    output *out;
} decode_job;

static bool is_blank(unsigned char c)
{
    return c == ' ' || c == '\t';
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
    enum parse_result parsed = parse_decode_args(argc, argv, &model_path);
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
                train_name[] = "bp train", convert_name[] = "bp convert";
    static const struct {
        const char *word;
        char *name;
        int (*run)(int argc, char **argv);
    } commands[] = {{"encode", encode_name, run_encode},
                    {"decode", decode_name, run_decode},
                    {"train", train_name, run_train},
                    {"convert", convert_name, run_convert}};

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
