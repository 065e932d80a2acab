/* The tiles sink (see include/geoflux/tiles.h for the design). */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <unistd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "core/sort.h"
#include "geoflux/tiles.h"
#include "tiles/archive.h"
#include "tiles/trec.h"
#include "tiles/mvt.h"
#include "tiles/poly.h"
#include "tiles/tilemath.h"
#include "tiles/tileio.h"

/* Target for the estimated (upper bound) tile size when choosing the
 * thinning rates: below GF_TILES_MAX_BYTES so that the estimate's slack
 * never matters, and small enough that low-zoom tiles load quickly. */
#define TARGET_BYTES (400 * 1024)
#define BATCH_JOBS 1024 /* tile jobs handed to the pool at once, at most */
/* Memory of the tile phase (--max-memory, B): half for the sort of the
 * records, half (E, at least GF_TILES_MIN_ENCODER) for cutting and encoding
 * tiles. Of E: two batch arenas of tile jobs (one filled while the pool
 * encodes the other) of E/16 each, and one tile's records at most E/4: a
 * tile costs at most 2.5 times its records while it is encoded (records;
 * values table and features, the raw tile and the gzip tile, each smaller
 * than the records since values are interned), measured on the densest
 * tiles we could make (tests/cli/tiles_memory.sh); in the worst case one
 * such tile is encoded while the next one is filled: 2 E/16 + 3.5 E/4 < E.
 * A larger tile (only at maxzoom, where no point may be dropped) is
 * refused with a message rather than allowed to grow the process.
 * With several encoding threads the same holds for all of them together:
 * a worker reserves its tile's scratch (1.5 times the records, which are
 * in the arena already) from one capacity of 3 E/8, the scratch of the
 * largest tile, and waits while the others' reservations leave too little
 * (enc_reserve()); between tiles the workers keep E/16 of buffers between
 * them (shrink_worker()). Which thread encodes a tile never changes its
 * bytes, so waiting changes only the time. */
#define GF_TILES_MIN_ENCODER ((size_t)16 << 20)
#define GF_TILES_MAX_POOL 64 /* threads of the tile pool, whatever --threads says */

typedef struct tjob {
    uint32_t x, y;
    size_t off, len;   /* point records in the batch arena */
    size_t poff, pn;   /* polygon indices in the batch's poly list */
    gf_buf out;        /* gzip tile */
    size_t raw;        /* uncompressed size */
    gf_status st;
} tjob;

typedef struct tworker {
    gf_mvt_layer pts;
    gf_buf raw, gz;                   /* the tile being made: MVT, then gzip */
    struct libdeflate_compressor *zc; /* gf_tile_gzip()'s, reused */
    uint32_t *tags;
    size_t tagcap;
    gf_ctx *ctx;
    gf_poly_scratch ps;
} tworker;

/* A batch of tile jobs handed to the pool: while the pool encodes one, the
 * main thread fills the next (double buffering, as libvips does). */
typedef struct tbatch {
    int z;
    gf_buf arena;
    tjob *jobs;
    size_t njobs, jobcap;
    uint32_t *plist;
    size_t npl, plcap;
} tbatch;

typedef struct gf_tiles {
    gf_output_opts o;
    int pmtiles, minz, maxz, nthreads;
    size_t budget, batch_bytes, tile_max; /* see GF_TILES_MIN_ENCODER */
    uint64_t densest, densest_bytes;      /* the maxzoom tile with the most record bytes */
    char *path, *tmpdir, layer[128], attrs[2048]; /* path, tmpdir: owned copies */
    const gf_schema *schema;
    int sel[GF_MAX_FIELDS], nsel;          /* schema field of each key */
    const char *keys[GF_MAX_FIELDS + 1];   /* + point_count, below maxzoom */
    int nkeys;
    gf_xsort *xs;
    /* every maxzoom tile's estimated and record bytes, counted at commit:
     * the rates without a pass over the sort (see rates_from_counts) */
    struct rtile { uint64_t tile1, est, bytes; } *rt; /* open addressing; tile1 = tile + 1, 0 = empty */
    size_t rtn, rtcap, rtmax, rtlast;                  /* rtmax: the most slots the budget gives it */
    int rt_off;                                        /* 1: over rtmax, dropped: the pass counts */
    int rates_counted;                                 /* 1: the last finish() took the counts */
    gf_tile_archive *ar;
    uint64_t count;
    uint32_t minx, miny, maxx, maxy;
    uint64_t thr[GF_TILE_MAXZOOM + 1];     /* keep when gf_mix64(idx) <= thr[z] */
    gf_tiles_stats stats;
    gf_poly_set *polys;
    /* batch of tile jobs for the current zoom */
    int z;
    gf_buf arena;
    tjob *jobs;
    size_t njobs, jobcap;
    uint32_t *plist;
    size_t npl, plcap;
    tworker *w;
    size_t keep_bytes;  /* buffers one worker keeps between tiles: E/16 over the workers */
    size_t scratch_cap, scratch_held; /* enc_reserve(): 3 E/8, and the reservations held (under mu) */
    pthread_cond_t cv_mem;            /* a reservation was given back */
    tbatch enc;         /* being encoded by the pool when enc_busy */
    int enc_busy;
    /* The pool: nstarted threads created once in finish(), woken for each
     * batch (gen), joined in free_workers(). */
    pthread_t th[GF_TILES_MAX_POOL];
    int nstarted;
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done;
    int pool_init, quit, busy; /* busy: threads still on the current batch */
    uint64_t gen;
    struct warg *wargs;
    atomic_size_t next;
    /* zooms are built from maxzoom down (each pass reads only the previous
     * pass's survivors), so finished tiles wait in one scratch file per
     * zoom and reach the archive in tile-id order at the end */
    FILE *zf[GF_TILE_MAXZOOM + 1];
    struct ztile { uint32_t x, y, len; } *zt[GF_TILE_MAXZOOM + 1];
    size_t nzt[GF_TILE_MAXZOOM + 1], zcap[GF_TILE_MAXZOOM + 1];
} gf_tiles;

gf_status gf_tiles_open(gf_ctx *ctx, const gf_output_opts *opts, int pmtiles, void **st)
{
    int minz = opts->minzoom, maxz = opts->maxzoom;
    if (minz < 0) minz = 0;   /* < 0: defaults; 0 is zoom 0 */
    if (maxz < 0) maxz = 14;
    if (minz < 0 || maxz > GF_TILE_MAXZOOM || minz > maxz)
        return gf_ctx_err(ctx, GF_ERR_ARG, "zoom levels %d..%d: need 0 <= minzoom <= maxzoom <= %d", minz, maxz,
                          GF_TILE_MAXZOOM);
    gf_tiles *t = calloc(1, sizeof *t);
    if (!t) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    t->o = *opts;
    t->pmtiles = pmtiles;
    t->minz = minz;
    t->maxz = maxz;
    t->nthreads = opts->threads > 0 ? opts->threads : gf_ncpus();
    if (t->nthreads > GF_TILES_MAX_POOL) t->nthreads = GF_TILES_MAX_POOL; /* same tiles, bounded memory */
    t->path = strdup(opts->path);
    t->tmpdir = opts->tmpdir ? strdup(opts->tmpdir) : NULL;
    if (!t->path || (opts->tmpdir && !t->tmpdir)) {
        free(t->path);
        free(t->tmpdir);
        free(t);
        return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    }
    if (opts->layer) snprintf(t->layer, sizeof t->layer, "%s", opts->layer);
    if (opts->attributes) snprintf(t->attrs, sizeof t->attrs, "%s", opts->attributes);
    t->o.path = t->path;
    t->o.tmpdir = opts->tmpdir ? t->tmpdir : NULL;
    t->o.attributes = opts->attributes ? t->attrs : NULL;
    t->minx = t->miny = UINT32_MAX;
    *st = t;
    return GF_OK;
}

static gf_status begin(void *stv, gf_ctx *ctx, const gf_schema *schema, int nworkers)
{
    gf_tiles *t = stv;
    gf_status st;
    t->schema = schema;
    if (!t->layer[0]) {
        const char *k = schema->kind ? schema->kind : "features";
        if (!strcmp(k, "address")) k = "addresses";
        else if (!strcmp(k, "equipment")) k = "equipments";
        snprintf(t->layer, sizeof t->layer, "%s", k);
    }
    if (!t->o.attributes) {
        for (int f = 0; f < schema->nfields; f++) t->sel[t->nsel++] = f;
    } else if (t->attrs[0]) {
        char buf[2048];
        snprintf(buf, sizeof buf, "%s", t->attrs);
        for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            while (*tok == ' ') tok++;
            int f = gf_schema_find(schema, tok);
            if (f < 0) {
                gf_buf names = {0};
                for (int i = 0; i < schema->nfields; i++) gf_buf_printf(&names, "%s%s", i ? ", " : "", schema->fields[i].name);
                st = gf_ctx_err(ctx, GF_ERR_ARG, "--attributes: no field '%s' (fields: %.*s)", tok, (int)names.len,
                                names.p ? names.p : "");
                gf_buf_free(&names);
                return st;
            }
            int dup = 0;
            for (int i = 0; i < t->nsel; i++) dup |= t->sel[i] == f;
            if (!dup && t->nsel < GF_MAX_FIELDS) t->sel[t->nsel++] = f;
        }
    }
    for (int i = 0; i < t->nsel; i++) t->keys[i] = schema->fields[t->sel[i]].name;
    /* below maxzoom each point stands for the ones thinned out around it */
    t->nkeys = t->nsel;
    if (t->minz < t->maxz) t->keys[t->nkeys++] = "point_count";
    t->budget = t->o.max_memory ? t->o.max_memory : GF_TILES_DEFAULT_MEMORY;
    size_t enc = t->budget / 2 > GF_TILES_MIN_ENCODER ? t->budget / 2 : GF_TILES_MIN_ENCODER;
    t->batch_bytes = enc / 16 > ((size_t)32 << 20) ? ((size_t)32 << 20) : enc / 16;
    t->tile_max = enc / 4;
    t->rtmax = t->budget / 8 / sizeof *t->rt;
    if ((st = gf_trec_sort_create(ctx, t->budget / 2, t->o.tmpdir, t->path, &t->xs))) return st;
    if (t->pmtiles) st = gf_pmtiles_create(ctx, t->path, t->o.tmpdir, &t->ar);
    else st = gf_mbtiles_create(ctx, t->path, &t->ar);
    (void)nworkers;
    return st;
}

/* Payload: per non-null selected attribute, its key index (1 byte), the
 * length of its MVT Value body (varint) and the body itself, so the tile
 * encoder interns it as is. */
static gf_status encode(void *stv, gf_ctx *ctx, int worker, const gf_batch *b, gf_buf *out)
{
    gf_tiles *t = stv;
    gf_status st = gf_batch_expect(b, ctx, t->schema, 1, GF_COL_TYPED, "tiles writer");
    if (st) return st;
    uint8_t v[32];
    for (size_t r = 0; r < b->n; r++) {
        if (!(b->flags[r] & GF_ROW_HAS_POS) || !isfinite(b->lon[r]) || !isfinite(b->lat[r])) continue;
        uint32_t x, y;
        gf_tile_world(b->lon[r], b->lat[r], &x, &y);
        size_t start = out->len;
        if ((st = gf_buf_reserve(out, GF_TREC_HDR))) return st;
        out->len += GF_TREC_HDR;
        for (int k = 0; k < t->nsel; k++) {
            int f = t->sel[k];
            const gf_col *c = &b->cols[f];
            if (!c->valid[r]) continue;
            size_t n = 0;
            const char *sp = NULL;
            size_t sl = 0;
            switch (t->schema->fields[f].type) {
            case GF_T_STRING:
            case GF_T_DATE:
                sp = b->arena + c->v.s[r].off;
                sl = c->v.s[r].len;
                n = gf_mvt_value_string_hdr(sl, v);
                break;
            case GF_T_INT: n = gf_mvt_value_int(c->v.i[r], v); break;
            case GF_T_REAL: n = gf_mvt_value_double(c->v.d[r], v); break;
            case GF_T_BOOL: n = gf_mvt_value_bool(c->v.i[r] != 0, v); break;
            }
            if ((st = gf_buf_reserve(out, 12 + n + sl))) return st;
            uint8_t *w = (uint8_t *)out->p + out->len, *w0 = w;
            *w++ = (uint8_t)k;
            w += gf_varint_put(w, n + sl);
            memcpy(w, v, n);
            w += n;
            if (sl) memcpy(w, sp, sl);
            w += sl;
            out->len += (size_t)(w - w0);
        }
        uint32_t plen = (uint32_t)(out->len - start - GF_TREC_HDR);
        gf_trec_put_hdr((uint8_t *)out->p + start, gf_hilbert_xy2d(32, x, y), 0, x, y, plen);
    }
    (void)ctx; (void)worker;
    return GF_OK;
}

/* Upper bound of a point's share of a tile: feature framing, id, geometry,
 * tags, and every value as if it were new to the tile. */
static uint64_t est_bytes(const gf_trec *r, int nsel) { return 40 + 6 * (uint64_t)nsel + r->plen + 16 /* point_count */; }

/* Adds a record to its maxzoom tile's counts (the rows of a BAL come by
 * commune: most go to the tile of the record before). Past the slots the
 * budget gives (an eighth of it), the counts are dropped. */
static void count_tile(gf_tiles *t, const gf_trec *r)
{
    uint64_t k = gf_tile_of_key(r->key, t->maxz) + 1;
    size_t i = t->rtlast;
    if (!t->rtcap || t->rt[i].tile1 != k) {
        if ((t->rtn + 1) * 2 > t->rtcap) {
            size_t nc = t->rtcap ? t->rtcap * 2 : 1024;
            struct rtile *n = nc <= t->rtmax ? calloc(nc, sizeof *n) : NULL;
            if (!n) { /* over its share, or no memory: the pass will count */
                free(t->rt);
                t->rt = NULL;
                t->rtn = t->rtcap = t->rtlast = 0;
                t->rt_off = 1;
                return;
            }
            for (size_t j = 0; j < t->rtcap; j++) {
                if (!t->rt[j].tile1) continue;
                size_t h = (size_t)(gf_mix64(t->rt[j].tile1) & (nc - 1));
                while (n[h].tile1) h = (h + 1) & (nc - 1);
                n[h] = t->rt[j];
            }
            free(t->rt);
            t->rt = n;
            t->rtcap = nc;
        }
        i = (size_t)(gf_mix64(k) & (t->rtcap - 1));
        while (t->rt[i].tile1 && t->rt[i].tile1 != k) i = (i + 1) & (t->rtcap - 1);
        if (!t->rt[i].tile1) { t->rt[i].tile1 = k; t->rtn++; }
        t->rtlast = i;
    }
    t->rt[i].est += est_bytes(r, t->nsel);
    t->rt[i].bytes += GF_TREC_HDR + r->plen;
}

static gf_status commit(void *stv, gf_ctx *ctx, const gf_batch *b, const gf_buf *enc)
{
    gf_tiles *t = stv;
    gf_status st;
    size_t pos = 0;
    uint8_t *p = (uint8_t *)enc->p; /* the index is stamped here, in input order */
    while (pos < enc->len) {
        gf_trec r;
        gf_trec_get(p + pos, &r);
        uint64_t idx = t->count++;
        memcpy(p + pos + 8, &idx, 8);
        if (r.x < t->minx) t->minx = r.x;
        if (r.x > t->maxx) t->maxx = r.x;
        if (r.y < t->miny) t->miny = r.y;
        if (r.y > t->maxy) t->maxy = r.y;
        size_t len = GF_TREC_HDR + r.plen;
        if ((st = gf_xsort_add(t->xs, ctx, p + pos, len))) return st;
        if (!t->rt_off) count_tile(t, &r);
        pos += len;
    }
    (void)b;
    return GF_OK;
}

/* The densest tile of each zoom from the maxzoom tiles' counts: a tile
 * of zoom z is the maxzoom tiles that share its Hilbert prefix, so the
 * counts sorted by tile are summed in runs, zoom by zoom: the same sums
 * as the pass below, which reads every record through the merge of the
 * sorted runs (0.15 s at 1M points, all of it on the finishing thread). */
static gf_status rates_from_counts(gf_tiles *t, gf_ctx *ctx, uint64_t mx[])
{
    size_t n = 0;
    for (size_t i = 0; i < t->rtcap; i++)
        if (t->rt[i].tile1) t->rt[n++] = t->rt[i]; /* packed in place */
    gf_status st = gf_radix_sort_rec(ctx, t->rt, n, sizeof *t->rt, offsetof(struct rtile, tile1));
    if (st) return st;
    for (size_t i = 0; i < n; i++)
        if (t->rt[i].bytes > t->densest_bytes) { t->densest_bytes = t->rt[i].bytes; t->densest = t->rt[i].tile1 - 1; }
    for (int z = t->minz; z < t->maxz; z++) {
        int sh = 2 * (t->maxz - z);
        uint64_t cur = UINT64_MAX, acc = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t tile = (t->rt[i].tile1 - 1) >> sh;
            if (tile != cur) {
                if (acc > mx[z]) mx[z] = acc;
                acc = 0;
                cur = tile;
            }
            acc += t->rt[i].est;
        }
        if (acc > mx[z]) mx[z] = acc;
    }
    free(t->rt);
    t->rt = NULL;
    t->rtn = t->rtcap = 0;
    return GF_OK;
}

/* Pass 1: the densest tile of each zoom (estimated bytes) sets its rate.
 * From the counts when they were kept, else read through the sort. */
static gf_status choose_rates(gf_tiles *t, gf_ctx *ctx)
{
    uint64_t mx[GF_TILE_MAXZOOM + 1] = {0};
    gf_status st;
    t->rates_counted = !t->rt_off;
    if (t->rates_counted) {
        if ((st = rates_from_counts(t, ctx, mx))) return st;
    } else {
        uint64_t cur[GF_TILE_MAXZOOM + 1], acc[GF_TILE_MAXZOOM + 1] = {0};
        for (int z = 0; z <= GF_TILE_MAXZOOM; z++) cur[z] = UINT64_MAX;
        if ((st = gf_xsort_rewind(t->xs, ctx))) return st;
        gf_trec r;
        uint64_t top = UINT64_MAX, topacc = 0; /* records of the current maxzoom tile */
        while ((st = gf_trec_next(t->xs, ctx, &r)) == GF_OK) {
            uint64_t e = est_bytes(&r, t->nsel), tz = gf_tile_of_key(r.key, t->maxz);
            if (tz != top) { top = tz; topacc = 0; }
            topacc += GF_TREC_HDR + r.plen;
            if (topacc > t->densest_bytes) { t->densest_bytes = topacc; t->densest = tz; }
            for (int z = t->minz; z < t->maxz; z++) {
                uint64_t tile = gf_tile_of_key(r.key, z);
                if (tile != cur[z]) {
                    if (acc[z] > mx[z]) mx[z] = acc[z];
                    acc[z] = 0;
                    cur[z] = tile;
                }
                acc[z] += e;
            }
        }
        if (st != GF_DONE) return st;
        for (int z = t->minz; z < t->maxz; z++)
            if (acc[z] > mx[z]) mx[z] = acc[z];
    }
    double rate = 1.0;
    t->thr[t->maxz] = UINT64_MAX;
    t->stats.keep_rate[t->maxz] = 1.0;
    for (int z = t->maxz - 1; z >= t->minz; z--) {
        double rz = mx[z] > TARGET_BYTES ? (double)TARGET_BYTES / (double)mx[z] : 1.0;
        if (rz < rate) rate = rz; /* never more points at z than at z + 1 */
        t->stats.keep_rate[z] = rate;
        t->thr[z] = rate >= 1.0 ? UINT64_MAX : (uint64_t)(rate * 18446744073709551616.0);
    }
    return GF_OK;
}

/* A worker keeps its buffers from tile to tile, except after a tile larger
 * than a batch: the memory of the densest tile is not held for the rest of
 * the run. */
static void shrink_worker(const gf_tiles *t, tworker *w)
{
    if (w->pts.feats.cap + w->pts.vals.cap + w->raw.cap + w->gz.cap <= t->keep_bytes) return;
    gf_mvt_layer_free(&w->pts);
    memset(&w->pts, 0, sizeof w->pts);
    gf_buf_free(&w->raw);
    gf_buf_free(&w->gz);
}

/* Takes `need` bytes of the encoders' scratch capacity, waiting while the
 * other workers hold too much of it; a worker whose reservation is the
 * only one goes on whatever its size (none is over the capacity: the
 * records of a tile are at most E/4), so no worker waits for nothing. One
 * thread (no pool) reserves nothing: it is alone. */
static void enc_reserve(gf_tiles *t, size_t need)
{
    if (!t->nstarted) return;
    pthread_mutex_lock(&t->mu);
    while (t->scratch_held > 0 && t->scratch_held + need > t->scratch_cap) pthread_cond_wait(&t->cv_mem, &t->mu);
    t->scratch_held += need;
    pthread_mutex_unlock(&t->mu);
}

static void enc_release(gf_tiles *t, size_t need)
{
    if (!t->nstarted) return;
    pthread_mutex_lock(&t->mu);
    t->scratch_held -= need;
    pthread_cond_broadcast(&t->cv_mem);
    pthread_mutex_unlock(&t->mu);
}

static gf_status worker_tile_reserved(gf_tiles *t, const tbatch *b, tworker *w, tjob *j)
{
    gf_status st;
    int z = b->z;
    gf_mvt_layer_reset(&w->pts);
    size_t need = 2 * (size_t)t->nkeys + 2;
    if (need > w->tagcap) {
        uint32_t *tg = realloc(w->tags, need * sizeof *tg);
        if (!tg) return GF_ERR_NOMEM;
        w->tags = tg;
        w->tagcap = need;
    }
    const uint8_t *p = (const uint8_t *)b->arena.p + j->off, *end = p + j->len;
    while (p < end) {
        gf_trec r;
        gf_trec_get(p, &r);
        const uint8_t *a = r.payload, *ae = a + r.plen;
        size_t nt = 0;
        while (a < ae) {
            uint32_t k = *a++;
            uint64_t n;
            a += gf_varint_get(a, (size_t)(ae - a), &n);
            uint32_t vi;
            if ((st = gf_mvt_value(&w->pts, a, (size_t)n, &vi))) return st;
            a += n;
            w->tags[2 * nt] = k;
            w->tags[2 * nt + 1] = vi;
            nt++;
        }
        int32_t px = (int32_t)((r.x >> (20 - z)) & 4095), py = (int32_t)((r.y >> (20 - z)) & 4095);
        if ((st = gf_mvt_add_point(&w->pts, r.idx + 1, px, py, w->tags, nt))) return st;
        p += GF_TREC_HDR + r.plen;
    }
    w->raw.len = 0;
    if (t->polys && j->pn) {
        if ((st = gf_poly_tile(t->polys, w->ctx, &w->ps, z, j->x, j->y, b->plist + j->poff, j->pn, &w->raw)))
            return st;
    }
    if ((st = gf_mvt_layer_write(&w->pts, t->layer, t->keys, (size_t)t->nkeys, &w->raw))) return st;
    j->raw = w->raw.len;
    /* gzipped into the worker's buffer (the compressor asks for the raw
     * size), then kept at its own size until the batch is stored: a batch
     * holds its tiles compressed, not as many raw-sized buffers */
    if ((st = gf_tile_gzip(&w->zc, (const uint8_t *)w->raw.p, w->raw.len, &w->gz))) return st;
    gf_buf_free(&j->out);
    if (!(j->out.p = malloc(w->gz.len ? w->gz.len : 1))) return GF_ERR_NOMEM;
    memcpy(j->out.p, w->gz.p, w->gz.len);
    j->out.len = j->out.cap = w->gz.len;
    return GF_OK;
}

static gf_status worker_tile(gf_tiles *t, const tbatch *b, tworker *w, tjob *j)
{
    size_t need = j->len + j->len / 2;
    enc_reserve(t, need);
    gf_status st = worker_tile_reserved(t, b, w, j);
    shrink_worker(t, w); /* before the release: what it keeps is within keep_bytes */
    enc_release(t, need);
    return st;
}

typedef struct warg { gf_tiles *t; tworker *w; } warg;

/* Encodes jobs of the current batch until none is left. */
static void encode_batch(warg *a)
{
    tbatch *b = &a->t->enc;
    for (;;) {
        size_t i = atomic_fetch_add(&a->t->next, 1);
        if (i >= b->njobs) break;
        b->jobs[i].st = worker_tile(a->t, b, a->w, &b->jobs[i]);
    }
}

/* A pool thread: waits for a new batch (gen moves), encodes, reports. */
static void *pool_main(void *arg)
{
    warg *a = arg;
    gf_tiles *t = a->t;
    uint64_t seen = 0;
    pthread_mutex_lock(&t->mu);
    for (;;) {
        while (!t->quit && t->gen == seen) pthread_cond_wait(&t->cv_work, &t->mu);
        if (t->quit) break;
        seen = t->gen;
        pthread_mutex_unlock(&t->mu);
        encode_batch(a);
        pthread_mutex_lock(&t->mu);
        if (--t->busy == 0) pthread_cond_signal(&t->cv_done);
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

/* Starts the pool once (no thread when --threads 1: the main thread
 * encodes); fewer threads than asked if some cannot be created. */
static void pool_start(gf_tiles *t)
{
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv_work, NULL);
    pthread_cond_init(&t->cv_done, NULL);
    pthread_cond_init(&t->cv_mem, NULL);
    t->pool_init = 1;
    for (int i = 0; i < t->nthreads && t->nthreads > 1; i++) {
        t->wargs[i] = (warg){t, &t->w[i]};
        if (pthread_create(&t->th[i], NULL, pool_main, &t->wargs[i]) != 0) break;
        t->nstarted = i + 1;
    }
}

/* Waits until the pool has finished the batch in flight. */
static void pool_wait(gf_tiles *t)
{
    if (!t->nstarted) return;
    pthread_mutex_lock(&t->mu);
    while (t->busy > 0) pthread_cond_wait(&t->cv_done, &t->mu);
    pthread_mutex_unlock(&t->mu);
}

static void pool_stop(gf_tiles *t)
{
    if (!t->pool_init) return;
    pool_wait(t);
    pthread_mutex_lock(&t->mu);
    t->quit = 1;
    pthread_cond_broadcast(&t->cv_work);
    pthread_mutex_unlock(&t->mu);
    for (int i = 0; i < t->nstarted; i++) pthread_join(t->th[i], NULL);
    t->nstarted = 0;
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv_work);
    pthread_cond_destroy(&t->cv_done);
    pthread_cond_destroy(&t->cv_mem);
    t->pool_init = 0;
}

static gf_status zstore(gf_tiles *t, gf_ctx *ctx, int z, const tjob *j)
{
    if (t->nzt[z] == t->zcap[z]) {
        size_t nc = t->zcap[z] ? t->zcap[z] * 2 : 1024;
        struct ztile *n = realloc(t->zt[z], nc * sizeof *n);
        if (!n) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        t->zt[z] = n;
        t->zcap[z] = nc;
    }
    t->zt[z][t->nzt[z]++] = (struct ztile){j->x, j->y, (uint32_t)j->out.len};
    if (fwrite(j->out.p, 1, j->out.len, t->zf[z]) != j->out.len)
        return gf_ctx_err(ctx, GF_ERR_IO, "tile scratch file: write failed (disk full? use --tmpdir)");
    return GF_OK;
}

/* Waits for the batch being encoded and stores its tiles in order. The
 * finishing thread, its next batch cut, encodes the batch's jobs left
 * with its own worker rather than wait: it was idle half of the tile
 * pass on 2 cores (the jobs are claimed one by one, a tile's bytes do
 * not depend on who encodes it). */
static gf_status drain(gf_tiles *t, gf_ctx *ctx)
{
    if (!t->enc_busy) return GF_OK;
    if (t->nstarted) {
        warg a = {t, &t->w[t->nthreads]};
        encode_batch(&a);
    }
    pool_wait(t);
    t->enc_busy = 0;
    tbatch *b = &t->enc;
    gf_status st = GF_OK;
    for (size_t i = 0; i < b->njobs && !st; i++) {
        tjob *j = &b->jobs[i];
        if (j->st) {
            for (int k = 0; k <= t->nthreads; k++)
                if (gf_ctx_errmsg(t->w[k].ctx)[0]) gf_ctx_take_error(ctx, t->w[k].ctx);
            st = gf_ctx_err(ctx, j->st, "tile %d/%u/%u: %s", b->z, j->x, j->y,
                            gf_ctx_errmsg(ctx)[0] ? gf_ctx_errmsg(ctx) : gf_status_str(j->st));
            break;
        }
        if (j->raw > t->stats.max_tile_raw) t->stats.max_tile_raw = j->raw;
        if (j->out.len > t->stats.max_tile_gz) t->stats.max_tile_gz = j->out.len;
        if (j->out.len > GF_TILES_MAX_BYTES)
            gf_ctx_log(ctx, GF_LOG_WARN, "tile %d/%u/%u is %zu bytes gzip (over %d): too many points at the maximum zoom",
                       b->z, j->x, j->y, j->out.len, GF_TILES_MAX_BYTES);
        if (j->raw) st = zstore(t, ctx, b->z, j);
        gf_buf_free(&j->out); /* stored: the batch holds no tile past its turn */
    }
    b->njobs = 0;
    b->arena.len = 0;
    b->npl = 0;
    return st;
}

/* Hands the filled jobs to the pool (after storing the previous batch) and
 * returns at once: the main thread goes on cutting the next batch. */
static gf_status flush(gf_tiles *t, gf_ctx *ctx)
{
    if (!t->njobs) return GF_OK;
    gf_status st = drain(t, ctx);
    if (st) return st;
    tbatch *e = &t->enc, f = {t->z, t->arena, t->jobs, t->njobs, t->jobcap, t->plist, t->npl, t->plcap};
    t->arena = e->arena;
    t->jobs = e->jobs;
    t->jobcap = e->jobcap;
    t->plist = e->plist;
    t->plcap = e->plcap;
    t->njobs = 0;
    t->arena.len = 0;
    t->npl = 0;
    *e = f;
    atomic_store(&t->next, 0);
    t->enc_busy = 1;
    if (t->nstarted == 0) { /* one thread (or no thread could start): encode here */
        warg a = {t, &t->w[0]};
        encode_batch(&a);
        return GF_OK;
    }
    pthread_mutex_lock(&t->mu);
    t->busy = t->nstarted;
    t->gen++;
    pthread_cond_broadcast(&t->cv_work);
    pthread_mutex_unlock(&t->mu);
    return GF_OK;
}

static gf_status new_job(gf_tiles *t, gf_ctx *ctx, uint64_t hil, tjob **out)
{
    if (t->njobs == t->jobcap) {
        size_t nc = t->jobcap ? t->jobcap * 2 : 256;
        tjob *j = realloc(t->jobs, nc * sizeof *j);
        if (!j) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        memset(j + t->jobcap, 0, (nc - t->jobcap) * sizeof *j);
        t->jobs = j;
        t->jobcap = nc;
    }
    tjob *j = &t->jobs[t->njobs++];
    if (t->z) gf_hilbert_d2xy(t->z, hil, &j->x, &j->y);
    else j->x = j->y = 0;
    j->off = t->arena.len;
    j->len = 0;
    j->poff = t->npl;
    j->pn = 0;
    j->raw = 0;
    j->st = GF_OK;
    *out = j;
    return GF_OK;
}

/* Adds the polygon-only tiles of zoom z with Hilbert index below `upto`
 * (and the polygons of tile `upto` itself when `cur` is that tile). */
static gf_status poly_until(gf_tiles *t, gf_ctx *ctx, uint64_t upto, int inclusive, tjob **cur, uint64_t *curtile)
{
    gf_status st;
    uint64_t tile;
    uint32_t pi;
    while (gf_poly_peek(t->polys, &tile, &pi) && (tile < upto || (inclusive && tile == upto))) {
        if (!*cur || *curtile != tile) {
            if (t->arena.len >= t->batch_bytes || t->njobs >= BATCH_JOBS) {
                if ((st = flush(t, ctx))) return st;
            }
            if ((st = new_job(t, ctx, tile, cur))) return st;
            *curtile = tile;
        }
        if (t->npl == t->plcap) {
            size_t nc = t->plcap ? t->plcap * 2 : 1024;
            uint32_t *l = realloc(t->plist, nc * sizeof *l);
            if (!l) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
            t->plist = l;
            t->plcap = nc;
        }
        t->plist[t->npl++] = pi;
        (*cur)->pn++;
        gf_poly_pop(t->polys);
    }
    return GF_OK;
}

/* Sequential reader of a survivors file (sorted records). */
typedef struct rreader { FILE *f; uint8_t *buf; size_t cap; } rreader;

static gf_status rr_next(rreader *r, gf_ctx *ctx, gf_trec *out, uint32_t *count)
{
    uint8_t h[GF_TREC_HDR];
    size_t got = fread(h, 1, GF_TREC_HDR, r->f);
    if (got == 0 && feof(r->f)) return GF_DONE;
    if (got != GF_TREC_HDR) return gf_ctx_err(ctx, GF_ERR_IO, "tile scratch file: short read");
    uint32_t plen;
    memcpy(&plen, h + 24, 4);
    if (GF_TREC_HDR + (size_t)plen > r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 4096;
        while (nc < GF_TREC_HDR + (size_t)plen) nc *= 2;
        uint8_t *nb = realloc(r->buf, nc);
        if (!nb) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        r->buf = nb;
        r->cap = nc;
    }
    memcpy(r->buf, h, GF_TREC_HDR);
    if (plen && fread(r->buf + GF_TREC_HDR, 1, plen, r->f) != plen) return gf_ctx_err(ctx, GF_ERR_IO, "tile scratch file: short read");
    if (fread(count, sizeof *count, 1, r->f) != 1) return gf_ctx_err(ctx, GF_ERR_IO, "tile scratch file: short read");
    gf_trec_get(r->buf, out);
    return GF_OK;
}

static gf_status scratch_file(gf_tiles *t, gf_ctx *ctx, FILE **out)
{
    return gf_scratch_fopen(ctx, t->o.tmpdir, t->path, (size_t)1 << 20, out);
}

/* A survivor for the next zoom: the record, then its point count. */
static gf_status write_survivor(gf_ctx *ctx, FILE *f, const gf_buf *rec, uint32_t count)
{
    if (fwrite(rec->p, 1, rec->len, f) != rec->len || fwrite(&count, sizeof count, 1, f) != 1)
        return gf_ctx_err(ctx, GF_ERR_IO, "tile scratch file: write failed (disk full? use --tmpdir)");
    return GF_OK;
}

static void size_str(char *out, size_t n, uint64_t v)
{
    if (v >= (1u << 20)) snprintf(out, n, "%.0f MB", (double)v / 1048576.0);
    else snprintf(out, n, "%.0f KB", (double)v / 1024.0);
}

/* The densest tile (only a maxzoom tile can be: the thinning keeps the
 * others small) must fit in tile_max; refused before any tile is built,
 * with the budget that would hold it. */
static gf_status check_densest(const gf_tiles *t, gf_ctx *ctx)
{
    if (t->densest_bytes <= t->tile_max) return GF_OK;
    uint32_t tx = 0, ty = 0;
    if (t->maxz) gf_hilbert_d2xy(t->maxz, t->densest, &tx, &ty);
    char got[32], lim[32], bud[32], need[32];
    size_str(got, sizeof got, t->densest_bytes);
    size_str(lim, sizeof lim, t->tile_max);
    /* a share of --max-memory: the messages speak of the whole budget */
    uint64_t shares = t->o.memory_shares > 1 ? (uint64_t)t->o.memory_shares : 1;
    size_str(bud, sizeof bud, t->budget * shares);
    /* tile_max is a quarter of the encoder's half of the budget */
    uint64_t mb = 1u << 20, want = (t->densest_bytes * 8 * shares + mb - 1) / mb * mb;
    size_str(need, sizeof need, want);
    /* the other shares may be a GeoPackage's R-tree, another tile output or
     * the validation's tables (job/convert.c): the message says how much is
     * this output's, not whose the rest is */
    char part[48] = "";
    if (shares > 1) snprintf(part, sizeof part, " (this output's share: 1/%llu of it)", (unsigned long long)shares);
    return gf_ctx_err(ctx, GF_ERR_ARG,
                      "tile %d/%u/%u: its points take %s, over the %s one tile may take with --max-memory %s%s%s; "
                      "every point is kept at the maximum zoom, so this tile cannot be thinned: give --max-memory %s "
                      "or more, or a higher --maxzoom to cut dense areas into smaller tiles",
                      t->maxz, tx, ty, got, lim, bud, t->o.max_memory ? "" : " (the default)", part, need);
}

/* One zoom: reads the sorted points kept at z (all of them at maxzoom, from
 * the sort; below, the survivors file the pass above wrote), cuts them into
 * tiles, and writes the points kept at z - 1 to *next. */
static gf_status build_zoom(gf_tiles *t, gf_ctx *ctx, int z, FILE *in, FILE **next)
{
    gf_status st;
    t->z = z;
    *next = NULL;
    if ((st = scratch_file(t, ctx, &t->zf[z]))) return st;
    if (z > t->minz && (st = scratch_file(t, ctx, next))) return st;
    if (t->polys && (st = gf_poly_zoom(t->polys, ctx, z))) return st;
    rreader rr = {.f = in};
    if (in) {
        if (fseek(in, 0, SEEK_SET) != 0) return gf_ctx_err(ctx, GF_ERR_IO, "tile scratch file: seek failed");
    } else if ((st = gf_xsort_rewind(t->xs, ctx))) {
        return st;
    }
    tjob *cur = NULL;
    uint64_t curtile = UINT64_MAX;
    uint64_t below = z > t->minz ? t->thr[z - 1] : 0;
    /* point_count: a point kept at z - 1 also stands for the points of its
     * (z - 1) tile thinned out after it, in curve order, up to the next kept
     * one (those before the tile's first kept point go to that one); so
     * each survivor is written once the next one, or the tile's end, is
     * seen. At maxzoom every count is 1. */
    gf_buf pend = {0};
    uint32_t pendcnt = 0, orphans = 0;
    uint64_t pendtile = UINT64_MAX, orphtile = UINT64_MAX;
    int has_pend = 0;
    uint8_t cv[16];
    gf_trec r = {0};
    for (;;) {
        uint32_t count = 1;
        st = in ? rr_next(&rr, ctx, &r, &count) : gf_trec_next(t->xs, ctx, &r);
        if (st) break;
        uint64_t tile = gf_tile_of_key(r.key, z);
        if (!cur || tile != curtile) {
            if (t->polys && (st = poly_until(t, ctx, tile, 0, &cur, &curtile))) break;
            if (!cur || tile != curtile) {
                if (t->arena.len >= t->batch_bytes || t->njobs >= BATCH_JOBS) {
                    if ((st = flush(t, ctx))) break;
                }
                if ((st = new_job(t, ctx, tile, &cur))) break;
                curtile = tile;
            }
            if (t->polys && (st = poly_until(t, ctx, tile, 1, &cur, &curtile))) break;
        }
        /* the record in the tile, with its point_count below maxzoom */
        size_t cn = 0;
        if (z < t->maxz) {
            uint8_t body[12];
            size_t bn = gf_mvt_value_int(count, body);
            cv[0] = (uint8_t)t->nsel;
            cn = 1 + gf_varint_put(cv + 1, bn);
            memcpy(cv + cn, body, bn);
            cn += bn;
        }
        size_t len = GF_TREC_HDR + r.plen + cn;
        if (cur->len + len > t->tile_max) { /* checked up front: a broken invariant */
            st = gf_ctx_err(ctx, GF_ERR_INTERNAL, "tile %d/%u/%u passes its memory share", z, cur->x, cur->y);
            break;
        }
        if ((st = gf_buf_reserve(&t->arena, len))) { st = gf_ctx_err(ctx, st, "out of memory"); break; }
        uint8_t *w = (uint8_t *)t->arena.p + t->arena.len;
        gf_trec_put_hdr(w, r.key, r.idx, r.x, r.y, (uint32_t)(r.plen + cn));
        memcpy(w + GF_TREC_HDR, r.payload, r.plen);
        memcpy(w + GF_TREC_HDR + r.plen, cv, cn);
        t->arena.len += len;
        cur->len += len;
        if (!*next) continue;
        /* the survivors for z - 1, with their counts */
        uint64_t up = gf_tile_of_key(r.key, z - 1);
        if (has_pend && up != pendtile) {
            if ((st = write_survivor(ctx, *next, &pend, pendcnt))) break;
            has_pend = 0;
        }
        if (up != orphtile) { orphans = 0; orphtile = up; }
        if (gf_mix64(r.idx) <= below) {
            if (has_pend && (st = write_survivor(ctx, *next, &pend, pendcnt))) break;
            pend.len = 0;
            if ((st = gf_buf_reserve(&pend, GF_TREC_HDR + r.plen))) { st = gf_ctx_err(ctx, st, "out of memory"); break; }
            gf_trec_put_hdr((uint8_t *)pend.p, r.key, r.idx, r.x, r.y, r.plen);
            memcpy(pend.p + GF_TREC_HDR, r.payload, r.plen);
            pend.len = GF_TREC_HDR + r.plen;
            pendcnt = count + orphans;
            orphans = 0;
            pendtile = up;
            has_pend = 1;
        } else if (has_pend) {
            pendcnt += count;
        } else {
            orphans += count;
        }
    }
    if (st == GF_DONE && has_pend) {
        gf_status s2 = write_survivor(ctx, *next, &pend, pendcnt);
        if (s2) st = s2;
    }
    gf_buf_free(&pend);
    free(rr.buf);
    if (st != GF_DONE) return st;
    if (t->polys && (st = poly_until(t, ctx, UINT64_MAX, 1, &cur, &curtile))) return st;
    if ((st = flush(t, ctx)) || (st = drain(t, ctx))) return st; /* the next zoom changes the polygons */
    if (*next && fflush(*next) != 0) return gf_ctx_err(ctx, GF_ERR_IO, "tile scratch file: write failed");
    return GF_OK;
}

/* Hands the finished tiles to the archive, zoom by zoom. */
static gf_status store_all(gf_tiles *t, gf_ctx *ctx)
{
    gf_buf b = {0};
    gf_status st = GF_OK;
    for (int z = t->minz; z <= t->maxz && !st; z++) {
        if (fseek(t->zf[z], 0, SEEK_SET) != 0) { st = gf_ctx_err(ctx, GF_ERR_IO, "tile scratch file: seek failed"); break; }
        for (size_t i = 0; i < t->nzt[z] && !st; i++) {
            const struct ztile *e = &t->zt[z][i];
            b.len = 0;
            if (gf_buf_reserve(&b, e->len)) { st = gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory"); break; }
            if (fread(b.p, 1, e->len, t->zf[z]) != e->len) { st = gf_ctx_err(ctx, GF_ERR_IO, "tile scratch file: short read"); break; }
            st = t->ar->vt->put(t->ar, ctx, z, e->x, e->y, (const uint8_t *)b.p, e->len);
        }
        fclose(t->zf[z]);
        t->zf[z] = NULL;
    }
    gf_buf_free(&b);
    return st;
}

static void json_str(gf_buf *b, const char *s) { gf_buf_json_str(b, s, strlen(s)); }

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static gf_status finish(void *stv, gf_ctx *ctx)
{
    gf_tiles *t = stv;
    gf_status st;
    gf_buf vl = {0};
    double t0 = now_s(), t1, t2;
    if (t->o.nextra_layers > 0 &&
        (st = gf_poly_load(ctx, t->o.extra_layers, t->o.nextra_layers, t->minz, t->maxz, &t->polys)))
        return st;
    if ((st = choose_rates(t, ctx)) || (st = check_densest(t, ctx))) return st;
    t->stats.runs_spilled = gf_xsort_runs_spilled(t->xs);
    t1 = now_s();
    /* one worker per pool thread, and the finishing thread's (see drain()) */
    t->w = calloc((size_t)t->nthreads + 1, sizeof *t->w);
    t->wargs = calloc((size_t)t->nthreads, sizeof *t->wargs);
    if (!t->w || !t->wargs) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    for (int i = 0; i <= t->nthreads; i++)
        if ((st = gf_ctx_fork(ctx, &t->w[i].ctx))) return gf_ctx_err(ctx, st, "cannot create a worker context");
    pool_start(t);
    /* the workers that encode: the pool's and the finishing thread's, or
     * the finishing thread alone (see drain() and flush()) */
    int nenc = t->nstarted ? t->nstarted + 1 : 1;
    size_t enc = t->tile_max * 4;
    t->keep_bytes = t->batch_bytes / (size_t)nenc;
    t->scratch_cap = enc / 8 * 3;
    FILE *in = NULL;
    for (int z = t->maxz; z >= t->minz; z--) {
        FILE *next = NULL;
        st = build_zoom(t, ctx, z, in, &next);
        if (in) fclose(in);
        in = next;
        if (st) { if (in) fclose(in); return st; }
    }
    if (in) fclose(in);
    gf_xsort_destroy(t->xs); /* the sorted runs are no longer needed */
    t->xs = NULL;
    t2 = now_s();
    if ((st = store_all(t, ctx))) return st;

    /* metadata */
    gf_buf_append(&vl, "[", 1);
    if (t->count || !t->polys) {
        gf_buf_append(&vl, "{\"id\":", 6);
        json_str(&vl, t->layer);
        gf_buf_printf(&vl, ",\"description\":\"\",\"minzoom\":%d,\"maxzoom\":%d,\"fields\":{", t->minz, t->maxz);
        for (int k = 0; k < t->nsel; k++) {
            gf_type ty = t->schema->fields[t->sel[k]].type;
            if (k) gf_buf_append(&vl, ",", 1);
            json_str(&vl, t->keys[k]);
            gf_buf_printf(&vl, ":\"%s\"", ty == GF_T_INT || ty == GF_T_REAL ? "Number" : ty == GF_T_BOOL ? "Boolean" : "String");
        }
        if (t->nkeys > t->nsel) gf_buf_printf(&vl, "%s\"point_count\":\"Number\"", t->nsel ? "," : "");
        gf_buf_append(&vl, "}}", 2);
    }
    if (t->polys) gf_poly_vector_layers(t->polys, &vl, t->count > 0, t->minz, t->maxz);
    gf_buf_append(&vl, "]", 1);
    if ((st = gf_buf_append(&vl, "", 1))) { gf_buf_free(&vl); return gf_ctx_err(ctx, st, "out of memory"); }
    gf_tile_meta m = {.name = t->layer, .vector_layers = vl.p, .minzoom = t->minz, .maxzoom = t->maxz};
    if (t->count) {
        gf_tile_lonlat(t->minx, t->maxy + 1.0, &m.bounds[0], &m.bounds[1]);
        gf_tile_lonlat(t->maxx + 1.0, t->miny, &m.bounds[2], &m.bounds[3]);
    } else if (t->polys) {
        gf_poly_bounds(t->polys, m.bounds);
    } else {
        m.bounds[0] = -180; m.bounds[1] = -85.0511287; m.bounds[2] = 180; m.bounds[3] = 85.0511287;
    }
    m.center[0] = (m.bounds[0] + m.bounds[2]) / 2;
    m.center[1] = (m.bounds[1] + m.bounds[3]) / 2;
    m.center[2] = t->minz > 10 ? t->minz : (t->maxz < 10 ? t->maxz : 10);
    st = t->ar->vt->finish(t->ar, ctx, &m);
    gf_buf_free(&vl);
    t->stats.points = t->count;
    t->stats.tiles = t->ar->ntiles;
    t->stats.unique_tiles = t->ar->nunique;
    if (!st)
        gf_ctx_log(ctx, GF_LOG_INFO,
                   "tiles: %llu points, %llu tiles (%llu distinct), largest tile %llu bytes (%llu gzip), %d sorted runs spilled; "
                   "finish %.2f s (rates %.2f %s, tiles %.2f, archive %.2f)",
                   (unsigned long long)t->count, (unsigned long long)t->ar->ntiles, (unsigned long long)t->ar->nunique,
                   (unsigned long long)t->stats.max_tile_raw, (unsigned long long)t->stats.max_tile_gz,
                   t->stats.runs_spilled, now_s() - t0, t1 - t0,
                   t->rates_counted ? "from the maxzoom tiles' counts" : "from a pass over the sort", t2 - t1, now_s() - t2);
    return st;
}

static void free_workers(gf_tiles *t)
{
    pool_stop(t); /* a failed run may leave a batch in flight */
    free(t->wargs);
    t->wargs = NULL;
    if (!t->w) return;
    for (int i = 0; i <= t->nthreads; i++) {
        tworker *w = &t->w[i];
        gf_mvt_layer_free(&w->pts);
        gf_buf_free(&w->raw);
        gf_buf_free(&w->gz);
        gf_tile_gzip_free(w->zc);
        free(w->tags);
        gf_poly_scratch_free(&w->ps, w->ctx);
        gf_ctx_destroy(w->ctx);
    }
    free(t->w);
    t->w = NULL;
}

static gf_status publish(void *stv, gf_ctx *ctx)
{
    gf_tiles *t = stv;
    return t->ar ? t->ar->vt->publish(t->ar, ctx) : GF_OK;
}

static void sink_abort(void *stv)
{
    gf_tiles *t = stv;
    if (t->ar) t->ar->vt->destroy(t->ar); /* removes the temporary file */
    t->ar = NULL;
}

static void destroy(void *stv)
{
    gf_tiles *t = stv;
    if (!t) return;
    sink_abort(t);
    free_workers(t);
    gf_xsort_destroy(t->xs);
    free(t->rt);
    gf_poly_destroy(t->polys);
    gf_buf_free(&t->arena);
    for (int z = 0; z <= GF_TILE_MAXZOOM; z++) {
        if (t->zf[z]) fclose(t->zf[z]);
        free(t->zt[z]);
    }
    for (size_t i = 0; i < t->jobcap; i++) gf_buf_free(&t->jobs[i].out);
    free(t->jobs);
    free(t->plist);
    gf_buf_free(&t->enc.arena);
    for (size_t i = 0; i < t->enc.jobcap; i++) gf_buf_free(&t->enc.jobs[i].out);
    free(t->enc.jobs);
    free(t->enc.plist);
    free(t->path);
    free(t->tmpdir);
    free(t);
}

void gf_tiles_get_stats(const void *st, gf_tiles_stats *out) { *out = ((const gf_tiles *)st)->stats; }

const gf_sink_vt gf_tiles_sink_vt = {
    .name = "tiles",
    .begin = begin,
    .encode = encode,
    .commit = commit,
    .finish = finish,
    .publish = publish,
    .abort = sink_abort,
    .destroy = destroy,
};
