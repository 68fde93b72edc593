/*
 * bp_internal.h -- definitions shared by the library's source files. Not installed.
 *
 * Invariants a reader needs:
 *  - A bp_model is immutable after bp_model_build() returns. Piece i (0-based) has id i + 3.
 *  - All 256 single bytes are pieces, so the automaton's root has a transition on every
 *    byte and every non-root state has at least one output (the piece of its last byte).
 *  - Scores are log(count) - log(total) with the C library's log, never log(count/total)
 *    (bytepiece-algorithms.md §4.1, §5.7).
 */
#ifndef BP_INTERNAL_H
#define BP_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytepiece.h"

#define BP_N_SPECIAL 3u /* ids 0 <pad>, 1 <bos>, 2 <eos> */

/*------ Errors (error.c) ------*/

/* Fills `err` (if not NULL) with `code`, `offset` and a printf-style message, and returns
 * `code`, so that a failing path reads `return bp_fail(err, BP_ERR_X, off, "...", ...)`. */
bp_status bp_fail(bp_error *err, bp_status code, uint64_t offset, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* The name that messages use for a source: a file's path, or "<memory>" when there is none. */
static inline const char *bp_source_name(const char *name) { return name ? name : "<memory>"; }

/*------ Aho-Corasick automaton (automaton.c) ------*/

/* One piece reported at a state: the reference's match order is longest first, so each
 * state's outputs are stored flat, sorted by decreasing length. */
typedef struct bp_match {
    double score;  /* log(count) - log(total) */
    uint32_t len;  /* piece length in bytes */
    uint32_t id;   /* piece id */
} bp_match;

/* A double-array byte automaton. State 0 is the root. The transition from state s on byte
 * c goes to t = base[s] + c when check[t] == s; otherwise the automaton follows fail[s]
 * (the longest proper suffix of s that is a state). Outputs of state s are
 * out[out_begin[s] .. out_begin[s+1]). */
typedef struct bp_automaton {
    uint32_t n_states;
    uint32_t n_slots;       /* length of base/check/fail (>= n_states' largest index + 1) */
    int32_t *base;
    int32_t *check;         /* owner state of a slot, -1 if free */
    uint32_t *fail;
    uint32_t *out_begin;    /* n_slots + 1 entries */
    bp_match *out;
    size_t n_out;
} bp_automaton;

/* Builds the automaton over `n` pieces: piece i has bytes[off[i] .. off[i+1]) (non-empty),
 * id i + 3 and score scores[i]. Requires all 256 single bytes among the pieces. Returns
 * BP_OK, BP_ERR_NOMEM, or BP_ERR_DUP_PIECE with *dup set to the index of a piece that
 * equals another; on failure *ac is left empty. */
bp_status bp_automaton_build(bp_automaton *ac, const unsigned char *bytes, const uint32_t *off,
                             const double *scores, uint32_t n, uint32_t *dup);
void bp_automaton_free(bp_automaton *ac);

/* One step of the automaton: the state reached from `s` on byte `c`. Never fails, because
 * the root has a transition on every byte. */
static inline uint32_t bp_automaton_step(const bp_automaton *ac, uint32_t s, unsigned char c)
{
    for (;;) {
        int32_t t = ac->base[s] + c;
        if (ac->check[t] == (int32_t)s)
            return (uint32_t)t;
        s = ac->fail[s];
    }
}

/* The state reached from the root by following goto transitions only along bytes[0..len),
 * or UINT32_MAX if there is none (the string is not a prefix of any piece). */
uint32_t bp_automaton_find(const bp_automaton *ac, const unsigned char *bytes, size_t len);

/*------ Model (model.c) ------*/

struct bp_model {
    uint32_t n_pieces;
    uint32_t max_piece_len;
    unsigned char *bytes;   /* piece i is bytes[off[i] .. off[i+1]) */
    uint32_t *off;          /* n_pieces + 1 */
    uint64_t *counts;
    double *scores;
    uint64_t total_count;
    bp_automaton ac;
};

/* Builds a model from a piece table. ids[i] is the id of pieces[i]; NULL means i + 3.
 * Validates (with `name` in messages, may be NULL): counts > 0 and <= 2^53
 * (BP_ERR_BAD_COUNT), no empty piece (BP_ERR_BAD_ENTRY), ids exactly 3..n+2
 * (BP_ERR_BAD_ID), no duplicate piece (BP_ERR_DUP_PIECE), all single bytes present
 * (BP_ERR_MISSING_BYTE). `n` may not exceed 2^31 - 3 (BP_ERR_TOO_LARGE). */
bp_status bp_model_build(const bp_piece *pieces, const uint32_t *ids, size_t n, const char *name,
                         bp_model **out, bp_error *err);

/*------ Segmentation core (lattice.c): shared by encoding and training ------*/

/* Work arrays for segmenting one chunk of up to `cap` bytes; reused across calls. */
typedef struct bp_lattice {
    size_t cap;
    double *score;       /* cap + 1: best score (Viterbi) or log-partition (sampling) at each end */
    uint32_t *tok_id;    /* cap + 1: id of the chosen token ending at each end */
    uint32_t *tok_len;   /* cap + 1: its length */
} bp_lattice;

void bp_lattice_free(bp_lattice *lat);
/* Makes room for chunks of `len` bytes. BP_OK or BP_ERR_NOMEM (lattice unchanged). */
bp_status bp_lattice_reserve(bp_lattice *lat, size_t len);

/* Segments x[0..len) as one chunk (no normalization, no chunking) and writes the token ids
 * in text order to ids[0..) and, if starts is not NULL, each token's start offset plus
 * `base_off` to starts[0..). At most `len` tokens are written. Returns the token count.
 * alpha < 0: deterministic Viterbi, bit-exact with the reference (§4.3).
 * alpha >= 0: exact sampling with `rng` (§4.4). The lattice must hold >= len bytes. */
size_t bp_lattice_segment(const bp_model *m, bp_lattice *lat, const unsigned char *x, size_t len,
                          double alpha, bp_rng *rng, uint32_t *ids, size_t *starts,
                          size_t base_off);

/*------ Random numbers (rng.c) ------*/

/* What an accept test of the sampler needs from a bp_rng (see lattice.c). */
bool bp_rng_is_glibc(const bp_rng *rng);
/* A uniform double in [0, 1) with 53 random bits (default mode). */
double bp_rng_uniform(bp_rng *rng);
/* The next glibc rand() value in [0, 2^31 - 1] (parity mode). */
int32_t bp_rng_glibc_rand(bp_rng *rng);

/*------ Reading files (file_read.c) ------*/

/* Reads the whole file at `path` into a new malloc'd buffer (*data, *len; one NUL byte is
 * appended after the data and not counted). If the content starts with the zstd frame
 * magic it is decompressed (all frames, streaming; an incomplete frame is
 * BP_ERR_TRUNCATED). Errors name the file: BP_ERR_IO (missing, unreadable, a directory,
 * read error), BP_ERR_TRUNCATED, BP_ERR_NOMEM, BP_ERR_TOO_LARGE. */
bp_status bp_read_file(const char *path, unsigned char **data, size_t *len, bp_error *err);

/* The same for bytes already in memory: decompresses when they are a zstd stream, else
 * copies them. `name` (may be NULL) is used in messages. */
bp_status bp_read_memory(const void *in, size_t in_len, const char *name, unsigned char **data,
                         size_t *len, bp_error *err);

/*------ Normalization (normalize.c) ------*/

/* A growable byte buffer owned by the caller; also the scratch space NFC needs. */
typedef struct bp_nfc_buffer {
    unsigned char *out;   /* normalized bytes */
    size_t len, cap;
    int32_t *cps;         /* code point scratch for utf8proc */
    size_t cps_cap;
} bp_nfc_buffer;

void bp_nfc_buffer_free(bp_nfc_buffer *buf);

/* Writes NFC(text[0..len)) to buf->out / buf->len. Maximal valid UTF-8 runs are
 * normalized; bytes that are not part of well-formed UTF-8 are copied unchanged and act
 * as boundaries. Text that is already NFC is copied by a fast path without calling
 * utf8proc. Returns BP_OK or BP_ERR_NOMEM. */
bp_status bp_nfc(bp_nfc_buffer *buf, const unsigned char *text, size_t len);

/* Length of the well-formed UTF-8 sequence at s[0..n), 0 if s[0] does not start one
 * (overlongs, surrogates and values above U+10FFFF are not well-formed). Sets *cp on
 * success. */
size_t bp_utf8_decode(const unsigned char *s, size_t n, int32_t *cp);

/* Length of the chunk that starts at text[0]: the run of non-'\n' bytes plus the run of
 * '\n' after it (DESIGN.md §2). len > 0; returns a value in 1..len. */
size_t bp_chunk_len(const unsigned char *text, size_t len);

/*------ Training chunks (train_chunk.c) ------*/

/* Cuts training texts into the reference's training chunks (algorithms §2 with maxlen
 * 10000): NFC first, then a chunk is at most 10000 characters (code points) followed by at
 * most 100 newlines; with isolate_digits every Unicode Nd digit is a chunk of its own. A
 * text may arrive in pieces of any size; chunks are passed to the sink as soon as they
 * are complete, so memory stays bounded by the longest chunk plus what NFC needs. */
typedef struct bp_chunker bp_chunker;

/* Receives one chunk (non-empty, well-formed NFC UTF-8). A status other than BP_OK stops
 * the chunker and is returned by the feed/end call. */
typedef bp_status (*bp_chunk_sink)(void *ctx, const unsigned char *chunk, size_t len);

/* skip_bad_lines: a line (the bytes between two '\n') holding invalid UTF-8 is dropped and
 * counted instead of failing with BP_ERR_BAD_UTF8. */
bp_status bp_chunker_create(bool isolate_digits, bool skip_bad_lines, bp_chunker **out);
void bp_chunker_free(bp_chunker *c);
/* Feeds the next bytes of the current text. Invalid UTF-8 gives BP_ERR_BAD_UTF8 with
 * err->offset = its byte offset in the text (unless skip_bad_lines). */
bp_status bp_chunker_feed(bp_chunker *c, const unsigned char *data, size_t len,
                          bp_chunk_sink sink, void *ctx, bp_error *err);
/* Ends the current text: its last chunks go to the sink; the next feed starts a new text. */
bp_status bp_chunker_end_text(bp_chunker *c, bp_chunk_sink sink, void *ctx, bp_error *err);
uint64_t bp_chunker_skipped_lines(const bp_chunker *c);

#endif /* BP_INTERNAL_H */
