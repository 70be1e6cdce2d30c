/*
 * format.h - the index image: one self-contained, little-endian file that is
 * built in memory, saved as is, and read in place (memory or mmap).  The
 * same reader serves a freshly built index and an opened file, so there is
 * one decoding path to test and to harden.
 *
 * Grammar (all integers little-endian, sections 8-byte aligned):
 *
 *   file      := header section-table section*
 *   header    := magic[8]="ESSAYIX\0"  u32 format_version  u32 section_count
 *                u64 file_size  char icu_version[16]  char unicode_version[16]
 *                u64 table_checksum      -- XXH3-64 of header[0,56) + table
 *   table     := entry[section_count]
 *   entry     := u32 id  u32 flags  u64 offset  u64 length  u64 checksum
 *                                        -- checksum = XXH3-64 of the bytes
 *   sections  (ids are four ASCII bytes read as a u32):
 *     META  meta                         -- counts and BM25 statistics
 *     TEXT  byte[]                       -- paragraph texts, each coded on
 *                                           its own with the TMOD model
 *                                           (textpack.c), then essay ids and
 *                                           source names, NUL-terminated
 *     TMOD  byte[]                       -- the text model: an order-1
 *                                           canonical Huffman code over
 *                                           bytes (format in textpack.c)
 *     ARTS  article[n_articles]          -- in corpus order
 *     PARA  para[n_paras]                -- ordinal order = document ids
 *     TERM  term[n_terms]                -- sorted by term bytes (memcmp)
 *     TSTR  byte[]                       -- term bytes: kind byte + UTF-8
 *     HASH  u32 n_slots, u32 slot[n_slots] -- open addressing on XXH3-64,
 *                                           slot = term id + 1, 0 = empty
 *     POST  byte[]                       -- postings, see below
 *     NORM  u8[n_paras]                  -- per paragraph: language << 7 |
 *                                           quantized length (ef_norm_code)
 *
 *   article   := u64 id_off u64 path_off u32 id_len u32 path_len
 *                u32 first_para u16 n_en u16 n_zh u32 flags u32 line
 *                u32 key_base u32 reserved
 *                -- its paragraphs are first_para.., English then Chinese;
 *                   key_base is the rank of its first paragraph in key
 *                   order (essay id, language, paragraph): ties in a
 *                   ranking go by key
 *   para      := u64 text_off u32 text_len u32 code_len u32 article
 *                u16 index u8 lang u8 flags
 *                -- text_len bytes of text, coded in code_len bytes of TEXT
 *                   at text_off; its pair (the same index in the other
 *                   language, when the essay is aligned) and its key rank
 *                   follow from its article
 *   term      := u64 hash u64 post_off u32 post_len u32 df u32 str_off
 *                u16 str_len u8 kind u8 vbits
 *                -- kind 'X' (exact form of an English word) has no postings
 *                   of its own: post_off = the term id of its stem ('S'),
 *                   post_len = its variant number among the stem's forms
 *                   (forms sorted by bytes), df = its own paragraph count.
 *                   An 'S' term with vbits > 0 carries the variant of every
 *                   position (below); vbits <= EF_MAX_VBITS.
 *
 *   postings (one term, post_len bytes at post_off):
 *     df <= BLOCK: varint pos_len  docs  positions           -- one block
 *     df >  BLOCK: skip[ceil(df / BLOCK)]  (docs positions)*  -- blocks
 *     skip      := u32 last_doc u32 doc_off u32 pos_off f32 max_tfn
 *                  (offsets from the end of the skip table; max_tfn is the
 *                   block's largest BM25 tf factor, for block-max pruning)
 *     docs      := per doc: varint64 (doc_delta << 1 | tf == 1), then
 *                  varint tf (>= 2) unless that low bit is set  (the first
 *                  delta is from the previous block's last doc, or from 0)
 *     positions := per doc: tf varint64s (delta << vbits | variant), the
 *                  delta from the previous position (the first from 0)
 *
 * Term kinds (first byte of a term): 'S' English stem, 'X' exact folded
 * form of an English word, 'C' whole compound (systemd.service), 'O' word
 * of another script, 'W' Han dictionary word, 'U' Han character, 'B' Han
 * character pair.
 *
 * Evolution: readers reject unknown format versions (ESSAY_EVERSION) and
 * ignore sections they do not know.  Incremental updates will add more
 * segments (each a TERM/TSTR/HASH/POST group, told apart by entry.flags
 * high bits = segment number) and a deletion bitmap section; documents are
 * addressed by ordinal, so nothing here stands in their way.
 */
#ifndef ESSAY_FORMAT_H
#define ESSAY_FORMAT_H

#include "essay_int.h"

#define EF_MAGIC "ESSAYIX"        /* 7 chars + NUL = 8 bytes */
#define EF_VERSION 2u
#define EF_HEADER_SIZE 64u
#define EF_ENTRY_SIZE 32u
#define EF_BLOCK 128u
#define EF_NO_PAIR 0xFFFFFFFFu
#define EF_MAX_VBITS 16u

#define EF_ID(a, b, c, d) \
    ((uint32_t)(a) | ((uint32_t)(b) << 8) | ((uint32_t)(c) << 16) | ((uint32_t)(d) << 24))
#define EF_META EF_ID('M', 'E', 'T', 'A')
#define EF_TEXT EF_ID('T', 'E', 'X', 'T')
#define EF_ARTS EF_ID('A', 'R', 'T', 'S')
#define EF_PARA EF_ID('P', 'A', 'R', 'A')
#define EF_TERM EF_ID('T', 'E', 'R', 'M')
#define EF_TSTR EF_ID('T', 'S', 'T', 'R')
#define EF_HASH EF_ID('H', 'A', 'S', 'H')
#define EF_POST EF_ID('P', 'O', 'S', 'T')
#define EF_NORM EF_ID('N', 'O', 'R', 'M')
#define EF_TMOD EF_ID('T', 'M', 'O', 'D')

#define EF_KIND_STEM 'S'
#define EF_KIND_EXACT 'X'
#define EF_KIND_COMPOUND 'C'
#define EF_KIND_OTHER 'O'
#define EF_KIND_HANWORD 'W'
#define EF_KIND_UNI 'U'
#define EF_KIND_BI 'B'

/* Article flags. */
#define EF_ART_ALIGNED 1u

/* META: fixed layout. */
typedef struct ef_meta {
    uint64_t n_articles;
    uint64_t n_paras;
    uint64_t n_terms;
    uint64_t n_postings;
    uint64_t n_positions;
    uint64_t n_lang[2];      /* paragraphs per language */
    uint64_t total_len[2];   /* sum of doclen per language */
    uint64_t text_bytes;     /* paragraph text, decoded */
} ef_meta;

typedef struct ef_article {
    uint64_t id_off;
    uint64_t path_off;
    uint32_t id_len;
    uint32_t path_len;
    uint32_t first_para;
    uint16_t n_para[2];
    uint32_t flags;
    uint32_t line;
    uint32_t key_base;
    uint32_t reserved;
} ef_article;

typedef struct ef_para {
    uint64_t text_off;
    uint32_t text_len;
    uint32_t code_len;
    uint32_t article;
    uint16_t index;
    uint8_t lang;
    uint8_t flags;
} ef_para;

typedef struct ef_term {
    uint64_t hash;
    uint64_t post_off;
    uint32_t post_len;
    uint32_t df;
    uint32_t str_off;
    uint16_t str_len;
    uint8_t kind;
    uint8_t vbits;   /* 'S': bits of the variant in each position */
} ef_term;

typedef struct ef_skip {
    uint32_t last_doc;
    uint32_t doc_off;
    uint32_t pos_off;
    float max_tfn;
} ef_skip;

/* The structs above are written as they lie in memory: the build checks
 * the sizes and the byte order (little-endian hosts only, checked at
 * configure time). */
_Static_assert(sizeof(ef_meta) == 80, "ef_meta layout");
_Static_assert(sizeof(ef_article) == 48, "ef_article layout");
_Static_assert(sizeof(ef_para) == 24, "ef_para layout");
_Static_assert(sizeof(ef_term) == 32, "ef_term layout");
_Static_assert(sizeof(ef_skip) == 16, "ef_skip layout");

/* BM25 parameters. */
#define EF_K1 1.2
#define EF_B 0.75

/* Paragraph length (positions) quantized to 7 bits, as Lucene's norms:
 * exact below 32, then 6 steps per doubling (about 12 % apart), capped.
 * BM25 uses the length the code stands for, so one byte per paragraph
 * is all scoring reads. */
static inline uint8_t ef_norm_code(uint32_t dl)
{
    if (dl < 32)
        return (uint8_t)dl;
    unsigned c = 32;
    double x = (double)dl / 32.0;
    while (x >= 1.122462048309373 && c < 127) { /* 2^(1/6) */
        x /= 1.122462048309373;
        c++;
    }
    return (uint8_t)c;
}

static inline double ef_norm_length(uint8_t code)
{
    code &= 0x7F;
    if (code < 32)
        return code;
    double x = 32.0;
    for (unsigned c = 32; c < code; c++)
        x *= 1.122462048309373;
    return x;
}

/* The BM25 length factor k1 * (1 - b + b * dl / avgdl) for each norm byte
 * (language << 7 | length code).  The build (block maxima) and the reader
 * (scores) both fill their table here, so the two agree bit for bit. */
static inline void ef_norm_table(double k[256], const double avgdl[2])
{
    for (int c = 0; c < 256; c++)
        k[c] = EF_K1 * (1.0 - EF_B + EF_B * ef_norm_length((uint8_t)c) / avgdl[c >> 7]);
}

/* ---- varints (LEB128: at most 10 bytes for a u64, 5 for a u32) ---- */
static inline size_t ef_put_varint64(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

static inline size_t ef_put_varint(uint8_t *out, uint32_t v)
{
    return ef_put_varint64(out, v);
}

/* Decode at *p (< end), at most 10 bytes.  False on truncation/overflow. */
static inline bool ef_get_varint64(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    const uint8_t *s = *p;
    if (ESSAY_LIKELY(s < end && s[0] < 0x80)) {
        *v = s[0];
        *p = s + 1;
        return true;
    }
    uint64_t r = 0;
    for (unsigned shift = 0; shift < 70; shift += 7) {
        if (s >= end)
            return false;
        uint8_t b = *s++;
        if (shift == 63 && b > 0x01)
            return false;
        r |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *v = r;
            *p = s;
            return true;
        }
    }
    return false;
}

/* A u32: at most 5 bytes.  False on truncation or overflow. */
static inline bool ef_get_varint(const uint8_t **p, const uint8_t *end, uint32_t *v)
{
    const uint8_t *s = *p;
    uint64_t r;
    if (!ef_get_varint64(&s, end, &r) || r > UINT32_MAX || s - *p > 5)
        return false;
    *v = (uint32_t)r;
    *p = s;
    return true;
}

#endif /* ESSAY_FORMAT_H */
