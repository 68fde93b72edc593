/*
 * special.c -- special tokens: the set a model holds (validated once, whoever makes it:
 * bp_model_add_special() or the native loader), the search for them in text, and the
 * public accessors.
 *
 * Tokens are matched leftmost, longest first at a position. The set is indexed by first
 * byte, each bucket longest first, so that a position is rejected by one table lookup and
 * a candidate costs one memcmp per token of its bucket. The scan for candidates is what
 * encoding with BP_ENCODE_SPECIAL pays on text without special tokens: memchr when all
 * tokens start with the same byte (the usual "<|...|>" families), 8 bytes at a time when
 * they start with 2 to 4 different bytes ("<|", "[INST]"), else a table lookup per byte.
 */
#include <stdlib.h>
#include <string.h>

#include "bp_internal.h"

/* A token of a list being validated: sorted by bytes to find duplicates. */
typedef struct token_ref {
    const unsigned char *bytes;
    size_t len;
    size_t index;
} token_ref;

static int compare_refs(const void *a, const void *b)
{
    const token_ref *x = a, *y = b;
    size_t common = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->bytes, y->bytes, common);
    if (c != 0)
        return c;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index; /* the earlier one first */
}

/* Checks each token on its own: non-empty, UTF-8, not the name of id 0..2. */
static bp_status check_token(const unsigned char *bytes, size_t len, size_t shown,
                             const char *name, bp_error *err)
{
    const char *problem = NULL;
    if (len == 0)
        problem = "is empty";
    else if (len > UINT32_MAX)
        return bp_fail(err, BP_ERR_TOO_LARGE, shown, "%s: special token %zu is %zu bytes long",
                       name, shown, len);
    else if (bp_utf8_valid_prefix(bytes, len) != len)
        problem = "is not valid UTF-8";
    for (unsigned id = 0; !problem && id < BP_N_SPECIAL; id++)
        if (len == strlen(bp_id_names[id]) && memcmp(bytes, bp_id_names[id], len) == 0)
            problem = "is the name of one of the ids 0..2 (<pad>, <bos>, <eos>)";
    if (problem)
        return bp_fail(err, BP_ERR_BAD_SPECIAL, shown, "%s: special token %zu %s", name, shown,
                       problem);
    return BP_OK;
}

/* A token's place in the index by first byte: longest first in each bucket, then by
 * index, so that the order is total. */
typedef struct start_key {
    uint32_t first, len, index;
} start_key;

static int compare_starts(const void *a, const void *b)
{
    const start_key *x = a, *y = b;
    if (x->first != y->first)
        return x->first < y->first ? -1 : 1;
    if (x->len != y->len)
        return x->len > y->len ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Fills the index by first byte of a set whose tokens are in place. false: out of memory. */
static bool index_starts(bp_special_set *s)
{
    start_key *keys = malloc((s->n ? s->n : 1) * sizeof *keys);
    if (!keys)
        return false;
    for (uint32_t i = 0; i < s->n; i++)
        keys[i] = (start_key){s->bytes[s->off[i]], s->off[i + 1] - s->off[i], i};
    qsort(keys, s->n, sizeof *keys, compare_starts);
    for (uint32_t k = 0; k < s->n; k++) {
        uint32_t c = keys[k].first;
        s->by_start[k] = keys[k].index;
        if (s->start_end[c] == 0) {
            if (s->n_starts < 4)
                s->starts[s->n_starts] = (unsigned char)c;
            s->n_starts++;
            s->start_begin[c] = k;
        }
        s->start_end[c] = k + 1;
    }
    free(keys);
    return true;
}

void bp_special_set_free(bp_special_set *s)
{
    if (!s)
        return;
    free(s->bytes);
    free(s->off);
    free(s->by_start);
    free(s);
}

bp_status bp_special_set_make(const unsigned char *const *tokens, const size_t *lens, size_t n,
                              size_t n_old, uint32_t first_id, const char *name,
                              bp_special_set **out, bp_error *err)
{
    const char *nm = bp_source_name(name);
    *out = NULL;
    if (n > (size_t)INT32_MAX - first_id)
        return bp_fail(err, BP_ERR_TOO_LARGE, UINT64_MAX,
                       "%s: %zu special tokens after %lu ids is too many", nm, n,
                       (unsigned long)first_id);
    /* The first token that repeats an earlier one (the later of a pair), then the tokens
     * before it on their own: the error names the first bad token of the list. */
    token_ref *refs = malloc((n ? n : 1) * sizeof *refs);
    if (!refs)
        return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "%s: out of memory", nm);
    for (size_t i = 0; i < n; i++)
        refs[i] = (token_ref){tokens[i], lens[i], i};
    qsort(refs, n, sizeof *refs, compare_refs);
    size_t again = n, first = n;
    for (size_t i = 1; i < n; i++)
        if (refs[i].len == refs[i - 1].len &&
            memcmp(refs[i].bytes, refs[i - 1].bytes, refs[i].len) == 0 && refs[i].index < again)
            again = refs[i].index, first = refs[i - 1].index;
    free(refs);
    size_t total = 0;
    for (size_t i = 0; i < again; i++) {
        size_t shown = i < n_old ? i : i - n_old;
        bp_status st = check_token(tokens[i], lens[i], shown, nm, err);
        if (st != BP_OK)
            return st;
        if (lens[i] > UINT32_MAX - total)
            return bp_fail(err, BP_ERR_TOO_LARGE, shown,
                           "%s: the special tokens add up to more than 4 GiB", nm);
        total += lens[i];
    }
    if (again < n && first < n_old)
        return bp_fail(err, BP_ERR_BAD_SPECIAL, again - n_old,
                       "%s: special token %zu is already a special token of the model (id %lu)",
                       nm, again - n_old, (unsigned long)(first_id + first));
    if (again < n)
        return bp_fail(err, BP_ERR_BAD_SPECIAL, again - n_old,
                       "%s: special token %zu repeats an earlier token of the list (index %zu)",
                       nm, again - n_old, first - n_old);
    bp_special_set *s = calloc(1, sizeof *s);
    if (s) {
        s->bytes = malloc(total ? total : 1);
        s->off = malloc((n + 1) * sizeof *s->off);
        s->by_start = malloc((n ? n : 1) * sizeof *s->by_start);
    }
    if (!s || !s->bytes || !s->off || !s->by_start) {
        bp_special_set_free(s);
        return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "%s: out of memory", nm);
    }
    s->n = (uint32_t)n;
    s->first_id = first_id;
    s->off[0] = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(s->bytes + s->off[i], tokens[i], lens[i]);
        s->off[i + 1] = s->off[i] + (uint32_t)lens[i];
        if (lens[i] > s->max_len)
            s->max_len = (uint32_t)lens[i];
        s->by_start[i] = (uint32_t)i;
    }
    if (!index_starts(s)) {
        bp_special_set_free(s);
        return bp_fail(err, BP_ERR_NOMEM, UINT64_MAX, "%s: out of memory", nm);
    }
    *out = s;
    return BP_OK;
}

/* The longest token that starts at x[0..len) (x[0] starts one of the set's buckets), or
 * UINT32_MAX. */
static uint32_t match_at(const bp_special_set *s, const unsigned char *x, size_t len)
{
    for (uint32_t k = s->start_begin[x[0]]; k < s->start_end[x[0]]; k++) {
        uint32_t i = s->by_start[k], n = s->off[i + 1] - s->off[i];
        if (n <= len && memcmp(x, s->bytes + s->off[i], n) == 0)
            return i;
    }
    return UINT32_MAX;
}

/* Bytes the search looks through at a time, one memchr per first byte: small enough that
 * a byte absent from the text is not searched for to the end once per token found. */
enum { SCAN_BLOCK = 4096 };

/* The first position at or after `from` in x[0..len) whose byte starts a token, or len.
 * Text without special tokens is the common case, and the one whose cost counts: with up
 * to 4 first bytes the search is libc's vectorized memchr, each call only up to the
 * nearest hit so far, so that a block costs about one pass per first byte. */
static size_t next_start(const bp_special_set *s, const unsigned char *x, size_t len, size_t from)
{
    if (s->n_starts <= 4) {
        while (from < len) {
            size_t end = len - from > SCAN_BLOCK ? from + SCAN_BLOCK : len;
            for (unsigned k = 0; k < s->n_starts; k++) {
                const unsigned char *hit = memchr(x + from, s->starts[k], end - from);
                if (hit)
                    end = (size_t)(hit - x);
            }
            if (end < len && s->start_end[x[end]] != 0)
                return end;
            from = end;
        }
        return len;
    }
    for (; from < len; from++)
        if (s->start_end[x[from]] != 0)
            return from;
    return len;
}

size_t bp_special_find(const bp_special_set *s, const unsigned char *x, size_t len, size_t from,
                       uint32_t *token)
{
    for (; (from = next_start(s, x, len, from)) < len; from++)
        if ((*token = match_at(s, x + from, len - from)) != UINT32_MAX)
            return from;
    return len;
}

/*====== Public accessors ======*/

size_t bp_model_special_count(const bp_model *m) { return m && m->special ? m->special->n : 0; }

int bp_model_is_special(const bp_model *m, uint32_t id)
{
    return m && m->special && id >= m->special->first_id &&
           id - m->special->first_id < m->special->n;
}

uint32_t bp_model_special_id(const bp_model *m, const void *bytes, size_t len)
{
    if (!m || !m->special || !bytes || len == 0)
        return BP_ID_NONE;
    const bp_special_set *s = m->special;
    for (uint32_t i = 0; i < s->n; i++)
        if (s->off[i + 1] - s->off[i] == len && memcmp(s->bytes + s->off[i], bytes, len) == 0)
            return s->first_id + i;
    return BP_ID_NONE;
}

size_t bp_ids_drop_special(const bp_model *m, uint32_t *ids, size_t n_ids)
{
    if (!m || !m->special || !ids)
        return n_ids;
    size_t kept = 0;
    for (size_t i = 0; i < n_ids; i++)
        if (!bp_model_is_special(m, ids[i]))
            ids[kept++] = ids[i];
    return kept;
}
