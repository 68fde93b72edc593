/*
 * model_json.c -- loading a model in the reference BytePiece JSON format,
 * {"<base64 piece>": [id, "text", count], ...}, plain or zstd-compressed. The bytes are
 * first checked against the JSON grammar (RFC 8259) by our own scanner (json_scan.c): it tells
 * a file that merely stops early (truncated) from one that is not JSON, and gives the line
 * and column of the problem, which cJSON cannot. cJSON then builds the tree, every entry
 * is checked (canonical base64 key, [id, text, count] value, integral id and count), and
 * the piece table goes to bp_model_build(), which checks what concerns the table as a
 * whole (ids, duplicates, the 256 single bytes). Keys are decoded into one arena, not one
 * allocation per piece.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bp_internal.h"

#define MAX_COUNT 9007199254740992.0 /* 2^53: counts must stay exact as doubles */
#define ID_LIMIT 4294967296.0        /* 2^32: ids are uint32_t */

/*====== Canonical base64 ======*/

static int base64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    return c == '/' ? 63 : -1;
}

/* Decodes key[0..klen) into out (room for klen / 4 * 3 bytes) and returns the number of
 * bytes, or 0 with *why set. Only the canonical encoding of a non-empty string is
 * accepted -- standard alphabet, '=' padding to a multiple of 4, zero unused bits -- so
 * two different keys never decode to the same piece. */
static size_t base64_decode(const char *key, size_t klen, unsigned char *out, const char **why)
{
    if (klen == 0) {
        *why = "empty key (a piece cannot be empty)";
        return 0;
    }
    if (klen % 4 != 0) {
        *why = "length is not a multiple of 4 (bad '=' padding)";
        return 0;
    }
    size_t pad = key[klen - 1] != '=' ? 0 : key[klen - 2] != '=' ? 1 : 2;
    uint32_t acc = 0;
    size_t n = 0;
    for (size_t i = 0; i < klen - pad; i++) {
        int v = base64_value((unsigned char)key[i]);
        if (v < 0) {
            *why = key[i] == '=' ? "'=' before the end of the key"
                                 : "character outside the standard base64 alphabet";
            return 0;
        }
        acc = acc << 6 | (uint32_t)v;
        if (i % 4 == 3) {
            out[n++] = (unsigned char)(acc >> 16);
            out[n++] = (unsigned char)(acc >> 8);
            out[n++] = (unsigned char)acc;
            acc = 0;
        }
    }
    /* The last group holds 18 bits (one '=') or 12 bits (two); the bits beyond the last
     * whole byte must be zero. */
    uint32_t unused_mask = pad == 1 ? 0x3 : 0xF;
    if (pad && (acc & unused_mask)) {
        *why = "non-zero unused bits before the '=' padding (not canonical)";
        return 0;
    }
    if (pad == 1) {
        out[n++] = (unsigned char)(acc >> 10);
        out[n++] = (unsigned char)(acc >> 2);
    } else if (pad == 2) {
        out[n++] = (unsigned char)(acc >> 4);
    }
    return n;
}

/*====== Loading ======*/

/* What every check needs to report a problem in the source text. */
typedef struct loader {
    const char *name;
    const unsigned char *text; /* the JSON text, after any byte order mark */
    size_t len;
    size_t skipped;            /* bytes before `text` (a BOM), so offsets count from the file's start */
    bp_error *err;
} loader;

/* Fails with "<name>: line L, column C: <message>" and the byte offset of text[pos]. */
static bp_status fail_at(const loader *ld, bp_status code, size_t pos, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static bp_status fail_at(const loader *ld, bp_status code, size_t pos, const char *fmt, ...)
{
    char problem[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(problem, sizeof problem, fmt, ap);
    va_end(ap);
    if (pos > ld->len)
        pos = ld->len;
    size_t line = 1, line_start = 0;
    for (size_t i = 0; i < pos; i++)
        if (ld->text[i] == '\n') {
            line++;
            line_start = i + 1;
        }
    return bp_fail(ld->err, code, (uint64_t)(ld->skipped + pos), "%s: line %zu, column %zu: %s",
                   ld->name, line, pos - line_start + 1, problem);
}

/* Where the JSON value starts: after the leading whitespace (len if there is nothing else). */
static size_t value_start(const loader *ld)
{
    return bp_json_skip_space(ld->text, ld->len, 0);
}

/* The text must be one JSON value; a text that stops before its end is truncated rather
 * than malformed, which is what a cut download or a full disk produces. */
static bp_status check_syntax(const loader *ld, bp_json_scan *js)
{
    if (bp_json_scan_text(js, ld->text, ld->len, SIZE_MAX))
        return BP_OK;
    if (js->problem_pos < ld->len)
        return fail_at(ld, BP_ERR_NOT_JSON, js->problem_pos, "not valid JSON: %s", js->problem);
    if (value_start(ld) == ld->len)
        return bp_fail(ld->err, BP_ERR_TRUNCATED, ld->skipped + ld->len,
                       "%s: holds only whitespace, it ends before any JSON value", ld->name);
    return fail_at(ld, BP_ERR_TRUNCATED, ld->len,
                   "the JSON text ends early (%s): the file is truncated", js->problem);
}

/* A key as it can be shown in a message: quoted, shortened, non-printable bytes escaped. */
static void quote_key(const char *key, char *out, size_t cap)
{
    const size_t shown = 40;
    size_t n = 0, i = 0;
    out[n++] = '"';
    for (; key[i] && i < shown && n + 8 < cap; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\')
            out[n++] = (char)c;
        else
            n += (size_t)snprintf(out + n, cap - n, "\\x%02X", c);
    }
    if (key[i])
        n += (size_t)snprintf(out + n, cap - n, "...");
    snprintf(out + n, cap - n, "\"");
}

/* Fails on the k-th member of the top-level object, naming its key and its line. The
 * position is found by scanning again: cheaper than recording every member's position on
 * the path where nothing fails. */
static bp_status fail_entry(const loader *ld, size_t k, const char *key, bp_status code,
                            const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

static bp_status fail_entry(const loader *ld, size_t k, const char *key, bp_status code,
                            const char *fmt, ...)
{
    char problem[300], quoted[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(problem, sizeof problem, fmt, ap);
    va_end(ap);
    quote_key(key, quoted, sizeof quoted);
    bp_json_scan js;
    bp_json_scan_text(&js, ld->text, ld->len, k);
    return fail_at(ld, code, js.member_pos, "key %s: %s", quoted, problem);
}

/* True when x is a whole number (NaN and infinities are not). */
static bool is_integral(double x) { return isfinite(x) && x == floor(x); }

/* Checks that `value` is [id, text, count] with a usable id and count, and returns them. */
static bp_status read_value(const loader *ld, size_t k, const cJSON *member, size_t n_pieces,
                            uint32_t *id, uint64_t *count)
{
    const char *key = member->string;
    const cJSON *id_item = cJSON_IsArray(member) ? member->child : NULL;
    const cJSON *text_item = id_item ? id_item->next : NULL;
    const cJSON *count_item = text_item ? text_item->next : NULL;
    if (!count_item || count_item->next)
        return fail_entry(ld, k, key, BP_ERR_BAD_ENTRY,
                          "value is not an array of 3 elements [id, text, count]");
    if (!cJSON_IsNumber(id_item) || !cJSON_IsString(text_item) || !cJSON_IsNumber(count_item))
        return fail_entry(ld, k, key, BP_ERR_BAD_ENTRY,
                          "value is not [id, text, count] (a number, a string, a number)");
    double x = id_item->valuedouble;
    if (!is_integral(x))
        return fail_entry(ld, k, key, BP_ERR_BAD_ENTRY, "id %.17g is not an integer", x);
    if (x < 0 || x >= ID_LIMIT)
        return fail_entry(ld, k, key, BP_ERR_BAD_ID, "id %.17g is out of range (3 .. %zu)", x,
                          n_pieces + BP_N_SPECIAL - 1);
    /* cJSON holds numbers as doubles: a count written with more digits than a double keeps
     * is seen rounded. Counts that large never occur; the 2^53 bound keeps the rest exact. */
    double c = count_item->valuedouble;
    if (!is_integral(c) || c < 1 || c > MAX_COUNT)
        return fail_entry(ld, k, key, BP_ERR_BAD_COUNT,
                          "count %.17g is not an integer in 1 .. 2^53", c);
    *id = (uint32_t)x;
    *count = (uint64_t)c;
    return BP_OK;
}

/* Reads the k-th member into *piece (its bytes decoded to `arena`) and *id. */
static bp_status read_member(const loader *ld, const bp_json_scan *js, size_t k,
                             const cJSON *member, size_t n_pieces, unsigned char *arena,
                             bp_piece *piece, uint32_t *id)
{
    const char *key = member->string;
    const char *why = NULL;
    if (k == js->nul_key_member)
        why = "it holds an escaped NUL (\\u0000)";
    size_t len = why ? 0 : base64_decode(key, strlen(key), arena, &why);
    if (len == 0)
        return fail_entry(ld, k, key, BP_ERR_BAD_BASE64, "not canonical base64: %s", why);
    piece->bytes = arena;
    piece->len = len;
    return read_value(ld, k, member, n_pieces, id, &piece->count);
}

/* Turns the top-level object into a piece table and builds the model from it. */
static bp_status build_from_object(const loader *ld, const bp_json_scan *js, const cJSON *root,
                                   bp_model **out)
{
    size_t n = 0, key_chars = 0;
    for (const cJSON *m = root->child; m; m = m->next) {
        n++;
        key_chars += strlen(m->string);
    }
    bp_piece *pieces = calloc(n ? n : 1, sizeof *pieces);
    uint32_t *ids = calloc(n ? n : 1, sizeof *ids);
    unsigned char *arena = malloc(key_chars / 4 * 3 + 1);
    bp_status st = BP_OK;
    if (!pieces || !ids || !arena)
        st = bp_fail(ld->err, BP_ERR_NOMEM, UINT64_MAX, "%s: out of memory", ld->name);
    size_t k = 0, used = 0;
    for (const cJSON *m = root->child; m && st == BP_OK; m = m->next, k++) {
        st = read_member(ld, js, k, m, n, arena + used, &pieces[k], &ids[k]);
        used += pieces[k].len;
    }
    if (st == BP_OK)
        st = bp_model_build(pieces, ids, n, ld->name, out, ld->err);
    free(arena);
    free(ids);
    free(pieces);
    return st;
}

static const char *json_type_name(const cJSON *v)
{
    if (cJSON_IsArray(v))
        return "an array";
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsNumber(v))
        return "a number";
    if (cJSON_IsBool(v))
        return "a boolean";
    return "null";
}

/* Loads from the (decompressed) bytes of a model file. */
static bp_status load_text(const char *name, const unsigned char *data, size_t len,
                           bp_model **out, bp_error *err)
{
    static const unsigned char bom[3] = {0xEF, 0xBB, 0xBF};
    if (len == 0)
        return bp_fail(err, BP_ERR_EMPTY, 0, "%s: the model file is empty", name);
    /* Editors on some systems add a byte order mark; it carries no meaning in UTF-8. */
    size_t skipped = len >= sizeof bom && memcmp(data, bom, sizeof bom) == 0 ? sizeof bom : 0;
    loader ld = {name, data + skipped, len - skipped, skipped, err};
    bp_json_scan js;
    bp_status st = check_syntax(&ld, &js);
    if (st != BP_OK)
        return st;
    /* The scanner accepted the text, so cJSON can only fail for lack of memory. */
    cJSON *root = bp_cjson_parse(ld.text, ld.len);
    if (!root)
        return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "%s: out of memory while parsing JSON",
                       name);
    if (cJSON_IsObject(root))
        st = build_from_object(&ld, &js, root, out);
    else
        st = fail_at(&ld, BP_ERR_NOT_OBJECT, value_start(&ld),
                     "the JSON value is %s, not an object {\"<base64 piece>\": [id, text, count]}",
                     json_type_name(root));
    cJSON_Delete(root);
    return st;
}

/* The common end of both loaders: `text` holds what was read (when `st` is BP_OK). */
static bp_status load_read_text(bp_status st, const char *name, unsigned char *text, size_t len,
                                bp_model **out, bp_error *err)
{
    if (st != BP_OK)
        return st;
    if (bp_native_is(text, len)) /* a native model (model_native.c) takes the buffer */
        return bp_native_load_buffer(name, text, len, out, err);
    st = load_text(name, text, len, out, err);
    free(text);
    return st;
}

bp_status bp_model_load_memory(const void *data, size_t size, const char *name, bp_model **out,
                               bp_error *err)
{
    name = bp_source_name(name);
    if (!out)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "%s: no output pointer", name);
    *out = NULL;
    unsigned char *text;
    size_t len;
    bp_status st = bp_read_memory(data, size, name, &text, &len, err);
    return load_read_text(st, name, text, len, out, err);
}

bp_status bp_model_load(const char *path, bp_model **out, bp_error *err)
{
    if (!out || !path)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "bp_model_load: %s is NULL",
                       path ? "out" : "path");
    *out = NULL;
    unsigned char *text;
    size_t len;
    bp_status st = bp_read_file(path, &text, &len, err);
    return load_read_text(st, path, text, len, out, err);
}
