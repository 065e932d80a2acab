#!/usr/bin/env bash
# Exit codes and error messages of every command: each documented failure
# gives its code (0 ok, 1 validate: invalid, 2 usage error or unreadable /
# unrecognised input, 3 run failed: output, dependency, internal), one
# `geoflux: error:` line naming the user's own path (never a temporary
# file), and no output left behind. Usage: errors.sh GEOFLUX SRCDIR OUTDIR
set -u
GF=$1; SRC=$2; OUT=$3
rm -rf "$OUT"; mkdir -p "$OUT"
fails=0; checks=0
ok() { checks=$((checks+1)); if eval "$1"; then :; else fails=$((fails+1)); echo "FAIL: $2" >&2; fi; }
S=$SRC/data/samples
BAL=$S/bal/bal_35047_v1.3.csv
COMMUNES=$S/boundaries/communes-35-ille-et-vilaine.geojson

# run NAME EXPECTED_CODE ARGS...: runs geoflux, keeps stderr in $OUT/NAME.err
run() {
    local name=$1 want=$2; shift 2
    "$GF" "$@" > "$OUT/$name.out" 2> "$OUT/$name.err"
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

echo "$checks checks, $fails failures"
[ "$fails" -eq 0 ]
