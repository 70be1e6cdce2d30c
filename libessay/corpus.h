/*
 * corpus.h - interface of corpus.c: the essay-format parser and the
 * in-memory corpus (essays, paragraphs, pairs, warnings).
 */
#ifndef ESSAY_CORPUS_H
#define ESSAY_CORPUS_H

#include "essay_int.h"

struct essay_paragraph {
    const essay_article *article; /* owning essay */
    const char *text;             /* NUL-terminated, inside the corpus arena */
    uint32_t len;                 /* bytes, <= ESSAY_MAX_PARAGRAPH_BYTES */
    uint32_t ordinal;             /* dense over the corpus, load order */
    uint32_t line;                /* 1-based source line of the block, 0 = unknown */
    uint16_t index;               /* within its language, 0 = title
                                   * (< ESSAY_MAX_PARAGRAPHS) */
    uint8_t lang;                 /* essay_lang */
};                                /* 32 bytes: a large corpus has millions */

struct essay_article {
    const char *id;               /* digits, NUL-terminated */
    uint32_t id_len;
    uint32_t ordinal;             /* load order */
    const essay_paragraph *para[2]; /* per language; NULL when absent */
    uint32_t n_para[2];
    bool aligned;                 /* en[k] <-> zh[k] */
    uint32_t file;                /* index into corpus->paths */
    const char *path;             /* corpus->paths[file] */
    uint32_t line;                /* heading line */
    uint32_t id_col;              /* column of the id in the heading */
};

struct essay_corpus {
    char *arena;                  /* paragraph texts and ids, NUL-separated */
    size_t arena_len;
    essay_article *articles;
    size_t n_articles;
    essay_paragraph *paras;       /* per essay: en paragraphs then zh */
    size_t n_paras;
    uint32_t *by_id;              /* article indices sorted by id */
    essay_error *warnings;
    size_t n_warnings;
    char **paths;                 /* source names, "" for memory */
    size_t n_paths;
};

/* A corpus under construction: sources are fed one by one, then finished
 * (ids checked for duplicates, offsets turned into pointers). */
typedef struct essay_corpus_builder essay_corpus_builder;

int essay_corpus_builder_new(essay_corpus_builder **out, const essay_corpus_options *opts,
                             essay_error *err);
/* Parse one source; `name` is used in locations (NULL = "<memory>"). */
int essay_corpus_builder_add(essay_corpus_builder *b, const char *text, size_t len,
                             const char *name, essay_error *err);
/* Read and parse one file. */
int essay_corpus_builder_add_file(essay_corpus_builder *b, const char *path,
                                  essay_error *err);
/* Produce the corpus; the builder is freed whatever the outcome. */
int essay_corpus_builder_finish(essay_corpus_builder *b, essay_corpus **out,
                                essay_error *err);
void essay_corpus_builder_free(essay_corpus_builder *b);

/* The embedded default corpus (generated at build time). */
extern const char essay_default_corpus_text[];
extern const size_t essay_default_corpus_len;
#define ESSAY_DEFAULT_CORPUS_NAME "<default>"

#endif /* ESSAY_CORPUS_H */
