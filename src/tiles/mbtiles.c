/* MBTiles 1.3 writer (SQLite). Deduplicated schema as tippecanoe and
 * mb-util write it: `images(tile_data, tile_id)` holds each distinct tile
 * once, `map(zoom_level, tile_column, tile_row, tile_id)` addresses it, and
 * the `tiles` view joins them, which is what readers (GDAL, MapLibre
 * servers) query. Rows are TMS (y flipped). Written in one transaction
 * under a temporary name (gf_atomic), renamed at publish(). */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "geoflux/pipeline.h"
#include "geoflux/write.h"
#include "tiles/archive.h"

typedef struct gf_mbtiles {
    gf_tile_archive base;
    gf_atomic out; /* out.path: the user's path */
    sqlite3 *db;
    sqlite3_stmt *ins_map, *ins_img;
    gf_tile_dedup dd;
} gf_mbtiles;

static gf_status sqlerr(gf_ctx *ctx, gf_mbtiles *m, const char *what)
{
    return gf_ctx_err(ctx, GF_ERR_SQL, "%s: %s: %s", m->out.path, what, m->db ? sqlite3_errmsg(m->db) : "no database");
}

static gf_status mb_put(gf_tile_archive *a, gf_ctx *ctx, int z, uint32_t x, uint32_t y, const uint8_t *data, size_t len)
{
    gf_mbtiles *m = (gf_mbtiles *)a;
    uint64_t h1, h2, next = a->nunique;
    gf_tile_hash128(data, len, &h1, &h2);
    int seen = gf_tile_dedup_get_or_put(&m->dd, h1, h2, &next, len);
    if (seen < 0) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    char id[40];
    snprintf(id, sizeof id, "%016llx%016llx", (unsigned long long)h1, (unsigned long long)h2);
    a->ntiles++;
    if (len > a->max_tile) a->max_tile = len;
    if (!seen) {
        sqlite3_reset(m->ins_img);
        sqlite3_bind_blob(m->ins_img, 1, data, (int)len, SQLITE_STATIC);
        sqlite3_bind_text(m->ins_img, 2, id, -1, SQLITE_STATIC);
        if (sqlite3_step(m->ins_img) != SQLITE_DONE) return sqlerr(ctx, m, "insert image");
        a->nunique++;
        a->bytes += len;
    }
    sqlite3_reset(m->ins_map);
    sqlite3_bind_int(m->ins_map, 1, z);
    sqlite3_bind_int64(m->ins_map, 2, x);
    sqlite3_bind_int64(m->ins_map, 3, (int64_t)((1ull << z) - 1 - y)); /* TMS rows count from the south */
    sqlite3_bind_text(m->ins_map, 4, id, -1, SQLITE_STATIC);
    if (sqlite3_step(m->ins_map) != SQLITE_DONE) return sqlerr(ctx, m, "insert tile");
    return GF_OK;
}

static gf_status meta(gf_ctx *ctx, gf_mbtiles *m, const char *k, const char *v)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(m->db, "INSERT INTO metadata(name, value) VALUES (?, ?)", -1, &s, NULL) != SQLITE_OK)
        return sqlerr(ctx, m, "metadata");
    sqlite3_bind_text(s, 1, k, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, v, -1, SQLITE_STATIC);
    int r = sqlite3_step(s);
    sqlite3_finalize(s);
    return r == SQLITE_DONE ? GF_OK : sqlerr(ctx, m, "metadata");
}

static gf_status mb_finish(gf_tile_archive *a, gf_ctx *ctx, const gf_tile_meta *md)
{
    gf_mbtiles *m = (gf_mbtiles *)a;
    gf_status st;
    char v[256];
    gf_buf js = {0};
    if ((st = meta(ctx, m, "name", md->name)) || (st = meta(ctx, m, "format", "pbf")) ||
        (st = meta(ctx, m, "type", "overlay")) || (st = meta(ctx, m, "version", "2")) ||
        (st = meta(ctx, m, "description", md->name)))
        return st;
    snprintf(v, sizeof v, "%d", md->minzoom);
    if ((st = meta(ctx, m, "minzoom", v))) return st;
    snprintf(v, sizeof v, "%d", md->maxzoom);
    if ((st = meta(ctx, m, "maxzoom", v))) return st;
    snprintf(v, sizeof v, "%.7f,%.7f,%.7f,%.7f", md->bounds[0], md->bounds[1], md->bounds[2], md->bounds[3]);
    if ((st = meta(ctx, m, "bounds", v))) return st;
    snprintf(v, sizeof v, "%.7f,%.7f,%d", md->center[0], md->center[1], (int)md->center[2]);
    if ((st = meta(ctx, m, "center", v))) return st;
    if (gf_buf_printf(&js, "{\"vector_layers\":%s}", md->vector_layers)) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    js.p[js.len] = 0;
    st = meta(ctx, m, "json", js.p);
    gf_buf_free(&js);
    if (st) return st;
    sqlite3_finalize(m->ins_map);
    sqlite3_finalize(m->ins_img);
    m->ins_map = m->ins_img = NULL;
    if (sqlite3_exec(m->db, "CREATE UNIQUE INDEX map_index ON map (zoom_level, tile_column, tile_row);"
                            "CREATE UNIQUE INDEX images_id ON images (tile_id);"
                            "COMMIT;", NULL, NULL, NULL) != SQLITE_OK)
        return sqlerr(ctx, m, "index");
    if (sqlite3_close(m->db) != SQLITE_OK) return sqlerr(ctx, m, "close");
    m->db = NULL;
    return GF_OK;
}

static gf_status mb_publish(gf_tile_archive *a, gf_ctx *ctx)
{
    gf_mbtiles *m = (gf_mbtiles *)a;
    return gf_atomic_publish(ctx, &m->out);
}

static void mb_destroy(gf_tile_archive *a)
{
    gf_mbtiles *m = (gf_mbtiles *)a;
    if (!m) return;
    sqlite3_finalize(m->ins_map);
    sqlite3_finalize(m->ins_img);
    if (m->db) sqlite3_close(m->db);
    gf_atomic_free(&m->out);
    gf_tile_dedup_free(&m->dd);
    free(m);
}

static const gf_tile_archive_vt mb_vt = {.put = mb_put, .finish = mb_finish, .publish = mb_publish, .destroy = mb_destroy};

gf_status gf_mbtiles_create(gf_ctx *ctx, const char *path, gf_tile_archive **out)
{
    gf_mbtiles *m = calloc(1, sizeof *m);
    if (!m) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    m->base.vt = &mb_vt;
    gf_status st0 = gf_atomic_create(ctx, path, GF_ATOMIC_SQLITE, &m->out);
    if (!st0) st0 = gf_atomic_close(ctx, &m->out); /* an empty file is a new database to SQLite */
    if (st0) {
        mb_destroy(&m->base);
        return st0;
    }
    if (sqlite3_open_v2(m->out.tmp, &m->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
        gf_status st = sqlerr(ctx, m, "open");
        mb_destroy(&m->base);
        return st;
    }
    /* The file is private until the rename: no journal, no syncs. */
    if (sqlite3_exec(m->db,
                     "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA application_id=0x4d504258;"
                     "BEGIN;"
                     "CREATE TABLE metadata (name TEXT, value TEXT);"
                     "CREATE TABLE map (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_id TEXT);"
                     "CREATE TABLE images (tile_data BLOB, tile_id TEXT);"
                     "CREATE VIEW tiles AS SELECT map.zoom_level AS zoom_level, map.tile_column AS tile_column,"
                     " map.tile_row AS tile_row, images.tile_data AS tile_data FROM map JOIN images ON"
                     " images.tile_id = map.tile_id;",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(m->db, "INSERT INTO map VALUES (?, ?, ?, ?)", -1, &m->ins_map, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(m->db, "INSERT INTO images VALUES (?, ?)", -1, &m->ins_img, NULL) != SQLITE_OK) {
        gf_status st = sqlerr(ctx, m, "create schema");
        mb_destroy(&m->base);
        return st;
    }
    *out = &m->base;
    return GF_OK;
}
