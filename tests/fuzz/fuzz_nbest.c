/*
 * fuzz_nbest.c -- libFuzzer target: bp_encode_nbest on arbitrary bytes.
 *
 * Input layout (missing bytes read as 0):
 *   byte 0     flags: 1 no normalization, 2 BOS, 4 EOS, bits 5-6 the model:
 *              0 data/sample.model, 1 a fixed tiny model, 2-3 a model whose extra pieces
 *              come from the input (below), with counts 1 .. 4 so that scores tie often
 *   byte 1     k = 1 + b % 64
 *   fuzzed model only: byte n (at most 24 extra pieces), then per piece a length byte
 *              (2 + b % 6), the piece's bytes and a count byte (count 1 + b % 4);
 *              repeated pieces are dropped
 *   the rest   the text
 *
 * Checks, for every input:
 *   - the first segmentation is bp_encode()'s ids (same flags), and so is the k = 1 list;
 *   - the list for a smaller k is the first entries of the list for k (a stable order);
 *   - there are min(k, number of segmentations) entries (counted by a separate DP);
 *   - every entry has <bos>/<eos> as asked and valid ids whose pieces tile the normalized
 *     text without crossing a chunk end, so it decodes to the normalized text;
 *   - its score is its pieces' scores added left to right per chunk, chunk scores added
 *     left to right (the header's rule), bit for bit; scores never increase;
 *   - no segmentation is listed twice.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"

enum { F_NO_NORMALIZE = 1, F_BOS = 2, F_EOS = 4, MAX_EXTRA = 24, MAX_K = 64 };

static bp_model *sample_model, *tiny_model;
static bp_encoder *sample_enc, *tiny_enc;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    sample_model = fuzz_sample_model();
    tiny_model = fuzz_tiny_model();
    FUZZ_CHECK_STATUS(bp_encoder_create(sample_model, &sample_enc, NULL), BP_OK);
    FUZZ_CHECK_STATUS(bp_encoder_create(tiny_model, &tiny_enc, NULL), BP_OK);
    return 0;
}

/* Extra pieces of 2 .. 7 bytes with tiny counts, many ties; repeats are dropped. */
static FUZZ_NO_COVERAGE bp_model *tie_prone_model(fuzz_input *in)
{
    bp_piece extra[MAX_EXTRA];
    size_t n = fuzz_byte(in) % (MAX_EXTRA + 1), kept = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = 2 + fuzz_byte(in) % 6;
        if (in->n < len)
            break;
        bp_piece p = {in->p, len, 0};
        in->p += len;
        in->n -= len;
        p.count = 1 + fuzz_byte(in) % 4;
        bool repeated = false;
        for (size_t j = 0; j < kept && !repeated; j++)
            repeated = extra[j].len == len && memcmp(extra[j].bytes, p.bytes, len) == 0;
        if (!repeated)
            extra[kept++] = p;
    }
    bp_model *m = NULL;
    FUZZ_CHECK_STATUS(fuzz_model_with(extra, kept, &m), BP_OK);
    return m;
}

/* How many segmentations x[0..len) has as one chunk, saturated at `cap`. */
static FUZZ_NO_COVERAGE uint64_t count_segmentations(const bp_model *m, const unsigned char *x,
                                                     size_t len, uint64_t cap)
{
    uint64_t *ways = fuzz_xmalloc((len + 1) * sizeof *ways);
    ways[0] = 1;
    for (size_t e = 1; e <= len; e++) {
        ways[e] = 0;
        for (size_t s = 0; s < e; s++)
            if (bp_model_piece_id(m, x + s, e - s) != BP_ID_NONE) {
                ways[e] += ways[s];
                ways[e] = ways[e] > cap ? cap : ways[e];
            }
    }
    uint64_t n = ways[len];
    free(ways);
    return n;
}

/* Checks one listed segmentation (without <bos>/<eos>) against the normalized text and
 * returns its score by the documented rule. */
static FUZZ_NO_COVERAGE double check_segmentation(const bp_model *m, const uint32_t *ids,
                                                  size_t n, const unsigned char *x, size_t len)
{
    double total = 0.0, chunk_score = 0.0;
    size_t pos = 0, chunk_end = len ? bp_chunk_len(x, len) : 0;
    for (size_t i = 0; i < n; i++) {
        size_t plen;
        const unsigned char *p = bp_model_piece(m, ids[i], &plen);
        FUZZ_CHECK(p && pos + plen <= chunk_end && memcmp(x + pos, p, plen) == 0);
        chunk_score = chunk_score + bp_model_piece_score(m, ids[i]);
        pos += plen;
        if (pos == chunk_end) {
            total = total + chunk_score;
            chunk_score = 0.0;
            if (pos < len)
                chunk_end = pos + bp_chunk_len(x + pos, len - pos);
        }
    }
    FUZZ_CHECK(pos == len);
    return total;
}

FUZZ_NO_COVERAGE int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    uint8_t flags_byte = fuzz_byte(&in);
    size_t k = 1 + fuzz_byte(&in) % MAX_K;
    unsigned flags = (flags_byte & F_NO_NORMALIZE ? BP_ENCODE_NO_NORMALIZE : 0) |
                     (flags_byte & F_BOS ? BP_ENCODE_BOS : 0) |
                     (flags_byte & F_EOS ? BP_ENCODE_EOS : 0);
    unsigned which = (flags_byte >> 5) & 3;
    bp_model *own = which >= 2 ? tie_prone_model(&in) : NULL;
    bp_encoder *enc = which == 0 ? sample_enc : which == 1 ? tiny_enc : NULL;
    if (own)
        FUZZ_CHECK_STATUS(bp_encoder_create(own, &enc, NULL), BP_OK);
    const bp_model *m = own ? own : which == 0 ? sample_model : tiny_model;
    const unsigned char *text = in.p;
    size_t len = in.n;
    bp_encode_options o = {0, flags, NULL};

    size_t cap = bp_encode_bound(len), n_ids;
    uint32_t *ids = fuzz_xmalloc(cap * sizeof *ids);
    FUZZ_CHECK_STATUS(bp_encode(enc, text, len, &o, ids, NULL, cap, &n_ids, NULL), BP_OK);

    bp_nbest nb, smaller;
    FUZZ_CHECK_STATUS(bp_encode_nbest(enc, text, len, &o, k, &nb, NULL), BP_OK);
    FUZZ_CHECK_STATUS(bp_encode_nbest(enc, text, len, &o, 1 + k / 3, &smaller, NULL), BP_OK);
    size_t norm_len; /* the text of the last call: both were of the same text */
    const unsigned char *norm = bp_encoder_normalized(enc, &norm_len);

    FUZZ_CHECK(nb.n >= 1 && nb.n <= k);
    FUZZ_CHECK(nb.ids_begin[0] == 0 && nb.ids_begin[1] == n_ids);
    FUZZ_CHECK(memcmp(nb.ids, ids, n_ids * sizeof *ids) == 0);
    FUZZ_CHECK(smaller.n == (nb.n < 1 + k / 3 ? nb.n : 1 + k / 3));
    FUZZ_CHECK(memcmp(smaller.ids, nb.ids, smaller.ids_begin[smaller.n] * sizeof *ids) == 0);
    FUZZ_CHECK(memcmp(smaller.ids_begin, nb.ids_begin, (smaller.n + 1) * sizeof(size_t)) == 0);
    FUZZ_CHECK(memcmp(smaller.scores, nb.scores, smaller.n * sizeof(double)) == 0);

    uint64_t total = 1;
    for (size_t pos = 0; pos < norm_len;) {
        size_t chunk = bp_chunk_len(norm + pos, norm_len - pos);
        uint64_t ways = count_segmentations(m, norm + pos, chunk, k + 1);
        total = total * ways > k + 1 ? k + 1 : total * ways;
        pos += chunk;
    }
    FUZZ_CHECK(nb.n == (total < k ? total : k));

    size_t head = !!(flags & BP_ENCODE_BOS), tail = !!(flags & BP_ENCODE_EOS);
    for (size_t i = 0; i < nb.n; i++) {
        const uint32_t *seg = nb.ids + nb.ids_begin[i];
        size_t n = nb.ids_begin[i + 1] - nb.ids_begin[i];
        FUZZ_CHECK(n >= head + tail);
        FUZZ_CHECK(!head || seg[0] == BP_ID_BOS);
        FUZZ_CHECK(!tail || seg[n - 1] == BP_ID_EOS);
        double score = check_segmentation(m, seg + head, n - head - tail, norm, norm_len);
        FUZZ_CHECK(memcmp(&score, &nb.scores[i], sizeof score) == 0);
        FUZZ_CHECK(i == 0 || nb.scores[i] <= nb.scores[i - 1]);
        for (size_t j = 0; j < i; j++) {
            size_t nj = nb.ids_begin[j + 1] - nb.ids_begin[j];
            FUZZ_CHECK(nj != n || memcmp(nb.ids + nb.ids_begin[j], seg, n * sizeof *seg) != 0);
        }
    }

    bp_nbest_free(&smaller);
    bp_nbest_free(&nb);
    free(ids);
    if (own) {
        bp_encoder_free(enc);
        bp_model_free(own);
    }
    return 0;
}
