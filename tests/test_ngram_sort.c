/*
 * test_ngram_sort.c -- a shard's pass 1 counted by sorting (train_ngram_sort.c) against a
 * naive count of every n-gram: random chunks mostly over a few byte values (zero among
 * them, the padding byte of the sort keys), orders 3 to 7, one and two threads, with and
 * without a memory limit that makes the sorted keys spill. Exact entries in exact order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "counts_file.h"
#include "train_internal.h"
#include "test_util.h"

#define N_CHUNKS 1000
#define MAX_CHUNK 48

typedef struct gram {
    unsigned k;
    unsigned char g[BP_MAX_ORDER];
} gram;

static int compare_grams(const void *pa, const void *pb)
{
    const gram *a = pa, *b = pb;
    return bp_counts_compare(a->g, a->k, b->g, b->k);
}

/* Mostly a few byte values, so that n-grams repeat (more than the 31 times a sort key can
 * stand for); 0 pads the keys, 0xFF is the largest byte. Any byte a quarter of the time,
 * so that thousands of n-grams are distinct and the arrays of keys spill. */
static unsigned char random_byte(uint64_t *state)
{
    static const unsigned char values[] = {0x00, 0x01, 'a', 'b', 0xFF};
    *state = *state * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
    uint64_t r = *state >> 33;
    return r % 4 ? values[(r >> 2) % sizeof values] : (unsigned char)(r >> 8);
}

static size_t random_length(uint64_t *state)
{
    *state = *state * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
    return (size_t)(*state >> 33) % (MAX_CHUNK + 1);
}

/* Counts `chunks` (joined in text, lengths in lens) with `o` and checks the file's
 * entries of levels 3 .. order against every n-gram counted one by one. */
static void check_against_naive(const unsigned char *text, const size_t *lens,
                                const bp_train_options *o, unsigned threads, bool spills)
{
    bp_error err;
    bp_spool sp;
    bp_byte_counts c = {0};
    assert_int_equal(bp_spool_open(&sp, NULL, &err), BP_OK);
    gram *want = malloc(N_CHUNKS * MAX_CHUNK * BP_MAX_ORDER * sizeof *want);
    assert_non_null(want);
    size_t n_want = 0;
    for (size_t i = 0, at = 0; i < N_CHUNKS; at += lens[i++]) {
        assert_int_equal(bp_byte_counts_add(&c, text + at, lens[i]), BP_OK);
        assert_int_equal(bp_spool_append(&sp, text + at, lens[i], &err), BP_OK);
        for (unsigned k = 3; k <= o->order; k++)
            for (size_t s = 0; s + k <= lens[i]; s++) {
                want[n_want] = (gram){k, {0}};
                memcpy(want[n_want++].g, text + at + s, k);
            }
    }
    assert_int_equal(bp_spool_flush(&sp, &err), BP_OK);
    qsort(want, n_want, sizeof *want, compare_grams);

    char path[256];
    snprintf(path, sizeof path, "%s/sorted.counts", bp_test_scratch);
    bp_runs runs = {0};
    bp_counts_info_from(&runs.info, BP_COUNTS_NGRAMS, o);
    uint64_t entries;
    assert_int_equal(bp_ngram_counts_save(path, &sp, &c, o, threads, N_CHUNKS, &runs, &entries,
                                          &err),
                     BP_OK);
    if (spills)
        assert_true(runs.written > 1);
    else
        assert_int_equal(runs.written, 0);
    bp_runs_free(&runs);

    bp_counts_reader r;
    assert_int_equal(bp_counts_open(&r, path, &err), BP_OK);
    const unsigned char *bytes;
    size_t len;
    uint64_t count;
    do
        assert_int_equal(bp_counts_next(&r, &bytes, &len, &count, &err), BP_OK);
    while (bytes && len < 3);
    for (size_t i = 0; i < n_want;) {
        size_t same = 1;
        while (i + same < n_want && compare_grams(&want[i], &want[i + same]) == 0)
            same++;
        assert_non_null(bytes);
        assert_int_equal(len, want[i].k);
        assert_memory_equal(bytes, want[i].g, len);
        assert_int_equal(count, same);
        i += same;
        assert_int_equal(bp_counts_next(&r, &bytes, &len, &count, &err), BP_OK);
    }
    assert_null(bytes);
    bp_counts_close(&r);
    free(want);
    bp_byte_counts_free(&c);
    bp_spool_close(&sp);
}

static void test_sorted_counts_are_the_naive_counts(void **state)
{
    (void)state;
    uint64_t rng = 14;
    size_t lens[N_CHUNKS], total = 0;
    for (size_t i = 0; i < N_CHUNKS; i++)
        total += lens[i] = random_length(&rng);
    unsigned char *text = malloc(total);
    assert_non_null(text);
    for (size_t i = 0; i < total; i++)
        text[i] = random_byte(&rng);
    for (unsigned order = 3; order <= BP_MAX_ORDER; order++)
        for (unsigned threads = 1; threads <= 2; threads++)
            for (int spills = 0; spills <= 1; spills++) {
                bp_train_options o;
                bp_train_options_init(&o);
                o.order = order;
                /* 1 byte: each thread's array holds its minimum, 1024 keys, far fewer than
                 * the distinct n-grams of the about 22,000 positions: several runs. */
                o.memory_limit = spills ? 1 : 0;
                check_against_naive(text, lens, &o, threads, spills);
            }
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sorted_counts_are_the_naive_counts),
    };
    return cmocka_run_group_tests(tests, bp_test_make_scratch, bp_test_remove_scratch);
}
