/* External sort of records under a memory budget (see xsort.h).
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
#include "core/xsort.h"
#include "geoflux/write.h"

typedef struct xs_ent { uint64_t key, idx, off; } xs_ent;

typedef struct xs_run {
    FILE *f;            /* spilled run, or NULL for the in-memory run */
    uint8_t *buf;       /* current record (file runs) */
    size_t bufcap;
    size_t pos;         /* next entry (in-memory run) */
    int has;            /* head is valid */
    int level;          /* 0: spilled from memory; n + 1: merged from level-n runs */
    uint64_t key, idx;  /* the head's sort key */
    const uint8_t *head;
    size_t hlen;
    int rank;           /* breaks ties between runs: the in-memory run, then the runs in order */
} xs_run;

struct gf_xsort {
    size_t budget;
    size_t hdr;         /* bytes that give a record's length */
    gf_xsort_len_fn reclen;
    int fanin;          /* most spilled runs read at once */
    char *tmpdir, *path;
    uint8_t *mem;       /* records at [0, alen), entries at [cap - nent * sizeof(xs_ent), cap) */
    size_t alen, cap, nent;
    xs_run *runs;
    int nruns;          /* spilled runs, by non-increasing level */
    xs_run **heap;      /* the runs being merged that have a head, a min-heap */
    int nheap, heapcap;
    int nspills;        /* runs ever spilled (cascade merges included) */
    int sealed;
    int idx_unordered;  /* an entry came with a lower index than the one before */
    uint64_t count;
    xs_run mem_run;
    xs_run *last;       /* run whose head was returned last */
};

static xs_ent *ents(gf_xsort *x) { return (xs_ent *)(void *)(x->mem + x->cap) - x->nent; }

static size_t rec_len(const gf_xsort *x, const uint8_t *p) { return x->reclen ? x->reclen(p) : x->hdr; }

gf_status gf_xsort_create(gf_ctx *ctx, size_t budget, const char *tmpdir, const char *path, size_t hdr,
                          gf_xsort_len_fn reclen, gf_xsort **out)
{
    if (hdr < 16) return gf_ctx_err(ctx, GF_ERR_INTERNAL, "external sort: a record header of %zu bytes", hdr);
    gf_xsort *x = calloc(1, sizeof *x);
    if (!x) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    x->hdr = hdr;
    x->reclen = reclen;
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
    free(x->heap);
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

/* Entries added in index order (the tile writer's, stamped at commit;
 * the R-tree's boxes, by feature id) need only a stable sort on the key: the radix sort, where qsort() took
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
static gf_status merge_next(gf_xsort *x, gf_ctx *ctx, const uint8_t **out, size_t *len);
static gf_status heap_build(gf_xsort *x, gf_ctx *ctx, int with_mem, int lo);

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
    if ((st = heap_build(x, ctx, 0, lo))) return st;
    if ((st = run_file(x, ctx, &f))) return st;
    const uint8_t *p;
    size_t len;
    while ((st = merge_next(x, ctx, &p, &len)) == GF_OK)
        if ((st = put_rec(ctx, f, p, len))) break;
    x->nheap = 0;
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
        if ((st = put_rec(ctx, f, p, rec_len(x, p)))) { fclose(f); return st; }
    }
    if ((st = add_run(x, ctx, f, 0))) return st;
    x->alen = 0;
    x->nent = 0;
    return cascade(x, ctx);
}

gf_status gf_xsort_add(gf_xsort *x, gf_ctx *ctx, const uint8_t *rec, size_t len)
{
    if (x->sealed) return gf_ctx_err(ctx, GF_ERR_INTERNAL, "external sort: record added after the merge began");
    if (len < x->hdr) return gf_ctx_err(ctx, GF_ERR_INTERNAL, "external sort: a record of %zu bytes", len);
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
        if (!m) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory (external sort; lower --max-memory)");
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

static void set_head(xs_run *r, const uint8_t *p, size_t len)
{
    memcpy(&r->key, p, 8);
    memcpy(&r->idx, p + 8, 8);
    r->head = p;
    r->hlen = len;
    r->has = 1;
}

static gf_status run_advance(gf_xsort *x, gf_ctx *ctx, xs_run *r)
{
    if (!r->f) {
        if (r->pos >= x->nent) { r->has = 0; return GF_OK; }
        const uint8_t *p = x->mem + ents(x)[r->pos++].off;
        set_head(r, p, rec_len(x, p));
        return GF_OK;
    }
    if (x->hdr > r->bufcap) {
        size_t nc = r->bufcap ? r->bufcap : 256;
        while (nc < x->hdr) nc *= 2;
        uint8_t *b = realloc(r->buf, nc);
        if (!b) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        r->buf = b;
        r->bufcap = nc;
    }
    size_t got = fread(r->buf, 1, x->hdr, r->f);
    if (got == 0 && feof(r->f)) { r->has = 0; return GF_OK; }
    if (got != x->hdr) return gf_ctx_err(ctx, GF_ERR_IO, "scratch file: short read");
    size_t len = rec_len(x, r->buf);
    if (len > r->bufcap) {
        size_t nc = r->bufcap;
        while (nc < len) nc *= 2;
        uint8_t *b = realloc(r->buf, nc);
        if (!b) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        r->buf = b;
        r->bufcap = nc;
    }
    if (len > x->hdr && fread(r->buf + x->hdr, 1, len - x->hdr, r->f) != len - x->hdr)
        return gf_ctx_err(ctx, GF_ERR_IO, "scratch file: short read");
    set_head(r, r->buf, len);
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
    if ((st = run_advance(x, ctx, &x->mem_run))) return st;
    return heap_build(x, ctx, 1, 0);
}

static int run_less(const xs_run *a, const xs_run *b)
{
    if (a->key != b->key) return a->key < b->key;
    if (a->idx != b->idx) return a->idx < b->idx;
    return a->rank < b->rank;
}

static void heap_down(gf_xsort *x, int i)
{
    xs_run **h = x->heap;
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < x->nheap && run_less(h[l], h[m])) m = l;
        if (r < x->nheap && run_less(h[r], h[m])) m = r;
        if (m == i) return;
        xs_run *t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

/* The heap of the runs to merge that have a head: the in-memory run
 * (with_mem) and runs[lo..nruns). Their heads are read. */
static gf_status heap_build(gf_xsort *x, gf_ctx *ctx, int with_mem, int lo)
{
    int need = x->nruns - lo + 1;
    if (need > x->heapcap) {
        xs_run **h = realloc(x->heap, (size_t)need * sizeof *h);
        if (!h) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        x->heap = h;
        x->heapcap = need;
    }
    x->nheap = 0;
    x->last = NULL;
    x->mem_run.rank = 0;
    if (with_mem && x->mem_run.has) x->heap[x->nheap++] = &x->mem_run;
    for (int i = lo; i < x->nruns; i++) {
        x->runs[i].rank = i + 1;
        if (x->runs[i].has) x->heap[x->nheap++] = &x->runs[i];
    }
    for (int i = x->nheap / 2 - 1; i >= 0; i--) heap_down(x, i);
    return GF_OK;
}

/* A binary heap of the run heads (a single run, the common case, needs no
 * comparison at all). The record returned last stays valid until the next
 * call, so its run, the heap's top, advances lazily. */
static gf_status merge_next(gf_xsort *x, gf_ctx *ctx, const uint8_t **out, size_t *len)
{
    gf_status st;
    if (x->last) {
        if ((st = run_advance(x, ctx, x->last))) return st;
        if (!x->last->has) x->heap[0] = x->heap[--x->nheap];
        x->last = NULL;
        heap_down(x, 0);
    }
    if (!x->nheap) return GF_DONE;
    xs_run *best = x->heap[0];
    *out = best->head;
    *len = best->hlen;
    x->last = best;
    return GF_OK;
}

gf_status gf_xsort_next(gf_xsort *x, gf_ctx *ctx, const uint8_t **rec, size_t *len)
{
    return merge_next(x, ctx, rec, len);
}

uint64_t gf_xsort_count(const gf_xsort *x) { return x->count; }
int gf_xsort_runs_spilled(const gf_xsort *x) { return x->nspills; }
