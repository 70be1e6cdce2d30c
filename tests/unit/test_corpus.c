/* test_corpus.c - the essay-format parser (corpus.c). */
#include "harness.h"
#include "corpus.h"

#include <stdlib.h>

static const char *data_dir = "tests/data";

static essay_corpus *parse(const char *text, essay_error *err)
{
    essay_corpus *c = NULL;
    int rc = essay_corpus_parse(&c, text, strlen(text), "t.md", NULL, err);
    if (rc)
        return NULL;
    return c;
}

static char *path_of(const char *rel)
{
    static char buf[4096];
    snprintf(buf, sizeof(buf), "%s/%s", data_dir, rel);
    return buf;
}

static void corpus_default_seed_essay(void)
{
    essay_error err;
    essay_corpus *c = NULL;
    CHECK_INT(essay_corpus_default(&c, &err), ESSAY_OK);
    CHECK_INT(essay_corpus_article_count(c), 1);
    const essay_article *a = essay_corpus_find(c, "0301", 4);
    CHECK(a != NULL);
    CHECK_INT(essay_article_paragraph_count(a, ESSAY_LANG_EN), 8);
    CHECK_INT(essay_article_paragraph_count(a, ESSAY_LANG_ZH), 8);
    CHECK(essay_article_is_aligned(a));
    CHECK_INT(essay_corpus_warning_count(c), 0);
    size_t len;
    const char *t = essay_article_title(a, ESSAY_LANG_EN, &len);
    CHECK_MEM(t, len, "Should You Learn Math to Get a Job in AI?");
    t = essay_article_title(a, ESSAY_LANG_ZH, &len);
    CHECK_MEM(t, len, "在 AI 找工作该不该学数学？");
    for (size_t i = 0; i < 8; i++) {
        const essay_paragraph *en = essay_article_paragraph(a, ESSAY_LANG_EN, i);
        const essay_paragraph *zh = essay_paragraph_pair(en);
        CHECK(zh != NULL);
        CHECK_INT(essay_paragraph_index(zh), i);
        CHECK_INT(essay_paragraph_lang(zh), ESSAY_LANG_ZH);
        CHECK(essay_paragraph_pair(zh) == en);
    }
    /* the embedded text is byte-identical to the source file's blocks */
    const essay_paragraph *last = essay_article_paragraph(a, ESSAY_LANG_ZH, 7);
    t = essay_paragraph_text(last, &len);
    CHECK_MEM(t, len, "当然，我也鼓励好奇心驱动的学习。如果某样东西让你感兴趣，那就去学习它，"
                      "不管它有多有用！也许这会带来创造性的火花或技术突破。");
    CHECK(essay_corpus_find(c, "301", 3) == NULL);
    CHECK(essay_corpus_find(c, "03011", 5) == NULL);
    essay_corpus_free(c);
}

/* Every block of the embedded corpus file, rebuilt from the API, equals the
 * file's text exactly: nothing lost, nothing reordered. */
static void corpus_default_roundtrip_file(void)
{
    char *p = path_of("../../libessay/corpus/essays.md");
    FILE *f = fopen(p, "rb");
    CHECK(f != NULL);
    if (!f)
        return;
    static char file[1 << 16];
    size_t n = fread(file, 1, sizeof(file) - 1, f);
    fclose(f);
    file[n] = 0;
    essay_corpus *c = NULL;
    CHECK_INT(essay_corpus_default(&c, NULL), ESSAY_OK);
    static char rebuilt[1 << 16];
    size_t r = 0;
    const essay_article *a = essay_corpus_article_at(c, 0);
    r += (size_t)snprintf(rebuilt + r, sizeof(rebuilt) - r, "## %s. ", essay_article_id(a, NULL));
    for (int lang = 0; lang < 2; lang++)
        for (size_t i = 0; i < essay_article_paragraph_count(a, (essay_lang)lang); i++) {
            size_t len;
            const char *t = essay_paragraph_text(essay_article_paragraph(a, (essay_lang)lang, i), &len);
            r += (size_t)snprintf(rebuilt + r, sizeof(rebuilt) - r, "%s%.*s",
                                  (lang || i) ? "\n\n" : "", (int)len, t);
        }
    while (n && (file[n - 1] == '\n'))
        n--;
    CHECK_INT(r, n);
    CHECK(memcmp(rebuilt, file, n) == 0);
    essay_corpus_free(c);
}

static void corpus_language_split_rules(void)
{
    essay_corpus *c = NULL;
    const char *paths[] = { path_of("good/mixed.md") };
    essay_error err;
    CHECK_INT(essay_corpus_load(&c, paths, 1, NULL, &err), ESSAY_OK);
    if (!c) {
        fprintf(stderr, "%s\n", err.message);
        return;
    }
    CHECK_INT(essay_corpus_article_count(c), 5);

    const essay_article *a = essay_corpus_find(c, "0100", 4);   /* English only */
    CHECK_INT(essay_article_paragraph_count(a, ESSAY_LANG_EN), 3);
    CHECK_INT(essay_article_paragraph_count(a, ESSAY_LANG_ZH), 0);
    CHECK(!essay_article_is_aligned(a));
    CHECK(essay_article_title(a, ESSAY_LANG_ZH, NULL) == NULL);
    CHECK(essay_paragraph_pair(essay_article_paragraph(a, ESSAY_LANG_EN, 1)) == NULL);

    a = essay_corpus_find(c, "0101", 4);                         /* Chinese heading */
    CHECK_INT(essay_article_paragraph_count(a, ESSAY_LANG_EN), 0);
    CHECK_INT(essay_article_paragraph_count(a, ESSAY_LANG_ZH), 3);
    size_t len;
    const char *t = essay_article_title(a, ESSAY_LANG_ZH, &len);
    CHECK_MEM(t, len, "中文标题");

    a = essay_corpus_find(c, "0102", 4);       /* Latin-majority Chinese title */
    CHECK_INT(essay_article_paragraph_count(a, ESSAY_LANG_EN), 2);
    CHECK_INT(essay_article_paragraph_count(a, ESSAY_LANG_ZH), 2);
    CHECK(essay_article_is_aligned(a));
    t = essay_article_title(a, ESSAY_LANG_ZH, &len);
    CHECK_MEM(t, len, "PyTorch 入门");

    a = essay_corpus_find(c, "0103", 4);       /* counts differ: script fallback */
    CHECK_INT(essay_article_paragraph_count(a, ESSAY_LANG_EN), 4);
    CHECK_INT(essay_article_paragraph_count(a, ESSAY_LANG_ZH), 2);
    CHECK(!essay_article_is_aligned(a));
    CHECK(essay_paragraph_pair(essay_article_paragraph(a, ESSAY_LANG_EN, 0)) == NULL);

    a = essay_corpus_find(c, "0104", 4);       /* some Han, never a majority */
    CHECK_INT(essay_article_paragraph_count(a, ESSAY_LANG_EN), 3);
    CHECK_INT(essay_article_paragraph_count(a, ESSAY_LANG_ZH), 0);

    CHECK_INT(essay_corpus_warning_count(c), 2);
    const essay_error *w = essay_corpus_warning_at(c, 0);
    CHECK(w && strstr(w->message, "0103") && strstr(w->message, "4 English")
          && strstr(w->message, "2 Chinese"));
    CHECK(w && w->line == 21);
    CHECK(essay_corpus_warning_at(c, 2) == NULL);
    CHECK_INT(essay_corpus_paragraph_count(c), 3 + 3 + 4 + 6 + 3);
    for (size_t i = 0; i < essay_corpus_paragraph_count(c); i++)
        CHECK_INT(essay_paragraph_ordinal(essay_corpus_paragraph_at(c, i)), i);
    essay_corpus_free(c);
}

static void corpus_crlf_bom_trailing_blanks(void)
{
    essay_corpus *c = NULL;
    const char *paths[] = { path_of("good/crlf_bom.md") };
    essay_error err;
    CHECK_INT(essay_corpus_load(&c, paths, 1, NULL, &err), ESSAY_OK);
    const essay_article *a = essay_corpus_find(c, "0007", 4);
    CHECK(a != NULL);
    size_t len;
    const char *t = essay_article_title(a, ESSAY_LANG_EN, &len);
    CHECK_MEM(t, len, "CRLF essay");
    t = essay_paragraph_text(essay_article_paragraph(a, ESSAY_LANG_EN, 1), &len);
    CHECK_MEM(t, len, "First English paragraph.\nSecond line of it.");
    CHECK(essay_article_is_aligned(a));
    t = essay_paragraph_text(essay_article_paragraph(a, ESSAY_LANG_ZH, 1), &len);
    CHECK_MEM(t, len, "第一段中文。");
    essay_corpus_free(c);
}

static int code_of(const char *name)
{
    static const struct { const char *n; int c; } codes[] = {
        { "ESYNTAX", ESSAY_ESYNTAX }, { "ELIMIT", ESSAY_ELIMIT }, { "EIO", ESSAY_EIO },
        { "ENOTFOUND", ESSAY_ENOTFOUND },
    };
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        if (strcmp(codes[i].n, name) == 0)
            return codes[i].c;
    return 1;
}

/* Each malformed corpus in tests/data/malformed fails at its expected
 * line:column, with a message that starts with that location. */
static void corpus_malformed_locations(void)
{
    char manifest[4096];
    snprintf(manifest, sizeof(manifest), "%s/malformed/EXPECTED", data_dir);
    FILE *f = fopen(manifest, "r");
    CHECK(f != NULL);
    if (!f)
        return;
    char line[512];
    int n_cases = 0;
    while (fgets(line, sizeof(line), f)) {
        char name[128], code[32];
        unsigned ln, col;
        if (line[0] == '#' || sscanf(line, "%127s %31s %u:%u", name, code, &ln, &col) != 4)
            continue;
        n_cases++;
        char rel[256];
        snprintf(rel, sizeof(rel), "malformed/%s", name);
        const char *paths[] = { path_of(rel) };
        essay_corpus *c = (essay_corpus *)1;
        essay_error err;
        int rc = essay_corpus_load(&c, paths, 1, NULL, &err);
        CHECK_INT(rc, code_of(code));
        CHECK(c == NULL);
        CHECK_INT(err.code, rc);
        if (err.line != ln || err.column != col)
            fprintf(stderr, "  %s: got %u:%u (%s)\n", name, err.line, err.column, err.message);
        CHECK_INT(err.line, ln);
        CHECK_INT(err.column, col);
        char prefix[600];
        snprintf(prefix, sizeof(prefix), "%s:%u:%u: ", paths[0], ln, col);
        CHECK(strncmp(err.message, prefix, strlen(prefix)) == 0);
        CHECK(strcmp(err.path, paths[0]) == 0);
    }
    fclose(f);
    CHECK(n_cases >= 10);
}

static void corpus_duplicate_across_files(void)
{
    const char *paths[] = { path_of("good/mixed.md"), path_of("good/mixed.md") };
    essay_corpus *c;
    essay_error err;
    CHECK_INT(essay_corpus_load(&c, paths, 2, NULL, &err), ESSAY_ESYNTAX);
    CHECK(strstr(err.message, "duplicate essay id 0100") != NULL);
    CHECK(strstr(err.message, "first defined at") != NULL);
    CHECK_INT(err.line, 1);
}

static void corpus_lenient_replaces_invalid(void)
{
    const char text[] = "## 0001. T\n\nBad \xff\xfe bytes \xc0.\n";
    essay_corpus_options o;
    CHECK_INT(essay_corpus_options_init(&o, ESSAY_CORPUS_OPTIONS_VERSION), ESSAY_OK);
    o.flags = ESSAY_CORPUS_LENIENT;
    essay_corpus *c = NULL;
    essay_error err;
    CHECK_INT(essay_corpus_parse(&c, text, sizeof(text) - 1, "x.md", &o, &err), ESSAY_OK);
    CHECK_INT(essay_corpus_warning_count(c), 1);
    const essay_error *w = essay_corpus_warning_at(c, 0);
    CHECK(w && strstr(w->message, "3 invalid UTF-8 bytes replaced"));
    size_t len;
    const char *t = essay_paragraph_text(
        essay_article_paragraph(essay_corpus_article_at(c, 0), ESSAY_LANG_EN, 1), &len);
    CHECK_MEM(t, len, "Bad \xEF\xBF\xBD\xEF\xBF\xBD bytes \xEF\xBF\xBD.");
    essay_corpus_free(c);

    /* NUL stays an error even in lenient mode */
    const char nul[] = "## 0001. T\n\nA\xff\0B\n";
    CHECK_INT(essay_corpus_parse(&c, nul, sizeof(nul) - 1, "x.md", &o, &err), ESSAY_ESYNTAX);
    CHECK_INT(err.line, 3);
    CHECK_INT(err.column, 3);
}

static void corpus_edge_inputs(void)
{
    essay_error err;
    essay_corpus *c = parse("", &err);           /* empty: a corpus of nothing */
    CHECK(c != NULL);
    CHECK_INT(essay_corpus_article_count(c), 0);
    essay_corpus_free(c);
    c = parse("\n\n  \n\t\n", &err);             /* blank lines only */
    CHECK(c != NULL);
    essay_corpus_free(c);
    c = parse("## 0001. Only a heading", &err);  /* no final newline, no body */
    CHECK(c != NULL);
    CHECK_INT(essay_article_paragraph_count(essay_corpus_article_at(c, 0), ESSAY_LANG_EN), 1);
    essay_corpus_free(c);
    /* "## Words" inside an essay is text; a heading inside a block starts an essay */
    c = parse("## 1. A\n\n## Notes\nmore\n## 2. B\nbody\n", &err);
    CHECK(c != NULL);
    CHECK_INT(essay_corpus_article_count(c), 2);
    const essay_article *a = essay_corpus_find(c, "1", 1);
    size_t len;
    const char *t = essay_paragraph_text(essay_article_paragraph(a, ESSAY_LANG_EN, 1), &len);
    CHECK_MEM(t, len, "## Notes\nmore");
    a = essay_corpus_find(c, "2", 1);
    t = essay_paragraph_text(essay_article_paragraph(a, ESSAY_LANG_EN, 1), &len);
    CHECK_MEM(t, len, "body");
    essay_corpus_free(c);
    /* leading zeros are part of the id */
    c = parse("## 07. A\n\n## 7. B\n", &err);
    CHECK(c != NULL);
    CHECK(essay_corpus_find(c, "07", 2) != essay_corpus_find(c, "7", 1));
    essay_corpus_free(c);
}

static void corpus_limits(void)
{
    essay_error err;
    essay_corpus *c;
    /* a paragraph over the limit */
    size_t n = ESSAY_MAX_PARAGRAPH_BYTES + 16;
    char *big = malloc(n + 32);
    memcpy(big, "## 1. T\n\n", 9);
    memset(big + 9, 'a', n);
    CHECK_INT(essay_corpus_parse(&c, big, n + 9, "big.md", NULL, &err), ESSAY_ELIMIT);
    CHECK_INT(err.line, 3);
    /* a file over the caller's limit */
    essay_corpus_options o = ESSAY_CORPUS_OPTIONS_INIT;
    o.max_bytes = 100;
    CHECK_INT(essay_corpus_parse(&c, big, 200, "big.md", &o, &err), ESSAY_ELIMIT);
    free(big);
    /* missing file, directory */
    const char *missing[] = { path_of("no/such/file.md") };
    CHECK_INT(essay_corpus_load(&c, missing, 1, NULL, &err), ESSAY_ENOTFOUND);
    CHECK(strstr(err.message, "no/such/file.md") != NULL);
    const char *dir[] = { data_dir };
    CHECK_INT(essay_corpus_load(&c, dir, 1, NULL, &err), ESSAY_EIO);
    /* bad arguments */
    CHECK_INT(essay_corpus_parse(NULL, "", 0, NULL, NULL, &err), ESSAY_EINVAL);
    CHECK_INT(essay_corpus_load(&c, NULL, 0, NULL, &err), ESSAY_EINVAL);
    o.version = 99;
    CHECK_INT(essay_corpus_parse(&c, "", 0, NULL, &o, &err), ESSAY_EINVAL);
}

/* Every allocation of a parse, failed in turn: ENOMEM or success, never a
 * crash (and no leak under LeakSanitizer). */
static void corpus_every_allocation_fails_cleanly(void)
{
    const char *paths[] = { path_of("good/mixed.md") };
    int n_ok = 0;
    uint64_t i;
    for (i = 1; i < 10000; i++) {
        essay_corpus *c = NULL;
        essay_error err;
        essay_alloc_fail_at(i);
        int rc = essay_corpus_load(&c, paths, 1, NULL, &err);
        essay_alloc_fail_at(0);
        if (rc == ESSAY_OK) {
            n_ok++;
            essay_corpus_free(c);
            break;
        }
        CHECK_INT(rc, ESSAY_ENOMEM);
        CHECK(c == NULL);
    }
    CHECK_INT(n_ok, 1);
    CHECK(i > 5);
}

/* Lenient mode: a later error's offset counts input bytes, not bytes of the
 * copy where each invalid byte became a 3-byte U+FFFD (corpus_fuzzer). */
static void corpus_lenient_error_offset(void)
{
    static const char t[] = "## 1. T\n\n\xff\xff\xff\x00";
    essay_corpus_options o = ESSAY_CORPUS_OPTIONS_INIT;
    o.flags = ESSAY_CORPUS_LENIENT;
    essay_corpus *c = NULL;
    essay_error e;
    CHECK_INT(essay_corpus_parse(&c, t, sizeof t - 1, "x.md", &o, &e), ESSAY_ESYNTAX);
    CHECK_INT(e.offset, 12);
    CHECK_INT(e.line, 3);
    CHECK_INT(e.column, 4);
    CHECK(c == NULL);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        data_dir = argv[1];
    RUN(corpus_default_seed_essay);
    RUN(corpus_default_roundtrip_file);
    RUN(corpus_language_split_rules);
    RUN(corpus_crlf_bom_trailing_blanks);
    RUN(corpus_malformed_locations);
    RUN(corpus_duplicate_across_files);
    RUN(corpus_lenient_replaces_invalid);
    RUN(corpus_lenient_error_offset);
    RUN(corpus_edge_inputs);
    RUN(corpus_limits);
    RUN(corpus_every_allocation_fails_cleanly);
    return harness_done();
}
