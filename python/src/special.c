/*
 * special.c -- special tokens in the binding: Model.special_tokens, is_special(),
 * add_special_tokens(), and dropping their ids for decode(..., skip_special=True).
 */
#include "bp_python.h"

/* Special token i has id first_special_id() + i: they come after the pieces, in order. */
static uint32_t first_special_id(const bp_model *model)
{
    return (uint32_t)(bp_model_vocab_size(model) - bp_model_special_count(model));
}

PyObject *bpy_model_special_tokens(bpy_model *self, void *unused)
{
    (void)unused;
    PyObject *tokens = PyDict_New();
    uint32_t first = first_special_id(self->model);
    for (size_t i = 0; tokens != NULL && i < bp_model_special_count(self->model); i++) {
        size_t len;
        const char *text = (const char *)bp_model_piece(self->model, first + (uint32_t)i, &len);
        /* bp_model_add_special() took only well-formed UTF-8. */
        PyObject *key = PyUnicode_DecodeUTF8(text, (Py_ssize_t)len, "strict");
        PyObject *id = PyLong_FromUnsignedLong(first + (uint32_t)i);
        if (key == NULL || id == NULL || PyDict_SetItem(tokens, key, id) < 0)
            Py_CLEAR(tokens);
        Py_XDECREF(key);
        Py_XDECREF(id);
    }
    return tokens;
}

PyObject *bpy_model_is_special(bpy_model *self, PyObject *arg)
{
    if (!PyLong_Check(arg))
        return PyErr_Format(PyExc_TypeError, "an id is an int, not %.100s",
                            Py_TYPE(arg)->tp_name);
    int overflow;
    long long id = PyLong_AsLongLongAndOverflow(arg, &overflow);
    if (id == -1 && PyErr_Occurred())
        return NULL;
    if (overflow != 0 || id < 0 || id > UINT32_MAX)
        Py_RETURN_FALSE;
    return PyBool_FromLong(bp_model_is_special(self->model, (uint32_t)id));
}

/* The bytes of every token of `items` (a tuple), in texts[], lens[] (n entries each). */
static int tokens_get(PyObject *items, bpy_text *texts, const char **bytes, size_t *lens)
{
    Py_ssize_t n = PyTuple_GET_SIZE(items);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (bpy_text_get(PyTuple_GET_ITEM(items, i), &texts[i]) < 0) {
            while (i-- > 0)
                bpy_text_release(&texts[i]);
            return -1;
        }
        bytes[i] = texts[i].bytes;
        lens[i] = (size_t)texts[i].len;
    }
    return 0;
}

PyObject *bpy_model_add_special_tokens(bpy_model *self, PyObject *tokens)
{
    /* A str is iterable too: taken as a list it would add each of its characters. */
    if (PyUnicode_Check(tokens) || PyObject_CheckBuffer(tokens))
        return PyErr_Format(PyExc_TypeError,
                            "tokens is a list of str or bytes, not one %.100s (write [token])",
                            Py_TYPE(tokens)->tp_name);
    PyObject *items = PySequence_Tuple(tokens);
    if (items == NULL)
        return NULL;
    size_t n = (size_t)PyTuple_GET_SIZE(items);
    bpy_text *texts = PyMem_Calloc(n ? n : 1, sizeof *texts);
    const char **bytes = PyMem_Calloc(n ? n : 1, sizeof *bytes);
    size_t *lens = PyMem_Calloc(n ? n : 1, sizeof *lens);
    PyObject *result = NULL;
    if (texts == NULL || bytes == NULL || lens == NULL) {
        PyErr_NoMemory();
    } else if (tokens_get(items, texts, bytes, lens) == 0) {
        bp_model *model = NULL;
        bp_error err;
        bp_status st;
        /* The automaton is built anew: long enough for other threads to run meanwhile. */
        Py_BEGIN_ALLOW_THREADS
        st = bp_model_add_special(self->model, bytes, lens, n, &model, &err);
        Py_END_ALLOW_THREADS
        for (size_t i = 0; i < n; i++)
            bpy_text_release(&texts[i]);
        result = st == BP_OK ? bpy_model_wrap(model) : bpy_raise(st, &err);
    }
    PyMem_Free(texts);
    PyMem_Free(bytes);
    PyMem_Free(lens);
    Py_DECREF(items);
    return result;
}

int bpy_ids_drop_special(const bp_model *model, bpy_ids *ids)
{
    if (bp_model_special_count(model) == 0)
        return 0;
    ids->kept = PyMem_Malloc(ids->n ? ids->n * sizeof *ids->kept : 1);
    if (ids->kept == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t i = 0; i < ids->n; i++)
        ids->kept[i] = ids->ids[i];
    ids->given = ids->ids;
    ids->n_given = ids->n;
    ids->n = bp_ids_drop_special(model, ids->kept, ids->n);
    ids->ids = ids->kept;
    return 0;
}
