/*
 * file_write.c -- the one way the library writes a file (models in every format). What
 * the path names decides how:
 *  - nothing yet, or a regular file: the bytes go to a new file beside it, renamed over it
 *    once complete, so that a reader never sees half a file and a failure leaves the old
 *    one as it was; every failure removes the new file again;
 *  - a symbolic link: the same for the file the chain of links ends at, which may not
 *    exist yet (a dangling link); the link stays a link;
 *  - a character device or a FIFO (/dev/null, /dev/stdout on a pipe or a terminal, a named
 *    pipe): the bytes are written straight into it. A rename would put a regular file in
 *    its place -- as root, over the system's /dev/null;
 *  - a directory or anything else is refused.
 * The temporary file is made with open(O_CREAT | O_EXCL, 0666) under a random name rather
 * than with mkstemp(), whose mode 0600 would have to be widened by reading the umask --
 * which a library cannot do without changing it for every thread for a moment. Where Linux
 * allows (O_TMPFILE, and /proc to name the file by), the file has no name at all until it
 * is complete, and is then linked under the temporary name and renamed: a process killed
 * while writing (a merge of large count files writes for minutes) leaves nothing behind.
 */
#define _GNU_SOURCE /* O_TMPFILE */

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
#define MAX_LINK_HOPS 40     /* as Linux's own limit before ELOOP */

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

/* The name of the unnamed file `fd` in /proc, written into proc[0..size). */
static void proc_name(char *proc, size_t size, int fd)
{
    snprintf(proc, size, "/proc/self/fd/%d", fd);
}

/* An unnamed file for writing in the directory of `target`, or -1 where there can be none
 * (no O_TMPFILE, a file system without it, no /proc to name it by later). */
static int open_unnamed(const char *target)
{
#ifdef O_TMPFILE
    const char *slash = strrchr(target, '/');
    char *dir = slash ? strndup(target, slash == target ? 1 : (size_t)(slash - target))
                      : strdup(".");
    int fd = dir ? open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666) : -1;
    free(dir);
    if (fd >= 0) {
        char proc[32];
        struct stat sb;
        proc_name(proc, sizeof proc, fd);
        if (lstat(proc, &sb) != 0) { /* no /proc: the file could never be named */
            close(fd);
            fd = -1;
        }
    }
    return fd;
#else
    (void)target;
    return -1;
#endif
}

/* Gives the file a name "<target>.tmp.<16 hex digits>", which goes to `tmp`: the unnamed
 * file `unnamed` is linked there, or, when it is -1, a new file is created there, open for
 * writing at *fd_out. Messages name `path`. */
static bp_status name_temp(const char *path, const char *target, int unnamed, char *tmp,
                           size_t tmp_size, int *fd_out, bp_error *err)
{
    char proc[32];
    if (unnamed >= 0)
        proc_name(proc, sizeof proc, unnamed);
    for (unsigned attempt = 0; attempt < TEMP_NAME_ATTEMPTS; attempt++) {
        snprintf(tmp, tmp_size, "%s.tmp.%016llx", target,
                 (unsigned long long)temp_name_bits(attempt));
        if (unnamed >= 0) {
            if (linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) == 0)
                return BP_OK;
        } else {
            int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
            if (fd >= 0) {
                *fd_out = fd;
                return BP_OK;
            }
        }
        if (errno != EEXIST && errno != EINTR)
            return fail_write(err, "create", path, errno);
    }
    return fail_write(err, "create", path, EEXIST);
}

/*------ Where the bytes go ------*/

/* The target of the link at `link`: its text, resolved against the link's directory when
 * relative. Malloc'd; NULL with errno set on failure. */
static char *read_link(const char *link)
{
    const char *slash = strrchr(link, '/');
    size_t dir_len = slash ? (size_t)(slash - link) + 1 : 0;
    for (size_t cap = 256;; cap *= 2) {
        char *buf = malloc(dir_len + cap);
        if (!buf)
            return NULL;
        ssize_t n = readlink(link, buf + dir_len, cap);
        if (n < 0) {
            free(buf);
            return NULL;
        }
        if ((size_t)n < cap) { /* else the text may have been cut: try a larger buffer */
            buf[dir_len + (size_t)n] = '\0';
            if (buf[dir_len] == '/')
                memmove(buf, buf + dir_len, (size_t)n + 1);
            else
                memcpy(buf, link, dir_len);
            return buf;
        }
        free(buf);
    }
}

/* The path the chain of symbolic links from `path` ends at (`path` itself when it is no
 * link); it need not exist. Malloc'd; NULL with errno set on failure. */
static char *follow_links(const char *path)
{
    char *at = strdup(path);
    for (unsigned hops = 0; at; hops++) {
        struct stat sb;
        if (lstat(at, &sb) != 0 || !S_ISLNK(sb.st_mode))
            return at; /* the end; a failure of lstat shows again, and is reported, at open */
        char *next = hops < MAX_LINK_HOPS ? read_link(at) : NULL;
        int errnum = hops < MAX_LINK_HOPS ? errno : ELOOP; /* before free() may change it */
        free(at);
        errno = errnum;
        at = next;
    }
    return NULL;
}

/* Where to write for `path`: *in_place says whether into `path` itself (a device or a
 * FIFO); otherwise *target (malloc'd) is the regular file, maybe not there yet, to replace. */
static bp_status find_target(const char *path, char **target, bool *in_place, bp_error *err)
{
    *target = NULL;
    *in_place = false;
    struct stat sb; /* what the path leads to, through any links */
    if (stat(path, &sb) != 0) {
        if (errno != ENOENT) /* ELOOP, EACCES, ENOTDIR, ... */
            return fail_write(err, "write", path, errno);
    } else if (S_ISCHR(sb.st_mode) || S_ISFIFO(sb.st_mode)) {
        *in_place = true;
        return BP_OK;
    } else if (S_ISDIR(sb.st_mode)) {
        return fail_write(err, "write", path, EISDIR);
    } else if (!S_ISREG(sb.st_mode)) {
        return bp_fail(err, BP_ERR_WRITE, UINT64_MAX,
                       "cannot write %s: it is not a regular file, a character device or a FIFO",
                       path);
    }
    *target = follow_links(path);
    if (!*target)
        return errno == ENOMEM ? bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "%s: out of memory", path)
                               : fail_write(err, "resolve the link", path, errno);
    return BP_OK;
}

/*------ Writing ------*/

/* Closes w->fd: close() reports what a file system defers (NFS, quotas), so it counts. */
static void close_output(bp_writer *w)
{
    if (close(w->fd) != 0 && w->errnum == 0)
        w->errnum = errno;
}

/* Fills `w` (open on w->fd) and closes it; the first failure is in w->errnum. */
static void fill_and_close(bp_writer *w, bp_write_fn fill, const void *ctx)
{
    fill(w, ctx);
    writer_flush(w);
    close_output(w);
}

/* Writes into a temporary file beside `target` (unnamed while it is written, where it can
 * be) and renames it over `target`; messages name `path`, what the caller asked for. */
static bp_status replace_file(const char *path, const char *target, bp_writer *w,
                              bp_write_fn fill, const void *ctx, bp_error *err)
{
    size_t tmp_size = strlen(target) + sizeof ".tmp." + 16;
    char *tmp = malloc(tmp_size);
    if (!tmp)
        return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "%s: out of memory", path);
    bp_status st = BP_OK;
    bool named = false;
    w->fd = open_unnamed(target);
    if (w->fd >= 0) {
        fill(w, ctx);
        writer_flush(w);
        if (w->errnum == 0)
            named = (st = name_temp(path, target, w->fd, tmp, tmp_size, NULL, err)) == BP_OK;
        close_output(w);
    } else if ((st = name_temp(path, target, -1, tmp, tmp_size, &w->fd, err)) == BP_OK) {
        named = true;
        fill_and_close(w, fill, ctx);
    }
    if (st == BP_OK && w->errnum)
        st = fail_write(err, "write", path, w->errnum);
    if (st == BP_OK && rename(tmp, target) != 0)
        st = fail_write(err, "replace", path, errno);
    if (st != BP_OK && named)
        unlink(tmp);
    free(tmp);
    return st;
}

/* Writes straight into the device or FIFO at `path`: nothing to rename, nothing to undo. */
static bp_status write_in_place(const char *path, bp_writer *w, bp_write_fn fill,
                                const void *ctx, bp_error *err)
{
    w->fd = open(path, O_WRONLY | O_CLOEXEC);
    if (w->fd < 0)
        return fail_write(err, "open", path, errno);
    fill_and_close(w, fill, ctx);
    return w->errnum ? fail_write(err, "write", path, w->errnum) : BP_OK;
}

bp_status bp_write_file_from(const char *path, bp_write_fn fill, const void *ctx, bp_error *err)
{
    if (!path || !*path)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "bp_write_file: no path");
    char *target;
    bool in_place;
    bp_status st = find_target(path, &target, &in_place, err);
    if (st != BP_OK)
        return st;
    bp_writer w = {.fd = -1, .buf = malloc(WRITE_BUFFER_SIZE), .cap = WRITE_BUFFER_SIZE};
    if (!w.buf)
        st = bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "%s: out of memory", path);
    else if (in_place)
        st = write_in_place(path, &w, fill, ctx, err);
    else
        st = replace_file(path, target, &w, fill, ctx, err);
    free(w.buf);
    free(target);
    return st;
}

bp_status bp_write_fd_from(int fd, bp_write_fn fill, const void *ctx, int *errnum)
{
    bp_writer w = {.fd = fd, .buf = malloc(WRITE_BUFFER_SIZE), .cap = WRITE_BUFFER_SIZE};
    if (!w.buf)
        return BP_ERR_NOMEM;
    fill(&w, ctx);
    writer_flush(&w);
    free(w.buf);
    *errnum = w.errnum;
    return w.errnum ? BP_ERR_WRITE : BP_OK;
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
