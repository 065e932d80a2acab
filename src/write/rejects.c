/* Rejects CSV: one row per rejected record with its input, line, reason and
 * raw text, so that nothing is lost silently. The file is created on the
 * first reject (an empty run leaves no file) unless the path was asked for
 * explicitly. The first rejects are also logged as file:line: reason.
 * Written like every sequential output (gf_ofile): committed with the
 * run's other outputs, or not at all. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "geoflux/write.h"
#include "write/csv.h"
#include "write/ofile.h"


typedef struct gf_rj {
    char *path;
    const char *const *inputs;
    int ninputs;
    gf_ofile f;
    gf_buf buf; /* one batch's rows */
    int always; /* create even when empty */
    uint64_t count;
} gf_rj;

gf_status gf_rejects_open(gf_ctx *ctx, const char *path, const char *const *inputs, int ninputs, void **st)
{
    gf_rj *r = calloc(1, sizeof *r);
    if (!r) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    /* a leading '?' means: only if there are rejects (the CLI's default path) */
    r->always = path[0] != '?';
    if (!(r->path = strdup(path + (path[0] == '?')))) {
        free(r);
        return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    }
    r->inputs = inputs;
    r->ninputs = ninputs;
    *st = r;
    return GF_OK;
}

static gf_status open_file(gf_rj *r, gf_ctx *ctx)
{
    static const char head[] = "source;line;reason;raw\n";
    /* rejects are few (one row in a thousand of a national extract): small
     * buffers, or the default ones' untouched pages fill as rows come, and
     * the run's memory grows with its length */
    gf_status st = gf_ofile_open_cap(ctx, r->path, (size_t)256 << 10, &r->f);
    if (!st) st = gf_ofile_write(ctx, &r->f, head, sizeof head - 1);
    return st;
}

static gf_status begin(void *st, gf_ctx *ctx, const gf_schema *schema, int nworkers)
{
    gf_rj *r = st;
    (void)schema; (void)nworkers;
    return r->always ? open_file(r, ctx) : GF_OK;
}

static const char *input_name(const gf_rj *r, uint32_t src)
{
    return (int)src < r->ninputs ? r->inputs[src] : "?";
}

/* The batch's rejects in input order (stages reject at different times);
 * NULL when out of memory. */
static size_t *reject_order(const gf_batch *b)
{
    size_t *ord = malloc((b->nrej ? b->nrej : 1) * sizeof *ord);
    if (!ord) return NULL;
    for (size_t i = 0; i < b->nrej; i++) {
        size_t j = i;
        while (j > 0 && (b->rej[ord[j - 1]].src > b->rej[i].src ||
                         (b->rej[ord[j - 1]].src == b->rej[i].src && b->rej[ord[j - 1]].line > b->rej[i].line))) {
            ord[j] = ord[j - 1];
            j--;
        }
        ord[j] = i;
    }
    return ord;
}

gf_status gf_rejects_log(gf_ctx *ctx, const gf_batch *b, const char *const *inputs, int ninputs, const char *verb)
{
    if (b->nrej == 0) return GF_OK;
    size_t *ord = reject_order(b);
    if (!ord) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < b->nrej; k++) {
        const gf_reject *j = &b->rej[ord[k]];
        /* a rejected row is an error of that row; the log sink's repeat
         * limit keeps the first few and counts the rest */
        gf_ctx_logc(ctx, GF_LOG_ERROR, "row.rejected", "%s:%llu: row %s: %.*s",
                    (int)j->src < ninputs ? inputs[j->src] : "?", (unsigned long long)j->line, verb,
                    (int)j->reason.len, b->arena + j->reason.off);
    }
    free(ord);
    return GF_OK;
}

static gf_status commit(void *st, gf_ctx *ctx, const gf_batch *b, const gf_buf *enc)
{
    gf_rj *r = st;
    (void)enc;
    if (b->nrej == 0) return GF_OK;
    if (!r->f.opened) {
        gf_status s = open_file(r, ctx);
        if (s) return s;
    }
    size_t *ord = reject_order(b);
    if (!ord) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    gf_status s = GF_OK;
    r->buf.len = 0;
    for (size_t k = 0; k < b->nrej && !s; k++) {
        const gf_reject *j = &b->rej[ord[k]];
        const char *in = input_name(r, j->src);
        s = gf_csv_put_field(&r->buf, in, strlen(in), ';', 0);
        if (!s) s = gf_buf_printf(&r->buf, ";%llu;", (unsigned long long)j->line);
        if (!s) s = gf_csv_put_field(&r->buf, b->arena + j->reason.off, j->reason.len, ';', 0);
        if (!s) s = gf_buf_append(&r->buf, ";", 1);
        if (!s) s = gf_csv_put_field(&r->buf, b->arena + j->raw.off, j->raw.len, ';', 0);
        if (!s) s = gf_buf_append(&r->buf, "\n", 1);
        r->count++;
    }
    free(ord);
    if (s) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    if ((s = gf_rejects_log(ctx, b, r->inputs, r->ninputs, "rejected"))) return s;
    return gf_ofile_write(ctx, &r->f, r->buf.p, r->buf.len);
}

static gf_status finish(void *st, gf_ctx *ctx)
{
    gf_rj *r = st;
    return gf_ofile_close(ctx, &r->f);
}

static gf_status publish(void *st, gf_ctx *ctx)
{
    gf_rj *r = st;
    return gf_ofile_publish(ctx, &r->f);
}

static void sink_abort(void *st)
{
    gf_rj *r = st;
    gf_ofile_discard(&r->f);
}

static void destroy(void *st)
{
    gf_rj *r = st;
    if (!r) return;
    gf_ofile_discard(&r->f);
    gf_buf_free(&r->buf);
    free(r->path);
    free(r);
}

const gf_sink_vt gf_rejects_sink_vt = {
    .name = "rejects",
    .begin = begin,
    .commit = commit,
    .finish = finish,
    .publish = publish,
    .abort = sink_abort,
    .destroy = destroy,
};
