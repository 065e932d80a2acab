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
 * compressed: libdeflate level 1 (the MVT of the 1M-row publication, 211 MB:
 * 1.17 s against zlib level 1's 2.67 s, and 2 % smaller), redone at level 6
 * when the result is near GF_TILES_MAX_BYTES (from 3/4 to 4/3 of it: past
 * that, no level brings it under); the same bytes every run (no
 * time stamp in the gzip header). c: a caller's compressor reused across
 * tiles (*c NULL the first time: allocated here; the caller frees it with
 * gf_tile_gzip_free()), or NULL for one of this call. GF_ERR_NOMEM or
 * GF_ERR_INTERNAL. */
struct libdeflate_compressor;
gf_status gf_tile_gzip(struct libdeflate_compressor **c, const uint8_t *raw, size_t n, gf_buf *out);
void gf_tile_gzip_free(struct libdeflate_compressor *c);

#endif
