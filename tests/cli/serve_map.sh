#!/usr/bin/env bash
# The map page of `geoflux serve`, end to end: `geoflux publish` makes a
# SITE from sample BAL files (Bruz and Corps-Nuds, with the Ille-et-Vilaine
# commune boundaries), `geoflux serve SITE --port 0` serves it, and:
#  - with curl: / redirects to the map (/carte/, opening ../adresses.pmtiles),
#    the SITE's dashboard stays at /index.html and links to the map, the
#    page's libraries and glyphs are served, the page's private copy is
#    removed at SIGTERM; `serve ARCHIVE` gets the map of that archive; with
#    the assets missing serve says so and still serves the rest;
#  - the page's style (web/style.js, tests/js/style_check.mjs) for every
#    subset of the layers convert and publish write passes MapLibre's
#    style validator and draws exactly the layers present;
#  - in headless Chromium (tests/js/serve_map_check.mjs, playwright-core):
#    the communes are drawn with their names (labels placed by MapLibre with
#    our glyphs), the addresses too, a legend; an address typed in the search
#    box moves the map to it; a click on a point opens a popup with its
#    attributes; no request leaves the machine. Screenshots in OUTDIR.
. "$(dirname "$0")/lib.sh" "$@"
S=$SRC/data/samples
W=$OUT/work
mkdir -p "$W/src/bruz" "$W/src/corps-nuds" "$OUT/tmp"
cp "$S/bal/bal_35047_v1.3.csv" "$W/src/bruz/bal.csv"
cp "$S/bal/bal_simple_v1.3.csv" "$W/src/corps-nuds/bal.csv"
printf '35047\n35088\n35001\n' > "$W/perimeter.txt"
(cd "$W" && SOURCE_DATE_EPOCH=1764547200 "$GF" publish src --store store.db -o site --perimeter perimeter.txt \
  --communes "$S/boundaries/communes-35-ille-et-vilaine.geojson" -q) > "$OUT/publish.out" 2>&1; rc=$?
ok '[ $rc -eq 0 ] && [ -s "$W/site/adresses.pmtiles" ] && [ -s "$W/site/index.html" ]' "publish: the SITE written (exit $rc: $(tail -2 "$OUT/publish.out"))"

if command -v node >/dev/null && [ -d "$SRC/tests/js/node_modules/@maplibre/maplibre-gl-style-spec" ]; then
  (cd "$SRC/tests/js" && node style_check.mjs "$SRC") >"$OUT/style.json" 2>&1; rc=$?
  ok '[ $rc -eq 0 ]' "the style of every subset of layers is valid and draws what is there: $(cut -c1-400 "$OUT/style.json")"
else
  echo "SKIPPED: the style check (node or the npm style-spec missing: tools/setup.sh test)"
fi

pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null' EXIT
start() {
  local log=$1; shift
  "$GF" serve --port 0 --tmpdir "$OUT/tmp" "$@" >"$log.out" 2>"$log.err" &
  PID=$!; pids+=("$PID")
  for _ in $(seq 1 600); do
    grep -q 'serving on' "$log.out" 2>/dev/null && break
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
  done
  B=$(sed -n 's|^geoflux: serving on \(http://[^ ]*\)/$|\1|p' "$log.out")
}
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

start "$OUT/s1" "$W/site" -q
ok '[ -n "$B" ]' "serve SITE: listening ($(cat "$OUT/s1.err"))"
curl -s -D "$OUT/root.h" -o /dev/null "$B/"
ok 'grep -q "^HTTP/1.1 302" "$OUT/root.h" && grep -qi "^location: /carte/" "$OUT/root.h"' "/ redirects to the map, /carte/"
curl -s "$B/carte/" > "$OUT/carte.html"
ok 'grep -q "<meta name=\"geoflux-pmtiles\" content=\"../adresses.pmtiles\">" "$OUT/carte.html"' "/carte/ is the map page, opening ../adresses.pmtiles"
ok 'curl -s "$B/index.html" | grep -q "Couverture des adresses"' "the SITE's dashboard stays at /index.html"
ok 'curl -s "$B/index.html" | grep -q "href=\"carte/\""' "the dashboard links to the map"
for f in style.js map.js vendor/maplibre-gl.js vendor/maplibre-gl.css vendor/pmtiles.js glyphs/dejavu-sans-bold/0-255.pbf glyphs/dejavu-sans-bold/8192-8447.pbf; do
  ok '[ "$(code "$B/carte/$f")" = 200 ]' "/carte/$f served"
done
ok '[ "$(code -H "Range: bytes=0-126" "$B/adresses.pmtiles")" = 206 ]' "the archive, with Range requests"
ok '[ -s "$W/site/carte/index.html" ] && [ $(ls "$OUT/tmp" | grep -c "^geoflux-map-") -eq 0 ]' "a SITE's own carte/ (written by publish) is served: no private copy"

# the page in Chromium
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ] || ! command -v node >/dev/null || [ ! -d "$SRC/tests/js/node_modules/playwright-core" ]; then
  echo "SKIPPED: the map in Chromium (chromium, node or playwright-core missing: tools/setup.sh test)"
else
  timeout 300 node "$SRC/tests/js/serve_map_check.mjs" "$CHROME" "$B" "$OUT" "rue des acacias bruz" 120 \
    >"$OUT/check.json" 2>"$OUT/check.err"; rc=$?
  ok '[ $rc -eq 0 ]' "Chromium: communes with names, addresses, search, popup, no foreign request (screenshots in $OUT): $(python3 -c "
import json,sys; d=json.load(open(sys.argv[1])); print('failed:', d['failed'], 'errors:', d['errors'][:3], 'foreign:', d['foreign'][:3])" "$OUT/check.json" 2>&1; tail -2 "$OUT/check.err")"
  ok 'python3 -c "
import json,sys; d=json.load(open(sys.argv[1]))
names=d[\"names\"]; assert \"Bruz\" in names and \"Corps-Nuds\" in names, names
t,lon,lat=d[\"found\"].split(\"|\"); assert \"Rue des Acacias\" in t and abs(float(lon)+1.7454)<0.002 and abs(float(lat)-48.028)<0.002, d[\"found\"]
p=d[\"popup\"][\"properties\"]; assert p[\"commune_insee\"] in (\"35047\",\"35088\") and p[\"cle_interop\"].startswith(p[\"commune_insee\"]), p
" "$OUT/check.json"' "Bruz and Corps-Nuds labelled, the search went to Rue des Acacias, the popup is a published address"
  ok '[ -s "$OUT/overview.png" ] && [ -s "$OUT/search.png" ] && [ -s "$OUT/popup.png" ]' "screenshots kept"
fi
kill -TERM "$PID"; wait "$PID"; rc=$?
ok '[ $rc -eq 0 ] && [ $(ls "$OUT/tmp" | grep -c "^geoflux-map-") -eq 0 ]' "SIGTERM: exit 0, the page's copy removed (exit $rc)"

# serve ARCHIVE: the map of that archive
cp "$W/site/adresses.pmtiles" "$OUT/bruz.pmtiles"
start "$OUT/s2" "$OUT/bruz.pmtiles" -q
ok 'curl -s "$B/carte/" | grep -q "content=\"../bruz.pmtiles\"" && [ "$(code "$B/")" = 302 ]' "serve ARCHIVE: /carte/ opens ../bruz.pmtiles"
ok '[ "$(code "$B/index.html")" = 404 ]' "serve ARCHIVE: no dashboard"
ok '[ $(ls "$OUT/tmp" | grep -c "^geoflux-map-") -eq 1 ]' "serve ARCHIVE: the page's private copy is under --tmpdir"
kill -TERM "$PID"; wait "$PID"

# the assets missing: serve says what to do, and serves the rest
GEOFLUX_WEB=$OUT/nowhere start "$OUT/s3" "$OUT/bruz.pmtiles"
ok 'grep -q "warning: no map page: .*nowhere.*tools/setup.sh" "$OUT/s3.err"' "missing assets: a warning naming where and what to run ($(cat "$OUT/s3.err"))"
ok '[ "$(code "$B/carte/")" = 404 ] && [ "$(code "$B/tiles/bruz.json")" = 200 ]' "missing assets: no /carte/, the tiles still served"
kill -TERM "$PID"; wait "$PID"
# a SITE published without the page's files: / is its dashboard, no /carte/
cp -r "$W/site" "$OUT/nomap" && rm -rf "$OUT/nomap/carte"
GEOFLUX_WEB=$OUT/nowhere start "$OUT/s4" "$OUT/nomap"
ok '[ "$(code "$B/")" = 200 ] && curl -s "$B/" | grep -q "Couverture des adresses" && [ "$(code "$B/carte/")" = 404 ]' "a SITE without carte/ and no assets: / is its dashboard, no /carte/"
kill -TERM "$PID"; wait "$PID"
gf_test_end
