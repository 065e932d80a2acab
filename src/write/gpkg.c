/* GeoPackage 1.2 writer: SQLite for the schema and metadata, the rows and
 * the R-tree written by hand.
 *
 * Why not GDAL's GPKG driver: on the 1M-row extract (bench/gpkg.sh, numbers
 * in bench/README.md) `ogr2ogr -f GPKG -gt unlimited` spends its time in
 * OGRFeature building, per-row triggers (R-tree, feature count) and field
 * conversions. Why not SQLite's INSERT either: with the records bound to a
 * prepared multi-row INSERT in one transaction, SQLite's VDBE and b-tree
 * code were a third of the run's CPU, all on the committing thread. So:
 * begin() has SQLite create the file (page size, application_id,
 * gpkg_* tables, the feature table, `rejects`, the R-tree and its triggers)
 * and close it; workers build each row's SQLite record in encode(); commit()
 * appends them to the table's b-tree pages (write/sqlbt.c); finish() writes
 * the R-tree's shadow tables in bulk, then reopens the file with SQLite for
 * the extent, the AUTOINCREMENT sequences and the extra layers. The file is
 * a temporary name until the rename, so a crash cannot leave a corrupt
 * result under the final name; tests check it with PRAGMA integrity_check,
 * rtreecheck() and GDAL's validate_gpkg.py.
 *
 * Layers in one file: the main one, `rejects` (attributes: rows that did
 * not make it, with their line, reason and raw text), and the extra layers
 * of gf_output_opts copied with OGR at finish(). */
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

#include "core/gdalerr.h"
#include "core/hilbert.h"
#include "core/sort.h"
#include "geoflux/gpkg.h"
#include "write/ofile.h"
#include "write/sqlbt.h"

#define GPKG_APP_ID 0x47504B47 /* "GPKG" */
#define GPKG_USER_VERSION 10200
#define GP_POINT_LEN 61 /* 8 header + 32 envelope + 21 WKB point */
#define GPKG_PAGE_SIZE 65536
#define GPKG_RTREE_MAX 4000000 /* features whose boxes are kept in memory for the R-tree (64 B each at most) */
#define GF_STR_(x) #x
#define GF_STR(x) GF_STR_(x)
#define GPKG_CACHE_KIB 32768 /* 32 MiB of page cache: bounded, keeps RSS < 150 MB */

typedef struct rt_ent {
    int64_t id; /* feature id (leaves) or node index in the level below */
    float b[4]; /* minx, maxx, miny, maxy */
} rt_ent;

typedef struct gf_gpkg {
    gf_output_opts o;
    char *path, table[256], rejtable[256], rejwrite[256];
    gf_atomic out; /* the temporary file until publish() */
    const char *const *inputs;
    int ninputs;
    sqlite3 *db; /* open at begin() and at the end of finish() only */
    const gf_schema *schema;
    int srs_id;
    OGRSpatialReferenceH srs; /* output CRS, for extra layers */
    double minx, miny, maxx, maxy;
    uint64_t npos, nrows, nrej;
    char last_change[32];
    /* the tables written by hand */
    gf_sqlfile file;
    int file_open;
    uint32_t root_main, root_rej, root_node, root_parent, root_rowid;
    int nodesz; /* R-tree node size chosen by the module */
    gf_sqlbt bt_main, bt_rej;
    gf_sqlrec *rec; /* one per worker (encode) */
    gf_sqlrec rec_rej;
    uint8_t *rejbuf;
    size_t rejcap;
    /* boxes of the main table, gathered at commit for the R-tree; every
     * ents_max of them are sorted and spilled as a run (rtree_spill) */
    rt_ent *ents;
    size_t nents, entcap, ents_max;
    struct rt_run *runs;
    int nruns, runs_fd, leaf_fd; /* two scratch files once a run was spilled */
    int *heap, nheap;            /* merge of the runs */
    uint64_t nspilled;
    gf_gdal_errs ge; /* GDAL error scope of begin() and finish() (CRS definitions, extra layers) */
} gf_gpkg;

/* ---- small helpers ---------------------------------------------------- */

/* float32 boxes that contain the double ones, as the rtree module rounds */
static float f_down(double d) { float f = (float)d; return (double)f > d ? nextafterf(f, -INFINITY) : f; }
static float f_up(double d) { float f = (float)d; return (double)f < d ? nextafterf(f, INFINITY) : f; }

static gf_status sql_err(gf_gpkg *g, gf_ctx *ctx, const char *what)
{
    return gf_ctx_err(ctx, GF_ERR_SQL, "%s: %s: %s", g->path, what, g->db ? sqlite3_errmsg(g->db) : "no database");
}

static gf_status exec(gf_gpkg *g, gf_ctx *ctx, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(g->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        gf_status st = gf_ctx_err(ctx, GF_ERR_SQL, "%s: %s (%.120s)", g->path, msg ? msg : "SQLite error", sql);
        sqlite3_free(msg);
        return st;
    }
    return GF_OK;
}

/* exec() of a sqlite3_mprintf() result, which it frees. */
static gf_status execf(gf_gpkg *g, gf_ctx *ctx, char *sql)
{
    if (!sql) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    gf_status st = exec(g, ctx, sql);
    sqlite3_free(sql);
    return st;
}

static int table_exists(sqlite3 *db, const char *name)
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
static void unique_name(char names[][96], int n, const char *want, char *out)
{
    snprintf(out, 96, "%s", want[0] ? want : "field");
    for (int k = 2;; k++) {
        int clash = !strcasecmp(out, "fid") || !strcasecmp(out, "geom");
        for (int i = 0; i < n && !clash; i++) clash = !strcasecmp(names[i], out);
        if (!clash) return;
        snprintf(out, 96, "%.80s_%d", want, k);
    }
}

static void put_u32le(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); p[2] = (unsigned char)(v >> 16); p[3] = (unsigned char)(v >> 24);
}

static void put_f64le(unsigned char *p, double d)
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
static void gp_header(unsigned char *p, int srs_id, const double *env, int empty)
{
    p[0] = 'G'; p[1] = 'P'; p[2] = 0;
    p[3] = (unsigned char)(1u | (env ? 1u << 1 : 0) | (empty ? 1u << 4 : 0));
    put_u32le(p + 4, (uint32_t)srs_id);
    if (env)
        for (int i = 0; i < 4; i++) put_f64le(p + 8 + 8 * i, env[i]);
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

static int register_st(sqlite3 *db)
{
    static const char *names[] = {"ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY", "ST_IsEmpty"};
    for (int i = 0; i < 5; i++)
        if (sqlite3_create_function(db, names[i], 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, (void *)(intptr_t)i, st_fn,
                                    NULL, NULL) != SQLITE_OK)
            return -1;
    return 0;
}

/* ---- open / begin ------------------------------------------------------ */

/* The temporary file, through SQLite, with our ST_ functions. */
static gf_status open_db(gf_gpkg *g, gf_ctx *ctx)
{
    if (sqlite3_open_v2(g->out.tmp, &g->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
        gf_status st = gf_ctx_err(ctx, GF_ERR_SQL, "%s: %s", g->path, g->db ? sqlite3_errmsg(g->db) : "cannot open");
        sqlite3_close(g->db);
        g->db = NULL;
        return st;
    }
    if (register_st(g->db)) return sql_err(g, ctx, "cannot register ST_ functions");
    return GF_OK;
}

gf_status gf_gpkg_open(gf_ctx *ctx, const gf_output_opts *opts, void **st)
{
    if (!opts->path || !strcmp(opts->path, "-"))
        return gf_ctx_err(ctx, GF_ERR_ARG, "GeoPackage cannot be written to standard output");
    if (opts->layer && (!opts->layer[0] || !strncasecmp(opts->layer, "gpkg_", 5) || !strncasecmp(opts->layer, "rtree_", 6) ||
                        !strncasecmp(opts->layer, "sqlite_", 7) || strlen(opts->layer) > 200))
        return gf_ctx_err(ctx, GF_ERR_ARG, "--layer '%s': a GeoPackage table name must be 1-200 characters and not "
                          "start with gpkg_, rtree_ or sqlite_", opts->layer);
    gf_gpkg *g = calloc(1, sizeof *g);
    if (!g) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    g->o = *opts;
    g->inputs = opts->inputs;
    g->ninputs = opts->ninputs;
    g->out.fd = -1;
    if (!(g->path = strdup(opts->path))) {
        free(g);
        return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    }
    g->minx = g->miny = INFINITY;
    g->maxx = g->maxy = -INFINITY;
    *st = g;
    return GF_OK;
}

/* --append works on a copy of the existing file, made with SQLite's online
 * backup so that a file left in WAL mode (QGIS edits GeoPackages so) comes
 * with the changes still in its -wal file; the original is only read. */
static gf_status copy_db(gf_ctx *ctx, const char *from, const char *to)
{
    /* to: our temporary file (never named in a message) */
    sqlite3 *src = NULL, *dst = NULL;
    gf_status st = GF_OK;
    if (sqlite3_open_v2(from, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        st = gf_ctx_err(ctx, GF_ERR_IO, "%s: --append: %s", from, src ? sqlite3_errmsg(src) : "cannot open");
    else if (sqlite3_open_v2(to, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
        st = gf_ctx_err(ctx, GF_ERR_IO, "%s: --append: cannot copy it: %s", from, dst ? sqlite3_errmsg(dst) : "cannot open");
    if (!st) {
        sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
        int rc = b ? sqlite3_backup_step(b, -1) : SQLITE_ERROR;
        sqlite3_backup_finish(b);
        if (rc != SQLITE_DONE)
            st = gf_ctx_err(ctx, GF_ERR_ARG, "%s: --append: not a readable GeoPackage (%s)", from,
                            rc == SQLITE_NOTADB ? "not an SQLite database" : sqlite3_errmsg(dst));
    }
    sqlite3_close(src);
    sqlite3_close(dst);
    return st;
}

static const char *type_sql(gf_type t)
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
    gf_status st = execf(g, ctx, sqlite3_mprintf(
        "INSERT OR IGNORE INTO gpkg_spatial_ref_sys (srs_name, srs_id, organization, organization_coordsys_id, definition, description) "
        "VALUES (%Q, %d, %Q, %d, %Q, NULL)", name ? name : "unnamed", g->srs_id, epsg ? "EPSG" : "NONE", g->srs_id, wkt));
    CPLFree(wkt);
    return st;
}

static gf_status create_meta(gf_gpkg *g, gf_ctx *ctx)
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
    gf_status st = exec(g, ctx, ddl);
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
    st = execf(g, ctx, sqlite3_mprintf(
        "INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES ('WGS 84 geodetic', 4326, 'EPSG', 4326, %Q, "
        "'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid')", wkt));
    CPLFree(wkt);
    OSRDestroySpatialReference(s);
    return st ? st : add_srs(g, ctx);
}

static void default_layer_name(const gf_schema *s, char *out, size_t n)
{
    const char *k = s->kind && s->kind[0] ? s->kind : "feature";
    if (!strcmp(k, "address")) snprintf(out, n, "addresses");
    else if (!strcmp(k, "equipment")) snprintf(out, n, "equipments");
    else snprintf(out, n, "%s%s", k, k[strlen(k) - 1] == 's' ? "" : "s");
}

static gf_status add_feature_table(gf_gpkg *g, gf_ctx *ctx, const char *name, const char *gtype, int srs_id)
{
    return execf(g, ctx, sqlite3_mprintf(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, srs_id) "
        "VALUES (%Q, 'features', %Q, '', %Q, %d);"
        "INSERT INTO gpkg_geometry_columns VALUES (%Q, 'geom', %Q, %d, 0, 0)",
        name, name, g->last_change, srs_id, name, gtype, srs_id));
}

/* The R-tree of a feature table (gpkg_rtree_index extension) and its
 * standard triggers, so that later edits in QGIS keep it in sync. Filled
 * afterwards: by hand for the main table (rtree_write), by the module's
 * INSERT ... SELECT for the small extra layers (rtree_fill_sql). */
static gf_status create_rtree(gf_gpkg *g, gf_ctx *ctx, const char *t)
{
    return execf(g, ctx, sqlite3_mprintf(
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

static gf_status rtree_fill_sql(gf_gpkg *g, gf_ctx *ctx, const char *t)
{
    return execf(g, ctx, sqlite3_mprintf(
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

static gf_status create_rejects(gf_gpkg *g, gf_ctx *ctx)
{
    /* One `rejects` table per file: with --append the new run's rejects are
     * added to it (the `layer` column tells them apart) through a staging
     * table copied at finish(), unless a table of that name is not ours,
     * then "<layer>_rejects". */
    static const char *cols = "(fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, layer TEXT, source TEXT, "
                              "line INTEGER, reason TEXT, raw TEXT)";
    snprintf(g->rejtable, sizeof g->rejtable, "rejects");
    if (table_exists(g->db, g->rejtable) && !has_rejects_columns(g->db, g->rejtable))
        snprintf(g->rejtable, sizeof g->rejtable, "%.240s_rejects", g->table);
    if (table_exists(g->db, g->rejtable)) {
        if (!has_rejects_columns(g->db, g->rejtable))
            return gf_ctx_err(ctx, GF_ERR_ARG, "%s: a table called '%s' already exists and is not a rejects table", g->path, g->rejtable);
        snprintf(g->rejwrite, sizeof g->rejwrite, "geoflux_rejects_staging");
        return execf(g, ctx, sqlite3_mprintf("DROP TABLE IF EXISTS \"%w\"; CREATE TABLE \"%w\" %s", g->rejwrite, g->rejwrite, cols));
    }
    snprintf(g->rejwrite, sizeof g->rejwrite, "%s", g->rejtable);
    return execf(g, ctx, sqlite3_mprintf(
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
static gf_status find_roots(gf_gpkg *g, gf_ctx *ctx)
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

static gf_status begin_inner(gf_gpkg *g, gf_ctx *ctx, const gf_schema *schema)
{
    gf_status st;
    g->schema = schema;
    if (g->o.layer) snprintf(g->table, sizeof g->table, "%s", g->o.layer);
    else default_layer_name(schema, g->table, sizeof g->table);

    /* last_change: SOURCE_DATE_EPOCH when set, so that a rebuild gives the same bytes */
    time_t now;
    if ((st = gf_output_time(ctx, &now))) return st;
    struct tm tmv;
    gmtime_r(&now, &tmv);
    strftime(g->last_change, sizeof g->last_change, "%Y-%m-%dT%H:%M:%S.000Z", &tmv);

    /* an empty file is a new database to SQLite */
    if ((st = gf_atomic_create(ctx, g->path, GF_ATOMIC_SQLITE, &g->out)) || (st = gf_atomic_close(ctx, &g->out))) return st;
    int existing = g->o.append && access(g->path, F_OK) == 0;
    if (existing && (st = copy_db(ctx, g->path, g->out.tmp))) return st;
    if ((st = open_db(g, ctx))) return st;
    char pragmas[512];
    snprintf(pragmas, sizeof pragmas,
             "%sPRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA locking_mode = EXCLUSIVE; "
             "PRAGMA cache_size = -%d; PRAGMA temp_store = FILE;",
             existing ? "" : "PRAGMA page_size = " GF_STR(GPKG_PAGE_SIZE) "; ", GPKG_CACHE_KIB);
    if ((st = exec(g, ctx, pragmas))) return st;
    if (existing) {
        sqlite3_stmt *s = NULL;
        int app = 0;
        if (sqlite3_prepare_v2(g->db, "PRAGMA application_id", -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
            app = sqlite3_column_int(s, 0);
        sqlite3_finalize(s);
        if (app != GPKG_APP_ID && app != 0x47503130 && app != 0x47503131)
            return gf_ctx_err(ctx, GF_ERR_ARG, "%s: --append: not a GeoPackage (application_id 0x%08x)", g->path, (unsigned)app);
    } else {
        char p2[128];
        snprintf(p2, sizeof p2, "PRAGMA application_id = %d; PRAGMA user_version = %d;", GPKG_APP_ID, GPKG_USER_VERSION);
        if ((st = exec(g, ctx, p2))) return st;
    }
    if ((st = exec(g, ctx, "BEGIN"))) return st;
    if ((st = create_meta(g, ctx))) return st;
    if (table_exists(g->db, g->table))
        return gf_ctx_err(ctx, GF_ERR_ARG, "%s: a table called '%s' already exists (use --layer to pick another name)",
                          g->path, g->table);

    /* the feature table: typed columns from the schema, then errors/warnings */
    char names[GF_MAX_FIELDS + 2][96];
    int nc = 0;
    sqlite3_str *ddl = sqlite3_str_new(g->db);
    sqlite3_str_appendf(ddl, "CREATE TABLE \"%w\" (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom POINT", g->table);
    for (int f = 0; f < schema->nfields + 2; f++) {
        const char *want = f < schema->nfields ? schema->fields[f].name : f == schema->nfields ? "errors" : "warnings";
        unique_name(names, nc, want, names[nc]);
        sqlite3_str_appendf(ddl, ", \"%w\" %s", names[nc], f < schema->nfields ? type_sql(schema->fields[f].type) : "TEXT");
        nc++;
    }
    sqlite3_str_appendall(ddl, ")");
    char *ddl_s = sqlite3_str_finish(ddl);
    if (!ddl_s) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    st = exec(g, ctx, ddl_s);
    sqlite3_free(ddl_s);
    if (st || (st = add_feature_table(g, ctx, g->table, "POINT", g->srs_id)) || (st = create_rejects(g, ctx)) ||
        (st = create_rtree(g, ctx, g->table)) || (st = find_roots(g, ctx)) || (st = exec(g, ctx, "COMMIT")))
        return st;
    /* SQLite is done with the file until finish(): the rows go in by hand */
    if (sqlite3_close(g->db) != SQLITE_OK) return sql_err(g, ctx, "close");
    g->db = NULL;
    if ((st = gf_sqlfile_open(ctx, g->out.tmp, g->path, 0, &g->file))) return st;
    g->file_open = 1;
    if ((st = gf_sqlbt_init(ctx, &g->bt_main, &g->file, g->root_main)) ||
        (st = gf_sqlbt_init(ctx, &g->bt_rej, &g->file, g->root_rej)))
        return st;
    return GF_OK;
}

/* GDAL (CRS definitions, extra layers) reports through our errors, not stderr */
static gf_status begin(void *stv, gf_ctx *ctx, const gf_schema *schema, int nworkers)
{
    gf_gpkg *g = stv;
    if (schema->nfields + 4 > GF_SQLREC_MAXCOLS) return gf_ctx_err(ctx, GF_ERR_UNSUPPORTED, "%s: too many columns", g->path);
    g->rec = calloc((size_t)(nworkers > 0 ? nworkers : 1), sizeof *g->rec);
    if (!g->rec) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    g->ents_max = g->o.max_memory ? g->o.max_memory / 64 : GPKG_RTREE_MAX;
    if (g->ents_max < 1024) g->ents_max = 1024;
    gf_gdal_enter(&g->ge, ctx);
    gf_status st = begin_inner(g, ctx, schema);
    gf_gdal_leave(&g->ge);
    return st;
}

/* ---- per batch ------------------------------------------------------------ */

/* A position the file can hold (a failed reprojection leaves NaN). */
static int has_pos(const gf_batch *b, size_t r)
{
    return (b->flags[r] & GF_ROW_HAS_POS) && isfinite(b->gx[r]) && isfinite(b->gy[r]);
}

/* Worker side: each row's whole SQLite record (fid NULL: it is the rowid,
 * given at commit; geometry blob; typed fields; errors; warnings), each
 * after its length, so that commit() only copies records into pages. */
static gf_status encode(void *stv, gf_ctx *ctx, int worker, const gf_batch *b, gf_buf *out)
{
    gf_gpkg *g = stv;
    (void)worker;
    gf_status cst = gf_batch_expect(b, ctx, g->schema, 1, GF_COL_TYPED, "GeoPackage writer");
    if (cst) return cst;
    const gf_schema *s = b->schema;
    const int nf = s->nfields;
    gf_sqlrec *rec = &g->rec[worker];
    for (size_t r = 0; r < b->n; r++) {
        unsigned char gp[GP_POINT_LEN];
        gf_sqlrec_reset(rec, g->file.fmt4);
        gf_sqlrec_null(rec);
        if (has_pos(b, r)) {
            double x = b->gx[r], y = b->gy[r], env[4] = {x, x, y, y};
            gp_header(gp, g->srs_id, env, 0);
            gp[40] = 1; /* WKB little-endian Point */
            put_u32le(gp + 41, 1);
            put_f64le(gp + 45, x);
            put_f64le(gp + 53, y);
            gf_sqlrec_blob(rec, gp, GP_POINT_LEN);
        } else {
            gf_sqlrec_null(rec);
        }
        for (int f = 0; f < nf; f++) {
            const gf_col *c = &b->cols[f];
            if (!c->valid[r]) { gf_sqlrec_null(rec); continue; }
            switch (s->fields[f].type) {
            case GF_T_STRING:
            case GF_T_DATE: gf_sqlrec_text(rec, b->arena + c->v.s[r].off, c->v.s[r].len); break;
            case GF_T_INT: gf_sqlrec_int(rec, c->v.i[r]); break;
            case GF_T_BOOL: gf_sqlrec_int(rec, c->v.i[r] != 0); break;
            case GF_T_REAL: gf_sqlrec_real(rec, c->v.d[r]); break;
            }
        }
        if (b->errors[r].len) gf_sqlrec_text(rec, b->arena + b->errors[r].off, b->errors[r].len);
        else gf_sqlrec_null(rec);
        if (b->warnings[r].len) gf_sqlrec_text(rec, b->arena + b->warnings[r].off, b->warnings[r].len);
        else gf_sqlrec_null(rec);
        size_t n = gf_sqlrec_size(rec);
        if (n > UINT32_MAX) return gf_ctx_err(ctx, GF_ERR_ARG, "%s: row of line %llu is too large", g->path, (unsigned long long)b->line[r]);
        gf_status st = gf_buf_reserve(out, 4 + n);
        if (st) return st;
        uint32_t n32 = (uint32_t)n;
        memcpy(out->p + out->len, &n32, 4);
        gf_sqlrec_write(rec, (uint8_t *)out->p + out->len + 4);
        out->len += 4 + n;
    }
    return GF_OK;
}

static const char *input_name(const gf_gpkg *g, uint32_t src, char *tmp, size_t n)
{
    if (g->inputs && (int)src < g->ninputs) return g->inputs[src];
    snprintf(tmp, n, "#%u", (unsigned)src);
    return tmp;
}

static gf_status commit_rejects(gf_gpkg *g, gf_ctx *ctx, const gf_batch *b)
{
    /* input order, as in the rejects CSV (stages reject at different times) */
    size_t *ord = malloc(b->nrej * sizeof *ord);
    if (!ord) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < b->nrej; i++) {
        size_t j = i;
        while (j > 0 && (b->rej[ord[j - 1]].src > b->rej[i].src ||
                         (b->rej[ord[j - 1]].src == b->rej[i].src && b->rej[ord[j - 1]].line > b->rej[i].line))) {
            ord[j] = ord[j - 1];
            j--;
        }
        ord[j] = i;
    }
    gf_status st = GF_OK;
    char tmp[32];
    gf_sqlrec *rec = &g->rec_rej;
    for (size_t k = 0; k < b->nrej && !st; k++) {
        const gf_reject *j = &b->rej[ord[k]];
        const char *src = input_name(g, j->src, tmp, sizeof tmp);
        gf_sqlrec_reset(rec, g->file.fmt4);
        gf_sqlrec_null(rec);
        gf_sqlrec_text(rec, g->table, strlen(g->table));
        gf_sqlrec_text(rec, src, strlen(src));
        gf_sqlrec_int(rec, (int64_t)j->line);
        gf_sqlrec_text(rec, b->arena + j->reason.off, j->reason.len);
        gf_sqlrec_text(rec, b->arena + j->raw.off, j->raw.len);
        size_t n = gf_sqlrec_size(rec);
        if (n > g->rejcap) {
            uint8_t *nb = realloc(g->rejbuf, n);
            if (!nb) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); break; }
            g->rejbuf = nb;
            g->rejcap = n;
        }
        gf_sqlrec_write(rec, g->rejbuf);
        st = gf_sqlbt_add(ctx, &g->bt_rej, (int64_t)++g->nrej, g->rejbuf, n);
    }
    free(ord);
    return st;
}

static gf_status rtree_spill(gf_gpkg *g, gf_ctx *ctx);

/* Extent, and the box kept for the R-tree. */
static gf_status note_row(gf_gpkg *g, gf_ctx *ctx, const gf_batch *b, size_t r, int64_t fid)
{
    if (!has_pos(b, r)) return GF_OK;
    double x = b->gx[r], y = b->gy[r];
    if (x < g->minx) g->minx = x;
    if (x > g->maxx) g->maxx = x;
    if (y < g->miny) g->miny = y;
    if (y > g->maxy) g->maxy = y;
    g->npos++;
    if (g->nents == g->ents_max) {
        gf_status st = rtree_spill(g, ctx);
        if (st) return st;
    }
    if (g->nents == g->entcap) {
        size_t cap = g->entcap ? g->entcap * 2 : 1 << 16;
        if (cap > g->ents_max) cap = g->ents_max;
        rt_ent *ne = realloc(g->ents, cap * sizeof *ne);
        if (!ne) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory (R-tree boxes; lower --max-memory)");
        g->ents = ne;
        g->entcap = cap;
    }
    rt_ent *e = &g->ents[g->nents++];
    e->id = fid;
    e->b[0] = f_down(x); e->b[1] = f_up(x);
    e->b[2] = f_down(y); e->b[3] = f_up(y);
    return GF_OK;
}

static gf_status commit(void *stv, gf_ctx *ctx, const gf_batch *b, const gf_buf *enc)
{
    gf_gpkg *g = stv;
    const uint8_t *p = (const uint8_t *)enc->p;
    for (size_t r = 0; r < b->n; r++) {
        uint32_t n;
        memcpy(&n, p, 4);
        int64_t fid = (int64_t)++g->nrows;
        gf_status st = gf_sqlbt_add(ctx, &g->bt_main, fid, p + 4, n);
        if (st) return st;
        if ((st = note_row(g, ctx, b, r, fid))) return st;
        p += 4 + n;
    }
    return b->nrej ? commit_rejects(g, ctx, b) : GF_OK;
}

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
    return mixed ? wkbUnknown : t == wkbNone ? wkbUnknown : t;
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

static gf_status import_layer(gf_gpkg *g, gf_ctx *ctx, const gf_extra_layer *xl)
{
    if (!xl->name || !xl->name[0] || !xl->path)
        return gf_ctx_err(ctx, GF_ERR_ARG, "%s: extra layer without a name or path", g->path);
    if (table_exists(g->db, xl->name))
        return gf_ctx_err(ctx, GF_ERR_ARG, "%s: a table called '%s' already exists", g->path, xl->name);
    GDALAllRegister();
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
        unique_name(names, i, OGR_Fld_GetNameRef(fd), names[i]);
        sqlite3_str_appendf(ddl, ", \"%w\" %s", names[i], ogr_field_sql(fd));
        sqlite3_str_appendf(ins, ", \"%w\"", names[i]);
    }
    sqlite3_str_appendall(ddl, ")");
    sqlite3_str_appendall(ins, ") VALUES (?");
    for (int i = 0; i < nf; i++) sqlite3_str_appendall(ins, ", ?");
    sqlite3_str_appendall(ins, ")");
    char *ddl_s = sqlite3_str_finish(ddl), *ins_s = sqlite3_str_finish(ins);
    if (!ddl_s || !ins_s) st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    if (!st) st = exec(g, ctx, ddl_s);
    if (!st && sqlite3_prepare_v2(g->db, ins_s, -1, &q, NULL) != SQLITE_OK) st = sql_err(g, ctx, "prepare extra layer insert");
    sqlite3_free(ddl_s);
    sqlite3_free(ins_s);
    if (st) goto done;
    if ((st = add_feature_table(g, ctx, xl->name, gpkg_gtype(gt), g->srs_id))) goto done;

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
            gp_header(buf, g->srs_id, empty ? NULL : env, empty);
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
        if (sqlite3_step(q) != SQLITE_DONE) st = sql_err(g, ctx, "insert into extra layer");
        sqlite3_reset(q);
        n++;
    }
    if (!st && ext[0] <= ext[1])
        st = execf(g, ctx, sqlite3_mprintf("UPDATE gpkg_contents SET min_x = %!.17g, max_x = %!.17g, min_y = %!.17g, "
                                           "max_y = %!.17g WHERE table_name = %Q", ext[0], ext[1], ext[2], ext[3], xl->name));
    if (!st && !(st = create_rtree(g, ctx, xl->name))) st = rtree_fill_sql(g, ctx, xl->name);
    if (!st) gf_ctx_log(ctx, GF_LOG_INFO, "%s: layer %s: %llu features from %s", g->path, xl->name, (unsigned long long)n, xl->path);
done:
    sqlite3_finalize(q);
    free(buf);
    if (ct) OCTDestroyCoordinateTransformation(ct);
    if (!xl->dataset) GDALClose(ds); /* a dataset in memory is the caller's */
    return st;
}

/* ---- finish -------------------------------------------------------------- */

/* ---- R-tree ---------------------------------------------------------------
 * SQLite's rtree module inserts one entry at a time (about 12 us each on
 * the bench machine, more than the whole table load), so the main table's
 * R-tree is bulk-loaded, as GDAL >= 3.7 does: the boxes kept at commit are
 * sorted along a Hilbert curve (radix sort), packed into
 * full nodes level by level, and the rtree's shadow tables (_node, _parent,
 * _rowid) are written in the module's node format with the same
 * hand-written b-trees as the rows. Memory: 24 bytes per feature kept at
 * commit, up to 64 at finish(); past the budget (--max-memory / 64, else
 * GPKG_RTREE_MAX features) the boxes are sorted and spilled as runs and
 * merged at the end (see rtree_spill). tests/cli/gpkg.sh checks both ways
 * with rtreecheck(), the validator and spatial filters against brute
 * force. */

/* Hilbert key of a box centre over dom (minx, maxx, miny, maxy) on a
 * 2^bits grid per axis (bits: 16 or 32). */
static uint64_t centre_key(const rt_ent *e, int bits, const double dom[4])
{
    const double q = bits == 32 ? 4294967295.0 : 65535.0;
    const double sx = dom[1] > dom[0] ? q / (dom[1] - dom[0]) : 0, sy = dom[3] > dom[2] ? q / (dom[3] - dom[2]) : 0;
    double fx = (((double)e->b[0] + e->b[1]) / 2 - dom[0]) * sx, fy = (((double)e->b[2] + e->b[3]) / 2 - dom[2]) * sy;
    uint32_t hx = fx <= 0 ? 0 : fx >= q ? (uint32_t)q : (uint32_t)fx, hy = fy <= 0 ? 0 : fy >= q ? (uint32_t)q : (uint32_t)fy;
    return gf_hilbert_xy2d(bits, hx, hy);
}

static void put_be(unsigned char *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8) p[i] = (unsigned char)v;
}

/* ---- past the memory budget: sorted runs on disk ---------------------------
 * Every ents_max boxes, the buffer is sorted along a Hilbert curve over a
 * fixed domain (the extent is not known yet: the CRS's, 32 bits per axis,
 * so about 1 cm in degrees or 3 cm in metres) and written to an unlinked
 * scratch file. At finish() the runs are merged twice (leaf boxes first,
 * since the module wants the root as node 1 and the leaves last; then the
 * leaves themselves), and _rowid is written run by run: runs hold
 * consecutive fids, so one run's fid -> leaf table fits the same budget. */

typedef struct rt_rec { uint64_t key; uint32_t fid; float b[4]; } rt_rec;

#define RUN_BUF 1024 /* records (and leaf ids) buffered per run while merging */

/* A run: records [off, off + n) of the runs file, sorted; its leaf ids go
 * to the same positions of the leaf file. Two scratch files in all,
 * whatever the number of runs. */
typedef struct rt_run {
    uint64_t off, n, pos;    /* pos: next record to read */
    uint32_t fmin, fmax;
    rt_rec *buf;
    size_t bn, bi;
    uint32_t *lbuf;
    size_t ln;
    uint64_t lpos;           /* leaf ids written so far */
    rt_rec head;
    int has;
} rt_run;

static gf_status pio(gf_gpkg *g, gf_ctx *ctx, int wr, int fd, void *p, size_t n, uint64_t off)
{
    int e = gf_pio(fd, wr, p, n, off);
    return e ? gf_ctx_err(ctx, GF_ERR_IO, "%s: R-tree scratch file: %s", g->path, strerror(e)) : GF_OK;
}

/* Sorts the buffered boxes and appends them to the runs file as one more run. */
static gf_status rtree_spill(gf_gpkg *g, gf_ctx *ctx)
{
    if (!g->nents) return GF_OK;
    gf_status st;
    if (!g->nruns && ((st = gf_scratch_open(ctx, g->o.tmpdir, g->path, &g->runs_fd)) ||
                      (st = gf_scratch_open(ctx, g->o.tmpdir, g->path, &g->leaf_fd))))
        return st;
    rt_run *nr = realloc(g->runs, (size_t)(g->nruns + 1) * sizeof *nr);
    if (!nr) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    g->runs = nr;
    rt_run *run = memset(&g->runs[g->nruns++], 0, sizeof *run);
    run->off = g->nspilled;
    run->n = g->nents;
    run->fmin = (uint32_t)g->ents[0].id;
    run->fmax = (uint32_t)g->ents[g->nents - 1].id;
    if (g->ents[g->nents - 1].id > UINT32_MAX)
        return gf_ctx_err(ctx, GF_ERR_UNSUPPORTED, "%s: more than 4 billion features", g->path);
    /* the CRS's domain: degrees, else metres within +-2^26 */
    const double dom[4] = {g->o.srs_geographic ? -180 : -67108864.0, g->o.srs_geographic ? 180 : 67108864.0,
                           g->o.srs_geographic ? -90 : -67108864.0, g->o.srs_geographic ? 90 : 67108864.0};
    /* a run needs 64-bit keys (the CRS's whole domain), so the box index
     * travels beside its key */
    uint64_t *pk = malloc(g->nents * sizeof *pk);
    uint32_t *pi = malloc(g->nents * sizeof *pi);
    rt_rec *out = malloc(RUN_BUF * sizeof *out);
    if (!pk || !pi || !out) { free(pk); free(pi); free(out); return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); }
    for (size_t i = 0; i < g->nents; i++) { pk[i] = centre_key(&g->ents[i], 32, dom); pi[i] = (uint32_t)i; }
    if ((st = gf_radix_sort_u64(ctx, pk, pi, g->nents, 0))) { free(pk); free(pi); free(out); return st; }
    for (size_t i = 0; i < g->nents && !st; i += RUN_BUF) {
        size_t k = g->nents - i < RUN_BUF ? g->nents - i : RUN_BUF;
        for (size_t j = 0; j < k; j++) {
            const rt_ent *e = &g->ents[pi[i + j]];
            memset(&out[j], 0, sizeof out[j]); /* padding too: same scratch bytes every run */
            out[j].key = pk[i + j];
            out[j].fid = (uint32_t)e->id;
            memcpy(out[j].b, e->b, sizeof e->b);
        }
        st = pio(g, ctx, 1, g->runs_fd, out, k * sizeof *out, (run->off + i) * sizeof *out);
    }
    free(pk);
    free(pi);
    free(out);
    g->nspilled += g->nents;
    g->nents = 0;
    return st;
}

static gf_status run_read(gf_gpkg *g, gf_ctx *ctx, rt_run *r)
{
    if (r->bi == r->bn) {
        r->bn = r->n - r->pos < RUN_BUF ? (size_t)(r->n - r->pos) : RUN_BUF;
        r->bi = 0;
        if (!r->bn) { r->has = 0; return GF_OK; }
        if (!r->buf && !(r->buf = malloc(RUN_BUF * sizeof *r->buf))) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        gf_status st = pio(g, ctx, 0, g->runs_fd, r->buf, r->bn * sizeof *r->buf, (r->off + r->pos) * sizeof *r->buf);
        if (st) return st;
        r->pos += r->bn;
    }
    r->head = r->buf[r->bi++];
    r->has = 1;
    return GF_OK;
}

static int run_less(const rt_run *a, const rt_run *b)
{
    return a->head.key < b->head.key || (a->head.key == b->head.key && a->head.fid < b->head.fid);
}

/* The merge keeps a binary min-heap of the runs that still have records. */
static void heap_down(gf_gpkg *g, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < g->nheap && run_less(&g->runs[g->heap[l]], &g->runs[g->heap[m]])) m = l;
        if (r < g->nheap && run_less(&g->runs[g->heap[r]], &g->runs[g->heap[m]])) m = r;
        if (m == i) return;
        int t = g->heap[i]; g->heap[i] = g->heap[m]; g->heap[m] = t;
        i = m;
    }
}

static gf_status runs_rewind(gf_gpkg *g, gf_ctx *ctx)
{
    if (!g->heap && !(g->heap = malloc((size_t)g->nruns * sizeof *g->heap))) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    g->nheap = 0;
    for (int i = 0; i < g->nruns; i++) {
        rt_run *r = &g->runs[i];
        r->pos = 0;
        r->bn = r->bi = 0;
        gf_status st = run_read(g, ctx, r);
        if (st) return st;
        if (r->has) g->heap[g->nheap++] = i;
    }
    for (int i = g->nheap / 2 - 1; i >= 0; i--) heap_down(g, i);
    return GF_OK;
}

/* Next record of the merge in (key, fid) order: 1 with *out and its run, 0 at the end or on error (*st). */
static int runs_next(gf_gpkg *g, gf_ctx *ctx, rt_rec *out, int *which, gf_status *st)
{
    *st = GF_OK;
    if (!g->nheap) return 0;
    int i = g->heap[0];
    rt_run *r = &g->runs[i];
    *out = r->head;
    *which = i;
    if ((*st = run_read(g, ctx, r))) return 0;
    if (!r->has) g->heap[0] = g->heap[--g->nheap];
    heap_down(g, 0);
    return 1;
}

/* Leaf ids of a run, in its record order, buffered. */
static gf_status leaf_put(gf_gpkg *g, gf_ctx *ctx, rt_run *r, uint32_t leaf)
{
    if (!r->lbuf && !(r->lbuf = malloc(RUN_BUF * sizeof *r->lbuf))) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    r->lbuf[r->ln++] = leaf;
    if (r->ln < RUN_BUF) return GF_OK;
    gf_status st = pio(g, ctx, 1, g->leaf_fd, r->lbuf, r->ln * sizeof *r->lbuf, (r->off + r->lpos) * sizeof *r->lbuf);
    r->lpos += r->ln;
    r->ln = 0;
    return st;
}

static gf_status leaf_flush(gf_gpkg *g, gf_ctx *ctx)
{
    for (int i = 0; i < g->nruns; i++) {
        rt_run *r = &g->runs[i];
        if (!r->ln) continue;
        gf_status st = pio(g, ctx, 1, g->leaf_fd, r->lbuf, r->ln * sizeof *r->lbuf, (r->off + r->lpos) * sizeof *r->lbuf);
        if (st) return st;
        r->lpos += r->ln;
        r->ln = 0;
    }
    return GF_OK;
}

static void runs_free(gf_gpkg *g)
{
    for (int i = 0; i < g->nruns; i++) {
        free(g->runs[i].buf);
        free(g->runs[i].lbuf);
    }
    if (g->nruns) {
        close(g->runs_fd);
        close(g->leaf_fd);
    }
    free(g->runs);
    free(g->heap);
    g->runs = NULL;
    g->heap = NULL;
    g->nruns = g->nheap = 0;
}

/* Cell i of an rtree node: id, then the box as big-endian float32s. */
static void node_cell(unsigned char *blob, size_t i, int64_t id, const float b[4])
{
    unsigned char *p = blob + 4 + i * 24;
    put_be(p, (uint64_t)id, 8);
    for (int j = 0; j < 4; j++) {
        uint32_t u;
        memcpy(&u, &b[j], 4);
        put_be(p + 8 + 4 * j, u, 4);
    }
}

static void box_add(float *b, const float *c)
{
    if (c[0] < b[0]) b[0] = c[0];
    if (c[1] > b[1]) b[1] = c[1];
    if (c[2] < b[2]) b[2] = c[2];
    if (c[3] > b[3]) b[3] = c[3];
}

/* Adds one (rowid, columns...) record built by the caller to t. */
static gf_status add_rec(gf_ctx *ctx, gf_sqlbt *t, int64_t rowid, const gf_sqlrec *rec, uint8_t *buf)
{
    size_t n = gf_sqlrec_write(rec, buf);
    return gf_sqlbt_add(ctx, t, rowid, buf, n);
}

/* The boxes in R-tree order: the sorted in-memory array, or the merge of
 * the spilled runs. */
typedef struct rt_iter { gf_gpkg *g; const uint64_t *key; size_t i, n; } rt_iter;

static gf_status it_rewind(rt_iter *it, gf_ctx *ctx)
{
    it->i = 0;
    return it->key ? GF_OK : runs_rewind(it->g, ctx);
}

/* 1 and the next box (feature id, box, run it came from, -1 in memory);
 * 0 at the end or on error (*st). */
static int it_next(rt_iter *it, gf_ctx *ctx, int64_t *id, float b[4], int *run, gf_status *st)
{
    *st = GF_OK;
    if (it->key) {
        if (it->i >= it->n) return 0;
        const rt_ent *e = &it->g->ents[it->key[it->i++] & 0xffffffffu];
        *id = e->id;
        memcpy(b, e->b, sizeof e->b);
        *run = -1;
        return 1;
    }
    rt_rec r;
    if (!runs_next(it->g, ctx, &r, run, st)) return 0;
    *id = r.fid;
    memcpy(b, r.b, sizeof r.b);
    return 1;
}

/* _rowid rows of one spilled run: its fids are consecutive, so a table
 * indexed by fid - fmin (the run's size at most) puts them in order. */
static gf_status rowid_run(gf_gpkg *g, gf_ctx *ctx, rt_run *r, gf_sqlbt *br, uint8_t *buf)
{
    uint32_t span = r->fmax - r->fmin + 1;
    uint32_t *leaf = calloc(span, sizeof *leaf), *lb = malloc(RUN_BUF * sizeof *lb);
    rt_rec *rb = malloc(RUN_BUF * sizeof *rb);
    gf_status st = leaf && lb && rb ? GF_OK : gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    for (uint64_t k = 0; k < r->n && !st; k += RUN_BUF) {
        size_t c = r->n - k < RUN_BUF ? (size_t)(r->n - k) : RUN_BUF;
        if ((st = pio(g, ctx, 0, g->runs_fd, rb, c * sizeof *rb, (r->off + k) * sizeof *rb)) ||
            (st = pio(g, ctx, 0, g->leaf_fd, lb, c * sizeof *lb, (r->off + k) * sizeof *lb)))
            break;
        for (size_t j = 0; j < c; j++) leaf[rb[j].fid - r->fmin] = lb[j];
    }
    gf_sqlrec rec;
    for (uint32_t i = 0; i < span && !st; i++) {
        if (!leaf[i]) continue;
        gf_sqlrec_reset(&rec, g->file.fmt4);
        gf_sqlrec_null(&rec);
        gf_sqlrec_int(&rec, leaf[i]);
        st = add_rec(ctx, br, (int64_t)r->fmin + i, &rec, buf);
    }
    free(leaf);
    free(lb);
    free(rb);
    return st;
}

static gf_status rtree_write(gf_gpkg *g, gf_ctx *ctx)
{
    const size_t m = (size_t)(g->nodesz - 4) / 24;
    gf_status st = GF_OK;
    uint64_t *key = NULL;
    uint32_t *leafof = NULL;
    float (*box[40])[4] = {0};
    size_t nn[40] = {0};
    int64_t base[40] = {0};
    uint8_t *blob = calloc(1, (size_t)g->nodesz), *buf = malloc((size_t)g->nodesz + 64);
    gf_sqlbt bn = {0}, bp = {0}, br = {0};
    gf_sqlrec rec;
    rt_iter it = {.g = g};
    int top = 0;
    size_t n;
    if (!blob || !buf) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto out; }
    if (g->nruns) { /* past the budget: the rest joins the runs on disk */
        if ((st = rtree_spill(g, ctx))) goto out;
        n = g->nspilled;
    } else {
        n = g->nents;
        if (n == 0) goto out; /* the empty root written by CREATE VIRTUAL TABLE is right */
        /* Hilbert order of the box centres over the layer's extent; ties keep fid order */
        const double ext[4] = {g->minx, g->maxx, g->miny, g->maxy};
        key = malloc(n * sizeof *key);
        leafof = calloc(g->nrows, sizeof *leafof);
        if (!key || !leafof) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto out; }
        /* the 32-bit key and the box index in one u64 (16 bytes a feature
         * with the sort's scratch copy): only the key bits are sorted */
        for (size_t i = 0; i < n; i++) key[i] = centre_key(&g->ents[i], 16, ext) << 32 | i;
        if ((st = gf_radix_sort_u64(ctx, key, NULL, n, 32))) goto out;
        it.key = key;
        it.n = n;
    }

    /* level sizes, and the leaf boxes (pass 1) */
    nn[0] = (n + m - 1) / m;
    for (int L = 0; nn[L] > 1; L++) {
        if (L >= 38) { st = gf_ctx_err(ctx, GF_ERR_INTERNAL, "R-tree too deep"); goto out; }
        nn[L + 1] = (nn[L] + m - 1) / m;
        top = L + 1;
    }
    base[top] = 1; /* the root is node 1 (the module's rule), then each level below */
    for (int L = top; L > 0; L--) base[L - 1] = base[L] + (int64_t)nn[L];
    for (int L = 0; L <= top; L++) {
        if (!(box[L] = malloc(nn[L] * sizeof *box[L]))) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto out; }
        for (size_t k = 0; k < nn[L]; k++) {
            box[L][k][0] = box[L][k][2] = INFINITY;
            box[L][k][1] = box[L][k][3] = -INFINITY;
        }
    }
    if ((st = it_rewind(&it, ctx))) goto out;
    {
        int64_t id;
        float b[4];
        int run;
        for (size_t i = 0; it_next(&it, ctx, &id, b, &run, &st); i++) {
            uint32_t leaf = (uint32_t)(base[0] + (int64_t)(i / m));
            box_add(box[0][i / m], b);
            if (run < 0) {
                leafof[id - 1] = leaf;
            } else if ((st = leaf_put(g, ctx, &g->runs[run], leaf))) {
                goto out;
            }
        }
        if (st || (g->nruns && (st = leaf_flush(g, ctx)))) goto out;
    }
    for (int L = 1; L <= top; L++)
        for (size_t i = 0; i < nn[L - 1]; i++) box_add(box[L][i / m], box[L - 1][i]);

    if ((st = gf_sqlbt_init(ctx, &bn, &g->file, g->root_node)) || (st = gf_sqlbt_init(ctx, &bp, &g->file, g->root_parent)) ||
        (st = gf_sqlbt_init(ctx, &br, &g->file, g->root_rowid)))
        goto out;
    /* _node, in node number order: the root, the levels down, the leaves (pass 2) */
    if ((st = it_rewind(&it, ctx))) goto out;
    for (int L = top; L >= 0 && !st; L--) {
        size_t nitems = L == 0 ? n : nn[L - 1];
        for (size_t k = 0; k < nn[L] && !st; k++) {
            size_t nc = nitems - k * m < m ? nitems - k * m : m;
            memset(blob, 0, (size_t)g->nodesz);
            if (L == top) put_be(blob, (uint64_t)top, 2); /* depth, in the root only */
            put_be(blob + 2, nc, 2);
            for (size_t i = 0; i < nc; i++) {
                if (L > 0) { node_cell(blob, i, base[L - 1] + (int64_t)(k * m + i), box[L - 1][k * m + i]); continue; }
                int64_t id;
                float b[4];
                int run;
                if (!it_next(&it, ctx, &id, b, &run, &st)) {
                    if (!st) st = gf_ctx_err(ctx, GF_ERR_INTERNAL, "%s: R-tree: boxes went missing", g->path);
                    break;
                }
                node_cell(blob, i, id, b);
            }
            if (st) break;
            gf_sqlrec_reset(&rec, g->file.fmt4);
            gf_sqlrec_null(&rec);
            gf_sqlrec_blob(&rec, blob, (size_t)g->nodesz);
            st = add_rec(ctx, &bn, base[L] + (int64_t)k, &rec, buf);
        }
    }
    /* _parent: every node but the root, in node number order */
    for (int L = top - 1; L >= 0 && !st; L--)
        for (size_t k = 0; k < nn[L] && !st; k++) {
            gf_sqlrec_reset(&rec, g->file.fmt4);
            gf_sqlrec_null(&rec);
            gf_sqlrec_int(&rec, base[L + 1] + (int64_t)(k / m));
            st = add_rec(ctx, &bp, base[L] + (int64_t)k, &rec, buf);
        }
    /* _rowid: the leaf of every feature, in fid order */
    if (leafof) {
        for (uint64_t fid = 1; fid <= g->nrows && !st; fid++) {
            if (!leafof[fid - 1]) continue;
            gf_sqlrec_reset(&rec, g->file.fmt4);
            gf_sqlrec_null(&rec);
            gf_sqlrec_int(&rec, leafof[fid - 1]);
            st = add_rec(ctx, &br, (int64_t)fid, &rec, buf);
        }
    } else {
        for (int r = 0; r < g->nruns && !st; r++) st = rowid_run(g, ctx, &g->runs[r], &br, buf);
    }
    if (!st && !(st = gf_sqlbt_finish(ctx, &bn)) && !(st = gf_sqlbt_finish(ctx, &bp))) st = gf_sqlbt_finish(ctx, &br);
    if (!st && g->nruns)
        gf_ctx_log(ctx, GF_LOG_INFO, "%s: R-tree of %zu features from %d sorted runs on disk", g->path, n, g->nruns);
out:
    gf_sqlbt_free(&bn);
    gf_sqlbt_free(&bp);
    gf_sqlbt_free(&br);
    for (int L = 0; L < 40; L++) free(box[L]);
    free(key);
    free(leafof);
    free(blob);
    free(buf);
    runs_free(g);
    return st;
}

static void close_db(gf_gpkg *g)
{
    if (g->db) sqlite3_close(g->db);
    g->db = NULL;
}

static double since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

static gf_status finish_inner(gf_gpkg *g, gf_ctx *ctx)
{
    gf_status st;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* 1. by hand: the last pages of the rows and rejects, the R-tree */
    if ((st = gf_sqlbt_finish(ctx, &g->bt_main)) || (st = gf_sqlbt_finish(ctx, &g->bt_rej))) return st;
    if ((st = rtree_write(g, ctx))) return st;
    free(g->ents);
    g->ents = NULL;
    g->file_open = 0;
    if ((st = gf_sqlfile_close(ctx, &g->file))) return st;
    double t_rtree = since(&t0);

    /* 2. SQLite again: extent, AUTOINCREMENT sequences, staged rejects, extra layers */
    if ((st = open_db(g, ctx)) || (st = exec(g, ctx, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; BEGIN"))) return st;
    if (g->npos)
        st = execf(g, ctx, sqlite3_mprintf("UPDATE gpkg_contents SET min_x = %!.17g, min_y = %!.17g, max_x = %!.17g, "
                                           "max_y = %!.17g WHERE table_name = %Q", g->minx, g->miny, g->maxx, g->maxy, g->table));
    if (!st && g->nrows)
        st = execf(g, ctx, sqlite3_mprintf("INSERT INTO sqlite_sequence (name, seq) VALUES (%Q, %llu)", g->table,
                                           (unsigned long long)g->nrows));
    if (!st && strcmp(g->rejwrite, g->rejtable))
        st = execf(g, ctx, sqlite3_mprintf("INSERT INTO \"%w\" (layer, source, line, reason, raw) SELECT layer, source, line, "
                                           "reason, raw FROM \"%w\" ORDER BY fid; DROP TABLE \"%w\"",
                                           g->rejtable, g->rejwrite, g->rejwrite));
    else if (!st && g->nrej)
        st = execf(g, ctx, sqlite3_mprintf("INSERT INTO sqlite_sequence (name, seq) VALUES (%Q, %llu)", g->rejtable,
                                           (unsigned long long)g->nrej));
    for (int i = 0; !st && i < g->o.nextra_layers; i++) st = import_layer(g, ctx, &g->o.extra_layers[i]);
    if (!st) st = exec(g, ctx, "COMMIT");
    if (st) return st; /* the pipeline calls abort(), which removes the temporary file */
    if (sqlite3_close(g->db) != SQLITE_OK) return sql_err(g, ctx, "close");
    g->db = NULL;
    gf_ctx_log(ctx, GF_LOG_INFO, "%s: layer %s: %llu features, %llu rejects (pages and R-tree %.2f s, then %.2f s)", g->path,
               g->table, (unsigned long long)g->nrows, (unsigned long long)g->nrej, t_rtree, since(&t0) - t_rtree);
    return GF_OK; /* publish() renames it */
}

static gf_status finish(void *stv, gf_ctx *ctx)
{
    gf_gpkg *g = stv;
    gf_gdal_enter(&g->ge, ctx);
    gf_status st = finish_inner(g, ctx);
    gf_gdal_leave(&g->ge);
    return st;
}

static void sink_abort(void *stv)
{
    gf_gpkg *g = stv;
    close_db(g);
    if (g->file_open) gf_sqlfile_discard(&g->file);
    g->file_open = 0;
    gf_atomic_discard(&g->out);
}

static gf_status publish(void *stv, gf_ctx *ctx)
{
    gf_gpkg *g = stv;
    return gf_atomic_publish(ctx, &g->out);
}

static void destroy(void *stv)
{
    gf_gpkg *g = stv;
    if (!g) return;
    sink_abort(g);
    if (g->srs) OSRDestroySpatialReference(g->srs);
    gf_sqlbt_free(&g->bt_main);
    gf_sqlbt_free(&g->bt_rej);
    free(g->rec);
    free(g->rejbuf);
    free(g->ents);
    runs_free(g);
    gf_atomic_free(&g->out);
    free(g->path);
    free(g);
}

const gf_sink_vt gf_gpkg_sink_vt = {
    .name = "gpkg",
    .begin = begin,
    .encode = encode,
    .commit = commit,
    .finish = finish,
    .publish = publish,
    .abort = sink_abort,
    .destroy = destroy,
};
