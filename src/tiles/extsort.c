/* External sort of tile records (see extsort.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tiles/archive.h"
#include "tiles/extsort.h"
#include "geoflux/write.h"

typedef struct xs_ent { uint64_t key, idx, off; } xs_ent;

typedef struct xs_run {
    FILE *f;            /* spilled run, or NULL for the in-memory run */
    uint8_t *buf;       /* current record (file runs) */
    size_t bufcap;
    size_t pos;         /* next entry (in-memory run) */
    int has;            /* head is valid */
    gf_trec head;
} xs_run;

struct gf_xsort {
    size_t budget;
    char tmpdir[1024], path[1024];
    int has_tmpdir;
    uint8_t *arena;
    size_t alen, acap;
    xs_ent *ent;
    size_t nent, entcap;
    xs_run *runs;
    int nruns; /* spilled runs */
    int sealed;
    uint64_t count;
    xs_run mem;
    xs_run *last; /* run whose head was returned last */
};

gf_status gf_xsort_create(gf_ctx *ctx, size_t budget, const char *tmpdir, const char *path, gf_xsort **out)
{
    gf_xsort *x = calloc(1, sizeof *x);
    if (!x) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    x->budget = budget < (64u << 10) ? (64u << 10) : budget; /* a floor keeps the run count sane */
    if (tmpdir) { snprintf(x->tmpdir, sizeof x->tmpdir, "%s", tmpdir); x->has_tmpdir = 1; }
    snprintf(x->path, sizeof x->path, "%s", path);
    *out = x;
    return GF_OK;
}

void gf_xsort_destroy(gf_xsort *x)
{
    if (!x) return;
    for (int i = 0; i < x->nruns; i++) {
        if (x->runs[i].f) fclose(x->runs[i].f);
        free(x->runs[i].buf);
    }
    free(x->runs);
    free(x->arena);
    free(x->ent);
    free(x);
}

static int cmp_ent(const void *a, const void *b)
{
    const xs_ent *p = a, *q = b;
    if (p->key != q->key) return p->key < q->key ? -1 : 1;
    return p->idx < q->idx ? -1 : p->idx > q->idx;
}

/* qsort() takes no NULL array, even with no element (an archive without
 * points has none). */
static void sort_ents(gf_xsort *x)
{
    if (x->nent > 1) qsort(x->ent, x->nent, sizeof *x->ent, cmp_ent);
}

static gf_status spill(gf_xsort *x, gf_ctx *ctx)
{
    sort_ents(x);
    int fd;
    gf_status st = gf_scratch_open(ctx, x->has_tmpdir ? x->tmpdir : NULL, x->path, &fd);
    if (st) return st;
    FILE *f = fdopen(fd, "w+b");
    if (!f) { close(fd); return gf_ctx_err(ctx, GF_ERR_IO, "scratch file: %s", strerror(errno)); }
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    for (size_t i = 0; i < x->nent; i++) {
        const uint8_t *p = x->arena + x->ent[i].off;
        uint32_t plen;
        memcpy(&plen, p + 24, 4);
        if (fwrite(p, 1, GF_TREC_HDR + plen, f) != GF_TREC_HDR + plen) {
            fclose(f);
            return gf_ctx_err(ctx, GF_ERR_IO, "scratch file: write failed (disk full? use --tmpdir): %s", strerror(errno));
        }
    }
    if (fflush(f) != 0) { fclose(f); return gf_ctx_err(ctx, GF_ERR_IO, "scratch file: %s", strerror(errno)); }
    xs_run *nr = realloc(x->runs, (size_t)(x->nruns + 1) * sizeof *nr);
    if (!nr) { fclose(f); return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); }
    x->runs = nr;
    memset(&x->runs[x->nruns], 0, sizeof *nr);
    x->runs[x->nruns++].f = f;
    x->alen = 0;
    x->nent = 0;
    return GF_OK;
}

gf_status gf_xsort_add(gf_xsort *x, gf_ctx *ctx, const uint8_t *rec, size_t len)
{
    if (x->sealed) return gf_ctx_err(ctx, GF_ERR_INTERNAL, "tile sort: record added after the merge began");
    gf_status st;
    if (x->alen + len + (x->nent + 1) * sizeof(xs_ent) > x->budget && x->nent && (st = spill(x, ctx))) return st;
    if (x->alen + len > x->acap) {
        size_t nc = x->acap ? x->acap : (1u << 20);
        while (nc < x->alen + len) nc *= 2;
        if (nc > x->budget && x->budget >= x->alen + len) nc = x->budget;
        uint8_t *a = realloc(x->arena, nc);
        if (!a) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        x->arena = a;
        x->acap = nc;
    }
    if (x->nent == x->entcap) {
        size_t nc = x->entcap ? x->entcap * 2 : 65536;
        xs_ent *e = realloc(x->ent, nc * sizeof *e);
        if (!e) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        x->ent = e;
        x->entcap = nc;
    }
    memcpy(x->arena + x->alen, rec, len);
    xs_ent *e = &x->ent[x->nent++];
    memcpy(&e->key, rec, 8);
    memcpy(&e->idx, rec + 8, 8);
    e->off = x->alen;
    x->alen += len;
    x->count++;
    return GF_OK;
}

static gf_status run_advance(gf_xsort *x, gf_ctx *ctx, xs_run *r)
{
    if (!r->f) {
        if (r->pos >= x->nent) { r->has = 0; return GF_OK; }
        gf_trec_get(x->arena + x->ent[r->pos++].off, &r->head);
        r->has = 1;
        return GF_OK;
    }
    uint8_t h[GF_TREC_HDR];
    size_t got = fread(h, 1, GF_TREC_HDR, r->f);
    if (got == 0 && feof(r->f)) { r->has = 0; return GF_OK; }
    if (got != GF_TREC_HDR) return gf_ctx_err(ctx, GF_ERR_IO, "scratch file: short read");
    uint32_t plen;
    memcpy(&plen, h + 24, 4);
    if (GF_TREC_HDR + (size_t)plen > r->bufcap) {
        size_t nc = r->bufcap ? r->bufcap : 256;
        while (nc < GF_TREC_HDR + (size_t)plen) nc *= 2;
        uint8_t *b = realloc(r->buf, nc);
        if (!b) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        r->buf = b;
        r->bufcap = nc;
    }
    memcpy(r->buf, h, GF_TREC_HDR);
    if (plen && fread(r->buf + GF_TREC_HDR, 1, plen, r->f) != plen) return gf_ctx_err(ctx, GF_ERR_IO, "scratch file: short read");
    gf_trec_get(r->buf, &r->head);
    r->has = 1;
    return GF_OK;
}

gf_status gf_xsort_rewind(gf_xsort *x, gf_ctx *ctx)
{
    gf_status st;
    if (!x->sealed) {
        sort_ents(x);
        x->sealed = 1;
    }
    for (int i = 0; i < x->nruns; i++) {
        xs_run *r = &x->runs[i];
        if (fseek(r->f, 0, SEEK_SET) != 0) return gf_ctx_err(ctx, GF_ERR_IO, "scratch file: seek: %s", strerror(errno));
        if ((st = run_advance(x, ctx, r))) return st;
    }
    x->mem.pos = 0;
    x->last = NULL;
    return run_advance(x, ctx, &x->mem);
}

/* Linear scan of the run heads: runs are few (input size / budget), and a
 * single run, the common case, needs no comparison at all. The record
 * returned last stays valid until this call, so its run advances lazily. */
gf_status gf_xsort_next(gf_xsort *x, gf_ctx *ctx, gf_trec *out)
{
    gf_status st;
    if (x->last) {
        if ((st = run_advance(x, ctx, x->last))) return st;
        x->last = NULL;
    }
    xs_run *best = x->mem.has ? &x->mem : NULL;
    for (int i = 0; i < x->nruns; i++) {
        xs_run *r = &x->runs[i];
        if (!r->has) continue;
        if (!best || r->head.key < best->head.key || (r->head.key == best->head.key && r->head.idx < best->head.idx))
            best = r;
    }
    if (!best) return GF_DONE;
    *out = best->head;
    x->last = best;
    return GF_OK;
}

uint64_t gf_xsort_count(const gf_xsort *x) { return x->count; }
int gf_xsort_runs_spilled(const gf_xsort *x) { return x->nruns; }
