/*
 * encode_megatron.c -- `bp encode --output-format megatron -o PREFIX`: the ids go to
 * PREFIX.bin as u16 or u32 output would write them (uint16 under 65,500 ids, else int32),
 * and every text is one sequence and one document of PREFIX.idx (docs/formats.md,
 * section 4). Both files appear only once the run has succeeded (megatron_output.c).
 */
#include "bp_encode.h"

int megatron_encode_open(megatron_output *mo, encode_formats *f, const bp_model *model,
                         const char *prefix, output *out)
{
    uint8_t code = megatron_dtype_for(model);
    if (megatron_output_open(mo, prefix, code) != 0)
        return 1;
    use_binary_ids(f, (int)megatron_dtype_size(code));
    f->index = &mo->index;
    *out = output_open(mo->bin);
    return 0;
}

int megatron_encode_close(megatron_output *mo, output *out, int run_status)
{
    return megatron_output_finish(mo, output_close(out, run_status));
}
