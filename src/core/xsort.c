/* External sort of records under a memory budget (see xsort.h).
 *
 * Memory: the in-memory run is one block whose capacity never passes the
 * budget (unless a single record is larger): records grow from its front,
 * their index entries from its back, and the run is spilled when the two
 * would meet. Fixed-size records (no reclen, hdr a multiple of 8) need no
 * entries: they fill half of the block and are radix-sorted where they
 * lie, the sort's scratch taking the other half, and a run is written in
 * one go. Runs are merged in a cascade, as sort(1) does: when `fanin`
 * runs of the same level exist they become one run of the next level, so
 * the merge reads at most (fanin - 1) runs per level, levels growing with
 * the log of the input, and every record is rewritten once per level.
 *
 * Scratch I/O is done on buffers of our own through gf_pio() rather than
 * stdio: a record read from a run is handed out where it lies in the
 * run's buffer (no copy), and a run is written in large blocks (the R-tree
 * of 1M features past its budget took 0.26 s with per-record
 * fread()/fwrite() calls, 0.18 s this way). A run's buffer is RUN_BUF
 * bytes (more for a longer record), and fanin is sized so that the
 * buffers of the runs read at once take at most a quarter of the budget. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/sort.h"
#include "core/xsort.h"
#include "geoflux/write.h"
#include "write/ofile.h"

#define RUN_BUF ((size_t)32 << 10) /* read buffer of a spilled run */
#define WR_BUF ((size_t)256 << 10)  /* write buffer of the run being spilled or merged */

typedef struct xs_ent { uint64_t key, idx, off; } xs_ent;

typedef struct xs_run {
    int fd;             /* spilled run, or -1 for the in-memory run */
    uint64_t size, off; /* file runs: bytes in the file, and read so far */
    uint8_t *buf;       /* read buffer (file runs): bytes [bpos, blen) not yet handed out */
    size_t bcap, bpos, blen;
    size_t pos;         /* next entry (in-memory run) */
    int has;            /* head is valid */
    int level;          /* 0: spilled from memory; n + 1: merged from level-n runs */
    uint64_t key, idx;  /* the head's sort key */
    const uint8_t *head;
    size_t hlen;
} xs_run;

/* A run being written. */
typedef struct xs_wr { int fd; uint8_t *buf; size_t len; uint64_t off; const char *path; } xs_wr;

struct gf_xsort {
    size_t budget;
    size_t hdr;         /* bytes that give a record's length */
    gf_xsort_len_fn reclen;
    int fanin;          /* most spilled runs read at once */
    char *tmpdir, *path;
    uint8_t *mem;       /* records at [0, alen), entries at [cap - nent * sizeof(xs_ent), cap);
                         * fixed: the records only, sorted where they lie */
    size_t alen, cap, nent;
    int fixed;          /* records of hdr bytes, a multiple of 8 up to 256 */
    uint64_t last_idx;  /* idx of the record added last */
    xs_run *runs;
    int nruns;          /* spilled runs, by non-increasing level */
    xs_run **heap;      /* the runs being merged that have a head, a min-heap */
    int nheap, heapcap;
    int nspills;        /* runs ever spilled (cascade merges included) */
    int sealed;
    int idx_unordered;  /* a record of the in-memory run came with a lower index than the one before */
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
    x->fixed = !reclen && hdr % 8 == 0 && hdr <= 256;
    x->budget = budget < (64u << 10) ? (64u << 10) : budget; /* a floor keeps the run count sane */
    x->budget &= ~(size_t)7;
    size_t f = x->budget / (4 * RUN_BUF);
    x->fanin = f < 8 ? 8 : f > 256 ? 256 : (int)f;
    x->mem_run.fd = -1;
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
    if (r->fd >= 0) close(r->fd);
    free(r->buf);
    memset(r, 0, sizeof *r);
    r->fd = -1;
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

static int cmp_rec(const void *a, const void *b)
{
    uint64_t p[2], q[2];
    memcpy(p, a, 16);
    memcpy(q, b, 16);
    if (p[0] != q[0]) return p[0] < q[0] ? -1 : 1;
    return p[1] < q[1] ? -1 : p[1] > q[1];
}

static int cmp_ent(const void *a, const void *b)
{
    const xs_ent *p = a, *q = b;
    if (p->key != q->key) return p->key < q->key ? -1 : 1;
    return p->idx < q->idx ? -1 : p->idx > q->idx;
}

/* A run whose records came in index order (the tile writer's, stamped at
 * commit; the R-tree's boxes, by feature id) needs only a stable sort on
 * the key: the radix sort, where qsort() took 0.08 s per 400k-entry run,
 * in the pipeline's commit, which every worker waits for. The entries grow
 * down from the block's end, the newest first: reversed before, so that
 * equal keys keep index order. Others get qsort() on (key, index); it
 * takes no NULL array, even with no element (an archive without points
 * has none). */
static gf_status sort_ents(gf_xsort *x, gf_ctx *ctx)
{
    if (x->nent < 2) return GF_OK;
    if (x->fixed) { /* the records themselves, in input order */
        if (!x->idx_unordered) return gf_radix_sort_rec(ctx, x->mem, x->nent, x->hdr, 0);
        qsort(x->mem, x->nent, x->hdr, cmp_rec);
        return GF_OK;
    }
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

/* Writes p[0..n) at the end of the run being written. */
static gf_status wr_raw(gf_ctx *ctx, xs_wr *w, const void *p, size_t n)
{
    int e = gf_pio(w->fd, 1, (void *)p, n, w->off);
    if (e) return gf_ctx_err(ctx, GF_ERR_IO, "%s: scratch file: write failed (disk full? use --tmpdir): %s", w->path, strerror(e));
    w->off += n;
    return GF_OK;
}

static gf_status wr_flush(gf_ctx *ctx, xs_wr *w)
{
    gf_status st = wr_raw(ctx, w, w->buf, w->len);
    w->len = 0;
    return st;
}

static gf_status wr_open(gf_xsort *x, gf_ctx *ctx, xs_wr *w)
{
    w->len = 0;
    w->off = 0;
    w->path = x->path;
    if (!(w->buf = malloc(WR_BUF))) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    gf_status st = gf_scratch_open(ctx, x->tmpdir, x->path, &w->fd);
    if (st) { free(w->buf); w->buf = NULL; }
    return st;
}

static void wr_abandon(xs_wr *w)
{
    close(w->fd);
    free(w->buf);
    w->buf = NULL;
}

static gf_status put_rec(gf_ctx *ctx, xs_wr *w, const uint8_t *p, size_t n)
{
    gf_status st;
    if (w->len + n > WR_BUF) {
        if ((st = wr_flush(ctx, w))) return st;
        if (n > WR_BUF) return wr_raw(ctx, w, p, n); /* longer than the buffer: straight out */
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
    return GF_OK;
}

/* The run written to w becomes a run of the given level (w is closed on error). */
static gf_status add_run(gf_xsort *x, gf_ctx *ctx, xs_wr *w, int level)
{
    gf_status st = wr_flush(ctx, w);
    free(w->buf);
    w->buf = NULL;
    if (st) { close(w->fd); return st; }
    xs_run *nr = realloc(x->runs, (size_t)(x->nruns + 1) * sizeof *nr);
    if (!nr) { close(w->fd); return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); }
    x->runs = nr;
    memset(&x->runs[x->nruns], 0, sizeof *nr);
    x->runs[x->nruns].fd = w->fd;
    x->runs[x->nruns].size = w->off;
    x->runs[x->nruns++].level = level;
    x->nspills++;
    return GF_OK;
}

static gf_status run_advance(gf_xsort *x, gf_ctx *ctx, xs_run *r);
static gf_status run_start(gf_xsort *x, gf_ctx *ctx, xs_run *r);
static gf_status merge_next(gf_xsort *x, gf_ctx *ctx, const uint8_t **out, size_t *len);
static gf_status heap_build(gf_xsort *x, gf_ctx *ctx, int with_mem, int lo);

/* Merges runs[lo..nruns) into one run of the next level. */
static gf_status merge_tail(gf_xsort *x, gf_ctx *ctx, int lo)
{
    gf_status st;
    xs_wr w;
    int level = x->runs[lo].level + 1;
    for (int i = lo; i < x->nruns; i++)
        if ((st = run_start(x, ctx, &x->runs[i]))) return st;
    if ((st = heap_build(x, ctx, 0, lo))) return st;
    if ((st = wr_open(x, ctx, &w))) return st;
    const uint8_t *p;
    size_t len;
    while ((st = merge_next(x, ctx, &p, &len)) == GF_OK)
        if ((st = put_rec(ctx, &w, p, len))) break;
    x->nheap = 0;
    x->last = NULL;
    if (st != GF_DONE) { wr_abandon(&w); return st; }
    for (int i = lo; i < x->nruns; i++) run_close(&x->runs[i]);
    x->nruns = lo;
    return add_run(x, ctx, &w, level);
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
    xs_wr w;
    if ((st = wr_open(x, ctx, &w))) return st;
    if (x->fixed) {
        if ((st = put_rec(ctx, &w, x->mem, x->alen))) { wr_abandon(&w); return st; }
    } else {
        const xs_ent *e = ents(x);
        for (size_t i = 0; i < x->nent; i++) {
            const uint8_t *p = x->mem + e[i].off;
            if ((st = put_rec(ctx, &w, p, rec_len(x, p)))) { wr_abandon(&w); return st; }
        }
    }
    if ((st = add_run(x, ctx, &w, 0))) return st;
    x->alen = 0;
    x->nent = 0;
    x->idx_unordered = 0; /* each run is sorted on its own */
    return cascade(x, ctx);
}

gf_status gf_xsort_add(gf_xsort *x, gf_ctx *ctx, const uint8_t *rec, size_t len)
{
    if (x->sealed) return gf_ctx_err(ctx, GF_ERR_INTERNAL, "external sort: record added after the merge began");
    if (len < x->hdr || (!x->reclen && len != x->hdr))
        return gf_ctx_err(ctx, GF_ERR_INTERNAL, "external sort: a record of %zu bytes", len);
    gf_status st;
    uint64_t idx;
    memcpy(&idx, rec + 8, 8);
    if (x->nent && idx < x->last_idx) x->idx_unordered = 1;
    x->last_idx = idx;
    x->count++;
    if (x->fixed) {
        /* half of the budget: the radix sort's scratch takes as much */
        if (x->nent && (x->alen + len) * 2 > x->budget && (st = spill(x, ctx))) return st;
        if (x->alen + len > x->cap) {
            size_t nc = x->cap ? x->cap * 2 : (1u << 20);
            if (nc > x->budget / 2) nc = x->budget / 2 / len * len;
            if (nc < x->alen + len) nc = x->alen + len;
            uint8_t *m = realloc(x->mem, nc);
            if (!m) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory (external sort; lower --max-memory)");
            x->mem = m;
            x->cap = nc;
        }
        memcpy(x->mem + x->alen, rec, len);
        x->alen += len;
        x->nent++;
        return GF_OK;
    }
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
    e->idx = idx;
    e->off = x->alen;
    x->alen += len;
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

/* Makes want bytes of a file run available at r->buf + r->bpos: 1, 0 when
 * the run has fewer left (nothing is allocated for them: a length read
 * from a damaged file cannot ask for more than the file holds), -1 on
 * error. */
static int run_fill(const gf_xsort *x, gf_ctx *ctx, xs_run *r, size_t want, gf_status *st)
{
    size_t have = r->blen - r->bpos;
    if (have >= want) return 1;
    if (want - have > r->size - r->off) return 0;
    if (r->bpos) { /* the records handed out before are done with */
        memmove(r->buf, r->buf + r->bpos, have);
        r->blen = have;
        r->bpos = 0;
    }
    if (want > r->bcap) {
        size_t nc = r->bcap ? r->bcap : RUN_BUF;
        while (nc < want) nc *= 2;
        uint8_t *b = realloc(r->buf, nc);
        if (!b) { *st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); return -1; }
        r->buf = b;
        r->bcap = nc;
    }
    size_t n = r->bcap - r->blen;
    if (n > r->size - r->off) n = (size_t)(r->size - r->off);
    int e = gf_pio(r->fd, 0, r->buf + r->blen, n, r->off);
    if (e) { *st = gf_ctx_err(ctx, GF_ERR_IO, "%s: scratch file: read failed: %s", x->path, strerror(e)); return -1; }
    r->blen += n;
    r->off += n;
    return 1;
}

static gf_status run_advance(gf_xsort *x, gf_ctx *ctx, xs_run *r)
{
    if (r->fd < 0) {
        if (r->pos >= x->nent) { r->has = 0; return GF_OK; }
        const uint8_t *p = x->fixed ? x->mem + r->pos++ * x->hdr : x->mem + ents(x)[r->pos++].off;
        set_head(r, p, rec_len(x, p));
        return GF_OK;
    }
    gf_status st = GF_OK;
    int got = run_fill(x, ctx, r, x->hdr, &st);
    if (got < 0) return st;
    if (!got) {
        if (r->blen > r->bpos) return gf_ctx_err(ctx, GF_ERR_IO, "%s: scratch file: short read", x->path);
        r->has = 0;
        return GF_OK;
    }
    size_t len = rec_len(x, r->buf + r->bpos);
    if ((got = run_fill(x, ctx, r, len, &st)) < 0) return st;
    if (!got) return gf_ctx_err(ctx, GF_ERR_IO, "%s: scratch file: short read", x->path);
    set_head(r, r->buf + r->bpos, len);
    r->bpos += len;
    return GF_OK;
}

/* Positions a file run at its first record. */
static gf_status run_start(gf_xsort *x, gf_ctx *ctx, xs_run *r)
{
    r->off = 0;
    r->bpos = r->blen = 0;
    return run_advance(x, ctx, r);
}

gf_status gf_xsort_release(gf_xsort *x, gf_ctx *ctx)
{
    if (x->sealed || !x->nruns) return GF_OK;
    gf_status st = x->nent ? spill(x, ctx) : GF_OK;
    if (st) return st;
    free(x->mem);
    x->mem = NULL;
    x->cap = x->alen = x->nent = 0;
    x->sealed = 1;
    return GF_OK;
}

gf_status gf_xsort_rewind(gf_xsort *x, gf_ctx *ctx)
{
    gf_status st;
    if (!x->sealed) {
        if ((st = sort_ents(x, ctx))) return st;
        x->sealed = 1;
    }
    for (int i = 0; i < x->nruns; i++)
        if ((st = run_start(x, ctx, &x->runs[i]))) return st;
    x->mem_run.pos = 0;
    if ((st = run_advance(x, ctx, &x->mem_run))) return st;
    return heap_build(x, ctx, 1, 0);
}

/* Ties between runs go to the in-memory run, then to the runs in order. */
static int run_less(const gf_xsort *x, const xs_run *a, const xs_run *b)
{
    if (a->key != b->key) return a->key < b->key;
    if (a->idx != b->idx) return a->idx < b->idx;
    return a == &x->mem_run || (b != &x->mem_run && a < b);
}

static void heap_down(gf_xsort *x, int i)
{
    xs_run **h = x->heap;
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < x->nheap && run_less(x, h[l], h[m])) m = l;
        if (r < x->nheap && run_less(x, h[r], h[m])) m = r;
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
    if (with_mem && x->mem_run.has) x->heap[x->nheap++] = &x->mem_run;
    for (int i = lo; i < x->nruns; i++)
        if (x->runs[i].has) x->heap[x->nheap++] = &x->runs[i];
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
