/*
 * build.c - corpus -> index image (format.h).
 *
 * Pipeline: the paragraphs are cut into chunks of about CHUNK_BYTES; worker
 * threads (one analyzer each) analyze chunks in parallel and group each
 * paragraph's tokens by term; the groups are then applied to the global term
 * table strictly in chunk order (one thread at a time, while the others go
 * on analyzing), so postings are appended in document order without any
 * sorting.  Finally terms are sorted by bytes, the hash table is filled and
 * postings are re-encoded into blocks with skip entries.
 */
#define _GNU_SOURCE 1 /* qsort_r */
#include "corpus.h"
#include "hash.h"
#include "index.h"
#include "textpack.h"

#include <math.h>
#include <unicode/uchar.h>
#include <unicode/uversion.h>
#include <errno.h>
#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK_BYTES (256u << 10)

/* ---- per-chunk analysis ---------------------------------------------- */

typedef struct tok_rec {
    uint64_t hash;
    uint32_t off;  /* into chunk term arena: kind byte + term */
    uint32_t len;
    uint32_t pos;
} tok_rec;

/* Every English word token ('S', its stem) is followed by its exact form
 * ('X') at the same position.  The exact forms get no postings of their
 * own: each stem position records which of the stem's forms stood there
 * (format.h), which saves a third of all postings. */

typedef struct chunk {
    size_t first, end;  /* paragraph ordinals */
    essay_buf out;      /* grouped output, see emit_para() */
} chunk;

typedef struct worker_ctx {
    essay_analyzer *an;
    essay_tp_model *tp;    /* byte-pair counts of the text it analyzed */
    tok_rec *toks;
    size_t n_toks, cap_toks;
    essay_buf arena;
    uint32_t max_pos;
    uint32_t *map;         /* per-paragraph term map: group + 1 */
    size_t cap_map;
    struct tgroup *groups;
    size_t cap_groups;
    uint32_t *tgroup;      /* group of each token */
    size_t cap_tgroup;
    uint32_t *pos;         /* positions, grouped */
    uint32_t *twin;        /* per 'S' position: the group of its 'X' form */
    size_t cap_pos, cap_twin;
    int fail;
} worker_ctx;

static char kind_byte(unsigned flags)
{
    switch (flags & ESSAY_TOKEN_KIND_MASK) {
    case ESSAY_TOKEN_WORD: return EF_KIND_STEM;
    case ESSAY_TOKEN_HAN_WORD: return EF_KIND_HANWORD;
    case ESSAY_TOKEN_HAN_UNIGRAM: return EF_KIND_UNI;
    case ESSAY_TOKEN_HAN_BIGRAM: return EF_KIND_BI;
    case ESSAY_TOKEN_EXACT: return EF_KIND_EXACT;
    case ESSAY_TOKEN_COMPOUND: return EF_KIND_COMPOUND;
    default: return EF_KIND_OTHER;
    }
}

static int collect_tok(void *payload, const essay_token *t)
{
    worker_ctx *w = payload;
    if (ESSAY_ARRAY_GROW(w->toks, w->cap_toks, w->n_toks + 1) != 0)
        return ESSAY_ENOMEM;
    size_t off = w->arena.len;
    if (essay_buf_putc(&w->arena, kind_byte(t->flags)) != 0 ||
        essay_buf_put(&w->arena, t->term, t->term_len) != 0)
        return ESSAY_ENOMEM;
    if ((t->flags & ESSAY_TOKEN_KIND_MASK) == ESSAY_TOKEN_EXACT &&
        (w->n_toks == 0 || w->arena.data[w->toks[w->n_toks - 1].off] != EF_KIND_STEM ||
         w->toks[w->n_toks - 1].pos != t->position))
        return ESSAY_EINVAL; /* the analyzer's contract: an exact form follows its word */
    tok_rec *r = &w->toks[w->n_toks++];
    r->off = (uint32_t)off;
    r->len = (uint32_t)(t->term_len + 1);
    r->hash = essay_hash64(w->arena.data + off, r->len);
    r->pos = t->position;
    if (t->position + 1 > w->max_pos)
        w->max_pos = t->position + 1;
    return 0;
}

typedef struct tgroup {
    uint64_t hash;
    uint32_t off, len;  /* term bytes in the worker arena */
    uint32_t count;     /* tokens, then the fill cursor */
    uint32_t start;     /* first slot in the positions array */
} tgroup;

/* Group one paragraph's tokens by term with a small hash map (tokens come
 * in position order, so each group's positions come out sorted), then
 * append: u32 doclen, u32 n_groups, then per group u64 hash, u32 len,
 * bytes[len], u32 tf, u32 pos[tf], and for a stem ('S') u32 twin[tf]: the
 * group of the exact form at each position. */
static int emit_para(worker_ctx *w, essay_buf *out)
{
    size_t n = w->n_toks, need = 16;
    while (need < 2 * n)
        need *= 2;
    if (need > w->cap_map) {
        uint32_t *m = essay_realloc(w->map, need * sizeof(uint32_t));
        if (!m)
            return ESSAY_ENOMEM;
        w->map = m;
        w->cap_map = need;
    }
    if (ESSAY_ARRAY_GROW(w->groups, w->cap_groups, n + 1) != 0 ||
        ESSAY_ARRAY_GROW(w->tgroup, w->cap_tgroup, n + 1) != 0 ||
        ESSAY_ARRAY_GROW(w->pos, w->cap_pos, n + 1) != 0 ||
        ESSAY_ARRAY_GROW(w->twin, w->cap_twin, n + 1) != 0)
        return ESSAY_ENOMEM;
    memset(w->map, 0, need * sizeof(uint32_t));
    size_t mask = need - 1, ng = 0;
    for (size_t i = 0; i < n; i++) {
        const tok_rec *t = &w->toks[i];
        size_t h = (size_t)t->hash & mask;
        uint32_t g;
        for (;;) {
            uint32_t v = w->map[h];
            if (v == 0) {
                g = (uint32_t)ng++;
                w->map[h] = g + 1;
                tgroup *gr = &w->groups[g];
                gr->hash = t->hash;
                gr->off = t->off;
                gr->len = t->len;
                gr->count = 0;
                break;
            }
            const tgroup *gr = &w->groups[v - 1];
            if (gr->hash == t->hash && gr->len == t->len &&
                memcmp(w->arena.data + gr->off, w->arena.data + t->off, t->len) == 0) {
                g = v - 1;
                break;
            }
            h = (h + 1) & mask;
        }
        w->tgroup[i] = g;
        w->groups[g].count++;
    }
    uint32_t at = 0;
    for (size_t g = 0; g < ng; g++) {
        w->groups[g].start = at;
        at += w->groups[g].count;
        w->groups[g].count = 0;
    }
    for (size_t i = 0; i < n; i++) {
        tgroup *gr = &w->groups[w->tgroup[i]];
        uint32_t p = w->toks[i].pos;
        if (gr->count > 0 && w->pos[gr->start + gr->count - 1] == p)
            continue; /* the same term twice at one position */
        w->twin[gr->start + gr->count] =
            i + 1 < n && w->arena.data[w->toks[i + 1].off] == EF_KIND_EXACT ? w->tgroup[i + 1]
                                                                             : UINT32_MAX;
        w->pos[gr->start + gr->count++] = p;
    }
    size_t bytes = 8;
    for (size_t g = 0; g < ng; g++)
        bytes += 16 + w->groups[g].len +
                 (w->arena.data[w->groups[g].off] == EF_KIND_STEM ? 8 : 4) *
                     (size_t)w->groups[g].count;
    if (essay_buf_grow(out, bytes) != 0)
        return ESSAY_ENOMEM;
    char *o = out->data + out->len;
    uint32_t head[2] = { w->max_pos, (uint32_t)ng };
    memcpy(o, head, 8);
    o += 8;
    for (size_t g = 0; g < ng; g++) {
        const tgroup *gr = &w->groups[g];
        memcpy(o, &gr->hash, 8);
        memcpy(o + 8, &gr->len, 4);
        memcpy(o + 12, w->arena.data + gr->off, gr->len);
        o += 12 + gr->len;
        memcpy(o, &gr->count, 4);
        memcpy(o + 4, w->pos + gr->start, 4 * (size_t)gr->count);
        o += 4 + 4 * (size_t)gr->count;
        if (w->arena.data[gr->off] == EF_KIND_STEM) {
            memcpy(o, w->twin + gr->start, 4 * (size_t)gr->count);
            o += 4 * (size_t)gr->count;
        }
    }
    out->len += bytes;
    return 0;
}

static int analyze_chunk(worker_ctx *w, const essay_corpus *c, chunk *ch, essay_error *err)
{
    for (size_t o = ch->first; o < ch->end; o++) {
        const essay_paragraph *p = &c->paras[o];
        w->n_toks = 0;
        w->arena.len = 0;
        w->max_pos = 0;
        int rc = essay_analyzer_run(w->an, p->text, p->len, ESSAY_TOKENIZE_DOCUMENT,
                                    collect_tok, w, err);
        if (rc == ESSAY_ENOMEM)
            return essay_fail(err, ESSAY_ENOMEM, "out of memory while analyzing");
        if (rc == ESSAY_EINVAL)
            return essay_fail(err, ESSAY_EINVAL, "internal error: an exact form without its word");
        if (rc != 0)
            return rc;
        rc = emit_para(w, &ch->out);
        if (rc != 0)
            return essay_fail(err, rc, "out of memory while analyzing");
        essay_tp_count(w->tp, p->text, p->len);
    }
    return 0;
}

/* ---- global term table ------------------------------------------------- */

typedef struct bterm {
    uint64_t hash;
    uint64_t str_off;
    uint32_t str_len;
    uint32_t df;
    uint32_t last_doc;
    uint32_t len, cap;
    uint8_t *buf;   /* varint doc delta, tf, then per position varint delta
                     * (and for a stem, varint variant) */
    uint32_t base;  /* 'X': its stem's index + 1 */
    uint32_t var;   /* 'X': variant number in order of appearance (later
                     * renumbered by bytes); 'S': number of variants */
    uint32_t len2;  /* 'S': canonical numbers handed out so far */
} bterm;

typedef struct builder {
    const essay_corpus *corpus;
    bterm *terms;
    size_t n_terms, cap_terms;
    uint64_t *slots; /* hash high bits | term index + 1 */
    size_t n_slots;
    essay_buf strs;
    uint32_t *doclen;   /* positions per paragraph */
    size_t n_paras;
    uint64_t n_postings, n_positions;
    uint32_t *gterm;      /* apply scratch: term index of each group */
    size_t cap_gterm;
    uint32_t *xterms;     /* every 'X' term, in order of appearance */
    size_t n_x, cap_x;
    /* spilling (essay_index_build_file): when the postings buffers hold
     * more than `budget` bytes, they are written to a temporary file as a
     * run, each term's bytes in term byte order, and emptied.  A term's
     * stream is the concatenation of its pieces in run order (doc deltas
     * continue across runs), so the final pass merges the runs by term. */
    essay_tp_model *tp;       /* the text model: counts, then codes */
    size_t held, budget;
    const char *spill_near;   /* output path: the spill file goes beside it */
    int spill_fd;
    uint64_t spill_len;
    struct spill_run *runs;
    size_t n_runs, cap_runs;
    /* threading */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    chunk *chunks;
    size_t n_chunks, next_chunk, next_apply;
    int failed;
    essay_error err;
    const essay_build_options *opts;
    uint64_t done_paras;
    const uint8_t *norms;  /* set by finish() before encoding */
    double norm_k[256];
} builder;

/* Slots hold (hash high 32 bits << 32) | (term index + 1), so a probe
 * rarely touches the term records (the build's hottest cache misses). */
static int table_grow(builder *b)
{
    size_t n = b->n_slots ? b->n_slots * 2 : 4096;
    uint64_t *s = essay_calloc(n, sizeof(uint64_t));
    if (!s)
        return ESSAY_ENOMEM;
    for (size_t i = 0; i < b->n_terms; i++) {
        size_t h = (size_t)b->terms[i].hash & (n - 1);
        while (s[h])
            h = (h + 1) & (n - 1);
        s[h] = (b->terms[i].hash & 0xFFFFFFFF00000000ull) | (uint64_t)(i + 1);
    }
    essay_free(b->slots);
    b->slots = s;
    b->n_slots = n;
    return 0;
}

/* Index of the term (added when new), or -1 when out of memory. */
static int64_t term_get(builder *b, uint64_t hash, const char *bytes, uint32_t len)
{
    if ((b->n_terms + 1) * 2 > b->n_slots && table_grow(b) != 0)
        return -1;
    size_t mask = b->n_slots - 1, h = (size_t)hash & mask;
    uint64_t hi = hash & 0xFFFFFFFF00000000ull;
    uint64_t v;
    while ((v = b->slots[h]) != 0) {
        if ((v & 0xFFFFFFFF00000000ull) == hi) {
            bterm *t = &b->terms[(uint32_t)v - 1];
            if (t->hash == hash && t->str_len == len &&
                memcmp(b->strs.data + t->str_off, bytes, len) == 0)
                return (uint32_t)v - 1;
        }
        h = (h + 1) & mask;
    }
    if (b->n_terms >= UINT32_MAX - 1 || ESSAY_ARRAY_GROW(b->terms, b->cap_terms, b->n_terms + 1) != 0)
        return -1;
    bterm *t = &b->terms[b->n_terms];
    memset(t, 0, sizeof *t);
    t->hash = hash;
    t->str_off = b->strs.len;
    t->str_len = len;
    if (essay_buf_put(&b->strs, bytes, len) != 0)
        return -1;
    b->slots[h] = hi | (uint64_t)++b->n_terms;
    return (int64_t)b->n_terms - 1;
}

/* Append one paragraph's occurrences to a term: doc delta, tf, position
 * deltas, and for a stem the variant (provisional number) at each. */
static int term_append(builder *b, bterm *t, uint32_t doc, const uint32_t *pos,
                       const uint32_t *var, uint32_t tf)
{
    size_t need = (size_t)t->len + 10 + (var ? 10 : 5) * (size_t)tf;
    if (need > UINT32_MAX)
        return ESSAY_ELIMIT;
    if (need > t->cap) {
        size_t cap = t->cap ? t->cap + t->cap / 2 : 16;
        if (cap < need)
            cap = need;
        if (cap > UINT32_MAX)
            cap = UINT32_MAX;
        uint8_t *nb = essay_realloc(t->buf, cap);
        if (!nb)
            return ESSAY_ENOMEM;
        b->held += cap - t->cap;
        t->buf = nb;
        t->cap = (uint32_t)cap;
    }
    uint8_t *o = t->buf + t->len;
    o += ef_put_varint(o, doc - t->last_doc);
    o += ef_put_varint(o, tf);
    uint32_t last = 0;
    for (uint32_t i = 0; i < tf; i++) {
        uint32_t p;
        memcpy(&p, &pos[i], 4);
        o += ef_put_varint(o, p - last);
        last = p;
        if (var)
            o += ef_put_varint(o, var[i]);
    }
    t->len = (uint32_t)(o - t->buf);
    t->last_doc = doc;
    t->df++;
    return 0;
}

static int spill(builder *b, essay_error *err);
static int cmp_term_ids(const void *a, const void *b, void *ctx);

static int apply_chunk(builder *b, chunk *ch, essay_error *err)
{
    const uint8_t *p = (const uint8_t *)ch->out.data;
    uint32_t vbuf[256];
    for (size_t o = ch->first; o < ch->end; o++) {
        uint32_t head[2];
        memcpy(head, p, sizeof head);
        p += sizeof head;
        b->doclen[o] = head[0];
        if (ESSAY_ARRAY_GROW(b->gterm, b->cap_gterm, (size_t)head[1] + 1) != 0)
            return essay_fail(err, ESSAY_ENOMEM, "out of memory while indexing");
        /* Pass 1: the term of every group (exact forms get their df). */
        const uint8_t *g0 = p;
        for (uint32_t g = 0; g < head[1]; g++) {
            uint64_t hash;
            uint32_t len, tf;
            memcpy(&hash, p, 8);
            memcpy(&len, p + 8, 4);
            memcpy(&tf, p + 12 + len, 4);
            int64_t id = term_get(b, hash, (const char *)p + 12, len);
            if (id < 0)
                return essay_fail(err, ESSAY_ENOMEM, "out of memory while indexing");
            b->gterm[g] = (uint32_t)id;
            bool stem = p[12] == EF_KIND_STEM;
            if (p[12] == EF_KIND_EXACT)
                b->terms[id].df++;
            p += 16 + len + (stem ? 8 : 4) * (size_t)tf;
        }
        /* Pass 2: postings, in group order. */
        p = g0;
        for (uint32_t g = 0; g < head[1]; g++) {
            uint32_t len, tf;
            memcpy(&len, p + 8, 4);
            memcpy(&tf, p + 12 + len, 4);
            const uint32_t *pos = (const uint32_t *)(const void *)(p + 16 + len);
            bool stem = p[12] == EF_KIND_STEM;
            uint32_t id = b->gterm[g];
            int rc = 0;
            if (stem) {
                /* the variant of each position: which exact form stood there */
                const uint8_t *tw = p + 16 + len + 4 * (size_t)tf;
                uint32_t *var = tf <= 256 ? vbuf : essay_malloc(tf * sizeof(uint32_t));
                if (!var)
                    return essay_fail(err, ESSAY_ENOMEM, "out of memory while indexing");
                for (uint32_t i = 0; i < tf && rc == 0; i++) {
                    uint32_t tg;
                    memcpy(&tg, tw + 4 * (size_t)i, 4);
                    if (tg >= head[1]) {
                        rc = ESSAY_EINVAL;
                        break;
                    }
                    bterm *x = &b->terms[b->gterm[tg]];
                    if (x->base == 0) {
                        if (b->terms[id].var >= (1u << EF_MAX_VBITS))
                            rc = ESSAY_ELIMIT;
                        else if (ESSAY_ARRAY_GROW(b->xterms, b->cap_x, b->n_x + 1) != 0)
                            rc = ESSAY_ENOMEM;
                        else {
                            x->base = id + 1;
                            x->var = b->terms[id].var++;
                            b->xterms[b->n_x++] = b->gterm[tg];
                        }
                    } else if (x->base != id + 1) {
                        rc = ESSAY_EINVAL; /* one exact form, two stems */
                    }
                    var[i] = x->var;
                }
                if (rc == 0)
                    rc = term_append(b, &b->terms[id], (uint32_t)o, pos, var, tf);
                if (var != vbuf)
                    essay_free(var);
            } else if (p[12] != EF_KIND_EXACT) {
                rc = term_append(b, &b->terms[id], (uint32_t)o, pos, NULL, tf);
            }
            if (rc != 0)
                return essay_fail(err, rc,
                                  rc == ESSAY_ENOMEM   ? "out of memory while indexing"
                                  : rc == ESSAY_ELIMIT ? "a word has more than 65536 forms, or "
                                                         "a term's postings exceed 4 GiB"
                                                       : "internal error: inconsistent word forms");
            if (p[12] != EF_KIND_EXACT) {
                b->n_postings++;
                b->n_positions += tf;
            }
            p += 16 + len + (stem ? 8 : 4) * (size_t)tf;
        }
    }
    essay_buf_free(&ch->out);
    if (b->budget && b->held > b->budget)
        return spill(b, err);
    return 0;
}

/* ---- worker threads ---------------------------------------------------- */

static void *worker_main(void *arg)
{
    builder *b = arg;
    worker_ctx w;
    memset(&w, 0, sizeof w);
    essay_error err;
    int rc = essay_analyzer_new(&w.an, &err);
    if (rc == 0 && essay_tp_count_new(&w.tp) != 0)
        rc = essay_fail(&err, ESSAY_ENOMEM, "out of memory while indexing");
    for (;;) {
        pthread_mutex_lock(&b->mu);
        if (rc != 0 && !b->failed) {
            b->failed = rc;
            b->err = err;
        }
        if (b->failed || b->next_chunk >= b->n_chunks) {
            pthread_cond_broadcast(&b->cv);
            pthread_mutex_unlock(&b->mu);
            break;
        }
        size_t i = b->next_chunk++;
        pthread_mutex_unlock(&b->mu);

        chunk *ch = &b->chunks[i];
        rc = analyze_chunk(&w, b->corpus, ch, &err);

        pthread_mutex_lock(&b->mu);
        while (rc == 0 && !b->failed && b->next_apply != i)
            pthread_cond_wait(&b->cv, &b->mu);
        bool go = rc == 0 && !b->failed;
        pthread_mutex_unlock(&b->mu);
        if (!go)
            continue; /* loop top records rc / sees failed */
        rc = apply_chunk(b, ch, &err);
        pthread_mutex_lock(&b->mu);
        if (rc == 0) {
            b->next_apply++;
            b->done_paras += ch->end - ch->first;
            if (b->opts && b->opts->progress)
                b->opts->progress(b->opts->progress_payload, b->done_paras, b->n_paras);
        }
        pthread_cond_broadcast(&b->cv);
        pthread_mutex_unlock(&b->mu);
    }
    essay_analyzer_free(w.an);
    if (w.tp) {
        /* the text model counts every paragraph, whichever thread saw it */
        pthread_mutex_lock(&b->mu);
        if (!b->failed && essay_tp_count_merge(b->tp, w.tp) != 0) {
            b->failed = ESSAY_EINVAL;
            essay_fail(&b->err, ESSAY_EINVAL, "internal error: text model");
        }
        pthread_mutex_unlock(&b->mu);
        essay_tp_free(w.tp);
    }
    essay_free(w.toks);
    essay_free(w.map);
    essay_free(w.groups);
    essay_free(w.tgroup);
    essay_free(w.pos);
    essay_free(w.twin);
    essay_buf_free(&w.arena);
    return NULL;
}

/* ---- final encoding ---------------------------------------------------- */

static int cmp_term_ids(const void *a, const void *b, void *ctx)
{
    const builder *bd = ctx;
    const char *g_strs = bd->strs.data;
    const bterm *x = &bd->terms[*(const uint32_t *)a], *y = &bd->terms[*(const uint32_t *)b];
    size_t n = x->str_len < y->str_len ? x->str_len : y->str_len;
    int c = memcmp(g_strs + x->str_off, g_strs + y->str_off, n);
    if (c)
        return c;
    return (x->str_len > y->str_len) - (x->str_len < y->str_len);
}

/* ---- spilling ------------------------------------------------------------ */

typedef struct spill_run {
    uint64_t off, end;      /* its bytes in the spill file */
    /* reading it back (finish) */
    uint8_t *buf;
    size_t blen, bpos;
    bool peeked;
    uint32_t idx, len;      /* the next record's term and length */
} spill_run;

#define SPILL_BUF (64u << 10)

/* Test hook: spill when the buffers hold more than n bytes (0: default). */
static _Atomic size_t spill_budget_override;

void essay_build_spill_budget(size_t n)
{
    atomic_store(&spill_budget_override, n);
}

static int spill_write(builder *b, const void *p, size_t n, essay_error *err)
{
    const uint8_t *q = p;
    while (n > 0) {
        ssize_t w = write(b->spill_fd, q, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return essay_error_set(err, ESSAY_EIO, b->spill_near, 0, 0, 0,
                                   "cannot write temporary postings beside it: %s",
                                   strerror(errno));
        }
        q += w;
        n -= (size_t)w;
        b->spill_len += (uint64_t)w;
    }
    return 0;
}

/* Write every term's buffered postings as one run and empty the buffers. */
static int spill(builder *b, essay_error *err)
{
    if (b->spill_fd < 0) {
        static _Atomic unsigned seq;
        size_t n = strlen(b->spill_near) + 64;
        char *path = essay_malloc(n);
        if (!path)
            return essay_fail(err, ESSAY_ENOMEM, "out of memory while indexing");
#ifdef O_TMPFILE
        /* an unnamed file in the output's directory: nothing can be left
         * behind, even by a kill */
        snprintf(path, n, "%s", b->spill_near);
        char *slash = strrchr(path, '/');
        if (!slash)
            strcpy(path, ".");
        else if (slash == path)
            path[1] = 0;
        else
            *slash = 0;
        b->spill_fd = open(path, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
#endif
        if (b->spill_fd < 0) {
            snprintf(path, n, "%s.spill-%ld-%u", b->spill_near, (long)getpid(),
                     atomic_fetch_add(&seq, 1));
            b->spill_fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
            if (b->spill_fd >= 0)
                unlink(path); /* nothing is left behind once it runs */
        }
        essay_free(path);
        if (b->spill_fd < 0) {
            b->budget = 0; /* cannot spill here: keep building in memory */
            return 0;
        }
    }
    uint32_t *ids = essay_malloc((b->n_terms ? b->n_terms : 1) * sizeof(uint32_t));
    if (!ids || ESSAY_ARRAY_GROW(b->runs, b->cap_runs, b->n_runs + 1) != 0) {
        essay_free(ids);
        return essay_fail(err, ESSAY_ENOMEM, "out of memory while indexing");
    }
    size_t n = 0;
    for (size_t i = 0; i < b->n_terms; i++)
        if (b->terms[i].len > 0)
            ids[n++] = (uint32_t)i;
    qsort_r(ids, n, sizeof(uint32_t), cmp_term_ids, b);
    spill_run *r = &b->runs[b->n_runs];
    memset(r, 0, sizeof *r);
    r->off = b->spill_len;
    essay_buf out = ESSAY_BUF_INIT;
    int rc = 0;
    for (size_t k = 0; k < n && rc == 0; k++) {
        bterm *t = &b->terms[ids[k]];
        uint32_t head[2] = { ids[k], t->len };
        if (essay_buf_put(&out, head, sizeof head) != 0 || essay_buf_put(&out, t->buf, t->len) != 0) {
            rc = essay_fail(err, ESSAY_ENOMEM, "out of memory while indexing");
            break;
        }
        essay_free(t->buf);
        t->buf = NULL;
        t->len = t->cap = 0;
        if (out.len >= SPILL_BUF) {
            rc = spill_write(b, out.data, out.len, err);
            out.len = 0;
        }
    }
    if (rc == 0 && out.len > 0)
        rc = spill_write(b, out.data, out.len, err);
    essay_buf_free(&out);
    essay_free(ids);
    if (rc != 0)
        return rc;
    r->end = b->spill_len;
    b->n_runs++;
    b->held = 0;
#ifdef __GLIBC__
    malloc_trim(0); /* give the emptied buffers' pages back, not just to the heap */
#endif
    return 0;
}

/* Read n bytes of a run into dst (NULL: skip).  False on a short read. */
static bool run_read(const builder *b, spill_run *r, void *dst, size_t n)
{
    uint8_t *d = dst;
    while (n > 0) {
        if (r->bpos == r->blen) {
            uint64_t left = r->end - r->off;
            if (left == 0)
                return false;
            size_t want = left < SPILL_BUF ? (size_t)left : SPILL_BUF;
            ssize_t got = pread(b->spill_fd, r->buf, want, (off_t)r->off);
            if (got <= 0) {
                if (got < 0 && errno == EINTR)
                    continue;
                return false;
            }
            r->off += (uint64_t)got;
            r->blen = (size_t)got;
            r->bpos = 0;
        }
        size_t k = r->blen - r->bpos < n ? r->blen - r->bpos : n;
        if (d) {
            memcpy(d, r->buf + r->bpos, k);
            d += k;
        }
        r->bpos += k;
        n -= k;
    }
    return true;
}

/* The whole stream of term `idx` (its pieces from every run, then what is
 * still buffered) into out.  Runs list terms in byte order, as finish
 * visits them, so each run is read once, front to back. */
static int gather(builder *b, uint32_t idx, essay_buf *out, essay_error *err)
{
    out->len = 0;
    for (size_t i = 0; i < b->n_runs; i++) {
        spill_run *r = &b->runs[i];
        if (!r->peeked) {
            if (r->off == r->end && r->bpos == r->blen)
                continue;
            uint32_t head[2];
            if (!run_read(b, r, head, sizeof head))
                goto bad;
            r->idx = head[0];
            r->len = head[1];
            r->peeked = true;
        }
        if (r->idx != idx)
            continue;
        if (essay_buf_grow(out, r->len) != 0)
            return essay_fail(err, ESSAY_ENOMEM, "out of memory while writing the index");
        if (!run_read(b, r, out->data + out->len, r->len))
            goto bad;
        out->len += r->len;
        r->peeked = false;
    }
    bterm *t = &b->terms[idx];
    if (t->len > 0 && essay_buf_put(out, t->buf, t->len) != 0)
        return essay_fail(err, ESSAY_ENOMEM, "out of memory while writing the index");
    return 0;
bad:
    return essay_error_set(err, ESSAY_EIO, b->spill_near, 0, 0, 0,
                           "cannot read back temporary postings beside it");
}

/* The BM25 tf factor as search computes it (quantized length, the same
 * k table), rounded up to float so that a block's maximum is a true upper
 * bound. */
static float tf_norm(const builder *b, uint32_t doc, uint32_t tf)
{
    double k = b->norm_k[b->norms[doc]];
    double f = tf * (EF_K1 + 1.0) / (tf + k);
    float r = (float)f;
    return (double)r < f ? nextafterf(r, 2.0f * r + 1.0f) : r;
}

/* Re-encode one term's accumulated postings into the block format.  For a
 * stem, `remap` turns provisional variant numbers into canonical ones and
 * `vbits` is their width (0: one form, no variants stored). */
static int encode_postings(const builder *b, const bterm *t, bool stem, const uint32_t *remap,
                           unsigned vbits, essay_buf *out)
{
    size_t nblocks = (t->df + EF_BLOCK - 1) / EF_BLOCK;
    essay_buf docs = ESSAY_BUF_INIT, pos = ESSAY_BUF_INIT;
    ef_skip *skips = NULL;
    int rc = ESSAY_ENOMEM;
    if (nblocks > 1) {
        skips = essay_calloc(nblocks, sizeof(ef_skip));
        if (!skips)
            goto done;
    }
    const uint8_t *p = t->buf, *end = t->buf + t->len;
    uint32_t doc = 0, prev_block_last = 0;
    for (size_t blk = 0; blk < nblocks; blk++) {
        size_t n = t->df - blk * EF_BLOCK < EF_BLOCK ? t->df - blk * EF_BLOCK : EF_BLOCK;
        if (skips) {
            skips[blk].doc_off = (uint32_t)docs.len;
            skips[blk].pos_off = (uint32_t)pos.len;
        }
        float mx = 0;
        uint32_t base = prev_block_last;
        for (size_t d = 0; d < n; d++) {
            uint32_t delta = 0, tf = 0;
            ef_get_varint(&p, end, &delta);
            ef_get_varint(&p, end, &tf);
            doc += delta;
            if (essay_buf_grow(&docs, 16) != 0 || essay_buf_grow(&pos, (size_t)tf * 10) != 0)
                goto done;
            uint8_t *o = (uint8_t *)docs.data + docs.len;
            uint64_t fold = ((uint64_t)(doc - base) << 1) | (tf == 1);
            size_t k = ef_put_varint64(o, fold);
            if (tf != 1)
                k += ef_put_varint(o + k, tf);
            docs.len += k;
            base = doc;
            float f = tf_norm(b, doc, tf);
            if (f > mx)
                mx = f;
            o = (uint8_t *)pos.data + pos.len;
            for (uint32_t i = 0; i < tf; i++) {
                uint32_t v = 0, var = 0;
                ef_get_varint(&p, end, &v);
                if (stem)
                    ef_get_varint(&p, end, &var);
                o += ef_put_varint64(o, ((uint64_t)v << vbits) | (vbits ? remap[var] : 0));
            }
            pos.len = (size_t)(o - (uint8_t *)pos.data);
        }
        prev_block_last = doc;
        if (skips) {
            skips[blk].last_doc = doc;
            skips[blk].max_tfn = mx;
        }
    }
    if (docs.len + pos.len + nblocks * sizeof(ef_skip) + 5 > UINT32_MAX) {
        rc = ESSAY_ELIMIT;
        goto done;
    }
    if (skips) {
        /* Offsets are relative to the end of the skip table; positions
         * follow all doc data. */
        for (size_t blk = 0; blk < nblocks; blk++)
            skips[blk].pos_off += (uint32_t)docs.len;
        if (essay_buf_put(out, skips, nblocks * sizeof(ef_skip)) != 0)
            goto done;
    } else {
        uint8_t tmp[5];
        size_t k = ef_put_varint(tmp, (uint32_t)docs.len);
        if (essay_buf_put(out, tmp, k) != 0)
            goto done;
    }
    if (essay_buf_put(out, docs.data, docs.len) != 0 || essay_buf_put(out, pos.data, pos.len) != 0)
        goto done;
    rc = 0;
done:
    essay_free(skips);
    essay_buf_free(&docs);
    essay_buf_free(&pos);
    return rc;
}

/* ---- output: sections streamed to memory or to a file ----------------- */

#define N_SECTIONS 10u
#define SINK_BUF (1u << 20)

/* Sections are written one after another; each is checksummed as it goes.
 * The header and section table, known last, go into the space reserved at
 * the start.  Into memory (essay_index_build) the image grows in one
 * buffer; into a file (essay_index_build_file) bytes pass through a 1 MB
 * buffer, so neither the text nor the postings are ever held whole. */
typedef struct sink {
    essay_saver *file;     /* NULL: memory */
    essay_buf buf;         /* the image, or the file's write buffer */
    uint64_t off;          /* bytes emitted (file offset) */
    uint8_t table[N_SECTIONS * EF_ENTRY_SIZE];
    unsigned n;
    uint64_t sec_off;
    XXH3_state_t st;
    int rc;
    essay_error *err;
} sink;

static void sink_flush(sink *s)
{
    if (s->file && s->rc == 0 && s->buf.len > 0) {
        s->rc = essay_saver_write(s->file, s->buf.data, s->buf.len, s->err);
        s->buf.len = 0;
    }
}

static void sink_put(sink *s, const void *p, size_t n)
{
    if (s->rc != 0 || n == 0)
        return;
    XXH3_64bits_update(&s->st, p, n);
    s->off += n;
    if (s->file && n >= SINK_BUF) {
        sink_flush(s);
        if (s->rc == 0)
            s->rc = essay_saver_write(s->file, p, n, s->err);
        return;
    }
    if (s->file && s->buf.len + n > SINK_BUF)
        sink_flush(s);
    if (s->rc == 0 && essay_buf_put(&s->buf, p, n) != 0)
        s->rc = essay_fail(s->err, ESSAY_ENOMEM, "out of memory while writing the index");
}

static void sink_pad(sink *s)
{
    static const uint8_t zero[8];
    size_t pad = (size_t)((8 - (s->off & 7)) & 7);
    if (pad == 0 || s->rc != 0)
        return;
    s->off += pad;
    if (s->file && s->buf.len + pad > SINK_BUF)
        sink_flush(s);
    if (s->rc == 0 && essay_buf_put(&s->buf, zero, pad) != 0)
        s->rc = essay_fail(s->err, ESSAY_ENOMEM, "out of memory while writing the index");
}

static void sink_begin(sink *s)
{
    sink_pad(s);
    s->sec_off = s->off;
    XXH3_64bits_reset(&s->st);
}

static void sink_end(sink *s, uint32_t id)
{
    if (s->n >= N_SECTIONS) {
        if (s->rc == 0)
            s->rc = essay_fail(s->err, ESSAY_EINVAL, "internal error: too many sections");
        return;
    }
    uint8_t *e = s->table + s->n++ * EF_ENTRY_SIZE;
    uint32_t flags = 0;
    uint64_t len = s->off - s->sec_off, ck = XXH3_64bits_digest(&s->st);
    memcpy(e, &id, 4);
    memcpy(e + 4, &flags, 4);
    memcpy(e + 8, &s->sec_off, 8);
    memcpy(e + 16, &len, 8);
    memcpy(e + 24, &ck, 8);
}

static void sink_section(sink *s, uint32_t id, const void *p, size_t n)
{
    sink_begin(s);
    sink_put(s, p, n);
    sink_end(s, id);
}

static void sink_open(sink *s, essay_saver *file, essay_error *err)
{
    memset(s, 0, sizeof *s);
    s->file = file;
    s->err = err;
    uint8_t zero[EF_HEADER_SIZE + N_SECTIONS * EF_ENTRY_SIZE];
    memset(zero, 0, sizeof zero);
    XXH3_64bits_reset(&s->st);
    sink_put(s, zero, sizeof zero); /* header and table, written last */
}

/* Header and table into the reserved space. */
static void sink_close(sink *s)
{
    sink_pad(s);
    uint8_t hdr[EF_HEADER_SIZE];
    memset(hdr, 0, sizeof hdr);
    memcpy(hdr, EF_MAGIC, 8);
    uint32_t ver = EF_VERSION, cnt = s->n;
    uint64_t fsize = s->off;
    memcpy(hdr + 8, &ver, 4);
    memcpy(hdr + 12, &cnt, 4);
    memcpy(hdr + 16, &fsize, 8);
    UVersionInfo icu, uni;
    u_getVersion(icu);
    u_getUnicodeVersion(uni);
    u_versionToString(icu, (char *)hdr + 24);
    u_versionToString(uni, (char *)hdr + 40);
    /* table checksum covers header[0,56) and the table */
    XXH3_state_t st;
    XXH3_64bits_reset(&st);
    XXH3_64bits_update(&st, hdr, 56);
    XXH3_64bits_update(&st, s->table, (size_t)s->n * EF_ENTRY_SIZE);
    uint64_t ck = XXH3_64bits_digest(&st);
    memcpy(hdr + 56, &ck, 8);
    if (s->rc != 0)
        return;
    if (!s->file) {
        memcpy(s->buf.data, hdr, sizeof hdr);
        memcpy(s->buf.data + EF_HEADER_SIZE, s->table, (size_t)s->n * EF_ENTRY_SIZE);
        return;
    }
    sink_flush(s);
    if (s->rc == 0)
        s->rc = essay_saver_pwrite(s->file, 0, hdr, sizeof hdr, s->err);
    if (s->rc == 0)
        s->rc = essay_saver_pwrite(s->file, EF_HEADER_SIZE, s->table,
                                   (size_t)s->n * EF_ENTRY_SIZE, s->err);
}

/* Write the image: META TMOD NORM TEXT ARTS PARA POST TERM TSTR HASH.  TEXT
 * comes before ARTS and PARA (which record where each text went) and POST
 * before TERM (which records where each term's postings went). */
static int finish(builder *b, sink *out, essay_error *err)
{
    const essay_corpus *c = b->corpus;
    int rc = ESSAY_ENOMEM;
    /* the term table's lookup slots and the apply scratch are done with */
    essay_free(b->slots);
    b->slots = NULL;
    essay_free(b->gterm);
    b->gterm = NULL;
    uint32_t *order = NULL, *rank = NULL, *remap = NULL, *roff = NULL;
    ef_term *recs = NULL;
    uint32_t *hash = NULL;
    ef_article *arts = NULL;
    essay_buf post = ESSAY_BUF_INIT, tstr = ESSAY_BUF_INIT, stream = ESSAY_BUF_INIT;
    essay_buf coded = ESSAY_BUF_INIT;
    uint32_t *code_len = NULL;
    uint8_t *norms = NULL;
    ef_meta meta;
    memset(&meta, 0, sizeof meta);

    for (size_t o = 0; o < b->n_paras; o++) {
        const essay_paragraph *p = &c->paras[o];
        meta.n_lang[p->lang]++;
        meta.total_len[p->lang] += b->doclen[o];
        meta.text_bytes += p->len;
    }
    meta.n_articles = c->n_articles;
    meta.n_paras = b->n_paras;
    meta.n_terms = b->n_terms;
    meta.n_postings = b->n_postings;
    meta.n_positions = b->n_positions;
    sink_section(out, EF_META, &meta, sizeof meta);

    /* TMOD: the text model, from the counts of every paragraph */
    if (essay_tp_finish(b->tp) != 0)
        goto oom;
    {
        size_t n = essay_tp_serialized_size(b->tp);
        uint8_t *m = essay_malloc(n ? n : 1);
        if (!m)
            goto oom;
        essay_tp_serialize(b->tp, m);
        sink_section(out, EF_TMOD, m, n);
        essay_free(m);
    }
    double avgdl[2];
    for (int l = 0; l < 2; l++)
        avgdl[l] = meta.n_lang[l] && meta.total_len[l]
                       ? (double)meta.total_len[l] / (double)meta.n_lang[l]
                       : 1.0;
    norms = essay_malloc(b->n_paras ? b->n_paras : 1);
    if (!norms)
        goto oom;
    for (size_t o = 0; o < b->n_paras; o++)
        norms[o] = (uint8_t)(c->paras[o].lang << 7 | ef_norm_code(b->doclen[o]));
    ef_norm_table(b->norm_k, avgdl);
    b->norms = norms;
    sink_section(out, EF_NORM, norms, b->n_paras);

    /* TEXT, coded straight from the corpus, each paragraph once; its
     * coded length goes into PARA, the essay ids and paths follow */
    code_len = essay_malloc((b->n_paras ? b->n_paras : 1) * sizeof(uint32_t));
    if (!code_len)
        goto oom;
    uint64_t text_off = 0;
    sink_begin(out);
    for (size_t o = 0; o < b->n_paras; o++) {
        const essay_paragraph *p = &c->paras[o];
        size_t n;
        if (essay_buf_grow(&coded, essay_tp_encode_bound(p->len)) != 0)
            goto oom;
        if (essay_tp_encode(b->tp, p->text, p->len, (uint8_t *)coded.data, &n) != 0 ||
            n > UINT32_MAX) {
            rc = essay_fail(err, ESSAY_EINVAL, "internal error: text model");
            goto done;
        }
        code_len[o] = (uint32_t)n;
        text_off += n;
        sink_put(out, coded.data, n);
    }
    for (size_t i = 0; i < c->n_articles; i++) {
        const essay_article *a = &c->articles[i];
        sink_put(out, a->id, (size_t)a->id_len + 1);
        sink_put(out, a->path, strlen(a->path) + 1);
    }
    sink_end(out, EF_TEXT);

    /* ARTS (their ids and paths are at the end of TEXT) */
    arts = essay_calloc(c->n_articles ? c->n_articles : 1, sizeof(ef_article));
    if (!arts)
        goto oom;
    /* key ranks: essays in id order, then language, then paragraph */
    {
        uint32_t kr = 0;
        for (size_t k = 0; k < c->n_articles; k++) {
            const essay_article *a = &c->articles[c->by_id[k]];
            arts[c->by_id[k]].key_base = kr;
            kr += a->n_para[0] + a->n_para[1];
        }
    }
    for (size_t i = 0; i < c->n_articles; i++) {
        const essay_article *a = &c->articles[i];
        ef_article *r = &arts[i];
        r->id_off = text_off;
        r->id_len = a->id_len;
        text_off += (uint64_t)a->id_len + 1;
        size_t plen = strlen(a->path);
        r->path_off = text_off;
        r->path_len = (uint32_t)plen;
        text_off += (uint64_t)plen + 1;
        uint32_t first = UINT32_MAX;
        for (int l = 0; l < 2; l++)
            if (a->n_para[l] && a->para[l][0].ordinal < first)
                first = a->para[l][0].ordinal;
        r->first_para = first == UINT32_MAX ? 0 : first;
        r->n_para[0] = (uint16_t)a->n_para[0];
        r->n_para[1] = (uint16_t)a->n_para[1];
        r->flags = a->aligned ? EF_ART_ALIGNED : 0;
        r->line = a->line;
    }
    sink_section(out, EF_ARTS, arts, c->n_articles * sizeof(ef_article));

    /* PARA, from the corpus, a batch at a time */
    sink_begin(out);
    {
        ef_para batch[1024];
        size_t nb = 0;
        uint64_t at = 0;
        for (size_t o = 0; o < b->n_paras; o++) {
            const essay_paragraph *p = &c->paras[o];
            ef_para *r = &batch[nb++];
            memset(r, 0, sizeof *r);
            r->text_off = at;
            r->text_len = p->len;
            r->code_len = code_len[o];
            at += code_len[o];
            r->article = p->article->ordinal;
            r->index = (uint16_t)p->index;
            r->lang = p->lang;
            if (nb == ESSAY_ARRAY_LEN(batch) || o + 1 == b->n_paras) {
                sink_put(out, batch, nb * sizeof(ef_para));
                nb = 0;
            }
        }
    }
    sink_end(out, EF_PARA);


    /* POST, term by term in byte order; TERM, TSTR and HASH after it */
    order = essay_malloc((b->n_terms ? b->n_terms : 1) * sizeof(uint32_t));
    rank = essay_malloc((b->n_terms ? b->n_terms : 1) * sizeof(uint32_t));
    recs = essay_calloc(b->n_terms ? b->n_terms : 1, sizeof(ef_term));
    remap = essay_malloc((b->n_x ? b->n_x : 1) * sizeof(uint32_t));
    roff = essay_malloc((b->n_terms ? b->n_terms : 1) * sizeof(uint32_t));
    if (!order || !rank || !recs || !remap || !roff)
        goto oom;
    for (size_t i = 0; i < b->n_terms; i++)
        order[i] = (uint32_t)i;
    qsort_r(order, b->n_terms, sizeof(uint32_t), cmp_term_ids, b);
    for (size_t id = 0; id < b->n_terms; id++)
        rank[order[id]] = (uint32_t)id;
    /* Variants: a stem's exact forms numbered by their bytes (their order
     * in the sorted term list), so the image does not depend on the order
     * in which the forms were met.  remap[roff[stem] + provisional] is the
     * canonical number; an exact form's own number lands in its var. */
    {
        uint32_t at = 0;
        for (size_t i = 0; i < b->n_terms; i++) {
            roff[i] = at;
            if (b->strs.data[b->terms[i].str_off] == EF_KIND_STEM)
                at += b->terms[i].var;
        }
        for (size_t id = 0; id < b->n_terms; id++) {
            bterm *x = &b->terms[order[id]];
            if (b->strs.data[x->str_off] != EF_KIND_EXACT || x->base == 0)
                continue;
            bterm *st = &b->terms[x->base - 1];
            uint32_t canon = st->len2++;
            remap[roff[x->base - 1] + x->var] = canon;
            x->var = canon;
        }
    }
    for (size_t i = 0; i < b->n_runs; i++)
        if (!(b->runs[i].buf = essay_malloc(SPILL_BUF)))
            goto oom;
    sink_begin(out);
    uint64_t post_len = 0;
    for (size_t id = 0; id < b->n_terms; id++) {
        bterm *t = &b->terms[order[id]];
        ef_term *r = &recs[id];
        r->hash = t->hash;
        /* term bytes in sorted order: the image does not depend on the
         * order in which threads met the terms */
        r->str_off = (uint32_t)tstr.len;
        r->str_len = (uint16_t)t->str_len;
        if (essay_buf_put(&tstr, b->strs.data + t->str_off, t->str_len) != 0)
            goto oom;
        r->kind = (uint8_t)b->strs.data[t->str_off];
        r->df = t->df;
        if (r->kind == EF_KIND_EXACT) {
            /* no postings: its stem's, filtered by variant */
            r->post_off = t->base ? rank[t->base - 1] : 0;
            r->post_len = t->var;
        } else {
            unsigned vbits = 0;
            if (r->kind == EF_KIND_STEM)
                while (t->var > 1 && ((t->var - 1) >> vbits) != 0)
                    vbits++;
            r->vbits = (uint8_t)vbits;
            post.len = 0;
            const bterm *src = t;
            bterm whole;
            if (b->n_runs > 0) {
                rc = gather(b, order[id], &stream, err);
                if (rc != 0)
                    goto done;
                whole = *t;
                whole.buf = (uint8_t *)stream.data;
                whole.len = (uint32_t)stream.len;
                src = &whole;
            }
            rc = encode_postings(b, src, r->kind == EF_KIND_STEM, remap + roff[order[id]], vbits,
                                 &post);
            if (rc != 0)
                goto fail;
            r->post_off = post_len;
            r->post_len = (uint32_t)post.len;
            sink_put(out, post.data, post.len);
            post_len += post.len;
        }
        essay_free(t->buf); /* keep the peak down */
        t->buf = NULL;
    }
    sink_end(out, EF_POST);
    sink_section(out, EF_TERM, recs, b->n_terms * sizeof(ef_term));
    sink_section(out, EF_TSTR, tstr.data, tstr.len);
    size_t n_slots = 16;
    while (n_slots < b->n_terms + b->n_terms / 2 + 1)
        n_slots *= 2;
    hash = essay_calloc(n_slots + 1, sizeof(uint32_t));
    if (!hash)
        goto oom;
    hash[0] = (uint32_t)n_slots;
    for (size_t id = 0; id < b->n_terms; id++) {
        size_t h = (size_t)recs[id].hash & (n_slots - 1);
        while (hash[1 + h])
            h = (h + 1) & (n_slots - 1);
        hash[1 + h] = (uint32_t)(id + 1);
    }
    sink_section(out, EF_HASH, hash, (n_slots + 1) * sizeof(uint32_t));
    sink_close(out);
    rc = out->rc;
    goto done;
oom:
    rc = ESSAY_ENOMEM;
fail:
    essay_fail(err, rc, rc == ESSAY_ENOMEM ? "out of memory while writing the index"
                                           : "the index exceeds a format limit");
done:
    essay_free(order);
    essay_free(rank);
    essay_free(remap);
    essay_free(roff);
    essay_free(recs);
    essay_free(hash);
    essay_free(arts);
    essay_buf_free(&post);
    essay_buf_free(&coded);
    essay_free(code_len);
    essay_buf_free(&stream);
    essay_buf_free(&tstr);
    essay_free(norms);
    return rc;
}

static void builder_free(builder *b)
{
    for (size_t i = 0; i < b->n_terms; i++)
        essay_free(b->terms[i].buf);
    essay_free(b->terms);
    essay_free(b->slots);
    essay_free(b->gterm);
    essay_free(b->xterms);
    essay_tp_free(b->tp);
    for (size_t i = 0; i < b->n_runs; i++)
        essay_free(b->runs[i].buf);
    essay_free(b->runs);
    if (b->spill_fd >= 0)
        close(b->spill_fd);
    essay_buf_free(&b->strs);
    essay_free(b->doclen);
    if (b->chunks)
        for (size_t i = 0; i < b->n_chunks; i++)
            essay_buf_free(&b->chunks[i].out);
    essay_free(b->chunks);
}

/* Analyze the corpus into the builder's term table (every core). */
static int build_terms(builder *bp, const essay_corpus *corpus, const essay_build_options *opts,
                       const char *spill_near, essay_error *err)
{
    memset(bp, 0, sizeof *bp); /* the caller frees it, whatever happens */
    bp->spill_fd = -1;
    if (opts && opts->version != ESSAY_BUILD_OPTIONS_VERSION)
        return essay_fail(err, ESSAY_EINVAL, "essay_index_build: unknown options version %u",
                          opts->version);
    if (corpus->n_paras >= UINT32_MAX - 1)
        return essay_fail(err, ESSAY_ELIMIT, "too many paragraphs for one index (%zu)",
                          corpus->n_paras);
#define b (*bp)
    b.corpus = corpus;
    b.opts = opts;
    if (spill_near) {
        /* postings buffers beyond 1/16 of the text go to disk */
        uint64_t text = 0;
        for (size_t o = 0; o < corpus->n_paras; o++)
            text += corpus->paras[o].len;
        uint64_t budget = text / 16;
        if (budget < ((uint64_t)4 << 20))
            budget = (uint64_t)4 << 20;
        if (budget > ((uint64_t)1 << 30))
            budget = (uint64_t)1 << 30;
        size_t over = atomic_load(&spill_budget_override);
        b.budget = over ? over : (size_t)budget;
        b.spill_near = spill_near;
    }
    b.n_paras = corpus->n_paras;
    b.doclen = essay_calloc(b.n_paras ? b.n_paras : 1, sizeof(uint32_t));
    if (!b.doclen || essay_tp_count_new(&b.tp) != 0)
        return essay_fail(err, ESSAY_ENOMEM, "out of memory while indexing");
    /* chunks */
    size_t cap = 0;
    for (size_t o = 0; o < b.n_paras;) {
        size_t bytes = 0, e = o;
        while (e < b.n_paras && (e == o || bytes < CHUNK_BYTES))
            bytes += corpus->paras[e++].len + 1;
        if (ESSAY_ARRAY_GROW(b.chunks, cap, b.n_chunks + 1) != 0)
            return essay_fail(err, ESSAY_ENOMEM, "out of memory while indexing");
        memset(&b.chunks[b.n_chunks], 0, sizeof(chunk));
        b.chunks[b.n_chunks].first = o;
        b.chunks[b.n_chunks].end = e;
        b.n_chunks++;
        o = e;
    }
    unsigned nthreads = opts ? opts->threads : 0;
    if (nthreads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        nthreads = n > 0 ? (unsigned)n : 1;
    }
    if (nthreads > 64)
        nthreads = 64;
    if (nthreads > b.n_chunks)
        nthreads = b.n_chunks ? (unsigned)b.n_chunks : 1;
    pthread_mutex_init(&b.mu, NULL);
    pthread_cond_init(&b.cv, NULL);
    pthread_t tids[64];
    unsigned started = 0;
    for (unsigned i = 1; i < nthreads; i++) {
        if (pthread_create(&tids[started], NULL, worker_main, &b) != 0)
            break; /* fewer threads is fine */
        started++;
    }
    worker_main(&b);
    for (unsigned i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    pthread_mutex_destroy(&b.mu);
    pthread_cond_destroy(&b.cv);
    int rc = b.failed;
    if (rc != 0 && err)
        *err = b.err;
    if (rc == 0 && b.n_runs > 0 && b.budget)
        rc = spill(&b, err); /* the rest too: writing starts from empty buffers */
    return rc;
#undef b
}

int essay_index_build(essay_index **out, const essay_corpus *corpus,
                      const essay_build_options *opts, essay_error *err)
{
    if (out)
        *out = NULL;
    if (!out || !corpus)
        return essay_fail(err, ESSAY_EINVAL, "essay_index_build: NULL argument");
    builder b;
    int rc = build_terms(&b, corpus, opts, NULL, err);
    if (rc != 0) {
        builder_free(&b);
        return rc;
    }
    sink s;
    sink_open(&s, NULL, err);
    rc = finish(&b, &s, err);
    builder_free(&b);
    if (rc != 0) {
        essay_buf_free(&s.buf);
        return rc;
    }
    essay_index *idx = NULL;
    rc = essay_index_from_image(&idx, s.buf.data, s.buf.len, s.buf.data, true, NULL, err);
    if (rc != 0) {
        essay_buf_free(&s.buf);
        return rc;
    }
    *out = idx;
    return 0;
}

int essay_index_build_file(const essay_corpus *corpus, const char *path,
                           const essay_build_options *opts, essay_error *err)
{
    if (!corpus || !path || !*path)
        return essay_fail(err, ESSAY_EINVAL, "essay_index_build_file: NULL argument");
    builder b;
    int rc = build_terms(&b, corpus, opts, path, err);
    if (rc != 0) {
        builder_free(&b);
        return rc;
    }
    essay_saver *sv;
    rc = essay_saver_begin(&sv, path, err);
    if (rc != 0) {
        builder_free(&b);
        return rc;
    }
    sink s;
    sink_open(&s, sv, err);
    rc = finish(&b, &s, err);
    builder_free(&b);
    essay_buf_free(&s.buf);
    if (rc != 0) {
        essay_saver_abort(sv);
        return rc;
    }
    return essay_saver_commit(sv, err);
}
