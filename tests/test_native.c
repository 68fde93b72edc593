/*
 * test_native.c -- the native binary model format (docs/native-format.md): a model saved
 * natively and loaded back has the same pieces, counts and scores and encodes to the same
 * ids (a small hand-made model always; the published 80k model when ../shared is present,
 * also back to byte-identical JSON); every truncation is BP_ERR_TRUNCATED, every flipped
 * byte is rejected, another version is BP_ERR_VERSION, and files crafted to pass the
 * checksum with broken indices are BP_ERR_CORRUPT, never trusted.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <zstd.h>

#include "bp_internal.h"
#include "test_util.h"

static const char *const WORDS[] = {"ab", "abc", "bc", "bcd", "cd", "abcd", "da", "dab", "aa",
                                    "aaa", "hello", "hello world", "world", "\xe4\xb8\xad\xe6\x96\x87"};
static const uint64_t WORD_COUNTS[] = {50, 20, 40, 9, 30, 7, 11, 5, 25, 6, 70, 3, 60, 12};
#define N_WORDS (sizeof WORDS / sizeof WORDS[0])

/*------ Scratch directory ------*/

static const char *in_scratch(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", bp_test_scratch, name);
    return path;
}

static size_t scratch_entries(void)
{
    size_t n = 0;
    DIR *d = opendir(bp_test_scratch);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

/*------ Helpers ------*/

static bp_model *small_model(void)
{
    return bp_test_small_model(WORDS, WORD_COUNTS, N_WORDS);
}

/* The native image of `m`, through a file in the scratch directory. */
static unsigned char *native_image(const bp_model *m, const char *name, size_t *size)
{
    bp_error err;
    const char *path = in_scratch(name);
    if (bp_model_save_native(m, path, &err) != BP_OK)
        fail_msg("saving %s: %s", path, err.message);
    unsigned char *image = bp_test_read_file(path, size);
    assert_non_null(image);
    return image;
}

static bp_status load_image(const unsigned char *p, size_t size, bp_model **m, bp_error *err)
{
    *m = NULL;
    bp_status st = bp_model_load_memory(p, size, "image.bpm", m, err);
    assert_true((st == BP_OK) == (*m != NULL));
    return st;
}

static uint32_t get32(const unsigned char *p, size_t at)
{
    uint32_t v;
    memcpy(&v, p + at, 4);
    return v;
}

static void put32(unsigned char *p, size_t at, uint32_t v) { memcpy(p + at, &v, 4); }

/* Recomputes the checksum after an edit, so that only validation can catch it. */
static void reseal(unsigned char *p, size_t size)
{
    uint64_t h = bp_checksum64(p + 32, size - 32, 0);
    memcpy(p + 24, &h, 8);
}

/* Section offsets, computed as the format defines them (docs/native-format.md §4). */
typedef struct sections {
    uint32_t n, n_slots, n_out, depth_width;
    size_t counts, scores, out, slots, fail, out_begin, off, depth, bytes;
} sections;

static size_t align8(size_t x) { return (x + 7) & ~(size_t)7; }

static sections find_sections(const unsigned char *p)
{
    sections s = {.n = get32(p, 32), .n_slots = get32(p, 36), .n_out = get32(p, 44),
                  .depth_width = get32(p, 56)};
    s.counts = 64;
    s.scores = align8(s.counts + 8 * (size_t)s.n);
    s.out = align8(s.scores + 8 * (size_t)s.n);
    s.slots = align8(s.out + 16 * (size_t)s.n_out);
    s.fail = align8(s.slots + 8 * (size_t)s.n_slots);
    s.out_begin = align8(s.fail + 4 * (size_t)s.n_slots);
    s.off = align8(s.out_begin + 4 * (size_t)s.n_slots);
    s.depth = align8(s.off + 4 * ((size_t)s.n + 1));
    s.bytes = align8(s.depth + s.depth_width * (size_t)s.n_slots);
    return s;
}

/* Encodes `text` with both models (deterministic, then sampling with the same seeds) and
 * checks the ids are equal. */
static void assert_same_encoding(const bp_model *a, const bp_model *b, const void *text,
                                 size_t len)
{
    bp_encoder *ea, *eb;
    assert_int_equal(bp_encoder_create(a, &ea, NULL), BP_OK);
    assert_int_equal(bp_encoder_create(b, &eb, NULL), BP_OK);
    size_t cap = bp_encode_bound(len);
    uint32_t *ia = malloc(cap * sizeof *ia), *ib = malloc(cap * sizeof *ib);
    assert_non_null(ia);
    assert_non_null(ib);
    const double alphas[] = {-1.0, 0.1, 1.0};
    for (size_t k = 0; k < 3; k++) {
        bp_rng ra, rb;
        bp_rng_seed(&ra, 99, k);
        bp_rng_seed(&rb, 99, k);
        bp_encode_options oa = bp_test_options(alphas[k], 0, &ra), ob = bp_test_options(alphas[k], 0, &rb);
        size_t na, nb;
        assert_int_equal(bp_encode(ea, text, len, &oa, ia, NULL, cap, &na, NULL), BP_OK);
        assert_int_equal(bp_encode(eb, text, len, &ob, ib, NULL, cap, &nb, NULL), BP_OK);
        assert_int_equal(na, nb);
        assert_memory_equal(ia, ib, na * sizeof *ia);
    }
    free(ia);
    free(ib);
    bp_encoder_free(ea);
    bp_encoder_free(eb);
}

static const char SAMPLE_TEXT[] =
    "abcdabcdaaaadabcd hello world\nhello\n\n\xe4\xb8\xad\xe6\x96\x87 text \xff\xfe bytes\n"
    "world hello abc";

/*------ Round trips ------*/

static void test_roundtrip_small_model(void **state)
{
    (void)state;
    bp_model *m = small_model();
    bp_error err;
    const char *path = in_scratch("small.bpm");
    assert_int_equal(bp_model_save_native(m, path, &err), BP_OK);
    bp_model *n = NULL;
    assert_int_equal(bp_model_load(path, &n, &err), BP_OK); /* read from the file */
    bp_test_assert_same_model(m, n);
    assert_same_encoding(m, n, SAMPLE_TEXT, sizeof SAMPLE_TEXT - 1);
    /* From memory (copied), and saved again: the same bytes. */
    size_t size;
    unsigned char *image = bp_test_read_file(path, &size);
    bp_model *c;
    assert_int_equal(load_image(image, size, &c, &err), BP_OK);
    bp_test_assert_same_model(m, c);
    assert_same_encoding(m, c, SAMPLE_TEXT, sizeof SAMPLE_TEXT - 1);
    size_t size2;
    unsigned char *image2 = native_image(c, "again.bpm", &size2);
    assert_int_equal(size, size2);
    assert_memory_equal(image, image2, size);
    /* And back to JSON: the same file as the JSON writer gives for the original. */
    assert_int_equal(bp_model_save(m, in_scratch("a.json"), &err), BP_OK);
    assert_int_equal(bp_model_save(n, in_scratch("b.json"), &err), BP_OK);
    size_t ja, jb;
    unsigned char *a = bp_test_read_file(in_scratch("a.json"), &ja);
    unsigned char *b = bp_test_read_file(in_scratch("b.json"), &jb);
    assert_int_equal(ja, jb);
    assert_memory_equal(a, b, ja);
    free(a);
    free(b);
    free(image);
    free(image2);
    bp_model_free(c);
    bp_model_free(n);
    bp_model_free(m);
}

/* A zstd-compressed native file loads too (decompressed, then read from memory). */
static void test_compressed_native_loads(void **state)
{
    (void)state;
    bp_model *m = small_model();
    size_t size;
    unsigned char *image = native_image(m, "z.bpm", &size);
    size_t bound = ZSTD_compressBound(size);
    unsigned char *z = malloc(bound);
    assert_non_null(z);
    size_t zsize = ZSTD_compress(z, bound, image, size, 3);
    assert_false(ZSTD_isError(zsize));
    FILE *f = fopen(in_scratch("z.bpm.zst"), "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(z, 1, zsize, f), zsize);
    fclose(f);
    bp_model *n;
    bp_error err;
    assert_int_equal(bp_model_load(in_scratch("z.bpm.zst"), &n, &err), BP_OK);
    bp_test_assert_same_model(m, n);
    bp_model_free(n);
    free(z);
    free(image);
    bp_model_free(m);
}

static void test_roundtrip_reference_model(void **state)
{
    (void)state;
    const char *path = bp_test_shared_path("reference/models/bytepiece.plus.80k.model.zst");
    if (!path)
        skip();
    size_t json_len;
    unsigned char *json = bp_test_read_file(path, &json_len);
    assert_non_null(json);
    bp_model *m = bp_test_load_reference_model("bytepiece.plus.80k");
    bp_error err;
    const char *bpm = in_scratch("plus80k.bpm");
    assert_int_equal(bp_model_save_native(m, bpm, &err), BP_OK);
    bp_model *n;
    assert_int_equal(bp_model_load(bpm, &n, &err), BP_OK);
    bp_test_assert_same_model(m, n);
    const char *texts[] = {"corpus/golden_en.txt", "corpus/golden_zh.txt", "corpus/golden_edge.txt"};
    for (size_t t = 0; t < 3; t++) {
        size_t len;
        unsigned char *text = bp_test_read_file(bp_test_shared_path(texts[t]), &len);
        assert_non_null(text);
        if (len > 300000)
            len = 300000;
        assert_same_encoding(m, n, text, len);
        free(text);
    }
    /* Native back to JSON: byte-identical to the published file. */
    const char *back = in_scratch("plus80k.json");
    assert_int_equal(bp_model_save(n, back, &err), BP_OK);
    size_t back_len;
    unsigned char *again = bp_test_read_file(back, &back_len);
    assert_int_equal(back_len, json_len);
    assert_memory_equal(again, json, json_len);
    free(again);
    free(json);
    bp_model_free(n);
    bp_model_free(m);
}

/*------ Damaged files ------*/

static void test_every_truncation_is_rejected(void **state)
{
    (void)state;
    bp_model *m = small_model();
    size_t size;
    unsigned char *image = native_image(m, "t.bpm", &size);
    bp_error err;
    bp_model *n;
    for (size_t len = 1; len < size; len++) {
        bp_status st = load_image(image, len, &n, &err);
        if (st != BP_ERR_TRUNCATED)
            fail_msg("truncated to %zu of %zu bytes: %s (%s)", len, size, bp_strerror(st),
                     err.message);
        assert_non_null(strstr(err.message, "image.bpm"));
    }
    assert_int_equal(load_image(image, 0, &n, &err), BP_ERR_EMPTY);
    /* The same through files. */
    const size_t cuts[] = {1, 7, 8, 16, 63, 64, 100, size / 2, size - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        const char *path = in_scratch("cut.bpm");
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(image, 1, cuts[i], f), cuts[i]);
        fclose(f);
        assert_int_equal(bp_model_load(path, &n, &err), BP_ERR_TRUNCATED);
        assert_null(n);
        assert_non_null(strstr(err.message, path));
        assert_non_null(strstr(err.message, "truncated"));
    }
    free(image);
    bp_model_free(m);
}

static void test_flipped_bytes_are_rejected(void **state)
{
    (void)state;
    bp_model *m = small_model();
    size_t size;
    unsigned char *image = native_image(m, "f.bpm", &size);
    bp_error err;
    bp_model *n;
    const unsigned char flips[] = {0x01, 0x80};
    for (size_t i = 0; i < size; i++) {
        for (size_t f = 0; f < 2; f++) {
            image[i] ^= flips[f];
            bp_status st = load_image(image, size, &n, &err);
            image[i] ^= flips[f];
            if (st == BP_OK)
                fail_msg("byte %zu flipped with 0x%02x was accepted", i, flips[f]);
            if (i >= 8 && i < 12)
                assert_int_equal(st, BP_ERR_VERSION);
            else if (i >= 12 && st != BP_ERR_CORRUPT && st != BP_ERR_TRUNCATED)
                fail_msg("byte %zu flipped: unexpected %s", i, bp_strerror(st));
        }
    }
    assert_int_equal(load_image(image, size, &n, &err), BP_OK);
    bp_model_free(n);
    free(image);
    bp_model_free(m);
}

/* Every single bit flipped in the magic: a damaged native header, not "not valid JSON"; from
 * memory and from a file. Two bytes damaged still count, three make it something else. */
static void test_damaged_magic_is_named(void **state)
{
    (void)state;
    bp_model *m = small_model();
    size_t size;
    unsigned char *image = native_image(m, "magic.bpm", &size);
    bp_error err;
    bp_model *n;
    const char *damaged = "corrupt native model: the header is damaged (its first 8 bytes are "
                          "not the native magic 89 42 50 4D 0D 0A 1A 0A)";
    for (size_t bit = 0; bit < 64; bit++) {
        image[bit / 8] ^= (unsigned char)(1u << bit % 8);
        assert_int_equal(load_image(image, size, &n, &err), BP_ERR_CORRUPT);
        assert_int_equal(err.offset, 0);
        if (!strstr(err.message, damaged))
            fail_msg("bit %zu flipped: %s", bit, err.message);
        image[bit / 8] ^= (unsigned char)(1u << bit % 8);
    }
    memcpy(image, "\x89" "BPX\r\n\x1a\t", 8);
    const char *path = in_scratch("magic.bpm");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(image, 1, size, f), size);
    assert_int_equal(fclose(f), 0);
    n = NULL;
    assert_int_equal(bp_model_load(path, &n, &err), BP_ERR_CORRUPT);
    assert_null(n);
    assert_non_null(strstr(err.message, damaged));
    memcpy(image, "\x89" "BXX\r\n\x1a\t", 8);
    assert_int_equal(load_image(image, size, &n, &err), BP_ERR_NOT_JSON);
    assert_non_null(strstr(err.message, "not a model: neither JSON"));
    free(image);
    bp_model_free(m);
}

/* A file caught half rewritten by another model of the same size (counts changed, pieces
 * the same): its first k bytes from one image, the rest from the other. Every such mix
 * that is neither image is refused (the checksum), never loaded. */
static void test_half_rewritten_is_rejected(void **state)
{
    (void)state;
    uint64_t other_counts[N_WORDS];
    for (size_t i = 0; i < N_WORDS; i++)
        other_counts[i] = WORD_COUNTS[i] + 1 + i % 3;
    bp_model *a = small_model(), *b = bp_test_small_model(WORDS, other_counts, N_WORDS);
    size_t size_a, size_b;
    unsigned char *image_a = native_image(a, "a.bpm", &size_a);
    unsigned char *image_b = native_image(b, "b.bpm", &size_b);
    assert_int_equal(size_a, size_b);
    unsigned char *mix = malloc(size_a);
    assert_non_null(mix);
    size_t refused = 0;
    for (size_t k = 1; k < size_a; k++) {
        memcpy(mix, image_b, k);
        memcpy(mix + k, image_a + k, size_a - k);
        if (memcmp(mix, image_a, size_a) == 0 || memcmp(mix, image_b, size_a) == 0)
            continue;
        bp_model *n;
        bp_error err;
        bp_status st = load_image(mix, size_a, &n, &err);
        if (st != BP_ERR_CORRUPT)
            fail_msg("%zu bytes of b, then a: %s (%s)", k, bp_strerror(st), err.message);
        refused++;
    }
    assert_true(refused > 0);
    free(mix);
    free(image_a);
    free(image_b);
    bp_model_free(a);
    bp_model_free(b);
}

static void test_other_version_is_rejected(void **state)
{
    (void)state;
    bp_model *m = small_model();
    size_t size;
    unsigned char *image = native_image(m, "v.bpm", &size);
    put32(image, 8, 3);
    const char *path = in_scratch("v3.bpm");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(image, 1, size, f), size);
    fclose(f);
    bp_error err;
    bp_model *n;
    assert_int_equal(bp_model_load(path, &n, &err), BP_ERR_VERSION);
    assert_null(n);
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.message, "version 3"));
    free(image);
    bp_model_free(m);
}

/* Edits that keep the checksum right (resealed) must be caught by validation. */
typedef void (*edit_fn)(unsigned char *p, const sections *s);

static uint32_t first_state(const unsigned char *p, const sections *s, uint32_t after)
{
    for (uint32_t t = after + 1; t < s->n_slots; t++) {
        int32_t check;
        memcpy(&check, p + s->slots + 8 * (size_t)t + 4, 4);
        if (check >= 0)
            return t;
    }
    fail_msg("no state");
    return 0;
}

/* A deep state: the last one of the slot array with depth >= 2. */
static uint32_t deep_state(const unsigned char *p, const sections *s)
{
    uint32_t found = 0;
    for (uint32_t t = 1; t < s->n_slots; t++) {
        int32_t check;
        memcpy(&check, p + s->slots + 8 * (size_t)t + 4, 4);
        if (check > 0)
            found = t;
    }
    assert_true(found > 0);
    return found;
}

static void edit_fail_loop(unsigned char *p, const sections *s)
{
    uint32_t t = deep_state(p, s);
    put32(p, s->fail + 4 * (size_t)t, t); /* a state failing to itself would loop forever */
}

static void edit_fail_deeper(unsigned char *p, const sections *s)
{
    uint32_t t = first_state(p, s, 0), d = deep_state(p, s);
    put32(p, s->fail + 4 * (size_t)t, d);
}

static void edit_base_range(unsigned char *p, const sections *s)
{
    uint32_t t = deep_state(p, s);
    put32(p, s->slots + 8 * (size_t)t, s->n_slots - 10);
}

static void edit_check_range(unsigned char *p, const sections *s)
{
    uint32_t t = deep_state(p, s);
    put32(p, s->slots + 8 * (size_t)t + 4, s->n_slots + 5);
}

static void edit_out_begin_range(unsigned char *p, const sections *s)
{
    uint32_t t = deep_state(p, s);
    put32(p, s->out_begin + 4 * (size_t)t, s->n_out);
}

static void edit_out_id_range(unsigned char *p, const sections *s)
{
    put32(p, s->out + 16 * (size_t)(s->n_out / 2) + 12, s->n + 3);
}

static void edit_out_len(unsigned char *p, const sections *s)
{
    /* The last entry must be a single byte, or the scan of its list runs off the end. */
    size_t at = s->out + 16 * (size_t)(s->n_out - 1);
    put32(p, at + 8, 2);
}

static void edit_offsets(unsigned char *p, const sections *s)
{
    put32(p, s->off + 4 * 10, get32(p, s->off + 4 * 9)); /* an empty piece */
}

static void edit_count_zero(unsigned char *p, const sections *s)
{
    memset(p + s->counts + 8 * 5, 0, 8);
}

static void edit_depth(unsigned char *p, const sections *s)
{
    uint32_t t = deep_state(p, s);
    if (s->depth_width == 1)
        p[s->depth + t] = (unsigned char)(p[s->depth + t] + 1);
    else
        put32(p, s->depth + 4 * (size_t)t, get32(p, s->depth + 4 * (size_t)t) + 1);
}

static void edit_state_count(unsigned char *p, const sections *s)
{
    (void)s;
    put32(p, 40, get32(p, 40) - 1);
}

static void edit_reserved(unsigned char *p, const sections *s)
{
    (void)s;
    put32(p, 60, 1);
}

static void test_crafted_files_are_rejected(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        edit_fn edit;
    } edits[] = {
        {"failure link to itself", edit_fail_loop},
        {"failure link to a deeper state", edit_fail_deeper},
        {"base past the end", edit_base_range},
        {"parent out of range", edit_check_range},
        {"output start out of range", edit_out_begin_range},
        {"output id out of range", edit_out_id_range},
        {"output list without end", edit_out_len},
        {"empty piece", edit_offsets},
        {"zero count", edit_count_zero},
        {"wrong depth", edit_depth},
        {"wrong state count", edit_state_count},
        {"reserved field", edit_reserved},
    };
    bp_model *m = small_model();
    size_t size;
    unsigned char *image = native_image(m, "c.bpm", &size);
    sections s = find_sections(image);
    assert_int_equal(s.bytes + get32(image, 48), size);
    unsigned char *copy = malloc(size);
    assert_non_null(copy);
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        memcpy(copy, image, size);
        edits[i].edit(copy, &s);
        reseal(copy, size);
        bp_error err;
        bp_model *n;
        bp_status st = load_image(copy, size, &n, &err);
        if (st != BP_ERR_CORRUPT)
            fail_msg("%s: got %s, not BP_ERR_CORRUPT", edits[i].what, bp_strerror(st));
        assert_non_null(strstr(err.message, "image.bpm"));
        assert_non_null(strstr(err.message, "corrupt"));
    }
    /* Data after the declared end. */
    unsigned char *longer = malloc(size + 8);
    assert_non_null(longer);
    memcpy(longer, image, size);
    memset(longer + size, 0, 8);
    bp_error err;
    bp_model *n;
    assert_int_equal(load_image(longer, size + 8, &n, &err), BP_ERR_CORRUPT);
    free(longer);
    free(copy);
    free(image);
    bp_model_free(m);
}

/* Scores from another machine's log() (here: altered and resealed) are recomputed, so a
 * native model always encodes as its JSON does on this machine. */
static void test_foreign_scores_are_recomputed(void **state)
{
    (void)state;
    bp_model *m = small_model();
    size_t size;
    unsigned char *image = native_image(m, "s.bpm", &size);
    sections s = find_sections(image);
    for (uint32_t i = 0; i < s.n; i++) { /* one ulp off, in the table and in the outputs */
        uint64_t bits;
        memcpy(&bits, image + s.scores + 8 * (size_t)i, 8);
        bits ^= 1;
        memcpy(image + s.scores + 8 * (size_t)i, &bits, 8);
    }
    for (uint32_t j = 0; j < s.n_out; j++) {
        uint64_t bits;
        memcpy(&bits, image + s.out + 16 * (size_t)j, 8);
        bits ^= 1;
        memcpy(image + s.out + 16 * (size_t)j, &bits, 8);
    }
    reseal(image, size);
    bp_error err;
    bp_model *n;
    assert_int_equal(load_image(image, size, &n, &err), BP_OK);
    bp_test_assert_same_model(m, n);
    assert_same_encoding(m, n, SAMPLE_TEXT, sizeof SAMPLE_TEXT - 1);
    bp_model_free(n);
    free(image);
    bp_model_free(m);
}

static void test_save_errors(void **state)
{
    (void)state;
    bp_model *m = small_model();
    bp_error err;
    assert_int_equal(bp_model_save_native(NULL, in_scratch("x.bpm"), &err), BP_ERR_INVALID_ARG);
    assert_int_equal(bp_model_save_native(m, NULL, &err), BP_ERR_INVALID_ARG);
    size_t before = scratch_entries();
    const char *path = in_scratch("no/such/dir/x.bpm");
    assert_int_equal(bp_model_save_native(m, path, &err), BP_ERR_WRITE);
    assert_non_null(strstr(err.message, path));
    assert_int_equal(scratch_entries(), before); /* nothing left behind */
    /* Replacing an existing file is atomic: the old one stays until the rename. */
    const char *target = in_scratch("replace.bpm");
    assert_int_equal(bp_model_save_native(m, target, &err), BP_OK);
    assert_int_equal(bp_model_save_native(m, target, &err), BP_OK);
    assert_int_equal(scratch_entries(), before + 1);
    bp_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_small_model),
        cmocka_unit_test(test_compressed_native_loads),
        cmocka_unit_test(test_roundtrip_reference_model),
        cmocka_unit_test(test_every_truncation_is_rejected),
        cmocka_unit_test(test_flipped_bytes_are_rejected),
        cmocka_unit_test(test_damaged_magic_is_named),
        cmocka_unit_test(test_half_rewritten_is_rejected),
        cmocka_unit_test(test_other_version_is_rejected),
        cmocka_unit_test(test_crafted_files_are_rejected),
        cmocka_unit_test(test_foreign_scores_are_recomputed),
        cmocka_unit_test(test_save_errors),
    };
    return cmocka_run_group_tests(tests, bp_test_make_scratch, bp_test_remove_scratch);
}
