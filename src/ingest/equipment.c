/* The table reader (SCDL équipements files, or any CSV to geocode) and the
 * SCDL validation stage. The reader reuses the CSV tokenizer and byte
 * streams of the address reader; validation follows the Table Schema
 * constraints of equipements 0.1.5 (data/samples/schemas/). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "geoflux/equipment.h"
#include "ingest/parse.h"

#define GF_TABLE_MAX_COLS (GF_MAX_FIELDS - 24) /* room for the 24 result columns a geocode can add */

struct gf_table_reader {
    const char *path;
    gf_csv *csv;
    gf_table_layout layout;
    int ncols;
    gf_schema schema;
    char names[GF_MAX_FIELDS][64];
    uint64_t rows;
    int warned_enc;
};

const char *gf_table_layout_name(gf_table_layout l)
{
    switch (l) {
    case GF_TABLE_EQUIP_0_1_5: return "scdl-equipements-0.1.5";
    case GF_TABLE_EQUIP_OLD: return "scdl-equipements-old";
    default: return "csv";
    }
}

static int has(const gf_table_reader *r, const char *name)
{
    for (int i = 0; i < r->ncols; i++)
        if (!strcasecmp(r->names[i], name)) return 1;
    return 0;
}

gf_status gf_table_open(gf_ctx *ctx, const char *path, const gf_csv_opts *csv, gf_table_reader **out)
{
    gf_table_reader *r = calloc(1, sizeof *r);
    if (!r) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    r->path = path;
    gf_stream *s;
    gf_status st = gf_stream_open(ctx, path, &s);
    gf_csv_opts o = {0};
    if (csv) o = *csv;
    if (st == GF_OK) st = gf_csv_open(ctx, s, &o, &r->csv);
    gf_csv_record hdr;
    if (st == GF_OK) {
        st = gf_csv_next(r->csv, ctx, &hdr);
        if (st == GF_DONE) st = gf_ctx_err(ctx, GF_ERR_SCHEMA, "%s: empty file (no header)", path);
        else if (st == GF_OK && hdr.error) st = gf_ctx_err(ctx, GF_ERR_SCHEMA, "%s:%llu: header: %s", path, (unsigned long long)hdr.line, hdr.error);
        else if (st == GF_OK && hdr.nfields > GF_TABLE_MAX_COLS)
            st = gf_ctx_err(ctx, GF_ERR_SCHEMA, "%s:%llu: %d columns: at most %d are supported", path,
                            (unsigned long long)hdr.line, hdr.nfields, GF_TABLE_MAX_COLS);
    }
    if (st) { gf_table_destroy(r); return st; }
    r->ncols = hdr.nfields;
    for (int i = 0; i < hdr.nfields; i++) {
        const char *p = hdr.field[i];
        size_t n = hdr.len[i];
        if (n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) { p += 3; n -= 3; }
        while (n && (*p == ' ' || *p == '\t')) { p++; n--; }
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r')) n--;
        if (n == 0) snprintf(r->names[i], sizeof r->names[i], "column_%d", i + 1);
        else snprintf(r->names[i], sizeof r->names[i], "%.*s", (int)(n < 60 ? n : 60), p);
        for (int k = 0; k < i; k++) /* duplicate names: keep both, the second renamed */
            if (!strcasecmp(r->names[k], r->names[i])) {
                size_t l = strlen(r->names[i]);
                snprintf(r->names[i] + (l < 56 ? l : 56), 8, "_%d", (i + 1) % 1000);
            }
    }
    if (has(r, "EQUIP_UID") || (has(r, "EQUIP_NOM") && has(r, "ADR_COMMUNE"))) r->layout = GF_TABLE_EQUIP_0_1_5;
    else if (has(r, "EQUIP_ID") || has(r, "EQUIP_LIBELLE") || has(r, "ADR_VILLE")) r->layout = GF_TABLE_EQUIP_OLD;
    else r->layout = GF_TABLE_GENERIC;
    r->schema.kind = r->layout == GF_TABLE_GENERIC ? "table" : "equipment";
    for (int i = 0; i < r->ncols; i++) {
        gf_type t = GF_T_STRING;
        if (r->layout != GF_TABLE_GENERIC) {
            const char *n = r->names[i];
            if (!strcasecmp(n, "EQUIP_LAT") || !strcasecmp(n, "EQUIP_LONG") || !strcasecmp(n, "EQUIP_X") || !strcasecmp(n, "EQUIP_Y"))
                t = GF_T_REAL;
            else if (!strcasecmp(n, "ERP_CATEGORIE"))
                t = GF_T_INT;
        }
        r->schema.fields[i] = (gf_field){r->names[i], t};
    }
    r->schema.nfields = r->ncols;
    gf_ctx_log(ctx, GF_LOG_INFO, "%s: %s, %d columns", path, gf_table_layout_name(r->layout), r->ncols);
    *out = r;
    return GF_OK;
}

void gf_table_destroy(gf_table_reader *r)
{
    if (!r) return;
    gf_csv_close(r->csv);
    free(r);
}

gf_table_layout gf_table_layout_of(const gf_table_reader *r) { return r->layout; }
const gf_schema *gf_table_schema(const gf_table_reader *r) { return &r->schema; }

static gf_status tb_next(void *stv, gf_ctx *ctx, gf_batch *b)
{
    gf_table_reader *r = stv;
    gf_status st;
    char reason[256];
    while (r->csv && b->n + b->nrej < b->cap) {
        gf_csv_record rec;
        st = gf_csv_next(r->csv, ctx, &rec);
        if (st == GF_DONE) {
            gf_csv_close(r->csv);
            r->csv = NULL;
            break;
        }
        if (st) return st;
        r->rows++;
        if (rec.transcoded && !r->warned_enc) {
            r->warned_enc = 1;
            gf_ctx_log(ctx, GF_LOG_WARN, "%s:%llu: not UTF-8: read as Windows-1252 and converted", r->path,
                       (unsigned long long)rec.line);
        }
        if (rec.error || rec.nfields > r->ncols) {
            int extra_empty = !rec.error;
            for (int i = r->ncols; extra_empty && i < rec.nfields; i++) extra_empty = rec.len[i] == 0;
            if (!extra_empty) {
                if (rec.error) snprintf(reason, sizeof reason, "parse: column %d: %s", rec.error_col, rec.error);
                else snprintf(reason, sizeof reason, "parse: column %d: the row has %d fields, the header has %d",
                              r->ncols + 1, rec.nfields, r->ncols);
                if ((st = gf_batch_reject_raw(b, rec.line, 0, rec.raw, rec.rawlen, reason))) return st;
                continue;
            }
        }
        long row = gf_batch_add_row(b, rec.line, 0);
        if (row < 0) return gf_ctx_err(ctx, GF_ERR_INTERNAL, "batch overflow");
        if ((st = gf_batch_intern(b, rec.raw, rec.rawlen, &b->raw[row]))) return st;
        int nf = rec.nfields < r->ncols ? rec.nfields : r->ncols;
        for (int i = 0; i < nf; i++)
            if (rec.len[i] && (st = gf_batch_set_str(b, i, (size_t)row, rec.field[i], rec.len[i]))) return st;
    }
    return (b->n + b->nrej) ? GF_OK : GF_DONE;
}

static uint64_t tb_rows(void *stv) { return ((gf_table_reader *)stv)->rows; }

const gf_source_vt gf_table_source_vt = {.name = "table", .next = tb_next, .rows_read = tb_rows};

/* ---- validation ---- */

int gf_siret_valid(const char *p, size_t n)
{
    if (n != 14) return 0;
    for (size_t i = 0; i < 14; i++) if (p[i] < '0' || p[i] > '9') return 0;
    if (!memcmp(p, "356000000", 9)) { /* La Poste */
        int s = 0;
        for (size_t i = 0; i < 14; i++) s += p[i] - '0';
        return s % 5 == 0;
    }
    int s = 0;
    for (size_t i = 0; i < 14; i++) {
        int d = p[i] - '0';
        if (i % 2 == 0) { d *= 2; if (d > 9) d -= 9; }
        s += d;
    }
    return s % 10 == 0;
}

enum { C_COLL_NOM, C_COLL_SIRET, C_UID, C_THEME, C_CODE, C_TYPE, C_NOM, C_NUM, C_VOIE, C_CP, C_COMMUNE, C_CLE,
       C_ERP_TYPE, C_ERP_CAT, C_LAT, C_LON, C_TEL, C_EMAIL, C_WEB, C_X, C_Y, C_COUNT };

typedef struct gf_eqv {
    int col[C_COUNT];
    int keep_invalid;
    gf_table_layout layout;
    const char *names[C_COUNT];
} gf_eqv;

gf_status gf_equip_validate_create(gf_ctx *ctx, const gf_table_reader *r, int keep_invalid, void **st)
{
    gf_eqv *v = calloc(1, sizeof *v);
    if (!v) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    v->keep_invalid = keep_invalid;
    v->layout = r->layout;
    static const char *const n015[C_COUNT] = {"COLL_NOM", "COLL_SIRET", "EQUIP_UID", "EQUIP_THEME", "EQUIP_CODE",
        "EQUIP_TYPE", "EQUIP_NOM", "ADR_NUMERO", "ADR_NOMVOIE", "ADR_CODEPOSTAL", "ADR_COMMUNE", "ADR_CLE_INTEROP",
        "ERP_TYPE", "ERP_CATEGORIE", "EQUIP_LAT", "EQUIP_LONG", "EQUIP_TEL", "EQUIP_EMAIL", "EQUIP_WEB", "EQUIP_X", "EQUIP_Y"};
    for (int c = 0; c < C_COUNT; c++) {
        v->names[c] = n015[c];
        if (r->layout == GF_TABLE_EQUIP_OLD) {
            if (c == C_UID) v->names[c] = "EQUIP_ID";
            if (c == C_NOM) v->names[c] = "EQUIP_LIBELLE";
            if (c == C_COMMUNE) v->names[c] = "ADR_VILLE";
        }
        v->col[c] = -1;
        for (int i = 0; i < r->ncols; i++)
            if (!strcasecmp(r->names[i], v->names[c])) { v->col[c] = i; break; }
    }
    if (r->layout == GF_TABLE_EQUIP_0_1_5) {
        static const int req[] = {C_COLL_NOM, C_COLL_SIRET, C_UID, C_THEME, C_CODE, C_TYPE, C_NOM, C_NUM, C_VOIE, C_CP,
                                  C_COMMUNE, C_LAT, C_LON};
        for (size_t i = 0; i < sizeof req / sizeof req[0]; i++)
            if (v->col[req[i]] < 0)
                gf_ctx_log(ctx, GF_LOG_WARN, "%s: column %s missing (field.%s.missing)", r->path, v->names[req[i]], v->names[req[i]]);
    }
    *st = v;
    return GF_OK;
}

/* Number of code points of UTF-8 text. */
static size_t u8len(const char *p, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += ((unsigned char)p[i] & 0xC0) != 0x80;
    return k;
}

/* Letters allowed by the schema patterns: ASCII letters, digits (when
 * digits), blanks, and U+00C0..U+00FF; extra: other ASCII characters. */
static int pattern_ok(const char *p, size_t n, int digits, const char *extra)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == ' ' || c == '\t') continue;
        if (digits && c >= '0' && c <= '9') continue;
        if (c < 0x80 && strchr(extra, c)) continue;
        if (c == 0xC3 && i + 1 < n && ((unsigned char)p[i + 1] & 0xC0) == 0x80) { i++; continue; }
        return 0;
    }
    return 1;
}

/* A row's issues are noted during its checks and added to the batch after
 * them: adding one may grow (move) the arena that the values being checked
 * point into. */
typedef struct row_ctx {
    struct { int is_error; const char *code; } pend[48]; /* 34 at most: one a check (two for a coordinate) */
    int npend;
    char reason[256];
    int nerr;
} row_ctx;

static void issue(row_ctx *x, int is_error, const char *code, const char *fmt, const char *name, const char *p, size_t n)
{
    if (x->npend < (int)(sizeof x->pend / sizeof x->pend[0])) {
        x->pend[x->npend].is_error = is_error;
        x->pend[x->npend++].code = code;
    }
    if (is_error && x->nerr++ == 0)
        snprintf(x->reason, sizeof x->reason, "%s: %s %s\"%.*s\"", code, name, fmt, (int)(n > 80 ? 80 : n), p);
}

static const char *const themes[] = {"Equipement administratif", "Equipement de justice", "Equipement sanitaire",
    "Equipement social et d'animation", "Equipement sportif et de loisirs", "Equipement d'enseignement",
    "Equipement cultuel", "Equipement culturel", "Equipement de mobilité", "Autre équipement", NULL};

static int fold_eq(const char *a, size_t an, const char *b)
{
    /* ASCII case-insensitive, accents and apostrophes ignored (a rough check for "enum_fuzzy") */
    char x[128], y[128];
    size_t k = 0, m = 0;
    for (size_t i = 0; i < an && k < 127; i++) {
        unsigned char c = (unsigned char)a[i];
        if (c >= 0x80 || c == '\'' || c == ' ') continue;
        x[k++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    for (size_t i = 0; b[i] && m < 127; i++) {
        unsigned char c = (unsigned char)b[i];
        if (c >= 0x80 || c == '\'' || c == ' ') continue;
        y[m++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    return k == m && !memcmp(x, y, k);
}

static gf_status ev_run(void *stv, gf_ctx *ctx, int worker, gf_batch *b)
{
    gf_eqv *v = stv;
    (void)ctx; (void)worker;
    if (v->layout == GF_TABLE_GENERIC) return GF_OK;
    for (size_t r = 0; r < b->n; r++) {
        row_ctx x = {.npend = 0};
        const char *p[C_COUNT];
        size_t n[C_COUNT];
        for (int c = 0; c < C_COUNT; c++) {
            int f = v->col[c];
            p[c] = "";
            n[c] = 0;
            if (f < 0 || !b->cols[f].valid[r]) continue;
            p[c] = b->arena + b->cols[f].v.s[r].off;
            n[c] = b->cols[f].v.s[r].len;
            while (n[c] && (*p[c] == ' ' || *p[c] == '\t')) { p[c]++; n[c]--; }
            while (n[c] && (p[c][n[c] - 1] == ' ' || p[c][n[c] - 1] == '\t')) n[c]--;
        }
        int v015 = v->layout == GF_TABLE_EQUIP_0_1_5;
        /* required fields: an error, except the position (what geocoding
         * is for) and the postcode (the commune name suffices) */
        static const int req[] = {C_COLL_NOM, C_COLL_SIRET, C_UID, C_THEME, C_CODE, C_TYPE, C_NOM, C_NUM, C_VOIE, C_COMMUNE};
        static const char *const reqcode[] = {"coll_nom.required", "coll_siret.required", "equip_uid.required",
            "equip_theme.required", "equip_code.required", "equip_type.required", "equip_nom.required",
            "adr_numero.required", "adr_nomvoie.required", "adr_commune.required"};
        for (size_t i = 0; i < sizeof req / sizeof req[0]; i++) {
            int c = req[i];
            if (!v015 && (c == C_THEME || c == C_CODE || c == C_COLL_SIRET)) continue;
            if (v->col[c] >= 0 && n[c] == 0) issue(&x, 1, reqcode[i], "is required, got ", v->names[c], "", 0);
        }
        if (n[C_CP] == 0 && v->col[C_CP] >= 0) issue(&x, 0, "adr_codepostal.required", "", v->names[C_CP], "", 0);
        if (n[C_LAT] == 0 && n[C_X] == 0) issue(&x, 0, "equip_lat.missing", "", "EQUIP_LAT", "", 0);
        if (n[C_COLL_NOM] && u8len(p[C_COLL_NOM], n[C_COLL_NOM]) > 140)
            issue(&x, 0, "coll_nom.max_length", "", "", "", 0);
        if (n[C_COLL_SIRET]) {
            int digits = n[C_COLL_SIRET] == 14;
            for (size_t i = 0; digits && i < 14; i++) digits = p[C_COLL_SIRET][i] >= '0' && p[C_COLL_SIRET][i] <= '9';
            if (!digits) issue(&x, 1, "coll_siret.pattern", "must be 14 digits, got ", "COLL_SIRET", p[C_COLL_SIRET], n[C_COLL_SIRET]);
            else if (!gf_siret_valid(p[C_COLL_SIRET], 14))
                issue(&x, 1, "coll_siret.checksum", "fails the SIRET check digit: ", "COLL_SIRET", p[C_COLL_SIRET], n[C_COLL_SIRET]);
        }
        if (v015 && n[C_UID]) {
            const char *u = p[C_UID];
            int ok = n[C_UID] >= 18 && n[C_UID] <= 18;
            for (size_t i = 0; ok && i < 18; i++) {
                char ch = u[i];
                if (i < 5) ok = (ch >= '0' && ch <= '9') || ch == 'A' || ch == 'B';
                else if (i == 5 || i == 14) ok = ch == '-';
                else ok = ch >= '0' && ch <= '9';
            }
            if (!ok) issue(&x, 1, "equip_uid.pattern", "must be INSEE-NNNNNNNN-NNN (18 characters), got ", "EQUIP_UID", u, n[C_UID]);
            else if (n[C_CODE] == 12 && memcmp(u + 6, p[C_CODE], 12) != 0)
                issue(&x, 0, "equip_uid.code_mismatch", "", "", "", 0);
        }
        if (v015 && n[C_THEME]) {
            int ok = 0, fuzzy = 0;
            for (int i = 0; themes[i] && !ok; i++) {
                ok = strlen(themes[i]) == n[C_THEME] && !memcmp(themes[i], p[C_THEME], n[C_THEME]);
                fuzzy |= fold_eq(p[C_THEME], n[C_THEME], themes[i]);
            }
            if (!ok && fuzzy) issue(&x, 0, "equip_theme.enum_fuzzy", "", "", "", 0);
            else if (!ok) issue(&x, 1, "equip_theme.enum", "is not a theme of the schema: ", "EQUIP_THEME", p[C_THEME], n[C_THEME]);
        }
        if (v015 && n[C_CODE] > 12) issue(&x, 1, "equip_code.max_length", "is longer than 12 characters: ", "EQUIP_CODE", p[C_CODE], n[C_CODE]);
        if (n[C_VOIE]) {
            if (u8len(p[C_VOIE], n[C_VOIE]) < 3)
                issue(&x, 1, "adr_nomvoie.min_length", "is shorter than 3 characters: ", "ADR_NOMVOIE", p[C_VOIE], n[C_VOIE]);
            else if (!pattern_ok(p[C_VOIE], n[C_VOIE], 1, "-'"))
                issue(&x, 0, "adr_nomvoie.pattern", "", "", "", 0);
        }
        if (n[C_CP]) {
            if (n[C_CP] > 5) issue(&x, 1, "adr_codepostal.max_length", "is longer than 5 characters: ", "ADR_CODEPOSTAL", p[C_CP], n[C_CP]);
            else {
                int d = n[C_CP] == 5;
                for (size_t i = 0; d && i < 5; i++) d = p[C_CP][i] >= '0' && p[C_CP][i] <= '9';
                if (!d) issue(&x, 0, "adr_codepostal.pattern", "", "", "", 0);
            }
        }
        if (n[C_COMMUNE] && !pattern_ok(p[C_COMMUNE], n[C_COMMUNE], 0, "-")) issue(&x, 0, "adr_commune.pattern", "", "", "", 0);
        if (n[C_CLE]) {
            int ok = n[C_CLE] >= 16;
            for (size_t i = 0; ok && i < n[C_CLE]; i++) {
                char ch = p[C_CLE][i];
                ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
            }
            if (!ok) issue(&x, 1, "adr_cle_interop.pattern", "is not a cle_interop: ", "ADR_CLE_INTEROP", p[C_CLE], n[C_CLE]);
        }
        if (n[C_ERP_TYPE] > 10) issue(&x, 1, "erp_type.max_length", "is longer than 10 characters: ", "ERP_TYPE", p[C_ERP_TYPE], n[C_ERP_TYPE]);
        if (n[C_ERP_CAT]) {
            int64_t c;
            if (!gf_parse_int(p[C_ERP_CAT], n[C_ERP_CAT], &c) || c < 1 || c > 5)
                issue(&x, 1, "erp_categorie.range", "must be an integer from 1 to 5, got ", "ERP_CATEGORIE", p[C_ERP_CAT], n[C_ERP_CAT]);
        }
        static const int coords[] = {C_LAT, C_LON, C_X, C_Y};
        static const char *const ccode[][3] = {{"equip_lat.type", "equip_lat.range", "equip_lat.decimal_comma"},
            {"equip_long.type", "equip_long.range", "equip_long.decimal_comma"},
            {"equip_x.type", "equip_x.range", "equip_x.decimal_comma"}, {"equip_y.type", "equip_y.range", "equip_y.decimal_comma"}};
        for (int k = 0; k < 4; k++) {
            int c = coords[k];
            if (!n[c]) continue;
            double d;
            if (!gf_parse_double(p[c], n[c], 1, &d)) {
                issue(&x, 1, ccode[k][0], "is not a number: ", v->names[c], p[c], n[c]);
                continue;
            }
            if (memchr(p[c], ',', n[c])) issue(&x, 1, ccode[k][2], "uses a decimal comma: ", v->names[c], p[c], n[c]);
            if ((c == C_LAT && (d < -90 || d > 90)) || (c == C_LON && (d < -180 || d > 180)))
                issue(&x, 1, ccode[k][1], "is out of range: ", v->names[c], p[c], n[c]);
        }
        if (n[C_TEL] && u8len(p[C_TEL], n[C_TEL]) > 13) issue(&x, 1, "equip_tel.max_length", "is longer than 13 characters: ", "EQUIP_TEL", p[C_TEL], n[C_TEL]);
        if (n[C_EMAIL]) {
            const char *at = memchr(p[C_EMAIL], '@', n[C_EMAIL]);
            if (!at || at == p[C_EMAIL] || !memchr(at, '.', n[C_EMAIL] - (size_t)(at - p[C_EMAIL])) || memchr(p[C_EMAIL], ' ', n[C_EMAIL]))
                issue(&x, 1, "equip_email.format", "is not an email address: ", "EQUIP_EMAIL", p[C_EMAIL], n[C_EMAIL]);
        }
        if (n[C_WEB] && !(n[C_WEB] > 7 && (!strncasecmp(p[C_WEB], "http://", 7) || !strncasecmp(p[C_WEB], "https://", 8))))
            issue(&x, 0, "equip_web.format", "", "", "", 0);
        /* the values p[] are not used past this point */
        gf_status st;
        for (int i = 0; i < x.npend; i++)
            if ((st = gf_batch_add_issue(b, r, x.pend[i].is_error, x.pend[i].code))) return st;
        if (x.nerr && !v->keep_invalid && (st = gf_batch_reject(b, r, x.reason))) return st;
    }
    return GF_OK;
}

const gf_stage_vt gf_equip_validate_stage_vt = {
    .name = "equipment-validation",
    .run = ev_run,
    .destroy = free,
};
