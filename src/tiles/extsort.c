/* External sort of tile records (see extsort.h).
 *
 * Memory: the in-memory run is one block whose capacity never passes the
 * budget (unless a single record is larger): records grow from its front,
 * their index entries from its back, and the run is spilled when the two
 * would meet. Spilled runs are read through stdio's own small buffers, and
 * runs are merged in a cascade, as sort(1) does: when `fanin` runs of
 * the same level exist they become one run of the next level, so the merge
 * reads at most (fanin - 1) runs per level, levels growing with the log of
 * the input, and every record is rewritten once per level. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/sort.h"
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
    int level;          /* 0: spilled from memory; n + 1: merged from level-n runs */
    gf_trec head;
} xs_run;

struct gf_xsort {
    size_t budget;
    int fanin;          /* most spilled runs read at once */
    char *tmpdir, *path;
    uint8_t *mem;       /* records at [0, alen), entries at [cap - nent * sizeof(xs_ent), cap) */
    size_t alen, cap, nent;
    xs_run *runs;
    int nruns;          /* spilled runs, by non-increasing level */
    int lo;             /* merge_next() reads runs[lo..nruns) */
    int nspills;        /* runs ever spilled (cascade merges included) */
    int sealed;
    int idx_unordered;  /* an entry came with a lower index than the one before */
    uint64_t count;
    xs_run mem_run;
    xs_run *last;       /* run whose head was returned last */
};

static xs_ent *ents(gf_xsort *x) { return (xs_ent *)(void *)(x->mem + x->cap) - x->nent; }

gf_status gf_xsort_create(gf_ctx *ctx, size_t budget, const char *tmpdir, const char *path, gf_xsort **out)
{
    gf_xsort *x = calloc(1, sizeof *x);
    if (!x) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    x->budget = budget < (64u << 10) ? (64u << 10) : budget; /* a floor keeps the run count sane */
    x->budget &= ~(size_t)7;
    /* each open run costs a stdio buffer and a record buffer (~8 KB) */
    size_t f = x->budget / (32u << 10);
    x->fanin = f < 8 ? 8 : f > 256 ? 256 : (int)f;
    x->path = strdup(path);
    x->tmpdir = tmpdir ? strdup(tmpdir) : NULL;
    if (!x->path || (tmpdir && !x->tmpdir)) {
        free(x->path);
        free(x->tmpdir);
        free(x);
        return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    }
    *out = x;
    return GF_OK;
}

static void run_close(xs_run *r)
{
    if (r->f) fclose(r->f);
    free(r->buf);
    memset(r, 0, sizeof *r);
}

void gf_xsort_destroy(gf_xsort *x)
{
    if (!x) return;
    for (int i = 0; i < x->nruns; i++) run_close(&x->runs[i]);
    free(x->runs);
    free(x->mem);
    free(x->tmpdir);
    free(x->path);
    free(x);
}

static int cmp_ent(const void *a, const void *b)
{
    const xs_ent *p = a, *q = b;
    if (p->key != q->key) return p->key < q->key ? -1 : 1;
    return p->idx < q->idx ? -1 : p->idx > q->idx;
}

/* Entries added in index order (the tile writer's, stamped at commit)
 * need only a stable sort on the key: the radix sort, where qsort() took
 * 0.08 s per 400k-entry run, in the pipeline's commit, which every worker
 * waits for. The entries grow down from the block's end, the newest
 * first: reversed before, so that equal keys keep index order. Others get
 * qsort() on (key, index); it takes no NULL array, even with no element
 * (an archive without points has none). */
static gf_status sort_ents(gf_xsort *x, gf_ctx *ctx)
{
    if (x->nent < 2) return GF_OK;
    if (!x->idx_unordered) {
        xs_ent *e = ents(x);
        for (size_t i = 0, j = x->nent - 1; i < j; i++, j--) {
            xs_ent t = e[i];
            e[i] = e[j];
            e[j] = t;
        }
        return gf_radix_sort_rec(ctx, e, x->nent, sizeof(xs_ent), offsetof(xs_ent, key));
    }
    qsort(ents(x), x->nent, sizeof(xs_ent), cmp_ent);
    return GF_OK;
}

static gf_status run_file(gf_xsort *x, gf_ctx *ctx, FILE **out)
{
    int fd;
    gf_status st = gf_scratch_open(ctx, x->tmpdir, x->path, &fd);
    if (st) return st;
    *out = fdopen(fd, "w+b");
    if (!*out) { close(fd); return gf_ctx_err(ctx, GF_ERR_IO, "scratch file: %s", strerror(errno)); }
    return GF_OK;
}

static gf_status put_rec(gf_ctx *ctx, FILE *f, const uint8_t *p, size_t n)
{
    if (fwrite(p, 1, n, f) != n)
        return gf_ctx_err(ctx, GF_ERR_IO, "scratch file: write failed (disk full? use --tmpdir): %s", strerror(errno));
    return GF_OK;
}

static gf_status add_run(gf_xsort *x, gf_ctx *ctx, FILE *f, int level)
{
    if (fflush(f) != 0) { fclose(f); return gf_ctx_err(ctx, GF_ERR_IO, "scratch file: %s", strerror(errno)); }
    xs_run *nr = realloc(x->runs, (size_t)(x->nruns + 1) * sizeof *nr);
    if (!nr) { fclose(f); return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); }
    x->runs = nr;
    memset(&x->runs[x->nruns], 0, sizeof *nr);
    x->runs[x->nruns].f = f;
    x->runs[x->nruns++].level = level;
    x->nspills++;
    return GF_OK;
}

static gf_status run_advance(gf_xsort *x, gf_ctx *ctx, xs_run *r);
static gf_status merge_next(gf_xsort *x, gf_ctx *ctx, gf_trec *out);

/* Merges runs[lo..nruns) into one run of the next level. */
static gf_status merge_tail(gf_xsort *x, gf_ctx *ctx, int lo)
{
    gf_status st;
    FILE *f;
    int level = x->runs[lo].level + 1;
    for (int i = lo; i < x->nruns; i++) {
        xs_run *r = &x->runs[i];
        if (fseek(r->f, 0, SEEK_SET) != 0) return gf_ctx_err(ctx, GF_ERR_IO, "scratch file: seek: %s", strerror(errno));
        if ((st = run_advance(x, ctx, r))) return st;
    }
    x->mem_run.has = 0;
    x->last = NULL;
    x->lo = lo;
    if ((st = run_file(x, ctx, &f))) { x->lo = 0; return st; }
    gf_trec r;
    while ((st = merge_next(x, ctx, &r)) == GF_OK) {
        uint8_t h[GF_TREC_HDR];
        gf_trec_put_hdr(h, r.key, r.idx, r.x, r.y, r.plen);
        if ((st = put_rec(ctx, f, h, sizeof h)) || (st = put_rec(ctx, f, r.payload, r.plen))) break;
    }
    x->lo = 0;
    x->last = NULL;
    if (st != GF_DONE) { fclose(f); return st; }
    for (int i = lo; i < x->nruns; i++) run_close(&x->runs[i]);
    x->nruns = lo;
    return add_run(x, ctx, f, level);
}

/* After a spill: while the last fanin runs share a level, merge them. */
static gf_status cascade(gf_xsort *x, gf_ctx *ctx)
{
    gf_status st;
    while (x->nruns >= x->fanin) {
        int lo = x->nruns - x->fanin;
        if (x->runs[lo].level != x->runs[x->nruns - 1].level) break;
        if ((st = merge_tail(x, ctx, lo))) return st;
    }
    return GF_OK;
}

static gf_status spill(gf_xsort *x, gf_ctx *ctx)
{
    gf_status st;
    if ((st = sort_ents(x, ctx))) return st;
    FILE *f;
    if ((st = run_file(x, ctx, &f))) return st;
    const xs_ent *e = ents(x);
    for (size_t i = 0; i < x->nent; i++) {
        const uint8_t *p = x->mem + e[i].off;
        uint32_t plen;
        memcpy(&plen, p + 24, 4);
        if ((st = put_rec(ctx, f, p, GF_TREC_HDR + (size_t)plen))) { fclose(f); return st; }
    }
    if ((st = add_run(x, ctx, f, 0))) return st;
    x->alen = 0;
    x->nent = 0;
    return cascade(x, ctx);
}

gf_status gf_xsort_add(gf_xsort *x, gf_ctx *ctx, const uint8_t *rec, size_t len)
{
    if (x->sealed) return gf_ctx_err(ctx, GF_ERR_INTERNAL, "tile sort: record added after the merge began");
    gf_status st;
    const size_t es = sizeof(xs_ent);
    if (x->nent && x->alen + len + (x->nent + 1) * es > x->budget && (st = spill(x, ctx))) return st;
    size_t need = x->alen + len + (x->nent + 1) * es;
    if (need > x->cap) {
        size_t nc = x->cap ? x->cap : (1u << 20);
        while (nc < need) nc *= 2;
        if (nc > x->budget) nc = need > x->budget ? need : x->budget; /* one record larger than the budget */
        nc = (nc + 7) & ~(size_t)7;
        uint8_t *m = realloc(x->mem, nc);
        if (!m) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory (tile sort; lower --max-memory)");
        /* the entries stay at the end of the block */
        memmove(m + nc - x->nent * es, m + x->cap - x->nent * es, x->nent * es);
        x->mem = m;
        x->cap = nc;
    }
    memcpy(x->mem + x->alen, rec, len);
    x->nent++;
    xs_ent *e = ents(x);
    memcpy(&e->key, rec, 8);
    memcpy(&e->idx, rec + 8, 8);
    if (x->nent > 1 && e->idx < e[1].idx) x->idx_unordered = 1;
    e->off = x->alen;
    x->alen += len;
    x->count++;
    return GF_OK;
}

static gf_status run_advance(gf_xsort *x, gf_ctx *ctx, xs_run *r)
{
    if (!r->f) {
        if (r->pos >= x->nent) { r->has = 0; return GF_OK; }
        gf_trec_get(x->mem + ents(x)[r->pos++].off, &r->head);
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
        if ((st = sort_ents(x, ctx))) return st;
        x->sealed = 1;
    }
    for (int i = 0; i < x->nruns; i++) {
        xs_run *r = &x->runs[i];
        if (fseek(r->f, 0, SEEK_SET) != 0) return gf_ctx_err(ctx, GF_ERR_IO, "scratch file: seek: %s", strerror(errno));
        if ((st = run_advance(x, ctx, r))) return st;
    }
    x->mem_run.pos = 0;
    x->last = NULL;
    return run_advance(x, ctx, &x->mem_run);
}

/* Linear scan of the run heads: a few runs per level, and a single run,
 * the common case, needs no comparison at all. The record returned last
 * stays valid until the next call, so its run advances lazily. */
static gf_status merge_next(gf_xsort *x, gf_ctx *ctx, gf_trec *out)
{
    gf_status st;
    if (x->last) {
        if ((st = run_advance(x, ctx, x->last))) return st;
        x->last = NULL;
    }
    xs_run *best = x->mem_run.has ? &x->mem_run : NULL;
    for (int i = x->lo; i < x->nruns; i++) {
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

gf_status gf_xsort_next(gf_xsort *x, gf_ctx *ctx, gf_trec *out) { return merge_next(x, ctx, out); }

uint64_t gf_xsort_count(const gf_xsort *x) { return x->count; }
int gf_xsort_runs_spilled(const gf_xsort *x) { return x->nspills; }
