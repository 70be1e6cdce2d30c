/*
 * textpack.h - interface of textpack.c: the codec for stored paragraph text.
 *
 * An order-1 canonical Huffman code over bytes: each byte is coded with the
 * code of its context, the byte before it in the same paragraph (the first
 * byte's context is byte 0, which essay text never contains).  Codes are at
 * most ESSAY_TP_MAX_BITS long.  One model serves a whole index; every
 * paragraph is coded on its own, so any one decodes without the others.
 *
 *     essay_tp_model *m;
 *     essay_tp_count_new(&m);                       writer: count ...
 *     for each paragraph: essay_tp_count(m, text, len);
 *     essay_tp_finish(m);                           ... build the codes
 *     buf = malloc(essay_tp_serialized_size(m)); essay_tp_serialize(m, buf);
 *     essay_tp_encode(m, text, len, out, &out_len); out: encode_bound(len)
 *
 *     essay_tp_load(&m, buf, buf_len);              reader: untrusted bytes
 *     essay_tp_decode(m, in, in_len, text, len);    len stored by the caller
 *
 * Threads: counting belongs to one thread per model (count per thread and
 * merge).  A finished or loaded model is never written again, so any number
 * of threads may encode or decode with it at once.
 */
#ifndef ESSAY_TEXTPACK_H
#define ESSAY_TEXTPACK_H

#include "essay_int.h"

/* Longest code.  Decoding looks up the next 11 bits in one table per
 * context (2048 entries of 4 bytes), so this sets the tables' size, and
 * their cache misses set decode speed (textpack.c, "Code lengths"). */
#define ESSAY_TP_MAX_BITS 11

/* Serialized models start with this byte; load refuses any other. */
#define ESSAY_TP_FORMAT 1

typedef struct essay_tp_model essay_tp_model;

/* A new, empty model for counting.  0 or ESSAY_ENOMEM. */
int essay_tp_count_new(essay_tp_model **out);

/* Add the byte pairs of one paragraph.  No-op on a finished model. */
void essay_tp_count(essay_tp_model *m, const char *text, size_t len);

/* Add the counts of `from` (unfinished) to `into` (unfinished): count per
 * thread, then merge.  0 or ESSAY_EINVAL (a finished model). */
int essay_tp_count_merge(essay_tp_model *into, const essay_tp_model *from);

/* Turn the counts into codes (package-merge, lengths <= ESSAY_TP_MAX_BITS)
 * and drop the counts.  The same counts always give the same codes and
 * the same serialized bytes.  0, ESSAY_ENOMEM (the model is left
 * unfinished and may be finished again) or ESSAY_EINVAL (already finished). */
int essay_tp_finish(essay_tp_model *m);

/* Bytes essay_tp_serialize() writes; 0 for an unfinished model. */
size_t essay_tp_serialized_size(const essay_tp_model *m);

/* Write the model (format in textpack.c) into out[serialized_size]. */
void essay_tp_serialize(const essay_tp_model *m, uint8_t *out);

/* Room essay_tp_encode() needs for `len` bytes of text (worst case plus
 * 8 bytes of slack for whole-word stores). */
size_t essay_tp_encode_bound(size_t len);

/* Encode text[0..len) into out[encode_bound(len)]; *out_len gets the
 * coded length, ceil(bits / 8).  Bytes of `out` past *out_len may be
 * overwritten.  0, or ESSAY_EINVAL when the model has no code for some
 * byte after its predecessor (a pair never counted: train the model on
 * exactly the text it codes) or is unfinished; *out_len is then 0. */
int essay_tp_encode(const essay_tp_model *m, const char *text, size_t len, uint8_t *out,
                    size_t *out_len);

/* Read a serialized model from untrusted bytes, checking all of it.
 * 0, ESSAY_ECORRUPT (truncated, trailing bytes, unknown format, a code
 * length out of range, a code not exactly complete) or ESSAY_ENOMEM.
 * The result decodes and also encodes like the model that wrote it. */
int essay_tp_load(essay_tp_model **out, const uint8_t *bytes, size_t len);

/* Decode in[0..in_len) into out[0..out_len), out_len being the original
 * length.  Never reads or writes outside those ranges.  0, or
 * ESSAY_ECORRUPT when the input is not exactly the coding of out_len
 * bytes: bits run out, a context without a code is reached, in_len is not
 * ceil(bits / 8) or the padding bits are not zero.  After an error `out`
 * holds garbage.  ESSAY_EINVAL for an unfinished model. */
int essay_tp_decode(const essay_tp_model *m, const uint8_t *in, size_t in_len, char *out,
                    size_t out_len);

/* NULL ok. */
void essay_tp_free(essay_tp_model *m);

#endif /* ESSAY_TEXTPACK_H */
