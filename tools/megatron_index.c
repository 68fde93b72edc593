/*
 * megatron_index.c -- the index of a Megatron-LM indexed dataset (see megatron_index.h and
 * docs/formats.md, section 4). Numbers are read and written byte by byte, little-endian,
 * so that the files are the same on any machine.
 */
#include <stdlib.h>
#include <string.h>

#include "megatron_index.h"

static const unsigned char magic[9] = {'M', 'M', 'I', 'D', 'I', 'D', 'X', 0, 0};

/* Megatron-LM's numbering of numpy dtypes; 0 is none. */
static const struct {
    const char *name;
    unsigned char size;
} dtypes[9] = {{"unknown", 0}, {"uint8", 1},   {"int8", 1},    {"int16", 2},  {"int32", 4},
               {"int64", 8},   {"float64", 8}, {"float32", 4}, {"uint16", 2}};

size_t megatron_dtype_size(unsigned code)
{
    return code < sizeof dtypes / sizeof dtypes[0] ? dtypes[code].size : 0;
}

const char *megatron_dtype_name(unsigned code)
{
    return dtypes[megatron_dtype_size(code) ? code : 0].name;
}

/* Makes *array (of *cap elements of `size` bytes) hold `need`. @return false when out of
 * memory (the array is as it was). */
static bool reserve(void *array_ptr, uint64_t *cap, uint64_t need, size_t size)
{
    if (need <= *cap)
        return true;
    uint64_t new_cap = *cap < 1024 ? 1024 : *cap * 2;
    if (new_cap < need)
        new_cap = need;
    if (new_cap > SIZE_MAX / size)
        return false;
    void **array = array_ptr;
    void *grown = realloc(*array, (size_t)new_cap * size);
    if (grown == NULL)
        return false;
    *array = grown;
    *cap = new_cap;
    return true;
}

bool megatron_index_init(megatron_index *ix, uint8_t code)
{
    *ix = (megatron_index){.dtype = code};
    if (!reserve(&ix->doc_index, &ix->doc_index_cap, 1, sizeof *ix->doc_index))
        return false;
    ix->doc_index[ix->n_doc_index++] = 0;
    return true;
}

bool megatron_index_add(megatron_index *ix, uint64_t n_tokens)
{
    if (n_tokens > INT32_MAX) {
        ix->too_long = true;
        return true;
    }
    if (!reserve(&ix->lengths, &ix->lengths_cap, ix->n_sequences + 1, sizeof *ix->lengths) ||
        !reserve(&ix->doc_index, &ix->doc_index_cap, ix->n_doc_index + 1,
                 sizeof *ix->doc_index))
        return false;
    ix->lengths[ix->n_sequences++] = (uint32_t)n_tokens;
    ix->doc_index[ix->n_doc_index++] = ix->n_sequences;
    ix->tokens += n_tokens;
    return true;
}

uint64_t megatron_bin_bytes(const megatron_index *ix)
{
    return ix->tokens * megatron_dtype_size(ix->dtype);
}

/*------ Reading ------*/

static uint64_t get_le(const unsigned char *p, unsigned width)
{
    uint64_t v = 0;
    for (unsigned b = width; b-- > 0;)
        v = v << 8 | p[b];
    return v;
}

/* The sequence lengths and pointers, from `p` (lengths then pointers). */
static const char *parse_sequences(const unsigned char *p, megatron_index *ix, uint64_t n)
{
    const unsigned char *pointers = p + 4 * n;
    size_t token_size = megatron_dtype_size(ix->dtype);
    if (!reserve(&ix->lengths, &ix->lengths_cap, n, sizeof *ix->lengths))
        return "out of memory";
    for (uint64_t i = 0; i < n; i++) {
        uint64_t length = get_le(p + 4 * i, 4);
        if (length > INT32_MAX)
            return "a sequence length is negative";
        if (ix->tokens > UINT64_MAX / 16) /* so that the byte counts below cannot wrap */
            return "the sequences hold too many tokens";
        if (get_le(pointers + 8 * i, 8) != ix->tokens * token_size)
            return "the sequence pointers do not lay the sequences end to end from 0";
        ix->lengths[i] = (uint32_t)length;
        ix->tokens += length;
    }
    ix->n_sequences = n;
    return NULL;
}

static const char *parse_documents(const unsigned char *p, megatron_index *ix, uint64_t n)
{
    if (n == 0)
        return "the document index is empty (it starts with 0)";
    if (!reserve(&ix->doc_index, &ix->doc_index_cap, n, sizeof *ix->doc_index))
        return "out of memory";
    for (uint64_t d = 0; d < n; d++) {
        uint64_t at = get_le(p + 8 * d, 8);
        if (d == 0 ? at != 0 : at < ix->doc_index[d - 1])
            return "the document index does not start at 0 and go up";
        ix->doc_index[d] = at;
    }
    ix->n_doc_index = n;
    if (ix->doc_index[n - 1] != ix->n_sequences)
        return "the document index does not end at the sequence count";
    return NULL;
}

const char *megatron_index_parse(const unsigned char *bytes, size_t len, megatron_index *ix)
{
    *ix = (megatron_index){0};
    if (len < MEGATRON_HEADER_BYTES)
        return "truncated index (shorter than its header)";
    if (memcmp(bytes, magic, sizeof magic) != 0)
        return "not a Megatron index (no MMIDIDX magic)";
    if (get_le(bytes + 9, 8) != 1)
        return "a Megatron index of a version other than 1";
    ix->dtype = bytes[17];
    if (megatron_dtype_size(ix->dtype) == 0)
        return "unknown token dtype code";
    uint64_t n_sequences = get_le(bytes + 18, 8), n_doc_index = get_le(bytes + 26, 8);
    uint64_t room = len - MEGATRON_HEADER_BYTES;
    if (n_sequences > room / 12 || n_doc_index > (room - 12 * n_sequences) / 8)
        return "truncated index (shorter than its counts say)";
    if (12 * n_sequences + 8 * n_doc_index != room)
        return "the index is longer than its counts say";
    const char *bad = parse_sequences(bytes + MEGATRON_HEADER_BYTES, ix, n_sequences);
    return bad ? bad
               : parse_documents(bytes + MEGATRON_HEADER_BYTES + 12 * n_sequences, ix,
                                 n_doc_index);
}

/*------ Merging ------*/

const char *megatron_index_append(megatron_index *into, const megatron_index *from)
{
    if (into->dtype != from->dtype)
        return "the token dtypes differ";
    uint64_t n_sequences = into->n_sequences + from->n_sequences;
    uint64_t n_doc_index = into->n_doc_index + from->n_doc_index - 1; /* one leading 0 */
    if (!reserve(&into->lengths, &into->lengths_cap, n_sequences, sizeof *into->lengths) ||
        !reserve(&into->doc_index, &into->doc_index_cap, n_doc_index, sizeof *into->doc_index))
        return "out of memory";
    if (from->n_sequences > 0)
        memcpy(into->lengths + into->n_sequences, from->lengths,
               (size_t)from->n_sequences * sizeof *from->lengths);
    for (uint64_t d = 1; d < from->n_doc_index; d++)
        into->doc_index[into->n_doc_index++] = into->n_sequences + from->doc_index[d];
    into->n_sequences = n_sequences;
    into->tokens += from->tokens;
    return NULL;
}

/*------ Writing ------*/

static void put_le(unsigned char *p, uint64_t v, unsigned width)
{
    for (unsigned b = 0; b < width; b++)
        p[b] = (unsigned char)(v >> 8 * b);
}

/* Writes `n` values from values(ix, i) in `width` bytes each, a few thousand per fwrite. */
static bool write_array(FILE *fp, const megatron_index *ix, uint64_t n, unsigned width,
                        uint64_t (*value)(const megatron_index *, uint64_t, uint64_t *))
{
    enum { GROUP = 4096 };
    unsigned char buf[GROUP * 8];
    uint64_t running = 0; /* what value() carries from one element to the next */
    for (uint64_t i = 0; i < n;) {
        size_t used = 0;
        for (; i < n && used < sizeof buf; i++, used += width)
            put_le(buf + used, value(ix, i, &running), width);
        if (fwrite(buf, 1, used, fp) != used)
            return false;
    }
    return true;
}

static uint64_t length_at(const megatron_index *ix, uint64_t i, uint64_t *running)
{
    (void)running;
    return ix->lengths[i];
}

static uint64_t pointer_at(const megatron_index *ix, uint64_t i, uint64_t *bytes_before)
{
    uint64_t pointer = *bytes_before;
    *bytes_before += ix->lengths[i] * megatron_dtype_size(ix->dtype);
    return pointer;
}

static uint64_t doc_index_at(const megatron_index *ix, uint64_t d, uint64_t *running)
{
    (void)running;
    return ix->doc_index[d];
}

bool megatron_index_write(const megatron_index *ix, FILE *fp)
{
    unsigned char header[MEGATRON_HEADER_BYTES];
    memcpy(header, magic, sizeof magic);
    put_le(header + 9, 1, 8);
    header[17] = ix->dtype;
    put_le(header + 18, ix->n_sequences, 8);
    put_le(header + 26, ix->n_doc_index, 8);
    return fwrite(header, 1, sizeof header, fp) == sizeof header &&
           write_array(fp, ix, ix->n_sequences, 4, length_at) &&
           write_array(fp, ix, ix->n_sequences, 8, pointer_at) &&
           write_array(fp, ix, ix->n_doc_index, 8, doc_index_at);
}

void megatron_index_free(megatron_index *ix)
{
    free(ix->lengths);
    free(ix->doc_index);
    *ix = (megatron_index){0};
}
