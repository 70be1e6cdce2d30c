/*
 * essay.h - libessay, paragraph search over a bilingual (English + Chinese)
 * essay corpus.
 *
 * This is the one public header.  Everything it declares is prefixed
 * `essay_` / `ESSAY_`; every other symbol of the library is hidden.
 *
 * Usage, in short:
 *
 *     essay_error err;
 *     essay_corpus *corpus;
 *     if (essay_corpus_default(&corpus, &err) != ESSAY_OK) {
 *         fprintf(stderr, "%s\n", err.message);
 *         return 2;
 *     }
 *     const essay_article *a = essay_corpus_find(corpus, "0301", 4);
 *     for (size_t i = 0; i < essay_article_paragraph_count(a, ESSAY_LANG_EN); i++) {
 *         const essay_paragraph *en = essay_article_paragraph(a, ESSAY_LANG_EN, i);
 *         const essay_paragraph *zh = essay_paragraph_pair(en);   // NULL: unaligned
 *         size_t len;
 *         const char *text = essay_paragraph_text(en, &len);
 *         printf("%.*s\n", (int)len, text);
 *         if (zh) { text = essay_paragraph_text(zh, &len); printf("%.*s\n", (int)len, text); }
 *     }
 *     essay_corpus_free(corpus);
 *
 * Threading
 * ---------
 * The library keeps no global mutable state of its own (ICU keeps its own
 * caches, which are thread-safe).  A corpus is immutable once parsed or
 * loaded: any number of threads may read it at once.  Borrowed pointers
 * (articles, paragraphs) live exactly as long as the object they came from.
 *
 * Errors
 * ------
 * Every fallible call returns an int: ESSAY_OK (0) or a negative ESSAY_E*
 * code, and fills the optional `essay_error *err` (last argument; NULL is
 * allowed) with the code, a message and a location.  The library never
 * prints, never exits and never aborts on bad input.
 *
 * Text
 * ----
 * All text is UTF-8 and passed as (pointer, length); it need not be
 * NUL-terminated.  Returned text is NUL-terminated for convenience and its
 * length is returned too.
 */
#ifndef ESSAY_H
#define ESSAY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Version
 * ---------------------------------------------------------------------- */

#define ESSAY_VERSION_MAJOR 0
#define ESSAY_VERSION_MINOR 1
#define ESSAY_VERSION_PATCH 0
/** major*10000 + minor*100 + patch */
#define ESSAY_VERSION_NUMBER \
    (ESSAY_VERSION_MAJOR * 10000 + ESSAY_VERSION_MINOR * 100 + ESSAY_VERSION_PATCH)
#define ESSAY_VERSION_STRING "0.1.0"

#if defined(_WIN32) && !defined(ESSAY_STATIC)
#  ifdef ESSAY_BUILDING
#    define ESSAY_API __declspec(dllexport)
#  else
#    define ESSAY_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) && !defined(ESSAY_STATIC)
#  define ESSAY_API __attribute__((visibility("default")))
#else
#  define ESSAY_API
#endif

/** The library's version number at run time (ESSAY_VERSION_NUMBER of the
 *  build).  Compare with the macro to detect a header/library mismatch. */
ESSAY_API int essay_version_number(void);

/** The library's version string at run time, e.g. "0.1.0".  Static. */
ESSAY_API const char *essay_version_string(void);

/* ------------------------------------------------------------------------
 * Errors
 * ---------------------------------------------------------------------- */

/** Status codes.  Values are pinned forever: bindings rely on them. */
typedef enum essay_status {
    ESSAY_OK = 0,         /**< success */
    ESSAY_EINVAL = -1,    /**< invalid argument (NULL handle, bad option) */
    ESSAY_ENOMEM = -2,    /**< out of memory */
    ESSAY_EIO = -3,       /**< file could not be read or written */
    ESSAY_ESYNTAX = -4,   /**< malformed corpus text or query; see location */
    ESSAY_ECORRUPT = -5,  /**< index file is damaged */
    ESSAY_EVERSION = -6,  /**< index file of an unsupported format version */
    ESSAY_ENOTFOUND = -7, /**< no such essay, paragraph or file */
    ESSAY_ELIMIT = -8,    /**< a documented limit was exceeded */
    ESSAY_EICU = -9       /**< ICU failed (missing data, internal error) */
} essay_status;

#define ESSAY_ERROR_PATH_MAX 256
#define ESSAY_ERROR_MESSAGE_MAX 512

/**
 * A caller-owned, fixed-size error report.  Nothing to free.
 *
 * `message` is complete and ready to print: for located errors it starts
 * with "path:line:column: " (or "query:offset: " for query errors).  The
 * other fields give the same location as data.  Unknown parts are 0 / "".
 * The layout is ABI (the Python binding mirrors it).
 */
typedef struct essay_error {
    int code;                             /**< an essay_status, < 0 */
    uint32_t line;                        /**< 1-based line, 0 = none */
    uint32_t column;                      /**< 1-based column in characters, 0 = none */
    uint64_t offset;                      /**< byte offset into the input */
    char path[ESSAY_ERROR_PATH_MAX];      /**< file name, "" = in memory */
    char message[ESSAY_ERROR_MESSAGE_MAX];/**< full message, NUL-terminated */
} essay_error;

/** A static English description of a status code ("out of memory", ...). */
ESSAY_API const char *essay_strerror(int code);

/* ------------------------------------------------------------------------
 * Limits
 *
 * Every limit is checked and reported as ESSAY_ELIMIT with a location.
 * ---------------------------------------------------------------------- */

/** Largest corpus file, and largest in-memory text given to one parse:
 *  byte offsets are stored in 32 bits per file. */
#define ESSAY_MAX_FILE_BYTES 0xFFFFFFFEu
/** Largest paragraph (one block) in bytes.  Keeps highlighting and position
 *  arithmetic bounded; no real prose paragraph comes close. */
#define ESSAY_MAX_PARAGRAPH_BYTES (4u << 20)
/** Most paragraphs per language in one essay (title included). */
#define ESSAY_MAX_PARAGRAPHS 65535u
/** Longest essay id, in digits. */
#define ESSAY_MAX_ID_LEN 32u
/** Most files in one corpus load. */
#define ESSAY_MAX_FILES 65535u

/* ------------------------------------------------------------------------
 * Corpus
 *
 * Format (UTF-8, blocks separated by blank lines):
 *
 *     ## 0301. English title
 *
 *     English paragraph 1 ...
 *
 *     中文标题
 *
 *     中文段落 1 ...
 *
 * Paragraph 0 of each language is the title.  en[k] and zh[k] are a pair
 * when both languages have the same number of paragraphs.
 * ---------------------------------------------------------------------- */

/** Paragraph languages. */
typedef enum essay_lang {
    ESSAY_LANG_EN = 0, /**< English */
    ESSAY_LANG_ZH = 1  /**< Chinese */
} essay_lang;

/** A parsed corpus.  Owned; free with essay_corpus_free(). Immutable. */
typedef struct essay_corpus essay_corpus;
/** One essay of a corpus.  Borrowed from its corpus. */
typedef struct essay_article essay_article;
/** One paragraph of an essay.  Borrowed from its corpus. */
typedef struct essay_paragraph essay_paragraph;

/** Corpus flag: replace invalid UTF-8 with U+FFFD instead of failing; the
 *  number of replacements is reported as a warning per file. */
#define ESSAY_CORPUS_LENIENT 1u

/** Options for parsing corpora.  Initialise with ESSAY_CORPUS_OPTIONS_INIT
 *  or essay_corpus_options_init(); NULL means defaults. */
typedef struct essay_corpus_options {
    unsigned version;    /**< ESSAY_CORPUS_OPTIONS_VERSION */
    unsigned flags;      /**< ESSAY_CORPUS_* flags, default 0 (strict) */
    uint64_t max_bytes;  /**< limit on one file's size; 0 = ESSAY_MAX_FILE_BYTES */
} essay_corpus_options;

#define ESSAY_CORPUS_OPTIONS_VERSION 1
#define ESSAY_CORPUS_OPTIONS_INIT { ESSAY_CORPUS_OPTIONS_VERSION, 0u, 0u }

/** Fill `opts` with the defaults (same bytes as ESSAY_CORPUS_OPTIONS_INIT).
 *  @return ESSAY_OK, or ESSAY_EINVAL for NULL or an unknown version. */
ESSAY_API int essay_corpus_options_init(essay_corpus_options *opts, unsigned version);

/**
 * Parse one essay-format text held in memory.
 *
 * @param out   receives the corpus on success (caller frees), NULL on error
 * @param text  UTF-8 text (a BOM and CRLF line ends are accepted)
 * @param len   its length in bytes
 * @param name  name used in locations ("<memory>" when NULL)
 * @param opts  options or NULL
 * @param err   error report or NULL
 * @return ESSAY_OK; ESSAY_ESYNTAX (text before the first heading, bad
 *         heading, duplicate id, invalid UTF-8, NUL byte) with line:column;
 *         ESSAY_ELIMIT; ESSAY_ENOMEM; ESSAY_EINVAL.
 */
ESSAY_API int essay_corpus_parse(essay_corpus **out, const char *text, size_t len,
                                 const char *name, const essay_corpus_options *opts,
                                 essay_error *err);

/**
 * Load a corpus from one or more files, in order.  Essay ids must be unique
 * across all files.
 *
 * @return as essay_corpus_parse(), plus ESSAY_EIO / ESSAY_ENOTFOUND for a
 *         file that cannot be read (the path is in the message).
 */
ESSAY_API int essay_corpus_load(essay_corpus **out, const char *const *paths,
                                size_t n_paths, const essay_corpus_options *opts,
                                essay_error *err);

/** The embedded default corpus (compiled into the library).
 *  @return ESSAY_OK or ESSAY_ENOMEM. */
ESSAY_API int essay_corpus_default(essay_corpus **out, essay_error *err);

/** Free a corpus and everything borrowed from it.  NULL is a no-op. */
ESSAY_API void essay_corpus_free(essay_corpus *corpus);

/** Number of essays, in load order. */
ESSAY_API size_t essay_corpus_article_count(const essay_corpus *corpus);

/** The i-th essay in load order, or NULL when i is out of range. */
ESSAY_API const essay_article *essay_corpus_article_at(const essay_corpus *corpus,
                                                       size_t i);

/** The essay with this id (exact digits, leading zeros kept), or NULL. */
ESSAY_API const essay_article *essay_corpus_find(const essay_corpus *corpus,
                                                 const char *id, size_t id_len);

/** Total number of paragraphs over all essays and both languages. */
ESSAY_API size_t essay_corpus_paragraph_count(const essay_corpus *corpus);

/** Number of warnings the parse produced (count mismatches, replaced bytes). */
ESSAY_API size_t essay_corpus_warning_count(const essay_corpus *corpus);

/** The i-th warning (code ESSAY_OK, message and location filled), or NULL. */
ESSAY_API const essay_error *essay_corpus_warning_at(const essay_corpus *corpus,
                                                     size_t i);

/** The essay id (digits), NUL-terminated; `len_out` may be NULL. */
ESSAY_API const char *essay_article_id(const essay_article *article, size_t *len_out);

/** The title in a language (its paragraph 0), or NULL when the essay has no
 *  text in that language. */
ESSAY_API const char *essay_article_title(const essay_article *article,
                                          essay_lang lang, size_t *len_out);

/** Number of paragraphs in a language, title included (0 = language absent). */
ESSAY_API size_t essay_article_paragraph_count(const essay_article *article,
                                               essay_lang lang);

/** Paragraph `i` (0 = title) in a language, or NULL when out of range. */
ESSAY_API const essay_paragraph *essay_article_paragraph(const essay_article *article,
                                                         essay_lang lang, size_t i);

/** 1 when the essay's languages are aligned paragraph by paragraph. */
ESSAY_API int essay_article_is_aligned(const essay_article *article);

/** Where the essay's heading is: file name ("" in memory) and 1-based line. */
ESSAY_API const char *essay_article_source(const essay_article *article,
                                           uint32_t *line_out);

/** The essay a paragraph belongs to. */
ESSAY_API const essay_article *essay_paragraph_article(const essay_paragraph *p);

/** The paragraph's language. */
ESSAY_API essay_lang essay_paragraph_lang(const essay_paragraph *p);

/** The paragraph's index within its language (0 = title). */
ESSAY_API size_t essay_paragraph_index(const essay_paragraph *p);

/** The paragraph text, byte-identical to the source block (CR of CRLF line
 *  ends removed, trailing blanks of the block removed), NUL-terminated. */
ESSAY_API const char *essay_paragraph_text(const essay_paragraph *p, size_t *len_out);

/** The aligned paragraph in the other language, or NULL when the essay is
 *  not aligned or has only one language. */
ESSAY_API const essay_paragraph *essay_paragraph_pair(const essay_paragraph *p);

/** A number unique to this paragraph within its corpus, dense in
 *  [0, essay_corpus_paragraph_count()). */
ESSAY_API size_t essay_paragraph_ordinal(const essay_paragraph *p);

/** The paragraph with this ordinal, or NULL when out of range. */
ESSAY_API const essay_paragraph *essay_corpus_paragraph_at(const essay_corpus *corpus,
                                                           size_t ordinal);

/* ------------------------------------------------------------------------
 * Analysis: the one token stream used for documents, queries and tools.
 *
 *     static int print(void *payload, const essay_token *t) {
 *         printf("%.*s [%zu,%zu) pos %u\n", (int)t->term_len, t->term,
 *                t->start, t->end, t->position);
 *         return 0;                       // non-zero stops the walk
 *     }
 *     essay_tokenize(text, len, ESSAY_TOKENIZE_DOCUMENT, print, NULL, &err);
 *
 * English (Latin-script) words are folded (NFKC casefold) and stemmed
 * (Snowball English); the exact folded form follows at the same position.
 * Han text yields dictionary words, every character and every adjacent
 * pair at character positions, traditional folded to simplified.  Words
 * with inner punctuation (index.html, user@host, don't) yield their parts
 * at consecutive positions, with the whole compound at the first part.
 * Other scripts yield ICU words, folded.  Symbols and emoji yield nothing.
 * ---------------------------------------------------------------------- */

/** Token kinds (the low 4 bits of essay_token.flags). */
typedef enum essay_token_kind {
    ESSAY_TOKEN_WORD = 1,        /**< English/Latin word or number, stemmed */
    ESSAY_TOKEN_EXACT = 2,       /**< exact folded form of the word before it */
    ESSAY_TOKEN_COMPOUND = 3,    /**< whole word with inner punctuation, folded */
    ESSAY_TOKEN_HAN_WORD = 4,    /**< Chinese dictionary word (2+ characters) */
    ESSAY_TOKEN_HAN_UNIGRAM = 5, /**< one Chinese character */
    ESSAY_TOKEN_HAN_BIGRAM = 6,  /**< two adjacent Chinese characters */
    ESSAY_TOKEN_OTHER = 7        /**< a word of another script (kana, hangul, ...) */
} essay_token_kind;

#define ESSAY_TOKEN_KIND_MASK 0x0Fu
/** The token shares the position of the token before it. */
#define ESSAY_TOKEN_COLOCATED 0x10u

/** Longest token, in bytes of normalized term.  Longer words are still
 *  found: a word is cut at the last character boundary within the limit
 *  (the rest of it is dropped, its offsets still cover the whole word). */
#define ESSAY_MAX_TOKEN_BYTES 128u

/** One token.  Pointers are valid during the callback only. */
typedef struct essay_token {
    const char *term;    /**< normalized term (UTF-8, not NUL-terminated) */
    size_t term_len;     /**< its length in bytes */
    size_t start;        /**< byte offset of the original text, inclusive */
    size_t end;          /**< byte offset of the original text, exclusive */
    uint32_t position;   /**< token position (Han: character position) */
    unsigned flags;      /**< essay_token_kind | ESSAY_TOKEN_COLOCATED */
} essay_token;

/** Token callback: return 0 to go on; any other value stops the walk and
 *  is returned by essay_tokenize() unchanged. */
typedef int (*essay_token_cb)(void *payload, const essay_token *token);

/** Tokenize as a document is indexed. */
#define ESSAY_TOKENIZE_DOCUMENT 0u
/** Tokenize as a query is analyzed (same chain, same terms). */
#define ESSAY_TOKENIZE_QUERY 1u

/**
 * Run the analyzer over `text` and call `cb` for each token, in text order.
 *
 * Thread-safe: each call uses its own ICU objects.
 * @return ESSAY_OK; ESSAY_ESYNTAX for invalid UTF-8 (err->offset is the
 *         byte); ESSAY_EICU; ESSAY_ENOMEM; or the callback's non-zero value.
 */
ESSAY_API int essay_tokenize(const char *text, size_t len, unsigned flags,
                             essay_token_cb cb, void *payload, essay_error *err);

/* ------------------------------------------------------------------------
 * Index and search
 *
 *     essay_index *idx;
 *     essay_results *res;
 *     essay_hit hit;
 *     if (essay_index_default(&idx, &err) != ESSAY_OK) ...
 *     if (essay_index_search(idx, "数学 OR math", SIZE_MAX, NULL, &res, &err) != ESSAY_OK) ...
 *     for (size_t i = 0; i < essay_results_count(res); i++) {
 *         essay_results_hit(res, i, &hit);
 *         printf("%.*s %s %zu %.3f %.*s\n", (int)hit.essay_len, hit.essay,
 *                hit.lang == ESSAY_LANG_EN ? "en" : "zh", hit.para, hit.score,
 *                (int)hit.text_len, hit.text);
 *     }
 *     essay_results_free(res);
 *     essay_index_free(idx);
 *
 * Query language (terms are analyzed exactly as documents are):
 *
 *     word            English word: matches every form with the same stem
 *     "word"          quoted: the exact (folded) form only
 *     "two words"     phrase: adjacent, in order
 *     optim*          prefix of a folded word (at least 1 character before *)
 *     数学            Han run: the literal substring, characters adjacent;
 *                     traditional / full-width forms fold first
 *     a b             AND (implicit)       a OR b      either
 *     -a              NOT (needs a positive term beside it)
 *     ( ... )         grouping; OR binds looser than AND
 *     lang:en|zh      only paragraphs of that language
 *     essay:0301      only paragraphs of that essay
 *
 * Syntax errors are ESSAY_ESYNTAX with err->offset = byte offset in the
 * query.  Limits: ESSAY_MAX_QUERY_BYTES, ESSAY_MAX_QUERY_TERMS -> ESSAY_ELIMIT.
 * Ranking is BM25 (k1 = 1.2, b = 0.75) per language; a Chinese run that is
 * a whole dictionary word in the paragraph scores above the same characters
 * inside a longer word.  Ties are ordered by key (essay id, lang, para).
 *
 * Threading: an index is immutable once built or opened; any number of
 * threads may search it at once.  Results belong to the caller and keep
 * pointing into the index: free them before the index.
 * ---------------------------------------------------------------------- */

/** Longest query, in bytes. */
#define ESSAY_MAX_QUERY_BYTES 4096u
/** Most terms in one query: each English word (phrase words included)
 *  counts one, a run of n Han characters counts n - 1 (its character
 *  pairs; a single character counts one), each prefix counts one.  Also:
 *  parentheses nest at most 32 deep, and a prefix may expand to at most
 *  16,384 terms; beyond either, ESSAY_ELIMIT. */
#define ESSAY_MAX_QUERY_TERMS 64u
/** Most hits one search returns (limit 0 means "all", capped here). */
#define ESSAY_MAX_RESULTS 100000u

/** A search index (built in memory or opened from a file).  Owned. */
typedef struct essay_index essay_index;
/** The answer to one search.  Owned; free with essay_results_free(). */
typedef struct essay_results essay_results;

/** Build progress callback: `done` of `total` paragraphs analyzed. */
typedef void (*essay_progress_cb)(void *payload, uint64_t done, uint64_t total);

/** Options for building an index.  NULL means defaults. */
typedef struct essay_build_options {
    unsigned version;           /**< ESSAY_BUILD_OPTIONS_VERSION */
    unsigned threads;           /**< analysis threads; 0 = every online core */
    essay_progress_cb progress; /**< optional, called from the building thread */
    void *progress_payload;
} essay_build_options;

#define ESSAY_BUILD_OPTIONS_VERSION 1
#define ESSAY_BUILD_OPTIONS_INIT { ESSAY_BUILD_OPTIONS_VERSION, 0u, NULL, NULL }

/**
 * Build an index of `corpus`.  The index copies what it needs: the corpus
 * may be freed afterwards.
 * @return ESSAY_OK, ESSAY_EINVAL, ESSAY_ENOMEM, ESSAY_EICU, ESSAY_ELIMIT.
 */
ESSAY_API int essay_index_build(essay_index **out, const essay_corpus *corpus,
                                const essay_build_options *opts, essay_error *err);

/**
 * Build the index of `corpus` straight into the file `path`, atomically
 * (as essay_index_save()), without holding the index in memory: the text
 * and the postings are streamed to the file as they are written.  For
 * large corpora this needs far less memory than essay_index_build() and
 * essay_index_save(); the file is byte-identical to what they would write.
 * Open it with essay_index_open().
 * @return ESSAY_OK, ESSAY_EINVAL, ESSAY_ENOMEM, ESSAY_EICU, ESSAY_ELIMIT,
 *         ESSAY_EIO (the old file, if any, is then left as it was).
 */
ESSAY_API int essay_index_build_file(const essay_corpus *corpus, const char *path,
                                     const essay_build_options *opts, essay_error *err);

/** Build (once per call) the index of the embedded default corpus. */
ESSAY_API int essay_index_default(essay_index **out, essay_error *err);

/** Free an index (NULL is allowed).  Results must be freed first. */
ESSAY_API void essay_index_free(essay_index *idx);

/**
 * The corpus of an index: essays, paragraphs and pairs to browse.  For an
 * opened index it is assembled from the file on the first call (O(number
 * of paragraphs), thread-safe); it lives as long as the index.
 * @return the corpus, or NULL with `err` filled (ENOMEM) on failure.
 */
ESSAY_API const essay_corpus *essay_index_corpus(const essay_index *idx, essay_error *err);

/** Options for one search.  NULL means defaults. */
typedef struct essay_search_options {
    unsigned version;      /**< ESSAY_SEARCH_OPTIONS_VERSION */
    size_t limit;          /**< most hits returned; 0 = all (<= ESSAY_MAX_RESULTS); default 10 */
    size_t offset;         /**< hits to skip first (paging); default 0 */
    int lang;              /**< ESSAY_LANG_EN, ESSAY_LANG_ZH, or -1 for both (default) */
    size_t snippet_bytes;  /**< target snippet length in bytes; default 160 */
    unsigned flags;        /**< ESSAY_SEARCH_* */
} essay_search_options;

/** Do not look up or highlight the aligned paragraph. */
#define ESSAY_SEARCH_NO_PAIR 1u
/** Do not compute highlights or snippets (fastest). */
#define ESSAY_SEARCH_NO_HIGHLIGHT 2u

#define ESSAY_SEARCH_OPTIONS_VERSION 1
#define ESSAY_SEARCH_OPTIONS_INIT { ESSAY_SEARCH_OPTIONS_VERSION, 10u, 0u, -1, 160u, 0u }

/**
 * Search.  `query` is UTF-8 of `len` bytes (SIZE_MAX: NUL-terminated).
 * On success *out holds the hits, best first (possibly none).
 * @return ESSAY_OK, ESSAY_ESYNTAX (err->offset = byte in the query),
 *         ESSAY_ELIMIT, ESSAY_EINVAL, ESSAY_ENOMEM, ESSAY_ECORRUPT (a
 *         damaged index found while decoding), ESSAY_EICU.
 */
ESSAY_API int essay_index_search(const essay_index *idx, const char *query, size_t len,
                                 const essay_search_options *opts, essay_results **out,
                                 essay_error *err);

/** A highlighted range of a paragraph's text: bytes [start, end). */
typedef struct essay_span {
    size_t start;
    size_t end;
} essay_span;

/**
 * One hit, as filled by essay_results_hit().  Every pointer borrows from
 * the results (and the index) and stays valid until essay_results_free().
 * Texts are NUL-terminated.  Spans are sorted, non-overlapping, merged when
 * adjacent, and lie on UTF-8 character boundaries.
 */
typedef struct essay_hit {
    const char *essay;       /**< essay id (digits) */
    size_t essay_len;
    essay_lang lang;         /**< language of the hit paragraph */
    size_t para;             /**< paragraph index in that language (0 = title) */
    double score;            /**< BM25 score, higher is better */
    const char *text;        /**< the paragraph text */
    size_t text_len;
    const essay_span *highlights; /**< matched ranges of text */
    size_t n_highlights;
    size_t snippet_start;    /**< snippet = text[snippet_start, snippet_end) */
    size_t snippet_end;      /**< around the best span, on character boundaries */
    int has_pair;            /**< 1 when the aligned paragraph follows */
    essay_lang pair_lang;
    size_t pair_para;
    const char *pair_text;
    size_t pair_text_len;
    const essay_span *pair_highlights; /**< query matches in the pair, if any */
    size_t n_pair_highlights;
} essay_hit;

/** Number of hits held (after offset and limit). */
ESSAY_API size_t essay_results_count(const essay_results *res);
/** Number of paragraphs that matched in all (>= essay_results_count()). */
ESSAY_API size_t essay_results_total(const essay_results *res);
/** Fill `hit` with hit `i`.  @return ESSAY_OK or ESSAY_EINVAL (bad i). */
ESSAY_API int essay_results_hit(const essay_results *res, size_t i, essay_hit *hit);
/** Free results (NULL is allowed). */
ESSAY_API void essay_results_free(essay_results *res);

/* ------------------------------------------------------------------------
 * Index files
 * ---------------------------------------------------------------------- */

/** Open flag: skip checksum verification (O(1) open).  Every decode stays
 *  bounds-checked, so a damaged file gives errors, never a crash. */
#define ESSAY_OPEN_TRUSTED 1u

/**
 * Save atomically: a temporary file in the same directory, fsync, rename
 * over `path`, fsync the directory.  On any failure the previous file at
 * `path` is untouched and no temporary file is left.
 * @return ESSAY_OK, ESSAY_EIO (err names the path and the OS error), ESSAY_ENOMEM.
 */
ESSAY_API int essay_index_save(const essay_index *idx, const char *path, essay_error *err);

/** Open an index file read-only (memory-mapped). */
ESSAY_API int essay_index_open(essay_index **out, const char *path, unsigned flags,
                               essay_error *err);

/** Open an index image held in memory.  The bytes are borrowed: they must
 *  stay valid and unchanged until essay_index_free(). */
ESSAY_API int essay_index_open_memory(essay_index **out, const void *data, size_t len,
                                      unsigned flags, essay_error *err);

/** The index's file image (what essay_index_save() writes). Borrowed. */
ESSAY_API const void *essay_index_image(const essay_index *idx, size_t *len_out);

/** Figures about an index. */
typedef struct essay_index_stats {
    uint64_t essays;
    uint64_t paragraphs[2];   /**< per essay_lang */
    uint64_t terms;           /**< distinct terms */
    uint64_t postings;        /**< (term, paragraph) pairs */
    uint64_t positions;       /**< term occurrences */
    uint64_t text_bytes;      /**< corpus text held */
    uint64_t index_bytes;     /**< whole image / file */
    uint32_t format_version;
    char icu_version[16];     /**< ICU that built the index */
    char unicode_version[16]; /**< Unicode version of that ICU */
} essay_index_stats;

/** Fill `out`.  @return ESSAY_OK or ESSAY_EINVAL. */
ESSAY_API int essay_index_stats_get(const essay_index *idx, essay_index_stats *out);

/** Warnings raised when the index was opened (e.g. built by another ICU). */
ESSAY_API size_t essay_index_warning_count(const essay_index *idx);
ESSAY_API const essay_error *essay_index_warning_at(const essay_index *idx, size_t i);

#ifdef __cplusplus
}
#endif

#endif /* ESSAY_H */
