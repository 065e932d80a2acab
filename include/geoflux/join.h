/* Spatial join of records to commune boundaries.
 *
 * The boundaries (any OGR source: GeoJSON, GeoPackage, Shapefile...) are
 * read once with GDAL, reprojected to WGS84 lon/lat, repaired with GEOS
 * when invalid, and put into a read-only grid index that every worker
 * shares. The join works on b->lon/b->lat, which the reproject stage fills
 * for every row that has a position whatever the output CRS: a
 * point-in-polygon answer does not depend on the CRS, and distances are
 * computed in metres on a local tangent plane around each point, so they
 * are right in any output CRS (see src/join/index.c).
 *
 * Points on a border shared by two communes go to exactly one of them:
 * the one to the east, or to the north on an east-west border (half-open
 * crossing-number rule, evaluated with the same arithmetic for both
 * polygons). Where simplified polygons overlap, the lower code wins. */
#ifndef GEOFLUX_JOIN_H
#define GEOFLUX_JOIN_H

#include <stddef.h>
#include "geoflux/pipeline.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gf_join_opts {
    const char *path;        /* boundaries, any OGR vector dataset (first layer) */
    const char *layer;       /* layer name; NULL: the first layer */
    const char *code_field;  /* NULL: detected (code, insee, INSEE_COM, code_insee, INSEE_COMM, codgeo...) */
    const char *name_field;  /* NULL: detected (nom, NOM_COM, libelle, name...) */
    double max_distance_m;   /* nearest commune for points in no polygon; 0: 200 m, < 0: never */
    /* Per-commune statistics, .geojson (with the polygon, in the output
     * CRS) or .csv, one row per commune in code order: addresses (rows whose
     * commune_geo is this commune, `outside` ones included), certified and
     * certified_share (certification_commune true / addresses; empty when
     * no row has the column), mismatches, outside (rows given this commune
     * as the nearest), no_position (rows declaring this commune with no
     * position), streets (distinct voie_nom among the addresses, counted by
     * 64-bit hash). NULL: none. */
    const char *stats_path;
    /* The statistics also as a layer "communes" (same fields, polygons in
     * the output CRS with the output's coordinate precision) created at
     * end() in this GDAL dataset (GDALDatasetH, borrowed; the job passes
     * one of GDAL's Memory driver and hands it to the writers as their
     * gf_extra_layer); NULL: none. */
    void *layer_ds;
    const char *out_srs_wkt; /* CRS of the statistics polygons (the output CRS); NULL: WGS84 */
    int out_geographic;      /* 1 when out_srs_wkt is lon/lat degrees (coordinate precision) */
    /* The stage only: an index already loaded from these boundaries
     * (gf_join_index_load() with the same path, layer and fields), used
     * instead of loading them again; borrowed, it must outlive the stage.
     * NULL: the stage loads its own. */
    const struct gf_join_index *index;
} gf_join_opts;

/* ---- The index on its own (used by the stage, tests and benchmarks) ---- */

typedef struct gf_join_index gf_join_index;

/* Loads the boundaries of opts (path, layer, code_field, name_field) into an
 * index. Returns GF_OK, GF_ERR_IO / GF_ERR_GDAL when the source cannot be
 * read, GF_ERR_SCHEMA when no code field is found, GF_ERR_GEOS when a
 * geometry cannot be repaired, GF_ERR_NOMEM. Caller frees with
 * gf_join_index_destroy(). */
gf_status gf_join_index_load(gf_ctx *ctx, const gf_join_opts *opts, gf_join_index **out);
void gf_join_index_destroy(gf_join_index *ix);

/* Number of communes (distinct codes), sorted by code. */
int gf_join_ncommunes(const gf_join_index *ix);
/* Code and name of commune i (0 <= i < ncommunes). Borrowed, valid while
 * the index lives. The name is "" when the source has none. */
const char *gf_join_commune_code(const gf_join_index *ix, int i);
const char *gf_join_commune_name(const gf_join_index *ix, int i);
/* Index of the commune with this code, or -1. */
int gf_join_find_code(const gf_join_index *ix, const char *code, size_t len);

/* The commune containing WGS84 point (lon, lat), or -1 when none. Exact
 * crossing-number test; thread-safe (the index is read-only). */
int gf_join_locate(const gf_join_index *ix, double lon, double lat);

/* The commune whose boundary is nearest to (lon, lat) within max_m metres,
 * with *dist_m its distance; -1 when none. Meant for points in no polygon. */
int gf_join_nearest(const gf_join_index *ix, double lon, double lat, double max_m, double *dist_m);

/* ---- The pipeline stage ---- */

/* Creates the join stage: loads the index now (on the calling thread, so a
 * bad boundary file fails before any row is read). start() appends
 * commune_geo, commune_geo_nom, join_status (match | mismatch | outside |
 * no_position) and join_distance_m to the schema; run() fills them and
 * never drops or reorders rows; end() merges the per-worker counters,
 * writes opts->stats_path atomically (renamed at publish()) and fills
 * opts->layer_ds. The strings in
 * opts are copied. Caller frees with gf_join_stage_vt.destroy (the pipeline
 * does it once the stage is added). Must be added after the reproject
 * stage. */
gf_status gf_join_create(gf_ctx *ctx, const gf_join_opts *opts, void **st);
extern const gf_stage_vt gf_join_stage_vt;

/* The index a join stage state (from gf_join_create()) loaded: borrowed,
 * valid until the stage is destroyed. Lets an earlier stage of the same
 * pipeline (the harmonise stage's swap repair) use the same boundaries
 * without loading them twice. */
const gf_join_index *gf_join_stage_index(const void *st);

#ifdef __cplusplus
}
#endif
#endif
