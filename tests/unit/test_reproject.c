/* Reprojection stage: positions from long/lat or x/y, CRS detection
 * (Lambert-93, CC zones, overseas, ambiguous ranges settled by the
 * department), mismatch flags, output CRS, invalid CRS. */
#include <math.h>
#include <stdlib.h>

#include <proj.h>

#include "geoflux/ingest.h"
#include "geoflux/reproject.h"
#include "gf_test.h"

typedef struct row { const char *insee, *x, *y, *lon, *lat; } row;

static gf_schema schema;
static int f_xy_crs, f_mis;

static gf_batch *run_rows(gf_ctx *ctx, const char *s_srs, const char *t_srs, const row *rows, int n, gf_status *out_st)
{
    gf_reproject_opts o = {.s_srs = s_srs, .t_srs = t_srs};
    void *st = NULL;
    *out_st = gf_reproject_create(ctx, &o, &st);
    if (*out_st) return NULL;
    schema = *gf_address_schema();
    gf_reproject_stage_vt.start(st, ctx, &schema, 1);
    f_xy_crs = gf_schema_find(&schema, "xy_crs");
    f_mis = gf_schema_find(&schema, "pos_mismatch");
    gf_batch *b;
    gf_batch_create(&schema, 64, &b);
    for (int i = 0; i < n; i++) {
        long r = gf_batch_add_row(b, (uint64_t)i + 2, 0);
        const char *v[5] = {rows[i].insee, rows[i].x, rows[i].y, rows[i].lon, rows[i].lat};
        int f[5] = {GF_A_COMMUNE_INSEE, GF_A_X, GF_A_Y, GF_A_LONG, GF_A_LAT};
        for (int k = 0; k < 5; k++)
            if (v[k]) gf_batch_set_str(b, f[k], (size_t)r, v[k], strlen(v[k]));
    }
    gf_typing_stage_vt.run(NULL, ctx, 0, b);
    *out_st = gf_reproject_stage_vt.run(st, ctx, 0, b);
    gf_reproject_stage_vt.end(st, ctx);
    gf_reproject_stage_vt.destroy(st);
    return b;
}

static const char *xy_crs(const gf_batch *b, size_t r, char *buf)
{
    if (!b->cols[f_xy_crs].valid[r]) return "(null)";
    gf_sref s = b->cols[f_xy_crs].v.s[r];
    snprintf(buf, 32, "%.*s", (int)s.len, b->arena + s.off);
    return buf;
}

int main(void)
{
    gf_ctx *ctx;
    gf_ctx_create(&ctx);
    char buf[32];
    gf_status st;
    const row rows[] = {
        /* 0 Soual: x/y in CC44 with long/lat (the real file) */
        {"81289", "1628923.02370024", "3151042.93249989", "2.12029074610781", "43.5559286436393"},
        /* 1 Bruz: Lambert-93 with long/lat */
        {"35047", "346486.97", "6780392.5", "-1.7454643349932766", "48.02828204392352"},
        /* 2 Escoulis: x/y only, Lambert-93 */
        {"31591", "539416.13", "6225601.11", NULL, NULL},
        /* 3 Soual: x/y only, CC44 by range */
        {"81289", "1628923.02", "3151042.93", NULL, NULL},
        /* 4 Réunion: x/y only, UTM 40S (EPSG:2975) */
        {"97411", "338767.17", "7690355.57", NULL, NULL},
        /* 5 Ajaccio: L93 and CC47 ranges both fit; the department says L93 */
        {"2A004", "1176526.60", "6108263.02", NULL, NULL},
        /* 6 Quimper: L93 and CC47 ranges both fit; the department says CC47 */
        {"29232", "1169541.36", "6320775.85", NULL, NULL},
        /* 7 no position at all */
        {"31591", NULL, NULL, NULL, NULL},
        /* 8 long/lat only */
        {"31591", NULL, NULL, "1.028392", "43.111637"},
        /* 9 x/y far from long/lat in every known CRS */
        {"31591", "600000", "6300000", "1.028392", "43.111637"},
    };
    int n = (int)(sizeof rows / sizeof rows[0]);
    gf_batch *b = run_rows(ctx, NULL, NULL, rows, n, &st);
    CHECK(st == GF_OK);
    CHECK_STR(xy_crs(b, 0, buf), "EPSG:3944");
    CHECK(b->flags[0] & GF_ROW_POS_MISMATCH);
    CHECK_NEAR(b->lon[0], 2.12029074610781, 1e-12); /* position from long/lat */
    CHECK_STR(xy_crs(b, 1, buf), "EPSG:2154");
    CHECK(!(b->flags[1] & GF_ROW_POS_MISMATCH));
    CHECK(b->cols[f_mis].valid[1] && b->cols[f_mis].v.i[1] == 0);
    CHECK_NEAR(b->lon[2], 1.028392, 1e-6);
    CHECK_NEAR(b->lat[2], 43.111637, 1e-6);
    CHECK_STR(xy_crs(b, 2, buf), "EPSG:2154");
    CHECK_NEAR(b->lon[3], 2.1202907, 1e-6);
    CHECK_NEAR(b->lat[3], 43.5559286, 1e-6);
    CHECK_STR(xy_crs(b, 3, buf), "EPSG:3944");
    CHECK_NEAR(b->lon[4], 55.45, 1e-5);
    CHECK_NEAR(b->lat[4], -20.88, 1e-5);
    CHECK_NEAR(b->lon[5], 8.7369, 1e-5);
    CHECK_NEAR(b->lat[5], 41.9192, 1e-5);
    CHECK_NEAR(b->lon[6], -4.10, 1e-5);
    CHECK_NEAR(b->lat[6], 47.87, 1e-5);
    CHECK_STR(xy_crs(b, 6, buf), "EPSG:3947");
    CHECK(!(b->flags[7] & GF_ROW_HAS_POS));
    CHECK(isnan(b->lon[7]));
    CHECK(b->flags[8] & GF_ROW_HAS_POS);
    CHECK(b->flags[9] & GF_ROW_POS_MISMATCH);
    CHECK_STR(xy_crs(b, 9, buf), "(null)");
    for (int i = 0; i < n; i++)
        if (b->flags[i] & GF_ROW_HAS_POS) CHECK(b->gx[i] == b->lon[i] && b->gy[i] == b->lat[i]);
    gf_batch_destroy(b);

    /* --s-srs EPSG:3944: Soual is coherent, Bruz is not */
    b = run_rows(ctx, "EPSG:3944", NULL, rows, 2, &st);
    CHECK(st == GF_OK);
    CHECK(!(b->flags[0] & GF_ROW_POS_MISMATCH));
    CHECK(b->flags[1] & GF_ROW_POS_MISMATCH);
    gf_batch_destroy(b);

    /* output in Lambert-93: Bruz comes back to its x/y */
    b = run_rows(ctx, NULL, "2154", rows, 3, &st);
    CHECK(st == GF_OK);
    CHECK_NEAR(b->gx[1], 346486.97, 0.3);
    CHECK_NEAR(b->gy[1], 6780392.5, 0.3);
    CHECK_NEAR(b->gx[2], 539416.13, 0.05);
    gf_batch_destroy(b);

    /* Web Mercator */
    b = run_rows(ctx, NULL, "EPSG:3857", rows + 8, 1, &st);
    CHECK(st == GF_OK);
    CHECK_NEAR(b->gx[0], 114480.0, 50.0);
    gf_batch_destroy(b);

    /* x/y vs long/lat agreement near the 10 m tolerance: the local linear
     * model of the stage must give PROJ's verdict. Rows along 6 km (so the
     * model re-anchors), each with long/lat moved north by d metres from
     * the true position of its x/y. */
    {
        static const double dist[] = {0, 3, 4.9, 5.2, 6, 9.5, 10.5, 15, 100, 2500};
        enum { ND = sizeof dist / sizeof dist[0], NR = 40 };
        PJ *raw = proj_create_crs_to_crs(NULL, "EPSG:2154", "EPSG:4326", NULL);
        PJ *pj = raw ? proj_normalize_for_visualization(NULL, raw) : NULL;
        CHECK(pj != NULL);
        static char txt[NR][4][32];
        row rr[NR];
        for (int i = 0; i < NR; i++) {
            double x = 346486.97 + 150.0 * i, y = 6780392.5 - 60.0 * i;
            PJ_COORD c = proj_trans(pj, PJ_FWD, proj_coord(x, y, 0, 0));
            double lat = c.lp.phi + dist[i % ND] / (6371008.8 * M_PI / 180.0);
            snprintf(txt[i][0], 32, "%.3f", x);
            snprintf(txt[i][1], 32, "%.3f", y);
            snprintf(txt[i][2], 32, "%.10f", c.lp.lam);
            snprintf(txt[i][3], 32, "%.10f", lat);
            rr[i] = (row){"35047", txt[i][0], txt[i][1], txt[i][2], txt[i][3]};
        }
        proj_destroy(pj);
        proj_destroy(raw);
        b = run_rows(ctx, NULL, NULL, rr, NR, &st);
        CHECK(st == GF_OK);
        int wrong = 0;
        for (int i = 0; i < NR; i++) {
            int mis = (b->flags[i] & GF_ROW_POS_MISMATCH) != 0;
            if (mis != (dist[i % ND] > 10)) { wrong++; fprintf(stderr, "row %d, %g m: mismatch %d\n", i, dist[i % ND], mis); }
            if (!mis) CHECK_STR(xy_crs(b, (size_t)i, buf), "EPSG:2154");
        }
        CHECK(wrong == 0);
        gf_batch_destroy(b);
    }

    /* invalid CRS */
    void *bad = NULL;
    gf_reproject_opts o = {.t_srs = "EPSG:999999"};
    CHECK(gf_reproject_create(ctx, &o, &bad) == GF_ERR_ARG);
    CHECK(strstr(gf_ctx_errmsg(ctx), "999999") != NULL);
    gf_reproject_opts o2 = {.s_srs = "not a crs"};
    CHECK(gf_reproject_create(ctx, &o2, &bad) == GF_ERR_ARG);

    gf_crs_info ci;
    CHECK(gf_crs_resolve(ctx, "+proj=longlat +datum=WGS84 +no_defs", &ci) == GF_OK);
    CHECK(ci.geographic == 1);
    gf_crs_info_free(&ci);
    CHECK(gf_crs_resolve(ctx, "EPSG:3946", &ci) == GF_OK && ci.epsg == 3946 && !ci.geographic && ci.wkt);
    gf_crs_info_free(&ci);
    CHECK(gf_legal_epsg_for_insee("97209", 5) == 5490);
    CHECK(gf_legal_epsg_for_insee("31555", 5) == 2154);

    gf_ctx_destroy(ctx);
    GF_TEST_END();
}
