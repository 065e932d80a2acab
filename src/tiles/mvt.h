/* Mapbox Vector Tile 2.1 encoder, hand-written rather than protobuf-c:
 * the schema is four small messages, a tile is written once front to back,
 * and a hand-written encoder appends straight into reusable buffers with no
 * allocation per feature (protobuf-c builds a tree of heap structs per
 * feature and packs it afterwards, which costs more than the encoding).
 * One gf_mvt_layer is reused for every tile a worker encodes. */
#ifndef GF_TILES_MVT_H
#define GF_TILES_MVT_H

#include <stddef.h>
#include <stdint.h>

#include "geoflux/pipeline.h"

#define GF_MVT_EXTENT 4096

/* Command integers (MVT 4.3.1): id in the low 3 bits, count above. */
static inline uint32_t gf_mvt_cmd(int id, uint32_t count) { return (uint32_t)(id & 7) | (count << 3); }
enum { GF_MVT_MOVETO = 1, GF_MVT_LINETO = 2, GF_MVT_CLOSEPATH = 7 };
enum { GF_MVT_POINT = 1, GF_MVT_LINESTRING = 2, GF_MVT_POLYGON = 3 };

typedef struct gf_mvt_layer {
    gf_buf feats;    /* encoded Feature messages (field 2 of Layer) */
    gf_buf vals;     /* encoded Value messages, each with its tag and length */
    gf_buf geom;     /* scratch: packed geometry of the current feature */
    uint32_t *vslot; /* open-addressing table of value index + 1 */
    uint32_t *voff, *vlen; /* value i: bytes in vals (the Value body) */
    size_t nvals, vcap, nslots;
    uint32_t nfeatures;
} gf_mvt_layer;

/* Empties the layer for a new tile; keeps allocations. l must be zeroed
 * before first use; gf_mvt_layer_free() frees it. */
void gf_mvt_layer_reset(gf_mvt_layer *l);
void gf_mvt_layer_free(gf_mvt_layer *l);

/* Index of a value in the layer's values table, adding it when new. body is
 * an encoded Value message body (see gf_mvt_value_*). GF_ERR_NOMEM. */
gf_status gf_mvt_value(gf_mvt_layer *l, const uint8_t *body, size_t n, uint32_t *idx);
/* Encoded Value bodies; return their length (out needs 16 bytes, or 10 + n
 * for strings). */
size_t gf_mvt_value_int(int64_t v, uint8_t *out);
size_t gf_mvt_value_double(double v, uint8_t *out);
size_t gf_mvt_value_bool(int v, uint8_t *out);
size_t gf_mvt_value_string_hdr(size_t n, uint8_t *out); /* tag + length; bytes follow */

/* Adds a point feature at tile coordinates (px, py). tags are key/value
 * index pairs (2 * ntags entries). id 0 means no id. */
/* A feature whose geometry is already encoded (packed commands and
 * zigzag deltas, as read from another tile: geoflux merge): an id only
 * when has_id, ntags tag indices (key, value, key, value...). */
gf_status gf_mvt_add_feature(gf_mvt_layer *l, int has_id, uint64_t id, uint32_t type, const uint32_t *tags, size_t ntags,
                             const uint8_t *geom, size_t ngeom);
gf_status gf_mvt_add_point(gf_mvt_layer *l, uint64_t id, int32_t px, int32_t py, const uint32_t *tags, size_t ntags);

/* Adds a polygon feature: nrings rings, ring r has rlen[r] vertices in xy
 * (x0,y0,x1,y1,..., not closed). Rings must already follow the MVT winding
 * rule (exterior clockwise in tile coordinates, i.e. positive area with y
 * down, holes the other way). */
gf_status gf_mvt_add_polygon(gf_mvt_layer *l, uint64_t id, const int32_t *xy, const size_t *rlen, size_t nrings,
                             const uint32_t *tags, size_t ntags);

/* Appends the layer (Tile field 3) with its name and keys to tile. Layers
 * with no feature are skipped (nothing appended). */
gf_status gf_mvt_layer_write(gf_mvt_layer *l, const char *name, const char *const *keys, size_t nkeys, gf_buf *tile);

/* Signed area * 2 of a ring in tile coordinates (y down): > 0 is clockwise
 * on screen, the MVT exterior ring orientation. */
int64_t gf_mvt_ring_area2(const int32_t *xy, size_t n);

#endif
