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

echo "$checks checks, $fails failed"
[ "$fails" -eq 0 ]
