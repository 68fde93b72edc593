/*
 * model_spm.c -- bp_model_export_sentencepiece(): a model as a SentencePiece ModelProto,
 * the reference's Tokenizer.convert_to_sentencepiece (docs/algorithms.md §3.7), so that
 * SentencePiece (spm_encode, the Python and C++ libraries) loads a BytePiece model and
 * gives the same ids.
 *
 * The protobuf encoding is written by hand (it is small): a message is a sequence of
 * fields, each a key (field number << 3 | wire type) as a varint, then a varint (wire type
 * 0), a length-delimited byte string (2) or four little-endian bytes (5). Field numbers are
 * those of sentencepiece_model.proto:
 *   ModelProto      pieces = 1 (repeated SentencePiece), trainer_spec = 2, normalizer_spec = 3
 *   SentencePiece   piece = 1 (string), score = 2 (float), type = 3 (enum)
 *   TrainerSpec     model_type = 3, vocab_size = 4, split_by_unicode_script = 21,
 *                   byte_fallback = 35
 *   NormalizerSpec  name = 1, add_dummy_prefix = 3, remove_extra_whitespaces = 4,
 *                   escape_whitespaces = 5
 *
 * What is written, id by id (the exported ids are bp's ids):
 *   0 <unk> UNKNOWN, 1 <s> CONTROL, 2 </s> CONTROL, score 0;
 *   a single byte that Python prints as b'x' (0x20-0x7e except backslash): a NORMAL piece,
 *     the character itself (' ' as U+2581), with its own score; its BYTE piece <0xXX> is
 *     appended after the last id with score -100, since byte fallback needs all 256;
 *   any other single byte: the BYTE piece <0xXX>, with its own score;
 *   a longer piece: NORMAL, its UTF-8 text with ' ' written U+2581 (SentencePiece's
 *     whitespace escape), with its own score.
 * Scores are the model's log(count) - log(total) rounded to float32, as SentencePiece stores
 * them. Then: Unigram, byte fallback, identity normalization, no dummy prefix, no removal of
 * whitespace.
 *
 * Two cases the reference does not handle (its .decode() raises) are exported so that the
 * ids stay aligned and SentencePiece still loads the file: a longer piece that is not
 * well-formed UTF-8 (SentencePiece segments characters, not bytes, so it could never emit
 * it), and a piece whose text equals an earlier one once ' ' is written U+2581 (a piece
 * holding U+2581 itself). Both become UNUSED pieces named "<unused:ID>", which
 * SentencePiece never emits.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bp_internal.h"

enum {
    WIRE_VARINT = 0,
    WIRE_LEN = 2,
    WIRE_FIXED32 = 5,
};

/* SentencePiece.Type */
enum { SP_NORMAL = 1, SP_UNKNOWN = 2, SP_CONTROL = 3, SP_USER_DEFINED = 4, SP_UNUSED = 5,
       SP_BYTE = 6 };

#define SPM_BYTE_SCORE (-100.0f) /* the appended byte pieces */

/*------ A growable byte buffer ------*/

typedef struct buf {
    unsigned char *p;
    size_t len, cap;
    bool failed; /* an allocation failed; later writes are dropped */
} buf;

static unsigned char *room(buf *b, size_t n)
{
    if (b->failed)
        return NULL;
    unsigned char *p = n <= SIZE_MAX - b->len ? bp_grow(b->p, &b->cap, b->len + n, 1) : NULL;
    if (!p) {
        b->failed = true;
        return NULL;
    }
    b->p = p;
    return p + b->len;
}

static void put_raw(buf *b, const void *data, size_t n)
{
    unsigned char *p = room(b, n);
    if (p) {
        if (n > 0)
            memcpy(p, data, n);
        b->len += n;
    }
}

static size_t varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static void put_varint(buf *b, uint64_t v)
{
    unsigned char tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (unsigned char)v;
    put_raw(b, tmp, n);
}

static void put_key(buf *b, unsigned field, unsigned wire)
{
    put_varint(b, (uint64_t)field << 3 | wire);
}

static void put_uint_field(buf *b, unsigned field, uint64_t v)
{
    put_key(b, field, WIRE_VARINT);
    put_varint(b, v);
}

static void put_bytes_field(buf *b, unsigned field, const void *data, size_t n)
{
    put_key(b, field, WIRE_LEN);
    put_varint(b, n);
    put_raw(b, data, n);
}

static void put_float_field(buf *b, unsigned field, float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    unsigned char le[4] = {(unsigned char)bits, (unsigned char)(bits >> 8),
                           (unsigned char)(bits >> 16), (unsigned char)(bits >> 24)};
    put_key(b, field, WIRE_FIXED32);
    put_raw(b, le, sizeof le);
}

/* One ModelProto.pieces entry. */
static void put_piece(buf *b, const unsigned char *name, size_t name_len, float score, int type)
{
    size_t body = 1 + varint_size(name_len) + name_len /* piece */
                + 1 + 4                                 /* score */
                + 1 + varint_size((uint64_t)type);      /* type */
    put_key(b, 1, WIRE_LEN);
    put_varint(b, body);
    put_bytes_field(b, 1, name, name_len);
    put_float_field(b, 2, score);
    put_uint_field(b, 3, (uint64_t)type);
}

/*------ Piece names ------*/

/* A byte that Python's str(bytes([b])) prints as b'x' (4 characters). */
static bool prints_plain(unsigned char c)
{
    return c >= 0x20 && c <= 0x7E && c != '\\';
}

/* Writes the name of a NORMAL piece into `out` (room for 3 * len): the bytes with every
 * ' ' replaced by U+2581 (E2 96 81). @return its length. */
static size_t normal_name(unsigned char *out, const unsigned char *bytes, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (bytes[i] == ' ') {
            out[n++] = 0xE2;
            out[n++] = 0x96;
            out[n++] = 0x81;
        } else {
            out[n++] = bytes[i];
        }
    }
    return n;
}

/* The set of names given to NORMAL and UNUSED pieces so far (SentencePiece refuses a
 * model in which two of them are equal). Open addressing over offsets into an arena. */
typedef struct name_set {
    struct name_slot {
        uint64_t hash; /* 0: empty */
        size_t off, len;
    } *slots;
    size_t cap, n;
    buf arena;
} name_set;

static uint64_t hash_name(const unsigned char *s, size_t len)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325); /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ s[i]) * UINT64_C(0x100000001b3);
    return h ? h : 1;
}

/* Adds the name unless it is there. @return 1 if added, 0 if already there, -1 when out of
 * memory. */
static int name_set_add(name_set *set, const unsigned char *s, size_t len)
{
    if ((set->n + 1) * 2 > set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 1024;
        struct name_slot *slots = calloc(cap, sizeof *slots);
        if (!slots)
            return -1;
        for (size_t i = 0; i < set->cap; i++) {
            if (!set->slots[i].hash)
                continue;
            size_t j = (size_t)set->slots[i].hash & (cap - 1);
            while (slots[j].hash)
                j = (j + 1) & (cap - 1);
            slots[j] = set->slots[i];
        }
        free(set->slots);
        set->slots = slots;
        set->cap = cap;
    }
    uint64_t h = hash_name(s, len);
    size_t j = (size_t)h & (set->cap - 1);
    for (; set->slots[j].hash; j = (j + 1) & (set->cap - 1)) {
        const struct name_slot *e = &set->slots[j];
        if (e->hash == h && e->len == len && memcmp(set->arena.p + e->off, s, len) == 0)
            return 0;
    }
    size_t off = set->arena.len;
    put_raw(&set->arena, s, len);
    if (set->arena.failed)
        return -1;
    set->slots[j] = (struct name_slot){h, off, len};
    set->n++;
    return 1;
}

static void name_set_free(name_set *set)
{
    free(set->slots);
    free(set->arena.p);
}

/*------ The model ------*/

/* Appends the pieces of every id to `out`, then the special tokens (USER_DEFINED, which
 * SentencePiece matches in text before segmenting, as bp encode --special), then the
 * extra byte pieces. The tokens' names are taken first, so that a piece spelled like one
 * becomes unused. */
static bp_status put_pieces(buf *out, const bp_model *m, size_t *n_written)
{
    static const char *const specials[3] = {"<unk>", "<s>", "</s>"};
    static const int special_types[3] = {SP_UNKNOWN, SP_CONTROL, SP_CONTROL};
    name_set names = {0};
    size_t longest = 0;
    for (uint32_t i = 0; i < m->n_pieces; i++)
        if (m->off[i + 1] - m->off[i] > longest)
            longest = m->off[i + 1] - m->off[i];
    const bp_special_set *sp = m->special;
    if (sp && sp->max_len > longest)
        longest = sp->max_len;
    unsigned char *name = malloc(longest * 3 + 32);
    if (!name)
        return BP_ERR_NOMEM;
    bp_status st = BP_OK;
    for (uint32_t t = 0; sp && t < sp->n && st == BP_OK; t++) {
        size_t len = normal_name(name, sp->bytes + sp->off[t], sp->off[t + 1] - sp->off[t]);
        int added = name_set_add(&names, name, len);
        st = added < 0 ? BP_ERR_NOMEM : added == 0 ? BP_ERR_BAD_SPECIAL : BP_OK; /* ' ' vs U+2581 */
    }
    size_t n = 0;
    for (unsigned i = 0; i < BP_N_SPECIAL; i++, n++)
        put_piece(out, (const unsigned char *)specials[i], strlen(specials[i]), 0.0f,
                  special_types[i]);
    bool appended[256] = {false};
    for (uint32_t i = 0; i < m->n_pieces && st == BP_OK; i++, n++) {
        const unsigned char *bytes = m->bytes + m->off[i];
        size_t len = m->off[i + 1] - m->off[i], name_len;
        float score = (float)m->scores[i];
        int type = SP_NORMAL;
        if (len == 1 && !prints_plain(bytes[0])) {
            name_len = (size_t)snprintf((char *)name, 16, "<0x%02X>", bytes[0]);
            type = SP_BYTE;
        } else {
            if (len == 1)
                appended[bytes[0]] = true;
            name_len = normal_name(name, bytes, len);
            bool utf8 = len == 1 || bp_utf8_valid_prefix(bytes, len) == len;
            int added = utf8 ? name_set_add(&names, name, name_len) : 0;
            if (added < 0) {
                st = BP_ERR_NOMEM;
                break;
            }
            if (added == 0) { /* not UTF-8, or the name is taken: a placeholder */
                type = SP_UNUSED;
                name_len = (size_t)snprintf((char *)name, 32, "<unused:%u>", (unsigned)(i + 3));
                /* "<unused:N>" could be a real piece of the model: add '~' until it is not */
                int fresh;
                while ((fresh = name_set_add(&names, name, name_len)) == 0 && name_len < 31) {
                    name[name_len - 1] = '~';
                    name[name_len++] = '>';
                }
                if (fresh < 0) {
                    st = BP_ERR_NOMEM;
                    break;
                }
            }
        }
        put_piece(out, name, name_len, score, type);
    }
    for (uint32_t t = 0; sp && t < sp->n && st == BP_OK; t++, n++)
        put_piece(out, name, normal_name(name, sp->bytes + sp->off[t], sp->off[t + 1] - sp->off[t]),
                  0.0f, SP_USER_DEFINED);
    for (unsigned c = 0; c < 256 && st == BP_OK; c++) {
        if (!appended[c])
            continue;
        char byte_name[16];
        int len = snprintf(byte_name, sizeof byte_name, "<0x%02X>", c);
        put_piece(out, (const unsigned char *)byte_name, (size_t)len, SPM_BYTE_SCORE, SP_BYTE);
        n++;
    }
    free(name);
    name_set_free(&names);
    *n_written = n;
    return st;
}

static void put_trainer_spec(buf *out, size_t vocab_size)
{
    buf spec = {0};
    put_uint_field(&spec, 3, 1);                   /* model_type: UNIGRAM */
    put_uint_field(&spec, 4, (uint64_t)vocab_size); /* vocab_size */
    put_uint_field(&spec, 21, 0);                  /* split_by_unicode_script: false */
    put_uint_field(&spec, 35, 1);                  /* byte_fallback: true */
    if (spec.failed)
        out->failed = true;
    else
        put_bytes_field(out, 2, spec.p, spec.len);
    free(spec.p);
}

static void put_normalizer_spec(buf *out)
{
    buf spec = {0};
    put_bytes_field(&spec, 1, "identity", 8); /* name */
    put_uint_field(&spec, 3, 0);              /* add_dummy_prefix: false */
    put_uint_field(&spec, 4, 0);              /* remove_extra_whitespaces: false */
    put_uint_field(&spec, 5, 1);              /* escape_whitespaces: true (' ' is U+2581) */
    if (spec.failed)
        out->failed = true;
    else
        put_bytes_field(out, 3, spec.p, spec.len);
    free(spec.p);
}

bp_status bp_model_export_sentencepiece(const bp_model *model, const char *path, bp_error *err)
{
    if (!model || !path || !*path)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX,
                       "bp_model_export_sentencepiece: no model or path");
    buf out = {0};
    size_t n_pieces = 0;
    bp_status st = put_pieces(&out, model, &n_pieces);
    if (st == BP_OK) {
        put_trainer_spec(&out, n_pieces);
        put_normalizer_spec(&out);
        if (out.failed)
            st = BP_ERR_NOMEM;
    }
    if (st == BP_OK && n_pieces > INT32_MAX) /* vocab_size is an int32 */
        st = bp_fail(err, BP_ERR_TOO_LARGE, UINT64_MAX,
                     "%s: %zu pieces are too many for a SentencePiece model", path, n_pieces);
    else if (st == BP_ERR_NOMEM)
        st = bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "%s: out of memory", path);
    else if (st == BP_ERR_BAD_SPECIAL)
        st = bp_fail(err, st, UINT64_MAX,
                     "%s: two special tokens have the same SentencePiece name (a space and "
                     "U+2581 are both written U+2581)", path);
    else if (st == BP_OK)
        st = bp_write_file(path, out.p, out.len, err);
    free(out.p);
    return st;
}
