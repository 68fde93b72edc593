/*
 * test_train.c -- the trainer's stages on small inputs with hand-checked expectations
 * (n-gram counts and conditional log-probabilities, the n-gram-LM segmentation including
 * the "dead chunk" of docs/algorithms.md §3.3.4, a prune with its re-splits and vocabulary
 * cut), whole trainings (thread-count independence, the reference's smoke vocabulary), and
 * the bad-input cases of the API.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "train_internal.h"
#include "test_util.h"

/* A spool of the given chunks with the byte and pair counts the trainer would gather. */
typedef struct small_corpus {
    bp_spool spool;
    bp_byte_counts counts;
} small_corpus;

static void corpus_open(small_corpus *c, const char *const *chunks, size_t n)
{
    memset(c, 0, sizeof *c);
    bp_error err;
    assert_int_equal(bp_spool_open(&c->spool, NULL, &err), BP_OK);
    for (size_t k = 0; k < n; k++) {
        const unsigned char *x = (const unsigned char *)chunks[k];
        size_t len = strlen(chunks[k]);
        assert_int_equal(bp_byte_counts_add(&c->counts, x, len), BP_OK);
        assert_int_equal(bp_spool_append(&c->spool, x, len, &err), BP_OK);
    }
    assert_int_equal(bp_spool_flush(&c->spool, &err), BP_OK);
}

static void corpus_close(small_corpus *c)
{
    bp_spool_close(&c->spool);
    bp_byte_counts_free(&c->counts);
}

static void build_lm(bp_ngram_model *m, small_corpus *c, unsigned order, uint64_t min_count,
                     unsigned threads)
{
    bp_train_options o;
    bp_train_options_init(&o);
    o.order = order;
    o.min_count = min_count;
    bp_error err;
    bp_runs runs = {0};
    assert_int_equal(bp_ngram_build(m, &c->spool, &c->counts, &o, threads, &runs, &err),
                     BP_OK);
}

static double high_logp(const bp_ngram_model *m, const char *g)
{
    const uint64_t *v = bp_u64_table_find(&m->high, bp_ngram_key((const unsigned char *)g,
                                                                  (unsigned)strlen(g)));
    if (!v)
        return -INFINITY;
    double d;
    memcpy(&d, v, sizeof d);
    return d;
}

/* Chunks "aaaa" and "aaa": c(a) = 7, c(aa) = 3 + 2, c(aaa) = 2 + 1, c(aaaa) = 1. With
 * min_count 2 the 4-gram is pruned; the 255 absent bytes count 1 each, so N' = 7 + 255. */
static void test_ngram_counts_and_logprobs(void **state)
{
    (void)state;
    const char *chunks[] = {"aaaa", "aaa"};
    for (unsigned threads = 1; threads <= 2; threads++) {
        small_corpus c;
        corpus_open(&c, chunks, 2);
        bp_ngram_model m;
        build_lm(&m, &c, 4, 2, threads);
        assert_true(m.l1['a'] == log(7.0) - log(262.0));
        assert_true(m.l1['b'] == log(1.0) - log(262.0));
        assert_true(bp_ngram_l2(&m, 'a' << 8 | 'a') == log(5.0) - log(7.0));
        assert_true(isinf(bp_ngram_l2(&m, 'a' << 8 | 'b')));
        assert_true(high_logp(&m, "aaa") == log(3.0) - log(5.0));
        assert_true(isinf(high_logp(&m, "aaaa")));
        assert_int_equal(m.n_kept, 256 + 1 + 1);
        bp_ngram_free(&m);
        corpus_close(&c);
    }
}

/* Level 3 counts a 3-gram only when its 2-byte prefix and suffix survived level 2: xyz
 * (prefix xy: 3, suffix yz: 2) is kept with its exact count 2; xyq (suffix yq: 1) is not
 * even a candidate. */
static void test_ngram_apriori_is_exact(void **state)
{
    (void)state;
    const char *chunks[] = {"xyz", "xyz", "xyq", "zq"};
    small_corpus c;
    corpus_open(&c, chunks, 4);
    bp_ngram_model m;
    build_lm(&m, &c, 3, 2, 1);
    assert_true(high_logp(&m, "xyz") == log(2.0) - log(3.0));
    assert_true(isinf(high_logp(&m, "xyq"))); /* count 1 */
    assert_true(isinf(bp_ngram_l2(&m, 'z' << 8 | 'q')));
    bp_ngram_free(&m);
    corpus_close(&c);
}

static size_t segment(const bp_ngram_model *m, const char *text, uint32_t *starts)
{
    bp_bnlm_scratch s = {0};
    size_t n;
    assert_int_equal(bp_bnlm_segment(m, true, (const unsigned char *)text, strlen(text), &s,
                                     starts, &n), BP_OK);
    bp_bnlm_scratch_free(&s);
    return n;
}

/* §3.3.4, the reference's own example: with ensure_unicode, a rare character (鑫, whose
 * 3 bytes never reach min_count) kills every tag at its last byte; from there on numpy's
 * argmax of all -inf is 0 and every byte to the end of the chunk becomes its own token,
 * the rare character's bytes included. The common line stays one token. */
static void test_segmentation_and_dead_chunk(void **state)
{
    (void)state;
    const char *common = "今天天气不错，我们去公园散步吧\n";
    const char *rare = "今天天气不错，鑫我们去公园散步吧\n";
    const char *chunks[] = {common, common, common, common, common, rare};
    small_corpus c;
    corpus_open(&c, chunks, 6);
    bp_ngram_model m;
    build_lm(&m, &c, 6, 2, 2);
    uint32_t starts[64];
    size_t n = segment(&m, common, starts);
    assert_int_equal(n, 1);
    assert_int_equal(starts[0], 0);
    n = segment(&m, rare, starts);
    size_t head = strlen("今天天气不错，"), len = strlen(rare);
    assert_int_equal(n, 1 + (len - head));
    assert_int_equal(starts[0], 0);
    for (size_t k = 1; k < n; k++)
        assert_int_equal(starts[k], head + k - 1);
    bp_ngram_free(&m);
    corpus_close(&c);
}

/* Pieces: bytes a 2, b 2, c 3, d 2, x 5 (the other 251 bytes are completed with 1), ab 10,
 * abc 4, and two to drop: abcd 6 (longer than 3) and cd 1 (below min_count 2).
 * Re-split: abcd -> abc + d (log 4 + log 2 - 2 log T beats every longer split with
 * T = 279), cd -> c + d; so abc = 10, c = 4, d = 9. The wasted-piece pass keeps ab and
 * abc (each beats its own split). Cut to 260 ids (257 pieces): after the 256 bytes the
 * order is count desc, then length desc, so abc (10, 3 bytes) stays and ab (10, 2 bytes)
 * is re-split into a + b: a = b = 12. */
static void test_prune_by_hand(void **state)
{
    (void)state;
    static const struct { const char *p; uint64_t c; } given[] = {
        {"a", 2}, {"b", 2}, {"c", 3}, {"d", 2}, {"x", 5}, {"ab", 10}, {"abc", 4}, {"abcd", 6},
        {"cd", 1}};
    bp_piece_table pieces = {0};
    for (size_t i = 0; i < sizeof given / sizeof given[0]; i++)
        assert_int_equal(bp_piece_table_add(&pieces, (const unsigned char *)given[i].p,
                                            strlen(given[i].p), given[i].c), BP_OK);
    bp_train_options o;
    bp_train_options_init(&o);
    o.min_count = 2;
    o.max_piece_length = 3;
    const size_t sizes[] = {260, 1000}; /* given smallest first: results keep this order */
    bp_model *models[2];
    bp_error err;
    assert_int_equal(bp_prune_pieces(&pieces, &o, 2, sizes, 2, models, &err), BP_OK);

    bp_model *big = models[1], *small = models[0];
    assert_int_equal(bp_model_vocab_size(big), 3 + 256 + 2);
    assert_int_equal(bp_model_piece_count(big, bp_model_piece_id(big, "ab", 2)), 10);
    assert_int_equal(bp_model_piece_count(big, bp_model_piece_id(big, "abc", 3)), 10);
    assert_int_equal(bp_model_piece_count(big, 'c' + 3), 4);
    assert_int_equal(bp_model_piece_count(big, 'd' + 3), 9);
    assert_int_equal(bp_model_piece_count(big, 'a' + 3), 2);
    assert_int_equal(bp_model_piece_count(big, 'x' + 3), 5);
    assert_int_equal(bp_model_piece_count(big, 'q' + 3), 1);
    assert_int_equal(bp_model_piece_id(big, "abcd", 4), BP_ID_NONE);
    assert_int_equal(bp_model_piece_id(big, "cd", 2), BP_ID_NONE);
    /* The reference's id order: length, then bytes. */
    assert_int_equal(bp_model_piece_id(big, "ab", 2), 259);
    assert_int_equal(bp_model_piece_id(big, "abc", 3), 260);

    assert_int_equal(bp_model_vocab_size(small), 260);
    assert_int_equal(bp_model_piece_id(small, "ab", 2), BP_ID_NONE);
    assert_int_equal(bp_model_piece_count(small, bp_model_piece_id(small, "abc", 3)), 10);
    assert_int_equal(bp_model_piece_count(small, 'a' + 3), 12);
    assert_int_equal(bp_model_piece_count(small, 'b' + 3), 12);
    assert_int_equal(bp_model_piece_count(small, 'd' + 3), 9);
    bp_model_free(big);
    bp_model_free(small);
    bp_piece_table_free(&pieces);
}

/* Trains on `text` (one text) with options `o` and returns the model of one vocabulary
 * size. */
static bp_model *train_text_with(const bp_train_options *o, const unsigned char *text, size_t len,
                                 size_t vocab, bp_status expect)
{
    bp_trainer *t;
    bp_error err;
    assert_int_equal(bp_trainer_create(o, &t, &err), BP_OK);
    /* Fed in uneven pieces: the chunker must not care where a feed ends. */
    for (size_t pos = 0; pos < len;) {
        size_t n = len - pos < 7777 ? len - pos : 7777;
        assert_int_equal(bp_trainer_feed(t, text + pos, n, &err), BP_OK);
        pos += n;
    }
    assert_int_equal(bp_trainer_end_text(t, &err), BP_OK);
    bp_model *m = NULL;
    bp_status st = bp_trainer_train(t, &vocab, 1, &m, &err);
    if (st != expect)
        fail_msg("train: %s (%s)", bp_strerror(st), st ? err.message : "");
    bp_trainer_free(t);
    return m;
}

/* train_text_with() with the defaults but `threads` and `min_count`. */
static bp_model *train_text(const unsigned char *text, size_t len, unsigned threads, size_t vocab,
                            uint64_t min_count, bp_status expect)
{
    bp_train_options o;
    bp_train_options_init(&o);
    o.threads = threads;
    o.min_count = min_count;
    return train_text_with(&o, text, len, vocab, expect);
}

/* A synthetic corpus: words drawn from a small Zipf-like lexicon, English and Chinese. */
static unsigned char *synthetic_corpus(size_t *len)
{
    static const char *const words[] = {"the ", "of ", "tokenizer ", "model ", "byte ", "piece ",
                                        "训练", "模型", "分词", "，", "。\n", "data ", "2024 ",
                                        "and ", "in ", "\n", "language ", "unigram "};
    size_t cap = 400000, n = 0;
    unsigned char *buf = malloc(cap);
    assert_non_null(buf);
    uint64_t x = 88172645463325252u;
    for (;;) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t r = (size_t)(x % 1000);
        size_t w = r < 400 ? r % 4 : r < 700 ? 4 + r % 6 : 10 + r % 8;
        size_t wl = strlen(words[w]);
        if (n + wl > cap)
            break;
        memcpy(buf + n, words[w], wl);
        n += wl;
    }
    *len = n;
    return buf;
}

static void test_threads_give_identical_models(void **state)
{
    (void)state;
    size_t len;
    unsigned char *text = synthetic_corpus(&len);
    bp_model *one = train_text(text, len, 1, 400, 2, BP_OK);
    bp_model *two = train_text(text, len, 2, 400, 2, BP_OK);
    bp_model *four = train_text(text, len, 4, 400, 2, BP_OK);
    assert_true(bp_model_vocab_size(one) > 259);
    assert_true(bp_model_vocab_size(one) <= 400);
    bp_test_assert_same_model(one, two);
    bp_test_assert_same_model(one, four);
    bp_model_free(one);
    bp_model_free(two);
    bp_model_free(four);
    free(text);
}

/* What the progress callback last saw of each stage. */
typedef struct progress_log {
    uint64_t done[4], total[4];
    unsigned calls[4];
} progress_log;

static void log_progress(void *ctx, const bp_train_progress *p)
{
    static const char *const stages[4] = {"reading", "counting n-grams", "segmenting", "pruning"};
    progress_log *log = ctx;
    for (int s = 0; s < 4; s++) {
        if (strcmp(p->stage, stages[s]) == 0) {
            log->done[s] = p->done;
            log->total[s] = p->total;
            log->calls[s]++;
            return;
        }
    }
    fail_msg("unknown stage \"%s\"", p->stage);
}

/* The totals a progress callback sees are the normalized text's bytes (the stats' bytes),
 * for every pass; reading has no total; pruning counts pieces. */
static void test_progress_totals(void **state)
{
    (void)state;
    size_t len;
    unsigned char *text = synthetic_corpus(&len);
    progress_log log = {0};
    bp_train_options o = {.threads = 2, .progress = log_progress, .progress_ctx = &log};
    bp_trainer *t;
    assert_int_equal(bp_trainer_create(&o, &t, NULL), BP_OK);
    assert_int_equal(bp_trainer_feed(t, text, len, NULL), BP_OK);
    assert_int_equal(bp_trainer_end_text(t, NULL), BP_OK);
    size_t vocab = 400;
    bp_model *m = NULL;
    assert_int_equal(bp_trainer_train(t, &vocab, 1, &m, NULL), BP_OK);
    bp_train_stats stats;
    bp_trainer_stats(t, &stats);
    assert_true(stats.bytes > len / 2 && stats.bytes <= len);
    assert_true(log.calls[0] > 0 && log.calls[1] > 0 && log.calls[2] > 0 && log.calls[3] > 0);
    assert_int_equal(log.done[0], stats.bytes);
    assert_int_equal(log.total[0], 0);
    for (int s = 1; s <= 2; s++) {
        assert_int_equal(log.done[s], stats.bytes);
        assert_int_equal(log.total[s], stats.bytes);
    }
    assert_true(log.done[3] <= log.total[3]);
    bp_model_free(m);
    bp_trainer_free(t);
    free(text);
}

/* Zero-initialised options and NULL train exactly as bp_train_options_init()'s defaults. */
static void test_zero_options_are_the_defaults(void **state)
{
    (void)state;
    size_t len;
    unsigned char *text = synthetic_corpus(&len);
    bp_train_options spelled, zero = {0};
    bp_train_options_init(&spelled);
    bp_model *a = train_text_with(&spelled, text, len, 400, BP_OK);
    bp_model *b = train_text_with(&zero, text, len, 400, BP_OK);
    bp_model *c = train_text_with(NULL, text, len, 400, BP_OK);
    bp_test_assert_same_model(a, b);
    bp_test_assert_same_model(a, c);
    /* Not a vacuous match: another min_count trains another model. */
    spelled.min_count = 50;
    bp_model *d = train_text_with(&spelled, text, len, 400, BP_OK);
    assert_true(bp_model_vocab_size(d) < bp_model_vocab_size(a));
    bp_model_free(a);
    bp_model_free(b);
    bp_model_free(c);
    bp_model_free(d);
    free(text);
}

/* The reference's training run on smoke_1MB.txt (order 6, vocab 4000, min_count 8,
 * max_piece_length 36, ensure_unicode): the same pieces with the same ids and counts. */
static void test_reference_smoke_vocabulary(void **state)
{
    (void)state;
    const char *corpus = bp_test_shared_path("reference/train/smoke_1MB.txt");
    if (!corpus)
        skip();
    size_t len;
    unsigned char *text = bp_test_read_file(corpus, &len);
    assert_non_null(text);
    bp_model *ours = train_text(text, len, 2, 4000, 8, BP_OK);
    bp_model *ref = NULL;
    bp_error err;
    assert_int_equal(bp_model_load(bp_test_shared_path("reference/train/smoke_1MB.v4000.mc8.model"),
                                   &ref, &err), BP_OK);
    bp_test_assert_same_model(ours, ref);
    bp_model_free(ours);
    bp_model_free(ref);
    free(text);
}

static void test_bad_input(void **state)
{
    (void)state;
    bp_train_options o;
    bp_train_options_init(&o);
    bp_trainer *t;
    bp_error err;
    o.order = 8;
    assert_int_equal(bp_trainer_create(&o, &t, &err), BP_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "order 8"));

    /* An empty corpus, and one of empty texts only. */
    assert_null(train_text((const unsigned char *)"", 0, 1, 1000, 2, BP_ERR_EMPTY_CORPUS));
    /* A vocabulary that cannot hold the 256 bytes. */
    assert_int_equal(bp_trainer_create(NULL, &t, &err), BP_OK);
    assert_int_equal(bp_trainer_feed(t, "abc", 3, &err), BP_OK);
    size_t tiny = 258;
    bp_model *m = NULL;
    assert_int_equal(bp_trainer_train(t, &tiny, 1, &m, &err), BP_ERR_INVALID_ARG);
    assert_null(m);
    bp_trainer_free(t);
    /* Invalid UTF-8 names its offset in the text. */
    assert_int_equal(bp_trainer_create(NULL, &t, &err), BP_OK);
    assert_int_equal(bp_trainer_feed(t, "ok\nbad \xff here", 14, &err), BP_ERR_BAD_UTF8);
    assert_int_equal(err.offset, 7);
    bp_trainer_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ngram_counts_and_logprobs),
        cmocka_unit_test(test_ngram_apriori_is_exact),
        cmocka_unit_test(test_segmentation_and_dead_chunk),
        cmocka_unit_test(test_prune_by_hand),
        cmocka_unit_test(test_threads_give_identical_models),
        cmocka_unit_test(test_zero_options_are_the_defaults),
        cmocka_unit_test(test_progress_totals),
        cmocka_unit_test(test_reference_smoke_vocabulary),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
