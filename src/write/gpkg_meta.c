/* GeoPackage writer, the SQLite side: helpers around sqlite3_exec, the
 * GeoPackage binary header, the ST_ functions the R-tree triggers call,
 * the metadata tables (gpkg_spatial_ref_sys, gpkg_contents,
 * gpkg_geometry_columns, gpkg_extensions) and the DDL of the feature,
 * rejects and R-tree tables. See gpkg.c. */
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

/* ---- small helpers ---------------------------------------------------- */


gf_status gpkg_sql_err(gf_gpkg *g, gf_ctx *ctx, const char *what)
{
    return gf_ctx_err(ctx, GF_ERR_SQL, "%s: %s: %s", g->path, what, g->db ? sqlite3_errmsg(g->db) : "no database");
}

gf_status gpkg_exec(gf_gpkg *g, gf_ctx *ctx, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(g->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        gf_status st = gf_ctx_err(ctx, GF_ERR_SQL, "%s: %s (%.120s)", g->path, msg ? msg : "SQLite error", sql);
        sqlite3_free(msg);
        return st;
    }
    return GF_OK;
}

/* gpkg_exec() of a sqlite3_mprintf() result, which it frees. */
gf_status gpkg_execf(gf_gpkg *g, gf_ctx *ctx, char *sql)
{
    if (!sql) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    gf_status st = gpkg_exec(g, ctx, sql);
    sqlite3_free(sql);
    return st;
}

int gpkg_table_exists(sqlite3 *db, const char *name)
{
    sqlite3_stmt *s = NULL;
    int found = 0;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE lower(name) = lower(?)", -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
        found = sqlite3_step(s) == SQLITE_ROW;
    }
    sqlite3_finalize(s);
    return found;
}

/* Column names are compared without case by SQLite: make each one unique
 * against fid, geom and the columns before it by suffixing _2, _3... */
void gpkg_unique_name(char names[][96], int n, const char *want, char *out)
{
    snprintf(out, 96, "%s", want[0] ? want : "field");
    for (int k = 2;; k++) {
        int clash = !strcasecmp(out, "fid") || !strcasecmp(out, "geom");
        for (int i = 0; i < n && !clash; i++) clash = !strcasecmp(names[i], out);
        if (!clash) return;
        snprintf(out, 96, "%.80s_%d", want, k);
    }
}

void gpkg_put_u32le(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); p[2] = (unsigned char)(v >> 16); p[3] = (unsigned char)(v >> 24);
}

void gpkg_put_f64le(unsigned char *p, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(u >> (8 * i));
}

static double get_f64(const unsigned char *p, int le)
{
    uint64_t u = 0;
    for (int i = 0; i < 8; i++) u |= (uint64_t)p[le ? i : 7 - i] << (8 * i);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

/* GeoPackage binary header: "GP", version 0, flags (little-endian, envelope
 * [minx, maxx, miny, maxy] or none, empty bit), srs_id. */
void gpkg_gp_header(unsigned char *p, int srs_id, const double *env, int empty)
{
    p[0] = 'G'; p[1] = 'P'; p[2] = 0;
    p[3] = (unsigned char)(1u | (env ? 1u << 1 : 0) | (empty ? 1u << 4 : 0));
    gpkg_put_u32le(p + 4, (uint32_t)srs_id);
    if (env)
        for (int i = 0; i < 4; i++) gpkg_put_f64le(p + 8 + 8 * i, env[i]);
}

/* ---- ST_* SQL functions --------------------------------------------------
 * The standard R-tree triggers call ST_IsEmpty/ST_MinX/...; GDAL and QGIS
 * register their own when they open the file. We register ours on our
 * connection for the bulk fill at finish(). They read the envelope of the
 * header, or the coordinates of a WKB point without envelope. */

static int gp_bbox(const unsigned char *p, int n, double bb[4], int *empty)
{
    if (n < 8 || p[0] != 'G' || p[1] != 'P') return -1;
    int flags = p[3], le = flags & 1, env = (flags >> 1) & 7;
    *empty = (flags >> 4) & 1;
    static const int envlen[] = {0, 32, 48, 48, 64};
    if (env > 4) return -1;
    int hl = 8 + envlen[env];
    if (n < hl) return -1;
    if (*empty) return 0;
    if (env) {
        for (int i = 0; i < 4; i++) bb[i] = get_f64(p + 8 + 8 * i, le);
        return 0;
    }
    /* no envelope: only a 2D point can be read cheaply */
    if (n < hl + 21) return -1;
    int wle = p[hl] == 1;
    uint32_t t = wle ? (uint32_t)p[hl + 1] | (uint32_t)p[hl + 2] << 8 | (uint32_t)p[hl + 3] << 16 | (uint32_t)p[hl + 4] << 24
                     : (uint32_t)p[hl + 4] | (uint32_t)p[hl + 3] << 8 | (uint32_t)p[hl + 2] << 16 | (uint32_t)p[hl + 1] << 24;
    if (t % 1000 != 1) return -1;
    bb[0] = bb[1] = get_f64(p + hl + 5, wle);
    bb[2] = bb[3] = get_f64(p + hl + 13, wle);
    if (isnan(bb[0]) || isnan(bb[2])) *empty = 1;
    return 0;
}

static void st_fn(sqlite3_context *c, int argc, sqlite3_value **argv)
{
    (void)argc;
    int which = (int)(intptr_t)sqlite3_user_data(c); /* 0..3 = minx, maxx, miny, maxy; 4 = isempty */
    if (sqlite3_value_type(argv[0]) != SQLITE_BLOB) { sqlite3_result_null(c); return; }
    const unsigned char *p = sqlite3_value_blob(argv[0]);
    int n = sqlite3_value_bytes(argv[0]), empty = 0;
    double bb[4];
    if (gp_bbox(p, n, bb, &empty) != 0) { sqlite3_result_null(c); return; }
    if (which == 4) sqlite3_result_int(c, empty);
    else if (empty) sqlite3_result_null(c);
    else sqlite3_result_double(c, bb[which]);
}

int gpkg_register_st(sqlite3 *db)
{
    static const char *names[] = {"ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY", "ST_IsEmpty"};
    for (int i = 0; i < 5; i++)
        if (sqlite3_create_function(db, names[i], 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, (void *)(intptr_t)i, st_fn,
                                    NULL, NULL) != SQLITE_OK)
            return -1;
    return 0;
}

const char *gpkg_type_sql(gf_type t)
{
    switch (t) {
    case GF_T_INT: return "INTEGER";
    case GF_T_REAL: return "REAL";
    case GF_T_BOOL: return "BOOLEAN";
    case GF_T_DATE: return "DATE";
    case GF_T_STRING: break;
    }
    return "TEXT";
}

/* Output CRS row in gpkg_spatial_ref_sys: definition in WKT1, as GDAL
 * writes it (readers of GeoPackage 1.2 expect WKT1 there). */
static gf_status add_srs(gf_gpkg *g, gf_ctx *ctx)
{
    g->srs = OSRNewSpatialReference(NULL);
    if (!g->srs) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    OGRErr e;
    int epsg = g->o.epsg;
    if (epsg) e = OSRImportFromEPSG(g->srs, epsg);
    else if (g->o.srs_wkt) e = OSRSetFromUserInput(g->srs, g->o.srs_wkt);
    else e = OSRImportFromEPSG(g->srs, epsg = 4326);
    if (e != OGRERR_NONE)
        return gf_ctx_err(ctx, GF_ERR_GDAL, "%s: GDAL cannot read the output CRS: %s", g->path, gf_gdal_msg(&g->ge, "no reason given"));
    OSRSetAxisMappingStrategy(g->srs, OAMS_TRADITIONAL_GIS_ORDER);
    g->srs_id = epsg ? epsg : 100000;
    if (g->srs_id == 4326) return GF_OK; /* row written with the required ones */
    char *wkt = NULL;
    const char *wkt1_opts[] = {"FORMAT=WKT1_GDAL", NULL};
    if (OSRExportToWktEx(g->srs, &wkt, wkt1_opts) != OGRERR_NONE || !wkt) {
        CPLFree(wkt);
        return gf_ctx_err(ctx, GF_ERR_GDAL, "%s: the output CRS has no WKT1 form", g->path);
    }
    if (!epsg) {
        /* not an EPSG CRS: same definition already stored, else the next free id */
        sqlite3_stmt *s = NULL;
        if (sqlite3_prepare_v2(g->db, "SELECT srs_id FROM gpkg_spatial_ref_sys WHERE definition = ? UNION ALL "
                               "SELECT max(100000, max(srs_id) + 1) FROM gpkg_spatial_ref_sys", -1, &s, NULL) == SQLITE_OK) {
            sqlite3_bind_text(s, 1, wkt, -1, SQLITE_STATIC);
            if (sqlite3_step(s) == SQLITE_ROW) g->srs_id = sqlite3_column_int(s, 0);
        }
        sqlite3_finalize(s);
    }
    const char *name = OSRGetName(g->srs);
    gf_status st = gpkg_execf(g, ctx, sqlite3_mprintf(
        "INSERT OR IGNORE INTO gpkg_spatial_ref_sys (srs_name, srs_id, organization, organization_coordsys_id, definition, description) "
        "VALUES (%Q, %d, %Q, %d, %Q, NULL)", name ? name : "unnamed", g->srs_id, epsg ? "EPSG" : "NONE", g->srs_id, wkt));
    CPLFree(wkt);
    return st;
}

gf_status gpkg_create_meta(gf_gpkg *g, gf_ctx *ctx)
{
    static const char *ddl =
        "CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY, "
        "organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, definition  TEXT NOT NULL, description TEXT);"
        "CREATE TABLE IF NOT EXISTS gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, "
        "identifier TEXT UNIQUE, description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT "
        "(strftime('%Y-%m-%dT%H:%M:%fZ','now')), min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER, "
        "CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));"
        "CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, "
        "geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL, "
        "CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name), CONSTRAINT uk_gc_table_name UNIQUE (table_name), "
        "CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name), "
        "CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));"
        "CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, "
        "definition TEXT NOT NULL, scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));"
        "INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES ('Undefined Cartesian SRS', -1, 'NONE', -1, 'undefined', "
        "'undefined Cartesian coordinate reference system');"
        "INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', "
        "'undefined geographic coordinate reference system');";
    gf_status st = gpkg_exec(g, ctx, ddl);
    if (st) return st;
    /* EPSG:4326 is required in every GeoPackage */
    OGRSpatialReferenceH s = OSRNewSpatialReference(NULL);
    char *wkt = NULL;
    const char *wkt1_opts[] = {"FORMAT=WKT1_GDAL", NULL};
    if (!s || OSRImportFromEPSG(s, 4326) != OGRERR_NONE || OSRExportToWktEx(s, &wkt, wkt1_opts) != OGRERR_NONE) {
        OSRDestroySpatialReference(s);
        CPLFree(wkt);
        return gf_ctx_err(ctx, GF_ERR_GDAL, "GDAL/PROJ cannot describe EPSG:4326 (proj.db missing?)");
    }
    st = gpkg_execf(g, ctx, sqlite3_mprintf(
        "INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES ('WGS 84 geodetic', 4326, 'EPSG', 4326, %Q, "
        "'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid')", wkt));
    CPLFree(wkt);
    OSRDestroySpatialReference(s);
    return st ? st : add_srs(g, ctx);
}

gf_status gpkg_add_feature_table(gf_gpkg *g, gf_ctx *ctx, const char *name, const char *gtype, int srs_id)
{
    return gpkg_execf(g, ctx, sqlite3_mprintf(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, srs_id) "
        "VALUES (%Q, 'features', %Q, '', %Q, %d);"
        "INSERT INTO gpkg_geometry_columns VALUES (%Q, 'geom', %Q, %d, 0, 0)",
        name, name, g->last_change, srs_id, name, gtype, srs_id));
}

/* The R-tree of a feature table (gpkg_rtree_index extension) and its
 * standard triggers, so that later edits in QGIS keep it in sync. Filled
 * afterwards: by hand for the main table (rtree_write), by the module's
 * INSERT ... SELECT for the small extra layers (rtree_fill_sql). */
gf_status gpkg_create_rtree(gf_gpkg *g, gf_ctx *ctx, const char *t)
{
    return gpkg_execf(g, ctx, sqlite3_mprintf(
        "CREATE VIRTUAL TABLE \"rtree_%w_geom\" USING rtree(id, minx, maxx, miny, maxy);"
        "INSERT INTO gpkg_extensions VALUES (%Q, 'geom', 'gpkg_rtree_index', "
        "'http://www.geopackage.org/spec120/#extension_rtree', 'write-only');"
        "CREATE TRIGGER \"rtree_%w_geom_insert\" AFTER INSERT ON \"%w\" WHEN (new.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom)) "
        "BEGIN INSERT OR REPLACE INTO \"rtree_%w_geom\" VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), "
        "ST_MinY(NEW.geom), ST_MaxY(NEW.geom)); END;"
        "CREATE TRIGGER \"rtree_%w_geom_update1\" AFTER UPDATE OF geom ON \"%w\" WHEN OLD.fid = NEW.fid AND "
        "(NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom)) BEGIN INSERT OR REPLACE INTO \"rtree_%w_geom\" VALUES (NEW.fid, "
        "ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom)); END;"
        "CREATE TRIGGER \"rtree_%w_geom_update2\" AFTER UPDATE OF geom ON \"%w\" WHEN OLD.fid = NEW.fid AND "
        "(NEW.geom ISNULL OR ST_IsEmpty(NEW.geom)) BEGIN DELETE FROM \"rtree_%w_geom\" WHERE id = OLD.fid; END;"
        "CREATE TRIGGER \"rtree_%w_geom_update3\" AFTER UPDATE ON \"%w\" WHEN OLD.fid != NEW.fid AND "
        "(NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom)) BEGIN DELETE FROM \"rtree_%w_geom\" WHERE id = OLD.fid; "
        "INSERT OR REPLACE INTO \"rtree_%w_geom\" VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), "
        "ST_MinY(NEW.geom), ST_MaxY(NEW.geom)); END;"
        "CREATE TRIGGER \"rtree_%w_geom_update4\" AFTER UPDATE ON \"%w\" WHEN OLD.fid != NEW.fid AND "
        "(NEW.geom ISNULL OR ST_IsEmpty(NEW.geom)) BEGIN DELETE FROM \"rtree_%w_geom\" WHERE id IN (OLD.fid, NEW.fid); END;"
        "CREATE TRIGGER \"rtree_%w_geom_delete\" AFTER DELETE ON \"%w\" WHEN old.geom NOT NULL "
        "BEGIN DELETE FROM \"rtree_%w_geom\" WHERE id = OLD.fid; END;",
        t, t, t, t, t, t, t, t, t, t, t, t, t, t, t, t, t, t, t, t, t)); /* 21: one per %Q/%w */
}

gf_status gpkg_rtree_fill_sql(gf_gpkg *g, gf_ctx *ctx, const char *t)
{
    return gpkg_execf(g, ctx, sqlite3_mprintf(
        "INSERT INTO \"rtree_%w_geom\" SELECT fid, ST_MinX(geom), ST_MaxX(geom), ST_MinY(geom), ST_MaxY(geom) "
        "FROM \"%w\" WHERE geom NOT NULL AND NOT ST_IsEmpty(geom)", t, t));
}

static int has_rejects_columns(sqlite3 *db, const char *t)
{
    char *sql = sqlite3_mprintf("SELECT fid, layer, source, line, reason, raw FROM \"%w\" LIMIT 0", t);
    sqlite3_stmt *s = NULL;
    int ok = sql && sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_column_count(s) == 6;
    sqlite3_finalize(s);
    sqlite3_free(sql);
    return ok;
}

gf_status gpkg_create_rejects(gf_gpkg *g, gf_ctx *ctx)
{
    /* One `rejects` table per file: with --append the new run's rejects are
     * added to it (the `layer` column tells them apart) through a staging
     * table copied at finish(), unless a table of that name is not ours,
     * then "<layer>_rejects". */
    static const char *cols = "(fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, layer TEXT, source TEXT, "
                              "line INTEGER, reason TEXT, raw TEXT)";
    snprintf(g->rejtable, sizeof g->rejtable, "rejects");
    if (gpkg_table_exists(g->db, g->rejtable) && !has_rejects_columns(g->db, g->rejtable))
        snprintf(g->rejtable, sizeof g->rejtable, "%.240s_rejects", g->table);
    if (gpkg_table_exists(g->db, g->rejtable)) {
        if (!has_rejects_columns(g->db, g->rejtable))
            return gf_ctx_err(ctx, GF_ERR_ARG, "%s: a table called '%s' already exists and is not a rejects table", g->path, g->rejtable);
        snprintf(g->rejwrite, sizeof g->rejwrite, "geoflux_rejects_staging");
        return gpkg_execf(g, ctx, sqlite3_mprintf("DROP TABLE IF EXISTS \"%w\"; CREATE TABLE \"%w\" %s", g->rejwrite, g->rejwrite, cols));
    }
    snprintf(g->rejwrite, sizeof g->rejwrite, "%s", g->rejtable);
    return gpkg_execf(g, ctx, sqlite3_mprintf(
        "CREATE TABLE \"%w\" %s;"
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change) "
        "VALUES (%Q, 'attributes', %Q, 'rows rejected by geoflux: input, line, reason, raw text', %Q)",
        g->rejtable, cols, g->rejtable, g->rejtable, g->last_change));
}

static uint32_t root_page(sqlite3 *db, const char *name)
{
    sqlite3_stmt *s = NULL;
    uint32_t root = 0;
    if (sqlite3_prepare_v2(db, "SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = ?", -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW) root = (uint32_t)sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    return root;
}

/* Root pages of the tables written by hand, and the R-tree node size the
 * module chose for this page size (the length of the empty root node). */
gf_status gpkg_find_roots(gf_gpkg *g, gf_ctx *ctx)
{
    char name[300];
    g->root_main = root_page(g->db, g->table);
    g->root_rej = root_page(g->db, g->rejwrite);
    snprintf(name, sizeof name, "rtree_%s_geom_node", g->table);
    g->root_node = root_page(g->db, name);
    snprintf(name, sizeof name, "rtree_%s_geom_parent", g->table);
    g->root_parent = root_page(g->db, name);
    snprintf(name, sizeof name, "rtree_%s_geom_rowid", g->table);
    g->root_rowid = root_page(g->db, name);
    char *sql = sqlite3_mprintf("SELECT length(data) FROM \"rtree_%w_geom_node\" WHERE nodeno = 1", g->table);
    sqlite3_stmt *q = NULL;
    if (sql && sqlite3_prepare_v2(g->db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
        g->nodesz = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    sqlite3_free(sql);
    if (!g->root_main || !g->root_rej || !g->root_node || !g->root_parent || !g->root_rowid || g->nodesz < 4 + 24 * 4)
        return gf_ctx_err(ctx, GF_ERR_SQL, "%s: unexpected layout of the new tables (SQLite %s)", g->path, sqlite3_libversion());
    return GF_OK;
}
