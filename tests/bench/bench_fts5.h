/*
 * bench_fts5.h - the SQLite FTS5 side of the search and build benchmarks:
 * load an essay corpus (one row per paragraph) into an FTS5 table with a
 * given tokenizer, open it again, and run a top-10 query with highlight(),
 * snippet() and the aligned paragraph's text fetched by rowid - the same
 * work libessay's essay_index_search() does by default.  Header-only.
 *
 * Table: p(text, essay UNINDEXED, lang UNINDEXED, para UNINDEXED,
 *          pair UNINDEXED), rowid = paragraph ordinal + 1, pair = the
 *          aligned paragraph's rowid or NULL.
 */
#ifndef ESSAY_BENCH_FTS5_H
#define ESSAY_BENCH_FTS5_H

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_common.h"
#include "essay.h"

typedef struct fts5_db {
    sqlite3 *db;
    sqlite3_stmt *q;     /* top-10 with highlight and snippet */
    sqlite3_stmt *pair;  /* text of one paragraph by rowid */
} fts5_db;

static inline int fts5_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        fprintf(stderr, "sqlite: %s: %s\n", sql, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
    }
    return rc;
}

/* Build `path` (replaced) from the corpus with `tokenizer` ("unicode61",
 * "trigram", ...).  Returns 0 or an SQLite code; *secs is the load time
 * (inserts + commit + 'optimize' merge into one b-tree segment). */
static inline int fts5_build(const essay_corpus *c, const char *path, const char *tokenizer,
                             double *secs)
{
    unlink(path);
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        return 1;
    char sql[512];
    snprintf(sql, sizeof(sql),
             "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA page_size=4096;"
             "CREATE VIRTUAL TABLE p USING fts5(text, essay UNINDEXED, lang UNINDEXED,"
             " para UNINDEXED, pair UNINDEXED, tokenize='%s');", tokenizer);
    double t0 = now_sec();
    int rc = fts5_exec(db, sql);
    sqlite3_stmt *ins = NULL;
    if (!rc)
        rc = sqlite3_prepare_v2(db, "INSERT INTO p(rowid, text, essay, lang, para, pair) "
                                    "VALUES(?1, ?2, ?3, ?4, ?5, ?6)", -1, &ins, NULL);
    if (!rc)
        rc = fts5_exec(db, "BEGIN");
    size_t n = essay_corpus_paragraph_count(c);
    for (size_t i = 0; i < n && !rc; i++) {
        const essay_paragraph *p = essay_corpus_paragraph_at(c, i);
        size_t len, id_len;
        const char *text = essay_paragraph_text(p, &len);
        const char *id = essay_article_id(essay_paragraph_article(p), &id_len);
        const essay_paragraph *q = essay_paragraph_pair(p);
        sqlite3_bind_int64(ins, 1, (sqlite3_int64)i + 1);
        sqlite3_bind_text(ins, 2, text, (int)len, SQLITE_STATIC);
        sqlite3_bind_text(ins, 3, id, (int)id_len, SQLITE_STATIC);
        sqlite3_bind_int(ins, 4, (int)essay_paragraph_lang(p));
        sqlite3_bind_int64(ins, 5, (sqlite3_int64)essay_paragraph_index(p));
        if (q)
            sqlite3_bind_int64(ins, 6, (sqlite3_int64)essay_paragraph_ordinal(q) + 1);
        else
            sqlite3_bind_null(ins, 6);
        if (sqlite3_step(ins) != SQLITE_DONE) {
            fprintf(stderr, "sqlite insert: %s\n", sqlite3_errmsg(db));
            rc = 1;
        }
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    if (!rc)
        rc = fts5_exec(db, "COMMIT");
    if (!rc)
        rc = fts5_exec(db, "INSERT INTO p(p) VALUES('optimize')");
    *secs = now_sec() - t0;
    sqlite3_close(db);
    return rc;
}

static inline int fts5_open(fts5_db *f, const char *path)
{
    memset(f, 0, sizeof(*f));
    if (sqlite3_open_v2(path, &f->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return 1;
    int rc = sqlite3_prepare_v2(f->db,
                                "SELECT rowid, essay, lang, para, highlight(p, 0, char(2), char(3)),"
                                " snippet(p, 0, char(2), char(3), '...', 24), pair"
                                " FROM p WHERE p MATCH ?1 ORDER BY rank LIMIT 10",
                                -1, &f->q, NULL);
    if (!rc)
        rc = sqlite3_prepare_v2(f->db, "SELECT text FROM p WHERE rowid = ?1", -1, &f->pair,
                                NULL);
    if (rc)
        fprintf(stderr, "sqlite prepare: %s\n", sqlite3_errmsg(f->db));
    return rc;
}

static inline void fts5_close(fts5_db *f)
{
    sqlite3_finalize(f->q);
    sqlite3_finalize(f->pair);
    sqlite3_close(f->db);
    memset(f, 0, sizeof(*f));
}

/* Run one MATCH query; *n_hits = rows returned (<= 10).  Returns 0, or 1 when
 * FTS5 rejected the query (syntax it does not support). */
static inline int fts5_query(fts5_db *f, const char *match, size_t *n_hits, size_t *touched)
{
    size_t n = 0, bytes = 0;
    sqlite3_bind_text(f->q, 1, match, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(f->q)) == SQLITE_ROW) {
        n++;
        bytes += (size_t)sqlite3_column_bytes(f->q, 4) + (size_t)sqlite3_column_bytes(f->q, 5);
        if (sqlite3_column_type(f->q, 6) != SQLITE_NULL) {
            sqlite3_bind_int64(f->pair, 1, sqlite3_column_int64(f->q, 6));
            if (sqlite3_step(f->pair) == SQLITE_ROW)
                bytes += (size_t)sqlite3_column_bytes(f->pair, 0);
            sqlite3_reset(f->pair);
        }
    }
    sqlite3_reset(f->q);
    *n_hits = n;
    if (touched)
        *touched += bytes;
    return rc == SQLITE_DONE ? 0 : 1;
}

static inline double file_mib(const char *path)
{
    struct stat st;
    if (stat(path, &st))
        return 0;
    return (double)st.st_size / (1024.0 * 1024.0);
}

static inline uint64_t file_bytes(const char *path)
{
    struct stat st;
    return stat(path, &st) ? 0 : (uint64_t)st.st_size;
}

#endif
