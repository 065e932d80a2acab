/* Side layers of the tiles (for example the per-commune statistics the
 * join produces, a publication's changes): read once with OGR at finish(),
 * kept in 32-bit world coordinates as GEOS geometries; polygons are
 * simplified once per zoom (tolerance: half a tile pixel) and clipped per
 * tile to the tile plus GF_TILES_BUFFER on the
 * tile workers (GEOSClipByRect_r with the worker's own GEOS handle; the
 * shared geometries are only read); points go to the tile that holds
 * them. Small layers by nature: a département has a few hundred communes,
 * so they stay in memory. */
#ifndef GF_TILES_POLY_H
#define GF_TILES_POLY_H

#include <stddef.h>
#include <stdint.h>

#include "geoflux/pipeline.h"
#include "geoflux/write.h"
#include "tiles/mvt.h"

typedef struct gf_poly_set gf_poly_set;

/* Per-worker scratch (one MVT layer per polygon layer, coordinate arrays);
 * zero-initialise, free with gf_poly_scratch_free(). */
typedef struct gf_poly_scratch {
    gf_mvt_layer *layers;
    int nlayers;
    int32_t *xy;
    size_t *rlen;
    size_t xycap, rcap;
    uint32_t *tags;
    size_t tagcap;
} gf_poly_scratch;
void gf_poly_scratch_free(gf_poly_scratch *s, gf_ctx *ctx);

/* Reads every layer (borrowed descriptions). Caller frees *out with
 * gf_poly_destroy(). GF_ERR_GDAL when a dataset cannot be read. */
gf_status gf_poly_load(gf_ctx *ctx, const gf_extra_layer *layers, int n, int minz, int maxz, gf_poly_set **out);
void gf_poly_destroy(gf_poly_set *p);

/* Prepares zoom z: simplified geometries and the (tile, polygon) list in
 * Hilbert order, read with gf_poly_peek()/gf_poly_pop(). */
gf_status gf_poly_zoom(gf_poly_set *p, gf_ctx *ctx, int z);
int gf_poly_peek(const gf_poly_set *p, uint64_t *tile, uint32_t *poly);
void gf_poly_pop(gf_poly_set *p);

/* Clips polygons list[0..n) to tile z/x/y and appends their MVT layers to
 * raw. wctx: the calling worker's context. */
gf_status gf_poly_tile(const gf_poly_set *p, gf_ctx *wctx, gf_poly_scratch *s, int z, uint32_t x, uint32_t y,
                       const uint32_t *list, size_t n, gf_buf *raw);

/* Appends the layers' vector_layers JSON objects (with a leading comma
 * when comma is set) to b; bounds of all polygons (degrees). */
void gf_poly_vector_layers(const gf_poly_set *p, gf_buf *b, int comma, int minz, int maxz);
void gf_poly_bounds(const gf_poly_set *p, double b[4]);

#endif
