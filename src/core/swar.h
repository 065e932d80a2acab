/* Byte-parallel tests on 8 bytes at once (SWAR), for the scanners that look
 * for a few byte values in long runs of text: the CSV tokenizer's unquoted
 * fields, the JSON string escaper. A byte loop with a test per value costs
 * 3 to 4 instructions a byte in each of them; a word costs about as much
 * as one byte.
 *
 * gf_swar_le() puts the bytes of a word read from memory in little-endian
 * order, so that memory order is significance order everywhere. The tests
 * set the high bit of each flagged byte; a flagged byte may also flag
 * bytes above it (a borrow), never below, so the lowest flagged byte is
 * exact: gf_swar_first() is its index in memory order. */
#ifndef GF_SWAR_H
#define GF_SWAR_H

#include <stdint.h>
#include <string.h>

#define GF_SWAR_ONES 0x0101010101010101u
#define GF_SWAR_HIGH 0x8080808080808080u

/* The 8 bytes at p (any alignment), in memory order. */
static inline uint64_t gf_swar_load(const void *p)
{
    uint64_t x;
    memcpy(&x, p, 8);
    return x;
}

/* A word as loaded, with the byte at the lowest address least significant. */
static inline uint64_t gf_swar_le(uint64_t raw)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return __builtin_bswap64(raw);
#else
    return raw;
#endif
}

/* Bytes of x equal to c. */
static inline uint64_t gf_swar_eq(uint64_t x, unsigned char c)
{
    uint64_t q = x ^ (GF_SWAR_ONES * c);
    return (q - GF_SWAR_ONES) & ~q & GF_SWAR_HIGH;
}

/* Bytes of x below k (k <= 128). */
static inline uint64_t gf_swar_lt(uint64_t x, unsigned char k)
{
    return (x - GF_SWAR_ONES * k) & ~x & GF_SWAR_HIGH;
}

/* Index (0-7) of the lowest flagged byte of a mask of x = gf_swar_le(...); m != 0. */
static inline unsigned gf_swar_first(uint64_t m) { return (unsigned)__builtin_ctzll(m) >> 3; }

#endif
