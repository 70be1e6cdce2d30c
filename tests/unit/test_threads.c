/*
 * test_threads.c - one index, many threads (DESIGN §5: an index is
 * immutable once built or opened; any number of threads may search it).
 *
 *   search_many_threads   8 threads search the index of the real bilingual
 *                         corpus (tests/data/real/bilingual.md) at once, each
 *                         running a deterministic mix of queries of every
 *                         kind drawn from the corpus itself: English words,
 *                         "exact" words, phrases, prefixes, Chinese substrings
 *                         of 1-6 characters, mixed queries, OR / NOT /
 *                         parentheses, lang: and essay: filters, and syntax
 *                         errors.  A single-threaded run first records each
 *                         query's answer signature (status, error offset and
 *                         message, total, keys, scores bit for bit, highlight
 *                         and pair spans, snippets); every answer of every
 *                         thread must reproduce it exactly.  Half the threads
 *                         search the built index, half the same index opened
 *                         from a file.
 *   build_two_threads     two threads build indexes of one corpus at once;
 *                         both images equal the reference byte for byte.
 *   corpus_first_calls    8 threads make the first essay_index_corpus() call
 *                         on a freshly opened index at the same moment (a
 *                         barrier), again and again: one corpus, same answer.
 *
 * ESSAY_THREAD_DUMP=1 lists the query pool.
 * ESSAY_THREAD_QUERIES = queries PER THREAD (8 threads run 8x that many).
 * Default: 50000 per thread in a normal build (400,000 searches, about a
 * minute on 2 cores), 5000 in a sanitizer build
 * (.ci/tsan sets 100000, i.e. 8 x 100,000 = 800,000 queries).
 */
#include "harness.h"

#include "essay.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define N_THREADS 8
#define POOL 4096
#define QMAX 512

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(undefined_behavior_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static const char *data_dir;
static essay_corpus *corpus;
static essay_index *built;   /* essay_index_build() */
static essay_index *opened;  /* the same, saved and opened from a file */
static char idx_path[256];

/* ---- deterministic generator ------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static size_t below(size_t n)
{
    return n ? (size_t)(rnd() % n) : 0;
}

/* ---- words and Han runs of one paragraph -------------------------------- */

typedef struct span {
    size_t start, len;
} span;

typedef struct pieces {
    span words[512];
    size_t n_words;
    span han[256];  /* runs of Han characters (3-byte UTF-8 each) */
    size_t n_han;
} pieces;

static int is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_han_at(const unsigned char *s, size_t i, size_t len)
{
    if (i + 3 > len || (s[i] & 0xF0) != 0xE0 || (s[i + 1] & 0xC0) != 0x80 ||
        (s[i + 2] & 0xC0) != 0x80)
        return 0;
    unsigned cp = ((s[i] & 0x0Fu) << 12) | ((s[i + 1] & 0x3Fu) << 6) | (s[i + 2] & 0x3Fu);
    return cp >= 0x4E00 && cp <= 0x9FFF;
}

static void split(const char *text, size_t len, pieces *p)
{
    const unsigned char *s = (const unsigned char *)text;
    p->n_words = p->n_han = 0;
    size_t i = 0;
    while (i < len) {
        if (is_alpha(s[i])) {
            size_t j = i;
            while (j < len && is_alpha(s[j]))
                j++;
            /* plain words only: not glued to digits or inner punctuation */
            int plain = (i == 0 || s[i - 1] == ' ') && (j == len || s[j] == ' ' ||
                                                       s[j] == ',' || s[j] == '.');
            if (plain && j - i >= 3 && j - i <= 24 && p->n_words < 512)
                p->words[p->n_words++] = (span){ i, j - i };
            i = j;
        } else if (is_han_at(s, i, len)) {
            size_t j = i;
            while (is_han_at(s, j, len))
                j += 3;
            if (p->n_han < 256)
                p->han[p->n_han++] = (span){ i, j - i };
            i = j;
        } else {
            i++;
        }
    }
}

/* ---- the query pool ------------------------------------------------------- */

typedef struct query {
    char text[QMAX];
    essay_search_options opts;
    uint64_t sig;  /* the single-threaded answer */
} query;

static query pool[POOL];

typedef struct qbuf {
    char *s;
    size_t n;
} qbuf;

static void put(qbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 >= QMAX)
        return;
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}

static void puts_(qbuf *b, const char *s)
{
    put(b, s, strlen(s));
}

static const char *para_text;

static void word(qbuf *b, const pieces *p)
{
    const span *w = &p->words[below(p->n_words)];
    put(b, para_text + w->start, w->len);
}

/* 1..6 Han characters from a run */
static void han(qbuf *b, const pieces *p)
{
    const span *h = &p->han[below(p->n_han)];
    size_t chars = h->len / 3, n = 1 + below(6);
    if (n > chars)
        n = chars;
    size_t at = below(chars - n + 1);
    put(b, para_text + h->start + 3 * at, 3 * n);
}

static const char *const bad_queries[] = {
    "\"unclosed phrase", "(open group", "close group)", "lang:fr word", "essay:abc word",
    "word OR", "OR word", "((a OR b)", "\"\"", "", "   ", "-alone", "lang:", "a ) b",
    "essay: x", "(((((((((((((((((((((((((((((((((((deep)))))))))))))))))))))))))))))))))",
    "*", "数学 \"未闭合", "（全角括号", "ab\"cd",
};

static void make_query(query *q, size_t n)
{
    size_t ordinal;
    const essay_paragraph *para;
    pieces *p = malloc(sizeof *p);
    size_t kind = n % 16;
    /* a paragraph that has what the kind needs */
    for (;;) {
        ordinal = below(essay_corpus_paragraph_count(corpus));
        para = essay_corpus_paragraph_at(corpus, ordinal);
        size_t len;
        para_text = essay_paragraph_text(para, &len);
        split(para_text, len, p);
        int need_words = kind != 4 && kind != 11 && kind != 13;
        int need_han = kind == 4 || kind == 5 || kind == 8 || kind == 11 || kind == 13 ||
                       kind == 14;
        if ((!need_words || p->n_words >= 2) && (!need_han || p->n_han >= 1))
            break;
    }
    qbuf b = { q->text, 0 };
    q->text[0] = 0;
    essay_search_options o = ESSAY_SEARCH_OPTIONS_INIT;
    switch (kind) {
    case 0:
        word(&b, p);
        break;
    case 1:
        puts_(&b, "\"");
        word(&b, p);
        puts_(&b, "\"");
        break;
    case 2: { /* a phrase of two or three words, one space apart */
        size_t i = 0, k = 1;
        for (size_t tries = 0; tries < 8 && k == 1; tries++) {
            size_t want = 2 + below(2);
            i = below(p->n_words - 1);
            while (k < want && i + k < p->n_words &&
                   p->words[i + k].start == p->words[i + k - 1].start +
                                                p->words[i + k - 1].len + 1)
                k++;
        }
        puts_(&b, "\"");
        put(&b, para_text + p->words[i].start,
            p->words[i + k - 1].start + p->words[i + k - 1].len - p->words[i].start);
        puts_(&b, "\"");
        break;
    }
    case 3: { /* prefix of 2..6 letters */
        const span *w = &p->words[below(p->n_words)];
        size_t k = 2 + below(5);
        put(&b, para_text + w->start, k < w->len ? k : w->len);
        puts_(&b, "*");
        break;
    }
    case 4:
        han(&b, p);
        break;
    case 5:
        word(&b, p);
        puts_(&b, " ");
        han(&b, p);
        break;
    case 6:
        word(&b, p);
        puts_(&b, " OR ");
        word(&b, p);
        break;
    case 7:
        word(&b, p);
        puts_(&b, " -");
        word(&b, p);
        break;
    case 8:
        puts_(&b, "(");
        word(&b, p);
        puts_(&b, " OR ");
        han(&b, p);
        puts_(&b, ") ");
        word(&b, p);
        break;
    case 9:
        puts_(&b, rnd() & 1 ? "lang:en " : "lang:zh ");
        word(&b, p);
        break;
    case 10: {
        size_t idl;
        const char *id = essay_article_id(essay_paragraph_article(para), &idl);
        word(&b, p);
        puts_(&b, " essay:");
        put(&b, id, idl);
        break;
    }
    case 11:
        han(&b, p);
        puts_(&b, " OR ");
        han(&b, p);
        break;
    case 12:
        if (rnd() & 1) {
            puts_(&b, bad_queries[below(sizeof bad_queries / sizeof *bad_queries)]);
        } else { /* a corpus word spoilt by a stray quote or parenthesis */
            word(&b, p);
            puts_(&b, rnd() & 1 ? " \"" : " (");
            word(&b, p);
        }
        break;
    case 13:
        han(&b, p);
        puts_(&b, " -");
        han(&b, p);
        break;
    case 14:
        puts_(&b, "\"");
        word(&b, p);
        puts_(&b, "\" ");
        han(&b, p);
        puts_(&b, " OR ");
        word(&b, p);
        puts_(&b, "*");
        break;
    default:
        word(&b, p);
        puts_(&b, " ");
        word(&b, p);
        puts_(&b, " ");
        word(&b, p);
        break;
    }
    /* options vary too: paging, all hits, no pair, one language */
    if (n % 7 == 3) {
        o.offset = 3;
        o.limit = 25;
    } else if (n % 11 == 5) {
        o.limit = 0;
        o.flags = ESSAY_SEARCH_NO_HIGHLIGHT;
    } else if (n % 13 == 6) {
        o.flags = ESSAY_SEARCH_NO_PAIR;
        o.snippet_bytes = 40;
    } else if (n % 17 == 9) {
        o.lang = (int)(rnd() & 1);
    }
    q->opts = o;
    free(p);
}

/* ---- answer signatures ------------------------------------------------------ */

typedef struct fnv {
    uint64_t h;
} fnv;

static void mix(fnv *f, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        f->h ^= p[i];
        f->h *= 0x100000001B3ull;
    }
}

static void mix_u(fnv *f, uint64_t v)
{
    mix(f, &v, sizeof v);
}

static void mix_spans(fnv *f, const essay_span *sp, size_t n)
{
    mix_u(f, n);
    for (size_t i = 0; i < n; i++) {
        mix_u(f, sp[i].start);
        mix_u(f, sp[i].end);
    }
}

/* The whole answer to one query, folded into 64 bits. */
static uint64_t answer(const essay_index *idx, const query *q, int *rc_out)
{
    fnv f = { 0xCBF29CE484222325ull };
    essay_results *r = NULL;
    essay_error e;
    memset(&e, 0, sizeof e);
    int rc = essay_index_search(idx, q->text, SIZE_MAX, &q->opts, &r, &e);
    *rc_out = rc;
    mix_u(&f, (uint64_t)(int64_t)rc);
    if (rc != 0) {
        mix_u(&f, e.offset);
        mix(&f, e.message, strlen(e.message));
        return f.h;
    }
    size_t n = essay_results_count(r);
    mix_u(&f, essay_results_total(r));
    mix_u(&f, n);
    for (size_t i = 0; i < n; i++) {
        essay_hit h;
        if (essay_results_hit(r, i, &h) != 0) {
            mix_u(&f, 0xBAD);
            continue;
        }
        uint64_t score;
        memcpy(&score, &h.score, sizeof score);
        mix(&f, h.essay, h.essay_len);
        mix_u(&f, (uint64_t)h.lang);
        mix_u(&f, h.para);
        mix_u(&f, score);
        mix_u(&f, h.text_len);
        mix_spans(&f, h.highlights, h.n_highlights);
        mix_u(&f, h.snippet_start);
        mix_u(&f, h.snippet_end);
        mix_u(&f, (uint64_t)h.has_pair);
        if (h.has_pair) {
            mix_u(&f, (uint64_t)h.pair_lang);
            mix_u(&f, h.pair_para);
            mix_u(&f, h.pair_text_len);
            mix_spans(&f, h.pair_highlights, h.n_pair_highlights);
        }
    }
    essay_results_free(r);
    return f.h;
}

/* ---- setup --------------------------------------------------------------- */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int setup(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/real/bilingual.md", data_dir);
    const char *paths[1] = { path };
    essay_error e;
    int rc = essay_corpus_load(&corpus, paths, 1, NULL, &e);
    CHECK_INT(rc, 0);
    if (rc) {
        fprintf(stderr, "%s\n", e.message);
        return -1;
    }
    rc = essay_index_build(&built, corpus, NULL, &e);
    CHECK_INT(rc, 0);
    if (rc) {
        fprintf(stderr, "%s\n", e.message);
        return -1;
    }
    snprintf(idx_path, sizeof idx_path, "/tmp/essay-threads-%ld.idx", (long)getpid());
    rc = essay_index_save(built, idx_path, &e);
    CHECK_INT(rc, 0);
    if (rc == 0)
        rc = essay_index_open(&opened, idx_path, 0, &e);
    CHECK_INT(rc, 0);
    if (rc) {
        fprintf(stderr, "%s\n", e.message);
        return -1;
    }
    return 0;
}

/* ---- 1. many threads, one index --------------------------------------------- */

typedef struct worker {
    const essay_index *idx;
    int id;
    unsigned long queries;
    unsigned long mismatches;
    long first_bad;       /* pool index of the first mismatch, -1 none */
    uint64_t first_got;
    unsigned long errors; /* answers that were errors (as in the reference) */
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    uint64_t s = 0x243F6A8885A308D3ull * (uint64_t)(w->id + 1);
    for (unsigned long i = 0; i < w->queries; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        size_t k = (size_t)(s % POOL);
        int rc;
        uint64_t got = answer(w->idx, &pool[k], &rc);
        w->errors += rc != 0;
        if (got != pool[k].sig) {
            if (w->mismatches++ == 0) {
                w->first_bad = (long)k;
                w->first_got = got;
            }
        }
    }
    return NULL;
}

static unsigned long per_thread_queries(void)
{
    const char *env = getenv("ESSAY_THREAD_QUERIES");
    if (env && *env) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(env, &end, 10);
        if (errno == 0 && *end == 0 && v > 0)
            return v;
        fprintf(stderr, "ESSAY_THREAD_QUERIES=%s: not a positive number; default used\n", env);
    }
    return SANITIZED ? 5000ul : 50000ul;
}

static void search_many_threads(void)
{
    double t0 = now();
    size_t kinds_err = 0;
    for (size_t i = 0; i < POOL; i++)
        make_query(&pool[i], i);
    for (size_t i = 0; i < POOL; i++) {
        int rc, rc2;
        pool[i].sig = answer(built, &pool[i], &rc);
        kinds_err += rc != 0;
        if (getenv("ESSAY_THREAD_DUMP"))
            fprintf(stderr, "  [%zu] rc %d  %s\n", i, rc, pool[i].text);
        /* the opened index answers exactly as the built one */
        uint64_t o = answer(opened, &pool[i], &rc2);
        if (o != pool[i].sig) {
            CHECK(o == pool[i].sig);
            fprintf(stderr, "  opened index answers '%s' differently (rc %d / %d)\n",
                    pool[i].text, rc, rc2);
        }
    }
    /* the pool must really hold hits, misses and errors */
    CHECK(kinds_err > POOL / 40 && kinds_err < POOL / 4);
    double t1 = now();
    fprintf(stderr, "  %d distinct queries, %zu of them errors; reference in %.2fs\n", POOL,
            kinds_err, t1 - t0);

    unsigned long per = per_thread_queries();
    worker w[N_THREADS];
    pthread_t th[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        w[i] = (worker){ i % 2 ? opened : built, i, per, 0, -1, 0, 0 };
        int rc = pthread_create(&th[i], NULL, worker_main, &w[i]);
        CHECK_INT(rc, 0);
        if (rc)
            return;
    }
    unsigned long total = 0, bad = 0;
    for (int i = 0; i < N_THREADS; i++) {
        pthread_join(th[i], NULL);
        total += w[i].queries;
        bad += w[i].mismatches;
        CHECK_INT(w[i].mismatches, 0);
        if (w[i].mismatches)
            fprintf(stderr, "  thread %d: %lu answers differ; first: query '%s' "
                    "(signature %016llx, expected %016llx)\n", i, w[i].mismatches,
                    pool[w[i].first_bad].text, (unsigned long long)w[i].first_got,
                    (unsigned long long)pool[w[i].first_bad].sig);
    }
    double t2 = now();
    fprintf(stderr, "  %d threads x %lu queries = %lu searches in %.2fs (%.0f/s), %lu differ\n",
            N_THREADS, per, total, t2 - t1, (double)total / (t2 - t1), bad);
}

/* ---- 2. two builds at once ----------------------------------------------------- */

typedef struct builder {
    unsigned threads;
    essay_index *idx;
    int rc;
} builder;

static void *builder_main(void *arg)
{
    builder *b = arg;
    essay_build_options o = ESSAY_BUILD_OPTIONS_INIT;
    o.threads = b->threads;
    b->rc = essay_index_build(&b->idx, corpus, &o, NULL);
    return NULL;
}

static void build_two_threads(void)
{
    size_t ref_len;
    const void *ref = essay_index_image(built, &ref_len);
    builder b[2] = { { 2, NULL, -1 }, { 1, NULL, -1 } };
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        CHECK_INT(pthread_create(&th[i], NULL, builder_main, &b[i]), 0);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT(b[i].rc, 0);
        size_t len = 0;
        const void *img = b[i].idx ? essay_index_image(b[i].idx, &len) : NULL;
        CHECK(img && len == ref_len && memcmp(img, ref, len) == 0);
        essay_index_free(b[i].idx);
    }
}

/* ---- 3. first essay_index_corpus() calls racing ---------------------------------- */

typedef struct racer {
    essay_index *idx;
    pthread_barrier_t *bar;
    const essay_corpus *got;
    int hits;
} racer;

static void *racer_main(void *arg)
{
    racer *r = arg;
    pthread_barrier_wait(r->bar);
    essay_error e;
    r->got = essay_index_corpus(r->idx, &e);
    /* and use it at once, while others may still be assembling */
    if (r->got) {
        const essay_article *a = essay_corpus_article_at(r->got, 0);
        r->hits = a && essay_article_paragraph_count(a, ESSAY_LANG_EN) > 0;
    }
    return NULL;
}

static void corpus_first_calls(void)
{
    int rounds = SANITIZED ? 5 : 20;
    for (int round = 0; round < rounds; round++) {
        essay_index *idx = NULL;
        essay_error e;
        int rc = essay_index_open(&idx, idx_path, round % 2 ? ESSAY_OPEN_TRUSTED : 0, &e);
        CHECK_INT(rc, 0);
        if (rc)
            return;
        pthread_barrier_t bar;
        pthread_barrier_init(&bar, NULL, N_THREADS);
        racer r[N_THREADS];
        pthread_t th[N_THREADS];
        for (int i = 0; i < N_THREADS; i++) {
            r[i] = (racer){ idx, &bar, NULL, 0 };
            CHECK_INT(pthread_create(&th[i], NULL, racer_main, &r[i]), 0);
        }
        for (int i = 0; i < N_THREADS; i++) {
            pthread_join(th[i], NULL);
            CHECK(r[i].got != NULL);
            CHECK(r[i].got == r[0].got);
            CHECK_INT(r[i].hits, 1);
        }
        pthread_barrier_destroy(&bar);
        if (r[0].got) {
            CHECK_INT(essay_corpus_paragraph_count(r[0].got),
                      essay_corpus_paragraph_count(corpus));
            CHECK_INT(essay_corpus_article_count(r[0].got), essay_corpus_article_count(corpus));
        }
        essay_index_free(idx);
    }
}

int main(int argc, char **argv)
{
    data_dir = argc > 1 ? argv[1] : "tests/data";
    if (setup() == 0) {
        RUN(search_many_threads);
        RUN(build_two_threads);
        RUN(corpus_first_calls);
    }
    essay_index_free(opened);
    essay_index_free(built);
    essay_corpus_free(corpus);
    if (idx_path[0])
        unlink(idx_path);
    return harness_done();
}
