/* Private to src/merge/: the per-format merges behind gf_merge_run(). */
#ifndef GF_MERGE_INT_H
#define GF_MERGE_INT_H

#include "geoflux/merge.h"

/* Inputs are checked (exist, readable, same kind), the output is checked
 * (not an input, absent unless overwrite, its folder writable). */
gf_status gf_merge_tiles(gf_ctx *ctx, const gf_merge_opts *o, int pmtiles, gf_merge_stats *stats);
gf_status gf_merge_gpkg(gf_ctx *ctx, const gf_merge_opts *o, gf_merge_stats *stats);
gf_status gf_merge_reports(gf_ctx *ctx, const gf_merge_opts *o, gf_merge_stats *stats);

#endif
