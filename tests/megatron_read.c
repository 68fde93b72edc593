/*
 * megatron_read.c -- a reader of Megatron-LM indexed datasets written from the format's
 * description in docs/formats.md (section 4), sharing no code with bp, so that a test can
 * check what `bp encode --output-format megatron` writes against what it encodes.
 *
 * Usage: megatron_read PREFIX
 * Reads PREFIX.idx and PREFIX.bin and prints every document: its sequences' token ids
 * separated by single spaces, one line per document (the ids output of `bp encode`, when
 * every document is one sequence). Exit status 1, with a message, when the files break
 * the format: wrong magic or version, unknown dtype, sizes that do not add up, pointers
 * that are not where the lengths put them, a document index that is not 0, ..., count.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *prefix;

static void fail(const char *what)
{
    fprintf(stderr, "megatron_read: %s: %s\n", prefix, what);
    exit(1);
}

static unsigned char *slurp(const char *suffix, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s%s", prefix, suffix);
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        fail("cannot open a file of the dataset");
    size_t cap = 1 << 16;
    unsigned char *data = malloc(cap);
    *len = 0;
    size_t got;
    while (data != NULL && (got = fread(data + *len, 1, cap - *len, fp)) > 0) {
        *len += got;
        if (*len == cap)
            data = realloc(data, cap *= 2);
    }
    fclose(fp);
    if (data == NULL)
        fail("out of memory");
    return data;
}

/* The little-endian unsigned number of `width` bytes at p. */
static uint64_t le(const unsigned char *p, int width)
{
    uint64_t v = 0;
    for (int i = width - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: megatron_read PREFIX\n");
        return 2;
    }
    prefix = argv[1];
    size_t idx_len, bin_len;
    unsigned char *idx = slurp(".idx", &idx_len), *bin = slurp(".bin", &bin_len);
    if (idx_len < 34 || memcmp(idx, "MMIDIDX\0\0", 9) != 0)
        fail("no MMIDIDX header");
    if (le(idx + 9, 8) != 1)
        fail("version is not 1");
    int width = idx[17] == 8 ? 2 : idx[17] == 4 ? 4 : 0; /* uint16, int32 */
    if (width == 0)
        fail("dtype is neither uint16 (8) nor int32 (4)");
    uint64_t n_seq = le(idx + 18, 8), n_doc_entries = le(idx + 26, 8);
    if (n_doc_entries < 1 || idx_len != 34 + 12 * n_seq + 8 * n_doc_entries)
        fail("the index size does not match its counts");
    const unsigned char *lengths = idx + 34, *pointers = lengths + 4 * n_seq,
                        *docs = pointers + 8 * n_seq;
    uint64_t at = 0;
    for (uint64_t s = 0; s < n_seq; s++) {
        if (le(pointers + 8 * s, 8) != at)
            fail("a sequence pointer is not the end of the sequence before");
        at += le(lengths + 4 * s, 4) * (uint64_t)width;
    }
    if (at != bin_len)
        fail("the .bin size is not the sum of the sequence lengths");
    if (le(docs, 8) != 0 || le(docs + 8 * (n_doc_entries - 1), 8) != n_seq)
        fail("the document index does not run from 0 to the sequence count");
    for (uint64_t d = 0; d + 1 < n_doc_entries; d++) {
        uint64_t first = le(docs + 8 * d, 8), end = le(docs + 8 * (d + 1), 8);
        if (end < first)
            fail("the document index goes down");
        int printed = 0;
        for (uint64_t s = first; s < end; s++) {
            const unsigned char *p = bin + le(pointers + 8 * s, 8);
            for (uint64_t t = 0; t < le(lengths + 4 * s, 4); t++, p += width)
                printf(printed++ ? " %llu" : "%llu", (unsigned long long)le(p, width));
        }
        putchar('\n');
    }
    free(idx);
    free(bin);
    return ferror(stdout) || fclose(stdout) != 0;
}
