#!/usr/bin/env bash
# Copies the map page and its libraries (MapLibre GL and pmtiles, from the
# npm packages of web/package.json, installed by `tools/setup.sh demo` or
# `tools/setup.sh test`) into DIR, next to the .pmtiles the page opens: the
# page then needs no network. Serve DIR with a server that answers HTTP Range
# requests (node tests/js/serve.mjs DIR PORT); from one that does not
# (python3 -m http.server) the page loads small archives whole, and says so.
# Usage: web/install.sh DIR
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
D=${1:?usage: web/install.sh DIR}
# web/node_modules (the page's own packages); tests/js pins the same versions
for NM in "$SRC/web/node_modules" "$SRC/tests/js/node_modules" ""; do
  [ -n "$NM" ] || { echo "web/install.sh: MapLibre GL and pmtiles missing: run tools/setup.sh demo" >&2; exit 2; }
  [ -f "$NM/maplibre-gl/dist/maplibre-gl.js" ] && [ -f "$NM/maplibre-gl/dist/maplibre-gl.css" ] \
    && [ -f "$NM/pmtiles/dist/pmtiles.js" ] && break
done
mkdir -p "$D/vendor"
cp "$SRC/web/index.html" "$SRC/web/map.js" "$D/"
cp "$NM/maplibre-gl/dist/maplibre-gl.js" "$NM/maplibre-gl/dist/maplibre-gl.css" "$NM/pmtiles/dist/pmtiles.js" "$D/vendor/"
