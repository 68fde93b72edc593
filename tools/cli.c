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

enum parse_result parse_memory_limit(const char *value, size_t *bytes)
{
    static const char units[] = "KMGT";
    char digits[32];
    size_t len = strlen(value);
    const char *unit = len ? strchr(units, value[len - 1]) : NULL;
    unsigned shift = unit && *unit ? 10 * (unsigned)(unit - units + 1) : 0;
    size_t n_digits = shift ? len - 1 : len;
    uint64_t n;
    if (n_digits >= sizeof digits)
        n_digits = 0; /* too long for any size: rejected below */
    memcpy(digits, value, n_digits);
    digits[n_digits] = '\0';
    if (!parse_u64(digits, &n) || n > (SIZE_MAX >> shift) || (n << shift) < MIN_MEMORY_LIMIT)
        return bad_option_value("--memory-limit", value,
                                "a size of at least 1M, such as 256M or 2G (K, M, G, T: "
                                "powers of 1024)");
    *bytes = (size_t)(n << shift);
    return PARSE_RUN;
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

void output_escaped(output *out, const void *bytes, size_t len)
{
    size_t room = bp_piece_escape_bound(len), written;
    output_reserve(out, room);
    if (bp_piece_escape(bytes, len, out->data + out->len, room, &written, NULL) == BP_OK)
        out->len += written;
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
