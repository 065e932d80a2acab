/* Join: the grid point-in-polygon against a brute-force GEOSContains_r on a
 * synthetic boundary file (shared borders, a hole filled by another
 * commune, a multipolygon, an invalid bow-tie) and on the real Haute-Garonne
 * communes; border points; nearest distance; the stage's flags and
 * statistics with one and two workers; invalid inputs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <geos_c.h>
#include <cpl_conv.h>
#include <ogr_api.h>

#include "geoflux/join.h"
#include "gf_test.h"

typedef struct syn { const char *code, *nom, *wkt; } syn;
static const syn SYN[] = {
    /* 3x3 grid of unit squares, lon 1..4, lat 43..46; one drawn clockwise */
    {"31001", "A", "POLYGON((1 43,2 43,2 44,1 44,1 43))"},
    {"31002", "B", "POLYGON((2 43,2 44,3 44,3 43,2 43))"},
    {"31003", "C", "POLYGON((3 43,4 43,4 44,3 44,3 43))"},
    {"31004", "D", "POLYGON((1 44,2 44,2 45,1 45,1 44))"},
    {"31005", "E", "POLYGON((2 44,3 44,3 45,2 45,2 44))"},
    {"31006", "F", "POLYGON((3 44,4 44,4 45,3 45,3 44))"},
    {"31007", "G", "POLYGON((1 45,2 45,2 46,1 46,1 45))"},
    {"31008", "H", "POLYGON((2 45,3 45,3 46,2 46,2 45))"},
    {"31009", "I", "POLYGON((3 45,4 45,4 46,3 46,3 45))"},
    /* a commune with a hole, and the enclave that fills it */
    {"31010", "Troué", "POLYGON((5 43,8 43,8 46,5 46,5 43),(6 44,7 44,7 45,6 45,6 44))"},
    {"31011", "Enclave", "POLYGON((6 44,7 44,7 45,6 45,6 44))"},
    /* two separate parts */
    {"31012", "Multi", "MULTIPOLYGON(((9 43,10 43,10 44,9 44,9 43)),((9 45,10 45,10 46,9 46,9 45)))"},
    /* self-intersecting bow-tie: repaired by GEOS make-valid */
    {"31013", "Noeud", "POLYGON((11 43,12 44,12 43,11 44,11 43))"},
    /* overlaps 31003 by a sliver: the lower code wins there */
    {"31014", "Recouvre", "POLYGON((3.75 43.25,4.5 43.25,4.5 43.75,3.75 43.75,3.75 43.25))"},
};
#define NSYN ((int)(sizeof SYN / sizeof SYN[0]))

static int write_syn(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs("{\"type\":\"FeatureCollection\",\"features\":[\n", f);
    for (int i = 0; i < NSYN; i++) {
        OGRGeometryH g = NULL;
        char *w = (char *)SYN[i].wkt;
        if (OGR_G_CreateFromWkt(&w, NULL, &g) != OGRERR_NONE) { fclose(f); return -1; }
        char *js = OGR_G_ExportToJson(g);
        fprintf(f, "%s{\"type\":\"Feature\",\"properties\":{\"INSEE_COM\":\"%s\",\"NOM_COM\":\"%s\"},\"geometry\":%s}\n",
                i ? "," : "", SYN[i].code, SYN[i].nom, js);
        CPLFree(js);
        OGR_G_DestroyGeometry(g);
    }
    fputs("]}\n", f);
    return fclose(f);
}

typedef struct brute {
    GEOSContextHandle_t h;
    int n;
    GEOSGeometry **g;
    const GEOSPreparedGeometry **pg;
    char **code;
} brute;

static void brute_free(brute *b)
{
    for (int i = 0; i < b->n; i++) {
        GEOSPreparedGeom_destroy_r(b->h, b->pg[i]);
        GEOSGeom_destroy_r(b->h, b->g[i]);
        free(b->code[i]);
    }
    free(b->g);
    free(b->pg);
    free(b->code);
    GEOS_finish_r(b->h);
}

/* Reads any OGR file into GEOS geometries (made valid), in code order. */
static int brute_load(brute *b, const char *path, const char *codefield)
{
    memset(b, 0, sizeof *b);
    b->h = GEOS_init_r();
    OGRDataSourceH ds = OGROpen(path, 0, NULL);
    if (!ds) return -1;
    OGRLayerH l = OGR_DS_GetLayer(ds, 0);
    int n = (int)OGR_L_GetFeatureCount(l, 1);
    b->g = calloc((size_t)n, sizeof *b->g);
    b->pg = calloc((size_t)n, sizeof *b->pg);
    b->code = calloc((size_t)n, sizeof *b->code);
    OGRFeatureH f;
    while ((f = OGR_L_GetNextFeature(l))) {
        OGRGeometryH og = OGR_F_GetGeometryRef(f);
        int sz = OGR_G_WkbSize(og);
        unsigned char *wkb = malloc((size_t)sz);
        OGR_G_ExportToWkb(og, wkbNDR, wkb);
        GEOSGeometry *g = GEOSGeomFromWKB_buf_r(b->h, wkb, (size_t)sz);
        free(wkb);
        if (GEOSisValid_r(b->h, g) != 1) {
            GEOSGeometry *v = GEOSMakeValid_r(b->h, g);
            GEOSGeom_destroy_r(b->h, g);
            g = v;
        }
        /* insertion sort by code */
        const char *code = OGR_F_GetFieldAsString(f, OGR_F_GetFieldIndex(f, codefield));
        int k = b->n;
        while (k > 0 && strcmp(b->code[k - 1], code) > 0) {
            b->g[k] = b->g[k - 1];
            b->code[k] = b->code[k - 1];
            k--;
        }
        b->g[k] = g;
        b->code[k] = strdup(code);
        b->n++;
        OGR_F_Destroy(f);
    }
    OGR_DS_Destroy(ds);
    for (int i = 0; i < b->n; i++) b->pg[i] = GEOSPrepare_r(b->h, b->g[i]);
    return 0;
}

/* Brute force: index (in code order) of the first polygon containing p;
 * *ncover = polygons whose closure holds p, *cover = the first of them. */
static int brute_locate(const brute *b, double x, double y, int *ncover, int *covers)
{
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(b->h, x, y);
    int first = -1;
    *ncover = 0;
    for (int i = 0; i < b->n; i++) {
        if (first < 0 && GEOSPreparedContains_r(b->h, b->pg[i], pt) == 1) first = i;
        if (GEOSPreparedIntersects_r(b->h, b->pg[i], pt) == 1) {
            if (*ncover < 8) covers[*ncover] = i;
            (*ncover)++;
        }
    }
    GEOSGeom_destroy_r(b->h, pt);
    return first;
}

static const char *code_or_none(const gf_join_index *ix, int k) { return k >= 0 ? gf_join_commune_code(ix, k) : "-"; }

static unsigned long long rng = 0x2545F4914F6CDD1Dull;
static double urand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

/* Compares the index with the brute force on npts random points and on the
 * given extra points. Returns the number of disagreements. */
static int compare(const gf_join_index *ix, const brute *b, double x0, double y0, double x1, double y1, int npts,
                   const double *extra, int nextra, int *nborder)
{
    int bad = 0;
    *nborder = 0;
    for (int i = 0; i < npts + nextra; i++) {
        double x = i < npts ? x0 + (x1 - x0) * urand() : extra[2 * (i - npts)];
        double y = i < npts ? y0 + (y1 - y0) * urand() : extra[2 * (i - npts) + 1];
        int nc, cov[8];
        int e = brute_locate(b, x, y, &nc, cov);
        int k = gf_join_locate(ix, x, y);
        const char *got = code_or_none(ix, k);
        int ok;
        int in_cover = 0;
        for (int q = 0; q < nc && q < 8; q++) in_cover |= !strcmp(got, b->code[cov[q]]);
        if (e >= 0) {
            /* inside: the lowest code containing it; or a lower code whose
             * boundary holds the point (overlapping polygons) */
            ok = !strcmp(got, b->code[e]) || (in_cover && strcmp(got, b->code[e]) < 0);
        } else if (nc == 0) {
            ok = k < 0;
        } else { /* on a boundary: one of the polygons touching it, or none on the outline of the set */
            (*nborder)++;
            ok = in_cover;
            if (k < 0) {
                int nin = 0, c2[8];
                for (int q = 0; q < 4; q++)
                    nin += brute_locate(b, x + (q == 0 ? 1e-9 : q == 1 ? -1e-9 : 0), y + (q == 2 ? 1e-9 : q == 3 ? -1e-9 : 0),
                                        &nc, c2) >= 0;
                ok = nin < 4;
            }
        }
        if (!ok && bad++ < 10)
            fprintf(stderr, "point %.17g %.17g: index says %s, GEOS %s (touching %d)\n", x, y, got,
                    e >= 0 ? b->code[e] : "-", nc);
        /* same answer on a second call */
        if (gf_join_locate(ix, x, y) != k) bad++;
    }
    return bad;
}

static void test_synthetic(gf_ctx *ctx, const char *path)
{
    CHECK(write_syn(path) == 0);
    gf_join_opts o = {.path = path};
    gf_join_index *ix = NULL;
    gf_status s = gf_join_index_load(ctx, &o, &ix);
    CHECK(s == GF_OK);
    if (s) { fprintf(stderr, "%s\n", gf_ctx_errmsg(ctx)); return; }
    CHECK(gf_join_ncommunes(ix) == NSYN);
    CHECK_STR(gf_join_commune_name(ix, gf_join_find_code(ix, "31010", 5)), "Troué"); /* NOM_COM detected */
    brute b;
    CHECK(brute_load(&b, path, "INSEE_COM") == 0);
    /* lattice points every 0.25: vertices, shared edges, hole rings */
    double *lat = malloc(2 * 60 * 20 * sizeof *lat);
    int nl = 0;
    for (int i = 0; i < 60; i++)
        for (int j = 0; j < 20; j++) {
            lat[2 * nl] = 0.5 + i * 0.25;
            lat[2 * nl + 1] = 42.5 + j * 0.25;
            nl++;
        }
    int nborder = 0;
    int bad = compare(ix, &b, 0.5, 42.5, 13, 46.5, 100000, lat, nl, &nborder);
    CHECK(bad == 0);
    CHECK(nborder > 100);
    free(lat);
    /* the documented border rule: east, or north on an east-west border */
    CHECK_STR(code_or_none(ix, gf_join_locate(ix, 2.0, 43.5)), "31002");
    CHECK_STR(code_or_none(ix, gf_join_locate(ix, 1.5, 44.0)), "31004");
    CHECK_STR(code_or_none(ix, gf_join_locate(ix, 2.0, 44.0)), "31005");
    /* hole and enclave, multipolygon, repaired bow-tie, overlap */
    CHECK_STR(code_or_none(ix, gf_join_locate(ix, 6.5, 44.5)), "31011");
    CHECK_STR(code_or_none(ix, gf_join_locate(ix, 5.5, 44.5)), "31010");
    CHECK_STR(code_or_none(ix, gf_join_locate(ix, 9.5, 45.5)), "31012");
    CHECK(gf_join_locate(ix, 9.5, 44.5) < 0);
    CHECK_STR(code_or_none(ix, gf_join_locate(ix, 11.2, 43.5)), "31013");
    CHECK_STR(code_or_none(ix, gf_join_locate(ix, 3.9, 43.5)), "31003");
    CHECK_STR(code_or_none(ix, gf_join_locate(ix, 4.2, 43.5)), "31014");
    CHECK(gf_join_locate(ix, NAN, 43.5) < 0);
    CHECK(gf_join_locate(ix, 100, 43.5) < 0);
    /* nearest: 100 m east of the grid's east edge at 43.5 N (metres per
     * degree of longitude on GRS80 there: 80 902.4 m, from PROJ's cs2cs) */
    double d = -1;
    int k = gf_join_nearest(ix, 4.5 + 100.0 / 80902.4, 43.5, 200, &d);
    CHECK_STR(code_or_none(ix, k), "31014");
    CHECK_NEAR(d, 100.0, 0.5);
    CHECK(gf_join_nearest(ix, 4.5 + 300.0 / 80902.4, 43.5, 200, &d) < 0);
    k = gf_join_nearest(ix, 9.5, 44.0 + 50.0 / 111100.0, 200, &d); /* between the two parts of 31012 */
    CHECK_STR(code_or_none(ix, k), "31012");
    CHECK_NEAR(d, 50.0, 1.0);
    brute_free(&b);
    gf_join_index_destroy(ix);
}

static void test_real(gf_ctx *ctx, const char *src)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/data/samples/boundaries/communes-31-haute-garonne.geojson", src);
    gf_join_opts o = {.path = path};
    gf_join_index *ix = NULL;
    gf_status s = gf_join_index_load(ctx, &o, &ix);
    CHECK(s == GF_OK);
    if (s) { fprintf(stderr, "%s\n", gf_ctx_errmsg(ctx)); return; }
    CHECK(gf_join_ncommunes(ix) == 587);
    CHECK_STR(gf_join_commune_name(ix, gf_join_find_code(ix, "31555", 5)), "Toulouse");
    brute b;
    CHECK(brute_load(&b, path, "code") == 0);
    /* vertices used by two or more communes lie exactly on shared borders */
    OGRDataSourceH ds = OGROpen(path, 0, NULL);
    OGRLayerH l = OGR_DS_GetLayer(ds, 0);
    OGRFeatureH f;
    double *v = NULL;
    size_t nv = 0, cap = 0;
    while ((f = OGR_L_GetNextFeature(l))) {
        OGRGeometryH ring = OGR_G_GetGeometryRef(OGR_F_GetGeometryRef(f), 0);
        int n = ring ? OGR_G_GetPointCount(ring) : 0;
        for (int i = 0; i < n; i += 7) {
            if (nv == cap) v = realloc(v, (cap = cap ? cap * 2 : 1024) * 2 * sizeof *v);
            v[2 * nv] = OGR_G_GetX(ring, i);
            v[2 * nv + 1] = OGR_G_GetY(ring, i);
            nv++;
        }
        OGR_F_Destroy(f);
    }
    OGR_DS_Destroy(ds);
    int nborder = 0;
    int bad = compare(ix, &b, 0.44, 42.68, 2.05, 43.93, 20000, v, (int)nv, &nborder);
    CHECK(bad == 0);
    CHECK(nborder > 500);
    fprintf(stderr, "real: %zu border vertices, %d on a boundary\n", nv, nborder);
    free(v);
    /* Escoulis rows of the validator samples */
    CHECK_STR(code_or_none(ix, gf_join_locate(ix, 1.028392, 43.111637)), "31591");
    brute_free(&b);
    gf_join_index_destroy(ix);
}

/* The stage on a hand-made batch: flags, and statistics identical with one
 * and two workers. */
static int run_stage(gf_ctx *ctx, const char *bpath, const char *stats, int nworkers, gf_batch **outb,
                     const gf_join_index *ix)
{
    static gf_schema s = {.kind = "address", .nfields = 3,
                          .fields = {{"commune_insee", GF_T_STRING}, {"voie_nom", GF_T_STRING},
                                     {"certification_commune", GF_T_BOOL}}};
    gf_schema sc = s;
    gf_join_opts o = {.path = bpath, .stats_path = stats, .index = ix};
    void *st = NULL;
    if (gf_join_create(ctx, &o, &st) != GF_OK) return -1;
    if (gf_join_stage_vt.start(st, ctx, &sc, nworkers) != GF_OK) return -1;
    static const struct { const char *insee, *voie; int cert; double lon, lat; } rows[] = {
        {"31001", "Rue A", 1, 1.5, 43.5},   /* match */
        {"31001", "Rue A", 0, 1.6, 43.5},   /* match, same street */
        {"31001", "Rue B", 1, 2.5, 43.5},   /* mismatch: in 31002 */
        {"31005", "Rue C", 1, NAN, NAN},    /* no position */
        {"31003", "Rue D", 0, 4.5 + 100.0 / 80902.4, 43.5}, /* outside, 100 m from 31014 */
        {"31003", "Rue E", 0, 20.0, 43.5},  /* outside, nothing near */
    };
    const int nr = 6;
    gf_batch *bs[2] = {0};
    int ok = 0;
    for (int wk = 0; wk < nworkers; wk++) {
        gf_batch_create(&sc, 16, &bs[wk]);
        for (int r = 0; r < nr; r++) {
            if (r % nworkers != wk) continue;
            long i = gf_batch_add_row(bs[wk], (uint64_t)r + 2, 0);
            gf_batch_set_str(bs[wk], 0, (size_t)i, rows[r].insee, 5);
            gf_batch_set_str(bs[wk], 1, (size_t)i, rows[r].voie, strlen(rows[r].voie));
            gf_batch_set_int(bs[wk], 2, (size_t)i, rows[r].cert);
            bs[wk]->lon[i] = rows[r].lon;
            bs[wk]->lat[i] = rows[r].lat;
            if (!isnan(rows[r].lon)) bs[wk]->flags[i] |= GF_ROW_HAS_POS;
        }
        if (gf_join_stage_vt.run(st, ctx, wk, bs[wk]) != GF_OK) ok = -1;
        CHECK(bs[wk]->n == (size_t)((nr + nworkers - 1 - wk) / nworkers)); /* no row dropped */
    }
    if (gf_join_stage_vt.end(st, ctx) != GF_OK) ok = -1;
    if (ok == 0 && gf_join_stage_vt.publish(st, ctx) != GF_OK) ok = -1; /* --stats: renamed with the run's outputs */
    gf_join_stage_vt.destroy(st);
    if (nworkers == 1) *outb = bs[0];
    else
        for (int wk = 0; wk < nworkers; wk++) gf_batch_destroy(bs[wk]);
    return ok;
}

static char *slurp(const char *p)
{
    FILE *f = fopen(p, "rb");
    if (!f) return NULL;
    char *s = calloc(1, 1 << 16);
    size_t n = fread(s, 1, (1 << 16) - 1, f);
    s[n] = 0;
    fclose(f);
    return s;
}

static const char *col(const gf_batch *b, int c, size_t r)
{
    static char buf[4][64];
    static int k;
    k = (k + 1) & 3;
    if (!b->cols[c].valid[r]) return "(null)";
    snprintf(buf[k], sizeof buf[k], "%.*s", (int)b->cols[c].v.s[r].len, gf_batch_str(b, b->cols[c].v.s[r]));
    return buf[k];
}

static void test_stage(gf_ctx *ctx, const char *bpath)
{
    gf_batch *b = NULL;
    CHECK(run_stage(ctx, bpath, "test_join_stats1.csv", 1, &b, NULL) == 0);
    CHECK(run_stage(ctx, bpath, "test_join_stats2.csv", 2, NULL, NULL) == 0);
    /* with an index loaded before (publish's): the same statistics, and the
     * index still the caller's once the stage is gone */
    gf_join_index *ix = NULL;
    gf_join_opts lo = {.path = bpath};
    CHECK(gf_join_index_load(ctx, &lo, &ix) == GF_OK);
    CHECK(run_stage(ctx, bpath, "test_join_stats3.csv", 2, NULL, ix) == 0);
    CHECK(ix && gf_join_locate(ix, 1.5, 43.5) >= 0 && !strcmp(gf_join_commune_code(ix, gf_join_locate(ix, 1.5, 43.5)), "31001"));
    gf_join_index_destroy(ix);
    char *s3 = slurp("test_join_stats3.csv");
    if (!b) return;
    /* fields 3..6: commune_geo, commune_geo_nom, join_status, join_distance_m */
    CHECK_STR(col(b, 5, 0), "match");
    CHECK_STR(col(b, 3, 0), "31001");
    CHECK_STR(col(b, 4, 0), "A");
    CHECK_STR(col(b, 5, 2), "mismatch");
    CHECK_STR(col(b, 3, 2), "31002");
    CHECK_STR(col(b, 5, 3), "no_position");
    CHECK_STR(col(b, 3, 3), "(null)");
    CHECK_STR(col(b, 5, 4), "outside");
    CHECK_STR(col(b, 3, 4), "31014");
    CHECK(b->cols[6].valid[4] && fabs(b->cols[6].v.d[4] - 100.0) < 0.5);
    CHECK_STR(col(b, 5, 5), "outside");
    CHECK_STR(col(b, 3, 5), "(null)");
    CHECK(!b->cols[6].valid[5]);
    gf_batch_destroy(b);
    char *s1 = slurp("test_join_stats1.csv"), *s2 = slurp("test_join_stats2.csv");
    CHECK(s1 && s2 && !strcmp(s1, s2));
    CHECK(s1 && s3 && !strcmp(s1, s3));
    if (s1) {
        CHECK(strstr(s1, "\n31001,A,2,1,0.5000,0,0,0,1\n") != NULL);
        CHECK(strstr(s1, "\n31002,B,1,1,1.0000,1,0,0,1\n") != NULL);
        CHECK(strstr(s1, "\n31005,E,0,0,,0,0,1,0\n") != NULL);
        CHECK(strstr(s1, "\n31014,Recouvre,1,0,0.0000,0,1,0,1\n") != NULL);
    }
    free(s1);
    free(s2);
    free(s3);
    remove("test_join_stats3.csv");
    remove("test_join_stats1.csv");
    remove("test_join_stats2.csv");
}

static void test_invalid(gf_ctx *ctx, const char *bpath)
{
    gf_join_index *ix = NULL;
    gf_join_opts o = {.path = "does/not/exist.geojson"};
    CHECK(gf_join_index_load(ctx, &o, &ix) == GF_ERR_INPUT && ix == NULL);
    CHECK(strstr(gf_ctx_errmsg(ctx), "does/not/exist.geojson") != NULL);
    o = (gf_join_opts){.path = bpath, .code_field = "nope"};
    CHECK(gf_join_index_load(ctx, &o, &ix) == GF_ERR_SCHEMA);
    o = (gf_join_opts){.path = bpath, .name_field = "nope"};
    CHECK(gf_join_index_load(ctx, &o, &ix) == GF_ERR_SCHEMA);
    void *st = NULL;
    o = (gf_join_opts){.path = bpath, .stats_path = "x.txt"};
    CHECK(gf_join_create(ctx, &o, &st) == GF_ERR_ARG && st == NULL);
    CHECK(gf_join_create(ctx, NULL, &st) == GF_ERR_ARG);
    gf_join_index_destroy(NULL);
    gf_join_stage_vt.destroy(NULL);
}

int main(int argc, char **argv)
{
    const char *src = argc > 1 ? argv[1] : ".";
    OGRRegisterAll();
    gf_ctx *ctx = NULL;
    gf_ctx_create(&ctx);
    const char *synpath = "test_join_synthetic.geojson";
    test_synthetic(ctx, synpath);
    test_real(ctx, src);
    test_stage(ctx, synpath);
    test_invalid(ctx, synpath);
    remove(synpath);
    gf_ctx_destroy(ctx);
    GF_TEST_END();
}
