#!/usr/bin/env bash
# Exit codes and error messages of every command: each documented failure
# gives its code (0 ok, 1 validate: invalid, 2 usage error or unreadable /
# unrecognised input, 3 run failed: output, dependency, internal), one
# `geoflux: error:` line naming the user's own path (never a temporary
# file), and no output left behind. Usage: errors.sh GEOFLUX SRCDIR OUTDIR
set -u
GF=$1; SRC=$2; OUT=$3
rm -rf "$OUT"; mkdir -p "$OUT"
export SOURCE_DATE_EPOCH=1700000000  # GeoPackages of two runs compared byte for byte
fails=0; checks=0
ok() { checks=$((checks+1)); if eval "$1"; then :; else fails=$((fails+1)); echo "FAIL: $2" >&2; fi; }
S=$SRC/data/samples
BAL=$S/bal/bal_35047_v1.3.csv
COMMUNES=$S/boundaries/communes-35-ille-et-vilaine.geojson

# run NAME EXPECTED_CODE ARGS...: runs geoflux, keeps stderr in $OUT/NAME.err
run() {
    local name=$1 want=$2; shift 2
    "$GF" "$@" < /dev/null > "$OUT/$name.out" 2> "$OUT/$name.err"
    local got=$?
    ok "[ $got -eq $want ]" "$name: exit $got, expected $want ($(head -c 300 "$OUT/$name.err" | tr '\n' '|'))"
    # no temporary name in any message
    ok '! grep -Eq "\.tmp-|geoflux-scratch|\.tmp\b" "$OUT/$name.err"' "$name: a temporary name in the message: $(cat "$OUT/$name.err")"
    if [ "$want" -ge 2 ]; then
        ok 'grep -q "^geoflux: error: " "$OUT/$name.err"' "$name: no 'geoflux: error:' line: $(cat "$OUT/$name.err")"
    fi
}
has() { H_F=$OUT/$1.err; H_S=$2; ok 'grep -qF -- "$H_S" "$H_F"' "$1: message lacks '$2': $(cat "$OUT/$1.err")"; }

# --- class input: exit 2 ---
run dir_input 2 convert "$SRC/data" -o "$OUT/d.geojson"
has dir_input "$SRC/data"
has dir_input "directory"
ok '[ ! -e "$OUT/d.geojson" ]' "dir_input: no output"
run missing_input 2 convert "$OUT/nope.csv" -o "$OUT/m.geojson"
has missing_input "$OUT/nope.csv: No such file"
run missing_communes 2 convert "$BAL" -o "$OUT/c.geojson" --communes "$OUT/nope.geojson"
has missing_communes "$OUT/nope.geojson"
has missing_communes "No such file"
ok '! grep -q "not a vector dataset" "$OUT/missing_communes.err"' "missing_communes: says GDAL cannot read a file that does not exist"
printf 'hello\n' > "$OUT/notvector.txt"
run bad_communes 2 convert "$BAL" -o "$OUT/c.geojson" --communes "$OUT/notvector.txt"
has bad_communes "$OUT/notvector.txt"

# --- class usage: exit 2 ---
run bad_driver 2 convert "$BAL" -o "$OUT/x.out" -f NoSuchDriver
has bad_driver "NoSuchDriver"
run unknown_epsg 2 convert "$BAL" -o "$OUT/e.geojson" --t-srs EPSG:99999
has unknown_epsg "EPSG:99999"
run to_bal_13 2 convert "$BAL" -o "$OUT/b.csv" --to-bal 1.3
has to_bal_13 "1.3"

# --- class output: exit 3 ---
run missing_outdir 3 convert "$BAL" -o "$OUT/nodir/a.geojson"
has missing_outdir "$OUT/nodir/a.geojson"

run missing_outdir_index 3 index build "$BAL" -o "$OUT/nodir/a.idx"
has missing_outdir_index "$OUT/nodir/a.idx"
ok '! grep -q "index built" "$OUT/missing_outdir_index.err"' "index build: built the index before noticing the missing folder"
run missing_input_geocode 2 geocode --addresses "$BAL" "$OUT/nope.csv" -o "$OUT/g.csv"
has missing_input_geocode "$OUT/nope.csv"
ok '! grep -q "index built" "$OUT/missing_input_geocode.err"' "geocode: built the index before noticing the missing input"
run missing_addresses 2 geocode --addresses "$OUT/nope-bal.csv" "$S/equipements/equipements-35047.csv" -o "$OUT/g.csv"
has missing_addresses "$OUT/nope-bal.csv"
run dir_output 2 convert "$BAL" -o "$OUT"  # refused up front as a usage error (gf_output_check_paths)
has dir_output "directory"

# --- CRS: resolved unambiguously or refused (exit 2), never a best guess ---
run crs_foo 2 convert "$BAL" -o "$OUT/foo.geojson" --t-srs foo
has crs_foo "unknown CRS 'foo'"
ok '[ ! -e "$OUT/foo.geojson" ]' "crs_foo: an output was written"
run crs_ssrs_foo 2 convert "$BAL" -o "$OUT/foo.geojson" --s-srs foo
run crs_ambiguous 2 convert "$BAL" -o "$OUT/foo.geojson" --t-srs "WGS 84"
has crs_ambiguous "EPSG:4326"
has crs_ambiguous "EPSG:4979"
run crs_name 0 convert "$BAL" -o "$OUT/l93.gpkg" --t-srs "RGF93 v1 / Lambert-93" -v
has crs_name "output CRS: EPSG:2154 (RGF93 v1 / Lambert-93)"
"$GF" convert "$BAL" -o "$OUT/l93b.gpkg" --t-srs 2154 -q
ok 'cmp -s "$OUT/l93.gpkg" "$OUT/l93b.gpkg"' "the exact name and the code give the same bytes"
run crs_ssrs_v 0 convert "$BAL" -o "$OUT/ss.geojsonl" --s-srs EPSG:2154 -v
has crs_ssrs_v "x/y CRS (--s-srs): EPSG:2154"

# --- options: parsed strictly, refused when repeated or meaningless ---
run j_abc 2 convert "$BAL" -o "$OUT/j.geojson" -j abc
has j_abc "-j/--threads 'abc'"
run j_huge 2 convert "$BAL" -o "$OUT/j.geojson" -j 100000
run j_zero 2 convert "$BAL" -o "$OUT/j.geojson" -j 0
run j_index 2 index build "$BAL" -o "$OUT/j.idx" -j x
run prec_abc 2 convert "$BAL" -o "$OUT/p.geojson" --precision abc
has prec_abc "--precision 'abc'"
run prec_neg 2 convert "$BAL" -o "$OUT/p.geojson" --precision -3
run maxzoom_abc 2 convert "$BAL" -o "$OUT/z.pmtiles" --maxzoom abc
run maxzoom_21 2 convert "$BAL" -o "$OUT/z.pmtiles" --maxzoom 21
run zoom_order 2 convert "$BAL" -o "$OUT/z.pmtiles" --minzoom 5 --maxzoom 3
run zoom_not_tiles 2 convert "$BAL" -o "$OUT/z.geojson" --maxzoom 3
run maxmem_bad 2 convert "$BAL" -o "$OUT/z.pmtiles" --max-memory 12X
run maxdist_bad 2 convert "$BAL" -o "$OUT/z.geojson" --communes "$COMMUNES" --max-distance 1e999
run far_bad 2 geocode --addresses "$BAL" "$S/equipements/equipements-35047.csv" -o "$OUT/g.csv" --far abc
"$GF" convert "$BAL" -o "$OUT/z0.pmtiles" --maxzoom 0 -q
ok '[ "$(python3 -c "import sys; d=open(sys.argv[1],\"rb\").read(102); print(d[100], d[101])" "$OUT/z0.pmtiles")" = "0 0" ]' "--maxzoom 0 did not give zoom 0 only (PMTiles header min/max zoom)"
# convert and tiles take several -o (tests/cli/multi_output.sh); geocode writes one table
run o_twice 2 geocode --addresses "$BAL" "$S/equipements/equipements-35047.csv" -o "$OUT/a1.csv" -o "$OUT/a2.csv"
has o_twice "given twice"
ok '[ ! -e "$OUT/a1.csv" ] && [ ! -e "$OUT/a2.csv" ]' "o_twice: an output was written"
run f_several 2 convert "$BAL" -o "$OUT/a1.geojson" -o "$OUT/a2.gpkg" -f geojson
has f_several "extension"
run tsrs_twice 2 convert "$BAL" -o "$OUT/a1.geojson" --t-srs EPSG:2154 --t-srs EPSG:4326
run stats_alone 2 convert "$BAL" -o "$OUT/st.geojson" --stats "$OUT/st.csv"
has stats_alone "--stats needs --communes"
ok '[ ! -e "$OUT/st.geojson" ]' "stats_alone: the run went on"

# --- an unknown option: one line and a pointer, not the whole help ---
run unknown_opt 2 convert "$BAL" -o "$OUT/u.geojson" --bogus
has unknown_opt "unknown option '--bogus'"
has unknown_opt "see geoflux convert --help"
ok '[ "$(wc -l < "$OUT/unknown_opt.err")" -eq 1 ]' "unknown_opt: $(wc -l < "$OUT/unknown_opt.err") lines on stderr"
run unknown_short 2 geocode -x
has unknown_short "unknown option '-x'"
ok '[ "$(wc -l < "$OUT/unknown_short.err")" -eq 1 ]' "unknown_short: more than one line"
run missing_value 2 convert "$BAL" -o
has missing_value "needs a value"
run unknown_validate 2 validate --bogus "$BAL"
ok '[ "$(wc -l < "$OUT/unknown_validate.err")" -eq 1 ]' "unknown_validate: more than one line"
run unknown_cmd 2 frobnicate
run unknown_top 2 --bogus

# --- one prefix for every message ---
for f in "$OUT"/*.err; do
    ok '! grep -v "^geoflux: " "$f" | grep -q .' "$(basename "$f"): a line without the geoflux: prefix: $(grep -v '^geoflux: ' "$f" | head -2)"
    ok '! grep -q "^geoflux [a-z]*: \|^convert: " "$f"' "$(basename "$f"): an old-style prefix: $(cat "$f")"
done

# --- --summary json is JSON whatever the path holds ---
Q="$OUT/we\"ird\\dir"
mkdir -p "$Q"
"$GF" convert "$BAL" "$S/bal/sample.csv" -o "$Q/a\"b.geojsonl" --summary json -q > "$OUT/summary.json" 2> "$OUT/summary.stderr"
ok '[ $? -eq 0 ]' "summary with quotes in the path: exit"
ok 'python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[\"output\"]==sys.argv[2], d; assert d[\"crs\"]==\"EPSG:4326\"; assert d[\"rejects\"].endswith(\".rejects.csv\")" "$OUT/summary.json" "$Q/a\"b.geojsonl"' "summary json invalid or wrong: $(cat "$OUT/summary.json")"
"$GF" convert "$BAL" -o "$OUT/l93s.gpkg" --t-srs "RGF93 v1 / Lambert-93" --summary json -q > "$OUT/summary2.json"
ok 'python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[\"crs\"]==\"EPSG:2154\" and d[\"crs_name\"]==\"RGF93 v1 / Lambert-93\", d" "$OUT/summary2.json"' "summary json lacks the resolved CRS: $(cat "$OUT/summary2.json")"

# --- repeated messages: rejected rows are errors, the first 3 then a count ---
printf 'cle_interop;commune_nom;numero;suffixe;voie_nom;long;lat;x;y;source;date_der_maj;position;uid_adresse;lieudit_complement_nom;commune_insee;certification_commune\n' > "$OUT/rej.csv"
for i in $(seq 1 12); do printf 'bad;Bruz;x%d;;Rue;-1.7;48.0;;;;2020-01-01;entrée;;;35047;1\n' "$i" >> "$OUT/rej.csv"; done
"$GF" convert "$OUT/rej.csv" -o "$OUT/rej.geojson" 2> "$OUT/rej.err"
ok '[ "$(grep -c "row rejected" "$OUT/rej.err")" -eq 3 ]' "rejected rows: $(grep -c "row rejected" "$OUT/rej.err") lines, 3 expected"
ok '! grep -q "^geoflux: warning: .*row rejected" "$OUT/rej.err"' "a rejected row is labelled warning"
ok 'grep -q "^geoflux: error: .*row rejected" "$OUT/rej.err"' "a rejected row is not labelled error"
ok 'grep -q "and 9 more (code row.rejected)" "$OUT/rej.err"' "no count of the other rejected rows: $(cat "$OUT/rej.err")"
"$GF" convert "$OUT/rej.csv" -o "$OUT/rej2.geojson" -q 2> "$OUT/rej-q.err"
ok '[ ! -s "$OUT/rej-q.err" ]' "-q still prints: $(cat "$OUT/rej-q.err")"
"$GF" convert "$OUT/rej.csv" -o "$OUT/rej3.geojson" -v 2> "$OUT/rej-v.err"
ok '[ "$(grep -c "row rejected" "$OUT/rej-v.err")" -eq 12 ]' "-v does not show every rejected row"

# --- geoflux --help holds the exit codes ---
"$GF" --help > "$OUT/help.txt"
for k in "0  success" "1  validate" "2  usage error" "3  the run failed"; do
    ok 'grep -q "$k" "$OUT/help.txt"' "geoflux --help lacks '$k'"
done

echo "$checks checks, $fails failures"
[ "$fails" -eq 0 ]
