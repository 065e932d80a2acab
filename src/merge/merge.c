/* geoflux merge: recognises the inputs' format, checks inputs and output
 * the way every command does (gf_job_check_*, gf_output_check_paths), and
 * hands over to the merge of that format (tiles.c, gpkg.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "geoflux/job.h"
#include "geoflux/write.h"
#include "merge/merge_int.h"

const char *gf_merge_kind_str(gf_merge_kind k)
{
    switch (k) {
    case GF_MERGE_PMTILES: return "PMTiles";
    case GF_MERGE_MBTILES: return "MBTiles";
    case GF_MERGE_GPKG: return "GeoPackage";
    case GF_MERGE_REPORT: return "report.json";
    default: return "unknown";
    }
}

static int has_table(sqlite3 *db, const char *name)
{
    sqlite3_stmt *s = NULL;
    int yes = 0;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type IN ('table','view') AND name = ?", -1, &s, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
        yes = sqlite3_step(s) == SQLITE_ROW;
    }
    sqlite3_finalize(s);
    return yes;
}

gf_status gf_merge_detect(gf_ctx *ctx, const char *path, gf_merge_kind *out)
{
    *out = GF_MERGE_UNKNOWN;
    gf_status st = gf_job_check_input(ctx, path);
    if (st) return st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return gf_ctx_err(ctx, GF_ERR_INPUT, "%s: %s", path, strerror(errno));
    unsigned char h[16] = {0};
    ssize_t n = read(fd, h, sizeof h);
    close(fd);
    if (n < 0) return gf_ctx_err(ctx, GF_ERR_INPUT, "%s: %s", path, strerror(errno));
    if (n >= 8 && !memcmp(h, "PMTiles", 7)) {
        if (h[7] != 3) return gf_ctx_err(ctx, GF_ERR_PARSE, "%s: PMTiles version %d; geoflux reads version 3", path, h[7]);
        *out = GF_MERGE_PMTILES;
        return GF_OK;
    }
    ssize_t k = 0;
    while (k < n && (h[k] == ' ' || h[k] == '\n' || h[k] == '\r' || h[k] == '\t')) k++;
    if (k < n && h[k] == '{') { /* its content is checked by the merge */
        *out = GF_MERGE_REPORT;
        return GF_OK;
    }
    if (n < 16 || memcmp(h, "SQLite format 3", 16)) return GF_OK;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        st = gf_ctx_err(ctx, GF_ERR_INPUT, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_close(db);
        return st;
    }
    if (has_table(db, "gpkg_contents")) *out = GF_MERGE_GPKG;
    else if (has_table(db, "tiles") && has_table(db, "metadata")) *out = GF_MERGE_MBTILES;
    sqlite3_close(db);
    return GF_OK;
}

gf_status gf_merge_run(gf_ctx *ctx, const gf_merge_opts *o, gf_merge_stats *stats)
{
    gf_merge_stats local;
    if (!stats) stats = &local;
    memset(stats, 0, sizeof *stats);
    if (o->ninputs < 1 || !o->inputs) return gf_ctx_err(ctx, GF_ERR_ARG, "merge: no input");
    if (!o->output) return gf_ctx_err(ctx, GF_ERR_ARG, "merge: no output (-o)");
    if (!strcmp(o->output, "-")) return gf_ctx_err(ctx, GF_ERR_ARG, "merge: the output must be a file, not '-'");
    gf_status st;
    gf_merge_kind kind = GF_MERGE_UNKNOWN;
    for (int i = 0; i < o->ninputs; i++) {
        if (!strcmp(o->inputs[i], "-"))
            return gf_ctx_err(ctx, GF_ERR_ARG, "merge: inputs are files ('-' is not: archives are read at random)");
        gf_merge_kind k;
        if ((st = gf_merge_detect(ctx, o->inputs[i], &k))) return st;
        if (k == GF_MERGE_UNKNOWN)
            return gf_ctx_err(ctx, GF_ERR_PARSE, "%s: not a PMTiles v3, MBTiles, GeoPackage or report.json file", o->inputs[i]);
        if (i && k != kind)
            return gf_ctx_err(ctx, GF_ERR_ARG, "%s is %s but %s is %s: merge joins files of one format", o->inputs[i],
                              gf_merge_kind_str(k), o->inputs[0], gf_merge_kind_str(kind));
        kind = k;
    }
    gf_path_role role = {o->output, "output"};
    if ((st = gf_output_check_paths(ctx, o->inputs, o->ninputs, &role, 1, o->overwrite ? GF_CHECK_OVERWRITE : 0)) ||
        (st = gf_job_check_output(ctx, o->output)))
        return st;
    if (o->tmpdir && kind != GF_MERGE_PMTILES && kind != GF_MERGE_MBTILES)
        return gf_ctx_err(ctx, GF_ERR_ARG, "--tmpdir: merging %s files needs no scratch files (tile archives only)",
                          gf_merge_kind_str(kind));
    stats->kind = kind;
    switch (kind) {
    case GF_MERGE_PMTILES: return gf_merge_tiles(ctx, o, 1, stats);
    case GF_MERGE_MBTILES: return gf_merge_tiles(ctx, o, 0, stats);
    case GF_MERGE_GPKG: return gf_merge_gpkg(ctx, o, stats);
    case GF_MERGE_REPORT: return gf_merge_reports(ctx, o, stats);
    default: return gf_ctx_err(ctx, GF_ERR_INTERNAL, "merge: unknown kind");
    }
}
