#!/usr/bin/env bash
# Demo: the samples as vector tiles (out/adresses.pmtiles and .mbtiles; the
# Haute-Garonne synthetic extract with the communes polygon layer as
# out/adresses-31.pmtiles) and the MapLibre map page in out/ that opens
# them. GDAL re-reads the MBTiles. tools/demo.sh says how to serve the page.
set -euo pipefail
GF=${1:-build/geoflux}
cd "$(dirname "$0")/../.."
S=data/samples
mkdir -p out
echo "== geoflux convert: BAL samples -> out/adresses.pmtiles + out/adresses.mbtiles (MVT z0-14)"
"$GF" convert "$S"/bal/*.csv -o out/adresses.pmtiles -v 2>&1 | grep -E "tiles:|read " || true
"$GF" convert "$S"/bal/*.csv -o out/adresses.mbtiles -q
ogrinfo -ro -so out/adresses.mbtiles addresses | grep -E "^(Layer name|Feature Count)" | sed 's/^/  GDAL: /'
if [ -f out/adresses-31-synth.csv ] || python3 tools/gen_extract.py --rows 20000 -o out/adresses-31-synth.csv >/dev/null 2>&1; then
  echo "== 20000 synthetic Haute-Garonne addresses + the communes layer (join statistics) -> out/adresses-31.pmtiles"
  "$GF" convert out/adresses-31-synth.csv --communes "$S/boundaries/communes-31-haute-garonne.geojson" \
    -o out/adresses-31.pmtiles -v 2>&1 | grep -E "tiles:" || true
fi
# the page and its libraries (installed by `tools/setup.sh demo`, which
# `make demo` runs): a missing package fails the demo, never skips the page
echo "== map page: web/install.sh out -> out/index.html + out/vendor/ (MapLibre GL, pmtiles: no network needed)"
GEOFLUX_WEB=$(dirname "$GF")/share/geoflux/web bash web/install.sh out
