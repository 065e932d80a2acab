/* gf_validate_file(): `geoflux validate` on one file, streaming. Reads the
 * CSV itself (not through gf_reader) because the reference judges things
 * the reader smooths over: exact header names (no aliases), field counts
 * (papaparse's TooFewFields/TooManyFields abort the validation), the
 * encoding of the whole file, the delimiter and CR-only line breaks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "validate/rules.h"
#include "validate/wide.h"

long gf_vtoday(void);
long gf_vtoday(void)
{
    return (long)(time(NULL) / 86400);
}

static gf_vcode_stat *stat_for(gf_validate_report *rep, const char *code, gf_vlevel lv)
{
    for (size_t i = 0; i < rep->ncodes; i++)
        if (strcmp(rep->codes[i].code, code) == 0) return &rep->codes[i];
    if (rep->ncodes == rep->capcodes) {
        size_t nc = rep->capcodes ? rep->capcodes * 2 : 32;
        gf_vcode_stat *n = realloc(rep->codes, nc * sizeof *n);
        if (!n) return NULL;
        rep->codes = n;
        rep->capcodes = nc;
    }
    gf_vcode_stat *s = &rep->codes[rep->ncodes++];
    memset(s, 0, sizeof *s);
    snprintf(s->code, sizeof s->code, "%s", code);
    s->level = lv;
    return s;
}

static void stat_line(gf_vcode_stat *s, uint64_t nrows, uint64_t line)
{
    if (!s) return;
    s->rows += nrows;
    if (!line) return;
    /* keep the smallest lines, sorted */
    int k = s->nlines;
    if (k == GF_VALIDATE_MAX_LINES && line >= s->lines[k - 1]) return;
    if (k == GF_VALIDATE_MAX_LINES) k--;
    while (k > 0 && s->lines[k - 1] > line) { s->lines[k] = s->lines[k - 1]; k--; }
    if (k > 0 && s->lines[k - 1] == line) { /* already there: undo shift */
        for (int i = k; i < s->nlines && i + 1 < GF_VALIDATE_MAX_LINES; i++) s->lines[i] = s->lines[i + 1];
        return;
    }
    s->lines[k] = line;
    if (s->nlines < GF_VALIDATE_MAX_LINES) s->nlines++;
}

typedef struct fctx { gf_validate_report *rep; const char *profile; } fctx;

static void file_code(fctx *f, const char *code)
{
    gf_vlevel lv = gf_validate_level(f->profile, code);
    gf_vcode_stat *s = stat_for(f->rep, code, lv);
    (void)s;
    if (lv == GF_VL_ERROR) f->rep->valid = 0;
}

static void wide_row(void *u, const char *code, uint64_t nrows, uint64_t first)
{
    fctx *f = u;
    gf_vlevel lv = gf_validate_level(f->profile, code);
    stat_line(stat_for(f->rep, code, lv), nrows, first);
    if (lv == GF_VL_ERROR) f->rep->valid = 0; /* none of them is an error today */
}

static void wide_file(void *u, const char *code) { file_code(u, code); }

static int cmp_code(const void *a, const void *b)
{
    return strcmp(((const gf_vcode_stat *)a)->code, ((const gf_vcode_stat *)b)->code);
}

void gf_validate_report_free(gf_validate_report *rep)
{
    if (!rep) return;
    free(rep->invalid_lines);
    free(rep->codes);
    rep->invalid_lines = NULL;
    rep->codes = NULL;
    rep->ninvalid = rep->capinvalid = rep->ncodes = rep->capcodes = 0;
}

/* The report's code for a record the tokenizer could not read: the
 * reference validator's (papaparse's) where it has one; a NUL byte or an
 * over-long record, which it would read as text, get codes of their own
 * rather than being reported as missing quotes. */
static const char *parse_code(const gf_csv_record *rec)
{
    switch (rec->error_kind) {
    case GF_CSV_ERR_FIELDS: return "file.parse.TooManyFields";
    case GF_CSV_ERR_NUL: return "file.parse.NulByte";
    case GF_CSV_ERR_TOO_LONG: return "file.parse.RecordTooLong";
    case GF_CSV_ERR_QUOTE:
    case GF_CSV_ERR_NONE: break;
    }
    return "file.parse.MissingQuotes";
}

gf_status gf_validate_file(gf_ctx *ctx, const char *path, const gf_validate_file_opts *opts,
                           gf_validate_report *rep)
{
    memset(rep, 0, sizeof *rep);
    gf_validate_file_opts o = {0};
    if (opts) o = *opts;
    if (o.profile && !gf_validate_profile_known(o.profile))
        return gf_ctx_err(ctx, GF_ERR_ARG, "unknown profile '%s' (1.3, 1.3-relax, 1.4, 1.5)", o.profile);
    gf_stream *s;
    gf_status st = gf_stream_open(ctx, path, &s);
    if (st) return st;
    gf_csv *c;
    if ((st = gf_csv_open(ctx, s, &o.csv, &c))) return st;
    gf_csv_record rec;
    rep->valid = 1;
    rep->parse_ok = 1;
    snprintf(rep->encoding, sizeof rep->encoding, "utf-8");
    st = gf_csv_next(c, ctx, &rec);
    gf_vheader h;
    fctx fc = {rep, NULL};
    if (st == GF_DONE) {
        /* papaparse: UndetectableDelimiter on an empty file */
        snprintf(rep->profile, sizeof rep->profile, "%s", o.profile ? o.profile : "1.3");
        rep->valid = 0;
        rep->parse_ok = 0;
        fc.profile = rep->profile;
        stat_for(rep, "file.parse.UndetectableDelimiter", GF_VL_ERROR);
        gf_csv_close(c);
        return GF_OK;
    }
    if (st) { gf_csv_close(c); return st; }
    uint64_t transcoded = rec.transcoded;
    {
        const char *names[GF_CSV_MAX_FIELDS];
        size_t lens[GF_CSV_MAX_FIELDS];
        for (int i = 0; i < rec.nfields; i++) { names[i] = rec.field[i]; lens[i] = rec.len[i]; }
        gf_vheader_analyse(names, lens, rec.nfields, &h);
    }
    snprintf(rep->unknown_fields, sizeof rep->unknown_fields, "%s", h.unknown);
    snprintf(rep->profile, sizeof rep->profile, "%s", o.profile ? o.profile : gf_vheader_profile(&h));
    fc.profile = rep->profile;
    const char *fmt = gf_vprofile_format(rep->profile);
    if (rec.error || rec.nfields < 2) {
        rep->parse_ok = 0;
        stat_for(rep, rec.error ? parse_code(&rec) : "file.parse.UndetectableDelimiter", GF_VL_ERROR);
    }

    gf_vproj *pj = NULL;
    if ((st = gf_vproj_create(ctx, &pj))) { gf_csv_close(c); return st; }
    gf_vwide w = {0};
    w.track_num = h.field_col[VF_ID_BAN_ADRESSE] >= 0 || h.field_col[VF_UID_ADRESSE] >= 0;
    long today = gf_vtoday();
    gf_vrow r;
    gf_vissues iss;
    gf_vparsed pv;
    while (rep->parse_ok && (st = gf_csv_next(c, ctx, &rec)) == GF_OK) {
        rep->rows++;
        transcoded += rec.transcoded != 0;
        if (rec.error) {
            rep->parse_ok = 0;
            stat_line(stat_for(rep, parse_code(&rec), GF_VL_ERROR), 1, rec.line);
            break;
        }
        if (rec.nfields != h.ncols) {
            rep->parse_ok = 0;
            stat_line(stat_for(rep, rec.nfields < h.ncols ? "file.parse.TooFewFields" : "file.parse.TooManyFields",
                               GF_VL_ERROR), 1, rec.line);
            break;
        }
        memset(r.present, 0, sizeof r.present);
        for (int f = 0; f < VF_COUNT; f++) {
            int col = h.field_col[f];
            if (col < 0) continue;
            r.present[f] = 1;
            r.v[f] = rec.field[col];
            r.n[f] = rec.len[col];
        }
        r.nlang = h.nlang;
        for (int k = 0; k < h.nlang; k++) {
            r.lang[k].field = h.lang[k].field;
            r.lang[k].name = h.lang[k].name;
            r.lang[k].v = rec.field[h.lang[k].col];
            r.lang[k].n = rec.len[h.lang[k].col];
        }
        gf_vrow_check(&r, pj, today, &iss, &pv);
        int bad = 0;
        for (int i = 0; i < iss.n; i++) {
            /* validateProfileRows: codes of fields outside the format are dropped */
            if (!gf_vf_in_format(iss.field[i], fmt)) continue;
            int dup = 0;
            for (int j = 0; j < i && !dup; j++) dup = strcmp(iss.code[j], iss.code[i]) == 0 && gf_vf_in_format(iss.field[j], fmt);
            if (dup) continue;
            gf_vlevel lv = gf_validate_level(rep->profile, iss.code[i]);
            stat_line(stat_for(rep, iss.code[i], lv), 1, rec.line);
            bad |= lv == GF_VL_ERROR;
        }
        if (bad) {
            rep->valid = 0;
            if (rep->ninvalid == rep->capinvalid) {
                size_t nc = rep->capinvalid ? rep->capinvalid * 2 : 256;
                uint64_t *nl = realloc(rep->invalid_lines, nc * sizeof *nl);
                if (!nl) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); break; }
                rep->invalid_lines = nl;
                rep->capinvalid = nc;
            }
            rep->invalid_lines[rep->ninvalid++] = rec.line;
        }
        gf_vwide_row(&w, &pv, rec.line);
    }
    if (st == GF_DONE) st = GF_OK;
    rep->delimiter = gf_csv_sep(c);
    rep->cr_only = gf_csv_saw_cr_only(c);
    gf_csv_close(c);
    gf_vproj_destroy(pj);
    if (st == GF_OK && w.nomem) st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory (file-wide checks)");
    if (st) {
        gf_vwide_free(&w);
        gf_validate_report_free(rep);
        return st;
    }
    if (!rep->parse_ok) {
        rep->valid = 0;
    } else {
        if (transcoded) {
            snprintf(rep->encoding, sizeof rep->encoding, "windows-1252");
            file_code(&fc, "file.encoding.non_standard");
        }
        if (rep->delimiter != ';') file_code(&fc, "file.delimiter.non_standard");
        if (rep->cr_only) file_code(&fc, "file.linebreak.non_standard");
        /* validateProfileNotFoundFields / UniqueErrors: missing columns of the format */
        for (int f = 0; f < VF_COUNT; f++) {
            if (h.field_col[f] >= 0 || !gf_vf_in_format(f, fmt)) continue;
            char code[80];
            snprintf(code, sizeof code, "field.%s.missing", gf_vf_names[f]);
            file_code(&fc, code);
        }
        gf_vwide_finish(&w, wide_row, wide_file, &fc);
    }
    gf_vwide_free(&w);
    if (rep->ncodes) qsort(rep->codes, rep->ncodes, sizeof rep->codes[0], cmp_code);
    return GF_OK;
}
