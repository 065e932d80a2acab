#!/usr/bin/env bash
# geoflux merge against a single run: the samples split into two
# "departments" (35: Bruz + Corps-Nuds with the Ille-et-Vilaine communes;
# 54: Mont-Bonvillers + the BAN extract with the Meurthe-et-Moselle
# communes), each converted on its own to PMTiles + MBTiles + GeoPackage +
# NDJSON, and once all together (both departments' communes in one
# boundaries file, inputs in the same order). Checked with readers nobody
# here wrote:
#  - PMTiles (npm pmtiles + @mapbox/vector-tile, tests/js/merge_compare.mjs):
#    per tile, every layer's features (id, type, geometry, properties with
#    point_count) equal the single run's at every zoom, thinned ones
#    included; ids unique per layer and tile; the bytes are the single run's
#    but the header's center; merging an archive with a copy of itself gives
#    its very bytes;
#  - MBTiles (GDAL's MVT reader): the addresses and communes at maxzoom, the
#    addresses at a thinned zoom; the tile bytes are the single run's;
#  - GeoPackage (ogr2ogr): the same rows in every table, the R-tree answers a
#    spatial filter as the single run's;
#  - NDJSON: the departments' files concatenated are the single run's bytes;
#  - publication reports (report.json of two publish runs): equal, as JSON,
#    to the report of one run over both perimeters;
#  - errors: formats that differ, an existing output (and --overwrite), a
#    missing input, a commune in two GeoPackages;
#  - tools/dask_departments.py on a LocalCluster of 2 workers gives the same
#    merged files (SKIPPED when python3-distributed is not installed).
. "$(dirname "$0")/lib.sh" "$@"
S=$SRC/data/samples
for tool in ogr2ogr ogrinfo node; do
  command -v $tool >/dev/null || { echo "SKIPPED: $tool is not installed (tools/setup.sh test)"; exit 77; }
done
[ -d "$SRC/tests/js/node_modules/pmtiles" ] || { echo "SKIPPED: npm packages of tests/js missing (tools/setup.sh test)"; exit 77; }
export SOURCE_DATE_EPOCH=1700000000 # GeoPackage last_change: same bytes every run
Z=10
D35=("$S/bal/bal_35047_v1.3.csv" "$S/bal/bal_simple_v1.3.csv")
D54=("$S/bal/adresses-54084.csv" "$S/ban/adresses-54.csv.gz")
C35=$S/boundaries/communes-35-ille-et-vilaine.geojson
C54=$S/boundaries/communes-54-meurthe-et-moselle.geojson
ogr2ogr -f GPKG -nln communes "$OUT/both.gpkg" "$C35" && ogr2ogr -append -nln communes "$OUT/both.gpkg" "$C54" ||
  { echo "FAIL: ogr2ogr could not build the boundaries of both departments"; exit 1; }
run() { # NAME COMMUNES INPUT...
  local n=$1 c=$2; shift 2
  "$GF" convert "$@" --communes "$c" --maxzoom $Z -j 2 -q -o "$OUT/$n.pmtiles" -o "$OUT/$n.mbtiles" -o "$OUT/$n.gpkg" \
    -o "$OUT/$n.geojsonl"
}
run d35 "$C35" "${D35[@]}"; ok "[ $? = 0 ]" "convert department 35"
run d54 "$C54" "${D54[@]}"; ok "[ $? = 0 ]" "convert department 54"
run all "$OUT/both.gpkg" "${D35[@]}" "${D54[@]}"; ok "[ $? = 0 ]" "convert both departments in one run"

# ---- PMTiles
"$GF" merge "$OUT/d35.pmtiles" "$OUT/d54.pmtiles" -o "$OUT/m.pmtiles" --summary json > "$OUT/m.json" 2>"$OUT/m.err"
ok "[ $? = 0 ]" "merge PMTiles: $(cat "$OUT/m.err")"
ok "grep -q '\"format\":\"PMTiles\"' '$OUT/m.json' && grep -q '\"points_retiled\":true' '$OUT/m.json' && ! grep -q '\"merged_tiles\":0,' '$OUT/m.json'" \
  "the summary counts tiles held by both inputs: $(cat "$OUT/m.json")"
node "$SRC/tests/js/merge_compare.mjs" "$OUT/all.pmtiles" "$OUT/m.pmtiles" > "$OUT/cmp.json"
ok "[ $? = 0 ]" "merge_compare.mjs ran"
# every zoom: merge tiles the addresses layer again from the maxzoom points
# (docs/merge.md), so the thinned zooms are the single run's too
python3 - "$OUT/cmp.json" $Z > "$OUT/cmp.txt" <<'EOF2'
import json, sys
r = json.load(open(sys.argv[1])); maxz = sys.argv[2]
bad = []
for z, v in sorted(r["zooms"].items(), key=lambda kv: int(kv[0])):
    if v["differ"]: bad.append("zoom %s: %d tiles differ %s" % (z, v["differ"], v["differ_layers"]))
    if v["tiles"][0] != v["tiles"][1]: bad.append("zoom %s: %s tiles" % (z, v["tiles"]))
if maxz not in r["zooms"]: bad.append("no tile at maxzoom")
if r["dup_ids"]: bad.append("%d ids twice in a layer" % r["dup_ids"])
print("zooms compared: %s, points per zoom %s" % (len(r["zooms"]), [v["points"][1] for z, v in sorted(r["zooms"].items(), key=lambda kv: int(kv[0]))]))
for b in bad: print("BAD " + b)
if bad: print("first difference: %s" % r["first_diff"])
EOF2
ok "! grep -q BAD '$OUT/cmp.txt'" "merged PMTiles decode to the single run's features at every zoom: $(cat "$OUT/cmp.txt")"
echo "PMTiles: $(head -1 "$OUT/cmp.txt")"
# the bytes too, but for the header's center (bytes 120-127: the middle of
# bounds read back rounded to 1e-7 degree may differ in its last digit)
ok "[ -z \"\$(cmp -l '$OUT/all.pmtiles' '$OUT/m.pmtiles' | awk '\$1 < 120 || \$1 > 127')\" ] && [ \$(stat -c %s '$OUT/all.pmtiles') = \$(stat -c %s '$OUT/m.pmtiles') ]" \
  "merged PMTiles are the single run's bytes but the header's center"
cp "$OUT/d35.pmtiles" "$OUT/d35-copy.pmtiles"
"$GF" merge "$OUT/d35.pmtiles" "$OUT/d35-copy.pmtiles" -o "$OUT/self.pmtiles" -q
ok "cmp -s '$OUT/self.pmtiles' '$OUT/d35.pmtiles'" "an archive merged with its copy is its own bytes (every feature kept once)"
"$GF" merge "$OUT/d35.pmtiles" "$OUT/d54.pmtiles" -o "$OUT/m2.pmtiles" -q
ok "cmp -s '$OUT/m.pmtiles' '$OUT/m2.pmtiles'" "merge is deterministic"
mkdir -p "$OUT/scratch"
"$GF" merge "$OUT/d35.pmtiles" "$OUT/d54.pmtiles" -o "$OUT/m3.pmtiles" --tmpdir "$OUT/scratch" -q
ok "cmp -s '$OUT/m.pmtiles' '$OUT/m3.pmtiles' && [ -z \"\$(ls -A '$OUT/scratch')\" ] && ! ls -a '$OUT' | grep -q geoflux-merge" \
  "--tmpdir: same bytes, no scratch file left there or beside the output"

# ---- MBTiles: GDAL's MVT reader at maxzoom
"$GF" merge "$OUT/d35.mbtiles" "$OUT/d54.mbtiles" -o "$OUT/m.mbtiles" -q
ok "[ $? = 0 ]" "merge MBTiles"
for l in addresses communes; do
  for f in all m; do
    ogr2ogr -f CSV /vsistdout/ -oo ZOOM_LEVEL=$Z -lco GEOMETRY=AS_WKT "$OUT/$f.mbtiles" $l 2>/dev/null | tail -n +2 | sort > "$OUT/mb-$f-$l.csv"
  done
  ok "[ -s '$OUT/mb-all-$l.csv' ] && cmp -s '$OUT/mb-all-$l.csv' '$OUT/mb-m-$l.csv'" "MBTiles layer $l at zoom $Z as GDAL reads it"
done
ok "[ \$(wc -l < '$OUT/mb-m-addresses.csv') = \$(cat '$OUT/d35.geojsonl' '$OUT/d54.geojsonl' | wc -l) ]" "MBTiles at maxzoom hold every address"
ogr2ogr -f CSV /vsistdout/ -oo ZOOM_LEVEL=3 -lco GEOMETRY=AS_WKT "$OUT/m.mbtiles" addresses 2>/dev/null | sort > "$OUT/mb-m-z3.csv"
ogr2ogr -f CSV /vsistdout/ -oo ZOOM_LEVEL=3 -lco GEOMETRY=AS_WKT "$OUT/all.mbtiles" addresses 2>/dev/null | sort > "$OUT/mb-all-z3.csv"
ok "[ -s '$OUT/mb-m-z3.csv' ] && cmp -s '$OUT/mb-all-z3.csv' '$OUT/mb-m-z3.csv'" "MBTiles addresses at zoom 3 (thinned) as GDAL reads them"
python3 -c "
import sqlite3, sys
q = 'SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles ORDER BY 1, 2, 3'
a = sqlite3.connect(sys.argv[1]).execute(q).fetchall(); b = sqlite3.connect(sys.argv[2]).execute(q).fetchall()
sys.exit(0 if a and a == b else 1)" "$OUT/all.mbtiles" "$OUT/m.mbtiles"
ok "[ $? = 0 ]" "merged MBTiles hold the single run's tile bytes, every zoom"

# ---- GeoPackage
"$GF" merge "$OUT/d35.gpkg" "$OUT/d54.gpkg" -o "$OUT/m.gpkg" -q
ok "[ $? = 0 ]" "merge GeoPackages"
for l in addresses communes rejects; do
  for f in all m; do
    ogr2ogr -f CSV /vsistdout/ -lco GEOMETRY=AS_WKT "$OUT/$f.gpkg" $l 2>/dev/null | sort > "$OUT/gp-$f-$l.csv"
  done
  ok "[ -s '$OUT/gp-all-$l.csv' ] && cmp -s '$OUT/gp-all-$l.csv' '$OUT/gp-m-$l.csv'" "GeoPackage table $l as ogr2ogr reads it"
done
for f in all m; do # the R-tree through GDAL's spatial filter (Bruz's centre)
  ogrinfo -ro -so -spat -1.76 48.01 -1.72 48.04 "$OUT/$f.gpkg" addresses | grep 'Feature Count' > "$OUT/spat-$f.txt"
done
ok "[ -s '$OUT/spat-m.txt' ] && cmp -s '$OUT/spat-all.txt' '$OUT/spat-m.txt' && ! grep -q 'Count: 0' '$OUT/spat-m.txt'" \
  "R-tree: a spatial filter finds what the single run's finds ($(cat "$OUT/spat-m.txt" "$OUT/spat-all.txt" | tr '\n' ' '))"
ok "[ \"\$(sqlite3 '$OUT/m.gpkg' 'PRAGMA integrity_check' 2>/dev/null || echo ok)\" = ok ]" "merged GeoPackage passes integrity_check"

# ---- NDJSON: concatenation is the single run
cat "$OUT/d35.geojsonl" "$OUT/d54.geojsonl" > "$OUT/m.geojsonl"
ok "cmp -s '$OUT/m.geojsonl' '$OUT/all.geojsonl'" "NDJSON of the departments, concatenated, is the single run's"

# ---- publication reports: two publish runs (35, 54) against one over both
for d in p35 p54 pall; do mkdir -p "$OUT/$d/src"; done
cp "${D35[0]}" "$OUT/p35/src/35047.csv"; cp "${D35[0]}" "$OUT/pall/src/35047.csv"
cp "${D54[0]}" "$OUT/p54/src/54084.csv"; cp "${D54[0]}" "$OUT/pall/src/54084.csv"
printf '35047\n35088\n' > "$OUT/p35/perimeter.txt"; printf '54084\n' > "$OUT/p54/perimeter.txt"
printf '35047\n35088\n54084\n' > "$OUT/pall/perimeter.txt"
for d in p35 p54 pall; do
  (cd "$OUT/$d" && "$GF" publish src --store store.db -o site --perimeter perimeter.txt --at 2026-12-01 -q); rc=$?
  ok "[ $rc = 0 ]" "publish $d ($rc)"
done
"$GF" merge "$OUT/p35/site/report.json" "$OUT/p54/site/report.json" -o "$OUT/report.json" -q
ok "[ $? = 0 ]" "merge reports"
ok "python3 -c 'import json,sys; sys.exit(json.load(open(\"$OUT/report.json\")) != json.load(open(\"$OUT/pall/site/report.json\")))'" \
  "the merged report is the single run's (communes, counts, perimeter)"
"$GF" merge "$OUT/p35/site/report.json" "$OUT/p35/site/report.json" -o "$OUT/r2.json" 2>"$OUT/e7.txt"; rc=$?
ok "[ $rc = 2 ] && grep -q 'commune 35047 is in' '$OUT/e7.txt' && [ ! -e '$OUT/r2.json' ]" "a commune in two reports is refused ($rc: $(cat "$OUT/e7.txt"))"

# ---- errors
"$GF" merge "$OUT/d35.pmtiles" "$OUT/d54.gpkg" -o "$OUT/x.pmtiles" 2>"$OUT/e1.txt"; rc=$?
ok "[ $rc = 2 ] && grep -q 'd54.gpkg is GeoPackage but .*d35.pmtiles is PMTiles' '$OUT/e1.txt' && [ ! -e '$OUT/x.pmtiles' ]" \
  "formats that differ: exit 2 naming both ($rc: $(cat "$OUT/e1.txt"))"
"$GF" merge "$OUT/d35.pmtiles" "$OUT/d54.mbtiles" -o "$OUT/x.pmtiles" 2>"$OUT/e1b.txt"; rc=$?
ok "[ $rc = 2 ] && grep -q 'MBTiles' '$OUT/e1b.txt'" "PMTiles with MBTiles: exit 2 ($rc: $(cat "$OUT/e1b.txt"))"
"$GF" merge "$OUT/d35.pmtiles" "$OUT/d54.pmtiles" -o "$OUT/m.pmtiles" 2>"$OUT/e2.txt"; rc=$?
ok "[ $rc = 2 ] && grep -q 'm.pmtiles exists; give --overwrite' '$OUT/e2.txt' && cmp -s '$OUT/m.pmtiles' '$OUT/m2.pmtiles'" \
  "an existing output is refused, untouched ($rc: $(cat "$OUT/e2.txt"))"
"$GF" merge "$OUT/d54.pmtiles" "$OUT/d35.pmtiles" -o "$OUT/m.pmtiles" --overwrite -q; rc=$?
ok "[ $rc = 0 ] && ! cmp -s '$OUT/m.pmtiles' '$OUT/m2.pmtiles'" "--overwrite replaces it ($rc)"
"$GF" merge "$OUT/d35.pmtiles" "$OUT/nowhere.pmtiles" -o "$OUT/y.pmtiles" 2>"$OUT/e3.txt"; rc=$?
ok "[ $rc = 2 ] && grep -q 'nowhere.pmtiles: No such file' '$OUT/e3.txt' && [ ! -e '$OUT/y.pmtiles' ]" \
  "a missing input: exit 2 naming it ($rc: $(cat "$OUT/e3.txt"))"
"$GF" merge "$OUT/d35.pmtiles" "$OUT/d54.pmtiles" -o "$OUT/d35.pmtiles" --overwrite 2>"$OUT/e4.txt"; rc=$?
ok "[ $rc = 2 ] && cmp -s '$OUT/d35.pmtiles' '$OUT/d35-copy.pmtiles'" "the output cannot be an input ($rc: $(cat "$OUT/e4.txt"))"
cp "$OUT/d35.gpkg" "$OUT/d35-copy.gpkg"
"$GF" merge "$OUT/d35.gpkg" "$OUT/d35-copy.gpkg" -o "$OUT/z.gpkg" 2>"$OUT/e5.txt"; rc=$?
ok "[ $rc = 2 ] && grep -q 'commune 35001 (and others) is already in' '$OUT/e5.txt' && [ ! -e '$OUT/z.gpkg' ]" \
  "a commune in two GeoPackages is refused ($rc: $(cat "$OUT/e5.txt"))"
printf 'not a tile archive\n' > "$OUT/junk.pmtiles"
"$GF" merge "$OUT/d35.pmtiles" "$OUT/junk.pmtiles" -o "$OUT/w.pmtiles" 2>"$OUT/e6.txt"; rc=$?
ok "[ $rc = 2 ] && grep -q 'junk.pmtiles: not a PMTiles v3, MBTiles, GeoPackage or report.json file' '$OUT/e6.txt'" "an unknown file ($rc: $(cat "$OUT/e6.txt"))"

"$GF" merge "$OUT/d35.gpkg" "$OUT/d54.gpkg" -o "$OUT/t.gpkg" --tmpdir "$OUT" 2>"$OUT/e11.txt"; rc=$?
ok "[ $rc = 2 ] && grep -q 'tmpdir: merging GeoPackage files needs no scratch' '$OUT/e11.txt'" "--tmpdir is refused where it would not act ($rc)"

# runs of other zoom ranges: merged, the points' samples kept, with a warning
"$GF" convert "${D54[0]}" -o "$OUT/z9.pmtiles" --maxzoom 9 -q
"$GF" merge "$OUT/d35.pmtiles" "$OUT/z9.pmtiles" -o "$OUT/z.pmtiles" 2>"$OUT/w1.txt"; rc=$?
ok "[ $rc = 0 ] && grep -q 'warning: merge: layer addresses not tiled again (the inputs. zoom ranges differ)' '$OUT/w1.txt'" \
  "other zoom ranges: merged with a warning ($rc: $(cat "$OUT/w1.txt"))"
cp "$OUT/d54.mbtiles" "$OUT/z54.mbtiles"
python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"UPDATE metadata SET value='1x' WHERE name='maxzoom'\"); c.commit()" "$OUT/z54.mbtiles"
"$GF" merge "$OUT/d35.mbtiles" "$OUT/z54.mbtiles" -o "$OUT/z.mbtiles" 2>"$OUT/e10.txt"; rc=$?
ok "[ $rc = 2 ] && grep -q \"z54.mbtiles: metadata maxzoom '1x' is not a zoom level\" '$OUT/e10.txt'" "MBTiles metadata checked ($rc: $(cat "$OUT/e10.txt"))"

# damaged archives: refused with a message naming them, never a crash
head -c 3000 "$OUT/d54.pmtiles" > "$OUT/cut.pmtiles"
"$GF" merge "$OUT/d35.pmtiles" "$OUT/cut.pmtiles" -o "$OUT/v.pmtiles" 2>"$OUT/e8.txt"; rc=$?
ok "[ $rc = 2 ] && grep -q 'cut.pmtiles: ' '$OUT/e8.txt' && [ ! -e '$OUT/v.pmtiles' ]" "a cut archive: exit 2 ($rc: $(cat "$OUT/e8.txt"))"
python3 -c "
import sys; b = bytearray(open(sys.argv[1], 'rb').read()); n = len(b)
for i in range(n // 2, n // 2 + 4000): b[i] ^= 0x5a
open(sys.argv[2], 'wb').write(b)" "$OUT/d54.pmtiles" "$OUT/bad.pmtiles"
"$GF" merge "$OUT/d35.pmtiles" "$OUT/bad.pmtiles" -o "$OUT/v.pmtiles" 2>"$OUT/e9.txt"; rc=$?
ok "[ $rc = 2 ] && grep -q 'bad.pmtiles: ' '$OUT/e9.txt' && [ ! -e '$OUT/v.pmtiles' ]" "damaged tiles: exit 2 ($rc: $(cat "$OUT/e9.txt"))"

# ---- Dask: the same merge from tools/dask_departments.py on a LocalCluster
if /usr/bin/python3 -c 'import distributed' 2>/dev/null; then
  cat > "$OUT/depts.json" <<EOF
[{"name": "35", "communes": "$C35", "inputs": ["${D35[0]}", "${D35[1]}"]},
 {"name": "54", "communes": "$C54", "inputs": ["${D54[0]}", "${D54[1]}"]}]
EOF
  /usr/bin/python3 "$SRC/tools/dask_departments.py" "$OUT/depts.json" -o "$OUT/dask" --geoflux "$GF" --workers 2 \
    --maxzoom $Z 2>"$OUT/dask.err"; rc=$?
  ok "[ $rc = 0 ]" "dask_departments.py on a LocalCluster of 2 workers ($rc: $(tail -3 "$OUT/dask.err"))"
  ok "cmp -s '$OUT/dask/adresses.pmtiles' '$OUT/m2.pmtiles'" "Dask's merged PMTiles are merge's bytes"
  ok "cmp -s '$OUT/dask/adresses.geojsonl' '$OUT/all.geojsonl'" "Dask's NDJSON is the single run's"
  ogr2ogr -f CSV /vsistdout/ -lco GEOMETRY=AS_WKT "$OUT/dask/adresses.gpkg" addresses 2>/dev/null | sort > "$OUT/gp-dask.csv"
  ok "[ -s '$OUT/gp-dask.csv' ] && cmp -s '$OUT/gp-dask.csv' '$OUT/gp-all-addresses.csv'" "Dask's GeoPackage holds the single run's addresses"
  /usr/bin/python3 "$SRC/tools/dask_departments.py" "$OUT/depts.json" -o "$OUT/dask" --geoflux "$GF" 2>"$OUT/dask2.err"; rc=$?
  ok "[ $rc = 2 ] && grep -q 'exists; give --overwrite' '$OUT/dask2.err'" "dask_departments.py refuses existing outputs ($rc)"
else
  echo "SKIPPED: the Dask part (python3-distributed is not installed: tools/setup.sh test installs it)"
fi
gf_test_end
