/*
 * example_train.c -- training from C, the README's second example, built and run by ctest
 * (example_train), which also checks that the model equals `bp train`'s.
 * Usage: example_train CORPUS OUT_MODEL
 */
#include <bytepiece.h>

#include <inttypes.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: example_train CORPUS OUT_MODEL\n");
        return 2;
    }
    bp_error err;
    bp_trainer *trainer = NULL;
    bp_text_input *corpus = NULL;
    bp_model *model = NULL;
    bp_train_options opts = {0}; /* the reference's defaults: order 6, min_count 2, ... */
    size_t vocab_size = 1000;    /* ids, counting <pad>, <bos>, <eos> */

    /* A file (plain or JSONL, zstd or not) or "-": each input is one text. */
    if (bp_text_input_open(argv[1], BP_INPUT_PLAIN, NULL, 0, &corpus, &err) != BP_OK ||
        bp_trainer_create(&opts, &trainer, &err) != BP_OK ||
        bp_trainer_add_input(trainer, corpus, &err) != BP_OK ||
        bp_trainer_train(trainer, &vocab_size, 1, &model, &err) != BP_OK ||
        bp_model_save(model, argv[2], &err) != BP_OK) {
        fprintf(stderr, "%s\n", err.message);
        bp_model_free(model);
        bp_trainer_free(trainer);
        bp_text_input_close(corpus);
        return 1;
    }
    bp_train_stats stats;
    bp_trainer_stats(trainer, &stats);
    printf("%" PRIu64 " bytes, %" PRIu64 " chunks -> %zu ids, saved to %s\n", stats.bytes,
           stats.chunks, bp_model_vocab_size(model), argv[2]);
    bp_model_free(model);
    bp_trainer_free(trainer);
    bp_text_input_close(corpus);
    return 0;
}
