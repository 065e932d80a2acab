#!/bin/bash
# Tiles on hostile or degenerate input (issue 12): an input whose rows have
# no position gives an archive without points (this once called
# qsort(NULL, 0), caught by UBSan in `make sanitize`).
set -u
GF=$1 SRC=$2 OUT=$3
D="$OUT/tiles_bounds"
rm -rf "$D"; mkdir -p "$D"
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; else echo "ok: $1"; fi; }
{
    echo 'cle_interop;commune_insee;voie_nom;numero;suffixe;commune_nom;position;long;lat;source;date_der_maj'
    echo '31591_xxxx_00009;31591;Rue des 3 Places;9;;Escoulis;entrée;;;;2020-11-09'
} > "$D/nopos.csv"
for f in pmtiles mbtiles; do
    "$GF" convert -q "$D/nopos.csv" -o "$D/nopos.$f" --maxzoom 6 2> "$D/nopos.$f.err"; rc=$?
    check "$f without points: exit 0 (got $rc)" "[ $rc -eq 0 ]"
    check "$f without points: no sanitizer report" "! grep -q 'runtime error\|Sanitizer' '$D/nopos.$f.err'"
    check "$f without points: archive written" "[ -s '$D/nopos.$f' ]"
done
exit $fail
