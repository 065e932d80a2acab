/* A tile record: a 28-byte header (Hilbert key, feature index, world x,
 * world y, payload length) followed by its payload, sorted by the external
 * sort (core/xsort.h) on (key, index). Internal header. */
#ifndef GF_TILES_TREC_H
#define GF_TILES_TREC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/xsort.h"

#define GF_TREC_HDR 28

typedef struct gf_trec {
    uint64_t key, idx;
    uint32_t x, y, plen;
    const uint8_t *payload; /* borrowed: valid until the next read */
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
static inline size_t gf_trec_len(const uint8_t *hdr)
{
    uint32_t plen;
    memcpy(&plen, hdr + 24, 4);
    return GF_TREC_HDR + (size_t)plen;
}

/* An external sort of tile records (see gf_xsort_create). */
static inline gf_status gf_trec_sort_create(gf_ctx *ctx, size_t budget, const char *tmpdir, const char *path,
                                            gf_xsort **out)
{
    return gf_xsort_create(ctx, budget, tmpdir, path, GF_TREC_HDR, gf_trec_len, out);
}
/* Next tile record of the sort's pass: GF_OK, GF_DONE or an error. */
static inline gf_status gf_trec_next(gf_xsort *x, gf_ctx *ctx, gf_trec *r)
{
    const uint8_t *p;
    size_t len;
    gf_status st = gf_xsort_next(x, ctx, &p, &len);
    if (st == GF_OK) gf_trec_get(p, r);
    return st;
}

#endif
