/*
 * model_native.c -- the native binary model format: the pieces and the built automaton,
 * stored so that loading is one read plus validation, with nothing to rebuild. The
 * format, its invariants and what validation guarantees: docs/native-format.md.
 *
 * File layout, version 1 (a model without special tokens) and 2 (with: the same, plus the
 * special tokens after the pieces). All integers are little-endian; every section starts
 * at a multiple of 8 bytes from the start of the file (zero padding in between).
 *
 *   offset  size  field
 *        0     8  magic: 89 'B' 'P' 'M' 0D 0A 1A 0A (PNG-style: catches text-mode copies)
 *        8     4  format version (1, or 2 with special tokens)
 *       12     4  header size (64)
 *       16     8  file size in bytes
 *       24     8  checksum of bytes 32 .. file size (bp_checksum64 below, seed 0)
 *       32     4  n: pieces          36  4  n_slots: double-array slots
 *       40     4  n_states           44  4  n_out: entries of the output lists
 *       48     4  bytes of all pieces 52  4  longest piece, in bytes
 *       56     4  width of a depth entry: 1 (longest piece <= 255) or 4
 *       60     4  version 1: reserved, 0; version 2: number of special tokens (>= 1)
 *       64        sections, in this order:
 *                 counts      u64[n]         training count of piece i (id i + 3)
 *                 scores      f64[n]         log(count) - log(total), IEEE-754 binary64
 *                 out         {f64 score, u32 len, u32 id}[n_out]   the output lists
 *                 slots       {i32 base, i32 check}[n_slots]         the double array
 *                 fail        u32[n_slots]   failure links
 *                 out_begin   u32[n_slots]   first output of each state
 *                 off         u32[n + 1]     piece i is bytes[off[i] .. off[i + 1])
 *                 depth       u8 or u32[n_slots]  length of each state's string
 *                 bytes       u8[...]        the pieces, concatenated
 *                 version 2 only:
 *                 special_off u32[n_special + 1]  token i is special_bytes[off[i] .. off[i+1])
 *                 special_bytes u8[...]           the special tokens, concatenated
 * The automaton is exactly the in-memory one (bp_internal.h, automaton.c).
 *
 * Loading reads the file into one private buffer and uses the arrays in place. It is not
 * memory-mapped: a mapped file rewritten in place under its readers (cp over it) makes
 * them fault (SIGBUS past a shortened end, SIGSEGV on arrays changed after validation),
 * while reading it costs a few milliseconds for the 80k model (9 MB), and a file caught
 * half old, half new fails its checksum like any damaged file. Nothing in the file is
 * trusted: the size and checksum are checked first (a truncated file is
 * BP_ERR_TRUNCATED, a bad checksum BP_ERR_CORRUPT, another version BP_ERR_VERSION), then
 * every value the encoder will use as an index or a loop bound (check_pieces(),
 * check_automaton()), so that a file crafted to pass the checksum can give wrong tokens but
 * can never make encoding read out of bounds or loop forever. The scores are recomputed
 * from the counts with this machine's log() and compared, so a native model gives exactly
 * the ids its JSON gives on the same machine (on a mismatch, from another libm, private
 * corrected copies are made).
 *
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bp_internal.h"

#define NATIVE_VERSION 1u         /* a model without special tokens: old readers read it */
#define NATIVE_VERSION_SPECIAL 2u /* a model with special tokens */
#define HEADER_SIZE 64u
#define CHECKED_FROM 32u /* the checksum covers the file from this offset on */

_Static_assert(sizeof(bp_match) == 16, "bp_match is stored as 16 bytes");
_Static_assert(sizeof(bp_ac_slot) == 8, "bp_ac_slot is stored as 8 bytes");
_Static_assert(sizeof(double) == 8, "scores are IEEE-754 binary64");

/*====== Checksum ======*/

/* A 64-bit checksum over bytes, fast enough to run over the whole file on every load:
 * four independent lanes take 8-byte little-endian words in turn, each lane updated by
 * v = rotl(v + w * P2, 31) * P1 (the round of XXH64, with its published constants P1,
 * P2); the tail is folded in word by word and byte by byte, then the length, then a final
 * avalanche. It detects truncation, bit flips and swapped blocks; it is not a
 * cryptographic signature. Also used on big-endian hosts by reading words byte by byte. */
#define P1 UINT64_C(0x9E3779B185EBCA87)
#define P2 UINT64_C(0xC2B2AE3D27D4EB4F)
#define P3 UINT64_C(0x165667B19E3779F9)

static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static inline uint64_t load_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static inline uint32_t load_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t lane(uint64_t v, uint64_t w) { return rotl64(v + w * P2, 31) * P1; }

uint64_t bp_checksum64(const unsigned char *p, size_t len, uint64_t seed)
{
    uint64_t v0 = seed + P1 + P2, v1 = seed + P2, v2 = seed, v3 = seed - P1;
    size_t i = 0;
    for (; i + 32 <= len; i += 32) {
        v0 = lane(v0, load_le64(p + i));
        v1 = lane(v1, load_le64(p + i + 8));
        v2 = lane(v2, load_le64(p + i + 16));
        v3 = lane(v3, load_le64(p + i + 24));
    }
    uint64_t h = rotl64(v0, 1) + rotl64(v1, 7) + rotl64(v2, 12) + rotl64(v3, 18);
    for (; i + 8 <= len; i += 8)
        h = rotl64(h ^ lane(0, load_le64(p + i)), 27) * P1 + P3;
    for (; i < len; i++)
        h = rotl64(h ^ (p[i] * P3), 11) * P1;
    h ^= (uint64_t)len;
    h ^= h >> 33;
    h *= P2;
    h ^= h >> 29;
    h *= P3;
    return h ^ (h >> 32);
}

/*====== Layout ======*/

/* Where each section lives, computed from the header's counts with overflow checks. */
typedef struct layout {
    uint32_t n, n_slots, n_states, n_out, bytes_len, max_len, depth_width;
    uint32_t n_special, special_len; /* version 2: tokens, and their bytes together */
    uint64_t counts, scores, out, slots, fail, out_begin, off, depth, bytes, end;
    uint64_t special_off, special_bytes;
} layout;

/* Appends a section of `count` elements of `size` bytes at *pos (rounded up to 8);
 * returns false when the sizes overflow. */
static bool place(uint64_t *pos, uint64_t *at, uint64_t count, uint64_t size)
{
    uint64_t start = (*pos + 7) & ~UINT64_C(7);
    if (start < *pos || count > (UINT64_MAX - start) / size)
        return false;
    *at = start;
    *pos = start + count * size;
    return true;
}

static bool compute_layout(layout *l)
{
    uint64_t pos = HEADER_SIZE;
    return place(&pos, &l->counts, l->n, 8) && place(&pos, &l->scores, l->n, 8) &&
           place(&pos, &l->out, l->n_out, sizeof(bp_match)) &&
           place(&pos, &l->slots, l->n_slots, sizeof(bp_ac_slot)) &&
           place(&pos, &l->fail, l->n_slots, 4) && place(&pos, &l->out_begin, l->n_slots, 4) &&
           place(&pos, &l->off, (uint64_t)l->n + 1, 4) &&
           place(&pos, &l->depth, l->n_slots, l->depth_width) &&
           place(&pos, &l->bytes, l->bytes_len, 1) &&
           (l->n_special == 0 || (place(&pos, &l->special_off, (uint64_t)l->n_special + 1, 4) &&
                                  place(&pos, &l->special_bytes, l->special_len, 1))) &&
           ((l->end = pos), true);
}

static bool host_is_little_endian(void)
{
    const uint32_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/*====== Saving ======*/

static void put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Builds the whole file image of `m` in memory (the format is the host's layout, so on a
 * little-endian host every array is one memcpy). */
static bp_status build_image(const bp_model *m, unsigned char **image, size_t *size)
{
    const bp_automaton *ac = &m->ac;
    const bp_special_set *sp = m->special;
    layout l = {.n = m->n_pieces, .n_slots = ac->n_slots, .n_states = ac->n_states,
                .n_out = ac->n_out, .bytes_len = m->off[m->n_pieces], .max_len = ac->max_depth,
                .depth_width = ac->max_depth <= 255 ? 1 : 4, .n_special = sp ? sp->n : 0,
                .special_len = sp ? sp->off[sp->n] : 0};
    if (!compute_layout(&l) || l.end > SIZE_MAX)
        return BP_ERR_TOO_LARGE;
    unsigned char *p = calloc(1, (size_t)l.end);
    uint32_t *depth = calloc(ac->n_slots ? ac->n_slots : 1, sizeof *depth);
    if (!p || !depth) {
        free(p);
        free(depth);
        return BP_ERR_NOMEM;
    }
    /* Depths: a child is one deeper than its parent; parents first, by walking up. */
    for (uint32_t s = 1; s < ac->n_slots; s++) {
        if (ac->slot[s].check < 0 || depth[s])
            continue;
        uint32_t d = 0, t = s;
        while (t != 0 && !depth[t]) /* the distance up to a state of known depth */
            t = (uint32_t)ac->slot[t].check, d++;
        uint32_t top = depth[t] + d;
        for (t = s; t != 0 && !depth[t]; t = (uint32_t)ac->slot[t].check)
            depth[t] = top--;
    }
    memcpy(p, BP_NATIVE_MAGIC, BP_NATIVE_MAGIC_SIZE);
    put_le32(p + 8, sp ? NATIVE_VERSION_SPECIAL : NATIVE_VERSION);
    put_le32(p + 12, HEADER_SIZE);
    put_le64(p + 16, l.end);
    const uint32_t fields[8] = {l.n, l.n_slots, l.n_states, l.n_out, l.bytes_len, l.max_len,
                                l.depth_width, l.n_special};
    for (int i = 0; i < 8; i++)
        put_le32(p + 32 + 4 * i, fields[i]);
    memcpy(p + l.counts, m->counts, (size_t)l.n * 8);
    memcpy(p + l.scores, m->scores, (size_t)l.n * 8);
    memcpy(p + l.out, ac->out, (size_t)l.n_out * sizeof(bp_match));
    memcpy(p + l.slots, ac->slot, (size_t)l.n_slots * sizeof(bp_ac_slot));
    memcpy(p + l.fail, ac->fail, (size_t)l.n_slots * 4);
    memcpy(p + l.out_begin, ac->out_begin, (size_t)l.n_slots * 4);
    memcpy(p + l.off, m->off, ((size_t)l.n + 1) * 4);
    for (uint32_t s = 0; s < l.n_slots; s++) {
        if (l.depth_width == 1)
            p[l.depth + s] = (unsigned char)depth[s];
        else
            memcpy(p + l.depth + 4 * (uint64_t)s, &depth[s], 4);
    }
    memcpy(p + l.bytes, m->bytes, l.bytes_len);
    if (sp) {
        memcpy(p + l.special_off, sp->off, ((size_t)sp->n + 1) * 4);
        memcpy(p + l.special_bytes, sp->bytes, l.special_len);
    }
    free(depth);
    put_le64(p + 24, bp_checksum64(p + CHECKED_FROM, (size_t)l.end - CHECKED_FROM, 0));
    *image = p;
    *size = (size_t)l.end;
    return BP_OK;
}

bp_status bp_model_save_native(const bp_model *model, const char *path, bp_error *err)
{
    if (!model || !path || !*path)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX,
                       "bp_model_save_native: no model or path");
    if (!host_is_little_endian())
        return bp_fail(err, BP_ERR_VERSION, UINT64_MAX,
                       "%s: native models can only be written on little-endian machines", path);
    unsigned char *image;
    size_t size;
    bp_status st = build_image(model, &image, &size);
    if (st != BP_OK)
        return bp_fail(err, st, UINT64_MAX, "%s: %s", path, bp_strerror(st));
    st = bp_write_file(path, image, size, err);
    free(image);
    return st;
}

/*====== Loading ======*/

/* What the loader knows about the file while checking it. */
typedef struct loader {
    const char *name;
    const unsigned char *p;
    size_t size;
    layout l;
    bp_error *err;
} loader;

static bp_status corrupt(const loader *ld, uint64_t offset, const char *what)
{
    return bp_fail(ld->err, BP_ERR_CORRUPT, offset,
                   "%s: corrupt native model: %s (at byte %llu)", ld->name, what,
                   (unsigned long long)offset);
}

/* Header, size and checksum. */
static bp_status check_header(loader *ld)
{
    const unsigned char *p = ld->p;
    size_t size = ld->size;
    if (size < 16)
        return bp_fail(ld->err, BP_ERR_TRUNCATED, size,
                       "%s: native model is truncated: %zu bytes, not even a header", ld->name,
                       size);
    uint32_t version = load_le32(p + 8), header = load_le32(p + 12);
    if (version != NATIVE_VERSION && version != NATIVE_VERSION_SPECIAL)
        return bp_fail(ld->err, BP_ERR_VERSION, 8,
                       "%s: native model format version %lu is not supported (this library "
                       "reads versions %u and %u); convert the model again from JSON",
                       ld->name, (unsigned long)version, NATIVE_VERSION, NATIVE_VERSION_SPECIAL);
    if (header != HEADER_SIZE)
        return corrupt(ld, 12, "wrong header size");
    if (size < HEADER_SIZE)
        return bp_fail(ld->err, BP_ERR_TRUNCATED, size,
                       "%s: native model is truncated: %zu bytes, the header needs %u",
                       ld->name, size, HEADER_SIZE);
    uint64_t declared = load_le64(p + 16);
    if (declared > size)
        return bp_fail(ld->err, BP_ERR_TRUNCATED, size,
                       "%s: native model is truncated: %zu bytes of %llu", ld->name, size,
                       (unsigned long long)declared);
    if (declared < size)
        return corrupt(ld, declared, "data after the end of the model");
    if (!host_is_little_endian())
        return bp_fail(ld->err, BP_ERR_VERSION, 0,
                       "%s: native models can only be read on little-endian machines", ld->name);
    if (bp_checksum64(p + CHECKED_FROM, size - CHECKED_FROM, 0) != load_le64(p + 24))
        return corrupt(ld, 24, "checksum mismatch (the file is damaged)");
    layout *l = &ld->l;
    l->n = load_le32(p + 32);
    l->n_slots = load_le32(p + 36);
    l->n_states = load_le32(p + 40);
    l->n_out = load_le32(p + 44);
    l->bytes_len = load_le32(p + 48);
    l->max_len = load_le32(p + 52);
    l->depth_width = load_le32(p + 56);
    if (l->n < 256 || l->n > (uint32_t)INT32_MAX - BP_N_SPECIAL)
        return corrupt(ld, 32, "impossible number of pieces");
    if (l->n_slots < 257 || l->n_slots > (uint32_t)INT32_MAX || l->n_states > l->n_slots ||
        l->n_states < 257 || l->n_out < 256)
        return corrupt(ld, 36, "impossible automaton size");
    if (l->depth_width != 1 && l->depth_width != 4)
        return corrupt(ld, 56, "bad depth width");
    if (l->max_len == 0 || (l->depth_width == 1) != (l->max_len <= 255))
        return corrupt(ld, 52, "bad longest-piece length");
    l->n_special = load_le32(p + 60);
    if (version == NATIVE_VERSION && l->n_special != 0)
        return corrupt(ld, 60, "reserved field is not zero");
    if (version == NATIVE_VERSION_SPECIAL &&
        (l->n_special == 0 || l->n_special > (uint32_t)INT32_MAX - BP_N_SPECIAL - l->n))
        return corrupt(ld, 60, "impossible number of special tokens");
    /* The special tokens' bytes are counted by the last entry of their offsets, the
     * section before them: placed first with no bytes, then again with them. */
    uint64_t last_off = 4 * (uint64_t)l->n_special;
    if (l->n_special != 0 && compute_layout(l) && l->special_off + last_off + 4 <= size)
        l->special_len = load_le32(p + l->special_off + last_off);
    if (!compute_layout(l) || l->end != size)
        return corrupt(ld, 16, "section sizes do not add up to the file size");
    return BP_OK;
}

/* The special tokens of a version 2 file, checked as bp_model_add_special() checks them
 * (bp_special_set_make()). Fills m->special, a copy. */
static bp_status check_special(const loader *ld, bp_model *m)
{
    const layout *l = &ld->l;
    if (l->n_special == 0)
        return BP_OK;
    const unsigned char *off_at = ld->p + l->special_off, *bytes = ld->p + l->special_bytes;
    const unsigned char **tokens = malloc(l->n_special * sizeof *tokens);
    size_t *lens = malloc(l->n_special * sizeof *lens);
    bp_status st = BP_OK;
    if (!tokens || !lens)
        st = bp_fail(ld->err, BP_ERR_NOMEM, UINT64_MAX, "%s: out of memory", ld->name);
    else if (load_le32(off_at) != 0)
        st = corrupt(ld, l->special_off, "special token offsets do not start at 0");
    for (uint32_t i = 0; st == BP_OK && i < l->n_special; i++) {
        uint32_t from = load_le32(off_at + 4 * (size_t)i);
        uint32_t to = load_le32(off_at + 4 * (size_t)i + 4);
        if (to <= from) /* the last one is special_len, so every token lies in the section */
            st = corrupt(ld, l->special_off + 4 * (uint64_t)i + 4,
                         "special token offsets do not increase");
        tokens[i] = bytes + from;
        lens[i] = to - from;
    }
    bp_error why;
    if (st == BP_OK && bp_special_set_make(tokens, lens, l->n_special, 0, l->n + BP_N_SPECIAL,
                                           ld->name, &m->special, &why) != BP_OK)
        st = why.code == BP_ERR_NOMEM
                 ? bp_fail(ld->err, BP_ERR_NOMEM, UINT64_MAX, "%s: out of memory", ld->name)
                 : corrupt(ld,
                           why.offset < l->n_special
                               ? l->special_bytes + (uint64_t)(tokens[why.offset] - bytes)
                               : l->special_off,
                           "a special token is empty, not UTF-8, named like id 0..2, or "
                           "repeated");
    free(tokens);
    free(lens);
    return st;
}

/* The pieces: offsets, counts. Fills m's piece fields (pointing into the file). */
static bp_status check_pieces(const loader *ld, bp_model *m)
{
    const layout *l = &ld->l;
    m->n_pieces = l->n;
    m->off = (uint32_t *)(void *)(ld->p + l->off);
    m->counts = (uint64_t *)(void *)(ld->p + l->counts);
    m->bytes = (unsigned char *)(ld->p + l->bytes);
    m->scores = (double *)(void *)(ld->p + l->scores);
    if (m->off[0] != 0 || m->off[l->n] != l->bytes_len)
        return corrupt(ld, l->off, "piece offsets do not span the piece bytes");
    uint32_t longest = 0;
    for (uint32_t i = 0; i < l->n; i++) {
        if (m->off[i + 1] <= m->off[i])
            return corrupt(ld, l->off + 4 * (uint64_t)(i + 1), "piece offsets do not increase");
        if (m->off[i + 1] - m->off[i] > longest)
            longest = m->off[i + 1] - m->off[i];
    }
    if (longest != l->max_len)
        return corrupt(ld, 52, "the longest piece is not as declared");
    m->max_piece_len = longest;
    uint64_t total = 0;
    for (uint32_t i = 0; i < l->n; i++) {
        uint64_t c = m->counts[i];
        if (c == 0 || c > (UINT64_C(1) << 53) || total + c < total)
            return corrupt(ld, l->counts + 8 * (uint64_t)i, "bad piece count");
        total += c;
    }
    m->total_count = total;
    return BP_OK;
}

/* The scores must be this machine's log(count) - log(total), as bp_model_build computes
 * them. Returns false at the first difference (a model written where log() differs). */
static bool scores_match(const bp_model *m)
{
    double log_total = log((double)m->total_count);
    for (uint32_t i = 0; i < m->n_pieces; i++) {
        double s = log((double)m->counts[i]) - log_total;
        if (memcmp(&s, &m->scores[i], sizeof s) != 0)
            return false;
    }
    return true;
}

/* Replaces the file's scores (and those in the output lists) by private copies computed
 * here. */
static bp_status recompute_scores(bp_model *m, void **priv)
{
    bp_automaton *ac = &m->ac;
    size_t n = m->n_pieces, n_out = ac->n_out;
    unsigned char *block = malloc(n * sizeof(double) + n_out * sizeof(bp_match));
    if (!block)
        return BP_ERR_NOMEM;
    double *scores = (double *)(void *)block;
    bp_match *out = (bp_match *)(void *)(block + n * sizeof(double));
    double log_total = log((double)m->total_count);
    for (size_t i = 0; i < n; i++)
        scores[i] = log((double)m->counts[i]) - log_total;
    memcpy(out, ac->out, n_out * sizeof *out);
    for (size_t j = 0; j < n_out; j++)
        out[j].score = scores[out[j].id - BP_N_SPECIAL];
    m->scores = scores;
    ac->out = out;
    *priv = block;
    return BP_OK;
}

static uint32_t depth_of(const loader *ld, uint32_t s)
{
    const unsigned char *d = ld->p + ld->l.depth;
    return ld->l.depth_width == 1 ? d[s] : load_le32(d + 4 * (size_t)s);
}

/* The automaton: every index the encoder follows and every loop bound it relies on (the
 * invariants listed in bp_internal.h). Fills m->ac (pointing into the file). */
static bp_status check_automaton(const loader *ld, bp_model *m)
{
    const layout *l = &ld->l;
    bp_automaton *ac = &m->ac;
    ac->n_states = l->n_states;
    ac->n_slots = l->n_slots;
    ac->n_out = l->n_out;
    ac->max_depth = l->max_len;
    ac->slot = (bp_ac_slot *)(void *)(ld->p + l->slots);
    ac->fail = (uint32_t *)(void *)(ld->p + l->fail);
    ac->out_begin = (uint32_t *)(void *)(ld->p + l->out_begin);
    ac->out = (bp_match *)(void *)(ld->p + l->out);
    ac->borrowed = true;
    const bp_ac_slot *slot = ac->slot;
    const uint32_t n_slots = l->n_slots;
    /* Slots: owners, bases, depths. */
    if (slot[0].check != BP_AC_ROOT || depth_of(ld, 0) != 0 || ac->fail[0] != 0)
        return corrupt(ld, l->slots, "bad root");
    uint32_t states = 0;
    for (uint32_t t = 0; t < n_slots; t++) {
        int32_t owner = slot[t].check;
        if (owner == BP_AC_FREE)
            continue;
        states++;
        uint64_t at = l->slots + 8 * (uint64_t)t;
        if (slot[t].base < 0 || (uint32_t)slot[t].base > n_slots - 256)
            return corrupt(ld, at, "transition base out of range");
        if (t == 0)
            continue;
        if (owner < 0 || (uint32_t)owner >= n_slots || slot[owner].check == BP_AC_FREE)
            return corrupt(ld, at, "a state's parent is not a state");
        uint32_t label = t - (uint32_t)slot[owner].base;
        if ((uint32_t)slot[owner].base > t || label > 255)
            return corrupt(ld, at, "a state is not a child of its parent");
        /* Depth grows by one from parent to child, so parent chains reach the root. */
        if (depth_of(ld, t) != depth_of(ld, (uint32_t)owner) + 1 || depth_of(ld, t) > l->max_len)
            return corrupt(ld, at, "bad state depth");
    }
    if (states != l->n_states)
        return corrupt(ld, 40, "the number of states is not as declared");
    /* The root has a transition on every byte, whose first output is that byte: all 256
     * single bytes are pieces, so every byte string encodes. */
    for (unsigned c = 0; c < 256; c++) {
        uint32_t t = (uint32_t)slot[0].base + c;
        if (slot[t].check != 0)
            return corrupt(ld, l->slots, "the root lacks a transition");
        uint32_t j = ac->out_begin[t];
        if (j >= l->n_out || ac->out[j].len != 1 || ac->out[j].id < BP_N_SPECIAL ||
            ac->out[j].id - BP_N_SPECIAL >= l->n ||
            m->bytes[m->off[ac->out[j].id - BP_N_SPECIAL]] != c)
            return corrupt(ld, l->out_begin + 4 * (uint64_t)t, "a single byte is not a piece");
    }
    /* Failure links go to shallower states; outputs start in range, no longer than the
     * state's string. */
    for (uint32_t t = 1; t < n_slots; t++) {
        if (slot[t].check == BP_AC_FREE)
            continue;
        uint32_t f = ac->fail[t], d = depth_of(ld, t);
        if (f >= n_slots || slot[f].check == BP_AC_FREE || depth_of(ld, f) >= d)
            return corrupt(ld, l->fail + 4 * (uint64_t)t, "bad failure link");
        uint32_t j = ac->out_begin[t];
        if (j >= l->n_out || ac->out[j].len > d)
            return corrupt(ld, l->out_begin + 4 * (uint64_t)t, "bad output list start");
    }
    /* Output entries: valid pieces with their true length; along the array each list
     * shortens to a single byte, so every scan from a list start stops in range. */
    for (uint32_t j = 0; j < l->n_out; j++) {
        const bp_match *o = ac->out + j;
        uint64_t at = l->out + sizeof(bp_match) * (uint64_t)j;
        if (o->id < BP_N_SPECIAL || o->id - BP_N_SPECIAL >= l->n)
            return corrupt(ld, at, "output id out of range");
        uint32_t i = o->id - BP_N_SPECIAL;
        if (o->len != m->off[i + 1] - m->off[i])
            return corrupt(ld, at, "output length is not its piece's");
        if (o->len != 1 && (j + 1 == l->n_out || ac->out[j + 1].len >= o->len))
            return corrupt(ld, at, "output list does not end");
        if (memcmp(&o->score, &m->scores[i], sizeof o->score) != 0)
            return corrupt(ld, at, "output score is not its piece's");
    }
    return BP_OK;
}

/* Whether len bytes at q lie inside the image p[0..size). A macro, not a function: it is
 * only used in BP_ASSERT, which release builds do not evaluate (clang would call a static
 * function unneeded there). */
#define IN_IMAGE(p, size, q, len)                                                          \
    ((const unsigned char *)(q) >= (p) &&                                                  \
     (size_t)((const unsigned char *)(q) - (p)) <= (size) &&                               \
     (len) <= (size) - (size_t)((const unsigned char *)(q) - (p)))

/* Validates the image at p[0..size) (malloc'd) and builds the model over it. On success
 * the model owns the image; on failure the caller keeps it. */
static bp_status load_image(const char *name, unsigned char *p, size_t size, bp_model **out,
                            bp_error *err)
{
    loader ld = {.name = bp_source_name(name), .p = p, .size = size, .err = err};
    bp_status st = check_header(&ld);
    if (st != BP_OK)
        return st;
    bp_model *m = calloc(1, sizeof *m);
    if (!m)
        return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "%s: out of memory", ld.name);
    st = check_pieces(&ld, m);
    if (st == BP_OK)
        st = check_automaton(&ld, m);
    if (st == BP_OK)
        st = check_special(&ld, m);
    void *priv = NULL;
    if (st == BP_OK && !scores_match(m)) {
        st = recompute_scores(m, &priv);
        if (st != BP_OK)
            bp_fail(err, st, UINT64_MAX, "%s: out of memory", ld.name);
    }
    if (st != BP_OK) {
        bp_special_set_free(m->special);
        free(m);
        return st;
    }
    m->arena = p;
    m->native_private = priv;
    /* What the checks above established, for the debug builds: the piece arrays lie in the
     * image, and the automaton over it keeps every invariant of a built one. */
    BP_ASSERT(IN_IMAGE(p, size, m->off, ((size_t)m->n_pieces + 1) * sizeof *m->off));
    BP_ASSERT(IN_IMAGE(p, size, m->counts, (size_t)m->n_pieces * sizeof *m->counts));
    BP_ASSERT(IN_IMAGE(p, size, m->bytes, m->off[m->n_pieces]));
    bp_automaton_check(&m->ac);
    *out = m;
    return BP_OK;
}

bool bp_native_is(const void *data, size_t len)
{
    /* A file cut inside the magic is a truncated native model too. */
    size_t n = len < BP_NATIVE_MAGIC_SIZE ? len : BP_NATIVE_MAGIC_SIZE;
    return n > 0 && memcmp(data, BP_NATIVE_MAGIC, n) == 0;
}

bp_status bp_native_load_buffer(const char *name, unsigned char *data, size_t len,
                                bp_model **out, bp_error *err)
{
    bp_status st = load_image(name, data, len, out, err);
    if (st != BP_OK)
        free(data);
    return st;
}

void bp_native_release(bp_model *m)
{
    free(m->arena);
    free(m->native_private);
}
