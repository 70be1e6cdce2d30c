/*
 * cmd_corpus.c - `essay list` and `essay show`: browsing a corpus (built in,
 * from files, or the copy inside a saved index).  Also the corpus loading
 * and --lang parsing other commands share.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *lang_name(essay_lang lang)
{
    return lang == ESSAY_LANG_ZH ? "zh" : "en";
}

int parse_lang(const cli_cmd *cmd, const char *value, int allow_both, int *lang_out)
{
    if (strcmp(value, "en") == 0)
        *lang_out = ESSAY_LANG_EN;
    else if (strcmp(value, "zh") == 0)
        *lang_out = ESSAY_LANG_ZH;
    else if (allow_both && strcmp(value, "both") == 0)
        *lang_out = -1;
    else
        return usage_error(cmd, "--lang: '%s' is not %s", value,
                           allow_both ? "en, zh or both" : "en or zh");
    return 0;
}

int load_corpus(const char *const *paths, size_t n_paths, essay_corpus **out)
{
    essay_error err;
    int rc = n_paths ? essay_corpus_load(out, paths, n_paths, NULL, &err)
                     : essay_corpus_default(out, &err);
    if (rc != ESSAY_OK)
        return lib_error(&err);
    /* A big corpus can raise thousands of warnings: show the first few and
     * count the rest, so that stderr stays readable. */
    size_t nw = essay_corpus_warning_count(*out), shown = nw > 20 ? 20 : nw;
    for (size_t i = 0; i < shown; i++)
        lib_warning(essay_corpus_warning_at(*out, i));
    if (nw > shown) {
        const essay_error *next = essay_corpus_warning_at(*out, shown);
        errorf("%s: warning: %zu more warnings not shown", next->path[0] ? next->path : "corpus",
               nw - shown);
    }
    return 0;
}

/* The corpus to browse: from a saved index (borrowed from *idx_out, which
 * the caller frees), from files, or built in (owned, in *corpus_out). */
static int browse_corpus(const cli_cmd *cmd, const char *const *paths, size_t n_paths,
                         const char *index_path, essay_corpus **corpus_out,
                         essay_index **idx_out, const essay_corpus **view_out)
{
    if (index_path && n_paths)
        return usage_error(cmd, "--corpus and --index cannot be used together");
    if (!index_path) {
        if (load_corpus(paths, n_paths, corpus_out))
            return EXIT_TROUBLE;
        *view_out = *corpus_out;
        return 0;
    }
    if (open_index(NULL, 0, index_path, 0, idx_out))
        return EXIT_TROUBLE;
    essay_error err;
    if (!(*view_out = essay_index_corpus(*idx_out, &err)))
        return lib_error(&err);
    return 0;
}

/* ---- essay list ---- */

const cli_cmd cli_cmd_list = {
    "list",
    cmd_list,
    "list the essays of a corpus",
    "usage: essay list [--corpus FILE... | --index FILE] [--json]\n",
    "One line per essay: id, paragraph counts (English, Chinese; titles\n"
    "included), whether the languages are aligned paragraph by paragraph,\n"
    "and the title.\n"
    "\n"
    "Options:\n"
    "  --corpus FILE...  read essay-format files instead of the built-in corpus;\n"
    "                    takes every following argument up to the next option\n"
    "  --index FILE      list the corpus held in an index saved by 'essay index'\n"
    "  --json            one JSON object per essay (JSON Lines)\n"
    "  -h, --help        show this help\n",
};

static const char *alignment(const essay_article *a)
{
    size_t n_en = essay_article_paragraph_count(a, ESSAY_LANG_EN);
    size_t n_zh = essay_article_paragraph_count(a, ESSAY_LANG_ZH);
    if (n_en && !n_zh)
        return "en-only";
    if (n_zh && !n_en)
        return "zh-only";
    return essay_article_is_aligned(a) ? "aligned" : "unaligned";
}

static void json_title(const char *key, const essay_article *a, essay_lang lang)
{
    size_t len;
    const char *t = essay_article_title(a, lang, &len);
    out_printf(",\"%s\":", key);
    if (t)
        out_json_str(t, len);
    else
        out_puts("null");
}

static void list_json(const essay_article *a)
{
    size_t id_len;
    const char *id = essay_article_id(a, &id_len);
    uint32_t line;
    const char *source = essay_article_source(a, &line);
    out_puts("{\"essay\":");
    out_json_str(id, id_len);
    out_printf(",\"en\":%zu,\"zh\":%zu,\"aligned\":%s",
               essay_article_paragraph_count(a, ESSAY_LANG_EN),
               essay_article_paragraph_count(a, ESSAY_LANG_ZH),
               essay_article_is_aligned(a) ? "true" : "false");
    json_title("title_en", a, ESSAY_LANG_EN);
    json_title("title_zh", a, ESSAY_LANG_ZH);
    out_puts(",\"source\":");
    if (source && *source)
        out_json_str(source, strlen(source));
    else
        out_puts("null"); /* the built-in corpus */
    out_printf(",\"line\":%lu}\n", (unsigned long)line);
}

static int digits(size_t n)
{
    int d = 1;
    while (n >= 10) {
        n /= 10;
        d++;
    }
    return d;
}

int cmd_list(const cli_cmd *cmd, int argc, char **argv)
{
    const char **paths = NULL;
    size_t n_paths = 0;
    const char *index_path = NULL;
    int json = 0, rc = EXIT_TROUBLE;
    essay_corpus *owned = NULL;
    essay_index *idx = NULL;
    const essay_corpus *corpus = NULL;
    argp p;
    argp_init(&p, cmd, argc, argv);
    for (int k; (k = argp_next(&p)) != ARG_END;) {
        if (k == ARG_OPERAND) {
            usage_error(cmd, "unexpected argument '%s'", p.arg);
            goto cleanup;
        }
        if (argp_is(&p, "--help", 'h')) {
            rc = cmd_help(cmd);
            goto cleanup;
        } else if (argp_is(&p, "--corpus", 0)) {
            if (argp_files(&p, &paths, &n_paths))
                goto cleanup;
        } else if (argp_is(&p, "--index", 0)) {
            if (!(index_path = argp_value(&p)))
                goto cleanup;
        } else if (argp_is(&p, "--json", 0)) {
            if (!argp_flag(&p))
                goto cleanup;
            json = 1;
        } else {
            usage_error(cmd, "unknown option '%s'", p.arg);
            goto cleanup;
        }
    }
    if (browse_corpus(cmd, paths, n_paths, index_path, &owned, &idx, &corpus))
        goto cleanup;

    size_t n = essay_corpus_article_count(corpus);
    int w_id = 4, w_en = 1, w_zh = 1;
    for (size_t i = 0; i < n; i++) {
        const essay_article *a = essay_corpus_article_at(corpus, i);
        size_t id_len;
        essay_article_id(a, &id_len);
        if ((int)id_len > w_id)
            w_id = (int)id_len;
        if (digits(essay_article_paragraph_count(a, ESSAY_LANG_EN)) > w_en)
            w_en = digits(essay_article_paragraph_count(a, ESSAY_LANG_EN));
        if (digits(essay_article_paragraph_count(a, ESSAY_LANG_ZH)) > w_zh)
            w_zh = digits(essay_article_paragraph_count(a, ESSAY_LANG_ZH));
    }
    for (size_t i = 0; i < n && out_ok(); i++) {
        const essay_article *a = essay_corpus_article_at(corpus, i);
        if (json) {
            list_json(a);
            continue;
        }
        size_t title_len;
        const char *title = essay_article_title(a, ESSAY_LANG_EN, &title_len);
        if (!title)
            title = essay_article_title(a, ESSAY_LANG_ZH, &title_len);
        out_printf("%-*s  en %*zu  zh %*zu  %-9s  ", w_id, essay_article_id(a, NULL), w_en,
                   essay_article_paragraph_count(a, ESSAY_LANG_EN), w_zh,
                   essay_article_paragraph_count(a, ESSAY_LANG_ZH), alignment(a));
        out_write(title ? title : "", title ? title_len : 0);
        out_putc('\n');
    }
    rc = EXIT_FOUND;
cleanup:
    essay_corpus_free(owned);
    essay_index_free(idx);
    free((void *)paths);
    return rc;
}

/* ---- essay show ---- */

const cli_cmd cli_cmd_show = {
    "show",
    cmd_show,
    "print the paragraphs of one essay",
    "usage: essay show <ID> [--lang en|zh|both] [--corpus FILE... | --index FILE]\n"
    "                  [--json]\n",
    "Print the paragraphs of essay ID (paragraph 0 is the title).  With\n"
    "--lang both (the default) each English paragraph is followed by its\n"
    "aligned Chinese paragraph; an essay that is not aligned prints all its\n"
    "English paragraphs, then all its Chinese ones.\n"
    "\n"
    "Options:\n"
    "  --lang en|zh|both  which language(s) to print (default both)\n"
    "  --corpus FILE...   read essay-format files instead of the built-in corpus\n"
    "  --index FILE       read the corpus held in an index saved by 'essay index'\n"
    "  --json             one JSON object per paragraph (JSON Lines) with keys\n"
    "                     essay, lang, para, text and pair ({lang, para} or null)\n"
    "  -h, --help         show this help\n"
    "\n"
    "Exit status: 0 shown, 1 no essay with that id, 2 error.\n",
};

static void show_para(const essay_paragraph *p, int json, int *first)
{
    size_t len;
    const char *text = essay_paragraph_text(p, &len);
    essay_lang lang = essay_paragraph_lang(p);
    size_t para = essay_paragraph_index(p);
    if (json) {
        size_t id_len;
        const char *id = essay_article_id(essay_paragraph_article(p), &id_len);
        const essay_paragraph *pair = essay_paragraph_pair(p);
        out_puts("{\"essay\":");
        out_json_str(id, id_len);
        out_printf(",\"lang\":\"%s\",\"para\":%zu,\"text\":", lang_name(lang), para);
        out_json_str(text, len);
        if (pair)
            out_printf(",\"pair\":{\"lang\":\"%s\",\"para\":%zu}}\n",
                       lang_name(essay_paragraph_lang(pair)), essay_paragraph_index(pair));
        else
            out_puts(",\"pair\":null}\n");
        return;
    }
    if (*first == 0)
        out_putc('\n'); /* a blank line between paragraphs (or pairs) */
    *first = 0;
    out_sgr(SGR_DIM);
    out_printf("[%s %zu]", lang_name(lang), para);
    out_sgr(SGR_RESET);
    out_putc(' ');
    out_write(text, len);
    out_putc('\n');
}

int cmd_show(const cli_cmd *cmd, int argc, char **argv)
{
    const char **paths = NULL;
    size_t n_paths = 0;
    const char *id = NULL;
    const char *index_path = NULL;
    int json = 0, lang = -1, rc = EXIT_TROUBLE;
    essay_corpus *owned = NULL;
    essay_index *idx = NULL;
    const essay_corpus *corpus = NULL;
    argp p;
    argp_init(&p, cmd, argc, argv);
    for (int k; (k = argp_next(&p)) != ARG_END;) {
        if (k == ARG_OPERAND) {
            if (id) {
                usage_error(cmd, "unexpected argument '%s'", p.arg);
                goto cleanup;
            }
            id = p.arg;
        } else if (argp_is(&p, "--help", 'h')) {
            rc = cmd_help(cmd);
            goto cleanup;
        } else if (argp_is(&p, "--corpus", 0)) {
            if (argp_files(&p, &paths, &n_paths))
                goto cleanup;
        } else if (argp_is(&p, "--index", 0)) {
            if (!(index_path = argp_value(&p)))
                goto cleanup;
        } else if (argp_is(&p, "--lang", 0)) {
            const char *v = argp_value(&p);
            if (!v || parse_lang(cmd, v, 1, &lang))
                goto cleanup;
        } else if (argp_is(&p, "--json", 0)) {
            if (!argp_flag(&p))
                goto cleanup;
            json = 1;
        } else {
            usage_error(cmd, "unknown option '%s'", p.arg);
            goto cleanup;
        }
    }
    if (!id) {
        usage_error(cmd, "which essay?  Give its id (see 'essay list')");
        goto cleanup;
    }
    if (browse_corpus(cmd, paths, n_paths, index_path, &owned, &idx, &corpus))
        goto cleanup;
    const essay_article *a = essay_corpus_find(corpus, id, strlen(id));
    if (!a) {
        errorf("no essay with id '%s'", id);
        rc = EXIT_NONE;
        goto cleanup;
    }
    if (!json)
        out_color_setup(COLOR_AUTO);

    size_t n_en = essay_article_paragraph_count(a, ESSAY_LANG_EN);
    size_t n_zh = essay_article_paragraph_count(a, ESSAY_LANG_ZH);
    int first = 1;
    if (lang == -1 && essay_article_is_aligned(a)) {
        for (size_t i = 0; i < n_en && out_ok(); i++) {
            const essay_paragraph *en = essay_article_paragraph(a, ESSAY_LANG_EN, i);
            const essay_paragraph *zh = essay_paragraph_pair(en);
            show_para(en, json, &first);
            if (zh) {
                int together = 1; /* no blank line inside a pair */
                show_para(zh, json, &together);
            }
        }
    } else {
        for (int l = ESSAY_LANG_EN; l <= ESSAY_LANG_ZH; l++) {
            if (lang != -1 && lang != l)
                continue;
            size_t n = l == ESSAY_LANG_EN ? n_en : n_zh;
            for (size_t i = 0; i < n && out_ok(); i++)
                show_para(essay_article_paragraph(a, (essay_lang)l, i), json, &first);
        }
    }
    rc = EXIT_FOUND;
cleanup:
    essay_corpus_free(owned);
    essay_index_free(idx);
    free((void *)paths);
    return rc;
}
