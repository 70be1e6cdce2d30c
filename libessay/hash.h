/*
 * hash.h - the one includer of xxhash.h.
 *
 * XXH_INLINE_ALL makes every XXH* function static inline here, so no xxHash
 * symbol leaks from libessay (xxHash's own advice for libraries).  Terms are
 * hashed with XXH3-64, seed 0.  A test-only build (-DESSAY_TEST_HASH_BITS=n)
 * keeps only the low n bits, so distinct terms really collide and the
 * byte-comparison path is exercised.
 */
#ifndef ESSAY_HASH_H
#define ESSAY_HASH_H

#include <stddef.h>
#include <stdint.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

static inline uint64_t essay_hash64(const void *data, size_t len)
{
    uint64_t h = XXH3_64bits(data, len);
#if defined(ESSAY_TEST_HASH_BITS) && ESSAY_TEST_HASH_BITS < 64
    h &= ((uint64_t)1 << ESSAY_TEST_HASH_BITS) - 1;
#endif
    return h;
}

/* Checksums of index sections: full XXH3-64, never truncated. */
static inline uint64_t essay_checksum64(const void *data, size_t len)
{
    return XXH3_64bits(data, len);
}

#endif /* ESSAY_HASH_H */
