/*
 * file_write.c -- the one way the library writes a file: models in every format.
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

static void write_all(bp_writer *w, const unsigned char *s, size_t n)
{
    size_t done = 0;
    while (w->errnum == 0 && done < n) {
        ssize_t got = write(w->fd, s + done, n - done);
        if (got < 0 && errno != EINTR)
            w->errnum = errno;
        else if (got > 0)
            done += (size_t)got;
    }
}

static void writer_flush(bp_writer *w)
{
    write_all(w, w->buf, w->len);
    w->len = 0;
}

void bp_writer_put(bp_writer *w, const void *s, size_t n)
{
    if (w->cap - w->len < n)
        writer_flush(w);
    if (n > w->cap) { /* more than a buffer: straight from the caller's bytes */
        write_all(w, s, n);
        return;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
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

bp_status bp_write_file_from(const char *path, bp_write_fn fill, const void *ctx, bp_error *err)
{
    if (!path || !*path)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "bp_write_file: no path");
    size_t tmp_size = strlen(path) + sizeof ".tmp." + 16;
    char *tmp = malloc(tmp_size);
    bp_writer w = {.fd = -1, .buf = malloc(WRITE_BUFFER_SIZE), .cap = WRITE_BUFFER_SIZE};
    bp_status st = BP_OK;
    if (!tmp || !w.buf)
        st = bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "%s: out of memory", path);
    if (st == BP_OK)
        st = create_temp(path, tmp, tmp_size, &w.fd, err);
    if (st == BP_OK) {
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
    free(w.buf);
    free(tmp);
    return st;
}

typedef struct byte_span {
    const void *data;
    size_t len;
} byte_span;

static void put_span(bp_writer *w, const void *span)
{
    const byte_span *s = span;
    bp_writer_put(w, s->data, s->len);
}

bp_status bp_write_file(const char *path, const void *data, size_t len, bp_error *err)
{
    if (!data && len > 0)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "bp_write_file: no data");
    byte_span span = {data, len};
    return bp_write_file_from(path, put_span, &span, err);
}
