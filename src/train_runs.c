/*
 * train_runs.c -- sorted runs, for training in bounded memory: a counting table that
 * reaches its share of the memory limit is written out sorted, in the count file encoding
 * (counts_file.c), to an unlinked temporary file, and cleared; the runs are merged back in
 * key order when the pass ends, so the sums are those of one table.
 *
 * The merge holds a reader per run (about 2.5 MB with its zstd window), so at most
 * BP_RUNS_FAN_IN runs are merged at once; more are first merged into larger runs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "counts_file.h"
#include "train_internal.h"

typedef struct run_job {
    const bp_runs *runs;
    bp_runs_fill_fn fill;
    void *ctx;
} run_job;

static void fill_run(bp_writer *w, const void *ctx)
{
    const run_job *job = ctx;
    bp_counts_info info = job->runs->info;
    bp_counts_writer cw;
    bp_counts_write_begin(&cw, w, &info);
    job->fill(job->ctx, &cw);
    info.bytes = cw.text_sum;
    bp_counts_write_end(&cw, &info);
}

/* Room for one more run in r->fds. */
static bp_status reserve_run(bp_runs *r, bp_error *err)
{
    if (r->n < r->cap)
        return BP_OK;
    size_t cap = r->cap ? 2 * r->cap : 8;
    int *fds = realloc(r->fds, cap * sizeof *fds);
    if (!fds)
        return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory");
    r->fds = fds;
    r->cap = cap;
    return BP_OK;
}

bp_status bp_runs_write(bp_runs *r, bp_runs_fill_fn fill, void *ctx, bp_error *err)
{
    if (reserve_run(r, err) != BP_OK)
        return BP_ERR_NOMEM;
    int fd, errnum = 0;
    bp_status st = bp_temp_open(r->dir, &fd, err);
    if (st != BP_OK)
        return st;
    run_job job = {r, fill, ctx};
    st = bp_write_fd_from(fd, fill_run, &job, &errnum);
    off_t size = st == BP_OK ? lseek(fd, 0, SEEK_END) : -1;
    if (st != BP_OK || size < 0) {
        close(fd);
        return st == BP_ERR_NOMEM ? bp_fail(err, st, UINT64_MAX, "out of memory")
                                  : bp_fail_errno(err, BP_ERR_IO, errnum,
                                                  "cannot write a temporary run file");
    }
    r->fds[r->n++] = fd;
    r->bytes += (uint64_t)size;
    r->written++;
    return BP_OK;
}

/* Merges runs fds[0..n) (which it closes; `name` names them) into `emit`. */
static bp_status merge_some(int *fds, size_t n, const char *name, bp_counts_entry_fn emit,
                            void *ctx, bp_error *err)
{
    bp_counts_reader *in = calloc(n, sizeof *in);
    bp_status st = in ? BP_OK : bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (st == BP_OK)
            st = bp_counts_open_fd(&in[i], fds[i], name ? name : "a temporary run file", err);
        else
            close(fds[i]);
        fds[i] = -1;
    }
    if (st == BP_OK)
        st = bp_counts_merge_each(in, n, emit, ctx, err);
    for (size_t i = 0; in && i < n; i++)
        bp_counts_close(&in[i]);
    free(in);
    return st;
}

/* Writes the merge of the runs it is given into a new run. */
typedef struct fold_job {
    int *fds;
    size_t n;
    bp_status st;
    bp_error err;
} fold_job;

static void fill_fold(void *ctx, bp_counts_writer *cw)
{
    fold_job *job = ctx;
    job->st = merge_some(job->fds, job->n, NULL, bp_counts_write_merged, cw, &job->err);
    if (job->st != BP_OK && cw->w->errnum == 0)
        cw->w->errnum = EIO;
}

/* Merges runs until at most `most` are left. */
static bp_status fold_to(bp_runs *r, size_t most, bp_error *err)
{
    while (r->n > most) {
        int fds[BP_RUNS_FAN_IN];
        memcpy(fds, r->fds, sizeof fds);
        r->n -= BP_RUNS_FAN_IN;
        memmove(r->fds, r->fds + BP_RUNS_FAN_IN, r->n * sizeof *r->fds);
        fold_job job = {fds, BP_RUNS_FAN_IN, BP_OK, {0}};
        bp_status st = bp_runs_write(r, fill_fold, &job, err);
        if (job.st != BP_OK) {
            if (err)
                *err = job.err;
            return job.st;
        }
        if (st != BP_OK)
            return st;
        r->written--; /* a merge of runs is not more spilling of a table */
    }
    return BP_OK;
}

bp_status bp_runs_scan(bp_runs *r, bp_counts_entry_fn emit, void *ctx, bp_error *err)
{
    bp_status st = fold_to(r, BP_RUNS_FAN_IN, err);
    int fds[BP_RUNS_FAN_IN];
    size_t n = 0;
    for (; st == BP_OK && n < r->n; n++)
        if ((fds[n] = dup(r->fds[n])) < 0)
            st = bp_fail_errno(err, BP_ERR_IO, errno, "cannot reopen a temporary run file");
    if (st != BP_OK) {
        while (n-- > 0)
            close(fds[n]);
        return st;
    }
    return merge_some(fds, n, r->name, emit, ctx, err);
}

bp_status bp_runs_merge(bp_runs *r, bp_counts_entry_fn emit, void *ctx, bp_error *err)
{
    bp_status st = bp_runs_scan(r, emit, ctx, err);
    for (size_t i = 0; i < r->n; i++)
        close(r->fds[i]);
    r->n = 0;
    return st;
}

bp_status bp_runs_add_file(bp_runs *r, const char *path, bp_error *err)
{
    int fd;
    size_t size_hint;
    bp_status st = reserve_run(r, err);
    if (st == BP_OK)
        st = bp_open_for_reading(path, &fd, &size_hint, err);
    if (st != BP_OK)
        return st;
    r->fds[r->n++] = fd;
    r->name = path;
    return BP_OK;
}

bp_status bp_runs_take(bp_runs *dst, bp_runs *src, bp_error *err)
{
    for (size_t i = 0; i < src->n; i++) {
        if (reserve_run(dst, err) != BP_OK)
            return BP_ERR_NOMEM;
        dst->fds[dst->n++] = src->fds[i];
    }
    dst->bytes += src->bytes;
    dst->written += src->written;
    src->n = 0;
    src->bytes = src->written = 0;
    return BP_OK;
}

void bp_runs_free(bp_runs *r)
{
    for (size_t i = 0; i < r->n; i++)
        close(r->fds[i]);
    free(r->fds);
    r->fds = NULL;
    r->n = r->cap = 0;
}
