#!/usr/bin/env bash
# Demo: geocode the SCDL équipements samples against the real Bruz BAL,
# offline, then reverse-geocode the results.
set -euo pipefail
GF=${1:-build/geoflux}
cd "$(dirname "$0")/../.."
S=data/samples
mkdir -p out
echo "== geoflux index build: Bruz BAL + BAN extract + La Poste postcodes -> out/adresses.idx"
"$GF" index build "$S/bal/bal_35047_v1.3.csv" "$S/ban/adresses-54.csv.gz" \
  --postcodes "$S/reference/laposte-codes-postaux.csv.gz" -o out/adresses.idx
echo
echo "== geoflux geocode: an SCDL équipements file (0.1.5) -> out/equipements.csv"
"$GF" geocode --index out/adresses.idx "$S/equipements/equipements-35047.csv" -o out/equipements.csv
cut -d, -f7,24- out/equipements.csv | head -6
echo
echo "== the older template (EQUIP_X/EQUIP_Y in Lambert-93 checked, flagged beyond 100 m) -> out/equipements-ancien.geojson"
"$GF" geocode --index out/adresses.idx "$S/equipements/equipements-35047-ancien-modele.csv" -o out/equipements-ancien.geojson
echo
echo "== a file with SCDL errors: every row geocoded, each broken rule in its errors column -> out/equipements-errors.csv"
"$GF" geocode --index out/adresses.idx "$S/equipements/equipements-35047-errors.csv" -o out/equipements-errors.csv -q
/usr/bin/python3 -c 'import csv, sys
for r in csv.DictReader(open(sys.argv[1], encoding="utf-8")): print("  %-28s %-3s %s" % (r["EQUIP_NOM"], r["result_status"], r["errors"] or "-"))' \
  out/equipements-errors.csv
echo
echo "== geoflux reverse: nearest address of each geocoded point -> out/equipements-reverse.csv"
"$GF" reverse --index out/adresses.idx out/equipements.csv --lat latitude --lon longitude -o out/equipements-reverse.csv
