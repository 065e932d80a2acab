/* Vector tiles writer: Mapbox Vector Tiles (MVT 2.1) in a PMTiles v3 or an
 * MBTiles archive, built in the streaming pass.
 *
 * How it stays fast with bounded memory: encode() (parallel) turns each
 * positioned row into a compact record (Hilbert key of its 32-bit Web
 * Mercator position, which orders the tiles of every zoom at once, plus
 * the selected attributes already serialised as MVT values); commit() (in
 * input order) appends records to a run bounded by half of opts->max_memory,
 * sorted and spilled to an unlinked scratch file when full (runs merged in
 * a cascade); finish() merges the
 * runs once per zoom, cuts them into tiles, encodes and gzips the tiles on
 * opts->threads threads and writes them in tile-id order, so the bytes do
 * not depend on the thread count. The other half of opts->max_memory (at
 * least 16 MB) bounds the tiles being cut and encoded; a maxzoom tile too
 * dense for it is refused (GF_ERR_ARG) before any tile is built.
 *
 * Thinning: below maxzoom a point is kept at zoom z when a hash of its
 * feature index falls under a per-zoom rate, chosen from the densest tile
 * of that zoom so that no tile passes GF_TILES_MAX_BYTES; the rate never
 * decreases with z (a point shown at z is shown at every higher zoom), the
 * sample is uniform (low zooms keep the density pattern) and every point
 * is present at maxzoom. Below maxzoom every point carries `point_count`:
 * itself and the points of its tile thinned out after it along the curve
 * (before the tile's first kept point: that one), counted through the
 * zooms, so a map can size points by the addresses they stand for.
 *
 * Side layers: every opts->extra_layers entry (any OGR dataset, for example
 * the per-commune statistics the join writes) becomes a layer of its
 * polygons, reprojected to Web Mercator, simplified per zoom and clipped to
 * the tile plus a buffer, with MVT winding order, and of its points, each in
 * the one tile that holds it at every zoom from the entry's minzoom (side
 * layers are small: a publication's changes or equipments; they are not
 * thinned). Other geometry types are skipped. */
#ifndef GEOFLUX_TILES_H
#define GEOFLUX_TILES_H

#include "geoflux/write.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Ceiling for one stored (gzip) tile, the way tippecanoe counts it; below
 * maxzoom the thinning also keeps the uncompressed tile under it. Only a
 * maxzoom tile, where every point must stay, can pass it (logged). */
#define GF_TILES_MAX_BYTES (500 * 1024)
#define GF_TILES_DEFAULT_MEMORY ((size_t)128 << 20) /* --max-memory default */
#define GF_TILES_BUFFER 64                   /* polygon clip buffer, in 1/4096 of a tile */

/* Opens a tiles sink for opts->path; pmtiles = 1 for PMTiles v3, 0 for
 * MBTiles. opts->minzoom/maxzoom (< 0: 0 and 14), attributes, max_memory,
 * tmpdir, threads and extra_layers are read; strings are copied. GF_ERR_ARG
 * for zooms outside 0..20 or minzoom > maxzoom. On success *st is owned by
 * the caller until given to gf_pipeline_add_sink() with gf_tiles_sink_vt. */
gf_status gf_tiles_open(gf_ctx *ctx, const gf_output_opts *opts, int pmtiles, void **st);
extern const gf_sink_vt gf_tiles_sink_vt;

/* Statistics of the last finish() (for the CLI and the benchmark). */
typedef struct gf_tiles_stats {
    uint64_t points;        /* positioned rows written */
    uint64_t tiles;         /* tiles addressed */
    uint64_t unique_tiles;  /* distinct tile contents stored */
    uint64_t max_tile_raw;  /* largest uncompressed tile, bytes */
    uint64_t max_tile_gz;   /* largest stored (gzip) tile, bytes */
    int runs_spilled;       /* sorted runs written to scratch files */
    double keep_rate[21];   /* fraction of points kept per zoom */
} gf_tiles_stats;
void gf_tiles_get_stats(const void *st, gf_tiles_stats *out);

#ifdef __cplusplus
}
#endif
#endif
