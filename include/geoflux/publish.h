/* `geoflux publish`: a department's harvest -> harmonise -> publish run
 * (docs/publish.md is the contract: the run, the SITE, report.json).
 *
 * Every file under the sources is a submission; BAL and BAN files are split
 * by commune, each part harmonised to BAL 1.4 and validated by the
 * library's convert job, checked by the guards (perimeter, share of valid
 * rows, deletions against the published revision, conflicts between
 * producers), compared with the published revision (file hash, then an
 * order-insensitive hash of the harmonised rows, then the diff), and
 * stored in the revision store (SQLite, one transaction per run). The SITE
 * is then rebuilt from the store beside SITE and exchanged with it. */
#ifndef GEOFLUX_PUBLISH_H
#define GEOFLUX_PUBLISH_H

#include <stdint.h>

#include "geoflux/ctx.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gf_publish_opts {
    const char *const *sources; /* files or directories (walked) */
    int nsources;
    const char *store;          /* revision store (SQLite), created when missing */
    const char *site;           /* publication directory */
    const char *perimeter;      /* department code, file of INSEE codes, or boundaries file; NULL: none */
    const char *manifest;       /* CSV file;producer;received_at; NULL: producer = parent folder */
    const char *at;             /* the run's date (ISO 8601); NULL: now (SOURCE_DATE_EPOCH honoured) */
    const char *communes;       /* commune boundaries (polygons), for the map layers and the swap repair */
    const char *prefer;         /* producer that wins a conflict; NULL: none */
    double min_valid;           /* < 0: 0.95 */
    double warn_deletion;       /* < 0: 0.2 */
    double max_deletion;        /* < 0: 0.8 */
    uint64_t max_size;          /* bytes; 0: 512 MiB */
    /* Bytes the run's indexes and sorts may hold at once, the steps being
     * one after the other: the validation's file-wide tables while the
     * communes are checked, then the map files' GeoPackage R-tree and tile
     * sort, which spill to disk past it. 0: 256 MiB for the tables (the
     * validation's default) and 128 MiB for the map files. */
    size_t max_memory;
    int threads;                /* <= 0: all cores */
} gf_publish_opts;
#define GF_PUBLISH_OPTS_INIT {.min_valid = -1, .warn_deletion = -1, .max_deletion = -1}

typedef struct gf_publish_summary {
    /* submissions */
    int sub_total, sub_accepted, sub_unchanged, sub_rejected, sub_conflict;
    /* communes, by status */
    int c_published, c_unchanged, c_rejected, c_conflict, c_missing;
    uint64_t rows_read, rows_published, rows_rejected;
    int site_rebuilt;           /* 1: SITE was (re)written by this run */
    char *report_json;          /* this run's report (malloc'd; gf_publish_summary_free()) */
} gf_publish_summary;

/* Runs the publication. GF_OK when the run went through (some submissions
 * may be rejected: see the summary); GF_ERR_ARG for bad options,
 * GF_ERR_INPUT for a missing source or perimeter, GF_ERR_BUSY when another
 * run holds the store, another status when the run failed (the store and
 * SITE are then as they were). */
gf_status gf_publish_run(gf_ctx *ctx, const gf_publish_opts *o, gf_publish_summary *sum);
void gf_publish_summary_free(gf_publish_summary *s);

#ifdef __cplusplus
}
#endif
#endif
