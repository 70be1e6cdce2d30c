/*
 * search.c - query parsing, evaluation, ranking, highlights and snippets.
 *
 * A query becomes a tree of nodes evaluated document-at-a-time: every node
 * can move to the first matching paragraph >= a target and score it there.
 * Leaves are "slot lists": each slot is a set of terms (one term, or the
 * expansion of a prefix) at a relative position; a leaf with several slots
 * is a phrase whose positions are verified.  A run of Han characters is a
 * phrase of the character pairs it contains (a single character: its
 * unigram), so any literal substring is found and adjacency is exact.
 *
 * Postings are read through cursors that check every byte they decode
 * against the term's bounds; a damaged index makes the search fail with
 * ESSAY_ECORRUPT instead of reading out of bounds.
 */
#define _GNU_SOURCE 1
#include "index.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 32
#define MAX_PREFIX_TERMS 16384u
#define END_DOC UINT32_MAX

/* ---- postings cursor ----------------------------------------------------- */

typedef struct cursor {
    const ef_term *t;
    const uint8_t *data; /* after the skip table / pos_len varint */
    size_t data_len;
    const uint8_t *skips; /* ef_skip[nblocks], unaligned; NULL: one block */
    size_t nblocks, blk;
    uint32_t single_pos_off;
    const uint8_t *dp, *dend; /* doc stream of the current block */
    const uint8_t *pp, *pend; /* positions of the current block */
    uint32_t skip_pos;        /* position varints to skip before pp is current */
    size_t left;              /* docs left in the block after the current one */
    uint32_t doc, tf;         /* tf: positions that pass the variant filter */
    uint32_t rawtf;           /* positions stored for the current doc */
    unsigned vbits;           /* variant bits in each position ('S' terms) */
    bool filter;              /* only positions with variant in [vlo, vhi] */
    uint32_t vlo, vhi;
    uint32_t ndocs;           /* paragraphs in the index: every doc is below */
    bool first;               /* next doc is the term's first (delta may be 0) */
    bool pos_done;            /* positions of the current doc were decoded */
    bool bad;
} cursor;

static void cur_fail(cursor *c)
{
    c->bad = true;
    c->doc = END_DOC;
}

static ef_skip skip_get(const cursor *c, size_t b)
{
    ef_skip s;
    memcpy(&s, c->skips + b * sizeof(ef_skip), sizeof s);
    return s;
}

static bool cur_load_block(cursor *c, size_t b)
{
    uint32_t df = c->t->df;
    size_t n = df - b * EF_BLOCK < EF_BLOCK ? df - b * EF_BLOCK : EF_BLOCK;
    uint32_t doff, dend, poff, pend;
    if (c->skips) {
        ef_skip s = skip_get(c, b), s0 = skip_get(c, 0);
        doff = s.doc_off;
        poff = s.pos_off;
        if (b + 1 < c->nblocks) {
            ef_skip nx = skip_get(c, b + 1);
            dend = nx.doc_off;
            pend = nx.pos_off;
        } else {
            dend = s0.pos_off;
            pend = (uint32_t)c->data_len;
        }
    } else {
        doff = 0;
        dend = c->single_pos_off;
        poff = c->single_pos_off;
        pend = (uint32_t)c->data_len;
    }
    if (doff > dend || dend > c->data_len || poff > pend || pend > c->data_len) {
        cur_fail(c);
        return false;
    }
    c->blk = b;
    c->dp = c->data + doff;
    c->dend = c->data + dend;
    c->pp = c->data + poff;
    c->pend = c->data + pend;
    c->skip_pos = 0;
    c->left = n;
    c->doc = b ? skip_get(c, b - 1).last_doc : 0;
    c->tf = c->rawtf = 0;
    c->first = b == 0;
    c->pos_done = false;
    return true;
}

/* Move to the next stored doc of the current block; false at its end. */
static bool cur_step_raw(cursor *c)
{
    if (c->left == 0)
        return false;
    if (!c->pos_done)
        c->skip_pos += c->rawtf;
    c->pos_done = false;
    uint64_t fold;
    uint32_t tf = 1;
    if (!ef_get_varint64(&c->dp, c->dend, &fold) ||
        (!(fold & 1) && (!ef_get_varint(&c->dp, c->dend, &tf) || tf < 2))) {
        cur_fail(c);
        return false;
    }
    uint64_t delta = fold >> 1;
    if ((delta == 0 && !c->first) || delta > (uint64_t)(END_DOC - 1 - c->doc) ||
        c->skip_pos > UINT32_MAX - tf) {
        cur_fail(c);
        return false;
    }
    c->first = false;
    c->doc += (uint32_t)delta;
    if (c->doc >= c->ndocs) {
        cur_fail(c); /* a damaged list names a paragraph that does not exist */
        return false;
    }
    c->tf = c->rawtf = tf;
    c->left--;
    return true;
}

/* Skip the position varints of earlier docs: pp then starts the current
 * doc's positions. */
static bool cur_sync_positions(cursor *c)
{
    while (c->skip_pos > 0) {
        uint64_t v;
        if (!ef_get_varint64(&c->pp, c->pend, &v)) {
            cur_fail(c);
            return false;
        }
        c->skip_pos--;
    }
    return true;
}

/* Does the current doc have a wanted variant?  Sets tf to the wanted
 * positions; when none, the doc's positions are consumed. */
static bool cur_wanted(cursor *c)
{
    if (!cur_sync_positions(c))
        return false;
    const uint8_t *q = c->pp;
    uint32_t n = 0;
    uint64_t mask = ((uint64_t)1 << c->vbits) - 1;
    for (uint32_t i = 0; i < c->rawtf; i++) {
        uint64_t v;
        if (!ef_get_varint64(&q, c->pend, &v)) {
            cur_fail(c);
            return false;
        }
        uint64_t var = v & mask;
        n += var >= c->vlo && var <= c->vhi;
    }
    if (n > 0) {
        c->tf = n;
        return true; /* pp still starts this doc's positions */
    }
    c->pp = q; /* consumed */
    c->pos_done = true;
    return false;
}

/* Move to the next doc of the current block that has a wanted variant;
 * false at the block's end.  tf counts the wanted positions. */
static bool cur_step(cursor *c)
{
    for (;;) {
        if (!cur_step_raw(c))
            return false;
        if (!c->filter || cur_wanted(c))
            return true;
        if (c->bad)
            return false;
    }
}

/* Cursor on the postings of term `term_id`, keeping only the positions
 * whose variant is in [vlo, vhi] when the term carries variants and the
 * range does not cover them all.  An exact form ('X') reads its stem's
 * postings filtered by its own variant. */
static bool cur_init_range(cursor *c, const essay_index *idx, size_t term_id, uint32_t vlo,
                           uint32_t vhi)
{
    memset(c, 0, sizeof *c);
    const ef_term *t = &idx->terms[term_id];
    c->t = t;
    c->ndocs = (uint32_t)idx->n_paras;
    if (t->kind == EF_KIND_EXACT) {
        const ef_term *st = t->post_off < idx->n_terms ? &idx->terms[t->post_off] : NULL;
        if (!st || st->kind != EF_KIND_STEM || st->vbits > EF_MAX_VBITS ||
            (uint64_t)t->post_len >> st->vbits != 0 || t->df == 0 || t->df > st->df) {
            cur_fail(c);
            return false;
        }
        vlo = vhi = t->post_len;
        t = st;
        c->t = t;
    }
    c->vbits = t->kind == EF_KIND_STEM ? t->vbits : 0;
    if (c->vbits > EF_MAX_VBITS) {
        cur_fail(c);
        return false;
    }
    c->filter = c->vbits > 0 && (vlo > 0 || (uint64_t)vhi < ((uint64_t)1 << c->vbits) - 1);
    c->vlo = vlo;
    c->vhi = vhi;
    if (t->post_off > idx->post_len || t->post_len > idx->post_len - t->post_off || t->df == 0) {
        cur_fail(c);
        return false;
    }
    const uint8_t *p = idx->post + t->post_off;
    size_t len = t->post_len;
    if (t->df > EF_BLOCK) {
        size_t nb = (t->df + EF_BLOCK - 1) / EF_BLOCK;
        if (nb * sizeof(ef_skip) > len) {
            cur_fail(c);
            return false;
        }
        c->skips = p;
        c->nblocks = nb;
        c->data = p + nb * sizeof(ef_skip);
        c->data_len = len - nb * sizeof(ef_skip);
    } else {
        const uint8_t *q = p;
        uint32_t v;
        if (!ef_get_varint(&q, p + len, &v)) {
            cur_fail(c);
            return false;
        }
        c->nblocks = 1;
        c->single_pos_off = v;
        c->data = q;
        c->data_len = len - (size_t)(q - p);
    }
    if (!cur_load_block(c, 0))
        return false;
    if (!c->filter) {
        if (!cur_step(c)) {
            cur_fail(c);
            return false;
        }
        return true;
    }
    /* the first doc with a wanted variant may lie in any block */
    for (;;) {
        if (cur_step(c))
            return true;
        if (c->bad)
            return false;
        if (!c->skips || c->blk + 1 >= c->nblocks) {
            c->doc = END_DOC; /* no wanted variant: a damaged term */
            return true;
        }
        if (!cur_load_block(c, c->blk + 1))
            return false;
    }
}

static bool cur_init(cursor *c, const essay_index *idx, size_t term_id)
{
    return cur_init_range(c, idx, term_id, 0, UINT32_MAX);
}

/* First doc >= target (END_DOC at the end or on damage). */
static void cur_seek(cursor *c, uint32_t target)
{
    if (c->doc >= target)
        return;
    if (c->skips) {
        size_t b = c->blk;
        ef_skip sk = skip_get(c, b);
        if (sk.last_doc < target) {
            /* gallop over the skip entries, then bisect */
            size_t lo = b + 1, step = 1, hi = lo;
            for (;;) {
                if (hi >= c->nblocks) {
                    hi = c->nblocks;
                    break;
                }
                sk = skip_get(c, hi);
                if (sk.last_doc >= target)
                    break;
                lo = hi + 1;
                hi += step;
                step *= 2;
            }
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                sk = skip_get(c, mid);
                if (sk.last_doc < target)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if (lo >= c->nblocks) {
                c->doc = END_DOC;
                return;
            }
            if (!cur_load_block(c, lo))
                return;
        }
    }
    for (;;) {
        /* docs below the target are passed over without looking at their
         * variants; only a candidate is checked */
        if (!cur_step_raw(c)) {
            if (c->bad)
                return;
            /* block exhausted */
            if (!c->skips || c->blk + 1 >= c->nblocks) {
                c->doc = END_DOC;
                return;
            }
            if (!cur_load_block(c, c->blk + 1))
                return;
            continue;
        }
        if (c->doc >= target && (!c->filter || cur_wanted(c)))
            return;
        if (c->bad)
            return;
    }
}

/* Decode the current doc's positions (the wanted ones) into out[tf].
 * False on damage. */
static bool cur_positions(cursor *c, uint32_t *out)
{
    if (!cur_sync_positions(c))
        return false;
    uint64_t p = 0, mask = ((uint64_t)1 << c->vbits) - 1;
    uint32_t n = 0;
    for (uint32_t i = 0; i < c->rawtf; i++) {
        uint64_t v;
        if (!ef_get_varint64(&c->pp, c->pend, &v)) {
            cur_fail(c);
            return false;
        }
        uint64_t d = v >> c->vbits, var = v & mask;
        if ((i > 0 && d == 0) || d > END_DOC - p) {
            cur_fail(c);
            return false;
        }
        p += d;
        if (!c->filter || (var >= c->vlo && var <= c->vhi)) {
            if (n >= c->tf) {
                cur_fail(c);
                return false;
            }
            out[n++] = (uint32_t)p;
        }
    }
    if (n != c->tf) {
        cur_fail(c);
        return false;
    }
    c->pos_done = true; /* the next step must not skip them again */
    return true;
}

/* ---- query tree ---------------------------------------------------------- */

/* One term of a slot: postings of term `id`, restricted to the variants
 * [vlo, vhi] (the exact forms a prefix matched among a stem's forms). */
typedef struct sterm {
    uint32_t id;
    uint32_t vlo, vhi;
    uint32_t df;      /* paragraphs it matches, for idf */
    bool df_sum;      /* df is a sum over merged forms, not exact */
} sterm;

typedef struct slot {
    sterm *terms;     /* none: the slot matches nothing */
    cursor *curs;
    size_t n_terms;
    uint32_t rel;     /* position relative to the phrase start */
    uint32_t width;   /* positions covered: 2 for a Han pair */
    uint32_t doc;     /* smallest current doc of its cursors */
    uint32_t *pos;    /* positions at doc (phrases, highlights) */
    size_t n_pos, cap_pos;
} slot;

enum { N_LEAF, N_AND, N_OR, N_LANG, N_RANGE };

typedef struct node {
    int type;
    bool neg;
    bool started;       /* doc is valid */
    struct node **kids;
    size_t nk;
    uint32_t doc;
    /* leaf */
    slot *slots;
    size_t ns;
    size_t *order;      /* slots by rising df: seek the rarest first */
    double idf;
    uint32_t tf;
    int64_t bonus;      /* 'W' term of a whole Han word, or -1 */
    cursor bonus_cur;
    double bonus_idf;
    bool bonus_live;
    /* filters */
    int lang;
    uint32_t lo, hi;
} node;

typedef struct qctx {
    const essay_index *idx;
    essay_analyzer *an;
    const char *q;
    size_t len, at;
    essay_error *err;
    int rc;
    unsigned depth, n_terms;
    void **allocs;
    size_t n_allocs, cap_allocs;
    node **leaves;        /* positive leaves, for highlights */
    size_t n_leaves, cap_leaves;
    node **all_leaves;    /* every leaf, to check cursor damage */
    size_t n_all, cap_all;
    double n_docs;
    bool bad;
} qctx;

static void *qalloc(qctx *q, size_t size)
{
    if (ESSAY_ARRAY_GROW(q->allocs, q->cap_allocs, q->n_allocs + 1) != 0)
        return NULL;
    void *p = essay_calloc(1, size ? size : 1);
    if (p)
        q->allocs[q->n_allocs++] = p;
    return p;
}

static void q_free(qctx *q)
{
    for (size_t i = 0; i < q->n_all; i++) {
        node *n = q->all_leaves[i];
        for (size_t s = 0; s < n->ns; s++)
            essay_free(n->slots[s].pos);
    }
    for (size_t i = 0; i < q->n_allocs; i++)
        essay_free(q->allocs[i]);
    essay_free(q->allocs);
    essay_free(q->leaves);
    essay_free(q->all_leaves);
}

static int q_error(qctx *q, int code, size_t off, const char *fmt, const char *arg)
{
    if (q->rc == 0) {
        char msg[400];
        snprintf(msg, sizeof msg, fmt, arg);
        q->rc = essay_error_set(q->err, code, "query", 0, 0, off, "%s (at byte %zu)", msg, off);
    }
    return q->rc;
}

static int q_oom(qctx *q)
{
    if (q->rc == 0)
        q->rc = essay_fail(q->err, ESSAY_ENOMEM, "out of memory while searching");
    return q->rc;
}

static double idf_of(const qctx *q, double df)
{
    if (df > q->n_docs)
        df = q->n_docs;
    return log(1.0 + (q->n_docs - df + 0.5) / (df + 0.5));
}

/* ---- lexing -------------------------------------------------------------- */

static uint32_t peek_cp(const qctx *q, size_t at, size_t *n)
{
    uint32_t cp = 0;
    *n = essay_utf8_decode((const unsigned char *)q->q + at, q->len - at, &cp);
    if (*n == 0) {
        *n = 1;
        return 0xFFFD;
    }
    return cp;
}

static bool is_space(uint32_t cp)
{
    return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f' || cp == '\v' ||
           cp == 0x3000 || cp == 0xA0;
}
static bool is_quote(uint32_t cp) { return cp == '"' || cp == 0x201C || cp == 0x201D || cp == 0xFF02; }
static bool is_lparen(uint32_t cp) { return cp == '(' || cp == 0xFF08; }
static bool is_rparen(uint32_t cp) { return cp == ')' || cp == 0xFF09; }

static void skip_space(qctx *q)
{
    while (q->at < q->len) {
        size_t n;
        uint32_t cp = peek_cp(q, q->at, &n);
        if (!is_space(cp))
            break;
        q->at += n;
    }
}

/* Extent of a bare word at q->at. */
static size_t word_end(const qctx *q, size_t at)
{
    while (at < q->len) {
        size_t n;
        uint32_t cp = peek_cp(q, at, &n);
        if (is_space(cp) || is_quote(cp) || is_lparen(cp) || is_rparen(cp))
            break;
        at += n;
    }
    return at;
}

/* ---- leaves -------------------------------------------------------------- */

typedef struct qtok {
    char term[ESSAY_MAX_TOKEN_BYTES + 1];
    size_t len;
    unsigned kind;
    uint32_t pos;
    size_t start, end;
} qtok;

typedef struct qtoks {
    qtok *v;
    size_t n, cap;
    qctx *q;
} qtoks;

static int collect_qtok(void *payload, const essay_token *t)
{
    qtoks *ts = payload;
    if (ts->n >= 4 * ESSAY_MAX_QUERY_TERMS + 16)
        return ESSAY_ELIMIT;
    if (ESSAY_ARRAY_GROW(ts->v, ts->cap, ts->n + 1) != 0)
        return ESSAY_ENOMEM;
    qtok *o = &ts->v[ts->n++];
    o->len = t->term_len;
    memcpy(o->term, t->term, t->term_len);
    o->kind = t->flags & ESSAY_TOKEN_KIND_MASK;
    o->pos = t->position;
    o->start = t->start;
    o->end = t->end;
    return 0;
}

static int64_t lookup_kind(const qctx *q, char kind, const char *term, size_t len)
{
    char key[ESSAY_MAX_TOKEN_BYTES + 2];
    key[0] = kind;
    memcpy(key + 1, term, len);
    return essay_index_lookup(q->idx, key, len + 1);
}

static int slot_add_term(qctx *q, slot *s, uint32_t id, uint32_t vlo, uint32_t vhi, uint32_t df,
                         size_t *cap)
{
    if (s->n_terms == *cap) {
        size_t nc = *cap ? *cap * 2 : 1;
        sterm *t = qalloc(q, nc * sizeof(sterm));
        if (!t)
            return q_oom(q);
        if (s->n_terms)
            memcpy(t, s->terms, s->n_terms * sizeof(sterm));
        s->terms = t;
        *cap = nc;
    }
    s->terms[s->n_terms++] = (sterm){ id, vlo, vhi, df, false };
    return 0;
}

static int cmp_sterm(const void *a, const void *b)
{
    const sterm *x = a, *y = b;
    if (x->id != y->id)
        return (x->id > y->id) - (x->id < y->id);
    return (x->vlo > y->vlo) - (x->vlo < y->vlo);
}

/* Terms whose bytes start with key[0..klen): a range of the sorted list.
 * Exact forms of one stem become one filtered cursor on the stem: the
 * forms that share a prefix are consecutive among the stem's forms (they
 * are numbered in byte order), so a variant range covers them. */
static int expand_prefix(qctx *q, slot *s, const char *key, size_t klen, size_t off)
{
    const essay_index *idx = q->idx;
    size_t lo = 0, hi = idx->n_terms;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2, tl;
        const char *t = essay_index_term_str(idx, mid, &tl);
        if (!t) {
            q->bad = true;
            return 0;
        }
        size_t n = tl < klen ? tl : klen;
        int c = memcmp(t, key, n);
        if (c < 0 || (c == 0 && tl < klen))
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t cap = 0, n = 0;
    for (size_t id = lo; id < idx->n_terms; id++) {
        size_t tl;
        const char *t = essay_index_term_str(idx, id, &tl);
        if (!t || tl < klen || memcmp(t, key, klen) != 0)
            break;
        if (n++ >= MAX_PREFIX_TERMS)
            return q_error(q, ESSAY_ELIMIT, off,
                           "prefix '%s*' matches too many terms; make it longer", key + 1);
        const ef_term *et = &idx->terms[id];
        if (et->kind == EF_KIND_EXACT && et->post_off < idx->n_terms) {
            if (slot_add_term(q, s, (uint32_t)et->post_off, et->post_len, et->post_len, et->df,
                              &cap) != 0)
                return q->rc;
        } else if (slot_add_term(q, s, (uint32_t)id, 0, UINT32_MAX, et->df, &cap) != 0) {
            return q->rc;
        }
    }
    if (s->n_terms > 1) {
        /* merge the forms of each stem into one variant range */
        qsort(s->terms, s->n_terms, sizeof(sterm), cmp_sterm);
        size_t w = 0;
        for (size_t i = 0; i < s->n_terms; i++) {
            if (w > 0 && s->terms[w - 1].id == s->terms[i].id &&
                s->terms[w - 1].vhi != UINT32_MAX && s->terms[i].vhi != UINT32_MAX) {
                sterm *m = &s->terms[w - 1];
                if (s->terms[i].vhi > m->vhi)
                    m->vhi = s->terms[i].vhi;
                m->df = m->df + s->terms[i].df < m->df ? UINT32_MAX : m->df + s->terms[i].df;
                m->df_sum = true;
                continue;
            }
            s->terms[w++] = s->terms[i];
        }
        s->n_terms = w;
    }
    return 0;
}

/* Build a leaf from text q->q[off, off+len).  *out = NULL when the text
 * holds nothing searchable (punctuation, emoji). */
static int make_leaf(qctx *q, size_t off, size_t len, bool quoted, bool prefix, node **out)
{
    *out = NULL;
    qtoks ts = { NULL, 0, 0, q };
    essay_error e;
    int rc = essay_analyzer_run(q->an, q->q + off, len, ESSAY_TOKENIZE_QUERY, collect_qtok, &ts,
                                &e);
    if (rc != 0) {
        essay_free(ts.v);
        if (rc == ESSAY_ENOMEM)
            return q_oom(q);
        if (rc == ESSAY_ELIMIT)
            return q_error(q, ESSAY_ELIMIT, off, "%s", "too many terms in one query word or phrase");
        if (rc == ESSAY_ESYNTAX)
            return q_error(q, ESSAY_ESYNTAX, off + e.offset, "%s", "invalid UTF-8 in the query");
        q->rc = rc;
        if (q->err)
            *q->err = e;
        return rc;
    }
    if (ts.n == 0) {
        essay_free(ts.v);
        return 0;
    }
    /* One entry per position: the base term (English / other script) or
     * the Han character, and the Han pair starting there. */
    uint32_t p0 = ts.v[0].pos, plast = ts.v[ts.n - 1].pos;
    size_t npos = (size_t)(plast - p0) + 1;
    if (npos > 4 * ESSAY_MAX_QUERY_TERMS) {
        essay_free(ts.v);
        return q_error(q, ESSAY_ELIMIT, off, "%s", "too many terms in one query word or phrase");
    }
    int *base = essay_malloc(npos * sizeof(int)), *bi = essay_malloc(npos * sizeof(int));
    if (!base || !bi) {
        essay_free(base);
        essay_free(bi);
        essay_free(ts.v);
        return q_oom(q);
    }
    for (size_t i = 0; i < npos; i++)
        base[i] = bi[i] = -1;
    int hanword = -1;
    bool all_han = true;
    for (size_t i = 0; i < ts.n; i++) {
        qtok *t = &ts.v[i];
        size_t p = t->pos - p0;
        switch (t->kind) {
        case ESSAY_TOKEN_WORD:
            if (!quoted && base[p] < 0)
                base[p] = (int)i;
            all_han = false;
            break;
        case ESSAY_TOKEN_EXACT:
            if (quoted || prefix)
                base[p] = (int)i; /* exact form: quoted words and prefixes */
            break;
        case ESSAY_TOKEN_OTHER:
            if (base[p] < 0)
                base[p] = (int)i;
            all_han = false;
            break;
        case ESSAY_TOKEN_HAN_UNIGRAM:
            base[p] = (int)i;
            break;
        case ESSAY_TOKEN_HAN_BIGRAM:
            bi[p] = (int)i;
            break;
        case ESSAY_TOKEN_HAN_WORD:
            if (t->start == ts.v[0].start && t->end == ts.v[ts.n - 1].end)
                hanword = (int)i;
            break;
        default:
            break;
        }
    }
    node *n = qalloc(q, sizeof(node));
    slot *slots = qalloc(q, npos * sizeof(slot));
    if (!n || !slots) {
        rc = q_oom(q);
        goto out;
    }
    n->type = N_LEAF;
    n->slots = slots;
    n->bonus = -1;
    bool prev_pair = false;
    for (size_t p = 0; p < npos; p++) {
        if (base[p] < 0)
            continue;
        qtok *t = &ts.v[base[p]];
        slot *s = &slots[n->ns];
        s->rel = (uint32_t)p;
        s->width = 1;
        char kind;
        if (t->kind == ESSAY_TOKEN_HAN_UNIGRAM) {
            bool next_han = p + 1 < npos && base[p + 1] >= 0 &&
                            ts.v[base[p + 1]].kind == ESSAY_TOKEN_HAN_UNIGRAM;
            if (bi[p] >= 0 && next_han) {
                t = &ts.v[bi[p]];
                s->width = 2;
                kind = EF_KIND_BI;
                prev_pair = true;
            } else if (prev_pair) {
                prev_pair = false; /* covered by the pair before it */
                continue;
            } else {
                kind = EF_KIND_UNI;
            }
        } else {
            prev_pair = false;
            kind = t->kind == ESSAY_TOKEN_WORD    ? EF_KIND_STEM
                   : t->kind == ESSAY_TOKEN_OTHER ? EF_KIND_OTHER
                                                  : EF_KIND_EXACT;
        }
        if (++q->n_terms > ESSAY_MAX_QUERY_TERMS) {
            rc = q_error(q, ESSAY_ELIMIT, off + t->start, "%s",
                         "too many terms in the query (the limit is ESSAY_MAX_QUERY_TERMS)");
            goto out;
        }
        bool last = p == npos - 1 || (s->width == 2 && p + 1 == npos - 1);
        if (prefix && last && (kind == EF_KIND_EXACT || kind == EF_KIND_OTHER)) {
            char key[ESSAY_MAX_TOKEN_BYTES + 2];
            key[0] = kind;
            memcpy(key + 1, t->term, t->len);
            key[1 + t->len] = 0;
            if (expand_prefix(q, s, key, t->len + 1, off) != 0) {
                rc = q->rc;
                goto out;
            }
        } else {
            int64_t id = lookup_kind(q, kind, t->term, t->len);
            size_t cap = 0;
            if (id >= 0 && slot_add_term(q, s, (uint32_t)id, 0, UINT32_MAX,
                                         q->idx->terms[id].df, &cap) != 0) {
                rc = q->rc;
                goto out;
            }
        }
        n->ns++;
    }
    if (n->ns == 0) {
        rc = 0; /* nothing searchable */
        goto out;
    }
    if (all_han && hanword >= 0 && n->ns >= 1) {
        qtok *t = &ts.v[hanword];
        n->bonus = lookup_kind(q, EF_KIND_HANWORD, t->term, t->len);
    }
    *out = n;
    rc = 0;
out:
    essay_free(base);
    essay_free(bi);
    essay_free(ts.v);
    return rc;
}

/* ---- parser -------------------------------------------------------------- */

static node *parse_or(qctx *q);

static node *new_node(qctx *q, int type)
{
    node *n = qalloc(q, sizeof(node));
    if (!n) {
        q_oom(q);
        return NULL;
    }
    n->type = type;
    n->bonus = -1;
    return n;
}

static int add_kid(qctx *q, node *parent, node *kid, size_t *cap)
{
    if (parent->nk == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        node **k = qalloc(q, nc * sizeof(node *));
        if (!k)
            return q_oom(q);
        if (parent->nk)
            memcpy(k, parent->kids, parent->nk * sizeof(node *));
        parent->kids = k;
        *cap = nc;
    }
    parent->kids[parent->nk++] = kid;
    return 0;
}

static bool word_is(const qctx *q, size_t at, size_t end, const char *w)
{
    size_t n = strlen(w);
    return end - at == n && memcmp(q->q + at, w, n) == 0;
}

static bool ascii_prefix_ci(const char *s, size_t n, const char *p)
{
    size_t pl = strlen(p);
    if (n < pl)
        return false;
    for (size_t i = 0; i < pl; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != p[i])
            return false;
    }
    return true;
}

/* A field filter (lang:, essay:) or NULL when the word is not one. */
static node *parse_field(qctx *q, size_t at, size_t end, bool *is_field)
{
    const char *w = q->q + at;
    size_t n = end - at;
    *is_field = false;
    if (ascii_prefix_ci(w, n, "lang:")) {
        *is_field = true;
        const char *v = w + 5;
        size_t vl = n - 5;
        int lang = -1;
        if (vl == 2 && ascii_prefix_ci(v, 2, "en"))
            lang = ESSAY_LANG_EN;
        else if (vl == 2 && ascii_prefix_ci(v, 2, "zh"))
            lang = ESSAY_LANG_ZH;
        if (lang < 0) {
            q_error(q, ESSAY_ESYNTAX, at + 5, "%s", "lang: takes en or zh");
            return NULL;
        }
        node *f = new_node(q, N_LANG);
        if (f)
            f->lang = lang;
        return f;
    }
    if (ascii_prefix_ci(w, n, "essay:")) {
        *is_field = true;
        const char *v = w + 6;
        size_t vl = n - 6;
        for (size_t i = 0; i < vl; i++)
            if (v[i] < '0' || v[i] > '9')
                vl = 0;
        if (vl == 0 || vl > ESSAY_MAX_ID_LEN) {
            q_error(q, ESSAY_ESYNTAX, at + 6, "%s", "essay: takes an essay id (digits)");
            return NULL;
        }
        node *f = new_node(q, N_RANGE);
        if (!f)
            return NULL;
        f->lo = f->hi = 0; /* empty unless found */
        const essay_index *idx = q->idx;
        for (size_t a = 0; a < idx->n_arts; a++) {
            size_t il;
            const char *id = essay_index_article_id(idx, a, &il);
            if (id && il == vl && memcmp(id, v, vl) == 0) {
                const ef_article *r = &idx->arts[a];
                uint64_t hi = (uint64_t)r->first_para + r->n_para[0] + r->n_para[1];
                if (hi > idx->n_paras) {
                    q->bad = true;
                    break;
                }
                f->lo = r->first_para;
                f->hi = (uint32_t)hi;
                break;
            }
        }
        return f;
    }
    return NULL;
}

static void note_leaf(qctx *q, node *n, bool positive)
{
    if (ESSAY_ARRAY_GROW(q->all_leaves, q->cap_all, q->n_all + 1) == 0)
        q->all_leaves[q->n_all++] = n;
    else
        q_oom(q);
    if (positive) {
        if (ESSAY_ARRAY_GROW(q->leaves, q->cap_leaves, q->n_leaves + 1) == 0)
            q->leaves[q->n_leaves++] = n;
        else
            q_oom(q);
    }
}

/* primary := '(' or ')' | quoted | field | word ; *skip = nothing searchable */
static node *parse_primary(qctx *q, bool negated, bool *skip)
{
    *skip = false;
    size_t n;
    uint32_t cp = peek_cp(q, q->at, &n);
    size_t start = q->at;
    if (is_lparen(cp)) {
        if (++q->depth > MAX_DEPTH) {
            q_error(q, ESSAY_ELIMIT, start, "%s", "parentheses nested too deeply");
            return NULL;
        }
        q->at += n;
        node *inner = parse_or(q);
        if (!inner)
            return NULL;
        skip_space(q);
        if (q->at >= q->len || !is_rparen(peek_cp(q, q->at, &n))) {
            q_error(q, ESSAY_ESYNTAX, start, "%s", "unbalanced '(': missing ')'");
            return NULL;
        }
        q->at += n;
        q->depth--;
        return inner;
    }
    if (is_rparen(cp)) {
        q_error(q, ESSAY_ESYNTAX, start, "%s", "unbalanced ')'");
        return NULL;
    }
    node *leaf = NULL;
    if (is_quote(cp)) {
        size_t from = q->at + n, at = from;
        size_t m = 0;
        while (at < q->len && !is_quote(peek_cp(q, at, &m)))
            at += m;
        if (at >= q->len) {
            q_error(q, ESSAY_ESYNTAX, start, "%s", "unterminated quote");
            return NULL;
        }
        q->at = at + m;
        if (make_leaf(q, from, at - from, true, false, &leaf) != 0)
            return NULL;
    } else {
        size_t end = word_end(q, q->at);
        bool is_field;
        node *f = parse_field(q, q->at, end, &is_field);
        if (is_field) {
            q->at = end;
            return f;
        }
        bool prefix = end - q->at > 1 && q->q[end - 1] == '*';
        if (end - q->at == 1 && q->q[q->at] == '*') {
            q_error(q, ESSAY_ESYNTAX, start, "%s", "'*' must follow a word prefix");
            return NULL;
        }
        size_t wl = end - q->at - (prefix ? 1 : 0);
        q->at = end;
        if (make_leaf(q, start, wl, false, prefix, &leaf) != 0)
            return NULL;
    }
    if (!leaf) {
        *skip = true;
        return NULL;
    }
    note_leaf(q, leaf, !negated);
    return leaf;
}

/* and := unary+ ; unary := '-' primary | 'NOT' primary | primary */
static node *parse_and(qctx *q)
{
    node *and = new_node(q, N_AND);
    if (!and)
        return NULL;
    size_t cap = 0, npos = 0, first_neg = SIZE_MAX;
    size_t begin = q->at;
    bool any = false;
    for (;;) {
        skip_space(q);
        if (q->at >= q->len)
            break;
        size_t n, at = q->at;
        uint32_t cp = peek_cp(q, q->at, &n);
        if (is_rparen(cp) && q->depth > 0)
            break;
        size_t end = word_end(q, q->at);
        if (word_is(q, at, end, "OR") || word_is(q, at, end, "|"))
            break;
        if (word_is(q, at, end, "AND")) {
            q->at = end;
            continue;
        }
        bool neg = false;
        if (word_is(q, at, end, "NOT")) {
            neg = true;
            q->at = end;
            skip_space(q);
        } else if (cp == '-' && q->at + 1 < q->len) {
            size_t m;
            uint32_t nx = peek_cp(q, q->at + 1, &m);
            if (!is_space(nx)) {
                neg = true;
                q->at += 1;
            }
        }
        if (neg && (q->at >= q->len || is_rparen(peek_cp(q, q->at, &n)))) {
            q_error(q, ESSAY_ESYNTAX, at, "%s", "nothing to exclude after '-' / NOT");
            return NULL;
        }
        bool skip;
        node *k = parse_primary(q, neg, &skip);
        if (!k && !skip)
            return NULL;
        any = true;
        if (!k)
            continue;
        k->neg = neg;
        if (neg && first_neg == SIZE_MAX)
            first_neg = at;
        if (!neg)
            npos++;
        if (add_kid(q, and, k, &cap) != 0)
            return NULL;
    }
    if (!any) {
        q_error(q, ESSAY_ESYNTAX, q->at, "%s",
                q->at >= q->len ? "expected a term at the end of the query"
                                : "expected a term");
        return NULL;
    }
    if (npos == 0 && first_neg != SIZE_MAX) {
        q_error(q, ESSAY_ESYNTAX, first_neg, "%s",
                "an excluded term needs a positive term beside it");
        return NULL;
    }
    (void)begin;
    if (and->nk == 1)
        return and->kids[0];
    return and; /* nk == 0: only unsearchable words; matches nothing */
}

static node *parse_or(qctx *q)
{
    node *first = parse_and(q);
    if (!first)
        return NULL;
    node *or = NULL;
    size_t cap = 0;
    for (;;) {
        skip_space(q);
        if (q->at >= q->len)
            break;
        size_t end = word_end(q, q->at);
        if (!(word_is(q, q->at, end, "OR") || word_is(q, q->at, end, "|")))
            break;
        size_t at = q->at;
        q->at = end;
        skip_space(q);
        if (q->at >= q->len) {
            q_error(q, ESSAY_ESYNTAX, at, "%s", "OR needs a term on both sides");
            return NULL;
        }
        node *next = parse_and(q);
        if (!next)
            return NULL;
        if (!or) {
            or = new_node(q, N_OR);
            if (!or || add_kid(q, or, first, &cap) != 0)
                return NULL;
        }
        if (add_kid(q, or, next, &cap) != 0)
            return NULL;
    }
    return or ? or : first;
}

/* ---- evaluation ---------------------------------------------------------- */

static void leaf_prepare(qctx *q, node *n)
{
    const essay_index *idx = q->idx;
    double idf = 0;
    for (size_t s = 0; s < n->ns; s++) {
        slot *sl = &n->slots[s];
        sl->curs = qalloc(q, (sl->n_terms ? sl->n_terms : 1) * sizeof(cursor));
        if (!sl->curs) {
            q_oom(q);
            return;
        }
        double df = 0;
        for (size_t t = 0; t < sl->n_terms; t++) {
            const sterm *st = &sl->terms[t];
            if (!cur_init_range(&sl->curs[t], idx, st->id, st->vlo, st->vhi))
                q->bad = true;
            df += st->df;
        }
        idf += idf_of(q, df < 1 ? 1 : df);
    }
    n->idf = idf;
    n->order = qalloc(q, (n->ns ? n->ns : 1) * sizeof(size_t));
    if (!n->order) {
        q_oom(q);
        return;
    }
    for (size_t s = 0; s < n->ns; s++)
        n->order[s] = s;
    /* rarest slot first (insertion sort: few slots) */
    for (size_t i = 1; i < n->ns; i++) {
        size_t v = n->order[i], j = i;
        double dv = 0, dj;
        for (size_t t = 0; t < n->slots[v].n_terms; t++)
            dv += n->slots[v].terms[t].df;
        while (j > 0) {
            dj = 0;
            const slot *o = &n->slots[n->order[j - 1]];
            for (size_t t = 0; t < o->n_terms; t++)
                dj += o->terms[t].df;
            if (dj <= dv)
                break;
            n->order[j] = n->order[j - 1];
            j--;
        }
        n->order[j] = v;
    }
    if (n->bonus >= 0) {
        n->bonus_live = cur_init(&n->bonus_cur, idx, (size_t)n->bonus);
        if (!n->bonus_live && n->bonus_cur.bad)
            q->bad = true;
        n->bonus_idf = idf_of(q, idx->terms[n->bonus].df);
    }
}

static void prepare(qctx *q, node *n)
{
    if (n->type == N_LEAF)
        leaf_prepare(q, n);
    for (size_t i = 0; i < n->nk; i++)
        prepare(q, n->kids[i]);
}

static uint32_t slot_seek(slot *s, uint32_t target)
{
    uint32_t m = END_DOC;
    for (size_t t = 0; t < s->n_terms; t++) {
        cursor *c = &s->curs[t];
        cur_seek(c, target);
        if (c->doc < m)
            m = c->doc;
    }
    s->doc = m;
    return m;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Positions of the slot at its current doc, sorted.  False on damage/OOM. */
static bool slot_positions(slot *s)
{
    s->n_pos = 0;
    for (size_t t = 0; t < s->n_terms; t++) {
        cursor *c = &s->curs[t];
        if (c->doc != s->doc)
            continue;
        if (c->pos_done)
            return false; /* decoded twice: cannot happen */
        size_t need = s->n_pos + c->tf;
        if (need > s->cap_pos) {
            size_t nc = need * 2;
            uint32_t *p = essay_realloc(s->pos, nc * sizeof(uint32_t));
            if (!p)
                return false;
            s->pos = p;
            s->cap_pos = nc;
        }
        if (!cur_positions(c, s->pos + s->n_pos))
            return false;
        s->n_pos += c->tf;
    }
    if (s->n_terms > 1 && s->n_pos > 1)
        qsort(s->pos, s->n_pos, sizeof(uint32_t), cmp_u32);
    return true;
}

static bool has_pos(const slot *s, uint64_t p)
{
    size_t lo = 0, hi = s->n_pos;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->pos[mid] < p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->n_pos && s->pos[lo] == p;
}

/* Count phrase occurrences at the slots' common doc; positions loaded. */
static uint32_t phrase_count(const node *n, uint32_t *starts, size_t max_starts, size_t *n_starts)
{
    const slot *s0 = &n->slots[0];
    uint32_t count = 0;
    for (size_t i = 0; i < s0->n_pos; i++) {
        if (s0->pos[i] < s0->rel)
            continue;
        uint64_t st = s0->pos[i] - s0->rel;
        bool ok = true;
        for (size_t s = 1; s < n->ns && ok; s++)
            ok = has_pos(&n->slots[s], st + n->slots[s].rel);
        if (ok) {
            if (starts && *n_starts < max_starts)
                starts[(*n_starts)++] = (uint32_t)st;
            count++;
        }
    }
    return count;
}

static void advance(qctx *q, node *n, uint32_t target);

static void leaf_advance(qctx *q, node *n, uint32_t target)
{
    uint32_t d = target;
    if (n->ns == 0) {
        n->doc = END_DOC;
        return;
    }
    for (;;) {
        bool moved = false;
        for (size_t i = 0; i < n->ns; i++) {
            slot *s = &n->slots[n->order[i]];
            uint32_t sd = slot_seek(s, d);
            if (sd == END_DOC) {
                n->doc = END_DOC;
                return;
            }
            if (sd > d) {
                d = sd;
                moved = true;
                break;
            }
        }
        if (moved)
            continue;
        if (n->ns == 1) {
            uint32_t tf = 0;
            for (size_t t = 0; t < n->slots[0].n_terms; t++)
                if (n->slots[0].curs[t].doc == d)
                    tf += n->slots[0].curs[t].tf;
            n->tf = tf;
            n->doc = d;
            return;
        }
        bool ok = true;
        for (size_t s = 0; s < n->ns && ok; s++)
            ok = slot_positions(&n->slots[s]);
        if (!ok) {
            q->bad = true;
            n->doc = END_DOC;
            return;
        }
        uint32_t tf = phrase_count(n, NULL, 0, NULL);
        if (tf > 0) {
            n->tf = tf;
            n->doc = d;
            return;
        }
        if (d == END_DOC - 1) {
            n->doc = END_DOC;
            return;
        }
        d++;
    }
}

static void advance(qctx *q, node *n, uint32_t target)
{
    if (n->started && n->doc >= target)
        return;
    n->started = true;
    switch (n->type) {
    case N_LEAF:
        leaf_advance(q, n, target);
        return;
    case N_LANG: {
        uint32_t d = target;
        while (d < q->idx->n_paras && (q->idx->norms[d] >> 7) != n->lang)
            d++;
        n->doc = d < q->idx->n_paras ? d : END_DOC;
        return;
    }
    case N_RANGE:
        n->doc = target < n->lo ? n->lo : target;
        if (n->doc >= n->hi)
            n->doc = END_DOC;
        return;
    case N_OR: {
        uint32_t m = END_DOC;
        for (size_t i = 0; i < n->nk; i++) {
            node *k = n->kids[i];
            advance(q, k, target);
            if (k->doc < m)
                m = k->doc;
        }
        n->doc = m;
        return;
    }
    case N_AND: {
        uint32_t d = target;
        bool any_pos = false;
        for (size_t i = 0; i < n->nk; i++)
            any_pos |= !n->kids[i]->neg;
        if (!any_pos) {
            n->doc = END_DOC;
            return;
        }
        for (;;) {
            bool moved = false;
            for (size_t i = 0; i < n->nk; i++) {
                node *k = n->kids[i];
                if (k->neg)
                    continue;
                advance(q, k, d);
                if (k->doc == END_DOC) {
                    n->doc = END_DOC;
                    return;
                }
                if (k->doc > d) {
                    d = k->doc;
                    moved = true;
                    break;
                }
            }
            if (moved)
                continue;
            bool excluded = false;
            for (size_t i = 0; i < n->nk && !excluded; i++) {
                node *k = n->kids[i];
                if (!k->neg)
                    continue;
                advance(q, k, d);
                excluded = k->doc == d;
            }
            if (!excluded) {
                n->doc = d;
                return;
            }
            if (d == END_DOC - 1) {
                n->doc = END_DOC;
                return;
            }
            d++;
        }
    }
    }
}

static double bm25(const qctx *q, double idf, uint32_t tf, uint32_t doc)
{
    double k = q->idx->norm_k[q->idx->norms[doc]];
    return idf * (tf * (EF_K1 + 1.0)) / (tf + k);
}

static double score(qctx *q, node *n)
{
    uint32_t d = n->doc;
    switch (n->type) {
    case N_LEAF: {
        double s = bm25(q, n->idf, n->tf, d);
        if (n->bonus_live) {
            cur_seek(&n->bonus_cur, d);
            if (n->bonus_cur.doc == d)
                s += bm25(q, n->bonus_idf, n->bonus_cur.tf, d);
        }
        return s;
    }
    case N_AND:
    case N_OR: {
        double s = 0;
        for (size_t i = 0; i < n->nk; i++)
            if (!n->kids[i]->neg && n->kids[i]->doc == d)
                s += score(q, n->kids[i]);
        return s;
    }
    default:
        return 0;
    }
}

/* ---- results, highlights, snippets --------------------------------------- */

typedef struct rhit {
    uint32_t doc;
    uint32_t key_rank;
    double score;
    essay_span *hl;
    size_t nhl;
    size_t snip_s, snip_e;
    uint32_t pair;
    essay_span *phl;
    size_t nphl;
    essay_buf text, ptext;  /* decoded texts (the index stores them coded) */
} rhit;

struct essay_results {
    const essay_index *idx;
    size_t total;
    rhit *hits;
    size_t n;
};

/* "a is better than b": higher score, then smaller key */
static bool better(const rhit *a, const rhit *b)
{
    if (a->score != b->score)
        return a->score > b->score;
    return a->key_rank < b->key_rank;
}

/* min-heap on "worst at the root" */
static void heap_down(rhit *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && better(&h[w], &h[l]))
            w = l;
        if (r < n && better(&h[w], &h[r]))
            w = r;
        if (w == i)
            return;
        rhit t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

static void heap_up(rhit *h, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!better(&h[p], &h[i]))
            return;
        rhit t = h[i];
        h[i] = h[p];
        h[p] = t;
        i = p;
    }
}

static int cmp_hits(const void *a, const void *b)
{
    return better(a, b) ? -1 : better(b, a) ? 1 : 0;
}

typedef struct marks {
    uint32_t *pos;
    size_t n, cap;
} marks;

static int mark(marks *m, uint32_t p, uint32_t width)
{
    for (uint32_t i = 0; i < width; i++) {
        if (ESSAY_ARRAY_GROW(m->pos, m->cap, m->n + 1) != 0)
            return ESSAY_ENOMEM;
        m->pos[m->n++] = p + i;
    }
    return 0;
}

/* Positions in doc matched by the positive leaves. */
static int collect_marks(qctx *q, uint32_t doc, marks *m)
{
    for (size_t li = 0; li < q->n_leaves; li++) {
        node *n = q->leaves[li];
        if (n->ns == 0)
            continue;
        bool all = true;
        for (size_t s = 0; s < n->ns && all; s++) {
            slot *sl = &n->slots[s];
            bool any = false;
            for (size_t t = 0; t < sl->n_terms; t++) {
                cursor *c = &sl->curs[t];
                const sterm *st = &sl->terms[t];
                if (!cur_init_range(c, q->idx, st->id, st->vlo, st->vhi)) {
                    q->bad = true;
                    continue;
                }
                cur_seek(c, doc);
                any |= c->doc == doc;
            }
            sl->doc = any ? doc : END_DOC;
            all = any;
        }
        if (!all)
            continue;
        for (size_t s = 0; s < n->ns; s++)
            if (!slot_positions(&n->slots[s])) {
                q->bad = true;
                return 0;
            }
        if (n->ns == 1) {
            slot *sl = &n->slots[0];
            for (size_t i = 0; i < sl->n_pos; i++)
                if (mark(m, sl->pos[i], sl->width) != 0)
                    return ESSAY_ENOMEM;
        } else {
            const slot *s0 = &n->slots[0];
            for (size_t i = 0; i < s0->n_pos; i++) {
                if (s0->pos[i] < s0->rel)
                    continue;
                uint64_t st = s0->pos[i] - s0->rel;
                bool ok = true;
                for (size_t s = 1; s < n->ns && ok; s++)
                    ok = has_pos(&n->slots[s], st + n->slots[s].rel);
                if (!ok)
                    continue;
                for (size_t s = 0; s < n->ns; s++)
                    if (mark(m, (uint32_t)(st + n->slots[s].rel), n->slots[s].width) != 0)
                        return ESSAY_ENOMEM;
            }
        }
    }
    if (m->n > 1)
        qsort(m->pos, m->n, sizeof(uint32_t), cmp_u32);
    return 0;
}

typedef struct hl_ctx {
    const marks *m;
    essay_span *sp;
    size_t n, cap;
    int rc;
} hl_ctx;

#define HL_STOP 1

static int hl_tok(void *payload, const essay_token *t)
{
    hl_ctx *h = payload;
    unsigned k = t->flags & ESSAY_TOKEN_KIND_MASK;
    if (k != ESSAY_TOKEN_WORD && k != ESSAY_TOKEN_HAN_UNIGRAM && k != ESSAY_TOKEN_OTHER)
        return 0;
    const marks *m = h->m;
    if (t->position > m->pos[m->n - 1])
        return HL_STOP; /* past the last match: the rest of the text is not needed */
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->pos[mid] < t->position)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo >= m->n || m->pos[lo] != t->position)
        return 0;
    if (h->n > 0 && t->start <= h->sp[h->n - 1].end) {
        if (t->end > h->sp[h->n - 1].end)
            h->sp[h->n - 1].end = t->end; /* adjacent or overlapping: merge */
        return 0;
    }
    if (ESSAY_ARRAY_GROW(h->sp, h->cap, h->n + 1) != 0)
        return ESSAY_ENOMEM;
    h->sp[h->n].start = t->start;
    h->sp[h->n].end = t->end;
    h->n++;
    return 0;
}

static int highlight(qctx *q, uint32_t doc, const char *text, size_t len, essay_span **out,
                     size_t *nout)
{
    *out = NULL;
    *nout = 0;
    marks m = { NULL, 0, 0 };
    int rc = collect_marks(q, doc, &m);
    if (rc != 0 || m.n == 0) {
        essay_free(m.pos);
        return rc;
    }
    hl_ctx h = { &m, NULL, 0, 0, 0 };
    essay_error e;
    rc = essay_analyzer_run(q->an, text, len, ESSAY_TOKENIZE_DOCUMENT | ESSAY_ANALYZE_POSITIONS,
                            hl_tok, &h, &e);
    essay_free(m.pos);
    if (rc == HL_STOP)
        rc = 0;
    if (rc == ESSAY_ESYNTAX) {
        q->bad = true; /* stored text is not UTF-8: damaged */
        rc = 0;
    }
    if (rc != 0) {
        essay_free(h.sp);
        return rc == ESSAY_ENOMEM ? ESSAY_ENOMEM : rc;
    }
    *out = h.sp;
    *nout = h.n;
    return 0;
}

static bool is_cont(unsigned char c) { return (c & 0xC0) == 0x80; }

/* Snippet of about `want` bytes around the densest group of spans. */
static void snippet(const char *text, size_t len, const essay_span *sp, size_t n, size_t want,
                    size_t *s_out, size_t *e_out)
{
    if (len <= want || want == 0) {
        *s_out = 0;
        *e_out = len;
        return;
    }
    size_t best = 0, best_count = 0;
    for (size_t i = 0; i < n; i++) {
        size_t c = 0;
        for (size_t j = i; j < n && sp[j].end <= sp[i].start + want; j++)
            c++;
        if (c > best_count) {
            best_count = c;
            best = i;
        }
    }
    size_t a = 0;
    if (n > 0) {
        size_t lead = want / 4;
        a = sp[best].start > lead ? sp[best].start - lead : 0;
    }
    if (a + want > len)
        a = len - want;
    size_t e = a + want;
    /* prefer to start after a space, within a few bytes */
    for (size_t k = a, lim = a + 24; a > 0 && k < lim && k < len; k++)
        if (text[k] == ' ') {
            if (n == 0 || k + 1 <= sp[best].start)
                a = k + 1;
            break;
        }
    while (a > 0 && a < len && is_cont((unsigned char)text[a]))
        a--;
    while (e < len && is_cont((unsigned char)text[e]))
        e++;
    for (size_t k = e, lim = e > 24 ? e - 24 : 0; e < len && k > lim && k > a; k--)
        if (text[k - 1] == ' ') {
            e = k - 1;
            break;
        }
    *s_out = a;
    *e_out = e;
}

/* Offer a scored paragraph to the top-k heap. */
static inline void offer(const essay_index *idx, rhit *heap, size_t *nheap, size_t k, uint32_t d,
                         double sc)
{
    /* the key (a paragraph record read) only when the hit may enter */
    if (k == 0 || (*nheap == k && sc < heap[0].score))
        return;
    rhit h;
    memset(&h, 0, sizeof h);
    h.doc = d;
    h.score = sc;
    h.key_rank = essay_index_key_rank(idx, d);
    if (*nheap < k) {
        heap[(*nheap)++] = h;
        heap_up(heap, *nheap - 1);
    } else if (better(&h, &heap[0])) {
        heap[0] = h;
        heap_down(heap, *nheap, 0);
    }
}

typedef struct bmax {
    float v;
    uint32_t b;
} bmax;

static void bmax_down(bmax *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && (h[l].v > h[m].v || (h[l].v == h[m].v && h[l].b < h[m].b)))
            m = l;
        if (r < n && (h[r].v > h[m].v || (h[r].v == h[m].v && h[r].b < h[m].b)))
            m = r;
        if (m == i)
            return;
        bmax t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

/* Score every doc of the cursor's loaded block into the top k. */
static void single_block(qctx *q, node *n, cursor *c, rhit *heap, size_t *nheap, size_t k)
{
    while (cur_step(c)) {
        uint32_t d = c->doc;
        double sc = bm25(q, n->idf, c->tf, d);
        if (n->bonus_live) {
            /* blocks come in any order: the bonus cursor may need to go back */
            if (n->bonus_cur.doc > d && !cur_init(&n->bonus_cur, q->idx, (size_t)n->bonus))
                q->bad = true;
            cur_seek(&n->bonus_cur, d);
            if (n->bonus_cur.doc == d)
                sc += bm25(q, n->bonus_idf, n->bonus_cur.tf, d);
        }
        offer(q->idx, heap, nheap, k, d, sc);
    }
}

/* Top k of a one-term query, block by block (block-max pruning). */
static void topk_single(qctx *q, node *n, rhit *heap, size_t *nheap, size_t k)
{
    cursor *c = &n->slots[0].curs[0];
    if (c->bad || c->doc == END_DOC)
        return;
    double bonus_max = 0.0;
    if (n->bonus_live) {
        /* the whole-word bonus is bounded by its own best block */
        const cursor *bc = &n->bonus_cur;
        double m = 0.0;
        if (bc->skips) {
            for (size_t b = 0; b < bc->nblocks; b++) {
                double v = (double)skip_get(bc, b).max_tfn;
                if (v > m)
                    m = v;
            }
        } else {
            m = EF_K1 + 1.0;
        }
        bonus_max = n->bonus_idf * m * (1.0 + 1e-9);
    }
    if (!c->skips) {
        if (cur_load_block(c, 0))
            single_block(q, n, c, heap, nheap, k);
    } else {
        /* Visit blocks best first (a max-heap on the block maxima, popped
         * lazily): the top k fills with high scores at once, and the first
         * block whose bound cannot beat the k-th score ends the walk. */
        size_t nb = c->nblocks;
        bmax *bh = essay_malloc(nb * sizeof(bmax));
        if (!bh) {
            q_oom(q);
            return;
        }
        for (size_t b = 0; b < nb; b++) {
            bh[b].v = skip_get(c, b).max_tfn;
            bh[b].b = (uint32_t)b;
        }
        for (size_t i = nb / 2; i-- > 0;)
            bmax_down(bh, nb, i);
        while (nb > 0 && !c->bad) {
            bmax top = bh[0];
            bh[0] = bh[--nb];
            bmax_down(bh, nb, 0);
            double bound = n->idf * (double)top.v * (1.0 + 1e-9) + bonus_max;
            if (*nheap == k && bound < heap[0].score)
                break;
            if (!cur_load_block(c, top.b))
                break;
            single_block(q, n, c, heap, nheap, k);
        }
        essay_free(bh);
    }
    if (c->bad || n->bonus_cur.bad)
        q->bad = true;
}

static void results_free_hits(rhit *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        essay_free(h[i].hl);
        essay_free(h[i].phl);
        essay_buf_free(&h[i].text);
        essay_buf_free(&h[i].ptext);
    }
}

/* Decode a hit's (or its pair's) text: ENOMEM fails the search, damage
 * marks it bad (ECORRUPT). */
static int hit_text(qctx *q, uint32_t doc, essay_buf *out)
{
    int rc = essay_index_para_text(q->idx, doc, out);
    if (rc == ESSAY_ENOMEM)
        return q_oom(q);
    if (rc != 0)
        q->bad = true;
    return 0;
}

int essay_index_search(const essay_index *idx, const char *query, size_t len,
                       const essay_search_options *opts, essay_results **out, essay_error *err)
{
    if (out)
        *out = NULL;
    if (!idx || !query || !out)
        return essay_fail(err, ESSAY_EINVAL, "essay_index_search: NULL argument");
    essay_search_options o = ESSAY_SEARCH_OPTIONS_INIT;
    if (opts) {
        if (opts->version != ESSAY_SEARCH_OPTIONS_VERSION)
            return essay_fail(err, ESSAY_EINVAL, "essay_index_search: unknown options version %u",
                              opts->version);
        o = *opts;
    }
    if (o.lang < -1 || o.lang > 1)
        return essay_fail(err, ESSAY_EINVAL, "essay_index_search: bad language %d", o.lang);
    if (len == SIZE_MAX)
        len = strlen(query);
    if (len > ESSAY_MAX_QUERY_BYTES)
        return essay_error_set(err, ESSAY_ELIMIT, "query", 0, 0, ESSAY_MAX_QUERY_BYTES,
                               "query of %zu bytes is longer than the limit of %u bytes", len,
                               ESSAY_MAX_QUERY_BYTES);
    size_t bad_utf8 = essay_utf8_validate(query, len);
    if (bad_utf8 < len)
        return essay_error_set(err, ESSAY_ESYNTAX, "query", 0, 0, bad_utf8,
                               "invalid UTF-8 in the query (at byte %zu)", bad_utf8);
    size_t limit = o.limit == 0 || o.limit > ESSAY_MAX_RESULTS ? ESSAY_MAX_RESULTS : o.limit;
    if (o.offset > ESSAY_MAX_RESULTS)
        o.offset = ESSAY_MAX_RESULTS;
    size_t k = o.offset + limit;
    if (k > ESSAY_MAX_RESULTS)
        k = ESSAY_MAX_RESULTS;

    qctx q;
    memset(&q, 0, sizeof q);
    q.idx = idx;
    q.q = query;
    q.len = len;
    q.err = err;
    q.n_docs = idx->n_paras ? (double)idx->n_paras : 1.0;
    int rc = essay_index_take_analyzer(idx, &q.an, err);
    if (rc != 0)
        return rc;
    essay_results *res = NULL;
    rhit *heap = NULL;
    size_t nheap = 0, total = 0;

    skip_space(&q);
    if (q.at >= q.len) {
        rc = essay_error_set(err, ESSAY_ESYNTAX, "query", 0, 0, 0, "empty query");
        goto done;
    }
    node *root = parse_or(&q);
    if (!root) {
        rc = q.rc ? q.rc : q_error(&q, ESSAY_ESYNTAX, q.at, "%s", "malformed query");
        goto done;
    }
    skip_space(&q);
    if (q.at < q.len) {
        rc = q_error(&q, ESSAY_ESYNTAX, q.at, "%s", "unexpected text (unbalanced ')'?)");
        goto done;
    }
    prepare(&q, root);
    if (q.rc) {
        rc = q.rc;
        goto done;
    }
    heap = essay_malloc((k ? k : 1) * sizeof(rhit));
    if (!heap) {
        rc = q_oom(&q);
        goto done;
    }
    if (o.lang < 0 && root->type == N_LEAF && root->ns == 1 && root->slots[0].n_terms == 1 &&
        !root->slots[0].terms[0].df_sum) {
        /* one term: the total is its df, and blocks whose best possible
         * score cannot enter the top k are skipped undecoded */
        total = root->slots[0].terms[0].df;
        topk_single(&q, root, heap, &nheap, k);
        goto ranked;
    }
    advance(&q, root, 0);
    while (root->doc != END_DOC && !q.bad) {
        uint32_t d = root->doc;
        if (o.lang < 0 || (idx->norms[d] >> 7) == o.lang) {
            total++;
            offer(idx, heap, &nheap, k, d, score(&q, root));
        }
        if (d == END_DOC - 1)
            break;
        advance(&q, root, d + 1);
    }
ranked:
    for (size_t i = 0; i < q.n_all && !q.bad; i++) {
        node *n = q.all_leaves[i];
        for (size_t s = 0; s < n->ns; s++)
            for (size_t t = 0; t < n->slots[s].n_terms; t++)
                q.bad |= n->slots[s].curs[t].bad;
    }
    if (q.rc) {
        rc = q.rc;
        goto done;
    }
    if (nheap > 1)
        qsort(heap, nheap, sizeof(rhit), cmp_hits);
    res = essay_calloc(1, sizeof *res);
    if (!res) {
        rc = q_oom(&q);
        goto done;
    }
    res->idx = idx;
    res->total = total;
    size_t first = o.offset < nheap ? o.offset : nheap;
    res->n = nheap - first;
    res->hits = essay_calloc(res->n ? res->n : 1, sizeof(rhit));
    if (!res->hits) {
        rc = q_oom(&q);
        goto done;
    }
    memcpy(res->hits, heap + first, res->n * sizeof(rhit));
    for (size_t i = 0; i < res->n; i++) {
        res->hits[i].text = (essay_buf)ESSAY_BUF_INIT;
        res->hits[i].ptext = (essay_buf)ESSAY_BUF_INIT;
    }
    for (size_t i = 0; i < res->n && !q.bad; i++) {
        rhit *h = &res->hits[i];
        rc = hit_text(&q, h->doc, &h->text);
        if (rc != 0)
            goto done;
        if (q.bad)
            break;
        const char *text = h->text.data;
        size_t tl = h->text.len;
        h->pair = (o.flags & ESSAY_SEARCH_NO_PAIR) ? EF_NO_PAIR : essay_index_pair(idx, h->doc);
        if (h->pair != EF_NO_PAIR) {
            const ef_para *a = &idx->paras[h->doc], *b;
            if (h->pair >= idx->n_paras || (b = &idx->paras[h->pair], b->article != a->article) ||
                b->index != a->index || (b->lang & 1) == (a->lang & 1)) {
                q.bad = true; /* a pair must be the same paragraph of the other language */
                break;
            }
            rc = hit_text(&q, h->pair, &h->ptext);
            if (rc != 0)
                goto done;
            if (q.bad)
                break;
        }
        h->snip_s = 0;
        h->snip_e = tl;
        if (o.flags & ESSAY_SEARCH_NO_HIGHLIGHT)
            continue;
        rc = highlight(&q, h->doc, text, tl, &h->hl, &h->nhl);
        if (rc == 0 && h->pair != EF_NO_PAIR)
            rc = highlight(&q, h->pair, h->ptext.data, h->ptext.len, &h->phl, &h->nphl);
        if (rc != 0) {
            rc = q_oom(&q);
            goto done;
        }
        snippet(text, tl, h->hl, h->nhl, o.snippet_bytes, &h->snip_s, &h->snip_e);
    }
    if (q.bad) {
        rc = essay_fail(err, ESSAY_ECORRUPT, "damaged index: a postings list failed to decode");
        goto done;
    }
    *out = res;
    res = NULL;
    rc = 0;
done:
    if (res) {
        if (res->hits)
            results_free_hits(res->hits, res->n);
        essay_free(res->hits);
        essay_free(res);
    }
    essay_free(heap);
    essay_index_give_analyzer(idx, q.an);
    q_free(&q);
    return rc;
}

size_t essay_results_count(const essay_results *res)
{
    return res ? res->n : 0;
}

size_t essay_results_total(const essay_results *res)
{
    return res ? res->total : 0;
}

int essay_results_hit(const essay_results *res, size_t i, essay_hit *hit)
{
    if (!res || !hit || i >= res->n)
        return ESSAY_EINVAL;
    const essay_index *idx = res->idx;
    const rhit *h = &res->hits[i];
    const ef_para *p = &idx->paras[h->doc];
    memset(hit, 0, sizeof *hit);
    hit->essay = essay_index_article_id(idx, p->article, &hit->essay_len);
    if (!hit->essay) {
        hit->essay = "";
        hit->essay_len = 0;
    }
    hit->lang = (essay_lang)(p->lang & 1);
    hit->para = p->index;
    hit->score = h->score;
    hit->text = h->text.data ? h->text.data : "";
    hit->text_len = h->text.len;
    hit->highlights = h->hl;
    hit->n_highlights = h->nhl;
    hit->snippet_start = h->snip_s;
    hit->snippet_end = h->snip_e;
    if (h->pair != EF_NO_PAIR) {
        const ef_para *pp = &idx->paras[h->pair];
        hit->has_pair = 1;
        hit->pair_lang = (essay_lang)(pp->lang & 1);
        hit->pair_para = pp->index;
        hit->pair_text = h->ptext.data ? h->ptext.data : "";
        hit->pair_text_len = h->ptext.len;
        hit->pair_highlights = h->phl;
        hit->n_pair_highlights = h->nphl;
    }
    return 0;
}

void essay_results_free(essay_results *res)
{
    if (!res)
        return;
    results_free_hits(res->hits, res->n);
    essay_free(res->hits);
    essay_free(res);
}
