#!/usr/bin/env bash
# Vector tiles (PMTiles v3 and MBTiles) written by `geoflux convert`, read
# back by readers we did not write: the npm packages pmtiles,
# @mapbox/vector-tile and pbf (tests/js/tiles_check.mjs: every positioned
# row in exactly one tile at maxzoom with its attributes, stored tiles under
# 500 KB, thinning monotone, polygons of the communes layer), GDAL's MBTiles
# driver (ogrinfo) and sqlite3; plus byte-identical outputs whatever
# --threads and --max-memory (external sort with spilled runs).
# Usage: tiles.sh GEOFLUX SRCDIR OUTDIR
set -u
GF=$1; SRC=$2; OUT=$3
rm -rf "$OUT"; mkdir -p "$OUT"
fails=0; checks=0
ok() { checks=$((checks+1)); if eval "$1"; then :; else fails=$((fails+1)); echo "FAIL: $2" >&2; fi; }
S=$SRC/data/samples
CHECK=$SRC/tests/js/tiles_check.mjs
have_node=0
if command -v node >/dev/null 2>&1 && [ -d "$SRC/tests/js/node_modules/pmtiles" ]; then have_node=1
else echo "node or tests/js/node_modules missing: the JavaScript decoders cannot run (tools/setup.sh test)"; fi

# 1. BAL samples: PMTiles + MBTiles + the same rows as GeoJSON lines
"$GF" convert "$S"/bal/*.csv -o "$OUT/a.pmtiles" -q -j 2 2>"$OUT/err1"; rc=$?; ok "[ $rc -eq 0 ]" "convert to pmtiles: $(cat "$OUT/err1")"
"$GF" convert "$S"/bal/*.csv -o "$OUT/a.mbtiles" -q -j 2; rc=$?; ok "[ $rc -eq 0 ]" "convert to mbtiles"
"$GF" convert "$S"/bal/*.csv -o "$OUT/a.geojsonl" -q; rc=$?; ok "[ $rc -eq 0 ]" "convert to geojsonl"
NPOS=$(grep -c '"geometry":{' "$OUT/a.geojsonl")
ok "[ $NPOS -gt 1000 ]" "sample has positioned rows ($NPOS)"
ok "[ \"\$(head -c 7 $OUT/a.pmtiles)\" = PMTiles ]" "PMTiles magic"
ok "! ls -a $OUT | grep -q 'tmp-\\|geoflux-tiles'" "no temporary file left"
if [ $have_node = 1 ]; then
  node "$CHECK" "$OUT/a.pmtiles" "$OUT/a.geojsonl" addresses > "$OUT/check1.json"; rc=$?
  ok "[ $rc -eq 0 ]" "JS decoders on a.pmtiles: $(cat "$OUT/check1.json")"
fi

# 2. GDAL's MBTiles/MVT driver: all points at maxzoom, metadata
FC=$(ogrinfo -ro -so "$OUT/a.mbtiles" addresses 2>/dev/null | sed -n 's/^Feature Count: //p')
ok "[ \"$FC\" = \"$NPOS\" ]" "GDAL reads $FC features from the MBTiles, expected $NPOS"
ok "ogrinfo -ro -so $OUT/a.mbtiles 2>/dev/null | grep -q 'format=pbf'" "MBTiles metadata format=pbf"
ok "ogrinfo -ro $OUT/a.mbtiles addresses -where \"numero = 1\" 2>/dev/null | grep -q 'voie_nom (String)'" "GDAL sees typed attributes"
if command -v sqlite3 >/dev/null 2>&1; then
  ok "[ \$(sqlite3 $OUT/a.mbtiles 'select count(*) from tiles') -eq \$(sqlite3 $OUT/a.mbtiles 'select count(*) from map') ]" "tiles view joins every map row"
  ok "[ \$(sqlite3 $OUT/a.mbtiles \"select count(*) from metadata where name='json' and value like '%vector_layers%'\") -eq 1 ]" "MBTiles json metadata"
  # TMS rows: the z1 tile of France (x=1, XYZ y=0) is stored as row 1
  ok "[ \$(sqlite3 $OUT/a.mbtiles 'select distinct tile_row from map where zoom_level=1') = 1 ]" "TMS row flip"
fi

# 3. bytes do not depend on --threads or on the sort budget (spilled runs)
"$GF" convert "$S"/bal/*.csv -o "$OUT/a1.pmtiles" -j 1 -v 2>"$OUT/err1"
"$GF" convert "$S"/bal/*.csv -o "$OUT/a3.pmtiles" -q -j 3 --max-memory 100K -v 2>"$OUT/err3"
ok "cmp -s $OUT/a.pmtiles $OUT/a1.pmtiles" "pmtiles -j1 and -j2 differ"
ok "cmp -s $OUT/a.pmtiles $OUT/a3.pmtiles" "pmtiles with --max-memory 100K (spilled runs) differs"
ok "grep -q 'tiles: .* [1-9][0-9]* sorted runs spilled' $OUT/err3" "small budget spilled runs: $(grep 'tiles:' "$OUT/err3")"
# the zooms' rates: from the maxzoom tiles' counts kept at commit, or, when
# the budget cannot hold them (100K), from a pass over the sort: same bytes
ok "grep -q \"rates [0-9.]* from the maxzoom tiles' counts\" $OUT/err1" "default budget: rates from the counts: $(grep 'tiles:' "$OUT/err1")"
ok "grep -q 'rates [0-9.]* from a pass over the sort' $OUT/err3" "100K: rates from a pass over the sort: $(grep 'tiles:' "$OUT/err3")"
"$GF" convert "$S"/bal/*.csv -o "$OUT/a1.mbtiles" -q -j 1
ok "cmp -s $OUT/a.mbtiles $OUT/a1.mbtiles" "mbtiles -j1 and -j2 differ"

# 4. --attributes, zoom range, bad options
"$GF" convert "$S"/bal/*.csv -o "$OUT/b.pmtiles" -q --attributes numero,voie_nom --minzoom 2 --maxzoom 12 --layer adr; rc=$?
ok "[ $rc -eq 0 ]" "convert with --attributes/--minzoom/--maxzoom"
if [ $have_node = 1 ]; then
  node "$CHECK" "$OUT/b.pmtiles" "$OUT/a.geojsonl" adr numero,voie_nom > "$OUT/check2.json"; rc=$?
  ok "[ $rc -eq 0 ]" "JS decoders on b.pmtiles: $(cat "$OUT/check2.json")"
  ok "grep -q '\"maxzoom\":12' $OUT/check2.json" "maxzoom 12 in the header"
fi
"$GF" convert "$S"/bal/*.csv -o "$OUT/c.pmtiles" -q --attributes numero,nope 2>"$OUT/err4"; rc=$?
ok "[ $rc -ne 0 ] && grep -q \"no field 'nope'\" $OUT/err4" "unknown attribute rejected: $(cat "$OUT/err4")"
ok "[ ! -e $OUT/c.pmtiles ]" "no output after a failed run"
"$GF" convert "$S"/bal/*.csv -o "$OUT/c.pmtiles" -q --minzoom 9 --maxzoom 4 2>"$OUT/err5"; rc=$?
ok "[ $rc -ne 0 ] && grep -q 'minzoom' $OUT/err5" "minzoom > maxzoom rejected"

"$GF" convert "$S"/bal/*.csv -o "$OUT/d.pmtiles" -q --tmpdir "$OUT/no/such/dir" 2>"$OUT/err6"; rc=$?
ok "[ $rc -ne 0 ] && grep -q 'scratch' $OUT/err6 && [ ! -e $OUT/d.pmtiles ]" "unusable --tmpdir fails cleanly: $(cat "$OUT/err6")"
"$GF" convert "$S"/bal/*.csv -o "$OUT/d.mbtiles" -q --max-memory lots 2>"$OUT/err7"; rc=$?
ok "[ $rc -eq 2 ]" "bad --max-memory is a usage error"

# 5. polygons: the communes layer from the join, with its statistics
python3 "$SRC/tools/gen_extract.py" --rows 1500 -o "$OUT/s31.csv" >/dev/null
COM=$S/boundaries/communes-31-haute-garonne.geojson
NCOM=$(ogrinfo -ro -so -al "$COM" | sed -n 's/^Feature Count: //p')
"$GF" convert "$OUT/s31.csv" --communes "$COM" -o "$OUT/s31.pmtiles" -q --maxzoom 12; rc=$?
ok "[ $rc -eq 0 ]" "convert with --communes to pmtiles"
"$GF" convert "$OUT/s31.csv" --communes "$COM" -o "$OUT/s31.mbtiles" -q --maxzoom 12
"$GF" convert "$OUT/s31.csv" --communes "$COM" -o "$OUT/s31.geojsonl" -q
if [ $have_node = 1 ]; then
  node "$CHECK" "$OUT/s31.pmtiles" "$OUT/s31.geojsonl" addresses - communes "$NCOM" > "$OUT/check3.json"; rc=$?
  ok "[ $rc -eq 0 ]" "JS decoders on s31.pmtiles with polygons: $(cut -c1-600 "$OUT/check3.json")"
fi
ok "ogrinfo -ro -so $OUT/s31.mbtiles communes 2>/dev/null | grep -q 'Feature Count: [1-9]'" "GDAL reads the communes polygons from the MBTiles"

# 6. `geoflux tiles`: the same job under its own name, tile outputs only
SOURCE_DATE_EPOCH=1 "$GF" tiles "$S"/bal/bal-valid.csv -o "$OUT/t-cmd.pmtiles" -q; rc=$?
SOURCE_DATE_EPOCH=1 "$GF" convert "$S"/bal/bal-valid.csv -o "$OUT/t-conv.pmtiles" -q
ok "[ $rc -eq 0 ] && cmp -s $OUT/t-cmd.pmtiles $OUT/t-conv.pmtiles" "geoflux tiles writes what convert writes"
"$GF" tiles "$S"/bal/bal-valid.csv -o "$OUT/t-cmd.geojson" -q 2>"$OUT/err8"; rc=$?
ok "[ $rc -eq 2 ] && [ ! -e $OUT/t-cmd.geojson ] && grep -q 'pmtiles or .mbtiles' $OUT/err8" "geoflux tiles refuses a non-tile output"

echo "tiles: $((checks-fails)) passed, $fails failed"
[ $fails -eq 0 ] || exit 1
# the decoders are the main readers here: without them the test is not a pass
if [ $have_node = 0 ]; then echo "SKIPPED: the JavaScript decoder checks did not run"; exit 77; fi
