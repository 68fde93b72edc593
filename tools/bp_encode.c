/*
 * bp_encode.c -- `bp encode`: options, one text at a time, and the formatting of ids and
 * pieces. Several threads: encode_threads.c; the pipeline formats: encode_formats.c.
 */
#define _GNU_SOURCE /* getopt_long, which also lets options follow file operands */

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bytepiece.h"
#include "bp_encode.h"

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
    "                         one text, a document\n"
    "      --field NAME       the member holding the text (default text)\n"
    "      --bos              start each text with <bos> (id 1)\n"
    "      --eos              end each text with <eos> (id 2)\n"
    "      --no-normalize     encode the raw bytes; by default the text is put in\n"
    "                         NFC first (invalid UTF-8 passes through as bytes)\n"
    "      --nbest K          the K best segmentations of each text, K from 1 to\n"
    "                         1024, best first, with --output-format jsonl only:\n"
    "                         {\"nbest\":[{\"ids\":[...],\"score\":S},...]} per\n"
    "                         text, S the log-probability (%.17g); fewer when the\n"
    "                         text has fewer. Not with --alpha, --glibc-rand or\n"
    "                         --offsets; runs on one thread whatever --threads\n"
    "      --threads N        encode texts on N threads (0: one per core; default\n"
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
    output_escaped(out, bytes, len);
}

static void write_id(output *out, const bp_model *model, uint32_t id)
{
    (void)model; /* an id needs no lookup; the signature is shared with write_piece */
    write_u32(out, id);
}

/*====== Options ======*/

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
    OPT_NBEST,
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
    {"nbest", required_argument, NULL, OPT_NBEST},
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
    case OPT_NBEST:
        if (!parse_u64(value, &n) || n < 1 || n > BP_NBEST_MAX)
            return bad_option_value("--nbest", value, "a number from 1 to 1024");
        args->nbest = (unsigned)n;
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
    if (args->nbest && check_nbest_options(args) != PARSE_RUN)
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

bp_status start_slot(encoder_slot *slot, const encode_args *args, const bp_model *model,
                            uint64_t seed)
{
    *slot = (encoder_slot){.args = args, .model = model, .seed = seed};
    bp_status status = bp_encoder_create(model, &slot->enc, NULL);
    slot->opts = (bp_encode_options){
        .alpha = args->alpha,
        .flags = args->flags | (args->alpha >= 0 ? BP_ENCODE_SAMPLE : 0),
        .rng = &slot->rng};
    if (args->glibc_rand)
        bp_rng_seed_glibc(&slot->rng, (uint32_t)seed); /* one state for the whole run */
    return status;
}

void end_slot(encoder_slot *slot)
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

void write_tokens(output *out, const encoder_slot *slot, size_t n_ids)
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
bp_status encode_one(encoder_slot *slot, uint64_t text_index, const unsigned char *text,
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
                                 slot->ids_cap, n_ids, NULL);
    if (status == BP_ERR_BUFFER_TOO_SMALL) {
        reserve_array(&slot->ids, &slot->ids_cap, *n_ids, sizeof *slot->ids);
        if (slot->args->fmt.offsets)
            reserve_array(&slot->offsets, &slot->offsets_cap, slot->ids_cap,
                          sizeof *slot->offsets);
        slot->rng = before;
        status = bp_encode(slot->enc, text, len, &slot->opts, slot->ids, slot->offsets,
                           slot->ids_cap, n_ids, NULL);
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

static unsigned online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (unsigned)n;
}

int run_encode(int argc, char **argv)
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
    if (args.glibc_rand || args.whole)
        threads = 1;
    int rc = load_model(args.model_path, &model);
    int bad_output = rc == 0 ? check_encode_output(&args.fmt, model, args.model_path) : 0;
    if (bad_output != 0)
        rc = 1;
    if (rc == 0 && args.nbest) {
        rc = encode_nbest(&args, model, argv + optind, argc - optind, &out);
    } else if (rc == 0 && threads > 1) {
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
