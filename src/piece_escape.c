/*
 * piece_escape.c -- pieces as printable words, and back (bp_piece_escape, bp_piece_unescape).
 *
 * A piece is any byte string, so printing one raw can break a terminal, a TSV file or the
 * UTF-8 of the line around it. The escaped form is one word of printable UTF-8 with no
 * space, and it reads back to the same bytes: what `bp encode --output-format pieces` and
 * `bp vocab` print and `bp import` reads.
 */
#include <string.h>

#include "bp_internal.h"

/* The names of ids 0..2 as `bp encode --output-format pieces` prints them. A piece spelled
 * like one has its '<' written \x3c, so that a listing cannot confuse the two. */
const char *const bp_id_names[BP_N_SPECIAL] = {"<pad>", "<bos>", "<eos>"};

static bool reads_as_special_name(const unsigned char *bytes, size_t len)
{
    if (len == 0 || bytes[0] != '<') /* the quick answer for almost every piece */
        return false;
    for (size_t i = 0; i < 3; i++)
        if (len == strlen(bp_id_names[i]) && memcmp(bytes, bp_id_names[i], len) == 0)
            return true;
    return false;
}

/* Writes the escape of one byte to dst (room for 4). @return its length. */
static size_t escape_byte(char *dst, unsigned char byte, bool force_hex)
{
    static const char hex[] = "0123456789abcdef";
    const char *named = byte == '\\' ? "\\\\" : byte == '\n' ? "\\n"
                      : byte == '\t' ? "\\t" : byte == '\r' ? "\\r" : NULL;
    if (named && !force_hex) {
        memcpy(dst, named, 2);
        return 2;
    }
    if (byte > 0x20 && byte < 0x7F && !force_hex) {
        dst[0] = (char)byte;
        return 1;
    }
    dst[0] = '\\';
    dst[1] = 'x';
    dst[2] = hex[byte >> 4];
    dst[3] = hex[byte & 15];
    return 4;
}

/* The escape of bytes[0..len) into dst when dst is not NULL. @return its length. */
static size_t escape(const unsigned char *bytes, size_t len, char *dst)
{
    char scratch[4];
    size_t written = 0;
    for (size_t i = 0; i < len;) {
        int32_t cp = 0;
        size_t char_len = bytes[i] >= 0x80 ? bp_utf8_decode(bytes + i, len - i, &cp) : 0;
        if (char_len > 0 && cp >= 0xA0) { /* C1 controls (U+0080..U+009F) are escaped */
            if (dst)
                memcpy(dst + written, bytes + i, char_len);
            written += char_len;
            i += char_len;
        } else {
            bool hex_lt = i == 0 && reads_as_special_name(bytes, len);
            written += escape_byte(dst ? dst + written : scratch, bytes[i++], hex_lt);
        }
    }
    return written;
}

size_t bp_piece_escape_bound(size_t len)
{
    return len > (SIZE_MAX - 1) / 4 ? SIZE_MAX : 4 * len + 1;
}

bp_status bp_piece_escape(const void *bytes, size_t len, char *out, size_t cap, size_t *out_len,
                          bp_error *err)
{
    if ((!bytes && len) || !out_len || (!out && cap))
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "bp_piece_escape: %s is NULL",
                       !out_len ? "out_len" : !out ? "out" : "bytes");
    /* Writing directly when the bound fits keeps the common case to one pass. */
    size_t need = cap >= bp_piece_escape_bound(len) ? escape(bytes, len, out)
                                                     : escape(bytes, len, NULL);
    *out_len = need;
    if (need >= cap)
        return bp_fail(err, BP_ERR_BUFFER_TOO_SMALL, UINT64_MAX,
                       "bp_piece_escape: %zu bytes (and a NUL) need room, the buffer holds %zu",
                       need, cap);
    if (cap < bp_piece_escape_bound(len))
        escape(bytes, len, out);
    out[need] = '\0';
    return BP_OK;
}

static int hex_value(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

bp_status bp_piece_unescape(const char *text, size_t len, void *out, size_t *out_len,
                            bp_error *err)
{
    if ((!text && len) || !out_len || (!out && len))
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "bp_piece_unescape: %s is NULL",
                       !out_len ? "out_len" : !out ? "out" : "text");
    unsigned char *dst = out;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] != '\\') {
            dst[n++] = (unsigned char)text[i];
            continue;
        }
        size_t at = i++;
        int hi = i + 1 < len ? hex_value(text[i + 1]) : -1;
        int lo = i + 2 < len ? hex_value(text[i + 2]) : -1;
        switch (i < len ? text[i] : '\0') {
        case '\\': dst[n++] = '\\'; break;
        case 'n': dst[n++] = '\n'; break;
        case 't': dst[n++] = '\t'; break;
        case 'r': dst[n++] = '\r'; break;
        case 'x':
            if (hi >= 0 && lo >= 0) {
                dst[n++] = (unsigned char)(hi << 4 | lo);
                i += 2;
                break;
            }
            return bp_fail(err, BP_ERR_BAD_ESCAPE, at,
                           "\\x at byte %zu needs two hex digits", at);
        default:
            return bp_fail(err, BP_ERR_BAD_ESCAPE, at,
                           "byte %zu: a backslash must start \\\\, \\n, \\t, \\r or \\xHH", at);
        }
    }
    *out_len = n;
    return BP_OK;
}
