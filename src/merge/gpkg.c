/* geoflux merge of GeoPackages: the first input is copied (SQLite's online
 * backup, as the writer's --append does), then the rows of every table of
 * the others are appended in input order with INSERT ... SELECT (new fids,
 * in order: the fids a single run over the same inputs in the same order
 * gives), which the standard R-tree triggers the writer created keep
 * indexed (ST_ functions of src/write/gpkg_meta.c registered on the
 * connection); extents and last_change updated in gpkg_contents.
 *
 * Why SQL here and not the writer's hand-written b-tree pages: merge moves
 * rows that are already GeoPackage records, and the expensive part the
 * writer avoids (building records from batches) does not exist here. The
 * R-tree of the appended rows is built by SQLite's rtree module (entry by
 * entry): same boxes, another node packing than the writer's bulk load. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sqlite3.h>

#include "geoflux/write.h"
#include "merge/merge_int.h"
#include "write/gpkg_int.h"

#define MG_MAX_TABLES 64

typedef struct mg_table {
    char name[256], type[32];
    int srs_id;
    char *cols;  /* "col1","col2",... without fid, for INSERT ... SELECT */
} mg_table;

static gf_status sqlerr(gf_ctx *ctx, sqlite3 *db, const char *path, const char *what)
{
    return gf_ctx_err(ctx, GF_ERR_SQL, "%s: %s: %s", path, what, db ? sqlite3_errmsg(db) : "cannot open");
}

/* The tables of gpkg_contents of schema sch ("main", "src"), with their
 * columns. */
static gf_status read_tables(gf_ctx *ctx, sqlite3 *db, const char *sch, const char *path, mg_table *t, int *nt)
{
    sqlite3_stmt *s = NULL;
    char *sql = sqlite3_mprintf("SELECT table_name, data_type, COALESCE(srs_id, -2) FROM \"%w\".gpkg_contents "
                                "ORDER BY table_name", sch);
    gf_status st = GF_OK;
    *nt = 0;
    if (!sql) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
        sqlite3_free(sql);
        return gf_ctx_err(ctx, GF_ERR_PARSE, "%s: not a readable GeoPackage: %s", path, sqlite3_errmsg(db));
    }
    sqlite3_free(sql);
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        if (*nt == MG_MAX_TABLES) { st = gf_ctx_err(ctx, GF_ERR_UNSUPPORTED, "%s: more than %d tables", path, MG_MAX_TABLES); break; }
        mg_table *x = &t[(*nt)++];
        memset(x, 0, sizeof *x);
        snprintf(x->name, sizeof x->name, "%s", (const char *)sqlite3_column_text(s, 0));
        snprintf(x->type, sizeof x->type, "%s", (const char *)sqlite3_column_text(s, 1));
        x->srs_id = sqlite3_column_int(s, 2);
    }
    sqlite3_finalize(s);
    if (!st && r != SQLITE_DONE) st = gf_ctx_err(ctx, GF_ERR_PARSE, "%s: gpkg_contents: %s", path, sqlite3_errmsg(db));
    for (int i = 0; i < *nt && !st; i++) {
        sqlite3_str *cols = sqlite3_str_new(db);
        sql = sqlite3_mprintf("PRAGMA \"%w\".table_info(\"%w\")", sch, t[i].name);
        if (!sql || sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
            st = gf_ctx_err(ctx, GF_ERR_PARSE, "%s: table %s: %s", path, t[i].name, sqlite3_errmsg(db));
        } else {
            int nc = 0;
            while (sqlite3_step(s) == SQLITE_ROW) {
                const char *cn = (const char *)sqlite3_column_text(s, 1);
                if (sqlite3_column_int(s, 5) && !strcmp(cn, "fid")) continue; /* the primary key: new fids */
                sqlite3_str_appendf(cols, "%s\"%w\"", nc++ ? "," : "", cn);
            }
            if (!nc) st = gf_ctx_err(ctx, GF_ERR_PARSE, "%s: table %s listed in gpkg_contents does not exist", path, t[i].name);
        }
        sqlite3_finalize(s);
        s = NULL;
        sqlite3_free(sql);
        t[i].cols = sqlite3_str_finish(cols);
        if (!st && !t[i].cols) st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    }
    return st;
}

static void free_tables(mg_table *t, int n)
{
    for (int i = 0; i < n; i++) { sqlite3_free(t[i].cols); t[i].cols = NULL; }
}

/* The first column of the first row of sql (freed here) as text, or NULL
 * when there is no row. Caller frees with sqlite3_free. */
static char *query_text(sqlite3 *db, char *sql)
{
    sqlite3_stmt *s = NULL;
    char *r = NULL;
    if (sql && sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        r = sqlite3_mprintf("%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    sqlite3_free(sql);
    return r;
}

/* The definition of srs_id in schema sch ("" when absent). Caller frees with sqlite3_free. */
static char *srs_def(sqlite3 *db, const char *sch, int srs_id)
{
    char *r = query_text(db, sqlite3_mprintf("SELECT organization || ':' || organization_coordsys_id || ' ' || definition "
                                             "FROM \"%w\".gpkg_spatial_ref_sys WHERE srs_id = %d", sch, srs_id));
    return r ? r : sqlite3_mprintf("");
}

static gf_status exec(gf_ctx *ctx, sqlite3 *db, const char *path, char *sql)
{
    if (!sql) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    char *err = NULL;
    int r = sqlite3_exec(db, sql, NULL, NULL, &err);
    sqlite3_free(sql);
    gf_status st = r == SQLITE_OK ? GF_OK : gf_ctx_err(ctx, GF_ERR_SQL, "%s: %s", path, err ? err : sqlite3_errstr(r));
    sqlite3_free(err);
    return st;
}

/* The declared type of column col of table t in schema sch; NULL when
 * there is no such column. Caller frees with sqlite3_free. */
static char *col_type(sqlite3 *db, const char *sch, const char *t, const char *col)
{
    return query_text(db, sqlite3_mprintf("SELECT type FROM pragma_table_info(%Q, %Q) WHERE name = %Q", t, sch, col));
}

/* Columns of src's table t: the same type as the merged table's column of
 * that name, or added to it (NULL for the rows before). Runs over inputs
 * with other optional columns (a regional-language column, BAL vs BAN
 * fields) give tables with some columns in one only; a single run over all
 * of them writes the union. */
static gf_status unite_columns(gf_ctx *ctx, sqlite3 *db, const gf_merge_opts *o, int i, const mg_table *t)
{
    char *sql = sqlite3_mprintf("SELECT name, type FROM pragma_table_info(%Q, 'src') ORDER BY cid", t->name);
    sqlite3_stmt *s = NULL;
    gf_status st = GF_OK;
    if (!sql || sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
        sqlite3_free(sql);
        return sqlerr(ctx, db, o->inputs[i], "columns");
    }
    sqlite3_free(sql);
    while (!st && sqlite3_step(s) == SQLITE_ROW) {
        const char *cn = (const char *)sqlite3_column_text(s, 0), *ct = (const char *)sqlite3_column_text(s, 1);
        char *have = col_type(db, "main", t->name, cn);
        if (!have)
            st = exec(ctx, db, o->output, sqlite3_mprintf("ALTER TABLE main.\"%w\" ADD COLUMN \"%w\" %s", t->name, cn, ct));
        else if (strcasecmp(have, ct))
            st = gf_ctx_err(ctx, GF_ERR_ARG, "%s: column %s of table %s is %s, but %s in %s", o->inputs[i], cn, t->name, ct,
                            have, o->inputs[0]);
        sqlite3_free(have);
    }
    sqlite3_finalize(s);
    return st;
}

/* Refuses a commune code present in main (inputs before) and src. */
static gf_status check_communes(gf_ctx *ctx, sqlite3 *db, const gf_merge_opts *o, int i, const mg_table *t)
{
    if (strcmp(t->name, "communes")) return GF_OK;
    char *a = col_type(db, "main", "communes", "code"), *b = col_type(db, "src", "communes", "code");
    int both = a && b;
    sqlite3_free(a);
    sqlite3_free(b);
    if (!both) return GF_OK;
    sqlite3_stmt *s = NULL;
    gf_status st = GF_OK;
    if (sqlite3_prepare_v2(db, "SELECT code FROM main.communes WHERE code IN (SELECT code FROM src.communes) ORDER BY code",
                           -1, &s, NULL) != SQLITE_OK)
        return sqlerr(ctx, db, o->inputs[i], "communes");
    int n = 0;
    char first[64] = "";
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (!n++) snprintf(first, sizeof first, "%s", (const char *)sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
    if (n)
        st = gf_ctx_err(ctx, GF_ERR_ARG,
                        "%s: commune %s%s is already in %s%s: its statistics would be counted twice (give each "
                        "department's run only its own communes with --communes)",
                        o->inputs[i], first, n > 1 ? " (and others)" : "", o->inputs[0], i > 1 ? " or a later input" : "");
    return st;
}

gf_status gf_merge_gpkg(gf_ctx *ctx, const gf_merge_opts *o, gf_merge_stats *stats)
{
    gf_status st = GF_OK;
    mg_table t0[MG_MAX_TABLES], ti[MG_MAX_TABLES];
    int n0 = 0, ni = 0;
    gf_atomic out = {.fd = -1, .slot = -1};
    sqlite3 *db = NULL, *src = NULL;
    time_t now;
    if ((st = gf_output_time(ctx, &now))) return st;
    struct tm tmv;
    gmtime_r(&now, &tmv);
    char last_change[32];
    strftime(last_change, sizeof last_change, "%Y-%m-%dT%H:%M:%S.000Z", &tmv);

    /* the copy of the first input */
    if ((st = gf_atomic_create(ctx, o->output, GF_ATOMIC_SQLITE, &out)) || (st = gf_atomic_close(ctx, &out))) goto done;
    if (sqlite3_open_v2(o->inputs[0], &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        st = gf_ctx_err(ctx, GF_ERR_INPUT, "%s: %s", o->inputs[0], src ? sqlite3_errmsg(src) : "cannot open");
        goto done;
    }
    if (sqlite3_open_v2(out.tmp, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        st = sqlerr(ctx, db, o->output, "create");
        goto done;
    }
    sqlite3_backup *b = sqlite3_backup_init(db, "main", src, "main");
    int rc = b ? sqlite3_backup_step(b, -1) : SQLITE_ERROR;
    sqlite3_backup_finish(b);
    sqlite3_close(src);
    src = NULL;
    if (rc != SQLITE_DONE) { st = sqlerr(ctx, db, o->output, "copy of the first input"); goto done; }
    if (gpkg_register_st(db)) { st = sqlerr(ctx, db, o->output, "ST_ functions"); goto done; }
    if ((st = exec(ctx, db, o->output, sqlite3_mprintf("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF")))) goto done;
    if ((st = read_tables(ctx, db, "main", o->inputs[0], t0, &n0))) goto done;

    for (int i = 1; i < o->ninputs && !st; i++) {
        const char *path = o->inputs[i];
        sqlite3_stmt *s = NULL;
        if (sqlite3_prepare_v2(db, "ATTACH DATABASE ? AS src", -1, &s, NULL) != SQLITE_OK) { st = sqlerr(ctx, db, o->output, "attach"); break; }
        sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        sqlite3_finalize(s);
        if (rc != SQLITE_DONE) { st = gf_ctx_err(ctx, GF_ERR_INPUT, "%s: %s", path, sqlite3_errmsg(db)); break; }
        free_tables(ti, ni);
        if ((st = read_tables(ctx, db, "src", path, ti, &ni))) goto detach;
        /* same tables, columns and CRS as the first input */
        for (int k = 0; k < n0 || k < ni; k++) {
            if (k >= n0 || k >= ni || strcmp(t0[k].name, ti[k].name)) {
                const char *missing = k < n0 && (k >= ni || strcmp(t0[k].name, ti[k].name) < 0) ? t0[k].name : ti[k].name;
                st = gf_ctx_err(ctx, GF_ERR_ARG, "%s and %s do not hold the same tables (%s is in one only): merge joins "
                                "outputs of the same command", o->inputs[0], path, missing);
                goto detach;
            }
            if (strcmp(t0[k].type, ti[k].type)) {
                st = gf_ctx_err(ctx, GF_ERR_ARG, "%s and %s: %s is a %s table in one, %s in the other", o->inputs[0], path,
                                t0[k].name, t0[k].type, ti[k].type);
                goto detach;
            }
            if ((st = unite_columns(ctx, db, o, i, &ti[k]))) goto detach;
            if (!strcmp(t0[k].type, "features")) {
                char *a = srs_def(db, "main", t0[k].srs_id), *c = srs_def(db, "src", ti[k].srs_id);
                int same = a && c && !strcmp(a, c);
                sqlite3_free(a);
                sqlite3_free(c);
                if (!same) {
                    st = gf_ctx_err(ctx, GF_ERR_ARG, "%s and %s: table %s is in another CRS in each (srs_id %d, %d): "
                                    "merge needs the same CRS (--t-srs)", o->inputs[0], path, t0[k].name, t0[k].srs_id, ti[k].srs_id);
                    goto detach;
                }
            }
            if ((st = check_communes(ctx, db, o, i, &t0[k]))) goto detach;
        }
        if ((st = exec(ctx, db, o->output, sqlite3_mprintf("BEGIN")))) goto detach;
        for (int k = 0; k < n0 && !st; k++) {
            st = exec(ctx, db, o->output, sqlite3_mprintf("INSERT INTO main.\"%w\" (%s) SELECT %s FROM src.\"%w\" ORDER BY fid",
                                                          ti[k].name, ti[k].cols, ti[k].cols, ti[k].name));
            if (!st) stats->rows += (unsigned long long)sqlite3_changes(db);
            if (!st && !strcmp(t0[k].type, "features"))
                st = exec(ctx, db, o->output, sqlite3_mprintf(
                    "UPDATE main.gpkg_contents SET "
                    "min_x = (SELECT CASE WHEN m.min_x IS NULL THEN s.min_x WHEN s.min_x IS NULL THEN m.min_x ELSE MIN(m.min_x, s.min_x) END "
                    "  FROM main.gpkg_contents m, src.gpkg_contents s WHERE m.table_name = %Q AND s.table_name = %Q),"
                    "min_y = (SELECT CASE WHEN m.min_y IS NULL THEN s.min_y WHEN s.min_y IS NULL THEN m.min_y ELSE MIN(m.min_y, s.min_y) END "
                    "  FROM main.gpkg_contents m, src.gpkg_contents s WHERE m.table_name = %Q AND s.table_name = %Q),"
                    "max_x = (SELECT CASE WHEN m.max_x IS NULL THEN s.max_x WHEN s.max_x IS NULL THEN m.max_x ELSE MAX(m.max_x, s.max_x) END "
                    "  FROM main.gpkg_contents m, src.gpkg_contents s WHERE m.table_name = %Q AND s.table_name = %Q),"
                    "max_y = (SELECT CASE WHEN m.max_y IS NULL THEN s.max_y WHEN s.max_y IS NULL THEN m.max_y ELSE MAX(m.max_y, s.max_y) END "
                    "  FROM main.gpkg_contents m, src.gpkg_contents s WHERE m.table_name = %Q AND s.table_name = %Q) "
                    "WHERE table_name = %Q",
                    t0[k].name, t0[k].name, t0[k].name, t0[k].name, t0[k].name, t0[k].name, t0[k].name, t0[k].name, t0[k].name));
        }
        if (!st) st = exec(ctx, db, o->output, sqlite3_mprintf("COMMIT"));
        else sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    detach:
        if (sqlite3_exec(db, "DETACH DATABASE src", NULL, NULL, NULL) != SQLITE_OK && !st) st = sqlerr(ctx, db, o->output, "detach");
    }
    if (!st) st = exec(ctx, db, o->output, sqlite3_mprintf("UPDATE gpkg_contents SET last_change = %Q", last_change));
    if (!st && sqlite3_close(db) != SQLITE_OK) st = sqlerr(ctx, db, o->output, "close");
    else if (!st) db = NULL;
    if (!st) st = gf_atomic_publish(ctx, &out);
done:
    free_tables(t0, n0);
    free_tables(ti, ni);
    if (src) sqlite3_close(src);
    if (db) sqlite3_close(db);
    gf_atomic_free(&out); /* removes the temporary unless published */
    return st;
}
