/* Diff of two address files (`geoflux diff OLD NEW`): which addresses were
 * added, removed, modified (and which fields) or moved, between two BAL
 * files (any version) or BAN extracts. The publication run (`geoflux
 * publish`) computes the same diff between a commune's revisions.
 *
 * An address is identified, for the pair of files, by the most stable
 * identifier both files carry: `id_ban_adresse` (BAL 1.4+), else
 * `cle_interop` (BAL, and a BAN extract's `id`), else commune + street
 * name + number + suffix; a row whose identifier is empty falls back to
 * the last. Several rows with one identifier (a BAL address with several
 * positions) are one address: its first row gives its fields and position,
 * the number of rows is compared as `positions`. Fields are compared as
 * typed values (a date written 2023-01-05 or 05/01/2023 is the same date)
 * when both files have the column; fields present in only one file are not
 * compared and are listed in the statistics. The position is compared in
 * WGS84 (x/y only: reprojected from their detected CRS): farther than
 * move_m apart is `moved`, a position present on one side only is a
 * modified `position`.
 *
 * Output: one row per changed address, in NEW's order, then the removed
 * ones in OLD's order: CSV (`change;id;commune_insee;voie_nom;numero;
 * suffixe;fields;distance_m;old_lon;old_lat;new_lon;new_lat`, fields
 * `|`-separated) or GeoJSON (Point at the new position, the old one for a
 * removed address), written atomically. Memory: both files' addresses are
 * held, each a 168-byte entry, its hash slots and the text of its
 * identifier, commune, street, number and suffix. */
#ifndef GEOFLUX_DIFF_H
#define GEOFLUX_DIFF_H

#include <stdint.h>

#include "geoflux/ctx.h"
#include "geoflux/ingest.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gf_diff_opts {
    const char *old_path, *new_path; /* "-": standard input (one of them at most) */
    gf_reader_opts read;
    const char *output;   /* .csv, .geojson/.json; "-": CSV on standard output */
    int overwrite;        /* an existing output may be replaced */
    double move_m;        /* moved beyond this distance; 0: 1 m */
    int threads;          /* <= 0: all cores */
    struct gf_engine *engine; /* run on this engine's workers (borrowed; their PROJ objects are kept from run
                               * to run); NULL: threads of its own */
} gf_diff_opts;

typedef struct gf_diff_stats {
    uint64_t rows[2];      /* data rows read: OLD, NEW */
    uint64_t rejected[2];  /* rows that could not be read (malformed CSV) */
    uint64_t addresses[2]; /* distinct addresses */
    uint64_t added, removed, modified, moved, unchanged;
    const char *key;       /* "id_ban_adresse", "cle_interop" or "commune+voie+numero" (static) */
    char not_compared[512];/* fields in one file only, ", "-separated */
} gf_diff_stats;

/* Reads both files and writes the diff. GF_ERR_ARG (usage), GF_ERR_INPUT/
 * GF_ERR_SCHEMA (an input missing or not an address file), GF_ERR_OUTPUT;
 * the message in ctx names the user's paths. Nothing is written on failure. */
gf_status gf_diff_run(gf_ctx *ctx, const gf_diff_opts *o, gf_diff_stats *stats);

#ifdef __cplusplus
}
#endif
#endif
