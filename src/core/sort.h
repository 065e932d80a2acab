/* Radix sort, the one implementation: the GeoPackage R-tree (Hilbert keys
 * of boxes, in memory and in spilled runs) and the geocoding index
 * (postcodes, trigram postings) sort 64-bit keys with it. Internal header. */
#ifndef GF_CORE_SORT_H
#define GF_CORE_SORT_H

#include <stddef.h>
#include <stdint.h>

#include "geoflux/ctx.h"

/* Sorts key[0..n) ascending by bits lo_bit..63 of each key (lo_bit 0: the
 * whole key), stably: keys equal on those bits keep their input order, so
 * a key that packs a tie-breaker (an index) into its low bits needs only
 * its high bits sorted. val, when not NULL, is an array of n values
 * permuted with the keys (val[i] stays with key[i]). LSD passes of 11 bits;
 * a pass on a digit that every key shares is skipped. n of 0 or 1 is a
 * no-op (key and val may then be NULL). Uses scratch memory of n keys and
 * n values, freed before returning. GF_OK, GF_ERR_NOMEM (the arrays are
 * then unchanged), or GF_ERR_INTERNAL for lo_bit outside 0..63. */
gf_status gf_radix_sort_u64(gf_ctx *ctx, uint64_t *key, uint32_t *val, size_t n, int lo_bit);

/* The same sort on records: rec[0..n) of size bytes each (a multiple of
 * 8, at most 256), ordered by the 64-bit key at byte key_off of each
 * (key_off + 8 <= size, aligned to 8; rec aligned to 8), stably. The tile sort's index
 * entries. Uses scratch memory of n records, freed before returning.
 * GF_OK, GF_ERR_NOMEM (the records unchanged) or GF_ERR_INTERNAL (a
 * layout outside those limits). */
gf_status gf_radix_sort_rec(gf_ctx *ctx, void *rec, size_t n, size_t size, size_t key_off);

#endif
