/*
 * bp_add_tokens.c -- `bp add-tokens -m MODEL -o OUT TOKEN...`: a model whose vocabulary
 * also holds the given special tokens (bp_model_add_special), written as a native model.
 * Exit status: 0 success, 1 failure on data or I/O (nothing written), 2 usage error.
 */
#define _GNU_SOURCE /* getopt_long */

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char add_tokens_help[] =
    "Usage: bp add-tokens -m MODEL -o OUT TOKEN...\n"
    "Write to OUT the model MODEL with the TOKENs added as special tokens, for chat\n"
    "templates, end of text or tool calls (<|im_start|>, <|endoftext|>, [INST]).\n"
    "They take the ids after the last id of MODEL, in the order given; the ids of\n"
    "MODEL never change. A TOKEN is any non-empty UTF-8 string, taken as it is\n"
    "written (no escapes); put -- before TOKENs that start with '-'. bp encode\n"
    "matches special tokens only with --special (by default their text is\n"
    "ordinary text); bp decode writes their text (--skip-special: nothing).\n"
    "OUT is a native model (the reference JSON format cannot hold special tokens),\n"
    "replaced atomically; its directory must exist. An empty TOKEN, one that is not\n"
    "UTF-8, one already a special token of MODEL, one named <pad>, <bos> or <eos>,\n"
    "or one given twice is an error (exit status 1), and nothing is written.\n"
    "\n"
    "  -m, --model MODEL  the model: reference BytePiece JSON, plain or\n"
    "                     zstd-compressed, or native (required)\n"
    "  -o, --output OUT   the native model to write (required)\n"
    "  -h, --help         show this help and exit\n";

static const struct option add_tokens_options[] = {
    {"model", required_argument, NULL, 'm'},
    {"output", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static enum parse_result parse_add_tokens_options(int argc, char **argv, const char **model_path,
                                                  const char **out_path)
{
    *model_path = *out_path = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, "m:o:h", add_tokens_options, NULL)) != -1) {
        if (opt == 'm') {
            *model_path = optarg;
        } else if (opt == 'o') {
            *out_path = optarg;
        } else if (opt == 'h') {
            return PARSE_HELP;
        } else { /* getopt_long has printed what is wrong */
            usage_hint();
            return PARSE_USAGE;
        }
    }
    if (*model_path && !*out_path) {
        usage_error("missing -o OUT");
        return PARSE_USAGE;
    }
    if (*model_path && optind >= argc) {
        usage_error("missing TOKEN");
        return PARSE_USAGE;
    }
    return finish_parse(*model_path);
}

int run_add_tokens(int argc, char **argv)
{
    const char *model_path, *out_path;
    enum parse_result parsed = parse_add_tokens_options(argc, argv, &model_path, &out_path);
    if (parsed != PARSE_RUN)
        return parsed == PARSE_HELP ? print_text(add_tokens_help) : 2;
    bp_model *model = NULL;
    if (load_model(model_path, &model) != 0)
        return 1;
    const char *const *tokens = (const char *const *)argv + optind;
    size_t n = (size_t)(argc - optind);
    size_t *lens = grow_or_die(NULL, n, sizeof *lens);
    for (size_t i = 0; i < n; i++)
        lens[i] = strlen(tokens[i]);
    bp_model *with_tokens = NULL;
    bp_error err;
    bp_status st = bp_model_add_special(model, tokens, lens, n, &with_tokens, &err);
    bool reported = st == BP_ERR_BAD_SPECIAL && err.offset < n;
    if (reported) {
        output shown = output_open(NULL); /* the token escaped, as bp vocab shows pieces */
        output_escaped(&shown, tokens[err.offset], lens[err.offset]);
        /* The library says "...: special token I <problem>"; the user knows TOKENs by place. */
        const char *problem = strstr(err.message, "special token ");
        if (problem) {
            problem += strlen("special token ");
            problem += strspn(problem, "0123456789 ");
        }
        report("TOKEN %llu '%.*s' %s", (unsigned long long)err.offset + 1, (int)shown.len,
               shown.data, problem ? problem : err.message);
        free(shown.data);
    } else if (st == BP_OK) {
        st = bp_model_save_native(with_tokens, out_path, &err);
    }
    int rc = reported ? 1 : exit_status(st, &err);
    free(lens);
    bp_model_free(with_tokens);
    bp_model_free(model);
    return rc;
}
