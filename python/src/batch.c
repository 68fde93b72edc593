/*
 * batch.c -- Model.encode_batch() and libbytepiece.Batch, its result: many texts encoded
 * by the C batch encoder with the GIL released, the ids of all of them in one array.
 */
#include <unistd.h>

#include "bp_python.h"

typedef struct bpy_batch {
    PyObject_HEAD
    bp_batch batch;
} bpy_batch;

/* The texts of one call, held for as long as the GIL is released: `items` keeps every
 * text object alive (a tuple, which no other thread can change), `keep` the bytes copies
 * of texts that were neither str nor bytes. */
typedef struct batch_input {
    PyObject *items;
    PyObject *keep;
    const void **texts;
    size_t *lens;
    size_t n;
} batch_input;

static void input_release(batch_input *in)
{
    Py_XDECREF(in->items);
    Py_XDECREF(in->keep);
    PyMem_Free(in->texts);
    PyMem_Free(in->lens);
}

/* The bytes of text i: a str's cached UTF-8, a bytes object's own, else a bytes copy. */
static int input_text(batch_input *in, Py_ssize_t i)
{
    PyObject *obj = PyTuple_GET_ITEM(in->items, i);
    Py_ssize_t len;
    if (PyUnicode_Check(obj)) {
        in->texts[i] = PyUnicode_AsUTF8AndSize(obj, &len);
        if (in->texts[i] == NULL)
            return -1;
    } else {
        if (!PyBytes_Check(obj)) {
            obj = PyBytes_FromObject(obj);
            if (obj == NULL || PyList_Append(in->keep, obj) < 0) {
                Py_XDECREF(obj);
                return PyErr_Format(PyExc_TypeError, "texts[%zd] is not a str or bytes-like", i),
                       -1;
            }
            Py_DECREF(obj);
        }
        in->texts[i] = PyBytes_AS_STRING(obj);
        len = PyBytes_GET_SIZE(obj);
    }
    in->lens[i] = (size_t)len;
    return 0;
}

static int input_get(PyObject *texts, batch_input *in)
{
    *in = (batch_input){0};
    in->items = PySequence_Tuple(texts);
    if (in->items == NULL)
        return -1;
    Py_ssize_t n = PyTuple_GET_SIZE(in->items);
    in->n = (size_t)n;
    in->keep = PyList_New(0);
    in->texts = PyMem_Malloc((size_t)(n > 0 ? n : 1) * sizeof *in->texts);
    in->lens = PyMem_Malloc((size_t)(n > 0 ? n : 1) * sizeof *in->lens);
    if (in->keep == NULL || in->texts == NULL || in->lens == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        if (input_text(in, i) < 0)
            return -1;
    return 0;
}

static unsigned online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 1024 ? 1024 : (unsigned)n;
}

/* Encodes on `threads` busy threads, as `bp encode --threads N` does: one thread encodes
 * on the calling thread alone; more start threads - 1 threads of the model's job, and this
 * thread joins them while it waits. A second Python thread that finds the job busy encodes
 * on its own (bp_encode_batch), so that concurrent calls never wait for one another. */
static bp_status run_batch(bpy_model *self, const batch_input *in, bp_batch_options *opts,
                           unsigned threads, bp_batch *out, bp_error *err)
{
    bp_status st = BP_OK;
    int use_job = threads > 1 && !self->job_busy;
    if (use_job && self->job == NULL)
        st = bp_batch_job_create(self->model, &self->job, err);
    if (st != BP_OK)
        return st;
    bp_batch_job *job = use_job ? self->job : NULL;
    self->job_busy |= use_job;
    opts->threads = use_job ? threads - 1 : threads;
    Py_BEGIN_ALLOW_THREADS
    if (job != NULL) {
        st = bp_encode_batch_start(job, in->texts, in->lens, in->n, opts, err);
        if (st == BP_OK)
            st = bp_encode_batch_finish(job, out, err);
    } else {
        st = bp_encode_batch(self->model, in->texts, in->lens, in->n, opts, out, err);
    }
    Py_END_ALLOW_THREADS
    if (use_job)
        self->job_busy = 0;
    return st;
}

PyObject *bpy_model_encode_batch(bpy_model *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"texts", "threads", "alpha", "seed", "first_index", "bos",
                               "eos", "normalize", "offsets", "special", NULL};
    PyObject *texts, *alpha_obj = Py_None, *seed_obj = Py_None, *first_obj = NULL;
    Py_ssize_t threads = 0;
    int bos = 0, eos = 0, normalize = 1, offsets = 0, special = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|$nOOOppppp:encode_batch", keywords,
                                     &texts, &threads, &alpha_obj, &seed_obj, &first_obj, &bos,
                                     &eos, &normalize, &offsets, &special))
        return NULL;
    double alpha;
    uint64_t seed, first_index = 0;
    int sampling;
    if (bpy_sampling_args(alpha_obj, seed_obj, &alpha, &seed, &sampling) < 0 ||
        (first_obj != NULL && bpy_u64_arg(first_obj, "first_index", &first_index) < 0))
        return NULL;
    if (threads < 0 || threads > 1024)
        return PyErr_Format(PyExc_ValueError, "threads must be from 0 to 1024, not %zd", threads);
    bp_batch_options opts = {
        .alpha = alpha,
        .flags = bpy_encode_flags(bos, eos, normalize, special) |
                 (sampling ? BP_ENCODE_SAMPLE : 0u) |
                 (offsets ? BP_ENCODE_OFFSETS : 0u),
        .seed = seed,
        .first_stream = first_index};
    batch_input in;
    bpy_batch *result = NULL;
    if (input_get(texts, &in) == 0)
        result = PyObject_New(bpy_batch, &bpy_batch_type);
    if (result != NULL) {
        result->batch = (bp_batch){0};
        bp_error err;
        bp_status st = run_batch(self, &in, &opts, threads ? (unsigned)threads : online_cpus(),
                                 &result->batch, &err);
        if (st != BP_OK) {
            Py_CLEAR(result);
            bpy_raise(st, &err);
        }
    }
    input_release(&in);
    return (PyObject *)result;
}

/*------ Batch ------*/

static void batch_dealloc(bpy_batch *self)
{
    bp_batch_free(&self->batch);
    PyObject_Free(self);
}

static Py_ssize_t batch_length(bpy_batch *self)
{
    return (Py_ssize_t)self->batch.n_texts;
}

static int text_index(bpy_batch *self, Py_ssize_t i)
{
    if (i < 0 || (size_t)i >= self->batch.n_texts) {
        PyErr_SetString(PyExc_IndexError, "text index out of range");
        return -1;
    }
    return 0;
}

static PyObject *batch_item(bpy_batch *self, Py_ssize_t i)
{
    if (text_index(self, i) < 0)
        return NULL;
    const bp_batch *b = &self->batch;
    return bpy_array_view((PyObject *)self, b->ids + b->ids_begin[i],
                          b->ids_begin[i + 1] - b->ids_begin[i], 'I');
}

static PyObject *batch_offsets_of(bpy_batch *self, PyObject *arg)
{
    Py_ssize_t i = PyNumber_AsSsize_t(arg, PyExc_IndexError);
    if ((i == -1 && PyErr_Occurred()) || text_index(self, i) < 0)
        return NULL;
    const bp_batch *b = &self->batch;
    if (b->offsets == NULL)
        return PyErr_Format(PyExc_ValueError, "the batch was encoded without offsets=True");
    return bpy_array_view((PyObject *)self, b->offsets + b->ids_begin[i],
                          b->ids_begin[i + 1] - b->ids_begin[i], BPY_SIZE_FORMAT);
}

static PyObject *batch_tolist(bpy_batch *self, PyObject *unused)
{
    (void)unused;
    PyObject *list = PyList_New((Py_ssize_t)self->batch.n_texts);
    for (size_t i = 0; list != NULL && i < self->batch.n_texts; i++) {
        PyObject *view = batch_item(self, (Py_ssize_t)i);
        PyObject *ids = view == NULL ? NULL : PySequence_List(view);
        Py_XDECREF(view);
        if (ids == NULL)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, (Py_ssize_t)i, ids);
    }
    return list;
}

static PyObject *batch_ids(bpy_batch *self, void *unused)
{
    (void)unused;
    const bp_batch *b = &self->batch;
    return bpy_array_view((PyObject *)self, b->ids, b->ids_begin[b->n_texts], 'I');
}

static PyObject *batch_begins(bpy_batch *self, void *unused)
{
    (void)unused;
    return bpy_array_view((PyObject *)self, self->batch.ids_begin, self->batch.n_texts + 1,
                          BPY_SIZE_FORMAT);
}

static PyObject *batch_offsets(bpy_batch *self, void *unused)
{
    (void)unused;
    const bp_batch *b = &self->batch;
    if (b->offsets == NULL)
        Py_RETURN_NONE;
    return bpy_array_view((PyObject *)self, b->offsets, b->ids_begin[b->n_texts],
                          BPY_SIZE_FORMAT);
}

static PySequenceMethods batch_as_sequence = {
    .sq_length = (lenfunc)batch_length,
    .sq_item = (ssizeargfunc)batch_item,
};

static PyMethodDef batch_methods[] = {
    {"tolist", (PyCFunction)batch_tolist, METH_NOARGS,
     "tolist() -> list[list[int]]: the ids of every text as lists."},
    {"offsets_of", (PyCFunction)batch_offsets_of, METH_O,
     "offsets_of(i) -> Array: the byte where each token of text i starts in that text as\n"
     "passed in (a str: in its UTF-8), before NFC (encode_batch(..., offsets=True) only)."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef batch_getset[] = {
    {"ids", (getter)batch_ids, NULL, "The ids of all texts, text after text (an Array view).", NULL},
    {"begins", (getter)batch_begins, NULL,
     "len(batch) + 1 positions: text i is ids[begins[i]:begins[i + 1]].", NULL},
    {"offsets", (getter)batch_offsets, NULL,
     "With offsets=True, the offsets of all tokens, parallel to ids; else None.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject bpy_batch_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "libbytepiece.Batch",
    .tp_doc = "The result of Model.encode_batch(): batch[i] is the ids of text i, an Array\n"
              "that views the batch's memory (no copy; it keeps the batch alive); batch.ids\n"
              "all ids in one Array, batch.begins where each text starts.",
    .tp_basicsize = sizeof(bpy_batch),
    .tp_dealloc = (destructor)batch_dealloc,
    .tp_as_sequence = &batch_as_sequence,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_methods = batch_methods,
    .tp_getset = batch_getset,
};
