/*
 * train_ngram_sort.c -- a shard's pass 1: every n-gram of levels 3..order counted by
 * sorting, one 64-bit key per text position, instead of one hash insert per position and
 * level (multi-million-entry tables, so nearly every insert missed the cache).
 *
 * The key of position s of a chunk of len bytes, with L = min(order, len - s) >= 3:
 * x[s..s+L) big-endian in the top L bytes, zeros below, and L in the low 3 bits (order <= 7,
 * so 56 + 3 bits). Bits 3..7 hold a repeat count, 1..31: a key stands for that many
 * positions with the same key. As integers, keys sort by their zero-padded bytes first.
 *
 * Why one sorted array gives every level exactly: position s begins a k-gram (3 <= k <=
 * order) iff len - s >= k, i.e. iff its key has L >= k, and the k-gram is the key's top k
 * bytes. So the count of a k-gram g is the sum of the repeats of the keys with L >= k whose
 * top k bytes are g. All keys whose top 8k bits are g are contiguous once sorted; the only
 * others among them have L < k (when g ends in zero bytes, as "ab" padded to "ab\0"), and
 * the scan skips them. One scan per level in key order thus meets each k-gram as one group,
 * in byte order, and the levels by increasing k are the count file's order (length, then
 * bytes). The per-thread arrays are sorted on their own and merged on the fly by each scan.
 *
 * Repeats: before a key enters its thread's array it meets a small direct-mapped cache
 * (CACHE_SLOTS keys, L2-sized); the same key in its slot gets one more repeat, another
 * evicts it into the array. Text repeats its frequent n-grams, so the arrays hold far
 * fewer keys than positions (shard-00 of the benchmark corpus, 40 MB: 128 MB of memory
 * instead of 319 MB; 40 MB of source code: 61 MB instead of 316 MB, and faster).
 *
 * Memory: at most 8 bytes per position, sorted in place (American flag radix sort; an LSD
 * sort with a scratch array was measured no faster on a 40 MB shard, at 622 MB instead of
 * 319, before the cache). A thread's array holds at most its share of half of
 * o->memory_limit, or of DEFAULT_KEY_BYTES without a limit, so that a huge shard does not
 * need 8 bytes of memory per text byte: a full array is sorted and written as a run of its
 * counts of every level, and once any was, every array ends in runs, which the caller
 * merges (bp_runs_merge) into the same entries.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "counts_file.h"
#include "parallel.h"
#include "train_internal.h"

#define DEFAULT_KEY_BYTES ((size_t)1 << 30) /* of keys, per process, when there is no limit */
#define MIN_KEYS 1024     /* a thread's array holds at least this many, however small the limit */
#define SMALL_SORT 32     /* buckets of at most this many keys are insertion-sorted */
#define CHAINS 8          /* swap chains a partition advances at once */
#define MIN_GRAM 3        /* levels 1 and 2 are counted densely while spooling */
#define LENGTH_BITS 7     /* the mask of L in a key */
#define REPEAT_BITS 0xF8  /* the mask of its repeat count */
#define ONE_REPEAT 8      /* a repeat count of 1 */
#define CACHE_SLOTS (1u << 16) /* 512 KB of keys per thread */

/* One thread's keys, and the runs it spilled. */
typedef struct key_array {
    uint64_t *keys;
    size_t n, alloc, cap; /* keys held, allocated (may pass cap: pages untouched), allowed */
    uint64_t *cache;      /* CACHE_SLOTS keys with their repeats, 0 when empty */
    bp_runs runs;
    bp_status st; /* of writing this array as a run at the end */
    bp_error err;
} key_array;

typedef struct sort_pass {
    unsigned order;
    key_array *arrays;
    unsigned n_arrays;
    bool to_runs;       /* the end: every array goes to a run */
    atomic_uint next;   /* the next array a sorting worker claims */
} sort_pass;

/*------ Sorting ------*/

static void insertion_sort(uint64_t *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint64_t v = a[i];
        size_t j = i;
        for (; j > 0 && a[j - 1] > v; j--)
            a[j] = a[j - 1];
        a[j] = v;
    }
}

/* Moves every key of a[] to its bucket (by the byte at `shift`): bucket d is a[next[d] ..
 * end[d]) of keys not placed yet. A key is swapped into the next free slot of its bucket,
 * the key it displaces swapped on, and so on until a key belongs where the chain began;
 * each swap misses the cache on a large array, so CHAINS chains advance in turn, their
 * loads independent. A chain's first slot (its hole) is taken out of its bucket when
 * the chain begins, so that no other chain writes there; a key whose bucket has no free
 * slot left belongs in such a hole. */
typedef struct chain {
    uint64_t in_hand; /* the key being moved */
    size_t hole;      /* the slot the chain began at, empty until it ends */
    unsigned home;    /* the bucket of the hole */
} chain;

static void partition(uint64_t *a, size_t *next, const size_t *end, unsigned shift)
{
    chain ch[CHAINS];
    unsigned active = 0, b = 0;
    for (;;) {
        for (; active < CHAINS; active++) {
            while (b < 256 && next[b] == end[b])
                b++;
            if (b == 256)
                break;
            ch[active] = (chain){a[next[b]], next[b], b};
            next[b]++;
        }
        if (active == 0)
            return;
        for (unsigned c = 0; c < active;) {
            unsigned d = ch[c].in_hand >> shift & 0xFF;
            if (next[d] < end[d] && d != ch[c].home) {
                uint64_t displaced = a[next[d]];
                a[next[d]++] = ch[c].in_hand;
                ch[c++].in_hand = displaced;
                continue;
            }
            /* The key fills a hole of its bucket (when no free slot is left there, only
             * holes): its chain, or another, which this one then carries on. */
            unsigned ending = c;
            while (ch[ending].home != d)
                ending = (ending + 1) % active;
            a[ch[ending].hole] = ch[c].in_hand;
            ch[c].in_hand = ch[ending].in_hand;
            ch[ending] = ch[--active];
            if (ending == c || c == active)
                continue; /* chain c is gone, or carried on in slot `ending` */
            c++;
        }
    }
}

/* Sorts a[0..n) by the byte at `shift` and, within its buckets, by the bytes below. */
static void radix_sort(uint64_t *a, size_t n, unsigned shift)
{
    if (n <= SMALL_SORT) {
        insertion_sort(a, n);
        return;
    }
    size_t next[256], end[256] = {0};
    for (size_t i = 0; i < n; i++)
        end[a[i] >> shift & 0xFF]++;
    size_t sum = 0;
    bool one_bucket = false; /* common: the padding bytes of an order below 7 */
    for (unsigned b = 0; b < 256; b++) {
        one_bucket |= end[b] == n;
        next[b] = sum;
        end[b] = sum += end[b];
    }
    if (!one_bucket)
        partition(a, next, end, shift);
    if (shift == 0)
        return;
    size_t start = 0;
    for (unsigned b = 0; b < 256; start = end[b++])
        if (end[b] - start > 1)
            radix_sort(a + start, end[b] - start, shift - 8);
}

/*------ Scanning sorted keys into count entries ------*/

/* The keys of a sorted array from `at` on. */
typedef struct cursor {
    const uint64_t *at, *end;
} cursor;

/* Moves past the keys that hold no k-gram. */
static void skip_short(cursor *c, unsigned k)
{
    while (c->at < c->end && (*c->at & LENGTH_BITS) < k)
        c->at++;
}

/* Restores the min-heap order of heap[0..n) by its cursors' keys below slot i. */
static void sift_down(cursor *heap, size_t n, size_t i)
{
    for (;;) {
        size_t least = i, l = 2 * i + 1, r = l + 1;
        if (l < n && *heap[l].at < *heap[least].at)
            least = l;
        if (r < n && *heap[r].at < *heap[least].at)
            least = r;
        if (least == i)
            return;
        cursor c = heap[i];
        heap[i] = heap[least];
        heap[least] = c;
        i = least;
    }
}

/* Writes the k-grams of arrays[0..n) (sorted) with their summed counts, in byte order;
 * heap has room for n cursors. */
static void write_level(bp_counts_writer *cw, const key_array *arrays, unsigned n, unsigned k,
                        cursor *heap)
{
    size_t live = 0;
    for (unsigned t = 0; t < n; t++) {
        heap[live] = (cursor){arrays[t].keys, arrays[t].keys + arrays[t].n};
        skip_short(&heap[live], k);
        live += heap[live].at < heap[live].end;
    }
    for (size_t i = live; i-- > 0;)
        sift_down(heap, live, i);
    const unsigned drop = 64 - 8 * k; /* the bits below the k-gram */
    while (live && cw->w->errnum == 0) {
        uint64_t gram = *heap[0].at >> drop, count = 0;
        while (live && *heap[0].at >> drop == gram) {
            cursor *c = &heap[0];
            do {
                count += (*c->at & REPEAT_BITS) / ONE_REPEAT;
                c->at++;
                skip_short(c, k);
            } while (c->at < c->end && *c->at >> drop == gram);
            if (c->at == c->end)
                heap[0] = heap[--live];
            sift_down(heap, live, 0);
        }
        unsigned char g[BP_MAX_ORDER];
        for (unsigned j = 0; j < k; j++)
            g[j] = (unsigned char)(gram >> (8 * (k - 1 - j)));
        bp_counts_write_entry(cw, g, k, count);
    }
}

/* Writes levels 3..order of sorted arrays[0..n). */
static bp_status write_levels(bp_counts_writer *cw, const key_array *arrays, unsigned n,
                              unsigned order)
{
    cursor *heap = malloc(n * sizeof *heap);
    if (!heap)
        return BP_ERR_NOMEM;
    for (unsigned k = MIN_GRAM; k <= order; k++)
        write_level(cw, arrays, n, k, heap);
    free(heap);
    return BP_OK;
}

/*------ Runs ------*/

typedef struct array_run {
    const key_array *array;
    unsigned order;
    bp_status st;
} array_run;

static void fill_array_run(void *ctx, bp_counts_writer *cw)
{
    array_run *ar = ctx;
    ar->st = write_levels(cw, ar->array, 1, ar->order);
    if (ar->st != BP_OK && cw->w->errnum == 0)
        cw->w->errnum = ENOMEM;
}

/* Sorts a thread's keys and writes their counts as a run, emptying the array. */
static bp_status spill(key_array *ka, unsigned order, bp_error *err)
{
    radix_sort(ka->keys, ka->n, 56);
    array_run ar = {ka, order, BP_OK};
    bp_status st = bp_runs_write(&ka->runs, fill_array_run, &ar, err);
    ka->n = 0;
    return ar.st != BP_OK ? bp_fail(err, ar.st, UINT64_MAX, "out of memory") : st;
}

/*------ The pass ------*/

/* Room for one more key: a larger array, or, at its cap, an empty one after a spill. */
static bp_status make_room(key_array *ka, unsigned order, bp_error *err)
{
    if (ka->n == ka->cap)
        return spill(ka, order, err);
    uint64_t *keys = bp_grow(ka->keys, &ka->alloc, ka->n + 1, sizeof *keys);
    if (!keys)
        return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory counting n-grams");
    ka->keys = keys;
    return BP_OK;
}

static bp_status append_key(key_array *ka, unsigned order, uint64_t key, bp_error *err)
{
    if (ka->n == ka->alloc || ka->n == ka->cap) {
        bp_status st = make_room(ka, order, err);
        if (st != BP_OK)
            return st;
    }
    ka->keys[ka->n++] = key;
    return BP_OK;
}

/* Moves the keys of the cache into the array. */
static bp_status flush_cache(key_array *ka, unsigned order, bp_error *err)
{
    bp_status st = BP_OK;
    for (size_t i = 0; i < CACHE_SLOTS && st == BP_OK; i++)
        if (ka->cache[i]) {
            st = append_key(ka, order, ka->cache[i], err);
            ka->cache[i] = 0;
        }
    return st;
}

static bp_status add_chunk(void *ctx, unsigned thread, const unsigned char *x, size_t len)
{
    const sort_pass *p = ctx;
    key_array *ka = &p->arrays[thread];
    const unsigned order = p->order, shift = 64 - 8 * order;
    /* window: the order bytes from s on, zeros past the chunk's end (its low bytes) */
    uint64_t window = 0;
    for (size_t i = 0; i + 1 < order; i++)
        window = window << 8 | (i < len ? x[i] : 0);
    for (size_t s = 0; s + MIN_GRAM <= len; s++) {
        size_t last = s + order - 1, rest = len - s;
        window = window << 8 | (last < len ? x[last] : 0);
        uint64_t key = window << shift | (rest < order ? rest : order);
        /* Fibonacci hashing: the multiply's top bits depend on every byte of the key */
        uint64_t *slot = &ka->cache[(key * UINT64_C(0x9E3779B97F4A7C15)) >> 48];
        if ((*slot & ~(uint64_t)REPEAT_BITS) == key && (*slot & REPEAT_BITS) != REPEAT_BITS) {
            *slot += ONE_REPEAT;
            continue;
        }
        if (*slot) {
            bp_status st = append_key(ka, order, *slot, NULL);
            if (st != BP_OK)
                return st;
        }
        *slot = key | ONE_REPEAT;
    }
    return BP_OK;
}

/* A worker sorting the arrays it claims (and writing them as runs at the end of a pass
 * that spilled). */
static void sort_arrays(void *ctx, unsigned worker)
{
    sort_pass *p = ctx;
    (void)worker; /* the arrays are claimed, not assigned */
    for (unsigned t; (t = atomic_fetch_add(&p->next, 1)) < p->n_arrays;) {
        key_array *ka = &p->arrays[t];
        if (p->to_runs && ka->n)
            ka->st = spill(ka, p->order, &ka->err);
        else
            radix_sort(ka->keys, ka->n, 56);
    }
}

bp_status bp_ngram_count_sorted(const bp_spool *sp, const bp_train_options *o, unsigned threads,
                                bp_counts_writer *cw, bp_runs *runs, bp_error *err)
{
    if (o->order < MIN_GRAM)
        return BP_OK;
    sort_pass p = {.order = o->order, .n_arrays = threads};
    p.arrays = calloc(threads, sizeof *p.arrays);
    if (!p.arrays)
        return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory counting n-grams");
    size_t cap = (o->memory_limit ? o->memory_limit / 2 : DEFAULT_KEY_BYTES) / threads /
                 sizeof(uint64_t);
    bp_status st = BP_OK;
    for (unsigned t = 0; t < threads; t++) {
        p.arrays[t] = (key_array){.cap = cap > MIN_KEYS ? cap : MIN_KEYS,
                                  .cache = calloc(CACHE_SLOTS, sizeof(uint64_t)),
                                  .runs = {.dir = runs->dir, .info = runs->info}};
        if (!p.arrays[t].cache)
            st = bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory counting n-grams");
    }
    if (st == BP_OK)
        st = bp_spool_for_each(sp, threads, add_chunk, &p, o, "counting n-grams", err);
    for (unsigned t = 0; t < threads && st == BP_OK; t++)
        st = flush_cache(&p.arrays[t], p.order, err);
    for (unsigned t = 0; t < threads; t++)
        p.to_runs |= p.arrays[t].runs.written > 0;
    atomic_init(&p.next, 0);
    if (st == BP_OK)
        bp_parallel_for(threads, sort_arrays, &p);
    for (unsigned t = 0; t < threads; t++) {
        key_array *ka = &p.arrays[t];
        if (st == BP_OK && ka->st != BP_OK) {
            st = ka->st;
            if (err)
                *err = ka->err;
        }
        if (st == BP_OK)
            st = bp_runs_take(runs, &ka->runs, err);
    }
    if (st == BP_OK && !p.to_runs && write_levels(cw, p.arrays, threads, p.order) != BP_OK)
        st = bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "out of memory counting n-grams");
    for (unsigned t = 0; t < threads; t++) {
        bp_runs_free(&p.arrays[t].runs);
        free(p.arrays[t].keys);
        free(p.arrays[t].cache);
    }
    free(p.arrays);
    return st;
}
