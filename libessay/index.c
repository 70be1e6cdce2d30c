/*
 * index.c - the index object: validating an image (header, section table,
 * section bounds, checksums), bounds-checked accessors, the analyzer pool,
 * the lazily assembled corpus, statistics and the public lifecycle calls.
 */
#define _GNU_SOURCE 1 /* qsort_r */
#include "corpus.h"
#include "hash.h"
#include "index.h"

#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/uversion.h>

#define EF_MAX_SECTIONS 64u

essay_index *essay_index_alloc(void)
{
    essay_index *idx = essay_calloc(1, sizeof *idx);
    if (!idx)
        return NULL;
    if (pthread_mutex_init(&idx->lock, NULL) != 0) {
        essay_free(idx);
        return NULL;
    }
    if (pthread_mutex_init(&idx->tp_lock, NULL) != 0) {
        pthread_mutex_destroy(&idx->lock);
        essay_free(idx);
        return NULL;
    }
    return idx;
}

static int corrupt(essay_error *err, const char *name, uint64_t off, const char *what)
{
    return essay_error_set(err, ESSAY_ECORRUPT, name, 0, 0, off,
                           "damaged index at byte %llu: %s", (unsigned long long)off, what);
}

static int add_warning(essay_index *idx, const char *name, const char *fmt, const char *a,
                       const char *b)
{
    essay_error *w = essay_realloc(idx->warnings, (idx->n_warnings + 1) * sizeof *w);
    if (!w)
        return ESSAY_ENOMEM;
    idx->warnings = w;
    essay_error_set(&w[idx->n_warnings++], ESSAY_EVERSION, name, 0, 0, 0, fmt, a, b);
    return 0;
}

int essay_index_from_image(essay_index **out, const void *image, size_t len, void *owned,
                           bool trusted, const char *name, essay_error *err)
{
    const uint8_t *img = image;
    *out = NULL;
    if (!name)
        name = "<memory>";
    if (len < EF_HEADER_SIZE)
        return corrupt(err, name, len, "file shorter than the index header");
    if (memcmp(img, EF_MAGIC, 8) != 0)
        return corrupt(err, name, 0, "not a libessay index (bad magic)");
    uint32_t ver, nsec;
    uint64_t fsize, tab_ck;
    memcpy(&ver, img + 8, 4);
    memcpy(&nsec, img + 12, 4);
    memcpy(&fsize, img + 16, 8);
    memcpy(&tab_ck, img + 56, 8);
    if (ver != EF_VERSION)
        return essay_error_set(err, ESSAY_EVERSION, name, 0, 0, 8,
                               "index format version %u is not supported (this library "
                               "reads version %u)", ver, EF_VERSION);
    if (fsize != len)
        return corrupt(err, name, 16, fsize > len ? "file is truncated"
                                                  : "file size differs from the header");
    if (nsec == 0 || nsec > EF_MAX_SECTIONS || EF_HEADER_SIZE + (size_t)nsec * EF_ENTRY_SIZE > len)
        return corrupt(err, name, 12, "bad section count");
    const uint8_t *tab = img + EF_HEADER_SIZE;
    {
        XXH3_state_t st;
        XXH3_64bits_reset(&st);
        XXH3_64bits_update(&st, img, 56);
        XXH3_64bits_update(&st, tab, (size_t)nsec * EF_ENTRY_SIZE);
        if (XXH3_64bits_digest(&st) != tab_ck)
            return corrupt(err, name, 56, "header checksum mismatch");
    }
    const uint8_t *sec[10] = { 0 };
    uint64_t slen[10] = { 0 };
    static const uint32_t ids[10] = { EF_META, EF_ARTS, EF_PARA, EF_TERM, EF_HASH,
                                      EF_TSTR, EF_POST, EF_TEXT, EF_NORM, EF_TMOD };
    size_t table_end = EF_HEADER_SIZE + (size_t)nsec * EF_ENTRY_SIZE;
    for (uint32_t i = 0; i < nsec; i++) {
        const uint8_t *e = tab + (size_t)i * EF_ENTRY_SIZE;
        uint32_t id;
        uint64_t off, l, ck;
        memcpy(&id, e, 4);
        memcpy(&off, e + 8, 8);
        memcpy(&l, e + 16, 8);
        memcpy(&ck, e + 24, 8);
        uint64_t at = EF_HEADER_SIZE + (uint64_t)i * EF_ENTRY_SIZE;
        if (off < table_end || off > len || l > len - off || (off & 7))
            return corrupt(err, name, at + 8, "section outside the file");
        if (!trusted && essay_checksum64(img + off, (size_t)l) != ck)
            return corrupt(err, name, off, "section checksum mismatch");
        for (int k = 0; k < 10; k++)
            if (ids[k] == id) {
                if (sec[k])
                    return corrupt(err, name, at, "duplicate section");
                sec[k] = img + off;
                slen[k] = l;
            }
    }
    for (int k = 0; k < 10; k++)
        if (!sec[k])
            return corrupt(err, name, EF_HEADER_SIZE, "a required section is missing");

    essay_index *idx = essay_index_alloc();
    if (!idx)
        return essay_fail(err, ESSAY_ENOMEM, "out of memory opening an index");
    idx->img = img;
    idx->img_len = len;
    if (slen[0] < sizeof(ef_meta)) {
        essay_index_free(idx);
        return corrupt(err, name, (uint64_t)(sec[0] - img), "META section too short");
    }
    memcpy(&idx->meta, sec[0], sizeof(ef_meta));
    const ef_meta *m = &idx->meta;
    int bad = 0;
    uint64_t bad_at = 0;
#define CHECK_COUNT(k, n, size)                                                         \
    if (!bad && ((n) > UINT32_MAX || slen[k] != (uint64_t)(n) * (size))) {            \
        bad = 1;                                                                        \
        bad_at = (uint64_t)(sec[k] - img);                                              \
    }
    CHECK_COUNT(1, m->n_articles, sizeof(ef_article));
    CHECK_COUNT(2, m->n_paras, sizeof(ef_para));
    CHECK_COUNT(3, m->n_terms, sizeof(ef_term));
    CHECK_COUNT(8, m->n_paras, 1);
#undef CHECK_COUNT
    if (!bad && (m->n_lang[0] + m->n_lang[1] != m->n_paras || m->n_lang[0] > m->n_paras)) {
        bad = 1;
        bad_at = (uint64_t)(sec[0] - img);
    }
    uint32_t n_slots = 0;
    if (!bad) {
        if (slen[4] < 4) {
            bad = 1;
        } else {
            memcpy(&n_slots, sec[4], 4);
            if (n_slots == 0 || (n_slots & (n_slots - 1)) || n_slots < m->n_terms ||
                slen[4] != 4 + (uint64_t)n_slots * 4)
                bad = 1;
        }
        if (bad)
            bad_at = (uint64_t)(sec[4] - img);
    }
    if (!bad && slen[7] > 0 && sec[7][slen[7] - 1] != 0) { /* empty: an empty corpus */
        bad = 1;
        bad_at = (uint64_t)(sec[7] - img);
    }
    if (bad) {
        essay_index_free(idx);
        return corrupt(err, name, bad_at, "section sizes disagree with the counts");
    }
    idx->arts = (const ef_article *)(const void *)sec[1];
    idx->n_arts = (size_t)m->n_articles;
    idx->paras = (const ef_para *)(const void *)sec[2];
    idx->n_paras = (size_t)m->n_paras;
    idx->terms = (const ef_term *)(const void *)sec[3];
    idx->n_terms = (size_t)m->n_terms;
    idx->slots = (const uint32_t *)(const void *)(sec[4] + 4);
    idx->n_slots = n_slots;
    idx->tstr = sec[5];
    idx->tstr_len = (size_t)slen[5];
    idx->post = sec[6];
    idx->post_len = (size_t)slen[6];
    idx->text = (const char *)sec[7];
    idx->text_len = (size_t)slen[7];
    idx->norms = sec[8];
    idx->tmod = sec[9];
    idx->tmod_len = (size_t)slen[9];
    for (int l = 0; l < 2; l++)
        idx->avgdl[l] = m->n_lang[l] && m->total_len[l]
                            ? (double)m->total_len[l] / (double)m->n_lang[l]
                            : 1.0;
    ef_norm_table(idx->norm_k, idx->avgdl);
    memcpy(idx->icu_version, img + 24, 15);
    memcpy(idx->unicode_version, img + 40, 15);
    UVersionInfo icu;
    char here[U_MAX_VERSION_STRING_LENGTH];
    u_getVersion(icu);
    u_versionToString(icu, here);
    if (strcmp(here, idx->icu_version) != 0 &&
        add_warning(idx, name,
                    "index built with ICU %s, this library uses ICU %s: Chinese "
                    "segmentation may differ; rebuild the index for exact results",
                    idx->icu_version, here) != 0) {
        essay_index_free(idx);
        return essay_fail(err, ESSAY_ENOMEM, "out of memory opening an index");
    }
    idx->owned = owned;
    *out = idx;
    return 0;
}

/* ---- accessors ----------------------------------------------------------- */

int64_t essay_index_lookup(const essay_index *idx, const char *term, size_t len)
{
    uint64_t h = essay_hash64(term, len);
    uint32_t mask = idx->n_slots - 1, s = (uint32_t)h & mask;
    for (uint32_t probes = 0; probes < idx->n_slots; probes++) {
        uint32_t v = idx->slots[s];
        if (v == 0 || v > idx->n_terms)
            return -1;
        const ef_term *t = &idx->terms[v - 1];
        if (t->hash == h && t->str_len == len && (uint64_t)t->str_off + len <= idx->tstr_len &&
            memcmp(idx->tstr + t->str_off, term, len) == 0)
            return (int64_t)(v - 1);
        s = (s + 1) & mask;
    }
    return -1;
}

const char *essay_index_term_str(const essay_index *idx, size_t id, size_t *len)
{
    if (id >= idx->n_terms)
        return NULL;
    const ef_term *t = &idx->terms[id];
    if ((uint64_t)t->str_off + t->str_len > idx->tstr_len)
        return NULL;
    *len = t->str_len;
    return (const char *)idx->tstr + t->str_off;
}

/* The text model, loaded from TMOD on first use (so that a trusted open
 * stays O(1)); NULL when it is damaged. */
static int text_model(const essay_index *idx, const essay_tp_model **m)
{
    essay_index *w = (essay_index *)idx;
    int rc = 0;
    pthread_mutex_lock(&w->tp_lock);
    if (!w->tp && !w->tp_bad) {
        rc = essay_tp_load(&w->tp, idx->tmod, idx->tmod_len);
        if (rc != 0) {
            w->tp = NULL;
            w->tp_bad = rc != ESSAY_ENOMEM; /* out of memory may pass */
        }
    }
    if (w->tp_bad)
        rc = ESSAY_ECORRUPT;
    *m = w->tp;
    pthread_mutex_unlock(&w->tp_lock);
    return *m ? 0 : rc ? rc : ESSAY_ENOMEM;
}

int essay_index_para_text(const essay_index *idx, size_t ordinal, essay_buf *out)
{
    if (ordinal >= idx->n_paras)
        return ESSAY_ECORRUPT;
    const ef_para *p = &idx->paras[ordinal];
    if (p->text_off > idx->text_len || p->code_len > idx->text_len - p->text_off ||
        p->text_len > ESSAY_MAX_PARAGRAPH_BYTES)
        return ESSAY_ECORRUPT;
    const essay_tp_model *m;
    int rc = text_model(idx, &m);
    if (rc != 0)
        return rc;
    out->len = 0;
    if (essay_buf_grow(out, (size_t)p->text_len + 1) != 0)
        return ESSAY_ENOMEM;
    if (essay_tp_decode(m, (const uint8_t *)idx->text + p->text_off, p->code_len, out->data,
                        p->text_len) != 0)
        return ESSAY_ECORRUPT;
    /* a trusted (unchecked) file may hold damaged text: never hand out
     * bytes that are not UTF-8 */
    if (essay_utf8_validate(out->data, p->text_len) != p->text_len)
        return ESSAY_ECORRUPT;
    out->len = p->text_len;
    out->data[out->len] = 0;
    return 0;
}

const char *essay_index_article_id(const essay_index *idx, size_t art, size_t *len)
{
    if (art >= idx->n_arts)
        return NULL;
    const ef_article *a = &idx->arts[art];
    if (a->id_off >= idx->text_len || a->id_len >= idx->text_len - a->id_off ||
        idx->text[a->id_off + a->id_len] != 0)
        return NULL;
    *len = a->id_len;
    return idx->text + a->id_off;
}

int essay_index_take_analyzer(const essay_index *cidx, essay_analyzer **out, essay_error *err)
{
    essay_index *idx = (essay_index *)cidx; /* the pool is internal mutable state */
    pthread_mutex_lock(&idx->lock);
    if (idx->n_pool > 0) {
        *out = idx->pool[--idx->n_pool];
        pthread_mutex_unlock(&idx->lock);
        return 0;
    }
    pthread_mutex_unlock(&idx->lock);
    return essay_analyzer_new(out, err);
}

void essay_index_give_analyzer(const essay_index *cidx, essay_analyzer *a)
{
    essay_index *idx = (essay_index *)cidx;
    if (!a)
        return;
    pthread_mutex_lock(&idx->lock);
    if (idx->n_pool < 64 && ESSAY_ARRAY_GROW(idx->pool, idx->cap_pool, idx->n_pool + 1) == 0) {
        idx->pool[idx->n_pool++] = a;
        a = NULL;
    }
    pthread_mutex_unlock(&idx->lock);
    essay_analyzer_free(a);
}

/* ---- the corpus of an index --------------------------------------------- */

static int cmp_id(const void *a, const void *b, void *ctx)
{
    const essay_corpus *c = ctx;
    const essay_article *x = &c->articles[*(const uint32_t *)a];
    const essay_article *y = &c->articles[*(const uint32_t *)b];
    if (x->id_len != y->id_len)
        return x->id_len < y->id_len ? -1 : 1;
    return strcmp(x->id, y->id);
}

static int assemble_corpus(const essay_index *idx, essay_corpus **out, essay_error *err)
{
    essay_corpus *c = essay_calloc(1, sizeof *c);
    if (!c)
        return essay_fail(err, ESSAY_ENOMEM, "out of memory");
    size_t na = idx->n_arts, np = idx->n_paras;
    c->articles = essay_calloc(na ? na : 1, sizeof(essay_article));
    c->paras = essay_calloc(np ? np : 1, sizeof(essay_paragraph));
    c->by_id = essay_calloc(na ? na : 1, sizeof(uint32_t));
    c->paths = essay_calloc(1, sizeof(char *));
    if (!c->articles || !c->paras || !c->by_id || !c->paths)
        goto oom;
    c->n_articles = na;
    c->n_paras = np;
    c->paths[0] = essay_strndup("", 0);
    if (!c->paths[0])
        goto oom;
    c->n_paths = 1;
    /* the texts, decoded into one arena that the corpus owns */
    uint64_t total = 1;
    for (size_t o = 0; o < np; o++) {
        if (idx->paras[o].text_len > ESSAY_MAX_PARAGRAPH_BYTES)
            goto bad;
        total += (uint64_t)idx->paras[o].text_len + 1;
    }
    if (total > SIZE_MAX || !(c->arena = essay_malloc((size_t)total)))
        goto oom;
    c->arena_len = (size_t)total;
    size_t at = 0;
    essay_buf one = ESSAY_BUF_INIT;
    for (size_t o = 0; o < np; o++) {
        const ef_para *r = &idx->paras[o];
        essay_paragraph *p = &c->paras[o];
        int trc = essay_index_para_text(idx, o, &one);
        if (trc == 0)
            memcpy(c->arena + at, one.data, one.len + 1);
        if (trc != 0 || r->article >= na || r->lang > 1) {
            essay_buf_free(&one);
            if (trc == ESSAY_ENOMEM)
                goto oom;
            goto bad;
        }
        p->article = &c->articles[r->article];
        p->text = c->arena + at;
        p->len = r->text_len;
        at += (size_t)r->text_len + 1;
        p->index = r->index;
        p->ordinal = (uint32_t)o;
        p->lang = r->lang;
    }
    essay_buf_free(&one);
    for (size_t i = 0; i < na; i++) {
        const ef_article *r = &idx->arts[i];
        essay_article *a = &c->articles[i];
        size_t len;
        a->id = essay_index_article_id(idx, i, &len);
        if (!a->id)
            goto bad;
        a->id_len = (uint32_t)len;
        a->ordinal = (uint32_t)i;
        if (r->path_off >= idx->text_len || r->path_len >= idx->text_len - r->path_off)
            goto bad;
        a->path = idx->text + r->path_off;
        a->line = r->line;
        a->aligned = (r->flags & EF_ART_ALIGNED) != 0;
        uint64_t first = r->first_para;
        if (first + r->n_para[0] + r->n_para[1] > np)
            goto bad;
        a->n_para[0] = r->n_para[0];
        a->n_para[1] = r->n_para[1];
        a->para[0] = r->n_para[0] ? &c->paras[first] : NULL;
        a->para[1] = r->n_para[1] ? &c->paras[first + r->n_para[0]] : NULL;
        for (int l = 0; l < 2; l++)
            for (uint32_t j = 0; j < a->n_para[l]; j++) {
                const essay_paragraph *p = &a->para[l][j];
                if (p->article != a || p->lang != l || p->index != j)
                    goto bad;
            }
        if (a->aligned && a->n_para[0] != a->n_para[1])
            goto bad;
        c->by_id[i] = (uint32_t)i;
    }
    qsort_r(c->by_id, na, sizeof(uint32_t), cmp_id, c);
    *out = c;
    return 0;
oom:
    essay_corpus_free(c);
    return essay_fail(err, ESSAY_ENOMEM, "out of memory");
bad:
    essay_corpus_free(c);
    return essay_fail(err, ESSAY_ECORRUPT, "damaged index: inconsistent essay table");
}

const essay_corpus *essay_index_corpus(const essay_index *cidx, essay_error *err)
{
    essay_index *idx = (essay_index *)cidx;
    if (!idx) {
        essay_fail(err, ESSAY_EINVAL, "essay_index_corpus: NULL index");
        return NULL;
    }
    pthread_mutex_lock(&idx->lock);
    if (!idx->corpus) {
        essay_corpus *c = NULL;
        if (assemble_corpus(idx, &c, err) == 0)
            idx->corpus = c;
    }
    essay_corpus *c = idx->corpus;
    pthread_mutex_unlock(&idx->lock);
    return c;
}

/* ---- public lifecycle ---------------------------------------------------- */

int essay_index_default(essay_index **out, essay_error *err)
{
    if (out)
        *out = NULL;
    if (!out)
        return essay_fail(err, ESSAY_EINVAL, "essay_index_default: NULL argument");
    essay_corpus *c = NULL;
    int rc = essay_corpus_default(&c, err);
    if (rc != 0)
        return rc;
    essay_build_options o = ESSAY_BUILD_OPTIONS_INIT;
    o.threads = 1;
    rc = essay_index_build(out, c, &o, err);
    essay_corpus_free(c);
    return rc;
}

void essay_index_free(essay_index *idx)
{
    if (!idx)
        return;
    for (size_t i = 0; i < idx->n_pool; i++)
        essay_analyzer_free(idx->pool[i]);
    essay_free(idx->pool);
    essay_corpus_free(idx->corpus);
    essay_free(idx->warnings);
    essay_tp_free(idx->tp);
    essay_free(idx->owned);
    essay_index_unmap(idx);
    pthread_mutex_destroy(&idx->lock);
    pthread_mutex_destroy(&idx->tp_lock);
    essay_free(idx);
}

const void *essay_index_image(const essay_index *idx, size_t *len_out)
{
    if (!idx) {
        if (len_out)
            *len_out = 0;
        return NULL;
    }
    if (len_out)
        *len_out = idx->img_len;
    return idx->img;
}

int essay_index_stats_get(const essay_index *idx, essay_index_stats *out)
{
    if (!idx || !out)
        return ESSAY_EINVAL;
    memset(out, 0, sizeof *out);
    out->essays = idx->meta.n_articles;
    out->paragraphs[0] = idx->meta.n_lang[0];
    out->paragraphs[1] = idx->meta.n_lang[1];
    out->terms = idx->meta.n_terms;
    out->postings = idx->meta.n_postings;
    out->positions = idx->meta.n_positions;
    out->text_bytes = idx->meta.text_bytes;
    out->index_bytes = idx->img_len;
    out->format_version = EF_VERSION;
    memcpy(out->icu_version, idx->icu_version, sizeof out->icu_version);
    memcpy(out->unicode_version, idx->unicode_version, sizeof out->unicode_version);
    out->icu_version[15] = out->unicode_version[15] = 0;
    return 0;
}

size_t essay_index_warning_count(const essay_index *idx)
{
    return idx ? idx->n_warnings : 0;
}

const essay_error *essay_index_warning_at(const essay_index *idx, size_t i)
{
    return idx && i < idx->n_warnings ? &idx->warnings[i] : NULL;
}
