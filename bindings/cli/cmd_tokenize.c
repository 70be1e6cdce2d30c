/*
 * cmd_tokenize.c - `essay tokenize`: show the analyzer's token stream
 * (essay_tokenize) for a text, the way the index or the query parser sees it.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const cli_cmd cli_cmd_tokenize = {
    "tokenize",
    cmd_tokenize,
    "show how text is split into index terms",
    "usage: essay tokenize [--query] [--json] [TEXT...]\n",
    "Run the analyzer over TEXT (the arguments joined by single spaces, or\n"
    "standard input when there are none) and print one token per line:\n"
    "\n"
    "  KIND  START-END  POSITION[=]  TERM  TEXT\n"
    "\n"
    "KIND is word, exact, compound, han_word, han_unigram, han_bigram or\n"
    "other; START-END are byte offsets into the text; '=' marks a token at\n"
    "the same position as the one before it; TERM is the normalized term\n"
    "and TEXT the original slice it came from.\n"
    "\n"
    "Options:\n"
    "  --query     analyze as a query rather than as a document\n"
    "  --json      one JSON object per token (JSON Lines) with keys kind, term,\n"
    "              start, end, position, colocated and text\n"
    "  -h, --help  show this help\n"
    "\n"
    "Exit status: 0 tokens printed, 1 none, 2 error (e.g. invalid UTF-8).\n",
};

static const char *kind_name(unsigned flags)
{
    switch (flags & ESSAY_TOKEN_KIND_MASK) {
    case ESSAY_TOKEN_WORD: return "word";
    case ESSAY_TOKEN_EXACT: return "exact";
    case ESSAY_TOKEN_COMPOUND: return "compound";
    case ESSAY_TOKEN_HAN_WORD: return "han_word";
    case ESSAY_TOKEN_HAN_UNIGRAM: return "han_unigram";
    case ESSAY_TOKEN_HAN_BIGRAM: return "han_bigram";
    case ESSAY_TOKEN_OTHER: return "other";
    default: return "unknown";
    }
}

/* Terminal columns of UTF-8 text, enough to line up terms: East Asian wide
 * and full-width characters take two (UAX #11, main ranges). */
static size_t display_width(const char *s, size_t len)
{
    size_t w = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        uint32_t cp = c;
        size_t n = 1;
        if (c >= 0xF0 && i + 3 < len) {
            cp = ((c & 7u) << 18) | ((s[i + 1] & 0x3Fu) << 12) | ((s[i + 2] & 0x3Fu) << 6) |
                 (s[i + 3] & 0x3Fu);
            n = 4;
        } else if (c >= 0xE0 && i + 2 < len) {
            cp = ((c & 15u) << 12) | ((s[i + 1] & 0x3Fu) << 6) | (s[i + 2] & 0x3Fu);
            n = 3;
        } else if (c >= 0xC0 && i + 1 < len) {
            cp = ((c & 31u) << 6) | (s[i + 1] & 0x3Fu);
            n = 2;
        }
        int wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
                   (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
                   (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
                   (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD);
        w += wide ? 2 : 1;
        i += n;
    }
    return w;
}

typedef struct {
    const char *text;
    int json;
    size_t n_tokens;
} tok_state;

static int print_token(void *payload, const essay_token *t)
{
    tok_state *st = payload;
    int colocated = (t->flags & ESSAY_TOKEN_COLOCATED) != 0;
    st->n_tokens++;
    if (st->json) {
        out_printf("{\"kind\":\"%s\",\"term\":", kind_name(t->flags));
        out_json_str(t->term, t->term_len);
        out_printf(",\"start\":%zu,\"end\":%zu,\"position\":%lu,\"colocated\":%s,\"text\":",
                   t->start, t->end, (unsigned long)t->position,
                   colocated ? "true" : "false");
        out_json_str(st->text + t->start, t->end - t->start);
        out_puts("}\n");
    } else {
        char span[48], pos[24];
        snprintf(span, sizeof span, "%zu-%zu", t->start, t->end);
        snprintf(pos, sizeof pos, "%lu%s", (unsigned long)t->position, colocated ? "=" : "");
        out_printf("%-11s  %-9s  %-5s  ", kind_name(t->flags), span, pos);
        out_write(t->term, t->term_len);
        size_t w = display_width(t->term, t->term_len);
        for (; w < 16; w++)
            out_putc(' ');
        out_puts("  ");
        out_write(st->text + t->start, t->end - t->start);
        out_putc('\n');
    }
    return out_ok() ? 0 : 1; /* a failed write stops the walk */
}

/* Read all of standard input into a NUL-terminated buffer. */
static int read_stdin(char **out, size_t *len_out)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return oom();
    for (;;) {
        if (cap - len < 2) {
            char *grown = cap < SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
            if (!grown) {
                free(buf);
                return oom();
            }
            buf = grown;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, stdin);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(stdin)) {
        free(buf);
        errorf("error reading standard input");
        return EXIT_TROUBLE;
    }
    buf[len] = '\0';
    *out = buf;
    *len_out = len;
    return 0;
}

/* Join argv[first..argc) with single spaces into a fresh string. */
char *join_args(char **argv, int first, int argc, size_t *len_out)
{
    size_t len = 0;
    for (int i = first; i < argc; i++)
        len += strlen(argv[i]) + 1;
    char *s = malloc(len + 1);
    if (!s)
        return NULL;
    char *p = s;
    for (int i = first; i < argc; i++) {
        size_t n = strlen(argv[i]);
        if (i > first)
            *p++ = ' ';
        memcpy(p, argv[i], n);
        p += n;
    }
    *p = '\0';
    *len_out = (size_t)(p - s);
    return s;
}

int cmd_tokenize(const cli_cmd *cmd, int argc, char **argv)
{
    unsigned flags = ESSAY_TOKENIZE_DOCUMENT;
    int json = 0, rc = EXIT_TROUBLE;
    char **words = NULL;
    int n_words = 0;
    char *text = NULL;
    size_t len = 0;

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
        } else if (argp_is(&p, "--query", 0)) {
            if (!argp_flag(&p))
                goto cleanup;
            flags = ESSAY_TOKENIZE_QUERY;
        } else if (argp_is(&p, "--json", 0)) {
            if (!argp_flag(&p))
                goto cleanup;
            json = 1;
        } else {
            usage_error(cmd, "unknown option '%s'", p.arg);
            goto cleanup;
        }
    }
    if (n_words) {
        if (!(text = join_args(words, 0, n_words, &len))) {
            rc = oom();
            goto cleanup;
        }
    } else if ((rc = read_stdin(&text, &len)) != 0) {
        goto cleanup;
    }

    tok_state st = {text, json, 0};
    essay_error err;
    int trc = essay_tokenize(text, len, flags, print_token, &st, &err);
    if (trc < 0) {
        rc = lib_error(&err);
        goto cleanup;
    }
    /* trc > 0: print_token stopped on a write error; out_finish() reports it */
    rc = st.n_tokens ? EXIT_FOUND : EXIT_NONE;
cleanup:
    free(text);
    free(words);
    return rc;
}
