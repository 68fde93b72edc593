/*
 * test_alloc_fail.c -- every public call survives a failed allocation: it returns
 * BP_ERR_NOMEM (with *out == NULL where it has an output), leaks nothing and does not
 * crash, and the objects it was given stay usable.
 *
 * Calls: loading (JSON, zstd and native; memory and files), bp_model_from_pieces,
 * bp_encoder_create, bp_encode (NFC on and off, sampling, offsets; fresh and warm encoders),
 * batch jobs (fresh and warm, on threads, with offsets), bp_decode, bp_model_save and bp_model_save_native, reading corpora (plain, zstd, JSONL),
 * and the trainer (create, feed, train).
 *
 * How: the test is linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc and
 * --wrap=posix_memalign (large file buffers, src/file_read.c), so every call to these from the objects of the static library (and of this file) goes through
 * the counters below, and cJSON's through its allocation hooks; allocations inside the
 * other shared libraries (libc, zstd, cmocka) are not touched. For each call under test and for every N from 1 until the call no
 * longer reaches an N-th allocation, the N-th allocation made while the call runs fails,
 * in two modes: only that one ("single"), and that one and all after it ("persistent",
 * memory that stays exhausted). The call must then return BP_ERR_NOMEM, or BP_OK with a
 * correct result where it can do without that allocation. Leaks are caught by LeakSanitizer in the sanitizer run of
 * tools/test.sh.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dirent.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <zstd.h>

#include "bytepiece.h"
#include "test_util.h"

/*====== The allocator hook ======*/

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
int __real_posix_memalign(void **p, size_t alignment, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
int __wrap_posix_memalign(void **p, size_t alignment, size_t size);

static atomic_bool armed;          /* count (and fail) only while the call under test runs */
static atomic_size_t n_allocs;     /* allocations seen while armed */
static size_t fail_at;             /* the allocation that fails (1-based), 0: none */
static bool persistent;            /* fail every allocation from fail_at on */
static atomic_size_t n_failed;     /* allocations made to fail */

static bool should_fail(void)
{
    if (!atomic_load(&armed))
        return false;
    size_t k = atomic_fetch_add(&n_allocs, 1) + 1;
    bool fail = fail_at != 0 && (k == fail_at || (persistent && k > fail_at));
    if (fail)
        atomic_fetch_add(&n_failed, 1);
    return fail;
}

void *__wrap_malloc(size_t size) { return should_fail() ? NULL : __real_malloc(size); }
void *__wrap_calloc(size_t n, size_t size) { return should_fail() ? NULL : __real_calloc(n, size); }
void *__wrap_realloc(void *p, size_t size)
{
    return should_fail() ? NULL : __real_realloc(p, size);
}
int __wrap_posix_memalign(void **p, size_t alignment, size_t size)
{
    return should_fail() ? ENOMEM : __real_posix_memalign(p, alignment, size);
}

static void arm(size_t n, bool all_after)
{
    fail_at = n;
    persistent = all_after;
    atomic_store(&n_allocs, 0);
    atomic_store(&n_failed, 0);
    atomic_store(&armed, true);
}

static void disarm(void) { atomic_store(&armed, false); }

/* Runs `call` with its allocations counted, the n-th one (and, if all_after, the later
 * ones) failing; n == 0 fails none. */
#define UNDER_TEST(n, all_after, call)                                                        \
    (arm((n), (all_after)), call_result = (call), disarm(), call_result)
static bp_status call_result;

/*====== The driver ======*/

/* One call under test. `run` sets up what it needs (not counted), makes the call inside
 * UNDER_TEST(n, all_after, ...), checks what a failure must leave (outputs NULL, inputs
 * usable) or that a success is correct, cleans up, and returns the call's status. */
typedef bp_status (*op_fn)(void *ctx, size_t n, bool all_after);

/* Fails each allocation of `op` in turn. Returns how many allocations the call makes. */
static size_t fail_each_allocation(const char *name, op_fn op, void *ctx)
{
    /* Without failures: the call succeeds; count its allocations. */
    assert_int_equal(op(ctx, 0, false), BP_OK);
    size_t total = atomic_load(&n_allocs);
    for (int mode = 0; mode < 2; mode++) {
        for (size_t n = 1;; n++) {
            bp_status st = op(ctx, n, mode == 1);
            if (atomic_load(&n_failed) == 0) {
                /* The call made fewer than n allocations: it ran to the end. */
                if (st != BP_OK)
                    fail_msg("%s: status %d without a failed allocation", name, (int)st);
                break;
            }
            /* BP_OK is right when the library can do without that allocation (giving back
             * unused memory with a shrinking realloc, say): `op` has checked the result. */
            if (st != BP_ERR_NOMEM && st != BP_OK)
                fail_msg("%s: allocation %zu (%s) failed, but the call returned %d (%s)", name,
                         n, mode ? "and all after it" : "only", (int)st, bp_strerror(st));
            if (n > 100000)
                fail_msg("%s: more than 100000 allocations", name);
        }
    }
    return total;
}

/*====== Fixtures ======*/

static const char *const WORDS[] = {"th", "the", "he", " the", "in", "ing", "\n\n", "é",
                                    "中文", "文", "\xff\xfe", "ab\xc3", "e\xcc\x81", "aaaa"};
static const uint64_t WORD_COUNTS[] = {90, 80, 70, 60, 50, 40, 30, 20, 10, 9, 8, 7, 6, 5};
#define N_WORDS (sizeof WORDS / sizeof WORDS[0])

/* Text that takes every path of encode: ASCII, CJK, NFD sequences NFC composes, Hangul
 * jamo, invalid UTF-8, newline runs (several chunks), and one long chunk. */
static unsigned char *sample_text(size_t *len)
{
    static const char head[] = "the thing in the \xe4\xb8\xad\xe6\x96\x87 e\xcc\x81t\xc3\xa9 "
                               "A\xcc\x8a \xe1\x84\x80\xe1\x85\xa1\xe1\x86\xa8 \xff\xfe\xc3(\n\n\n"
                               "ab\xc3 \r\n\xed\xa0\x80 aaaaaaa\n";
    size_t n = sizeof head - 1, total = n + 5000;
    unsigned char *t = malloc(total);
    assert_non_null(t);
    memcpy(t, head, n);
    for (size_t i = n; i < total; i++) /* a long last chunk, with NFD marks here and there */
        t[i] = i % 97 == 0 ? 'e' : i % 97 == 1 ? 0xCC : i % 97 == 2 ? 0x81 : "the ing"[i % 7];
    *len = total;
    return t;
}

typedef struct fixture {
    bp_model *model;
    char *json;
    size_t json_len;
    void *zst;
    size_t zst_len;
    char dir[32], json_path[64], zst_path[64];
    unsigned char *text;
    size_t text_len;
} fixture;

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void free_hook(void *p) { free(p); }

static int setup(void **state)
{
    /* cJSON allocates inside its shared library, out of the linker's reach; its hooks (a
     * process-wide setting this test may change, the library never does) route its
     * allocations through the counter too. */
    cJSON_InitHooks(&(cJSON_Hooks){__wrap_malloc, free_hook});
    fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->model = bp_test_small_model(WORDS, WORD_COUNTS, N_WORDS);
    fx->json = bp_test_model_json(fx->model, &fx->json_len);
    size_t zcap = ZSTD_compressBound(fx->json_len);
    fx->zst = malloc(zcap);
    assert_non_null(fx->zst);
    fx->zst_len = ZSTD_compress(fx->zst, zcap, fx->json, fx->json_len, 3);
    assert_false(ZSTD_isError(fx->zst_len));
    strcpy(fx->dir, "/tmp/bp_allocfail_XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->json_path, sizeof fx->json_path, "%s/m.json", fx->dir);
    snprintf(fx->zst_path, sizeof fx->zst_path, "%s/m.json.zst", fx->dir);
    write_file(fx->json_path, fx->json, fx->json_len);
    write_file(fx->zst_path, fx->zst, fx->zst_len);
    fx->text = sample_text(&fx->text_len);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    unlink(fx->json_path);
    unlink(fx->zst_path);
    rmdir(fx->dir);
    bp_model_free(fx->model);
    free(fx->json);
    free(fx->zst);
    free(fx->text);
    free(fx);
    cJSON_InitHooks(NULL);
    return 0;
}

/*====== Model loading ======*/

typedef struct load_ctx {
    const fixture *fx;
    const void *data; /* from memory, or ... */
    size_t size;
    const char *path; /* ... from a file */
} load_ctx;

static bp_status op_load(void *vctx, size_t n, bool all_after)
{
    load_ctx *c = vctx;
    bp_model *m = (bp_model *)&m; /* must be overwritten */
    bp_error err;
    memset(&err, 0, sizeof err);
    bp_status st = c->path ? UNDER_TEST(n, all_after, bp_model_load(c->path, &m, &err))
                           : UNDER_TEST(n, all_after,
                                        bp_model_load_memory(c->data, c->size, "mem", &m, &err));
    if (st == BP_OK) {
        bp_test_assert_same_model(m, c->fx->model);
        bp_model_free(m);
    } else {
        assert_null(m);
        assert_int_equal(err.code, st);
        assert_true(err.message[0] != 0);
    }
    return st;
}

static void test_model_load_memory(void **state)
{
    const fixture *fx = *state;
    load_ctx plain = {fx, fx->json, fx->json_len, NULL};
    load_ctx zst = {fx, fx->zst, fx->zst_len, NULL};
    size_t a = fail_each_allocation("bp_model_load_memory (JSON)", op_load, &plain);
    size_t b = fail_each_allocation("bp_model_load_memory (zstd)", op_load, &zst);
    print_message("bp_model_load_memory: %zu allocations (JSON), %zu (zstd), each failed\n", a, b);
}

static void test_model_load_file(void **state)
{
    const fixture *fx = *state;
    load_ctx plain = {fx, NULL, 0, fx->json_path};
    load_ctx zst = {fx, NULL, 0, fx->zst_path};
    size_t a = fail_each_allocation("bp_model_load (JSON)", op_load, &plain);
    size_t b = fail_each_allocation("bp_model_load (zstd)", op_load, &zst);
    print_message("bp_model_load: %zu allocations (JSON), %zu (zstd), each failed\n", a, b);
}

/* The native format: a file and the same bytes from memory. */
static void test_model_load_native(void **state)
{
    const fixture *fx = *state;
    char path[96];
    snprintf(path, sizeof path, "%s/m.bpm", fx->dir);
    bp_error err;
    assert_int_equal(bp_model_save_native(fx->model, path, &err), BP_OK);
    size_t len;
    unsigned char *bytes = bp_test_read_file(path, &len);
    assert_non_null(bytes);
    load_ctx file = {fx, NULL, 0, path};
    load_ctx mem = {fx, bytes, len, NULL};
    size_t a = fail_each_allocation("bp_model_load (native)", op_load, &file);
    size_t b = fail_each_allocation("bp_model_load_memory (native)", op_load, &mem);
    print_message("native model: %zu allocations (file), %zu (memory), each failed\n", a, b);
    free(bytes);
    unlink(path);
}

/* A model file of more than 2 MiB (the JSON model and trailing whitespace) is read into a
 * buffer in huge pages, allocated by posix_memalign (src/file_read.c). */
static void test_model_load_large_file(void **state)
{
    const fixture *fx = *state;
    char path[96];
    snprintf(path, sizeof path, "%s/large.json", fx->dir);
    size_t len = fx->json_len + ((size_t)3 << 20);
    char *text = malloc(len);
    assert_non_null(text);
    memcpy(text, fx->json, fx->json_len);
    memset(text + fx->json_len, ' ', len - fx->json_len);
    write_file(path, text, len);
    free(text);
    load_ctx file = {fx, NULL, 0, path};
    size_t n = fail_each_allocation("bp_model_load (3 MiB file)", op_load, &file);
    print_message("3 MiB model file: %zu allocations, each failed\n", n);
    unlink(path);
}

typedef struct pieces_ctx {
    const fixture *fx;
    bp_piece *pieces;
    size_t n;
} pieces_ctx;

static bp_status op_from_pieces(void *vctx, size_t n, bool all_after)
{
    pieces_ctx *c = vctx;
    bp_model *m = (bp_model *)&m;
    bp_error err;
    bp_status st = UNDER_TEST(n, all_after, bp_model_from_pieces(c->pieces, c->n, &m, &err));
    if (st == BP_OK) {
        bp_test_assert_same_model(m, c->fx->model);
        bp_model_free(m);
    } else {
        assert_null(m);
    }
    return st;
}

static void test_model_from_pieces(void **state)
{
    const fixture *fx = *state;
    pieces_ctx c = {fx, NULL, bp_model_vocab_size(fx->model) - 3};
    c.pieces = calloc(c.n, sizeof *c.pieces);
    assert_non_null(c.pieces);
    for (uint32_t i = 0; i < c.n; i++) {
        c.pieces[i].bytes = bp_model_piece(fx->model, i + 3, &c.pieces[i].len);
        c.pieces[i].count = bp_model_piece_count(fx->model, i + 3);
    }
    size_t a = fail_each_allocation("bp_model_from_pieces", op_from_pieces, &c);
    print_message("bp_model_from_pieces: %zu allocations, each failed\n", a);
    free(c.pieces);
}

/*====== Encoding and decoding ======*/

static bp_status op_encoder_create(void *vctx, size_t n, bool all_after)
{
    const fixture *fx = vctx;
    bp_encoder *enc = (bp_encoder *)&enc;
    bp_status st = UNDER_TEST(n, all_after, bp_encoder_create(fx->model, &enc, NULL));
    if (st != BP_OK)
        assert_null(enc);
    bp_encoder_free(st == BP_OK ? enc : NULL);
    return st;
}

static void test_encoder_create(void **state)
{
    fail_each_allocation("bp_encoder_create", op_encoder_create, *state);
}

typedef struct encode_ctx {
    const fixture *fx;
    unsigned flags;
    double alpha;
    bool offsets;
    bool reuse;           /* one encoder across calls (warm) instead of a new one per call */
    bp_encoder *warm;
    uint32_t *expect;     /* the ids without failures */
    size_t expect_n;
} encode_ctx;

static bp_status encode_once(encode_ctx *c, bp_encoder *enc, size_t n, bool all_after,
                             uint32_t *ids, size_t *offs, size_t *n_ids)
{
    bp_rng rng;
    bp_rng_seed(&rng, 42, 7);
    bp_encode_options o = bp_test_options(c->alpha, c->flags, &rng);
    size_t cap = bp_encode_bound(c->fx->text_len);
    return UNDER_TEST(n, all_after,
                      bp_encode(enc, c->fx->text, c->fx->text_len, &o, ids, offs, cap, n_ids, NULL));
}

static bp_status op_encode(void *vctx, size_t n, bool all_after)
{
    encode_ctx *c = vctx;
    size_t cap = bp_encode_bound(c->fx->text_len), n_ids = 0;
    uint32_t *ids = malloc(cap * sizeof *ids);
    size_t *offs = c->offsets ? malloc(cap * sizeof *offs) : NULL;
    assert_non_null(ids);
    bp_encoder *enc = c->warm;
    if (!c->reuse)
        assert_int_equal(bp_encoder_create(c->fx->model, &enc, NULL), BP_OK);
    bp_status st = encode_once(c, enc, n, all_after, ids, offs, &n_ids);
    if (st == BP_OK && c->expect) {
        assert_int_equal(n_ids, c->expect_n);
        assert_memory_equal(ids, c->expect, n_ids * sizeof *ids);
    }
    if (st != BP_OK) {
        /* The encoder stays usable: the same call without failures gives the right ids. */
        size_t allocs = atomic_load(&n_allocs), failed = atomic_load(&n_failed);
        assert_int_equal(encode_once(c, enc, 0, false, ids, offs, &n_ids), BP_OK);
        assert_int_equal(n_ids, c->expect_n);
        assert_memory_equal(ids, c->expect, n_ids * sizeof *ids);
        atomic_store(&n_allocs, allocs); /* what the driver reads is the first call's */
        atomic_store(&n_failed, failed);
    }
    if (!c->reuse)
        bp_encoder_free(enc);
    free(ids);
    free(offs);
    return st;
}

static void check_encode(const fixture *fx, const char *name, unsigned flags, double alpha,
                         bool offsets)
{
    encode_ctx c = {fx, flags, alpha, offsets, false, NULL, NULL, 0};
    /* The expected ids, from a run without failures. */
    size_t cap = bp_encode_bound(fx->text_len);
    c.expect = malloc(cap * sizeof *c.expect);
    assert_non_null(c.expect);
    bp_encoder *enc;
    assert_int_equal(bp_encoder_create(fx->model, &enc, NULL), BP_OK);
    assert_int_equal(encode_once(&c, enc, 0, false, c.expect, NULL, &c.expect_n), BP_OK);
    bp_encoder_free(enc);
    assert_true(c.expect_n > 100);

    size_t a = fail_each_allocation(name, op_encode, &c);
    /* Warm encoder: a first call on a short text, then the long one must grow buffers. */
    assert_int_equal(bp_encoder_create(fx->model, &c.warm, NULL), BP_OK);
    uint32_t few[16];
    size_t n_few;
    bp_encode_options o = {-1.0, flags, NULL};
    assert_int_equal(bp_encode(c.warm, "ab\n", 3, &o, few, NULL, 16, &n_few, NULL), BP_OK);
    c.reuse = true;
    fail_each_allocation(name, op_encode, &c);
    bp_encoder_free(c.warm);
    free(c.expect);
    print_message("%s: %zu allocations, each failed\n", name, a);
}

static void test_encode(void **state)
{
    const fixture *fx = *state;
    check_encode(fx, "bp_encode (NFC)", 0, -1.0, false);
    check_encode(fx, "bp_encode (no normalization)", BP_ENCODE_NO_NORMALIZE, -1.0, false);
    check_encode(fx, "bp_encode (NFC, offsets, BOS, EOS)", BP_ENCODE_BOS | BP_ENCODE_EOS, -1.0,
                 true);
    check_encode(fx, "bp_encode (sampling, NFC)", 0, 0.1, false);
    check_encode(fx, "bp_encode (sampling, no normalization)", BP_ENCODE_NO_NORMALIZE, 1.0, true);
}

/* Batch encoding on two threads of the library, with offsets: the text of the fixture
 * over and over, enough for both threads to take parts. A fresh job (created, used and
 * freed under test), and a warm one (its scratch grown by an earlier batch) that stays
 * usable after a failure. */
typedef struct batch_ctx {
    const fixture *fx;
    const void **texts;
    size_t *lens;
    size_t n;
    bp_batch_job *warm; /* NULL: a fresh job per call */
    bp_batch expect;
} batch_ctx;

static bp_status start_and_finish(bp_batch_job *job, const batch_ctx *c, bp_batch *out)
{
    bp_batch_options o = {-1.0, BP_ENCODE_OFFSETS, 0, 0, 2};
    bp_error err;
    bp_status st = bp_encode_batch_start(job, c->texts, c->lens, c->n, &o, &err);
    if (st != BP_OK)
        return st;
    st = bp_encode_batch_finish(job, out, &err);
    if (st != BP_OK)
        assert_true(err.offset < c->n);
    return st;
}

static bp_status create_and_encode(const batch_ctx *c, bp_batch *out)
{
    bp_batch_job *job;
    bp_status st = bp_batch_job_create(c->fx->model, &job, NULL);
    if (st != BP_OK) {
        assert_null(job);
        return st;
    }
    st = start_and_finish(job, c, out);
    bp_batch_job_free(job);
    return st;
}

static bp_status op_batch(void *vctx, size_t n, bool all_after)
{
    batch_ctx *c = vctx;
    bp_batch b = {0};
    bp_status st = c->warm ? UNDER_TEST(n, all_after, start_and_finish(c->warm, c, &b))
                           : UNDER_TEST(n, all_after, create_and_encode(c, &b));
    if (st == BP_OK) {
        size_t n_ids = c->expect.ids_begin[c->n];
        assert_memory_equal(b.ids_begin, c->expect.ids_begin, (c->n + 1) * sizeof *b.ids_begin);
        assert_memory_equal(b.ids, c->expect.ids, n_ids * sizeof *b.ids);
        assert_memory_equal(b.offsets, c->expect.offsets, n_ids * sizeof *b.offsets);
    } else {
        assert_null(b.ids);
        assert_null(b.ids_begin);
        assert_null(b.offsets);
    }
    bp_batch_free(&b);
    return st;
}

static void test_batch(void **state)
{
    const fixture *fx = *state;
    batch_ctx c = {.fx = fx, .n = (520u << 10) / fx->text_len + 1};
    c.texts = malloc(c.n * sizeof *c.texts);
    c.lens = malloc(c.n * sizeof *c.lens);
    assert_non_null(c.texts);
    assert_non_null(c.lens);
    for (size_t i = 0; i < c.n; i++) {
        c.texts[i] = fx->text;
        c.lens[i] = fx->text_len;
    }
    assert_int_equal(create_and_encode(&c, &c.expect), BP_OK);
    size_t fresh = fail_each_allocation("batch job (fresh)", op_batch, &c);
    assert_int_equal(bp_batch_job_create(fx->model, &c.warm, NULL), BP_OK);
    bp_batch first;
    assert_int_equal(start_and_finish(c.warm, &c, &first), BP_OK);
    bp_batch_free(&first);
    size_t warm = fail_each_allocation("batch job (warm)", op_batch, &c);
    print_message("batch job: %zu allocations (fresh), %zu (warm), each failed\n", fresh, warm);
    bp_batch_job_free(c.warm);
    bp_batch_free(&c.expect);
    free(c.texts);
    free(c.lens);
}

/* bp_decode allocates nothing: it works with allocations failing. */
static void test_decode(void **state)
{
    const fixture *fx = *state;
    uint32_t ids[] = {1, 3 + 'a', 259, 260, 2, 0, 261};
    unsigned char out[64];
    size_t len;
    bp_error err;
    assert_int_equal(UNDER_TEST(1, true, bp_decode(fx->model, ids, 7, out, sizeof out, &len, &err)),
                     BP_OK);
    assert_int_equal(atomic_load(&n_allocs), 0);
}

/*====== Saving, reading corpora, training ======*/

/* Whether `dir` holds no entry but `keep` (may be NULL). */
static bool dir_holds_only(const char *dir, const char *keep)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    bool only = true;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (!keep || strcmp(e->d_name, keep) != 0)
            only = false;
    }
    closedir(d);
    return only;
}

typedef struct save_ctx {
    const fixture *fx;
    char dir[64], path[96];
    bool native;
} save_ctx;

static bp_status op_save(void *vctx, size_t n, bool all_after)
{
    save_ctx *c = vctx;
    bp_error err;
    bp_status st = c->native
                       ? UNDER_TEST(n, all_after, bp_model_save_native(c->fx->model, c->path, &err))
                       : UNDER_TEST(n, all_after, bp_model_save(c->fx->model, c->path, &err));
    if (st == BP_OK) {
        bp_model *back = NULL;
        assert_int_equal(bp_model_load(c->path, &back, &err), BP_OK);
        bp_test_assert_same_model(back, c->fx->model);
        bp_model_free(back);
        assert_true(dir_holds_only(c->dir, "saved.model"));
        unlink(c->path);
    } else {
        /* Nothing is left behind: no model, no temporary file. */
        assert_true(dir_holds_only(c->dir, NULL));
    }
    return st;
}

static void test_model_save(void **state)
{
    save_ctx c = {*state, "", "", false};
    snprintf(c.dir, sizeof c.dir, "%s/save", c.fx->dir);
    assert_int_equal(mkdir(c.dir, 0777), 0);
    snprintf(c.path, sizeof c.path, "%s/saved.model", c.dir);
    size_t a = fail_each_allocation("bp_model_save", op_save, &c);
    c.native = true;
    size_t b = fail_each_allocation("bp_model_save_native", op_save, &c);
    print_message("bp_model_save: %zu allocations, bp_model_save_native: %zu, each failed\n", a,
                  b);
    rmdir(c.dir);
}

typedef struct input_ctx {
    const char *path;
    bp_input_format format;
    const unsigned char *expect; /* all texts concatenated, each followed by '|' */
    size_t expect_len;
} input_ctx;

/* Opens and reads the whole input, each step under test; the first failure ends it. */
static bp_status op_text_input(void *vctx, size_t n, bool all_after)
{
    input_ctx *c = vctx;
    bp_text_input *in = (bp_text_input *)&in;
    bp_error err;
    arm(n, all_after);
    bp_status st = bp_text_input_open(c->path, c->format, NULL, 0, &in, &err);
    if (st != BP_OK) {
        disarm();
        assert_null(in);
        return st;
    }
    unsigned char *got = __real_malloc(c->expect_len + 1);
    size_t got_len = 0;
    for (;;) {
        const unsigned char *data;
        size_t len;
        int end_of_text;
        st = bp_text_input_next(in, &data, &len, &end_of_text, &err);
        if (st != BP_OK || !data)
            break;
        assert_true(got_len + len + end_of_text <= c->expect_len);
        memcpy(got + got_len, data, len);
        got_len += len;
        if (end_of_text)
            got[got_len++] = '|';
    }
    disarm();
    bp_text_input_close(in);
    if (st == BP_OK) {
        assert_int_equal(got_len, c->expect_len);
        assert_memory_equal(got, c->expect, got_len);
    }
    free(got);
    return st;
}

static void test_text_input(void **state)
{
    const fixture *fx = *state;
    char plain[96], zst[96], jsonl[96];
    snprintf(plain, sizeof plain, "%s/corpus.txt", fx->dir);
    snprintf(zst, sizeof zst, "%s/corpus.txt.zst", fx->dir);
    snprintf(jsonl, sizeof jsonl, "%s/corpus.jsonl", fx->dir);
    write_file(plain, fx->text, fx->text_len);
    size_t zcap = ZSTD_compressBound(fx->text_len);
    void *z = malloc(zcap);
    assert_non_null(z);
    size_t zlen = ZSTD_compress(z, zcap, fx->text, fx->text_len, 3);
    write_file(zst, z, zlen);
    static const char lines[] = "{\"text\": \"first text\\n\"}\n{\"text\": \"second \\u00e9\"}\n"
                                "{\"other\": 1, \"text\": \"third\"}\n";
    write_file(jsonl, lines, sizeof lines - 1);
    unsigned char *expect = malloc(fx->text_len + 1);
    assert_non_null(expect);
    memcpy(expect, fx->text, fx->text_len);
    expect[fx->text_len] = '|';
    input_ctx c1 = {plain, BP_INPUT_PLAIN, expect, fx->text_len + 1};
    input_ctx c2 = {zst, BP_INPUT_PLAIN, expect, fx->text_len + 1};
    static const unsigned char jsonl_expect[] = "first text\n|second \xc3\xa9|third|";
    input_ctx c3 = {jsonl, BP_INPUT_JSONL, jsonl_expect, sizeof jsonl_expect - 1};
    size_t a = fail_each_allocation("bp_text_input (plain)", op_text_input, &c1);
    size_t b = fail_each_allocation("bp_text_input (zstd)", op_text_input, &c2);
    /* cJSON's own allocations fail too: a parse that runs out of memory must be an
     * out-of-memory error, not a bad record (it once was, and was skipped silently with
     * BP_INPUT_SKIP_BAD_LINES). */
    size_t d = fail_each_allocation("bp_text_input (JSONL)", op_text_input, &c3);
    print_message("bp_text_input: %zu allocations (plain), %zu (zstd), %zu (JSONL), each failed\n",
                  a, b, d);
    unlink(plain);
    unlink(zst);
    unlink(jsonl);
    free(expect);
    free(z);
}

typedef struct train_ctx {
    const fixture *fx;
    unsigned char *text; /* valid UTF-8: training text must be */
    size_t text_len;
    char spool[64];
    size_t sizes[2];
    bp_model *expect[2];
} train_ctx;

/* Creates a trainer, feeds three texts and trains two sizes, every step under test; the
 * first failure ends it. The spooled corpus must be gone afterwards, whatever happened. */
static bp_status op_train(void *vctx, size_t n, bool all_after)
{
    train_ctx *c = vctx;
    bp_train_options o;
    bp_train_options_init(&o);
    o.threads = 1;
    o.temp_dir = c->spool;
    o.max_piece_length = 8;
    o.order = 4;
    bp_trainer *t = (bp_trainer *)&t;
    bp_error err;
    bp_model *models[2] = {NULL, NULL};
    static const char *const extra[] = {"the cat sat on the mat\n", "\xe4\xb8\xad\xe6\x96\x87 e\xcc\x81\n"};
    arm(n, all_after);
    bp_status st = bp_trainer_create(&o, &t, &err);
    if (st != BP_OK) {
        disarm();
        assert_null(t);
        assert_true(dir_holds_only(c->spool, NULL));
        return st;
    }
    st = bp_trainer_feed(t, c->text, c->text_len, &err);
    for (size_t i = 0; i < 2 && st == BP_OK; i++) {
        st = bp_trainer_end_text(t, &err);
        if (st == BP_OK)
            st = bp_trainer_feed(t, extra[i], strlen(extra[i]), &err);
    }
    if (st == BP_OK)
        st = bp_trainer_end_text(t, &err);
    if (st == BP_OK)
        st = bp_trainer_train(t, c->sizes, 2, models, &err);
    disarm();
    bp_trainer_free(t);
    assert_true(dir_holds_only(c->spool, NULL));
    if (st == BP_OK) {
        for (int i = 0; i < 2; i++) {
            if (c->expect[i])
                bp_test_assert_same_model(models[i], c->expect[i]);
        }
    } else {
        assert_null(models[0]);
        assert_null(models[1]);
    }
    if (!c->expect[0]) {
        c->expect[0] = models[0];
        c->expect[1] = models[1];
    } else {
        bp_model_free(models[0]);
        bp_model_free(models[1]);
    }
    return st;
}

static void test_trainer(void **state)
{
    train_ctx c = {*state, NULL, 0, "", {400, 300}, {NULL, NULL}};
    static const char words[] = "the thing in the \xe4\xb8\xad\xe6\x96\x87 e\xcc\x81t\xc3\xa9 12 "
                                "A\xcc\x8a \xe1\x84\x80\xe1\x85\xa1\xe1\x86\xa8 sing\n\n";
    c.text_len = 60 * (sizeof words - 1);
    c.text = malloc(c.text_len);
    assert_non_null(c.text);
    for (size_t i = 0; i < 60; i++)
        memcpy(c.text + i * (sizeof words - 1), words, sizeof words - 1);
    snprintf(c.spool, sizeof c.spool, "%s/spool", c.fx->dir);
    assert_int_equal(mkdir(c.spool, 0777), 0);
    size_t a = fail_each_allocation("bp_trainer (create, feed, train)", op_train, &c);
    print_message("bp_trainer: %zu allocations, each failed\n", a);
    bp_model_free(c.expect[0]);
    bp_model_free(c.expect[1]);
    free(c.text);
    rmdir(c.spool);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_load_memory),
        cmocka_unit_test(test_model_load_file),
        cmocka_unit_test(test_model_load_native),
        cmocka_unit_test(test_model_load_large_file),
        cmocka_unit_test(test_model_from_pieces),
        cmocka_unit_test(test_encoder_create),
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_model_save),
        cmocka_unit_test(test_text_input),
        cmocka_unit_test(test_trainer),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
