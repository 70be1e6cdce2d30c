/*
 * alloc.c - the library's one door to the allocator.
 *
 * Every allocation passes here so that tests can fail the N-th one and
 * check that each caller unwinds cleanly (SQLite's malloc tests are the
 * model).  The counters are plain globals: the hook is for single-threaded
 * tests only and costs one predictable branch otherwise.
 */
#include "../essay_int.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Relaxed atomics: searches and builds allocate from several threads. */
static _Atomic uint64_t n_allocs;  /* allocations attempted so far */
static _Atomic uint64_t fail_at;   /* fail from the n-th on; 0 = never */

void essay_alloc_fail_at(uint64_t n)
{
    atomic_store_explicit(&n_allocs, 0, memory_order_relaxed);
    atomic_store_explicit(&fail_at, n, memory_order_relaxed);
}

uint64_t essay_alloc_count(void)
{
    return atomic_load_explicit(&n_allocs, memory_order_relaxed);
}

static bool should_fail(void)
{
    uint64_t at = atomic_load_explicit(&fail_at, memory_order_relaxed);
    uint64_t n = atomic_fetch_add_explicit(&n_allocs, 1, memory_order_relaxed) + 1;
    return ESSAY_UNLIKELY(at != 0 && n >= at);
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
