/*
 * train_table.c -- the trainer's counting structures: dense byte and pair counts, and two
 * flat hash tables, of uint64 keys (packed n-grams) and of byte strings (pieces). The
 * tables use open addressing with linear probing over arrays, no allocation per entry:
 * the trainer holds millions of entries and its memory is a target. Why every table has
 * a hash of its own, and what an entry costs: train_internal.h.
 */
#define _DEFAULT_SOURCE /* madvise's MADV_HUGEPAGE (Linux), where the system has it */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "counts_file.h"
#include "train_internal.h"

bp_status bp_byte_counts_add(bp_byte_counts *c, const unsigned char *x, size_t len)
{
    for (size_t i = 0; i < len; i++)
        c->uni[x[i]]++;
    for (size_t i = 0; i + 1 < len; i++) {
        uint64_t *row = c->pair[x[i]];
        if (!row && !(row = c->pair[x[i]] = calloc(256, sizeof *row)))
            return BP_ERR_NOMEM;
        row[x[i + 1]]++;
    }
    c->positions += len;
    return BP_OK;
}

void bp_byte_counts_free(bp_byte_counts *c)
{
    for (unsigned b = 0; b < 256; b++) {
        free(c->pair[b]);
        c->pair[b] = NULL;
    }
}

#define MAX_LOAD_NUM 3 /* grow beyond 3/4 full */
#define MAX_LOAD_DEN 4
#define MIN_CAP_LOG2 6

uint64_t bp_table_seed(void)
{
    /* The counter makes every table's seed differ; the clock and the address of the
     * counter (placed by ASLR) make the seeds unknowable before the run. */
    static atomic_uint_fast64_t drawn;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    uint64_t x = (uint64_t)atomic_fetch_add(&drawn, 1) * UINT64_C(0x9E3779B97F4A7C15);
    x ^= (uint64_t)(uintptr_t)&drawn ^ (uint64_t)now.tv_sec << 32 ^ (uint64_t)now.tv_nsec;
    return bp_mix64(bp_mix64(x));
}

/* The capacity for n entries: a power of two above n / (3/4), at least `cap`. Sets *log2
 * to its logarithm. */
static size_t capacity_for(size_t n, size_t cap, unsigned *log2)
{
    unsigned k = MIN_CAP_LOG2;
    while ((size_t)1 << k < cap || n * MAX_LOAD_DEN >= ((size_t)1 << k) * MAX_LOAD_NUM)
        k++;
    *log2 = k;
    return (size_t)1 << k;
}

#define HUGE_PAGE ((size_t)2 << 20)
#define HUGE_TABLE_BYTES ((size_t)4 << 20)

/* Zeroed memory for n slots of `size` bytes. Probes land anywhere in a table, so with 4 KB
 * pages nearly every probe of a large table misses the TLB and its first touch of a page
 * faults: where the system gives transparent huge pages on request (Linux's
 * MADV_HUGEPAGE), a large table asks for them before its pages are first touched. */
static void *alloc_slots(size_t n, size_t size)
{
    if (n > SIZE_MAX / size)
        return NULL;
#ifdef MADV_HUGEPAGE
    size_t bytes = n * size;
    if (bytes >= HUGE_TABLE_BYTES) {
        unsigned char *p = malloc(bytes);
        if (!p)
            return NULL;
        uintptr_t start = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
        uintptr_t end = ((uintptr_t)p + bytes) & ~(uintptr_t)(HUGE_PAGE - 1);
        if (end > start)
            madvise((void *)start, end - start, MADV_HUGEPAGE); /* a hint: failing is harmless */
        memset(p, 0, bytes);
        return p;
    }
#endif
    return calloc(n, size);
}

/* Moves the entries into `cap` slots (a power of two, 2^log2). Walking the old slots in
 * order is safe here, unlike a copy between tables: the table keeps its seed, so an old
 * home h becomes 2h or 2h + 1 and the keys land in home order at half the density. */
static bp_status u64_rehash(bp_u64_table *t, size_t cap, unsigned log2)
{
    bp_u64_slot *slots = alloc_slots(cap, sizeof *slots);
    if (!slots)
        return BP_ERR_NOMEM;
    if (!t->cap) {
        t->seed = bp_table_seed();
        t->mult = bp_table_seed() | 1;
    }
    bp_u64_table grown = {slots, cap, t->n, t->seed, t->mult, 64 - log2};
    size_t mask = cap - 1;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slots[i].key)
            continue;
        size_t j = bp_u64_home(&grown, t->slots[i].key);
        while (slots[j].key)
            j = (j + 1) & mask;
        slots[j] = t->slots[i];
    }
    free(t->slots);
    *t = grown;
    return BP_OK;
}

bp_status bp_u64_table_reserve(bp_u64_table *t, size_t n)
{
    unsigned log2;
    size_t cap = capacity_for(n, t->cap, &log2);
    return cap == t->cap || n == 0 ? BP_OK : u64_rehash(t, cap, log2);
}

bp_status bp_u64_table_add(bp_u64_table *t, uint64_t key, uint64_t inc)
{
    if ((t->n + 1) * MAX_LOAD_DEN >= t->cap * MAX_LOAD_NUM) {
        bp_status st = bp_u64_table_reserve(t, t->n + 1);
        if (st != BP_OK)
            return st;
    }
    size_t mask = t->cap - 1, i = bp_u64_home(t, key);
    while (t->slots[i].key && t->slots[i].key != key)
        i = (i + 1) & mask;
    if (!t->slots[i].key) {
        t->slots[i] = (bp_u64_slot){key, 0};
        t->n++;
    }
    t->slots[i].val += inc;
    return BP_OK;
}

bool bp_u64_table_grows(const bp_u64_table *t)
{
    return (t->n + 1) * MAX_LOAD_DEN >= t->cap * MAX_LOAD_NUM;
}

static int compare_slots(const void *pa, const void *pb)
{
    uint64_t a = ((const bp_u64_slot *)pa)->key, b = ((const bp_u64_slot *)pb)->key;
    return (a > b) - (a < b);
}

void bp_u64_table_sort_out(bp_u64_table *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].key)
            t->slots[n++] = t->slots[i];
    qsort(t->slots, n, sizeof *t->slots, compare_slots);
}

void bp_u64_table_clear(bp_u64_table *t)
{
    if (t->slots)
        memset(t->slots, 0, t->cap * sizeof *t->slots);
    t->n = 0;
}

bp_status bp_u64_table_merge(bp_u64_table *dst, const bp_u64_table *src)
{
    for (size_t i = 0; i < src->cap; i++) {
        const bp_u64_slot *s = &src->slots[i];
        if (!s->key)
            continue;
        bp_status st = bp_u64_table_add(dst, s->key, s->val);
        if (st != BP_OK)
            return st;
    }
    return BP_OK;
}

void bp_u64_table_free(bp_u64_table *t)
{
    free(t->slots);
    *t = (bp_u64_table){0};
}

/* A 64-bit hash of a byte string keyed by `seed`, never 0 (0 marks empty slots). */
static uint64_t hash_bytes(uint64_t seed, const unsigned char *p, size_t len)
{
    uint64_t h = seed ^ len;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = bp_mix64(h ^ w);
    }
    uint64_t tail = 0;
    memcpy(&tail, p + i, len - i);
    h = bp_mix64(h ^ tail);
    return h ? h : 1;
}

/* As u64_rehash: the stored hashes are this table's, so old home h goes to 2h or 2h + 1. */
static bp_status piece_rehash(bp_piece_table *t, size_t cap, unsigned log2)
{
    bp_piece_slot *slots = alloc_slots(cap, sizeof *slots);
    if (!slots)
        return BP_ERR_NOMEM;
    if (!t->cap)
        t->seed = bp_table_seed();
    unsigned shift = 64 - log2;
    size_t mask = cap - 1;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slots[i].hash)
            continue;
        size_t j = (size_t)(t->slots[i].hash >> shift);
        while (slots[j].hash)
            j = (j + 1) & mask;
        slots[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    t->shift = shift;
    return BP_OK;
}

/* The slot holding bytes[0..len) with hash h, or the empty slot where it would go. */
static bp_piece_slot *piece_slot(const bp_piece_table *t, const unsigned char *bytes, size_t len,
                                 uint64_t h)
{
    size_t mask = t->cap - 1;
    for (size_t i = (size_t)(h >> t->shift);; i = (i + 1) & mask) {
        bp_piece_slot *s = &t->slots[i];
        if (!s->hash || (s->hash == h && s->len == len &&
                         memcmp(t->arena + s->off, bytes, len) == 0))
            return s;
    }
}

bp_status bp_piece_table_add(bp_piece_table *t, const unsigned char *bytes, size_t len,
                             uint64_t count)
{
    if ((t->n + 1) * MAX_LOAD_DEN >= t->cap * MAX_LOAD_NUM) {
        unsigned log2;
        size_t cap = capacity_for(t->n + 1, t->cap ? t->cap : 1024, &log2);
        bp_status st = piece_rehash(t, cap, log2);
        if (st != BP_OK)
            return st;
    }
    uint64_t h = hash_bytes(t->seed, bytes, len);
    bp_piece_slot *s = piece_slot(t, bytes, len, h);
    if (!s->hash) {
        unsigned char *a = bp_grow(t->arena, &t->arena_cap, t->arena_len + len, 1);
        if (!a)
            return BP_ERR_NOMEM;
        t->arena = a;
        memcpy(t->arena + t->arena_len, bytes, len);
        *s = (bp_piece_slot){h, 0, t->arena_len, len};
        t->arena_len += len;
        t->n++;
    }
    s->count += count;
    return BP_OK;
}

uint64_t bp_piece_table_get(const bp_piece_table *t, const unsigned char *bytes, size_t len)
{
    if (!t->cap)
        return 0;
    bp_piece_slot *s = piece_slot(t, bytes, len, hash_bytes(t->seed, bytes, len));
    return s->hash ? s->count : 0;
}

bp_status bp_piece_table_merge(bp_piece_table *dst, const bp_piece_table *src)
{
    for (size_t i = 0; i < src->cap; i++) {
        const bp_piece_slot *s = &src->slots[i];
        if (!s->hash)
            continue;
        bp_status st = bp_piece_table_add(dst, src->arena + s->off, s->len, s->count);
        if (st != BP_OK)
            return st;
    }
    return BP_OK;
}

static int compare_entries(const void *pa, const void *pb)
{
    const bp_piece *a = pa, *b = pb;
    return bp_counts_compare(a->bytes, a->len, b->bytes, b->len);
}

bp_piece *bp_piece_table_sorted(const bp_piece_table *t)
{
    bp_piece *items = malloc((t->n ? t->n : 1) * sizeof *items);
    if (!items)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].hash)
            items[n++] = (bp_piece){t->arena + t->slots[i].off, t->slots[i].len,
                                    t->slots[i].count};
    qsort(items, n, sizeof *items, compare_entries);
    return items;
}

void bp_piece_table_free(bp_piece_table *t)
{
    free(t->slots);
    free(t->arena);
    *t = (bp_piece_table){0};
}
