/*
 * harness.h - the small shared test harness (after cmark's api_test).
 *
 *   CHECK(cond)              record a failure with file:line when false
 *   CHECK_INT(got, want)     integers, both printed on failure
 *   CHECK_STR(got, want)     NUL-terminated strings
 *   CHECK_MEM(p, n, want)    (pointer, length) against a C string
 *   RUN(fn)                  run one case, printing its name
 *   return harness_done();   summary line; non-zero exit on any failure
 */
#ifndef ESSAY_TEST_HARNESS_H
#define ESSAY_TEST_HARNESS_H

#include <stdio.h>
#include <string.h>

static int harness_checks, harness_failed, harness_cases;

#define CHECK(cond) do { harness_checks++; if (!(cond)) { harness_failed++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)

#define CHECK_INT(got, want) do { long long g_ = (long long)(got), w_ = (long long)(want); \
    harness_checks++; if (g_ != w_) { harness_failed++; \
    fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #got, g_, w_); } \
    } while (0)

#define CHECK_STR(got, want) do { const char *g_ = (got), *w_ = (want); harness_checks++; \
    if (!g_ || strcmp(g_, w_) != 0) { harness_failed++; \
    fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #got, \
            g_ ? g_ : "(null)", w_); } } while (0)

#define CHECK_MEM(p, n, want) do { const char *p_ = (const char *)(p); size_t n_ = (n); \
    const char *w_ = (want); harness_checks++; \
    if (!p_ || n_ != strlen(w_) || memcmp(p_, w_, n_) != 0) { harness_failed++; \
    fprintf(stderr, "%s:%d: %s == \"%.*s\", expected \"%s\"\n", __FILE__, __LINE__, #p, \
            p_ ? (int)n_ : 6, p_ ? p_ : "(null)", w_); } } while (0)

#define RUN(fn) do { harness_cases++; int before_ = harness_failed; fn(); \
    fprintf(stderr, "%-50s %s\n", #fn, harness_failed == before_ ? "ok" : "FAILED"); } while (0)

static int harness_done(void)
{
    printf("%d passed, %d failed\n", harness_checks - harness_failed, harness_failed);
    return harness_failed ? 1 : 0;
}

#endif
