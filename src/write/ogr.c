/* Writer through any GDAL vector driver (FlatGeobuf, ESRI Shapefile, CSV,
 * GPKG, KML, ...), so that users never need a second ogr2ogr step. This is
 * the GDAL adapter of the writers: GDAL messages go to the gf_ctx (errors)
 * or its log (warnings such as laundered Shapefile field names), never to
 * stderr.
 *
 * Atomicity: a dataset may be several files (a Shapefile is .shp .shx .dbf
 * .prj .cpg), so it is created under its final base name in a private
 * temporary directory next to the output (a gf_atomic with GF_ATOMIC_DIR);
 * finish() closes the dataset, publish() moves each entry to the output
 * directory, the main file last. abort() removes the directory and
 * everything in it: a failed run leaves no .dbf/.shx/.prj/.cpg behind. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "core/gdalerr.h"
#include "geoflux/gpkg.h"

typedef struct gf_ogr {
    gf_output_opts o;
    char driver[128], *path, *tmppath; /* path: the user's; tmppath: the dataset in out.tmp */
    gf_atomic out;
    GDALDatasetH ds;
    OGRLayerH lyr;
    OGRFeatureH feat; /* reused for every row */
    OGRSpatialReferenceH srs;
    const gf_schema *schema;
    int in_tx;
    char *sbuf; /* NUL-terminated copy of a string value */
    size_t sbufcap;
    uint64_t n;
    gf_gdal_errs ge; /* the GDAL error scope of the sink call under way */
} gf_ogr;

/* Every sink call runs its GDAL calls in one error scope (core/gdalerr.h):
 * warnings to the log, the first error kept for the message. */
#define GERR(g) gf_gdal_msg(&(g)->ge, "GDAL gave no reason")

int gf_ogr_driver_ok(const char *name)
{
    gf_gdal_register();
    GDALDriverH d = GDALGetDriverByName(name);
    if (!d) return 0;
    return GDALGetMetadataItem(d, GDAL_DCAP_VECTOR, NULL) != NULL && GDALGetMetadataItem(d, GDAL_DCAP_CREATE, NULL) != NULL;
}

gf_status gf_ogr_open(gf_ctx *ctx, const gf_output_opts *opts, const char *driver, void **st)
{
    if (!opts->path || !strcmp(opts->path, "-"))
        return gf_ctx_err(ctx, GF_ERR_ARG, "format %s cannot be written to standard output", driver);
    if (!gf_ogr_driver_ok(driver))
        return gf_ctx_err(ctx, GF_ERR_UNSUPPORTED, "%s: '%s' is not a GDAL vector driver that can create files "
                          "(see `ogrinfo --formats`)", opts->path, driver);
    gf_ogr *g = calloc(1, sizeof *g);
    if (!g) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    g->o = *opts;
    g->out.fd = -1;
    snprintf(g->driver, sizeof g->driver, "%s", driver);
    const char *slash = strrchr(opts->path, '/');
    if (!(slash ? slash[1] : opts->path[0])) {
        free(g);
        return gf_ctx_err(ctx, GF_ERR_ARG, "%s: output path names a directory", opts->path);
    }
    if (!(g->path = strdup(opts->path))) {
        free(g);
        return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    }
    *st = g;
    return GF_OK;
}

static gf_status begin_inner(gf_ogr *g, gf_ctx *ctx, const gf_schema *schema)
{
    g->schema = schema;
    /* SQLite-based drivers: the old file's -wal/-shm/-journal must not
     * outlive it next to the new one */
    int sqlite_based = !strcasecmp(g->driver, "GPKG") || !strcasecmp(g->driver, "SQLite") || !strcasecmp(g->driver, "MBTiles");
    gf_status st = gf_atomic_create(ctx, g->path, GF_ATOMIC_DIR | (sqlite_based ? GF_ATOMIC_SQLITE : 0), &g->out);
    if (st) return st;
    const char *slash = strrchr(g->path, '/'), *base = slash ? slash + 1 : g->path;
    size_t n = strlen(g->out.tmp) + strlen(base) + 2;
    if (!(g->tmppath = malloc(n))) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    snprintf(g->tmppath, n, "%s/%s", g->out.tmp, base);
    GDALDriverH drv = GDALGetDriverByName(g->driver);
    g->ds = GDALCreate(drv, g->tmppath, 0, 0, 0, GDT_Unknown, NULL);
    if (!g->ds) return gf_ctx_err(ctx, GF_ERR_GDAL, "%s: %s cannot create it: %s", g->path, g->driver, GERR(g));

    g->srs = OSRNewSpatialReference(NULL);
    OGRErr e = g->o.epsg ? OSRImportFromEPSG(g->srs, g->o.epsg)
                         : g->o.srs_wkt ? OSRSetFromUserInput(g->srs, g->o.srs_wkt) : OSRImportFromEPSG(g->srs, 4326);
    if (e != OGRERR_NONE) return gf_ctx_err(ctx, GF_ERR_GDAL, "%s: GDAL cannot read the output CRS", g->path);
    OSRSetAxisMappingStrategy(g->srs, OAMS_TRADITIONAL_GIS_ORDER);

    char **lco = NULL;
    if (!strcasecmp(g->driver, "CSV")) lco = CSLSetNameValue(lco, "GEOMETRY", "AS_XY");
    if (!strcasecmp(g->driver, "ESRI Shapefile")) lco = CSLSetNameValue(lco, "ENCODING", "UTF-8");
    char lname[256];
    gf_output_layer_name(&g->o, schema, lname, sizeof lname);
    g->lyr = GDALDatasetCreateLayer(g->ds, lname, g->srs, wkbPoint, lco);
    CSLDestroy(lco);
    if (!g->lyr) return gf_ctx_err(ctx, GF_ERR_GDAL, "%s: cannot create layer %s: %s", g->path, lname, GERR(g));
    /* names unique without case, and not the FID or geometry column's
     * (GPKG/SQLite refuse them): FID -> FID_2 */
    const char *fidcol = OGR_L_GetFIDColumn(g->lyr), *geomcol = OGR_L_GetGeometryColumn(g->lyr);
    char names[GF_MAX_FIELDS + 2][96];
    for (int f = 0; f < schema->nfields + 2; f++) {
        const char *want = f < schema->nfields ? schema->fields[f].name : f == schema->nfields ? "errors" : "warnings";
        char *name = names[f];
        snprintf(name, 96, "%s", want);
        for (int k = 2;; k++) {
            int clash = (fidcol && !strcasecmp(name, fidcol)) || (geomcol && !strcasecmp(name, geomcol));
            for (int i = 0; i < f && !clash; i++) clash = !strcasecmp(names[i], name);
            if (!clash) break;
            snprintf(name, 96, "%.80s_%d", want, k);
        }
        OGRFieldType t = OFTString;
        OGRFieldSubType sub = OFSTNone;
        if (f < schema->nfields) {
            switch (schema->fields[f].type) {
            case GF_T_INT: t = OFTInteger64; break;
            case GF_T_REAL: t = OFTReal; break;
            case GF_T_BOOL: t = OFTInteger; sub = OFSTBoolean; break;
            case GF_T_DATE: t = OFTDate; break;
            case GF_T_STRING: break;
            }
        }
        OGRFieldDefnH fd = OGR_Fld_Create(name, t);
        OGR_Fld_SetSubType(fd, sub);
        OGRErr fe = OGR_L_CreateField(g->lyr, fd, TRUE);
        OGR_Fld_Destroy(fd);
        if (fe != OGRERR_NONE)
            return gf_ctx_err(ctx, GF_ERR_GDAL, "%s: cannot create field %s: %s", g->path, name, GERR(g));
    }
    /* fields keep their order even when the driver renames them (Shapefile: 10 characters) */
    if (OGR_FD_GetFieldCount(OGR_L_GetLayerDefn(g->lyr)) != schema->nfields + 2)
        return gf_ctx_err(ctx, GF_ERR_GDAL, "%s: %s did not create every field", g->path, g->driver);
    g->feat = OGR_F_Create(OGR_L_GetLayerDefn(g->lyr));
    if (!g->feat) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    /* one transaction where the driver has them (GPKG, SQLite, PostgreSQL...) */
    g->in_tx = GDALDatasetStartTransaction(g->ds, FALSE) == OGRERR_NONE;
    return GF_OK;
}

static gf_status begin(void *stv, gf_ctx *ctx, const gf_schema *schema, int nworkers)
{
    (void)nworkers;
    gf_ogr *g = stv;
    gf_gdal_enter(&g->ge, ctx);
    gf_status st = begin_inner(g, ctx, schema);
    gf_gdal_leave(&g->ge);
    return st;
}

static const char *cstr(gf_ogr *g, const char *p, size_t n)
{
    if (n + 1 > g->sbufcap) {
        size_t cap = (n + 1) * 2;
        char *nb = realloc(g->sbuf, cap);
        if (!nb) return NULL;
        g->sbuf = nb;
        g->sbufcap = cap;
    }
    memcpy(g->sbuf, p, n);
    g->sbuf[n] = 0;
    return g->sbuf;
}

static gf_status commit_inner(gf_ogr *g, gf_ctx *ctx, const gf_batch *b)
{
    gf_status cst = gf_batch_expect(b, ctx, g->schema, 1, GF_COL_TYPED, "OGR writer");
    if (cst) return cst;
    const gf_schema *s = b->schema;
    OGRFeatureH f = g->feat;
    const int nf = s->nfields;
    for (size_t r = 0; r < b->n; r++) {
        OGR_F_SetFID(f, OGRNullFID);
        if (b->flags[r] & GF_ROW_HAS_POS) {
            OGRGeometryH pt = OGR_G_CreateGeometry(wkbPoint);
            OGR_G_SetPoint_2D(pt, 0, b->gx[r], b->gy[r]);
            OGR_F_SetGeometryDirectly(f, pt);
        } else {
            OGR_F_SetGeometryDirectly(f, NULL);
        }
        for (int k = 0; k < nf + 2; k++) {
            gf_sref ref = {0, 0};
            int is_str = 1, valid;
            if (k < nf) {
                valid = b->cols[k].valid[r];
                is_str = s->fields[k].type == GF_T_STRING || s->fields[k].type == GF_T_DATE;
                if (valid && is_str) ref = b->cols[k].v.s[r];
            } else {
                ref = k == nf ? b->errors[r] : b->warnings[r];
                valid = ref.len > 0;
            }
            if (!valid) { OGR_F_SetFieldNull(f, k); continue; }
            if (k < nf && s->fields[k].type == GF_T_DATE) {
                int Y = 0, M = 0, D = 0;
                const char *d = cstr(g, b->arena + ref.off, ref.len);
                if (d && sscanf(d, "%4d-%2d-%2d", &Y, &M, &D) == 3) OGR_F_SetFieldDateTimeEx(f, k, Y, M, D, 0, 0, 0, 0);
                else OGR_F_SetFieldNull(f, k);
                continue;
            }
            if (is_str) {
                const char *v = cstr(g, b->arena + ref.off, ref.len);
                if (!v) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
                OGR_F_SetFieldString(f, k, v);
                continue;
            }
            switch (s->fields[k].type) {
            case GF_T_INT: OGR_F_SetFieldInteger64(f, k, b->cols[k].v.i[r]); break;
            case GF_T_BOOL: OGR_F_SetFieldInteger(f, k, b->cols[k].v.i[r] != 0); break;
            case GF_T_REAL: OGR_F_SetFieldDouble(f, k, b->cols[k].v.d[r]); break;
            default: break;
            }
        }
        if (OGR_L_CreateFeature(g->lyr, f) != OGRERR_NONE)
            return gf_ctx_err(ctx, GF_ERR_GDAL, "%s: %s: line %llu: %s", g->path, g->driver, (unsigned long long)b->line[r],
                              GERR(g));
        g->n++;
    }
    return GF_OK;
}

static gf_status commit(void *stv, gf_ctx *ctx, const gf_batch *b, const gf_buf *enc)
{
    (void)enc;
    gf_ogr *g = stv;
    gf_gdal_enter(&g->ge, ctx);
    gf_status st = commit_inner(g, ctx, b);
    gf_gdal_leave(&g->ge);
    return st;
}

static gf_status copy_extra_layers(gf_ogr *g, gf_ctx *ctx)
{
    if (g->o.nextra_layers <= 0) return GF_OK;
    if (!GDALDatasetTestCapability(g->ds, ODsCCreateLayer)) {
        gf_ctx_log(ctx, GF_LOG_WARN, "%s: %s holds one layer per file: %d extra layer(s) not written", g->path, g->driver,
                   g->o.nextra_layers);
        return GF_OK;
    }
    for (int i = 0; i < g->o.nextra_layers; i++) {
        const gf_extra_layer *xl = &g->o.extra_layers[i];
        GDALDatasetH src = GDALOpenEx(xl->path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
        if (!src || GDALDatasetGetLayerCount(src) < 1) {
            GDALClose(src);
            return gf_ctx_err(ctx, GF_ERR_GDAL, "%s: cannot open layer '%s': %s", xl->path, xl->name, GERR(g));
        }
        OGRLayerH l = GDALDatasetCopyLayer(g->ds, GDALDatasetGetLayer(src, 0), xl->name, NULL);
        GDALClose(src);
        if (!l) return gf_ctx_err(ctx, GF_ERR_GDAL, "%s: cannot copy layer '%s': %s", g->path, xl->name, GERR(g));
    }
    return GF_OK;
}

static gf_status finish_inner(gf_ogr *g, gf_ctx *ctx)
{
    if (g->in_tx && GDALDatasetCommitTransaction(g->ds) != OGRERR_NONE)
        return gf_ctx_err(ctx, GF_ERR_GDAL, "%s: commit failed: %s", g->path, GERR(g));
    g->in_tx = 0;
    gf_status st = copy_extra_layers(g, ctx);
    if (st) return st;
    OGR_F_Destroy(g->feat);
    g->feat = NULL;
    gf_gdal_clear(&g->ge);
    GDALClose(g->ds); /* flushes: FlatGeobuf writes its index here */
    g->ds = NULL;
    if (g->ge.nerr)
        return gf_ctx_err(ctx, GF_ERR_GDAL, "%s: %s: %s", g->path, g->driver, GERR(g));
    gf_ctx_log(ctx, GF_LOG_INFO, "%s: %llu features written with GDAL's %s driver", g->path, (unsigned long long)g->n, g->driver);
    return GF_OK;
}

static gf_status finish(void *stv, gf_ctx *ctx)
{
    gf_ogr *g = stv;
    gf_gdal_enter(&g->ge, ctx);
    gf_status st = finish_inner(g, ctx);
    gf_gdal_leave(&g->ge);
    return st;
}

static void sink_abort(void *stv)
{
    gf_ogr *g = stv;
    gf_gdal_errs ge; /* nothing to report: a failure is under way */
    gf_gdal_enter(&ge, NULL);
    if (g->feat) OGR_F_Destroy(g->feat);
    g->feat = NULL;
    if (g->ds) {
        if (g->in_tx) GDALDatasetRollbackTransaction(g->ds);
        GDALClose(g->ds);
    }
    g->ds = NULL;
    g->in_tx = 0;
    gf_gdal_leave(&ge);
    gf_atomic_discard(&g->out);
}

static gf_status publish(void *stv, gf_ctx *ctx)
{
    gf_ogr *g = stv;
    return gf_atomic_publish(ctx, &g->out);
}

static void destroy(void *stv)
{
    gf_ogr *g = stv;
    if (!g) return;
    sink_abort(g);
    if (g->srs) OSRDestroySpatialReference(g->srs);
    free(g->sbuf);
    gf_atomic_free(&g->out);
    free(g->tmppath);
    free(g->path);
    free(g);
}

const gf_sink_vt gf_ogr_sink_vt = {
    .name = "ogr",
    .begin = begin,
    .commit = commit,
    .finish = finish,
    .publish = publish,
    .abort = sink_abort,
    .destroy = destroy,
};
