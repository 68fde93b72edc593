/*
 * module.c -- the extension module libbytepiece._core: its types, train() and version.
 * The package libbytepiece (python/libbytepiece/__init__.py) re-exports it.
 */
#include "bp_python.h"

static PyMethodDef module_functions[] = {
    {"train", (PyCFunction)(void (*)(void))bpy_train, METH_VARARGS | METH_KEYWORDS,
     "train(files, vocab_size=10000, *, order=6, min_count=2, max_piece_length=36,\n"
     "      isolate_digits=False, ensure_unicode=True, threads=0, jsonl=False,\n"
     "      field='text', skip_bad_lines=False, temp_dir=None) -> Model | list[Model]"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "libbytepiece._core",
    .m_doc = "The C extension under libbytepiece: use the package libbytepiece.",
    .m_size = -1,
    .m_methods = module_functions,
};

static int add_type(PyObject *module, const char *name, PyTypeObject *type)
{
    if (PyType_Ready(type) < 0)
        return -1;
    Py_INCREF(type);
    if (PyModule_AddObject(module, name, (PyObject *)type) < 0) {
        Py_DECREF(type);
        return -1;
    }
    return 0;
}

PyMODINIT_FUNC PyInit__core(void)
{
    PyObject *module = PyModule_Create(&module_def);
    if (module == NULL)
        return NULL;
    if (bpy_module_init_errors(module) < 0 || add_type(module, "Model", &bpy_model_type) < 0 ||
        add_type(module, "Array", &bpy_array_type) < 0 ||
        add_type(module, "Batch", &bpy_batch_type) < 0 ||
        add_type(module, "StreamDecoder", &bpy_stream_decoder_type) < 0 ||
        PyModule_AddStringConstant(module, "library_version", bp_version_string()) < 0 ||
        PyModule_AddStringConstant(module, "unicode_version", bp_unicode_version()) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
