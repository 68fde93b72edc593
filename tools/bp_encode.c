/*
 * bp_encode.c -- `bp encode`: options, and one text at a time on the calling thread.
 * Several threads: encode_blocks.c; the output formats: encode_formats.c.
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
    "      --first-text K     number the first text of the run K (default 0), so\n"
    "                         that a shard that starts at text K of a corpus\n"
    "                         samples as a run over the whole corpus would\n"
    "      --glibc-rand       reproduce the reference BytePiece after\n"
    "                         set_seed(S): glibc srand(S) once, then one rand()\n"
    "                         sequence across all texts; S < 2^32, default 0\n"
    "                         (which glibc treats as 1)\n"
    "      --output-format F  ids (the default), pieces (see below), u16 or u32\n"
    "                         (each id as 2 or 4 bytes, little-endian, nothing\n"
    "                         between texts but --bos/--eos; u16 only for models\n"
    "                         of at most 65536 ids), or jsonl: {\"ids\":[...]}\n"
    "                         per text, one per line, or megatron (with -o)\n"
    "  -o, --output PREFIX    with --output-format megatron, write the Megatron-LM\n"
    "                         dataset PREFIX.bin and PREFIX.idx: one sequence and\n"
    "                         one document per text, ids as uint16 for models of\n"
    "                         fewer than 65500 ids, else int32; both files appear\n"
    "                         only when the run succeeds (bp merge-megatron joins\n"
    "                         datasets)\n"
    "      --offsets          with jsonl, also \"offsets\":[...]: the byte where\n"
    "                         each token starts in the input text\n"
    "      --input-format F   lines (the default) or jsonl: each line of a FILE\n"
    "                         is a JSON object whose string member (--field) is\n"
    "                         one text, a document\n"
    "      --field NAME       the member holding the text (default text)\n"
    "      --skip-bad-lines   with jsonl input, skip lines that are not JSON objects\n"
    "                         with the string member, and tell how many at the end\n"
    "      --bos              start each text with <bos> (id 1)\n"
    "      --eos              end each text with <eos> (id 2)\n"
    "      --no-normalize     encode the raw bytes; by default the text is put in\n"
    "                         NFC first (invalid UTF-8 passes through as bytes)\n"
    "      --special          match the model's special tokens (bp add-tokens) in\n"
    "                         the text, longest first, before normalization: each\n"
    "                         becomes its id, and the text between them is encoded\n"
    "                         as without them. By default their text is ordinary\n"
    "                         text, so that user text cannot inject them\n"
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
    "reads <pad>, <bos> or <eos> has its '<' written \\x3c. A special token is\n"
    "printed as its text, escaped the same way.\n"
    "\n"
    "FILEs and standard input that are zstd-compressed (recognised by content) are\n"
    "decompressed while they are read. Inputs\n"
    "over 4 MB show their progress on standard error when it is a terminal and\n"
    "standard output is not. u16 with a model of more than 65536 ids is refused\n"
    "(exit status 1), and so is u16 or u32 output to a terminal (exit status 2).\n";

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
    OPT_SPECIAL,
    OPT_FIRST_TEXT,
    OPT_SKIP_BAD_LINES,
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
    {"special", no_argument, NULL, OPT_SPECIAL},
    {"first-text", required_argument, NULL, OPT_FIRST_TEXT},
    {"skip-bad-lines", no_argument, NULL, OPT_SKIP_BAD_LINES},
    {"output", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

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
        return parse_output_format(value, &args->fmt)
                   ? PARSE_RUN
                   : bad_option_value("--output-format", value, "ids, pieces, u16, u32 or jsonl");
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
    case OPT_SPECIAL:
        args->flags |= BP_ENCODE_SPECIAL;
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
    case OPT_FIRST_TEXT:
        return parse_u64(value, &args->first_text)
                   ? PARSE_RUN
                   : bad_option_value("--first-text", value, "an integer from 0 to 2^64-1");
    case OPT_SKIP_BAD_LINES:
        args->fmt.input_flags |= BP_INPUT_SKIP_BAD_LINES;
        return PARSE_RUN;
    case 'o':
        args->output_prefix = value;
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
    *args = (encode_args){.alpha = -1.0, .threads = 1};
    int opt;
    while ((opt = getopt_long(argc, argv, "m:o:h", encode_options, NULL)) != -1) {
        enum parse_result result = apply_encode_option(opt, optarg, args);
        if (result != PARSE_RUN)
            return result;
    }
    if (args->glibc_rand && args->seed > UINT32_MAX) {
        usage_error("--seed must be below 2^32 with --glibc-rand");
        return PARSE_USAGE;
    }
    if (args->glibc_rand && args->first_text > 0) {
        usage_error("--first-text numbers the streams of --seed; --glibc-rand has one sequence");
        return PARSE_USAGE;
    }
    if ((args->output_prefix != NULL) != args->fmt.megatron) {
        usage_error(args->fmt.megatron ? "--output-format megatron needs -o PREFIX"
                                       : "-o PREFIX is for --output-format megatron");
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

/*------ One thread ------*/

/* The state of the one-thread path: an encoder, the random state, room for ids. */
typedef struct encode_job {
    const encode_args *args;
    const bp_model *model;
    bp_encoder *enc;
    bp_encode_options opts;
    bp_rng rng;
    uint64_t seed;
    uint64_t text_index; /* texts encoded so far in the run, across files */
    uint32_t *ids;       /* room for ids (and --offsets), grown by bp_encode_append */
    size_t *offsets;
    size_t cap;
    output *out;
} encode_job;

/* Encodes text number job->text_index of the run into job->ids (and job->offsets). */
static bp_status encode_one(encode_job *job, const unsigned char *text, size_t len,
                            size_t *n_ids)
{
    if ((job->opts.flags & BP_ENCODE_SAMPLE) && !job->args->glibc_rand)
        bp_rng_seed(&job->rng, job->seed, job->text_index);
    job->text_index++;
    *n_ids = 0;
    return bp_encode_append(job->enc, text, len, &job->opts, &job->ids,
                            job->args->fmt.offsets ? &job->offsets : NULL, &job->cap, n_ids,
                            NULL);
}

static int encode_text(void *ctx, const text_source *src, const unsigned char *text, size_t len)
{
    encode_job *job = ctx;
    size_t n_ids;
    bp_status status = encode_one(job, text, len, &n_ids);
    if (status != BP_OK) {
        report_at(src, "%s", bp_strerror(status));
        return 1;
    }
    write_encoded(job->out, &job->args->fmt, job->model, job->ids,
                  job->args->fmt.offsets ? job->offsets : NULL, n_ids);
    return job->out->write_errno != 0;
}

/* Encodes every text of the operands on the calling thread. @return 0, or 1 after a
 * message. */
static int encode_on_one_thread(const encode_args *args, const bp_model *model, uint64_t seed,
                                char **paths, int n_paths, output *out)
{
    encode_job job = {.args = args, .model = model, .seed = seed,
                      .text_index = args->first_text, .out = out};
    job.opts = (bp_encode_options){
        .alpha = args->alpha,
        .flags = args->flags | (args->alpha >= 0 ? BP_ENCODE_SAMPLE : 0),
        .rng = &job.rng};
    if (args->glibc_rand)
        bp_rng_seed_glibc(&job.rng, (uint32_t)seed); /* one state for the whole run */
    int rc = 0;
    bp_error err;
    if (bp_encoder_create(model, &job.enc, &err) != BP_OK) {
        report("%s", err.message);
        rc = 1;
    } else if (args->fmt.jsonl_input) {
        rc = process_jsonl_inputs(paths, n_paths, args->fmt.field, args->fmt.input_flags,
                                   encode_text, &job);
    } else {
        rc = process_inputs(paths, n_paths, args->whole, encode_text, &job);
    }
    free(job.ids);
    free(job.offsets);
    bp_encoder_free(job.enc);
    return rc;
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

    output out = {0};
    megatron_output dataset;
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
    bool dataset_open = false;
    if (rc == 0 && args.fmt.megatron) {
        rc = megatron_encode_open(&dataset, &args.fmt, model, args.output_prefix, &out);
        dataset_open = rc == 0;
    } else {
        out = output_open(stdout);
    }
    if (rc == 0 && args.nbest)
        rc = encode_nbest(&args, model, argv + optind, argc - optind, &out);
    else if (rc == 0 && threads > 1)
        rc = encode_in_blocks(&args, model, seed, argv + optind, argc - optind, threads, &out);
    else if (rc == 0)
        rc = encode_on_one_thread(&args, model, seed, argv + optind, argc - optind, &out);
    if (dataset_open) /* a failure leaves no dataset */
        rc = megatron_encode_close(&dataset, &out, rc);
    else if (out.stream != NULL)
        rc = output_close(&out, rc); /* what came before a failure is written out */
    bp_model_free(model);
    return bad_output != 0 ? bad_output : rc;
}
