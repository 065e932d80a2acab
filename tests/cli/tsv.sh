#!/usr/bin/env bash
# The TSV writer (src/write/tsv.c), the example format of docs/design.md:
# picked by its extension and by -f, read back by two readers we did not
# write (Python's csv module, GDAL's CSV driver through ogrinfo), same
# positions and values as the GeoJSON output of the same run, same bytes to
# a file and to standard output and whatever the thread count; values
# holding tabs, quotes and line breaks survive; the CRS warning and the
# format list of the messages come from the format table.
# Usage: tsv.sh GEOFLUX SRCDIR OUTDIR
set -u
GF=$1; SRC=$2; OUT=$3
case $GF in /*) ;; *) GF=$PWD/$GF ;; esac
rm -rf "$OUT"; mkdir -p "$OUT"
fails=0; checks=0
ok() { checks=$((checks+1)); if eval "$1"; then :; else fails=$((fails+1)); echo "FAIL: $2" >&2; fi; }
command -v python3 >/dev/null || { echo "SKIPPED: python3 missing"; exit 77; }
S=$SRC/data/samples
export SOURCE_DATE_EPOCH=1700000000

# one sample per kind of input: BAL 1.3 (5843 rows, several batches), BAN gzip
for in in "$S/bal/bal_35047_v1.3.csv" "$S/ban/adresses-54.csv.gz"; do
  b=$(basename "$in"); b=${b%%.*}
  "$GF" convert "$in" -o "$OUT/$b.tsv" -j 4 -q 2>"$OUT/$b.err"; rc=$?
  ok '[ $rc -eq 0 ]' "$b: convert to .tsv: rc=$rc $(cat "$OUT/$b.err")"
  "$GF" convert "$in" -o "$OUT/$b.geojson" -j 4 -q 2>>"$OUT/$b.err"
  "$GF" convert "$in" -o - -f tsv -j 1 -q > "$OUT/$b.stdout.tsv" 2>>"$OUT/$b.err"
  ok 'cmp -s "$OUT/$b.tsv" "$OUT/$b.stdout.tsv"' "$b: -f tsv to standard output with -j 1 = the .tsv file with -j 4"
  # Python's csv module: the same features as the GeoJSON, in order
  python3 - "$OUT/$b.tsv" "$OUT/$b.geojson" > "$OUT/$b.py" 2>&1 <<'EOF'
import csv, json, math, re, sys
rows = list(csv.DictReader(open(sys.argv[1], newline='', encoding='utf-8'), delimiter='\t'))
feats = json.load(open(sys.argv[2], encoding='utf-8'))['features']
assert len(rows) == len(feats) > 0, (len(rows), len(feats))
assert list(rows[0].keys())[0] == 'WKT'
for r, f in zip(rows, feats):
    g = f['geometry']
    if g is None:
        assert r['WKT'] == '', r['WKT']
    else:
        m = re.fullmatch(r'POINT \((\S+) (\S+)\)', r['WKT'])
        assert m, r['WKT']
        assert (float(m.group(1)), float(m.group(2))) == tuple(g['coordinates']), (r['WKT'], g)
    for k, v in f['properties'].items():
        got = r[k]
        if isinstance(v, bool): v = 'true' if v else 'false'
        if isinstance(v, float): assert math.isclose(float(got), v, rel_tol=1e-12), (k, got, v); continue
        assert got == str(v), (k, got, v)
    for k, v in r.items():   # what GeoJSON omits is null, an empty field here
        if k != 'WKT' and k not in f['properties']: assert v == '', (k, v)
print('ok', len(rows))
EOF
  ok 'grep -q "^ok " "$OUT/$b.py"' "$b: Python's csv reads what the GeoJSON holds: $(tail -3 "$OUT/$b.py")"
  # GDAL's CSV driver: the same count, the WKT column read as point geometries
  if command -v ogrinfo >/dev/null; then
    read -r n np < <(python3 -c 'import json,sys; f=json.load(open(sys.argv[1]))["features"]; print(len(f), sum(1 for x in f if x["geometry"]))' "$OUT/$b.geojson")
    ogrinfo -ro -al -so "$OUT/$b.tsv" > "$OUT/$b.ogr" 2>&1
    ogrinfo -ro -al -q "$OUT/$b.tsv" > "$OUT/$b.ograll" 2>&1
    got=$(grep -c '^  POINT (' "$OUT/$b.ograll")
    ok 'grep -q "Feature Count: $n\$" "$OUT/$b.ogr" && [ "$got" = "$np" ]' \
       "$b: ogrinfo reads $n features, $np points: $(grep -E "Feature Count" "$OUT/$b.ogr"), $got points"
  fi
done

# values with a tab, a quote and a line break, and a row without position
printf 'cle_interop;commune_insee;voie_nom;numero;commune_nom;long;lat;certification_commune;source;date_der_maj\n' > "$OUT/odd.csv"
printf '31591_xxxx_00009;31591;"Rue ""des""\t3\nPlaces";9;Escoulis;1.028392;43.111637;0;x;2020-11-09\n' >> "$OUT/odd.csv"
printf '31591_xxxx_00011;31591;Rue simple;11;Escoulis;;;0;x;2020-11-09\n' >> "$OUT/odd.csv"
"$GF" convert "$OUT/odd.csv" -o "$OUT/odd.tsv" --keep-invalid -q 2>"$OUT/odd.err"; rc=$?
ok '[ $rc -eq 0 ]' "odd values: rc=$rc $(cat "$OUT/odd.err")"
python3 - "$OUT/odd.tsv" > "$OUT/odd.py" 2>&1 <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline='', encoding='utf-8'), delimiter='\t'))
assert len(rows) == 2, rows
assert rows[0]['voie_nom'] == 'Rue "des"\t3\nPlaces', repr(rows[0]['voie_nom'])
assert rows[0]['WKT'] == 'POINT (1.028392 43.111637)', rows[0]['WKT']
assert rows[1]['WKT'] == '' and rows[1]['voie_nom'] == 'Rue simple', rows[1]
print('ok')
EOF
ok 'grep -q "^ok" "$OUT/odd.py"' "tab, quote and line break round-trip: $(tail -3 "$OUT/odd.py")"

# the CRS is not stored: a warning when --t-srs asks for another one
"$GF" convert "$S/bal/bal-valid.csv" -o "$OUT/l93.tsv" --t-srs EPSG:2154 2>"$OUT/l93.err"; rc=$?
ok '[ $rc -eq 0 ] && grep -q "stores X/Y in EPSG:2154 but not the CRS" "$OUT/l93.err"' "--t-srs EPSG:2154 warns: rc=$rc $(cat "$OUT/l93.err")"
ok 'grep -q "^POINT (539416.13 6225601.11)" "$OUT/l93.tsv"' "metres with 2 decimals: $(sed -n 2p "$OUT/l93.tsv" | cut -c1-40)"
# the formats named in messages come from the table
"$GF" convert "$S/bal/bal-valid.csv" -o "$OUT/x.unknown" 2>"$OUT/unk.err"; rc=$?
ok '[ $rc -eq 2 ] && grep -q "tsv" "$OUT/unk.err" && grep -q "gpkg" "$OUT/unk.err"' "unknown extension lists tsv: $(cat "$OUT/unk.err")"

echo "$((checks - fails)) of $checks checks passed"
[ $fails -eq 0 ]
