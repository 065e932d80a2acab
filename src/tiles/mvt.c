/* MVT 2.1 encoder (see mvt.h for why it is hand-written). */
#include <stdlib.h>
#include <string.h>

#include "tiles/mvt.h"
#include "tiles/tilemath.h"

static gf_status put_varint(gf_buf *b, uint64_t v)
{
    gf_status st = gf_buf_reserve(b, 10);
    if (st) return st;
    b->len += gf_varint_put((uint8_t *)b->p + b->len, v);
    return GF_OK;
}

/* length-delimited field: tag, length, bytes */
static gf_status put_bytes(gf_buf *b, int field, const void *p, size_t n)
{
    gf_status st;
    if ((st = put_varint(b, (uint64_t)field << 3 | 2)) || (st = put_varint(b, n))) return st;
    return gf_buf_append(b, p, n);
}

void gf_mvt_layer_reset(gf_mvt_layer *l)
{
    l->feats.len = l->vals.len = l->geom.len = 0;
    if (l->nvals && l->vslot) memset(l->vslot, 0, l->nslots * sizeof *l->vslot);
    l->nvals = 0;
    l->nfeatures = 0;
}

void gf_mvt_layer_free(gf_mvt_layer *l)
{
    if (!l) return;
    gf_buf_free(&l->feats);
    gf_buf_free(&l->vals);
    gf_buf_free(&l->geom);
    free(l->vslot);
    free(l->voff);
    free(l->vlen);
    memset(l, 0, sizeof *l);
}

static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static gf_status grow_values(gf_mvt_layer *l)
{
    size_t ncap = l->vcap ? l->vcap * 2 : 256;
    uint32_t *o = realloc(l->voff, ncap * sizeof *o);
    if (!o) return GF_ERR_NOMEM;
    l->voff = o;
    uint32_t *n = realloc(l->vlen, ncap * sizeof *n);
    if (!n) return GF_ERR_NOMEM;
    l->vlen = n;
    l->vcap = ncap;
    /* table at most half full */
    size_t nslots = ncap * 2;
    uint32_t *s = calloc(nslots, sizeof *s);
    if (!s) return GF_ERR_NOMEM;
    for (size_t i = 0; i < l->nvals; i++) {
        uint64_t h = hash_bytes((const uint8_t *)l->vals.p + l->voff[i], l->vlen[i]);
        size_t j = h & (nslots - 1);
        while (s[j]) j = (j + 1) & (nslots - 1);
        s[j] = (uint32_t)i + 1;
    }
    free(l->vslot);
    l->vslot = s;
    l->nslots = nslots;
    return GF_OK;
}

gf_status gf_mvt_value(gf_mvt_layer *l, const uint8_t *body, size_t n, uint32_t *idx)
{
    gf_status st;
    if (l->nvals + 1 > l->vcap && (st = grow_values(l))) return st;
    uint64_t h = hash_bytes(body, n);
    size_t j = h & (l->nslots - 1);
    while (l->vslot[j]) {
        uint32_t i = l->vslot[j] - 1;
        if (l->vlen[i] == n && memcmp(l->vals.p + l->voff[i], body, n) == 0) { *idx = i; return GF_OK; }
        j = (j + 1) & (l->nslots - 1);
    }
    if ((st = gf_buf_append(&l->vals, body, n))) return st;
    l->voff[l->nvals] = (uint32_t)(l->vals.len - n);
    l->vlen[l->nvals] = (uint32_t)n;
    l->vslot[j] = (uint32_t)l->nvals + 1;
    *idx = (uint32_t)l->nvals++;
    return GF_OK;
}

size_t gf_mvt_value_int(int64_t v, uint8_t *out)
{
    if (v >= 0) { out[0] = 4 << 3; return 1 + gf_varint_put(out + 1, (uint64_t)v); }  /* int_value */
    out[0] = 6 << 3;                                                                 /* sint_value */
    return 1 + gf_varint_put(out + 1, gf_zigzag64(v));
}

size_t gf_mvt_value_double(double v, uint8_t *out)
{
    out[0] = 3 << 3 | 1; /* double_value, fixed64 little-endian */
    uint64_t u;
    memcpy(&u, &v, 8);
    for (int i = 0; i < 8; i++) out[1 + i] = (uint8_t)(u >> (8 * i));
    return 9;
}

size_t gf_mvt_value_bool(int v, uint8_t *out)
{
    out[0] = 7 << 3;
    out[1] = v ? 1 : 0;
    return 2;
}

size_t gf_mvt_value_string_hdr(size_t n, uint8_t *out)
{
    out[0] = 1 << 3 | 2;
    return 1 + gf_varint_put(out + 1, n);
}

/* Feature: id (1), tags (2, packed), type (3), geometry (4, packed). */
gf_status gf_mvt_add_feature(gf_mvt_layer *l, int has_id, uint64_t id, uint32_t type, const uint32_t *tags, size_t ntags,
                             const uint8_t *geom, size_t ngeom)
{
    gf_status st;
    size_t tl = 0;
    for (size_t i = 0; i < ntags; i++) tl += gf_varint_bytes(tags[i]);
    size_t flen = (has_id ? 1 + gf_varint_bytes(id) : 0) + (ntags ? 1 + gf_varint_bytes(tl) + tl : 0) + 1 +
                  gf_varint_bytes(type) + 1 + gf_varint_bytes(ngeom) + ngeom;
    if ((st = gf_buf_reserve(&l->feats, flen + 12))) return st;
    uint8_t *w = (uint8_t *)l->feats.p + l->feats.len, *w0 = w;
    *w++ = 2 << 3 | 2;
    w += gf_varint_put(w, flen);
    if (has_id) { *w++ = 1 << 3; w += gf_varint_put(w, id); }
    if (ntags) {
        *w++ = 2 << 3 | 2;
        w += gf_varint_put(w, tl);
        for (size_t i = 0; i < ntags; i++) w += gf_varint_put(w, tags[i]);
    }
    *w++ = 3 << 3;
    w += gf_varint_put(w, type);
    *w++ = 4 << 3 | 2;
    w += gf_varint_put(w, ngeom);
    if (ngeom) memcpy(w, geom, ngeom);
    w += ngeom;
    l->feats.len += (size_t)(w - w0);
    l->nfeatures++;
    return GF_OK;
}

/* a feature of this encoder: id 0 means none, tags in key/value pairs,
 * its geometry in l->geom */
static gf_status put_feature(gf_mvt_layer *l, uint64_t id, int type, const uint32_t *tags, size_t ntags)
{
    return gf_mvt_add_feature(l, id != 0, id, (uint32_t)type, tags, 2 * ntags, (const uint8_t *)l->geom.p, l->geom.len);
}

gf_status gf_mvt_add_point(gf_mvt_layer *l, uint64_t id, int32_t px, int32_t py, const uint32_t *tags, size_t ntags)
{
    gf_status st;
    l->geom.len = 0;
    if ((st = gf_buf_reserve(&l->geom, 16))) return st;
    uint8_t *w = (uint8_t *)l->geom.p;
    size_t n = gf_varint_put(w, gf_mvt_cmd(GF_MVT_MOVETO, 1));
    n += gf_varint_put(w + n, gf_zigzag32(px));
    n += gf_varint_put(w + n, gf_zigzag32(py));
    l->geom.len = n;
    return put_feature(l, id, GF_MVT_POINT, tags, ntags);
}

int64_t gf_mvt_ring_area2(const int32_t *xy, size_t n)
{
    int64_t a = 0;
    for (size_t i = 0, j = n - 1; i < n; j = i++)
        a += (int64_t)xy[2 * j] * xy[2 * i + 1] - (int64_t)xy[2 * i] * xy[2 * j + 1];
    return a;
}

gf_status gf_mvt_add_polygon(gf_mvt_layer *l, uint64_t id, const int32_t *xy, const size_t *rlen, size_t nrings,
                             const uint32_t *tags, size_t ntags)
{
    gf_status st;
    int32_t cx = 0, cy = 0;
    l->geom.len = 0;
    for (size_t r = 0; r < nrings; r++) {
        size_t n = rlen[r];
        if (n < 3) { xy += 2 * n; continue; }
        if ((st = gf_buf_reserve(&l->geom, 30 + n * 10))) return st;
        uint8_t *w = (uint8_t *)l->geom.p + l->geom.len, *w0 = w;
        w += gf_varint_put(w, gf_mvt_cmd(GF_MVT_MOVETO, 1));
        w += gf_varint_put(w, gf_zigzag32(xy[0] - cx));
        w += gf_varint_put(w, gf_zigzag32(xy[1] - cy));
        cx = xy[0];
        cy = xy[1];
        w += gf_varint_put(w, gf_mvt_cmd(GF_MVT_LINETO, (uint32_t)(n - 1)));
        for (size_t i = 1; i < n; i++) {
            w += gf_varint_put(w, gf_zigzag32(xy[2 * i] - cx));
            w += gf_varint_put(w, gf_zigzag32(xy[2 * i + 1] - cy));
            cx = xy[2 * i];
            cy = xy[2 * i + 1];
        }
        w += gf_varint_put(w, gf_mvt_cmd(GF_MVT_CLOSEPATH, 1));
        l->geom.len += (size_t)(w - w0);
        xy += 2 * n;
    }
    if (!l->geom.len) return GF_OK;
    return put_feature(l, id, GF_MVT_POLYGON, tags, ntags);
}

gf_status gf_mvt_layer_write(gf_mvt_layer *l, const char *name, const char *const *keys, size_t nkeys, gf_buf *tile)
{
    if (!l->nfeatures) return GF_OK;
    gf_status st;
    size_t nl = strlen(name);
    uint8_t tmp[16];
    size_t body = 1 + gf_varint_put(tmp, nl) + nl + l->feats.len;
    for (size_t k = 0; k < nkeys; k++) {
        size_t kl = strlen(keys[k]);
        body += 1 + gf_varint_put(tmp, kl) + kl;
    }
    for (size_t i = 0; i < l->nvals; i++) body += 1 + gf_varint_put(tmp, l->vlen[i]) + l->vlen[i];
    body += 1 + gf_varint_put(tmp, GF_MVT_EXTENT) + 2; /* extent, version */
    if ((st = put_varint(tile, 3 << 3 | 2)) || (st = put_varint(tile, body))) return st;
    size_t start = tile->len;
    if ((st = put_bytes(tile, 1, name, nl))) return st;
    if ((st = gf_buf_append(tile, l->feats.p, l->feats.len))) return st;
    for (size_t k = 0; k < nkeys; k++)
        if ((st = put_bytes(tile, 3, keys[k], strlen(keys[k])))) return st;
    for (size_t i = 0; i < l->nvals; i++)
        if ((st = put_bytes(tile, 4, l->vals.p + l->voff[i], l->vlen[i]))) return st;
    if ((st = put_varint(tile, 5 << 3)) || (st = put_varint(tile, GF_MVT_EXTENT))) return st;
    if ((st = put_varint(tile, 15 << 3)) || (st = put_varint(tile, 2))) return st;
    if (tile->len - start != body) return GF_ERR_INTERNAL;
    return GF_OK;
}
