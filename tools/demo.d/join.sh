#!/usr/bin/env bash
# Demo: every sample address joined to its commune polygon (Haute-Garonne
# boundaries; the other departments' rows come out as `outside`), with the
# per-commune statistics as GeoJSON (the choropleth layer) and CSV; then the
# real Bruz BAL against the Ille-et-Vilaine communes, where the simplified 2018
# boundaries put a few border addresses in a neighbouring commune (`mismatch`).
set -euo pipefail
GF=${1:-build/geoflux}
cd "$(dirname "$0")/../.."
S=data/samples
mkdir -p out
inputs=("$S"/bal/*.csv "$S"/ban/adresses-54.csv.gz)
echo "== geoflux convert --communes (31) --stats: ${#inputs[@]} files -> out/adresses-communes.geojson"
"$GF" convert "${inputs[@]}" -o out/adresses-communes.geojson --rejects out/adresses-communes.rejects.csv \
  --communes "$S/boundaries/communes-31-haute-garonne.geojson" --stats out/communes-31-stats.geojson -q
grep -o '"join_status": *"[a-z_]*"' out/adresses-communes.geojson | sort | uniq -c
echo "communes with addresses (out/communes-31-stats.geojson):"
ogrinfo -ro -q -al out/communes-31-stats.geojson -where "addresses > 0" | grep -E "^  (code|nom|addresses|streets) " | paste - - - -
echo
echo "== the Bruz BAL (35047) against the Ille-et-Vilaine communes -> out/bruz-communes.geojsonl, stats as CSV"
"$GF" convert "$S/bal/bal_35047_v1.3.csv" -o out/bruz-communes.geojsonl \
  --communes "$S/boundaries/communes-35-ille-et-vilaine.geojson" --stats out/communes-35-stats.csv
grep -o '"commune_geo":"[0-9]*","commune_geo_nom":"[^"]*","join_status":"[a-z]*"' out/bruz-communes.geojsonl | sort | uniq -c
head -1 out/communes-35-stats.csv
awk -F, 'NR > 1 && $3 > 0' out/communes-35-stats.csv
