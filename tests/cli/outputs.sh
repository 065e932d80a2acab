#!/usr/bin/env bash
# Outputs: the files a run writes are the ones the user named, all of them or
# none, never an input, never through a planted link, never in a CRS a GIS
# would misread. Crafted cases are generated here.
# Usage: outputs.sh GEOFLUX SRCDIR OUTDIR
set -u
GF=$1; SRC=$2; OUT=$3
case $GF in /*) ;; *) GF=$PWD/$GF ;; esac
rm -rf "$OUT"; mkdir -p "$OUT"
fails=0; checks=0
ok() { checks=$((checks+1)); if eval "$1"; then :; else fails=$((fails+1)); echo "FAIL: $2" >&2; fi; }
S=$SRC/data/samples
V=$S/bal/bal-valid.csv
notmp() { [ -z "$(ls -A "$1" | grep '\.tmp-')" ]; }

# ---- issue 12 item 11: an output that is an input, or another output -----------------
mkdir -p "$OUT/in"; cp "$V" "$OUT/in/a.csv"; cp "$V" "$OUT/in/orig.csv"
ln -s a.csv "$OUT/in/link.csv"; ln "$OUT/in/a.csv" "$OUT/in/hard.csv"
for spelled in "$OUT/in/./a.csv" "$OUT/in/../in/a.csv" "$OUT/in/link.csv" "$OUT/in/hard.csv"; do
  "$GF" convert "$OUT/in/a.csv" -o "$spelled" -f geojson -q 2>"$OUT/e11"; rc=$?
  ok '[ $rc -eq 2 ] && cmp -s "$OUT/in/a.csv" "$OUT/in/orig.csv" && grep -q "input" "$OUT/e11"' \
     "-o $spelled (the input) refused, input intact: rc=$rc $(cat "$OUT/e11")"
done
"$GF" convert "$OUT/in/a.csv" -o "$OUT/in/x.geojson" --rejects "$OUT/in/./a.csv" -q 2>"$OUT/e11"; rc=$?
ok '[ $rc -eq 2 ] && cmp -s "$OUT/in/a.csv" "$OUT/in/orig.csv" && grep -q -- "--rejects" "$OUT/e11"' "--rejects = input refused: $(cat "$OUT/e11")"
"$GF" convert "$OUT/in/a.csv" -o "$OUT/in/x.geojson" --communes "$S/boundaries/communes-31-haute-garonne.geojson" \
  --stats "$OUT/in/hard.csv" -q 2>"$OUT/e11"; rc=$?
ok '[ $rc -eq 2 ] && cmp -s "$OUT/in/a.csv" "$OUT/in/orig.csv" && grep -q -- "--stats" "$OUT/e11"' "--stats = input refused: $(cat "$OUT/e11")"
"$GF" convert "$OUT/in/a.csv" -o "$OUT/in/same.csv" --rejects "$OUT/in/../in/same.csv" -q 2>"$OUT/e11"; rc=$?
ok '[ $rc -eq 2 ] && [ ! -e "$OUT/in/same.csv" ] && grep -q "same file" "$OUT/e11"' "two outputs with one path refused: $(cat "$OUT/e11")"
ok 'notmp "$OUT/in"' "no temporary file left by refused runs"

# ---- issue 12 item 12: long output paths are not cut --------------------------------
# a directory whose name makes "$D/data.csv" exactly 1023 bytes: the old
# fixed buffers cut "$D/data.csv.geojson" to "$D/data.csv", the input
D=$OUT/long
need=$((1023 - ${#D} - 9))
while [ $need -gt 200 ]; do D=$D/$(printf 'd%.0s' $(seq 1 199)); need=$((need - 200)); done
D=$D/$(printf 'e%.0s' $(seq 1 $((need - 1))))
mkdir -p "$D"; cp "$V" "$D/data.csv"
ok '[ $(printf %s "$D/data.csv" | wc -c) -eq 1023 ]' "crafted input path is 1023 bytes"
"$GF" convert "$D/data.csv" -o "$D/data.csv.geojson" -q; rc=$?
ok '[ $rc -eq 0 ] && cmp -s "$D/data.csv" "$V" && [ "$(ogrinfo -ro -so -al "$D/data.csv.geojson" 2>/dev/null | sed -n "s/^Feature Count: //p")" = 6 ]' \
   "long output path written in full, input intact (rc=$rc)"
"$GF" convert "$D/data.csv" -o "$D/data.csv.gpkg" -q 2>"$OUT/e12"; rc=$?
ok '[ $rc -eq 2 ] && [ ! -e "$D/data.csv.gpkg" ] && grep -q "too long for an SQLite file" "$OUT/e12" && cmp -s "$D/data.csv" "$V"' \
   "long path: GeoPackage refused (SQLite opens < 512 bytes), input intact (rc=$rc)"
LONG=$OUT/$(printf 'f%.0s' $(seq 1 250))/$(printf 'g%.0s' $(seq 1 250))
P=$LONG; while [ ${#P} -lt 4200 ]; do P=$P/$(printf 'h%.0s' $(seq 1 250)); done
"$GF" convert "$V" -o "$P/x.geojson" -q 2>"$OUT/e12"; rc=$?
ok '[ $rc -eq 2 ] && grep -q "too long" "$OUT/e12"' "a path over PATH_MAX is refused with a message: $(head -c 300 "$OUT/e12")"

# ---- issue 12 item 13: temporaries are unpredictable, links never followed --------------
mkdir -p "$OUT/sym"; echo "precious" > "$OUT/sym/target"
# the old name was .OUT.tmp-PID: plant it for the PID the run will have
sh -c 'ln -s "$1/target" "$1/.o.geojson.tmp-$$"; ln -s "$1/target" "$1/.o.geojson.rejects.csv.tmp-$$"; exec "$2" convert "$3" -o "$1/o.geojson" -q' \
   sh "$OUT/sym" "$GF" "$S/bal/1.5-numero-zero.csv" 2>/dev/null; rc=$?
ok '[ "$(cat "$OUT/sym/target")" = precious ]' "a planted symlink is not followed (target intact)"
ok '[ -f "$OUT/sym/o.geojson" ] && [ ! -L "$OUT/sym/o.geojson" ] && [ $rc -eq 0 ]' "the output is a regular file, not the planted link (rc=$rc)"
ls -A "$OUT/sym" | grep -q "\.tmp-" >/dev/null && rm -f "$OUT"/sym/.*.tmp-*

# ---- issue 12 item 9 and item 14: all outputs or none ---------------------------------
# A rejects file that fails at its last write (RLIMIT_FSIZE) after the output
# is complete: the run fails and leaves neither file (the old run left the
# output under its final name, and a Shapefile's .dbf/.shx/.prj/.cpg).
python3 - "$V" "$OUT/rj.csv" <<'PY'
import sys
src, dst = sys.argv[1], sys.argv[2]
lines = open(src, encoding="utf-8").read().splitlines()
with open(dst, "w", encoding="utf-8") as f:
    f.write(lines[0] + "\n")
    for l in lines[1:4]: f.write(l + "\n")
    for i in range(120): f.write("broken;" + "x" * 180 + "\n")   # too few fields: rejected with its raw text
PY
"$GF" convert "$OUT/rj.csv" -o "$OUT/probe.geojson" -q 2>/dev/null
R=$(stat -c %s "$OUT/probe.geojson.rejects.csv")
LIM=$(( (R - 1) / 4096 * 4 ))     # KiB: a multiple of 4096 bytes, just under the rejects' size
ok '[ $R -gt $((LIM * 1024)) ] && [ $(stat -c %s "$OUT/probe.geojson") -lt $((LIM * 1024)) ]' "crafted: rejects ($R) over the limit, output under it"
for o in fsz.geojson fsz.csv fsz.shp; do
  mkdir -p "$OUT/fsz"
  ( trap '' XFSZ; ulimit -f $LIM; exec "$GF" convert "$OUT/rj.csv" -o "$OUT/fsz/$o" -q ) 2>"$OUT/e9"; rc=$?
  ok '[ $rc -eq 3 ] && [ -z "$(ls -A "$OUT/fsz")" ]' "$o: rejects cannot be written -> exit 3, no output, nothing left: rc=$rc $(ls -A "$OUT/fsz" | tr '\n' ' ') $(cat "$OUT/e9")"
  rm -rf "$OUT/fsz"
done

# SIGINT/SIGTERM: the temporaries go with the process
for sig in TERM INT; do
  mkdir -p "$OUT/sig"; mkfifo "$OUT/sig/feed"
  ( zcat "$S/ban/adresses-54.csv.gz"; while :; do zcat "$S/ban/adresses-54.csv.gz" | tail -n +2; done ) > "$OUT/sig/feed" 2>/dev/null &
  feed=$!
  "$GF" convert - -o "$OUT/sig/s.gpkg" -q < "$OUT/sig/feed" 2>/dev/null &
  gfpid=$!
  seen=0
  for _ in $(seq 1 100); do ls -A "$OUT/sig" | grep -q '^\.s\.gpkg\.tmp-' && { seen=1; break; }; sleep 0.1; done
  kill -$sig $gfpid
  # bounded: a process that ignores the signal (SIGINT in a background job) is a failure, not a hang
  for _ in $(seq 1 50); do kill -0 $gfpid 2>/dev/null || break; sleep 0.1; done
  kill -KILL $gfpid 2>/dev/null; wait $gfpid; rc=$?
  kill $feed 2>/dev/null; wait $feed 2>/dev/null
  ok '[ $seen = 1 ] && [ $rc -ne 137 ] && [ $rc -gt 128 ] && [ -z "$(ls -A "$OUT/sig" | grep -v "^feed$")" ]' \
     "SIG$sig: temporary seen ($seen), exit $rc, nothing left: $(ls -A "$OUT/sig" | tr '\n' ' ')"
  rm -rf "$OUT/sig"
done

# ---- issue 13 item 5: column names are escaped in JSON ----------------------------------
printf 'adresse,"na""me\\x\ty"\n"1 rue de la Mairie 35170 Bruz",v1\n' > "$OUT/q.csv"
for o in q.geojson q.geojsonl; do
  "$GF" geocode --addresses "$S/bal/bal_35047_v1.3.csv" "$OUT/q.csv" -o "$OUT/$o" --columns adresse -q; rc=$?
  ok '[ $rc -eq 0 ] && python3 -c "
import json,sys
t=open(sys.argv[1]).read()
d=json.loads(t) if sys.argv[1].endswith(\"geojson\") else json.loads(t.splitlines()[0])
f=d[\"features\"][0] if \"features\" in d else d
assert f[\"properties\"][\"na\\\"me\\\\x\\ty\"]==\"v1\"
" "$OUT/$o"' "$o: a column name with a quote, a backslash and a tab is valid JSON"
done

# ---- issue 13 item 3: an existing output is replaced only with --overwrite ---------------
mkdir -p "$OUT/ow"
"$GF" convert "$V" -o "$OUT/ow/a.gpkg" -q; cp "$OUT/ow/a.gpkg" "$OUT/ow/a.before"
"$GF" convert "$S/bal/bal_35047_v1.3.csv" -o "$OUT/ow/a.gpkg" -q 2>"$OUT/e3"; rc=$?
ok '[ $rc -eq 2 ] && cmp -s "$OUT/ow/a.gpkg" "$OUT/ow/a.before" && grep -q -- "--overwrite" "$OUT/e3"' "existing .gpkg refused without --overwrite: $(cat "$OUT/e3")"
"$GF" convert "$S/bal/bal_35047_v1.3.csv" -o "$OUT/ow/a.gpkg" -q --overwrite; rc=$?
ok '[ $rc -eq 0 ] && ! cmp -s "$OUT/ow/a.gpkg" "$OUT/ow/a.before"' "--overwrite replaces it"
echo keep > "$OUT/ow/r.csv"
"$GF" convert "$V" -o "$OUT/ow/b.geojson" --rejects "$OUT/ow/r.csv" -q 2>"$OUT/e3"; rc=$?
ok '[ $rc -eq 2 ] && [ "$(cat "$OUT/ow/r.csv")" = keep ] && [ ! -e "$OUT/ow/b.geojson" ]' "an existing --rejects file is refused too: $(cat "$OUT/e3")"
# the default rejects file belongs to the run: a stale one is refused, and removed by --overwrite when the run has none
echo stale > "$OUT/ow/c.geojson.rejects.csv"
"$GF" convert "$V" -o "$OUT/ow/c.geojson" -q 2>"$OUT/e3"; rc=$?
ok '[ $rc -eq 2 ] && [ ! -e "$OUT/ow/c.geojson" ]' "a stale default rejects file is refused without --overwrite"
"$GF" convert "$V" -o "$OUT/ow/c.geojson" -q --overwrite; rc=$?
ok '[ $rc -eq 0 ] && [ ! -e "$OUT/ow/c.geojson.rejects.csv" ]' "--overwrite and no rejects: the stale rejects file is gone"
"$GF" convert "$S/bal/1.5-numero-zero.csv" -o "$OUT/ow/e.gpkg" -q 2>/dev/null; echo old > "$OUT/ow/e.gpkg.rejects.csv"
"$GF" convert "$S/bal/1.5-numero-zero.csv" -o "$OUT/ow/e.gpkg" --append --layer again -q 2>"$OUT/e3"; rc=$?
ok '[ $rc -eq 0 ]' "--append: an existing default rejects file does not stop the run: $(cat "$OUT/e3")"
ok 'notmp "$OUT/ow"' "no temporary file left"

# ---- issue 13 item 8: --append where the format cannot append ----------------------------
"$GF" convert "$V" -o "$OUT/ow/d.geojson" -q
for o in d.geojson d.geojsonl d.csv d.fgb; do
  [ -e "$OUT/ow/$o" ] && cp "$OUT/ow/$o" "$OUT/ow/$o.before"
  "$GF" convert "$V" -o "$OUT/ow/$o" --append -q 2>"$OUT/e8"; rc=$?
  ok '[ $rc -eq 2 ] && grep -q "cannot be appended" "$OUT/e8" && { [ ! -e "$OUT/ow/$o.before" ] || cmp -s "$OUT/ow/$o" "$OUT/ow/$o.before"; }' "--append to $o refused: $(cat "$OUT/e8")"
done

# ---- issue 12 item 14: formats that need a file are not written to a file named "-" -------
mkdir -p "$OUT/dash"
for f in pmtiles mbtiles gpkg fgb; do
  (cd "$OUT/dash" && "$GF" convert "$V" -o - -f $f -q >/dev/null 2>"$OUT/e14"); rc=$?
  ok '[ $rc -eq 2 ] && [ -z "$(ls -A "$OUT/dash")" ] && grep -q "standard output" "$OUT/e14"' "-o - -f $f refused, no file: $(cat "$OUT/e14")"
done

# ---- issue 13 item 2: never a file that a GIS reads in the wrong CRS ---------------------
mkdir -p "$OUT/crs"
for o in l93.geojsonl l93.ndjson; do
  "$GF" convert "$V" -o "$OUT/crs/$o" --t-srs EPSG:2154 -q 2>"$OUT/e2"; rc=$?
  ok '[ $rc -eq 2 ] && [ ! -e "$OUT/crs/$o" ] && grep -q "gpkg" "$OUT/e2"' "$o with EPSG:2154 refused, naming the formats that carry a CRS: $(cat "$OUT/e2")"
done
"$GF" convert "$V" -o "$OUT/crs/l93.geojson" --t-srs EPSG:2154 -q; rc=$?
ok '[ $rc -eq 0 ] && ogrinfo -ro -al -so "$OUT/crs/l93.geojson" 2>/dev/null | grep -q "Lambert-93"' "GeoJSON in EPSG:2154: GDAL reads Lambert-93"
ok 'ogrinfo -ro -al "$OUT/crs/l93.geojson" 2>/dev/null | grep -q "POINT (539416.13 6225601.11)"' "GeoJSON in EPSG:2154: GDAL reads the metres"
"$GF" convert "$V" -o "$OUT/crs/custom.geojson" --t-srs "+proj=lcc +lat_0=46.5 +lon_0=3 +lat_1=49 +lat_2=44 +x_0=700000 +y_0=6600000 +ellps=GRS80 +units=m" -q 2>"$OUT/e2"; rc=$?
ok '[ $rc -eq 2 ] && [ ! -e "$OUT/crs/custom.geojson" ]' "GeoJSON with a CRS that has no EPSG code refused: $(cat "$OUT/e2")"
for o in t.pmtiles t.mbtiles; do
  "$GF" convert "$V" -o "$OUT/crs/$o" --t-srs EPSG:2154 -q 2>"$OUT/e2"; rc=$?
  ok '[ $rc -eq 2 ] && [ ! -e "$OUT/crs/$o" ]' "$o with --t-srs EPSG:2154 refused (tiles are Web Mercator): $(cat "$OUT/e2")"
done
"$GF" convert "$V" -o "$OUT/crs/w.geojsonl" --t-srs EPSG:4326 -q; rc=$?
ok '[ $rc -eq 0 ]' "NDJSON with --t-srs EPSG:4326 is fine"

# ---- issue 13 item 6: CSV and --t-srs ------------------------------------------------------
"$GF" convert "$V" -o "$OUT/crs/l93.csv" --t-srs EPSG:2154 -q 2>"$OUT/e6"; rc=$?
ok '[ $rc -eq 2 ] && [ ! -e "$OUT/crs/l93.csv" ] && grep -q "ogr:CSV" "$OUT/e6"' "-o .csv --t-srs refused, pointing to ogr:CSV: $(cat "$OUT/e6")"
"$GF" convert "$V" -o "$OUT/crs/l93x.csv" -f ogr:CSV --t-srs EPSG:2154 -q 2>/dev/null; rc=$?
ok '[ $rc -eq 0 ] && head -1 "$OUT/crs/l93x.csv" | grep -q "^X,Y," && sed -n 2p "$OUT/crs/l93x.csv" | grep -q "^539416.1[0-9]*,6225601.1"' \
   "-f ogr:CSV writes X,Y in the output CRS: $(sed -n 2p "$OUT/crs/l93x.csv" | cut -c1-40)"

# ---- issue 13 item 15: one name, one writer -----------------------------------------------
mkdir -p "$OUT/names"
for f in gpkg GPKG GeoPackage; do
  SOURCE_DATE_EPOCH=1700000000 "$GF" convert "$S/bal/bal_35047_v1.3.csv" -o "$OUT/names/$f.gpkg" -f $f -q
done
ok 'cmp -s "$OUT/names/gpkg.gpkg" "$OUT/names/GPKG.gpkg" && cmp -s "$OUT/names/gpkg.gpkg" "$OUT/names/GeoPackage.gpkg"' "-f gpkg, -f GPKG, -f GeoPackage: the same writer, the same bytes"
ok 'ogrinfo -ro "$OUT/names/GPKG.gpkg" 2>/dev/null | grep -q "rejects"' "-f GPKG has the rejects layer"
"$GF" convert "$S/bal/bal_35047_v1.3.csv" -o "$OUT/names/gdal.gpkg" -f ogr:GPKG -q; rc=$?
ok '[ $rc -eq 0 ] && ! cmp -s "$OUT/names/gpkg.gpkg" "$OUT/names/gdal.gpkg" && [ "$(ogrinfo -ro -so -al "$OUT/names/gdal.gpkg" 2>/dev/null | sed -n "s/^Feature Count: //p")" -gt 0 ]' "-f ogr:GPKG is GDAL's writer"
"$GF" convert "$V" -o "$OUT/names/x.out" -f NoSuchDriver -q 2>"$OUT/e15"; rc=$?
ok '[ $rc -eq 2 ] && grep -q "ogr:DRIVER" "$OUT/e15"' "unknown -f refused with the list: $(cat "$OUT/e15")"
"$GF" convert --help | grep -q "ogr:GPKG"; ok '[ $? -eq 0 ]' "--help documents ogr:DRIVER"

# ---- issue 14: SOURCE_DATE_EPOCH: two runs a second apart give the same bytes ------------------
mkdir -p "$OUT/sde"
for o in a.gpkg a.mbtiles a.pmtiles; do
  SOURCE_DATE_EPOCH=1700000000 "$GF" convert "$S/bal/bal_35047_v1.3.csv" -o "$OUT/sde/1-$o" -q
  sleep 1.1
  SOURCE_DATE_EPOCH=1700000000 "$GF" convert "$S/bal/bal_35047_v1.3.csv" -o "$OUT/sde/2-$o" -q
  ok 'cmp -s "$OUT/sde/1-$o" "$OUT/sde/2-$o"' "$o: identical bytes a second apart with SOURCE_DATE_EPOCH"
done
ok 'python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); assert {r[0] for r in c.execute(\"select last_change from gpkg_contents\")}=={\"2023-11-14T22:13:20.000Z\"}" "$OUT/sde/1-a.gpkg"' "last_change is SOURCE_DATE_EPOCH"
SOURCE_DATE_EPOCH=yesterday "$GF" convert "$V" -o "$OUT/sde/bad.gpkg" -q 2>"$OUT/e14"; rc=$?
ok '[ $rc -eq 2 ] && [ ! -e "$OUT/sde/bad.gpkg" ] && grep -q SOURCE_DATE_EPOCH "$OUT/e14"' "a SOURCE_DATE_EPOCH that is not a number is refused: $(cat "$OUT/e14")"

echo "outputs: $checks checks, $fails failed"
[ $fails -eq 0 ]
