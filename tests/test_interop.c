/*
 * test_interop.c -- the API of the ecosystem issue: bp_model_export_sentencepiece
 * (model_spm.c: the protobuf bytes of a small model, the special cases, errors),
 * bp_model_from_counts (model_import.c: byte completion, wasted pieces, errors) and
 * bp_model_is_native. Agreement with SentencePiece itself is tests/cli_spm.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bytepiece.h"
#include "test_util.h"

static char scratch[64];

static int make_scratch(void **state)
{
    (void)state;
    strcpy(scratch, "/tmp/bp_test_interop.XXXXXX");
    return mkdtemp(scratch) ? 0 : -1;
}

static int remove_scratch(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *in_scratch(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", scratch, name);
    return path;
}

/*------ A protobuf reader, just enough to walk the export ------*/

typedef struct pb {
    const unsigned char *p, *end;
} pb;

static uint64_t pb_varint(pb *r)
{
    uint64_t v = 0;
    for (unsigned shift = 0; r->p < r->end; shift += 7) {
        unsigned char c = *r->p++;
        v |= (uint64_t)(c & 0x7F) << shift;
        if (!(c & 0x80))
            return v;
    }
    fail_msg("varint runs past the end");
    return 0;
}

/* One SentencePiece: its name, score and type (NORMAL when absent). */
typedef struct sp_piece {
    char name[64];
    float score;
    int type;
} sp_piece;

static sp_piece pb_piece(const unsigned char *p, size_t len)
{
    sp_piece sp = {.type = 1};
    pb r = {p, p + len};
    while (r.p < r.end) {
        uint64_t key = pb_varint(&r);
        if (key == (1 << 3 | 2)) {
            uint64_t n = pb_varint(&r);
            assert_true(n < sizeof sp.name && n <= (uint64_t)(r.end - r.p));
            memcpy(sp.name, r.p, n);
            sp.name[n] = '\0';
            r.p += n;
        } else if (key == (2 << 3 | 5)) {
            uint32_t bits = (uint32_t)r.p[0] | (uint32_t)r.p[1] << 8 | (uint32_t)r.p[2] << 16 |
                            (uint32_t)r.p[3] << 24;
            memcpy(&sp.score, &bits, 4);
            r.p += 4;
        } else if (key == (3 << 3 | 0)) {
            sp.type = (int)pb_varint(&r);
        } else {
            fail_msg("unexpected key %llu in a SentencePiece", (unsigned long long)key);
        }
    }
    return sp;
}

/* Walks a ModelProto: its pieces into `pieces` (up to cap), and the fields of the two
 * specs as (field, value) pairs of varints into spec_values[spec - 2][field]. */
static size_t pb_model(const unsigned char *data, size_t len, sp_piece *pieces, size_t cap,
                       int64_t spec_values[2][64], char *normalizer_name)
{
    pb r = {data, data + len};
    size_t n = 0;
    for (int s = 0; s < 2; s++)
        for (int f = 0; f < 64; f++)
            spec_values[s][f] = -1;
    while (r.p < r.end) {
        uint64_t key = pb_varint(&r);
        assert_int_equal(key & 7, 2);
        uint64_t field = key >> 3, sub_len = pb_varint(&r);
        assert_true(sub_len <= (uint64_t)(r.end - r.p));
        if (field == 1) {
            if (n < cap)
                pieces[n] = pb_piece(r.p, sub_len);
            n++;
        } else {
            assert_true(field == 2 || field == 3);
            pb s = {r.p, r.p + sub_len};
            while (s.p < s.end) {
                uint64_t k = pb_varint(&s);
                if ((k & 7) == 0) {
                    assert_true((k >> 3) < 64);
                    spec_values[field - 2][k >> 3] = (int64_t)pb_varint(&s);
                } else {
                    assert_int_equal(k, 1 << 3 | 2); /* NormalizerSpec.name */
                    uint64_t m = pb_varint(&s);
                    memcpy(normalizer_name, s.p, m);
                    normalizer_name[m] = '\0';
                    s.p += m;
                }
            }
        }
        r.p += sub_len;
    }
    return n;
}

/*------ Export ------*/

static void test_export_small_model(void **state)
{
    (void)state;
    /* The bytes, then "a b" (a space inside), "\xe4\xb8" (not UTF-8), "a\xe2\x96\x81b"
     * ("a b" once ' ' is written U+2581) and a Chinese character. */
    static const char a_mark_b[] = {'a', '\xe2', '\x96', '\x81', 'b', '\0'};
    const char *extra[] = {"a b", "\xe4\xb8", a_mark_b, "\xe4\xb8\xad"};
    const uint64_t counts[] = {10, 20, 30, 40};
    bp_model *m = bp_test_small_model(extra, counts, 4);
    bp_error err;
    const char *path = in_scratch("small.spm");
    assert_int_equal(bp_model_export_sentencepiece(m, path, &err), BP_OK);
    size_t len;
    unsigned char *data = bp_test_read_file(path, &len);
    assert_non_null(data);
    static sp_piece pieces[400];
    int64_t spec[2][64];
    char name[32] = "";
    size_t n = pb_model(data, len, pieces, 400, spec, name);
    size_t vocab = bp_model_vocab_size(m);
    assert_int_equal(vocab, 3 + 256 + 4);
    assert_int_equal(n, vocab + 94); /* 95 printable bytes, less the backslash */

    assert_string_equal(pieces[0].name, "<unk>");
    assert_int_equal(pieces[0].type, 2);
    assert_string_equal(pieces[1].name, "<s>");
    assert_int_equal(pieces[1].type, 3);
    assert_string_equal(pieces[2].name, "</s>");
    assert_int_equal(pieces[2].type, 3);
    for (unsigned b = 0; b < 256; b++) {
        const sp_piece *sp = &pieces[b + 3];
        assert_true(sp->score == (float)bp_model_piece_score(m, b + 3));
        char want[16];
        if (b >= 0x20 && b <= 0x7E && b != '\\') {
            snprintf(want, sizeof want, "%c", b);
            assert_string_equal(sp->name, b == ' ' ? "\xe2\x96\x81" : want);
            assert_int_equal(sp->type, 1);
        } else {
            snprintf(want, sizeof want, "<0x%02X>", b);
            assert_string_equal(sp->name, want);
            assert_int_equal(sp->type, 6);
        }
    }
    assert_string_equal(pieces[259].name, a_mark_b);
    assert_int_equal(pieces[259].type, 1);
    assert_true(pieces[259].score == (float)bp_model_piece_score(m, 259));
    assert_string_equal(pieces[260].name, "<unused:260>"); /* not UTF-8 */
    assert_int_equal(pieces[260].type, 5);
    assert_string_equal(pieces[261].name, "<unused:261>"); /* a repeat of id 259's text */
    assert_int_equal(pieces[261].type, 5);
    assert_string_equal(pieces[262].name, "\xe4\xb8\xad");
    assert_int_equal(pieces[262].type, 1);
    /* The byte pieces of the printable bytes follow, in byte order, scoring -100. */
    size_t k = vocab;
    for (unsigned b = 0x20; b <= 0x7E; b++) {
        if (b == '\\')
            continue;
        char want[16];
        snprintf(want, sizeof want, "<0x%02X>", b);
        assert_string_equal(pieces[k].name, want);
        assert_int_equal(pieces[k].type, 6);
        assert_true(pieces[k].score == -100.0f);
        k++;
    }
    /* TrainerSpec: UNIGRAM, vocab_size, split_by_unicode_script false, byte_fallback. */
    assert_int_equal(spec[0][3], 1);
    assert_int_equal(spec[0][4], (int64_t)n);
    assert_int_equal(spec[0][21], 0);
    assert_int_equal(spec[0][35], 1);
    /* NormalizerSpec: identity, no dummy prefix, keep whitespace, escape it. */
    assert_string_equal(name, "identity");
    assert_int_equal(spec[1][3], 0);
    assert_int_equal(spec[1][4], 0);
    assert_int_equal(spec[1][5], 1);
    free(data);
    bp_model_free(m);
}

static void test_export_errors(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(NULL, NULL, 0);
    bp_error err;
    assert_int_equal(bp_model_export_sentencepiece(NULL, in_scratch("x"), &err),
                     BP_ERR_INVALID_ARG);
    assert_int_equal(bp_model_export_sentencepiece(m, NULL, &err), BP_ERR_INVALID_ARG);
    assert_int_equal(bp_model_export_sentencepiece(m, "", NULL), BP_ERR_INVALID_ARG);
    const char *bad = in_scratch("no/such/dir/x.spm");
    assert_int_equal(bp_model_export_sentencepiece(m, bad, &err), BP_ERR_WRITE);
    assert_non_null(strstr(err.message, bad));
    /* Replacing a file leaves no temporary file behind. */
    const char *path = in_scratch("again.spm");
    assert_int_equal(bp_model_export_sentencepiece(m, path, &err), BP_OK);
    assert_int_equal(bp_model_export_sentencepiece(m, path, &err), BP_OK);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "test $(ls '%s' | grep -c tmp) -eq 0", scratch);
    assert_int_equal(system(cmd), 0);
    bp_model_free(m);
}

/*------ Models from counts ------*/

static bp_piece piece(const char *s, uint64_t count)
{
    return (bp_piece){(const unsigned char *)s, strlen(s), count};
}

static void test_from_counts(void **state)
{
    (void)state;
    /* "xy" is wasted (x + y scores higher) and gives its count to x and y; "hello" stays;
     * the 254 other bytes come with count 1. */
    bp_piece table[] = {piece("xy", 1), piece("x", 1000), piece("y", 1000), piece("hello", 50)};
    bp_model *m = NULL;
    bp_error err;
    assert_int_equal(bp_model_from_counts(table, 4, 1, &m, &err), BP_OK);
    assert_int_equal(bp_model_vocab_size(m), 3 + 256 + 1);
    assert_int_equal(bp_model_piece_count(m, 'x' + 3), 1001);
    assert_int_equal(bp_model_piece_count(m, 'y' + 3), 1001);
    assert_int_equal(bp_model_piece_count(m, 'a' + 3), 1);
    assert_int_equal(bp_model_piece_id(m, "xy", 2), BP_ID_NONE);
    assert_int_equal(bp_model_piece_id(m, "hello", 5), 259);
    assert_int_equal(bp_model_piece_count(m, 259), 50);
    assert_int_equal(bp_model_is_native(m), 0);
    /* The same with more threads. */
    bp_model *m2 = NULL;
    assert_int_equal(bp_model_from_counts(table, 4, 4, &m2, &err), BP_OK);
    assert_int_equal(bp_model_vocab_size(m2), bp_model_vocab_size(m));
    for (uint32_t id = 3; id < bp_model_vocab_size(m); id++)
        assert_int_equal(bp_model_piece_count(m2, id), bp_model_piece_count(m, id));
    bp_model_free(m2);
    bp_model_free(m);

    /* An empty table: the 256 bytes. */
    assert_int_equal(bp_model_from_counts(NULL, 0, 0, &m, &err), BP_OK);
    assert_int_equal(bp_model_vocab_size(m), 259);
    bp_model_free(m);
}

static void test_from_counts_errors(void **state)
{
    (void)state;
    bp_model *m = (bp_model *)1;
    bp_error err;
    assert_int_equal(bp_model_from_counts(NULL, 3, 0, &m, &err), BP_ERR_INVALID_ARG);
    assert_null(m);
    bp_piece table[] = {piece("ab", 3), piece("", 2), piece("ab", 4)};
    assert_int_equal(bp_model_from_counts(table, 1, 0, NULL, &err), BP_ERR_INVALID_ARG);
    assert_int_equal(bp_model_from_counts(table, 2, 0, &m, &err), BP_ERR_BAD_ENTRY);
    assert_int_equal(err.offset, 1);
    assert_null(m);
    table[1] = piece("cd", 0);
    assert_int_equal(bp_model_from_counts(table, 2, 0, &m, &err), BP_ERR_BAD_COUNT);
    assert_int_equal(err.offset, 1);
    table[1] = piece("cd", 1);
    assert_int_equal(bp_model_from_counts(table, 3, 0, &m, &err), BP_ERR_DUP_PIECE);
    assert_int_equal(err.offset, 2);
    assert_null(m);
}

/*------ bp_model_is_native ------*/

static void test_is_native(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(NULL, NULL, 0);
    assert_int_equal(bp_model_is_native(m), 0);
    assert_int_equal(bp_model_is_native(NULL), 0);
    bp_error err;
    char json[512], native[512]; /* in_scratch() reuses one buffer */
    snprintf(json, sizeof json, "%s", in_scratch("m.json"));
    snprintf(native, sizeof native, "%s", in_scratch("m.bpm"));
    assert_int_equal(bp_model_save(m, json, &err), BP_OK);
    assert_int_equal(bp_model_save_native(m, native, &err), BP_OK);
    bp_model *from_json = NULL, *from_native = NULL;
    assert_int_equal(bp_model_load(json, &from_json, &err), BP_OK);
    assert_int_equal(bp_model_load(native, &from_native, &err), BP_OK);
    assert_int_equal(bp_model_is_native(from_json), 0);
    assert_int_equal(bp_model_is_native(from_native), 1);
    bp_model_free(from_json);
    bp_model_free(from_native);
    bp_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_export_small_model),
        cmocka_unit_test(test_export_errors),
        cmocka_unit_test(test_from_counts),
        cmocka_unit_test(test_from_counts_errors),
        cmocka_unit_test(test_is_native),
    };
    return cmocka_run_group_tests(tests, make_scratch, remove_scratch);
}
