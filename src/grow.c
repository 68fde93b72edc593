/*
 * grow.c -- the one way the library grows an array: geometrically, so that appending
 * element by element costs amortized constant time, and without losing the old block when
 * the allocation fails.
 */
#include <stdlib.h>

#include "bp_internal.h"

#define MIN_ELEMENTS 64 /* the first allocation */

void *bp_grow(void *mem, size_t *cap, size_t need, size_t size)
{
    if (*cap > 0 && need <= *cap)
        return mem;
    if (size == 0 || need > SIZE_MAX / size)
        return NULL;
    size_t new_cap = *cap <= SIZE_MAX / 2 / size ? 2 * *cap : need;
    if (new_cap < need)
        new_cap = need;
    if (new_cap < MIN_ELEMENTS && MIN_ELEMENTS <= SIZE_MAX / size)
        new_cap = MIN_ELEMENTS;
    void *p = realloc(mem, new_cap * size);
    if (p)
        *cap = new_cap;
    return p;
}
