/*
 * train_spool.c -- the spooled corpus and the passes over it on worker threads.
 *
 * Why a spool: training reads its corpus more than once (one pass per n-gram level, then
 * the segmentation pass). Texts arrive once, from files, stdin or a caller's reader; they
 * are normalized and chunked once, and the chunks are written to an unlinked temporary
 * file that every later pass reads back in blocks with pread. Memory therefore does not
 * grow with the corpus, and blocks are independent units of work for the threads.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parallel.h"
#include "train_internal.h"

#define SPOOL_BLOCK (512u << 10) /* bytes of records per block; a chunk is at most ~40 KB */
#define SPOOL_FIRST_BUFFER (16u << 10) /* the write buffer grows to SPOOL_BLOCK as needed, so
                                        * that a small corpus costs little memory */

/* Here, below both the passes and the trainer, which report too. */
void bp_train_report_progress(const bp_train_options *o, const char *stage, uint64_t done,
                              uint64_t total)
{
    if (o->progress) {
        bp_train_progress p = {stage, done, total};
        o->progress(o->progress_ctx, &p);
    }
}

/*------ Spool ------*/

bp_status bp_temp_open(const char *dir, int *fd, bp_error *err)
{
    if (!dir)
        dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    char path[4096];
    if (snprintf(path, sizeof path, "%s/bp-train-XXXXXX", dir) >= (int)sizeof path)
        return bp_fail(err, BP_ERR_IO, UINT64_MAX, "%s: temporary directory path too long", dir);
    *fd = mkstemp(path);
    if (*fd < 0)
        return bp_fail_errno(err, BP_ERR_IO, errno, "cannot create a temporary file in %s", dir);
    unlink(path); /* the file lives as long as the descriptor: nothing is ever left behind */
    return BP_OK;
}

bp_status bp_spool_open(bp_spool *sp, const char *dir, bp_error *err)
{
    *sp = (bp_spool){.fd = -1};
    bp_status st = bp_temp_open(dir, &sp->fd, err);
    if (st != BP_OK)
        return st;
    sp->wcap = SPOOL_FIRST_BUFFER;
    sp->wbuf = malloc(sp->wcap);
    sp->block_off = malloc(16 * sizeof *sp->block_off);
    if (!sp->wbuf || !sp->block_off)
        return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory");
    sp->blocks_cap = 16;
    sp->block_off[0] = 0;
    return BP_OK;
}

bp_status bp_spool_flush(bp_spool *sp, bp_error *err)
{
    if (sp->wlen == 0)
        return BP_OK;
    for (size_t done = 0; done < sp->wlen;) {
        ssize_t w = write(sp->fd, sp->wbuf + done, sp->wlen - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return bp_fail_errno(err, BP_ERR_IO, w < 0 ? errno : ENOSPC,
                                 "cannot write the temporary corpus file");
        done += (size_t)w;
    }
    uint64_t *b = bp_grow(sp->block_off, &sp->blocks_cap, sp->n_blocks + 2, sizeof *b);
    if (!b)
        return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory");
    sp->block_off = b;
    sp->size += sp->wlen;
    sp->block_off[++sp->n_blocks] = sp->size;
    if (sp->wlen > sp->max_block)
        sp->max_block = sp->wlen;
    sp->wlen = 0;
    return BP_OK;
}

bp_status bp_spool_append(bp_spool *sp, const unsigned char *chunk, size_t len, bp_error *err)
{
    if (len + 4 > SPOOL_BLOCK)
        return bp_fail(err, BP_ERR_TOO_LARGE, UINT64_MAX, "a chunk of %zu bytes", len);
    if (sp->wlen + 4 + len > SPOOL_BLOCK) {
        bp_status st = bp_spool_flush(sp, err);
        if (st != BP_OK)
            return st;
    }
    if (sp->wlen + 4 + len > sp->wcap) {
        size_t cap = sp->wcap;
        while (cap < sp->wlen + 4 + len)
            cap *= 2;
        if (cap > SPOOL_BLOCK)
            cap = SPOOL_BLOCK;
        unsigned char *w = realloc(sp->wbuf, cap);
        if (!w)
            return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory");
        sp->wbuf = w;
        sp->wcap = cap;
    }
    uint32_t n = (uint32_t)len;
    unsigned char *p = sp->wbuf + sp->wlen;
    p[0] = (unsigned char)n;
    p[1] = (unsigned char)(n >> 8);
    p[2] = (unsigned char)(n >> 16);
    p[3] = (unsigned char)(n >> 24);
    memcpy(p + 4, chunk, len);
    sp->wlen += 4 + len;
    sp->n_records++;
    return BP_OK;
}

uint64_t bp_spool_text_bytes(const bp_spool *sp)
{
    return sp->size - 4 * sp->n_records;
}

void bp_spool_close(bp_spool *sp)
{
    if (sp->fd >= 0)
        close(sp->fd);
    free(sp->wbuf);
    free(sp->block_off);
    *sp = (bp_spool){.fd = -1};
}

/* The work of one pass: blocks are claimed through a shared counter. */
typedef struct pass {
    const bp_spool *sp;
    bp_chunk_fn fn;
    void *ctx;
    const bp_train_options *opts;
    const char *stage;
    atomic_size_t next_block;
    atomic_uint_fast64_t bytes_done;
    atomic_int failed;
    bp_status status;        /* of the first failure, written once under `lock` */
    bp_error error;
    pthread_mutex_t lock;
} pass;

static void pass_fail(pass *p, bp_status st, const bp_error *e)
{
    pthread_mutex_lock(&p->lock);
    if (!atomic_load(&p->failed)) {
        p->status = st;
        p->error = *e;
        atomic_store(&p->failed, 1);
    }
    pthread_mutex_unlock(&p->lock);
}

/* Runs the records of one block; *text_bytes receives the bytes of their chunks. */
static bp_status run_block(pass *p, unsigned thread, const unsigned char *buf, size_t len,
                           uint64_t *text_bytes, bp_error *e)
{
    *text_bytes = 0;
    for (size_t pos = 0; pos + 4 <= len;) {
        size_t n = (size_t)buf[pos] | (size_t)buf[pos + 1] << 8 | (size_t)buf[pos + 2] << 16 |
                   (size_t)buf[pos + 3] << 24;
        if (pos + 4 + n > len)
            return bp_fail(e, BP_ERR_IO, UINT64_MAX, "the temporary corpus file is corrupt");
        bp_status st = p->fn(p->ctx, thread, buf + pos + 4, n);
        if (st != BP_OK)
            return bp_fail(e, st, UINT64_MAX, "%s: %s", p->stage, bp_strerror(st));
        *text_bytes += n;
        pos += 4 + n;
    }
    return BP_OK;
}

static void pass_worker(void *ctx, unsigned thread)
{
    pass *p = ctx;
    unsigned char *buf = malloc(p->sp->max_block ? p->sp->max_block : 1);
    bp_error e;
    if (!buf) {
        bp_fail(&e, BP_ERR_NOMEM, UINT64_MAX, "out of memory");
        pass_fail(p, BP_ERR_NOMEM, &e);
        return;
    }
    while (!atomic_load(&p->failed)) {
        size_t k = atomic_fetch_add(&p->next_block, 1);
        if (k >= p->sp->n_blocks)
            break;
        uint64_t off = p->sp->block_off[k];
        size_t len = (size_t)(p->sp->block_off[k + 1] - off), got = 0;
        while (got < len) {
            ssize_t r = pread(p->sp->fd, buf + got, len - got, (off_t)(off + got));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                bp_fail_errno(&e, BP_ERR_IO, r < 0 ? errno : EIO,
                              "cannot read the temporary corpus file");
                pass_fail(p, BP_ERR_IO, &e);
                free(buf);
                return;
            }
            got += (size_t)r;
        }
        uint64_t text_bytes;
        bp_status st = run_block(p, thread, buf, len, &text_bytes, &e);
        if (st != BP_OK) {
            pass_fail(p, st, &e);
            break;
        }
        uint64_t done = atomic_fetch_add(&p->bytes_done, text_bytes) + text_bytes;
        if (thread == 0) /* one reporter, so the callback never runs concurrently */
            bp_train_report_progress(p->opts, p->stage, done, bp_spool_text_bytes(p->sp));
    }
    free(buf);
}

bp_status bp_spool_for_each(const bp_spool *sp, unsigned threads, bp_chunk_fn fn, void *ctx,
                            const bp_train_options *o, const char *stage, bp_error *err)
{
    pass p = {.sp = sp, .fn = fn, .ctx = ctx, .opts = o, .stage = stage, .status = BP_OK};
    atomic_init(&p.next_block, 0);
    atomic_init(&p.bytes_done, 0);
    atomic_init(&p.failed, 0);
    pthread_mutex_init(&p.lock, NULL);
    /* A block is the unit of work: more threads than blocks would only be started to
     * find nothing to do (a small corpus is one block). */
    bp_parallel_for(bp_thread_count(threads, sp->n_blocks, 1), pass_worker, &p);
    pthread_mutex_destroy(&p.lock);
    if (p.status != BP_OK && err)
        *err = p.error;
    return p.status;
}
