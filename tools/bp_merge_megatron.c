/*
 * bp_merge_megatron.c -- `bp merge-megatron -o PREFIX IN...`: joins Megatron-LM datasets
 * end to end into one, exactly the dataset one `bp encode` run over the inputs' texts in
 * the same order gives: PREFIX.bin is the inputs' .bin files one after another, and the
 * index lists their sequences with the pointers and document indices moved past those of
 * the inputs before (megatron_index_append). Every input is checked before anything is
 * written, so a bad one leaves nothing behind.
 */
#define _GNU_SOURCE /* getopt_long */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "megatron.h"

static const char merge_help[] =
    "Usage: bp merge-megatron -o PREFIX IN...\n"
    "Join the Megatron-LM datasets IN.bin/IN.idx, in the order given, into PREFIX.bin and\n"
    "PREFIX.idx: the dataset that one `bp encode --output-format megatron` run over their\n"
    "texts in that order writes. The inputs must hold tokens of the same dtype. Both\n"
    "files appear only when the merge succeeds; a missing, truncated or mismatched input\n"
    "is reported and nothing is written (exit status 1).\n"
    "\n"
    "  -o, --output PREFIX    the dataset to write (required)\n"
    "  -h, --help             show this help and exit\n";

static const struct option merge_options[] = {
    {"output", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static enum parse_result parse_merge_args(int argc, char **argv, const char **prefix)
{
    int opt;
    *prefix = NULL;
    while ((opt = getopt_long(argc, argv, "o:h", merge_options, NULL)) != -1) {
        if (opt == 'h')
            return PARSE_HELP;
        if (opt != 'o') {
            usage_hint();
            return PARSE_USAGE;
        }
        *prefix = optarg;
    }
    if (*prefix == NULL)
        return usage_error("-o PREFIX is required"), PARSE_USAGE;
    if (optind == argc)
        return usage_error("no dataset to merge (IN...)"), PARSE_USAGE;
    return PARSE_RUN;
}

static char *with_suffix(const char *prefix, const char *suffix)
{
    size_t len = strlen(prefix) + strlen(suffix) + 1;
    char *s = grow_or_die(NULL, len, 1);
    snprintf(s, len, "%s%s", prefix, suffix);
    return s;
}

/* Reads the whole file at `path` into *bytes (malloc'd). @return 0, or 1 after a message. */
static int read_file(const char *path, unsigned char **bytes, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    struct stat sb;
    if (fp == NULL || fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        report("%s: %s", path, fp == NULL ? strerror(errno) : "not a regular file");
        if (fp != NULL)
            fclose(fp);
        return 1;
    }
    *len = (size_t)sb.st_size;
    *bytes = grow_or_die(NULL, *len ? *len : 1, 1);
    bool complete = fread(*bytes, 1, *len, fp) == *len;
    int read_errno = errno;
    fclose(fp);
    if (complete)
        return 0;
    report("%s: %s", path, read_errno ? strerror(read_errno) : "it shrank while read");
    free(*bytes);
    return 1;
}

/* Checks the dataset whose index is bytes[0..len) (its own consistency, the size of its
 * .bin, its dtype against that of `first`, the first input) and appends its index to
 * `merged`, which the first input initialises; *bin_bytes is the size of its .bin.
 * @return 0, or 1 after a message. */
static int check_and_append(const char *idx_path, const char *bin_path,
                            const unsigned char *bytes, size_t len, megatron_index *merged,
                            const char *first, uint64_t *bin_bytes)
{
    megatron_index ix;
    const char *bad = megatron_index_parse(bytes, len, &ix);
    *bin_bytes = megatron_bin_bytes(&ix);
    struct stat sb;
    int rc = 1;
    if (bad != NULL)
        report("%s: %s", idx_path, bad);
    else if (stat(bin_path, &sb) != 0)
        report("%s: %s", bin_path, strerror(errno));
    else if ((uint64_t)sb.st_size != *bin_bytes)
        report("%s holds %" PRIu64 " bytes, but %s describes %" PRIu64 " (truncated?)",
               bin_path, (uint64_t)sb.st_size, idx_path, *bin_bytes);
    else if (merged->doc_index == NULL && !megatron_index_init(merged, ix.dtype))
        report("%s", bp_strerror(BP_ERR_NOMEM));
    else if (merged->dtype != ix.dtype)
        report("%s holds tokens of dtype %s, but %s.idx of dtype %s: they do not merge", idx_path,
               megatron_dtype_name(ix.dtype), first, megatron_dtype_name(merged->dtype));
    else if ((bad = megatron_index_append(merged, &ix)) != NULL)
        report("%s: %s", idx_path, bad);
    else
        rc = 0;
    megatron_index_free(&ix);
    return rc;
}

/* Reads and checks the dataset `prefix` and appends its index to `merged`; *bin_bytes is
 * the size of its .bin. @return 0, or 1 after a message. */
static int add_input(const char *prefix, megatron_index *merged, const char *first,
                     uint64_t *bin_bytes)
{
    char *idx_path = with_suffix(prefix, ".idx"), *bin_path = with_suffix(prefix, ".bin");
    unsigned char *bytes;
    size_t len;
    int rc = read_file(idx_path, &bytes, &len);
    if (rc == 0) {
        rc = check_and_append(idx_path, bin_path, bytes, len, merged, first, bin_bytes);
        free(bytes);
    }
    free(idx_path);
    free(bin_path);
    return rc;
}

/* Appends the bytes of IN.bin, which must still be `expected` bytes long, to `out`.
 * @return 0, or 1 after a message. */
static int copy_bin(const char *prefix, uint64_t expected, output *out)
{
    char *path = with_suffix(prefix, ".bin");
    FILE *fp = fopen(path, "rb");
    uint64_t copied = 0;
    int read_errno = errno;
    while (fp != NULL && out->write_errno == 0) {
        output_reserve(out, READ_CHUNK);
        size_t got = fread(out->data + out->len, 1, READ_CHUNK, fp);
        out->len += got;
        copied += got;
        if (got < READ_CHUNK) {
            read_errno = ferror(fp) ? errno : 0;
            break;
        }
    }
    int rc = 0;
    if (fp == NULL || read_errno != 0)
        rc = report_read_error(&(text_source){.name = path}, read_errno);
    else if (copied != expected)
        rc = (report("%s changed while it was merged", path), 1);
    if (fp != NULL)
        fclose(fp);
    free(path);
    return rc;
}

int run_merge_megatron(int argc, char **argv)
{
    const char *prefix;
    enum parse_result parsed = parse_merge_args(argc, argv, &prefix);
    if (parsed != PARSE_RUN)
        return parsed == PARSE_HELP ? print_text(merge_help) : 2;
    char **inputs = argv + optind;
    int n_inputs = argc - optind;
    megatron_index merged = {0};
    uint64_t *bin_bytes = grow_or_die(NULL, (size_t)n_inputs, sizeof *bin_bytes);
    int rc = 0;
    for (int i = 0; rc == 0 && i < n_inputs; i++)
        rc = add_input(inputs[i], &merged, inputs[0], &bin_bytes[i]);
    megatron_output mo;
    if (rc == 0)
        rc = megatron_output_open(&mo, prefix, merged.dtype);
    if (rc == 0) {
        megatron_index_free(&mo.index);
        mo.index = merged; /* the dataset's index is the merged one, now mo's */
        merged = (megatron_index){0};
        output out = output_open(mo.bin);
        for (int i = 0; rc == 0 && i < n_inputs; i++)
            rc = copy_bin(inputs[i], bin_bytes[i], &out);
        rc = megatron_output_finish(&mo, output_close(&out, rc));
    }
    megatron_index_free(&merged);
    free(bin_bytes);
    return rc;
}
