/*
 * train.c -- _core.train(): the trainer over files, with the options of `bp train` (the
 * package's train() adds writing the models).
 */
#include <stdlib.h>

#include "bp_python.h"

/* The paths of `files` (one path, or an iterable of them) as a list of bytes. */
static PyObject *file_paths(PyObject *files)
{
    int one_path = PyUnicode_Check(files) || PyBytes_Check(files) ||
                   PyObject_HasAttrString(files, "__fspath__");
    PyObject *seq = one_path ? Py_BuildValue("(O)", files)
                             : PySequence_Fast(files, "files must be a path or a list of paths");
    if (seq == NULL)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject *paths = PyList_New(n);
    for (Py_ssize_t i = 0; paths != NULL && i < n; i++) {
        PyObject *path = NULL;
        if (!PyUnicode_FSConverter(PySequence_Fast_GET_ITEM(seq, i), &path))
            Py_CLEAR(paths);
        else
            PyList_SET_ITEM(paths, i, path);
    }
    Py_DECREF(seq);
    return paths;
}

/* The vocabulary sizes: one int, or a sequence of them. */
static int vocab_sizes(PyObject *obj, size_t **sizes, size_t *n)
{
    PyObject *seq = PyLong_Check(obj) ? Py_BuildValue("(O)", obj)
                                      : PySequence_Fast(obj, "vocab_size must be an int or a list of ints");
    if (seq == NULL)
        return -1;
    *n = (size_t)PySequence_Fast_GET_SIZE(seq);
    *sizes = PyMem_Malloc(*n ? *n * sizeof **sizes : 1);
    int rc = *sizes == NULL || *n == 0 ? -1 : 0;
    if (*n == 0)
        PyErr_SetString(PyExc_ValueError, "vocab_size is an empty list");
    for (size_t i = 0; rc == 0 && i < *n; i++) {
        (*sizes)[i] = PyLong_AsSize_t(PySequence_Fast_GET_ITEM(seq, (Py_ssize_t)i));
        if (PyErr_Occurred())
            rc = -1;
    }
    Py_DECREF(seq);
    return rc;
}

/* Reads every file into the trainer and trains (no Python object is touched). */
static bp_status train_files(const bp_train_options *o, PyObject *paths, int jsonl,
                             const char *field, const size_t *sizes, size_t n_sizes,
                             bp_model **models, bp_error *err)
{
    bp_trainer *trainer = NULL;
    bp_status st = bp_trainer_create(o, &trainer, err);
    for (Py_ssize_t i = 0; st == BP_OK && i < PyList_GET_SIZE(paths); i++) {
        bp_text_input *in = NULL;
        st = bp_text_input_open(PyBytes_AS_STRING(PyList_GET_ITEM(paths, i)),
                                jsonl ? BP_INPUT_JSONL : BP_INPUT_PLAIN, field,
                                o->skip_bad_lines ? BP_INPUT_SKIP_BAD_LINES : 0u, &in, err);
        if (st == BP_OK)
            st = bp_trainer_add_input(trainer, in, err);
        bp_text_input_close(in);
    }
    if (st == BP_OK)
        st = bp_trainer_train(trainer, sizes, n_sizes, models, err);
    bp_trainer_free(trainer);
    return st;
}

PyObject *bpy_train(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"files", "vocab_size", "order", "min_count", "max_piece_length",
                               "isolate_digits", "ensure_unicode", "threads", "jsonl", "field",
                               "skip_bad_lines", "temp_dir", NULL};
    PyObject *files, *sizes_obj = NULL, *temp_dir = NULL;
    bp_train_options o;
    bp_train_options_init(&o);
    unsigned long long min_count = o.min_count;
    Py_ssize_t max_piece_length = (Py_ssize_t)o.max_piece_length;
    int ensure_unicode = 1, jsonl = 0;
    const char *field = "text";
    (void)module;
    if (!PyArg_ParseTupleAndKeywords(
            args, kwargs, "O|O$IKnppIpspO&:train", keywords, &files, &sizes_obj, &o.order,
            &min_count, &max_piece_length, &o.isolate_digits, &ensure_unicode, &o.threads, &jsonl,
            &field, &o.skip_bad_lines, PyUnicode_FSConverter, &temp_dir))
        return NULL;
    o.min_count = min_count;
    o.max_piece_length = max_piece_length > 0 ? (size_t)max_piece_length : 0;
    o.no_ensure_unicode = !ensure_unicode;
    o.temp_dir = temp_dir ? PyBytes_AS_STRING(temp_dir) : NULL;
    PyObject *default_size = PyLong_FromLong(10000), *result = NULL;
    PyObject *paths = file_paths(files);
    size_t *sizes = NULL, n_sizes = 0;
    bp_model **models = NULL;
    if (paths != NULL && vocab_sizes(sizes_obj ? sizes_obj : default_size, &sizes, &n_sizes) == 0 &&
        (models = PyMem_Calloc(n_sizes, sizeof *models)) != NULL) {
        bp_error err;
        bp_status st;
        Py_BEGIN_ALLOW_THREADS
        st = train_files(&o, paths, jsonl, field, sizes, n_sizes, models, &err);
        Py_END_ALLOW_THREADS
        result = st == BP_OK ? PyList_New((Py_ssize_t)n_sizes) : bpy_raise(st, &err);
        for (size_t i = 0; i < n_sizes; i++) {
            if (result == NULL) {
                bp_model_free(models[i]);
                continue;
            }
            PyObject *model = bpy_model_wrap(models[i]); /* which frees it on failure */
            if (model == NULL)
                Py_CLEAR(result);
            else
                PyList_SET_ITEM(result, (Py_ssize_t)i, model);
        }
    }
    if (result != NULL && !PySequence_Check(sizes_obj ? sizes_obj : default_size)) {
        PyObject *only = Py_NewRef(PyList_GET_ITEM(result, 0));
        Py_SETREF(result, only);
    }
    PyMem_Free(models);
    PyMem_Free(sizes);
    Py_XDECREF(paths);
    Py_XDECREF(default_size);
    Py_XDECREF(temp_dir);
    return result;
}
