/* GeoPackage 1.2 writer, through SQLite directly.
 *
 * Why not GDAL's GPKG driver: on the 1M-row extract (bench/gpkg.sh, numbers
 * in bench/README.md) `ogr2ogr -f GPKG -gt unlimited` spends its time in
 * OGRFeature building, per-row triggers (R-tree, feature count) and field
 * conversions; here a worker encodes the GeoPackage geometry blobs in
 * parallel, commit() only binds typed columns to one prepared INSERT inside
 * a single transaction (journal off, synchronous off: the file is a
 * temporary name until the rename, so a crash cannot corrupt a result), and
 * the R-tree is filled once at finish() with one INSERT ... SELECT, before
 * its triggers are created (so later edits in QGIS keep it in sync).
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

#include "geoflux/gpkg.h"

#define GPKG_APP_ID 0x47504B47 /* "GPKG" */
#define GPKG_USER_VERSION 10200
#define GP_POINT_LEN 61 /* 8 header + 32 envelope + 21 WKB point */
#define GPKG_PAGE_SIZE 65536
#define GPKG_RTREE_BULK_MAX 4000000 /* features whose boxes are kept for the R-tree bulk load (24 B each) */
#define GF_STR_(x) #x
#define GF_STR(x) GF_STR_(x)
#define GPKG_CACHE_KIB 32768 /* 32 MiB of page cache: bounded, keeps RSS < 150 MB */

typedef struct rt_ent {
    int64_t id; /* feature id (leaves) or node index in the level below */
    float b[4]; /* minx, maxx, miny, maxy */
} rt_ent;

typedef struct gf_gpkg {
    gf_output_opts o;
    char path[1024], tmp[1100], table[256], rejtable[256];
    const char *const *inputs;
    int ninputs;
    sqlite3 *db;
    sqlite3_stmt *ins, *insk, *rej; /* insert of 1 row, of `chunk` rows */
    int chunk, nparams;
    const gf_schema *schema;
    int srs_id;
    OGRSpatialReferenceH srs; /* output CRS, for extra layers */
    double minx, miny, maxx, maxy;
    uint64_t npos, nrows, nrej;
    int in_tx;
    char last_change[32];
    /* feature tables that get an R-tree at finish() */
    char rtree_tables[34][256];
    int nrtree;
    /* boxes of the main table, gathered at commit for the R-tree (saves
     * reading the table back); NULL once past GPKG_RTREE_BULK_MAX */
    rt_ent *ents;
    size_t nents, entcap;
    int ents_over;
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
    snprintf(g->path, sizeof g->path, "%s", opts->path);
    g->minx = g->miny = INFINITY;
    g->maxx = g->maxy = -INFINITY;
    *st = g;
    return GF_OK;
}

void gf_gpkg_set_inputs(void *st, const char *const *inputs, int ninputs)
{
    gf_gpkg *g = st;
    g->inputs = inputs;
    g->ninputs = ninputs;
}

static gf_status copy_file(gf_ctx *ctx, const char *from, const char *to)
{
    int in = open(from, O_RDONLY), out = -1;
    if (in < 0) return gf_ctx_err(ctx, GF_ERR_IO, "%s: %s", from, strerror(errno));
    out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0) {
        int e = errno;
        close(in);
        return gf_ctx_err(ctx, GF_ERR_IO, "%s: %s", to, strerror(e));
    }
    static const size_t bs = 1 << 20;
    char *buf = malloc(bs);
    gf_status st = buf ? GF_OK : gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    for (ssize_t n; !st && (n = read(in, buf, bs)) != 0;) {
        if (n < 0 || write(out, buf, (size_t)n) != n) st = gf_ctx_err(ctx, GF_ERR_IO, "copying %s to %s: %s", from, to, strerror(errno));
    }
    free(buf);
    close(in);
    if (close(out) != 0 && !st) st = gf_ctx_err(ctx, GF_ERR_IO, "%s: %s", to, strerror(errno));
    if (st) unlink(to);
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
    if (e != OGRERR_NONE) return gf_ctx_err(ctx, GF_ERR_GDAL, "%s: GDAL cannot read the output CRS: %s", g->path, CPLGetLastErrorMsg());
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

/* Registers a feature table; the R-tree comes at finish(). */
static gf_status add_feature_table(gf_gpkg *g, gf_ctx *ctx, const char *name, const char *gtype, int srs_id)
{
    gf_status st = execf(g, ctx, sqlite3_mprintf(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, srs_id) "
        "VALUES (%Q, 'features', %Q, '', %Q, %d);"
        "INSERT INTO gpkg_geometry_columns VALUES (%Q, 'geom', %Q, %d, 0, 0)",
        name, name, g->last_change, srs_id, name, gtype, srs_id));
    if (st) return st;
    if (g->nrtree >= (int)(sizeof g->rtree_tables / sizeof g->rtree_tables[0]))
        return gf_ctx_err(ctx, GF_ERR_ARG, "%s: too many layers", g->path);
    snprintf(g->rtree_tables[g->nrtree++], sizeof g->rtree_tables[0], "%s", name);
    return GF_OK;
}

static gf_status create_rejects(gf_gpkg *g, gf_ctx *ctx)
{
    /* One `rejects` table per file: with --append the new run's rejects are
     * added to it (the `layer` column tells them apart), unless a table of
     * that name is not ours, then "<layer>_rejects". */
    snprintf(g->rejtable, sizeof g->rejtable, "rejects");
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!table_exists(g->db, g->rejtable)) {
            gf_status st = execf(g, ctx, sqlite3_mprintf(
                "CREATE TABLE \"%w\" (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, layer TEXT, source TEXT, "
                "line INTEGER, reason TEXT, raw TEXT);"
                "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change) "
                "VALUES (%Q, 'attributes', %Q, 'rows rejected by geoflux: input, line, reason, raw text', %Q)",
                g->rejtable, g->rejtable, g->rejtable, g->last_change));
            if (st) return st;
        }
        char *sql = sqlite3_mprintf("INSERT INTO \"%w\" (layer, source, line, reason, raw) VALUES (?, ?, ?, ?, ?)", g->rejtable);
        if (!sql) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        int rc = sqlite3_prepare_v2(g->db, sql, -1, &g->rej, NULL);
        sqlite3_free(sql);
        if (rc == SQLITE_OK) return GF_OK;
        snprintf(g->rejtable, sizeof g->rejtable, "%.240s_rejects", g->table);
    }
    return sql_err(g, ctx, "cannot create the rejects table");
}

static gf_status begin_inner(gf_gpkg *g, gf_ctx *ctx, const gf_schema *schema)
{
    gf_status st;
    g->schema = schema;
    if (g->o.layer) snprintf(g->table, sizeof g->table, "%s", g->o.layer);
    else default_layer_name(schema, g->table, sizeof g->table);

    /* last_change: SOURCE_DATE_EPOCH when set, so that a rebuild gives the same bytes */
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    time_t now = sde && *sde ? (time_t)strtoll(sde, NULL, 10) : time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    strftime(g->last_change, sizeof g->last_change, "%Y-%m-%dT%H:%M:%S.000Z", &tmv);

    gf_atomic_tmpname(g->path, g->tmp, sizeof g->tmp);
    unlink(g->tmp);
    int existing = g->o.append && access(g->path, F_OK) == 0;
    if (existing && (st = copy_file(ctx, g->path, g->tmp))) return st;
    if (sqlite3_open_v2(g->tmp, &g->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        st = gf_ctx_err(ctx, GF_ERR_SQL, "%s: %s", g->tmp, g->db ? sqlite3_errmsg(g->db) : "cannot open");
        sqlite3_close(g->db);
        g->db = NULL;
        unlink(g->tmp);
        return st;
    }
    if (register_st(g->db)) return sql_err(g, ctx, "cannot register ST_ functions");
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
    g->in_tx = 1;
    if ((st = create_meta(g, ctx))) return st;
    if (table_exists(g->db, g->table))
        return gf_ctx_err(ctx, GF_ERR_ARG, "%s: a table called '%s' already exists (use --layer to pick another name)",
                          g->path, g->table);

    /* the feature table: typed columns from the schema, then errors/warnings */
    char names[GF_MAX_FIELDS + 2][96];
    int nc = 0;
    sqlite3_str *ddl = sqlite3_str_new(g->db), *ins = sqlite3_str_new(g->db);
    sqlite3_str_appendf(ddl, "CREATE TABLE \"%w\" (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom POINT", g->table);
    sqlite3_str_appendf(ins, "INSERT INTO \"%w\" (geom", g->table);
    for (int f = 0; f < schema->nfields + 2; f++) {
        const char *want = f < schema->nfields ? schema->fields[f].name : f == schema->nfields ? "errors" : "warnings";
        unique_name(names, nc, want, names[nc]);
        sqlite3_str_appendf(ddl, ", \"%w\" %s", names[nc], f < schema->nfields ? type_sql(schema->fields[f].type) : "TEXT");
        sqlite3_str_appendf(ins, ", \"%w\"", names[nc]);
        nc++;
    }
    sqlite3_str_appendall(ddl, ")");
    sqlite3_str_appendall(ins, ") VALUES ");
    /* Several rows per INSERT: AUTOINCREMENT updates sqlite_sequence once
     * per statement, and the statement overhead is shared too (about a
     * third of the insert time at one row per statement). */
    g->nparams = nc + 1;
    g->chunk = 32766 / g->nparams < 64 ? 32766 / g->nparams : 64;
    char *one = NULL;
    for (int k = 0; k < g->chunk; k++) {
        sqlite3_str_appendall(ins, k ? ", (?" : "(?");
        for (int i = 0; i < nc; i++) sqlite3_str_appendall(ins, ", ?");
        sqlite3_str_appendall(ins, ")");
        if (k == 0) one = sqlite3_mprintf("%s", sqlite3_str_value(ins));
    }
    char *ddl_s = sqlite3_str_finish(ddl), *ins_s = sqlite3_str_finish(ins);
    if (!ddl_s || !ins_s || !one) {
        sqlite3_free(ddl_s);
        sqlite3_free(ins_s);
        sqlite3_free(one);
        return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    }
    st = exec(g, ctx, ddl_s);
    if (!st && (sqlite3_prepare_v3(g->db, one, -1, SQLITE_PREPARE_PERSISTENT, &g->ins, NULL) != SQLITE_OK ||
                sqlite3_prepare_v3(g->db, ins_s, -1, SQLITE_PREPARE_PERSISTENT, &g->insk, NULL) != SQLITE_OK))
        st = sql_err(g, ctx, "cannot prepare the insert");
    sqlite3_free(ddl_s);
    sqlite3_free(ins_s);
    sqlite3_free(one);
    if (st) return st;
    if ((st = add_feature_table(g, ctx, g->table, "POINT", g->srs_id))) return st;
    return create_rejects(g, ctx);
}

/* GDAL (CRS definitions, extra layers) reports through our errors, not stderr */
static gf_status begin(void *stv, gf_ctx *ctx, const gf_schema *schema, int nworkers)
{
    (void)nworkers;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    gf_status st = begin_inner(stv, ctx, schema);
    CPLPopErrorHandler();
    return st;
}

/* ---- per batch ------------------------------------------------------------ */

/* A position the file can hold (a failed reprojection leaves NaN). */
static int has_pos(const gf_batch *b, size_t r)
{
    return (b->flags[r] & GF_ROW_HAS_POS) && isfinite(b->gx[r]) && isfinite(b->gy[r]);
}

/* Worker side: the geometry blobs, one fixed-size slot per row (rows
 * without a position get a NULL geometry, bound from nothing). */
static gf_status encode(void *stv, gf_ctx *ctx, int worker, const gf_batch *b, gf_buf *out)
{
    gf_gpkg *g = stv;
    (void)ctx; (void)worker;
    gf_status st = gf_buf_reserve(out, b->n * GP_POINT_LEN);
    if (st) return st;
    unsigned char *p = (unsigned char *)out->p;
    for (size_t r = 0; r < b->n; r++, p += GP_POINT_LEN) {
        if (!has_pos(b, r)) continue;
        double x = b->gx[r], y = b->gy[r], env[4] = {x, x, y, y};
        gp_header(p, g->srs_id, env, 0);
        p[40] = 1; /* WKB little-endian Point */
        put_u32le(p + 41, 1);
        put_f64le(p + 45, x);
        put_f64le(p + 53, y);
    }
    out->len = b->n * GP_POINT_LEN;
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
    sqlite3_stmt *s = g->rej;
    for (size_t k = 0; k < b->nrej && !st; k++) {
        const gf_reject *j = &b->rej[ord[k]];
        sqlite3_bind_text(s, 1, g->table, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, input_name(g, j->src, tmp, sizeof tmp), -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 3, (sqlite3_int64)j->line);
        sqlite3_bind_text(s, 4, b->arena + j->reason.off, (int)j->reason.len, SQLITE_STATIC);
        sqlite3_bind_text(s, 5, b->arena + j->raw.off, (int)j->raw.len, SQLITE_STATIC);
        if (sqlite3_step(s) != SQLITE_DONE) st = sql_err(g, ctx, "insert into rejects");
        sqlite3_reset(s);
        g->nrej++;
    }
    free(ord);
    return st;
}

/* Binds row r to the parameters after base (geom, fields, errors, warnings). */
static void bind_row(sqlite3_stmt *q, int base, const gf_batch *b, size_t r, const unsigned char *blob)
{
    const gf_schema *s = b->schema;
    const int nf = s->nfields;
    if (has_pos(b, r)) sqlite3_bind_blob(q, base + 1, blob, GP_POINT_LEN, SQLITE_STATIC);
    else sqlite3_bind_null(q, base + 1);
    for (int f = 0; f < nf; f++) {
        const gf_col *c = &b->cols[f];
        int i = base + f + 2;
        if (!c->valid[r]) { sqlite3_bind_null(q, i); continue; }
        switch (s->fields[f].type) {
        case GF_T_STRING:
        case GF_T_DATE:
            sqlite3_bind_text(q, i, b->arena + c->v.s[r].off, (int)c->v.s[r].len, SQLITE_STATIC);
            break;
        case GF_T_INT: sqlite3_bind_int64(q, i, c->v.i[r]); break;
        case GF_T_BOOL: sqlite3_bind_int(q, i, c->v.i[r] != 0); break;
        case GF_T_REAL: sqlite3_bind_double(q, i, c->v.d[r]); break;
        }
    }
    if (b->errors[r].len) sqlite3_bind_text(q, base + nf + 2, b->arena + b->errors[r].off, (int)b->errors[r].len, SQLITE_STATIC);
    else sqlite3_bind_null(q, base + nf + 2);
    if (b->warnings[r].len) sqlite3_bind_text(q, base + nf + 3, b->arena + b->warnings[r].off, (int)b->warnings[r].len, SQLITE_STATIC);
    else sqlite3_bind_null(q, base + nf + 3);
}

/* Extent, and the box kept for the R-tree bulk load. */
static void note_row(gf_gpkg *g, const gf_batch *b, size_t r, int64_t fid)
{
    if (!has_pos(b, r)) return;
    double x = b->gx[r], y = b->gy[r];
    if (x < g->minx) g->minx = x;
    if (x > g->maxx) g->maxx = x;
    if (y < g->miny) g->miny = y;
    if (y > g->maxy) g->maxy = y;
    g->npos++;
    if (g->ents_over) return;
    if (g->nents == g->entcap) {
        size_t cap = g->entcap ? g->entcap * 2 : 1 << 16;
        rt_ent *ne = cap <= GPKG_RTREE_BULK_MAX ? realloc(g->ents, cap * sizeof *ne) : NULL;
        if (!ne) { /* too many: the R-tree will be filled by SQL instead */
            free(g->ents);
            g->ents = NULL;
            g->nents = g->entcap = 0;
            g->ents_over = 1;
            return;
        }
        g->ents = ne;
        g->entcap = cap;
    }
    rt_ent *e = &g->ents[g->nents++];
    e->id = fid;
    e->b[0] = f_down(x); e->b[1] = f_up(x);
    e->b[2] = f_down(y); e->b[3] = f_up(y);
}

static gf_status commit(void *stv, gf_ctx *ctx, const gf_batch *b, const gf_buf *enc)
{
    gf_gpkg *g = stv;
    const unsigned char *blobs = (const unsigned char *)enc->p;
    for (size_t r = 0; r < b->n;) {
        size_t k = b->n - r >= (size_t)g->chunk ? (size_t)g->chunk : 1;
        sqlite3_stmt *q = k > 1 ? g->insk : g->ins;
        for (size_t j = 0; j < k; j++) bind_row(q, (int)j * g->nparams, b, r + j, blobs + (r + j) * GP_POINT_LEN);
        int rc = sqlite3_step(q);
        sqlite3_reset(q);
        if (rc != SQLITE_DONE) return sql_err(g, ctx, "insert");
        /* the rows of one statement get consecutive fids */
        int64_t last = sqlite3_last_insert_rowid(g->db);
        for (size_t j = 0; j < k; j++) note_row(g, b, r + j, last - (int64_t)(k - 1 - j));
        r += k;
    }
    g->nrows += b->n;
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
    GDALDatasetH ds = GDALOpenEx(xl->path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!ds) return gf_ctx_err(ctx, GF_ERR_GDAL, "%s: cannot open layer '%s': %s", xl->path, xl->name, CPLGetLastErrorMsg());
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
        if (!ct) { st = gf_ctx_err(ctx, GF_ERR_GDAL, "%s: cannot reproject to the output CRS: %s", xl->path, CPLGetLastErrorMsg()); goto done; }
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
    if (!st) gf_ctx_log(ctx, GF_LOG_INFO, "%s: layer %s: %llu features from %s", g->path, xl->name, (unsigned long long)n, xl->path);
done:
    sqlite3_finalize(q);
    free(buf);
    if (ct) OCTDestroyCoordinateTransformation(ct);
    GDALClose(ds);
    return st;
}

/* ---- finish -------------------------------------------------------------- */

/* ---- R-tree ---------------------------------------------------------------
 * SQLite's rtree module inserts one entry at a time (about 12 us each on
 * the bench machine, more than the whole table load). So, like GDAL >= 3.7,
 * we bulk-load it: read the boxes back, pack them with Sort-Tile-Recursive
 * into full nodes, and write the rtree's shadow tables (_node, _parent,
 * _rowid) directly in SQLite's node format. Memory: 28 bytes per feature
 * during finish(); above GPKG_RTREE_BULK_MAX features the module's own
 * INSERT ... SELECT is used instead. tests/cli/gpkg.sh checks the result
 * with rtreecheck() and spatial filters. */


static int cmp_cx(const void *a, const void *b)
{
    const rt_ent *p = a, *q = b;
    float u = p->b[0] + p->b[1], v = q->b[0] + q->b[1];
    return (u > v) - (u < v) ? (u > v) - (u < v) : (p->id > q->id) - (p->id < q->id);
}

static int cmp_cy(const void *a, const void *b)
{
    const rt_ent *p = a, *q = b;
    float u = p->b[2] + p->b[3], v = q->b[2] + q->b[3];
    return (u > v) - (u < v) ? (u > v) - (u < v) : (p->id > q->id) - (p->id < q->id);
}

static void str_sort(rt_ent *e, size_t n, size_t m)
{
    size_t leaves = (n + m - 1) / m, slices = (size_t)ceil(sqrt((double)leaves)), slice = slices * m;
    qsort(e, n, sizeof *e, cmp_cx);
    for (size_t i = 0; i < n; i += slice) qsort(e + i, n - i < slice ? n - i : slice, sizeof *e, cmp_cy);
}


static void put_be(unsigned char *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8) p[i] = (unsigned char)v;
}

/* pre: boxes gathered at commit (taken), or NULL to read them back. */
static gf_status rtree_bulk(gf_gpkg *g, gf_ctx *ctx, const char *t, rt_ent *pre, size_t npre, int *done)
{
    gf_status st = GF_OK;
    sqlite3_stmt *q = NULL, *qn = NULL, *qp = NULL, *qr = NULL;
    rt_ent *lv[40] = {0};
    size_t cnt[40] = {0}, nn[40] = {0};
    int64_t base[40] = {0};
    uint32_t *leafof = NULL;
    unsigned char *blob = NULL;
    int top = 0;
    *done = 0;

    /* node size: what the module chose for this page size (length of the root) */
    char *sql = sqlite3_mprintf("SELECT length(data) FROM \"rtree_%w_geom_node\" WHERE nodeno = 1", t);
    int nodesz = 0;
    if (sql && sqlite3_prepare_v2(g->db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
        nodesz = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    q = NULL;
    sqlite3_free(sql);
    const size_t cell = 24, m = nodesz > 4 ? (size_t)(nodesz - 4) / cell : 0;
    size_t cap = 1 << 16, n = 0;
    int64_t minid = INT64_MAX, maxid = INT64_MIN;
    if (m < 4) { free(pre); return GF_OK; } /* unexpected layout: let the module do it */
    if (pre) {
        lv[0] = pre;
        n = npre;
        for (size_t i = 0; i < n; i++) {
            if (pre[i].id < minid) minid = pre[i].id;
            if (pre[i].id > maxid) maxid = pre[i].id;
        }
        *done = 1;
        goto loaded;
    }
    sql = sqlite3_mprintf("SELECT fid, geom FROM \"%w\" WHERE geom NOT NULL", t);
    if (!sql || sqlite3_prepare_v2(g->db, sql, -1, &q, NULL) != SQLITE_OK) { sqlite3_free(sql); return sql_err(g, ctx, "R-tree read"); }
    sqlite3_free(sql);
    lv[0] = malloc(cap * sizeof *lv[0]);
    if (!lv[0]) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto out; }
    for (int rc; (rc = sqlite3_step(q)) != SQLITE_DONE;) {
        if (rc != SQLITE_ROW) { st = sql_err(g, ctx, "R-tree read"); goto out; }
        double bb[4];
        int empty = 0;
        if (gp_bbox(sqlite3_column_blob(q, 1), sqlite3_column_bytes(q, 1), bb, &empty) != 0 || empty) continue;
        if (n == cap) {
            if (cap >= GPKG_RTREE_BULK_MAX) goto out; /* too big for memory: *done stays 0 */
            rt_ent *ne = realloc(lv[0], 2 * cap * sizeof *ne);
            if (!ne) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto out; }
            lv[0] = ne;
            cap *= 2;
        }
        rt_ent *e = &lv[0][n++];
        e->id = sqlite3_column_int64(q, 0);
        e->b[0] = f_down(bb[0]); e->b[1] = f_up(bb[1]); e->b[2] = f_down(bb[2]); e->b[3] = f_up(bb[3]);
        if (e->id < minid) minid = e->id;
        if (e->id > maxid) maxid = e->id;
    }
    sqlite3_finalize(q);
    q = NULL;
    *done = 1;
loaded:
    if (n == 0) goto out; /* the empty root written by CREATE VIRTUAL TABLE is right */

    /* levels, bottom-up: level L+1 items are the boxes of level L nodes */
    cnt[0] = n;
    for (int L = 0;; L++) {
        if (L >= 39) { st = gf_ctx_err(ctx, GF_ERR_INTERNAL, "R-tree too deep"); goto out; }
        str_sort(lv[L], cnt[L], m);
        nn[L] = (cnt[L] + m - 1) / m;
        if (nn[L] == 1) { top = L; break; }
        lv[L + 1] = malloc(nn[L] * sizeof *lv[L + 1]);
        if (!lv[L + 1]) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto out; }
        for (size_t k = 0; k < nn[L]; k++) {
            rt_ent *p = &lv[L + 1][k], *c = &lv[L][k * m];
            size_t nc = cnt[L] - k * m < m ? cnt[L] - k * m : m;
            p->id = (int64_t)k;
            memcpy(p->b, c[0].b, sizeof p->b);
            for (size_t i = 1; i < nc; i++) {
                if (c[i].b[0] < p->b[0]) p->b[0] = c[i].b[0];
                if (c[i].b[1] > p->b[1]) p->b[1] = c[i].b[1];
                if (c[i].b[2] < p->b[2]) p->b[2] = c[i].b[2];
                if (c[i].b[3] > p->b[3]) p->b[3] = c[i].b[3];
            }
        }
        cnt[L + 1] = nn[L];
    }
    /* node numbers: the root is 1, then each level below */
    base[top] = 1;
    for (int L = top; L > 0; L--) base[L - 1] = base[L] + (int64_t)nn[L];

    if ((st = execf(g, ctx, sqlite3_mprintf("DELETE FROM \"rtree_%w_geom_node\"; DELETE FROM \"rtree_%w_geom_parent\"; "
                                            "DELETE FROM \"rtree_%w_geom_rowid\"", t, t, t))))
        goto out;
    char *s1 = sqlite3_mprintf("INSERT INTO \"rtree_%w_geom_node\" VALUES (?, ?)", t);
    char *s2 = sqlite3_mprintf("INSERT INTO \"rtree_%w_geom_parent\" VALUES (?, ?)", t);
    char *s3 = sqlite3_mprintf("INSERT INTO \"rtree_%w_geom_rowid\" VALUES (?, ?)", t);
    int bad = !s1 || !s2 || !s3 || sqlite3_prepare_v2(g->db, s1, -1, &qn, NULL) != SQLITE_OK ||
              sqlite3_prepare_v2(g->db, s2, -1, &qp, NULL) != SQLITE_OK || sqlite3_prepare_v2(g->db, s3, -1, &qr, NULL) != SQLITE_OK;
    sqlite3_free(s1); sqlite3_free(s2); sqlite3_free(s3);
    if (bad) { st = sql_err(g, ctx, "R-tree write"); goto out; }
    blob = malloc((size_t)nodesz);
    if (!blob) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto out; }
    for (int L = 0; L <= top && !st; L++) {
        for (size_t k = 0; k < nn[L] && !st; k++) {
            size_t nc = cnt[L] - k * m < m ? cnt[L] - k * m : m;
            memset(blob, 0, (size_t)nodesz);
            if (L == top) put_be(blob, (uint64_t)top, 2); /* depth, in the root only */
            put_be(blob + 2, nc, 2);
            for (size_t i = 0; i < nc; i++) {
                const rt_ent *c = &lv[L][k * m + i];
                unsigned char *p = blob + 4 + i * cell;
                put_be(p, (uint64_t)(L == 0 ? c->id : base[L - 1] + c->id), 8);
                for (int j = 0; j < 4; j++) {
                    uint32_t u;
                    memcpy(&u, &c->b[j], 4);
                    put_be(p + 8 + 4 * j, u, 4);
                }
                if (L > 0) { /* the child's parent is this node */
                    sqlite3_bind_int64(qp, 1, base[L - 1] + c->id);
                    sqlite3_bind_int64(qp, 2, base[L] + (int64_t)k);
                    if (sqlite3_step(qp) != SQLITE_DONE) st = sql_err(g, ctx, "R-tree write");
                    sqlite3_reset(qp);
                }
            }
            sqlite3_bind_int64(qn, 1, base[L] + (int64_t)k);
            sqlite3_bind_blob(qn, 2, blob, nodesz, SQLITE_STATIC);
            if (sqlite3_step(qn) != SQLITE_DONE) st = sql_err(g, ctx, "R-tree write");
            sqlite3_reset(qn);
        }
    }
    if (st) goto out;
    /* leaf of every feature, written in id order (appends to the b-tree) */
    leafof = calloc((size_t)(maxid - minid + 1), sizeof *leafof);
    if (!leafof) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto out; }
    for (size_t i = 0; i < n; i++) leafof[lv[0][i].id - minid] = (uint32_t)(base[0] + (int64_t)(i / m));
    for (int64_t id = minid; id <= maxid && !st; id++) {
        if (!leafof[id - minid]) continue;
        sqlite3_bind_int64(qr, 1, id);
        sqlite3_bind_int64(qr, 2, leafof[id - minid]);
        if (sqlite3_step(qr) != SQLITE_DONE) st = sql_err(g, ctx, "R-tree write");
        sqlite3_reset(qr);
    }
out:
    sqlite3_finalize(q);
    sqlite3_finalize(qn);
    sqlite3_finalize(qp);
    sqlite3_finalize(qr);
    for (int L = 0; L < 40; L++) free(lv[L]);
    free(leafof);
    free(blob);
    return st;
}

/* R-tree of one feature table, filled in bulk, then the standard triggers
 * of the gpkg_rtree_index extension so later edits keep it in sync. */
static gf_status build_rtree(gf_gpkg *g, gf_ctx *ctx, const char *t, rt_ent *pre, size_t npre)
{
    gf_status st = execf(g, ctx, sqlite3_mprintf(
        "CREATE VIRTUAL TABLE \"rtree_%w_geom\" USING rtree(id, minx, maxx, miny, maxy)", t));
    int done = 0;
    if (!st) st = rtree_bulk(g, ctx, t, pre, npre, &done);
    else free(pre);
    if (!st && !done)
        st = execf(g, ctx, sqlite3_mprintf(
            "INSERT INTO \"rtree_%w_geom\" SELECT fid, ST_MinX(geom), ST_MaxX(geom), ST_MinY(geom), ST_MaxY(geom) "
            "FROM \"%w\" WHERE geom NOT NULL AND NOT ST_IsEmpty(geom)", t, t));
    if (st) return st;
    return execf(g, ctx, sqlite3_mprintf(
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
        t, t, t, t, t, t, t, t, t, t, t, t, t, t, t, t, t, t, t, t)); /* 20: one per %Q/%w */
}

static void close_db(gf_gpkg *g)
{
    sqlite3_finalize(g->ins);
    sqlite3_finalize(g->insk);
    sqlite3_finalize(g->rej);
    g->ins = g->insk = g->rej = NULL;
    if (g->db) sqlite3_close(g->db);
    g->db = NULL;
}

static gf_status finish_inner(gf_gpkg *g, gf_ctx *ctx)
{
    gf_status st = GF_OK;
    if (g->npos)
        st = execf(g, ctx, sqlite3_mprintf("UPDATE gpkg_contents SET min_x = %!.17g, min_y = %!.17g, max_x = %!.17g, "
                                           "max_y = %!.17g WHERE table_name = %Q", g->minx, g->miny, g->maxx, g->maxy, g->table));
    for (int i = 0; !st && i < g->o.nextra_layers; i++) st = import_layer(g, ctx, &g->o.extra_layers[i]);
    struct timespec t0, t1, t2;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; !st && i < g->nrtree; i++) {
        /* table 0 is the main one: its boxes were gathered at commit */
        int pre = i == 0 && !g->ents_over;
        st = build_rtree(g, ctx, g->rtree_tables[i], pre ? g->ents : NULL, pre ? g->nents : 0);
        if (pre) { g->ents = NULL; g->nents = g->entcap = 0; }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (!st) st = exec(g, ctx, "COMMIT");
    clock_gettime(CLOCK_MONOTONIC, &t2);
    gf_ctx_log(ctx, GF_LOG_INFO, "%s: R-tree %.2f s, commit %.2f s", g->path,
               (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec),
               (double)(t2.tv_sec - t1.tv_sec) + 1e-9 * (double)(t2.tv_nsec - t1.tv_nsec));
    if (st) return st; /* the pipeline calls abort(), which removes the temporary file */
    g->in_tx = 0;
    sqlite3_finalize(g->ins);
    sqlite3_finalize(g->insk);
    sqlite3_finalize(g->rej);
    g->ins = g->insk = g->rej = NULL;
    if (sqlite3_close(g->db) != SQLITE_OK) return sql_err(g, ctx, "close");
    g->db = NULL;
    gf_ctx_log(ctx, GF_LOG_INFO, "%s: layer %s: %llu features, %llu rejects", g->path, g->table,
               (unsigned long long)g->nrows, (unsigned long long)g->nrej);
    st = gf_atomic_commit(ctx, g->tmp, g->path);
    g->tmp[0] = 0;
    return st;
}

static gf_status finish(void *stv, gf_ctx *ctx)
{
    CPLPushErrorHandler(CPLQuietErrorHandler);
    gf_status st = finish_inner(stv, ctx);
    CPLPopErrorHandler();
    return st;
}

static void sink_abort(void *stv)
{
    gf_gpkg *g = stv;
    close_db(g);
    if (g->tmp[0]) unlink(g->tmp);
    g->tmp[0] = 0;
}

static void destroy(void *stv)
{
    gf_gpkg *g = stv;
    if (!g) return;
    sink_abort(g);
    if (g->srs) OSRDestroySpatialReference(g->srs);
    free(g->ents);
    free(g);
}

const gf_sink_vt gf_gpkg_sink_vt = {
    .name = "gpkg",
    .begin = begin,
    .encode = encode,
    .commit = commit,
    .finish = finish,
    .abort = sink_abort,
    .destroy = destroy,
};
