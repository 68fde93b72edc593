/*
 * test_model_write.c -- bp_model_save (model_write.c): the reference models saved again
 * are byte-identical to their files; a hand-made model shows each escape and each
 * errors='ignore' case (expected bytes taken from Python's json.dump(indent=4,
 * ensure_ascii=False) once and written down here); failures leave no file behind; what
 * is not a regular file (a link, a FIFO, a device, a directory) is never replaced
 * (file_write.c).
 */
#define _XOPEN_SOURCE 700 /* mknod */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/sysmacros.h> /* makedev */
#endif

#include <cmocka.h>

#include "bp_internal.h"
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

/* The destination is a directory: refused before anything is written. */
static void test_directory_is_refused(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(NULL, NULL, 0);
    const char *path = in_scratch("a_directory");
    assert_int_equal(mkdir(path, 0755), 0);
    bp_error err;
    assert_int_equal(bp_model_save(m, path, &err), BP_ERR_WRITE);
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.message, "Is a directory"));
    assert_int_equal(count_entries(bp_test_scratch), 1); /* just the directory */
    bp_model_free(m);
}

/*------ Links, FIFOs and devices: written through or into, never replaced ------*/

/* The model saved at `path` loads back with the small model's 259 ids. */
static void assert_holds_small_model(const char *path)
{
    bp_model *back = NULL;
    bp_error err;
    assert_int_equal(bp_model_load(path, &back, &err), BP_OK);
    assert_int_equal(bp_model_vocab_size(back), 259);
    bp_model_free(back);
}

static void assert_link_to(const char *link, const char *want)
{
    char got[600];
    ssize_t n = readlink(link, got, sizeof got - 1);
    assert_true(n > 0);
    got[n] = '\0';
    assert_string_equal(got, want);
}

static void test_writes_through_a_symlink(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(NULL, NULL, 0);
    char target[600];
    snprintf(target, sizeof target, "%s", in_scratch("target.json"));
    write_file(target, "old content");
    const char *link = in_scratch("link.json");
    assert_int_equal(symlink("target.json", link), 0);
    bp_error err;
    assert_int_equal(bp_model_save(m, link, &err), BP_OK);
    assert_link_to(link, "target.json");
    assert_holds_small_model(target);
    assert_int_equal(count_entries(bp_test_scratch), 2); /* no temporary file left */
    bp_model_free(m);
}

/* A chain of relative links, the last one dangling: each resolves against its own
 * directory, and the file at the end is created. */
static void test_creates_the_target_of_a_dangling_link(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(NULL, NULL, 0);
    char sub[600], inner[600], created[600];
    snprintf(sub, sizeof sub, "%s", in_scratch("sub"));
    snprintf(inner, sizeof inner, "%s", in_scratch("sub/inner"));
    snprintf(created, sizeof created, "%s", in_scratch("created.json"));
    assert_int_equal(mkdir(sub, 0755), 0);
    assert_int_equal(symlink("../created.json", inner), 0);
    const char *outer = in_scratch("outer");
    assert_int_equal(symlink("sub/inner", outer), 0);
    bp_error err;
    assert_int_equal(bp_model_save(m, outer, &err), BP_OK);
    assert_link_to(outer, "sub/inner");
    assert_link_to(inner, "../created.json");
    assert_holds_small_model(created);
    assert_int_equal(count_entries(sub), 1);
    assert_int_equal(count_entries(bp_test_scratch), 3);
    assert_int_equal(unlink(inner), 0); /* the teardown removes files, not directories */
    assert_int_equal(rmdir(sub), 0);
    bp_model_free(m);
}

static void test_link_loop(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(NULL, NULL, 0);
    char a[600];
    snprintf(a, sizeof a, "%s", in_scratch("a"));
    assert_int_equal(symlink("b", a), 0);
    assert_int_equal(symlink("a", in_scratch("b")), 0);
    bp_error err;
    assert_int_equal(bp_model_save(m, a, &err), BP_ERR_WRITE);
    assert_non_null(strstr(err.message, a));
    assert_non_null(strstr(err.message, strerror(ELOOP)));
    assert_int_equal(count_entries(bp_test_scratch), 2);
    bp_model_free(m);
}

/* The model's JSON (about 5 KB) fits in the pipe's buffer, so the save completes with the
 * reader opened beforehand and the bytes are read afterwards; they are what a save to a
 * regular file holds. */
static void test_writes_into_a_fifo(void **state)
{
    (void)state;
    bp_model *m = bp_test_small_model(NULL, NULL, 0);
    char fifo[600];
    snprintf(fifo, sizeof fifo, "%s", in_scratch("fifo"));
    assert_int_equal(mkfifo(fifo, 0600), 0);
    int reader = open(fifo, O_RDONLY | O_NONBLOCK);
    assert_true(reader >= 0);
    bp_error err;
    assert_int_equal(bp_model_save(m, fifo, &err), BP_OK);
    const char *file = in_scratch("file.json");
    assert_int_equal(bp_model_save(m, file, &err), BP_OK);
    size_t want_len;
    unsigned char *want = bp_test_read_file(file, &want_len);
    assert_non_null(want);
    char *got = malloc(want_len + 1);
    assert_non_null(got);
    ssize_t n = read(reader, got, want_len + 1);
    assert_int_equal(n, (ssize_t)want_len);
    assert_memory_equal(got, want, want_len);
    close(reader);
    struct stat sb;
    assert_int_equal(lstat(fifo, &sb), 0);
    assert_true(S_ISFIFO(sb.st_mode));
    assert_int_equal(count_entries(bp_test_scratch), 2);
    free(got);
    free(want);
    bp_model_free(m);
}

/* Writes into the character device (major 1, minor `minor`: Linux's mem devices) made in
 * the scratch directory as root; elsewhere the system's own, which a non-root user could
 * not replace even if the writer tried. Returns the path, or NULL (skip). */
static const char *mem_device(unsigned minor, const char *system_path)
{
    if (geteuid() != 0)
        return system_path;
#if defined(__linux__)
    const char *path = in_scratch(minor == 3 ? "null" : "full");
    assert_int_equal(mknod(path, S_IFCHR | 0666, makedev(1, minor)), 0);
    return path;
#else
    return NULL;
#endif
}

static void assert_still_a_device(const char *path)
{
    struct stat sb;
    assert_int_equal(lstat(path, &sb), 0);
    assert_true(S_ISCHR(sb.st_mode));
}

static void test_writes_into_a_character_device(void **state)
{
    (void)state;
    const char *null_dev = mem_device(3, "/dev/null");
    if (!null_dev) {
        fprintf(stderr, "SKIP: cannot make a device node here\n");
        skip();
    }
    bp_model *m = bp_test_small_model(NULL, NULL, 0);
    bp_error err;
    assert_int_equal(bp_model_save(m, null_dev, &err), BP_OK);
    assert_int_equal(bp_model_save_native(m, null_dev, &err), BP_OK);
    assert_still_a_device(null_dev);
    const char *full_dev = mem_device(7, "/dev/full");
    assert_int_equal(bp_model_save(m, full_dev, &err), BP_ERR_WRITE);
    assert_non_null(strstr(err.message, full_dev));
    assert_non_null(strstr(err.message, strerror(ENOSPC)));
    assert_still_a_device(full_dev);
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

/* Writes 1 MB, then kills its own process, as a job's time limit or the OOM killer would
 * in the middle of a long write. */
static void fill_then_die(bp_writer *w, const void *ctx)
{
    (void)ctx;
    static unsigned char block[1 << 16];
    for (int i = 0; i < 16; i++)
        bp_writer_put(w, block, sizeof block);
    raise(SIGKILL);
}

/* Where the system writes into an unnamed file (Linux's O_TMPFILE), a writer killed half
 * way leaves nothing at all: no file under the name, no temporary beside it. */
static void test_killed_writer_leaves_nothing(void **state)
{
    (void)state;
    const char *path = in_scratch("killed.counts");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        bp_write_file_from(path, fill_then_die, NULL, NULL);
        _exit(0); /* not reached */
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
#ifdef __linux__
    assert_int_equal(count_entries(bp_test_scratch), 0);
#endif
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
        cmocka_unit_test_setup_teardown(test_directory_is_refused, bp_test_make_scratch,
                                        bp_test_remove_scratch),
        cmocka_unit_test_setup_teardown(test_writes_through_a_symlink, bp_test_make_scratch,
                                        bp_test_remove_scratch),
        cmocka_unit_test_setup_teardown(test_creates_the_target_of_a_dangling_link,
                                        bp_test_make_scratch, bp_test_remove_scratch),
        cmocka_unit_test_setup_teardown(test_link_loop, bp_test_make_scratch, bp_test_remove_scratch),
        cmocka_unit_test_setup_teardown(test_writes_into_a_fifo, bp_test_make_scratch,
                                        bp_test_remove_scratch),
        cmocka_unit_test_setup_teardown(test_writes_into_a_character_device, bp_test_make_scratch,
                                        bp_test_remove_scratch),
        cmocka_unit_test_setup_teardown(test_read_only_directory, bp_test_make_scratch, bp_test_remove_scratch),
        cmocka_unit_test_setup_teardown(test_killed_writer_leaves_nothing, bp_test_make_scratch,
                                        bp_test_remove_scratch),
        cmocka_unit_test_setup_teardown(test_invalid_arguments, bp_test_make_scratch, bp_test_remove_scratch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
