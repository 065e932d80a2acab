#!/usr/bin/env bash
# Hostile and unusual input through `geoflux convert` and `validate`: every
# crafted file is generated here. Usage: ingest.sh GEOFLUX SRCDIR OUTDIR
set -u
GF=$1; SRC=$2; OUT=$3
rm -rf "$OUT"; mkdir -p "$OUT"
fails=0; checks=0
ok() { checks=$((checks+1)); if eval "$1"; then :; else fails=$((fails+1)); echo "FAIL: $2" >&2; fi; }
S=$SRC/data/samples
HDR='cle_interop;uid_adresse;voie_nom;lieudit_complement_nom;numero;suffixe;commune_insee;commune_nom;position;x;y;long;lat;cad_parcelles;source;date_der_maj;certification_commune'
row() { # row NUMERO DATE CERT [VOIE]
  printf '35088_0010_%05d;;%s;;%s;;35088;Corps-Nuds;entrée;357853.00;6774067.50;-1.5883112;47.9775042;;Rennes Métropole;%s;%s\n' \
    "$1" "${4:-Rue de Chanteloup}" "$1" "$2" "$3"
}

# 1. A DD/MM/YY date (8 bytes) types to a 10-byte ISO date without
#    overwriting the next values (certification_commune, errors).
{ echo "$HDR"; row 1 15/11/23 0; row 2 2023-11-15 0; } > "$OUT/ddmmyy.csv"
"$GF" convert "$OUT/ddmmyy.csv" -o "$OUT/ddmmyy.geojsonl" --keep-invalid -q
ok '[ $? -eq 0 ]' "DD/MM/YY: convert runs"
l1=$(sed -n 1p "$OUT/ddmmyy.geojsonl")
ok 'echo "$l1" | grep -q "\"date_der_maj\":\"2023-11-15\""' "DD/MM/YY: date typed to ISO ($l1)"
ok 'echo "$l1" | grep -q "\"certification_commune\":false"' "DD/MM/YY: certification_commune kept ($l1)"
ok 'echo "$l1" | grep -q "\"errors\":\"date_der_maj.date_invalide\""' "DD/MM/YY: errors intact ($l1)"
"$GF" convert "$OUT/ddmmyy.csv" -o "$OUT/ddmmyy.csv.out.csv" --keep-invalid -q
ok 'sed -n 2p "$OUT/ddmmyy.csv.out.csv" | grep -q ",2023-11-15,false,.*,date_der_maj.date_invalide,$"' "DD/MM/YY: CSV output"

# 2. A gzip file cut short is an error (file and offset), for every command
#    that reads CSV, also when the cut falls between rows; every member of a
#    multi-member gzip file is read.
zcat "$S/ban/adresses-54.csv.gz" > "$OUT/ban.csv"
gzip -c "$OUT/ban.csv" > "$OUT/full.csv.gz"
size=$(stat -c %s "$OUT/full.csv.gz")
head -c $((size / 2)) "$OUT/full.csv.gz" > "$OUT/cut.csv.gz"
head -c $((size - 8)) "$OUT/full.csv.gz" > "$OUT/cut8.csv.gz"   # all rows there, the trailer missing
"$GF" convert "$OUT/cut.csv.gz" -o "$OUT/cut.geojsonl" -q 2> "$OUT/cut.err"; rc=$?
ok '[ $rc -eq 2 ] && [ ! -e "$OUT/cut.geojsonl" ]' "truncated gzip: convert fails with exit 2 (a damaged input), no output (rc $rc)"
ok 'grep -q "cut.csv.gz: truncated gzip data: .* at byte [0-9]" "$OUT/cut.err"' "truncated gzip: message names file and offset"
"$GF" convert "$OUT/cut8.csv.gz" -o "$OUT/cut8.geojsonl" -q 2> /dev/null; rc=$?
ok '[ $rc -eq 2 ] && [ ! -e "$OUT/cut8.geojsonl" ]' "gzip without its trailer: convert fails with exit 2 (rc $rc)"
"$GF" validate "$OUT/cut8.csv.gz" > "$OUT/v.txt" 2>&1; rc=$?
ok '[ $rc -ge 2 ] && grep -q "truncated gzip" "$OUT/v.txt" && ! grep -qi "^valid" "$OUT/v.txt"' "truncated gzip: validate does not say valid (rc $rc)"
ok '! grep -q "cut8.csv.gz: .*cut8.csv.gz:" "$OUT/v.txt"' "validate names the file once: $(cat "$OUT/v.txt")"
"$GF" index build "$OUT/cut.csv.gz" -o "$OUT/cut.idx" -q 2> "$OUT/ib.err"; rc=$?
ok '[ $rc -eq 2 ] && [ ! -e "$OUT/cut.idx" ] && grep -q "truncated gzip" "$OUT/ib.err"' "truncated gzip: index build fails with exit 2 (rc $rc)"
# past its first 4 MB a gzip stream is inflated ahead by a thread of its
# own (src/ingest/stream.c): the same rows as the plain file, and a cut
# met by that thread is the same error at its place
{ cat "$OUT/ban.csv"; for i in $(seq 60); do tail -n +2 "$OUT/ban.csv"; done; } > "$OUT/big.csv"
gzip -c "$OUT/big.csv" > "$OUT/big.csv.gz"
"$GF" convert "$OUT/big.csv" -o "$OUT/big-plain.geojsonl" -q 2>/dev/null
"$GF" convert "$OUT/big.csv.gz" -o "$OUT/big-gz.geojsonl" -q 2>/dev/null
ok '[ $(stat -c %s "$OUT/big.csv") -gt 6000000 ] && [ -s "$OUT/big-gz.geojsonl" ] && cmp -s "$OUT/big-plain.geojsonl" "$OUT/big-gz.geojsonl"' "a 7 MB gzip file read ahead: the plain file's output"
bsize=$(stat -c %s "$OUT/big.csv.gz")
head -c $((bsize * 3 / 4)) "$OUT/big.csv.gz" > "$OUT/bigcut.csv.gz"
"$GF" convert "$OUT/bigcut.csv.gz" -o "$OUT/bigcut.geojsonl" -q 2> "$OUT/bigcut.err"; rc=$?
ok '[ $rc -eq 2 ] && [ ! -e "$OUT/bigcut.geojsonl" ] && grep -q "bigcut.csv.gz: truncated gzip data: .* at byte [0-9]" "$OUT/bigcut.err"' "a big gzip file cut at 3/4: exit 2, file and offset named (rc $rc)"
rm -f "$OUT"/big*.csv* "$OUT"/big-*.geojsonl
printf 'nom;adresse\nx;1 rue de la paix nancy\n' | gzip -c | head -c 20 > "$OUT/q.csv.gz"
"$GF" geocode --addresses "$S/ban/adresses-54.csv.gz" "$OUT/q.csv.gz" -o "$OUT/q.csv" -q 2> "$OUT/gc.err"; rc=$?
ok '[ $rc -eq 2 ] && [ ! -e "$OUT/q.csv" ] && grep -q "truncated gzip" "$OUT/gc.err"' "truncated gzip: geocode fails with exit 2 (rc $rc)"
{ head -1 "$OUT/ban.csv" | gzip -c; sed -n 2,300p "$OUT/ban.csv" | gzip -c; sed -n '301,$p' "$OUT/ban.csv" | gzip -c; } > "$OUT/multi.csv.gz"
"$GF" convert "$OUT/multi.csv.gz" -o "$OUT/multi.geojsonl" -q; rc=$?
ok '[ $rc -eq 0 ] && [ "$(wc -l < "$OUT/multi.geojsonl")" -eq 712 ]' "multi-member gzip: every member read"

# 3. A NUL byte rejects its row with a reason; it never cuts a value short.
{ echo "$HDR"; row 1 2023-11-15 1; row 2 2023-11-15 1 "Rue $(printf '\351')t$(printf '\351') A@B" | sed 's/@/\x00/' ; row 3 2023-11-15 1; } > "$OUT/nul.csv"
ok '[ "$(tr -d -c "\000" < "$OUT/nul.csv" | wc -c)" -eq 1 ]' "NUL test file has its NUL byte"
"$GF" convert "$OUT/nul.csv" -o "$OUT/nul.geojsonl" --rejects "$OUT/nul.rej.csv" -q --summary json > "$OUT/nul.json"
ok '[ "$(wc -l < "$OUT/nul.geojsonl")" -eq 2 ] && ! grep -q "Rue .*A\"" "$OUT/nul.geojsonl"' "NUL: the row is not written cut short"
ok 'grep -q "^.*nul.csv;3;parse: column 3: NUL byte" "$OUT/nul.rej.csv"' "NUL: rejected with its reason and line"
ok 'grep -q "\"read\":3,\"written\":2,\"rejected\":1" "$OUT/nul.json"' "NUL: read = written + rejected"
"$GF" validate "$OUT/nul.csv" > "$OUT/nul.v.txt" 2>&1; rc=$?
ok '[ $rc -eq 1 ] && grep -q "file.parse.NulByte" "$OUT/nul.v.txt" && ! grep -q "MissingQuotes" "$OUT/nul.v.txt"' "NUL: validate names it (not missing quotes; rc $rc): $(cat "$OUT/nul.v.txt")"

# 4. One stray Windows-1252 byte does not double-encode the record's UTF-8;
#    a whole Windows-1252 file is still read (with its warning).
{ echo "$HDR"; row 1 2023-11-15 1 "Rue du b$(printf '\342')timent caf$(printf '\351')"; } > "$OUT/stray.csv"
"$GF" convert "$OUT/stray.csv" -o "$OUT/stray.geojsonl" -q 2> /dev/null
ok 'grep -q "\"voie_nom\":\"Rue du bâtiment café\"" "$OUT/stray.geojsonl"' "stray byte: valid UTF-8 kept, the byte read as Windows-1252"
ok 'grep -q "\"position\":\"entrée\"" "$OUT/stray.geojsonl"' "stray byte: the rest of the record not re-decoded"
{ echo "$HDR"; row 1 2023-11-15 1 "Rue de l'Église"; } | iconv -f UTF-8 -t WINDOWS-1252 > "$OUT/w1252.csv"
"$GF" convert "$OUT/w1252.csv" -o "$OUT/w1252.geojsonl" 2> "$OUT/w1252.err"
ok 'grep -q "not UTF-8: read as Windows-1252" "$OUT/w1252.err" && grep -q "\"voie_nom\":\"Rue de l.Église\",.*\"position\":\"entrée\"" "$OUT/w1252.geojsonl"' "Windows-1252 file: read, with its warning"

# 5. A record over the maximum record size (1 MiB) is ONE rejected row that
#    says its length; read counts it once and the next rows keep their lines.
big=$(head -c 1500000 /dev/zero | tr '\0' 'A')
{ echo "$HDR"; row 1 2023-11-15 1; row 2 2023-11-15 1 "$big"; row 3 2023-11-15 1; echo "35088_0010_00004;;Rue;;4;;35088;Corps-Nuds;entrée;357853.00;6774067.50;-1.5883112;47.9775042;;S;2023-13-45;1"; } > "$OUT/long.csv"
"$GF" convert "$OUT/long.csv" -o "$OUT/long.geojsonl" --rejects "$OUT/long.rej.csv" -q --summary json > "$OUT/long.json" 2> /dev/null
ok 'grep -q "\"read\":4,\"written\":2,\"rejected\":2" "$OUT/long.json"' "long record: read 4 = 2 written + 2 rejected ($(cat "$OUT/long.json"))"
ok 'grep -q "long.csv;3;\"parse: record too long: 1500.* bytes, more than the maximum record size (1048576 bytes); raw text cut to its first 1048576 bytes\"" "$OUT/long.rej.csv"' "long record: one reject with its length"
ok 'grep -q "^[^;]*long.csv;5;" "$OUT/long.rej.csv"' "long record: the next lines keep their numbers"
"$GF" validate "$OUT/long.csv" > "$OUT/long.v.txt" 2>&1; rc=$?
ok '[ $rc -eq 1 ] && grep -q "file.parse.RecordTooLong" "$OUT/long.v.txt" && ! grep -q "MissingQuotes" "$OUT/long.v.txt"' "long record: validate names it (rc $rc)"

# 6. A file that is not CSV is refused up front with one message naming it
#    (exit 2), not read as a CSV with "field missing" warnings.
notcsv() { # notcsv FILE WHAT [stdin]
  what=$2
  if [ "${3:-}" = stdin ]; then "$GF" convert - -o "$OUT/nc.geojsonl" < "$1" > "$OUT/nc.out" 2> "$OUT/nc.err"; rc=$?; name="<stdin>"
  else "$GF" convert "$1" -o "$OUT/nc.geojsonl" > "$OUT/nc.out" 2> "$OUT/nc.err"; rc=$?; name=$1; fi
  ok '[ $rc -eq 2 ] && [ ! -e "$OUT/nc.geojsonl" ]' "not CSV ($2): exit 2, no output (rc $rc)"
  ok 'grep -qF "$name: $what" "$OUT/nc.err" && grep -q "not a CSV file: only CSV (BAL, BAN, SCDL) is read" "$OUT/nc.err"' "not CSV ($2): message ($(head -c 300 "$OUT/nc.err"))"
  ok '[ "$(wc -l < "$OUT/nc.err")" -eq 1 ] && ! grep -q "field missing\|numero\|too many fields" "$OUT/nc.err"' "not CSV ($2): one line, no CSV warnings"
}
notcsv "$S/boundaries/communes-81-tarn.geojson" "a JSON or GeoJSON file"
gzip -c "$S/boundaries/communes-81-tarn.geojson" > "$OUT/tarn.geojson.gz"
notcsv "$OUT/tarn.geojson.gz" "a JSON or GeoJSON file"
if ogr2ogr -f GPKG "$OUT/tarn.gpkg" "$S/boundaries/communes-81-tarn.geojson" 2>/dev/null; then
  notcsv "$OUT/tarn.gpkg" "a GeoPackage or SQLite database"
  notcsv "$OUT/tarn.gpkg" "a GeoPackage or SQLite database" stdin
  ogr2ogr -f "ESRI Shapefile" "$OUT/shp" "$S/boundaries/communes-81-tarn.geojson" 2>/dev/null
  notcsv "$OUT/shp/communes-81-tarn.shp" "an ESRI Shapefile (.shp)"
  notcsv "$OUT/shp/communes-81-tarn.dbf" "binary data"
  (cd "$OUT/shp" && python3 -c "import zipfile,glob; z=zipfile.ZipFile('../tarn.zip','w'); [z.write(f) for f in glob.glob('*')]")
  notcsv "$OUT/tarn.zip" "a zip archive"
else
  ok 'false' "ogr2ogr could not write the test GeoPackage"
fi
"$GF" validate "$S/boundaries/communes-81-tarn.geojson" > "$OUT/ncv.txt" 2>&1; rc=$?
ok '[ $rc -eq 2 ] && grep -q "a JSON or GeoJSON file, not a CSV file" "$OUT/ncv.txt"' "not CSV: validate refuses too (rc $rc)"
# a CSV whose first value starts with a brace is still CSV
{ echo "{id};numero"; echo "1;2"; } > "$OUT/brace.csv"
"$GF" convert "$OUT/brace.csv" -o "$OUT/brace.geojsonl" 2> "$OUT/brace.err"
ok '! grep -q "not a CSV file" "$OUT/brace.err"' "a CSV starting with { is read as CSV"

echo "$checks checks, $fails failed"
[ "$fails" -eq 0 ]
