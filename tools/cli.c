/*
 * cli.c -- the helpers every bp subcommand shares (see cli.h).
 */
#define _GNU_SOURCE /* getopt_long */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char *program_name = "bp";

void report_v(const text_source *src, const char *fmt, va_list ap)
{
    fprintf(stderr, "%s: ", program_name);
    if (src != NULL && src->record)
        fprintf(stderr, "%s, record %" PRIu64 ": ", src->name, src->line_no);
    else if (src != NULL && src->line_no > 0)
        fprintf(stderr, "%s:%" PRIu64 ": ", src->name, src->line_no);
    else if (src != NULL)
        fprintf(stderr, "%s: ", src->name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void report(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report_v(NULL, fmt, ap);
    va_end(ap);
}

void report_at(const text_source *src, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report_v(src, fmt, ap);
    va_end(ap);
}

int usage_hint(void)
{
    fprintf(stderr, "Try '%s --help' for more information.\n", program_name);
    return 2;
}

int usage_error(const char *what)
{
    report("%s", what);
    return usage_hint();
}

void *grow_or_die(void *ptr, size_t count, size_t elem_size)
{
    if (count > SIZE_MAX / elem_size) {
        report("input too large");
        exit(1);
    }
    void *grown = realloc(ptr, count * elem_size);
    if (grown == NULL) {
        report("out of memory");
        exit(1);
    }
    return grown;
}

void reserve_array(void *array_ptr, size_t *cap, size_t need, size_t elem_size)
{
    void **array = array_ptr;
    if (need <= *cap)
        return;
    size_t new_cap = *cap > need / 2 ? *cap * 2 : need;
    *array = grow_or_die(*array, new_cap, elem_size);
    *cap = new_cap;
}

void output_flush(output *out)
{
    if (out->len > 0 && out->write_errno == 0 &&
        fwrite(out->data, 1, out->len, out->stream) != out->len)
        out->write_errno = errno != 0 ? errno : EIO;
    out->len = 0;
}

void output_reserve(output *out, size_t n)
{
    if (out->cap - out->len >= n)
        return;
    if (out->stream == NULL) { /* an in-memory output grows instead */
        reserve_array(&out->data, &out->cap, out->len + n, 1);
        return;
    }
    output_flush(out);
    reserve_array(&out->data, &out->cap, n, 1);
}

output output_open(FILE *stream)
{
    output out = {.stream = stream, .data = NULL, .len = 0, .cap = 0, .write_errno = 0};
    reserve_array(&out.data, &out.cap, OUTPUT_CHUNK, 1);
    return out;
}

int output_close(output *out, int run_status)
{
    output_flush(out);
    if (fflush(out->stream) != 0 && out->write_errno == 0)
        out->write_errno = errno;
    if (fclose(out->stream) != 0 && out->write_errno == 0)
        out->write_errno = errno;
    free(out->data);
    if (out->write_errno != 0) {
        report("write error: %s", strerror(out->write_errno));
        return 1;
    }
    return run_status != 0;
}

int print_text(const char *text)
{
    output out = output_open(stdout);
    size_t len = strlen(text);
    output_reserve(&out, len);
    memcpy(out.data, text, len);
    out.len = len;
    return output_close(&out, 0);
}

int exit_status(bp_status st, const bp_error *err)
{
    if (st == BP_OK)
        return 0;
    report("%s", err->message);
    return 1;
}

int load_model(const char *path, bp_model **model)
{
    bp_error err;
    return exit_status(bp_model_load(path, model, &err), &err);
}

enum parse_result expect_operands(int argc, int want, const char *names)
{
    int operands = argc - optind;
    if (operands == want)
        return PARSE_RUN;
    if (operands < want) {
        char what[128];
        snprintf(what, sizeof what, "missing %s operand", names);
        usage_error(what);
    } else {
        usage_error("too many operands");
    }
    return PARSE_USAGE;
}

bool parse_u64(const char *text, uint64_t *value)
{
    if (*text < '0' || *text > '9')
        return false;
    char *end;
    errno = 0;
    unsigned long long parsed = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *value = parsed;
    return true;
}

bool parse_finite_double(const char *text, double *value)
{
    char *end;
    double parsed = strtod(text, &end);
    if (end == text || *end != '\0' || !isfinite(parsed))
        return false;
    *value = parsed;
    return true;
}

enum parse_result bad_option_value(const char *option, const char *value,
                                          const char *expected)
{
    char what[512];
    snprintf(what, sizeof what, "invalid value '%s' for %s: expected %s", value, option,
             expected);
    usage_error(what);
    return PARSE_USAGE;
}

enum parse_result finish_parse(const char *model_path)
{
    if (model_path == NULL) {
        usage_error("missing -m MODEL");
        return PARSE_USAGE;
    }
    return PARSE_RUN;
}

/*====== Escaped pieces ======*/

const char *const special_names[3] = {"<pad>", "<bos>", "<eos>"};

/* Length of the well-formed UTF-8 character (U+0080 and up) starting at s, 0 if none. */
static size_t utf8_char_len(const unsigned char *s, size_t avail)
{
    unsigned char lead = s[0], low = 0x80, high = 0xBF;
    size_t len;
    if (lead >= 0xC2 && lead <= 0xDF) {
        len = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        len = 3;
        low = lead == 0xE0 ? 0xA0 : 0x80;  /* no overlong forms */
        high = lead == 0xED ? 0x9F : 0xBF; /* no surrogates */
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        len = 4;
        low = lead == 0xF0 ? 0x90 : 0x80;
        high = lead == 0xF4 ? 0x8F : 0xBF; /* nothing above U+10FFFF */
    } else {
        return 0;
    }
    if (avail < len || s[1] < low || s[1] > high)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

static size_t escape_byte(char *dst, unsigned char byte)
{
    static const char hex[] = "0123456789abcdef";
    const char *named = byte == '\\' ? "\\\\" : byte == '\n' ? "\\n"
                      : byte == '\t' ? "\\t" : byte == '\r' ? "\\r" : NULL;
    if (named != NULL) {
        memcpy(dst, named, 2);
        return 2;
    }
    if (byte > 0x20 && byte < 0x7F) {
        dst[0] = (char)byte;
        return 1;
    }
    dst[0] = '\\';
    dst[1] = 'x';
    dst[2] = hex[byte >> 4];
    dst[3] = hex[byte & 15];
    return 4;
}

size_t escape_bytes(char *dst, const unsigned char *bytes, size_t len)
{
    size_t written = 0;
    for (size_t i = 0; i < len;) {
        size_t char_len = bytes[i] >= 0x80 ? utf8_char_len(bytes + i, len - i) : 0;
        bool c1_control = char_len == 2 && bytes[i] == 0xC2 && bytes[i + 1] < 0xA0;
        if (char_len > 0 && !c1_control) {
            memcpy(dst + written, bytes + i, char_len);
            written += char_len;
            i += char_len;
        } else {
            written += escape_byte(dst + written, bytes[i++]);
        }
    }
    return written;
}

static bool reads_as_special_name(const unsigned char *bytes, size_t len)
{
    if (bytes[0] != '<') /* the quick answer for almost every piece */
        return false;
    for (size_t i = 0; i < 3; i++)
        if (len == strlen(special_names[i]) && memcmp(bytes, special_names[i], len) == 0)
            return true;
    return false;
}

size_t escape_piece(char *dst, const unsigned char *bytes, size_t len)
{
    if (len > 0 && reads_as_special_name(bytes, len)) {
        /* Keep a piece spelled like a special token apart from the special token. */
        memcpy(dst, "\\x3c", 4);
        return 4 + escape_bytes(dst + 4, bytes + 1, len - 1);
    }
    return escape_bytes(dst, bytes, len);
}

static int hex_value(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

bool unescape_piece(const char *text, size_t len, unsigned char *dst, size_t *out_len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] != '\\') {
            dst[n++] = (unsigned char)text[i];
            continue;
        }
        if (++i == len)
            return false;
        switch (text[i]) {
        case '\\': dst[n++] = '\\'; break;
        case 'n': dst[n++] = '\n'; break;
        case 't': dst[n++] = '\t'; break;
        case 'r': dst[n++] = '\r'; break;
        case 'x': {
            int hi = i + 1 < len ? hex_value(text[i + 1]) : -1;
            int lo = i + 2 < len ? hex_value(text[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return false;
            dst[n++] = (unsigned char)(hi << 4 | lo);
            i += 2;
            break;
        }
        default:
            return false;
        }
    }
    *out_len = n;
    return true;
}

static const struct option model_options[] = {
    {"model", required_argument, NULL, 'm'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

enum parse_result parse_model_options(int argc, char **argv, const char **model_path)
{
    *model_path = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, "m:h", model_options, NULL)) != -1) {
        if (opt == 'm') {
            *model_path = optarg;
        } else if (opt == 'h') {
            return PARSE_HELP;
        } else { /* getopt_long has printed what is wrong */
            usage_hint();
            return PARSE_USAGE;
        }
    }
    return finish_parse(*model_path);
}
