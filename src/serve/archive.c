/* Tile archives read by `geoflux serve`: PMTiles v3 (the file mapped once,
 * directories decoded per request: header -> root -> leaves, at most four
 * levels, every offset and length checked against the file) and MBTiles
 * (SQLite, TMS rows flipped). The writer side is src/tiles/pmtiles.c and
 * mbtiles.c; the tile-id mapping (gf_pmtiles_zxy_to_id) is theirs. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "geoflux/serve.h"
#include "tiles/tilemath.h"
#include "tiles/tileio.h"

#define PM_MAX_DIR (16u << 20) /* a decompressed directory larger than this is refused */
#define PM_MAX_DEPTH 4

struct gf_serve_archive {
    char name[129];
    int pmtiles;
    /* PMTiles */
    const uint8_t *map;
    uint64_t size;
    uint64_t root_off, root_len, meta_off, meta_len, leaf_off, leaf_len, data_off, data_len;
    int internal_gz, tile_gz;
    int minzoom, maxzoom;
    double bounds[4], center[3];
    /* MBTiles: one connection, its statement under a lock (SQLite serialises anyway) */
    sqlite3 *db;
    sqlite3_stmt *get;
    pthread_mutex_t lock;
    int has_lock;
};

/* off/len inside the file (overflow-safe) */
static int in_file(const gf_serve_archive *a, uint64_t off, uint64_t len)
{
    return off <= a->size && len <= a->size - off;
}

/* The bytes of a directory, decompressed when the archive says so. */
static gf_status dir_bytes(const gf_serve_archive *a, uint64_t off, uint64_t len, gf_buf *raw, const uint8_t **p,
                           size_t *n)
{
    if (!in_file(a, off, len) || len > PM_MAX_DIR) return GF_ERR_PARSE;
    if (a->internal_gz) {
        gf_status st = gf_tile_inflate(a->map + off, (size_t)len, PM_MAX_DIR, raw);
        if (st) return st;
        *p = (const uint8_t *)raw->p;
        *n = raw->len;
    } else {
        *p = a->map + off;
        *n = (size_t)len;
    }
    return GF_OK;
}

/* Finds id in a directory (spec 4.3: count, then the columns of delta
 * ids, run lengths, lengths and offsets, an offset of 0 meaning right
 * after the previous entry). The columns are walked with cursors, so a
 * directory costs no memory beyond its bytes: 1 and *off, *len of a tile
 * (*leaf 0) or of a leaf directory (*leaf 1); 0: not there; -1: damaged. */
static int dir_lookup(const uint8_t *p, size_t n, uint64_t id, uint64_t *off, uint64_t *len, int *leaf)
{
    uint64_t cnt, v;
    size_t k = gf_varint_get(p, n, &cnt), pos = k;
    if (!k || cnt > n) return -1; /* every entry takes at least 4 bytes */
    /* ids: the entry with the largest id <= the target */
    uint64_t last = 0, best = UINT64_MAX, best_id = 0;
    for (uint64_t i = 0; i < cnt; i++) {
        if (!(k = gf_varint_get(p + pos, n - pos, &v)) || v > UINT64_MAX - last) return -1;
        pos += k;
        last += v;
        if (i && v == 0) return -1; /* ids must increase */
        if (last <= id) { best = i; best_id = last; }
    }
    uint64_t run = 0;
    for (uint64_t i = 0; i < cnt; i++) {
        if (!(k = gf_varint_get(p + pos, n - pos, &v))) return -1;
        pos += k;
        if (i == best) run = v;
    }
    size_t lens = pos;
    for (uint64_t i = 0; i < cnt; i++) {
        if (!(k = gf_varint_get(p + pos, n - pos, &v))) return -1;
        pos += k;
    }
    if (best == UINT64_MAX) return 0;
    /* lengths and offsets in step, up to the entry found */
    size_t lp = lens, op = pos;
    uint64_t o = 0, l = 0, prev_l = 0;
    for (uint64_t i = 0; i <= best; i++) {
        if (!(k = gf_varint_get(p + lp, n - lp, &l))) return -1;
        lp += k;
        if (!(k = gf_varint_get(p + op, n - op, &v))) return -1;
        op += k;
        if (v == 0) {
            if (i == 0 || prev_l > UINT64_MAX - o) return -1;
            o += prev_l;
        } else o = v - 1;
        prev_l = l;
    }
    if (run == 0) { *leaf = 1; *off = o; *len = l; return 1; }
    if (id - best_id < run) { *leaf = 0; *off = o; *len = l; return 1; }
    return 0;
}

static gf_status pm_tile(gf_serve_archive *a, gf_ctx *ctx, int z, uint32_t x, uint32_t y, gf_buf *out, int *gz)
{
    out->len = 0;
    *gz = a->tile_gz;
    if (z < a->minzoom || z > a->maxzoom) return GF_OK;
    uint64_t id = gf_pmtiles_zxy_to_id(z, x, y);
    uint64_t doff = a->root_off, dlen = a->root_len;
    gf_buf raw = {0};
    gf_status st = GF_OK;
    for (int depth = 0;; depth++) {
        const uint8_t *p;
        size_t n;
        if (depth >= PM_MAX_DEPTH || (st = dir_bytes(a, doff, dlen, &raw, &p, &n))) {
            if (!st || st == GF_ERR_PARSE)
                st = gf_ctx_err(ctx, GF_ERR_PARSE, "%s.pmtiles: damaged directory (tile %d/%u/%u)", a->name, z, x, y);
            break;
        }
        uint64_t off, len;
        int leaf = 0;
        int r = dir_lookup(p, n, id, &off, &len, &leaf);
        if (r < 0) { st = gf_ctx_err(ctx, GF_ERR_PARSE, "%s.pmtiles: damaged directory (tile %d/%u/%u)", a->name, z, x, y); break; }
        if (r == 0) break;
        if (leaf) {
            if (off > a->leaf_len || len > a->leaf_len - off) { st = gf_ctx_err(ctx, GF_ERR_PARSE, "%s.pmtiles: leaf directory out of bounds", a->name); break; }
            doff = a->leaf_off + off;
            dlen = len;
            continue;
        }
        if (off > a->data_len || len > a->data_len - off || !in_file(a, a->data_off + off, len)) {
            st = gf_ctx_err(ctx, GF_ERR_PARSE, "%s.pmtiles: tile data out of bounds", a->name);
            break;
        }
        if (gf_buf_append(out, a->map + a->data_off + off, (size_t)len)) st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        break;
    }
    gf_buf_free(&raw);
    return st;
}

static gf_status open_pmtiles(gf_ctx *ctx, gf_serve_archive *a, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return gf_ctx_err(ctx, GF_ERR_INPUT, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) { close(fd); return gf_ctx_err(ctx, GF_ERR_INPUT, "%s: not a regular file", path); }
    if ((uint64_t)sb.st_size < GF_PM_HEADER) { close(fd); return gf_ctx_err(ctx, GF_ERR_PARSE, "%s: not a PMTiles v3 archive (too short)", path); }
    void *m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (m == MAP_FAILED) return gf_ctx_err(ctx, GF_ERR_INPUT, "%s: mmap: %s", path, strerror(errno));
    a->map = m;
    a->size = (uint64_t)sb.st_size;
    gf_pm_header h;
    int r = gf_pm_header_read(a->map, a->size, &h);
    if (r == -1) return gf_ctx_err(ctx, GF_ERR_PARSE, "%s: not a PMTiles v3 archive", path);
    if (r) return gf_ctx_err(ctx, GF_ERR_PARSE, "%s: PMTiles header points outside the file", path);
    a->root_off = h.root_off; a->root_len = h.root_len;
    a->meta_off = h.meta_off; a->meta_len = h.meta_len;
    a->leaf_off = h.leaf_off; a->leaf_len = h.leaf_len;
    a->data_off = h.data_off; a->data_len = h.data_len;
    if (h.internal_comp > 2 || h.tile_comp > 2)
        return gf_ctx_err(ctx, GF_ERR_UNSUPPORTED, "%s: PMTiles compression %d/%d not supported (none or gzip)", path,
                          h.internal_comp, h.tile_comp);
    a->internal_gz = h.internal_comp == 2;
    a->tile_gz = h.tile_comp == 2;
    a->minzoom = h.minzoom;
    a->maxzoom = h.maxzoom;
    memcpy(a->bounds, h.bounds, sizeof a->bounds);
    memcpy(a->center, h.center, sizeof a->center);
    return GF_OK;
}

static gf_status open_mbtiles(gf_ctx *ctx, gf_serve_archive *a, const char *path)
{
    if (sqlite3_open_v2(path, &a->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK)
        return gf_ctx_err(ctx, GF_ERR_INPUT, "%s: %s", path, a->db ? sqlite3_errmsg(a->db) : "cannot open");
    if (sqlite3_prepare_v2(a->db, "SELECT tile_data FROM tiles WHERE zoom_level=? AND tile_column=? AND tile_row=?", -1,
                           &a->get, NULL) != SQLITE_OK)
        return gf_ctx_err(ctx, GF_ERR_PARSE, "%s: not an MBTiles archive: %s", path, sqlite3_errmsg(a->db));
    if (pthread_mutex_init(&a->lock, NULL)) return gf_ctx_err(ctx, GF_ERR_NOMEM, "mutex");
    a->has_lock = 1;
    a->minzoom = 0;
    a->maxzoom = 14;
    a->tile_gz = 1;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(a->db, "SELECT name, value FROM metadata", -1, &s, NULL) == SQLITE_OK) {
        while (sqlite3_step(s) == SQLITE_ROW) {
            const char *k = (const char *)sqlite3_column_text(s, 0), *v = (const char *)sqlite3_column_text(s, 1);
            if (!k || !v) continue;
            char *e;
            if (!strcmp(k, "minzoom")) { long z = strtol(v, &e, 10); if (!*e && z >= 0 && z <= 30) a->minzoom = (int)z; }
            else if (!strcmp(k, "maxzoom")) { long z = strtol(v, &e, 10); if (!*e && z >= 0 && z <= 30) a->maxzoom = (int)z; }
            else if (!strcmp(k, "bounds")) sscanf(v, "%lf,%lf,%lf,%lf", &a->bounds[0], &a->bounds[1], &a->bounds[2], &a->bounds[3]);
            else if (!strcmp(k, "center")) sscanf(v, "%lf,%lf,%lf", &a->center[0], &a->center[1], &a->center[2]);
        }
        sqlite3_finalize(s);
    }
    return GF_OK;
}

gf_status gf_serve_archive_open(gf_ctx *ctx, const char *path, gf_serve_archive **out)
{
    if (!path || !out) return gf_ctx_err(ctx, GF_ERR_ARG, "serve: no archive path");
    *out = NULL;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    int pm = dot && !strcmp(dot, ".pmtiles"), mb = dot && !strcmp(dot, ".mbtiles");
    if (!pm && !mb) return gf_ctx_err(ctx, GF_ERR_ARG, "%s: not a .pmtiles or .mbtiles archive", path);
    size_t nl = (size_t)(dot - base);
    if (!nl || nl > 128) return gf_ctx_err(ctx, GF_ERR_ARG, "%s: archive name empty or too long", path);
    for (size_t i = 0; i < nl; i++) {
        char c = base[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || (c == '.' && i)))
            return gf_ctx_err(ctx, GF_ERR_ARG, "%s: an archive's name may only have letters, digits, '-', '_' and '.' (it is part of URLs)", path);
    }
    gf_serve_archive *a = calloc(1, sizeof *a);
    if (!a) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    memcpy(a->name, base, nl);
    a->pmtiles = pm;
    gf_status st = pm ? open_pmtiles(ctx, a, path) : open_mbtiles(ctx, a, path);
    if (st) { gf_serve_archive_destroy(a); return st; }
    *out = a;
    return GF_OK;
}

void gf_serve_archive_destroy(gf_serve_archive *a)
{
    if (!a) return;
    if (a->map) munmap((void *)a->map, (size_t)a->size);
    if (a->get) sqlite3_finalize(a->get);
    if (a->db) sqlite3_close(a->db);
    if (a->has_lock) pthread_mutex_destroy(&a->lock);
    free(a);
}

const char *gf_serve_archive_name(const gf_serve_archive *a) { return a->name; }
int gf_serve_archive_is_pmtiles(const gf_serve_archive *a) { return a->pmtiles; }

const uint8_t *gf_serve_archive_bytes(const gf_serve_archive *a, uint64_t *size)
{
    if (!a->pmtiles) return NULL;
    *size = a->size;
    return a->map;
}

gf_status gf_serve_archive_tile(gf_serve_archive *a, gf_ctx *ctx, int z, uint32_t x, uint32_t y, gf_buf *out, int *gz)
{
    if (!a || !out || !gz || z < 0 || z > 30) return gf_ctx_err(ctx, GF_ERR_ARG, "serve: bad tile request");
    if (a->pmtiles) return pm_tile(a, ctx, z, x, y, out, gz);
    out->len = 0;
    *gz = 0;
    gf_status st = GF_OK;
    pthread_mutex_lock(&a->lock);
    sqlite3_reset(a->get);
    sqlite3_bind_int(a->get, 1, z);
    sqlite3_bind_int64(a->get, 2, x);
    sqlite3_bind_int64(a->get, 3, (int64_t)(((uint64_t)1 << z) - 1 - y)); /* TMS rows count from the south */
    int r = sqlite3_step(a->get);
    if (r == SQLITE_ROW) {
        const uint8_t *p = sqlite3_column_blob(a->get, 0);
        int n = sqlite3_column_bytes(a->get, 0);
        if (p && n > 0) {
            if (gf_buf_append(out, p, (size_t)n)) st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
            *gz = n >= 2 && p[0] == 0x1f && p[1] == 0x8b;
        }
    } else if (r != SQLITE_DONE) st = gf_ctx_err(ctx, GF_ERR_SQL, "%s.mbtiles: %s", a->name, sqlite3_errmsg(a->db));
    sqlite3_reset(a->get);
    pthread_mutex_unlock(&a->lock);
    return st;
}

/* The "vector_layers" array of a metadata JSON object: the balanced
 * brackets after the key, strings respected. NULL when there is none. */
static const char *find_layers(const char *j, size_t n, size_t *len)
{
    static const char key[] = "\"vector_layers\"";
    for (size_t i = 0; i + sizeof key - 1 <= n; i++) {
        if (memcmp(j + i, key, sizeof key - 1)) continue;
        size_t k = i + sizeof key - 1;
        while (k < n && (j[k] == ' ' || j[k] == ':' || j[k] == '\n' || j[k] == '\t' || j[k] == '\r')) k++;
        if (k >= n || j[k] != '[') return NULL;
        int depth = 0, in_str = 0;
        for (size_t e = k; e < n; e++) {
            char c = j[e];
            if (in_str) {
                if (c == '\\') e++;
                else if (c == '"') in_str = 0;
                continue;
            }
            if (c == '"') in_str = 1;
            else if (c == '[' || c == '{') depth++;
            else if (c == ']' || c == '}') {
                if (--depth == 0) { *len = e - k + 1; return j + k; }
            }
        }
        return NULL;
    }
    return NULL;
}

gf_status gf_serve_archive_tilejson(gf_serve_archive *a, const char *base_url, gf_buf *out)
{
    gf_buf meta = {0};
    const char *layers = NULL;
    size_t llen = 0;
    if (a->pmtiles) {
        if (a->meta_len && a->meta_len <= PM_MAX_DIR) {
            if (a->internal_gz) {
                if (gf_tile_inflate(a->map + a->meta_off, (size_t)a->meta_len, PM_MAX_DIR, &meta) == GF_OK)
                    layers = find_layers(meta.p, meta.len, &llen);
            } else layers = find_layers((const char *)a->map + a->meta_off, (size_t)a->meta_len, &llen);
        }
    } else {
        sqlite3_stmt *s;
        pthread_mutex_lock(&a->lock);
        if (sqlite3_prepare_v2(a->db, "SELECT value FROM metadata WHERE name='json'", -1, &s, NULL) == SQLITE_OK) {
            if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0)) {
                const char *v = (const char *)sqlite3_column_text(s, 0);
                gf_buf_append(&meta, v, strlen(v));
            }
            sqlite3_finalize(s);
        }
        pthread_mutex_unlock(&a->lock);
        if (meta.len) layers = find_layers(meta.p, meta.len, &llen);
    }
    char url[1024];
    snprintf(url, sizeof url, "%s/tiles/%s/{z}/{x}/{y}.mvt", base_url ? base_url : "", a->name);
    gf_status st = gf_buf_printf(out, "{\"tilejson\":\"3.0.0\",\"name\":\"%s\",\"scheme\":\"xyz\",\"tiles\":[", a->name);
    if (!st) st = gf_buf_json_str(out, url, strlen(url));
    if (!st) st = gf_buf_printf(out, "],\"minzoom\":%d,\"maxzoom\":%d,\"bounds\":[%.7g,%.7g,%.7g,%.7g],"
                                     "\"center\":[%.7g,%.7g,%d],\"vector_layers\":",
                                a->minzoom, a->maxzoom, a->bounds[0], a->bounds[1], a->bounds[2], a->bounds[3],
                                a->center[0], a->center[1], (int)a->center[2]);
    if (!st) st = layers ? gf_buf_append(out, layers, llen) : gf_buf_append(out, "[]", 2);
    if (!st) st = gf_buf_append(out, "}", 1);
    gf_buf_free(&meta);
    return st;
}
