/*
 * build.c - corpus -> index image (format.h).
 *
 * Pipeline: the paragraphs are cut into chunks of about CHUNK_BYTES, which
 * worker threads take in order from a shared counter.  Each worker owns a
 * part: an analyzer and a term table of its own, into which it analyzes
 * and inverts its chunks with no lock at all, so every core stays busy
 * until the corpus is done.  A worker takes chunks in increasing order, so
 * each of its postings lists is in document order.  When a worker runs
 * out of chunks it sorts its terms by bytes (the others still analyzing).
 * finish() then merges the parts' sorted term lists into one, merges each
 * term's postings from the parts by document, and re-encodes them into
 * blocks with skip entries; the image does not depend on the number of
 * threads nor on which chunk went where.
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
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK_BYTES (256u << 10)
#define MAX_THREADS 64
#define TFN_TAB 32u

/* ---- per-paragraph analysis -------------------------------------------- */

typedef struct tok_rec {
    uint64_t hash;  /* unresolved: the term's hash */
    uint64_t key;   /* unresolved: the id cache entry to fill (fill) */
    uint32_t id;    /* term index in the part, TOK_UNRESOLVED until known */
    uint32_t off;   /* unresolved: kind byte + term in the worker's arena */
    uint32_t len;
    uint32_t pos;
    uint8_t kind;   /* EF_KIND_* */
    uint8_t fill;   /* FILL_* */
} tok_rec;

#define TOK_UNRESOLVED UINT32_MAX
#define TOK_PAIR (UINT32_MAX - 1) /* a Han pair not looked up yet */

/* Every English word token ('S', its stem) is followed by its exact form
 * ('X') at the same position.  The exact forms get no postings of their
 * own: each stem position records which of the stem's forms stood there
 * (format.h), which saves a third of all postings.
 *
 * Most tokens never reach the term table: three id caches name their term
 * first.  A word from the analyzer's word cache carries its slot
 * (ESSAY_ANALYZE_WORDREF), which keeps the ids of its stem and exact form
 * for the cache's generation; a Han character is its code point, a Han
 * pair the two.  Only the rest is hashed and looked up, a paragraph's
 * lookups together, and their ids then go into the caches. */
enum { FILL_NONE, FILL_STEM, FILL_EXACT, FILL_UNI, FILL_BI };

typedef struct word_ids {
    uint32_t gen;     /* the analyzer cache's generation they belong to */
    uint32_t id[2];   /* stem, exact form: term index + 1, 0 unknown */
} word_ids;

#define HAN_CPS 0x110000u

typedef struct chunk {
    size_t first, end;  /* paragraph ordinals */
} chunk;

typedef struct tgroup {
    uint32_t id;        /* term index in the part */
    uint32_t count;     /* tokens, then the fill cursor */
    uint32_t start;     /* first slot in the positions array */
    uint8_t kind;
} tgroup;

typedef struct worker_ctx {
    essay_analyzer *an;
    essay_tp_model *tp;    /* byte-pair counts of the text it analyzed */
    tok_rec *toks;
    size_t n_toks, cap_toks;
    uint32_t *pairs, *lookups; /* tokens to find in the pair table, by bytes */
    size_t n_pairs, n_lookups;
    essay_buf arena;
    uint32_t max_pos;
    uint32_t *gmap;        /* per term of the part: its group + 1 in the
                            * paragraph being grouped, else 0 */
    size_t cap_gmap;
    tgroup *groups;
    size_t n_groups, cap_groups;
    uint32_t *tgroup;      /* group of each token */
    size_t cap_tgroup;
    uint32_t *pos;         /* positions, grouped */
    uint32_t *twin;        /* per 'S' position: the group of its 'X' form */
    size_t cap_pos, cap_twin;
    uint32_t *var;         /* variants of one stem's positions */
    size_t cap_var;
    /* id caches */
    const uint32_t *gen;   /* the analyzer's word cache generation */
    word_ids *words;       /* ESSAY_ANALYZE_REF_SLOTS */
    uint32_t *uni;         /* folded Han code point -> term index + 1 */
    uint64_t *bi;          /* Han pair: key << BI_ID_BITS | term index; 0 empty */
    size_t n_bi, cap_bi;
    const struct part *pt; /* the part it fills */
} worker_ctx;

static inline void prefetch_term(const worker_ctx *w, uint32_t id);

/* The hash of a term (kind byte + bytes) in the build's tables: the
 * bytes seeded with the kind.  Taken from the analyzer's output rather than
 * from the copy just stored (a load across the two fresh stores would stall),
 * so it is not the index file's term hash, which finish computes. */
static inline uint64_t term_hash(unsigned char kind, const char *bytes, size_t len)
{
    uint64_t h = XXH3_64bits_withSeed(bytes, len, kind);
#if defined(ESSAY_TEST_HASH_BITS) && ESSAY_TEST_HASH_BITS < 64
    h &= ((uint64_t)1 << ESSAY_TEST_HASH_BITS) - 1;
#endif
    return h;
}

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

/* The code point of a 3- or 4-byte UTF-8 sequence at s[0..len) (every Han
 * character is one), its length; 0 for anything else. */
static inline size_t han_cp(const unsigned char *s, size_t len, uint32_t *cp)
{
    if (len >= 3 && (s[0] & 0xF0) == 0xE0) {
        *cp = (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
        return 3;
    }
    if (len >= 4 && (s[0] & 0xF8) == 0xF0) {
        *cp = (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
              (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
        return *cp < HAN_CPS ? 4 : 0;
    }
    return 0;
}

/* A pair's key: bit 37 set, bit 36 for a two-character word (not a pair),
 * then the two code points, 18 bits each (every Han character is below
 * 0x40000; any other pair takes the byte path).  A slot packs the key and
 * the term index in 64 bits, so the table is 8 bytes a pair; a part with
 * more than 2^26 terms stops adding to it. */
#define BI_CP_BITS 18u
#if defined(ESSAY_TEST_HASH_BITS)
#define BI_ID_BITS 10u /* the colliding test build: pairs past 1024 terms take
                        * the byte path, so that path is tested too */
#else
#define BI_ID_BITS 26u
#endif

static inline uint64_t bi_key(bool word, uint32_t cp1, uint32_t cp2)
{
    return (uint64_t)1 << 37 | (uint64_t)word << 36 | (uint64_t)cp1 << BI_CP_BITS | cp2;
}

static inline size_t bi_hash(uint64_t key, size_t mask)
{
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}

/* The term index of a Han pair, or TOK_UNRESOLVED. */
static inline uint32_t bi_get(const worker_ctx *w, uint64_t key)
{
    if (w->cap_bi == 0)
        return TOK_UNRESOLVED;
    size_t mask = w->cap_bi - 1;
    for (size_t h = bi_hash(key, mask);; h = (h + 1) & mask) {
        uint64_t v = w->bi[h];
        if ((v >> BI_ID_BITS) == key)
            return (uint32_t)v & ((1u << BI_ID_BITS) - 1);
        if (v == 0)
            return TOK_UNRESOLVED;
    }
}

/* Add a pair; id < 2^BI_ID_BITS (resolve_para sends the others by bytes). */
static int bi_put(worker_ctx *w, uint64_t key, uint32_t id)
{
    if ((w->n_bi + 1) * 4 > w->cap_bi * 3) {
        size_t n = w->cap_bi ? w->cap_bi * 2 : 4096;
        uint64_t *t = essay_calloc(n, sizeof(uint64_t));
        if (!t)
            return ESSAY_ENOMEM;
        for (size_t i = 0; i < w->cap_bi; i++) {
            uint64_t v = w->bi[i];
            if (v == 0)
                continue;
            size_t h = bi_hash(v >> BI_ID_BITS, n - 1);
            while (t[h])
                h = (h + 1) & (n - 1);
            t[h] = v;
        }
        essay_free(w->bi);
        w->bi = t;
        w->cap_bi = n;
    }
    size_t mask = w->cap_bi - 1, h = bi_hash(key, mask);
    while (w->bi[h] != 0 && (w->bi[h] >> BI_ID_BITS) != key)
        h = (h + 1) & mask;
    if (w->bi[h] == 0) {
        w->bi[h] = key << BI_ID_BITS | id;
        w->n_bi++;
    }
    return 0;
}

/* Copy a token's term (kind byte first) into the arena and hash it: it is
 * looked up in the term table. */
static int tok_bytes(worker_ctx *w, tok_rec *r, const char *term, size_t len)
{
    size_t off = w->arena.len;
    if (essay_buf_grow(&w->arena, len + 1) != 0)
        return ESSAY_ENOMEM;
    w->arena.data[off] = (char)r->kind;
    essay_copy_short(w->arena.data + off + 1, term, len);
    w->arena.len = off + 1 + len;
    r->id = TOK_UNRESOLVED;
    r->off = (uint32_t)off;
    r->len = (uint32_t)(len + 1);
    r->hash = term_hash(r->kind, term, len);
    w->lookups[w->n_lookups++] = (uint32_t)(r - w->toks);
    return 0;
}

/* Room for n tokens (and their entries in the pair and lookup lists). */
static int toks_reserve(worker_ctx *w, size_t n)
{
    if (n <= w->cap_toks)
        return 0;
    size_t cap = w->cap_toks;
    if (ESSAY_ARRAY_GROW(w->toks, w->cap_toks, n) != 0)
        return ESSAY_ENOMEM;
    uint32_t *a = essay_realloc(w->pairs, w->cap_toks * sizeof(uint32_t));
    if (a)
        w->pairs = a;
    uint32_t *b = a ? essay_realloc(w->lookups, w->cap_toks * sizeof(uint32_t)) : NULL;
    if (b)
        w->lookups = b;
    if (!b) {
        w->cap_toks = cap; /* toks may be bigger: the lists are not */
        return ESSAY_ENOMEM;
    }
    return 0;
}

static inline size_t utf8_len(uint32_t cp)
{
    return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/* A Han character: its id from the character cache, or a lookup with the
 * pairs (resolve_para). */
static inline void tok_uni(worker_ctx *w, tok_rec *r, uint32_t cp)
{
    if (w->uni[cp] != 0) {
        r->id = w->uni[cp] - 1;
        prefetch_term(w, r->id);
        return;
    }
    /* new to the part: added with the pairs (resolve_para) */
    r->fill = FILL_UNI;
    r->key = cp;
    r->id = TOK_PAIR;
    w->pairs[w->n_pairs++] = (uint32_t)(r - w->toks);
}

/* A Han pair, or a word of two characters: looked up with the paragraph's
 * other pairs (resolve_para) when both fit the pair keys. */
static inline int tok_bi(worker_ctx *w, tok_rec *r, bool word, uint32_t cp, uint32_t cp2)
{
    if ((cp | cp2) < (1u << BI_CP_BITS)) {
        r->fill = FILL_BI;
        r->key = bi_key(word, cp, cp2);
        r->id = TOK_PAIR;
        w->pairs[w->n_pairs++] = (uint32_t)(r - w->toks);
        return 0;
    }
    char b[8];
    size_t n = essay_utf8_encode(cp, b);
    n += essay_utf8_encode(cp2, b + n);
    return tok_bytes(w, r, b, n);
}

static int collect_tok(void *payload, const essay_token *t)
{
    worker_ctx *w = payload;
    if (w->n_toks >= w->cap_toks && toks_reserve(w, w->n_toks + 1) != 0)
        return ESSAY_ENOMEM;
    unsigned k = t->flags & ESSAY_TOKEN_KIND_MASK;
    if (k == ESSAY_TOKEN_EXACT &&
        (w->n_toks == 0 || w->toks[w->n_toks - 1].kind != EF_KIND_STEM ||
         w->toks[w->n_toks - 1].pos != t->position))
        return ESSAY_EINVAL; /* the analyzer's contract: an exact form follows its word */
    tok_rec *r = &w->toks[w->n_toks++];
    r->kind = (uint8_t)kind_byte(t->flags);
    r->pos = t->position;
    if (t->position + 1 > w->max_pos)
        w->max_pos = t->position + 1;
    r->fill = FILL_NONE;
    unsigned ref = t->flags >> ESSAY_ANALYZE_REF_SHIFT;
    const unsigned char *u = (const unsigned char *)t->term;
    uint32_t cp = 0, cp2 = 0;
    size_t n1;
    if (ref != 0 && ref <= ESSAY_ANALYZE_REF_SLOTS &&
        (k == ESSAY_TOKEN_WORD || k == ESSAY_TOKEN_EXACT)) {
        word_ids *wi = &w->words[ref - 1];
        uint32_t gen = *w->gen;
        if (wi->gen != gen) {
            wi->gen = gen;
            wi->id[0] = wi->id[1] = 0;
        }
        unsigned x = k == ESSAY_TOKEN_EXACT;
        if (wi->id[x] != 0) {
            r->id = wi->id[x] - 1;
            prefetch_term(w, r->id);
            return 0;
        }
        r->fill = (uint8_t)(FILL_STEM + x);
        r->key = (uint64_t)gen << 32 | (ref - 1);
    } else if (k == ESSAY_TOKEN_HAN_UNIGRAM) {
        if (han_cp(u, t->term_len, &cp) == t->term_len) {
            tok_uni(w, r, cp);
            return 0;
        }
    } else if (k == ESSAY_TOKEN_HAN_BIGRAM || k == ESSAY_TOKEN_HAN_WORD) {
        /* a pair, or a word of two characters */
        if ((n1 = han_cp(u, t->term_len, &cp)) != 0 &&
            han_cp(u + n1, t->term_len - n1, &cp2) == t->term_len - n1)
            return tok_bi(w, r, k == ESSAY_TOKEN_HAN_WORD, cp, cp2);
    }
    return tok_bytes(w, r, t->term, t->term_len);
}

/* A stretch of Han characters from the analyzer (essay_analyzer_han_with):
 * the records collect_tok would have made of its tokens, in their order. */
static int collect_han(void *payload, const uint32_t *cps, size_t n, uint32_t pos, uint32_t prev,
                       const char *word, size_t word_len)
{
    worker_ctx *w = payload;
    if (toks_reserve(w, w->n_toks + 2 * n + 1) != 0)
        return ESSAY_ENOMEM;
    for (size_t j = 0; j < n; j++) {
        uint32_t cp = cps[j];
        if (j > 0 || prev != 0) {
            tok_rec *r = &w->toks[w->n_toks++];
            r->kind = EF_KIND_BI;
            r->pos = pos + (uint32_t)j - 1;
            r->fill = FILL_NONE;
            if (tok_bi(w, r, false, j > 0 ? cps[j - 1] : prev, cp) != 0)
                return ESSAY_ENOMEM;
        }
        if (j == 0 && word) {
            tok_rec *r = &w->toks[w->n_toks++];
            r->kind = EF_KIND_HANWORD;
            r->pos = pos;
            r->fill = FILL_NONE;
            int rc = n >= 2 && word_len == utf8_len(cps[0]) + utf8_len(cps[1])
                         ? tok_bi(w, r, true, cps[0], cps[1])
                         : tok_bytes(w, r, word, word_len);
            if (rc != 0)
                return ESSAY_ENOMEM;
        }
        tok_rec *r = &w->toks[w->n_toks++];
        r->kind = EF_KIND_UNI;
        r->pos = pos + (uint32_t)j;
        r->fill = FILL_NONE;
        tok_uni(w, r, cp);
    }
    if (pos + n > w->max_pos)
        w->max_pos = pos + (uint32_t)n;
    return 0;
}

/* Group one paragraph's tokens by term (tokens come in position order, so
 * each group's positions come out sorted): group g has positions
 * pos[start, start + count), and for a stem ('S') twin[] at the same slots
 * holds the group of the exact form at each position.  nt: the part's
 * terms (every token's id is below it). */
static int group_para(worker_ctx *w, size_t nt)
{
    size_t n = w->n_toks;
    if (nt > w->cap_gmap) {
        /* zero beyond the old end: each paragraph clears what it set */
        size_t cap = w->cap_gmap ? w->cap_gmap : 4096;
        while (cap < nt)
            cap *= 2;
        uint32_t *m = essay_realloc(w->gmap, cap * sizeof(uint32_t));
        if (!m)
            return ESSAY_ENOMEM;
        memset(m + w->cap_gmap, 0, (cap - w->cap_gmap) * sizeof(uint32_t));
        w->gmap = m;
        w->cap_gmap = cap;
    }
    if (ESSAY_ARRAY_GROW(w->groups, w->cap_groups, n + 1) != 0 ||
        ESSAY_ARRAY_GROW(w->tgroup, w->cap_tgroup, n + 1) != 0 ||
        ESSAY_ARRAY_GROW(w->pos, w->cap_pos, n + 1) != 0 ||
        ESSAY_ARRAY_GROW(w->twin, w->cap_twin, n + 1) != 0 ||
        ESSAY_ARRAY_GROW(w->var, w->cap_var, n + 1) != 0)
        return ESSAY_ENOMEM;
    /* Without branches on whether a term is new to the paragraph (half of
     * them are, in no predictable pattern): the next free group is filled
     * in every time and taken only for a new term.  gmap[id] was fetched
     * with the term's record (prefetch_term). */
    uint32_t ng = 0;
    uint32_t *gmap = w->gmap;
    for (size_t i = 0; i < n; i++) {
        const tok_rec *t = &w->toks[i];
        uint32_t id = t->id, g1 = gmap[id];
        uint32_t g = g1 ? g1 - 1 : ng;
        tgroup *fresh = &w->groups[ng];
        fresh->id = id;
        fresh->kind = t->kind;
        fresh->count = 0;
        ng += g1 == 0;
        gmap[id] = g + 1;
        w->tgroup[i] = g;
        w->groups[g].count++;
    }
    uint32_t at = 0;
    for (size_t g = 0; g < ng; g++) {
        gmap[w->groups[g].id] = 0;
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
            i + 1 < n && w->toks[i + 1].kind == EF_KIND_EXACT ? w->tgroup[i + 1] : UINT32_MAX;
        w->pos[gr->start + gr->count++] = p;
    }
    w->n_groups = ng;
    return 0;
}

/* ---- parts: one worker's term table ------------------------------------ */

/* 32 bytes, one cache line in two: every part holds one per distinct term
 * it met, and one is touched for every term of every paragraph.  The hash
 * is not kept (the slots hold its high half; finish recomputes it). */
typedef struct bterm {
    uint8_t *buf;   /* varint doc delta, tf, then per position varint delta
                     * (and for a stem, varint variant) */
    uint32_t str_off;
    uint32_t df;
    union {
        uint32_t last_doc; /* the last paragraph appended */
        uint32_t base;     /* 'X' (never appended to): its stem's index in
                            * the part + 1 */
    };
    uint32_t len, cap;
    uint32_t var : 23;     /* 'X': variant number in its part, in order of
                            * appearance (finish renumbers them by bytes);
                            * 'S': number of variants so far (<= 65536) */
    uint32_t keyed : 1;    /* found by the character or pair cache only,
                            * not in the slots */
    uint32_t str_len : 8;  /* kind byte + term: <= ESSAY_MAX_TOKEN_BYTES + 1 */
} bterm;

_Static_assert(sizeof(bterm) == 32, "bterm: two to a cache line");
_Static_assert(ESSAY_MAX_TOKEN_BYTES + 1 <= 255 && (1u << EF_MAX_VBITS) < (1u << 23),
               "bterm's bit fields");

typedef struct spill_run {
    uint64_t off, end;      /* its bytes in the spill file */
    /* reading it back (finish) */
    uint8_t *buf;
    size_t blen, bpos;
    bool peeked;
    uint32_t idx, len;      /* the next record's term and length */
} spill_run;

/* Postings buffers up to POOL_MAX bytes come from a per-part pool:
 * power-of-two size classes carved from POOL_BLOCK blocks, a free list per
 * class; bigger ones from malloc.  A term's buffer grows often and a
 * spill empties every buffer at once: the pool makes growth a list pop and
 * emptying one reset (the blocks are kept for the next period), where
 * malloc would free and refault hundreds of thousands of small buffers. */
#define POOL_MIN_SHIFT 4u
#define POOL_MAX_SHIFT 16u
#define POOL_MAX (1u << POOL_MAX_SHIFT)
#define POOL_BLOCK (1u << 20)

/* Under AddressSanitizer the parts of the blocks no term owns are poisoned,
 * so an overrun from one term's buffer into the next is still reported. */
#if defined(__SANITIZE_ADDRESS__)
#  define POOL_ASAN 1
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define POOL_ASAN 1
#  endif
#endif
#ifdef POOL_ASAN
#  include <sanitizer/asan_interface.h>
#  define POOL_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#  define POOL_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#  define POOL_POISON(p, n) ((void)(p), (void)(n))
#  define POOL_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

typedef struct pool {
    uint8_t **blocks;
    size_t n_blocks, cap_blocks;
    size_t cur, used;    /* the block being carved, bytes carved from it */
    void *free_list[POOL_MAX_SHIFT - POOL_MIN_SHIFT + 1];
} pool;

struct builder;

typedef struct part {
    struct builder *owner;
    worker_ctx w;
    bterm *terms;
    size_t n_terms, cap_terms;
    uint64_t *slots; /* hash high bits | term index + 1 */
    size_t n_slots, n_slotted; /* slots, terms in them (not the keyed ones) */
    essay_buf strs;
    uint64_t n_postings, n_positions;
    /* spilling (essay_index_build_file): when the part's postings buffers
     * hold more than `budget` bytes, they are written to a temporary file
     * as a run, each term's bytes in term byte order, and emptied.  A
     * term's stream is the concatenation of its pieces in run order (doc
     * deltas continue across runs), so finish merges the runs by term. */
    size_t held, budget;  /* held: bytes carved from the pool + big buffers */
    pool pool;
    int spill_fd;
    uint64_t spill_len;
    spill_run *runs;
    size_t n_runs, cap_runs;
    uint32_t *spilled;    /* per term: its bytes in the runs so far */
    size_t cap_spilled;
    uint64_t *dirty;      /* bit per term: postings since the last spill */
    size_t cap_dirty;     /* words */
    essay_buf stage;      /* what a spill writes next */
    /* finish */
    uint32_t *order;  /* term indexes in byte order (the first n_sorted) */
    size_t n_sorted;
    uint64_t *okey;   /* sealed: the sort key of each order[] entry */
    uint32_t *gid;    /* each term's rank in the merged term list */
    uint32_t *roff;   /* a stem's first slot in remap */
    uint32_t *remap;  /* provisional variant -> canonical number */
} part;

/* A term record, wanted by invert_para once the paragraph is analyzed:
 * fetched as soon as its index is known, so the miss overlaps analysis. */
static inline void prefetch_term(const worker_ctx *w, uint32_t id)
{
    __builtin_prefetch(&w->pt->terms[id], 1);
    if (id < w->cap_gmap)
        __builtin_prefetch(&w->gmap[id], 1);
}

typedef struct builder {
    const essay_corpus *corpus;
    uint32_t *doclen;   /* positions per paragraph */
    size_t n_paras;
    essay_tp_model *tp;       /* the text model: counts, then codes */
    const char *spill_near;   /* output path: spill files go beside it */
    part *parts;
    unsigned n_parts;
    /* threading */
    pthread_mutex_t mu;
    chunk *chunks;
    size_t n_chunks, next_chunk;
    int failed;
    essay_error err;
    const essay_build_options *opts;
    uint64_t done_paras;
    /* finish */
    size_t n_terms;           /* distinct terms over every part */
    uint64_t n_postings, n_positions;
    const uint8_t *norms;
    double norm_k[256];
    float tfn[256][TFN_TAB]; /* tf_norm() of small tfs */
} builder;

/* Slots hold (hash high 32 bits << 32) | (term index + 1), so a probe
 * rarely touches the term records (the build's hottest cache misses). */
static int table_grow(part *pt)
{
    size_t n = pt->n_slots ? pt->n_slots * 2 : 4096;
    uint64_t *s = essay_calloc(n, sizeof(uint64_t));
    if (!s)
        return ESSAY_ENOMEM;
    for (size_t i = 0; i < pt->n_terms; i++) {
        const bterm *t = &pt->terms[i];
        if (t->keyed)
            continue;
        const char *str = pt->strs.data + t->str_off;
        uint64_t hash = term_hash((unsigned char)str[0], str + 1, t->str_len - 1);
        size_t h = (size_t)hash & (n - 1);
        while (s[h])
            h = (h + 1) & (n - 1);
        s[h] = (hash & 0xFFFFFFFF00000000ull) | (uint64_t)(i + 1);
    }
    essay_free(pt->slots);
    pt->slots = s;
    pt->n_slots = n;
    return 0;
}

/* A new term record for bytes[0, len): its index, -1 when out of memory,
 * -2 past the table's limits. */
static int64_t term_new(part *pt, const char *bytes, uint32_t len)
{
    if (pt->n_terms >= UINT32_MAX - 1 || pt->strs.len + len > UINT32_MAX || len > 255)
        return -2;
    if (ESSAY_ARRAY_GROW(pt->terms, pt->cap_terms, pt->n_terms + 1) != 0)
        return -1;
    bterm *t = &pt->terms[pt->n_terms];
    memset(t, 0, sizeof *t);
    t->str_off = (uint32_t)pt->strs.len;
    t->str_len = len;
    if (essay_buf_put(&pt->strs, bytes, len) != 0)
        return -1;
    return (int64_t)pt->n_terms++;
}

/* Index of the term (added to the records and the slots when new), -1
 * when out of memory, -2 past the table's limits. */
static int64_t term_get(part *pt, uint64_t hash, const char *bytes, uint32_t len)
{
    if ((pt->n_slotted + 1) * 2 > pt->n_slots && table_grow(pt) != 0)
        return -1;
    size_t mask = pt->n_slots - 1, h = (size_t)hash & mask;
    uint64_t hi = hash & 0xFFFFFFFF00000000ull;
    uint64_t v;
    while ((v = pt->slots[h]) != 0) {
        if ((v & 0xFFFFFFFF00000000ull) == hi) {
            const bterm *t = &pt->terms[(uint32_t)v - 1];
            if (t->str_len == len && essay_same_bytes(pt->strs.data + t->str_off, bytes, len))
                return (uint32_t)v - 1;
        }
        h = (h + 1) & mask;
    }
    int64_t id = term_new(pt, bytes, len);
    if (id >= 0) {
        pt->slots[h] = hi | (uint64_t)(id + 1);
        pt->n_slotted++;
    }
    return id;
}

static unsigned pool_class(size_t n)
{
    unsigned c = 0;
    while (((size_t)1 << (c + POOL_MIN_SHIFT)) < n)
        c++;
    return c;
}

/* A buffer of class c (1 << (c + POOL_MIN_SHIFT) bytes), or NULL. */
static uint8_t *pool_get(part *pt, unsigned c)
{
    pool *pl = &pt->pool;
    size_t size = (size_t)1 << (c + POOL_MIN_SHIFT);
    void *f = pl->free_list[c];
    if (f) {
        POOL_UNPOISON(f, size);
        memcpy(&pl->free_list[c], f, sizeof(void *));
        return f;
    }
    if (pl->n_blocks == 0 || pl->used + size > POOL_BLOCK) {
        if (pl->n_blocks > 0)
            pl->cur++;
        if (pl->cur >= pl->n_blocks) {
            if (ESSAY_ARRAY_GROW(pl->blocks, pl->cap_blocks, pl->n_blocks + 1) != 0)
                return NULL;
            uint8_t *blk = essay_malloc(POOL_BLOCK);
            if (!blk)
                return NULL;
            POOL_POISON(blk, POOL_BLOCK);
            pl->blocks[pl->n_blocks++] = blk;
            pl->cur = pl->n_blocks - 1;
        }
        pl->used = 0;
    }
    uint8_t *p = pl->blocks[pl->cur] + pl->used;
    pl->used += size;
    pt->held += size;
    POOL_UNPOISON(p, size);
    return p;
}

static void pool_put(part *pt, uint8_t *p, size_t cap)
{
    unsigned c = pool_class(cap);
    memcpy(p, &pt->pool.free_list[c], sizeof(void *));
    pt->pool.free_list[c] = p;
    POOL_POISON(p, cap);
}

/* Give a term's buffer back (the pool's to its list, a big one to malloc). */
static void term_buf_drop(part *pt, bterm *t)
{
    if (t->buf) {
        if (t->cap <= POOL_MAX) {
            pool_put(pt, t->buf, t->cap);
        } else {
            essay_free(t->buf);
            pt->held -= t->cap;
        }
    }
    t->buf = NULL;
}

/* Every buffer is empty (spilled): start carving the blocks again, or
 * free them when `release`. */
static void pool_reset(part *pt, bool release)
{
    pool *pl = &pt->pool;
    for (size_t i = 0; i < pl->n_blocks; i++) {
        if (release) {
            POOL_UNPOISON(pl->blocks[i], POOL_BLOCK);
            essay_free(pl->blocks[i]);
        } else {
            POOL_POISON(pl->blocks[i], POOL_BLOCK);
        }
    }
    if (release) {
        essay_free(pl->blocks);
        pl->blocks = NULL;
        pl->n_blocks = pl->cap_blocks = 0;
    }
    pl->cur = pl->used = 0;
    memset(pl->free_list, 0, sizeof pl->free_list);
}

/* Make room for `need` bytes in a term's buffer. */
static int term_reserve(part *pt, bterm *t, size_t need)
{
    size_t have = t->buf ? t->cap : 0;
    /* after a spill, cap holds a hint: what the term needed before */
    size_t cap = have ? have + have / 2 : t->cap > 16 ? t->cap : 16;
    if (cap < need)
        cap = need;
    if (cap > UINT32_MAX)
        cap = UINT32_MAX;
    uint8_t *nb;
    if (cap <= POOL_MAX) {
        unsigned c = pool_class(cap);
        cap = (size_t)1 << (c + POOL_MIN_SHIFT);
        nb = pool_get(pt, c);
        if (!nb)
            return ESSAY_ENOMEM;
        if (t->buf) {
            memcpy(nb, t->buf, t->len);
            pool_put(pt, t->buf, have);
        }
    } else if (have > 0 && have <= POOL_MAX) {
        nb = essay_malloc(cap);
        if (!nb)
            return ESSAY_ENOMEM;
        memcpy(nb, t->buf, t->len);
        pool_put(pt, t->buf, have);
        pt->held += cap;
    } else {
        nb = essay_realloc(t->buf, cap);
        if (!nb)
            return ESSAY_ENOMEM;
        pt->held += cap - have;
    }
    t->buf = nb;
    t->cap = (uint32_t)cap;
    return 0;
}

/* Append one paragraph's occurrences to a term: doc delta, tf, position
 * deltas, and for a stem the variant (provisional number) at each. */
static int term_append(part *pt, bterm *t, uint32_t doc, const uint32_t *pos,
                       const uint32_t *var, uint32_t tf)
{
    size_t need = (size_t)t->len + 10 + (var ? 10 : 5) * (size_t)tf;
    if (need > UINT32_MAX)
        return ESSAY_ELIMIT;
    if (need > (t->buf ? t->cap : 0) && term_reserve(pt, t, need) != 0)
        return ESSAY_ENOMEM;
    uint8_t *o = t->buf + t->len;
    o += ef_put_varint(o, doc - t->last_doc);
    o += ef_put_varint(o, tf);
    uint32_t last = 0;
    for (uint32_t i = 0; i < tf; i++) {
        o += ef_put_varint(o, pos[i] - last);
        last = pos[i];
        if (var)
            o += ef_put_varint(o, var[i]);
    }
    t->len = (uint32_t)(o - t->buf);
    t->last_doc = doc;
    t->df++;
    return 0;
}

/* Find the term of every token the id caches did not name (adding the new
 * ones), and note the ids in the caches.  The lookups are chains of cache
 * misses (slot, term record, term bytes): the whole paragraph's slots are
 * fetched first, then the records they name, then the bytes, so the
 * misses of each level overlap. */
static int resolve_para(part *pt, essay_error *err)
{
    worker_ctx *w = &pt->w;
    tok_rec *toks = w->toks;
    /* Han characters and pairs: the two caches hold every one the part
     * has (the slots none), so one missing there is new.  The pair table's
     * slots are fetched together, then read. */
    const uint32_t *pairs = w->pairs;
    size_t np = w->n_pairs;
    if (w->cap_bi) {
        size_t mask = w->cap_bi - 1;
        for (size_t i = 0; i < np; i++)
            if (toks[pairs[i]].fill == FILL_BI)
                __builtin_prefetch(&w->bi[bi_hash(toks[pairs[i]].key, mask)]);
    }
    for (size_t i = 0; i < np; i++) {
        tok_rec *t = &toks[pairs[i]];
        bool uni = t->fill == FILL_UNI;
        t->id = uni ? w->uni[t->key] - 1 : bi_get(w, t->key);
        if (t->id != TOK_UNRESOLVED) {
            prefetch_term(w, t->id);
            continue;
        }
        char b[16];
        size_t k = 1;
        b[0] = (char)t->kind;
        if (uni) {
            k += essay_utf8_encode((uint32_t)t->key, b + k);
        } else {
            uint32_t cpm = (1u << BI_CP_BITS) - 1;
            k += essay_utf8_encode((uint32_t)(t->key >> BI_CP_BITS) & cpm, b + k);
            k += essay_utf8_encode((uint32_t)t->key & cpm, b + k);
        }
        if (!uni && pt->n_terms + 1 >= (1u << BI_ID_BITS)) {
            /* past what the pair table can name: by bytes, in the slots */
            if (tok_bytes(w, t, b + 1, k - 1) != 0)
                return essay_fail(err, ESSAY_ENOMEM, "out of memory while indexing");
            t->fill = FILL_NONE;
            continue;
        }
        int64_t id = term_new(pt, b, (uint32_t)k);
        if (id == -2)
            return essay_fail(err, ESSAY_ELIMIT, "too many distinct terms for one index");
        if (id < 0 || (!uni && bi_put(w, t->key, (uint32_t)id) != 0))
            return essay_fail(err, ESSAY_ENOMEM, "out of memory while indexing");
        pt->terms[id].keyed = 1;
        t->id = (uint32_t)id;
        if (uni)
            w->uni[t->key] = (uint32_t)id + 1;
    }
    /* the rest by bytes, in the term table */
    const char *arena = w->arena.data;
    const uint32_t *look = w->lookups;
    size_t nl = w->n_lookups;
    if (pt->n_slots) {
        size_t mask = pt->n_slots - 1;
        const uint64_t *slots = pt->slots;
        for (size_t i = 0; i < nl; i++)
            __builtin_prefetch(&slots[toks[look[i]].hash & mask]);
        for (size_t i = 0; i < nl; i++) {
            uint64_t v = slots[toks[look[i]].hash & mask];
            if (v)
                __builtin_prefetch(&pt->terms[(uint32_t)v - 1]);
        }
        for (size_t i = 0; i < nl; i++) {
            uint64_t v = slots[toks[look[i]].hash & mask];
            if (v)
                __builtin_prefetch(pt->strs.data + pt->terms[(uint32_t)v - 1].str_off);
        }
    }
    for (size_t i = 0; i < nl; i++) {
        tok_rec *t = &toks[look[i]];
        int64_t id = term_get(pt, t->hash, arena + t->off, t->len);
        if (id == -2)
            return essay_fail(err, ESSAY_ELIMIT, "too many distinct terms for one index");
        if (id < 0)
            return essay_fail(err, ESSAY_ENOMEM, "out of memory while indexing");
        t->id = (uint32_t)id;
        if (t->fill == FILL_STEM || t->fill == FILL_EXACT) {
            /* unless the analyzer's cache was emptied since */
            word_ids *wi = &w->words[(uint32_t)t->key];
            if ((uint32_t)(t->key >> 32) == *w->gen && wi->gen == *w->gen)
                wi->id[t->fill == FILL_EXACT] = (uint32_t)id + 1;
        }
    }
    return 0;
}

/* Spilling: a bit per term, set when its buffer gets its first postings
 * since the last spill, so a spill visits only those terms. */
static int dirty_mark(part *pt, uint32_t id)
{
    if ((size_t)(id >> 6) >= pt->cap_dirty) {
        size_t old = pt->cap_dirty;
        if (ESSAY_ARRAY_GROW(pt->dirty, pt->cap_dirty, (size_t)(id >> 6) + 1) != 0)
            return ESSAY_ENOMEM;
        memset(pt->dirty + old, 0, (pt->cap_dirty - old) * sizeof(uint64_t));
    }
    pt->dirty[id >> 6] |= (uint64_t)1 << (id & 63);
    return 0;
}

/* Whether the term was marked, clearing the mark. */
static bool dirty_take(part *pt, uint32_t id)
{
    if ((size_t)(id >> 6) >= pt->cap_dirty)
        return false;
    uint64_t bit = (uint64_t)1 << (id & 63);
    bool was = (pt->dirty[id >> 6] & bit) != 0;
    pt->dirty[id >> 6] &= ~bit;
    return was;
}

/* The spill state kept between spills, once no spill can follow. */
static void dirty_free(part *pt)
{
    essay_free(pt->dirty);
    pt->dirty = NULL;
    pt->cap_dirty = 0;
    essay_buf_free(&pt->stage);
}

/* Add the grouped paragraph `doc` to the part's terms. */
static int invert_para(part *pt, uint32_t doc, essay_error *err)
{
    worker_ctx *w = &pt->w;
    size_t ng = w->n_groups;
    /* Pass 1: exact forms get their df; the postings of every other term
     * are appended in group order (each append writes at the end of a
     * term's buffer: all of them fetched first). */
    for (size_t g = 0; g < ng; g++) {
        const tgroup *gr = &w->groups[g];
        bterm *nt = &pt->terms[gr->id];
        if (gr->kind == EF_KIND_EXACT)
            nt->df++;
        else if (nt->buf)
            __builtin_prefetch(nt->buf + nt->len, 1);
    }
    for (size_t g = 0; g < ng; g++) {
        const tgroup *gr = &w->groups[g];
        char kind = (char)gr->kind;
        if (kind == EF_KIND_EXACT)
            continue;
        uint32_t id = gr->id;
        bterm *t = &pt->terms[id];
        const uint32_t *var = NULL;
        int rc = 0;
        if (kind == EF_KIND_STEM) {
            /* the variant of each position: which exact form stood there */
            for (uint32_t i = 0; i < gr->count; i++) {
                uint32_t tg = w->twin[gr->start + i];
                if (tg >= w->n_groups) {
                    rc = ESSAY_EINVAL;
                    break;
                }
                bterm *x = &pt->terms[w->groups[tg].id];
                if (x->base == 0) {
                    if (t->var >= (1u << EF_MAX_VBITS)) {
                        rc = ESSAY_ELIMIT;
                        break;
                    }
                    x->base = id + 1;
                    x->var = t->var++;
                } else if (x->base != id + 1) {
                    rc = ESSAY_EINVAL; /* one exact form, two stems */
                    break;
                }
                w->var[i] = x->var;
            }
            var = w->var;
        }
        if (rc == 0 && t->len == 0 && pt->budget)
            rc = dirty_mark(pt, id);
        if (rc == 0)
            rc = term_append(pt, t, doc, w->pos + gr->start, var, gr->count);
        if (rc != 0)
            return essay_fail(err, rc,
                              rc == ESSAY_ENOMEM   ? "out of memory while indexing"
                              : rc == ESSAY_ELIMIT ? "a word has more than 65536 forms, or "
                                                     "a term's postings exceed 4 GiB"
                                                   : "internal error: inconsistent word forms");
        pt->n_postings++;
        pt->n_positions += gr->count;
    }
    return 0;
}

static int index_chunk(part *pt, const chunk *ch, essay_error *err)
{
    worker_ctx *w = &pt->w;
    const essay_corpus *c = pt->owner->corpus;
    for (size_t o = ch->first; o < ch->end; o++) {
        const essay_paragraph *p = &c->paras[o];
        w->n_toks = w->n_pairs = w->n_lookups = 0;
        w->arena.len = 0;
        w->max_pos = 0;
        int rc = essay_analyzer_run(w->an, p->text, p->len,
                                    ESSAY_TOKENIZE_DOCUMENT | ESSAY_ANALYZE_VALID |
                                        ESSAY_ANALYZE_WORDREF,
                                    collect_tok, w, err);
        if (rc == ESSAY_ENOMEM)
            return essay_fail(err, ESSAY_ENOMEM, "out of memory while analyzing");
        if (rc == ESSAY_EINVAL)
            return essay_fail(err, ESSAY_EINVAL, "internal error: an exact form without its word");
        if (rc != 0)
            return rc;
        rc = resolve_para(pt, err);
        if (rc != 0)
            return rc;
        if (group_para(w, pt->n_terms) != 0)
            return essay_fail(err, ESSAY_ENOMEM, "out of memory while analyzing");
        rc = invert_para(pt, (uint32_t)o, err);
        if (rc != 0)
            return rc;
        pt->owner->doclen[o] = w->max_pos;
        essay_tp_count(w->tp, p->text, p->len);
    }
    return 0;
}

/* ---- spilling ------------------------------------------------------------ */

static int cmp_term_ids(const void *a, const void *b, void *ctx)
{
    const part *pt = ctx;
    const char *s = pt->strs.data;
    const bterm *x = &pt->terms[*(const uint32_t *)a], *y = &pt->terms[*(const uint32_t *)b];
    size_t n = x->str_len < y->str_len ? x->str_len : y->str_len;
    int c = memcmp(s + x->str_off, s + y->str_off, n);
    if (c)
        return c;
    return (x->str_len > y->str_len) - (x->str_len < y->str_len);
}

/* A term's sort key: its first 7 bytes, big-endian, zero-padded, then
 * its length capped at 8.  Keys in order are terms in byte order (a term
 * that pads with zeros where another has bytes is a prefix of it, or
 * shorter).  Equal keys with a length below 8 are the same term, so the
 * merge of the parts, where most terms meet their twin, compares keys
 * only; other equal keys (a shared 7-byte prefix) are compared in full. */
typedef struct term_key {
    uint64_t key;
    uint32_t id;
} term_key;

static uint64_t term_key_of(const part *pt, uint32_t id)
{
    const bterm *t = &pt->terms[id];
    const unsigned char *s = (const unsigned char *)pt->strs.data + t->str_off;
    uint64_t k = t->str_len < 8 ? t->str_len : 8;
    size_t n = t->str_len < 7 ? t->str_len : 7;
    for (size_t i = 0; i < n; i++)
        k |= (uint64_t)s[i] << (56 - 8 * i);
    return k;
}

/* Equal keys name the same term (term_key_of). */
static inline bool key_whole(uint64_t key)
{
    return (key & 0xFF) < 8;
}

/* Sort ids[0, n) by term bytes: an LSD radix sort of the keys (a byte per
 * pass, passes where every key has the same byte skipped), then each run
 * of equal keys by comparison.  A third of qsort_r's instructions. */
static int sort_ids(part *pt, uint32_t *ids, size_t n)
{
    if (n < 64) {
        qsort_r(ids, n, sizeof(uint32_t), cmp_term_ids, pt);
        return 0;
    }
    term_key *a = essay_malloc(2 * n * sizeof(term_key));
    if (!a)
        return ESSAY_ENOMEM;
    term_key *b = a + n;
    for (size_t i = 0; i < n; i++) {
        a[i].key = term_key_of(pt, ids[i]);
        a[i].id = ids[i];
    }
    size_t cnt[8][256];
    memset(cnt, 0, sizeof cnt);
    for (size_t i = 0; i < n; i++)
        for (unsigned d = 0; d < 8; d++)
            cnt[d][(a[i].key >> (8 * d)) & 0xFF]++;
    for (unsigned d = 0; d < 8; d++) {
        if (cnt[d][(a[0].key >> (8 * d)) & 0xFF] == n)
            continue; /* every key has this byte */
        size_t at = 0;
        for (unsigned v = 0; v < 256; v++) {
            size_t c = cnt[d][v];
            cnt[d][v] = at;
            at += c;
        }
        for (size_t i = 0; i < n; i++)
            b[cnt[d][(a[i].key >> (8 * d)) & 0xFF]++] = a[i];
        term_key *t = a;
        a = b;
        b = t;
    }
    for (size_t i = 0; i < n; i++)
        ids[i] = a[i].id;
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && a[j].key == a[i].key; j++)
            ;
        if (j - i > 1)
            qsort_r(ids + i, j - i, sizeof(uint32_t), cmp_term_ids, pt);
    }
    essay_free(a < b ? a : b);
    return 0;
}

/* Bring pt->order up to date: the terms met since it was last sorted are
 * sorted on their own and merged in (each spill needs byte order, and
 * most terms are met early). */
static int sort_terms(part *pt)
{
    size_t old = pt->n_sorted, n = pt->n_terms, k = n - old;
    if (k == 0)
        return 0;
    uint32_t *o = essay_realloc(pt->order, n * sizeof(uint32_t));
    uint32_t *fresh = essay_malloc(k * sizeof(uint32_t));
    if (o)
        pt->order = o;
    if (!o || !fresh) {
        essay_free(fresh);
        return ESSAY_ENOMEM;
    }
    for (size_t i = 0; i < k; i++)
        fresh[i] = (uint32_t)(old + i);
    if (sort_ids(pt, fresh, k) != 0) {
        essay_free(fresh);
        return ESSAY_ENOMEM;
    }
    /* merge from the back, in place: the new terms are few beside the
     * sorted ones, so each finds its place by binary search and the sorted
     * terms above it move as a block (a term-by-term merge compared, with
     * cache misses, every sorted term at every spill) */
    size_t i = old, at = n;
    for (size_t j = k; j-- > 0;) {
        size_t lo = 0, hi = i;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (cmp_term_ids(&o[mid], &fresh[j], pt) > 0)
                hi = mid;
            else
                lo = mid + 1;
        }
        size_t m = i - lo;
        at -= m;
        memmove(&o[at], &o[lo], m * sizeof(uint32_t));
        i = lo;
        o[--at] = fresh[j];
    }
    essay_free(fresh);
    pt->n_sorted = n;
    return 0;
}

#define SPILL_BUF (16u << 10)
#define SPILL_STAGE (256u << 10) /* bytes a write() */

/* Test hooks: spill when the buffers hold more than n bytes, cut chunks
 * of n bytes (0: the defaults). */
static _Atomic size_t spill_budget_override, chunk_bytes_override;

void essay_build_spill_budget(size_t n)
{
    atomic_store(&spill_budget_override, n);
}

void essay_build_chunk_bytes(size_t n)
{
    atomic_store(&chunk_bytes_override, n);
}

static int spill_write(part *pt, const void *p, size_t n, essay_error *err)
{
    const uint8_t *q = p;
    while (n > 0) {
        ssize_t w = write(pt->spill_fd, q, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return essay_error_set(err, ESSAY_EIO, pt->owner->spill_near, 0, 0, 0,
                                   "cannot write temporary postings beside it: %s",
                                   strerror(errno));
        }
        q += w;
        n -= (size_t)w;
        pt->spill_len += (uint64_t)w;
    }
    return 0;
}

/* Write the postings buffered since the last spill as one run, in term
 * byte order, and empty the buffers. */
static int spill(part *pt, essay_error *err)
{
    if (pt->spill_fd < 0) {
        static _Atomic unsigned seq;
        const char *near = pt->owner->spill_near;
        size_t n = strlen(near) + 64;
        char *path = essay_malloc(n);
        if (!path)
            return essay_fail(err, ESSAY_ENOMEM, "out of memory while indexing");
#ifdef O_TMPFILE
        /* an unnamed file in the output's directory: nothing can be left
         * behind, even by a kill */
        snprintf(path, n, "%s", near);
        char *slash = strrchr(path, '/');
        if (!slash)
            strcpy(path, ".");
        else if (slash == path)
            path[1] = 0;
        else
            *slash = 0;
        pt->spill_fd = open(path, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
#endif
        if (pt->spill_fd < 0) {
            snprintf(path, n, "%s.spill-%ld-%u", near, (long)getpid(), atomic_fetch_add(&seq, 1));
            pt->spill_fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
            if (pt->spill_fd >= 0)
                unlink(path); /* nothing is left behind once it runs */
        }
        essay_free(path);
        if (pt->spill_fd < 0) {
            pt->budget = 0; /* cannot spill here: keep building in memory */
            return 0;
        }
    }
    if (sort_terms(pt) != 0 || ESSAY_ARRAY_GROW(pt->runs, pt->cap_runs, pt->n_runs + 1) != 0)
        return essay_fail(err, ESSAY_ENOMEM, "out of memory while indexing");
    if (pt->n_terms > pt->cap_spilled) {
        uint32_t *sp = essay_realloc(pt->spilled, pt->n_terms * sizeof(uint32_t));
        if (!sp)
            return essay_fail(err, ESSAY_ENOMEM, "out of memory while indexing");
        memset(sp + pt->cap_spilled, 0, (pt->n_terms - pt->cap_spilled) * sizeof(uint32_t));
        pt->spilled = sp;
        pt->cap_spilled = pt->n_terms;
    }
    const uint32_t *ids = pt->order;
    size_t n = pt->n_sorted;
    spill_run *r = &pt->runs[pt->n_runs];
    memset(r, 0, sizeof *r);
    r->off = pt->spill_len;
    /* the terms with postings (the dirty bits), in byte order, through a
     * staging buffer kept from spill to spill (writev() straight from the
     * buffers costs more: the kernel copies small pieces slowly) */
    essay_buf *out = &pt->stage;
    out->len = 0;
    int rc = 0;
    for (size_t k = 0; k < n && rc == 0; k++) {
        uint32_t id = ids[k];
        if (!dirty_take(pt, id))
            continue;
        bterm *t = &pt->terms[id];
        if (t->len == 0)
            continue;
        uint32_t head[2] = { id, t->len };
        if (t->len > UINT32_MAX - pt->spilled[id]) {
            rc = essay_fail(err, ESSAY_ELIMIT, "a term's postings exceed 4 GiB");
            break;
        }
        pt->spilled[id] += t->len;
        if (essay_buf_put(out, head, sizeof head) != 0 || essay_buf_put(out, t->buf, t->len) != 0) {
            rc = essay_fail(err, ESSAY_ENOMEM, "out of memory while indexing");
            break;
        }
        if (t->cap > POOL_MAX)
            essay_free(t->buf);
        t->buf = NULL;
        /* a hint for the next period: half of what it used in this one
         * (most of a frequent term's reallocations are saved, and a rare
         * one's buffer is not kept) */
        t->cap = t->len / 2;
        t->len = 0;
        if (out->len >= SPILL_STAGE) {
            rc = spill_write(pt, out->data, out->len, err);
            out->len = 0;
        }
    }
    if (rc == 0 && out->len > 0)
        rc = spill_write(pt, out->data, out->len, err);
    if (rc != 0)
        return rc;
    r->end = pt->spill_len;
    pt->n_runs++;
    pt->held = 0;
    pool_reset(pt, false);
#ifdef __GLIBC__
    malloc_trim(0); /* give the emptied buffers' pages back, not just to the heap */
#endif
    return 0;
}

/* Read n bytes of a run into dst (NULL: skip).  False on a short read. */
static bool run_read(const part *pt, spill_run *r, void *dst, size_t n)
{
    uint8_t *d = dst;
    while (n > 0) {
        if (r->bpos == r->blen) {
            uint64_t left = r->end - r->off;
            if (left == 0)
                return false;
            size_t want = left < SPILL_BUF ? (size_t)left : SPILL_BUF;
            ssize_t got = pread(pt->spill_fd, r->buf, want, (off_t)r->off);
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

/* The whole stream of the part's term `idx` (its pieces from every run,
 * then `tail`, what is still buffered), appended to out.  Runs list terms
 * in byte order, as finish visits them, so each run is read once, front to
 * back.  The caller passes the tail: it read the term's record already, and
 * by now that record has left the cache. */
static int gather(part *pt, uint32_t idx, const uint8_t *tail, size_t tail_len, essay_buf *out,
                  essay_error *err)
{
    for (size_t i = 0; i < pt->n_runs; i++) {
        spill_run *r = &pt->runs[i];
        if (!r->peeked) {
            if (r->off == r->end && r->bpos == r->blen)
                continue;
            uint32_t head[2];
            if (!run_read(pt, r, head, sizeof head))
                goto bad;
            r->idx = head[0];
            r->len = head[1];
            r->peeked = true;
        }
        if (r->idx != idx)
            continue;
        if (essay_buf_grow(out, r->len) != 0)
            return essay_fail(err, ESSAY_ENOMEM, "out of memory while writing the index");
        if (!run_read(pt, r, out->data + out->len, r->len))
            goto bad;
        out->len += r->len;
        r->peeked = false;
    }
    if (tail_len > 0 && essay_buf_put(out, tail, tail_len) != 0)
        return essay_fail(err, ESSAY_ENOMEM, "out of memory while writing the index");
    return 0;
bad:
    return essay_error_set(err, ESSAY_EIO, pt->owner->spill_near, 0, 0, 0,
                           "cannot read back temporary postings beside it");
}

/* ---- worker threads ---------------------------------------------------- */

static void worker_ctx_free(worker_ctx *w)
{
    essay_analyzer_free(w->an);
    essay_tp_free(w->tp);
    essay_free(w->toks);
    essay_free(w->pairs);
    essay_free(w->lookups);
    essay_free(w->gmap);
    essay_free(w->groups);
    essay_free(w->tgroup);
    essay_free(w->pos);
    essay_free(w->twin);
    essay_free(w->var);
    essay_free(w->words);
    essay_free(w->uni);
    essay_free(w->bi);
    essay_buf_free(&w->arena);
    memset(w, 0, sizeof *w);
}

/* A part is done: its lookup slots go, its terms are sorted by bytes and,
 * when it spilled before, the rest of its buffers are spilled too, so
 * writing starts from empty buffers. */
static int seal_part(part *pt, essay_error *err)
{
    essay_free(pt->slots);
    pt->slots = NULL;
    pt->n_slots = pt->n_slotted = 0;
    if (sort_terms(pt) != 0)
        return essay_fail(err, ESSAY_ENOMEM, "out of memory while indexing");
    /* the merge compares these, in order, instead of term bytes met at
     * random (computed here, while other threads may still analyze) */
    pt->okey = essay_malloc((pt->n_terms ? pt->n_terms : 1) * sizeof(uint64_t));
    if (!pt->okey)
        return essay_fail(err, ESSAY_ENOMEM, "out of memory while indexing");
    for (size_t i = 0; i < pt->n_terms; i++)
        pt->okey[i] = term_key_of(pt, pt->order[i]);
    int rc = 0;
    if (pt->n_runs > 0 && pt->budget) {
        rc = spill(pt, err);
        pool_reset(pt, true); /* every buffer is on disk now */
    }
    dirty_free(pt);
    return rc;
}

/* Free a part's terms and postings (the build failed, or they are
 * written). */
static void part_release(part *pt)
{
    for (size_t i = 0; i < pt->n_terms; i++)
        if (pt->terms[i].cap > POOL_MAX)
            essay_free(pt->terms[i].buf);
    pool_reset(pt, true);
    essay_free(pt->terms);
    essay_free(pt->slots);
    essay_free(pt->spilled);
    dirty_free(pt);
    essay_buf_free(&pt->strs);
    pt->spilled = NULL;
    pt->cap_spilled = 0;
    pt->terms = NULL;
    pt->slots = NULL;
    pt->n_terms = pt->cap_terms = pt->n_slots = pt->n_slotted = 0;
}

static void *worker_main(void *arg)
{
    part *pt = arg;
    builder *b = pt->owner;
    worker_ctx *w = &pt->w;
    essay_error err;
    int rc = essay_analyzer_new(&w->an, &err);
    if (rc == 0) {
        w->gen = essay_analyzer_word_gen(w->an);
        w->pt = pt;
        w->words = essay_calloc(ESSAY_ANALYZE_REF_SLOTS, sizeof(word_ids));
        w->uni = essay_calloc(HAN_CPS, sizeof(uint32_t));
        if (!w->words || !w->uni || essay_tp_count_new(&w->tp) != 0)
            rc = essay_fail(&err, ESSAY_ENOMEM, "out of memory while indexing");
        else {
            essay_analyzer_prefetch_with(w->an, w->words, sizeof(word_ids));
            essay_analyzer_han_with(w->an, collect_han);
        }
    }
    for (;;) {
        pthread_mutex_lock(&b->mu);
        if (rc != 0 && !b->failed) {
            b->failed = rc;
            b->err = err;
        }
        if (b->failed || b->next_chunk >= b->n_chunks) {
            pthread_mutex_unlock(&b->mu);
            break;
        }
        const chunk *ch = &b->chunks[b->next_chunk++];
        pthread_mutex_unlock(&b->mu);

        rc = index_chunk(pt, ch, &err);
        if (rc == 0 && pt->budget && pt->held > pt->budget)
            rc = spill(pt, &err);
        if (rc == 0) {
            pthread_mutex_lock(&b->mu);
            b->done_paras += ch->end - ch->first;
            if (b->opts && b->opts->progress && !b->failed)
                b->opts->progress(b->opts->progress_payload, b->done_paras, b->n_paras);
            pthread_mutex_unlock(&b->mu);
        }
    }
    if (rc == 0)
        rc = seal_part(pt, &err);
    pthread_mutex_lock(&b->mu);
    if (rc != 0 && !b->failed) {
        b->failed = rc;
        b->err = err;
    }
    /* the text model counts every paragraph, whichever thread saw it */
    if (!b->failed && w->tp && essay_tp_count_merge(b->tp, w->tp) != 0) {
        b->failed = ESSAY_EINVAL;
        essay_fail(&b->err, ESSAY_EINVAL, "internal error: text model");
    }
    bool failed = b->failed != 0;
    pthread_mutex_unlock(&b->mu);
    worker_ctx_free(w);
    if (failed)
        part_release(pt); /* at once: the other workers may be short of memory */
    return NULL;
}

/* ---- final encoding ---------------------------------------------------- */

/* The BM25 tf factor as search computes it (quantized length, the same
 * k table), rounded up to float so that a block's maximum is a true upper
 * bound. */
static float tf_norm_calc(double k, uint32_t tf)
{
    double f = tf * (EF_K1 + 1.0) / (tf + k);
    float r = (float)f;
    return (double)r < f ? nextafterf(r, 2.0f * r + 1.0f) : r;
}

static float tf_norm(const builder *b, uint32_t doc, uint32_t tf)
{
    if (tf < TFN_TAB)
        return b->tfn[b->norms[doc]][tf];
    return tf_norm_calc(b->norm_k[b->norms[doc]], tf);
}

/* Scratch of one thread encoding postings, kept from term to term. */
typedef struct post_scratch {
    essay_buf docs, pos;
    ef_skip *skips;
    size_t cap_skips;
} post_scratch;

/* One part's stream of a term, read entry by entry. */
typedef struct psrc {
    const uint8_t *p, *end;
    const uint32_t *remap;  /* stems: provisional -> canonical variant */
    uint32_t left;          /* entries not read yet */
    uint32_t doc;           /* the next entry's doc, while left > 0 */
    size_t goff, glen;      /* read back from spill runs: where in its part's
                             * gather buffer (goff SIZE_MAX: not spilled) */
    uint32_t part, id;      /* whose stream */
} psrc;

static void psrc_next(psrc *s)
{
    if (s->left > 0) {
        uint32_t delta = 0;
        ef_get_varint(&s->p, s->end, &delta);
        s->doc += delta;
    }
}

/* Encode one term's postings, merged by document from its parts' streams,
 * into the block format.  For a stem each source's `remap` turns its
 * provisional variant numbers into canonical ones, and `vbits` is their
 * width (0: one form, no variants stored). */
static int encode_postings(const builder *b, psrc *src, unsigned n_src, uint32_t df, bool stem,
                           unsigned vbits, post_scratch *sc, essay_buf *out)
{
    size_t nblocks = (df + EF_BLOCK - 1) / EF_BLOCK;
    essay_buf docs = sc->docs, pos = sc->pos; /* reused, term after term */
    docs.len = pos.len = 0;
    ef_skip *skips = NULL;
    int rc = ESSAY_ENOMEM;
    if (nblocks > 1) {
        if (ESSAY_ARRAY_GROW(sc->skips, sc->cap_skips, nblocks) != 0)
            goto done;
        skips = sc->skips;
        memset(skips, 0, nblocks * sizeof(ef_skip));
    }
    for (unsigned k = 0; k < n_src; k++) {
        src[k].doc = 0;
        psrc_next(&src[k]);
    }
    uint32_t doc = 0, prev_block_last = 0;
    for (size_t blk = 0; blk < nblocks; blk++) {
        size_t n = df - blk * EF_BLOCK < EF_BLOCK ? df - blk * EF_BLOCK : EF_BLOCK;
        if (skips) {
            skips[blk].doc_off = (uint32_t)docs.len;
            skips[blk].pos_off = (uint32_t)pos.len;
        }
        float mx = 0;
        uint32_t base = prev_block_last;
        for (size_t d = 0; d < n; d++) {
            psrc *s = NULL;
            for (unsigned k = 0; k < n_src; k++)
                if (src[k].left > 0 && (!s || src[k].doc < s->doc))
                    s = &src[k];
            if (!s) {
                rc = ESSAY_EINVAL; /* df and the streams disagree */
                goto done;
            }
            uint32_t tf = 0;
            doc = s->doc;
            ef_get_varint(&s->p, s->end, &tf);
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
                ef_get_varint(&s->p, s->end, &v);
                if (stem)
                    ef_get_varint(&s->p, s->end, &var);
                o += ef_put_varint64(o, ((uint64_t)v << vbits) | (vbits ? s->remap[var] : 0));
            }
            pos.len = (size_t)(o - (uint8_t *)pos.data);
            s->left--;
            psrc_next(s);
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
    sc->docs = docs;
    sc->pos = pos;
    return rc;
}

/* ---- output: sections streamed to memory or to a file ----------------- */

#define N_SECTIONS 10u
#define SINK_BUF (1u << 20)

/* Sections are written one after another; each is checksummed as it goes.
 * The header and section table, known last, go into the space reserved at
 * the start.  Into memory (essay_index_build) the image grows in one
 * buffer; into a file (essay_index_build_file) bytes pass through 1 MB
 * buffers, so neither the text nor the postings are ever held whole.
 *
 * Write-behind: a full buffer goes to a writer thread while the builder
 * fills the other one.  Copying into the page cache is CPU work (about a
 * tenth of a 2-thread build here) that would otherwise stall the single
 * thread that runs the finishing phase between its parallel rounds.  The
 * writer takes buffers in order, so the file is the same; its first error
 * comes back at the next hand-over or at sink_close. */
typedef struct sink_io {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    essay_buf buf;   /* being written while busy; empty spare when not */
    bool busy, quit;
    int rc;          /* the writer's first error */
    essay_error err;
} sink_io;

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
    sink_io *io;           /* NULL: writes on the caller's thread */
} sink;

static void *sink_writer(void *arg)
{
    sink *s = arg;
    sink_io *io = s->io;
    pthread_mutex_lock(&io->mu);
    for (;;) {
        while (!io->busy && !io->quit)
            pthread_cond_wait(&io->cv, &io->mu);
        if (!io->busy)
            break;
        pthread_mutex_unlock(&io->mu);
        essay_error e;
        int rc = io->rc == 0 ? essay_saver_write(s->file, io->buf.data, io->buf.len, &e) : 0;
        pthread_mutex_lock(&io->mu);
        if (rc != 0) {
            io->rc = rc;
            io->err = e;
        }
        io->buf.len = 0;
        io->busy = false;
        pthread_cond_broadcast(&io->cv);
    }
    pthread_mutex_unlock(&io->mu);
    return NULL;
}

/* Wait until the writer is idle; take its error, if any. */
static void sink_wait(sink *s)
{
    sink_io *io = s->io;
    pthread_mutex_lock(&io->mu);
    while (io->busy)
        pthread_cond_wait(&io->cv, &io->mu);
    if (io->rc != 0 && s->rc == 0) {
        s->rc = io->rc;
        if (s->err)
            *s->err = io->err;
    }
    pthread_mutex_unlock(&io->mu);
}

static void sink_io_start(sink *s)
{
    sink_io *io = essay_calloc(1, sizeof *io);
    if (!io)
        return; /* writes stay on this thread */
    io->buf = (essay_buf)ESSAY_BUF_INIT;
    pthread_mutex_init(&io->mu, NULL);
    pthread_cond_init(&io->cv, NULL);
    s->io = io;
    if (pthread_create(&io->th, NULL, sink_writer, s) != 0) {
        pthread_cond_destroy(&io->cv);
        pthread_mutex_destroy(&io->mu);
        essay_free(io);
        s->io = NULL;
    }
}

/* Join the writer after its last buffer; safe to call twice. */
static void sink_io_stop(sink *s)
{
    sink_io *io = s->io;
    if (!io)
        return;
    sink_wait(s);
    pthread_mutex_lock(&io->mu);
    io->quit = true;
    pthread_cond_broadcast(&io->cv);
    pthread_mutex_unlock(&io->mu);
    pthread_join(io->th, NULL);
    pthread_cond_destroy(&io->cv);
    pthread_mutex_destroy(&io->mu);
    essay_buf_free(&io->buf);
    essay_free(io);
    s->io = NULL;
}

static void sink_flush(sink *s)
{
    if (!s->file || s->rc != 0 || s->buf.len == 0)
        return;
    if (!s->io) {
        s->rc = essay_saver_write(s->file, s->buf.data, s->buf.len, s->err);
        s->buf.len = 0;
        return;
    }
    sink_wait(s);
    if (s->rc != 0)
        return;
    sink_io *io = s->io;
    pthread_mutex_lock(&io->mu);
    essay_buf spare = io->buf;
    io->buf = s->buf;
    s->buf = spare;
    io->busy = true;
    pthread_cond_broadcast(&io->cv);
    pthread_mutex_unlock(&io->mu);
}

static void sink_put(sink *s, const void *p, size_t n)
{
    if (s->rc != 0 || n == 0)
        return;
    XXH3_64bits_update(&s->st, p, n);
    s->off += n;
    if (s->file && n >= SINK_BUF) {
        sink_flush(s);
        if (s->io)
            sink_wait(s); /* the file's bytes stay in order */
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
    if (file)
        sink_io_start(s);
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
    sink_io_stop(s);
    if (s->rc == 0)
        s->rc = essay_saver_pwrite(s->file, 0, hdr, sizeof hdr, s->err);
    if (s->rc == 0)
        s->rc = essay_saver_pwrite(s->file, EF_HEADER_SIZE, s->table,
                                   (size_t)s->n * EF_ENTRY_SIZE, s->err);
}

/* Write the image: META TMOD NORM TEXT ARTS PARA POST TERM TSTR HASH.  TEXT
 * comes before ARTS and PARA (which record where each text went) and POST
 * before TERM (which records where each term's postings went). */
/* ---- parallel finishing -------------------------------------------------- */

/* Run fn on each of n jobs (job_size bytes apart), on n threads: the
 * caller takes the first job, and runs a job itself when no thread can be
 * had. */
static void run_parallel(void *(*fn)(void *), void *jobs, size_t job_size, unsigned n)
{
    pthread_t t[MAX_THREADS];
    bool started[MAX_THREADS] = { false };
    for (unsigned i = 1; i < n; i++)
        started[i] = pthread_create(&t[i], NULL, fn, (char *)jobs + i * job_size) == 0;
    fn(jobs);
    for (unsigned i = 1; i < n; i++) {
        if (started[i])
            pthread_join(t[i], NULL);
        else
            fn((char *)jobs + i * job_size);
    }
}

/* Postings are coded in batches of about FINISH_BATCH source bytes or
 * FINISH_TERMS terms, shared among the threads and written in order, so
 * memory stays bounded. */
#define FINISH_BATCH (1u << 19)
#define FINISH_TERMS 8192u

/* Text is coded TEXT_BATCH source bytes at a time, cut in TEXT_PIECES
 * pieces of about equal bytes that whichever thread is free takes (a
 * thread slowed by the writer or by another process does less), each
 * into its own buffer; the pieces are then written in order. */
#define TEXT_BATCH (1u << 22)
#define TEXT_PIECES 16u

typedef struct text_state {
    const builder *b;
    uint32_t *code_len;                /* per paragraph, for all */
    size_t piece[TEXT_PIECES + 1];     /* piece i: paragraphs [piece[i], piece[i + 1]) */
    essay_buf out[TEXT_PIECES];
    _Atomic unsigned next_piece;
} text_state;

typedef struct text_job {
    text_state *s;
    int rc;
} text_job;

static void *text_job_run(void *arg)
{
    text_job *j = arg;
    text_state *s = j->s;
    const essay_corpus *c = s->b->corpus;
    j->rc = 0;
    unsigned i;
    while (j->rc == 0 && (i = atomic_fetch_add(&s->next_piece, 1)) < TEXT_PIECES) {
        essay_buf *out = &s->out[i];
        out->len = 0;
        for (size_t o = s->piece[i]; o < s->piece[i + 1]; o++) {
            const essay_paragraph *p = &c->paras[o];
            size_t n;
            if (essay_buf_grow(out, essay_tp_encode_bound(p->len)) != 0) {
                j->rc = ESSAY_ENOMEM;
                break;
            }
            if (essay_tp_encode(s->b->tp, p->text, p->len, (uint8_t *)out->data + out->len,
                                &n) != 0 ||
                n > UINT32_MAX) {
                j->rc = ESSAY_EINVAL;
                break;
            }
            s->code_len[o] = (uint32_t)n;
            out->len += n;
        }
    }
    return NULL;
}

/* Postings are encoded a batch of terms at a time: the sources of each
 * term are gathered (read back from the spill runs when there are some),
 * the batch is cut among the threads, each encodes its terms into its own
 * buffer, and the buffers are written in term order. */
typedef struct post_term {
    uint32_t g;          /* rank in the merged list */
    uint32_t src, n_src; /* its sources in the batch's psrc array */
    uint32_t df;
    uint32_t len;        /* encoded bytes */
    uint8_t kind, vbits;
    uint64_t bytes;      /* source bytes (cutting a batch in pieces) */
} post_term;

/* A batch: merged terms [g0, g1), their sources, and the spilled streams
 * of each part read back. */
typedef struct post_batch {
    size_t g0, g1;
    post_term *pts;
    size_t npt, cap_pts;
    psrc *psv;
    size_t nps, cap_psv;
    uint64_t bytes;              /* source bytes */
    essay_buf gout[MAX_THREADS]; /* per part */
} post_batch;

/* Batches are pipelined: in each round the threads encode batch `enc`,
 * cut in POST_PIECES pieces that whichever thread is free takes, while
 * thread 0 first prepares the next batch `nxt` (serial work: records, term
 * bytes, reading spills back).  The main thread then writes `enc`. */
#define POST_PIECES 8u

typedef struct post_state {
    builder *b;
    const uint64_t *inst;
    const uint32_t *gfirst;
    const uint32_t *nvar;
    ef_term *recs;
    essay_buf *tstr;
    post_batch batch[2];
    post_batch *enc, *nxt;
    size_t piece[POST_PIECES + 1]; /* piece i: enc->pts[piece[i], piece[i + 1]) */
    essay_buf pout[POST_PIECES];
    _Atomic unsigned next_piece;
    int prep_rc;
    essay_error prep_err;
} post_state;

typedef struct post_job {
    post_state *s;
    unsigned thread;
    post_scratch sc;
    int rc;
} post_job;

/* Prepare the batch of merged terms from g0 (the records' hash, bytes,
 * kind, df and vbits; each term's sources) and read its spilled streams
 * back, each part's runs front to back. */
static int post_prep(post_state *s, post_batch *pb, size_t g0, essay_error *err)
{
    builder *b = s->b;
    const uint64_t *inst = s->inst;
    const uint32_t *gfirst = s->gfirst;
    size_t g = g0, npt = 0, nps = 0;
    uint64_t batch = 0, gsize[MAX_THREADS] = { 0 };
    bool spilled = false;
    for (; g < b->n_terms && batch < FINISH_BATCH && npt < FINISH_TERMS; g++) {
        /* the records of the terms a little ahead (random in their parts,
         * which met them in no particular order), and their bytes a little
         * less far ahead */
        if (g + 16 < b->n_terms)
            for (uint32_t k = gfirst[g + 16]; k < gfirst[g + 17]; k++) {
                const part *pp = &b->parts[inst[k] >> 32];
                __builtin_prefetch(&pp->terms[(uint32_t)inst[k]]);
                __builtin_prefetch(&pp->roff[(uint32_t)inst[k]]);
                if (pp->n_runs > 0)
                    __builtin_prefetch(&pp->spilled[(uint32_t)inst[k]]);
            }
        if (g + 8 < b->n_terms) {
            const part *pp = &b->parts[inst[gfirst[g + 8]] >> 32];
            __builtin_prefetch(pp->strs.data + pp->terms[(uint32_t)inst[gfirst[g + 8]]].str_off);
        }
        ef_term *r = &s->recs[g];
        uint32_t df = 0;
        if (ESSAY_ARRAY_GROW(pb->pts, pb->cap_pts, npt + 1) != 0)
            goto oom;
        post_term *q = &pb->pts[npt];
        q->g = (uint32_t)g;
        q->src = (uint32_t)nps;
        q->n_src = 0;
        q->bytes = 0;
        for (uint32_t k = gfirst[g]; k < gfirst[g + 1]; k++) {
            part *pt = &b->parts[inst[k] >> 32];
            uint32_t id = (uint32_t)inst[k];
            const bterm *t = &pt->terms[id];
            if (k == gfirst[g]) {
                r->hash = essay_hash64(pt->strs.data + t->str_off, t->str_len);
                /* term bytes in sorted order: the image does not depend on
                 * the order in which threads met the terms */
                r->str_off = (uint32_t)s->tstr->len;
                r->str_len = (uint16_t)t->str_len;
                if (essay_buf_put(s->tstr, pt->strs.data + t->str_off, t->str_len) != 0)
                    goto oom;
                r->kind = (uint8_t)pt->strs.data[t->str_off];
            }
            if ((uint64_t)df + t->df > UINT32_MAX)
                return essay_fail(err, ESSAY_ELIMIT, "the index exceeds a format limit");
            df += t->df;
            if (r->kind == EF_KIND_EXACT)
                continue;
            if (ESSAY_ARRAY_GROW(pb->psv, pb->cap_psv, nps + 1) != 0)
                goto oom;
            psrc *ps = &pb->psv[nps++];
            q->n_src++;
            ps->p = t->buf; /* NULL when all of it was spilled */
            ps->end = t->buf ? t->buf + t->len : t->buf;
            ps->goff = SIZE_MAX;
            ps->part = (uint32_t)(inst[k] >> 32);
            ps->id = id;
            if (pt->n_runs > 0) {
                /* read back below; the pointers are set then */
                ps->goff = gsize[ps->part];
                ps->glen = (size_t)pt->spilled[id] + t->len;
                gsize[ps->part] += ps->glen;
                spilled = true;
            }
            q->bytes += ps->goff == SIZE_MAX ? t->len : ps->glen;
            ps->remap = pt->remap + pt->roff[id];
            ps->left = t->df;
        }
        r->df = df;
        if (r->kind == EF_KIND_EXACT)
            continue;
        batch += q->bytes;
        q->df = df;
        q->kind = r->kind;
        q->vbits = 0;
        if (r->kind == EF_KIND_STEM)
            while (s->nvar[g] > 1 && ((s->nvar[g] - 1) >> q->vbits) != 0)
                q->vbits++;
        r->vbits = q->vbits;
        npt++;
    }
    pb->g0 = g0;
    pb->g1 = g;
    pb->npt = npt;
    pb->nps = nps;
    pb->bytes = batch;
    if (!spilled)
        return 0;
    for (unsigned p = 0; p < b->n_parts; p++)
        pb->gout[p].len = 0;
    for (size_t k = 0; k < nps; k++) {
        psrc *ps = &pb->psv[k];
        if (ps->goff == SIZE_MAX)
            continue;
        essay_buf *o = &pb->gout[ps->part];
        int rc = gather(&b->parts[ps->part], ps->id, ps->p, (size_t)(ps->end - ps->p), o, err);
        if (rc != 0)
            return rc;
        if (o->len != ps->goff + ps->glen)
            return essay_fail(err, ESSAY_EINVAL, "internal error: spilled postings");
    }
    for (size_t k = 0; k < nps; k++) {
        psrc *ps = &pb->psv[k];
        if (ps->goff != SIZE_MAX) {
            ps->p = (const uint8_t *)pb->gout[ps->part].data + ps->goff;
            ps->end = ps->p + ps->glen;
        }
    }
    return 0;
oom:
    return essay_fail(err, ESSAY_ENOMEM, "out of memory while writing the index");
}

static void *post_round(void *arg)
{
    post_job *j = arg;
    post_state *s = j->s;
    j->rc = 0;
    if (j->thread == 0 && s->nxt)
        s->prep_rc = post_prep(s, s->nxt, s->enc->g1, &s->prep_err);
    const post_batch *enc = s->enc;
    unsigned i;
    while (j->rc == 0 && (i = atomic_fetch_add(&s->next_piece, 1)) < POST_PIECES) {
        essay_buf *out = &s->pout[i];
        out->len = 0;
        for (size_t x = s->piece[i]; x < s->piece[i + 1] && j->rc == 0; x++) {
            post_term *q = &enc->pts[x];
            size_t before = out->len;
            j->rc = encode_postings(s->b, enc->psv + q->src, q->n_src, q->df,
                                    q->kind == EF_KIND_STEM, q->vbits, &j->sc, out);
            q->len = (uint32_t)(out->len - before);
        }
    }
    return NULL;
}

static int cmp_terms(const part *pa, uint32_t a, const part *pb, uint32_t b)
{
    const bterm *x = &pa->terms[a], *y = &pb->terms[b];
    size_t n = x->str_len < y->str_len ? x->str_len : y->str_len;
    int c = memcmp(pa->strs.data + x->str_off, pb->strs.data + y->str_off, n);
    if (c)
        return c;
    return (x->str_len > y->str_len) - (x->str_len < y->str_len);
}

/* Order of the terms at sorted ranks i of pa and j of pb (sealed parts):
 * keys first (term_key_of: their order is the bytes' order), the bytes
 * only when equal keys do not settle it. */
static int cmp_ranks(const part *pa, size_t i, const part *pb, size_t j)
{
    uint64_t x = pa->okey[i], y = pb->okey[j];
    if (x != y)
        return x < y ? -1 : 1;
    if (key_whole(x))
        return 0;
    return cmp_terms(pa, pa->order[i], pb, pb->order[j]);
}

/* Merge the parts' sorted term lists into one: term g of the merged list
 * is met in parts inst[first[g] .. first[g + 1]), each (part << 32 |
 * index), and each part's gid maps its terms to their merged rank. */
static int merge_terms(builder *b, uint64_t **inst_out, uint32_t **first_out, essay_error *err)
{
    size_t total = 0;
    b->n_postings = b->n_positions = 0;
    for (unsigned p = 0; p < b->n_parts; p++) {
        total += b->parts[p].n_terms;
        b->n_postings += b->parts[p].n_postings;
        b->n_positions += b->parts[p].n_positions;
    }
    if (total >= UINT32_MAX)
        return essay_fail(err, ESSAY_ELIMIT, "too many terms for one index");
    uint64_t *inst = essay_malloc((total ? total : 1) * sizeof(uint64_t));
    uint32_t *gfirst = essay_malloc((total + 1) * sizeof(uint32_t));
    *inst_out = inst;
    *first_out = gfirst;
    if (!inst || !gfirst)
        return essay_fail(err, ESSAY_ENOMEM, "out of memory while writing the index");
    for (unsigned p = 0; p < b->n_parts; p++) {
        part *pt = &b->parts[p];
        pt->gid = essay_malloc((pt->n_terms ? pt->n_terms : 1) * sizeof(uint32_t));
        if (!pt->gid)
            return essay_fail(err, ESSAY_ENOMEM, "out of memory while writing the index");
    }
    size_t cur[MAX_THREADS] = { 0 };
    uint32_t ng = 0, ni = 0;
    for (;;) {
        unsigned best = UINT_MAX;
        for (unsigned p = 0; p < b->n_parts; p++)
            if (cur[p] < b->parts[p].n_terms &&
                (best == UINT_MAX ||
                 cmp_ranks(&b->parts[p], cur[p], &b->parts[best], cur[best]) < 0))
                best = p;
        if (best == UINT_MAX)
            break;
        gfirst[ng] = ni;
        const part *bp = &b->parts[best];
        size_t bcur = cur[best];
        for (unsigned p = best; p < b->n_parts; p++) {
            part *pt = &b->parts[p];
            if (cur[p] >= pt->n_terms)
                continue;
            uint32_t id = pt->order[cur[p]];
            if (p != best && cmp_ranks(pt, cur[p], bp, bcur) != 0)
                continue;
            inst[ni++] = (uint64_t)p << 32 | id;
            pt->gid[id] = ng;
            /* ids in byte order are random: the store a little ahead */
            if (cur[p] + 16 < pt->n_terms)
                __builtin_prefetch(&pt->gid[pt->order[cur[p] + 16]], 1);
            cur[p]++;
        }
        ng++;
    }
    gfirst[ng] = ni;
    b->n_terms = ng;
    for (unsigned p = 0; p < b->n_parts; p++) {
        essay_free(b->parts[p].order);
        essay_free(b->parts[p].okey);
        b->parts[p].order = NULL;
        b->parts[p].okey = NULL;
    }
    return 0;
}

static int finish(builder *b, sink *out, essay_error *err)
{
    const essay_corpus *c = b->corpus;
    int rc = ESSAY_ENOMEM;
    uint64_t *inst = NULL;
    uint32_t *gfirst = NULL, *nvar = NULL;
    unsigned nj = b->n_parts ? b->n_parts : 1;
    text_job tj[MAX_THREADS];
    text_state ts;
    post_job pj[MAX_THREADS];
    post_state ps;
    memset(tj, 0, sizeof tj);
    memset(&ts, 0, sizeof ts);
    ts.b = b;
    for (unsigned i = 0; i < TEXT_PIECES; i++)
        ts.out[i] = (essay_buf)ESSAY_BUF_INIT;
    memset(pj, 0, sizeof pj);
    memset(&ps, 0, sizeof ps);
    for (unsigned k = 0; k < MAX_THREADS; k++) {
        tj[k].s = &ts;
        pj[k].s = &ps;
        pj[k].thread = k;
        pj[k].sc.docs = pj[k].sc.pos = (essay_buf)ESSAY_BUF_INIT;
        for (unsigned i = 0; i < 2; i++)
            ps.batch[i].gout[k] = (essay_buf)ESSAY_BUF_INIT;
    }
    for (unsigned i = 0; i < POST_PIECES; i++)
        ps.pout[i] = (essay_buf)ESSAY_BUF_INIT;
    ef_term *recs = NULL;
    uint32_t *hash = NULL;
    ef_article *arts = NULL;
    essay_buf tstr = ESSAY_BUF_INIT;
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
    rc = merge_terms(b, &inst, &gfirst, err);
    if (rc != 0)
        goto done;
    rc = ESSAY_ENOMEM;
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
    for (unsigned n = 0; n < 256; n++)
        for (uint32_t tf = 0; tf < TFN_TAB; tf++)
            b->tfn[n][tf] = tf_norm_calc(b->norm_k[n], tf);
    b->norms = norms;
    sink_section(out, EF_NORM, norms, b->n_paras);

    /* TEXT, coded straight from the corpus, each paragraph once; its
     * coded length goes into PARA, the essay ids and paths follow */
    code_len = essay_malloc((b->n_paras ? b->n_paras : 1) * sizeof(uint32_t));
    if (!code_len)
        goto oom;
    ts.code_len = code_len;
    uint64_t text_off = 0;
    sink_begin(out);
    for (size_t o = 0; o < b->n_paras;) {
        /* a batch of about TEXT_BATCH bytes, in pieces of equal shares */
        size_t e = o;
        uint64_t bytes = 0;
        while (e < b->n_paras && bytes < TEXT_BATCH)
            bytes += c->paras[e++].len;
        uint64_t share = bytes / TEXT_PIECES + 1;
        size_t at = o;
        for (unsigned k = 0; k < TEXT_PIECES; k++) {
            uint64_t acc = 0;
            ts.piece[k] = at;
            while (at < e && (acc < share || k + 1 == TEXT_PIECES))
                acc += c->paras[at++].len;
        }
        ts.piece[TEXT_PIECES] = at;
        atomic_store(&ts.next_piece, 0);
        run_parallel(text_job_run, tj, sizeof(text_job), nj);
        for (unsigned k = 0; k < nj; k++) {
            if (tj[k].rc != 0) {
                rc = tj[k].rc == ESSAY_ENOMEM
                         ? essay_fail(err, ESSAY_ENOMEM, "out of memory while writing the index")
                         : essay_fail(err, ESSAY_EINVAL, "internal error: text model");
                goto done;
            }
        }
        for (unsigned i = 0; i < TEXT_PIECES; i++) {
            sink_put(out, ts.out[i].data, ts.out[i].len);
            text_off += ts.out[i].len;
        }
        o = e;
    }
    for (unsigned i = 0; i < TEXT_PIECES; i++)
        essay_buf_free(&ts.out[i]); /* before the postings' peak */
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


    /* Variants: a stem's exact forms numbered by their bytes (their order
     * in the merged term list), so the image does not depend on the order
     * in which the forms were met.  Each part maps its provisional numbers
     * to canonical ones: remap[roff[stem] + provisional]. */
    recs = essay_calloc(b->n_terms ? b->n_terms : 1, sizeof(ef_term));
    nvar = essay_calloc(b->n_terms ? b->n_terms : 1, sizeof(uint32_t));
    if (!recs || !nvar)
        goto oom;
    for (unsigned p = 0; p < b->n_parts; p++) {
        part *pt = &b->parts[p];
        pt->roff = essay_malloc((pt->n_terms ? pt->n_terms : 1) * sizeof(uint32_t));
        if (!pt->roff)
            goto oom;
        size_t at = 0;
        for (size_t i = 0; i < pt->n_terms; i++) {
            pt->roff[i] = (uint32_t)at;
            if (pt->strs.data[pt->terms[i].str_off] == EF_KIND_STEM)
                at += pt->terms[i].var;
        }
        pt->remap = essay_malloc((at ? at : 1) * sizeof(uint32_t));
        if (!pt->remap)
            goto oom;
    }
    for (size_t g = 0; g < b->n_terms; g++) {
        uint64_t i0 = inst[gfirst[g]];
        const part *p0 = &b->parts[i0 >> 32];
        if (p0->strs.data[p0->terms[(uint32_t)i0].str_off] != EF_KIND_EXACT)
            continue;
        uint32_t stem = UINT32_MAX;
        for (uint32_t k = gfirst[g]; k < gfirst[g + 1]; k++) {
            const part *pt = &b->parts[inst[k] >> 32];
            const bterm *x = &pt->terms[(uint32_t)inst[k]];
            if (x->base == 0)
                continue; /* met, but never where its word was indexed */
            uint32_t s = pt->gid[x->base - 1];
            if (stem != UINT32_MAX && s != stem) {
                rc = essay_fail(err, ESSAY_EINVAL, "internal error: inconsistent word forms");
                goto done;
            }
            stem = s;
        }
        if (stem == UINT32_MAX)
            continue;
        if (nvar[stem] >= (1u << EF_MAX_VBITS)) {
            rc = essay_fail(err, ESSAY_ELIMIT, "a word has more than 65536 forms");
            goto done;
        }
        uint32_t canon = nvar[stem]++;
        for (uint32_t k = gfirst[g]; k < gfirst[g + 1]; k++) {
            part *pt = &b->parts[inst[k] >> 32];
            const bterm *x = &pt->terms[(uint32_t)inst[k]];
            if (x->base != 0)
                pt->remap[pt->roff[x->base - 1] + x->var] = canon;
        }
        recs[g].post_off = stem;
        recs[g].post_len = canon;
    }
    for (unsigned p = 0; p < b->n_parts; p++)
        for (size_t i = 0; i < b->parts[p].n_runs; i++)
            if (!(b->parts[p].runs[i].buf = essay_malloc(SPILL_BUF)))
                goto oom;

    /* POST, term by term in byte order, each merged from its parts, a
     * batch at a time (post_round); TERM, TSTR and HASH after it */
    sink_begin(out);
    uint64_t post_len = 0;
    ps.b = b;
    ps.inst = inst;
    ps.gfirst = gfirst;
    ps.nvar = nvar;
    ps.recs = recs;
    ps.tstr = &tstr;
    rc = post_prep(&ps, &ps.batch[0], 0, err);
    if (rc != 0)
        goto done;
    unsigned n_batches = 0;
    for (unsigned cur = 0;; cur ^= 1) {
        post_batch *enc = &ps.batch[cur];
        ps.enc = enc;
        ps.nxt = enc->g1 < b->n_terms ? &ps.batch[cur ^ 1] : NULL;
        /* pieces of about equal source bytes */
        uint64_t share = enc->bytes / POST_PIECES + 1;
        size_t at = 0;
        for (unsigned k = 0; k < POST_PIECES; k++) {
            uint64_t acc = 0;
            ps.piece[k] = at;
            while (at < enc->npt && (acc < share || k + 1 == POST_PIECES))
                acc += enc->pts[at++].bytes;
        }
        ps.piece[POST_PIECES] = at;
        atomic_store(&ps.next_piece, 0);
        ps.prep_rc = 0;
        run_parallel(post_round, pj, sizeof(post_job), nj);
#ifdef __GLIBC__
        /* encoding leaves freed chunks in the threads' heaps: give their
         * pages back now and then, so the peak stays down */
        if (++n_batches % 4 == 0)
            malloc_trim(0);
#endif
        for (unsigned k = 0; k < nj; k++)
            if (pj[k].rc != 0) {
                rc = pj[k].rc;
                goto fail;
            }
        for (unsigned i = 0; i < POST_PIECES; i++) {
            for (size_t x = ps.piece[i]; x < ps.piece[i + 1]; x++) {
                recs[enc->pts[x].g].post_off = post_len;
                recs[enc->pts[x].g].post_len = enc->pts[x].len;
                post_len += enc->pts[x].len;
            }
            sink_put(out, ps.pout[i].data, ps.pout[i].len);
        }
        for (size_t x = enc->g0; x < enc->g1; x++)
            for (uint32_t k = gfirst[x]; k < gfirst[x + 1]; k++) {
                part *pt = &b->parts[inst[k] >> 32];
                term_buf_drop(pt, &pt->terms[(uint32_t)inst[k]]); /* keep the peak down */
            }
        if (ps.prep_rc != 0) {
            rc = ps.prep_rc;
            if (err)
                *err = ps.prep_err;
            goto done;
        }
        if (!ps.nxt)
            break;
    }
    sink_end(out, EF_POST);
    /* the parts are done with: TERM, TSTR and HASH come from recs */
    for (unsigned p = 0; p < b->n_parts; p++) {
        part *pt = &b->parts[p];
        part_release(pt);
        essay_free(pt->gid);
        essay_free(pt->roff);
        essay_free(pt->remap);
        pt->gid = pt->roff = pt->remap = NULL;
    }
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
    essay_fail(err, rc, rc == ESSAY_ENOMEM   ? "out of memory while writing the index"
                        : rc == ESSAY_EINVAL ? "internal error: postings"
                                             : "the index exceeds a format limit");
done:
    essay_free(inst);
    essay_free(gfirst);
    essay_free(nvar);
    for (unsigned k = 0; k < MAX_THREADS; k++) {
        essay_buf_free(&pj[k].sc.docs);
        essay_buf_free(&pj[k].sc.pos);
        essay_free(pj[k].sc.skips);
        for (unsigned i = 0; i < 2; i++)
            essay_buf_free(&ps.batch[i].gout[k]);
    }
    for (unsigned i = 0; i < 2; i++) {
        essay_free(ps.batch[i].pts);
        essay_free(ps.batch[i].psv);
    }
    for (unsigned i = 0; i < POST_PIECES; i++)
        essay_buf_free(&ps.pout[i]);
    for (unsigned i = 0; i < TEXT_PIECES; i++)
        essay_buf_free(&ts.out[i]);
    essay_free(recs);
    essay_free(hash);
    essay_free(arts);
    essay_free(code_len);
    essay_buf_free(&tstr);
    essay_free(norms);
    return rc;
}

static void builder_free(builder *b)
{
    for (unsigned p = 0; b->parts && p < b->n_parts; p++) {
        part *pt = &b->parts[p];
        part_release(pt);
        for (size_t i = 0; i < pt->n_runs; i++)
            essay_free(pt->runs[i].buf);
        essay_free(pt->runs);
        if (pt->spill_fd >= 0)
            close(pt->spill_fd);
        essay_free(pt->order);
        essay_free(pt->okey);
        essay_free(pt->gid);
        essay_free(pt->roff);
        essay_free(pt->remap);
        worker_ctx_free(&pt->w);
    }
    essay_free(b->parts);
    essay_tp_free(b->tp);
    essay_free(b->doclen);
    essay_free(b->chunks);
#ifdef __GLIBC__
    /* a build frees tens of MB in the heaps of its threads, which glibc
     * would keep: give them back, the caller's next step (opening the
     * index it just wrote, say) should not pay for them */
    malloc_trim(0);
#endif
}

/* Analyze the corpus into the parts' term tables (every core). */
static int build_terms(builder *bp, const essay_corpus *corpus, const essay_build_options *opts,
                       const char *spill_near, essay_error *err)
{
    memset(bp, 0, sizeof *bp); /* the caller frees it, whatever happens */
    if (opts && opts->version != ESSAY_BUILD_OPTIONS_VERSION)
        return essay_fail(err, ESSAY_EINVAL, "essay_index_build: unknown options version %u",
                          opts->version);
    if (corpus->n_paras >= UINT32_MAX - 1)
        return essay_fail(err, ESSAY_ELIMIT, "too many paragraphs for one index (%zu)",
                          corpus->n_paras);
#define b (*bp)
    b.corpus = corpus;
    b.opts = opts;
    b.n_paras = corpus->n_paras;
    b.doclen = essay_calloc(b.n_paras ? b.n_paras : 1, sizeof(uint32_t));
    if (!b.doclen || essay_tp_count_new(&b.tp) != 0)
        return essay_fail(err, ESSAY_ENOMEM, "out of memory while indexing");
    /* chunks */
    size_t cap = 0, chunk_bytes = atomic_load(&chunk_bytes_override);
    if (chunk_bytes == 0)
        chunk_bytes = CHUNK_BYTES;
    for (size_t o = 0; o < b.n_paras;) {
        size_t bytes = 0, e = o;
        while (e < b.n_paras && (e == o || bytes < chunk_bytes))
            bytes += corpus->paras[e++].len + 1;
        if (ESSAY_ARRAY_GROW(b.chunks, cap, b.n_chunks + 1) != 0)
            return essay_fail(err, ESSAY_ENOMEM, "out of memory while indexing");
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
    if (nthreads > MAX_THREADS)
        nthreads = MAX_THREADS;
    if (nthreads > b.n_chunks)
        nthreads = b.n_chunks ? (unsigned)b.n_chunks : 1;
    b.parts = essay_calloc(nthreads, sizeof(part));
    if (!b.parts)
        return essay_fail(err, ESSAY_ENOMEM, "out of memory while indexing");
    b.n_parts = nthreads;
    size_t budget = 0;
    if (spill_near) {
        /* postings buffers beyond 1/16 of the text go to disk, each part
         * holding its share */
        uint64_t text = 0;
        for (size_t o = 0; o < corpus->n_paras; o++)
            text += corpus->paras[o].len;
        uint64_t whole = text / 16;
        if (whole < ((uint64_t)4 << 20))
            whole = (uint64_t)4 << 20;
        if (whole > ((uint64_t)1 << 30))
            whole = (uint64_t)1 << 30;
        size_t over = atomic_load(&spill_budget_override);
        budget = (over ? over : (size_t)whole) / nthreads;
        if (budget == 0)
            budget = 1;
        b.spill_near = spill_near;
    }
    for (unsigned i = 0; i < nthreads; i++) {
        b.parts[i].owner = bp;
        b.parts[i].spill_fd = -1;
        b.parts[i].budget = budget;
    }
    pthread_mutex_init(&b.mu, NULL);
    pthread_t tids[MAX_THREADS];
    unsigned n_started = 0;
    for (unsigned i = 1; i < nthreads; i++)
        if (pthread_create(&tids[n_started], NULL, worker_main, &b.parts[i]) == 0)
            n_started++; /* fewer threads is fine: that part stays empty */
    worker_main(&b.parts[0]);
    for (unsigned i = 0; i < n_started; i++)
        pthread_join(tids[i], NULL);
    pthread_mutex_destroy(&b.mu);
#ifdef __GLIBC__
    /* the workers' heaps hold what their analyzers and caches freed: give
     * it back before finish allocates the output's buffers */
    malloc_trim(0);
#endif
    int rc = b.failed;
    if (rc != 0 && err)
        *err = b.err;
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
    sink_io_stop(&s); /* finish may fail before sink_close */
    builder_free(&b);
    essay_buf_free(&s.buf);
    if (rc != 0) {
        essay_saver_abort(sv);
        return rc;
    }
    return essay_saver_commit(sv, err);
}
