/*
 * fuzz_counts.c -- libFuzzer target: the count file reader (docs/count-format.md) on
 * arbitrary files, through bp_counts_read_info, bp_counts_merge, the n-gram model built
 * from n-gram counts (bp_ngram_load) and the training from piece counts.
 *
 * Input layout:
 *   byte 0    flags: 1 "wrap" (else the rest is the file as it is)
 *   the rest  without wrap: the file. With wrap: 64 header bytes, 24 trailer bytes
 *             (entries, text bytes, chunks), then the entries uncompressed; the harness
 *             compresses them into a checksummed zstd frame and computes the trailer's
 *             checksum, so that the fuzzer reaches the entry checks and the model, which
 *             damaged frames and checksums would stop early.
 *
 * Checks: every call returns cleanly, with a known code and a message naming the file on
 * failure. A file that merges is canonical after one merge: merging the result again gives
 * the same bytes. Accepted n-gram counts build an n-gram model or fail with
 * BP_ERR_BAD_COUNTS, and pruned (bp_counts_merge_pruned) they build the same model or fail
 * alike; a pruned file is refused by a merge; accepted piece counts of a few entries train
 * a model.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

#include "fuzz_util.h"
#include "train_internal.h"

enum { F_WRAP = 1 };
enum { HEADER = 64, TRAILER_FIELDS = 24, MAX_TRAINED_ENTRIES = 200 };

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[256], merged[256], again[256], pruned[256];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(path, sizeof path, "%s/bp_fuzz_counts_%ld", dir, (long)getpid());
    snprintf(merged, sizeof merged, "%s/bp_fuzz_counts_%ld.merged", dir, (long)getpid());
    snprintf(again, sizeof again, "%s/bp_fuzz_counts_%ld.again", dir, (long)getpid());
    snprintf(pruned, sizeof pruned, "%s/bp_fuzz_counts_%ld.pruned", dir, (long)getpid());
    return 0;
}

static void write_file(const char *name, const void *data, size_t len)
{
    FILE *f = fopen(name, "wb");
    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(len == 0 || fwrite(data, 1, len, f) == len);
    FUZZ_CHECK(fclose(f) == 0);
}

/* The bytes of a file as they are (bp_read_file would look at what they hold). */
static unsigned char *read_whole(const char *name, size_t *len)
{
    FILE *f = fopen(name, "rb");
    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(fseek(f, 0, SEEK_END) == 0);
    long size = ftell(f);
    FUZZ_CHECK(size >= 0 && fseek(f, 0, SEEK_SET) == 0);
    unsigned char *data = fuzz_xmalloc((size_t)size + 1);
    FUZZ_CHECK(fread(data, 1, (size_t)size, f) == (size_t)size);
    FUZZ_CHECK(fclose(f) == 0);
    *len = (size_t)size;
    return data;
}

/* The file of a wrapped input: header, compressed entries, trailer with its checksum. */
static void write_wrapped(const uint8_t *data, size_t size)
{
    unsigned char ends[HEADER + TRAILER_FIELDS] = {0};
    size_t fixed = size < sizeof ends ? size : sizeof ends;
    memcpy(ends, data, fixed);
    const uint8_t *entries = data + fixed;
    size_t n_entries = size - fixed;
    size_t bound = ZSTD_compressBound(n_entries);
    unsigned char *file = fuzz_xmalloc(HEADER + bound + TRAILER_FIELDS + 8);
    memcpy(file, ends, HEADER);
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    FUZZ_CHECK(cctx != NULL);
    FUZZ_CHECK(!ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)));
    size_t z = ZSTD_compress2(cctx, file + HEADER, bound, entries, n_entries);
    FUZZ_CHECK(!ZSTD_isError(z));
    ZSTD_freeCCtx(cctx);
    unsigned char *trailer = file + HEADER + z;
    memcpy(trailer, ends + HEADER, TRAILER_FIELDS);
    uint64_t sum = bp_checksum64(ends, sizeof ends, 0);
    for (int i = 0; i < 8; i++)
        trailer[TRAILER_FIELDS + i] = (unsigned char)(sum >> (8 * i));
    write_file(path, file, HEADER + z + TRAILER_FIELDS + 8);
    free(file);
}

static void check_failure(bp_status st, const bp_error *err)
{
    FUZZ_CHECK(st == BP_ERR_BAD_COUNTS || st == BP_ERR_VERSION || st == BP_ERR_IO ||
               st == BP_ERR_TOO_LARGE);
    FUZZ_CHECK(strstr(err->message, path) != NULL);
}

/* What the stages do with accepted counts. */
static void use_counts(const bp_counts_info *info)
{
    bp_error err;
    if (info->kind != BP_COUNTS_PIECES) {
        bp_ngram_model m;
        bp_status st = bp_ngram_load(&m, path, &info->options, &err);
        FUZZ_CHECK(st == BP_OK || st == BP_ERR_BAD_COUNTS);
        if (info->kind == BP_COUNTS_NGRAMS) {
            const char *inputs[1] = {path};
            FUZZ_CHECK_STATUS(bp_counts_merge_pruned(inputs, 1, pruned, NULL, &err), BP_OK);
            bp_ngram_model from_pruned;
            bp_status st_pruned = bp_ngram_load(&from_pruned, pruned, &info->options, &err);
            FUZZ_CHECK(st_pruned == st);
            if (st_pruned == BP_OK) {
                FUZZ_CHECK(from_pruned.n_kept == m.n_kept);
                bp_ngram_free(&from_pruned);
            }
            unlink(pruned);
        }
        if (st == BP_OK)
            bp_ngram_free(&m);
        return;
    }
    if (info->entries > MAX_TRAINED_ENTRIES)
        return;
    size_t size = 300;
    bp_model *model = NULL;
    bp_train_options o = {.threads = 1};
    bp_status st = bp_train_from_counts(path, &o, &size, 1, &model, NULL, &err);
    FUZZ_CHECK(st == BP_OK || st == BP_ERR_EMPTY_CORPUS);
    FUZZ_CHECK((st == BP_OK) == (model != NULL));
    bp_model_free(model);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 0 && (data[0] & F_WRAP))
        write_wrapped(data + 1, size - 1);
    else
        write_file(path, data + (size > 0), size - (size > 0));
    bp_counts_info info;
    bp_error err;
    bp_status st = bp_counts_read_info(path, &info, &err);
    if (st != BP_OK) {
        check_failure(st, &err);
        return 0;
    }
    const char *inputs[1] = {path};
    st = bp_counts_merge(inputs, 1, merged, &info, &err);
    if (info.kind == BP_COUNTS_NGRAMS_PRUNED) {
        FUZZ_CHECK(st == BP_ERR_MISMATCH);
        use_counts(&info);
        return 0;
    }
    if (st != BP_OK) {
        check_failure(st, &err);
        return 0;
    }
    const char *once[1] = {merged};
    bp_counts_info info_again;
    FUZZ_CHECK_STATUS(bp_counts_merge(once, 1, again, &info_again, &err), BP_OK);
    size_t a_len, b_len;
    unsigned char *a = read_whole(merged, &a_len), *b = read_whole(again, &b_len);
    FUZZ_CHECK(a_len == b_len && memcmp(a, b, a_len) == 0);
    FUZZ_CHECK(info_again.entries == info.entries && info_again.bytes == info.bytes);
    free(a);
    free(b);
    use_counts(&info);
    unlink(merged);
    unlink(again);
    return 0;
}
