/* Private to the GeoPackage writer (src/write/gpkg*.c): its state and the
 * functions its files share. gpkg.c is the sink (open, begin, encode,
 * commit, finish, publish); gpkg_meta.c the SQLite side (helpers, the
 * GeoPackage binary header, ST_ functions, metadata and table DDL);
 * gpkg_layers.c the extra layers copied with OGR; gpkg_rtree.c the bulk
 * load of the main table's R-tree. */
#ifndef GF_WRITE_GPKG_INT_H
#define GF_WRITE_GPKG_INT_H

#include <stdint.h>

#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <pthread.h>
#include <sqlite3.h>

#include "core/gdalerr.h"
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
    /* the rejects' records (u32 length, bytes) until finish_pages() adds
     * them after the rows: the pages of the two tables then do not
     * interleave as the batches come, whose size follows --threads */
    FILE *rejf;
    /* boxes of the main table, gathered at commit for the R-tree: in ents
     * up to ents_max of them, past it every one in the external sort xs
     * (gpkg_rtree_spill) */
    rt_ent *ents;
    size_t nents, entcap, ents_max;
    struct gf_xsort *xs;
    gf_gdal_errs ge; /* GDAL error scope of begin() and finish() (CRS definitions, extra layers) */
    /* the pages and the R-tree, finished on a thread of their own from
     * start_finish() to finish() (see gpkg.c) */
    pthread_t bg;
    int bg_running;
    gf_ctx *bg_ctx;
    gf_status bg_st;
    double pages_s; /* step 1's seconds, for the log */
} gf_gpkg;

/* ---- gpkg_meta.c: SQLite helpers, binary header, metadata, DDL ---------- */
/* gpkg_contents and gpkg_geometry_columns rows of a feature table */
gf_status gpkg_add_feature_table(gf_gpkg *g, gf_ctx *ctx, const char *name, const char *gtype, int srs_id);
/* the gpkg_* tables, the required SRS rows and the output CRS's (g->srs, g->srs_id) */
gf_status gpkg_create_meta(gf_gpkg *g, gf_ctx *ctx);
/* the `rejects` table, or a staging table when --append finds ours */
gf_status gpkg_create_rejects(gf_gpkg *g, gf_ctx *ctx);
/* table t's R-tree (gpkg_rtree_index) and its standard triggers, empty */
gf_status gpkg_create_rtree(gf_gpkg *g, gf_ctx *ctx, const char *t);
/* sqlite3_exec on g->db; GF_ERR_SQL naming g->path */
gf_status gpkg_exec(gf_gpkg *g, gf_ctx *ctx, const char *sql);
/* gpkg_exec() of a sqlite3_mprintf() result, which it frees (NULL: GF_ERR_NOMEM) */
gf_status gpkg_execf(gf_gpkg *g, gf_ctx *ctx, char *sql);
/* root pages of the tables written by hand, and the R-tree node size */
gf_status gpkg_find_roots(gf_gpkg *g, gf_ctx *ctx);
/* GeoPackage binary header: "GP", flags, srs_id, envelope (or none) */
void gpkg_gp_header(unsigned char *p, int srs_id, const double *env, int empty);
/* little-endian writes into a blob */
void gpkg_put_f64le(unsigned char *p, double d);
void gpkg_put_u32le(unsigned char *p, uint32_t v);
/* ST_MinX/.../ST_IsEmpty on db, for the R-tree triggers: 0, or -1 */
int gpkg_register_st(sqlite3 *db);
/* fills t's R-tree with SQL (small extra layers) */
gf_status gpkg_rtree_fill_sql(gf_gpkg *g, gf_ctx *ctx, const char *t);
/* GF_ERR_SQL: "path: what: sqlite3_errmsg" */
gf_status gpkg_sql_err(gf_gpkg *g, gf_ctx *ctx, const char *what);
/* 1 when the schema has an object of that name (table, view, index...), without case */
int gpkg_table_exists(sqlite3 *db, const char *name);
/* SQL column type of a schema type */
const char *gpkg_type_sql(gf_type t);
/* want, suffixed _2, _3... until unique without case among names[0..n) and fid/geom */
void gpkg_unique_name(char names[][96], int n, const char *want, char *out);

/* ---- gpkg_layers.c: extra layers ----------------------------------------- */
/* copies extra layer xl into a feature table of its own with its R-tree (inside finish()) */
gf_status gpkg_import_layer(gf_gpkg *g, gf_ctx *ctx, const gf_extra_layer *xl);

/* ---- gpkg_rtree.c: the main table's R-tree -------------------------------- */
/* adds box e past the memory budget (the first call moves the boxes kept so far to the external sort) */
gf_status gpkg_rtree_spill(gf_gpkg *g, gf_ctx *ctx, const rt_ent *e);
/* writes the main table's R-tree shadow tables from the boxes (in memory, or the sort); frees them */
gf_status gpkg_rtree_write(gf_gpkg *g, gf_ctx *ctx);
/* frees the boxes and the sort; safe when there are none */
void gpkg_rtree_free(gf_gpkg *g);

#endif
