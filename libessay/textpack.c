/*
 * textpack.c - order-1 canonical Huffman coding of paragraph text.
 *
 * This file owns the text model of an index: counting byte pairs, building
 * length-limited codes, the model's serialized form, and coding single
 * paragraphs.  Where a coded paragraph lives and how long it was are the
 * caller's business (the index stores both).
 *
 * Serialized model (all single bytes; nothing wider, so no byte order):
 *
 *   u8      format           ESSAY_TP_FORMAT (1)
 *   u8      max_bits         ESSAY_TP_MAX_BITS (11); any other is refused
 *   u8[32]  contexts         bit c (byte c >> 3, bit c & 7) set: context c
 *                            has a code, i.e. byte c was followed by something
 *   then per context with a code, in ascending order:
 *     u8      n - 1          n = distinct bytes that follow it, 1..256
 *     n < 32:  u8[n]         those bytes, strictly ascending
 *     n >= 32: u8[32]        those bytes as a bitmap (same layout as above),
 *                            exactly n bits set
 *     n >= 2: u8[(n + 1)/2]  code lengths 1..max_bits of those bytes in
 *                            ascending byte order, two per byte, the first
 *                            in the low nibble; an odd n pads a 0 nibble.
 *                            The code must be complete: sum 2^-len == 1.
 *     n == 1: nothing        the one byte has a 0-bit code
 *   nothing after the last context.
 *
 * Every choice is forced (list below 32, bitmap from 32 on; pad nibble 0),
 * so a model has exactly one serialized form: the index image stays
 * canonical, and load(serialize(m)) serializes to the same bytes.
 *
 * Codes are canonical (ordered by length, then byte value) and written
 * LSB-first: bit k of the stream is bit (k & 7) of byte k >> 3, and each
 * code goes out most significant bit first (so it is stored bit-reversed).
 * The last byte of a paragraph is padded with zero bits.
 *
 * Code lengths: package-merge (Larmore & Hirschberg), optimal under the
 * ESSAY_TP_MAX_BITS limit.  Why 11: on the 100 MB bench corpus a limit of
 * 14 bits gives 4.009 bits/byte, 12 gives 4.016, 11 gives 4.030 and 10
 * gives 4.065, while decoding, bound by cache misses on the per-context
 * tables, runs about 305 MB/s at 11 and 255 MB/s at 12 (tests/bench/
 * bench_textpack.c).
 *
 * Decoding: per context, a table of 2^11 entries indexed by the next 11
 * bits; an entry holds up to three bytes whose codes (each in the context
 * of the byte before) fit in those 11 bits together - on real text about
 * 2.2 bytes per lookup.  Entry of context c for bits b:
 *
 *   bits  0..23  the bytes, first in the low byte (stored as is, little-endian)
 *   bits 24..27  bits they use together, 0..TBITS
 *   bits 28..29  how many bytes, minus 1
 *   bit  31      set in every entry of a context with a code
 *
 * The tables of contexts without a code stay all zero: "one byte 0 in 0
 * bits, invalid".  The decoder ANDs the entries it uses and checks bit 31
 * once at the end instead of branching on every lookup; the garbage it
 * writes meanwhile stays inside the output.
 */
#include "textpack.h"

#include <stdlib.h>
#include <string.h>

#define NSYM 256
#define TBITS ESSAY_TP_MAX_BITS
#define TSIZE (1u << TBITS)
#define TMASK (TSIZE - 1)

/* The decoder's refill leaves >= 56 bits for 4 lookups; lengths are nibbles. */
_Static_assert(4 * TBITS <= 56 && TBITS <= 15, "ESSAY_TP_MAX_BITS too large");

/* Encoder entry per (context << 8 | byte): reversed code in bits 0..15,
 * length in bits 16..19, ENC_HAS set when the pair has a code. */
#define ENC_HAS (1u << 24)

/* Length marker in the working arrays for "no code". */
#define NO_CODE 0xFF

struct essay_tp_model {
    uint64_t *counts;     /* [256 * 256] pair counts while counting, else NULL */
    uint32_t *enc;        /* [256 * 256] encoder entries once finished, else NULL */
    uint32_t *dec;        /* [256 << TBITS] decoder entries, all 0 for a context without code */
    uint16_t n_sym[NSYM]; /* distinct bytes after each context, 0..256 */
};

/* ---- little-endian words (memcpy: no alignment or aliasing trouble) ---- */

static inline uint64_t load64le(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline void store64le(uint8_t *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, 8);
}

static inline void store32le(uint8_t *p, uint32_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    memcpy(p, &v, 4);
}

/* Every ESSAY_ECORRUPT of this file comes from here: one breakpoint. */
static int corrupt(void)
{
    return ESSAY_ECORRUPT;
}

/* ---- counting ---- */

int essay_tp_count_new(essay_tp_model **out)
{
    *out = NULL;
    essay_tp_model *m = essay_calloc(1, sizeof(*m));
    if (!m)
        return ESSAY_ENOMEM;
    m->counts = essay_calloc((size_t)NSYM * NSYM, sizeof(*m->counts));
    if (!m->counts) {
        essay_free(m);
        return ESSAY_ENOMEM;
    }
    *out = m;
    return 0;
}

void essay_tp_count(essay_tp_model *m, const char *text, size_t len)
{
    if (!m->counts)
        return;
    const uint8_t *s = (const uint8_t *)text;
    unsigned ctx = 0;
    for (size_t i = 0; i < len; i++) {
        m->counts[ctx << 8 | s[i]]++;
        ctx = s[i];
    }
}

int essay_tp_count_merge(essay_tp_model *into, const essay_tp_model *from)
{
    if (!into->counts || !from->counts)
        return ESSAY_EINVAL;
    for (size_t i = 0; i < (size_t)NSYM * NSYM; i++)
        into->counts[i] += from->counts[i];
    return 0;
}

/* ---- code lengths: package-merge ---- */

typedef struct pm_leaf {
    uint64_t w;
    unsigned sym;
} pm_leaf;

typedef struct pm_scratch {
    uint64_t w[2][2 * NSYM];           /* item weights, previous and current level */
    uint8_t leaf[TBITS + 1][2 * NSYM]; /* per level: is item i a leaf? */
    pm_leaf sorted[NSYM];              /* symbols by ascending (weight, byte) */
} pm_scratch;

static int cmp_weight(const void *a, const void *b)
{
    const pm_leaf *x = a, *y = b;
    if (x->w != y->w)
        return x->w < y->w ? -1 : 1;
    return x->sym < y->sym ? -1 : x->sym > y->sym;
}

/* Optimal code lengths <= TBITS for the n >= 2 symbols of one context,
 * whose counts are freq[0..256), into len[0..256) (NO_CODE where 0).
 *
 * Level TBITS holds the leaves (symbols by ascending weight); each level
 * above merges the leaves with the pairwise packages of the level below.
 * The first 2n - 2 items of level 1 are the solution: a symbol's length is
 * the number of levels where it is among the leaves taken, and the leaves
 * taken are always a prefix of the sorted symbols, so counting them per
 * level is enough. */
static void package_merge(pm_scratch *s, const uint64_t *freq, uint8_t *len)
{
    size_t n = 0;
    for (unsigned c = 0; c < NSYM; c++) {
        len[c] = NO_CODE;
        if (freq[c]) {
            s->sorted[n].w = freq[c];
            s->sorted[n].sym = c;
            n++;
        }
    }
    qsort(s->sorted, n, sizeof(s->sorted[0]), cmp_weight);

    size_t n_items[TBITS + 1];
    uint64_t *prev = s->w[0], *cur = s->w[1];
    for (size_t i = 0; i < n; i++) {
        prev[i] = s->sorted[i].w;
        s->leaf[TBITS][i] = 1;
    }
    n_items[TBITS] = n;
    for (unsigned j = TBITS - 1; j >= 1; j--) {
        size_t n_pkg = n_items[j + 1] / 2, a = 0, b = 0, k = 0;
        while (a < n || b < n_pkg) {
            uint64_t pw = b < n_pkg ? prev[2 * b] + prev[2 * b + 1] : 0;
            if (b >= n_pkg || (a < n && s->sorted[a].w <= pw)) {
                cur[k] = s->sorted[a++].w;
                s->leaf[j][k++] = 1;
            } else {
                cur[k] = pw;
                b++;
                s->leaf[j][k++] = 0;
            }
        }
        n_items[j] = k;
        uint64_t *t = prev;
        prev = cur;
        cur = t;
    }

    uint8_t depth[NSYM] = { 0 };
    size_t need = 2 * n - 2;
    for (unsigned j = 1; j <= TBITS && need; j++) {
        size_t leaves = 0;
        for (size_t i = 0; i < need; i++)
            leaves += s->leaf[j][i];
        for (size_t i = 0; i < leaves; i++)
            depth[i]++;
        need = 2 * (need - leaves);
    }
    for (size_t i = 0; i < n; i++)
        len[s->sorted[i].sym] = depth[i];
}

/* ---- codes and tables, shared by finish and load ---- */

static unsigned reverse_bits(unsigned code, unsigned n)
{
    unsigned r = 0;
    for (unsigned i = 0; i < n; i++, code >>= 1)
        r = r << 1 | (code & 1);
    return r;
}

/* True when the lengths of context ctx (lens[ctx << 8 ...], NO_CODE for
 * absent) form a valid code: one symbol of length 0, or >= 2 symbols of
 * lengths 1..TBITS with Kraft sum exactly 1. */
static bool code_ok(const uint8_t *lens, unsigned n)
{
    if (n == 0)
        return true;
    uint32_t kraft = 0;
    for (unsigned c = 0; c < NSYM; c++) {
        unsigned l = lens[c];
        if (l == NO_CODE)
            continue;
        if (n == 1)
            return l == 0;
        if (l < 1 || l > TBITS)
            return false;
        kraft += TSIZE >> l;
    }
    return kraft == TSIZE;
}

/* Entry value for `n` bytes `syms` (first in the low byte) using `bits`. */
#define DEC_VALID (1u << 31)
#define DEC_ENTRY(syms, bits, n) \
    ((uint32_t)(syms) | (uint32_t)(bits) << 24 | (uint32_t)((n) - 1) << 28 | DEC_VALID)

/* d[i] = e for every i whose low `len` bits are `code`. */
static void fill(uint32_t *d, unsigned code, unsigned len, uint32_t e)
{
    for (unsigned i = code; i < TSIZE; i += 1u << len)
        d[i] = e;
}

/* Fill m->enc and m->dec from lens[ctx << 8 | byte] (NO_CODE = absent).
 * Lengths must pass code_ok().  0 or ESSAY_ENOMEM (nothing kept). */
static int build_tables(essay_tp_model *m, const uint8_t *lens)
{
    int rc = 0;
    uint32_t *enc = essay_calloc((size_t)NSYM * NSYM, sizeof(*enc));
    uint32_t *dec = essay_calloc((size_t)NSYM << TBITS, sizeof(*dec));
    /* Per context, its codes by ascending length: byte | len << 8 | rev << 16. */
    uint32_t *list = essay_malloc((size_t)NSYM * NSYM * sizeof(*list));
    if (!enc || !dec || !list) {
        rc = ESSAY_ENOMEM;
        goto cleanup;
    }

    for (unsigned ctx = 0; ctx < NSYM; ctx++) {
        const uint8_t *l = lens + (ctx << 8);
        if (m->n_sym[ctx] == 0)
            continue;
        /* canonical codes: by length, then byte value (DEFLATE's rule);
         * a context with one byte gives it length 0 and code 0 */
        uint8_t syms[NSYM];
        unsigned n_len[TBITS + 1] = { 0 }, next[TBITS + 1], pos[TBITS + 1], n = 0;
        for (unsigned c = 0; c < NSYM; c++)
            if (l[c] != NO_CODE) {
                n_len[l[c]]++;
                syms[n++] = (uint8_t)c;
            }
        unsigned code = 0, k = 0;
        for (unsigned b = 0; b <= TBITS; b++) {
            next[b] = code;
            code = (code + (b ? n_len[b] : 0)) << 1;
            pos[b] = k;
            k += n_len[b];
        }
        uint32_t *li = list + (ctx << 8);
        for (unsigned i = 0; i < n; i++) {
            unsigned c = syms[i], len = l[c], r = reverse_bits(next[len]++, len);
            enc[ctx << 8 | c] = r | len << 16 | ENC_HAS;
            li[pos[len]++] = c | len << 8 | r << 16;
        }
    }

    /* Up to three bytes per entry: walk the codes of this context, then
     * those of each byte's context while they fit in TBITS bits; longer
     * sequences overwrite the entries of their prefix. */
    for (unsigned c1 = 0; c1 < NSYM; c1++) {
        uint32_t *d = dec + ((size_t)c1 << TBITS);
        const uint32_t *l1 = list + (c1 << 8);
        for (unsigned i = 0; i < m->n_sym[c1]; i++) {
            unsigned s1 = l1[i] & 0xFF, n1 = l1[i] >> 8 & 0xF, r1 = l1[i] >> 16;
            fill(d, r1, n1, DEC_ENTRY(s1, n1, 1));
            const uint32_t *l2 = list + (s1 << 8);
            for (unsigned j = 0; j < m->n_sym[s1]; j++) {
                unsigned s2 = l2[j] & 0xFF, n2 = n1 + (l2[j] >> 8 & 0xF);
                if (n2 > TBITS)
                    break;
                unsigned r2 = r1 | (l2[j] >> 16) << n1;
                fill(d, r2, n2, DEC_ENTRY(s1 | s2 << 8, n2, 2));
                const uint32_t *l3 = list + (s2 << 8);
                for (unsigned k = 0; k < m->n_sym[s2]; k++) {
                    unsigned n3 = n2 + (l3[k] >> 8 & 0xF);
                    if (n3 > TBITS)
                        break;
                    fill(d, r2 | (l3[k] >> 16) << n2, n3,
                         DEC_ENTRY(s1 | s2 << 8 | (l3[k] & 0xFF) << 16, n3, 3));
                }
            }
        }
    }

    m->enc = enc;
    m->dec = dec;
    enc = NULL;
    dec = NULL;
cleanup:
    essay_free(list);
    essay_free(enc);
    essay_free(dec);
    return rc;
}

int essay_tp_finish(essay_tp_model *m)
{
    if (!m->counts)
        return ESSAY_EINVAL;
    int rc = 0;
    uint8_t *lens = essay_malloc((size_t)NSYM * NSYM);
    pm_scratch *s = essay_malloc(sizeof(*s));
    if (!lens || !s) {
        rc = ESSAY_ENOMEM;
        goto cleanup;
    }
    memset(lens, NO_CODE, (size_t)NSYM * NSYM);
    for (unsigned ctx = 0; ctx < NSYM; ctx++) {
        const uint64_t *f = m->counts + (ctx << 8);
        unsigned n = 0;
        for (unsigned c = 0; c < NSYM; c++)
            n += f[c] != 0;
        m->n_sym[ctx] = (uint16_t)n;
        if (n == 1) {
            for (unsigned c = 0; c < NSYM; c++)
                if (f[c])
                    lens[ctx << 8 | c] = 0;
        } else if (n >= 2) {
            package_merge(s, f, lens + (ctx << 8));
        }
    }
    rc = build_tables(m, lens);
    if (rc == 0) {
        essay_free(m->counts);
        m->counts = NULL;
    }
cleanup:
    essay_free(lens);
    essay_free(s);
    return rc;
}

/* ---- serialized form ---- */

#define LIST_MAX 31 /* up to this many bytes a context lists them; then a bitmap */

size_t essay_tp_serialized_size(const essay_tp_model *m)
{
    if (!m->enc)
        return 0;
    size_t size = 2 + 32;
    for (unsigned ctx = 0; ctx < NSYM; ctx++) {
        unsigned n = m->n_sym[ctx];
        if (!n)
            continue;
        size += 1 + (n <= LIST_MAX ? n : 32);
        if (n >= 2)
            size += (n + 1) / 2;
    }
    return size;
}

void essay_tp_serialize(const essay_tp_model *m, uint8_t *out)
{
    if (!m->enc)
        return;
    uint8_t *p = out;
    *p++ = ESSAY_TP_FORMAT;
    *p++ = TBITS;
    memset(p, 0, 32);
    for (unsigned ctx = 0; ctx < NSYM; ctx++)
        if (m->n_sym[ctx])
            p[ctx >> 3] |= (uint8_t)(1u << (ctx & 7));
    p += 32;
    for (unsigned ctx = 0; ctx < NSYM; ctx++) {
        unsigned n = m->n_sym[ctx];
        if (!n)
            continue;
        const uint32_t *e = m->enc + (ctx << 8);
        *p++ = (uint8_t)(n - 1);
        if (n <= LIST_MAX) {
            for (unsigned c = 0; c < NSYM; c++)
                if (e[c] & ENC_HAS)
                    *p++ = (uint8_t)c;
        } else {
            memset(p, 0, 32);
            for (unsigned c = 0; c < NSYM; c++)
                if (e[c] & ENC_HAS)
                    p[c >> 3] |= (uint8_t)(1u << (c & 7));
            p += 32;
        }
        if (n < 2)
            continue;
        unsigned k = 0;
        for (unsigned c = 0; c < NSYM; c++) {
            if (!(e[c] & ENC_HAS))
                continue;
            unsigned l = e[c] >> 16 & 0xF;
            if (k++ & 1)
                *p++ |= (uint8_t)(l << 4);
            else
                *p = (uint8_t)l;
        }
        if (k & 1)
            p++;
    }
}

int essay_tp_load(essay_tp_model **out, const uint8_t *bytes, size_t len)
{
    *out = NULL;
    int rc = 0;
    essay_tp_model *m = NULL;
    uint8_t *lens = NULL;
    if (len < 2 + 32 || bytes[0] != ESSAY_TP_FORMAT || bytes[1] != TBITS)
        return corrupt();
    const uint8_t *p = bytes, *end = bytes + len;

#define NEED(k) do { if ((size_t)(end - p) < (size_t)(k)) { rc = corrupt(); \
    goto cleanup; } } while (0)
#define BAD(cond) do { if (cond) { rc = corrupt(); goto cleanup; } } while (0)

    m = essay_calloc(1, sizeof(*m));
    lens = essay_malloc((size_t)NSYM * NSYM);
    if (!m || !lens) {
        rc = ESSAY_ENOMEM;
        goto cleanup;
    }
    memset(lens, NO_CODE, (size_t)NSYM * NSYM);
    const uint8_t *ctx_map = p + 2;
    p += 2 + 32;
    for (unsigned ctx = 0; ctx < NSYM; ctx++) {
        if (!(ctx_map[ctx >> 3] >> (ctx & 7) & 1))
            continue;
        uint8_t *l = lens + (ctx << 8);
        NEED(1);
        unsigned n = (unsigned)*p++ + 1;
        m->n_sym[ctx] = (uint16_t)n;
        if (n <= LIST_MAX) {
            NEED(n);
            for (unsigned i = 0; i < n; i++) {
                BAD(i > 0 && p[i] <= p[i - 1]);
                l[p[i]] = 0;
            }
            p += n;
        } else {
            NEED(32);
            unsigned k = 0;
            for (unsigned c = 0; c < NSYM; c++)
                if (p[c >> 3] >> (c & 7) & 1) {
                    l[c] = 0;
                    k++;
                }
            BAD(k != n);
            p += 32;
        }
        if (n < 2)
            continue;
        NEED((n + 1) / 2);
        unsigned k = 0;
        for (unsigned c = 0; c < NSYM; c++) {
            if (l[c] == NO_CODE)
                continue;
            l[c] = (uint8_t)(k & 1 ? p[k >> 1] >> 4 : p[k >> 1] & 0xF);
            k++;
        }
        BAD((n & 1) && p[n >> 1] >> 4 != 0);
        p += (n + 1) / 2;
        BAD(!code_ok(l, n));
    }
    BAD(p != end);
    rc = build_tables(m, lens);
#undef NEED
#undef BAD

cleanup:
    essay_free(lens);
    if (rc == 0)
        *out = m;
    else
        essay_tp_free(m);
    return rc;
}

/* ---- coding ---- */

size_t essay_tp_encode_bound(size_t len)
{
    return len / 8 * TBITS + (len % 8 * TBITS + 7) / 8 + 8;
}

int essay_tp_encode(const essay_tp_model *m, const char *text, size_t len, uint8_t *out,
                    size_t *out_len)
{
    *out_len = 0;
    if (!m->enc)
        return ESSAY_EINVAL;
    const uint8_t *s = (const uint8_t *)text;
    const uint32_t *enc = m->enc;
    uint64_t acc = 0;   /* pending bits, LSB first */
    unsigned n_acc = 0; /* how many: <= 7 between bytes, so a code always fits */
    size_t pos = 0, i = 0;
    unsigned ctx = 0;
    /* four codes per store: 7 pending + 4 * ESSAY_TP_MAX_BITS <= 64 */
    for (; i + 4 <= len; i += 4) {
        uint32_t e0 = enc[ctx << 8 | s[i]], e1 = enc[(unsigned)s[i] << 8 | s[i + 1]];
        uint32_t e2 = enc[(unsigned)s[i + 1] << 8 | s[i + 2]];
        uint32_t e3 = enc[(unsigned)s[i + 2] << 8 | s[i + 3]];
        if (ESSAY_UNLIKELY(!(e0 & e1 & e2 & e3 & ENC_HAS)))
            return ESSAY_EINVAL;
        acc |= (uint64_t)(e0 & 0xFFFF) << n_acc;
        n_acc += e0 >> 16 & 0xF;
        acc |= (uint64_t)(e1 & 0xFFFF) << n_acc;
        n_acc += e1 >> 16 & 0xF;
        acc |= (uint64_t)(e2 & 0xFFFF) << n_acc;
        n_acc += e2 >> 16 & 0xF;
        acc |= (uint64_t)(e3 & 0xFFFF) << n_acc;
        n_acc += e3 >> 16 & 0xF;
        ctx = s[i + 3];
        store64le(out + pos, acc);
        pos += n_acc >> 3;
        acc >>= n_acc & ~7u;
        n_acc &= 7;
    }
    for (; i < len; i++) {
        uint32_t e = enc[ctx << 8 | s[i]];
        if (ESSAY_UNLIKELY(!(e & ENC_HAS)))
            return ESSAY_EINVAL;
        acc |= (uint64_t)(e & 0xFFFF) << n_acc;
        n_acc += e >> 16 & 0xF;
        ctx = s[i];
        store64le(out + pos, acc);
        pos += n_acc >> 3;
        acc >>= n_acc & ~7u;
        n_acc &= 7;
    }
    *out_len = pos + (n_acc > 0);
    return 0;
}

int essay_tp_decode(const essay_tp_model *m, const uint8_t *in, size_t in_len, char *out_text,
                    size_t out_len)
{
    if (!m->dec)
        return ESSAY_EINVAL;
    if (out_len == 0)
        return in_len == 0 ? 0 : corrupt();
    static const uint8_t none[1];
    if (in_len == 0)
        in = none; /* may be NULL; keep the pointer arithmetic below defined */
    const uint32_t *dec = m->dec, *enc = m->enc;
    uint8_t *out = (uint8_t *)out_text, *out_end = out + out_len;
    const uint64_t total = (uint64_t)in_len * 8;

    /* Bits come from `p` on in 64-bit words (refill as in F. Giesen,
     * "Reading bits in far too many ways", variant 4): `buf` holds `nb`
     * unread bits and p is the first byte not yet in it.  When fewer than 8
     * bytes remain, the rest is copied into `pad`, zero-filled, and reading
     * goes on there; `base` counts the bits before `start`. */
    const uint8_t *p = in, *start = in, *end = in + in_len;
    uint8_t pad[32];
    bool padded = false;
    uint64_t base = 0, buf = 0;
    unsigned nb = 0, ctx = 0;
    uint32_t valid = DEC_VALID; /* cleared by any entry of a context without code */

#define CONSUMED() (base + (uint64_t)(p - start) * 8 - nb)
#define REFILL() do { \
    if (ESSAY_UNLIKELY(end - p < 8)) { \
        if (!padded) { \
            memset(pad, 0, sizeof pad); \
            if (end > p) \
                memcpy(pad, p, (size_t)(end - p)); \
            base += (uint64_t)(p - start) * 8; \
            start = p = pad; \
            end = pad + sizeof pad; \
            padded = true; \
        } else { \
            goto fail; /* p - pad > 24: more bits used than exist */ \
        } \
    } \
    buf |= load64le(p) << nb; \
    p += (63 - nb) >> 3; \
    nb |= 56; \
} while (0)
#define STEP() do { \
    uint32_t e = dec[ctx << TBITS | (buf & TMASK)]; \
    unsigned bits = e >> 24 & 0xF; \
    valid &= e; \
    buf >>= bits; \
    nb -= bits; \
    store32le(out, e); \
    out += (e >> 28 & 3) + 1; \
    ctx = e >> (e >> 25 & 0x18) & 0xFF; \
} while (0)

    /* 4 lookups use <= 4 * TBITS <= 56 bits, what a refill leaves, and
     * write at most 3 * 3 + 4 bytes. */
    while (out_end - out >= 16) {
        REFILL();
        STEP();
        STEP();
        STEP();
        STEP();
    }
    while (out < out_end) {
        REFILL();
        uint32_t e = dec[ctx << TBITS | (buf & TMASK)];
        unsigned n = (e >> 28 & 3) + 1, bits = e >> 24 & 0xF;
        valid &= e;
        if (n > (size_t)(out_end - out)) {
            /* fewer bytes left than the entry holds: take the first only */
            n = 1;
            bits = enc[ctx << 8 | (e & 0xFF)] >> 16 & 0xF;
        }
        buf >>= bits;
        nb -= bits;
        for (unsigned i = 0; i < n; i++)
            out[i] = (uint8_t)(e >> 8 * i);
        out += n;
        ctx = e >> (8 * n - 8) & 0xFF;
    }

    if (!(valid & DEC_VALID))
        goto fail;
    uint64_t used = CONSUMED();
    if (used > total || (used + 7) / 8 != in_len)
        goto fail;
    if ((used & 7) && in[in_len - 1] >> (used & 7))
        goto fail;
    return 0;
fail:
    return corrupt();
#undef CONSUMED
#undef REFILL
#undef STEP
}

void essay_tp_free(essay_tp_model *m)
{
    if (!m)
        return;
    essay_free(m->counts);
    essay_free(m->enc);
    essay_free(m->dec);
    essay_free(m);
}
