/* gf_validate_file(): `geoflux validate` on one file, streaming. Reads the
 * CSV itself (not through gf_reader) because the reference judges things
 * the reader smooths over: exact header names (no aliases), field counts
 * (papaparse's TooFewFields/TooManyFields abort the validation), the
 * encoding of the whole file, the delimiter and CR-only line breaks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "geoflux/engine.h"
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

/* ---- the row loop, in blocks ---------------------------------------------
 * The reader copies records out of the CSV buffer into blocks, the row
 * rules run on each block (on the engine's workers when there is one), and
 * the calling thread then folds each row's outcome into the report in file
 * order: the file-wide checks, the lists of lines and the counts see the
 * rows exactly as a single loop would, so the report does not depend on
 * the thread count. With an engine, the next set of blocks is read while
 * the current one is checked (the reader is the part that cannot be
 * split). */
#define VBLOCK_ROWS 4096
#define VMAX_BLOCKS 16 /* blocks of a set: one per worker, at most */
/* A block also ends past this many bytes of fields: long records (up to the
 * reader's maximum record size) keep a set's memory bounded, and the
 * 32-bit offsets within a block cannot wrap. */
#define VBLOCK_BYTES ((size_t)32 << 20)

typedef struct vblock {
    size_t n;
    uint64_t line[VBLOCK_ROWS];
    uint32_t field0[VBLOCK_ROWS + 1];   /* row i: fields [field0[i], field0[i+1]) */
    struct vfield { uint32_t pos, len; } *f; /* a field: offset in data, length */
    size_t nf, capf;
    char *data;
    size_t ndata, capdata;
    /* the outcome, per row: kept codes [code0[i], code0[i+1]) */
    gf_vparsed pv[VBLOCK_ROWS];
    unsigned char bad[VBLOCK_ROWS];
    uint32_t code0[VBLOCK_ROWS + 1];
    uint32_t *coff;                     /* a code: offset in cstr */
    unsigned char *clv;                 /* its level */
    size_t nc, capc;
    char *cstr;
    size_t ncstr, capcstr;
    gf_status st;        /* the check failed (nothing of the block is folded) */
    char err[256];
} vblock;

typedef struct vset {
    vblock *b[VMAX_BLOCKS];
    int nb;
    int done;            /* nothing more to read: end of file, a parse error or a failure */
    gf_status st;        /* a read failure */
    const char *errcode; /* the parse error that stopped the file, at errline */
    uint64_t errline, rows, transcoded;
} vset;

typedef struct vrun {
    gf_ctx *ctx;
    gf_csv *c;
    const gf_vheader *h;
    const char *fmt;
    gf_validate_report *rep;
    long today;
    int maxb;
    gf_vwide w;
    uint64_t rows, transcoded;
    gf_vproj **pj;                  /* per worker (one without an engine) */
    unsigned char *own_pj;          /* 1: not in the worker context's cache, freed here */
} vrun;

static int grow(void **p, size_t *cap, size_t need, size_t elt)
{
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap : 1024;
    while (nc < need) nc *= 2;
    void *n = realloc(*p, nc * elt);
    if (!n) return -1;
    *p = n;
    *cap = nc;
    return 0;
}

static void block_free(vblock *b)
{
    if (!b) return;
    free(b->f); free(b->data); free(b->coff); free(b->clv); free(b->cstr);
    free(b);
}

static int block_add(vblock *b, const gf_csv_record *rec)
{
    size_t bytes = 0;
    for (int i = 0; i < rec->nfields; i++) bytes += rec->len[i] + 1;
    if (bytes > UINT32_MAX - b->ndata) return -1;
    if (grow((void **)&b->f, &b->capf, b->nf + (size_t)rec->nfields, sizeof *b->f)) return -1;
    if (grow((void **)&b->data, &b->capdata, b->ndata + bytes, 1)) return -1;
    b->line[b->n] = rec->line;
    b->field0[b->n] = (uint32_t)b->nf;
    for (int i = 0; i < rec->nfields; i++) {
        b->f[b->nf++] = (struct vfield){(uint32_t)b->ndata, (uint32_t)rec->len[i]};
        memcpy(b->data + b->ndata, rec->field[i], rec->len[i]);
        b->ndata += rec->len[i];
        b->data[b->ndata++] = '\0';
    }
    b->field0[++b->n] = (uint32_t)b->nf;
    return 0;
}

/* Fills set s with the next records (the reader; one thread at a time). */
static void read_set(vrun *R, vset *s)
{
    s->nb = 0;
    s->done = 0;
    s->rows = s->transcoded = 0;
    s->st = GF_OK;
    s->errcode = NULL;
    gf_csv_record rec;
    while (s->nb < R->maxb && !s->done) {
        vblock *b = s->b[s->nb];
        b->n = b->nf = b->ndata = 0;
        b->st = GF_OK;
        b->field0[0] = 0;
        while (b->n < VBLOCK_ROWS && b->ndata < VBLOCK_BYTES) {
            gf_status st = gf_csv_next(R->c, R->ctx, &rec);
            if (st) {
                if (st != GF_DONE) s->st = st;
                s->done = 1;
                break;
            }
            s->rows++;
            s->transcoded += rec.transcoded != 0;
            if (rec.error || rec.nfields != R->h->ncols) {
                s->errcode = rec.error ? parse_code(&rec)
                             : rec.nfields < R->h->ncols ? "file.parse.TooFewFields" : "file.parse.TooManyFields";
                s->errline = rec.line;
                s->done = 1;
                break;
            }
            if (block_add(b, &rec)) {
                s->st = gf_ctx_err(R->ctx, GF_ERR_NOMEM, "out of memory");
                s->done = 1;
                break;
            }
        }
        if (b->n) s->nb++;
    }
}

/* The row rules on one block, with the worker's legal-CRS transformations. */
static void check_block(vrun *R, vblock *b, gf_vproj *pj)
{
    const gf_vheader *h = R->h;
    gf_vrow r;
    gf_vissues iss;
    b->nc = b->ncstr = 0;
    for (size_t row = 0; row < b->n; row++) {
        const struct vfield *fd = b->f + b->field0[row];
        memset(r.present, 0, sizeof r.present);
        for (int f = 0; f < VF_COUNT; f++) {
            int col = h->field_col[f];
            if (col < 0) continue;
            r.present[f] = 1;
            r.v[f] = b->data + fd[col].pos;
            r.n[f] = fd[col].len;
        }
        r.nlang = h->nlang;
        for (int k = 0; k < h->nlang; k++) {
            r.lang[k].field = h->lang[k].field;
            r.lang[k].name = h->lang[k].name;
            r.lang[k].v = b->data + fd[h->lang[k].col].pos;
            r.lang[k].n = fd[h->lang[k].col].len;
        }
        gf_vrow_check(&r, pj, R->today, &iss, &b->pv[row]);
        b->code0[row] = (uint32_t)b->nc;
        b->bad[row] = 0;
        for (int i = 0; i < iss.n; i++) {
            /* validateProfileRows: codes of fields outside the format are dropped */
            if (!gf_vf_in_format(iss.field[i], R->fmt)) continue;
            int dup = 0;
            for (int j = 0; j < i && !dup; j++)
                dup = strcmp(iss.code[j], iss.code[i]) == 0 && gf_vf_in_format(iss.field[j], R->fmt);
            if (dup) continue;
            gf_vlevel lv = gf_validate_level(R->rep->profile, iss.code[i]);
            size_t len = strlen(iss.code[i]) + 1, capc = b->capc;
            if (grow((void **)&b->coff, &capc, b->nc + 1, sizeof *b->coff)) goto nomem;
            capc = b->capc;
            if (grow((void **)&b->clv, &capc, b->nc + 1, 1)) goto nomem;
            b->capc = capc;
            if (grow((void **)&b->cstr, &b->capcstr, b->ncstr + len, 1)) goto nomem;
            memcpy(b->cstr + b->ncstr, iss.code[i], len);
            b->coff[b->nc] = (uint32_t)b->ncstr;
            b->clv[b->nc++] = (unsigned char)lv;
            b->ncstr += len;
            b->bad[row] |= lv == GF_VL_ERROR;
        }
    }
    b->code0[b->n] = (uint32_t)b->nc;
    return;
nomem:
    b->st = GF_ERR_NOMEM;
    snprintf(b->err, sizeof b->err, "out of memory");
}

/* Folds set s into the report, in file order (the calling thread). */
static gf_status fold_set(vrun *R, vset *s)
{
    gf_validate_report *rep = R->rep;
    for (int k = 0; k < s->nb; k++) {
        vblock *b = s->b[k];
        for (size_t row = 0; row < b->n; row++) {
            for (uint32_t i = b->code0[row]; i < b->code0[row + 1]; i++)
                stat_line(stat_for(rep, b->cstr + b->coff[i], (gf_vlevel)b->clv[i]), 1, b->line[row]);
            if (b->bad[row]) {
                rep->valid = 0;
                if (rep->ninvalid == rep->capinvalid) {
                    size_t nc = rep->capinvalid ? rep->capinvalid * 2 : 256;
                    uint64_t *nl = realloc(rep->invalid_lines, nc * sizeof *nl);
                    if (!nl) return gf_ctx_err(R->ctx, GF_ERR_NOMEM, "out of memory");
                    rep->invalid_lines = nl;
                    rep->capinvalid = nc;
                }
                rep->invalid_lines[rep->ninvalid++] = b->line[row];
            }
            gf_vwide_row(&R->w, &b->pv[row], b->line[row]);
        }
    }
    R->rows += s->rows;
    R->transcoded += s->transcoded;
    if (s->errcode) {
        rep->parse_ok = 0;
        stat_line(stat_for(rep, s->errcode, GF_VL_ERROR), 1, s->errline);
    }
    return GF_OK;
}

typedef struct vtask { vrun *R; vset *read; vblock *check; } vtask;

static void vtask_run(void *arg, gf_ctx *wctx, int worker)
{
    vtask *t = arg;
    vrun *R = t->R;
    if (t->read) { read_set(R, t->read); return; }
    if (!R->pj[worker] && !(R->pj[worker] = gf_ctx_cache_get(wctx, "validate:legal"))) {
        /* the same cached transformations as the convert stage's */
        gf_status st = gf_vproj_create(wctx, &R->pj[worker]);
        if (st) {
            t->check->st = st;
            snprintf(t->check->err, sizeof t->check->err, "%s", gf_ctx_errmsg(wctx));
            return;
        }
        R->own_pj[worker] = gf_ctx_cache_put(wctx, "validate:legal", R->pj[worker],
                                             (void (*)(void *))gf_vproj_destroy) != GF_OK;
    }
    check_block(R, t->check, R->pj[worker]);
}

/* The blocks of the two sets, kept in the calling context's cache from one
 * call to the next: a caller that validates many small files (publish
 * checks each commune's harmonised rows) would otherwise allocate, fault in
 * and regrow half a megabyte of blocks per file, which profiled at a tenth
 * of publish's CPU. A block's arrays grown past VKEEP_BYTES by long
 * records are freed when the call ends, so what stays cached is bounded. */
#define VKEEP_BYTES ((size_t)4 << 20)
typedef struct vblocks {
    vblock *b[2][VMAX_BLOCKS];
    int busy;            /* taken by a call (a nested call makes its own) */
} vblocks;

static void vblocks_free(void *p)
{
    vblocks *v = p;
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < VMAX_BLOCKS; i++) block_free(v->b[k][i]);
    free(v);
}

/* The call's blocks: the cached ones when free, else its own (*own = 1). */
static vblocks *vblocks_take(gf_ctx *ctx, int *own)
{
    vblocks *v = gf_ctx_cache_get(ctx, "validate:blocks");
    *own = 0;
    if (v && !v->busy) {
        v->busy = 1;
        return v;
    }
    if (!v) {
        if (!(v = calloc(1, sizeof *v))) return NULL;
        v->busy = 1;
        if (gf_ctx_cache_put(ctx, "validate:blocks", v, vblocks_free) == GF_OK) return v;
        *own = 1;
        return v;
    }
    if (!(v = calloc(1, sizeof *v))) return NULL;
    *own = 1;
    return v;
}

static void vblocks_release(vblocks *v, int own)
{
    if (!v) return;
    if (own) { vblocks_free(v); return; }
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < VMAX_BLOCKS; i++) {
            vblock *b = v->b[k][i];
            if (!b) continue;
            if (b->capdata > VKEEP_BYTES || b->capf * sizeof *b->f > VKEEP_BYTES) {
                free(b->f); free(b->data);
                b->f = NULL; b->data = NULL;
                b->capf = b->capdata = 0;
            }
            if (b->capcstr > VKEEP_BYTES || b->capc * sizeof *b->coff > VKEEP_BYTES) {
                free(b->coff); free(b->clv); free(b->cstr);
                b->coff = NULL; b->clv = NULL; b->cstr = NULL;
                b->capc = b->capcstr = 0;
            }
        }
    v->busy = 0;
}

static gf_status row_loop(vrun *R, gf_engine *e)
{
    int nw = e ? gf_engine_threads(e) : 1;
    R->maxb = nw < VMAX_BLOCKS ? nw : VMAX_BLOCKS;
    vset S[2];
    memset(S, 0, sizeof S);
    vtask tasks[VMAX_BLOCKS + 1];
    void *args[VMAX_BLOCKS + 1];
    gf_status st = GF_OK;
    int own_blocks = 0;
    vblocks *vb = vblocks_take(R->ctx, &own_blocks);
    R->pj = calloc((size_t)nw, sizeof *R->pj);
    R->own_pj = calloc((size_t)nw, 1);
    if (!vb || !R->pj || !R->own_pj) st = gf_ctx_err(R->ctx, GF_ERR_NOMEM, "out of memory");
    for (int k = 0; k < 2 && !st; k++)
        for (int i = 0; i < R->maxb && !st; i++) {
            if (!vb->b[k][i] && !(vb->b[k][i] = calloc(1, sizeof(vblock))))
                st = gf_ctx_err(R->ctx, GF_ERR_NOMEM, "out of memory");
            S[k].b[i] = vb->b[k][i];
        }
    if (!st && !e && !(st = gf_vproj_create(R->ctx, &R->pj[0]))) R->own_pj[0] = 1;
    if (!st) read_set(R, &S[0]);
    for (int cur = 0; !st; cur ^= 1) {
        vset *s = &S[cur], *next = &S[cur ^ 1];
        if (e) {
            int n = 0;
            for (int i = 0; i < s->nb; i++) tasks[n++] = (vtask){R, NULL, s->b[i]};
            if (!s->done) tasks[n++] = (vtask){R, next, NULL};
            for (int i = 0; i < n; i++) args[i] = &tasks[i];
            gf_engine_run(e, R->ctx, n, vtask_run, args);
        } else {
            for (int i = 0; i < s->nb; i++) check_block(R, s->b[i], R->pj[0]);
        }
        for (int i = 0; i < s->nb && !st; i++)
            if (s->b[i]->st) st = gf_ctx_err(R->ctx, s->b[i]->st, "%s", s->b[i]->err);
        if (st) break;
        if ((st = s->st) || (st = fold_set(R, s))) break;
        if (s->done) break;
        if (!e) read_set(R, next);
    }
    for (int i = 0; i < nw && R->pj && R->own_pj; i++)
        if (R->own_pj[i]) gf_vproj_destroy(R->pj[i]);
    free(R->pj);
    free(R->own_pj);
    vblocks_release(vb, own_blocks);
    return st;
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

    vrun R = {.ctx = ctx, .c = c, .h = &h, .fmt = fmt, .rep = rep, .today = gf_vtoday()};
    R.w.track_num = h.field_col[VF_ID_BAN_ADRESSE] >= 0 || h.field_col[VF_UID_ADRESSE] >= 0;
    if (rep->parse_ok) st = row_loop(&R, o.engine);
    rep->rows += R.rows;
    transcoded += R.transcoded;
    gf_vwide w = R.w;
    rep->delimiter = gf_csv_sep(c);
    rep->cr_only = gf_csv_saw_cr_only(c);
    gf_csv_close(c);
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
