/* The validation stage of `geoflux convert`: the reference validator's
 * field and row rules on the reader's text batches, before typing.
 *
 * What applies per layout:
 *  - BAL 1.1-1.5: every rule of the profile (given, or chosen from the
 *    input's header as the reference does), with the reference's notion of
 *    a column: exact header name (an alias such as `lon` the reader accepts
 *    is, for the reference, a missing `long` column), from the header the
 *    reader read (standard input's too).
 *  - BAN extracts (current and legacy): they are not BAL files, so only the
 *    value rules that mean the same thing there are kept: numero, suffixe,
 *    commune_insee in the COG, position enumeration, x/y/long/lat validity
 *    and coherence, voie name length/characters, incomplete address. Not
 *    applied: cle_interop (the BAN `id` has another form), source and
 *    date_der_maj (absent), certification, BAN ids, required columns, and
 *    the file-wide checks.
 * File-wide checks (BAL only) keep per input one 24-byte hash entry per
 * BAN id / street / address (see wide.h), fed by every worker batch by
 * batch, and are logged as warnings at end(): rows already went to the
 * sinks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geoflux/validate.h"
#include "validate/rules.h"
#include "validate/wide.h"

long gf_vtoday(void);

static const int vf_to_addr[VF_COUNT] = {
    [VF_CLE_INTEROP] = GF_A_CLE_INTEROP, [VF_UID_ADRESSE] = GF_A_UID_ADRESSE,
    [VF_ID_BAN_COMMUNE] = GF_A_ID_BAN_COMMUNE, [VF_ID_BAN_TOPONYME] = GF_A_ID_BAN_TOPONYME,
    [VF_ID_BAN_ADRESSE] = GF_A_ID_BAN_ADRESSE, [VF_VOIE_NOM] = GF_A_VOIE_NOM, [VF_TOPONYME] = GF_A_VOIE_NOM,
    [VF_LIEUDIT_COMPLEMENT_NOM] = GF_A_LIEUDIT_COMPLEMENT_NOM, [VF_NUMERO] = GF_A_NUMERO,
    [VF_SUFFIXE] = GF_A_SUFFIXE, [VF_COMMUNE_INSEE] = GF_A_COMMUNE_INSEE, [VF_COMMUNE_NOM] = GF_A_COMMUNE_NOM,
    [VF_COMMUNE_DELEGUEE_INSEE] = GF_A_COMMUNE_DELEGUEE_INSEE, [VF_COMMUNE_DELEGUEE_NOM] = GF_A_COMMUNE_DELEGUEE_NOM,
    [VF_POSITION] = GF_A_POSITION, [VF_X] = GF_A_X, [VF_Y] = GF_A_Y, [VF_LONG] = GF_A_LONG, [VF_LAT] = GF_A_LAT,
    [VF_CAD_PARCELLES] = GF_A_CAD_PARCELLES, [VF_SOURCE] = GF_A_SOURCE, [VF_DATE_DER_MAJ] = GF_A_DATE_DER_MAJ,
    [VF_CERTIFICATION_COMMUNE] = GF_A_CERTIFICATION_COMMUNE};

/* Codes kept for BAN extracts (see the file comment). */
static const char *const ban_codes[] = {
    "numero.type_invalide", "numero.trop_grand", "suffixe.debut_invalide", "suffixe.trop_long",
    "commune_insee.commune_invalide", "position.valeur_invalide", "x.valeur_invalide", "y.valeur_invalide",
    "long.valeur_invalide", "lat.valeur_invalide", "x.separateur_decimal_invalide",
    "y.separateur_decimal_invalide", "long.separateur_decimal_invalide", "lat.separateur_decimal_invalide",
    "voie_nom.trop_court", "voie_nom.trop_long", "voie_nom.caractere_invalide", "row.adresse_incomplete",
    "row.longlat_invalides", "row.longlat_xy_incoherents"};

typedef struct vinput {
    int have_header;      /* 0: unreadable */
    gf_vheader h;
    char sep;
    int lang_field[16];   /* batch schema field of each lang column, -1 */
} vinput;

typedef struct vworker {
    gf_vproj *pj;         /* in the worker context's cache, unless own_pj */
    int own_pj;
    gf_vwide *wide;       /* one per input */
} vworker;

typedef struct vstage {
    char profile[16];     /* "" : per input */
    int keep_invalid;
    int harmonised;
    const gf_reader *reader;
    int ninputs;
    vinput *in;
    int nworkers;
    vworker *w;
    long today;
    gf_vbudget pool;      /* the file-wide tables of every input */
    gf_vwide *wide;       /* one per input, the workers' fronts feed it */
    pthread_mutex_t mu;   /* guards wide */
} vstage;

static void destroy(void *stv)
{
    vstage *s = stv;
    if (!s) return;
    if (s->w) {
        for (int i = 0; i < s->nworkers; i++) {
            if (s->w[i].own_pj) gf_vproj_destroy(s->w[i].pj);
            if (s->w[i].wide)
                for (int k = 0; k < s->ninputs; k++) gf_vwide_free(&s->w[i].wide[k]);
            free(s->w[i].wide);
        }
        free(s->w);
    }
    if (s->wide) {
        for (int k = 0; k < s->ninputs; k++) gf_vwide_free(&s->wide[k]);
        free(s->wide);
    }
    pthread_mutex_destroy(&s->mu);
    free(s->in);
    free(s);
}

gf_status gf_validate_create(gf_ctx *ctx, const gf_validate_opts *opts, const gf_reader *reader, void **out)
{
    if (opts && opts->profile && !gf_validate_profile_known(opts->profile))
        return gf_ctx_err(ctx, GF_ERR_ARG, "unknown BAL profile '%s' (1.3, 1.3-relax, 1.4, 1.5)", opts->profile);
    vstage *s = calloc(1, sizeof *s);
    if (!s) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    if (opts && opts->profile) snprintf(s->profile, sizeof s->profile, "%s", opts->profile);
    s->keep_invalid = opts ? opts->keep_invalid : 0;
    s->pool.limit = opts && opts->max_memory ? opts->max_memory : GF_VWIDE_BUDGET;
    s->harmonised = opts ? opts->harmonised : 0;
    s->reader = reader;
    s->ninputs = gf_reader_count(reader);
    pthread_mutex_init(&s->mu, NULL);
    s->in = calloc((size_t)s->ninputs, sizeof *s->in);
    s->wide = calloc((size_t)(s->ninputs ? s->ninputs : 1), sizeof *s->wide);
    if (!s->in || !s->wide) { destroy(s); return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); }
    for (int i = 0; i < s->ninputs; i++) {
        const char *const *names;
        const size_t *lens;
        int n;
        if (!gf_reader_header(reader, i, &names, &lens, &n, &s->in[i].sep)) continue; /* the reader reports it */
        const char *hn[GF_CSV_MAX_FIELDS];
        size_t hl[GF_CSV_MAX_FIELDS];
        if (s->harmonised && n <= GF_CSV_MAX_FIELDS && gf_header_harmonise(names, lens, n, hn, hl) > 0) {
            names = hn;
            lens = hl;
        }
        gf_vheader_analyse(names, lens, n, &s->in[i].h);
        s->in[i].have_header = 1;
    }
    gf_ctx_err(ctx, GF_OK, "%s", "");
    s->today = gf_vtoday();
    *out = s;
    return GF_OK;
}

static const char *profile_for(const vstage *s, int src, gf_layout l)
{
    if (s->profile[0]) return s->profile;
    if (src >= 0 && src < s->ninputs && s->in[src].have_header) return gf_vheader_profile(&s->in[src].h);
    return l == GF_LAYOUT_BAL_1_5 ? "1.5" : l == GF_LAYOUT_BAL_1_4 ? "1.4" : "1.3";
}

static gf_status start(void *stv, gf_ctx *ctx, gf_schema *schema, int nworkers)
{
    vstage *s = stv;
    s->nworkers = nworkers;
    s->w = calloc((size_t)nworkers, sizeof *s->w);
    if (!s->w) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    for (int i = 0; i < nworkers; i++) {
        s->w[i].wide = calloc((size_t)(s->ninputs ? s->ninputs : 1), sizeof *s->w[i].wide);
        if (!s->w[i].wide) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        for (int k = 0; k < (s->ninputs ? s->ninputs : 1); k++) s->w[i].wide[k].shared = &s->wide[k];
    }
    for (int k = 0; k < (s->ninputs ? s->ninputs : 1); k++) s->wide[k].pool = &s->pool;
    for (int i = 0; i < s->ninputs; i++) {
        vinput *in = &s->in[i];
        for (int k = 0; k < 16; k++) in->lang_field[k] = -1;
        if (!in->have_header) continue;
        for (int k = 0; k < in->h.nlang; k++) {
            int f = in->h.lang[k].field;
            const char *lang = in->h.lang[k].name + strlen(gf_vf_names[f]) + 1;
            char canon[64];
            snprintf(canon, sizeof canon, "%s_%s", f == VF_TOPONYME ? "voie_nom" : gf_vf_names[f], lang);
            in->lang_field[k] = gf_schema_find(schema, canon);
        }
        const char *path = gf_reader_path(s->reader, i), *prof = profile_for(s, i, GF_LAYOUT_UNKNOWN);
        const char *fmt = gf_vprofile_format(prof);
        /* BAN extracts are told apart by the reader later; their headers
         * have nom_voie, which the reference does not know at all. */
        if (in->h.field_col[VF_VOIE_NOM] < 0 && in->h.field_col[VF_TOPONYME] < 0 && in->h.field_col[VF_NUMERO] >= 0)
            continue;
        for (int f = 0; f < VF_COUNT; f++) {
            if (in->h.field_col[f] >= 0 || !gf_vf_in_format(f, fmt)) continue;
            char code[80];
            snprintf(code, sizeof code, "field.%s.missing", gf_vf_names[f]);
            if (gf_validate_level(prof, code) == GF_VL_ERROR)
                gf_ctx_logc(ctx, GF_LOG_WARN, code, "%s: %s (BAL %s error: the column is missing)", path, code, prof);
        }
        if (in->sep && in->sep != ';')
            gf_ctx_logc(ctx, GF_LOG_WARN, "file.delimiter.non_standard", "%s: file.delimiter.non_standard (BAL %s error)", path, prof);
    }
    return GF_OK;
}

/* Short explanation of the first code, for the rejects file. */
/* The first error of a row in words, with the input column (1-based) of
 * the field when the header was read, so a user finds the cell. */
static void message(const vinput *in, const gf_vrow *r, const char *code, char *out, size_t outsz)
{
    const char *dot = strchr(code, '.');
    if (strncmp(code, "row.", 4) != 0 && dot) {
        int f = gf_vf_find(code, (size_t)(dot - code));
        if (f >= 0 && r->present[f]) {
            int n = (int)(r->n[f] > 60 ? 60 : r->n[f]);
            if (in && in->have_header && in->h.field_col[f] >= 0)
                snprintf(out, outsz, "column %d: %s = \"%.*s\"", in->h.field_col[f] + 1, gf_vf_names[f], n,
                         r->v[f] ? r->v[f] : "");
            else
                snprintf(out, outsz, "%s = \"%.*s\"", gf_vf_names[f], n, r->v[f] ? r->v[f] : "");
            return;
        }
    }
    static const char *const lab[][2] = {
        {"row.adresse_incomplete", "numero or voie_nom missing"},
        {"row.longlat_vides", "long/lat empty"},
        {"row.longlat_invalides", "long/lat outside France or invalid"},
        {"row.incoherence_numero", "numero differs from the one in cle_interop"},
        {"row.commune_manquante", "no commune code (commune_insee or cle_interop)"},
        {"row.lack_of_id_ban", "some id_ban_* missing on the row"},
        {"row.position_manquante", "position empty"},
    };
    for (size_t i = 0; i < sizeof lab / sizeof lab[0]; i++)
        if (!strcmp(lab[i][0], code)) { snprintf(out, outsz, "%s", lab[i][1]); return; }
    snprintf(out, outsz, "%s", code);
}

static gf_status run(void *stv, gf_ctx *wctx, int worker, gf_batch *b)
{
    vstage *s = stv;
    vworker *w = &s->w[worker];
    gf_status st;
    if (!w->pj && !(w->pj = gf_ctx_cache_get(wctx, "validate:legal"))) {
        /* the legal-CRS transformations of this worker context: made once,
         * kept in its cache (an engine's worker reuses them in every run) */
        if ((st = gf_vproj_create(wctx, &w->pj))) return st;
        w->own_pj = gf_ctx_cache_put(wctx, "validate:legal", w->pj, (void (*)(void *))gf_vproj_destroy) != GF_OK;
    }
    gf_vrow r;
    gf_vissues iss;
    gf_vparsed pv;
    int cur = -1; /* the input whose front holds groups to sync */
    for (size_t row = 0; row < b->n; row++) {
        int src = (int)b->src[row];
        if (src != cur && cur >= 0) {
            gf_vwide_sync(&w->wide[cur], &s->mu);
            cur = -1;
        }
        gf_layout l = gf_reader_layout(s->reader, src);
        int ban = !gf_layout_is_bal(l);
        const vinput *in = src < s->ninputs ? &s->in[src] : NULL;
        const char *prof = ban ? "1.4" : profile_for(s, src, l);
        const char *fmt = gf_vprofile_format(prof);
        memset(r.present, 0, sizeof r.present);
        r.nlang = 0;
        for (int f = 0; f < VF_COUNT; f++) {
            const gf_col *c = &b->cols[vf_to_addr[f]];
            int has = c->valid[row];
            if (ban) r.present[f] = (unsigned char)has;
            else if (in && in->have_header) r.present[f] = in->h.field_col[f] >= 0 || (s->harmonised && has);
            else r.present[f] = (unsigned char)(gf_vf_in_format(f, gf_layout_name(l) + 4) &&
                                                !(f == VF_TOPONYME && l != GF_LAYOUT_BAL_1_5) &&
                                                !(f == VF_VOIE_NOM && l == GF_LAYOUT_BAL_1_5));
            r.v[f] = has ? b->arena + c->v.s[row].off : "";
            r.n[f] = has ? c->v.s[row].len : 0;
        }
        /* A BAN address on a lieu-dit has nom_ld and no nom_voie: the
         * lieu-dit is its street (what a BAL writes in voie_nom). */
        if (ban && !r.present[VF_VOIE_NOM] && r.present[VF_LIEUDIT_COMPLEMENT_NOM]) {
            r.present[VF_VOIE_NOM] = 1;
            r.v[VF_VOIE_NOM] = r.v[VF_LIEUDIT_COMPLEMENT_NOM];
            r.n[VF_VOIE_NOM] = r.n[VF_LIEUDIT_COMPLEMENT_NOM];
        }
        if (!ban && in && in->have_header) {
            for (int k = 0; k < in->h.nlang; k++) {
                int sf = in->lang_field[k];
                r.lang[r.nlang].field = in->h.lang[k].field;
                r.lang[r.nlang].name = in->h.lang[k].name;
                int has = sf >= 0 && b->cols[sf].valid[row];
                r.lang[r.nlang].v = has ? b->arena + b->cols[sf].v.s[row].off : "";
                r.lang[r.nlang].n = has ? b->cols[sf].v.s[row].len : 0;
                r.nlang++;
            }
        }
        gf_vrow_check(&r, w->pj, s->today, &iss, &pv);
        if (!ban && src < s->ninputs) {
            gf_vwide *wd = &w->wide[src];
            if (in && in->have_header)
                wd->track_num = in->h.field_col[VF_ID_BAN_ADRESSE] >= 0 || in->h.field_col[VF_UID_ADRESSE] >= 0;
            else
                wd->track_num = l == GF_LAYOUT_BAL_1_4 || l == GF_LAYOUT_BAL_1_5;
            gf_vwide_row(wd, &pv, b->line[row]);
            cur = src;
        }
        /* Decide first, then touch the batch: adding issues grows the arena
         * and would move the text r points into. */
        char errs[512], msg[160] = "";
        size_t el = 0;
        int nerr = 0;
        signed char lvl[GF_VMAX_ISSUES];
        for (int i = 0; i < iss.n; i++) {
            lvl[i] = -1;
            if (!gf_vf_in_format(iss.field[i], fmt)) continue;
            if (ban) {
                int ok = 0;
                for (size_t k = 0; k < sizeof ban_codes / sizeof ban_codes[0] && !ok; k++) ok = !strcmp(ban_codes[k], iss.code[i]);
                if (!ok) continue;
            }
            int dup = 0;
            for (int j = 0; j < i && !dup; j++) dup = lvl[j] >= 0 && !strcmp(iss.code[j], iss.code[i]);
            if (dup) continue;
            lvl[i] = (signed char)gf_validate_level(prof, iss.code[i]);
            if (lvl[i] != GF_VL_ERROR) continue;
            if (!nerr) message(in, &r, iss.code[i], msg, sizeof msg);
            nerr++;
            size_t cl = strlen(iss.code[i]);
            if (el + cl + 2 < sizeof errs) {
                if (el) errs[el++] = '|';
                memcpy(errs + el, iss.code[i], cl);
                el += cl;
            }
        }
        errs[el] = 0;
        for (int i = 0; i < iss.n; i++) {
            if (lvl[i] == GF_VL_WARN || (lvl[i] == GF_VL_ERROR && s->keep_invalid))
                if ((st = gf_batch_add_issue(b, row, lvl[i] == GF_VL_ERROR, iss.code[i]))) return st;
        }
        if (nerr && !s->keep_invalid) {
            char reason[768];
            snprintf(reason, sizeof reason, "%s: %s", errs, msg);
            if ((st = gf_batch_reject(b, row, reason))) {
                if (cur >= 0) gf_vwide_sync(&w->wide[cur], &s->mu);
                return st;
            }
        }
    }
    if (cur >= 0) gf_vwide_sync(&w->wide[cur], &s->mu);
    return GF_OK;
}

/* Row codes of the file-wide checks, summed per code for one log line. */
typedef struct endctx {
    gf_ctx *ctx;
    const char *path, *profile;
    int n;
    struct { const char *code; uint64_t rows, first; } c[8];
} endctx;

static void end_row(void *u, const char *code, uint64_t nrows, uint64_t first)
{
    endctx *e = u;
    if (gf_validate_level(e->profile, code) == GF_VL_INFO) return;
    int k = 0;
    while (k < e->n && strcmp(e->c[k].code, code)) k++;
    if (k == e->n) {
        if (e->n == 8) return;
        e->c[k].code = code; /* static strings of wide.c */
        e->c[k].rows = 0;
        e->c[k].first = first;
        e->n++;
    }
    e->c[k].rows += nrows;
    if (first < e->c[k].first) e->c[k].first = first;
}

static void end_file(void *u, const char *code)
{
    endctx *e = u;
    gf_vlevel lv = gf_validate_level(e->profile, code);
    if (lv == GF_VL_INFO) return;
    gf_ctx_logc(e->ctx, GF_LOG_WARN, code, "%s: %s%s", e->path, code,
               lv == GF_VL_ERROR ? " (an error for the BAL profile; rows were written already)" : "");
}

static gf_status end(void *stv, gf_ctx *ctx)
{
    vstage *s = stv;
    if (!s->w) return GF_OK;
    for (int i = 0; i < s->ninputs; i++) {
        gf_layout l = gf_reader_layout(s->reader, i);
        if (!gf_layout_is_bal(l)) continue;
        gf_vwide *all = &s->wide[i]; /* every worker's groups are in it */
        if (all->nomem) gf_ctx_log(ctx, GF_LOG_WARN, "%s: out of memory: file-wide BAL checks skipped", gf_reader_path(s->reader, i));
        else if (all->rows) {
            endctx e = {ctx, gf_reader_path(s->reader, i), profile_for(s, i, l), 0, {{0}}};
            gf_vwide_finish(all, end_row, end_file, &e);
            for (int k = 0; k < e.n; k++)
                gf_ctx_logc(ctx, GF_LOG_WARN, e.c[k].code, "%s:%llu: %s on %llu rows (BAL %s warning, file-wide check)", e.path,
                           (unsigned long long)e.c[k].first, e.c[k].code, (unsigned long long)e.c[k].rows, e.profile);
        }
        gf_vwide_free(all);
    }
    for (int k = 0; k < s->nworkers; k++) {
        if (s->w[k].own_pj) gf_vproj_destroy(s->w[k].pj); /* not kept by the worker context */
        s->w[k].pj = NULL;
        for (int i = 0; i < s->ninputs; i++) gf_vwide_free(&s->w[k].wide[i]);
    }
    return GF_OK;
}

const gf_stage_vt gf_validate_stage_vt = {
    .name = "validate",
    .start = start,
    .run = run,
    .end = end,
    .destroy = destroy,
};
