/* PMTiles v3 writer. Tile data goes to an unlinked scratch file as tiles
 * arrive (clustered: in tile-id order, duplicates pointing back to the
 * first copy); finish() builds the directories (run-length of consecutive
 * identical tiles, leaf directories when the root would not fit in the
 * first 16 KiB), then writes header, root, metadata, leaves and the copied
 * tile data under a temporary name and renames it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>
#include <zlib.h>

#include "geoflux/pipeline.h"
#include "geoflux/write.h"
#include "tiles/archive.h"
#include "tiles/tilemath.h"

typedef struct pm_entry { uint64_t id, off, len; uint32_t run; } pm_entry;

typedef struct gf_pmtiles {
    gf_tile_archive base;
    char *path;
    gf_atomic out; /* the archive until publish() */
    int datafd;
    uint64_t datalen;
    pm_entry *e;
    size_t ne, ecap;
    gf_tile_dedup dd;
} gf_pmtiles;

/* XXH3-128 (libxxhash): the archive's one serial pass over every tile's
 * bytes; the byte-at-a-time pair of hashes it replaces took 0.15 s of the
 * publish bench's 38 MB of tiles */
void gf_tile_hash128(const uint8_t *p, size_t n, uint64_t *h1, uint64_t *h2)
{
    XXH128_hash_t h = XXH3_128bits(p, n);
    *h1 = h.low64;
    *h2 = h.high64;
}

int gf_tile_dedup_get_or_put(gf_tile_dedup *d, uint64_t h1, uint64_t h2, uint64_t *off, uint64_t len)
{
    if ((d->n + 1) * 2 > d->cap) {
        size_t nc = d->cap ? d->cap * 2 : 1024;
        struct gf_dd_slot *s = calloc(nc, sizeof *s);
        if (!s) return -1;
        for (size_t i = 0; i < d->cap; i++) {
            if (!d->slot[i].len) continue;
            size_t j = d->slot[i].h1 & (nc - 1);
            while (s[j].len) j = (j + 1) & (nc - 1);
            s[j] = d->slot[i];
        }
        free(d->slot);
        d->slot = s;
        d->cap = nc;
    }
    size_t j = h1 & (d->cap - 1);
    while (d->slot[j].len) {
        if (d->slot[j].h1 == h1 && d->slot[j].h2 == h2 && d->slot[j].len == len) { *off = d->slot[j].off; return 1; }
        j = (j + 1) & (d->cap - 1);
    }
    d->slot[j] = (struct gf_dd_slot){h1, h2, *off, len};
    d->n++;
    return 0;
}

void gf_tile_dedup_free(gf_tile_dedup *d)
{
    free(d->slot);
    memset(d, 0, sizeof *d);
}

static gf_status write_all(gf_ctx *ctx, int fd, const void *p, size_t n, const char *what)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return gf_ctx_err(ctx, GF_ERR_IO, "%s: write failed: %s", what, strerror(errno));
        }
        c += w;
        n -= (size_t)w;
    }
    return GF_OK;
}

static gf_status pm_put(gf_tile_archive *a, gf_ctx *ctx, int z, uint32_t x, uint32_t y, const uint8_t *data, size_t len)
{
    gf_pmtiles *p = (gf_pmtiles *)a;
    uint64_t id = gf_pmtiles_zxy_to_id(z, x, y);
    if (p->ne && id <= p->e[p->ne - 1].id) return gf_ctx_err(ctx, GF_ERR_INTERNAL, "pmtiles: tile ids out of order");
    uint64_t h1, h2, off = p->datalen;
    gf_tile_hash128(data, len, &h1, &h2);
    int seen = gf_tile_dedup_get_or_put(&p->dd, h1, h2, &off, len);
    if (seen < 0) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    a->ntiles++;
    if (len > a->max_tile) a->max_tile = len;
    if (!seen) {
        gf_status st = write_all(ctx, p->datafd, data, len, p->path);
        if (st) return st;
        p->datalen += len;
        a->nunique++;
        a->bytes += len;
    }
    pm_entry *last = p->ne ? &p->e[p->ne - 1] : NULL;
    if (last && last->off == off && last->len == len && last->id + last->run == id) {
        last->run++;
        return GF_OK;
    }
    if (p->ne == p->ecap) {
        size_t nc = p->ecap ? p->ecap * 2 : 4096;
        pm_entry *e = realloc(p->e, nc * sizeof *e);
        if (!e) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        p->e = e;
        p->ecap = nc;
    }
    p->e[p->ne++] = (pm_entry){id, off, len, 1};
    return GF_OK;
}

static gf_status gzip_buf(const uint8_t *in, size_t n, gf_buf *out)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK) return GF_ERR_NOMEM;
    size_t bound = deflateBound(&zs, n) + 32;
    out->len = 0;
    if (gf_buf_reserve(out, bound)) { deflateEnd(&zs); return GF_ERR_NOMEM; }
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)n;
    zs.next_out = (Bytef *)out->p;
    zs.avail_out = (uInt)bound;
    int r = deflate(&zs, Z_FINISH);
    out->len = zs.total_out;
    deflateEnd(&zs);
    return r == Z_STREAM_END ? GF_OK : GF_ERR_INTERNAL;
}

/* Directory encoding (spec 4.3): count, then columns of delta ids, run
 * lengths, lengths and offsets (0 = right after the previous entry). */
static gf_status encode_dir(const pm_entry *e, size_t n, gf_buf *raw, gf_buf *gz)
{
    raw->len = 0;
    if (gf_buf_reserve(raw, 10 + n * 40)) return GF_ERR_NOMEM;
    uint8_t *w = (uint8_t *)raw->p;
    size_t k = gf_varint_put(w, n);
    uint64_t last = 0;
    for (size_t i = 0; i < n; i++) { k += gf_varint_put(w + k, e[i].id - last); last = e[i].id; }
    for (size_t i = 0; i < n; i++) k += gf_varint_put(w + k, e[i].run);
    for (size_t i = 0; i < n; i++) k += gf_varint_put(w + k, e[i].len);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && e[i].off == e[i - 1].off + e[i - 1].len) k += gf_varint_put(w + k, 0);
        else k += gf_varint_put(w + k, e[i].off + 1);
    }
    raw->len = k;
    return gzip_buf((const uint8_t *)raw->p, raw->len, gz);
}

static void put_u64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put_i32(uint8_t *p, int32_t v) { uint32_t u = (uint32_t)v; for (int i = 0; i < 4; i++) p[i] = (uint8_t)(u >> (8 * i)); }

static gf_status pm_finish(gf_tile_archive *a, gf_ctx *ctx, const gf_tile_meta *m)
{
    gf_pmtiles *p = (gf_pmtiles *)a;
    gf_status st = GF_OK;
    gf_buf raw = {0}, root = {0}, leaves = {0}, gz = {0}, meta = {0}, mgz = {0};
    pm_entry *le = NULL;
    FILE *f = NULL;
    /* root alone, or root of leaves; grow the leaf size until the root fits */
    if ((st = encode_dir(p->e, p->ne, &raw, &root))) goto nomem;
    if (root.len > 16384 - 127) {
        for (size_t leaf = 4096;; leaf *= 2) {
            size_t nl = (p->ne + leaf - 1) / leaf;
            free(le);
            le = malloc(nl * sizeof *le);
            if (!le) goto nomem;
            leaves.len = 0;
            for (size_t i = 0; i < nl; i++) {
                size_t a0 = i * leaf, cnt = p->ne - a0 < leaf ? p->ne - a0 : leaf;
                if ((st = encode_dir(p->e + a0, cnt, &raw, &gz))) goto nomem;
                le[i] = (pm_entry){p->e[a0].id, leaves.len, gz.len, 0};
                if ((st = gf_buf_append(&leaves, gz.p, gz.len))) goto nomem;
            }
            if ((st = encode_dir(le, nl, &raw, &root))) goto nomem;
            if (root.len <= 16384 - 127) break;
        }
    }
    if ((st = gf_buf_printf(&meta, "{\"name\":\"%s\",\"format\":\"pbf\",\"type\":\"overlay\",\"generator\":\"geoflux\","
                                   "\"vector_layers\":%s}", m->name, m->vector_layers)))
        goto nomem;
    if ((st = gzip_buf((const uint8_t *)meta.p, meta.len, &mgz))) goto nomem;

    uint8_t h[127];
    memset(h, 0, sizeof h);
    memcpy(h, "PMTiles", 7);
    h[7] = 3;
    uint64_t root_off = 127, meta_off = root_off + root.len, leaf_off = meta_off + mgz.len,
             data_off = leaf_off + leaves.len;
    uint64_t addressed = 0;
    for (size_t i = 0; i < p->ne; i++) addressed += p->e[i].run;
    put_u64(h + 8, root_off);
    put_u64(h + 16, root.len);
    put_u64(h + 24, meta_off);
    put_u64(h + 32, mgz.len);
    put_u64(h + 40, leaf_off);
    put_u64(h + 48, leaves.len);
    put_u64(h + 56, data_off);
    put_u64(h + 64, p->datalen);
    put_u64(h + 72, addressed);
    put_u64(h + 80, p->ne);
    put_u64(h + 88, a->nunique);
    h[96] = 1;  /* clustered */
    h[97] = 2;  /* internal compression gzip */
    h[98] = 2;  /* tile compression gzip */
    h[99] = 1;  /* MVT */
    h[100] = (uint8_t)m->minzoom;
    h[101] = (uint8_t)m->maxzoom;
    put_i32(h + 102, (int32_t)(m->bounds[0] * 1e7));
    put_i32(h + 106, (int32_t)(m->bounds[1] * 1e7));
    put_i32(h + 110, (int32_t)(m->bounds[2] * 1e7));
    put_i32(h + 114, (int32_t)(m->bounds[3] * 1e7));
    h[118] = (uint8_t)m->center[2];
    put_i32(h + 119, (int32_t)(m->center[0] * 1e7));
    put_i32(h + 123, (int32_t)(m->center[1] * 1e7));

    if ((st = gf_atomic_create(ctx, p->path, 0, &p->out))) goto out;
    f = fdopen(p->out.fd, "wb");
    if (!f) { st = gf_ctx_err(ctx, GF_ERR_IO, "%s: %s", p->path, strerror(errno)); goto out; }
    p->out.fd = -1; /* closed with f */
    fwrite(h, 1, sizeof h, f);
    fwrite(root.p, 1, root.len, f);
    fwrite(mgz.p, 1, mgz.len, f);
    if (leaves.len) fwrite(leaves.p, 1, leaves.len, f);
    /* copy the tile data */
    if (lseek(p->datafd, 0, SEEK_SET) != 0) { st = gf_ctx_err(ctx, GF_ERR_IO, "%s: seek: %s", p->path, strerror(errno)); goto out; }
    char *cb = malloc(1 << 20);
    if (!cb) goto nomem;
    for (uint64_t left = p->datalen; left;) {
        ssize_t r = read(p->datafd, cb, left < (1u << 20) ? (size_t)left : (1u << 20));
        if (r <= 0) {
            if (r < 0 && errno == EINTR) continue;
            free(cb);
            st = gf_ctx_err(ctx, GF_ERR_IO, "%s: scratch read failed", p->path);
            goto out;
        }
        fwrite(cb, 1, (size_t)r, f);
        left -= (uint64_t)r;
    }
    free(cb);
    int bad = ferror(f) | (fclose(f) != 0);
    f = NULL;
    if (bad) { st = gf_ctx_err(ctx, GF_ERR_IO, "%s: write failed: %s", p->path, strerror(errno)); goto out; }
    goto out; /* publish() renames it */
nomem:
    if (!st || st == GF_ERR_NOMEM) st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
out:
    if (f) fclose(f);
    if (st) gf_atomic_discard(&p->out);
    free(le);
    gf_buf_free(&raw); gf_buf_free(&root); gf_buf_free(&leaves); gf_buf_free(&gz);
    gf_buf_free(&meta); gf_buf_free(&mgz);
    return st;
}

static void pm_destroy(gf_tile_archive *a)
{
    gf_pmtiles *p = (gf_pmtiles *)a;
    if (!p) return;
    if (p->datafd >= 0) close(p->datafd);
    gf_atomic_free(&p->out);
    free(p->path);
    free(p->e);
    gf_tile_dedup_free(&p->dd);
    free(p);
}

static gf_status pm_publish(gf_tile_archive *a, gf_ctx *ctx)
{
    gf_pmtiles *p = (gf_pmtiles *)a;
    return gf_atomic_publish(ctx, &p->out);
}

static const gf_tile_archive_vt pm_vt = {.put = pm_put, .finish = pm_finish, .publish = pm_publish, .destroy = pm_destroy};

gf_status gf_pmtiles_create(gf_ctx *ctx, const char *path, const char *tmpdir, gf_tile_archive **out)
{
    gf_pmtiles *p = calloc(1, sizeof *p);
    if (!p) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    p->base.vt = &pm_vt;
    p->datafd = -1;
    p->out.fd = -1;
    if (!(p->path = strdup(path))) {
        free(p);
        return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    }
    gf_status st = gf_scratch_open(ctx, tmpdir, path, &p->datafd);
    if (st) { pm_destroy(&p->base); return st; }
    *out = &p->base;
    return GF_OK;
}
