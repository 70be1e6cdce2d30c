/*
 * bench_build.c - index build at scale: libessay against SQLite FTS5.
 *
 * Corpora of 10 MB and 100 MB (and 1 GB with --with-1g) are generated once
 * from real Debian text by tests/bench/gen_corpus.py and kept in --dir.  For
 * each size and engine a child process loads the corpus, builds the index
 * into a file and opens it again, so each engine's peak RSS is its own
 * (wait4's ru_maxrss).  Reported per engine:
 *
 *   build s, MB/s     corpus paragraph text / build time (libessay: index
 *                     build + save; FTS5: inserts + commit + optimize)
 *   size ratio        index file / paragraph text
 *   peak RSS          of the child (corpus load included, as a caller has it)
 *   open ms           libessay: verified (checksums) and ESSAY_OPEN_TRUSTED;
 *                     FTS5: sqlite3_open_v2 + prepare
 *   first query ms    the first search after opening (a common word, top 10)
 *
 *   bench_build [--sizes 10M,100M] [--with-1g] [--dir DIR] [--gen gen_corpus.py]
 *               [--cache MANCACHE]
 */
#include "bench_common.h"
#include "bench_fts5.h"

#include "essay.h"

#include <sys/resource.h>
#include <sys/wait.h>

#ifndef GEN_CORPUS_PY
#define GEN_CORPUS_PY "tests/bench/gen_corpus.py"
#endif

typedef struct result {
    int ok;
    double load_s, build_s, save_s, open_ms, open_trusted_ms, first_ms;
    uint64_t text_bytes, index_bytes;
    size_t first_hits;
} result;

static const char *first_query = "file";

static int load(const char *path, essay_corpus **c, result *r)
{
    essay_error err;
    double t0 = now_sec();
    if (essay_corpus_load(c, &path, 1, NULL, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    r->load_s = now_sec() - t0;
    size_t n = essay_corpus_paragraph_count(*c);
    for (size_t i = 0; i < n; i++) {
        size_t len;
        essay_paragraph_text(essay_corpus_paragraph_at(*c, i), &len);
        r->text_bytes += len;
    }
    return 0;
}

static void child_essay(const char *corpus, const char *out, unsigned threads, result *r)
{
    essay_corpus *c;
    essay_error err;
    if (load(corpus, &c, r))
        return;
    essay_build_options bo = ESSAY_BUILD_OPTIONS_INIT;
    bo.threads = threads;
    /* as 'essay index' does: straight into the file, atomically */
    double t0 = now_sec();
    if (essay_index_build_file(c, out, &bo, &err)) {
        fprintf(stderr, "essay_index_build_file: %s\n", err.message);
        return;
    }
    r->build_s = now_sec() - t0;
    r->save_s = 0;
    essay_corpus_free(c);
    r->index_bytes = file_bytes(out);
    essay_index *idx;

    t0 = now_sec();
    if (essay_index_open(&idx, out, ESSAY_OPEN_TRUSTED, &err)) {
        fprintf(stderr, "essay_index_open: %s\n", err.message);
        return;
    }
    r->open_trusted_ms = (now_sec() - t0) * 1e3;
    essay_index_free(idx);
    t0 = now_sec();
    if (essay_index_open(&idx, out, 0, &err)) {
        fprintf(stderr, "essay_index_open: %s\n", err.message);
        return;
    }
    r->open_ms = (now_sec() - t0) * 1e3;
    t0 = now_sec();
    essay_results *res;
    if (essay_index_search(idx, first_query, SIZE_MAX, NULL, &res, &err)) {
        fprintf(stderr, "essay_index_search: %s\n", err.message);
        return;
    }
    r->first_ms = (now_sec() - t0) * 1e3;
    r->first_hits = essay_results_count(res);
    essay_results_free(res);
    essay_index_free(idx);
    r->ok = 1;
}

static void child_fts5(const char *corpus, const char *out, const char *tok, result *r)
{
    essay_corpus *c;
    if (load(corpus, &c, r))
        return;
    if (fts5_build(c, out, tok, &r->build_s))
        return;
    essay_corpus_free(c);
    r->index_bytes = file_bytes(out);
    fts5_db f;
    double t0 = now_sec();
    if (fts5_open(&f, out))
        return;
    r->open_ms = (now_sec() - t0) * 1e3;
    r->open_trusted_ms = -1;
    char q[64];
    snprintf(q, sizeof(q), "\"%s\"", first_query);
    t0 = now_sec();
    fts5_query(&f, q, &r->first_hits, NULL);
    r->first_ms = (now_sec() - t0) * 1e3;
    fts5_close(&f);
    r->ok = 1;
}

/* Run one engine in a child; fill *r and the child's peak RSS (MiB). */
static void run_child(int engine, const char *corpus, const char *out, result *r,
                      double *rss_mib_out)
{
    int fd[2];
    memset(r, 0, sizeof(*r));
    *rss_mib_out = 0;
    if (pipe(fd))
        return;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        result cr;
        memset(&cr, 0, sizeof(cr));
        if (engine == 0)
            child_essay(corpus, out, 0, &cr);
        else if (engine == 1)
            child_essay(corpus, out, 1, &cr);
        else
            child_fts5(corpus, out, engine == 2 ? "unicode61" : "trigram", &cr);
        if (write(fd[1], &cr, sizeof(cr)) != (ssize_t)sizeof(cr))
            _exit(1);
        _exit(0);
    }
    close(fd[1]);
    if (read(fd[0], r, sizeof(*r)) != (ssize_t)sizeof(*r))
        r->ok = 0;
    close(fd[0]);
    int status;
    struct rusage ru;
    wait4(pid, &status, 0, &ru);
    *rss_mib_out = (double)ru.ru_maxrss / 1024.0;
    unlink(out);
}

#define MAX_REPS 15

static int cmp_build_time(const void *a, const void *b)
{
    const result *x = a, *y = b;
    double p = x->build_s + x->save_s, q = y->build_s + y->save_s;
    return (p > q) - (p < q);
}

static uint64_t parse_size(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    switch (*end | 32) {
    case 'k': return (uint64_t)(v * 1024);
    case 'm': return (uint64_t)(v * 1024 * 1024);
    case 'g': return (uint64_t)(v * 1024 * 1024 * 1024);
    default: return (uint64_t)v;
    }
}

int main(int argc, char **argv)
{
    const char *sizes = "10M,100M", *dir = "bench-corpora", *gen = GEN_CORPUS_PY;
    const char *cache = NULL;
    int with_1g = 0, reps = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--sizes") && i + 1 < argc)
            sizes = argv[++i];
        else if (!strcmp(argv[i], "--with-1g"))
            with_1g = 1;
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--gen") && i + 1 < argc)
            gen = argv[++i];
        else if (!strcmp(argv[i], "--cache") && i + 1 < argc)
            cache = argv[++i];
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc && atoi(argv[i + 1]) > 0 &&
                 atoi(argv[i + 1]) <= MAX_REPS)
            reps = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--sizes 10M,100M] [--with-1g] [--reps N (1-%d)] "
                            "[--dir DIR] [--gen gen_corpus.py] [--cache MANCACHE]\n",
                    argv[0], MAX_REPS);
            return 2;
        }
    }
    char list[256];
    snprintf(list, sizeof(list), "%s%s", sizes, with_1g ? ",1G" : "");
    char cmd[8192];
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", dir);
    if (system(cmd))
        return 2;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);

    printf("bench_build: libessay (all %ld cores, and 1 thread) vs SQLite FTS5 %s; "
           "corpora from gen_corpus.py in %s; %d run%s per engine, interleaved%s\n\n", cores,
           sqlite3_libversion(), dir, reps, reps > 1 ? "s" : "",
           reps > 1 ? " (the run with the median build time is shown; peak RSS is the "
                      "highest of all runs)" : "");
    printf("%-6s %-20s %8s %8s %8s %9s %9s %10s %8s %9s %9s %9s %6s\n", "corpus", "engine",
           "load s", "build s", "MB/s", "size/text", "size/file", "peak RSS", "RSS/file",
           "open ms", "trust ms", "1st q ms", "hits");
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
        uint64_t bytes = parse_size(tok);
        char corpus[4096], out[4096];
        snprintf(corpus, sizeof(corpus), "%s/corpus-%s.md", dir, tok);
        if (access(corpus, R_OK) != 0) {
            char cache_arg[4200] = "";
            if (cache)
                snprintf(cache_arg, sizeof(cache_arg), "--cache '%s'", cache);
            snprintf(cmd, sizeof(cmd), "python3 '%s' --quiet %s gen --size %llu -o '%s'", gen,
                     cache_arg, (unsigned long long)bytes, corpus);
            fprintf(stderr, "generating %s ...\n", corpus);
            if (system(cmd)) {
                fprintf(stderr, "failed: %s\n", cmd);
                return 2;
            }
        }
        static const char *names[4] = { "libessay", "libessay 1 thread", "FTS5 unicode61",
                                        "FTS5 trigram" };
        double file = (double)file_bytes(corpus), mbs[4] = { 0 }, size[4] = { 0 };
        /* every engine once per round, so that a noisy spell of the
         * machine falls on all of them */
        static result runs[4][MAX_REPS];
        double rss_max[4] = { 0 };
        int n_ok[4] = { 0 };
        for (int k = 0; k < reps; k++)
            for (int e = 0; e < 4; e++) {
                result r;
                double rss;
                snprintf(out, sizeof(out), "%s/bench_build.%d.%d.idx", dir, (int)getpid(), e);
                run_child(e, corpus, out, &r, &rss);
                if (!r.ok)
                    continue;
                runs[e][n_ok[e]++] = r;
                if (rss > rss_max[e])
                    rss_max[e] = rss;
            }
        for (int e = 0; e < 4; e++) {
            if (n_ok[e] < reps) {
                printf("%-6s %-20s failed\n", tok, names[e]);
                continue;
            }
            qsort(runs[e], (size_t)n_ok[e], sizeof(result), cmp_build_time);
            const result r = runs[e][n_ok[e] / 2];
            double rss = rss_max[e];
            double build = r.build_s + r.save_s;
            char trusted[32];
            if (r.open_trusted_ms >= 0)
                snprintf(trusted, sizeof(trusted), "%9.3f", r.open_trusted_ms);
            else
                snprintf(trusted, sizeof(trusted), "%9s", "-");
            mbs[e] = (double)r.text_bytes / 1e6 / build;
            size[e] = (double)r.index_bytes / file;
            printf("%-6s %-20s %8.2f %8.2f %8.1f %9.2f %9.2f %6.0f MiB %8.2f %9.3f %s %9.3f %6zu\n",
                   tok, names[e], r.load_s, build, mbs[e],
                   (double)r.index_bytes / (double)r.text_bytes, size[e], rss,
                   rss * 1048576.0 / file, r.open_ms, trusted, r.first_ms, r.first_hits);
            fflush(stdout);
        }
        if (mbs[0] > 0 && mbs[2] > 0 && mbs[3] > 0)
            printf("%-6s ratios: build speed %.2fx FTS5 unicode61 (target >= 2), %.2fx trigram "
                   "(target >= 10); size %.2fx the corpus file (target <= 1.5)\n",
                   tok, mbs[0] / mbs[2], mbs[0] / mbs[3], size[0]);
    }
    printf("\n(MB/s: 10^6 bytes of paragraph text per second of build + save (libessay: "
           "essay_index_build_file); /file: over the corpus file's bytes; peak RSS includes "
           "the loaded corpus)\n");
    return 0;
}
