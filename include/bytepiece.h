/*
 * bytepiece.h -- libbytepiece, a byte-level Unigram tokenizer (BytePiece in C).
 *
 * Copyright the libbytepiece authors. Licensed under the Apache License 2.0.
 *
 * This is the whole public API. Overview:
 *
 *   bp_model    an immutable vocabulary plus the automaton built over it. Load it once
 *               (bp_model_load) and share it between any number of threads.
 *   bp_encoder  per-thread scratch space bound to one model. Reused across calls so that
 *               steady-state encoding does not allocate. Not shareable between threads.
 *   bp_rng      a plain value the caller owns: the random state used when sampling.
 *
 * Ids are uint32_t: BP_ID_PAD (0), BP_ID_BOS (1), BP_ID_EOS (2); the pieces of a model take
 * ids BP_FIRST_PIECE_ID (3) .. vocab_size-1. All 256 single bytes are always pieces, so
 * there is no unknown token and every byte string encodes.
 *
 * Errors: every fallible call returns a bp_status (BP_OK == 0) and takes a last argument
 * `bp_error *err` (NULL allowed) that it fills on failure with the code, a message naming
 * the file and the problem, and the position where it was found. bp_strerror() names a
 * code. No call prints.
 *
 * Options: every options struct means the default when zero-initialised
 * (`bp_encode_options o = {0};` is the deterministic NFC encode), and every call that takes
 * options accepts NULL for them, with the same meaning.
 *
 * The header reads top to bottom by topic: version, errors, model, encoding (with the
 * random state for sampling), decoding, batch encoding, training (with reading corpora),
 * formats and interop. docs/ holds what the comments cite: docs/algorithms.md (the
 * algorithm, by section) and docs/native-format.md.
 *
 * No global mutable state: nothing here touches a static variable after load, so the
 * library is thread-safe as long as each bp_encoder and bp_rng is used by one thread at
 * a time.
 */
#ifndef BYTEPIECE_H_8C41D2
#define BYTEPIECE_H_8C41D2

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && __GNUC__ >= 4
#define BP_API __attribute__((visibility("default")))
#else
#define BP_API
#endif

/*====== Version ======*/

/* Semantic versioning of the API and ABI: the major number (the shared library's soname,
 * libbytepiece.so.MAJOR) changes with every incompatible change, the minor one with
 * additions. 1.0.0 changed from 0.1.0: options are zero-means-default (sampling is the
 * flag BP_ENCODE_SAMPLE; bp_train_options.no_ensure_unicode), bp_encoder_create,
 * bp_encode and bp_encode_batch take a bp_error *, bp_model_piece_id returns a uint32_t
 * (BP_ID_NONE when absent). */
#define BP_VERSION_MAJOR 1
#define BP_VERSION_MINOR 2
#define BP_VERSION_PATCH 0
#define BP_VERSION_NUMBER (BP_VERSION_MAJOR * 10000 + BP_VERSION_MINOR * 100 + BP_VERSION_PATCH)
#define BP_STRINGIFY_(x) #x
#define BP_STRINGIFY(x) BP_STRINGIFY_(x)
#define BP_VERSION_STRING \
    BP_STRINGIFY(BP_VERSION_MAJOR) "." BP_STRINGIFY(BP_VERSION_MINOR) "." BP_STRINGIFY(BP_VERSION_PATCH)

/*! bp_version_string() :
 *  @return the library's version, e.g. "1.0.0" (static storage). Compare with
 *  BP_VERSION_STRING to detect a header/library mismatch. */
BP_API const char *bp_version_string(void);

/*! bp_version_number() : @return BP_VERSION_NUMBER of the linked library. */
BP_API unsigned bp_version_number(void);

/*! bp_unicode_version() :
 *  @return the Unicode version of the NFC tables in use (utf8proc's), e.g. "15.0.0". */
BP_API const char *bp_unicode_version(void);

/*====== Errors ======*/

/* Values are stable: new codes are only ever appended. */
typedef enum bp_status {
    BP_OK = 0,
    BP_ERR_NOMEM = 1,          /* an allocation failed */
    BP_ERR_INVALID_ARG = 2,    /* NULL where a pointer is required, alpha is NaN, ... */
    BP_ERR_IO = 3,             /* a file could not be opened or read (missing, directory, ...) */
    BP_ERR_EMPTY = 4,          /* the model file holds no bytes */
    BP_ERR_TRUNCATED = 5,      /* the model file ends early (JSON or zstd frame incomplete) */
    BP_ERR_NOT_JSON = 6,       /* the model file is not valid JSON */
    BP_ERR_NOT_OBJECT = 7,     /* the JSON value is not an object */
    BP_ERR_BAD_BASE64 = 8,     /* a key is not canonical standard base64 of a non-empty piece */
    BP_ERR_BAD_ENTRY = 9,      /* a value is not [id, text, count] with an integer id */
    BP_ERR_DUP_PIECE = 10,     /* two keys decode to the same piece */
    BP_ERR_BAD_ID = 11,        /* ids are not exactly 3 .. N+2 for N pieces (duplicate or out of range) */
    BP_ERR_MISSING_BYTE = 12,  /* one of the 256 single-byte pieces is absent */
    BP_ERR_BAD_COUNT = 13,     /* a count is zero, negative, not an integer or too large */
    BP_ERR_UNKNOWN_ID = 14,    /* decode met an id that is not in the vocabulary */
    BP_ERR_BUFFER_TOO_SMALL = 15, /* the caller's output buffer is too small; the size needed is reported */
    BP_ERR_TOO_LARGE = 16,     /* an input exceeds what the format or a size type can hold */
    BP_ERR_BAD_RECORD = 17,    /* a JSONL line is not JSON, or lacks the text field */
    BP_ERR_BAD_UTF8 = 18,      /* training text is not valid UTF-8 */
    BP_ERR_EMPTY_CORPUS = 19,  /* training was asked for with no text at all */
    BP_ERR_WRITE = 20,         /* a file could not be written (directory missing, disk full, ...) */
    BP_ERR_CORRUPT = 21,       /* a native model fails its checksum or its validation */
    BP_ERR_VERSION = 22,       /* a native model of a format version this library does not read */
    BP_ERR_BAD_ESCAPE = 23,    /* an escaped piece has a backslash that starts no escape */
    BP_ERR_BAD_SPECIAL = 24,   /* a special token is empty, not UTF-8 or given twice, or a model's
                                  special tokens do not fit the format asked for */
    BP_ERR_BAD_COUNTS = 25,    /* a count file is corrupt, truncated or not a count file */
    BP_ERR_MISMATCH = 26       /* count files made with different options or of different kinds */
} bp_status;

/*! bp_strerror() :
 *  @return a short static description of `code` ("unknown error code" if out of range). */
BP_API const char *bp_strerror(bp_status code);

/* Where and why a call failed. Filled by calls that take a `bp_error *` (which may be NULL)
 * when they return something other than BP_OK; untouched on success. */
typedef struct bp_error {
    bp_status code;
    uint64_t offset;   /* byte offset in the (decompressed) input, or index of the offending id
                          for bp_decode, or of the failing text for bp_encode_batch_finish;
                          UINT64_MAX when there is no position */
    char message[512]; /* NUL-terminated, names the file (when there is one) and the problem */
} bp_error;

/*====== Model ======*/

typedef struct bp_model bp_model;

/* The ids every model has, whatever its pieces, and the first id of a piece. */
#define BP_ID_PAD 0u
#define BP_ID_BOS 1u
#define BP_ID_EOS 2u
#define BP_FIRST_PIECE_ID 3u
/* What bp_model_piece_id() returns for bytes that are not a piece. */
#define BP_ID_NONE UINT32_MAX

/*! bp_model_load() :
 *  Loads a model in the reference BytePiece JSON format
 *  ({"<base64 piece>": [id, "text", count], ...}), plain or zstd-compressed, or in the
 *  native binary format (bp_model_save_native()), all recognised by content, not by name.
 *  Piece scores are log(count) - log(total) with the C library's log, exactly as the
 *  reference (docs/algorithms.md §4.1).
 *  Validation is complete: see the BP_ERR_* codes from BP_ERR_IO to BP_ERR_BAD_COUNT.
 *  Reading is bounded: a file whose first bytes start no model format (not '{' or another
 *  JSON value after an optional byte order mark and whitespace, no zstd frame, no native
 *  magic) is refused after its first read with BP_ERR_NOT_JSON, "not a model: neither
 *  JSON, zstd nor a native model" (BP_ERR_CORRUPT when it is the native magic with a byte
 *  or two damaged), so that /dev/zero or a large binary is not read whole; a model of more
 *  than BP_MODEL_MAX_SIZE bytes (as stored, or after decompression) is refused with
 *  BP_ERR_TOO_LARGE after reading or decompressing at most that much, so that a pipe or
 *  device that never ends cannot exhaust memory.
 *  @return BP_OK and *out set to a new model, or an error with *out set to NULL.
 *  Ownership: the caller frees the model with bp_model_free().
 *  Thread safety: the returned model is immutable and may be used by any number of threads. */
BP_API bp_status bp_model_load(const char *path, bp_model **out, bp_error *err);

/* The largest model bp_model_load() and bp_model_load_memory() accept, in bytes (1 GiB;
 * the 80k-piece models are 6 MB as JSON, 9 MB native). */
#define BP_MODEL_MAX_SIZE ((size_t)1 << 30)

/*! bp_model_load_memory() :
 *  Like bp_model_load() from `size` bytes at `data` (JSON, plain or zstd-compressed, or
 *  native; a native image is copied).
 *  `name` is used in error messages only (may be NULL). The bytes are not retained. */
BP_API bp_status bp_model_load_memory(const void *data, size_t size, const char *name,
                                      bp_model **out, bp_error *err);

/* One entry of a piece table: a non-empty byte string and its training count (> 0). */
typedef struct bp_piece {
    const unsigned char *bytes;
    size_t len;
    uint64_t count;
} bp_piece;

/*! bp_model_from_pieces() :
 *  Builds a model from a piece table held in memory: pieces[i] gets id i + 3. The table
 *  must hold every single byte, no duplicate piece and counts > 0 (errors as for loading).
 *  The bytes are copied; the table may be freed after the call. */
BP_API bp_status bp_model_from_pieces(const bp_piece *pieces, size_t n_pieces,
                                      bp_model **out, bp_error *err);

/*! bp_model_free() : frees a model. NULL is accepted. No encoder of it may be in use. */
BP_API void bp_model_free(bp_model *model);

/*! bp_model_vocab_size() :
 *  @return number of ids: pieces + 3 (the three special ids) + the special tokens added
 *  (bp_model_add_special()). */
BP_API size_t bp_model_vocab_size(const bp_model *model);

/*! bp_model_piece() :
 *  @return a pointer to the bytes of piece `id` (not NUL-terminated) and its length in
 *  *len, or NULL (and *len = 0) for ids 0..2 and ids >= vocab size. For the id of a
 *  special token (bp_model_is_special()), its text. Valid while the model lives. */
BP_API const unsigned char *bp_model_piece(const bp_model *model, uint32_t id, size_t *len);

/*! bp_model_piece_count() : @return the training count of piece `id`, 0 if not a piece. */
BP_API uint64_t bp_model_piece_count(const bp_model *model, uint32_t id);

/*! bp_model_piece_score() : @return log(count) - log(total) of piece `id`, -INFINITY if not a piece. */
BP_API double bp_model_piece_score(const bp_model *model, uint32_t id);

/*! bp_model_piece_id() :
 *  @return the id of the piece equal to bytes[0..len), or BP_ID_NONE when no piece is
 *  (also for a NULL model or bytes, or len 0). */
BP_API uint32_t bp_model_piece_id(const bp_model *model, const void *bytes, size_t len);

/*------ Pieces as text ------*/

/* A piece is any byte string; printed raw it can break a terminal, a TSV line or the UTF-8
 * around it. Its escaped form is one word of printable UTF-8 that reads back to the same
 * bytes (what `bp encode --output-format pieces` and `bp vocab` print, `bp import` reads):
 * bytes 0x21-0x7e and well-formed UTF-8 characters from U+00A0 up stand for themselves;
 * backslash is \\, newline \n, tab \t, CR \r, and every other byte (space, controls,
 * bytes outside well-formed characters) \xHH with lowercase hex. A piece that reads <pad>,
 * <bos> or <eos> has its '<' written \x3c, so that it cannot pass for a special id. */

/*! bp_piece_escape_bound() :
 *  @return the room bp_piece_escape() needs for `len` bytes, its NUL included
 *  (4 * len + 1; SIZE_MAX when that overflows). */
BP_API size_t bp_piece_escape_bound(size_t len);

/*! bp_piece_escape() :
 *  Writes the escaped form of bytes[0..len) to `out`, NUL-terminated, and its length
 *  (without the NUL) to *out_len. A `cap` of bp_piece_escape_bound(len) always suffices.
 *  @return BP_OK; BP_ERR_BUFFER_TOO_SMALL (*out_len = the length needed, without the NUL;
 *  nothing useful written); BP_ERR_INVALID_ARG (NULL out_len, NULL bytes with len > 0,
 *  NULL out with cap > 0). Thread safety: none needed (no state). */
BP_API bp_status bp_piece_escape(const void *bytes, size_t len, char *out, size_t cap,
                                 size_t *out_len, bp_error *err);

/*! bp_piece_unescape() :
 *  Reads an escaped piece text[0..len) back into `out` (room for `len` bytes always
 *  suffices: unescaping never lengthens) and its length to *out_len. The hex digits of an
 *  escaped byte may be of either case; every byte but the backslash stands for itself.
 *  @return BP_OK; BP_ERR_BAD_ESCAPE (err->offset = the index of the backslash);
 *  BP_ERR_INVALID_ARG. */
BP_API bp_status bp_piece_unescape(const char *text, size_t len, void *out, size_t *out_len,
                                   bp_error *err);

/*! bp_utf8_valid_prefix() :
 *  @return the length of the longest prefix of text[0..len) that is well-formed UTF-8
 *  (no overlongs, surrogates or values above U+10FFFF): len when all of it is. */
BP_API size_t bp_utf8_valid_prefix(const void *text, size_t len);

/*! bp_model_is_native() :
 *  @return 1 if `model` was loaded from a native model file (bp_model_save_native(), plain
 *  or zstd-compressed), 0 if it was read from the reference JSON format or built in memory
 *  (bp_model_from_pieces(), training). NULL gives 0. */
BP_API int bp_model_is_native(const bp_model *model);

/*------ Special tokens ------*/

/* Control tokens for language models (<|endoftext|>, <|im_start|>, [INST], ...): strings
 * that take ids of their own after the pieces, in the order added: special token i of a
 * model of P pieces has id P + 3 + i, and bp_model_vocab_size() counts them. They are not
 * pieces: segmenting text never produces them (bp_model_piece_id() does not know them),
 * and by default encoding treats their text as ordinary text, so that user text cannot
 * inject them. With BP_ENCODE_SPECIAL, bp_encode() matches them in the caller's text
 * first. bp_model_piece() gives a special token's text (so bp_decode() writes it),
 * bp_model_piece_count() 0 and bp_model_piece_score() -INFINITY. Ids 0..2 (<pad>,
 * <bos>, <eos>) keep their meaning, and their names are taken: no special token may be
 * spelled "<pad>", "<bos>" or "<eos>". The native format stores special tokens
 * (docs/native-format.md, version 2); the reference JSON format cannot, so
 * bp_model_save() refuses a model that has any. */

/*! bp_model_add_special() :
 *  Makes a new model: `model`'s pieces (same ids, counts and scores) and special tokens,
 *  then tokens[0..n) (lens[i] bytes each, UTF-8) as new special tokens, in that order.
 *  `model` is not changed (models are immutable) and may be freed afterwards.
 *  @return BP_OK and *out set; BP_ERR_BAD_SPECIAL, with err->offset = the index i of the
 *  offending token, when tokens[i] is empty, not well-formed UTF-8, already a special token
 *  of `model` (or "<pad>", "<bos>", "<eos>"), or equal to an earlier token of the list;
 *  BP_ERR_TOO_LARGE (ids past 2^31 - 1, a token of 2^32 bytes or more);
 *  BP_ERR_INVALID_ARG (NULL model or out, NULL tokens or lens with n > 0, a NULL token
 *  with a non-zero length); BP_ERR_NOMEM. *out is NULL on failure.
 *  Cost: the automaton is built again, as loading the JSON model does.
 *  Ownership: the caller frees the new model with bp_model_free(). */
BP_API bp_status bp_model_add_special(const bp_model *model, const char *const *tokens,
                                      const size_t *lens, size_t n, bp_model **out,
                                      bp_error *err);

/*! bp_model_special_count() : @return the number of special tokens of `model` (0 for NULL). */
BP_API size_t bp_model_special_count(const bp_model *model);

/*! bp_model_is_special() :
 *  @return 1 if `id` is one of the special tokens added to `model`, else 0 (also for ids
 *  0..2, pieces, ids past the vocabulary and a NULL model). */
BP_API int bp_model_is_special(const bp_model *model, uint32_t id);

/*! bp_model_special_id() :
 *  @return the id of the special token equal to bytes[0..len), or BP_ID_NONE when there is
 *  none (also for a NULL model or bytes, or len 0). */
BP_API uint32_t bp_model_special_id(const bp_model *model, const void *bytes, size_t len);

/*! bp_ids_drop_special() :
 *  Removes the ids of special tokens (those bp_model_is_special() names) from
 *  ids[0..n_ids), in place, keeping the order of the others (ids 0..2 and unknown ids
 *  are kept). @return the number of ids left. A NULL model or ids changes nothing. */
BP_API size_t bp_ids_drop_special(const bp_model *model, uint32_t *ids, size_t n_ids);

/*====== Encoding ======*/

/*------ Random state for sampling ------*/

/* A plain value: the caller owns it, copies it, keeps one per thread. Its fields are
 * private to the library. Same seed and stream -> same draws on every platform. */
typedef struct bp_rng {
    uint64_t opaque_[18];
} bp_rng;

/*! bp_rng_seed() :
 *  Seeds `rng` for stream `stream` of the run `seed`: the state is derived from both by
 *  splitmix64, so different streams are independent. `bp encode --seed S` samples text k
 *  of its run (k counted from 0 across all its inputs: lines, or files with --whole, or
 *  JSONL records) from stream k of seed S, and bp_encode_batch() text i from stream
 *  first_stream + i: a C program that seeds text k with bp_rng_seed(rng, S, k) gets the
 *  CLI's samples, and no result depends on how texts are split between threads. */
BP_API void bp_rng_seed(bp_rng *rng, uint64_t seed, uint64_t stream);

/*! bp_rng_seed_glibc() :
 *  Parity mode: emulates glibc's srand(seed)/rand() and the reference's integer accept test
 *  (`rand() < exp(a - Z) * RAND_MAX`, one draw per candidate in Aho-Corasick order), so
 *  that sampling reproduces the Python BytePiece after bytepiece.set_seed(seed). One state
 *  runs across texts, as in the reference. For reproducing reference output only. */
BP_API void bp_rng_seed_glibc(bp_rng *rng, uint32_t seed);

/*! bp_rng_next() : @return the next 64 random bits (for tests and callers' own use). */
BP_API uint64_t bp_rng_next(bp_rng *rng);

/*------ Encoders ------*/

typedef struct bp_encoder bp_encoder;

/*! bp_encoder_create() :
 *  Creates scratch space for encoding with `model`. The model must outlive the encoder.
 *  An encoder may be used by one thread at a time; create one per thread.
 *  Memory: grows to about 4 bytes per byte of the longest chunk met so far (plus, with NFC
 *  on, a copy of the longest non-ASCII text), and, once sampling is used, 8 bytes per entry of
 *  the model's output lists (about 2 MB for an 80k model); it is reused, not freed, until
 *  bp_encoder_free().
 *  @return BP_OK, BP_ERR_INVALID_ARG (NULL model or out) or BP_ERR_NOMEM; *out is NULL on
 *  failure. */
BP_API bp_status bp_encoder_create(const bp_model *model, bp_encoder **out, bp_error *err);

/*! bp_encoder_free() : frees an encoder. NULL is accepted. */
BP_API void bp_encoder_free(bp_encoder *enc);

/* Flags for bp_encode_options.flags */
#define BP_ENCODE_NO_NORMALIZE 1u /* encode the raw bytes; default is NFC first */
#define BP_ENCODE_BOS 2u          /* start with id 1 */
#define BP_ENCODE_EOS 4u          /* end with id 2 */
#define BP_ENCODE_SAMPLE 8u       /* sample a segmentation (alpha, rng) instead of the best */
#define BP_ENCODE_OFFSETS 16u     /* batch encoding: also give each token's offset in its text
                                     (bp_batch), as bp_encode() gives them; bp_encode() ignores
                                     the flag (it takes an offsets array) */
#define BP_ENCODE_SPECIAL 32u     /* match the model's special tokens in the text (see
                                     bp_encode()); without it their text is ordinary text */

/* Zero-initialised (or NULL): the best segmentation of the NFC text, no <bos>/<eos>. */
typedef struct bp_encode_options {
    double alpha;     /* with BP_ENCODE_SAMPLE: sample a segmentation with probability
                         P(seg)^alpha / Z, alpha >= 0 (0: uniform over all segmentations;
                         the larger, the closer to the best one). Ignored without the flag. */
    unsigned flags;   /* BP_ENCODE_* */
    bp_rng *rng;      /* with BP_ENCODE_SAMPLE: required, advanced by the call */
} bp_encode_options;

/*! bp_encode_bound() :
 *  @return the largest number of ids bp_encode() can produce for `text_len` bytes of input
 *  (NFC can lengthen text, so this is 3 * text_len + 2; the bound is loose, not tight). */
BP_API size_t bp_encode_bound(size_t text_len);

/*! bp_encode() :
 *  Encodes `len` bytes of `text` (any bytes: invalid UTF-8 is tokenized as bytes).
 *  Unless BP_ENCODE_NO_NORMALIZE, the text is first put in NFC; invalid UTF-8 passes through
 *  untouched. The text is cut into chunks (a run of bytes other than newline, plus the run
 *  of newlines after it) that are segmented independently.
 *  Writes at most `cap` ids to `ids` and their number to *n_ids. When `offsets` is not
 *  NULL it receives, for each id, the byte in text[0..len) where the token starts, as
 *  Hugging Face tokenizers reports it: the start of the input characters the token's first
 *  byte came from. A token that starts inside a character (byte pieces), or inside a
 *  character NFC composed from several input characters (e + U+0301), or among marks NFC
 *  put in another order, gets the offset of the first input byte of that character or
 *  those characters. So offsets never decrease and never split a well-formed character of
 *  the input (bytes of invalid UTF-8 are characters of their own); the NFC of the spans
 *  from each offset to the next larger one (the last to len), laid end to end, is the text
 *  the tokens spell, and each token starts inside the span of its own offset. BOS is at 0,
 *  EOS at len. With BP_ENCODE_NO_NORMALIZE each token starts where the previous one ends.
 *  Asking for offsets costs a pass over them, plus a little work per NFC run that changes
 *  the text; not asking costs nothing. `offsets` is unspecified after a failure.
 *  With BP_ENCODE_SPECIAL (on a model with special tokens; otherwise the flag changes
 *  nothing), the special tokens are first found in the caller's bytes, before
 *  normalization: leftmost first, and of those starting at one position the longest. Each
 *  becomes its id (its offset: where it starts in text), and each stretch
 *  of text between them is encoded exactly as a text of its own (its own NFC, its own
 *  chunks, the same ids), so a text without special tokens gives the same ids with the
 *  flag as without. The normalized text (bp_encoder_normalized()) is then the stretches
 *  normalized with the tokens between them. Sampling draws for the stretches in order.
 *  A `cap` of bp_encode_bound(len) always suffices. If `cap` is smaller than needed, returns
 *  BP_ERR_BUFFER_TOO_SMALL with *n_ids set to the number needed (when sampling, the rng
 *  has then been advanced: call again with a copy made before the first call).
 *  `opts` may be NULL (the default: deterministic, NFC).
 *  @return BP_OK, BP_ERR_INVALID_ARG (NULL enc or n_ids, NULL ids with cap > 0, NULL text
 *  with len > 0; with BP_ENCODE_SAMPLE: alpha NaN or negative, or no rng), BP_ERR_NOMEM,
 *  BP_ERR_BUFFER_TOO_SMALL. */
BP_API bp_status bp_encode(bp_encoder *enc, const void *text, size_t len,
                           const bp_encode_options *opts, uint32_t *ids, size_t *offsets,
                           size_t cap, size_t *n_ids, bp_error *err);

/*! bp_encode_append() :
 *  bp_encode() into arrays that grow as needed, for callers who would rather not size
 *  buffers: appends the ids of `text` to (*ids)[*n_ids ..] (and, when `offsets` is not
 *  NULL, their offsets in `text` to (*offsets)[*n_ids ..]) and adds their number to
 *  *n_ids. *ids and *offsets are arrays from malloc() (or NULL, with *cap 0) holding *cap entries each (an
 *  *offsets still NULL is allocated at *cap entries); the call reallocates them (and
 *  updates *cap) when the text needs more room. The caller owns and frees them. The ids are those of one bp_encode() call with enough room, random
 *  draws included. Appending text after text builds one array of a whole corpus.
 *  @return BP_OK; BP_ERR_INVALID_ARG (NULL ids, cap or n_ids, *n_ids > *cap, and as
 *  bp_encode()); BP_ERR_NOMEM or BP_ERR_TOO_LARGE, with the arrays still valid (possibly
 *  grown) and *n_ids unchanged. Never BP_ERR_BUFFER_TOO_SMALL. */
BP_API bp_status bp_encode_append(bp_encoder *enc, const void *text, size_t len,
                                  const bp_encode_options *opts, uint32_t **ids,
                                  size_t **offsets, size_t *cap, size_t *n_ids, bp_error *err);

/*! bp_encoder_normalized() :
 *  @return the normalized text of the last bp_encode() call on `enc` (its bytes in *len),
 *  valid until the next call on `enc`: what was segmented, so the tokens' bytes, in order,
 *  spell it. Equals the input when normalization was off. Offsets do not point into it
 *  but into the input (bp_encode()). */
BP_API const unsigned char *bp_encoder_normalized(const bp_encoder *enc, size_t *len);

/*------ The k best segmentations ------*/

/* The largest k of bp_encode_nbest(). */
#define BP_NBEST_MAX 1024

/* The result of bp_encode_nbest(): n segmentations of one text, best first. */
typedef struct bp_nbest {
    uint32_t *ids;         /* the ids of every segmentation, one segmentation after another */
    size_t *ids_begin;     /* n + 1 entries: segmentation i is ids[ids_begin[i] .. ids_begin[i+1]) */
    double *scores;        /* n entries: the log-probability of each segmentation */
    size_t n;
} bp_nbest;

/*! bp_encode_nbest() :
 *  Lists the k most probable segmentations of text[0..len) (k from 1 to BP_NBEST_MAX),
 *  exactly, best first; fewer when the text has fewer (the empty text has one, with no
 *  tokens). The text is normalized and cut into chunks as bp_encode() does, with the same
 *  opts->flags (BOS, EOS, NO_NORMALIZE; every segmentation gets the <bos>/<eos> asked for),
 *  and bp_encoder_normalized() then returns the normalized text, as after bp_encode().
 *  Score: a chunk's score is the sum of its pieces' scores (bp_model_piece_score()) added
 *  left to right from 0, exactly as the Viterbi adds them; a text's score is its chunks'
 *  scores added left to right (for a text of one chunk, simply the first sum). The empty
 *  text scores 0.
 *  Order: score descending; equal scores of one chunk go to the longer last piece, then
 *  (same last piece) to the better segmentation of the rest of the chunk by this same rule;
 *  equal scores of a text go to the better segmentation of its last chunk, then to the
 *  better segmentation of the chunks before it. The order is total and deterministic, and
 *  it is the Viterbi's: the first segmentation (and k = 1) gives exactly bp_encode()'s ids.
 *  Cost: time about (text length) * k log(longest piece); memory about 8 * k bytes per
 *  byte of (normalized) text while it runs, plus the result.
 *  Ownership: *out owns its arrays (fresh ones each call: a previous result in *out is not
 *  freed); release them with bp_nbest_free(). The text is only read during the call.
 *  @return BP_OK; BP_ERR_INVALID_ARG (NULL enc or out, NULL text with len > 0, k out of
 *  range, BP_ENCODE_SAMPLE in opts->flags, BP_ENCODE_SPECIAL on a model with special
 *  tokens: not supported yet); BP_ERR_NOMEM, BP_ERR_TOO_LARGE. On failure
 *  *out is empty (all NULL / 0). One thread at a time per encoder, as bp_encode(). */
BP_API bp_status bp_encode_nbest(bp_encoder *enc, const void *text, size_t len,
                                 const bp_encode_options *opts, size_t k, bp_nbest *out,
                                 bp_error *err);

/*! bp_nbest_free() : frees the arrays of a bp_nbest and empties it. NULL is accepted. */
BP_API void bp_nbest_free(bp_nbest *nbest);

/*====== Decoding ======*/

/*! bp_decode_bound() :
 *  @return the largest number of bytes bp_decode() can produce for `n_ids` ids of `model`:
 *  n_ids times its longest piece (SIZE_MAX when that overflows). */
BP_API size_t bp_decode_bound(const bp_model *model, size_t n_ids);

/*! bp_decode() :
 *  Concatenates the bytes of the pieces `ids[0..n_ids)` into `out` (no NUL is added).
 *  Ids 0..2 produce nothing. The output is raw bytes: pieces need not be valid UTF-8.
 *  Writes the number of bytes needed to *out_len. If it exceeds `cap`, returns
 *  BP_ERR_BUFFER_TOO_SMALL and writes nothing useful (out may be NULL when cap is 0).
 *  @return BP_OK, BP_ERR_INVALID_ARG, BP_ERR_BUFFER_TOO_SMALL, or BP_ERR_UNKNOWN_ID with
 *  err->offset = the index of the first unknown id and the id named in err->message. */
BP_API bp_status bp_decode(const bp_model *model, const uint32_t *ids, size_t n_ids,
                           void *out, size_t cap, size_t *out_len, bp_error *err);

/*------ Streaming decode ------*/

/* A generator produces ids one at a time and wants to show text as it comes; but a piece
 * may end inside a UTF-8 character (byte pieces, pieces cut between the bytes of a
 * character), and printing half a character shows garbage. A stream decoder hands back
 * only what is ready: the bytes of the ids so far, less an unfinished character at the
 * end, which it holds (at most 3 bytes) until a later id finishes it. Bytes that can no
 * longer become part of a well-formed character (invalid UTF-8) are not held: they come
 * out at once, unchanged. The concatenation of every chunk and of the final flush is
 * bp_decode() of all the ids, byte for byte, whatever the ids. */
typedef struct bp_stream_decoder bp_stream_decoder;

/*! bp_stream_decoder_create() :
 *  Creates a stream decoder for `model`, which must outlive it. A decoder is one stream's
 *  state: one thread at a time, one per concurrent stream. It holds no more than 3 bytes
 *  and allocates nothing after creation.
 *  @return BP_OK, BP_ERR_INVALID_ARG (NULL model or out) or BP_ERR_NOMEM; *out is NULL on
 *  failure. Ownership: free it with bp_stream_decoder_free(). */
BP_API bp_status bp_stream_decoder_create(const bp_model *model, bp_stream_decoder **out,
                                          bp_error *err);

/*! bp_stream_decoder_free() : frees a stream decoder (held bytes are lost). NULL is accepted. */
BP_API void bp_stream_decoder_free(bp_stream_decoder *dec);

/*! bp_stream_decode() :
 *  Appends the pieces of ids[0..n_ids) (any number, one or many; ids 0..2 give no bytes)
 *  to the stream and writes to `out` the bytes that are ready: everything not yet handed
 *  back except an unfinished UTF-8 sequence at the very end, which is held. *out_len gets
 *  their number (possibly 0: an id may only add to what is held). A `cap` of
 *  bp_decode_bound(model, n_ids) + 3 always suffices.
 *  @return BP_OK; BP_ERR_INVALID_ARG (NULL dec or out_len, NULL ids with n_ids > 0, NULL
 *  out with cap > 0); BP_ERR_BUFFER_TOO_SMALL (*out_len = the room needed);
 *  BP_ERR_UNKNOWN_ID, err->offset = the index in `ids` of the first unknown id, the message
 *  naming it and its position in the stream (counted from 0 since creation or the last
 *  flush). On any failure the decoder is unchanged, as if the call had not been made: it
 *  stays usable, and the caller may decode the ids before the unknown one (those before
 *  index err->offset) to get what they give. */
BP_API bp_status bp_stream_decode(bp_stream_decoder *dec, const uint32_t *ids, size_t n_ids,
                                  void *out, size_t cap, size_t *out_len, bp_error *err);

/*! bp_stream_decode_flush() :
 *  Ends the stream: writes the held bytes (0 to 3, an unfinished sequence, so not
 *  well-formed UTF-8) to `out` and their number to *out_len, and makes the decoder new
 *  again (nothing held, positions from 0), ready for another stream. A `cap` of 3 always
 *  suffices.
 *  @return BP_OK, BP_ERR_INVALID_ARG, BP_ERR_BUFFER_TOO_SMALL (*out_len = the room needed;
 *  nothing changes). */
BP_API bp_status bp_stream_decode_flush(bp_stream_decoder *dec, void *out, size_t cap,
                                        size_t *out_len, bp_error *err);

/*------ Token healing ------*/

/* A prompt's last token is often cut where the text happens to end: encoded alone,
 * "https:" may end with the piece ":" where the model, had it seen "https://", would have
 * used "://". Generating after it then starts from an unlikely split. Token healing takes
 * the last token(s) back and lets the first generated token choose how they continue:
 *
 *   1. encode the prompt: ids[0..n);
 *   2. bp_heal_prompt(model, ids, n, 1, &n2, tail, cap, &tail_len, err): the prompt is
 *      now ids[0..n2), and tail[0..tail_len) the bytes taken back;
 *   3. bp_model_prefix_ids(model, tail, tail_len, allowed, ...): the pieces that start
 *      with those bytes (with n_back 1 it holds at least the piece taken back);
 *   4. generate from ids[0..n2), the first token constrained to `allowed` (mask every
 *      other logit), and the rest as usual; the text generated starts with tail.
 *
 * With n_back > 1 the bytes of several tokens are taken back, and fewer (possibly no)
 * pieces start with them all: a caller then tries a smaller n_back. */

/*! bp_model_prefix_ids() :
 *  Writes to ids[0..) the id of every piece whose bytes start with bytes[0..len) (the
 *  piece equal to them included), in increasing id order, and their number to *n_ids.
 *  len 0 gives every piece. Ids 0..2 are never listed. A `cap` of
 *  bp_model_vocab_size(model) always suffices.
 *  Cost: the first call on a model sorts its pieces by bytes into an index the model keeps
 *  until bp_model_free() (4 bytes per piece: 320 KB and a few milliseconds for an 80k
 *  model); every call then takes a binary search over it and O(k log k) for k ids.
 *  @return BP_OK; BP_ERR_BUFFER_TOO_SMALL (*n_ids = the number of ids; nothing useful
 *  written); BP_ERR_INVALID_ARG (NULL model or n_ids, NULL bytes with len > 0, NULL ids
 *  with cap > 0); BP_ERR_NOMEM (making the index).
 *  Thread safety: any number of calls may run at once on one model (the index is made
 *  once and published atomically). */
BP_API bp_status bp_model_prefix_ids(const bp_model *model, const void *bytes, size_t len,
                                     uint32_t *ids, size_t cap, size_t *n_ids, bp_error *err);

/*! bp_heal_prompt() :
 *  Takes back the last `n_back` ids of ids[0..n_ids), stopping early at a special id
 *  (0..2: a <bos> stays, and nothing is taken after an <eos>; likewise a special token
 *  of bp_model_add_special()), or at the start. Sets
 *  *new_n_ids to the number of ids kept (the caller's array is not changed: the prompt is
 *  now ids[0..*new_n_ids)), and writes the bytes of the ids taken back to `bytes_out`,
 *  their number to *bytes_len. A `cap` of bp_decode_bound(model, n_back) always suffices.
 *  @return BP_OK; BP_ERR_BUFFER_TOO_SMALL (*new_n_ids set, *bytes_len = the room needed);
 *  BP_ERR_UNKNOWN_ID among the ids taken back (err->offset = its index in `ids`);
 *  BP_ERR_INVALID_ARG (NULL model, new_n_ids or bytes_len, NULL ids with n_ids > 0, NULL
 *  bytes_out with cap > 0). */
BP_API bp_status bp_heal_prompt(const bp_model *model, const uint32_t *ids, size_t n_ids,
                                size_t n_back, size_t *new_n_ids, void *bytes_out, size_t cap,
                                size_t *bytes_len, bp_error *err);

/*====== Batch encoding ======*/

/* Zero-initialised (or NULL): the best segmentation of the NFC texts, one thread per core. */
typedef struct bp_batch_options {
    double alpha;          /* as in bp_encode_options (with BP_ENCODE_SAMPLE) */
    unsigned flags;        /* BP_ENCODE_* */
    uint64_t seed;         /* with BP_ENCODE_SAMPLE: text i draws from stream
                              first_stream + i of this seed (bp_rng_seed) */
    uint64_t first_stream; /* lets consecutive batches continue one run's numbering */
    unsigned threads;      /* 0: one per online core; 1: the calling thread only */
} bp_batch_options;

/* The result of bp_encode_batch(): the ids of all texts, text after text. */
typedef struct bp_batch {
    uint32_t *ids;
    size_t *ids_begin;     /* n_texts + 1 entries: text i has ids[ids_begin[i] .. ids_begin[i+1]) */
    size_t n_texts;
    size_t *offsets;       /* with BP_ENCODE_OFFSETS, parallel to ids: the byte of its text
                              where each token starts, as bp_encode() gives it; else NULL */
} bp_batch;

/*! bp_encode_batch() :
 *  Encodes texts[0..n_texts) (lens[i] bytes each) with `model`, as bp_encode() would one by
 *  one with opts->alpha and opts->flags (BP_ENCODE_OFFSETS: out->offsets too; opts may be
 *  NULL: the defaults), on up to opts->threads threads (the calling thread is one of them).
 *  Output order is input order, and the result is identical whatever the
 *  number of threads: when sampling, text i uses bp_rng_seed(seed, first_stream + i), the
 *  numbering `bp encode --seed` uses for the texts of a run (no glibc-parity mode here).
 *  Inputs under about 512 KB in total are encoded by the calling thread alone, so small
 *  batches pay no thread start-up. While it runs it holds the ids twice (each thread's
 *  part, then the result); a caller that encodes a stream piece by piece and wants no
 *  fresh memory per call uses bp_encode() with its own buffer instead.
 *  Ownership: *out owns its arrays; release them with bp_batch_free(). The texts are only
 *  read during the call.
 *  @return BP_OK; BP_ERR_INVALID_ARG (NULL model or out, NULL texts or lens with
 *  n_texts > 0, a NULL text of non-zero length; with BP_ENCODE_SAMPLE, alpha NaN or
 *  negative); BP_ERR_NOMEM, BP_ERR_TOO_LARGE. On failure *out is empty (all NULL / 0).
 *  Thread safety: any number of calls may run at once on one model. */
BP_API bp_status bp_encode_batch(const bp_model *model, const void *const *texts,
                                 const size_t *lens, size_t n_texts,
                                 const bp_batch_options *opts, bp_batch *out, bp_error *err);

/*! bp_batch_free() : frees the arrays of a bp_batch and empties it. NULL is accepted. */
BP_API void bp_batch_free(bp_batch *batch);

/* Batch encoding in the background, for a caller that reads its next texts or writes
 * the previous results meanwhile: a job encodes one batch at a time on threads of its own
 * (the calling thread is not one of them), and keeps its scratch space (an encoder per
 * thread, the buffers of its parts) from batch to batch, so that a stream of batches pays
 * no set-up per batch. One thread at a time may call the functions of a job. */
typedef struct bp_batch_job bp_batch_job;

/*! bp_batch_job_create() :
 *  Creates a job that encodes batches with `model`, which must outlive it.
 *  Memory: grows to hold, besides the encoders, about 4 bytes per input byte of the largest
 *  batch (12 with BP_ENCODE_OFFSETS), kept until bp_batch_job_free().
 *  @return BP_OK and *out set, or BP_ERR_INVALID_ARG (NULL model or out), BP_ERR_NOMEM,
 *  with *out NULL (when out is not NULL) and `err` filled.
 *  Ownership: the caller frees the job with bp_batch_job_free(). */
BP_API bp_status bp_batch_job_create(const bp_model *model, bp_batch_job **out, bp_error *err);

/*! bp_encode_batch_start() :
 *  Starts encoding texts[0..n_texts) on `job`, as bp_encode_batch() would, and returns at
 *  once; bp_encode_batch_finish() waits for the result, which is the one bp_encode_batch()
 *  gives for the same arguments (same ids and offsets whatever the number of threads; the
 *  work runs on up to opts->threads threads, one for inputs under about 512 KB). If no
 *  thread can be started, the batch is encoded inside bp_encode_batch_finish() instead.
 *  Lifetime: `texts`, `lens` and the bytes of every text must stay valid and unchanged
 *  until bp_encode_batch_finish() returns; `opts` is copied (NULL: the defaults).
 *  @return BP_OK; or, with nothing started and `err` filled: BP_ERR_INVALID_ARG (NULL job,
 *  a batch already running on the job, NULL texts or lens with n_texts > 0, a NULL text of
 *  non-zero length; with BP_ENCODE_SAMPLE, alpha NaN or negative), BP_ERR_NOMEM,
 *  BP_ERR_TOO_LARGE. */
BP_API bp_status bp_encode_batch_start(bp_batch_job *job, const void *const *texts,
                                       const size_t *lens, size_t n_texts,
                                       const bp_batch_options *opts, bp_error *err);

/*! bp_encode_batch_finish() :
 *  Waits until the batch started on `job` is encoded and moves its result to *out, the
 *  calling thread taking what is left of the work meanwhile (so a caller that did other
 *  work since bp_encode_batch_start() loses no time). The job may then start another
 *  batch.
 *  Ownership: *out owns its arrays; release them with bp_batch_free().
 *  @return BP_OK; or BP_ERR_NOMEM / BP_ERR_TOO_LARGE from the encoding, with *out empty
 *  and err->offset = the index of the first text that failed; or BP_ERR_INVALID_ARG (NULL
 *  job or out, no batch running), which leaves a running batch running. */
BP_API bp_status bp_encode_batch_finish(bp_batch_job *job, bp_batch *out, bp_error *err);

/*! bp_batch_job_free() :
 *  Frees a job, after waiting for a batch still running on it (whose result is dropped).
 *  NULL is accepted. */
BP_API void bp_batch_job_free(bp_batch_job *job);

/*====== Training ======*/

/*------ Reading corpora ------*/

typedef struct bp_text_input bp_text_input;

typedef enum bp_input_format {
    BP_INPUT_PLAIN = 0, /* the whole file is one text, delivered in pieces (any size) */
    BP_INPUT_JSONL = 1  /* each line is a JSON object; its string field is one text */
} bp_input_format;

#define BP_INPUT_SKIP_BAD_LINES 1u /* skip (and count) JSONL lines that are bad records */

/*! bp_text_input_open() :
 *  Opens `path` ("-" is standard input) for reading texts. zstd-compressed files are
 *  recognised by content and decompressed while streaming. Plain files are read as bytes:
 *  no newline translation. For JSONL, `field` names the string member holding the text
 *  (NULL means "text").
 *  @return BP_OK, BP_ERR_INVALID_ARG, BP_ERR_IO (message names the path), BP_ERR_NOMEM.
 *  Ownership: close with bp_text_input_close(). One thread at a time. */
BP_API bp_status bp_text_input_open(const char *path, bp_input_format format, const char *field,
                                    unsigned flags, bp_text_input **out, bp_error *err);

/*! bp_text_input_next() :
 *  Gives the next piece of text in *data / *len (valid until the next call). *end_of_text
 *  is set to 1 when this piece is the last of its text (a piece may then be empty), else 0.
 *  At the end of the input, *data is NULL and *len 0.
 *  @return BP_OK, BP_ERR_IO, BP_ERR_TRUNCATED (zstd stream cut short), BP_ERR_NOMEM, or
 *  BP_ERR_BAD_RECORD (JSONL: the message names file and line) unless skipping them. */
BP_API bp_status bp_text_input_next(bp_text_input *in, const unsigned char **data, size_t *len,
                                    int *end_of_text, bp_error *err);

/*! bp_text_input_skipped() : @return the number of bad JSONL lines skipped so far. */
BP_API uint64_t bp_text_input_skipped(const bp_text_input *in);

/*! bp_text_input_close() : closes the input. NULL is accepted. */
BP_API void bp_text_input_close(bp_text_input *in);

/*------ Trainer ------*/

typedef struct bp_trainer bp_trainer;

/* What a progress callback is told: the stage and how far it is. */
/* What `done` and `total` count, by stage:
 *   "reading"           bytes of normalized text taken in so far; total 0 (the trainer does
 *                       not know how much its caller will feed: a caller that knows the size
 *                       of its input shows its own progress, as bp train does per file);
 *   "counting n-grams"  bytes of normalized text counted in this pass, of all of it (the
 *                       bytes of bp_train_stats; one pass per n-gram order from 3 up, each
 *                       starting again from 0);
 *   "segmenting"        the same, for the segmentation pass;
 *   "pruning"           pieces left after a round, of the pieces before it (rounds repeat
 *                       until nothing more is removed).
 * Normalized text is NFC, so its size may differ a little from the input's. */
typedef struct bp_train_progress {
    const char *stage; /* "reading", "counting n-grams", "segmenting", "pruning" */
    uint64_t done;
    uint64_t total;    /* 0 when unknown */
} bp_train_progress;

/* Zero-initialised (or NULL): the reference Trainer's defaults, one thread per core. */
typedef struct bp_train_options {
    unsigned order;            /* n-gram order, 1 .. 7 (0: the default, 6) */
    uint64_t min_count;        /* for n-grams of order >= 2 and for pieces (0: 2) */
    size_t max_piece_length;   /* in bytes (0: 36) */
    int isolate_digits;        /* every Unicode Nd digit is its own chunk (default 0) */
    int no_ensure_unicode;     /* let a UTF-8 continuation byte start a piece (default 0:
                                  it never does, as the reference's ensure_unicode=True) */
    unsigned threads;          /* 0: one per core. Results do not depend on it. */
    int skip_bad_lines;        /* drop lines of invalid UTF-8 instead of failing (default 0) */
    const char *temp_dir;      /* where the normalized corpus is spooled; NULL: $TMPDIR or /tmp */
    void (*progress)(void *ctx, const bp_train_progress *p); /* may be NULL */
    void *progress_ctx;
    size_t memory_limit;       /* bytes; 0: no limit. The tables that grow with the corpus
                                  (the n-gram counts of a level, the piece counts, and a
                                  shard's sorted n-gram keys in
                                  bp_trainer_save_ngram_counts) are held to half of it,
                                  shared by the threads: a table that reaches
                                  its share is written sorted to an unlinked temporary file
                                  in temp_dir (a "run") and cleared, and the runs are merged
                                  back, 16 at a time, so the results are the same bytes.
                                  Not limited: the n-grams that reach min_count (the n-gram
                                  model that segmenting reads at every byte), the pieces kept
                                  for pruning (min_count or more, at most max_piece_length)
                                  and about 40 MB of buffers (a merge reads 16 runs at once,
                                  2.5 MB each). Figures: bp_train_stats.spilled_*. */
} bp_train_options;

/* Per-stage figures of a finished training. */
typedef struct bp_train_stats {
    uint64_t bytes;            /* normalized bytes of training text */
    uint64_t chunks;           /* training chunks (algorithms §2) */
    uint64_t skipped_lines;    /* lines dropped by skip_bad_lines */
    uint64_t ngrams;           /* n-grams kept after pruning (all orders) */
    uint64_t distinct_pieces;  /* distinct pieces of the segmentation pass */
    double seconds_reading, seconds_counting, seconds_segmenting, seconds_pruning;
    uint64_t spilled_bytes;    /* written to temporary runs under memory_limit */
    uint64_t spilled_runs;     /* runs spilled under memory_limit (0: none) */
} bp_train_stats;

/*! bp_train_options_init() :
 *  Fills `o` with the reference Trainer's defaults, spelled out (the same training as a
 *  zero-initialised struct). */
BP_API void bp_train_options_init(bp_train_options *o);

/*! bp_trainer_create() :
 *  Creates a trainer (the BytePiece training algorithm, algorithms §3). Texts are then
 *  given with bp_trainer_feed() / bp_trainer_end_text() or bp_trainer_add_texts(), and
 *  bp_trainer_train() runs the training. The options are copied; NULL means the defaults.
 *  @return BP_OK, BP_ERR_INVALID_ARG (order above 7), BP_ERR_IO (temporary file),
 *  BP_ERR_NOMEM. */
BP_API bp_status bp_trainer_create(const bp_train_options *o, bp_trainer **out, bp_error *err);

/*! bp_trainer_feed() :
 *  Adds `len` bytes to the current text. A text may arrive in any number of pieces; it is
 *  normalized (NFC) and cut into chunks as the reference does (10000 characters at most, at
 *  most 100 newlines). Training text must be UTF-8: otherwise BP_ERR_BAD_UTF8 with
 *  err->offset = the byte offset in the text, unless skip_bad_lines. */
BP_API bp_status bp_trainer_feed(bp_trainer *t, const void *data, size_t len, bp_error *err);

/*! bp_trainer_end_text() : ends the current text; the next feed starts a new one. */
BP_API bp_status bp_trainer_end_text(bp_trainer *t, bp_error *err);

/*! bp_trainer_add_input() :
 *  Feeds every text of `in` (bp_text_input_open()) until its end: the common case, a file
 *  or standard input, plain or JSONL, zstd or not. `in` stays open (the caller closes it,
 *  and may ask bp_text_input_skipped() first).
 *  @return BP_OK, or the first failure of reading (bp_text_input_next()) or of feeding
 *  (bp_trainer_feed()), with its message in *err. */
BP_API bp_status bp_trainer_add_input(bp_trainer *t, bp_text_input *in, bp_error *err);

/* A source of texts for bp_trainer_add_texts(), for texts that come from elsewhere: it
 * gives pieces of text exactly as bp_text_input_next() does (that function, with `ctx` the
 * bp_text_input, is such a source; bp_trainer_add_input() calls it so). */
typedef bp_status (*bp_text_reader_fn)(void *ctx, const unsigned char **data, size_t *len,
                                       int *end_of_text, bp_error *err);

/*! bp_trainer_add_texts() :
 *  Feeds every text `read` gives until it reports the end (*data NULL).
 *  @return BP_OK, or the first failure of `read` or of bp_trainer_feed(). */
BP_API bp_status bp_trainer_add_texts(bp_trainer *t, bp_text_reader_fn read, void *ctx,
                                      bp_error *err);

/*! bp_trainer_train() :
 *  Trains on everything fed and builds one model per requested vocabulary size (counting
 *  the 3 special ids), largest first, each cut from the previous result (algorithms §3.5.4);
 *  models[i] answers vocab_sizes[i]. A model may hold fewer ids than asked (wasted pieces are
 *  pruned), never more. Results do not depend on the number of threads.
 *  @return BP_OK, BP_ERR_EMPTY_CORPUS, BP_ERR_INVALID_ARG (a size below 259), BP_ERR_IO,
 *  BP_ERR_NOMEM. Ownership: the caller frees each model. A trainer trains once. */
BP_API bp_status bp_trainer_train(bp_trainer *t, const size_t *vocab_sizes, size_t n_sizes,
                                  bp_model **models, bp_error *err);

/*! bp_trainer_stats() : figures of the training so far. */
BP_API void bp_trainer_stats(const bp_trainer *t, bp_train_stats *stats);

/*! bp_trainer_free() : frees a trainer and removes its temporary file. NULL is accepted. */
BP_API void bp_trainer_free(bp_trainer *t);

/*------ Training in stages ------*/

/* Training is two sums over texts and a small final step (algorithms §3): the counts of
 * every n-gram (pass 1), the counts of the pieces the n-gram model cuts the texts into
 * (pass 2), then pruning. The calls below run each on part of a corpus (a shard) and keep
 * the sums in count files (docs/count-format.md), which add up exactly: with the texts of
 * a corpus split between shards in any way, and the files merged in any order,
 *   bp_trainer_save_ngram_counts() on each shard, bp_counts_merge() of the results (the
 *   last merge best by bp_counts_merge_pruned(), which keeps only what pass 2 reads),
 *   bp_trainer_save_piece_counts() on each shard with the merged n-grams,
 *   bp_counts_merge() of those, and bp_train_from_counts()
 * give byte for byte the models of bp_trainer_train() on all the texts at once. A file
 * records the training options it was made with; files of different options are never
 * mixed (BP_ERR_MISMATCH). Files are written atomically, as bp_model_save() writes. */

typedef enum bp_counts_kind {
    BP_COUNTS_NGRAMS = 1, /* pass 1: every n-gram of orders 1 .. order, with its count */
    BP_COUNTS_PIECES = 2, /* pass 2: every piece of the segmentation, with its count */
    BP_COUNTS_NGRAMS_PRUNED = 3 /* summed pass 1 cut to what pass 2 reads: every byte and
                                   the longer n-grams that reach min_count; summed no more */
} bp_counts_kind;

/* What a count file holds, from its header and trailer. */
typedef struct bp_counts_info {
    bp_counts_kind kind;
    bp_train_options options; /* order, min_count, max_piece_length, isolate_digits and
                                 no_ensure_unicode as the file was made; the rest zero */
    uint64_t entries;         /* distinct n-grams or pieces */
    uint64_t bytes;           /* normalized bytes of the texts counted */
    uint64_t chunks;          /* their training chunks */
} bp_counts_info;

/*! bp_counts_read_info() :
 *  Reads the header and trailer of the count file at `path` (not the entries: the other
 *  calls validate those as they read them).
 *  @return BP_OK, BP_ERR_IO (cannot open or read), BP_ERR_BAD_COUNTS (not a count file,
 *  or damaged or truncated), BP_ERR_VERSION (a later format). Messages name the file. */
BP_API bp_status bp_counts_read_info(const char *path, bp_counts_info *info, bp_error *err);

/*! bp_trainer_save_ngram_counts() :
 *  Pass 1 on everything fed to `t`: writes the count of every n-gram of orders 1 to the
 *  trainer's order to `path` (kind BP_COUNTS_NGRAMS). No n-gram is dropped -- min_count
 *  can only be applied to the sum of every shard -- so the file grows with the distinct
 *  n-grams of the shard. Ends the trainer's use, as bp_trainer_train() does; an empty
 *  shard gives a file with no entries.
 *  @return BP_OK, BP_ERR_INVALID_ARG, BP_ERR_IO, BP_ERR_WRITE, BP_ERR_NOMEM, or a failure
 *  of the last text's end (as bp_trainer_end_text()). Nothing is written on failure. */
BP_API bp_status bp_trainer_save_ngram_counts(bp_trainer *t, const char *path, bp_error *err);

/*! bp_trainer_save_piece_counts() :
 *  Pass 2 on everything fed to `t`: segments its texts with the n-gram model of the merged
 *  n-gram counts at `ngram_counts` (kind BP_COUNTS_NGRAMS or BP_COUNTS_NGRAMS_PRUNED;
 *  min_count applied as bp_trainer_train() applies it) and
 *  writes the count of every piece to `path` (kind BP_COUNTS_PIECES). The trainer's
 *  options must be those of the file (bp_counts_read_info() gives them).
 *  @return BP_OK, BP_ERR_MISMATCH (another kind or options), BP_ERR_BAD_COUNTS,
 *  BP_ERR_VERSION, BP_ERR_IO, BP_ERR_WRITE, BP_ERR_NOMEM. */
BP_API bp_status bp_trainer_save_piece_counts(bp_trainer *t, const char *ngram_counts,
                                              const char *path, bp_error *err);

/*! bp_counts_merge() :
 *  Sums the count files inputs[0..n) (n >= 1) into `path`: every entry once, with the sum
 *  of its counts. The sum is exact and the encoding canonical, so that any tree of merges
 *  of the same files gives the same bytes. Memory stays a few buffers per input, whatever
 *  the sizes. `info` (may be NULL) receives the result's header and trailer.
 *  @return BP_OK, BP_ERR_MISMATCH (inputs of different kinds or options),
 *  BP_ERR_BAD_COUNTS, BP_ERR_VERSION, BP_ERR_TOO_LARGE (a count overflows 64 bits),
 *  BP_ERR_IO, BP_ERR_WRITE, BP_ERR_NOMEM, BP_ERR_INVALID_ARG. Nothing is written on failure. A pruned file
 *  (bp_counts_merge_pruned) is refused as an input (BP_ERR_MISMATCH). */
BP_API bp_status bp_counts_merge(const char *const *inputs, size_t n, const char *path,
                                 bp_counts_info *info, bp_error *err);

/*! bp_counts_merge_pruned() :
 *  bp_counts_merge() of n-gram count files (kind BP_COUNTS_NGRAMS) that keeps only what
 *  bp_trainer_save_piece_counts() reads: every 1-gram, and the longer n-grams whose sum
 *  reaches the files' min_count. The result (kind BP_COUNTS_NGRAMS_PRUNED) is a fraction
 *  of the size and is read that much faster by each shard's pass 2, and it gives the same
 *  piece counts; but it is no longer a sum that adds up, so no merge takes it as an input.
 *  Use it for the last merge of the n-gram counts.
 *  @return as bp_counts_merge(); BP_ERR_MISMATCH also when an input holds piece counts or
 *  is itself pruned. Nothing is written on failure. */
BP_API bp_status bp_counts_merge_pruned(const char *const *inputs, size_t n, const char *path,
                                        bp_counts_info *info, bp_error *err);

/*! bp_train_from_counts() :
 *  The last stage: prunes the merged piece counts at `piece_counts` into one model per
 *  vocabulary size, as bp_trainer_train() does. The training options come from the file;
 *  of `o` (NULL: defaults) only threads and progress are used. `stats` (may be NULL)
 *  receives bytes, chunks, distinct_pieces and seconds_pruning.
 *  @return BP_OK, BP_ERR_EMPTY_CORPUS, BP_ERR_INVALID_ARG (a size below 259),
 *  BP_ERR_MISMATCH (an n-gram file), BP_ERR_BAD_COUNTS, BP_ERR_VERSION, BP_ERR_IO,
 *  BP_ERR_NOMEM. Ownership: the caller frees each model. */
BP_API bp_status bp_train_from_counts(const char *piece_counts, const bp_train_options *o,
                                      const size_t *vocab_sizes, size_t n_sizes,
                                      bp_model **models, bp_train_stats *stats, bp_error *err);

/*====== Formats and interop ======*/

/*! bp_model_save() :
 *  Writes `model` to `path` in the reference BytePiece JSON format, byte for byte what the
 *  Python writer produces for the same pieces (json.dump(indent=4, ensure_ascii=False), no
 *  trailing newline; entries in id order; the text field is the piece decoded as UTF-8 with
 *  Python's errors='ignore'), so the Python BytePiece loads it.
 *  A regular file is written atomically: to a temporary file in the same directory, then
 *  renamed over `path`; on failure nothing is left behind. Directories are never created.
 *  What is not a regular file is never replaced: a symbolic link is written through (the
 *  file it finally leads to is replaced atomically, or created, and the link stays); a
 *  character device or a FIFO (/dev/null, /dev/stdout, a named pipe) is written into
 *  directly, without a temporary file; a directory or another kind of file is an error.
 *  A model with special tokens (bp_model_add_special()) is refused: the reference JSON
 *  format cannot hold them, and they are never dropped silently (BP_ERR_BAD_SPECIAL, the
 *  message naming their number; nothing is written). Save it with bp_model_save_native().
 *  @return BP_OK, BP_ERR_INVALID_ARG, BP_ERR_NOMEM, BP_ERR_WRITE (message names the path)
 *  or BP_ERR_BAD_SPECIAL. */
BP_API bp_status bp_model_save(const bp_model *model, const char *path, bp_error *err);

/*! bp_model_save_native() :
 *  Writes `model` to `path` in the native binary format: the pieces, their counts and the
 *  built automaton, so that bp_model_load() of the file is one read plus validation
 *  (milliseconds) instead of a JSON parse and an automaton build. The format is versioned
 *  and checksummed (layout in docs/native-format.md): a model without special tokens is
 *  written as version 1, which every reader reads, a model with special tokens as version
 *  2, which libraries before 1.1 refuse with BP_ERR_VERSION. bp_model_load() rejects a truncated
 *  file (BP_ERR_TRUNCATED), a damaged or inconsistent one (BP_ERR_CORRUPT) and another
 *  format version (BP_ERR_VERSION) with a message naming the file. A native model encodes
 *  exactly as the JSON model it came from; bp_model_save() turns it back into JSON.
 *  The file is read into memory, not mapped: a loaded model does not depend on the file,
 *  which may be replaced or rewritten at any time (a load that reads it half rewritten
 *  fails its checksum, BP_ERR_CORRUPT).
 *  The file is written as bp_model_save() writes: atomically when it is a regular file,
 *  through a link, into a device or FIFO. Little-endian machines only.
 *  @return BP_OK, BP_ERR_INVALID_ARG, BP_ERR_NOMEM, BP_ERR_TOO_LARGE or BP_ERR_WRITE
 *  (message names the path). Thread safety: `model` is only read. */
BP_API bp_status bp_model_save_native(const bp_model *model, const char *path, bp_error *err);

/* The first BP_NATIVE_MAGIC_SIZE bytes of every native model file (no JSON text or zstd
 * frame starts with them). */
#define BP_NATIVE_MAGIC "\x89" "BPM\r\n\x1a\n"
#define BP_NATIVE_MAGIC_SIZE 8

/*! bp_model_from_counts() :
 *  Builds a consistent model from any table of pieces and counts (a vocabulary from
 *  elsewhere), as the reference's convert_to_bytepiece() does: every missing single byte is
 *  added with count 1, then the pieces that no segmentation would use are removed, their
 *  counts going to the pieces that segment them, until none is left (the trainer's pruning
 *  with min_count 1, no length limit and no vocabulary cut; algorithms §3.5, §3.7). So the
 *  model may hold fewer pieces than the table, and other counts. Ids follow the reference
 *  order (length, then bytes; byte b is id b + 3). Unlike bp_model_from_pieces(), the table
 *  need not hold the single bytes; each piece must be non-empty, with a count >= 1 (as
 *  the loaders: at most 2^53), and appear once.
 *  `threads`: 0 for one per core; the result does not depend on it.
 *  @return BP_OK; BP_ERR_INVALID_ARG; BP_ERR_BAD_ENTRY (an empty piece), BP_ERR_BAD_COUNT
 *  (a count of 0), BP_ERR_DUP_PIECE (a piece given twice), each with err->offset = the
 *  index of the piece; BP_ERR_NOMEM, BP_ERR_TOO_LARGE. *out is NULL on failure.
 *  Ownership: the caller frees the model with bp_model_free(). */
BP_API bp_status bp_model_from_counts(const bp_piece *pieces, size_t n_pieces, unsigned threads,
                                      bp_model **out, bp_error *err);

/*! bp_model_export_sentencepiece() :
 *  Writes `model` to `path` as a SentencePiece model (a serialized ModelProto) that
 *  SentencePiece's tools and libraries load, as the reference's
 *  Tokenizer.convert_to_sentencepiece() does: ids 0, 1, 2 are <unk>, <s>, </s>, and piece
 *  i keeps id i, with its score rounded to float32. A single byte 0x20-0x7e (but '\\') is
 *  a normal piece (' ' written U+2581, SentencePiece's whitespace mark), and its byte piece
 *  <0xXX> is appended after the last id with score -100; every other single byte is the
 *  byte piece <0xXX>. Unigram, byte fallback, identity normalization, no dummy prefix.
 *  A piece of more than one byte that is not well-formed UTF-8 (SentencePiece segments
 *  characters), or whose text repeats an earlier one, becomes an unused piece
 *  "<unused:ID>" that SentencePiece never emits. Special tokens (bp_model_add_special())
 *  keep their ids as USER_DEFINED pieces with score 0, which SentencePiece matches in any
 *  text before segmenting it (as bp_encode() with BP_ENCODE_SPECIAL); a piece spelled
 *  like one becomes unused, and the extra byte pieces come after them.
 *  SentencePiece then gives bp's ids on most text, not all: it does not normalize to NFC,
 *  encodes lines without their newline, scores characters it has no piece for as unknown
 *  before falling back to bytes, and float32 scores can turn near-ties.
 *  The file is written atomically (as bp_model_save()).
 *  @return BP_OK, BP_ERR_INVALID_ARG, BP_ERR_NOMEM, BP_ERR_TOO_LARGE, BP_ERR_WRITE, or
 *  BP_ERR_BAD_SPECIAL (two special tokens whose SentencePiece names are equal: one has a
 *  space where the other has U+2581). */
BP_API bp_status bp_model_export_sentencepiece(const bp_model *model, const char *path,
                                               bp_error *err);

/*! bp_model_export_huggingface() :
 *  Writes `model` to `path` as a Hugging Face tokenizer.json that the tokenizers library
 *  (and so transformers' PreTrainedTokenizerFast(tokenizer_file=...)) loads as it is, and
 *  that encodes text into the ids of bp_encode() without options (deterministic, NFC) and
 *  decodes them back: normalizer NFC; pre-tokenizer a Split on "\n+" that keeps each run of
 *  newlines with the text before it (the reference's chunks), then ByteLevel without its
 *  regex (one character per byte); a Unigram model listing every id in order, piece i
 *  written in the byte-level alphabet with its score, printed so that Hugging Face's JSON
 *  reader (not correctly rounded) reads back the same double; decoder ByteLevel. Its
 *  Viterbi then adds the same doubles as bp's and breaks equal scores as bp does.
 *  Ids 0, 1, 2 are "<pad>", "<bos>", "<eos>", and the model's special tokens
 *  (bp_model_add_special()) their own text, all also declared as added tokens marked
 *  special (score -1e6 in the Unigram, which therefore never chooses them); there is no
 *  post-processor, so encoding adds no <bos>/<eos>. Hugging Face encodes the text of a
 *  special token found in the input as that token, as bp_encode() does with
 *  BP_ENCODE_SPECIAL (README, "Hugging Face").
 *  The file is written atomically (as bp_model_save()).
 *  @return BP_OK; BP_ERR_INVALID_ARG; BP_ERR_DUP_PIECE (err->offset = its id) when a piece
 *  is written as "<pad>", "<bos>" or "<eos>", which Hugging Face would take for the
 *  special token, or as the text of one of the model's special tokens; BP_ERR_BAD_SPECIAL
 *  (err->offset = its id) for a special token that holds a NUL byte, which the JSON
 *  strings cannot; BP_ERR_NOMEM or BP_ERR_WRITE. Thread safety: `model` is only read. */
BP_API bp_status bp_model_export_huggingface(const bp_model *model, const char *path,
                                             bp_error *err);

#ifdef __cplusplus
}
#endif
#endif /* BYTEPIECE_H_8C41D2 */
