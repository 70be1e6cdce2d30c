/* test_analyze.c - the bilingual analyzer (analyze.c) and essay_tokenize(). */
#include "harness.h"
#include "analyze.h"
#include "cjdict.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/ubrk.h>

static const char *data_dir = "tests/data";

/* ---- collecting tokens ---- */

typedef struct tok {
    char term[ESSAY_MAX_TOKEN_BYTES + 1];
    size_t start, end;
    uint32_t pos;
    unsigned flags;
} tok;

typedef struct toks {
    tok *v;
    size_t n, cap;
} toks;

static int collect(void *payload, const essay_token *t)
{
    toks *ts = payload;
    if (ts->n == ts->cap) {
        ts->cap = ts->cap ? ts->cap * 2 : 256;
        ts->v = realloc(ts->v, ts->cap * sizeof(tok));
    }
    tok *k = &ts->v[ts->n++];
    memcpy(k->term, t->term, t->term_len);
    k->term[t->term_len] = 0;
    k->start = t->start;
    k->end = t->end;
    k->pos = t->position;
    k->flags = t->flags;
    return 0;
}

static toks run(const char *text, size_t len, unsigned flags)
{
    toks ts = { 0 };
    essay_analyzer *a;
    essay_error err;
    CHECK_INT(essay_analyzer_new(&a, &err), 0);
    int rc = essay_analyzer_run(a, text, len, flags, collect, &ts, &err);
    CHECK_INT(rc, 0);
    essay_analyzer_free(a);
    return ts;
}

static toks run_s(const char *text)
{
    return run(text, strlen(text), 0);
}

/* The first token of `kind` whose original slice is `slice`, or NULL. */
static const tok *find(const toks *ts, const char *text, unsigned kind, const char *term)
{
    (void)text;
    for (size_t i = 0; i < ts->n; i++)
        if ((ts->v[i].flags & ESSAY_TOKEN_KIND_MASK) == kind && strcmp(ts->v[i].term, term) == 0)
            return &ts->v[i];
    return NULL;
}

static int count_kind(const toks *ts, unsigned kind)
{
    int n = 0;
    for (size_t i = 0; i < ts->n; i++)
        n += (ts->v[i].flags & ESSAY_TOKEN_KIND_MASK) == kind;
    return n;
}

/* Invariants every stream keeps: offsets inside the text and on UTF-8
 * boundaries, start < end, positions non-decreasing, COLOCATED exactly when
 * the position repeats, terms non-empty and bounded. */
static void check_invariants(const toks *ts, const char *text, size_t len)
{
    for (size_t i = 0; i < ts->n; i++) {
        const tok *t = &ts->v[i];
        CHECK(t->start < t->end && t->end <= len);
        CHECK(((unsigned char)text[t->start] & 0xC0) != 0x80);
        CHECK(t->end == len || ((unsigned char)text[t->end] & 0xC0) != 0x80);
        size_t tl = strlen(t->term);
        CHECK(tl > 0 && tl <= ESSAY_MAX_TOKEN_BYTES);
        if (i == 0) {
            CHECK(!(t->flags & ESSAY_TOKEN_COLOCATED));
        } else {
            const tok *p = &ts->v[i - 1];
            CHECK(t->pos >= p->pos);
            CHECK(!!(t->flags & ESSAY_TOKEN_COLOCATED) == (t->pos == p->pos));
        }
    }
}

static bool same_stream(const toks *x, const toks *y, const char *text)
{
    size_t n = x->n < y->n ? x->n : y->n;
    for (size_t i = 0; i < n; i++) {
        const tok *a = &x->v[i], *b = &y->v[i];
        if (strcmp(a->term, b->term) || a->start != b->start || a->end != b->end ||
            a->pos != b->pos || a->flags != b->flags) {
            size_t from = a->start > 40 ? a->start - 40 : 0;
            fprintf(stderr, "  token %zu differs: fast '%s' [%zu,%zu) pos %u flags %x vs icu "
                            "'%s' [%zu,%zu) pos %u flags %x near \"%.80s\"\n",
                    i, a->term, a->start, a->end, a->pos, a->flags, b->term, b->start, b->end,
                    b->pos, b->flags, text + from);
            return false;
        }
    }
    if (x->n != y->n) {
        fprintf(stderr, "  token counts differ: %zu vs %zu\n", x->n, y->n);
        return false;
    }
    return true;
}

static char *read_file(const char *rel, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", data_dir, rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    *len = fread(buf, 1, (size_t)n, f);
    buf[*len] = 0;
    fclose(f);
    return buf;
}

/* ---- the fast path equals ICU ---- */

/* DESIGN §2.2: the ASCII fast path yields exactly ICU's tokens.  Checked on
 * real English text (Debian manual pages), paragraph by paragraph. */
static void analyze_fastpath_equals_icu_real_text(void)
{
    size_t len;
    char *text = read_file("real/en_man.txt", &len);
    CHECK(text != NULL);
    if (!text)
        return;
    CHECK(len >= 2000000);
    toks fast = run(text, len, 0);
    toks icu = run(text, len, ESSAY_ANALYZE_NO_FASTPATH);
    CHECK(fast.n > 100000);
    CHECK(same_stream(&fast, &icu, text));
    check_invariants(&fast, text, len);
    fprintf(stderr, "  %zu bytes, %zu tokens, identical: %s\n", len, fast.n,
            same_stream(&fast, &icu, text) ? "100%" : "NO");
    free(fast.v);
    free(icu.v);
    free(text);
}

/* Highlighting analyzes in positions mode (Han runs skip the dictionary):
 * its base tokens (WORD, HAN_UNIGRAM, OTHER) must be exactly the full
 * analyzer's - same positions, same offsets - on real text. */
static size_t base_tokens(const toks *ts, tok *out)
{
    size_t n = 0;
    for (size_t i = 0; i < ts->n; i++) {
        unsigned k = ts->v[i].flags & ESSAY_TOKEN_KIND_MASK;
        if (k == ESSAY_TOKEN_WORD || k == ESSAY_TOKEN_HAN_UNIGRAM || k == ESSAY_TOKEN_OTHER)
            out[n++] = ts->v[i];
    }
    return n;
}

static void positions_mode_case(const char *text, size_t len, const char *what)
{
    toks full = run(text, len, 0), pm = run(text, len, ESSAY_ANALYZE_POSITIONS);
    tok *a = malloc((full.n + 1) * sizeof(tok)), *b = malloc((pm.n + 1) * sizeof(tok));
    size_t na = base_tokens(&full, a), nb = base_tokens(&pm, b);
    CHECK_INT(na, nb);
    size_t bad = 0;
    for (size_t i = 0; i < na && i < nb; i++)
        if (a[i].pos != b[i].pos || a[i].start != b[i].start || a[i].end != b[i].end ||
            (a[i].flags & ESSAY_TOKEN_KIND_MASK) != (b[i].flags & ESSAY_TOKEN_KIND_MASK) ||
            ((a[i].flags & ESSAY_TOKEN_KIND_MASK) != ESSAY_TOKEN_WORD &&
             strcmp(a[i].term, b[i].term) != 0)) {
            if (bad++ < 3)
                fprintf(stderr, "  %s: token %zu differs: '%s' %zu-%zu@%u vs '%s' %zu-%zu@%u\n",
                        what, i, a[i].term, a[i].start, a[i].end, a[i].pos, b[i].term, b[i].start,
                        b[i].end, b[i].pos);
        }
    CHECK_INT(bad, 0);
    free(a);
    free(b);
    free(full.v);
    free(pm.v);
}

static void analyze_positions_mode_equals_full(void)
{
    const char *files[] = { "real/zh.txt", "real/bilingual.md", "real/en_man.txt" };
    for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
        size_t len;
        char *text = read_file(files[f], &len);
        CHECK(text != NULL);
        if (!text)
            continue;
        positions_mode_case(text, len, files[f]);
        free(text);
    }
    const char *hard[] = { "数学AI数学 ＡＩ數學", "食べる数学", "数\xcc\x81学", "数\xe2\x80\x8d学",
                           "第3章 3.14数 e-mail数 a_数 数_b", "数\xef\xbc\x8e学 ａ．ｂ",
                           "Ελληνικά数学 русский數學", "😀数学😀", "〇々数" };
    for (size_t i = 0; i < sizeof hard / sizeof *hard; i++)
        positions_mode_case(hard[i], strlen(hard[i]), hard[i]);
}

/* Regression: a UTF-16 chunk that fills up exactly on a safe cut character
 * used to be re-run forever (found by the real-text test). */
static void analyze_chunk_boundary_on_cut_char(void)
{
    for (int shift = -2; shift <= 2; shift++) {
        size_t n = (size_t)(32765 + shift);
        char *t = malloc(3 * (n + 11) + 1), *o = t;
        for (size_t i = 0; i < n; i++)
            memcpy(o, "\xe4\xb8\xad", 3), o += 3; /* 中 */
        memcpy(o, "\xe3\x80\x82", 3), o += 3;     /* 。 */
        for (int i = 0; i < 10; i++)
            memcpy(o, "\xe4\xb8\xad", 3), o += 3;
        toks a = run(t, (size_t)(o - t), 0);
        CHECK_INT(count_kind(&a, ESSAY_TOKEN_HAN_UNIGRAM), (long long)n + 10);
        free(a.v);
        free(t);
    }
}

/* Regression (analyze_fuzzer): a Han character followed by a BOM, a joiner
 * or a combining mark makes ICU return a mixed word; the pair with the
 * character before must not come out after it with a smaller position. */
static void analyze_han_then_format_char(void)
{
    const char *cases[] = { "\xe5\xad\xa6\xe8\x87\xba\xef\xbb\xbf", "\xe6\x95\xb0\xe5\xad\xa6\xe2\x80\x8d",
                            "\xe6\x95\xb0\xe5\xad\xa6\xcc\x81\xe5\xae\xb6", "\xe5\xad\xa6\xe3\x81\xb9\xe3\x82\x8b" };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        toks ts = run_s(cases[i]);
        check_invariants(&ts, cases[i], strlen(cases[i]));
        for (size_t k = 1; k < ts.n; k++)
            CHECK(ts.v[k].pos >= ts.v[k - 1].pos);
        free(ts.v);
    }
    /* the pair across the mixed word is still there: 学台 */
    toks ts = run_s(cases[0]);
    CHECK(find(&ts, "\xe5\xad\xa6\xe8\x87\xba", ESSAY_TOKEN_HAN_BIGRAM, "\xe5\xad\xa6\xe5\x8f\xb0") != NULL);
    free(ts.v);
}

/* Random strings over the characters ICU's ASCII word rules single out. */
static void analyze_fastpath_equals_icu_random_ascii(void)
{
    static const char alphabet[] = "aZq09_@.'.,;:-/ \n\t!?\"()x1";
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    char buf[64];
    int differing = 0;
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = 1 + (size_t)(seed % 24);
        for (size_t i = 0; i < n; i++) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            buf[i] = alphabet[seed % (sizeof(alphabet) - 1)];
        }
        buf[n] = 0;
        toks f = run(buf, n, 0), g = run(buf, n, ESSAY_ANALYZE_NO_FASTPATH);
        if (!same_stream(&f, &g, buf)) {
            if (differing++ < 5)
                fprintf(stderr, "  input: \"%s\"\n", buf);
        }
        free(f.v);
        free(g.v);
    }
    CHECK_INT(differing, 0);
}

/* Non-ASCII text with ASCII gaps of every length around ASCII_GAP_MIN:
 * where a region ends at a long gap and the fast path takes over, the
 * tokens must still be exactly ICU's.  Real Chinese manual text first
 * (whole and line by line), then random mixes of ASCII words, spaces and
 * characters that join or break differently under UAX #29 (Han, kana,
 * combining marks, joiners, full-width forms, emoji, Greek, Hangul, Thai).
 * Han runs go around ICU's iterator (cjdict.c) when nothing in their
 * region needs it, so this also checks their words against ICU's. */
static void analyze_fastpath_equals_icu_mixed(void)
{
    size_t len;
    char *text = read_file("real/zh.txt", &len);
    CHECK(text != NULL);
    if (text) {
        toks fast = run(text, len, 0), icu = run(text, len, ESSAY_ANALYZE_NO_FASTPATH);
        CHECK(fast.n > 100000);
        CHECK(same_stream(&fast, &icu, text));
        free(fast.v);
        free(icu.v);
        size_t lines = 0, differing = 0;
        for (size_t i = 0; i < len;) {
            size_t e = i;
            while (e < len && text[e] != '\n')
                e++;
            toks f = run(text + i, e - i, 0), g = run(text + i, e - i, ESSAY_ANALYZE_NO_FASTPATH);
            differing += !same_stream(&f, &g, text + i);
            lines++;
            free(f.v);
            free(g.v);
            i = e + 1;
        }
        CHECK(lines > 1000);
        CHECK_INT(differing, 0);
        free(text);
    }
    /* The last 8 pieces make ICU join a Han character with a neighbour
     * (kana, marks, joiners, a BOM), the 7 before them send their region
     * through ICU's iterator (Han cjdict.c leaves to ICU, Hangul, Thai):
     * a third of the inputs go with all, a third without the last 8, a
     * third without the last 15, where Han runs take the direct path. */
    static const char *const pieces[] = {
        " ", " ", "  ", "\n", "\t", "a", "ls", "--recursive", "file.txt", "3.14", "x_y", "can't",
        "@", ",", ".", "-", "3", "中", "文件", "數學", "学习", "。", "，", "、", "：", "；", "（", "）",
        "《", "》", "“", "”", "’", "·", "…", "—", "！", "？", "\xe3\x80\x80", "ａ", "ＡＩ", "１２", "．",
        "\xf0\x9f\x98\x80", "\xf0\x9f\x87\xa8\xf0\x9f\x87\xb3", "é", "Ω", "ж", "\xf0\x9f\x91\x8d",
        /* the ends of the blocks cjdict.c segments (U+3400, U+4DB5,
         * U+9FEF), words ICU's dictionary knows */
        "\xe3\x90\x80", "\xe4\xb6\xb5", "\xe9\xbf\xaf", "中华人民共和国", "搜索引擎",
        "计算机程序设计", "的", "了",
        "\xf0\xa0\x80\x80", "\xe2\xbc\x80", "\xe3\x80\x85", "\xe3\x80\x87", "\xef\xa8\x91",
        "한국어", "ไทย",
        "カ", "ー", "の", "\xcc\x81", "\xe2\x80\x8d", "\xe2\x80\x8c", "\xef\xbb\xbf", "\xf0\x9f\x8f\xbb",
    };
    const size_t n_all = sizeof pieces / sizeof *pieces;
    uint64_t seed = 0x2545F4914F6CDD1Dull;
    char buf[512];
    int differing = 0;
    for (int iter = 0; iter < 12000; iter++) {
        size_t n_pieces = iter % 3 == 0 ? n_all : iter % 3 == 1 ? n_all - 8 : n_all - 15;
        size_t n = 0;
        while (n < 300) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            const char *p;
            if (seed % 5 == 0) {
                /* an ASCII gap of 1..80 bytes: words and spaces */
                size_t g = 1 + (size_t)((seed >> 8) % 80);
                for (size_t k = 0; k < g && n < sizeof buf - 1; k++)
                    buf[n++] = "ab c1 ._-'"[(seed >> (16 + k % 40)) % 10];
                continue;
            }
            p = pieces[(seed >> 8) % n_pieces];
            size_t pl = strlen(p);
            if (n + pl >= sizeof buf - 1)
                break;
            memcpy(buf + n, p, pl);
            n += pl;
        }
        buf[n] = 0;
        toks f = run(buf, n, 0), g = run(buf, n, ESSAY_ANALYZE_NO_FASTPATH);
        if (!same_stream(&f, &g, buf) && differing++ < 5)
            fprintf(stderr, "  input: \"%s\"\n", buf);
        free(f.v);
        free(g.v);
    }
    CHECK_INT(differing, 0);
}

/* cjdict.c on its own: ICU's dictionary must be found (else the Han fast
 * path is off and the comparisons above compare ICU with itself), and the
 * words it gives each Han run of real Chinese text must be the ones ICU's
 * word break iterator gives the same run. */
static void analyze_cjdict_matches_icu_breaks(void)
{
    const essay_cjdict *d = essay_cjdict_get();
    CHECK(d != NULL);
    size_t len;
    char *text = read_file("real/zh.txt", &len);
    CHECK(text != NULL);
    if (!d || !text) {
        free(text);
        return;
    }
    CHECK(essay_cjdict_char(d, 0x4E2D) && essay_cjdict_char(d, 0x3400));
    CHECK(!essay_cjdict_char(d, 0x3005) && !essay_cjdict_char(d, 0xFA11) &&
          !essay_cjdict_char(d, 0x20000));
    UErrorCode st = U_ZERO_ERROR;
    UBreakIterator *bi = ubrk_open(UBRK_WORD, "", NULL, 0, &st);
    CHECK(U_SUCCESS(st));
    enum { MAX_RUN = 4096 };
    static uint16_t u[MAX_RUN];
    static uint32_t work[3 * MAX_RUN + 2];
    size_t runs = 0, words = 0, differing = 0;
    for (size_t i = 0; i < len && U_SUCCESS(st);) {
        /* the next run of characters cjdict covers (three bytes each) */
        size_t n = 0;
        while (i + 3 <= len && n < MAX_RUN) {
            const unsigned char *p = (const unsigned char *)text + i;
            uint32_t cp = (p[0] & 0xF0u) == 0xE0 ? (uint32_t)(p[0] & 0x0F) << 12 |
                                                        (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F)
                                                  : 0;
            if (!essay_cjdict_char(d, cp))
                break;
            u[n++] = (uint16_t)cp;
            i += 3;
        }
        if (n == 0) {
            i++;
            continue;
        }
        uint32_t *ends = work + 2 * (n + 1);
        size_t m = essay_cjdict_segment(d, u, n, work, ends);
        ubrk_setText(bi, (const UChar *)u, (int32_t)n, &st);
        size_t k = 0;
        bool same = true;
        int32_t b = ubrk_first(bi);
        while ((b = ubrk_next(bi)) != UBRK_DONE) {
            if (k >= m || ends[k] != (uint32_t)b)
                same = false;
            k++;
        }
        if (k != m)
            same = false;
        differing += !same;
        runs++;
        words += m;
    }
    CHECK(U_SUCCESS(st));
    CHECK(runs > 10000);
    CHECK_INT(differing, 0);
    fprintf(stderr, "  %zu Han runs, %zu words, differing: %zu\n", runs, words, differing);
    ubrk_close(bi);
    free(text);
}

/* ---- hard cases ---- */

static void analyze_english_stems_and_exact(void)
{
    const char *s = "Learning learned LEARNS";
    toks ts = run_s(s);
    check_invariants(&ts, s, strlen(s));
    CHECK_INT(count_kind(&ts, ESSAY_TOKEN_WORD), 3);
    CHECK_INT(count_kind(&ts, ESSAY_TOKEN_EXACT), 3);
    for (size_t i = 0; i < ts.n; i += 2) {
        CHECK_STR(ts.v[i].term, "learn");
        CHECK(ts.v[i + 1].flags & ESSAY_TOKEN_COLOCATED);
    }
    CHECK_STR(ts.v[1].term, "learning");
    CHECK_STR(ts.v[5].term, "learns");
    CHECK_INT(ts.v[4].pos, 2);
    free(ts.v);
}

static void analyze_compounds(void)
{
    const char *s = "systemd.service index.html foo_bar packages.debian.org user@host don't";
    toks ts = run_s(s);
    check_invariants(&ts, s, strlen(s));
    const tok *c = find(&ts, s, ESSAY_TOKEN_COMPOUND, "systemd.service");
    CHECK(c && c->start == 0 && c->end == 15 && (c->flags & ESSAY_TOKEN_COLOCATED));
    const tok *w = find(&ts, s, ESSAY_TOKEN_EXACT, "systemd");
    CHECK(w && c && w->pos == c->pos);
    const tok *sv = find(&ts, s, ESSAY_TOKEN_EXACT, "service");
    CHECK(sv && c && sv->pos == c->pos + 1 && sv->start == 8);
    CHECK(find(&ts, s, ESSAY_TOKEN_COMPOUND, "index.html") != NULL);
    CHECK(find(&ts, s, ESSAY_TOKEN_COMPOUND, "foo_bar") != NULL);
    CHECK(find(&ts, s, ESSAY_TOKEN_EXACT, "bar") != NULL);
    const tok *pd = find(&ts, s, ESSAY_TOKEN_COMPOUND, "packages.debian.org");
    const tok *org = find(&ts, s, ESSAY_TOKEN_EXACT, "org");
    CHECK(pd && org && org->pos == pd->pos + 2);
    CHECK(find(&ts, s, ESSAY_TOKEN_COMPOUND, "user@host") != NULL);
    CHECK(find(&ts, s, ESSAY_TOKEN_COMPOUND, "don't") != NULL);
    free(ts.v);
    /* the typographic apostrophe folds to the same compound */
    toks t2 = run_s("don\xE2\x80\x99t");
    CHECK(find(&t2, "", ESSAY_TOKEN_COMPOUND, "don't") != NULL);
    free(t2.v);
}

static void analyze_digits_and_decimals(void)
{
    const char *s = "3.14 2,000.50 v1.2.3 2024";
    toks ts = run_s(s);
    check_invariants(&ts, s, strlen(s));
    CHECK(find(&ts, s, ESSAY_TOKEN_COMPOUND, "3.14") != NULL);
    CHECK(find(&ts, s, ESSAY_TOKEN_COMPOUND, "2,000.50") != NULL);
    const tok *y = find(&ts, s, ESSAY_TOKEN_WORD, "2024");
    CHECK(y && !(y->flags & ESSAY_TOKEN_COLOCATED));
    free(ts.v);
}

static void analyze_urls_and_email(void)
{
    const char *s = "see https://packages.debian.org/sid/libicu-dev or mail root@localhost.";
    toks ts = run_s(s);
    check_invariants(&ts, s, strlen(s));
    CHECK(find(&ts, s, ESSAY_TOKEN_EXACT, "https") != NULL);
    CHECK(find(&ts, s, ESSAY_TOKEN_COMPOUND, "packages.debian.org") != NULL);
    CHECK(find(&ts, s, ESSAY_TOKEN_EXACT, "libicu") != NULL);
    CHECK(find(&ts, s, ESSAY_TOKEN_EXACT, "dev") != NULL);
    CHECK(find(&ts, s, ESSAY_TOKEN_COMPOUND, "root@localhost") != NULL);
    free(ts.v);
}

static void analyze_han_words_unigrams_bigrams(void)
{
    const char *s = "机器学习工程师需要懂数学";
    toks ts = run_s(s);
    check_invariants(&ts, s, strlen(s));
    /* every character is a unigram at its own position, every pair a bigram */
    CHECK_INT(count_kind(&ts, ESSAY_TOKEN_HAN_UNIGRAM), 12);
    CHECK_INT(count_kind(&ts, ESSAY_TOKEN_HAN_BIGRAM), 11);
    CHECK(count_kind(&ts, ESSAY_TOKEN_HAN_WORD) >= 3);
    const tok *u = find(&ts, s, ESSAY_TOKEN_HAN_UNIGRAM, "数");
    CHECK(u && u->pos == 10 && u->start == 30 && u->end == 33);
    const tok *b = find(&ts, s, ESSAY_TOKEN_HAN_BIGRAM, "习工");   /* across words */
    CHECK(b && b->pos == 3 && b->start == 9 && b->end == 15);
    CHECK(find(&ts, s, ESSAY_TOKEN_HAN_WORD, "数学") != NULL);
    free(ts.v);
    /* punctuation breaks adjacency: no bigram across "，" */
    toks t2 = run_s("数，学");
    CHECK_INT(count_kind(&t2, ESSAY_TOKEN_HAN_BIGRAM), 0);
    CHECK_INT(t2.v[t2.n - 1].pos, 1);
    free(t2.v);
}

static void analyze_traditional_and_fullwidth(void)
{
    toks a = run_s("數學 ＡＩ");
    toks b = run_s("数学 ai");
    CHECK_INT(a.n, b.n);
    for (size_t i = 0; i < a.n && i < b.n; i++) {
        CHECK_STR(a.v[i].term, b.v[i].term);
        CHECK_INT(a.v[i].flags, b.v[i].flags);
        CHECK_INT(a.v[i].pos, b.v[i].pos);
    }
    /* offsets stay on the original (longer) text */
    const tok *ai = find(&a, "", ESSAY_TOKEN_WORD, "ai");
    CHECK(ai && ai->start == 7 && ai->end == 13);
    free(a.v);
    free(b.v);
    /* a compatibility ideograph folds to its unified form */
    toks c = run_s("\xEF\xA4\x80");   /* U+F900 -> U+8C48 豈 */
    CHECK(c.n == 1 && strcmp(c.v[0].term, "岂") == 0);   /* and 豈 is traditional */
    free(c.v);
}

static void analyze_latin_inside_chinese(void)
{
    const char *s = "在 DeepLearning.AI，我们用Adam优化";
    toks ts = run_s(s);
    check_invariants(&ts, s, strlen(s));
    CHECK(find(&ts, s, ESSAY_TOKEN_COMPOUND, "deeplearning.ai") != NULL);
    CHECK(find(&ts, s, ESSAY_TOKEN_EXACT, "ai") != NULL);
    const tok *adam = find(&ts, s, ESSAY_TOKEN_EXACT, "adam");
    CHECK(adam && strncmp(s + adam->start, "Adam", 4) == 0);
    CHECK(find(&ts, s, ESSAY_TOKEN_HAN_BIGRAM, "们用") != NULL);
    CHECK(find(&ts, s, ESSAY_TOKEN_HAN_BIGRAM, "用优") == NULL);   /* Adam between */
    free(ts.v);
}

static void analyze_other_scripts_marks_emoji(void)
{
    /* kana, hangul, Cyrillic, Greek are words of their own; accented Latin is
     * English (folded, stemmed); emoji and symbols give nothing */
    const char *s = "ひらがな 한국어 Привет Ελληνικά Café naïve 😀 👩‍💻 ★ → ©";
    toks ts = run_s(s);
    check_invariants(&ts, s, strlen(s));
    CHECK(find(&ts, s, ESSAY_TOKEN_OTHER, "한국어") != NULL);
    CHECK(find(&ts, s, ESSAY_TOKEN_OTHER, "привет") != NULL);
    CHECK(find(&ts, s, ESSAY_TOKEN_OTHER, "ελληνικά") != NULL);
    CHECK(find(&ts, s, ESSAY_TOKEN_EXACT, "café") != NULL);
    CHECK(find(&ts, s, ESSAY_TOKEN_EXACT, "naïve") != NULL);
    CHECK(count_kind(&ts, ESSAY_TOKEN_OTHER) >= 4);
    for (size_t i = 0; i < ts.n; i++)   /* nothing from the emoji or symbols */
        CHECK(ts.v[i].start < (size_t)(strstr(s, "😀") - s));
    free(ts.v);
    /* combining marks stay inside their word: e + U+0301 */
    const char *m = "cafe\xCC\x81 ok";
    toks tm = run_s(m);
    check_invariants(&tm, m, strlen(m));
    const tok *e = find(&tm, m, ESSAY_TOKEN_EXACT, "café");   /* NFKC composes */
    CHECK(e && e->start == 0 && e->end == 6);
    free(tm.v);
    /* ZWJ / ZWNJ inside words do not split them or crash */
    const char *z = "a\xE2\x80\x8D" "b c\xE2\x80\x8C" "d \xE2\x80\x8D";
    toks tz = run_s(z);
    check_invariants(&tz, z, strlen(z));
    CHECK(tz.n >= 2);
    free(tz.v);
}

static void analyze_empty_and_invalid(void)
{
    toks ts = run("", 0, 0);
    CHECK_INT(ts.n, 0);
    free(ts.v);
    toks sp = run_s("  \n\t ... --- !!!");
    CHECK_INT(sp.n, 0);
    free(sp.v);
    essay_error err;
    int n = 0;
    CHECK_INT(essay_tokenize("ok \xC3\x28 bad", 10, 0, collect, &(toks){ 0 }, &err),
              ESSAY_ESYNTAX);
    CHECK_INT(err.offset, 3);
    CHECK(strstr(err.message, "byte 3") != NULL);
    (void)n;
    CHECK_INT(essay_tokenize(NULL, 0, 0, collect, NULL, &err), ESSAY_OK);
    CHECK_INT(essay_tokenize("x", 1, 0, NULL, NULL, &err), ESSAY_EINVAL);
    CHECK_INT(essay_tokenize("x", 1, 0x80, collect, NULL, &err), ESSAY_EINVAL);
}

/* Every three-byte sequence against Unicode's table 3-7 (well-formed
 * UTF-8): the validator has an inline path for them. */
static void analyze_utf8_validator_three_bytes(void)
{
    size_t bad = 0;
    for (unsigned b0 = 0xE0; b0 <= 0xEF; b0++)
        for (unsigned b1 = 0; b1 < 256; b1++)
            for (unsigned b2 = 0; b2 < 256; b2++) {
                unsigned lo = b0 == 0xE0 ? 0xA0 : 0x80, hi = b0 == 0xED ? 0x9F : 0xBF;
                bool ok = b1 >= lo && b1 <= hi && b2 >= 0x80 && b2 <= 0xBF;
                char buf[5] = { 'a', (char)b0, (char)b1, (char)b2, 'z' };
                size_t want = ok ? 5 : 1;
                bad += essay_utf8_validate(buf, 5) != want;
                /* cut short: never valid */
                bad += essay_utf8_validate(buf, 3) != 1;
            }
    CHECK_INT(bad, 0);
}

/* essay_same_bytes and essay_copy_short (essay_int.h), the build's and the
 * word cache's inline compare and copy: every length up to 40, at every
 * alignment, with a difference at every position (and none). */
static void analyze_short_byte_helpers(void)
{
    size_t bad = 0;
    char x[64], y[64], d[64];
    for (size_t n = 0; n <= 40; n++)
        for (size_t al = 0; al < 8; al++) {
            for (size_t i = 0; i < n; i++)
                x[al + i] = y[al + i] = (char)('a' + (i * 7 + n) % 26);
            bad += !essay_same_bytes(x + al, y + al, n);
            for (size_t i = 0; i < n; i++) {
                y[al + i] ^= 0x20;
                bad += essay_same_bytes(x + al, y + al, n);
                y[al + i] ^= 0x20;
            }
            memset(d, '#', sizeof d);
            essay_copy_short(d + al, x + al, n);
            bad += memcmp(d + al, x + al, n) != 0;
            for (size_t i = 0; i < sizeof d; i++)
                bad += (i < al || i >= al + n) && d[i] != '#'; /* nothing else written */
        }
    CHECK_INT(bad, 0);
}

static int stop_at_three(void *payload, const essay_token *t)
{
    (void)t;
    int *n = payload;
    return ++*n == 3 ? 42 : 0;
}

static void analyze_callback_stops_walk(void)
{
    int n = 0;
    CHECK_INT(essay_tokenize("one two three four five", 23, 0, stop_at_three, &n, NULL), 42);
    CHECK_INT(n, 3);
}

static void analyze_long_tokens_are_cut(void)
{
    char word[1000];
    memset(word, 'x', sizeof(word) - 1);
    word[sizeof(word) - 1] = 0;
    toks ts = run_s(word);
    CHECK_INT(ts.n, 2);
    CHECK_INT(strlen(ts.v[0].term), ESSAY_MAX_TOKEN_BYTES);
    CHECK_INT(ts.v[0].end, 999);
    free(ts.v);
    /* a long Han-free non-ASCII word is cut on a character boundary */
    char buf[3 * 300 + 1];
    for (int i = 0; i < 300; i++)
        memcpy(buf + 3 * i, "한", 3);
    buf[900] = 0;
    toks tk = run_s(buf);
    check_invariants(&tk, buf, 900);
    CHECK(tk.n == 1 && strlen(tk.v[0].term) <= ESSAY_MAX_TOKEN_BYTES &&
          strlen(tk.v[0].term) % 3 == 0);
    free(tk.v);
}

/* A 1 MB paragraph (mixed scripts, no newline) in one call: chunking keeps
 * offsets exact and positions consistent across ICU chunk boundaries. */
static void analyze_one_megabyte_paragraph(void)
{
    const char *unit = "机器学习的数学基础 Machine learning math; ";
    size_t ul = strlen(unit), n = (1u << 20) / ul;
    char *big = malloc(n * ul + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(big + i * ul, unit, ul);
    big[n * ul] = 0;
    toks ts = run(big, n * ul, 0);
    check_invariants(&ts, big, n * ul);
    /* every repetition yields the same tokens, shifted */
    toks one = run_s(unit);
    CHECK_INT(ts.n, one.n * n);
    free(one.v);
    free(ts.v);
    /* Chinese without any space or punctuation for 1 MB: forced chunk cuts */
    size_t m = (1u << 20) / 3;
    char *han = malloc(m * 3 + 1);
    for (size_t i = 0; i < m; i++)
        memcpy(han + 3 * i, i % 2 ? "学" : "数", 3);
    han[m * 3] = 0;
    toks th = run(han, m * 3, 0);
    check_invariants(&th, han, m * 3);
    CHECK_INT(count_kind(&th, ESSAY_TOKEN_HAN_UNIGRAM), m);
    CHECK_INT(count_kind(&th, ESSAY_TOKEN_HAN_BIGRAM), m - 1);
    free(th.v);
    free(han);
    free(big);
}

static void analyze_query_mode_same_terms(void)
{
    const char *s = "Learning 數學 index.html";
    toks d = run(s, strlen(s), ESSAY_TOKENIZE_DOCUMENT);
    toks q = run(s, strlen(s), ESSAY_TOKENIZE_QUERY);
    CHECK(same_stream(&d, &q, s));
    free(d.v);
    free(q.v);
}

/* ---- threads ---- */

typedef struct thread_job {
    const char *text;
    size_t len;
    toks out;
} thread_job;

static void *thread_main(void *p)
{
    thread_job *j = p;
    for (int i = 0; i < 20; i++) {
        toks t = { 0 };
        essay_tokenize(j->text, j->len, 0, collect, &t, NULL);
        free(j->out.v);
        j->out = t;
    }
    return NULL;
}

static void analyze_concurrent_tokenize(void)
{
    const char *text = "在 DeepLearning.AI，我們經常問：What does someone need to know? "
                       "數學是人工智能的基礎技能嗎？ systemd.service 3.14";
    toks ref = run_s(text);
    thread_job jobs[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (thread_job){ text, strlen(text), { 0 } };
        pthread_create(&th[i], NULL, thread_main, &jobs[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK(same_stream(&jobs[i].out, &ref, text));
        free(jobs[i].out.v);
    }
    free(ref.v);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        data_dir = argv[1];
    RUN(analyze_fastpath_equals_icu_random_ascii);
    RUN(analyze_fastpath_equals_icu_real_text);
    RUN(analyze_fastpath_equals_icu_mixed);
    RUN(analyze_cjdict_matches_icu_breaks);
    RUN(analyze_positions_mode_equals_full);
    RUN(analyze_chunk_boundary_on_cut_char);
    RUN(analyze_han_then_format_char);
    RUN(analyze_english_stems_and_exact);
    RUN(analyze_compounds);
    RUN(analyze_digits_and_decimals);
    RUN(analyze_urls_and_email);
    RUN(analyze_han_words_unigrams_bigrams);
    RUN(analyze_traditional_and_fullwidth);
    RUN(analyze_latin_inside_chinese);
    RUN(analyze_other_scripts_marks_emoji);
    RUN(analyze_empty_and_invalid);
    RUN(analyze_utf8_validator_three_bytes);
    RUN(analyze_short_byte_helpers);
    RUN(analyze_callback_stops_walk);
    RUN(analyze_long_tokens_are_cut);
    RUN(analyze_one_megabyte_paragraph);
    RUN(analyze_query_mode_same_terms);
    RUN(analyze_concurrent_tokenize);
    return harness_done();
}
