/*
 * test_export_hf.c -- bp_model_export_huggingface (model_hf.c) and the score printing
 * under it (json_double.c): the written JSON parses with cJSON for random small models
 * and holds every id in order, with the byte-level text of its piece and its exact score;
 * the scores are written in a form serde_json's default reader reads back exactly;
 * errors. Loading in Hugging Face itself is tests/cli_hf.sh.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "bp_internal.h"
#include "test_util.h"

static const char *in_scratch(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", bp_test_scratch, name);
    return path;
}

/*------ json_double.c ------*/

/* serde_json's default reading of a number: its digits (the point dropped) as a u64,
 * converted to a double, then multiplied or divided by the double nearest 10^|e|. */
static double read_like_serde(const char *s)
{
    uint64_t digits = 0;
    int scale = 0, fraction = 0;
    const char *p = s + (*s == '-');
    for (; *p && *p != 'e'; p++) {
        if (*p == '.') {
            fraction = 1;
        } else {
            assert_true(digits <= (UINT64_MAX - 9) / 10); /* no overflow in our numbers */
            digits = digits * 10 + (uint64_t)(*p - '0');
            scale -= fraction;
        }
    }
    if (*p == 'e')
        scale += atoi(p + 1);
    char power[16];
    snprintf(power, sizeof power, "1e%d", abs(scale));
    double ten = strtod(power, NULL), v = (double)digits;
    v = scale < 0 ? v / ten : v * ten;
    return *s == '-' ? -v : v;
}

static void test_json_double_known(void **state)
{
    (void)state;
    char out[BP_JSON_DOUBLE_SIZE];
    /* 15 digits read back everywhere */
    assert_int_equal(bp_json_double(-8.952346543226227, out), 18);
    assert_string_equal(out, "-8.952346543226227");
    assert_int_equal(bp_json_double(-1e6, out), 8);
    assert_string_equal(out, "-1000000");
    /* a score of bytepiece.plus.80k that needs 16 digits, which serde_json reads one unit
     * in the last place off (%.17g writes the same digits): a significand that is a double, over
     * 10^18 */
    double x = -9.376268087768473;
    assert_true(read_like_serde("-9.376268087768473") != x);
    bp_json_double(x, out);
    assert_string_equal(out, "-9376268087768473600e-18");
    assert_true(strtod(out, NULL) == x);
    assert_true(read_like_serde(out) == x);
}

static void test_json_double_random(void **state)
{
    (void)state;
    srand(15);
    size_t n = 0, long_form = 0, unreachable = 0;
    for (int i = 0; i < 200000; i++) {
        /* a score: log(count) - log(total), in [-44.4, 0) */
        double x = -ldexp((double)rand() * RAND_MAX + rand(), -2 * 31) * 44.4;
        if (x == 0)
            continue;
        n++;
        char out[BP_JSON_DOUBLE_SIZE], g17[BP_JSON_DOUBLE_SIZE];
        size_t len = bp_json_double(x, out);
        assert_int_equal(len, strlen(out));
        assert_true(strtod(out, NULL) == x);
        long_form += strchr(out, '.') == NULL;
        if (read_like_serde(out) != x) {
            /* no number reads back as x in serde_json: the one correct readers read */
            snprintf(g17, sizeof g17, "%.17g", x);
            assert_string_equal(out, g17);
            unreachable++;
        }
    }
    printf("%zu scores: %zu written as significand e-k, %zu unreachable in serde_json\n", n,
           long_form, unreachable);
    /* uniform in [-44.4, 0): about 10% need the second form, 0.2% have none (none of the
     * 319,000 scores of the four models of tests/cli_hf.sh) */
    assert_true(long_form > n / 20);
    assert_true(unreachable < n / 200);
}

/*------ The export ------*/

/* A model of the 256 bytes plus up to 40 random pieces of 2 to 6 bytes drawn from a few
 * bytes JSON or the byte-level alphabet treat apart: controls, the quote, the backslash,
 * space, 0x7f, 0xad, bytes of UTF-8 characters. */
static bp_model *random_model(unsigned seed)
{
    static const unsigned char alphabet[] = {0x00, '\n', '"', '\\', ' ', 'a', '<', '>',
                                             0x7f, 0xad, 0xe4, 0xb8, 0xad, 0xff};
    static unsigned char arena[40][6];
    bp_piece pieces[256 + 40];
    static unsigned char bytes[256];
    for (unsigned b = 0; b < 256; b++) {
        bytes[b] = (unsigned char)b;
        pieces[b] = (bp_piece){&bytes[b], 1, 1 + (b * seed) % 11};
    }
    srand(seed);
    size_t n = 256;
    for (int i = 0, tries = rand() % 41; i < tries; i++) {
        size_t len = 2 + (size_t)rand() % 5;
        for (size_t k = 0; k < len; k++)
            arena[i][k] = alphabet[(size_t)rand() % sizeof alphabet];
        bool dup = false;
        for (size_t j = 256; j < n && !dup; j++)
            dup = pieces[j].len == len && memcmp(pieces[j].bytes, arena[i], len) == 0;
        if (!dup)
            pieces[n++] = (bp_piece){arena[i], len, 1 + (uint64_t)rand() % 1000};
    }
    bp_model *m = NULL;
    bp_error err;
    if (bp_model_from_pieces(pieces, n, &m, &err) != BP_OK)
        fail_msg("random model %u: %s", seed, err.message);
    return m;
}

static cJSON *read_json(const char *path)
{
    size_t len;
    unsigned char *text = bp_test_read_file(path, &len);
    assert_non_null(text);
    cJSON *root = cJSON_ParseWithLength((const char *)text, len);
    free(text);
    if (!root)
        fail_msg("%s is not JSON", path);
    return root;
}

static const char *member_string(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

/* The vocabulary holds every id in order: ids 0-2 the special tokens, the 256 single
 * bytes 256 distinct characters (with the code points of Hugging Face's byte-level
 * alphabet where the test knows them), every longer piece the characters of its bytes,
 * each with the model's very score. */
static void check_vocab(const bp_model *m, const cJSON *vocab)
{
    static const char *const specials[3] = {"<pad>", "<bos>", "<eos>"};
    uint32_t n = (uint32_t)bp_model_vocab_size(m);
    assert_int_equal(cJSON_GetArraySize(vocab), n);
    const char *byte_text[256];
    for (uint32_t id = 0; id < n; id++) {
        const cJSON *entry = cJSON_GetArrayItem(vocab, (int)id);
        assert_int_equal(cJSON_GetArraySize(entry), 2);
        const cJSON *text = cJSON_GetArrayItem(entry, 0), *score = cJSON_GetArrayItem(entry, 1);
        assert_true(cJSON_IsString(text) && cJSON_IsNumber(score));
        if (id < 3) {
            assert_string_equal(text->valuestring, specials[id]);
            assert_true(score->valuedouble == -1e6);
            continue;
        }
        assert_true(score->valuedouble == bp_model_piece_score(m, id));
        size_t len;
        const unsigned char *piece = bp_model_piece(m, id, &len);
        if (len == 1) {
            byte_text[piece[0]] = text->valuestring;
            continue;
        }
        char want[64] = "";
        for (size_t k = 0; k < len; k++)
            strcat(want, byte_text[piece[k]]); /* single bytes have the lower ids */
        assert_string_equal(text->valuestring, want);
    }
    for (unsigned a = 0; a < 256; a++) {
        int32_t cp;
        size_t len = strlen(byte_text[a]);
        assert_int_equal(bp_utf8_decode((const unsigned char *)byte_text[a], len, &cp), len);
        for (unsigned b = 0; b < a; b++)
            assert_string_not_equal(byte_text[a], byte_text[b]);
    }
    assert_string_equal(byte_text['A'], "A");
    assert_string_equal(byte_text[0x00], "\xc4\x80");  /* U+0100 */
    assert_string_equal(byte_text['\n'], "\xc4\x8a"); /* U+010A */
    assert_string_equal(byte_text[' '], "\xc4\xa0");  /* U+0120 */
    assert_string_equal(byte_text[0xad], "\xc5\x83"); /* U+0143 */
    assert_string_equal(byte_text[0xff], "\xc3\xbf"); /* itself */
}

static void check_tokenizer(const bp_model *m, const cJSON *root)
{
    assert_string_equal(member_string(root, "version"), "1.0");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(root, "post_processor")));
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    assert_int_equal(cJSON_GetArraySize(added), 3);
    for (int id = 0; id < 3; id++) {
        const cJSON *t = cJSON_GetArrayItem(added, id);
        assert_int_equal(cJSON_GetObjectItemCaseSensitive(t, "id")->valueint, id);
        assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "special")));
        assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(t, "normalized")));
    }
    assert_string_equal(member_string(cJSON_GetObjectItemCaseSensitive(root, "normalizer"), "type"),
                        "NFC");
    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer");
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(pre, "pretokenizers");
    const cJSON *split = cJSON_GetArrayItem(steps, 0), *level = cJSON_GetArrayItem(steps, 1);
    assert_string_equal(member_string(cJSON_GetObjectItemCaseSensitive(split, "pattern"), "Regex"),
                        "\\n+");
    assert_string_equal(member_string(split, "behavior"), "MergedWithPrevious");
    assert_string_equal(member_string(level, "type"), "ByteLevel");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(level, "use_regex")));
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    assert_string_equal(member_string(model, "type"), "Unigram");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(model, "unk_id")));
    check_vocab(m, cJSON_GetObjectItemCaseSensitive(model, "vocab"));
}

static void test_export_random_models(void **state)
{
    (void)state;
    for (unsigned seed = 1; seed <= 30; seed++) {
        bp_model *m = random_model(seed);
        bp_error err;
        const char *path = in_scratch("tokenizer.json");
        if (bp_model_export_huggingface(m, path, &err) != BP_OK)
            fail_msg("seed %u: %s", seed, err.message);
        cJSON *root = read_json(path);
        check_tokenizer(m, root);
        cJSON_Delete(root);
        bp_model_free(m);
    }
}

static void test_export_errors(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(NULL, NULL, 0);
    bp_error err;
    assert_int_equal(bp_model_export_huggingface(NULL, in_scratch("x"), &err), BP_ERR_INVALID_ARG);
    assert_int_equal(bp_model_export_huggingface(m, NULL, &err), BP_ERR_INVALID_ARG);
    assert_int_equal(bp_model_export_huggingface(m, "", &err), BP_ERR_INVALID_ARG);
    assert_int_equal(bp_model_export_huggingface(m, in_scratch("no/such/x.json"), &err),
                     BP_ERR_WRITE);
    assert_non_null(strstr(err.message, "no/such/x.json"));
    bp_model_free(m);

    /* a piece whose byte-level text is a special token's: refused, nothing written */
    const char *eos[] = {"<eos>"};
    const uint64_t count[] = {50};
    m = bp_test_small_model(eos, count, 1);
    assert_int_equal(bp_model_export_huggingface(m, in_scratch("eos.json"), &err),
                     BP_ERR_DUP_PIECE);
    assert_int_equal(err.offset, 259);
    assert_non_null(strstr(err.message, "special id 2"));
    assert_int_equal(access(in_scratch("eos.json"), F_OK), -1);
    bp_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_double_known),
        cmocka_unit_test(test_json_double_random),
        cmocka_unit_test(test_export_random_models),
        cmocka_unit_test(test_export_errors),
    };
    return cmocka_run_group_tests(tests, bp_test_make_scratch, bp_test_remove_scratch);
}
