#!/usr/bin/env bash
# Demo: the samples into one GeoPackage for QGIS (addresses + rejects, then
# the BAN extract appended as a second layer), a whole Bruz run in one file
# (addresses joined to their communes, commune statistics, geocoded
# equipments, every reject), checked by GDAL's validator, and the same
# stream as FlatGeobuf through GDAL.
set -euo pipefail
GF=${1:-build/geoflux}
cd "$(dirname "$0")/../.."
S=data/samples
mkdir -p out
rm -f out/adresses.gpkg
echo "== geoflux convert: BAL samples -> out/adresses.gpkg (layers addresses + rejects)"
"$GF" convert "$S"/bal/*.csv -o out/adresses.gpkg --rejects out/adresses-gpkg.rejects.csv -q
echo
echo "== --append: the BAN extract as layer ban_54 in the same file"
"$GF" convert "$S/ban/adresses-54.csv.gz" -o out/adresses.gpkg --append --layer ban_54 -q
ogrinfo -ro -so out/adresses.gpkg addresses | grep -E "^(Layer name|Geometry|Feature Count|Extent)"
ogrinfo -ro out/adresses.gpkg | sed -n 's/^\([0-9]*: \)/  \1/p'
V=$(ls /usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py 2>/dev/null | head -1 || true)
if [ -n "$V" ]; then
  /usr/bin/python3 "$V" -k out/adresses.gpkg && echo "GDAL's validate_gpkg.py: no error"
fi
echo
echo "== a whole run in one file: Bruz addresses + communes (statistics) + equipments + rejects -> out/bruz-run.gpkg"
rm -f out/bruz-run.gpkg
"$GF" convert "$S/bal/bal_35047_v1.3.csv" -o out/bruz-run.gpkg --communes "$S/boundaries/communes-35-ille-et-vilaine.geojson" -q
"$GF" geocode --addresses "$S/bal/bal_35047_v1.3.csv" "$S/equipements/equipements-35047.csv" -o out/bruz-run.gpkg --append -q
ogrinfo -ro out/bruz-run.gpkg | sed -n 's/^\([0-9]*: \)/  \1/p'
if [ -n "$V" ]; then
  /usr/bin/python3 "$V" -k out/bruz-run.gpkg && echo "GDAL's validate_gpkg.py: no error"
fi
echo
echo "== the same stream as FlatGeobuf through GDAL -> out/adresses.fgb"
"$GF" convert "$S"/bal/*.csv -o out/adresses.fgb -q
ogrinfo -ro -so -al out/adresses.fgb | grep -E "^(Feature Count)"
