/*
 * model_sniff.c -- what the first bytes of an input say: whether it is zstd (models and
 * corpora alike), and whether it can start a model, so that a file that is no model (a
 * text, /dev/zero, a binary) is refused after its first read rather than read whole, and
 * is named for what it is rather than reported as bad JSON. Every model starts with the
 * native magic, a zstd frame, or a JSON value after an optional UTF-8 byte order mark and
 * whitespace (as the JSON loader accepts it). Any JSON value, not only an object, passes:
 * the JSON loader then says precisely what is wrong with it.
 */
#include <stdio.h>
#include <string.h>

#include <zstd.h>

#include "bp_internal.h"

static const unsigned char BOM[3] = {0xEF, 0xBB, 0xBF};

/* Bytes of the native magic that may differ for a header to count as a damaged native one
 * rather than as something else: a bit flip or two, not a different format. */
#define MAX_DAMAGED_MAGIC_BYTES 2

bool bp_is_zstd(const unsigned char *in, size_t in_len)
{
    if (in_len < 4)
        return false;
    uint32_t magic = (uint32_t)in[0] | (uint32_t)in[1] << 8 | (uint32_t)in[2] << 16 |
                     (uint32_t)in[3] << 24;
    return magic == ZSTD_MAGICNUMBER ||
           (magic & ZSTD_MAGIC_SKIPPABLE_MASK) == ZSTD_MAGIC_SKIPPABLE_START;
}

static bool is_json_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Whether `c` can start a JSON value (RFC 8259: object, array, string, number, literal). */
static bool starts_json_value(unsigned char c)
{
    return c == '{' || c == '[' || c == '"' || c == '-' || (c >= '0' && c <= '9') || c == 't' ||
           c == 'f' || c == 'n';
}

/* Whether p[0..len) is a proper prefix of a zstd frame magic (or skippable frame magic). */
static bool could_become_zstd(const unsigned char *p, size_t len)
{
    static const unsigned char frame[3] = {0x28, 0xB5, 0x2F}, skippable[3] = {0x2A, 0x4D, 0x18};
    if (len >= 4)
        return false;
    return memcmp(p, frame, len) == 0 ||
           (len > 0 && (p[0] & 0xF0) == 0x50 && memcmp(p + 1, skippable, len - 1) == 0);
}

static bool near_native_magic(const unsigned char *p, size_t len)
{
    if (len < BP_NATIVE_MAGIC_SIZE)
        return false;
    int differing = 0;
    for (size_t i = 0; i < BP_NATIVE_MAGIC_SIZE; i++)
        differing += p[i] != (unsigned char)BP_NATIVE_MAGIC[i];
    return differing <= MAX_DAMAGED_MAGIC_BYTES;
}

bp_status bp_model_check_start(const unsigned char *p, size_t len, bool zstd_allowed,
                               const char *name, bool *decided, bp_error *err)
{
    *decided = false;
    if (len == 0)
        return BP_OK; /* p may be NULL */
    *decided = true;
    if (bp_native_is(p, len)) {
        *decided = len >= BP_NATIVE_MAGIC_SIZE;
        return BP_OK;
    }
    if (zstd_allowed && bp_is_zstd(p, len))
        return BP_OK;
    if (near_native_magic(p, len))
        return bp_fail(err, BP_ERR_CORRUPT, 0,
                       "%s: corrupt native model: the header is damaged (its first 8 bytes "
                       "are not the native magic 89 42 50 4D 0D 0A 1A 0A)", name);
    size_t skipped = len >= sizeof BOM && memcmp(p, BOM, sizeof BOM) == 0 ? sizeof BOM : 0;
    size_t pos = skipped, line = 1, line_start = skipped;
    for (; pos < len && is_json_space(p[pos]); pos++)
        if (p[pos] == '\n') {
            line++;
            line_start = pos + 1;
        }
    bool bom_cut = len < sizeof BOM && memcmp(p, BOM, len) == 0;
    if (pos == len || bom_cut || (zstd_allowed && could_become_zstd(p, len)) ||
        starts_json_value(p[pos])) {
        *decided = pos < len && !bom_cut;
        return BP_OK;
    }
    char shown[8];
    if (p[pos] >= 0x20 && p[pos] < 0x7F)
        snprintf(shown, sizeof shown, "'%c'", p[pos]);
    else
        snprintf(shown, sizeof shown, "0x%02X", p[pos]);
    return bp_fail(err, BP_ERR_NOT_JSON, pos,
                   "%s: line %zu, column %zu: not a model: neither JSON (which starts with "
                   "'{'), %snor a native model (the file starts with %s)",
                   name, line, pos - line_start + 1, zstd_allowed ? "zstd " : "", shown);
}
