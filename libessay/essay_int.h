/*
 * essay_int.h - types, macros and helpers shared by every module.
 *
 * Module dependencies run one way (a module may use only those to its left):
 *
 *   util  <-  corpus  <-  analyze  <-  dict / postings  <-  build / store
 *         <-  query / search  <-  snippet  <-  api
 *
 * Every allocation goes through essay_malloc()/essay_realloc()/essay_free(),
 * so tests can fail the N-th allocation (see util/alloc.c).  The library
 * never prints: diagnostics go into an essay_error.
 */
#ifndef ESSAY_INT_H
#define ESSAY_INT_H

#include "essay.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ESSAY_UNUSED(x) ((void)(x))
#define ESSAY_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#  define ESSAY_PRINTF(f, a) __attribute__((format(printf, f, a)))
#  define ESSAY_LIKELY(x) __builtin_expect(!!(x), 1)
#  define ESSAY_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#  define ESSAY_PRINTF(f, a)
#  define ESSAY_LIKELY(x) (x)
#  define ESSAY_UNLIKELY(x) (x)
#endif

/* ---- allocation (util/alloc.c) ---- */
void *essay_malloc(size_t n);
void *essay_calloc(size_t n, size_t size);
void *essay_realloc(void *p, size_t n);
void essay_free(void *p);
char *essay_strndup(const char *s, size_t n);

/* Test hook: make the n-th allocation from now fail (0 = never).  Counting
 * is process-wide and not thread-safe: for single-threaded tests only. */
void essay_alloc_fail_at(uint64_t n);
uint64_t essay_alloc_count(void);

/* ---- errors (util/error.c) ---- */

/* Fill `err` (may be NULL) and return `code`.  `path` may be NULL; line,
 * column 0 mean unknown.  The message is prefixed with the location. */
int essay_error_set(essay_error *err, int code, const char *path, uint32_t line,
                    uint32_t column, uint64_t offset, const char *fmt, ...)
    ESSAY_PRINTF(7, 8);

/* Shorthand for errors without a location. */
#define essay_fail(err, code, ...) essay_error_set((err), (code), NULL, 0, 0, 0, __VA_ARGS__)

/* Clear an error report to "no error". */
void essay_error_clear(essay_error *err);

/* ---- growable byte buffer (util/buf.c) ---- */
typedef struct essay_buf {
    char *data;
    size_t len;
    size_t cap;
} essay_buf;

#define ESSAY_BUF_INIT { NULL, 0, 0 }

/* Ensure room for `extra` more bytes (and a spare one for a NUL).  0 or
 * ESSAY_ENOMEM.  Inline when there is room already: hot loops call it per
 * entry. */
int essay_buf_grow_slow(essay_buf *b, size_t extra);
static inline int essay_buf_grow(essay_buf *b, size_t extra)
{
    return b->cap - b->len > extra ? 0 : essay_buf_grow_slow(b, extra);
}
int essay_buf_put(essay_buf *b, const void *data, size_t len);
int essay_buf_putc(essay_buf *b, char c);
void essay_buf_free(essay_buf *b);

/* Grow a typed array `*arr` of `*cap` elements to hold `need`.  0 or ENOMEM. */
int essay_array_grow(void **arr, size_t *cap, size_t need, size_t elem_size);
#define ESSAY_ARRAY_GROW(arr, cap, need) \
    essay_array_grow((void **)&(arr), &(cap), (need), sizeof(*(arr)))

/* ---- UTF-8 (util/utf8.c) ---- */

/* Decode one code point at s[0..len).  Returns its byte length (1..4) and
 * stores the code point, or returns 0 when the sequence is invalid
 * (overlong, surrogate, > U+10FFFF, truncated).  len must be > 0. */
size_t essay_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);

/* Encode cp (valid scalar value) into out[4]; returns the length. */
size_t essay_utf8_encode(uint32_t cp, char *out);

/* Offset of the first invalid byte in s[0..len), or len when all is valid. */
size_t essay_utf8_validate(const char *s, size_t len);

/* Han (CJK ideograph) code point, as ICU's USCRIPT_HAN would say. */
bool essay_is_han(uint32_t cp);

/* Unaligned loads, for the comparison below. */
static inline uint64_t essay_load64(const char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint32_t essay_load32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Equality of two short byte strings (terms are mostly under 16 bytes):
 * two overlapping word loads from each instead of a call to memcmp. */
static inline bool essay_same_bytes(const char *x, const char *y, size_t n)
{
    if (n > 16)
        return memcmp(x, y, n) == 0;
    if (n >= 8)
        return essay_load64(x) == essay_load64(y) &&
               essay_load64(x + n - 8) == essay_load64(y + n - 8);
    if (n >= 4)
        return essay_load32(x) == essay_load32(y) &&
               essay_load32(x + n - 4) == essay_load32(y + n - 4);
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return false;
    return true;
}

/* memcpy of a short, non-overlapping byte string (a term), inline: two
 * overlapping word stores instead of a call. */
static inline void essay_copy_short(char *dst, const char *src, size_t n)
{
    if (n > 16) {
        memcpy(dst, src, n);
    } else if (n >= 8) {
        uint64_t a = essay_load64(src), b = essay_load64(src + n - 8);
        memcpy(dst, &a, 8);
        memcpy(dst + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a = essay_load32(src), b = essay_load32(src + n - 4);
        memcpy(dst, &a, 4);
        memcpy(dst + n - 4, &b, 4);
    } else {
        for (size_t i = 0; i < n; i++)
            dst[i] = src[i];
    }
}

#endif /* ESSAY_INT_H */
