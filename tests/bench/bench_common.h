/*
 * bench_common.h - small helpers shared by the benchmarks in tests/bench:
 * monotonic time, whole-file reads, paragraph splitting, peak RSS, and
 * order statistics.  Header-only; every function is static.
 */
#ifndef ESSAY_BENCH_COMMON_H
#define ESSAY_BENCH_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static inline double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline char *read_whole(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf) {
        fclose(f);
        return NULL;
    }
    *len = fread(buf, 1, (size_t)n, f);
    buf[*len] = 0;
    fclose(f);
    return buf;
}

/* A paragraph: [start, start + len) of some text. */
typedef struct bench_span {
    const char *p;
    size_t len;
} bench_span;

/* Split at blank lines (the essay format's block rule). */
static inline bench_span *split_paragraphs(const char *text, size_t len, size_t *n_out)
{
    size_t cap = 1024, n = 0;
    bench_span *v = malloc(cap * sizeof(*v));
    size_t i = 0;
    while (i < len) {
        while (i < len && (text[i] == '\n' || text[i] == '\r'))
            i++;
        if (i >= len)
            break;
        size_t s = i;
        for (;;) {
            const char *nl = memchr(text + i, '\n', len - i);
            if (!nl) {
                i = len;
                break;
            }
            i = (size_t)(nl - text) + 1;
            size_t j = i;
            while (j < len && (text[j] == ' ' || text[j] == '\t' || text[j] == '\r'))
                j++;
            if (j >= len || text[j] == '\n')
                break;
        }
        size_t e = i;
        while (e > s && (text[e - 1] == '\n' || text[e - 1] == '\r' || text[e - 1] == ' '))
            e--;
        if (n == cap)
            v = realloc(v, (cap *= 2) * sizeof(*v));
        v[n].p = text + s;
        v[n].len = e - s;
        n++;
    }
    *n_out = n;
    return v;
}

/* Peak resident set size of this process so far, in MiB. */
static inline double peak_rss_mib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

/* Current resident set size, in MiB (/proc/self/statm). */
static inline double rss_mib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, res = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &res) != 2)
            res = 0;
        fclose(f);
    }
    return (double)res * 4096.0 / (1024.0 * 1024.0);
}

static inline int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The q-quantile (0..1) of v[0..n), sorting v. */
static inline double quantile(double *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), cmp_double);
    size_t k = (size_t)(q * (double)(n - 1) + 0.5);
    return v[k < n ? k : n - 1];
}

#endif
