/* Writers (pipeline sinks). gf_output_open() picks the writer from the
 * format name or the file extension; each writer writes under a temporary
 * name and renames at finish(), so an interrupted run leaves nothing under
 * the final name. Coordinates come from b->gx/b->gy (output CRS) or
 * b->lon/b->lat (WGS84), properties from the batch's typed columns. */
#ifndef GEOFLUX_WRITE_H
#define GEOFLUX_WRITE_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>
#include "geoflux/pipeline.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A layer that a stage produces during the run (for example the per-commune
 * statistics made by the join at its end()) and that a writer copies
 * into its output at finish(): a GeoPackage table, a polygon or point
 * layer in vector tiles. Either dataset, an open GDAL dataset held in memory (the
 * job hands the join's statistics this way, GDAL's Memory driver), or
 * path, any OGR-readable dataset; it is complete when the sinks finish
 * (stages end() before sinks finish()). Borrowed. */
typedef struct gf_extra_layer {
    const char *name; /* layer name in the output ("communes") */
    const char *path; /* OGR dataset to read at finish(); with dataset: how messages name it */
    void *dataset;    /* GDALDatasetH read at finish() (its first layer), or NULL: open path */
    int minzoom;      /* tiles: the layer's features only from this zoom on (0: every zoom) */
} gf_extra_layer;

typedef struct gf_output_opts {
    const char *path;      /* "-" = standard output (formats with GF_FMT_STREAM only) */
    const char *format;    /* NULL: from the extension; a name or alias of the format table, case-insensitive
                            * ("geojson", "gpkg", "fgb"...), "ogr:DRIVER" for a GDAL driver (GDAL's GPKG:
                            * "ogr:GPKG"), or another GDAL vector driver's name */
    const char *layer;     /* layer/table name; NULL: from the schema kind ("addresses") */
    int append;            /* add a layer to an existing file (formats with GF_FMT_APPEND; refused otherwise) */
    int precision;         /* coordinate decimals; < 0: 7 for degrees, 2 for metres */
    /* Output CRS, resolved by the caller with gf_crs_resolve(). */
    int epsg;              /* 0 when the CRS has no EPSG code */
    const char *srs_wkt;   /* WKT2 of the output CRS (borrowed) */
    int srs_geographic;    /* 1 when gx/gy are degrees (lon, lat) */
    int srs_explicit;      /* 1 when the user asked for this CRS (--t-srs): refused by formats that would ignore it */
    const char *srs_name;  /* how messages name it ("EPSG:2154"); NULL: "the output CRS" */
    /* Vector tiles */
    int minzoom, maxzoom;   /* < 0: default (0, 14); 0 is zoom 0 */
    const char *attributes; /* comma-separated property names; NULL: all */
    size_t max_memory;      /* bytes for the tile sort, or the GeoPackage R-tree bulk load; 0: default */
    FILE *stream;           /* CSV only (other formats refuse it): write into this open stream (borrowed: flushed at finish, never
                             * closed) instead of creating path, which then only names it in messages */
    int memory_shares;      /* > 1: max_memory is this output's share of a budget split between that many
                             * outputs (messages then speak of the whole budget) */
    const char *tmpdir;     /* NULL: next to the output */
    /* Layers added at finish() (see gf_extra_layer); writers that cannot
     * hold several layers ignore them. */
    const gf_extra_layer *extra_layers;
    int nextra_layers;
    int threads;            /* writers with their own worker pool (tiles); <= 0: all cores */
    /* The run's inputs as the user named them (borrowed for the writer's
     * lifetime), for writers that record where a row came from (the
     * GeoPackage's rejects table); NULL: rows name their input by index. */
    const char *const *inputs;
    int ninputs;
    long long time;         /* > 0: the time written into outputs that carry one (seconds since 1970);
                             * 0: gf_output_time() */
} gf_output_opts;

/* ---- The table of output formats (src/write/output.c) ----------------------
 * Capabilities, checked by gf_output_open() against the options: */
enum {
    GF_FMT_STREAM = 1,       /* can be written to standard output ("-"); others need a file */
    GF_FMT_MULTILAYER = 2,   /* holds extra layers (the join's communes) besides the main one */
    GF_FMT_CRS = 4,          /* carries any output CRS */
    GF_FMT_CRS_EPSG = 8,     /* carries the output CRS when it has an EPSG code (GeoJSON's "crs" member,
                              * which GDAL and QGIS read); refused otherwise */
    GF_FMT_WGS84 = 16,       /* always WGS84 longitude/latitude (NDJSON per RFC 7946, vector tiles):
                              * another output CRS is refused */
    GF_FMT_NO_COORDS = 32,   /* writes the input's columns, no computed coordinates (native CSV):
                              * --t-srs is refused */
    GF_FMT_APPEND = 64,      /* --append adds layers to an existing file */
    GF_FMT_CRS_NONE_XY = 128,/* coordinates in the output CRS, the CRS itself not stored (GDAL's CSV, TSV): a warning */
    GF_FMT_EXTRA_LAYERS = 256, /* copies the run's side layers (gf_output_opts.extra_layers: the join's
                              * communes) into the output */
    GF_FMT_TILES = 512       /* vector tiles: Web Mercator from longitude/latitude, takes the tile options
                              * (minzoom, maxzoom, attributes) */
};
typedef struct gf_format {
    const char *name;    /* -f name ("gpkg"), matched without case */
    const char *aliases; /* other -f names, space-separated, or NULL */
    const char *exts;    /* extensions that choose it, space-separated (".geojsonl .ndjson") */
    unsigned caps;       /* GF_FMT_* */
    const gf_sink_vt *vt;
    gf_status (*open)(gf_ctx *ctx, const gf_output_opts *opts, const struct gf_format *f, void **st);
    const char *driver;  /* GDAL driver of the rows written through OGR, else NULL */
} gf_format;

/* The format for -f format (NULL: from path's extension): a row of the
 * table, or for "ogr:DRIVER" (and other GDAL driver names) a row built in
 * *scratch. NULL when unknown. Borrowed (the table is static; a scratch
 * row lives as long as *scratch and format). */
const gf_format *gf_output_format_find(const char *format, const char *path, gf_format *scratch);

/* Opens the writer for opts->path. On success *vt and *st form a sink for
 * gf_pipeline_add_sink() (which takes ownership of st). GF_ERR_ARG for an
 * unknown format (message lists the known ones) and for what the format
 * cannot do: "-" for a format that needs a file, --append where it cannot
 * append, an output CRS that it would not carry (GF_FMT_WGS84,
 * GF_FMT_CRS_EPSG, GF_FMT_NO_COORDS), each with a message naming the
 * formats that can. */
gf_status gf_output_open(gf_ctx *ctx, const gf_output_opts *opts, const gf_sink_vt **vt, void **st);

/* The time written into outputs that carry one (GeoPackage last_change):
 * SOURCE_DATE_EPOCH when set, so that two runs give the same bytes, else
 * now. GF_ERR_ARG when SOURCE_DATE_EPOCH is not a decimal number of
 * seconds. */
gf_status gf_output_time(gf_ctx *ctx, time_t *out);

/* The name of a writer's main layer or table: opts->layer, else from the
 * schema's kind ("addresses" for address, "equipments" for equipment,
 * "<kind>s" otherwise, "features" without a kind); cut to n - 1 bytes. */
void gf_output_layer_name(const gf_output_opts *opts, const gf_schema *s, char *out, size_t n);

/* Format name for a path ("geojson", "geojsonl", "gpkg", ...) or NULL. */
const char *gf_output_format_for_path(const char *path);

/* The individual writers (rows of the format table). */
gf_status gf_geojson_open(gf_ctx *ctx, const gf_output_opts *opts, int ndjson, void **st);
extern const gf_sink_vt gf_geojson_sink_vt;

/* Rejects CSV: `source;line;reason;raw`, one row per rejected record. */
gf_status gf_rejects_open(gf_ctx *ctx, const char *path, const char *const *inputs, int ninputs, void **st);
extern const gf_sink_vt gf_rejects_sink_vt;
/* Logs each reject of b as "INPUT:LINE: row VERB: reason", in input order
 * (the rejects sink's log lines; the index build's "not indexed"). */
gf_status gf_rejects_log(gf_ctx *ctx, const gf_batch *b, const char *const *inputs, int ninputs, const char *verb);

/* ---- Atomic outputs: the one mechanism every writer uses -------------------
 *
 * A gf_atomic is an output under construction: a temporary file (or, for
 * datasets of several files such as a Shapefile, a temporary directory)
 * next to its final path, named ".<base>.tmp-XXXXXX" with random letters
 * and created exclusively (O_CREAT|O_EXCL|O_NOFOLLOW, or mkdir): a file or
 * symlink planted under a predictable name is never followed nor reused.
 * Writing is the caller's business (a->fd, or a->tmp for SQLite/GDAL).
 * A run commits in two phases (the pipeline's sink contract):
 *   1. finish(): every output is written, flushed and closed
 *      (gf_atomic_close) -- nothing is visible yet;
 *   2. publish(): once every output of the run reached step 1, each is
 *      renamed to its final name (gf_atomic_publish).
 * Any failure before 2 discards every temporary (gf_atomic_discard), so a
 * run leaves all its outputs or none. fsync policy: none; the rename keeps
 * readers from ever seeing a partial file, durability across a power cut is
 * the file system's business.
 * Live temporaries are kept in a process-wide registry that
 * gf_atomic_cleanup_signal() empties from a signal handler.
 * Paths are allocated (no length limit but PATH_MAX, refused with a
 * message). */
typedef struct gf_atomic {
    char *path;      /* final name (owned copy) */
    char *tmp;       /* temporary name; NULL once published or discarded */
    int fd;          /* open on tmp (a file) until gf_atomic_close(); -1 otherwise */
    unsigned flags;  /* GF_ATOMIC_* */
    int slot;        /* registry slot, -1: none */
    int published;
} gf_atomic;

enum {
    GF_ATOMIC_DIR = 1,    /* a temporary directory, where the writer creates the dataset under the
                           * output's base name; publish moves every entry next to the output, the
                           * one named like the output last */
    GF_ATOMIC_SQLITE = 2  /* an SQLite database: publish first removes path-wal/-shm/-journal of the
                           * file it replaces (SQLite would replay a stale WAL or roll back a stale hot
                           * journal into the new file) */
};

/* Creates the temporary for path. GF_ERR_ARG when path names a directory or
 * is too long, GF_ERR_IO (naming path, never the temporary) when it cannot
 * be created. On success the caller ends with gf_atomic_free(). */
gf_status gf_atomic_create(gf_ctx *ctx, const char *path, unsigned flags, gf_atomic *a);
/* Step 1: closes a->fd (a close error is a write error, GF_ERR_IO naming
 * path). The temporary stays. No-op when nothing is open. */
gf_status gf_atomic_close(gf_ctx *ctx, gf_atomic *a);
/* Step 2: renames the temporary to path (GF_ATOMIC_DIR: moves its entries).
 * On failure the temporary (and, for a directory, the entries already
 * moved) are removed and GF_ERR_IO names path. No-op once published. */
gf_status gf_atomic_publish(gf_ctx *ctx, gf_atomic *a);
/* Removes the temporary (recursively for a directory) when not published.
 * Safe on a zeroed, published or discarded gf_atomic. */
void gf_atomic_discard(gf_atomic *a);
/* gf_atomic_discard() and frees the strings. NULL is a no-op. */
void gf_atomic_free(gf_atomic *a);
/* Async-signal-safe: removes every live temporary of the process (files,
 * and the entries of temporary directories). For SIGINT/SIGTERM handlers,
 * which then re-raise the signal. */
void gf_atomic_cleanup_signal(void);

/* An unlinked scratch file (gone on close, even after a crash) in tmpdir,
 * or next to path when tmpdir is NULL. GF_ERR_IO naming the place. */
gf_status gf_scratch_open(gf_ctx *ctx, const char *tmpdir, const char *path, int *fd);
/* The same as a stdio stream open for writing and reading back, with a
 * buffer of buf bytes (0: stdio's own). */
gf_status gf_scratch_fopen(gf_ctx *ctx, const char *tmpdir, const char *path, size_t buf, FILE **out);

/* The folder that holds path: everything before its last '/', "/" for a
 * file at the root, "." when path has no '/'. Caller frees; NULL when out
 * of memory. */
char *gf_path_parent(const char *path);

/* ---- Outputs that are inputs, or each other --------------------------------
 * Every command calls gf_output_check_paths() with all its inputs and
 * outputs before doing any work. An output is refused (GF_ERR_ARG, message
 * naming both paths and the option) when
 *   - it is one of the inputs (same device and inode, whatever the
 *     spelling: ./a.csv, a symlink, a hard link);
 *   - it is the same file as another output (existing: device and inode;
 *     not yet existing: same parent directory, by device and inode, and
 *     same name);
 *   - it names a directory, or is longer than PATH_MAX allows;
 *   - it exists and flags has no GF_CHECK_OVERWRITE (with GF_CHECK_APPEND,
 *     outputs[0] may exist: it is appended to; so may the outputs written
 *     only if needed, '?' below: they hold the appending run's rows).
 * what is how the user named the output ("output", "--rejects",
 * "--stats"). A path starting with '?' is an output written only if needed
 * (the default rejects file): it is checked without the '?'. NULL paths and
 * "-" (standard output) are skipped, as are inputs "-" and inputs that do
 * not exist (the reader reports those). */
typedef struct gf_path_role {
    const char *path;
    const char *what;
} gf_path_role;
enum { GF_CHECK_OVERWRITE = 1, GF_CHECK_APPEND = 2 };
gf_status gf_output_check_paths(gf_ctx *ctx, const char *const *inputs, int ninputs, const gf_path_role *outputs,
                                int noutputs, unsigned flags);

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
