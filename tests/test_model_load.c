/*
 * test_model_load.c -- loading models in the reference JSON format: small models generated
 * here load with every piece, id and count as written, plain or zstd, from memory or from
 * a file; each kind of malformed input fails with its own status and a message naming the
 * source and the problem (one test per defect, generated from two tables); and the three
 * reference models load with scores bit-identical to the golden libm scores.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
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

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/*====== A generated model ======*/

/* The pieces beyond the 256 single bytes (with a NUL and non-UTF-8 bytes on purpose). */
static const struct {
    const char *bytes;
    size_t len;
} MULTI[] = {
    {"ab", 2}, {"abc", 3}, {"the", 3}, {"\xe4\xb8\xad", 3}, {"\n\n", 2}, {"\xff\x00\x01", 3},
};
#define N_PIECES (256 + ARRAY_LEN(MULTI))
/* The defect tables below write ids past the end literally. */
_Static_assert(N_PIECES == 262, "update the ids 265 in the defect tables");

typedef struct entry {
    unsigned char piece[8];
    size_t len;
    uint32_t id;
    uint64_t count;
    char key[48];   /* JSON text between the quotes */
    char value[96]; /* JSON text of the value */
} entry;

typedef struct spec {
    entry e[N_PIECES + 1]; /* room for one extra entry */
    size_t n;
} spec;

static void base64_encode(const unsigned char *in, size_t len, char *out)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        out[n++] = alphabet[v >> 18 & 63];
        out[n++] = alphabet[v >> 12 & 63];
        out[n++] = i + 1 < len ? alphabet[v >> 6 & 63] : '=';
        out[n++] = i + 2 < len ? alphabet[v & 63] : '=';
    }
    out[n] = 0;
}

static void entry_set(entry *e, const void *bytes, size_t len, uint32_t id, uint64_t count)
{
    memcpy(e->piece, bytes, len);
    e->len = len;
    e->id = id;
    e->count = count;
    base64_encode(e->piece, len, e->key);
    snprintf(e->value, sizeof e->value, "[%u, \"\", %llu]", id, (unsigned long long)count);
}

/* The 256 single bytes (byte b: count b + 1), then MULTI (counts 1000, 1001, ...). Ids are
 * 3, 4, ... in that order, or the reverse when `reverse_ids`. */
static void spec_init(spec *sp, bool reverse_ids)
{
    sp->n = N_PIECES;
    for (size_t i = 0; i < N_PIECES; i++) {
        uint32_t id = (uint32_t)(reverse_ids ? N_PIECES + 2 - i : i + 3);
        if (i < 256) {
            unsigned char b = (unsigned char)i;
            entry_set(&sp->e[i], &b, 1, id, i + 1);
        } else {
            entry_set(&sp->e[i], MULTI[i - 256].bytes, MULTI[i - 256].len, id, 1000 + i);
        }
    }
}

/* The model as JSON, one entry per line from line 2 (the reference writer spreads each
 * value over 5 lines; a line per entry makes line numbers in messages easy to predict),
 * malloc'd. key_offsets (may be NULL) receives the offset of each key's opening quote. */
static char *spec_json(const spec *sp, size_t *len, size_t *key_offsets)
{
    size_t cap = 8 + sp->n * (sizeof sp->e[0].key + sizeof sp->e[0].value + 16);
    char *out = malloc(cap);
    assert_non_null(out);
    size_t n = (size_t)snprintf(out, cap, "{");
    for (size_t i = 0; i < sp->n; i++) {
        if (key_offsets)
            key_offsets[i] = n + 5 + (i > 0);
        n += (size_t)snprintf(out + n, cap - n, "%s\n    \"%s\": %s", i ? "," : "", sp->e[i].key,
                              sp->e[i].value);
    }
    n += (size_t)snprintf(out + n, cap - n, "\n}");
    *len = n;
    return out;
}

/* Every piece of `sp` has its id, bytes and count in `m`. */
static void assert_model_matches(const bp_model *m, const spec *sp)
{
    assert_int_equal(bp_model_vocab_size(m), sp->n + 3);
    for (size_t i = 0; i < sp->n; i++) {
        const entry *e = &sp->e[i];
        size_t len;
        const unsigned char *p = bp_model_piece(m, e->id, &len);
        assert_non_null(p);
        assert_int_equal(len, e->len);
        assert_memory_equal(p, e->piece, len);
        assert_int_equal(bp_model_piece_count(m, e->id), e->count);
        assert_int_equal(bp_model_piece_id(m, e->piece, e->len), e->id);
    }
    for (uint32_t id = 0; id < 3; id++)
        assert_null(bp_model_piece(m, id, NULL));
    assert_null(bp_model_piece(m, (uint32_t)sp->n + 3, NULL));
}

/*====== Loading helpers ======*/

#define NAME "test.json"

static bp_model *load_memory_ok(const void *data, size_t len)
{
    bp_model *m = NULL;
    bp_error err;
    bp_status st = bp_model_load_memory(data, len, NAME, &m, &err);
    if (st != BP_OK)
        fail_msg("load failed (%s): %s", bp_strerror(st), err.message);
    assert_non_null(m);
    return m;
}

/* Loads the JSON of `sp` from memory and checks every piece of it in the model. */
static bp_model *load_spec_ok(const spec *sp)
{
    size_t len;
    char *json = spec_json(sp, &len, NULL);
    bp_model *m = load_memory_ok(json, len);
    free(json);
    assert_model_matches(m, sp);
    return m;
}

static bp_model *load_file_ok(const char *path)
{
    bp_model *m = NULL;
    bp_error err;
    bp_status st = bp_model_load(path, &m, &err);
    if (st != BP_OK)
        fail_msg("load of %s failed (%s): %s", path, bp_strerror(st), err.message);
    assert_non_null(m);
    return m;
}

/* The checks every failed load must pass: the expected status in both places, no model,
 * and a message that starts with the source's name and contains `needle`. */
static void assert_failure(bp_status st, const bp_model *m, const bp_error *err,
                           const char *name, bp_status code, const char *needle)
{
    if (st != code || !strstr(err->message, needle))
        fail_msg("expected %s with \"%s\"; got %s: %s", bp_strerror(code), needle,
                 bp_strerror(st), st == BP_OK ? "(no message)" : err->message);
    assert_null(m);
    assert_int_equal(err->code, code);
    assert_int_equal(strncmp(err->message, name, strlen(name)), 0);
    assert_int_equal(strncmp(err->message + strlen(name), ": ", 2), 0);
}

static bp_error expect_memory_failure(const void *data, size_t len, bp_status code,
                                      const char *needle)
{
    bp_model *m = (bp_model *)&m; /* must be reset to NULL */
    bp_error err = {0};
    bp_status st = bp_model_load_memory(data, len, NAME, &m, &err);
    assert_failure(st, m, &err, NAME, code, needle);
    return err;
}

static void expect_file_failure(const char *path, bp_status code, const char *needle)
{
    bp_model *m = (bp_model *)&m;
    bp_error err = {0};
    bp_status st = bp_model_load(path, &m, &err);
    assert_failure(st, m, &err, path, code, needle);
}

static unsigned char *zstd_compress(const void *data, size_t len, size_t *out_len)
{
    size_t cap = ZSTD_compressBound(len);
    unsigned char *out = malloc(cap);
    assert_non_null(out);
    *out_len = ZSTD_compress(out, cap, data, len, 3);
    assert_false(ZSTD_isError(*out_len));
    return out;
}

/* Compresses without writing the content size in the frame header, as a streaming
 * compressor (zstd reading a pipe) does: the reader must then grow its buffer. */
static unsigned char *zstd_compress_unsized(const void *data, size_t len, size_t *out_len)
{
    size_t cap = ZSTD_compressBound(len);
    unsigned char *out = malloc(cap);
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    assert_true(out && cctx);
    assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0)));
    ZSTD_inBuffer in = {data, len, 0};
    ZSTD_outBuffer o = {out, cap, 0};
    assert_int_equal(ZSTD_compressStream2(cctx, &o, &in, ZSTD_e_end), 0);
    ZSTD_freeCCtx(cctx);
    assert_true(ZSTD_getFrameContentSize(out, o.pos) == ZSTD_CONTENTSIZE_UNKNOWN);
    *out_len = o.pos;
    return out;
}

/*====== Temporary files ======*/

static char tmp_dir[] = "/tmp/bp_test_model_load_XXXXXX";

static int make_tmp_dir(void **state)
{
    (void)state;
    return mkdtemp(tmp_dir) ? 0 : -1;
}

/* Removes the directory and the files the tests wrote in it (tests leave them there, so
 * that a failed test cleans up like a passing one). */
static int remove_tmp_dir(void **state)
{
    (void)state;
    DIR *dir = opendir(tmp_dir);
    if (!dir)
        return -1;
    char path[sizeof tmp_dir + 256];
    for (struct dirent *d; (d = readdir(dir)) != NULL;) {
        if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0) {
            snprintf(path, sizeof path, "%s/%s", tmp_dir, d->d_name);
            unlink(path);
        }
    }
    closedir(dir);
    return rmdir(tmp_dir);
}

/* Path of `name` in the temporary directory (static buffer). */
static const char *tmp_path(const char *name)
{
    static char path[sizeof tmp_dir + 64];
    snprintf(path, sizeof path, "%s/%s", tmp_dir, name);
    return path;
}

static const char *write_tmp(const char *name, const void *data, size_t len)
{
    const char *path = tmp_path(name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

/*====== Valid models ======*/

static void test_valid_model(void **state)
{
    (void)state;
    spec sp;
    spec_init(&sp, false);
    bp_model *m = load_spec_ok(&sp);
    /* Byte b has count b + 1: its score is log(b + 1) - log(total), libm's log. */
    uint64_t total = 0;
    for (size_t i = 0; i < sp.n; i++)
        total += sp.e[i].count;
    assert_true(bp_model_piece_score(m, 'A' + 3) == log(66.0) - log((double)total));
    bp_model_free(m);
}

static void test_permuted_ids(void **state)
{
    (void)state;
    spec sp;
    spec_init(&sp, true);
    bp_model_free(load_spec_ok(&sp));
}

/* Forms of JSON a writer other than Python's may produce: escapes in keys ("\/" for '/',
 * \u escapes), a byte order mark, integral numbers written as floats, no whitespace. */
static void test_other_json_writers(void **state)
{
    (void)state;
    spec sp;
    spec_init(&sp, false);
    strcpy(sp.e[255].key, "\\/w==");    /* 0xFF */
    strcpy(sp.e['A'].key, "\\u0051Q=="); /* "QQ==" */
    snprintf(sp.e['B'].value, sizeof sp.e['B'].value, "[6.9e1, \"B\\u0000\\n\", 67.0]");
    size_t len;
    char *json = spec_json(&sp, &len, NULL);
    char *with_bom = malloc(len + 3);
    assert_non_null(with_bom);
    memcpy(with_bom, "\xEF\xBB\xBF", 3);
    memcpy(with_bom + 3, json, len);
    bp_model *m = load_memory_ok(with_bom, len + 3);
    assert_model_matches(m, &sp);
    bp_model_free(m);
    free(with_bom);
    free(json);
}

static void test_largest_count(void **state)
{
    (void)state;
    spec sp;
    spec_init(&sp, false);
    snprintf(sp.e[0].value, sizeof sp.e[0].value, "[3, \"\", 9007199254740992]");
    sp.e[0].count = UINT64_C(1) << 53;
    bp_model_free(load_spec_ok(&sp));
}

static void test_zstd_in_memory(void **state)
{
    (void)state;
    spec sp;
    spec_init(&sp, false);
    size_t len, zlen;
    char *json = spec_json(&sp, &len, NULL);
    unsigned char *z = zstd_compress(json, len, &zlen);
    bp_model *plain = load_memory_ok(json, len);
    bp_model *packed = load_memory_ok(z, zlen);
    bp_test_assert_same_model(plain, packed);
    assert_model_matches(packed, &sp);
    bp_model_free(packed);
    bp_model_free(plain);
    free(z);
    free(json);
}

/* Every frame of a stream is read: two frames, and a skippable frame first (pzstd). */
static void test_zstd_frames(void **state)
{
    (void)state;
    spec sp;
    spec_init(&sp, false);
    size_t len, z1, z2;
    char *json = spec_json(&sp, &len, NULL);
    unsigned char *a = zstd_compress(json, len / 2, &z1);
    unsigned char *b = zstd_compress(json + len / 2, len - len / 2, &z2);
    static const unsigned char skippable[12] = {0x50, 0x2A, 0x4D, 0x18, 4, 0, 0, 0, 1, 2, 3, 4};
    size_t total = sizeof skippable + z1 + z2;
    unsigned char *stream = malloc(total);
    assert_non_null(stream);
    memcpy(stream, skippable, sizeof skippable);
    memcpy(stream + sizeof skippable, a, z1);
    memcpy(stream + sizeof skippable + z1, b, z2);
    bp_model *m = load_memory_ok(stream, total);
    assert_model_matches(m, &sp);
    bp_model_free(m);
    free(stream);
    free(b);
    free(a);
    free(json);
}

static void test_model_files(void **state)
{
    (void)state;
    spec sp;
    spec_init(&sp, false);
    size_t len, zlen;
    char *json = spec_json(&sp, &len, NULL);
    unsigned char *z = zstd_compress(json, len, &zlen);
    bp_model *plain = load_file_ok(write_tmp("model.json", json, len));
    /* Recognised by content: the name says nothing. */
    bp_model *packed = load_file_ok(write_tmp("model.json.bin", z, zlen));
    assert_model_matches(plain, &sp);
    bp_test_assert_same_model(plain, packed);
    bp_model_free(packed);
    bp_model_free(plain);
    free(z);
    free(json);
}

/* Content far larger than the readers' first buffers: 1 MB of trailing whitespace, as a
 * plain file and as an unsized zstd frame (a ratio of several hundred). */
static void test_large_content(void **state)
{
    (void)state;
    spec sp;
    spec_init(&sp, false);
    size_t len, zlen;
    char *json = spec_json(&sp, &len, NULL);
    const size_t pad = 1 << 20;
    char *big = malloc(len + pad);
    assert_non_null(big);
    memcpy(big, json, len);
    memset(big + len, ' ', pad);
    unsigned char *z = zstd_compress_unsized(big, len + pad, &zlen);
    bp_model *from_file = load_file_ok(write_tmp("big.json", big, len + pad));
    bp_model *from_zstd_file = load_file_ok(write_tmp("big.json.zst", z, zlen));
    bp_model *from_zstd = load_memory_ok(z, zlen);
    assert_model_matches(from_file, &sp);
    bp_test_assert_same_model(from_file, from_zstd_file);
    bp_test_assert_same_model(from_file, from_zstd);
    bp_model_free(from_zstd);
    bp_model_free(from_zstd_file);
    bp_model_free(from_file);
    free(z);
    free(big);
    free(json);
}

/*====== Malformed text (one test per row) ======*/

typedef struct text_case {
    const char *name;
    const char *text;
    size_t len; /* 0: strlen(text) */
    bp_status code;
    const char *needle;
} text_case;

static const text_case TEXT_CASES[] = {
    {"empty", "", 0, BP_ERR_EMPTY, "empty"},
    {"whitespace_only", " \n\t\r\n ", 0, BP_ERR_TRUNCATED, "only whitespace"},
    /* No model format starts so: refused at the first bytes, named for what it is not. */
    {"not_a_model_word", "hello", 0, BP_ERR_NOT_JSON,
     "line 1, column 1: not a model: neither JSON (which starts with '{'), zstd nor a native "
     "model (the file starts with 'h')"},
    {"not_a_model_nul_bytes", "\0\0\0\0\0\0\0\0", 8, BP_ERR_NOT_JSON,
     "line 1, column 1: not a model: neither JSON (which starts with '{'), zstd nor a native "
     "model (the file starts with 0x00)"},
    {"not_a_model_after_bom_and_space", "\xEF\xBB\xBF\t\r\n  <x>", 0, BP_ERR_NOT_JSON,
     "line 2, column 3: not a model: neither JSON (which starts with '{'), zstd nor a native "
     "model (the file starts with '<')"},
    {"not_a_model_control_byte", "\x01{}", 0, BP_ERR_NOT_JSON, "(the file starts with 0x01)"},
    {"not_json_single_quotes", "{'QQ==': [68, 'A', 66]}", 0, BP_ERR_NOT_JSON,
     "column 2: not valid JSON: expected a string key"},
    {"not_json_trailing_comma", "{\n \"QQ==\": [68, \"A\", 66],\n}", 0, BP_ERR_NOT_JSON,
     "line 3, column 1: not valid JSON: expected a string key"},
    {"not_json_missing_colon", "{\"QQ==\" [68, \"A\", 66]}", 0, BP_ERR_NOT_JSON,
     "expected ':'"},
    {"not_json_data_after_value", "{}\n}", 0, BP_ERR_NOT_JSON,
     "line 2, column 1: not valid JSON: unexpected data after the JSON value"},
    {"not_json_nul_byte", "{\"QQ==\"\0: [68, \"A\", 66]}", 24, BP_ERR_NOT_JSON, "column 8"},
    {"not_json_control_char", "{\"Q\tQ==\": [68, \"A\", 66]}", 0, BP_ERR_NOT_JSON,
     "control character"},
    {"not_json_bad_escape", "{\"Q\\qQ==\": [68, \"A\", 66]}", 0, BP_ERR_NOT_JSON,
     "invalid escape"},
    {"not_json_bad_hex_escape", "[\"\\u00zz\"]", 0, BP_ERR_NOT_JSON, "invalid \\u escape"},
    {"not_json_lone_low_surrogate", "[\"\\udc00\"]", 0, BP_ERR_NOT_JSON, "surrogate"},
    {"not_json_lone_high_surrogate", "[\"\\ud800x\"]", 0, BP_ERR_NOT_JSON, "surrogate"},
    /* Regression (fuzz_text_input): the scanner took "\ud801udc00", a high surrogate
     * followed by "u" and hex digits without a backslash, as a pair; cJSON refuses it, and
     * the load reported running out of memory. */
    {"not_json_pair_without_backslash", "[\"\\ud801udc00\"]", 0, BP_ERR_NOT_JSON,
     "column 3: not valid JSON: unpaired UTF-16 surrogate"},
    {"not_json_leading_zero", "[01]", 0, BP_ERR_NOT_JSON, "expected ','"},
    {"not_json_bare_fraction", "[1.]", 0, BP_ERR_NOT_JSON, "expected a digit"},
    {"not_json_plus_sign", "[+1]", 0, BP_ERR_NOT_JSON, "expected a JSON value"},
    {"not_json_nan", "[NaN]", 0, BP_ERR_NOT_JSON, "expected a JSON value"},
    {"not_json_bad_literal", "[nul]", 0, BP_ERR_NOT_JSON, "invalid literal"},
    {"not_json_long_number",
     "[1000000000000000000000000000000000000000000000000000000000000000000000]", 0,
     BP_ERR_NOT_JSON, "number longer than 63 characters"},
    {"not_object_array", "[1, 2]", 0, BP_ERR_NOT_OBJECT, "an array, not an object"},
    {"not_object_string", "\"x\"", 0, BP_ERR_NOT_OBJECT, "a string, not an object"},
    {"not_object_number", "\n  42 ", 0, BP_ERR_NOT_OBJECT, "line 2, column 3: the JSON value is a number"},
    {"not_object_null", "null", 0, BP_ERR_NOT_OBJECT, "null, not an object"},
    {"not_object_true", "true", 0, BP_ERR_NOT_OBJECT, "a boolean"},
    {"truncated_object", "{\"QQ==\": [68, \"A\"", 0, BP_ERR_TRUNCATED, "truncated"},
    {"truncated_in_key", "{\n\"QQ", 0, BP_ERR_TRUNCATED, "line 2, column 4: the JSON text ends early"},
    {"truncated_in_literal", "[tru", 0, BP_ERR_TRUNCATED, "truncated"},
    {"truncated_in_escape", "[\"\\u00", 0, BP_ERR_TRUNCATED, "truncated"},
    {"truncated_in_surrogate_pair", "[\"\\ud800\\", 0, BP_ERR_TRUNCATED, "truncated"},
    {"truncated_in_number", "[1e", 0, BP_ERR_TRUNCATED, "truncated"},
    {"empty_object", "{}", 0, BP_ERR_MISSING_BYTE, "0x00"},
};

static void run_text_case(void **state)
{
    const text_case *c = *state;
    expect_memory_failure(c->text, c->len ? c->len : strlen(c->text), c->code, c->needle);
}

/*====== Defects in a valid model (one test per row) ======*/

#define APPEND ((int)N_PIECES) /* the "entry" that adds one more line */

typedef struct defect_case {
    const char *name;
    int entry;          /* the entry to change, or APPEND */
    const char *key;    /* its new key text, NULL to keep */
    const char *value;  /* its new value text, NULL to keep */
    bp_status code;
    const char *needle;
    bool at_key;        /* err.offset is the position of that entry's key */
} defect_case;

static const defect_case DEFECT_CASES[] = {
    {"bad_base64_char", 'A', "Q@==", NULL, BP_ERR_BAD_BASE64,
     "line 67, column 5: key \"Q@==\": not canonical base64: character outside", true},
    {"bad_base64_url_safe", 255, "_w==", NULL, BP_ERR_BAD_BASE64, "key \"_w==\"", true},
    {"bad_base64_space", 'A', "Q Q=", NULL, BP_ERR_BAD_BASE64, "character outside", true},
    {"bad_base64_no_padding", 'A', "QQ", NULL, BP_ERR_BAD_BASE64, "multiple of 4", true},
    {"bad_base64_padding_inside", 'A', "Q=Q=", NULL, BP_ERR_BAD_BASE64, "'=' before the end",
     true},
    {"bad_base64_three_pads", 'A', "Q===", NULL, BP_ERR_BAD_BASE64, "'=' before the end", true},
    {"bad_base64_extra_group", 'A', "QQ==QQ==", NULL, BP_ERR_BAD_BASE64, "'=' before the end",
     true},
    {"bad_base64_unused_bits_two_pads", 'A', "QR==", NULL, BP_ERR_BAD_BASE64,
     "non-zero unused bits", true},
    {"bad_base64_unused_bits_one_pad", 256, "YWJ=", NULL, BP_ERR_BAD_BASE64,
     "key \"YWJ=\": not canonical base64: non-zero unused bits", true},
    {"bad_base64_empty_key", 'A', "", NULL, BP_ERR_BAD_BASE64, "key \"\": not canonical base64: empty",
     true},
    {"bad_base64_escaped_nul", 'A', "QQ==\\u0000", NULL, BP_ERR_BAD_BASE64, "escaped NUL",
     true},
    {"bad_base64_non_ascii", 'A', "Q\xc3\xa9=", NULL, BP_ERR_BAD_BASE64, "key \"Q\\xC3\\xA9=\"",
     true},
    {"bad_entry_number", 'A', NULL, "68", BP_ERR_BAD_ENTRY,
     "key \"QQ==\": value is not an array of 3 elements", true},
    {"bad_entry_object", 'A', NULL, "{\"id\": 68, \"text\": \"A\", \"count\": 66}",
     BP_ERR_BAD_ENTRY, "not an array of 3", true},
    {"bad_entry_empty_array", 'A', NULL, "[]", BP_ERR_BAD_ENTRY, "not an array of 3", true},
    {"bad_entry_two_elements", 'A', NULL, "[68, 66]", BP_ERR_BAD_ENTRY, "not an array of 3",
     true},
    {"bad_entry_four_elements", 'A', NULL, "[68, \"A\", 66, 1]", BP_ERR_BAD_ENTRY,
     "not an array of 3", true},
    {"bad_entry_id_string", 'A', NULL, "[\"68\", \"A\", 66]", BP_ERR_BAD_ENTRY,
     "(a number, a string, a number)", true},
    {"bad_entry_id_null", 'A', NULL, "[null, \"A\", 66]", BP_ERR_BAD_ENTRY, "a number", true},
    {"bad_entry_text_number", 'A', NULL, "[68, 65, 66]", BP_ERR_BAD_ENTRY, "a string", true},
    {"bad_entry_count_string", 'A', NULL, "[68, \"A\", \"66\"]", BP_ERR_BAD_ENTRY,
     "(a number, a string, a number)", true},
    {"bad_entry_fractional_id", 'A', NULL, "[68.5, \"A\", 66]", BP_ERR_BAD_ENTRY,
     "id 68.5 is not an integer", true},
    {"bad_id_duplicate", 0, NULL, "[4, \"\", 1]", BP_ERR_BAD_ID, "id 4 is used twice", false},
    {"bad_id_special", 0, NULL, "[2, \"\", 1]", BP_ERR_BAD_ID, "id 2 is out of range", false},
    {"bad_id_past_end", 0, NULL, "[265, \"\", 1]", BP_ERR_BAD_ID, "id 265 is out of range",
     false},
    {"bad_id_negative", 'A', NULL, "[-1, \"A\", 66]", BP_ERR_BAD_ID,
     "key \"QQ==\": id -1 is out of range (3 .. 264)", true},
    {"bad_id_huge", 'A', NULL, "[1e12, \"A\", 66]", BP_ERR_BAD_ID, "id 1000000000000 is out",
     true},
    {"bad_id_2_32", 'A', NULL, "[4294967296, \"A\", 66]", BP_ERR_BAD_ID, "out of range", true},
    {"dup_piece", APPEND, "QQ==", "[265, \"A\", 5]", BP_ERR_DUP_PIECE, "repeats the piece",
     false},
    {"missing_byte", 'A', "eno=", NULL, BP_ERR_MISSING_BYTE, "0x41", false},
    {"bad_count_zero", 'A', NULL, "[68, \"A\", 0]", BP_ERR_BAD_COUNT,
     "key \"QQ==\": count 0 must be a positive integer (1 .. 2^53)", true},
    {"bad_count_negative", 'A', NULL, "[68, \"A\", -5]", BP_ERR_BAD_COUNT, "count -5", true},
    {"bad_count_fraction", 'A', NULL, "[68, \"A\", 2.5]", BP_ERR_BAD_COUNT, "count 2.5", true},
    {"bad_count_tiny", 'A', NULL, "[68, \"A\", 1e-300]", BP_ERR_BAD_COUNT,
     "must be a positive integer", true},
    {"bad_count_huge", 'A', NULL, "[68, \"A\", 1e300]", BP_ERR_BAD_COUNT, "(1 .. 2^53)",
     true},
    {"bad_count_overflow", 'A', NULL, "[68, \"A\", 1e999]", BP_ERR_BAD_COUNT, "count inf",
     true},
    {"bad_count_above_2_53", 'A', NULL, "[68, \"A\", 9007199254740994]", BP_ERR_BAD_COUNT,
     "count 9007199254740994", true},
    {"not_json_in_entry", 100, NULL, "[103 \"\", 101]", BP_ERR_NOT_JSON,
     "line 102, column 18: not valid JSON: expected ',' or ']'", false},
};

static void run_defect_case(void **state)
{
    const defect_case *c = *state;
    spec sp;
    spec_init(&sp, false);
    entry *e = &sp.e[c->entry];
    if (c->entry == APPEND)
        sp.n++;
    if (c->key)
        snprintf(e->key, sizeof e->key, "%s", c->key);
    if (c->value)
        snprintf(e->value, sizeof e->value, "%s", c->value);
    size_t len, key_offsets[N_PIECES + 1];
    char *json = spec_json(&sp, &len, key_offsets);
    bp_error err = expect_memory_failure(json, len, c->code, c->needle);
    if (c->at_key)
        assert_int_equal(err.offset, key_offsets[c->entry]);
    free(json);
}

/*====== Truncation and corruption ======*/

/* Every proper prefix of a model is truncated, wherever the cut falls. */
static void test_every_prefix_truncated(void **state)
{
    (void)state;
    spec sp;
    spec_init(&sp, false);
    size_t len;
    char *json = spec_json(&sp, &len, NULL);
    for (size_t cut = 1; cut < len; cut++)
        expect_memory_failure(json, cut, BP_ERR_TRUNCATED, "truncated");
    free(json);
}

static void test_truncated_file(void **state)
{
    (void)state;
    spec sp;
    spec_init(&sp, false);
    size_t len;
    char *json = spec_json(&sp, &len, NULL);
    const char *path = write_tmp("half.json", json, len / 2);
    expect_file_failure(path, BP_ERR_TRUNCATED, "ends early");
    free(json);
}

/* A zstd stream cut anywhere after its magic number ends inside a frame. */
static void test_truncated_zstd(void **state)
{
    (void)state;
    spec sp;
    spec_init(&sp, false);
    size_t len, zlen;
    char *json = spec_json(&sp, &len, NULL);
    unsigned char *z = zstd_compress(json, len, &zlen);
    for (size_t cut = 4; cut < zlen; cut++)
        expect_memory_failure(z, cut, BP_ERR_TRUNCATED, "zstd data ends inside a frame");
    const char *path = write_tmp("half.json.zst", z, zlen / 2);
    expect_file_failure(path, BP_ERR_TRUNCATED, "truncated");
    free(z);
    free(json);
}

static void test_corrupt_zstd(void **state)
{
    (void)state;
    spec sp;
    spec_init(&sp, false);
    size_t len, zlen;
    char *json = spec_json(&sp, &len, NULL);
    unsigned char *z = zstd_compress(json, len, &zlen);
    unsigned char *bad = malloc(zlen + 8);
    assert_non_null(bad);
    /* A reserved bit of the frame header descriptor. */
    memcpy(bad, z, zlen);
    bad[4] |= 0x08;
    expect_memory_failure(bad, zlen, BP_ERR_IO, "corrupt zstd data");
    /* Bytes after the last frame that do not start another. */
    memcpy(bad, z, zlen);
    memcpy(bad + zlen, "garbage!", 8);
    expect_memory_failure(bad, zlen + 8, BP_ERR_IO, "corrupt zstd data");
    free(bad);
    free(z);
    free(json);
}

/* Regression (fuzz_model_load): 30 bytes whose zstd frame header asks for a 2 GiB window
 * made the decoder allocate it before failing. A window above 128 MiB is now refused for a
 * file this small, with a clear error and no large allocation. */
static void test_zstd_window_too_large(void **state)
{
    (void)state;
    static const unsigned char frame[30] = {
        0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xa8, 0x10, 0x3d, 0x23, 0x40, 0x00, 0x44, 0x3d, 0x23, 0x40,
        0x00, 0x44, 0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x24, 0x10, 0x23, 0x00, 0x00, 0x00, 0x88, 0x2a};
    expect_memory_failure(frame, sizeof frame, BP_ERR_TOO_LARGE, "window larger than 128 MiB");
}

/*====== Files ======*/

static void test_empty_inputs(void **state)
{
    (void)state;
    const char *path = write_tmp("empty.json", "", 0);
    expect_file_failure(path, BP_ERR_EMPTY, "empty");
    size_t zlen;
    unsigned char *z = zstd_compress("", 0, &zlen);
    expect_memory_failure(z, zlen, BP_ERR_EMPTY, "empty");
    path = write_tmp("empty.json.zst", z, zlen);
    expect_file_failure(path, BP_ERR_EMPTY, "empty");
    free(z);
}

static void test_missing_file(void **state)
{
    (void)state;
    expect_file_failure(tmp_path("no-such-model.json"), BP_ERR_IO, strerror(ENOENT));
}

static void test_directory(void **state)
{
    (void)state;
    expect_file_failure(tmp_dir, BP_ERR_IO, strerror(EISDIR));
}

/* The first bytes decide: what starts no model is refused whatever follows, and the offset
 * is that of the byte that decided. */
static void test_not_a_model_offset(void **state)
{
    (void)state;
    bp_error err = expect_memory_failure("\n\n x{}", 6, BP_ERR_NOT_JSON, "line 3, column 2");
    assert_int_equal(err.offset, 3);
}

/* Decompressed content is checked the same way (it cannot be zstd again). */
static void test_not_a_model_compressed(void **state)
{
    (void)state;
    size_t zlen;
    unsigned char *z = zstd_compress("hello, world", 12, &zlen);
    expect_memory_failure(z, zlen, BP_ERR_NOT_JSON,
                          "line 1, column 1: not a model: neither JSON (which starts with "
                          "'{'), nor a native model (the file starts with 'h')");
    expect_file_failure(write_tmp("hello.zst", z, zlen), BP_ERR_NOT_JSON, "not a model");
    free(z);
}

/* A model file over BP_MODEL_MAX_SIZE is refused before it is read: here a sparse file
 * of one byte more, which would be a valid start. */
static void test_model_too_large(void **state)
{
    (void)state;
    const char *path = write_tmp("huge.json", "{", 1);
    assert_int_equal(truncate(path, (off_t)BP_MODEL_MAX_SIZE + 1), 0);
    expect_file_failure(path, BP_ERR_TOO_LARGE,
                        "more than 1024 MiB, the largest model accepted (BP_MODEL_MAX_SIZE)");
    assert_int_equal(unlink(path), 0);
}

/* A zstd stream that decompresses to one byte more than BP_MODEL_MAX_SIZE ('{' and
 * spaces, a few hundred kilobytes compressed) is refused when the output reaches the limit
 * (files are decompressed by the same code). */
static void test_decompressed_too_large(void **state)
{
    (void)state;
    enum { CHUNK = 1 << 20 };
    char *spaces = malloc(CHUNK);
    assert_non_null(spaces);
    memset(spaces, ' ', CHUNK);
    spaces[0] = '{';
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    assert_non_null(cctx);
    size_t cap = 1 << 22, zlen = 0;
    unsigned char *z = malloc(cap);
    assert_non_null(z);
    for (size_t done = 0; done <= BP_MODEL_MAX_SIZE; done += CHUNK) {
        size_t n = BP_MODEL_MAX_SIZE + 1 - done < CHUNK ? BP_MODEL_MAX_SIZE + 1 - done : CHUNK;
        bool last = done + n == BP_MODEL_MAX_SIZE + 1;
        ZSTD_inBuffer in = {spaces, n, 0};
        size_t left;
        do {
            ZSTD_outBuffer out = {z, cap, zlen};
            left = ZSTD_compressStream2(cctx, &out, &in, last ? ZSTD_e_end : ZSTD_e_continue);
            assert_false(ZSTD_isError(left));
            zlen = out.pos;
            assert_true(zlen < cap);
        } while (in.pos < in.size || (last && left != 0));
        spaces[0] = ' ';
    }
    ZSTD_freeCCtx(cctx);
    free(spaces);
    expect_memory_failure(z, zlen, BP_ERR_TOO_LARGE,
                          "more than 1024 MiB, the largest model accepted (BP_MODEL_MAX_SIZE)");
    free(z);
}

static void test_unreadable_file(void **state)
{
    (void)state;
    if (geteuid() == 0)
        skip(); /* root reads files whatever their mode */
    const char *path = write_tmp("secret.json", "{}", 2);
    assert_int_equal(chmod(path, 0), 0);
    expect_file_failure(path, BP_ERR_IO, strerror(EACCES));
}

static void test_messages_name_the_source(void **state)
{
    (void)state;
    bp_model *m;
    bp_error err;
    assert_int_equal(bp_model_load_memory("[]", 2, NULL, &m, &err), BP_ERR_NOT_OBJECT);
    assert_int_equal(strncmp(err.message, "<memory>: ", 10), 0);
    assert_int_equal(bp_model_load_memory("{}", 2, NULL, &m, &err), BP_ERR_MISSING_BYTE);
    assert_int_equal(strncmp(err.message, "<memory>: ", 10), 0);
}

static void test_invalid_arguments(void **state)
{
    (void)state;
    bp_model *m = NULL;
    bp_error err;
    assert_int_equal(bp_model_load(NULL, &m, &err), BP_ERR_INVALID_ARG);
    assert_int_equal(bp_model_load(tmp_path("x"), NULL, NULL), BP_ERR_INVALID_ARG);
    assert_int_equal(bp_model_load_memory(NULL, 5, "x", &m, &err), BP_ERR_INVALID_ARG);
    assert_null(m);
    assert_int_equal(bp_model_load_memory("{}", 2, "x", NULL, &err), BP_ERR_INVALID_ARG);
    /* NULL with size 0 is an empty input, and err may be NULL. */
    assert_int_equal(bp_model_load_memory(NULL, 0, "x", &m, NULL), BP_ERR_EMPTY);
}

/* cJSON's nesting limit is the scanner's: 1000 levels parse, 1001 do not. */
static void test_nesting_limit(void **state)
{
    (void)state;
    char text[2 * 1001 + 1];
    for (size_t depth = 1000; depth <= 1001; depth++) {
        memset(text, '[', depth);
        memset(text + depth, ']', depth);
        if (depth == 1000)
            expect_memory_failure(text, 2 * depth, BP_ERR_NOT_OBJECT, "an array");
        else
            expect_memory_failure(text, 2 * depth, BP_ERR_NOT_JSON, "nested too deeply");
    }
}

/*====== Reference models ======*/

/* Decodes hex text s[0..2n) into out. */
static void hex_decode(const char *s, size_t n, unsigned char *out)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
        out[i] = (unsigned char)v;
    }
}

/* Compares one row of <model>.scores.tsv (id, piece_hex, count, score_numpy_default,
 * score_libm) with the model, and marks the id as seen. */
static void check_score_row(const bp_model *m, char *row, unsigned char *seen)
{
    char *fields[5];
    char *save = NULL;
    for (int f = 0; f < 5; f++) {
        fields[f] = strtok_r(f ? NULL : row, "\t", &save);
        assert_non_null(fields[f]);
    }
    unsigned long id = strtoul(fields[0], NULL, 10);
    assert_true(id >= 3 && id < bp_model_vocab_size(m));
    assert_false(seen[id]);
    seen[id] = 1;
    size_t hex_len = strlen(fields[1]), len;
    unsigned char piece[256];
    assert_true(hex_len % 2 == 0 && hex_len / 2 <= sizeof piece);
    hex_decode(fields[1], hex_len / 2, piece);
    const unsigned char *p = bp_model_piece(m, (uint32_t)id, &len);
    assert_int_equal(len, hex_len / 2);
    assert_memory_equal(p, piece, len);
    assert_int_equal(bp_model_piece_id(m, piece, len), id);
    assert_int_equal(bp_model_piece_count(m, (uint32_t)id), strtoull(fields[2], NULL, 10));
    double want = strtod(fields[4], NULL);
    double got = bp_model_piece_score(m, (uint32_t)id);
    if (got != want)
        fail_msg("id %lu: score %a, golden score_libm %a", id, got, want);
}

static void check_reference_model(const char *model)
{
    char rel[256], model_path[4096];
    snprintf(rel, sizeof rel, "reference/models/%s.model.zst", model);
    const char *p = bp_test_shared_path(rel);
    if (!p)
        skip();
    snprintf(model_path, sizeof model_path, "%s", p);
    snprintf(rel, sizeof rel, "reference/golden/%s.scores.tsv.zst", model);
    p = bp_test_shared_path(rel);
    assert_non_null(p);
    size_t len;
    char *tsv = (char *)bp_test_read_file(p, &len);
    assert_non_null(tsv);

    bp_model *m = load_file_ok(model_path);
    size_t vocab = bp_model_vocab_size(m);
    unsigned char *seen = calloc(vocab, 1);
    assert_non_null(seen);
    char *save = NULL;
    char *line = strtok_r(tsv, "\n", &save);
    assert_true(line && line[0] == '#');              /* # total_count=... */
    line = strtok_r(NULL, "\n", &save);
    assert_true(line && strncmp(line, "id\t", 3) == 0); /* column names */
    size_t rows = 0;
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        check_score_row(m, line, seen);
        rows++;
    }
    assert_int_equal(rows, vocab - 3);
    free(seen);
    bp_model_free(m);
    free(tsv);
}

static void test_reference_plus_80k(void **state)
{
    (void)state;
    check_reference_model("bytepiece.plus.80k");
}

static void test_reference_zh_id_eu_80k(void **state)
{
    (void)state;
    check_reference_model("bytepiece.zh.id.eu.80k");
}

static void test_reference_80k(void **state)
{
    (void)state;
    check_reference_model("bytepiece_80k");
}

int main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_valid_model),
        cmocka_unit_test(test_permuted_ids),
        cmocka_unit_test(test_other_json_writers),
        cmocka_unit_test(test_largest_count),
        cmocka_unit_test(test_zstd_in_memory),
        cmocka_unit_test(test_zstd_frames),
        cmocka_unit_test(test_model_files),
        cmocka_unit_test(test_large_content),
        cmocka_unit_test(test_every_prefix_truncated),
        cmocka_unit_test(test_truncated_file),
        cmocka_unit_test(test_truncated_zstd),
        cmocka_unit_test(test_corrupt_zstd),
        cmocka_unit_test(test_zstd_window_too_large),
        cmocka_unit_test(test_empty_inputs),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_directory),
        cmocka_unit_test(test_unreadable_file),
        cmocka_unit_test(test_not_a_model_offset),
        cmocka_unit_test(test_not_a_model_compressed),
        cmocka_unit_test(test_model_too_large),
        cmocka_unit_test(test_decompressed_too_large),
        cmocka_unit_test(test_messages_name_the_source),
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_nesting_limit),
        cmocka_unit_test(test_reference_plus_80k),
        cmocka_unit_test(test_reference_zh_id_eu_80k),
        cmocka_unit_test(test_reference_80k),
    };
    /* One named test per row of the two tables. */
    struct CMUnitTest tests[ARRAY_LEN(fixed) + ARRAY_LEN(TEXT_CASES) + ARRAY_LEN(DEFECT_CASES)];
    size_t n = 0;
    for (size_t i = 0; i < ARRAY_LEN(fixed); i++)
        tests[n++] = fixed[i];
    for (size_t i = 0; i < ARRAY_LEN(TEXT_CASES); i++)
        tests[n++] = (struct CMUnitTest){TEXT_CASES[i].name, run_text_case, NULL, NULL,
                                         (void *)&TEXT_CASES[i]};
    for (size_t i = 0; i < ARRAY_LEN(DEFECT_CASES); i++)
        tests[n++] = (struct CMUnitTest){DEFECT_CASES[i].name, run_defect_case, NULL, NULL,
                                         (void *)&DEFECT_CASES[i]};
    return cmocka_run_group_tests_name("model_load", tests, make_tmp_dir, remove_tmp_dir);
}
