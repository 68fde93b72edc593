/*
 * megatron_index.h -- the index (PREFIX.idx) of a Megatron-LM indexed dataset, version 1
 * (docs/formats.md, section 4): held in memory, built sequence by sequence, parsed from
 * bytes, appended to another, written to a stream. No messages and no files of its own,
 * so that the fuzz target can take this file alone; failures come back as a text.
 */
#ifndef BP_MEGATRON_INDEX_H
#define BP_MEGATRON_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum {
    MEGATRON_HEADER_BYTES = 34, /* magic 9, version 8, dtype 1, two counts 8 each */
    MEGATRON_UINT16 = 8,        /* the dtype codes bp writes */
    MEGATRON_INT32 = 4,
    MEGATRON_UINT16_BELOW = 65500 /* vocabularies under this many ids are stored as uint16 */
};

typedef struct megatron_index {
    uint8_t dtype;         /* Megatron's numpy dtype code of the tokens in PREFIX.bin */
    uint32_t *lengths;     /* tokens of each sequence, each at most INT32_MAX */
    uint64_t n_sequences, lengths_cap;
    uint64_t *doc_index;   /* n_docs + 1 entries: 0, then the sequence that ends each document */
    uint64_t n_doc_index, doc_index_cap;
    uint64_t tokens;       /* sum of lengths */
    bool too_long;         /* a sequence of more than INT32_MAX tokens was refused */
} megatron_index;

/* The bytes of one token of dtype `code` (the codes 1 to 8 of Megatron-LM), 0 for an
 * unknown code. */
size_t megatron_dtype_size(unsigned code);

/* "uint16", "int32", ... ("unknown" for an unknown code). */
const char *megatron_dtype_name(unsigned code);

/* An empty index (no sequence, document index {0}) of tokens of dtype `code`. @return
 * false when out of memory. */
bool megatron_index_init(megatron_index *ix, uint8_t code);

/* Appends a sequence of n_tokens tokens that is a document of its own. Too many tokens
 * for the format's int32 sets ix->too_long and appends nothing. @return false when out of
 * memory (the index is as it was). */
bool megatron_index_add(megatron_index *ix, uint64_t n_tokens);

/* Parses the index file bytes[0..len) into *ix (initialised here; free it also after a
 * failure). Refused: a wrong magic, a version other than 1, an unknown dtype, a size that
 * does not match the counts, a sequence length outside 0 .. INT32_MAX, sequence pointers
 * that do not lay the sequences end to end from 0 (which concatenation needs), a document
 * index that does not start at 0, go up, and end at the sequence count. @return NULL, or
 * what is wrong ("truncated index", ...). */
const char *megatron_index_parse(const unsigned char *bytes, size_t len, megatron_index *ix);

/* The size in bytes of PREFIX.bin that goes with the index. */
uint64_t megatron_bin_bytes(const megatron_index *ix);

/* Appends the sequences and documents of `from` to `into`, as if PREFIX.bin of `from`
 * followed that of `into`. @return NULL, or what is wrong (the dtypes differ, out of
 * memory). */
const char *megatron_index_append(megatron_index *into, const megatron_index *from);

/* Writes the index file to fp (little-endian whatever the machine). @return false after
 * a write error (errno set by stdio). */
bool megatron_index_write(const megatron_index *ix, FILE *fp);

void megatron_index_free(megatron_index *ix);

#endif
