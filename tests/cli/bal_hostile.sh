#!/bin/bash
# convert --to-bal 1.4 on hostile values (issue 12 item 1): a cad_parcelles
# segment, a voie_nom, a cle_interop and a suffixe far longer than any buffer
# the writer once had (1024 bytes on the stack) are written whole, without a
# crash, under the release build's hardening flags as under ASan.
set -u
GF=$1 SRC=$2 OUT=$3
D="$OUT/bal_hostile"
rm -rf "$D"; mkdir -p "$D"
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; else echo "ok: $1"; fi; }
long() { printf "%*s" "$2" "" | tr ' ' "$1"; }
seg=31591000AB$(long 7 3000)
voie="Rue_$(long v 5000)"
suf=$(long b 3000)
{
    echo 'cle_interop;commune_insee;voie_nom;numero;suffixe;commune_nom;position;long;lat;source;date_der_maj;cad_parcelles'
    echo "31591_xxxx_00009;31591;Rue des 3 Places;9;;Escoulis;entrée;1.028392;43.111637;;2020-11-09;$seg|31591000AB0001"
    echo "31591_xxxx_00010;31591;$voie;10;;Escoulis;entrée;1.028392;43.111637;;2020-11-09;31591000AB0001"
    echo "31591_xxxx_00011;31591;Rue des 3 Places;11;$suf;Escoulis;entrée;1.028392;43.111637;;2020-11-09;"
    echo "31591_$(long x 3000)_00012;;Rue des 3 Places;;;Escoulis;entrée;1.028392;43.111637;;2020-11-09;"
} > "$D/in.csv"
"$GF" convert -q "$D/in.csv" --keep-invalid --to-bal 1.4 -o "$D/out.csv" --rejects "$D/rejects.csv"; rc=$?
check "convert exits 0 (got $rc)" "[ $rc -eq 0 ]"
check "4 rows written" "[ \$(tail -n +2 '$D/out.csv' 2>/dev/null | wc -l) -eq 4 ]"
check "long cad_parcelles segment written whole" "grep -q ';$seg|31591000AB0001;' '$D/out.csv'"
check "long voie_nom written whole ('_' as spaces)" "grep -q ';Rue $(long v 5000);' '$D/out.csv'"
check "long suffixe kept in cle_interop and suffixe" "grep -q '^;;;31591_xxxx_00011_$suf;.*;11;$suf;' '$D/out.csv'"
check "long cle_interop lower-cased whole" "grep -q ';31591_$(long x 3000)_00012;' '$D/out.csv'"
exit $fail
