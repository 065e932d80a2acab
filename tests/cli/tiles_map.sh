#!/usr/bin/env bash
# The map page (web/) in a real browser: geoflux writes adresses.pmtiles
# (BAL samples), web/install.sh puts the page and MapLibre GL next to it, a
# local range-capable server (tests/js/serve.mjs, 127.0.0.1 only, stops by
# itself) serves it, and headless Chromium (Debian package, software WebGL)
# loads it through playwright-core; the page writes MapLibre's
# queryRenderedFeatures() count into the DOM, which must be > 0, for the
# BAL samples and for a Haute-Garonne extract with the communes polygons. Skips with a message when chromium, node or
# the npm packages are missing (SKIPPED, exit 77: ctest reports it skipped).
# Usage: tiles_map.sh GEOFLUX SRCDIR OUTDIR
set -u
GF=$1; SRC=$2; OUT=$3
rm -rf "$OUT"; mkdir -p "$OUT/site"
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then echo "SKIPPED: chromium is not installed (apt-get install chromium; listed in tools/extra-packages.txt)"; exit 77; fi
if ! command -v node >/dev/null || [ ! -f "$SRC/tests/js/node_modules/maplibre-gl/dist/maplibre-gl.js" ] || [ ! -d "$SRC/tests/js/node_modules/playwright-core" ]; then
  echo "SKIPPED: node or tests/js/node_modules/{maplibre-gl,playwright-core} missing (tools/setup.sh test)"; exit 77
fi
fails=0
"$GF" convert "$SRC"/data/samples/bal/*.csv -o "$OUT/site/adresses.pmtiles" -q || { echo "FAIL: convert"; exit 1; }
python3 "$SRC/bench/gen_extract.py" --rows 3000 -o "$OUT/s31.csv" >/dev/null
"$GF" convert "$OUT/s31.csv" --communes "$SRC/data/samples/boundaries/communes-31-haute-garonne.geojson" \
  -o "$OUT/site/s31.pmtiles" -q --maxzoom 12 || { echo "FAIL: convert with --communes"; exit 1; }
bash "$SRC/web/install.sh" "$OUT/site" || { echo "FAIL: web/install.sh"; exit 1; }
PORT=$((20000 + RANDOM % 20000))
node "$SRC/tests/js/serve.mjs" "$OUT/site" "$PORT" 360 > "$OUT/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 50); do grep -q serving "$OUT/server.log" && break; sleep 0.1; done
# playwright-core drives Debian's chromium and waits in real time (a
# --dump-dom with a virtual time budget gave up on loaded machines)
for f in adresses s31; do
  timeout 150 node "$SRC/tests/js/map_check.mjs" "$CHROME" "http://127.0.0.1:$PORT/index.html?pmtiles=$f.pmtiles" \
    "$OUT/$f.png" 100 > "$OUT/$f.json" 2>"$OUT/$f.err"
  rc=$?
  if [ $rc -eq 0 ]; then echo "map page $f.pmtiles: $(cat "$OUT/$f.json") (screenshot $OUT/$f.png)"
  else echo "FAIL: map page $f.pmtiles: $(cat "$OUT/$f.json") $(tail -3 "$OUT/$f.err")"; fails=$((fails+1)); fi
done
# the communes polygons are drawn too
grep -q '"polygons":"[1-9]' "$OUT/s31.json" || { echo "FAIL: no commune polygon rendered"; fails=$((fails+1)); }
kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null
echo "tiles_map: $((3 - fails)) passed, $fails failed"
[ $fails -eq 0 ]
