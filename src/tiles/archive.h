/* Tile archives: the PMTiles v3 and MBTiles writers behind one interface.
 * Tiles arrive already gzip-compressed and in PMTiles tile-id order (zoom
 * by zoom, Hilbert order within a zoom); both writers deduplicate identical
 * tile contents by a 128-bit hash of their bytes. */
#ifndef GF_TILES_ARCHIVE_H
#define GF_TILES_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "geoflux/ctx.h"
#include "geoflux/status.h"

typedef struct gf_tile_meta {
    const char *name;         /* tileset name */
    const char *vector_layers;/* JSON array of vector_layers */
    int minzoom, maxzoom;
    double bounds[4];         /* west, south, east, north (degrees) */
    double center[3];         /* lon, lat, zoom */
} gf_tile_meta;

typedef struct gf_tile_archive gf_tile_archive;

typedef struct gf_tile_archive_vt {
    /* data: gzip-compressed MVT, borrowed; tiles in increasing tile id */
    gf_status (*put)(gf_tile_archive *a, gf_ctx *ctx, int z, uint32_t x, uint32_t y, const uint8_t *data, size_t len);
    /* writes directories/metadata and closes the file, still under its
     * temporary name (phase 1 of write.h's two-phase commit) */
    gf_status (*finish)(gf_tile_archive *a, gf_ctx *ctx, const gf_tile_meta *m);
    /* renames the finished file to the final path (phase 2) */
    gf_status (*publish)(gf_tile_archive *a, gf_ctx *ctx);
    /* removes temporary files and frees; NULL is a no-op */
    void (*destroy)(gf_tile_archive *a);
} gf_tile_archive_vt;

struct gf_tile_archive {
    const gf_tile_archive_vt *vt;
    uint64_t ntiles, nunique, bytes, max_tile; /* statistics */
};

/* Both create a writer for path (written under a temporary name, a
 * gf_atomic; tmpdir, or the output's directory when NULL, holds scratch
 * files). Caller frees with a->vt->destroy(a). */
gf_status gf_pmtiles_create(gf_ctx *ctx, const char *path, const char *tmpdir, gf_tile_archive **out);
gf_status gf_mbtiles_create(gf_ctx *ctx, const char *path, gf_tile_archive **out);

/* Dedup table shared by the writers: maps content hash to an offset. */
typedef struct gf_tile_dedup {
    struct gf_dd_slot { uint64_t h1, h2, off, len; } *slot;
    size_t n, cap;
} gf_tile_dedup;
void gf_tile_hash128(const uint8_t *p, size_t n, uint64_t *h1, uint64_t *h2);
/* Returns 1 and *off when (h1,h2) is known; else inserts (h1,h2)->off and
 * returns 0; -1 on allocation failure. */
int gf_tile_dedup_get_or_put(gf_tile_dedup *d, uint64_t h1, uint64_t h2, uint64_t *off, uint64_t len);
void gf_tile_dedup_free(gf_tile_dedup *d);

#endif
