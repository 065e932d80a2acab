/* Tab-separated values with the position as WKT (`.tsv`, `-f tsv`).
 *
 * Also the worked example of docs/design.md: a format is this one file
 * plus one row of the format table (src/write/output.c); nothing else in
 * the library or the CLI names it.
 *
 * One header line, then one line per row: `WKT` (POINT (x y) in the output
 * CRS, an empty field without a position), every schema column, `errors`,
 * `warnings`. Fields holding a tab, a quote or a line break are quoted as
 * in CSV (RFC 4180 with a tab for the comma), so that GDAL's CSV driver
 * (which reads .tsv files and takes a column called WKT as the geometry),
 * spreadsheets and Python's csv module read the file back. The CRS itself
 * is not stored: the format table says so (GF_FMT_CRS_NONE_XY) and
 * gf_output_open() warns when --t-srs asks for another CRS than WGS84.
 * Rows are formatted on the workers (encode) and appended in input order
 * (commit); "-" is standard output. */
#include <stdlib.h>
#include <string.h>

#include "geoflux/write.h"
#include "write/csv.h"
#include "write/ofile.h"

typedef struct gf_tsv {
    char *path;
    int prec;
    gf_ofile f;
    const gf_schema *schema;
} gf_tsv;

/* The format table's open(): nothing is touched before begin(). */
gf_status gf_tsv_open(gf_ctx *ctx, const gf_output_opts *opts, const gf_format *fmt, void **st)
{
    (void)fmt;
    gf_tsv *t = calloc(1, sizeof *t);
    if (!t || !(t->path = strdup(opts->path))) {
        free(t);
        return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    }
    t->prec = opts->precision >= 0 ? opts->precision : (opts->srs_geographic ? 7 : 2);
    *st = t;
    return GF_OK;
}

static gf_status begin(void *stv, gf_ctx *ctx, const gf_schema *schema, int nworkers)
{
    gf_tsv *t = stv;
    (void)nworkers;
    t->schema = schema;
    gf_buf h = {0};
    gf_status st = gf_buf_append(&h, "WKT", 3);
    for (int i = 0; i < schema->nfields + 2 && !st; i++) {
        const char *name = i < schema->nfields ? schema->fields[i].name : i == schema->nfields ? "errors" : "warnings";
        st = gf_buf_append(&h, "\t", 1);
        if (!st) st = gf_csv_put_field(&h, name, strlen(name), '\t', 0);
    }
    if (!st) st = gf_buf_append(&h, "\n", 1);
    if (st) st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    if (!st) st = gf_ofile_open(ctx, t->path, &t->f);
    if (!st) st = gf_ofile_write(ctx, &t->f, h.p, h.len);
    gf_buf_free(&h);
    return st;
}

static gf_status encode(void *stv, gf_ctx *ctx, int worker, const gf_batch *b, gf_buf *out)
{
    gf_tsv *t = stv;
    (void)worker;
    gf_status st = gf_batch_expect(b, ctx, t->schema, 1, GF_COL_TYPED, "TSV writer");
    if (st) return st;
    const gf_schema *s = b->schema;
    char num[96];
    for (size_t r = 0; r < b->n && !st; r++) {
        if (b->flags[r] & GF_ROW_HAS_POS) {
            int l = 7;
            memcpy(num, "POINT (", 7);
            l += gf_fmt_fixed(b->gx[r], t->prec, num + l);
            num[l++] = ' ';
            l += gf_fmt_fixed(b->gy[r], t->prec, num + l);
            num[l++] = ')';
            st = gf_buf_append(out, num, (size_t)l);
        }
        for (int f = 0; f < s->nfields && !st; f++) {
            const gf_col *c = &b->cols[f];
            if (!(st = gf_buf_append(out, "\t", 1)) && c->valid[r]) {
                int l = gf_fmt_scalar(s->fields[f].type, c, r, num);
                st = l >= 0 ? gf_buf_append(out, num, (size_t)l)
                            : gf_csv_put_field(out, b->arena + c->v.s[r].off, c->v.s[r].len, '\t', 0);
            }
        }
        if (!st && !(st = gf_buf_append(out, "\t", 1)))
            st = gf_csv_put_field(out, b->arena + b->errors[r].off, b->errors[r].len, '\t', 0);
        if (!st && !(st = gf_buf_append(out, "\t", 1)))
            st = gf_csv_put_field(out, b->arena + b->warnings[r].off, b->warnings[r].len, '\t', 0);
        if (!st) st = gf_buf_append(out, "\n", 1);
    }
    return st ? gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory") : GF_OK;
}

static gf_status commit(void *stv, gf_ctx *ctx, const gf_batch *b, const gf_buf *enc)
{
    gf_tsv *t = stv;
    (void)b;
    return gf_ofile_write(ctx, &t->f, enc->p, enc->len);
}

static gf_status finish(void *stv, gf_ctx *ctx)
{
    gf_tsv *t = stv;
    return gf_ofile_close(ctx, &t->f);
}

static gf_status publish(void *stv, gf_ctx *ctx)
{
    gf_tsv *t = stv;
    return gf_ofile_publish(ctx, &t->f);
}

static void sink_abort(void *stv)
{
    gf_tsv *t = stv;
    gf_ofile_discard(&t->f);
}

static void destroy(void *stv)
{
    gf_tsv *t = stv;
    if (!t) return;
    sink_abort(t);
    free(t->path);
    free(t);
}

const gf_sink_vt gf_tsv_sink_vt = {
    .name = "tsv",
    .begin = begin,
    .encode = encode,
    .commit = commit,
    .finish = finish,
    .publish = publish,
    .abort = sink_abort,
    .destroy = destroy,
};
