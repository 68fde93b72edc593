/* test_util.h -- helpers shared by the unit tests. */
#ifndef BP_TEST_UTIL_H
#define BP_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "bytepiece.h"

/* Options for bp_encode: sampling with `rng` when alpha >= 0, else the best segmentation. */
static inline bp_encode_options bp_test_options(double alpha, unsigned flags, bp_rng *rng)
{
    bp_encode_options o = {alpha, flags | (alpha >= 0 ? BP_ENCODE_SAMPLE : 0), rng};
    return o;
}

/* Path of file `rel` inside the reference folder (../shared), in a static buffer, or NULL
 * when the folder is absent. When it is absent and BP_REQUIRE_SHARED=1 (CI), the test
 * fails instead of skipping. Prints the reason for skipping once. */
const char *bp_test_shared_path(const char *rel);

/* Reads a whole file, decompressing it if it is a zstd frame. Returns a malloc'd buffer
 * (NUL-terminated, length in *len) or NULL. */
unsigned char *bp_test_read_file(const char *path, size_t *len);

/* Loads a reference model by name ("bytepiece.plus.80k") from ../shared/reference/models,
 * or returns NULL (test skipped) when ../shared is absent. Aborts the test on a load error. */
struct bp_model *bp_test_load_reference_model(const char *name);

/* A model of the 256 single bytes (byte b with count 1 + b % 7, id b + 3) followed by
 * `n_extra` pieces extra[i] (NUL-terminated strings) with counts[i]. Fails the test on error. */
struct bp_model *bp_test_small_model(const char *const *extra, const uint64_t *counts,
                                     size_t n_extra);

/* Fails the test unless the two models have the same pieces under the same ids, the same
 * counts and bitwise the same scores. */
void bp_test_assert_same_model(const struct bp_model *a, const struct bp_model *b);

/* Model `m` as reference JSON on one line, ids in order, the text fields left empty: a
 * malloc'd NUL-terminated string of *len bytes. */
char *bp_test_model_json(const struct bp_model *m, size_t *len);

/* A scratch directory for tests that write files: cmocka group setup and teardown. The
 * teardown removes the directory and everything directly in it. */
extern char bp_test_scratch[64];
int bp_test_make_scratch(void **state);
int bp_test_remove_scratch(void **state);

#endif
