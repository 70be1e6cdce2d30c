/*
 * api.c - the public entry points: argument checks, error filling and the
 * borrowed-handle accessors.  Work is done by the modules behind it.
 */
#include "analyze.h"
#include "corpus.h"

#include <string.h>

int essay_version_number(void)
{
    return ESSAY_VERSION_NUMBER;
}

const char *essay_version_string(void)
{
    return ESSAY_VERSION_STRING;
}

/* ---- corpus ---- */

int essay_corpus_options_init(essay_corpus_options *opts, unsigned version)
{
    if (!opts || version != ESSAY_CORPUS_OPTIONS_VERSION)
        return ESSAY_EINVAL;
    essay_corpus_options def = ESSAY_CORPUS_OPTIONS_INIT;
    *opts = def;
    return ESSAY_OK;
}

static int check_corpus_opts(const essay_corpus_options *opts, essay_error *err)
{
    if (opts && opts->version != ESSAY_CORPUS_OPTIONS_VERSION)
        return essay_fail(err, ESSAY_EINVAL, "essay_corpus_options: unknown version %u",
                          opts->version);
    if (opts && (opts->flags & ~ESSAY_CORPUS_LENIENT))
        return essay_fail(err, ESSAY_EINVAL, "essay_corpus_options: unknown flags 0x%x",
                          opts->flags);
    return 0;
}

int essay_corpus_parse(essay_corpus **out, const char *text, size_t len,
                       const char *name, const essay_corpus_options *opts,
                       essay_error *err)
{
    essay_error_clear(err);
    if (!out)
        return essay_fail(err, ESSAY_EINVAL, "essay_corpus_parse: out is NULL");
    *out = NULL;
    if (!text && len)
        return essay_fail(err, ESSAY_EINVAL, "essay_corpus_parse: text is NULL");
    int rc = check_corpus_opts(opts, err);
    if (rc)
        return rc;
    essay_corpus_builder *b;
    if ((rc = essay_corpus_builder_new(&b, opts, err)))
        return rc;
    if ((rc = essay_corpus_builder_add(b, text, len, name, err))) {
        essay_corpus_builder_free(b);
        return rc;
    }
    return essay_corpus_builder_finish(b, out, err);
}

int essay_corpus_load(essay_corpus **out, const char *const *paths, size_t n_paths,
                      const essay_corpus_options *opts, essay_error *err)
{
    essay_error_clear(err);
    if (!out)
        return essay_fail(err, ESSAY_EINVAL, "essay_corpus_load: out is NULL");
    *out = NULL;
    if (!paths || n_paths == 0)
        return essay_fail(err, ESSAY_EINVAL, "essay_corpus_load: no files given");
    if (n_paths > ESSAY_MAX_FILES)
        return essay_fail(err, ESSAY_ELIMIT, "more than %u corpus files", ESSAY_MAX_FILES);
    for (size_t i = 0; i < n_paths; i++)
        if (!paths[i])
            return essay_fail(err, ESSAY_EINVAL, "essay_corpus_load: path %zu is NULL", i);
    int rc = check_corpus_opts(opts, err);
    if (rc)
        return rc;
    essay_corpus_builder *b;
    if ((rc = essay_corpus_builder_new(&b, opts, err)))
        return rc;
    for (size_t i = 0; i < n_paths; i++) {
        if ((rc = essay_corpus_builder_add_file(b, paths[i], err))) {
            essay_corpus_builder_free(b);
            return rc;
        }
    }
    return essay_corpus_builder_finish(b, out, err);
}

int essay_corpus_default(essay_corpus **out, essay_error *err)
{
    return essay_corpus_parse(out, essay_default_corpus_text, essay_default_corpus_len,
                              ESSAY_DEFAULT_CORPUS_NAME, NULL, err);
}

size_t essay_corpus_article_count(const essay_corpus *c)
{
    return c ? c->n_articles : 0;
}

const essay_article *essay_corpus_article_at(const essay_corpus *c, size_t i)
{
    return c && i < c->n_articles ? &c->articles[i] : NULL;
}

const essay_article *essay_corpus_find(const essay_corpus *c, const char *id, size_t len)
{
    if (!c || !id)
        return NULL;
    size_t lo = 0, hi = c->n_articles;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const essay_article *a = &c->articles[c->by_id[mid]];
        int cmp = a->id_len != len ? (a->id_len < len ? -1 : 1) : memcmp(a->id, id, len);
        if (cmp == 0)
            return a;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

size_t essay_corpus_paragraph_count(const essay_corpus *c)
{
    return c ? c->n_paras : 0;
}

const essay_paragraph *essay_corpus_paragraph_at(const essay_corpus *c, size_t i)
{
    return c && i < c->n_paras ? &c->paras[i] : NULL;
}

size_t essay_corpus_warning_count(const essay_corpus *c)
{
    return c ? c->n_warnings : 0;
}

const essay_error *essay_corpus_warning_at(const essay_corpus *c, size_t i)
{
    return c && i < c->n_warnings ? &c->warnings[i] : NULL;
}

/* ---- articles ---- */

static bool lang_ok(essay_lang lang)
{
    return lang == ESSAY_LANG_EN || lang == ESSAY_LANG_ZH;
}

const char *essay_article_id(const essay_article *a, size_t *len_out)
{
    if (len_out)
        *len_out = a ? a->id_len : 0;
    return a ? a->id : NULL;
}

const char *essay_article_title(const essay_article *a, essay_lang lang, size_t *len_out)
{
    const essay_paragraph *p = essay_article_paragraph(a, lang, 0);
    if (len_out)
        *len_out = p ? p->len : 0;
    return p ? p->text : NULL;
}

size_t essay_article_paragraph_count(const essay_article *a, essay_lang lang)
{
    return a && lang_ok(lang) ? a->n_para[lang] : 0;
}

const essay_paragraph *essay_article_paragraph(const essay_article *a, essay_lang lang,
                                               size_t i)
{
    if (!a || !lang_ok(lang) || i >= a->n_para[lang])
        return NULL;
    return &a->para[lang][i];
}

int essay_article_is_aligned(const essay_article *a)
{
    return a && a->aligned;
}

const char *essay_article_source(const essay_article *a, uint32_t *line_out)
{
    if (line_out)
        *line_out = a ? a->line : 0;
    return a ? a->path : NULL;
}

/* ---- paragraphs ---- */

const essay_article *essay_paragraph_article(const essay_paragraph *p)
{
    return p ? p->article : NULL;
}

essay_lang essay_paragraph_lang(const essay_paragraph *p)
{
    return p ? (essay_lang)p->lang : ESSAY_LANG_EN;
}

size_t essay_paragraph_index(const essay_paragraph *p)
{
    return p ? p->index : 0;
}

size_t essay_paragraph_ordinal(const essay_paragraph *p)
{
    return p ? p->ordinal : 0;
}

const char *essay_paragraph_text(const essay_paragraph *p, size_t *len_out)
{
    if (len_out)
        *len_out = p ? p->len : 0;
    return p ? p->text : NULL;
}

const essay_paragraph *essay_paragraph_pair(const essay_paragraph *p)
{
    if (!p || !p->article->aligned)
        return NULL;
    const essay_article *a = p->article;
    int other = p->lang == ESSAY_LANG_EN ? ESSAY_LANG_ZH : ESSAY_LANG_EN;
    return p->index < a->n_para[other] ? &a->para[other][p->index] : NULL;
}

/* ---- analysis ---- */

int essay_tokenize(const char *text, size_t len, unsigned flags, essay_token_cb cb,
                   void *payload, essay_error *err)
{
    essay_error_clear(err);
    if (!text && len)
        return essay_fail(err, ESSAY_EINVAL, "essay_tokenize: text is NULL");
    if (!cb)
        return essay_fail(err, ESSAY_EINVAL, "essay_tokenize: callback is NULL");
    if (flags & ~ESSAY_TOKENIZE_QUERY)
        return essay_fail(err, ESSAY_EINVAL, "essay_tokenize: unknown flags 0x%x", flags);
    essay_analyzer *a;
    int rc = essay_analyzer_new(&a, err);
    if (rc)
        return rc;
    rc = essay_analyzer_run(a, text ? text : "", len, flags, cb, payload, err);
    essay_analyzer_free(a);
    return rc;
}
