/*
 * error.c -- status codes to text, and the one helper every failing path uses to fill a
 * caller's bp_error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bp_internal.h"

static const char *const status_names[] = {
    [BP_OK] = "success",
    [BP_ERR_NOMEM] = "out of memory",
    [BP_ERR_INVALID_ARG] = "invalid argument",
    [BP_ERR_IO] = "cannot read file",
    [BP_ERR_EMPTY] = "model file is empty",
    [BP_ERR_TRUNCATED] = "model file is truncated",
    [BP_ERR_NOT_JSON] = "model file is not valid JSON",
    [BP_ERR_NOT_OBJECT] = "model JSON is not an object",
    [BP_ERR_BAD_BASE64] = "model key is not valid base64",
    [BP_ERR_BAD_ENTRY] = "model entry is not [id, text, count]",
    [BP_ERR_DUP_PIECE] = "duplicate piece in model",
    [BP_ERR_BAD_ID] = "model ids are not 3..N+2",
    [BP_ERR_MISSING_BYTE] = "model lacks a single-byte piece",
    [BP_ERR_BAD_COUNT] = "model count is not a positive integer",
    [BP_ERR_UNKNOWN_ID] = "unknown id",
    [BP_ERR_BUFFER_TOO_SMALL] = "output buffer too small",
    [BP_ERR_TOO_LARGE] = "input too large",
    [BP_ERR_BAD_RECORD] = "bad JSONL record",
    [BP_ERR_BAD_UTF8] = "training text is not valid UTF-8",
    [BP_ERR_EMPTY_CORPUS] = "no training text",
    [BP_ERR_WRITE] = "cannot write file",
    [BP_ERR_CORRUPT] = "model file is corrupt",
    [BP_ERR_VERSION] = "unsupported model format version",
    [BP_ERR_BAD_ESCAPE] = "malformed escape in a piece",
    [BP_ERR_BAD_SPECIAL] = "bad special token",
    [BP_ERR_BAD_COUNTS] = "count file is corrupt or not a count file",
    [BP_ERR_MISMATCH] = "count files of different options or kinds",
};

const char *bp_strerror(bp_status code)
{
    if ((unsigned)code < sizeof status_names / sizeof status_names[0] && status_names[code])
        return status_names[code];
    return "unknown error code";
}

bp_status bp_fail(bp_error *err, bp_status code, uint64_t offset, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        err->offset = offset;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

bp_status bp_fail_errno(bp_error *err, bp_status code, int errnum, const char *fmt, ...)
{
    if (!err)
        return code;
    char where[sizeof err->message], text[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(where, sizeof where, fmt, ap);
    va_end(ap);
    /* strerror() may use a static buffer; the library keeps no shared mutable state. */
    if (strerror_r(errnum, text, sizeof text) != 0)
        snprintf(text, sizeof text, "system error %d", errnum);
    return bp_fail(err, code, UINT64_MAX, "%s: %s", where, text);
}

#ifdef BP_ASSERTS
void bp_assert_fail(const char *cond, const char *file, int line)
{
    fprintf(stderr, "libbytepiece: invariant broken at %s:%d: %s\n", file, line, cond);
    abort();
}
#endif
