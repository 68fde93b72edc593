/*
 * test_util.c -- helpers shared by the unit tests: finding ../shared (and skipping
 * cleanly without it), reading possibly zstd-compressed files, loading reference models.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>
#include <zstd.h>

#include "bytepiece.h"
#include "test_util.h"

const char *bp_test_shared_path(const char *rel)
{
    static char path[4096];
    const char *dir = getenv("BP_SHARED_DIR");
    struct stat st;
    if (dir && stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(path, sizeof path, "%s/%s", dir, rel);
        return path;
    }
    const char *req = getenv("BP_REQUIRE_SHARED");
    if (req && strcmp(req, "1") == 0)
        fail_msg("BP_REQUIRE_SHARED=1 but the reference folder (BP_SHARED_DIR=%s) is absent",
                 dir ? dir : "(unset)");
    fprintf(stderr, "SKIP: reference folder ../shared is absent (BP_SHARED_DIR=%s); "
                    "this test needs %s\n", dir ? dir : "(unset)", rel);
    return NULL;
}

static unsigned char *decompress(const unsigned char *in, size_t in_len, size_t *len)
{
    unsigned long long size = ZSTD_getFrameContentSize(in, in_len);
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN)
        return NULL;
    unsigned char *out = malloc(size + 1);
    if (!out)
        return NULL;
    size_t got = ZSTD_decompress(out, size, in, in_len);
    if (ZSTD_isError(got) || got != size) {
        free(out);
        return NULL;
    }
    out[size] = 0;
    *len = size;
    return out;
}

unsigned char *bp_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap + 1);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            unsigned char *b = realloc(buf, (cap *= 2) + 1);
            if (!b)
                free(buf);
            buf = b;
        }
    }
    fclose(f);
    if (!buf)
        return NULL;
    buf[n] = 0;
    if (n >= 4 && buf[0] == 0x28 && buf[1] == 0xB5 && buf[2] == 0x2F && buf[3] == 0xFD) {
        unsigned char *plain = decompress(buf, n, len);
        free(buf);
        return plain;
    }
    *len = n;
    return buf;
}

struct bp_model *bp_test_load_reference_model(const char *name)
{
    char rel[256];
    snprintf(rel, sizeof rel, "reference/models/%s.model.zst", name);
    const char *path = bp_test_shared_path(rel);
    if (!path)
        return NULL;
    bp_model *m = NULL;
    bp_error err;
    bp_status st = bp_model_load(path, &m, &err);
    if (st != BP_OK)
        fail_msg("loading %s: %s", path, err.message);
    return m;
}

struct bp_model *bp_test_small_model(const char *const *extra, const uint64_t *counts,
                                     size_t n_extra)
{
    static const unsigned char all_bytes[256] = {
#define B4(i) i, i + 1, i + 2, i + 3
#define B16(i) B4(i), B4(i + 4), B4(i + 8), B4(i + 12)
#define B64(i) B16(i), B16(i + 16), B16(i + 32), B16(i + 48)
        B64(0), B64(64), B64(128), B64(192)};
    bp_piece *p = calloc(256 + n_extra, sizeof *p);
    assert_non_null(p);
    for (unsigned b = 0; b < 256; b++)
        p[b] = (bp_piece){&all_bytes[b], 1, 1 + b % 7};
    for (size_t i = 0; i < n_extra; i++)
        p[256 + i] = (bp_piece){(const unsigned char *)extra[i], strlen(extra[i]), counts[i]};
    bp_model *m = NULL;
    bp_error err;
    if (bp_model_from_pieces(p, 256 + n_extra, &m, &err) != BP_OK)
        fail_msg("small model: %s", err.message);
    free(p);
    return m;
}

char bp_test_scratch[64];

int bp_test_make_scratch(void **state)
{
    (void)state;
    strcpy(bp_test_scratch, "/tmp/bp_test.XXXXXX");
    return mkdtemp(bp_test_scratch) ? 0 : -1;
}

int bp_test_remove_scratch(void **state)
{
    (void)state;
    DIR *d = opendir(bp_test_scratch);
    if (d) {
        struct dirent *e;
        char path[512];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(path, sizeof path, "%s/%s", bp_test_scratch, e->d_name);
            chmod(path, 0755); /* a test may have made it read-only */
            if (remove(path) != 0)
                rmdir(path);
        }
        closedir(d);
    }
    return rmdir(bp_test_scratch);
}

char *bp_test_model_json(const bp_model *m, size_t *len)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t v = bp_model_vocab_size(m), cap = 80 * v + 16, n = 0;
    char *json = malloc(cap);
    assert_non_null(json);
    json[n++] = '{';
    for (uint32_t id = 3; id < v; id++) {
        size_t plen;
        const unsigned char *p = bp_model_piece(m, id, &plen);
        char key[64];
        size_t k = 0;
        for (size_t i = 0; i < plen; i += 3) {
            uint32_t x = (uint32_t)p[i] << 16 | (i + 1 < plen ? (uint32_t)p[i + 1] << 8 : 0) |
                         (i + 2 < plen ? p[i + 2] : 0);
            key[k++] = tab[x >> 18 & 63];
            key[k++] = tab[x >> 12 & 63];
            key[k++] = i + 1 < plen ? tab[x >> 6 & 63] : '=';
            key[k++] = i + 2 < plen ? tab[x & 63] : '=';
        }
        key[k] = 0;
        n += (size_t)snprintf(json + n, cap - n, "%s\"%s\": [%u, \"\", %llu]", id > 3 ? ", " : "",
                              key, id, (unsigned long long)bp_model_piece_count(m, id));
    }
    n += (size_t)snprintf(json + n, cap - n, "}");
    assert_true(n < cap);
    *len = n;
    return json;
}

void bp_test_assert_same_model(const bp_model *a, const bp_model *b)
{
    assert_int_equal(bp_model_vocab_size(a), bp_model_vocab_size(b));
    for (uint32_t id = 0; id < bp_model_vocab_size(a) + 1; id++) {
        size_t la, lb;
        const unsigned char *pa = bp_model_piece(a, id, &la), *pb = bp_model_piece(b, id, &lb);
        assert_int_equal(la, lb);
        assert_true((pa == NULL) == (pb == NULL));
        if (pa) {
            assert_memory_equal(pa, pb, la);
            assert_int_equal(bp_model_piece_id(b, pa, la), id);
        }
        assert_int_equal(bp_model_piece_count(a, id), bp_model_piece_count(b, id));
        double sa = bp_model_piece_score(a, id), sb = bp_model_piece_score(b, id);
        assert_memory_equal(&sa, &sb, sizeof sa);
    }
}
