/*
 * counts_file.h -- reading and writing count files (docs/count-format.md), the files the
 * stages of a sharded training exchange. Not installed.
 *
 * Both sides stream: a writer takes entries in order and never holds the file, a reader
 * gives them one at a time and validates as it goes, so that merging files of any size
 * costs a few buffers. Entries are (bytes, count) pairs, ordered by length, then bytes.
 */
#ifndef BP_COUNTS_FILE_H
#define BP_COUNTS_FILE_H

#include <string.h>

#include "bp_internal.h"

#define BP_COUNTS_MAX_ENTRY ((size_t)1 << 20) /* longest entry: a piece is within a chunk */

/* The order of entries in a file: shorter first, then bytes. */
static inline int bp_counts_compare(const unsigned char *a, size_t a_len, const unsigned char *b,
                                    size_t b_len)
{
    if (a_len != b_len)
        return a_len < b_len ? -1 : 1;
    return memcmp(a, b, a_len);
}

/* The first 8 bytes of an entry, big-endian and zero-padded: with the lengths, enough to
 * order entries of up to 8 bytes (every n-gram) without memcmp. */
static inline uint64_t bp_counts_key(const unsigned char *bytes, size_t len)
{
    uint64_t key = 0;
    for (size_t i = 0; i < 8; i++)
        key = key << 8 | (i < len ? bytes[i] : 0);
    return key;
}

/* bp_counts_compare of two entries given with their bp_counts_key. */
static inline int bp_counts_compare_keyed(uint64_t a_key, const unsigned char *a, size_t a_len,
                                          uint64_t b_key, const unsigned char *b, size_t b_len)
{
    if (a_len != b_len)
        return a_len < b_len ? -1 : 1;
    if (a_key != b_key)
        return a_key < b_key ? -1 : 1;
    return a_len <= 8 ? 0 : memcmp(a + 8, b + 8, a_len - 8);
}

/* The kind and the options of `o` (zeros already replaced by defaults) as a file records. */
void bp_counts_info_from(bp_counts_info *info, bp_counts_kind kind, const bp_train_options *o);

/* BP_OK when `b` (in file b_name) can be summed with or used with `a` (in a_name): same
 * kind and same options; else BP_ERR_MISMATCH naming both and the first difference. */
bp_status bp_counts_check_match(const bp_counts_info *a, const char *a_name,
                                const bp_counts_info *b, const char *b_name, bp_error *err);

/*------ Writing ------*/

typedef struct bp_counts_writer {
    bp_writer *w;
    struct ZSTD_CCtx_s *cctx;
    unsigned char *stage, *zout; /* entries waiting to be compressed; compressed bytes */
    size_t stage_len, zout_cap;
    uint64_t entries;
    bp_counts_kind kind;
    uint64_t text_sum; /* the text total of the entries so far, as a reader checks it */
} bp_counts_writer;

/* Starts a file of `info`'s kind and options on `w` (the header). A failure, here or
 * later, is left in w->errnum, so that bp_write_file_from() removes the file. */
void bp_counts_write_begin(bp_counts_writer *cw, bp_writer *w, const bp_counts_info *info);
/* Appends an entry; entries must come in the file order, each once, counts > 0. */
void bp_counts_write_entry(bp_counts_writer *cw, const unsigned char *bytes, size_t len,
                           uint64_t count);
/* A bp_counts_entry_fn (ctx: the bp_counts_writer) that appends each entry given, as a
 * merge gives them; a write failure stays in the writer, and in w->errnum for whoever
 * ends the file to report. */
bp_status bp_counts_write_merged(void *ctx, const unsigned char *bytes, size_t len,
                                 uint64_t count, bp_error *err);
/* Ends the file: the compressed entries' end, then the trailer (bytes and chunks of text
 * counted, from `info`, and the entries written, which info->entries receives). Frees
 * the writer. */
void bp_counts_write_end(bp_counts_writer *cw, bp_counts_info *info);

/*------ Reading ------*/

typedef struct bp_counts_reader {
    const char *path;
    int fd;
    bp_counts_info info;
    struct ZSTD_DCtx_s *dctx;
    uint64_t in_off, frame_end;     /* next file offset to read; where the trailer starts */
    unsigned char *in, *out;
    size_t in_len, in_pos, out_len, out_pos;
    bool frame_ended;
    uint64_t offset;                /* entry bytes consumed: where a failure is */
    uint64_t n_read;                /* entries read */
    uint64_t text_sum;              /* level-1 counts (n-grams) or length x count (pieces) */
    unsigned char *entry, *prev;    /* the last entry and the one before */
    size_t entry_len, prev_len, entry_cap, prev_cap;
    uint64_t key;                   /* bp_counts_key of the last entry */
} bp_counts_reader;

/* Opens a count file and checks its header and trailer (*r->info then holds them).
 * BP_ERR_IO (cannot read), BP_ERR_BAD_COUNTS (not a count file, damaged, truncated),
 * BP_ERR_VERSION, BP_ERR_NOMEM; every message names the file. Close even on failure. */
bp_status bp_counts_open(bp_counts_reader *r, const char *path, bp_error *err);
/* bp_counts_open on a file already open for reading at `fd`, which the reader then owns
 * (bp_counts_close closes it, also after a failure); `path` names it in messages. */
bp_status bp_counts_open_fd(bp_counts_reader *r, int fd, const char *path, bp_error *err);
/* The next entry: its bytes (valid until the next call) and count; *bytes NULL after the
 * last, once the end of the file has been checked too (entry count, text total, nothing
 * after the entries). BP_ERR_BAD_COUNTS for entries out of order, repeated or out of
 * range, and for damaged compressed data. */
bp_status bp_counts_next(bp_counts_reader *r, const unsigned char **bytes, size_t *len,
                         uint64_t *count, bp_error *err);
void bp_counts_close(bp_counts_reader *r);

/*------ Merging (counts_merge.c) ------*/

/* Takes one entry of a merge, in file order; anything but BP_OK stops the merge. */
typedef bp_status (*bp_counts_entry_fn)(void *ctx, const unsigned char *bytes, size_t len,
                                        uint64_t count, bp_error *err);

/* Reads the open inputs in[0..n) to their ends and gives `emit` every distinct entry once,
 * in file order, with the sum of its counts; BP_ERR_TOO_LARGE when a sum exceeds 2^64 - 1,
 * else the first failure of a reader or of `emit`. The inputs stay open. */
bp_status bp_counts_merge_each(bp_counts_reader *in, size_t n, bp_counts_entry_fn emit,
                               void *ctx, bp_error *err);

#endif /* BP_COUNTS_FILE_H */
