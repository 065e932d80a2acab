/* Reading tile archives and (de)compressing tiles, in one place for every
 * part that does it: the tiles writer (sink.c) gzips the tiles it makes,
 * geoflux serve (src/serve/archive.c) answers tiles from PMTiles archives,
 * geoflux merge (src/merge/tiles.c) reads archives and writes merged tiles. */
#ifndef GF_TILES_TILEIO_H
#define GF_TILES_TILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "geoflux/ctx.h"
#include "geoflux/status.h"

#define GF_PM_HEADER 127 /* bytes of a PMTiles v3 header */

/* The fields of a PMTiles v3 header that geoflux reads. */
typedef struct gf_pm_header {
    uint64_t root_off, root_len, meta_off, meta_len, leaf_off, leaf_len, data_off, data_len;
    int internal_comp, tile_comp, tile_type; /* compression: 1 none, 2 gzip; type 1: MVT */
    int minzoom, maxzoom;
    double bounds[4]; /* west, south, east, north (degrees) */
    double center[3]; /* lon, lat, zoom */
} gf_pm_header;

/* Reads the header at the start of an archive of size bytes (p holds at
 * least min(size, GF_PM_HEADER) bytes). Returns 0 with *h filled; -1 when
 * it is not a PMTiles v3 archive (shorter than a header, other magic or
 * version); -2 when a section (root, metadata, leaves, data) lies outside
 * the file (overflow-safe). */
int gf_pm_header_read(const uint8_t *p, uint64_t size, gf_pm_header *h);

/* Inflates gzip or zlib bytes into out (replacing its contents), at most
 * max bytes: GF_ERR_PARSE when damaged, truncated or larger, GF_ERR_NOMEM. */
gf_status gf_tile_inflate(const uint8_t *p, size_t n, size_t max, gf_buf *out);

/* Gzips one tile into out (replacing its contents) as every geoflux tile is
 * compressed: level 1 (a third of level 6's time, ~15 % larger), redone at
 * level 9 when the result is near GF_TILES_MAX_BYTES; the same bytes every
 * run. zs: a caller's stream reused across tiles (*zinit 0 the first time:
 * initialised here and set to 1; the caller ends it with deflateEnd()), or
 * NULL for a stream of this call. GF_ERR_NOMEM or GF_ERR_INTERNAL. */
gf_status gf_tile_gzip(z_stream *zs, int *zinit, const uint8_t *raw, size_t n, gf_buf *out);

#endif
