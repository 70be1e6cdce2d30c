/*
 * query_fuzzer.c - the query parser and search (search.c) on arbitrary
 * query bytes.
 *
 * Two indexes are built once: the embedded default corpus and a small
 * corpus written below (English-only, Chinese-only and unaligned essays,
 * compounds, traditional and full-width text).  The input is the query.
 * Each index is searched four ways, and the answers must agree:
 *   top 10 (default options), all hits, a page (offset 2, limit 3, no
 *   pairs or highlights) and only Chinese paragraphs;
 * the same status for all four, and an error is ESSAY_ESYNTAX (offset in
 * the query) or ESSAY_ELIMIT; the top 10 and the page are slices of all
 * hits, the Chinese hits are its Chinese subsequence, totals agree.  Every
 * answer passes fuzz_check_results() (search_check.h): spans in bounds, on
 * character boundaries, sorted and disjoint, hits by score then key.
 */
#include "search_check.h"

static const char EXTRA[] =
    "## 0001. English only: index.html and systemd.service\n\n"
    "Learning, learned, learns: the learner's guide to user@host.example.org.\n\n"
    "Don't mix foo_bar with 3.14 or v1.2.3; see https://example.com/a?b=c.\n\n"
    "## 0002. 只有中文的文章\n\n"
    "互联网编辑器的使用方法，机器学习与数学。\n\n"
    "數學與機器學習（繁體）；ＡＩ 全角文字。\n\n"
    "## 0003. Unaligned essay\n\n"
    "One English paragraph about PyTorch and Adam.\n\n"
    "Two: mathematics, math, mathematical.\n\n"
    "不对齐的标题\n\n"
    "只有一段中文，提到 PyTorch 和数学。\n\n"
    "## 0004. Aligned essay about 数学\n\n"
    "Math is a foundational skill for AI.\n\n"
    "Deep learning keeps changing.\n\n"
    "关于数学的对齐文章\n\n"
    "数学是人工智能的基础技能。\n\n"
    "深度学习一直在变化。\n";

#define N_INDEXES 2
static essay_index *indexes[N_INDEXES];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    essay_error err;
    essay_corpus *c;
    FUZZ_CHECK(essay_index_default(&indexes[0], &err) == ESSAY_OK, "%s", err.message);
    FUZZ_CHECK(essay_corpus_parse(&c, EXTRA, sizeof(EXTRA) - 1, "extra.md", NULL, &err) ==
               ESSAY_OK, "%s", err.message);
    FUZZ_CHECK(essay_index_build(&indexes[1], c, NULL, &err) == ESSAY_OK, "%s", err.message);
    essay_corpus_free(c);
    return 0;
}

static bool same_key(const essay_results *a, size_t i, const essay_results *b, size_t j)
{
    essay_hit x, y;
    FUZZ_CHECK(essay_results_hit(a, i, &x) == ESSAY_OK && essay_results_hit(b, j, &y) == ESSAY_OK,
               "hit %zu / %zu", i, j);
    return fuzz_key_cmp(&x, &y) == 0 && x.score == y.score;
}

static void search_one(const essay_index *idx, const char *q, size_t len)
{
    essay_search_options top = ESSAY_SEARCH_OPTIONS_INIT, all = top, page = top, zh = top;
    all.limit = 0;
    page.offset = 2;
    page.limit = 3;
    page.flags = ESSAY_SEARCH_NO_PAIR | ESSAY_SEARCH_NO_HIGHLIGHT;
    zh.limit = 0;
    zh.lang = ESSAY_LANG_ZH;

    essay_results *rt = NULL, *ra = NULL, *rp = NULL, *rz = NULL;
    essay_error et, ea, ep, ez;
    int ct = essay_index_search(idx, q, len, &top, &rt, &et);
    int ca = essay_index_search(idx, q, len, &all, &ra, &ea);
    int cp = essay_index_search(idx, q, len, &page, &rp, &ep);
    int cz = essay_index_search(idx, q, len, &zh, &rz, &ez);
    FUZZ_CHECK(ct == ca && ca == cp && cp == cz, "status %d / %d / %d / %d", ct, ca, cp, cz);
    if (ct != ESSAY_OK) {
        FUZZ_CHECK(rt == NULL && ra == NULL && rp == NULL && rz == NULL, "results with rc %d", ct);
        fuzz_check_error(ct, &et);
        FUZZ_CHECK(ct == ESSAY_ESYNTAX || ct == ESSAY_ELIMIT, "rc %d: %s", ct, et.message);
        if (ct == ESSAY_ESYNTAX)
            FUZZ_CHECK(et.offset <= len, "syntax error at %llu of %zu: %s",
                       (unsigned long long)et.offset, len, et.message);
        if (len > ESSAY_MAX_QUERY_BYTES)
            FUZZ_CHECK(ct == ESSAY_ELIMIT, "query of %zu bytes gave %d", len, ct);
        FUZZ_CHECK(et.offset == ea.offset && strcmp(et.message, ea.message) == 0,
                   "different errors: %s / %s", et.message, ea.message);
        return;
    }
    FUZZ_CHECK(len <= ESSAY_MAX_QUERY_BYTES, "query of %zu bytes accepted", len);
    fuzz_check_results(rt, top.limit, true);
    fuzz_check_results(ra, all.limit, true);
    fuzz_check_results(rp, page.limit, true);
    fuzz_check_results(rz, zh.limit, true);

    size_t total = essay_results_total(ra), n_all = essay_results_count(ra);
    FUZZ_CHECK(essay_results_total(rt) == total && essay_results_total(rp) == total,
               "totals %zu / %zu / %zu", essay_results_total(rt), total,
               essay_results_total(rp));
    FUZZ_CHECK(n_all == total || n_all == ESSAY_MAX_RESULTS, "all: %zu of %zu", n_all, total);
    size_t n_top = essay_results_count(rt), n_page = essay_results_count(rp);
    FUZZ_CHECK(n_top == (total < 10 ? total : 10), "top: %zu of %zu", n_top, total);
    FUZZ_CHECK(n_page == (total <= 2 ? 0 : total - 2 < 3 ? total - 2 : 3), "page: %zu of %zu",
               n_page, total);
    for (size_t i = 0; i < n_top; i++)
        FUZZ_CHECK(same_key(rt, i, ra, i), "top hit %zu differs from all", i);
    for (size_t i = 0; i < n_page; i++)
        FUZZ_CHECK(same_key(rp, i, ra, i + 2), "page hit %zu differs from all", i);
    /* the Chinese hits are the Chinese subsequence of all hits */
    size_t j = 0, n_zh = essay_results_count(rz);
    for (size_t i = 0; i < n_all; i++) {
        essay_hit h;
        essay_results_hit(ra, i, &h);
        if (h.lang != ESSAY_LANG_ZH)
            continue;
        FUZZ_CHECK(j < n_zh && same_key(rz, j, ra, i), "zh hit %zu differs from all hit %zu",
                   j, i);
        j++;
    }
    FUZZ_CHECK(j == n_zh && essay_results_total(rz) == n_zh, "zh: %zu of %zu, total %zu", n_zh,
               j, essay_results_total(rz));
    essay_results_free(rt);
    essay_results_free(ra);
    essay_results_free(rp);
    essay_results_free(rz);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int i = 0; i < N_INDEXES; i++)
        search_one(indexes[i], (const char *)data, size);
    return 0;
}
