/* Hand-written SQLite table b-trees (see sqlbt.h for why and the contract). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "write/ofile.h"
#include "write/sqlbt.h"

#define SQLITE_PENDING_BYTE 0x40000000u
#define WBUF_BYTES (4u << 20)

/* ---- records ------------------------------------------------------------ */

void gf_sqlrec_reset(gf_sqlrec *r, int fmt4)
{
    r->n = 0;
    r->fmt4 = fmt4;
    r->hlen = r->blen = 0;
}

static void col(gf_sqlrec *r, uint64_t st, size_t blen)
{
    r->c[r->n].st = st;
    r->hlen += (size_t)gf_varint_len(st);
    r->blen += blen;
    r->n++;
}

void gf_sqlrec_null(gf_sqlrec *r) { col(r, 0, 0); }

void gf_sqlrec_int(gf_sqlrec *r, int64_t v)
{
    static const size_t len[] = {0, 1, 2, 3, 4, 6, 8};
    uint64_t st;
    if (r->fmt4 && (v == 0 || v == 1)) st = 8 + (uint64_t)v;
    else if (v >= -128 && v <= 127) st = 1;
    else if (v >= -32768 && v <= 32767) st = 2;
    else if (v >= -8388608 && v <= 8388607) st = 3;
    else if (v >= INT32_MIN && v <= INT32_MAX) st = 4;
    else if (v >= -140737488355328LL && v <= 140737488355327LL) st = 5;
    else st = 6;
    r->c[r->n].v.i = v;
    col(r, st, st < 8 ? len[st] : 0);
}

void gf_sqlrec_real(gf_sqlrec *r, double v)
{
    if (isnan(v)) { gf_sqlrec_null(r); return; }
    r->c[r->n].v.d = v;
    col(r, 7, 8);
}

void gf_sqlrec_text(gf_sqlrec *r, const char *s, size_t len)
{
    r->c[r->n].v.p = s;
    col(r, 2 * (uint64_t)len + 13, len);
}

void gf_sqlrec_blob(gf_sqlrec *r, const void *p, size_t len)
{
    r->c[r->n].v.p = p;
    col(r, 2 * (uint64_t)len + 12, len);
}

size_t gf_sqlrec_write(const gf_sqlrec *r, uint8_t *out)
{
    size_t h = gf_sqlrec_size(r) - r->blen;
    uint8_t *p = out + gf_put_varint(out, h), *b = out + h;
    for (int i = 0; i < r->n; i++) {
        uint64_t st = r->c[i].st;
        p += gf_put_varint(p, st);
        if (st >= 1 && st <= 7) {
            static const int len[] = {0, 1, 2, 3, 4, 6, 8, 8};
            uint64_t u;
            if (st == 7) memcpy(&u, &r->c[i].v.d, 8);
            else u = (uint64_t)r->c[i].v.i;
            for (int k = len[st] - 1; k >= 0; k--, u >>= 8) b[k] = (uint8_t)u;
            b += len[st];
        } else if (st >= 12) {
            size_t n = (size_t)(st - 12) / 2;
            if (n) memcpy(b, r->c[i].v.p, n);
            b += n;
        }
    }
    return (size_t)(b - out);
}

/* ---- the file ----------------------------------------------------------- */

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static void put_be32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v; }
static void put_be16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

static gf_status io_err(gf_ctx *ctx, const gf_sqlfile *f, const char *what, int e)
{
    return gf_ctx_err(ctx, GF_ERR_IO, "%s: %s: %s", f->name ? f->name : "?", what, strerror(e ? e : EIO));
}

static void free_names(gf_sqlfile *f)
{
    free(f->path);
    free(f->name);
    f->path = f->name = NULL;
}

gf_status gf_sqlfile_open(gf_ctx *ctx, const char *path, const char *name, uint64_t pending_byte, gf_sqlfile *f)
{
    memset(f, 0, sizeof *f);
    f->fd = -1;
    f->path = strdup(path);
    f->name = strdup(name ? name : path);
    if (!f->path || !f->name) {
        free_names(f);
        return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    }
    uint8_t h[100];
    struct stat sb;
    f->fd = open(path, O_RDWR);
    if (f->fd < 0) {
        gf_status st = io_err(ctx, f, "open", errno);
        free_names(f);
        return st;
    }
    if (pread(f->fd, h, sizeof h, 0) != (ssize_t)sizeof h || fstat(f->fd, &sb) != 0) {
        gf_status st = io_err(ctx, f, "read header", errno);
        gf_sqlfile_discard(f);
        return st;
    }
    uint32_t ps = (uint32_t)h[16] << 8 | h[17];
    f->pgsz = ps == 1 ? 65536 : ps;
    f->usable = f->pgsz - h[20];
    f->fmt4 = be32(h + 44) >= 4;
    const char *why = NULL;
    if (memcmp(h, "SQLite format 3", 16) != 0 || f->pgsz < 512 || (f->pgsz & (f->pgsz - 1)) || f->usable < 480)
        why = "not an SQLite 3 database";
    else if (be32(h + 56) != 1) why = "text encoding is not UTF-8";
    else if (be32(h + 52) != 0) why = "auto-vacuum databases are not supported";
    else if (h[18] != 1 || h[19] != 1) why = "write-ahead-log mode is not supported here";
    else if ((uint64_t)sb.st_size % f->pgsz) why = "file size is not a whole number of pages";
    if (!why) {
        f->npages = (uint32_t)((uint64_t)sb.st_size / f->pgsz);
        if (be32(h + 24) == be32(h + 92) && be32(h + 28) && be32(h + 28) != f->npages) why = "header page count does not match the file";
    }
    if (why) {
        gf_sqlfile_discard(f);
        return gf_ctx_err(ctx, GF_ERR_UNSUPPORTED, "%s: %s", name ? name : path, why);
    }
    uint64_t pb = pending_byte ? pending_byte : SQLITE_PENDING_BYTE;
    f->lockpg = (uint32_t)(pb / f->pgsz) + 1;
    f->cap = WBUF_BYTES / f->pgsz ? WBUF_BYTES / f->pgsz : 1;
    gf_status st = gf_awriter_open(ctx, f->path, f->fd, (size_t)f->cap * f->pgsz, &f->w); /* path: for O_DIRECT */
    if (st) gf_sqlfile_discard(f);
    return st;
}

/* A new page number after the last page (never the lock-byte page). */
static uint32_t alloc_page(gf_sqlfile *f)
{
    if (++f->npages == f->lockpg) ++f->npages;
    return f->npages;
}

/* Pages are allocated in increasing order and mostly written in that
 * order: consecutive ones are gathered into one write. The page is copied. */
static gf_status write_page(gf_ctx *ctx, gf_sqlfile *f, uint32_t pg, const uint8_t *p)
{
    if (f->cur && pg == f->cur_first + f->cur_n && f->cur_n < f->cap) {
        memcpy(f->cur + (size_t)f->cur_n++ * f->pgsz, p, f->pgsz);
        return GF_OK;
    }
    if (f->cur) gf_awriter_put(f->w, (uint64_t)(f->cur_first - 1) * f->pgsz, (size_t)f->cur_n * f->pgsz);
    if (!(f->cur = gf_awriter_buf(f->w, ctx, f->name))) return GF_ERR_IO;
    f->cur_first = pg;
    f->cur_n = 1;
    memcpy(f->cur, p, f->pgsz);
    return GF_OK;
}

/* Writes the run being filled, stops the writer; errno of a failed write. */
static int writer_stop(gf_sqlfile *f)
{
    if (!f->w) return 0;
    if (f->cur) gf_awriter_put(f->w, (uint64_t)(f->cur_first - 1) * f->pgsz, (size_t)f->cur_n * f->pgsz);
    f->cur = NULL;
    int e = gf_awriter_close(f->w);
    f->w = NULL;
    return e;
}

void gf_sqlfile_discard(gf_sqlfile *f)
{
    f->cur = NULL; /* nothing more to write */
    writer_stop(f);
    if (f->fd >= 0) close(f->fd);
    f->fd = -1;
    free_names(f);
}

gf_status gf_sqlfile_close(gf_ctx *ctx, gf_sqlfile *f)
{
    int e = writer_stop(f);
    gf_status st = e ? io_err(ctx, f, "write", e) : GF_OK;
    uint8_t h[100];
    if (!st && pread(f->fd, h, sizeof h, 0) != (ssize_t)sizeof h) st = io_err(ctx, f, "read header", errno);
    /* the file may end with the lock-byte page skipped over: extend it */
    if (!st && ftruncate(f->fd, (off_t)f->npages * f->pgsz) != 0) st = io_err(ctx, f, "truncate", errno);
    if (!st) {
        uint32_t change = be32(h + 24) + 1;
        put_be32(h + 24, change);
        put_be32(h + 28, f->npages);
        put_be32(h + 92, change); /* "version-valid-for": the page count above is current */
        if ((e = gf_pio(f->fd, 1, h, sizeof h, 0))) st = io_err(ctx, f, "write header", e);
    }
    if (f->fd >= 0 && close(f->fd) != 0 && !st) st = io_err(ctx, f, "close", errno);
    f->fd = -1;
    free_names(f);
    return st;
}

/* ---- one table ------------------------------------------------------------ */

gf_status gf_sqlbt_init(gf_ctx *ctx, gf_sqlbt *t, gf_sqlfile *f, uint32_t root)
{
    memset(t, 0, sizeof *t);
    t->f = f;
    t->root = root;
    t->last = INT64_MIN;
    t->leaf = calloc(1, f->pgsz);
    t->cell = malloc(f->usable + 32);
    if (!t->leaf || !t->cell) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
    t->top = f->usable;
    return GF_OK;
}

void gf_sqlbt_free(gf_sqlbt *t)
{
    free(t->leaf);
    free(t->cell);
    for (int i = 0; i < GF_SQLBT_MAXLEV; i++) free(t->lv[i].c);
    memset(t, 0, sizeof *t);
}

/* Leaf header (8 bytes, type 0x0D) and write. Content start 65536 is
 * stored as 0. */
static gf_status write_leaf(gf_ctx *ctx, gf_sqlbt *t, uint32_t pg)
{
    uint8_t *p = t->leaf;
    p[0] = 0x0D;
    put_be16(p + 1, 0);
    put_be16(p + 3, (uint32_t)t->nleaf);
    put_be16(p + 5, t->top & 0xffff);
    p[7] = 0;
    return write_page(ctx, t->f, pg, p);
}

/* Interior page (12-byte header, type 0x05) of cells c[0..n-2] with
 * c[n-1] as its right-most child, written at page pg. */
static gf_status write_interior(gf_ctx *ctx, gf_sqlbt *t, const gf_sqlbt_cell *c, int n, uint32_t pg)
{
    uint8_t *p = t->leaf; /* the leaf buffer is free whenever this runs */
    uint32_t top = t->f->usable;
    memset(p, 0, t->f->pgsz);
    for (int i = 0; i < n - 1; i++) {
        uint8_t cell[16];
        put_be32(cell, c[i].child);
        int cl = 4 + gf_put_varint(cell + 4, (uint64_t)c[i].key);
        top -= (uint32_t)cl;
        memcpy(p + top, cell, (size_t)cl);
        put_be16(p + 12 + 2 * i, top);
    }
    p[0] = 0x05;
    put_be16(p + 3, (uint32_t)(n - 1));
    put_be16(p + 5, top & 0xffff);
    put_be32(p + 8, c[n - 1].child);
    return write_page(ctx, t->f, pg, p);
}

static size_t icell_size(int64_t key) { return 4 + (size_t)gf_varint_len((uint64_t)key) + 2; /* + pointer */ }

/* A finished page of level L-1 (page pg, largest key key) goes up to level L.
 * When the level's page is full, it is written with all its cells but the
 * last, which starts the next page with the new one: so every page of a
 * level that has flushed holds at least two children. */
static gf_status push_up(gf_ctx *ctx, gf_sqlbt *t, int L, uint32_t pg, int64_t key)
{
    if (L >= GF_SQLBT_MAXLEV) return gf_ctx_err(ctx, GF_ERR_INTERNAL, "%s: b-tree too deep", t->f->name);
    if (L > t->nlev) t->nlev = L;
    gf_sqlbt_level *v = &t->lv[L];
    size_t need = icell_size(key);
    /* with the new child as its right-most pointer the page would hold
     * every cell it has now */
    if (v->n >= 2 && 12 + v->bytes > t->f->usable) {
        gf_sqlbt_cell keep = v->c[v->n - 1];
        uint32_t npg = alloc_page(t->f);
        gf_status st = write_interior(ctx, t, v->c, v->n - 1, npg);
        if (!st) st = push_up(ctx, t, L + 1, npg, v->c[v->n - 2].key);
        if (st) return st;
        v = &t->lv[L];
        v->flushed = 1;
        v->n = 1;
        v->c[0] = keep;
        v->bytes = icell_size(keep.key);
    }
    if (v->n == v->cap) {
        int cap = v->cap ? v->cap * 2 : 256;
        gf_sqlbt_cell *nc = realloc(v->c, (size_t)cap * sizeof *nc);
        if (!nc) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        v->c = nc;
        v->cap = cap;
    }
    v->c[v->n++] = (gf_sqlbt_cell){pg, key};
    v->bytes += need;
    return GF_OK;
}

gf_status gf_sqlbt_add(gf_ctx *ctx, gf_sqlbt *t, int64_t rowid, const uint8_t *rec, size_t len)
{
    if (rowid <= t->last) return gf_ctx_err(ctx, GF_ERR_INTERNAL, "%s: rowid %lld after %lld", t->f->name, (long long)rowid, (long long)t->last);
    gf_sqlfile *f = t->f;
    const size_t U = f->usable, X = U - 35;
    size_t local = len;
    if (len > X) { /* the part of the payload kept in the leaf (fileformat2, 1.6) */
        size_t M = ((U - 12) * 32 / 255) - 23, K = M + ((len - M) % (U - 4));
        local = K <= X ? K : M;
    }
    uint8_t *c = t->cell;
    size_t cl = (size_t)gf_put_varint(c, len);
    cl += (size_t)gf_put_varint(c + cl, (uint64_t)rowid);
    memcpy(c + cl, rec, local);
    cl += local;
    gf_status st;
    if (local < len) { /* overflow chain, written now: its pages are independent of the leaf */
        uint8_t *op = calloc(1, f->pgsz);
        if (!op) return gf_ctx_err(ctx, GF_ERR_NOMEM, "out of memory");
        uint32_t pg = alloc_page(f);
        put_be32(c + cl, pg);
        cl += 4;
        st = GF_OK;
        for (size_t done = local; done < len && !st;) {
            size_t n = len - done < U - 4 ? len - done : U - 4;
            uint32_t next = done + n < len ? alloc_page(f) : 0;
            memset(op, 0, f->pgsz);
            put_be32(op, next);
            memcpy(op + 4, rec + done, n);
            st = write_page(ctx, f, pg, op);
            done += n;
            pg = next;
        }
        free(op);
        if (st) return st;
    }
    if (8 + 2 * ((size_t)t->nleaf + 1) + cl > t->top) {
        uint32_t pg = alloc_page(f);
        if ((st = write_leaf(ctx, t, pg)) || (st = push_up(ctx, t, 1, pg, t->last))) return st;
        t->leaf_flushed = 1;
        memset(t->leaf, 0, f->pgsz);
        t->nleaf = 0;
        t->top = (uint32_t)U;
    }
    t->top -= (uint32_t)cl;
    memcpy(t->leaf + t->top, c, cl);
    put_be16(t->leaf + 8 + 2 * t->nleaf, t->top);
    t->nleaf++;
    t->last = rowid;
    t->count++;
    return GF_OK;
}

gf_status gf_sqlbt_finish(gf_ctx *ctx, gf_sqlbt *t)
{
    gf_status st;
    if (!t->leaf_flushed) return write_leaf(ctx, t, t->root); /* one leaf: it is the root */
    uint32_t pg = alloc_page(t->f);
    if ((st = write_leaf(ctx, t, pg)) || (st = push_up(ctx, t, 1, pg, t->last))) return st;
    for (int L = 1;; L++) {
        gf_sqlbt_level *v = &t->lv[L];
        if (!v->flushed) return write_interior(ctx, t, v->c, v->n, t->root); /* top level: n >= 2 */
        pg = alloc_page(t->f);
        if ((st = write_interior(ctx, t, v->c, v->n, pg)) || (st = push_up(ctx, t, L + 1, pg, v->c[v->n - 1].key))) return st;
    }
}
