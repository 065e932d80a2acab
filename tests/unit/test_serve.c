/* Unit tests of geoflux serve's socket-free pieces: routing (traversal
 * refused), the geocoding parameters checked as the Géoplateforme checks
 * them, Range headers, the JSON answers, and the PMTiles/MBTiles reader on
 * a small archive and on invalid files. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "gf_test.h"
#include "geoflux/serve.h"
#include "tiles/tilemath.h"

static gf_serve_route_kind route(const char *p, gf_serve_route *r)
{
    gf_serve_route_path(p, strlen(p), r);
    return r->kind;
}

static void test_route(void)
{
    gf_serve_route r;
    CHECK(route("/search", &r) == GF_ROUTE_SEARCH);
    CHECK(route("/search/", &r) == GF_ROUTE_SEARCH);
    CHECK(route("/reverse", &r) == GF_ROUTE_REVERSE);
    CHECK(route("/completion", &r) == GF_ROUTE_COMPLETION);
    CHECK(route("/getCapabilities", &r) == GF_ROUTE_CAPABILITIES);
    CHECK(route("/openapi", &r) == GF_ROUTE_OPENAPI);
    CHECK(route("/search/csv", &r) == GF_ROUTE_SEARCH_CSV);
    CHECK(route("/reverse/csv/", &r) == GF_ROUTE_REVERSE_CSV);
    CHECK(route("/tiles/bruz/14/8112/5690.mvt", &r) == GF_ROUTE_TILE && r.z == 14 && r.x == 8112 && r.y == 5690 &&
          r.namelen == 4 && !memcmp(r.name, "bruz", 4));
    CHECK(route("/tiles/a-b_c.d/0/0/0.pbf", &r) == GF_ROUTE_TILE && r.namelen == 7);
    CHECK(route("/tiles/bruz.json", &r) == GF_ROUTE_TILEJSON && r.namelen == 4);
    /* outside the zoom's grid, malformed numbers, extra segments */
    CHECK(route("/tiles/a/1/2/0.mvt", &r) == GF_ROUTE_NOTFOUND);
    CHECK(route("/tiles/a/31/0/0.mvt", &r) == GF_ROUTE_NOTFOUND);
    CHECK(route("/tiles/a/01/0/0.mvt", &r) == GF_ROUTE_NOTFOUND);
    CHECK(route("/tiles/a/1/-1/0.mvt", &r) == GF_ROUTE_NOTFOUND);
    CHECK(route("/tiles/a/1/0/0.png", &r) == GF_ROUTE_NOTFOUND);
    CHECK(route("/tiles/a/1/0/0/0.mvt", &r) == GF_ROUTE_NOTFOUND);
    CHECK(route("/tiles/a/99999999999/0/0.mvt", &r) == GF_ROUTE_NOTFOUND);
    CHECK(route("/tiles/.x/0/0/0.mvt", &r) == GF_ROUTE_FORBIDDEN);
    /* static paths, and what is refused */
    CHECK(route("/", &r) == GF_ROUTE_STATIC && r.pathlen == 0);
    CHECK(route("/sub/t.csv", &r) == GF_ROUTE_STATIC && r.pathlen == 9 && !memcmp(r.path, "sub/t.csv", 9));
    CHECK(route("/dir/", &r) == GF_ROUTE_STATIC);
    CHECK(route("/../etc/passwd", &r) == GF_ROUTE_FORBIDDEN);
    CHECK(route("/a/../../b", &r) == GF_ROUTE_FORBIDDEN);
    CHECK(route("/a/..", &r) == GF_ROUTE_FORBIDDEN);
    CHECK(route("/./a", &r) == GF_ROUTE_FORBIDDEN);
    CHECK(route("/.env", &r) == GF_ROUTE_FORBIDDEN);
    CHECK(route("/a//b", &r) == GF_ROUTE_FORBIDDEN);
    CHECK(route("/a\\..\\b", &r) == GF_ROUTE_FORBIDDEN);
    CHECK(route("/a\x01", &r) == GF_ROUTE_FORBIDDEN);
    CHECK(route("search", &r) == GF_ROUTE_FORBIDDEN);
    gf_serve_route_path(NULL, 0, &r);
    CHECK(r.kind == GF_ROUTE_FORBIDDEN);
    gf_serve_route_path("/a\0/../b", 8, &r); /* a NUL inside a decoded path */
    CHECK(r.kind == GF_ROUTE_FORBIDDEN);
}

#define KV(k, v) {k, v, sizeof(v) - 1}

static void test_params(void)
{
    gf_serve_params p;
    const gf_serve_kv ok[] = {KV("q", " 8 bd du port 80000 amiens "), KV("limit", "7"), KV("lat", "49.9"),
                              KV("lon", "2.3"), KV("type", "housenumber"), KV("postcode", "80000"),
                              KV("citycode", "80021"), KV("autocomplete", "0"), KV("index", "address"),
                              KV("unknown", "whatever")};
    CHECK(gf_serve_parse_params(GF_ROUTE_SEARCH, ok, 10, &p) == GF_OK && p.ndetail == 0);
    CHECK(p.query.qlen == 25 && !memcmp(p.query.q, "8 bd du port 80000 amiens", 25)); /* trimmed */
    CHECK(p.limit == 7 && p.autocomplete == 0 && p.query.type == GF_GC_HOUSENUMBER);
    CHECK(p.query.has_bias && p.query.lat == 49.9 && p.query.lon == 2.3);
    CHECK(p.query.postcodelen == 5 && p.query.citycodelen == 5);
    /* defaults */
    const gf_serve_kv q[] = {KV("q", "rue de la paix")};
    CHECK(gf_serve_parse_params(GF_ROUTE_SEARCH, q, 1, &p) == GF_OK && p.limit == 5 && p.autocomplete == 1 &&
          !p.query.has_bias && p.query.type == GF_GC_NONE);
    const gf_serve_kv corse[] = {KV("q", "ajaccio"), KV("citycode", "2A004"), KV("limit", "+3")};
    CHECK(gf_serve_parse_params(GF_ROUTE_SEARCH, corse, 3, &p) == GF_OK && p.limit == 3);
    const gf_serve_kv accent[] = {KV("q", "\xc3\xa9" "cole")}; /* "école": a letter first */
    CHECK(gf_serve_parse_params(GF_ROUTE_SEARCH, accent, 1, &p) == GF_OK);
    /* each bad parameter is one line of detail, the Géoplateforme's words */
    static const struct { const char *k, *v, *detail; } bad[] = {
        {"q", "ab", "q: must contain between 3 and 200 chars and start with a number or a letter"},
        {"q", "-abc", "q: must contain between 3 and 200 chars and start with a number or a letter"},
        {"limit", "0", "limit: Param limit must be an integer between 1 and 20"},
        {"limit", "21", "limit: Param limit must be an integer between 1 and 20"},
        {"limit", "5.5", "limit: unable to parse value as integer"},
        {"limit", "05", "limit: unable to parse value as integer"},
        {"limit", "99999999999999999999", "limit: Param limit must be an integer between 1 and 20"},
        {"type", "house", "type: unexpected value 'house'"},
        {"postcode", "8000", "postcode: Param postcode must contain 5 digits"},
        {"citycode", "2C004", "citycode: Param citycode is invalid"},
        {"autocomplete", "maybe", "autocomplete: unable to parse value as boolean"},
        {"index", "poi", "index: 'poi' is not served here (only address)"},
        {"index", "foo", "index: unexpected value 'foo'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gf_serve_kv kv[2] = {{"q", "rue de la paix", 14}, {bad[i].k, bad[i].v, strlen(bad[i].v)}};
        int first = !strcmp(bad[i].k, "q");
        CHECK(gf_serve_parse_params(GF_ROUTE_SEARCH, kv + first, 2 - (size_t)first, &p) == GF_ERR_PARSE);
        CHECK(p.ndetail == 1);
        CHECK_STR(p.detail[0], bad[i].detail);
    }
    /* q is kept only when good */
    const gf_serve_kv shortq[] = {KV("q", "ab")};
    CHECK(gf_serve_parse_params(GF_ROUTE_SEARCH, shortq, 1, &p) == GF_ERR_PARSE && !p.query.q && p.ndetail == 1);
    const gf_serve_kv latonly[] = {KV("q", "rue de la paix"), KV("lat", "48.1")};
    CHECK(gf_serve_parse_params(GF_ROUTE_SEARCH, latonly, 2, &p) == GF_ERR_PARSE);
    CHECK_STR(p.detail[0], "lon/lat must be present together if defined");
    const gf_serve_kv far[] = {KV("q", "rue de la paix"), KV("lat", "91"), KV("lon", "1e3")};
    CHECK(gf_serve_parse_params(GF_ROUTE_SEARCH, far, 3, &p) == GF_ERR_PARSE && p.ndetail == 2 && !p.query.has_bias);
    const gf_serve_kv empty[] = {KV("q", ""), KV("limit", " ")}; /* empty is absent */
    CHECK(gf_serve_parse_params(GF_ROUTE_SEARCH, empty, 2, &p) == GF_ERR_PARSE && p.ndetail == 1);
    CHECK_STR(p.detail[0], "q is a required param");
    const gf_serve_kv noval[] = {{"q", NULL, 0}};
    CHECK(gf_serve_parse_params(GF_ROUTE_SEARCH, noval, 1, &p) == GF_ERR_PARSE);
    /* reverse */
    const gf_serve_kv rev[] = {KV("lon", "-1.7"), KV("lat", "48.0"), KV("type", "street")};
    CHECK(gf_serve_parse_params(GF_ROUTE_REVERSE, rev, 3, &p) == GF_OK && p.has_point && p.lon == -1.7 &&
          p.lat == 48.0 && p.limit == 5 && p.query.type == GF_GC_STREET && !p.query.has_bias);
    CHECK(gf_serve_parse_params(GF_ROUTE_REVERSE, NULL, 0, &p) == GF_ERR_PARSE);
    CHECK_STR(p.detail[0], "At least lon/lat or searchgeom must be defined");
    /* completion: the service's maximumResponses, maxResponses accepted too */
    const gf_serve_kv comp[] = {KV("text", "10 ru"), KV("maxResponses", "3"), KV("lonlat", "2.3,48.8"),
                                KV("type", "StreetAddress,PositionOfInterest")};
    CHECK(gf_serve_parse_params(GF_ROUTE_COMPLETION, comp, 4, &p) == GF_OK && p.limit == 3 && p.query.has_bias &&
          p.streetaddress);
    const gf_serve_kv poi[] = {KV("text", "10 ru"), KV("type", "PositionOfInterest")};
    CHECK(gf_serve_parse_params(GF_ROUTE_COMPLETION, poi, 2, &p) == GF_OK && !p.streetaddress);
    CHECK(gf_serve_parse_params(GF_ROUTE_COMPLETION, poi, 1, &p) == GF_OK && p.streetaddress);
    const gf_serve_kv comp2[] = {KV("text", "10 ru"), KV("maximumResponses", "16"), KV("lonlat", "2.3"),
                                 KV("type", "Poi")};
    CHECK(gf_serve_parse_params(GF_ROUTE_COMPLETION, comp2, 4, &p) == GF_ERR_PARSE && p.ndetail == 3 && p.limit == 10);
    CHECK(gf_serve_parse_params(GF_ROUTE_COMPLETION, NULL, 0, &p) == GF_ERR_PARSE);
    CHECK_STR(p.detail[0], "text: required param");
    /* completion's terr: territories the answers must lie in */
    const gf_serve_kv terr[] = {KV("text", "rue des acacias"), KV("terr", "35, 2A,97411,75056,31000")};
    CHECK(gf_serve_parse_params(GF_ROUTE_COMPLETION, terr, 2, &p) == GF_OK && p.nterr == 5);
    CHECK(gf_serve_terr_match(&p, "35047", "35170") && gf_serve_terr_match(&p, "2A004", NULL) &&
          gf_serve_terr_match(&p, "97411", ""));
    CHECK(gf_serve_terr_match(&p, "75115", "75015") && !gf_serve_terr_match(&p, "69383", "69003") &&
          !gf_serve_terr_match(&p, "97412", NULL));
    CHECK(gf_serve_terr_match(&p, "31555", "31000") && !gf_serve_terr_match(&p, "31555", "31500") &&
          !gf_serve_terr_match(&p, "", "31000"));
    const gf_serve_kv terr2[] = {KV("text", "rue des acacias"), KV("terr", "METROPOLE")};
    CHECK(gf_serve_parse_params(GF_ROUTE_COMPLETION, terr2, 2, &p) == GF_OK && p.nterr == 1);
    CHECK(gf_serve_terr_match(&p, "31555", NULL) && !gf_serve_terr_match(&p, "97411", NULL));
    const gf_serve_kv terr3[] = {KV("text", "rue des acacias"), KV("terr", "DOMTOM")};
    CHECK(gf_serve_parse_params(GF_ROUTE_COMPLETION, terr3, 2, &p) == GF_OK);
    CHECK(!gf_serve_terr_match(&p, "31555", NULL) && gf_serve_terr_match(&p, "97411", NULL));
    CHECK(gf_serve_parse_params(GF_ROUTE_COMPLETION, terr3, 1, &p) == GF_OK && p.nterr == 0 &&
          gf_serve_terr_match(&p, "97411", NULL));
    /* /reverse's filters */
    const gf_serve_kv rf[] = {KV("lon", "-1.7"), KV("lat", "48.0"), KV("postcode", "75015"), KV("citycode", "75056"),
                              KV("city", "paris")};
    CHECK(gf_serve_parse_params(GF_ROUTE_REVERSE, rf, 5, &p) == GF_OK);
    gf_gc_result rr;
    gf_gc_result_clear(&rr);
    rr.postcode = "75015"; rr.citycode = "75115"; rr.city = "Paris";
    CHECK(gf_serve_reverse_match(&p, &rr));
    rr.postcode = "75016";
    CHECK(!gf_serve_reverse_match(&p, &rr));
    rr.postcode = "75015"; rr.city = "Lyon";
    CHECK(!gf_serve_reverse_match(&p, &rr));
    rr.city = "Paris"; rr.citycode = "69383";
    CHECK(!gf_serve_reverse_match(&p, &rr));
    /* completion's bbox: the answers inside, corners in either order */
    const gf_serve_kv bb[] = {KV("text", "rue des acacias"), KV("bbox", "-1.8,48.0,-1.7,48.1")};
    CHECK(gf_serve_parse_params(GF_ROUTE_COMPLETION, bb, 2, &p) == GF_OK && p.has_bbox);
    CHECK(gf_serve_bbox_match(&p, -1.745, 48.027) && !gf_serve_bbox_match(&p, 1.44, 43.6));
    const gf_serve_kv bb2[] = {KV("text", "rue des acacias"), KV("bbox", "-1.7,48.1,-1.8,48.0")};
    CHECK(gf_serve_parse_params(GF_ROUTE_COMPLETION, bb2, 2, &p) == GF_OK && gf_serve_bbox_match(&p, -1.745, 48.027));
    static const char *const badbb[] = {"1,2,3", "1,2,3,4,5", "a,2,3,4", "-181,0,0,0", "0,91,0,0", ",,,"};
    for (size_t i = 0; i < sizeof badbb / sizeof badbb[0]; i++) {
        const gf_serve_kv tb[] = {KV("text", "rue des acacias"), {"bbox", badbb[i], strlen(badbb[i])}};
        CHECK(gf_serve_parse_params(GF_ROUTE_COMPLETION, tb, 2, &p) == GF_ERR_PARSE && p.ndetail == 1 && !p.has_bbox);
        CHECK(!strncmp(p.detail[0], "bbox: ", 6));
    }
    static const char *const badterr[] = {"Occitanie", "20", "97", "975", "977", "2a", "3", "31555x", "35,,31", "2A004"};
    for (size_t i = 0; i < sizeof badterr / sizeof badterr[0]; i++) {
        const gf_serve_kv tb[] = {KV("text", "rue des acacias"), {"terr", badterr[i], strlen(badterr[i])}};
        CHECK(gf_serve_parse_params(GF_ROUTE_COMPLETION, tb, 2, &p) == GF_ERR_PARSE && p.ndetail == 1);
        CHECK(!strncmp(p.detail[0], "terr: Unexpected value(s) for param terr", 40));
    }
    /* invalid calls */
    CHECK(gf_serve_parse_params(GF_ROUTE_TILE, q, 1, &p) == GF_ERR_ARG);
    CHECK(gf_serve_parse_params(GF_ROUTE_SEARCH, NULL, 1, &p) == GF_ERR_ARG);
    CHECK(gf_serve_parse_params(GF_ROUTE_SEARCH, q, 1, NULL) == GF_ERR_ARG);
}

static void test_range(void)
{
    uint64_t a = 0, l = 0;
    CHECK(gf_serve_parse_range("bytes=0-9", 100, &a, &l) == 1 && a == 0 && l == 10);
    CHECK(gf_serve_parse_range("bytes=90-", 100, &a, &l) == 1 && a == 90 && l == 10);
    CHECK(gf_serve_parse_range("bytes=-5", 100, &a, &l) == 1 && a == 95 && l == 5);
    CHECK(gf_serve_parse_range("bytes=-500", 100, &a, &l) == 1 && a == 0 && l == 100);
    CHECK(gf_serve_parse_range("bytes=0-999", 100, &a, &l) == 1 && a == 0 && l == 100);
    CHECK(gf_serve_parse_range("bytes=99-99", 100, &a, &l) == 1 && a == 99 && l == 1);
    CHECK(gf_serve_parse_range("bytes=100-", 100, &a, &l) == -1);
    CHECK(gf_serve_parse_range("bytes=-0", 100, &a, &l) == -1);
    CHECK(gf_serve_parse_range("bytes=0-", 0, &a, &l) == -1);
    CHECK(gf_serve_parse_range("bytes=5-2", 100, &a, &l) == 0);
    CHECK(gf_serve_parse_range("bytes=0-1,3-4", 100, &a, &l) == 0);
    CHECK(gf_serve_parse_range("items=0-1", 100, &a, &l) == 0);
    CHECK(gf_serve_parse_range("bytes=a-b", 100, &a, &l) == 0);
    CHECK(gf_serve_parse_range("bytes=99999999999999999999999-", 100, &a, &l) == 0);
    CHECK(gf_serve_parse_range(NULL, 100, &a, &l) == 0);
}

static void test_json(void)
{
    gf_buf b = {0};
    gf_serve_params p = {.ndetail = 2};
    strcpy(p.detail[0], "q: \"x\"");
    strcpy(p.detail[1], "limit");
    CHECK(gf_serve_json_error(&b, 400, "Failed parsing query", &p) == GF_OK);
    gf_buf_append(&b, "", 1);
    CHECK_STR(b.p, "{\"code\":400,\"message\":\"Failed parsing query\",\"detail\":[\"q: \\\"x\\\"\",\"limit\"]}");
    b.len = 0;
    CHECK(gf_serve_json_error(&b, 404, "not found", NULL) == GF_OK);
    gf_buf_append(&b, "", 1);
    CHECK_STR(b.p, "{\"code\":404,\"message\":\"not found\"}");

    gf_gc_result r[2];
    gf_gc_result_clear(&r[0]);
    gf_gc_result_clear(&r[1]);
    r[0].type = GF_GC_HOUSENUMBER;
    r[0].score = 0.87654;
    r[0].lon = -1.7454643;
    r[0].lat = 48.028282;
    r[0].housenumber = 12;
    strcpy(r[0].suffix, "bis");
    r[0].id = "35047_0001_00012_bis";
    r[0].name = "12 bis Rue des Acacias";
    r[0].street = "Rue des Acacias";
    r[0].postcode = "35170";
    r[0].city = "Bruz";
    r[0].citycode = "35047";
    r[0].context = "35, Ille-et-Vilaine, Bretagne";
    r[0].importance = 0.5;
    r[0].distance = 12.4;
    gf_ctx *ctx;
    gf_gc_legal *legal;
    CHECK(gf_ctx_create(&ctx) == GF_OK && gf_gc_legal_create(&legal) == GF_OK);
    b.len = 0;
    CHECK(gf_serve_json_features(&b, ctx, legal, r, 2, 1) == GF_OK); /* the GF_GC_NONE one is left out */
    gf_buf_append(&b, "", 1);
    CHECK(strstr(b.p, "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\","
                      "\"coordinates\":[-1.745464,48.028282]},\"properties\":{\"label\":\"12 bis Rue des Acacias 35170 Bruz\","
                      "\"score\":0.8765,\"housenumber\":\"12bis\",\"id\":\"35047_0001_00012_bis\"") == b.p);
    CHECK(strstr(b.p, "\"x\":346486.99,\"y\":6780392.34") != NULL); /* Lambert-93, as result_x/result_y */
    CHECK(strstr(b.p, "\"distance\":12}}]}") != NULL); /* reverse has a score too (the service's schema) */
    b.len = 0;
    r[0].citycode = ""; /* no legal CRS known: no x/y */
    CHECK(gf_serve_json_features(&b, ctx, legal, r, 1, 0) == GF_OK);
    gf_buf_append(&b, "", 1);
    CHECK(!strstr(b.p, "\"x\":") && strstr(b.p, "\"score\":0.8765") && !strstr(b.p, "distance"));
    b.len = 0;
    CHECK(gf_serve_json_completion(&b, r, 2) == GF_OK);
    gf_buf_append(&b, "", 1);
    CHECK(strstr(b.p, "{\"status\":\"OK\",\"results\":[{\"x\":-1.745464,\"y\":48.028282,\"country\":\"StreetAddress\"") == b.p);
    CHECK(strstr(b.p, "\"fulltext\":\"12 bis Rue des Acacias, 35170 Bruz\",\"classification\":7}]}") != NULL);
    gf_gc_legal_destroy(legal);
    gf_ctx_destroy(ctx);
    gf_buf_free(&b);
}

static void test_archive(const char *src)
{
    gf_ctx *ctx;
    CHECK(gf_ctx_create(&ctx) == GF_OK);
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fuzz/corpus-fuzz_http/archive-small.pmtiles", src);
    gf_serve_archive *a = NULL;
    CHECK(gf_serve_archive_open(ctx, path, &a) == GF_OK);
    if (a) {
        CHECK_STR(gf_serve_archive_name(a), "archive-small");
        CHECK(gf_serve_archive_is_pmtiles(a));
        gf_buf t = {0};
        int gz = 0;
        CHECK(gf_serve_archive_tile(a, ctx, 0, 0, 0, &t, &gz) == GF_OK && t.len > 2 && gz &&
              (unsigned char)t.p[0] == 0x1f && (unsigned char)t.p[1] == 0x8b);
        CHECK(gf_serve_archive_tile(a, ctx, 6, 0, 0, &t, &gz) == GF_OK && t.len == 0); /* none there */
        CHECK(gf_serve_archive_tile(a, ctx, 12, 0, 0, &t, &gz) == GF_OK && t.len == 0); /* above maxzoom */
        CHECK(gf_serve_archive_tile(a, ctx, 31, 0, 0, &t, &gz) == GF_ERR_ARG);
        t.len = 0;
        CHECK(gf_serve_archive_tilejson(a, "http://h:1", &t) == GF_OK);
        gf_buf_append(&t, "", 1);
        CHECK(strstr(t.p, "\"tiles\":[\"http://h:1/tiles/archive-small/{z}/{x}/{y}.mvt\"]") != NULL);
        CHECK(strstr(t.p, "\"vector_layers\":[{\"id\":\"addresses\"") != NULL);
        gf_buf_free(&t);
        gf_serve_archive_destroy(a);
    }
    gf_serve_archive_destroy(NULL);
    /* invalid archives */
    snprintf(path, sizeof path, "%s/tests/fuzz/corpus-fuzz_http/archive-bad-header.pmtiles", src);
    CHECK(gf_serve_archive_open(ctx, path, &a) == GF_ERR_PARSE && a == NULL);
    snprintf(path, sizeof path, "%s/tests/fuzz/corpus-fuzz_http/archive-loop.pmtiles", src);
    CHECK(gf_serve_archive_open(ctx, path, &a) == GF_OK);
    if (a) {
        gf_buf t = {0};
        int gz;
        CHECK(gf_serve_archive_tile(a, ctx, 0, 0, 0, &t, &gz) == GF_ERR_PARSE); /* a leaf pointing at itself */
        gf_buf_free(&t);
        gf_serve_archive_destroy(a);
    }
    CHECK(gf_serve_archive_open(ctx, "/nonexistent/x.pmtiles", &a) == GF_ERR_INPUT);
    snprintf(path, sizeof path, "%s/README.md", src);
    CHECK(gf_serve_archive_open(ctx, path, &a) == GF_ERR_ARG);
    snprintf(path, sizeof path, "%s/tests/fuzz/corpus-fuzz_http/search-ok", src);
    CHECK(gf_serve_archive_open(ctx, path, &a) == GF_ERR_ARG);
    gf_ctx_destroy(ctx);
}

/* A directory of n entries in spec order (no compression). */
static size_t put_dir(uint8_t *w, const uint64_t *id, const uint64_t *run, const uint64_t *len, const uint64_t *off,
                      size_t n)
{
    size_t k = gf_varint_put(w, n);
    for (size_t i = 0; i < n; i++) k += gf_varint_put(w + k, id[i] - (i ? id[i - 1] : 0));
    for (size_t i = 0; i < n; i++) k += gf_varint_put(w + k, run[i]);
    for (size_t i = 0; i < n; i++) k += gf_varint_put(w + k, len[i]);
    for (size_t i = 0; i < n; i++)
        k += gf_varint_put(w + k, i && off[i] == off[i - 1] + len[i - 1] ? 0 : off[i] + 1);
    return k;
}

static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }

/* An archive with leaf directories, as a large publication has: every
 * tile of zoom 8 (ids 21845..87380), each entry 8 bytes of data naming its
 * id, every fourth entry a run of 3 identical tiles (then a gap), 64
 * leaves under the root. Tiles read through the server's reader must be
 * those bytes. */
static void test_leaves(void)
{
    enum { Z = 8, NT = 1 << (2 * Z), PER = 1024 };
    uint64_t base = gf_pmtiles_zxy_to_id(Z, 0, 0);
    static uint64_t id[NT], run[NT], len[NT], off[NT];
    size_t ne = 0;
    for (uint64_t t = 0; t < NT;) {
        id[ne] = base + t;
        run[ne] = ne % 4 == 3 ? 3 : 1;
        len[ne] = 8;
        off[ne] = ne * 8;
        t += run[ne] + (ne % 4 == 3); /* a gap after each run */
        ne++;
    }
    size_t nl = (ne + PER - 1) / PER;
    uint8_t *leaves = malloc(ne * 40 + 16), *root = malloc(nl * 40 + 16);
    static uint64_t lid[NT / PER + 1], lrun[NT / PER + 1], llen[NT / PER + 1], loff[NT / PER + 1];
    size_t lbytes = 0;
    for (size_t i = 0; i < nl; i++) {
        size_t a = i * PER, c = ne - a < PER ? ne - a : PER;
        size_t k = put_dir(leaves + lbytes, id + a, run + a, len + a, off + a, c);
        lid[i] = id[a]; lrun[i] = 0; llen[i] = k; loff[i] = lbytes;
        lbytes += k;
    }
    size_t rbytes = put_dir(root, lid, lrun, llen, loff, nl);
    uint8_t h[127] = {0};
    memcpy(h, "PMTiles", 7);
    h[7] = 3;
    uint64_t leaf_off = 127 + rbytes, data_off = leaf_off + lbytes;
    put64(h + 8, 127); put64(h + 16, rbytes); put64(h + 24, 0); put64(h + 32, 0);
    put64(h + 40, leaf_off); put64(h + 48, lbytes); put64(h + 56, data_off); put64(h + 64, ne * 8);
    h[97] = 1; h[98] = 1; h[99] = 1; h[100] = Z; h[101] = Z;
    char path[] = "/tmp/gf_test_leaves_XXXXXX.pmtiles";
    int fd = mkstemps(path, 8);
    CHECK(fd >= 0);
    if (fd < 0) { free(leaves); free(root); return; }
    FILE *f = fdopen(fd, "wb");
    fwrite(h, 1, sizeof h, f);
    fwrite(root, 1, rbytes, f);
    fwrite(leaves, 1, lbytes, f);
    for (size_t i = 0; i < ne; i++) fwrite(&id[i], 1, 8, f);
    fclose(f);
    free(leaves);
    free(root);
    CHECK(rbytes < 16384 - 127 && nl > 1);
    gf_ctx *ctx;
    gf_serve_archive *a = NULL;
    CHECK(gf_ctx_create(&ctx) == GF_OK && gf_serve_archive_open(ctx, path, &a) == GF_OK);
    unlink(path);
    if (a) {
        gf_buf t = {0};
        int gz = 1, bad = 0, seen = 0;
        for (uint32_t x = 0; x < (1u << Z); x += 3)
            for (uint32_t y = 0; y < (1u << Z); y += 5) {
                uint64_t want = gf_pmtiles_zxy_to_id(Z, x, y);
                /* the entry covering want, if any */
                size_t lo = 0, hi = ne;
                while (lo < hi) { size_t m = (lo + hi) / 2; if (id[m] <= want) lo = m + 1; else hi = m; }
                int has = lo > 0 && want - id[lo - 1] < run[lo - 1];
                if (gf_serve_archive_tile(a, ctx, Z, x, y, &t, &gz) != GF_OK || gz) { bad++; continue; }
                if (has) {
                    uint64_t got;
                    if (t.len != 8) { bad++; continue; }
                    memcpy(&got, t.p, 8);
                    bad += got != id[lo - 1];
                    seen++;
                } else bad += t.len != 0;
            }
        CHECK(bad == 0 && seen > 1000);
        CHECK(gf_serve_archive_tile(a, ctx, 7, 0, 0, &t, &gz) == GF_OK && t.len == 0); /* below minzoom */
        gf_buf_free(&t);
        gf_serve_archive_destroy(a);
    }
    gf_ctx_destroy(ctx);
}

int main(int argc, char **argv)
{
    const char *src = argc > 1 ? argv[1] : ".";
    test_route();
    test_params();
    test_range();
    test_json();
    test_archive(src);
    test_leaves();
    GF_TEST_END();
}
