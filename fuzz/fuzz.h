/*
 * fuzz.h - helpers shared by the fuzz targets (header only).
 *
 * FUZZ_CHECK(cond, ...) prints what broke and aborts: libFuzzer then saves
 * the input as a crash, and the ctest replay (standalone.c) fails.
 */
#ifndef ESSAY_FUZZ_H
#define ESSAY_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "essay.h"

#define FUZZ_CHECK(cond, ...) do { if (!(cond)) { \
    fprintf(stderr, "%s:%d: invariant failed: %s\n  ", __FILE__, __LINE__, #cond); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } } while (0)

/* Length of the longest valid UTF-8 prefix of s[0..len): len when all of
 * it is valid.  Strict: no overlong forms, no surrogates, <= U+10FFFF. */
static inline size_t fuzz_utf8_valid_prefix(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        size_t n;
        unsigned lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else {
            return i;
        }
        if (len - i <= n)
            return i;
        if (p[i + 1] < lo || p[i + 1] > hi)
            return i;
        for (size_t k = 2; k <= n; k++)
            if ((p[i + k] & 0xC0) != 0x80)
                return i;
        i += n + 1;
    }
    return len;
}

static inline bool fuzz_utf8_valid(const char *s, size_t len)
{
    return fuzz_utf8_valid_prefix(s, len) == len;
}

/* True when byte offset `off` of s[0..len) starts a character (or is len). */
static inline bool fuzz_on_boundary(const char *s, size_t len, size_t off)
{
    return off == len || (off < len && ((unsigned char)s[off] & 0xC0) != 0x80);
}

/* An error report as a failed call must leave it. */
static inline void fuzz_check_error(int rc, const essay_error *err)
{
    FUZZ_CHECK(rc < 0, "rc %d", rc);
    FUZZ_CHECK(err->code == rc, "err.code %d, rc %d", err->code, rc);
    FUZZ_CHECK(err->message[0] != '\0', "empty message for rc %d", rc);
    size_t n = 0;
    while (n < sizeof(err->message) && err->message[n])
        n++;
    FUZZ_CHECK(n < sizeof(err->message), "message not NUL-terminated");
    FUZZ_CHECK(fuzz_utf8_valid(err->message, n), "message not UTF-8: %s", err->message);
}

#endif
