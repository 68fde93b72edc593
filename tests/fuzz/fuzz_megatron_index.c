/*
 * fuzz_megatron_index.c -- libFuzzer target: the parser of Megatron-LM indexes
 * (tools/megatron_index.c), which `bp merge-megatron` runs on files it is given.
 *
 * Input: the bytes of an index file.
 *
 * Checks: parsing never crashes and either fails with a message or gives an index that,
 * written out again, is exactly the input (the format has one spelling of each index).
 * A parsed index appended to itself parses back from what is written, with twice the
 * sequences, twice the tokens, and the second half of its document index the first moved
 * past the first half's sequences.
 */
#define _GNU_SOURCE /* open_memstream */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "megatron_index.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes ix to memory: *bytes (malloc'd), *len. */
static FUZZ_NO_COVERAGE void write_to_memory(const megatron_index *ix, char **bytes,
                                             size_t *len)
{
    FILE *fp = open_memstream(bytes, len);
    FUZZ_CHECK(fp != NULL);
    FUZZ_CHECK(megatron_index_write(ix, fp));
    FUZZ_CHECK(fclose(fp) == 0);
}

static FUZZ_NO_COVERAGE void check_doubled(const megatron_index *ix)
{
    megatron_index twice, back;
    FUZZ_CHECK(megatron_index_init(&twice, ix->dtype));
    FUZZ_CHECK(megatron_index_append(&twice, ix) == NULL);
    FUZZ_CHECK(megatron_index_append(&twice, ix) == NULL);
    char *bytes;
    size_t len;
    write_to_memory(&twice, &bytes, &len);
    FUZZ_CHECK(megatron_index_parse((const unsigned char *)bytes, len, &back) == NULL);
    FUZZ_CHECK(back.n_sequences == 2 * ix->n_sequences);
    FUZZ_CHECK(megatron_bin_bytes(&back) == 2 * megatron_bin_bytes(ix));
    FUZZ_CHECK(back.n_doc_index == 2 * ix->n_doc_index - 1);
    for (uint64_t d = 1; d < ix->n_doc_index; d++)
        FUZZ_CHECK(back.doc_index[ix->n_doc_index - 1 + d] ==
                   ix->n_sequences + ix->doc_index[d]);
    free(bytes);
    megatron_index_free(&back);
    megatron_index_free(&twice);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    megatron_index ix;
    const char *bad = megatron_index_parse(data, size, &ix);
    if (bad != NULL) {
        FUZZ_CHECK(*bad != '\0');
        megatron_index_free(&ix);
        return 0;
    }
    char *bytes;
    size_t len;
    write_to_memory(&ix, &bytes, &len);
    FUZZ_CHECK(len == size && memcmp(bytes, data, size) == 0);
    free(bytes);
    check_doubled(&ix);
    megatron_index_free(&ix);
    return 0;
}
