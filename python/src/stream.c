/*
 * stream.c -- libbytepiece.StreamDecoder: decodes ids as a generator produces them and
 * hands back only whole UTF-8 characters (bp_stream_decoder).
 */
#include "bp_python.h"

typedef struct bpy_stream_decoder {
    PyObject_HEAD
    PyObject *model; /* the Model, kept alive while the decoder is */
    bp_stream_decoder *dec;
    int skip_special;
} bpy_stream_decoder;

static PyObject *stream_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"model", "skip_special", NULL};
    PyObject *model;
    int skip_special = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!|$p:StreamDecoder", keywords,
                                     &bpy_model_type, &model, &skip_special))
        return NULL;
    bpy_stream_decoder *self = (bpy_stream_decoder *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->model = Py_NewRef(model);
    self->skip_special = skip_special;
    bp_error err;
    bp_status st = bp_stream_decoder_create(((bpy_model *)model)->model, &self->dec, &err);
    if (st != BP_OK) {
        Py_DECREF(self);
        return bpy_raise(st, &err);
    }
    return (PyObject *)self;
}

static void stream_dealloc(bpy_stream_decoder *self)
{
    bp_stream_decoder_free(self->dec);
    Py_XDECREF(self->model);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *stream_decode(bpy_stream_decoder *self, PyObject *arg)
{
    uint32_t one;
    bpy_ids ids = {.ids = &one, .n = 1};
    int single = PyLong_Check(arg);
    if (single) {
        unsigned long long v = PyLong_AsUnsignedLongLong(arg);
        if (PyErr_Occurred() || v > UINT32_MAX) {
            PyErr_Clear();
            return PyErr_Format(PyExc_ValueError, "%R is not an id (an int from 0 to 2**32-1)",
                                arg);
        }
        one = (uint32_t)v;
    } else if (bpy_ids_get(arg, &ids) < 0) {
        return NULL;
    }
    const bp_model *model = ((bpy_model *)self->model)->model;
    if (self->skip_special && bpy_ids_drop_special(model, &ids) < 0) {
        bpy_ids_release(&ids);
        return NULL;
    }
    size_t cap = bp_decode_bound(model, ids.n);
    PyObject *out = cap > (size_t)PY_SSIZE_T_MAX - 3
                        ? PyErr_NoMemory()
                        : PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(cap + 3));
    size_t len = 0;
    bp_error err;
    bp_status st = BP_OK;
    if (out != NULL)
        st = bp_stream_decode(self->dec, ids.ids, ids.n, PyBytes_AS_STRING(out), cap + 3, &len,
                              &err);
    if (st == BP_ERR_UNKNOWN_ID && ids.given != NULL) /* its index in the caller's ids */
        st = bp_stream_decode(self->dec, ids.given, ids.n_given, PyBytes_AS_STRING(out),
                              cap + 3, &len, &err);
    bpy_ids_release(&ids);
    if (out == NULL)
        return NULL;
    if (st != BP_OK) {
        Py_DECREF(out);
        return bpy_raise(st, &err);
    }
    if (_PyBytes_Resize(&out, (Py_ssize_t)len) < 0)
        return NULL;
    return out;
}

static PyObject *stream_flush(bpy_stream_decoder *self, PyObject *unused)
{
    (void)unused;
    char held[3];
    size_t len;
    bp_error err;
    bp_status st = bp_stream_decode_flush(self->dec, held, sizeof held, &len, &err);
    if (st != BP_OK)
        return bpy_raise(st, &err);
    return PyBytes_FromStringAndSize(held, (Py_ssize_t)len);
}

static PyMethodDef stream_methods[] = {
    {"decode", (PyCFunction)stream_decode, METH_O,
     "decode(ids) -> bytes\n\nAdds one id (an int) or many (as Model.decode takes them) to\n"
     "the stream and returns the bytes ready: all not yet returned but an unfinished UTF-8\n"
     "character at the end, held until a later id completes it. Raises\n"
     "libbytepiece.Error for an unknown id, leaving the stream unchanged."},
    {"flush", (PyCFunction)stream_flush, METH_NOARGS,
     "flush() -> bytes\n\nEnds the stream: returns the bytes held (0 to 3) and starts anew.\n"
     "Everything returned by decode() and flush() together is Model.decode() of all ids."},
    {NULL, NULL, 0, NULL},
};

PyTypeObject bpy_stream_decoder_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "libbytepiece.StreamDecoder",
    .tp_doc = "StreamDecoder(model, *, skip_special=False)\n\nDecodes a stream of ids (say,\n"
              "from a generator) into bytes that never end inside a UTF-8 character, so each\n"
              "chunk prints. skip_special=True drops the ids of special tokens (their text is\n"
              "written otherwise). One stream per decoder, one thread at a time.",
    .tp_basicsize = sizeof(bpy_stream_decoder),
    .tp_dealloc = (destructor)stream_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = stream_new,
    .tp_methods = stream_methods,
};
