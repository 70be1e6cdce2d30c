/*
 * cjdict.c - ICU's CJK dictionary segmentation for runs of unified Han
 * ideographs, without the break iterator (cjdict.h says why and when).
 *
 * The dictionary is ICU's own data: the break iterator's resource bundle
 * names the dictionary of the Han script ("cjdict.dict" in ICU 72), which
 * udata_open() maps.  It is a UCharsTrie (format of ICU's ucharstrie.h)
 * from words to costs.  The walk below follows that published format; the
 * search follows CjkBreakEngine::divideUpDictionaryRange for text that
 * needs no normalization and holds no supplementary characters or kana:
 *
 *   best[0] = 0; for each character i reached, every dictionary word of at
 *   most 20 characters starting at i (and, when none has one character,
 *   the character alone at cost 255) relaxes best[i + length] with a
 *   strict <, words in increasing length; the words are then read back
 *   from the end through prev[].
 *
 * Ties therefore go to the earliest start and the shortest word, as in ICU.
 */
#include "cjdict.h"
#include "essay_int.h"

#include <pthread.h>

#include <unicode/udata.h>
#include <unicode/ures.h>
#include <unicode/uscript.h>

/* ---- the trie (ICU's UCharsTrie format) ---------------------------------- */

enum {
    T_NO_MATCH = 0,
    T_NO_VALUE = 1,
    T_FINAL = 2,
    T_INTERMEDIATE = 3,
};

/* node lead units */
#define MAX_BRANCH_LINEAR 5
#define MIN_LINEAR_MATCH 0x30
#define MIN_VALUE_LEAD 0x40
#define NODE_TYPE_MASK 0x3f
#define VALUE_IS_FINAL 0x8000
#define MIN_TWO_UNIT_VALUE_LEAD 0x4000
#define THREE_UNIT_VALUE_LEAD 0x7fff
#define MIN_TWO_UNIT_NODE_VALUE_LEAD 0x4040
#define THREE_UNIT_NODE_VALUE_LEAD 0x7fc0
#define MIN_TWO_UNIT_DELTA_LEAD 0xfc00
#define THREE_UNIT_DELTA_LEAD 0xffff

#define MAX_WORD 20 /* CjkBreakEngine's maxWordSize */
#define UNKNOWN_COST 255u /* its maxSnlp */

typedef struct walk {
    const uint16_t *pos; /* NULL: no match */
    int rml;             /* remaining units of a linear-match node, minus 1 */
} walk;

static inline int value_result(uint32_t node)
{
    return T_INTERMEDIATE - (int)(node >> 15);
}

static inline uint32_t read_value(const uint16_t *pos, uint32_t lead)
{
    if (lead < MIN_TWO_UNIT_VALUE_LEAD)
        return lead;
    if (lead < THREE_UNIT_VALUE_LEAD)
        return (lead - MIN_TWO_UNIT_VALUE_LEAD) << 16 | pos[0];
    return (uint32_t)pos[0] << 16 | pos[1];
}

static inline const uint16_t *skip_value(const uint16_t *pos)
{
    uint32_t lead = *pos++ & 0x7fffu;
    if (lead >= MIN_TWO_UNIT_VALUE_LEAD)
        pos += lead < THREE_UNIT_VALUE_LEAD ? 1 : 2;
    return pos;
}

static inline uint32_t read_node_value(const uint16_t *pos, uint32_t lead)
{
    if (lead < MIN_TWO_UNIT_NODE_VALUE_LEAD)
        return (lead >> 6) - 1;
    if (lead < THREE_UNIT_NODE_VALUE_LEAD)
        return ((lead & 0x7fc0) - MIN_TWO_UNIT_NODE_VALUE_LEAD) << 10 | pos[0];
    return (uint32_t)pos[0] << 16 | pos[1];
}

static inline const uint16_t *skip_node_value(const uint16_t *pos, uint32_t lead)
{
    if (lead >= MIN_TWO_UNIT_NODE_VALUE_LEAD)
        pos += lead < THREE_UNIT_NODE_VALUE_LEAD ? 1 : 2;
    return pos;
}

static inline const uint16_t *jump_by_delta(const uint16_t *pos)
{
    uint32_t delta = *pos++;
    if (delta >= MIN_TWO_UNIT_DELTA_LEAD) {
        if (delta == THREE_UNIT_DELTA_LEAD) {
            delta = (uint32_t)pos[0] << 16 | pos[1];
            pos += 2;
        } else {
            delta = (delta - MIN_TWO_UNIT_DELTA_LEAD) << 16 | *pos++;
        }
    }
    return pos + delta;
}

static inline const uint16_t *skip_delta(const uint16_t *pos)
{
    uint32_t delta = *pos++;
    if (delta >= MIN_TWO_UNIT_DELTA_LEAD)
        pos += delta == THREE_UNIT_DELTA_LEAD ? 2 : 1;
    return pos;
}

/* A branch node: a binary search down to a few units, then linear. */
static int branch_next(walk *w, const uint16_t *pos, uint32_t length, uint32_t c)
{
    if (length == 0)
        length = *pos++;
    length++;
    while (length > MAX_BRANCH_LINEAR) {
        if (c < *pos++) {
            length >>= 1;
            pos = jump_by_delta(pos);
        } else {
            length = length - (length >> 1);
            pos = skip_delta(pos);
        }
    }
    do {
        if (c == *pos++) {
            uint32_t node = *pos;
            int result;
            if (node & VALUE_IS_FINAL) {
                result = T_FINAL; /* the value is read where pos stands */
            } else {
                /* a non-final value is the jump to the unit's subtrie */
                pos++;
                uint32_t delta;
                if (node < MIN_TWO_UNIT_VALUE_LEAD) {
                    delta = node;
                } else if (node < THREE_UNIT_VALUE_LEAD) {
                    delta = (node - MIN_TWO_UNIT_VALUE_LEAD) << 16 | *pos++;
                } else {
                    delta = (uint32_t)pos[0] << 16 | pos[1];
                    pos += 2;
                }
                pos += delta;
                node = *pos;
                result = node >= MIN_VALUE_LEAD ? value_result(node) : T_NO_VALUE;
            }
            w->pos = pos;
            return result;
        }
        length--;
        pos = skip_value(pos);
    } while (length > 1);
    if (c == *pos++) {
        w->pos = pos;
        uint32_t node = *pos;
        return node >= MIN_VALUE_LEAD ? value_result(node) : T_NO_VALUE;
    }
    w->pos = NULL;
    return T_NO_MATCH;
}

/* The next unit from a node boundary (rml < 0). */
static int next_node(walk *w, const uint16_t *pos, uint32_t c)
{
    uint32_t node = *pos++;
    for (;;) {
        if (node < MIN_LINEAR_MATCH)
            return branch_next(w, pos, node, c);
        if (node < MIN_VALUE_LEAD) {
            int length = (int)(node - MIN_LINEAR_MATCH); /* match length - 1 */
            if (c != *pos++)
                break;
            w->rml = --length;
            w->pos = pos;
            return length < 0 && (node = *pos) >= MIN_VALUE_LEAD ? value_result(node)
                                                                 : T_NO_VALUE;
        }
        if (node & VALUE_IS_FINAL)
            break; /* no further units */
        pos = skip_node_value(pos, node); /* an intermediate value */
        node &= NODE_TYPE_MASK;
    }
    w->pos = NULL;
    return T_NO_MATCH;
}

static inline int walk_next(walk *w, uint32_t c)
{
    const uint16_t *pos = w->pos;
    int length = w->rml;
    if (length >= 0) {
        /* inside a linear-match node */
        if (c != *pos++) {
            w->pos = NULL;
            return T_NO_MATCH;
        }
        w->rml = --length;
        w->pos = pos;
        uint32_t node;
        return length < 0 && (node = *pos) >= MIN_VALUE_LEAD ? value_result(node) : T_NO_VALUE;
    }
    return next_node(w, pos, c);
}

static inline uint32_t walk_value(const walk *w)
{
    const uint16_t *pos = w->pos;
    uint32_t lead = *pos++;
    return lead & VALUE_IS_FINAL ? read_value(pos, lead & 0x7fff) : read_node_value(pos, lead);
}

/* Root states, packed: offset of pos << 6 | (rml + 1) << 2 | result; 0
 * for no match. */
#define ROOT_FIRST 0x3400u
#define ROOT_MAX_UNITS (1u << 26)

static inline int walk_first(const essay_cjdict *d, walk *w, uint32_t c)
{
    uint32_t s = d->root[c - ROOT_FIRST];
    if (s == 0) {
        w->pos = NULL;
        return T_NO_MATCH;
    }
    w->pos = d->trie + (s >> 6);
    w->rml = (int)((s >> 2) & 15) - 1;
    return (int)(s & 3);
}

/* ---- the search ---------------------------------------------------------- */

size_t essay_cjdict_segment(const essay_cjdict *d, const uint16_t *u, size_t n, uint32_t *work,
                            uint32_t *ends)
{
    uint32_t *best = work, *prev = work + n + 1;
    best[0] = 0;
    for (size_t i = 1; i <= n; i++)
        best[i] = UINT32_MAX;
    for (size_t i = 0; i < n; i++) {
        if (best[i] == UINT32_MAX)
            continue;
        uint32_t base = best[i];
        walk w;
        bool one = false; /* a one-character word starts here */
        size_t k = i;
        int r = walk_first(d, &w, u[k]);
        for (;;) {
            size_t len = k - i + 1;
            if (r >= T_FINAL) {
                uint32_t cost = base + walk_value(&w);
                if (cost < best[i + len]) {
                    best[i + len] = cost;
                    prev[i + len] = (uint32_t)i;
                }
                one |= len == 1;
                if (r == T_FINAL)
                    break;
            } else if (r == T_NO_MATCH) {
                break;
            }
            if (len >= MAX_WORD || ++k >= n)
                break;
            r = walk_next(&w, u[k]);
        }
        if (!one && base + UNKNOWN_COST < best[i + 1]) {
            best[i + 1] = base + UNKNOWN_COST;
            prev[i + 1] = (uint32_t)i;
        }
    }
    /* read back from the end (every character is reachable: the last
     * step of any path is at worst one unknown character) */
    size_t m = 0;
    for (size_t i = n; i > 0; i = prev[i])
        ends[m++] = (uint32_t)i;
    for (size_t a = 0, b = m; a + 1 < b; a++, b--) {
        uint32_t t = ends[a];
        ends[a] = ends[b - 1];
        ends[b - 1] = t;
    }
    return m;
}

/* ---- loading ------------------------------------------------------------- */

static essay_cjdict the_dict;
static const essay_cjdict *the_dict_ptr;
static pthread_once_t the_once = PTHREAD_ONCE_INIT;

/* The last code point of [first, last] from which every one back to first
 * is Han in this ICU (first - 1 when first is not). */
static uint32_t han_through(uint32_t first, uint32_t last)
{
    uint32_t c = first;
    while (c <= last) {
        UErrorCode st = U_ZERO_ERROR;
        if (uscript_getScript((UChar32)c, &st) != USCRIPT_HAN || U_FAILURE(st))
            break;
        c++;
    }
    return c - 1;
}

static void load(void)
{
    UErrorCode st = U_ZERO_ERROR;
    /* the dictionary ICU's break iterators use for the Han script */
    UResourceBundle *rb = ures_open(U_ICUDATA_NAME "-brkitr", "", &st);
    UResourceBundle *dicts = ures_getByKey(rb, "dictionaries", NULL, &st);
    int32_t n = 0;
    const UChar *name = ures_getStringByKey(dicts, "Hani", &n, &st);
    char file[64], type[16];
    bool ok = U_SUCCESS(st) && n > 0 && n < (int32_t)sizeof file;
    int32_t dot = -1;
    for (int32_t i = 0; ok && i < n; i++) {
        if (name[i] >= 0x80 || name[i] == 0)
            ok = false;
        else if (name[i] == '.')
            dot = i;
    }
    if (ok && dot > 0 && n - dot - 1 < (int32_t)sizeof type) {
        for (int32_t i = 0; i < dot; i++)
            file[i] = (char)name[i];
        file[dot] = 0;
        for (int32_t i = dot + 1; i < n; i++)
            type[i - dot - 1] = (char)name[i];
        type[n - dot - 1] = 0;
    } else {
        ok = false;
    }
    ures_close(dicts);
    ures_close(rb);
    if (!ok)
        return;
    UDataMemory *mem = udata_open(U_ICUDATA_NAME "-brkitr", type, file, &st);
    if (U_FAILURE(st))
        return;
    UDataInfo info;
    info.size = sizeof info;
    udata_getInfo(mem, &info);
    const int32_t *ix = udata_getMemory(mem);
    /* DictionaryData: indexes[0] = trie offset, [3] = total size, [4] =
     * trie type (1 = UChars) | 8 (has values), [5] = transform (none) */
    if (info.size < sizeof info || info.isBigEndian != U_IS_BIG_ENDIAN ||
        memcmp(info.dataFormat, "Dict", 4) != 0 || info.formatVersion[0] != 1 || !ix ||
        ix[0] < 32 || ix[3] <= ix[0] || (ix[3] - ix[0]) % 2 != 0 || (ix[4] & 7) != 1 ||
        !(ix[4] & 8) || ix[5] != 0 || (uint32_t)(ix[3] - ix[0]) / 2 >= ROOT_MAX_UNITS) {
        udata_close(mem);
        return;
    }
    the_dict.trie = (const uint16_t *)((const char *)ix + ix[0]);
    the_dict.uro_last = han_through(0x4E00, 0x9FFF);
    the_dict.ext_a_last = han_through(0x3400, 0x4DBF);
    if (the_dict.uro_last < 0x9FA5) { /* not even Unicode 1.1's */
        udata_close(mem);
        return;
    }
    size_t nroot = the_dict.uro_last + 1 - ROOT_FIRST;
    uint32_t *root = essay_calloc(nroot, sizeof(uint32_t));
    if (!root) {
        udata_close(mem);
        return;
    }
    for (uint32_t c = ROOT_FIRST; c <= the_dict.uro_last; c++) {
        walk w = { NULL, -1 };
        int r = next_node(&w, the_dict.trie, c);
        if (r != T_NO_MATCH)
            root[c - ROOT_FIRST] = (uint32_t)(w.pos - the_dict.trie) << 6 |
                                   (uint32_t)(w.rml + 1) << 2 | (uint32_t)r;
    }
    the_dict.root = root;
    /* kept where it stays reachable: a static that is never read is
     * dropped by the compiler, and leak checkers then see the handle as
     * lost */
    the_dict.data = mem;
    the_dict_ptr = &the_dict;
}

const essay_cjdict *essay_cjdict_get(void)
{
    pthread_once(&the_once, load);
    return the_dict_ptr;
}
