/*
 * errors.c -- libbytepiece.Error: every failure of the C library, with its message.
 */
#include <string.h>

#include "bp_python.h"

PyObject *bpy_error_type;

int bpy_module_init_errors(PyObject *module)
{
    bpy_error_type = PyErr_NewExceptionWithDoc(
        "libbytepiece.Error",
        "A call of the C library failed. str(e) is the library's message (naming the file\n"
        "and the problem); e.code is the bp_status number, e.name its bp_strerror() text,\n"
        "e.offset the position the library reported (byte offset, index of an id or of a\n"
        "text), or None.",
        NULL, NULL);
    if (bpy_error_type == NULL)
        return -1;
    Py_INCREF(bpy_error_type);
    if (PyModule_AddObject(module, "Error", bpy_error_type) < 0) {
        Py_DECREF(bpy_error_type);
        return -1;
    }
    return 0;
}

static int set_attr(PyObject *obj, const char *name, PyObject *value)
{
    if (value == NULL)
        return -1;
    int rc = PyObject_SetAttrString(obj, name, value);
    Py_DECREF(value);
    return rc;
}

PyObject *bpy_raise(bp_status status, const bp_error *err)
{
    const char *message = err != NULL && err->message[0] != '\0' ? err->message
                                                                 : bp_strerror(status);
    /* A file name in the message need not be UTF-8. */
    PyObject *text = PyUnicode_DecodeUTF8(message, (Py_ssize_t)strlen(message), "backslashreplace");
    PyObject *exc = text ? PyObject_CallOneArg(bpy_error_type, text) : NULL;
    Py_XDECREF(text);
    if (exc == NULL)
        return NULL;
    PyObject *offset = err == NULL || err->offset == UINT64_MAX
                           ? Py_NewRef(Py_None)
                           : PyLong_FromUnsignedLongLong(err->offset);
    if (set_attr(exc, "code", PyLong_FromLong((long)status)) == 0 &&
        set_attr(exc, "name", PyUnicode_FromString(bp_strerror(status))) == 0 &&
        set_attr(exc, "offset", offset) == 0)
        PyErr_SetObject(bpy_error_type, exc);
    Py_DECREF(exc);
    return NULL;
}
