/*
 * test_nbest.c -- bp_encode_nbest() against brute force: for short texts under small
 * models (ties built on purpose, several chunks, byte pieces), every segmentation is
 * enumerated, scored from the model's own piece scores added left to right, and sorted by
 * the order the header documents; the n-best list must be exactly its first k entries,
 * ids and scores, for every k. On the golden texts, k = 1 must give bp_encode()'s ids.
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

#define MAX_TOKENS 24
#define MAX_CHUNK_SEGS 512
#define MAX_CHUNKS 4
#define MAX_TEXT_SEGS 1024

/*====== Brute force ======*/

typedef struct segmentation {
    uint32_t ids[MAX_TOKENS];
    size_t n;
} segmentation;

typedef struct chunk_list {
    segmentation segs[MAX_CHUNK_SEGS];
    size_t n;
} chunk_list;

/* The model the comparators read (qsort has no context argument). */
static const bp_model *g_model;

static double prefix_score(const segmentation *s, size_t n_tokens)
{
    double sum = 0.0;
    for (size_t i = 0; i < n_tokens; i++)
        sum = sum + bp_model_piece_score(g_model, s->ids[i]);
    return sum;
}

static size_t piece_len(uint32_t id)
{
    size_t len;
    bp_model_piece(g_model, id, &len);
    return len;
}

/* The documented order within a chunk, for the first na / nb tokens of two segmentations
 * of the same bytes: score descending, then the longer last piece, then the rest. */
static int compare_prefixes(const segmentation *a, size_t na, const segmentation *b, size_t nb)
{
    if (na == 0 || nb == 0)
        return 0;
    double sa = prefix_score(a, na), sb = prefix_score(b, nb);
    if (sa != sb)
        return sa > sb ? -1 : 1;
    size_t la = piece_len(a->ids[na - 1]), lb = piece_len(b->ids[nb - 1]);
    if (la != lb)
        return la > lb ? -1 : 1;
    return compare_prefixes(a, na - 1, b, nb - 1);
}

static int compare_segmentations(const void *pa, const void *pb)
{
    const segmentation *a = pa, *b = pb;
    return compare_prefixes(a, a->n, b, b->n);
}

static void enumerate(const unsigned char *x, size_t len, segmentation *cur, chunk_list *out)
{
    if (len == 0) {
        assert_true(out->n < MAX_CHUNK_SEGS);
        out->segs[out->n++] = *cur;
        return;
    }
    for (size_t l = 1; l <= len; l++) {
        uint32_t id = bp_model_piece_id(g_model, x, l);
        if (id == BP_ID_NONE)
            continue;
        assert_true(cur->n < MAX_TOKENS);
        cur->ids[cur->n++] = id;
        enumerate(x + l, len - l, cur, out);
        cur->n--;
    }
}

/* A segmentation of the text: the rank of each chunk's segmentation in its sorted list. */
typedef struct text_seg {
    size_t rank[MAX_CHUNKS];
} text_seg;

static chunk_list g_chunks[MAX_CHUNKS];
static size_t g_n_chunks;

/* The chunk scores of the first n_chunks chunks, added left to right. */
static double text_score(const text_seg *t, size_t n_chunks)
{
    double sum = 0.0;
    for (size_t j = 0; j < n_chunks; j++)
        sum = sum + prefix_score(&g_chunks[j].segs[t->rank[j]], g_chunks[j].segs[t->rank[j]].n);
    return sum;
}

/* The documented order across chunks: total descending, then the last chunk's
 * segmentation, then the chunks before it. */
static int compare_text_prefixes(const text_seg *a, const text_seg *b, size_t n_chunks)
{
    if (n_chunks == 0)
        return 0;
    double sa = text_score(a, n_chunks), sb = text_score(b, n_chunks);
    if (sa != sb)
        return sa > sb ? -1 : 1;
    size_t ra = a->rank[n_chunks - 1], rb = b->rank[n_chunks - 1];
    if (ra != rb)
        return ra < rb ? -1 : 1;
    return compare_text_prefixes(a, b, n_chunks - 1);
}

static int compare_text_segs(const void *pa, const void *pb)
{
    return compare_text_prefixes(pa, pb, g_n_chunks);
}

static text_seg g_texts[MAX_TEXT_SEGS];

/* Every segmentation of x[0..len) (ASCII or already NFC), sorted; returns how many. The
 * chunks are cut as bp_encode() cuts them: a run of non-newlines and the newlines after. */
static size_t brute_force(const bp_model *m, const char *text)
{
    g_model = m;
    g_n_chunks = 0;
    const unsigned char *x = (const unsigned char *)text;
    size_t len = strlen(text);
    for (size_t pos = 0; pos < len;) {
        size_t end = pos;
        while (end < len && x[end] != '\n')
            end++;
        while (end < len && x[end] == '\n')
            end++;
        assert_true(g_n_chunks < MAX_CHUNKS);
        chunk_list *c = &g_chunks[g_n_chunks++];
        segmentation cur = {{0}, 0};
        c->n = 0;
        enumerate(x + pos, end - pos, &cur, c);
        qsort(c->segs, c->n, sizeof c->segs[0], compare_segmentations);
        pos = end;
    }
    size_t total = 1;
    for (size_t j = 0; j < g_n_chunks; j++)
        total *= g_chunks[j].n;
    assert_true(total <= MAX_TEXT_SEGS);
    for (size_t i = 0; i < total; i++) {
        size_t rest = i;
        for (size_t j = 0; j < g_n_chunks; j++) {
            g_texts[i].rank[j] = rest % g_chunks[j].n;
            rest /= g_chunks[j].n;
        }
    }
    qsort(g_texts, total, sizeof g_texts[0], compare_text_segs);
    return total;
}

/* The ids of text segmentation i, chunk after chunk. */
static size_t text_ids(size_t i, uint32_t *ids)
{
    size_t n = 0;
    for (size_t j = 0; j < g_n_chunks; j++) {
        const segmentation *s = &g_chunks[j].segs[g_texts[i].rank[j]];
        memcpy(ids + n, s->ids, s->n * sizeof *ids);
        n += s->n;
    }
    return n;
}

/* For k = 1 .. all + 1: the n-best list is the first k of the brute force, exactly. */
static void check_against_brute_force(const bp_model *m, const char *text)
{
    size_t total = brute_force(m, text);
    bp_encoder *enc;
    assert_int_equal(bp_encoder_create(m, &enc, NULL), BP_OK);
    size_t max_k = total + 1 < BP_NBEST_MAX ? total + 1 : BP_NBEST_MAX;
    for (size_t k = 1; k <= max_k; k++) {
        bp_nbest nb;
        bp_error err;
        assert_int_equal(bp_encode_nbest(enc, text, strlen(text), NULL, k, &nb, &err), BP_OK);
        assert_int_equal(nb.n, k < total ? k : total);
        for (size_t i = 0; i < nb.n; i++) {
            uint32_t want[MAX_CHUNKS * MAX_TOKENS];
            size_t n_want = text_ids(i, want);
            assert_int_equal(nb.ids_begin[i + 1] - nb.ids_begin[i], n_want);
            assert_memory_equal(nb.ids + nb.ids_begin[i], want, n_want * sizeof *want);
            double score = text_score(&g_texts[i], g_n_chunks);
            if (memcmp(&nb.scores[i], &score, sizeof score) != 0)
                fail_msg("\"%s\" k=%zu #%zu: score %.17g, brute force %.17g", text, k, i,
                         nb.scores[i], score);
        }
        bp_nbest_free(&nb);
    }
    bp_encoder_free(enc);
}

/*====== Brute force on small models ======*/

static void test_brute_force_plain(void **state)
{
    (void)state;
    static const char *const words[] = {"ab", "abc", "bc", "bcd", "cd", "abcd", "da", "dab"};
    static const uint64_t counts[] = {50, 20, 40, 9, 30, 7, 11, 5};
    bp_model *m = bp_test_small_model(words, counts, 8);
    check_against_brute_force(m, "");
    check_against_brute_force(m, "a");
    check_against_brute_force(m, "abcd");
    check_against_brute_force(m, "dabcdab");
    check_against_brute_force(m, "abcdabc");
    bp_model_free(m);
}

/* Ties on purpose. "--" + "------" and "------" + "--" add the same two numbers (the first
 * from 0, exactly), so they tie bit for bit, and the longer last piece goes first; "abc"
 * and "bch" have equal counts, and so have 'a' and 'h' (the small model gives byte b the
 * count 1 + b % 7), so "abch" ties as "abc" + "h" and "a" + "bch". */
static void test_brute_force_ties(void **state)
{
    (void)state;
    static const char *const words[] = {"--", "------", "abc", "bch", "ab", "ch"};
    static const uint64_t counts[] = {30, 12, 8, 8, 20, 20};
    bp_model *m = bp_test_small_model(words, counts, 6);
    check_against_brute_force(m, "--------");
    check_against_brute_force(m, "abch");
    check_against_brute_force(m, "-----abch");
    bp_model_free(m);
}

/* The ties above, checked by name: the first of each tie is the one the Viterbi picks. */
static void test_tie_order_is_viterbi(void **state)
{
    (void)state;
    static const char *const words[] = {"--", "------", "abc", "bch"};
    static const uint64_t counts[] = {30, 12, 8, 8};
    bp_model *m = bp_test_small_model(words, counts, 4);
    bp_encoder *enc;
    assert_int_equal(bp_encoder_create(m, &enc, NULL), BP_OK);
    bp_nbest nb;
    assert_int_equal(bp_encode_nbest(enc, "abch", 4, NULL, 2, &nb, NULL), BP_OK);
    uint32_t a = 'a' + 3, h = 'h' + 3, abc = 256 + 3 + 2, bch = 256 + 3 + 3;
    const uint32_t want[] = {a, bch, abc, h};
    assert_int_equal(nb.n, 2);
    assert_int_equal(nb.ids_begin[2], 4);
    assert_memory_equal(nb.ids, want, sizeof want);
    assert_true(nb.scores[0] == nb.scores[1]);
    uint32_t ids[8];
    size_t n;
    assert_int_equal(bp_encode(enc, "abch", 4, NULL, ids, NULL, 8, &n, NULL), BP_OK);
    assert_int_equal(n, 2);
    assert_memory_equal(ids, want, 2 * sizeof *ids);
    bp_nbest_free(&nb);
    bp_encoder_free(enc);
    bp_model_free(m);
}

static void test_brute_force_chunks(void **state)
{
    (void)state;
    static const char *const words[] = {"ab", "b\n", "\n\n", "ba", "aba"};
    static const uint64_t counts[] = {9, 4, 6, 9, 3};
    bp_model *m = bp_test_small_model(words, counts, 5);
    check_against_brute_force(m, "ab\nba");
    check_against_brute_force(m, "aba\n\n\nab\n");
    check_against_brute_force(m, "\n\nb\nabab\nba");
    bp_model_free(m);
}

/* Pieces of bytes that are not whole characters: "\xc3" + "\xa9" against "\xc3\xa9" (é, NFC
 * already), and raw bytes that are not UTF-8 at all, which pass NFC unchanged. */
static void test_brute_force_bytes(void **state)
{
    (void)state;
    static const char *const words[] = {"\xc3\xa9", "\xc3\xa9t\xc3\xa9", "t\xc3", "\xff\xfe"};
    static const uint64_t counts[] = {10, 3, 5, 2};
    bp_model *m = bp_test_small_model(words, counts, 4);
    check_against_brute_force(m, "\xc3\xa9t\xc3\xa9");
    check_against_brute_force(m, "\xff\xfe\xff\n\xc3\xa9t\xc3\xa9");
    bp_model_free(m);
}

/*====== Contract ======*/

static void test_bos_eos_and_empty(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(NULL, NULL, 0);
    bp_encoder *enc;
    assert_int_equal(bp_encoder_create(m, &enc, NULL), BP_OK);
    bp_encode_options o = {0, BP_ENCODE_BOS | BP_ENCODE_EOS, NULL};
    bp_nbest nb;
    assert_int_equal(bp_encode_nbest(enc, "", 0, &o, 5, &nb, NULL), BP_OK);
    assert_int_equal(nb.n, 1);
    assert_int_equal(nb.ids_begin[1], 2);
    assert_int_equal(nb.ids[0], BP_ID_BOS);
    assert_int_equal(nb.ids[1], BP_ID_EOS);
    assert_true(nb.scores[0] == 0.0);
    bp_nbest_free(&nb);
    /* Only single bytes: "xy" has one segmentation. */
    assert_int_equal(bp_encode_nbest(enc, "xy", 2, &o, 5, &nb, NULL), BP_OK);
    const uint32_t want[] = {BP_ID_BOS, 'x' + 3, 'y' + 3, BP_ID_EOS};
    assert_int_equal(nb.n, 1);
    assert_int_equal(nb.ids_begin[1], 4);
    assert_memory_equal(nb.ids, want, sizeof want);
    bp_nbest_free(&nb);
    bp_encoder_free(enc);
    bp_model_free(m);
}

/* NFC first, as bp_encode(): "e" + U+0301 is encoded as "\xc3\xa9", which the encoder
 * then reports as its normalized text; NO_NORMALIZE keeps the bytes. */
static void test_normalization(void **state)
{
    (void)state;
    static const char *const words[] = {"\xc3\xa9"};
    static const uint64_t counts[] = {50};
    bp_model *m = bp_test_small_model(words, counts, 1);
    bp_encoder *enc;
    assert_int_equal(bp_encoder_create(m, &enc, NULL), BP_OK);
    bp_nbest nb;
    assert_int_equal(bp_encode_nbest(enc, "e\xcc\x81", 3, NULL, 3, &nb, NULL), BP_OK);
    const uint32_t want[] = {256 + 3, 0xc3 + 3, 0xa9 + 3};
    assert_int_equal(nb.n, 2);
    assert_int_equal(nb.ids_begin[2], 3);
    assert_memory_equal(nb.ids, want, sizeof want);
    size_t len;
    const unsigned char *normalized = bp_encoder_normalized(enc, &len);
    assert_int_equal(len, 2);
    assert_memory_equal(normalized, "\xc3\xa9", 2);
    bp_nbest_free(&nb);
    bp_encode_options raw = {0, BP_ENCODE_NO_NORMALIZE, NULL};
    assert_int_equal(bp_encode_nbest(enc, "e\xcc\x81", 3, &raw, 3, &nb, NULL), BP_OK);
    const uint32_t want_raw[] = {'e' + 3, 0xcc + 3, 0x81 + 3};
    assert_int_equal(nb.n, 1);
    assert_memory_equal(nb.ids, want_raw, sizeof want_raw);
    bp_nbest_free(&nb);
    bp_encoder_free(enc);
    bp_model_free(m);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(NULL, NULL, 0);
    bp_encoder *enc;
    assert_int_equal(bp_encoder_create(m, &enc, NULL), BP_OK);
    bp_nbest nb = {(uint32_t *)1, (size_t *)1, (double *)1, 7};
    bp_error err;
    assert_int_equal(bp_encode_nbest(enc, "a", 1, NULL, 0, &nb, &err), BP_ERR_INVALID_ARG);
    assert_null(nb.ids);
    assert_int_equal(nb.n, 0);
    assert_non_null(strstr(err.message, "k must be from 1 to 1024 (got 0)"));
    assert_int_equal(bp_encode_nbest(enc, "a", 1, NULL, BP_NBEST_MAX + 1, &nb, &err),
                     BP_ERR_INVALID_ARG);
    assert_int_equal(bp_encode_nbest(enc, "a", 1, NULL, BP_NBEST_MAX, &nb, &err), BP_OK);
    assert_int_equal(nb.n, 1);
    bp_nbest_free(&nb);
    bp_rng rng;
    bp_rng_seed(&rng, 1, 0);
    bp_encode_options sample = {0.5, BP_ENCODE_SAMPLE, &rng};
    assert_int_equal(bp_encode_nbest(enc, "a", 1, &sample, 2, &nb, &err), BP_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "BP_ENCODE_SAMPLE"));
    assert_int_equal(bp_encode_nbest(NULL, "a", 1, NULL, 2, &nb, &err), BP_ERR_INVALID_ARG);
    assert_int_equal(bp_encode_nbest(enc, NULL, 1, NULL, 2, &nb, &err), BP_ERR_INVALID_ARG);
    assert_int_equal(bp_encode_nbest(enc, "a", 1, NULL, 2, NULL, &err), BP_ERR_INVALID_ARG);
    bp_nbest_free(NULL);
    bp_encoder_free(enc);
    bp_model_free(m);
}

/*====== Golden texts: k = 1 is bp_encode() ======*/

static void check_first_is_viterbi(bp_encoder *enc, const unsigned char *text, size_t len,
                                   size_t k, uint32_t *ids, size_t cap)
{
    size_t n;
    assert_int_equal(bp_encode(enc, text, len, NULL, ids, NULL, cap, &n, NULL), BP_OK);
    bp_nbest nb;
    assert_int_equal(bp_encode_nbest(enc, text, len, NULL, k, &nb, NULL), BP_OK);
    assert_true(nb.n >= 1 && nb.n <= k);
    assert_int_equal(nb.ids_begin[1], n);
    assert_memory_equal(nb.ids, ids, n * sizeof *ids);
    for (size_t i = 1; i < nb.n; i++)
        assert_true(nb.scores[i] <= nb.scores[i - 1]);
    bp_nbest_free(&nb);
}

static void check_golden(const char *corpus)
{
    bp_model *m = bp_test_load_reference_model("bytepiece.plus.80k");
    const char *path = bp_test_shared_path(corpus);
    if (!m || !path) {
        bp_model_free(m);
        skip();
    }
    size_t len;
    unsigned char *text = bp_test_read_file(path, &len);
    assert_non_null(text);
    bp_encoder *enc;
    assert_int_equal(bp_encoder_create(m, &enc, NULL), BP_OK);
    size_t cap = bp_encode_bound(len);
    uint32_t *ids = malloc(cap * sizeof *ids);
    assert_non_null(ids);
    check_first_is_viterbi(enc, text, len, 1, ids, cap); /* the whole file, many chunks */
    size_t lines = 0;
    for (size_t pos = 0; pos < len; lines++) {
        const unsigned char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) + 1 : len;
        check_first_is_viterbi(enc, text + pos, end - pos, lines % 50 ? 1 : 8, ids, cap);
        pos = end;
    }
    assert_true(lines > 1000);
    free(ids);
    bp_encoder_free(enc);
    free(text);
    bp_model_free(m);
}

static void test_golden_en(void **state)
{
    (void)state;
    check_golden("corpus/golden_en.txt");
}

static void test_golden_zh(void **state)
{
    (void)state;
    check_golden("corpus/golden_zh.txt");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_brute_force_plain),
        cmocka_unit_test(test_brute_force_ties),
        cmocka_unit_test(test_tie_order_is_viterbi),
        cmocka_unit_test(test_brute_force_chunks),
        cmocka_unit_test(test_brute_force_bytes),
        cmocka_unit_test(test_bos_eos_and_empty),
        cmocka_unit_test(test_normalization),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_golden_en),
        cmocka_unit_test(test_golden_zh),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
