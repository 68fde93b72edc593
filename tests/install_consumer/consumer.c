/*
 * consumer.c -- a program that uses an installed libbytepiece, as a user's would:
 * built by tests/install_test.sh through pkg-config and through find_package(bytepiece).
 * It checks that the header and the library agree on the version, builds a tiny model in
 * memory (the 256 single bytes, "hello" and " world"), encodes "hello world" and decodes it
 * back. Prints one line and exits 0 when everything is as expected.
 */
#include <bytepiece.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
    if (strcmp(bp_version_string(), BP_VERSION_STRING) != 0) {
        fprintf(stderr, "header %s, library %s\n", BP_VERSION_STRING, bp_version_string());
        return 1;
    }

    unsigned char bytes[256];
    bp_piece pieces[258];
    for (int b = 0; b < 256; b++) {
        bytes[b] = (unsigned char)b;
        pieces[b].bytes = &bytes[b];
        pieces[b].len = 1;
        pieces[b].count = 1;
    }
    pieces[256].bytes = (const unsigned char *)"hello";
    pieces[256].len = 5;
    pieces[256].count = 1000;
    pieces[257].bytes = (const unsigned char *)" world";
    pieces[257].len = 6;
    pieces[257].count = 1000;

    bp_model *model;
    bp_error err;
    if (bp_model_from_pieces(pieces, 258, &model, &err) != BP_OK) {
        fprintf(stderr, "model: %s\n", err.message);
        return 1;
    }
    bp_encoder *enc;
    if (bp_encoder_create(model, &enc, NULL) != BP_OK) {
        bp_model_free(model);
        return 1;
    }
    const char *text = "hello world";
    uint32_t ids[64];
    size_t n_ids = 0;
    bp_encode_options opts = {-1.0, BP_ENCODE_EOS, NULL};
    bp_status st = bp_encode(enc, text, strlen(text), &opts, ids, NULL, 64, &n_ids, NULL);
    char back[64];
    size_t back_len = 0;
    if (st == BP_OK)
        st = bp_decode(model, ids, n_ids, back, sizeof back, &back_len, &err);
    bp_encoder_free(enc);
    bp_model_free(model);
    if (st != BP_OK) {
        fprintf(stderr, "encode/decode: %s\n", bp_strerror(st));
        return 1;
    }

    printf("bytepiece %s:", bp_version_string());
    for (size_t i = 0; i < n_ids; i++)
        printf(" %u", (unsigned)ids[i]);
    printf(" -> %.*s\n", (int)back_len, back);
    /* "hello" is id 3 + 256, " world" 3 + 257, then <eos>. */
    int ok = n_ids == 3 && ids[0] == 259 && ids[1] == 260 && ids[2] == 2 &&
             back_len == strlen(text) && memcmp(back, text, back_len) == 0;
    return ok ? 0 : 1;
}
