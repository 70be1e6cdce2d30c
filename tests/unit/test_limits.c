/*
 * test_limits.c - every limit of essay.h reached, each answered by its
 * clear error code (ESSAY_ELIMIT) and a message that names the limit; the
 * value just inside every limit still works.
 *
 *   ESSAY_MAX_FILE_BYTES       via essay_corpus_options.max_bytes (parse and
 *                              load), and the real 4 GiB limit on a sparse file
 *   ESSAY_MAX_PARAGRAPH_BYTES  a block of 4 MiB is fine, 4 MiB + 1 is not
 *                              (one long line, and many lines)
 *   ESSAY_MAX_PARAGRAPHS       65535 paragraphs in one language, then 65536
 *   ESSAY_MAX_ID_LEN           a 32-digit id, then 33 digits (and essay: in a query)
 *   ESSAY_MAX_FILES            65535 paths load, 65536 do not
 *   ESSAY_MAX_TOKEN_BYTES      a long word is cut on a character boundary and
 *                              still found, by itself and by its prefix
 *   ESSAY_MAX_QUERY_BYTES      4096 bytes searched, 4097 refused
 *   ESSAY_MAX_QUERY_TERMS      64 terms searched, 65 refused
 *   ESSAY_MAX_RESULTS          limit 0 ("all") and larger limits capped
 *   nesting / prefixes         parentheses 32 deep, prefix expansion (internal
 *                              limits of search.c: MAX_DEPTH, MAX_PREFIX_TERMS)
 */
#include "harness.h"

#include "essay.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers ---------------------------------------------------------------- */

typedef struct sbuf {
    char *s;
    size_t n, cap;
} sbuf;

static void add(sbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t c = b->cap ? b->cap : 4096;
        while (c < b->n + n + 1)
            c *= 2;
        char *p = realloc(b->s, c);
        if (!p)
            abort();
        b->s = p;
        b->cap = c;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}

static void adds(sbuf *b, const char *s)
{
    add(b, s, strlen(s));
}

static void addf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#include <stdarg.h>
static void addf(sbuf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    add(b, tmp, (size_t)n);
}

static void fill(sbuf *b, char c, size_t n)
{
    while (n > 0) {
        char tmp[4096];
        size_t k = n < sizeof tmp ? n : sizeof tmp;
        memset(tmp, c, k);
        add(b, tmp, k);
        n -= k;
    }
}

static int parse(const sbuf *b, const essay_corpus_options *o, essay_error *e,
                 essay_corpus **out)
{
    essay_corpus *c = NULL;
    memset(e, 0, sizeof *e);
    int rc = essay_corpus_parse(&c, b->s, b->n, "lim.md", o, e);
    if (out)
        *out = c;
    else
        essay_corpus_free(c);
    return rc;
}

/* The message mentions `what` (the limit's value or name). */
#define CHECK_MSG(e, what) do { CHECK(strstr((e).message, (what)) != NULL); \
    if (!strstr((e).message, (what))) fprintf(stderr, "  message: %s\n", (e).message); } while (0)

static essay_index *index_text(const sbuf *b)
{
    essay_corpus *c = NULL;
    essay_index *idx = NULL;
    essay_error e;
    int rc = essay_corpus_parse(&c, b->s, b->n, "lim.md", NULL, &e);
    CHECK_INT(rc, 0);
    if (rc) {
        fprintf(stderr, "%s\n", e.message);
        return NULL;
    }
    rc = essay_index_build(&idx, c, NULL, &e);
    CHECK_INT(rc, 0);
    if (rc)
        fprintf(stderr, "%s\n", e.message);
    essay_corpus_free(c);
    return idx;
}

static int search(const essay_index *idx, const char *q, size_t len, size_t limit,
                  size_t offset, essay_results **r, essay_error *e)
{
    essay_search_options o = ESSAY_SEARCH_OPTIONS_INIT;
    o.limit = limit;
    o.offset = offset;
    o.flags = ESSAY_SEARCH_NO_HIGHLIGHT | ESSAY_SEARCH_NO_PAIR;
    memset(e, 0, sizeof *e);
    *r = NULL;
    return essay_index_search(idx, q, len, &o, r, e);
}

static char tmpdir[] = "/tmp/essay-limits-XXXXXX";

/* ---- ESSAY_MAX_FILE_BYTES ------------------------------------------------------ */

static void file_bytes_option(void)
{
    sbuf b = { 0 };
    adds(&b, "## 0001. Title\n\nbody text\n");
    essay_corpus_options o = ESSAY_CORPUS_OPTIONS_INIT;
    essay_error e;
    o.max_bytes = b.n;                 /* exactly at the limit: fine */
    CHECK_INT(parse(&b, &o, &e, NULL), 0);
    o.max_bytes = b.n - 1;             /* one byte over */
    CHECK_INT(parse(&b, &o, &e, NULL), ESSAY_ELIMIT);
    CHECK_INT(e.code, ESSAY_ELIMIT);
    char want[64];
    snprintf(want, sizeof want, "limit of %zu bytes", b.n - 1);
    CHECK_MSG(e, want);
    CHECK_MSG(e, "lim.md");

    /* the same through a file */
    char path[256];
    snprintf(path, sizeof path, "%s/small.md", tmpdir);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    fwrite(b.s, 1, b.n, f);
    fclose(f);
    const char *paths[1] = { path };
    essay_corpus *c = NULL;
    CHECK_INT(essay_corpus_load(&c, paths, 1, &o, &e), ESSAY_ELIMIT);
    CHECK(c == NULL);
    CHECK_MSG(e, path);
    CHECK_MSG(e, want);
    o.max_bytes = b.n;
    CHECK_INT(essay_corpus_load(&c, paths, 1, &o, &e), 0);
    essay_corpus_free(c);
    /* a limit above ESSAY_MAX_FILE_BYTES is the hard limit itself */
    o.max_bytes = UINT64_MAX;
    CHECK_INT(essay_corpus_load(&c, paths, 1, &o, &e), 0);
    essay_corpus_free(c);
    free(b.s);
}

static void file_bytes_hard(void)
{
    /* A sparse file one byte over 4 GiB - 2: refused before it is read. */
    char path[256];
    snprintf(path, sizeof path, "%s/huge.md", tmpdir);
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    int ok = ftruncate(fd, (off_t)ESSAY_MAX_FILE_BYTES + 1) == 0;
    close(fd);
    if (!ok) {
        fprintf(stderr, "  (no sparse 4 GiB file here: hard limit not checked)\n");
        unlink(path);
        return;
    }
    const char *paths[1] = { path };
    essay_corpus *c = NULL;
    essay_error e;
    CHECK_INT(essay_corpus_load(&c, paths, 1, NULL, &e), ESSAY_ELIMIT);
    CHECK(c == NULL);
    CHECK_MSG(e, "exceeds the limit of 4294967294 bytes");
    CHECK_MSG(e, path);
    unlink(path);
}

/* ---- ESSAY_MAX_PARAGRAPH_BYTES --------------------------------------------------- */

static void paragraph_bytes(void)
{
    const size_t max = ESSAY_MAX_PARAGRAPH_BYTES;
    essay_error e;
    for (int lines = 0; lines < 2; lines++) {
        for (size_t extra = 0; extra <= 1; extra++) {
            sbuf b = { 0 };
            adds(&b, "## 0001. Title\n\nfirst paragraph\n\n");
            size_t body = max + extra;
            if (lines) { /* lines of 99 letters and a newline */
                size_t left = body;
                while (left > 0) {
                    size_t k = left < 100 ? left : 100;
                    fill(&b, 'w', k == 1 ? 1 : k - 1);
                    if (k > 1)
                        adds(&b, "\n");
                    left -= k;
                }
                if (b.s[b.n - 1] == '\n') /* the block may not end in a newline count */
                    b.s[b.n - 1] = 'w';
            } else {
                fill(&b, 'w', body);
            }
            adds(&b, "\n\nlast paragraph\n");
            essay_corpus *c = NULL;
            int rc = parse(&b, NULL, &e, &c);
            if (extra == 0) {
                CHECK_INT(rc, 0);
                if (rc)
                    fprintf(stderr, "  %s\n", e.message);
                const essay_article *a = c ? essay_corpus_article_at(c, 0) : NULL;
                CHECK(a && essay_article_paragraph_count(a, ESSAY_LANG_EN) == 4);
                size_t len = 0;
                if (a)
                    essay_paragraph_text(essay_article_paragraph(a, ESSAY_LANG_EN, 2), &len);
                CHECK_INT(len, max);
            } else {
                CHECK_INT(rc, ESSAY_ELIMIT);
                CHECK_MSG(e, "paragraph longer than 4194304 bytes");
                /* located where the block crosses the limit */
                if (!lines)
                    CHECK_MSG(e, "lim.md:5:");
                CHECK_INT(e.line >= 5, 1);
                CHECK(e.column >= 1);
            }
            essay_corpus_free(c);
            free(b.s);
        }
    }
}

/* ---- ESSAY_MAX_PARAGRAPHS ------------------------------------------------------- */

static void paragraphs_per_essay(void)
{
    essay_error e;
    for (size_t extra = 0; extra <= 1; extra++) {
        /* English only: title + N body paragraphs */
        size_t n = ESSAY_MAX_PARAGRAPHS - 1 + extra;
        sbuf b = { 0 };
        adds(&b, "## 0001. Many paragraphs\n\n");
        for (size_t i = 0; i < n; i++)
            adds(&b, "p\n\n");
        adds(&b, "## 0002. After\n\nok\n");
        essay_corpus *c = NULL;
        int rc = parse(&b, NULL, &e, &c);
        if (extra == 0) {
            CHECK_INT(rc, 0);
            const essay_article *a = c ? essay_corpus_article_at(c, 0) : NULL;
            CHECK(a && essay_article_paragraph_count(a, ESSAY_LANG_EN) == ESSAY_MAX_PARAGRAPHS);
        } else {
            CHECK_INT(rc, ESSAY_ELIMIT);
            CHECK_MSG(e, "more than 65535 paragraphs");
            CHECK_MSG(e, "0001");
            CHECK_INT(e.line, 1);  /* the essay's heading */
        }
        essay_corpus_free(c);
        free(b.s);
    }
}

/* ---- ESSAY_MAX_ID_LEN --------------------------------------------------------- */

static void id_length(void)
{
    essay_error e;
    sbuf b = { 0 };
    adds(&b, "## ");
    fill(&b, '7', ESSAY_MAX_ID_LEN);
    adds(&b, ". Long id\n\nbody\n");
    essay_corpus *c = NULL;
    CHECK_INT(parse(&b, NULL, &e, &c), 0);
    essay_corpus_free(c);
    free(b.s);
    b = (sbuf){ 0 };
    adds(&b, "## ");
    fill(&b, '7', ESSAY_MAX_ID_LEN + 1);
    adds(&b, ". Too long\n\nbody\n");
    CHECK_INT(parse(&b, NULL, &e, NULL), ESSAY_ELIMIT);
    CHECK_MSG(e, "essay id longer than 32 digits");
    CHECK_INT(e.line, 1);
    CHECK_INT(e.column, 4);
    free(b.s);

    /* essay: in a query takes at most as many digits */
    b = (sbuf){ 0 };
    adds(&b, "## 1. One\n\nbody word\n");
    essay_index *idx = index_text(&b);
    free(b.s);
    if (!idx)
        return;
    char q[128];
    essay_results *r;
    snprintf(q, sizeof q, "word essay:%0*d", (int)ESSAY_MAX_ID_LEN, 1);
    CHECK_INT(search(idx, q, SIZE_MAX, 10, 0, &r, &e), 0);
    CHECK_INT(r ? essay_results_count(r) : 9, 0);  /* 000...1 is not "1" */
    essay_results_free(r);
    snprintf(q, sizeof q, "word essay:%0*d", (int)ESSAY_MAX_ID_LEN + 1, 1);
    int rc = search(idx, q, SIZE_MAX, 10, 0, &r, &e);
    CHECK(rc == ESSAY_ESYNTAX || rc == ESSAY_ELIMIT);
    CHECK_INT(e.offset, 11);
    essay_results_free(r);
    essay_index_free(idx);
}

/* ---- ESSAY_MAX_FILES ---------------------------------------------------------- */

static void files_per_load(void)
{
    char path[256];
    snprintf(path, sizeof path, "%s/empty.md", tmpdir);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    fclose(f);
    const char **paths = malloc((ESSAY_MAX_FILES + 1) * sizeof *paths);
    for (size_t i = 0; i <= ESSAY_MAX_FILES; i++)
        paths[i] = path;
    essay_corpus *c = NULL;
    essay_error e;
    int rc = essay_corpus_load(&c, paths, ESSAY_MAX_FILES, NULL, &e);
    CHECK_INT(rc, 0);
    if (rc)
        fprintf(stderr, "  %s\n", e.message);
    CHECK_INT(c ? essay_corpus_article_count(c) : 1, 0);
    essay_corpus_free(c);
    c = NULL;
    CHECK_INT(essay_corpus_load(&c, paths, ESSAY_MAX_FILES + 1, NULL, &e), ESSAY_ELIMIT);
    CHECK(c == NULL);
    CHECK_MSG(e, "more than 65535 corpus files");
    free(paths);
    unlink(path);
}

/* ---- ESSAY_MAX_TOKEN_BYTES ------------------------------------------------------ */

typedef struct longest {
    size_t term_len, start, end, n;
    int valid;
} longest;

static int on_token(void *p, const essay_token *t)
{
    longest *l = p;
    if (t->term_len > l->term_len) {
        l->term_len = t->term_len;
        l->start = t->start;
        l->end = t->end;
        /* the cut lies on a character boundary */
        l->valid = (t->term_len == 0 ||
                    ((unsigned char)t->term[t->term_len - 1] & 0xC0) != 0xC0);
    }
    l->n++;
    return 0;
}

static void token_bytes(void)
{
    /* 300 ASCII letters, and 150 two-byte letters (é) */
    sbuf w1 = { 0 }, w2 = { 0 };
    fill(&w1, 'q', 300);
    for (int i = 0; i < 150; i++)
        adds(&w2, "\xC3\xA9");
    adds(&w2, "x"); /* odd byte count: the cut must back off */
    const sbuf *words[2] = { &w1, &w2 };
    for (int k = 0; k < 2; k++) {
        longest l = { 0 };
        CHECK_INT(essay_tokenize(words[k]->s, words[k]->n, ESSAY_TOKENIZE_DOCUMENT, on_token, &l,
                                 NULL), 0);
        CHECK(l.term_len <= ESSAY_MAX_TOKEN_BYTES);
        CHECK(l.term_len >= ESSAY_MAX_TOKEN_BYTES - 3);
        CHECK_INT(l.valid, 1);
        CHECK_INT(l.start, 0);
        CHECK_INT(l.end, words[k]->n);  /* offsets cover the whole word */
    }
    /* indexed and found: by the whole word, by the exact word, by a prefix */
    sbuf b = { 0 };
    adds(&b, "## 0001. Long words\n\nbefore ");
    add(&b, w1.s, w1.n);
    adds(&b, " after\n\nand ");
    add(&b, w2.s, w2.n);
    adds(&b, " here\n\nqqq short\n");
    essay_index *idx = index_text(&b);
    if (idx) {
        essay_error e;
        essay_results *r;
        sbuf q = { 0 };
        const char *forms[] = { "", "\"", "*" };
        for (int k = 0; k < 2; k++) {
            for (int f = 0; f < 3; f++) {
                q.n = 0;
                if (f == 1)
                    adds(&q, "\"");
                if (f == 2)  /* a prefix of 100 bytes */
                    add(&q, words[k]->s, 100);
                else
                    add(&q, words[k]->s, words[k]->n);
                adds(&q, forms[f]);
                int rc = search(idx, q.s, q.n, 10, 0, &r, &e);
                CHECK_INT(rc, 0);
                if (rc)
                    fprintf(stderr, "  %s\n", e.message);
                size_t n = r ? essay_results_count(r) : 0;
                CHECK_INT(n, 1);
                essay_hit h;
                if (n == 1 && essay_results_hit(r, 0, &h) == 0)
                    CHECK_INT(h.para, (size_t)k + 1);
                essay_results_free(r);
            }
        }
        free(q.s);
        essay_index_free(idx);
    }
    free(b.s);
    free(w1.s);
    free(w2.s);
}

/* ---- query limits ---------------------------------------------------------------- */

static essay_index *small_index(void)
{
    sbuf b = { 0 };
    adds(&b, "## 0001. Words\n\n");
    for (int i = 0; i < 100; i++)
        addf(&b, "w%d ", i);
    adds(&b, "\n\n");
    for (int i = 0; i < 100; i++)
        adds(&b, "数学语言");
    adds(&b, "\n");
    essay_index *idx = index_text(&b);
    free(b.s);
    return idx;
}

static void query_bytes(void)
{
    essay_index *idx = small_index();
    if (!idx)
        return;
    essay_error e;
    essay_results *r;
    sbuf q = { 0 };
    fill(&q, 'z', ESSAY_MAX_QUERY_BYTES);  /* one (cut) word: within every limit */
    CHECK_INT(search(idx, q.s, q.n, 10, 0, &r, &e), 0);
    essay_results_free(r);
    adds(&q, "z");
    CHECK_INT(search(idx, q.s, q.n, 10, 0, &r, &e), ESSAY_ELIMIT);
    CHECK(r == NULL);
    CHECK_MSG(e, "4097 bytes");
    CHECK_MSG(e, "limit of 4096 bytes");
    CHECK_INT(e.offset, ESSAY_MAX_QUERY_BYTES);
    /* a NUL-terminated query measured the same way */
    CHECK_INT(search(idx, q.s, SIZE_MAX, 10, 0, &r, &e), ESSAY_ELIMIT);
    free(q.s);
    essay_index_free(idx);
}

static void query_terms(void)
{
    essay_index *idx = small_index();
    if (!idx)
        return;
    essay_error e;
    essay_results *r;
    sbuf q = { 0 };
    for (unsigned i = 0; i < ESSAY_MAX_QUERY_TERMS; i++)
        addf(&q, "w%u ", i);
    CHECK_INT(search(idx, q.s, q.n, 10, 0, &r, &e), 0);
    CHECK_INT(r ? essay_results_count(r) : 0, 1);
    essay_results_free(r);
    size_t before = q.n;
    adds(&q, "w64");
    CHECK_INT(search(idx, q.s, q.n, 10, 0, &r, &e), ESSAY_ELIMIT);
    CHECK_MSG(e, "ESSAY_MAX_QUERY_TERMS");
    CHECK_INT(e.offset, before);  /* at the 65th term */
    /* OR, NOT and phrases count every word too */
    q.n = 0;
    adds(&q, "w0");
    for (unsigned i = 1; i <= ESSAY_MAX_QUERY_TERMS; i++)
        addf(&q, i % 3 ? " OR w%u" : " -w%u", i);
    CHECK_INT(search(idx, q.s, q.n, 10, 0, &r, &e), ESSAY_ELIMIT);
    q.n = 0;
    adds(&q, "\"");
    for (unsigned i = 0; i <= ESSAY_MAX_QUERY_TERMS; i++)
        addf(&q, "w%u ", i);
    adds(&q, "\"");
    CHECK_INT(search(idx, q.s, q.n, 10, 0, &r, &e), ESSAY_ELIMIT);
    /* thousands of terms: refused quickly, never a crash */
    q.n = 0;
    while (q.n + 2 <= ESSAY_MAX_QUERY_BYTES)
        adds(&q, "a ");
    CHECK_INT(search(idx, q.s, q.n, 10, 0, &r, &e), ESSAY_ELIMIT);
    free(q.s);
    essay_index_free(idx);
}

/* Han characters count as query terms (essay.h: "words, Han characters,
 * phrase words").  A Han run is looked up as overlapping pairs of
 * characters, the last character covered by the pair before it, so a run of
 * n characters costs n - 1 terms: 65 characters pass, 66 are refused. */
static void query_terms_han(void)
{
    essay_index *idx = small_index();
    if (!idx)
        return;
    essay_error e;
    essay_results *r;
    sbuf q = { 0 };
    size_t ok_chars = 0, first_bad = 0;
    for (size_t n = 1; n <= 4 * ESSAY_MAX_QUERY_TERMS + 8; n++) {
        q.n = 0;
        for (size_t i = 0; i < n; i++)
            adds(&q, (const char *[]){ "数", "学", "语", "言" }[i % 4]);
        int rc = search(idx, q.s, q.n, 10, 0, &r, &e);
        essay_results_free(r);
        CHECK(rc == 0 || rc == ESSAY_ELIMIT);
        if (rc == 0) {
            ok_chars = n;
        } else if (!first_bad) {
            first_bad = n;
            CHECK_MSG(e, "ESSAY_MAX_QUERY_TERMS");
        }
    }
    fprintf(stderr, "  a Han run of %zu characters is searched; %zu are refused\n", ok_chars,
            first_bad);
    CHECK(ok_chars == ESSAY_MAX_QUERY_TERMS || ok_chars == ESSAY_MAX_QUERY_TERMS + 1);
    CHECK_INT(first_bad, ok_chars + 1);
    free(q.s);
    essay_index_free(idx);
}

static void nesting_depth(void)
{
    essay_index *idx = small_index();
    if (!idx)
        return;
    essay_error e;
    essay_results *r;
    int ok_depth = 0, refused = 0;
    for (int d = 1; d <= 40; d++) {
        sbuf q = { 0 };
        fill(&q, '(', (size_t)d);
        adds(&q, "w1");
        fill(&q, ')', (size_t)d);
        int rc = search(idx, q.s, q.n, 10, 0, &r, &e);
        if (rc == 0) {
            ok_depth = d;
            CHECK_INT(essay_results_count(r), 1);
        } else if (!refused) {
            refused = d;
            CHECK_INT(rc, ESSAY_ELIMIT);
            CHECK_MSG(e, "nested too deeply");
            CHECK_INT(e.offset, (size_t)d - 1);  /* the parenthesis one too deep */
        }
        essay_results_free(r);
        free(q.s);
    }
    CHECK_INT(ok_depth, 32);
    CHECK_INT(refused, 33);
    essay_index_free(idx);
}

static void prefix_expansion(void)
{
    /* 16385 distinct words starting with "pfx": pfxaaaa, pfxaaab, ... */
    sbuf b = { 0 };
    adds(&b, "## 0001. Prefixes\n\n");
    const unsigned n = 16385;
    for (unsigned i = 0; i < n; i++) {
        char w[8] = "pfx";
        unsigned v = i;
        for (int k = 6; k >= 3; k--, v /= 26)
            w[k] = (char)('a' + v % 26);
        w[7] = 0;
        adds(&b, w);
        adds(&b, (i + 1) % 100 ? " " : "\n\n");
    }
    adds(&b, "\n\npfxtail ok\n");
    essay_index *idx = index_text(&b);
    free(b.s);
    if (!idx)
        return;
    essay_error e;
    essay_results *r;
    CHECK_INT(search(idx, "pfx*", SIZE_MAX, 10, 0, &r, &e), ESSAY_ELIMIT);
    CHECK_MSG(e, "matches too many terms");
    CHECK_INT(e.offset, 0);
    essay_results_free(r);
    /* a longer prefix is fine: pfxaa* = 26^2 words */
    CHECK_INT(search(idx, "pfxaa*", SIZE_MAX, 10, 0, &r, &e), 0);
    CHECK(r && essay_results_total(r) > 0);
    essay_results_free(r);
    essay_index_free(idx);
}

/* ---- ESSAY_MAX_RESULTS ------------------------------------------------------------ */

static void result_count(void)
{
    /* two essays of 60000 one-word paragraphs: 120002 matches with the titles */
    sbuf b = { 0 };
    for (int a = 1; a <= 2; a++) {
        addf(&b, "## %d. zz\n\n", a);
        for (int i = 0; i < 60000; i++)
            adds(&b, "zz\n\n");
    }
    essay_index *idx = index_text(&b);
    free(b.s);
    if (!idx)
        return;
    essay_error e;
    essay_results *r;
    size_t limits[] = { 0, ESSAY_MAX_RESULTS + 1, SIZE_MAX };
    for (size_t i = 0; i < 3; i++) {
        CHECK_INT(search(idx, "zz", SIZE_MAX, limits[i], 0, &r, &e), 0);
        CHECK_INT(r ? essay_results_count(r) : 0, ESSAY_MAX_RESULTS);
        CHECK_INT(r ? essay_results_total(r) : 0, 120002);
        essay_hit h;
        CHECK_INT(r ? essay_results_hit(r, ESSAY_MAX_RESULTS, &h) : -1, ESSAY_EINVAL);
        essay_results_free(r);
    }
    /* paging past the cap: offset counts inside the ESSAY_MAX_RESULTS window */
    CHECK_INT(search(idx, "zz", SIZE_MAX, 0, ESSAY_MAX_RESULTS - 10, &r, &e), 0);
    CHECK_INT(r ? essay_results_count(r) : 0, 10);
    essay_results_free(r);
    CHECK_INT(search(idx, "zz", SIZE_MAX, 5, ESSAY_MAX_RESULTS + 7, &r, &e), 0);
    CHECK_INT(r ? essay_results_count(r) : 1, 0);
    essay_results_free(r);
    essay_index_free(idx);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(file_bytes_option);
    RUN(file_bytes_hard);
    RUN(paragraph_bytes);
    RUN(paragraphs_per_essay);
    RUN(id_length);
    RUN(files_per_load);
    RUN(token_bytes);
    RUN(query_bytes);
    RUN(query_terms);
    RUN(query_terms_han);
    RUN(nesting_depth);
    RUN(prefix_expansion);
    RUN(result_count);
    rmdir(tmpdir);
    return harness_done();
}
