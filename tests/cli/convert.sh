#!/usr/bin/env bash
# End-to-end tests of `geoflux convert` on the bundled samples, with GDAL as
# the second reader. Usage: convert.sh GEOFLUX SRCDIR OUTDIR
set -u
GF=$1; SRC=$2; OUT=$3
rm -rf "$OUT"; mkdir -p "$OUT"
fails=0; checks=0
ok() { checks=$((checks+1)); if eval "$1"; then :; else fails=$((fails+1)); echo "FAIL: $2" >&2; fi; }
S=$SRC/data/samples
json() { /usr/bin/python3 -c "import json,sys; d=json.load(open('$1')); print($2)"; }

# 1. every sample, one run: counts add up, GDAL reads the GeoJSON
"$GF" convert "$S"/bal/*.csv "$S"/ban/adresses-54.csv.gz -o "$OUT/all.geojson" --summary json -q > "$OUT/sum.json"; rc=$?
ok '[ $rc -eq 0 ]' "convert all samples (rc=$rc)"
read_=$(json "$OUT/sum.json" "d['read']"); w=$(json "$OUT/sum.json" "d['written']"); r=$(json "$OUT/sum.json" "d['rejected']")
ok '[ "$read_" -eq $((w + r)) ]' "read = written + rejected ($read_ $w $r)"
ok '[ "$read_" -eq 7293 ]' "7293 data rows in the samples (got $read_)"
n=$(ogrinfo -ro -so -al "$OUT/all.geojson" 2>/dev/null | sed -n 's/^Feature Count: //p')
ok '[ "$n" = "$w" ]' "GDAL counts $n features, geoflux wrote $w"
ok 'ogrinfo -ro -so -al "$OUT/all.geojson" | grep -q "numero: Integer"' "numero is an integer for GDAL"
ok 'ogrinfo -ro -so -al "$OUT/all.geojson" | grep -q "certification_commune: Integer(Boolean)"' "certification is a boolean"

# 1b. multilingual columns (Breton in the Bruz BAL) are carried as properties
"$GF" convert "$S/bal/bal_35047_v1.3.csv" -o "$OUT/bruz.geojsonl" -q
ok 'grep -q "\"voie_nom_bre\":\"Straed ar C.hasia\"" "$OUT/bruz.geojsonl"' "Breton street name carried"
# (no Bruz row fills lieudit_complement_bre: a generated row does)
{ head -1 "$S/bal/bal_35047_v1.3.csv"; sed -n 2p "$S/bal/bal_35047_v1.3.csv" | awk 'BEGIN{FS=OFS=";"} {$22="Ar Vilin"; print}'; } > "$OUT/lieudit_bre.csv"
"$GF" convert "$OUT/lieudit_bre.csv" -o "$OUT/lieudit_bre.geojsonl" -q
ok 'grep -q "\"lieudit_complement_nom_bre\":\"Ar Vilin\"" "$OUT/lieudit_bre.geojsonl" && ! grep -q "\"lieudit_complement_bre\"" "$OUT/lieudit_bre.geojsonl"' "lieudit_complement_bre renamed"

# 2. Soual: x/y in CC44 detected and flagged
"$GF" convert "$S/bal/soual-81289-cc44-extract.csv" -o "$OUT/soual.geojsonl" -q
ok 'grep -c "\"xy_crs\":\"EPSG:3944\",\"pos_mismatch\":true" "$OUT/soual.geojsonl" | grep -qx 2' "Soual flagged CC44"

# 3. stdin + gzip, NDJSON, same bytes as from the file
"$GF" convert - -o "$OUT/ban-stdin.geojsonl" -q < "$S/ban/adresses-54.csv.gz"
"$GF" convert "$S/ban/adresses-54.csv.gz" -o "$OUT/ban-file.geojsonl" -q
ok 'cmp -s "$OUT/ban-stdin.geojsonl" "$OUT/ban-file.geojsonl"' "stdin gzip = file"
ok '[ "$(wc -l < "$OUT/ban-file.geojsonl")" -eq 712 ]' "712 BAN rows, one per line"
ok 'grep -q "\"cle_interop\":\"54084_0040_00002_bis\"" "$OUT/ban-file.geojsonl"' "legacy BAN: cle_interop derived"

# 4. Latin-1 copy of a UTF-8 file gives the same output
iconv -f UTF-8 -t WINDOWS-1252 "$S/bal/test-valid.csv" > "$OUT/latin1.csv" 2>/dev/null || \
  /usr/bin/python3 -c "import sys;open(sys.argv[2],'wb').write(open(sys.argv[1],encoding='utf-8-sig').read().encode('cp1252'))" "$S/bal/test-valid.csv" "$OUT/latin1.csv"
"$GF" convert "$S/bal/test-valid.csv" -o "$OUT/utf8.geojsonl" -q
"$GF" convert "$OUT/latin1.csv" -o "$OUT/latin1.geojsonl" 2> "$OUT/latin1.err"
ok 'cmp -s "$OUT/utf8.geojsonl" "$OUT/latin1.geojsonl"' "Latin-1 transcoded to the same UTF-8"
ok 'grep -q "Windows-1252" "$OUT/latin1.err"' "Latin-1 warning"

# 5. broken rows: rejects with line numbers and reasons, counts still add up
{ head -3 "$S/bal/bal-valid.csv"; printf '31591_xxxx_00013;;31591;"Rue des 3 Places;13;;Escoulis\n'; \
  printf '31591_xxxx_00015;;31591;Rue;15\n'; tail -n +4 "$S/bal/bal-valid.csv"; } > "$OUT/broken.csv"
"$GF" convert "$OUT/broken.csv" -o "$OUT/broken.geojson" --rejects "$OUT/broken.rejects.csv" --summary json -q > "$OUT/b.json"
ok '[ "$(json "$OUT/b.json" "d[\"read\"]")" -eq 8 ]' "8 rows read in broken.csv"
ok '[ "$(json "$OUT/b.json" "d[\"rejected\"]")" -ge 1 ]' "broken rows rejected"
ok '[ "$(json "$OUT/b.json" "d[\"read\"]")" -eq $(( $(json "$OUT/b.json" "d[\"written\"]") + $(json "$OUT/b.json" "d[\"rejected\"]") )) ]' "broken: read = written + rejected"
ok 'grep -q "^.*broken.csv;4;parse:" "$OUT/broken.rejects.csv"' "reject keeps line 4 and the reason"

# 6. default rejects file only when something was rejected
"$GF" convert "$S/bal/bal-valid.csv" -o "$OUT/clean.geojson" -q
ok '[ ! -e "$OUT/clean.geojson.rejects.csv" ]' "no rejects file for a clean run"

# 7. atomic: a failing run leaves nothing under the final name (bad CRS, missing input)
"$GF" convert "$S/bal/bal-valid.csv" -o "$OUT/never.geojson" --t-srs EPSG:999999 -q 2>/dev/null; rc=$?
ok '[ $rc -ne 0 ] && [ ! -e "$OUT/never.geojson" ]' "bad CRS: no output (rc=$rc)"
"$GF" convert "$OUT/missing.csv" -o "$OUT/never2.geojson" -q 2> "$OUT/missing.err"; rc=$?
ok '[ $rc -eq 2 ] && [ ! -e "$OUT/never2.geojson" ]' "missing input: exit 2, no output (rc=$rc)"
ok 'grep -q "missing.csv" "$OUT/missing.err"' "missing input named in the message"
ok '[ -z "$(ls -A "$OUT" | grep "\.tmp-")" ]' "no temporary file left"
printf 'foo;bar\n1;2\n' > "$OUT/notbal.csv"
"$GF" convert "$OUT/notbal.csv" -o "$OUT/never3.geojson" -q 2> "$OUT/notbal.err"; rc=$?
ok '[ $rc -eq 2 ] && grep -q "notbal.csv:1: not an address file" "$OUT/notbal.err"' "non-address file: exit 2 with file:line"

# 8. same bytes whatever the thread count, on a file larger than a batch
/usr/bin/python3 "$SRC/tools/gen_extract.py" --rows 30000 -o "$OUT/synth.csv" 2>/dev/null
"$GF" convert "$OUT/synth.csv" -o "$OUT/t1.geojson" -j 1 -q
"$GF" convert "$OUT/synth.csv" -o "$OUT/t4.geojson" -j 4 -q
ok 'cmp -s "$OUT/t1.geojson" "$OUT/t4.geojson"' "threads 1 and 4 give the same bytes"

# 8b. streaming: peak memory does not grow with the input (10x more rows, same RSS within 8 MB)
if [ -x /usr/bin/time ] && ! ldd "$GF" | grep -qE "libasan|libtsan"; then
  { cat "$OUT/synth.csv"; for i in 1 2 3 4 5 6 7 8 9; do tail -n +2 "$OUT/synth.csv"; done; } > "$OUT/synth300k.csv"
  /usr/bin/time -f %M -o "$OUT/rss_small" "$GF" convert "$OUT/synth.csv" -o "$OUT/m1.geojsonl" -q -j 2
  /usr/bin/time -f %M -o "$OUT/rss_big" "$GF" convert "$OUT/synth300k.csv" -o "$OUT/m2.geojsonl" -q -j 2
  small=$(tail -1 "$OUT/rss_small"); big=$(tail -1 "$OUT/rss_big")
  # the stream itself is bounded (threads x batch): 8 MB of slack; the one
  # thing that grows is the validation's file-wide table of BAN ids (one
  # 24-byte entry per distinct id at a load of 3/4 at most, capped at 256 MB,
  # src/validate/wide.c): 270k more ids may take 270000 * 32 B = 8.4 MB more
  ok '[ $((big - small)) -lt $((8192 + 270000 * 32 / 1024)) ]' "memory flat but for the id table: ${small} KB for 30k rows, ${big} KB for 300k rows"
  rm -f "$OUT/synth300k.csv" "$OUT/m1.geojsonl" "$OUT/m2.geojsonl"
  # 8c. the stream's memory does not grow with -j (a fixed number of rows in
  # flight, one validation table fed by every worker): a 300k-row BAL with
  # BAN ids, -j 1 and -j 8 within 10 %; with --max-memory, what grows with
  # the input (the BAN-id tables) stays within it: 300k rows take at most
  # the budget, the rows in flight (about 10 MB) and the output's write-behind
  # buffers (4 MB, ofile.h; 2k rows touch a few pages of them) more than 2k
  /usr/bin/python3 "$SRC/bench/gen_bal.py" --rows 300000 -o "$OUT/bal300k.csv"
  head -2001 "$OUT/bal300k.csv" > "$OUT/bal2k.csv"
  # A peak depends on timing too: how many pages of the write-behind buffers
  # a run touches depends on how far the disk lags, and which arena a worker
  # frees into depends on scheduling (CI saw -j 8 at 10.2 % over -j 1 once,
  # on a loaded machine). Each figure is the least of three runs: growth that
  # the design puts in with -j shows in every run, so it shows in the least.
  for j in 1 8; do
    best=
    for k in 1 2 3; do
      /usr/bin/time -f %M -o "$OUT/rss_j$j" "$GF" convert "$OUT/bal300k.csv" -o "$OUT/j$j.geojsonl" -q -j $j --overwrite
      r=$(tail -1 "$OUT/rss_j$j")
      if [ -z "$best" ] || [ "$r" -lt "$best" ]; then best=$r; fi
    done
    eval "j$j=\$best"
  done
  ok '[ $((j8 * 10)) -le $((j1 * 11)) ] && [ $((j1 * 10)) -le $((j8 * 11)) ]' "peak RSS -j 1 ${j1} KB, -j 8 ${j8} KB: within 10 %"
  ok 'cmp -s "$OUT/j1.geojsonl" "$OUT/j8.geojsonl"' "300k BAL rows: -j 1 and -j 8 give the same bytes"
  /usr/bin/time -f %M -o "$OUT/rss_b2k" "$GF" convert "$OUT/bal2k.csv" -o "$OUT/b2k.geojsonl" -q -j 8 --max-memory 16M
  /usr/bin/time -f %M -o "$OUT/rss_b300k" "$GF" convert "$OUT/bal300k.csv" -o "$OUT/b300k.geojsonl" -q -j 8 --max-memory 16M
  b2k=$(tail -1 "$OUT/rss_b2k"); b300k=$(tail -1 "$OUT/rss_b300k")
  ok '[ $((b300k - b2k)) -le $(((16 + 10 + 4) * 1024)) ]' "--max-memory 16M: ${b2k} KB for 2k rows, ${b300k} KB for 300k rows"
  rm -f "$OUT"/bal300k.csv "$OUT"/bal2k.csv "$OUT"/j[18].geojsonl "$OUT"/b2k.geojsonl "$OUT"/b300k.geojsonl
fi

# 9. output CRS: Lambert-93 GeoJSON declares its CRS, GDAL agrees
"$GF" convert "$S/bal/bal-valid.csv" -o "$OUT/l93.geojson" --t-srs EPSG:2154 -q
ok 'ogrinfo -ro -so -al "$OUT/l93.geojson" | grep -q "Lambert-93"' "GDAL sees Lambert-93"
ok 'grep -q "\[539416.13,6225601.11\]" "$OUT/l93.geojson"' "Lambert-93 coordinates round-trip"

# 10. help and usage errors
ok '"$GF" --help | grep -q convert' "global help"
ok '"$GF" convert --help | grep -q -- "--keep-invalid"' "convert help"
"$GF" convert -o x.geojson 2>/dev/null; rc=$?; ok '[ $rc -eq 2 ]' "no input: exit 2"
"$GF" frobnicate 2>/dev/null; rc=$?; ok '[ $rc -eq 2 ]' "unknown command: exit 2"

echo "$((checks - fails)) passed, $fails failed"
[ $fails -eq 0 ]
