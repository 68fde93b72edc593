/*
 * fuzz_encode.c -- libFuzzer target: bp_encode on arbitrary bytes.
 *
 * Input layout (missing bytes read as 0):
 *   byte 0     flags: 1 no normalization, 2 BOS, 4 EOS, 8 sample, 16 glibc-parity rng,
 *              bits 5-6 the model: 0 data/sample.model, 1 a fixed tiny model,
 *              2-3 a model whose extra pieces come from the input (below)
 *   bytes 1-8  the seed (little endian)
 *   byte 9     alpha: 0-15 pick a special value (0, denormals, huge, infinity, ...),
 *              16-255 give (b - 16) / 32
 *   fuzzed model only: byte n (at most 40 extra pieces), then per piece a length byte
 *              (1 + b % 12), the piece's bytes, and a count byte (count 1 + b * b)
 *   the rest   the text
 *
 * Checks, for every input:
 *   - the call succeeds, produces at most bp_encode_bound(len) ids, all valid ids;
 *   - the pieces tile the normalized text; the offsets keep the contract of bp_encode()
 *     (tests/offset_check.h: into the input, at character starts, each token inside the
 *     NFC of its span; without normalization where the previous token ends), BOS at 0,
 *     EOS at the input's length;
 *   - the normalized text is the input (no normalization) or the NFC oracle's output;
 *   - decode(ids) == the normalized text: with normalization off, decode(encode(x)) == x;
 *   - deterministic: the ids equal a naive Viterbi over a sorted piece table, chunk by
 *     chunk (this checks the automaton reports every match, in the right order);
 *   - sampling: each chunk's sampled path scores no more than the Viterbi optimum;
 *   - re-encoding the decoded text (NFC on) gives the same ids, with the same seed;
 *   - a too small buffer gives BP_ERR_BUFFER_TOO_SMALL and the size needed (for the
 *     inputs whose seed is 0 mod 4: it costs two more calls);
 *   - a fuzzed piece table with duplicates is refused with BP_ERR_DUP_PIECE.
 */
#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../offset_check.h"
#include "fuzz_util.h"

enum {
    F_NO_NORMALIZE = 1,
    F_BOS = 2,
    F_EOS = 4,
    F_SAMPLE = 8,
    F_GLIBC = 16,
    MAX_EXTRA = 40,
};

typedef struct model_slot {
    bp_model *model;
    fuzz_piece_index ix;
    bp_encoder *enc; /* kept across inputs for the fixed models, as an application would */
} model_slot;

static model_slot sample_slot, tiny_slot;

static void slot_init(model_slot *s, bp_model *m)
{
    s->model = m;
    fuzz_index_build(&s->ix, m);
    FUZZ_CHECK_STATUS(bp_encoder_create(m, &s->enc, NULL), BP_OK);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    slot_init(&sample_slot, fuzz_sample_model());
    slot_init(&tiny_slot, fuzz_tiny_model());
    return 0;
}

static double pick_alpha(uint8_t b)
{
    static const double special[16] = {0.0,   DBL_TRUE_MIN, 1e-300, DBL_MIN, 1e-3, 0.1,
                                       0.5,   1.0,          2.0,    10.0,    1e3,  1e10,
                                       1e300, DBL_MAX,      INFINITY, 0.25};
    return b < 16 ? special[b] : (b - 16) / 32.0;
}

static int same_piece(const bp_piece *a, const bp_piece *b)
{
    return a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
}

/* Reads the extra pieces from the input and builds the model. A table with a duplicate
 * (of another extra piece or of a single byte) must be refused; the duplicates are then
 * dropped and the model built again. Returns NULL only if that is impossible. */
static FUZZ_NO_COVERAGE bp_model *fuzzed_model(fuzz_input *in)
{
    bp_piece extra[MAX_EXTRA];
    size_t n = fuzz_byte(in) % (MAX_EXTRA + 1), k = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = 1 + fuzz_byte(in) % 12;
        if (in->n < len)
            break;
        extra[k].bytes = in->p;
        extra[k].len = len;
        in->p += len;
        in->n -= len;
        uint8_t c = fuzz_byte(in);
        extra[k++].count = 1 + (uint64_t)c * c;
    }
    size_t unique = 0;
    int has_dup = 0;
    bp_piece kept[MAX_EXTRA];
    for (size_t i = 0; i < k; i++) {
        int dup = extra[i].len == 1;
        for (size_t j = 0; j < unique && !dup; j++)
            dup = same_piece(&extra[i], &kept[j]);
        if (dup)
            has_dup = 1;
        else
            kept[unique++] = extra[i];
    }
    bp_model *m = NULL;
    if (has_dup) {
        FUZZ_CHECK_STATUS(fuzz_model_with(extra, k, &m), BP_ERR_DUP_PIECE);
        FUZZ_CHECK(m == NULL);
    }
    FUZZ_CHECK_STATUS(fuzz_model_with(kept, unique, &m), BP_OK);
    /* Every piece is found by its bytes. */
    for (uint32_t id = BP_N_SPECIAL; id < bp_model_vocab_size(m); id++) {
        size_t len;
        const unsigned char *b = bp_model_piece(m, id, &len);
        FUZZ_CHECK(bp_model_piece_id(m, b, len) == id);
    }
    return m;
}

typedef struct run {
    uint32_t *ids;
    size_t *offsets;
    size_t n;
} run;

/* Encodes x with `o` (a fresh copy of `rng0` when sampling); with `check_size`, also checks
 * the size contract (a buffer one id short). */
static void encode(bp_encoder *enc, const unsigned char *x, size_t len, unsigned flags,
                   double alpha, const bp_rng *rng0, bool check_size, run *r)
{
    bp_rng rng = *rng0;
    bp_encode_options o = {alpha, flags, &rng};
    size_t cap = bp_encode_bound(len);
    r->ids = fuzz_xmalloc(cap * sizeof *r->ids);
    r->offsets = fuzz_xmalloc(cap * sizeof *r->offsets);
    FUZZ_CHECK_STATUS(bp_encode(enc, x, len, &o, r->ids, r->offsets, cap, &r->n, NULL), BP_OK);
    FUZZ_CHECK(r->n <= cap);
    if (check_size && r->n > 0) {
        /* One id short: the size needed is reported and the call is otherwise the same. */
        size_t need = 0;
        rng = *rng0;
        FUZZ_CHECK_STATUS(bp_encode(enc, x, len, &o, r->ids, NULL, r->n - 1, &need, NULL),
                          BP_ERR_BUFFER_TOO_SMALL);
        FUZZ_CHECK(need == r->n);
        rng = *rng0;
        FUZZ_CHECK_STATUS(bp_encode(enc, x, len, &o, r->ids, r->offsets, cap, &need, NULL), BP_OK);
        FUZZ_CHECK(need == r->n);
    }
}

static void run_free(run *r)
{
    free(r->ids);
    free(r->offsets);
}

/* Score of a path ids[0..n) summed left to right, as the lattice sums it. */
static double path_score(const bp_model *m, const uint32_t *ids, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s = s + bp_model_piece_score(m, ids[i]);
    return s;
}

FUZZ_NO_COVERAGE int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    uint8_t flags_byte = fuzz_byte(&in);
    uint64_t seed = fuzz_u64(&in);
    double alpha = pick_alpha(fuzz_byte(&in));
    bool sample = flags_byte & F_SAMPLE;
    if (!sample)
        alpha = -1.0;
    unsigned flags = (flags_byte & F_NO_NORMALIZE ? BP_ENCODE_NO_NORMALIZE : 0) |
                     (flags_byte & F_BOS ? BP_ENCODE_BOS : 0) |
                     (flags_byte & F_EOS ? BP_ENCODE_EOS : 0) |
                     (sample ? BP_ENCODE_SAMPLE : 0);
    unsigned which = (flags_byte >> 5) & 3;

    model_slot own = {0}, *slot = which == 0 ? &sample_slot : which == 1 ? &tiny_slot : &own;
    if (which >= 2)
        slot_init(&own, fuzzed_model(&in));
    const bp_model *m = slot->model;
    const unsigned char *text = in.p;
    size_t len = in.n;

    bp_rng rng0;
    if (flags_byte & F_GLIBC)
        bp_rng_seed_glibc(&rng0, (uint32_t)seed);
    else
        bp_rng_seed(&rng0, seed, seed >> 32);

    bp_encoder *enc = slot->enc;
    run r;
    /* The size contract costs two more calls: checked for one input in four. */
    bool check_size = (seed & 3) == 0;
    encode(enc, text, len, flags, alpha, &rng0, check_size, &r);

    /* The normalized text. */
    size_t norm_len;
    const unsigned char *norm = bp_encoder_normalized(enc, &norm_len);
    unsigned char *norm_copy = fuzz_xmalloc(norm_len);
    if (norm_len)
        memcpy(norm_copy, norm, norm_len);
    if (flags & BP_ENCODE_NO_NORMALIZE) {
        FUZZ_CHECK(norm_len == len && (len == 0 || memcmp(norm_copy, text, len) == 0));
    } else {
        size_t want_len;
        unsigned char *want = fuzz_nfc_oracle(text, len, &want_len);
        FUZZ_CHECK(norm_len == want_len && memcmp(norm_copy, want, want_len) == 0);
        free(want);
    }

    /* Ids, offsets, and the pieces tile the normalized text. */
    size_t first = 0, last = r.n, vocab = bp_model_vocab_size(m);
    if (flags & BP_ENCODE_BOS) {
        FUZZ_CHECK(r.n >= 1 && r.ids[0] == 1 && r.offsets[0] == 0);
        first = 1;
    }
    if (flags & BP_ENCODE_EOS) {
        FUZZ_CHECK(r.n >= first + 1 && r.ids[r.n - 1] == 2 && r.offsets[r.n - 1] == len);
        last = r.n - 1;
    }
    size_t pos = 0;
    size_t *norm_at = fuzz_xmalloc((r.n + 1) * sizeof *norm_at); /* in the normalized text */
    for (size_t i = first; i < last; i++) {
        FUZZ_CHECK(r.ids[i] >= BP_N_SPECIAL && r.ids[i] < vocab);
        norm_at[i] = pos;
        size_t plen;
        const unsigned char *p = bp_model_piece(m, r.ids[i], &plen);
        FUZZ_CHECK(p && pos + plen <= norm_len && memcmp(norm_copy + pos, p, plen) == 0);
        pos += plen;
    }
    FUZZ_CHECK(pos == norm_len);
    FUZZ_CHECK(offset_violation(m, text, len, !(flags & BP_ENCODE_NO_NORMALIZE), r.ids + first,
                                r.offsets + first, last - first) == NULL);

    /* decode(encode(x)) is the normalized text; into a buffer of exactly that size. */
    unsigned char *dec = fuzz_xmalloc(norm_len);
    size_t dec_len = 0;
    bp_error err;
    FUZZ_CHECK_STATUS(bp_decode(m, r.ids, r.n, dec, norm_len, &dec_len, &err), BP_OK);
    FUZZ_CHECK(dec_len == norm_len && memcmp(dec, norm_copy, norm_len) == 0);

    /* Chunk by chunk against the naive Viterbi. */
    uint32_t *naive = fuzz_xmalloc(norm_len * sizeof *naive);
    size_t t = first;
    for (size_t c = 0; c < norm_len;) {
        size_t clen = bp_chunk_len(norm_copy + c, norm_len - c);
        double best;
        size_t nn = fuzz_naive_viterbi(&slot->ix, norm_copy + c, clen, naive, &best);
        size_t k = t;
        while (k < last && norm_at[k] < c + clen)
            k++;
        if (!sample) {
            FUZZ_CHECK(k - t == nn && memcmp(r.ids + t, naive, nn * sizeof *naive) == 0);
        } else {
            FUZZ_CHECK(path_score(m, r.ids + t, k - t) <= best);
        }
        t = k;
        c += clen;
    }
    FUZZ_CHECK(t == last);

    /* NFC is idempotent: encoding the decoded text again gives the same ids. */
    if (!(flags & BP_ENCODE_NO_NORMALIZE)) {
        run again;
        encode(enc, dec, dec_len, flags, alpha, &rng0, false, &again);
        FUZZ_CHECK(again.n == r.n && memcmp(again.ids, r.ids, r.n * sizeof *r.ids) == 0);
        run_free(&again);
    }

    free(naive);
    free(norm_at);
    free(dec);
    free(norm_copy);
    run_free(&r);
    if (which >= 2) {
        bp_encoder_free(own.enc);
        fuzz_index_free(&own.ix);
        bp_model_free(own.model);
    }
    return 0;
}
