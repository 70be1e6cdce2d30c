/*
 * buf.c - growable byte buffers and arrays (doubling, overflow-checked).
 */
#include "../essay_int.h"

#include <string.h>

int essay_array_grow(void **arr, size_t *cap, size_t need, size_t elem_size)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 8;
    while (n < need) {
        if (n > SIZE_MAX / 2)
            return ESSAY_ENOMEM;
        n *= 2;
    }
    if (n > SIZE_MAX / elem_size)
        return ESSAY_ENOMEM;
    void *p = essay_realloc(*arr, n * elem_size);
    if (!p)
        return ESSAY_ENOMEM;
    *arr = p;
    *cap = n;
    return 0;
}

int essay_buf_grow_slow(essay_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1)
        return ESSAY_ENOMEM;
    /* keep one spare byte so callers can NUL-terminate */
    return essay_array_grow((void **)&b->data, &b->cap, b->len + extra + 1, 1);
}

int essay_buf_put(essay_buf *b, const void *data, size_t len)
{
    if (essay_buf_grow(b, len))
        return ESSAY_ENOMEM;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    return 0;
}

int essay_buf_putc(essay_buf *b, char c)
{
    return essay_buf_put(b, &c, 1);
}

void essay_buf_free(essay_buf *b)
{
    essay_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
