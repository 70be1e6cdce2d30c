/*
 * corpus_fuzzer.c - the essay-format parser (corpus.c) on arbitrary bytes.
 *
 * The input is one corpus text.  It is parsed strictly, leniently, and
 * with a byte limit below its size; every corpus that comes back is walked
 * in full and checked against the contract in include/essay.h:
 *  - errors: code < 0, a non-empty UTF-8 message, a location inside the
 *    input whose line agrees with its byte offset;
 *  - essays: ids of 1..ESSAY_MAX_ID_LEN digits, unique, found by id;
 *    titles are paragraph 0; at least one language present;
 *  - paragraphs: NUL-terminated text of their stated length, valid UTF-8,
 *    within ESSAY_MAX_PARAGRAPH_BYTES, no blank line inside, no trailing
 *    blanks on any line; back-links (article, lang, index, ordinal) agree;
 *    ordinals are dense;
 *  - pairs: present exactly when the essay is aligned, symmetric, same
 *    index, other language;
 *  - strict success implies the input is valid UTF-8 and the lenient parse
 *    gives the same corpus with no replacement warning.
 */
#include <string.h>

#include "fuzz.h"

#define NAME "fuzz.md"

static bool is_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return n > 0;
}

static void check_text(const essay_paragraph *p)
{
    size_t len = (size_t)-1;
    const char *t = essay_paragraph_text(p, &len);
    FUZZ_CHECK(t != NULL, "paragraph without text");
    FUZZ_CHECK(len <= ESSAY_MAX_PARAGRAPH_BYTES, "paragraph of %zu bytes", len);
    FUZZ_CHECK(t[len] == '\0', "text not NUL-terminated at %zu", len);
    FUZZ_CHECK(strlen(t) == len, "NUL inside a paragraph (%zu of %zu)", strlen(t), len);
    FUZZ_CHECK(len > 0, "empty paragraph");
    FUZZ_CHECK(fuzz_utf8_valid(t, len), "invalid UTF-8 at %zu in \"%s\"",
               fuzz_utf8_valid_prefix(t, len), t);
    /* lines: trailing blanks dropped, no blank line (it would split the block) */
    size_t line = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && t[i] != '\n')
            continue;
        FUZZ_CHECK(i > line, "empty line at byte %zu of \"%s\"", i, t);
        char last = t[i - 1];
        FUZZ_CHECK(last != ' ' && last != '\t' && last != '\r',
                   "line ends with blank 0x%02x at byte %zu of \"%s\"", (unsigned)last, i, t);
        line = i + 1;
    }
}

/* Walks the whole corpus; returns a hash-like digest for comparing parses. */
static uint64_t walk(const essay_corpus *c)
{
    uint64_t digest = 1469598103934665603ull;
#define MIX(v) (digest = (digest ^ (uint64_t)(v)) * 1099511628211ull)
    size_t n_art = essay_corpus_article_count(c);
    size_t n_para = essay_corpus_paragraph_count(c);
    FUZZ_CHECK(essay_corpus_article_at(c, n_art) == NULL, "article_at(count) not NULL");
    FUZZ_CHECK(essay_corpus_paragraph_at(c, n_para) == NULL, "paragraph_at(count) not NULL");
    unsigned char *seen = calloc(n_para ? n_para : 1, 1);
    FUZZ_CHECK(seen != NULL, "out of memory");
    size_t counted = 0;
    for (size_t i = 0; i < n_art; i++) {
        const essay_article *a = essay_corpus_article_at(c, i);
        FUZZ_CHECK(a != NULL, "article %zu of %zu is NULL", i, n_art);
        size_t id_len = (size_t)-1;
        const char *id = essay_article_id(a, &id_len);
        FUZZ_CHECK(id && id[id_len] == '\0' && strlen(id) == id_len, "bad id string");
        FUZZ_CHECK(is_digits(id, id_len) && id_len <= ESSAY_MAX_ID_LEN, "bad id \"%s\"", id);
        FUZZ_CHECK(essay_corpus_find(c, id, id_len) == a, "find(\"%s\") is another essay", id);
        uint32_t line = 0;
        const char *src = essay_article_source(a, &line);
        FUZZ_CHECK(src != NULL && line >= 1, "essay %s: no source line", id);
        MIX(id_len);
        for (size_t k = 0; k < id_len; k++)
            MIX((unsigned char)id[k]);

        size_t n[2] = { essay_article_paragraph_count(a, ESSAY_LANG_EN),
                        essay_article_paragraph_count(a, ESSAY_LANG_ZH) };
        int aligned = essay_article_is_aligned(a);
        FUZZ_CHECK(n[0] + n[1] > 0, "essay %s has no paragraph", id);
        FUZZ_CHECK(n[0] <= ESSAY_MAX_PARAGRAPHS && n[1] <= ESSAY_MAX_PARAGRAPHS,
                   "essay %s: %zu/%zu paragraphs", id, n[0], n[1]);
        FUZZ_CHECK(aligned == 0 || aligned == 1, "is_aligned %d", aligned);
        FUZZ_CHECK(!aligned || (n[0] == n[1] && n[0] > 0),
                   "essay %s aligned with %zu/%zu paragraphs", id, n[0], n[1]);
        MIX(n[0]);
        MIX(n[1]);
        MIX(aligned);
        for (int lang = 0; lang < 2; lang++) {
            size_t tlen = (size_t)-1;
            const char *title = essay_article_title(a, (essay_lang)lang, &tlen);
            FUZZ_CHECK((title == NULL) == (n[lang] == 0), "essay %s lang %d: title %p, %zu paras",
                       id, lang, (const void *)title, n[lang]);
            FUZZ_CHECK(essay_article_paragraph(a, (essay_lang)lang, n[lang]) == NULL,
                       "paragraph(count) not NULL");
            for (size_t k = 0; k < n[lang]; k++) {
                const essay_paragraph *p = essay_article_paragraph(a, (essay_lang)lang, k);
                FUZZ_CHECK(p != NULL, "essay %s lang %d para %zu is NULL", id, lang, k);
                FUZZ_CHECK(essay_paragraph_article(p) == a, "paragraph_article");
                FUZZ_CHECK((int)essay_paragraph_lang(p) == lang, "paragraph_lang");
                FUZZ_CHECK(essay_paragraph_index(p) == k, "paragraph_index %zu != %zu",
                           essay_paragraph_index(p), k);
                size_t ord = essay_paragraph_ordinal(p);
                FUZZ_CHECK(ord < n_para && !seen[ord], "ordinal %zu of %zu repeated or out of range",
                           ord, n_para);
                seen[ord] = 1;
                FUZZ_CHECK(essay_corpus_paragraph_at(c, ord) == p, "paragraph_at(ordinal)");
                check_text(p);
                size_t plen;
                const char *t = essay_paragraph_text(p, &plen);
                if (k == 0)
                    FUZZ_CHECK(tlen == plen && memcmp(title, t, plen) == 0,
                               "essay %s: title is not paragraph 0", id);
                MIX(plen);
                for (size_t b = 0; b < plen; b++)
                    MIX((unsigned char)t[b]);

                const essay_paragraph *q = essay_paragraph_pair(p);
                FUZZ_CHECK((q != NULL) == (aligned == 1), "essay %s: pair %p but aligned %d", id,
                           (const void *)q, aligned);
                if (q) {
                    FUZZ_CHECK(essay_paragraph_pair(q) == p, "pair not symmetric");
                    FUZZ_CHECK((int)essay_paragraph_lang(q) == 1 - lang, "pair of the same lang");
                    FUZZ_CHECK(essay_paragraph_index(q) == k, "pair at another index");
                    FUZZ_CHECK(essay_paragraph_article(q) == a, "pair in another essay");
                }
                counted++;
            }
        }
    }
    FUZZ_CHECK(counted == n_para, "paragraph_count %zu, walked %zu", n_para, counted);
    free(seen);

    size_t n_warn = essay_corpus_warning_count(c);
    FUZZ_CHECK(essay_corpus_warning_at(c, n_warn) == NULL, "warning_at(count) not NULL");
    for (size_t i = 0; i < n_warn; i++) {
        const essay_error *w = essay_corpus_warning_at(c, i);
        FUZZ_CHECK(w != NULL, "warning %zu is NULL", i);
        FUZZ_CHECK(w->code == ESSAY_OK, "warning code %d", w->code);
        FUZZ_CHECK(w->message[0] != '\0', "empty warning");
        FUZZ_CHECK(memchr(w->message, 0, sizeof(w->message)) != NULL, "warning not terminated");
    }
#undef MIX
    return digest;
}

/* A failed parse: a proper error, located inside the input (also after a
 * lenient parse replaced invalid bytes: offsets count input bytes).
 * `repaired`: lines are still checked against the input, which holds the
 * same newlines. */
static void check_failure(int rc, const essay_error *err, const essay_corpus *c,
                          const char *text, size_t len, bool repaired)
{
    FUZZ_CHECK(c == NULL, "corpus returned with rc %d", rc);
    fuzz_check_error(rc, err);
    if (rc == ESSAY_ESYNTAX) {
        FUZZ_CHECK(err->line >= 1 && err->column >= 1, "syntax error without line:column: %s",
                   err->message);
        FUZZ_CHECK(strcmp(err->path, NAME) == 0, "path \"%s\"", err->path);
        FUZZ_CHECK(strncmp(err->message, NAME ":", sizeof(NAME)) == 0,
                   "message does not start with the location: %s", err->message);
    }
    (void)repaired;
    FUZZ_CHECK(err->offset <= len, "error offset %llu past %zu: %s",
               (unsigned long long)err->offset, len, err->message);
    if (err->offset > 0 && err->line > 0) {
        uint32_t line = 1;
        for (size_t i = 0; i < err->offset; i++)
            line += text[i] == '\n';
        FUZZ_CHECK(line == err->line, "line %u but offset %llu is on line %u: %s", err->line,
                   (unsigned long long)err->offset, line, err->message);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    essay_corpus_options strict = ESSAY_CORPUS_OPTIONS_INIT, lenient = ESSAY_CORPUS_OPTIONS_INIT;
    lenient.flags = ESSAY_CORPUS_LENIENT;
    essay_corpus *c = NULL, *l = NULL;
    essay_error err;

    int rs = essay_corpus_parse(&c, text, size, NAME, &strict, &err);
    uint64_t ds = 0;
    if (rs == ESSAY_OK) {
        FUZZ_CHECK(c != NULL, "OK without a corpus");
        FUZZ_CHECK(fuzz_utf8_valid(text, size), "strict mode accepted invalid UTF-8 at %zu",
                   fuzz_utf8_valid_prefix(text, size));
        FUZZ_CHECK(memchr(text, 0, size) == NULL, "strict mode accepted a NUL byte");
        ds = walk(c);
    } else {
        check_failure(rs, &err, c, text, size, false);
    }

    int rl = essay_corpus_parse(&l, text, size, NAME, &lenient, &err);
    if (rl == ESSAY_OK) {
        FUZZ_CHECK(l != NULL, "OK without a corpus");
        uint64_t dl = walk(l);
        if (rs == ESSAY_OK) {
            FUZZ_CHECK(dl == ds, "lenient parse of valid text differs from strict");
            FUZZ_CHECK(essay_corpus_warning_count(l) == essay_corpus_warning_count(c),
                       "lenient parse of valid text has %zu warnings, strict %zu",
                       essay_corpus_warning_count(l), essay_corpus_warning_count(c));
        }
    } else {
        check_failure(rl, &err, l, text, size, !fuzz_utf8_valid(text, size));
        FUZZ_CHECK(rs != ESSAY_OK, "strict parse succeeded, lenient failed: %s", err.message);
    }
    essay_corpus_free(l);
    essay_corpus_free(c);

    /* a byte limit below the size is ELIMIT, never a partial corpus
     * (max_bytes 0 means the default, so from 2 bytes on) */
    if (size > 1) {
        essay_corpus *t = NULL;
        essay_corpus_options small = ESSAY_CORPUS_OPTIONS_INIT;
        small.max_bytes = size - 1;
        int rt = essay_corpus_parse(&t, text, size, NAME, &small, &err);
        FUZZ_CHECK(rt == ESSAY_ELIMIT, "limit %zu on %zu bytes gave rc %d", size - 1, size, rt);
        check_failure(rt, &err, t, text, size, false);
    }
    /* NULL err is allowed */
    essay_corpus *n = NULL;
    if (essay_corpus_parse(&n, text, size, NULL, NULL, NULL) == ESSAY_OK)
        essay_corpus_free(n);
    return 0;
}
