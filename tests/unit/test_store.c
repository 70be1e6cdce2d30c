/*
 * test_store.c - index files: golden files of each format version, the
 * committed damaged files in tests/data/corrupt/ (each with its expected
 * code and offset), 10,000 random truncations and bit flips of a real
 * index, saves killed with SIGKILL at random moments, and failing writes,
 * fsyncs and renames injected through the I/O hook.
 */
#include "harness.h"
#include "hash.h"
#include "index.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *data_dir;

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* A signature of the answers to a fixed set of queries. */
static char *answers(const essay_index *idx)
{
    static const char *qs[] = { "数学", "learn", "math*", "\"deep learning\"", "ai OR 数学",
                                "ai -数学", "学", "essay:0301", "file", "文件", "command OR 命令" };
    size_t cap = 1 << 16, at = 0;
    char *s = malloc(cap);
    s[0] = 0;
    for (size_t i = 0; i < sizeof qs / sizeof *qs; i++) {
        essay_results *r = NULL;
        essay_search_options o = ESSAY_SEARCH_OPTIONS_INIT;
        o.limit = 20;
        int rc = essay_index_search(idx, qs[i], SIZE_MAX, &o, &r, NULL);
        at += (size_t)snprintf(s + at, cap - at, "%s:%d:%zu|", qs[i], rc, essay_results_total(r));
        for (size_t k = 0; k < essay_results_count(r) && at < cap - 200; k++) {
            essay_hit h;
            essay_results_hit(r, k, &h);
            at += (size_t)snprintf(s + at, cap - at, "%.*s.%d.%zu.%.6f.%zu;", (int)h.essay_len,
                                   h.essay, h.lang, h.para, h.score, h.n_highlights);
        }
        essay_results_free(r);
    }
    return s;
}

static essay_index *build_file(const char *rel, essay_corpus **keep)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", data_dir, rel);
    const char *paths[1] = { path };
    essay_corpus *c = NULL;
    essay_error e;
    int rc = essay_corpus_load(&c, paths, 1, NULL, &e);
    CHECK_INT(rc, 0);
    if (rc) {
        fprintf(stderr, "%s\n", e.message);
        return NULL;
    }
    essay_index *idx = NULL;
    rc = essay_index_build(&idx, c, NULL, &e);
    CHECK_INT(rc, 0);
    if (keep)
        *keep = c;
    else
        essay_corpus_free(c);
    return idx;
}

/* ---- golden files ------------------------------------------------------------ */

static void store_golden_files(void)
{
    /* tests/data/golden/v<N>-default.essayidx: the embedded essay indexed by
     * format version N, with its answers in v<N>-default.answers. */
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/golden", data_dir);
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    if (!d)
        return;
    int seen = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n < 10 || strcmp(de->d_name + n - 9, ".essayidx") != 0)
            continue;
        char path[2048], ans[2048];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        snprintf(ans, sizeof ans, "%s/%.*s.answers", dir, (int)(n - 9), de->d_name);
        essay_index *idx = NULL;
        essay_error e;
        int rc = essay_index_open(&idx, path, 0, &e);
        if (rc == ESSAY_EVERSION) {
            seen++; /* an older format this library no longer reads: a clean refusal */
            continue;
        }
        CHECK_INT(rc, 0);
        if (rc) {
            fprintf(stderr, "%s\n", e.message);
            continue;
        }
        size_t al;
        char *want = slurp(ans, &al);
        CHECK(want != NULL);
        char *got = answers(idx);
        if (want) {
            while (al > 0 && (want[al - 1] == '\n'))
                want[--al] = 0;
            CHECK_STR(got, want);
        }
        free(want);
        free(got);
        essay_index_free(idx);
        seen++;
    }
    closedir(d);
    CHECK(seen >= 1);
    /* the current build writes what the golden file of this version holds */
    essay_index *now = NULL;
    CHECK_INT(essay_index_default(&now, NULL), 0);
    char path[2048];
    snprintf(path, sizeof path, "%s/v%u-default.essayidx", dir, EF_VERSION);
    size_t gl, nl;
    char *g = slurp(path, &gl);
    const void *img = essay_index_image(now, &nl);
    CHECK(g != NULL);
    if (g) {
        /* byte-identical except the ICU/Unicode version strings (24..56)
         * and the header checksum that covers them */
        CHECK_INT(gl, nl);
        if (gl == nl)
            CHECK(memcmp(g + 64, (const char *)img + 64, gl - 64) == 0);
    }
    free(g);
    essay_index_free(now);
}

/* ---- committed damaged files ------------------------------------------------- */

static void store_corrupt_cases(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/corrupt/EXPECTED", data_dir);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (!f)
        return;
    char line[512];
    int cases = 0;
    while (fgets(line, sizeof line, f)) {
        char name[256];
        int code;
        unsigned long long off;
        if (line[0] == '#' || sscanf(line, "%255s %d %llu", name, &code, &off) != 3)
            continue;
        char file[2048];
        snprintf(file, sizeof file, "%s/corrupt/%s", data_dir, name);
        for (unsigned flags = 0; flags <= ESSAY_OPEN_TRUSTED; flags++) {
            essay_index *idx = NULL;
            essay_error e;
            int rc = essay_index_open(&idx, file, flags, &e);
            if (flags == 0 || rc != 0) {
                if (rc != code || e.offset != off)
                    fprintf(stderr, "%s (flags %u): got %d at %llu: %s\n", name, flags, rc,
                            (unsigned long long)e.offset, e.message);
                if (flags == 0 || code != ESSAY_ECORRUPT) {
                    CHECK_INT(rc, code);
                    CHECK_INT(e.offset, off);
                }
                CHECK(strstr(e.message, name) != NULL); /* the message names the file */
            } else {
                /* trusted open of a file with a bad checksum: searches still
                 * end cleanly */
                char *a = answers(idx);
                free(a);
            }
            essay_index_free(idx);
        }
        cases++;
    }
    fclose(f);
    CHECK(cases >= 5);
}

/* ---- random damage of a real index -------------------------------------------- */

static void store_random_damage(void)
{
    essay_index *idx = build_file("real/bilingual.md", NULL);
    if (!idx)
        return;
    size_t len;
    const uint8_t *img = essay_index_image(idx, &len);
    uint8_t *buf = malloc(len);
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    unsigned clean = 0, trusted_runs = 0, opened = 0;
    for (int trial = 0; trial < 10000; trial++) {
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        size_t cut = len;
        memcpy(buf, img, len);
        if (trial % 2 == 0) {
            cut = (size_t)(seed % len);
        } else {
            size_t at = (size_t)(seed % len);
            buf[at] ^= (uint8_t)(1u << ((seed >> 32) % 8));
        }
        essay_index *o = NULL;
        essay_error e;
        int rc = essay_index_open_memory(&o, buf, cut, 0, &e);
        if (rc == 0) {
            opened++; /* only a flip in alignment padding can pass */
            essay_index_free(o);
        } else {
            CHECK(rc == ESSAY_ECORRUPT || rc == ESSAY_EVERSION);
            clean++;
        }
        /* checksums off: the decoders meet the damage; no crash allowed */
        if (trial % 10 == 1 &&
            essay_index_open_memory(&o, buf, cut, ESSAY_OPEN_TRUSTED, &e) == 0) {
            char *a = answers(o);
            free(a);
            essay_index_corpus(o, NULL);
            essay_index_free(o);
            trusted_runs++;
        }
    }
    CHECK(clean >= 9990);
    fprintf(stderr, "  damage: 10000 cases, %u clean errors, %u opened (padding), %u trusted "
                    "searches\n", clean, opened, trusted_runs);
    free(buf);
    essay_index_free(idx);
}

/* ---- saves killed at random moments ------------------------------------------- */

static void store_kill_during_save(void)
{
    essay_index *a = NULL;
    CHECK_INT(essay_index_default(&a, NULL), 0);
    essay_index *b = build_file("real/bilingual.md", NULL);
    if (!a || !b)
        return;
    char dir[] = "/tmp/essay-kill-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/idx", dir);
    CHECK_INT(essay_index_save(a, path, NULL), 0);
    char *want_a = answers(a), *want_b = answers(b);
    size_t la, lb;
    const void *ia = essay_index_image(a, &la), *ib = essay_index_image(b, &lb);
    unsigned as_a = 0, as_b = 0, trials = 60;
    srand((unsigned)time(NULL));
    /* time one full save, so that kills land all along it (write, fsync,
     * rename) and some after it */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_INT(essay_index_save(b, path, NULL), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long save_us = (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000L;
    long span_us = save_us + save_us / 4 + 1000; /* fork and start-up too */
    for (unsigned t = 0; t < trials; t++) {
        /* start from A each time, so a finished save is visible as B */
        CHECK_INT(essay_index_save(a, path, NULL), 0);
        pid_t pid = fork();
        if (pid == 0) {
            essay_index_save(b, path, NULL);
            _exit(0);
        }
        long us = rand() % span_us;
        struct timespec ts = { us / 1000000L, (us % 1000000L) * 1000L };
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int st;
        waitpid(pid, &st, 0);
        size_t fl;
        char *bytes = slurp(path, &fl);
        CHECK(bytes != NULL);
        bool is_a = bytes && fl == la && memcmp(bytes, ia, la) == 0;
        bool is_b = bytes && fl == lb && memcmp(bytes, ib, lb) == 0;
        CHECK(is_a || is_b);
        free(bytes);
        essay_index *o = NULL;
        essay_error e;
        CHECK_INT(essay_index_open(&o, path, 0, &e), 0);
        if (o) {
            char *got = answers(o);
            CHECK_STR(got, is_b ? want_b : want_a);
            free(got);
            essay_index_free(o);
        }
        as_a += is_a;
        as_b += is_b;
    }
    fprintf(stderr, "  kill: %u trials over %ld us, %u left the old index, %u the new one\n",
            trials, span_us, as_a, as_b);
    /* the same for essay_index_build_file(), spilling to disk as it goes */
    essay_corpus *cb = NULL;
    essay_index *b2 = build_file("real/bilingual.md", &cb);
    essay_index_free(b2);
    if (cb) {
        essay_build_spill_budget(64 << 10);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        CHECK_INT(essay_index_build_file(cb, path, NULL, NULL), 0);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        long build_us = (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000L;
        span_us = build_us + build_us / 4 + 1000;
        unsigned bf_a = 0, bf_b = 0, bf_trials = 20;
        for (unsigned t = 0; t < bf_trials; t++) {
            CHECK_INT(essay_index_save(a, path, NULL), 0);
            pid_t pid = fork();
            if (pid == 0) {
                essay_index_build_file(cb, path, NULL, NULL);
                _exit(0);
            }
            /* the last quarter of the span, where the file is written */
            long us = span_us / 2 + rand() % (span_us / 2);
            struct timespec ts = { us / 1000000L, (us % 1000000L) * 1000L };
            nanosleep(&ts, NULL);
            kill(pid, SIGKILL);
            int st;
            waitpid(pid, &st, 0);
            size_t fl;
            char *bytes = slurp(path, &fl);
            bool is_a = bytes && fl == la && memcmp(bytes, ia, la) == 0;
            bool is_b = bytes && fl == lb && memcmp(bytes, ib, lb) == 0;
            CHECK(is_a || is_b);
            free(bytes);
            bf_a += is_a;
            bf_b += is_b;
        }
        essay_build_spill_budget(0);
        fprintf(stderr, "  kill during build_file: %u trials, %u old, %u new\n", bf_trials, bf_a,
                bf_b);
        essay_corpus_free(cb);
    }
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_INT(system(cmd), 0);
    free(want_a);
    free(want_b);
    essay_index_free(a);
    essay_index_free(b);
}

/* ---- failing writes, fsyncs and renames --------------------------------------- */

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    if (d)
        closedir(d);
    return n;
}

static void store_io_faults(void)
{
    essay_index *a = NULL, *b = build_file("real/bilingual.md", NULL);
    CHECK_INT(essay_index_default(&a, NULL), 0);
    if (!a || !b)
        return;
    char dir[] = "/tmp/essay-io-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/idx", dir);
    CHECK_INT(essay_index_save(a, path, NULL), 0);
    size_t la;
    const void *ia = essay_index_image(a, &la);
    unsigned faults = 0;
    for (uint64_t n = 1; n < 64; n++) {
        essay_io_fail_at(n);
        essay_error e;
        int rc = essay_index_save(b, path, &e);
        essay_io_fail_at(0);
        if (rc == 0)
            break; /* past the last I/O step: the save went through */
        faults++;
        CHECK_INT(rc, ESSAY_EIO);
        CHECK(strstr(e.message, path) != NULL);
        size_t fl;
        char *bytes = slurp(path, &fl);
        CHECK(bytes && fl == la && memcmp(bytes, ia, la) == 0); /* old index untouched */
        free(bytes);
        CHECK_INT(count_entries(dir), 1); /* no temporary file left */
    }
    CHECK(faults >= 3);
    fprintf(stderr, "  io: %u injected faults, old index intact after each\n", faults);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_INT(system(cmd), 0);
    essay_index_free(a);
    essay_index_free(b);
}

/* essay_index_build_file(): the same bytes as build + save, the same
 * atomicity under I/O faults, and the same answers when opened. */
static void store_build_file(void)
{
    char cpath[1024];
    snprintf(cpath, sizeof cpath, "%s/real/bilingual.md", data_dir);
    const char *paths[1] = { cpath };
    essay_corpus *c = NULL;
    CHECK_INT(essay_corpus_load(&c, paths, 1, NULL, NULL), 0);
    if (!c)
        return;
    essay_index *mem = NULL;
    CHECK_INT(essay_index_build(&mem, c, NULL, NULL), 0);
    if (!mem) {
        essay_corpus_free(c);
        return;
    }
    /* the term list is in strictly ascending byte order (the build sorts
     * by 8-byte prefix keys, and by bytes where the keys tie: real text
     * has many such neighbours, "configuration" and "configure", say) */
    size_t ties = 0, misordered = 0;
    for (size_t i = 1; i < mem->n_terms; i++) {
        const ef_term *x = &mem->terms[i - 1], *y = &mem->terms[i];
        const uint8_t *a = mem->tstr + x->str_off, *b = mem->tstr + y->str_off;
        size_t n = x->str_len < y->str_len ? x->str_len : y->str_len;
        int cmp = memcmp(a, b, n);
        if (cmp == 0)
            cmp = x->str_len < y->str_len ? -1 : x->str_len > y->str_len;
        misordered += cmp >= 0;
        ties += n >= 8 && memcmp(a, b, 8) == 0;
    }
    CHECK_INT(misordered, 0);
    CHECK(ties > 100);
    fprintf(stderr, "  build_file: %zu terms in byte order, %zu neighbours share 8 bytes\n",
            mem->n_terms, ties);
    char dir[] = "/tmp/essay-bf-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/idx", dir);
    for (unsigned threads = 1; threads <= 3; threads++) {
        essay_build_options o = ESSAY_BUILD_OPTIONS_INIT;
        o.threads = threads;
        CHECK_INT(essay_index_build_file(c, path, &o, NULL), 0);
        size_t fl, ml;
        char *bytes = slurp(path, &fl);
        const void *img = essay_index_image(mem, &ml);
        CHECK(bytes && fl == ml && memcmp(bytes, img, ml) == 0);
        free(bytes);
        CHECK_INT(count_entries(dir), 1);
    }
    /* postings spilled to disk in many runs, and the corpus shared among
     * threads in small chunks (their tables merged): still the same bytes */
    unsigned round = 0;
    for (size_t budget = 4096; budget <= (1u << 20); budget *= 16, round++) {
        essay_build_options o = ESSAY_BUILD_OPTIONS_INIT;
        o.threads = 1 + round % 3; /* 1, 2, 3 */
        essay_build_spill_budget(budget);
        essay_build_chunk_bytes(budget / 64);
        CHECK_INT(essay_index_build_file(c, path, &o, NULL), 0);
        essay_build_chunk_bytes(0);
        essay_build_spill_budget(0);
        size_t fl, ml;
        char *bytes = slurp(path, &fl);
        const void *img = essay_index_image(mem, &ml);
        CHECK(bytes && fl == ml && memcmp(bytes, img, ml) == 0);
        free(bytes);
        CHECK_INT(count_entries(dir), 1); /* the spill file is never left behind */
    }
    /* faults: the previous file stays as it was, no temporary file left */
    essay_index *small = NULL;
    CHECK_INT(essay_index_default(&small, NULL), 0);
    CHECK_INT(essay_index_save(small, path, NULL), 0);
    size_t sl;
    const void *simg = essay_index_image(small, &sl);
    unsigned faults = 0;
    for (uint64_t n = 1; n < 4096; n++) {
        essay_io_fail_at(n);
        essay_error e;
        int rc = essay_index_build_file(c, path, NULL, &e);
        essay_io_fail_at(0);
        if (rc == 0)
            break;
        faults++;
        CHECK_INT(rc, ESSAY_EIO);
        CHECK(strstr(e.message, path) != NULL);
        size_t fl;
        char *bytes = slurp(path, &fl);
        CHECK(bytes && fl == sl && memcmp(bytes, simg, sl) == 0);
        free(bytes);
        CHECK_INT(count_entries(dir), 1);
    }
    CHECK(faults >= 4);
    fprintf(stderr, "  build_file: byte-identical to build + save; %u injected faults\n",
            faults);
    /* bad arguments */
    essay_error e;
    CHECK_INT(essay_index_build_file(NULL, path, NULL, &e), ESSAY_EINVAL);
    CHECK_INT(essay_index_build_file(c, "", NULL, &e), ESSAY_EINVAL);
    CHECK_INT(essay_index_build_file(c, "/nonexistent-dir/x/idx", NULL, &e), ESSAY_EIO);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_INT(system(cmd), 0);
    essay_index_free(small);
    essay_index_free(mem);
    essay_corpus_free(c);
}

/* ---- fixture writers (run by hand when the format changes) -------------------
 *
 *   test_store --write-golden tests/data/golden
 *   test_store --write-corrupt tests/data/corrupt   (from the golden file)
 */

static int write_bytes(const char *dir, const char *name, const void *p, size_t n)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        return 1;
    }
    return 0;
}

static int write_golden(const char *dir)
{
    essay_index *idx = NULL;
    if (essay_index_default(&idx, NULL) != 0)
        return 1;
    size_t n;
    const void *img = essay_index_image(idx, &n);
    char name[64];
    snprintf(name, sizeof name, "v%u-default.essayidx", EF_VERSION);
    int rc = write_bytes(dir, name, img, n);
    char *a = answers(idx);
    snprintf(name, sizeof name, "v%u-default.answers", EF_VERSION);
    strcat(a, "\n");
    rc |= write_bytes(dir, name, a, strlen(a));
    free(a);
    essay_index_free(idx);
    return rc;
}

static void fix_table_checksum(uint8_t *img)
{
    uint32_t nsec;
    memcpy(&nsec, img + 12, 4);
    XXH3_state_t st;
    XXH3_64bits_reset(&st);
    XXH3_64bits_update(&st, img, 56);
    XXH3_64bits_update(&st, img + EF_HEADER_SIZE, (size_t)nsec * EF_ENTRY_SIZE);
    uint64_t ck = XXH3_64bits_digest(&st);
    memcpy(img + 56, &ck, 8);
}

static size_t section_entry(const uint8_t *img, uint32_t id)
{
    uint32_t nsec;
    memcpy(&nsec, img + 12, 4);
    for (uint32_t i = 0; i < nsec; i++) {
        uint32_t sid;
        memcpy(&sid, img + EF_HEADER_SIZE + i * EF_ENTRY_SIZE, 4);
        if (sid == id)
            return EF_HEADER_SIZE + i * EF_ENTRY_SIZE;
    }
    return 0;
}

static int write_corrupt(const char *dir)
{
    char golden[2048];
    snprintf(golden, sizeof golden, "%s/../golden/v%u-default.essayidx", dir, EF_VERSION);
    size_t n;
    uint8_t *g = (uint8_t *)slurp(golden, &n);
    if (!g)
        return 1;
    uint8_t *b = malloc(n + 16);
    FILE *exp = NULL;
    char path[2048];
    snprintf(path, sizeof path, "%s/EXPECTED", dir);
    exp = fopen(path, "w");
    fprintf(exp, "# name code offset  (written by test_store --write-corrupt)\n");
    int rc = 0;
#define CASE(name, len, code, off)                                              \
    do {                                                                        \
        rc |= write_bytes(dir, name, b, len);                                   \
        fprintf(exp, "%s %d %llu\n", name, code, (unsigned long long)(off));    \
    } while (0)
    memcpy(b, g, n);
    CASE("empty.essayidx", 0, ESSAY_ECORRUPT, 0);
    CASE("truncated_header.essayidx", 40, ESSAY_ECORRUPT, 40);
    CASE("truncated_half.essayidx", n / 2, ESSAY_ECORRUPT, 16);
    b[0] = 'X';
    CASE("bad_magic.essayidx", n, ESSAY_ECORRUPT, 0);
    memcpy(b, g, n);
    uint32_t v = 99;
    memcpy(b + 8, &v, 4);
    CASE("future_version.essayidx", n, ESSAY_EVERSION, 8);
    memcpy(b, g, n);
    b[EF_HEADER_SIZE + 9] ^= 0x01;
    CASE("bad_table_checksum.essayidx", n, ESSAY_ECORRUPT, 56);
    memcpy(b, g, n);
    size_t e = section_entry(b, EF_TERM);
    uint64_t off = (uint64_t)n + 4096;
    memcpy(b + e + 8, &off, 8);
    fix_table_checksum(b);
    CASE("bad_section_offset.essayidx", n, ESSAY_ECORRUPT, e + 8);
    memcpy(b, g, n);
    e = section_entry(b, EF_POST);
    memcpy(&off, b + e + 8, 8);
    b[off + 3] ^= 0x40;
    CASE("bad_section_checksum.essayidx", n, ESSAY_ECORRUPT, off);
    memcpy(b, g, n);
    e = section_entry(b, EF_META);
    uint64_t meta_off, para_off;
    memcpy(&meta_off, b + e + 8, 8);
    memcpy(&para_off, b + section_entry(b, EF_PARA) + 8, 8);
    uint64_t np;
    memcpy(&np, b + meta_off + 8, 8);
    np += 1;
    memcpy(b + meta_off + 8, &np, 8);
    uint64_t ck = essay_checksum64(b + meta_off, sizeof(ef_meta));
    memcpy(b + e + 24, &ck, 8);
    fix_table_checksum(b);
    CASE("counts_mismatch.essayidx", n, ESSAY_ECORRUPT, para_off);
    memcpy(b, g, n);
    memset(b + n, 0xAB, 16);
    CASE("trailing_garbage.essayidx", n + 16, ESSAY_ECORRUPT, 16);
#undef CASE
    fclose(exp);
    free(b);
    free(g);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "--write-golden") == 0)
        return write_golden(argv[2]);
    if (argc > 2 && strcmp(argv[1], "--write-corrupt") == 0)
        return write_corrupt(argv[2]);
    data_dir = argc > 1 ? argv[1] : "tests/data";
    RUN(store_golden_files);
    RUN(store_corrupt_cases);
    RUN(store_random_damage);
    RUN(store_kill_during_save);
    RUN(store_io_faults);
    RUN(store_build_file);
    return harness_done();
}
