/*
 * test_threads.c -- one model shared by many threads gives exactly the single-threaded
 * results, and models can be loaded from several threads at once.
 *
 *  - 8 threads share one model, each with its own bp_encoder, and encode texts both
 *    deterministically and by sampling (alpha 0.1, rng seeded from (seed, text index), as
 *    the CLI does, so a text's result does not depend on which thread encodes it). Pass 1
 *    hands the texts out through an atomic counter (every text once, on whichever thread
 *    takes it); pass 2 has every thread encode the same texts at the same time. Both are
 *    compared with results computed first on one thread.
 *  - Texts: random bytes and NFD-rich UTF-8 with a small built-in model (always), and the
 *    golden texts (../shared/corpus/golden_{en,zh,edge}.txt, one text per line) with
 *    bytepiece.plus.80k (skipped when ../shared is absent).
 *  - Concurrent loads: 8 threads load the same model (JSON from memory, a JSON file, a
 *    zstd file) at once; every model equals the one loaded alone.
 *
 * cmocka is not thread-safe: worker threads only record what they find, and the main
 * thread asserts. tools/test.sh runs this test under ThreadSanitizer too.
 */
#include <pthread.h>
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

#include <cmocka.h>
#include <zstd.h>

#include "bytepiece.h"
#include "test_util.h"

enum { N_THREADS = 8, PASS2_TEXTS = 64 };
#define SEED UINT64_C(0x5EED5EED)
#define ALPHA 0.1

/*====== Texts and their single-threaded results ======*/

typedef struct result {
    uint32_t *ids;
    size_t n;
} result;

typedef struct text_set {
    const unsigned char **text;
    size_t *len;
    size_t n, cap;
    result *det, *sample; /* the single-threaded results */
} text_set;

static void add_text(text_set *ts, const unsigned char *text, size_t len)
{
    if (ts->n == ts->cap) {
        ts->cap = ts->cap ? 2 * ts->cap : 256;
        ts->text = realloc(ts->text, ts->cap * sizeof *ts->text);
        ts->len = realloc(ts->len, ts->cap * sizeof *ts->len);
        assert_non_null(ts->text);
        assert_non_null(ts->len);
    }
    ts->text[ts->n] = text;
    ts->len[ts->n++] = len;
}

/* Every line of buf[0..len) (with its '\n') is a text. */
static void add_lines(text_set *ts, const unsigned char *buf, size_t len)
{
    for (size_t pos = 0; pos < len;) {
        const unsigned char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - buf) + 1 : len;
        add_text(ts, buf + pos, end - pos);
        pos = end;
    }
}

/* A thread's encoder and the buffer its ids go to before they are kept. */
typedef struct scratch {
    bp_encoder *enc;
    uint32_t *ids;
    size_t cap;
} scratch;

static void scratch_free(scratch *s)
{
    bp_encoder_free(s->enc);
    free(s->ids);
}

/* Encodes text k (deterministic when alpha < 0; else sampled from stream (SEED, k)) into a
 * new array of exactly the ids. Returns BP_OK or the failing status. */
static bp_status encode_text(scratch *s, const text_set *ts, size_t k, double alpha,
                             result *out)
{
    size_t need = bp_encode_bound(ts->len[k]);
    if (need > s->cap) {
        free(s->ids);
        s->cap = need + need / 2;
        s->ids = malloc(s->cap * sizeof *s->ids);
        if (!s->ids)
            return BP_ERR_NOMEM;
    }
    bp_rng rng;
    bp_rng_seed(&rng, SEED, k);
    bp_encode_options o = bp_test_options(alpha, 0, &rng);
    bp_status st = bp_encode(s->enc, ts->text[k], ts->len[k], &o, s->ids, NULL, s->cap, &out->n, NULL);
    if (st != BP_OK)
        return st;
    out->ids = malloc((out->n ? out->n : 1) * sizeof *out->ids);
    if (!out->ids)
        return BP_ERR_NOMEM;
    memcpy(out->ids, s->ids, out->n * sizeof *out->ids);
    return BP_OK;
}

static bool same_result(const result *a, const result *b)
{
    return a->n == b->n && memcmp(a->ids, b->ids, a->n * sizeof *a->ids) == 0;
}

static void compute_baseline(const bp_model *m, text_set *ts)
{
    scratch sc = {0};
    assert_int_equal(bp_encoder_create(m, &sc.enc, NULL), BP_OK);
    ts->det = calloc(ts->n, sizeof *ts->det);
    ts->sample = calloc(ts->n, sizeof *ts->sample);
    assert_non_null(ts->det);
    assert_non_null(ts->sample);
    for (size_t k = 0; k < ts->n; k++) {
        assert_int_equal(encode_text(&sc, ts, k, -1.0, &ts->det[k]), BP_OK);
        assert_int_equal(encode_text(&sc, ts, k, ALPHA, &ts->sample[k]), BP_OK);
    }
    scratch_free(&sc);
}

static void free_results(result *r, size_t n)
{
    for (size_t i = 0; r && i < n; i++)
        free(r[i].ids);
    free(r);
}

static void text_set_free(text_set *ts)
{
    free_results(ts->det, ts->n);
    free_results(ts->sample, ts->n);
    free(ts->text);
    free(ts->len);
    memset(ts, 0, sizeof *ts);
}

/*====== Worker threads ======*/

typedef struct shared_job {
    const bp_model *model;
    const text_set *ts;
    atomic_size_t next;        /* pass 1: the next text to take */
    result *det, *sample;      /* pass 1: written by the thread that took text k */
    pthread_barrier_t start;   /* pass 2 starts on every thread together */
} shared_job;

typedef struct worker {
    shared_job *job;
    pthread_t thread;
    size_t taken;              /* texts this thread encoded in pass 1 */
    size_t mismatches;         /* pass 2 */
    bp_status failed;          /* first failing status, BP_OK if none */
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    shared_job *job = w->job;
    const text_set *ts = job->ts;
    scratch sc = {0};
    w->failed = bp_encoder_create(job->model, &sc.enc, NULL);
    /* Pass 1: every text once, on whichever thread takes it. */
    for (size_t k; w->failed == BP_OK && (k = atomic_fetch_add(&job->next, 1)) < ts->n;) {
        w->failed = encode_text(&sc, ts, k, -1.0, &job->det[k]);
        if (w->failed == BP_OK)
            w->failed = encode_text(&sc, ts, k, ALPHA, &job->sample[k]);
        w->taken++;
    }
    /* Pass 2: all threads on the same texts at the same time. */
    pthread_barrier_wait(&job->start);
    size_t n2 = ts->n < PASS2_TEXTS ? ts->n : PASS2_TEXTS;
    for (size_t k = 0; k < n2 && w->failed == BP_OK; k++) {
        result det = {0}, sample = {0};
        w->failed = encode_text(&sc, ts, k, -1.0, &det);
        if (w->failed == BP_OK)
            w->failed = encode_text(&sc, ts, k, ALPHA, &sample);
        if (w->failed == BP_OK) {
            w->mismatches += !same_result(&det, &ts->det[k]);
            w->mismatches += !same_result(&sample, &ts->sample[k]);
        }
        free(det.ids);
        free(sample.ids);
    }
    scratch_free(&sc);
    return NULL;
}

/* Encodes the texts of `ts` on N_THREADS threads sharing `m`; checks everything equals the
 * single-threaded results. */
static void check_threads(const bp_model *m, text_set *ts)
{
    compute_baseline(m, ts);
    shared_job job = {.model = m, .ts = ts};
    atomic_init(&job.next, 0);
    job.det = calloc(ts->n, sizeof *job.det);
    job.sample = calloc(ts->n, sizeof *job.sample);
    assert_non_null(job.det);
    assert_non_null(job.sample);
    assert_int_equal(pthread_barrier_init(&job.start, NULL, N_THREADS), 0);
    worker w[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        w[i] = (worker){.job = &job};
        assert_int_equal(pthread_create(&w[i].thread, NULL, work, &w[i]), 0);
    }
    size_t taken = 0;
    for (int i = 0; i < N_THREADS; i++) {
        assert_int_equal(pthread_join(w[i].thread, NULL), 0);
        assert_int_equal(w[i].failed, BP_OK);
        assert_int_equal(w[i].mismatches, 0);
        taken += w[i].taken;
    }
    assert_int_equal(taken, ts->n);
    for (size_t k = 0; k < ts->n; k++) {
        if (!same_result(&job.det[k], &ts->det[k]) || !same_result(&job.sample[k], &ts->sample[k]))
            fail_msg("text %zu: threaded result differs from the single-threaded one", k);
    }
    pthread_barrier_destroy(&job.start);
    free_results(job.det, ts->n);
    free_results(job.sample, ts->n);
}

/*====== Shared model, encoding ======*/

static uint64_t next_random(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static const char *const WORDS[] = {"th", "the", "he", " the", "in", "ing", "\n\n", "é",
                                    "中文", "文", "\xff\xfe", "ab\xc3", "e\xcc\x81"};
static const uint64_t WORD_COUNTS[] = {90, 80, 70, 60, 50, 40, 30, 20, 10, 9, 8, 7, 6};

/* Random texts biased towards the small model's pieces, NFD sequences and invalid UTF-8. */
static unsigned char *random_texts(text_set *ts, size_t n_texts)
{
    static const char *const bits[] = {"the", "\n", "\n\n", "\xff", "\xc3", "ing", "中文",
                                       "e\xcc\x81", "A\xcc\x8a", "\xe1\x84\x80\xe1\x85\xa1",
                                       " ", "\r\n", "x"};
    enum { MAX_LEN = 300 };
    unsigned char *buf = malloc(n_texts * MAX_LEN);
    assert_non_null(buf);
    uint64_t rnd = 0x0123456789ABCDEFu;
    for (size_t k = 0; k < n_texts; k++) {
        unsigned char *t = buf + k * MAX_LEN;
        size_t len = next_random(&rnd) % MAX_LEN, n = 0;
        while (n < len) {
            const char *b = bits[next_random(&rnd) % (sizeof bits / sizeof bits[0])];
            size_t bl = strlen(b);
            if (n + bl > len)
                break;
            memcpy(t + n, b, bl);
            n += bl;
        }
        add_text(ts, t, n);
    }
    return buf;
}

static void test_shared_small_model(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(WORDS, WORD_COUNTS, sizeof WORDS / sizeof WORDS[0]);
    text_set ts = {0};
    unsigned char *buf = random_texts(&ts, 400);
    check_threads(m, &ts);
    text_set_free(&ts);
    free(buf);
    bp_model_free(m);
}

static void test_shared_reference_model_golden(void **state)
{
    (void)state;
    bp_model *m = bp_test_load_reference_model("bytepiece.plus.80k");
    if (!m)
        skip();
    static const char *const names[] = {"corpus/golden_en.txt", "corpus/golden_zh.txt",
                                        "corpus/golden_edge.txt"};
    unsigned char *bufs[3];
    text_set ts = {0};
    for (size_t i = 0; i < 3; i++) {
        size_t len;
        bufs[i] = bp_test_read_file(bp_test_shared_path(names[i]), &len);
        assert_non_null(bufs[i]);
        add_lines(&ts, bufs[i], len);
    }
    check_threads(m, &ts);
    text_set_free(&ts);
    for (size_t i = 0; i < 3; i++)
        free(bufs[i]);
    bp_model_free(m);
}

/*====== Concurrent loads ======*/

typedef struct load_job {
    const char *path;          /* load this file, or ... */
    const void *data;          /* ... these bytes */
    size_t size;
    pthread_barrier_t *start;
    pthread_t thread;
    bp_model *model;
    bp_status status;
} load_job;

static void *load_work(void *arg)
{
    load_job *j = arg;
    pthread_barrier_wait(j->start);
    bp_error err;
    j->status = j->path ? bp_model_load(j->path, &j->model, &err)
                        : bp_model_load_memory(j->data, j->size, "threads", &j->model, &err);
    return NULL;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* N_THREADS loads at once of the same source; each model equals `expect`. */
static void load_concurrently(const char *path, const void *data, size_t size,
                              const bp_model *expect)
{
    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, N_THREADS), 0);
    load_job jobs[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        jobs[i] = (load_job){.path = path, .data = data, .size = size, .start = &start};
        assert_int_equal(pthread_create(&jobs[i].thread, NULL, load_work, &jobs[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++) {
        assert_int_equal(pthread_join(jobs[i].thread, NULL), 0);
        assert_int_equal(jobs[i].status, BP_OK);
    }
    for (int i = 0; i < N_THREADS; i++) {
        bp_test_assert_same_model(jobs[i].model, expect);
        bp_model_free(jobs[i].model);
    }
    pthread_barrier_destroy(&start);
}

static void test_concurrent_loads(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(WORDS, WORD_COUNTS, sizeof WORDS / sizeof WORDS[0]);
    size_t json_len;
    char *json = bp_test_model_json(m, &json_len);
    bp_model *alone = NULL;
    bp_error err;
    assert_int_equal(bp_model_load_memory(json, json_len, "alone", &alone, &err), BP_OK);
    bp_test_assert_same_model(alone, m);

    load_concurrently(NULL, json, json_len, alone);

    char dir[] = "/tmp/bp_threads_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char plain[64], zst[64];
    snprintf(plain, sizeof plain, "%s/small.model", dir);
    snprintf(zst, sizeof zst, "%s/small.model.zst", dir);
    write_file(plain, json, json_len);
    size_t zcap = ZSTD_compressBound(json_len);
    void *z = malloc(zcap);
    assert_non_null(z);
    size_t zlen = ZSTD_compress(z, zcap, json, json_len, 3);
    assert_false(ZSTD_isError(zlen));
    write_file(zst, z, zlen);
    load_concurrently(plain, NULL, 0, alone);
    load_concurrently(zst, NULL, 0, alone);
    /* zstd-compressed bytes from memory. */
    load_concurrently(NULL, z, zlen, alone);
    unlink(plain);
    unlink(zst);
    rmdir(dir);
    free(z);
    free(json);
    bp_model_free(alone);
    bp_model_free(m);
}

/* JSONL corpora read while JSON models load: both parse with cJSON, which writes its
 * process-wide error state on every parse, so the library serializes both kinds of parse
 * with one lock (bp_cjson_parse). The race that a lock per kind left was inside cJSON,
 * which is not instrumented, so ThreadSanitizer cannot show it; this checks that mixed
 * parses on 8 threads give every record and the same model. */
enum { JSONL_RECORDS = 300 };

typedef struct parse_job {
    const char *jsonl;         /* read this JSONL file, or ... */
    const void *json;          /* ... load this model */
    size_t json_len;
    pthread_barrier_t *start;
    pthread_t thread;
    bp_status status;
    size_t texts;
    bp_model *model;
} parse_job;

static void *parse_work(void *arg)
{
    parse_job *j = arg;
    pthread_barrier_wait(j->start);
    bp_error err;
    if (!j->jsonl) {
        j->status = bp_model_load_memory(j->json, j->json_len, "threads", &j->model, &err);
        return NULL;
    }
    bp_text_input *in;
    j->status = bp_text_input_open(j->jsonl, BP_INPUT_JSONL, NULL, 0, &in, &err);
    while (j->status == BP_OK) {
        const unsigned char *data;
        size_t len;
        int end;
        j->status = bp_text_input_next(in, &data, &len, &end, &err);
        if (!data)
            break;
        j->texts += end;
    }
    bp_text_input_close(in);
    return NULL;
}

static void test_models_and_jsonl_at_once(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(WORDS, WORD_COUNTS, sizeof WORDS / sizeof WORDS[0]);
    size_t json_len;
    char *json = bp_test_model_json(m, &json_len);
    char dir[] = "/tmp/bp_threads_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/corpus.jsonl", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (int i = 0; i < JSONL_RECORDS; i++)
        fprintf(f, "{\"id\": %d, \"text\": \"record %d \\u00e9\"}\n", i, i);
    assert_int_equal(fclose(f), 0);
    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, N_THREADS), 0);
    parse_job jobs[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        jobs[i] = (parse_job){.jsonl = i % 2 ? path : NULL, .json = json, .json_len = json_len,
                              .start = &start};
        assert_int_equal(pthread_create(&jobs[i].thread, NULL, parse_work, &jobs[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++) {
        assert_int_equal(pthread_join(jobs[i].thread, NULL), 0);
        assert_int_equal(jobs[i].status, BP_OK);
        if (jobs[i].jsonl) {
            assert_int_equal(jobs[i].texts, JSONL_RECORDS);
        } else {
            bp_test_assert_same_model(jobs[i].model, m);
            bp_model_free(jobs[i].model);
        }
    }
    pthread_barrier_destroy(&start);
    unlink(path);
    rmdir(dir);
    free(json);
    bp_model_free(m);
}

/* Loads that fail (bad JSON, at different places) running alongside good ones. */
typedef struct mixed_job {
    const char *data;
    size_t size;
    bool good;
    pthread_barrier_t *start;
    pthread_t thread;
    bp_status status;
    bp_model *model;
    char message[512];
} mixed_job;

static void *mixed_work(void *arg)
{
    mixed_job *j = arg;
    pthread_barrier_wait(j->start);
    bp_error err;
    for (int rep = 0; rep < 20; rep++) {
        bp_model_free(j->model);
        j->model = NULL;
        j->status = bp_model_load_memory(j->data, j->size, "mixed", &j->model, &err);
        if (j->status != BP_OK)
            memcpy(j->message, err.message, sizeof j->message);
        if ((j->status == BP_OK) != j->good)
            break;
    }
    return NULL;
}

static void test_concurrent_good_and_bad_loads(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(WORDS, WORD_COUNTS, sizeof WORDS / sizeof WORDS[0]);
    size_t json_len;
    char *json = bp_test_model_json(m, &json_len);
    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, N_THREADS), 0);
    mixed_job jobs[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        bool good = i % 2 == 0;
        /* Bad ones: cut at different places (truncated), or not an object. */
        jobs[i] = (mixed_job){.data = good ? json : i == 3 ? "[1, 2]" : json,
                              .size = good ? json_len : i == 3 ? 6 : json_len / (size_t)(i + 1),
                              .good = good, .start = &start};
        assert_int_equal(pthread_create(&jobs[i].thread, NULL, mixed_work, &jobs[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++) {
        assert_int_equal(pthread_join(jobs[i].thread, NULL), 0);
        if (jobs[i].good) {
            assert_int_equal(jobs[i].status, BP_OK);
            bp_test_assert_same_model(jobs[i].model, m);
        } else {
            assert_int_not_equal(jobs[i].status, BP_OK);
            assert_null(jobs[i].model);
            assert_non_null(strstr(jobs[i].message, "mixed"));
        }
        bp_model_free(jobs[i].model);
    }
    pthread_barrier_destroy(&start);
    free(json);
    bp_model_free(m);
}

/* An argument runs only the tests whose names match it (cmocka's filter). */
int main(int argc, char **argv)
{
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_small_model),
        cmocka_unit_test(test_shared_reference_model_golden),
        cmocka_unit_test(test_concurrent_loads),
        cmocka_unit_test(test_models_and_jsonl_at_once),
        cmocka_unit_test(test_concurrent_good_and_bad_loads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
