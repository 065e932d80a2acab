/* GeoPackage sink driven directly (no CLI): typed columns, NULL geometry for
 * rows without a position, GeoPackage binary header, rejects table, extra
 * layer copied from a GeoJSON polygon file (and reprojected), R-tree, name
 * collisions, abort() and invalid inputs. Read back with SQLite and GDAL. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gdal.h>
#include <ogr_api.h>
#include <sqlite3.h>

#include "geoflux/gpkg.h"
#include "gf_test.h"

static const gf_schema schema = {.kind = "address", .nfields = 7, .fields = {
    {"nom", GF_T_STRING}, {"numero", GF_T_INT}, {"surface", GF_T_REAL}, {"certifie", GF_T_BOOL},
    {"date_der_maj", GF_T_DATE}, {"FID", GF_T_STRING}, {"Nom", GF_T_STRING}}};

static long long q_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    long long v = -999;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) v = sqlite3_column_int64(s, 0);
    else fprintf(stderr, "query failed: %s: %s\n", sql, sqlite3_errmsg(db));
    sqlite3_finalize(s);
    return v;
}

static const char *q_text(sqlite3 *db, const char *sql, char *out, size_t n)
{
    sqlite3_stmt *s = NULL;
    out[0] = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
        snprintf(out, n, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return out;
}

/* 3 rows (the second without position) and one reject */
static gf_batch *make_batch(void)
{
    gf_batch *b = NULL;
    if (gf_batch_create(&schema, 16, &b)) return NULL;
    for (int i = 0; i < 3; i++) {
        long r = gf_batch_add_row(b, (uint64_t)(2 + i), 0);
        char nom[32];
        snprintf(nom, sizeof nom, "Rue n°%d \"quoted\"", i);
        gf_batch_set_str(b, 0, (size_t)r, nom, strlen(nom));
        gf_batch_set_int(b, 1, (size_t)r, 10 + i);
        if (i != 1) gf_batch_set_real(b, 2, (size_t)r, 1.5 * i);
        gf_batch_set_int(b, 3, (size_t)r, i % 2);
        gf_batch_set_str(b, 4, (size_t)r, "2023-05-17", 10);
        gf_batch_set_str(b, 5, (size_t)r, "f", 1);
        gf_batch_set_str(b, 6, (size_t)r, "N", 1);
        if (i != 1) {
            b->gx[r] = 1.4 + 0.1 * i; b->gy[r] = 43.6 + 0.1 * i;
            b->lon[r] = b->gx[r]; b->lat[r] = b->gy[r];
            b->flags[r] |= GF_ROW_HAS_POS;
        }
    }
    gf_batch_add_issue(b, 2, 0, "warn_code");
    gf_batch_reject_raw(b, 9, 0, "a;b;c", 5, "parse: too few fields");
    return b;
}

static gf_status run_sink(gf_ctx *ctx, const gf_output_opts *o, int do_finish)
{
    void *st = NULL;
    static const char *const inputs[] = {"input.csv"};
    gf_output_opts oi = *o;
    oi.inputs = inputs;
    oi.ninputs = 1;
    gf_status s = gf_gpkg_open(ctx, &oi, &st);
    if (s) return s;
    gf_batch *b = make_batch();
    gf_buf buf = {0};
    s = b ? GF_OK : GF_ERR_NOMEM;
    if (!s) s = gf_gpkg_sink_vt.begin(st, ctx, &schema, 1);
    if (!s) s = gf_gpkg_sink_vt.encode(st, ctx, 0, b, &buf);
    if (!s) s = gf_gpkg_sink_vt.commit(st, ctx, b, &buf);
    if (!s && do_finish) s = gf_gpkg_sink_vt.finish(st, ctx);
    if (!s && do_finish) s = gf_gpkg_sink_vt.publish(st, ctx);
    if (s || !do_finish) gf_gpkg_sink_vt.abort(st);
    gf_gpkg_sink_vt.destroy(st);
    gf_batch_destroy(b);
    gf_buf_free(&buf);
    return s;
}

int main(int argc, char **argv)
{
    const char *srcdir = argc > 1 ? argv[1] : ".";
    char communes[1024], communes35[1024], path[256], t[512];
    snprintf(communes, sizeof communes, "%s/data/samples/boundaries/communes-31-haute-garonne.geojson", srcdir);
    /* 339 Polygons and 6 MultiPolygons: the column becomes MULTIPOLYGON */
    snprintf(communes35, sizeof communes35, "%s/data/samples/boundaries/communes-35-ille-et-vilaine.geojson", srcdir);
    snprintf(path, sizeof path, "test_gpkg_%ld.gpkg", (long)getpid());
    gf_ctx *ctx = NULL;
    CHECK(gf_ctx_create(&ctx) == GF_OK);

    /* invalid inputs */
    void *st = NULL;
    gf_output_opts bad = {.path = "-", .epsg = 4326};
    CHECK(gf_gpkg_open(ctx, &bad, &st) == GF_ERR_ARG);
    gf_output_opts badl = {.path = path, .layer = "gpkg_contents", .epsg = 4326};
    CHECK(gf_gpkg_open(ctx, &badl, &st) == GF_ERR_ARG);
    gf_output_opts bado = {.path = "x.fgb", .epsg = 4326};
    CHECK(gf_ogr_open(ctx, &bado, "NoSuchDriver", &st) == GF_ERR_UNSUPPORTED);
    CHECK(gf_ogr_driver_ok("FlatGeobuf") == 1);
    CHECK(gf_ogr_driver_ok("NoSuchDriver") == 0);
    gf_gpkg_sink_vt.destroy(NULL);
    gf_ogr_sink_vt.destroy(NULL);

    /* a missing extra layer fails at finish() and leaves no file */
    gf_extra_layer missing = {.name = "communes", .path = "/nonexistent/communes.geojson"};
    gf_output_opts om = {.path = path, .epsg = 4326, .extra_layers = &missing, .nextra_layers = 1};
    unlink(path);
    CHECK(run_sink(ctx, &om, 1) == GF_ERR_GDAL);
    CHECK(access(path, F_OK) != 0);
    /* abort() after begin/commit: no file either */
    gf_output_opts oa = {.path = path, .epsg = 4326};
    CHECK(run_sink(ctx, &oa, 0) == GF_OK);
    CHECK(access(path, F_OK) != 0);

    /* the real thing, in Lambert-93 with the communes reprojected */
    gf_extra_layer xls[2] = {{.name = "communes", .path = communes}, {.name = "communes 35", .path = communes35}};
    gf_extra_layer xl = xls[0];
    gf_output_opts o = {.path = path, .epsg = 2154, .extra_layers = xls, .nextra_layers = 2};
    gf_status s = run_sink(ctx, &o, 1);
    CHECK(s == GF_OK);
    if (s) fprintf(stderr, "error: %s\n", gf_ctx_errmsg(ctx));

    sqlite3 *db = NULL;
    CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    CHECK(q_int(db, "PRAGMA application_id") == 0x47504B47);
    CHECK(q_int(db, "PRAGMA user_version") == 10200);
    CHECK(q_int(db, "SELECT count(*) FROM addresses") == 3);
    CHECK(q_int(db, "SELECT count(*) FROM addresses WHERE geom IS NULL") == 1);
    CHECK_STR(q_text(db, "SELECT hex(substr(geom, 1, 8)) FROM addresses WHERE fid = 1", t, sizeof t), "475000036A080000");
    CHECK(q_int(db, "SELECT length(geom) FROM addresses WHERE fid = 1") == 61);
    CHECK(q_int(db, "SELECT typeof(numero) = 'integer' AND typeof(surface) = 'real' AND typeof(certifie) = 'integer' "
                    "FROM addresses WHERE fid = 1") == 1);
    CHECK(q_int(db, "SELECT count(*) FROM addresses WHERE surface IS NULL") == 1);
    CHECK_STR(q_text(db, "SELECT nom FROM addresses WHERE fid = 3", t, sizeof t), "Rue n°2 \"quoted\"");
    CHECK_STR(q_text(db, "SELECT warnings FROM addresses WHERE fid = 3", t, sizeof t), "warn_code");
    /* column names unique without case: FID -> FID_2, Nom -> Nom_2 */
    CHECK_STR(q_text(db, "SELECT group_concat(name || ':' || type, ',') FROM pragma_table_info('addresses')", t, sizeof t),
              "fid:INTEGER,geom:POINT,nom:TEXT,numero:INTEGER,surface:REAL,certifie:BOOLEAN,date_der_maj:DATE,"
              "FID_2:TEXT,Nom_2:TEXT,errors:TEXT,warnings:TEXT");
    CHECK(q_int(db, "SELECT count(*) FROM gpkg_contents WHERE table_name = 'addresses' AND srs_id = 2154 AND "
                    "abs(min_x - 1.4) < 1e-12 AND abs(max_y - 43.8) < 1e-12") == 1);
    CHECK_STR(q_text(db, "SELECT source || ':' || line || ':' || reason || ':' || raw || ':' || layer FROM rejects", t, sizeof t),
              "input.csv:9:parse: too few fields:a;b;c:addresses");
    CHECK_STR(q_text(db, "SELECT data_type FROM gpkg_contents WHERE table_name = 'rejects'", t, sizeof t), "attributes");
    /* the extra layer: 587 communes in Lambert-93 with an R-tree */
    CHECK(q_int(db, "SELECT count(*) FROM communes") == 587);
    CHECK_STR(q_text(db, "SELECT geometry_type_name || srs_id FROM gpkg_geometry_columns WHERE table_name = 'communes'", t, sizeof t),
              "POLYGON2154");
    CHECK(q_int(db, "SELECT min_x > 400000 AND max_x < 700000 AND min_y > 6100000 AND max_y < 6350000 FROM gpkg_contents "
                    "WHERE table_name = 'communes'") == 1);
    CHECK_STR(q_text(db, "SELECT rtreecheck('rtree_communes_geom')", t, sizeof t), "ok");
    CHECK_STR(q_text(db, "SELECT rtreecheck('rtree_addresses_geom')", t, sizeof t), "ok");
    CHECK(q_int(db, "SELECT count(*) FROM rtree_communes_geom") == 587);
    CHECK(q_int(db, "SELECT count(*) FROM rtree_addresses_geom") == 2);
    CHECK(q_int(db, "SELECT count(*) FROM \"communes 35\"") == 345);
    CHECK_STR(q_text(db, "SELECT geometry_type_name FROM gpkg_geometry_columns WHERE table_name = 'communes 35'", t, sizeof t),
              "MULTIPOLYGON");
    CHECK(q_int(db, "SELECT count(*) FROM \"communes 35\" WHERE hex(substr(geom, 41, 5)) = '0106000000'") == 345);
    CHECK_STR(q_text(db, "SELECT rtreecheck('rtree_communes 35_geom')", t, sizeof t), "ok");
    CHECK(q_int(db, "SELECT count(*) FROM gpkg_extensions WHERE extension_name = 'gpkg_rtree_index'") == 3);
    CHECK_STR(q_text(db, "PRAGMA integrity_check", t, sizeof t), "ok");
    sqlite3_close(db);

    /* GDAL reads both layers back, with the commune names */
    GDALAllRegister();
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    CHECK(ds != NULL);
    if (ds) {
        OGRLayerH l = GDALDatasetGetLayerByName(ds, "communes");
        CHECK(l && OGR_L_GetFeatureCount(l, TRUE) == 587);
        if (l) {
            OGR_L_SetAttributeFilter(l, "nom = 'Toulouse'");
            OGRFeatureH f = OGR_L_GetNextFeature(l);
            CHECK(f != NULL);
            if (f) {
                OGRGeometryH g = OGR_F_GetGeometryRef(f);
                CHECK(g && OGR_G_Area(g) > 1e8); /* about 118 km2, in square metres */
                OGR_F_Destroy(f);
            }
        }
        OGRLayerH a = GDALDatasetGetLayerByName(ds, "addresses");
        CHECK(a && OGR_L_GetFeatureCount(a, TRUE) == 3);
        GDALClose(ds);
    }

    /* --append: a second address layer; the rejects go to the same table */
    gf_output_opts o2 = {.path = path, .epsg = 2154, .append = 1, .layer = "more"};
    CHECK(run_sink(ctx, &o2, 1) == GF_OK);
    CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    CHECK(q_int(db, "SELECT count(*) FROM more") == 3);
    CHECK(q_int(db, "SELECT count(*) FROM communes") == 587);
    CHECK(q_int(db, "SELECT count(*) FROM rejects") == 2);
    CHECK(q_int(db, "SELECT count(*) FROM gpkg_spatial_ref_sys WHERE srs_id = 2154") == 1);
    sqlite3_close(db);
    CHECK(run_sink(ctx, &o2, 1) == GF_ERR_ARG); /* same layer again */

    unlink(path);

    /* the OGR sink: GDAL's GPKG driver holds the extra layer too; abort() leaves nothing */
    char opath[256];
    snprintf(opath, sizeof opath, "test_ogr_%ld.gpkg", (long)getpid());
    for (int pass = 0; pass < 2; pass++) {
        gf_output_opts oo = {.path = opath, .epsg = 4326, .extra_layers = &xl, .nextra_layers = 1};
        void *os = NULL;
        unlink(opath);
        CHECK(gf_ogr_open(ctx, &oo, "GPKG", &os) == GF_OK);
        gf_batch *b = make_batch();
        gf_buf buf = {0};
        s = b ? gf_ogr_sink_vt.begin(os, ctx, &schema, 1) : GF_ERR_NOMEM;
        CHECK(s == GF_OK);
        if (s) fprintf(stderr, "error: %s\n", gf_ctx_errmsg(ctx));
        CHECK(b && gf_ogr_sink_vt.commit(os, ctx, b, &buf) == GF_OK);
        if (pass == 0) {
            s = gf_ogr_sink_vt.finish(os, ctx);
            if (!s) s = gf_ogr_sink_vt.publish(os, ctx);
            CHECK(s == GF_OK);
            if (s) fprintf(stderr, "error: %s\n", gf_ctx_errmsg(ctx));
        } else {
            gf_ogr_sink_vt.abort(os);
        }
        gf_ogr_sink_vt.destroy(os);
        gf_batch_destroy(b);
        if (pass == 1) { CHECK(access(opath, F_OK) != 0); continue; }
        ds = GDALOpenEx(opath, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
        CHECK(ds != NULL);
        if (ds) {
            OGRLayerH l = GDALDatasetGetLayerByName(ds, "addresses");
            CHECK(l && OGR_L_GetFeatureCount(l, TRUE) == 3);
            l = GDALDatasetGetLayerByName(ds, "communes");
            CHECK(l && OGR_L_GetFeatureCount(l, TRUE) == 587);
            GDALClose(ds);
        }
    }
    unlink(opath);
    gf_ctx_destroy(ctx);
    GF_TEST_END();
}
