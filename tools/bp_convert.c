/*
 * bp_convert.c -- `bp convert`: converts a model between the reference BytePiece JSON
 * format and the native binary format of libbytepiece (bp_model_save_native), which loads
 * in milliseconds. The input's format is recognised by content; by default the output is
 * the other format. Both writers replace the output atomically.
 * Exit status: 0 success, 1 failure on data or I/O, 2 usage error.
 */
#define _GNU_SOURCE /* getopt_long */

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char convert_help[] =
    "Usage: bp convert [OPTION]... IN OUT\n"
    "Convert the model IN to OUT: a reference BytePiece JSON model (plain or\n"
    "zstd-compressed) becomes a native model, which 'bp' and the library load in\n"
    "milliseconds, and a native model becomes reference JSON again (byte for byte\n"
    "what the Python BytePiece writes). The format of IN is recognised by content,\n"
    "not by name (either may be zstd-compressed). OUT is replaced atomically (a\n"
    "symbolic link is written through, a device or FIFO written into); its directory\n"
    "must exist. A model with special tokens (bp add-tokens) converts to native\n"
    "only: the reference JSON format cannot hold them, and they are not dropped\n"
    "(exit status 1, nothing written).\n"
    "\n"
    "      --to FORMAT  write FORMAT whatever IN is: json or native\n"
    "  -h, --help       show this help and exit\n";

enum output_format { TO_OTHER, TO_JSON, TO_NATIVE };

static const struct option convert_options[] = {
    {"to", required_argument, NULL, 't'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static enum parse_result parse_convert_args(int argc, char **argv, enum output_format *to)
{
    *to = TO_OTHER;
    int opt;
    while ((opt = getopt_long(argc, argv, "h", convert_options, NULL)) != -1) {
        switch (opt) {
        case 't':
            if (strcmp(optarg, "json") == 0)
                *to = TO_JSON;
            else if (strcmp(optarg, "native") == 0)
                *to = TO_NATIVE;
            else
                return bad_option_value("--to", optarg, "json or native");
            break;
        case 'h':
            return PARSE_HELP;
        default: /* getopt_long has printed what is wrong */
            usage_hint();
            return PARSE_USAGE;
        }
    }
    return expect_operands(argc, 2, "IN or OUT");
}

int run_convert(int argc, char **argv)
{
    enum output_format to;
    enum parse_result parsed = parse_convert_args(argc, argv, &to);
    if (parsed != PARSE_RUN)
        return parsed == PARSE_HELP ? print_text(convert_help) : 2;
    const char *in = argv[optind], *out = argv[optind + 1];
    bp_model *model = NULL;
    if (load_model(in, &model) != 0)
        return 1;
    if (to == TO_OTHER) /* the other format than the one read (zstd or not) */
        to = bp_model_is_native(model) ? TO_JSON : TO_NATIVE;
    size_t n_special = bp_model_special_count(model);
    if (to == TO_JSON && n_special > 0) { /* refused, never dropped */
        report("%s: the model has %zu special token%s, which the reference JSON format cannot "
               "hold; keep it native (--to native), or convert the model without them and add "
               "them again with bp add-tokens", in, n_special, n_special == 1 ? "" : "s");
        bp_model_free(model);
        return 1;
    }
    bp_error err;
    bp_status st = to == TO_JSON ? bp_model_save(model, out, &err)
                                 : bp_model_save_native(model, out, &err);
    bp_model_free(model);
    return exit_status(st, &err);
}
