/* Polygon and point layers for the tiles (see poly.h). */
#include <geos_c.h>
#include <math.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <gdal.h>
#include <stdlib.h>
#include <string.h>

#include "core/gdalerr.h"
#include "geoflux/tiles.h"
#include "tiles/poly.h"
#include "tiles/tilemath.h"

typedef struct pp { /* one polygon or point feature */
    int layer;
    int point;                  /* a point: g is a GEOS point, never simplified nor clipped */
    GEOSGeometry *g, *simp;     /* world coordinates; simp: at the current zoom */
    double minx, miny, maxx, maxy;
    uint8_t *payload;           /* attributes as in the point records */
    size_t plen;
} pp;

typedef struct player {
    char name[128];
    char *keys[GF_MAX_FIELDS];
    int types[GF_MAX_FIELDS]; /* 0 string, 1 number, 2 boolean */
    int nkeys;
    int minzoom;              /* features only from this zoom on */
} player;

typedef struct tp { uint64_t tile; uint32_t poly; } tp;

struct gf_poly_set {
    GEOSContextHandle_t h; /* of the main context: owns g and simp */
    player *layers;
    int nlayers;
    pp *p;
    size_t n;
    tp *list;
    size_t nlist, pos;
    double minx, miny, maxx, maxy;
};

static int cmp_tp(const void *a, const void *b)
{
    const tp *x = a, *y = b;
    if (x->tile != y->tile) return x->tile < y->tile ? -1 : 1;
    return x->poly < y->poly ? -1 : x->poly > y->poly;
}

void gf_poly_destroy(gf_poly_set *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) {
        if (s->p[i].simp && s->p[i].simp != s->p[i].g) GEOSGeom_destroy_r(s->h, s->p[i].simp);
        if (s->p[i].g) GEOSGeom_destroy_r(s->h, s->p[i].g);
        free(s->p[i].payload);
    }
    for (int l = 0; l < s->nlayers; l++)
        for (int k = 0; k < s->layers[l].nkeys; k++) free(s->layers[l].keys[k]);
    free(s->layers);
    free(s->p);
    free(s->list);
    free(s);
}

static void to_world(double lon, double lat, double *x, double *y)
{
    if (lat > 85.0511287798) lat = 85.0511287798;
    if (lat < -85.0511287798) lat = -85.0511287798;
    double sn = sin(lat * M_PI / 180.0);
    *x = (lon + 180.0) / 360.0 * 4294967296.0;
    *y = (0.5 - log((1 + sn) / (1 - sn)) / (4 * M_PI)) * 4294967296.0;
}

static GEOSGeometry *ring_to_geos(GEOSContextHandle_t h, OGRGeometryH r)
{
    int n = OGR_G_GetPointCount(r);
    if (n < 4) return NULL;
    GEOSCoordSequence *cs = GEOSCoordSeq_create_r(h, (unsigned)n, 2);
    if (!cs) return NULL;
    for (int i = 0; i < n; i++) {
        double wx, wy;
        to_world(OGR_G_GetX(r, i), OGR_G_GetY(r, i), &wx, &wy);
        GEOSCoordSeq_setXY_r(h, cs, (unsigned)i, wx, wy);
    }
    return GEOSGeom_createLinearRing_r(h, cs);
}

static GEOSGeometry *poly_to_geos(GEOSContextHandle_t h, OGRGeometryH g)
{
    int nr = OGR_G_GetGeometryCount(g);
    if (nr < 1) return NULL;
    GEOSGeometry *shell = ring_to_geos(h, OGR_G_GetGeometryRef(g, 0));
    if (!shell) return NULL;
    GEOSGeometry **holes = nr > 1 ? calloc((size_t)nr, sizeof *holes) : NULL;
    unsigned nh = 0;
    for (int i = 1; i < nr; i++) {
        GEOSGeometry *r = ring_to_geos(h, OGR_G_GetGeometryRef(g, i));
        if (r) holes[nh++] = r;
    }
    GEOSGeometry *p = GEOSGeom_createPolygon_r(h, shell, holes, nh);
    free(holes);
    return p;
}

/* Polygon, MultiPolygon or Point (after transformation to lon/lat) to
 * GEOS; other types are skipped (NULL). */
static GEOSGeometry *to_geos(GEOSContextHandle_t h, OGRGeometryH g)
{
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    if (t == wkbPolygon) return poly_to_geos(h, g);
    if (t == wkbPoint) {
        if (OGR_G_IsEmpty(g)) return NULL;
        double wx, wy;
        to_world(OGR_G_GetX(g, 0), OGR_G_GetY(g, 0), &wx, &wy);
        return GEOSGeom_createPointFromXY_r(h, wx, wy);
    }
    if (t != wkbMultiPolygon) return NULL;
    int n = OGR_G_GetGeometryCount(g);
    GEOSGeometry **parts = calloc((size_t)(n ? n : 1), sizeof *parts);
    if (!parts) return NULL;
    unsigned k = 0;
    for (int i = 0; i < n; i++) {
        GEOSGeometry *p = poly_to_geos(h, OGR_G_GetGeometryRef(g, i));
        if (p) parts[k++] = p;
    }
    GEOSGeometry *m = k ? GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, parts, k) : NULL;
    free(parts);
    return m;
}

static int put_value(gf_buf *b, int k, const uint8_t *body, size_t n, const char *s, size_t sl)
{
    uint8_t hdr[12];
    size_t hl = 0;
    hdr[hl++] = (uint8_t)k;
    hl += gf_varint_put(hdr + hl, n + sl);
    return gf_buf_append(b, hdr, hl) || gf_buf_append(b, body, n) || (sl && gf_buf_append(b, s, sl));
}

gf_status gf_poly_load(gf_ctx *ctx, const gf_extra_layer *layers, int nl, int minz, int maxz, gf_poly_set **out)
{
    gf_poly_set *s = calloc(1, sizeof *s);
    if (!s) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    s->h = gf_ctx_geos(ctx);
    s->layers = calloc((size_t)nl, sizeof *s->layers);
    s->minx = s->miny = INFINITY;
    s->maxx = s->maxy = -INFINITY;
    gf_status st = GF_OK;
    if (!s->h || !s->layers) { gf_poly_destroy(s); return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); }
    gf_gdal_register();
    gf_gdal_errs ge;
    gf_gdal_enter(&ge, ctx);
    OGRSpatialReferenceH wgs = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(wgs, 4326);
    OSRSetAxisMappingStrategy(wgs, OAMS_TRADITIONAL_GIS_ORDER);
    size_t cap = 0;
    for (int l = 0; l < nl && !st; l++) {
        player *pl = &s->layers[l];
        s->nlayers = l + 1;
        snprintf(pl->name, sizeof pl->name, "%s", layers[l].name);
        pl->minzoom = layers[l].minzoom;
        /* a dataset in memory is the caller's: opened and closed here only from a path */
        GDALDatasetH ds = layers[l].dataset ? layers[l].dataset
                                            : GDALOpenEx(layers[l].path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
        if (!ds) { st = gf_ctx_err(ctx, GF_ERR_GDAL, "%s: cannot open (layer %s): %s", layers[l].path, layers[l].name,
                                   gf_gdal_msg(&ge, "not a vector dataset GDAL can read")); break; }
        OGRLayerH lay = GDALDatasetGetLayerByName(ds, layers[l].name);
        if (!lay) lay = GDALDatasetGetLayer(ds, 0);
        if (!lay) { if (!layers[l].dataset) GDALClose(ds); st = gf_ctx_err(ctx, GF_ERR_GDAL, "%s: no layer", layers[l].path); break; }
        OGRFeatureDefnH fd = OGR_L_GetLayerDefn(lay);
        int nf = OGR_FD_GetFieldCount(fd);
        if (nf > GF_MAX_FIELDS) nf = GF_MAX_FIELDS;
        for (int f = 0; f < nf; f++) {
            OGRFieldDefnH d = OGR_FD_GetFieldDefn(fd, f);
            pl->keys[f] = strdup(OGR_Fld_GetNameRef(d));
            OGRFieldType ft = OGR_Fld_GetType(d);
            pl->types[f] = (ft == OFTInteger && OGR_Fld_GetSubType(d) == OFSTBoolean) ? 2
                           : (ft == OFTInteger || ft == OFTInteger64 || ft == OFTReal) ? 1 : 0;
            pl->nkeys = f + 1;
        }
        OGRSpatialReferenceH src = OGR_L_GetSpatialRef(lay);
        OGRCoordinateTransformationH ct = NULL;
        if (src && !OSRIsSame(src, wgs)) {
            ct = OCTNewCoordinateTransformation(src, wgs);
            if (!ct) { if (!layers[l].dataset) GDALClose(ds); st = gf_ctx_err(ctx, GF_ERR_GDAL, "%s: cannot reproject to WGS84", layers[l].path); break; }
        }
        OGR_L_ResetReading(lay);
        OGRFeatureH f;
        while (!st && (f = OGR_L_GetNextFeature(lay))) {
            OGRGeometryH g = OGR_F_GetGeometryRef(f);
            if (g && ct) OGR_G_Transform(g, ct);
            GEOSGeometry *gg = g ? to_geos(s->h, g) : NULL;
            if (!gg) { OGR_F_Destroy(f); continue; }
            if (s->n == cap) {
                cap = cap ? cap * 2 : 256;
                pp *np = realloc(s->p, cap * sizeof *np);
                if (!np) { GEOSGeom_destroy_r(s->h, gg); OGR_F_Destroy(f); st = GF_ERR_NOMEM; break; }
                s->p = np;
            }
            pp *q = &s->p[s->n];
            memset(q, 0, sizeof *q);
            q->layer = l;
            q->g = gg;
            q->point = GEOSGeomTypeId_r(s->h, gg) == GEOS_POINT;
            GEOSGeom_getXMin_r(s->h, gg, &q->minx);
            GEOSGeom_getYMin_r(s->h, gg, &q->miny);
            GEOSGeom_getXMax_r(s->h, gg, &q->maxx);
            GEOSGeom_getYMax_r(s->h, gg, &q->maxy);
            if (q->minx < s->minx) s->minx = q->minx;
            if (q->miny < s->miny) s->miny = q->miny;
            if (q->maxx > s->maxx) s->maxx = q->maxx;
            if (q->maxy > s->maxy) s->maxy = q->maxy;
            s->n++;
            gf_buf pl_buf = {0};
            uint8_t v[16];
            int bad = 0;
            for (int k = 0; k < pl->nkeys && !bad; k++) {
                if (!OGR_F_IsFieldSetAndNotNull(f, k)) continue;
                if (pl->types[k] == 2) bad = put_value(&pl_buf, k, v, gf_mvt_value_bool(OGR_F_GetFieldAsInteger(f, k), v), NULL, 0);
                else if (pl->types[k] == 1 && OGR_Fld_GetType(OGR_FD_GetFieldDefn(fd, k)) == OFTReal)
                    bad = put_value(&pl_buf, k, v, gf_mvt_value_double(OGR_F_GetFieldAsDouble(f, k), v), NULL, 0);
                else if (pl->types[k] == 1)
                    bad = put_value(&pl_buf, k, v, gf_mvt_value_int(OGR_F_GetFieldAsInteger64(f, k), v), NULL, 0);
                else {
                    const char *sv = OGR_F_GetFieldAsString(f, k);
                    size_t sl = strlen(sv);
                    bad = put_value(&pl_buf, k, v, gf_mvt_value_string_hdr(sl, v), sv, sl);
                }
            }
            gf_buf_fit(&pl_buf); /* one per commune, kept until the end */
            q->payload = (uint8_t *)pl_buf.p;
            q->plen = pl_buf.len;
            OGR_F_Destroy(f);
            if (bad) st = GF_ERR_NOMEM;
        }
        if (st == GF_ERR_NOMEM) st = gf_ctx_err(ctx, st, "out of memory");
        if (ct) OCTDestroyCoordinateTransformation(ct);
        if (!layers[l].dataset) GDALClose(ds);
    }
    OSRDestroySpatialReference(wgs);
    gf_gdal_leave(&ge);
    (void)minz; (void)maxz;
    if (st) { gf_poly_destroy(s); return st; }
    *out = s;
    return GF_OK;
}

/* Douglas-Peucker on one ring (closed, n >= 4 points), iterative with an
 * explicit stack; keeps[] marks kept vertices. Own code rather than GEOS's
 * topology-preserving simplifier: that one builds a quadtree of every
 * segment per call and dominated the polygon layer's cost (15 zooms x every
 * commune), while the per-tile clip and the MVT winding pass that follow
 * tolerate the rare self-touching ring this can make. */
static GEOSGeometry *dp_ring(GEOSContextHandle_t h, const GEOSGeometry *ring, double tol, int *collapsed)
{
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, ring);
    unsigned n = 0;
    *collapsed = 1;
    if (!cs || !GEOSCoordSeq_getSize_r(h, cs, &n) || n < 4) return NULL;
    double *xy = malloc(2 * sizeof(double) * n);
    uint8_t *keep = calloc(n, 1);
    unsigned *stk = malloc(2 * sizeof(unsigned) * n);
    GEOSGeometry *out = NULL;
    if (!xy || !keep || !stk) goto done;
    for (unsigned i = 0; i < n; i++) GEOSCoordSeq_getXY_r(h, cs, i, &xy[2 * i], &xy[2 * i + 1]);
    /* split at the vertex farthest from the first so the closed ring has a
     * proper chord to start from */
    unsigned far = 0;
    double best = -1;
    for (unsigned i = 1; i < n - 1; i++) {
        double dx = xy[2 * i] - xy[0], dy = xy[2 * i + 1] - xy[1], d = dx * dx + dy * dy;
        if (d > best) { best = d; far = i; }
    }
    keep[0] = keep[n - 1] = keep[far] = 1;
    size_t sp = 0;
    stk[sp++] = 0; stk[sp++] = far;
    stk[sp++] = far; stk[sp++] = n - 1;
    double tol2 = tol * tol;
    while (sp) {
        unsigned b = stk[--sp], a = stk[--sp];
        if (b <= a + 1) continue;
        double ax = xy[2 * a], ay = xy[2 * a + 1], bx = xy[2 * b], by = xy[2 * b + 1];
        double dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy, dmax = -1;
        unsigned imax = a;
        for (unsigned i = a + 1; i < b; i++) {
            double px = xy[2 * i] - ax, py = xy[2 * i + 1] - ay, d;
            if (len2 > 0) { double c = px * dy - py * dx; d = c * c / len2; }
            else d = px * px + py * py;
            if (d > dmax) { dmax = d; imax = i; }
        }
        if (dmax > tol2) {
            keep[imax] = 1;
            stk[sp++] = a; stk[sp++] = imax;
            stk[sp++] = imax; stk[sp++] = b;
        }
    }
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++) k += keep[i];
    if (k < 4) goto done;
    GEOSCoordSequence *o = GEOSCoordSeq_create_r(h, k, 2);
    if (!o) goto done;
    for (unsigned i = 0, j = 0; i < n; i++)
        if (keep[i]) GEOSCoordSeq_setXY_r(h, o, j++, xy[2 * i], xy[2 * i + 1]);
    out = GEOSGeom_createLinearRing_r(h, o);
    *collapsed = out == NULL;
done:
    free(xy);
    free(keep);
    free(stk);
    return out;
}

static GEOSGeometry *dp_polygon(GEOSContextHandle_t h, const GEOSGeometry *p, double tol)
{
    int c;
    GEOSGeometry *shell = dp_ring(h, GEOSGetExteriorRing_r(h, p), tol, &c);
    if (!shell) return NULL;
    int nh = GEOSGetNumInteriorRings_r(h, p);
    GEOSGeometry **holes = nh > 0 ? calloc((size_t)nh, sizeof *holes) : NULL;
    unsigned k = 0;
    for (int i = 0; i < nh && holes; i++) {
        GEOSGeometry *r = dp_ring(h, GEOSGetInteriorRingN_r(h, p, i), tol, &c);
        if (r) holes[k++] = r;
    }
    GEOSGeometry *g = GEOSGeom_createPolygon_r(h, shell, holes, k);
    free(holes);
    return g;
}

/* Simplified copy of a Polygon or MultiPolygon; an empty multipolygon when
 * everything collapses below the tolerance. */
static GEOSGeometry *dp_simplify(GEOSContextHandle_t h, const GEOSGeometry *g, double tol)
{
    int n = GEOSGetNumGeometries_r(h, g);
    GEOSGeometry **parts = calloc((size_t)(n > 0 ? n : 1), sizeof *parts);
    if (!parts) return NULL;
    unsigned k = 0;
    for (int i = 0; i < n; i++) {
        const GEOSGeometry *p = GEOSGetGeometryN_r(h, g, i);
        if (GEOSGeomTypeId_r(h, p) != GEOS_POLYGON) continue;
        GEOSGeometry *s = dp_polygon(h, p, tol);
        if (s) parts[k++] = s;
    }
    GEOSGeometry *m = GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, parts, k);
    free(parts);
    return m;
}

gf_status gf_poly_zoom(gf_poly_set *s, gf_ctx *ctx, int z)
{
    double tsize = ldexp(1.0, 32 - z), px = tsize / GF_MVT_EXTENT, buf = px * GF_TILES_BUFFER;
    size_t cap = 0;
    s->nlist = s->pos = 0;
    uint32_t maxt = (uint32_t)((1ull << z) - 1);
    for (size_t i = 0; i < s->n; i++) {
        pp *q = &s->p[i];
        if (q->simp && q->simp != q->g) GEOSGeom_destroy_r(s->h, q->simp);
        q->simp = NULL;
        if (z < s->layers[q->layer].minzoom) continue;
        /* a point is in the one tile that holds it; a polygon in every tile
         * its simplified shape (tolerance: half a tile pixel, so the
         * simplification is invisible) and the clip buffer reach */
        double qb = q->point ? 0 : buf;
        q->simp = q->point ? q->g : dp_simplify(s->h, q->g, px * 0.5);
        if (!q->simp) return gf_ctx_err(ctx, GF_ERR_GEOS, "polygon simplification failed: %s", gf_ctx_dep_msg(ctx));
        double a = floor((q->minx - qb) / tsize), b = floor((q->maxx + qb) / tsize);
        double c = floor((q->miny - qb) / tsize), d = floor((q->maxy + qb) / tsize);
        uint32_t x0 = a < 0 ? 0 : (uint32_t)a, x1 = b > maxt ? maxt : (uint32_t)b;
        uint32_t y0 = c < 0 ? 0 : (uint32_t)c, y1 = d > maxt ? maxt : (uint32_t)d;
        for (uint32_t ty = y0; ty <= y1; ty++)
            for (uint32_t tx = x0; tx <= x1; tx++) {
                if (s->nlist == cap) {
                    cap = cap ? cap * 2 : 1024;
                    tp *nlst = realloc(s->list, cap * sizeof *nlst);
                    if (!nlst) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
                    s->list = nlst;
                }
                s->list[s->nlist++] = (tp){z ? gf_hilbert_xy2d(z, tx, ty) : 0, (uint32_t)i};
            }
    }
    if (s->nlist > 1) qsort(s->list, s->nlist, sizeof *s->list, cmp_tp); /* never qsort(NULL, 0) */
    return GF_OK;
}

int gf_poly_peek(const gf_poly_set *s, uint64_t *tile, uint32_t *poly)
{
    if (s->pos >= s->nlist) return 0;
    *tile = s->list[s->pos].tile;
    *poly = s->list[s->pos].poly;
    return 1;
}

void gf_poly_pop(gf_poly_set *s) { s->pos++; }

void gf_poly_scratch_free(gf_poly_scratch *s, gf_ctx *ctx)
{
    for (int i = 0; i < s->nlayers; i++) gf_mvt_layer_free(&s->layers[i]);
    free(s->layers);
    free(s->xy);
    free(s->rlen);
    free(s->tags);
    memset(s, 0, sizeof *s);
    (void)ctx;
}

/* Appends the rings of one GEOS polygon in tile coordinates, exterior
 * clockwise (positive area with y down) and holes counter-clockwise. */
static int add_rings(GEOSContextHandle_t h, const GEOSGeometry *poly, double ox, double oy, double scale,
                     gf_poly_scratch *s, size_t *nxy, size_t *nr)
{
    int nint = GEOSGetNumInteriorRings_r(h, poly);
    for (int r = -1; r < nint; r++) {
        const GEOSGeometry *ring = r < 0 ? GEOSGetExteriorRing_r(h, poly) : GEOSGetInteriorRingN_r(h, poly, r);
        const GEOSCoordSequence *cs = ring ? GEOSGeom_getCoordSeq_r(h, ring) : NULL;
        unsigned n = 0;
        if (!cs || !GEOSCoordSeq_getSize_r(h, cs, &n) || n < 4) {
            if (r < 0) return 0;
            continue;
        }
        if (*nxy + 2 * (size_t)n > s->xycap) {
            size_t nc = s->xycap ? s->xycap : 1024;
            while (nc < *nxy + 2 * (size_t)n) nc *= 2;
            int32_t *x = realloc(s->xy, nc * sizeof *x);
            if (!x) return -1;
            s->xy = x;
            s->xycap = nc;
        }
        if (*nr + 1 > s->rcap) {
            size_t nc = s->rcap ? s->rcap * 2 : 64;
            size_t *rl = realloc(s->rlen, nc * sizeof *rl);
            if (!rl) return -1;
            s->rlen = rl;
            s->rcap = nc;
        }
        int32_t *w = s->xy + *nxy;
        size_t k = 0;
        for (unsigned i = 0; i + 1 < n; i++) { /* the closing point is implied by ClosePath */
            double x, y;
            GEOSCoordSeq_getXY_r(h, cs, i, &x, &y);
            int32_t ix = (int32_t)lround((x - ox) * scale), iy = (int32_t)lround((y - oy) * scale);
            if (k && w[2 * k - 2] == ix && w[2 * k - 1] == iy) continue;
            w[2 * k] = ix;
            w[2 * k + 1] = iy;
            k++;
        }
        while (k > 1 && w[0] == w[2 * k - 2] && w[1] == w[2 * k - 1]) k--;
        if (k < 3) { if (r < 0) return 0; continue; }
        int64_t a = gf_mvt_ring_area2(w, k);
        if (a == 0) { if (r < 0) return 0; continue; }
        if ((r < 0) != (a > 0)) { /* reverse */
            for (size_t i = 0, j = k - 1; i < j; i++, j--) {
                int32_t tx = w[2 * i], ty = w[2 * i + 1];
                w[2 * i] = w[2 * j]; w[2 * i + 1] = w[2 * j + 1];
                w[2 * j] = tx; w[2 * j + 1] = ty;
            }
        }
        *nxy += 2 * k;
        s->rlen[(*nr)++] = k;
    }
    return 1;
}

/* A feature's attributes as tags of its MVT layer (s->tags, *nt pairs). */
static gf_status feature_tags(const gf_poly_set *p, gf_poly_scratch *s, const pp *q, size_t *nt)
{
    const player *pl = &p->layers[q->layer];
    gf_mvt_layer *ml = &s->layers[q->layer];
    if ((size_t)pl->nkeys * 2 + 2 > s->tagcap) {
        size_t nc = (size_t)pl->nkeys * 2 + 2;
        uint32_t *tg = realloc(s->tags, nc * sizeof *tg);
        if (!tg) return GF_ERR_NOMEM;
        s->tags = tg;
        s->tagcap = nc;
    }
    size_t k = 0;
    for (const uint8_t *a = q->payload, *ae = a + q->plen; a < ae;) {
        uint32_t key = *a++;
        uint64_t len;
        a += gf_varint_get(a, (size_t)(ae - a), &len);
        uint32_t vi;
        gf_status st = gf_mvt_value(ml, a, (size_t)len, &vi);
        if (st) return st;
        a += len;
        s->tags[2 * k] = key;
        s->tags[2 * k + 1] = vi;
        k++;
    }
    *nt = k;
    return GF_OK;
}

gf_status gf_poly_tile(const gf_poly_set *p, gf_ctx *wctx, gf_poly_scratch *s, int z, uint32_t tx, uint32_t ty,
                       const uint32_t *list, size_t n, gf_buf *raw)
{
    gf_status st;
    GEOSContextHandle_t h = gf_ctx_geos(wctx);
    if (!h) return GF_ERR_GEOS;
    if (!s->layers) {
        s->layers = calloc((size_t)p->nlayers, sizeof *s->layers);
        if (!s->layers) return GF_ERR_NOMEM;
        s->nlayers = p->nlayers;
    }
    for (int l = 0; l < s->nlayers; l++) gf_mvt_layer_reset(&s->layers[l]);
    double tsize = ldexp(1.0, 32 - z), ox = tx * tsize, oy = ty * tsize, scale = GF_MVT_EXTENT / tsize;
    double buf = tsize / GF_MVT_EXTENT * GF_TILES_BUFFER;
    for (size_t i = 0; i < n; i++) {
        const pp *q = &p->p[list[i]];
        if (q->point) {
            double x, y;
            GEOSGeomGetX_r(h, q->g, &x);
            GEOSGeomGetY_r(h, q->g, &y);
            int32_t ix = (int32_t)floor((x - ox) * scale), iy = (int32_t)floor((y - oy) * scale);
            if (ix < 0) ix = 0; /* the tile was chosen by floor(x / tsize): only rounding can stray */
            if (iy < 0) iy = 0;
            if (ix >= GF_MVT_EXTENT) ix = GF_MVT_EXTENT - 1;
            if (iy >= GF_MVT_EXTENT) iy = GF_MVT_EXTENT - 1;
            size_t nt;
            if ((st = feature_tags(p, s, q, &nt))) return st;
            if ((st = gf_mvt_add_point(&s->layers[q->layer], list[i] + 1, ix, iy, s->tags, nt))) return st;
            continue;
        }
        GEOSGeometry *c = GEOSClipByRect_r(h, q->simp, ox - buf, oy - buf, ox + tsize + buf, oy + tsize + buf);
        if (!c) return GF_ERR_GEOS;
        size_t nxy = 0, nr = 0;
        int ng = GEOSGetNumGeometries_r(h, c), bad = 0;
        for (int gi = 0; gi < ng && !bad; gi++) {
            const GEOSGeometry *part = GEOSGetGeometryN_r(h, c, gi);
            if (GEOSGeomTypeId_r(h, part) != GEOS_POLYGON) continue;
            if (add_rings(h, part, ox, oy, scale, s, &nxy, &nr) < 0) bad = 1;
        }
        GEOSGeom_destroy_r(h, c);
        if (bad) return GF_ERR_NOMEM;
        if (!nr) continue;
        size_t nt;
        if ((st = feature_tags(p, s, q, &nt))) return st;
        if ((st = gf_mvt_add_polygon(&s->layers[q->layer], list[i] + 1, s->xy, s->rlen, nr, s->tags, nt))) return st;
    }
    for (int l = 0; l < s->nlayers; l++) {
        const player *pl = &p->layers[l];
        if ((st = gf_mvt_layer_write(&s->layers[l], pl->name, (const char *const *)pl->keys, (size_t)pl->nkeys, raw)))
            return st;
    }
    return GF_OK;
}

void gf_poly_vector_layers(const gf_poly_set *p, gf_buf *b, int comma, int minz, int maxz)
{
    for (int l = 0; l < p->nlayers; l++) {
        const player *pl = &p->layers[l];
        if (comma || l) gf_buf_append(b, ",", 1);
        gf_buf_printf(b, "{\"id\":\"%s\",\"description\":\"\",\"minzoom\":%d,\"maxzoom\":%d,\"fields\":{", pl->name,
                      pl->minzoom > minz ? pl->minzoom : minz, maxz);
        for (int k = 0; k < pl->nkeys; k++)
            gf_buf_printf(b, "%s\"%s\":\"%s\"", k ? "," : "", pl->keys[k],
                          pl->types[k] == 1 ? "Number" : pl->types[k] == 2 ? "Boolean" : "String");
        gf_buf_append(b, "}}", 2);
    }
}

void gf_poly_bounds(const gf_poly_set *p, double b[4])
{
    gf_tile_lonlat(p->minx, p->maxy, &b[0], &b[1]);
    gf_tile_lonlat(p->maxx, p->miny, &b[2], &b[3]);
}
