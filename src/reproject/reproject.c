/* Reprojection stage (PROJ adapter for transformations).
 *
 * Every row gets its position from long/lat when present, else from x/y in
 * the CRS given by --s-srs or detected. Detection, per row, when no --s-srs:
 *   - overseas communes (INSEE 97x/98x) use their legal CRS;
 *   - with long/lat present, the legal CRS is checked first, then the CC
 *     zones around the latitude: the CRS whose projection of long/lat lands
 *     within the tolerance of x/y is the CRS of x/y (a file may say nothing or
 *     lie: the Soual BAL ships CC44 in columns the spec reserves for
 *     Lambert-93);
 *   - without long/lat, x/y ranges choose between Lambert-93 and the CC zone
 *     implied by y; when both fit, the one that lands nearer the declared
 *     commune's department wins.
 * Transformations are batched per CRS with proj_trans_generic(). PJ objects
 * are not thread-safe: each worker has its own set, created lazily on its
 * own PROJ context. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <proj.h>

#include "geoflux/address.h"
#include "geoflux/reproject.h"
#include "reproject/dept_centroids.h"

/* Candidate CRSs for x/y. Index 0 is Lambert-93. */
static const int cand_epsg[] = {2154, 3942, 3943, 3944, 3945, 3946, 3947, 3948, 3949, 3950,
                                5490, 2972, 2975, 4471, 4467, 3163, 3296, 3297, 3298, 3299, 2988};
#define NCAND ((int)(sizeof cand_epsg / sizeof cand_epsg[0]))
#define C_L93 0
#define C_CC(z) (1 + (z) - 42)
#define C_USER NCAND /* the --s-srs CRS */

/* Local linear model of a candidate's inverse projection around an anchor
 * point (x0, y0): long/lat there from PROJ, and the Jacobian from two more
 * points 1 m away. Checking that a row's x/y and long/lat agree is most of
 * the reprojection cost of a BAN extract (an inverse conformal projection
 * per row); within LIN_RADIUS of the anchor the model is off by well under
 * a metre (second-order terms: about d^2/R), so a row whose long/lat lie
 * within tol/2 of the model's prediction agrees with its x/y for sure, and
 * only the other rows go through PROJ. The verdict is the same as with
 * PROJ alone, whatever the anchors (hence the thread count). */
#define LIN_RADIUS 2000.0
typedef struct gf_rp_lin {
    int valid;
    double x0, y0, lon0, lat0, lon_x, lon_y, lat_x, lat_y; /* Jacobian, degrees per metre */
    double kx, ky;                                         /* metres per degree at the anchor */
} gf_rp_lin;

typedef struct gf_rp_worker {
    PJ *to_wgs[NCAND + 1]; /* candidate (or user CRS) -> WGS84 lon/lat */
    gf_rp_lin lin[NCAND];
    PJ *to_out;            /* WGS84 -> output CRS (NULL when output is WGS84) */
    unsigned owned;        /* bit c (NCAND + 1: to_out): not in the worker context's cache, destroyed at end() */
    int init;
    double *x, *y;         /* scratch, batch capacity */
    size_t *idx;
    short *crs;            /* chosen CRS per row, -1 none */
    size_t cap;
} gf_rp_worker;

typedef struct gf_rp {
    gf_reproject_opts o;
    char *t_srs;       /* PROJ definition of the resolved CRSs: id or WKT */
    char *s_srs;
    char s_label[128]; /* --s-srs as written into xy_crs */
    int out_is_wgs84;
    int out_epsg;
    int f_xy_crs, f_mismatch, f_mismatch_m;
    char crs_name[NCAND][16]; /* "EPSG:n" of each candidate */
    int nworkers;
    gf_rp_worker *w;
} gf_rp;

int gf_legal_epsg_for_insee(const char *p, size_t n)
{
    if (n < 3) return 0;
    if (p[0] == '9' && p[1] == '7') {
        switch (p[2]) {
        case '1': case '2': case '7': case '8': return 5490; /* Guadeloupe, Martinique, St-Barth, St-Martin */
        case '3': return 2972;
        case '4': return 2975;
        case '5': return 4467;
        case '6': return 4471;
        }
        return 0;
    }
    if (p[0] == '9' && p[1] == '8') {
        if (p[2] == '8') return 3163;
        if (p[2] == '6') return 2988;
        return 0; /* Polynesia: depends on the island, detected from x/y */
    }
    return 2154;
}

static int cand_index(int epsg)
{
    for (int i = 0; i < NCAND; i++)
        if (cand_epsg[i] == epsg) return i;
    return -1;
}

/* How the user spelled a CRS: anything but a bare name has one meaning to
 * PROJ. A name goes through the database with exact matching only. */
static int crs_is_name(PJ_CONTEXT *pc, const char *def)
{
    size_t n = strspn(def, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");
    if (n > 0 && def[n] == ':' && def[n + 1] && !strchr(def, ' ')) return 0; /* AUTH:CODE, urn:..., http:... */
    if (def[0] == '+' || def[0] == '{' || strstr(def, "+proj=")) return 0;   /* PROJ string, PROJJSON */
    return proj_context_guess_wkt_dialect(pc, def) == PJ_GUESSED_NOT_WKT;
}

static const PJ_TYPE crs_types[] = {PJ_TYPE_GEOGRAPHIC_2D_CRS, PJ_TYPE_GEOGRAPHIC_3D_CRS, PJ_TYPE_GEOCENTRIC_CRS,
                                    PJ_TYPE_PROJECTED_CRS, PJ_TYPE_COMPOUND_CRS, PJ_TYPE_OTHER_CRS};

static void obj_id(const PJ *o, char *buf, size_t cap)
{
    const char *a = proj_get_id_auth_name(o, 0), *c = proj_get_id_code(o, 0);
    snprintf(buf, cap, "%s:%s", a ? a : "?", c ? c : "?");
}

/* The one CRS whose name is exactly `name`, or a GF_ERR_ARG that lists the
 * candidates (several exact matches) or the nearest names (none). */
static gf_status crs_by_name(gf_ctx *ctx, PJ_CONTEXT *pc, const char *name, PJ **out)
{
    *out = NULL;
    PJ_OBJ_LIST *l = proj_create_from_name(pc, NULL, name, crs_types, sizeof crs_types / sizeof crs_types[0], 0, 8, NULL);
    int n = l ? proj_list_get_count(l) : 0;
    if (n == 1) {
        *out = proj_list_get(pc, l, 0);
        proj_list_destroy(l);
        return *out ? GF_OK : gf_ctx_err(ctx, GF_ERR_PROJ, "CRS '%s': PROJ cannot build it", name);
    }
    char list[400] = "";
    size_t len = 0;
    PJ_OBJ_LIST *near = n ? NULL
                          : proj_create_from_name(pc, NULL, name, crs_types, sizeof crs_types / sizeof crs_types[0], 1, 3, NULL);
    PJ_OBJ_LIST *show = n ? l : near;
    int k = show ? proj_list_get_count(show) : 0;
    for (int i = 0; i < k && len < sizeof list - 1; i++) {
        PJ *o = proj_list_get(pc, show, i);
        if (!o) continue;
        char id[64];
        obj_id(o, id, sizeof id);
        int w = snprintf(list + len, sizeof list - len, "%s%s (%s)", i ? ", " : "", id, proj_get_name(o));
        if (w > 0) len += (size_t)w < sizeof list - len ? (size_t)w : sizeof list - len - 1;
        proj_destroy(o);
    }
    proj_list_destroy(l);
    proj_list_destroy(near);
    if (n > 1)
        return gf_ctx_err(ctx, GF_ERR_ARG, "CRS '%s' is ambiguous: %d CRSs have that name: %s; give a code", name, n, list);
    return gf_ctx_err(ctx, GF_ERR_ARG,
                      "unknown CRS '%s': give an authority code (EPSG:2154), WKT, a PROJ string or the exact name of "
                      "a CRS%s%s",
                      name, k ? "; near names: " : "", list);
}

gf_status gf_crs_resolve(gf_ctx *ctx, const char *def, gf_crs_info *out)
{
    memset(out, 0, sizeof *out);
    PJ_CONTEXT *pc = gf_ctx_proj(ctx);
    if (!pc) return gf_ctx_err(ctx, GF_ERR_PROJ, "cannot start PROJ");
    if (!def || !def[0]) return gf_ctx_err(ctx, GF_ERR_ARG, "empty CRS");
    const char *given = def;
    char buf[512];
    /* accept a bare EPSG number */
    if (def[0] >= '0' && def[0] <= '9' && strspn(def, "0123456789") == strlen(def)) {
        snprintf(buf, sizeof buf, "EPSG:%s", def);
        def = buf;
    } else if (def[0] == '+' && !strstr(def, "+type=crs")) {
        /* a PROJ string is an operation unless it says it is a CRS */
        snprintf(buf, sizeof buf, "%s +type=crs", def);
        def = buf;
    }
    gf_ctx_dep_clear(ctx);
    PJ *crs = NULL;
    if (crs_is_name(pc, def)) {
        gf_status st = crs_by_name(ctx, pc, def, &crs);
        if (st) return st;
    } else {
        crs = proj_create(pc, def);
        if (!crs)
            return gf_ctx_err(ctx, GF_ERR_ARG, "unknown CRS '%s'%s%s", given, gf_ctx_dep_msg(ctx)[0] ? ": " : "",
                              gf_ctx_dep_msg(ctx));
    }
    PJ_TYPE t = proj_get_type(crs);
    if (t == PJ_TYPE_BOUND_CRS) {
        PJ *base = proj_get_source_crs(pc, crs);
        proj_destroy(crs);
        crs = base;
        t = proj_get_type(crs);
    }
    if (!crs || !(t == PJ_TYPE_GEOGRAPHIC_2D_CRS || t == PJ_TYPE_GEOGRAPHIC_3D_CRS || t == PJ_TYPE_PROJECTED_CRS ||
                  t == PJ_TYPE_COMPOUND_CRS || t == PJ_TYPE_GEOCENTRIC_CRS || t == PJ_TYPE_OTHER_CRS)) {
        proj_destroy(crs);
        return gf_ctx_err(ctx, GF_ERR_ARG, "'%s' is not a coordinate reference system", given);
    }
    out->geographic = t == PJ_TYPE_GEOGRAPHIC_2D_CRS || t == PJ_TYPE_GEOGRAPHIC_3D_CRS;
    const char *auth = proj_get_id_auth_name(crs, 0), *code = proj_get_id_code(crs, 0);
    if (!auth) {
        /* a PROJ string or WKT without id: ask the database */
        int *conf = NULL;
        PJ_OBJ_LIST *l = proj_identify(pc, crs, "EPSG", NULL, &conf);
        if (l && proj_list_get_count(l) > 0 && conf && conf[0] >= 90) {
            PJ *m = proj_list_get(pc, l, 0);
            const char *c2 = m ? proj_get_id_code(m, 0) : NULL;
            long e = c2 ? strtol(c2, NULL, 10) : 0;
            if (e > 0 && e < 1000000) out->epsg = (int)e;
            proj_destroy(m);
        }
        proj_int_list_destroy(conf);
        proj_list_destroy(l);
        if (out->epsg) snprintf(out->id, sizeof out->id, "EPSG:%d", out->epsg);
    } else {
        snprintf(out->id, sizeof out->id, "%.30s:%.30s", auth, code ? code : "");
        char *e = NULL;
        long v = code && !strcmp(auth, "EPSG") ? strtol(code, &e, 10) : 0;
        if (e && !*e && v > 0 && v < 1000000) out->epsg = (int)v;
    }
    snprintf(out->name, sizeof out->name, "%.127s", proj_get_name(crs) ? proj_get_name(crs) : given);
    const char *wkt = proj_as_wkt(pc, crs, PJ_WKT2_2019, NULL);
    out->wkt = wkt ? strdup(wkt) : NULL;
    proj_destroy(crs);
    return GF_OK;
}

const char *gf_crs_label(const gf_crs_info *info) { return info->id[0] ? info->id : info->name; }

void gf_crs_info_free(gf_crs_info *info)
{
    if (!info) return;
    free(info->wkt);
    info->wkt = NULL;
}

gf_status gf_reproject_create(gf_ctx *ctx, const gf_reproject_opts *opts, void **st)
{
    gf_rp *r = calloc(1, sizeof *r);
    if (!r) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    if (opts) r->o = *opts;
    if (r->o.mismatch_m <= 0) r->o.mismatch_m = 10.0;
    /* resolve both CRSs now, on the main thread, for a clear early error;
     * the workers hand PROJ the resolved CRS (its code, else its WKT), never
     * the user's spelling again */
    gf_crs_info ti, si;
    gf_status s = gf_crs_resolve(ctx, r->o.t_srs ? r->o.t_srs : "EPSG:4326", &ti);
    if (s) { free(r); return s; }
    r->out_is_wgs84 = ti.epsg == 4326;
    r->out_epsg = ti.epsg;
    r->t_srs = strdup(ti.id[0] ? ti.id : ti.wkt ? ti.wkt : "");
    gf_crs_info_free(&ti);
    if (r->o.s_srs) {
        s = gf_crs_resolve(ctx, r->o.s_srs, &si);
        if (s) { free(r->t_srs); free(r); return s; }
        r->s_srs = strdup(si.id[0] ? si.id : si.wkt ? si.wkt : "");
        snprintf(r->s_label, sizeof r->s_label, "%s", gf_crs_label(&si));
        gf_crs_info_free(&si);
        if (!r->s_srs) { free(r->t_srs); free(r); return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); }
    }
    if (!r->t_srs) { free(r); return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); }
    r->o.s_srs = r->o.s_srs ? r->s_srs : NULL;
    r->o.t_srs = r->t_srs;
    *st = r;
    return GF_OK;
}

static gf_status start(void *st, gf_ctx *ctx, gf_schema *s, int nworkers)
{
    gf_rp *r = st;
    r->nworkers = nworkers;
    r->w = calloc((size_t)nworkers, sizeof *r->w);
    if (!r->w) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    for (int c = 0; c < NCAND; c++) snprintf(r->crs_name[c], sizeof r->crs_name[c], "EPSG:%d", cand_epsg[c]);
    if (s->kind && strcmp(s->kind, "address") != 0) { r->f_xy_crs = -1; return GF_OK; }
    if (gf_schema_add(s, "xy_crs", GF_T_STRING, &r->f_xy_crs) ||
        gf_schema_add(s, "pos_mismatch", GF_T_BOOL, &r->f_mismatch) ||
        gf_schema_add(s, "pos_mismatch_m", GF_T_REAL, &r->f_mismatch_m))
        return gf_ctx_err(ctx, GF_ERR_SCHEMA, "reproject: cannot add its fields to the schema");
    return GF_OK;
}

static PJ *make_pj(PJ_CONTEXT *pc, const char *from, const char *to)
{
    PJ *p = proj_create_crs_to_crs(pc, from, to, NULL);
    if (!p) return NULL;
    PJ *n = proj_normalize_for_visualization(pc, p); /* lon, lat axis order */
    proj_destroy(p);
    return n;
}

static void pj_free(void *pj) { proj_destroy(pj); }

/* The transformation from -> to of this worker's context: made once per
 * worker context and kept in its cache, so an engine's workers reuse it in
 * every run. *owned: set when the cache could not take it (then the stage
 * destroys it at end()). */
static PJ *worker_pj(gf_ctx *ctx, const char *from, const char *to, unsigned *owned, unsigned bit)
{
    size_t n = strlen(from) + strlen(to) + sizeof "reproject:>";
    char *key = malloc(n);
    if (!key) return NULL;
    snprintf(key, n, "reproject:%s>%s", from, to);
    PJ *p = gf_ctx_cache_get(ctx, key);
    if (!p && (p = make_pj(gf_ctx_proj(ctx), from, to)) && gf_ctx_cache_put(ctx, key, p, pj_free) != GF_OK)
        *owned |= bit;
    free(key);
    return p;
}

static gf_status worker_init(gf_rp *r, gf_ctx *ctx, gf_rp_worker *w, size_t cap)
{
    if (w->cap < cap) {
        free(w->x); free(w->y); free(w->idx); free(w->crs);
        w->x = malloc(cap * sizeof *w->x);
        w->y = malloc(cap * sizeof *w->y);
        w->idx = malloc(cap * sizeof *w->idx);
        w->crs = malloc(cap * sizeof *w->crs);
        if (!w->x || !w->y || !w->idx || !w->crs) { w->cap = 0; return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); }
        w->cap = cap;
    }
    if (w->init) return GF_OK;
    if (!r->out_is_wgs84) {
        w->to_out = worker_pj(ctx, "EPSG:4326", r->t_srs, &w->owned, 1u << (NCAND + 1));
        if (!w->to_out) return gf_ctx_err(ctx, GF_ERR_PROJ, "no transformation from EPSG:4326 to the output CRS");
    }
    if (r->o.s_srs) {
        w->to_wgs[C_USER] = worker_pj(ctx, r->o.s_srs, "EPSG:4326", &w->owned, 1u << C_USER);
        if (!w->to_wgs[C_USER]) return gf_ctx_err(ctx, GF_ERR_PROJ, "no transformation from %s to EPSG:4326", r->s_label);
    }
    w->init = 1;
    return GF_OK;
}

static PJ *cand_pj(gf_ctx *ctx, gf_rp_worker *w, int c)
{
    if (!w->to_wgs[c]) {
        char def[32];
        snprintf(def, sizeof def, "EPSG:%d", cand_epsg[c]);
        w->to_wgs[c] = worker_pj(ctx, def, "EPSG:4326", &w->owned, 1u << c);
    }
    return w->to_wgs[c];
}

/* Great-circle distance in metres (spherical Earth: enough for a 10 m test). */
static double haversine(double lon1, double lat1, double lon2, double lat2)
{
    const double R = 6371008.8, d2r = M_PI / 180.0;
    double dlat = (lat2 - lat1) * d2r, dlon = (lon2 - lon1) * d2r;
    double a = sin(dlat / 2) * sin(dlat / 2) + cos(lat1 * d2r) * cos(lat2 * d2r) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * R * asin(sqrt(a < 1 ? a : 1));
}

/* Inverse-projects rows idx[0..n) of (x[], y[]) from candidate c, in place. */
static void to_wgs(gf_ctx *ctx, gf_rp_worker *w, int c, double *x, double *y, size_t n)
{
    PJ *pj = c == C_USER ? w->to_wgs[C_USER] : cand_pj(ctx, w, c);
    if (!pj) {
        for (size_t i = 0; i < n; i++) x[i] = y[i] = HUGE_VAL;
        return;
    }
    proj_trans_generic(pj, PJ_FWD, x, sizeof *x, n, y, sizeof *y, n, NULL, 0, 0, NULL, 0, 0);
}

static const char *row_insee(const gf_batch *b, size_t r, size_t *len)
{
    if (b->cols[GF_A_COMMUNE_INSEE].valid[r]) {
        gf_sref s = b->cols[GF_A_COMMUNE_INSEE].v.s[r];
        *len = s.len;
        return b->arena + s.off;
    }
    if (b->cols[GF_A_CLE_INTEROP].valid[r]) { /* BAL 1.1: the INSEE code opens cle_interop */
        gf_sref s = b->cols[GF_A_CLE_INTEROP].v.s[r];
        if (s.len >= 5) { *len = 5; return b->arena + s.off; }
    }
    *len = 0;
    return NULL;
}

static int dept_centroid(const char *insee, size_t n, double *lon, double *lat)
{
    if (!insee || n < 2) return 0;
    for (size_t i = 0; i < sizeof gf_dept_centroids / sizeof gf_dept_centroids[0]; i++) {
        const char *c = gf_dept_centroids[i].code;
        if (c[0] == (insee[0]) && (c[1] == insee[1] || (c[1] == 'A' && insee[1] == 'a') || (c[1] == 'B' && insee[1] == 'b'))) {
            *lon = gf_dept_centroids[i].lon;
            *lat = gf_dept_centroids[i].lat;
            return 1;
        }
    }
    return 0;
}

/* Range guess for x/y with no long/lat: candidates (at most 2). */
static int guess_candidates(double x, double y, int legal, int out[2])
{
    int n = 0;
    if (legal && legal != 2154) {
        int c = cand_index(legal);
        if (c >= 0) out[n++] = c;
        return n;
    }
    if (x >= 50000 && x <= 1300000 && y >= 6000000 && y <= 7200000) out[n++] = C_L93;
    if (x >= 1000000 && x <= 2400000) {
        int z = (int)lround((y - 200000.0) / 1e6) + 41;
        double y0 = (z - 41) * 1e6 + 200000.0;
        if (z >= 42 && z <= 50 && fabs(y - y0) <= 400000) out[n++] = C_CC(z);
    }
    return n;
}

/* The candidate CRS of x/y given without long/lat (-1: none fits): the
 * ranges choose, and when both Lambert-93 and a CC zone fit, the one that
 * lands nearer the commune's department wins. */
static int detect_xy(gf_ctx *ctx, gf_rp_worker *w, double x, double y, int legal, const char *insee, size_t il)
{
    int cs[2];
    int k = guess_candidates(x, y, legal, cs);
    if (k == 0) return -1;
    if (k == 2) {
        double clon, clat;
        if (dept_centroid(insee, il, &clon, &clat)) {
            double bx[2] = {x, x}, by[2] = {y, y};
            to_wgs(ctx, w, cs[0], &bx[0], &by[0], 1);
            to_wgs(ctx, w, cs[1], &bx[1], &by[1], 1);
            double d0 = haversine(bx[0], by[0], clon, clat), d1 = haversine(bx[1], by[1], clon, clat);
            if (d1 < d0) cs[0] = cs[1];
        }
    }
    return cs[0];
}

gf_status gf_xy_detect_lonlat(gf_ctx *wctx, double x, double y, const char *insee, size_t insee_len, double *lon,
                              double *lat, int *epsg)
{
    *epsg = 0;
    *lon = *lat = NAN;
    if (!isfinite(x) || !isfinite(y)) return GF_DONE;
    /* a worker of its own for this call: its transformations come from
     * wctx's cache, so only the first call per context builds them */
    gf_rp_worker w;
    memset(&w, 0, sizeof w);
    if (!insee) insee_len = 0;
    int legal = insee_len ? gf_legal_epsg_for_insee(insee, insee_len) : 2154;
    int c = detect_xy(wctx, &w, x, y, legal, insee_len ? insee : NULL, insee_len);
    gf_status st = GF_DONE;
    if (c >= 0) {
        double lo = x, la = y;
        if (!cand_pj(wctx, &w, c)) {
            st = gf_ctx_err(wctx, GF_ERR_PROJ, "no transformation from EPSG:%d to EPSG:4326", cand_epsg[c]);
        } else {
            to_wgs(wctx, &w, c, &lo, &la, 1);
            if (isfinite(lo) && isfinite(la) && fabs(lo) <= 180 && fabs(la) <= 90) {
                *lon = lo;
                *lat = la;
                *epsg = cand_epsg[c];
                st = GF_OK;
            }
        }
    }
    for (int k = 0; k < NCAND; k++)
        if (w.owned & (1u << k)) proj_destroy(w.to_wgs[k]);
    return st;
}

gf_status gf_xy_to_lonlat(gf_ctx *wctx, const char *s_srs, double x, double y, double *lon, double *lat)
{
    *lon = *lat = NAN;
    if (!isfinite(x) || !isfinite(y)) return GF_DONE;
    unsigned owned = 0;
    PJ *pj = worker_pj(wctx, s_srs, "EPSG:4326", &owned, 1);
    if (!pj) /* s_srs is a WKT when the CRS has no code: its start names it */
        return gf_ctx_err(wctx, GF_ERR_PROJ, "no transformation from %.80s%s to EPSG:4326", s_srs,
                          strlen(s_srs) > 80 ? "..." : "");
    double lo = x, la = y;
    proj_trans_generic(pj, PJ_FWD, &lo, sizeof lo, 1, &la, sizeof la, 1, NULL, 0, 0, NULL, 0, 0);
    if (owned) proj_destroy(pj); /* the cache could not keep it */
    if (!isfinite(lo) || !isfinite(la) || fabs(lo) > 180 || fabs(la) > 90) return GF_DONE;
    *lon = lo;
    *lat = la;
    return GF_OK;
}

/* A new anchor for candidate c at (x, y); invalid when PROJ fails there. */
static void lin_anchor(gf_ctx *ctx, gf_rp_worker *w, int c, double x, double y)
{
    gf_rp_lin *L = &w->lin[c];
    double px[3] = {x, x + 1, x}, py[3] = {y, y, y + 1};
    to_wgs(ctx, w, c, px, py, 3);
    L->valid = 0;
    for (int k = 0; k < 3; k++)
        if (!isfinite(px[k]) || !isfinite(py[k]) || fabs(px[k]) > 180 || fabs(py[k]) > 90) return;
    const double m_per_deg = 6371008.8 * M_PI / 180.0;
    *L = (gf_rp_lin){1, x, y, px[0], py[0], px[1] - px[0], px[2] - px[0], py[1] - py[0], py[2] - py[0],
                     m_per_deg * cos(py[0] * M_PI / 180.0), m_per_deg};
}

/* 1 when (x, y) in candidate c surely lies within half_tol metres of
 * (lon, lat), by the local model (see gf_rp_lin); 0: ask PROJ. */
static int lin_agrees(gf_ctx *ctx, gf_rp_worker *w, int c, double x, double y, double lon, double lat, double half_tol)
{
    gf_rp_lin *L = &w->lin[c];
    if (!L->valid || fabs(x - L->x0) > LIN_RADIUS || fabs(y - L->y0) > LIN_RADIUS) lin_anchor(ctx, w, c, x, y);
    if (!L->valid) return 0;
    double dx = x - L->x0, dy = y - L->y0;
    double ex = (L->lon0 + L->lon_x * dx + L->lon_y * dy - lon) * L->kx;
    double ey = (L->lat0 + L->lat_x * dx + L->lat_y * dy - lat) * L->ky;
    return ex * ex + ey * ey <= half_tol * half_tol;
}

/* The CRS found for row i's x/y (xy_crs column): candidate found (-1:
 * none), or --s-srs when that was the CRS tried (c) and it agreed. */
static gf_status set_xy_crs(gf_rp *r, gf_batch *b, size_t i, int c, int found)
{
    if (found >= 0) return gf_batch_set_str(b, r->f_xy_crs, i, r->crs_name[found], strlen(r->crs_name[found]));
    if (c == C_USER && !(b->flags[i] & GF_ROW_POS_MISMATCH)) return gf_batch_set_str(b, r->f_xy_crs, i, r->s_label, strlen(r->s_label));
    return GF_OK;
}

static gf_status run(void *st, gf_ctx *ctx, int worker, gf_batch *b)
{
    gf_rp *r = st;
    gf_rp_worker *w = &r->w[worker];
    gf_status s = worker_init(r, ctx, w, b->n ? b->n : 1);
    if (s) return s;
    int addr = r->f_xy_crs >= 0;
    size_t n = b->n;
    const double tol = r->o.mismatch_m;

    /* 1. long/lat rows */
    for (size_t i = 0; i < n; i++) {
        w->crs[i] = -1;
        if (b->flags[i] & GF_ROW_HAS_LONLAT) {
            b->lon[i] = b->cols[GF_A_LONG].v.d[i];
            b->lat[i] = b->cols[GF_A_LAT].v.d[i];
            b->flags[i] |= GF_ROW_HAS_POS;
        }
    }
    if (addr) {
        /* 2. x/y rows: choose the first candidate CRS per row */
        for (size_t i = 0; i < n; i++) {
            if (!(b->flags[i] & GF_ROW_HAS_XY)) continue;
            if (r->o.s_srs) { w->crs[i] = C_USER; continue; }
            double x = b->cols[GF_A_X].v.d[i], y = b->cols[GF_A_Y].v.d[i];
            size_t il;
            const char *insee = row_insee(b, i, &il);
            int legal = insee ? gf_legal_epsg_for_insee(insee, il) : 2154;
            if (b->flags[i] & GF_ROW_HAS_LONLAT) {
                int c = legal ? cand_index(legal) : -1;
                w->crs[i] = (short)(c >= 0 ? c : C_L93);
            } else {
                int c = detect_xy(ctx, w, x, y, legal, insee, il);
                if (c < 0) continue; /* out of every known range: no position from x/y */
                w->crs[i] = (short)c;
            }
        }
        /* 3. transform x/y per CRS, in batches (rows that the local model
         * shows to agree with their long/lat are done without PROJ) */
        const int use_lin = tol >= 4;
        for (int c = 0; c <= NCAND; c++) {
            size_t m = 0;
            for (size_t i = 0; i < n; i++) {
                if (w->crs[i] != c) continue;
                if (use_lin && c != C_USER && (b->flags[i] & GF_ROW_HAS_LONLAT) &&
                    lin_agrees(ctx, w, c, b->cols[GF_A_X].v.d[i], b->cols[GF_A_Y].v.d[i], b->lon[i], b->lat[i], tol / 2)) {
                    gf_batch_set_int(b, r->f_mismatch, i, 0);
                    if ((s = set_xy_crs(r, b, i, c, c))) return s;
                    continue;
                }
                w->idx[m] = i;
                w->x[m] = b->cols[GF_A_X].v.d[i];
                w->y[m] = b->cols[GF_A_Y].v.d[i];
                m++;
            }
            if (!m) continue;
            to_wgs(ctx, w, c, w->x, w->y, m);
            for (size_t k = 0; k < m; k++) {
                size_t i = w->idx[k];
                double lo = w->x[k], la = w->y[k];
                int ok = isfinite(lo) && isfinite(la) && fabs(lo) <= 180 && fabs(la) <= 90;
                int found = c == C_USER ? -1 : c;
                if (b->flags[i] & GF_ROW_HAS_LONLAT) {
                    double d = ok ? haversine(lo, la, b->lon[i], b->lat[i]) : HUGE_VAL;
                    if (d > tol) {
                        b->flags[i] |= GF_ROW_POS_MISMATCH;
                        gf_batch_set_int(b, r->f_mismatch, i, 1);
                        if (isfinite(d)) gf_batch_set_real(b, r->f_mismatch_m, i, round(d * 100) / 100);
                        /* which CRS are these x/y really in? try the CC zones and the other legal CRSs */
                        found = -1;
                        if (c != C_USER) {
                            double clat = b->lat[i];
                            int zc = (int)lround(clat);
                            int order[NCAND], no = 0;
                            for (int z = zc - 1; z <= zc + 1; z++)
                                if (z >= 42 && z <= 50) order[no++] = C_CC(z);
                            for (int q = 0; q < NCAND; q++)
                                if (q != c && !(q >= C_CC(42) && q <= C_CC(50))) order[no++] = q;
                            for (int q = 0; q < no && found < 0; q++) {
                                double tx = b->cols[GF_A_X].v.d[i], ty = b->cols[GF_A_Y].v.d[i];
                                to_wgs(ctx, w, order[q], &tx, &ty, 1);
                                if (isfinite(tx) && isfinite(ty) && haversine(tx, ty, b->lon[i], b->lat[i]) <= tol)
                                    found = order[q];
                            }
                        }
                    } else {
                        gf_batch_set_int(b, r->f_mismatch, i, 0);
                    }
                } else if (ok) {
                    b->lon[i] = lo;
                    b->lat[i] = la;
                    b->flags[i] |= GF_ROW_HAS_POS;
                }
                if ((s = set_xy_crs(r, b, i, c, found))) return s;
            }
        }
    }
    /* 4. output CRS */
    if (r->out_is_wgs84) {
        memcpy(b->gx, b->lon, n * sizeof *b->gx);
        memcpy(b->gy, b->lat, n * sizeof *b->gy);
        return GF_OK;
    }
    size_t m = 0;
    char want[16];
    int wl = r->out_epsg ? snprintf(want, sizeof want, "EPSG:%d", r->out_epsg) : -1;
    for (size_t i = 0; i < n; i++) {
        b->gx[i] = b->gy[i] = NAN;
        if (!(b->flags[i] & GF_ROW_HAS_POS)) continue;
        /* x/y already in the output CRS and coherent: keep the source values exactly */
        if (addr && wl > 0 && (b->flags[i] & GF_ROW_HAS_XY) && !(b->flags[i] & GF_ROW_POS_MISMATCH) &&
            b->cols[r->f_xy_crs].valid[i] && b->cols[r->f_xy_crs].v.s[i].len == (uint32_t)wl &&
            memcmp(b->arena + b->cols[r->f_xy_crs].v.s[i].off, want, (size_t)wl) == 0) {
            b->gx[i] = b->cols[GF_A_X].v.d[i];
            b->gy[i] = b->cols[GF_A_Y].v.d[i];
            continue;
        }
        w->idx[m] = i;
        w->x[m] = b->lon[i];
        w->y[m] = b->lat[i];
        m++;
    }
    if (m) {
        proj_trans_generic(w->to_out, PJ_FWD, w->x, sizeof *w->x, m, w->y, sizeof *w->y, m, NULL, 0, 0, NULL, 0, 0);
        for (size_t k = 0; k < m; k++) {
            size_t i = w->idx[k];
            if (isfinite(w->x[k]) && isfinite(w->y[k])) {
                b->gx[i] = w->x[k];
                b->gy[i] = w->y[k];
            } else {
                /* outside the output CRS's domain: no position there */
                b->flags[i] &= ~(uint32_t)GF_ROW_HAS_POS;
            }
        }
    }
    return GF_OK;
}

/* PJ objects belong to the worker contexts: those in their caches stay
 * there for the next run, the others are freed here, not in destroy()
 * (the pipeline destroys its own workers' contexts after end()). */
static gf_status end(void *st, gf_ctx *ctx)
{
    gf_rp *r = st;
    (void)ctx;
    for (int i = 0; r->w && i < r->nworkers; i++) {
        gf_rp_worker *w = &r->w[i];
        for (int c = 0; c <= NCAND; c++)
            if (w->owned & (1u << c)) proj_destroy(w->to_wgs[c]);
        if (w->owned & (1u << (NCAND + 1))) proj_destroy(w->to_out);
        free(w->x); free(w->y); free(w->idx); free(w->crs);
    }
    free(r->w);
    r->w = NULL;
    return GF_OK;
}

static void destroy(void *st)
{
    gf_rp *r = st;
    if (!r) return;
    end(r, NULL);
    free(r->t_srs);
    free(r->s_srs);
    free(r);
}

const gf_stage_vt gf_reproject_stage_vt = {
    .name = "reproject",
    .start = start,
    .run = run,
    .end = end,
    .destroy = destroy,
};
