#!/usr/bin/env bash
# The main job on the bundled samples: every BAL version and the BAN extract
# in one streaming run, written as GeoJSON and NDJSON (plus whatever other
# outputs the build supports), with the rejects and the counts.
set -euo pipefail
GF=${1:-build/geoflux}
cd "$(dirname "$0")/.."
S=data/samples
mkdir -p out
inputs=("$S"/bal/*.csv "$S"/ban/adresses-54.csv.gz)
echo "== geoflux convert: ${#inputs[@]} BAL/BAN files -> out/adresses.geojson"
"$GF" convert "${inputs[@]}" -o out/adresses.geojson --rejects out/adresses.rejects.csv
echo
echo "== the same stream as newline-delimited GeoJSON in Lambert-93, counts as JSON"
"$GF" convert "${inputs[@]}" -o out/adresses-l93.geojsonl --t-srs EPSG:2154 -q --summary json
for extra in tools/demo.d/*.sh; do
  [ -e "$extra" ] || continue
  echo
  bash "$extra" "$GF"
done
echo
echo "outputs:"
ls -l out/ | sed -n '2,$p'
