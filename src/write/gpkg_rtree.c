/* GeoPackage writer: the bulk load of the main table's R-tree. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <sqlite3.h>

#include "core/hilbert.h"
#include "core/sort.h"
#include "write/gpkg_int.h"

/* ---- R-tree ---------------------------------------------------------------
 * SQLite's rtree module inserts one entry at a time (about 12 us each on
 * the bench machine, more than the whole table load), so the main table's
 * R-tree is bulk-loaded, as GDAL >= 3.7 does: the boxes kept at commit are
 * sorted along a Hilbert curve (radix sort), packed into
 * full nodes level by level, and the rtree's shadow tables (_node, _parent,
 * _rowid) are written in the module's node format with the same
 * hand-written b-trees as the rows. Memory: 24 bytes per feature kept at
 * commit, up to 64 at finish(); past the budget (--max-memory / 64, else
 * GPKG_RTREE_MAX features) the boxes are sorted and spilled as runs and
 * merged at the end (see rtree_spill). tests/cli/gpkg.sh checks both ways
 * with rtreecheck(), the validator and spatial filters against brute
 * force. */

/* Hilbert key of a box centre over dom (minx, maxx, miny, maxy) on a
 * 2^bits grid per axis (bits: 16 or 32). */
static uint64_t centre_key(const rt_ent *e, int bits, const double dom[4])
{
    const double q = bits == 32 ? 4294967295.0 : 65535.0;
    const double sx = dom[1] > dom[0] ? q / (dom[1] - dom[0]) : 0, sy = dom[3] > dom[2] ? q / (dom[3] - dom[2]) : 0;
    double fx = (((double)e->b[0] + e->b[1]) / 2 - dom[0]) * sx, fy = (((double)e->b[2] + e->b[3]) / 2 - dom[2]) * sy;
    uint32_t hx = fx <= 0 ? 0 : fx >= q ? (uint32_t)q : (uint32_t)fx, hy = fy <= 0 ? 0 : fy >= q ? (uint32_t)q : (uint32_t)fy;
    return gf_hilbert_xy2d(bits, hx, hy);
}

static void put_be(unsigned char *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8) p[i] = (unsigned char)v;
}

/* ---- past the memory budget: sorted runs on disk ---------------------------
 * Every ents_max boxes, the buffer is sorted along a Hilbert curve over a
 * fixed domain (the extent is not known yet: the CRS's, 32 bits per axis,
 * so about 1 cm in degrees or 3 cm in metres) and written to an unlinked
 * scratch file. At finish() the runs are merged twice (leaf boxes first,
 * since the module wants the root as node 1 and the leaves last; then the
 * leaves themselves), and _rowid is written run by run: runs hold
 * consecutive fids, so one run's fid -> leaf table fits the same budget. */

typedef struct rt_rec { uint64_t key; uint32_t fid; float b[4]; } rt_rec;

#define RUN_BUF 1024 /* records (and leaf ids) buffered per run while merging */

/* A run: records [off, off + n) of the runs file, sorted; its leaf ids go
 * to the same positions of the leaf file. Two scratch files in all,
 * whatever the number of runs. */
typedef struct rt_run {
    uint64_t off, n, pos;    /* pos: next record to read */
    uint32_t fmin, fmax;
    rt_rec *buf;
    size_t bn, bi;
    uint32_t *lbuf;
    size_t ln;
    uint64_t lpos;           /* leaf ids written so far */
    rt_rec head;
    int has;
} rt_run;

static gf_status pio(gf_gpkg *g, gf_ctx *ctx, int wr, int fd, void *p, size_t n, uint64_t off)
{
    int e = gf_pio(fd, wr, p, n, off);
    return e ? gf_ctx_err(ctx, GF_ERR_IO, "%s: R-tree scratch file: %s", g->path, strerror(e)) : GF_OK;
}

/* Sorts the buffered boxes and appends them to the runs file as one more run. */
gf_status gpkg_rtree_spill(gf_gpkg *g, gf_ctx *ctx)
{
    if (!g->nents) return GF_OK;
    gf_status st;
    if (!g->nruns && ((st = gf_scratch_open(ctx, g->o.tmpdir, g->path, &g->runs_fd)) ||
                      (st = gf_scratch_open(ctx, g->o.tmpdir, g->path, &g->leaf_fd))))
        return st;
    rt_run *nr = realloc(g->runs, (size_t)(g->nruns + 1) * sizeof *nr);
    if (!nr) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    g->runs = nr;
    rt_run *run = memset(&g->runs[g->nruns++], 0, sizeof *run);
    run->off = g->nspilled;
    run->n = g->nents;
    run->fmin = (uint32_t)g->ents[0].id;
    run->fmax = (uint32_t)g->ents[g->nents - 1].id;
    if (g->ents[g->nents - 1].id > UINT32_MAX)
        return gf_ctx_err(ctx, GF_ERR_UNSUPPORTED, "%s: more than 4 billion features", g->path);
    /* the CRS's domain: degrees, else metres within +-2^26 */
    const double dom[4] = {g->o.srs_geographic ? -180 : -67108864.0, g->o.srs_geographic ? 180 : 67108864.0,
                           g->o.srs_geographic ? -90 : -67108864.0, g->o.srs_geographic ? 90 : 67108864.0};
    /* a run needs 64-bit keys (the CRS's whole domain), so the box index
     * travels beside its key */
    uint64_t *pk = malloc(g->nents * sizeof *pk);
    uint32_t *pi = malloc(g->nents * sizeof *pi);
    rt_rec *out = malloc(RUN_BUF * sizeof *out);
    if (!pk || !pi || !out) { free(pk); free(pi); free(out); return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); }
    for (size_t i = 0; i < g->nents; i++) { pk[i] = centre_key(&g->ents[i], 32, dom); pi[i] = (uint32_t)i; }
    if ((st = gf_radix_sort_u64(ctx, pk, pi, g->nents, 0))) { free(pk); free(pi); free(out); return st; }
    for (size_t i = 0; i < g->nents && !st; i += RUN_BUF) {
        size_t k = g->nents - i < RUN_BUF ? g->nents - i : RUN_BUF;
        for (size_t j = 0; j < k; j++) {
            const rt_ent *e = &g->ents[pi[i + j]];
            memset(&out[j], 0, sizeof out[j]); /* padding too: same scratch bytes every run */
            out[j].key = pk[i + j];
            out[j].fid = (uint32_t)e->id;
            memcpy(out[j].b, e->b, sizeof e->b);
        }
        st = pio(g, ctx, 1, g->runs_fd, out, k * sizeof *out, (run->off + i) * sizeof *out);
    }
    free(pk);
    free(pi);
    free(out);
    g->nspilled += g->nents;
    g->nents = 0;
    return st;
}

static gf_status run_read(gf_gpkg *g, gf_ctx *ctx, rt_run *r)
{
    if (r->bi == r->bn) {
        r->bn = r->n - r->pos < RUN_BUF ? (size_t)(r->n - r->pos) : RUN_BUF;
        r->bi = 0;
        if (!r->bn) { r->has = 0; return GF_OK; }
        if (!r->buf && !(r->buf = malloc(RUN_BUF * sizeof *r->buf))) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        gf_status st = pio(g, ctx, 0, g->runs_fd, r->buf, r->bn * sizeof *r->buf, (r->off + r->pos) * sizeof *r->buf);
        if (st) return st;
        r->pos += r->bn;
    }
    r->head = r->buf[r->bi++];
    r->has = 1;
    return GF_OK;
}

static int run_less(const rt_run *a, const rt_run *b)
{
    return a->head.key < b->head.key || (a->head.key == b->head.key && a->head.fid < b->head.fid);
}

/* The merge keeps a binary min-heap of the runs that still have records. */
static void heap_down(gf_gpkg *g, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < g->nheap && run_less(&g->runs[g->heap[l]], &g->runs[g->heap[m]])) m = l;
        if (r < g->nheap && run_less(&g->runs[g->heap[r]], &g->runs[g->heap[m]])) m = r;
        if (m == i) return;
        int t = g->heap[i]; g->heap[i] = g->heap[m]; g->heap[m] = t;
        i = m;
    }
}

static gf_status runs_rewind(gf_gpkg *g, gf_ctx *ctx)
{
    if (!g->heap && !(g->heap = malloc((size_t)g->nruns * sizeof *g->heap))) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    g->nheap = 0;
    for (int i = 0; i < g->nruns; i++) {
        rt_run *r = &g->runs[i];
        r->pos = 0;
        r->bn = r->bi = 0;
        gf_status st = run_read(g, ctx, r);
        if (st) return st;
        if (r->has) g->heap[g->nheap++] = i;
    }
    for (int i = g->nheap / 2 - 1; i >= 0; i--) heap_down(g, i);
    return GF_OK;
}

/* Next record of the merge in (key, fid) order: 1 with *out and its run, 0 at the end or on error (*st). */
static int runs_next(gf_gpkg *g, gf_ctx *ctx, rt_rec *out, int *which, gf_status *st)
{
    *st = GF_OK;
    if (!g->nheap) return 0;
    int i = g->heap[0];
    rt_run *r = &g->runs[i];
    *out = r->head;
    *which = i;
    if ((*st = run_read(g, ctx, r))) return 0;
    if (!r->has) g->heap[0] = g->heap[--g->nheap];
    heap_down(g, 0);
    return 1;
}

/* Leaf ids of a run, in its record order, buffered. */
static gf_status leaf_put(gf_gpkg *g, gf_ctx *ctx, rt_run *r, uint32_t leaf)
{
    if (!r->lbuf && !(r->lbuf = malloc(RUN_BUF * sizeof *r->lbuf))) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    r->lbuf[r->ln++] = leaf;
    if (r->ln < RUN_BUF) return GF_OK;
    gf_status st = pio(g, ctx, 1, g->leaf_fd, r->lbuf, r->ln * sizeof *r->lbuf, (r->off + r->lpos) * sizeof *r->lbuf);
    r->lpos += r->ln;
    r->ln = 0;
    return st;
}

static gf_status leaf_flush(gf_gpkg *g, gf_ctx *ctx)
{
    for (int i = 0; i < g->nruns; i++) {
        rt_run *r = &g->runs[i];
        if (!r->ln) continue;
        gf_status st = pio(g, ctx, 1, g->leaf_fd, r->lbuf, r->ln * sizeof *r->lbuf, (r->off + r->lpos) * sizeof *r->lbuf);
        if (st) return st;
        r->lpos += r->ln;
        r->ln = 0;
    }
    return GF_OK;
}

void gpkg_runs_free(gf_gpkg *g)
{
    for (int i = 0; i < g->nruns; i++) {
        free(g->runs[i].buf);
        free(g->runs[i].lbuf);
    }
    if (g->nruns) {
        close(g->runs_fd);
        close(g->leaf_fd);
    }
    free(g->runs);
    free(g->heap);
    g->runs = NULL;
    g->heap = NULL;
    g->nruns = g->nheap = 0;
}

/* Cell i of an rtree node: id, then the box as big-endian float32s. */
static void node_cell(unsigned char *blob, size_t i, int64_t id, const float b[4])
{
    unsigned char *p = blob + 4 + i * 24;
    put_be(p, (uint64_t)id, 8);
    for (int j = 0; j < 4; j++) {
        uint32_t u;
        memcpy(&u, &b[j], 4);
        put_be(p + 8 + 4 * j, u, 4);
    }
}

static void box_add(float *b, const float *c)
{
    if (c[0] < b[0]) b[0] = c[0];
    if (c[1] > b[1]) b[1] = c[1];
    if (c[2] < b[2]) b[2] = c[2];
    if (c[3] > b[3]) b[3] = c[3];
}

/* Adds one (rowid, columns...) record built by the caller to t. */
static gf_status add_rec(gf_ctx *ctx, gf_sqlbt *t, int64_t rowid, const gf_sqlrec *rec, uint8_t *buf)
{
    size_t n = gf_sqlrec_write(rec, buf);
    return gf_sqlbt_add(ctx, t, rowid, buf, n);
}

/* The boxes in R-tree order: the sorted in-memory array, or the merge of
 * the spilled runs. */
typedef struct rt_iter { gf_gpkg *g; const uint64_t *key; size_t i, n; } rt_iter;

static gf_status it_rewind(rt_iter *it, gf_ctx *ctx)
{
    it->i = 0;
    return it->key ? GF_OK : runs_rewind(it->g, ctx);
}

/* 1 and the next box (feature id, box, run it came from, -1 in memory);
 * 0 at the end or on error (*st). */
static int it_next(rt_iter *it, gf_ctx *ctx, int64_t *id, float b[4], int *run, gf_status *st)
{
    *st = GF_OK;
    if (it->key) {
        if (it->i >= it->n) return 0;
        const rt_ent *e = &it->g->ents[it->key[it->i++] & 0xffffffffu];
        *id = e->id;
        memcpy(b, e->b, sizeof e->b);
        *run = -1;
        return 1;
    }
    rt_rec r;
    if (!runs_next(it->g, ctx, &r, run, st)) return 0;
    *id = r.fid;
    memcpy(b, r.b, sizeof r.b);
    return 1;
}

/* _rowid rows of one spilled run: its fids are consecutive, so a table
 * indexed by fid - fmin (the run's size at most) puts them in order. */
static gf_status rowid_run(gf_gpkg *g, gf_ctx *ctx, rt_run *r, gf_sqlbt *br, uint8_t *buf)
{
    uint32_t span = r->fmax - r->fmin + 1;
    uint32_t *leaf = calloc(span, sizeof *leaf), *lb = malloc(RUN_BUF * sizeof *lb);
    rt_rec *rb = malloc(RUN_BUF * sizeof *rb);
    gf_status st = leaf && lb && rb ? GF_OK : gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    for (uint64_t k = 0; k < r->n && !st; k += RUN_BUF) {
        size_t c = r->n - k < RUN_BUF ? (size_t)(r->n - k) : RUN_BUF;
        if ((st = pio(g, ctx, 0, g->runs_fd, rb, c * sizeof *rb, (r->off + k) * sizeof *rb)) ||
            (st = pio(g, ctx, 0, g->leaf_fd, lb, c * sizeof *lb, (r->off + k) * sizeof *lb)))
            break;
        for (size_t j = 0; j < c; j++) leaf[rb[j].fid - r->fmin] = lb[j];
    }
    gf_sqlrec rec;
    for (uint32_t i = 0; i < span && !st; i++) {
        if (!leaf[i]) continue;
        gf_sqlrec_reset(&rec, g->file.fmt4);
        gf_sqlrec_null(&rec);
        gf_sqlrec_int(&rec, leaf[i]);
        st = add_rec(ctx, br, (int64_t)r->fmin + i, &rec, buf);
    }
    free(leaf);
    free(lb);
    free(rb);
    return st;
}

gf_status gpkg_rtree_write(gf_gpkg *g, gf_ctx *ctx)
{
    const size_t m = (size_t)(g->nodesz - 4) / 24;
    gf_status st = GF_OK;
    uint64_t *key = NULL;
    uint32_t *leafof = NULL;
    float (*box[40])[4] = {0};
    size_t nn[40] = {0};
    int64_t base[40] = {0};
    uint8_t *blob = calloc(1, (size_t)g->nodesz), *buf = malloc((size_t)g->nodesz + 64);
    gf_sqlbt bn = {0}, bp = {0}, br = {0};
    gf_sqlrec rec;
    rt_iter it = {.g = g};
    int top = 0;
    size_t n;
    if (!blob || !buf) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto out; }
    if (g->nruns) { /* past the budget: the rest joins the runs on disk */
        if ((st = gpkg_rtree_spill(g, ctx))) goto out;
        n = g->nspilled;
    } else {
        n = g->nents;
        if (n == 0) goto out; /* the empty root written by CREATE VIRTUAL TABLE is right */
        /* Hilbert order of the box centres over the layer's extent; ties keep fid order */
        const double ext[4] = {g->minx, g->maxx, g->miny, g->maxy};
        key = malloc(n * sizeof *key);
        leafof = calloc(g->nrows, sizeof *leafof);
        if (!key || !leafof) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto out; }
        /* the 32-bit key and the box index in one u64 (16 bytes a feature
         * with the sort's scratch copy): only the key bits are sorted */
        for (size_t i = 0; i < n; i++) key[i] = centre_key(&g->ents[i], 16, ext) << 32 | i;
        if ((st = gf_radix_sort_u64(ctx, key, NULL, n, 32))) goto out;
        it.key = key;
        it.n = n;
    }

    /* level sizes, and the leaf boxes (pass 1) */
    nn[0] = (n + m - 1) / m;
    for (int L = 0; nn[L] > 1; L++) {
        if (L >= 38) { st = gf_ctx_err(ctx, GF_ERR_INTERNAL, "R-tree too deep"); goto out; }
        nn[L + 1] = (nn[L] + m - 1) / m;
        top = L + 1;
    }
    base[top] = 1; /* the root is node 1 (the module's rule), then each level below */
    for (int L = top; L > 0; L--) base[L - 1] = base[L] + (int64_t)nn[L];
    for (int L = 0; L <= top; L++) {
        if (!(box[L] = malloc(nn[L] * sizeof *box[L]))) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto out; }
        for (size_t k = 0; k < nn[L]; k++) {
            box[L][k][0] = box[L][k][2] = INFINITY;
            box[L][k][1] = box[L][k][3] = -INFINITY;
        }
    }
    if ((st = it_rewind(&it, ctx))) goto out;
    {
        int64_t id;
        float b[4];
        int run;
        for (size_t i = 0; it_next(&it, ctx, &id, b, &run, &st); i++) {
            uint32_t leaf = (uint32_t)(base[0] + (int64_t)(i / m));
            box_add(box[0][i / m], b);
            if (run < 0) {
                leafof[id - 1] = leaf;
            } else if ((st = leaf_put(g, ctx, &g->runs[run], leaf))) {
                goto out;
            }
        }
        if (st || (g->nruns && (st = leaf_flush(g, ctx)))) goto out;
    }
    for (int L = 1; L <= top; L++)
        for (size_t i = 0; i < nn[L - 1]; i++) box_add(box[L][i / m], box[L - 1][i]);

    if ((st = gf_sqlbt_init(ctx, &bn, &g->file, g->root_node)) || (st = gf_sqlbt_init(ctx, &bp, &g->file, g->root_parent)) ||
        (st = gf_sqlbt_init(ctx, &br, &g->file, g->root_rowid)))
        goto out;
    /* _node, in node number order: the root, the levels down, the leaves (pass 2) */
    if ((st = it_rewind(&it, ctx))) goto out;
    for (int L = top; L >= 0 && !st; L--) {
        size_t nitems = L == 0 ? n : nn[L - 1];
        for (size_t k = 0; k < nn[L] && !st; k++) {
            size_t nc = nitems - k * m < m ? nitems - k * m : m;
            memset(blob, 0, (size_t)g->nodesz);
            if (L == top) put_be(blob, (uint64_t)top, 2); /* depth, in the root only */
            put_be(blob + 2, nc, 2);
            for (size_t i = 0; i < nc; i++) {
                if (L > 0) { node_cell(blob, i, base[L - 1] + (int64_t)(k * m + i), box[L - 1][k * m + i]); continue; }
                int64_t id;
                float b[4];
                int run;
                if (!it_next(&it, ctx, &id, b, &run, &st)) {
                    if (!st) st = gf_ctx_err(ctx, GF_ERR_INTERNAL, "%s: R-tree: boxes went missing", g->path);
                    break;
                }
                node_cell(blob, i, id, b);
            }
            if (st) break;
            gf_sqlrec_reset(&rec, g->file.fmt4);
            gf_sqlrec_null(&rec);
            gf_sqlrec_blob(&rec, blob, (size_t)g->nodesz);
            st = add_rec(ctx, &bn, base[L] + (int64_t)k, &rec, buf);
        }
    }
    /* _parent: every node but the root, in node number order */
    for (int L = top - 1; L >= 0 && !st; L--)
        for (size_t k = 0; k < nn[L] && !st; k++) {
            gf_sqlrec_reset(&rec, g->file.fmt4);
            gf_sqlrec_null(&rec);
            gf_sqlrec_int(&rec, base[L + 1] + (int64_t)(k / m));
            st = add_rec(ctx, &bp, base[L] + (int64_t)k, &rec, buf);
        }
    /* _rowid: the leaf of every feature, in fid order */
    if (leafof) {
        for (uint64_t fid = 1; fid <= g->nrows && !st; fid++) {
            if (!leafof[fid - 1]) continue;
            gf_sqlrec_reset(&rec, g->file.fmt4);
            gf_sqlrec_null(&rec);
            gf_sqlrec_int(&rec, leafof[fid - 1]);
            st = add_rec(ctx, &br, (int64_t)fid, &rec, buf);
        }
    } else {
        for (int r = 0; r < g->nruns && !st; r++) st = rowid_run(g, ctx, &g->runs[r], &br, buf);
    }
    if (!st && !(st = gf_sqlbt_finish(ctx, &bn)) && !(st = gf_sqlbt_finish(ctx, &bp))) st = gf_sqlbt_finish(ctx, &br);
    if (!st && g->nruns)
        gf_ctx_log(ctx, GF_LOG_INFO, "%s: R-tree of %zu features from %d sorted runs on disk", g->path, n, g->nruns);
out:
    gf_sqlbt_free(&bn);
    gf_sqlbt_free(&bp);
    gf_sqlbt_free(&br);
    for (int L = 0; L < 40; L++) free(box[L]);
    free(key);
    free(leafof);
    free(blob);
    free(buf);
    gpkg_runs_free(g);
    return st;
}
