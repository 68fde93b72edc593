/*
 * file_read.c -- whole-file input for the loaders: reads a file (or takes bytes already in
 * memory) into one malloc'd, NUL-terminated buffer, and decompresses it on the way when it
 * is a zstd stream, recognised by its content rather than its name. Decompression streams
 * through every frame of the input into a buffer that grows as needed, and a stream cut
 * inside a frame is reported as truncated rather than silently returning a prefix. What is
 * read is a model: its first bytes must start one (model_sniff.c), checked as soon as they
 * arrive, and neither the file nor its decompressed content may exceed BP_MODEL_MAX_SIZE,
 * so that neither /dev/zero nor a stream that never ends is read without bound. Every
 * error names the file.
 */
#define _DEFAULT_SOURCE /* MADV_HUGEPAGE (Linux), where the system has it */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>
#include <zstd_errors.h>

#include "bp_internal.h"

#define MIN_CAPACITY ((size_t)1 << 16) /* first allocation when the size is not known */

/* A growable byte buffer that always keeps one byte spare for the final NUL. */
typedef struct byte_buffer {
    unsigned char *data;
    size_t len, cap; /* cap counts the spare byte */
} byte_buffer;

#define HUGE_PAGE ((size_t)2 << 20)

/* A first buffer of `size` bytes. A large one is asked for in transparent huge pages where
 * the system offers them: a native model is read whole into it and then checksummed, and
 * in 4 KiB pages the page faults and TLB misses of doing so made loading the 80k model
 * (9 MB) take 30 ms of CPU instead of 3 ms on a virtual machine with costly faults. */
static unsigned char *allocate(size_t size)
{
#ifdef MADV_HUGEPAGE
    if (size >= HUGE_PAGE) {
        void *p;
        if (posix_memalign(&p, HUGE_PAGE, size) != 0)
            return NULL;
        (void)madvise(p, size - size % HUGE_PAGE, MADV_HUGEPAGE); /* advice: may be ignored */
        return p;
    }
#endif
    return malloc(size);
}

/* The most a buffer holds: the largest model, and one byte more to see that an input goes
 * past it. */
#define MAX_HELD (BP_MODEL_MAX_SIZE + 1)

/* Makes room for at least `want` more bytes besides the spare one: BP_ERR_TOO_LARGE past
 * MAX_HELD bytes. Grows by doubling, capped there, so that memory stays bounded too. */
static bp_status buffer_reserve(byte_buffer *b, size_t want)
{
    if (b->cap != 0 && b->cap - 1 - b->len >= want)
        return BP_OK;
    if (want > MAX_HELD - b->len)
        return BP_ERR_TOO_LARGE;
    size_t need = b->len + want + 1;
    if (!b->data) {
        size_t cap = need < MIN_CAPACITY ? MIN_CAPACITY : need;
        b->data = allocate(cap);
        b->cap = b->data ? cap : 0;
        return b->data ? BP_OK : BP_ERR_NOMEM;
    }
    size_t cap = b->cap < (MAX_HELD + 1) / 2 ? 2 * b->cap : MAX_HELD + 1;
    if (cap < need)
        cap = need;
    unsigned char *p = realloc(b->data, cap);
    if (!p)
        return BP_ERR_NOMEM;
    b->data = p;
    b->cap = cap;
    return BP_OK;
}

/* Room for the expected size plus one byte, so that reaching the expected end does not
 * look like a full buffer and cost a useless regrowth. */
static bp_status buffer_reserve_expected(byte_buffer *b, size_t expected)
{
    return buffer_reserve(b, expected < BP_MODEL_MAX_SIZE ? expected + 1 : MAX_HELD);
}

static bp_status fail_too_large(bp_error *err, const char *name, uint64_t offset)
{
    return bp_fail(err, BP_ERR_TOO_LARGE, offset,
                   "%s: more than %zu MiB, the largest model accepted (BP_MODEL_MAX_SIZE)",
                   name, BP_MODEL_MAX_SIZE >> 20);
}

static bp_status fail_buffer(bp_error *err, const char *name, bp_status st)
{
    if (st == BP_ERR_TOO_LARGE)
        return fail_too_large(err, name, MAX_HELD - 1);
    return bp_fail(err, st, UINT64_MAX, "%s: out of memory", name);
}

/* Checks the start of what was read so far, once enough of it has come (see
 * bp_model_check_start). */
static bp_status check_start(const byte_buffer *b, bool zstd_allowed, const char *name,
                             bool *decided, bp_error *err)
{
    return *decided ? BP_OK
                    : bp_model_check_start(b->data, b->len, zstd_allowed, name, decided, err);
}

/* Hands the buffer over as the result, NUL-terminated. */
static void buffer_finish(byte_buffer *b, unsigned char **data, size_t *len)
{
    b->data[b->len] = 0;
    *data = b->data;
    *len = b->len;
}

/* A first guess at the decompressed size: the first frame's declared size when it looks
 * plausible. Only a hint -- a corrupt header must not make us allocate terabytes up front. */
static size_t decompressed_size_hint(const unsigned char *in, size_t in_len)
{
    unsigned long long declared = ZSTD_getFrameContentSize(in, in_len);
    size_t hint = in_len < SIZE_MAX / 4 ? in_len * 4 : in_len;
    if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != ZSTD_CONTENTSIZE_ERROR &&
        declared / 1024 <= in_len && declared < SIZE_MAX)
        hint = (size_t)declared;
    return hint;
}

/* zstd's own default limit on a frame's window: 2^27 bytes (128 MiB), what `zstd --long`
 * uses. (The constant is in zstd.h's static-linking-only part, so it is repeated here.) */
#define DEFAULT_WINDOW_LOG 27

/* The largest window log a frame of this input may ask for. The decoder allocates the
 * window from the frame header before it reads any data, so a corrupt or hostile header
 * of a few bytes could otherwise claim 2 GiB (found by fuzz_model_load). Windows up to
 * 128 MiB are always accepted; larger ones (zstd --long=28 .. 31) when the input is large
 * enough to plausibly need them: the window over 1024, the ratio decompressed_size_hint()
 * trusts, must not exceed the input's size. */
static int window_log_max(uint64_t in_len)
{
    ZSTD_bounds bounds = ZSTD_dParam_getBounds(ZSTD_d_windowLogMax);
    int max = ZSTD_isError(bounds.error) ? DEFAULT_WINDOW_LOG : bounds.upperBound;
    int log = DEFAULT_WINDOW_LOG;
    while (log < max && log < 62 && ((uint64_t)1 << log) / 1024 < in_len)
        log++;
    return log;
}

void bp_zstd_limit_window(struct ZSTD_DCtx_s *dctx, uint64_t in_len)
{
    ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, window_log_max(in_len));
}

bp_status bp_zstd_fail(bp_error *err, size_t zstd_ret, const char *name, uint64_t offset,
                       uint64_t in_len)
{
    if (ZSTD_getErrorCode(zstd_ret) == ZSTD_error_frameParameter_windowTooLarge)
        return bp_fail(err, BP_ERR_TOO_LARGE, offset,
                       "%s: a zstd frame asks for a window larger than %d MiB, more than "
                       "%s can need (corrupt?); decompress it with zstd first",
                       name, 1 << (window_log_max(in_len) - 20),
                       in_len ? "this small a file" : "a stream of unknown size");
    return bp_fail(err, BP_ERR_IO, offset, "%s: corrupt zstd data: %s", name,
                   ZSTD_getErrorName(zstd_ret));
}

/* Decompresses all frames of in[0..in_len) into `out`. */
static bp_status zstd_decompress_all(ZSTD_DCtx *dctx, const unsigned char *in, size_t in_len,
                                     const char *name, byte_buffer *out, bp_error *err)
{
    bp_zstd_limit_window(dctx, in_len);

    bp_status st = buffer_reserve_expected(out, decompressed_size_hint(in, in_len));
    ZSTD_inBuffer src = {in, in_len, 0};
    size_t pending = 0; /* 0 exactly when the last frame read so far is complete */
    bool output_full = false, decided = false;
    while (st == BP_OK && (src.pos < src.size || output_full)) {
        ZSTD_outBuffer dst = {out->data, out->cap - 1, out->len};
        pending = ZSTD_decompressStream(dctx, &dst, &src);
        if (ZSTD_isError(pending))
            return bp_zstd_fail(err, pending, name, out->len, in_len);
        out->len = dst.pos;
        bp_status start = check_start(out, false, name, &decided, err);
        if (start != BP_OK)
            return start;
        /* A full output buffer may hide data the decoder still holds back. */
        output_full = dst.pos == dst.size;
        st = buffer_reserve(out, 1);
    }
    if (st != BP_OK)
        return fail_buffer(err, name, st);
    if (pending != 0)
        return bp_fail(err, BP_ERR_TRUNCATED, out->len,
                       "%s: zstd data ends inside a frame (the file is truncated)", name);
    return BP_OK;
}

/* Decompresses in[0..in_len), a zstd stream, into a new NUL-terminated buffer. */
static bp_status decompress(const unsigned char *in, size_t in_len, const char *name,
                            unsigned char **data, size_t *len, bp_error *err)
{
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    if (!dctx)
        return fail_buffer(err, name, BP_ERR_NOMEM);
    byte_buffer out = {NULL, 0, 0};
    bp_status st = zstd_decompress_all(dctx, in, in_len, name, &out, err);
    ZSTD_freeDCtx(dctx);
    if (st != BP_OK) {
        free(out.data);
        return st;
    }
    buffer_finish(&out, data, len);
    return BP_OK;
}

/* Reads everything from `fd` to end of file. `size_hint` (the file size when known)
 * avoids regrowing; the loop still runs to EOF, since files can change size and pipes or
 * devices have none. */
static bp_status read_all(int fd, size_t size_hint, const char *name, byte_buffer *b,
                          bp_error *err)
{
    if (size_hint > BP_MODEL_MAX_SIZE)
        return fail_too_large(err, name, UINT64_MAX);
    bp_status st = buffer_reserve_expected(b, size_hint);
    bool decided = false;
    while (st == BP_OK) {
        ssize_t got = read(fd, b->data + b->len, b->cap - 1 - b->len);
        if (got == 0)
            return BP_OK;
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return bp_fail_errno(err, BP_ERR_IO, errno, "%s", name);
        }
        b->len += (size_t)got;
        st = check_start(b, true, name, &decided, err);
        if (st != BP_OK)
            return st;
        st = buffer_reserve(b, 1);
    }
    return fail_buffer(err, name, st);
}

bp_status bp_open_for_reading(const char *path, int *fd_out, size_t *size_hint, bp_error *err)
{
    int fd;
    do
        fd = open(path, O_RDONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return bp_fail_errno(err, BP_ERR_IO, errno, "%s", path);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return bp_fail_errno(err, BP_ERR_IO, e, "%s", path);
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return bp_fail_errno(err, BP_ERR_IO, EISDIR, "%s", path);
    }
    if (size_hint)
        *size_hint = S_ISREG(st.st_mode) && st.st_size > 0 && (uintmax_t)st.st_size < SIZE_MAX
                     ? (size_t)st.st_size
                     : 0;
    *fd_out = fd;
    return BP_OK;
}

bp_status bp_read_file(const char *path, unsigned char **data, size_t *len, bp_error *err)
{
    if (!path || !data || !len)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "no file name or output given");
    *data = NULL;
    *len = 0;
    int fd = -1;
    size_t size_hint = 0;
    bp_status st = bp_open_for_reading(path, &fd, &size_hint, err);
    if (st != BP_OK)
        return st;
    byte_buffer raw = {NULL, 0, 0};
    st = read_all(fd, size_hint, path, &raw, err);
    close(fd);
    if (st == BP_OK && bp_is_zstd(raw.data, raw.len)) {
        st = decompress(raw.data, raw.len, path, data, len, err);
        free(raw.data);
    } else if (st == BP_OK) {
        buffer_finish(&raw, data, len);
    } else {
        free(raw.data);
    }
    return st;
}

bp_status bp_read_memory(const void *in, size_t in_len, const char *name, unsigned char **data,
                         size_t *len, bp_error *err)
{
    name = bp_source_name(name);
    if ((!in && in_len) || !data || !len)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "%s: no input or output given",
                       name);
    *data = NULL;
    *len = 0;
    if (in_len > BP_MODEL_MAX_SIZE)
        return fail_too_large(err, name, UINT64_MAX);
    bool decided = false;
    bp_status start = bp_model_check_start(in, in_len, true, name, &decided, err);
    if (start != BP_OK)
        return start;
    if (bp_is_zstd(in, in_len))
        return decompress(in, in_len, name, data, len, err);
    byte_buffer copy = {NULL, 0, 0};
    bp_status st = buffer_reserve(&copy, in_len);
    if (st != BP_OK)
        return fail_buffer(err, name, st);
    if (in_len)
        memcpy(copy.data, in, in_len);
    copy.len = in_len;
    buffer_finish(&copy, data, len);
    return BP_OK;
}
