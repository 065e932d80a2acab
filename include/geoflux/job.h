/* Jobs: what a geoflux command does, built by the library from a plain
 * options struct. A job checks its options and the order of its stages
 * itself, assembles reader -> [harmonise] -> validate -> typing -> reproject -> join ->
 * sinks + rejects, carries side layers (the join's per-commune statistics)
 * in memory from the stage that makes them to the writers that take them,
 * runs, and returns the run's statistics. The CLI only parses options,
 * calls a job and prints.
 *
 * Life cycle: gf_convert_check() (options alone, no file touched), then
 * gf_job_convert() (checks inputs and outputs, resolves the CRSs, opens
 * the inputs and builds the pipeline), gf_job_run() (once), then
 * gf_job_destroy(). gf_job_cancel() may be called from any thread at any
 * time between create and destroy. Several jobs may exist and run at once,
 * each with its own gf_ctx, on one engine (engine.h) or on threads of
 * their own. The job builders register GDAL's drivers once per process
 * first (two first GDALAllRegister() at the same time race inside GDAL):
 * code that builds pipelines on several threads without jobs must do the
 * same before. */
#ifndef GEOFLUX_JOB_H
#define GEOFLUX_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "geoflux/engine.h"
#include "geoflux/geocode.h"
#include "geoflux/harmonise.h"
#include "geoflux/ingest.h"
#include "geoflux/join.h"
#include "geoflux/pipeline.h"
#include "geoflux/reproject.h"
#include "geoflux/validate.h"
#include "geoflux/write.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gf_job gf_job;

/* Progress of a running job, passed to gf_convert_opts.progress after each
 * committed batch (on the committing thread, one call at a time). */
typedef struct gf_job_progress {
    const gf_run_stats *stats;
    uint64_t bytes_done;  /* input bytes consumed so far (compressed bytes for gzip) */
    uint64_t bytes_total; /* total input size; 0 when unknown (standard input) */
} gf_job_progress;
typedef void (*gf_job_progress_fn)(void *user, const gf_job_progress *p);

/* `convert` (and `tiles`, convert to a tile archive). Strings and arrays
 * are borrowed until gf_job_destroy(). Zero means "default" everywhere. */
typedef struct gf_convert_opts {
    const char *const *inputs; /* CSV paths, "-" for standard input */
    int ninputs;
    gf_reader_opts read;       /* separator, encoding */
    const char *output;        /* "-": standard output (streaming formats) */
    const char *format;        /* NULL: from the extension (see gf_output_format_find()) */
    /* Further outputs written in the same pass (one read, validation,
     * reprojection and join for all), each in the format of its extension
     * (format names output's only, and is refused with further outputs);
     * the join's statistics go to every one that takes side layers. Each is
     * atomic, and a run that fails discards them all (every output is
     * written and closed before the first is renamed into place). With
     * max_memory, the outputs that sort or index (tiles, GeoPackage) share
     * it equally with the validation's file-wide tables. Not with to_bal or append. At most GF_CONVERT_MAX_OUTPUTS
     * outputs in all. */
    const char *const *more_outputs;
    int nmore_outputs;
    const char *layer;         /* GeoPackage, tiles; NULL: "addresses" */
    int append;                /* GeoPackage: add layers to an existing file */
    int overwrite;             /* existing outputs may be replaced */
    int precision;             /* coordinate decimals; < 0: default (7 degrees, 2 metres) */
    const char *t_srs;         /* output CRS; NULL: EPSG:4326 */
    const char *s_srs;         /* CRS of x/y; NULL: detected per row */
    const char *profile;       /* BAL profile; NULL: per input, from its header */
    int keep_invalid;          /* keep rows that break a BAL rule */
    const char *to_bal;        /* "1.4": write a clean BAL CSV instead of geodata */
    int prevalidated;          /* the inputs are rows geoflux validated and wrote itself (a publication's
                                * harmonised BAL 1.4): no validation stage */
    int to_bal_per_input;      /* with to_bal: output is an existing directory, input i's rows go to OUTPUT/i.csv */
    const char *rejects;       /* NULL: OUTPUT.rejects.csv, written only when a row is rejected */
    /* harmonise: 1 inserts the harmonise stage (harmonise.h) before the
     * validation, which then judges the repaired rows. harm.communes NULL:
     * the boundaries of join.path when given (loaded once, shared with the
     * join); harm.on_done receives the repairs at the end of the run. */
    int harmonise;
    gf_harmonise_opts harm;
    /* tiles */
    int tiles_only;            /* the output must be a PMTiles or MBTiles archive */
    int minzoom, maxzoom;      /* < 0: 0 and 14 */
    const char *attributes;    /* comma-separated properties kept in the tiles; NULL: all */
    size_t max_memory;         /* tile sort, GeoPackage R-tree and validation tables; 0: defaults */
    const char *tmpdir;        /* scratch files; NULL: next to the output */
    long long time;            /* > 0: the time written into outputs that carry one (seconds since 1970: a
                                * publication's run date); 0: gf_output_time() */
    /* spatial join: join.path NULL means none. join.layer_ds,
     * out_srs_wkt and out_geographic are the job's business (ignored). */
    gf_join_opts join;
    /* side layers copied into outputs that hold several layers (GeoPackage,
     * tiles; ignored by the others), after the join's statistics: a layer
     * named like the join's ("communes") replaces it. Borrowed. */
    const gf_extra_layer *extra_layers;
    int nextra_layers;
    /* run */
    int threads;               /* worker threads; <= 0: all cores (capped by the engine's) */
    gf_job_progress_fn progress;
    void *progress_user;
    /* 1: measure the CPU of each stage of the run, read with
     * gf_job_convert_profile() once it ran (outputs unchanged) */
    int profile_stages;
} gf_convert_opts;
#define GF_CONVERT_MAX_OUTPUTS 6
/* Initialiser: every field at its default. */
#define GF_CONVERT_OPTS_INIT {.precision = -1, .minzoom = -1, .maxzoom = -1}

/* Checks the options on their own (no file is touched): an input and an
 * output given, the tiles options only for tile outputs, zooms in order,
 * --stats and the commune field options only with --communes. Returns
 * GF_OK or GF_ERR_ARG with the message in ctx. gf_job_convert() runs it
 * too; a caller calls it first to tell these usage errors apart. */
gf_status gf_convert_check(gf_ctx *ctx, const gf_convert_opts *o);

/* Builds a convert job: gf_convert_check(), then, before any work, every
 * input readable, every output creatable and neither an input nor another
 * output (gf_output_check_paths()), both CRSs resolved, the inputs' headers
 * read, the boundaries of the join loaded, the writers opened. Returns
 * GF_OK with *out (caller frees with gf_job_destroy()), or the failure's
 * status with its message in ctx (nothing written). ctx is borrowed: the
 * job logs and reports errors through it, and it must outlive the job. */
gf_status gf_job_convert(gf_ctx *ctx, const gf_convert_opts *o, gf_job **out);

/* What a convert job used and produced, valid until gf_job_destroy(). */
typedef struct gf_convert_info {
    const char *crs_label, *crs_name;   /* the output CRS ("EPSG:4326", "WGS 84") */
    const char *s_srs_label;            /* the x/y CRS given with s_srs, else NULL */
    const char *rejects;                /* the rejects file (written when a row is rejected or rejects was given) */
} gf_convert_info;
void gf_job_convert_info(const gf_job *j, gf_convert_info *out);

/* The CPU each stage of a convert job's run took (profile_stages), as
 * gf_pipeline_profile_get() measured it, with the job's names: "read+tokenise",
 * "harmonise", "validation", "typing", "reprojection", "join", one "write"
 * line per output (.output: its path, as given), "rejects" (.output: the
 * rejects file, written or not) and "commit wait". Only the job's stages
 * have a line. Valid after gf_job_run() (whatever its outcome; a failed run's
 * figures stop where it stopped) until gf_job_destroy(). GF_ERR_ARG (message
 * in the job's ctx) without profile_stages or before the run. */
gf_status gf_job_convert_profile(const gf_job *j, gf_pipeline_profile *out);

/* Runs the job to its end on engine e (NULL: threads of its own for this
 * run). On success every output is under its final name and *stats (may
 * be NULL) holds the counts, read = written + rejected. On failure no
 * output of the run is left under a final name and the message is in the
 * job's ctx; GF_ERR_CANCELLED when gf_job_cancel() stopped it. A job runs
 * once: a second call returns GF_ERR_ARG. */
gf_status gf_job_run(gf_job *j, gf_engine *e, gf_run_stats *stats);

/* Asks a job to stop, from any thread: a run in progress stops after the
 * batches in flight and returns GF_ERR_CANCELLED, a run not yet started
 * returns it at once. Outputs are discarded as for any failure. */
void gf_job_cancel(gf_job *j);

/* Frees the job and everything it built. NULL is a no-op. Not while
 * gf_job_run() is running. */
void gf_job_destroy(gf_job *j);

/* ---- checks made before any work, with the user's own path ---------------
 * An input exists, is readable and is not a directory ("-" passes):
 * GF_ERR_INPUT otherwise. An output's folder exists and is writable and
 * the output is not a directory ("-" passes): GF_ERR_OUTPUT otherwise. */
gf_status gf_job_check_input(gf_ctx *ctx, const char *path);
gf_status gf_job_check_output(gf_ctx *ctx, const char *path);

/* The rejects file of a run: rejects as given, else "?OUT.rejects.csv"
 * ("?": the default name, written only when a row is rejected;
 * "geoflux.rejects.csv" for out "-"). Caller frees; NULL when out of
 * memory. */
char *gf_job_rejects_path(const char *out, const char *rejects);

/* ---- validate -------------------------------------------------------------
 * `validate`: each input checked on its own with the reference validator's
 * rules (gf_validate_file()), reported as soon as it is done. */
typedef struct gf_validate_job_opts {
    const char *const *inputs;
    int ninputs;
    const char *profile;   /* NULL: from each header */
    gf_csv_opts csv;
    /* Threads that run the row rules (<= 0: all cores, 1: the calling
     * thread only); the reports are the same whatever the count. */
    int threads;
    /* Called once per input, in order, on the calling thread: st is GF_OK
     * with the report, or the failure's status with its message (rep is
     * NULL). Borrowed arguments, valid during the call. */
    void (*on_file)(void *user, int i, const char *path, gf_status st, const char *errmsg,
                    const gf_validate_report *rep);
    void *user;
} gf_validate_job_opts;

/* GF_ERR_ARG (message in ctx) for an unknown profile or no input. */
gf_status gf_validate_job_check(gf_ctx *ctx, const gf_validate_job_opts *o);

/* Validates every input in turn. Returns GF_OK once every input was
 * reported (a file that cannot be read is reported through on_file, not
 * returned), or GF_ERR_ARG for options gf_validate_job_check() refuses. */
gf_status gf_job_validate(gf_ctx *ctx, const gf_validate_job_opts *o);

/* ---- geocode, reverse, index build ---------------------------------------
 * `geocode` / `reverse`: every row of a table (an SCDL équipements file or
 * any CSV) geocoded against an address index, loaded from a saved file or
 * built from BAL/BAN files, and written in input order (rows breaking an
 * SCDL rule carry its code in the errors column and are written all the
 * same; records that cannot be parsed go to the rejects file). Built by
 * gf_job_geocode(), run by gf_job_run(), like convert. Strings are
 * borrowed until gf_job_destroy(); zero means "default". */
typedef struct gf_geocode_job_opts {
    int reverse;                       /* 1: `reverse` (the nearest address of each row's point) */
    const char *input;                 /* the table: CSV, gzip ok, "-" standard input */
    const char *index;                 /* a saved index (`index build`), or: */
    const char *const *addresses;      /* the BAL/BAN files to build one from */
    int naddresses;
    const char *postcodes;             /* La Poste's base, for an index built here */
    const char *output, *format, *layer, *t_srs; /* t_srs NULL: EPSG:4326 */
    const char *rejects;               /* NULL: OUTPUT.rejects.csv, written when needed */
    int append, precision, threads;
    /* geocode: query columns (comma-separated, NULL: found by name), filter
     * columns, the distance flagged in result_far (0: the default) */
    const char *columns, *postcode, *citycode, *city;
    double far_m;
    const char *lat, *lon;             /* the row's own WGS84 position columns */
    double max_m;                      /* reverse: beyond it, not-found (0: GF_GC_REVERSE_MAX_M) */
    const char *result_columns;        /* NULL: every result column */
    int columns_style;                 /* GF_GC_STYLE_* */
} gf_geocode_job_opts;

/* GF_ERR_ARG (message in ctx) for options that cannot go together: one
 * address base (index or addresses), lat with lon, no geocode-only option
 * in a reverse job. */
gf_status gf_geocode_job_check(gf_ctx *ctx, const gf_geocode_job_opts *o);
/* Checks inputs and outputs, resolves the CRS, loads or builds the index,
 * opens the table and builds the pipeline. */
gf_status gf_job_geocode(gf_ctx *ctx, const gf_geocode_job_opts *o, gf_job **out);

typedef struct gf_geocode_info {
    gf_gc_stats index;                 /* the index used */
    int index_built;                   /* 1: built from addresses, 0: loaded */
    double index_seconds;              /* its build or load */
    const gf_crs_info *crs;            /* output CRS */
    const char *rejects;               /* the rejects file's path */
    gf_gc_counts counts;               /* after the run: statuses and result types */
    uint64_t defects;                  /* after the run: rows breaking a schema rule, written */
} gf_geocode_info;
void gf_job_geocode_info(const gf_job *j, gf_geocode_info *out);

/* `index build`: the index of inputs (and postcodes) saved to output,
 * which is not one of the inputs. *stats (may be NULL) describes it. */
typedef struct gf_index_job_opts {
    const char *const *inputs;
    int ninputs;
    const char *postcodes;
    const char *output;
    int threads;
} gf_index_job_opts;
gf_status gf_job_index_build(gf_ctx *ctx, const gf_index_job_opts *o, gf_gc_stats *stats);

#ifdef __cplusplus
}
#endif
#endif
