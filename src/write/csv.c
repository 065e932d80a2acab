/* Native CSV writer: rows encoded on the workers, written in order. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "write/csv.h"
#include "write/ofile.h"

typedef struct gf_csvw {
    char *path;
    FILE *stream; /* opts->stream: written into, not created */
    gf_ofile f;
    const gf_schema *schema;
} gf_csvw;

gf_status gf_csv_writer_open(gf_ctx *ctx, const gf_output_opts *opts, void **st)
{
    gf_csvw *w = calloc(1, sizeof *w);
    if (!w) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    w->stream = opts->stream;
    if (!(w->path = strdup(opts->path))) {
        free(w);
        return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    }
    *st = w;
    return GF_OK;
}

gf_status gf_csv_put_field(gf_buf *o, const char *p, size_t n, char sep, unsigned flags)
{
    int q = (flags & GF_CSV_QUOTE_BLANKS) && n > 0 && (p[0] == ' ' || p[n - 1] == ' ');
    for (size_t i = 0; i < n && !q; i++) q = p[i] == sep || p[i] == '"' || p[i] == '\n' || p[i] == '\r';
    if (!q) return gf_buf_append(o, p, n);
    gf_status st = gf_buf_reserve(o, n * 2 + 2);
    if (st) return st;
    char *w = o->p + o->len;
    *w++ = '"';
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '"') *w++ = '"';
        *w++ = p[i];
    }
    *w++ = '"';
    o->len = (size_t)(w - o->p);
    return GF_OK;
}

/* errors/warnings columns are written only if the schema was validated:
 * we cannot know at begin() whether a row will carry codes, so they are
 * always present for address and equipment schemas, never for others. */
static int with_codes(const gf_schema *s)
{
    return s->kind && (!strcmp(s->kind, "address") || !strcmp(s->kind, "equipment"));
}

static gf_status begin(void *st, gf_ctx *ctx, const gf_schema *schema, int nworkers)
{
    gf_csvw *w = st;
    (void)nworkers;
    w->schema = schema;
    gf_status s = GF_OK;
    if (w->stream) gf_ofile_open_stream(&w->f, w->stream, w->path);
    else if ((s = gf_ofile_open(ctx, w->path, &w->f))) return s;
    gf_buf h = {0};
    for (int i = 0; i < schema->nfields && !s; i++) {
        if (i) s = gf_buf_append(&h, ",", 1);
        if (!s) s = gf_csv_put_field(&h, schema->fields[i].name, strlen(schema->fields[i].name), ',', GF_CSV_QUOTE_BLANKS);
    }
    if (!s && with_codes(schema)) s = gf_buf_append(&h, ",errors,warnings", 16);
    if (!s) s = gf_buf_append(&h, "\n", 1);
    if (!s) s = gf_ofile_write(ctx, &w->f, h.p, h.len);
    gf_buf_free(&h);
    return s;
}

static gf_status encode(void *stv, gf_ctx *ctx, int worker, const gf_batch *b, gf_buf *out)
{
    gf_csvw *w = stv;
    (void)worker;
    gf_status st = gf_batch_expect(b, ctx, w->schema, 1, GF_COL_TYPED, "csv writer");
    if (st) return st;
    const gf_schema *s = b->schema;
    int codes = with_codes(s);
    char num[48];
    for (size_t r = 0; r < b->n; r++) {
        for (int f = 0; f < s->nfields; f++) {
            if (f && (st = gf_buf_append(out, ",", 1))) return st;
            const gf_col *c = &b->cols[f];
            if (!c->valid[r]) continue;
            switch (s->fields[f].type) {
            case GF_T_STRING:
            case GF_T_DATE:
                st = gf_csv_put_field(out, b->arena + c->v.s[r].off, c->v.s[r].len, ',', GF_CSV_QUOTE_BLANKS);
                break;
            default:
                st = gf_buf_append(out, num, (size_t)gf_fmt_scalar(s->fields[f].type, c, r, num));
                break;
            }
            if (st) return st;
        }
        if (codes) {
            if ((st = gf_buf_append(out, ",", 1)) || (st = gf_csv_put_field(out, b->arena + b->errors[r].off, b->errors[r].len, ',', GF_CSV_QUOTE_BLANKS)) ||
                (st = gf_buf_append(out, ",", 1)) || (st = gf_csv_put_field(out, b->arena + b->warnings[r].off, b->warnings[r].len, ',', GF_CSV_QUOTE_BLANKS)))
                return st;
        }
        if ((st = gf_buf_append(out, "\n", 1))) return st;
    }
    (void)w;
    return GF_OK;
}

static gf_status commit(void *stv, gf_ctx *ctx, const gf_batch *b, const gf_buf *enc)
{
    gf_csvw *w = stv;
    (void)b;
    return gf_ofile_write(ctx, &w->f, enc->p, enc->len);
}

static gf_status finish(void *stv, gf_ctx *ctx)
{
    gf_csvw *w = stv;
    return gf_ofile_close(ctx, &w->f);
}

static gf_status publish(void *stv, gf_ctx *ctx)
{
    gf_csvw *w = stv;
    return gf_ofile_publish(ctx, &w->f);
}

static void sk_abort(void *stv)
{
    gf_csvw *w = stv;
    if (w) gf_ofile_discard(&w->f);
}

static void destroy(void *stv)
{
    gf_csvw *w = stv;
    if (!w) return;
    gf_ofile_discard(&w->f);
    free(w->path);
    free(w);
}

const gf_sink_vt gf_csv_sink_vt = {
    .name = "csv",
    .begin = begin,
    .encode = encode,
    .commit = commit,
    .finish = finish,
    .publish = publish,
    .abort = sk_abort,
    .destroy = destroy,
};
