/* The join pipeline stage: commune of every positioned row, quality flag
 * against the declared commune, and per-commune statistics (counters and
 * street-name hash sets per worker, merged at end(), so the totals do not
 * depend on the thread count). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "core/gdalerr.h"
#include "geoflux/write.h"
#include "join/join_int.h"

enum { K_ADDR, K_CERT, K_CERT_KNOWN, K_MISM, K_OUT, K_NOPOS, K_N };

/* Open-addressing set of (commune, street-name hash); h == 0 is empty. */
typedef struct jx_set {
    uint64_t *h;
    uint32_t *c;
    size_t cap, n;
} jx_set;

typedef struct jx_worker {
    uint64_t *cnt; /* ncommunes * K_N */
    jx_set streets;
    int *res;      /* commune per row (scratch) */
    size_t rescap;
    double cpu_locate, cpu_total;
    uint64_t npts;
    uint64_t unassigned;
} jx_worker;

typedef struct jx_stage {
    gf_join_opts o;
    char *path, *layer, *code_field, *name_field, *stats_path, *out_wkt;
    gf_join_index *ix;
    int ix_borrowed; /* opts->index: the caller's, not destroyed here */
    int f_geo, f_nom, f_status, f_dist;
    int f_insee, f_cle, f_voie, f_cert;
    int nworkers;
    int aborted; /* the run failed: end() writes no statistics */
    jx_worker *w;
    gf_atomic stats_out; /* --stats, written at end(), renamed at publish() */
} jx_stage;

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static const char *ext_of(const char *p)
{
    const char *d = strrchr(p, '.'), *sl = strrchr(p, '/');
    return d && (!sl || d > sl) ? d + 1 : "";
}

gf_status gf_join_create(gf_ctx *ctx, const gf_join_opts *opts, void **st)
{
    *st = NULL;
    if (!opts || !opts->path) return gf_ctx_err(ctx, GF_ERR_ARG, "join: no boundaries file");
    if (opts->stats_path) {
        const char *e = ext_of(opts->stats_path);
        if (strcasecmp(e, "csv") && strcasecmp(e, "geojson") && strcasecmp(e, "json"))
            return gf_ctx_err(ctx, GF_ERR_ARG, "%s: --stats writes .geojson or .csv", opts->stats_path);
    }
    jx_stage *j = calloc(1, sizeof *j);
    if (!j) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    j->o = *opts;
    j->o.path = j->path = strdup(opts->path);
    j->o.layer = j->layer = dup_or_null(opts->layer);
    j->o.code_field = j->code_field = dup_or_null(opts->code_field);
    j->o.name_field = j->name_field = dup_or_null(opts->name_field);
    j->o.stats_path = j->stats_path = dup_or_null(opts->stats_path);
    j->o.out_srs_wkt = j->out_wkt = dup_or_null(opts->out_srs_wkt);
    if (j->o.max_distance_m == 0) j->o.max_distance_m = 200.0;
    if (!j->path || (opts->layer && !j->layer) || (opts->code_field && !j->code_field) || (opts->name_field && !j->name_field)
        || (opts->stats_path && !j->stats_path) || (opts->out_srs_wkt && !j->out_wkt)) {
        gf_join_stage_vt.destroy(j);
        return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    }
    if (opts->index) {
        j->ix = (gf_join_index *)opts->index;
        j->ix_borrowed = 1;
        j->o.index = NULL;
        *st = j;
        return GF_OK;
    }
    gf_status s = gf_join_index_load(ctx, &j->o, &j->ix);
    if (s) {
        gf_join_stage_vt.destroy(j);
        return s;
    }
    *st = j;
    return GF_OK;
}

static gf_status start(void *st, gf_ctx *ctx, gf_schema *s, int nworkers)
{
    jx_stage *j = st;
    if (gf_schema_add(s, "commune_geo", GF_T_STRING, &j->f_geo) ||
        gf_schema_add(s, "commune_geo_nom", GF_T_STRING, &j->f_nom) ||
        gf_schema_add(s, "join_status", GF_T_STRING, &j->f_status) ||
        gf_schema_add(s, "join_distance_m", GF_T_REAL, &j->f_dist))
        return gf_ctx_err(ctx, GF_ERR_SCHEMA, "join: cannot add its fields to the schema (already there, or full)");
    j->f_insee = gf_schema_find(s, "commune_insee");
    j->f_cle = gf_schema_find(s, "cle_interop");
    j->f_voie = gf_schema_find(s, "voie_nom");
    j->f_cert = gf_schema_find(s, "certification_commune");
    if (j->f_cert >= 0 && s->fields[j->f_cert].type != GF_T_BOOL && s->fields[j->f_cert].type != GF_T_INT) j->f_cert = -1;
    j->nworkers = nworkers;
    j->w = calloc((size_t)nworkers, sizeof *j->w);
    if (!j->w) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    for (int i = 0; i < nworkers; i++) {
        j->w[i].cnt = calloc((size_t)j->ix->ncommunes * K_N, sizeof *j->w[i].cnt);
        if (!j->w[i].cnt) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    }
    return GF_OK;
}

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a, then a finaliser */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h ? h : 1;
}

static int set_add(jx_set *s, uint32_t c, uint64_t h)
{
    if ((s->n + 1) * 2 > s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 1024;
        uint64_t *nh = calloc(nc, sizeof *nh);
        uint32_t *ncc = malloc(nc * sizeof *ncc);
        if (!nh || !ncc) { free(nh); free(ncc); return -1; }
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->h[i]) continue;
            size_t k = (size_t)((s->h[i] ^ (s->c[i] * 0x9e3779b97f4a7c15ull)) & (nc - 1));
            while (nh[k]) k = (k + 1) & (nc - 1);
            nh[k] = s->h[i];
            ncc[k] = s->c[i];
        }
        free(s->h);
        free(s->c);
        s->h = nh;
        s->c = ncc;
        s->cap = nc;
    }
    size_t k = (size_t)((h ^ (c * 0x9e3779b97f4a7c15ull)) & (s->cap - 1));
    while (s->h[k]) {
        if (s->h[k] == h && s->c[k] == c) return 0;
        k = (k + 1) & (s->cap - 1);
    }
    s->h[k] = h;
    s->c[k] = c;
    s->n++;
    return 1;
}

static void set_free(jx_set *s)
{
    free(s->h);
    free(s->c);
    memset(s, 0, sizeof *s);
}

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Declared commune: commune_insee, else the INSEE code that opens a BAL 1.1
 * cle_interop. */
static const char *declared(const jx_stage *j, const gf_batch *b, size_t r, size_t *len)
{
    if (j->f_insee >= 0 && b->cols[j->f_insee].valid[r] && b->cols[j->f_insee].v.s[r].len) {
        *len = b->cols[j->f_insee].v.s[r].len;
        return gf_batch_str(b, b->cols[j->f_insee].v.s[r]);
    }
    if (j->f_cle >= 0 && b->cols[j->f_cle].valid[r] && b->cols[j->f_cle].v.s[r].len >= 5) {
        *len = 5;
        return gf_batch_str(b, b->cols[j->f_cle].v.s[r]);
    }
    *len = 0;
    return NULL;
}

static int same_code(const char *a, size_t n, const char *b)
{
    return strlen(b) == n && strncasecmp(a, b, n) == 0; /* 2A/2a */
}

static gf_status run(void *st, gf_ctx *ctx, int worker, gf_batch *b)
{
    jx_stage *j = st;
    jx_worker *w = &j->w[worker];
    const gf_join_index *ix = j->ix;
    double t0 = cpu_now();
    size_t n = b->n;
    if (w->rescap < n) {
        free(w->res);
        w->res = malloc(n * sizeof *w->res);
        if (!w->res) { w->rescap = 0; return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); }
        w->rescap = n;
    }
    /* 1. locate: the join proper, timed on its own */
    for (size_t r = 0; r < n; r++)
        w->res[r] = (b->flags[r] & GF_ROW_HAS_POS) ? gf_join_locate(ix, b->lon[r], b->lat[r]) : -2;
    double t1 = cpu_now();
    w->cpu_locate += t1 - t0;
    w->npts += n;
    /* 2. flags, properties and counters */
    gf_status s = GF_OK;
    for (size_t r = 0; r < n && s == GF_OK; r++) {
        size_t dl;
        const char *dc = declared(j, b, r, &dl);
        int k = w->res[r], sc;
        const char *status;
        double dist = 0;
        if (k == -2 || !isfinite(b->lon[r]) || !isfinite(b->lat[r])) {
            status = "no_position";
            k = -1;
            sc = dc ? gf_join_find_code(ix, dc, dl) : -1;
            if (sc >= 0) w->cnt[(size_t)sc * K_N + K_NOPOS]++;
        } else if (k >= 0) {
            int mism = dc && !same_code(dc, dl, ix->communes[k].code);
            status = mism ? "mismatch" : "match";
            sc = k;
            if (mism) w->cnt[(size_t)sc * K_N + K_MISM]++;
        } else {
            status = "outside";
            dist = NAN;
            k = j->o.max_distance_m > 0 ? gf_join_nearest(ix, b->lon[r], b->lat[r], j->o.max_distance_m, &dist) : -1;
            sc = k;
            if (k >= 0) w->cnt[(size_t)sc * K_N + K_OUT]++;
            else dist = NAN;
        }
        s = gf_batch_set_str(b, j->f_status, r, status, strlen(status));
        if (k >= 0 && s == GF_OK) {
            const jx_commune *c = &ix->communes[k];
            s = gf_batch_set_str(b, j->f_geo, r, c->code, strlen(c->code));
            if (s == GF_OK && c->name[0]) s = gf_batch_set_str(b, j->f_nom, r, c->name, strlen(c->name));
            if (isfinite(dist)) gf_batch_set_real(b, j->f_dist, r, round(dist * 100) / 100);
            w->cnt[(size_t)k * K_N + K_ADDR]++;
            if (j->f_cert >= 0 && b->cols[j->f_cert].valid[r]) {
                w->cnt[(size_t)k * K_N + K_CERT_KNOWN]++;
                if (b->cols[j->f_cert].v.i[r]) w->cnt[(size_t)k * K_N + K_CERT]++;
            }
            if (j->f_voie >= 0 && b->cols[j->f_voie].valid[r] && b->cols[j->f_voie].v.s[r].len) {
                gf_sref v = b->cols[j->f_voie].v.s[r];
                if (set_add(&w->streets, (uint32_t)k, hash_bytes(gf_batch_str(b, v), v.len)) < 0)
                    s = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
            }
        } else if (k < 0 && strcmp(status, "no_position") != 0) {
            w->unassigned++;
        }
    }
    w->cpu_total += cpu_now() - t0;
    return s;
}

/* ------------------------------------------------------------- stats -- */

typedef struct jx_totals {
    uint64_t *cnt;     /* ncommunes * K_N */
    uint64_t *streets; /* ncommunes */
} jx_totals;

/* Both writers fill the temporary file of a (gf_atomic_create()d by the
 * caller) and leave it closed: the caller publishes it, or discards it. */
static gf_status write_csv(gf_ctx *ctx, const jx_stage *j, const jx_totals *t, gf_atomic *a)
{
    const char *path = a->path;
    FILE *f = fdopen(a->fd, "w");
    if (!f) return gf_ctx_err(ctx, GF_ERR_IO, "%s: %s", path, strerror(errno));
    a->fd = -1; /* closed with f */
    /* certified_share (certified / addresses) is empty where nothing is
     * known: no address, or no row with a certification_commune value */
    fputs("code,nom,addresses,certified,certified_share,mismatches,outside,no_position,streets\n", f);
    for (int i = 0; i < j->ix->ncommunes; i++) {
        const uint64_t *c = t->cnt + (size_t)i * K_N;
        const char *nom = j->ix->communes[i].name;
        fprintf(f, "%s,", j->ix->communes[i].code);
        if (strpbrk(nom, ",\"\n\r")) {
            fputc('"', f);
            for (const char *p = nom; *p; p++) {
                if (*p == '"') fputc('"', f);
                fputc(*p, f);
            }
            fputc('"', f);
        } else {
            fputs(nom, f);
        }
        fprintf(f, ",%llu,%llu,", (unsigned long long)c[K_ADDR], (unsigned long long)c[K_CERT]);
        if (c[K_CERT_KNOWN]) fprintf(f, "%.4f", (double)c[K_CERT] / (double)c[K_ADDR]);
        fprintf(f, ",%llu,%llu,%llu,%llu\n", (unsigned long long)c[K_MISM], (unsigned long long)c[K_OUT],
                (unsigned long long)c[K_NOPOS], (unsigned long long)t->streets[i]);
    }
    if (ferror(f) | fclose(f)) return gf_ctx_err(ctx, GF_ERR_IO, "%s: write failed", path);
    return GF_OK;
}

/* v rounded to prec decimals as a text writer rounds it (GDAL's GeoJSON
 * driver prints "%.*f" and its reader parses that back): the statistics
 * layer held in memory has the very coordinates its GeoJSON copy has. */
static double round_dec(double v, int prec)
{
    char t[400];
    if (!isfinite(v) || fabs(v) > 1e300) return v;
    snprintf(t, sizeof t, "%.*f", prec, v);
    return strtod(t, NULL);
}

static void round_geom(OGRGeometryH g, int prec)
{
    int n = OGR_G_GetGeometryCount(g);
    for (int i = 0; i < n; i++) round_geom(OGR_G_GetGeometryRef(g, i), prec);
    int np = n ? 0 : OGR_G_GetPointCount(g);
    for (int i = 0; i < np; i++)
        OGR_G_SetPoint_2D(g, i, round_dec(OGR_G_GetX(g, i), prec), round_dec(OGR_G_GetY(g, i), prec));
}

/* Creates the layer "communes" of the statistics in ds, polygons in the
 * output CRS with its coordinate precision. what names ds in messages;
 * lco: the driver's layer creation options. */
static gf_status fill_layer(gf_ctx *ctx, const jx_stage *j, const jx_totals *t, GDALDatasetH ds, const char *what,
                            char **lco)
{
    gf_gdal_errs ge; /* nested in the caller's: the first error of this layer is quoted */
    gf_gdal_enter(&ge, ctx);
    gf_status st = GF_OK;
    OGRSpatialReferenceH wgs = OSRNewSpatialReference(NULL), out = NULL;
    OGRCoordinateTransformationH ct = NULL;
    OSRImportFromEPSG(wgs, 4326);
    OSRSetAxisMappingStrategy(wgs, OAMS_TRADITIONAL_GIS_ORDER);
    if (j->o.out_srs_wkt) {
        out = OSRNewSpatialReference(NULL);
        if (OSRSetFromUserInput(out, j->o.out_srs_wkt) != OGRERR_NONE) {
            st = gf_ctx_err(ctx, GF_ERR_PROJ, "%s: output CRS not understood by GDAL", what);
            goto out;
        }
        OSRSetAxisMappingStrategy(out, OAMS_TRADITIONAL_GIS_ORDER);
        if (!OSRIsSame(out, wgs) && !(ct = OCTNewCoordinateTransformation(wgs, out))) {
            st = gf_ctx_err(ctx, GF_ERR_PROJ, "%s: no transformation to the output CRS", what);
            goto out;
        }
    }
    int prec = (j->o.out_srs_wkt ? j->o.out_geographic : 1) ? 7 : 2;
    OGRLayerH lyr = GDALDatasetCreateLayer(ds, "communes", out ? out : wgs, wkbMultiPolygon, lco);
    if (!lyr) {
        st = gf_ctx_err(ctx, GF_ERR_GDAL, "%s: cannot create the layer: %s", what, gf_gdal_msg(&ge, "no reason given"));
        goto out;
    }
    static const struct { const char *name; OGRFieldType t; } flds[] = {
        {"code", OFTString}, {"nom", OFTString}, {"addresses", OFTInteger64}, {"certified", OFTInteger64},
        {"certified_share", OFTReal}, {"mismatches", OFTInteger64}, {"outside", OFTInteger64},
        {"no_position", OFTInteger64}, {"streets", OFTInteger64}};
    for (size_t i = 0; i < sizeof flds / sizeof flds[0]; i++) {
        OGRFieldDefnH fd = OGR_Fld_Create(flds[i].name, flds[i].t);
        OGR_L_CreateField(lyr, fd, 1);
        OGR_Fld_Destroy(fd);
    }
    int pi = 0;
    for (int i = 0; i < j->ix->ncommunes && st == GF_OK; i++) {
        const uint64_t *c = t->cnt + (size_t)i * K_N;
        OGRGeometryH mp = OGR_G_CreateGeometry(wkbMultiPolygon);
        for (; pi < j->ix->npolys && j->ix->polys[pi].commune == i; pi++) {
            OGRGeometryH g = NULL;
            if (OGR_G_CreateFromWkb(j->ix->polys[pi].wkb, NULL, &g, (int)j->ix->polys[pi].wkblen) != OGRERR_NONE) continue;
            OGRwkbGeometryType gt = wkbFlatten(OGR_G_GetGeometryType(g));
            if (gt == wkbPolygon) {
                OGR_G_AddGeometryDirectly(mp, g);
                continue;
            }
            for (int k = 0; k < OGR_G_GetGeometryCount(g); k++) {
                OGRGeometryH sub = OGR_G_GetGeometryRef(g, k);
                if (wkbFlatten(OGR_G_GetGeometryType(sub)) == wkbPolygon) OGR_G_AddGeometry(mp, sub);
            }
            OGR_G_DestroyGeometry(g);
        }
        if (ct) OGR_G_Transform(mp, ct);
        round_geom(mp, prec);
        OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(lyr));
        OGR_F_SetFieldString(f, 0, j->ix->communes[i].code);
        OGR_F_SetFieldString(f, 1, j->ix->communes[i].name);
        OGR_F_SetFieldInteger64(f, 2, (GIntBig)c[K_ADDR]);
        OGR_F_SetFieldInteger64(f, 3, (GIntBig)c[K_CERT]);
        if (c[K_CERT_KNOWN]) OGR_F_SetFieldDouble(f, 4, round((double)c[K_CERT] / (double)c[K_ADDR] * 1e4) / 1e4);
        else OGR_F_SetFieldNull(f, 4);
        OGR_F_SetFieldInteger64(f, 5, (GIntBig)c[K_MISM]);
        OGR_F_SetFieldInteger64(f, 6, (GIntBig)c[K_OUT]);
        OGR_F_SetFieldInteger64(f, 7, (GIntBig)c[K_NOPOS]);
        OGR_F_SetFieldInteger64(f, 8, (GIntBig)t->streets[i]);
        OGR_F_SetGeometryDirectly(f, mp);
        if (OGR_L_CreateFeature(lyr, f) != OGRERR_NONE)
            st = gf_ctx_err(ctx, GF_ERR_GDAL, "%s: cannot write commune %s: %s", what, j->ix->communes[i].code,
                            gf_gdal_msg(&ge, "no reason given"));
        OGR_F_Destroy(f);
    }
out:
    if (ct) OCTDestroyCoordinateTransformation(ct);
    if (out) OSRDestroySpatialReference(out);
    OSRDestroySpatialReference(wgs);
    gf_gdal_leave(&ge);
    return st;
}

static gf_status write_geojson(gf_ctx *ctx, const jx_stage *j, const jx_totals *t, gf_atomic *a)
{
    const char *path = a->path, *tmp = a->tmp;
    gf_status st = gf_atomic_close(ctx, a);
    if (st) return st;
    /* GDAL writes it by name and its GeoJSON driver refuses to replace a
     * file: the random name stays reserved only for this short window */
    unlink(tmp);
    gf_gdal_register();
    gf_gdal_errs ge;
    gf_gdal_enter(&ge, ctx);
    GDALDriverH drv = GDALGetDriverByName("GeoJSON");
    GDALDatasetH ds = drv ? GDALCreate(drv, tmp, 0, 0, 0, GDT_Unknown, NULL) : NULL;
    if (!ds) {
        st = gf_ctx_err(ctx, GF_ERR_IO, "%s: cannot create: %s", path, gf_gdal_msg(&ge, "no reason given"));
    } else {
        int geographic = j->o.out_srs_wkt ? j->o.out_geographic : 1;
        char **lco = CSLSetNameValue(NULL, "COORDINATE_PRECISION", geographic ? "7" : "2");
        st = fill_layer(ctx, j, t, ds, path, lco);
        CSLDestroy(lco);
        GDALClose(ds);
    }
    gf_gdal_leave(&ge);
    return st;
}

/* Writes path under a temporary name into *a; on failure *a is discarded. */
static gf_status write_stats(gf_ctx *ctx, const jx_stage *j, const jx_totals *t, const char *path, int csv, gf_atomic *a)
{
    gf_status st = gf_atomic_create(ctx, path, 0, a);
    if (!st) st = csv ? write_csv(ctx, j, t, a) : write_geojson(ctx, j, t, a);
    if (st) gf_atomic_discard(a);
    return st;
}

static void free_workers(jx_stage *j)
{
    for (int i = 0; j->w && i < j->nworkers; i++) {
        free(j->w[i].cnt);
        free(j->w[i].res);
        set_free(&j->w[i].streets);
    }
    free(j->w);
    j->w = NULL;
}

static gf_status end(void *st, gf_ctx *ctx)
{
    jx_stage *j = st;
    if (!j->w) return GF_OK;
    int nc = j->ix->ncommunes;
    jx_totals t = {calloc((size_t)nc * K_N, sizeof *t.cnt), calloc((size_t)nc, sizeof *t.streets)};
    jx_set all = {0};
    gf_status s = GF_OK;
    if (!t.cnt || !t.streets) s = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    double loc = 0, tot = 0;
    uint64_t npts = 0, unassigned = 0;
    for (int i = 0; i < j->nworkers && s == GF_OK; i++) {
        const jx_worker *w = &j->w[i];
        for (size_t k = 0; k < (size_t)nc * K_N; k++) t.cnt[k] += w->cnt[k];
        for (size_t k = 0; k < w->streets.cap && s == GF_OK; k++)
            if (w->streets.h[k]) {
                int a = set_add(&all, w->streets.c[k], w->streets.h[k]);
                if (a < 0) s = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
                else if (a) t.streets[w->streets.c[k]]++;
            }
        loc += w->cpu_locate;
        tot += w->cpu_total;
        npts += w->npts;
        unassigned += w->unassigned;
    }
    set_free(&all);
    if (s == GF_OK && npts)
        gf_ctx_log(ctx, GF_LOG_INFO,
                   "join: %llu rows; point-in-polygon %.3f s CPU (%.2f M points/s/core), whole stage %.3f s CPU "
                   "(%.2f M rows/s/core); %llu rows in no commune within %.0f m",
                   (unsigned long long)npts, loc, loc > 0 ? (double)npts / loc * 1e-6 : 0.0, tot,
                   tot > 0 ? (double)npts / tot * 1e-6 : 0.0, (unsigned long long)unassigned, j->o.max_distance_m);
    /* --stats: renamed by publish(), with the run's other outputs */
    if (s == GF_OK && !j->aborted && j->o.stats_path)
        s = write_stats(ctx, j, &t, j->o.stats_path, strcasecmp(ext_of(j->o.stats_path), "csv") == 0, &j->stats_out);
    if (s == GF_OK && !j->aborted && j->o.layer_ds) { /* the layer the writers read at finish() */
        s = fill_layer(ctx, j, &t, j->o.layer_ds, "the communes layer", NULL); /* its own GDAL error scope */
    }
    free(t.cnt);
    free(t.streets);
    free_workers(j);
    return s;
}

static void destroy(void *st)
{
    jx_stage *j = st;
    if (!j) return;
    free_workers(j);
    if (!j->ix_borrowed) gf_join_index_destroy(j->ix);
    free(j->path);
    free(j->layer);
    free(j->code_field);
    free(j->name_field);
    free(j->stats_path);
    free(j->out_wkt);
    gf_atomic_free(&j->stats_out);
    free(j);
}

static void abort_run(void *st)
{
    ((jx_stage *)st)->aborted = 1;
}

static gf_status publish(void *st, gf_ctx *ctx)
{
    return gf_atomic_publish(ctx, &((jx_stage *)st)->stats_out);
}

const gf_stage_vt gf_join_stage_vt = {
    .name = "join",
    .start = start,
    .run = run,
    .end = end,
    .destroy = destroy,
    .abort = abort_run,
    .publish = publish,
};

const gf_join_index *gf_join_stage_index(const void *st) { return st ? ((const jx_stage *)st)->ix : NULL; }
