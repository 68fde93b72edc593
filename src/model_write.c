/*
 * model_write.c -- bp_model_save(): a model in the reference BytePiece JSON format, byte
 * for byte what Python's json.dump(model, f, indent=4, ensure_ascii=False) writes for the
 * reference's {base64(piece): [id, piece.decode('utf-8', errors='ignore'), count]}
 * (docs/algorithms.md §3.6). A generic JSON printer cannot give that layout, so the few rules are
 * written out here: the indentation, the key as standard base64, the text field with every
 * byte outside a well-formed UTF-8 sequence dropped, and Python's string escapes (short
 * forms for \" \\ \n \r \t \b \f, \u00xx for the other controls, everything else raw).
 * The text streams out through file_write.c, which writes the file atomically.
 */
#include <stdio.h>
#include <string.h>

#include "bp_internal.h"

/*------ The JSON of one entry ------*/

static void put_str(bp_writer *w, const char *s)
{
    bp_writer_put(w, s, strlen(s));
}

static void put_u64(bp_writer *w, uint64_t v)
{
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
    bp_writer_put(w, digits, (size_t)n);
}

/* Standard base64 with '=' padding, as Python's base64.b64encode. */
static void put_base64(bp_writer *w, const unsigned char *s, size_t n)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)s[i + 1] << 8;
        if (i + 2 < n)
            v |= s[i + 2];
        char quad[4] = {alphabet[v >> 18], alphabet[(v >> 12) & 63],
                        i + 1 < n ? alphabet[(v >> 6) & 63] : '=',
                        i + 2 < n ? alphabet[v & 63] : '='};
        bp_writer_put(w, quad, 4);
    }
}

/* One well-formed character of the text field, escaped as Python's json module does
 * with ensure_ascii=False. */
static void put_json_char(bp_writer *w, const unsigned char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char c = s[0];
    const char *short_form = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n"
                           : c == '\r' ? "\\r" : c == '\t' ? "\\t" : c == '\b' ? "\\b"
                           : c == '\f' ? "\\f" : NULL;
    if (short_form) {
        put_str(w, short_form);
    } else if (c < 0x20) {
        char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        bp_writer_put(w, esc, sizeof esc);
    } else {
        bp_writer_put(w, s, len);
    }
}

/* The piece as bytes.decode('utf-8', errors='ignore'): a byte that does not start a
 * well-formed sequence is dropped, and decoding goes on at the next byte. (Python drops
 * a maximal ill-formed subpart at once, but its bytes after the first are continuation
 * bytes, which start nothing, so the result is the same.) */
static void put_text_field(bp_writer *w, const unsigned char *s, size_t n)
{
    bp_writer_put(w, "\"", 1);
    for (size_t i = 0; i < n;) {
        int32_t cp;
        size_t len = bp_utf8_decode(s + i, n - i, &cp);
        if (len == 0) {
            i++;
            continue;
        }
        put_json_char(w, s + i, len);
        i += len;
    }
    bp_writer_put(w, "\"", 1);
}

/* `{`, then for each entry "\n    \"KEY\": [\n        ID,\n        \"TEXT\",\n
 * COUNT\n    ]" separated by ",", then "\n}" and no final newline. */
static void put_model(bp_writer *w, const void *model)
{
    const bp_model *m = model;
    bp_writer_put(w, "{", 1);
    uint32_t n_ids = (uint32_t)bp_model_vocab_size(m);
    for (uint32_t id = BP_N_SPECIAL; id < n_ids && w->errnum == 0; id++) {
        size_t len;
        const unsigned char *piece = bp_model_piece(m, id, &len);
        put_str(w, id == BP_N_SPECIAL ? "\n    \"" : ",\n    \"");
        put_base64(w, piece, len);
        put_str(w, "\": [\n        ");
        put_u64(w, id);
        put_str(w, ",\n        ");
        put_text_field(w, piece, len);
        put_str(w, ",\n        ");
        put_u64(w, bp_model_piece_count(m, id));
        put_str(w, "\n    ]");
    }
    put_str(w, "\n}");
}

bp_status bp_model_save(const bp_model *model, const char *path, bp_error *err)
{
    if (!model || !path || !*path)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "bp_model_save: no model or path");
    size_t n_special = bp_model_special_count(model);
    if (n_special > 0) /* the reference JSON has no place for them: never drop them silently */
        return bp_fail(err, BP_ERR_BAD_SPECIAL, UINT64_MAX,
                       "%s: the model has %zu special token%s, which the reference JSON format "
                       "cannot hold; save it in the native format, or save the model without "
                       "them and add them again (bp_model_add_special)",
                       path, n_special, n_special == 1 ? "" : "s");
    return bp_write_file_from(path, put_model, model, err);
}
