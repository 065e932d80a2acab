/* The SITE: rebuilt from the store alone (the published revisions and the
 * report of the run that published last) in a directory beside SITE, then
 * exchanged with SITE in one renameat2(RENAME_EXCHANGE), so that a reader
 * sees the old publication or the new one, never a mix, and a run killed
 * before the exchange leaves the old one in place. The file
 * `.geoflux-publication` holds the number of the run the SITE shows: a run
 * that finds it older than the store rebuilds the SITE. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gdal.h>
#include <ogr_api.h>
#include <cpl_conv.h>
#include <cpl_string.h>
#include <ogr_srs_api.h>
#include <zlib.h>

#include "geoflux/bal.h"
#include "geoflux/job.h"
#include "publish/dashboard.h"
#include "publish/pub_int.h"

#define MARKER ".geoflux-publication"

gf_status pb_mkdirs(gf_ctx *ctx, const char *path)
{
    char p[4096];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        if (mkdir(p, 0777) != 0 && errno != EEXIST) return gf_ctx_err(ctx, GF_ERR_OUTPUT, "%s: %s", p, strerror(errno));
        *s = '/';
    }
    if (mkdir(p, 0777) != 0 && errno != EEXIST) return gf_ctx_err(ctx, GF_ERR_OUTPUT, "%s: %s", p, strerror(errno));
    return GF_OK;
}

void pb_rmtree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0) return;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d))) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
                char *c = malloc(strlen(path) + strlen(e->d_name) + 2);
                if (!c) continue;
                sprintf(c, "%s/%s", path, e->d_name);
                pb_rmtree(c);
                free(c);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

void pb_test_kill(const char *point)
{
    const char *k = getenv("GEOFLUX_TEST_KILL");
    if (k && !strcmp(k, point)) raise(SIGKILL);
}

int64_t pb_site_run(const char *site)
{
    struct stat sb;
    if (stat(site, &sb) != 0) return 0;
    if (!S_ISDIR(sb.st_mode)) return -1;
    char m[4096];
    snprintf(m, sizeof m, "%s/" MARKER, site);
    FILE *f = fopen(m, "r");
    if (f) {
        long long r = 0;
        int ok = fscanf(f, "%lld", &r) == 1;
        fclose(f);
        return ok && r > 0 ? r : 0;
    }
    DIR *d = opendir(site);
    if (!d) return -1;
    struct dirent *e;
    int empty = 1;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) empty = 0;
    closedir(d);
    return empty ? 0 : -1;
}

typedef struct site_build {
    const char *dir;       /* the new SITE */
    int64_t run;
    FILE *gz;              /* adresses.csv.gz: gzip members, the header's then the stored ones */
    FILE *changes;         /* changes.csv */
    int changes_header;
    gf_buf buf;
    int ncommunes;
} site_build;

/* Appends the data lines of a CSV (header skipped; header written once). */
static int append_csv(const char *p, size_t n, int *header_done, FILE *sink)
{
    const char *nl = memchr(p, '\n', n);
    size_t hl = nl ? (size_t)(nl - p) + 1 : n;
    const char *from = *header_done ? p + hl : p;
    size_t len = (size_t)(p + n - from);
    *header_done = 1;
    if (!len) return 0;
    return fwrite(from, 1, len, sink) != len;
}

static gf_status one_commune(void *u, gf_ctx *ctx, const pb_pubrow *r)
{
    site_build *b = u;
    char path[4300];
    /* the stored rows are one gzip member: adresses.csv.gz is their
     * concatenation, no compression here */
    if (r->ndata && fwrite(r->data, 1, r->ndata, b->gz) != r->ndata)
        return gf_ctx_err(ctx, GF_ERR_OUTPUT, "%s/adresses.csv.gz: write error", b->dir);
    gf_status st = pb_inflate(ctx, r->data, r->ndata, &b->buf);
    if (st) return st;
    snprintf(path, sizeof path, "%s/bal/%s.csv", b->dir, r->code);
    FILE *f = fopen(path, "wb");
    if (!f) return gf_ctx_err(ctx, GF_ERR_OUTPUT, "%s: %s", path, strerror(errno));
    int bad = fputs(gf_bal14_header, f) == EOF;
    bad |= b->buf.len && fwrite(b->buf.p, 1, b->buf.len, f) != b->buf.len;
    bad |= fclose(f) != 0;
    if (bad) return gf_ctx_err(ctx, GF_ERR_OUTPUT, "%s: write error", path);
    b->ncommunes++;
    /* its rejected rows and its repairs, when it has some */
    static const char *const sub[2] = {"rejects", "repairs"};
    const void *blob[2] = {r->rejects, r->repairs};
    size_t nblob[2] = {r->nrejects, r->nrepairs};
    for (int k = 0; k < 2; k++) {
        if (!nblob[k]) continue;
        if ((st = pb_inflate(ctx, blob[k], nblob[k], &b->buf))) return st;
        const char *nl = memchr(b->buf.p, '\n', b->buf.len);
        if (!nl || (size_t)(nl - b->buf.p) + 1 >= b->buf.len) continue; /* a header alone */
        snprintf(path, sizeof path, "%s/%s/%s.csv", b->dir, sub[k], r->code);
        if ((st = pb_write_file(ctx, path, b->buf.p, b->buf.len))) return st;
    }
    if (r->run == b->run && r->ndiff) {
        if ((st = pb_inflate(ctx, r->diff, r->ndiff, &b->buf))) return st;
        snprintf(path, sizeof path, "%s/changes/%s.csv", b->dir, r->code);
        if ((st = pb_write_file(ctx, path, b->buf.p, b->buf.len))) return st;
        if (append_csv(b->buf.p, b->buf.len, &b->changes_header, b->changes))
            return gf_ctx_err(ctx, GF_ERR_OUTPUT, "%s/changes.csv: write error", b->dir);
    }
    return GF_OK;
}

/* ---- communes.geojson: the boundaries with the report's figures --------------- */

/* Finds `"code":"XXXXX"` in the report's communes array and returns the
 * object's text (start, length); the report is geoflux's own, one object
 * per commune, so a scan for its opening is exact. */
static int report_entry(const char *rep, const char *code, const char **beg, size_t *len)
{
    char key[32];
    snprintf(key, sizeof key, "{\"code\":\"%s\"", code);
    const char *p = strstr(rep, key);
    if (!p) return 0;
    /* the object ends at the brace that balances it (strings escaped) */
    int depth = 0, instr = 0;
    for (const char *q = p; *q; q++) {
        if (instr) {
            if (*q == '\\' && q[1]) q++;
            else if (*q == '"') instr = 0;
            continue;
        }
        if (*q == '"') instr = 1;
        else if (*q == '{' || *q == '[') depth++;
        else if (*q == '}' || *q == ']') {
            if (--depth == 0) {
                *beg = p;
                *len = (size_t)(q - p) + 1;
                return 1;
            }
        }
    }
    return 0;
}

static gf_status communes_geojson(gf_ctx *ctx, const gf_publish_opts *o, const char *report, gf_buf *out)
{
    gf_status st = gf_buf_printf(out, "{\"type\":\"FeatureCollection\",\"features\":[");
    if (st) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    const char *bpath = o->communes;
    if (!bpath && o->perimeter && pb_is_boundaries(o->perimeter)) bpath = o->perimeter;
    int nf = 0;
    if (bpath) {
        GDALDatasetH ds = GDALOpenEx(bpath, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
        if (!ds) return gf_ctx_err(ctx, GF_ERR_INPUT, "--communes %s: not a vector dataset GDAL can open", bpath);
        OGRLayerH l = GDALDatasetGetLayer(ds, 0);
        OGRFeatureDefnH fd = l ? OGR_L_GetLayerDefn(l) : NULL;
        int cf = -1;
        static const char *const names[] = {"code", "insee", "INSEE_COM", "code_insee", "INSEE_COMM", "codgeo", "CODGEO"};
        for (size_t i = 0; fd && cf < 0 && i < sizeof names / sizeof names[0]; i++) cf = OGR_FD_GetFieldIndex(fd, names[i]);
        if (cf < 0) {
            GDALClose(ds);
            return gf_ctx_err(ctx, GF_ERR_INPUT, "--communes %s: no commune code field (code, insee, INSEE_COM...)", bpath);
        }
        /* polygons in WGS 84, longitude first */
        OGRSpatialReferenceH wgs = OSRNewSpatialReference(NULL);
        OSRSetWellKnownGeogCS(wgs, "WGS84");
        OSRSetAxisMappingStrategy(wgs, OAMS_TRADITIONAL_GIS_ORDER);
        OGRSpatialReferenceH lsrs = OGR_L_GetSpatialRef(l);
        OGRCoordinateTransformationH ct = lsrs ? OCTNewCoordinateTransformation(lsrs, wgs) : NULL;
        char **jopts = CSLSetNameValue(NULL, "COORDINATE_PRECISION", "6");
        /* features sorted by code: collect and sort */
        typedef struct { char code[6]; char *json; } feat;
        feat *fs = NULL;
        int n = 0, cap = 0;
        OGR_L_ResetReading(l);
        OGRFeatureH f;
        while (!st && (f = OGR_L_GetNextFeature(l))) {
            const char *code = OGR_F_GetFieldAsString(f, cf);
            const char *e;
            size_t elen;
            if (strlen(code) == 5 && report_entry(report, code, &e, &elen)) {
                OGRGeometryH g = OGR_F_GetGeometryRef(f);
                char *gj = NULL;
                if (g) {
                    OGRGeometryH gc = OGR_G_Clone(g);
                    if (ct) OGR_G_Transform(gc, ct);
                    gj = OGR_G_ExportToJsonEx(gc, jopts);
                    OGR_G_DestroyGeometry(gc);
                }
                if (n == cap) {
                    cap = cap ? 2 * cap : 256;
                    feat *nn = realloc(fs, (size_t)cap * sizeof *nn);
                    if (!nn) st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
                    else fs = nn;
                }
                if (!st) {
                    gf_buf fb = {0};
                    /* properties: the report's entry for the commune */
                    st = gf_buf_printf(&fb, "{\"type\":\"Feature\",\"properties\":%.*s,\"geometry\":%s}", (int)elen, e,
                                       gj ? gj : "null");
                    if (st) st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
                    else {
                        memcpy(fs[n].code, code, 6);
                        fs[n++].json = fb.p;
                    }
                }
                CPLFree(gj);
            }
            OGR_F_Destroy(f);
        }
        CSLDestroy(jopts);
        if (ct) OCTDestroyCoordinateTransformation(ct);
        OSRDestroySpatialReference(wgs);
        GDALClose(ds);
        for (int i = 1; i < n; i++) /* insertion sort by code: the files come nearly sorted */
            for (int j = i; j > 0 && strcmp(fs[j - 1].code, fs[j].code) > 0; j--) {
                feat t = fs[j];
                fs[j] = fs[j - 1];
                fs[j - 1] = t;
            }
        for (int i = 0; i < n; i++) {
            if (!st && ((nf++ && gf_buf_append(out, ",\n", 2)) || gf_buf_append(out, fs[i].json, strlen(fs[i].json))))
                st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
            free(fs[i].json);
        }
        free(fs);
    }
    if (!st && gf_buf_printf(out, "]}\n")) st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    return st;
}

/* A convert job from the site's adresses.csv.gz to one of its files. */
static gf_status convert_to(gf_ctx *ctx, const gf_publish_opts *o, const char *csv, const char *out, int tiles)
{
    gf_ctx *jc;
    if (gf_ctx_create(&jc)) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    gf_ctx_set_log(jc, NULL, NULL, GF_LOG_ERROR + 1);
    const char *inputs[1] = {csv};
    gf_convert_opts co = GF_CONVERT_OPTS_INIT;
    co.inputs = inputs;
    co.ninputs = 1;
    co.output = out;
    co.overwrite = 1;
    co.threads = o->threads;
    co.tiles_only = tiles;
    co.join.path = o->communes;
    co.prevalidated = 1; /* the store's rows passed the reference rules */
    /* the run keeps the store's rows and its report meanwhile: the tile sort
     * and the R-tree get a smaller share than convert's default */
    co.max_memory = (size_t)64 << 20;
    /* the map's properties: what a popup shows, not the whole BAL */
    if (tiles) co.attributes = "cle_interop,numero,suffixe,voie_nom,lieudit_complement_nom,commune_insee,commune_nom,"
                               "position,certification_commune,date_der_maj";
    gf_job *job = NULL;
    gf_status st = gf_job_convert(jc, &co, &job);
    if (!st) st = gf_job_run(job, NULL, NULL);
    gf_job_destroy(job);
    if (st) gf_ctx_take_error(ctx, jc);
    gf_ctx_destroy(jc);
    return st;
}

gf_status pb_site_build(gf_ctx *ctx, const gf_publish_opts *o, pb_store *s, int64_t run, const char *report)
{
    char dir[4096], path[4200];
    if (strlen(o->site) > 4000) return gf_ctx_err(ctx, GF_ERR_ARG, "-o: path too long");
    /* beside SITE: the exchange is a rename within one file system */
    snprintf(dir, sizeof dir, "%s.geoflux-new", o->site);
    pb_rmtree(dir);
    gf_status st;
    site_build b;
    memset(&b, 0, sizeof b);
    b.dir = dir;
    b.run = run;
    if ((st = pb_mkdirs(ctx, dir))) return st;
    snprintf(path, sizeof path, "%s/bal", dir);
    if ((st = pb_mkdirs(ctx, path))) goto fail;
    static const char *const subdirs[] = {"changes", "rejects", "repairs"};
    for (int k = 0; k < 3; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, subdirs[k]);
        if ((st = pb_mkdirs(ctx, path))) goto fail;
    }
    char gzpath[4200];
    snprintf(gzpath, sizeof gzpath, "%s/adresses.csv.gz", dir);
    /* a gzip file may hold several members, read as one stream: the
     * header's, then each commune's as stored (zlib writes no time stamp
     * in them: same rows, same bytes) */
    {
        gf_buf hz = {0};
        if (!(b.gz = fopen(gzpath, "wb"))) {
            st = gf_ctx_err(ctx, GF_ERR_OUTPUT, "%s: %s", gzpath, strerror(errno));
            goto fail;
        }
        st = pb_deflate(ctx, gf_bal14_header, strlen(gf_bal14_header), 1, &hz);
        if (!st && fwrite(hz.p, 1, hz.len, b.gz) != hz.len) st = gf_ctx_err(ctx, GF_ERR_OUTPUT, "%s: write error", gzpath);
        gf_buf_free(&hz);
        if (st) goto fail;
    }
    snprintf(path, sizeof path, "%s/changes.csv", dir);
    if (!(b.changes = fopen(path, "wb"))) {
        st = gf_ctx_err(ctx, GF_ERR_OUTPUT, "%s: %s", path, strerror(errno));
        goto fail;
    }
    st = pb_store_each_published(ctx, s, one_commune, &b);
    if (!b.changes_header) {
        static const char h[] = "change;id;commune_insee;voie_nom;numero;suffixe;fields;distance_m;old_lon;old_lat;new_lon;new_lat\n";
        if (fwrite(h, 1, sizeof h - 1, b.changes) != sizeof h - 1) st = gf_ctx_err(ctx, GF_ERR_OUTPUT, "changes.csv: write error");
    }
    if (fclose(b.changes) != 0 && !st) st = gf_ctx_err(ctx, GF_ERR_OUTPUT, "%s/changes.csv: write error", dir);
    b.changes = NULL;
    if (fclose(b.gz) != 0 && !st) st = gf_ctx_err(ctx, GF_ERR_OUTPUT, "%s: write error", gzpath);
    b.gz = NULL;
    if (st) goto fail;
    /* equipements.csv, equipements.geojson, rejects/equipements.csv (equip.c) */
    if ((st = pb_equip_site(ctx, s, dir))) goto fail;
    /* report.json, communes.geojson, data.js */
    snprintf(path, sizeof path, "%s/report.json", dir);
    if ((st = pb_write_file(ctx, path, report, strlen(report)))) goto fail;
    gf_buf cg = {0}, js = {0};
    st = communes_geojson(ctx, o, report, &cg);
    if (!st) {
        snprintf(path, sizeof path, "%s/communes.geojson", dir);
        st = pb_write_file(ctx, path, cg.p, cg.len);
    }
    if (!st) {
        size_t rl = strlen(report);
        while (rl && report[rl - 1] == '\n') rl--;
        size_t cl = cg.len;
        while (cl && cg.p[cl - 1] == '\n') cl--;
        if (gf_buf_printf(&js, "window.GF_REPORT = %.*s;\nwindow.GF_COMMUNES = %.*s;\n", (int)rl, report, (int)cl, cg.p))
            st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        else {
            snprintf(path, sizeof path, "%s/data.js", dir);
            st = pb_write_file(ctx, path, js.p, js.len);
        }
    }
    gf_buf_free(&cg);
    gf_buf_free(&js);
    if (!st) st = gf_dashboard_write(ctx, dir);
    if (st) goto fail;
    /* the map files, from the published rows */
    gf_ctx_log(ctx, GF_LOG_INFO, "publish: SITE files of %d communes written", b.ncommunes);
    if (b.ncommunes) {
        snprintf(path, sizeof path, "%s/adresses.gpkg", dir);
        if ((st = convert_to(ctx, o, gzpath, path, 0))) goto fail;
        gf_ctx_log(ctx, GF_LOG_INFO, "publish: adresses.gpkg written");
        snprintf(path, sizeof path, "%s/adresses.pmtiles", dir);
        if ((st = convert_to(ctx, o, gzpath, path, 1))) goto fail;
        gf_ctx_log(ctx, GF_LOG_INFO, "publish: adresses.pmtiles written");
    }
    snprintf(path, sizeof path, "%s/" MARKER, dir);
    {
        char m[32];
        int n = snprintf(m, sizeof m, "%lld\n", (long long)run);
        if ((st = pb_write_file(ctx, path, m, (size_t)n))) goto fail;
    }
    pb_test_kill("built");
    /* the exchange */
    if (renameat2(AT_FDCWD, dir, AT_FDCWD, o->site, RENAME_EXCHANGE) != 0) {
        if (errno != ENOENT || rename(dir, o->site) != 0) {
            st = gf_ctx_err(ctx, GF_ERR_OUTPUT, "%s: cannot be replaced: %s", o->site, strerror(errno));
            goto fail;
        }
    }
    pb_test_kill("exchanged");
    pb_rmtree(dir); /* the old publication, now under the new one's name */
    gf_buf_free(&b.buf);
    return GF_OK;
fail:
    if (b.gz) fclose(b.gz);
    if (b.changes) fclose(b.changes);
    gf_buf_free(&b.buf);
    pb_rmtree(dir);
    return st;
}
