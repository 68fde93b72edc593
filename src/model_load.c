/*
 * model_load.c -- bp_model_load() and bp_model_load_memory(): the content tells the
 * format, never the file name. A model is read whole (its first bytes checked to start a
 * model, its size bounded: file_read.c, model_sniff.c), decompressed if it is zstd, and is
 * then a native model (model_native.c) or the reference JSON (model_json.c).
 */
#include <stdlib.h>

#include "bp_internal.h"

/* The common end of both loaders: `data` holds what was read (when `st` is BP_OK). */
static bp_status load_read_bytes(bp_status st, const char *name, unsigned char *data,
                                 size_t len, bp_model **out, bp_error *err)
{
    if (st != BP_OK)
        return st;
    if (bp_native_is(data, len)) /* the native loader takes the buffer */
        return bp_native_load_buffer(name, data, len, out, err);
    st = bp_json_load(name, data, len, out, err);
    free(data);
    return st;
}

bp_status bp_model_load_memory(const void *data, size_t size, const char *name, bp_model **out,
                               bp_error *err)
{
    name = bp_source_name(name);
    if (!out)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "%s: no output pointer", name);
    *out = NULL;
    unsigned char *bytes;
    size_t len;
    bp_status st = bp_read_memory(data, size, name, &bytes, &len, err);
    return load_read_bytes(st, name, bytes, len, out, err);
}

bp_status bp_model_load(const char *path, bp_model **out, bp_error *err)
{
    if (!out || !path)
        return bp_fail(err, BP_ERR_INVALID_ARG, UINT64_MAX, "bp_model_load: %s is NULL",
                       path ? "out" : "path");
    *out = NULL;
    unsigned char *bytes;
    size_t len;
    bp_status st = bp_read_file(path, &bytes, &len, err);
    return load_read_bytes(st, path, bytes, len, out, err);
}
