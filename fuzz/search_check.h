/*
 * search_check.h - the essay_results contract, shared by query_fuzzer.c and
 * index_file_fuzzer.c (header only).
 *
 * fuzz_check_results() checks every hit of a successful search:
 *  - count <= limit, count <= total, hit(count) is EINVAL;
 *  - keys (essay id, lang, para) are distinct; scores are finite and
 *    non-increasing, ties ordered by key;
 *  - texts are NUL-terminated at their length; highlight spans of the text
 *    and of the pair text lie inside it, are non-empty, sorted and
 *    non-overlapping, merged when adjacent; the snippet lies inside the
 *    text; a pair is in the other language at the same index;
 *  - with `utf8` (an index known to be good: built, or opened with its
 *    checksums verified), texts are valid UTF-8, spans and snippets fall on
 *    character boundaries, essay ids are non-empty and keys distinct.
 */
#ifndef ESSAY_FUZZ_SEARCH_CHECK_H
#define ESSAY_FUZZ_SEARCH_CHECK_H

#include <math.h>
#include <string.h>

#include "fuzz.h"

static inline void fuzz_check_text(const char *what, const char *t, size_t len, bool utf8)
{
    FUZZ_CHECK(t != NULL, "%s is NULL", what);
    FUZZ_CHECK(t[len] == '\0', "%s not NUL-terminated at %zu", what, len);
    if (utf8)
        FUZZ_CHECK(fuzz_utf8_valid(t, len), "%s not UTF-8 at %zu", what,
                   fuzz_utf8_valid_prefix(t, len));
}

static inline void fuzz_check_spans(const char *what, const essay_span *s, size_t n,
                                    const char *text, size_t len, bool utf8)
{
    FUZZ_CHECK(n == 0 || s != NULL, "%s: %zu spans at NULL", what, n);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(s[i].start < s[i].end && s[i].end <= len, "%s span %zu [%zu,%zu) in %zu bytes",
                   what, i, s[i].start, s[i].end, len);
        if (i > 0)
            FUZZ_CHECK(s[i - 1].end < s[i].start, "%s spans %zu,%zu [%zu,%zu) [%zu,%zu) not "
                       "sorted, disjoint and merged", what, i - 1, i, s[i - 1].start,
                       s[i - 1].end, s[i].start, s[i].end);
        if (utf8)
            FUZZ_CHECK(fuzz_on_boundary(text, len, s[i].start) &&
                       fuzz_on_boundary(text, len, s[i].end),
                       "%s span [%zu,%zu) splits a character", what, s[i].start, s[i].end);
    }
}

/* <0, 0, >0 as key a sorts before, equal to, after key b. */
static inline int fuzz_key_cmp(const essay_hit *a, const essay_hit *b)
{
    size_t n = a->essay_len < b->essay_len ? a->essay_len : b->essay_len;
    int c = memcmp(a->essay, b->essay, n);
    if (c == 0 && a->essay_len != b->essay_len)
        c = a->essay_len < b->essay_len ? -1 : 1;
    if (c == 0)
        c = (int)a->lang - (int)b->lang;
    if (c == 0)
        c = a->para < b->para ? -1 : a->para > b->para;
    return c;
}

static inline void fuzz_check_results(const essay_results *res, size_t limit, bool utf8)
{
    size_t count = essay_results_count(res), total = essay_results_total(res);
    FUZZ_CHECK(count <= total, "count %zu > total %zu", count, total);
    FUZZ_CHECK(count <= (limit ? limit : ESSAY_MAX_RESULTS), "count %zu, limit %zu", count,
               limit);
    essay_hit prev, hit;
    memset(&prev, 0, sizeof(prev));
    FUZZ_CHECK(essay_results_hit(res, count, &hit) == ESSAY_EINVAL, "hit(count) not EINVAL");
    for (size_t i = 0; i < count; i++) {
        FUZZ_CHECK(essay_results_hit(res, i, &hit) == ESSAY_OK, "hit %zu of %zu", i, count);
        FUZZ_CHECK(hit.essay != NULL, "hit %zu: NULL essay id", i);
        fuzz_check_text("essay id", hit.essay, hit.essay_len, utf8);
        if (utf8)
            FUZZ_CHECK(hit.essay_len > 0, "hit %zu: empty essay id", i);
        FUZZ_CHECK(hit.lang == ESSAY_LANG_EN || hit.lang == ESSAY_LANG_ZH, "hit %zu: lang %d",
                   i, (int)hit.lang);
        FUZZ_CHECK(isfinite(hit.score), "hit %zu: score %g", i, hit.score);
        fuzz_check_text("hit text", hit.text, hit.text_len, utf8);
        fuzz_check_spans("hit", hit.highlights, hit.n_highlights, hit.text, hit.text_len, utf8);
        FUZZ_CHECK(hit.snippet_start <= hit.snippet_end && hit.snippet_end <= hit.text_len,
                   "hit %zu: snippet [%zu,%zu) of %zu bytes", i, hit.snippet_start,
                   hit.snippet_end, hit.text_len);
        if (utf8)
            FUZZ_CHECK(fuzz_on_boundary(hit.text, hit.text_len, hit.snippet_start) &&
                       fuzz_on_boundary(hit.text, hit.text_len, hit.snippet_end),
                       "hit %zu: snippet [%zu,%zu) splits a character", i, hit.snippet_start,
                       hit.snippet_end);
        if (hit.has_pair) {
            FUZZ_CHECK(hit.pair_lang != hit.lang && hit.pair_para == hit.para,
                       "hit %zu: pair %d/%zu of %d/%zu", i, (int)hit.pair_lang, hit.pair_para,
                       (int)hit.lang, hit.para);
            fuzz_check_text("pair text", hit.pair_text, hit.pair_text_len, utf8);
            fuzz_check_spans("pair", hit.pair_highlights, hit.n_pair_highlights, hit.pair_text,
                             hit.pair_text_len, utf8);
        }
        if (i > 0) {
            /* a damaged image may give two paragraphs the same key */
            int c = utf8 ? fuzz_key_cmp(&prev, &hit) : -1;
            FUZZ_CHECK(c != 0, "hit %zu repeats %.*s/%d/%zu", i, (int)hit.essay_len, hit.essay,
                       (int)hit.lang, hit.para);
            FUZZ_CHECK(prev.score > hit.score || (prev.score == hit.score && c < 0),
                       "hit %zu (%.*s/%d/%zu, %.17g) after (%.*s/%d/%zu, %.17g)", i,
                       (int)hit.essay_len, hit.essay, (int)hit.lang, hit.para, hit.score,
                       (int)prev.essay_len, prev.essay, (int)prev.lang, prev.para, prev.score);
        }
        prev = hit;
    }
}

#endif
