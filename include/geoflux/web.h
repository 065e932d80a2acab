/* The map page: MapLibre GL over a PMTiles archive, with its libraries and
 * label glyphs, written next to a publication or served by `geoflux serve`.
 *
 * The page's files are not compiled in: the build puts them in one asset
 * directory (BUILD/share/geoflux/web, installed as PREFIX/share/geoflux/web;
 * cmake/web_assets.cmake) and these functions find it. */
#ifndef GEOFLUX_WEB_H
#define GEOFLUX_WEB_H

#include <stddef.h>

#include "geoflux/ctx.h"
#include "geoflux/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Finds the map page's asset directory and writes its path into out
 * (outsz bytes). Looked for, in this order: $GEOFLUX_WEB when set (and then
 * only there), EXEDIR/../share/geoflux/web (an installed geoflux), the
 * install prefix's share/geoflux/web, the build tree's share/geoflux/web.
 * A directory counts when it holds the whole page (index.html, map.js, the
 * MapLibre GL and pmtiles libraries, the label glyphs).
 * GF_ERR_INPUT when none does, the message naming where it looked and what
 * to install and rebuild; GF_ERR_ARG when outsz is too small. */
gf_status gf_web_assets(gf_ctx *ctx, char *out, size_t outsz);

/* Copies the map page into dir (created if missing, its parent must exist;
 * files already there are replaced, each atomically), configured to open the
 * PMTiles archive at pmtiles_url, a URL relative to the page (for a SITE's
 * SITE/carte/: "../adresses.pmtiles") or absolute; ?pmtiles= in the page's
 * URL still overrides it. The page links to the coverage dashboard when an
 * index.html sits next to the archive.
 * GF_ERR_INPUT when the assets are missing (see gf_web_assets()),
 * GF_ERR_ARG for an empty pmtiles_url or one with control characters,
 * GF_ERR_IO naming the file that could not be written. */
gf_status gf_web_install(gf_ctx *ctx, const char *dir, const char *pmtiles_url);

#ifdef __cplusplus
}
#endif
#endif
