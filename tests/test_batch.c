/*
 * test_batch.c -- bp_encode_batch: the ids of every text equal bp_encode's, in input order,
 * whatever the number of threads, deterministically and when sampling (text i draws from
 * stream first_stream + i); with BP_ENCODE_OFFSETS the offsets equal bp_encode's too;
 * bp_encode_batch_start/finish give what bp_encode_batch gives; empty batches, empty texts
 * and bad arguments; and, when ../shared is present, the golden English text line by line
 * gives the reference's ids.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bytepiece.h"
#include "test_util.h"

static const char *const WORDS[] = {"ab", "abc", "bc", "bcd", "cd", "abcd", "da", "dab", "aa",
                                    "aaa", "the ", " the", "and", "tion", "\xc3\xa9t\xc3\xa9"};
static const uint64_t WORD_COUNTS[] = {50, 20, 40, 9, 30, 7, 11, 5, 25, 6, 90, 80, 70, 60, 15};
#define N_WORDS (sizeof WORDS / sizeof WORDS[0])

/* Texts that need more than the single-thread threshold: words, random bytes, NFD. */
typedef struct corpus {
    char **texts;
    size_t *lens;
    size_t n;
} corpus;

static corpus make_corpus(size_t n)
{
    corpus c = {malloc(n * sizeof(char *)), malloc(n * sizeof(size_t)), n};
    assert_non_null(c.texts);
    assert_non_null(c.lens);
    uint64_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        size_t len = i % 97 == 0 ? 0 : 50 + (size_t)(x % 700);
        char *t = malloc(len + 1);
        assert_non_null(t);
        for (size_t k = 0; k < len;) {
            x = x * 6364136223846793005u + 1442695040888963407u;
            unsigned r = (unsigned)(x >> 33);
            if (r % 5 == 0) { /* a random byte */
                t[k++] = (char)(r >> 8);
            } else if (r % 5 == 1 && k + 3 <= len) { /* e + combining acute (NFD) */
                memcpy(t + k, "e\xcc\x81", 3);
                k += 3;
            } else {
                const char *w = WORDS[(r >> 4) % N_WORDS];
                size_t wl = strlen(w);
                if (k + wl > len)
                    wl = len - k;
                memcpy(t + k, w, wl);
                k += wl;
            }
        }
        c.texts[i] = t;
        c.lens[i] = len;
    }
    return c;
}

static void free_corpus(corpus *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->texts[i]);
    free(c->texts);
    free(c->lens);
}

/* Checks text by text against bp_encode: the ids, and with BP_ENCODE_OFFSETS the offsets
 * (which are NULL otherwise). */
static void check_against_encode(const bp_model *m, const corpus *c, const bp_batch_options *o,
                                 const bp_batch *b)
{
    assert_int_equal(b->n_texts, c->n);
    bool offsets = o->flags & BP_ENCODE_OFFSETS;
    if (!offsets)
        assert_null(b->offsets);
    bp_encoder *enc;
    assert_int_equal(bp_encoder_create(m, &enc, NULL), BP_OK);
    uint32_t *ids = malloc(4096 * sizeof *ids);
    size_t *offs = malloc(4096 * sizeof *offs);
    assert_non_null(ids);
    assert_non_null(offs);
    assert_int_equal(b->ids_begin[0], 0);
    for (size_t i = 0; i < c->n; i++) {
        bp_rng rng;
        bp_rng_seed(&rng, o->seed, o->first_stream + i);
        bp_encode_options eo = {o->alpha, o->flags, &rng}; /* o->flags says whether to sample */
        size_t n;
        assert_int_equal(bp_encode(enc, c->texts[i], c->lens[i], &eo, ids, offs, 4096, &n, NULL),
                         BP_OK);
        assert_int_equal(b->ids_begin[i + 1] - b->ids_begin[i], n);
        assert_memory_equal(b->ids + b->ids_begin[i], ids, n * sizeof *ids);
        if (offsets)
            assert_memory_equal(b->offsets + b->ids_begin[i], offs, n * sizeof *offs);
    }
    free(ids);
    free(offs);
    bp_encoder_free(enc);
}

static void assert_same_batch(const bp_batch *a, const bp_batch *b)
{
    assert_int_equal(a->n_texts, b->n_texts);
    assert_memory_equal(a->ids_begin, b->ids_begin, (a->n_texts + 1) * sizeof *a->ids_begin);
    assert_memory_equal(a->ids, b->ids, a->ids_begin[a->n_texts] * sizeof *a->ids);
    assert_int_equal(a->offsets == NULL, b->offsets == NULL);
    if (a->offsets)
        assert_memory_equal(a->offsets, b->offsets, a->ids_begin[a->n_texts] * sizeof *a->offsets);
}

static void test_batch_equals_encode_for_any_threads(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(WORDS, WORD_COUNTS, N_WORDS);
    corpus c = make_corpus(3000); /* about 1 MB: threads are used */
    const double alphas[] = {-1.0, 0.1, 0.0};
    const unsigned flags[] = {0, BP_ENCODE_BOS | BP_ENCODE_EOS, BP_ENCODE_NO_NORMALIZE};
    for (size_t a = 0; a < 3; a++) {
        bp_batch_options o = {alphas[a], flags[a] | (alphas[a] >= 0 ? BP_ENCODE_SAMPLE : 0), 77, 5, 1};
        bp_batch one;
        assert_int_equal(bp_encode_batch(m, (const void *const *)c.texts, c.lens, c.n, &o, &one, NULL),
                         BP_OK);
        check_against_encode(m, &c, &o, &one);
        const unsigned threads[] = {2, 3, 8, 0};
        for (size_t t = 0; t < 4; t++) {
            o.threads = threads[t];
            bp_batch many;
            assert_int_equal(
                bp_encode_batch(m, (const void *const *)c.texts, c.lens, c.n, &o, &many, NULL), BP_OK);
            assert_same_batch(&one, &many);
            bp_batch_free(&many);
        }
        bp_batch_free(&one);
    }
    free_corpus(&c);
    bp_model_free(m);
}

/* BP_ENCODE_OFFSETS: each token's offset in its text, as bp_encode gives it (the exact
 * offsets in the input are test_offsets.c's), on one thread and on several, deterministic
 * and sampling. */
static void test_offsets_equal_encode(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(WORDS, WORD_COUNTS, N_WORDS);
    corpus c = make_corpus(3000);
    const unsigned flags[] = {BP_ENCODE_OFFSETS, BP_ENCODE_OFFSETS | BP_ENCODE_BOS | BP_ENCODE_EOS,
                              BP_ENCODE_OFFSETS | BP_ENCODE_NO_NORMALIZE};
    for (size_t f = 0; f < 3; f++) {
        for (unsigned threads = 1; threads <= 3; threads++) {
            bp_batch_options o = {0.2, flags[f] | (f == 1 ? BP_ENCODE_SAMPLE : 0), 9, 0, threads};
            bp_batch b;
            assert_int_equal(bp_encode_batch(m, (const void *const *)c.texts, c.lens, c.n, &o, &b,
                                             NULL),
                             BP_OK);
            assert_non_null(b.offsets);
            check_against_encode(m, &c, &o, &b);
            bp_batch_free(&b);
            assert_null(b.offsets);
        }
    }
    free_corpus(&c);
    bp_model_free(m);
}

/* A batch started on a job and finished later gives what bp_encode_batch gives, for any
 * number of threads, with sampling and offsets; a job runs batch after batch, several jobs
 * run at once, and the options are copied at the start. */
static void test_start_finish_equals_sync(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(WORDS, WORD_COUNTS, N_WORDS);
    corpus c = make_corpus(3000);
    const unsigned threads[] = {1, 2, 3, 0};
    bp_batch_job *jobs[4];
    for (size_t t = 0; t < 4; t++)
        assert_int_equal(bp_batch_job_create(m, &jobs[t], NULL), BP_OK);
    const double alphas[] = {-1.0, 0.1, 0.0};
    const unsigned flags[] = {BP_ENCODE_EOS, BP_ENCODE_OFFSETS, BP_ENCODE_OFFSETS | BP_ENCODE_BOS};
    for (size_t a = 0; a < 3; a++) {
        bp_batch_options o = {alphas[a], flags[a] | (alphas[a] >= 0 ? BP_ENCODE_SAMPLE : 0), 21,
                              4, 1};
        size_t n = a == 2 ? 40 : c.n; /* last, a small batch on jobs that ran larger ones */
        bp_batch want;
        assert_int_equal(bp_encode_batch(m, (const void *const *)c.texts, c.lens, n, &o, &want,
                                         NULL),
                         BP_OK);
        corpus head = {c.texts, c.lens, n};
        check_against_encode(m, &head, &o, &want);
        for (size_t t = 0; t < 4; t++) {
            o.threads = threads[t];
            assert_int_equal(bp_encode_batch_start(jobs[t], (const void *const *)c.texts, c.lens,
                                                   n, &o, NULL),
                             BP_OK);
        }
        o.alpha = 7.0; /* copied: changing the options now changes nothing */
        for (size_t t = 0; t < 4; t++) {
            bp_batch got = {(uint32_t *)&got, NULL, 5, NULL};
            bp_error err;
            assert_int_equal(bp_encode_batch_finish(jobs[t], &got, &err), BP_OK);
            assert_same_batch(&want, &got);
            bp_batch_free(&got);
        }
        bp_batch_free(&want);
    }
    /* An empty batch. */
    bp_batch_options o = {-1.0, 0, 0, 0, 2};
    bp_batch got;
    assert_int_equal(bp_encode_batch_start(jobs[1], NULL, NULL, 0, &o, NULL), BP_OK);
    assert_int_equal(bp_encode_batch_finish(jobs[1], &got, NULL), BP_OK);
    assert_int_equal(got.n_texts, 0);
    assert_int_equal(got.ids_begin[0], 0);
    bp_batch_free(&got);
    /* Freeing a job with a batch running waits for it (the sanitizers see the rest). */
    assert_int_equal(bp_encode_batch_start(jobs[2], (const void *const *)c.texts, c.lens, c.n, &o,
                                           NULL),
                     BP_OK);
    for (size_t t = 0; t < 4; t++)
        bp_batch_job_free(jobs[t]);
    bp_batch_job_free(NULL);
    free_corpus(&c);
    bp_model_free(m);
}

/* Bad arguments and inputs: the codes and err filled, nothing started; the job stays
 * usable. */
static void test_start_finish_errors(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(WORDS, WORD_COUNTS, N_WORDS);
    bp_batch_job *job = (bp_batch_job *)&job;
    bp_error err = {0};
    assert_int_equal(bp_batch_job_create(NULL, &job, &err), BP_ERR_INVALID_ARG);
    assert_null(job);
    assert_int_equal(err.code, BP_ERR_INVALID_ARG);
    assert_int_equal(bp_batch_job_create(m, NULL, NULL), BP_ERR_INVALID_ARG);
    assert_int_equal(bp_batch_job_create(m, &job, NULL), BP_OK);
    const char *texts[] = {"ab", NULL};
    size_t lens[] = {2, 1};
    bp_batch_options o = {-1.0, 0, 0, 0, 2};
    err = (bp_error){0};
    assert_int_equal(bp_encode_batch_start(job, (const void *const *)texts, lens, 2, &o, &err),
                     BP_ERR_INVALID_ARG);
    assert_int_equal(err.code, BP_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "text 1"));
    texts[1] = "x";
    lens[1] = SIZE_MAX; /* more than any buffer of ids can hold */
    assert_int_equal(bp_encode_batch_start(job, (const void *const *)texts, lens, 2, &o, &err),
                     BP_ERR_TOO_LARGE);
    assert_int_equal(err.code, BP_ERR_TOO_LARGE);
    lens[1] = 1;
    assert_int_equal(bp_encode_batch_start(NULL, (const void *const *)texts, lens, 2, &o, NULL),
                     BP_ERR_INVALID_ARG);
    assert_int_equal(bp_encode_batch_start(job, NULL, lens, 2, &o, NULL), BP_ERR_INVALID_ARG);
    o.alpha = 0.0 / 0.0;
    o.flags = BP_ENCODE_SAMPLE;
    assert_int_equal(bp_encode_batch_start(job, (const void *const *)texts, lens, 2, &o, NULL),
                     BP_ERR_INVALID_ARG);
    o.alpha = -1.0;
    o.flags = 0;
    bp_batch got = {(uint32_t *)&got, NULL, 5, NULL};
    assert_int_equal(bp_encode_batch_finish(job, &got, &err), BP_ERR_INVALID_ARG); /* none */
    assert_null(got.ids);
    assert_int_equal(bp_encode_batch_finish(NULL, &got, &err), BP_ERR_INVALID_ARG);
    /* After all that, the job encodes; a second start while one runs is refused, and a
     * finish without a place for the result leaves the batch running. */
    assert_int_equal(bp_encode_batch_start(job, (const void *const *)texts, lens, 2, &o, NULL),
                     BP_OK);
    assert_int_equal(bp_encode_batch_start(job, (const void *const *)texts, lens, 2, &o, &err),
                     BP_ERR_INVALID_ARG);
    assert_int_equal(bp_encode_batch_finish(job, NULL, &err), BP_ERR_INVALID_ARG);
    assert_int_equal(bp_encode_batch_finish(job, &got, &err), BP_OK);
    assert_int_equal(got.ids_begin[2], 2);
    assert_int_equal(got.ids[0], (uint32_t)bp_model_piece_id(m, "ab", 2));
    assert_int_equal(got.ids[1], (uint32_t)bp_model_piece_id(m, "x", 1));
    bp_batch_free(&got);
    bp_batch_job_free(job);
    bp_model_free(m);
}

/* A batch of texts k.. with first_stream k gives the tail of the whole batch. */
static void test_first_stream_continues_a_run(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(WORDS, WORD_COUNTS, N_WORDS);
    corpus c = make_corpus(200);
    bp_batch_options o = {0.5, BP_ENCODE_SAMPLE, 3, 0, 2};
    bp_batch all, tail;
    assert_int_equal(bp_encode_batch(m, (const void *const *)c.texts, c.lens, c.n, &o, &all, NULL), BP_OK);
    o.first_stream = 120;
    assert_int_equal(bp_encode_batch(m, (const void *const *)c.texts + 120, c.lens + 120,
                                     c.n - 120, &o, &tail, NULL),
                     BP_OK);
    size_t base = all.ids_begin[120];
    assert_int_equal(tail.ids_begin[tail.n_texts], all.ids_begin[c.n] - base);
    assert_memory_equal(tail.ids, all.ids + base, tail.ids_begin[tail.n_texts] * sizeof *tail.ids);
    bp_batch_free(&all);
    bp_batch_free(&tail);
    free_corpus(&c);
    bp_model_free(m);
}

static void test_batch_contract(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(WORDS, WORD_COUNTS, N_WORDS);
    bp_batch_options o = {-1.0, 0, 0, 0, 2};
    bp_batch b;
    assert_int_equal(bp_encode_batch(m, NULL, NULL, 0, &o, &b, NULL), BP_OK);
    assert_int_equal(b.n_texts, 0);
    assert_int_equal(b.ids_begin[0], 0);
    bp_batch_free(&b);
    assert_null(b.ids);
    bp_batch_free(&b); /* twice is fine */
    bp_batch_free(NULL);
    const char *texts[] = {"", "ab", NULL};
    size_t lens[] = {0, 2, 0};
    assert_int_equal(bp_encode_batch(m, (const void *const *)texts, lens, 3, &o, &b, NULL), BP_OK);
    assert_int_equal(b.ids_begin[1], 0);
    assert_int_equal(b.ids_begin[2], 1);
    assert_int_equal(b.ids_begin[3], 1);
    assert_int_equal(b.ids[0], bp_model_piece_id(m, "ab", 2));
    bp_batch_free(&b);
    /* NULL options are the zero-initialised ones: the best segmentation. */
    assert_int_equal(bp_encode_batch(m, (const void *const *)texts, lens, 3, NULL, &b, NULL), BP_OK);
    assert_int_equal(b.ids_begin[3], 1);
    assert_int_equal(b.ids[0], bp_model_piece_id(m, "ab", 2));
    bp_batch_free(&b);
    lens[2] = 1; /* NULL text with a length */
    assert_int_equal(bp_encode_batch(m, (const void *const *)texts, lens, 3, &o, &b, NULL),
                     BP_ERR_INVALID_ARG);
    assert_null(b.ids);
    assert_null(b.ids_begin);
    assert_int_equal(bp_encode_batch(NULL, (const void *const *)texts, lens, 2, &o, &b, NULL),
                     BP_ERR_INVALID_ARG);
    assert_int_equal(bp_encode_batch(m, (const void *const *)texts, lens, 2, &o, NULL, NULL),
                     BP_ERR_INVALID_ARG);
    assert_int_equal(bp_encode_batch(m, NULL, lens, 2, &o, &b, NULL), BP_ERR_INVALID_ARG);
    o.alpha = 0.0 / 0.0; /* ignored: not sampling */
    assert_int_equal(bp_encode_batch(m, (const void *const *)texts, lens, 2, &o, &b, NULL), BP_OK);
    bp_batch_free(&b);
    o.flags |= BP_ENCODE_SAMPLE;
    bp_error err;
    assert_int_equal(bp_encode_batch(m, (const void *const *)texts, lens, 2, &o, &b, &err),
                     BP_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "alpha >= 0"));
    assert_null(b.ids);
    bp_model_free(m);
}

/* The golden English text, one text per line, on two threads: the reference's ids. */
static void test_golden_lines(void **state)
{
    (void)state;
    const char *path = bp_test_shared_path("corpus/golden_en.txt");
    if (!path)
        skip();
    size_t len;
    unsigned char *text = bp_test_read_file(path, &len);
    assert_non_null(text);
    const char *gpath =
        bp_test_shared_path("reference/golden/bytepiece.plus.80k.en.lines.ids.zst");
    size_t glen;
    unsigned char *golden = bp_test_read_file(gpath, &glen);
    assert_non_null(golden);
    bp_model *m = bp_test_load_reference_model("bytepiece.plus.80k");
    size_t n = 0, cap = 1024;
    const void **texts = malloc(cap * sizeof *texts);
    size_t *lens = malloc(cap * sizeof *lens);
    for (size_t pos = 0; pos < len;) {
        const unsigned char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) + 1 : len;
        if (n == cap) {
            texts = realloc(texts, (cap *= 2) * sizeof *texts);
            lens = realloc(lens, cap * sizeof *lens);
        }
        texts[n] = text + pos;
        lens[n++] = end - pos;
        pos = end;
    }
    bp_batch_options o = {-1.0, 0, 0, 0, 2};
    bp_batch b;
    assert_int_equal(bp_encode_batch(m, texts, lens, n, &o, &b, NULL), BP_OK);
    /* Format as bp encode does and compare with the golden file. */
    char *out = malloc(glen + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = b.ids_begin[i]; j < b.ids_begin[i + 1]; j++) {
            char num[16];
            int w = snprintf(num, sizeof num, j > b.ids_begin[i] ? " %u" : "%u", b.ids[j]);
            assert_true(k + (size_t)w <= glen);
            memcpy(out + k, num, (size_t)w);
            k += (size_t)w;
        }
        assert_true(k < glen);
        out[k++] = '\n';
    }
    assert_int_equal(k, glen);
    assert_memory_equal(out, golden, glen);
    free(out);
    bp_batch_free(&b);
    free(texts);
    free(lens);
    free(text);
    free(golden);
    bp_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_equals_encode_for_any_threads),
        cmocka_unit_test(test_first_stream_continues_a_run),
        cmocka_unit_test(test_offsets_equal_encode),
        cmocka_unit_test(test_start_finish_equals_sync),
        cmocka_unit_test(test_start_finish_errors),
        cmocka_unit_test(test_batch_contract),
        cmocka_unit_test(test_golden_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
