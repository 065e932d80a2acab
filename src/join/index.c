/* The commune index: boundaries read with GDAL (the GDAL adapter of the
 * join), repaired with GEOS, and a uniform grid over WGS84 lon/lat for an
 * exact crossing-number point-in-polygon test.
 *
 * Why lon/lat: the reproject stage fills b->lon/b->lat for every positioned
 * row whatever the output CRS, and point-in-polygon is a topological
 * answer, so one index serves every output CRS. Distances are not
 * topological: they are measured in metres on the tangent plane at the
 * point (equirectangular scale at its latitude), which is within 0.1 % of
 * the geodesic distance at the few-hundred-metre range we search. GEOS's
 * own distance would be in degrees, i.e. wrong by up to 30 % in metres at
 * French latitudes; that is why the nearest search is written here.
 *
 * Grid: cells roughly square in metres, about 16 per polygon edge. A cell
 * that no edge touches is uniform and answers with one load; otherwise it
 * lists its candidate polygons (lowest code first) with, for each, the
 * edges of the cell's row band that reach the cell or lie east of it,
 * sorted east first: a ray cast east from the point only meets those. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal.h>
#include <geos_c.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "core/gdalerr.h"
#include "join/join_int.h"

static const char *const code_names[] = {"code", "insee", "insee_com", "code_insee", "insee_comm", "codgeo",
                                         "code_commune", "codecommune", "codeinsee", "com", "depcom", NULL};
static const char *const name_names[] = {"nom", "nom_com", "nom_comm", "libelle", "nom_commune", "libgeo",
                                         "name", "nomcom", "lib_com", "libelle_commune", NULL};

/* ---------------------------------------------------------------- load -- */

typedef struct loader {
    gf_join_index *ix;
    size_t capp, capr, capv;
} loader;

static gf_status grow(void **p, size_t *cap, size_t need, size_t elsz)
{
    if (need <= *cap) return GF_OK;
    size_t n = *cap ? *cap * 2 : 256;
    while (n < need) n *= 2;
    void *q = realloc(*p, n * elsz);
    if (!q) return GF_ERR_NOMEM;
    *p = q;
    *cap = n;
    return GF_OK;
}

/* Appends the rings of every polygon in g (Polygon, MultiPolygon or a
 * collection from GEOSMakeValid) to the index. */
static gf_status add_rings(GEOSContextHandle_t h, loader *L, jx_poly *p, const GEOSGeometry *g)
{
    gf_join_index *ix = L->ix;
    int t = GEOSGeomTypeId_r(h, g);
    if (t == GEOS_MULTIPOLYGON || t == GEOS_GEOMETRYCOLLECTION) {
        int n = GEOSGetNumGeometries_r(h, g);
        for (int i = 0; i < n; i++) {
            gf_status s = add_rings(h, L, p, GEOSGetGeometryN_r(h, g, i));
            if (s) return s;
        }
        return GF_OK;
    }
    if (t != GEOS_POLYGON) return GF_OK; /* lines or points left by make-valid: no area */
    int nh = GEOSGetNumInteriorRings_r(h, g);
    for (int k = -1; k < nh; k++) {
        const GEOSGeometry *r = k < 0 ? GEOSGetExteriorRing_r(h, g) : GEOSGetInteriorRingN_r(h, g, k);
        const GEOSCoordSequence *cs = r ? GEOSGeom_getCoordSeq_r(h, r) : NULL;
        unsigned int nv = 0;
        if (!cs || !GEOSCoordSeq_getSize_r(h, cs, &nv) || nv < 4) continue;
        if (grow((void **)&ix->rings, &L->capr, ix->nrings + 1, sizeof *ix->rings) ||
            grow((void **)&ix->xy, &L->capv, 2 * (ix->nv + nv), sizeof *ix->xy))
            return GF_ERR_NOMEM;
        jx_ring *rg = &ix->rings[ix->nrings++];
        rg->v0 = (uint32_t)ix->nv;
        rg->nv = nv;
        for (unsigned int i = 0; i < nv; i++) {
            double x, y;
            GEOSCoordSeq_getXY_r(h, cs, i, &x, &y);
            ix->xy[2 * (ix->nv + i)] = x;
            ix->xy[2 * (ix->nv + i) + 1] = y;
            if (x < p->bbox[0]) p->bbox[0] = x;
            if (y < p->bbox[1]) p->bbox[1] = y;
            if (x > p->bbox[2]) p->bbox[2] = x;
            if (y > p->bbox[3]) p->bbox[3] = y;
        }
        ix->nv += nv;
        p->nrings++;
    }
    return GF_OK;
}

static int find_field(OGRFeatureDefnH fd, const char *given, const char *const *names)
{
    if (given) return OGR_FD_GetFieldIndex(fd, given);
    for (int k = 0; names[k]; k++)
        for (int i = 0; i < OGR_FD_GetFieldCount(fd); i++)
            if (!strcasecmp(OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(fd, i)), names[k])) return i;
    return -1;
}

/* The code as text: integer fields lose the leading zero of 01001..09999. */
static void field_code(OGRFeatureH f, int i, char *out, size_t outsz)
{
    OGRFieldDefnH d = OGR_F_GetFieldDefnRef(f, i);
    OGRFieldType t = OGR_Fld_GetType(d);
    if (t == OFTInteger || t == OFTInteger64) {
        long long v = OGR_F_GetFieldAsInteger64(f, i);
        snprintf(out, outsz, v >= 1000 && v < 10000 ? "%05lld" : "%lld", v);
        return;
    }
    const char *s = OGR_F_GetFieldAsString(f, i);
    while (*s == ' ') s++;
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ') n--;
    snprintf(out, outsz, "%.*s", (int)n, s);
}

/* Sort key of a polygon: its code, then its order in the source. */
typedef struct sort_item {
    const char *code;
    long fid;
    int idx;
} sort_item;
static int cmp_item(const void *a, const void *b)
{
    const sort_item *p = a, *q = b;
    int r = strcmp(p->code, q->code);
    return r ? r : (p->fid > q->fid) - (p->fid < q->fid);
}

static gf_status load_features(gf_ctx *ctx, const gf_join_opts *o, gf_join_index *ix, char ***codes_out,
                               char ***names_out)
{
    GEOSContextHandle_t h = gf_ctx_geos(ctx);
    if (!h) return gf_ctx_err(ctx, GF_ERR_GEOS, "join: cannot start GEOS");
    gf_gdal_register();
    gf_gdal_errs ge;
    gf_gdal_enter(&ge, ctx);
    gf_status st = GF_OK;
    OGRSpatialReferenceH wgs = NULL, srcc = NULL;
    OGRCoordinateTransformationH ct = NULL;
    GEOSWKBWriter *ww = NULL;
    char **codes = NULL, **names = NULL;
    size_t capc = 0, capn = 0;
    loader L = {.ix = ix};
    /* GDAL says "not recognized" for a file that does not exist: ask the
     * file system first, so the message says what is wrong. */
    struct stat sb;
    GDALDatasetH ds = NULL;
    if (stat(o->path, &sb) != 0) {
        st = gf_ctx_err(ctx, GF_ERR_INPUT, "%s: cannot open the boundaries: %s", o->path, strerror(errno));
        goto out;
    }
    ds = GDALOpenEx(o->path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!ds) {
        st = gf_ctx_err(ctx, GF_ERR_INPUT, "%s: cannot open the boundaries: %s", o->path,
                        gf_gdal_msg(&ge, "not a vector dataset GDAL can read"));
        goto out;
    }
    OGRLayerH lyr = o->layer ? GDALDatasetGetLayerByName(ds, o->layer) : GDALDatasetGetLayer(ds, 0);
    if (!lyr) {
        st = gf_ctx_err(ctx, GF_ERR_INPUT, "%s: no layer %s", o->path, o->layer ? o->layer : "");
        goto out;
    }
    OGRFeatureDefnH fd = OGR_L_GetLayerDefn(lyr);
    int fcode = find_field(fd, o->code_field, code_names), fname = find_field(fd, o->name_field, name_names);
    if (fcode < 0) {
        st = gf_ctx_err(ctx, GF_ERR_SCHEMA, "%s: %s%s%s (give it with --communes-code-field)", o->path,
                        o->code_field ? "no field " : "no commune code field found (code, insee, INSEE_COM, code_insee...)",
                        o->code_field ? o->code_field : "", "");
        goto out;
    }
    if (o->name_field && fname < 0) {
        st = gf_ctx_err(ctx, GF_ERR_SCHEMA, "%s: no field %s", o->path, o->name_field);
        goto out;
    }
    wgs = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(wgs, 4326);
    OSRSetAxisMappingStrategy(wgs, OAMS_TRADITIONAL_GIS_ORDER);
    OGRSpatialReferenceH src = OGR_L_GetSpatialRef(lyr);
    if (src) {
        srcc = OSRClone(src);
        OSRSetAxisMappingStrategy(srcc, OAMS_TRADITIONAL_GIS_ORDER);
        if (!OSRIsSame(srcc, wgs)) {
            ct = OCTNewCoordinateTransformation(srcc, wgs);
            if (!ct) {
                st = gf_ctx_err(ctx, GF_ERR_PROJ, "%s: no transformation from its CRS to WGS84: %s", o->path,
                                gf_gdal_msg(&ge, "no reason given"));
                goto out;
            }
        }
    } else {
        gf_ctx_log(ctx, GF_LOG_WARN, "%s: no CRS declared, read as WGS84 lon/lat", o->path);
    }
    ww = GEOSWKBWriter_create_r(h);
    if (!ww) { st = gf_ctx_err(ctx, GF_ERR_GEOS, "join: GEOS WKB writer"); goto out; }
    OGR_L_ResetReading(lyr);
    OGRFeatureH f;
    long fid = 0, nrepaired = 0;
    size_t capwkb = 0;
    unsigned char *wkb = NULL;
    while ((f = OGR_L_GetNextFeature(lyr)) != NULL) {
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        char code[64];
        field_code(f, fcode, code, sizeof code);
        OGRwkbGeometryType gt = g ? wkbFlatten(OGR_G_GetGeometryType(g)) : wkbUnknown;
        if (!g || OGR_G_IsEmpty(g) || !code[0] ||
            !(gt == wkbPolygon || gt == wkbMultiPolygon || gt == wkbCurvePolygon || gt == wkbMultiSurface)) {
            gf_ctx_logc(ctx, GF_LOG_WARN, "communes.feature_skipped", "%s: feature %ld skipped (%s)", o->path, fid,
                       !code[0] ? "no code" : "no polygon geometry");
            OGR_F_Destroy(f);
            fid++;
            continue;
        }
        OGRGeometryH gc = OGR_G_Clone(g);
        if (gt == wkbCurvePolygon || gt == wkbMultiSurface) {
            OGRGeometryH lin = OGR_G_GetLinearGeometry(gc, 0, NULL);
            OGR_G_DestroyGeometry(gc);
            gc = lin;
        }
        OGR_G_FlattenTo2D(gc);
        if (ct && OGR_G_Transform(gc, ct) != OGRERR_NONE) {
            OGR_G_DestroyGeometry(gc);
            OGR_F_Destroy(f);
            st = gf_ctx_err(ctx, GF_ERR_PROJ, "%s: feature %ld (%s) cannot be reprojected to WGS84", o->path, fid, code);
            goto out;
        }
        /* a vertex outside lon/lat bounds (1e300, NaN) breaks every test on
         * the polygon: say which feature and why, skip it, join the rest */
        OGREnvelope env;
        OGR_G_GetEnvelope(gc, &env);
        if (!(env.MinX >= -180.0 && env.MaxX <= 180.0 && env.MinY >= -90.0 && env.MaxY <= 90.0)) {
            gf_ctx_logc(ctx, GF_LOG_WARN, "communes.feature_out_of_bounds",
                        "%s: feature %ld (%s) skipped: a vertex lies outside longitude -180..180, latitude -90..90 "
                        "(extent %g %g, %g %g in WGS84)",
                        o->path, fid, code, env.MinX, env.MinY, env.MaxX, env.MaxY);
            OGR_G_DestroyGeometry(gc);
            OGR_F_Destroy(f);
            fid++;
            continue;
        }
        size_t wl = (size_t)OGR_G_WkbSize(gc);
        if (grow((void **)&wkb, &capwkb, wl, 1)) { OGR_G_DestroyGeometry(gc); OGR_F_Destroy(f); st = GF_ERR_NOMEM; goto out; }
        OGR_G_ExportToWkb(gc, wkbNDR, wkb);
        OGR_G_DestroyGeometry(gc);
        GEOSGeometry *gg = GEOSGeomFromWKB_buf_r(h, wkb, wl);
        if (!gg) {
            OGR_F_Destroy(f);
            st = gf_ctx_err(ctx, GF_ERR_GEOS, "%s: feature %ld (%s): %s", o->path, fid, code, gf_ctx_dep_msg(ctx));
            free(wkb);
            goto out;
        }
        if (GEOSisValid_r(h, gg) != 1) {
            GEOSGeometry *v = GEOSMakeValid_r(h, gg);
            GEOSGeom_destroy_r(h, gg);
            if (!v) {
                OGR_F_Destroy(f);
                free(wkb);
                st = gf_ctx_err(ctx, GF_ERR_GEOS, "%s: feature %ld (%s) is invalid and cannot be repaired", o->path, fid, code);
                goto out;
            }
            gg = v;
            nrepaired++;
        }
        if (grow((void **)&ix->polys, &L.capp, (size_t)ix->npolys + 1, sizeof *ix->polys) ||
            grow((void **)&codes, &capc, (size_t)ix->npolys + 1, sizeof *codes) ||
            grow((void **)&names, &capn, (size_t)ix->npolys + 1, sizeof *names)) {
            GEOSGeom_destroy_r(h, gg);
            OGR_F_Destroy(f);
            free(wkb);
            st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
            goto out;
        }
        jx_poly *p = &ix->polys[ix->npolys];
        memset(p, 0, sizeof *p);
        p->bbox[0] = p->bbox[1] = HUGE_VAL;
        p->bbox[2] = p->bbox[3] = -HUGE_VAL;
        p->ring0 = (uint32_t)ix->nrings;
        p->fid = ix->npolys;
        codes[ix->npolys] = strdup(code);
        names[ix->npolys] = strdup(fname >= 0 ? OGR_F_GetFieldAsString(f, fname) : "");
        ix->npolys++;
        gf_status s2 = add_rings(h, &L, p, gg);
        unsigned char *gw = GEOSWKBWriter_write_r(h, ww, gg, &p->wkblen);
        p->wkb = gw ? malloc(p->wkblen) : NULL; /* our allocator, so destroy needs no GEOS handle */
        if (p->wkb) memcpy(p->wkb, gw, p->wkblen);
        if (gw) GEOSFree_r(h, gw);
        GEOSGeom_destroy_r(h, gg);
        OGR_F_Destroy(f);
        fid++;
        if (s2 || !codes[ix->npolys - 1] || !names[ix->npolys - 1] || !p->wkb) {
            free(wkb);
            st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
            goto out;
        }
        if (p->nrings == 0) { /* repaired into nothing with an area */
            gf_ctx_logc(ctx, GF_LOG_WARN, "communes.feature_no_area", "%s: feature %ld (%s) has no area, skipped", o->path, fid - 1, code);
            free(p->wkb);
            p->wkb = NULL;
            free(codes[ix->npolys - 1]);
            free(names[ix->npolys - 1]);
            ix->npolys--;
        }
    }
    free(wkb);
    if (nrepaired) gf_ctx_log(ctx, GF_LOG_INFO, "%s: %ld invalid polygons repaired (GEOS make-valid)", o->path, nrepaired);
    if (ix->npolys == 0) st = gf_ctx_err(ctx, GF_ERR_SCHEMA, "%s: no commune polygon", o->path);
out:
    if (ww) GEOSWKBWriter_destroy_r(h, ww);
    if (ct) OCTDestroyCoordinateTransformation(ct);
    if (srcc) OSRDestroySpatialReference(srcc);
    if (wgs) OSRDestroySpatialReference(wgs);
    if (ds) GDALClose(ds);
    gf_gdal_leave(&ge);
    *codes_out = codes;
    *names_out = names;
    return st;
}

/* Sorts polygons by code (lowest code first wins overlaps) and builds the
 * commune table (one row per distinct code). Takes codes and names (the
 * arrays and their strings), also on failure. */
static gf_status build_communes(gf_join_index *ix, char **codes, char **names)
{
    int n = ix->npolys;
    sort_item *it = malloc((size_t)n * sizeof *it);
    jx_poly *np = malloc((size_t)n * sizeof *np);
    ix->communes = calloc((size_t)n, sizeof *ix->communes);
    if (!it || !np || !ix->communes) {
        for (int i = 0; i < n; i++) { free(codes[i]); free(names[i]); }
        free(codes);
        free(names);
        free(it);
        free(np);
        return GF_ERR_NOMEM;
    }
    for (int i = 0; i < n; i++) it[i] = (sort_item){codes[i], ix->polys[i].fid, i};
    qsort(it, (size_t)n, sizeof *it, cmp_item);
    int nc = 0;
    for (int i = 0; i < n; i++) {
        np[i] = ix->polys[it[i].idx];
        if (nc == 0 || strcmp(ix->communes[nc - 1].code, it[i].code) != 0) {
            ix->communes[nc].code = codes[it[i].idx];
            ix->communes[nc].name = names[it[i].idx];
            codes[it[i].idx] = names[it[i].idx] = NULL;
            nc++;
        }
        np[i].commune = nc - 1;
    }
    for (int i = 0; i < n; i++) { free(codes[i]); free(names[i]); }
    free(codes);
    free(names);
    free(ix->polys);
    ix->polys = np;
    ix->ncommunes = nc;
    free(it);
    return GF_OK;
}

/* ---------------------------------------------------------------- grid -- */

typedef struct row_edge {
    uint32_t poly;
    jx_edge e;
} row_edge;

static int cmp_row_edge(const void *a, const void *b)
{
    const row_edge *p = a, *q = b;
    if (p->poly != q->poly) return p->poly < q->poly ? -1 : 1;
    double mp = p->e.ax > p->e.bx ? p->e.ax : p->e.bx, mq = q->e.ax > q->e.bx ? q->e.ax : q->e.bx;
    if (mp != mq) return mp > mq ? -1 : 1; /* east first */
    if (p->e.ay != q->e.ay) return p->e.ay < q->e.ay ? -1 : 1;
    return (p->e.ax > q->e.ax) - (p->e.ax < q->e.ax);
}

typedef struct xing {
    double x;
    uint32_t poly;
} xing;
static int cmp_xing(const void *a, const void *b)
{
    const xing *p = a, *q = b;
    if (p->x != q->x) return p->x < q->x ? -1 : 1;
    return (p->poly > q->poly) - (p->poly < q->poly);
}

static double emax_x(const jx_edge *e) { return e->ax > e->bx ? e->ax : e->bx; }
static double emin_x(const jx_edge *e) { return e->ax < e->bx ? e->ax : e->bx; }

static gf_status build_grid(gf_join_index *ix)
{
    double minx = HUGE_VAL, miny = HUGE_VAL, maxx = -HUGE_VAL, maxy = -HUGE_VAL;
    size_t nedge = ix->nv; /* about one edge per vertex */
    for (int i = 0; i < ix->npolys; i++) {
        const jx_poly *p = &ix->polys[i];
        if (p->bbox[0] < minx) minx = p->bbox[0];
        if (p->bbox[1] < miny) miny = p->bbox[1];
        if (p->bbox[2] > maxx) maxx = p->bbox[2];
        if (p->bbox[3] > maxy) maxy = p->bbox[3];
    }
    double w = maxx - minx, hgt = maxy - miny;
    if (!(w > 0)) w = 1e-6;
    if (!(hgt > 0)) hgt = 1e-6;
    double kx = cos((miny + maxy) * 0.5 * M_PI / 180.0);
    if (kx < 0.05) kx = 0.05;
    double target = 16.0 * (double)nedge;
    if (target < 1024) target = 1024;
    if (target > 4.0e6) target = 4.0e6;
    double side = sqrt(w * kx * hgt / target); /* cell side in "metres-like" degrees */
    int nx = (int)ceil(w * kx / side), ny = (int)ceil(hgt / side);
    if (nx < 1) nx = 1;
    if (ny < 1) ny = 1;
    if (nx > 8192) nx = 8192;
    if (ny > 8192) ny = 8192;
    ix->x0 = minx;
    ix->y0 = miny;
    ix->nx = nx;
    ix->ny = ny;
    ix->cw = w / nx;
    ix->ch = hgt / ny;
    ix->icw = 1.0 / ix->cw;
    ix->ich = 1.0 / ix->ch;
    const double epsx = ix->cw * 1e-6, epsy = ix->ch * 1e-6;

    /* 1. Count then fill (row, polygon, edge) entries. */
    size_t *rowcnt = calloc((size_t)ny + 1, sizeof *rowcnt);
    if (!rowcnt) return GF_ERR_NOMEM;
    for (int i = 0; i < ix->npolys; i++) {
        const jx_poly *p = &ix->polys[i];
        for (uint32_t r = p->ring0; r < p->ring0 + p->nrings; r++) {
            const double *v = ix->xy + 2 * (size_t)ix->rings[r].v0;
            for (uint32_t k = 0; k + 1 < ix->rings[r].nv; k++) {
                double ya = v[2 * k + 1], yb = v[2 * k + 3];
                double lo = ya < yb ? ya : yb, hi = ya < yb ? yb : ya;
                int r0 = (int)floor((lo - epsy - miny) * ix->ich), r1 = (int)floor((hi + epsy - miny) * ix->ich);
                if (r0 < 0) r0 = 0;
                if (r1 >= ny) r1 = ny - 1;
                for (int rr = r0; rr <= r1; rr++) rowcnt[rr + 1]++;
            }
        }
    }
    for (int r = 0; r < ny; r++) rowcnt[r + 1] += rowcnt[r];
    size_t total = rowcnt[ny];
    row_edge *re = malloc((total ? total : 1) * sizeof *re);
    size_t *fillp = malloc(((size_t)ny + 1) * sizeof *fillp);
    if (!re || !fillp) { free(rowcnt); free(re); free(fillp); return GF_ERR_NOMEM; }
    memcpy(fillp, rowcnt, ((size_t)ny + 1) * sizeof *fillp);
    for (int i = 0; i < ix->npolys; i++) {
        const jx_poly *p = &ix->polys[i];
        for (uint32_t r = p->ring0; r < p->ring0 + p->nrings; r++) {
            const double *v = ix->xy + 2 * (size_t)ix->rings[r].v0;
            for (uint32_t k = 0; k + 1 < ix->rings[r].nv; k++) {
                double xa = v[2 * k], ya = v[2 * k + 1], xb = v[2 * k + 2], yb = v[2 * k + 3];
                /* horizontal edges are never crossed by an east ray, but they
                 * are boundaries: they keep their cells from being uniform */
                jx_edge e = ya < yb || (ya == yb && xa < xb) ? (jx_edge){xa, ya, xb, yb} : (jx_edge){xb, yb, xa, ya};
                int r0 = (int)floor((e.ay - epsy - miny) * ix->ich), r1 = (int)floor((e.by + epsy - miny) * ix->ich);
                if (r0 < 0) r0 = 0;
                if (r1 >= ny) r1 = ny - 1;
                for (int rr = r0; rr <= r1; rr++) re[fillp[rr]++] = (row_edge){(uint32_t)i, e};
            }
        }
    }
    free(fillp);
    ix->edges = malloc((total ? total : 1) * sizeof *ix->edges);
    ix->cells = calloc((size_t)nx * (size_t)ny, sizeof *ix->cells);
    /* per-row scratch */
    size_t cap_c = 1024, ncand = 0;
    ix->cands = malloc(cap_c * sizeof *ix->cands);
    uint32_t *colhead = malloc((size_t)nx * sizeof *colhead); /* per column: list of group ids */
    uint32_t *gnext = NULL, *glink = NULL;                     /* linked lists of (group) per column */
    size_t cap_l = 0, cap_n = 0, nl = 0;
    uint8_t *par = calloc((size_t)ix->npolys, 1);
    uint32_t *inside = malloc((size_t)ix->npolys * sizeof *inside);
    xing *xs = NULL;
    size_t capx = 0;
    /* groups of the current row */
    typedef struct grp { uint32_t poly, e0, n; } grp;
    grp *gs = NULL;
    size_t capg = 0;
    gf_status st = GF_OK;
    if (!ix->edges || !ix->cells || !ix->cands || !colhead || !par || !inside) { st = GF_ERR_NOMEM; goto done; }

    for (int r = 0; r < ny && st == GF_OK; r++) {
        size_t a = rowcnt[r], b = rowcnt[r + 1];
        qsort(re + a, b - a, sizeof *re, cmp_row_edge);
        size_t ng = 0;
        for (size_t k = a; k < b; k++) {
            ix->edges[k] = re[k].e;
            if (ng == 0 || gs[ng - 1].poly != re[k].poly) {
                if (grow((void **)&gs, &capg, ng + 1, sizeof *gs)) { st = GF_ERR_NOMEM; break; }
                gs[ng++] = (grp){re[k].poly, (uint32_t)k, 0};
            }
            gs[ng - 1].n++;
        }
        if (st) break;
        /* columns touched by each group, as linked lists (groups pushed in
         * reverse so each column's list reads in polygon order) */
        for (int c = 0; c < nx; c++) colhead[c] = UINT32_MAX;
        nl = 0;
        for (size_t g = ng; g-- > 0;) {
            int cmin = nx, cmax = -1;
            for (uint32_t k = gs[g].e0; k < gs[g].e0 + gs[g].n; k++) {
                int c0 = (int)floor((emin_x(&ix->edges[k]) - epsx - minx) * ix->icw);
                int c1 = (int)floor((emax_x(&ix->edges[k]) + epsx - minx) * ix->icw);
                if (c0 < cmin) cmin = c0;
                if (c1 > cmax) cmax = c1;
            }
            if (cmin < 0) cmin = 0;
            if (cmax >= nx) cmax = nx - 1;
            /* precise marking: a column is touched when some edge spans it */
            for (int c = cmin; c <= cmax; c++) {
                double cx0 = minx + c * ix->cw - epsx, cx1 = minx + (c + 1) * ix->cw + epsx;
                int hit = 0;
                for (uint32_t k = gs[g].e0; k < gs[g].e0 + gs[g].n && !hit; k++)
                    hit = emax_x(&ix->edges[k]) >= cx0 && emin_x(&ix->edges[k]) <= cx1;
                if (!hit) continue;
                if (grow((void **)&glink, &cap_l, nl + 1, sizeof *glink) ||
                    grow((void **)&gnext, &cap_n, nl + 1, sizeof *gnext)) {
                    st = GF_ERR_NOMEM;
                    break;
                }
                glink[nl] = (uint32_t)g;
                gnext[nl] = colhead[c];
                colhead[c] = (uint32_t)nl++;
            }
            if (st) break;
        }
        if (st) break;
        /* crossings of the row's centre line, for uniform cells and for
         * polygons covering a whole cell */
        double yc = miny + (r + 0.5) * ix->ch;
        size_t nxs = 0;
        for (size_t g = 0; g < ng; g++)
            for (uint32_t k = gs[g].e0; k < gs[g].e0 + gs[g].n; k++) {
                const jx_edge *e = &ix->edges[k];
                if (!(e->ay <= yc && yc < e->by)) continue;
                if (grow((void **)&xs, &capx, nxs + 1, sizeof *xs)) { st = GF_ERR_NOMEM; break; }
                xs[nxs++] = (xing){e->ax + (yc - e->ay) * (e->bx - e->ax) / (e->by - e->ay), gs[g].poly};
            }
        if (st) break;
        qsort(xs, nxs, sizeof *xs, cmp_xing);
        /* sweep west from the east end: par[p] = crossings east of x */
        size_t xi = nxs, nin = 0;
        for (int c = nx - 1; c >= 0; c--) {
            double xc = minx + (c + 0.5) * ix->cw;
            while (xi > 0 && xs[xi - 1].x > xc) {
                uint32_t p = xs[--xi].poly;
                par[p] ^= 1;
                if (par[p]) inside[nin++] = p;
                else
                    for (size_t q = 0; q < nin; q++)
                        if (inside[q] == p) { inside[q] = inside[--nin]; break; }
            }
            jx_cell *cell = &ix->cells[(size_t)r * nx + c];
            if (colhead[c] == UINT32_MAX) {
                uint32_t best = UINT32_MAX;
                for (size_t q = 0; q < nin; q++)
                    if (inside[q] < best) best = inside[q];
                cell->first = best == UINT32_MAX ? 0 : best + 1;
                cell->n = 0;
                continue;
            }
            /* candidates: polygons with edges here, plus those covering the cell */
            size_t start = ncand;
            double cx0 = minx + c * ix->cw - epsx;
            uint32_t li = colhead[c];
            /* merge the (sorted) edge groups with the (unsorted, tiny) inside set */
            uint32_t covering[64];
            size_t ncov = 0;
            for (size_t q = 0; q < nin && ncov < 64; q++) {
                int has = 0;
                for (uint32_t l = li; l != UINT32_MAX && !has; l = gnext[l]) has = gs[glink[l]].poly == inside[q];
                if (!has) covering[ncov++] = inside[q];
            }
            for (;;) {
                uint32_t pe = li != UINT32_MAX ? gs[glink[li]].poly : UINT32_MAX;
                uint32_t pc = UINT32_MAX;
                size_t qc = 0;
                for (size_t q = 0; q < ncov; q++)
                    if (covering[q] < pc) { pc = covering[q]; qc = q; }
                if (pe == UINT32_MAX && pc == UINT32_MAX) break;
                if (grow((void **)&ix->cands, &cap_c, ncand + 1, sizeof *ix->cands)) { st = GF_ERR_NOMEM; break; }
                if (pc < pe) {
                    ix->cands[ncand++] = (jx_cand){pc, 0, 0, 1};
                    covering[qc] = covering[--ncov];
                } else {
                    const grp *g = &gs[glink[li]];
                    uint32_t n = 0;
                    while (n < g->n && emax_x(&ix->edges[g->e0 + n]) >= cx0) n++;
                    ix->cands[ncand++] = (jx_cand){g->poly, g->e0, n, 0};
                    li = gnext[li];
                }
            }
            if (st) break;
            cell->first = (uint32_t)start;
            cell->n = (uint32_t)(ncand - start);
        }
        for (size_t q = 0; q < nin; q++) par[inside[q]] = 0;
    }
    ix->ncands = ncand;
    ix->nedges = total;
done:
    free(rowcnt);
    free(re);
    free(colhead);
    free(glink);
    free(gnext);
    free(par);
    free(inside);
    free(xs);
    free(gs);
    return st;
}

gf_status gf_join_index_load(gf_ctx *ctx, const gf_join_opts *opts, gf_join_index **out)
{
    *out = NULL;
    if (!opts || !opts->path) return gf_ctx_err(ctx, GF_ERR_ARG, "join: no boundaries file");
    gf_join_index *ix = calloc(1, sizeof *ix);
    if (!ix) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    char **codes = NULL, **names = NULL;
    gf_status st = load_features(ctx, opts, ix, &codes, &names);
    if (st == GF_OK) {
        st = build_communes(ix, codes, names);
        codes = names = NULL; /* taken */
        if (st == GF_OK) st = build_grid(ix);
        if (st) gf_ctx_err(ctx, st, "join: out of memory building the index");
    }
    if (codes) {
        for (int i = 0; i < ix->npolys; i++) { free(codes[i]); free(names[i]); }
        free(codes);
        free(names);
    }
    if (st) {
        gf_join_index_destroy(ix);
        return st;
    }
    gf_ctx_log(ctx, GF_LOG_INFO, "%s: %d communes, %d polygons, %zu vertices; grid %dx%d, %zu candidates, %zu band edges",
               opts->path, ix->ncommunes, ix->npolys, ix->nv, ix->nx, ix->ny, ix->ncands, ix->nedges);
    *out = ix;
    return GF_OK;
}

void gf_join_index_destroy(gf_join_index *ix)
{
    if (!ix) return;
    for (int i = 0; i < ix->ncommunes; i++) { free(ix->communes[i].code); free(ix->communes[i].name); }
    for (int i = 0; i < ix->npolys; i++) free(ix->polys[i].wkb);
    free(ix->communes);
    free(ix->polys);
    free(ix->rings);
    free(ix->xy);
    free(ix->cells);
    free(ix->cands);
    free(ix->edges);
    free(ix);
}

/* --------------------------------------------------------------- query -- */

int gf_join_ncommunes(const gf_join_index *ix) { return ix->ncommunes; }
const char *gf_join_commune_code(const gf_join_index *ix, int i) { return ix->communes[i].code; }
const char *gf_join_commune_name(const gf_join_index *ix, int i) { return ix->communes[i].name; }

int gf_join_find_code(const gf_join_index *ix, const char *code, size_t len)
{
    int lo = 0, hi = ix->ncommunes - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        const char *c = ix->communes[mid].code;
        int r = strncmp(c, code, len);
        if (r == 0 && c[len] != 0) r = 1;
        if (r == 0) return mid;
        if (r < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

int gf_join_locate(const gf_join_index *ix, double lon, double lat)
{
    double fx = (lon - ix->x0) * ix->icw, fy = (lat - ix->y0) * ix->ich;
    if (!(fx >= -1e-6 && fy >= -1e-6 && fx < ix->nx + 1e-6 && fy < ix->ny + 1e-6)) return -1; /* also NaN */
    int c = (int)fx, r = (int)fy;
    if (c >= ix->nx) c = ix->nx - 1;
    if (r >= ix->ny) r = ix->ny - 1;
    if (c < 0) c = 0;
    if (r < 0) r = 0;
    const jx_cell *cell = &ix->cells[(size_t)r * ix->nx + c];
    if (cell->n == 0) return cell->first ? ix->polys[cell->first - 1].commune : -1;
    const jx_cand *cd = ix->cands + cell->first;
    for (uint32_t k = 0; k < cell->n; k++) {
        if (cd[k].full) return ix->polys[cd[k].poly].commune;
        const jx_edge *e = ix->edges + cd[k].eoff;
        unsigned in = 0;
        for (uint32_t j = 0; j < cd[k].n; j++) {
            /* half-open in y; strictly west of the upward edge */
            if (e[j].ay <= lat && lat < e[j].by &&
                (e[j].bx - e[j].ax) * (lat - e[j].ay) - (e[j].by - e[j].ay) * (lon - e[j].ax) > 0)
                in ^= 1u;
        }
        if (in) return ix->polys[cd[k].poly].commune;
    }
    return -1;
}

/* Squared distance from the origin to segment (ax,ay)-(bx,by), in a plane. */
static double seg_d2(double ax, double ay, double bx, double by)
{
    double dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy;
    double t = l2 > 0 ? -(ax * dx + ay * dy) / l2 : 0;
    if (t < 0) t = 0;
    if (t > 1) t = 1;
    double px = ax + t * dx, py = ay + t * dy;
    return px * px + py * py;
}

int gf_join_nearest(const gf_join_index *ix, double lon, double lat, double max_m, double *dist_m)
{
    if (!isfinite(lon) || !isfinite(lat) || !(max_m > 0)) return -1;
    /* metres per degree on the tangent plane at the point (GRS80 radii of curvature) */
    const double a = 6378137.0, e2 = 0.00669438002290;
    double phi = lat * M_PI / 180.0, s = sin(phi), w = sqrt(1 - e2 * s * s);
    double ky = a * (1 - e2) / (w * w * w) * M_PI / 180.0, kx = a / w * cos(phi) * M_PI / 180.0;
    if (kx < 1e-3) kx = 1e-3;
    double dlon = max_m / kx, dlat = max_m / ky;
    int c0 = (int)floor((lon - dlon - ix->x0) * ix->icw), c1 = (int)floor((lon + dlon - ix->x0) * ix->icw);
    int r0 = (int)floor((lat - dlat - ix->y0) * ix->ich), r1 = (int)floor((lat + dlat - ix->y0) * ix->ich);
    if (c1 < 0 || r1 < 0 || c0 >= ix->nx || r0 >= ix->ny) return -1;
    if (c0 < 0) c0 = 0;
    if (r0 < 0) r0 = 0;
    if (c1 >= ix->nx) c1 = ix->nx - 1;
    if (r1 >= ix->ny) r1 = ix->ny - 1;
    double best = max_m * max_m;
    int bestc = -1;
    uint32_t seen[256];
    int nseen = 0;
    for (int r = r0; r <= r1; r++)
        for (int c = c0; c <= c1; c++) {
            const jx_cell *cell = &ix->cells[(size_t)r * ix->nx + c];
            for (uint32_t k = 0; k < cell->n; k++) {
                uint32_t p = ix->cands[cell->first + k].poly;
                int dup = 0;
                for (int q = 0; q < nseen && !dup; q++) dup = seen[q] == p;
                if (dup) continue;
                if (nseen < 256) seen[nseen++] = p;
                const jx_poly *pp = &ix->polys[p];
                if ((pp->bbox[0] - lon) * kx > max_m || (lon - pp->bbox[2]) * kx > max_m ||
                    (pp->bbox[1] - lat) * ky > max_m || (lat - pp->bbox[3]) * ky > max_m)
                    continue;
                for (uint32_t rg = pp->ring0; rg < pp->ring0 + pp->nrings; rg++) {
                    const double *v = ix->xy + 2 * (size_t)ix->rings[rg].v0;
                    for (uint32_t j = 0; j + 1 < ix->rings[rg].nv; j++) {
                        double d2 = seg_d2((v[2 * j] - lon) * kx, (v[2 * j + 1] - lat) * ky,
                                           (v[2 * j + 2] - lon) * kx, (v[2 * j + 3] - lat) * ky);
                        if (d2 < best || (d2 == best && bestc >= 0 && pp->commune < bestc)) {
                            best = d2;
                            bestc = pp->commune;
                        }
                    }
                }
            }
        }
    if (bestc >= 0 && dist_m) *dist_m = sqrt(best);
    return bestc;
}
