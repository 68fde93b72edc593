/*
 * model_write.c -- bp_model_save(): a model in the reference BytePiece JSON format, byte
 * for byte what Python's json.dump(model, f, indent=4, ensure_ascii=False) writes for the
 * reference's {base64(piece): [id, piece.decode('utf-8', errors='ignore'), count]}
 * (docs/algorithms.md §3.6). A generic JSON printer cannot give that layout, so the few
 * rules are written out here: the indentation, the key as standard base64, the text field
 * with every byte outside a well-formed UTF-8 sequence dropped, and Python's string escapes
 * (short forms for \" \\ \n \r \t \b \f, \u00xx for the other controls, everything else
 * raw).
 *
 * The file appears atomically: it is written to a new file next to the destination and
 * renamed over it, and every failure removes that file again. The temporary file is made
 * with open(O_CREAT | O_EXCL, 0666) under a random name rather than with mkstemp(), whose
 * mode 0600 would have to be widened by reading the umask -- which a library cannot do
 * without changing it for every thread for a moment.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bp_internal.h"

#define WRITE_BUFFER_SIZE ((size_t)64 << 10) /* write() calls of 64 KB: few, and a small buffer */
#define TEMP_NAME_ATTEMPTS 100

/*------ Buffered output to a file descriptor ------*/

typedef struct writer {
    int fd;
    unsigned char *buf;
    size_t len;
    int errnum; /* errno of the first failed write, 0 while all is well */
} writer;

static void writer_flush(writer *w)
{
    size_t done = 0;
    while (w->errnum == 0 && done < w->len) {
        ssize_t n = write(w->fd, w->buf + done, w->len - done);
        if (n < 0 && errno != EINTR)
            w->errnum = errno;
        else if (n > 0)
            done += (size_t)n;
    }
    w->len = 0;
}

/* Makes room for `n` more bytes (n <= WRITE_BUFFER_SIZE) at w->buf + w->len. */
static unsigned char *writer_room(writer *w, size_t n)
{
    if (WRITE_BUFFER_SIZE - w->len < n)
        writer_flush(w);
    return w->buf + w->len;
}

static void put_bytes(writer *w, const void *s, size_t n)
{
    memcpy(writer_room(w, n), s, n);
    w->len += n;
}

static void put_str(writer *w, const char *s)
{
    put_bytes(w, s, strlen(s));
}

static void put_u64(writer *w, uint64_t v)
{
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
    put_bytes(w, digits, (size_t)n);
}

/*------ The JSON of one entry ------*/

/* Standard base64 with '=' padding, as Python's base64.b64encode. */
static void put_base64(writer *w, const unsigned char *s, size_t n)
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
        put_bytes(w, quad, 4);
    }
}

/* One well-formed character of the text field, escaped as Python's json module does
 * with ensure_ascii=False. */
static void put_json_char(writer *w, const unsigned char *s, size_t len)
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
        put_bytes(w, esc, sizeof esc);
    } else {
        put_bytes(w, s, len);
    }
}

/* The piece as bytes.decode('utf-8', errors='ignore'): a byte that does not start a
 * well-formed sequence is dropped, and decoding goes on at the next byte. (Python drops
 * a maximal ill-formed subpart at once, but its bytes after the first are continuation
 * bytes, which start nothing, so the result is the same.) */
static void put_text_field(writer *w, const unsigned char *s, size_t n)
{
    put_bytes(w, "\"", 1);
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
    put_bytes(w, "\"", 1);
}

/* `{`, then for each entry "\n    \"KEY\": [\n        ID,\n        \"TEXT\",\n
 * COUNT\n    ]" separated by ",", then "\n}" and no final newline. */
static void put_model(writer *w, const bp_model *m)
{
    put_bytes(w, "{", 1);
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

/*------ The temporary file and the rename ------*/

static bp_status fail_write(bp_error *err, const char *what, const char *path, int errnum)
{
    return bp_fail_errno(err, BP_ERR_WRITE, errnum, "cannot %s %s", what, path);
}

/* Different for every call, process and attempt; a clash only costs another attempt,
 * since the file is created with O_EXCL. */
static uint64_t temp_name_bits(unsigned attempt)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t local;
    uint64_t x = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
    x ^= (uint64_t)getpid() << 32 ^ (uint64_t)(uintptr_t)&local ^ attempt;
    /* splitmix64's finalizer, so that close inputs give unrelated names */
    x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
    return x ^ (x >> 31);
}

/* Creates "<path>.tmp.<16 hex digits>" for writing; its name goes to `tmp`. */
static bp_status create_temp(const char *path, char *tmp, size_t tmp_size, int *fd_out,
                             bp_error *err)
{
    for (unsigned attempt = 0; attempt < TEMP_NAME_ATTEMPTS; attempt++) {
        snprintf(tmp, tmp_size, "%s.tmp.%016llx", path,
                 (unsigned long long)temp_name_bits(attempt));
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            *fd_out = fd;
            return BP_OK;
        }
        if (errno != EEXIST && errno != EINTR)
            return fail_write(err, "create", path, errno);
    }
    return fail_write(err, "create", path, EEXIST);
}

/* Creates a temporary file next to `path`, writes through `w` to it (the bytes already in
 * w->buf, then what fill(w, ctx) puts, if fill is not NULL), closes it and renames it over
 * `path`. On any failure the temporary file is removed and `path` is left as it was. */
static bp_status write_atomically(const char *path, writer w,
                                  void (*fill)(writer *w, const void *ctx), const void *ctx,
                                  bp_error *err)
{
    size_t tmp_size = strlen(path) + sizeof ".tmp." + 16;
    char *tmp = malloc(tmp_size);
    if (!tmp)
        return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "%s: out of memory", path);
    bp_status st = create_temp(path, tmp, tmp_size, &w.fd, err);
    if (st == BP_OK) {
        if (fill)
            fill(&w, ctx);
        writer_flush(&w);
        /* close() reports what a file system defers (NFS, quotas), so it counts too. */
        if (close(w.fd) != 0 && w.errnum == 0)
            w.errnum = errno;
        st = w.errnum ? fail_write(err, "write", path, w.errnum) : BP_OK;
        if (st == BP_OK && rename(tmp, path) != 0)
            st = fail_write(err, "replace", path, errno);
        if (st != BP_OK)
            unlink(tmp);
    }
    free(tmp);
    return st;
}

static void fill_model(writer *w, const void *model) { put_model(w, model); }

bp_status bp_model_save(const bp_model *model, const char *path, bp_error *err)
{
    if (!model || !path || !*path)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "bp_model_save: no model or path");
    writer w = {.fd = -1, .buf = malloc(WRITE_BUFFER_SIZE), .len = 0, .errnum = 0};
    if (!w.buf)
        return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "%s: out of memory", path);
    bp_status st = write_atomically(path, w, fill_model, model, err);
    free(w.buf);
    return st;
}

bp_status bp_write_file_atomic(const char *path, const void *data, size_t len, bp_error *err)
{
    if (!path || !*path || (!data && len > 0))
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX,
                       "bp_write_file_atomic: no path or data");
    /* The caller's bytes are written in place, without a copy. */
    writer w = {.fd = -1, .buf = (unsigned char *)data, .len = len, .errnum = 0};
    return write_atomically(path, w, NULL, NULL, err);
}
