/*
 * bench_textpack.c - the stored-text codec (libessay/textpack.c) on real
 * text: compression ratio, encode and decode speed, model load time.
 *
 *   bench_textpack [--reps N] [--threads N] FILE...
 *
 * Each FILE gets its own model (one model per index).  Every non-empty line
 * that is not an essay heading ("## ") is one paragraph.  Per file it
 * prints:
 *
 *   ratio     (coded paragraphs + serialized model) / paragraph bytes,
 *             with the order-0 and order-1 empirical entropies for scale;
 *   count     counting + finish (package-merge, tables), once;
 *   encode    MB/s of paragraph text, median (and best) of N runs over all
 *             paragraphs;
 *   decode    the same for decoding, one paragraph at a time, as a search
 *             does; checked byte for byte against the input once;
 *   load      essay_tp_load() of the serialized model (validation and
 *             decode tables), median of N, in ms;
 *   cold      what a search pays: 20 random paragraphs decoded after the
 *             caches were flushed (64 MB written), median of 51 rounds, in
 *             microseconds for the 20.
 *
 * With --threads N (> 1) decoding is also run on N threads sharing the one
 * loaded model, printing the aggregate MB/s.
 */
#include "bench_common.h"
#include "textpack.h"

#include <math.h>
#include <pthread.h>

typedef struct para {
    const char *p;
    size_t len;
    size_t off; /* coded bytes at packed + off */
    size_t clen;
} para;

typedef struct job {
    const essay_tp_model *m;
    const para *v;
    size_t n;
    const uint8_t *packed;
    char *scratch;
    int reps;
    int rc;
} job;

static para *split_lines(const char *text, size_t len, size_t *n_out, size_t *bytes_out)
{
    size_t cap = 1024, n = 0, bytes = 0;
    para *v = malloc(cap * sizeof(*v));
    const char *s = text, *end = text + len;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *e = nl ? nl : end;
        size_t l = (size_t)(e - s);
        if (l && s[l - 1] == '\r')
            l--;
        if (l > 0 && !(l >= 3 && memcmp(s, "## ", 3) == 0)) {
            if (n == cap)
                v = realloc(v, (cap *= 2) * sizeof(*v));
            v[n].p = s;
            v[n].len = l;
            n++;
            bytes += l;
        }
        s = nl ? nl + 1 : end;
    }
    *n_out = n;
    *bytes_out = bytes;
    return v;
}

/* Empirical order-0 and order-1 entropies in bits per byte, with the
 * same contexts as the codec (previous byte, 0 at paragraph start). */
static void entropies(const para *v, size_t n, double *h0, double *h1)
{
    uint64_t *c1 = calloc(256 * 256, sizeof(*c1)), c0[256] = { 0 }, ctx_n[256] = { 0 }, all = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned ctx = 0;
        for (size_t k = 0; k < v[i].len; k++) {
            unsigned b = (unsigned char)v[i].p[k];
            c1[ctx << 8 | b]++;
            ctx_n[ctx]++;
            c0[b]++;
            ctx = b;
            all++;
        }
    }
    double s0 = 0, s1 = 0;
    for (unsigned b = 0; b < 256; b++)
        if (c0[b])
            s0 -= (double)c0[b] * log2((double)c0[b] / (double)all);
    for (unsigned i = 0; i < 256 * 256; i++)
        if (c1[i])
            s1 -= (double)c1[i] * log2((double)c1[i] / (double)ctx_n[i >> 8]);
    *h0 = all ? s0 / (double)all : 0;
    *h1 = all ? s1 / (double)all : 0;
    free(c1);
}

static int decode_all(const essay_tp_model *m, const para *v, size_t n, const uint8_t *packed,
                      char *scratch)
{
    for (size_t i = 0; i < n; i++) {
        int rc = essay_tp_decode(m, packed + v[i].off, v[i].clen, scratch, v[i].len);
        if (rc)
            return rc;
    }
    return 0;
}

static void *decode_thread(void *arg)
{
    job *j = arg;
    for (int r = 0; r < j->reps && !j->rc; r++)
        j->rc = decode_all(j->m, j->v, j->n, j->packed, j->scratch);
    return NULL;
}

static int bench_file(const char *path, int reps, int threads)
{
    size_t len = 0, n = 0, bytes = 0, longest = 0;
    char *text = read_whole(path, &len);
    if (!text) {
        perror(path);
        return 1;
    }
    para *v = split_lines(text, len, &n, &bytes);
    for (size_t i = 0; i < n; i++)
        longest = v[i].len > longest ? v[i].len : longest;
    double h0, h1;
    entropies(v, n, &h0, &h1);

    essay_tp_model *m = NULL, *loaded = NULL;
    double t0 = now_sec();
    if (essay_tp_count_new(&m))
        return 1;
    for (size_t i = 0; i < n; i++)
        essay_tp_count(m, v[i].p, v[i].len);
    double t_count = now_sec() - t0;
    t0 = now_sec();
    if (essay_tp_finish(m))
        return 1;
    double t_finish = now_sec() - t0;

    size_t model_size = essay_tp_serialized_size(m);
    uint8_t *model = malloc(model_size);
    essay_tp_serialize(m, model);

    size_t cap = 0;
    for (size_t i = 0; i < n; i++)
        cap += essay_tp_encode_bound(v[i].len);
    uint8_t *packed = malloc(cap);
    double *t = malloc((size_t)reps * sizeof(*t));
    size_t coded = 0;
    for (int r = 0; r < reps; r++) {
        t0 = now_sec();
        size_t off = 0;
        for (size_t i = 0; i < n; i++) {
            size_t clen;
            if (essay_tp_encode(m, v[i].p, v[i].len, packed + off, &clen)) {
                fprintf(stderr, "%s: encode failed on paragraph %zu\n", path, i);
                return 1;
            }
            v[i].off = off;
            v[i].clen = clen;
            off += clen;
        }
        t[r] = now_sec() - t0;
        coded = off;
    }
    double t_enc = quantile(t, (size_t)reps, 0.5), t_enc_best = t[0];

    for (int r = 0; r < reps; r++) {
        t0 = now_sec();
        int rc = essay_tp_load(&loaded, model, model_size);
        t[r] = now_sec() - t0;
        if (rc) {
            fprintf(stderr, "%s: load failed: %d\n", path, rc);
            return 1;
        }
        if (r + 1 < reps)
            essay_tp_free(loaded);
    }
    double t_load = quantile(t, (size_t)reps, 0.5);

    char *scratch = malloc(longest + 1);
    for (size_t i = 0; i < n; i++) {
        if (essay_tp_decode(loaded, packed + v[i].off, v[i].clen, scratch, v[i].len) ||
            memcmp(scratch, v[i].p, v[i].len) != 0) {
            fprintf(stderr, "%s: paragraph %zu does not round-trip\n", path, i);
            return 1;
        }
    }
    for (int r = 0; r < reps; r++) {
        t0 = now_sec();
        if (decode_all(loaded, v, n, packed, scratch))
            return 1;
        t[r] = now_sec() - t0;
    }
    double t_dec = quantile(t, (size_t)reps, 0.5), t_dec_best = t[0];

    /* cold caches: 20 random paragraphs per round, as one search */
    enum { ROUNDS = 51, PER_ROUND = 20, FLUSH = 64 << 20 };
    double cold[ROUNDS];
    size_t cold_bytes = 0;
    char *flush = malloc(FLUSH);
    uint64_t seed = 88172645463325252ull;
    for (int r = 0; r < ROUNDS && n; r++) {
        memset(flush, r, FLUSH);
        size_t pick[PER_ROUND];
        for (int k = 0; k < PER_ROUND; k++) {
            seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
            pick[k] = (size_t)(seed % n);
        }
        t0 = now_sec();
        for (int k = 0; k < PER_ROUND; k++) {
            const para *q = &v[pick[k]];
            if (essay_tp_decode(loaded, packed + q->off, q->clen, scratch, q->len))
                return 1;
            cold_bytes += r == 0 ? q->len : 0;
        }
        cold[r] = now_sec() - t0;
    }
    free(flush);
    double t_cold = quantile(cold, ROUNDS, 0.5);

    double mb = (double)bytes / 1e6;
    printf("%s\n", path);
    printf("  paragraphs %zu, %.2f MB, %.1f bytes average\n", n, mb,
           n ? (double)bytes / (double)n : 0.0);
    printf("  entropy    order-0 %.3f, order-1 %.3f bits/byte (order-1 bound %.4f)\n", h0, h1,
           h1 / 8);
    printf("  ratio      %.4f  (coded %zu + model %zu bytes = %.3f bits/byte)\n",
           (double)(coded + model_size) / (double)bytes, coded, model_size,
           8.0 * (double)(coded + model_size) / (double)bytes);
    printf("  count      %.1f ms, finish %.2f ms\n", t_count * 1e3, t_finish * 1e3);
    printf("  encode     %.0f MB/s (best %.0f)\n", mb / t_enc, mb / t_enc_best);
    printf("  decode     %.0f MB/s (best %.0f; one thread)\n", mb / t_dec, mb / t_dec_best);
    printf("  load       %.3f ms\n", t_load * 1e3);
    printf("  cold       %.1f us for %d random paragraphs after a cache flush (%zu bytes "
           "in the first round)\n",
           t_cold * 1e6, PER_ROUND, cold_bytes);

    if (threads > 1) {
        pthread_t *tid = malloc((size_t)threads * sizeof(*tid));
        job *jobs = calloc((size_t)threads, sizeof(*jobs));
        t0 = now_sec();
        for (int k = 0; k < threads; k++) {
            jobs[k] = (job){ loaded, v, n, packed, malloc(longest + 1), reps, 0 };
            pthread_create(&tid[k], NULL, decode_thread, &jobs[k]);
        }
        int bad = 0;
        for (int k = 0; k < threads; k++) {
            pthread_join(tid[k], NULL);
            bad |= jobs[k].rc;
            free(jobs[k].scratch);
        }
        double el = now_sec() - t0;
        printf("  decode     %.0f MB/s (%d threads, one model)%s\n",
               mb * reps * threads / el, threads, bad ? " FAILED" : "");
        free(tid);
        free(jobs);
    }

    essay_tp_free(loaded);
    essay_tp_free(m);
    free(scratch);
    free(t);
    free(packed);
    free(model);
    free(v);
    free(text);
    return 0;
}

int main(int argc, char **argv)
{
    int reps = 7, threads = 1, rc = 0, files = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            reps = atoi(argv[++i]);
            if (reps < 1)
                reps = 1;
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            threads = atoi(argv[++i]);
        } else {
            rc |= bench_file(argv[i], reps, threads);
            files++;
        }
    }
    if (!files) {
        fprintf(stderr, "usage: %s [--reps N] [--threads N] FILE...\n", argv[0]);
        return 2;
    }
    return rc;
}
