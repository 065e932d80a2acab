#!/usr/bin/env bash
# Copies the map page and its libraries (MapLibre GL and pmtiles, from the
# npm packages in tests/js/node_modules) into DIR, next to the .pmtiles the
# page opens. Serve DIR with a server that answers HTTP range requests
# (node tests/js/serve.mjs DIR PORT), then open http://127.0.0.1:PORT/.
# Usage: web/install.sh DIR
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
D=${1:?usage: web/install.sh DIR}
NM=$SRC/tests/js/node_modules
for f in "$NM/maplibre-gl/dist/maplibre-gl.js" "$NM/maplibre-gl/dist/maplibre-gl.css" "$NM/pmtiles/dist/pmtiles.js"; do
  [ -f "$f" ] || { echo "web/install.sh: $f missing: run 'npm ci' in tests/js" >&2; exit 2; }
done
mkdir -p "$D/vendor"
cp "$SRC/web/index.html" "$SRC/web/map.js" "$D/"
cp "$NM/maplibre-gl/dist/maplibre-gl.js" "$NM/maplibre-gl/dist/maplibre-gl.css" "$NM/pmtiles/dist/pmtiles.js" "$D/vendor/"
