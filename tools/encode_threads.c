/*
 * encode_threads.c -- `bp encode --threads N`: lines (or JSONL documents) encoded on N
 * threads, in order.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bp_encode.h"

/* "Lines" here are the texts: lines, or JSONL documents. They are read in blocks of about
 * BLOCK_BYTES (a longer line makes a longer block); a block is cut into parts of about
 * PART_BYTES, which the threads take in turn, each encoding and formatting its part into
 * the part's own output buffer; the parts' outputs are then written in order. While the
 * threads work on one block, the main thread writes the output of the previous block and
 * reads the next one. Text k of the run is seeded with stream k, so the output is the
 * one-thread output, byte for byte. An input smaller than one block is encoded without
 * starting any thread. */
enum { BLOCK_BYTES = 1 << 20, PART_BYTES = 1 << 16 };

typedef struct part {
    size_t lo, hi;     /* lines lo .. hi-1 of the block */
    output out;        /* their formatted output (out.stream unused) */
    bp_status status;  /* BP_OK, or the failure at line fail_line */
    size_t fail_line;
    size_t good_len;   /* out.len before the failing line */
} part;

typedef struct block {
    unsigned char *text;
    size_t len, cap;
    size_t *line_end;  /* line i is text[i ? line_end[i - 1] : 0 .. line_end[i]) */
    size_t n_lines, lines_cap;
    uint64_t first_text;    /* index in the run of line 0 */
    uint64_t first_line_no; /* 1-based number of line 0 in its file (of its record: JSONL) */
    const char *src_name;
    bool records;           /* the lines are the documents of JSONL records */
    part *parts;
    size_t n_parts, parts_cap;
    size_t next_part;  /* the next part to take (under the pool's lock) */
    size_t parts_done;
} block;

typedef struct worker {
    pthread_t thread;
    struct pool *pl;
    unsigned index; /* of its slot */
} worker;

typedef struct pool {
    pthread_mutex_t lock;
    pthread_cond_t work, done;
    block *current;    /* the block being encoded, NULL when none */
    bool stop;
    encoder_slot *slots; /* one per thread; slot 0 is the main thread's */
    worker *workers;     /* one per thread; workers[0] stands for the main thread */
    unsigned n_threads, started;
} pool;

/* Encodes and formats part `p` of `b` with `slot`. */
static void run_part(encoder_slot *slot, block *b, size_t p)
{
    part *pt = &b->parts[p];
    pt->out.len = 0;
    pt->status = BP_OK;
    for (size_t i = pt->lo; i < pt->hi; i++) {
        size_t start = i ? b->line_end[i - 1] : 0, n_ids;
        bp_status status =
            encode_one(slot, b->first_text + i, b->text + start, b->line_end[i] - start, &n_ids);
        if (status != BP_OK) {
            pt->status = status;
            pt->fail_line = i;
            pt->good_len = pt->out.len;
            return;
        }
        write_tokens(&pt->out, slot, n_ids);
    }
}

/* Takes parts of the current block until none is left. */
static void work_on(pool *pl, block *b, encoder_slot *slot)
{
    for (;;) {
        pthread_mutex_lock(&pl->lock);
        size_t p = b->next_part < b->n_parts ? b->next_part++ : SIZE_MAX;
        pthread_mutex_unlock(&pl->lock);
        if (p == SIZE_MAX)
            return;
        run_part(slot, b, p);
        pthread_mutex_lock(&pl->lock);
        if (++b->parts_done == b->n_parts)
            pthread_cond_broadcast(&pl->done);
        pthread_mutex_unlock(&pl->lock);
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    pool *pl = w->pl;
    encoder_slot *slot = &pl->slots[w->index];
    pthread_mutex_lock(&pl->lock);
    for (;;) {
        while (!pl->stop && (pl->current == NULL || pl->current->next_part >= pl->current->n_parts))
            pthread_cond_wait(&pl->work, &pl->lock);
        if (pl->stop)
            break;
        block *b = pl->current;
        pthread_mutex_unlock(&pl->lock);
        work_on(pl, b, slot);
        pthread_mutex_lock(&pl->lock);
    }
    pthread_mutex_unlock(&pl->lock);
    return NULL;
}

/* Starts the threads besides the main one (once). @return false if none could start. */
static bool start_workers(pool *pl)
{
    if (pl->started)
        return true;
    for (unsigned i = 1; i < pl->n_threads; i++) {
        pl->workers[i] = (worker){.pl = pl, .index = i};
        if (pthread_create(&pl->workers[i].thread, NULL, worker_main, &pl->workers[i]) != 0)
            break;
        pl->started = i;
    }
    return pl->started > 0;
}

static void stop_workers(pool *pl)
{
    pthread_mutex_lock(&pl->lock);
    pl->stop = true;
    pthread_cond_broadcast(&pl->work);
    pthread_mutex_unlock(&pl->lock);
    for (unsigned i = 1; i <= pl->started; i++)
        pthread_join(pl->workers[i].thread, NULL);
}

/* Cuts the block into parts of about PART_BYTES of whole lines. */
static void cut_parts(block *b)
{
    b->n_parts = 0;
    for (size_t lo = 0; lo < b->n_lines;) {
        size_t start = lo ? b->line_end[lo - 1] : 0, hi = lo + 1;
        while (hi < b->n_lines && b->line_end[hi - 1] - start < PART_BYTES)
            hi++;
        if (b->n_parts == b->parts_cap) {
            size_t old = b->parts_cap;
            reserve_array(&b->parts, &b->parts_cap, old + 1, sizeof *b->parts);
            for (size_t i = old; i < b->parts_cap; i++)
                b->parts[i] = (part){.out = {.stream = NULL}};
        }
        b->parts[b->n_parts++].lo = lo;
        b->parts[b->n_parts - 1].hi = hi;
        lo = hi;
    }
    b->next_part = 0;
    b->parts_done = 0;
}

/* The reader of the FILE operands into blocks: their lines, or with --input-format jsonl
 * the documents of their records. */
typedef struct block_reader {
    char **paths;
    int n_paths, next_path;
    bool jsonl;
    const char *field;    /* --field (JSONL) */
    FILE *fp;             /* the current operand: lines */
    jsonl_reader *docs;   /* the current operand: JSONL */
    const char *name;
    uint64_t line_no;     /* texts of the current operand handed out so far */
    uint64_t text_index;
    bool failed;          /* a failure was reported: nothing more is read */
    unsigned char *carry; /* bytes read past the last complete line */
    size_t carry_len, carry_cap;
} block_reader;

/* Opens the next input. @return 0, -1 when there is none left, 1 after an error. */
static int open_next(block_reader *r)
{
    const char *path = operand_at(r->paths, r->n_paths, r->next_path);
    if (path == NULL)
        return -1;
    r->next_path++;
    r->line_no = 0;
    if (r->jsonl) {
        r->docs = jsonl_open(path, r->field);
        r->name = operand_name(path);
        return r->docs == NULL;
    }
    r->fp = open_operand(path, &r->name);
    if (r->fp == NULL) {
        text_source src = {.name = r->name, .line_no = 0};
        return report_read_error(&src, errno);
    }
    return 0;
}

static void close_current(block_reader *r)
{
    if (r->fp != NULL)
        close_operand(r->fp);
    jsonl_close(r->docs);
    r->fp = NULL;
    r->docs = NULL;
}

static void add_line(block *b, size_t end)
{
    reserve_array(&b->line_end, &b->lines_cap, b->n_lines + 1, sizeof *b->line_end);
    b->line_end[b->n_lines++] = end;
}

/* Fills `b` with the next lines of the current file: about BLOCK_BYTES, always whole
 * lines; closes the file at its end. @return 0, or 1 after a read error. */
static int read_lines_block(block_reader *r, block *b)
{
    reserve_array(&b->text, &b->cap, r->carry_len + READ_CHUNK, 1);
    if (r->carry_len > 0)
        memcpy(b->text, r->carry, r->carry_len);
    b->len = r->carry_len;
    r->carry_len = 0;
    size_t scanned = 0; /* b->text[0..scanned) holds no '\n' after the last line */
    bool eof = false;
    while (!eof && (b->n_lines == 0 || b->len < BLOCK_BYTES)) {
        for (unsigned char *nl; (nl = memchr(b->text + scanned, '\n', b->len - scanned));)
            add_line(b, scanned = (size_t)(nl - b->text) + 1);
        scanned = b->len;
        if (b->n_lines > 0 && b->len >= BLOCK_BYTES)
            break;
        reserve_array(&b->text, &b->cap, b->len + READ_CHUNK, 1);
        errno = 0;
        size_t got = fread(b->text + b->len, 1, b->cap - b->len, r->fp);
        b->len += got;
        if (ferror(r->fp)) {
            text_source src = {.name = r->name, .line_no = 0};
            return report_read_error(&src, errno);
        }
        eof = got == 0 && feof(r->fp);
    }
    size_t used = b->n_lines ? b->line_end[b->n_lines - 1] : 0;
    if (eof && used < b->len) /* a last line without '\n' */
        add_line(b, used = b->len);
    r->carry_len = b->len - used;
    if (r->carry_len > 0) {
        reserve_array(&r->carry, &r->carry_cap, r->carry_len, 1);
        memcpy(r->carry, b->text + used, r->carry_len);
    }
    b->len = used;
    if (eof)
        close_current(r);
    return 0;
}

/* Fills `b` with the next documents of the current JSONL file: about BLOCK_BYTES, always
 * whole documents; closes the file at its end. @return 0, or 1 after a bad record or a
 * read error (reported). */
static int read_documents_block(block_reader *r, block *b)
{
    while (b->len < BLOCK_BYTES) {
        const unsigned char *text;
        size_t len;
        text_source src;
        int got = jsonl_next(r->docs, &text, &len, &src);
        if (got < 0)
            return 1;
        if (got == 0) {
            close_current(r);
            return 0;
        }
        if (len > 0) {
            reserve_array(&b->text, &b->cap, b->len + len, 1);
            memcpy(b->text + b->len, text, len);
            b->len += len;
        }
        add_line(b, b->len);
    }
    return 0;
}

/* Fills `b` with the next texts of one file; b->n_lines == 0 at the end of all input, or
 * once a failure was reported (r->failed). The texts read before a failure stay in `b`,
 * to be encoded and written like any others: nothing read is lost. */
static void read_block(block_reader *r, block *b)
{
    b->len = b->n_lines = 0;
    while (!r->failed) {
        if (r->fp == NULL && r->docs == NULL) {
            int rc = open_next(r);
            r->failed = rc > 0;
            if (rc != 0)
                return;
        }
        b->first_text = r->text_index;
        b->first_line_no = r->line_no + 1;
        b->src_name = r->name;
        b->records = r->jsonl;
        r->failed = r->jsonl ? read_documents_block(r, b) : read_lines_block(r, b);
        r->line_no += b->n_lines;
        r->text_index += b->n_lines;
        if (b->n_lines > 0)
            return;
    }
}

/* Writes the outputs of a finished block in order. @return 0, or 1 after reporting the
 * first failure (the output of the lines before it is written). */
static int write_block(block *b, output *out)
{
    for (size_t p = 0; p < b->n_parts; p++) {
        part *pt = &b->parts[p];
        size_t len = pt->status == BP_OK ? pt->out.len : pt->good_len;
        if (len > 0) {
            output_reserve(out, len);
            memcpy(out->data + out->len, pt->out.data, len);
            out->len += len;
        }
        if (pt->status != BP_OK) {
            text_source src = {.name = b->src_name, .line_no = b->first_line_no + pt->fail_line,
                               .record = b->records};
            report_at(&src, "%s", bp_strerror(pt->status));
            return 1;
        }
    }
    return out->write_errno != 0;
}

/* Has the block encoded: by the workers while the main thread returns (started), or right
 * here by the main thread when the input is too small to be worth threads. */
static void start_block(pool *pl, block *b, bool use_threads)
{
    cut_parts(b);
    if (use_threads && start_workers(pl)) {
        pthread_mutex_lock(&pl->lock);
        pl->current = b;
        pthread_cond_broadcast(&pl->work);
        pthread_mutex_unlock(&pl->lock);
        return;
    }
    for (size_t p = 0; p < b->n_parts; p++)
        run_part(&pl->slots[0], b, p);
    b->parts_done = b->next_part = b->n_parts;
}

/* Waits until the block's parts are all done, helping with them meanwhile. */
static void finish_block(pool *pl, block *b)
{
    if (pl->started)
        work_on(pl, b, &pl->slots[0]);
    pthread_mutex_lock(&pl->lock);
    while (b->parts_done < b->n_parts)
        pthread_cond_wait(&pl->done, &pl->lock);
    if (pl->current == b)
        pl->current = NULL;
    pthread_mutex_unlock(&pl->lock);
}

static void free_block(block *b)
{
    for (size_t p = 0; p < b->parts_cap; p++)
        free(b->parts[p].out.data);
    free(b->parts);
    free(b->text);
    free(b->line_end);
}

int encode_parallel(const encode_args *args, const bp_model *model, uint64_t seed,
                    char **paths, int n_paths, unsigned n_threads, output *out)
{
    pool pl = {.n_threads = n_threads};
    pthread_mutex_init(&pl.lock, NULL);
    pthread_cond_init(&pl.work, NULL);
    pthread_cond_init(&pl.done, NULL);
    pl.slots = grow_or_die(NULL, n_threads, sizeof *pl.slots);
    pl.workers = grow_or_die(NULL, n_threads, sizeof *pl.workers);
    int rc = 0;
    unsigned ready = 0;
    for (; ready < n_threads && rc == 0; ready++)
        if (start_slot(&pl.slots[ready], args, model, seed) != BP_OK) {
            report("%s", bp_strerror(BP_ERR_NOMEM));
            rc = 1;
        }
    block blocks[2] = {{0}, {0}};
    block_reader reader = {.paths = paths, .n_paths = n_paths, .jsonl = args->fmt.jsonl_input,
                           .field = args->fmt.field};
    block *cur = &blocks[0], *next = &blocks[1], *busy = NULL;
    if (rc == 0)
        read_block(&reader, cur);
    if (rc == 0 && cur->n_lines > 0) {
        read_block(&reader, next);
        /* Threads only when there is more than one block's worth of input. */
        bool use_threads = next->n_lines > 0 || cur->len >= BLOCK_BYTES;
        start_block(&pl, cur, use_threads);
        busy = cur;
        for (;;) {
            finish_block(&pl, busy);
            busy = NULL;
            bool more = next->n_lines > 0;
            if (more) {
                start_block(&pl, next, use_threads);
                busy = next;
            }
            rc = write_block(cur, out);
            if (rc != 0 || !more)
                break;
            block *t = cur;
            cur = next;
            next = t;
            read_block(&reader, next);
        }
    }
    if (rc == 0)
        rc = reader.failed; /* after writing what was read before it */
    if (busy)
        finish_block(&pl, busy);
    if (pl.started)
        stop_workers(&pl);
    close_current(&reader);
    free(reader.carry);
    free_block(&blocks[0]);
    free_block(&blocks[1]);
    for (unsigned i = 0; i < ready; i++)
        end_slot(&pl.slots[i]);
    free(pl.slots);
    free(pl.workers);
    pthread_mutex_destroy(&pl.lock);
    pthread_cond_destroy(&pl.work);
    pthread_cond_destroy(&pl.done);
    return rc;
}
