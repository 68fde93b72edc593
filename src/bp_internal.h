/*
 * bp_internal.h -- definitions shared by the library's source files. Not installed.
 *
 * Invariants a reader needs:
 *  - A bp_model is immutable after bp_model_build() returns. Piece i (0-based) has id i + 3.
 *  - All 256 single bytes are pieces, so the automaton's root has a transition on every
 *    byte and every non-root state has at least one output (the piece of its last byte).
 *  - Scores are log(count) - log(total) with the C library's log, never log(count/total)
 *    (docs/algorithms.md §4.1, §5.7).
 */
#ifndef BP_INTERNAL_H
#define BP_INTERNAL_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytepiece.h"

#define BP_N_SPECIAL 3u /* ids 0 <pad>, 1 <bos>, 2 <eos> */
/* -log(2^-64) rounded up. As the counts add up to less than 2^64 and there are at least
 * 256 pieces, every score is in [-BP_MAX_ABS_SCORE, 0). */
#define BP_MAX_ABS_SCORE 44.4

/*------ Internal assertions (error.c) ------*/

/* BP_ASSERT(cond) checks an invariant that a comment states (those at the top of this file
 * among them), in builds configured with -DBP_ASSERTS=ON (the default for Debug builds;
 * the sanitizer run of tools/test.sh turns it on): when cond is false it names the
 * condition and its place on stderr and aborts. Otherwise cond is not evaluated and no code is generated, whatever NDEBUG says (Release
 * and RelWithDebInfo define it), so release code is unchanged; sizeof still sees cond, so
 * the variables it names count as used. The checks that loop over a whole structure
 * (bp_model_check, bp_automaton_check) are empty inline functions there. */
#ifdef BP_ASSERTS
#define BP_ASSERT(cond) ((cond) ? (void)0 : bp_assert_fail(#cond, __FILE__, __LINE__))
_Noreturn void bp_assert_fail(const char *cond, const char *file, int line);
#else
#define BP_ASSERT(cond) ((void)sizeof((cond) ? 1 : 0))
#endif

/*------ Growing arrays (grow.c) ------*/

/* Returns `mem` (an array of *cap elements of `size` bytes; NULL when *cap is 0) grown with
 * realloc to hold at least `need` elements, and sets *cap to its new capacity: the largest
 * of need, twice *cap and 64, so that growing an array element by element costs amortized
 * constant time. Returns `mem` itself when it is already large enough (and not empty).
 * Returns NULL when out of memory (or need * size overflows); `mem` and *cap are then
 * untouched and still the caller's. */
void *bp_grow(void *mem, size_t *cap, size_t need, size_t size);

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

/* The same for a failed system call: the message is the printf-style text, ": ", and the
 * system's description of `errnum` (thread-safe, unlike strerror). */
bp_status bp_fail_errno(bp_error *err, bp_status code, int errnum, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/*------ Aho-Corasick automaton (automaton.c) ------*/

/* One piece reported at a state: the reference's match order is longest first, so each
 * state's outputs are stored flat, sorted by decreasing length. */
typedef struct bp_match {
    double score;  /* log(count) - log(total) */
    uint32_t len;  /* piece length in bytes */
    uint32_t id;   /* piece id */
} bp_match;

/* One slot of the double array: base and check side by side, so that a transition reads
 * one cache line. check is the owner (parent) state of the slot, BP_AC_FREE for a free
 * slot and BP_AC_ROOT for slot 0, the root. */
typedef struct bp_ac_slot {
    int32_t base;
    int32_t check;
} bp_ac_slot;

#define BP_AC_FREE (-1)
#define BP_AC_ROOT (-2)

/* A double-array byte automaton. State 0 is the root. The transition from state s on byte
 * c goes to t = slot[s].base + c when slot[t].check == s; otherwise the automaton follows
 * fail[s] (the longest proper suffix of s that is a state). The outputs of state s (every
 * piece that is a suffix of its string, longest first) are out[out_begin[s]], then the
 * entries after it up to and including the first of length 1: every list ends with the
 * single byte that is its state's last byte. Lists share their tails (automaton.c).
 * Invariants (checked by the native loader, guaranteed by the builder): for every state s,
 * 0 <= slot[s].base and slot[s].base + 255 < n_slots; the root has a transition on every
 * byte; fail[s] is a shallower state; along out[], an entry of length > 1 is followed by a
 * shorter one and the last entry has length 1; the first output of a state (other than
 * the root) is no longer than the state's depth. */
typedef struct bp_automaton {
    uint32_t n_states;
    uint32_t n_slots;       /* length of slot/fail */
    bp_ac_slot *slot;
    uint32_t *fail;
    uint32_t *out_begin;    /* n_slots entries */
    bp_match *out;
    uint32_t n_out;
    uint32_t max_depth;     /* the longest piece, in bytes */
    bool borrowed;          /* the arrays live in a native model's file image */
} bp_automaton;

/* Writes to sorted[0..n) the indices of the n pieces bytes[off[i] .. off[i+1]) in
 * increasing byte order (unsigned bytes, a proper prefix first). false when out of memory. */
bool bp_sort_pieces(const unsigned char *bytes, const uint32_t *off, uint32_t n,
                    uint32_t *sorted);

/* Builds the automaton over `n` pieces: piece i has bytes[off[i] .. off[i+1]) (non-empty),
 * id i + 3 and score scores[i]. Requires all 256 single bytes among the pieces. Returns
 * BP_OK, BP_ERR_NOMEM, or BP_ERR_DUP_PIECE with *dup set to the index of a piece that
 * equals another; on failure *ac is left empty. */
bp_status bp_automaton_build(bp_automaton *ac, const unsigned char *bytes, const uint32_t *off,
                             const double *scores, uint32_t n, uint32_t *dup);
void bp_automaton_free(bp_automaton *ac);

/* Asserts (BP_ASSERT) every invariant above over the whole automaton, in O(states * depth
 * + outputs); nothing without BP_ASSERTS. */
#ifdef BP_ASSERTS
void bp_automaton_check(const bp_automaton *ac);
#else
static inline void bp_automaton_check(const bp_automaton *ac) { (void)ac; }
#endif

/* One step of the automaton: the state reached from `s` on byte `c`. Never fails, because
 * the root has a transition on every byte. */
static inline uint32_t bp_automaton_step(const bp_automaton *ac, uint32_t s, unsigned char c)
{
    const bp_ac_slot *slot = ac->slot;
    for (;;) {
        uint32_t t = (uint32_t)slot[s].base + c;
        BP_ASSERT(t < ac->n_slots);
        if (slot[t].check == (int32_t)s)
            return t;
        BP_ASSERT(s != 0); /* else the step would never end */
        s = ac->fail[s];
    }
}

/* The number of outputs of state s (not the root). */
static inline uint32_t bp_automaton_n_outputs(const bp_automaton *ac, uint32_t s)
{
    const bp_match *o = ac->out + ac->out_begin[s];
    uint32_t n = 1;
    while (o[n - 1].len != 1)
        n++;
    return n;
}

/* The state reached from the root by following goto transitions only along bytes[0..len),
 * or UINT32_MAX if there is none (the string is not a prefix of any piece). */
uint32_t bp_automaton_find(const bp_automaton *ac, const unsigned char *bytes, size_t len);

/*------ Special tokens (special.c) ------*/

/* The special tokens of a model: token i is bytes[off[i] .. off[i+1]) (non-empty UTF-8,
 * all distinct, none named like ids 0..2), id first_id + i. by_start lists the tokens by
 * first byte, longest first within one byte: those starting with byte c are
 * by_start[start_begin[c] .. start_end[c]) (start_end[c] == 0: none). */
typedef struct bp_special_set {
    uint32_t n;
    uint32_t first_id;     /* the model's pieces + 3 */
    uint32_t max_len;
    unsigned char *bytes;
    uint32_t *off;         /* n + 1 */
    uint32_t *by_start;
    uint32_t start_begin[256], start_end[256];
    unsigned n_starts;     /* distinct first bytes */
    unsigned char starts[4]; /* the first 4 of them: up to 4, the search runs on memchr */
} bp_special_set;

/* The names of ids 0..2, "<pad>", "<bos>", "<eos>" (piece_escape.c). */
extern const char *const bp_id_names[BP_N_SPECIAL];

/* Validates tokens[0..n) (lens[i] bytes each) and makes a set of them with ids from
 * first_id. The first n_old tokens are a model's own: a new token equal to one of them is
 * "already a special token of the model". Errors (`name` in messages, err->offset = the
 * index counted from n_old): BP_ERR_BAD_SPECIAL (empty, not UTF-8, named like ids 0..2,
 * a duplicate), BP_ERR_TOO_LARGE, BP_ERR_NOMEM. */
bp_status bp_special_set_make(const unsigned char *const *tokens, const size_t *lens, size_t n,
                              size_t n_old, uint32_t first_id, const char *name,
                              bp_special_set **out, bp_error *err);
void bp_special_set_free(bp_special_set *s);

/* The position of the leftmost special token in x[from..len), its index (the longest one
 * there) in *token; len when there is none. */
size_t bp_special_find(const bp_special_set *s, const unsigned char *x, size_t len, size_t from,
                       uint32_t *token);

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
    /* The piece indices sorted by bytes, for prefix queries: made by the first query
     * (piece_order.c) and published atomically, so that a model read by many threads
     * builds it once; NULL until then. */
    _Atomic(uint32_t *) by_bytes;
    /* A native model (model_native.c): bytes, off, counts, scores and the automaton's
     * arrays point into its file image, read into this malloc'd arena; native_private
     * holds private copies of the scores and outputs when they had to be recomputed. */
    void *arena;
    void *native_private;
    /* The special tokens after the pieces (special.c), NULL when there are none. Always
     * the model's own allocation, native or not. */
    bp_special_set *special;
};

/* Asserts (BP_ASSERT) the invariants of a model that bp_model_build has finished: the
 * pieces and their offsets, the scores, the outputs against the pieces and the
 * automaton's own (bp_automaton_check); nothing without BP_ASSERTS. (The native loader
 * asserts its own, over the file image.) */
#ifdef BP_ASSERTS
void bp_model_check(const bp_model *m);
#else
static inline void bp_model_check(const bp_model *m) { (void)m; }
#endif

/* Builds a model from a piece table. ids[i] is the id of pieces[i]; NULL means i + 3.
 * Validates (with `name` in messages, may be NULL): counts > 0 and <= 2^53
 * (BP_ERR_BAD_COUNT), no empty piece (BP_ERR_BAD_ENTRY), ids exactly 3..n+2
 * (BP_ERR_BAD_ID), no duplicate piece (BP_ERR_DUP_PIECE), all single bytes present
 * (BP_ERR_MISSING_BYTE). `n` may not exceed 2^31 - 3 (BP_ERR_TOO_LARGE). */
bp_status bp_model_build(const bp_piece *pieces, const uint32_t *ids, size_t n, const char *name,
                         bp_model **out, bp_error *err);

/*------ Decoding (decode.c) ------*/

/* The piece of `id` in *bytes / *len (len 0, for ids 0..2 and on failure), or
 * BP_ERR_UNKNOWN_ID with err->offset = `index` (the id's index in the caller's array) and
 * a message naming the id and its `position` in the caller's stream of ids. */
/* Decodes ids[lo..hi) into out[0..cap) as bp_decode() does (its contract; ids are named by
 * their index in `ids`); `who` starts the buffer-too-small message. */
bp_status bp_decode_range(const bp_model *model, const uint32_t *ids, size_t lo, size_t hi,
                          void *out, size_t cap, size_t *out_len, const char *who, bp_error *err);

bp_status bp_decode_piece(const bp_model *m, uint32_t id, size_t index, uint64_t position,
                          const unsigned char **bytes, size_t *len, bp_error *err);

/*------ Model formats (model_json.c; model_native.c, docs/native-format.md), told apart by
 * model_load.c ------*/

/* Loads a model from data[0..len), the (decompressed) bytes of a reference JSON model;
 * `name` is used in messages. The bytes stay the caller's. */
bp_status bp_json_load(const char *name, const unsigned char *data, size_t len, bp_model **out,
                       bp_error *err);

/* Whether data[0..len) starts like a native model (a non-empty prefix of the magic counts:
 * such a file is a truncated native model). */
bool bp_native_is(const void *data, size_t len);

/* Loads a native model from data[0..len) (the decompressed bytes of a file). Takes
 * ownership of `data` (a malloc'd buffer), which becomes the model's arena or is freed.
 * `name` is used in messages. */
bp_status bp_native_load_buffer(const char *name, unsigned char *data, size_t len,
                                bp_model **out, bp_error *err);

/*------ Recognising an input by its first bytes (model_sniff.c) ------*/

/* Whether s[0..n) starts with a zstd frame or skippable frame magic. Text cannot: the
 * content decides, not the file name. */
bool bp_is_zstd(const unsigned char *s, size_t n);

/* Checks that p[0..len), the first bytes read of a model file (with `zstd_allowed`: as
 * stored; without: decompressed), can start a model: the native magic, a zstd frame, or a
 * JSON value after an optional byte order mark and whitespace. @return BP_OK with *decided
 * false while the bytes are too few to tell (more may come), BP_OK with *decided true when
 * they can, BP_ERR_NOT_JSON (line, column and the byte named) when no model starts so, or
 * BP_ERR_CORRUPT when the first 8 bytes are the native magic with a byte or two damaged.
 * Messages start with `name`. */
bp_status bp_model_check_start(const unsigned char *p, size_t len, bool zstd_allowed,
                               const char *name, bool *decided, bp_error *err);

/* The format's 64-bit checksum of p[0..len) (stored over bytes 32 .. end of the file). */
uint64_t bp_checksum64(const unsigned char *p, size_t len, uint64_t seed);

/* Frees what a native model owns besides the fields bp_model_free() handles. */
void bp_native_release(bp_model *m);

/*------ Segmentation core (lattice.c): shared by encoding and training ------*/

/* Work arrays for segmenting one chunk of up to `cap` bytes; reused across calls.
 * {0} is an empty lattice. */
typedef struct bp_lattice {
    size_t cap;
    uint32_t *choice;      /* cap + 1: index in ac.out of the token chosen to end at each end */
    double *ring;          /* the last ring_mask + 1 scores (Viterbi), log-partitions or
                              partitions (sampling): a piece never reaches further back;
                              room for twice that, as the split log domain keeps two */
    size_t ring_mask;
    /* Sampling in the linear domain (bp_lattice_set_alpha): weight[j] =
     * exp(alpha * ac.out[j].score) for the model and alpha below. */
    const bp_model *w_model;
    double w_alpha;
    double *weight;
    bool linear;           /* the linear domain is safe for w_model and w_alpha */
} bp_lattice;

void bp_lattice_free(bp_lattice *lat);
/* Makes room for chunks of `len` bytes with any model. BP_OK or BP_ERR_NOMEM (lattice
 * unchanged). */
bp_status bp_lattice_reserve(bp_lattice *lat, size_t len);
/* The same for model `m` only: the score ring then only spans m's longest piece. */
bp_status bp_lattice_reserve_for(bp_lattice *lat, const bp_model *m, size_t len);
/* Prepares sampling with `alpha` >= 0 (not needed for correctness: without it, sampling
 * runs in the log domain, with an exp and a log per candidate). BP_OK or BP_ERR_NOMEM. */
bp_status bp_lattice_set_alpha(bp_lattice *lat, const bp_model *m, double alpha);

/* Segments x[0..len) as one chunk (no normalization, no chunking) and writes the token ids
 * in text order to ids[0..) and, if starts is not NULL, each token's start offset plus
 * `base_off` to starts[0..). At most `len` tokens are written. Returns the token count.
 * alpha < 0: deterministic Viterbi, bit-exact with the reference (§4.3).
 * alpha >= 0: exact sampling with `rng` (§4.4). The lattice must hold >= len bytes. */
size_t bp_lattice_segment(const bp_model *m, bp_lattice *lat, const unsigned char *x, size_t len,
                          double alpha, bp_rng *rng, uint32_t *ids, size_t *starts,
                          size_t base_off);

/* bp_lattice_segment in steps, so that the caller can size the output first: the forward
 * pass, then the token count, then the ids (n = the count) with their starts. */
void bp_lattice_forward(const bp_model *m, bp_lattice *lat, const unsigned char *x, size_t len,
                        double alpha, bp_rng *rng);
size_t bp_lattice_count(const bp_model *m, const bp_lattice *lat, size_t len);
void bp_lattice_emit(const bp_model *m, const bp_lattice *lat, size_t len, size_t n,
                     uint32_t *ids, size_t *starts, size_t base_off);
/* After the forward pass: writes the ids last to first, ending just before ids_end (and
 * their starts before starts_end, unless NULL). Returns the count. Room: len entries. */
size_t bp_lattice_emit_backward(const bp_model *m, const bp_lattice *lat, size_t len,
                                uint32_t *ids_end, size_t *starts_end, size_t base_off);

/*------ Random numbers (rng.c) ------*/

/* What an accept test of the sampler needs from a bp_rng (see lattice.c). */
bool bp_rng_is_glibc(const bp_rng *rng);
/* A uniform double in [0, 1) with 53 random bits (default mode). */
double bp_rng_uniform(bp_rng *rng);
/* The next glibc rand() value in [0, 2^31 - 1] (parity mode). */
int32_t bp_rng_glibc_rand(bp_rng *rng);

/* The default generator, xoshiro256** (its state is opaque_[1..4]), inline for the
 * sampler's inner loop, which keeps the state in registers; rng.c uses the same step. */
static inline uint64_t bp_xoshiro_next(uint64_t s[4])
{
    uint64_t x = s[1] * 5;
    uint64_t result = ((x << 7) | (x >> 57)) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return result;
}

/*------ JSON syntax (json_scan.c) ------*/

/* The result of checking a JSON text, and what the model loader learns on the way about
 * the members of the top-level object. */
typedef struct bp_json_scan {
    const unsigned char *s;
    size_t len, pos;
    unsigned depth;
    const char *problem;   /* why the text is not JSON, NULL if it is */
    size_t problem_pos;    /* where; == len when the text ends early */
    size_t n_members;      /* of the top-level object */
    size_t want_member;    /* index of the member whose key position to record */
    size_t member_pos;     /* that position, SIZE_MAX if not reached */
    size_t nul_key_member; /* first member whose key has an escaped NUL, SIZE_MAX if none */
} bp_json_scan;

/* Checks that s[0..len) is one JSON value with only whitespace around it, accepting
 * exactly what cJSON parses. Returns true if so; else js->problem and js->problem_pos say
 * what and where. */
bool bp_json_scan_text(bp_json_scan *js, const unsigned char *s, size_t len, size_t want_member);

/* cJSON's parse of s[0..len) under the library's one cJSON lock; NULL when it fails. After
 * bp_json_scan_text() accepted the text, a failure means out of memory. */
struct cJSON;
struct cJSON *bp_cjson_parse(const unsigned char *s, size_t len);

/* The position of the first byte at or after `pos` that is not JSON whitespace. */
size_t bp_json_skip_space(const unsigned char *s, size_t len, size_t pos);

/*------ Reading files (file_read.c) ------*/

/* Reads the whole model file at `path` into a new malloc'd buffer (*data, *len; one NUL
 * byte is appended after the data and not counted). If the content starts with the zstd
 * frame magic it is decompressed (all frames, streaming; an incomplete frame is
 * BP_ERR_TRUNCATED). The first bytes (as stored, then decompressed) must start a model
 * (bp_model_check_start: BP_ERR_NOT_JSON, BP_ERR_CORRUPT), checked as soon as they are
 * read; more than BP_MODEL_MAX_SIZE bytes, as stored or decompressed, is BP_ERR_TOO_LARGE.
 * Errors name the file: BP_ERR_IO (missing, unreadable, a directory, read error),
 * BP_ERR_TRUNCATED, BP_ERR_NOMEM. */
bp_status bp_read_file(const char *path, unsigned char **data, size_t *len, bp_error *err);

/* Opens `path` for reading; a directory is refused with a clear message (open() accepts
 * one, and what read() then does varies between systems). *size_hint (if not NULL) gets
 * the file's size when it is a regular file, else 0. BP_ERR_IO names the path. */
bp_status bp_open_for_reading(const char *path, int *fd, size_t *size_hint, bp_error *err);


/* Limits the window a zstd frame may make `dctx` allocate, for a compressed input of
 * `in_len` bytes (0: unknown, a pipe): 128 MiB, more only for inputs large enough to need
 * it, so that a few corrupt header bytes cannot claim gigabytes. */
struct ZSTD_DCtx_s;
void bp_zstd_limit_window(struct ZSTD_DCtx_s *dctx, uint64_t in_len);

/* Fails with the zstd decoder error `zstd_ret` on input `name` at `offset` (bytes of
 * output): BP_ERR_TOO_LARGE for a window over the limit above, else BP_ERR_IO. */
bp_status bp_zstd_fail(bp_error *err, size_t zstd_ret, const char *name, uint64_t offset,
                       uint64_t in_len);

/* The same for bytes already in memory: decompresses when they are a zstd stream, else
 * copies them; the same checks and limit. `name` (may be NULL) is used in messages. */
bp_status bp_read_memory(const void *in, size_t in_len, const char *name, unsigned char **data,
                         size_t *len, bp_error *err);

/*------ Normalization (normalize.c) ------*/

/* A growable byte buffer owned by the caller; also the scratch space NFC needs. */
typedef struct bp_nfc_buffer {
    unsigned char *out;   /* normalized bytes */
    size_t len, cap;
    int32_t *cps;         /* code point scratch for utf8proc */
    size_t cps_cap;
    uint32_t *marks;      /* sort keys for long runs of combining marks */
    size_t marks_cap;
} bp_nfc_buffer;

void bp_nfc_buffer_free(bp_nfc_buffer *buf);

/* Writes NFC(text[0..len)) to buf->out / buf->len. Maximal valid UTF-8 runs are
 * normalized; bytes that are not part of well-formed UTF-8 are copied unchanged and act
 * as boundaries. Text that is already NFC is copied by a fast path without calling
 * utf8proc. Returns BP_OK or BP_ERR_NOMEM. */
bp_status bp_nfc(bp_nfc_buffer *buf, const unsigned char *text, size_t len);

/* A run of text that NFC changed: the well-formed UTF-8 in[0..in_len), at input byte in_at,
 * became out[0..out_len), at normalized byte out_at (after every earlier run). */
typedef struct bp_nfc_run {
    const unsigned char *in, *out;
    size_t in_at, in_len, out_at, out_len;
} bp_nfc_run;

/* Told of each run NFC changes, in order; a status other than BP_OK stops bp_nfc_runs(). */
typedef bp_status (*bp_nfc_run_fn)(void *ctx, const bp_nfc_run *run);

/* bp_nfc() that also tells `on_run` (when not NULL) of every run it changes: the rest of
 * the text is copied as it is. Returns BP_OK, BP_ERR_NOMEM or what on_run returned. */
bp_status bp_nfc_runs(bp_nfc_buffer *buf, const unsigned char *text, size_t len,
                      bp_nfc_run_fn on_run, void *ctx);

/*------ Offsets into the text before NFC (offset_map.c) ------*/

/* From normalized byte `out` up to the next span: normalized byte out + k comes from input
 * byte in + k (exact), or every byte from input byte `in` (whole). */
typedef struct bp_offset_span {
    size_t out, in;
    bool whole;
} bp_offset_span;

/* Spans in increasing `out`; before the first one, the identity. Grows as needed. */
typedef struct bp_offset_map {
    bp_offset_span *spans;
    size_t n, cap;
} bp_offset_map;

void bp_offset_map_free(bp_offset_map *map);

/* Records a run NFC changed in the bp_offset_map `ctx`, after the earlier runs: a
 * bp_nfc_run_fn, for bp_nfc_runs(), into a map emptied first (n = 0). Returns BP_OK or
 * BP_ERR_NOMEM. */
bp_status bp_offset_map_add_run(void *ctx, const bp_nfc_run *run);

/* Turns offsets[0..n), non-decreasing positions in the normalized text, into positions in
 * the input in[0..in_len) the map was made from, each moved back to the start of the
 * input character that holds it. */
void bp_offset_map_apply(const bp_offset_map *map, const unsigned char *in, size_t in_len,
                         size_t *offsets, size_t n);

/* Length of the well-formed UTF-8 sequence at s[0..n), 0 if s[0] does not start one
 * (overlongs, surrogates and values above U+10FFFF are not well-formed). Sets *cp on
 * success. */
size_t bp_utf8_decode(const unsigned char *s, size_t n, int32_t *cp);

/* bp_utf8_valid_prefix() is public (bytepiece.h). */

/* Whether code point `cp` is inert (see normalize.c): then NFC(x cp y) == NFC(x) NFC(cp y)
 * for all x, y, so text may be normalized in pieces cut just before such a code point.
 * Every ASCII code point is inert. */
bool bp_nfc_is_inert(int32_t cp);

/* Index of the first byte at or after s[i] that is not ASCII (or len). */
size_t bp_skip_ascii(const unsigned char *s, size_t i, size_t len);

/* Length of the chunk that starts at text[0]: the run of non-'\n' bytes plus the run of
 * '\n' after it (algorithms §2). len > 0; returns a value in 1..len. */
size_t bp_chunk_len(const unsigned char *text, size_t len);

/*------ Encoding with special tokens (encode_special.c) ------*/

/* A growable byte buffer. {0} is empty. */
typedef struct bp_byte_buffer {
    unsigned char *data;
    size_t len, cap;
} bp_byte_buffer;

/* What encoding with special tokens asks of the encoder that uses it (encode.c, nbest.c),
 * which encodes the stretches of text between them its own way. */
typedef struct bp_special_encoding {
    /* Encodes text[0..len) (no special token in it) as a text of its own, which starts at
     * byte `start` of the caller's text (its offsets point there), and gives its
     * normalized bytes in *x / *x_len (valid until the next call). BP_OK or a failure,
     * which ends the encoding. */
    bp_status (*stretch)(void *ctx, const unsigned char *text, size_t len, size_t start,
                         const unsigned char **x, size_t *x_len);
    /* Puts special token `id`, which starts at byte `offset` of the caller's text. */
    void (*token)(void *ctx, uint32_t id, size_t offset);
    void *ctx;
} bp_special_encoding;

/* Finds the special tokens of `s` in the caller's text[0..len), before normalization, and
 * hands each stretch between them and each token, in order, to `how`. *x / *x_len get the
 * normalized text: the stretches normalized, the tokens between them, in `joined`; or,
 * when the text holds no special token, the one stretch's own bytes (then the whole call
 * is one `how->stretch`, at no cost but the search). BP_OK, BP_ERR_NOMEM or a stretch's
 * failure. */
bp_status bp_encode_with_special(const bp_special_set *s, const bp_special_encoding *how,
                                 bp_byte_buffer *joined, const unsigned char *text, size_t len,
                                 const unsigned char **x, size_t *x_len);

/*------ Encoder internals (encode.c) for the other ways to encode (nbest.c) ------*/

/* Normalizes text[0..len) as bp_encode() does with `flags` (BP_ENCODE_NO_NORMALIZE), into
 * the encoder's buffer: *x / *x_len (valid until the next call on `enc`, and what
 * bp_encoder_normalized() then returns); *model is the encoder's model. BP_OK or
 * BP_ERR_NOMEM. */
bp_status bp_encoder_prepare(bp_encoder *enc, const void *text, size_t len, unsigned flags,
                             const bp_model **model, const unsigned char **x, size_t *x_len);

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

/*------ Writing files (file_write.c) ------*/

/* Buffered output to a file descriptor. The first failed write() leaves its errno in
 * `errnum` and every later byte is dropped, so that a writer checks once, at the end. */
typedef struct bp_writer {
    int fd;
    unsigned char *buf;
    size_t len, cap;
    int errnum; /* 0 while all is well */
} bp_writer;

/* Appends s[0..n); a run longer than the buffer is written straight from `s`. */
void bp_writer_put(bp_writer *w, const void *s, size_t n);

/* Puts the content of a file through `w` (checking w->errnum to stop early is allowed). */
typedef void (*bp_write_fn)(bp_writer *w, const void *ctx);

/* Writes to `path` what fill(w, ctx) puts, atomically: into a new file beside it, renamed
 * over it; on failure nothing is left behind. BP_ERR_WRITE (the message names the path),
 * BP_ERR_NOMEM, BP_ERR_INVALID_ARG. */
bp_status bp_write_file_from(const char *path, bp_write_fn fill, const void *ctx, bp_error *err);

/* Writes what fill(w, ctx) puts to the open descriptor `fd`, which stays open: for
 * temporary files. BP_ERR_WRITE with the errno in *errnum, or BP_ERR_NOMEM. */
bp_status bp_write_fd_from(int fd, bp_write_fn fill, const void *ctx, int *errnum);

/* The same for the bytes data[0..len). */
bp_status bp_write_file(const char *path, const void *data, size_t len, bp_error *err);

/*------ Doubles in JSON (json_double.c) ------*/

#define BP_JSON_DOUBLE_SIZE 32

/* Writes the finite double x to `out` as a JSON number (NUL-terminated) that reads back
 * as x both in a correctly rounded reader and in serde_json's default one (Hugging Face
 * tokenizers) when there is such a number (the shortest of 15 to 17 significant digits,
 * else a significand over a power of ten); else as %.17g. @return its length. */
size_t bp_json_double(double x, char out[BP_JSON_DOUBLE_SIZE]);

#endif /* BP_INTERNAL_H */
