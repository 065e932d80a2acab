#!/usr/bin/env bash
# Copies the map page, its libraries (MapLibre GL, pmtiles) and its label
# glyphs into DIR, next to the .pmtiles the page opens: the page then needs
# no network. The files come from the asset directory the build makes
# (BUILD/share/geoflux/web, cmake/web_assets.cmake: the page, the npm
# packages of web/package.json installed by `tools/setup.sh demo`, glyphs
# made with FreeType), taken from $GEOFLUX_WEB, else from the geoflux on the
# PATH (PREFIX/share/geoflux/web), else build/share/geoflux/web of this
# source tree. Serve DIR with a server that answers HTTP Range
# requests (node tests/js/serve.mjs DIR PORT, or `geoflux serve`); from one
# that does not (python3 -m http.server) the page loads small archives
# whole, and says so.
# Usage: web/install.sh DIR
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
D=${1:?usage: web/install.sh DIR}
A=${GEOFLUX_WEB:-}
if [ -z "$A" ]; then
  A=$SRC/build/share/geoflux/web
  if GFB=$(command -v geoflux 2>/dev/null) && [ -f "$(dirname "$GFB")/../share/geoflux/web/index.html" ]; then
    A=$(dirname "$GFB")/../share/geoflux/web
  fi
fi
for f in index.html style.js map.js vendor/maplibre-gl.js vendor/maplibre-gl.css vendor/pmtiles.js; do
  [ -f "$A/$f" ] || { echo "web/install.sh: $A/$f missing: build geoflux (cmake --build build) after tools/setup.sh demo, or set GEOFLUX_WEB to a built share/geoflux/web" >&2; exit 2; }
done
ls "$A"/glyphs/*/0-255.pbf >/dev/null 2>&1 || { echo "web/install.sh: no label glyphs in $A/glyphs: install libfreetype-dev and fonts-dejavu-core (tools/setup.sh build) and build again" >&2; exit 2; }
mkdir -p "$D"
cp -R "$A"/. "$D"/
