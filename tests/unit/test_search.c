/*
 * test_search.c - index build, query language, ranking, highlights, pairs,
 * save/open round trips, damaged images, threads, and the correctness
 * oracle: randomized queries of every kind checked against a brute-force
 * scan of the paragraphs (Han substrings against the folded text itself,
 * English words against the analyzer's tokens), on the embedded essay and
 * on the real bilingual corpus in tests/data/real/bilingual.md.
 *
 * Built twice by CMake: once normally and once against a library whose term
 * hash keeps only 8 bits (test_search_collide), so thousands of distinct
 * terms collide and the byte-comparison path carries every lookup.
 */
#include "analyze.h"
#include "corpus.h"
#include "harness.h"
#include "index.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <unicode/ustring.h>
#include <unicode/utrans.h>

static const char *data_dir;

/* ---- helpers -------------------------------------------------------------- */

static essay_index *default_index(void)
{
    essay_index *idx = NULL;
    essay_error e;
    int rc = essay_index_default(&idx, &e);
    CHECK_INT(rc, 0);
    if (rc)
        fprintf(stderr, "%s\n", e.message);
    return idx;
}

static essay_index *index_of(const char *text, essay_corpus **keep)
{
    essay_corpus *c = NULL;
    essay_index *idx = NULL;
    essay_error e;
    int rc = essay_corpus_parse(&c, text, strlen(text), "t.md", NULL, &e);
    CHECK_INT(rc, 0);
    if (rc) {
        fprintf(stderr, "%s\n", e.message);
        return NULL;
    }
    rc = essay_index_build(&idx, c, NULL, &e);
    CHECK_INT(rc, 0);
    if (keep)
        *keep = c;
    else
        essay_corpus_free(c);
    return idx;
}

static essay_results *search(const essay_index *idx, const char *q, size_t limit, int lang)
{
    essay_search_options o = ESSAY_SEARCH_OPTIONS_INIT;
    o.limit = limit;
    o.lang = lang;
    essay_results *r = NULL;
    essay_error e;
    int rc = essay_index_search(idx, q, SIZE_MAX, &o, &r, &e);
    if (rc != 0) {
        fprintf(stderr, "search '%s': %s\n", q, e.message);
        CHECK_INT(rc, 0);
        return NULL;
    }
    return r;
}

static void check_spans(const char *text, size_t len, const essay_span *sp, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        CHECK(sp[i].start < sp[i].end);
        CHECK(sp[i].end <= len);
        if (sp[i].end > len)
            continue;
        CHECK(((unsigned char)text[sp[i].start] & 0xC0) != 0x80);
        CHECK(sp[i].end == len || ((unsigned char)text[sp[i].end] & 0xC0) != 0x80);
        if (i > 0)
            CHECK(sp[i - 1].end < sp[i].start); /* sorted, merged when adjacent */
    }
}

static void check_results(const essay_results *r)
{
    size_t n = essay_results_count(r);
    CHECK(essay_results_total(r) >= n);
    double prev = 1e300;
    for (size_t i = 0; i < n; i++) {
        essay_hit h;
        CHECK_INT(essay_results_hit(r, i, &h), 0);
        CHECK(h.score <= prev);
        prev = h.score;
        CHECK(h.text[h.text_len] == 0);
        check_spans(h.text, h.text_len, h.highlights, h.n_highlights);
        CHECK(h.snippet_start <= h.snippet_end && h.snippet_end <= h.text_len);
        if (h.has_pair) {
            CHECK(h.pair_lang != h.lang);
            CHECK(h.pair_para == h.para);
            check_spans(h.pair_text, h.pair_text_len, h.pair_highlights, h.n_pair_highlights);
        }
    }
    essay_hit h;
    CHECK_INT(essay_results_hit(r, n, &h), ESSAY_EINVAL);
}

/* ---- cases on the embedded essay ----------------------------------------- */

static void search_default_chinese(void)
{
    essay_index *idx = default_index();
    essay_results *r = search(idx, "数学", 10, -1);
    CHECK(r && essay_results_count(r) >= 3);
    check_results(r);
    for (size_t i = 0; r && i < essay_results_count(r); i++) {
        essay_hit h;
        essay_results_hit(r, i, &h);
        CHECK_MEM(h.essay, h.essay_len, "0301");
        CHECK_INT(h.lang, ESSAY_LANG_ZH);
        CHECK(h.has_pair);
        CHECK_INT(h.pair_lang, ESSAY_LANG_EN);
        CHECK(h.n_highlights >= 1);
        for (size_t j = 0; j < h.n_highlights; j++)
            CHECK_MEM(h.text + h.highlights[j].start,
                      h.highlights[j].end - h.highlights[j].start, "数学");
    }
    /* traditional and full-width forms fold to the same answer */
    essay_results *t = search(idx, "數學", 10, -1);
    CHECK(t && r && essay_results_total(t) == essay_results_total(r));
    essay_results_free(t);
    essay_results *ai1 = search(idx, "ＡＩ", 0, -1), *ai2 = search(idx, "ai", 0, -1);
    CHECK(ai1 && ai2 && essay_results_total(ai1) == essay_results_total(ai2) &&
          essay_results_total(ai1) > 0);
    essay_results_free(ai1);
    essay_results_free(ai2);
    /* mixed: both must be in the paragraph; the English pair highlights AI */
    essay_results *m = search(idx, "AI 数学", 10, -1);
    CHECK(m && essay_results_count(m) >= 1);
    if (m && essay_results_count(m) >= 1) {
        essay_hit h;
        essay_results_hit(m, 0, &h);
        CHECK(h.n_highlights >= 2);
        CHECK(h.n_pair_highlights >= 1);
        check_results(m);
    }
    essay_results_free(m);
    essay_results_free(r);
    essay_index_free(idx);
}

static void search_default_english(void)
{
    essay_index *idx = default_index();
    /* stems: "learn" finds learning, learned ...; the exact form does not */
    essay_results *stem = search(idx, "learn", 0, -1);
    essay_results *exact = search(idx, "\"learn\"", 0, -1);
    CHECK(stem && exact);
    if (stem && exact) {
        CHECK(essay_results_total(stem) > essay_results_total(exact));
        check_results(stem);
        for (size_t i = 0; i < essay_results_count(exact); i++) {
            essay_hit h;
            essay_results_hit(exact, i, &h);
            for (size_t j = 0; j < h.n_highlights; j++) {
                size_t n = h.highlights[j].end - h.highlights[j].start;
                CHECK(n == 5 && strncasecmp(h.text + h.highlights[j].start, "learn", 5) == 0);
            }
        }
    }
    essay_results_free(stem);
    essay_results_free(exact);
    /* prefix, phrase, language filter, essay filter, boolean */
    const char *queries[] = { "math*", "\"deep learning\"", "lang:en ai", "essay:0301",
                              "ai OR 数学", "ai -数学", "(ai OR math) lang:zh", "NOT math ai" };
    for (size_t i = 0; i < ESSAY_ARRAY_LEN(queries); i++) {
        essay_results *r = search(idx, queries[i], 0, -1);
        CHECK(r != NULL);
        if (!r)
            continue;
        CHECK(essay_results_total(r) > 0);
        check_results(r);
        essay_results_free(r);
    }
    essay_results *all = search(idx, "essay:0301", 0, -1);
    CHECK(all && essay_results_total(all) == 16);
    essay_results_free(all);
    essay_results *none = search(idx, "essay:9999 ai", 0, -1);
    CHECK(none && essay_results_total(none) == 0);
    essay_results_free(none);
    essay_index_free(idx);
}

static void search_options_paging(void)
{
    essay_index *idx = default_index();
    essay_results *all = search(idx, "essay:0301", 0, -1);
    size_t total = all ? essay_results_total(all) : 0;
    CHECK_INT(total, 16);
    /* pages concatenate to the whole list, in order */
    for (size_t off = 0; all && off < total; off += 3) {
        essay_search_options o = ESSAY_SEARCH_OPTIONS_INIT;
        o.limit = 3;
        o.offset = off;
        essay_results *p = NULL;
        CHECK_INT(essay_index_search(idx, "essay:0301", SIZE_MAX, &o, &p, NULL), 0);
        for (size_t i = 0; p && i < essay_results_count(p); i++) {
            essay_hit a, b;
            essay_results_hit(p, i, &a);
            essay_results_hit(all, off + i, &b);
            CHECK(a.lang == b.lang && a.para == b.para);
        }
        essay_results_free(p);
    }
    /* ties are ordered by key: essay, then en before zh, then paragraph */
    for (size_t i = 0; all && i < total; i++) {
        essay_hit h;
        essay_results_hit(all, i, &h);
        CHECK_INT(h.lang, i < 8 ? ESSAY_LANG_EN : ESSAY_LANG_ZH);
        CHECK_INT(h.para, i % 8);
    }
    essay_results_free(all);
    essay_results *zh = search(idx, "ai", 0, ESSAY_LANG_ZH);
    for (size_t i = 0; zh && i < essay_results_count(zh); i++) {
        essay_hit h;
        essay_results_hit(zh, i, &h);
        CHECK_INT(h.lang, ESSAY_LANG_ZH);
    }
    essay_results_free(zh);
    /* no pair, no highlight flags */
    essay_search_options o = ESSAY_SEARCH_OPTIONS_INIT;
    o.flags = ESSAY_SEARCH_NO_PAIR | ESSAY_SEARCH_NO_HIGHLIGHT;
    essay_results *r = NULL;
    CHECK_INT(essay_index_search(idx, "数学", SIZE_MAX, &o, &r, NULL), 0);
    for (size_t i = 0; r && i < essay_results_count(r); i++) {
        essay_hit h;
        essay_results_hit(r, i, &h);
        CHECK(!h.has_pair && h.n_highlights == 0);
    }
    essay_results_free(r);
    o.version = 99;
    CHECK_INT(essay_index_search(idx, "x", SIZE_MAX, &o, &r, NULL), ESSAY_EINVAL);
    essay_index_free(idx);
}

static void search_syntax_errors(void)
{
    essay_index *idx = default_index();
    struct {
        const char *q;
        int code;
        uint64_t offset;
    } cases[] = {
        { "", ESSAY_ESYNTAX, 0 },
        { "   ", ESSAY_ESYNTAX, 0 },
        { "(ai", ESSAY_ESYNTAX, 0 },
        { "ai )", ESSAY_ESYNTAX, 3 },
        { "\"deep learning", ESSAY_ESYNTAX, 0 },
        { "ai \"x", ESSAY_ESYNTAX, 3 },
        { "-ai", ESSAY_ESYNTAX, 0 },
        { "ai OR", ESSAY_ESYNTAX, 3 },
        { "OR ai", ESSAY_ESYNTAX, 0 },
        { "ai OR -x", ESSAY_ESYNTAX, 6 },
        { "*", ESSAY_ESYNTAX, 0 },
        { "lang:fr ai", ESSAY_ESYNTAX, 5 },
        { "essay:x1", ESSAY_ESYNTAX, 6 },
        { "ai \xff", ESSAY_ESYNTAX, 3 },
        { "ai ()", ESSAY_ESYNTAX, 4 },
    };
    for (size_t i = 0; i < ESSAY_ARRAY_LEN(cases); i++) {
        essay_results *r = (essay_results *)1;
        essay_error e;
        memset(&e, 0, sizeof e);
        int rc = essay_index_search(idx, cases[i].q, SIZE_MAX, NULL, &r, &e);
        if (rc != cases[i].code || e.offset != cases[i].offset)
            fprintf(stderr, "query '%s': rc %d offset %llu: %s\n", cases[i].q, rc,
                    (unsigned long long)e.offset, e.message);
        CHECK_INT(rc, cases[i].code);
        CHECK_INT(e.offset, cases[i].offset);
        CHECK(r == NULL);
        CHECK(strlen(e.message) > 0);
    }
    /* limits: query length, term count, nesting */
    char *big = malloc(ESSAY_MAX_QUERY_BYTES + 2);
    memset(big, 'a', ESSAY_MAX_QUERY_BYTES + 1);
    big[ESSAY_MAX_QUERY_BYTES + 1] = 0;
    essay_results *r = NULL;
    essay_error e;
    CHECK_INT(essay_index_search(idx, big, SIZE_MAX, NULL, &r, &e), ESSAY_ELIMIT);
    size_t at = 0;
    for (unsigned i = 0; i < ESSAY_MAX_QUERY_TERMS + 1; i++)
        at += (size_t)sprintf(big + at, "w%u ", i);
    CHECK_INT(essay_index_search(idx, big, SIZE_MAX, NULL, &r, &e), ESSAY_ELIMIT);
    memset(big, '(', 40);
    strcpy(big + 40, "ai");
    CHECK_INT(essay_index_search(idx, big, SIZE_MAX, NULL, &r, &e), ESSAY_ELIMIT);
    free(big);
    /* unsearchable words are dropped; only-unsearchable matches nothing */
    r = search(idx, "🙂", 10, -1);
    CHECK(r && essay_results_total(r) == 0);
    essay_results_free(r);
    r = search(idx, "🙂 数学", 10, -1);
    CHECK(r && essay_results_total(r) > 0);
    essay_results_free(r);
    essay_index_free(idx);
}

/* A Chinese run that is a whole dictionary word outranks the same
 * characters inside a longer word, other things equal. */
static void search_whole_word_ranks_first(void)
{
    const char *text =
        "## 0001. One\n\nThe first.\n\n一\n\n我们的大学很大。\n\n"
        "## 0002. Two\n\nThe second.\n\n二\n\n他们是大学生。\n\n";
    essay_index *idx = index_of(text, NULL);
    essay_results *r = search(idx, "大学", 10, -1);
    CHECK(r && essay_results_count(r) == 2);
    if (r && essay_results_count(r) == 2) {
        essay_hit a, b;
        essay_results_hit(r, 0, &a);
        essay_results_hit(r, 1, &b);
        CHECK_MEM(a.essay, a.essay_len, "0001");
        CHECK(a.score > b.score);
    }
    essay_results_free(r);
    essay_index_free(idx);
}

static void search_literal_chinese_substrings(void)
{
    /* every substring of a sentence is found, adjacency is required, a
     * space or punctuation between characters breaks a literal match */
    const char *text = "## 0001. T\n\nE.\n\n标题\n\n我们在北京大学学习计算机科学。\n\n"
                       "## 0002. U\n\nF.\n\n标题\n\n北京 大学\n\n";
    essay_index *idx = index_of(text, NULL);
    const char *s = "我们在北京大学学习计算机科学";
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i += 3)
        for (size_t j = i + 3; j <= n && j - i <= 18; j += 3) {
            char q[64];
            memcpy(q, s + i, j - i);
            q[j - i] = 0;
            essay_results *r = search(idx, q, 0, -1);
            CHECK(r && essay_results_total(r) >= 1);
            essay_results_free(r);
        }
    essay_results *r = search(idx, "北京大学", 0, -1);
    CHECK(r && essay_results_total(r) == 1);
    essay_results_free(r);
    r = search(idx, "京大", 0, -1);
    CHECK(r && essay_results_total(r) == 1);
    essay_results_free(r);
    r = search(idx, "北京 大学", 0, -1); /* two terms, AND */
    CHECK(r && essay_results_total(r) == 2);
    essay_results_free(r);
    essay_index_free(idx);
}

/* ---- save / open ----------------------------------------------------------- */

static void results_equal(const essay_index *a, const essay_index *b, const char *q)
{
    essay_results *ra = search(a, q, 0, -1), *rb = search(b, q, 0, -1);
    CHECK(ra && rb);
    if (!ra || !rb)
        goto out;
    CHECK_INT(essay_results_total(ra), essay_results_total(rb));
    CHECK_INT(essay_results_count(ra), essay_results_count(rb));
    for (size_t i = 0; i < essay_results_count(ra) && i < essay_results_count(rb); i++) {
        essay_hit x, y;
        essay_results_hit(ra, i, &x);
        essay_results_hit(rb, i, &y);
        CHECK(x.lang == y.lang && x.para == y.para && x.score == y.score &&
              x.essay_len == y.essay_len && memcmp(x.essay, y.essay, x.essay_len) == 0 &&
              x.n_highlights == y.n_highlights);
    }
out:
    essay_results_free(ra);
    essay_results_free(rb);
}

static void index_save_open_roundtrip(void)
{
    essay_index *idx = default_index();
    char dir[] = "/tmp/essay-test-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[128];
    snprintf(path, sizeof path, "%s/i.essayidx", dir);
    essay_error e;
    CHECK_INT(essay_index_save(idx, path, &e), 0);
    CHECK_INT(essay_index_save(idx, path, &e), 0); /* over an existing file */
    for (unsigned flags = 0; flags <= ESSAY_OPEN_TRUSTED; flags++) {
        essay_index *o = NULL;
        CHECK_INT(essay_index_open(&o, path, flags, &e), 0);
        if (!o)
            continue;
        const char *qs[] = { "数学", "learn", "\"deep learning\"", "math*", "ai OR 数学",
                             "essay:0301", "ai -数学" };
        for (size_t i = 0; i < ESSAY_ARRAY_LEN(qs); i++)
            results_equal(idx, o, qs[i]);
        essay_index_stats s;
        CHECK_INT(essay_index_stats_get(o, &s), 0);
        CHECK_INT(s.essays, 1);
        CHECK_INT(s.paragraphs[0], 8);
        CHECK_INT(s.paragraphs[1], 8);
        CHECK_INT(essay_index_warning_count(o), 0);
        /* the corpus of an opened index browses like the original */
        const essay_corpus *c = essay_index_corpus(o, &e);
        CHECK(c != NULL);
        if (c) {
            const essay_article *a = essay_corpus_find(c, "0301", 4);
            CHECK(a && essay_article_paragraph_count(a, ESSAY_LANG_EN) == 8 &&
                  essay_article_is_aligned(a));
            essay_corpus *orig = NULL;
            essay_corpus_default(&orig, NULL);
            const essay_article *b = essay_corpus_find(orig, "0301", 4);
            for (size_t k = 0; a && b && k < 8; k++)
                for (int l = 0; l < 2; l++) {
                    size_t la, lb;
                    const char *ta = essay_paragraph_text(essay_article_paragraph(a, l, k), &la);
                    const char *tb = essay_paragraph_text(essay_article_paragraph(b, l, k), &lb);
                    CHECK(la == lb && memcmp(ta, tb, la) == 0);
                    CHECK(essay_paragraph_pair(essay_article_paragraph(a, l, k)) ==
                          essay_article_paragraph(a, !l, k));
                }
            essay_corpus_free(orig);
        }
        essay_index_free(o);
    }
    /* open from memory, aligned and not */
    size_t len;
    const void *img = essay_index_image(idx, &len);
    char *buf = malloc(len + 1);
    memcpy(buf + 1, img, len);
    essay_index *m = NULL;
    CHECK_INT(essay_index_open_memory(&m, buf + 1, len, 0, &e), 0);
    if (m)
        results_equal(idx, m, "数学 OR ai");
    essay_index_free(m);
    free(buf);
    /* missing file, directory, garbage */
    essay_index *o = NULL;
    CHECK_INT(essay_index_open(&o, "/nonexistent/x.idx", 0, &e), ESSAY_ENOTFOUND);
    CHECK_INT(essay_index_open(&o, dir, 0, &e), ESSAY_EIO);
    CHECK_INT(essay_index_open_memory(&o, "garbage", 7, 0, &e), ESSAY_ECORRUPT);
    /* no temporary files left behind */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) -eq 1", dir);
    CHECK_INT(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_INT(system(cmd), 0);
    CHECK_INT(essay_index_save(idx, "/nonexistent-dir/x.idx", &e), ESSAY_EIO);
    CHECK(strstr(e.message, "nonexistent-dir") != NULL);
    essay_index_free(idx);
}

/* Every byte flipped and every truncation of a small index: clean errors
 * with checksums; with checksums off, no crash and sane results. */
static void index_damage(void)
{
    essay_index *idx = default_index();
    size_t len;
    const uint8_t *img = essay_index_image(idx, &len);
    uint8_t *buf = malloc(len);
    unsigned long opened_verified = 0, ran_trusted = 0;
    srand(7);
    for (int trial = 0; trial < 3000; trial++) {
        memcpy(buf, img, len);
        size_t cut = len;
        if (trial % 3 == 0) {
            cut = (size_t)rand() % len;
        } else {
            size_t at = (size_t)rand() % len;
            buf[at] ^= (uint8_t)(1u << (rand() % 8));
        }
        essay_index *o = NULL;
        essay_error e;
        int rc = essay_index_open_memory(&o, buf, cut, 0, &e);
        if (rc == 0) {
            opened_verified++; /* a flip in padding bytes is harmless */
            essay_index_free(o);
        } else {
            CHECK(rc == ESSAY_ECORRUPT || rc == ESSAY_EVERSION);
            CHECK(strlen(e.message) > 0);
        }
        rc = essay_index_open_memory(&o, buf, cut, ESSAY_OPEN_TRUSTED, &e);
        if (rc == 0) {
            const char *qs[] = { "数学", "learn", "math*", "\"deep learning\" OR ai", "essay:0301" };
            for (size_t i = 0; i < ESSAY_ARRAY_LEN(qs); i++) {
                essay_results *r = NULL;
                rc = essay_index_search(o, qs[i], SIZE_MAX, NULL, &r, &e);
                CHECK(rc == 0 || rc == ESSAY_ECORRUPT);
                if (rc == 0)
                    check_results(r);
                essay_results_free(r);
            }
            essay_index_corpus(o, NULL);
            ran_trusted++;
            essay_index_free(o);
        }
    }
    fprintf(stderr, "  damage: %lu verified opens (padding flips), %lu trusted runs\n",
            opened_verified, ran_trusted);
    free(buf);
    essay_index_free(idx);
}

/* ---- threads --------------------------------------------------------------- */

static const char *thread_queries[] = { "数学", "learn", "math*", "ai OR 数学", "\"deep learning\"",
                                        "ai -数学", "学", "lang:zh ai", "essay:0301" };

typedef struct tres {
    const essay_index *idx;
    char sig[4096];
    int fails;
} tres;

static void signature(const essay_index *idx, char *sig, size_t cap, int *fails)
{
    size_t at = 0;
    sig[0] = 0;
    for (size_t i = 0; i < ESSAY_ARRAY_LEN(thread_queries); i++) {
        essay_results *r = NULL;
        if (essay_index_search(idx, thread_queries[i], SIZE_MAX, NULL, &r, NULL) != 0) {
            (*fails)++;
            continue;
        }
        for (size_t k = 0; k < essay_results_count(r); k++) {
            essay_hit h;
            essay_results_hit(r, k, &h);
            at += (size_t)snprintf(sig + at, cap - at, "%d.%zu.%zu;", h.lang, h.para,
                                   h.n_highlights);
            if (at >= cap)
                at = cap - 1;
        }
        essay_results_free(r);
    }
}

static void *thread_main(void *arg)
{
    tres *t = arg;
    char sig[4096];
    for (int i = 0; i < 200; i++) {
        signature(t->idx, sig, sizeof sig, &t->fails);
        if (strcmp(sig, t->sig) != 0)
            t->fails++;
    }
    return NULL;
}

static void search_concurrent(void)
{
    essay_index *idx = default_index();
    tres base = { idx, "", 0 };
    signature(idx, base.sig, sizeof base.sig, &base.fails);
    tres ts[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        ts[i] = base;
        pthread_create(&th[i], NULL, thread_main, &ts[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT(ts[i].fails, 0);
    }
    essay_index_free(idx);
}

/* ---- the build's id caches ------------------------------------------------- */

/* The build names most terms from id caches (build.c): an English word by
 * its slot in the analyzer's word cache, valid for one generation of that
 * cache; a Han character by its code point; a Han pair or two-character
 * word by its two code points and its kind.  The English paragraphs here
 * make the analyzer empty its cache (at 12288 source words) several times,
 * in the middle of paragraphs: 40 paragraphs of 1000-1500 words from 6000,
 * in overlapping windows, every occurrence in one of 16 letter cases (other
 * source bytes, so other slots, for the same terms: many source words but
 * few terms, which keeps the 8-bit-hash build of this file quick), so each
 * word's paragraphs are known.  The Chinese paragraphs are characters the
 * analyzer does not fold, some beyond the BMP, and dictionary words, so the
 * same two characters stand as a pair and as a word.  Checked: the 1- and
 * 2-thread images are equal; the df of every word's stem and exact form,
 * and of every Han character, pair and two-character word, against the
 * text; the hits of a few hundred queries of each kind. */

#define IC_WORDS 6000u
#define IC_FORMS 16 /* letter cases of a word: other source bytes, same terms */
#define IC_PARAS 40u /* English body paragraphs (at most 64: masks) */

static const unsigned ic_essay_paras[] = { 3, 5, 1, 4, 6, 2, 4, 3, 5, 2, 4, 1 };

static uint64_t ic_rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Vocabulary word w (also beyond IC_WORDS, for absent words): four base-19
 * letters, then up to two more.  Without a vowel, 's' or 'y', the Snowball
 * English stemmer leaves it alone (checked below), so it is its own stem
 * and no two words share one. */
static size_t ic_word(uint32_t w, int form, char *out)
{
    static const char cons[] = "bcdfghjklmnpqrtvwxz";
    size_t n = 0;
    uint32_t v = w;
    for (int i = 0; i < 4; i++, v /= 19)
        out[n++] = cons[v % 19];
    for (uint32_t k = 0; k < w % 3; k++)
        out[n++] = cons[(w * 7 + k * 5) % 19];
    out[n] = 0;
    /* form 0: lower case, 1: Capitalized, 2: UPPER, 3..: mixed */
    for (size_t i = 0; i < n; i++)
        if (form == 2 || (form == 1 && i == 0) || (form > 2 && (form >> (i % 4) & 1)))
            out[i] = (char)(out[i] - 'a' + 'A');
    return n;
}

typedef struct ic_tok {
    const char *src;
    size_t n_uni, n_word;
    bool same;
    char word[2][64]; /* WORD, EXACT terms */
} ic_tok;

static int ic_tok_cb(void *payload, const essay_token *t)
{
    ic_tok *u = payload;
    unsigned k = t->flags & ESSAY_TOKEN_KIND_MASK;
    if (k == ESSAY_TOKEN_HAN_UNIGRAM) {
        u->n_uni++;
        if (t->term_len != t->end - t->start || memcmp(t->term, u->src + t->start, t->term_len))
            u->same = false;
    } else if ((k == ESSAY_TOKEN_WORD || k == ESSAY_TOKEN_EXACT) && t->term_len < 64) {
        u->n_word++;
        memcpy(u->word[k == ESSAY_TOKEN_EXACT], t->term, t->term_len);
        u->word[k == ESSAY_TOKEN_EXACT][t->term_len] = 0;
    }
    return 0;
}

/* Does the analyzer index each of the n Han characters of s as it is? */
static bool ic_unfolded(essay_analyzer *an, const char *s, size_t len, size_t n)
{
    ic_tok u = { .src = s, .same = true };
    return essay_analyzer_run(an, s, len, 0, ic_tok_cb, &u, NULL) == 0 && u.same &&
           u.n_uni == n;
}

/* Occurrences of Han terms: key (cp, or cp1 << 21 | cp2) in paragraph doc. */
typedef struct ic_occ {
    uint64_t key;
    uint32_t doc;
} ic_occ;

typedef struct ic_occs {
    ic_occ *v;
    size_t n, cap;
    uint32_t doc; /* for ic_word_cb */
} ic_occs;

static void ic_push(ic_occs *o, uint64_t key, uint32_t doc)
{
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 1024;
        o->v = realloc(o->v, o->cap * sizeof(ic_occ));
    }
    o->v[o->n++] = (ic_occ){ key, doc };
}

static int ic_occ_cmp(const void *a, const void *b)
{
    const ic_occ *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->doc < y->doc ? -1 : x->doc > y->doc;
}

/* Sort, drop repeats within a paragraph. */
static void ic_sort(ic_occs *o)
{
    qsort(o->v, o->n, sizeof(ic_occ), ic_occ_cmp);
    size_t k = 0;
    for (size_t i = 0; i < o->n; i++)
        if (k == 0 || o->v[i].key != o->v[k - 1].key || o->v[i].doc != o->v[k - 1].doc)
            o->v[k++] = o->v[i];
    o->n = k;
}

/* The two-character dictionary words of a paragraph. */
static int ic_word_cb(void *payload, const essay_token *t)
{
    ic_occs *o = payload;
    if ((t->flags & ESSAY_TOKEN_KIND_MASK) != ESSAY_TOKEN_HAN_WORD)
        return 0;
    const unsigned char *s = (const unsigned char *)t->term;
    uint32_t a, b;
    size_t n = essay_utf8_decode(s, t->term_len, &a);
    if (n && n < t->term_len &&
        essay_utf8_decode(s + n, t->term_len - n, &b) == t->term_len - n)
        ic_push(o, (uint64_t)a << 21 | b, o->doc);
    return 0;
}

static size_t ic_key_utf8(uint64_t key, char *out)
{
    size_t n = 0;
    if (key >> 21)
        n = essay_utf8_encode((uint32_t)(key >> 21), out);
    n += essay_utf8_encode((uint32_t)key & 0x1FFFFF, out + n);
    out[n] = 0;
    return n;
}

static uint32_t ic_df(const essay_index *idx, char kind, const char *s, size_t n)
{
    char key[ESSAY_MAX_TOKEN_BYTES + 2];
    key[0] = kind;
    memcpy(key + 1, s, n);
    int64_t id = essay_index_lookup(idx, key, n + 1);
    return id < 0 ? 0 : idx->terms[id].df;
}

/* Every distinct key of o (sorted) has a term of `kind` in as many
 * paragraphs as the text says; the number of mismatches. */
static size_t ic_check_df(const essay_index *idx, char kind, const ic_occs *o)
{
    size_t bad = 0;
    for (size_t i = 0, j; i < o->n; i = j) {
        for (j = i; j < o->n && o->v[j].key == o->v[i].key; j++)
            ;
        char s[16];
        size_t n = ic_key_utf8(o->v[i].key, s);
        uint32_t df = ic_df(idx, kind, s, n);
        if (df != j - i && bad++ < 5)
            fprintf(stderr, "  term %c%s: df %u, in %zu paragraphs\n", kind, s, df, j - i);
    }
    return bad;
}

/* Are the hits of q (all of them) exactly the paragraphs marked in want? */
static bool ic_hits_are(const essay_index *idx, const essay_corpus *c, const char *q, int lang,
                        const uint8_t *want, uint8_t *got, bool tell)
{
    essay_search_options o = ESSAY_SEARCH_OPTIONS_INIT;
    o.limit = 0;
    o.lang = lang;
    o.flags = ESSAY_SEARCH_NO_HIGHLIGHT | ESSAY_SEARCH_NO_PAIR;
    essay_results *r = NULL;
    essay_error e;
    if (essay_index_search(idx, q, SIZE_MAX, &o, &r, &e) != 0) {
        fprintf(stderr, "  search '%s': %s\n", q, e.message);
        return false;
    }
    size_t total = essay_results_total(r), count = essay_results_count(r);
    bool ok = total == count;
    memset(got, 0, c->n_paras);
    for (size_t k = 0; k < count; k++) {
        essay_hit h;
        essay_results_hit(r, k, &h);
        const essay_article *a = essay_corpus_find(c, h.essay, h.essay_len);
        const essay_paragraph *p = a ? essay_article_paragraph(a, h.lang, h.para) : NULL;
        if (!p || got[p->ordinal])
            ok = false; /* unknown, or twice */
        else
            got[p->ordinal] = 1;
    }
    essay_results_free(r);
    if (ok && memcmp(want, got, c->n_paras) == 0)
        return true;
    if (!tell)
        return false;
    size_t nw = 0, ng = 0, first = SIZE_MAX;
    for (size_t i = 0; i < c->n_paras; i++) {
        nw += want[i];
        ng += got[i];
        if (want[i] != got[i] && first == SIZE_MAX)
            first = i;
    }
    if (first == SIZE_MAX)
        fprintf(stderr, "  query '%s': the right paragraphs, but %zu hits (total %zu)\n", q,
                count, total);
    else
        fprintf(stderr, "  query '%s': %zu paragraphs, expected %zu; first difference: %zu\n",
                q, ng, nw, first);
    return false;
}

static void build_id_caches(void)
{
    essay_analyzer *an = NULL;
    CHECK_INT(essay_analyzer_new(&an, NULL), 0);
    if (!an)
        return;
    uint64_t seed = 0x2545F4914F6CDD1Dull;
    char wb[16];

    /* the generated words are their own stems and exact forms, in every case */
    for (uint32_t w = 0; w < IC_WORDS + 20; w += 331)
        for (int form = 0; form < IC_FORMS; form++) {
            ic_word(w, 0, wb);
            char src[16];
            size_t n = ic_word(w, form, src);
            ic_tok u = { .src = src, .same = true };
            CHECK_INT(essay_analyzer_run(an, src, n, 0, ic_tok_cb, &u, NULL), 0);
            CHECK(u.n_word == 2 && strcmp(u.word[0], wb) == 0 && strcmp(u.word[1], wb) == 0);
        }

    /* Han characters and two-character words the analyzer does not fold:
     * common ones (the dictionary makes words of them), a few of Extension A,
     * and some beyond the BMP (Extension B, 4 bytes in UTF-8) */
    static const char common[] =
        "的一是不了人我在有他这中大来上们到说国和地也子时道出要于就下得"
        "可你年生自会那后能对着事其里所去行过家十用发天如然作方成者多日"
        "都三小军二无同么经法当起与好看学进种将还分此心前面又定见只主没"
        "公从已现知问样文化科技术数计算语言字民政府部结果开始研究工社历"
        "史世界朋友东西情老师活因为但如果什间题展济";
    static const char *dict[] = {
        "中国", "我们", "他们", "时间", "问题", "工作", "社会", "经济", "发展", "国家",
        "世界", "历史", "文化", "科学", "技术", "数学", "大学", "学生", "老师", "生活",
        "自己", "现在", "已经", "可以", "因为", "所以", "但是", "如果", "没有", "知道",
        "什么", "这样", "事情", "地方", "东西", "朋友", "学习", "研究", "计算", "语言",
        "文字", "人民", "政府", "方法", "部分", "结果", "开始", "出现"
    };
    char han[66][5], ext[20][5];
    const char *words[ESSAY_ARRAY_LEN(dict)];
    size_t n_han = 0, n_ext = 0, n_words = 0;
    for (size_t i = 0; i < sizeof common - 1;) {
        uint32_t cp;
        size_t k =
            essay_utf8_decode((const unsigned char *)common + i, sizeof common - 1 - i, &cp);
        CHECK(k > 0);
        if (k == 0)
            break;
        bool dup = false;
        for (size_t j = 0; j < n_han && !dup; j++)
            dup = strncmp(han[j], common + i, k) == 0 && han[j][k] == 0;
        if (!dup && n_han < 60 && ic_unfolded(an, common + i, k, 1)) {
            memcpy(han[n_han], common + i, k);
            han[n_han++][k] = 0;
        }
        i += k;
    }
    for (uint32_t cp = 0x3400; cp < 0x4DB0 && n_han < 66; cp += 331) {
        char s[5];
        s[essay_utf8_encode(cp, s)] = 0;
        if (ic_unfolded(an, s, strlen(s), 1))
            strcpy(han[n_han++], s);
    }
    /* Extension B (4 bytes in UTF-8): first characters 0x20000 above some
     * of those (the same low 16 bits), then others over the block */
    size_t n_twins = 0;
    for (size_t i = 0; i < n_han + 400 && n_ext < 20; i++) {
        uint32_t cp;
        if (i < n_han) {
            if (n_ext >= 8)
                continue;
            essay_utf8_decode((const unsigned char *)han[i], strlen(han[i]), &cp);
            cp += 0x20000;
        } else {
            cp = 0x20000 + (uint32_t)(i - n_han) * 419;
        }
        char s[5];
        s[essay_utf8_encode(cp, s)] = 0;
        if (cp < 0x2A6E0 && ic_unfolded(an, s, strlen(s), 1)) {
            strcpy(ext[n_ext++], s);
            n_twins += i < n_han;
        }
    }
    for (size_t i = 0; i < ESSAY_ARRAY_LEN(dict); i++)
        if (ic_unfolded(an, dict[i], strlen(dict[i]), 2))
            words[n_words++] = dict[i];
    CHECK(n_han >= 64 && n_ext >= 16 && n_twins >= 4 && n_words >= 24);
    if (n_han < 2 || n_ext < 2 || n_words < 2) {
        essay_analyzer_free(an);
        return;
    }

    /* the corpus; mask[w]: the English body paragraphs of word w */
    const size_t n_essays = ESSAY_ARRAY_LEN(ic_essay_paras);
    uint64_t *mask = calloc(IC_WORDS, sizeof(uint64_t));
    uint32_t *list = malloc(4096 * sizeof(uint32_t));
    size_t en_off[IC_PARAS], en_len[IC_PARAS], en_essay[IC_PARAS], en_index[IC_PARAS];
    essay_buf src = ESSAY_BUF_INIT;
    char line[256];
    size_t p = 0;
    for (size_t e = 0; e < n_essays; e++) {
        snprintf(line, sizeof line, "## %zu. Essay number %zu\n\n", 1001 + e, e);
        essay_buf_put(&src, line, strlen(line));
        for (unsigned j = 0; j < ic_essay_paras[e]; j++, p++) {
            size_t n = 0, len = 1000 + (p * 137) % 501;
            for (size_t k = 0; k < len; k++)
                list[n++] = (uint32_t)((p * (IC_WORDS / IC_PARAS) + k) % IC_WORDS);
            for (uint32_t w = 0; w < IC_WORDS; w += 50) /* in many paragraphs */
                if ((w / 50 + p) % 7 == 0)
                    list[n++] = w;
            for (size_t k = 0, n0 = n; k < n0; k++) /* twice in the paragraph */
                if (ic_rnd(&seed) % 16 == 0)
                    list[n++] = list[k];
            for (size_t k = n - 1; k > 0; k--) {
                size_t r = (size_t)(ic_rnd(&seed) % (k + 1));
                uint32_t t = list[k];
                list[k] = list[r];
                list[r] = t;
            }
            en_off[p] = src.len;
            en_essay[p] = e;
            en_index[p] = j + 1; /* 0 is the title */
            for (size_t k = 0; k < n; k++) {
                size_t wl = ic_word(list[k], (int)(ic_rnd(&seed) % IC_FORMS), wb);
                essay_buf_put(&src, wb, wl);
                mask[list[k]] |= (uint64_t)1 << p;
                if (k + 1 < n) {
                    unsigned s = (unsigned)(ic_rnd(&seed) % 16);
                    essay_buf_put(&src, s == 0 ? ", " : s == 1 ? ". " : " ", s < 2 ? 2 : 1);
                }
            }
            essay_buf_put(&src, ".", 1);
            en_len[p] = src.len - en_off[p];
            essay_buf_put(&src, "\n\n", 2);
        }
        snprintf(line, sizeof line, "%s%s%s %zu\n\n", han[e % n_han], han[(e * 7 + 1) % n_han],
                 han[(e * 13 + 2) % n_han], e);
        essay_buf_put(&src, line, strlen(line));
        for (unsigned j = 0; j < ic_essay_paras[e]; j++) {
            size_t chars = 600 + (size_t)(ic_rnd(&seed) % 400);
            bool punct = true;
            for (size_t k = 0; k < chars;) {
                unsigned r = (unsigned)(ic_rnd(&seed) % 100);
                const char *s1 = NULL, *s2 = NULL;
                if (r < 25) {
                    s1 = words[ic_rnd(&seed) % n_words];
                } else if (r < 30) {
                    s1 = ext[ic_rnd(&seed) % n_ext];
                    if (r == 29)
                        s2 = ext[ic_rnd(&seed) % n_ext];
                } else if (r < 34 && !punct) {
                    essay_buf_put(&src, r < 32 ? "，" : "。", strlen("，"));
                    punct = true;
                    continue;
                } else {
                    s1 = han[ic_rnd(&seed) % n_han];
                }
                essay_buf_put(&src, s1, strlen(s1));
                if (s2)
                    essay_buf_put(&src, s2, strlen(s2));
                k += (s2 || r < 25) ? 2 : 1;
                punct = false;
            }
            essay_buf_put(&src, "。\n\n", strlen("。\n\n"));
        }
    }
    CHECK_INT(p, IC_PARAS);

    essay_corpus *c = NULL;
    essay_index *one = NULL, *two = NULL;
    ic_occs uni = { 0 }, bi = { 0 }, hw = { 0 };
    uint8_t *want = NULL, *got = NULL;
    essay_error e;
    int rc = essay_corpus_parse(&c, src.data, src.len, "caches.md", NULL, &e);
    CHECK_INT(rc, 0);
    if (rc) {
        fprintf(stderr, "%s\n", e.message);
        goto out;
    }
    CHECK_INT(essay_corpus_article_count(c), n_essays);
    CHECK_INT(essay_corpus_warning_count(c), 0);
    uint32_t en_ord[IC_PARAS];
    for (p = 0; p < IC_PARAS; p++) {
        char id[16];
        snprintf(id, sizeof id, "%zu", 1001 + en_essay[p]);
        const essay_article *a = essay_corpus_find(c, id, strlen(id));
        const essay_paragraph *para =
            a ? essay_article_paragraph(a, ESSAY_LANG_EN, en_index[p]) : NULL;
        CHECK(a && essay_article_is_aligned(a));
        CHECK(para && para->len == en_len[p] &&
              memcmp(para->text, src.data + en_off[p], en_len[p]) == 0);
        if (!para)
            goto out;
        en_ord[p] = para->ordinal;
    }
    fprintf(stderr, "  corpus: %zu bytes, %zu paragraphs, %zu+%zu Han characters, %zu words\n",
            src.len, c->n_paras, n_han, n_ext, n_words);

    /* an analyzer fed the paragraphs in order (as one build thread is)
     * empties its word cache several times, within paragraphs: the cache
     * is made small for that (the corpus has fewer distinct words than it
     * holds), for this analyzer and the builds' below */
    essay_analyze_word_cache_limit(4096);
    essay_analyzer *fresh = NULL;
    CHECK_INT(essay_analyzer_new(&fresh, NULL), 0);
    if (fresh) {
        const uint32_t *gen = essay_analyzer_word_gen(fresh);
        uint32_t g0 = *gen;
        for (size_t i = 0; i < c->n_paras; i++) {
            ic_tok u = { .src = c->paras[i].text, .same = true };
            essay_analyzer_run(fresh, c->paras[i].text, c->paras[i].len, 0, ic_tok_cb, &u,
                               NULL);
        }
        fprintf(stderr, "  word cache emptied %u times\n", *gen - g0);
        CHECK(*gen - g0 >= 3);
        essay_analyzer_free(fresh);
    }

    /* what the Chinese text holds: characters, adjacent pairs, and the
     * dictionary words the analyzer finds */
    for (size_t i = 0; i < c->n_paras; i++) {
        const essay_paragraph *para = &c->paras[i];
        if (para->lang != ESSAY_LANG_ZH)
            continue;
        const unsigned char *t = (const unsigned char *)para->text;
        uint32_t prev = 0;
        for (size_t k = 0; k < para->len;) {
            uint32_t cp;
            size_t n = essay_utf8_decode(t + k, para->len - k, &cp);
            if (n == 0)
                n = 1, cp = 0;
            if (essay_cp_is_han(cp)) {
                ic_push(&uni, cp, (uint32_t)i);
                if (prev)
                    ic_push(&bi, (uint64_t)prev << 21 | cp, (uint32_t)i);
                prev = cp;
            } else {
                prev = 0;
            }
            k += n;
        }
        hw.doc = (uint32_t)i;
        CHECK_INT(essay_analyzer_run(an, para->text, para->len, 0, ic_word_cb, &hw, NULL), 0);
    }
    ic_sort(&uni);
    ic_sort(&bi);
    ic_sort(&hw);

    /* one thread, and two taking small chunks in turn: the same image */
    essay_build_options bo = ESSAY_BUILD_OPTIONS_INIT;
    bo.threads = 1;
    rc = essay_index_build(&one, c, &bo, &e);
    CHECK_INT(rc, 0);
    bo.threads = 2;
    essay_build_chunk_bytes(16u << 10);
    if (rc == 0)
        CHECK_INT(rc = essay_index_build(&two, c, &bo, &e), 0);
    essay_build_chunk_bytes(0);
    essay_analyze_word_cache_limit(0);
    if (rc) {
        fprintf(stderr, "%s\n", e.message);
        goto out;
    }
    size_t l1, l2;
    const void *i1 = essay_index_image(one, &l1), *i2 = essay_index_image(two, &l2);
    bool same = l1 == l2 && memcmp(i1, i2, l1) == 0;
    CHECK(same);

    /* the df of every term against the text */
    const essay_index *ix[2] = { one, two };
    for (size_t x = 0; x < (same ? 1u : 2u); x++) {
        size_t bad = 0;
        for (uint32_t w = 0; w < IC_WORDS + 20; w++) {
            size_t n = ic_word(w, 0, wb);
            uint32_t want_df = w < IC_WORDS ? (uint32_t)__builtin_popcountll(mask[w]) : 0;
            uint32_t s = ic_df(ix[x], EF_KIND_STEM, wb, n),
                     xf = ic_df(ix[x], EF_KIND_EXACT, wb, n);
            if ((s != want_df || xf != want_df) && bad++ < 5)
                fprintf(stderr, "  word %s: df %u (stem), %u (exact), in %u paragraphs\n", wb,
                        s, xf, want_df);
        }
        CHECK_INT(bad, 0);
        CHECK_INT(ic_check_df(ix[x], EF_KIND_UNI, &uni), 0);
        CHECK_INT(ic_check_df(ix[x], EF_KIND_BI, &bi), 0);
        CHECK_INT(ic_check_df(ix[x], EF_KIND_HANWORD, &hw), 0);
    }

    /* searches: a word in any case, and quoted, finds exactly its paragraphs */
    want = malloc(c->n_paras);
    got = malloc(c->n_paras);
    size_t queries = 0, bad_q = 0;
    for (uint32_t k = 0; k < 320; k++) {
        uint32_t w = k < 300 ? (k * 7919u + 13) % IC_WORDS : IC_WORDS + k - 300;
        memset(want, 0, c->n_paras);
        for (p = 0; p < IC_PARAS; p++)
            if (w < IC_WORDS && (mask[w] >> p & 1))
                want[en_ord[p]] = 1;
        for (int form = 0; form < 5; form++) { /* lower, Capital, UPPER, mixed, quoted */
            char q[24];
            ic_word(w, form == 4 ? 0 : form == 3 ? 3 + (int)(k % (IC_FORMS - 3)) : form, wb);
            snprintf(q, sizeof q, form == 4 ? "\"%s\"" : "%s", wb);
            if (!ic_hits_are(ix[0], c, q, -1, want, got, bad_q < 8))
                bad_q++;
            queries++;
        }
    }
    /* Han pairs (some as words, some beyond the BMP) and characters: the
     * Chinese paragraphs with that text */
    uint64_t *keys = malloc((bi.n + hw.n + uni.n + 1) * sizeof(uint64_t));
    for (int kind = 0; kind < 4; kind++) {
        /* 0: pairs, 1: pairs with a character beyond the BMP, 2: pairs
         * that are also words, 3: characters */
        const ic_occs *o = kind == 2 ? &hw : kind == 3 ? &uni : &bi;
        size_t quota = kind == 0 ? 200 : kind == 3 ? 60 : 100, nk = 0;
        for (size_t i = 0; i < o->n; i++) {
            uint64_t key = o->v[i].key;
            bool supp = (key >> 21) >= 0x10000 || (key & 0x1FFFFF) >= 0x10000;
            if ((i == 0 || o->v[i - 1].key != key) && (kind != 1 || supp))
                keys[nk++] = key;
        }
        CHECK(nk >= quota);
        for (size_t i = 0; i < quota && i < nk; i++) {
            char q[16];
            ic_key_utf8(keys[i * nk / quota], q);
            for (size_t d = 0; d < c->n_paras; d++)
                want[d] = c->paras[d].lang == ESSAY_LANG_ZH && strstr(c->paras[d].text, q);
            if (!ic_hits_are(ix[0], c, q, ESSAY_LANG_ZH, want, got, bad_q < 8))
                bad_q++;
            queries++;
        }
    }
    free(keys);
    CHECK_INT(bad_q, 0);
    fprintf(stderr,
            "  %zu queries; Han terms in paragraphs: %zu pairs, %zu words, %zu characters\n",
            queries, bi.n, hw.n, uni.n);

out:
    essay_analyze_word_cache_limit(0);
    free(want);
    free(got);
    free(uni.v);
    free(bi.v);
    free(hw.v);
    essay_index_free(one);
    essay_index_free(two);
    essay_corpus_free(c);
    essay_buf_free(&src);
    free(list);
    free(mask);
    essay_analyzer_free(an);
}

/* ---- oracle ---------------------------------------------------------------- */

typedef struct otok {
    char term[ESSAY_MAX_TOKEN_BYTES + 1];
    unsigned kind;
    uint32_t pos;
    size_t start, end;
} otok;

typedef struct olist {
    otok *v;
    size_t n, cap;
} olist;

static int otok_cb(void *payload, const essay_token *t)
{
    olist *l = payload;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = realloc(l->v, l->cap * sizeof(otok));
    }
    otok *o = &l->v[l->n++];
    memcpy(o->term, t->term, t->term_len);
    o->term[t->term_len] = 0;
    o->kind = t->flags & ESSAY_TOKEN_KIND_MASK;
    o->pos = t->position;
    o->start = t->start;
    o->end = t->end;
    return 0;
}

/* Per paragraph: its tokens and its Han-folded text, where every non-Han
 * character becomes a separator so literal runs cannot span them. */
typedef struct opara {
    olist toks;
    char *folded;
} opara;

typedef struct oracle {
    const essay_corpus *c;
    essay_analyzer *an;
    opara *p;
    size_t n;
} oracle;

static char *fold_han_text(essay_analyzer *an, const char *s, size_t len)
{
    char *out = malloc(len * 2 + 4), *o = out;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t k = essay_utf8_decode((const unsigned char *)s + i, len - i, &cp);
        if (k == 0)
            k = 1, cp = 0xFFFD;
        if (essay_cp_is_han(cp)) {
            o += essay_utf8_encode(essay_fold_han(an, cp), o);
        } else if (o == out || o[-1] != '|') {
            *o++ = '|';
        }
        i += k;
    }
    *o = 0;
    return out;
}

static void oracle_init(oracle *o, const essay_corpus *c)
{
    o->c = c;
    CHECK_INT(essay_analyzer_new(&o->an, NULL), 0);
    o->n = c->n_paras;
    o->p = calloc(o->n, sizeof(opara));
    for (size_t i = 0; i < o->n; i++) {
        const essay_paragraph *p = &c->paras[i];
        essay_analyzer_run(o->an, p->text, p->len, 0, otok_cb, &o->p[i].toks, NULL);
        o->p[i].folded = fold_han_text(o->an, p->text, p->len);
    }
}

static void oracle_free(oracle *o)
{
    for (size_t i = 0; i < o->n; i++) {
        free(o->p[i].toks.v);
        free(o->p[i].folded);
    }
    free(o->p);
    essay_analyzer_free(o->an);
}

/* Does paragraph i contain term (of kind `kind`) at some position; with
 * `next`, a sequence of terms at consecutive positions. */
static bool has_seq(const opara *p, unsigned kind, char **terms, size_t n)
{
    const olist *l = &p->toks;
    for (size_t i = 0; i < l->n; i++) {
        if (l->v[i].kind != kind || strcmp(l->v[i].term, terms[0]) != 0)
            continue;
        uint32_t pos = l->v[i].pos;
        size_t found = 1;
        for (size_t k = 1; k < n; k++) {
            bool ok = false;
            for (size_t j = i; j < l->n && l->v[j].pos <= pos + k; j++)
                if (l->v[j].pos == pos + k && l->v[j].kind == kind &&
                    strcmp(l->v[j].term, terms[k]) == 0)
                    ok = true;
            if (!ok)
                break;
            found++;
        }
        if (found == n)
            return true;
    }
    return false;
}

static bool has_prefix(const opara *p, const char *pre)
{
    size_t n = strlen(pre);
    for (size_t i = 0; i < p->toks.n; i++) {
        unsigned k = p->toks.v[i].kind;
        if ((k == ESSAY_TOKEN_EXACT || k == ESSAY_TOKEN_COMPOUND || k == ESSAY_TOKEN_OTHER) &&
            strncmp(p->toks.v[i].term, pre, n) == 0)
            return true;
    }
    return false;
}

/* One oracle query: a leaf ("w" kind) evaluated per paragraph. */
typedef enum { Q_STEM, Q_EXACT, Q_PHRASE, Q_PREFIX, Q_HAN } qkind;

typedef struct oleaf {
    qkind kind;
    char *terms[8]; /* stems / exact forms / prefix */
    size_t n;
    char *han;      /* folded literal */
} oleaf;

static bool leaf_match(const oracle *o, size_t i, const oleaf *l)
{
    const opara *p = &o->p[i];
    switch (l->kind) {
    case Q_STEM: return has_seq(p, ESSAY_TOKEN_WORD, (char **)l->terms, l->n);
    case Q_EXACT:
    case Q_PHRASE: return has_seq(p, ESSAY_TOKEN_EXACT, (char **)l->terms, l->n);
    case Q_PREFIX: return has_prefix(p, l->terms[0]);
    case Q_HAN: return strstr(p->folded, l->han) != NULL;
    }
    return false;
}

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void leaf_free(oleaf *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->terms[i]);
    free(l->han);
    memset(l, 0, sizeof *l);
}

static bool is_plain_word(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
            return false;
    }
    return n > 0;
}

/* Make a random leaf from paragraph text: returns the query text in q. */
static bool random_leaf(oracle *o, qkind kind, oleaf *l, char *q, size_t qcap, UTransliterator *s2t)
{
    memset(l, 0, sizeof *l);
    size_t pi = (size_t)(rnd() % o->n);
    const essay_paragraph *para = &o->c->paras[pi];
    const olist *tl = &o->p[pi].toks;
    if (tl->n == 0)
        return false;
    l->kind = kind;
    if (kind == Q_HAN) {
        /* a random run of 1-6 byte-adjacent Han characters */
        size_t i = (size_t)(rnd() % tl->n);
        if (tl->v[i].kind != ESSAY_TOKEN_HAN_UNIGRAM)
            return false;
        size_t want = 1 + (size_t)(rnd() % 6), end = tl->v[i].end, k = i, got = 1;
        for (size_t j = i + 1; j < tl->n && got < want; j++) {
            if (tl->v[j].kind != ESSAY_TOKEN_HAN_UNIGRAM)
                continue;
            if (tl->v[j].start != end)
                break;
            end = tl->v[j].end;
            k = j;
            got++;
        }
        (void)k;
        size_t start = tl->v[i].start;
        if (end - start + 1 > qcap)
            return false;
        memcpy(q, para->text + start, end - start);
        q[end - start] = 0;
        int mode = (int)(rnd() % 3);
        if (mode == 1 && s2t) {
            /* traditional form of the query */
            UChar u[256];
            int32_t ul = 0, lim;
            UErrorCode st = U_ZERO_ERROR;
            u_strFromUTF8(u, 256, &ul, q, -1, &st);
            lim = ul;
            utrans_transUChars(s2t, u, &ul, 256, 0, &lim, &st);
            int32_t ol = 0;
            if (U_SUCCESS(st))
                u_strToUTF8(q, (int32_t)qcap, &ol, u, ul, &st);
            if (U_FAILURE(st))
                return false;
        }
        l->han = fold_han_text(o->an, q, strlen(q));
        return strchr(l->han, '|') == NULL;
    }
    /* English: a whole plain word, or 2-3 consecutive plain words */
    size_t i = (size_t)(rnd() % tl->n);
    if (tl->v[i].kind != ESSAY_TOKEN_WORD)
        return false;
    size_t n = kind == Q_PHRASE ? 2 + (size_t)(rnd() % 2) : 1;
    size_t at = 0, last_end = 0;
    uint32_t pos = tl->v[i].pos;
    if (kind == Q_PHRASE)
        q[at++] = '"';
    for (size_t j = i; j < tl->n && l->n < n; j++) {
        const otok *t = &tl->v[j];
        if (t->pos != pos + l->n)
            continue;
        if (t->kind == ESSAY_TOKEN_COMPOUND)
            return false;
        if (t->kind != ESSAY_TOKEN_WORD)
            continue;
        if (!is_plain_word(para->text + t->start, t->end - t->start))
            return false;
        if ((t->end - t->start == 2 && memcmp(para->text + t->start, "OR", 2) == 0) ||
            (t->end - t->start == 3 && (memcmp(para->text + t->start, "AND", 3) == 0 ||
                                        memcmp(para->text + t->start, "NOT", 3) == 0)))
            return false; /* operators */
        if (l->n > 0 && para->text[last_end] != ' ')
            return false; /* keep phrases to words separated by one space */
        if (at + (t->end - t->start) + 4 >= qcap)
            return false;
        if (l->n > 0)
            q[at++] = ' ';
        memcpy(q + at, para->text + t->start, t->end - t->start);
        at += t->end - t->start;
        last_end = t->end;
        /* the term the oracle looks for: stem (WORD) or exact (EXACT next) */
        const otok *want = t;
        if (kind != Q_STEM)
            want = &tl->v[j + 1]; /* EXACT follows its WORD */
        if (kind == Q_PREFIX) {
            size_t fl = strlen(want->term);
            size_t keep = fl > 3 ? 3 + (size_t)(rnd() % (fl - 2)) : fl;
            if (keep > fl)
                keep = fl;
            l->terms[l->n] = strndup(want->term, keep);
            at -= t->end - t->start;
            memcpy(q + at, want->term, keep);
            at += keep;
            q[at++] = '*';
        } else {
            l->terms[l->n] = strdup(want->term);
        }
        l->n++;
    }
    if (l->n < n)
        return false;
    if (kind == Q_PHRASE)
        q[at++] = '"';
    if (kind == Q_EXACT) {
        memmove(q + 1, q, at);
        q[0] = '"';
        at++;
        q[at++] = '"';
    }
    q[at] = 0;
    if (kind == Q_STEM && rnd() % 4 == 0) {
        /* full-width form of the word */
        char fw[256];
        size_t k = 0;
        for (size_t j = 0; j < at && k + 4 < sizeof fw; j++)
            k += essay_utf8_encode(0xFF00 + (uint32_t)(unsigned char)q[j] - 0x20, fw + k);
        fw[k] = 0;
        if (k + 1 <= qcap)
            memcpy(q, fw, k + 1);
    }
    return true;
}

static size_t run_oracle(const essay_index *idx, oracle *o, unsigned rounds)
{
    UErrorCode st = U_ZERO_ERROR;
    UChar id[] = u"Simplified-Traditional";
    UTransliterator *s2t = utrans_openU(id, -1, UTRANS_FORWARD, NULL, 0, NULL, &st);
    if (U_FAILURE(st))
        s2t = NULL;
    uint8_t *want = malloc(o->n), *got = malloc(o->n);
    size_t checked = 0, nonempty = 0;
    unsigned attempts = 0;
    while (checked < rounds && attempts < rounds * 200) {
        attempts++;
        /* one or two leaves combined with AND / OR / NOT */
        oleaf a, b;
        char qa[256], qb[256], query[600];
        qkind ka = (qkind)(rnd() % 5), kb = (qkind)(rnd() % 5);
        if (!random_leaf(o, ka, &a, qa, sizeof qa, s2t)) {
            leaf_free(&a);
            continue;
        }
        int op = (int)(rnd() % 4); /* 0 single, 1 AND, 2 OR, 3 NOT */
        if (op && !random_leaf(o, kb, &b, qb, sizeof qb, s2t)) {
            leaf_free(&a);
            leaf_free(&b);
            continue;
        }
        if (op == 0)
            snprintf(query, sizeof query, "%s", qa);
        else if (op == 1)
            snprintf(query, sizeof query, "%s %s", qa, qb);
        else if (op == 2)
            snprintf(query, sizeof query, "%s OR %s", qa, qb);
        else
            snprintf(query, sizeof query, "%s -%s", qa, qb);
        size_t nw = 0;
        for (size_t i = 0; i < o->n; i++) {
            bool ma = leaf_match(o, i, &a), mb = op ? leaf_match(o, i, &b) : false;
            bool m = op == 0 ? ma : op == 1 ? (ma && mb) : op == 2 ? (ma || mb) : (ma && !mb);
            want[i] = m;
            nw += m;
        }
        memset(got, 0, o->n);
        essay_search_options opt = ESSAY_SEARCH_OPTIONS_INIT;
        opt.limit = 0;
        opt.flags = ESSAY_SEARCH_NO_PAIR | (checked % 8 ? ESSAY_SEARCH_NO_HIGHLIGHT : 0);
        essay_results *r = NULL;
        essay_error e;
        int rc = essay_index_search(idx, query, SIZE_MAX, &opt, &r, &e);
        CHECK_INT(rc, 0);
        if (rc != 0) {
            fprintf(stderr, "oracle query '%s': %s\n", query, e.message);
        } else {
            check_results(r);
            const essay_corpus *ic = essay_index_corpus(idx, NULL);
            for (size_t k = 0; k < essay_results_count(r); k++) {
                essay_hit h;
                essay_results_hit(r, k, &h);
                const essay_article *art = essay_corpus_find(o->c, h.essay, h.essay_len);
                const essay_paragraph *p = art ? essay_article_paragraph(art, h.lang, h.para) : NULL;
                if (p)
                    got[p->ordinal] = 1;
            }
            (void)ic;
            CHECK_INT(essay_results_total(r), nw);
            /* a top-10 (block-max pruning for one-term queries) is the
             * head of the full ranking, scores and order included */
            essay_search_options top = opt;
            top.limit = 10;
            essay_results *t10 = NULL;
            CHECK_INT(essay_index_search(idx, query, SIZE_MAX, &top, &t10, &e), 0);
            CHECK(t10 && essay_results_total(t10) == essay_results_total(r));
            for (size_t k = 0; t10 && k < essay_results_count(t10); k++) {
                essay_hit x, y;
                essay_results_hit(t10, k, &x);
                essay_results_hit(r, k, &y);
                CHECK(x.score == y.score && x.lang == y.lang && x.para == y.para &&
                      x.essay_len == y.essay_len && memcmp(x.essay, y.essay, x.essay_len) == 0);
            }
            essay_results_free(t10);
            int diff = memcmp(want, got, o->n) != 0;
            CHECK(!diff);
            if (diff || essay_results_total(r) != nw) {
                for (size_t i = 0; i < o->n; i++)
                    if (want[i] != got[i]) {
                        fprintf(stderr, "oracle query '%s': paragraph %zu oracle %d index %d: %.80s\n",
                                query, i, want[i], got[i], o->c->paras[i].text);
                        break;
                    }
            }
            essay_results_free(r);
        }
        nonempty += nw > 0;
        checked++;
        leaf_free(&a);
        if (op)
            leaf_free(&b);
    }
    if (s2t)
        utrans_close(s2t);
    free(want);
    free(got);
    CHECK(checked >= rounds);
    CHECK(nonempty > checked / 3);
    fprintf(stderr, "  oracle: %zu queries, %zu with hits\n", checked, nonempty);
    return checked;
}

static void oracle_default(void)
{
    essay_corpus *c = NULL;
    CHECK_INT(essay_corpus_default(&c, NULL), 0);
    essay_index *idx = NULL;
    CHECK_INT(essay_index_build(&idx, c, NULL, NULL), 0);
    oracle o;
    oracle_init(&o, c);
    run_oracle(idx, &o, 1500);
    oracle_free(&o);
    essay_index_free(idx);
    essay_corpus_free(c);
}

static void oracle_real_bilingual(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/real/bilingual.md", data_dir);
    const char *paths[1] = { path };
    essay_corpus *c = NULL;
    essay_error e;
    int rc = essay_corpus_load(&c, paths, 1, NULL, &e);
    CHECK_INT(rc, 0);
    if (rc) {
        fprintf(stderr, "%s\n", e.message);
        return;
    }
    CHECK(essay_corpus_paragraph_count(c) > 1000);
    essay_build_options bo = ESSAY_BUILD_OPTIONS_INIT;
    bo.threads = 2;
    essay_index *idx = NULL;
    CHECK_INT(essay_index_build(&idx, c, &bo, &e), 0);
    /* a single-threaded build gives the same image byte for byte */
    bo.threads = 1;
    essay_index *one = NULL;
    CHECK_INT(essay_index_build(&one, c, &bo, &e), 0);
    size_t l1, l2;
    const void *i1 = essay_index_image(idx, &l1), *i2 = essay_index_image(one, &l2);
    CHECK(l1 == l2 && memcmp(i1, i2, l1) == 0);
    essay_index_free(one);
    oracle o;
    oracle_init(&o, c);
    run_oracle(idx, &o, 1500);
    oracle_free(&o);
    essay_index_free(idx);
    essay_corpus_free(c);
}

int main(int argc, char **argv)
{
    data_dir = argc > 1 ? argv[1] : "tests/data";
    RUN(search_default_chinese);
    RUN(search_default_english);
    RUN(search_options_paging);
    RUN(search_syntax_errors);
    RUN(search_whole_word_ranks_first);
    RUN(search_literal_chinese_substrings);
    RUN(index_save_open_roundtrip);
    RUN(index_damage);
    RUN(search_concurrent);
    RUN(build_id_caches);
    RUN(oracle_default);
    RUN(oracle_real_bilingual);
    return harness_done();
}
