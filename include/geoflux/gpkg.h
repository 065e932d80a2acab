/* GeoPackage and OGR writers (pipeline sinks).
 *
 * gf_gpkg_*: GeoPackage 1.2: SQLite creates the file and its metadata,
 * the rows and the R-tree are written as SQLite b-tree pages by geoflux
 * (src/write/sqlbt.c; records built on the worker threads, R-tree
 * bulk-loaded at the end), with the main layer, a `rejects` attribute
 * table and the extra layers of gf_output_opts in one file. gf_ogr_*: any GDAL vector driver
 * (FlatGeobuf, ESRI Shapefile, CSV, GPKG through GDAL, ...).
 * Both write under a temporary name and rename at finish(); abort() removes
 * what they wrote. gf_output_open() picks them ("gpkg" in lower case is the
 * native writer, any other name a GDAL driver). */
#ifndef GEOFLUX_GPKG_H
#define GEOFLUX_GPKG_H

#include "geoflux/write.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Opens the native GeoPackage writer for opts->path (no file is touched
 * before begin()). Layer name: opts->layer, else "addresses" for the
 * address schema, "equipments" for equipment, "<kind>s" otherwise.
 * opts->append: add the layers to an existing GeoPackage (GF_ERR_ARG at
 * begin() if a layer of that name exists); the file is copied to the
 * temporary name, written, and renamed over the original, so a failed run
 * leaves the original untouched. gpkg_contents.last_change is the time of
 * the run, or SOURCE_DATE_EPOCH when set (same bytes for the same input,
 * whatever the thread count). Rows without a position get a NULL geometry
 * (GDAL 3.6's validate_gpkg.py misreads the empty-geometry flag, so empty
 * points would fail it). Output CRS: opts->epsg, else
 * opts->srs_wkt, else EPSG:4326. R-tree: bulk-loaded, its boxes in memory
 * up to opts->max_memory / 64 features (default 4M), beyond that every box
 * goes to an external sort whose runs spill to opts->tmpdir (else next to
 * the output).
 * opts->inputs name the `source` of each row of the rejects table (else
 * its input index). Strings in opts are borrowed until the sink is
 * destroyed. On success *st is the state for gf_gpkg_sink_vt
 * (caller frees with gf_gpkg_sink_vt.destroy; gf_pipeline_add_sink() takes
 * ownership). Returns GF_OK, GF_ERR_NOMEM, or GF_ERR_ARG (bad layer name,
 * "-" as path). */
gf_status gf_gpkg_open(gf_ctx *ctx, const gf_output_opts *opts, void **st);

extern const gf_sink_vt gf_gpkg_sink_vt;

/* 1 when GDAL has a vector driver called name that can create files. */
int gf_ogr_driver_ok(const char *name);

/* Opens a writer through the GDAL driver called driver ("FlatGeobuf",
 * "ESRI Shapefile", "CSV", "GPKG", ...). The dataset is created in a
 * temporary directory next to opts->path and its files are moved to their
 * final names at finish(), the main file last (a Shapefile is several
 * files). CSV gets GEOMETRY=AS_XY. Extra layers are copied when the driver
 * holds several layers per dataset, else skipped with a warning. Caller
 * frees with gf_ogr_sink_vt.destroy. GF_ERR_UNSUPPORTED for an unknown
 * driver or one that cannot create vector data. */
gf_status gf_ogr_open(gf_ctx *ctx, const gf_output_opts *opts, const char *driver, void **st);
extern const gf_sink_vt gf_ogr_sink_vt;

#ifdef __cplusplus
}
#endif
#endif
