/*
 * bp_merge.c -- `bp merge`: sums count files (bp count, bp segment, bp merge) into one
 * with the library's bp_counts_merge, which streams: memory stays a few buffers per input.
 * Exit status: 0 success, 1 failure on data or I/O, 2 usage error.
 */
#define _GNU_SOURCE /* getopt_long, which also lets options follow file operands */

#include <getopt.h>
#include <inttypes.h>
#include <sys/resource.h>

#include "cli.h"

static const char merge_help[] =
    "Usage: bp merge -o OUTPUT [OPTION]... COUNTS...\n"
    "Sum count files of one kind (n-gram counts of bp count, piece counts of\n"
    "bp segment, or earlier merges) into OUTPUT. The sum is exact and its file\n"
    "canonical: any tree of merges of the same files gives the same bytes. Files made\n"
    "with different options, or of different kinds, are refused.\n"
    "\n"
    "  -o, --output OUTPUT   the count file to write (required); it may be one of\n"
    "                        the COUNTS, replaced once the sum is complete\n"
    "      --prune           keep only what bp segment reads: every byte, and the\n"
    "                        n-grams that reach --min-count. For the last merge of\n"
    "                        n-gram counts: a fraction of the size, read that much\n"
    "                        faster by every bp segment, the same piece counts; a\n"
    "                        pruned file is no sum and is never merged again\n"
    "      --memory-limit SIZE  accepted for pipelines that pass it to every stage:\n"
    "                        a merge streams, holding a few buffers per input\n"
    "                        whatever the size of the files (SIZE as for bp train)\n"
    "  -q, --quiet           print no summary\n"
    "  -h, --help            show this help and exit\n"
    "\n"
    "OUTPUT is written to a temporary file renamed into place (docs/count-format.md).\n"
    "Exit status: 0 success, 1 failure, 2 usage error.\n";

enum { OPT_MEMORY_LIMIT = 256, OPT_PRUNE };

static const struct option merge_options[] = {
    {"output", required_argument, NULL, 'o'},
    {"memory-limit", required_argument, NULL, OPT_MEMORY_LIMIT},
    {"prune", no_argument, NULL, OPT_PRUNE},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int run_merge(int argc, char **argv)
{
    const char *output = NULL;
    bool quiet = false, prune = false;
    size_t memory_limit; /* checked only: the merge stays within any limit allowed */
    int opt;
    while ((opt = getopt_long(argc, argv, "o:qh", merge_options, NULL)) != -1) {
        if (opt == 'o')
            output = optarg;
        else if (opt == OPT_MEMORY_LIMIT && parse_memory_limit(optarg, &memory_limit) != PARSE_RUN)
            return 2;
        else if (opt == OPT_MEMORY_LIMIT)
            continue;
        else if (opt == OPT_PRUNE)
            prune = true;
        else if (opt == 'q')
            quiet = true;
        else if (opt == 'h')
            return print_text(merge_help);
        else
            return usage_hint();
    }
    if (!output)
        return usage_error("-o OUTPUT is required");
    if (optind == argc)
        return usage_error("no COUNTS file given");
    bp_counts_info info;
    bp_error err;
    size_t n = (size_t)(argc - optind);
    const char *const *inputs = (const char *const *)(argv + optind);
    if ((prune ? bp_counts_merge_pruned(inputs, n, output, &info, &err)
               : bp_counts_merge(inputs, n, output, &info, &err)) != BP_OK) {
        report("%s", err.message);
        return 1;
    }
    if (!quiet) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        char bytes[32], peak[32];
        fprintf(stderr, "%s: %zu input%s, %s of text; %s: %" PRIu64 " %s; peak memory %s\n",
                program_name, n, n == 1 ? "" : "s",
                human_bytes(bytes, sizeof bytes, (double)info.bytes), output, info.entries,
                info.kind == BP_COUNTS_PIECES ? "distinct pieces" : "n-grams",
                human_bytes(peak, sizeof peak, (double)ru.ru_maxrss * 1024));
    }
    return 0;
}
