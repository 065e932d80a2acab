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
#include "core/xsort.h"
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
 * GPKG_RTREE_MAX features) the boxes go to the external sort (see
 * gpkg_rtree_spill). Both ways order the boxes by the same key (a Hilbert
 * curve over the CRS's domain, then the feature id), so the file is the
 * same bytes whether the R-tree spilled or not, whatever --max-memory.
 * tests/cli/gpkg.sh checks both ways with rtreecheck(), the validator,
 * spatial filters against brute force, and cmp. */

/* Hilbert key of a box centre over the CRS's domain (the extent is not
 * known before the last row: degrees, else metres within +-2^26) on a
 * 2^32 grid per axis, so about 1 cm in degrees or 3 cm in metres. */
static uint64_t centre_key(const gf_gpkg *g, const rt_ent *e)
{
    const double dom[4] = {g->o.srs_geographic ? -180 : -67108864.0, g->o.srs_geographic ? 180 : 67108864.0,
                           g->o.srs_geographic ? -90 : -67108864.0, g->o.srs_geographic ? 90 : 67108864.0};
    const double q = 4294967295.0;
    const double sx = dom[1] > dom[0] ? q / (dom[1] - dom[0]) : 0, sy = dom[3] > dom[2] ? q / (dom[3] - dom[2]) : 0;
    double fx = (((double)e->b[0] + e->b[1]) / 2 - dom[0]) * sx, fy = (((double)e->b[2] + e->b[3]) / 2 - dom[2]) * sy;
    uint32_t hx = fx <= 0 ? 0 : fx >= q ? (uint32_t)q : (uint32_t)fx, hy = fy <= 0 ? 0 : fy >= q ? (uint32_t)q : (uint32_t)fy;
    return gf_hilbert_xy2d(32, hx, hy);
}

static void put_be(unsigned char *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8) p[i] = (unsigned char)v;
}

/* ---- past the memory budget: the external sort ----------------------------
 * Once ents_max boxes are kept, they and every box after them go to the
 * external sort (core/xsort.h) as records keyed on centre_key(), then the
 * feature id. At
 * finish() the sort is read twice (leaf boxes first, since the module
 * wants the root as node 1 and the leaves last; then the leaves
 * themselves), and _rowid, wanted in fid order, comes from a second sort
 * of (fid, leaf) pairs filled by the first pass. Each sort takes 32 bytes
 * per box of ents_max, its sorting scratch included; the first one's
 * memory is released (its last run spilled) before the second starts, so
 * the R-tree stays within its budget of ents_max * 64 bytes, the moment
 * the kept boxes (24 bytes each) move to the sort included. */

typedef struct rt_rec { uint64_t key, fid; float b[4]; } rt_rec;   /* 32 bytes, no padding */
typedef struct rt_leaf { uint64_t fid, leaf; } rt_leaf;             /* the _rowid sort's records */

static size_t sort_budget(const gf_gpkg *g) { return g->ents_max * 32; }

static gf_status spill_one(gf_gpkg *g, gf_ctx *ctx, const rt_ent *e)
{
    if (e->id > UINT32_MAX) return gf_ctx_err(ctx, GF_ERR_UNSUPPORTED, "%s: more than 4 billion features", g->path);
    rt_rec r = {.key = centre_key(g, e), .fid = (uint64_t)e->id};
    memcpy(r.b, e->b, sizeof r.b);
    return gf_xsort_add(g->xs, ctx, (const uint8_t *)&r, sizeof r);
}

/* Adds box e past the budget; the first call moves the boxes kept so far
 * to the sort and frees them. */
gf_status gpkg_rtree_spill(gf_gpkg *g, gf_ctx *ctx, const rt_ent *e)
{
    gf_status st;
    if (!g->xs) {
        if ((st = gf_xsort_create(ctx, sort_budget(g), g->o.tmpdir, g->path, sizeof(rt_rec), NULL, &g->xs))) return st;
        for (size_t i = 0; i < g->nents; i++)
            if ((st = spill_one(g, ctx, &g->ents[i]))) return st;
        free(g->ents);
        g->ents = NULL;
        g->nents = g->entcap = 0;
    }
    return spill_one(g, ctx, e);
}

void gpkg_rtree_free(gf_gpkg *g)
{
    gf_xsort_destroy(g->xs);
    g->xs = NULL;
    free(g->ents);
    g->ents = NULL;
    g->nents = g->entcap = 0;
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

/* The boxes in R-tree order: the sorted in-memory array, or the sort's
 * merge. */
typedef struct rt_iter { gf_gpkg *g; const uint32_t *ord; size_t i, n; } rt_iter;

static gf_status it_rewind(rt_iter *it, gf_ctx *ctx)
{
    it->i = 0;
    return it->ord ? GF_OK : gf_xsort_rewind(it->g->xs, ctx);
}

/* 1 and the next box (feature id, box); 0 at the end or on error (*st). */
static int it_next(rt_iter *it, gf_ctx *ctx, int64_t *id, float b[4], gf_status *st)
{
    *st = GF_OK;
    if (it->ord) {
        if (it->i >= it->n) return 0;
        const rt_ent *e = &it->g->ents[it->ord[it->i++]];
        *id = e->id;
        memcpy(b, e->b, sizeof e->b);
        return 1;
    }
    const uint8_t *p;
    size_t len;
    rt_rec r;
    if ((*st = gf_xsort_next(it->g->xs, ctx, &p, &len))) {
        if (*st == GF_DONE) *st = GF_OK;
        return 0;
    }
    memcpy(&r, p, sizeof r);
    *id = (int64_t)r.fid;
    memcpy(b, r.b, sizeof r.b);
    return 1;
}

gf_status gpkg_rtree_write(gf_gpkg *g, gf_ctx *ctx)
{
    const size_t m = (size_t)(g->nodesz - 4) / 24;
    gf_status st = GF_OK;
    uint64_t *key = NULL;
    uint32_t *ord = NULL, *leafof = NULL;
    float (*box[40])[4] = {0};
    size_t nn[40] = {0};
    int64_t base[40] = {0};
    uint8_t *blob = calloc(1, (size_t)g->nodesz), *buf = malloc((size_t)g->nodesz + 64);
    gf_sqlbt bn = {0}, bp = {0}, br = {0};
    gf_sqlrec rec;
    gf_xsort *rows = NULL; /* (fid, leaf) pairs, past the budget */
    rt_iter it = {.g = g};
    int top = 0;
    size_t n;
    if (!blob || !buf) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto out; }
    if (g->xs) { /* past the budget */
        n = (size_t)gf_xsort_count(g->xs);
        if ((st = gf_xsort_release(g->xs, ctx)) || (st = gf_xsort_create(ctx, sort_budget(g), g->o.tmpdir, g->path, sizeof(rt_leaf), NULL, &rows))) goto out;
    } else {
        n = g->nents;
        if (n == 0) goto out; /* the empty root written by CREATE VIRTUAL TABLE is right */
        /* the spilled order: centre_key(), ties in fid order (the boxes
         * are kept in fid order and the sort is stable); 24 bytes a
         * feature with the sort's scratch copies */
        key = malloc(n * sizeof *key);
        ord = malloc(n * sizeof *ord);
        leafof = calloc(g->nrows, sizeof *leafof);
        if (!key || !ord || !leafof) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); goto out; }
        for (size_t i = 0; i < n; i++) {
            key[i] = centre_key(g, &g->ents[i]);
            ord[i] = (uint32_t)i;
        }
        if ((st = gf_radix_sort_u64(ctx, key, ord, n, 0))) goto out;
        free(key);
        key = NULL;
        it.ord = ord;
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
        for (size_t i = 0; it_next(&it, ctx, &id, b, &st); i++) {
            uint32_t leaf = (uint32_t)(base[0] + (int64_t)(i / m));
            box_add(box[0][i / m], b);
            if (!rows) {
                leafof[id - 1] = leaf;
                continue;
            }
            /* leaves come in order: the sort takes its radix path */
            rt_leaf rl = {.fid = (uint64_t)id, .leaf = leaf};
            if ((st = gf_xsort_add(rows, ctx, (const uint8_t *)&rl, sizeof rl))) goto out;
        }
        if (st) goto out;
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
                if (!it_next(&it, ctx, &id, b, &st)) {
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
    } else if (rows && !st && !(st = gf_xsort_rewind(rows, ctx))) {
        const uint8_t *p;
        size_t len;
        while (!st && (st = gf_xsort_next(rows, ctx, &p, &len)) == GF_OK) {
            rt_leaf rl;
            memcpy(&rl, p, sizeof rl);
            gf_sqlrec_reset(&rec, g->file.fmt4);
            gf_sqlrec_null(&rec);
            gf_sqlrec_int(&rec, (int64_t)rl.leaf);
            st = add_rec(ctx, &br, (int64_t)rl.fid, &rec, buf);
        }
        if (st == GF_DONE) st = GF_OK;
    }
    if (!st && !(st = gf_sqlbt_finish(ctx, &bn)) && !(st = gf_sqlbt_finish(ctx, &bp))) st = gf_sqlbt_finish(ctx, &br);
    if (!st && g->xs)
        gf_ctx_log(ctx, GF_LOG_INFO, "%s: R-tree of %zu features from %d sorted runs on disk", g->path, n,
                   gf_xsort_runs_spilled(g->xs));
out:
    gf_sqlbt_free(&bn);
    gf_sqlbt_free(&bp);
    gf_sqlbt_free(&br);
    for (int L = 0; L < 40; L++) free(box[L]);
    free(key);
    free(ord);
    free(leafof);
    free(blob);
    free(buf);
    gf_xsort_destroy(rows);
    gpkg_rtree_free(g);
    return st;
}
