/* BAL 1.4 writer: the harmonised output of `convert --to-bal 1.4`. Reads the
 * typed address columns (after validation, typing and reprojection) and
 * writes them in the 1.4 column order, normalised the way the reference
 * validator wants them:
 *  - ids: id_ban_* (or those carried by a 1.3 uid_adresse) when they are
 *    UUID v4, else empty (BAN ids are issued by the BAN: never invented);
 *  - cle_interop lower case with a 5-digit number part; rebuilt from
 *    commune_insee, the voie code of the key if any ("xxxx" if none), numero
 *    and suffixe when the input has none (BAL 1.5, BAN);
 *  - commune_insee from the key when missing; commune_nom spelt as in the COG;
 *  - voie_nom (toponyme in 1.5) with '_' as spaces, or the lieu-dit name
 *    for a BAN address without street; suffixe lower case;
 *  - position in its canonical spelling ("cage d’escalier");
 *  - long/lat with 7 decimals (from the row, or from x/y positioned by the
 *    reprojection stage), x/y recomputed from long/lat in the territory's
 *    legal system with 2 decimals, so both always agree (CC44 x/y of a
 *    commune become Lambert-93);
 *  - cad_parcelles in the 14-character form, no leading/trailing '|';
 *  - date_der_maj ISO; certification_commune 1/0. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "geoflux/address.h"
#include "geoflux/bal.h"
#include "validate/rules.h"
#include "write/csv.h"
#include "write/ofile.h"

typedef struct gf_balw {
    char *path;
    gf_ofile f;
    int nworkers;
    gf_vproj **pj; /* per worker; PROJ objects of the worker contexts */
    /* one file per input (gf_bal_open_per_input): files[i] is PATH/i.csv;
     * the inputs come in order, so one is open at a time (cur) */
    int per_input, ninputs, cur;
    gf_ofile *files;
} gf_balw;

/* In per-input mode an encoded batch is a series of frames, one per run of
 * rows of one input: the input index and the byte length (two uint32), then
 * the rows. */
typedef struct frame { uint32_t src, len; } frame;

const char gf_bal14_header[] =
    "id_ban_commune;id_ban_toponyme;id_ban_adresse;cle_interop;commune_insee;commune_nom;commune_deleguee_insee;"
    "commune_deleguee_nom;voie_nom;lieudit_complement_nom;numero;suffixe;position;x;y;long;lat;cad_parcelles;"
    "source;date_der_maj;certification_commune\n";

gf_status gf_bal_open_per_input(gf_ctx *ctx, const gf_output_opts *opts, const char *version, int ninputs, void **st)
{
    gf_status s = gf_bal_open(ctx, opts, version, st);
    if (s) return s;
    gf_balw *w = *st;
    w->per_input = 1;
    w->ninputs = ninputs;
    w->cur = -1;
    if (!(w->files = calloc((size_t)(ninputs > 0 ? ninputs : 1), sizeof *w->files))) {
        free(w->path);
        free(w);
        *st = NULL;
        return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    }
    return GF_OK;
}

gf_status gf_bal_open(gf_ctx *ctx, const gf_output_opts *opts, const char *version, void **st)
{
    if (!version || strcmp(version, "1.4") != 0)
        return gf_ctx_err(ctx, GF_ERR_UNSUPPORTED, "--to-bal: only version 1.4 is written (got '%s')", version ? version : "");
    gf_balw *w = calloc(1, sizeof *w);
    if (!w) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    if (!(w->path = strdup(opts->path))) {
        free(w);
        return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    }
    *st = w;
    return GF_OK;
}

static gf_status begin(void *stv, gf_ctx *ctx, const gf_schema *schema, int nworkers)
{
    gf_balw *w = stv;
    if (!schema->kind || strcmp(schema->kind, "address") != 0)
        return gf_ctx_err(ctx, GF_ERR_ARG, "--to-bal needs address input");
    w->pj = calloc((size_t)nworkers, sizeof *w->pj);
    if (!w->pj) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    w->nworkers = nworkers;
    if (w->per_input) return GF_OK; /* files opened as their inputs come */
    gf_status st = gf_ofile_open(ctx, w->path, &w->f);
    if (!st) st = gf_ofile_write(ctx, &w->f, gf_bal14_header, strlen(gf_bal14_header));
    if (st) return st;
    return GF_OK;
}

/* A value: quoted only if it holds ';', '"' or a line break (BAL files are
 * not quoted, but a name may contain them). */
static gf_status put(gf_buf *o, const char *p, size_t n) { return gf_csv_put_field(o, p, n, ';', 0); }

static int str(const gf_batch *b, int f, size_t r, const char **p, size_t *n)
{
    if (!b->cols[f].valid[r]) { *p = ""; *n = 0; return 0; }
    *p = b->arena + b->cols[f].v.s[r].off;
    *n = b->cols[f].v.s[r].len;
    return *n > 0;
}

/* "@c:<uuid>" in a 1.3 uid_adresse */
static int uid_part(const char *u, size_t un, char tag, const char **p)
{
    for (size_t i = 0; i + 39 <= un; i++)
        if (u[i] == '@' && (u[i + 1] | 32) == tag && u[i + 2] == ':' && gf_vuuid_v4(u + i + 3, 36) &&
            (i + 39 == un || u[i + 39] == ' ')) {
            *p = u + i + 3;
            return 1;
        }
    return 0;
}

/* Appends p[0..n) to t with A-Z lower-cased. */
static gf_status put_lower(gf_buf *t, const char *p, size_t n)
{
    gf_status st = gf_buf_reserve(t, n);
    if (st) return st;
    for (size_t i = 0; i < n; i++) t->p[t->len++] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 : p[i]);
    return GF_OK;
}

#define SEP() do { if ((st = gf_buf_append(out, ";", 1))) return st; } while (0)

/* Values are rewritten into growable scratch buffers (t, sufl), never into a
 * fixed-size array: a field is as long as the input makes it. */
static gf_status encode_rows(gf_vproj *pj, const gf_batch *b, size_t r0, size_t r1, gf_buf *out, gf_buf *t,
                             gf_buf *sufl);

static gf_status encode(void *stv, gf_ctx *wctx, int worker, const gf_batch *b, gf_buf *out)
{
    gf_balw *w = stv;
    gf_status st = gf_batch_expect(b, wctx, gf_address_schema(), 0, GF_COL_TYPED, "BAL writer");
    if (st) return st;
    if (!w->pj[worker] && (st = gf_vproj_create(wctx, &w->pj[worker]))) return st;
    gf_buf t = {0}, sufl = {0};
    if (!w->per_input) {
        st = encode_rows(w->pj[worker], b, 0, b->n, out, &t, &sufl);
    } else {
        st = GF_OK;
        for (size_t r0 = 0, r1; r0 < b->n && !st; r0 = r1) {
            for (r1 = r0 + 1; r1 < b->n && b->src[r1] == b->src[r0];) r1++;
            size_t at = out->len;
            frame fr = {b->src[r0], 0};
            if ((st = gf_buf_append(out, &fr, sizeof fr))) break;
            st = encode_rows(w->pj[worker], b, r0, r1, out, &t, &sufl);
            fr.len = (uint32_t)(out->len - at - sizeof fr);
            memcpy(out->p + at, &fr, sizeof fr);
        }
    }
    gf_buf_free(&t);
    gf_buf_free(&sufl);
    if (st) return gf_ctx_err(wctx, st, "--to-bal: out of memory");
    return GF_OK;
}

static gf_status encode_rows(gf_vproj *pj, const gf_batch *b, size_t r0, size_t r1, gf_buf *out, gf_buf *t,
                             gf_buf *sufl)
{
    gf_status st;
    char num[48]; /* numbers formatted by us, never data */
    for (size_t r = r0; r < r1; r++) {
        const char *p, *u;
        size_t n, un;
        int has_uid = str(b, GF_A_UID_ADRESSE, r, &u, &un);
        /* ids */
        static const int idf[3] = {GF_A_ID_BAN_COMMUNE, GF_A_ID_BAN_TOPONYME, GF_A_ID_BAN_ADRESSE};
        static const char tags[3] = {'c', 'v', 'a'};
        for (int k = 0; k < 3; k++) {
            const char *id = NULL;
            if (str(b, idf[k], r, &p, &n) && gf_vuuid_v4(p, n)) id = p;
            else if (has_uid) uid_part(u, un, tags[k], &id);
            if (id && (st = put_lower(out, id, 36))) return st; /* a checked UUID: hex digits and '-' */
            SEP();
        }
        /* commune */
        char insee[8] = "";
        if (str(b, GF_A_COMMUNE_INSEE, r, &p, &n) && n == 5) {
            for (int i = 0; i < 5; i++) insee[i] = (char)((p[i] >= 'a' && p[i] <= 'z') ? p[i] - 32 : p[i]);
            insee[5] = 0;
        }
        const char *cle;
        size_t clen;
        int has_cle = str(b, GF_A_CLE_INTEROP, r, &cle, &clen);
        if (!insee[0] && has_cle && clen > 5 && cle[5] == '_') {
            for (int i = 0; i < 5; i++) insee[i] = (char)((cle[i] >= 'a' && cle[i] <= 'z') ? cle[i] - 32 : cle[i]);
            insee[5] = 0;
        }
        int64_t numero = b->cols[GF_A_NUMERO].valid[r] ? b->cols[GF_A_NUMERO].v.i[r] : -1;
        const char *suf;
        size_t sufn;
        int has_suf = str(b, GF_A_SUFFIXE, r, &suf, &sufn);
        sufl->len = 0;
        if (has_suf && (st = put_lower(sufl, suf, sufn))) return st;
        /* cle_interop: INSEE_VOIE_NNNNN[_suffixe], lower case */
        char voie[5] = "xxxx"; /* exactly 4 bytes of the key, checked below */
        if (has_cle) {
            const char *us = memchr(cle, '_', clen);
            const char *us2 = us ? memchr(us + 1, '_', clen - (size_t)(us + 1 - cle)) : NULL;
            if (us && us2 && us2 - us - 1 == 4)
                for (int i = 0; i < 4; i++) voie[i] = (char)((us[1 + i] >= 'A' && us[1 + i] <= 'Z') ? us[1 + i] + 32 : us[1 + i]);
        }
        t->len = 0;
        if (insee[0] && numero >= 0) {
            if ((st = gf_buf_printf(t, "%c%c%c%c%c_%s_%05lld", insee[0] | (insee[0] >= 'A' ? 32 : 0),
                                    insee[1] | (insee[1] >= 'A' ? 32 : 0), insee[2], insee[3], insee[4], voie,
                                    (long long)numero)))
                return st;
            if (has_suf && ((st = gf_buf_append(t, "_", 1)) || (st = gf_buf_append(t, sufl->p, sufl->len)))) return st;
        } else if (has_cle && (st = put_lower(t, cle, clen))) {
            return st;
        }
        if ((st = put(out, t->p, t->len))) return st;
        SEP();
        if ((st = gf_buf_append(out, insee, strlen(insee)))) return st;
        SEP();
        int ci = insee[0] ? gf_cog_current(insee) : -1;
        if (ci >= 0) st = put(out, gf_cog_name(ci), strlen(gf_cog_name(ci)));
        else { str(b, GF_A_COMMUNE_NOM, r, &p, &n); st = put(out, p, n); }
        if (st) return st;
        SEP();
        str(b, GF_A_COMMUNE_DELEGUEE_INSEE, r, &p, &n);
        if ((st = put(out, p, n))) return st;
        SEP();
        str(b, GF_A_COMMUNE_DELEGUEE_NOM, r, &p, &n);
        if ((st = put(out, p, n))) return st;
        SEP();
        /* voie_nom; a BAN address on a lieu-dit (no street) takes the
         * lieu-dit's name, as a BAL does */
        const char *ld;
        size_t ldn;
        int has_ld = str(b, GF_A_LIEUDIT_COMPLEMENT_NOM, r, &ld, &ldn);
        int ld_is_voie = !str(b, GF_A_VOIE_NOM, r, &p, &n) && has_ld;
        if (ld_is_voie) { p = ld; n = ldn; }
        t->len = 0;
        if ((st = gf_buf_reserve(t, n))) return st;
        for (size_t i = 0; i < n; i++) t->p[t->len++] = p[i] == '_' ? ' ' : p[i];
        if ((st = put(out, t->p, t->len))) return st;
        SEP();
        if (!ld_is_voie && (st = put(out, ld, ldn))) return st;
        SEP();
        if (numero >= 0) {
            int l = snprintf(num, sizeof num, "%lld", (long long)numero);
            if ((st = gf_buf_append(out, num, (size_t)l))) return st;
        }
        SEP();
        if (has_suf && (st = put(out, sufl->p, sufl->len))) return st;
        SEP();
        if (str(b, GF_A_POSITION, r, &p, &n)) {
            const char *canon = gf_vposition_canon(p, n);
            if (canon) st = gf_buf_append(out, canon, strlen(canon));
            else st = put(out, p, n);
            if (st) return st;
        }
        SEP();
        /* coordinates */
        double lon = NAN, lat = NAN;
        if (b->cols[GF_A_LONG].valid[r] && b->cols[GF_A_LAT].valid[r]) {
            lon = b->cols[GF_A_LONG].v.d[r];
            lat = b->cols[GF_A_LAT].v.d[r];
        } else if (!isnan(b->lon[r]) && !isnan(b->lat[r])) {
            lon = b->lon[r];
            lat = b->lat[r];
        }
        double xy[2];
        int proj = !isnan(lon) && gf_vproj_legal(pj, lon, lat, xy);
        if (proj) {
            int l = gf_fmt_fixed(xy[0], 2, num);
            if ((st = gf_buf_append(out, num, (size_t)l))) return st;
            SEP();
            l = gf_fmt_fixed(xy[1], 2, num);
            if ((st = gf_buf_append(out, num, (size_t)l))) return st;
            SEP();
        } else {
            for (int c = GF_A_X; c <= GF_A_Y; c++) {
                if (b->cols[c].valid[r]) {
                    int l = gf_fmt_fixed(b->cols[c].v.d[r], 2, num);
                    if ((st = gf_buf_append(out, num, (size_t)l))) return st;
                }
                SEP();
            }
        }
        if (!isnan(lon)) {
            int l = gf_fmt_fixed(lon, 7, num);
            if ((st = gf_buf_append(out, num, (size_t)l))) return st;
            SEP();
            l = gf_fmt_fixed(lat, 7, num);
            if ((st = gf_buf_append(out, num, (size_t)l))) return st;
        } else {
            SEP();
        }
        SEP();
        /* cad_parcelles: 14-character ids */
        if (str(b, GF_A_CAD_PARCELLES, r, &p, &n)) {
            size_t s0 = 0;
            t->len = 0;
            for (size_t i = 0; i <= n; i++) {
                if (i < n && p[i] != '|') continue;
                size_t len = i - s0;
                if (len == 15) { /* 15-character form: drop the third character */
                    if ((st = gf_buf_append(t, p + s0, 2)) || (st = gf_buf_append(t, p + s0 + 3, 12))) return st;
                } else if (len > 0 && (st = gf_buf_append(t, p + s0, len))) {
                    return st;
                }
                if (len && (st = gf_buf_append(t, "|", 1))) return st;
                s0 = i + 1;
            }
            if (t->len) t->len--; /* last '|' */
            if ((st = put(out, t->p, t->len))) return st;
        }
        SEP();
        str(b, GF_A_SOURCE, r, &p, &n);
        if ((st = put(out, p, n))) return st;
        SEP();
        if (str(b, GF_A_DATE_DER_MAJ, r, &p, &n) && (st = gf_buf_append(out, p, n))) return st;
        SEP();
        int cert = b->cols[GF_A_CERTIFICATION_COMMUNE].valid[r] && b->cols[GF_A_CERTIFICATION_COMMUNE].v.i[r];
        if ((st = gf_buf_append(out, cert ? "1\n" : "0\n", 2))) return st;
    }
    return GF_OK;
}

/* Per-input mode: opens input i's file (its header written). */
static gf_status open_input(gf_balw *w, gf_ctx *ctx, int i)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%d.csv", w->path, i);
    gf_status st = gf_ofile_open(ctx, path, &w->files[i]);
    if (!st) st = gf_ofile_write(ctx, &w->files[i], gf_bal14_header, strlen(gf_bal14_header));
    return st;
}

/* Per-input mode: closes the current input's file and opens target's; the
 * inputs in between (no row written) get their file, header alone.
 * target == ninputs: closes the last one. */
static gf_status advance(gf_balw *w, gf_ctx *ctx, int target)
{
    gf_status st = GF_OK;
    if (w->cur >= 0 && (st = gf_ofile_close(ctx, &w->files[w->cur]))) return st;
    for (int i = w->cur + 1; i < target && !st; i++)
        if (!(st = open_input(w, ctx, i))) st = gf_ofile_close(ctx, &w->files[i]);
    w->cur = target;
    if (!st && target < w->ninputs) st = open_input(w, ctx, target);
    return st;
}

static gf_status commit(void *stv, gf_ctx *ctx, const gf_batch *b, const gf_buf *enc)
{
    gf_balw *w = stv;
    (void)b;
    if (!w->per_input) return gf_ofile_write(ctx, &w->f, enc->p, enc->len);
    gf_status st = GF_OK;
    for (size_t off = 0; off < enc->len && !st;) {
        frame fr;
        memcpy(&fr, enc->p + off, sizeof fr);
        off += sizeof fr;
        if ((int)fr.src != w->cur) {
            if (fr.src >= (uint32_t)w->ninputs || (int)fr.src < w->cur)
                return gf_ctx_err(ctx, GF_ERR_INTERNAL, "--to-bal: rows of input %u out of order", fr.src);
            if ((st = advance(w, ctx, (int)fr.src))) return st;
        }
        st = gf_ofile_write(ctx, &w->files[w->cur], enc->p + off, fr.len);
        off += fr.len;
    }
    return st;
}

static void free_proj(gf_balw *w)
{
    for (int i = 0; i < w->nworkers && w->pj; i++) {
        gf_vproj_destroy(w->pj[i]);
        w->pj[i] = NULL;
    }
}

static gf_status finish(void *stv, gf_ctx *ctx)
{
    gf_balw *w = stv;
    free_proj(w); /* before the worker contexts go */
    if (!w->per_input) return gf_ofile_close(ctx, &w->f);
    return advance(w, ctx, w->ninputs);
}

static gf_status publish(void *stv, gf_ctx *ctx)
{
    gf_balw *w = stv;
    if (!w->per_input) return gf_ofile_publish(ctx, &w->f);
    gf_status st = GF_OK;
    for (int i = 0; i < w->ninputs && !st; i++) st = gf_ofile_publish(ctx, &w->files[i]);
    return st;
}

static void discard_all(gf_balw *w)
{
    gf_ofile_discard(&w->f);
    for (int i = 0; w->files && i < w->ninputs; i++) gf_ofile_discard(&w->files[i]);
}

static void sink_abort(void *stv)
{
    gf_balw *w = stv;
    free_proj(w);
    discard_all(w);
}

static void destroy(void *stv)
{
    gf_balw *w = stv;
    if (!w) return;
    discard_all(w);
    free(w->files);
    free(w->pj); /* PROJ objects were freed by finish() or abort() */
    free(w->path);
    free(w);
}

const gf_sink_vt gf_bal_sink_vt = {
    .name = "bal-1.4",
    .begin = begin,
    .encode = encode,
    .commit = commit,
    .finish = finish,
    .publish = publish,
    .abort = sink_abort,
    .destroy = destroy,
};
