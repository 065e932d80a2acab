#!/bin/bash
# geoflux convert runs the BAL validation stage: rows with errors go to the
# rejects with their codes, --keep-invalid keeps them with an 'errors'
# property, warnings become a 'warnings' property; BAN rows are not judged
# by BAL-only rules.
set -u
GF=$1 SRC=$2 OUT=$3
D="$OUT/validate_convert"
rm -rf "$D"; mkdir -p "$D"
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; else echo "ok: $1"; fi; }
B="$SRC/data/samples/bal"

"$GF" convert -q "$B/sample.csv" -o "$D/s.geojsonl" --rejects "$D/s.rejects.csv" -j 2; rc=$?
check "convert exits 0" "[ $rc -eq 0 ]"
check "12 invalid rows rejected, 3 written" "[ \$(wc -l < '$D/s.geojsonl') -eq 3 ] && [ \$(tail -n +2 '$D/s.rejects.csv' | wc -l) -eq 12 ]"
check "reject reasons carry the codes" "grep -q 'cle_interop.casse_invalide|cle_interop.commune_invalide' '$D/s.rejects.csv' && grep -q 'numero.type_invalide|row.adresse_incomplete: column [0-9]*: numero = \"\"163,0000000000\"\"' '$D/s.rejects.csv'"

"$GF" convert -q "$B/sample.csv" -o "$D/k.geojsonl" --keep-invalid --summary json > "$D/k.json"; rc=$?
check "--keep-invalid keeps every row with an errors property" "[ $rc -eq 0 ] && [ \$(wc -l < '$D/k.geojsonl') -eq 15 ] && [ \$(grep -c '\"errors\":' '$D/k.geojsonl') -eq 12 ] && grep -q '\"invalid_kept\":12' '$D/k.json'"

"$GF" convert -q "$B/sample.csv" -o "$D/r.geojsonl" --profile 1.3-relax --rejects "$D/r.rejects.csv"
check "--profile 1.3-relax rejects fewer rows" "[ \$(tail -n +2 '$D/r.rejects.csv' | wc -l) -lt 12 ]"

"$GF" convert -q "$B/bal_35047_v1.3.csv" -o "$D/bruz.geojsonl" --summary json > "$D/bruz.json"
check "warnings kept as a property" "grep -q '\"warnings\":\"position.enum_fuzzy' '$D/k.geojsonl'"
check "a valid real BAL loses no row" "grep -q '\"read\":5843,\"written\":5843,\"rejected\":0' '$D/bruz.json'"

"$GF" convert -q "$SRC/data/samples/ban/adresses-54.csv.gz" -o "$D/ban.geojsonl" --summary json > "$D/ban.json"
check "BAN legacy rows: no BAL-only codes (cle_interop, 99999...)" "! grep -q 'cle_interop\\.\\|numero.trop_grand\\|incoherence' '$D/ban.geojsonl' && grep -q '\"read\":712' '$D/ban.json'"

"$GF" convert -q "$B/sample.csv" -o "$D/t1.geojsonl" --keep-invalid -j 1
"$GF" convert -q "$B/sample.csv" -o "$D/t4.geojsonl" --keep-invalid -j 4
check "same bytes with 1 and 4 threads" "cmp -s '$D/t1.geojsonl' '$D/t4.geojsonl'"

# standard input is judged on its own header, like a file: same codes for
# every sample (the Bruz BAL has columns outside its version's standard set)
nd=0
for f in "$B"/*.csv; do
  # a failed run must not leave the previous sample's outputs to compare
  rm -f "$D/file.geojsonl" "$D/stdin.geojsonl"
  "$GF" convert -q "$f" -o "$D/file.geojsonl" --keep-invalid 2>/dev/null || { nd=$((nd + 1)); echo "  convert failed: $f"; }
  "$GF" convert -q - -o "$D/stdin.geojsonl" --keep-invalid < "$f" 2>/dev/null || { nd=$((nd + 1)); echo "  convert - failed: $f"; }
  [ -s "$D/file.geojsonl" ] && cmp -s "$D/file.geojsonl" "$D/stdin.geojsonl" || { nd=$((nd + 1)); echo "  stdin differs: $f"; }
done
check "standard input validated like the file, for every sample ($nd differ)" "[ $nd -eq 0 ]"
exit $fail
