#!/usr/bin/env bash
# The main job on the bundled samples: every BAL version and the BAN extract
# in one streaming run, written as GeoJSON and NDJSON (plus whatever other
# outputs the build supports), with the rejects and the counts.
set -euo pipefail
GF=${1:-build/geoflux}
cd "$(dirname "$0")/.."
S=data/samples
# out/ is the demo's: its previous outputs go, so a second run writes afresh
rm -rf out
mkdir -p out
inputs=("$S"/bal/*.csv "$S"/ban/adresses-54.csv.gz)
echo "== geoflux convert: ${#inputs[@]} BAL/BAN files -> out/adresses.geojson"
"$GF" convert "${inputs[@]}" -o out/adresses.geojson --rejects out/adresses.rejects.csv
echo
# the inputs' warnings were shown above: the later runs on them are quiet (-q)
echo "== the same stream as newline-delimited GeoJSON (WGS84, tippecanoe-ready) -> out/adresses.geojsonl, counts as JSON"
"$GF" convert "${inputs[@]}" -o out/adresses.geojsonl -q --summary json
for extra in tools/demo.d/*.sh; do
  [ -e "$extra" ] || continue
  echo
  bash "$extra" "$GF"
done
cat <<EOF

== done: the outputs are in out/ (make clean removes them). To look at them:
  map page   python3 -m http.server 8000 --bind 127.0.0.1 --directory out
             then open http://127.0.0.1:8000/ (BAL samples) or
             http://127.0.0.1:8000/?pmtiles=adresses-31.pmtiles (Haute-Garonne, communes);
             python's server has no Range requests, so the page loads each archive whole;
             node tests/js/serve.mjs out 8000 3600 serves them by range (stops after an hour)
  QGIS       out/adresses.gpkg (addresses, rejects, ban_54), out/bruz-run.gpkg (a whole Bruz run),
             out/adresses.fgb; or any .geojson/.geojsonl of out/ (ogrinfo -so -al FILE)
  tiles      out/adresses.pmtiles, out/adresses.mbtiles, out/adresses-31.pmtiles
  geocoding  out/equipements.csv, out/equipements-reverse.csv, index out/adresses.idx
  rejects    out/*rejects.csv (source;line;reason;raw)
  publish    out/publish/site/index.html (the coverage dashboard, opens from disk), report.json,
             bal/, adresses.gpkg, adresses.pmtiles, carte/ (the map); the store out/publish/bal-35.store;
             serve it: $GF serve out/publish/site (its addresses are the geocoding base)
             then http://127.0.0.1:8080/ (the map, with its search box), /index.html (the dashboard),
             /search?q=12+rue+des+acacias+bruz, /tiles/adresses.json
EOF
