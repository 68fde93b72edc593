/*
 * encode_formats.c -- the pipeline formats of LLM training that `bp encode` writes besides
 * lines of ids (see bp_encode.h); their input side, JSONL documents, is in cli_input.c.
 *
 *   --output-format u16|u32: the ids of each document packed little-endian, no separators
 *           (--bos/--eos mark documents);
 *   --output-format jsonl: one object per document, {"ids":[...]} and with --offsets
 *           {"ids":[...],"offsets":[...]}, each offset the byte where the token starts in
 *           the normalized text.
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bp_encode.h"

/*====== Options ======*/

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

bool parse_text_format(const char *value, encode_formats *f)
{
    if (strcmp(value, "u16") == 0) {
        f->write_text = write_u16_text;
        f->binary = 2;
    } else if (strcmp(value, "u32") == 0) {
        f->write_text = write_u32_text;
        f->binary = 4;
    } else if (strcmp(value, "jsonl") == 0) {
        f->write_text = write_jsonl_text;
        f->binary = 0;
    } else {
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
