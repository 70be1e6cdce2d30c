/*
 * test_textpack.c - the stored-text codec (libessay/textpack.c).
 *
 * Round trips on the real text of tests/data/real (every line a paragraph)
 * and on edge cases (empty and one-byte paragraphs, all 256 byte values,
 * contexts with one successor, skewed counts that hit the length limit);
 * code lengths read back from the serialized form against a plain Huffman
 * code; determinism; the error contract (unseen pairs, hand-made bad
 * models, every truncation and bit flip of models and coded paragraphs,
 * wrong lengths) on exact-size heap copies so ASan sees any overread;
 * allocation failure at every point; many threads sharing one model.
 */
#include "harness.h"
#include "textpack.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *data_dir = "tests/data";

static char *read_file(const char *rel, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", data_dir, rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    *len = fread(buf, 1, (size_t)n, f);
    buf[*len] = 0;
    fclose(f);
    return buf;
}

typedef struct span {
    const char *p;
    size_t len;
} span;

/* Every line (without its '\n') is a paragraph, empty ones included. */
static span *split_lines(const char *text, size_t len, size_t *n_out)
{
    size_t n = 0, cap = 64;
    span *v = malloc(cap * sizeof(*v));
    const char *s = text, *end = text + len;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *e = nl ? nl : end;
        if (n == cap)
            v = realloc(v, (cap *= 2) * sizeof(*v));
        v[n].p = s;
        v[n].len = (size_t)(e - s);
        n++;
        s = nl ? nl + 1 : end;
    }
    *n_out = n;
    return v;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A finished model of paragraphs v[0..n). */
static essay_tp_model *train(const span *v, size_t n)
{
    essay_tp_model *m = NULL;
    CHECK_INT(essay_tp_count_new(&m), 0);
    if (!m)
        return NULL;
    for (size_t i = 0; i < n; i++)
        essay_tp_count(m, v[i].p, v[i].len);
    CHECK_INT(essay_tp_finish(m), 0);
    return m;
}

static uint8_t *serialize(const essay_tp_model *m, size_t *len)
{
    *len = essay_tp_serialized_size(m);
    uint8_t *b = malloc(*len ? *len : 1);
    essay_tp_serialize(m, b);
    return b;
}

/* Encode with `enc`, decode with `dec` from an exact-size copy into an
 * exact-size buffer; true when the text comes back.  *coded_len gets the
 * coded size. */
static bool roundtrip(const essay_tp_model *enc, const essay_tp_model *dec, const char *text,
                      size_t len, size_t *coded_len)
{
    uint8_t *buf = malloc(essay_tp_encode_bound(len));
    size_t clen = 0;
    int rc = essay_tp_encode(enc, text, len, buf, &clen);
    CHECK_INT(rc, 0);
    CHECK(clen + 8 <= essay_tp_encode_bound(len));
    uint8_t *in = malloc(clen ? clen : 1);
    memcpy(in, buf, clen);
    char *out = malloc(len ? len : 1);
    int drc = essay_tp_decode(dec, in, clen, out, len);
    bool ok = rc == 0 && drc == 0 && memcmp(out, text, len) == 0;
    if (coded_len)
        *coded_len = clen;
    free(buf);
    free(in);
    free(out);
    return ok;
}

/* The code lengths in a serialized model (format in textpack.c):
 * len[ctx][byte], 0xFF where there is no code.  False if malformed. */
static bool parse_lengths(const uint8_t *b, size_t n, uint8_t len[256][256])
{
    memset(len, 0xFF, 256 * 256);
    if (n < 34 || b[0] != ESSAY_TP_FORMAT || b[1] != ESSAY_TP_MAX_BITS)
        return false;
    size_t pos = 34;
    for (unsigned ctx = 0; ctx < 256; ctx++) {
        if (!(b[2 + ctx / 8] >> (ctx % 8) & 1))
            continue;
        if (pos >= n)
            return false;
        unsigned k = b[pos++] + 1u, syms[256], j = 0;
        if (k < 32) {
            if (pos + k > n)
                return false;
            for (j = 0; j < k; j++)
                syms[j] = b[pos + j];
            pos += k;
        } else {
            if (pos + 32 > n)
                return false;
            for (unsigned c = 0; c < 256; c++)
                if (b[pos + c / 8] >> (c % 8) & 1)
                    syms[j++] = c;
            pos += 32;
        }
        if (k == 1) {
            len[ctx][syms[0]] = 0;
            continue;
        }
        if (pos + (k + 1) / 2 > n)
            return false;
        for (j = 0; j < k; j++)
            len[ctx][syms[j]] = (uint8_t)(b[pos + j / 2] >> (j % 2 * 4) & 0xF);
        pos += (k + 1) / 2;
    }
    return pos == n;
}

/* Total cost sum(freq * len) of a plain (unlimited) Huffman code. */
static uint64_t huffman_cost(const uint64_t *freq, size_t n)
{
    uint64_t w[512];
    size_t k = n;
    memcpy(w, freq, n * sizeof(*w));
    uint64_t cost = 0;
    while (k > 1) {
        /* take the two smallest: O(n^2) is fine here */
        for (int r = 0; r < 2; r++) {
            size_t min = (size_t)r;
            for (size_t i = (size_t)r; i < k; i++)
                if (w[i] < w[min])
                    min = i;
            uint64_t t = w[r];
            w[r] = w[min];
            w[min] = t;
        }
        uint64_t sum = w[0] + w[1];
        cost += sum;
        w[0] = sum;
        w[1] = w[--k];
    }
    return cost;
}

/* ---- round trips ---- */

static void roundtrip_file(const char *rel)
{
    size_t len = 0, n = 0;
    char *text = read_file(rel, &len);
    CHECK(text != NULL);
    if (!text)
        return;
    span *v = split_lines(text, len, &n);
    essay_tp_model *m = train(v, n), *loaded = NULL;
    size_t mlen;
    uint8_t *mb = serialize(m, &mlen);
    CHECK_INT(essay_tp_load(&loaded, mb, mlen), 0);

    /* the loaded model serializes to the same bytes */
    size_t mlen2;
    uint8_t *mb2 = serialize(loaded, &mlen2);
    CHECK(mlen2 == mlen && memcmp(mb, mb2, mlen) == 0);

    size_t bad = 0, coded = 0, bytes = 0;
    uint8_t *x = malloc(essay_tp_encode_bound(len)), *y = malloc(essay_tp_encode_bound(len));
    for (size_t i = 0; i < n; i++) {
        size_t clen = 0, xl = 0, yl = 0;
        bad += !roundtrip(m, loaded, v[i].p, v[i].len, &clen);
        coded += clen;
        bytes += v[i].len;
        /* the loaded model encodes exactly like the original */
        if (i % 16 == 0) {
            essay_tp_encode(m, v[i].p, v[i].len, x, &xl);
            essay_tp_encode(loaded, v[i].p, v[i].len, y, &yl);
            bad += xl != yl || memcmp(x, y, xl) != 0;
        }
    }
    CHECK_INT(bad, 0);
    double ratio = (double)(coded + mlen) / (double)bytes;
    fprintf(stderr, "  %-22s %zu paragraphs, ratio %.4f (model %zu bytes)\n", rel, n, ratio,
            mlen);
    CHECK(ratio < 0.55);
    free(x);
    free(y);
    free(mb);
    free(mb2);
    essay_tp_free(loaded);
    essay_tp_free(m);
    free(v);
    free(text);
}

static void textpack_roundtrip_real_text(void)
{
    roundtrip_file("real/en_man.txt");
    roundtrip_file("real/zh.txt");
    roundtrip_file("real/bilingual.md");
}

/* ---- edge cases ---- */

static void textpack_empty_and_one_byte(void)
{
    /* nothing counted: a model without any code */
    essay_tp_model *m = train(NULL, 0), *l = NULL;
    size_t mlen, clen = 99;
    uint8_t *mb = serialize(m, &mlen);
    CHECK_INT(mlen, 34);
    CHECK_INT(essay_tp_load(&l, mb, mlen), 0);
    uint8_t out[16];
    char c[2];
    CHECK_INT(essay_tp_encode(m, "", 0, out, &clen), 0);
    CHECK_INT(clen, 0);
    CHECK_INT(essay_tp_decode(l, NULL, 0, NULL, 0), 0);
    CHECK_INT(essay_tp_decode(l, NULL, 0, c, 1), ESSAY_ECORRUPT);
    CHECK_INT(essay_tp_encode(m, "a", 1, out, &clen), ESSAY_EINVAL);
    CHECK_INT(clen, 0);
    essay_tp_free(l);
    essay_tp_free(m);
    free(mb);

    /* one paragraph "a": the start context has one byte, coded in 0 bits */
    span v[] = { { "a", 1 }, { "", 0 } };
    m = train(v, 2);
    CHECK(roundtrip(m, m, "a", 1, &clen));
    CHECK_INT(clen, 0);
    CHECK(roundtrip(m, m, "", 0, &clen));
    CHECK_INT(clen, 0);
    CHECK_INT(essay_tp_decode(m, NULL, 0, c, 2), ESSAY_ECORRUPT); /* 'a' has no code */
    uint8_t zero = 0;
    CHECK_INT(essay_tp_decode(m, &zero, 1, c, 1), ESSAY_ECORRUPT); /* a byte too many */
    CHECK_INT(essay_tp_decode(m, &zero, 1, c, 0), ESSAY_ECORRUPT);
    essay_tp_free(m);

    /* "x" once, "y" twice after the start: one bit each, canonical x=0 y=1 */
    span w[] = { { "x", 1 }, { "y", 1 }, { "y", 1 } };
    m = train(w, 3);
    CHECK(roundtrip(m, m, "x", 1, &clen));
    CHECK_INT(clen, 1);
    CHECK_INT(essay_tp_encode(m, "y", 1, out, &clen), 0);
    CHECK_INT(clen, 1);
    CHECK_INT(out[0], 1);
    uint8_t in = 1;
    CHECK_INT(essay_tp_decode(m, &in, 1, c, 1), 0);
    CHECK_INT(c[0], 'y');
    in = 3; /* a padding bit set */
    CHECK_INT(essay_tp_decode(m, &in, 1, c, 1), ESSAY_ECORRUPT);
    essay_tp_free(m);
}

static void textpack_all_byte_values(void)
{
    enum { N = 300 };
    char *buf[N];
    span v[N];
    for (int i = 0; i < N; i++) {
        size_t len = i == 0 || i == 1 ? 256 : (size_t)(rnd() % 400);
        buf[i] = malloc(len ? len : 1);
        for (size_t k = 0; k < len; k++)
            buf[i][k] = (char)(i == 0 ? k : i == 1 ? 255 - k : rnd() & 0xFF);
        v[i].p = buf[i];
        v[i].len = len;
    }
    essay_tp_model *m = train(v, N), *l = NULL;
    size_t mlen;
    uint8_t *mb = serialize(m, &mlen);
    CHECK_INT(essay_tp_load(&l, mb, mlen), 0);
    size_t bad = 0;
    for (int i = 0; i < N; i++)
        bad += !roundtrip(m, l, v[i].p, v[i].len, NULL);
    CHECK_INT(bad, 0);
    essay_tp_free(l);
    essay_tp_free(m);
    free(mb);
    for (int i = 0; i < N; i++)
        free(buf[i]);
}

static void textpack_single_symbol_contexts(void)
{
    /* a -> b -> a ...: every context has one successor, all 0-bit codes */
    span v[] = { { "abababab", 8 }, { "ab", 2 } };
    essay_tp_model *m = train(v, 2);
    char text[1001];
    for (int i = 0; i < 1001; i++)
        text[i] = "ab"[i & 1];
    size_t clen = 99;
    CHECK(roundtrip(m, m, text, 1001, &clen));
    CHECK_INT(clen, 0);
    CHECK(roundtrip(m, m, "aba", 3, &clen));
    CHECK_INT(clen, 0);
    essay_tp_free(m);

    /* a then X or Y (1 bit), then b and c with one successor each */
    span w[] = { { "aXbc", 4 }, { "aYbc", 4 } };
    m = train(w, 2);
    CHECK(roundtrip(m, m, "aXbc", 4, &clen));
    CHECK_INT(clen, 1);
    CHECK(roundtrip(m, m, "aYbc", 4, &clen));
    CHECK_INT(clen, 1);
    CHECK(roundtrip(m, m, "aY", 2, &clen));
    CHECK(roundtrip(m, m, "aYb", 3, &clen));
    char out[5];
    uint8_t in = 1;
    CHECK_INT(essay_tp_decode(m, &in, 1, out, 5), ESSAY_ECORRUPT); /* c has no code */
    essay_tp_free(m);
}

/* ---- code lengths ---- */

/* Optimal cost sum(w * len) over complete prefix codes with lengths
 * 1..limit, by dynamic programming over depths: w sorted descending,
 * i symbols placed, a open nodes at depth d.  Small n only. */
static uint64_t dp_memo[ESSAY_TP_MAX_BITS + 2][64][130];
static bool dp_seen[ESSAY_TP_MAX_BITS + 2][64][130];

static uint64_t dp_cost(const uint64_t *w, size_t n, unsigned d, size_t i, size_t a)
{
    if (i == n)
        return a == 0 ? 0 : UINT64_MAX;
    if (d > ESSAY_TP_MAX_BITS || a == 0 || a > 2 * (n - i))
        return UINT64_MAX;
    if (dp_seen[d][i][a])
        return dp_memo[d][i][a];
    uint64_t best = UINT64_MAX, placed = 0;
    for (size_t k = 0; k <= a && i + k <= n; k++) {
        if (k)
            placed += w[i + k - 1] * d;
        uint64_t rest = dp_cost(w, n, d + 1, i + k, 2 * (a - k));
        if (rest != UINT64_MAX && placed + rest < best)
            best = placed + rest;
    }
    dp_seen[d][i][a] = true;
    dp_memo[d][i][a] = best;
    return best;
}

static int cmp_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x > y ? -1 : x < y;
}

/* Count w[s] paragraphs "A" + byte s (s = 1..n): context 'A' gets exactly
 * these counts.  Returns the model's lengths of context 'A' checked for
 * range and Kraft equality, and their cost. */
static uint64_t lengths_for(const uint64_t *w, size_t n, bool *ok)
{
    essay_tp_model *m = NULL;
    CHECK_INT(essay_tp_count_new(&m), 0);
    for (size_t s = 0; s < n; s++) {
        char p[2] = { 'A', (char)(s + 1) };
        for (uint64_t k = 0; k < w[s]; k++)
            essay_tp_count(m, p, 2);
    }
    CHECK_INT(essay_tp_finish(m), 0);
    size_t mlen;
    uint8_t *mb = serialize(m, &mlen);
    static uint8_t len[256][256];
    *ok = parse_lengths(mb, mlen, len);
    uint64_t cost = 0, kraft = 0;
    for (size_t s = 0; s < n; s++) {
        unsigned l = len['A'][s + 1];
        *ok = *ok && l >= 1 && l <= ESSAY_TP_MAX_BITS;
        cost += w[s] * l;
        kraft += 1u << (ESSAY_TP_MAX_BITS - (l <= ESSAY_TP_MAX_BITS ? l : 0));
    }
    *ok = *ok && kraft == 1u << ESSAY_TP_MAX_BITS;
    /* and the model codes these paragraphs */
    essay_tp_model *l2 = NULL;
    *ok = *ok && essay_tp_load(&l2, mb, mlen) == 0;
    for (size_t s = 0; s < n && *ok; s++) {
        char p[2] = { 'A', (char)(s + 1) };
        *ok = roundtrip(m, l2, p, 2, NULL);
    }
    essay_tp_free(l2);
    essay_tp_free(m);
    free(mb);
    return cost;
}

static uint64_t optimal_cost(const uint64_t *w, size_t n)
{
    uint64_t s[64];
    memcpy(s, w, n * sizeof(*s));
    qsort(s, n, sizeof(*s), cmp_desc);
    memset(dp_seen, 0, sizeof dp_seen);
    return dp_cost(s, n, 1, 0, 2);
}

static void textpack_length_limit_fibonacci(void)
{
    /* Fibonacci counts: plain Huffman would use 24 bits for the rarest */
    uint64_t w[25] = { 1, 1 };
    for (int i = 2; i < 25; i++)
        w[i] = w[i - 1] + w[i - 2];
    bool ok = false;
    uint64_t cost = lengths_for(w, 25, &ok);
    CHECK(ok);
    CHECK_INT(cost, optimal_cost(w, 25));
    CHECK(cost > huffman_cost(w, 25)); /* the limit did cost something */
}

static void textpack_lengths_are_optimal(void)
{
    for (int t = 0; t < 60; t++) {
        size_t n = 2 + (size_t)(rnd() % 40);
        uint64_t w[64];
        for (size_t s = 0; s < n; s++)
            w[s] = 1 + rnd() % (1u << (rnd() % (t < 30 ? 6 : 12)));
        bool ok = false;
        uint64_t cost = lengths_for(w, n, &ok);
        CHECK(ok);
        uint64_t best = optimal_cost(w, n);
        if (cost != best)
            fprintf(stderr, "  trial %d: n %zu cost %llu, optimum %llu\n", t, n,
                    (unsigned long long)cost, (unsigned long long)best);
        CHECK(cost == best);
        CHECK(cost >= huffman_cost(w, n));
    }
}

/* ---- determinism and the API's rules ---- */

static void textpack_deterministic(void)
{
    size_t len = 0, n = 0;
    char *text = read_file("real/bilingual.md", &len);
    CHECK(text != NULL);
    if (!text)
        return;
    span *v = split_lines(text, len, &n);
    essay_tp_model *a = train(v, n), *b = NULL, *b2 = NULL;
    /* the same counts, gathered in another order by two "threads" */
    CHECK_INT(essay_tp_count_new(&b), 0);
    CHECK_INT(essay_tp_count_new(&b2), 0);
    for (size_t i = n; i-- > 0;)
        essay_tp_count(i % 2 ? b : b2, v[i].p, v[i].len);
    CHECK_INT(essay_tp_count_merge(b, b2), 0);
    CHECK_INT(essay_tp_finish(b), 0);
    size_t la, lb;
    uint8_t *sa = serialize(a, &la), *sb = serialize(b, &lb);
    CHECK(la == lb && memcmp(sa, sb, la) == 0);
    uint8_t *x = malloc(essay_tp_encode_bound(len)), *y = malloc(essay_tp_encode_bound(len));
    size_t bad = 0;
    for (size_t i = 0; i < n; i += 7) {
        size_t xl, yl;
        essay_tp_encode(a, v[i].p, v[i].len, x, &xl);
        essay_tp_encode(b, v[i].p, v[i].len, y, &yl);
        bad += xl != yl || memcmp(x, y, xl) != 0;
    }
    CHECK_INT(bad, 0);
    free(x);
    free(y);
    free(sa);
    free(sb);
    essay_tp_free(a);
    essay_tp_free(b);
    essay_tp_free(b2);
    free(v);
    free(text);
}

static void textpack_call_rules(void)
{
    span v[] = { { "abc", 3 } };
    essay_tp_model *m = NULL, *f = train(v, 1);
    CHECK_INT(essay_tp_count_new(&m), 0);
    essay_tp_count(m, "abc", 3);
    uint8_t out[64];
    char c[4];
    size_t clen = 5;
    /* unfinished: no codes yet */
    CHECK_INT(essay_tp_serialized_size(m), 0);
    CHECK_INT(essay_tp_encode(m, "abc", 3, out, &clen), ESSAY_EINVAL);
    CHECK_INT(clen, 0);
    CHECK_INT(essay_tp_decode(m, out, 0, c, 0), ESSAY_EINVAL);
    /* finished: no more counting */
    CHECK_INT(essay_tp_count_merge(f, m), ESSAY_EINVAL);
    CHECK_INT(essay_tp_count_merge(m, f), ESSAY_EINVAL);
    CHECK_INT(essay_tp_finish(f), ESSAY_EINVAL);
    essay_tp_count(f, "zzz", 3); /* ignored */
    /* a pair never counted cannot be coded */
    CHECK_INT(essay_tp_encode(f, "abd", 3, out, &clen), ESSAY_EINVAL);
    CHECK_INT(clen, 0);
    CHECK_INT(essay_tp_encode(f, "b", 1, out, &clen), ESSAY_EINVAL);
    CHECK_INT(essay_tp_encode(f, "zzz", 3, out, &clen), ESSAY_EINVAL);
    CHECK(roundtrip(f, f, "abc", 3, NULL));
    CHECK(roundtrip(f, f, "ab", 2, NULL));
    essay_tp_free(m);
    essay_tp_free(f);
    essay_tp_free(NULL);
}

/* ---- untrusted models ---- */

typedef struct mbuf {
    uint8_t b[512];
    size_t n;
} mbuf;

/* A model whose only context with a code is 0. */
static void start_model(mbuf *m)
{
    memset(m, 0, sizeof(*m));
    m->b[0] = ESSAY_TP_FORMAT;
    m->b[1] = ESSAY_TP_MAX_BITS;
    m->b[2] = 1; /* context 0 */
    m->n = 34;
}

static void put(mbuf *m, const uint8_t *bytes, size_t n)
{
    memcpy(m->b + m->n, bytes, n);
    m->n += n;
}

static int load_bytes(const uint8_t *b, size_t n)
{
    uint8_t *copy = malloc(n ? n : 1);
    memcpy(copy, b, n);
    essay_tp_model *m = NULL;
    int rc = essay_tp_load(&m, copy, n);
    CHECK(rc == 0 || m == NULL);
    essay_tp_free(m);
    free(copy);
    return rc;
}

static int load_ctx0(const uint8_t *bytes, size_t n)
{
    mbuf m;
    start_model(&m);
    put(&m, bytes, n);
    return load_bytes(m.b, m.n);
}

static void textpack_bad_models(void)
{
    mbuf m;
    start_model(&m);
    m.b[2] = 0;
    CHECK_INT(load_bytes(m.b, 34), 0); /* no codes at all */
    CHECK_INT(load_bytes(m.b, 33), ESSAY_ECORRUPT);
    CHECK_INT(load_bytes(m.b, 0), ESSAY_ECORRUPT);
    CHECK_INT(load_bytes(m.b, 35), ESSAY_ECORRUPT); /* a trailing byte */
    m.b[0] = ESSAY_TP_FORMAT + 1;
    CHECK_INT(load_bytes(m.b, 34), ESSAY_ECORRUPT);
    m.b[0] = ESSAY_TP_FORMAT;
    m.b[1] = ESSAY_TP_MAX_BITS + 1;
    CHECK_INT(load_bytes(m.b, 34), ESSAY_ECORRUPT);

    CHECK_INT(load_ctx0((const uint8_t[]){ 0, 'a' }, 2), 0);          /* one byte, 0 bits */
    CHECK_INT(load_ctx0((const uint8_t[]){ 0 }, 1), ESSAY_ECORRUPT);  /* its byte missing */
    CHECK_INT(load_ctx0((const uint8_t[]){ 1, 'a', 'b', 0x11 }, 4), 0); /* 1, 1 */
    CHECK_INT(load_ctx0((const uint8_t[]){ 1, 'a', 'b' }, 3), ESSAY_ECORRUPT);
    CHECK_INT(load_ctx0((const uint8_t[]){ 1, 'a', 'b', 0x21 }, 4), ESSAY_ECORRUPT); /* 1, 2 */
    CHECK_INT(load_ctx0((const uint8_t[]){ 1, 'a', 'b', 0x10 }, 4), ESSAY_ECORRUPT); /* 0, 1 */
    CHECK_INT(load_ctx0((const uint8_t[]){ 1, 'b', 'a', 0x11 }, 4), ESSAY_ECORRUPT); /* order */
    CHECK_INT(load_ctx0((const uint8_t[]){ 1, 'a', 'a', 0x11 }, 4), ESSAY_ECORRUPT); /* twice */
    CHECK_INT(load_ctx0((const uint8_t[]){ 2, 'a', 'b', 'c', 0x21, 0x02 }, 6), 0); /* 1, 2, 2 */
    CHECK_INT(load_ctx0((const uint8_t[]){ 2, 'a', 'b', 'c', 0x21, 0x12 }, 6),
              ESSAY_ECORRUPT); /* pad nibble */
    CHECK_INT(load_ctx0((const uint8_t[]){ 2, 'a', 'b', 'c', 0x11, 0x01 }, 6),
              ESSAY_ECORRUPT); /* 1, 1, 1: over-subscribed */
    CHECK_INT(load_ctx0((const uint8_t[]){ 2, 'a', 'b', 'c', 0x21, 0x03 }, 6),
              ESSAY_ECORRUPT); /* 1, 2, 3: incomplete */
    /* lengths past the limit, even when they would make a complete code */
    uint8_t deep[64] = { (uint8_t)(ESSAY_TP_MAX_BITS + 1) };
    size_t k = 1;
    for (unsigned s = 0; s <= ESSAY_TP_MAX_BITS + 1; s++)
        deep[k++] = (uint8_t)(s + 1);
    for (unsigned s = 0; s < ESSAY_TP_MAX_BITS; s += 2)
        deep[k++] = (uint8_t)((s + 1) | (s + 2) << 4);
    deep[k++] = (uint8_t)(ESSAY_TP_MAX_BITS + 1); /* 1, 2, ..., 11, 12, 12 */
    CHECK_INT(load_ctx0(deep, k), ESSAY_ECORRUPT);

    /* 32 successors take a bitmap: all of length 5 is a complete code */
    uint8_t big[1 + 32 + 16] = { 31 };
    memset(big + 1, 0xFF, 4); /* bytes 0..31 */
    memset(big + 33, 0x55, 16);
    CHECK_INT(load_ctx0(big, sizeof big), 0);
    big[1] = 0xFE; /* 31 bits set for n = 32 */
    CHECK_INT(load_ctx0(big, sizeof big), ESSAY_ECORRUPT);
    /* 31 successors are listed, not mapped */
    uint8_t list31[1 + 31 + 16] = { 30 };
    for (int s = 0; s < 31; s++)
        list31[1 + s] = (uint8_t)s;
    for (int s = 0; s < 31; s++) /* 29 of 5 bits, 2 of 6: 30/32, incomplete */
        list31[32 + s / 2] |= (uint8_t)((s < 29 ? 5u : 6u) << (s % 2 * 4));
    CHECK_INT(load_ctx0(list31, sizeof list31), ESSAY_ECORRUPT);
    memset(list31 + 32, 0, 16);
    for (int s = 0; s < 31; s++) /* 30 of 5 bits, 1 of 4: complete */
        list31[32 + s / 2] |= (uint8_t)((s < 30 ? 5u : 4u) << (s % 2 * 4));
    CHECK_INT(load_ctx0(list31, sizeof list31), 0);
    /* context bitmap names a context whose bytes are missing */
    start_model(&m);
    m.b[2 + 200 / 8] |= 1u << (200 % 8);
    put(&m, (const uint8_t[]){ 0, 'a' }, 2);
    CHECK_INT(load_bytes(m.b, m.n), ESSAY_ECORRUPT);
    put(&m, (const uint8_t[]){ 0, 'b' }, 2);
    CHECK_INT(load_bytes(m.b, m.n), 0);
}

static void textpack_model_truncations_and_flips(void)
{
    size_t len = 0, n = 0;
    char *text = read_file("real/bilingual.md", &len);
    CHECK(text != NULL);
    if (!text)
        return;
    span *v = split_lines(text, len, &n);
    size_t n_train = n < 40 ? n : 40;
    essay_tp_model *m = train(v, n_train);
    size_t mlen;
    uint8_t *mb = serialize(m, &mlen);
    size_t bad = 0;
    for (size_t k = 0; k < mlen; k++)
        bad += load_bytes(mb, k) != ESSAY_ECORRUPT;
    CHECK_INT(bad, 0);

    /* coded paragraphs to decode with whatever loads */
    uint8_t *coded[8];
    size_t clen[8];
    for (int i = 0; i < 8; i++) {
        coded[i] = malloc(essay_tp_encode_bound(v[i].len));
        CHECK_INT(essay_tp_encode(m, v[i].p, v[i].len, coded[i], &clen[i]), 0);
    }
    size_t loaded = 0, noncanonical = 0, badrc = 0;
    uint8_t *copy = malloc(mlen);
    for (size_t bit = 0; bit < mlen * 8; bit++) {
        memcpy(copy, mb, mlen);
        copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        essay_tp_model *l = NULL;
        int rc = essay_tp_load(&l, copy, mlen);
        badrc += rc != 0 && rc != ESSAY_ECORRUPT;
        if (rc)
            continue;
        loaded++;
        size_t l2;
        uint8_t *s2 = serialize(l, &l2);
        noncanonical += l2 != mlen || memcmp(s2, copy, mlen) != 0;
        free(s2);
        for (int i = 0; i < 8; i++) {
            uint8_t *in = malloc(clen[i] ? clen[i] : 1);
            memcpy(in, coded[i], clen[i]);
            char *out = malloc(v[i].len ? v[i].len : 1);
            int drc = essay_tp_decode(l, in, clen[i], out, v[i].len);
            badrc += drc != 0 && drc != ESSAY_ECORRUPT;
            free(in);
            free(out);
        }
        essay_tp_free(l);
    }
    CHECK_INT(badrc, 0);
    CHECK_INT(noncanonical, 0);
    fprintf(stderr, "  model of %zu bytes: %zu of %zu one-bit flips still load\n", mlen, loaded,
            mlen * 8);
    for (int i = 0; i < 8; i++)
        free(coded[i]);
    free(copy);
    free(mb);
    essay_tp_free(m);
    free(v);
    free(text);
}

/* ---- untrusted coded paragraphs ---- */

static int decode_exact(const essay_tp_model *m, const uint8_t *b, size_t n, size_t out_len)
{
    uint8_t *in = malloc(n ? n : 1);
    memcpy(in, b, n);
    char *out = malloc(out_len ? out_len : 1);
    int rc = essay_tp_decode(m, in, n, out, out_len);
    free(in);
    free(out);
    return rc;
}

static void textpack_payload_truncations_and_flips(void)
{
    size_t len = 0, n = 0;
    char *text = read_file("real/bilingual.md", &len);
    CHECK(text != NULL);
    if (!text)
        return;
    span *v = split_lines(text, len, &n);
    essay_tp_model *m = train(v, n);
    size_t cases = 0, corrupt = 0, badrc = 0;
    uint8_t *buf = malloc(essay_tp_encode_bound(len));
    for (size_t i = 0; i < n; i += n / 150 + 1) {
        size_t clen;
        CHECK_INT(essay_tp_encode(m, v[i].p, v[i].len, buf, &clen), 0);
        for (size_t k = 0; k < clen; k++) { /* every truncation */
            int rc = decode_exact(m, buf, k, v[i].len);
            badrc += rc != 0 && rc != ESSAY_ECORRUPT;
            corrupt += rc == ESSAY_ECORRUPT;
            cases++;
        }
        for (size_t bit = 0; bit < clen * 8; bit += 3) { /* every third bit flipped */
            buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            int rc = decode_exact(m, buf, clen, v[i].len);
            buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            badrc += rc != 0 && rc != ESSAY_ECORRUPT;
        }
        static const long deltas[] = { -1, 1, 7, 1000 };
        for (size_t d = 0; d < 4; d++) { /* wrong original lengths */
            if (deltas[d] < 0 && v[i].len == 0)
                continue;
            int rc = decode_exact(m, buf, clen, (size_t)((long)v[i].len + deltas[d]));
            badrc += rc != 0 && rc != ESSAY_ECORRUPT;
        }
        /* appended garbage */
        buf[clen] = 0x5A;
        CHECK_INT(decode_exact(m, buf, clen + 1, v[i].len), ESSAY_ECORRUPT);
    }
    CHECK_INT(badrc, 0);
    fprintf(stderr, "  %zu truncations: %zu refused as corrupt\n", cases, corrupt);
    CHECK(corrupt * 10 >= cases * 9);
    free(buf);
    essay_tp_free(m);
    free(v);
    free(text);
}

/* ---- allocation failure ---- */

#define TEXT(s) { s, sizeof(s) - 1 }
static const span alloc_text[] = { TEXT("Machines learn; people learn too."),
                                   TEXT("机器会学习，人也会学习。") };
static uint8_t alloc_model[4096];
static size_t alloc_model_len;

static int st_count_new(void)
{
    essay_tp_model *m = NULL;
    int rc = essay_tp_count_new(&m);
    CHECK(rc == 0 || m == NULL);
    essay_tp_free(m);
    return rc;
}

static void textpack_alloc_failure(void)
{
    /* count_new */
    essay_alloc_fail_at(0);
    CHECK_INT(st_count_new(), 0);
    uint64_t n = essay_alloc_count();
    for (uint64_t i = 1; i <= n + 1; i++) {
        essay_alloc_fail_at(i);
        int rc = st_count_new();
        essay_alloc_fail_at(0);
        CHECK(rc == 0 || rc == ESSAY_ENOMEM);
    }

    /* finish: fails cleanly, and the model can be finished afterwards */
    essay_tp_model *ref = NULL;
    CHECK_INT(essay_tp_count_new(&ref), 0);
    for (int k = 0; k < 2; k++)
        essay_tp_count(ref, alloc_text[k].p, alloc_text[k].len);
    essay_alloc_fail_at(0);
    CHECK_INT(essay_tp_finish(ref), 0);
    n = essay_alloc_count();
    CHECK(n > 0);
    alloc_model_len = essay_tp_serialized_size(ref);
    CHECK(alloc_model_len <= sizeof alloc_model);
    essay_tp_serialize(ref, alloc_model);
    size_t enomem = 0;
    for (uint64_t i = 1; i <= n + 1; i++) {
        essay_tp_model *m = NULL;
        CHECK_INT(essay_tp_count_new(&m), 0);
        for (int k = 0; k < 2; k++)
            essay_tp_count(m, alloc_text[k].p, alloc_text[k].len);
        essay_alloc_fail_at(i);
        int rc = essay_tp_finish(m);
        essay_alloc_fail_at(0);
        CHECK(rc == 0 || rc == ESSAY_ENOMEM);
        enomem += rc == ESSAY_ENOMEM;
        if (rc == ESSAY_ENOMEM)
            CHECK_INT(essay_tp_finish(m), 0);
        uint8_t again[4096];
        CHECK_INT(essay_tp_serialized_size(m), alloc_model_len);
        essay_tp_serialize(m, again);
        CHECK(memcmp(again, alloc_model, alloc_model_len) == 0);
        essay_tp_free(m);
    }
    CHECK_INT(enomem, n);

    /* load */
    essay_tp_model *l = NULL;
    essay_alloc_fail_at(0);
    CHECK_INT(essay_tp_load(&l, alloc_model, alloc_model_len), 0);
    essay_tp_free(l);
    n = essay_alloc_count();
    enomem = 0;
    for (uint64_t i = 1; i <= n + 1; i++) {
        l = NULL;
        essay_alloc_fail_at(i);
        int rc = essay_tp_load(&l, alloc_model, alloc_model_len);
        essay_alloc_fail_at(0);
        CHECK(rc == 0 || rc == ESSAY_ENOMEM);
        CHECK(rc == 0 || l == NULL);
        enomem += rc == ESSAY_ENOMEM;
        if (rc == 0)
            CHECK(roundtrip(ref, l, alloc_text[1].p, alloc_text[1].len, NULL));
        essay_tp_free(l);
    }
    CHECK_INT(enomem, n);
    /* coding itself never allocates */
    essay_alloc_fail_at(1);
    uint8_t buf[256];
    size_t clen;
    CHECK_INT(essay_tp_encode(ref, alloc_text[0].p, alloc_text[0].len, buf, &clen), 0);
    char out[64];
    CHECK_INT(essay_tp_decode(ref, buf, clen, out, alloc_text[0].len), 0);
    CHECK_INT(essay_alloc_count(), 0);
    essay_alloc_fail_at(0);
    essay_tp_free(ref);
}

/* ---- threads ---- */

typedef struct tjob {
    const essay_tp_model *enc, *dec;
    const span *v;
    size_t n;
    const uint8_t *ref; /* reference coding, paragraph i at ref + off[i] */
    const size_t *off;
    size_t bad;
} tjob;

static void *tjob_run(void *arg)
{
    tjob *j = arg;
    uint8_t *buf = malloc(1 << 16);
    char *out = malloc(1 << 16);
    for (int rep = 0; rep < 3; rep++)
        for (size_t i = 0; i < j->n; i++) {
            size_t clen = 0, want = j->off[i + 1] - j->off[i];
            if (essay_tp_encode_bound(j->v[i].len) > (1 << 16))
                continue;
            j->bad += essay_tp_encode(j->enc, j->v[i].p, j->v[i].len, buf, &clen) != 0;
            j->bad += clen != want || memcmp(buf, j->ref + j->off[i], want) != 0;
            j->bad += essay_tp_decode(j->dec, j->ref + j->off[i], want, out, j->v[i].len) != 0;
            j->bad += memcmp(out, j->v[i].p, j->v[i].len) != 0;
        }
    free(buf);
    free(out);
    return NULL;
}

static void textpack_threads_share_a_model(void)
{
    size_t len = 0, n = 0;
    char *text = read_file("real/bilingual.md", &len);
    CHECK(text != NULL);
    if (!text)
        return;
    span *v = split_lines(text, len, &n);
    if (n > 6000)
        n = 6000;
    essay_tp_model *m = train(v, n), *l = NULL;
    size_t mlen;
    uint8_t *mb = serialize(m, &mlen);
    CHECK_INT(essay_tp_load(&l, mb, mlen), 0);
    size_t *off = malloc((n + 1) * sizeof(*off));
    uint8_t *ref = malloc(essay_tp_encode_bound(len));
    off[0] = 0;
    for (size_t i = 0; i < n; i++) {
        size_t clen;
        CHECK_INT(essay_tp_encode(m, v[i].p, v[i].len, ref + off[i], &clen), 0);
        off[i + 1] = off[i] + clen;
    }
    pthread_t th[4];
    tjob jobs[4];
    for (int t = 0; t < 4; t++) {
        jobs[t] = (tjob){ t % 2 ? l : m, t / 2 ? l : m, v, n, ref, off, 0 };
        pthread_create(&th[t], NULL, tjob_run, &jobs[t]);
    }
    for (int t = 0; t < 4; t++) {
        pthread_join(th[t], NULL);
        CHECK_INT(jobs[t].bad, 0);
    }
    free(off);
    free(ref);
    free(mb);
    essay_tp_free(l);
    essay_tp_free(m);
    free(v);
    free(text);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        data_dir = argv[1];
    RUN(textpack_roundtrip_real_text);
    RUN(textpack_empty_and_one_byte);
    RUN(textpack_all_byte_values);
    RUN(textpack_single_symbol_contexts);
    RUN(textpack_length_limit_fibonacci);
    RUN(textpack_lengths_are_optimal);
    RUN(textpack_deterministic);
    RUN(textpack_call_rules);
    RUN(textpack_bad_models);
    RUN(textpack_model_truncations_and_flips);
    RUN(textpack_payload_truncations_and_flips);
    RUN(textpack_alloc_failure);
    RUN(textpack_threads_share_a_model);
    return harness_done();
}
