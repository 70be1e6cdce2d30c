/*
 * index_file_fuzzer.c - opening index images (store.c) and searching them
 * (search.c) when the bytes are arbitrary: a truncated, damaged or hostile
 * index file.
 *
 * The input is an index image, opened with essay_index_open_memory():
 *  - verified (checksums): an error must be ECORRUPT or EVERSION with a
 *    message; success means the image is the library's own, so everything
 *    read from it must be as good as from a fresh build (UTF-8 text, spans
 *    on character boundaries);
 *  - trusted (ESSAY_OPEN_TRUSTED, no checksums, DESIGN §4: "even then every
 *    decode is bounds-checked, so corruption can never crash the process"):
 *    must succeed whenever the verified open did; then the stats, warnings,
 *    the corpus view and a few searches run, each either failing with
 *    ECORRUPT or answering within bounds (fuzz_check_results()).
 * Seeds are small saved indexes (the .essayidx files of fuzz/corpus/index_file_fuzzer/,
 * made with `essay index CORPUS -o FILE`; remake them when
 * ESSAY_FORMAT_VERSION changes).
 */
#include "search_check.h"

static const char *const QUERIES[] = {
    "math", "数学", "learn*", "\"machine learning\"", "AI OR 数学 -job",
    "lang:zh 学习", "essay:0001 (title OR 标题)", "一", "正文",
};

static void check_open_error(int rc, const essay_error *err)
{
    fuzz_check_error(rc, err);
    FUZZ_CHECK(rc == ESSAY_ECORRUPT || rc == ESSAY_EVERSION, "open gave %d: %s", rc,
               err->message);
}

/* The corpus view of an opened index: bounded walk, no crash. */
static void walk_corpus(const essay_index *idx, bool verified)
{
    essay_error err;
    const essay_corpus *c = essay_index_corpus(idx, &err);
    if (!c) {
        fuzz_check_error(err.code, &err);
        FUZZ_CHECK(!verified, "verified index without a corpus: %s", err.message);
        return;
    }
    size_t n = essay_corpus_article_count(c);
    for (size_t i = 0; i < n; i++) {
        const essay_article *a = essay_corpus_article_at(c, i);
        FUZZ_CHECK(a != NULL, "article %zu of %zu", i, n);
        size_t id_len;
        const char *id = essay_article_id(a, &id_len);
        FUZZ_CHECK(id != NULL && id[id_len] == '\0', "essay %zu: bad id", i);
        for (int lang = 0; lang < 2; lang++) {
            size_t np = essay_article_paragraph_count(a, (essay_lang)lang);
            for (size_t k = 0; k < np; k++) {
                const essay_paragraph *p = essay_article_paragraph(a, (essay_lang)lang, k);
                FUZZ_CHECK(p != NULL, "essay %zu lang %d para %zu of %zu", i, lang, k, np);
                size_t len;
                const char *t = essay_paragraph_text(p, &len);
                fuzz_check_text("paragraph", t, len, verified);
                const essay_paragraph *q = essay_paragraph_pair(p);
                if (q && verified)
                    FUZZ_CHECK(essay_paragraph_pair(q) == p, "pair not symmetric");
            }
        }
    }
}

static void search_all(const essay_index *idx, bool verified)
{
    essay_search_options opts = ESSAY_SEARCH_OPTIONS_INIT;
    opts.limit = 0;
    for (size_t i = 0; i < sizeof(QUERIES) / sizeof(QUERIES[0]); i++) {
        essay_results *res = NULL;
        essay_error err;
        int rc = essay_index_search(idx, QUERIES[i], SIZE_MAX, &opts, &res, &err);
        if (rc != ESSAY_OK) {
            fuzz_check_error(rc, &err);
            FUZZ_CHECK(rc == ESSAY_ECORRUPT && !verified, "search \"%s\" gave %d: %s",
                       QUERIES[i], rc, err.message);
            FUZZ_CHECK(res == NULL, "results with an error");
            continue;
        }
        fuzz_check_results(res, opts.limit, verified);
        essay_results_free(res);
    }
}

static void use(const essay_index *idx, size_t size, bool verified)
{
    size_t len = 0;
    FUZZ_CHECK(essay_index_image(idx, &len) != NULL && len == size, "image of %zu bytes, not %zu",
               len, size);
    essay_index_stats st;
    FUZZ_CHECK(essay_index_stats_get(idx, &st) == ESSAY_OK, "stats");
    FUZZ_CHECK(st.index_bytes == size, "index_bytes %llu of %zu",
               (unsigned long long)st.index_bytes, size);
    FUZZ_CHECK(memchr(st.icu_version, 0, sizeof(st.icu_version)) &&
               memchr(st.unicode_version, 0, sizeof(st.unicode_version)), "versions unterminated");
    size_t nw = essay_index_warning_count(idx);
    for (size_t i = 0; i < nw; i++) {
        const essay_error *w = essay_index_warning_at(idx, i);
        FUZZ_CHECK(w && w->message[0] && memchr(w->message, 0, sizeof(w->message)),
                   "warning %zu", i);
    }
    search_all(idx, verified);
    walk_corpus(idx, verified);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    essay_index *idx = NULL;
    essay_error err;
    int rv = essay_index_open_memory(&idx, data, size, 0, &err);
    if (rv == ESSAY_OK) {
        use(idx, size, true);
        essay_index_free(idx);
    } else {
        FUZZ_CHECK(idx == NULL, "index returned with rc %d", rv);
        check_open_error(rv, &err);
    }

    idx = NULL;
    int rt = essay_index_open_memory(&idx, data, size, ESSAY_OPEN_TRUSTED, &err);
    if (rt == ESSAY_OK) {
        use(idx, size, false);
        essay_index_free(idx);
    } else {
        FUZZ_CHECK(idx == NULL, "index returned with rc %d", rt);
        check_open_error(rt, &err);
        FUZZ_CHECK(rv != ESSAY_OK, "verified open succeeded, trusted failed: %s", err.message);
    }
    return 0;
}
