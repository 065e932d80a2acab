/* Table b-trees written by hand into a database file that SQLite created.
 *
 * Why by hand: on the 1M-row extract (bench/gpkg.sh) SQLite's own INSERT
 * path (VDBE, record building, b-tree balancing) was 35 % of the CPU of a
 * GeoPackage run, all of it serial, and binding values cost as much again.
 * Here the records are built on the worker threads (gf_sqlrec_*), and the
 * committing thread only packs them into leaf pages that are appended to
 * the file; interior pages are built bottom-up as leaves fill, so memory is
 * a few pages per level whatever the table size.
 *
 * The contract with SQLite: SQLite creates the schema (CREATE TABLE gives
 * every table its root page) and closes the file; gf_sqlfile_open() then
 * appends pages after the last one, each gf_sqlbt fills one empty table
 * whose rows arrive in increasing rowid order and ends by writing its top
 * page into the table's root page; gf_sqlfile_close() updates the page
 * count in the header. The file format is SQLite's documented one
 * (https://www.sqlite.org/fileformat2.html): table leaf (0x0D) and interior
 * (0x05) pages, overflow chains, the lock-byte page left unused. Tests
 * (tests/unit/test_sqlbt.c) check every result with PRAGMA integrity_check
 * and read the rows back through SQLite, for page sizes 512 to 65536. */
#ifndef GF_WRITE_SQLBT_H
#define GF_WRITE_SQLBT_H

#include <stddef.h>
#include <stdint.h>

#include "geoflux/ctx.h"
#include "geoflux/status.h"

/* ---- records (on any thread) ---------------------------------------------- */

/* SQLite varint: big-endian base 128, at most 9 bytes (the 9th holds 8 bits). */
static inline int gf_varint_len(uint64_t v)
{
    int n = 1;
    if (v >> 56) return 9;
    while (v >>= 7) n++;
    return n;
}

static inline int gf_put_varint(uint8_t *p, uint64_t v)
{
    if (v >> 56) {
        p[8] = (uint8_t)v;
        v >>= 8;
        for (int i = 7; i >= 0; i--, v >>= 7) p[i] = (uint8_t)((v & 0x7f) | 0x80);
        return 9;
    }
    int n = gf_varint_len(v);
    for (int i = n - 1; i >= 0; i--, v >>= 7) p[i] = (uint8_t)((v & 0x7f) | (i == n - 1 ? 0 : 0x80));
    return n;
}

#define GF_SQLREC_MAXCOLS 256

/* A record being built: columns are added in table order, then written.
 * Text and blobs are borrowed until gf_sqlrec_write(). */
typedef struct gf_sqlrec {
    int n, fmt4; /* fmt4: schema format 4 (serial types 8 and 9 for 0 and 1) */
    size_t hlen, blen;
    struct { uint64_t st; union { int64_t i; double d; const void *p; } v; } c[GF_SQLREC_MAXCOLS];
} gf_sqlrec;

void gf_sqlrec_reset(gf_sqlrec *r, int fmt4);
void gf_sqlrec_null(gf_sqlrec *r);
void gf_sqlrec_int(gf_sqlrec *r, int64_t v);
void gf_sqlrec_real(gf_sqlrec *r, double v); /* NaN is stored as NULL, as sqlite3_bind_double does */
void gf_sqlrec_text(gf_sqlrec *r, const char *s, size_t len);
void gf_sqlrec_blob(gf_sqlrec *r, const void *p, size_t len);
/* Bytes gf_sqlrec_write() will write. */
static inline size_t gf_sqlrec_size(const gf_sqlrec *r)
{
    size_t h = r->hlen + 1;
    if (gf_varint_len(h) > 1) h = r->hlen + (size_t)gf_varint_len(r->hlen + 2);
    return h + r->blen;
}
/* Writes the record (header then body) to out, which has gf_sqlrec_size()
 * bytes; returns that size. */
size_t gf_sqlrec_write(const gf_sqlrec *r, uint8_t *out);

/* ---- the file ------------------------------------------------------------- */

struct gf_awriter;

/* Pages go to the file through a gf_awriter (ofile.h): runs of consecutive
 * pages, written by a writer thread, with O_DIRECT where the file system
 * takes it. */
typedef struct gf_sqlfile {
    int fd;
    char *path;       /* the file opened (owned copy) */
    char *name;       /* how messages call it (owned copy) */
    uint32_t pgsz, usable, npages;
    uint32_t lockpg;  /* the page holding SQLite's pending byte: never used */
    int fmt4;
    struct gf_awriter *w;
    uint8_t *cur;     /* run being filled: pages cur_first.. (cur_n of them, at most cap) */
    uint32_t cur_first, cur_n, cap;
} gf_sqlfile;

/* Opens a database that SQLite created and closed (no journal, no open
 * connection). Refused with GF_ERR_UNSUPPORTED: a text encoding other than
 * UTF-8, auto-vacuum (pointer-map pages), a header that does not match the
 * file size. pending_byte: 0 for SQLite's (1 GiB); tests move it, as
 * SQLITE_TESTCTRL_PENDING_BYTE does. GF_ERR_IO with the name otherwise.
 * name: how messages call the file (the user's path when path is a
 * temporary); NULL: path. */
gf_status gf_sqlfile_open(gf_ctx *ctx, const char *path, const char *name, uint64_t pending_byte, gf_sqlfile *f);
/* Flushes pending pages and writes the page count and a new change counter
 * in the header, then closes. The gf_sqlfile is closed whatever it returns. */
gf_status gf_sqlfile_close(gf_ctx *ctx, gf_sqlfile *f);
/* Closes without touching the header (the caller discards the file). */
void gf_sqlfile_discard(gf_sqlfile *f);

/* ---- one table ------------------------------------------------------------- */

#define GF_SQLBT_MAXLEV 12

typedef struct gf_sqlbt_cell { uint32_t child; int64_t key; } gf_sqlbt_cell;
/* One interior level: its page's cells, the last being the right-most child. */
typedef struct gf_sqlbt_level { gf_sqlbt_cell *c; int n, cap; size_t bytes; int flushed; } gf_sqlbt_level;

typedef struct gf_sqlbt {
    gf_sqlfile *f;
    uint32_t root;
    uint8_t *leaf, *cell; /* the leaf page being filled; one cell */
    int nleaf;            /* cells in it */
    uint32_t top;         /* start of its cell content area */
    int leaf_flushed;
    int64_t last;         /* last rowid added */
    uint64_t count;
    int nlev;             /* interior levels so far */
    gf_sqlbt_level lv[GF_SQLBT_MAXLEV];
} gf_sqlbt;

/* Starts filling the empty table whose root page is root. */
gf_status gf_sqlbt_init(gf_ctx *ctx, gf_sqlbt *t, gf_sqlfile *f, uint32_t root);
/* Appends one row; rowid must be greater than the last one (GF_ERR_INTERNAL
 * otherwise). The record is copied. */
gf_status gf_sqlbt_add(gf_ctx *ctx, gf_sqlbt *t, int64_t rowid, const uint8_t *rec, size_t len);
/* Writes the remaining pages and the root. */
gf_status gf_sqlbt_finish(gf_ctx *ctx, gf_sqlbt *t);
/* Frees memory (after finish or on failure); a zeroed gf_sqlbt is fine. */
void gf_sqlbt_free(gf_sqlbt *t);

#endif
