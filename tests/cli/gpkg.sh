#!/usr/bin/env bash
# GeoPackage and OGR outputs of `geoflux convert`, re-read by readers we did
# not write: GDAL (ogrinfo, spatial filters through the R-tree), GDAL's
# GeoPackage validator, and Python's sqlite3 for brute-force counts.
# Usage: gpkg.sh GEOFLUX SRCDIR OUTDIR
set -u
GF=$1; SRC=$2; OUT=$3
rm -rf "$OUT"; mkdir -p "$OUT"
fails=0; checks=0
ok() { checks=$((checks+1)); if eval "$1"; then :; else fails=$((fails+1)); echo "FAIL: $2" >&2; fi; }
S=$SRC/data/samples
PY=/usr/bin/python3
json() { $PY -c "import json,sys; d=json.load(open('$1')); print($2)"; }
VALIDATOR=$(ls /usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py /usr/share/doc/python3-gdal/examples/validate_gpkg.py 2>/dev/null | head -1)

# Brute force over the stored blobs (no R-tree, no GDAL): count of points in
# a box, extent, header checks, rtreecheck(), application_id/user_version.
cat > "$OUT/probe.py" <<'PYEOF'
import sqlite3, struct, sys
db, table, cmd = sys.argv[1], sys.argv[2], sys.argv[3]
c = sqlite3.connect(db)
def pts():
    for (b,) in c.execute('SELECT geom FROM "%s" WHERE geom NOT NULL' % table):
        assert b[:3] == b'GP\x00', 'bad magic'
        flags = b[3]; env = (flags >> 1) & 7
        hl = 8 + [0, 32, 48, 48, 64][env]
        bo, t, x, y = struct.unpack('<BIdd', b[hl:hl + 21])
        assert bo == 1 and t == 1, 'not a little-endian WKB point'
        if env == 1:
            assert struct.unpack('<4d', b[8:40]) == (x, x, y, y), 'envelope != point'
        yield x, y
if cmd == 'count':
    x0, y0, x1, y1 = map(float, sys.argv[4:8])
    print(sum(1 for x, y in pts() if x0 <= x <= x1 and y0 <= y <= y1))
elif cmd == 'extent':
    p = list(pts()); xs = [a for a, _ in p]; ys = [b for _, b in p]
    e = c.execute('SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = ?', (table,)).fetchone()
    print('ok' if e == (min(xs), min(ys), max(xs), max(ys)) else 'extent %s != %s' % (e, (min(xs), min(ys), max(xs), max(ys))))
elif cmd == 'rtreecheck':
    print(c.execute("SELECT rtreecheck('rtree_%s_geom')" % table).fetchone()[0])
elif cmd == 'header':
    app = c.execute('PRAGMA application_id').fetchone()[0]; uv = c.execute('PRAGMA user_version').fetchone()[0]
    print('%08x %d' % (app & 0xffffffff, uv))
elif cmd == 'sql':
    print(c.execute(sys.argv[4]).fetchone()[0])
PYEOF
probe() { $PY "$OUT/probe.py" "$@" 2>&1; }
# SQLite's own integrity check always (the rows and R-tree pages are written
# by hand), and GDAL's validator when it is installed
validate() {
  local ic; ic=$(probe "$1" x sql 'PRAGMA integrity_check')
  [ "$ic" = ok ] || { echo "integrity_check: $ic" > "$OUT/validate.log"; return 1; }
  if [ -n "$VALIDATOR" ]; then $PY "$VALIDATOR" -k --extra "$1" > "$OUT/validate.log" 2>&1
  else [ "$(probe "$1" addresses header)" = "47504b47 10200" ]; fi
}
ogrcount() { ogrinfo -ro -so "$@" 2>/dev/null | sed -n 's/^Feature Count: //p'; }

# 1. every sample into one GeoPackage (EPSG:4326)
"$GF" convert "$S"/bal/*.csv "$S"/ban/adresses-54.csv.gz -o "$OUT/all.gpkg" --summary json -q > "$OUT/sum.json"; rc=$?
ok '[ $rc -eq 0 ] && [ -s "$OUT/all.gpkg" ]' "convert samples to all.gpkg"
w=$(json "$OUT/sum.json" "d['written']"); r=$(json "$OUT/sum.json" "d['rejected']")
ok '[ "$(ogrcount "$OUT/all.gpkg" addresses)" = "$w" ]' "GDAL counts $w addresses"
ok '[ "$(ogrcount "$OUT/all.gpkg" rejects)" = "$r" ] && [ "$r" -gt 0 ]' "GDAL counts $r rejects"
ok 'ogrinfo -ro -so "$OUT/all.gpkg" rejects | grep -q "^Geometry: None"' "rejects is an attribute table"
ok '[ "$(probe "$OUT/all.gpkg" rejects sql "SELECT data_type FROM gpkg_contents WHERE table_name = '"'rejects'"'")" = attributes ]' "rejects: data_type attributes"
ok '[ "$(probe "$OUT/all.gpkg" rejects sql "SELECT count(*) FROM rejects WHERE source LIKE '"'%.csv%'"' AND line > 0 AND reason <> '"''"' AND raw NOT NULL")" = "$r" ]' "rejects keep source, line, reason, raw"
ok 'validate "$OUT/all.gpkg"' "validator accepts all.gpkg: $(cat "$OUT/validate.log" 2>/dev/null | head -5)"
ok '[ "$(probe "$OUT/all.gpkg" addresses header)" = "47504b47 10200" ]' "application_id GPKG, user_version 10200"
ok 'ogrinfo -ro -so "$OUT/all.gpkg" addresses | grep -q "ID\[\"EPSG\",4326\]"' "CRS EPSG:4326"
ok '[ "$(probe "$OUT/all.gpkg" addresses extent)" = ok ]' "gpkg_contents extent = extent of the points"
ext=$(ogrinfo -ro -so "$OUT/all.gpkg" addresses | sed -n 's/^Extent: //p')
ok '[ -n "$ext" ]' "GDAL reports an extent ($ext)"
ogrinfo -ro -so "$OUT/all.gpkg" addresses > "$OUT/all.info"
ok 'grep -q "numero: Integer64" "$OUT/all.info" && grep -q "certification_commune: Integer(Boolean)" "$OUT/all.info" && grep -q "date_der_maj: Date" "$OUT/all.info" && grep -q "lat: Real" "$OUT/all.info"' "typed columns: INTEGER BOOLEAN DATE REAL"
ok '[ "$(probe "$OUT/all.gpkg" addresses rtreecheck)" = ok ]' "rtreecheck() ok"
ok '[ "$(probe "$OUT/all.gpkg" addresses sql "SELECT count(*) FROM rtree_addresses_geom")" = "$(probe "$OUT/all.gpkg" addresses sql "SELECT count(*) FROM addresses WHERE geom NOT NULL")" ]' "one R-tree entry per geometry"
ok '[ "$(probe "$OUT/all.gpkg" addresses sql "SELECT count(*) FROM sqlite_master WHERE type = '"'trigger'"' AND name LIKE '"'rtree_addresses_geom_%'"'")" = 6 ]' "the six R-tree triggers"
ntrig=$(probe "$OUT/all.gpkg" addresses sql "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND instr(sql, 'rtree_addresses_geom' || char(34) || ' ') > 0 AND instr(sql, 'ON ' || char(34) || 'addresses' || char(34)) > 0")
ok '[ "$ntrig" = 6 ]' "triggers name the right tables ($ntrig)"
# spatial filters through the R-tree vs brute force over the blobs
for box in "0.9 43.0 1.2 43.3" "6.0 48.5 6.3 48.8" "-1.8 48.0 -1.6 48.2" "1.0 43.1 1.03 43.12" "10 10 11 11"; do
  set -- $box
  n_gdal=$(ogrcount -spat $1 $2 $3 $4 "$OUT/all.gpkg" addresses)
  n_bf=$(probe "$OUT/all.gpkg" addresses count $1 $2 $3 $4)
  ok '[ "$n_gdal" = "$n_bf" ]' "spatial filter $box: GDAL $n_gdal, brute force $n_bf"
done
ok '[ "$(probe "$OUT/all.gpkg" addresses count 0.9 43.0 1.2 43.3)" -gt 0 ]' "spatial filter box is not empty"
# past the R-tree memory budget the boxes spill as sorted runs: same answers
"$GF" convert "$S"/bal/*.csv "$S"/ban/adresses-54.csv.gz -o "$OUT/budget.gpkg" --max-memory 40K -v 2>"$OUT/budget.log"
ok 'grep -q "R-tree of [0-9]* features from [2-9][0-9]* sorted runs on disk" "$OUT/budget.log"' "R-tree over the memory budget: built from sorted runs on disk"
ok '[ "$(probe "$OUT/budget.gpkg" addresses rtreecheck)" = ok ] && validate "$OUT/budget.gpkg" && [ "$(probe "$OUT/budget.gpkg" x sql "SELECT count(*) FROM rtree_addresses_geom")" = "$(probe "$OUT/all.gpkg" x sql "SELECT count(*) FROM rtree_addresses_geom")" ]' "spilled R-tree: rtreecheck, validator, one entry per geometry"
for box in "0.9 43.0 1.2 43.3" "6.0 48.5 6.3 48.8" "-1.8 48.0 -1.6 48.2"; do
  set -- $box
  ok '[ "$(ogrcount -spat $1 $2 $3 $4 "$OUT/budget.gpkg" addresses)" = "$(probe "$OUT/all.gpkg" addresses count $1 $2 $3 $4)" ]' "spilled R-tree answers the filter $box like brute force"
done
# an edit through the triggers keeps the R-tree in sync (GDAL registers its own ST_ functions)
cp "$OUT/all.gpkg" "$OUT/edit.gpkg"
ogrinfo "$OUT/edit.gpkg" -sql "UPDATE addresses SET geom = (SELECT geom FROM addresses WHERE fid = 1) WHERE fid = 2" >/dev/null 2>&1
ok '[ "$(probe "$OUT/edit.gpkg" addresses rtreecheck)" = ok ]' "R-tree still consistent after an edit through GDAL"

# 2. Lambert-93, own layer name; spatial filter in metres
"$GF" convert "$S"/bal/*.csv -o "$OUT/l93.gpkg" --t-srs EPSG:2154 --layer adresses_l93 -q; rc=$?
ok '[ $rc -eq 0 ]' "convert --t-srs EPSG:2154"
ok 'ogrinfo -ro -so "$OUT/l93.gpkg" adresses_l93 | grep -q "ID\[\"EPSG\",2154\]"' "CRS EPSG:2154"
ok '[ "$(probe "$OUT/l93.gpkg" x sql "SELECT organization || organization_coordsys_id FROM gpkg_spatial_ref_sys WHERE srs_id = 2154")" = EPSG2154 ]' "2154 in gpkg_spatial_ref_sys"
ok '[ "$(probe "$OUT/l93.gpkg" x sql "SELECT definition LIKE '"'PROJCS[%Lambert%'"' FROM gpkg_spatial_ref_sys WHERE srs_id = 2154")" = 1 ]' "2154 definition in WKT1"
ok 'validate "$OUT/l93.gpkg"' "validator accepts l93.gpkg: $(head -5 "$OUT/validate.log" 2>/dev/null)"
ok '[ "$(probe "$OUT/l93.gpkg" adresses_l93 extent)" = ok ]' "Lambert-93 extent"
n_gdal=$(ogrcount -spat 530000 6220000 545000 6230000 "$OUT/l93.gpkg" adresses_l93)
n_bf=$(probe "$OUT/l93.gpkg" adresses_l93 count 530000 6220000 545000 6230000)
ok '[ "$n_gdal" = "$n_bf" ] && [ "$n_bf" -gt 0 ]' "Lambert-93 spatial filter: GDAL $n_gdal, brute force $n_bf"

# 3. --append: a second layer in the same file; same name again fails and leaves the file alone
"$GF" convert "$S/ban/adresses-54.csv.gz" -o "$OUT/l93.gpkg" --append --layer ban54 --t-srs EPSG:2154 -q; rc=$?
ok '[ $rc -eq 0 ]' "--append a layer"
ok '[ "$(ogrinfo -ro "$OUT/l93.gpkg" 2>/dev/null | grep -c -E "^[0-9]+: (adresses_l93|ban54|rejects)")" = 3 ]' "three layers after --append"
nb=$(ogrcount "$OUT/l93.gpkg" ban54); nbr=$(probe "$OUT/l93.gpkg" x sql "SELECT count(*) FROM rejects WHERE layer = 'ban54'")
ok '[ $((nb + nbr)) = 712 ] && [ "$nb" -gt 700 ]' "712 BAN rows in the appended layer and its rejects ($nb + $nbr)"
ok 'validate "$OUT/l93.gpkg"' "validator accepts the appended file: $(head -5 "$OUT/validate.log" 2>/dev/null)"
cp "$OUT/l93.gpkg" "$OUT/l93.before"
"$GF" convert "$S/ban/adresses-54.csv.gz" -o "$OUT/l93.gpkg" --append --layer ban54 -q 2>"$OUT/dup.err"; rc=$?
ok '[ $rc -ne 0 ] && grep -q "already exists" "$OUT/dup.err"' "appending an existing layer name fails"
ok 'cmp -s "$OUT/l93.gpkg" "$OUT/l93.before"' "failed --append leaves the file unchanged"
# into a GeoPackage that GDAL made (4 KiB pages, its own triggers and tables)
w0=$(ogrcount "$OUT/l93.gpkg" adresses_l93)
ogr2ogr -f GPKG "$OUT/gdalmade.gpkg" "/vsigzip/$S/ban/adresses-54.csv.gz" -oo X_POSSIBLE_NAMES=lon -oo Y_POSSIBLE_NAMES=lat -a_srs EPSG:4326 -nln from_gdal 2>/dev/null
"$GF" convert "$S"/bal/*.csv -o "$OUT/gdalmade.gpkg" --append -q; rc=$?
ok '[ $rc -eq 0 ] && [ "$(ogrcount "$OUT/gdalmade.gpkg" from_gdal)" = 712 ] && [ "$(ogrcount "$OUT/gdalmade.gpkg" addresses)" = "$w0" ]' "--append into a GDAL-made GeoPackage: both layers read back"
ok 'validate "$OUT/gdalmade.gpkg"' "validator accepts it: $(head -5 "$OUT/validate.log" 2>/dev/null)"
ok '[ "$(probe "$OUT/gdalmade.gpkg" addresses rtreecheck)" = ok ]' "rtreecheck() ok in the GDAL-made file"
# one file for a whole run: addresses joined to their communes, the commune
# statistics with their polygons, the geocoded equipments, every reject
"$GF" convert "$S/bal/bal_35047_v1.3.csv" -o "$OUT/run.gpkg" --communes "$S/boundaries/communes-35-ille-et-vilaine.geojson" -q --summary json > "$OUT/run1.json"; rc1=$?
"$GF" geocode --addresses "$S/bal/bal_35047_v1.3.csv" "$S/equipements/equipements-35047-errors.csv" -o "$OUT/run.gpkg" --append -q --summary json > "$OUT/run2.json"; rc2=$?
ok '[ $rc1 -eq 0 ] && [ $rc2 -eq 0 ]' "convert, then geocode --append into the same GeoPackage"
ok '[ "$(ogrinfo -ro "$OUT/run.gpkg" 2>/dev/null | sed -n "s/^[0-9]*: //p" | tr "\n" " ")" = "addresses (Point) communes (Multi Polygon) equipments (Point) rejects (None) " ]' "layers addresses, communes, equipments, rejects"
wa=$(json "$OUT/run1.json" "d['written']"); we=$(json "$OUT/run2.json" "d['written']"); re=$(json "$OUT/run2.json" "d['rejected']")
ok '[ "$(ogrcount "$OUT/run.gpkg" addresses)" = "$wa" ] && [ "$(ogrcount "$OUT/run.gpkg" equipments)" = "$we" ]' "GDAL counts the $wa addresses and the $we equipments"
# geocode withholds no row: the SCDL rule breaks are in the layer's errors column
ok '[ "$(probe "$OUT/run.gpkg" x sql "SELECT count(*) FROM rejects WHERE layer = '"'equipments'"' AND source LIKE '"'%errors.csv'"'")" = "$re" ] && [ "$re" = 0 ] && [ "$we" = 7 ] && [ "$(probe "$OUT/run.gpkg" x sql "SELECT count(*) FROM equipments WHERE errors <> '"''"'")" = 6 ]' "all $we equipments written, the 6 with SCDL defects carry them in errors, $re rejects"
ok '[ "$(ogrinfo -ro -so "$OUT/run.gpkg" communes | grep -c -E "^(addresses|mismatches): Integer")" = 2 ]' "communes layer carries the statistics"
ok 'validate "$OUT/run.gpkg"' "validator accepts the whole-run file: $(head -5 "$OUT/validate.log" 2>/dev/null)"
ok '[ "$(probe "$OUT/run.gpkg" equipments rtreecheck)" = ok ] && [ "$(probe "$OUT/run.gpkg" communes rtreecheck)" = ok ]' "R-trees of the appended and extra layers"
# a GeoPackage left in WAL mode with changes still in its -wal file (QGIS
# edits so): --append keeps those changes, and no stale -wal/-shm is left
# next to the result for SQLite to replay over it; same for an overwrite
"$GF" convert "$S/bal/bal-valid.csv" -o "$OUT/wal.gpkg" -q
$PY - "$OUT/wal.gpkg" <<'PYEOF'
import sqlite3, shutil, sys, os
p = sys.argv[1]
c = sqlite3.connect(p, isolation_level=None)
c.execute('PRAGMA journal_mode=WAL'); c.execute('PRAGMA wal_autocheckpoint=0')
c.execute("CREATE TABLE notes_qgis (fid INTEGER PRIMARY KEY, txt TEXT)")
c.execute("INSERT INTO notes_qgis (txt) VALUES ('edited in QGIS')")
c.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, last_change) VALUES ('notes_qgis', 'attributes', 'notes_qgis', '2024-01-01T00:00:00.000Z')")
for ext in ('', '-wal'):   # copies taken while the WAL is not checkpointed
    shutil.copy(p + ext, p.replace('wal.gpkg', 'walc.gpkg') + ext)
os._exit(0)
PYEOF
ok '[ -s "$OUT/walc.gpkg-wal" ]' "a GeoPackage with an uncheckpointed WAL"
"$GF" convert "$S/ban/adresses-54.csv.gz" -o "$OUT/walc.gpkg" --append --layer ban54 -q; rc=$?
ok '[ $rc -eq 0 ] && [ ! -e "$OUT/walc.gpkg-wal" ] && [ ! -e "$OUT/walc.gpkg-shm" ]' "--append into it: no stale -wal/-shm left"
ok '[ "$(probe "$OUT/walc.gpkg" x sql "SELECT txt FROM notes_qgis")" = "edited in QGIS" ] && [ "$(ogrcount "$OUT/walc.gpkg" ban54)" -gt 700 ] && validate "$OUT/walc.gpkg"' "the WAL's changes and the new layer are both there, file valid"
cp "$OUT/wal.gpkg-wal" "$OUT/walc.gpkg-wal" 2>/dev/null || cp "$OUT/walc.gpkg" "$OUT/walc.gpkg-wal"
"$GF" convert "$S/bal/bal-valid.csv" -o "$OUT/walc.gpkg" -q --overwrite; rc=$?
ok '[ $rc -eq 0 ] && [ ! -e "$OUT/walc.gpkg-wal" ] && validate "$OUT/walc.gpkg" && [ "$(ogrcount "$OUT/walc.gpkg" addresses)" = 6 ]' "overwriting a GeoPackage that had a -wal file"
echo "not a geopackage" > "$OUT/text.gpkg"
"$GF" convert "$S/bal/bal-valid.csv" -o "$OUT/text.gpkg" --append -q 2>"$OUT/text.err"; rc=$?
ok '[ $rc -ne 0 ] && [ "$(cat "$OUT/text.gpkg")" = "not a geopackage" ]' "--append to a non-GeoPackage fails, file untouched"

# 4. atomic: a failing run leaves nothing under the final name, no temporary file
"$GF" convert "$S/bal/bal-valid.csv" -o "$OUT/bad.gpkg" --t-srs EPSG:999999 -q 2>/dev/null
ok '[ ! -e "$OUT/bad.gpkg" ]' "no bad.gpkg after a failed run"
"$GF" convert "$S/bal/bal-valid.csv" -o "$OUT/bad2.gpkg" --layer gpkg_x -q 2>/dev/null; rc=$?
ok '[ $rc -ne 0 ] && [ ! -e "$OUT/bad2.gpkg" ]' "reserved layer name refused"
ok '[ -z "$(ls -A "$OUT" | grep "\.tmp-")" ]' "no temporary files left: $(ls -A "$OUT" | grep "\.tmp-")"

# 4b. a run killed while writing (endless input through a FIFO) leaves
# nothing under the final name
mkfifo "$OUT/feed"
( zcat "$S/ban/adresses-54.csv.gz"; while :; do zcat "$S/ban/adresses-54.csv.gz" | tail -n +2; done ) > "$OUT/feed" 2>/dev/null &
feedpid=$!
"$GF" convert - -o "$OUT/killed.gpkg" -q < "$OUT/feed" 2>/dev/null &
gfpid=$!
seen=0
for _ in $(seq 1 100); do
  if ls -A "$OUT" | grep -q "^\.killed\.gpkg\.tmp-"; then seen=1; break; fi
  sleep 0.1
done
sleep 0.3
kill -KILL $gfpid 2>/dev/null; wait $gfpid 2>/dev/null
kill -TERM $feedpid 2>/dev/null; wait $feedpid 2>/dev/null
ok '[ $seen = 1 ] && [ ! -e "$OUT/killed.gpkg" ]' "killed run: temporary file seen ($seen), no killed.gpkg"
rm -f "$OUT"/.killed.gpkg.tmp-* "$OUT/feed"

# 5. same bytes whatever the thread count (fixed last_change)
SOURCE_DATE_EPOCH=1700000000 "$GF" convert "$S"/bal/*.csv "$S/ban/adresses-54.csv.gz" -o "$OUT/j1.gpkg" -j 1 -q
SOURCE_DATE_EPOCH=1700000000 "$GF" convert "$S"/bal/*.csv "$S/ban/adresses-54.csv.gz" -o "$OUT/j3.gpkg" -j 3 -q
ok 'cmp -s "$OUT/j1.gpkg" "$OUT/j3.gpkg"' "-j 1 and -j 3 give the same bytes"
# the same bytes whatever the batches (their size follows -j: the rejects'
# pages once came between the rows' as each batch committed) and whatever
# the budget (the R-tree spilled keeps the order it has in memory): 30k
# rows, some rejected, over a 64K budget at -j 4
/usr/bin/python3 "$SRC/tools/gen_extract.py" --rows 30000 -o "$OUT/synth.csv" --seed 5 2>/dev/null
SOURCE_DATE_EPOCH=1700000000 "$GF" convert "$OUT/synth.csv" -o "$OUT/s1.gpkg" -j 1 -q
SOURCE_DATE_EPOCH=1700000000 "$GF" convert "$OUT/synth.csv" -o "$OUT/s4.gpkg" -j 4 --max-memory 64K -v 2> "$OUT/s4.log"
ok 'grep -q "sorted runs on disk" "$OUT/s4.log" && [ "$(probe "$OUT/s4.gpkg" x sql "SELECT count(*) FROM rejects")" -gt 0 ]' "30k rows at -j 4, 64K: the R-tree spilled, rows rejected"
ok 'cmp -s "$OUT/s1.gpkg" "$OUT/s4.gpkg"' "30k rows: -j 1 in memory and -j 4 spilled give the same bytes"

# 6. other formats through GDAL
"$GF" convert "$S"/bal/*.csv -o "$OUT/a.fgb" --summary json -q > "$OUT/fgb.json"; rc=$?
fw=$(json "$OUT/fgb.json" "d['written']")
ok '[ $rc -eq 0 ] && [ "$(ogrcount "$OUT/a.fgb" -al)" = "$fw" ]' "FlatGeobuf: GDAL counts every row"
ok 'ogrinfo -ro -so -al "$OUT/a.fgb" | grep -q "numero: Integer64"' "FlatGeobuf keeps types"
mkdir -p "$OUT/shp"
"$GF" convert "$S"/bal/*.csv -o "$OUT/shp/a.shp" --t-srs EPSG:2154 -q 2>/dev/null
ok '[ -s "$OUT/shp/a.shp" ] && [ -s "$OUT/shp/a.shx" ] && [ -s "$OUT/shp/a.dbf" ] && [ -s "$OUT/shp/a.prj" ]' "Shapefile: .shp .shx .dbf .prj"
ok '[ "$(ogrcount "$OUT/shp/a.shp" -al)" = "$(ogrcount "$OUT/a.fgb" -al)" ]' "Shapefile: same count as FlatGeobuf"
ok 'ogrinfo -ro -so -al "$OUT/shp/a.shp" | grep -q "Lambert"' "Shapefile: Lambert-93 .prj"
ok '[ -z "$(ls -A "$OUT/shp" | grep tmp)" ]' "Shapefile: temporary directory removed"
"$GF" convert "$S/bal/bal-valid.csv" -o "$OUT/a-ogr.csv" -f ogr:CSV -q
ok 'head -1 "$OUT/a-ogr.csv" | grep -q "^X,Y,.*cle_interop.*xy_crs"' "CSV through GDAL: X,Y then the columns, added ones included"
ok '[ "$(($(wc -l < "$OUT/a-ogr.csv") - 1))" = "$(ogrcount "$S/bal/bal-valid.csv" -al)" ]' "CSV through GDAL: one line per row"
"$GF" convert "$S"/bal/*.csv -o "$OUT/gdal.gpkg" -f ogr:GPKG -q
ok '[ "$(ogrcount "$OUT/gdal.gpkg" addresses)" = "$(ogrcount "$OUT/l93.gpkg" adresses_l93)" ]' "GPKG through GDAL's driver: same count"
"$GF" convert "$S/bal/bal-valid.csv" -o "$OUT/x.nope" -f NoSuchDriver -q 2>"$OUT/nodrv.err"; rc=$?
ok '[ $rc -ne 0 ] && grep -q "unknown output format" "$OUT/nodrv.err"' "unknown driver refused"
ok '[ -z "$(ls -A "$OUT" | grep "\.tmp-")" ]' "no temporary files left after the OGR writers"

echo "gpkg.sh: $checks checks, $fails failed"
[ "$fails" -eq 0 ]
