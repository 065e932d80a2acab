#!/usr/bin/env bash
# The map page (web/) in a real browser: geoflux writes adresses.pmtiles
# (BAL samples) and s31.pmtiles (a Haute-Garonne extract with the communes
# polygons), web/install.sh puts the page and its libraries next to them, and
# headless Chromium (Debian package, software WebGL) loads it through
# playwright-core (tests/js/map_check.mjs); the page writes MapLibre's
# queryRenderedFeatures() count into the DOM. Checked:
#  - with a Range-capable server (tests/js/serve.mjs): points (and the
#    communes polygons) render, read with Range requests;
#  - with python3 -m http.server (no Range support): points still render,
#    the page reading the archive whole; and when the archive is over the
#    page's limit (?maxload=1000) the page says why in its panel;
#  - the URL hash: #zoom/lat/lon sets the view, and zooming in changes it.
# Screenshots are kept in OUTDIR. Prints SKIPPED and exits 77 when chromium,
# node or the npm packages are missing.
# Usage: tiles_map.sh GEOFLUX SRCDIR OUTDIR
set -u
GF=$1; SRC=$2; OUT=$3
rm -rf "$OUT"; mkdir -p "$OUT/site"
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then echo "SKIPPED: chromium is not installed (apt-get install chromium; listed in tools/extra-packages.txt)"; exit 77; fi
if ! command -v node >/dev/null || [ ! -d "$SRC/tests/js/node_modules/playwright-core" ] || \
   { [ ! -d "$SRC/web/node_modules/maplibre-gl" ] && [ ! -d "$SRC/tests/js/node_modules/maplibre-gl" ]; }; then
  echo "SKIPPED: node, playwright-core or maplibre-gl missing (tools/setup.sh test installs them)"; exit 77
fi
fails=0; checks=0
"$GF" convert "$SRC"/data/samples/bal/*.csv -o "$OUT/site/adresses.pmtiles" -q || { echo "FAIL: convert"; exit 1; }
python3 "$SRC/tools/gen_extract.py" --rows 3000 -o "$OUT/s31.csv" >/dev/null
"$GF" convert "$OUT/s31.csv" --communes "$SRC/data/samples/boundaries/communes-31-haute-garonne.geojson" \
  -o "$OUT/site/s31.pmtiles" -q --maxzoom 12 || { echo "FAIL: convert with --communes"; exit 1; }
# the page's files as this geoflux was built with them (its build tree)
GEOFLUX_WEB=$(dirname "$GF")/share/geoflux/web bash "$SRC/web/install.sh" "$OUT/site" || { echo "FAIL: web/install.sh"; exit 1; }

# servers on random loopback ports; both stop by themselves (serve.mjs after
# its MAXSECONDS, http.server under timeout) so a test can never leave them
PORT=$((20000 + RANDOM % 20000)); PYPORT=$((PORT + 1))
node "$SRC/tests/js/serve.mjs" "$OUT/site" "$PORT" 600 > "$OUT/server.log" 2>&1 &
SERVER=$!
timeout 600 python3 -m http.server "$PYPORT" --bind 127.0.0.1 --directory "$OUT/site" > "$OUT/pyserver.log" 2>&1 &
PYSERVER=$!
trap 'kill $SERVER $PYSERVER 2>/dev/null; wait 2>/dev/null' EXIT
for _ in $(seq 50); do grep -q serving "$OUT/server.log" && grep -q Serving "$OUT/pyserver.log" && break; sleep 0.1; done

# check NAME URL [map_check options]: the page at URL, summary in OUT/NAME.json
check() {
  local name=$1 url=$2; shift 2
  checks=$((checks+1))
  # playwright-core drives Debian's chromium and waits in real time (a
  # --dump-dom with a virtual time budget gave up on loaded machines)
  timeout 200 node "$SRC/tests/js/map_check.mjs" "$CHROME" "$url" "$OUT/$name.png" 120 "$@" > "$OUT/$name.json" 2>"$OUT/$name.err"
  if [ $? -eq 0 ]; then echo "ok: $name: $(cut -c1-400 "$OUT/$name.json") (screenshot $OUT/$name.png)"; return 0; fi
  echo "FAIL: $name: $(cat "$OUT/$name.json") $(tail -3 "$OUT/$name.err")"; fails=$((fails+1)); return 1
}
# json NAME KEY: one field of a check's summary
json() { python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ''))" "$OUT/$1.json" "$2" 2>/dev/null; }
expect() { checks=$((checks+1)); if eval "$1"; then echo "ok: $2"; else echo "FAIL: $2"; fails=$((fails+1)); fi; }

R=http://127.0.0.1:$PORT; P=http://127.0.0.1:$PYPORT
# 1. Range-capable server: both archives, read with Range requests
for f in adresses s31; do
  check "range-$f" "$R/index.html?pmtiles=$f.pmtiles" && expect '[ "$(json range-$f source)" = range ]' "range-$f: read with Range requests"
done
# the communes polygons are drawn too
expect 'grep -q "\"polygons\":\"[1-9]" "$OUT/range-s31.json"' "s31: commune polygons rendered"

# 2. python3 -m http.server ignores Range: the page reads the archive whole
check python-adresses "$P/index.html?pmtiles=adresses.pmtiles" &&
  expect '[ "$(json python-adresses source)" = memory ]' "python http.server: archive read whole into memory"
expect 'grep -q "GET /adresses.pmtiles HTTP/1.1\" 200" "$OUT/pyserver.log"' "python http.server was the one asked"
# ... and over the page's limit it says so on the page
check python-too-big "$P/index.html?pmtiles=adresses.pmtiles&maxload=1000" --expect-error 'ignores HTTP Range requests.*Range requests'
# a missing archive is an error on the page too, never a blank map
check python-missing "$P/index.html?pmtiles=nope.pmtiles" --expect-error 'nope.pmtiles: HTTP 404'

# 3. the URL hash: it sets the view (Bruz, zoom 13), and follows it
check hash "$R/index.html?pmtiles=adresses.pmtiles#13/48.0283/-1.7455" --zoom-in
expect '[ "$(json hash zoom)" = 13.00 ]' "#13/48.0283/-1.7455 opens at zoom 13 (got $(json hash zoom))"
expect 'case "$(json hash hash_after)" in "#13/"*|"") false ;; "#1"[3-9]*) true ;; *) false ;; esac' \
  "zooming in changes the hash: $(json hash hash) -> $(json hash hash_after)"
# without a hash, the page sets one once the view is placed
expect 'case "$(json range-adresses hash)" in "#"[0-9]*/*/*) true ;; *) false ;; esac' "the hash follows the view: $(json range-adresses hash)"

echo "tiles_map: $((checks - fails)) passed, $fails failed"
[ $fails -eq 0 ]
