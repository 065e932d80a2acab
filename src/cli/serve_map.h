/* The map page `geoflux serve` shows at /carte/ (src/cli/serve_map.c). */
#ifndef GF_CLI_SERVE_MAP_H
#define GF_CLI_SERVE_MAP_H

#include <stddef.h>

#include "geoflux/ctx.h"
#include "geoflux/status.h"

/* Writes the map page (gf_web_install()) into ROOT/carte/, ROOT a new
 * private directory under tmpdir (NULL: $TMPDIR, else /tmp), opening the
 * served archive NAME.pmtiles ("../NAME.pmtiles" from the page). ROOT goes
 * into root (rootsz bytes), a directory to serve; the caller removes it
 * with gf_cli_serve_map_remove(). On failure nothing is left and ctx says
 * why (the assets missing: what to install). */
gf_status gf_cli_serve_map(gf_ctx *ctx, const char *tmpdir, const char *name, char *root, size_t rootsz);
/* Removes ROOT and everything in it; "" is a no-op. */
void gf_cli_serve_map_remove(const char *root);

#endif
