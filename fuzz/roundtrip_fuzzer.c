/*
 * roundtrip_fuzzer.c - corpus -> build -> image -> open -> same answers.
 *
 * The input is a corpus text (parsed leniently).  When it parses, it is
 * indexed with one thread and with two (the images must be byte-identical),
 * the image is opened again from memory, verified and trusted, and both
 * opened indexes must give the built index's figures and, for queries made
 * of the corpus's own first words and characters, the same totals, keys,
 * scores and highlight counts.  The corpus seen through the opened index
 * must hold the same essays and paragraph texts.
 */
#include <string.h>

#include "fuzz.h"
#include "index.h" /* essay_build_chunk_bytes() */

#define NAME "roundtrip.md"

static void same_answers(const essay_index *a, const essay_index *b, const char *q)
{
    essay_results *ra = NULL, *rb = NULL;
    essay_search_options o = ESSAY_SEARCH_OPTIONS_INIT;
    o.limit = 5;
    int ca = essay_index_search(a, q, SIZE_MAX, &o, &ra, NULL);
    int cb = essay_index_search(b, q, SIZE_MAX, &o, &rb, NULL);
    FUZZ_CHECK(ca == cb, "query \"%s\": status %d built, %d opened", q, ca, cb);
    if (ca == ESSAY_OK) {
        FUZZ_CHECK(essay_results_total(ra) == essay_results_total(rb),
                   "query \"%s\": total %zu built, %zu opened", q, essay_results_total(ra),
                   essay_results_total(rb));
        FUZZ_CHECK(essay_results_count(ra) == essay_results_count(rb), "query \"%s\": count", q);
        for (size_t i = 0; i < essay_results_count(ra); i++) {
            essay_hit x, y;
            essay_results_hit(ra, i, &x);
            essay_results_hit(rb, i, &y);
            FUZZ_CHECK(x.lang == y.lang && x.para == y.para && x.score == y.score &&
                           x.essay_len == y.essay_len &&
                           memcmp(x.essay, y.essay, x.essay_len) == 0 &&
                           x.n_highlights == y.n_highlights && x.has_pair == y.has_pair,
                       "query \"%s\": hit %zu differs", q, i);
        }
    }
    essay_results_free(ra);
    essay_results_free(rb);
}

/* A query from the start of a paragraph: its first run of letters/digits or
 * its first two non-ASCII characters. */
static size_t query_from(const char *t, size_t len, char *q, size_t cap)
{
    size_t i = 0, n = 0;
    while (i < len && (unsigned char)t[i] < 0x80 &&
           !((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
             (t[i] >= '0' && t[i] <= '9')))
        i++;
    if (i < len && (unsigned char)t[i] < 0x80) {
        while (i < len && n + 1 < cap && ((t[i] >= 'a' && t[i] <= 'z') ||
                                          (t[i] >= 'A' && t[i] <= 'Z') ||
                                          (t[i] >= '0' && t[i] <= '9')))
            q[n++] = t[i++];
    } else {
        int chars = 0;
        while (i < len && n + 1 < cap && chars < 2 && (unsigned char)t[i] >= 0x80) {
            q[n++] = t[i++];
            while (i < len && n + 1 < cap && ((unsigned char)t[i] & 0xC0) == 0x80)
                q[n++] = t[i++];
            chars++;
        }
    }
    q[n] = 0;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024)
        return 0;
    essay_corpus_options co = ESSAY_CORPUS_OPTIONS_INIT;
    co.flags = ESSAY_CORPUS_LENIENT;
    essay_corpus *c = NULL;
    if (essay_corpus_parse(&c, (const char *)data, size, NAME, &co, NULL) != ESSAY_OK)
        return 0;

    essay_build_options bo = ESSAY_BUILD_OPTIONS_INIT;
    bo.threads = 1;
    essay_index *built = NULL, *two = NULL;
    essay_error err;
    int rc = essay_index_build(&built, c, &bo, &err);
    FUZZ_CHECK(rc == ESSAY_OK, "build failed: %s", err.message);
    /* three threads sharing the corpus in chunks of a paragraph or so:
     * their term tables are merged, and each term's postings by paragraph,
     * into the very same image */
    bo.threads = 3;
    essay_build_chunk_bytes(size % 97 + 1);
    rc = essay_index_build(&two, c, &bo, &err);
    essay_build_chunk_bytes(0);
    FUZZ_CHECK(rc == ESSAY_OK, "3-thread build failed: %s", err.message);
    size_t len, len2;
    const void *img = essay_index_image(built, &len);
    const void *img2 = essay_index_image(two, &len2);
    FUZZ_CHECK(len == len2 && memcmp(img, img2, len) == 0, "images differ by thread count");
    essay_index_free(two);

    /* save to memory: a private copy, opened verified and trusted */
    void *copy = malloc(len);
    memcpy(copy, img, len);
    for (unsigned flags = 0; flags <= ESSAY_OPEN_TRUSTED; flags++) {
        essay_index *opened = NULL;
        rc = essay_index_open_memory(&opened, copy, len, flags, &err);
        FUZZ_CHECK(rc == ESSAY_OK, "reopen failed: %s", err.message);
        essay_index_stats sa, sb;
        essay_index_stats_get(built, &sa);
        essay_index_stats_get(opened, &sb);
        FUZZ_CHECK(sa.essays == sb.essays && sa.paragraphs[0] == sb.paragraphs[0] &&
                       sa.paragraphs[1] == sb.paragraphs[1] && sa.terms == sb.terms &&
                       sa.postings == sb.postings && sa.positions == sb.positions,
                   "figures differ after reopening");
        FUZZ_CHECK(sa.essays == essay_corpus_article_count(c), "essay count");

        const essay_corpus *oc = essay_index_corpus(opened, &err);
        FUZZ_CHECK(oc != NULL, "corpus of the opened index: %s", err.message);
        FUZZ_CHECK(essay_corpus_paragraph_count(oc) == essay_corpus_paragraph_count(c),
                   "paragraph count of the opened corpus");
        for (size_t i = 0; i < essay_corpus_paragraph_count(c); i++) {
            size_t la, lb;
            const char *ta = essay_paragraph_text(essay_corpus_paragraph_at(c, i), &la);
            const char *tb = essay_paragraph_text(essay_corpus_paragraph_at(oc, i), &lb);
            FUZZ_CHECK(la == lb && memcmp(ta, tb, la) == 0, "paragraph %zu text differs", i);
        }
        size_t np = essay_corpus_paragraph_count(c);
        for (size_t i = 0; i < np && i < 8; i++) {
            size_t tl;
            const char *t = essay_paragraph_text(essay_corpus_paragraph_at(c, i), &tl);
            char q[64];
            if (query_from(t, tl, q, sizeof q) > 0)
                same_answers(built, opened, q);
        }
        same_answers(built, opened, "a OR b OR 的");
        essay_index_free(opened);
    }
    free(copy);
    essay_index_free(built);
    essay_corpus_free(c);
    return 0;
}
