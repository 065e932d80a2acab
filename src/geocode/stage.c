/* The geocoding and reverse-geocoding pipeline stages: they read query
 * columns of any table (SCDL equipment files, a plain CSV), ask the shared
 * read-only index with per-worker scratch buffers, and append the result
 * columns the national geocoder's batch CSV users know. */
#include <ctype.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <proj.h>

#include "geocode/gc.h"
#include "ingest/parse.h"

typedef struct gc_stage {
    gf_geocode_opts o;
    gf_reverse_opts ro;
    int reverse;
    char colspec[1024];
    int qcol[16], nq;
    int f_pc, f_cc, f_city, f_lat, f_lon, f_x, f_y;
    int f_latitude, f_longitude, f_label, f_score, f_score_next, f_type, f_id, f_hn, f_name, f_street,
        f_postcode, f_rcity, f_citycode, f_status, f_dist, f_far;
    char renamed[GF_MAX_FIELDS][80];
    int nworkers;
    gf_gc_scratch **scr;
    PJ **l93; /* per worker, old-template EQUIP_X/EQUIP_Y (Lambert-93) -> WGS84 */
} gc_stage;

static int find_ci(const gf_schema *s, const char *name)
{
    for (int i = 0; i < s->nfields; i++)
        if (!strcasecmp(s->fields[i].name, name)) return i;
    return -1;
}

static int find_any(const gf_schema *s, const char *const *names)
{
    for (int i = 0; names[i]; i++) {
        int f = find_ci(s, names[i]);
        if (f >= 0) return f;
    }
    return -1;
}

static gf_status alloc_stage(gf_ctx *ctx, gc_stage **out)
{
    gc_stage *g = calloc(1, sizeof *g);
    if (!g) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    *out = g;
    return GF_OK;
}

gf_status gf_geocode_stage_create(gf_ctx *ctx, const gf_geocode_opts *opts, void **st)
{
    if (!opts || !opts->index) return gf_ctx_err(ctx, GF_ERR_ARG, "geocode: no index");
    gc_stage *g = NULL;
    gf_status s = alloc_stage(ctx, &g);
    if (s) return s;
    g->o = *opts;
    if (g->o.far_m <= 0) g->o.far_m = 100;
    if (opts->columns) snprintf(g->colspec, sizeof g->colspec, "%s", opts->columns);
    *st = g;
    return GF_OK;
}

gf_status gf_reverse_stage_create(gf_ctx *ctx, const gf_reverse_opts *opts, void **st)
{
    if (!opts || !opts->index) return gf_ctx_err(ctx, GF_ERR_ARG, "reverse: no index");
    gc_stage *g = NULL;
    gf_status s = alloc_stage(ctx, &g);
    if (s) return s;
    g->ro = *opts;
    g->reverse = 1;
    g->o.index = opts->index;
    *st = g;
    return GF_OK;
}

/* Renames an input column that has the name of a result column. */
static void rename_clash(gc_stage *g, gf_schema *s, const char *name)
{
    int f = find_ci(s, name);
    if (f < 0) return;
    snprintf(g->renamed[f], sizeof g->renamed[f], "%s_input", s->fields[f].name);
    s->fields[f].name = g->renamed[f];
}

static gf_status add(gf_ctx *ctx, gf_schema *s, const char *name, gf_type t, int *idx)
{
    if (gf_schema_add(s, name, t, idx)) return gf_ctx_err(ctx, GF_ERR_SCHEMA, "geocode: cannot add column %s (too many columns?)", name);
    return GF_OK;
}

static gf_status alloc_workers(gc_stage *g, gf_ctx *ctx, int nworkers)
{
    g->nworkers = nworkers;
    g->scr = calloc((size_t)nworkers, sizeof *g->scr);
    g->l93 = calloc((size_t)nworkers, sizeof *g->l93);
    if (!g->scr || !g->l93) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    for (int i = 0; i < nworkers; i++)
        if (gf_gc_scratch_create(g->o.index, &g->scr[i])) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    return GF_OK;
}

/* The result columns each stage appends, in order: one table per mode.
 * Input columns with these names are renamed NAME_input. */
typedef struct rcol { const char *name; gf_type type; size_t off; /* of the field index in gc_stage */ } rcol;
#define RC(n, t, f) {n, t, offsetof(gc_stage, f)}
static const rcol geocode_cols[] = {
    RC("latitude", GF_T_REAL, f_latitude), RC("longitude", GF_T_REAL, f_longitude),
    RC("result_label", GF_T_STRING, f_label), RC("result_score", GF_T_REAL, f_score),
    RC("result_score_next", GF_T_REAL, f_score_next), RC("result_type", GF_T_STRING, f_type),
    RC("result_id", GF_T_STRING, f_id), RC("result_housenumber", GF_T_STRING, f_hn),
    RC("result_name", GF_T_STRING, f_name), RC("result_street", GF_T_STRING, f_street),
    RC("result_postcode", GF_T_STRING, f_postcode), RC("result_city", GF_T_STRING, f_rcity),
    RC("result_citycode", GF_T_STRING, f_citycode), RC("result_status", GF_T_STRING, f_status)};
static const rcol geocode_coord_cols[] = { /* when the input has its own coordinates */
    RC("result_distance", GF_T_REAL, f_dist), RC("result_far", GF_T_BOOL, f_far)};
static const rcol reverse_cols[] = {
    RC("result_latitude", GF_T_REAL, f_latitude), RC("result_longitude", GF_T_REAL, f_longitude),
    RC("result_distance", GF_T_REAL, f_dist), RC("result_label", GF_T_STRING, f_label),
    RC("result_type", GF_T_STRING, f_type), RC("result_id", GF_T_STRING, f_id),
    RC("result_housenumber", GF_T_STRING, f_hn), RC("result_name", GF_T_STRING, f_name),
    RC("result_street", GF_T_STRING, f_street), RC("result_postcode", GF_T_STRING, f_postcode),
    RC("result_city", GF_T_STRING, f_rcity), RC("result_citycode", GF_T_STRING, f_citycode),
    RC("result_status", GF_T_STRING, f_status)};
#define NRC(t) (sizeof t / sizeof t[0])

/* Renames input columns that clash with any result column of any mode
 * (an input geocoded twice keeps its first results as NAME_input). */
static void rename_clashes(gc_stage *g, gf_schema *s)
{
    const rcol *tabs[] = {geocode_cols, geocode_coord_cols, reverse_cols};
    const size_t ns[] = {NRC(geocode_cols), NRC(geocode_coord_cols), NRC(reverse_cols)};
    for (int t = 0; t < 3; t++)
        for (size_t i = 0; i < ns[t]; i++) rename_clash(g, s, tabs[t][i].name);
}

static gf_status add_cols(gc_stage *g, gf_ctx *ctx, gf_schema *s, const rcol *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        gf_status e = add(ctx, s, c[i].name, c[i].type, (int *)((char *)g + c[i].off));
        if (e) return e;
    }
    return GF_OK;
}

static gf_status start(void *st, gf_ctx *ctx, gf_schema *s, int nworkers)
{
    gc_stage *g = st;
    gf_status e;
    static const char *const lat_names[] = {"EQUIP_LAT", "lat", "latitude", "lat_wgs84", "y_wgs84", NULL};
    static const char *const lon_names[] = {"EQUIP_LONG", "lon", "long", "lng", "longitude", "long_wgs84", "x_wgs84", NULL};
    g->f_dist = g->f_far = -1;
    if (g->reverse) {
        g->f_lat = g->ro.lat_col ? find_ci(s, g->ro.lat_col) : find_any(s, lat_names);
        g->f_lon = g->ro.lon_col ? find_ci(s, g->ro.lon_col) : find_any(s, lon_names);
        if (g->f_lat < 0 || g->f_lon < 0)
            return gf_ctx_err(ctx, GF_ERR_SCHEMA, "reverse: no %s column in the input (use --lat/--lon)",
                              g->f_lat < 0 ? "latitude" : "longitude");
        rename_clashes(g, s);
        if ((e = add_cols(g, ctx, s, reverse_cols, NRC(reverse_cols)))) return e;
        return alloc_workers(g, ctx, nworkers);
    }
    /* query columns */
    g->nq = 0;
    if (g->colspec[0]) {
        char tmp[1024];
        snprintf(tmp, sizeof tmp, "%s", g->colspec);
        for (char *sv = NULL, *c = strtok_r(tmp, ",", &sv); c; c = strtok_r(NULL, ",", &sv)) {
            while (*c == ' ') c++;
            int f = find_ci(s, c);
            if (f < 0) return gf_ctx_err(ctx, GF_ERR_SCHEMA, "geocode: --columns: no column '%s' in the input", c);
            if (g->nq < 16) g->qcol[g->nq++] = f;
        }
    } else if (find_ci(s, "ADR_NOMVOIE") >= 0) {
        int a = find_ci(s, "ADR_NUMERO"), b = find_ci(s, "ADR_NOMVOIE");
        if (a >= 0) g->qcol[g->nq++] = a;
        g->qcol[g->nq++] = b;
    } else {
        static const char *const qn[] = {"adresse", "address", "q", "adr", "adresse_complete", "voie", "rue", NULL};
        int f = find_any(s, qn);
        if (f < 0)
            return gf_ctx_err(ctx, GF_ERR_SCHEMA, "geocode: no address column found (adresse, address, q, or the SCDL "
                                                  "ADR_NUMERO/ADR_NOMVOIE): name them with --columns");
        g->qcol[g->nq++] = f;
    }
    static const char *const pcn[] = {"ADR_CODEPOSTAL", "postcode", "code_postal", "codepostal", "cp", NULL};
    static const char *const ccn[] = {"citycode", "code_insee", "insee", "commune_insee", "code_commune_insee", NULL};
    static const char *const cin[] = {"ADR_COMMUNE", "ADR_VILLE", "city", "commune", "ville", "nom_commune", NULL};
    g->f_pc = g->o.postcode ? find_ci(s, g->o.postcode) : find_any(s, pcn);
    g->f_cc = g->o.citycode ? find_ci(s, g->o.citycode) : find_any(s, ccn);
    g->f_city = g->o.city ? find_ci(s, g->o.city) : find_any(s, cin);
    if (g->o.postcode && g->f_pc < 0) return gf_ctx_err(ctx, GF_ERR_SCHEMA, "geocode: --postcode: no column '%s'", g->o.postcode);
    if (g->o.citycode && g->f_cc < 0) return gf_ctx_err(ctx, GF_ERR_SCHEMA, "geocode: --citycode: no column '%s'", g->o.citycode);
    if (g->o.city && g->f_city < 0) return gf_ctx_err(ctx, GF_ERR_SCHEMA, "geocode: --city: no column '%s'", g->o.city);
    /* a city column already in the query text is not used twice */
    for (int i = 0; i < g->nq; i++) if (g->qcol[i] == g->f_city && !g->o.city) g->f_city = -1;
    g->f_lat = g->o.lat_col ? find_ci(s, g->o.lat_col) : find_any(s, lat_names);
    g->f_lon = g->o.lon_col ? find_ci(s, g->o.lon_col) : find_any(s, lon_names);
    g->f_x = find_ci(s, "EQUIP_X");
    g->f_y = find_ci(s, "EQUIP_Y");
    int has_coords = (g->f_lat >= 0 && g->f_lon >= 0) || (g->f_x >= 0 && g->f_y >= 0);
    rename_clashes(g, s);
    if ((e = add_cols(g, ctx, s, geocode_cols, NRC(geocode_cols)))) return e;
    if (has_coords && (e = add_cols(g, ctx, s, geocode_coord_cols, NRC(geocode_coord_cols)))) return e;
    return alloc_workers(g, ctx, nworkers);
}

/* Text of a column for the query (numbers formatted). */
static size_t col_text(const gf_batch *b, int f, size_t r, char *out, size_t outsz, const char **p)
{
    if (f < 0 || !b->cols[f].valid[r]) return 0;
    switch (b->schema->fields[f].type) {
    case GF_T_STRING:
    case GF_T_DATE:
        *p = b->arena + b->cols[f].v.s[r].off;
        return b->cols[f].v.s[r].len;
    case GF_T_REAL:
        *p = out;
        return (size_t)snprintf(out, outsz, "%.15g", b->cols[f].v.d[r]);
    default:
        *p = out;
        return (size_t)snprintf(out, outsz, "%lld", (long long)b->cols[f].v.i[r]);
    }
}

static int col_double(const gf_batch *b, int f, size_t r, double *v)
{
    if (f < 0 || !b->cols[f].valid[r]) return 0;
    gf_type t = b->schema->fields[f].type;
    if (t == GF_T_REAL) { *v = b->cols[f].v.d[r]; return isfinite(*v); }
    if (t == GF_T_INT) { *v = (double)b->cols[f].v.i[r]; return 1; }
    if (t != GF_T_STRING) return 0;
    gf_sref s = b->cols[f].v.s[r];
    const char *p = b->arena + s.off;
    size_t n = s.len;
    while (n && *p == ' ') { p++; n--; }
    while (n && p[n - 1] == ' ') n--;
    return gf_parse_double(p, n, 1, v) && isfinite(*v);
}

static gf_status set_s(gf_batch *b, int f, size_t r, const char *s)
{
    size_t n = strlen(s);
    if (!n) return GF_OK;
    return gf_batch_set_str(b, f, r, s, n);
}

static gf_status put_result(gc_stage *g, gf_batch *b, size_t r, const gf_gc_result *res)
{
    gf_status st;
    char buf[1024];
    if (res->type == GF_GC_NONE) return set_s(b, g->f_status, r, "not-found");
    gf_batch_set_real(b, g->f_latitude, r, round(res->lat * 1e7) / 1e7);
    gf_batch_set_real(b, g->f_longitude, r, round(res->lon * 1e7) / 1e7);
    if (res->postcode[0]) snprintf(buf, sizeof buf, "%s %s %s", res->name, res->postcode, res->city);
    else snprintf(buf, sizeof buf, "%s %s", res->name, res->city);
    if (res->type == GF_GC_MUNICIPALITY) snprintf(buf, sizeof buf, "%s%s%s", res->postcode, res->postcode[0] ? " " : "", res->city);
    if ((st = set_s(b, g->f_label, r, buf))) return st;
    if (!g->reverse) {
        gf_batch_set_real(b, g->f_score, r, round(res->score * 1e4) / 1e4);
        gf_batch_set_real(b, g->f_score_next, r, round(res->score_next * 1e4) / 1e4);
    }
    if ((st = set_s(b, g->f_type, r, gf_gc_type_name(res->type))) || (st = set_s(b, g->f_id, r, res->id))) return st;
    if (res->housenumber >= 0) {
        snprintf(buf, sizeof buf, "%lld%s", (long long)res->housenumber, res->suffix);
        if ((st = set_s(b, g->f_hn, r, buf))) return st;
    }
    if ((st = set_s(b, g->f_name, r, res->name)) || (st = set_s(b, g->f_street, r, res->street)) ||
        (st = set_s(b, g->f_postcode, r, res->postcode)) || (st = set_s(b, g->f_rcity, r, res->city)) ||
        (st = set_s(b, g->f_citycode, r, res->citycode)) || (st = set_s(b, g->f_status, r, "ok")))
        return st;
    return GF_OK;
}

static gf_status run_reverse(gc_stage *g, gf_ctx *ctx, int worker, gf_batch *b)
{
    gf_gc_scratch *scr = g->scr[worker];
    gf_status st;
    for (size_t r = 0; r < b->n; r++) {
        double lat, lon;
        if (!col_double(b, g->f_lat, r, &lat) || !col_double(b, g->f_lon, r, &lon) || fabs(lat) > 90 || fabs(lon) > 180) {
            if ((st = set_s(b, g->f_status, r, "skipped"))) return st;
            continue;
        }
        b->lon[r] = lon;
        b->lat[r] = lat;
        b->flags[r] |= GF_ROW_HAS_POS;
        gf_gc_result res;
        if (gf_gc_reverse(g->o.index, scr, lon, lat, g->ro.max_m, &res) != GF_OK) {
            if ((st = set_s(b, g->f_status, r, "error"))) return st;
            continue;
        }
        if ((st = put_result(g, b, r, &res))) return st;
        if (res.type != GF_GC_NONE) gf_batch_set_real(b, g->f_dist, r, round(res.distance * 100) / 100);
    }
    (void)ctx;
    return GF_OK;
}

static gf_status run(void *stv, gf_ctx *ctx, int worker, gf_batch *b)
{
    gc_stage *g = stv;
    if (g->reverse) return run_reverse(g, ctx, worker, b);
    gf_gc_scratch *scr = g->scr[worker];
    gf_status st;
    char q[2048], nb[64], pcb[64], ccb[64], cib[64];
    for (size_t r = 0; r < b->n; r++) {
        size_t ql = 0;
        for (int i = 0; i < g->nq; i++) {
            const char *p;
            size_t n = col_text(b, g->qcol[i], r, nb, sizeof nb, &p);
            if (!n) continue;
            /* "99999" is the SCDL way to say "no number" */
            if (n == 5 && !memcmp(p, "99999", 5)) continue;
            if (ql + n + 2 >= sizeof q) { ql = sizeof q; break; }
            if (ql) q[ql++] = ' ';
            memcpy(q + ql, p, n);
            ql += n;
        }
        gf_gc_query qu = {0};
        qu.q = q;
        qu.qlen = ql;
        qu.postcodelen = col_text(b, g->f_pc, r, pcb, sizeof pcb, &qu.postcode);
        qu.citycodelen = col_text(b, g->f_cc, r, ccb, sizeof ccb, &qu.citycode);
        qu.citylen = col_text(b, g->f_city, r, cib, sizeof cib, &qu.city);
        if (ql >= sizeof q) {
            if ((st = set_s(b, g->f_status, r, "error"))) return st;
            continue;
        }
        if (!ql && !qu.postcodelen && !qu.citycodelen && !qu.citylen) {
            if ((st = set_s(b, g->f_status, r, "skipped"))) return st;
            continue;
        }
        gf_gc_result res;
        if (gf_gc_geocode(g->o.index, scr, &qu, &res) != GF_OK) {
            if ((st = set_s(b, g->f_status, r, "error"))) return st;
            continue;
        }
        if ((st = put_result(g, b, r, &res))) return st;
        if (res.type == GF_GC_NONE) continue;
        b->lon[r] = res.lon;
        b->lat[r] = res.lat;
        b->flags[r] |= GF_ROW_HAS_POS;
        /* the row's own coordinates, checked against the result */
        if (g->f_dist >= 0) {
            double la, lo;
            int have = 0;
            if (col_double(b, g->f_lat, r, &la) && col_double(b, g->f_lon, r, &lo) && fabs(la) <= 90 && fabs(lo) <= 180 &&
                !(la == 0 && lo == 0))
                have = 1;
            else if (g->f_x >= 0 && col_double(b, g->f_x, r, &lo) && col_double(b, g->f_y, r, &la)) {
                if (!g->l93[worker]) {
                    PJ *p = proj_create_crs_to_crs(gf_ctx_proj(ctx), "EPSG:2154", "EPSG:4326", NULL);
                    if (p) {
                        g->l93[worker] = proj_normalize_for_visualization(gf_ctx_proj(ctx), p);
                        proj_destroy(p);
                    }
                }
                if (g->l93[worker]) {
                    PJ_COORD c = proj_coord(lo, la, 0, 0);
                    c = proj_trans(g->l93[worker], PJ_FWD, c);
                    lo = c.lp.lam;
                    la = c.lp.phi;
                    have = isfinite(lo) && isfinite(la) && fabs(la) <= 90 && fabs(lo) <= 180;
                }
            }
            if (have) {
                double d = gf_gc_distance(lo, la, res.lon, res.lat);
                gf_batch_set_real(b, g->f_dist, r, round(d * 100) / 100);
                gf_batch_set_int(b, g->f_far, r, d > g->o.far_m);
            }
        }
    }
    return GF_OK;
}

/* Scratch and PROJ objects belong to the run (PJ to the worker contexts,
 * destroyed after end()): free them here. */
static gf_status end(void *stv, gf_ctx *ctx)
{
    gc_stage *g = stv;
    (void)ctx;
    for (int i = 0; i < g->nworkers; i++) {
        if (g->scr) gf_gc_scratch_destroy(g->scr[i]);
        if (g->l93 && g->l93[i]) proj_destroy(g->l93[i]);
    }
    free(g->scr);
    free(g->l93);
    g->scr = NULL;
    g->l93 = NULL;
    g->nworkers = 0;
    return GF_OK;
}

static void destroy(void *stv)
{
    if (!stv) return;
    end(stv, NULL);
    free(stv);
}

const gf_stage_vt gf_geocode_stage_vt = {
    .name = "geocode",
    .start = start,
    .run = run,
    .end = end,
    .destroy = destroy,
};

const gf_stage_vt gf_reverse_stage_vt = {
    .name = "reverse",
    .start = start,
    .run = run,
    .end = end,
    .destroy = destroy,
};
