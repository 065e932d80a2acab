/* Hilbert curve keys, the one implementation: the tile writers (point keys
 * at 2^32 resolution, PMTiles tile ids) and the GeoPackage R-tree bulk
 * load (box centres) all order along this curve. Internal header. */
#ifndef GF_CORE_HILBERT_H
#define GF_CORE_HILBERT_H

#include <stdint.h>

/* Position of (x, y) along the Hilbert curve of a 2^order x 2^order grid,
 * 1 <= order <= 32 (x and y below 2^order), in [0, 4^order); order 0
 * gives 0. Same orientation as the PMTiles reference implementation: the
 * classic rotate-and-flip walk, so that the index of a cell at order k is
 * the top 2k bits of the index of any point inside it at order 32.
 * Thread-safe, no allocation. */
uint64_t gf_hilbert_xy2d(int order, uint32_t x, uint32_t y);

/* Inverse of gf_hilbert_xy2d: the cell at position d (below 4^order) of
 * the curve of order 0..32. */
void gf_hilbert_d2xy(int order, uint64_t d, uint32_t *x, uint32_t *y);

#endif
