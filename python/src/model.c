/*
 * model.c -- libbytepiece.Model: a loaded model with its pieces, encode(), nbest(),
 * decode() and save(). encode_batch() is in batch.c, the special tokens in special.c.
 */
#include <stdlib.h>

#include "bp_python.h"

PyObject *bpy_model_wrap(bp_model *model)
{
    bpy_model *self = (bpy_model *)bpy_model_type.tp_alloc(&bpy_model_type, 0);
    if (self == NULL) {
        bp_model_free(model);
        return NULL;
    }
    self->model = model;
    bp_error err;
    bp_status st = bp_encoder_create(model, &self->enc, &err);
    if (st != BP_OK) {
        Py_DECREF(self);
        return bpy_raise(st, &err);
    }
    return (PyObject *)self;
}

static PyObject *model_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"path", NULL};
    PyObject *path = NULL;
    (void)type;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&:Model", keywords, PyUnicode_FSConverter,
                                     &path))
        return NULL;
    bp_model *model = NULL;
    bp_error err;
    bp_status st;
    Py_BEGIN_ALLOW_THREADS
    st = bp_model_load(PyBytes_AS_STRING(path), &model, &err);
    Py_END_ALLOW_THREADS
    Py_DECREF(path);
    if (st != BP_OK)
        return bpy_raise(st, &err);
    return bpy_model_wrap(model);
}

static void model_dealloc(bpy_model *self)
{
    if (self->weakrefs != NULL)
        PyObject_ClearWeakRefs((PyObject *)self);
    bp_batch_job_free(self->job);
    bp_encoder_free(self->enc);
    bp_model_free(self->model);
    free(self->ids);
    free(self->offsets);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *model_vocab_size(bpy_model *self, void *unused)
{
    (void)unused;
    return PyLong_FromSize_t(bp_model_vocab_size(self->model));
}

static Py_ssize_t model_length(bpy_model *self)
{
    return (Py_ssize_t)bp_model_vocab_size(self->model);
}

static PyObject *model_is_native(bpy_model *self, void *unused)
{
    (void)unused;
    return PyBool_FromLong(bp_model_is_native(self->model));
}

/* Reads an id argument: 0 .. vocab_size-1, else IndexError. */
static int id_arg(bpy_model *self, PyObject *arg, uint32_t *id)
{
    unsigned long long v = PyLong_AsUnsignedLongLong(arg);
    if (v == (unsigned long long)-1 && PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_OverflowError))
            return -1;
        PyErr_Clear();
        v = UINT64_MAX;
    }
    if (v >= bp_model_vocab_size(self->model)) {
        PyErr_Format(PyExc_IndexError, "id %R is not below the vocabulary size %zu", arg,
                     bp_model_vocab_size(self->model));
        return -1;
    }
    *id = (uint32_t)v;
    return 0;
}

static PyObject *model_id_to_piece(bpy_model *self, PyObject *arg)
{
    uint32_t id;
    if (id_arg(self, arg, &id) < 0)
        return NULL;
    size_t len;
    const unsigned char *bytes = bp_model_piece(self->model, id, &len);
    if (bytes == NULL)
        Py_RETURN_NONE;
    return PyBytes_FromStringAndSize((const char *)bytes, (Py_ssize_t)len);
}

static PyObject *model_piece_score(bpy_model *self, PyObject *arg)
{
    uint32_t id;
    if (id_arg(self, arg, &id) < 0)
        return NULL;
    return PyFloat_FromDouble(bp_model_piece_score(self->model, id));
}

static PyObject *model_piece_count(bpy_model *self, PyObject *arg)
{
    uint32_t id;
    if (id_arg(self, arg, &id) < 0)
        return NULL;
    return PyLong_FromUnsignedLongLong(bp_model_piece_count(self->model, id));
}

static PyObject *model_piece_to_id(bpy_model *self, PyObject *arg)
{
    bpy_text piece;
    if (bpy_text_get(arg, &piece) < 0)
        return NULL;
    uint32_t id = bp_model_piece_id(self->model, piece.bytes, (size_t)piece.len);
    bpy_text_release(&piece);
    if (id == BP_ID_NONE)
        Py_RETURN_NONE;
    return PyLong_FromUnsignedLong(id);
}

static PyObject *model_encode(bpy_model *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"text", "alpha", "seed", "index", "bos", "eos", "normalize",
                               "offsets", "special", NULL};
    PyObject *text_obj, *alpha_obj = Py_None, *seed_obj = Py_None, *index_obj = NULL;
    int bos = 0, eos = 0, normalize = 1, want_offsets = 0, special = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|$OOOppppp:encode", keywords, &text_obj,
                                     &alpha_obj, &seed_obj, &index_obj, &bos, &eos, &normalize,
                                     &want_offsets, &special))
        return NULL;
    double alpha;
    uint64_t seed, index = 0;
    int sampling;
    if (bpy_sampling_args(alpha_obj, seed_obj, &alpha, &seed, &sampling) < 0 ||
        (index_obj != NULL && bpy_u64_arg(index_obj, "index", &index) < 0))
        return NULL;
    bp_rng rng;
    bp_encode_options opts = {.alpha = alpha,
                              .flags = bpy_encode_flags(bos, eos, normalize, special) |
                                       (sampling ? BP_ENCODE_SAMPLE : 0u),
                              .rng = &rng};
    if (sampling)
        bp_rng_seed(&rng, seed, index);
    bpy_text text;
    if (bpy_text_get(text_obj, &text) < 0)
        return NULL;
    /* bp_encode_append() wants the offsets as long as the ids; calls without offsets may
     * have grown the ids since: then the offsets are made anew at the ids' size. */
    if (want_offsets && self->offsets_cap != self->cap) {
        free(self->offsets);
        self->offsets = NULL;
    }
    size_t n = 0;
    bp_error err;
    bp_status st = bp_encode_append(self->enc, text.bytes, (size_t)text.len, &opts, &self->ids,
                                    want_offsets ? &self->offsets : NULL, &self->cap, &n, &err);
    if (want_offsets)
        self->offsets_cap = self->offsets ? self->cap : 0;
    bpy_text_release(&text);
    if (st != BP_OK)
        return bpy_raise(st, &err);
    PyObject *ids = bpy_ids_copy(self->ids, n);
    if (ids == NULL || !want_offsets)
        return ids;
    PyObject *offsets = bpy_offsets_copy(self->offsets, n);
    if (offsets == NULL) {
        Py_DECREF(ids);
        return NULL;
    }
    return Py_BuildValue("(NN)", ids, offsets);
}

static PyObject *model_nbest(bpy_model *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"text", "k", "bos", "eos", "normalize", NULL};
    PyObject *text_obj;
    Py_ssize_t k;
    int bos = 0, eos = 0, normalize = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "On|$ppp:nbest", keywords, &text_obj, &k,
                                     &bos, &eos, &normalize))
        return NULL;
    if (k < 1 || k > BP_NBEST_MAX)
        return PyErr_Format(PyExc_ValueError, "k must be from 1 to %d", BP_NBEST_MAX);
    bpy_text text;
    if (bpy_text_get(text_obj, &text) < 0)
        return NULL;
    bp_encode_options opts = {.flags = bpy_encode_flags(bos, eos, normalize, 0)};
    bp_nbest best;
    bp_error err;
    bp_status st = bp_encode_nbest(self->enc, text.bytes, (size_t)text.len, &opts, (size_t)k,
                                   &best, &err);
    bpy_text_release(&text);
    if (st != BP_OK)
        return bpy_raise(st, &err);
    PyObject *list = PyList_New((Py_ssize_t)best.n);
    for (size_t i = 0; list != NULL && i < best.n; i++) {
        PyObject *ids = bpy_ids_copy(best.ids + best.ids_begin[i],
                                     best.ids_begin[i + 1] - best.ids_begin[i]);
        PyObject *entry = ids == NULL ? NULL : Py_BuildValue("(Nd)", ids, best.scores[i]);
        if (entry == NULL)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, (Py_ssize_t)i, entry);
    }
    bp_nbest_free(&best);
    return list;
}

/* The bytes of the pieces of `ids_obj`, as bp_decode() gives them; with skip_special,
 * of those that are not special tokens. */
static PyObject *decode_bytes(bpy_model *self, PyObject *ids_obj, int skip_special)
{
    bpy_ids ids;
    if (bpy_ids_get(ids_obj, &ids) < 0)
        return NULL;
    if (skip_special && bpy_ids_drop_special(self->model, &ids) < 0) {
        bpy_ids_release(&ids);
        return NULL;
    }
    size_t len = 0;
    bp_error err;
    bp_status st = bp_decode(self->model, ids.ids, ids.n, NULL, 0, &len, &err);
    if (st == BP_ERR_UNKNOWN_ID && ids.given != NULL) /* its index in the caller's ids */
        st = bp_decode(self->model, ids.given, ids.n_given, NULL, 0, &len, &err);
    PyObject *out = NULL;
    if (st == BP_OK || st == BP_ERR_BUFFER_TOO_SMALL) {
        out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)len);
        if (out != NULL)
            st = bp_decode(self->model, ids.ids, ids.n, PyBytes_AS_STRING(out), len, &len,
                           &err);
    }
    bpy_ids_release(&ids);
    if (st != BP_OK) {
        Py_XDECREF(out);
        return PyErr_Occurred() ? NULL : bpy_raise(st, &err);
    }
    return out;
}

static PyObject *model_decode(bpy_model *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"ids", "skip_special", NULL};
    PyObject *ids;
    int skip_special = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|$p:decode", keywords, &ids,
                                     &skip_special))
        return NULL;
    return decode_bytes(self, ids, skip_special);
}

static PyObject *model_decode_str(bpy_model *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"ids", "errors", "skip_special", NULL};
    PyObject *ids;
    const char *errors = "replace";
    int skip_special = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|$sp:decode_str", keywords, &ids, &errors,
                                     &skip_special))
        return NULL;
    PyObject *bytes = decode_bytes(self, ids, skip_special);
    if (bytes == NULL)
        return NULL;
    PyObject *str = PyUnicode_DecodeUTF8(PyBytes_AS_STRING(bytes), PyBytes_GET_SIZE(bytes),
                                         errors);
    Py_DECREF(bytes);
    return str;
}

static PyObject *model_save(bpy_model *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"path", "native", NULL};
    PyObject *path;
    int native = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&|$p:save", keywords,
                                     PyUnicode_FSConverter, &path, &native))
        return NULL;
    bp_error err;
    bp_status st;
    Py_BEGIN_ALLOW_THREADS
    st = native ? bp_model_save_native(self->model, PyBytes_AS_STRING(path), &err)
                : bp_model_save(self->model, PyBytes_AS_STRING(path), &err);
    Py_END_ALLOW_THREADS
    Py_DECREF(path);
    if (st != BP_OK)
        return bpy_raise(st, &err);
    Py_RETURN_NONE;
}

static PyMethodDef model_methods[] = {
    {"id_to_piece", (PyCFunction)model_id_to_piece, METH_O,
     "id_to_piece(id) -> bytes | None\n\nThe bytes of piece `id` (of a special token: its\n"
     "text as UTF-8); None for ids 0, 1, 2 (<pad>, <bos>, <eos>). IndexError for an id >=\n"
     "vocab_size."},
    {"piece_to_id", (PyCFunction)model_piece_to_id, METH_O,
     "piece_to_id(piece) -> int | None\n\nThe id of the piece equal to `piece` (bytes, or a\n"
     "str taken as UTF-8), or None when no piece is (special tokens are not pieces:\n"
     "see special_tokens)."},
    {"piece_score", (PyCFunction)model_piece_score, METH_O,
     "piece_score(id) -> float\n\nlog(count) - log(total) of piece `id`; -inf for 0, 1, 2."},
    {"piece_count", (PyCFunction)model_piece_count, METH_O,
     "piece_count(id) -> int\n\nThe training count of piece `id`; 0 for 0, 1, 2."},
    {"encode", (PyCFunction)(void (*)(void))model_encode, METH_VARARGS | METH_KEYWORDS,
     "encode(text, *, alpha=None, seed=None, index=0, bos=False, eos=False,\n"
     "       normalize=True, offsets=False, special=False) -> Array | tuple[Array, Array]\n\n"
     "The ids of `text` (a str, encoded as UTF-8, or bytes) as an Array of uint32.\n"
     "With `alpha` (>= 0) a segmentation is sampled with probability P(seg)**alpha / Z,\n"
     "drawing from stream `index` of `seed`: the sample `bp encode --alpha A --seed S`\n"
     "gives its text number `index` (counted from 0). Without a seed, a fresh one is\n"
     "taken. `normalize` puts the text in NFC first. With offsets=True, returns (ids,\n"
     "offsets): the byte where each token starts in the text as passed in (a str: in its\n"
     "UTF-8), before NFC. With special=True the model's special tokens are matched in the\n"
     "text first (leftmost, then longest) and become their ids; otherwise their text is\n"
     "ordinary text. Raises libbytepiece.Error (out of memory)."},
    {"nbest", (PyCFunction)(void (*)(void))model_nbest, METH_VARARGS | METH_KEYWORDS,
     "nbest(text, k, *, bos=False, eos=False, normalize=True) -> list[tuple[Array, float]]\n\n"
     "The k (1 .. 1024) most probable segmentations of `text`, best first, each with its\n"
     "log-probability; fewer when the text has fewer. The first is encode(text)."},
    {"decode", (PyCFunction)(void (*)(void))model_decode, METH_VARARGS | METH_KEYWORDS,
     "decode(ids, *, skip_special=False) -> bytes\n\nThe bytes of the pieces of `ids` (an\n"
     "Array, a uint32 buffer such as a numpy array, or a sequence of ints); ids 0..2 give\n"
     "nothing, a special token its text unless skip_special=True.\n"
     "Raises libbytepiece.Error (code 14, offset = the index) for an unknown id."},
    {"decode_str", (PyCFunction)(void (*)(void))model_decode_str, METH_VARARGS | METH_KEYWORDS,
     "decode_str(ids, *, errors='replace', skip_special=False) -> str\n\n"
     "decode(ids, skip_special=...) read as UTF-8 with the given error handler (pieces\n"
     "are bytes and need not be whole characters)."},
    {"save", (PyCFunction)(void (*)(void))model_save, METH_VARARGS | METH_KEYWORDS,
     "save(path, *, native=False) -> None\n\nWrites the model atomically: in the reference\n"
     "JSON format, or with native=True in the native binary format (fast to load). A\n"
     "model with special tokens has to be saved native: the JSON format cannot hold them\n"
     "(libbytepiece.Error, code 24, and nothing written)."},
    {"is_special", (PyCFunction)bpy_model_is_special, METH_O,
     "is_special(id) -> bool\n\nTrue when `id` is one of the model's special tokens (False\n"
     "for ids 0..2, pieces and ids past the vocabulary)."},
    {"add_special_tokens", (PyCFunction)bpy_model_add_special_tokens, METH_O,
     "add_special_tokens(tokens) -> Model\n\nA new model: this one (unchanged) with the\n"
     "tokens of the list (str, or bytes of UTF-8) as special tokens, with the ids after\n"
     "the last one, in order, as `bp add-tokens`. Raises libbytepiece.Error (code 24,\n"
     "offset = the index in `tokens`) for a token that is empty, not UTF-8, already\n"
     "special, <pad>/<bos>/<eos>, or given twice."},
    {"encode_batch", (PyCFunction)(void (*)(void))bpy_model_encode_batch,
     METH_VARARGS | METH_KEYWORDS,
     "encode_batch(texts, *, threads=0, alpha=None, seed=None, first_index=0, bos=False,\n"
     "             eos=False, normalize=True, offsets=False, special=False) -> Batch\n\n"
     "Encodes a sequence of texts (str or bytes) on `threads` threads (0: one per core)\n"
     "with the GIL released; the result does not depend on the number of threads. When\n"
     "sampling, text i draws from stream first_index + i of `seed`, as text\n"
     "first_index + i of `bp encode --alpha A --seed S`."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef model_getset[] = {
    {"vocab_size", (getter)model_vocab_size, NULL,
     "The number of ids: the pieces, the 3 ids <pad> <bos> <eos> and the special tokens.",
     NULL},
    {"special_tokens", (getter)bpy_model_special_tokens, NULL,
     "The special tokens, {text: id} in the order of their ids (a new dict each time).",
     NULL},
    {"is_native", (getter)model_is_native, NULL,
     "True when the model was loaded from the native binary format.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PySequenceMethods model_as_sequence = {
    .sq_length = (lenfunc)model_length,
};

PyTypeObject bpy_model_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "libbytepiece.Model",
    .tp_doc = "Model(path)\n\nLoads a model: the reference BytePiece JSON, plain or\n"
              "zstd-compressed, or the native format (recognised by content). Raises\n"
              "libbytepiece.Error with the library's message when the file is missing or\n"
              "not a valid model. A model may be shared by any number of threads.",
    .tp_basicsize = sizeof(bpy_model),
    .tp_dealloc = (destructor)model_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = model_new,
    .tp_methods = model_methods,
    .tp_getset = model_getset,
    .tp_as_sequence = &model_as_sequence,
    .tp_weaklistoffset = offsetof(bpy_model, weakrefs),
};
