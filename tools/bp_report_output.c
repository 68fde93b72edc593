/*
 * bp_report_output.c -- the text helpers of bp report's writers (bp_report.h): formatted
 * output, HTML and JSON escaping, pieces escaped for the page. The lowest layer of the
 * bp_report*.c files: it calls none of them.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bp_report.h"

void out_printf(output *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    output_reserve(out, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(out->data + out->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    out->len += (size_t)n;
}

static void out_html_bytes(output *out, const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        const char *entity = text[i] == '&' ? "&amp;" : text[i] == '<' ? "&lt;"
                           : text[i] == '>' ? "&gt;" : text[i] == '"' ? "&quot;" : NULL;
        if (entity) {
            out_printf(out, "%s", entity);
        } else {
            output_byte(out, text[i]);
        }
    }
}

void out_html(output *out, const char *text)
{
    out_html_bytes(out, text, strlen(text));
}

void out_html_piece(output *out, const unsigned char *bytes, size_t len)
{
    output escaped = output_open(NULL);
    output_escaped(&escaped, bytes, len);
    out_html_bytes(out, escaped.data, escaped.len);
    free(escaped.data);
}

void out_json_string(output *out, const char *text, size_t len)
{
    output_byte(out, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '"' || c == '\\')
            out_printf(out, "\\%c", c);
        else if (c < 0x20)
            out_printf(out, "\\u%04x", c);
        else
            output_byte(out, (char)c);
    }
    output_byte(out, '"');
}
