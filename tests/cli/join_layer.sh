#!/usr/bin/env bash
# The join's statistics as the `communes` layer of GeoPackage and tile
# outputs, handed to the writers in memory (no GeoJSON written and re-read):
#  - with --stats FILE.geojson the run succeeds (before, the writers opened
#    the --stats file, which is only renamed into place after they finish:
#    "cannot open layer 'communes'"), and the layer agrees with that file;
#  - with an output CRS that has no EPSG code the polygons stay in it
#    (before, the GeoJSON copy lost its CRS and the GeoPackage "reprojected"
#    metres as degrees: "<temporary name>: feature 0: cannot reproject");
#  - certified_share is a REAL column even when no row has a
#    certification_commune (before: TEXT, the type GDAL guessed from nulls);
#  - nothing but the outputs is left next to them.
# usage: bash join_layer.sh GEOFLUX SRCDIR OUTDIR
set -euo pipefail
GF=$1 SRC=$2 OUT=$3
rm -rf "$OUT"; mkdir -p "$OUT"
B35=$SRC/data/samples/boundaries/communes-35-ille-et-vilaine.geojson
B54=$SRC/data/samples/boundaries/communes-54-meurthe-et-moselle.geojson
BAL=$SRC/data/samples/bal/bal_35047_v1.3.csv
BAN=$SRC/data/samples/ban/adresses-54.csv.gz
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v ogrinfo >/dev/null || { echo "SKIPPED: ogrinfo missing"; exit 77; }

# 1. --stats .geojson next to a GeoPackage and a PMTiles output
mkdir -p "$OUT/a"
"$GF" convert "$BAL" -o "$OUT/a/out.gpkg" --communes "$B35" --stats "$OUT/a/st.geojson" -q -j 2 \
  || fail "gpkg with --stats .geojson"
"$GF" tiles "$BAL" -o "$OUT/a/out.pmtiles" --communes "$B35" --stats "$OUT/a/st2.geojson" -q -j 2 \
  || fail "pmtiles with --stats .geojson"
n_file=$(ogrinfo -ro -so "$OUT/a/st.geojson" communes | sed -n 's/^Feature Count: //p')
n_gpkg=$(ogrinfo -ro -so "$OUT/a/out.gpkg" communes | sed -n 's/^Feature Count: //p')
[ -n "$n_file" ] && [ "$n_file" = "$n_gpkg" ] || fail "communes layer: $n_gpkg features, --stats: $n_file"
# the same numbers, row for row
# (values only: GDAL reads GeoJSON integers as Integer, GeoPackage ones as Integer64)
ogrinfo -ro -al -q "$OUT/a/st.geojson" communes | grep -E '^  (code|addresses|streets) ' | sed 's/ (.*) = / = /' > "$OUT/f.txt"
ogrinfo -ro -al -q "$OUT/a/out.gpkg" communes | grep -E '^  (code|addresses|streets) ' | sed 's/ (.*) = / = /' > "$OUT/g.txt"
cmp -s "$OUT/f.txt" "$OUT/g.txt" || fail "the GeoPackage's communes differ from --stats"
ls -A "$OUT/a" | sort | tr '\n' ' ' > "$OUT/a.ls"
[ "$(cat "$OUT/a.ls")" = "out.gpkg out.pmtiles st.geojson st2.geojson " ] || fail "left next to the outputs: $(cat "$OUT/a.ls")"

# 2. an output CRS without an EPSG code (Lambert-93 as a PROJ string)
L93="+proj=lcc +lat_0=46.5 +lon_0=3 +lat_1=49 +lat_2=44 +x_0=700000 +y_0=6600000 +ellps=GRS80 +units=m +no_defs"
"$GF" convert "$BAL" -o "$OUT/l93.gpkg" --communes "$B35" --t-srs "$L93" -q -j 2 2> "$OUT/l93.err" \
  || fail "gpkg in a CRS without EPSG code: $(cat "$OUT/l93.err")"
ext=$(ogrinfo -ro -so "$OUT/l93.gpkg" communes | sed -n 's/^Extent: //p')
# Bruz and its neighbours: x around 340 km, y around 6.78e6 m in Lambert-93
echo "$ext" | grep -Eq '^\(3[0-9]{5}\.[0-9]+, 67[0-9]{5}\.[0-9]+\)' || fail "communes not in Lambert-93 metres: $ext"

# 3. certified_share is a number whatever the rows
"$GF" convert "$BAN" -o "$OUT/ban.gpkg" --communes "$B54" -q -j 2
ogrinfo -ro -so "$OUT/ban.gpkg" communes | grep -q '^certified_share: Real' \
  || fail "certified_share: $(ogrinfo -ro -so "$OUT/ban.gpkg" communes | grep certified_share)"
echo "join_layer: ok"
