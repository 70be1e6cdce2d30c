/*
 * main.c - the install test's consumer (tests/install/CMakeLists.txt and
 * the pkg-config build in .ci/run): public header and library only.
 *
 * Prints the library version, checks it against the header, and lists the
 * embedded corpus: every essay with its titles, paragraph counts and the
 * first aligned pair; then the tokens of a mixed query.
 */
#include <essay.h>

#include <stdio.h>
#include <string.h>

static int fail(const char *what, const essay_error *err)
{
    fprintf(stderr, "consumer: %s: %s\n", what, err->message);
    return 1;
}

static int print_token(void *payload, const essay_token *t)
{
    (void)payload;
    printf(" %.*s", (int)t->term_len, t->term);
    return 0;
}

int main(void)
{
    printf("libessay %s (header %s)\n", essay_version_string(), ESSAY_VERSION_STRING);
    if (essay_version_number() != ESSAY_VERSION_NUMBER ||
        strcmp(essay_version_string(), ESSAY_VERSION_STRING) != 0) {
        fprintf(stderr, "consumer: header and library versions differ\n");
        return 1;
    }

    essay_error err;
    essay_corpus *corpus;
    if (essay_corpus_default(&corpus, &err) != ESSAY_OK)
        return fail("essay_corpus_default", &err);
    size_t n = essay_corpus_article_count(corpus);
    printf("embedded corpus: %zu essays, %zu paragraphs\n", n,
           essay_corpus_paragraph_count(corpus));
    for (size_t i = 0; i < n; i++) {
        const essay_article *a = essay_corpus_article_at(corpus, i);
        const char *en = essay_article_title(a, ESSAY_LANG_EN, NULL);
        const char *zh = essay_article_title(a, ESSAY_LANG_ZH, NULL);
        printf("  %s  %s / %s  (%zu en, %zu zh paragraphs)\n", essay_article_id(a, NULL),
               en ? en : "-", zh ? zh : "-", essay_article_paragraph_count(a, ESSAY_LANG_EN),
               essay_article_paragraph_count(a, ESSAY_LANG_ZH));
    }
    if (n == 0) {
        fprintf(stderr, "consumer: the embedded corpus is empty\n");
        essay_corpus_free(corpus);
        return 1;
    }
    const essay_paragraph *p = essay_article_paragraph(essay_corpus_article_at(corpus, 0),
                                                       ESSAY_LANG_EN, 1);
    const essay_paragraph *q = p ? essay_paragraph_pair(p) : NULL;
    if (p && q)
        printf("first pair:\n  %s\n  %s\n", essay_paragraph_text(p, NULL),
               essay_paragraph_text(q, NULL));
    essay_corpus_free(corpus);

    const char *query = "Learning 數學 DeepLearning.AI";
    printf("tokens of \"%s\":", query);
    if (essay_tokenize(query, strlen(query), ESSAY_TOKENIZE_QUERY, print_token, NULL, &err))
        return fail("essay_tokenize", &err);
    printf("\n");
    return 0;
}
