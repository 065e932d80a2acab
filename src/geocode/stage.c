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

/* Every result column either stage can write. */
enum {
    RC_INDEX, RC_LAT, RC_LON, RC_RLAT, RC_RLON, RC_DIST, RC_LABEL, RC_SCORE, RC_SCORE_NEXT, RC_TYPE, RC_ID, RC_HN,
    RC_NAME, RC_STREET, RC_POSTCODE, RC_CITY, RC_CONTEXT, RC_CITYCODE, RC_OLDCITYCODE, RC_OLDCITY, RC_DISTRICT,
    RC_IMPORTANCE, RC_X, RC_Y, RC_STATUS, RC_FAR, RC_N
};
static const struct { const char *name; gf_type type; } rc_def[RC_N] = {
    [RC_INDEX] = {"result_index", GF_T_STRING}, [RC_LAT] = {"latitude", GF_T_REAL}, [RC_LON] = {"longitude", GF_T_REAL},
    [RC_RLAT] = {"result_latitude", GF_T_REAL}, [RC_RLON] = {"result_longitude", GF_T_REAL},
    [RC_DIST] = {"result_distance", GF_T_REAL}, [RC_LABEL] = {"result_label", GF_T_STRING},
    [RC_SCORE] = {"result_score", GF_T_REAL}, [RC_SCORE_NEXT] = {"result_score_next", GF_T_REAL},
    [RC_TYPE] = {"result_type", GF_T_STRING}, [RC_ID] = {"result_id", GF_T_STRING},
    [RC_HN] = {"result_housenumber", GF_T_STRING}, [RC_NAME] = {"result_name", GF_T_STRING},
    [RC_STREET] = {"result_street", GF_T_STRING}, [RC_POSTCODE] = {"result_postcode", GF_T_STRING},
    [RC_CITY] = {"result_city", GF_T_STRING}, [RC_CONTEXT] = {"result_context", GF_T_STRING},
    [RC_CITYCODE] = {"result_citycode", GF_T_STRING}, [RC_OLDCITYCODE] = {"result_oldcitycode", GF_T_STRING},
    [RC_OLDCITY] = {"result_oldcity", GF_T_STRING}, [RC_DISTRICT] = {"result_district", GF_T_STRING},
    [RC_IMPORTANCE] = {"result_importance", GF_T_REAL}, [RC_X] = {"result_x", GF_T_REAL}, [RC_Y] = {"result_y", GF_T_REAL},
    [RC_STATUS] = {"result_status", GF_T_STRING}, [RC_FAR] = {"result_far", GF_T_BOOL},
};
/* Default orders: the Géoplateforme's (its gpf-geocodeur address index,
 * search and reverse) and the older api-adresse's. -1 ends a list. */
static const signed char order_gpf_search[] = {RC_INDEX, RC_LAT, RC_LON, RC_LABEL, RC_SCORE, RC_SCORE_NEXT, RC_TYPE,
    RC_ID, RC_HN, RC_NAME, RC_STREET, RC_POSTCODE, RC_CITY, RC_CONTEXT, RC_CITYCODE, RC_OLDCITYCODE, RC_OLDCITY,
    RC_DISTRICT, RC_IMPORTANCE, RC_X, RC_Y, RC_STATUS, -1};
static const signed char order_gpf_reverse[] = {RC_INDEX, RC_RLAT, RC_RLON, RC_DIST, RC_LABEL, RC_TYPE, RC_ID, RC_HN,
    RC_NAME, RC_STREET, RC_POSTCODE, RC_CITY, RC_CONTEXT, RC_CITYCODE, RC_OLDCITYCODE, RC_OLDCITY, RC_DISTRICT,
    RC_IMPORTANCE, RC_X, RC_Y, RC_STATUS, -1};
static const signed char order_ban_search[] = {RC_LAT, RC_LON, RC_LABEL, RC_SCORE, RC_SCORE_NEXT, RC_TYPE, RC_ID, RC_HN,
    RC_NAME, RC_STREET, RC_POSTCODE, RC_CITY, RC_CONTEXT, RC_CITYCODE, RC_OLDCITYCODE, RC_OLDCITY, RC_DISTRICT,
    RC_STATUS, -1};
static const signed char order_ban_reverse[] = {RC_RLAT, RC_RLON, RC_DIST, RC_LABEL, RC_TYPE, RC_ID, RC_HN, RC_NAME,
    RC_STREET, RC_POSTCODE, RC_CITY, RC_CONTEXT, RC_CITYCODE, RC_OLDCITYCODE, RC_OLDCITY, RC_DISTRICT, RC_STATUS, -1};

enum { ST_OK, ST_NOTFOUND, ST_SKIPPED, ST_ERROR };
static const char *const status_name[] = {"ok", "not-found", "skipped", "error"};

/* The rows of a batch waiting for result_x/result_y (see queue_xy()). */
typedef struct xy_queue {
    double *x, *y;
    size_t *row;
    int *epsg; /* gf_gc_legal_epsg() of the result */
    size_t n, cap;
} xy_queue;

typedef struct gc_stage {
    gf_geocode_opts o;
    gf_reverse_opts ro;
    int reverse;
    char colspec[1024];
    char rcspec[1024];
    int style;
    int qcol[16], nq;
    int f_pc, f_cc, f_city, f_lat, f_lon, f_x, f_y;
    int f[RC_N]; /* output field of each result column, -1 when not written */
    char renamed[GF_MAX_FIELDS][80];
    int nworkers;
    gf_gc_scratch **scr;
    PJ **l93;     /* per worker, old-template EQUIP_X/EQUIP_Y (Lambert-93) -> WGS84 */
    gf_gc_legal **legal; /* per worker: WGS84 -> the legal CRS of result_x/result_y */
    xy_queue *xyq; /* per worker: the batch's rows waiting for result_x/result_y */
    gf_gc_counts *counts; /* per worker; kept until destroy so that the caller reads them after the run */
    int ncounts;
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

static gf_status copy_specs(gc_stage *g, gf_ctx *ctx, const char *rc, int style)
{
    if (style != GF_GC_STYLE_GEOPLATEFORME && style != GF_GC_STYLE_API_ADRESSE)
        return gf_ctx_err(ctx, GF_ERR_ARG, "geocode: unknown columns style %d", style);
    g->style = style;
    if (rc && strlen(rc) >= sizeof g->rcspec) return gf_ctx_err(ctx, GF_ERR_ARG, "--result-columns: list too long");
    if (rc) snprintf(g->rcspec, sizeof g->rcspec, "%s", rc);
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
    if ((s = copy_specs(g, ctx, opts->result_columns, opts->columns_style))) { free(g); return s; }
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
    if ((s = copy_specs(g, ctx, opts->result_columns, opts->columns_style))) { free(g); return s; }
    *st = g;
    return GF_OK;
}

void gf_geocode_stage_counts(const void *st, gf_gc_counts *out)
{
    const gc_stage *g = st;
    memset(out, 0, sizeof *out);
    for (int w = 0; g && w < g->ncounts; w++) {
        out->ok += g->counts[w].ok;
        out->not_found += g->counts[w].not_found;
        out->skipped += g->counts[w].skipped;
        out->error += g->counts[w].error;
        for (int k = 0; k < 5; k++) out->types[k] += g->counts[w].types[k];
    }
}

/* Renames an input column that has the name of a result column. */
static void rename_clash(gc_stage *g, gf_schema *s, const char *name)
{
    int f = find_ci(s, name);
    if (f < 0) return;
    snprintf(g->renamed[f], sizeof g->renamed[f], "%s_input", s->fields[f].name);
    s->fields[f].name = g->renamed[f];
}

static gf_status alloc_workers(gc_stage *g, gf_ctx *ctx, int nworkers)
{
    g->nworkers = nworkers;
    g->scr = calloc((size_t)nworkers, sizeof *g->scr);
    g->l93 = calloc((size_t)nworkers, sizeof *g->l93);
    g->legal = calloc((size_t)nworkers, sizeof *g->legal);
    g->xyq = calloc((size_t)nworkers, sizeof *g->xyq);
    free(g->counts);
    g->counts = calloc((size_t)nworkers, sizeof *g->counts);
    g->ncounts = g->counts ? nworkers : 0;
    if (!g->scr || !g->l93 || !g->legal || !g->xyq || !g->counts) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    for (int i = 0; i < nworkers; i++)
        if (gf_gc_scratch_create(g->o.index, &g->scr[i]) || gf_gc_legal_create(&g->legal[i]))
            return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    return GF_OK;
}

/* 1 when result column c can be asked of this stage. */
static int rc_allowed(const gc_stage *g, int c, int has_coords)
{
    if (g->reverse) return c != RC_LAT && c != RC_LON && c != RC_SCORE && c != RC_SCORE_NEXT && c != RC_FAR;
    if (c == RC_RLAT || c == RC_RLON) return 0;
    if (c == RC_DIST || c == RC_FAR) return has_coords;
    return 1;
}

/* Appends the result columns: the chosen list, or the style's order (plus,
 * when geocoding an input with its own coordinates, result_distance and
 * result_far). Input columns named like any result column are renamed
 * NAME_input first (an input geocoded twice keeps its first results). */
static gf_status add_result_cols(gc_stage *g, gf_ctx *ctx, gf_schema *s, int has_coords)
{
    const char *cmd = g->reverse ? "reverse" : "geocode";
    for (int c = 0; c < RC_N; c++) {
        rename_clash(g, s, rc_def[c].name);
        g->f[c] = -1;
    }
    /* the writers append their own errors and warnings columns (a geocoded
     * file read again has them) */
    rename_clash(g, s, "errors");
    rename_clash(g, s, "warnings");
    signed char list[RC_N + 1];
    int n = 0;
    if (g->rcspec[0]) {
        char tmp[sizeof g->rcspec];
        memcpy(tmp, g->rcspec, sizeof tmp);
        for (char *sv = NULL, *w = strtok_r(tmp, ",", &sv); w; w = strtok_r(NULL, ",", &sv)) {
            while (*w == ' ') w++;
            size_t l = strlen(w);
            while (l && w[l - 1] == ' ') w[--l] = 0;
            int c = -1;
            for (int k = 0; k < RC_N && c < 0; k++)
                if (!strcmp(rc_def[k].name, w)) c = k;
            if (c < 0 || !rc_allowed(g, c, has_coords)) {
                char names[1024];
                size_t k = 0;
                names[0] = 0;
                for (int j = 0; j < RC_N; j++)
                    if (rc_allowed(g, j, has_coords) && k + strlen(rc_def[j].name) + 3 < sizeof names)
                        k += (size_t)snprintf(names + k, sizeof names - k, "%s%s", k ? ", " : "", rc_def[j].name);
                return gf_ctx_err(ctx, GF_ERR_ARG, "%s: --result-columns: '%s' is not a result column %s (%s)", cmd, w,
                                  c >= 0 && (c == RC_DIST || c == RC_FAR) && !has_coords
                                      ? "here: the input has no coordinates of its own" : "of this command",
                                  names);
            }
            for (int j = 0; j < n; j++)
                if (list[j] == c) return gf_ctx_err(ctx, GF_ERR_ARG, "%s: --result-columns: '%s' given twice", cmd, w);
            list[n++] = (signed char)c;
        }
        if (!n) return gf_ctx_err(ctx, GF_ERR_ARG, "%s: --result-columns: no column named", cmd);
    } else {
        const signed char *o = g->reverse ? (g->style == GF_GC_STYLE_API_ADRESSE ? order_ban_reverse : order_gpf_reverse)
                                          : (g->style == GF_GC_STYLE_API_ADRESSE ? order_ban_search : order_gpf_search);
        while (o[n] >= 0) { list[n] = o[n]; n++; }
        if (!g->reverse && has_coords) { list[n++] = RC_DIST; list[n++] = RC_FAR; }
    }
    for (int i = 0; i < n; i++) {
        int c = list[i];
        if (gf_schema_add(s, rc_def[c].name, rc_def[c].type, &g->f[c]))
            return gf_ctx_err(ctx, GF_ERR_SCHEMA, "%s: cannot add column %s (too many columns?)", cmd, rc_def[c].name);
    }
    return GF_OK;
}

static gf_status start(void *st, gf_ctx *ctx, gf_schema *s, int nworkers)
{
    gc_stage *g = st;
    gf_status e;
    static const char *const lat_names[] = {"EQUIP_LAT", "lat", "latitude", "lat_wgs84", "y_wgs84", NULL};
    static const char *const lon_names[] = {"EQUIP_LONG", "lon", "long", "lng", "longitude", "long_wgs84", "x_wgs84", NULL};
    if (g->reverse) {
        g->f_lat = g->ro.lat_col ? find_ci(s, g->ro.lat_col) : find_any(s, lat_names);
        g->f_lon = g->ro.lon_col ? find_ci(s, g->ro.lon_col) : find_any(s, lon_names);
        if (g->f_lat < 0 || g->f_lon < 0)
            return gf_ctx_err(ctx, GF_ERR_SCHEMA, "reverse: no %s column in the input (use --lat/--lon)",
                              g->f_lat < 0 ? "latitude" : "longitude");
        if ((e = add_result_cols(g, ctx, s, 0))) return e;
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
    if (g->o.lat_col && g->f_lat < 0) return gf_ctx_err(ctx, GF_ERR_SCHEMA, "geocode: --lat: no column '%s'", g->o.lat_col);
    if (g->o.lon_col && g->f_lon < 0) return gf_ctx_err(ctx, GF_ERR_SCHEMA, "geocode: --lon: no column '%s'", g->o.lon_col);
    if (g->o.bias && (g->f_lat < 0 || g->f_lon < 0))
        return gf_ctx_err(ctx, GF_ERR_SCHEMA, "geocode: a position bias needs both a latitude and a longitude column (--lat, --lon)");
    g->f_x = find_ci(s, "EQUIP_X");
    g->f_y = find_ci(s, "EQUIP_Y");
    int has_coords = (g->f_lat >= 0 && g->f_lon >= 0) || (g->f_x >= 0 && g->f_y >= 0);
    if ((e = add_result_cols(g, ctx, s, has_coords))) return e;
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
    if (f < 0) return GF_OK;
    size_t n = strlen(s);
    if (!n) return GF_OK;
    return gf_batch_set_str(b, f, r, s, n);
}

static void set_d(gf_batch *b, int f, size_t r, double v, double scale)
{
    if (f >= 0) gf_batch_set_real(b, f, r, round(v * scale) / scale);
}

/* result_status, counted per worker for the run's summary. */
static gf_status set_status(gc_stage *g, int worker, gf_batch *b, size_t r, int status, gf_gc_type type)
{
    gf_gc_counts *c = &g->counts[worker];
    switch (status) {
    case ST_OK: c->ok++; c->types[type < 5 ? type : 0]++; break;
    case ST_NOTFOUND: c->not_found++; break;
    case ST_SKIPPED: c->skipped++; break;
    default: c->error++; break;
    }
    return set_s(b, g->f[RC_STATUS], r, status_name[status]);
}

/* result_x/result_y: the results' positions in the legal projected CRS of
 * their territory (gf_gc_legal_trans()), transformed once per batch and CRS
 * over the batch's arrays rather than once per row. put_result() queues a
 * row, flush_xy() transforms and writes the batch's queue. */
static gf_status queue_xy(gc_stage *g, int worker, size_t r, const gf_gc_result *res)
{
    if (g->f[RC_X] < 0 && g->f[RC_Y] < 0) return GF_OK;
    int epsg = gf_gc_legal_epsg(res->citycode);
    if (!epsg) return GF_OK;
    xy_queue *q = &g->xyq[worker];
    if (q->n == q->cap) {
        size_t nc = q->cap ? q->cap * 2 : 1024;
        double *x = realloc(q->x, nc * sizeof *x);
        if (x) q->x = x;
        double *y = realloc(q->y, nc * sizeof *y);
        if (y) q->y = y;
        size_t *row = realloc(q->row, nc * sizeof *row);
        if (row) q->row = row;
        int *ep = realloc(q->epsg, nc * sizeof *ep);
        if (ep) q->epsg = ep;
        if (!x || !y || !row || !ep) return GF_ERR_NOMEM;
        q->cap = nc;
    }
    q->x[q->n] = res->lon;
    q->y[q->n] = res->lat;
    q->row[q->n] = r;
    q->epsg[q->n++] = epsg;
    return GF_OK;
}

static gf_status flush_xy(gc_stage *g, gf_ctx *ctx, int worker, gf_batch *b)
{
    xy_queue *q = &g->xyq[worker];
    while (q->n) {
        /* the rows of the first row's CRS first, in place: one call for them */
        int epsg = q->epsg[0];
        size_t m = 0;
        for (size_t i = 0; i < q->n; i++) {
            if (q->epsg[i] != epsg) continue;
            double tx = q->x[i], ty = q->y[i];
            size_t tr = q->row[i];
            q->x[i] = q->x[m]; q->y[i] = q->y[m]; q->row[i] = q->row[m]; q->epsg[i] = q->epsg[m];
            q->x[m] = tx; q->y[m] = ty; q->row[m] = tr; q->epsg[m] = epsg;
            m++;
        }
        /* a CRS PROJ cannot build leaves result_x/result_y empty, as before */
        if (gf_gc_legal_trans(g->legal[worker], ctx, epsg, q->x, q->y, m) == GF_OK) {
            for (size_t i = 0; i < m; i++) {
                if (!isfinite(q->x[i]) || !isfinite(q->y[i]) || q->x[i] == HUGE_VAL || q->y[i] == HUGE_VAL) continue;
                set_d(b, g->f[RC_X], q->row[i], q->x[i], 100);
                set_d(b, g->f[RC_Y], q->row[i], q->y[i], 100);
            }
        }
        /* the other CRSs' rows move down */
        memmove(q->x, q->x + m, (q->n - m) * sizeof *q->x);
        memmove(q->y, q->y + m, (q->n - m) * sizeof *q->y);
        memmove(q->row, q->row + m, (q->n - m) * sizeof *q->row);
        memmove(q->epsg, q->epsg + m, (q->n - m) * sizeof *q->epsg);
        q->n -= m;
    }
    return GF_OK;
}

static gf_status put_result(gc_stage *g, gf_ctx *ctx, int worker, gf_batch *b, size_t r, const gf_gc_result *res)
{
    gf_status st;
    char buf[1024];
    if (res->type == GF_GC_NONE) return set_status(g, worker, b, r, ST_NOTFOUND, GF_GC_NONE);
    if ((st = set_s(b, g->f[RC_INDEX], r, "address"))) return st;
    set_d(b, g->reverse ? g->f[RC_RLAT] : g->f[RC_LAT], r, res->lat, 1e7);
    set_d(b, g->reverse ? g->f[RC_RLON] : g->f[RC_LON], r, res->lon, 1e7);
    if (g->f[RC_LABEL] >= 0) {
        gf_gc_result_label(res, buf, sizeof buf);
        if ((st = set_s(b, g->f[RC_LABEL], r, buf))) return st;
    }
    set_d(b, g->f[RC_SCORE], r, res->score, 1e4);
    set_d(b, g->f[RC_SCORE_NEXT], r, res->score_next, 1e4);
    if ((st = set_s(b, g->f[RC_TYPE], r, gf_gc_type_name(res->type))) || (st = set_s(b, g->f[RC_ID], r, res->id))) return st;
    if (g->f[RC_HN] >= 0) {
        gf_gc_result_housenumber(res, buf, sizeof buf);
        if ((st = set_s(b, g->f[RC_HN], r, buf))) return st;
    }
    if ((st = set_s(b, g->f[RC_NAME], r, res->name)) || (st = set_s(b, g->f[RC_STREET], r, res->street)) ||
        (st = set_s(b, g->f[RC_POSTCODE], r, res->postcode)) || (st = set_s(b, g->f[RC_CITY], r, res->city)) ||
        (st = set_s(b, g->f[RC_CONTEXT], r, res->context)) || (st = set_s(b, g->f[RC_CITYCODE], r, res->citycode)) ||
        (st = set_s(b, g->f[RC_OLDCITYCODE], r, res->oldcitycode)) || (st = set_s(b, g->f[RC_OLDCITY], r, res->oldcity)) ||
        (st = set_s(b, g->f[RC_DISTRICT], r, res->district)))
        return st;
    set_d(b, g->f[RC_IMPORTANCE], r, res->importance, 1e4);
    if ((st = queue_xy(g, worker, r, res))) return gf_ctx_err(ctx, st, "out of memory");
    return set_status(g, worker, b, r, ST_OK, res->type);
}

static gf_status run_reverse(gc_stage *g, gf_ctx *ctx, int worker, gf_batch *b)
{
    gf_gc_scratch *scr = g->scr[worker];
    gf_status st;
    g->xyq[worker].n = 0;
    for (size_t r = 0; r < b->n; r++) {
        double lat, lon;
        if (!col_double(b, g->f_lat, r, &lat) || !col_double(b, g->f_lon, r, &lon) || fabs(lat) > 90 || fabs(lon) > 180) {
            if ((st = set_status(g, worker, b, r, ST_SKIPPED, GF_GC_NONE))) return st;
            continue;
        }
        b->lon[r] = lon;
        b->lat[r] = lat;
        b->flags[r] |= GF_ROW_HAS_POS;
        gf_gc_result res;
        if (gf_gc_reverse(g->o.index, scr, lon, lat, g->ro.max_m, &res) != GF_OK) {
            if ((st = set_status(g, worker, b, r, ST_ERROR, GF_GC_NONE))) return st;
            continue;
        }
        if ((st = put_result(g, ctx, worker, b, r, &res))) return st;
        if (res.type != GF_GC_NONE) set_d(b, g->f[RC_DIST], r, res.distance, 100);
    }
    return flush_xy(g, ctx, worker, b);
}

/* The row's own position (WGS84): its lat/lon columns, else the older
 * SCDL template's EQUIP_X/EQUIP_Y in Lambert-93. 0 when it has none (0,0
 * is a spreadsheet's empty cell, not a place in France). */
static int row_pos(gc_stage *g, gf_ctx *ctx, int worker, const gf_batch *b, size_t r, double *lon, double *lat)
{
    double la, lo;
    if (col_double(b, g->f_lat, r, &la) && col_double(b, g->f_lon, r, &lo) && fabs(la) <= 90 && fabs(lo) <= 180 &&
        !(la == 0 && lo == 0)) {
        *lon = lo;
        *lat = la;
        return 1;
    }
    if (g->f_x < 0 || !col_double(b, g->f_x, r, &lo) || !col_double(b, g->f_y, r, &la)) return 0;
    if (!g->l93[worker]) {
        PJ *p = proj_create_crs_to_crs(gf_ctx_proj(ctx), "EPSG:2154", "EPSG:4326", NULL);
        if (p) {
            g->l93[worker] = proj_normalize_for_visualization(gf_ctx_proj(ctx), p);
            proj_destroy(p);
        }
    }
    if (!g->l93[worker]) return 0;
    PJ_COORD c = proj_trans(g->l93[worker], PJ_FWD, proj_coord(lo, la, 0, 0));
    *lon = c.lp.lam;
    *lat = c.lp.phi;
    return isfinite(*lon) && isfinite(*lat) && fabs(*lat) <= 90 && fabs(*lon) <= 180;
}

static gf_status run(void *stv, gf_ctx *ctx, int worker, gf_batch *b)
{
    gc_stage *g = stv;
    if (g->reverse) return run_reverse(g, ctx, worker, b);
    gf_gc_scratch *scr = g->scr[worker];
    gf_status st;
    g->xyq[worker].n = 0;
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
            if ((st = set_status(g, worker, b, r, ST_ERROR, GF_GC_NONE))) return st;
            continue;
        }
        if (!ql && !qu.postcodelen && !qu.citycodelen && !qu.citylen) {
            if ((st = set_status(g, worker, b, r, ST_SKIPPED, GF_GC_NONE))) return st;
            continue;
        }
        /* the row's own position: the query's bias when asked, checked against the result */
        double plon = 0, plat = 0;
        int have = (g->o.bias || g->f[RC_DIST] >= 0 || g->f[RC_FAR] >= 0) && row_pos(g, ctx, worker, b, r, &plon, &plat);
        if (have && g->o.bias) {
            qu.has_bias = 1;
            qu.lon = plon;
            qu.lat = plat;
        }
        gf_gc_result res;
        int nres = 0;
        if (gf_gc_search(g->o.index, scr, &qu, &res, 1, &nres) != GF_OK) {
            if ((st = set_status(g, worker, b, r, ST_ERROR, GF_GC_NONE))) return st;
            continue;
        }
        if (!nres) gf_gc_result_clear(&res);
        if ((st = put_result(g, ctx, worker, b, r, &res))) return st;
        if (res.type == GF_GC_NONE) continue;
        b->lon[r] = res.lon;
        b->lat[r] = res.lat;
        b->flags[r] |= GF_ROW_HAS_POS;
        /* the row's own coordinates, checked against the result */
        if (have) {
            double d = gf_gc_distance(plon, plat, res.lon, res.lat);
            set_d(b, g->f[RC_DIST], r, d, 100);
            if (g->f[RC_FAR] >= 0) gf_batch_set_int(b, g->f[RC_FAR], r, d > g->o.far_m);
        }
    }
    return flush_xy(g, ctx, worker, b);
}

/* Scratch and PROJ objects belong to the run (PJ to the worker contexts,
 * destroyed after end()): free them here. The counts stay for the caller. */
static gf_status end(void *stv, gf_ctx *ctx)
{
    gc_stage *g = stv;
    (void)ctx;
    for (int i = 0; i < g->nworkers; i++) {
        if (g->scr) gf_gc_scratch_destroy(g->scr[i]);
        if (g->l93 && g->l93[i]) proj_destroy(g->l93[i]);
        if (g->xyq) { free(g->xyq[i].x); free(g->xyq[i].y); free(g->xyq[i].row); free(g->xyq[i].epsg); }
        if (g->legal) gf_gc_legal_destroy(g->legal[i]);
    }
    free(g->scr);
    free(g->l93);
    free(g->legal);
    free(g->xyq);
    g->scr = NULL;
    g->l93 = NULL;
    g->legal = NULL;
    g->xyq = NULL;
    g->nworkers = 0;
    return GF_OK;
}

static void destroy(void *stv)
{
    if (!stv) return;
    end(stv, NULL);
    free(((gc_stage *)stv)->counts);
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
