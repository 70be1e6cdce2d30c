/*
 * bench_analyze.c - analyzer throughput against a bare ICU word break.
 *
 * For each input (real English from Debian manual pages, real Chinese from
 * manpages-zh and fortunes-zh, and the mixed bilingual corpus) it measures,
 * paragraph by paragraph, on one core:
 *
 *   icu       u_strFromUTF8 into a reused UTF-16 buffer, then a UBRK_WORD
 *             break iterator counting words (rule status >= NONE_LIMIT): the
 *             least a tokenizer built on ICU pays;
 *   analyzer  essay_analyzer_run() with one analyzer reused (steady state),
 *             producing every token (stems, exact forms, Han words, unigrams,
 *             bigrams, compound parts);
 *   tokenize  the public essay_tokenize(), which makes an analyzer per call
 *             (here: per paragraph).
 *
 * Each figure is the best and the median of --reps runs over the whole text.
 *
 *   bench_analyze [--reps N] [--en FILE] [--zh FILE] [--mixed FILE] [DATADIR]
 *
 * DATADIR defaults to tests/data/real (en_man.txt, zh.txt, bilingual.md).
 */
#include "analyze.h"
#include "bench_common.h"

#include <unicode/ubrk.h>
#include <unicode/ustring.h>

typedef struct counter {
    uint64_t tokens;
    uint64_t bytes;
} counter;

static int count_token(void *payload, const essay_token *t)
{
    counter *c = payload;
    c->tokens++;
    c->bytes += t->term_len;
    return 0;
}

typedef struct input {
    const char *label;
    char *text;
    size_t len;
    bench_span *paras;
    size_t n_paras;
} input;

/* --- (a) bare ICU --- */
static uint64_t run_icu(const input *in, UBreakIterator *bi, UChar **u16, int32_t *cap)
{
    uint64_t words = 0;
    for (size_t k = 0; k < in->n_paras; k++) {
        const bench_span *p = &in->paras[k];
        UErrorCode st = U_ZERO_ERROR;
        int32_t n = 0;
        if ((int64_t)p->len + 1 > *cap) {
            *cap = (int32_t)p->len + 1;
            *u16 = realloc(*u16, (size_t)*cap * sizeof(UChar));
        }
        u_strFromUTF8(*u16, *cap, &n, p->p, (int32_t)p->len, &st);
        if (U_FAILURE(st)) {
            fprintf(stderr, "u_strFromUTF8: %s\n", u_errorName(st));
            exit(2);
        }
        ubrk_setText(bi, *u16, n, &st);
        if (U_FAILURE(st)) {
            fprintf(stderr, "ubrk_setText: %s\n", u_errorName(st));
            exit(2);
        }
        ubrk_first(bi);
        while (ubrk_next(bi) != UBRK_DONE)
            words += ubrk_getRuleStatus(bi) >= UBRK_WORD_NONE_LIMIT;
    }
    return words;
}

/* --- (b) the analyzer, one reused --- */
static counter run_analyzer(const input *in, essay_analyzer *a)
{
    counter c = { 0, 0 };
    essay_error err;
    for (size_t k = 0; k < in->n_paras; k++) {
        int rc = essay_analyzer_run(a, in->paras[k].p, in->paras[k].len,
                                    ESSAY_TOKENIZE_DOCUMENT, count_token, &c, &err);
        if (rc) {
            fprintf(stderr, "analyzer: %s\n", err.message);
            exit(2);
        }
    }
    return c;
}

/* --- (c) the public call, an analyzer per paragraph --- */
static counter run_tokenize(const input *in)
{
    counter c = { 0, 0 };
    essay_error err;
    for (size_t k = 0; k < in->n_paras; k++) {
        int rc = essay_tokenize(in->paras[k].p, in->paras[k].len, ESSAY_TOKENIZE_DOCUMENT,
                                count_token, &c, &err);
        if (rc) {
            fprintf(stderr, "essay_tokenize: %s\n", err.message);
            exit(2);
        }
    }
    return c;
}

typedef struct stats {
    double best, median;   /* MB/s */
} stats;

static stats summarize(double *secs, int reps, size_t bytes)
{
    double mbs[64];
    for (int r = 0; r < reps; r++)
        mbs[r] = (double)bytes / 1e6 / secs[r];
    stats s;
    s.median = quantile(mbs, (size_t)reps, 0.5);
    s.best = mbs[reps - 1];
    return s;
}

int main(int argc, char **argv)
{
    int reps = 5;
    const char *dir = "tests/data/real";
    const char *files[3] = { NULL, NULL, NULL };
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--en") && i + 1 < argc)
            files[0] = argv[++i];
        else if (!strcmp(argv[i], "--zh") && i + 1 < argc)
            files[1] = argv[++i];
        else if (!strcmp(argv[i], "--mixed") && i + 1 < argc)
            files[2] = argv[++i];
        else if (argv[i][0] != '-')
            dir = argv[i];
        else {
            fprintf(stderr, "usage: %s [--reps N] [--en F] [--zh F] [--mixed F] [DATADIR]\n",
                    argv[0]);
            return 2;
        }
    }
    if (reps < 1 || reps > 64)
        reps = 5;
    static const char *defaults[3] = { "en_man.txt", "zh.txt", "bilingual.md" };
    static const char *labels[3] = { "English (man pages)", "Chinese (man-zh, fortunes)",
                                     "mixed (bilingual.md)" };
    char paths[3][4096];
    input in[3];
    for (int k = 0; k < 3; k++) {
        if (files[k])
            snprintf(paths[k], sizeof(paths[k]), "%s", files[k]);
        else
            snprintf(paths[k], sizeof(paths[k]), "%s/%s", dir, defaults[k]);
        in[k].label = labels[k];
        in[k].text = read_whole(paths[k], &in[k].len);
        if (!in[k].text) {
            fprintf(stderr, "cannot read %s\n", paths[k]);
            return 2;
        }
        in[k].paras = split_paragraphs(in[k].text, in[k].len, &in[k].n_paras);
    }

    UErrorCode st = U_ZERO_ERROR;
    UBreakIterator *bi = ubrk_open(UBRK_WORD, "", NULL, 0, &st);
    if (U_FAILURE(st)) {
        fprintf(stderr, "ubrk_open: %s\n", u_errorName(st));
        return 2;
    }
    essay_analyzer *a;
    essay_error err;
    if (essay_analyzer_new(&a, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 2;
    }
    UChar *u16 = NULL;
    int32_t cap = 0;

    printf("bench_analyze: %d repetitions, one thread, paragraph by paragraph; "
           "MB/s = 10^6 bytes of UTF-8 input per second (best / median)\n\n", reps);
    printf("%-28s %8s %7s | %15s | %15s %6s | %15s %6s | %9s %9s\n", "input", "MB", "paras",
           "bare ICU", "analyzer", "x ICU", "essay_tokenize", "x ICU", "ICU words",
           "tokens");
    for (int k = 0; k < 3; k++) {
        double t_icu[64], t_an[64], t_tok[64];
        uint64_t words = 0;
        counter c = { 0, 0 }, c2 = { 0, 0 };
        /* warm up: ICU dictionaries, stem cache */
        run_icu(&in[k], bi, &u16, &cap);
        run_analyzer(&in[k], a);
        for (int r = 0; r < reps; r++) {
            double t0 = now_sec();
            words = run_icu(&in[k], bi, &u16, &cap);
            double t1 = now_sec();
            c = run_analyzer(&in[k], a);
            double t2 = now_sec();
            c2 = run_tokenize(&in[k]);
            double t3 = now_sec();
            t_icu[r] = t1 - t0;
            t_an[r] = t2 - t1;
            t_tok[r] = t3 - t2;
        }
        if (c.tokens != c2.tokens)
            fprintf(stderr, "warning: analyzer and essay_tokenize disagree: %llu vs %llu tokens\n",
                    (unsigned long long)c.tokens, (unsigned long long)c2.tokens);
        stats si = summarize(t_icu, reps, in[k].len);
        stats sa = summarize(t_an, reps, in[k].len);
        stats st2 = summarize(t_tok, reps, in[k].len);
        printf("%-28s %8.2f %7zu | %6.1f / %6.1f | %6.1f / %6.1f %6.2f | %6.1f / %6.1f %6.2f | "
               "%9llu %9llu\n",
               in[k].label, (double)in[k].len / 1e6, in[k].n_paras, si.best, si.median, sa.best,
               sa.median, sa.median / si.median, st2.best, st2.median, st2.median / si.median,
               (unsigned long long)words, (unsigned long long)c.tokens);
    }
    printf("\n(x ICU = median MB/s divided by bare ICU's median MB/s; above 1 is faster than "
           "ICU alone)\n");
    printf("targets on one core: English analyzer >= 100 MB/s, Chinese >= 20 MB/s\n");

    free(u16);
    ubrk_close(bi);
    essay_analyzer_free(a);
    for (int k = 0; k < 3; k++) {
        free(in[k].paras);
        free(in[k].text);
    }
    return 0;
}
