/*
 * textpack_fuzzer.c - the stored-text codec (libessay/textpack.c).
 *
 * The low bit of the first byte picks the mode:
 *
 *  0  untrusted bytes: the input is  u8 mode, u16le out_len, u16le
 *     model_len, model[model_len], payload.  essay_tp_load() must give 0 or
 *     ESSAY_ECORRUPT; a model that loads must serialize to exactly the
 *     bytes it came from (the format has one form per model).  Decoding the
 *     payload (exact-size copies, so ASan sees any overread) must give 0
 *     or ESSAY_ECORRUPT, and when it gives 0, encoding the text again must
 *     give back exactly the payload (a coded paragraph has one form too).
 *
 *  1  text: the rest of the input, cut into paragraphs at '\n', is counted,
 *     finished, serialized and loaded; every paragraph must encode the
 *     same with the finished and the loaded model and decode back exactly.
 *     With bit 1 of the first byte also set, the text is counted again
 *     into two models in another order, merged and finished: the model
 *     must serialize identically (checked only then: it doubles the cost).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "textpack.h"

static void untrusted(const uint8_t *data, size_t size)
{
    if (size < 5)
        return;
    size_t out_len = (size_t)data[1] | (size_t)data[2] << 8;
    size_t model_len = (size_t)data[3] | (size_t)data[4] << 8;
    data += 5;
    size -= 5;
    if (model_len > size)
        model_len = size;
    uint8_t *model = malloc(model_len ? model_len : 1);
    memcpy(model, data, model_len);
    essay_tp_model *m = NULL;
    int rc = essay_tp_load(&m, model, model_len);
    FUZZ_CHECK(rc == 0 || rc == ESSAY_ECORRUPT, "load: %d", rc);
    FUZZ_CHECK((rc == 0) == (m != NULL), "load: %d with model %p", rc, (void *)m);
    if (rc == 0) {
        size_t n = essay_tp_serialized_size(m);
        uint8_t *again = malloc(n ? n : 1);
        essay_tp_serialize(m, again);
        FUZZ_CHECK(n == model_len && memcmp(again, model, n) == 0,
                   "model of %zu bytes serializes to %zu other bytes", model_len, n);
        free(again);

        size_t in_len = size - model_len;
        uint8_t *in = malloc(in_len ? in_len : 1);
        memcpy(in, data + model_len, in_len);
        char *out = malloc(out_len ? out_len : 1);
        rc = essay_tp_decode(m, in, in_len, out, out_len);
        FUZZ_CHECK(rc == 0 || rc == ESSAY_ECORRUPT, "decode: %d", rc);
        if (rc == 0) {
            uint8_t *re = malloc(essay_tp_encode_bound(out_len));
            size_t re_len = 0;
            rc = essay_tp_encode(m, out, out_len, re, &re_len);
            FUZZ_CHECK(rc == 0, "decoded text does not encode: %d", rc);
            FUZZ_CHECK(re_len == in_len && memcmp(re, in, in_len) == 0,
                       "%zu bytes decode to %zu that encode to %zu other bytes", in_len,
                       out_len, re_len);
            free(re);
        }
        free(out);
        free(in);
    }
    essay_tp_free(m);
    free(model);
}

typedef struct para {
    const char *p;
    size_t len;
} para;

static void roundtrip(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data + 1;
    size_t len = size - 1, n = 0;
    para *v = malloc((len + 1) * sizeof(*v));
    for (const char *s = text, *end = text + len;;) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        v[n].p = s;
        v[n].len = nl ? (size_t)(nl - s) : (size_t)(end - s);
        n++;
        if (!nl)
            break;
        s = nl + 1;
    }

    essay_tp_model *a = NULL, *b = NULL, *b2 = NULL, *l = NULL;
    FUZZ_CHECK(essay_tp_count_new(&a) == 0, "count_new");
    for (size_t i = 0; i < n; i++)
        essay_tp_count(a, v[i].p, v[i].len);
    FUZZ_CHECK(essay_tp_finish(a) == 0, "finish");
    size_t ma = essay_tp_serialized_size(a);
    uint8_t *sa = malloc(ma);
    essay_tp_serialize(a, sa);
    if (data[0] & 2) {
        FUZZ_CHECK(essay_tp_count_new(&b) == 0 && essay_tp_count_new(&b2) == 0, "count_new");
        for (size_t i = n; i-- > 0;)
            essay_tp_count(i % 3 ? b2 : b, v[i].p, v[i].len);
        FUZZ_CHECK(essay_tp_count_merge(b, b2) == 0, "merge");
        FUZZ_CHECK(essay_tp_finish(b) == 0, "finish");
        size_t mb = essay_tp_serialized_size(b);
        uint8_t *sb = malloc(mb);
        essay_tp_serialize(b, sb);
        FUZZ_CHECK(ma == mb && memcmp(sa, sb, ma) == 0, "same counts, different models");
        free(sb);
    }
    int rc = essay_tp_load(&l, sa, ma);
    FUZZ_CHECK(rc == 0, "own model does not load: %d", rc);

    uint8_t *x = malloc(essay_tp_encode_bound(len)), *y = malloc(essay_tp_encode_bound(len));
    for (size_t i = 0; i < n; i++) {
        size_t xl = 0, yl = 0;
        FUZZ_CHECK(essay_tp_encode(a, v[i].p, v[i].len, x, &xl) == 0, "encode %zu", i);
        FUZZ_CHECK(essay_tp_encode(l, v[i].p, v[i].len, y, &yl) == 0, "encode loaded %zu", i);
        FUZZ_CHECK(xl == yl && memcmp(x, y, xl) == 0, "paragraph %zu: loaded codes differ", i);
        FUZZ_CHECK(xl + 8 <= essay_tp_encode_bound(v[i].len), "paragraph %zu: %zu bytes", i,
                   xl);
        uint8_t *in = malloc(xl ? xl : 1);
        memcpy(in, x, xl);
        char *out = malloc(v[i].len ? v[i].len : 1);
        rc = essay_tp_decode(l, in, xl, out, v[i].len);
        FUZZ_CHECK(rc == 0 && memcmp(out, v[i].p, v[i].len) == 0,
                   "paragraph %zu of %zu bytes does not round-trip: %d", i, v[i].len, rc);
        free(out);
        free(in);
    }
    free(x);
    free(y);
    free(sa);
    essay_tp_free(a);
    essay_tp_free(b);
    essay_tp_free(b2);
    essay_tp_free(l);
    free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] & 1)
        roundtrip(data, size);
    else
        untrusted(data, size);
    return 0;
}
