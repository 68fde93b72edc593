/*
 * bp_python.h -- what the files of the CPython extension `libbytepiece._core` share.
 *
 * The extension is a thin layer over the public C API (include/bytepiece.h): each file
 * holds one Python type or one group of module functions.
 */
#ifndef BP_PYTHON_H
#define BP_PYTHON_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#include "bytepiece.h"

/*------ errors.c ------*/

/* libbytepiece.Error; set by bpy_module_init_errors(). */
extern PyObject *bpy_error_type;

int bpy_module_init_errors(PyObject *module);

/* Raises libbytepiece.Error for a failed call: `err` carries the C message, its code and
 * offset. @return NULL, for `return bpy_raise(...)`. */
PyObject *bpy_raise(bp_status status, const bp_error *err);

/*------ array.c ------*/

/* A flat array of uint32 ids or of size_t offsets with the buffer protocol. It owns its
 * items (stored inline), or views the memory of `owner`, which it keeps alive. */
typedef struct bpy_array {
    PyObject_VAR_HEAD /* ob_size: the bytes of inline_items */
    void *items;
    Py_ssize_t n;
    PyObject *owner; /* NULL when the items are inline */
    char format;     /* 'I' (uint32 ids) or BPY_SIZE_FORMAT (offsets) */
    uint64_t inline_items[];
} bpy_array;

extern PyTypeObject bpy_array_type;

/* A new array holding a copy of ids[0..n). */
PyObject *bpy_ids_copy(const uint32_t *ids, size_t n);
/* A new array holding a copy of offsets[0..n). */
PyObject *bpy_offsets_copy(const size_t *offsets, size_t n);
/* A new array viewing n items at `items` (format 'I' or the size_t code) inside `owner`. */
PyObject *bpy_array_view(PyObject *owner, void *items, size_t n, char format);

/* The struct-module code of size_t: what offsets are exposed as. */
#define BPY_SIZE_FORMAT (sizeof(size_t) == 8 ? 'Q' : 'I')

/*------ args.c ------*/

/* The bytes of a text argument: a str (its UTF-8, cached by the str object) or any
 * object with a contiguous byte buffer. Release with bpy_text_release(). */
typedef struct bpy_text {
    const char *bytes;
    Py_ssize_t len;
    Py_buffer view; /* used when the text is not a str */
    int has_view;
} bpy_text;

int bpy_text_get(PyObject *obj, bpy_text *text);
void bpy_text_release(bpy_text *text);

/* Ids from any object: an array of this module, a buffer of uint32 ('I', 'L' or 'H'/'B'
 * ints of 4 bytes or fewer), or an iterable of ints in 0 .. 2^32-1. Release with
 * bpy_ids_release(). */
typedef struct bpy_ids {
    const uint32_t *ids;
    size_t n;
    uint32_t *owned; /* a converted copy, or NULL */
    Py_buffer view;
    int has_view;
    const uint32_t *given; /* after bpy_ids_drop_special(): the caller's ids, their */
    size_t n_given;        /* number, and `kept`, the copy without the special ones that */
    uint32_t *kept;        /* `ids` then points at; else NULL */
} bpy_ids;

int bpy_ids_get(PyObject *obj, bpy_ids *ids);
void bpy_ids_release(bpy_ids *ids);

/* The encode flags of keyword arguments bos, eos, normalize, special. */
unsigned bpy_encode_flags(int bos, int eos, int normalize, int special);

/* Reads an int argument in 0 .. 2^64-1 (ValueError naming `name` otherwise). */
int bpy_u64_arg(PyObject *obj, const char *name, uint64_t *value);

/* Reads `alpha` (None: no sampling) and `seed` (None: a fresh one) into *alpha, *seed and
 * sets *sampling. @return 0, or -1 with an exception set. */
int bpy_sampling_args(PyObject *alpha_obj, PyObject *seed_obj, double *alpha, uint64_t *seed,
                      int *sampling);

/*------ model.c ------*/

typedef struct bpy_model {
    PyObject_HEAD
    bp_model *model;
    bp_encoder *enc;          /* for encode() and nbest(): they hold the GIL throughout */
    uint32_t *ids;            /* encode()'s growing scratch arrays: */
    size_t cap;               /* the entries of ids */
    size_t *offsets;
    size_t offsets_cap;       /* the entries of offsets (cap grows without it) */
    bp_batch_job *job;        /* encode_batch()'s job, made on first use */
    int job_busy;             /* set, under the GIL, while a batch runs on `job` */
    PyObject *weakrefs;
} bpy_model;

extern PyTypeObject bpy_model_type;

/*------ batch.c ------*/

extern PyTypeObject bpy_batch_type;

PyObject *bpy_model_encode_batch(bpy_model *self, PyObject *args, PyObject *kwargs);

/*------ special.c ------*/

PyObject *bpy_model_special_tokens(bpy_model *self, void *unused);
PyObject *bpy_model_is_special(bpy_model *self, PyObject *arg);
PyObject *bpy_model_add_special_tokens(bpy_model *self, PyObject *tokens);

/* For skip_special: leaves in `ids` only the ids that are not special tokens of `model`
 * (bp_ids_drop_special on a copy; ids->given keeps the caller's ids, so that a failure can
 * be reported with their indices). @return 0, or -1 with MemoryError set. */
int bpy_ids_drop_special(const bp_model *model, bpy_ids *ids);

/*------ stream.c ------*/

extern PyTypeObject bpy_stream_decoder_type;

/*------ train.c ------*/

PyObject *bpy_train(PyObject *module, PyObject *args, PyObject *kwargs);

/* Wraps a bp_model the caller gives up into a new Model object (NULL and the model freed
 * on failure). */
PyObject *bpy_model_wrap(bp_model *model);

#endif
