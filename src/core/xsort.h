/* External sort of records under a memory budget, the one implementation:
 * the tile builder's points (tiles/trec.h), the merge of tile archives and
 * the GeoPackage R-tree's boxes past their budget (write/gpkg_rtree.c) sort
 * with it. Internal header.
 *
 * A record is a byte string that starts with its sort key, two 64-bit
 * integers in native byte order (memcpy'd, no alignment needed): key, then
 * idx, compared in that order. Its length is hdr bytes, or, when the
 * records vary, what reclen() reads from their first hdr bytes. Records
 * accumulate in one in-memory run; when the run would pass the budget it is
 * sorted and spilled to an unlinked scratch file. Reading merges every run
 * in (key, idx) order, and can be restarted (the tile builder makes one
 * pass per zoom, the R-tree two). */
#ifndef GF_CORE_XSORT_H
#define GF_CORE_XSORT_H

#include <stddef.h>
#include <stdint.h>

#include "geoflux/ctx.h"
#include "geoflux/status.h"

typedef struct gf_xsort gf_xsort;

/* Length of a record from its first hdr bytes (>= hdr). */
typedef size_t (*gf_xsort_len_fn)(const uint8_t *hdr);

/* budget: bytes for the in-memory run (records and their index entries,
 * 24 bytes a record). hdr >= 16; reclen NULL: every record is hdr bytes.
 * Scratch files go to tmpdir, or beside path when tmpdir is NULL; errors
 * name path (the output the sort serves, not the scratch file). Caller
 * frees with gf_xsort_destroy(). */
gf_status gf_xsort_create(gf_ctx *ctx, size_t budget, const char *tmpdir, const char *path, size_t hdr,
                          gf_xsort_len_fn reclen, gf_xsort **out);
void gf_xsort_destroy(gf_xsort *x);

/* Adds one record of len bytes (copied). Records added in non-decreasing
 * idx order sort fastest (a stable radix sort on the key alone). */
gf_status gf_xsort_add(gf_xsort *x, gf_ctx *ctx, const uint8_t *rec, size_t len);

/* Once records were spilled: spills the in-memory run too and frees its
 * block, so that the passes hold only the runs' read buffers (the R-tree
 * needs the memory for its second sort). No record may be added after. */
gf_status gf_xsort_release(gf_xsort *x, gf_ctx *ctx);

/* Starts (or restarts) a merged pass over every record added so far;
 * no record may be added after the first rewind. */
gf_status gf_xsort_rewind(gf_xsort *x, gf_ctx *ctx);
/* Next record of the pass in (key, idx) order: GF_OK with *rec (valid
 * until the next call) and *len, GF_DONE, or an error. */
gf_status gf_xsort_next(gf_xsort *x, gf_ctx *ctx, const uint8_t **rec, size_t *len);

uint64_t gf_xsort_count(const gf_xsort *x);
/* runs written to scratch files so far, cascade merges included */
int gf_xsort_runs_spilled(const gf_xsort *x);

#endif
