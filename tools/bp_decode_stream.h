/*
 * bp_decode_stream.h -- `bp decode --stream` (bp_decode_stream.c), called by bp_decode.c.
 */
#ifndef BP_DECODE_STREAM_H
#define BP_DECODE_STREAM_H

#include "cli.h"

/* Decodes the ids of standard input as they arrive into `out`, flushing it after every
 * read; with skip_special, the ids of special tokens give nothing. @return 0, or 1 after reporting a bad word, an unknown id or a read error (what
 * came before it, held bytes included, is in `out`). */
int decode_stream(const bp_model *model, bool skip_special, output *out);

#endif
