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
 * of gf_output_opts copied with OGR at finish().
 *
 * Files: this one is the sink; gpkg_meta.c, gpkg_layers.c and gpkg_rtree.c
 * the rest (see gpkg_int.h). */
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

/* float32 boxes that contain the double ones, as the rtree module rounds */
static float f_down(double d) { float f = (float)d; return (double)f > d ? nextafterf(f, -INFINITY) : f; }
static float f_up(double d) { float f = (float)d; return (double)f < d ? nextafterf(f, INFINITY) : f; }

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
    if (gpkg_register_st(g->db)) return gpkg_sql_err(g, ctx, "cannot register ST_ functions");
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

static gf_status begin_inner(gf_gpkg *g, gf_ctx *ctx, const gf_schema *schema)
{
    gf_status st;
    g->schema = schema;
    gf_output_layer_name(&g->o, schema, g->table, sizeof g->table);

    /* last_change: the caller's time (a publication's run date), else
     * SOURCE_DATE_EPOCH when set, so that a rebuild gives the same bytes */
    time_t now = (time_t)g->o.time;
    if (g->o.time <= 0 && (st = gf_output_time(ctx, &now))) return st;
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
    if ((st = gpkg_exec(g, ctx, pragmas))) return st;
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
        if ((st = gpkg_exec(g, ctx, p2))) return st;
    }
    if ((st = gpkg_exec(g, ctx, "BEGIN"))) return st;
    if ((st = gpkg_create_meta(g, ctx))) return st;
    if (gpkg_table_exists(g->db, g->table))
        return gf_ctx_err(ctx, GF_ERR_ARG, "%s: a table called '%s' already exists (use --layer to pick another name)",
                          g->path, g->table);

    /* the feature table: typed columns from the schema, then errors/warnings */
    char names[GF_MAX_FIELDS + 2][96];
    int nc = 0;
    sqlite3_str *ddl = sqlite3_str_new(g->db);
    sqlite3_str_appendf(ddl, "CREATE TABLE \"%w\" (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom POINT", g->table);
    for (int f = 0; f < schema->nfields + 2; f++) {
        const char *want = f < schema->nfields ? schema->fields[f].name : f == schema->nfields ? "errors" : "warnings";
        gpkg_unique_name(names, nc, want, names[nc]);
        sqlite3_str_appendf(ddl, ", \"%w\" %s", names[nc], f < schema->nfields ? gpkg_type_sql(schema->fields[f].type) : "TEXT");
        nc++;
    }
    sqlite3_str_appendall(ddl, ")");
    char *ddl_s = sqlite3_str_finish(ddl);
    if (!ddl_s) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    st = gpkg_exec(g, ctx, ddl_s);
    sqlite3_free(ddl_s);
    if (st || (st = gpkg_add_feature_table(g, ctx, g->table, "POINT", g->srs_id)) || (st = gpkg_create_rejects(g, ctx)) ||
        (st = gpkg_create_rtree(g, ctx, g->table)) || (st = gpkg_find_roots(g, ctx)) || (st = gpkg_exec(g, ctx, "COMMIT")))
        return st;
    /* SQLite is done with the file until finish(): the rows go in by hand */
    if (sqlite3_close(g->db) != SQLITE_OK) return gpkg_sql_err(g, ctx, "close");
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
            gpkg_gp_header(gp, g->srs_id, env, 0);
            gp[40] = 1; /* WKB little-endian Point */
            gpkg_put_u32le(gp + 41, 1);
            gpkg_put_f64le(gp + 45, x);
            gpkg_put_f64le(gp + 53, y);
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
    if (!g->rejf) {
        gf_status st = gf_scratch_fopen(ctx, g->o.tmpdir, g->path, 0, &g->rejf);
        if (st) return st;
    }
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
        uint32_t n32 = (uint32_t)n;
        if (n > UINT32_MAX) /* a reject's raw line is bounded far below, by the reader */
            st = gf_ctx_err(ctx, GF_ERR_INTERNAL, "%s: a reject of %zu bytes", g->path, n);
        else if (fwrite(&n32, 4, 1, g->rejf) != 1 || fwrite(g->rejbuf, 1, n, g->rejf) != n)
            st = gf_ctx_err(ctx, GF_ERR_IO, "%s: rejects scratch file: write failed (disk full? use --tmpdir)", g->path);
        g->nrej++;
    }
    free(ord);
    return st;
}

/* The rejects kept in the scratch file, into their table after the rows. */
static gf_status add_rejects(gf_gpkg *g, gf_ctx *ctx)
{
    if (!g->rejf) return GF_OK;
    if (fflush(g->rejf) != 0 || fseek(g->rejf, 0, SEEK_SET) != 0)
        return gf_ctx_err(ctx, GF_ERR_IO, "%s: rejects scratch file: %s", g->path, strerror(errno));
    gf_status st = GF_OK;
    for (uint64_t k = 1; k <= g->nrej && !st; k++) {
        uint32_t n;
        if (fread(&n, 4, 1, g->rejf) != 1) return gf_ctx_err(ctx, GF_ERR_IO, "%s: rejects scratch file: short read", g->path);
        if (n > g->rejcap) {
            uint8_t *nb = realloc(g->rejbuf, n);
            if (!nb) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
            g->rejbuf = nb;
            g->rejcap = n;
        }
        if (fread(g->rejbuf, 1, n, g->rejf) != n) return gf_ctx_err(ctx, GF_ERR_IO, "%s: rejects scratch file: short read", g->path);
        st = gf_sqlbt_add(ctx, &g->bt_rej, (int64_t)k, g->rejbuf, n);
    }
    fclose(g->rejf);
    g->rejf = NULL;
    return st;
}


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
    if (g->xs || g->nents == g->ents_max) {
        rt_ent e = {.id = fid, .b = {f_down(x), f_up(x), f_down(y), f_up(y)}};
        return gpkg_rtree_spill(g, ctx, &e);
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

/* 1. by hand: the last pages of the rows and rejects, the R-tree. Our
 * own file and memory only (no SQLite handle, no GDAL): it may run on a
 * thread of its own while the other sinks finish. */
static gf_status finish_pages(gf_gpkg *g, gf_ctx *ctx)
{
    gf_status st;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if ((st = gf_sqlbt_finish(ctx, &g->bt_main)) || (st = add_rejects(g, ctx)) || (st = gf_sqlbt_finish(ctx, &g->bt_rej)))
        return st;
    if ((st = gpkg_rtree_write(g, ctx))) return st;
    g->file_open = 0;
    st = gf_sqlfile_close(ctx, &g->file);
    g->pages_s = since(&t0);
    return st;
}

static void *finish_bg(void *arg)
{
    gf_gpkg *g = arg;
    g->bg_st = finish_pages(g, g->bg_ctx);
    return NULL;
}

/* Starts step 1 on a thread when the run has more than one: on 2 cores
 * the R-tree of 1M rows (0.15-0.25 s) overlaps the tiles' finish instead
 * of preceding it. */
static gf_status start_finish(void *stv, gf_ctx *ctx)
{
    gf_gpkg *g = stv;
    int threads = g->o.threads > 0 ? g->o.threads : gf_ncpus();
    if (threads < 2 || gf_ctx_fork(ctx, &g->bg_ctx) != GF_OK) return GF_OK; /* step 1 in finish() */
    if (pthread_create(&g->bg, NULL, finish_bg, g) != 0) {
        gf_ctx_destroy(g->bg_ctx);
        g->bg_ctx = NULL;
        return GF_OK;
    }
    g->bg_running = 1;
    return GF_OK;
}

/* Waits for step 1's thread; its error, if any, into ctx. */
static gf_status join_bg(gf_gpkg *g, gf_ctx *ctx)
{
    if (!g->bg_running) return GF_OK;
    pthread_join(g->bg, NULL);
    g->bg_running = 0;
    gf_status st = g->bg_st;
    if (st && ctx) gf_ctx_take_error(ctx, g->bg_ctx);
    gf_ctx_destroy(g->bg_ctx);
    g->bg_ctx = NULL;
    return st;
}

static gf_status finish_inner(gf_gpkg *g, gf_ctx *ctx)
{
    gf_status st;
    if ((st = g->bg_running ? join_bg(g, ctx) : finish_pages(g, ctx))) return st;
    struct timespec t0; /* step 2, from here (step 1 timed itself: g->pages_s) */
    clock_gettime(CLOCK_MONOTONIC, &t0);

    /* 2. SQLite again: extent, AUTOINCREMENT sequences, staged rejects, extra layers */
    if ((st = open_db(g, ctx)) || (st = gpkg_exec(g, ctx, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; BEGIN"))) return st;
    if (g->npos)
        st = gpkg_execf(g, ctx, sqlite3_mprintf("UPDATE gpkg_contents SET min_x = %!.17g, min_y = %!.17g, max_x = %!.17g, "
                                           "max_y = %!.17g WHERE table_name = %Q", g->minx, g->miny, g->maxx, g->maxy, g->table));
    if (!st && g->nrows)
        st = gpkg_execf(g, ctx, sqlite3_mprintf("INSERT INTO sqlite_sequence (name, seq) VALUES (%Q, %llu)", g->table,
                                           (unsigned long long)g->nrows));
    if (!st && strcmp(g->rejwrite, g->rejtable))
        st = gpkg_execf(g, ctx, sqlite3_mprintf("INSERT INTO \"%w\" (layer, source, line, reason, raw) SELECT layer, source, line, "
                                           "reason, raw FROM \"%w\" ORDER BY fid; DROP TABLE \"%w\"",
                                           g->rejtable, g->rejwrite, g->rejwrite));
    else if (!st && g->nrej)
        st = gpkg_execf(g, ctx, sqlite3_mprintf("INSERT INTO sqlite_sequence (name, seq) VALUES (%Q, %llu)", g->rejtable,
                                           (unsigned long long)g->nrej));
    for (int i = 0; !st && i < g->o.nextra_layers; i++) st = gpkg_import_layer(g, ctx, &g->o.extra_layers[i]);
    if (!st) st = gpkg_exec(g, ctx, "COMMIT");
    if (st) return st; /* the pipeline calls abort(), which removes the temporary file */
    if (sqlite3_close(g->db) != SQLITE_OK) return gpkg_sql_err(g, ctx, "close");
    g->db = NULL;
    gf_ctx_log(ctx, GF_LOG_INFO, "%s: layer %s: %llu features, %llu rejects (pages and R-tree %.2f s, then %.2f s)", g->path,
               g->table, (unsigned long long)g->nrows, (unsigned long long)g->nrej, g->pages_s, since(&t0));
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
    join_bg(g, NULL);
    close_db(g);
    if (g->file_open) gf_sqlfile_discard(&g->file);
    g->file_open = 0;
    if (g->rejf) fclose(g->rejf);
    g->rejf = NULL;
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
    gpkg_rtree_free(g);
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
    .start_finish = start_finish,
};
