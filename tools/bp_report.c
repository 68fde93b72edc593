/*
 * bp_report.c -- `bp report`: compares models on held-out texts, as one self-contained
 * HTML page (tables and inline SVG charts, nothing fetched) or as JSON for scripts. This
 * file parses the command line, reads the texts, measures, and writes the file atomically;
 * the figures are in bp_report_measure.c and bp_report_vocab.c, the writers in
 * bp_report_html.c, bp_report_svg.c and bp_report_json.c. `bp train --report` comes in
 * through write_report().
 * Exit status: 0 success, 1 failure on data or I/O, 2 usage error.
 */
#define _GNU_SOURCE /* getopt_long, which also lets options follow the operands */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bp_report.h"

static const char report_help[] =
    "Usage: bp report [-o FILE] [--format html|json] --text TEXT [--text TEXT]... MODEL...\n"
    "Compare the MODELs (any model bp loads: reference JSON, native, imported) on the\n"
    "held-out TEXTs, to choose a vocabulary. The page is one self-contained HTML file\n"
    "(charts drawn as inline SVG, no script, font or anything else fetched); --format\n"
    "json writes the same figures for scripts. Each TEXT is one text, read whole (it may\n"
    "be zstd-compressed) and encoded as bp encode --whole encodes it: NFC first.\n"
    "\n"
    "Figures of each model on each text, counted over the normalized (NFC) text:\n"
    "  bytes per token        its bytes divided by the number of tokens\n"
    "  tokens per 1000 chars  1000 times the tokens divided by the characters; a\n"
    "                         character is a well-formed UTF-8 sequence, and each\n"
    "                         byte outside one counts as a character too\n"
    "  split characters       the share of the characters that a token boundary cuts\n"
    "                         (a token starts after the first byte of a character)\n"
    "  byte tokens            the share of the bytes that are a token of one byte\n"
    "                         inside a character of several bytes\n"
    "  encode speed           MB (10^6 bytes) of the text as given per second of CPU\n"
    "                         time of one thread, NFC included: the fastest of up to\n"
    "                         10 runs over at least 0.3 s (it depends on the machine)\n"
    "When several MODELs are sizes of one training (MODEL.8000, MODEL.16000, ... as\n"
    "bp train --vocab-size 8000,16000 writes them), a chart shows bytes per token\n"
    "against the vocabulary size, one line per text.\n"
    "Of each model's vocabulary: the number of pieces of each length in bytes; the\n"
    "pieces by what they are made of (the first that applies: not whole UTF-8,\n"
    "whitespace only, digits, punctuation and symbols, letters of one script, letters\n"
    "of several); the 20 longest and the 20 most frequent (highest count) pieces,\n"
    "escaped as by bp encode --output-format pieces. A letter's script is that of its\n"
    "Unicode block (utf8proc has no script property): Latin, Greek, Cyrillic,\n"
    "Armenian, Hebrew, Arabic, Devanagari, Bengali, Thai, Georgian, Hangul, Hiragana,\n"
    "Katakana and Han by their main blocks, other letters \"other scripts\".\n"
    "\n"
    "  -o, --output FILE   where to write (default -, standard output); a file is\n"
    "                      replaced atomically: nothing is left on failure\n"
    "      --format F      html (default) or json\n"
    "      --text TEXT     a held-out text file; give it once per text (required)\n"
    "  -h, --help          show this help and exit\n"
    "\n"
    "A text that cannot be read or is empty, or a model that does not load, stops the\n"
    "run with exit status 1 and writes nothing.\n";

/*====== Reading ======*/

/* Reads the whole text at text->path. @return 0, or 1 after a message. */
static int read_text(report_text *text)
{
    bp_text_input *in;
    bp_error err;
    if (bp_text_input_open(text->path, BP_INPUT_PLAIN, NULL, 0, &in, &err) != BP_OK)
        return exit_status(err.code, &err);
    size_t cap = 0;
    const unsigned char *data;
    size_t len;
    int end_of_text;
    bp_status st;
    while ((st = bp_text_input_next(in, &data, &len, &end_of_text, &err)) == BP_OK && data) {
        reserve_array(&text->bytes, &cap, text->len + len, 1);
        if (len > 0)
            memcpy(text->bytes + text->len, data, len);
        text->len += len;
    }
    bp_text_input_close(in);
    if (st != BP_OK)
        return exit_status(st, &err);
    if (text->len == 0) {
        report("%s: the text is empty: there is nothing to measure", operand_name(text->path));
        return 1;
    }
    return 0;
}

/*====== Writing ======*/

/* Writes the bytes to the stream; @return 0, or 1 after a message naming `name`. */
static int write_stream(FILE *fp, const char *name, const output *content)
{
    if (fwrite(content->data, 1, content->len, fp) != content->len || fflush(fp) != 0) {
        report("cannot write %s: %s", name, strerror(errno));
        return 1;
    }
    return 0;
}

/* Replaces the regular file `path` by the content: written to a temporary file beside it
 * (beside the file a link leads to), then renamed over it, so that it is never seen half
 * written and a failure leaves nothing. A device or FIFO is written into directly.
 * @return 0, or 1 after a message. */
static int write_atomically(const char *path, const output *content)
{
    if (strcmp(path, "-") == 0)
        return write_stream(stdout, "<stdout>", content);
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        report("cannot write %s: %s", path, strerror(EISDIR));
        return 1;
    }
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        FILE *fp = fopen(path, "wb");
        int rc = fp ? write_stream(fp, path, content) : 1;
        if (!fp)
            report("cannot write %s: %s", path, strerror(errno));
        if (fp && fclose(fp) != 0 && rc == 0) {
            report("cannot write %s: %s", path, strerror(errno));
            rc = 1;
        }
        return rc;
    }
    char *real = realpath(path, NULL); /* NULL when nothing is there yet */
    const char *target = real ? real : path;
    size_t len = strlen(target);
    char *temp = grow_or_die(NULL, len + 16, 1);
    snprintf(temp, len + 16, "%s.tmp.XXXXXX", target);
    int fd = mkstemp(temp);
    int rc = 0;
    if (fd < 0) {
        report("cannot create %s: %s", path, strerror(errno));
        rc = 1;
    } else {
        mode_t mask = umask(0);
        umask(mask);
        FILE *fp = fdopen(fd, "wb");
        rc = !fp || fchmod(fd, 0666 & ~mask) != 0 ? 1 : write_stream(fp, path, content);
        if (!fp) {
            close(fd);
        } else if (fclose(fp) != 0 && rc == 0) {
            report("cannot write %s: %s", path, strerror(errno));
            rc = 1;
        }
        if (rc == 0 && rename(temp, target) != 0) {
            report("cannot write %s: %s", path, strerror(errno));
            rc = 1;
        }
        if (rc != 0)
            unlink(temp);
    }
    free(temp);
    free(real);
    return rc;
}

/*====== The report ======*/

/* What the page calls a model: its file name, or its whole path when two models share the
 * file name. */
static void label_models(report_model *models, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *slash = strrchr(models[i].path, '/');
        models[i].label = slash ? slash + 1 : models[i].path;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            if (i != j && strcmp(models[i].label, models[j].label) == 0 &&
                strcmp(models[i].path, models[j].path) != 0)
                models[i].label = models[i].path;
}

/* The SIZE of a path MODEL.SIZE (what bp train writes for several sizes), else 0. */
static uint64_t sweep_size(const char *path)
{
    const char *dot = strrchr(path, '.');
    uint64_t size;
    if (!dot || strlen(dot + 1) > 10 || !parse_u64(dot + 1, &size))
        return 0;
    return size;
}

int write_report(const char *out_path, bool json, bp_model *const *models,
                 const char *const *model_paths, size_t n_models, const char *const *text_paths,
                 size_t n_texts, const char *note)
{
    report_text *texts = grow_or_die(NULL, n_texts, sizeof *texts);
    report_data r = {.n_models = n_models, .texts = texts, .n_texts = n_texts, .note = note};
    r.models = grow_or_die(NULL, n_models, sizeof *r.models);
    r.figures = grow_or_die(NULL, n_models * n_texts, sizeof *r.figures);
    int rc = 0;
    for (size_t t = 0; t < n_texts; t++)
        texts[t] = (report_text){.path = text_paths[t]};
    for (size_t t = 0; t < n_texts && rc == 0; t++)
        rc = read_text(&texts[t]);
    for (size_t m = 0; m < n_models; m++) {
        r.models[m] = (report_model){.path = model_paths[m], .model = models[m],
                                     .sweep_size = sweep_size(model_paths[m])};
        survey_vocab(models[m], &r.models[m].survey);
    }
    label_models(r.models, n_models);
    for (size_t i = 0; i < n_models * n_texts && rc == 0; i++)
        rc = measure_text(models[i / n_texts], &texts[i % n_texts], &r.figures[i]);
    if (rc == 0) {
        output page = output_open(NULL);
        if (json)
            write_report_json(&page, &r);
        else
            write_report_html(&page, &r);
        rc = write_atomically(out_path, &page);
        free(page.data);
    }
    for (size_t m = 0; m < n_models; m++)
        free_survey(&r.models[m].survey);
    for (size_t t = 0; t < n_texts; t++)
        free(texts[t].bytes);
    free(texts);
    free(r.models);
    free(r.figures);
    return rc;
}

/*====== bp report ======*/

typedef struct report_args {
    const char *output;
    bool json;
    const char **texts;
    size_t n_texts, texts_cap;
} report_args;

enum { OPT_FORMAT = 256, OPT_TEXT };

static const struct option report_options[] = {
    {"output", required_argument, NULL, 'o'},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"text", required_argument, NULL, OPT_TEXT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static enum parse_result parse_report_args(int argc, char **argv, report_args *args)
{
    *args = (report_args){.output = "-"};
    int opt;
    while ((opt = getopt_long(argc, argv, "o:h", report_options, NULL)) != -1) {
        if (opt == 'o') {
            args->output = optarg;
        } else if (opt == OPT_FORMAT) {
            if (strcmp(optarg, "html") != 0 && strcmp(optarg, "json") != 0)
                return bad_option_value("--format", optarg, "html or json");
            args->json = strcmp(optarg, "json") == 0;
        } else if (opt == OPT_TEXT) {
            reserve_array(&args->texts, &args->texts_cap, args->n_texts + 1,
                          sizeof *args->texts);
            args->texts[args->n_texts++] = optarg;
        } else if (opt == 'h') {
            return PARSE_HELP;
        } else { /* getopt_long has printed what is wrong */
            return usage_hint(), PARSE_USAGE;
        }
    }
    if (args->n_texts == 0)
        return usage_error("missing --text TEXT: the held-out text to measure on"), PARSE_USAGE;
    if (optind == argc)
        return usage_error("missing MODEL operand"), PARSE_USAGE;
    return PARSE_RUN;
}

int run_report(int argc, char **argv)
{
    report_args args;
    enum parse_result parsed = parse_report_args(argc, argv, &args);
    if (parsed != PARSE_RUN) {
        free(args.texts);
        return parsed == PARSE_HELP ? print_text(report_help) : 2;
    }
    size_t n_models = (size_t)(argc - optind);
    bp_model **models = grow_or_die(NULL, n_models, sizeof *models);
    int rc = 0;
    size_t loaded = 0;
    for (; loaded < n_models && rc == 0; loaded++)
        rc = load_model(argv[optind + (int)loaded], &models[loaded]);
    if (rc == 0)
        rc = write_report(args.output, args.json, models, (const char *const *)argv + optind,
                          n_models, args.texts, args.n_texts, NULL);
    for (size_t m = 0; m < loaded; m++)
        bp_model_free(models[m]);
    free(models);
    free(args.texts);
    return rc;
}
