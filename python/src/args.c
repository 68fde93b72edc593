/*
 * args.c -- turning Python arguments into what the C API takes: texts into bytes, ids into
 * a uint32 array, the encode keywords into flags and a seed.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bp_python.h"

int bpy_text_get(PyObject *obj, bpy_text *text)
{
    text->has_view = 0;
    if (PyUnicode_Check(obj)) {
        text->bytes = PyUnicode_AsUTF8AndSize(obj, &text->len);
        return text->bytes == NULL ? -1 : 0;
    }
    if (PyObject_GetBuffer(obj, &text->view, PyBUF_SIMPLE) < 0) {
        PyErr_Format(PyExc_TypeError, "a text is a str or bytes-like object, not %.100s",
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    text->has_view = 1;
    text->bytes = text->view.buf;
    text->len = text->view.len;
    return 0;
}

void bpy_text_release(bpy_text *text)
{
    if (text->has_view)
        PyBuffer_Release(&text->view);
    text->has_view = 0;
}

/* A buffer the ids can be read from as it is: contiguous, 1-D, unsigned 4-byte items. */
static int is_uint32_buffer(const Py_buffer *view)
{
    const char *f = view->format ? view->format : "B";
    if (*f == '@' || *f == '=' || *f == '<')
        f++;
    return view->ndim == 1 && view->itemsize == 4 && (strcmp(f, "I") == 0 || strcmp(f, "L") == 0);
}

static int ids_from_iterable(PyObject *obj, bpy_ids *ids)
{
    PyObject *seq = PySequence_Fast(obj, "ids must be an Array, a uint32 buffer or a sequence of ints");
    if (seq == NULL)
        return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    ids->owned = PyMem_Malloc(n > 0 ? (size_t)n * sizeof(uint32_t) : 1);
    if (ids->owned == NULL) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return -1;
    }
    PyObject **items = PySequence_Fast_ITEMS(seq);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *index = PyNumber_Index(items[i]); /* numpy's integers too */
        unsigned long long v = index ? PyLong_AsUnsignedLongLong(index) : 0;
        Py_XDECREF(index);
        if (PyErr_Occurred() || v > UINT32_MAX) {
            PyErr_Clear();
            PyErr_Format(PyExc_ValueError, "ids[%zd] is not an id (an int from 0 to 2**32-1)", i);
            Py_DECREF(seq);
            PyMem_Free(ids->owned);
            ids->owned = NULL;
            return -1;
        }
        ids->owned[i] = (uint32_t)v;
    }
    Py_DECREF(seq);
    ids->ids = ids->owned;
    ids->n = (size_t)n;
    return 0;
}

int bpy_ids_get(PyObject *obj, bpy_ids *ids)
{
    ids->owned = NULL;
    ids->has_view = 0;
    ids->given = NULL;
    ids->kept = NULL;
    if (PyObject_CheckBuffer(obj) &&
        PyObject_GetBuffer(obj, &ids->view, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) == 0) {
        if (is_uint32_buffer(&ids->view)) {
            ids->has_view = 1;
            ids->ids = ids->view.buf;
            ids->n = (size_t)(ids->view.len / 4);
            return 0;
        }
        PyBuffer_Release(&ids->view); /* another item type: read its items one by one */
    }
    PyErr_Clear();
    return ids_from_iterable(obj, ids);
}

void bpy_ids_release(bpy_ids *ids)
{
    if (ids->has_view)
        PyBuffer_Release(&ids->view);
    PyMem_Free(ids->owned);
    PyMem_Free(ids->kept);
    ids->has_view = 0;
    ids->owned = NULL;
    ids->kept = NULL;
}

unsigned bpy_encode_flags(int bos, int eos, int normalize, int special)
{
    return (bos ? BP_ENCODE_BOS : 0u) | (eos ? BP_ENCODE_EOS : 0u) |
           (normalize ? 0u : BP_ENCODE_NO_NORMALIZE) | (special ? BP_ENCODE_SPECIAL : 0u);
}

/* A seed nobody chose: the clock mixed with the process id and a counter, so that calls
 * in the same instant differ (the library runs it through splitmix64). */
static uint64_t fresh_seed(void)
{
    static uint64_t calls;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
    return ns ^ ((uint64_t)getpid() * UINT64_C(0x9E3779B97F4A7C15)) ^ (++calls << 48);
}

int bpy_sampling_args(PyObject *alpha_obj, PyObject *seed_obj, double *alpha, uint64_t *seed,
                      int *sampling)
{
    *sampling = alpha_obj != NULL && alpha_obj != Py_None;
    *alpha = 0.0;
    *seed = 0;
    if (*sampling) {
        *alpha = PyFloat_AsDouble(alpha_obj);
        if (*alpha == -1.0 && PyErr_Occurred())
            return -1;
        if (!(*alpha >= 0.0)) {
            PyErr_SetString(PyExc_ValueError, "alpha must be a number >= 0");
            return -1;
        }
    }
    if (seed_obj == NULL || seed_obj == Py_None) {
        *seed = fresh_seed();
        return 0;
    }
    return bpy_u64_arg(seed_obj, "seed", seed);
}

int bpy_u64_arg(PyObject *obj, const char *name, uint64_t *value)
{
    PyObject *index = PyNumber_Index(obj);
    *value = index ? PyLong_AsUnsignedLongLong(index) : 0;
    Py_XDECREF(index);
    if (!PyErr_Occurred())
        return 0;
    PyErr_Clear();
    PyErr_Format(PyExc_ValueError, "%s must be an int from 0 to 2**64-1, not %R", name, obj);
    return -1;
}
