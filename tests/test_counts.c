/*
 * test_counts.c -- training in stages through the API: the exact entries of n-gram count
 * files and their merge, the staged training against bp_trainer_train on the same texts,
 * and the refusals of bad, crafted and mixed-up count files with their exact codes.
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

static const char *scratch_path(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", bp_test_scratch, name);
    return buf;
}

/* A trainer with options `o` fed the texts[0..n), one text each. */
static bp_trainer *fed_trainer(const bp_train_options *o, const char *const *texts, size_t n)
{
    bp_trainer *t;
    assert_int_equal(bp_trainer_create(o, &t, NULL), BP_OK);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(bp_trainer_feed(t, texts[i], strlen(texts[i]), NULL), BP_OK);
        assert_int_equal(bp_trainer_end_text(t, NULL), BP_OK);
    }
    return t;
}

static void save_ngrams(const bp_train_options *o, const char *const *texts, size_t n,
                        const char *path)
{
    bp_trainer *t = fed_trainer(o, texts, n);
    assert_int_equal(bp_trainer_save_ngram_counts(t, path, NULL), BP_OK);
    bp_trainer_free(t);
}

/* An entry of a count file, as a test expects it. */
typedef struct entry {
    const char *bytes;
    uint64_t count;
} entry;

/* The file at `path` holds exactly want[0..n), in that order. */
static void assert_entries(const char *path, const entry *want, size_t n)
{
    bp_counts_reader r;
    assert_int_equal(bp_counts_open(&r, path, NULL), BP_OK);
    for (size_t i = 0; i <= n; i++) {
        const unsigned char *bytes;
        size_t len;
        uint64_t count;
        assert_int_equal(bp_counts_next(&r, &bytes, &len, &count, NULL), BP_OK);
        if (i == n) {
            assert_null(bytes);
            break;
        }
        assert_int_equal(len, strlen(want[i].bytes));
        assert_memory_equal(bytes, want[i].bytes, len);
        assert_int_equal(count, want[i].count);
    }
    bp_counts_close(&r);
}

/* Shard 1 "abab", shard 2 "ba", order 3: a 2+1, b 2+1, ab 2, ba 1+1, aba 1, bab 1. */
static void test_merged_ngram_entries(void **state)
{
    (void)state;
    bp_train_options o = {.order = 3, .threads = 1};
    char p1[128], p2[128], merged[128];
    save_ngrams(&o, (const char *const[]){"abab"}, 1, scratch_path(p1, sizeof p1, "1.counts"));
    save_ngrams(&o, (const char *const[]){"ba"}, 1, scratch_path(p2, sizeof p2, "2.counts"));
    bp_counts_info info;
    assert_int_equal(bp_counts_merge((const char *const[]){p2, p1}, 2,
                                     scratch_path(merged, sizeof merged, "m.counts"), &info, NULL),
                     BP_OK);
    assert_int_equal(info.kind, BP_COUNTS_NGRAMS);
    assert_int_equal(info.entries, 6);
    assert_int_equal(info.bytes, 6);
    assert_int_equal(info.chunks, 2);
    assert_int_equal(info.options.order, 3);
    assert_int_equal(info.options.min_count, 2);
    static const entry want[] = {{"a", 3}, {"b", 3}, {"ab", 2}, {"ba", 2}, {"aba", 1}, {"bab", 1}};
    assert_entries(merged, want, sizeof want / sizeof want[0]);
}

/* The same shards merged pruned (min_count 2): every byte, and ab, ba; not aba, bab. A
 * pruned file is merged no more, and piece counts are not pruned. */
static void test_pruned_merge_entries(void **state)
{
    (void)state;
    bp_train_options o = {.order = 3, .threads = 1};
    char p1[128], p2[128], pruned[128], out[128], pieces[128];
    save_ngrams(&o, (const char *const[]){"abab"}, 1, scratch_path(p1, sizeof p1, "1.counts"));
    save_ngrams(&o, (const char *const[]){"ba"}, 1, scratch_path(p2, sizeof p2, "2.counts"));
    bp_counts_info info;
    assert_int_equal(bp_counts_merge_pruned((const char *const[]){p2, p1}, 2,
                                            scratch_path(pruned, sizeof pruned, "p.counts"),
                                            &info, NULL),
                     BP_OK);
    assert_int_equal(info.kind, BP_COUNTS_NGRAMS_PRUNED);
    assert_int_equal(info.entries, 4);
    assert_int_equal(info.bytes, 6);
    assert_int_equal(info.chunks, 2);
    static const entry want[] = {{"a", 3}, {"b", 3}, {"ab", 2}, {"ba", 2}};
    assert_entries(pruned, want, sizeof want / sizeof want[0]);

    bp_error err;
    scratch_path(out, sizeof out, "never.counts");
    assert_int_equal(bp_counts_merge((const char *const[]){p1, pruned}, 2, out, NULL, &err),
                     BP_ERR_MISMATCH);
    assert_non_null(strstr(err.message, "pruned n-gram counts, which do not add up"));
    assert_int_equal(bp_counts_merge_pruned((const char *const[]){pruned}, 1, out, NULL, &err),
                     BP_ERR_MISMATCH);
    bp_trainer *t = fed_trainer(&o, (const char *const[]){"abab"}, 1);
    assert_int_equal(bp_trainer_save_piece_counts(t, pruned, scratch_path(pieces, sizeof pieces,
                                                                          "1.pieces"), NULL),
                     BP_OK);
    bp_trainer_free(t);
    assert_int_equal(bp_counts_merge_pruned((const char *const[]){pieces}, 1, out, NULL, &err),
                     BP_ERR_MISMATCH);
    assert_non_null(strstr(err.message, "only n-gram counts are pruned"));
    assert_null(fopen(out, "rb")); /* nothing written */
}

/* Texts of words drawn by a fixed LCG, so that pieces repeat across texts. */
enum { N_TEXTS = 240, TEXT_CAP = 160 };
static void make_texts(char texts[N_TEXTS][TEXT_CAP], const char *ptrs[N_TEXTS])
{
    static const char *const words[] = {"the", "then", "there", "token", "tokens", "piece",
                                        "pieces", "byte", "bytes", "train", "count", "merge",
                                        "caf\xc3\xa9", "na\xc3\xafve", "\xe5\xad\x97\xe8\x8a\x82",
                                        "2026", "shard", "exact", ", ", ".\n"};
    uint32_t x = 12345;
    for (int t = 0; t < N_TEXTS; t++) {
        size_t len = 0;
        texts[t][0] = '\0';
        for (;;) {
            x = x * 1103515245u + 12345u;
            const char *w = words[(x >> 16) % (sizeof words / sizeof words[0])];
            if (len + strlen(w) + 2 > TEXT_CAP)
                break;
            len += (size_t)sprintf(texts[t] + len, "%s ", w);
        }
        ptrs[t] = texts[t];
    }
}

static void assert_same_file(const char *a, const char *b)
{
    size_t a_len, b_len;
    unsigned char *a_bytes = bp_test_read_file(a, &a_len), *b_bytes = bp_test_read_file(b, &b_len);
    assert_non_null(a_bytes);
    assert_non_null(b_bytes);
    assert_int_equal(a_len, b_len);
    assert_memory_equal(a_bytes, b_bytes, a_len);
    free(a_bytes);
    free(b_bytes);
}

/* The texts dealt to 3 shards, merged in other orders, against one trainer. */
static void test_staged_training_is_the_trainer(void **state)
{
    (void)state;
    static char texts[N_TEXTS][TEXT_CAP];
    const char *lines[N_TEXTS];
    make_texts(texts, lines);
    bp_train_options o = {.order = 4, .threads = 2};
    size_t vocab = 300;
    bp_trainer *whole = fed_trainer(&o, lines, N_TEXTS);
    bp_model *want, *got;
    assert_int_equal(bp_trainer_train(whole, &vocab, 1, &want, NULL), BP_OK);
    bp_train_stats want_stats, stats;
    bp_trainer_stats(whole, &want_stats);
    bp_trainer_free(whole);
    assert_true(bp_model_vocab_size(want) > 256 + BP_N_SPECIAL); /* pieces beyond the bytes */

    enum { SHARDS = 3 };
    const char *shard_lines[SHARDS][N_TEXTS];
    size_t shard_n[SHARDS] = {0};
    for (size_t i = 0; i < N_TEXTS; i++)
        shard_lines[i % SHARDS][shard_n[i % SHARDS]++] = lines[i];
    char ngrams[SHARDS][128], pieces[SHARDS][128], all_ngrams[128], all_pieces[128];
    for (int s = 0; s < SHARDS; s++) {
        snprintf(ngrams[s], sizeof ngrams[s], "%s/%d.ngrams", bp_test_scratch, s);
        save_ngrams(&o, shard_lines[s], shard_n[s], ngrams[s]);
    }
    scratch_path(all_ngrams, sizeof all_ngrams, "all.ngrams");
    assert_int_equal(bp_counts_merge((const char *const[]){ngrams[2], ngrams[0], ngrams[1]},
                                     SHARDS, all_ngrams, NULL, NULL),
                     BP_OK);
    for (int s = 0; s < SHARDS; s++) {
        snprintf(pieces[s], sizeof pieces[s], "%s/%d.pieces", bp_test_scratch, s);
        bp_trainer *t = fed_trainer(&o, shard_lines[s], shard_n[s]);
        assert_int_equal(bp_trainer_save_piece_counts(t, all_ngrams, pieces[s], NULL), BP_OK);
        bp_trainer_free(t);
    }
    /* The pruned sum gives pass 2 the same model: the same piece counts, byte for byte. */
    char pruned_ngrams[128], from_pruned[128];
    scratch_path(pruned_ngrams, sizeof pruned_ngrams, "pruned.ngrams");
    scratch_path(from_pruned, sizeof from_pruned, "from_pruned.pieces");
    assert_int_equal(bp_counts_merge_pruned((const char *const[]){ngrams[1], ngrams[2], ngrams[0]},
                                            SHARDS, pruned_ngrams, NULL, NULL),
                     BP_OK);
    for (int s = 0; s < SHARDS; s++) {
        bp_trainer *t = fed_trainer(&o, shard_lines[s], shard_n[s]);
        assert_int_equal(bp_trainer_save_piece_counts(t, pruned_ngrams, from_pruned, NULL), BP_OK);
        bp_trainer_free(t);
        assert_same_file(pieces[s], from_pruned);
    }
    scratch_path(all_pieces, sizeof all_pieces, "all.pieces");
    assert_int_equal(bp_counts_merge((const char *const[]){pieces[1], pieces[2], pieces[0]},
                                     SHARDS, all_pieces, NULL, NULL),
                     BP_OK);
    assert_int_equal(bp_train_from_counts(all_pieces, NULL, &vocab, 1, &got, &stats, NULL), BP_OK);
    assert_int_equal(stats.bytes, want_stats.bytes);
    assert_int_equal(stats.chunks, want_stats.chunks);
    assert_int_equal(stats.distinct_pieces, want_stats.distinct_pieces);
    bp_test_assert_same_model(want, got);
    bp_model_free(want);
    bp_model_free(got);
}

/* A tiny memory limit spills every few entries (more runs than one merge reads, so they
 * are merged in rounds): the same model, n-gram counts and piece counts as without it. */
static void test_memory_limit_gives_the_same_bytes(void **state)
{
    (void)state;
    static char texts[N_TEXTS][TEXT_CAP];
    const char *lines[N_TEXTS];
    make_texts(texts, lines);
    bp_train_options o = {.order = 4, .threads = 2}, limited = o;
    limited.memory_limit = 4096;
    size_t vocab = 300;
    bp_model *want, *got;
    bp_train_stats want_stats, stats;
    bp_trainer *t = fed_trainer(&o, lines, N_TEXTS);
    assert_int_equal(bp_trainer_train(t, &vocab, 1, &want, NULL), BP_OK);
    bp_trainer_stats(t, &want_stats);
    bp_trainer_free(t);
    t = fed_trainer(&limited, lines, N_TEXTS);
    assert_int_equal(bp_trainer_train(t, &vocab, 1, &got, NULL), BP_OK);
    bp_trainer_stats(t, &stats);
    bp_trainer_free(t);
    bp_test_assert_same_model(want, got);
    assert_int_equal(want_stats.spilled_runs, 0);
    assert_int_equal(want_stats.spilled_bytes, 0);
    assert_true(stats.spilled_runs > BP_RUNS_FAN_IN);
    assert_true(stats.spilled_bytes > 0);
    assert_int_equal(stats.ngrams, want_stats.ngrams);
    assert_int_equal(stats.distinct_pieces, want_stats.distinct_pieces);
    bp_model_free(want);
    bp_model_free(got);

    char plain[128], spilled[128], plain_pieces[128], spilled_pieces[128];
    save_ngrams(&o, lines, N_TEXTS, scratch_path(plain, sizeof plain, "plain.ngrams"));
    save_ngrams(&limited, lines, N_TEXTS, scratch_path(spilled, sizeof spilled, "spilled.ngrams"));
    assert_same_file(plain, spilled);
    scratch_path(plain_pieces, sizeof plain_pieces, "plain.pieces");
    scratch_path(spilled_pieces, sizeof spilled_pieces, "spilled.pieces");
    t = fed_trainer(&o, lines, N_TEXTS);
    assert_int_equal(bp_trainer_save_piece_counts(t, plain, plain_pieces, NULL), BP_OK);
    bp_trainer_free(t);
    t = fed_trainer(&limited, lines, N_TEXTS);
    assert_int_equal(bp_trainer_save_piece_counts(t, plain, spilled_pieces, NULL), BP_OK);
    bp_trainer_stats(t, &stats);
    bp_trainer_free(t);
    assert_true(stats.spilled_runs > 0);
    assert_int_equal(stats.distinct_pieces, want_stats.distinct_pieces);
    assert_same_file(plain_pieces, spilled_pieces);
}

/* A count file of the given entries, written with the library's writer (in any order). */
typedef struct crafted {
    bp_counts_info info;
    const char *const *entries;
    const uint64_t *counts;
    size_t n;
} crafted;

static void fill_crafted(bp_writer *w, const void *ctx)
{
    crafted *c = (crafted *)ctx;
    bp_counts_writer cw;
    bp_counts_write_begin(&cw, w, &c->info);
    for (size_t i = 0; i < c->n; i++)
        bp_counts_write_entry(&cw, (const unsigned char *)c->entries[i], strlen(c->entries[i]),
                              c->counts[i]);
    bp_counts_write_end(&cw, &c->info);
}

static void write_crafted(const char *path, bp_counts_kind kind, const char *const *entries,
                          const uint64_t *counts, size_t n, uint64_t bytes)
{
    bp_train_options o;
    bp_train_options_init(&o);
    o.order = 3;
    crafted c = {.entries = entries, .counts = counts, .n = n};
    bp_counts_info_from(&c.info, kind, &o);
    c.info.bytes = bytes;
    assert_int_equal(bp_write_file_from(path, fill_crafted, &c, NULL), BP_OK);
}

static void expect_merge_error(const char *path, bp_status code, const char *text)
{
    char out[128];
    bp_error err;
    assert_int_equal(bp_counts_merge((const char *const[]){path}, 1,
                                     scratch_path(out, sizeof out, "never.counts"), NULL, &err),
                     code);
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.message, text));
    FILE *f = fopen(out, "rb");
    assert_null(f); /* nothing written */
}

static void test_crafted_files_are_refused(void **state)
{
    (void)state;
    char path[128];
    scratch_path(path, sizeof path, "crafted.counts");
    write_crafted(path, BP_COUNTS_PIECES, (const char *const[]){"b", "a"}, (const uint64_t[]){1, 1}, 2, 2);
    expect_merge_error(path, BP_ERR_BAD_COUNTS, "out of order");
    write_crafted(path, BP_COUNTS_PIECES, (const char *const[]){"a", "a"}, (const uint64_t[]){1, 1}, 2, 2);
    expect_merge_error(path, BP_ERR_BAD_COUNTS, "out of order or repeated");
    write_crafted(path, BP_COUNTS_PIECES, (const char *const[]){"a", "bc"}, (const uint64_t[]){1, 0}, 2, 1);
    expect_merge_error(path, BP_ERR_BAD_COUNTS, "count 0");
    write_crafted(path, BP_COUNTS_PIECES, (const char *const[]){"a", "bc"}, (const uint64_t[]){1, 2}, 2, 4);
    expect_merge_error(path, BP_ERR_BAD_COUNTS, "do not add up");
    write_crafted(path, BP_COUNTS_NGRAMS, (const char *const[]){"abcd"}, (const uint64_t[]){1}, 1, 0);
    expect_merge_error(path, BP_ERR_BAD_COUNTS, "impossible length");
    /* Consistent to the reader, but "abc" counts more than its prefix "ab". */
    write_crafted(path, BP_COUNTS_NGRAMS, (const char *const[]){"a", "b", "c", "ab", "bc", "abc"},
                  (const uint64_t[]){5, 5, 5, 2, 5, 4}, 6, 15);
    bp_train_options o;
    bp_train_options_init(&o);
    o.order = 3;
    bp_ngram_model m;
    bp_error err;
    assert_int_equal(bp_ngram_load(&m, path, &o, &err), BP_ERR_BAD_COUNTS);
    assert_non_null(strstr(err.message, "counts more than its prefix"));
    o.order = 4;
    assert_int_equal(bp_ngram_load(&m, path, &o, &err), BP_ERR_MISMATCH);
    assert_non_null(strstr(err.message, "--order 3, this training with 4"));
    /* A pruned file keeps no n-gram of 2 or more bytes under --min-count (2). */
    write_crafted(path, BP_COUNTS_NGRAMS_PRUNED, (const char *const[]){"a", "b", "ab"},
                  (const uint64_t[]){1, 1, 1}, 3, 2);
    o.order = 3;
    assert_int_equal(bp_ngram_load(&m, path, &o, &err), BP_ERR_BAD_COUNTS);
    assert_non_null(strstr(err.message, "under its --min-count"));
}

static void test_damaged_and_mixed_files(void **state)
{
    (void)state;
    bp_train_options o = {.threads = 1};
    char ngrams[128], other[128], path[128];
    save_ngrams(&o, (const char *const[]){"hello world"}, 1,
                scratch_path(ngrams, sizeof ngrams, "h.counts"));
    o.isolate_digits = 1;
    save_ngrams(&o, (const char *const[]){"hello world"}, 1,
                scratch_path(other, sizeof other, "digits.counts"));
    bp_error err;
    char out[128];
    assert_int_equal(bp_counts_merge((const char *const[]){ngrams, other}, 2,
                                     scratch_path(out, sizeof out, "x.counts"), NULL, &err),
                     BP_ERR_MISMATCH);
    assert_non_null(strstr(err.message, "--isolate-digits"));
    size_t len;
    unsigned char *bytes = bp_test_read_file(ngrams, &len);
    assert_non_null(bytes);
    scratch_path(path, sizeof path, "changed.counts");
    bytes[8] = 2; /* the version */
    assert_int_equal(bp_write_file(path, bytes, len, NULL), BP_OK);
    assert_int_equal(bp_counts_read_info(path, &(bp_counts_info){0}, &err), BP_ERR_VERSION);
    bytes[8] = 1;
    bytes[0] = 'x';
    assert_int_equal(bp_write_file(path, bytes, len, NULL), BP_OK);
    expect_merge_error(path, BP_ERR_BAD_COUNTS, "bad magic");
    bytes[0] = 0x89;
    bytes[len - 20] ^= 1; /* the text total: caught by the trailer's checksum */
    assert_int_equal(bp_write_file(path, bytes, len, NULL), BP_OK);
    expect_merge_error(path, BP_ERR_BAD_COUNTS, "checksum");
    bytes[len - 20] ^= 1;
    assert_int_equal(bp_write_file(path, bytes, len - 1, NULL), BP_OK);
    expect_merge_error(path, BP_ERR_BAD_COUNTS, "checksum");
    free(bytes);
    bp_model *model;
    size_t vocab = 300;
    assert_int_equal(bp_train_from_counts(ngrams, NULL, &vocab, 1, &model, NULL, &err),
                     BP_ERR_MISMATCH);
    bp_trainer *t = fed_trainer(&(bp_train_options){.order = 5}, (const char *const[]){"hi"}, 1);
    assert_int_equal(bp_trainer_save_piece_counts(t, ngrams, out, &err), BP_ERR_MISMATCH);
    assert_non_null(strstr(err.message, "--order 6, this training with 5"));
    bp_trainer_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merged_ngram_entries),
        cmocka_unit_test(test_pruned_merge_entries),
        cmocka_unit_test(test_staged_training_is_the_trainer),
        cmocka_unit_test(test_memory_limit_gives_the_same_bytes),
        cmocka_unit_test(test_crafted_files_are_refused),
        cmocka_unit_test(test_damaged_and_mixed_files),
    };
    return cmocka_run_group_tests(tests, bp_test_make_scratch, bp_test_remove_scratch);
}
