/*
 * cmd_index.c - the commands that need an index: `essay search`, `essay
 * index` (build and save) and `essay stats`, plus open_index(), which gives
 * every command the same three sources: the built-in corpus, --corpus files
 * indexed in memory, or a saved --index file.
 */
#include "cli.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int open_index(const char *const *paths, size_t n_paths, const char *index_path,
               unsigned threads, essay_index **out)
{
    essay_error err;
    *out = NULL;
    if (index_path) {
        if (essay_index_open(out, index_path, 0, &err) != ESSAY_OK)
            return lib_error(&err);
        for (size_t i = 0; i < essay_index_warning_count(*out); i++)
            lib_warning(essay_index_warning_at(*out, i));
        return 0;
    }
    if (!n_paths) {
        if (essay_index_default(out, &err) != ESSAY_OK)
            return lib_error(&err);
        return 0;
    }
    essay_corpus *corpus;
    if (load_corpus(paths, n_paths, &corpus))
        return EXIT_TROUBLE;
    essay_build_options opts = ESSAY_BUILD_OPTIONS_INIT;
    opts.threads = threads;
    int rc = essay_index_build(out, corpus, &opts, &err);
    essay_corpus_free(corpus);
    if (rc != ESSAY_OK)
        return lib_error(&err);
    return 0;
}

/* ---- essay search ---- */

const cli_cmd cli_cmd_search = {
    "search",
    cmd_search,
    "find paragraphs matching a query",
    "usage: essay search <QUERY>... [--corpus FILE... | --index FILE] [--lang en|zh]\n"
    "                    [-n N | --limit N] [--offset N] [--json] [--no-pair]\n"
    "                    [--color auto|always|never]\n",
    "Search the corpus for paragraphs matching QUERY (the arguments joined by\n"
    "spaces) and print the best first: a header 'ID LANG PARA  score S', the\n"
    "snippet around the match, and the aligned paragraph in the other\n"
    "language.  Query language:\n"
    "\n"
    "  word          English word, any form with the same stem (learn, learning)\n"
    "  \"word\"        the exact form only;  \"two words\" a phrase\n"
    "  optim*        prefix\n"
    "  数学          Chinese: the literal characters (traditional folds to simplified)\n"
    "  a b, a OR b   both (the default), either;  -a  not a;  ( ... )  grouping\n"
    "  lang:en|zh    one language;  essay:0301  one essay\n"
    "\n"
    "A query word starting with '-' would be read as an option: put '--'\n"
    "before the query, as in: essay search -- math -learning\n"
    "\n"
    "Options:\n"
    "  --corpus FILE...  index essay-format files in memory and search them\n"
    "  --index FILE      search an index saved by 'essay index'\n"
    "  --lang en|zh      only paragraphs of one language\n"
    "  -n, --limit N     print at most N hits (default 10; 0 = all)\n"
    "  --offset N        skip the first N hits (paging)\n"
    "  --json            print one JSON object: {query, total, hits: [{essay, lang,\n"
    "                    para, score, text, highlights: [[start, end], ...],\n"
    "                    snippet, pair: {lang, para, text, highlights} | null}]};\n"
    "                    offsets are bytes into text\n"
    "  --no-pair         leave out the aligned paragraphs\n"
    "  --color WHEN      highlight matches: auto (default: on a terminal, unless\n"
    "                    NO_COLOR is set), always or never\n"
    "  -h, --help        show this help\n"
    "\n"
    "Without --corpus or --index the built-in corpus is searched.\n"
    "Exit status: 0 hits printed, 1 no hits, 2 error (bad query included).\n",
};

static int utf8_cont(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

/* Write text[start, end) with the parts inside `spans` highlighted, and
 * `indent` after every line break, so multi-line paragraphs stay indented. */
static void print_text(const char *text, size_t start, size_t end, const essay_span *spans,
                       size_t n_spans, const char *indent)
{
    size_t pos = start, s = 0;
    while (pos < end && out_ok()) {
        while (s < n_spans && spans[s].end <= pos)
            s++;
        int inside = s < n_spans && spans[s].start <= pos;
        size_t stop = end;
        if (s < n_spans)
            stop = inside ? spans[s].end : spans[s].start;
        if (stop > end)
            stop = end;
        if (inside)
            out_sgr(SGR_MATCH);
        for (size_t i = pos; i < stop;) { /* line by line, to indent */
            const char *nl = memchr(text + i, '\n', stop - i);
            size_t line_end = nl ? (size_t)(nl - text) : stop;
            out_write(text + i, line_end - i);
            i = line_end;
            if (nl) {
                if (inside)
                    out_sgr(SGR_RESET);
                out_putc('\n');
                out_puts(indent);
                if (inside)
                    out_sgr(SGR_MATCH);
                i++;
            }
        }
        if (inside)
            out_sgr(SGR_RESET);
        pos = stop;
    }
}

/* Where to cut the aligned paragraph for display.  The library gives the
 * hit a snippet but the pair only highlights; printing a whole long pair
 * under every hit buries the results, so the pair gets a window of about
 * the same share of its text as the snippet has of the hit: centred on its
 * first highlight if it has one, else at the same relative place. */
static void pair_window(const essay_hit *h, size_t *start_out, size_t *end_out)
{
    size_t len = h->pair_text_len;
    size_t snip = h->snippet_end - h->snippet_start;
    size_t budget = h->text_len ? (size_t)((double)snip * (double)len / (double)h->text_len)
                                : len;
    if (budget < 160)
        budget = 160;
    if (len <= budget + budget / 4) {
        *start_out = 0;
        *end_out = len;
        return;
    }
    size_t centre;
    if (h->n_pair_highlights)
        centre = h->pair_highlights[0].start;
    else
        centre = h->text_len ? (size_t)((double)(h->snippet_start + h->snippet_end) / 2.0 *
                                        (double)len / (double)h->text_len)
                             : 0;
    size_t start = centre > budget / 2 ? centre - budget / 2 : 0;
    if (start + budget > len)
        start = len - budget;
    size_t end = start + budget;
    const char *t = h->pair_text;
    while (start > 0 && utf8_cont((unsigned char)t[start]))
        start--;
    while (end < len && utf8_cont((unsigned char)t[end]))
        end--;
    if (h->pair_lang == ESSAY_LANG_EN) {
        /* Do not cut English words in two: widen the start to the word's
         * beginning and narrow the end to a space, each by at most 24 bytes. */
        size_t s = start, lim = start > 24 ? start - 24 : 0;
        while (s > lim && t[s - 1] != ' ')
            s--;
        if (s == 0 || t[s - 1] == ' ')
            start = s;
        size_t e = end;
        lim = end > start + 24 ? end - 24 : start;
        while (end < len && e > lim && t[e] != ' ')
            e--;
        if (end < len && t[e] == ' ')
            end = e;
    }
    *start_out = start;
    *end_out = end;
}

static void print_hit_human(const essay_hit *h, int first)
{
    if (!first)
        out_putc('\n');
    out_sgr(SGR_HEAD);
    out_write(h->essay, h->essay_len);
    out_printf(" %s %zu", lang_name(h->lang), h->para);
    out_sgr(SGR_RESET);
    out_printf("  score %.2f\n  ", h->score);
    if (h->snippet_start > 0)
        out_puts("…");
    print_text(h->text, h->snippet_start, h->snippet_end, h->highlights, h->n_highlights,
               "  ");
    if (h->snippet_end < h->text_len)
        out_puts("…");
    out_putc('\n');
    if (!h->has_pair)
        return;
    size_t start, end;
    pair_window(h, &start, &end);
    out_puts("    ");
    out_sgr(SGR_DIM);
    out_printf("%s %zu", lang_name(h->pair_lang), h->pair_para);
    out_sgr(SGR_RESET);
    out_puts("  ");
    if (start > 0)
        out_puts("…");
    print_text(h->pair_text, start, end, h->pair_highlights, h->n_pair_highlights, "    ");
    if (end < h->pair_text_len)
        out_puts("…");
    out_putc('\n');
}

static void json_spans(const essay_span *spans, size_t n)
{
    out_putc('[');
    for (size_t i = 0; i < n; i++)
        out_printf("%s[%zu,%zu]", i ? "," : "", spans[i].start, spans[i].end);
    out_putc(']');
}

static void print_hit_json(const essay_hit *h, int first)
{
    out_puts(first ? "{\"essay\":" : ",{\"essay\":");
    out_json_str(h->essay, h->essay_len);
    out_printf(",\"lang\":\"%s\",\"para\":%zu,\"score\":", lang_name(h->lang), h->para);
    out_json_double(h->score);
    out_puts(",\"text\":");
    out_json_str(h->text, h->text_len);
    out_puts(",\"highlights\":");
    json_spans(h->highlights, h->n_highlights);
    out_puts(",\"snippet\":");
    out_json_str(h->text + h->snippet_start, h->snippet_end - h->snippet_start);
    if (h->has_pair) {
        out_printf(",\"pair\":{\"lang\":\"%s\",\"para\":%zu,\"text\":",
                   lang_name(h->pair_lang), h->pair_para);
        out_json_str(h->pair_text, h->pair_text_len);
        out_puts(",\"highlights\":");
        json_spans(h->pair_highlights, h->n_pair_highlights);
        out_puts("}}");
    } else {
        out_puts(",\"pair\":null}");
    }
}

int cmd_search(const cli_cmd *cmd, int argc, char **argv)
{
    const char **paths = NULL;
    size_t n_paths = 0;
    const char *index_path = NULL;
    char **words = NULL;
    int n_words = 0, json = 0, rc = EXIT_TROUBLE;
    char *query = NULL;
    size_t query_len = 0;
    color_mode color = COLOR_AUTO;
    essay_search_options opts = ESSAY_SEARCH_OPTIONS_INIT;
    essay_index *idx = NULL;
    essay_results *res = NULL;

    words = malloc((size_t)argc * sizeof *words);
    if (!words)
        return oom();
    argp p;
    argp_init(&p, cmd, argc, argv);
    for (int k; (k = argp_next(&p)) != ARG_END;) {
        if (k == ARG_OPERAND) {
            words[n_words++] = (char *)p.arg;
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
            if (!v || parse_lang(cmd, v, 0, &opts.lang))
                goto cleanup;
        } else if (argp_is(&p, "--limit", 'n')) {
            if (argp_size(&p, &opts.limit))
                goto cleanup;
        } else if (argp_is(&p, "--offset", 0)) {
            if (argp_size(&p, &opts.offset))
                goto cleanup;
        } else if (argp_is(&p, "--json", 0)) {
            if (!argp_flag(&p))
                goto cleanup;
            json = 1;
        } else if (argp_is(&p, "--no-pair", 0)) {
            if (!argp_flag(&p))
                goto cleanup;
            opts.flags |= ESSAY_SEARCH_NO_PAIR;
        } else if (argp_is(&p, "--color", 0) || argp_is(&p, "--colour", 0)) {
            const char *v = argp_value(&p);
            if (!v)
                goto cleanup;
            if (strcmp(v, "auto") == 0)
                color = COLOR_AUTO;
            else if (strcmp(v, "always") == 0)
                color = COLOR_ALWAYS;
            else if (strcmp(v, "never") == 0)
                color = COLOR_NEVER;
            else {
                usage_error(cmd, "--color: '%s' is not auto, always or never", v);
                goto cleanup;
            }
        } else {
            usage_error(cmd, "unknown option '%s' (to search for it, put '--' before the "
                             "query)", p.arg);
            goto cleanup;
        }
    }
    if (!n_words) {
        usage_error(cmd, "no query given");
        goto cleanup;
    }
    if (index_path && n_paths) {
        usage_error(cmd, "--corpus and --index cannot be used together");
        goto cleanup;
    }
    if (opts.limit > ESSAY_MAX_RESULTS) /* the library caps "all" here too */
        opts.limit = ESSAY_MAX_RESULTS;
    if (!(query = join_args(words, 0, n_words, &query_len))) {
        rc = oom();
        goto cleanup;
    }
    if (open_index(paths, n_paths, index_path, 0, &idx))
        goto cleanup;

    essay_error err;
    if (essay_index_search(idx, query, query_len, &opts, &res, &err) != ESSAY_OK) {
        rc = lib_error(&err);
        goto cleanup;
    }
    size_t n = essay_results_count(res);
    out_color_setup(json ? COLOR_NEVER : color);
    if (json) {
        out_puts("{\"query\":");
        out_json_str(query, query_len);
        out_printf(",\"total\":%zu,\"hits\":[", essay_results_total(res));
    }
    for (size_t i = 0; i < n && out_ok(); i++) {
        essay_hit h;
        if (essay_results_hit(res, i, &h) != ESSAY_OK) {
            errorf("internal error: hit %zu of %zu is missing", i, n);
            goto cleanup;
        }
        if (json)
            print_hit_json(&h, i == 0);
        else
            print_hit_human(&h, i == 0);
    }
    if (json)
        out_puts("]}\n");
    rc = n ? EXIT_FOUND : EXIT_NONE;
cleanup:
    essay_results_free(res);
    essay_index_free(idx);
    free(query);
    free(words);
    free((void *)paths);
    return rc;
}

/* ---- essay index ---- */

const cli_cmd cli_cmd_index = {
    "index",
    cmd_index,
    "build an index file from corpus files",
    "usage: essay index <CORPUS>... -o FILE [--threads N]\n",
    "Index the essay-format files CORPUS (the built-in corpus when none is\n"
    "given) and save the index, with the corpus text, to FILE.  The file is\n"
    "replaced atomically: a reader sees the old index or the new one, never a\n"
    "half-written file.  Progress is shown when stderr is a terminal.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE  where to save the index (required)\n"
    "  --threads N        analysis threads (default 0: every online core)\n"
    "  -h, --help         show this help\n",
};

typedef struct {
    unsigned last_percent;
    int shown;
} progress_state;

static void progress(void *payload, uint64_t done, uint64_t total)
{
    progress_state *st = payload;
    unsigned percent = total ? (unsigned)(done * 100 / total) : 100;
    if (st->shown && percent == st->last_percent)
        return; /* at most 101 updates, whatever the corpus size */
    st->last_percent = percent;
    st->shown = 1;
    fprintf(stderr, "\ressay: indexing %llu/%llu paragraphs (%u%%)", (unsigned long long)done,
            (unsigned long long)total, percent);
    fflush(stderr);
}

int cmd_index(const cli_cmd *cmd, int argc, char **argv)
{
    const char **paths = NULL;
    size_t n_paths = 0, threads = 0;
    const char *output = NULL;
    int rc = EXIT_TROUBLE;
    essay_corpus *corpus = NULL;
    essay_index *idx = NULL;
    essay_error err;
    progress_state st = {0, 0};

    paths = malloc((size_t)argc * sizeof *paths);
    if (!paths)
        return oom();
    argp p;
    argp_init(&p, cmd, argc, argv);
    for (int k; (k = argp_next(&p)) != ARG_END;) {
        if (k == ARG_OPERAND) {
            paths[n_paths++] = p.arg;
        } else if (argp_is(&p, "--help", 'h')) {
            rc = cmd_help(cmd);
            goto cleanup;
        } else if (argp_is(&p, "--output", 'o')) {
            if (!(output = argp_value(&p)))
                goto cleanup;
        } else if (argp_is(&p, "--threads", 0)) {
            if (argp_size(&p, &threads))
                goto cleanup;
            if (threads > 4096) {
                usage_error(cmd, "--threads: %zu is more than 4096", threads);
                goto cleanup;
            }
        } else {
            usage_error(cmd, "unknown option '%s'", p.arg);
            goto cleanup;
        }
    }
    if (!output) {
        usage_error(cmd, "where to?  Give the index file with -o FILE");
        goto cleanup;
    }
    if (!*output) {
        usage_error(cmd, "-o: the file name is empty");
        goto cleanup;
    }
    if (n_paths) {
        if (load_corpus(paths, n_paths, &corpus))
            goto cleanup;
    } else if (essay_corpus_default(&corpus, &err) != ESSAY_OK) {
        rc = lib_error(&err);
        goto cleanup;
    }

    essay_build_options opts = ESSAY_BUILD_OPTIONS_INIT;
    opts.threads = (unsigned)threads;
    int tty = isatty(STDERR_FILENO);
    if (tty) {
        opts.progress = progress;
        opts.progress_payload = &st;
    }
    /* straight into the file: the index is never held whole in memory */
    int brc = essay_index_build_file(corpus, output, &opts, &err);
    if (st.shown)
        fputs("\r\033[K", stderr); /* clear the progress line */
    if (brc != ESSAY_OK) {
        rc = lib_error(&err);
        goto cleanup;
    }
    if (tty && essay_index_open(&idx, output, ESSAY_OPEN_TRUSTED, &err) == ESSAY_OK) {
        essay_index_stats s;
        if (essay_index_stats_get(idx, &s) == ESSAY_OK)
            fprintf(stderr,
                    "essay: indexed %llu essay%s, %llu paragraphs into %s (%llu bytes)\n",
                    (unsigned long long)s.essays, s.essays == 1 ? "" : "s",
                    (unsigned long long)(s.paragraphs[0] + s.paragraphs[1]), output,
                    (unsigned long long)s.index_bytes);
    }
    rc = EXIT_FOUND;
cleanup:
    essay_index_free(idx);
    essay_corpus_free(corpus);
    free((void *)paths);
    return rc;
}

/* ---- essay stats ---- */

const cli_cmd cli_cmd_stats = {
    "stats",
    cmd_stats,
    "show figures about an index",
    "usage: essay stats [--index FILE | --corpus FILE...] [--json]\n",
    "Print the figures of an index: essays, paragraphs per language, distinct\n"
    "terms, postings, positions, text and index sizes, the format version and\n"
    "the ICU and Unicode versions that built it.\n"
    "\n"
    "Options:\n"
    "  --index FILE      an index saved by 'essay index'\n"
    "  --corpus FILE...  index essay-format files in memory first\n"
    "  --json            one JSON object\n"
    "  -h, --help        show this help\n",
};

/* Length of a fixed-size, normally NUL-terminated field. */
static size_t field_len(const char *s, size_t size)
{
    const char *nul = memchr(s, '\0', size);
    return nul ? (size_t)(nul - s) : size;
}

int cmd_stats(const cli_cmd *cmd, int argc, char **argv)
{
    const char **paths = NULL;
    size_t n_paths = 0;
    const char *index_path = NULL;
    int json = 0, rc = EXIT_TROUBLE;
    essay_index *idx = NULL;
    argp p;
    argp_init(&p, cmd, argc, argv);
    for (int k; (k = argp_next(&p)) != ARG_END;) {
        if (k == ARG_OPERAND) {
            usage_error(cmd, "unexpected argument '%s'", p.arg);
            goto cleanup;
        } else if (argp_is(&p, "--help", 'h')) {
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
    if (index_path && n_paths) {
        usage_error(cmd, "--corpus and --index cannot be used together");
        goto cleanup;
    }
    if (open_index(paths, n_paths, index_path, 0, &idx))
        goto cleanup;
    essay_index_stats s;
    if (essay_index_stats_get(idx, &s) != ESSAY_OK) {
        errorf("cannot read the index figures");
        goto cleanup;
    }
    if (json) {
        out_printf("{\"essays\":%llu,\"paragraphs\":{\"en\":%llu,\"zh\":%llu},"
                   "\"terms\":%llu,\"postings\":%llu,\"positions\":%llu,"
                   "\"text_bytes\":%llu,\"index_bytes\":%llu,\"format_version\":%lu,"
                   "\"icu_version\":",
                   (unsigned long long)s.essays, (unsigned long long)s.paragraphs[0],
                   (unsigned long long)s.paragraphs[1], (unsigned long long)s.terms,
                   (unsigned long long)s.postings, (unsigned long long)s.positions,
                   (unsigned long long)s.text_bytes, (unsigned long long)s.index_bytes,
                   (unsigned long)s.format_version);
        out_json_str(s.icu_version, field_len(s.icu_version, sizeof s.icu_version));
        out_puts(",\"unicode_version\":");
        out_json_str(s.unicode_version,
                     field_len(s.unicode_version, sizeof s.unicode_version));
        out_puts("}\n");
    } else {
        out_printf("essays          %llu\n"
                   "paragraphs en   %llu\n"
                   "paragraphs zh   %llu\n"
                   "terms           %llu\n"
                   "postings        %llu\n"
                   "positions       %llu\n"
                   "text bytes      %llu\n"
                   "index bytes     %llu\n"
                   "format version  %lu\n",
                   (unsigned long long)s.essays, (unsigned long long)s.paragraphs[0],
                   (unsigned long long)s.paragraphs[1], (unsigned long long)s.terms,
                   (unsigned long long)s.postings, (unsigned long long)s.positions,
                   (unsigned long long)s.text_bytes, (unsigned long long)s.index_bytes,
                   (unsigned long)s.format_version);
        out_printf("ICU version     %.*s\n",
                   (int)field_len(s.icu_version, sizeof s.icu_version), s.icu_version);
        out_printf("Unicode version %.*s\n",
                   (int)field_len(s.unicode_version, sizeof s.unicode_version),
                   s.unicode_version);
    }
    rc = EXIT_FOUND;
cleanup:
    essay_index_free(idx);
    free((void *)paths);
    return rc;
}
