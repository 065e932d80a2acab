#!/usr/bin/env bash
# Outputs: the files a run writes are the ones the user named, all of them or
# none, never an input, never through a planted link, never in a CRS a GIS
# would misread. Crafted cases are generated here.
# Usage: outputs.sh GEOFLUX SRCDIR OUTDIR
set -u
GF=$1; SRC=$2; OUT=$3
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

echo "outputs: $checks checks, $fails failed"
[ $fails -eq 0 ]
