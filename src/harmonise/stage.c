/* The harmonise stage: the value repairs of repair.c applied to the
 * reader's text batches before validation, each recorded.
 *
 * Recording: each worker keeps its own counts (per commune code and
 * repair code) and its own list of entries, at most max_listed per input
 * (a worker sees an input's rows in increasing line order, so the first
 * max_listed of the merged list are among each worker's first max_listed).
 * end() merges them, sorts the list by (input, line, field, order on the
 * row), cuts it to max_listed per input, and hands the result to the
 * callback: the same result whatever the thread count. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geoflux/address.h"
#include "geoflux/harmonise.h"
#include "geoflux/reproject.h"
#include "geoflux/validate.h"
#include "ingest/parse.h"

#define KEEP_TEXT 200   /* bytes of before/after kept per entry */
#define VAL_MAX 256     /* longest value a repair rewrites (dates, codes, numbers) */
#define FIELD_LONLAT (-2) /* the entry's field: long and lat together */

/* An entry while it is being collected: strings are offsets into the
 * owner's pool. */
typedef struct hentry {
    uint32_t input;
    uint64_t line;
    int field;          /* schema field, FIELD_LONLAT, or -1 (the record: encoding) */
    uint32_t seq;       /* order of the repair on its row */
    gf_repair_code code;
    char commune[6];
    size_t before, after; /* pool offsets */
    int pool;           /* -1: the stage's pool (header entries), else a worker's */
} hentry;

typedef struct hpool {
    char *p;
    size_t len, cap;
} hpool;

/* Counts of one commune in one input. */
typedef struct hcount {
    uint32_t input;
    char commune[6];    /* "" : unknown */
    int used;
    uint64_t n[GF_REPAIR_COUNT];
} hcount;

typedef struct htable {
    hcount *slot;
    size_t cap, used;
} htable;

typedef struct hworker {
    hentry *e;
    size_t n, cap;
    hpool pool;
    size_t *listed;     /* per input */
    uint64_t attempted; /* entries offered (listed or not) */
    htable counts;
    int nomem;
} hworker;

typedef struct hinput {
    int renamed;        /* header columns renamed (header_alias) */
} hinput;

typedef struct hstage {
    gf_harmonise_opts o;
    const gf_reader *reader;
    int ninputs;
    hinput *in;
    int active;         /* 0: the schema is not the address schema */
    int nworkers;
    hworker *w;
    hentry *he;         /* header entries */
    size_t nhe;
    hpool hpool;
    int aborted;
    char *s_srs;        /* o.s_srs resolved (its code, else its WKT), as the
                           reproject stage hands it to PROJ; NULL: x/y's CRS
                           is detected per row */
    char s_label[80];   /* its code or name, in a repair's "before" */
} hstage;

/* ---- small containers ---- */

static int pool_add(hpool *p, const char *s, size_t n, size_t *off)
{
    if (n > KEEP_TEXT) n = KEEP_TEXT;
    if (p->len + n + 1 > p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 4096;
        while (nc < p->len + n + 1) nc *= 2;
        char *q = realloc(p->p, nc);
        if (!q) return 0;
        p->p = q;
        p->cap = nc;
    }
    memcpy(p->p + p->len, s, n);
    p->p[p->len + n] = 0;
    *off = p->len;
    p->len += n + 1;
    return 1;
}

static uint32_t hash5(uint32_t input, const char *c)
{
    uint32_t h = 2166136261u ^ (input * 0x9e3779b9u);
    for (int i = 0; c[i]; i++) { h ^= (unsigned char)c[i]; h *= 16777619u; }
    return h;
}

static hcount *table_get(htable *t, uint32_t input, const char *commune)
{
    if ((t->used + 1) * 2 > t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 64;
        hcount *ns = calloc(nc, sizeof *ns);
        if (!ns) return NULL;
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->slot[i].used) continue;
            size_t k = hash5(t->slot[i].input, t->slot[i].commune) & (nc - 1);
            while (ns[k].used) k = (k + 1) & (nc - 1);
            ns[k] = t->slot[i];
        }
        free(t->slot);
        t->slot = ns;
        t->cap = nc;
    }
    size_t k = hash5(input, commune) & (t->cap - 1);
    while (t->slot[k].used && (t->slot[k].input != input || strcmp(t->slot[k].commune, commune)))
        k = (k + 1) & (t->cap - 1);
    if (!t->slot[k].used) {
        t->slot[k].used = 1;
        t->slot[k].input = input;
        memcpy(t->slot[k].commune, commune, 6);
        t->used++;
    }
    return &t->slot[k];
}

/* ---- life cycle ---- */

static void worker_free(hworker *w)
{
    free(w->e);
    free(w->pool.p);
    free(w->listed);
    free(w->counts.slot);
    memset(w, 0, sizeof *w);
}

static void destroy(void *st)
{
    hstage *s = st;
    if (!s) return;
    for (int i = 0; s->w && i < s->nworkers; i++) worker_free(&s->w[i]);
    free(s->w);
    free(s->in);
    free(s->he);
    free(s->hpool.p);
    free(s->s_srs);
    free(s);
}

gf_status gf_harmonise_create(gf_ctx *ctx, const gf_harmonise_opts *opts, const gf_reader *reader, void **out)
{
    *out = NULL;
    hstage *s = calloc(1, sizeof *s);
    if (!s) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    if (opts) s->o = *opts;
    if (!s->o.max_listed) s->o.max_listed = 10000;
    if (s->o.s_srs) {
        gf_crs_info ci;
        gf_status st = gf_crs_resolve(ctx, s->o.s_srs, &ci);
        if (st) { destroy(s); return st; }
        s->s_srs = strdup(ci.id[0] ? ci.id : ci.wkt ? ci.wkt : "");
        snprintf(s->s_label, sizeof s->s_label, "%s", gf_crs_label(&ci));
        gf_crs_info_free(&ci);
        if (!s->s_srs) { destroy(s); return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); }
        s->o.s_srs = s->s_srs;
    }
    s->reader = reader;
    s->ninputs = gf_reader_count(reader);
    s->in = calloc((size_t)(s->ninputs ? s->ninputs : 1), sizeof *s->in);
    if (!s->in) { destroy(s); return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); }
    /* header repairs: the names the validation will use (gf_header_harmonise()) */
    for (int i = 0; i < s->ninputs; i++) {
        const char *const *names;
        const size_t *lens;
        int n;
        const char *hn[GF_CSV_MAX_FIELDS];
        size_t hl[GF_CSV_MAX_FIELDS];
        if (!gf_reader_header(reader, i, &names, &lens, &n, NULL) || n > GF_CSV_MAX_FIELDS) continue;
        s->in[i].renamed = gf_header_harmonise(names, lens, n, hn, hl);
        for (int k = 0; k < n && s->in[i].renamed; k++) {
            if (hn[k] == names[k]) continue;
            if (s->nhe % 16 == 0) {
                hentry *ne = realloc(s->he, (s->nhe + 16) * sizeof *ne);
                if (!ne) { destroy(s); return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); }
                s->he = ne;
            }
            hentry *e = &s->he[s->nhe];
            memset(e, 0, sizeof *e);
            e->input = (uint32_t)i;
            e->line = 0;
            e->seq = (uint32_t)k;
            e->code = GF_REPAIR_HEADER_ALIAS;
            e->pool = -1;
            int f = gf_schema_find(gf_address_schema(), hn[k]);
            e->field = f >= 0 ? f : GF_A_VOIE_NOM; /* toponyme is voie_nom's column */
            if (!pool_add(&s->hpool, names[k], lens[k], &e->before) || !pool_add(&s->hpool, hn[k], hl[k], &e->after)) {
                destroy(s);
                return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
            }
            s->nhe++;
        }
    }
    *out = s;
    return GF_OK;
}

static gf_status start(void *st, gf_ctx *ctx, gf_schema *schema, int nworkers)
{
    hstage *s = st;
    s->active = schema->kind && !strcmp(schema->kind, "address");
    s->nworkers = nworkers;
    s->w = calloc((size_t)nworkers, sizeof *s->w);
    if (!s->w) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    for (int i = 0; i < nworkers; i++)
        if (!(s->w[i].listed = calloc((size_t)(s->ninputs ? s->ninputs : 1), sizeof *s->w[i].listed)))
            return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    return GF_OK;
}

/* ---- one row ---- */

/* The repairs of one row, collected before its commune is known. */
typedef struct rowlog {
    int n;
    struct { gf_repair_code code; int field; char before[KEEP_TEXT + 1], after[KEEP_TEXT + 1]; } r[64];
} rowlog;

static void note(rowlog *rl, gf_repair_code code, int field, const char *before, size_t bn, const char *after,
                 size_t an)
{
    if (rl->n >= (int)(sizeof rl->r / sizeof rl->r[0])) return; /* counted by the caller's 64-field bound */
    if (bn > KEEP_TEXT) bn = KEEP_TEXT;
    if (an > KEEP_TEXT) an = KEEP_TEXT;
    rl->r[rl->n].code = code;
    rl->r[rl->n].field = field;
    memcpy(rl->r[rl->n].before, before, bn);
    rl->r[rl->n].before[bn] = 0;
    memcpy(rl->r[rl->n].after, after, an);
    rl->r[rl->n].after[an] = 0;
    rl->n++;
}

static const char *val(const gf_batch *b, int f, size_t row, size_t *n)
{
    if (!b->cols[f].valid[row]) { *n = 0; return NULL; }
    *n = b->cols[f].v.s[row].len;
    return b->arena + b->cols[f].v.s[row].off;
}

/* Rewrites field f of row with the repair fn when it fires; the old text
 * is copied first (the arena may move while the new one is stored). */
static gf_status apply(gf_batch *b, int f, size_t row, gf_repair_code code,
                       int (*fn)(const char *, size_t, char *, size_t), rowlog *rl)
{
    size_t n;
    const char *p = val(b, f, row, &n);
    char before[VAL_MAX], after[VAL_MAX];
    if (!p || n >= VAL_MAX) return GF_OK;
    memcpy(before, p, n);
    if (!fn(before, n, after, sizeof after)) return GF_OK;
    size_t an = strlen(after);
    gf_status st = gf_batch_set_str(b, f, row, after, an);
    if (st) return st;
    note(rl, code, f, before, n, after, an);
    return GF_OK;
}

/* The commune code of a row for the counts: commune_insee, else the start
 * of cle_interop (BAL 1.1), when it has the form of an INSEE code (five
 * characters, digits, 2A/2B); "" otherwise, so that garbage cannot make
 * the table grow. */
static void row_commune(const gf_batch *b, size_t row, char out[6])
{
    size_t n;
    const char *p = val(b, GF_A_COMMUNE_INSEE, row, &n);
    if (!p || n != 5) {
        p = val(b, GF_A_CLE_INTEROP, row, &n);
        if (p && n >= 6 && p[5] == '_') n = 5;
    }
    out[0] = 0;
    if (!p || n != 5) return;
    for (int i = 0; i < 5; i++) {
        char c = p[i];
        if (i == 1 && (c == 'a' || c == 'b')) c = (char)(c - 32);
        if (!((c >= '0' && c <= '9') || (i == 1 && (c == 'A' || c == 'B')))) { out[0] = 0; return; }
        out[i] = c;
    }
    out[5] = 0;
}

static int parse_num(const char *p, size_t n, double *v)
{
    return p && gf_parse_double(p, n, 0, v) && isfinite(*v);
}

static gf_status lonlat(hstage *s, gf_ctx *wctx, gf_batch *b, size_t row, const char *commune, rowlog *rl)
{
    size_t nlo, nla, nx, ny;
    const char *plo = val(b, GF_A_LONG, row, &nlo), *pla = val(b, GF_A_LAT, row, &nla);
    double lo, la, x, y;
    char before[2 * VAL_MAX], after[2 * VAL_MAX];
    if (plo && pla) {
        /* swapped: only with the boundaries, and only when the swap puts the
         * point inside the commune it declares and the given one is not */
        if (!s->o.communes || !commune[0] || !parse_num(plo, nlo, &lo) || !parse_num(pla, nla, &la)) return GF_OK;
        int ix = gf_join_find_code(s->o.communes, commune, 5);
        if (ix < 0 || gf_join_locate(s->o.communes, lo, la) == ix || gf_join_locate(s->o.communes, la, lo) != ix)
            return GF_OK;
        snprintf(before, sizeof before, "%.*s;%.*s", (int)nlo, plo, (int)nla, pla);
        snprintf(after, sizeof after, "%.*s;%.*s", (int)nla, pla, (int)nlo, plo);
        gf_sref t = b->cols[GF_A_LONG].v.s[row]; /* the same texts, exchanged */
        b->cols[GF_A_LONG].v.s[row] = b->cols[GF_A_LAT].v.s[row];
        b->cols[GF_A_LAT].v.s[row] = t;
        note(rl, GF_REPAIR_LONLAT_SWAPPED, FIELD_LONLAT, before, strlen(before), after, strlen(after));
        return GF_OK;
    }
    if (plo || pla) return GF_OK; /* one of the two: nothing certain */
    const char *px = val(b, GF_A_X, row, &nx), *py = val(b, GF_A_Y, row, &ny);
    if (!parse_num(px, nx, &x) || !parse_num(py, ny, &y)) return GF_OK;
    /* in the CRS the user gave, else in the one x/y's ranges and the
     * commune designate (none fits: nothing is guessed) */
    int epsg = 0;
    gf_status st = s->s_srs ? gf_xy_to_lonlat(wctx, s->s_srs, x, y, &lo, &la)
                            : gf_xy_detect_lonlat(wctx, x, y, commune[0] ? commune : NULL, commune[0] ? 5 : 0, &lo, &la, &epsg);
    if (st == GF_DONE) return GF_OK;
    if (st) return st;
    char tlo[32], tla[32];
    int l1 = snprintf(tlo, sizeof tlo, "%.7f", lo), l2 = snprintf(tla, sizeof tla, "%.7f", la);
    int an = snprintf(after, sizeof after, "%s;%s", tlo, tla);
    /* before: where they come from (the CRS and x;y), long/lat being
     * empty; written now, while px and py still point into the arena */
    char crs[80];
    if (s->s_srs) snprintf(crs, sizeof crs, "%s", s->s_label);
    else snprintf(crs, sizeof crs, "EPSG:%d", epsg);
    snprintf(before, sizeof before, "%s %.*s;%.*s", crs, (int)(nx > 60 ? 60 : nx), px, (int)(ny > 60 ? 60 : ny), py);
    if ((st = gf_batch_set_str(b, GF_A_LONG, row, tlo, (size_t)l1)) ||
        (st = gf_batch_set_str(b, GF_A_LAT, row, tla, (size_t)l2)))
        return st;
    note(rl, GF_REPAIR_LONLAT_FROM_XY, FIELD_LONLAT, before, strlen(before), after, (size_t)an);
    return GF_OK;
}

static void offer(hstage *s, hworker *w, uint32_t input, uint64_t line, const char *commune, const rowlog *rl)
{
    hcount *c = table_get(&w->counts, input, commune);
    if (!c) { w->nomem = 1; return; }
    for (int i = 0; i < rl->n; i++) {
        c->n[rl->r[i].code]++;
        w->attempted++;
        if (input >= (uint32_t)s->ninputs || w->listed[input] >= s->o.max_listed) continue;
        if (w->n == w->cap) {
            size_t nc = w->cap ? w->cap * 2 : 256;
            hentry *ne = realloc(w->e, nc * sizeof *ne);
            if (!ne) { w->nomem = 1; return; }
            w->e = ne;
            w->cap = nc;
        }
        hentry *e = &w->e[w->n];
        e->input = input;
        e->line = line;
        e->field = rl->r[i].field;
        e->seq = (uint32_t)i;
        e->code = rl->r[i].code;
        memcpy(e->commune, commune, 6);
        e->pool = 0;
        if (!pool_add(&w->pool, rl->r[i].before, strlen(rl->r[i].before), &e->before) ||
            !pool_add(&w->pool, rl->r[i].after, strlen(rl->r[i].after), &e->after)) {
            w->nomem = 1;
            return;
        }
        w->n++;
        w->listed[input]++;
    }
}

static gf_status run(void *st, gf_ctx *wctx, int worker, gf_batch *b)
{
    hstage *s = st;
    if (!s->active) return GF_OK;
    gf_status rc = gf_batch_expect(b, wctx, gf_address_schema(), 0, GF_COL_TEXT, "harmonise");
    if (rc) return rc;
    hworker *w = &s->w[worker];
    rowlog rl;
    const gf_schema *sc = b->schema;
    for (size_t row = 0; row < b->n; row++) {
        rl.n = 0;
        uint32_t src = b->src[row];
        int bal = gf_layout_is_bal(gf_reader_layout(s->reader, (int)src));
        if (b->flags[row] & GF_ROW_TRANSCODED) note(&rl, GF_REPAIR_ENCODING, -1, "windows-1252", 12, "utf-8", 5);
        /* trim every text column (multilingual ones included), narrowing the
         * text where it is: the same bytes, no new value */
        for (int f = 0; f < sc->nfields; f++) {
            size_t n;
            const char *p = val(b, f, row, &n);
            if (!p) continue;
            const char *q = p;
            size_t m = n;
            gf_validate_trim(&q, &m);
            if (m == n) continue;
            note(&rl, GF_REPAIR_TRIM, f, p, n, q, m);
            b->cols[f].v.s[row] = (gf_sref){(uint32_t)(q - b->arena), (uint32_t)m};
            if (!m) b->cols[f].valid[row] = 0;
        }
        if (bal) {
            if ((rc = apply(b, GF_A_CLE_INTEROP, row, GF_REPAIR_CLE_INTEROP_CASE, gf_harmonise_cle_interop_case, &rl)) ||
                (rc = apply(b, GF_A_CLE_INTEROP, row, GF_REPAIR_CLE_INTEROP_PADDING, gf_harmonise_cle_interop_padding, &rl)) ||
                (rc = apply(b, GF_A_NUMERO, row, GF_REPAIR_NUMERO_DECIMAL, gf_harmonise_numero_decimal, &rl)) ||
                (rc = apply(b, GF_A_NUMERO, row, GF_REPAIR_NUMERO_PREFIX, gf_harmonise_numero, &rl)) ||
                (rc = apply(b, GF_A_CERTIFICATION_COMMUNE, row, GF_REPAIR_CERTIFICATION, gf_harmonise_certification, &rl)))
                return gf_ctx_err(wctx, rc, "harmonise: out of memory");
            /* one of the date forms at most fires: each needs its own shape */
            int before = rl.n;
            if ((rc = apply(b, GF_A_DATE_DER_MAJ, row, GF_REPAIR_DATE_TIME, gf_harmonise_date_time, &rl)) ||
                (rl.n == before && (rc = apply(b, GF_A_DATE_DER_MAJ, row, GF_REPAIR_DATE_FR, gf_harmonise_date_fr, &rl))) ||
                (rl.n == before && (rc = apply(b, GF_A_DATE_DER_MAJ, row, GF_REPAIR_DATE_YMD, gf_harmonise_date_ymd, &rl))) ||
                (rl.n == before && (rc = apply(b, GF_A_DATE_DER_MAJ, row, GF_REPAIR_DATE_EXCEL, gf_harmonise_date_excel, &rl))))
                return gf_ctx_err(wctx, rc, "harmonise: out of memory");
        }
        static const int coords[] = {GF_A_X, GF_A_Y, GF_A_LONG, GF_A_LAT};
        for (int k = 0; k < 4; k++)
            if ((rc = apply(b, coords[k], row, GF_REPAIR_DECIMAL_COMMA, gf_harmonise_decimal_comma, &rl)))
                return gf_ctx_err(wctx, rc, "harmonise: out of memory");
        char commune[6];
        row_commune(b, row, commune);
        if ((rc = lonlat(s, wctx, b, row, commune, &rl))) return rc;
        /* the header's entries are listed once per input, at line 0 (made
         * at create); each row read through a renamed column counts */
        if (src < (uint32_t)s->ninputs && s->in[src].renamed) {
            hcount *c = table_get(&w->counts, src, commune);
            if (!c) w->nomem = 1;
            else c->n[GF_REPAIR_HEADER_ALIAS]++;
        }
        if (rl.n) offer(s, w, src, b->line[row], commune, &rl);
        if (w->nomem) return gf_ctx_err(wctx, GF_ERR_NOMEM, "harmonise: out of memory");
    }
    return GF_OK;
}

/* ---- the end: merge, sort, hand over ---- */

static int entry_cmp(const void *a, const void *b)
{
    const hentry *x = a, *y = b;
    if (x->input != y->input) return x->input < y->input ? -1 : 1;
    if (x->line != y->line) return x->line < y->line ? -1 : 1;
    if (x->field != y->field) return x->field < y->field ? -1 : 1;
    if (x->seq != y->seq) return x->seq < y->seq ? -1 : 1;
    return 0;
}

static int count_cmp(const void *a, const void *b)
{
    const gf_harmonise_count *x = a, *y = b;
    if (x->input != y->input) return x->input < y->input ? -1 : 1;
    int c = strcmp(x->commune, y->commune);
    if (c) return c;
    return (int)x->code - (int)y->code;
}

static void abort_run(void *st) { ((hstage *)st)->aborted = 1; }

static const char *field_name(int f)
{
    if (f == FIELD_LONLAT) return "long,lat";
    if (f < 0) return "";
    return f < GF_A_COUNT ? gf_address_schema()->fields[f].name : "";
}

static gf_status end(void *st, gf_ctx *ctx)
{
    hstage *s = st;
    gf_status rc = GF_OK;
    if (!s->w || s->aborted) return GF_OK;
    /* every entry, sorted */
    size_t total = s->nhe;
    for (int k = 0; k < s->nworkers; k++) total += s->w[k].n;
    hentry *all = malloc((total ? total : 1) * sizeof *all);
    gf_harmonise_entry *ents = malloc((total ? total : 1) * sizeof *ents);
    /* communes: merged table */
    htable merged = {0};
    gf_harmonise_count *counts = NULL;
    if (!all || !ents) { rc = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto done; }
    size_t m = 0;
    if (s->nhe) memcpy(all, s->he, s->nhe * sizeof *all);
    m = s->nhe;
    for (int k = 0; k < s->nworkers; k++) {
        for (size_t i = 0; i < s->w[k].n; i++) {
            all[m] = s->w[k].e[i];
            all[m].pool = k;
            m++;
        }
    }
    qsort(all, m, sizeof *all, entry_cmp);
    gf_harmonise_result r;
    memset(&r, 0, sizeof r);
    size_t ne = 0, run_n = 0;
    uint64_t offered = s->nhe;
    for (int k = 0; k < s->nworkers; k++) offered += s->w[k].attempted;
    for (size_t i = 0; i < m; i++) {
        if (i == 0 || all[i].input != all[i - 1].input) run_n = 0;
        if (run_n++ >= s->o.max_listed) continue;
        const hentry *e = &all[i];
        const char *pool = e->pool < 0 ? s->hpool.p : s->w[e->pool].pool.p;
        ents[ne++] = (gf_harmonise_entry){.input = e->input, .line = e->line, .commune = e->commune,
                                          .code = e->code, .field = field_name(e->field),
                                          .before = pool + e->before, .after = pool + e->after};
    }
    r.entries = ents;
    r.nentries = ne;
    r.unlisted = offered - ne;
    for (int k = 0; k < s->nworkers; k++) {
        htable *t = &s->w[k].counts;
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->slot[i].used) continue;
            hcount *c = table_get(&merged, t->slot[i].input, t->slot[i].commune);
            if (!c) { rc = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto done; }
            for (int q = 0; q < GF_REPAIR_COUNT; q++) c->n[q] += t->slot[i].n[q];
        }
    }
    size_t nc = 0;
    for (size_t i = 0; i < merged.cap; i++)
        for (int q = 0; q < GF_REPAIR_COUNT; q++) nc += merged.slot[i].used && merged.slot[i].n[q];
    counts = malloc((nc ? nc : 1) * sizeof *counts);
    if (!counts) { rc = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto done; }
    nc = 0;
    for (size_t i = 0; i < merged.cap; i++)
        for (int q = 0; q < GF_REPAIR_COUNT; q++)
            if (merged.slot[i].used && merged.slot[i].n[q]) {
                counts[nc++] = (gf_harmonise_count){merged.slot[i].input, merged.slot[i].commune, (gf_repair_code)q,
                                                    merged.slot[i].n[q]};
                r.total[q] += merged.slot[i].n[q];
            }
    qsort(counts, nc, sizeof *counts, count_cmp);
    r.counts = counts;
    r.ncounts = nc;
    if (s->o.on_done) {
        s->o.on_done(s->o.user, &r);
    } else {
        for (int q = 0; q < GF_REPAIR_COUNT; q++)
            if (r.total[q]) gf_ctx_log(ctx, GF_LOG_INFO, "%s: %llu", gf_repair_name((gf_repair_code)q),
                                       (unsigned long long)r.total[q]);
    }
done:
    free(all);
    free(ents);
    free(counts);
    free(merged.slot);
    for (int k = 0; k < s->nworkers; k++) worker_free(&s->w[k]);
    free(s->w);
    s->w = NULL;
    return rc;
}

const gf_stage_vt gf_harmonise_stage_vt = {
    .name = "harmonise",
    .start = start,
    .run = run,
    .end = end,
    .destroy = destroy,
    .abort = abort_run,
};
