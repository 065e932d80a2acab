/* The diff job (`geoflux diff`, see include/geoflux/diff.h): each file goes
 * through reader -> typing -> reproject into a collecting sink that keeps
 * one entry per address; the two tables are then compared and the changes
 * written. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "geoflux/address.h"
#include "geoflux/diff.h"
#include "geoflux/pipeline.h"
#include "geoflux/reproject.h"
#include "geoflux/write.h"
#include "job/job_int.h"
#include "write/csv.h"
#include "write/ofile.h"

enum { KEY_BAN, KEY_CLE, KEY_ADR };
static const char *const key_names[] = {"id_ban_adresse", "cle_interop", "commune+voie+numero"};

/* Fields shown in every output row: commune_insee, voie_nom, numero, suffixe. */
static const int desc_fields[4] = {GF_A_COMMUNE_INSEE, GF_A_VOIE_NOM, GF_A_NUMERO, GF_A_SUFFIXE};

typedef struct dent {
    uint32_t koff, klen;       /* identifier in the arena */
    uint32_t doff, dlen[4];    /* desc_fields as text, one after the other */
    uint32_t fh[GF_A_COUNT];   /* hash of each field's typed value (0: null) */
    uint32_t npos;             /* rows of the address */
    int has_pos, seen;
    double lon, lat;
} dent;

typedef struct dtable {
    int key;                   /* KEY_* */
    int cmp[GF_A_COUNT];       /* fields compared */
    const gf_schema *schema;
    gf_buf arena;
    dent *e;
    size_t n, cap;
    uint32_t *slot;            /* open addressing: entry index + 1 */
    size_t nslots;
} dtable;

static uint64_t fnv(const void *p, size_t n, uint64_t h)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211ull;
    return h;
}
#define FNV0 14695981039346656037ull

/* Hash of a typed value, never 0 (0 stands for null). */
static uint32_t value_hash(const gf_batch *b, int f, size_t r)
{
    const gf_col *c = &b->cols[f];
    if (!c->valid[r]) return 0;
    uint64_t h;
    switch (b->schema->fields[f].type) {
    case GF_T_STRING:
    case GF_T_DATE: h = fnv(b->arena + c->v.s[r].off, c->v.s[r].len, FNV0); break;
    case GF_T_REAL: {
        double d = c->v.d[r] == 0 ? 0 : c->v.d[r]; /* -0 == 0 */
        h = fnv(&d, sizeof d, FNV0);
        break;
    }
    default: h = fnv(&c->v.i[r], sizeof c->v.i[r], FNV0); break;
    }
    uint32_t v = (uint32_t)(h ^ (h >> 32));
    return v ? v : 1;
}

static gf_status text_of(const gf_batch *b, int f, size_t r, gf_buf *out)
{
    const gf_col *c = &b->cols[f];
    if (!c->valid[r]) return GF_OK;
    gf_type t = b->schema->fields[f].type;
    if (t == GF_T_STRING || t == GF_T_DATE) return gf_buf_append(out, b->arena + c->v.s[r].off, c->v.s[r].len);
    char tmp[64];
    int n = gf_fmt_scalar(t, c, r, tmp);
    return n > 0 ? gf_buf_append(out, tmp, (size_t)n) : GF_OK;
}

/* The identifier of row r: the table's key field, or commune + street +
 * number + suffix when that field is empty. Lower-cased (identifiers are
 * case-insensitive in the BAL rules). */
static gf_status row_key(const dtable *t, const gf_batch *b, size_t r, gf_buf *k)
{
    gf_status st;
    k->len = 0;
    int f = t->key == KEY_BAN ? GF_A_ID_BAN_ADRESSE : t->key == KEY_CLE ? GF_A_CLE_INTEROP : -1;
    if (f >= 0 && b->cols[f].valid[r] && b->cols[f].v.s[r].len) {
        if ((st = text_of(b, f, r, k))) return st;
    } else {
        if ((st = gf_buf_append(k, "@", 1))) return st; /* never equal to an identifier */
        for (int i = 0; i < 4; i++) {
            if (i && (st = gf_buf_append(k, "\x1f", 1))) return st;
            if ((st = text_of(b, desc_fields[i], r, k))) return st;
        }
    }
    for (size_t i = 0; i < k->len; i++)
        if (k->p[i] >= 'A' && k->p[i] <= 'Z') k->p[i] = (char)(k->p[i] - 'A' + 'a');
    return GF_OK;
}

static dent *lookup(const dtable *t, const char *k, size_t n, size_t *slot)
{
    if (!t->nslots) return NULL;
    size_t m = t->nslots - 1, i = (size_t)fnv(k, n, FNV0) & m;
    for (;; i = (i + 1) & m) {
        uint32_t v = t->slot[i];
        if (!v) { if (slot) *slot = i; return NULL; }
        dent *e = &t->e[v - 1];
        if (e->klen == n && !memcmp(t->arena.p + e->koff, k, n)) return e;
    }
}

static gf_status grow(dtable *t)
{
    size_t ns = t->nslots ? t->nslots * 2 : 4096;
    uint32_t *s = calloc(ns, sizeof *s);
    if (!s) return GF_ERR_NOMEM;
    for (size_t j = 0; j < t->n; j++) {
        const dent *e = &t->e[j];
        size_t i = (size_t)fnv(t->arena.p + e->koff, e->klen, FNV0) & (ns - 1);
        while (s[i]) i = (i + 1) & (ns - 1);
        s[i] = (uint32_t)(j + 1);
    }
    free(t->slot);
    t->slot = s;
    t->nslots = ns;
    return GF_OK;
}

/* ---- the collecting sink ---------------------------------------------------- */

static gf_status c_begin(void *st, gf_ctx *ctx, const gf_schema *schema, int nworkers)
{
    (void)ctx; (void)nworkers;
    ((dtable *)st)->schema = schema;
    return GF_OK;
}

static gf_status c_encode(void *st, gf_ctx *ctx, int worker, const gf_batch *b, gf_buf *out)
{
    (void)st; (void)ctx; (void)worker; (void)b; (void)out;
    return GF_OK;
}

static gf_status c_commit(void *stv, gf_ctx *ctx, const gf_batch *b, const gf_buf *enc)
{
    dtable *t = stv;
    gf_status st = gf_batch_expect(b, ctx, t->schema, 1, GF_COL_TYPED, "diff");
    if (st) return st;
    gf_buf k = {0};
    for (size_t r = 0; r < b->n && !st; r++) {
        if ((st = row_key(t, b, r, &k))) break;
        size_t slot = 0;
        dent *e = lookup(t, k.p, k.len, &slot);
        if (e) { e->npos++; continue; }
        if ((t->n + 1) * 2 > t->nslots) {
            if ((st = grow(t))) break;
            lookup(t, k.p, k.len, &slot);
        }
        if (t->n == t->cap) {
            size_t nc = t->cap ? t->cap * 2 : 1024;
            dent *ne = realloc(t->e, nc * sizeof *ne);
            if (!ne) { st = GF_ERR_NOMEM; break; }
            t->e = ne;
            t->cap = nc;
        }
        e = &t->e[t->n];
        memset(e, 0, sizeof *e);
        e->koff = (uint32_t)t->arena.len;
        e->klen = (uint32_t)k.len;
        if ((st = gf_buf_append(&t->arena, k.p, k.len))) break;
        e->doff = (uint32_t)t->arena.len;
        for (int i = 0; i < 4 && !st; i++) {
            size_t before = t->arena.len;
            st = text_of(b, desc_fields[i], r, &t->arena);
            e->dlen[i] = (uint32_t)(t->arena.len - before);
        }
        if (st) break;
        if (t->arena.len > UINT32_MAX) { st = GF_ERR_NOMEM; break; } /* offsets are 32-bit */
        for (int f = 0; f < GF_A_COUNT; f++)
            if (t->cmp[f]) e->fh[f] = value_hash(b, f, r);
        e->npos = 1;
        e->has_pos = (b->flags[r] & GF_ROW_HAS_POS) && isfinite(b->lon[r]) && isfinite(b->lat[r]);
        e->lon = b->lon[r];
        e->lat = b->lat[r];
        t->slot[slot] = (uint32_t)(t->n + 1);
        t->n++;
    }
    gf_buf_free(&k);
    (void)enc;
    return st ? gf_ctx_err(ctx, st, "diff: out of memory (the addresses of both files are held)") : GF_OK;
}

static gf_status c_finish(void *st, gf_ctx *ctx) { (void)st; (void)ctx; return GF_OK; }
static void c_abort(void *st) { (void)st; }
static void c_destroy(void *st) { (void)st; } /* the table belongs to gf_diff_run() */

static const gf_sink_vt collect_vt = {
    .name = "diff", .begin = c_begin, .encode = c_encode, .commit = c_commit,
    .finish = c_finish, .abort = c_abort, .destroy = c_destroy,
};

static void table_free(dtable *t)
{
    gf_buf_free(&t->arena);
    free(t->e);
    free(t->slot);
}

/* Which canonical fields an input's header has (GF_ERR_SCHEMA when it is
 * not an address file). */
static gf_status header_fields(gf_ctx *ctx, const gf_reader *rd, gf_header_map *m)
{
    const char *const *names;
    const size_t *lens;
    int n;
    if (!gf_reader_header(rd, 0, &names, &lens, &n, NULL))
        return gf_ctx_err(ctx, GF_ERR_INPUT, "%s: cannot read its header", gf_reader_path(rd, 0));
    gf_csv_record rec = {.nfields = n};
    for (int i = 0; i < n && i < GF_CSV_MAX_FIELDS; i++) {
        rec.field[i] = names[i];
        rec.len[i] = lens[i];
    }
    gf_status st = gf_header_map_address(ctx, &rec, m);
    if (st) {
        char msg[512]; /* never format the error buffer into itself */
        snprintf(msg, sizeof msg, "%s", gf_ctx_errmsg(ctx));
        return gf_ctx_err(ctx, st, "%s: %s", gf_reader_path(rd, 0), msg);
    }
    return GF_OK;
}

static gf_status collect(gf_ctx *ctx, const gf_diff_opts *o, gf_reader *rd, dtable *t, uint64_t *rows,
                         uint64_t *rejected)
{
    gf_pipeline *p = NULL;
    void *rp = NULL;
    gf_pipeline_opts po = {.threads = o->threads, .engine = o->engine};
    gf_status st = gf_pipeline_create(ctx, &po, &p);
    if (st) { gf_reader_destroy(rd); return st; }
    gf_pipeline_set_source(p, &gf_reader_source_vt, rd, gf_reader_schema(rd), (void (*)(void *))gf_reader_destroy);
    gf_reproject_opts rpo = {0};
    if ((st = gf_pipeline_add_stage(p, &gf_typing_stage_vt, NULL))) goto done;
    if ((st = gf_reproject_create(ctx, &rpo, &rp))) goto done;
    if ((st = gf_pipeline_add_stage(p, &gf_reproject_stage_vt, rp))) { gf_reproject_stage_vt.destroy(rp); goto done; }
    if ((st = gf_pipeline_add_sink(p, &collect_vt, t))) goto done;
    gf_run_stats s;
    if ((st = gf_pipeline_run(p, &s))) goto done;
    *rows = s.read;
    *rejected = s.rejected;
done:
    gf_pipeline_destroy(p);
    t->schema = NULL; /* the pipeline's copy, freed with it */
    return st;
}

/* Great-circle distance in metres (spherical Earth, mean radius): enough
 * to tell a move of a metre from none. */
static double dist_m(double lon1, double lat1, double lon2, double lat2)
{
    const double d2r = M_PI / 180.0;
    double dlat = (lat2 - lat1) * d2r, dlon = (lon2 - lon1) * d2r;
    double a = sin(dlat / 2) * sin(dlat / 2) + cos(lat1 * d2r) * cos(lat2 * d2r) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * 6371008.8 * asin(sqrt(a < 1 ? a : 1));
}

/* ---- output ------------------------------------------------------------------ */

typedef struct dout {
    int geojson, nfeat;
    gf_buf b;      /* the rows being formatted, handed to f in blocks */
    gf_ofile f;    /* the output (atomic; "-": standard output) */
} dout;

static gf_status flush_out(gf_ctx *ctx, dout *w, int force)
{
    if (!force && w->b.len < (1u << 16)) return GF_OK;
    gf_status st = gf_ofile_write(ctx, &w->f, w->b.p, w->b.len);
    w->b.len = 0;
    return st;
}

static const char *const out_cols[] = {"change", "id", "commune_insee", "voie_nom", "numero", "suffixe",
                                       "fields", "distance_m", "old_lon", "old_lat", "new_lon", "new_lat"};

/* One change: e (NEW) and/or oe (OLD); fields: '|'-separated names. */
static gf_status put_change(dout *w, const char *change, const dtable *tn, const dent *e, const dtable *to,
                            const dent *oe, const char *fields, double dist)
{
    const dtable *dt = e ? tn : to;
    const dent *d = e ? e : oe;
    char num[4][40];
    const double v[4] = {oe ? oe->lon : NAN, oe ? oe->lat : NAN, e ? e->lon : NAN, e ? e->lat : NAN};
    const int ok[4] = {oe && oe->has_pos, oe && oe->has_pos, e && e->has_pos, e && e->has_pos};
    for (int i = 0; i < 4; i++) num[i][0] = 0;
    for (int i = 0; i < 4; i++)
        if (ok[i]) snprintf(num[i], sizeof num[i], "%.7f", v[i]);
    char dbuf[40] = "";
    if (dist >= 0) snprintf(dbuf, sizeof dbuf, "%.2f", dist);
    const char *txt[12];
    size_t len[12];
    txt[0] = change; len[0] = strlen(change);
    txt[1] = dt->arena.p + d->koff; len[1] = d->klen;
    if (len[1] && txt[1][0] == '@') { txt[1] = ""; len[1] = 0; } /* no identifier: the fallback key */
    size_t off = d->doff;
    for (int i = 0; i < 4; i++) { txt[2 + i] = dt->arena.p + off; len[2 + i] = d->dlen[i]; off += d->dlen[i]; }
    txt[6] = fields; len[6] = strlen(fields);
    txt[7] = dbuf; len[7] = strlen(dbuf);
    for (int i = 0; i < 4; i++) { txt[8 + i] = num[i]; len[8 + i] = strlen(num[i]); }
    gf_buf *b = &w->b;
    if (!w->geojson) {
        for (int i = 0; i < 12; i++) {
            if (i) gf_buf_append(b, ";", 1);
            gf_csv_put_field(b, txt[i], len[i], ';', 0);
        }
        return gf_buf_append(b, "\n", 1);
    }
    if (w->nfeat++) gf_buf_append(b, ",", 1);
    gf_buf_append(b, "\n", 1);
    gf_buf_append(b, "{\"type\":\"Feature\",\"geometry\":", 29);
    int gi = e && e->has_pos ? 10 : oe && oe->has_pos ? 8 : -1;
    if (gi < 0) gf_buf_append(b, "null", 4);
    else gf_buf_printf(b, "{\"type\":\"Point\",\"coordinates\":[%s,%s]}", num[gi - 8], num[gi - 7]);
    gf_buf_append(b, ",\"properties\":{", 15);
    for (int i = 0; i < 12; i++) {
        if (i) gf_buf_append(b, ",", 1);
        gf_buf_json_str(b, out_cols[i], strlen(out_cols[i]));
        gf_buf_append(b, ":", 1);
        if (i >= 7 || i == 4) { /* numbers, or null */
            if (len[i]) gf_buf_append(b, txt[i], len[i]);
            else gf_buf_append(b, "null", 4);
        } else if (i == 6) { /* the fields as an array */
            gf_buf_append(b, "[", 1);
            const char *s = fields;
            for (int k = 0; *s; k++) {
                const char *bar = strchr(s, '|');
                size_t n = bar ? (size_t)(bar - s) : strlen(s);
                if (k) gf_buf_append(b, ",", 1);
                gf_buf_json_str(b, s, n);
                s += n + (bar != NULL);
            }
            gf_buf_append(b, "]", 1);
        } else if (len[i] || i < 2) {
            gf_buf_json_str(b, txt[i], len[i]);
        } else {
            gf_buf_append(b, "null", 4);
        }
    }
    return gf_buf_append(b, "}}", 2);
}

/* The changed fields of an address, '|'-separated, in schema order. */
static void changed_fields(const dent *oe, const dtable *tn, const dent *ne, gf_buf *out)
{
    out->len = 0;
    for (int f = 0; f < GF_A_COUNT; f++) {
        if (!tn->cmp[f] || oe->fh[f] == ne->fh[f]) continue;
        const char *name = gf_address_schema()->fields[f].name; /* tn->schema died with its pipeline */
        if (out->len) gf_buf_append(out, "|", 1);
        gf_buf_append(out, name, strlen(name));
    }
    if (oe->npos != ne->npos) {
        if (out->len) gf_buf_append(out, "|", 1);
        gf_buf_append(out, "positions", 9);
    }
    if (oe->has_pos != ne->has_pos) {
        if (out->len) gf_buf_append(out, "|", 1);
        gf_buf_append(out, "position", 8);
    }
    gf_buf_append(out, "", 1);
    out->len--;
}

static gf_status compare(gf_ctx *ctx, const gf_diff_opts *o, dtable *to, dtable *tn, dout *w, gf_diff_stats *s)
{
    gf_status st = GF_OK;
    double mv = o->move_m > 0 ? o->move_m : 1.0;
    gf_buf fl = {0};
    gf_buf_append(&fl, "", 1);
    for (size_t i = 0; i < tn->n && !st; i++) {
        dent *ne = &tn->e[i];
        dent *oe = lookup(to, tn->arena.p + ne->koff, ne->klen, NULL);
        if (!oe) {
            s->added++;
            st = put_change(w, "added", tn, ne, to, NULL, "", -1);
        } else {
            oe->seen = 1;
            changed_fields(oe, tn, ne, &fl);
            double d = oe->has_pos && ne->has_pos ? dist_m(oe->lon, oe->lat, ne->lon, ne->lat) : -1;
            if (d > mv) { s->moved++; st = put_change(w, "moved", tn, ne, to, oe, fl.p, d); }
            else if (fl.len) { s->modified++; st = put_change(w, "modified", tn, ne, to, oe, fl.p, d); }
            else s->unchanged++;
        }
        if (!st) st = flush_out(ctx, w, 0);
    }
    for (size_t i = 0; i < to->n && !st; i++) {
        if (to->e[i].seen) continue;
        s->removed++;
        st = put_change(w, "removed", tn, NULL, to, &to->e[i], "", -1);
        if (!st) st = flush_out(ctx, w, 0);
    }
    gf_buf_free(&fl);
    return st;
}

gf_status gf_diff_run(gf_ctx *ctx, const gf_diff_opts *o, gf_diff_stats *s)
{
    memset(s, 0, sizeof *s);
    if (!o->old_path || !o->new_path) return gf_ctx_err(ctx, GF_ERR_ARG, "diff needs two files: OLD NEW");
    if (!o->output) return gf_ctx_err(ctx, GF_ERR_ARG, "no output (-o FILE.csv or FILE.geojson, - for CSV on stdout)");
    if (!strcmp(o->old_path, "-") && !strcmp(o->new_path, "-"))
        return gf_ctx_err(ctx, GF_ERR_ARG, "only one of OLD and NEW may be standard input");
    if (o->move_m < 0 || !isfinite(o->move_m)) return gf_ctx_err(ctx, GF_ERR_ARG, "--move must be a distance >= 0");
    const char *ext = strrchr(o->output, '.');
    int geojson = ext && (!strcasecmp(ext, ".geojson") || !strcasecmp(ext, ".json"));
    if (strcmp(o->output, "-") && !geojson && !(ext && !strcasecmp(ext, ".csv")))
        return gf_ctx_err(ctx, GF_ERR_ARG, "%s: the diff is written as .csv or .geojson", o->output);
    const char *inputs[2] = {o->old_path, o->new_path};
    const gf_path_role outs[1] = {{o->output, "output"}};
    gf_status st;
    if ((st = gf_output_check_paths(ctx, inputs, 2, outs, 1, o->overwrite ? GF_CHECK_OVERWRITE : 0))) return st;
    for (int i = 0; i < 2; i++)
        if ((st = gf_job_check_input(ctx, inputs[i]))) return st;
    if ((st = gf_job_check_output(ctx, o->output))) return st;

    gf_reader *rd[2] = {NULL, NULL};
    gf_header_map hm[2];
    dtable t[2];
    memset(t, 0, sizeof t);
    dout w = {.geojson = geojson};
    for (int i = 0; i < 2; i++) {
        if ((st = gf_reader_open(ctx, &inputs[i], 1, &o->read, &rd[i]))) goto done;
        if ((st = header_fields(ctx, rd[i], &hm[i]))) goto done;
    }
    /* the identifier, and the fields both files have */
    int key = KEY_ADR;
    if (hm[0].field_col[GF_A_ID_BAN_ADRESSE] >= 0 && hm[1].field_col[GF_A_ID_BAN_ADRESSE] >= 0) key = KEY_BAN;
    else if (hm[0].field_col[GF_A_CLE_INTEROP] >= 0 && hm[1].field_col[GF_A_CLE_INTEROP] >= 0) key = KEY_CLE;
    s->key = key_names[key];
    const gf_schema *as = gf_reader_schema(rd[0]);
    for (int f = 0; f < GF_A_COUNT; f++) {
        int in0 = hm[0].field_col[f] >= 0, in1 = hm[1].field_col[f] >= 0;
        int pos = f == GF_A_X || f == GF_A_Y || f == GF_A_LONG || f == GF_A_LAT;
        int both = in0 && in1 && !pos;
        t[0].cmp[f] = t[1].cmp[f] = both;
        if (in0 != in1 && !pos) {
            size_t l = strlen(s->not_compared);
            snprintf(s->not_compared + l, sizeof s->not_compared - l, "%s%s", l ? ", " : "", as->fields[f].name);
        }
    }
    t[0].key = t[1].key = key;
    for (int i = 0; i < 2; i++) {
        gf_reader *r = rd[i];
        rd[i] = NULL; /* the pipeline owns it */
        if ((st = collect(ctx, o, r, &t[i], &s->rows[i], &s->rejected[i]))) goto done;
        s->addresses[i] = t[i].n;
    }
    if ((st = gf_ofile_open(ctx, o->output, &w.f))) goto done;
    if (geojson) gf_buf_append(&w.b, "{\"type\":\"FeatureCollection\",\"features\":[", 40);
    else
        for (int i = 0; i < 12; i++) {
            gf_buf_append(&w.b, i ? ";" : "", i ? 1 : 0);
            gf_buf_append(&w.b, out_cols[i], strlen(out_cols[i]));
        }
    if (!geojson) gf_buf_append(&w.b, "\n", 1);
    if ((st = compare(ctx, o, &t[0], &t[1], &w, s))) goto done;
    if (geojson) gf_buf_append(&w.b, "\n]}\n", 4);
    if ((st = flush_out(ctx, &w, 1)) || (st = gf_ofile_close(ctx, &w.f)) || (st = gf_ofile_publish(ctx, &w.f)))
        goto done;
done:
    gf_ofile_discard(&w.f);
    gf_buf_free(&w.b);
    for (int i = 0; i < 2; i++) {
        gf_reader_destroy(rd[i]);
        table_free(&t[i]);
    }
    return st;
}
