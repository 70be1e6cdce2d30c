/*
 * analyze.c - the bilingual analyzer: UTF-8 text in, token stream out.
 *
 * Owns segmentation, normalization and stemming (DESIGN §2); the index, the
 * query parser and `essay tokenize` all consume its stream, so text is never
 * segmented two ways.  Segment first, normalize each token after: every
 * token keeps exact byte offsets into the caller's text.
 *
 * Pipeline per call:
 *   1. validate UTF-8;
 *   2. cut the text into pure-ASCII stretches, ending at ASCII whitespace
 *      (always a word boundary under UAX #29), and the regions around
 *      non-ASCII text;
 *   3. ASCII stretches go through a small state machine that reproduces
 *      ICU's word rules for ASCII exactly (see fast_ascii below); other
 *      regions are converted to UTF-16 in chunks with a map back to UTF-8
 *      offsets and broken by ICU UBRK_WORD (dictionary segmentation for Han),
 *      except that where nothing can join a Han character with its
 *      neighbours, Han runs are segmented with ICU's dictionary directly
 *      (cjdict.c: same words, a fraction of the cost) and only the text
 *      between them goes to ICU;
 *   4. each word is turned into tokens by emit_word(): Latin words are
 *      split at inner punctuation, NFKC-casefolded and stemmed (one stem per
 *      distinct word, cached); Han words give the word, every character and
 *      every adjacent pair, folded to simplified; other scripts are folded.
 */
#include "analyze.h"
#include "cjdict.h"
#include "hash.h"

#include <stdatomic.h>
#include <string.h>

#include <libstemmer.h>
#include <unicode/ubrk.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uscript.h>
#include <unicode/ustring.h>

/* Generated at build time by gen/gen_t2s.c from ICU's transliterator. */
extern const uint32_t essay_t2s_n_pages;
extern const uint16_t essay_t2s_dir[0x300];
extern const uint32_t essay_t2s_pages[][256];

/* ICU regions are broken in chunks of at most this many UTF-16 units: big
 * enough that ubrk_setText() is amortized, small enough to stay in cache. */
#define CHUNK_UNITS 32768
/* An ASCII gap inside non-ASCII text shorter than this stays in the ICU
 * region, so a few short English words do not each cost a new ICU text;
 * longer ones (command lines, option names in translated manuals) take the
 * fast path.  Analyzing the Chinese paragraphs of the 10 MB bench corpus
 * (about half of their bytes ASCII) took 1.9 % fewer instructions at 16
 * than at 256 (cachegrind: 5.78 G against 5.89 G; 64: 5.86 G). */
#define ASCII_GAP_MIN 16
/* At most this many source bytes of one word are folded; longer words are
 * cut (their offsets still cover the whole word) so memory stays bounded. */
#define FOLD_SOURCE_MAX (4 * ESSAY_MAX_TOKEN_BYTES)
/* Word cache: slots (3/4 of them are filled before it is reset).  Sized
 * for a technical corpus's vocabulary: on the 100 MB bench corpus (35,000
 * distinct Latin words) 12,288 live entries meant a reset every few MB and
 * 14x as many folds and stems as words; 49,152 hold it all. */
#define WORD_SLOTS ESSAY_ANALYZE_REF_SLOTS
_Static_assert((uint64_t)WORD_SLOTS << ESSAY_ANALYZE_REF_SHIFT <= UINT32_MAX &&
                   ESSAY_TOKEN_COLOCATED < (1u << ESSAY_ANALYZE_REF_SHIFT),
               "a slot + 1 fits in a token's flags, above its kind bits");

/* The word cache: the source bytes of a Latin word part -> its exact form
 * (folded, cut) and its stem, which are functions of those bytes alone.  A
 * hit skips folding and stemming.  12 bytes a slot, so the table stays
 * within L2 (768 KB); the source, the exact form and the stem follow each other
 * in word_arena. */
typedef struct word_slot {
    uint32_t hash_hi;            /* high half of the source's hash */
    uint32_t off;                /* into word_arena */
    uint16_t src_len;            /* 0 = empty slot */
    uint8_t exact_len;           /* <= ESSAY_MAX_TOKEN_BYTES */
    uint8_t stem_len;
} word_slot;

struct essay_analyzer {
    UBreakIterator *bi;
    const UNormalizer2 *nfkc_cf;
    struct sb_stemmer *stemmer;
    UChar *u16;                  /* ICU chunk */
    const essay_cjdict *cj;      /* Han runs segmented without ICU's iterator */
    uint16_t *cj_u;              /* a run's characters */
    uint32_t *cj_work;           /* its search: 2 * (n + 1), then n ends */
    size_t cj_cap;               /* characters the two hold */
    int32_t *map;                /* u16 index -> byte offset, CHUNK_UNITS + 1 */
    word_slot *words;
    size_t n_words, word_limit; /* emptied when n_words reaches word_limit */
    uint32_t word_gen;           /* changes when the cache is emptied */
    essay_buf word_arena;
    essay_han_cb han_cb;         /* essay_analyzer_han_with */
    const char *shadow;          /* essay_analyzer_prefetch_with */
    size_t shadow_stride;
    char fold[FOLD_SOURCE_MAX * 18 + 16]; /* NFKC may expand 18x (U+FDFA) */
    UChar f16_in[FOLD_SOURCE_MAX + 8];
    UChar f16_out[FOLD_SOURCE_MAX * 18 + 16];
    char compound[FOLD_SOURCE_MAX * 18 + 16];

    /* per run */
    const char *text;
    essay_token_cb cb;
    void *payload;
    int stop;                    /* callback's non-zero value or an error */
    uint32_t next_pos;
    uint32_t last_pos;
    bool any;                    /* a token was emitted */
    /* the last Han character, for bigrams across ICU words */
    bool han_have;
    bool positions_only;        /* ESSAY_ANALYZE_POSITIONS: no stems, no EXACT */
    bool icu_only;              /* ESSAY_ANALYZE_NO_FASTPATH */
    bool word_refs;             /* ESSAY_ANALYZE_WORDREF */
    unsigned ref;               /* the flags' ref bits of the token being emitted */
    uint32_t han_cp;            /* the last Han character, folded */
    char han_u[4];              /* the same in UTF-8 */
    uint8_t han_un;             /* its bytes */
    size_t han_start, han_end;
    uint32_t han_pos;
};

/* ------------------------------------------------------------------------
 * Character classes
 * ---------------------------------------------------------------------- */

bool essay_cp_is_han(uint32_t cp)
{
    if (cp >= 0x4E00 && cp <= 0x9FFF)
        return true;
    return essay_is_han(cp);
}

uint32_t essay_fold_han(const essay_analyzer *a, uint32_t cp)
{
    if (!((cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF))) {
        /* compatibility ideographs, radicals: NFKC maps them to unified ones */
        UChar in[2], out[8];
        int32_t n = 0;
        U16_APPEND_UNSAFE(in, n, (UChar32)cp);
        UErrorCode st = U_ZERO_ERROR;
        int32_t m = unorm2_normalize(a->nfkc_cf, in, n, out, 8, &st);
        if (U_SUCCESS(st) && m > 0) {
            UChar32 c;
            int32_t i = 0;
            U16_NEXT(out, i, m, c);
            if (i == m)
                cp = (uint32_t)c;
        }
    }
    if (cp < 0x30000) {
        uint16_t page = essay_t2s_dir[cp >> 8];
        if (page) {
            uint32_t s = essay_t2s_pages[page - 1][cp & 0xFF];
            if (s)
                return s;
        }
    }
    return cp;
}

/* ASCII classes under ICU 72's word rules (checked against ICU itself by
 * tests/unit/test_analyze.c): '@' is ALetter in ICU's tailoring; ':' is not
 * MidLetter (ICU removes it); '.' and '\'' join letter.letter and
 * digit.digit; ',' and ';' join digit,digit only; '_' joins anything. */
enum { C_OTHER, C_AL, C_NU, C_EX, C_MNL, C_MN, C_SPACE };

static const uint8_t ascii_class[128] = {
    ['\t'] = C_SPACE, ['\n'] = C_SPACE, ['\v'] = C_SPACE, ['\f'] = C_SPACE,
    ['\r'] = C_SPACE, [' '] = C_SPACE,
    ['0'] = C_NU, ['1'] = C_NU, ['2'] = C_NU, ['3'] = C_NU, ['4'] = C_NU,
    ['5'] = C_NU, ['6'] = C_NU, ['7'] = C_NU, ['8'] = C_NU, ['9'] = C_NU,
    ['@'] = C_AL, ['_'] = C_EX, ['.'] = C_MNL, ['\''] = C_MNL, [','] = C_MN, [';'] = C_MN,
    ['A'] = C_AL, ['B'] = C_AL, ['C'] = C_AL, ['D'] = C_AL, ['E'] = C_AL, ['F'] = C_AL,
    ['G'] = C_AL, ['H'] = C_AL, ['I'] = C_AL, ['J'] = C_AL, ['K'] = C_AL, ['L'] = C_AL,
    ['M'] = C_AL, ['N'] = C_AL, ['O'] = C_AL, ['P'] = C_AL, ['Q'] = C_AL, ['R'] = C_AL,
    ['S'] = C_AL, ['T'] = C_AL, ['U'] = C_AL, ['V'] = C_AL, ['W'] = C_AL, ['X'] = C_AL,
    ['Y'] = C_AL, ['Z'] = C_AL,
    ['a'] = C_AL, ['b'] = C_AL, ['c'] = C_AL, ['d'] = C_AL, ['e'] = C_AL, ['f'] = C_AL,
    ['g'] = C_AL, ['h'] = C_AL, ['i'] = C_AL, ['j'] = C_AL, ['k'] = C_AL, ['l'] = C_AL,
    ['m'] = C_AL, ['n'] = C_AL, ['o'] = C_AL, ['p'] = C_AL, ['q'] = C_AL, ['r'] = C_AL,
    ['s'] = C_AL, ['t'] = C_AL, ['u'] = C_AL, ['v'] = C_AL, ['w'] = C_AL, ['x'] = C_AL,
    ['y'] = C_AL, ['z'] = C_AL,
};

static inline bool ascii_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

static inline bool is_space(unsigned char c)
{
    return c < 128 && ascii_class[c] == C_SPACE;
}

/* A code point that belongs inside a word part: letter, digit or mark. */
static bool part_char(uint32_t cp)
{
    if (cp < 0x80)
        return ascii_alnum((unsigned char)cp);
    return u_isalnum((UChar32)cp) || (U_GET_GC_MASK((UChar32)cp) & U_GC_M_MASK);
}

/* Decode one code point of validated text (essay_analyzer_run checks the
 * whole input first); `len` only bounds the read. */
static inline uint32_t decode(const char *s, size_t len, size_t *n)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned char c = u[0];
    if (c < 0x80) {
        *n = 1;
        return c;
    }
    if (c < 0xE0 && len >= 2) {
        *n = 2;
        return ((uint32_t)(c & 0x1F) << 6) | (u[1] & 0x3F);
    }
    if (c < 0xF0 && len >= 3) {
        *n = 3;
        return ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(u[1] & 0x3F) << 6) | (u[2] & 0x3F);
    }
    if (len >= 4) {
        *n = 4;
        return ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(u[1] & 0x3F) << 12) |
               ((uint32_t)(u[2] & 0x3F) << 6) | (u[3] & 0x3F);
    }
    *n = 1; /* validated input never gets here */
    return 0xFFFD;
}

/* Largest prefix of s[0..len) ending on a character boundary, <= max. */
static size_t cut_utf8(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

/* ------------------------------------------------------------------------
 * Emission
 * ---------------------------------------------------------------------- */

static int emit(essay_analyzer *a, unsigned kind, const char *term, size_t term_len,
                size_t start, size_t end, uint32_t pos)
{
    if (a->stop)
        return a->stop;
    essay_token t;
    t.term = term;
    t.term_len = cut_utf8(term, term_len, ESSAY_MAX_TOKEN_BYTES);
    t.start = start;
    t.end = end;
    t.position = pos;
    t.flags = kind | (a->any && pos == a->last_pos ? ESSAY_TOKEN_COLOCATED : 0u) | a->ref;
    a->any = true;
    a->last_pos = pos;
    int rc = a->cb(a->payload, &t);
    if (rc)
        a->stop = rc;
    return rc;
}

/* U+2019 (the typographic apostrophe of don’t) folds to ASCII ', so a
 * compound typed either way is the same term.  In place; returns the length. */
static size_t unify_quotes(char *s, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (i + 2 < len && memcmp(s + i, "\xE2\x80\x99", 3) == 0) {
            s[o++] = '\'';
            i += 2;
        } else {
            s[o++] = s[i];
        }
    }
    return o;
}

/* NFKC casefold s[0..len) into a->fold; returns the folded length.  Pure
 * ASCII is lowered directly; otherwise ICU's quick check decides. */
static size_t fold_utf8(essay_analyzer *a, const char *s, size_t len, char *out)
{
    len = cut_utf8(s, len, FOLD_SOURCE_MAX);
    bool ascii = true;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            ascii = false;
            break;
        }
        out[i] = (char)(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
    }
    if (ascii)
        return len;

    int32_t n16 = 0;
    for (size_t i = 0; i < len;) {
        size_t k;
        uint32_t cp = decode(s + i, len - i, &k);
        U16_APPEND_UNSAFE(a->f16_in, n16, (UChar32)cp);
        i += k;
    }
    UErrorCode st = U_ZERO_ERROR;
    const UChar *src = a->f16_in;
    int32_t n_src = n16;
    if (unorm2_spanQuickCheckYes(a->nfkc_cf, a->f16_in, n16, &st) != n16 || U_FAILURE(st)) {
        st = U_ZERO_ERROR;
        n_src = unorm2_normalize(a->nfkc_cf, a->f16_in, n16, a->f16_out,
                                 (int32_t)ESSAY_ARRAY_LEN(a->f16_out), &st);
        if (U_FAILURE(st)) { /* cannot happen with 18x room; keep the original */
            memcpy(out, s, len);
            return len;
        }
        src = a->f16_out;
    } else {
        memcpy(out, s, len);   /* already normalized: the bytes are the term */
        return unify_quotes(out, len);
    }
    size_t o = 0;
    for (int32_t i = 0; i < n_src;) {
        UChar32 c;
        U16_NEXT(src, i, n_src, c);
        o += essay_utf8_encode((uint32_t)c, out + o);
    }
    return unify_quotes(out, o);
}

/* One part of a Latin (or other-script) word: folded, stemmed when Latin.
 * h is essay_hash64 of the part when it may be in the word cache (computed
 * ahead by fast_ascii, which prefetched its slot; emit_part computes it). */
static int emit_part_hashed(essay_analyzer *a, bool latin, size_t start, size_t end,
                            uint32_t pos, uint64_t h)
{
    if (!latin || a->positions_only) {
        size_t n = fold_utf8(a, a->text + start, end - start, a->fold);
        if (n == 0)
            return 0;
        /* highlighting: positions and offsets are enough, no stem */
        return emit(a, latin ? ESSAY_TOKEN_WORD : ESSAY_TOKEN_OTHER, a->fold, n, start, end,
                    pos);
    }
    const char *src = a->text + start;
    size_t slen = end - start;
    bool cacheable = slen <= FOLD_SOURCE_MAX;
    size_t mask = WORD_SLOTS - 1, i = 0;
    if (cacheable) {
        uint32_t hi = (uint32_t)(h >> 32);
        for (i = (size_t)h & mask;; i = (i + 1) & mask) {
            const word_slot *ws = &a->words[i];
            if (ws->src_len == 0)
                break;
            if (ws->hash_hi == hi && ws->src_len == slen &&
                essay_same_bytes(a->word_arena.data + ws->off, src, slen)) {
                const char *exact = a->word_arena.data + ws->off + slen;
                if (a->word_refs)
                    a->ref = (unsigned)(i + 1) << ESSAY_ANALYZE_REF_SHIFT;
                int rc = emit(a, ESSAY_TOKEN_WORD, exact + ws->exact_len, ws->stem_len, start,
                              end, pos);
                if (rc == 0)
                    rc = emit(a, ESSAY_TOKEN_EXACT, exact, ws->exact_len, start, end, pos);
                a->ref = 0;
                return rc;
            }
        }
    }
    size_t n = fold_utf8(a, src, slen, a->fold);
    if (n == 0)
        return 0;
    /* Cut before stemming: the stem is then a function of the exact form
     * as indexed, so one exact form never has two stems (the index keeps
     * exact forms as variants of their stem). */
    n = cut_utf8(a->fold, n, ESSAY_MAX_TOKEN_BYTES);
    bool has_letter = false;
    for (size_t k = 0; k < n && !has_letter; k++)
        has_letter = !((unsigned char)a->fold[k] >= '0' && (unsigned char)a->fold[k] <= '9');
    const char *stem = a->fold;
    size_t stem_len = n;
    if (has_letter) {
        const sb_symbol *r = sb_stemmer_stem(a->stemmer, (const sb_symbol *)a->fold, (int)n);
        if (!r)
            return a->stop = ESSAY_ENOMEM;
        stem = (const char *)r;
        stem_len = (size_t)sb_stemmer_length(a->stemmer);
    }
    if (cacheable && stem_len <= UINT8_MAX) {
        if (a->n_words >= a->word_limit || a->word_arena.len > (64u << 20)) {
            /* full: start over (the cache is a speed-up, never a semantic) */
            memset(a->words, 0, WORD_SLOTS * sizeof(word_slot));
            a->n_words = 0;
            a->word_gen++;
            a->word_arena.len = 0;
            for (i = (size_t)h & mask; a->words[i].src_len; i = (i + 1) & mask)
                ;
        }
        size_t off = a->word_arena.len;
        if (essay_buf_put(&a->word_arena, src, slen) == 0 &&
            essay_buf_put(&a->word_arena, a->fold, n) == 0 &&
            essay_buf_put(&a->word_arena, stem, stem_len) == 0) {
            word_slot *ws = &a->words[i];
            ws->hash_hi = (uint32_t)(h >> 32);
            ws->off = (uint32_t)off;
            ws->src_len = (uint16_t)slen;
            ws->exact_len = (uint8_t)n;
            ws->stem_len = (uint8_t)stem_len;
            a->n_words++;
            if (a->word_refs)
                a->ref = (unsigned)(i + 1) << ESSAY_ANALYZE_REF_SHIFT;
        } else {
            a->word_arena.len = off; /* out of memory: just not cached */
        }
    }
    int rc = emit(a, ESSAY_TOKEN_WORD, stem, stem_len, start, end, pos);
    if (rc == 0)
        rc = emit(a, ESSAY_TOKEN_EXACT, a->fold, n, start, end, pos);
    a->ref = 0;
    return rc;
}

static int emit_part(essay_analyzer *a, bool latin, size_t start, size_t end, uint32_t pos)
{
    size_t slen = end - start;
    uint64_t h = latin && !a->positions_only && slen <= FOLD_SOURCE_MAX
                     ? essay_hash64(a->text + start, slen)
                     : 0;
    return emit_part_hashed(a, latin, start, end, pos, h);
}

/* Han characters of [s, e): unigrams at character positions, bigrams of
 * adjacent characters (also across ICU words), and the dictionary word
 * itself when `word` and it has 2+ characters.  Characters are decoded and
 * folded once, in stretches of HAN_BATCH (a dictionary word fits in one). */
#define HAN_BATCH 64
static int emit_han(essay_analyzer *a, size_t s, size_t e, bool word)
{
    uint32_t f[HAN_BATCH];
    struct { uint32_t cs, ce; } hc[HAN_BATCH];
    char term[ESSAY_MAX_TOKEN_BYTES + 8];
    size_t term_len = 0, n_chars = 0;
    const size_t s0 = s;
    while (s < e) {
        size_t n = 0, i = s;
        bool gaps = false; /* characters other than Han in between */
        while (i < e && n < HAN_BATCH) {
            size_t k;
            uint32_t cp = decode(a->text + i, e - i, &k);
            if (essay_cp_is_han(cp)) {
                f[n] = essay_fold_han(a, cp);
                hc[n].cs = (uint32_t)(i - s);
                hc[n].ce = (uint32_t)(i - s + k);
                n++;
            } else {
                gaps = true;
            }
            i += k;
        }
        if (word && s == s0) {
            /* the word's term: its folded characters, up to the token cap */
            for (size_t j = 0; j < n && term_len + 4 <= ESSAY_MAX_TOKEN_BYTES; j++)
                term_len += essay_utf8_encode(f[j], term + term_len);
            n_chars = n;
            for (size_t r = i; r < e;) { /* longer than a stretch: rare */
                size_t k;
                uint32_t cp = decode(a->text + r, e - r, &k);
                r += k;
                if (!essay_cp_is_han(cp))
                    continue;
                n_chars++;
                if (term_len + 4 <= ESSAY_MAX_TOKEN_BYTES)
                    term_len += essay_utf8_encode(essay_fold_han(a, cp), term + term_len);
            }
        }
        if (a->han_cb && !gaps && n > 0 && !a->positions_only) {
            /* the build's bulk hand-off (essay_analyzer_han_with) */
            if (a->stop)
                return a->stop;
            uint32_t pos = a->next_pos;
            bool w = word && s == s0 && n_chars >= 2;
            int rc = a->han_cb(a->payload, f, n, pos,
                               a->han_have && a->han_end == s + hc[0].cs ? a->han_cp : 0,
                               w ? term : NULL, w ? term_len : 0);
            if (rc)
                return a->stop = rc;
            a->next_pos += (uint32_t)n;
            a->any = true;
            a->last_pos = pos + (uint32_t)n - 1;
            a->han_have = true;
            a->han_cp = f[n - 1];
            memset(a->han_u, 0, sizeof a->han_u);
            a->han_un = (uint8_t)essay_utf8_encode(f[n - 1], a->han_u);
            a->han_start = s + hc[n - 1].cs;
            a->han_end = s + hc[n - 1].ce;
            a->han_pos = a->last_pos;
            s = i;
            continue;
        }
        for (size_t j = 0; j < n; j++) {
            size_t cs = s + hc[j].cs, ce = s + hc[j].ce;
            char u[8] = { 0 };
            size_t un = essay_utf8_encode(f[j], u);
            if (a->han_have && a->han_end == cs) {
                char bi[8];
                size_t bn = a->han_un;
                memcpy(bi, a->han_u, 4); /* fixed sizes: no calls */
                memcpy(bi + bn, u, 4);
                if (emit(a, ESSAY_TOKEN_HAN_BIGRAM, bi, bn + un, a->han_start, ce, a->han_pos))
                    return a->stop;
            }
            uint32_t pos = a->next_pos++;
            if (j == 0 && s == s0 && word && n_chars >= 2 &&
                emit(a, ESSAY_TOKEN_HAN_WORD, term, term_len, s0, e, pos))
                return a->stop;
            if (emit(a, ESSAY_TOKEN_HAN_UNIGRAM, u, un, cs, ce, pos))
                return a->stop;
            a->han_have = true;
            a->han_cp = f[j];
            memcpy(a->han_u, u, 4);
            a->han_un = (uint8_t)un;
            a->han_start = cs;
            a->han_end = ce;
            a->han_pos = pos;
        }
        s = i;
    }
    return 0;
}

/* The next maximal run of part characters in t[*i..e): true and its
 * bounds, advancing *i past it; false when none is left. */
static bool next_part(const char *t, size_t *i, size_t e, size_t *ps, size_t *pe)
{
    size_t j = *i, k;
    bool in = false;
    while (j < e) {
        unsigned char c = (unsigned char)t[j];
        uint32_t cp = c < 0x80 ? (k = 1, c) : decode(t + j, e - j, &k);
        if (part_char(cp)) {
            if (!in)
                *ps = j;
            in = true;
        } else if (in) {
            break;
        }
        j += k;
    }
    *i = j;
    *pe = j;
    return in;
}

/*
 * One word segment [s, e) of the original text, as ICU (or the ASCII fast
 * path) delimited it.  Latin words with inner punctuation (index.html,
 * user@host, don't, 3.14) are indexed as their letter-and-digit parts at
 * consecutive positions, the whole compound colocated with the first part
 * (DESIGN §2.7).
 */
static int emit_word(essay_analyzer *a, size_t s, size_t e)
{
    const char *t = a->text;
    bool han = false, other = false, alnum = false, pure = true;
    for (size_t i = s; i < e;) {
        unsigned char c = (unsigned char)t[i];
        if (c < 0x80) {
            alnum |= ascii_alnum(c);
            pure = false;
            i++;
            continue;
        }
        size_t k;
        uint32_t cp = decode(t + i, e - i, &k);
        i += k;
        if (essay_cp_is_han(cp)) {
            han = true;
            alnum = true;
            continue;
        }
        pure = false;
        if (!part_char(cp))
            continue;
        alnum = true;
        if (u_isalpha((UChar32)cp)) {
            UErrorCode st = U_ZERO_ERROR;
            UScriptCode sc = uscript_getScript((UChar32)cp, &st);
            if (sc != USCRIPT_LATIN && sc != USCRIPT_COMMON && sc != USCRIPT_INHERITED)
                other = true;
        }
    }
    if (!alnum)
        return 0;   /* symbols, emoji, lone punctuation: not indexed */
    if (han) {
        if (!pure) {
            /* Han with kana, a joiner or a mark in one word (Japanese, or
             * decorated text): its Han characters first, so Chinese
             * substrings still match and a pair with the character before
             * keeps its (earlier) position; then the whole word. */
            if (emit_han(a, s, e, false))
                return a->stop;
            size_t n = fold_utf8(a, t + s, e - s, a->fold);
            return n ? emit(a, ESSAY_TOKEN_OTHER, a->fold, n, s, e, a->next_pos++) : 0;
        }
        return emit_han(a, s, e, true);
    }

    bool latin = !other;
    size_t ps, pe, i = s;
    if (!next_part(t, &i, e, &ps, &pe))
        return 0;
    size_t rest = i, qs, qe;
    if (!next_part(t, &rest, e, &qs, &qe))   /* a plain word */
        return emit_part(a, latin, ps, pe, a->next_pos++);

    /* a compound: parts at consecutive positions, the whole at the first */
    uint32_t pos0 = a->next_pos;
    if (emit_part(a, latin, ps, pe, a->next_pos++))
        return a->stop;
    size_t n = fold_utf8(a, t + s, e - s, a->compound);
    if (emit(a, ESSAY_TOKEN_COMPOUND, a->compound, n, s, e, pos0))
        return a->stop;
    do {
        if (emit_part(a, latin, qs, qe, a->next_pos++))
            return a->stop;
    } while (next_part(t, &rest, e, &qs, &qe));
    return 0;
}

/* ------------------------------------------------------------------------
 * Segmentation
 * ---------------------------------------------------------------------- */

/* The next word of t[i, e) under fast_ascii's rules: its bounds (equal when
 * there is none) and whether it is plain (letters and digits only, no '@',
 * '_' or inner punctuation: one part, emit_word's scans can be skipped);
 * returns where the scan stopped. */
static size_t ascii_word(const unsigned char *t, size_t i, size_t e, size_t *ws, size_t *we,
                         bool *plain_out)
{
    *ws = *we = i;
    while (i < e) {
        unsigned c = ascii_class[t[i]];
        if (c != C_AL && c != C_NU && c != C_EX) {
            i++;
            continue;
        }
        /* plain: letters and digits only (no '@', '_' or inner punctuation),
         * so the word is one part and emit_word's scans can be skipped */
        bool plain = c != C_EX && t[i] != '@';
        size_t start = i++;
        unsigned last = c;
        while (i < e) {
            c = ascii_class[t[i]];
            if (c == C_AL || c == C_NU) {
                plain &= t[i] != '@';
                last = c;
                i++;
                continue;
            }
            if (c == C_EX) {
                plain = false;
                last = c;
                i++;
                continue;
            }
            if ((c == C_MNL || c == C_MN) && i + 1 < e) {
                unsigned n = ascii_class[t[i + 1]];
                if ((last == C_AL && c == C_MNL && n == C_AL) || (last == C_NU && n == C_NU)) {
                    plain = false;
                    last = n;
                    i += 2;
                    continue;
                }
            }
            break;
        }
        *ws = start;
        *we = i;
        *plain_out = plain;
        return i;
    }
    *ws = *we = i;
    return i;
}

/* UAX #29 over pure ASCII, as ICU 72 tailors it (WB5-WB13b).  Words are
 * found ASCII_AHEAD at a time and their word-cache slots prefetched, so the
 * slot of the next words is on its way while one is emitted (the cache is
 * bigger than L2, and nearly every word is in it). */
#define ASCII_AHEAD 8
static int fast_ascii(essay_analyzer *a, size_t s, size_t e)
{
    const unsigned char *t = (const unsigned char *)a->text;
    struct { size_t s, e; uint64_t h; bool plain; } w[ASCII_AHEAD];
    size_t i = s;
    while (i < e) {
        unsigned nw = 0;
        while (nw < ASCII_AHEAD && i < e) {
            size_t ws, we;
            bool plain = false;
            i = ascii_word(t, i, e, &ws, &we, &plain);
            if (ws == we)
                break;
            w[nw].s = ws;
            w[nw].e = we;
            w[nw].plain = plain;
            w[nw].h = 0;
            if (plain && we - ws <= FOLD_SOURCE_MAX) {
                w[nw].h = essay_hash64(a->text + ws, we - ws);
                size_t slot = (size_t)w[nw].h & (WORD_SLOTS - 1);
                __builtin_prefetch(&a->words[slot]);
                if (a->shadow)
                    __builtin_prefetch(a->shadow + slot * a->shadow_stride);
            }
            nw++;
        }
        for (unsigned k = 0; k < nw; k++) {
            /* and the cached bytes of a word two ahead, once its slot is in */
            if (k + 2 < nw && w[k + 2].plain) {
                const word_slot *ws = &a->words[w[k + 2].h & (WORD_SLOTS - 1)];
                if (ws->src_len != 0)
                    __builtin_prefetch(a->word_arena.data + ws->off);
            }
            if (w[k].plain ? emit_part_hashed(a, true, w[k].s, w[k].e, a->next_pos++, w[k].h)
                           : emit_word(a, w[k].s, w[k].e))
                return a->stop;
        }
    }
    return 0;
}

/* A safe place to cut an ICU chunk: right after ASCII whitespace or CJK
 * sentence punctuation, both word boundaries under UAX #29. */
static bool chunk_cut_after(UChar c)
{
    return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == 0x3002 || c == 0xFF0C ||
           c == 0x3001 || c == 0xFF01 || c == 0xFF1F || c == 0xFF1B || c == 0xFF1A;
}

/* ICU's dictionary segmentation does not survive a failed allocation:
 * ICU 72's CjkBreakEngine writes through the buffer of a vector it could
 * not allocate.  Its working memory is a few vectors as long as the Han
 * run, so before ICU breaks a chunk, check that several times that much
 * can still be had: running out of memory then ends here, as
 * ESSAY_ENOMEM, and not in a crash inside ICU. */
static bool icu_headroom(int32_t units)
{
    void *p = essay_malloc((size_t)units * 64 + (1u << 20));
    if (!p)
        return false;
    essay_free(p);
    return true;
}

static int icu_break(essay_analyzer *a, size_t s, size_t e)
{
    const char *t = a->text;
    while (s < e) {
        /* convert up to CHUNK_UNITS - 2 units, recording byte offsets */
        int32_t n = 0;
        size_t i = s;
        while (i < e && n < CHUNK_UNITS - 2) {
            size_t k;
            uint32_t cp = decode(t + i, e - i, &k);
            a->map[n] = (int32_t)(i - s);
            if (cp > 0xFFFF)
                a->map[n + 1] = (int32_t)(i - s);
            U16_APPEND_UNSAFE(a->u16, n, (UChar32)cp);
            i += k;
        }
        a->map[n] = (int32_t)(i - s);
        if (i < e) {
            /* the region goes on: cut after the last safe character */
            int32_t cut = n;
            while (cut > n / 2 && !chunk_cut_after(a->u16[cut - 1]))
                cut--;
            if (cut > n / 2) {
                n = cut;
                i = s + (size_t)a->map[cut];
            } else if (U16_IS_LEAD(a->u16[n - 1])) {
                n--; /* never split a surrogate pair */
                i = s + (size_t)a->map[n];
            }
        }
        a->map[n] = (int32_t)(i - s);

        if (!icu_headroom(n))
            return a->stop = ESSAY_ENOMEM;
        UErrorCode st = U_ZERO_ERROR;
        ubrk_setText(a->bi, a->u16, n, &st);
        if (U_FAILURE(st))
            return a->stop = ESSAY_EICU;
        int32_t p = ubrk_first(a->bi), q;
        while ((q = ubrk_next(a->bi)) != UBRK_DONE) {
            if (ubrk_getRuleStatus(a->bi) >= UBRK_WORD_NONE_LIMIT &&
                emit_word(a, s + (size_t)a->map[p], s + (size_t)a->map[q]))
                return a->stop;
            p = q;
        }
        s = i;
    }
    return 0;
}

/*
 * Han runs without the break iterator (cjdict.h).  UAX #29 as ICU tailors
 * it never joins a Han character with its neighbours, except through
 * Extend, Format and ZWJ characters (WB4: marks, joiners, emoji modifiers)
 * and in ICU's dictionary ranges, which also take kana and, with engines of
 * their own, South-East Asian scripts and Hangul.  In a region without
 * those, whose Han characters cjdict all covers, every Han run is therefore
 * one dictionary range of its own, and the text between runs breaks as it
 * would alone: pure ASCII through the fast path, anything with letters or
 * digits through ICU; the rest (spaces, punctuation) gives no token.
 * tests/unit/test_analyze.c and fuzz/analyze_fuzzer.c compare the tokens
 * with those of ICU alone (ESSAY_ANALYZE_NO_FASTPATH).
 */
static bool han_direct_ok(const essay_analyzer *a, size_t s, size_t e)
{
    const char *t = a->text;
    bool any = false;
    for (size_t i = s; i < e;) {
        if ((unsigned char)t[i] < 0x80) {
            i++;
            continue;
        }
        size_t k;
        uint32_t cp = decode(t + i, e - i, &k);
        i += k;
        if (essay_cjdict_char(a->cj, cp)) {
            any = true;
            continue;
        }
        if (essay_cp_is_han(cp) || (cp >= 0x3040 && cp <= 0x30FF) ||
            (cp >= 0x31F0 && cp <= 0x31FF) || (cp >= 0xFF65 && cp <= 0xFF9F) ||
            (cp >= 0x1100 && cp <= 0x11FF) || (cp >= 0x3130 && cp <= 0x318F) ||
            (cp >= 0xA960 && cp <= 0xA97F) || (cp >= 0xAC00 && cp <= 0xD7FF) ||
            cp == 0x200D || cp == 0x200C)
            return false;
        int32_t wb = u_getIntPropertyValue((UChar32)cp, UCHAR_WORD_BREAK);
        if (wb == U_WB_EXTEND || wb == U_WB_FORMAT || wb == U_WB_ZWJ || wb == U_WB_KATAKANA ||
            u_getIntPropertyValue((UChar32)cp, UCHAR_LINE_BREAK) == U_LB_COMPLEX_CONTEXT)
            return false;
    }
    return any;
}

static bool cj_reserve(essay_analyzer *a, size_t n)
{
    if (n <= a->cj_cap)
        return true;
    size_t cap = a->cj_cap ? a->cj_cap : 256;
    while (cap < n)
        cap *= 2;
    uint16_t *u = essay_realloc(a->cj_u, cap * sizeof(uint16_t));
    if (u)
        a->cj_u = u;
    uint32_t *w = u ? essay_realloc(a->cj_work, (3 * cap + 2) * sizeof(uint32_t)) : NULL;
    if (!w)
        return false;
    a->cj_work = w;
    a->cj_cap = cap;
    return true;
}

static int han_direct(essay_analyzer *a, size_t s, size_t e)
{
    const char *t = a->text;
    size_t i = s;
    while (i < e && !a->stop) {
        size_t k, j = i;
        uint32_t cp = decode(t + i, e - i, &k);
        if (essay_cjdict_char(a->cj, cp)) {
            /* a run: three bytes a character */
            size_t n = 0;
            while (j < e && essay_cjdict_char(a->cj, cp = decode(t + j, e - j, &k))) {
                if (n == a->cj_cap && !cj_reserve(a, n + 1))
                    return a->stop = ESSAY_ENOMEM;
                a->cj_u[n++] = (uint16_t)cp;
                j += k;
            }
            uint32_t *ends = a->cj_work + 2 * (n + 1);
            size_t m = essay_cjdict_segment(a->cj, a->cj_u, n, a->cj_work, ends);
            size_t from = i;
            for (size_t w = 0; w < m && !a->stop; w++) {
                emit_han(a, from, i + 3 * (size_t)ends[w], true);
                from = i + 3 * (size_t)ends[w];
            }
        } else {
            /* up to the next run */
            bool ascii = true, alnum = false;
            while (j < e) {
                unsigned char c = (unsigned char)t[j];
                if (c < 0x80) {
                    alnum |= ascii_alnum(c);
                    j++;
                    continue;
                }
                cp = decode(t + j, e - j, &k);
                if (essay_cjdict_char(a->cj, cp))
                    break;
                ascii = false;
                alnum |= part_char(cp);
                j += k;
            }
            if (alnum && (ascii ? fast_ascii(a, i, j) : icu_break(a, i, j)))
                return a->stop;
        }
        i = j;
    }
    return a->stop;
}

static int icu_region(essay_analyzer *a, size_t s, size_t e)
{
    if (a->cj && !a->icu_only && han_direct_ok(a, s, e))
        return han_direct(a, s, e);
    return icu_break(a, s, e);
}

/*
 * Positions mode (highlighting): the same positions and base tokens, with
 * Han runs taken out of ICU's hands.  Pure Han words give one position per
 * character whatever the dictionary says, and UAX #29 never joins a Han
 * character with a neighbour except through Extend/Format/ZWJ, so a region
 * without those and without kana (where Han+kana words get an extra
 * position) can be split at Han runs: the runs are emitted directly and the
 * rest goes through ICU as before.  Other regions take the full path.
 */
static bool needs_full_icu(const essay_analyzer *a, size_t s, size_t e)
{
    const char *t = a->text;
    for (size_t i = s; i < e;) {
        unsigned char c = (unsigned char)t[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        uint32_t cp = decode(t + i, e - i, &k);
        i += k;
        if (essay_cp_is_han(cp))
            continue;
        if ((cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0x31F0 && cp <= 0x31FF) ||
            (cp >= 0xFF65 && cp <= 0xFF9F) || cp == 0x200D || cp == 0x200C)
            return true;
        int8_t ct = u_charType((UChar32)cp);
        if (ct == U_NON_SPACING_MARK || ct == U_ENCLOSING_MARK ||
            ct == U_COMBINING_SPACING_MARK || ct == U_FORMAT_CHAR)
            return true;
    }
    return false;
}

static int icu_region_positions(essay_analyzer *a, size_t s, size_t e)
{
    if (needs_full_icu(a, s, e))
        return icu_region(a, s, e);
    const char *t = a->text;
    size_t i = s;
    while (i < e && !a->stop) {
        size_t j = i, k;
        bool han = essay_cp_is_han(decode(t + i, e - i, &k));
        while (j < e) {
            uint32_t cp = decode(t + j, e - j, &k);
            if (essay_cp_is_han(cp) != han)
                break;
            j += k;
        }
        if (han ? emit_han(a, i, j, false) : icu_region(a, i, j))
            break;
        i = j;
    }
    return a->stop;
}

int essay_analyzer_run(essay_analyzer *a, const char *text, size_t len, unsigned flags,
                       essay_token_cb cb, void *payload, essay_error *err)
{
    size_t bad = flags & ESSAY_ANALYZE_VALID ? len : essay_utf8_validate(text, len);
    if (bad < len)
        return essay_error_set(err, ESSAY_ESYNTAX, NULL, 0, 0, bad,
                               "invalid UTF-8 at byte %zu", bad);
    a->text = text;
    a->cb = cb;
    a->payload = payload;
    a->stop = 0;
    a->next_pos = 0;
    a->last_pos = 0;
    a->any = false;
    a->han_have = false;
    a->positions_only = (flags & ESSAY_ANALYZE_POSITIONS) != 0;
    a->icu_only = (flags & ESSAY_ANALYZE_NO_FASTPATH) != 0;
    a->word_refs = (flags & ESSAY_ANALYZE_WORDREF) != 0;
    a->ref = 0;

    const unsigned char *t = (const unsigned char *)text;
    size_t i = 0;
    if (flags & ESSAY_ANALYZE_NO_FASTPATH) {
        icu_region(a, 0, len);
        i = len;
    }
    while (i < len && !a->stop) {
        size_t na = i;
        while (na < len && t[na] < 0x80)
            na++;
        if (na == len) {
            fast_ascii(a, i, len);
            break;
        }
        size_t ws = na;
        while (ws > i && !is_space(t[ws - 1]))
            ws--;
        if (ws > i) {
            if (fast_ascii(a, i, ws))
                break;
            i = ws;
        }
        /* the ICU region ends at whitespace followed by a long ASCII gap */
        size_t p = na, r = len;
        for (;;) {
            while (p < len && !is_space(t[p]))
                p++;
            if (p >= len)
                break;
            size_t next = p;
            while (next < len && t[next] < 0x80 && next - p < ASCII_GAP_MIN)
                next++;
            if (next >= len || next - p >= ASCII_GAP_MIN) {
                r = p;
                break;
            }
            p = next;
        }
        if ((flags & ESSAY_ANALYZE_POSITIONS) ? icu_region_positions(a, i, r)
                                              : icu_region(a, i, r))
            break;
        i = r;
    }
    int rc = a->stop;
    a->text = NULL;
    if (rc == ESSAY_EICU)
        return essay_fail(err, ESSAY_EICU, "ICU word break failed");
    if (rc == ESSAY_ENOMEM)
        return essay_fail(err, ESSAY_ENOMEM, "out of memory");
    return rc;
}

void essay_analyzer_han_with(essay_analyzer *a, essay_han_cb cb)
{
    a->han_cb = cb;
}

void essay_analyzer_prefetch_with(essay_analyzer *a, const void *base, size_t stride)
{
    a->shadow = base;
    a->shadow_stride = stride;
}

const uint32_t *essay_analyzer_word_gen(const essay_analyzer *a)
{
    return &a->word_gen;
}

static _Atomic size_t word_limit_override;

void essay_analyze_word_cache_limit(size_t n)
{
    atomic_store(&word_limit_override, n);
}

int essay_analyzer_new(essay_analyzer **out, essay_error *err)
{
    *out = NULL;
    essay_analyzer *a = essay_calloc(1, sizeof(*a));
    if (!a)
        return essay_fail(err, ESSAY_ENOMEM, "out of memory");
    a->word_limit = atomic_load(&word_limit_override);
    if (a->word_limit == 0 || a->word_limit > WORD_SLOTS * 3 / 4)
        a->word_limit = WORD_SLOTS * 3 / 4;
    UErrorCode st = U_ZERO_ERROR;
    a->nfkc_cf = unorm2_getNFKCCasefoldInstance(&st);
    if (U_FAILURE(st)) {
        essay_analyzer_free(a);
        return essay_fail(err, ESSAY_EICU, "ICU NFKC_Casefold: %s", u_errorName(st));
    }
    /* the root locale's rules include dictionary segmentation for Han */
    a->bi = ubrk_open(UBRK_WORD, "", NULL, 0, &st);
    if (U_FAILURE(st)) {
        a->bi = NULL;
        essay_analyzer_free(a);
        return essay_fail(err, st == U_MEMORY_ALLOCATION_ERROR ? ESSAY_ENOMEM : ESSAY_EICU,
                          "ICU word break iterator: %s", u_errorName(st));
    }
    a->stemmer = sb_stemmer_new("english", "UTF_8");
    a->cj = essay_cjdict_get();
    a->u16 = essay_malloc(CHUNK_UNITS * sizeof(UChar));
    a->map = essay_malloc((CHUNK_UNITS + 1) * sizeof(int32_t));
    a->words = essay_calloc(WORD_SLOTS, sizeof(word_slot));
    if (!a->stemmer || !a->u16 || !a->map || !a->words) {
        essay_analyzer_free(a);
        return essay_fail(err, ESSAY_ENOMEM, "out of memory");
    }
    *out = a;
    return 0;
}

void essay_analyzer_free(essay_analyzer *a)
{
    if (!a)
        return;
    if (a->bi)
        ubrk_close(a->bi);
    if (a->stemmer)
        sb_stemmer_delete(a->stemmer);
    essay_free(a->u16);
    essay_free(a->cj_u);
    essay_free(a->cj_work);
    essay_free(a->map);
    essay_free(a->words);
    essay_buf_free(&a->word_arena);
    essay_free(a);
}
