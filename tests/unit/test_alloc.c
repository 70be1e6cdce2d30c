/*
 * test_alloc.c - allocation-failure injection (SQLite's malloc tests are
 * the model).  Each stage - parse, analyze, build, save, open, search - is
 * run once to count its allocations, then once per allocation with that
 * allocation and every later one failing.  Every run must end in ESSAY_OK
 * or ESSAY_ENOMEM, leave nothing allocated (LeakSanitizer checks this in
 * the sanitizer build) and leave no partial file behind.
 */
#include "harness.h"
#include "index.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *text =
    "## 0001. Learning math with AI\n\nMachines learn; people learn too.\n\n"
    "Deep learning needs linear algebra, calculus and probability.\n\n"
    "用人工智能学数学\n\n机器会学习，人也会学习。\n\n深度学习需要线性代数、微积分和概率论。\n\n"
    "## 0002. 數學之美\n\n數學是科學的語言。ＡＩ也需要它。\n\n";

static char dir[] = "/tmp/essay-alloc-XXXXXX";
static unsigned long total_points;

typedef int (*stage_fn)(void);

static int tok_cb(void *p, const essay_token *t)
{
    (void)t;
    ++*(size_t *)p;
    return 0;
}

static int st_parse(void)
{
    essay_corpus *c = NULL;
    essay_corpus_options o = ESSAY_CORPUS_OPTIONS_INIT;
    o.flags = ESSAY_CORPUS_LENIENT;
    int rc = essay_corpus_parse(&c, text, strlen(text), "a.md", &o, NULL);
    CHECK(rc == 0 || c == NULL);
    essay_corpus_free(c);
    return rc;
}

static int st_analyze(void)
{
    size_t n = 0;
    return essay_tokenize(text, strlen(text), 0, tok_cb, &n, NULL);
}

static int st_build(void)
{
    essay_corpus *c = NULL;
    int rc = essay_corpus_parse(&c, text, strlen(text), "a.md", NULL, NULL);
    if (rc)
        return rc;
    essay_build_options o = ESSAY_BUILD_OPTIONS_INIT;
    o.threads = 1; /* the failure counter is process-wide: keep it in order */
    essay_index *idx = NULL;
    rc = essay_index_build(&idx, c, &o, NULL);
    CHECK(rc == 0 || idx == NULL);
    essay_index_free(idx);
    essay_corpus_free(c);
    return rc;
}

static essay_index *fixed; /* built with the hook off */
static char path[256];

static int count_files(void)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL)
        n += de->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static int st_save(void)
{
    int rc = essay_index_save(fixed, path, NULL);
    CHECK_INT(count_files(), 1); /* the old file, never a temporary one */
    return rc;
}

/* Straight into the file, spilling postings (a tiny budget) so that the
 * spill and merge paths fail too: ENOMEM leaves the old file alone. */
static int st_build_file(void)
{
    essay_corpus *c = NULL;
    int rc = essay_corpus_parse(&c, text, strlen(text), "a.md", NULL, NULL);
    if (rc)
        return rc;
    essay_build_options o = ESSAY_BUILD_OPTIONS_INIT;
    o.threads = 1;
    essay_build_spill_budget(64);
    rc = essay_index_build_file(c, path, &o, NULL);
    essay_build_spill_budget(0);
    CHECK_INT(count_files(), 1); /* the old file or the new one, nothing else */
    essay_corpus_free(c);
    return rc;
}

static int st_open(void)
{
    essay_index *idx = NULL;
    int rc = essay_index_open(&idx, path, 0, NULL);
    if (rc == 0) {
        const essay_corpus *c = essay_index_corpus(idx, NULL); /* may fail: NULL */
        (void)c;
    }
    essay_index_free(idx);
    return rc;
}

static int st_search(void)
{
    static const char *qs[] = { "数学", "learn*", "\"deep learning\" OR 學習", "ai -概率",
                                "(machines OR 机器) lang:zh", "essay:0001" };
    int worst = 0;
    for (size_t i = 0; i < sizeof qs / sizeof *qs; i++) {
        essay_results *r = NULL;
        int rc = essay_index_search(fixed, qs[i], SIZE_MAX, NULL, &r, NULL);
        CHECK(rc == 0 || r == NULL);
        if (rc == 0)
            for (size_t k = 0; k < essay_results_count(r); k++) {
                essay_hit h;
                essay_results_hit(r, k, &h);
            }
        essay_results_free(r);
        if (rc)
            worst = rc;
    }
    return worst;
}

static void run_stage(const char *name, stage_fn fn)
{
    essay_alloc_fail_at(0);
    CHECK_INT(fn(), 0);
    uint64_t n = essay_alloc_count();
    CHECK(n > 0);
    unsigned long enomem = 0;
    for (uint64_t i = 1; i <= n + 1; i++) {
        essay_alloc_fail_at(i);
        int rc = fn();
        essay_alloc_fail_at(0);
        if (rc != 0 && rc != ESSAY_ENOMEM)
            fprintf(stderr, "%s: failing allocation %llu gave %d\n", name,
                    (unsigned long long)i, rc);
        CHECK(rc == 0 || rc == ESSAY_ENOMEM);
        enomem += rc == ESSAY_ENOMEM;
    }
    CHECK(enomem > 0);
    total_points += (unsigned long)n;
    fprintf(stderr, "  %-8s %llu allocation points, %lu ENOMEM\n", name, (unsigned long long)n,
            enomem);
}

static void alloc_every_failure(void)
{
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/idx", dir);
    run_stage("parse", st_parse);
    run_stage("analyze", st_analyze);
    run_stage("build", st_build);
    essay_corpus *c = NULL;
    CHECK_INT(essay_corpus_parse(&c, text, strlen(text), "a.md", NULL, NULL), 0);
    CHECK_INT(essay_index_build(&fixed, c, NULL, NULL), 0);
    essay_corpus_free(c);
    CHECK_INT(essay_index_save(fixed, path, NULL), 0);
    run_stage("save", st_save);
    run_stage("buildfile", st_build_file);
    run_stage("open", st_open);
    run_stage("search", st_search);
    essay_index_free(fixed);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_INT(system(cmd), 0);
    fprintf(stderr, "  %lu allocation points failed in all\n", total_points);
}

int main(void)
{
    RUN(alloc_every_failure);
    return harness_done();
}
