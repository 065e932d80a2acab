/* geoflux merge of tile archives (PMTiles v3, MBTiles): every input's tile
 * index is read (PMTiles directories walked, MBTiles `tiles` listed), the
 * entries sorted by PMTiles tile id, and each tile id's tiles merged and
 * handed in id order to geoflux's own archive writers (src/tiles/), which
 * cluster, deduplicate and write the file atomically.
 *
 * Why the PMTiles directories are walked here and not through serve's
 * reader (src/serve/archive.c): that reader finds one tile per request and
 * never lists an archive; merge needs every entry once, in order.
 *
 * Why the MVT is decoded by hand: like the encoder (src/tiles/mvt.h), the
 * four messages are small, and a merge only re-indexes tags: geometries are
 * copied as bytes, never decoded.
 *
 * Two passes over the inputs: the first finds each layer's largest feature
 * id per input (the id offsets of later inputs) and checks every tile; the
 * second merges. A tile held by one input only, with no id to move, is
 * re-encoded too: the result is the same bytes geoflux wrote (same layer
 * and feature encoding, same gzip settings as src/tiles/sink.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sqlite3.h>

#include "core/hilbert.h"
#include "geoflux/tiles.h"
#include "merge/merge_int.h"
#include "tiles/archive.h"
#include "tiles/trec.h"
#include "tiles/mvt.h"
#include "tiles/tilemath.h"
#include "tiles/tileio.h"

#define MT_MAX_DIR (16u << 20)    /* a decompressed directory larger than this is refused */
#define MT_MAX_TILE (64u << 20)   /* a decompressed tile larger than this is refused */
#define MT_MAX_DEPTH 4
#define MT_MAX_LAYERS 256         /* distinct layer names over all inputs */
#define MT_MAXZOOM 30

/* ---------------------------------------------------------------- inputs -- */

typedef struct mt_ent { uint64_t id, off, len; uint32_t src; } mt_ent;

typedef struct mt_in {
    const char *path;
    int pmtiles;
    /* PMTiles: the file mapped */
    uint8_t *map;
    size_t size;
    uint64_t root_off, root_len, meta_off, meta_len, leaf_off, leaf_len, data_off, data_len;
    int internal_comp, tile_comp;
    /* MBTiles */
    sqlite3 *db;
    sqlite3_stmt *get;
    /* both */
    int minzoom, maxzoom;
    double bounds[4], center[3];
    int has_center;
    char *name;
    json_object *meta; /* metadata JSON (owns vector_layers) */
} mt_in;

typedef struct mt_list { mt_ent *e; size_t n, cap; } mt_list;

static int list_push(mt_list *l, uint64_t id, uint64_t off, uint64_t len, uint32_t src)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 4096;
        mt_ent *e = realloc(l->e, nc * sizeof *e);
        if (!e) return -1;
        l->e = e;
        l->cap = nc;
    }
    l->e[l->n++] = (mt_ent){id, off, len, src};
    return 0;
}

/* A directory (spec 4.3) and its leaves, entries appended to l. */
static gf_status walk_dir(gf_ctx *ctx, mt_in *in, uint32_t src, uint64_t off, uint64_t len, int depth, mt_list *l)
{
    if (depth >= MT_MAX_DEPTH) return gf_ctx_err(ctx, GF_ERR_PARSE, "%s: directories nested too deep", in->path);
    if (off > in->size || len > in->size - off || len > MT_MAX_DIR)
        return gf_ctx_err(ctx, GF_ERR_PARSE, "%s: directory out of the file", in->path);
    gf_buf raw = {0};
    const uint8_t *p = in->map + off;
    size_t n = (size_t)len;
    gf_status st = GF_OK;
    if (in->internal_comp == 2) {
        if ((st = gf_tile_inflate(p, n, MT_MAX_DIR, &raw))) {
            gf_buf_free(&raw);
            return st == GF_ERR_NOMEM ? gf_ctx_err(ctx, st, "out of memory")
                                      : gf_ctx_err(ctx, GF_ERR_PARSE, "%s: damaged directory", in->path);
        }
        p = (const uint8_t *)raw.p;
        n = raw.len;
    }
    uint64_t cnt, v;
    size_t k = gf_varint_get(p, n, &cnt), pos = k;
    mt_ent *e = NULL;
    if (!k || cnt > n) goto bad;
    e = calloc(cnt ? cnt : 1, sizeof *e);
    if (!e) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto out; }
    uint64_t last = 0;
    for (uint64_t i = 0; i < cnt; i++) {
        if (!(k = gf_varint_get(p + pos, n - pos, &v)) || v > UINT64_MAX - last || (i && !v)) goto bad;
        pos += k;
        e[i].id = last += v;
    }
    for (uint64_t i = 0; i < cnt; i++) { /* run lengths, kept in src */
        if (!(k = gf_varint_get(p + pos, n - pos, &v)) || v > UINT32_MAX) goto bad;
        pos += k;
        e[i].src = (uint32_t)v;
    }
    for (uint64_t i = 0; i < cnt; i++) {
        if (!(k = gf_varint_get(p + pos, n - pos, &v))) goto bad;
        pos += k;
        e[i].len = v;
    }
    for (uint64_t i = 0; i < cnt; i++) {
        if (!(k = gf_varint_get(p + pos, n - pos, &v))) goto bad;
        pos += k;
        if (v == 0) {
            if (!i || e[i - 1].len > UINT64_MAX - e[i - 1].off) goto bad;
            e[i].off = e[i - 1].off + e[i - 1].len;
        } else {
            e[i].off = v - 1;
        }
    }
    for (uint64_t i = 0; i < cnt && !st; i++) {
        if (e[i].src == 0) { /* a leaf directory */
            if (e[i].off > in->leaf_len || e[i].len > in->leaf_len - e[i].off) goto bad;
            st = walk_dir(ctx, in, src, in->leaf_off + e[i].off, e[i].len, depth + 1, l);
            continue;
        }
        if (e[i].off > in->data_len || e[i].len > in->data_len - e[i].off) goto bad;
        for (uint32_t r = 0; r < e[i].src; r++) {
            if (e[i].id + r < e[i].id || list_push(l, e[i].id + r, e[i].off, e[i].len, src)) {
                st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
                break;
            }
        }
    }
    goto out;
bad:
    st = gf_ctx_err(ctx, GF_ERR_PARSE, "%s: damaged directory", in->path);
out:
    free(e);
    gf_buf_free(&raw);
    return st;
}

static gf_status parse_meta(gf_ctx *ctx, mt_in *in, const char *json, size_t n)
{
    struct json_tokener *tok = json_tokener_new();
    if (!tok) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    in->meta = json_tokener_parse_ex(tok, json, (int)(n > INT32_MAX ? INT32_MAX : n));
    int bad = json_tokener_get_error(tok) != json_tokener_success;
    json_tokener_free(tok);
    if (bad || !json_object_is_type(in->meta, json_type_object))
        return gf_ctx_err(ctx, GF_ERR_PARSE, "%s: metadata is not a JSON object", in->path);
    json_object *vl;
    if (!json_object_object_get_ex(in->meta, "vector_layers", &vl) || !json_object_is_type(vl, json_type_array))
        return gf_ctx_err(ctx, GF_ERR_PARSE, "%s: metadata without vector_layers (not a vector tile archive?)", in->path);
    json_object *nm;
    if (!in->name && json_object_object_get_ex(in->meta, "name", &nm) && json_object_is_type(nm, json_type_string) &&
        !(in->name = strdup(json_object_get_string(nm))))
        return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    return GF_OK;
}

static gf_status open_pmtiles(gf_ctx *ctx, mt_in *in, uint32_t src, mt_list *l)
{
    int fd = open(in->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return gf_ctx_err(ctx, GF_ERR_INPUT, "%s: %s", in->path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) || !S_ISREG(sb.st_mode) || sb.st_size < GF_PM_HEADER) {
        close(fd);
        return gf_ctx_err(ctx, GF_ERR_PARSE, "%s: not a PMTiles v3 archive (too short)", in->path);
    }
    in->size = (size_t)sb.st_size;
    void *m = mmap(NULL, in->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) return gf_ctx_err(ctx, GF_ERR_INPUT, "%s: %s", in->path, strerror(errno));
    in->map = m;
    gf_pm_header h;
    int r = gf_pm_header_read(in->map, in->size, &h);
    if (r == -1) return gf_ctx_err(ctx, GF_ERR_PARSE, "%s: not a PMTiles v3 archive", in->path);
    in->root_off = h.root_off;
    in->root_len = h.root_len;
    in->meta_off = h.meta_off;
    in->meta_len = h.meta_len;
    in->leaf_off = h.leaf_off;
    in->leaf_len = h.leaf_len;
    in->data_off = h.data_off;
    in->data_len = h.data_len;
    in->internal_comp = h.internal_comp;
    in->tile_comp = h.tile_comp;
    in->minzoom = h.minzoom;
    in->maxzoom = h.maxzoom;
    memcpy(in->bounds, h.bounds, sizeof in->bounds);
    memcpy(in->center, h.center, sizeof in->center);
    in->has_center = 1;
    if (h.tile_type != 1)
        return gf_ctx_err(ctx, GF_ERR_ARG, "%s: tile type %d, not MVT vector tiles: merge joins vector tiles", in->path,
                          h.tile_type);
    if (in->internal_comp != 1 && in->internal_comp != 2)
        return gf_ctx_err(ctx, GF_ERR_UNSUPPORTED, "%s: internal compression %d (geoflux reads none and gzip)", in->path,
                          in->internal_comp);
    if (in->tile_comp != 1 && in->tile_comp != 2)
        return gf_ctx_err(ctx, GF_ERR_UNSUPPORTED, "%s: tile compression %d (geoflux reads none and gzip)", in->path,
                          in->tile_comp);
    if (r || in->meta_len > MT_MAX_DIR) return gf_ctx_err(ctx, GF_ERR_PARSE, "%s: header points outside the file", in->path);
    gf_buf js = {0};
    gf_status st;
    if (in->internal_comp == 2) {
        st = gf_tile_inflate(in->map + in->meta_off, (size_t)in->meta_len, MT_MAX_DIR, &js);
        if (st) { gf_buf_free(&js); return gf_ctx_err(ctx, st == GF_ERR_NOMEM ? st : GF_ERR_PARSE, "%s: damaged metadata", in->path); }
    } else if ((st = gf_buf_append(&js, in->map + in->meta_off, (size_t)in->meta_len))) {
        return gf_ctx_err(ctx, st, "out of memory");
    }
    st = parse_meta(ctx, in, js.p ? js.p : "", js.len);
    gf_buf_free(&js);
    if (st) return st;
    return walk_dir(ctx, in, src, in->root_off, in->root_len, 0, l);
}

/* borrowed until the next call */
static const char *mb_meta(sqlite3_stmt *s, const char *name)
{
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    return sqlite3_step(s) == SQLITE_ROW ? (const char *)sqlite3_column_text(s, 0) : NULL;
}

static gf_status open_mbtiles(gf_ctx *ctx, mt_in *in, uint32_t src, mt_list *l)
{
    gf_status st = GF_OK;
    if (sqlite3_open_v2(in->path, &in->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return gf_ctx_err(ctx, GF_ERR_INPUT, "%s: %s", in->path, in->db ? sqlite3_errmsg(in->db) : "cannot open");
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(in->db, "SELECT value FROM metadata WHERE name = ?", -1, &s, NULL) != SQLITE_OK)
        return gf_ctx_err(ctx, GF_ERR_PARSE, "%s: metadata: %s", in->path, sqlite3_errmsg(in->db));
    const char *v = mb_meta(s, "format");
    if (!v || strcmp(v, "pbf")) {
        st = gf_ctx_err(ctx, GF_ERR_ARG, "%s: tile format '%s', not pbf (MVT): merge joins vector tiles", in->path, v ? v : "(none)");
        goto out;
    }
    static const char *zk[2] = {"minzoom", "maxzoom"};
    for (int q = 0; q < 2; q++) {
        char *end;
        long zv = q ? MT_MAXZOOM : 0;
        if ((v = mb_meta(s, zk[q])) && ((zv = strtol(v, &end, 10)), end == v || *end || zv < 0 || zv > MT_MAXZOOM)) {
            st = gf_ctx_err(ctx, GF_ERR_PARSE, "%s: metadata %s '%s' is not a zoom level", in->path, zk[q], v);
            goto out;
        }
        *(q ? &in->maxzoom : &in->minzoom) = (int)zv;
    }
    in->bounds[0] = -180; in->bounds[1] = -85.0511287; in->bounds[2] = 180; in->bounds[3] = 85.0511287;
    if ((v = mb_meta(s, "bounds")) &&
        sscanf(v, "%lf,%lf,%lf,%lf", &in->bounds[0], &in->bounds[1], &in->bounds[2], &in->bounds[3]) != 4) {
        st = gf_ctx_err(ctx, GF_ERR_PARSE, "%s: metadata bounds '%s' are not four numbers", in->path, v);
        goto out;
    }
    in->has_center = (v = mb_meta(s, "center")) && sscanf(v, "%lf,%lf,%lf", &in->center[0], &in->center[1], &in->center[2]) == 3;
    if ((v = mb_meta(s, "name")) && !(in->name = strdup(v))) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto out; }
    if (!(v = mb_meta(s, "json"))) {
        st = gf_ctx_err(ctx, GF_ERR_PARSE, "%s: metadata without json (vector_layers)", in->path);
        goto out;
    }
    if ((st = parse_meta(ctx, in, v, strlen(v)))) goto out;
    sqlite3_finalize(s);
    s = NULL;
    if (sqlite3_prepare_v2(in->db, "SELECT zoom_level, tile_column, tile_row FROM tiles", -1, &s, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(in->db, "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                           -1, &in->get, NULL) != SQLITE_OK) {
        st = gf_ctx_err(ctx, GF_ERR_PARSE, "%s: tiles: %s", in->path, sqlite3_errmsg(in->db));
        goto out;
    }
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        sqlite3_int64 z = sqlite3_column_int64(s, 0), x = sqlite3_column_int64(s, 1), row = sqlite3_column_int64(s, 2);
        if (z < 0 || z > MT_MAXZOOM || x < 0 || row < 0 || x >= (1ll << z) || row >= (1ll << z)) {
            st = gf_ctx_err(ctx, GF_ERR_PARSE, "%s: tile %lld/%lld/%lld outside its zoom", in->path, (long long)z, (long long)x,
                            (long long)row);
            goto out;
        }
        uint32_t y = (uint32_t)((1ll << z) - 1 - row);
        if (list_push(l, gf_pmtiles_zxy_to_id((int)z, (uint32_t)x, y), 0, 0, src)) {
            st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    if (r != SQLITE_DONE) st = gf_ctx_err(ctx, GF_ERR_PARSE, "%s: tiles: %s", in->path, sqlite3_errmsg(in->db));
out:
    sqlite3_finalize(s);
    return st;
}

static void close_in(mt_in *in)
{
    if (in->map) munmap(in->map, in->size);
    sqlite3_finalize(in->get);
    if (in->db) sqlite3_close(in->db);
    free(in->name);
    if (in->meta) json_object_put(in->meta);
}

/* The stored bytes of tile e of in, decompressed into raw. */
static gf_status tile_bytes(gf_ctx *ctx, mt_in *in, const mt_ent *e, gf_buf *stored, gf_buf *raw)
{
    const uint8_t *p;
    size_t n;
    int z;
    uint32_t x, y;
    if (gf_pmtiles_id_to_zxy(e->id, &z, &x, &y)) return gf_ctx_err(ctx, GF_ERR_PARSE, "%s: tile id %llu out of range", in->path, (unsigned long long)e->id);
    stored->len = 0;
    if (in->pmtiles) {
        p = in->map + in->data_off + e->off;
        n = (size_t)e->len;
    } else {
        sqlite3_reset(in->get);
        sqlite3_bind_int(in->get, 1, z);
        sqlite3_bind_int64(in->get, 2, x);
        sqlite3_bind_int64(in->get, 3, (int64_t)((1ull << z) - 1 - y));
        if (sqlite3_step(in->get) != SQLITE_ROW)
            return gf_ctx_err(ctx, GF_ERR_PARSE, "%s: tile %d/%u/%u: %s", in->path, z, x, y, sqlite3_errmsg(in->db));
        p = sqlite3_column_blob(in->get, 0);
        n = (size_t)sqlite3_column_bytes(in->get, 0);
    }
    if (n && gf_buf_append(stored, p, n)) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    p = (const uint8_t *)stored->p;
    int gz = in->pmtiles ? in->tile_comp == 2 : (n >= 2 && p[0] == 0x1f && p[1] == 0x8b);
    if (!gz) {
        raw->len = 0;
        return n && gf_buf_append(raw, p, n) ? gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory") : GF_OK;
    }
    gf_status st = gf_tile_inflate(p, n, MT_MAX_TILE, raw);
    if (st) return gf_ctx_err(ctx, st == GF_ERR_NOMEM ? st : GF_ERR_PARSE, "%s: tile %d/%u/%u: damaged gzip", in->path, z, x, y);
    return GF_OK;
}

/* ---------------------------------------------------------- MVT decoding -- */

typedef struct mv_span { const uint8_t *p; size_t n; } mv_span;
typedef struct mv_feat { uint64_t id; int has_id; uint32_t type; mv_span tags, geom; } mv_feat;
typedef struct mv_layer {
    mv_span name;
    uint64_t extent;
    mv_feat *f;
    size_t nf, fcap;
    mv_span *keys, *vals;
    size_t nk, kcap, nv, vcap;
} mv_layer;
typedef struct mv_tile { mv_layer *l; size_t nl, lcap; } mv_tile;

/* One protobuf field: its number, wire type, and value (varint) or bytes. */
static int pb_next(const uint8_t **pp, const uint8_t *end, uint32_t *field, int *wt, uint64_t *v, mv_span *s)
{
    const uint8_t *p = *pp;
    uint64_t key;
    size_t k = gf_varint_get(p, (size_t)(end - p), &key);
    if (!k || key >> 3 > UINT32_MAX) return -1;
    p += k;
    *field = (uint32_t)(key >> 3);
    *wt = (int)(key & 7);
    switch (*wt) {
    case 0:
        if (!(k = gf_varint_get(p, (size_t)(end - p), v))) return -1;
        p += k;
        break;
    case 1: if (end - p < 8) return -1; p += 8; break;
    case 5: if (end - p < 4) return -1; p += 4; break;
    case 2:
        if (!(k = gf_varint_get(p, (size_t)(end - p), v))) return -1;
        p += k;
        if (*v > (uint64_t)(end - p)) return -1;
        s->p = p;
        s->n = (size_t)*v;
        p += *v;
        break;
    default: return -1;
    }
    *pp = p;
    return 0;
}

#define GROW(arr, n, cap)                                                                 \
    ((n) < (cap) ? 0 : ((cap) = (cap) ? (cap) * 2 : 16,                                   \
                        (arr = realloc_or_null(arr, (cap) * sizeof *(arr))) ? 0 : -1))
static void *realloc_or_null(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) free(p);
    return q;
}

static int decode_feature(mv_feat *f, mv_span s)
{
    const uint8_t *p = s.p, *end = s.p + s.n;
    memset(f, 0, sizeof *f);
    while (p < end) {
        uint32_t fld; int wt; uint64_t v = 0; mv_span sp = {0};
        if (pb_next(&p, end, &fld, &wt, &v, &sp)) return -1;
        if (fld == 1 && wt == 0) { f->id = v; f->has_id = 1; }
        else if (fld == 2 && wt == 2) f->tags = sp;
        else if (fld == 2) return -1; /* unpacked tags: not written by MVT encoders we know */
        else if (fld == 3 && wt == 0) f->type = (uint32_t)v;
        else if (fld == 4 && wt == 2) f->geom = sp;
    }
    return 0;
}

/* Decodes tile bytes (borrowed by the result) into t, reusing its arrays. */
static int decode_tile(mv_tile *t, const uint8_t *p, size_t n)
{
    const uint8_t *end = p + n;
    for (size_t i = 0; i < t->lcap; i++) t->l[i].nf = t->l[i].nk = t->l[i].nv = 0;
    t->nl = 0;
    while (p < end) {
        uint32_t fld; int wt; uint64_t v = 0; mv_span s = {0};
        if (pb_next(&p, end, &fld, &wt, &v, &s)) return -1;
        if (fld != 3 || wt != 2) continue;
        if (t->nl == t->lcap) {
            size_t nc = t->lcap ? t->lcap * 2 : 8;
            mv_layer *l = realloc(t->l, nc * sizeof *l);
            if (!l) return -2;
            memset(l + t->lcap, 0, (nc - t->lcap) * sizeof *l);
            t->l = l;
            t->lcap = nc;
        }
        mv_layer *L = &t->l[t->nl++];
        L->name.p = NULL; L->name.n = 0;
        L->extent = 4096;
        const uint8_t *q = s.p, *qe = s.p + s.n;
        while (q < qe) {
            uint32_t f2; int w2; uint64_t v2 = 0; mv_span s2 = {0};
            if (pb_next(&q, qe, &f2, &w2, &v2, &s2)) return -1;
            if (f2 == 1 && w2 == 2) L->name = s2;
            else if (f2 == 2 && w2 == 2) {
                if (GROW(L->f, L->nf, L->fcap)) return -2;
                if (decode_feature(&L->f[L->nf++], s2)) return -1;
            } else if (f2 == 3 && w2 == 2) {
                if (GROW(L->keys, L->nk, L->kcap)) return -2;
                L->keys[L->nk++] = s2;
            } else if (f2 == 4 && w2 == 2) {
                if (GROW(L->vals, L->nv, L->vcap)) return -2;
                L->vals[L->nv++] = s2;
            } else if (f2 == 5 && w2 == 0) L->extent = v2;
        }
        if (!L->name.p) return -1;
    }
    return 0;
}

static void free_tile(mv_tile *t)
{
    for (size_t i = 0; i < t->lcap; i++) { free(t->l[i].f); free(t->l[i].keys); free(t->l[i].vals); }
    free(t->l);
}

/* ---------------------------------------------------------------- merge -- */

/* Layer names seen over all inputs (ids are offset per name). */
typedef struct mt_names { char *name[MT_MAX_LAYERS]; int n; } mt_names;

static int name_index(mt_names *nm, mv_span s)
{
    for (int i = 0; i < nm->n; i++)
        if (strlen(nm->name[i]) == s.n && !memcmp(nm->name[i], s.p, s.n)) return i;
    if (nm->n == MT_MAX_LAYERS || memchr(s.p, 0, s.n)) return -1;
    char *c = malloc(s.n + 1);
    if (!c) return -2;
    if (s.n) memcpy(c, s.p, s.n);
    c[s.n] = 0;
    nm->name[nm->n] = c;
    return nm->n++;
}

/* A merged layer of the current tile. */
typedef struct mo_layer {
    int name;            /* index in mt_names */
    gf_mvt_layer l;      /* features and interned values */
    char **keys;
    size_t nk, kcap;
    uint32_t *kmap, *vmap; /* input key/value index -> ours (current input layer) */
    size_t kmcap, vmcap;
    /* signatures of the features kept, for the identical-feature check */
    gf_buf sig;
    struct mo_sig { uint64_t h; size_t off, len; uint32_t src; } *sigs;
    size_t nsig, sigcap;
    uint32_t *slot;      /* open addressing: sig index + 1 */
    size_t nslots;
} mo_layer;

typedef struct mt_merge {
    mt_names names;
    uint64_t *maxid;     /* [input * MT_MAX_LAYERS + name] */
    uint64_t *offset;    /* same shape */
    mo_layer *ol;
    size_t nol, olcap;
    gf_buf canon;
    uint32_t *tags;
    size_t tagcap;
} mt_merge;

static uint64_t fnv(const uint8_t *p, size_t n, uint64_t h)
{
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static void mo_reset(mo_layer *o)
{
    gf_mvt_layer_reset(&o->l);
    for (size_t i = 0; i < o->nk; i++) free(o->keys[i]);
    o->nk = 0;
    o->sig.len = 0;
    o->nsig = 0;
    if (o->slot) memset(o->slot, 0, o->nslots * sizeof *o->slot);
}

static void mo_free(mo_layer *o)
{
    mo_reset(o);
    gf_mvt_layer_free(&o->l);
    free(o->keys);
    free(o->kmap);
    free(o->vmap);
    gf_buf_free(&o->sig);
    free(o->sigs);
    free(o->slot);
}

/* 1: an identical feature of an earlier input is kept; 0: recorded as new. */
static int sig_seen_or_add(mo_layer *o, const uint8_t *c, size_t n, uint32_t src)
{
    uint64_t h = fnv(c, n, 1469598103934665603ull);
    if (o->nslots) {
        for (size_t j = h & (o->nslots - 1); o->slot[j]; j = (j + 1) & (o->nslots - 1)) {
            const struct mo_sig *s = &o->sigs[o->slot[j] - 1];
            if (s->h == h && s->len == n && s->src < src && !memcmp(o->sig.p + s->off, c, n)) return 1;
        }
    }
    if (o->nsig + 1 > o->sigcap) {
        size_t nc = o->sigcap ? o->sigcap * 2 : 256;
        struct mo_sig *s = realloc(o->sigs, nc * sizeof *s);
        if (!s) return -1;
        o->sigs = s;
        o->sigcap = nc;
    }
    if ((o->nsig + 1) * 2 > o->nslots) {
        size_t ns = o->nslots ? o->nslots * 2 : 512;
        uint32_t *sl = calloc(ns, sizeof *sl);
        if (!sl) return -1;
        for (size_t i = 0; i < o->nsig; i++) {
            size_t j = o->sigs[i].h & (ns - 1);
            while (sl[j]) j = (j + 1) & (ns - 1);
            sl[j] = (uint32_t)i + 1;
        }
        free(o->slot);
        o->slot = sl;
        o->nslots = ns;
    }
    if (gf_buf_append(&o->sig, c, n)) return -1;
    o->sigs[o->nsig] = (struct mo_sig){h, o->sig.len - n, n, src};
    size_t j = h & (o->nslots - 1);
    while (o->slot[j]) j = (j + 1) & (o->nslots - 1);
    o->slot[j] = (uint32_t)++o->nsig;
    return 0;
}

static mo_layer *out_layer(mt_merge *m, int name)
{
    for (size_t i = 0; i < m->nol; i++)
        if (m->ol[i].name == name) return &m->ol[i];
    if (m->nol == m->olcap) {
        size_t nc = m->olcap ? m->olcap * 2 : 8;
        mo_layer *o = realloc(m->ol, nc * sizeof *o);
        if (!o) return NULL;
        memset(o + m->olcap, 0, (nc - m->olcap) * sizeof *o);
        m->ol = o;
        m->olcap = nc;
    }
    mo_layer *o = &m->ol[m->nol++];
    o->name = name;
    return o;
}

/* Adds input layer L of input src to the merged tile. */
static gf_status add_layer(gf_ctx *ctx, mt_merge *m, const char *path, const mv_layer *L, int name, uint32_t src,
                           int shared, gf_merge_stats *stats)
{
    if (L->extent != GF_MVT_EXTENT)
        return gf_ctx_err(ctx, GF_ERR_UNSUPPORTED, "%s: layer %s has extent %llu; merge joins tiles of extent %d (geoflux's)",
                          path, m->names.name[name], (unsigned long long)L->extent, GF_MVT_EXTENT);
    mo_layer *o = out_layer(m, name);
    if (!o) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    if (L->nk > o->kmcap || L->nv > o->vmcap) {
        size_t kc = L->nk > o->kmcap ? L->nk : o->kmcap, vc = L->nv > o->vmcap ? L->nv : o->vmcap;
        uint32_t *km = realloc(o->kmap, (kc ? kc : 1) * sizeof *km);
        if (!km) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        o->kmap = km;
        o->kmcap = kc;
        uint32_t *vm = realloc(o->vmap, (vc ? vc : 1) * sizeof *vm);
        if (!vm) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        o->vmap = vm;
        o->vmcap = vc;
    }
    /* keys: every key of the input's table, in its order (unused ones too,
     * as the tiles writer lists them) */
    for (size_t k = 0; k < L->nk; k++) {
        size_t j;
        if (memchr(L->keys[k].p, 0, L->keys[k].n)) return gf_ctx_err(ctx, GF_ERR_PARSE, "%s: key with a NUL byte", path);
        for (j = 0; j < o->nk; j++)
            if (strlen(o->keys[j]) == L->keys[k].n && !memcmp(o->keys[j], L->keys[k].p, L->keys[k].n)) break;
        if (j == o->nk) {
            if (GROW(o->keys, o->nk, o->kcap) || !(o->keys[o->nk] = malloc(L->keys[k].n + 1)))
                return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
            if (L->keys[k].n) memcpy(o->keys[o->nk], L->keys[k].p, L->keys[k].n);
            o->keys[o->nk++][L->keys[k].n] = 0;
        }
        o->kmap[k] = (uint32_t)j;
    }
    for (size_t v = 0; v < L->nv; v++) o->vmap[v] = UINT32_MAX; /* interned when first used */
    uint64_t off = m->offset[(size_t)src * MT_MAX_LAYERS + name];
    for (size_t i = 0; i < L->nf; i++) {
        const mv_feat *f = &L->f[i];
        /* tags: pairs of indices, checked against the tables */
        size_t nt = 0;
        const uint8_t *p = f->tags.p, *end = f->tags.p + f->tags.n;
        m->canon.len = 0;
        uint8_t hdr[12];
        size_t hl = gf_varint_put(hdr, f->type);
        hl += gf_varint_put(hdr + hl, f->geom.n);
        if (gf_buf_append(&m->canon, hdr, hl) || gf_buf_append(&m->canon, f->geom.p, f->geom.n))
            return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        while (p < end) {
            uint64_t kv[2];
            for (int h = 0; h < 2; h++) {
                size_t k = gf_varint_get(p, (size_t)(end - p), &kv[h]);
                if (!k) return gf_ctx_err(ctx, GF_ERR_PARSE, "%s: layer %s: damaged tags", path, m->names.name[name]);
                p += k;
            }
            if (kv[0] >= L->nk || kv[1] >= L->nv)
                return gf_ctx_err(ctx, GF_ERR_PARSE, "%s: layer %s: tag index out of the tables", path, m->names.name[name]);
            if (nt + 2 > m->tagcap) {
                size_t nc = m->tagcap ? m->tagcap * 2 : 64;
                uint32_t *tg = realloc(m->tags, nc * sizeof *tg);
                if (!tg) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
                m->tags = tg;
                m->tagcap = nc;
            }
            uint32_t vi = o->vmap[kv[1]];
            if (vi == UINT32_MAX) {
                if (gf_mvt_value(&o->l, L->vals[kv[1]].p, L->vals[kv[1]].n, &vi)) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
                o->vmap[kv[1]] = vi;
            }
            m->tags[nt++] = o->kmap[kv[0]];
            m->tags[nt++] = vi;
            const mv_span *ks = &L->keys[kv[0]], *vs = &L->vals[kv[1]];
            hl = gf_varint_put(hdr, ks->n);
            if (gf_buf_append(&m->canon, hdr, hl) || gf_buf_append(&m->canon, ks->p, ks->n)) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
            hl = gf_varint_put(hdr, vs->n);
            if (gf_buf_append(&m->canon, hdr, hl) || gf_buf_append(&m->canon, vs->p, vs->n)) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        }
        if (shared) {
            /* only features of two inputs can be the same one drawn twice
             * (a commune both runs drew): compared without their ids */
            int r = sig_seen_or_add(o, (const uint8_t *)m->canon.p, m->canon.len, src);
            if (r < 0) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
            if (r == 1) { stats->features_dropped++; continue; }
        }
        if (f->has_id && f->id > UINT64_MAX - off)
            return gf_ctx_err(ctx, GF_ERR_ARG, "%s: layer %s: feature ids overflow once offset", path, m->names.name[name]);
        if (gf_mvt_add_feature(&o->l, f->has_id, f->id + off, f->type, m->tags, nt, f->geom.p, f->geom.n))
            return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    }
    return GF_OK;
}

static int ent_cmp(const void *a, const void *b)
{
    const mt_ent *x = a, *y = b;
    if (x->id != y->id) return x->id < y->id ? -1 : 1;
    return x->src < y->src ? -1 : x->src > y->src;
}

/* vector_layers of all inputs: one entry per id (first input's order),
 * fields united (the first type seen wins), zooms widened. */
static gf_status merge_vector_layers(gf_ctx *ctx, mt_in *in, int n, json_object **out)
{
    json_object *res = json_object_new_array();
    if (!res) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        json_object *vl;
        json_object_object_get_ex(in[i].meta, "vector_layers", &vl);
        for (size_t k = 0; k < json_object_array_length(vl); k++) {
            json_object *l = json_object_array_get_idx(vl, k), *id, *have = NULL;
            if (!json_object_is_type(l, json_type_object) || !json_object_object_get_ex(l, "id", &id) ||
                !json_object_is_type(id, json_type_string)) {
                json_object_put(res);
                return gf_ctx_err(ctx, GF_ERR_PARSE, "%s: vector_layers entry without an id", in[i].path);
            }
            for (size_t j = 0; j < json_object_array_length(res) && !have; j++) {
                json_object *r = json_object_array_get_idx(res, j), *rid;
                json_object_object_get_ex(r, "id", &rid);
                if (!strcmp(json_object_get_string(rid), json_object_get_string(id))) have = r;
            }
            if (!have) {
                json_object *copy = NULL;
                if (json_object_deep_copy(l, &copy, NULL) || json_object_array_add(res, copy)) {
                    json_object_put(copy);
                    json_object_put(res);
                    return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
                }
                continue;
            }
            static const char *zk[2] = {"minzoom", "maxzoom"};
            for (int q = 0; q < 2; q++) {
                json_object *a, *b;
                if (json_object_object_get_ex(have, zk[q], &a) && json_object_object_get_ex(l, zk[q], &b)) {
                    int za = json_object_get_int(a), zb = json_object_get_int(b);
                    if (q == 0 ? zb < za : zb > za) json_object_object_add(have, zk[q], json_object_new_int(zb));
                }
            }
            json_object *fa, *fb;
            if (json_object_object_get_ex(l, "fields", &fb) && json_object_is_type(fb, json_type_object)) {
                if (!json_object_object_get_ex(have, "fields", &fa) || !json_object_is_type(fa, json_type_object)) {
                    /* none yet, or not an object (a damaged input's): the fields of this one */
                    json_object_object_add(have, "fields", fa = json_object_new_object());
                }
                json_object_object_foreach(fb, key, val)
                {
                    if (!json_object_object_get_ex(fa, key, NULL)) json_object_object_add(fa, key, json_object_get(val));
                }
            }
        }
    }
    *out = res;
    return GF_OK;
}

/* ------------------------------------------------------------ thinning -- */
/* Below maxzoom the tiles writer keeps a sample of the points (sink.c:
 * rate per zoom from the densest tile of all points, a point kept when a
 * hash of its feature index is under it, point_count from the thinned
 * ones along the Hilbert curve). Per-department runs each sampled their
 * own points, so their low zooms cannot be concatenated into a single
 * run's. Every point is in the maxzoom tiles, with its global id (index +
 * 1, once offset) and its properties as MVT values: the points layer is
 * tiled again from them by the tiles writer itself (gf_tiles_sink_vt), fed
 * the records its encode() would have made, in feature-index order. What
 * the maxzoom tiles lose is the position below a maxzoom pixel, which only
 * orders points within one pixel: there the inputs' order is kept (each
 * input's tiles list them in the writer's order), and points of two inputs
 * in one pixel follow input order (docs/merge.md). */

typedef struct th_pt { uint32_t pix, seq, rank; uint64_t id; size_t off, len; } th_pt;

static int th_cmp(const void *a, const void *b)
{
    const th_pt *x = a, *y = b;
    if (x->pix != y->pix) return x->pix < y->pix ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The tile coordinates of a point feature's geometry: 0, or -1 when it is
 * not one point inside the tile. */
static int point_xy(mv_span g, uint32_t *px, uint32_t *py)
{
    uint64_t c, dx, dy;
    size_t k1 = gf_varint_get(g.p, g.n, &c), k2, k3;
    if (!k1 || c != gf_mvt_cmd(GF_MVT_MOVETO, 1)) return -1;
    if (!(k2 = gf_varint_get(g.p + k1, g.n - k1, &dx)) || !(k3 = gf_varint_get(g.p + k1 + k2, g.n - k1 - k2, &dy)) ||
        k1 + k2 + k3 != g.n)
        return -1;
    int64_t x = gf_unzigzag64(dx), y = gf_unzigzag64(dy);
    if (x < 0 || y < 0 || x >= GF_MVT_EXTENT || y >= GF_MVT_EXTENT) return -1;
    *px = (uint32_t)x;
    *py = (uint32_t)y;
    return 0;
}

typedef struct th_ctx {
    int P;               /* the points layer (mt_names index) */
    char *keys[GF_MAX_FIELDS];
    int nkeys;
    const char *why;     /* set when the layer cannot be tiled again (not an error) */
} th_ctx;

/* Tiles the points layer P again into the PMTiles archive path. Returns
 * GF_OK with th->why set when it cannot be done (the caller then keeps
 * the inputs' samples). */
static gf_status rethin(gf_ctx *ctx, const gf_merge_opts *o, mt_in *in, int n, const mt_list *list, mt_merge *m,
                        th_ctx *th, int minz, int maxz, const char *path, gf_merge_stats *stats)
{
    gf_status st = GF_OK;
    gf_xsort *xs = NULL;
    void *sink = NULL;
    mv_tile tile = {0};
    gf_buf stored = {0}, raw = {0}, pay = {0}, rec = {0};
    th_pt *pts = NULL;
    size_t npts = 0, ptcap = 0;
    gf_schema *schema = NULL;
    mo_layer dd;
    memset(&dd, 0, sizeof dd);
    uint32_t kmap[256];
    int shift = 20 - maxz;
    uint64_t maxrank = shift >= 32 ? UINT64_MAX : (1ull << (2 * shift)) - 1;
    if ((st = gf_trec_sort_create(ctx, (size_t)64 << 20, o->tmpdir, o->output, &xs))) goto out;
    for (size_t e = 0; e < list->n && !th->why;) {
        size_t g = e;
        while (g < list->n && list->e[g].id == list->e[e].id) g++;
        int z; uint32_t tx, ty;
        gf_pmtiles_id_to_zxy(list->e[e].id, &z, &tx, &ty);
        if (z != maxz) { e = g; continue; }
        npts = 0;
        pay.len = 0;
        mo_reset(&dd);
        uint32_t seq = 0;
        for (size_t k = e; k < g && !th->why; k++) {
            uint32_t src = list->e[k].src;
            if ((st = tile_bytes(ctx, &in[src], &list->e[k], &stored, &raw))) goto out;
            if (decode_tile(&tile, (const uint8_t *)raw.p, raw.len)) { st = gf_ctx_err(ctx, GF_ERR_PARSE, "%s: tile %d/%u/%u changed", in[src].path, z, tx, ty); goto out; }
            for (size_t l = 0; l < tile.nl && !th->why; l++) {
                const mv_layer *L = &tile.l[l];
                if (name_index(&m->names, L->name) != th->P) continue;
                if (L->nk > 256) { th->why = "more than 256 keys"; break; }
                for (size_t q = 0; q < L->nk; q++) {
                    kmap[q] = UINT32_MAX;
                    for (int j = 0; j < th->nkeys; j++)
                        if (strlen(th->keys[j]) == L->keys[q].n && !memcmp(th->keys[j], L->keys[q].p, L->keys[q].n)) kmap[q] = (uint32_t)j;
                }
                uint64_t off = m->offset[(size_t)src * MT_MAX_LAYERS + th->P];
                for (size_t i = 0; i < L->nf; i++) {
                    const mv_feat *f = &L->f[i];
                    uint32_t px, py;
                    if (f->type != GF_MVT_POINT || !f->has_id || point_xy(f->geom, &px, &py)) { th->why = "a feature that is not a point with an id"; break; }
                    /* payload as sink.c's encode() makes it: key index, value length, value */
                    size_t start = pay.len;
                    m->canon.len = 0;
                    if (gf_buf_append(&m->canon, f->geom.p, f->geom.n)) goto nomem;
                    const uint8_t *p = f->tags.p, *end = f->tags.p + f->tags.n;
                    while (p < end) {
                        uint64_t kv[2];
                        for (int h = 0; h < 2; h++) {
                            size_t kk = gf_varint_get(p, (size_t)(end - p), &kv[h]);
                            if (!kk) { st = gf_ctx_err(ctx, GF_ERR_PARSE, "%s: damaged tags", in[src].path); goto out; }
                            p += kk;
                        }
                        if (kv[0] >= L->nk || kv[1] >= L->nv) { st = gf_ctx_err(ctx, GF_ERR_PARSE, "%s: tag index out of the tables", in[src].path); goto out; }
                        if (kmap[kv[0]] == UINT32_MAX) continue; /* point_count: not at maxzoom */
                        const mv_span *v = &L->vals[kv[1]];
                        uint8_t hdr[12];
                        hdr[0] = (uint8_t)kmap[kv[0]];
                        size_t hl = 1 + gf_varint_put(hdr + 1, v->n);
                        if (gf_buf_append(&pay, hdr, hl) || gf_buf_append(&pay, v->p, v->n) ||
                            gf_buf_append(&m->canon, hdr, hl) || gf_buf_append(&m->canon, v->p, v->n))
                            goto nomem;
                    }
                    if (g - e > 1) { /* the same point drawn by two inputs: once */
                        int r = sig_seen_or_add(&dd, (const uint8_t *)m->canon.p, m->canon.len, src);
                        if (r < 0) goto nomem;
                        if (r == 1) { pay.len = start; stats->features_dropped++; continue; }
                    }
                    if (npts == ptcap) {
                        size_t nc = ptcap ? ptcap * 2 : 1024;
                        th_pt *np = realloc(pts, nc * sizeof *np);
                        if (!np) goto nomem;
                        pts = np;
                        ptcap = nc;
                    }
                    pts[npts++] = (th_pt){py * GF_MVT_EXTENT + px, seq++, 0, f->id + off, start, pay.len - start};
                }
            }
        }
        if (npts > 1) qsort(pts, npts, sizeof *pts, th_cmp);
        for (size_t i = 0; i < npts && !th->why; i++) {
            pts[i].rank = i && pts[i - 1].pix == pts[i].pix ? pts[i - 1].rank + 1 : 0;
            if (pts[i].rank > maxrank) { th->why = "too many points in one maxzoom pixel"; break; }
            uint32_t x = ((tx << 12) | (pts[i].pix % GF_MVT_EXTENT)) << shift, y = ((ty << 12) | (pts[i].pix / GF_MVT_EXTENT)) << shift;
            rec.len = 0;
            if (gf_buf_reserve(&rec, GF_TREC_HDR + pts[i].len)) goto nomem;
            /* sorted by id here; the rank rides in idx until the sink gets it */
            gf_trec_put_hdr((uint8_t *)rec.p, pts[i].id, pts[i].rank, x, y, (uint32_t)pts[i].len);
            if (pts[i].len) memcpy(rec.p + GF_TREC_HDR, pay.p + pts[i].off, pts[i].len);
            if ((st = gf_xsort_add(xs, ctx, (const uint8_t *)rec.p, GF_TREC_HDR + pts[i].len))) goto out;
        }
        e = g;
    }
    if (th->why) goto out;

    /* the tiles writer, fed in feature-index order: ids must be 1..N */
    /* the sink reads field names (borrowed from th->keys) until destroyed;
     * types only name the fields of its vector_layers, which merge does not use */
    if (!(schema = calloc(1, sizeof *schema))) goto nomem;
    schema->kind = "merge";
    for (int k = 0; k < th->nkeys; k++) { schema->fields[k].name = th->keys[k]; schema->fields[k].type = GF_T_STRING; }
    schema->nfields = th->nkeys;
    gf_output_opts so = {.path = path, .layer = m->names.name[th->P], .minzoom = minz, .maxzoom = maxz,
                         .tmpdir = o->tmpdir, .threads = 1, .precision = -1};
    if ((st = gf_tiles_open(ctx, &so, 1, &sink)) || (st = gf_tiles_sink_vt.begin(sink, ctx, schema, 1))) goto out;
    if ((st = gf_xsort_rewind(xs, ctx))) goto out;
    gf_trec r;
    uint64_t want = 1;
    rec.len = 0;
    int s2 = 2 * shift;
    while ((st = gf_trec_next(xs, ctx, &r)) == GF_OK) {
        if (r.key != want++) { th->why = "feature ids that are not 1..N (not one tiles run's each)"; st = GF_OK; goto out; }
        uint64_t key = gf_hilbert_xy2d(32, r.x, r.y);
        key = (s2 >= 64 ? 0 : key >> s2 << s2) | r.idx;
        if (gf_buf_reserve(&rec, GF_TREC_HDR + r.plen)) goto nomem;
        gf_trec_put_hdr((uint8_t *)rec.p + rec.len, key, 0, r.x, r.y, r.plen);
        if (r.plen) memcpy(rec.p + rec.len + GF_TREC_HDR, r.payload, r.plen);
        rec.len += GF_TREC_HDR + r.plen;
        if (rec.len >= (1u << 20)) {
            if ((st = gf_tiles_sink_vt.commit(sink, ctx, NULL, &rec))) goto out;
            rec.len = 0;
        }
    }
    if (st != GF_DONE) goto out;
    st = GF_OK;
    if (rec.len && (st = gf_tiles_sink_vt.commit(sink, ctx, NULL, &rec))) goto out;
    gf_xsort_destroy(xs); /* its memory, before the sink's */
    xs = NULL;
    if ((st = gf_tiles_sink_vt.finish(sink, ctx)) || (st = gf_tiles_sink_vt.publish(sink, ctx))) goto out;
    goto out;
nomem:
    st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
out:
    if (sink) gf_tiles_sink_vt.destroy(sink);
    free(schema);
    gf_xsort_destroy(xs);
    mo_free(&dd);
    free(pts);
    free_tile(&tile);
    gf_buf_free(&stored); gf_buf_free(&raw); gf_buf_free(&pay); gf_buf_free(&rec);
    return st;
}

gf_status gf_merge_tiles(gf_ctx *ctx, const gf_merge_opts *o, int pmtiles, gf_merge_stats *stats)
{
    gf_status st = GF_OK;
    int n = o->ninputs;
    mt_in *in = calloc((size_t)n + 1, sizeof *in); /* in[n]: the points layer tiled again */
    mt_list list = {0};
    mt_merge m;
    memset(&m, 0, sizeof m);
    th_ctx th = {.P = -1};
    char *scratch_dir = NULL, *scratch = NULL;
    int retiled = 0;
    mv_tile tile = {0};
    gf_buf stored = {0}, raw = {0}, outraw = {0}, gz = {0};
    gf_tile_archive *ar = NULL;
    json_object *vl = NULL;
    m.maxid = calloc((size_t)(n + 1) * MT_MAX_LAYERS, sizeof *m.maxid);
    m.offset = calloc((size_t)(n + 1) * MT_MAX_LAYERS, sizeof *m.offset);
    if (!in || !m.maxid || !m.offset) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto out; }
    for (int i = 0; i < n; i++) {
        in[i].path = o->inputs[i];
        in[i].pmtiles = pmtiles;
        st = pmtiles ? open_pmtiles(ctx, &in[i], (uint32_t)i, &list) : open_mbtiles(ctx, &in[i], (uint32_t)i, &list);
        if (st) goto out;
    }
    if (list.n > 1) qsort(list.e, list.n, sizeof *list.e, ent_cmp);

    /* pass 1: every tile decodes; each layer's largest id per input */
    for (size_t e = 0; e < list.n; e++) {
        mt_in *src = &in[list.e[e].src];
        if ((st = tile_bytes(ctx, src, &list.e[e], &stored, &raw))) goto out;
        int r = decode_tile(&tile, (const uint8_t *)raw.p, raw.len);
        if (r) {
            int z; uint32_t x, y;
            gf_pmtiles_id_to_zxy(list.e[e].id, &z, &x, &y);
            st = r == -2 ? gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory")
                         : gf_ctx_err(ctx, GF_ERR_PARSE, "%s: tile %d/%u/%u is not a valid MVT tile", src->path, z, x, y);
            goto out;
        }
        for (size_t l = 0; l < tile.nl; l++) {
            int ni = name_index(&m.names, tile.l[l].name);
            if (ni < 0) {
                st = ni == -2 ? gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory")
                              : gf_ctx_err(ctx, GF_ERR_PARSE, "%s: more than %d layer names, or a name with a NUL byte",
                                           src->path, MT_MAX_LAYERS);
                goto out;
            }
            /* the thinned points layer: the one whose keys hold point_count */
            const mv_layer *L = &tile.l[l];
            int pc = 0;
            for (size_t q = 0; q < L->nk; q++) pc |= L->keys[q].n == 11 && !memcmp(L->keys[q].p, "point_count", 11);
            if (pc && th.P >= 0 && th.P != ni) th.why = "two layers have point_count";
            if (pc && th.P < 0) th.P = ni;
            for (size_t q = 0; pc && ni == th.P && q < L->nk && !th.why; q++) {
                if (L->keys[q].n == 11 && !memcmp(L->keys[q].p, "point_count", 11)) continue;
                int have = 0;
                for (int j = 0; j < th.nkeys && !have; j++)
                    have = strlen(th.keys[j]) == L->keys[q].n && !memcmp(th.keys[j], L->keys[q].p, L->keys[q].n);
                if (have) continue;
                if (th.nkeys == GF_MAX_FIELDS || memchr(L->keys[q].p, 0, L->keys[q].n)) { th.why = "too many keys"; break; }
                if (!(th.keys[th.nkeys] = malloc(L->keys[q].n + 1))) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto out; }
                if (L->keys[q].n) memcpy(th.keys[th.nkeys], L->keys[q].p, L->keys[q].n);
                th.keys[th.nkeys++][L->keys[q].n] = 0;
            }
            uint64_t *mx = &m.maxid[(size_t)list.e[e].src * MT_MAX_LAYERS + ni];
            for (size_t f = 0; f < tile.l[l].nf; f++)
                if (tile.l[l].f[f].has_id && tile.l[l].f[f].id > *mx) *mx = tile.l[l].f[f].id;
        }
    }
    for (int i = 1; i < n; i++)
        for (int k = 0; k < m.names.n; k++) {
            size_t a = (size_t)(i - 1) * MT_MAX_LAYERS + k, b = (size_t)i * MT_MAX_LAYERS + k;
            m.offset[b] = m.offset[a] + m.maxid[a];
            if (m.offset[b] < m.offset[a]) { st = gf_ctx_err(ctx, GF_ERR_ARG, "merge: feature ids overflow"); goto out; }
        }

    /* the points layer tiled again, when the inputs are runs of one zoom range */
    if (th.P >= 0 && n > 1) {
        for (int i = 1; i < n && !th.why; i++)
            if (in[i].minzoom != in[0].minzoom || in[i].maxzoom != in[0].maxzoom) th.why = "the inputs' zoom ranges differ";
        if (!th.why && (in[0].maxzoom > GF_TILE_MAXZOOM || in[0].minzoom >= in[0].maxzoom)) th.why = "zoom range";
        if (!th.why) {
            char *dir = gf_path_parent(o->output);
            const char *base = o->tmpdir ? o->tmpdir : dir;
            size_t dl = base ? strlen(base) + 32 : 0;
            if (!dir || !(scratch_dir = malloc(dl)) || !(scratch = malloc(dl + 32))) { free(dir); st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto out; }
            snprintf(scratch_dir, dl, "%s/.geoflux-merge-XXXXXX", base);
            free(dir);
            if (!mkdtemp(scratch_dir)) {
                st = gf_ctx_err(ctx, GF_ERR_IO, "%s: cannot create a scratch folder in %s: %s", o->output, base, strerror(errno));
                free(scratch_dir);
                scratch_dir = NULL;
                goto out;
            }
            snprintf(scratch, dl + 32, "%s/points.pmtiles", scratch_dir);
            if ((st = rethin(ctx, o, in, n, &list, &m, &th, in[0].minzoom, in[0].maxzoom, scratch, stats))) goto out;
        }
        if (!th.why) {
            in[n].path = scratch;
            in[n].pmtiles = 1;
            if ((st = open_pmtiles(ctx, &in[n], (uint32_t)n, &list))) goto out;
            if (list.n > 1) qsort(list.e, list.n, sizeof *list.e, ent_cmp);
            retiled = 1;
            stats->retiled = 1;
        } else {
            gf_ctx_log(ctx, GF_LOG_WARN, "merge: layer %s not tiled again (%s): below maxzoom it holds each input's sample "
                       "of its points (docs/merge.md)", m.names.name[th.P], th.why);
        }
    }

    /* pass 2: merge, in tile-id order */
    if ((st = pmtiles ? gf_pmtiles_create(ctx, o->output, o->tmpdir, &ar) : gf_mbtiles_create(ctx, o->output, &ar))) goto out;
    for (size_t e = 0; e < list.n;) {
        size_t g = e;
        while (g < list.n && list.e[g].id == list.e[e].id) g++;
        for (size_t i = 0; i < m.nol; i++) mo_reset(&m.ol[i]);
        m.nol = 0;
        int z; uint32_t x, y;
        gf_pmtiles_id_to_zxy(list.e[e].id, &z, &x, &y);
        for (size_t k = e; k < g; k++) {
            mt_in *src = &in[list.e[k].src];
            if ((st = tile_bytes(ctx, src, &list.e[k], &stored, &raw))) goto out;
            if (decode_tile(&tile, (const uint8_t *)raw.p, raw.len)) { st = gf_ctx_err(ctx, GF_ERR_PARSE, "%s: tile %d/%u/%u changed", src->path, z, x, y); goto out; }
            for (size_t l = 0; l < tile.nl; l++) {
                int ni = name_index(&m.names, tile.l[l].name);
                if (ni < 0) { st = gf_ctx_err(ctx, GF_ERR_INTERNAL, "merge: layer name lost"); goto out; }
                if (retiled && ni == th.P && list.e[k].src != (uint32_t)n) continue; /* from in[n] */
                if ((st = add_layer(ctx, &m, src->path, &tile.l[l], ni, list.e[k].src, g - e > 1, stats))) goto out;
            }
        }
        outraw.len = 0;
        for (size_t i = 0; i < m.nol; i++) {
            mo_layer *ol = &m.ol[i];
            if ((st = gf_mvt_layer_write(&ol->l, m.names.name[ol->name], (const char *const *)ol->keys, ol->nk, &outraw))) {
                st = gf_ctx_err(ctx, st, "out of memory");
                goto out;
            }
        }
        if (!outraw.len) { e = g; continue; } /* only thinned-out points were there */
        if ((st = gf_tile_gzip(NULL, (const uint8_t *)outraw.p, outraw.len, &gz))) { st = gf_ctx_err(ctx, st, "%s: cannot compress tile %d/%u/%u", o->output, z, x, y); goto out; }
        if ((st = ar->vt->put(ar, ctx, z, x, y, (const uint8_t *)gz.p, gz.len))) goto out;
        stats->tiles++;
        size_t held = 0; /* by the inputs (in[n], the points tiled again, is not one) */
        for (size_t k = e; k < g; k++) held += list.e[k].src != (uint32_t)n;
        if (held > 1) stats->merged_tiles++;
        e = g;
    }

    /* metadata */
    gf_tile_meta meta = {.name = in[0].name ? in[0].name : "geoflux", .minzoom = in[0].minzoom, .maxzoom = in[0].maxzoom};
    memcpy(meta.bounds, in[0].bounds, sizeof meta.bounds);
    for (int i = 1; i < n; i++) {
        if (in[i].minzoom < meta.minzoom) meta.minzoom = in[i].minzoom;
        if (in[i].maxzoom > meta.maxzoom) meta.maxzoom = in[i].maxzoom;
        if (in[i].bounds[0] < meta.bounds[0]) meta.bounds[0] = in[i].bounds[0];
        if (in[i].bounds[1] < meta.bounds[1]) meta.bounds[1] = in[i].bounds[1];
        if (in[i].bounds[2] > meta.bounds[2]) meta.bounds[2] = in[i].bounds[2];
        if (in[i].bounds[3] > meta.bounds[3]) meta.bounds[3] = in[i].bounds[3];
    }
    meta.center[0] = (meta.bounds[0] + meta.bounds[2]) / 2;
    meta.center[1] = (meta.bounds[1] + meta.bounds[3]) / 2;
    meta.center[2] = meta.minzoom > 10 ? meta.minzoom : (meta.maxzoom < 10 ? meta.maxzoom : 10); /* as sink.c */
    /* an input that covers the whole: its center as its writer computed it
     * (the bounds read back are rounded to 1e-7 degree, their middle may
     * differ from the writer's in the last digit) */
    for (int i = 0; i < n; i++)
        if (in[i].has_center && !memcmp(in[i].bounds, meta.bounds, sizeof meta.bounds) && in[i].center[2] == meta.center[2]) {
            meta.center[0] = in[i].center[0];
            meta.center[1] = in[i].center[1];
            break;
        }
    if ((st = merge_vector_layers(ctx, in, n, &vl))) goto out;
    meta.vector_layers = json_object_to_json_string_ext(vl, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    if (!meta.vector_layers) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto out; }
    if ((st = ar->vt->finish(ar, ctx, &meta)) || (st = ar->vt->publish(ar, ctx))) goto out;
out:
    if (ar) ar->vt->destroy(ar); /* removes the temporary unless published */
    if (vl) json_object_put(vl);
    for (size_t i = 0; i < m.olcap; i++) mo_free(&m.ol[i]);
    free(m.ol);
    for (int i = 0; i < m.names.n; i++) free(m.names.name[i]);
    free(m.maxid);
    free(m.offset);
    gf_buf_free(&m.canon);
    free(m.tags);
    free_tile(&tile);
    gf_buf_free(&stored); gf_buf_free(&raw); gf_buf_free(&outraw); gf_buf_free(&gz);
    free(list.e);
    if (in)
        for (int i = 0; i <= n; i++) close_in(&in[i]);
    free(in);
    for (int i = 0; i < th.nkeys; i++) free(th.keys[i]);
    if (scratch) unlink(scratch);
    if (scratch_dir) rmdir(scratch_dir);
    free(scratch);
    free(scratch_dir);
    return st;
}
