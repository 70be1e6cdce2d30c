/*
 * analyze.h - interface of analyze.c: the bilingual analyzer that turns
 * UTF-8 text into the token stream every other part consumes (DESIGN §2).
 */
#ifndef ESSAY_ANALYZE_H
#define ESSAY_ANALYZE_H

#include "essay_int.h"

/* An analyzer holds ICU objects, a stemmer and a stem cache.  It belongs to
 * one thread at a time; make one per thread. */
typedef struct essay_analyzer essay_analyzer;

/* Internal run flag (tests, fuzzers): send ASCII through ICU as well, so the
 * fast path can be compared with ICU token by token. */
#define ESSAY_ANALYZE_NO_FASTPATH 0x100u

/* Internal run flag (highlighting): only positions and base tokens (WORD,
 * HAN_UNIGRAM, OTHER, with the same positions and offsets) need be right;
 * Han runs skip dictionary segmentation, so HAN_WORD tokens are missing,
 * and WORD terms are folded but not stemmed (no EXACT tokens). */
#define ESSAY_ANALYZE_POSITIONS 0x200u

/* Internal run flag (build): the text is known to be valid UTF-8 (a
 * corpus paragraph, validated when it was loaded), so it is not checked
 * again. */
#define ESSAY_ANALYZE_VALID 0x400u

/* Internal run flag (build): a WORD or EXACT token that comes from the
 * word cache carries its cache slot + 1 in the bits ESSAY_ANALYZE_REF_SHIFT
 * and up of its flags (0: not from the cache).  A slot stands for the same
 * source word, hence the same stem and exact form, for as long as the
 * cache generation (essay_analyzer_word_gen) is unchanged, so the build can
 * keep the term ids of each slot and skip hashing and looking up the term. */
#define ESSAY_ANALYZE_WORDREF 0x800u
#define ESSAY_ANALYZE_REF_SHIFT 12u
#define ESSAY_ANALYZE_REF_SLOTS 65536u /* slots are below this */

/* Test hook: analyzers created from now on empty their word cache after n
 * words instead of 3/4 of its slots (0 = default, larger is capped), so a
 * small corpus crosses several cache generations.  Process-wide. */
void essay_analyze_word_cache_limit(size_t n);

int essay_analyzer_new(essay_analyzer **out, essay_error *err);
void essay_analyzer_free(essay_analyzer *a);

/* Tokenize text[0..len): validates UTF-8 (ESSAY_ESYNTAX with the offset),
 * then calls cb per token.  Returns 0, an error code, or cb's non-zero
 * value.  Positions start at 0 for each call. */
int essay_analyzer_run(essay_analyzer *a, const char *text, size_t len, unsigned flags,
                       essay_token_cb cb, void *payload, essay_error *err);

/* The word cache's generation: it changes whenever the cache is emptied
 * (the slots then stand for other words).  The pointer stays valid for the
 * analyzer's life. */
const uint32_t *essay_analyzer_word_gen(const essay_analyzer *a);

/* The build keeps data of its own per word-cache slot (term ids): base
 * points at an array of ESSAY_ANALYZE_REF_SLOTS entries of stride bytes.
 * The analyzer prefetches a word's entry when it prefetches its own slot,
 * a few words ahead of the tokens.  A hint only (NULL: none). */
void essay_analyzer_prefetch_with(essay_analyzer *a, const void *base, size_t stride);

/* The build takes Han characters in bulk, not as tokens: with a callback
 * set, a run in document mode (not ESSAY_ANALYZE_POSITIONS) gives each
 * stretch of Han characters of one word to cb instead of emitting their
 * tokens.  cps[0, n) are the folded characters, at positions pos, pos + 1,
 * ...; prev is the folded character at pos - 1 when it pairs with cps[0]
 * (0: none); word[0, word_len) is the word's term when the stretch starts
 * a word of two or more characters (NULL: none).  That stands for exactly
 * the tokens the stretch would have given, in this order: for each j, the
 * pair (prev or cps[j - 1], cps[j]) at pos + j - 1, then for j = 0 the
 * word at pos, then the character cps[j] at pos + j.  A non-zero return
 * stops the run, as the token callback's does.  NULL: tokens as usual. */
typedef int (*essay_han_cb)(void *payload, const uint32_t *cps, size_t n, uint32_t pos,
                            uint32_t prev, const char *word, size_t word_len);
void essay_analyzer_han_with(essay_analyzer *a, essay_han_cb cb);

/* The analyzer's Han folding of one code point: NFKC casefold for
 * compatibility ideographs, then traditional -> simplified. */
uint32_t essay_fold_han(const essay_analyzer *a, uint32_t cp);

/* True for code points ICU assigns to the Han script. */
bool essay_cp_is_han(uint32_t cp);

#endif /* ESSAY_ANALYZE_H */
