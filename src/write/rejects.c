/* Rejects CSV: one row per rejected record with its input, line, reason and
 * raw text, so that nothing is lost silently. The file is created on the
 * first reject (an empty run leaves no file) unless the path was asked for
 * explicitly. The first rejects are also logged as file:line: reason. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "geoflux/write.h"

#define GF_REJECTS_LOGGED 10

typedef struct gf_rj {
    char path[1024], tmp[1100];
    const char *const *inputs;
    int ninputs;
    FILE *f;
    int always; /* create even when empty */
    uint64_t count;
} gf_rj;

gf_status gf_rejects_open(gf_ctx *ctx, const char *path, const char *const *inputs, int ninputs, void **st)
{
    gf_rj *r = calloc(1, sizeof *r);
    if (!r) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    /* a leading '?' means: only if there are rejects (the CLI's default path) */
    r->always = path[0] != '?';
    snprintf(r->path, sizeof r->path, "%s", path + (path[0] == '?'));
    r->inputs = inputs;
    r->ninputs = ninputs;
    *st = r;
    return GF_OK;
}

static gf_status open_file(gf_rj *r, gf_ctx *ctx)
{
    gf_atomic_tmpname(r->path, r->tmp, sizeof r->tmp);
    r->f = fopen(r->tmp, "wb");
    if (!r->f) return gf_ctx_err(ctx, GF_ERR_IO, "%s: %s", r->tmp, strerror(errno));
    fputs("source;line;reason;raw\n", r->f);
    return GF_OK;
}

static gf_status begin(void *st, gf_ctx *ctx, const gf_schema *schema, int nworkers)
{
    gf_rj *r = st;
    (void)schema; (void)nworkers;
    return r->always ? open_file(r, ctx) : GF_OK;
}

static void put_field(FILE *f, const char *p, size_t n)
{
    int q = 0;
    for (size_t i = 0; i < n && !q; i++) q = p[i] == ';' || p[i] == '"' || p[i] == '\n' || p[i] == '\r';
    if (!q) { fwrite(p, 1, n, f); return; }
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '"') fputc('"', f);
        fputc(p[i], f);
    }
    fputc('"', f);
}

static const char *input_name(const gf_rj *r, uint32_t src)
{
    return (int)src < r->ninputs ? r->inputs[src] : "?";
}

static gf_status commit(void *st, gf_ctx *ctx, const gf_batch *b, const gf_buf *enc)
{
    gf_rj *r = st;
    (void)enc;
    if (b->nrej == 0) return GF_OK;
    if (!r->f) {
        gf_status s = open_file(r, ctx);
        if (s) return s;
    }
    /* Stages reject at different times: write in input order. */
    size_t *ord = malloc(b->nrej * sizeof *ord);
    if (!ord) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < b->nrej; i++) {
        size_t j = i;
        while (j > 0 && (b->rej[ord[j - 1]].src > b->rej[i].src ||
                         (b->rej[ord[j - 1]].src == b->rej[i].src && b->rej[ord[j - 1]].line > b->rej[i].line))) {
            ord[j] = ord[j - 1];
            j--;
        }
        ord[j] = i;
    }
    for (size_t k = 0; k < b->nrej; k++) {
        const gf_reject *j = &b->rej[ord[k]];
        const char *in = input_name(r, j->src);
        put_field(r->f, in, strlen(in));
        fprintf(r->f, ";%llu;", (unsigned long long)j->line);
        put_field(r->f, b->arena + j->reason.off, j->reason.len);
        fputc(';', r->f);
        put_field(r->f, b->arena + j->raw.off, j->raw.len);
        fputc('\n', r->f);
        if (r->count < GF_REJECTS_LOGGED)
            gf_ctx_log(ctx, GF_LOG_WARN, "%s:%llu: %.*s", in, (unsigned long long)j->line, (int)j->reason.len,
                       b->arena + j->reason.off);
        r->count++;
    }
    free(ord);
    if (ferror(r->f)) return gf_ctx_err(ctx, GF_ERR_IO, "%s: write failed", r->path);
    return GF_OK;
}

static gf_status finish(void *st, gf_ctx *ctx)
{
    gf_rj *r = st;
    if (r->count > GF_REJECTS_LOGGED)
        gf_ctx_log(ctx, GF_LOG_WARN, "... %llu more rejected rows", (unsigned long long)(r->count - GF_REJECTS_LOGGED));
    if (!r->f) return GF_OK;
    return gf_atomic_close(ctx, &r->f, r->tmp, r->path);
}

static void sink_abort(void *st)
{
    gf_rj *r = st;
    gf_atomic_discard(&r->f, r->tmp);
}

static void destroy(void *st)
{
    if (!st) return;
    sink_abort(st);
    free(st);
}

const gf_sink_vt gf_rejects_sink_vt = {
    .name = "rejects",
    .begin = begin,
    .commit = commit,
    .finish = finish,
    .abort = sink_abort,
    .destroy = destroy,
};
