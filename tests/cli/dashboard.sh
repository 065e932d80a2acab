#!/usr/bin/env bash
# The coverage dashboard of `geoflux publish` in a real browser, opened from
# disk. A fixture SITE (tests/cli/dashboard_site.py: report.json,
# communes.geojson and data.js in the shapes of docs/publish.md, from the
# Haute-Garonne boundaries: a few communes of each status, the rest missing)
# gets index.html and dashboard/ from gf_dashboard_write() (the helper built
# beside geoflux, tests/helpers/dashboard_write.c), and headless Chromium
# (Debian's, driven by playwright-core: tests/js/dashboard_check.mjs) checks
# the map, the table, the commune pages, that no request leaves the SITE and
# that no console error is logged, opened from disk (file://) and from a
# static server (python3 -m http.server). A SITE without data.js must say so.
# Screenshots are kept in OUTDIR. Prints SKIPPED and exits 77 when chromium,
# node or playwright-core are missing.
# Usage: dashboard.sh GEOFLUX SRCDIR OUTDIR
set -u
GF=$1; SRC=$2; OUT=$3
rm -rf "$OUT"; mkdir -p "$OUT"
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then echo "SKIPPED: chromium is not installed (apt-get install chromium; listed in tools/extra-packages.txt)"; exit 77; fi
if ! command -v node >/dev/null || [ ! -d "$SRC/tests/js/node_modules/playwright-core" ]; then
  echo "SKIPPED: node or playwright-core missing (tools/setup.sh test installs them)"; exit 77
fi
WRITE=$(dirname "$GF")/gf_dashboard_write
fails=0; checks=0
expect() { checks=$((checks+1)); if eval "$1"; then echo "ok: $2"; else echo "FAIL: $2"; fails=$((fails+1)); fi; }

python3 "$SRC/tests/cli/dashboard_site.py" "$SRC/data/samples/boundaries/communes-31-haute-garonne.geojson" "$OUT/site" ||
  { echo "FAIL: fixture SITE"; exit 1; }
"$WRITE" "$OUT/site" || { echo "FAIL: gf_dashboard_write"; exit 1; }
expect '[ -f "$OUT/site/index.html" ] && [ -f "$OUT/site/dashboard/dashboard.js" ] && [ -f "$OUT/site/dashboard/dashboard.css" ]' \
  "gf_dashboard_write: index.html and dashboard/"
expect 'cmp -s "$OUT/site/index.html" "$SRC/web/dashboard/index.html" && cmp -s "$OUT/site/dashboard/dashboard.js" "$SRC/web/dashboard/dashboard.js"' \
  "the files written are web/dashboard/'s"

# browser NAME SITE [options]: dashboard_check.mjs on SITE, its output in OUT/NAME.log
browser() {
  local name=$1 site=$2; shift 2
  checks=$((checks+1))
  timeout 300 node "$SRC/tests/js/dashboard_check.mjs" "$CHROME" "$site" "$OUT" 90 "$@" > "$OUT/$name.log" 2>&1
  local rc=$?
  sed "s/^/  $name: /" "$OUT/$name.log"
  if [ $rc -eq 0 ]; then echo "ok: $name"; else echo "FAIL: $name (exit $rc)"; fails=$((fails+1)); fi
}
browser file "$OUT/site"
# the same SITE from a static server (python3 -m http.server): nothing may
# leave it either; the server stops by itself (timeout) if the test is killed
PORT=$((20000 + RANDOM % 20000))
timeout 300 python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$OUT/site" > "$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait 2>/dev/null' EXIT
for _ in $(seq 50); do grep -q Serving "$OUT/server.log" && break; sleep 0.1; done
browser http "$OUT/site" --base "http://127.0.0.1:$PORT/" --name http
kill $SERVER 2>/dev/null
# no data.js: the page says what is missing instead of staying blank
mkdir -p "$OUT/nodata"
"$WRITE" "$OUT/nodata" || { echo "FAIL: gf_dashboard_write (nodata)"; exit 1; }
browser nodata "$OUT/nodata" --no-data
expect '[ -s "$OUT/home.png" ] && [ -s "$OUT/commune.png" ]' "screenshots in $OUT"

echo "dashboard: $((checks - fails)) passed, $fails failed"
[ $fails -eq 0 ]
