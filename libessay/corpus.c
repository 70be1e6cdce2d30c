/*
 * corpus.c - the essay-format parser and the in-memory corpus.
 *
 * Owns everything about the text format (DESIGN §1): headings, blocks,
 * the English/Chinese split, alignment, and the diagnostics with
 * path:line:column.  It copies paragraph text into one arena per corpus so
 * the corpus outlives the caller's buffers.  Tokenizing is analyze.c's job.
 *
 * Decisions the format leaves open, taken here:
 *  - a heading is any line "##<blanks><digits>.<blanks><title>", inside a
 *    block or not; a line "## " followed by a digit that does not complete
 *    that shape is an error (a mistyped heading would otherwise silently
 *    merge two essays); "## Words" is ordinary text;
 *  - trailing blanks (space, tab, CR) of every line are dropped, lines are
 *    joined with "\n", nothing else in a block is changed;
 *  - strict mode rejects invalid UTF-8; lenient mode replaces each invalid
 *    byte by U+FFFD and reports the count as a warning.  NUL bytes are
 *    errors in both modes (they are never text).
 */
#include "corpus.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <unicode/uscript.h>

typedef struct bpara {
    size_t text_off;   /* into the arena */
    uint32_t len;
    uint32_t line;
} bpara;

typedef struct barticle {
    size_t id_off;     /* into the arena */
    uint32_t id_len;
    uint32_t file;
    uint32_t line;
    uint32_t id_col;   /* column of the id in the heading */
    size_t first_para; /* into builder paras */
    uint32_t n_para[2];
    bool aligned;
} barticle;

/* Script census of one block, for the language split. */
typedef struct block_info {
    uint32_t n_han;
    uint32_t n_latin;
} block_info;

struct essay_corpus_builder {
    essay_corpus_options opts;
    essay_buf arena;
    bpara *paras;
    size_t n_paras, cap_paras;
    barticle *arts;
    size_t n_arts, cap_arts;
    essay_error *warnings;
    size_t n_warnings, cap_warnings;
    char **paths;
    size_t n_paths, cap_paths;
    block_info *blocks;     /* scratch: script census of the current essay */
    size_t cap_blocks;
};

/* One source being parsed. */
typedef struct parse_state {
    essay_corpus_builder *b;
    const char *path;       /* for messages */
    uint32_t file;
    const char *src;        /* text after the BOM */
    size_t len;
    size_t bom;             /* 3 when a BOM was skipped: offsets are into the file */
    const size_t *rep;      /* lenient copy: offsets of its U+FFFD replacements */
    size_t n_rep;
    essay_error *err;
    /* current essay */
    bool in_essay;
    size_t art;             /* index in b->arts */
    size_t n_blocks;        /* blocks of the current essay, title included */
    /* current block */
    bool in_block;
    uint32_t block_line;
    /* a mapped file: pages already parsed are given back (drop_consumed) */
    const char *map;
    size_t map_done;
} parse_state;

#define DROP_STEP ((size_t)8 << 20)

/* A mapped file is read once, front to back: give the kernel back the
 * pages before `upto`, so the file never sits whole in the process's
 * memory next to the arena the text is copied into.  A page touched again
 * (an error message's column) is simply read back from the page cache. */
static void drop_consumed(parse_state *ps, const char *upto)
{
    if (!ps->map || upto < ps->map)
        return;
    size_t off = (size_t)(upto - ps->map);
    off &= ~(size_t)0xFFFFF; /* 1 MiB steps: page-aligned on every system */
    if (off < ps->map_done + DROP_STEP)
        return;
    madvise((void *)(uintptr_t)(ps->map + ps->map_done), off - ps->map_done, MADV_DONTNEED);
    ps->map_done = off;
}

/* ------------------------------------------------------------------------ */

static uint32_t column_of(const char *line_start, const char *at)
{
    /* 1-based column in code points; invalid bytes count one each */
    uint32_t col = 1;
    const unsigned char *p = (const unsigned char *)line_start;
    const unsigned char *e = (const unsigned char *)at;
    while (p < e) {
        uint32_t cp;
        size_t n = essay_utf8_decode(p, (size_t)(e - p), &cp);
        p += n ? n : 1;
        col++;
    }
    return col;
}

/* Location of byte `off` of src: line and column. */
static void locate(const char *src, size_t off, uint32_t *line, uint32_t *col)
{
    uint32_t ln = 1;
    const char *ls = src;
    const char *p = src;
    const char *e = src + off;
    while (p < e) {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        if (!nl)
            break;
        ln++;
        ls = p = nl + 1;
    }
    *line = ln;
    *col = column_of(ls, e);
}

static int error_at(parse_state *ps, int code, const char *at, const char *fmt,
                    const char *detail)
{
    uint32_t line, col;
    size_t off = (size_t)(at - ps->src);
    locate(ps->src, off, &line, &col);
    /* In a lenient copy each U+FFFD (3 bytes) stands for 1 input byte:
     * report the offset into the input. */
    size_t lo = 0, hi = ps->n_rep;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ps->rep[mid] < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t input_off = off - 2 * lo;
    if (lo > 0 && off < ps->rep[lo - 1] + 3)
        input_off = ps->rep[lo - 1] - 2 * (lo - 1); /* inside a replacement */
    return essay_error_set(ps->err, code, ps->path, line, col, input_off + ps->bom, fmt,
                           detail);
}

static int add_warning(essay_corpus_builder *b, const char *path, uint32_t line,
                       const char *fmt, ...) ESSAY_PRINTF(4, 5);

static int add_warning(essay_corpus_builder *b, const char *path, uint32_t line,
                       const char *fmt, ...)
{
    if (ESSAY_ARRAY_GROW(b->warnings, b->cap_warnings, b->n_warnings + 1))
        return ESSAY_ENOMEM;
    char msg[ESSAY_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    essay_error *w = &b->warnings[b->n_warnings++];
    essay_error_set(w, ESSAY_OK, path, line, line ? 1 : 0, 0, "warning: %s", msg);
    return 0;
}

/* ------------------------------------------------------------------------
 * Script census: DESIGN §1 decides languages by Han vs Latin letters.
 * ---------------------------------------------------------------------- */

static void census(const char *s, size_t len, block_info *bi)
{
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *e = p + len;
    while (p < e) {
        unsigned c = *p;
        if (c < 0x80) {
            if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
                bi->n_latin++;
            p++;
            continue;
        }
        uint32_t cp;
        size_t n = essay_utf8_decode(p, (size_t)(e - p), &cp);
        if (!n) { /* cannot happen after validation; be safe */
            p++;
            continue;
        }
        p += n;
        if (cp >= 0x4E00 && cp <= 0x9FFF) { /* the common CJK block, all Han */
            bi->n_han++;
            continue;
        }
        UErrorCode st = U_ZERO_ERROR;
        UScriptCode sc = uscript_getScript((UChar32)cp, &st);
        if (U_FAILURE(st))
            continue;
        if (sc == USCRIPT_HAN)
            bi->n_han++;
        else if (sc == USCRIPT_LATIN)
            bi->n_latin++;
    }
}

/* ------------------------------------------------------------------------
 * Building paragraphs
 * ---------------------------------------------------------------------- */

static int push_para(parse_state *ps, const char *text, size_t len, uint32_t line,
                     const char *at)
{
    essay_corpus_builder *b = ps->b;
    if (len > ESSAY_MAX_PARAGRAPH_BYTES)
        return error_at(ps, ESSAY_ELIMIT, at, "paragraph longer than %s bytes",
                        "4194304");
    if (ESSAY_ARRAY_GROW(b->paras, b->cap_paras, b->n_paras + 1) ||
        ESSAY_ARRAY_GROW(b->blocks, b->cap_blocks, ps->n_blocks + 1))
        return essay_fail(ps->err, ESSAY_ENOMEM, "out of memory");
    bpara *p = &b->paras[b->n_paras++];
    p->text_off = b->arena.len;
    p->len = (uint32_t)len;
    p->line = line;
    if (essay_buf_put(&b->arena, text, len) || essay_buf_putc(&b->arena, '\0'))
        return essay_fail(ps->err, ESSAY_ENOMEM, "out of memory");
    block_info *bi = &b->blocks[ps->n_blocks++];
    bi->n_han = bi->n_latin = 0;
    census(text, len, bi);
    return 0;
}

/* Append one line of the current block straight into the arena. */
static int block_line(parse_state *ps, const char *s, size_t len, uint32_t line,
                      const char *at)
{
    essay_corpus_builder *b = ps->b;
    if (!ps->in_block) {
        if (ESSAY_ARRAY_GROW(b->paras, b->cap_paras, b->n_paras + 1) ||
            ESSAY_ARRAY_GROW(b->blocks, b->cap_blocks, ps->n_blocks + 1))
            return essay_fail(ps->err, ESSAY_ENOMEM, "out of memory");
        bpara *p = &b->paras[b->n_paras++];
        p->text_off = b->arena.len;
        p->len = 0;
        p->line = line;
        ps->in_block = true;
        ps->block_line = line;
    } else if (essay_buf_putc(&b->arena, '\n')) {
        return essay_fail(ps->err, ESSAY_ENOMEM, "out of memory");
    }
    bpara *p = &b->paras[b->n_paras - 1];
    if (b->arena.len - p->text_off + len > ESSAY_MAX_PARAGRAPH_BYTES)
        return error_at(ps, ESSAY_ELIMIT, at, "paragraph longer than %s bytes",
                        "4194304");
    if (essay_buf_put(&b->arena, s, len))
        return essay_fail(ps->err, ESSAY_ENOMEM, "out of memory");
    return 0;
}

static int end_block(parse_state *ps)
{
    if (!ps->in_block)
        return 0;
    essay_corpus_builder *b = ps->b;
    bpara *p = &b->paras[b->n_paras - 1];
    p->len = (uint32_t)(b->arena.len - p->text_off);
    if (essay_buf_putc(&b->arena, '\0'))
        return essay_fail(ps->err, ESSAY_ENOMEM, "out of memory");
    block_info *bi = &b->blocks[ps->n_blocks++];
    bi->n_han = bi->n_latin = 0;
    census(b->arena.data + p->text_off, p->len, bi);
    ps->in_block = false;
    return 0;
}

/* Close the current essay: decide the language split (DESIGN §1). */
static int end_essay(parse_state *ps)
{
    int rc = end_block(ps);
    if (rc || !ps->in_essay)
        return rc;
    essay_corpus_builder *b = ps->b;
    barticle *a = &b->arts[ps->art];
    const block_info *bl = ps->b->blocks;  /* bl[0] is the title */
    size_t m = ps->n_blocks - 1;          /* body blocks */
    size_t n_en, n_zh;
    bool aligned = false;
    const char *id = b->arena.data + a->id_off;

    size_t first_han = SIZE_MAX, first_major = SIZE_MAX;
    for (size_t i = 1; i <= m; i++) {
        if (bl[i].n_han && first_han == SIZE_MAX)
            first_han = i;
        if (bl[i].n_han > bl[i].n_latin) {
            first_major = i;
            break;
        }
    }

    if (bl[0].n_han > bl[0].n_latin) {
        n_en = 0;                     /* Chinese heading: Chinese-only essay */
        n_zh = m + 1;
    } else if (first_han == SIZE_MAX) {
        n_en = m + 1;                 /* no Han anywhere: English-only */
        n_zh = 0;
    } else if (m % 2 == 1 && bl[m / 2 + 1].n_han) {
        n_en = n_zh = m / 2 + 1;      /* 2N+2 blocks: split by position */
        aligned = true;
    } else if (first_major == SIZE_MAX) {
        n_en = m + 1;
        n_zh = 0;
        if (add_warning(b, ps->path, a->line,
                        "essay %s has Chinese characters but no mostly-Chinese "
                        "paragraph; loaded as English only", id))
            return essay_fail(ps->err, ESSAY_ENOMEM, "out of memory");
    } else {
        n_en = first_major;
        n_zh = m + 1 - first_major;
        if (add_warning(b, ps->path, a->line,
                        "essay %s has %zu English and %zu Chinese paragraphs "
                        "(titles included); loaded without pairs", id, n_en, n_zh))
            return essay_fail(ps->err, ESSAY_ENOMEM, "out of memory");
    }
    if (n_en > ESSAY_MAX_PARAGRAPHS || n_zh > ESSAY_MAX_PARAGRAPHS)
        return essay_error_set(ps->err, ESSAY_ELIMIT, ps->path, a->line, 1, 0,
                               "essay %s has more than %u paragraphs in one language",
                               id, ESSAY_MAX_PARAGRAPHS);
    a->n_para[ESSAY_LANG_EN] = (uint32_t)n_en;
    a->n_para[ESSAY_LANG_ZH] = (uint32_t)n_zh;
    a->aligned = aligned;
    ps->in_essay = false;
    ps->n_blocks = 0;
    return 0;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/*
 * Try a heading line.  Returns 1 when it is one (and starts the essay), 0
 * when the line is ordinary text, or an error code.
 */
static int try_heading(parse_state *ps, const char *s, size_t len, uint32_t line)
{
    if (len < 3 || s[0] != '#' || s[1] != '#' || (s[2] != ' ' && s[2] != '\t'))
        return 0;
    size_t i = 2;
    while (i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (i >= len || s[i] < '0' || s[i] > '9')
        return 0;
    size_t id_start = i;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++;
    size_t id_len = i - id_start;
    if (id_len > ESSAY_MAX_ID_LEN)
        return error_at(ps, ESSAY_ELIMIT, s + id_start,
                        "essay id longer than %s digits", "32");
    if (i >= len || s[i] != '.')
        return error_at(ps, ESSAY_ESYNTAX, s + i,
                        "malformed essay heading: expected '.' after the id in "
                        "'## NNNN. Title'%s", "");
    i++;
    if (i >= len || (s[i] != ' ' && s[i] != '\t'))
        return error_at(ps, ESSAY_ESYNTAX, s + i,
                        "malformed essay heading: expected a space and a title "
                        "after '## NNNN.'%s", "");
    while (i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (i >= len)
        return error_at(ps, ESSAY_ESYNTAX, s + i, "essay heading has no title%s", "");

    int rc = end_essay(ps);
    if (rc)
        return rc;
    essay_corpus_builder *b = ps->b;
    if (ESSAY_ARRAY_GROW(b->arts, b->cap_arts, b->n_arts + 1))
        return essay_fail(ps->err, ESSAY_ENOMEM, "out of memory");
    barticle *a = &b->arts[b->n_arts];
    memset(a, 0, sizeof(*a));
    a->id_off = b->arena.len;
    a->id_len = (uint32_t)id_len;
    a->file = ps->file;
    a->line = line;
    a->id_col = column_of(s, s + id_start);
    a->first_para = b->n_paras;
    if (essay_buf_put(&b->arena, s + id_start, id_len) || essay_buf_putc(&b->arena, '\0'))
        return essay_fail(ps->err, ESSAY_ENOMEM, "out of memory");
    ps->art = b->n_arts++;
    ps->in_essay = true;
    ps->n_blocks = 0;
    rc = push_para(ps, s + i, len - i, line, s + i);
    return rc ? rc : 1;
}

static int parse_text(parse_state *ps)
{
    const char *s = ps->src;
    const char *end = s + ps->len;
    uint32_t line = 0;
    while (s < end) {
        line++;
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *le = nl ? nl : end;
        size_t n = (size_t)(le - s);
        while (n && is_blank(s[n - 1]))
            n--;
        if (n == 0) {
            int rc = end_block(ps);
            if (rc)
                return rc;
        } else {
            int rc = try_heading(ps, s, n, line);
            if (rc < 0)
                return rc;
            if (rc == 0) {
                if (!ps->in_essay) {
                    const char *t = s;
                    while (is_blank(*t))
                        t++;
                    return error_at(ps, ESSAY_ESYNTAX, t,
                                    "text before the first essay heading "
                                    "('## NNNN. Title')%s", "");
                }
                rc = block_line(ps, s, n, line, s);
                if (rc)
                    return rc;
            }
        }
        s = nl ? nl + 1 : end;
        drop_consumed(ps, s);
    }
    return end_essay(ps);
}

/* Lenient mode: a copy with every invalid byte replaced by U+FFFD. */
static int replace_invalid(const char *src, size_t len, char **out, size_t *out_len,
                           size_t *n_bad, size_t **rep_out)
{
    essay_buf o = ESSAY_BUF_INIT;
    size_t bad = 0, i = 0, cap_rep = 0;
    size_t *rep = NULL;
    while (i < len) {
        size_t ok = essay_utf8_validate(src + i, len - i);
        if (essay_buf_put(&o, src + i, ok))
            goto oom;
        i += ok;
        if (i < len) {
            if (ESSAY_ARRAY_GROW(rep, cap_rep, bad + 1))
                goto oom;
            rep[bad] = o.len;
            if (essay_buf_put(&o, "\xEF\xBF\xBD", 3))
                goto oom;
            bad++;
            i++;
        }
    }
    if (essay_buf_putc(&o, '\0'))
        goto oom;
    *out = o.data;
    *out_len = o.len - 1;
    *n_bad = bad;
    *rep_out = rep;
    return 0;
oom:
    essay_buf_free(&o);
    essay_free(rep);
    return ESSAY_ENOMEM;
}

static int builder_add(essay_corpus_builder *b, const char *text, size_t len, const char *name,
                       bool mapped, essay_error *err);

int essay_corpus_builder_add(essay_corpus_builder *b, const char *text, size_t len,
                             const char *name, essay_error *err)
{
    return builder_add(b, text, len, name, false, err);
}

/* NUL check and UTF-8 validation of a mapped file in windows, each given
 * back after it is checked.  Same answers as over the whole text. */
static void scan_windows(parse_state *ps, const char **nul, size_t *bad)
{
    const char *s = ps->src;
    size_t len = ps->len, at = 0;
    *nul = NULL;
    *bad = len;
    while (at < len) {
        size_t end = len - at > DROP_STEP ? at + DROP_STEP : len;
        while (end < len && end > at && ((unsigned char)s[end] & 0xC0) == 0x80)
            end--; /* never split a character */
        if (end == at)
            end = len - at > DROP_STEP ? at + DROP_STEP : len;
        const char *z = memchr(s + at, '\0', end - at);
        size_t upto = z ? (size_t)(z - s) : end;
        size_t v = essay_utf8_validate(s + at, upto - at);
        if (v < upto - at) {
            *bad = at + v;
            *nul = z ? z : memchr(s + at + v, '\0', len - at - v);
            return;
        }
        if (z) {
            *nul = z;
            *bad = (size_t)(z - s); /* validation stops at the NUL, as below */
            return;
        }
        at = end;
        drop_consumed(ps, s + at);
    }
}

static int builder_add(essay_corpus_builder *b, const char *text, size_t len, const char *name,
                       bool mapped, essay_error *err)
{
    if (!name)
        name = "<memory>";
    uint64_t max = b->opts.max_bytes ? b->opts.max_bytes : ESSAY_MAX_FILE_BYTES;
    if (max > ESSAY_MAX_FILE_BYTES)
        max = ESSAY_MAX_FILE_BYTES;
    if (len > max)
        return essay_error_set(err, ESSAY_ELIMIT, name, 0, 0, 0,
                               "input of %zu bytes exceeds the limit of %llu bytes",
                               len, (unsigned long long)max);
    if (b->n_paths >= ESSAY_MAX_FILES)
        return essay_fail(err, ESSAY_ELIMIT, "more than %u corpus files", ESSAY_MAX_FILES);
    if (ESSAY_ARRAY_GROW(b->paths, b->cap_paths, b->n_paths + 1))
        return essay_fail(err, ESSAY_ENOMEM, "out of memory");
    char *p = essay_strndup(name, strlen(name));
    if (!p)
        return essay_fail(err, ESSAY_ENOMEM, "out of memory");
    b->paths[b->n_paths++] = p;

    parse_state ps;
    memset(&ps, 0, sizeof(ps));
    ps.b = b;
    ps.path = p;
    ps.map = mapped ? text : NULL;
    ps.file = (uint32_t)(b->n_paths - 1);
    ps.err = err;
    ps.src = text ? text : "";
    ps.len = len;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        ps.src += 3;
        ps.len -= 3;
        ps.bom = 3;
    }

    const char *nul;
    size_t bad;
    if (ps.map) {
        scan_windows(&ps, &nul, &bad);
        ps.map_done = 0; /* the parse reads the file again from the front */
    } else {
        nul = memchr(ps.src, '\0', ps.len);
        bad = essay_utf8_validate(ps.src, nul ? (size_t)(nul - ps.src) : ps.len);
    }
    /* the text is copied into the arena: reserve it once, no regrowth */
    if (essay_buf_grow(&b->arena, ps.len + ps.len / 32 + 4096))
        return essay_fail(err, ESSAY_ENOMEM, "out of memory");
    char *clean = NULL;
    size_t *rep = NULL;
    int rc;
    if (nul && bad == (size_t)(nul - ps.src))
        return error_at(&ps, ESSAY_ESYNTAX, nul, "NUL byte in corpus text%s", "");
    if (bad < ps.len && !(b->opts.flags & ESSAY_CORPUS_LENIENT)) {
        char detail[64];
        snprintf(detail, sizeof(detail), "0x%02X", (unsigned char)ps.src[bad]);
        return error_at(&ps, ESSAY_ESYNTAX, ps.src + bad,
                        "invalid UTF-8 (byte %s); use the lenient mode to replace it",
                        detail);
    }
    if (bad < ps.len) {
        size_t clean_len, n_bad;
        if (replace_invalid(ps.src, ps.len, &clean, &clean_len, &n_bad, &rep))
            return essay_fail(err, ESSAY_ENOMEM, "out of memory");
        ps.rep = rep;
        ps.n_rep = n_bad;
        /* a NUL after the first invalid byte is still an error */
        const char *nul2 = memchr(clean, '\0', clean_len);
        if (nul2) {
            ps.src = clean;
            ps.len = clean_len;
            rc = error_at(&ps, ESSAY_ESYNTAX, nul2, "NUL byte in corpus text%s", "");
            essay_free(clean);
            essay_free(rep);
            return rc;
        }
        ps.src = clean;
        ps.len = clean_len;
        if (add_warning(b, p, 0, "%zu invalid UTF-8 byte%s replaced with U+FFFD",
                        n_bad, n_bad == 1 ? "" : "s")) {
            essay_free(clean);
            essay_free(rep);
            return essay_fail(err, ESSAY_ENOMEM, "out of memory");
        }
    }
    rc = parse_text(&ps);
    essay_free(clean);
    essay_free(rep);
    return rc;
}

int essay_corpus_builder_add_file(essay_corpus_builder *b, const char *path,
                                  essay_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return essay_error_set(err, e == ENOENT ? ESSAY_ENOTFOUND : ESSAY_EIO, path, 0, 0,
                               0, "cannot open: %s", strerror(e));
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return essay_error_set(err, ESSAY_EIO, path, 0, 0, 0, "not a regular file");
    }
    uint64_t max = b->opts.max_bytes ? b->opts.max_bytes : ESSAY_MAX_FILE_BYTES;
    if ((uint64_t)st.st_size > max || (uint64_t)st.st_size > ESSAY_MAX_FILE_BYTES) {
        fclose(f);
        return essay_error_set(err, ESSAY_ELIMIT, path, 0, 0, 0,
                               "file of %llu bytes exceeds the limit of %llu bytes",
                               (unsigned long long)st.st_size,
                               (unsigned long long)(max < ESSAY_MAX_FILE_BYTES
                                                        ? max : ESSAY_MAX_FILE_BYTES));
    }
    size_t size = (size_t)st.st_size;
    if (size >= ((size_t)1 << 20)) {
        /* Large files are mapped and parsed front to back, the pages given
         * back as they are done: the file is never held whole beside the
         * arena its text is copied into. */
        void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fileno(f), 0);
        if (m != MAP_FAILED) {
            fclose(f);
            madvise(m, size, MADV_SEQUENTIAL);
            int rc = builder_add(b, m, size, path, true, err);
            munmap(m, size);
            return rc;
        }
    }
    char *data = essay_malloc(size + 1);
    if (!data) {
        fclose(f);
        return essay_fail(err, ESSAY_ENOMEM, "out of memory reading %s", path);
    }
    size_t got = size ? fread(data, 1, size, f) : 0;
    int read_err = ferror(f);
    fclose(f);
    if (got != size || read_err) {
        essay_free(data);
        return essay_error_set(err, ESSAY_EIO, path, 0, 0, 0, "read error");
    }
    int rc = essay_corpus_builder_add(b, data, size, path, err);
    essay_free(data);
    return rc;
}

int essay_corpus_builder_new(essay_corpus_builder **out, const essay_corpus_options *opts,
                             essay_error *err)
{
    essay_corpus_builder *b = essay_calloc(1, sizeof(*b));
    if (!b)
        return essay_fail(err, ESSAY_ENOMEM, "out of memory");
    essay_corpus_options def = ESSAY_CORPUS_OPTIONS_INIT;
    b->opts = opts ? *opts : def;
    *out = b;
    return 0;
}

void essay_corpus_builder_free(essay_corpus_builder *b)
{
    if (!b)
        return;
    essay_buf_free(&b->arena);
    essay_free(b->paras);
    essay_free(b->arts);
    essay_free(b->warnings);
    for (size_t i = 0; i < b->n_paths; i++)
        essay_free(b->paths[i]);
    essay_free(b->paths);
    essay_free(b->blocks);
    essay_free(b);
}

static int cmp_id(const essay_article *x, const essay_article *y)
{
    if (x->id_len != y->id_len)
        return x->id_len < y->id_len ? -1 : 1;
    return memcmp(x->id, y->id, x->id_len);
}

/* qsort has no context argument: sort (article pointer) pairs instead. */
static int cmp_art_ptr(const void *a, const void *b)
{
    const essay_article *x = *(const essay_article *const *)a;
    const essay_article *y = *(const essay_article *const *)b;
    int c = cmp_id(x, y);
    if (c)
        return c;
    return x->ordinal < y->ordinal ? -1 : x->ordinal > y->ordinal;
}

int essay_corpus_builder_finish(essay_corpus_builder *b, essay_corpus **out,
                                essay_error *err)
{
    int rc = ESSAY_ENOMEM;
    const essay_article **sorted = NULL;
    essay_corpus *c = essay_calloc(1, sizeof(*c));
    if (!c)
        goto oom;
    if (essay_buf_putc(&b->arena, '\0')) /* never empty, never NULL */
        goto oom;
    c->arena = b->arena.data;
    c->arena_len = b->arena.len;
    b->arena.data = NULL;
    b->arena.len = b->arena.cap = 0;
    c->paths = b->paths;
    c->n_paths = b->n_paths;
    b->paths = NULL;
    b->n_paths = 0;
    c->warnings = b->warnings;
    c->n_warnings = b->n_warnings;
    b->warnings = NULL;
    b->n_warnings = 0;

    c->n_articles = b->n_arts;
    c->n_paras = b->n_paras;
    c->articles = essay_calloc(b->n_arts ? b->n_arts : 1, sizeof(essay_article));
    c->paras = essay_calloc(b->n_paras ? b->n_paras : 1, sizeof(essay_paragraph));
    c->by_id = essay_calloc(b->n_arts ? b->n_arts : 1, sizeof(uint32_t));
    sorted = essay_calloc(b->n_arts ? b->n_arts : 1, sizeof(*sorted));
    if (!c->articles || !c->paras || !c->by_id || !sorted)
        goto oom;

    for (size_t i = 0; i < b->n_arts; i++) {
        const barticle *ba = &b->arts[i];
        essay_article *a = &c->articles[i];
        a->id = c->arena + ba->id_off;
        a->id_len = ba->id_len;
        a->ordinal = (uint32_t)i;
        a->file = ba->file;
        a->path = c->paths[ba->file];
        a->id_col = ba->id_col;
        a->line = ba->line;
        a->aligned = ba->aligned;
        size_t k = ba->first_para;
        for (int lang = 0; lang < 2; lang++) {
            a->n_para[lang] = ba->n_para[lang];
            a->para[lang] = ba->n_para[lang] ? &c->paras[k] : NULL;
            for (uint32_t j = 0; j < ba->n_para[lang]; j++, k++) {
                essay_paragraph *p = &c->paras[k];
                p->article = a;
                p->text = c->arena + b->paras[k].text_off;
                p->len = b->paras[k].len;
                p->line = b->paras[k].line;
                p->index = (uint16_t)j; /* j < ESSAY_MAX_PARAGRAPHS */
                p->ordinal = (uint32_t)k;
                p->lang = (uint8_t)lang;
            }
        }
        sorted[i] = a;
    }
    qsort(sorted, b->n_arts, sizeof(*sorted), cmp_art_ptr);
    for (size_t i = 0; i < b->n_arts; i++) {
        c->by_id[i] = sorted[i]->ordinal;
        if (i > 0 && cmp_id(sorted[i - 1], sorted[i]) == 0) {
            const essay_article *first = sorted[i - 1], *dup = sorted[i];
            rc = essay_error_set(err, ESSAY_ESYNTAX, c->paths[dup->file], dup->line, dup->id_col, 0,
                                 "duplicate essay id %s (first defined at %s:%u)",
                                 dup->id, c->paths[first->file], (unsigned)first->line);
            goto fail;
        }
    }
    essay_free(sorted);
    essay_corpus_builder_free(b);
    *out = c;
    return 0;

oom:
    rc = essay_fail(err, ESSAY_ENOMEM, "out of memory");
fail:
    essay_free(sorted);
    essay_corpus_free(c);
    essay_corpus_builder_free(b);
    *out = NULL;
    return rc;
}

void essay_corpus_free(essay_corpus *c)
{
    if (!c)
        return;
    essay_free(c->arena);
    essay_free(c->articles);
    essay_free(c->paras);
    essay_free(c->by_id);
    essay_free(c->warnings);
    for (size_t i = 0; i < c->n_paths; i++)
        essay_free(c->paths[i]);
    essay_free(c->paths);
    essay_free(c);
}
