/*
 * megatron.h -- Megatron-LM indexed datasets in the CLI: writing PREFIX.bin and PREFIX.idx
 * atomically (megatron_output.c), `bp encode --output-format megatron` (encode_megatron.c)
 * and `bp merge-megatron` (bp_merge_megatron.c). The index itself: megatron_index.h.
 */
#ifndef BP_MEGATRON_H
#define BP_MEGATRON_H

#include "cli.h"
#include "megatron_index.h"

/* A dataset being written: PREFIX.bin goes to a temporary file beside it, through `bin`;
 * the index is kept in memory until the end. */
typedef struct megatron_output {
    const char *prefix;        /* PREFIX, for the summary line */
    char *bin_path, *idx_path; /* PREFIX.bin, PREFIX.idx */
    char *bin_temp, *idx_temp; /* the temporary files beside them, while they exist */
    FILE *bin;                 /* open on bin_temp; whoever wraps it in an output closes it */
    megatron_index index;
} megatron_output;

/* Creates the temporary file of PREFIX.bin and an empty index of tokens of dtype `code`;
 * `prefix` must outlive mo. @return 0, or 1 after a message (nothing is left behind, and
 * mo needs no megatron_output_finish). */
int megatron_output_open(megatron_output *mo, const char *prefix, uint8_t code);

/* Ends the dataset once mo->bin is closed. With run_status 0 the index goes to its own
 * temporary file, the old PREFIX.idx (if any) is removed, then PREFIX.bin and last
 * PREFIX.idx are renamed into place: at every moment PREFIX.idx is absent or describes
 * the PREFIX.bin beside it, and a summary line on standard error says how many documents
 * and tokens it holds. Otherwise, or when that fails, the temporary files are removed.
 * Frees mo. @return 0, or 1 (after a message when run_status was 0). */
int megatron_output_finish(megatron_output *mo, int run_status);

/* The dtype of a dataset of the ids of `model`. */
uint8_t megatron_dtype_for(const bp_model *model);

int run_merge_megatron(int argc, char **argv);

#endif
