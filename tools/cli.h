/*
 * cli.h -- what the bp subcommands share: messages in one format, buffered output with
 * write-error tracking, model loading with reporting, and option value parsing.
 * Part of the CLI, not of the library: everything here may print and exit.
 */
#ifndef BP_CLI_H
#define BP_CLI_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bytepiece.h"

#if defined(__GNUC__)
#define BP_PRINTF_LIKE(fmt_index) __attribute__((format(printf, fmt_index, fmt_index + 1)))
#else
#define BP_PRINTF_LIKE(fmt_index)
#endif

/* "bp", or "bp encode" once a command is chosen: the prefix of every message. */
extern const char *program_name;

/*------ The progress line (progress.c) ------*/

enum { PROGRESS_INTERVAL_MS = 200 };

/* One progress line on standard error. Zero-initialise it. */
typedef struct progress_line {
    const char *label;     /* of the line drawn last; another label restarts the clock */
    double start, last_print;
    uint64_t last_done;
    bool open;             /* a line is on the screen */
} progress_line;

/* Redraws the line, at most every PROGRESS_INTERVAL_MS:
 * "bp CMD: LABEL: DONE[ of TOTAL (P%)][, EXTRA][, RATE/s][, N s left]". Amounts are bytes
 * (kB, MB, ...) when `unit` is NULL, else counts of `unit` ("pieces"); total 0 is unknown;
 * extra may be NULL. A smaller `done` than before starts the clock again. */
void progress_show(progress_line *p, const char *label, uint64_t done, uint64_t total,
                   const char *unit, const char *extra);

/* Clears the line, so that a message or a summary starts on a clean line. */
void progress_clear(progress_line *p);

/* "12.3 MB" and the like (decimal units), into buf. @return buf. */
const char *human_bytes(char *buf, size_t size, double bytes);

/* Where a text comes from, for messages. */
typedef struct text_source {
    const char *name;  /* the FILE operand, or "<stdin>" */
    uint64_t line_no;  /* 1-based; 0 when the text is a whole file */
    bool record;       /* line_no counts the records of a JSONL file, not its lines */
} text_source;

enum { OUTPUT_CHUNK = 1 << 16, READ_CHUNK = 1 << 16 };

typedef struct output {
    FILE *stream;
    char *data;
    size_t len;
    size_t cap;
    int write_errno; /* errno of the first failed write, 0 if none; later output is dropped */
} output;

enum parse_result { PARSE_RUN, PARSE_HELP, PARSE_USAGE };

/* Prints one message line: the program name, then the place (if src is not NULL). */
void report_v(const text_source *src, const char *fmt, va_list ap);

void report(const char *fmt, ...) BP_PRINTF_LIKE(1);

void report_at(const text_source *src, const char *fmt, ...) BP_PRINTF_LIKE(2);

/* Ends every usage error message. @return the usage exit status. */
int usage_hint(void);

int usage_error(const char *what);

/* Allocation failures end the run: there is nothing sensible to continue with. */
void *grow_or_die(void *ptr, size_t count, size_t elem_size);

/* Makes *array (of *cap elements) hold at least `need` elements; never shrinks. */
void reserve_array(void *array_ptr, size_t *cap, size_t need, size_t elem_size);

void output_flush(output *out);

/* Makes room for `n` more bytes at out->data + out->len (flushing first; an output whose
 * stream is NULL only collects bytes in memory, and grows). */
void output_reserve(output *out, size_t n);

output output_open(FILE *stream);

/* Flushes and closes the stream, so that late errors (a full disk seen at close) count,
 * and turns the status of the run into the exit status: 0, or 1 after a failure (already
 * reported) or a write error (reported here). */
int output_close(output *out, int run_status);

/* Help and version texts go through the same checks as data. */
int print_text(const char *text);

/* The exit status of a library call: 0, or 1 after printing err's message. */
int exit_status(bp_status st, const bp_error *err);

/* Loads the model at `path`, reporting a failure. @return 0, or 1 after a message. */
int load_model(const char *path, bp_model **model);

/* Checks that exactly `want` operands follow the options (from optind); `names` says
 * which in the message, e.g. "IN or OUT". @return PARSE_RUN or PARSE_USAGE. */
enum parse_result expect_operands(int argc, int want, const char *names);

/* A decimal integer 0 .. 2^64-1, digits only (no sign: strtoull would wrap "-1"). */
bool parse_u64(const char *text, uint64_t *value);

bool parse_finite_double(const char *text, double *value);

#define MIN_MEMORY_LIMIT ((uint64_t)1 << 20) /* below, runs would be too small to pay */

/* --memory-limit SIZE: digits with an optional K, M, G or T (powers of 1024), at least
 * 1M. @return PARSE_RUN, or PARSE_USAGE after a message. */
enum parse_result parse_memory_limit(const char *value, size_t *bytes);

/* Reports an option whose value is malformed. @return PARSE_USAGE. */
enum parse_result bad_option_value(const char *option, const char *value, const char *expected);

/* The checks that end every command's option loop. */
enum parse_result finish_parse(const char *model_path);

/* Pieces as words, escaped by bp_piece_escape() (bytepiece.h), which `bp vocab` writes
 * and `bp import` reads back; the special ids 0, 1, 2 print as these names. */
extern const char *const special_names[3];

/* Appends the escaped form of bytes[0..len) (bp_piece_escape) to `out`. */
void output_escaped(output *out, const void *bytes, size_t len);

/*------ Reading the FILE operands (cli_input.c) ------*/

/* Receives one text: a line with its '\n', a whole file, or the text of a JSONL record.
 * @return 0 to go on, 1 to stop (after reporting what failed, unless the failure is a
 * write error left in the output). */
typedef int (*text_handler)(void *ctx, const text_source *src, const unsigned char *text,
                            size_t len);

/* The FILE operand number i (from 0): paths[i], or "-" (standard input) as the only one
 * when there are none. @return NULL past the last. */
const char *operand_at(char **paths, int n_paths, int i);

/* How messages name an operand: "<stdin>" for "-", else the path itself. */
const char *operand_name(const char *path);

/* Opens a FILE operand for reading lines or the whole file: "-" is standard input, named
 * "<stdin>" in *name (otherwise *name is path). A zstd-compressed file or standard input
 * (recognised by content) is decompressed while it is read, and a large input shows its progress on
 * standard error when that is a terminal (and the output is not). Same contract as fopen:
 * NULL with errno set on failure. */
FILE *open_operand(const char *path, const char **name);

/* Closes what open_operand() opened; the descriptor of standard input stays open. */
void close_operand(FILE *fp);

/* Reports a read error of a whole file (errno read_errno; EIO when that is 0). @return 1. */
int report_read_error(const text_source *src, int read_errno);

/* Feeds every text of the operands, in order (standard input when there are none), to
 * `handle`: each line, or with `whole` each file. @return 0, or 1 after the failure. */
int process_inputs(char **paths, int n_paths, bool whole, text_handler handle, void *ctx);

/* A JSONL operand read document by document: the string member `field` of each record. */
typedef struct jsonl_reader jsonl_reader;

/* Opens `path` ("-": standard input; zstd-compressed or not) with `field` (NULL: "text")
 * and the flags of bp_text_input_open() (BP_INPUT_SKIP_BAD_LINES). Both strings must
 * outlive the reader. A large file shows its progress on standard error (as open_operand
 * says). @return the reader, or NULL after a message. */
jsonl_reader *jsonl_open(const char *path, const char *field, unsigned flags);

/* The next document: its text in *text (valid until the next call) and where it comes from
 * in *src (src->name is the path given to jsonl_open, or "<stdin>"). @return 1 with a
 * document, 0 at the end, -1 after reporting a bad record or a read error. */
int jsonl_next(jsonl_reader *r, const unsigned char **text, size_t *len, text_source *src);

/* Closes the reader; NULL is accepted. */
void jsonl_close(jsonl_reader *r);

/* Feeds the text of every JSONL record of the operands ("-" or none: standard input; zstd
 * or not) to `handle`, in order. With BP_INPUT_SKIP_BAD_LINES in `flags`, lines that are
 * not records with the field are skipped, and their number is told on standard error at
 * the end. @return 0, or 1 after reporting the failure. */
int process_jsonl_inputs(char **paths, int n_paths, const char *field, unsigned flags,
                         text_handler handle, void *ctx);

/* Parses the options of a command that takes -m MODEL (required) and --help; operands are
 * left at argv[optind ..]. */
enum parse_result parse_model_options(int argc, char **argv, const char **model_path);

/* The subcommands, each in its own file (bp_encode.c, bp_decode.c, bp_train.c,
 * bp_convert.c, bp_info.c, bp_interop.c, bp_add_tokens.c). */
int run_encode(int argc, char **argv);
int run_decode(int argc, char **argv);
int run_train(int argc, char **argv);
int run_count(int argc, char **argv);
int run_segment(int argc, char **argv);
int run_merge(int argc, char **argv);
int run_convert(int argc, char **argv);
int run_info(int argc, char **argv);
int run_vocab(int argc, char **argv);
int run_export(int argc, char **argv);
int run_import(int argc, char **argv);
int run_add_tokens(int argc, char **argv);
int run_report(int argc, char **argv); /* bp_report.c */

static inline void output_byte(output *out, char c)
{
    output_reserve(out, 1);
    out->data[out->len++] = c;
}

#endif
