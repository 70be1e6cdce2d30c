/*
 * cjdict.h - ICU's Chinese dictionary segmentation, run directly on runs of
 * unified Han ideographs (internal).
 *
 * ICU breaks a run of Han characters with its CJK dictionary (cjdict): a
 * shortest-path search over the run where every dictionary word starting at
 * a character is an edge weighted by the cost the dictionary stores for it,
 * and a character that starts no one-character word costs 255.  Going
 * through UBRK_WORD for that costs the rule-based pass over the run, a
 * UTF-16 copy, a normalization check, vectors allocated per run and a
 * virtual call per dictionary lookup, on top of the lookups themselves.
 * This module runs the same search over the same dictionary data (ICU's
 * cjdict, opened with udata_open), with each first character's state in the
 * dictionary trie precomputed, and gives the same words.
 *
 * It covers only what it can reproduce exactly: runs of characters of the
 * URO and Extension A blocks that ICU assigns to the Han script (they are
 * in the BMP and NFKC-stable, so ICU neither normalizes nor maps them).
 * The analyzer sends anything else through ICU, and its tests compare the
 * two paths token for token (tests/unit/test_analyze.c).
 */
#ifndef ESSAY_CJDICT_H
#define ESSAY_CJDICT_H

#include <stddef.h>
#include <stdint.h>

/* Immutable once loaded. */
typedef struct essay_cjdict {
    const uint16_t *trie;   /* ICU's UCharsTrie of words -> cost */
    const uint32_t *root;   /* per character from 0x3400: the trie state after it */
    uint32_t uro_last;      /* 0x4E00..uro_last are Han in this ICU */
    uint32_t ext_a_last;    /* 0x3400..ext_a_last likewise */
    void *data;             /* ICU's UDataMemory of the trie, held for the
                             * process (as ICU holds its own data) */
} essay_cjdict;

/* The process's dictionary, loaded on first use and never changed; NULL
 * when ICU has no CJK dictionary (callers then use ICU's break iterator). */
const essay_cjdict *essay_cjdict_get(void);

/* Whether cp is a character this module segments. */
static inline int essay_cjdict_char(const essay_cjdict *d, uint32_t cp)
{
    return (cp >= 0x4E00 && cp <= d->uro_last) || (cp >= 0x3400 && cp <= d->ext_a_last);
}

/* Words of the run u[0, n) of such characters: their ends, ascending, the
 * last one n, into ends[]; returns how many.  work holds 2 * (n + 1)
 * entries. */
size_t essay_cjdict_segment(const essay_cjdict *d, const uint16_t *u, size_t n, uint32_t *work,
                            uint32_t *ends);

#endif
