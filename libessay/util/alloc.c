/*
 * alloc.c - the library's one door to the allocator.
 *
 * Every allocation passes here so that tests can fail the N-th one and
 * check that each caller unwinds cleanly (SQLite's malloc tests are the
 * model).  The counters are plain globals: the hook is for single-threaded
 * tests only and costs one predictable branch otherwise.
 */
#include "../essay_int.h"

#include <stdlib.h>
#include <string.h>

static uint64_t n_allocs;  /* allocations attempted so far */
static uint64_t fail_at;   /* fail when n_allocs reaches this; 0 = never */

void essay_alloc_fail_at(uint64_t n)
{
    n_allocs = 0;
    fail_at = n;
}

uint64_t essay_alloc_count(void)
{
    return n_allocs;
}

static bool should_fail(void)
{
    n_allocs++;
    return ESSAY_UNLIKELY(fail_at != 0 && n_allocs >= fail_at);
}

void *essay_malloc(size_t n)
{
    if (should_fail())
        return NULL;
    return malloc(n ? n : 1);
}

void *essay_calloc(size_t n, size_t size)
{
    if (should_fail())
        return NULL;
    return calloc(n ? n : 1, size ? size : 1);
}

void *essay_realloc(void *p, size_t n)
{
    if (should_fail())
        return NULL;
    return realloc(p, n ? n : 1);
}

void essay_free(void *p)
{
    free(p);
}

char *essay_strndup(const char *s, size_t n)
{
    char *d = essay_malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}
