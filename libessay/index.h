/*
 * index.h - the index object shared by build.c (which produces an image),
 * store.c (which saves, maps and validates images) and search.c (which
 * reads them).  Every accessor bounds-checks what it reads from the image:
 * a damaged file yields ESSAY_ECORRUPT, never an out-of-bounds read.
 */
#ifndef ESSAY_INDEX_H
#define ESSAY_INDEX_H

#include "analyze.h"
#include "format.h"
#include "textpack.h"

#include <pthread.h>

struct essay_index {
    const uint8_t *img; /* the image, 8-byte aligned */
    size_t img_len;
    void *owned;        /* essay_malloc'd image (built or copied), or NULL */
    void *map;          /* mmap'd file, or NULL */
    size_t map_len;

    ef_meta meta;
    const char *text;
    size_t text_len;
    const ef_article *arts;
    size_t n_arts;
    const ef_para *paras;
    size_t n_paras;
    const ef_term *terms;
    size_t n_terms;
    const uint8_t *tstr;
    size_t tstr_len;
    const uint32_t *slots;
    uint32_t n_slots;
    const uint8_t *post;
    size_t post_len;
    const uint8_t *norms;     /* lang << 7 | length code, per paragraph */
    const uint8_t *tmod;      /* the text model, serialized */
    size_t tmod_len;
    double avgdl[2];
    double norm_k[256];       /* BM25 k1 * (1 - b + b * dl / avgdl) per norm byte */
    char icu_version[16];
    char unicode_version[16];

    essay_error *warnings;
    size_t n_warnings;

    pthread_mutex_t tp_lock;  /* guards the two members below */
    essay_tp_model *tp;       /* loaded from tmod on first use */
    bool tp_bad;

    pthread_mutex_t lock;     /* guards the members below */
    essay_corpus *corpus;     /* built corpus, or assembled lazily */
    bool corpus_owned;
    essay_analyzer **pool;    /* idle analyzers for queries/highlights */
    size_t n_pool, cap_pool;
};

/* Wrap a complete image (validated here; checksums unless `trusted`).  On
 * success the index takes `owned` (may be NULL when the image is borrowed
 * or mapped; the caller sets map/map_len afterwards). */
int essay_index_from_image(essay_index **out, const void *img, size_t len, void *owned,
                           bool trusted, const char *name, essay_error *err);

/* Test hook: make the n-th write / fsync / rename of essay_index_save()
 * from now fail (0 = never).  Process-wide; for single-threaded tests. */
void essay_io_fail_at(uint64_t n);

/* Atomic file writing (store.c): a temporary file next to `path`, renamed
 * over it on commit (after fsync; the directory is fsynced too).  Abort,
 * or any failure, removes the temporary file. */
typedef struct essay_saver essay_saver;
int essay_saver_begin(essay_saver **out, const char *path, essay_error *err);
int essay_saver_write(essay_saver *sv, const void *p, size_t n, essay_error *err);
int essay_saver_pwrite(essay_saver *sv, uint64_t off, const void *p, size_t n, essay_error *err);
int essay_saver_commit(essay_saver *sv, essay_error *err); /* frees sv */
void essay_saver_abort(essay_saver *sv);                     /* frees sv */

/* Test hook: essay_index_build_file() spills its postings buffers to disk
 * beyond n bytes instead of its default (0 = default).  Process-wide. */
void essay_build_spill_budget(size_t n);

/* Test hook: the build cuts the corpus into chunks of about n bytes of
 * text instead of its default (0 = default), so that small corpora are
 * shared among threads.  Process-wide. */
void essay_build_chunk_bytes(size_t n);

/* Release a file mapping (store.c); no-op when not mapped. */
void essay_index_unmap(essay_index *idx);

/* Allocate and initialise an empty index object (lock, pool). */
essay_index *essay_index_alloc(void);

/* Borrow an analyzer from the index's pool (creating one when empty) and
 * give it back. */
int essay_index_take_analyzer(const essay_index *idx, essay_analyzer **out, essay_error *err);
void essay_index_give_analyzer(const essay_index *idx, essay_analyzer *a);

/* The pair of paragraph `doc` (the same index in the other language of an
 * aligned essay), or EF_NO_PAIR; from the tables, bounds-checked. */
static inline uint32_t essay_index_pair(const essay_index *idx, uint32_t doc)
{
    if (doc >= idx->n_paras)
        return EF_NO_PAIR;
    const ef_para *p = &idx->paras[doc];
    if (p->article >= idx->n_arts)
        return EF_NO_PAIR;
    const ef_article *a = &idx->arts[p->article];
    unsigned l = p->lang & 1, o = l ^ 1;
    if (!(a->flags & EF_ART_ALIGNED) || p->index >= a->n_para[o])
        return EF_NO_PAIR;
    uint64_t pair = (uint64_t)a->first_para + (o ? a->n_para[0] : 0) + p->index;
    return pair < idx->n_paras ? (uint32_t)pair : EF_NO_PAIR;
}

/* Rank of paragraph `doc` in key order (ties in a ranking go by key). */
static inline uint32_t essay_index_key_rank(const essay_index *idx, uint32_t doc)
{
    const ef_para *p = &idx->paras[doc];
    if (p->article >= idx->n_arts)
        return UINT32_MAX;
    const ef_article *a = &idx->arts[p->article];
    return a->key_base + ((p->lang & 1) ? a->n_para[0] : 0u) + p->index;
}

/* Term id of term bytes (kind byte + UTF-8), or -1 when absent. */
int64_t essay_index_lookup(const essay_index *idx, const char *term, size_t len);

/* Term bytes of term `id` (bounds-checked; NULL when damaged). */
const char *essay_index_term_str(const essay_index *idx, size_t id, size_t *len);

/* Paragraph text, decoded into out (NUL-terminated; out->len bytes):
 * 0, ESSAY_ECORRUPT when damaged, ESSAY_ENOMEM. */
int essay_index_para_text(const essay_index *idx, size_t ordinal, essay_buf *out);

/* Essay id of an article (bounds-checked; NULL when damaged). */
const char *essay_index_article_id(const essay_index *idx, size_t art, size_t *len);

#endif /* ESSAY_INDEX_H */
