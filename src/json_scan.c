/*
 * json_scan.c -- a JSON syntax checker (RFC 8259) of our own, run before cJSON, and the
 * library's one entry to cJSON's parser.
 * cJSON returns NULL both for a text that is not JSON and when it runs out of memory, and
 * tells neither the line nor a reason. The scanner accepts exactly what cJSON parses (the
 * same nesting limit, numbers no longer than cJSON's buffer), so a cJSON failure on a
 * text the scanner accepted is a lack of memory, and a text it refuses gets a position and
 * a reason. The model loader also learns from it where the members of the top-level
 * object are, which it needs for its messages.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bp_internal.h"

/* cJSON writes the position of the last parse error to a process-wide variable on every
 * parse: one lock serializes all the library's parses, so that models and JSONL corpora
 * can be read from several threads at once without a data race. */
static pthread_mutex_t cjson_parse_lock = PTHREAD_MUTEX_INITIALIZER;

struct cJSON *bp_cjson_parse(const unsigned char *s, size_t len)
{
    pthread_mutex_lock(&cjson_parse_lock);
    cJSON *root = cJSON_ParseWithLengthOpts((const char *)s, len, NULL, false);
    pthread_mutex_unlock(&cjson_parse_lock);
    return root;
}

/* Upstream cJSON copies a number into a 64-byte buffer before strtod and cannot parse a
 * longer one (some distributions patch this). Refusing those here keeps what is accepted
 * the same whichever cJSON build is linked. */
#define JSON_NUMBER_MAX_LEN 63

static bool scan_error(bp_json_scan *js, const char *problem)
{
    js->problem = problem;
    js->problem_pos = js->pos;
    return false;
}

static bool at_end(const bp_json_scan *js) { return js->pos >= js->len; }

static int peek(const bp_json_scan *js) { return at_end(js) ? -1 : js->s[js->pos]; }

static bool is_digit(int c) { return c >= '0' && c <= '9'; }

size_t bp_json_skip_space(const unsigned char *s, size_t len, size_t pos)
{
    while (pos < len && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' || s[pos] == '\r'))
        pos++;
    return pos;
}

static void skip_space(bp_json_scan *js) { js->pos = bp_json_skip_space(js->s, js->len, js->pos); }

static bool scan_value(bp_json_scan *js);

static bool scan_literal(bp_json_scan *js, const char *word)
{
    for (; *word; word++, js->pos++)
        if (peek(js) != (unsigned char)*word)
            return scan_error(js, "invalid literal (expected true, false or null)");
    return true;
}

static bool scan_digits(bp_json_scan *js)
{
    if (!is_digit(peek(js)))
        return scan_error(js, "expected a digit");
    while (is_digit(peek(js)))
        js->pos++;
    return true;
}

static bool scan_number(bp_json_scan *js)
{
    size_t start = js->pos;
    if (peek(js) == '-')
        js->pos++;
    if (peek(js) == '0')
        js->pos++;
    else if (!scan_digits(js))
        return false;
    if (peek(js) == '.') {
        js->pos++;
        if (!scan_digits(js))
            return false;
    }
    if (peek(js) == 'e' || peek(js) == 'E') {
        js->pos++;
        if (peek(js) == '+' || peek(js) == '-')
            js->pos++;
        if (!scan_digits(js))
            return false;
    }
    if (js->pos - start > JSON_NUMBER_MAX_LEN) {
        js->pos = start;
        return scan_error(js, "number longer than 63 characters");
    }
    return true;
}

static int hex_value(int c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Scans the 4 hex digits of a \u escape. */
static bool scan_hex4(bp_json_scan *js, unsigned *code)
{
    *code = 0;
    for (int i = 0; i < 4; i++, js->pos++) {
        int v = hex_value(peek(js));
        if (v < 0)
            return scan_error(js, "invalid \\u escape (expected 4 hex digits)");
        *code = *code << 4 | (unsigned)v;
    }
    return true;
}

static bool is_high_surrogate(unsigned code) { return code >= 0xD800 && code <= 0xDBFF; }
static bool is_low_surrogate(unsigned code) { return code >= 0xDC00 && code <= 0xDFFF; }

/* Scans the second half of a surrogate pair; cJSON (like Python's json for keys it
 * decodes) needs pairs to be complete. */
static bool scan_low_surrogate(bp_json_scan *js, size_t escape_start)
{
    unsigned code;
    if (peek(js) == '\\') { /* the backslash and the 'u' are both required */
        js->pos++;
        if (peek(js) == 'u') {
            js->pos++;
            if (!scan_hex4(js, &code))
                return false;
            if (is_low_surrogate(code))
                return true;
        }
    }
    if (at_end(js))
        return scan_error(js, "unterminated surrogate pair");
    js->pos = escape_start;
    return scan_error(js, "unpaired UTF-16 surrogate in a \\u escape");
}

/* Scans an escape sequence; js->pos is just after the backslash. */
static bool scan_escape(bp_json_scan *js, bool *has_nul)
{
    size_t escape_start = js->pos - 1;
    int c = peek(js);
    if (c > 0 && strchr("\"\\/bfnrt", c)) {
        js->pos++;
        return true;
    }
    if (c != 'u')
        return at_end(js) ? scan_error(js, "unterminated string")
                          : scan_error(js, "invalid escape sequence");
    js->pos++;
    unsigned code;
    if (!scan_hex4(js, &code))
        return false;
    if (code == 0)
        *has_nul = true;
    if (is_low_surrogate(code)) {
        js->pos = escape_start;
        return scan_error(js, "unpaired UTF-16 surrogate in a \\u escape");
    }
    return !is_high_surrogate(code) || scan_low_surrogate(js, escape_start);
}

/* Scans a string. *has_nul tells whether it holds an escaped NUL: cJSON's strings are
 * NUL-terminated, so such a key would be silently cut short. Bytes >= 0x80 are not checked
 * for UTF-8 validity: the only strings the loader uses are keys, checked as base64. */
static bool scan_string(bp_json_scan *js, bool *has_nul)
{
    *has_nul = false;
    js->pos++;
    for (;;) {
        int c = peek(js);
        if (c < 0)
            return scan_error(js, "unterminated string");
        if (c < 0x20)
            return scan_error(js, "control character inside a string (must be escaped)");
        js->pos++;
        if (c == '"')
            return true;
        if (c == '\\' && !scan_escape(js, has_nul))
            return false;
    }
}

/* Scans `"key": value` of an object, recording what the loader needs about the members of
 * the top-level object. */
static bool scan_member(bp_json_scan *js)
{
    skip_space(js);
    if (peek(js) != '"')
        return scan_error(js, "expected a string key");
    bool top = js->depth == 1;
    size_t index = js->n_members;
    if (top) {
        if (index == js->want_member)
            js->member_pos = js->pos;
        js->n_members++;
    }
    bool has_nul;
    if (!scan_string(js, &has_nul))
        return false;
    if (top && has_nul && js->nul_key_member == SIZE_MAX)
        js->nul_key_member = index;
    skip_space(js);
    if (peek(js) != ':')
        return scan_error(js, "expected ':' after the key");
    js->pos++;
    return scan_value(js);
}

/* Scans an object or an array: items separated by commas between brackets. */
static bool scan_container(bp_json_scan *js, bool is_object)
{
    const int closer = is_object ? '}' : ']';
    /* The same limit as cJSON's, so that whatever passes here parses there. */
    if (js->depth >= CJSON_NESTING_LIMIT)
        return scan_error(js, "nested too deeply");
    js->depth++;
    js->pos++;
    skip_space(js);
    if (peek(js) != closer) {
        for (;;) {
            if (!(is_object ? scan_member(js) : scan_value(js)))
                return false;
            skip_space(js);
            if (peek(js) == closer)
                break;
            if (peek(js) != ',')
                return scan_error(js, is_object ? "expected ',' or '}' after an object member"
                                                : "expected ',' or ']' after an array element");
            js->pos++;
        }
    }
    js->pos++;
    js->depth--;
    return true;
}

static bool scan_value(bp_json_scan *js)
{
    skip_space(js);
    int c = peek(js);
    bool has_nul;
    switch (c) {
    case '{':
        return scan_container(js, true);
    case '[':
        return scan_container(js, false);
    case '"':
        return scan_string(js, &has_nul);
    case 't':
        return scan_literal(js, "true");
    case 'f':
        return scan_literal(js, "false");
    case 'n':
        return scan_literal(js, "null");
    default:
        if (c == '-' || is_digit(c))
            return scan_number(js);
        return scan_error(js, "expected a JSON value");
    }
}

bool bp_json_scan_text(bp_json_scan *js, const unsigned char *s, size_t len, size_t want_member)
{
    memset(js, 0, sizeof *js);
    js->s = s;
    js->len = len;
    js->want_member = want_member;
    js->member_pos = SIZE_MAX;
    js->nul_key_member = SIZE_MAX;
    if (!scan_value(js))
        return false;
    skip_space(js);
    return at_end(js) || scan_error(js, "unexpected data after the JSON value");
}
