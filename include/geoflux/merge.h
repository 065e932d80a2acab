/* geoflux merge: joins the outputs of independent runs (one per department,
 * for example) into the output one run over all their inputs would give.
 *
 * Formats, recognised from the inputs' bytes (never from their names):
 *   - PMTiles v3 or MBTiles archives of MVT tiles: the union of the tiles.
 *     A tile held by several inputs (a shared border) is merged: layers of
 *     the same name become one layer (MVT 2.1: no two layers of one name in
 *     a tile), keys and values re-indexed, features concatenated in input
 *     order, a feature identical (type, geometry, properties) to one of an
 *     earlier input kept once. Feature ids of input k are offset by the sum
 *     of the largest ids of the same layer in inputs 0..k-1, so ids stay
 *     unique in a layer (and equal a single run's when the inputs come in
 *     the order that run read them). The points layer (keys with
 *     point_count) is tiled again by the tiles writer from the inputs'
 *     maxzoom points, so its thinned zooms are a single run's. Metadata
 *     merged: bounds, zooms, vector_layers (fields and per-layer zooms).
 *     Written by geoflux's archive writers (src/tiles/archive.h: clustered,
 *     deduplicated, same bytes for the same inputs). Differences from a
 *     single run: see docs/merge.md.
 *   - GeoPackages written by geoflux: every table of gpkg_contents, rows
 *     appended in input order (new fids), R-trees and extents updated; all
 *     inputs must hold the same tables with the same columns and CRS; the
 *     `communes` statistics table refuses a commune code present in two
 *     inputs.
 *   - Publication reports (SITE/report.json of `geoflux publish`): communes
 *     concatenated and sorted by code (one in two reports is refused),
 *     submissions concatenated, totals recomputed, options required equal,
 *     perimeters of one kind joined (value "a,b", communes summed).
 * Inputs of different formats, tile formats or tile compressions are
 * refused. The output is written under a temporary name and renamed at the
 * end (write.h's gf_atomic); it must not exist unless opts->overwrite. */
#ifndef GEOFLUX_MERGE_H
#define GEOFLUX_MERGE_H

#include "geoflux/ctx.h"
#include "geoflux/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gf_merge_kind {
    GF_MERGE_UNKNOWN = 0,
    GF_MERGE_PMTILES,
    GF_MERGE_MBTILES,
    GF_MERGE_GPKG,
    GF_MERGE_REPORT /* report.json of geoflux publish */
} gf_merge_kind;

typedef struct gf_merge_opts {
    const char *const *inputs; /* borrowed, at least 1 */
    int ninputs;
    const char *output;        /* borrowed */
    int overwrite;             /* an existing output may be replaced */
    const char *tmpdir;        /* tile archives: scratch files (points sorted and tiled again, PMTiles tile
                                * data); NULL: next to the output; refused (GF_ERR_ARG) for other formats */
} gf_merge_opts;

typedef struct gf_merge_stats {
    gf_merge_kind kind;
    unsigned long long tiles, merged_tiles, features_dropped; /* tiles; tiles held by several inputs;
                                                                 features kept once of two identical */
    int retiled;               /* tiles: the points layer was tiled again (below maxzoom: the single run's sample) */
    unsigned long long rows;   /* GeoPackage: rows appended from inputs 1..; reports: communes */
} gf_merge_stats;

/* The format of path from its first bytes (a JSON object: a report;
 * GF_MERGE_UNKNOWN when none of the above). GF_ERR_INPUT when it cannot be read. */
gf_status gf_merge_detect(gf_ctx *ctx, const char *path, gf_merge_kind *out);

/* Runs the merge. stats may be NULL. Returns GF_OK; GF_ERR_ARG (output is
 * an input, exists without overwrite, formats differ, layers or CRS
 * differ, a commune in two inputs), GF_ERR_INPUT/GF_ERR_PARSE (an input
 * missing, unreadable or damaged), GF_ERR_IO/GF_ERR_SQL (writing failed),
 * GF_ERR_NOMEM; the message names the user's paths. Nothing is left under
 * opts->output on failure. */
gf_status gf_merge_run(gf_ctx *ctx, const gf_merge_opts *opts, gf_merge_stats *stats);

/* Static name of a kind ("PMTiles", ...). */
const char *gf_merge_kind_str(gf_merge_kind k);

#ifdef __cplusplus
}
#endif
#endif
