/*
 * test_train_table.c -- the trainer's hash tables: exact contents after adds, reserves and
 * merges, and short probe runs when one table is copied into another in slot order -- the
 * copy that piled keys into runs of hundreds of slots while every table shared one hash.
 * A probe run is measured as the mean displacement of the entries from their home slots:
 * linear probing with independent hashes below 3/4 load gives about 1.5 at most.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "train_internal.h"

#define N_KEYS 360000   /* 0.69 of 2^19 slots */
#define N_PIECES 360000 /* two tables of 180000 and 189000, 0.69 and 0.72 of 2^18 slots */
#define MAX_MEAN_DISPLACEMENT 3.0

/* A key as the trainer makes them: bytes below, a length in the top byte, never 0. */
static uint64_t key_of(uint64_t i)
{
    return (i * UINT64_C(0x2545F4914F6CDD1D) & ((UINT64_C(1) << 56) - 1)) | UINT64_C(5) << 56;
}

static double u64_mean_displacement(const bp_u64_table *t)
{
    uint64_t total = 0;
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].key)
            total += (i - bp_u64_home(t, t->slots[i].key)) & (t->cap - 1);
    return (double)total / (double)t->n;
}

static void test_u64_adds_and_merges_are_exact(void **state)
{
    (void)state;
    bp_u64_table a = {0}, b = {0};
    assert_null(bp_u64_table_find(&a, key_of(1)));
    for (uint64_t i = 0; i < 1000; i++) {
        assert_int_equal(bp_u64_table_add(&a, key_of(i), i + 1), BP_OK);
        assert_int_equal(bp_u64_table_add(&a, key_of(i), 1), BP_OK);
    }
    for (uint64_t i = 500; i < 1500; i++)
        assert_int_equal(bp_u64_table_add(&b, key_of(i), 10), BP_OK);
    assert_int_equal(bp_u64_table_reserve(&b, 5000), BP_OK);
    assert_int_equal(b.cap, 8192); /* the first power of two with 5000 below 3/4 of it */
    assert_int_equal(bp_u64_table_merge(&a, &b), BP_OK);
    assert_int_equal(a.n, 1500);
    for (uint64_t i = 0; i < 1500; i++)
        assert_int_equal(*bp_u64_table_find(&a, key_of(i)),
                         (i < 1000 ? i + 2 : 0) + (i >= 500 ? 10 : 0));
    assert_null(bp_u64_table_find(&a, key_of(1500)));
    bp_u64_table_free(&a);
    bp_u64_table_free(&b);
}

/* Adds src's entries to dst in src's slot order, as the trainer's copies and merges do,
 * but stops where dst would grow: a growth rehashes dst and hides the runs the copy made. */
static void u64_copy_until_full(bp_u64_table *dst, const bp_u64_table *src)
{
    for (size_t i = 0; i < src->cap && (dst->n + 1) * 4 < dst->cap * 3; i++)
        if (src->slots[i].key)
            assert_int_equal(bp_u64_table_add(dst, src->slots[i].key, src->slots[i].val), BP_OK);
    assert_true((dst->n + 1) * 4 >= dst->cap * 3);
}

/* keep_level's copy: a table about 0.7 full (with min_count 1, every n-gram survives)
 * walked into one of half its slots. Under one shared hash the walk's second round over
 * the small table's homes came at density 1.4, and the runs grew to thousands of slots. */
static void test_u64_copy_in_slot_order_probes_briefly(void **state)
{
    (void)state;
    bp_u64_table counts = {0}, kept = {0};
    for (uint64_t i = 0; i < N_KEYS; i++)
        assert_int_equal(bp_u64_table_add(&counts, key_of(i), i % 3 + 1), BP_OK);
    assert_int_equal(counts.cap, 524288);
    assert_int_equal(bp_u64_table_reserve(&kept, counts.cap / 2 * 3 / 4 - 1), BP_OK);
    assert_int_equal(kept.cap, counts.cap / 2);
    u64_copy_until_full(&kept, &counts);
    assert_true(u64_mean_displacement(&kept) < MAX_MEAN_DISPLACEMENT);
    uint64_t copied = 0;
    for (size_t i = 0; i < kept.cap; i++) {
        if (kept.slots[i].key)
            assert_int_equal(kept.slots[i].val, *bp_u64_table_find(&counts, kept.slots[i].key));
        copied += kept.slots[i].val;
    }
    assert_int_equal(bp_u64_table_merge(&kept, &counts), BP_OK);
    assert_int_equal(kept.n, N_KEYS);
    uint64_t sum = 0;
    for (size_t i = 0; i < kept.cap; i++)
        sum += kept.slots[i].val;
    assert_int_equal(sum, N_KEYS / 3 * (1 + 2 + 3) + copied); /* the copied ones twice */
    bp_u64_table_free(&counts);
    bp_u64_table_free(&kept);
}

/* count_level's merge: two threads' tables of the same size, each about 0.7 full, with
 * different keys. */
static void test_u64_merge_in_slot_order_probes_briefly(void **state)
{
    (void)state;
    bp_u64_table mine = {0}, theirs = {0};
    for (uint64_t i = 0; i < N_KEYS; i++) {
        assert_int_equal(bp_u64_table_add(&mine, key_of(i), 1), BP_OK);
        assert_int_equal(bp_u64_table_add(&theirs, key_of(N_KEYS + i), 2), BP_OK);
    }
    assert_int_equal(mine.cap, theirs.cap);
    u64_copy_until_full(&mine, &theirs);
    assert_true(u64_mean_displacement(&mine) < MAX_MEAN_DISPLACEMENT);
    size_t copied = mine.n - N_KEYS;
    assert_int_equal(bp_u64_table_merge(&mine, &theirs), BP_OK);
    assert_int_equal(mine.n, 2 * N_KEYS);
    uint64_t sum = 0;
    for (size_t i = 0; i < mine.cap; i++)
        sum += mine.slots[i].val;
    assert_int_equal(sum, N_KEYS + 2 * N_KEYS + 2 * copied); /* the copied ones twice */
    assert_int_equal(*bp_u64_table_find(&mine, key_of(0)), 1);
    bp_u64_table_free(&mine);
    bp_u64_table_free(&theirs);
}

/* bp_count_pieces' merge: two threads' piece tables of the same size, each about 0.7 full,
 * with a few pieces in common. */
static void test_piece_merge_in_slot_order_probes_briefly(void **state)
{
    (void)state;
    bp_piece_table mine = {0}, theirs = {0};
    char piece[32];
    for (unsigned i = 0; i < N_PIECES; i++) {
        int len = snprintf(piece, sizeof piece, "piece %u", i);
        const unsigned char *p = (const unsigned char *)piece;
        assert_int_equal(bp_piece_table_add(i % 2 ? &theirs : &mine, p, (size_t)len, i % 5 + 1),
                         BP_OK);
        if (i % 40 == 1)
            assert_int_equal(bp_piece_table_add(&mine, p, (size_t)len, 1), BP_OK);
    }
    assert_int_equal(mine.cap, theirs.cap);
    for (size_t i = 0; i < theirs.cap && (mine.n + 1) * 4 < mine.cap * 3; i++) {
        const bp_piece_slot *s = &theirs.slots[i];
        if (s->hash)
            assert_int_equal(bp_piece_table_add(&mine, theirs.arena + s->off, s->len, 0), BP_OK);
    }
    uint64_t total = 0;
    for (size_t i = 0; i < mine.cap; i++)
        if (mine.slots[i].hash)
            total += (i - (size_t)(mine.slots[i].hash >> mine.shift)) & (mine.cap - 1);
    assert_true((double)total / (double)mine.n < MAX_MEAN_DISPLACEMENT);
    assert_int_equal(bp_piece_table_merge(&mine, &theirs), BP_OK);
    assert_int_equal(mine.n, N_PIECES);
    for (unsigned i = 0; i < N_PIECES; i += 997) {
        int len = snprintf(piece, sizeof piece, "piece %u", i);
        assert_int_equal(bp_piece_table_get(&mine, (const unsigned char *)piece, (size_t)len),
                         i % 5 + 1 + (i % 40 == 1));
    }
    assert_int_equal(bp_piece_table_get(&mine, (const unsigned char *)"piece", 5), 0);
    bp_piece_table_free(&mine);
    bp_piece_table_free(&theirs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_u64_adds_and_merges_are_exact),
        cmocka_unit_test(test_u64_copy_in_slot_order_probes_briefly),
        cmocka_unit_test(test_u64_merge_in_slot_order_probes_briefly),
        cmocka_unit_test(test_piece_merge_in_slot_order_probes_briefly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
