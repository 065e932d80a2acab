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
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gdal.h>
#include <ogr_api.h>
#include <cpl_conv.h>
#include <cpl_string.h>
#include <ogr_srs_api.h>
#include <sqlite3.h>
#include <zlib.h>

#include "core/gdalerr.h"
#include "geoflux/bal.h"
#include "geoflux/job.h"
#include "geoflux/web.h"
#include "job/job_int.h"
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

double pb_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) * 1e-9;
}

long pb_peak_mb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    long kb = 0;
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) kb = strtol(line + 6, NULL, 10);
    if (f) fclose(f);
    return kb / 1024;
}

void pb_trim(void)
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
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

/* A commune's own files (bal/CODE.csv, rejects/CODE.csv, repairs/CODE.csv)
 * are inflated and written on the engine's workers, SITE_BATCH communes at
 * a time; the blobs are copied first, since SQLite's pointers last only
 * until its next step. Memory: a batch's blobs (compressed; a batch is run
 * once they pass SITE_BATCH_BYTES) and a chunk per worker: the rows are
 * inflated into the file as they come, not into memory (a commune of the
 * 26M-row scale extract is 100 MB of text, a batch was 420 MB). */
#define SITE_BATCH 32
#define SITE_BATCH_BYTES ((size_t)32 << 20)
typedef struct ctask {
    const char *dir;
    char code[6];
    gf_buf data, blob[2];  /* copies of the stored blobs: rows, rejects, repairs */
    gf_status st;
    char msg[512];
} ctask;

/* The per-commune files' format: a SITE whose marker names another one
 * gives none of its files to the next build. */
#define FILES_FORMAT "files 1"

typedef struct site_build {
    const char *dir;       /* the new SITE */
    const char *old;       /* the SITE it replaces, when it lists its communes' revisions */
    char *oldlist;         /* its marker's "code revision" lines, sorted by code */
    size_t noldlist, oldpos;
    gf_buf manifest;       /* the new marker's lines */
    int64_t run;
    gf_engine *engine;     /* NULL: the tasks run on the calling thread */
    FILE *gz;              /* adresses.csv.gz: gzip members, the header's then the stored ones */
    FILE *changes;         /* changes.csv */
    int changes_header;
    gf_buf buf;
    int ncommunes;
    ctask task[SITE_BATCH];
    int ntask;
    size_t task_bytes; /* the batch's blobs */
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

/* Writes header then a blob inflated into path; keep_header_only 0: a
 * file that would hold the header line alone is not left. */
static gf_status blob_file(gf_ctx *ctx, const char *path, const char *header, const gf_buf *blob, int keep_header_only)
{
    FILE *f = fopen(path, "wb");
    if (!f) return gf_ctx_err(ctx, GF_ERR_OUTPUT, "%s: %s", path, strerror(errno));
    uint64_t lines = 0;
    gf_status st = header && fputs(header, f) == EOF ? gf_ctx_err(ctx, GF_ERR_OUTPUT, "%s: write error", path) : GF_OK;
    if (!st) st = pb_inflate_to(ctx, blob->p, blob->len, f, path, &lines);
    if (fclose(f) != 0 && !st) st = gf_ctx_err(ctx, GF_ERR_OUTPUT, "%s: write error", path);
    if (st || (!keep_header_only && lines <= 1)) unlink(path);
    return st;
}

static gf_status commune_files(gf_ctx *ctx, ctask *t)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/bal/%s.csv", t->dir, t->code);
    gf_status st = blob_file(ctx, path, gf_bal14_header, &t->data, 1);
    /* its rejected rows and its repairs (each a CSV with its header, one
     * line a row), when it has some */
    static const char *const sub[2] = {"rejects", "repairs"};
    for (int k = 0; k < 2 && !st; k++) {
        if (!t->blob[k].len) continue;
        snprintf(path, sizeof path, "%s/%s/%s.csv", t->dir, sub[k], t->code);
        st = blob_file(ctx, path, NULL, &t->blob[k], 0);
    }
    return st;
}

static void commune_task(void *arg, gf_ctx *wctx, int worker)
{
    (void)worker;
    ctask *t = arg;
    t->st = commune_files(wctx, t);
    if (t->st) snprintf(t->msg, sizeof t->msg, "%s", gf_ctx_errmsg(wctx));
}

/* Runs the batched communes' tasks; their buffers are kept for the next. */
static gf_status flush_communes(gf_ctx *ctx, site_build *b)
{
    void *args[SITE_BATCH];
    for (int i = 0; i < b->ntask; i++) args[i] = &b->task[i];
    if (b->engine) {
        gf_engine_run(b->engine, ctx, b->ntask, commune_task, args);
    } else {
        for (int i = 0; i < b->ntask; i++) commune_task(args[i], ctx, 0);
    }
    gf_status st = GF_OK;
    for (int i = 0; i < b->ntask && !st; i++)
        if (b->task[i].st) st = gf_ctx_err(ctx, b->task[i].st, "%s", b->task[i].msg);
    b->ntask = 0;
    b->task_bytes = 0;
    /* a task's buffers keep the size of the largest blobs they held: past
     * a share of the batch's bytes, given back */
    for (int i = 0; i < SITE_BATCH; i++)
        for (int k = 0; k < 3; k++) {
            gf_buf *x = k ? &b->task[i].blob[k - 1] : &b->task[i].data;
            if (x->cap > SITE_BATCH_BYTES / 8) gf_buf_free(x);
        }
    return st;
}

/* The revision of code in the old SITE's marker (lines "CODE REV\n"
 * sorted by code), 0 when it has none. The communes come in code order
 * too: one cursor walks the list once. */
static int64_t old_revision(site_build *b, const char *code)
{
    const char *end = b->oldlist + b->noldlist;
    while (b->oldlist && b->oldpos < b->noldlist) {
        const char *p = b->oldlist + b->oldpos;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl || nl - p < 7) break;
        int c = strncmp(p, code, 5);
        if (c > 0) break;
        b->oldpos = (size_t)(nl + 1 - b->oldlist);
        if (c == 0 && p[5] == ' ') return strtoll(p + 6, NULL, 10);
    }
    return 0;
}

/* A commune whose published revision is the one the old SITE holds: its
 * files are the same bytes (written from the same blobs by the same
 * format), linked instead of inflated and written again. 1: linked. */
static int link_old(const site_build *b, const char *code)
{
    static const char *const sub[3] = {"bal", "rejects", "repairs"};
    char from[4300], to[4300];
    for (int k = 0; k < 3; k++) {
        snprintf(from, sizeof from, "%s/%s/%s.csv", b->old, sub[k], code);
        snprintf(to, sizeof to, "%s/%s/%s.csv", b->dir, sub[k], code);
        if (link(from, to) == 0) continue;
        if (k > 0 && errno == ENOENT) continue; /* it has no rejects, or no repairs */
        for (int j = 0; j < k; j++) { /* undone: written as new */
            snprintf(to, sizeof to, "%s/%s/%s.csv", b->dir, sub[j], code);
            unlink(to);
        }
        return 0;
    }
    return 1;
}

static gf_status one_commune(void *u, gf_ctx *ctx, const pb_pubrow *r)
{
    site_build *b = u;
    char path[4300];
    gf_status st;
    if (gf_buf_printf(&b->manifest, "%s %lld\n", r->code, (long long)r->revision))
        return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    /* the stored rows are one gzip member: adresses.csv.gz is their
     * concatenation, no compression here */
    if (r->ndata && fwrite(r->data, 1, r->ndata, b->gz) != r->ndata)
        return gf_ctx_err(ctx, GF_ERR_OUTPUT, "%s/adresses.csv.gz: write error", b->dir);
    b->ncommunes++;
    if (r->run == b->run && r->ndiff) {
        if ((st = pb_inflate(ctx, r->diff, r->ndiff, &b->buf))) return st;
        snprintf(path, sizeof path, "%s/changes/%s.csv", b->dir, r->code);
        if ((st = pb_write_file(ctx, path, b->buf.p, b->buf.len))) return st;
        if (append_csv(b->buf.p, b->buf.len, &b->changes_header, b->changes))
            return gf_ctx_err(ctx, GF_ERR_OUTPUT, "%s/changes.csv: write error", b->dir);
    }
    if (b->old && old_revision(b, r->code) == r->revision && link_old(b, r->code)) return GF_OK;
    ctask *t = &b->task[b->ntask];
    t->dir = b->dir;
    t->st = GF_OK;
    memcpy(t->code, r->code, sizeof t->code);
    t->data.len = t->blob[0].len = t->blob[1].len = 0;
    if (gf_buf_append(&t->data, r->data, r->ndata) || gf_buf_append(&t->blob[0], r->rejects, r->nrejects)
        || gf_buf_append(&t->blob[1], r->repairs, r->nrepairs))
        return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    b->task_bytes += r->ndata + r->nrejects + r->nrepairs;
    if (++b->ntask == SITE_BATCH || b->task_bytes >= SITE_BATCH_BYTES) return flush_communes(ctx, b);
    return GF_OK;
}

/* The communes' tasks' buffers, each sized for the largest commune it met
 * (a commune's rows, inflated): freed once the communes are written, not
 * held while the map files are built. */
static void site_tasks_free(site_build *b)
{
    gf_buf_free(&b->buf);
    for (int i = 0; i < SITE_BATCH; i++) {
        gf_buf_free(&b->task[i].data);
        gf_buf_free(&b->task[i].blob[0]);
        gf_buf_free(&b->task[i].blob[1]);
    }
}

static void site_build_free(site_build *b)
{
    site_tasks_free(b);
    gf_buf_free(&b->manifest);
    free(b->oldlist);
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

/* The value of "key" in a JSON object's text (beg[0..len), geoflux's own
 * report: compact, keys unique per object): its token (a string with its
 * quotes, a number, null, or an object/array) in *v, *vlen. Only keys of
 * the object's own level are matched. Returns 0 when absent. */
static int json_member(const char *beg, size_t len, const char *key, const char **v, size_t *vlen)
{
    size_t kl = strlen(key);
    int depth = 0;
    for (size_t i = 0; i < len; i++) {
        char c = beg[i];
        if (c == '"') {
            size_t j = i + 1;
            while (j < len && beg[j] != '"') j += beg[j] == '\\' ? 2 : 1;
            if (j >= len) return 0;
            /* a key of this object: "key" then ':' */
            if (depth == 1 && j - i - 1 == kl && !memcmp(beg + i + 1, key, kl) && j + 1 < len && beg[j + 1] == ':') {
                size_t a = j + 2, b = a;
                int d = 0, instr = 0;
                for (; b < len; b++) {
                    char e = beg[b];
                    if (instr) {
                        if (e == '\\') b++;
                        else if (e == '"') { instr = 0; if (!d) { b++; break; } }
                        continue;
                    }
                    if (e == '"') instr = 1;
                    else if (e == '{' || e == '[') d++;
                    else if (e == '}' || e == ']') {
                        if (!d) break;
                        if (--d == 0) { b++; break; }
                    } else if (e == ',' && !d) break;
                }
                *v = beg + a;
                *vlen = b - a;
                return 1;
            }
            i = j;
        } else if (c == '{' || c == '[') depth++;
        else if (c == '}' || c == ']') depth--;
    }
    return 0;
}

/* A polygon's properties, flat, as docs/publish.md lists them (GIS readers
 * take nested objects as text): the report entry's scalars, then its
 * changes' counts (null when the commune has none). */
static gf_status coverage_props(const char *e, size_t elen, gf_buf *out)
{
    static const char *const top[] = {"code", "name", "status", "producer", "revision", "rows", "valid_rows",
                                      "certified_share"};
    static const char *const chg[] = {"added", "removed", "modified", "moved"};
    const char *ch = NULL, *v;
    size_t chlen = 0, vl;
    if (json_member(e, elen, "changes", &v, &vl) && vl && v[0] == '{') { ch = v; chlen = vl; }
    int bad = gf_buf_append(out, "{", 1);
    for (size_t i = 0; i < sizeof top / sizeof *top + sizeof chg / sizeof *chg; i++) {
        int t = i < sizeof top / sizeof *top;
        const char *k = t ? top[i] : chg[i - sizeof top / sizeof *top];
        int has = t ? json_member(e, elen, k, &v, &vl) : ch && json_member(ch, chlen, k, &v, &vl);
        bad |= gf_buf_printf(out, "%s\"%s\":", i ? "," : "", k) != GF_OK;
        bad |= has ? gf_buf_append(out, v, vl) : gf_buf_append(out, "null", 4);
    }
    bad |= gf_buf_append(out, "}", 1);
    return bad ? GF_ERR_NOMEM : GF_OK;
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
                    /* properties: the report's figures for the commune */
                    st = gf_buf_printf(&fb, "{\"type\":\"Feature\",\"properties\":");
                    if (!st) st = coverage_props(e, elen, &fb);
                    if (!st) st = gf_buf_printf(&fb, ",\"geometry\":%s}", gj ? gj : "null");
                    if (st) {
                        gf_buf_free(&fb);
                        st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
                    }
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

/* ---- the map files' side layers ---------------------------------------------- */

/* The run's changes as points (GDAL's Memory driver), read from the SITE's
 * changes.csv by GDAL's CSV driver: a removed address at its old position,
 * any other at its new one. */
static gf_status changes_layer(gf_ctx *ctx, const char *csv, GDALDatasetH *out)
{
    static const char *const oo[] = {"EMPTY_STRING_AS_NULL=YES", NULL};
    static const char *const drv[] = {"CSV", NULL};
    GDALDatasetH in = GDALOpenEx(csv, GDAL_OF_VECTOR | GDAL_OF_READONLY, drv, oo, NULL);
    GDALDriverH mem = GDALGetDriverByName("Memory");
    GDALDatasetH ds = mem ? GDALCreate(mem, "changes", 0, 0, 0, GDT_Unknown, NULL) : NULL;
    OGRSpatialReferenceH wgs = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(wgs, 4326);
    OSRSetAxisMappingStrategy(wgs, OAMS_TRADITIONAL_GIS_ORDER);
    OGRLayerH il = in ? GDALDatasetGetLayer(in, 0) : NULL;
    OGRLayerH ol = ds ? GDALDatasetCreateLayer(ds, "changes", wgs, wkbPoint, NULL) : NULL;
    OSRDestroySpatialReference(wgs);
    gf_status st = GF_OK;
    if (!il || !ol) {
        st = gf_ctx_err(ctx, GF_ERR_GDAL, "changes.csv: cannot be read back as a layer: %s", CPLGetLastErrorMsg());
        goto done;
    }
    OGRFeatureDefnH id = OGR_L_GetLayerDefn(il);
    int nf = OGR_FD_GetFieldCount(id);
    /* text, codes included ("01001", "2A004"), but for the distance and the positions */
    for (int i = 0; i < nf && !st; i++) {
        const char *name = OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(id, i));
        int real = !strcmp(name, "distance_m") || !strncmp(name, "old_l", 5) || !strncmp(name, "new_l", 5);
        OGRFieldDefnH fd = OGR_Fld_Create(name, real ? OFTReal : OFTString);
        if (OGR_L_CreateField(ol, fd, 1) != OGRERR_NONE)
            st = gf_ctx_err(ctx, GF_ERR_GDAL, "changes layer: %s", CPLGetLastErrorMsg());
        OGR_Fld_Destroy(fd);
    }
    int c[4];
    static const char *const xy[4] = {"new_lon", "new_lat", "old_lon", "old_lat"};
    for (int k = 0; k < 4; k++) c[k] = OGR_FD_GetFieldIndex(id, xy[k]);
    OGRFeatureDefnH od = OGR_L_GetLayerDefn(ol);
    OGRFeatureH f;
    while (!st && (f = OGR_L_GetNextFeature(il))) {
        OGRFeatureH g = OGR_F_Create(od);
        for (int i = 0; i < nf; i++)
            if (OGR_F_IsFieldSetAndNotNull(f, i)) OGR_F_SetFieldString(g, i, OGR_F_GetFieldAsString(f, i));
        for (int k = 0; k < 4; k += 2)
            if (c[k] >= 0 && c[k + 1] >= 0 && OGR_F_IsFieldSetAndNotNull(f, c[k]) && OGR_F_IsFieldSetAndNotNull(f, c[k + 1])) {
                OGRGeometryH pt = OGR_G_CreateGeometry(wkbPoint);
                OGR_G_SetPoint_2D(pt, 0, OGR_F_GetFieldAsDouble(f, c[k]), OGR_F_GetFieldAsDouble(f, c[k + 1]));
                OGR_F_SetGeometryDirectly(g, pt);
                break;
            }
        if (OGR_L_CreateFeature(ol, g) != OGRERR_NONE) st = gf_ctx_err(ctx, GF_ERR_GDAL, "changes layer: %s", CPLGetLastErrorMsg());
        OGR_F_Destroy(g);
        OGR_F_Destroy(f);
    }
done:
    if (in) GDALClose(in);
    if (st && ds) { GDALClose(ds); ds = NULL; }
    *out = ds;
    return st;
}

/* 1 when the vector file at path holds a feature (equipements.geojson is
 * written even when empty; an empty layer is left out of the map files). */
static int has_features(const char *path)
{
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    OGRLayerH l = ds ? GDALDatasetGetLayer(ds, 0) : NULL;
    int n = l ? (int)(OGR_L_GetFeatureCount(l, 1) > 0) : 0;
    if (ds) GDALClose(ds);
    return n;
}

/* The rows refused in the published communes (rejects/CODE.csv, in code
 * order) added to the GeoPackage's `rejects` table, which the convert job
 * made and left empty (its rows were validated before). */
static gf_status gpkg_add_rejects(gf_ctx *ctx, const char *gpkg, const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/rejects", dir);
    struct dirent **names = NULL;
    int n = scandir(path, &names, NULL, alphasort);
    if (n < 0) return gf_ctx_err(ctx, GF_ERR_OUTPUT, "%s: %s", path, strerror(errno));
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    gf_status st = GF_OK;
    if (sqlite3_open_v2(gpkg, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
        sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO rejects (layer, source, line, reason, raw) VALUES (?, ?, ?, ?, ?)", -1, &q,
                           NULL) != SQLITE_OK)
        st = gf_ctx_err(ctx, GF_ERR_OUTPUT, "adresses.gpkg: rejects table: %s", db ? sqlite3_errmsg(db) : "out of memory");
    for (int i = 0; i < n; i++) {
        size_t l = strlen(names[i]->d_name);
        if (!st && l > 4 && !strcmp(names[i]->d_name + l - 4, ".csv")) {
            snprintf(path, sizeof path, "%s/rejects/%s", dir, names[i]->d_name);
            gf_csv *c;
            gf_csv_record r;
            /* rejects/equipements.csv: the equipments', the others a commune's addresses */
            const char *layer = strcmp(names[i]->d_name, "equipements.csv") ? "addresses" : "equipments";
            if (!(st = pb_open_own_csv(ctx, path, &c))) {
                int first = 1;
                while (!st && (st = gf_csv_next(c, ctx, &r)) == GF_OK) {
                    if (first) { first = 0; continue; } /* source;line;reason;raw */
                    if (r.nfields < 4 || r.error) {
                        st = gf_ctx_err(ctx, GF_ERR_INTERNAL, "%s:%llu: not a rejects row", path, (unsigned long long)r.line);
                        break;
                    }
                    sqlite3_bind_text(q, 1, layer, -1, SQLITE_STATIC);
                    sqlite3_bind_text(q, 2, r.field[0], (int)r.len[0], SQLITE_STATIC);
                    sqlite3_bind_int64(q, 3, strtoll(r.field[1], NULL, 10));
                    sqlite3_bind_text(q, 4, r.field[2], (int)r.len[2], SQLITE_STATIC);
                    sqlite3_bind_text(q, 5, r.field[3], (int)r.len[3], SQLITE_STATIC);
                    if (sqlite3_step(q) != SQLITE_DONE) st = gf_ctx_err(ctx, GF_ERR_OUTPUT, "adresses.gpkg: %s", sqlite3_errmsg(db));
                    sqlite3_reset(q);
                }
                if (st == GF_DONE) st = GF_OK;
                gf_csv_close(c);
            }
        }
        free(names[i]);
    }
    free(names);
    sqlite3_finalize(q);
    if (!st && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        st = gf_ctx_err(ctx, GF_ERR_OUTPUT, "adresses.gpkg: %s", sqlite3_errmsg(db));
    sqlite3_close(db);
    return st;
}

/* One convert job from the site's bal/CODE.csv files (the manifest's
 * communes, in code order: the rows of adresses.csv.gz, in its order, but
 * already inflated by the SITE step or linked from the last SITE; reading
 * the .gz again cost its inflation, 0.5 s of CPU on the 1M-row bench) to
 * its GeoPackage and its PMTiles, in one pass, with the side layers
 * xl[0..nxl). */
/* What the map job logs about its two outputs reaches the run's log (-v:
 * their sizes, the R-tree and the tile sort spilled or not; the tiles over
 * the ceiling as warnings), named as the SITE will hold them, not in the
 * working directory; its lines about each commune's file do not. */
typedef struct map_log { gf_ctx *ctx; const char *site, *dir; } map_log;

static void map_log_fn(void *user, gf_log_level level, const char *msg)
{
    const map_log *m = user;
    size_t nd = strlen(m->dir);
    int tiles = !strncmp(msg, "tiles: ", 7) || !strncmp(msg, "tile ", 5);
    if (!tiles && (strncmp(msg, m->dir, nd) || (strncmp(msg + nd, "/adresses.gpkg", 14) && strncmp(msg + nd, "/adresses.pmtiles", 17))))
        return;
    gf_buf b = {0};
    gf_buf_printf(&b, "publish: %s", tiles ? "" : m->site);
    if (tiles) gf_buf_printf(&b, "%s/adresses.pmtiles: ", m->site);
    else msg += nd;
    for (const char *p; (p = strstr(msg, m->dir)); msg = p + nd) /* an extra layer's file: the SITE's */
        gf_buf_printf(&b, "%.*s%s", (int)(p - msg), msg, m->site);
    gf_buf_printf(&b, "%s", msg);
    if (b.p) gf_ctx_log(m->ctx, level, "%.*s", (int)b.len, b.p);
    gf_buf_free(&b);
}

static gf_status convert_map(gf_ctx *ctx, const gf_publish_opts *o, const site_build *b, const gf_join_index *communes,
                             long long at, const char *gpkg, const char *tiles, const gf_extra_layer *xl, int nxl)
{
    gf_ctx *jc;
    map_log ml = {ctx, o->site, b->dir};
    const char *more[1] = {tiles};
    char **inputs = calloc((size_t)b->ncommunes, sizeof *inputs);
    int n = 0;
    gf_status st = inputs ? GF_OK : GF_ERR_NOMEM;
    for (size_t pos = 0; !st && pos < b->manifest.len && n < b->ncommunes;) { /* "CODE REV\n" lines */
        const char *line = b->manifest.p + pos, *nl = memchr(line, '\n', b->manifest.len - pos);
        const char *sp = memchr(line, ' ', (size_t)((nl ? nl : b->manifest.p + b->manifest.len) - line));
        if (!nl || !sp) break;
        size_t len = strlen(b->dir) + (size_t)(sp - line) + 10;
        if (!(inputs[n] = malloc(len))) st = GF_ERR_NOMEM;
        else snprintf(inputs[n++], len, "%s/bal/%.*s.csv", b->dir, (int)(sp - line), line);
        pos = (size_t)(nl + 1 - b->manifest.p);
    }
    if (!st && n != b->ncommunes) st = GF_ERR_INTERNAL;
    if (st || gf_ctx_create(&jc)) {
        for (int i = 0; i < n; i++) free(inputs[i]);
        free(inputs);
        return st == GF_ERR_INTERNAL ? gf_ctx_err(ctx, st, "publish: the SITE's manifest lists %d of %d communes", n, b->ncommunes)
                                     : gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    }
    gf_ctx_set_log(jc, map_log_fn, &ml, GF_LOG_INFO);
    gf_convert_opts co = GF_CONVERT_OPTS_INIT;
    co.inputs = (const char **)inputs;
    co.ninputs = n;
    co.output = gpkg;
    co.more_outputs = more;
    co.nmore_outputs = 1;
    co.overwrite = 1;
    co.threads = o->threads;
    co.join.path = o->communes;
    co.join.index = communes;
    co.prevalidated = 1; /* the store's rows passed the reference rules */
    /* the GeoPackage's last_change: the run's date (--at), so that a
     * rebuild of the same publication gives the same bytes */
    co.time = at;
    co.extra_layers = xl;
    co.nextra_layers = nxl;
    /* the run keeps the store's rows and its report meanwhile: by default
     * the tile sort and the R-tree get 64 MB each, less than convert's
     * default; --max-memory is theirs to share */
    co.max_memory = o->max_memory ? o->max_memory : (size_t)128 << 20;
    /* the map's properties (the tiles' only): what a popup shows, not the whole BAL */
    co.attributes = "cle_interop,numero,suffixe,voie_nom,lieudit_complement_nom,commune_insee,commune_nom,"
                    "position,certification_commune,date_der_maj";
    gf_job *job = NULL;
    st = gf_job_convert(jc, &co, &job);
    /* on the run's engine: its workers' PROJ objects, made for the
     * harmonising, serve again */
    if (!st) st = gf_job_run(job, b->engine, NULL);
    gf_job_destroy(job);
    if (st) gf_ctx_take_error(ctx, jc);
    gf_ctx_destroy(jc);
    for (int i = 0; i < n; i++) free(inputs[i]);
    free(inputs);
    return st;
}

gf_status pb_site_build(gf_ctx *ctx, const gf_publish_opts *o, gf_engine *engine, const gf_join_index *communes,
                        pb_store *s, int64_t run, const char *report, long long at)
{
    char dir[4096], path[4200];
    if (strlen(o->site) > 4000) return gf_ctx_err(ctx, GF_ERR_ARG, "-o: path too long");
    /* beside SITE: the exchange is a rename within one file system */
    snprintf(dir, sizeof dir, "%s.geoflux-new", o->site);
    pb_rmtree(dir);
    gf_gdal_register(); /* GDAL's drivers: a run with nothing new to read has made no job yet */
    struct timespec t0; /* the steps' times, logged with -v: from the start of the build */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    gf_status st;
    site_build b;
    memset(&b, 0, sizeof b);
    b.dir = dir;
    b.run = run;
    b.engine = engine;
    if (pb_site_run(o->site) > 0) {
        /* the publication in place: its marker lists its communes' revisions */
        gf_buf m = {0};
        snprintf(path, sizeof path, "%s/" MARKER, o->site);
        if (pb_read_file(ctx, path, &m) == GF_OK && m.len) {
            const char *fl = memchr(m.p, '\n', m.len);
            size_t fn = strlen(FILES_FORMAT);
            if (fl && (size_t)(m.p + m.len - fl) > fn + 1 && !strncmp(fl + 1, FILES_FORMAT, fn) && fl[1 + fn] == '\n') {
                b.old = o->site;
                b.oldlist = m.p;
                b.noldlist = m.len;
                size_t skip = (size_t)(fl + 2 + fn - m.p);
                memmove(b.oldlist, b.oldlist + skip, m.len - skip);
                b.noldlist = m.len - skip;
                m.p = NULL;
            }
        }
        gf_buf_free(&m);
        gf_ctx_err(ctx, GF_OK, "%s", ""); /* an unreadable marker only means nothing is linked */
    }
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
    if (!st && b.ntask) st = flush_communes(ctx, &b);
    site_tasks_free(&b);
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
    gf_ctx_log(ctx, GF_LOG_INFO, "publish: SITE files of %d communes written (%.2f s)", b.ncommunes, pb_since(&t0));
    if (b.ncommunes) {
        /* side layers: the communes with their coverage (communes.geojson,
         * in place of the join's statistics), the run's changes, the
         * equipments when the publication has some; changes and equipments
         * in the tiles from zoom 10, where a tile holds a few communes */
        char cpath[4200], epath[4200];
        snprintf(cpath, sizeof cpath, "%s/communes.geojson", dir);
        snprintf(epath, sizeof epath, "%s/equipements.geojson", dir);
        snprintf(path, sizeof path, "%s/changes.csv", dir);
        GDALDatasetH chg = NULL;
        gf_extra_layer xl[3];
        int nxl = 0;
        struct stat sb;
        if (o->communes || (o->perimeter && pb_is_boundaries(o->perimeter)))
            xl[nxl++] = (gf_extra_layer){.name = "communes", .path = cpath};
        if ((st = changes_layer(ctx, path, &chg))) goto fail;
        xl[nxl++] = (gf_extra_layer){.name = "changes", .path = "changes.csv", .dataset = chg, .minzoom = 10};
        if (!stat(epath, &sb) && has_features(epath))
            xl[nxl++] = (gf_extra_layer){.name = "equipments", .path = epath, .minzoom = 10};
        char tpath[4200];
        snprintf(path, sizeof path, "%s/adresses.gpkg", dir);
        snprintf(tpath, sizeof tpath, "%s/adresses.pmtiles", dir);
        if (!(st = convert_map(ctx, o, &b, communes, at, path, tpath, xl, nxl))) st = gpkg_add_rejects(ctx, path, dir);
        GDALClose(chg);
        if (st) goto fail;
        gf_ctx_log(ctx, GF_LOG_INFO, "publish: adresses.gpkg and adresses.pmtiles written (%.2f s, peak %ld MB)",
                   pb_since(&t0), pb_peak_mb());
        /* the map page beside them (SITE/carte/, linked from the dashboard):
         * without the page's files installed, the SITE is published without
         * it and the run says what to install */
        gf_ctx *wc;
        if (gf_ctx_create(&wc)) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto fail; }
        gf_ctx_set_log(wc, NULL, NULL, GF_LOG_ERROR + 1);
        snprintf(path, sizeof path, "%s/carte", dir);
        gf_status ws = gf_web_install(wc, path, "../adresses.pmtiles");
        if (ws == GF_ERR_INPUT) gf_ctx_log(ctx, GF_LOG_WARN, "publish: SITE/carte/ (the map page) not written: %s", gf_ctx_errmsg(wc));
        else if (ws) { gf_ctx_take_error(ctx, wc); st = ws; }
        gf_ctx_destroy(wc);
        if (st) goto fail;
    }
    snprintf(path, sizeof path, "%s/" MARKER, dir);
    {
        /* the run, then what the next build may link: the format of the
         * communes' files and each commune's revision */
        gf_buf m = {0};
        if (gf_buf_printf(&m, "%lld\n" FILES_FORMAT "\n", (long long)run) ||
            gf_buf_append(&m, b.manifest.p ? b.manifest.p : "", b.manifest.len))
            st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        else
            st = pb_write_file(ctx, path, m.p, m.len);
        gf_buf_free(&m);
        if (st) goto fail;
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
    site_build_free(&b);
    return GF_OK;
fail:
    if (b.gz) fclose(b.gz);
    if (b.changes) fclose(b.changes);
    site_build_free(&b);
    pb_rmtree(dir);
    return st;
}
