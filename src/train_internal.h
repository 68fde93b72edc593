/*
 * train_internal.h -- the trainer's parts and how they meet. Not installed.
 *
 * Data flow (docs/algorithms.md §3):
 *   texts --bp_chunker--> chunks --spool--> a temporary file of chunk records, read back
 *   by every later pass, in blocks, by any number of threads:
 *     n-gram counting, level by level (train_ngram.c)  -> conditional log-probabilities
 *     n-gram-LM Viterbi over every chunk (train_segment.c) -> piece counts
 *     pruning with the shared Unigram core (train_prune.c) -> one model per vocabulary size
 * Every merge of per-thread results is an integer sum and every later order is total, so
 * the result does not depend on the number of threads (§5.12).
 */
#ifndef BP_TRAIN_INTERNAL_H
#define BP_TRAIN_INTERNAL_H

#include "bp_internal.h"

#define BP_MAX_ORDER 7 /* n-gram keys pack up to 7 bytes plus their length into 64 bits */

/*------ Flat hash tables (train_table.c) ------*/

/* The tables use open addressing with linear probing. Each table hashes with random values
 * of its own (bp_table_seed), drawn when its slots are first allocated, and its home slots
 * are the top bits of the hash. Both matter because the trainer copies tables into tables
 * -- a thread's counts into another's, a level's survivors out of its counts -- walking the
 * source in slot order: under one shared hash that order is the destination's home order,
 * so the copy piled its keys into a few runs and probing grew with the table instead of
 * staying constant (hundreds of probes per key were measured). With independent hashes the
 * slot order of one table is unrelated to another's, so a copy probes as a random order of
 * insertions does (tests/test_train_table.c: mean displacement under 3 at 3/4 load), and
 * hash values the input cannot know mean that no corpus can be prepared to collide.
 *
 * Memory: a slot of the u64 table is 16 bytes and a table is kept between 3/8 and 3/4
 * full, so an entry costs 21-43 bytes (64 bytes per entry for the moment of a growth,
 * when the old and the new slots coexist); a piece entry costs 32 bytes of slot on the
 * same terms plus its bytes in the arena. */
uint64_t bp_table_seed(void);

/* The 64-bit mixer of the piece hashes (the splitmix64 finalizer's multiplies): every bit
 * of the result's top half depends on every bit of x. */
static inline uint64_t bp_mix64(uint64_t x)
{
    x = (x ^ x >> 30) * UINT64_C(0xBF58476D1CE4E5B9);
    return (x ^ x >> 27) * UINT64_C(0x94D049BB133111EB);
}

/* uint64 key -> uint64 value; key and value share a slot so that a lookup costs one cache
 * miss. Key 0 marks an empty slot, so keys must never be 0 (n-gram keys carry their
 * length in the top byte). */
typedef struct bp_u64_slot {
    uint64_t key, val;
} bp_u64_slot;

typedef struct bp_u64_table {
    bp_u64_slot *slots;
    size_t cap;     /* a power of two, or 0 */
    size_t n;
    uint64_t seed;  /* this table's hash key ... */
    uint64_t mult;  /* ... and multiplier (odd) */
    unsigned shift; /* 64 - log2(cap): the home slot is the hash's top log2(cap) bits */
} bp_u64_table;

/* The home slot of `key` (cap must not be 0): multiply-shift with a random multiplier, a
 * universal family, and a single multiply, because the passes look a key up for nearly
 * every byte (a second multiply, as bp_mix64, cost 10-18% of train_mix's training). */
static inline size_t bp_u64_home(const bp_u64_table *t, uint64_t key)
{
    return (size_t)(((key ^ t->seed) * t->mult) >> t->shift);
}

bp_status bp_u64_table_reserve(bp_u64_table *t, size_t n);
/* Adds `inc` to the value of `key` (inserting it at 0 first). */
bp_status bp_u64_table_add(bp_u64_table *t, uint64_t key, uint64_t inc);
/* Adds every entry of `src` into `dst`. */
/* Whether adding one more key would grow the table (to twice its slots, the old ones
 * held until the copy ends). */
bool bp_u64_table_grows(const bp_u64_table *t);
/* Moves the entries to slots[0..n) in key order, for writing out; the table then holds
 * no usable hash layout until bp_u64_table_clear(). */
void bp_u64_table_sort_out(bp_u64_table *t);
/* Empties the table, keeping its slots. */
void bp_u64_table_clear(bp_u64_table *t);
bp_status bp_u64_table_merge(bp_u64_table *dst, const bp_u64_table *src);
/* The value slot of `key`, or NULL. */
static inline uint64_t *bp_u64_table_find(const bp_u64_table *t, uint64_t key)
{
    if (!t->cap)
        return NULL;
    size_t mask = t->cap - 1;
    for (size_t i = bp_u64_home(t, key);; i = (i + 1) & mask) {
        if (t->slots[i].key == key)
            return &t->slots[i].val;
        if (t->slots[i].key == 0)
            return NULL;
    }
}
/* Asks the cache for the home slot of `key`: lookups are latency-bound, so the passes
 * prefetch a few positions ahead. */
static inline void bp_u64_table_prefetch(const bp_u64_table *t, uint64_t key)
{
    if (t->cap)
        __builtin_prefetch(&t->slots[bp_u64_home(t, key)]);
}
void bp_u64_table_free(bp_u64_table *t);

/* Byte string -> count. The strings live in one arena; slots hold hash, offset, length. */
typedef struct bp_piece_slot {
    uint64_t hash;   /* 0 marks an empty slot (real hashes are forced non-zero) */
    uint64_t count;
    uint64_t off;    /* in the arena */
    uint64_t len;
} bp_piece_slot;

typedef struct bp_piece_table {
    bp_piece_slot *slots;
    size_t cap, n;
    uint64_t seed;  /* this table's hash key; slot hashes are keyed with it */
    unsigned shift; /* 64 - log2(cap): the home slot is the hash's top log2(cap) bits */
    unsigned char *arena;
    size_t arena_len, arena_cap;
} bp_piece_table;

bp_status bp_piece_table_add(bp_piece_table *t, const unsigned char *bytes, size_t len,
                             uint64_t count);
/* The count of a string, 0 when absent. */
uint64_t bp_piece_table_get(const bp_piece_table *t, const unsigned char *bytes, size_t len);
/* Adds every entry of `src` into `dst`. */
bp_status bp_piece_table_merge(bp_piece_table *dst, const bp_piece_table *src);
/* The t->n entries of `t` in count file order (length, then bytes), their bytes in the
 * table's arena; NULL when out of memory. The caller frees the array. */
bp_piece *bp_piece_table_sorted(const bp_piece_table *t);
/* The bytes the table holds: its slots and its arena. */
static inline size_t bp_piece_table_bytes(const bp_piece_table *t)
{
    return t->cap * sizeof *t->slots + t->arena_cap;
}
void bp_piece_table_free(bp_piece_table *t);

/*------ Counts of bytes and byte pairs (train_table.c) ------*/

/* Levels 1 and 2 of the n-gram counts, dense. Pair counts are kept by rows of their first
 * byte, allocated when first needed, so that a small corpus costs a few rows rather than
 * 512 KB. */
typedef struct bp_byte_counts {
    uint64_t uni[256];
    uint64_t *pair[256]; /* pair[b0][b1], NULL while b0 has begun no pair */
    uint64_t positions;  /* bytes counted, the 0-gram count (§3.1) */
} bp_byte_counts;

/* Counts the bytes and the pairs of adjacent bytes of one chunk. */
bp_status bp_byte_counts_add(bp_byte_counts *c, const unsigned char *x, size_t len);
void bp_byte_counts_free(bp_byte_counts *c);

static inline uint64_t bp_pair_count(const bp_byte_counts *c, unsigned b0, unsigned b1)
{
    return c->pair[b0] ? c->pair[b0][b1] : 0;
}

/*------ The spooled corpus (train_spool.c) ------*/

/* Chunk records (a 4-byte little-endian length, then the bytes), grouped in blocks that
 * end on record boundaries; a block is the unit of work of a pass. */
typedef struct bp_spool {
    int fd;
    uint64_t size;       /* bytes written: a 4-byte length before each chunk */
    uint64_t n_records;  /* chunks appended */
    uint64_t *block_off; /* n_blocks + 1 offsets */
    size_t n_blocks, blocks_cap;
    size_t max_block;    /* bytes of the largest block */
    unsigned char *wbuf; /* the block being written */
    size_t wlen, wcap;
} bp_spool;

/* Creates an unlinked temporary file in `dir` (NULL: $TMPDIR or /tmp), open for reading
 * and writing at *fd: it is gone once closed, even if the process is killed. */
bp_status bp_temp_open(const char *dir, int *fd, bp_error *err);

/* Creates the spool as an unlinked temporary file in `dir` (NULL: $TMPDIR or /tmp). */
bp_status bp_spool_open(bp_spool *sp, const char *dir, bp_error *err);
/* Appends one chunk record. */
bp_status bp_spool_append(bp_spool *sp, const unsigned char *chunk, size_t len, bp_error *err);
/* Bytes of the chunks written (the normalized text, without the records' lengths); the
 * unit of a pass's progress. */
uint64_t bp_spool_text_bytes(const bp_spool *sp);
/* Writes the block being filled; call once after the last append, before reading. */
bp_status bp_spool_flush(bp_spool *sp, bp_error *err);
void bp_spool_close(bp_spool *sp);

/* Calls fn(ctx, thread, chunk, len) for every chunk of the spool, spread over `threads`
 * threads; `thread` (0 .. threads-1) selects the caller's per-thread state. The first
 * error stops the pass and is returned. `stage` names the pass for progress reports. */
typedef bp_status (*bp_chunk_fn)(void *ctx, unsigned thread, const unsigned char *chunk,
                                 size_t len);
bp_status bp_spool_for_each(const bp_spool *sp, unsigned threads, bp_chunk_fn fn, void *ctx,
                            const bp_train_options *o, const char *stage, bp_error *err);

/* Calls o->progress, if set, with {stage, done, total}. */
void bp_train_report_progress(const bp_train_options *o, const char *stage, uint64_t done,
                              uint64_t total);

/*------ Sorted runs of a bounded-memory pass (train_runs.c) ------*/

#define BP_RUNS_FAN_IN 16 /* runs merged at once: a reader each, about 2.5 MB */

struct bp_counts_writer;
struct bp_counts_reader;

/* Runs of one pass, each an unlinked temporary file in the count file encoding. */
typedef struct bp_runs {
    const char *dir;      /* where they go (NULL: $TMPDIR or /tmp) */
    bp_counts_info info;  /* the kind and options they are written with */
    int *fds;             /* the runs not merged yet */
    size_t n, cap;
    uint64_t bytes;       /* written to runs, intermediate merges included */
    uint64_t written;     /* runs spilled */
    const char *name;     /* what messages call a run: NULL, a temporary file; else a
                             count file's path (bp_runs_add_file) */
} bp_runs;

/* Puts the entries of one run, in file order, through `cw`. */
typedef void (*bp_runs_fill_fn)(void *ctx, struct bp_counts_writer *cw);
/* Writes a run of what `fill` puts. BP_ERR_IO (the temporary file), BP_ERR_NOMEM. */
bp_status bp_runs_write(bp_runs *r, bp_runs_fill_fn fill, void *ctx, bp_error *err);
/* Makes the count file at `path` the one run of the empty `r`, to be scanned (never
 * written or removed); messages name it. BP_ERR_IO, BP_ERR_NOMEM. */
bp_status bp_runs_add_file(bp_runs *r, const char *path, bp_error *err);
/* Moves the runs of `src` (and its figures) to `dst`. */
bp_status bp_runs_take(bp_runs *dst, bp_runs *src, bp_error *err);
/* Takes a merged entry of the runs (as bp_counts_entry_fn). */
typedef bp_status (*bp_runs_entry_fn)(void *ctx, const unsigned char *bytes, size_t len,
                                      uint64_t count, bp_error *err);
/* Merges every run, giving `emit` each distinct entry once with its summed count, in file
 * order (bp_counts_merge_each). The runs stay, for another scan (merged down to
 * BP_RUNS_FAN_IN of them first). */
bp_status bp_runs_scan(bp_runs *r, bp_runs_entry_fn emit, void *ctx, bp_error *err);
/* bp_runs_scan, after which the runs are gone, also on failure. */
bp_status bp_runs_merge(bp_runs *r, bp_runs_entry_fn emit, void *ctx, bp_error *err);
void bp_runs_free(bp_runs *r);

/*------ n-gram model (train_ngram.c) ------*/

/* The pruned n-gram LM as conditional log-probabilities (§3.2): l1 for single bytes, l2
 * dense by rows, orders 3..n in one table (values are doubles stored as bits). Missing =
 * -inf. A pair can reach min_count only if its first byte does, so only those bytes get a
 * row of their own; the others share one row of -inf. A small corpus thus fills a few
 * rows instead of 65536 entries, and a lookup is still two loads. */
typedef struct bp_ngram_model {
    unsigned order;
    double l1[256];
    const double *l2[256]; /* l2[b0][b1]: log P(b1 | b0) */
    double *l2_rows;       /* the rows' storage: the shared -inf row first */
    bp_u64_table high;     /* orders >= 3, key = bp_ngram_key() */
    uint64_t n_kept;       /* n-grams of every order that survived */
} bp_ngram_model;

/* l2 of the pair whose bytes are the low 16 bits of `pair` (b0 above b1). */
static inline double bp_ngram_l2(const bp_ngram_model *m, uint64_t pair)
{
    return m->l2[pair >> 8 & 0xFF][pair & 0xFF];
}

/* Packs g[0..k) (k <= 7) with its length in the top byte; earlier bytes are higher. */
static inline uint64_t bp_ngram_key(const unsigned char *g, unsigned k)
{
    uint64_t key = 0;
    for (unsigned j = 0; j < k; j++)
        key = key << 8 | g[j];
    return key | (uint64_t)k << 56;
}

/* Counts the n-grams of the spooled corpus level by level and prunes them (§3.1-3.2);
 * levels 1 and 2 come from `c`, gathered while spooling. */
bp_status bp_ngram_build(bp_ngram_model *m, const bp_spool *sp, const bp_byte_counts *c,
                         const bp_train_options *o, unsigned threads, bp_runs *runs,
                         bp_error *err);

/* Where the counts of level k (>= 3) come from: fills *counts with at least every k-gram
 * whose prefix and suffix survived level k - 1 (those of m->l2 for k == 3, else the keys
 * of `prev`, which holds their counts), each with its exact count. */
typedef bp_status (*bp_ngram_level_fn)(void *ctx, unsigned k, const bp_ngram_model *m,
                                       const bp_u64_table *prev, bp_u64_table *counts,
                                       bp_error *err);

/* bp_ngram_build with the levels from `level` (counts from a file, train_counts.c).
 * BP_ERR_BAD_COUNTS when an n-gram counts more than its prefix. */
bp_status bp_ngram_build_from(bp_ngram_model *m, const bp_byte_counts *c,
                              const bp_train_options *o, bp_ngram_level_fn level, void *ctx,
                              bp_error *err);

void bp_ngram_free(bp_ngram_model *m);

/*------ Counting every n-gram by sorting (train_ngram_sort.c) ------*/

/* A shard's pass 1, whose counts only the sum of all shards can prune: every n-gram of
 * levels 3 .. o->order of the spool, survivor or not, written to `cw` in file order; or,
 * when o->memory_limit made the sorted keys spill, put into `runs` instead (nothing then
 * written: the caller merges the runs into `cw`). */
bp_status bp_ngram_count_sorted(const bp_spool *sp, const bp_train_options *o, unsigned threads,
                                struct bp_counts_writer *cw, bp_runs *runs, bp_error *err);

/*------ n-gram-LM segmentation (train_segment.c) ------*/

/* Scratch for segmenting one chunk with the n-gram LM. */
typedef struct bp_bnlm_scratch {
    unsigned char *back; /* len * order back-pointers */
    size_t cap;
} bp_bnlm_scratch;

/* Segments x[0..len) by the n-gram-LM Viterbi with numpy's argmax semantics (§3.3) and
 * writes the start offsets of its tokens to starts[0..), returning their number (the
 * first start is 0). starts must hold len entries. */
bp_status bp_bnlm_segment(const bp_ngram_model *m, bool ensure_unicode, const unsigned char *x,
                          size_t len, bp_bnlm_scratch *s, uint32_t *starts, size_t *n_tokens);
void bp_bnlm_scratch_free(bp_bnlm_scratch *s);

/* Pass 2: segments every chunk and counts the resulting pieces (§3.4) into *pieces, or,
 * when o->memory_limit made tables spill, into `runs` (*pieces then empty). */
bp_status bp_count_pieces(const bp_ngram_model *m, const bp_spool *sp, const bp_train_options *o,
                          unsigned threads, bp_piece_table *pieces, bp_runs *runs, bp_error *err);

/*------ Piece pruning (train_prune.c) ------*/

/* §3.5: byte completion, frequency/length filter, re-splitting, wasted-piece fixed point,
 * and the cascading vocabulary cut. models[i] answers vocab_sizes[i]. */
bp_status bp_prune_pieces(const bp_piece_table *pieces, const bp_train_options *o,
                          unsigned threads, const size_t *vocab_sizes, size_t n_sizes,
                          bp_model **models, bp_error *err);

/* bp_prune_pieces on the piece counts of `runs` (pass 2 under a memory limit): only the
 * pieces kept before re-splitting are held; the others are read twice from the runs, in
 * batches. *distinct gets the number of distinct pieces. The runs stay. */
bp_status bp_prune_piece_runs(bp_runs *runs, const bp_train_options *o, unsigned threads,
                              const size_t *vocab_sizes, size_t n_sizes, bp_model **models,
                              uint64_t *distinct, bp_error *err);

/*------ Count files of the stages (train_counts.c) ------*/

/* Pass 1 of a shard: every n-gram of orders 1 .. o->order, levels 1 and 2 from `c`, the
 * others counted over the spool by sorting (bp_ngram_count_sorted), written to `path`;
 * *entries gets how many. */
bp_status bp_ngram_counts_save(const char *path, const bp_spool *sp, const bp_byte_counts *c,
                               const bp_train_options *o, unsigned threads, uint64_t chunks,
                               bp_runs *runs, uint64_t *entries, bp_error *err);
/* The n-gram model of the summed n-gram counts at `path` (pruned or not), made with the
 * options `o` (BP_ERR_MISMATCH otherwise), min_count applied. */
bp_status bp_ngram_load(bp_ngram_model *m, const char *path, const bp_train_options *o,
                        bp_error *err);
/* Writes the piece counts of `t` to `path`, or those of `runs` when pass 2 spilled (t is
 * then empty). */
bp_status bp_piece_counts_save(const char *path, const bp_piece_table *t, bp_runs *runs,
                               const bp_train_options *o, uint64_t bytes, uint64_t chunks,
                               uint64_t *entries, bp_error *err);

#endif /* BP_TRAIN_INTERNAL_H */
