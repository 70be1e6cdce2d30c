/*
 * analyze_fuzzer.c - the analyzer (analyze.c, essay_tokenize) on arbitrary
 * bytes.
 *
 * The input is tokenized in document and in query mode through the public
 * essay_tokenize().  Invalid UTF-8 must be ESSAY_ESYNTAX at the first bad
 * byte, before any token.  Otherwise every token must satisfy the token
 * stream contract of include/essay.h:
 *  - start < end <= len, both on UTF-8 character boundaries;
 *  - a term of 1..ESSAY_MAX_TOKEN_BYTES bytes of valid UTF-8;
 *  - a known kind; positions never decrease; ESSAY_TOKEN_COLOCATED is set
 *    exactly when a token shares the position of the one before it, and an
 *    EXACT token is always colocated with its WORD;
 *  - the same stream both times the same text is run.
 * For any valid input the fast paths (ASCII stretches, Han runs segmented
 * by cjdict.c) must give exactly the tokens of the ICU-only path (internal
 * flag ESSAY_ANALYZE_NO_FASTPATH, analyze.h).
 */
#include <string.h>

#include "analyze.h"
#include "fuzz.h"

typedef struct tok {
    char term[ESSAY_MAX_TOKEN_BYTES];
    size_t term_len, start, end;
    uint32_t pos;
    unsigned flags;
} tok;

typedef struct stream {
    const char *text;
    size_t len;
    tok *v;
    size_t n, cap;
} stream;

static int collect(void *payload, const essay_token *t)
{
    stream *s = payload;
    FUZZ_CHECK(t != NULL && t->term != NULL, "NULL token");
    FUZZ_CHECK(t->start < t->end && t->end <= s->len, "token [%zu,%zu) in %zu bytes", t->start,
               t->end, s->len);
    FUZZ_CHECK(fuzz_on_boundary(s->text, s->len, t->start) &&
               fuzz_on_boundary(s->text, s->len, t->end),
               "token [%zu,%zu) not on character boundaries", t->start, t->end);
    FUZZ_CHECK(t->term_len > 0 && t->term_len <= ESSAY_MAX_TOKEN_BYTES, "term of %zu bytes",
               t->term_len);
    FUZZ_CHECK(fuzz_utf8_valid(t->term, t->term_len), "term not UTF-8: \"%.*s\"",
               (int)t->term_len, t->term);
    unsigned kind = t->flags & ESSAY_TOKEN_KIND_MASK;
    FUZZ_CHECK(kind >= ESSAY_TOKEN_WORD && kind <= ESSAY_TOKEN_OTHER, "kind %u", kind);
    FUZZ_CHECK((t->flags & ~(ESSAY_TOKEN_KIND_MASK | ESSAY_TOKEN_COLOCATED)) == 0, "flags 0x%x",
               t->flags);
    if (s->n == 0) {
        FUZZ_CHECK(!(t->flags & ESSAY_TOKEN_COLOCATED), "first token colocated");
    } else {
        const tok *p = &s->v[s->n - 1];
        FUZZ_CHECK(t->position >= p->pos, "position %u after %u", t->position, p->pos);
        FUZZ_CHECK(!!(t->flags & ESSAY_TOKEN_COLOCATED) == (t->position == p->pos),
                   "token %zu at pos %u (previous %u) flags 0x%x", s->n, t->position, p->pos,
                   t->flags);
    }
    if (kind == ESSAY_TOKEN_EXACT)
        FUZZ_CHECK(s->n > 0 && (t->flags & ESSAY_TOKEN_COLOCATED), "EXACT token not colocated");
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->v = realloc(s->v, s->cap * sizeof(tok));
        FUZZ_CHECK(s->v != NULL, "out of memory");
    }
    tok *k = &s->v[s->n++];
    memcpy(k->term, t->term, t->term_len);
    k->term_len = t->term_len;
    k->start = t->start;
    k->end = t->end;
    k->pos = t->position;
    k->flags = t->flags;
    return 0;
}

static void same_stream(const stream *x, const stream *y, const char *what)
{
    size_t n = x->n < y->n ? x->n : y->n;
    for (size_t i = 0; i < n; i++) {
        const tok *a = &x->v[i], *b = &y->v[i];
        FUZZ_CHECK(a->term_len == b->term_len && memcmp(a->term, b->term, a->term_len) == 0 &&
                   a->start == b->start && a->end == b->end && a->pos == b->pos &&
                   a->flags == b->flags,
                   "%s: token %zu differs: '%.*s' [%zu,%zu) pos %u flags 0x%x vs '%.*s' "
                   "[%zu,%zu) pos %u flags 0x%x", what, i, (int)a->term_len, a->term, a->start,
                   a->end, a->pos, a->flags, (int)b->term_len, b->term, b->start, b->end, b->pos,
                   b->flags);
    }
    FUZZ_CHECK(x->n == y->n, "%s: %zu tokens vs %zu", what, x->n, y->n);
}

static stream tokenize(const char *text, size_t len, unsigned mode)
{
    stream s = { text, len, NULL, 0, 0 };
    essay_error err;
    size_t valid = fuzz_utf8_valid_prefix(text, len);
    int rc = essay_tokenize(text, len, mode, collect, &s, &err);
    if (valid < len) {
        FUZZ_CHECK(rc == ESSAY_ESYNTAX, "invalid UTF-8 at %zu gave rc %d", valid, rc);
        fuzz_check_error(rc, &err);
        FUZZ_CHECK(err.offset == valid, "invalid UTF-8 at %zu reported at %llu", valid,
                   (unsigned long long)err.offset);
        FUZZ_CHECK(s.n == 0, "%zu tokens before a UTF-8 error", s.n);
    } else {
        FUZZ_CHECK(rc == ESSAY_OK, "valid text gave rc %d: %s", rc, err.message);
    }
    return s;
}

static essay_analyzer *analyzer;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    stream doc = tokenize(text, size, ESSAY_TOKENIZE_DOCUMENT);
    stream query = tokenize(text, size, ESSAY_TOKENIZE_QUERY);
    free(query.v);

    if (fuzz_utf8_valid_prefix(text, size) == size) {
        essay_error err;
        if (!analyzer)
            FUZZ_CHECK(essay_analyzer_new(&analyzer, &err) == ESSAY_OK, "%s", err.message);
        stream fast = { text, size, NULL, 0, 0 }, icu = { text, size, NULL, 0, 0 };
        int rc = essay_analyzer_run(analyzer, text, size, 0, collect, &fast, &err);
        FUZZ_CHECK(rc == ESSAY_OK, "rc %d: %s", rc, err.message);
        rc = essay_analyzer_run(analyzer, text, size, ESSAY_ANALYZE_NO_FASTPATH, collect, &icu,
                                &err);
        FUZZ_CHECK(rc == ESSAY_OK, "rc %d: %s", rc, err.message);
        same_stream(&doc, &fast, "essay_tokenize vs a reused analyzer");
        same_stream(&fast, &icu, "fast paths (ASCII, Han runs) vs ICU");
        free(fast.v);
        free(icu.v);
    }
    free(doc.v);
    return 0;
}
