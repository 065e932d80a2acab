#!/bin/bash
# convert --harmonise: fixtures made here from data/samples files, each with
# one kind of fixable defect (French dates, oui/non, upper-case cle_interop,
# x/y only in CC44, swapped long/lat) and one that cannot be repaired. The
# repaired rows must all pass, give the bytes the clean file gives, carry
# the right long/lat, and the unrepairable value must still be rejected.
# The written BAL is checked by geoflux validate and, when node and the npm
# package are installed, by the reference validator.
. "$(dirname "$0")/lib.sh" "$@"
D="$OUT"
BRUZ="$SRC/data/samples/bal/bal_35047_v1.3.csv"
SOUAL="$SRC/data/samples/bal/soual-81289-cc44-extract.csv"
TARN="$SRC/data/samples/boundaries/communes-81-tarn.geojson"
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

# 20 Bruz rows (10 of them with a suffix, so letters in cle_interop), clean,
# and with French dates, oui/non and upper-case cle_interop
{ head -n 11 "$BRUZ"; awk -F';' 'NR>1 && $2 ~ /_bis$/' "$BRUZ" | head -n 10; } > "$D/clean.csv"
awk -F';' 'BEGIN{OFS=";"} NR==1{print;next}
    {split($18,d,"-"); $18=d[3]"/"d[2]"/"d[1]; $23=($23=="1"?"oui":"non"); $2=toupper($2); print}' \
    "$D/clean.csv" > "$D/fr.csv"
ok "grep -q ';15/03/2021;' '$D/fr.csv' && [ \$(grep -c '_BIS;' '$D/fr.csv') -eq 10 ]" "fixtures: French dates, upper-case cle_interop"
"$GF" convert "$D/fr.csv" -o "$D/fr-raw.csv" --to-bal 1.4 -q --summary json > "$D/fr-raw.json" 2>/dev/null
ok "[ \$(json '$D/fr-raw.json' 'd[\"rejected\"]') -eq 20 ]" "without --harmonise every defective row is rejected"
"$GF" convert "$D/clean.csv" -o "$D/clean-out.csv" --to-bal 1.4 -q
for j in 1 4; do
    "$GF" convert "$D/fr.csv" -o "$D/fr-out-$j.csv" --to-bal 1.4 --harmonise -j $j --summary json > "$D/fr-$j.json" 2> "$D/fr-$j.err"
    ok "[ \$? -eq 0 ]" "-j $j: convert --harmonise exit 0"
done
ok "[ \"\$(json '$D/fr-1.json' 'd[\"rejected\"]')\" = 0 ]" "French dates, oui/non, upper case: no row rejected"
ok "[ \"\$(json '$D/fr-1.json' 'd[\"repairs\"]')\" = \"{'repair.certification': 20, 'repair.cle_interop_case': 10, 'repair.date_fr': 20}\" ]" "repair counts in --summary json"
ok "grep -q 'repairs: repair.certification 20, repair.cle_interop_case 10, repair.date_fr 20' '$D/fr-1.err'" "repair counts in the run summary"
ok "cmp -s '$D/fr-out-1.csv' '$D/clean-out.csv'" "the harmonised file is the clean file's BAL, byte for byte"
ok "cmp -s '$D/fr-out-1.csv' '$D/fr-out-4.csv' && [ \"\$(json '$D/fr-1.json' 'd[\"repairs\"]')\" = \"\$(json '$D/fr-4.json' 'd[\"repairs\"]')\" ]" "-j 1 and -j 4: same bytes, same repairs"

# CC44 x/y only (Soual): long/lat computed from x/y, within 1 m of the original
awk -F';' 'BEGIN{OFS=";"} NR==1{print;next} {$11="";$12="";print}' "$SOUAL" > "$D/cc44.csv"
"$GF" convert "$D/cc44.csv" -o "$D/cc44-raw.csv" --to-bal 1.4 -q --summary json > "$D/cc44-raw.json" 2>/dev/null
ok "[ \$(json '$D/cc44-raw.json' 'd[\"rejected\"]') -eq 2 ]" "CC44 x/y only: rejected without --harmonise"
"$GF" convert "$D/cc44.csv" -o "$D/cc44-out.csv" --to-bal 1.4 --harmonise -q --summary json > "$D/cc44.json"
ok "[ \$(json '$D/cc44.json' 'd[\"written\"]') -eq 2 ] && [ \$(json '$D/cc44.json' 'd[\"repairs\"][\"repair.lonlat_from_xy\"]') -eq 2 ]" "CC44 x/y only: both rows written, long/lat computed"
near() { # BAL output, original: every row's long/lat within 1 m of the original's
python3 - "$1" "$2" <<'PY'
import csv, math, sys
def rows(p):
    with open(p, encoding="utf-8-sig") as f:
        return {r["cle_interop"]: (float(r["long"]), float(r["lat"])) for r in csv.DictReader(f, delimiter=";")}
a, b = rows(sys.argv[1]), rows(sys.argv[2])
ok = len(a) == len(b) and len(a) > 0
for k, (lo, la) in b.items():
    lo2, la2 = a.get(k, (1e9, 1e9))
    d = math.hypot((lo2 - lo) * 111320 * math.cos(math.radians(la)), (la2 - la) * 110540)
    if not d <= 1.0:
        print("%s: %.3f m off" % (k, d)); ok = False
sys.exit(0 if ok else 1)
PY
}
ok "near '$D/cc44-out.csv' '$SOUAL'" "CC44 x/y only: long/lat within 1 m of the original"

# x/y only in a CRS detection does not try (NTF Lambert II etendu, EPSG:27572;
# the coordinates are the Soual rows' long/lat projected by gdaltransform):
# rejected, nothing guessed; with --s-srs long/lat come from x/y in it
awk -F';' 'BEGIN{OFS=";"} NR==1{print;next}
    NR==2{$9="582498.68";$10="1839351.66"} NR==3{$9="582207.36";$10="1839202.63"} {$11="";$12="";print}' "$SOUAL" > "$D/lii.csv"
"$GF" convert "$D/lii.csv" -o "$D/lii-raw.csv" --to-bal 1.4 --harmonise -q --summary json > "$D/lii-raw.json" 2>/dev/null
ok "[ \$(json '$D/lii-raw.json' 'd[\"rejected\"]') -eq 2 ] && [ \"\$(json '$D/lii-raw.json' 'd[\"repairs\"]')\" = '{}' ]" "Lambert II x/y only, no --s-srs: no CRS guessed, rows rejected"
"$GF" convert "$D/lii.csv" -o "$D/lii-out.csv" --to-bal 1.4 --harmonise --s-srs EPSG:27572 --summary json > "$D/lii.json" 2> "$D/lii.err"
ok "[ \$(json '$D/lii.json' 'd[\"written\"]') -eq 2 ] && [ \$(json '$D/lii.json' 'd[\"repairs\"][\"repair.lonlat_from_xy\"]') -eq 2 ]" "Lambert II x/y only, --s-srs EPSG:27572: both rows written, long/lat computed"
ok "near '$D/lii-out.csv' '$SOUAL'" "Lambert II x/y only, --s-srs: long/lat within 1 m of the original"

# swapped long/lat: repaired only with the boundaries
awk -F';' 'BEGIN{OFS=";"} NR==1{print;next} {t=$11;$11=$12;$12=t;print}' "$SOUAL" > "$D/swap.csv"
"$GF" convert "$D/swap.csv" -o "$D/swap-out.csv" --to-bal 1.4 --harmonise --communes "$TARN" -q --summary json > "$D/swap.json"
ok "[ \$(json '$D/swap.json' 'd[\"rejected\"]') -eq 0 ] && [ \$(json '$D/swap.json' 'd[\"repairs\"][\"repair.lonlat_swapped\"]') -eq 2 ]" "swapped long/lat repaired with --communes"
ok "near '$D/swap-out.csv' '$SOUAL'" "swapped long/lat: the original position"
"$GF" convert "$D/swap.csv" -o "$D/swap-nob.csv" --to-bal 1.4 --harmonise -q --summary json > "$D/swap-nob.json" 2>/dev/null
ok "[ \$(json '$D/swap-nob.json' 'd[\"rejected\"]') -eq 2 ] && [ \"\$(json '$D/swap-nob.json' 'd[\"repairs\"]')\" = '{}' ]" "without boundaries no swap is repaired"

# a value that cannot be repaired stays an error
awk -F';' 'BEGIN{OFS=";"} NR==1{print;next} NR==2{$18="hier"} {print}' "$D/fr.csv" > "$D/bad.csv"
"$GF" convert "$D/bad.csv" -o "$D/bad-out.csv" --to-bal 1.4 --harmonise -q --summary json > "$D/bad.json" 2>/dev/null
ok "[ \$(json '$D/bad.json' 'd[\"rejected\"]') -eq 1 ] && [ \$(json '$D/bad.json' 'd[\"written\"]') -eq 19 ]" "an unrepairable date: its row still rejected"
ok "grep -q 'date_der_maj.date_invalide' '$D/bad-out.csv.rejects.csv'" "the reject names the rule"

# the written BALs pass the validator
for f in fr-out-1 cc44-out swap-out; do
    "$GF" validate --profile 1.4 "$D/$f.csv" > "$D/$f.val" 2>&1
    ok "[ \$? -eq 0 ]" "geoflux validate --profile 1.4 accepts $f.csv"
done
if command -v node >/dev/null 2>&1 && [ -d "$SRC/tests/js/node_modules/@ban-team/validateur-bal" ]; then
    node "$SRC/tests/parity/ref_validate.js" --profile 1.4 "$D/fr-out-1.csv" "$D/cc44-out.csv" "$D/swap-out.csv" > "$D/ref.jsonl"
    ok "[ \$(grep -c '\"valid\":true' '$D/ref.jsonl') -eq 3 ]" "the reference validator accepts the harmonised BALs"
else
    echo "note: node or @ban-team/validateur-bal absent: reference check not run"
fi
gf_test_end
