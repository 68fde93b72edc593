/*
 * counts_file.c -- the count file format, version 1 (docs/count-format.md): a fixed
 * header, one zstd frame of entries, a fixed trailer.
 *
 *   header (64 bytes): magic 89 'B' 'P' 'C' 0D 0A 1A 0A, u32 version, u32 kind, u32 order,
 *       u32 flags (bit 0 isolate_digits, bit 1 no_ensure_unicode), u64 min_count,
 *       u64 max_piece_length, 24 zero bytes
 *   entries: one zstd frame with its content checksum; each entry is LEB128 length, the
 *       bytes, LEB128 count (minimal encodings), ordered by length then bytes
 *   trailer (32 bytes): u64 entries, u64 text bytes, u64 chunks, u64 checksum
 *       (bp_checksum64, seed 0, of the header followed by the trailer's first 24 bytes)
 *
 * The entry count and totals sit at the end so that a merge can stream its output; a
 * reader finds them with pread, which is why a count file must be a regular file. zstd's
 * output depends only on its input and parameters, and the writer always feeds it the
 * same blocks, so equal entries give equal bytes (with the same libzstd).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "counts_file.h"

#define COUNTS_VERSION 1u
#define HEADER_SIZE 64u
#define TRAILER_SIZE 32u
#define STAGE_SIZE ((size_t)128 << 10) /* entries are compressed in blocks of this size */
#define READ_SIZE ((size_t)128 << 10)
#define COMPRESSION_LEVEL 1            /* level 3 is twice as slow for 3% less */
#define FLAG_ISOLATE_DIGITS 1u
#define FLAG_NO_ENSURE_UNICODE 2u
#define MAX_VARINT 10                  /* bytes of a LEB128 uint64 */

static const unsigned char magic[8] = {0x89, 'B', 'P', 'C', 0x0D, 0x0A, 0x1A, 0x0A};

static void put_le(unsigned char *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = n; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

void bp_counts_info_from(bp_counts_info *info, bp_counts_kind kind, const bp_train_options *o)
{
    *info = (bp_counts_info){.kind = kind};
    info->options.order = o->order;
    info->options.min_count = o->min_count;
    info->options.max_piece_length = o->max_piece_length;
    info->options.isolate_digits = o->isolate_digits != 0;
    info->options.no_ensure_unicode = o->no_ensure_unicode != 0;
}

static const char *kind_name(bp_counts_kind kind)
{
    return kind == BP_COUNTS_NGRAMS          ? "n-gram counts"
           : kind == BP_COUNTS_NGRAMS_PRUNED ? "pruned n-gram counts"
                                             : "piece counts";
}

bp_status bp_counts_check_match(const bp_counts_info *a, const char *a_name,
                                const bp_counts_info *b, const char *b_name, bp_error *err)
{
    const bp_train_options *x = &a->options, *y = &b->options;
    const char *what = NULL;
    uint64_t vx = 0, vy = 0;
    if (a->kind != b->kind)
        return bp_fail(err, BP_ERR_MISMATCH, UINT64_MAX, "%s holds %s, %s holds %s: they do not mix",
                       b_name, kind_name(b->kind), a_name, kind_name(a->kind));
    if (x->order != y->order)
        what = "--order", vx = x->order, vy = y->order;
    else if (x->min_count != y->min_count)
        what = "--min-count", vx = x->min_count, vy = y->min_count;
    else if (x->max_piece_length != y->max_piece_length)
        what = "--max-piece-length", vx = x->max_piece_length, vy = y->max_piece_length;
    else if (x->isolate_digits != y->isolate_digits)
        what = "--isolate-digits (1 on, 0 off)", vx = (uint64_t)x->isolate_digits,
        vy = (uint64_t)y->isolate_digits;
    else if (x->no_ensure_unicode != y->no_ensure_unicode)
        what = "--no-ensure-unicode (1 on, 0 off)", vx = (uint64_t)x->no_ensure_unicode,
        vy = (uint64_t)y->no_ensure_unicode;
    if (!what)
        return BP_OK;
    return bp_fail(err, BP_ERR_MISMATCH, UINT64_MAX,
                   "%s was made with %s %llu, %s with %llu: counts of different options do not mix",
                   b_name, what, (unsigned long long)vy, a_name, (unsigned long long)vx);
}

static void encode_header(unsigned char *h, const bp_counts_info *info)
{
    const bp_train_options *o = &info->options;
    memset(h, 0, HEADER_SIZE);
    memcpy(h, magic, sizeof magic);
    put_le(h + 8, COUNTS_VERSION, 4);
    put_le(h + 12, (uint64_t)info->kind, 4);
    put_le(h + 16, o->order, 4);
    put_le(h + 20, (o->isolate_digits ? FLAG_ISOLATE_DIGITS : 0) |
                       (o->no_ensure_unicode ? FLAG_NO_ENSURE_UNICODE : 0), 4);
    put_le(h + 24, o->min_count, 8);
    put_le(h + 32, o->max_piece_length, 8);
}

/* The trailer's checksum covers the header and the trailer's other fields. */
static uint64_t ends_checksum(const unsigned char *header, const unsigned char *trailer)
{
    unsigned char both[HEADER_SIZE + TRAILER_SIZE - 8];
    memcpy(both, header, HEADER_SIZE);
    memcpy(both + HEADER_SIZE, trailer, TRAILER_SIZE - 8);
    return bp_checksum64(both, sizeof both, 0);
}

/*------ Writing ------*/

static void fail_writer(bp_counts_writer *cw, int errnum)
{
    if (cw->w->errnum == 0)
        cw->w->errnum = errnum;
}

/* Compresses the staged entries (to the frame's end with ZSTD_e_end). */
static void compress_stage(bp_counts_writer *cw, ZSTD_EndDirective mode)
{
    ZSTD_inBuffer in = {cw->stage, cw->stage_len, 0};
    size_t left;
    do {
        ZSTD_outBuffer out = {cw->zout, cw->zout_cap, 0};
        left = ZSTD_compressStream2(cw->cctx, &out, &in, mode);
        if (ZSTD_isError(left)) {
            fail_writer(cw, ENOMEM); /* the only failure of a valid context */
            return;
        }
        bp_writer_put(cw->w, cw->zout, out.pos);
    } while (mode == ZSTD_e_end ? left != 0 : in.pos < in.size);
    cw->stage_len = 0;
}

void bp_counts_write_begin(bp_counts_writer *cw, bp_writer *w, const bp_counts_info *info)
{
    *cw = (bp_counts_writer){.w = w, .zout_cap = ZSTD_CStreamOutSize(), .kind = info->kind};
    cw->cctx = ZSTD_createCCtx();
    cw->stage = malloc(STAGE_SIZE);
    cw->zout = malloc(cw->zout_cap);
    if (!cw->cctx || !cw->stage || !cw->zout ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cw->cctx, ZSTD_c_compressionLevel, COMPRESSION_LEVEL)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cw->cctx, ZSTD_c_checksumFlag, 1))) {
        fail_writer(cw, ENOMEM);
        return;
    }
    unsigned char header[HEADER_SIZE];
    encode_header(header, info);
    bp_writer_put(w, header, sizeof header);
}

static size_t put_varint(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    for (; v >= 0x80; v >>= 7)
        p[n++] = (unsigned char)(v | 0x80);
    p[n++] = (unsigned char)v;
    return n;
}

void bp_counts_write_entry(bp_counts_writer *cw, const unsigned char *bytes, size_t len,
                           uint64_t count)
{
    if (cw->w->errnum)
        return;
    unsigned char head[MAX_VARINT], tail[MAX_VARINT];
    size_t nh = put_varint(head, len), nt = put_varint(tail, count);
    const unsigned char *parts[3] = {head, bytes, tail};
    size_t sizes[3] = {nh, len, nt};
    for (int i = 0; i < 3; i++) {
        for (size_t done = 0; done < sizes[i];) {
            if (cw->stage_len == STAGE_SIZE)
                compress_stage(cw, ZSTD_e_continue);
            size_t n = sizes[i] - done < STAGE_SIZE - cw->stage_len ? sizes[i] - done
                                                                     : STAGE_SIZE - cw->stage_len;
            memcpy(cw->stage + cw->stage_len, parts[i] + done, n);
            cw->stage_len += n;
            done += n;
        }
    }
    cw->entries++;
    cw->text_sum += cw->kind == BP_COUNTS_PIECES ? len * count : len == 1 ? count : 0;
}

bp_status bp_counts_write_merged(void *ctx, const unsigned char *bytes, size_t len,
                                 uint64_t count, bp_error *err)
{
    bp_counts_writer *cw = ctx;
    (void)err; /* the failure is in the writer */
    bp_counts_write_entry(cw, bytes, len, count);
    return cw->w->errnum ? BP_ERR_WRITE : BP_OK;
}

void bp_counts_write_end(bp_counts_writer *cw, bp_counts_info *info)
{
    info->entries = cw->entries;
    if (cw->w->errnum == 0) {
        compress_stage(cw, ZSTD_e_end);
        unsigned char header[HEADER_SIZE], trailer[TRAILER_SIZE];
        encode_header(header, info);
        put_le(trailer, cw->entries, 8);
        put_le(trailer + 8, info->bytes, 8);
        put_le(trailer + 16, info->chunks, 8);
        put_le(trailer + 24, ends_checksum(header, trailer), 8);
        bp_writer_put(cw->w, trailer, sizeof trailer);
    }
    ZSTD_freeCCtx(cw->cctx);
    free(cw->stage);
    free(cw->zout);
    cw->cctx = NULL;
    cw->stage = cw->zout = NULL;
}

/*------ Reading ------*/

static bp_status bad(bp_counts_reader *r, bp_error *err, const char *why)
{
    return bp_fail(err, BP_ERR_BAD_COUNTS, r->offset, "%s: %s", r->path, why);
}

static bp_status read_at(bp_counts_reader *r, unsigned char *buf, size_t len, uint64_t off,
                         bp_error *err)
{
    for (size_t got = 0; got < len;) {
        ssize_t n = pread(r->fd, buf + got, len - got, (off_t)(off + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return bp_fail_errno(err, BP_ERR_IO, errno, "cannot read %s", r->path);
        if (n == 0)
            return bad(r, err, "truncated count file");
        got += (size_t)n;
    }
    return BP_OK;
}

/* Checks the header and trailer and fills r->info. */
static bp_status read_ends(bp_counts_reader *r, uint64_t size, bp_error *err)
{
    unsigned char header[HEADER_SIZE], trailer[TRAILER_SIZE];
    if (size < sizeof magic)
        return bad(r, err, size ? "not a count file (too short)" : "empty file, not a count file");
    bp_status st = read_at(r, header, sizeof magic, 0, err);
    if (st != BP_OK)
        return st;
    if (memcmp(header, magic, sizeof magic) != 0)
        return bad(r, err, "not a count file (bad magic; bp count, bp segment and bp merge make them)");
    if (size < HEADER_SIZE + TRAILER_SIZE)
        return bad(r, err, "truncated count file");
    if ((st = read_at(r, header, HEADER_SIZE, 0, err)) != BP_OK ||
        (st = read_at(r, trailer, TRAILER_SIZE, size - TRAILER_SIZE, err)) != BP_OK)
        return st;
    uint32_t version = (uint32_t)get_le(header + 8, 4);
    if (version != COUNTS_VERSION)
        return bp_fail(err, BP_ERR_VERSION, UINT64_MAX,
                       "%s: count file format version %u; this library reads version %u",
                       r->path, version, COUNTS_VERSION);
    if (ends_checksum(header, trailer) != get_le(trailer + 24, 8))
        return bad(r, err, "checksum mismatch in the header or trailer (damaged or truncated)");
    bp_counts_info *info = &r->info;
    uint64_t kind = get_le(header + 12, 4), flags = get_le(header + 20, 4);
    *info = (bp_counts_info){.kind = (bp_counts_kind)kind};
    info->options.order = (unsigned)get_le(header + 16, 4);
    info->options.min_count = get_le(header + 24, 8);
    info->options.max_piece_length = (size_t)get_le(header + 32, 8);
    info->options.isolate_digits = (flags & FLAG_ISOLATE_DIGITS) != 0;
    info->options.no_ensure_unicode = (flags & FLAG_NO_ENSURE_UNICODE) != 0;
    info->entries = get_le(trailer, 8);
    info->bytes = get_le(trailer + 8, 8);
    info->chunks = get_le(trailer + 16, 8);
    static const unsigned char zeros[24];
    if (kind < BP_COUNTS_NGRAMS || kind > BP_COUNTS_NGRAMS_PRUNED || flags > 3 ||
        info->options.order < 1 || info->options.order > 7 || info->options.min_count == 0 ||
        info->options.max_piece_length == 0 || memcmp(header + 40, zeros, sizeof zeros) != 0)
        return bad(r, err, "invalid header values");
    r->frame_end = size - TRAILER_SIZE;
    r->in_off = HEADER_SIZE;
    return BP_OK;
}

bp_status bp_counts_open(bp_counts_reader *r, const char *path, bp_error *err)
{
    int fd;
    size_t size_hint;
    bp_status st = bp_open_for_reading(path, &fd, &size_hint, err);
    if (st != BP_OK) {
        *r = (bp_counts_reader){.path = path, .fd = -1};
        return st;
    }
    return bp_counts_open_fd(r, fd, path, err);
}

bp_status bp_counts_open_fd(bp_counts_reader *r, int fd, const char *path, bp_error *err)
{
    *r = (bp_counts_reader){.path = path, .fd = fd};
    bp_status st;
    struct stat sb;
    if (fstat(r->fd, &sb) != 0 || !S_ISREG(sb.st_mode))
        return bp_fail(err, BP_ERR_IO, UINT64_MAX,
                       "%s: a count file must be a regular file (its totals are at its end)", path);
    if ((st = read_ends(r, (uint64_t)sb.st_size, err)) != BP_OK)
        return st;
    r->dctx = ZSTD_createDCtx();
    r->in = malloc(READ_SIZE);
    r->out = malloc(ZSTD_DStreamOutSize());
    if (!r->dctx || !r->in || !r->out)
        return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "%s: out of memory", path);
    bp_zstd_limit_window(r->dctx, r->frame_end - HEADER_SIZE);
    return BP_OK;
}

/* Decompresses more entry bytes; false (after *st is set) at a failure or the end. */
static bool refill(bp_counts_reader *r, bp_status *st, bp_error *err)
{
    r->out_pos = r->out_len = 0;
    while (!r->frame_ended && r->out_len == 0) {
        if (r->in_pos == r->in_len && r->in_off < r->frame_end) {
            size_t n = r->frame_end - r->in_off < READ_SIZE ? (size_t)(r->frame_end - r->in_off)
                                                            : READ_SIZE;
            if ((*st = read_at(r, r->in, n, r->in_off, err)) != BP_OK)
                return false;
            /* The frame must carry its content checksum: the descriptor byte after the
             * magic has Content_Checksum_flag, bit 2 (RFC 8878, 3.1.1.1.1). */
            if (r->in_off == HEADER_SIZE) {
                static const unsigned char zstd_magic[4] = {0x28, 0xB5, 0x2F, 0xFD};
                if (n < 5 || memcmp(r->in, zstd_magic, 4) != 0 || !(r->in[4] & 0x04)) {
                    *st = bad(r, err, "the entries are not one checksummed zstd frame");
                    return false;
                }
            }
            r->in_off += n;
            r->in_len = n;
            r->in_pos = 0;
        } else if (r->in_pos == r->in_len) {
            *st = bad(r, err, "truncated entries");
            return false;
        }
        ZSTD_inBuffer in = {r->in, r->in_len, r->in_pos};
        ZSTD_outBuffer out = {r->out, ZSTD_DStreamOutSize(), 0};
        size_t ret = ZSTD_decompressStream(r->dctx, &out, &in);
        if (ZSTD_isError(ret)) {
            *st = bp_fail(err, BP_ERR_BAD_COUNTS, r->offset, "%s: damaged entries: %s", r->path,
                          ZSTD_getErrorName(ret));
            return false;
        }
        r->in_pos = in.pos;
        r->out_len = out.pos;
        r->frame_ended = ret == 0;
    }
    *st = BP_OK;
    return r->out_len > 0;
}

static bool take(bp_counts_reader *r, unsigned char *dst, size_t n, bp_status *st, bp_error *err)
{
    while (n > 0) {
        if (r->out_pos == r->out_len && !refill(r, st, err)) {
            if (*st == BP_OK)
                *st = bad(r, err, "truncated entries");
            return false;
        }
        size_t k = r->out_len - r->out_pos < n ? r->out_len - r->out_pos : n;
        memcpy(dst, r->out + r->out_pos, k);
        r->out_pos += k;
        r->offset += k;
        dst += k;
        n -= k;
    }
    return true;
}

/* Decodes a LEB128 number from p[0..avail); the bytes it took, or 0 when it is malformed
 * (not minimal, over 64 bits) or needs more than avail bytes. */
static size_t parse_varint(const unsigned char *p, size_t avail, uint64_t *v)
{
    *v = 0;
    for (size_t i = 0; i < MAX_VARINT && i < avail; i++) {
        if (i == MAX_VARINT - 1 && p[i] > 1)
            return 0;
        *v |= (uint64_t)(p[i] & 0x7F) << (7 * i);
        if (!(p[i] & 0x80))
            return p[i] == 0 && i > 0 ? 0 : i + 1; /* not minimal: not canonical */
    }
    return 0;
}

static bool take_varint(bp_counts_reader *r, uint64_t *v, bp_status *st, bp_error *err)
{
    unsigned char b[MAX_VARINT];
    size_t n = 0, used = 0;
    /* Most numbers lie whole in the decompressed block: decoded in place. */
    if (r->out_len - r->out_pos >= MAX_VARINT) {
        used = parse_varint(r->out + r->out_pos, MAX_VARINT, v);
        r->out_pos += used;
        r->offset += used;
    } else {
        do {
            if (!take(r, &b[n], 1, st, err))
                return false;
        } while (b[n++] & 0x80 && n < MAX_VARINT);
        used = parse_varint(b, n, v);
    }
    if (used)
        return true;
    *st = bad(r, err, "malformed number in the entries");
    return false;
}

/* After the last entry: nothing more in the frame, the frame ends where the trailer
 * starts, and the totals agree with the trailer. */
static bp_status check_end(bp_counts_reader *r, bp_error *err)
{
    bp_status st = BP_OK;
    if (r->out_pos < r->out_len || refill(r, &st, err))
        return bad(r, err, "more entries than the trailer counts");
    if (st != BP_OK)
        return st;
    if (r->in_pos != r->in_len || r->in_off != r->frame_end)
        return bad(r, err, "unexpected bytes after the entries");
    if (r->text_sum != r->info.bytes)
        return bad(r, err, "the counts do not add up to the text size in the trailer");
    return BP_OK;
}

bp_status bp_counts_next(bp_counts_reader *r, const unsigned char **bytes, size_t *len,
                         uint64_t *count, bp_error *err)
{
    *bytes = NULL;
    *len = 0;
    *count = 0;
    if (r->n_read == r->info.entries)
        return check_end(r, err);
    unsigned char *t = r->prev;
    size_t t_cap = r->prev_cap;
    r->prev = r->entry;
    r->prev_cap = r->entry_cap;
    r->entry = t;
    r->entry_cap = t_cap;
    r->prev_len = r->entry_len;
    uint64_t n, c;
    bp_status st = BP_OK;
    size_t max = r->info.kind != BP_COUNTS_PIECES ? r->info.options.order : BP_COUNTS_MAX_ENTRY;
    if (!take_varint(r, &n, &st, err))
        return st;
    if (n == 0 || n > max)
        return bad(r, err, "an entry of an impossible length");
    unsigned char *grown = bp_grow(r->entry, &r->entry_cap, (size_t)n, 1);
    if (!grown)
        return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "%s: out of memory", r->path);
    r->entry = grown;
    if (!take(r, r->entry, (size_t)n, &st, err) || !take_varint(r, &c, &st, err))
        return st;
    r->entry_len = (size_t)n;
    if (c == 0)
        return bad(r, err, "an entry with count 0");
    if (r->info.kind == BP_COUNTS_NGRAMS_PRUNED && n > 1 && c < r->info.options.min_count)
        return bad(r, err, "a pruned file holds an n-gram under its --min-count");
    uint64_t prev_key = r->key;
    r->key = bp_counts_key(r->entry, r->entry_len);
    if (r->n_read > 0 && bp_counts_compare_keyed(prev_key, r->prev, r->prev_len, r->key, r->entry,
                                                 r->entry_len) >= 0)
        return bad(r, err, "entries out of order or repeated");
    uint64_t add = r->info.kind != BP_COUNTS_PIECES ? (n == 1 ? c : 0) : c * n;
    if ((r->info.kind == BP_COUNTS_PIECES && add / n != c) || r->text_sum + add < add)
        return bad(r, err, "the counts overflow");
    r->text_sum += add;
    r->n_read++;
    *bytes = r->entry;
    *len = r->entry_len;
    *count = c;
    return BP_OK;
}

void bp_counts_close(bp_counts_reader *r)
{
    if (r->fd >= 0)
        close(r->fd);
    ZSTD_freeDCtx(r->dctx);
    free(r->in);
    free(r->out);
    free(r->entry);
    free(r->prev);
    *r = (bp_counts_reader){.fd = -1};
}

bp_status bp_counts_read_info(const char *path, bp_counts_info *info, bp_error *err)
{
    if (!path || !info)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "bp_counts_read_info: invalid call");
    bp_counts_reader r;
    bp_status st = bp_counts_open(&r, path, err);
    if (st == BP_OK)
        *info = r.info;
    bp_counts_close(&r);
    return st;
}
