/*
 * fuzz_util.h -- what the libFuzzer targets of tests/fuzz share: a check macro that aborts
 * (so libFuzzer records the input as a crash), a reader of the fuzz input, small models,
 * and two oracles that do not use the library's own machinery: an NFC built on utf8proc's
 * whole-string normalizer, and a naive Viterbi over a sorted piece table.
 *
 * Header-only (static functions): each target is one translation unit.
 */
#ifndef BP_FUZZ_UTIL_H
#define BP_FUZZ_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "bp_internal.h"
#include "bytepiece.h"

#if defined(__GNUC__)
#define FUZZ_UNUSED __attribute__((unused))
#else
#define FUZZ_UNUSED
#endif

/* Harness code that needs no coverage feedback: keeping libFuzzer's comparison tracing out
 * of the harness and its oracles leaves the fuzzer's time to the library. CMake also passes
 * coverage_ignore.txt, which does the same for whole harness files with clang 14. */
#if defined(__has_attribute)
#if __has_attribute(no_sanitize_coverage)
#define FUZZ_NO_COVERAGE __attribute__((no_sanitize_coverage))
#endif
#endif
#ifndef FUZZ_NO_COVERAGE
#define FUZZ_NO_COVERAGE
#endif

/* A failed check is a finding: print where and abort, so libFuzzer saves the input. */
#define FUZZ_CHECK(cond)                                                                      \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);         \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

/* Like FUZZ_CHECK for a call that must return `want`. */
#define FUZZ_CHECK_STATUS(call, want)                                                         \
    do {                                                                                      \
        bp_status st_ = (call);                                                               \
        if (st_ != (want)) {                                                                  \
            fprintf(stderr, "%s:%d: %s returned %d (%s), want %d\n", __FILE__, __LINE__,      \
                    #call, (int)st_, bp_strerror(st_), (int)(want));                          \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

static void *fuzz_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "fuzz harness: out of memory\n");
        abort();
    }
    return p;
}

/*------ Reading the fuzz input ------*/

/* The input as a stream: reads past the end give zeros, so every input is a valid one. */
typedef struct fuzz_input {
    const uint8_t *p;
    size_t n;
} fuzz_input;

static FUZZ_UNUSED uint8_t fuzz_byte(fuzz_input *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

static FUZZ_UNUSED uint64_t fuzz_u64(fuzz_input *in)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)fuzz_byte(in) << (8 * i);
    return v;
}

/*------ Models ------*/

/* The 256 single bytes, as bp_piece.bytes can point into it. */
static const unsigned char fuzz_all_bytes[256] = {
#define FZ_B4(i) i, i + 1, i + 2, i + 3
#define FZ_B16(i) FZ_B4(i), FZ_B4(i + 4), FZ_B4(i + 8), FZ_B4(i + 12)
#define FZ_B64(i) FZ_B16(i), FZ_B16(i + 16), FZ_B16(i + 32), FZ_B16(i + 48)
    FZ_B64(0), FZ_B64(64), FZ_B64(128), FZ_B64(192)};

/* A model of the 256 single bytes (count 1 + b % 7) and `n_extra` more pieces. Returns the
 * status of bp_model_from_pieces. */
static FUZZ_UNUSED bp_status fuzz_model_with(const bp_piece *extra, size_t n_extra, bp_model **out)
{
    bp_piece *p = fuzz_xmalloc((256 + n_extra) * sizeof *p);
    for (unsigned b = 0; b < 256; b++)
        p[b] = (bp_piece){&fuzz_all_bytes[b], 1, 1 + b % 7};
    for (size_t i = 0; i < n_extra; i++)
        p[256 + i] = extra[i];
    bp_error err;
    bp_status st = bp_model_from_pieces(p, 256 + n_extra, out, &err);
    free(p);
    return st;
}

/* A fixed small model whose pieces overlap in every way the automaton has to handle:
 * prefixes, suffixes, pieces inside pieces, newlines, multi-byte UTF-8, invalid UTF-8. */
static FUZZ_UNUSED bp_model *fuzz_tiny_model(void)
{
    static const char *const words[] = {
        "th", "the", "he", " the", "in", "ing", "ng", "\n\n", "\n\n\n", "é", "e\xcc\x81",
        "中文", "文", "中", "\xff\xfe", "ab\xc3", "aaaa", "aa", "aaa", "abcabc", "bca", "cab",
        "\r\n", " ", "  ", "he said", "said", "a", "\xe4\xb8", "\xad\xe6"};
    enum { N = sizeof words / sizeof words[0] };
    bp_piece extra[N];
    size_t n = 0;
    for (size_t i = 0; i < N; i++) {
        size_t len = strlen(words[i]);
        if (len < 2)
            continue; /* single bytes are already there */
        extra[n++] = (bp_piece){(const unsigned char *)words[i], len, 10 + 7 * i};
    }
    bp_model *m = NULL;
    FUZZ_CHECK_STATUS(fuzz_model_with(extra, n, &m), BP_OK);
    return m;
}

/* The bundled sample model (data/sample.model, 1,002 pieces), loaded once. */
static FUZZ_UNUSED bp_model *fuzz_sample_model(void)
{
    bp_model *m = NULL;
    bp_error err;
    if (bp_model_load(BP_SAMPLE_MODEL, &m, &err) != BP_OK) {
        fprintf(stderr, "fuzz harness: %s\n", err.message);
        abort();
    }
    return m;
}

/* Whether s[0..n) is well-formed UTF-8, by utf8proc's decoder: independent of the
 * library's own. */
static FUZZ_UNUSED FUZZ_NO_COVERAGE bool fuzz_valid_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(s + i, (utf8proc_ssize_t)(n - i), &cp);
        if (k <= 0)
            return false;
        i += (size_t)k;
    }
    return true;
}

/*------ Oracle 1: NFC ------*/

/* NFC as the library documents it: every maximal run of well-formed UTF-8 is normalized
 * (utf8proc_map on the whole run), other bytes are copied. Returns a malloc'd buffer. */
static FUZZ_UNUSED FUZZ_NO_COVERAGE unsigned char *fuzz_nfc_oracle(const unsigned char *s, size_t n, size_t *out_len)
{
    unsigned char *out = fuzz_xmalloc(4 * n + 1);
    size_t o = 0, i = 0;
    while (i < n) {
        int32_t cp;
        size_t run = i;
        while (run < n) {
            size_t k = bp_utf8_decode(s + run, n - run, &cp);
            if (k == 0)
                break;
            run += k;
        }
        if (run > i) {
            utf8proc_uint8_t *nfc = NULL;
            utf8proc_ssize_t m = utf8proc_map(s + i, (utf8proc_ssize_t)(run - i), &nfc,
                                              UTF8PROC_STABLE | UTF8PROC_COMPOSE);
            FUZZ_CHECK(m >= 0 && (size_t)m <= 3 * (run - i));
            memcpy(out + o, nfc, (size_t)m);
            o += (size_t)m;
            free(nfc);
            i = run;
        } else {
            out[o++] = s[i++];
        }
    }
    *out_len = o;
    return out;
}

/*------ Oracle 2: a naive Viterbi ------*/

/* The pieces of a model in a plain trie, read through bp_model_piece only: the oracle does
 * not touch the automaton, so a wrong or missing match in the automaton shows up. Node 0
 * is the root; children are found through a sibling list (the root's through a table). */
typedef struct fuzz_piece_index {
    struct fuzz_node {
        uint32_t first_child, next_sibling; /* 0: none */
        uint32_t id;                        /* the piece ending here, 0 if none */
        unsigned char byte;
    } *node;
    size_t n_nodes;
    uint32_t root_child[256];
    double *score;                          /* by id */
    size_t max_len;
} fuzz_piece_index;

static FUZZ_NO_COVERAGE uint32_t fuzz_trie_child(const fuzz_piece_index *ix, uint32_t node,
                                                 unsigned char c)
{
    if (node == 0)
        return ix->root_child[c];
    for (uint32_t k = ix->node[node].first_child; k; k = ix->node[k].next_sibling)
        if (ix->node[k].byte == c)
            return k;
    return 0;
}

static FUZZ_UNUSED FUZZ_NO_COVERAGE void fuzz_index_build(fuzz_piece_index *ix, const bp_model *m)
{
    size_t v = bp_model_vocab_size(m), cap = 1, total = 0;
    for (uint32_t id = BP_N_SPECIAL; id < v; id++) {
        size_t len;
        FUZZ_CHECK(bp_model_piece(m, id, &len) != NULL && len > 0);
        total += len;
    }
    cap = total + 1;
    memset(ix, 0, sizeof *ix);
    ix->node = fuzz_xmalloc(cap * sizeof *ix->node);
    ix->score = fuzz_xmalloc(v * sizeof *ix->score);
    ix->node[0] = (struct fuzz_node){0, 0, 0, 0};
    ix->n_nodes = 1;
    for (uint32_t id = BP_N_SPECIAL; id < v; id++) {
        size_t len;
        const unsigned char *b = bp_model_piece(m, id, &len);
        ix->score[id] = bp_model_piece_score(m, id);
        if (len > ix->max_len)
            ix->max_len = len;
        uint32_t node = 0;
        for (size_t i = 0; i < len; i++) {
            uint32_t next = fuzz_trie_child(ix, node, b[i]);
            if (!next) {
                next = (uint32_t)ix->n_nodes++;
                ix->node[next] = (struct fuzz_node){0, 0, 0, b[i]};
                if (node == 0) {
                    ix->root_child[b[i]] = next;
                } else {
                    ix->node[next].next_sibling = ix->node[node].first_child;
                    ix->node[node].first_child = next;
                }
            }
            node = next;
        }
        FUZZ_CHECK(ix->node[node].id == 0); /* no piece twice */
        ix->node[node].id = id;
    }
}

static FUZZ_UNUSED void fuzz_index_free(fuzz_piece_index *ix)
{
    free(ix->node);
    free(ix->score);
    ix->node = NULL;
    ix->score = NULL;
}

/* The best segmentation of one chunk x[0..len) by the rule of the reference: at each end,
 * candidates longest first, a later one replaces the held one only when strictly greater.
 * Matches are found by walking the trie from every start. Writes ids to ids[0..) and
 * returns their number; *score gets the path's score (summed left to right, as the lattice
 * does). */
static FUZZ_UNUSED FUZZ_NO_COVERAGE size_t fuzz_naive_viterbi(const fuzz_piece_index *ix,
                                                              const unsigned char *x, size_t len,
                                                              uint32_t *ids, double *score)
{
    size_t L = ix->max_len;
    /* match[e * L + (l - 1)]: id of the piece x[e - l .. e), 0 if none. */
    uint32_t *match = calloc((len + 1) * L + 1, sizeof *match);
    double *S = fuzz_xmalloc((len + 1) * sizeof *S);
    uint32_t *tid = fuzz_xmalloc((len + 1) * sizeof *tid);
    size_t *tlen = fuzz_xmalloc((len + 1) * sizeof *tlen);
    FUZZ_CHECK(match != NULL);
    for (size_t s = 0; s < len; s++) {
        uint32_t node = 0;
        for (size_t e = s; e < len && e - s < L; e++) {
            node = fuzz_trie_child(ix, node, x[e]);
            if (!node)
                break;
            if (ix->node[node].id)
                match[(e + 1) * L + (e - s)] = ix->node[node].id;
        }
    }
    S[0] = 0.0;
    for (size_t e = 1; e <= len; e++) {
        int have = 0;
        for (size_t l = L; l >= 1; l--) {
            uint32_t id = match[e * L + (l - 1)];
            if (!id)
                continue;
            double cand = S[e - l] + ix->score[id];
            if (!have || cand > S[e]) {
                S[e] = cand;
                tid[e] = id;
                tlen[e] = l;
                have = 1;
            }
        }
        FUZZ_CHECK(have); /* every single byte is a piece */
    }
    size_t n = 0;
    for (size_t e = len; e > 0; e -= tlen[e])
        n++;
    size_t k = n;
    for (size_t e = len; e > 0; e -= tlen[e])
        ids[--k] = tid[e];
    *score = S[len];
    free(match);
    free(S);
    free(tid);
    free(tlen);
    return n;
}

#endif /* BP_FUZZ_UTIL_H */
