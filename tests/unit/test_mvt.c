/* Unit tests of the tile building blocks: varints and zigzag, MVT command
 * integers and encoded bytes, tile math (Hilbert/PMTiles ids checked
 * against values from the pmtiles npm package), polygon winding, the
 * external sort under a tiny budget, the gzip levels of a tile, and invalid
 * inputs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gf_test.h"
#include "geoflux/ctx.h"
#include "geoflux/tiles.h"
#include "tiles/trec.h"
#include "tiles/mvt.h"
#include "tiles/tilemath.h"
#include "tiles/tileio.h"

#include <libdeflate.h>

static void test_varint(void)
{
    uint8_t b[10];
    CHECK(gf_varint_put(b, 0) == 1 && b[0] == 0);
    CHECK(gf_varint_put(b, 127) == 1 && b[0] == 127);
    CHECK(gf_varint_put(b, 128) == 2 && b[0] == 0x80 && b[1] == 1);
    CHECK(gf_varint_put(b, 300) == 2 && b[0] == 0xac && b[1] == 0x02); /* protobuf docs example */
    CHECK(gf_varint_put(b, UINT64_MAX) == 10);
    uint64_t v = 0;
    CHECK(gf_varint_get(b, 10, &v) == 10 && v == UINT64_MAX);
    gf_varint_put(b, 300);
    CHECK(gf_varint_get(b, 1, &v) == 0); /* truncated */
    uint8_t bad[11];
    memset(bad, 0xff, sizeof bad);
    CHECK(gf_varint_get(bad, sizeof bad, &v) == 0); /* longer than 10 bytes */
    CHECK(gf_zigzag32(0) == 0 && gf_zigzag32(-1) == 1 && gf_zigzag32(1) == 2 && gf_zigzag32(-2) == 3);
    CHECK(gf_zigzag32(2147483647) == 4294967294u && gf_zigzag32(-2147483647 - 1) == 4294967295u);
    CHECK(gf_unzigzag64(gf_zigzag64(-123456789012345LL)) == -123456789012345LL);
}

static void test_commands(void)
{
    /* MVT spec 4.3 examples: MoveTo(1) = 9, LineTo(3) = 26, ClosePath(1) = 15 */
    CHECK(gf_mvt_cmd(GF_MVT_MOVETO, 1) == 9);
    CHECK(gf_mvt_cmd(GF_MVT_LINETO, 3) == 26);
    CHECK(gf_mvt_cmd(GF_MVT_CLOSEPATH, 1) == 15);
}

static void test_tilemath(void)
{
    /* ids from the pmtiles npm package (zxyToTileId) */
    CHECK(gf_pmtiles_zxy_to_id(0, 0, 0) == 0);
    CHECK(gf_pmtiles_zxy_to_id(1, 0, 0) == 1);
    CHECK(gf_pmtiles_zxy_to_id(1, 0, 1) == 2);
    CHECK(gf_pmtiles_zxy_to_id(1, 1, 1) == 3);
    CHECK(gf_pmtiles_zxy_to_id(1, 1, 0) == 4);
    CHECK(gf_pmtiles_zxy_to_id(2, 1, 3) == 11);
    CHECK(gf_pmtiles_zxy_to_id(12, 3423, 1763) == 19078479ull);
    CHECK(gf_pmtiles_zxy_to_id(14, 8112, 5693) == 129933224ull);
    CHECK(gf_pmtiles_zxy_to_id(20, 123456, 654321) == 652812043350ull);
    /* d2xy inverts xy2d, and a tile's index is the prefix of its points' */
    uint32_t x, y;
    gf_hilbert_d2xy(14, gf_hilbert_xy2d(14, 8112, 5693), &x, &y);
    CHECK(x == 8112 && y == 5693);
    uint32_t wx, wy;
    gf_tile_world(1.444, 43.604, &wx, &wy); /* Toulouse */
    uint64_t key = gf_hilbert_xy2d(32, wx, wy);
    for (int z = 1; z <= 20; z++) {
        uint32_t tx = wx >> (32 - z), ty = wy >> (32 - z);
        CHECK(gf_tile_of_key(key, z) == gf_hilbert_xy2d(z, tx, ty));
    }
    CHECK((wx >> 18) == 8257 && (wy >> 18) == 5982); /* z14 tile of Toulouse (slippy-map formula of the OSM wiki) */
    double lon, lat;
    gf_tile_lonlat(wx, wy, &lon, &lat);
    CHECK_NEAR(lon, 1.444, 1e-6);
    CHECK_NEAR(lat, 43.604, 1e-6);
    /* out of range latitudes are clamped, not NaN */
    gf_tile_world(0, 90, &wx, &wy);
    CHECK(wy == 0);
    gf_tile_world(0, -90, &wx, &wy);
    CHECK(wy == UINT32_MAX);
}

/* Decodes a varint at *p (test helper). */
static uint64_t rv(const uint8_t **p)
{
    uint64_t v;
    *p += gf_varint_get(*p, 10, &v);
    return v;
}

static void test_mvt_point(void)
{
    gf_mvt_layer l;
    memset(&l, 0, sizeof l);
    uint8_t body[32];
    uint32_t v0, v1, v2;
    size_t n = gf_mvt_value_string_hdr(3, body);
    memcpy(body + n, "abc", 3);
    CHECK(gf_mvt_value(&l, body, n + 3, &v0) == GF_OK && v0 == 0);
    n = gf_mvt_value_int(-5, body);
    CHECK(n == 2 && body[0] == (6 << 3) && body[1] == 9); /* sint_value zigzag(-5) */
    CHECK(gf_mvt_value(&l, body, n, &v1) == GF_OK && v1 == 1);
    n = gf_mvt_value_string_hdr(3, body);
    memcpy(body + n, "abc", 3);
    CHECK(gf_mvt_value(&l, body, n + 3, &v2) == GF_OK && v2 == 0); /* deduplicated */
    uint32_t tags[4] = {0, v0, 1, v1};
    CHECK(gf_mvt_add_point(&l, 7, 25, 17, tags, 2) == GF_OK);
    gf_buf tile = {0};
    const char *keys[] = {"k", "n"};
    CHECK(gf_mvt_layer_write(&l, "pts", keys, 2, &tile) == GF_OK);
    /* walk the protobuf by hand */
    const uint8_t *p = (const uint8_t *)tile.p, *end = p + tile.len;
    CHECK(*p++ == (3 << 3 | 2));
    CHECK(rv(&p) == (uint64_t)(end - p));
    CHECK(*p++ == (1 << 3 | 2) && *p++ == 3 && !memcmp(p, "pts", 3));
    p += 3;
    CHECK(*p++ == (2 << 3 | 2));
    uint64_t flen = rv(&p);
    const uint8_t *fe = p + flen;
    CHECK(*p++ == (1 << 3) && rv(&p) == 7);                    /* id */
    CHECK(*p++ == (2 << 3 | 2) && rv(&p) == 4);                /* tags, 4 bytes */
    CHECK(rv(&p) == 0 && rv(&p) == 0 && rv(&p) == 1 && rv(&p) == 1);
    CHECK(*p++ == (3 << 3) && *p++ == GF_MVT_POINT);            /* type */
    CHECK(*p++ == (4 << 3 | 2) && rv(&p) == 3);                /* geometry */
    CHECK(rv(&p) == 9 && rv(&p) == 50 && rv(&p) == 34);          /* MoveTo(25,17): spec example */
    CHECK(p == fe);
    CHECK(*p++ == (3 << 3 | 2) && *p++ == 1 && *p++ == 'k');
    CHECK(*p++ == (3 << 3 | 2) && *p++ == 1 && *p++ == 'n');
    CHECK(*p++ == (4 << 3 | 2) && *p++ == 5 && *p++ == (1 << 3 | 2) && *p++ == 3 && !memcmp(p, "abc", 3));
    p += 3;
    CHECK(*p++ == (4 << 3 | 2) && *p++ == 2 && *p++ == (6 << 3) && *p++ == 9);
    CHECK(*p++ == (5 << 3) && rv(&p) == 4096);
    CHECK(*p++ == (15 << 3) && *p++ == 2);
    CHECK(p == end);
    /* an empty layer writes nothing */
    gf_mvt_layer_reset(&l);
    size_t before = tile.len;
    CHECK(gf_mvt_layer_write(&l, "pts", keys, 2, &tile) == GF_OK && tile.len == before);
    gf_buf_free(&tile);
    gf_mvt_layer_free(&l);
    gf_mvt_layer_free(NULL);
}

static void test_mvt_polygon(void)
{
    /* MVT spec 4.3.4.3 example: polygon (3,6) (8,12) (20,34) */
    gf_mvt_layer l;
    memset(&l, 0, sizeof l);
    int32_t xy[] = {3, 6, 8, 12, 20, 34};
    size_t rl[] = {3};
    CHECK(gf_mvt_ring_area2(xy, 3) > 0); /* clockwise on screen: exterior */
    CHECK(gf_mvt_add_polygon(&l, 0, xy, rl, 1, NULL, 0) == GF_OK);
    const uint8_t *p = (const uint8_t *)l.feats.p;
    p++;
    rv(&p);
    CHECK(*p++ == (3 << 3) && *p++ == GF_MVT_POLYGON);
    CHECK(*p++ == (4 << 3 | 2) && rv(&p) == 9);
    uint64_t want[] = {9, 6, 12, 18, 10, 12, 24, 44, 15};
    for (int i = 0; i < 9; i++) CHECK(rv(&p) == want[i]);
    /* degenerate rings are skipped: no feature */
    int32_t line[] = {0, 0, 5, 5};
    size_t rl2[] = {2};
    uint32_t nf = l.nfeatures;
    CHECK(gf_mvt_add_polygon(&l, 0, line, rl2, 1, NULL, 0) == GF_OK && l.nfeatures == nf);
    gf_mvt_layer_free(&l);
}

static void test_extsort(void)
{
    gf_ctx *ctx = NULL;
    gf_ctx_create(&ctx);
    gf_xsort *x = NULL;
    /* the budget is clamped to a minimum; 20000 records of ~60 bytes spill */
    CHECK(gf_trec_sort_create(ctx, 1, NULL, "/tmp/gf-test-xsort", &x) == GF_OK);
    uint8_t rec[GF_TREC_HDR + 64];
    uint64_t n = 20000;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t key = gf_mix64(i) % 5000; /* many equal keys: idx breaks ties */
        uint32_t plen = (uint32_t)(i % 37);
        gf_trec_put_hdr(rec, key, i, (uint32_t)i, 0, plen);
        memset(rec + GF_TREC_HDR, (int)(i & 0xff), plen);
        CHECK(gf_xsort_add(x, ctx, rec, GF_TREC_HDR + plen) == GF_OK);
    }
    CHECK(gf_xsort_runs_spilled(x) >= 1);
    for (int pass = 0; pass < 2; pass++) {
        CHECK(gf_xsort_rewind(x, ctx) == GF_OK);
        gf_trec r;
        uint64_t cnt = 0, pk = 0, pi = 0, bad = 0;
        gf_status st;
        while ((st = gf_trec_next(x, ctx, &r)) == GF_OK) {
            if (cnt && (r.key < pk || (r.key == pk && r.idx <= pi))) bad++;
            if (r.plen != r.idx % 37 || r.x != (uint32_t)r.idx) bad++;
            for (uint32_t k = 0; k < r.plen; k++) bad += r.payload[k] != (uint8_t)(r.idx & 0xff);
            pk = r.key;
            pi = r.idx;
            cnt++;
        }
        CHECK(st == GF_DONE);
        CHECK(cnt == n);
        CHECK(bad == 0);
    }
    /* adding after the merge began is refused */
    CHECK(gf_xsort_add(x, ctx, rec, GF_TREC_HDR) == GF_ERR_INTERNAL);
    gf_xsort_destroy(x);
    gf_xsort_destroy(NULL);
    gf_ctx_destroy(ctx);
}

/* Level 1 of some address-like text: what gf_tile_gzip() starts from. */
static size_t gzip1_len(const uint8_t *p, size_t n)
{
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(1);
    size_t bound = libdeflate_gzip_compress_bound(c, n);
    uint8_t *o = malloc(bound);
    size_t len = o ? libdeflate_gzip_compress(c, p, n, o, bound) : 0;
    free(o);
    libdeflate_free_compressor(c);
    return len;
}

/* A tile is gzipped at level 1, and redone at level 6 only when level 1
 * left it near GF_TILES_MAX_BYTES: a tile far over the ceiling (a maxzoom
 * tile too dense to thin) keeps level 1, which no level would bring under
 * it; both inflate back to the tile. */
static void test_tile_gzip(void)
{
    size_t big = (size_t)8 << 20, n = 0;
    uint8_t *raw = malloc(big);
    CHECK(raw != NULL);
    if (!raw) return;
    static const char *words[] = {"rue", "de", "la", "avenue", "chemin", "place", "Toulouse", "Montauban",
                                  "bis", "ter", "31555", "82121", "lieu-dit", "impasse", "des", "Pyrenees"};
    uint64_t s = 42;
    while (n + 32 < big) {
        s = s * 6364136223846793005u + 1442695040888963407u;
        n += (size_t)snprintf((char *)raw + n, 32, "%s %u;", words[(s >> 33) % 16], (unsigned)((s >> 20) % 9973));
    }
    size_t l1_all = gzip1_len(raw, n);
    struct { double target; int redone; } cases[] = {{0.5, 0}, {1.0, 1}, {2.5, 0}};
    gf_buf out = {0}, back = {0};
    struct libdeflate_compressor *c = NULL;
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        size_t len = (size_t)((double)n * cases[k].target * GF_TILES_MAX_BYTES / (double)l1_all);
        size_t l1 = gzip1_len(raw, len);
        /* the case is where it is meant to be against the window (3/4, 4/3] */
        if (cases[k].redone) CHECK(l1 > GF_TILES_MAX_BYTES * 3 / 4 && l1 <= GF_TILES_MAX_BYTES * 4 / 3);
        else CHECK(l1 <= GF_TILES_MAX_BYTES * 3 / 4 || l1 > GF_TILES_MAX_BYTES * 4 / 3);
        CHECK(gf_tile_gzip(&c, raw, len, &out) == GF_OK);
        if (cases[k].redone) CHECK(out.len < l1);
        else CHECK(out.len == l1);
        CHECK(gf_tile_inflate((const uint8_t *)out.p, out.len, len, &back) == GF_OK);
        CHECK(back.len == len && memcmp(back.p, raw, len) == 0);
    }
    gf_tile_gzip_free(c);
    gf_buf_free(&out);
    gf_buf_free(&back);
    free(raw);
}

static void test_open_invalid(void)
{
    gf_ctx *ctx = NULL;
    gf_ctx_create(&ctx);
    void *st = NULL;
    gf_output_opts o = {.path = "/tmp/x.pmtiles", .minzoom = 5, .maxzoom = 3};
    CHECK(gf_tiles_open(ctx, &o, 1, &st) == GF_ERR_ARG);
    o.minzoom = 0;
    o.maxzoom = 21;
    CHECK(gf_tiles_open(ctx, &o, 1, &st) == GF_ERR_ARG);
    o.minzoom = 5;
    o.maxzoom = 4;
    CHECK(gf_tiles_open(ctx, &o, 0, &st) == GF_ERR_ARG);
    o.minzoom = -1; /* default: 0 */
    CHECK(gf_tiles_open(ctx, &o, 0, &st) == GF_OK);
    gf_tiles_sink_vt.destroy(st);
    o.minzoom = o.maxzoom = 0; /* zoom 0 only, not the default range */
    CHECK(gf_tiles_open(ctx, &o, 0, &st) == GF_OK);
    gf_tiles_sink_vt.destroy(st);
    gf_tiles_sink_vt.destroy(NULL);
    gf_ctx_destroy(ctx);
}

int main(int argc, char **argv)
{
    (void)argc; (void)argv;
    test_varint();
    test_commands();
    test_tilemath();
    test_mvt_point();
    test_mvt_polygon();
    test_extsort();
    test_tile_gzip();
    test_open_invalid();
    GF_TEST_END();
}
