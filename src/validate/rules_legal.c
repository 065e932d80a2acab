/* The reference's position check: long/lat projected into the legal
 * system of its territory (@etalab/project-legal) must land within 10 m of
 * x/y. One gf_vproj per worker thread holds the PROJ objects. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validate/rules_int.h"

/* ---- projection (long/lat -> legal system), @etalab/project-legal ---------- */

static const struct { double b[4]; const char *def; } legal[] = {
    {{-9.86, 41.15, 10.38, 51.56}, "+proj=lcc +lat_1=49 +lat_2=44 +lat_0=46.5 +lon_0=3 +x_0=700000 +y_0=6600000 +ellps=GRS80"},
    {{-63.66, 14.08, -57.52, 18.54}, "+proj=utm +zone=20 +ellps=GRS80"},
    {{-54.6, 2.11, -49.46, 8.88}, "+proj=utm +zone=22 +ellps=GRS80"},
    {{51.83, -24.72, 58.24, -18.28}, "+proj=utm +zone=40 +south +ellps=GRS80"},
    {{43.68, -14.49, 46.7, -11.33}, "+proj=utm +zone=38 +south +ellps=GRS80"},
    {{-57.1, 43.41, -55.9, 47.37}, "+proj=utm +zone=21 +ellps=GRS80"},
    {{163.55, -22.75, 168.2, -19.54}, "+proj=lcc +lat_1=-20.66666666666667 +lat_2=-22.33333333333333 +lat_0=-21.5 +lon_0=166 +x_0=400000 +y_0=300000 +ellps=GRS80"},
    {{-155.0, -24.0, -150.0, -9.0}, "+proj=utm +zone=5 +south +ellps=GRS80"},
    {{-150.0, -29.0, -144.0, -13.0}, "+proj=utm +zone=6 +south +ellps=GRS80"},
    {{-144.0, -29.0, -138.0, -7.0}, "+proj=utm +zone=7 +south +ellps=GRS80"},
    {{-138.0, -25.0, -132.0, -18.0}, "+proj=utm +zone=8 +south +ellps=GRS80"},
    {{-177.0, -14.0, -176.0, -13.0}, "+proj=utm +zone=1 +south +ellps=intl"},
};
#define NLEGAL (sizeof legal / sizeof legal[0])
_Static_assert(NLEGAL == GF_VNLEGAL, "GF_VNLEGAL in rules_int.h");



gf_status gf_vproj_create(gf_ctx *ctx, gf_vproj **out)
{
    gf_vproj *p = calloc(1, sizeof *p);
    if (!p) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    p->pc = gf_ctx_proj(ctx);
    *out = p;
    return GF_OK;
}

void gf_vproj_destroy(gf_vproj *p)
{
    if (!p) return;
    for (size_t i = 0; i < NLEGAL; i++)
        if (p->pj[i]) proj_destroy(p->pj[i]);
    free(p);
}

/* The territory whose box holds lon/lat (the first one, as project-legal
 * looks them up), or -1. */
static int legal_box(double lon, double lat)
{
    if (!(lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90)) return -1;
    for (size_t i = 0; i < NLEGAL; i++) {
        const double *b = legal[i].b;
        if (lon <= b[2] && lon >= b[0] && lat <= b[3] && lat >= b[1]) return (int)i;
    }
    return -1;
}

/* Projection of lon/lat in territory i, unrounded; 0 when PROJ fails. */
static int legal_fwd(gf_vproj *p, int i, double lon, double lat, double xy[2])
{
    if (!p || !p->pc) return 0;
    if (!p->pj[i]) p->pj[i] = proj_create(p->pc, legal[i].def);
    if (!p->pj[i]) return 0;
    PJ_COORD c = proj_coord(proj_torad(lon), proj_torad(lat), 0, 0);
    c = proj_trans(p->pj[i], PJ_FWD, c);
    if (!isfinite(c.xy.x) || !isfinite(c.xy.y)) return 0;
    xy[0] = c.xy.x;
    xy[1] = c.xy.y;
    return 1;
}

/* project-legal's proj(): 1 and xy when lon/lat fall in a territory's box. */
int gf_vproj_legal(gf_vproj *p, double lon, double lat, double xy[2])
{
    int i = legal_box(lon, lat);
    if (i < 0 || !legal_fwd(p, i, lon, lat, xy)) return 0;
    xy[0] = round(xy[0] * 100) / 100;
    xy[1] = round(xy[1] * 100) / 100;
    return 1;
}

/* 1 when gf_vproj_legal() of lon/lat succeeds and lands within 5 m of (x, y)
 * for sure, by the local model (see vlin); 0: ask gf_vproj_legal(). */
int gf_vproj_near(gf_vproj *p, double lon, double lat, double x, double y)
{
    int i = legal_box(lon, lat);
    if (i < 0 || !p) return 0;
    vlin *L = &p->lin;
    if (!p->lin_ok || L->box != i || fabs(lon - L->lon0) > LIN_DEG || fabs(lat - L->lat0) > LIN_DEG) {
        double a[2], b[2], c[2];
        p->lin_ok = legal_fwd(p, i, lon, lat, a) && legal_fwd(p, i, lon + 1e-5, lat, b) && legal_fwd(p, i, lon, lat + 1e-5, c);
        if (!p->lin_ok) return 0;
        *L = (vlin){i, lon, lat, a[0], a[1], (b[0] - a[0]) / 1e-5, (c[0] - a[0]) / 1e-5, (b[1] - a[1]) / 1e-5, (c[1] - a[1]) / 1e-5};
    }
    double dl = lon - L->lon0, dp = lat - L->lat0;
    double ex = L->x0 + L->x_lon * dl + L->x_lat * dp - x, ey = L->y0 + L->y_lon * dl + L->y_lat * dp - y;
    return ex * ex + ey * ey <= 25.0;
}
