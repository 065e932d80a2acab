/* Tile archive reading and tile (de)compression (see tileio.h). */
#include <string.h>

#include <libdeflate.h>

#include "geoflux/tiles.h"
#include "tiles/tileio.h"

static uint64_t rd_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static int32_t rd_i32(const uint8_t *p)
{
    return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
}

static int in_file(uint64_t size, uint64_t off, uint64_t len) { return off <= size && len <= size - off; }

int gf_pm_header_read(const uint8_t *p, uint64_t size, gf_pm_header *h)
{
    if (size < GF_PM_HEADER || memcmp(p, "PMTiles", 7) || p[7] != 3) return -1;
    h->root_off = rd_u64(p + 8);
    h->root_len = rd_u64(p + 16);
    h->meta_off = rd_u64(p + 24);
    h->meta_len = rd_u64(p + 32);
    h->leaf_off = rd_u64(p + 40);
    h->leaf_len = rd_u64(p + 48);
    h->data_off = rd_u64(p + 56);
    h->data_len = rd_u64(p + 64);
    h->internal_comp = p[97];
    h->tile_comp = p[98];
    h->tile_type = p[99];
    h->minzoom = p[100];
    h->maxzoom = p[101];
    for (int i = 0; i < 4; i++) h->bounds[i] = rd_i32(p + 102 + 4 * i) / 1e7;
    h->center[2] = p[118];
    h->center[0] = rd_i32(p + 119) / 1e7;
    h->center[1] = rd_i32(p + 123) / 1e7;
    if (!in_file(size, h->root_off, h->root_len) || !in_file(size, h->meta_off, h->meta_len) ||
        !in_file(size, h->leaf_off, h->leaf_len) || !in_file(size, h->data_off, h->data_len))
        return -2;
    return 0;
}

gf_status gf_tile_inflate(const uint8_t *p, size_t n, size_t max, gf_buf *out)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 32) != Z_OK) return GF_ERR_NOMEM;
    out->len = 0;
    zs.next_in = (Bytef *)p;
    zs.avail_in = (uInt)(n > UINT32_MAX ? UINT32_MAX : n);
    int r = Z_OK;
    gf_status st = GF_OK;
    while (r != Z_STREAM_END) {
        if (out->len >= max) { st = GF_ERR_PARSE; break; }
        if (gf_buf_reserve(out, 65536)) { st = GF_ERR_NOMEM; break; }
        size_t room = out->cap - out->len;
        if (room > max - out->len) room = max - out->len;
        zs.next_out = (Bytef *)out->p + out->len;
        zs.avail_out = (uInt)(room > UINT32_MAX ? UINT32_MAX : room);
        uInt before = zs.avail_out;
        r = inflate(&zs, Z_NO_FLUSH);
        out->len += before - zs.avail_out;
        if (r != Z_OK && r != Z_STREAM_END) { st = GF_ERR_PARSE; break; }
        /* no progress and no input left: truncated */
        if (r == Z_OK && before == zs.avail_out && zs.avail_in == 0) { st = GF_ERR_PARSE; break; }
    }
    inflateEnd(&zs);
    return st;
}

/* libdeflate, not zlib: a tile is one buffer, which is all libdeflate
 * compresses, and every tile of every archive goes through here */
static gf_status deflate_into(struct libdeflate_compressor *c, const uint8_t *raw, size_t n, gf_buf *out)
{
    size_t bound = libdeflate_gzip_compress_bound(c, n);
    out->len = 0;
    if (gf_buf_reserve(out, bound)) return GF_ERR_NOMEM;
    out->len = libdeflate_gzip_compress(c, raw, n, out->p, bound);
    return out->len ? GF_OK : GF_ERR_INTERNAL;
}

gf_status gf_tile_gzip(struct libdeflate_compressor **c, const uint8_t *raw, size_t n, gf_buf *out)
{
    struct libdeflate_compressor *local = NULL;
    if (!c) c = &local;
    if (!*c && !(*c = libdeflate_alloc_compressor(1))) return GF_ERR_NOMEM;
    gf_status st = deflate_into(*c, raw, n, out);
    libdeflate_free_compressor(local);
    /* A tile near the ceiling is redone at level 6, which may bring it
     * under: on the 16 densest tiles of a 5M-row run (300-540 KB gzip),
     * level 6 saves 8.9 % of level 1 in 2.4 times its time, with a 670 KB
     * compressor; level 12 saves 11.6 % in 17 times the time, and its
     * compressor takes 9 MB, which each encoding thread would hold at once
     * outside the tiles' memory share. A tile well past the ceiling (a
     * maxzoom tile too dense to thin, several MB at national density) stays
     * over it at any level, so it keeps level 1. */
    if (st || out->len <= GF_TILES_MAX_BYTES * 3 / 4 || out->len > GF_TILES_MAX_BYTES * 4 / 3) return st;
    struct libdeflate_compressor *c6 = libdeflate_alloc_compressor(6);
    if (!c6) return GF_ERR_NOMEM;
    st = deflate_into(c6, raw, n, out);
    libdeflate_free_compressor(c6);
    return st;
}

void gf_tile_gzip_free(struct libdeflate_compressor *c) { libdeflate_free_compressor(c); }
