/*
 * encode_formats.c -- the output formats of `bp encode` (see bp_encode.h); the input side
 * of JSONL documents is in cli_input.c.
 *
 *   --output-format ids|pieces: one line per text, its tokens separated by spaces;
 *   --output-format u16|u32: the ids of each document packed little-endian, no separators
 *           (--bos/--eos mark documents); megatron: the same, and each text's length goes
 *           to the index of the dataset (megatron.h);
 *   --output-format jsonl: one object per document, {"ids":[...]} and with --offsets
 *           {"ids":[...],"offsets":[...]}, each offset the byte where the token starts in
 *           the input text (before NFC).
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bp_encode.h"

/*====== Lines of ids or pieces ======*/

enum { N_SPECIAL = 3, MAX_DECIMAL_U32 = 10 }; /* special_names, escaping: cli.h */

/* Writes `value` in decimal at p (room for MAX_DECIMAL_U32 bytes) and returns the end.
 * Below 10^8 (every id of any real model) without a branch on the value: the eight digits
 * are made two at a time from a table into one 64-bit word, whose leading zeros are
 * shifted out before it is stored whole (the bytes past the number are scratch). */
static char *format_u32(char *p, uint32_t value)
{
    static const char pairs[201] = "00010203040506070809101112131415161718192021222324"
                                   "25262728293031323334353637383940414243444546474849"
                                   "50515253545556575859606162636465666768697071727374"
                                   "75767778798081828384858687888990919293949596979899";
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (value < 100000000) {
        unsigned n = 1 + (value >= 10) + (value >= 100) + (value >= 1000) + (value >= 10000) +
                     (value >= 100000) + (value >= 1000000) + (value >= 10000000);
        uint32_t hi = value / 10000, lo = value % 10000;
        char digits[8];
        memcpy(digits, pairs + 2 * (hi / 100), 2);
        memcpy(digits + 2, pairs + 2 * (hi % 100), 2);
        memcpy(digits + 4, pairs + 2 * (lo / 100), 2);
        memcpy(digits + 6, pairs + 2 * (lo % 100), 2);
        uint64_t word;
        memcpy(&word, digits, 8);
        word >>= 8 * (8 - n); /* the first byte in memory is the lowest */
        memcpy(p, &word, 8);
        return p + n;
    }
#endif
    unsigned n = value < 10 ? 1 : value < 100 ? 2 : value < 1000 ? 3 : value < 10000 ? 4
               : value < 100000 ? 5 : value < 1000000 ? 6 : value < 10000000 ? 7
               : value < 100000000 ? 8 : value < 1000000000 ? 9 : 10;
    char *end = p + n;
    while (value >= 100) {
        unsigned i = (value % 100) * 2;
        value /= 100;
        *--end = pairs[i + 1];
        *--end = pairs[i];
    }
    if (value >= 10) {
        *--end = pairs[value * 2 + 1];
        *--end = pairs[value * 2];
    } else {
        *--end = (char)('0' + value);
    }
    return p + n;
}

static void write_piece(output *out, const bp_model *model, uint32_t id)
{
    if (id < N_SPECIAL) {
        size_t len = strlen(special_names[id]);
        output_reserve(out, len);
        memcpy(out->data + out->len, special_names[id], len);
        out->len += len;
        return;
    }
    size_t len;
    const unsigned char *bytes = bp_model_piece(model, id, &len);
    output_escaped(out, bytes, len);
}

/* Writes one output line: the ids, space-separated, then '\n'. Ids are formatted two
 * digits at a time straight into the output buffer, a few thousand per reservation. */
static void write_id_line(output *out, const uint32_t *ids, size_t n_ids)
{
    enum { GROUP = 4096 };
    for (size_t i = 0; i < n_ids;) {
        size_t end = n_ids - i > GROUP ? i + GROUP : n_ids;
        output_reserve(out, (end - i) * (MAX_DECIMAL_U32 + 1));
        char *p = out->data + out->len;
        for (; i < end; i++) {
            if (i > 0)
                *p++ = ' ';
            p = format_u32(p, ids[i]);
        }
        out->len = (size_t)(p - out->data);
    }
    output_byte(out, '\n');
}

static void write_piece_line(output *out, const bp_model *model, const uint32_t *ids,
                             size_t n_ids)
{
    for (size_t i = 0; i < n_ids; i++) {
        if (i > 0)
            output_byte(out, ' ');
        write_piece(out, model, ids[i]);
    }
    output_byte(out, '\n');
}

/*====== Pipeline formats ======*/

/* Packs ids little-endian in `width` bytes each, whatever the machine's byte order. */
static void write_le_ids(output *out, const uint32_t *ids, size_t n, unsigned width)
{
    output_reserve(out, width * n);
    unsigned char *p = (unsigned char *)out->data + out->len;
    for (size_t i = 0; i < n; i++)
        for (unsigned b = 0; b < width; b++)
            *p++ = (unsigned char)(ids[i] >> 8 * b);
    out->len += width * n;
}

static void write_u16_text(output *out, const uint32_t *ids, const size_t *offsets, size_t n)
{
    (void)offsets;
    write_le_ids(out, ids, n, 2);
}

static void write_u32_text(output *out, const uint32_t *ids, const size_t *offsets, size_t n)
{
    (void)offsets;
    write_le_ids(out, ids, n, 4);
}

/* Writes `value` in decimal at p (room for 20 bytes). @return the end. */
static char *format_u64(char *p, uint64_t value)
{
    char digits[20];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value > 0);
    while (n > 0)
        *p++ = digits[--n];
    return p;
}

void write_json_array(output *out, const char *name, const uint32_t *ids,
                             const size_t *offsets, size_t n)
{
    enum { GROUP = 4096, MAX_DIGITS = 20 };
    size_t name_len = strlen(name);
    output_reserve(out, name_len + 5);
    char *p = out->data + out->len;
    *p++ = '"';
    memcpy(p, name, name_len);
    p += name_len;
    memcpy(p, "\":[", 3);
    out->len = (size_t)(p + 3 - out->data);
    for (size_t i = 0; i < n;) {
        size_t end = n - i > GROUP ? i + GROUP : n;
        output_reserve(out, (end - i) * (MAX_DIGITS + 1));
        p = out->data + out->len;
        for (; i < end; i++) {
            if (i > 0)
                *p++ = ',';
            p = format_u64(p, ids ? ids[i] : (uint64_t)offsets[i]);
        }
        out->len = (size_t)(p - out->data);
    }
    output_byte(out, ']');
}

static void write_jsonl_text(output *out, const uint32_t *ids, const size_t *offsets, size_t n)
{
    output_byte(out, '{');
    write_json_array(out, "ids", ids, NULL, n);
    if (offsets) {
        output_byte(out, ',');
        write_json_array(out, "offsets", NULL, offsets, n);
    }
    output_byte(out, '}');
    output_byte(out, '\n');
}

/*====== Options ======*/

void use_binary_ids(encode_formats *f, int width)
{
    f->write_text = width == 2 ? write_u16_text : write_u32_text;
    f->binary = width;
}

bool parse_output_format(const char *value, encode_formats *f)
{
    f->pieces = false;
    f->megatron = false;
    f->binary = 0;
    f->write_text = NULL;
    if (strcmp(value, "pieces") == 0) {
        f->pieces = true;
    } else if (strcmp(value, "u16") == 0) {
        use_binary_ids(f, 2);
    } else if (strcmp(value, "u32") == 0) {
        use_binary_ids(f, 4);
    } else if (strcmp(value, "megatron") == 0) {
        f->megatron = true;
    } else if (strcmp(value, "jsonl") == 0) {
        f->write_text = write_jsonl_text;
    } else if (strcmp(value, "ids") != 0) {
        return false;
    }
    return true;
}

bool parse_input_format(const char *value, encode_formats *f)
{
    if (strcmp(value, "lines") == 0)
        f->jsonl_input = false;
    else if (strcmp(value, "jsonl") == 0)
        f->jsonl_input = true;
    else
        return false;
    return true;
}

enum parse_result check_encode_formats(const encode_formats *f, bool whole)
{
    const char *what = NULL;
    if (f->field && !f->jsonl_input)
        what = "--field needs --input-format jsonl";
    else if (f->jsonl_input && whole)
        what = "--whole and --input-format jsonl exclude each other (a record is a document)";
    else if (f->offsets && f->write_text != write_jsonl_text)
        what = "--offsets needs --output-format jsonl";
    else if (f->input_flags && !f->jsonl_input)
        what = "--skip-bad-lines needs --input-format jsonl";
    if (what == NULL)
        return PARSE_RUN;
    usage_error(what);
    return PARSE_USAGE;
}

int check_encode_output(const encode_formats *f, const bp_model *model, const char *model_path)
{
    if (f->binary == 2 && bp_model_vocab_size(model) > 65536) {
        report("--output-format u16 holds ids up to 65535, but %s has %zu ids: use u32",
               model_path, bp_model_vocab_size(model));
        return 1;
    }
    if (f->binary && isatty(STDOUT_FILENO)) {
        report("refusing to write binary ids to a terminal: redirect the output");
        return 2;
    }
    return 0;
}

void write_encoded(output *out, const encode_formats *f, const bp_model *model,
                   const uint32_t *ids, const size_t *offsets, size_t n_ids)
{
    if (f->index && !megatron_index_add(f->index, n_ids)) {
        out->write_errno = ENOMEM; /* stops the run, with its message */
        return;
    }
    if (f->write_text)
        f->write_text(out, ids, offsets, n_ids);
    else if (f->pieces)
        write_piece_line(out, model, ids, n_ids);
    else
        write_id_line(out, ids, n_ids);
}
