/* GeoPackage writer: the extra layers of gf_output_opts (the join's
 * communes), copied with OGR at finish() into feature tables of their own,
 * each with its R-tree. See gpkg.c. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <sqlite3.h>

#include "write/gpkg_int.h"

/* ---- extra layers (OGR) -------------------------------------------------- */

static const char *gpkg_gtype(OGRwkbGeometryType t)
{
    switch (wkbFlatten(t)) {
    case wkbPoint: return "POINT";
    case wkbLineString: return "LINESTRING";
    case wkbPolygon: return "POLYGON";
    case wkbMultiPoint: return "MULTIPOINT";
    case wkbMultiLineString: return "MULTILINESTRING";
    case wkbMultiPolygon: return "MULTIPOLYGON";
    case wkbGeometryCollection: return "GEOMETRYCOLLECTION";
    default: return "GEOMETRY";
    }
}

/* One declared type for the column: the common one, or its Multi form
 * when singles and multis are mixed (the geometries are promoted), else
 * GEOMETRY. A pre-pass over the layer: extra layers are small (one row
 * per commune). */
static OGRwkbGeometryType layer_gtype(OGRLayerH l)
{
    OGRwkbGeometryType t = wkbNone;
    int mixed = 0;
    OGR_L_ResetReading(l);
    for (OGRFeatureH f; (f = OGR_L_GetNextFeature(l));) {
        OGRGeometryH geom = OGR_F_GetGeometryRef(f);
        if (geom && !OGR_G_IsEmpty(geom)) {
            OGRwkbGeometryType u = wkbFlatten(OGR_G_GetGeometryType(geom));
            if (t == wkbNone) t = u;
            else if (u != t) {
                OGRwkbGeometryType mt = OGR_GT_GetCollection(t), mu = OGR_GT_GetCollection(u);
                if (mt != wkbUnknown && (mt == mu || mt == u)) t = mt;
                else if (mu != wkbUnknown && mu == t) t = mu;
                else mixed = 1;
            }
        }
        OGR_F_Destroy(f);
    }
    OGR_L_ResetReading(l);
    if (t == wkbNone) { /* no geometry to look at: the type the layer declares */
        OGRwkbGeometryType d = wkbFlatten(OGR_L_GetGeomType(l));
        return d == wkbNone ? wkbUnknown : d;
    }
    return mixed ? wkbUnknown : t;
}

static const char *ogr_field_sql(OGRFieldDefnH fd)
{
    switch (OGR_Fld_GetType(fd)) {
    case OFTInteger: return OGR_Fld_GetSubType(fd) == OFSTBoolean ? "BOOLEAN" : "INTEGER";
    case OFTInteger64: return "INTEGER";
    case OFTReal: return "REAL";
    case OFTDate: return "DATE";
    case OFTDateTime: return "DATETIME";
    case OFTBinary: return "BLOB";
    default: return "TEXT";
    }
}

gf_status gpkg_import_layer(gf_gpkg *g, gf_ctx *ctx, const gf_extra_layer *xl)
{
    if (!xl->name || !xl->name[0] || !xl->path)
        return gf_ctx_err(ctx, GF_ERR_ARG, "%s: extra layer without a name or path", g->path);
    if (gpkg_table_exists(g->db, xl->name))
        return gf_ctx_err(ctx, GF_ERR_ARG, "%s: a table called '%s' already exists", g->path, xl->name);
    gf_gdal_register();
    GDALDatasetH ds = xl->dataset ? xl->dataset : GDALOpenEx(xl->path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!ds)
        return gf_ctx_err(ctx, GF_ERR_GDAL, "%s: cannot open layer '%s': %s", xl->path, xl->name,
                          gf_gdal_msg(&g->ge, "not a vector dataset GDAL can read"));
    gf_status st = GF_OK;
    OGRLayerH l = GDALDatasetGetLayerCount(ds) > 0 ? GDALDatasetGetLayer(ds, 0) : NULL;
    OGRCoordinateTransformationH ct = NULL;
    sqlite3_stmt *q = NULL;
    unsigned char *buf = NULL;
    size_t bufcap = 0;
    char names[512][96];
    int nf = 0;
    if (!l) { st = gf_ctx_err(ctx, GF_ERR_GDAL, "%s: no layer", xl->path); goto done; }
    OGRFeatureDefnH d = OGR_L_GetLayerDefn(l);
    nf = OGR_FD_GetFieldCount(d);
    if (nf > 500) { st = gf_ctx_err(ctx, GF_ERR_UNSUPPORTED, "%s: more than 500 fields", xl->path); goto done; }
    OGRwkbGeometryType gt = layer_gtype(l);
    /* every layer of the file in the output CRS, like the main one */
    OGRSpatialReferenceH lsrs = OGR_L_GetSpatialRef(l);
    if (lsrs && !OSRIsSame(lsrs, g->srs)) {
        OGRSpatialReferenceH src = OSRClone(lsrs);
        OSRSetAxisMappingStrategy(src, OAMS_TRADITIONAL_GIS_ORDER);
        ct = OCTNewCoordinateTransformation(src, g->srs);
        OSRDestroySpatialReference(src);
        if (!ct) {
            st = gf_ctx_err(ctx, GF_ERR_GDAL, "%s: cannot reproject to the output CRS: %s", xl->path,
                            gf_gdal_msg(&g->ge, "no transformation"));
            goto done;
        }
    }
    sqlite3_str *ddl = sqlite3_str_new(g->db), *ins = sqlite3_str_new(g->db);
    sqlite3_str_appendf(ddl, "CREATE TABLE \"%w\" (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom %s", xl->name, gpkg_gtype(gt));
    sqlite3_str_appendf(ins, "INSERT INTO \"%w\" (geom", xl->name);
    for (int i = 0; i < nf; i++) {
        OGRFieldDefnH fd = OGR_FD_GetFieldDefn(d, i);
        gpkg_unique_name(names, i, OGR_Fld_GetNameRef(fd), names[i]);
        sqlite3_str_appendf(ddl, ", \"%w\" %s", names[i], ogr_field_sql(fd));
        sqlite3_str_appendf(ins, ", \"%w\"", names[i]);
    }
    sqlite3_str_appendall(ddl, ")");
    sqlite3_str_appendall(ins, ") VALUES (?");
    for (int i = 0; i < nf; i++) sqlite3_str_appendall(ins, ", ?");
    sqlite3_str_appendall(ins, ")");
    char *ddl_s = sqlite3_str_finish(ddl), *ins_s = sqlite3_str_finish(ins);
    if (!ddl_s || !ins_s) st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    if (!st) st = gpkg_exec(g, ctx, ddl_s);
    if (!st && sqlite3_prepare_v2(g->db, ins_s, -1, &q, NULL) != SQLITE_OK) st = gpkg_sql_err(g, ctx, "prepare extra layer insert");
    sqlite3_free(ddl_s);
    sqlite3_free(ins_s);
    if (st) goto done;
    if ((st = gpkg_add_feature_table(g, ctx, xl->name, gpkg_gtype(gt), g->srs_id))) goto done;

    double ext[4] = {INFINITY, -INFINITY, INFINITY, -INFINITY};
    uint64_t n = 0;
    for (OGRFeatureH f; !st && (f = OGR_L_GetNextFeature(l)); OGR_F_Destroy(f)) {
        OGRGeometryH geom = OGR_F_GetGeometryRef(f);
        if (geom) {
            if (ct && OGR_G_Transform(geom, ct) != OGRERR_NONE) {
                st = gf_ctx_err(ctx, GF_ERR_GDAL, "%s: feature %lld: cannot reproject", xl->path, (long long)OGR_F_GetFID(f));
                continue;
            }
            if (OGR_GT_IsSubClassOf(gt, wkbGeometryCollection) && wkbFlatten(OGR_G_GetGeometryType(geom)) != wkbFlatten(gt)) {
                geom = OGR_G_ForceTo(OGR_F_StealGeometry(f), gt, NULL);
                OGR_F_SetGeometryDirectly(f, geom);
            }
            size_t wl = (size_t)OGR_G_WkbSize(geom), need = 40 + wl;
            if (need > bufcap) {
                unsigned char *nb = realloc(buf, need);
                if (!nb) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); continue; }
                buf = nb;
                bufcap = need;
            }
            int empty = OGR_G_IsEmpty(geom);
            OGREnvelope e;
            OGR_G_GetEnvelope(geom, &e);
            double env[4] = {e.MinX, e.MaxX, e.MinY, e.MaxY};
            gpkg_gp_header(buf, g->srs_id, empty ? NULL : env, empty);
            size_t hl = empty ? 8 : 40;
            OGR_G_ExportToIsoWkb(geom, wkbNDR, buf + hl);
            sqlite3_bind_blob(q, 1, buf, (int)(hl + wl), SQLITE_STATIC);
            if (!empty) {
                if (e.MinX < ext[0]) ext[0] = e.MinX;
                if (e.MaxX > ext[1]) ext[1] = e.MaxX;
                if (e.MinY < ext[2]) ext[2] = e.MinY;
                if (e.MaxY > ext[3]) ext[3] = e.MaxY;
            }
        } else {
            sqlite3_bind_null(q, 1);
        }
        for (int i = 0; i < nf; i++) {
            int k = i + 2;
            if (!OGR_F_IsFieldSetAndNotNull(f, i)) { sqlite3_bind_null(q, k); continue; }
            OGRFieldDefnH fd = OGR_FD_GetFieldDefn(d, i);
            int Y, M, D, h, m, tz;
            float sec;
            char dt[40];
            switch (OGR_Fld_GetType(fd)) {
            case OFTInteger:
            case OFTInteger64: sqlite3_bind_int64(q, k, OGR_F_GetFieldAsInteger64(f, i)); break;
            case OFTReal: sqlite3_bind_double(q, k, OGR_F_GetFieldAsDouble(f, i)); break;
            case OFTDate:
            case OFTDateTime:
                OGR_F_GetFieldAsDateTimeEx(f, i, &Y, &M, &D, &h, &m, &sec, &tz);
                if (OGR_Fld_GetType(fd) == OFTDate) snprintf(dt, sizeof dt, "%04d-%02d-%02d", Y, M, D);
                else snprintf(dt, sizeof dt, "%04d-%02d-%02dT%02d:%02d:%06.3fZ", Y, M, D, h, m, (double)sec);
                sqlite3_bind_text(q, k, dt, -1, SQLITE_TRANSIENT);
                break;
            case OFTBinary: {
                int len = 0;
                GByte *bin = OGR_F_GetFieldAsBinary(f, i, &len);
                sqlite3_bind_blob(q, k, bin, len, SQLITE_TRANSIENT);
                break;
            }
            default: sqlite3_bind_text(q, k, OGR_F_GetFieldAsString(f, i), -1, SQLITE_TRANSIENT); break;
            }
        }
        if (sqlite3_step(q) != SQLITE_DONE) st = gpkg_sql_err(g, ctx, "insert into extra layer");
        sqlite3_reset(q);
        n++;
    }
    if (!st && ext[0] <= ext[1])
        st = gpkg_execf(g, ctx, sqlite3_mprintf("UPDATE gpkg_contents SET min_x = %!.17g, max_x = %!.17g, min_y = %!.17g, "
                                           "max_y = %!.17g WHERE table_name = %Q", ext[0], ext[1], ext[2], ext[3], xl->name));
    if (!st && !(st = gpkg_create_rtree(g, ctx, xl->name))) st = gpkg_rtree_fill_sql(g, ctx, xl->name);
    if (!st) gf_ctx_log(ctx, GF_LOG_INFO, "%s: layer %s: %llu features from %s", g->path, xl->name, (unsigned long long)n, xl->path);
done:
    sqlite3_finalize(q);
    free(buf);
    if (ct) OCTDestroyCoordinateTransformation(ct);
    if (!xl->dataset) GDALClose(ds); /* a dataset in memory is the caller's */
    return st;
}
