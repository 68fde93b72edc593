/*
 * test_model_write.c -- bp_model_save (model_write.c): the reference models saved again
 * are byte-identical to their files; a hand-made model shows each escape and each
 * errors='ignore' case (expected bytes taken from Python's json.dump(indent=4,
 * ensure_ascii=False) once and written down here); failures leave no file behind.
 */
#include <dirent.h>
#include <errno.h>
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

#include "bytepiece.h"
#include "test_util.h"

/*------ A scratch directory per test ------*/

static const char *in_scratch(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", bp_test_scratch, name);
    return path;
}

/* Number of entries of a directory, "." and ".." not counted. */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void write_file(const char *path, const char *content)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(content, f);
    assert_int_equal(fclose(f), 0);
}

/*------ Reference models: exact bytes ------*/

/* Loads `path`, saves the model, and compares the saved bytes with the file's (decompressed)
 * content. */
static void assert_saves_identically(const char *path)
{
    size_t want_len;
    unsigned char *want = bp_test_read_file(path, &want_len);
    assert_non_null(want);
    bp_model *m = NULL;
    bp_error err;
    assert_int_equal(bp_model_load(path, &m, &err), BP_OK);
    const char *out = in_scratch("saved.model");
    assert_int_equal(bp_model_save(m, out, &err), BP_OK);
    size_t got_len;
    unsigned char *got = bp_test_read_file(out, &got_len);
    assert_non_null(got);
    assert_int_equal(got_len, want_len);
    assert_memory_equal(got, want, want_len);
    free(got);
    free(want);
    bp_model_free(m);
    assert_int_equal(count_entries(bp_test_scratch), 1); /* no temporary file left */
}

static void test_reference_models_are_reproduced(void **state)
{
    (void)state;
    static const char *const files[] = {
        "reference/train/smoke_1MB.v4000.mc8.model",
        "reference/models/bytepiece.plus.80k.model.zst",
        "reference/models/bytepiece.zh.id.eu.80k.model.zst",
        "reference/models/bytepiece_80k.model.zst",
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        const char *path = bp_test_shared_path(files[i]);
        if (!path)
            skip();
        char copy[4096];
        snprintf(copy, sizeof copy, "%s", path); /* the helper's buffer is static */
        assert_saves_identically(copy);
    }
}

/*------ A hand-made model: every escape, every errors='ignore' case ------*/

static void test_escapes_and_ignored_bytes(void **state)
{
    (void)state;
    static const char *const extra[] = {
        "\"\\",                      /* short escapes of the quote and the backslash */
        "a\nb\r\t\b\f",              /* the other short escapes */
        "\x01\x1f\x7f",              /* \u00xx in lowercase hex; DEL is written raw */
        "\xe2\x80\xa8",              /* U+2028: raw, as with ensure_ascii=False */
        "\344\270a",                /* a sequence cut short, then a letter */
        "\xf0\x9f\x98",              /* a sequence cut short by the end */
        "\xed\xa0\x80",              /* a surrogate */
        "\xc0\xaf",                  /* an overlong form */
        "\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80", /* well-formed: raw */
        "\xe0\x80\x80z",             /* E0 needs A0..BF next */
    };
    static const uint64_t counts[] = {5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
    /* Python: json.dumps({b64(p): [id, p.decode('utf-8', 'ignore'), count]}, indent=4,
     * ensure_ascii=False) for the 256 bytes (count 1 + b % 7) and the pieces above. */
    static const char *const entries[] = {
        "{\n    \"AA==\": [\n        3,\n        \"\\u0000\",\n        1\n    ],\n",
        "\n    \"Ig==\": [\n        37,\n        \"\\\"\",\n        7\n    ],\n",
        "\n    \"XA==\": [\n        95,\n        \"\\\\\",\n        2\n    ],\n",
        "\n    \"gA==\": [\n        131,\n        \"\",\n        3\n    ],\n",
        "\n    \"fw==\": [\n        130,\n        \"\x7F\",\n        2\n    ],\n",
        "\n    \"Lw==\": [\n        50,\n        \"/\",\n        6\n    ],\n",
        "\n    \"Ilw=\": [\n        259,\n        \"\\\"\\\\\",\n        5\n    ],\n",
        "\n    \"YQpiDQkIDA==\": [\n        260,\n        \"a\\nb\\r\\t\\b\\f\",\n        6\n    ],\n",
        "\n    \"AR9/\": [\n        261,\n        \"\\u0001\\u001f\x7F\",\n        7\n    ],\n",
        "\n    \"4oCo\": [\n        262,\n        \"\xE2\x80\xA8\",\n        8\n    ],\n",
        "\n    \"5Lhh\": [\n        263,\n        \"a\",\n        9\n    ],\n",
        "\n    \"8J+Y\": [\n        264,\n        \"\",\n        10\n    ],\n",
        "\n    \"7aCA\": [\n        265,\n        \"\",\n        11\n    ],\n",
        "\n    \"wK8=\": [\n        266,\n        \"\",\n        12\n    ],\n",
        ("\n    \"w6nkuK3wn5iA\": [\n        267,\n        \"\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80\",\n"
         "        13\n    ],\n"),
        "\n    \"4ICAeg==\": [\n        268,\n        \"z\",\n        14\n    ]\n}",
    };
    bp_model *m = bp_test_small_model(extra, counts, sizeof counts / sizeof counts[0]);
    bp_error err;
    const char *path = in_scratch("hand.model");
    assert_int_equal(bp_model_save(m, path, &err), BP_OK);
    size_t len;
    unsigned char *got = bp_test_read_file(path, &len);
    assert_non_null(got);
    assert_int_equal(len, 15132); /* the length of Python's output */
    assert_memory_equal(got, entries[0], strlen(entries[0]));
    const char *last = entries[sizeof entries / sizeof entries[0] - 1];
    assert_memory_equal(got + len - strlen(last), last, strlen(last)); /* no final newline */
    for (size_t i = 1; i + 1 < sizeof entries / sizeof entries[0]; i++)
        if (!strstr((const char *)got, entries[i]))
            fail_msg("entry %zu is missing: %s", i, entries[i]);
    free(got);

    /* And it loads back with the same pieces and counts. */
    bp_model *back = NULL;
    assert_int_equal(bp_model_load(path, &back, &err), BP_OK);
    assert_int_equal(bp_model_vocab_size(back), bp_model_vocab_size(m));
    for (uint32_t id = 3; id < bp_model_vocab_size(m); id++) {
        size_t la, lb;
        const unsigned char *a = bp_model_piece(m, id, &la), *b = bp_model_piece(back, id, &lb);
        assert_int_equal(la, lb);
        assert_memory_equal(a, b, la);
        assert_int_equal(bp_model_piece_count(m, id), bp_model_piece_count(back, id));
    }
    bp_model_free(back);
    bp_model_free(m);
}

/*------ Atomic replacement and failures ------*/

static void test_replaces_an_existing_file(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(NULL, NULL, 0);
    const char *path = in_scratch("model.json");
    write_file(path, "old content that is not a model");
    bp_error err;
    assert_int_equal(bp_model_save(m, path, &err), BP_OK);
    bp_model *back = NULL;
    assert_int_equal(bp_model_load(path, &back, &err), BP_OK);
    assert_int_equal(bp_model_vocab_size(back), 259);
    assert_int_equal(count_entries(bp_test_scratch), 1);
    bp_model_free(back);
    bp_model_free(m);
}

static void test_file_mode_follows_umask(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(NULL, NULL, 0);
    mode_t old = umask(027);
    bp_error err;
    const char *path = in_scratch("mode.model");
    bp_status st = bp_model_save(m, path, &err);
    umask(old);
    assert_int_equal(st, BP_OK);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0640);
    bp_model_free(m);
}

static void test_missing_directory(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(NULL, NULL, 0);
    bp_error err;
    char path[600];
    snprintf(path, sizeof path, "%s/no/such/dir/x.model", bp_test_scratch);
    assert_int_equal(bp_model_save(m, path, &err), BP_ERR_WRITE);
    assert_int_equal(err.code, BP_ERR_WRITE);
    assert_non_null(strstr(err.message, "cannot create"));
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.message, "No such file or directory"));
    assert_int_equal(count_entries(bp_test_scratch), 0); /* nothing created, no directory either */
    bp_model_free(m);
}

/* The destination is a directory: the temporary file is written, the rename fails, and
 * the temporary file is removed again. */
static void test_failed_rename_leaves_nothing(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(NULL, NULL, 0);
    const char *path = in_scratch("a_directory");
    assert_int_equal(mkdir(path, 0755), 0);
    bp_error err;
    assert_int_equal(bp_model_save(m, path, &err), BP_ERR_WRITE);
    assert_non_null(strstr(err.message, path));
    assert_int_equal(count_entries(bp_test_scratch), 1); /* just the directory */
    bp_model_free(m);
}

static void test_read_only_directory(void **state)
{
    (void)state;
    if (geteuid() == 0) {
        fprintf(stderr, "SKIP: running as root, which may write anywhere\n");
        skip();
    }
    bp_model *m = bp_test_small_model(NULL, NULL, 0);
    const char *dir = in_scratch("ro");
    assert_int_equal(mkdir(dir, 0555), 0);
    char path[600];
    snprintf(path, sizeof path, "%s/x.model", dir);
    bp_error err;
    assert_int_equal(bp_model_save(m, path, &err), BP_ERR_WRITE);
    assert_non_null(strstr(err.message, "Permission denied"));
    assert_int_equal(count_entries(dir), 0);
    bp_model_free(m);
}

static void test_invalid_arguments(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(NULL, NULL, 0);
    bp_error err;
    assert_int_equal(bp_model_save(NULL, in_scratch("x"), &err), BP_ERR_INVALID_ARG);
    assert_int_equal(bp_model_save(m, NULL, &err), BP_ERR_INVALID_ARG);
    assert_int_equal(bp_model_save(m, "", NULL), BP_ERR_INVALID_ARG);
    assert_int_equal(count_entries(bp_test_scratch), 0);
    bp_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reference_models_are_reproduced, bp_test_make_scratch,
                                        bp_test_remove_scratch),
        cmocka_unit_test_setup_teardown(test_escapes_and_ignored_bytes, bp_test_make_scratch,
                                        bp_test_remove_scratch),
        cmocka_unit_test_setup_teardown(test_replaces_an_existing_file, bp_test_make_scratch,
                                        bp_test_remove_scratch),
        cmocka_unit_test_setup_teardown(test_file_mode_follows_umask, bp_test_make_scratch,
                                        bp_test_remove_scratch),
        cmocka_unit_test_setup_teardown(test_missing_directory, bp_test_make_scratch, bp_test_remove_scratch),
        cmocka_unit_test_setup_teardown(test_failed_rename_leaves_nothing, bp_test_make_scratch,
                                        bp_test_remove_scratch),
        cmocka_unit_test_setup_teardown(test_read_only_directory, bp_test_make_scratch, bp_test_remove_scratch),
        cmocka_unit_test_setup_teardown(test_invalid_arguments, bp_test_make_scratch, bp_test_remove_scratch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
