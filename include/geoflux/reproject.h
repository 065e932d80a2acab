/* Reprojection with PROJ and detection of the CRS of x/y columns. */
#ifndef GEOFLUX_REPROJECT_H
#define GEOFLUX_REPROJECT_H

#include "geoflux/pipeline.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What PROJ knows of a CRS given by the user. */
typedef struct gf_crs_info {
    int epsg;          /* 0 when none */
    int geographic;    /* 1 for lon/lat degrees */
    char id[64];       /* "EPSG:2154", "IGNF:LAMB93", "OGC:CRS84"; "" when the
                          CRS has no identifier (a custom PROJ string or WKT) */
    char name[128];    /* PROJ's name of the CRS ("RGF93 v1 / Lambert-93") */
    char *wkt;         /* WKT2_2019; caller frees with gf_crs_info_free() */
} gf_crs_info;

/* Resolves a CRS given by the user, unambiguously, or refuses it. Accepted:
 * an authority code ("EPSG:2154", "IGNF:LAMB93", "OGC:CRS84", a bare EPSG
 * number "2154", an OGC URN or URL), WKT, PROJJSON, a PROJ string
 * ("+proj=lcc ..."), or the exact name of one CRS in PROJ's database
 * ("RGF93 v1 / Lambert-93", case-insensitive; aliases count). PROJ's
 * approximate name search is never taken: "foo" is not Amersfoort.
 * Returns GF_OK; GF_ERR_ARG (usage) when def is unknown, names several CRSs
 * (the message lists them with their codes), or is not a CRS. On success,
 * free out with gf_crs_info_free(). */
gf_status gf_crs_resolve(gf_ctx *ctx, const char *def, gf_crs_info *out);
void gf_crs_info_free(gf_crs_info *info);

/* How to show a resolved CRS to a user: its identifier when it has one,
 * else its name. Borrowed from info. */
const char *gf_crs_label(const gf_crs_info *info);

typedef struct gf_reproject_opts {
    const char *s_srs;  /* CRS of x/y; NULL: detect per row (legal projection, CC zones, overseas) */
    const char *t_srs;  /* output CRS; NULL: EPSG:4326 */
    double mismatch_m;  /* x/y vs long/lat tolerance; 0: 10 m */
} gf_reproject_opts;

/* Stage that, for every address row, takes its position from long/lat when
 * present, else from x/y (CRS given or detected), fills b->lon/b->lat
 * (WGS84) and b->gx/b->gy (output CRS), and adds the properties
 * `xy_crs` (CRS detected or declared for x/y, "EPSG:NNNN"),
 * `pos_mismatch` (x/y and long/lat disagree by more than the tolerance in
 * the legal CRS, or in --s-srs) and `pos_mismatch_m`.
 * Caller frees the state with gf_reproject_stage_vt.destroy (the pipeline
 * does it once added). */
gf_status gf_reproject_create(gf_ctx *ctx, const gf_reproject_opts *opts, void **st);
extern const gf_stage_vt gf_reproject_stage_vt;

/* Where x/y given without long/lat lie, in the CRS the reproject stage
 * detects for such a row when no --s-srs is given: the legal CRS of an
 * overseas commune, else Lambert-93 or the CC zone that x/y's ranges allow
 * (when both do, the one that lands nearer the department of insee). insee
 * (may be NULL, insee_len bytes, no terminator needed) is the row's commune
 * code. wctx is the calling worker's context: the PROJ transformations are
 * taken from its cache (gf_ctx_cache_get()), made there on first use.
 * Returns GF_OK with *lon, *lat (WGS84 degrees) and *epsg; GF_DONE when no
 * known CRS fits x/y or the point falls outside its domain (*epsg 0, *lon
 * and *lat NaN); GF_ERR_PROJ (message in wctx) when PROJ cannot build the
 * transformation. */
gf_status gf_xy_detect_lonlat(gf_ctx *wctx, double x, double y, const char *insee, size_t insee_len, double *lon,
                              double *lat, int *epsg);

/* x/y in the CRS s_srs (the user's --s-srs as gf_crs_resolve() resolved
 * it: gf_crs_info's id, else its wkt; the reproject stage hands PROJ the
 * same) to WGS84, with the transformation of the calling worker's
 * context wctx (its cache, shared with the reproject stage's workers).
 * Returns GF_OK with *lon, *lat; GF_DONE when x/y are not finite or land
 * outside longitude/latitude ranges (*lon and *lat NaN); GF_ERR_PROJ
 * (message in wctx) when PROJ cannot build the transformation. */
gf_status gf_xy_to_lonlat(gf_ctx *wctx, const char *s_srs, double x, double y, double *lon, double *lat);

/* The legal CRS (EPSG code) for a commune INSEE code: 2154 in metropolitan
 * France, 5490 Antilles, 2972 Guyane, 2975 Réunion, 4471 Mayotte, 4467
 * Saint-Pierre-et-Miquelon...; 0 when unknown. */
int gf_legal_epsg_for_insee(const char *insee, size_t len);

#ifdef __cplusplus
}
#endif
#endif
