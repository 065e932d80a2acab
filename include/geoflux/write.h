/* Writers (pipeline sinks). gf_output_open() picks the writer from the
 * format name or the file extension; each writer writes under a temporary
 * name and renames at finish(), so an interrupted run leaves nothing under
 * the final name. Coordinates come from b->gx/b->gy (output CRS) or
 * b->lon/b->lat (WGS84), properties from the batch's typed columns. */
#ifndef GEOFLUX_WRITE_H
#define GEOFLUX_WRITE_H

#include <stddef.h>
#include <stdio.h>
#include "geoflux/pipeline.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A layer that a stage produces during the run (for example the per-commune
 * statistics written by the join at its end()) and that a writer copies
 * into its output at finish(): a GeoPackage table, a polygon layer in
 * vector tiles. path is any OGR-readable dataset; it exists when the sinks
 * finish (stages end() before sinks finish()). Borrowed. */
typedef struct gf_extra_layer {
    const char *name; /* layer name in the output ("communes") */
    const char *path; /* OGR dataset to read at finish() */
} gf_extra_layer;

typedef struct gf_output_opts {
    const char *path;      /* "-" = standard output (text formats only) */
    const char *format;    /* NULL: from the extension; "geojson", "geojsonl", "gpkg", "pmtiles", "mbtiles", or an OGR driver name */
    const char *layer;     /* layer/table name; NULL: from the schema kind ("addresses") */
    int append;            /* GeoPackage: add a layer to an existing file */
    int precision;         /* coordinate decimals; < 0: 7 for degrees, 2 for metres */
    /* Output CRS, resolved by the caller with gf_crs_resolve(). */
    int epsg;              /* 0 when the CRS has no EPSG code */
    const char *srs_wkt;   /* WKT2 of the output CRS (borrowed) */
    int srs_geographic;    /* 1 when gx/gy are degrees (lon, lat) */
    /* Vector tiles */
    int minzoom, maxzoom;
    const char *attributes; /* comma-separated property names; NULL: all */
    size_t max_memory;      /* bytes for the tile sort, or the GeoPackage R-tree bulk load; 0: default */
    const char *tmpdir;     /* NULL: next to the output */
    /* Layers added at finish() (see gf_extra_layer); writers that cannot
     * hold several layers ignore them. */
    const gf_extra_layer *extra_layers;
    int nextra_layers;
    int threads;            /* writers with their own worker pool (tiles); <= 0: all cores */
} gf_output_opts;

/* Opens the writer for opts->path. On success *vt and *st form a sink for
 * gf_pipeline_add_sink() (which takes ownership of st). GF_ERR_ARG for an
 * unknown format (message lists the known ones). */
gf_status gf_output_open(gf_ctx *ctx, const gf_output_opts *opts, const gf_sink_vt **vt, void **st);

/* Format name for a path ("geojson", "geojsonl", "gpkg", ...) or NULL. */
const char *gf_output_format_for_path(const char *path);

/* The individual writers (used by gf_output_open). */
gf_status gf_geojson_open(gf_ctx *ctx, const gf_output_opts *opts, int ndjson, void **st);
extern const gf_sink_vt gf_geojson_sink_vt;

/* Rejects CSV: `source;line;reason;raw`, one row per rejected record. */
gf_status gf_rejects_open(gf_ctx *ctx, const char *path, const char *const *inputs, int ninputs, void **st);
extern const gf_sink_vt gf_rejects_sink_vt;

/* Atomic file helpers: gf_atomic_tmpname() writes "<dir>/.<base>.tmp-<pid>"
 * into out; gf_atomic_commit() renames it to path (no fsync: readers never
 * see a partial file; durability is the file system's business). */
void gf_atomic_tmpname(const char *path, char *out, size_t outsz);
gf_status gf_atomic_commit(gf_ctx *ctx, const char *tmp, const char *path);
/* An unlinked scratch file (gone on close, even after a crash) in tmpdir,
 * or next to path when tmpdir is NULL. GF_ERR_IO naming the place. */
gf_status gf_scratch_open(gf_ctx *ctx, const char *tmpdir, const char *path, int *fd);
/* gf_atomic_commit() for an SQLite database (GeoPackage, MBTiles): first
 * removes path-wal, path-shm and path-journal, which belong to the file
 * being replaced. SQLite would otherwise replay a stale WAL (it opens one
 * whenever it exists, whatever the header says) or roll back a stale hot
 * journal into the new file. */
gf_status gf_atomic_commit_sqlite(gf_ctx *ctx, const char *tmp, const char *path);

/* Closes *f (flushing it) and renames tmp to path; on a write error
 * removes tmp and returns GF_ERR_IO naming path. *f is NULL afterwards. */
gf_status gf_atomic_close(gf_ctx *ctx, FILE **f, const char *tmp, const char *path);
/* Abandons a temporary output: when *f is open, closes it and removes tmp
 * (after gf_atomic_close() it does nothing). */
void gf_atomic_discard(FILE **f, const char *tmp);

/* Text of a non-string value of column c at row r for the text writers:
 * integers in decimal, reals with 15 significant digits and at most 10
 * decimals (6225601.11 stays 6225601.11), booleans as true/false. Returns
 * the length written to out (at least 48 bytes), or -1 for string and
 * date columns, which each writer quotes its own way. */
int gf_fmt_scalar(gf_type t, const gf_col *c, size_t r, char *out);

/* Fast fixed-point formatting of v with prec decimals (trailing zeros
 * trimmed); returns the length written to out (at least 32 bytes). */
int gf_fmt_fixed(double v, int prec, char *out);

#ifdef __cplusplus
}
#endif
#endif
