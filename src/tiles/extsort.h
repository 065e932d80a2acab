/* External sort of tile records under a memory budget. A record is a
 * 28-byte header (Hilbert key, feature index, world x, world y, payload
 * length) followed by its payload. Records accumulate in one in-memory run;
 * when the run would pass the budget it is sorted and spilled to an
 * unlinked scratch file. Reading merges every run in (key, index) order,
 * and can be restarted, so the tile builder makes one pass per zoom. */
#ifndef GF_TILES_EXTSORT_H
#define GF_TILES_EXTSORT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "geoflux/ctx.h"
#include "geoflux/status.h"

#define GF_TREC_HDR 28

typedef struct gf_trec {
    uint64_t key, idx;
    uint32_t x, y, plen;
    const uint8_t *payload; /* borrowed: valid until the next gf_xsort_next() */
} gf_trec;

static inline void gf_trec_put_hdr(uint8_t *p, uint64_t key, uint64_t idx, uint32_t x, uint32_t y, uint32_t plen)
{
    memcpy(p, &key, 8);
    memcpy(p + 8, &idx, 8);
    memcpy(p + 16, &x, 4);
    memcpy(p + 20, &y, 4);
    memcpy(p + 24, &plen, 4);
}
static inline void gf_trec_get(const uint8_t *p, gf_trec *r)
{
    memcpy(&r->key, p, 8);
    memcpy(&r->idx, p + 8, 8);
    memcpy(&r->x, p + 16, 4);
    memcpy(&r->y, p + 20, 4);
    memcpy(&r->plen, p + 24, 4);
    r->payload = p + GF_TREC_HDR;
}

typedef struct gf_xsort gf_xsort;

/* budget: bytes for the in-memory run (records + index). Scratch files go
 * to tmpdir, or beside path when tmpdir is NULL. Caller frees with
 * gf_xsort_destroy(). */
gf_status gf_xsort_create(gf_ctx *ctx, size_t budget, const char *tmpdir, const char *path, gf_xsort **out);
void gf_xsort_destroy(gf_xsort *x);

/* Adds one record (header + payload, copied). */
gf_status gf_xsort_add(gf_xsort *x, gf_ctx *ctx, const uint8_t *rec, size_t len);

/* Starts (or restarts) a merged pass over every record added so far;
 * no record may be added after the first rewind. */
gf_status gf_xsort_rewind(gf_xsort *x, gf_ctx *ctx);
/* Next record of the pass in (key, idx) order: GF_OK, GF_DONE, or an error. */
gf_status gf_xsort_next(gf_xsort *x, gf_ctx *ctx, gf_trec *r);

uint64_t gf_xsort_count(const gf_xsort *x);
int gf_xsort_runs_spilled(const gf_xsort *x);

#endif
