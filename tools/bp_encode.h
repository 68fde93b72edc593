/*
 * bp_encode.h -- what the parts of `bp encode` share: bp_encode.c (options, one text at a
 * time), encode_blocks.c (texts in blocks through the library's batch API, on several
 * threads) and encode_formats.c (the output formats). Part of the CLI, like cli.h.
 */
#ifndef BP_ENCODE_H
#define BP_ENCODE_H

#include <stdbool.h>
#include <stdint.h>

#include "bytepiece.h"
#include "cli.h"
#include "megatron.h"

/*====== Formats (encode_formats.c) ======*/

/* Writes the output of one text (a document) from its ids, and their offsets in the
 * input text (NULL unless --offsets). */
typedef void (*text_writer)(output *out, const uint32_t *ids, const size_t *offsets,
                            size_t n_ids);

typedef struct encode_formats {
    bool jsonl_input;       /* --input-format jsonl */
    const char *field;      /* --field NAME; NULL: "text" */
    bool offsets;           /* --offsets */
    bool pieces;            /* --output-format pieces */
    int binary;             /* bytes per id of --output-format u16 (2) or u32 (4), else 0 */
    text_writer write_text; /* u16, u32, jsonl; NULL for ids and pieces (lines of tokens) */
    bool megatron;          /* --output-format megatron (binary and write_text set later) */
    megatron_index *index;  /* megatron: each text is added as a sequence; else NULL */
    unsigned input_flags;   /* BP_INPUT_SKIP_BAD_LINES or 0 */
} encode_formats;

/* Appends `"name":[v0,v1,...]`, values from ids (when not NULL) or offsets. */
void write_json_array(output *out, const char *name, const uint32_t *ids,
                      const size_t *offsets, size_t n);

/* --output-format ids, pieces, u16, u32 or jsonl. @return false for any other value. */
bool parse_output_format(const char *value, encode_formats *f);

/* Has the texts written as ids of `width` bytes (2 or 4), little-endian. */
void use_binary_ids(encode_formats *f, int width);

/* --input-format lines or jsonl. @return false for any other value. */
bool parse_input_format(const char *value, encode_formats *f);

/* The checks between options once all are read. @return PARSE_RUN, or PARSE_USAGE after
 * a message. */
enum parse_result check_encode_formats(const encode_formats *f, bool whole);

/* The checks that need the model and the output: u16 with more than 65536 ids (exit 1),
 * binary output to a terminal (exit 2). @return 0, or the exit status after a message. */
int check_encode_output(const encode_formats *f, const bp_model *model, const char *model_path);

/* Writes the output of one text in the format of `f`: its ids, and with --offsets their
 * offsets (else NULL). */
void write_encoded(output *out, const encode_formats *f, const bp_model *model,
                   const uint32_t *ids, const size_t *offsets, size_t n_ids);

/*====== Options (bp_encode.c) ======*/

typedef struct encode_args {
    const char *model_path;
    double alpha;
    uint64_t seed;
    bool seed_given;
    bool glibc_rand;
    bool whole;
    unsigned flags;
    unsigned threads; /* 0: one per core */
    unsigned nbest;   /* --nbest K: 1 .. BP_NBEST_MAX; 0: one segmentation */
    uint64_t first_text;        /* --first-text K: the number of the run's first text */
    const char *output_prefix;  /* -o PREFIX of --output-format megatron */
    encode_formats fmt;
} encode_args;

/*====== Megatron datasets (encode_megatron.c) ======*/

/* Starts PREFIX.bin and its index for the ids of `model`, points `out` at PREFIX.bin and
 * has `f` write to both. @return 0, or 1 after a message (then nothing is left). */
int megatron_encode_open(megatron_output *mo, encode_formats *f, const bp_model *model,
                         const char *prefix, output *out);

/* Closes `out` and ends the dataset (megatron_output_finish). @return the exit status. */
int megatron_encode_close(megatron_output *mo, output *out, int run_status);

enum { MAX_THREADS = 256 };

/*====== The K best segmentations (encode_nbest.c) ======*/

/* The checks of --nbest against the other options. @return PARSE_RUN, or PARSE_USAGE
 * after a message. */
enum parse_result check_nbest_options(const encode_args *args);

/* Writes the args->nbest best segmentations of every text of the FILE operands (standard
 * input when n_paths is 0) to `out`, one JSONL line per text, on the calling thread.
 * @return 0, or 1 after reporting the failure. */
int encode_nbest(const encode_args *args, const bp_model *model, char **paths, int n_paths,
                 output *out);

/*====== Several threads (encode_blocks.c) ======*/

/* Encodes every text of the FILE operands (standard input when n_paths is 0), each line or
 * with args->fmt.jsonl_input each JSONL document, on n_threads threads into `out`, which
 * receives exactly the one-thread output; `seed` is the run's (--seed, or the clock's).
 * @return 0, or 1 after reporting the failure (the output of the texts before it is
 * written). */
int encode_in_blocks(const encode_args *args, const bp_model *model, uint64_t seed,
                     char **paths, int n_paths, unsigned n_threads, output *out);

#endif
