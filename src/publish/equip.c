/* SCDL équipements in `geoflux publish` (docs/publish.md, "Equipments"):
 * the run's equipment step (each new submission read by the library's table
 * reader and SCDL validation stage, its rows placed in their commune, their
 * positions checked, repaired or geocoded, and stored), the current set
 * (newest submission wins per EQUIP_UID) and the SITE's equipment files.
 *
 * Everything lives in the revision store, in the run's one transaction:
 * equip_submissions (one per file hash), equip_rows (the accepted rows of
 * each), equip_rejects, equip_codes (warnings and errors counted by code)
 * and equipments (the current set: which row stands for each EQUIP_UID).
 * The SITE's files are written from these tables alone, so the SITE stays a
 * function of the store. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <proj.h>
#include <sqlite3.h>

#include "geoflux/bal.h"
#include "geoflux/equipment.h"
#include "geoflux/geocode.h"
#include "geoflux/join.h"
#include "ingest/parse.h"
#include "publish/pub_int.h"
#include "validate/rules.h"
#include "write/csv.h"

/* A geocoded position is taken when the result is an address, a street or a
 * place (not a commune alone) scoring at least this (gf_gc_result.score:
 * street similarity x commune confidence x number match, geocode.h). 0.7
 * admits a typed abbreviation or a missing accent on the right number
 * ("R. des Acacias", "AV JULES TRICAULT") and the street's position when
 * the number is unknown (0.8-0.9), and refuses a street found only loosely
 * (a third of its letters wrong). */
#define PB_EQUIP_MIN_SCORE 0.7

#define OOM(ctx) gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory")

/* The columns of SCDL équipements 0.1.5, in the schema's order
 * (data/samples/schemas/equipements-0.1.5-schema.json): equipements.csv's
 * first columns, whatever the layout submitted. */
enum { E_COLL_NOM, E_COLL_SIRET, E_UID, E_THEME, E_CODE, E_TYPE, E_NOM, E_NUM, E_VOIE, E_CP, E_COMMUNE, E_CLE, E_ERP_ID,
       E_ERP_TYPE, E_ERP_CAT, E_LAT, E_LON, E_OUVERTURE, E_TEL, E_EMAIL, E_WEB, NSCDL };
static const char *const scdl[NSCDL] = {"COLL_NOM", "COLL_SIRET", "EQUIP_UID", "EQUIP_THEME", "EQUIP_CODE",
    "EQUIP_TYPE", "EQUIP_NOM", "ADR_NUMERO", "ADR_NOMVOIE", "ADR_CODEPOSTAL", "ADR_COMMUNE", "ADR_CLE_INTEROP",
    "ERP_ID", "ERP_TYPE", "ERP_CATEGORIE", "EQUIP_LAT", "EQUIP_LONG", "EQUIP_OUVERTURE", "EQUIP_TEL", "EQUIP_EMAIL",
    "EQUIP_WEB"};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS equip_submissions (file_hash TEXT PRIMARY KEY, run INTEGER NOT NULL,"
    " producer TEXT NOT NULL, received_at TEXT NOT NULL, file TEXT NOT NULL, layout TEXT NOT NULL,"
    " rows INTEGER NOT NULL, accepted INTEGER NOT NULL, rejected INTEGER NOT NULL, reason TEXT,"
    " current INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS equip_rows (file_hash TEXT NOT NULL, line INTEGER NOT NULL, uid TEXT NOT NULL,"
    " commune TEXT, csv TEXT NOT NULL, props TEXT NOT NULL, lon REAL, lat REAL, position_source TEXT NOT NULL,"
    " score REAL, label TEXT, flags TEXT NOT NULL, PRIMARY KEY (file_hash, line));"
    "CREATE TABLE IF NOT EXISTS equip_rejects (file_hash TEXT NOT NULL, line INTEGER NOT NULL, reason TEXT NOT NULL,"
    " raw TEXT NOT NULL, PRIMARY KEY (file_hash, line));"
    "CREATE TABLE IF NOT EXISTS equip_codes (file_hash TEXT NOT NULL, level TEXT NOT NULL, code TEXT NOT NULL,"
    " n INTEGER NOT NULL, PRIMARY KEY (file_hash, level, code));"
    "CREATE TABLE IF NOT EXISTS equipments (uid TEXT PRIMARY KEY, file_hash TEXT NOT NULL, line INTEGER NOT NULL);";

static gf_status sqlerr(gf_ctx *ctx, pb_store *s, const char *what)
{
    return gf_ctx_err(ctx, GF_ERR_SQL, "store %s: %s: %s", pb_store_path(s), what, sqlite3_errmsg(pb_store_db(s)));
}

static gf_status exec(gf_ctx *ctx, pb_store *s, const char *sql, const char *what)
{
    return sqlite3_exec(pb_store_db(s), sql, NULL, NULL, NULL) == SQLITE_OK ? GF_OK : sqlerr(ctx, s, what);
}

/* ---- communes by name ---------------------------------------------------------- */

typedef struct name_entry { char norm[96]; char code[6]; } name_entry;

static int cmp_name(const void *a, const void *b)
{
    const name_entry *x = a, *y = b;
    int c = strcmp(x->norm, y->norm);
    return c ? c : strcmp(x->code, y->code);
}

/* The commune of an equipment without an INSEE code is found by its
 * ADR_COMMUNE: normalised as the geocoder does (case, accents, articles,
 * "St" for "Saint"), it must equal the normalised name of exactly one
 * commune of the boundaries (or of the COG when no boundaries are given);
 * several communes of that name are told apart by the department that
 * ADR_CODEPOSTAL starts with (20 for Corsica's 2A and 2B, three digits
 * overseas). Otherwise the commune is unknown and the row flagged
 * commune.inconnue. */
typedef struct names { name_entry *v; size_t n; } names;

static gf_status names_build(gf_ctx *ctx, const gf_join_index *b, names *out)
{
    size_t n = b ? (size_t)gf_join_ncommunes(b) : (size_t)gf_cog_count();
    out->v = calloc(n ? n : 1, sizeof *out->v);
    if (!out->v) return OOM(ctx);
    out->n = 0;
    for (size_t i = 0; i < n; i++) {
        const char *code = b ? gf_join_commune_code(b, (int)i) : gf_cog_code((int)i);
        const char *name = b ? gf_join_commune_name(b, (int)i) : gf_cog_name((int)i);
        if (!name || !*name || strlen(code) != 5) continue;
        name_entry *e = &out->v[out->n++];
        gf_gc_normalize(name, strlen(name), e->norm, sizeof e->norm);
        memcpy(e->code, code, 6);
    }
    qsort(out->v, out->n, sizeof *out->v, cmp_name);
    return GF_OK;
}

static int dept_match(const char *code, const char *cp, size_t cpn)
{
    if (cpn != 5) return 0;
    if (!strncmp(cp, "97", 2)) return !strncmp(code, cp, 3);
    if (!strncmp(cp, "20", 2)) return code[0] == '2' && (code[1] == 'A' || code[1] == 'B');
    return !strncmp(code, cp, 2);
}

/* code[6] of the commune named (p, n), "" when none or several. */
static void names_find(const names *nm, const char *p, size_t n, const char *cp, size_t cpn, char code[6])
{
    code[0] = 0;
    name_entry key;
    memset(&key, 0, sizeof key);
    gf_gc_normalize(p, n, key.norm, sizeof key.norm);
    if (!key.norm[0]) return;
    size_t lo = 0, hi = nm->n; /* first entry >= key (code "" sorts first) */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cmp_name(&nm->v[mid], &key) < 0) lo = mid + 1;
        else hi = mid;
    }
    int found = 0, in_dept = 0;
    const char *any = NULL, *dept = NULL;
    for (size_t i = lo; i < nm->n && !strcmp(nm->v[i].norm, key.norm); i++) {
        found++;
        any = nm->v[i].code;
        if (dept_match(nm->v[i].code, cp, cpn)) { in_dept++; dept = nm->v[i].code; }
    }
    if (found == 1) memcpy(code, any, 6);
    else if (in_dept == 1) memcpy(code, dept, 6);
}

/* ---- the step's state ----------------------------------------------------------- */

typedef struct eq_run {
    gf_ctx *ctx;
    const gf_publish_opts *o;
    pb_store *s;
    const gf_join_index *bounds;     /* NULL: positions are not checked */
    int (*inside)(const void *u, const char *code);
    const void *u;
    const char *scratch;
    names nm;                        /* built on first use */
    int nm_built;
    gf_gc_index *gc;                 /* built on first row without a position */
    gf_gc_scratch *gcs;
    int gc_built;
    PJ *l93;                         /* Lambert-93 -> WGS 84, for the older template's EQUIP_X/EQUIP_Y */
    sqlite3_stmt *ins_row, *ins_rej, *ins_code;
    gf_buf csv, props;
} eq_run;

/* The publication's addresses (the store's published rows, this run's
 * included) as one gzip file, the way the SITE's adresses.csv.gz is made:
 * the header's member, then each commune's stored member as it is (no
 * inflating, nothing held in memory), and the geocoder's index built from
 * it. */
typedef struct pub_file { FILE *f; const char *path; int n; } pub_file;

static gf_status one_published(void *u, gf_ctx *ctx, const pb_pubrow *r)
{
    pub_file *p = u;
    p->n++;
    return fwrite(r->data, 1, r->ndata, p->f) == r->ndata ? GF_OK
                                                           : gf_ctx_err(ctx, GF_ERR_OUTPUT, "%s: write error", p->path);
}

static gf_status gc_build(eq_run *e)
{
    e->gc_built = 1;
    char path[4300];
    snprintf(path, sizeof path, "%s/equip-addresses.csv.gz", e->scratch);
    pub_file pf = {fopen(path, "wb"), path, 0};
    if (!pf.f) return gf_ctx_err(e->ctx, GF_ERR_OUTPUT, "%s: %s", path, strerror(errno));
    gf_buf hz = {0};
    gf_status st = pb_deflate(e->ctx, gf_bal14_header, strlen(gf_bal14_header), 1, &hz);
    if (!st && fwrite(hz.p, 1, hz.len, pf.f) != hz.len) st = gf_ctx_err(e->ctx, GF_ERR_OUTPUT, "%s: write error", path);
    gf_buf_free(&hz);
    if (!st) st = pb_store_each_published(e->ctx, e->s, one_published, &pf);
    if (fclose(pf.f) != 0 && !st) st = gf_ctx_err(e->ctx, GF_ERR_OUTPUT, "%s: write error", path);
    const char *paths[1] = {path};
    /* the published rows passed the reference rules */
    gf_gc_build_opts bo = {.paths = paths, .npaths = 1, .threads = e->o->threads, .prevalidated = 1};
    if (!st && pf.n) st = gf_gc_index_build(e->ctx, &bo, &e->gc);
    if (!st && pf.n) st = gf_gc_scratch_create(e->gc, &e->gcs) ? OOM(e->ctx) : GF_OK;
    return st;
}

/* Appends "code" to a '|'-joined list. */
static int add_flag(char *flags, size_t cap, const char *code)
{
    size_t l = strlen(flags);
    int n = snprintf(flags + l, cap - l, "%s%s", l ? "|" : "", code);
    return n < 0 || (size_t)n >= cap - l;
}

static gf_status count_code(eq_run *e, const char *hash, const char *level, const char *code, size_t n)
{
    sqlite3_stmt *q = e->ins_code;
    sqlite3_reset(q);
    sqlite3_bind_text(q, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, level, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, code, (int)n, SQLITE_TRANSIENT);
    return sqlite3_step(q) == SQLITE_DONE ? GF_OK : sqlerr(e->ctx, e->s, "counting equipment codes");
}

static gf_status add_reject(eq_run *e, const char *hash, uint64_t line, const char *reason, const char *raw, size_t rawn)
{
    sqlite3_stmt *q = e->ins_rej;
    sqlite3_reset(q);
    sqlite3_bind_text(q, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)line);
    sqlite3_bind_text(q, 3, reason, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 4, raw, (int)rawn, SQLITE_TRANSIENT);
    return sqlite3_step(q) == SQLITE_DONE ? GF_OK : sqlerr(e->ctx, e->s, "storing a rejected equipment");
}

/* Calls fn for each code of a "code|code" list. */
static gf_status each_code(const char *p, size_t n, gf_status (*fn)(void *u, const char *c, size_t cn), void *u)
{
    gf_status st = GF_OK;
    for (size_t i = 0; i < n && !st;) {
        size_t j = i;
        while (j < n && p[j] != '|') j++;
        if (j > i) st = fn(u, p + i, j - i);
        i = j + 1;
    }
    return st;
}

/* One row's issues, as the validation stage left them (keep_invalid: the
 * row stays with its codes). A COLL_SIRET check-digit failure is a
 * warning here: La Poste's establishments, among others, have SIRETs that
 * do not follow Luhn. */
typedef struct row_codes {
    char errors[512], warnings[512];
    int blocking;
    char first[80];      /* first blocking code */
} row_codes;

static gf_status take_error(void *u, const char *c, size_t n)
{
    row_codes *rc = u;
    int siret = n == 19 && !memcmp(c, "coll_siret.checksum", 19);
    char *list = siret ? rc->warnings : rc->errors;
    size_t l = strlen(list);
    snprintf(list + l, sizeof rc->errors - l, "%s%.*s", l ? "|" : "", (int)n, c);
    if (!siret && !rc->blocking++) snprintf(rc->first, sizeof rc->first, "%.*s", (int)n, c);
    return GF_OK;
}

static gf_status take_warning(void *u, const char *c, size_t n)
{
    row_codes *rc = u;
    size_t l = strlen(rc->warnings);
    snprintf(rc->warnings + l, sizeof rc->warnings - l, "%s%.*s", l ? "|" : "", (int)n, c);
    return GF_OK;
}

typedef struct code_sink { eq_run *e; const char *hash, *level; } code_sink;
static gf_status put_code(void *u, const char *c, size_t n)
{
    code_sink *k = u;
    return count_code(k->e, k->hash, k->level, c, n);
}

static void trim(const char **p, size_t *n)
{
    while (*n && (**p == ' ' || **p == '\t')) { (*p)++; (*n)--; }
    while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t' || (*p)[*n - 1] == '\r')) (*n)--;
}

static int valid_code(const char *p, size_t n)
{
    if (n < 5) return 0;
    for (int i = 0; i < 5; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (i == 1 && (p[i] == 'A' || p[i] == 'B' || p[i] == 'a' || p[i] == 'b'))))
            return 0;
    char c[6];
    for (int i = 0; i < 5; i++) c[i] = (char)(p[i] == 'a' ? 'A' : p[i] == 'b' ? 'B' : p[i]);
    c[5] = 0;
    return gf_cog_current(c) >= 0;
}

/* Per submission: which input column holds each SCDL column (-1: none). */
typedef struct colmap { int col[NSCDL]; int x, y; gf_table_layout layout; } colmap;

static void map_columns(const gf_table_reader *r, colmap *m)
{
    const gf_schema *sc = gf_table_schema(r);
    m->layout = gf_table_layout_of(r);
    for (int k = 0; k < NSCDL; k++) {
        const char *name = scdl[k];
        /* the older template's names for the same things */
        const char *alias = k == E_UID ? "EQUIP_ID" : k == E_NOM ? "EQUIP_LIBELLE" : k == E_COMMUNE ? "ADR_VILLE" : NULL;
        m->col[k] = -1;
        for (int i = 0; i < sc->nfields && m->col[k] < 0; i++)
            if (!strcasecmp(sc->fields[i].name, name)) m->col[k] = i;
        for (int i = 0; alias && i < sc->nfields && m->col[k] < 0; i++)
            if (!strcasecmp(sc->fields[i].name, alias)) m->col[k] = i;
    }
    m->x = m->y = -1;
    for (int i = 0; i < sc->nfields; i++) {
        if (!strcasecmp(sc->fields[i].name, "EQUIP_X")) m->x = i;
        if (!strcasecmp(sc->fields[i].name, "EQUIP_Y")) m->y = i;
    }
}

static const char *cell(const gf_batch *b, int col, size_t r, size_t *n)
{
    *n = 0;
    if (col < 0 || !b->cols[col].valid[r]) return "";
    const char *p = b->arena + b->cols[col].v.s[r].off;
    *n = b->cols[col].v.s[r].len;
    trim(&p, n);
    return p;
}

static int num(const char *p, size_t n, double *v) { return n && gf_parse_double(p, n, 0, v) && isfinite(*v); }

/* Lambert-93 to WGS 84 (lon, lat order): the older template's EQUIP_X and
 * EQUIP_Y are Lambert-93 (data/samples/equipements/README.md). PROJ is
 * called here directly, on the run's own context, for these few rows. */
static int l93_to_wgs84(eq_run *e, double x, double y, double *lon, double *lat)
{
    if (!e->l93) {
        PJ_CONTEXT *pc = gf_ctx_proj(e->ctx);
        PJ *p = pc ? proj_create_crs_to_crs(pc, "EPSG:2154", "EPSG:4326", NULL) : NULL;
        if (p) {
            e->l93 = proj_normalize_for_visualization(pc, p);
            proj_destroy(p);
        }
        if (!e->l93) return 0;
    }
    PJ_COORD c = proj_trans(e->l93, PJ_FWD, proj_coord(x, y, 0, 0));
    if (!isfinite(c.lp.lam) || !isfinite(c.lp.phi) || c.xy.x == HUGE_VAL) return 0;
    *lon = c.xy.x;
    *lat = c.xy.y;
    return 1;
}

/* One accepted row: commune, position, geocoding, then stored. */
static gf_status keep_row(eq_run *e, const char *hash, const colmap *m, const gf_batch *b, size_t r, row_codes *rc,
                          int *rejected)
{
    gf_ctx *ctx = e->ctx;
    const char *v[NSCDL];
    size_t n[NSCDL];
    for (int k = 0; k < NSCDL; k++) v[k] = cell(b, m->col[k], r, &n[k]);
    /* the row's flags: its warnings, commune.inconnue when no commune is
     * found in the end, then what placing it said (pflags) */
    char flags[1024], pflags[256] = "";
    snprintf(flags, sizeof flags, "%s", rc->warnings);
    *rejected = 0;
    /* the key: EQUIP_UID; the older template numbers its EQUIP_ID per
     * collectivity, so there the key is COLL_SIRET:EQUIP_ID */
    char uid[200];
    if (m->layout == GF_TABLE_EQUIP_OLD)
        snprintf(uid, sizeof uid, "%.*s:%.*s", (int)(n[E_COLL_SIRET] > 40 ? 40 : n[E_COLL_SIRET]), v[E_COLL_SIRET],
                 (int)(n[E_UID] > 120 ? 120 : n[E_UID]), v[E_UID]);
    else
        snprintf(uid, sizeof uid, "%.*s", (int)(n[E_UID] > 120 ? 120 : n[E_UID]), v[E_UID]);
    if (!n[E_UID]) {
        *rejected = 1;
        gf_status st = count_code(e, hash, "error", "equip_uid.required", 18);
        const gf_sref raw = b->raw[r];
        return st ? st : add_reject(e, hash, b->line[r], "equip_uid.required: no EQUIP_UID (the key of an equipment)",
                                    b->arena + raw.off, raw.len);
    }
    /* the commune: its INSEE code from ADR_CLE_INTEROP, else by name */
    char commune[6] = "";
    if (n[E_CLE] >= 5 && valid_code(v[E_CLE], n[E_CLE])) {
        for (int i = 0; i < 5; i++) commune[i] = (char)(v[E_CLE][i] == 'a' ? 'A' : v[E_CLE][i] == 'b' ? 'B' : v[E_CLE][i]);
        commune[5] = 0;
    } else if (n[E_COMMUNE]) {
        if (!e->nm_built) {
            gf_status st = names_build(ctx, e->bounds, &e->nm);
            if (st) return st;
            e->nm_built = 1;
        }
        names_find(&e->nm, v[E_COMMUNE], n[E_COMMUNE], v[E_CP], n[E_CP], commune);
    }
    if (commune[0] && !e->inside(e->u, commune)) {
        *rejected = 1;
        char reason[200];
        snprintf(reason, sizeof reason, "commune.hors_perimetre: commune %s is outside the perimeter", commune);
        gf_status st = count_code(e, hash, "error", "commune.hors_perimetre", 22);
        const gf_sref raw = b->raw[r];
        return st ? st : add_reject(e, hash, b->line[r], reason, b->arena + raw.off, raw.len);
    }
    /* the position */
    double lon = NAN, lat = NAN, score = NAN;
    const char *source = "none";
    char label[300] = "";
    const char *slat = v[E_LAT], *slon = v[E_LON];
    size_t nlat = n[E_LAT], nlon = n[E_LON];
    if (num(v[E_LAT], n[E_LAT], &lat) && num(v[E_LON], n[E_LON], &lon)) {
        source = "given";
    } else {
        lon = lat = NAN;
        size_t nx, ny;
        const char *x = cell(b, m->x, r, &nx), *y = cell(b, m->y, r, &ny);
        double dx, dy;
        if (num(x, nx, &dx) && num(y, ny, &dy) && l93_to_wgs84(e, dx, dy, &lon, &lat)) source = "given";
        else lon = lat = NAN;
    }
    int ix = e->bounds && commune[0] ? gf_join_find_code(e->bounds, commune, 5) : -1;
    if (!isnan(lon) && ix >= 0 && gf_join_locate(e->bounds, lon, lat) != ix) {
        /* exchanged long and lat: repaired only when the exchange puts the
         * point in the commune, as the address repair does */
        if (gf_join_locate(e->bounds, lat, lon) == ix) {
            double t = lon;
            lon = lat;
            lat = t;
            source = "repaired";
            slat = v[E_LON], nlat = n[E_LON];
            slon = v[E_LAT], nlon = n[E_LAT];
            add_flag(pflags, sizeof pflags, "repair.lonlat_swapped");
        } else {
            add_flag(pflags, sizeof pflags, "position.hors_commune"); /* kept where it is */
        }
    }
    if (isnan(lon)) {
        if (!e->gc_built) {
            gf_status st = gc_build(e);
            if (st) return st;
        }
        gf_gc_result res;
        gf_gc_result_clear(&res);
        if (e->gc && (n[E_VOIE] || n[E_COMMUNE])) {
            char q[600];
            int with_num = n[E_NUM] && !(n[E_NUM] == 5 && !memcmp(v[E_NUM], "99999", 5)); /* 99999: a place */
            int ql = snprintf(q, sizeof q, "%.*s%s%.*s", with_num ? (int)(n[E_NUM] > 40 ? 40 : n[E_NUM]) : 0, v[E_NUM],
                              with_num ? " " : "", (int)(n[E_VOIE] > 400 ? 400 : n[E_VOIE]), v[E_VOIE]);
            gf_gc_query gq = {.q = q, .qlen = (size_t)(ql < 0 ? 0 : ql)};
            if (n[E_CP] == 5) { gq.postcode = v[E_CP]; gq.postcodelen = 5; }
            if (commune[0]) { gq.citycode = commune; gq.citycodelen = 5; }
            if (n[E_COMMUNE]) { gq.city = v[E_COMMUNE]; gq.citylen = n[E_COMMUNE]; }
            if (gf_gc_geocode(e->gc, e->gcs, &gq, &res)) gf_gc_result_clear(&res);
        }
        if (res.type != GF_GC_NONE && res.type != GF_GC_MUNICIPALITY && res.score >= PB_EQUIP_MIN_SCORE) {
            lon = res.lon;
            lat = res.lat;
            score = res.score;
            source = "geocoded";
            gf_gc_result_label(&res, label, sizeof label);
            if (!commune[0] && res.citycode && strlen(res.citycode) == 5)
                memcpy(commune, res.citycode, 6); /* the commune the address was found in */
        } else {
            add_flag(pflags, sizeof pflags, res.type == GF_GC_NONE ? "geocode.non_trouve" : "geocode.score_insuffisant");
        }
    }
    if (!commune[0]) add_flag(flags, sizeof flags, "commune.inconnue");
    if (pflags[0]) add_flag(flags, sizeof flags, pflags);
    /* the SCDL columns (long/lat as repaired), as CSV and as JSON properties */
    e->csv.len = e->props.len = 0;
    gf_status st = GF_OK;
    for (int k = 0; k < NSCDL && !st; k++) {
        const char *p = k == E_LAT ? slat : k == E_LON ? slon : v[k];
        size_t pn = k == E_LAT ? nlat : k == E_LON ? nlon : n[k];
        if (k == E_UID && m->layout == GF_TABLE_EQUIP_OLD) { p = uid; pn = strlen(uid); }
        if ((k && gf_buf_append(&e->csv, ";", 1)) || gf_csv_put_field(&e->csv, p, pn, ';', 0)
            || gf_buf_printf(&e->props, "%s\"%s\":", k ? "," : "", scdl[k])
            || (pn ? gf_buf_json_str(&e->props, p, pn) : gf_buf_append(&e->props, "null", 4)))
            st = OOM(ctx);
    }
    if (st) return st;
    sqlite3_stmt *q = e->ins_row;
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    sqlite3_bind_text(q, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)b->line[r]);
    sqlite3_bind_text(q, 3, uid, -1, SQLITE_TRANSIENT);
    if (commune[0]) sqlite3_bind_text(q, 4, commune, 5, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 5, e->csv.p, (int)e->csv.len, SQLITE_STATIC);
    sqlite3_bind_text(q, 6, e->props.p, (int)e->props.len, SQLITE_STATIC);
    if (!isnan(lon)) {
        /* 7 decimals (1 cm): what the file says, the same in every output */
        sqlite3_bind_double(q, 7, round(lon * 1e7) / 1e7);
        sqlite3_bind_double(q, 8, round(lat * 1e7) / 1e7);
    }
    sqlite3_bind_text(q, 9, source, -1, SQLITE_STATIC);
    if (!isnan(score)) sqlite3_bind_double(q, 10, round(score * 1e4) / 1e4);
    if (label[0]) sqlite3_bind_text(q, 11, label, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 12, flags, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(q) != SQLITE_DONE) return sqlerr(ctx, e->s, "storing an equipment");
    /* every flag of a kept row is counted as a warning of its submission */
    code_sink k = {e, hash, "warning"};
    return each_code(flags, strlen(flags), put_code, &k);
}

/* The reason of a row refused by the schema: its codes, then the first
 * one's column and value ("equip_uid.pattern: EQUIP_UID "35047-0101-1""),
 * in the "codes: message" form of the address rejects. */
static void reject_reason(const colmap *m, const gf_batch *b, size_t r, const row_codes *rc, char *out, size_t cap)
{
    char col[64];
    size_t i = 0;
    for (; rc->first[i] && rc->first[i] != '.' && i < sizeof col - 1; i++)
        col[i] = (char)(rc->first[i] >= 'a' && rc->first[i] <= 'z' ? rc->first[i] - 32 : rc->first[i]);
    col[i] = 0;
    int c = -1;
    for (int k = 0; k < NSCDL && c < 0; k++)
        if (!strcmp(scdl[k], col)) c = m->col[k];
    if (!strcmp(col, "EQUIP_X")) c = m->x;
    if (!strcmp(col, "EQUIP_Y")) c = m->y;
    size_t n;
    const char *p = cell(b, c, r, &n);
    if (c >= 0 && n) snprintf(out, cap, "%s: %s \"%.*s\"", rc->errors, col, (int)(n > 80 ? 80 : n), p);
    else snprintf(out, cap, "%s: %s is empty", rc->errors, col);
}

/* Reads one submission: every row validated, kept or refused, stored. */
static gf_status read_sub(eq_run *e, pb_sub *sub, uint64_t *rows, uint64_t *accepted, uint64_t *nrej, char *layout,
                          size_t laycap, char *why, size_t whycap)
{
    gf_ctx *ctx = e->ctx;
    gf_ctx *rc_ctx; /* the file's own problems become the submission's reason */
    if (gf_ctx_fork(ctx, &rc_ctx)) return OOM(ctx);
    gf_table_reader *r = NULL;
    gf_batch *b = NULL;
    void *val = NULL;
    why[0] = 0;
    gf_status st = gf_table_open(rc_ctx, sub->path, NULL, &r);
    if (st) {
        snprintf(why, whycap, "%s", gf_ctx_errmsg(rc_ctx));
        gf_ctx_destroy(rc_ctx);
        return gf_status_class_of(st) == GF_CLASS_INPUT ? GF_OK : gf_ctx_err(ctx, st, "%s", why);
    }
    snprintf(layout, laycap, "%s", gf_table_layout_name(gf_table_layout_of(r)));
    colmap m;
    map_columns(r, &m);
    /* the library's source and validation stage, called batch by batch on
     * this thread: an equipment file is small, and every row goes to the
     * store as it is judged, in input order */
    if ((st = gf_batch_create(gf_table_schema(r), GF_BATCH_ROWS, &b)) || (st = gf_equip_validate_create(ctx, r, 1, &val))) {
        st = OOM(ctx);
        goto done;
    }
    for (;;) {
        gf_batch_reset(b);
        st = gf_table_source_vt.next(r, rc_ctx, b);
        if (st == GF_DONE) { st = GF_OK; break; }
        if (st) {
            if (gf_status_class_of(st) == GF_CLASS_INPUT) {
                snprintf(why, whycap, "cannot be read to its end: %s", gf_ctx_errmsg(rc_ctx));
                st = GF_OK;
            } else {
                st = gf_ctx_err(ctx, st, "%s", gf_ctx_errmsg(rc_ctx));
            }
            break;
        }
        if ((st = gf_equip_validate_stage_vt.run(val, ctx, 0, b))) break;
        for (size_t j = 0; j < b->nrej && !st; j++) { /* records the reader could not split into fields */
            const gf_reject *rj = &b->rej[j];
            (*rows)++;
            (*nrej)++;
            st = count_code(e, sub->hash, "error", "file.parse", 10);
            if (!st) st = add_reject(e, sub->hash, rj->line, b->arena + rj->reason.off, b->arena + rj->raw.off, rj->raw.len);
        }
        for (size_t i = 0; i < b->n && !st; i++) {
            (*rows)++;
            row_codes rc;
            memset(&rc, 0, sizeof rc);
            each_code(b->arena + b->errors[i].off, b->errors[i].len, take_error, &rc);
            each_code(b->arena + b->warnings[i].off, b->warnings[i].len, take_warning, &rc);
            if (rc.blocking) {
                char reason[400];
                reject_reason(&m, b, i, &rc, reason, sizeof reason);
                (*nrej)++;
                code_sink k = {e, sub->hash, "error"};
                st = each_code(rc.errors, strlen(rc.errors), put_code, &k);
                if (!st) st = add_reject(e, sub->hash, b->line[i], reason, b->arena + b->raw[i].off, b->raw[i].len);
                continue;
            }
            int refused;
            st = keep_row(e, sub->hash, &m, b, i, &rc, &refused);
            if (refused) (*nrej)++;
            else (*accepted)++;
        }
        if (st) break;
    }
done:
    gf_equip_validate_stage_vt.destroy(val);
    gf_batch_destroy(b);
    gf_table_destroy(r);
    gf_ctx_destroy(rc_ctx);
    return st;
}

gf_status pb_equip_run(gf_ctx *ctx, const gf_publish_opts *o, pb_store *s, pb_set *set, const gf_join_index *communes,
                       int (*inside)(const void *u, const char *code), const void *u, const char *scratch,
                       pb_equip_result *res)
{
    memset(res, 0, sizeof *res);
    gf_status st = exec(ctx, s, schema, "creating the equipment tables");
    if (st) return st;
    sqlite3 *db = pb_store_db(s);
    eq_run e = {.ctx = ctx, .o = o, .s = s, .bounds = communes, .inside = inside, .u = u, .scratch = scratch};
    gf_join_index *own = NULL;
    int todo = 0;
    for (int i = 0; i < set->nsubs; i++) todo += set->subs[i].kind == PB_KIND_EQUIP && set->subs[i].status != PB_ST_REJECTED;
    if (!todo) return GF_OK;
    if (!e.bounds && o->perimeter && pb_is_boundaries(o->perimeter)) {
        gf_join_opts jo = {.path = o->perimeter};
        if ((st = gf_join_index_load(ctx, &jo, &own))) return st;
        e.bounds = own;
    }
    if (sqlite3_prepare_v2(db, "INSERT INTO equip_rows VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)", -1,
                           &e.ins_row, NULL) != SQLITE_OK
        || sqlite3_prepare_v2(db, "INSERT INTO equip_rejects VALUES (?1, ?2, ?3, ?4)", -1, &e.ins_rej, NULL) != SQLITE_OK
        || sqlite3_prepare_v2(db, "INSERT INTO equip_codes VALUES (?1, ?2, ?3, 1) ON CONFLICT DO UPDATE SET n = n + 1",
                              -1, &e.ins_code, NULL) != SQLITE_OK) {
        st = sqlerr(ctx, s, "preparing the equipment statements");
        goto done;
    }
    for (int i = 0; i < set->nsubs && !st; i++) {
        pb_sub *sub = &set->subs[i];
        if (sub->kind != PB_KIND_EQUIP || sub->status == PB_ST_REJECTED) continue;
        /* met before: the same bytes, still the producer's current file */
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(db, "SELECT current, rows, accepted, reason FROM equip_submissions WHERE file_hash = ?", -1,
                               &q, NULL) != SQLITE_OK) {
            st = sqlerr(ctx, s, "reading the equipment submissions");
            break;
        }
        sqlite3_bind_text(q, 1, sub->hash, -1, SQLITE_STATIC);
        int known = sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0);
        if (known) {
            sub->rows = (uint64_t)sqlite3_column_int64(q, 1);
            if (sqlite3_column_int64(q, 2) == 0) {
                const unsigned char *w = sqlite3_column_text(q, 3);
                sub->status = PB_ST_REJECTED;
                free(sub->reason);
                if (!(sub->reason = strdup(w ? (const char *)w : "no equipment accepted"))) st = OOM(ctx);
                res->rejected++;
            } else {
                sub->status = PB_ST_UNCHANGED;
                res->unchanged++;
            }
        }
        sqlite3_finalize(q);
        if (known || st) continue;
        /* a new file (or one superseded since): read it, in a savepoint so
         * that a file that cannot be read to its end leaves no row */
        if ((st = exec(ctx, s, "SAVEPOINT equip_sub", "storing an equipment submission"))) break;
        static const char *const clear[] = {"DELETE FROM equip_rows WHERE file_hash = ?",
            "DELETE FROM equip_rejects WHERE file_hash = ?", "DELETE FROM equip_codes WHERE file_hash = ?",
            "DELETE FROM equip_submissions WHERE file_hash = ?"};
        for (int k = 0; k < 4 && !st; k++) {
            if (sqlite3_prepare_v2(db, clear[k], -1, &q, NULL) != SQLITE_OK) { st = sqlerr(ctx, s, "clearing a submission"); break; }
            sqlite3_bind_text(q, 1, sub->hash, -1, SQLITE_STATIC);
            if (sqlite3_step(q) != SQLITE_DONE) st = sqlerr(ctx, s, "clearing a submission");
            sqlite3_finalize(q);
        }
        uint64_t rows = 0, acc = 0, rej = 0;
        char layout[64] = "", why[700] = "";
        if (!st) st = read_sub(&e, sub, &rows, &acc, &rej, layout, sizeof layout, why, sizeof why);
        if (st) break;
        if (why[0]) { /* not read to its end, or not at all: nothing of it is kept */
            if ((st = exec(ctx, s, "ROLLBACK TO equip_sub; RELEASE equip_sub", "storing an equipment submission"))) break;
            sub->status = PB_ST_REJECTED;
            free(sub->reason);
            if (!(sub->reason = strdup(why))) st = OOM(ctx);
            res->rejected++;
            continue;
        }
        sub->rows = rows;
        char reason[200] = "";
        if (!acc) {
            snprintf(reason, sizeof reason, rows ? "no equipment passes the SCDL schema (%llu rows refused: see rejects/equipements.csv)"
                                                 : "no data rows", (unsigned long long)rej);
            sub->status = PB_ST_REJECTED;
            free(sub->reason);
            if (!(sub->reason = strdup(reason))) { st = OOM(ctx); break; }
            res->rejected++;
        } else {
            sub->status = PB_ST_ACCEPTED;
        }
        res->stored++;
        /* the producer's previous file of that name is superseded: its rows
         * leave the current set unless they are in this one */
        if (sqlite3_prepare_v2(db, "UPDATE equip_submissions SET current = 0 WHERE producer = ?1 AND file = ?2", -1, &q,
                               NULL) != SQLITE_OK) {
            st = sqlerr(ctx, s, "storing an equipment submission");
            break;
        }
        sqlite3_bind_text(q, 1, sub->producer, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, sub->path, -1, SQLITE_STATIC);
        if (sqlite3_step(q) != SQLITE_DONE) st = sqlerr(ctx, s, "storing an equipment submission");
        sqlite3_finalize(q);
        if (st) break;
        if (sqlite3_prepare_v2(db, "INSERT INTO equip_submissions VALUES (?1, (SELECT coalesce(max(run), 0) + 1 FROM runs),"
                                   " ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1)", -1, &q, NULL) != SQLITE_OK) {
            st = sqlerr(ctx, s, "storing an equipment submission");
            break;
        }
        sqlite3_bind_text(q, 1, sub->hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, sub->producer, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 3, sub->received_at, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 4, sub->path, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 5, layout, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 6, (sqlite3_int64)rows);
        sqlite3_bind_int64(q, 7, (sqlite3_int64)acc);
        sqlite3_bind_int64(q, 8, (sqlite3_int64)rej);
        if (reason[0]) sqlite3_bind_text(q, 9, reason, -1, SQLITE_STATIC);
        else sqlite3_bind_null(q, 9);
        if (sqlite3_step(q) != SQLITE_DONE) st = sqlerr(ctx, s, "storing an equipment submission");
        sqlite3_finalize(q);
        if (!st) st = exec(ctx, s, "RELEASE equip_sub", "storing an equipment submission");
        gf_ctx_log(ctx, GF_LOG_INFO, "publish: %s: %llu equipments, %llu accepted, %llu refused", sub->path,
                   (unsigned long long)rows, (unsigned long long)acc, (unsigned long long)rej);
    }
    /* the current set: per EQUIP_UID, the row of the newest current
     * submission (received_at, then the file's name), the last line of a
     * file naming it twice */
    if (!st && res->stored)
        st = exec(ctx, s,
                  "DELETE FROM equipments;"
                  "INSERT INTO equipments (uid, file_hash, line) SELECT uid, file_hash, line FROM ("
                  " SELECT r.uid, r.file_hash, r.line, row_number() OVER (PARTITION BY r.uid"
                  "  ORDER BY s.received_at DESC, s.file DESC, r.line DESC) AS k"
                  " FROM equip_rows r JOIN equip_submissions s ON s.file_hash = r.file_hash WHERE s.current = 1)"
                  " WHERE k = 1",
                  "updating the current equipments");
done:
    sqlite3_finalize(e.ins_row);
    sqlite3_finalize(e.ins_rej);
    sqlite3_finalize(e.ins_code);
    if (e.l93) proj_destroy(e.l93);
    gf_gc_scratch_destroy(e.gcs);
    gf_gc_index_destroy(e.gc);
    free(e.nm.v);
    gf_buf_free(&e.csv);
    gf_buf_free(&e.props);
    gf_join_index_destroy(own);
    return st;
}

/* ---- report.json ------------------------------------------------------------------- */

static gf_status codes_obj(gf_ctx *ctx, pb_store *s, const char *level, gf_buf *out)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(pb_store_db(s),
                           "SELECT c.code, sum(c.n) FROM equip_codes c JOIN equip_submissions s ON s.file_hash = c.file_hash"
                           " WHERE s.current = 1 AND c.level = ? GROUP BY c.code ORDER BY c.code",
                           -1, &q, NULL) != SQLITE_OK)
        return sqlerr(ctx, s, "reading the equipment codes");
    sqlite3_bind_text(q, 1, level, -1, SQLITE_STATIC);
    gf_status st = gf_buf_printf(out, ",\"%ss\":{", level);
    int rc, first = 1;
    while (!st && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *c = (const char *)sqlite3_column_text(q, 0);
        if ((!first && gf_buf_append(out, ",", 1)) || gf_buf_json_str(out, c, strlen(c))
            || gf_buf_printf(out, ":%lld", (long long)sqlite3_column_int64(q, 1)))
            st = OOM(ctx);
        first = 0;
    }
    sqlite3_finalize(q);
    if (!st && gf_buf_append(out, "}", 1)) st = OOM(ctx);
    return st;
}

gf_status pb_equip_report_json(gf_ctx *ctx, pb_store *s, gf_buf *out)
{
    sqlite3_stmt *q;
    static const char sql[] =
        "SELECT (SELECT count(*) FROM equip_submissions WHERE current = 1),"
        " (SELECT coalesce(sum(rows), 0) FROM equip_submissions WHERE current = 1),"
        " (SELECT coalesce(sum(accepted), 0) FROM equip_submissions WHERE current = 1),"
        " (SELECT coalesce(sum(rejected), 0) FROM equip_submissions WHERE current = 1),"
        " count(*), coalesce(sum(r.position_source = 'repaired'), 0), coalesce(sum(r.position_source = 'geocoded'), 0),"
        " coalesce(sum(instr(r.flags, 'position.hors_commune') > 0), 0), coalesce(sum(r.position_source = 'none'), 0),"
        " coalesce(sum(r.commune IS NULL), 0)"
        " FROM equipments e JOIN equip_rows r ON r.file_hash = e.file_hash AND r.line = e.line";
    if (sqlite3_prepare_v2(pb_store_db(s), sql, -1, &q, NULL) != SQLITE_OK) return sqlerr(ctx, s, "counting the equipments");
    gf_status st = GF_OK;
    if (sqlite3_step(q) != SQLITE_ROW) st = sqlerr(ctx, s, "counting the equipments");
    else {
        long long v[10];
        for (int i = 0; i < 10; i++) v[i] = sqlite3_column_int64(q, i);
        /* rows = published + rejected + duplicates */
        if (gf_buf_printf(out,
                          ",\"equipments\":{\"submissions\":%lld,\"rows\":%lld,\"published\":%lld,\"rejected\":%lld,"
                          "\"duplicates\":%lld,\"repaired\":%lld,\"geocoded\":%lld,\"outside_commune\":%lld,"
                          "\"without_position\":%lld,\"commune_unknown\":%lld,\"geocode_min_score\":%.2f",
                          v[0], v[1], v[4], v[3], v[2] - v[4], v[5], v[6], v[7], v[8], v[9], PB_EQUIP_MIN_SCORE))
            st = OOM(ctx);
    }
    sqlite3_finalize(q);
    if (!st) st = codes_obj(ctx, s, "warning", out);
    if (!st) st = codes_obj(ctx, s, "error", out);
    if (!st && gf_buf_append(out, "}", 1)) st = OOM(ctx);
    return st;
}

gf_status pb_equip_sub_json(gf_ctx *ctx, pb_store *s, const char *file_hash, gf_buf *out)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(pb_store_db(s), "SELECT layout, rows, accepted, rejected FROM equip_submissions WHERE file_hash = ?",
                           -1, &q, NULL) != SQLITE_OK)
        return sqlerr(ctx, s, "reading the equipment submissions");
    sqlite3_bind_text(q, 1, file_hash, -1, SQLITE_STATIC);
    gf_status st = GF_OK;
    if (sqlite3_step(q) == SQLITE_ROW
        && gf_buf_printf(out, ",\"equipments\":{\"layout\":\"%s\",\"rows\":%lld,\"accepted\":%lld,\"rejected\":%lld}",
                         (const char *)sqlite3_column_text(q, 0), (long long)sqlite3_column_int64(q, 1),
                         (long long)sqlite3_column_int64(q, 2), (long long)sqlite3_column_int64(q, 3)))
        st = OOM(ctx);
    sqlite3_finalize(q);
    return st;
}

/* ---- the SITE's files ----------------------------------------------------------------- */

static gf_status write_out(gf_ctx *ctx, const char *dir, const char *name, const gf_buf *b)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return pb_write_file(ctx, path, b->p ? b->p : "", b->len);
}

gf_status pb_equip_site(gf_ctx *ctx, pb_store *s, const char *dir)
{
    gf_buf csv = {0}, gj = {0}, rj = {0};
    gf_status st = GF_OK;
    for (int k = 0; k < NSCDL && !st; k++) st = gf_buf_printf(&csv, "%s%s", k ? ";" : "", scdl[k]);
    if (!st) st = gf_buf_printf(&csv, ";longitude;latitude;position_source;commune_insee;geocode_score;geocode_label;flags\n");
    if (!st) st = gf_buf_printf(&gj, "{\"type\":\"FeatureCollection\",\"features\":[");
    if (st) return OOM(ctx);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(pb_store_db(s),
                           "SELECT r.csv, r.props, r.lon, r.lat, r.position_source, r.commune, r.score, r.label, r.flags"
                           " FROM equipments e JOIN equip_rows r ON r.file_hash = e.file_hash AND r.line = e.line"
                           " ORDER BY e.uid",
                           -1, &q, NULL) != SQLITE_OK) {
        st = sqlerr(ctx, s, "reading the equipments");
        goto done;
    }
    int rc, nf = 0;
    while (!st && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *c[9];
        for (int i = 0; i < 9; i++) c[i] = (const char *)sqlite3_column_text(q, i);
        int pos = sqlite3_column_type(q, 2) != SQLITE_NULL;
        double lon = sqlite3_column_double(q, 2), lat = sqlite3_column_double(q, 3), score = sqlite3_column_double(q, 6);
        int has_score = sqlite3_column_type(q, 6) != SQLITE_NULL;
        char xy[80] = "", sc[16] = "";
        if (pos) snprintf(xy, sizeof xy, "%.7f;%.7f", lon, lat);
        else snprintf(xy, sizeof xy, ";");
        if (has_score) snprintf(sc, sizeof sc, "%.4f", score);
        const char *label = c[7] ? c[7] : "", *commune = c[5] ? c[5] : "";
        if (gf_buf_printf(&csv, "%s;%s;%s;%s;%s;", c[0], xy, c[4], commune, sc)
            || gf_csv_put_field(&csv, label, strlen(label), ';', 0) || gf_buf_append(&csv, ";", 1)
            || gf_csv_put_field(&csv, c[8], strlen(c[8]), ';', 0) || gf_buf_append(&csv, "\n", 1)) {
            st = OOM(ctx);
            break;
        }
        /* the feature: the same values, numbers as numbers, empty as null */
        st = gf_buf_printf(&gj, "%s{\"type\":\"Feature\",\"properties\":{%s", nf++ ? ",\n" : "\n", c[1]);
        if (!st) st = pos ? gf_buf_printf(&gj, ",\"longitude\":%.7f,\"latitude\":%.7f", lon, lat)
                          : gf_buf_printf(&gj, ",\"longitude\":null,\"latitude\":null");
        if (!st) st = gf_buf_printf(&gj, ",\"position_source\":\"%s\",\"commune_insee\":", c[4]);
        if (!st) st = c[5] ? gf_buf_printf(&gj, "\"%s\"", c[5]) : gf_buf_append(&gj, "null", 4);
        if (!st) st = has_score ? gf_buf_printf(&gj, ",\"geocode_score\":%s", sc) : gf_buf_printf(&gj, ",\"geocode_score\":null");
        if (!st) st = gf_buf_printf(&gj, ",\"geocode_label\":");
        if (!st) st = c[7] ? gf_buf_json_str(&gj, c[7], strlen(c[7])) : gf_buf_append(&gj, "null", 4);
        if (!st) st = gf_buf_printf(&gj, ",\"flags\":");
        if (!st) st = gf_buf_json_str(&gj, c[8], strlen(c[8]));
        if (!st) st = pos ? gf_buf_printf(&gj, "},\"geometry\":{\"type\":\"Point\",\"coordinates\":[%.7f,%.7f]}}", lon, lat)
                          : gf_buf_printf(&gj, "},\"geometry\":null}");
        if (st) st = OOM(ctx);
    }
    sqlite3_finalize(q);
    q = NULL;
    if (!st && gf_buf_printf(&gj, "%s]}\n", nf ? "\n" : "")) st = OOM(ctx);
    /* the rows refused, of the current submissions */
    if (!st && gf_buf_printf(&rj, "source;line;reason;raw\n")) st = OOM(ctx);
    if (!st && sqlite3_prepare_v2(pb_store_db(s),
                                  "SELECT s.file, j.line, j.reason, j.raw FROM equip_rejects j"
                                  " JOIN equip_submissions s ON s.file_hash = j.file_hash WHERE s.current = 1"
                                  " ORDER BY s.file, s.file_hash, j.line",
                                  -1, &q, NULL) != SQLITE_OK)
        st = sqlerr(ctx, s, "reading the rejected equipments");
    while (!st && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *f = (const char *)sqlite3_column_text(q, 0), *why = (const char *)sqlite3_column_text(q, 2);
        const char *raw = (const char *)sqlite3_column_text(q, 3);
        if (gf_csv_put_field(&rj, f, strlen(f), ';', 0) || gf_buf_printf(&rj, ";%lld;", (long long)sqlite3_column_int64(q, 1))
            || gf_csv_put_field(&rj, why, strlen(why), ';', 0) || gf_buf_append(&rj, ";", 1)
            || gf_csv_put_field(&rj, raw, strlen(raw), ';', 0) || gf_buf_append(&rj, "\n", 1))
            st = OOM(ctx);
    }
    if (!st) st = write_out(ctx, dir, "equipements.csv", &csv);
    if (!st) st = write_out(ctx, dir, "equipements.geojson", &gj);
    if (!st) st = write_out(ctx, dir, "rejects/equipements.csv", &rj);
done:
    sqlite3_finalize(q);
    gf_buf_free(&csv);
    gf_buf_free(&gj);
    gf_buf_free(&rj);
    return st;
}
