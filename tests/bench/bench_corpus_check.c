/*
 * bench_corpus_check.c - load essay-format files with essay_corpus_load and
 * report what the loader saw: essays, paragraphs per language, aligned,
 * English-only, Chinese-only and unaligned essays, the longest paragraph,
 * and every warning.  Exit 0 when the load succeeds, 1 on an error.
 * Used by tests/data/real/make_real.sh to verify bilingual.md.
 *
 *   bench_corpus_check FILE... [--expect-no-warnings]
 */
#include "bench_common.h"

#include "essay.h"

int main(int argc, char **argv)
{
    const char *paths[64];
    size_t n = 0;
    int strict = 0;
    for (int i = 1; i < argc && n < 64; i++) {
        if (!strcmp(argv[i], "--expect-no-warnings"))
            strict = 1;
        else
            paths[n++] = argv[i];
    }
    if (!n) {
        fprintf(stderr, "usage: %s FILE... [--expect-no-warnings]\n", argv[0]);
        return 2;
    }
    essay_corpus *c;
    essay_error err;
    double t0 = now_sec();
    if (essay_corpus_load(&c, paths, n, NULL, &err) != ESSAY_OK) {
        fprintf(stderr, "error: %s\n", err.message);
        return 1;
    }
    double t1 = now_sec();
    size_t n_art = essay_corpus_article_count(c);
    size_t paras[2] = { 0, 0 }, aligned = 0, en_only = 0, zh_only = 0, unaligned = 0;
    size_t longest = 0, bytes = 0;
    for (size_t i = 0; i < n_art; i++) {
        const essay_article *a = essay_corpus_article_at(c, i);
        size_t ne = essay_article_paragraph_count(a, ESSAY_LANG_EN);
        size_t nz = essay_article_paragraph_count(a, ESSAY_LANG_ZH);
        paras[0] += ne;
        paras[1] += nz;
        if (ne && nz) {
            const essay_paragraph *p = essay_article_paragraph(a, ESSAY_LANG_EN, 0);
            if (essay_paragraph_pair(p))
                aligned++;
            else
                unaligned++;
        } else if (ne)
            en_only++;
        else
            zh_only++;
        for (int l = 0; l < 2; l++)
            for (size_t k = 0; k < (l ? nz : ne); k++) {
                size_t len;
                essay_paragraph_text(essay_article_paragraph(a, (essay_lang)l, k), &len);
                bytes += len;
                if (len > longest)
                    longest = len;
            }
    }
    size_t nw = essay_corpus_warning_count(c);
    for (size_t i = 0; i < nw && i < 20; i++)
        printf("warning: %s\n", essay_corpus_warning_at(c, i)->message);
    printf("%zu essays: %zu aligned, %zu bilingual unaligned, %zu English-only, "
           "%zu Chinese-only\n", n_art, aligned, unaligned, en_only, zh_only);
    printf("%zu English + %zu Chinese paragraphs, %zu text bytes, longest %zu bytes, "
           "%zu warnings, loaded in %.3f s\n", paras[0], paras[1], bytes, longest, nw, t1 - t0);
    essay_corpus_free(c);
    return strict && nw ? 1 : 0;
}
