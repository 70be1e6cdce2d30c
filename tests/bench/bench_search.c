/*
 * bench_search.c - query latency of libessay against SQLite FTS5 on the same
 * corpus and the same queries.
 *
 * The corpus (default tests/data/real/bilingual.md) is loaded once with
 * essay_corpus_load().  Both engines index every paragraph:
 *   libessay   essay_index_build (every core), essay_index_save, then
 *              essay_index_open (verified; trusted timed too)
 *   FTS5       one table per tokenizer: unicode61 and trigram (bench_fts5.h)
 * and each reports build MB/s, index size / corpus text size, open time and
 * the first query's time after opening.
 *
 * Queries are drawn from the corpus itself with a fixed-seed PRNG, a few
 * hundred per kind: an English word, a two-word English phrase, a prefix,
 * a Chinese 2-character and 4-character substring, a mixed query (a Latin
 * word and two Han characters from one Chinese paragraph), and boolean
 * OR / NOT.  Each query asks for the top 10 with highlights, a snippet and
 * the aligned paragraph (FTS5: highlight(), snippet(), a rowid lookup).
 * Every query runs once to warm up, then once timed; median and p99 are
 * reported per kind, with the share of queries that found anything (FTS5's
 * unicode61 does not segment Chinese and trigram needs 3 characters, so
 * their Chinese recall differs).
 *
 *   bench_search [--queries N] [--tmp DIR] [CORPUS...]
 */
#include "bench_common.h"
#include "bench_fts5.h"

#include "essay.h"

/* ---- deterministic sampling ---- */

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static bool is_han_cp(uint32_t c)
{
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x20000 && c <= 0x3134F);
}

static uint32_t dec(const unsigned char *s, size_t len, size_t *n)
{
    if (s[0] < 0x80 || len < 2) {
        *n = 1;
        return s[0];
    }
    if (s[0] < 0xE0) {
        *n = 2;
        return ((uint32_t)(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
    }
    if (s[0] < 0xF0 || len < 4) {
        *n = len < 3 ? len : 3;
        return len < 3 ? 0 : ((uint32_t)(s[0] & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) |
                                 (s[2] & 0x3F);
    }
    *n = 4;
    return ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
           ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
}

/* ASCII words of >= min letters in text: returns count, fills starts/lens. */
static size_t ascii_words(const char *t, size_t len, size_t min, size_t *st, size_t *ln,
                          size_t cap)
{
    size_t n = 0, i = 0;
    while (i < len && n < cap) {
        while (i < len && !(((t[i] | 32) >= 'a' && (t[i] | 32) <= 'z')))
            i++;
        size_t s = i;
        while (i < len && ((t[i] | 32) >= 'a' && (t[i] | 32) <= 'z'))
            i++;
        /* whole words only: not glued to digits, '_' or non-ASCII */
        bool glued = (s > 0 && ((unsigned char)t[s - 1] >= 0x80 || t[s - 1] == '_' ||
                                (t[s - 1] >= '0' && t[s - 1] <= '9'))) ||
                     (i < len && ((unsigned char)t[i] >= 0x80 || t[i] == '_' ||
                                  (t[i] >= '0' && t[i] <= '9')));
        if (i - s >= min && i - s <= 20 && !glued) {
            st[n] = s;
            ln[n] = i - s;
            n++;
        }
    }
    return n;
}

/* A random run of k Han characters in t (byte range), or false. */
static bool han_ngram(const char *t, size_t len, int k, size_t *s_out, size_t *e_out)
{
    size_t starts[4096];
    size_t n = 0;
    /* offsets of characters that begin a run of >= k Han */
    size_t i = 0;
    size_t run_off[64];
    int run = 0;
    while (i < len && n < 4096) {
        size_t w;
        uint32_t c = dec((const unsigned char *)t + i, len - i, &w);
        if (is_han_cp(c)) {
            run_off[run % 64] = i;
            run++;
            if (run >= k)
                starts[n++] = run_off[(run - k) % 64];
        } else
            run = 0;
        i += w;
    }
    if (!n)
        return false;
    size_t s = starts[rnd() % n], e = s;
    for (int j = 0; j < k; j++) {
        size_t w;
        dec((const unsigned char *)t + e, len - e, &w);
        e += w;
    }
    *s_out = s;
    *e_out = e;
    return true;
}

enum { K_WORD, K_PHRASE, K_PREFIX, K_ZH2, K_ZH4, K_MIXED, K_BOOL, N_KINDS };
static const char *kind_names[N_KINDS] = { "English word", "English phrase", "prefix*",
                                           "Chinese 2 chars", "Chinese 4 chars",
                                           "mixed word+Han", "boolean OR/NOT" };

typedef struct query {
    char essay[256];  /* libessay syntax */
    char fts[256];    /* FTS5 syntax (same meaning) */
    char fts_tri[256];/* FTS5 trigram: no prefix operator, substring instead */
} query;

static void lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s + 32);
}

static const essay_paragraph *sample_para(const essay_corpus *c, essay_lang lang)
{
    size_t n = essay_corpus_paragraph_count(c);
    for (int tries = 0; tries < 10000; tries++) {
        const essay_paragraph *p = essay_corpus_paragraph_at(c, rnd() % n);
        if (essay_paragraph_lang(p) == lang && essay_paragraph_index(p) > 0)
            return p;
    }
    return NULL;
}

static bool make_query(const essay_corpus *c, int kind, query *q)
{
    size_t st[512], ln[512], len, s, e;
    const char *t;
    const essay_paragraph *p;
    char a[64], b[64];
    switch (kind) {
    case K_WORD:
    case K_PHRASE:
    case K_PREFIX:
    case K_BOOL: {
        p = sample_para(c, ESSAY_LANG_EN);
        if (!p)
            return false;
        t = essay_paragraph_text(p, &len);
        size_t n = ascii_words(t, len, kind == K_PREFIX ? 6 : 4, st, ln, 512);
        if (n < 2)
            return false;
        size_t k = rnd() % (n - 1);
        snprintf(a, sizeof(a), "%.*s", (int)ln[k], t + st[k]);
        lower(a);
        if (kind == K_WORD) {
            snprintf(q->essay, sizeof(q->essay), "%s", a);
            snprintf(q->fts, sizeof(q->fts), "\"%s\"", a);
            snprintf(q->fts_tri, sizeof(q->fts_tri), "\"%s\"", a);
        } else if (kind == K_PHRASE) {
            /* two adjacent words separated by one space */
            if (st[k] + ln[k] + 1 != st[k + 1] || t[st[k] + ln[k]] != ' ')
                return false;
            snprintf(b, sizeof(b), "%.*s", (int)ln[k + 1], t + st[k + 1]);
            lower(b);
            snprintf(q->essay, sizeof(q->essay), "\"%s %s\"", a, b);
            snprintf(q->fts, sizeof(q->fts), "\"%s %s\"", a, b);
            snprintf(q->fts_tri, sizeof(q->fts_tri), "\"%s %s\"", a, b);
        } else if (kind == K_PREFIX) {
            a[4] = 0;
            snprintf(q->essay, sizeof(q->essay), "%s*", a);
            snprintf(q->fts, sizeof(q->fts), "%s*", a);
            snprintf(q->fts_tri, sizeof(q->fts_tri), "\"%s\"", a);
        } else {
            /* OR: two words of this paragraph; NOT: a word of it minus a
             * word of another paragraph */
            if (rnd() & 1) {
                size_t k2 = rnd() % n;
                snprintf(b, sizeof(b), "%.*s", (int)ln[k2], t + st[k2]);
                lower(b);
                snprintf(q->essay, sizeof(q->essay), "%s OR %s", a, b);
                snprintf(q->fts, sizeof(q->fts), "\"%s\" OR \"%s\"", a, b);
            } else {
                const essay_paragraph *p2 = sample_para(c, ESSAY_LANG_EN);
                size_t len2;
                const char *t2 = essay_paragraph_text(p2, &len2);
                size_t n2 = ascii_words(t2, len2, 4, st, ln, 512);
                if (!n2)
                    return false;
                size_t k2 = rnd() % n2;
                snprintf(b, sizeof(b), "%.*s", (int)ln[k2], t2 + st[k2]);
                lower(b);
                if (!strcmp(a, b))
                    return false;
                snprintf(q->essay, sizeof(q->essay), "%s -%s", a, b);
                snprintf(q->fts, sizeof(q->fts), "\"%s\" NOT \"%s\"", a, b);
            }
            memcpy(q->fts_tri, q->fts, sizeof(q->fts_tri));
        }
        return true;
    }
    case K_ZH2:
    case K_ZH4:
        p = sample_para(c, ESSAY_LANG_ZH);
        if (!p)
            return false;
        t = essay_paragraph_text(p, &len);
        if (!han_ngram(t, len, kind == K_ZH2 ? 2 : 4, &s, &e))
            return false;
        snprintf(q->essay, sizeof(q->essay), "%.*s", (int)(e - s), t + s);
        snprintf(q->fts, sizeof(q->fts), "\"%.*s\"", (int)(e - s), t + s);
        memcpy(q->fts_tri, q->fts, sizeof(q->fts_tri));
        return true;
    case K_MIXED: {
        p = sample_para(c, ESSAY_LANG_ZH);
        if (!p)
            return false;
        t = essay_paragraph_text(p, &len);
        size_t n = ascii_words(t, len, 3, st, ln, 512);
        if (!n || !han_ngram(t, len, 2, &s, &e))
            return false;
        size_t k = rnd() % n;
        snprintf(a, sizeof(a), "%.*s", (int)ln[k], t + st[k]);
        lower(a);
        snprintf(q->essay, sizeof(q->essay), "%s %.*s", a, (int)(e - s), t + s);
        snprintf(q->fts, sizeof(q->fts), "\"%s\" \"%.*s\"", a, (int)(e - s), t + s);
        memcpy(q->fts_tri, q->fts, sizeof(q->fts_tri));
        return true;
    }
    }
    return false;
}

/* ---- libessay side ---- */

static int essay_query(const essay_index *idx, const char *qs, size_t *n_hits, size_t *total,
                       size_t *touched)
{
    essay_results *res;
    essay_error err;
    int rc = essay_index_search(idx, qs, SIZE_MAX, NULL, &res, &err);
    if (rc) {
        *n_hits = 0;
        return rc;
    }
    size_t n = essay_results_count(res);
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        essay_hit h;
        essay_results_hit(res, i, &h);
        bytes += h.snippet_end - h.snippet_start + h.n_highlights + h.pair_text_len;
    }
    *n_hits = n;
    if (total)
        *total += essay_results_total(res);
    if (touched)
        *touched += bytes;
    essay_results_free(res);
    return 0;
}

typedef struct kind_result {
    double med_us, p99_us;
    double found;   /* share of queries with >= 1 hit */
    size_t errors;
} kind_result;

#define MAX_Q 2000

int main(int argc, char **argv)
{
    size_t per_kind = 300;
    const char *tmpdir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    const char *paths[64];
    size_t n_paths = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--queries") && i + 1 < argc)
            per_kind = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--tmp") && i + 1 < argc)
            tmpdir = argv[++i];
        else if (argv[i][0] != '-' && n_paths < 64)
            paths[n_paths++] = argv[i];
        else {
            fprintf(stderr, "usage: %s [--queries N] [--tmp DIR] [CORPUS...]\n", argv[0]);
            return 2;
        }
    }
    if (!n_paths)
        paths[n_paths++] = "tests/data/real/bilingual.md";
    if (per_kind > MAX_Q)
        per_kind = MAX_Q;

    essay_corpus *c;
    essay_error err;
    if (essay_corpus_load(&c, paths, n_paths, NULL, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 2;
    }
    uint64_t text_bytes = 0;
    size_t n_paras = essay_corpus_paragraph_count(c);
    for (size_t i = 0; i < n_paras; i++) {
        size_t len;
        essay_paragraph_text(essay_corpus_paragraph_at(c, i), &len);
        text_bytes += len;
    }
    printf("bench_search: %s%s: %zu essays, %zu paragraphs, %.2f MB of paragraph text\n\n",
           paths[0], n_paths > 1 ? " ..." : "", essay_corpus_article_count(c), n_paras,
           (double)text_bytes / 1e6);

    /* queries */
    static query qs[N_KINDS][MAX_Q];
    size_t nq[N_KINDS];
    for (int k = 0; k < N_KINDS; k++) {
        nq[k] = 0;
        for (size_t tries = 0; nq[k] < per_kind && tries < per_kind * 200; tries++)
            if (make_query(c, k, &qs[k][nq[k]]))
                nq[k]++;
    }

    /* ---- build, size, open ---- */
    char p_essay[4096], p_uni[4096], p_tri[4096];
    snprintf(p_essay, sizeof(p_essay), "%s/bench_search.%d.essayidx", tmpdir, (int)getpid());
    snprintf(p_uni, sizeof(p_uni), "%s/bench_search.%d.unicode61.db", tmpdir, (int)getpid());
    snprintf(p_tri, sizeof(p_tri), "%s/bench_search.%d.trigram.db", tmpdir, (int)getpid());

    double t0 = now_sec();
    essay_index *built;
    if (essay_index_build(&built, c, NULL, &err)) {
        fprintf(stderr, "essay_index_build: %s\n", err.message);
        return 2;
    }
    double t_build = now_sec() - t0;
    if (essay_index_save(built, p_essay, &err)) {
        fprintf(stderr, "essay_index_save: %s\n", err.message);
        return 2;
    }
    essay_index_free(built);
    essay_index *idx;
    size_t nh;
    t0 = now_sec();
    if (essay_index_open(&idx, p_essay, ESSAY_OPEN_TRUSTED, &err)) {
        fprintf(stderr, "essay_index_open: %s\n", err.message);
        return 2;
    }
    double t_open_trusted = now_sec() - t0;
    essay_index_free(idx);
    t0 = now_sec();
    if (essay_index_open(&idx, p_essay, 0, &err)) {
        fprintf(stderr, "essay_index_open: %s\n", err.message);
        return 2;
    }
    double t_open = now_sec() - t0;
    t0 = now_sec();
    essay_query(idx, qs[K_WORD][0].essay, &nh, NULL, NULL);
    double t_first = now_sec() - t0;

    double fb[2], fo[2], ff[2];
    const char *fpath[2] = { p_uni, p_tri };
    const char *ftok[2] = { "unicode61", "trigram" };
    fts5_db fdb[2];
    for (int k = 0; k < 2; k++) {
        if (fts5_build(c, fpath[k], ftok[k], &fb[k]))
            return 2;
        t0 = now_sec();
        if (fts5_open(&fdb[k], fpath[k]))
            return 2;
        fo[k] = now_sec() - t0;
        t0 = now_sec();
        fts5_query(&fdb[k], k ? qs[K_WORD][0].fts_tri : qs[K_WORD][0].fts, &nh, NULL);
        ff[k] = now_sec() - t0;
    }

    printf("%-22s %10s %12s %14s %16s\n", "engine", "build MB/s", "size/corpus", "open ms",
           "first query ms");
    printf("%-22s %10.1f %12.2f %6.3f/%-7.3f %16.3f   (open: verified/trusted)\n",
           "libessay", (double)text_bytes / 1e6 / t_build,
           (double)file_bytes(p_essay) / (double)text_bytes, t_open * 1e3,
           t_open_trusted * 1e3, t_first * 1e3);
    for (int k = 0; k < 2; k++)
        printf("%-22s %10.1f %12.2f %14.3f %16.3f\n",
               k ? "FTS5 trigram" : "FTS5 unicode61", (double)text_bytes / 1e6 / fb[k],
               (double)file_bytes(fpath[k]) / (double)text_bytes, fo[k] * 1e3, ff[k] * 1e3);

    /* ---- latency per kind ---- */
    static double lat[MAX_Q];
    kind_result r[3][N_KINDS];
    size_t totals[N_KINDS];
    for (int k = 0; k < N_KINDS; k++) {
        totals[k] = 0;
        for (int eng = 0; eng < 3; eng++) {
            size_t found = 0, errors = 0;
            for (int pass = 0; pass < 2; pass++) {
                for (size_t i = 0; i < nq[k]; i++) {
                    const query *q = &qs[k][i];
                    double s = now_sec();
                    int rc;
                    if (eng == 0)
                        rc = essay_query(idx, q->essay, &nh, pass ? &totals[k] : NULL, NULL);
                    else
                        rc = fts5_query(&fdb[eng - 1], eng == 1 ? q->fts : q->fts_tri, &nh, NULL);
                    lat[i] = (now_sec() - s) * 1e6;
                    if (pass) {
                        found += nh > 0;
                        errors += rc != 0;
                        if (rc && eng == 0 && errors <= 3)
                            fprintf(stderr, "libessay rejected query '%s'\n", q->essay);
                    }
                }
            }
            r[eng][k].med_us = quantile(lat, nq[k], 0.5);
            r[eng][k].p99_us = quantile(lat, nq[k], 0.99);
            r[eng][k].found = nq[k] ? (double)found / (double)nq[k] : 0;
            r[eng][k].errors = errors;
        }
    }

    printf("\nquery latency, top 10 with highlights, snippet and aligned paragraph "
           "(microseconds: median / p99; found = share of queries with a hit)\n");
    printf("%-16s %4s | %-24s %8s | %-24s %5s %7s | %-24s %5s %7s\n", "kind", "n",
           "libessay med/p99  found", "avg tot", "FTS5 unicode61", "found", "x med",
           "FTS5 trigram", "found", "x med");
    for (int k = 0; k < N_KINDS; k++) {
        printf("%-16s %4zu | %8.1f %8.1f %5.0f%% %8.0f | %8.1f %8.1f %6s %4.0f%% %7.2f | "
               "%8.1f %8.1f %6s %4.0f%% %7.2f\n",
               kind_names[k], nq[k], r[0][k].med_us, r[0][k].p99_us, 100 * r[0][k].found,
               nq[k] ? (double)totals[k] / (double)nq[k] : 0, r[1][k].med_us, r[1][k].p99_us, "",
               100 * r[1][k].found, r[1][k].med_us / r[0][k].med_us, r[2][k].med_us,
               r[2][k].p99_us, "", 100 * r[2][k].found, r[2][k].med_us / r[0][k].med_us);
        for (int eng = 0; eng < 3; eng++)
            if (r[eng][k].errors)
                printf("%18s %s: %zu queries rejected\n", "",
                       eng == 0 ? "libessay" : eng == 1 ? "FTS5 unicode61" : "FTS5 trigram",
                       r[eng][k].errors);
    }
    printf("\n(x med = FTS5 median / libessay median; above 1 means libessay is faster)\n");
    printf("sample queries:");
    for (int k = 0; k < N_KINDS; k++)
        printf(" [%s]", nq[k] ? qs[k][0].essay : "");
    printf("\n");

    essay_index_free(idx);
    for (int k = 0; k < 2; k++)
        fts5_close(&fdb[k]);
    unlink(p_essay);
    unlink(p_uni);
    unlink(p_tri);
    essay_corpus_free(c);
    return 0;
}
