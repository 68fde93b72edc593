/*
 * array.c -- libbytepiece.Array: token ids (uint32, format 'I') or offsets (size_t) as a
 * flat array with the buffer protocol, so that numpy.frombuffer, torch.frombuffer and
 * memoryview see the library's memory without a copy.
 */
#include <string.h>

#include "bp_python.h"

static size_t item_size(char format)
{
    return format == 'I' ? sizeof(uint32_t) : sizeof(size_t);
}

static bpy_array *array_alloc(size_t n, char format, int inline_items)
{
    size_t bytes = inline_items ? n * item_size(format) : 0;
    bpy_array *a = PyObject_NewVar(bpy_array, &bpy_array_type, (Py_ssize_t)bytes);
    if (a == NULL)
        return NULL;
    a->items = a->inline_items;
    a->n = (Py_ssize_t)n;
    a->owner = NULL;
    a->format = format;
    return a;
}

static PyObject *array_copy(const void *items, size_t n, char format)
{
    if (n > (size_t)PY_SSIZE_T_MAX / 8)
        return PyErr_NoMemory();
    bpy_array *a = array_alloc(n, format, 1);
    if (a != NULL && n > 0)
        memcpy(a->items, items, n * item_size(format));
    return (PyObject *)a;
}

PyObject *bpy_ids_copy(const uint32_t *ids, size_t n)
{
    return array_copy(ids, n, 'I');
}

PyObject *bpy_offsets_copy(const size_t *offsets, size_t n)
{
    return array_copy(offsets, n, BPY_SIZE_FORMAT);
}

PyObject *bpy_array_view(PyObject *owner, void *items, size_t n, char format)
{
    bpy_array *a = array_alloc(n, format, 0);
    if (a == NULL)
        return NULL;
    a->items = items;
    a->owner = Py_NewRef(owner);
    return (PyObject *)a;
}

static void array_dealloc(bpy_array *a)
{
    Py_XDECREF(a->owner);
    Py_TYPE(a)->tp_free((PyObject *)a);
}

static Py_ssize_t array_length(bpy_array *a)
{
    return a->n;
}

static PyObject *array_item(bpy_array *a, Py_ssize_t i)
{
    if (i < 0 || i >= a->n) {
        PyErr_SetString(PyExc_IndexError, "index out of range");
        return NULL;
    }
    if (a->format == 'I')
        return PyLong_FromUnsignedLong(((const uint32_t *)a->items)[i]);
    return PyLong_FromSize_t(((const size_t *)a->items)[i]);
}

static PyObject *array_tolist(bpy_array *a, PyObject *unused)
{
    (void)unused;
    PyObject *list = PyList_New(a->n);
    for (Py_ssize_t i = 0; list != NULL && i < a->n; i++) {
        PyObject *v = array_item(a, i);
        if (v == NULL)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, i, v);
    }
    return list;
}

/* Equal to another Array, or to any sequence, item by item (so `ids == [5, 6]` reads
 * naturally in tests and user code). */
static PyObject *array_richcompare(bpy_array *a, PyObject *other, int op)
{
    if (op != Py_EQ && op != Py_NE)
        Py_RETURN_NOTIMPLEMENTED;
    if (!PySequence_Check(other))
        Py_RETURN_NOTIMPLEMENTED;
    PyObject *mine = array_tolist(a, NULL);
    PyObject *theirs = mine == NULL ? NULL : PySequence_List(other);
    PyObject *result = theirs == NULL ? NULL : PyObject_RichCompare(mine, theirs, op);
    Py_XDECREF(mine);
    Py_XDECREF(theirs);
    return result;
}

static PyObject *array_repr(bpy_array *a)
{
    PyObject *list = array_tolist(a, NULL);
    if (list == NULL)
        return NULL;
    PyObject *r = PyUnicode_FromFormat("Array('%c', %R)", a->format, list);
    Py_DECREF(list);
    return r;
}

static int array_getbuffer(bpy_array *a, Py_buffer *view, int flags)
{
    static char formats[2][2] = {"I", {BPY_SIZE_FORMAT, '\0'}};
    int rc = PyBuffer_FillInfo(view, (PyObject *)a, a->items,
                               a->n * (Py_ssize_t)item_size(a->format), 0, flags);
    if (rc < 0)
        return rc;
    view->itemsize = (Py_ssize_t)item_size(a->format);
    view->format = (flags & PyBUF_FORMAT) ? formats[a->format != 'I'] : NULL;
    if (flags & PyBUF_ND) {
        view->ndim = 1;
        view->shape = &a->n;
    }
    if ((flags & PyBUF_STRIDES) == PyBUF_STRIDES)
        view->strides = &view->itemsize;
    return 0;
}

static PyObject *array_get_itemsize(bpy_array *a, void *unused)
{
    (void)unused;
    return PyLong_FromSize_t(item_size(a->format));
}

static PyObject *array_get_typecode(bpy_array *a, void *unused)
{
    (void)unused;
    return PyUnicode_FromStringAndSize(&a->format, 1);
}

static PySequenceMethods array_as_sequence = {
    .sq_length = (lenfunc)array_length,
    .sq_item = (ssizeargfunc)array_item,
};

static PyBufferProcs array_as_buffer = {
    .bf_getbuffer = (getbufferproc)array_getbuffer,
};

static PyMethodDef array_methods[] = {
    {"tolist", (PyCFunction)array_tolist, METH_NOARGS, "tolist() -> list[int]: the items as a list."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef array_getset[] = {
    {"typecode", (getter)array_get_typecode, NULL, "'I' for ids (uint32), 'Q' for offsets (size_t).", NULL},
    {"itemsize", (getter)array_get_itemsize, NULL, "bytes per item (4 for ids).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject bpy_array_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "libbytepiece.Array",
    .tp_doc = "Token ids (typecode 'I', uint32) or offsets (typecode 'Q', size_t) as a flat\n"
              "array: len(), indexing, iteration, tolist(), == against any sequence, and the\n"
              "buffer protocol, so numpy.frombuffer(a, numpy.uint32), torch.frombuffer and\n"
              "memoryview(a) share its memory without a copy. Arrays are made by the library,\n"
              "not by the user.",
    .tp_basicsize = offsetof(bpy_array, inline_items),
    .tp_itemsize = 1,
    .tp_dealloc = (destructor)array_dealloc,
    .tp_repr = (reprfunc)array_repr,
    .tp_as_sequence = &array_as_sequence,
    .tp_as_buffer = &array_as_buffer,
    .tp_richcompare = (richcmpfunc)array_richcompare,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_methods = array_methods,
    .tp_getset = array_getset,
};
