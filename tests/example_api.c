/*
 * example_api.c -- the C API example of the README, built and run by ctest (example_api),
 * so that it cannot rot. Usage: example_api MODEL
 */
#include <bytepiece.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "data/sample.model";
    bp_model *model;
    bp_error err;
    if (bp_model_load(path, &model, &err) != BP_OK) {
        fprintf(stderr, "%s\n", err.message); /* names the file and the problem */
        return 1;
    }
    bp_encoder *enc; /* scratch space: one per thread, reused across calls */
    if (bp_encoder_create(model, &enc, &err) != BP_OK) {
        fprintf(stderr, "%s\n", err.message);
        bp_model_free(model);
        return 1;
    }

    const char *text = "Tokenizers turn text into numbers.\n";
    size_t len = strlen(text), cap = bp_encode_bound(len), n;
    uint32_t *ids = malloc(cap * sizeof *ids);       /* bp_encode_bound: always enough */
    size_t *offsets = malloc(cap * sizeof *offsets);
    char *back = malloc(len + 1);
    int status = 1;
    if (!ids || !offsets || !back)
        goto done;

    /* The best segmentation, with <eos>, and where each token starts in the (NFC) text. */
    bp_encode_options best = {.flags = BP_ENCODE_EOS};
    if (bp_encode(enc, text, len, &best, ids, offsets, cap, &n, NULL) != BP_OK)
        goto done;
    printf("%zu ids:", n);
    for (size_t i = 0; i < n; i++)
        printf(" %" PRIu32 "@%zu", ids[i], offsets[i]);
    printf("\n");

    /* A sampled segmentation (subword regularization): seed 7, stream 0. */
    bp_rng rng;
    bp_rng_seed(&rng, 7, 0);
    bp_encode_options sampled = {.alpha = 0.1, .flags = BP_ENCODE_SAMPLE, .rng = &rng};
    if (bp_encode(enc, text, len, &sampled, ids, NULL, cap, &n, NULL) != BP_OK)
        goto done;
    printf("sampled:");
    for (size_t i = 0; i < n; i++) {
        size_t piece_len;
        const unsigned char *piece = bp_model_piece(model, ids[i], &piece_len);
        printf(" [%.*s]", (int)piece_len, (const char *)piece);
    }
    printf("\n");

    /* Back to bytes: any segmentation decodes to the same text. */
    size_t back_len;
    if (bp_decode(model, ids, n, back, len, &back_len, &err) != BP_OK)
        goto done;
    printf("decoded: %.*s", (int)back_len, back);
    status = back_len == len && memcmp(back, text, len) == 0 ? 0 : 1;

done:
    free(back);
    free(offsets);
    free(ids);
    bp_encoder_free(enc);
    bp_model_free(model);
    return status;
}
