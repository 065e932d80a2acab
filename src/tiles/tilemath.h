/* Tile math shared by the tile writers: WGS84 to 32-bit Web Mercator world
 * coordinates, the Hilbert index that PMTiles uses for tile ids, and
 * varint/zigzag helpers (MVT and PMTiles directories both use them).
 * One Hilbert key per point at 2^32 resolution is enough for every zoom:
 * the tile of a point at zoom z is the top 2z bits of its key, so one sort
 * groups the points of every tile of every zoom into contiguous runs, in
 * the tile-id order PMTiles wants. */
#ifndef GF_TILES_TILEMATH_H
#define GF_TILES_TILEMATH_H

#include <stddef.h>
#include <stdint.h>

#include "core/hilbert.h"

#define GF_TILE_MAXZOOM 20 /* z + 12 extent bits must fit in 32 */

/* lon/lat (degrees) to world coordinates in [0, 2^32): x east, y south
 * (tile row order). Latitudes are clamped to +-85.0511287798. */
void gf_tile_world(double lon, double lat, uint32_t *x, uint32_t *y);
/* Inverse of gf_tile_world for a world coordinate (cell corner). */
void gf_tile_lonlat(double wx, double wy, double *lon, double *lat);

/* gf_hilbert_xy2d / gf_hilbert_d2xy: core/hilbert.h (same orientation as
 * the PMTiles reference implementation). */

/* Tile of a 32-bit Hilbert key at zoom z (z <= 32): its Hilbert index. */
static inline uint64_t gf_tile_of_key(uint64_t key, int z) { return z == 0 ? 0 : key >> (64 - 2 * z); }

/* PMTiles v3 tile id: tiles of lower zooms first, Hilbert order within. */
uint64_t gf_pmtiles_zxy_to_id(int z, uint32_t x, uint32_t y);
uint64_t gf_pmtiles_zoom_base(int z); /* id of the first tile of zoom z */
/* The inverse, for zooms 0-30: 0 with z/x/y, -1 for an id beyond zoom 30. */
int gf_pmtiles_id_to_zxy(uint64_t id, int *z, uint32_t *x, uint32_t *y);

/* Varints (protobuf base-128, little-endian groups); return bytes written.
 * out needs 10 bytes. gf_varint_get returns bytes read, 0 on truncation. */
/* bytes gf_varint_put() writes for v */
static inline size_t gf_varint_bytes(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) { v >>= 7; n++; }
    return n;
}
static inline size_t gf_varint_put(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) { out[n++] = (uint8_t)(v | 0x80); v >>= 7; }
    out[n++] = (uint8_t)v;
    return n;
}
size_t gf_varint_get(const uint8_t *p, size_t avail, uint64_t *v);
static inline uint64_t gf_zigzag64(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static inline uint32_t gf_zigzag32(int32_t v) { return ((uint32_t)v << 1) ^ (uint32_t)(v >> 31); }
static inline int64_t gf_unzigzag64(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

/* 64-bit mix (splitmix64 finaliser): deterministic hash of a feature index
 * used to thin points at low zooms. */
static inline uint64_t gf_mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

#endif
