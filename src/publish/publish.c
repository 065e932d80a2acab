/* The publication run (include/geoflux/publish.h, docs/publish.md): the
 * submissions collected (sources.c), each commune part harmonised and
 * validated by the library's convert job (`--to-bal 1.4`), compared with
 * the published revision, judged by the guards, stored (store.c), and the
 * SITE rebuilt from the store (site.c). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "geoflux/diff.h"
#include "geoflux/engine.h"
#include "geoflux/harmonise.h"
#include "geoflux/ingest.h"
#include "geoflux/job.h"
#include "geoflux/join.h"
#include "geoflux/validate.h"
#include "geoflux/write.h"
#include "publish/pub_int.h"
#include "validate/rules.h"
#include "write/csv.h"

/* The end of a step: its time and the peak so far in the log (-v), the
 * memory its workers freed given back before the next step starts. */
#define STEP(what, ...) do { gf_ctx_log(ctx, GF_LOG_INFO, "publish: " what " (%.2f s, peak %ld MB)", __VA_ARGS__, \
                                        pb_since(&t0), pb_peak_mb()); \
                             pb_trim(); clock_gettime(CLOCK_MONOTONIC, &t0); } while (0)
/* Rows per harmonise + validate job (see step 1). */
#define PB_JOB_ROWS 200000
#define OOM(ctx) gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory")

/* ---- the perimeter ---------------------------------------------------------- */

typedef struct perimeter {
    char kind[16];     /* "department", "list", "boundaries", "" none */
    char value[256];
    char (*codes)[6];  /* sorted */
    int n;
} perimeter;

static int cmp_code(const void *a, const void *b) { return strcmp((const char *)a, (const char *)b); }

static int in_perimeter(const perimeter *pm, const char *code)
{
    if (!pm->kind[0]) return 1;
    return bsearch(code, pm->codes, (size_t)pm->n, 6, cmp_code) != NULL;
}

/* in_perimeter() as the equipment step's callback */
static int pm_inside(const void *u, const char *code) { return in_perimeter(u, code); }

static gf_status add_code(gf_ctx *ctx, perimeter *pm, const char *code, int *cap)
{
    if (pm->n == *cap) {
        *cap = *cap ? 2 * *cap : 1024;
        char(*n)[6] = realloc(pm->codes, (size_t)*cap * 6);
        if (!n) return OOM(ctx);
        pm->codes = n;
    }
    memcpy(pm->codes[pm->n++], code, 6);
    return GF_OK;
}

static int is_dept(const char *s)
{
    size_t n = strlen(s);
    if (n == 2) return (s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && strcmp(s, "20") && strcmp(s, "00"))
                       || !strcmp(s, "2A") || !strcmp(s, "2B") || !strcmp(s, "2a") || !strcmp(s, "2b");
    return n == 3 && s[0] == '9' && s[1] == '7' && s[2] >= '1' && s[2] <= '8';
}

static int has_ext(const char *p, const char *ext)
{
    size_t n = strlen(p), e = strlen(ext);
    return n > e && !strcasecmp(p + n - e, ext);
}

int pb_is_boundaries(const char *p)
{
    return has_ext(p, ".geojson") || has_ext(p, ".json") || has_ext(p, ".gpkg") || has_ext(p, ".shp")
           || has_ext(p, ".fgb");
}

static gf_status load_perimeter(gf_ctx *ctx, const char *spec, perimeter *pm)
{
    memset(pm, 0, sizeof *pm);
    if (!spec) return GF_OK;
    snprintf(pm->value, sizeof pm->value, "%s", spec);
    int cap = 0;
    gf_status st = GF_OK;
    if (is_dept(spec)) {
        snprintf(pm->kind, sizeof pm->kind, "department");
        char d[4];
        snprintf(d, sizeof d, "%s", spec);
        if (d[1] == 'a') d[1] = 'A';
        if (d[1] == 'b') d[1] = 'B';
        snprintf(pm->value, sizeof pm->value, "%s", d);
        size_t dl = strlen(d);
        for (int i = 0; i < gf_cog_count() && !st; i++) {
            const char *c = gf_cog_code(i);
            if (!strncmp(c, d, dl) && (dl == 3 || strncmp(c, "97", 2) || strcmp(d, "97"))) st = add_code(ctx, pm, c, &cap);
        }
        if (!st && !pm->n) st = gf_ctx_err(ctx, GF_ERR_ARG, "--perimeter %s: no commune of that department in the COG", spec);
    } else if (pb_is_boundaries(spec)) {
        snprintf(pm->kind, sizeof pm->kind, "boundaries");
        gf_join_opts jo = {.path = spec};
        gf_join_index *ix;
        if ((st = gf_join_index_load(ctx, &jo, &ix))) return st;
        for (int i = 0; i < gf_join_ncommunes(ix) && !st; i++) {
            char c[6];
            snprintf(c, sizeof c, "%s", gf_join_commune_code(ix, i));
            st = add_code(ctx, pm, c, &cap);
        }
        gf_join_index_destroy(ix);
    } else {
        snprintf(pm->kind, sizeof pm->kind, "list");
        FILE *f = fopen(spec, "r");
        if (!f)
            return gf_ctx_err(ctx, GF_ERR_INPUT,
                              "--perimeter %s: neither a department code (31, 2A, 974) nor a readable file (%s)", spec,
                              strerror(errno));
        char *line = NULL; /* whole lines, however long: a cut line would read as two */
        size_t linecap = 0;
        int ln = 0;
        while (!st && getline(&line, &linecap, f) >= 0) {
            ln++;
            char *p = line;
            while (*p == ' ' || *p == '\t' || *p == '"') p++;
            size_t k = 0;
            while (p[k] && p[k] != ';' && p[k] != ',' && p[k] != '\n' && p[k] != '\r' && p[k] != '"' && p[k] != ' ') k++;
            if (!k) continue;
            char c[6];
            if (k != 5) {
                if (ln == 1) continue; /* a header */
                st = gf_ctx_err(ctx, GF_ERR_INPUT, "%s:%d:1: '%.*s' is not an INSEE commune code", spec, ln, (int)k, p);
                break;
            }
            memcpy(c, p, 5);
            c[5] = 0;
            if (c[1] == 'a') c[1] = 'A';
            if (c[1] == 'b') c[1] = 'B';
            if (gf_cog_current(c) < 0 && ln == 1) continue;
            st = add_code(ctx, pm, c, &cap);
        }
        free(line);
        fclose(f);
        if (!st && !pm->n) st = gf_ctx_err(ctx, GF_ERR_INPUT, "--perimeter %s: no INSEE code in the file", spec);
    }
    if (!st) {
        qsort(pm->codes, (size_t)pm->n, 6, cmp_code);
        int k = 0;
        for (int i = 0; i < pm->n; i++)
            if (!k || strcmp(pm->codes[k - 1], pm->codes[i])) memcpy(pm->codes[k++], pm->codes[i], 6);
        pm->n = k;
    }
    return st;
}

/* ---- the run's date ------------------------------------------------------------- */

/* The run's date as written in the report and the store (out) and as
 * seconds since 1970 (*epoch: the GeoPackage's last_change): --at, else
 * now or SOURCE_DATE_EPOCH (gf_output_time(), the writers' own rule). */
static gf_status run_date(gf_ctx *ctx, const char *at, char out[64], long long *epoch)
{
    if (!at) {
        time_t t;
        gf_status st = gf_output_time(ctx, &t);
        if (st) return st;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(out, 64, "%Y-%m-%dT%H:%M:%SZ", &tm);
        *epoch = (long long)t;
        return GF_OK;
    }
    int y, mo, d, h = 0, mi = 0, s = 0, n = 0;
    size_t len = strlen(at);
    int ok = sscanf(at, "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3 && n == 10;
    if (ok && len > 10)
        ok = (at[10] == 'T' || at[10] == ' ') && sscanf(at + 11, "%2d:%2d:%2d%n", &h, &mi, &s, &n) == 3
             && (at[11 + n] == 0 || (at[11 + n] == 'Z' && at[12 + n] == 0));
    if (ok) ok = y >= 1900 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h < 24 && mi < 60 && s < 61;
    if (!ok) return gf_ctx_err(ctx, GF_ERR_ARG, "--at '%s': expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)", at);
    snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, h, mi, s);
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = s};
    *epoch = (long long)timegm(&tm);
    return GF_OK;
}

/* ---- codes counted -------------------------------------------------------------- */

typedef struct codecount { char code[80]; uint64_t n; } codecount;
typedef struct codes { codecount *v; int n, cap; } codes;

static gf_status codes_add(codes *c, const char *code, size_t len, uint64_t k)
{
    if (len >= sizeof c->v[0].code) len = sizeof c->v[0].code - 1;
    for (int i = 0; i < c->n; i++)
        if (strlen(c->v[i].code) == len && !memcmp(c->v[i].code, code, len)) {
            c->v[i].n += k;
            return GF_OK;
        }
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 16;
        codecount *n = realloc(c->v, (size_t)cap * sizeof *n);
        if (!n) return GF_ERR_NOMEM;
        c->v = n;
        c->cap = cap;
    }
    memcpy(c->v[c->n].code, code, len);
    c->v[c->n].code[len] = 0;
    c->v[c->n++].n = k;
    return GF_OK;
}

static int cmp_cc(const void *a, const void *b) { return strcmp(((const codecount *)a)->code, ((const codecount *)b)->code); }

/* Sorted "code\tcount\n" lines. */
static gf_status codes_put(const codes *c, gf_buf *out)
{
    if (c->n) qsort(c->v, (size_t)c->n, sizeof *c->v, cmp_cc);
    out->len = 0;
    gf_status st = GF_OK;
    for (int i = 0; i < c->n && !st; i++) st = gf_buf_printf(out, "%s\t%llu\n", c->v[i].code, (unsigned long long)c->v[i].n);
    gf_buf_fit(out); /* three lists per commune, kept until the report */
    return st;
}

/* ---- one part through the convert job --------------------------------------------- */

/* Row hash and certified rows of the harmonised file. */
gf_status pb_open_own_csv(gf_ctx *ctx, const char *path, gf_csv **out)
{
    gf_stream *s;
    gf_csv_opts co = {.sep = ';', .encoding = GF_ENC_UTF8};
    gf_status st = gf_stream_open(ctx, path, &s);
    return st ? st : gf_csv_open(ctx, s, &co, out);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Row hash, certified rows and distinct addresses of the harmonised file.
 * An address is identified as geoflux diff does it for two BAL 1.4 files:
 * its id_ban_adresse, else its commune, street, number and suffix. */
static gf_status scan_output(gf_ctx *ctx, pb_part *p)
{
    gf_csv *c;
    gf_status st = pb_open_own_csv(ctx, p->out, &c);
    if (st) return st;
    gf_csv_record r;
    int first = 1, cert = -1, col[5] = {-1, -1, -1, -1, -1};
    static const char *const names[5] = {"id_ban_adresse", "commune_insee", "voie_nom", "numero", "suffixe"};
    uint64_t h = 0, n = 0, *keys = NULL;
    size_t cap = 0;
    while ((st = gf_csv_next(c, ctx, &r)) == GF_OK) {
        if (first) {
            first = 0;
            for (int i = 0; i < r.nfields; i++) {
                if (r.len[i] == 21 && !memcmp(r.field[i], "certification_commune", 21)) cert = i;
                for (int k = 0; k < 5; k++)
                    if (r.len[i] == strlen(names[k]) && !memcmp(r.field[i], names[k], r.len[i])) col[k] = i;
            }
            continue;
        }
        h += pb_row_hash(r.raw, r.rawlen);
        if (cert >= 0 && cert < r.nfields && r.len[cert] == 1 && r.field[cert][0] == '1') p->certified++;
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            uint64_t *nk = realloc(keys, cap * sizeof *nk);
            if (!nk) { st = OOM(ctx); break; }
            keys = nk;
        }
        uint64_t k = 0;
        if (col[0] >= 0 && col[0] < r.nfields && r.len[col[0]]) {
            k = pb_row_hash(r.field[col[0]], r.len[col[0]]);
        } else {
            for (int f = 1; f < 5; f++)
                k = k * 0x9e3779b97f4a7c15ULL + (col[f] >= 0 && col[f] < r.nfields ? pb_row_hash(r.field[col[f]], r.len[col[f]]) : 0);
            k ^= 1; /* apart from the ids */
        }
        keys[n++] = k;
    }
    gf_csv_close(c);
    p->valid = n;
    p->row_hash = h + n * 0x9e3779b97f4a7c15ULL;
    p->addresses = 0;
    if (n) {
        qsort(keys, n, sizeof *keys, cmp_u64);
        for (uint64_t i = 0; i < n; i++) p->addresses += !i || keys[i] != keys[i - 1];
    }
    free(keys);
    return st == GF_DONE ? GF_OK : st;
}

static gf_status reason(pb_part *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static gf_status reason(pb_part *p, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    gf_status st = p->reasons.len ? gf_buf_append(&p->reasons, ", ", 2) : GF_OK;
    if (!st) st = gf_buf_json_str(&p->reasons, msg, strlen(msg));
    return st;
}

/* The harmonise stage's result for the parts of one job: counts by
 * code and the listed repairs (line;code;field;before;after), per input
 * (input k of the job is part todo[k]). */
typedef struct harm_sink {
    pb_set *set;
    const int *todo;
    int ntodo;
    codes *reps;          /* per input */
    gf_status st;
} harm_sink;

static void on_repairs(void *user, const gf_harmonise_result *r)
{
    harm_sink *h = user;
    for (size_t i = 0; i < r->ncounts && !h->st; i++) {
        const gf_harmonise_count *c = &r->counts[i];
        if (c->input >= (uint32_t)h->ntodo || c->code == GF_REPAIR_ENCODING) continue; /* encoding: from the split */
        const char *name = gf_repair_name(c->code);
        if (codes_add(&h->reps[c->input], name, strlen(name), c->rows)) h->st = GF_ERR_NOMEM;
    }
    for (size_t i = 0; i < r->nentries && !h->st; i++) {
        const gf_harmonise_entry *e = &r->entries[i];
        if (e->input >= (uint32_t)h->ntodo) continue;
        gf_buf *o = &h->set->parts[h->todo[e->input]].repair_list;
        const char *name = gf_repair_name(e->code);
        if ((!o->len && gf_buf_printf(o, "line;code;field;before;after\n"))
            || gf_buf_printf(o, "%llu;%s;", (unsigned long long)e->line, name)
            || gf_csv_put_field(o, e->field, strlen(e->field), ';', 0) || gf_buf_append(o, ";", 1)
            || gf_csv_put_field(o, e->before, strlen(e->before), ';', 0) || gf_buf_append(o, ";", 1)
            || gf_csv_put_field(o, e->after, strlen(e->after), ';', 0) || gf_buf_append(o, "\n", 1))
            h->st = GF_ERR_NOMEM;
    }
}

/* The three blobs of a part, out of memory until the store step: held
 * there, a department's compressed rows (50 bytes a row) would all be in
 * memory at once, the peak growing with the input (1.3 GB at 26M rows).
 * They wait beside the part's harmonised file, in the run's working
 * directory (SITE.geoflux-work); errors name the commune, not the file. */
static FILE *blobs_open(const pb_part *p, const char *mode)
{
    char path[4200];
    snprintf(path, sizeof path, "%s.z", p->out);
    return fopen(path, mode);
}

static gf_status blobs_spill(gf_ctx *ctx, pb_part *p)
{
    gf_buf *b[3] = {&p->zdata, &p->zrejects, &p->zrepairs};
    FILE *f = blobs_open(p, "wb");
    int ok = f != NULL;
    for (int k = 0; k < 3 && ok; k++) {
        ok &= fwrite(b[k]->p ? b[k]->p : "", 1, b[k]->len, f) == b[k]->len;
        p->zlen[k] = b[k]->len;
    }
    if (f) ok &= fclose(f) == 0;
    if (!ok)
        return gf_ctx_err(ctx, GF_ERR_OUTPUT, "commune %s: its compressed rows cannot be kept in the working directory "
                                              "beside -o until stored: %s", p->code, strerror(errno));
    for (int k = 0; k < 3; k++) gf_buf_free(b[k]);
    return GF_OK;
}

/* blobs_spill()'s blobs back, for the store. */
static gf_status blobs_load(gf_ctx *ctx, pb_part *p)
{
    gf_buf *b[3] = {&p->zdata, &p->zrejects, &p->zrepairs};
    FILE *f = blobs_open(p, "rb");
    int ok = f != NULL;
    for (int k = 0; k < 3 && ok; k++) {
        b[k]->len = 0;
        if (!p->zlen[k]) continue;
        if (gf_buf_reserve(b[k], (size_t)p->zlen[k])) {
            if (f) fclose(f);
            return OOM(ctx);
        }
        ok = fread(b[k]->p, 1, (size_t)p->zlen[k], f) == p->zlen[k];
        if (ok) b[k]->len = (size_t)p->zlen[k];
    }
    if (f) fclose(f);
    if (!ok)
        return gf_ctx_err(ctx, GF_ERR_IO, "commune %s: its compressed rows cannot be read back from the working "
                                          "directory beside -o", p->code);
    return GF_OK;
}

/* ---- a split part's rows named by the submission's file and line ----- */

/* The pairs (first line in the part's file, in the submission) of a split
 * part's rows, in order (sources.c writes them beside the part). */
typedef struct linemap {
    uint64_t *m;
    size_t n; /* pairs */
} linemap;

static gf_status linemap_load(gf_ctx *ctx, const pb_part *p, linemap *lm)
{
    gf_buf b = {0};
    memset(lm, 0, sizeof *lm);
    gf_status st = pb_read_file(ctx, p->lines, &b);
    if (st) return st;
    lm->m = (uint64_t *)(void *)b.p; /* gf_buf memory: malloc'd, aligned */
    lm->n = b.len / (2 * sizeof(uint64_t));
    return GF_OK;
}

/* The submission's line of the part's line `line` (a record's first line,
 * or one inside a record over several lines). */
static uint64_t linemap_get(const linemap *lm, uint64_t line)
{
    size_t lo = 0, hi = lm->n;
    while (lo < hi) { /* the last pair whose part line is <= line */
        size_t mid = lo + (hi - lo) / 2;
        if (lm->m[2 * mid] <= line) lo = mid + 1;
        else hi = mid;
    }
    if (!lo) return line;
    return lm->m[2 * (lo - 1) + 1] + (line - lm->m[2 * (lo - 1)]);
}

/* The part's rejects (source;line;reason;raw) with the submission's path
 * and lines in place of the part's, into out. */
static gf_status rejects_remap(gf_ctx *ctx, const pb_part *p, const char *subpath, const linemap *lm, gf_buf *out)
{
    gf_csv *c;
    gf_status st = pb_open_own_csv(ctx, p->rejects, &c);
    if (st) return st;
    gf_csv_record r;
    int first = 1;
    out->len = 0;
    while ((st = gf_csv_next(c, ctx, &r)) == GF_OK) {
        if (first || r.nfields < 4) {
            first = 0;
            if (gf_buf_append(out, r.raw, r.rawlen) || gf_buf_append(out, "\n", 1)) st = OOM(ctx);
        } else if (gf_csv_put_field(out, subpath, strlen(subpath), ';', 0) ||
                   gf_buf_printf(out, ";%llu;", (unsigned long long)linemap_get(lm, strtoull(r.field[1], NULL, 10))) ||
                   gf_csv_put_field(out, r.field[2], r.len[2], ';', 0) || gf_buf_append(out, ";", 1) ||
                   gf_csv_put_field(out, r.field[3], r.len[3], ';', 0) || gf_buf_append(out, "\n", 1)) {
            st = OOM(ctx);
        }
        if (st) break;
    }
    gf_csv_close(c);
    return st == GF_DONE ? GF_OK : st;
}

/* The repair list (line;code;field;before;after, geoflux's own CSV: a row
 * starts with its line number; quoted fields may hold newlines) with the
 * submission's lines, in place. */
static gf_status repairs_remap(gf_ctx *ctx, gf_buf *list, const linemap *lm)
{
    gf_buf out = {0};
    const char *p = list->p, *e = list->p + list->len;
    const char *nl = memchr(p, '\n', (size_t)(e - p));
    size_t hl = nl ? (size_t)(nl + 1 - p) : list->len; /* the header */
    gf_status st = gf_buf_append(&out, p, hl) ? OOM(ctx) : GF_OK;
    for (p += hl; !st && p < e;) {
        char *end;
        uint64_t line = strtoull(p, &end, 10);
        const char *q = end;
        int quoted = 0;
        for (; q < e && (quoted || *q != '\n'); q++)
            if (*q == '"') quoted = !quoted; /* "" toggles twice */
        if (q < e) q++;
        if (gf_buf_printf(&out, "%llu", (unsigned long long)linemap_get(lm, line)) ||
            gf_buf_append(&out, end, (size_t)(q - end)))
            st = OOM(ctx);
        p = q;
    }
    if (!st) {
        gf_buf_free(list);
        *list = out;
    } else {
        gf_buf_free(&out);
    }
    return st;
}

/* After the job: a part's harmonised rows (p->out) scanned and validated
 * as the reference validator sees the published file (its warnings, and a
 * last check that no error is left), its codes put in order. errs holds
 * its rejected rows' codes, reps its repairs; both are freed. */
static gf_status finish_part(gf_ctx *ctx, pb_part *p, const char *subpath, codes *errs, codes *reps)
{
    codes warns = {0};
    gf_status st = scan_output(ctx, p);
    gf_validate_report vr;
    memset(&vr, 0, sizeof vr);
    if (!st) {
        gf_validate_file_opts vo = {.profile = "1.4"};
        st = gf_validate_file(ctx, p->out, &vo, &vr);
    }
    for (size_t i = 0; !st && i < vr.ncodes; i++) {
        const gf_vcode_stat *c = &vr.codes[i];
        uint64_t k = c->rows ? c->rows : 1;
        if (c->level == GF_VL_WARN) {
            if (codes_add(&warns, c->code, strlen(c->code), k)) st = OOM(ctx);
        } else if (c->level == GF_VL_ERROR) {
            if (codes_add(errs, c->code, strlen(c->code), k)) st = OOM(ctx);
        }
    }
    if (!st && !vr.valid && p->valid) {
        p->status = PB_ST_REJECTED;
        if (reason(p, "the harmonised rows still break the reference rules (see errors): not published")) st = OOM(ctx);
    }
    gf_validate_report_free(&vr);
    if (!st && p->transcoded && codes_add(reps, "repair.encoding", 15, p->transcoded)) st = OOM(ctx);
    if (!st) st = codes_put(errs, &p->errors);
    if (!st) st = codes_put(&warns, &p->warnings);
    if (!st) st = codes_put(reps, &p->repairs);
    /* the store's blobs, compressed here, on the workers */
    gf_buf f = {0};
    if (!st) st = pb_read_file(ctx, p->out, &f);
    if (!st) {
        const char *nl = memchr(f.p, '\n', f.len);
        size_t h = nl ? (size_t)(nl - f.p) + 1 : f.len;
        st = pb_deflate(ctx, f.p + h, f.len - h, 1, &p->zdata);
    }
    /* a split part's rows are named by the submission's file and lines,
     * not by the part's scratch file */
    linemap lm = {0};
    if (!st && p->lines && (p->rejects || p->repair_list.len)) st = linemap_load(ctx, p, &lm);
    if (!st && p->lines && p->repair_list.len) st = repairs_remap(ctx, &p->repair_list, &lm);
    if (!st && p->rejects) {
        f.len = 0;
        if (p->lines) st = rejects_remap(ctx, p, subpath, &lm, &f);
        else st = pb_read_file(ctx, p->rejects, &f);
        if (!st) st = pb_deflate(ctx, f.p, f.len, 0, &p->zrejects);
    }
    free(lm.m);
    if (!st && p->repair_list.len) st = pb_deflate(ctx, p->repair_list.p, p->repair_list.len, 0, &p->zrepairs);
    gf_buf_free(&p->repair_list); /* kept compressed (zrepairs) until stored */
    gf_buf_free(&f);
    if (!st) st = blobs_spill(ctx, p);
    free(errs->v);
    free(warns.v);
    free(reps->v);
    memset(errs, 0, sizeof *errs);
    memset(reps, 0, sizeof *reps);
    return st;
}

/* msg with the split part's path, and the line after it, replaced by the
 * submission's (a message of the part's own file is the user's). */
static gf_status user_message(gf_ctx *ctx, const pb_part *p, const char *subpath, const char *msg, gf_buf *out)
{
    linemap lm = {0};
    gf_status st = p->lines ? linemap_load(ctx, p, &lm) : GF_OK;
    size_t il = strlen(p->input);
    for (const char *q = msg; !st && *q;) {
        const char *hit = p->lines ? strstr(q, p->input) : NULL;
        if (!hit) {
            if (gf_buf_append(out, q, strlen(q))) st = OOM(ctx);
            break;
        }
        if (gf_buf_append(out, q, (size_t)(hit - q)) || gf_buf_append(out, subpath, strlen(subpath))) { st = OOM(ctx); break; }
        q = hit + il;
        if (*q == ':' && q[1] >= '0' && q[1] <= '9') {
            char *end;
            uint64_t line = strtoull(q + 1, &end, 10);
            if (gf_buf_printf(out, ":%llu", (unsigned long long)linemap_get(&lm, line))) st = OOM(ctx);
            q = end;
        }
    }
    if (!st && gf_buf_append(out, "", 1)) st = OOM(ctx);
    free(lm.m);
    return st;
}

/* finish_part() as an engine task. */
typedef struct finish_task {
    pb_part *p;
    const char *subpath; /* its submission's path */
    codes *errs, *reps;
    gf_status st;
    char msg[1024];
} finish_task;

static void finish_fn(void *arg, gf_ctx *wctx, int worker)
{
    (void)worker;
    finish_task *t = arg;
    t->st = finish_part(wctx, t->p, t->subpath, t->errs, t->reps);
    if (t->st) snprintf(t->msg, sizeof t->msg, "%s", gf_ctx_errmsg(wctx));
}

/* The job's rejects (source;line;reason;raw, in input order) split by
 * part: each part's rows in scratch/rej/K.csv (p->rejects) and its
 * errors counted by code (reason "code1|code2: message"). */
static gf_status split_rejects(gf_ctx *ctx, const char *path, pb_set *set, const int *todo, int ntodo,
                               const char *scratch, codes *errs)
{
    gf_buf *bufs = calloc((size_t)(ntodo ? ntodo : 1), sizeof *bufs);
    if (!bufs) return OOM(ctx);
    gf_status st = GF_OK;
    struct stat sb;
    if (stat(path, &sb) == 0) {
        gf_csv *c = NULL;
        st = pb_open_own_csv(ctx, path, &c);
        gf_csv_record r;
        int first = 1, k = 0;
        while (!st && (st = gf_csv_next(c, ctx, &r)) == GF_OK) {
            if (first) { first = 0; continue; }
            if (r.nfields < 3) continue;
            /* the part whose input the row names: the current one, usually */
            int found = -1;
            for (int t = 0; t < ntodo && found < 0; t++) {
                int kk = (k + t) % ntodo;
                const char *in = set->parts[todo[kk]].input;
                if (strlen(in) == r.len[0] && !memcmp(in, r.field[0], r.len[0])) found = kk;
            }
            if (found < 0) continue;
            k = found;
            gf_buf *o = &bufs[k];
            if ((!o->len && gf_buf_printf(o, "source;line;reason;raw\n")) || gf_buf_append(o, r.raw, r.rawlen)
                || gf_buf_append(o, "\n", 1)) {
                st = OOM(ctx);
                break;
            }
            const char *p = r.field[2];
            size_t n = r.len[2];
            const char *colon = memchr(p, ':', n);
            n = colon && colon + 1 < p + n && colon[1] == ' ' ? (size_t)(colon - p) : 0;
            if (!n && codes_add(&errs[k], "file.parse", 10, 1)) st = OOM(ctx);
            for (const char *q = p; !st && q < p + n;) {
                const char *bar = memchr(q, '|', (size_t)(p + n - q));
                const char *e = bar ? bar : p + n;
                if (e > q && codes_add(&errs[k], q, (size_t)(e - q), 1)) st = OOM(ctx);
                q = e + 1;
            }
        }
        if (st == GF_DONE) st = GF_OK;
        if (c) gf_csv_close(c);
    }
    for (int k = 0; k < ntodo && !st; k++) {
        if (!bufs[k].len) continue;
        char rp[4300];
        snprintf(rp, sizeof rp, "%s/rej/%d.csv", scratch, k);
        pb_part *p = &set->parts[todo[k]];
        if (!(p->rejects = strdup(rp))) st = OOM(ctx);
        else st = pb_write_file(ctx, rp, bufs[k].p, bufs[k].len);
    }
    for (int k = 0; k < ntodo; k++) gf_buf_free(&bufs[k]);
    free(bufs);
    return st;
}

/* Harmonises and validates the parts todo[0..ntodo) in one convert job
 * (`--to-bal 1.4`, one file per input, the harmonise stage before the
 * validation): p->out (the rows that pass, BAL 1.4), p->rejects, counts
 * and codes. When the job cannot read one of them, each part goes through
 * a job of its own, so that the unreadable one is a rejected submission of
 * its commune and the others are published. */
static gf_status run_parts(gf_ctx *ctx, gf_engine *engine, const gf_publish_opts *o, pb_set *set, const int *todo,
                           int ntodo, const char *scratch, const gf_join_index *communes, int alone)
{
    if (!ntodo) return GF_OK;
    char dir[4300], rej[4300];
    snprintf(dir, sizeof dir, "%s/job%d", scratch, todo[0]);
    gf_status st = pb_mkdirs(ctx, dir);
    if (st) return st;
    snprintf(rej, sizeof rej, "%s/rej", scratch);
    if ((st = pb_mkdirs(ctx, rej))) return st;
    snprintf(rej, sizeof rej, "%s/job%d.rejects.csv", scratch, todo[0]);
    const char **inputs = malloc((size_t)ntodo * sizeof *inputs);
    codes *reps = calloc((size_t)ntodo, sizeof *reps), *errs = calloc((size_t)ntodo, sizeof *errs);
    if (!inputs || !reps || !errs) {
        free(inputs);
        free(reps);
        free(errs);
        return OOM(ctx);
    }
    for (int k = 0; k < ntodo; k++) inputs[k] = set->parts[todo[k]].input;
    gf_ctx *jc = NULL;
    if (gf_ctx_create(&jc)) {
        st = OOM(ctx);
        goto done;
    }
    gf_ctx_set_log(jc, NULL, NULL, GF_LOG_ERROR + 1);
    gf_convert_opts co = GF_CONVERT_OPTS_INIT;
    co.inputs = inputs;
    co.ninputs = ntodo;
    co.output = dir;
    co.to_bal = "1.4";
    co.to_bal_per_input = 1;
    co.rejects = rej;
    co.overwrite = 1;
    co.threads = o->threads;
    co.max_memory = o->max_memory; /* the validation's tables; 0: its default */
    harm_sink hs = {.set = set, .todo = todo, .ntodo = ntodo, .reps = reps};
    co.harmonise = 1;
    co.harm.communes = communes;
    co.harm.on_done = on_repairs;
    co.harm.user = &hs;
    gf_job *job = NULL;
    st = gf_job_convert(jc, &co, &job);
    if (!st) st = gf_job_run(job, NULL, NULL);
    gf_job_destroy(job);
    if (st) {
        gf_status_class k = gf_status_class_of(st);
        if (k != GF_CLASS_INPUT && k != GF_CLASS_USAGE) {
            gf_ctx_take_error(ctx, jc);
        } else if (!alone) {
            /* one of them cannot be read: each on its own */
            for (int i = 0; i < ntodo; i++) gf_buf_free(&set->parts[todo[i]].repair_list);
            st = GF_OK;
            for (int i = 0; i < ntodo && !st; i++) st = run_parts(ctx, engine, o, set, &todo[i], 1, scratch, communes, 1);
        } else {
            /* the part cannot be read: a rejected submission of this commune,
             * its reason naming the user's file and line */
            pb_part *p = &set->parts[todo[0]];
            p->status = PB_ST_REJECTED;
            p->failed = 1;
            gf_buf m = {0};
            st = user_message(ctx, p, set->subs[p->sub].path, gf_ctx_errmsg(jc), &m);
            if (!st) st = reason(p, "%s", m.p ? m.p : "") ? OOM(ctx) : GF_OK;
            gf_buf_free(&m);
        }
        goto done;
    }
    if ((st = hs.st ? OOM(ctx) : GF_OK)) goto done;
    if ((st = split_rejects(ctx, rej, set, todo, ntodo, scratch, errs))) goto done;
    for (int k = 0; k < ntodo && !st; k++) {
        pb_part *p = &set->parts[todo[k]];
        char out[4400];
        snprintf(out, sizeof out, "%s/%d.csv", dir, k);
        if (!(p->out = strdup(out))) st = OOM(ctx);
    }
    /* each part's scan, validation and compression, on the engine's workers */
    if (!st) {
        finish_task *tasks = calloc((size_t)ntodo, sizeof *tasks);
        void **args = calloc((size_t)ntodo, sizeof *args);
        if (!tasks || !args) st = OOM(ctx);
        for (int k = 0; k < ntodo && !st; k++) {
            tasks[k] = (finish_task){.p = &set->parts[todo[k]], .subpath = set->subs[set->parts[todo[k]].sub].path,
                                      .errs = &errs[k], .reps = &reps[k]};
            args[k] = &tasks[k];
        }
        if (!st) st = gf_engine_run(engine, ctx, ntodo, finish_fn, args);
        for (int k = 0; k < ntodo && !st; k++)
            if (tasks[k].st) st = gf_ctx_err(ctx, tasks[k].st, "%s", tasks[k].msg);
        free(tasks);
        free(args);
    }
done:
    for (int k = 0; k < ntodo; k++) {
        free(reps[k].v);
        free(errs[k].v);
    }
    free(reps);
    free(errs);
    free(inputs);
    gf_ctx_destroy(jc);
    return st;
}

/* Identifier stability, from the diff (addresses matched on
 * id_ban_adresse or cle_interop): an added address at the street, number
 * and suffix of a removed one is the same address under a new identifier
 * (id_changed); a modified address whose number or suffix changed is an
 * identifier now naming another address (id_reused). */
static gf_status id_stability(gf_ctx *ctx, pb_part *p)
{
    gf_csv *c;
    gf_status st = pb_open_own_csv(ctx, p->diff, &c);
    if (st) return st;
    uint64_t *gone = NULL, *added = NULL;
    size_t ng = 0, na = 0, cg = 0, ca = 0;
    gf_csv_record r;
    int first = 1;
    while ((st = gf_csv_next(c, ctx, &r)) == GF_OK) {
        if (first) { first = 0; continue; } /* change;id;commune_insee;voie_nom;numero;suffixe;fields;... */
        if (r.nfields < 7) continue;
        uint64_t k = pb_row_hash(r.field[3], r.len[3]) * 31 + pb_row_hash(r.field[4], r.len[4]) * 7
                     + pb_row_hash(r.field[5], r.len[5]);
        int rm = r.len[0] == 7 && !memcmp(r.field[0], "removed", 7), ad = r.len[0] == 5 && !memcmp(r.field[0], "added", 5);
        if (rm || ad) {
            uint64_t **v = rm ? &gone : &added;
            size_t *n = rm ? &ng : &na, *cap = rm ? &cg : &ca;
            if (*n == *cap) {
                *cap = *cap ? 2 * *cap : 256;
                uint64_t *nv = realloc(*v, *cap * sizeof *nv);
                if (!nv) { st = OOM(ctx); break; }
                *v = nv;
            }
            (*v)[(*n)++] = k;
        } else if (r.len[0] == 8 && !memcmp(r.field[0], "modified", 8)) {
            /* fields: '|'-separated names */
            const char *f = r.field[6];
            size_t fn = r.len[6];
            for (size_t i = 0; i < fn;) {
                size_t j = i;
                while (j < fn && f[j] != '|') j++;
                if ((j - i == 6 && !memcmp(f + i, "numero", 6)) || (j - i == 7 && !memcmp(f + i, "suffixe", 7))) {
                    p->id_reused++;
                    break;
                }
                i = j + 1;
            }
        }
    }
    gf_csv_close(c);
    if (st == GF_DONE) st = GF_OK;
    if (!st && ng && na) {
        qsort(gone, ng, sizeof *gone, cmp_u64);
        for (size_t i = 0; i < na; i++)
            if (bsearch(&added[i], gone, ng, sizeof *gone, cmp_u64)) p->id_changed++;
    }
    free(gone);
    free(added);
    if (!st && p->id_changed
        && reason(p, "warning: %llu addresses kept their street and number under a new identifier",
                  (unsigned long long)p->id_changed))
        st = OOM(ctx);
    if (!st && p->id_reused
        && reason(p, "warning: %llu identifiers now name another number or suffix", (unsigned long long)p->id_reused))
        st = OOM(ctx);
    return st;
}

/* The diff of part p against the published revision, into p->diff, its
 * counts into p; for a first revision, every address is added (no file). */
static gf_status diff_part(gf_ctx *ctx, gf_engine *engine, pb_store *store, pb_part *p, int pi, const pb_published *pub,
                           const char *scratch, uint64_t *old_addresses)
{
    if (!pub->revision) {
        /* a first revision: every address is new, no diff file */
        p->has_diff = 1;
        p->added = p->addresses;
        *old_addresses = 0;
        return GF_OK;
    }
    char old[4300], out[4300];
    snprintf(old, sizeof old, "%s/p%d.old.csv", scratch, pi);
    snprintf(out, sizeof out, "%s/p%d.diff.csv", scratch, pi);
    gf_status st;
    if ((st = pb_store_write_data(ctx, store, p->code, pub->revision, old))) return st;
    if (!(p->diff = strdup(out))) return OOM(ctx);
    gf_ctx *dc;
    if (gf_ctx_create(&dc)) return OOM(ctx);
    gf_ctx_set_log(dc, NULL, NULL, GF_LOG_ERROR + 1);
    /* on one of the run's workers: their PROJ objects serve from diff to
     * diff (a diff's own thread made its own: 10-30 ms a commune) */
    gf_diff_opts d = {.old_path = old, .new_path = p->out, .output = p->diff, .overwrite = 1, .threads = 1, .engine = engine};
    gf_diff_stats ds;
    st = gf_diff_run(dc, &d, &ds);
    if (st) gf_ctx_take_error(ctx, dc);
    gf_ctx_destroy(dc);
    if (st) return st;
    p->has_diff = 1;
    p->added = ds.added;
    p->removed = ds.removed;
    p->modified = ds.modified;
    p->moved = ds.moved;
    *old_addresses = ds.addresses[0];
    /* identifiers: only when addresses were matched on one */
    if (strcmp(ds.key, "commune+voie+numero") != 0) st = id_stability(ctx, p);
    return st;
}

/* ---- the report --------------------------------------------------------------------- */

static gf_status json_kv_str(gf_buf *b, const char *k, const char *v)
{
    gf_status st = gf_buf_printf(b, ",\"%s\":", k);
    if (!st) st = v ? gf_buf_json_str(b, v, strlen(v)) : gf_buf_append(b, "null", 4);
    return st;
}

/* ,"k":{...} from "code\tcount\n" lines. */
static gf_status json_codes(gf_buf *b, const char *k, const gf_buf *lines)
{
    gf_status st = gf_buf_printf(b, ",\"%s\":", k);
    return st ? st : pb_codes_json(lines, b);
}


typedef struct centry {
    char code[6];
    int status;
    int part;            /* this run's part shown, -1 none */
    pb_published pub;    /* the published revision */
} centry;

static int cmp_centry(const void *a, const void *b) { return strcmp(((const centry *)a)->code, ((const centry *)b)->code); }

/* ---- the run -------------------------------------------------------------------------- */

static gf_status check_opts(gf_ctx *ctx, const gf_publish_opts *o)
{
    if (!o->nsources) return gf_ctx_err(ctx, GF_ERR_ARG, "no source: give files or directories of submissions");
    if (!o->store) return gf_ctx_err(ctx, GF_ERR_ARG, "no revision store: --store STORE");
    if (!o->site) return gf_ctx_err(ctx, GF_ERR_ARG, "no publication directory: -o SITE");
    if (strlen(o->site) > 4000) return gf_ctx_err(ctx, GF_ERR_ARG, "-o %.40s...: path too long", o->site);
    double mv = o->min_valid, wd = o->warn_deletion, md = o->max_deletion;
    if (mv > 1 || wd > 1 || md > 1) return gf_ctx_err(ctx, GF_ERR_ARG, "--min-valid, --warn-deletion and --max-deletion are shares in [0, 1]");
    if (wd >= 0 && md >= 0 && wd > md)
        return gf_ctx_err(ctx, GF_ERR_ARG, "--warn-deletion (%g) is above --max-deletion (%g)", wd, md);
    return GF_OK;
}

gf_status gf_publish_run(gf_ctx *ctx, const gf_publish_opts *oin, gf_publish_summary *sum)
{
    memset(sum, 0, sizeof *sum);
    gf_publish_opts o = *oin;
    gf_status st = check_opts(ctx, &o);
    if (st) return st;
    if (o.min_valid < 0) o.min_valid = 0.95;
    if (o.warn_deletion < 0) o.warn_deletion = 0.2;
    if (o.max_deletion < 0) o.max_deletion = 0.8;
    if (o.warn_deletion > o.max_deletion) o.warn_deletion = o.max_deletion;
    char at[64];
    long long at_epoch = 0;
    if ((st = run_date(ctx, o.at, at, &at_epoch))) return st;
    int64_t site_run = pb_site_run(o.site);
    if (site_run < 0)
        return gf_ctx_err(ctx, GF_ERR_OUTPUT,
                          "%s: exists and holds other data than a geoflux publication: not replaced (choose another -o)",
                          o.site);
    perimeter pm;
    if ((st = load_perimeter(ctx, o.perimeter, &pm))) return st;

    pb_store *store = NULL;
    pb_set set;
    memset(&set, 0, sizeof set);
    centry *ce = NULL;
    int nce = 0;
    gf_buf rep = {0};
    char *last_report = NULL;
    gf_join_index *communes = NULL;
    gf_engine *engine = NULL;
    /* scratch: SITE.geoflux-work, beside the SITE (one file system for the
     * exchange), taken once the store is: what a killed run left there is
     * removed by the next one, and removed at the end */
    char scratch[4200];
    snprintf(scratch, sizeof scratch, "%s.geoflux-work", o.site);
    if ((st = pb_store_open(ctx, o.store, &store))) goto done_nowork;
    pb_rmtree(scratch);
    {
        /* a killed run's SITE being built, or the publication it replaced */
        char old[4200];
        snprintf(old, sizeof old, "%s.geoflux-new", o.site);
        pb_rmtree(old);
    }
    if (mkdir(scratch, 0777) != 0) {
        st = gf_ctx_err(ctx, GF_ERR_OUTPUT, "%s: cannot create a working directory beside it: %s", o.site, strerror(errno));
        goto done_nowork;
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if ((st = pb_collect(ctx, &o, at, scratch, store, &set))) goto done;
    STEP("%d submissions read, hashed and split into %d commune parts", set.nsubs, set.nparts);
    /* the boundaries, loaded once for every part's swap repair */
    if (o.communes) {
        gf_join_opts jo = {.path = o.communes};
        if ((st = gf_join_index_load(ctx, &jo, &communes))) goto done;
    }

    /* 1. each part: perimeter, commune, the very file already published;
     * the others harmonised and validated in one job */
    int *todo = malloc((size_t)(set.nparts ? set.nparts : 1) * sizeof *todo), ntodo = 0;
    if (!todo) { st = OOM(ctx); goto done; }
    for (int i = 0; i < set.nparts && !st; i++) {
        pb_part *p = &set.parts[i];
        pb_published pub;
        if ((st = pb_store_published(ctx, store, p->code, &pub))) break;
        if (!in_perimeter(&pm, p->code)) {
            p->status = PB_ST_REJECTED;
            if (reason(p, "commune %s is outside the perimeter (%s %s)", p->code, pm.kind, pm.value)) st = OOM(ctx);
            continue;
        }
        if (gf_cog_current(p->code) < 0) {
            p->status = PB_ST_REJECTED;
            if (reason(p, "%s is not a current commune code of the COG", p->code)) st = OOM(ctx);
            continue;
        }
        if (p->known || (pub.revision && !strcmp(pub.file_hash, set.subs[p->sub].hash))) {
            p->status = PB_ST_UNCHANGED; /* the very file that was published */
            continue;
        }
        p->status = PB_ST_PUBLISHED;
        todo[ntodo++] = i;
    }
    if (!st) st = gf_engine_create(ctx, &(gf_engine_opts){.threads = o.threads}, &engine);
    /* in jobs of at most PB_JOB_ROWS rows: the validation's file-wide
     * tables of a job's inputs live until its end */
    for (int a = 0, b; !st && a < ntodo; a = b) {
        uint64_t rows = set.parts[todo[a]].rows;
        for (b = a + 1; b < ntodo && rows + set.parts[todo[b]].rows <= PB_JOB_ROWS; b++) rows += set.parts[todo[b]].rows;
        st = run_parts(ctx, engine, &o, &set, todo + a, b - a, scratch, communes, 0);
    }
    free(todo);
    if (!st) STEP("%d parts harmonised and validated", ntodo);
    for (int i = 0; i < set.nparts && !st; i++) {
        pb_part *p = &set.parts[i];
        if (p->status != PB_ST_PUBLISHED) continue;
        pb_published pub;
        if ((st = pb_store_published(ctx, store, p->code, &pub))) break;
        char rh[17];
        snprintf(rh, sizeof rh, "%016llx", (unsigned long long)p->row_hash);
        if (pub.revision && !strcmp(pub.row_hash, rh)) {
            p->status = PB_ST_UNCHANGED; /* same rows, whatever their order */
            continue;
        }
        if (p->rows && (double)p->valid / (double)p->rows < o.min_valid) {
            p->status = PB_ST_REJECTED;
            if (reason(p, "%.1f %% of the rows are valid (%llu of %llu), under --min-valid %.0f %%",
                       100.0 * (double)p->valid / (double)p->rows, (unsigned long long)p->valid,
                       (unsigned long long)p->rows, 100.0 * o.min_valid))
                st = OOM(ctx);
        }
    }
    if (st) goto done;
    /* 2. several parts for one commune in this run. The same rows from
     * everybody: the first stands. One producer: the one received last
     * wins (then the later path). Several producers: --prefer's wins, else
     * every one is in conflict and the published revision stays. */
    for (int i = 0; i < set.nparts && !st; i++) {
        pb_part *p = &set.parts[i];
        if (p->status != PB_ST_PUBLISHED) continue;
        for (int j = 0; j < set.nparts && p->status == PB_ST_PUBLISHED && !st; j++) {
            pb_part *q = &set.parts[j];
            if (j == i || strcmp(p->code, q->code) || (q->status != PB_ST_PUBLISHED && q->status != PB_ST_UNCHANGED
                                                       && q->status != PB_ST_CONFLICT))
                continue;
            const pb_sub *sp = &set.subs[p->sub], *sq = &set.subs[q->sub];
            if (q->status != PB_ST_UNCHANGED && q->row_hash == p->row_hash && j < i) {
                p->status = PB_ST_UNCHANGED; /* the same rows, already taken from q */
                continue;
            }
            if (!strcmp(sp->producer, sq->producer)) {
                int later = strcmp(sp->received_at, sq->received_at);
                if (later < 0 || (later == 0 && p->sub < q->sub)) {
                    p->status = PB_ST_REJECTED;
                    if (reason(p, "superseded by %s, sent later by the same producer", sq->path)) st = OOM(ctx);
                }
                continue;
            }
            int pp = o.prefer && !strcmp(sp->producer, o.prefer), qp = o.prefer && !strcmp(sq->producer, o.prefer);
            if (pp && !qp) continue; /* q loses when its turn comes */
            p->status = PB_ST_CONFLICT;
            p->overruled = qp;
            if (qp)
                st = reason(p, "conflict with %s (%s), preferred by --prefer", sq->path, sq->producer) ? OOM(ctx) : GF_OK;
            else
                st = reason(p, "conflict: %s also sends commune %s (%s)", sq->producer, p->code, sq->path) ? OOM(ctx) : GF_OK;
        }
    }
    /* 3. deletion guards and diffs of the parts about to be published */
    for (int i = 0; i < set.nparts && !st; i++) {
        pb_part *p = &set.parts[i];
        if (p->status != PB_ST_PUBLISHED) continue;
        pb_published pub;
        uint64_t old_n = 0;
        if ((st = pb_store_published(ctx, store, p->code, &pub)) || (st = diff_part(ctx, engine, store, p, i, &pub, scratch, &old_n)))
            break;
        if (pub.revision && old_n) {
            double del = (double)p->removed / (double)old_n;
            if (del > o.max_deletion) {
                p->status = PB_ST_REJECTED;
                if (reason(p, "%.0f %% of the published addresses are gone (%llu of %llu), over --max-deletion %.0f %%: "
                              "revision %lld stays published",
                           100.0 * del, (unsigned long long)p->removed, (unsigned long long)old_n,
                           100.0 * o.max_deletion, (long long)pub.revision))
                    st = OOM(ctx);
            } else if (del > o.warn_deletion) {
                if (reason(p, "warning: %.0f %% of the published addresses are gone (%llu of %llu), over --warn-deletion %.0f %%",
                           100.0 * del, (unsigned long long)p->removed, (unsigned long long)old_n, 100.0 * o.warn_deletion))
                    st = OOM(ctx);
            }
        }
    }
    if (!st) STEP("%s", "guards and diffs");
    /* 4. store what is new */
    int stored = 0;
    for (int i = 0; i < set.nparts && !st; i++) {
        pb_part *p = &set.parts[i];
        if (p->status == PB_ST_UNCHANGED || p->failed) continue;
        if (!p->out) continue; /* never harmonised: nothing to keep */
        if (p->status != PB_ST_PUBLISHED) {
            /* refused before for the same rows: not stored twice */
            char rh[17];
            int64_t had;
            snprintf(rh, sizeof rh, "%016llx", (unsigned long long)p->row_hash);
            if ((st = pb_store_find(ctx, store, p->code, set.subs[p->sub].hash, rh, pb_status_name(p->status), &had)))
                break;
            if (had) continue;
        }
        if ((st = blobs_load(ctx, p)) || (st = pb_store_add(ctx, store, &set, p, p->status == PB_ST_PUBLISHED))) break;
        gf_buf_free(&p->zdata);
        gf_buf_free(&p->zrejects);
        gf_buf_free(&p->zrepairs);
        stored++;
    }
    /* what a failed step left in memory goes before the SITE's jobs */
    for (int i = 0; i < set.nparts; i++) {
        gf_buf_free(&set.parts[i].zdata);
        gf_buf_free(&set.parts[i].zrejects);
        gf_buf_free(&set.parts[i].zrepairs);
        gf_buf_free(&set.parts[i].repair_list);
    }
    if (st) goto done;
    /* 4b. the SCDL équipements submissions (equip.c): after the revisions,
     * so that rows without a position are geocoded against the addresses
     * this run publishes */
    {
        pb_equip_result eqr;
        if ((st = pb_equip_run(ctx, &o, store, &set, communes, pm_inside, &pm, scratch, &eqr))) goto done;
        stored += eqr.stored;
        if (eqr.stored || eqr.unchanged || eqr.rejected)
            STEP("%d equipment submissions stored, %d unchanged", eqr.stored, eqr.unchanged);
    }

    /* 5. the communes: perimeter, parts and the published ones */
    {
        int cap = pm.n + set.nparts + 16;
        ce = calloc((size_t)cap, sizeof *ce);
        if (!ce) { st = OOM(ctx); goto done; }
        for (int i = 0; i < pm.n; i++) {
            memcpy(ce[nce].code, pm.codes[i], 6);
            ce[nce].part = -1;
            ce[nce++].status = PB_ST_MISSING;
        }
        for (int i = 0; i < set.nparts; i++) {
            memcpy(ce[nce].code, set.parts[i].code, 6);
            ce[nce].part = -1;
            ce[nce++].status = PB_ST_MISSING;
        }
        qsort(ce, (size_t)nce, sizeof *ce, cmp_centry);
        int k = 0;
        for (int i = 0; i < nce; i++)
            if (!k || strcmp(ce[k - 1].code, ce[i].code)) ce[k++] = ce[i];
        nce = k;
        /* the status of a commune: what its best part says (published >
         * rejected > conflict > unchanged), or its publication */
        static const int rank[] = {[PB_ST_PUBLISHED] = 4, [PB_ST_UNCHANGED] = 1, [PB_ST_REJECTED] = 3,
                                   [PB_ST_CONFLICT] = 2, [PB_ST_MISSING] = 0, [PB_ST_ACCEPTED] = 0};
        for (int i = 0; i < set.nparts; i++) {
            centry key;
            memcpy(key.code, set.parts[i].code, 6);
            centry *c = bsearch(&key, ce, (size_t)nce, sizeof *ce, cmp_centry);
            /* a part that lost to --prefer does not make the commune's status */
            int r = set.parts[i].overruled ? -1 : rank[set.parts[i].status];
            if (c->part < 0 || r > (set.parts[c->part].overruled ? -1 : rank[set.parts[c->part].status])) c->part = i;
        }
        for (int i = 0; i < nce && !st; i++) {
            st = pb_store_published(ctx, store, ce[i].code, &ce[i].pub);
            if (ce[i].part >= 0) ce[i].status = set.parts[ce[i].part].status;
            else if (ce[i].pub.revision) ce[i].status = PB_ST_UNCHANGED;
        }
        if (st) goto done;
    }
    /* submissions' statuses */
    for (int i = 0; i < set.nsubs; i++) {
        pb_sub *s = &set.subs[i];
        if (s->status == PB_ST_REJECTED || s->kind == PB_KIND_EQUIP) continue; /* equipments: set by their step */
        int pub = 0, rej = 0, con = 0;
        for (int j = s->first_part; j < s->first_part + s->nparts; j++) {
            pub |= set.parts[j].status == PB_ST_PUBLISHED;
            rej |= set.parts[j].status == PB_ST_REJECTED;
            con |= set.parts[j].status == PB_ST_CONFLICT;
        }
        s->status = pub ? PB_ST_ACCEPTED : rej ? PB_ST_REJECTED : con ? PB_ST_CONFLICT : PB_ST_UNCHANGED;
    }
    /* the counts */
    sum->sub_total = set.nsubs;
    for (int i = 0; i < set.nsubs; i++) {
        const pb_sub *s = &set.subs[i];
        sum->sub_accepted += s->status == PB_ST_ACCEPTED;
        sum->sub_unchanged += s->status == PB_ST_UNCHANGED;
        sum->sub_rejected += s->status == PB_ST_REJECTED;
        sum->sub_conflict += s->status == PB_ST_CONFLICT;
        if (s->kind == PB_KIND_EQUIP) continue; /* counted in report.json's equipments */
        sum->rows_read += s->rows;
        sum->rows_rejected += s->rows_unplaced;
        for (int j = s->first_part; j < s->first_part + s->nparts; j++) {
            const pb_part *p = &set.parts[j];
            /* rows of a part: published when its revision is (valid ones),
             * rejected otherwise (the part's invalid rows, or all of them) */
            if (p->status == PB_ST_PUBLISHED) {
                sum->rows_published += p->valid;
                sum->rows_rejected += p->rows - p->valid;
            } else if (p->status == PB_ST_UNCHANGED) {
                sum->rows_published += p->rows; /* already published */
            } else {
                sum->rows_rejected += p->rows;
            }
        }
    }
    for (int i = 0; i < nce; i++) {
        int s = ce[i].status;
        sum->c_published += s == PB_ST_PUBLISHED;
        sum->c_unchanged += s == PB_ST_UNCHANGED;
        sum->c_rejected += s == PB_ST_REJECTED;
        sum->c_conflict += s == PB_ST_CONFLICT;
        sum->c_missing += s == PB_ST_MISSING;
    }

    /* 6. the report */
    st = gf_buf_printf(&rep, "{\"geoflux\":\"%s\"", GF_VERSION);
    if (!st) st = json_kv_str(&rep, "generated_at", at);
    if (!st) {
        st = gf_buf_printf(&rep, ",\"perimeter\":");
        if (!st && pm.kind[0]) {
            st = gf_buf_printf(&rep, "{\"kind\":\"%s\",\"value\":", pm.kind);
            if (!st) st = gf_buf_json_str(&rep, pm.value, strlen(pm.value));
            if (!st) st = gf_buf_printf(&rep, ",\"communes\":%d}", pm.n);
        } else if (!st) {
            st = gf_buf_append(&rep, "null", 4);
        }
    }
    if (!st) st = gf_buf_printf(&rep, ",\"options\":{\"min_valid\":%g,\"warn_deletion\":%g,\"max_deletion\":%g", o.min_valid,
                                o.warn_deletion, o.max_deletion);
    if (!st) st = json_kv_str(&rep, "prefer", o.prefer);
    if (!st)
        st = gf_buf_printf(&rep,
                           "},\"counts\":{\"submissions\":{\"total\":%d,\"accepted\":%d,\"unchanged\":%d,\"rejected\":%d,"
                           "\"conflict\":%d},\"communes\":{\"published\":%d,\"unchanged\":%d,\"rejected\":%d,"
                           "\"conflict\":%d,\"missing\":%d},\"rows\":{\"read\":%llu,\"published\":%llu,\"rejected\":%llu}}",
                           sum->sub_total, sum->sub_accepted, sum->sub_unchanged, sum->sub_rejected, sum->sub_conflict,
                           sum->c_published, sum->c_unchanged, sum->c_rejected, sum->c_conflict, sum->c_missing,
                           (unsigned long long)sum->rows_read, (unsigned long long)sum->rows_published,
                           (unsigned long long)sum->rows_rejected);
    if (!st) st = pb_equip_report_json(ctx, store, &rep);
    if (!st) st = gf_buf_printf(&rep, ",\"communes\":[");
    for (int i = 0; i < nce && !st; i++) {
        const centry *c = &ce[i];
        int idx = gf_cog_current(c->code);
        st = gf_buf_printf(&rep, "%s{\"code\":\"%s\"", i ? "," : "", c->code);
        if (!st) st = json_kv_str(&rep, "name", idx >= 0 ? gf_cog_name(idx) : NULL);
        if (!st) st = json_kv_str(&rep, "status", pb_status_name(c->status));
        if (st) break;
        if (c->part >= 0 && set.parts[c->part].status == PB_ST_UNCHANGED && c->pub.revision) {
            st = pb_store_entry_json(ctx, store, c->code, c->pub.revision, &rep);
            if (!st) st = gf_buf_printf(&rep, ",\"changes\":null,\"reasons\":[]}");
        } else if (c->part >= 0) {
            const pb_part *p = &set.parts[c->part];
            const pb_sub *s = &set.subs[p->sub];
            st = json_kv_str(&rep, "producer", s->producer);
            if (!st) {
                int64_t r = p->status == PB_ST_PUBLISHED ? p->revision : c->pub.revision;
                st = r ? gf_buf_printf(&rep, ",\"revision\":%lld", (long long)r) : gf_buf_printf(&rep, ",\"revision\":null");
            }
            if (!st) st = json_kv_str(&rep, "received_at", s->received_at);
            if (!st) st = json_kv_str(&rep, "file", s->path);
            uint64_t rows = p->rows, valid = p->failed ? 0 : p->valid;
            if (!st)
                st = gf_buf_printf(&rep, ",\"rows\":%llu,\"valid_rows\":%llu,\"certified_share\":%.4f",
                                   (unsigned long long)rows, (unsigned long long)valid,
                                   pb_share(p->certified, p->valid));
            if (!st) st = json_codes(&rep, "repairs", &p->repairs);
            if (!st) st = json_codes(&rep, "errors", &p->errors);
            if (!st) st = json_codes(&rep, "warnings", &p->warnings);
            if (!st) {
                if (p->has_diff)
                    st = gf_buf_printf(&rep,
                                       ",\"changes\":{\"added\":%llu,\"removed\":%llu,\"modified\":%llu,\"moved\":%llu,"
                                       "\"id_changed\":%llu,\"id_reused\":%llu}",
                                       (unsigned long long)p->added, (unsigned long long)p->removed,
                                       (unsigned long long)p->modified, (unsigned long long)p->moved,
                                       (unsigned long long)p->id_changed, (unsigned long long)p->id_reused);
                else
                    st = gf_buf_printf(&rep, ",\"changes\":null");
            }
            if (!st) st = gf_buf_printf(&rep, ",\"reasons\":[%.*s]}", (int)p->reasons.len, p->reasons.p ? p->reasons.p : "");
        } else if (c->pub.revision) {
            st = pb_store_entry_json(ctx, store, c->code, c->pub.revision, &rep);
            if (!st) st = gf_buf_printf(&rep, ",\"changes\":null,\"reasons\":[]}");
        } else {
            st = gf_buf_printf(&rep, ",\"revision\":null,\"changes\":null,\"reasons\":[]}");
        }
    }
    if (!st) st = gf_buf_printf(&rep, "],\"submissions\":[");
    for (int i = 0; i < set.nsubs && !st; i++) {
        const pb_sub *s = &set.subs[i];
        st = gf_buf_printf(&rep, "%s{\"file\":", i ? "," : "");
        if (!st) st = gf_buf_json_str(&rep, s->path, strlen(s->path));
        if (!st) st = json_kv_str(&rep, "producer", s->producer);
        if (!st) st = json_kv_str(&rep, "received_at", s->received_at);
        if (!st) st = json_kv_str(&rep, "kind", pb_kind_name(s->kind));
        if (!st) st = json_kv_str(&rep, "status", pb_status_name(s->status));
        if (!st) st = json_kv_str(&rep, "reason", s->reason);
        if (!st) st = gf_buf_printf(&rep, ",\"rows\":%llu,\"rows_without_commune\":%llu,\"communes\":[",
                                    (unsigned long long)s->rows, (unsigned long long)s->rows_unplaced);
        for (int j = s->first_part; j < s->first_part + s->nparts && !st; j++) {
            const pb_part *p = &set.parts[j];
            st = gf_buf_printf(&rep, "%s{\"code\":\"%s\",\"status\":\"%s\"}", j > s->first_part ? "," : "", p->code,
                               pb_status_name(p->status));
        }
        if (!st) st = gf_buf_append(&rep, "]", 1);
        if (!st && s->kind == PB_KIND_EQUIP) st = pb_equip_sub_json(ctx, store, s->hash, &rep);
        if (!st) st = gf_buf_append(&rep, "}", 1);
    }
    if (!st) st = gf_buf_append(&rep, "]}\n", 3);
    if (st) { st = OOM(ctx); goto done; }
    if (!(sum->report_json = strndup(rep.p, rep.len))) { st = OOM(ctx); goto done; }

    /* 7. commit, then the SITE from the store */
    int64_t run = 0;
    if (stored) {
        if ((st = pb_store_add_run(ctx, store, at, sum->report_json, &run))) goto done;
    }
    pb_test_kill("stored");
    if ((st = pb_store_commit(ctx, store))) goto done;
    pb_test_kill("committed");
    if (!stored) {
        if ((st = pb_store_last_run(ctx, store, &run, &last_report))) goto done;
    }
    STEP("%d revisions stored", stored);
    if (run && run != site_run) {
        /* the boundaries' index served the harmonising and the checks; the
         * map files' convert job joins with it too (not loaded twice) */
        st = pb_site_build(ctx, &o, engine, communes, store, run, stored ? sum->report_json : last_report, at_epoch);
        if (!st) sum->site_rebuilt = 1;
        if (!st) STEP("%s rebuilt", o.site);
    }
done:
    gf_engine_destroy(engine);
    gf_join_index_destroy(communes);
    pb_store_close(store);
    pb_set_free(&set);
    free(ce);
    free(pm.codes);
    free(last_report);
    gf_buf_free(&rep);
    pb_rmtree(scratch);
    return st;
done_nowork:
    pb_store_close(store);
    free(pm.codes);
    return st;
}

void gf_publish_summary_free(gf_publish_summary *s)
{
    if (!s) return;
    free(s->report_json);
    s->report_json = NULL;
}
