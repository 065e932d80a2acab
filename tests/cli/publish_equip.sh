#!/usr/bin/env bash
# geoflux publish: SCDL équipements submissions (issue 16, item 5).
# The Bruz BAL and the equipment samples, plus crafted rows: a long/lat
# swap (repaired), a position outside its commune (flagged, kept), a commune
# no name matches (flagged, no position), rows without coordinates (geocoded
# against the published addresses), the same EQUIP_UID in two submissions
# both ways (the newest by received_at wins, whatever the names' order), a
# SIRET failing its check digit (a warning), rows breaking the schema
# (rejected with their reason), a commune outside the perimeter (rejected).
# Run 2, same inputs: unchanged, SITE byte-identical. Run 3: a new version of
# a file without one of its equipments: it leaves the set.
. "$(dirname "$0")/lib.sh" "$@"
S=$SRC/data/samples
W=$OUT/work
B=$S/boundaries/communes-35-ille-et-vilaine.geojson
mkdir -p $W/src/{bruz,ville}
cp $S/bal/bal_35047_v1.3.csv $W/src/bruz/bal.csv
H=$(head -1 $S/equipements/equipements-35047.csv)
{ cat $S/equipements/equipements-35047.csv
  # long/lat exchanged (the school's point, 48.02533 / -1.74776)
  echo 'Commune de Bruz,21350047500016,35047-06010103-001,Equipement sportif et de loisirs,06010103-001,Gymnase,Gymnase Tricault,10,Avenue Jules Tricault,35170,Bruz,,,,,-1.74776,48.02533,,,,'
  # a point in Rennes for an equipment of Bruz
  echo 'Commune de Bruz,21350047500016,35047-06010104-001,Equipement sportif et de loisirs,06010104-001,Piscine,Piscine Aquatik,2,Rue du Stade,35170,Bruz,,,,,48.1113,-1.6800,,,,'
  # a commune no name matches, a street nobody has
  echo 'Commune de Bruz,21350047500016,35047-10010102-001,Autre équipement,10010102-001,Abri,Abri du bout du monde,3,Rue Introuvable du Test,,Nulle-Part-sur-Rien,,,,,,,,,,'
} > $W/src/bruz/equipements.csv
cp $S/equipements/equipements-35047-ancien-modele.csv $W/src/bruz/ancien.csv
cp $S/equipements/equipements-35047-errors.csv $W/src/ville/equipements-35047-errors.csv
{ echo "$H"
  # the mediatheque renamed, sent later than bruz's file
  echo 'Commune de Bruz,21350047500016,35047-07010101-001,Equipement culturel,07010101-001,Médiathèque,Médiathèque Jacques Prévert,9,Rue de la Chataigneraie,35170,Bruz,,,S,3,48.0400000,-1.7400000,,,,'
  # Rennes: outside the perimeter
  echo 'Ville de Rennes,21350238800019,35238-01010401-001,Equipement administratif,01010401-001,Mairie,Hôtel de ville,2,Place de la Mairie,35000,Rennes,35238_1234_00002,,,,48.1115,-1.6795,,,,'
} > $W/src/ville/maj.csv
# bruz's file is newer than ville's errors file (the Mairie: bruz's wins,
# although src/ville sorts after src/bruz), ville's maj newer than bruz's
printf 'file;producer;received_at\nequipements.csv;bruz;2026-11-30T00:00:00Z\nequipements-35047-errors.csv;ville;2026-11-20T00:00:00Z\nmaj.csv;ville;2026-12-01T00:00:00Z\n' > $W/manifest.csv
printf '35047\n35088\n' > $W/perimeter.txt

pub() { (cd $W && SOURCE_DATE_EPOCH=1764547200 "$GF" publish src --store store.db -o site --perimeter perimeter.txt \
          --communes $B --manifest manifest.csv "$@"); }
json() { python3 -c "import json,sys; r=json.load(open('$W/site/report.json')); $1"; }
eq() { json "print(r['equipments']$1)"; }
# the field F of the equipment UID in equipements.csv
row() { python3 -c "
import csv,sys
for r in csv.DictReader(open('$W/site/equipements.csv', encoding='utf-8'), delimiter=';'):
    if r['EQUIP_UID'] == sys.argv[1]: print(r[sys.argv[2]])" "$1" "$2"; }

pub --at 2026-12-01 > $OUT/run1.out 2> $OUT/run1.err; rc=$?
cat $OUT/run1.err
ok "[ $rc -eq 0 ]" "run 1: exit 0, got $rc"
for f in equipements.csv equipements.geojson rejects/equipements.csv; do
  ok "[ -s $W/site/$f ]" "run 1 wrote $f"
done
ok "json \"assert sorted(s['file'] for s in r['submissions'] if s['kind']=='equipments') == ['src/bruz/ancien.csv','src/bruz/equipements.csv','src/ville/equipements-35047-errors.csv','src/ville/maj.csv']\"" "the four equipment files are submissions of kind equipments"
ok "json \"assert all(s['status']=='accepted' for s in r['submissions']), [(s['file'],s['status'],s['reason']) for s in r['submissions']]\"" "every submission accepted"
ok "[ \"\$(json \"print([s for s in r['submissions'] if s['file'].endswith('errors.csv')][0]['equipments'])\")\" = \"{'layout': 'scdl-equipements-0.1.5', 'rows': 7, 'accepted': 2, 'rejected': 5}\" ]" "the errors file: 7 rows, 2 accepted, 5 rejected"
# 13 + 3 + 7 + 2 rows; 6 rejected; 2 duplicates dropped
ok "[ \"\$(eq \"['rows']\")\" = 25 ] && [ \"\$(eq \"['rejected']\")\" = 6 ] && [ \"\$(eq \"['duplicates']\")\" = 2 ] && [ \"\$(eq \"['published']\")\" = 17 ]" "equipments: 25 rows = 17 published + 6 rejected + 2 duplicates ($(eq ''))"
ok "json \"e=r['equipments']; assert e['rows']==e['published']+e['rejected']+e['duplicates']\"" "report.json's equipments add up"
ok "[ \$(( \$(wc -l < $W/site/equipements.csv) - 1 )) -eq 17 ] && [ \$(( \$(wc -l < $W/site/rejects/equipements.csv) - 1 )) -eq 6 ]" "equipements.csv: 17 rows, rejects/equipements.csv: 6"
ok "[ \"\$(cut -d';' -f1-3 $W/site/equipements.csv | cut -d';' -f3 | tail -n +2 | sort -u | wc -l)\" = 17 ]" "one row per EQUIP_UID"
# de-duplication: received_at decides, both ways
ok "[ \"\$(row 35047-01010401-001 COLL_SIRET)\" = 21350047500016 ]" "the Mairie: bruz's row (received 2026-11-30) wins over ville's older one"
ok "[ \"\$(row 35047-07010101-001 EQUIP_NOM)\" = 'Médiathèque Jacques Prévert' ]" "the Médiathèque: ville's newer row wins"
# the swap
ok "[ \"\$(row 35047-06010103-001 position_source)\" = repaired ] && [ \"\$(row 35047-06010103-001 longitude)\" = -1.7477600 ] && [ \"\$(row 35047-06010103-001 latitude)\" = 48.0253300 ]" "long/lat exchanged: repaired ($(row 35047-06010103-001 longitude) $(row 35047-06010103-001 latitude))"
ok "row 35047-06010103-001 flags | grep -q repair.lonlat_swapped && [ \"\$(row 35047-06010103-001 EQUIP_LAT)\" = 48.02533 ]" "the swap is flagged and EQUIP_LAT holds the latitude"
ok "[ \"\$(eq \"['repaired']\")\" = 1 ]" "report: 1 repaired"
# outside its commune: flagged, kept where it is
ok "[ \"\$(row 35047-06010104-001 position_source)\" = given ] && [ \"\$(row 35047-06010104-001 longitude)\" = -1.6800000 ] && row 35047-06010104-001 flags | grep -q position.hors_commune" "a point in Rennes for Bruz: flagged position.hors_commune, not moved"
ok "[ \"\$(eq \"['outside_commune']\")\" = 1 ]" "report: 1 outside its commune"
# the commune by name (no ADR_CLE_INTEROP on these rows) and unknown
ok "[ \"\$(row 35047-05010101-001 commune_insee)\" = 35047 ]" "commune from ADR_COMMUNE 'Bruz': 35047"
ok "[ \"\$(row 35047-10010102-001 commune_insee)\" = '' ] && row 35047-10010102-001 flags | grep -q commune.inconnue && [ \"\$(row 35047-10010102-001 position_source)\" = none ]" "an unknown commune and street: flagged commune.inconnue, no position"
ok "[ \"\$(eq \"['commune_unknown']\")\" = 1 ] && [ \"\$(eq \"['without_position']\")\" = 1 ]" "report: 1 commune unknown, 1 without position"
# geocoded against the published addresses: the same point as the BAL's address
ok "[ \"\$(eq \"['geocoded']\")\" = 9 ]" "report: 9 geocoded ($(eq "['geocoded']"))"
ok "python3 -c \"
import csv
bal = [r for r in csv.DictReader(open('$S/bal/bal_35047_v1.3.csv', encoding='utf-8-sig'), delimiter=';') if r['voie_nom'] == 'Rue des Acacias' and r['numero'] == '1' and r['suffixe'] == '']
eq = [r for r in csv.DictReader(open('$W/site/equipements.csv', encoding='utf-8'), delimiter=';') if r['EQUIP_UID'] == '35047-05010101-001'][0]
assert eq['position_source'] == 'geocoded' and float(eq['geocode_score']) >= 0.7 and eq['geocode_label'].startswith('1 Rue des Acacias'), eq
assert any(abs(float(b['long']) - float(eq['longitude'])) < 1e-6 and abs(float(b['lat']) - float(eq['latitude'])) < 1e-6 for b in bal), (eq, bal)
\"" "'1, R. des Acacias' geocoded at the BAL's 1 Rue des Acacias, with its score and label"
ok "python3 -c \"
import csv
for r in csv.DictReader(open('$W/site/equipements.csv', encoding='utf-8'), delimiter=';'):
    g = r['position_source'] == 'geocoded'
    assert g == (r['geocode_score'] != '') == (r['geocode_label'] != ''), r
    assert (r['position_source'] == 'none') == (r['longitude'] == ''), r
    if g: assert float(r['geocode_score']) >= 0.7 and r['EQUIP_LAT'] == '', r
\"" "score and label exactly on geocoded rows, a position on every row but 'none'"
# the older template: Lambert-93 x/y to WGS 84
ok "[ \"\$(row 21350047500016:3 position_source)\" = given ] && python3 -c \"import sys; x, y = float(sys.argv[1]), float(sys.argv[2]); assert abs(x + 1.7408) < 1e-3 and abs(y - 48.0385) < 1e-3, (x, y)\" \$(row 21350047500016:3 longitude) \$(row 21350047500016:3 latitude)" "the older template's EQUIP_X/EQUIP_Y (Lambert-93) as long/lat"
# SIRET check digit: a warning, the row kept; schema breaks: rejected
ok "[ \"\$(eq \"['warnings']['coll_siret.checksum']\")\" = 1 ] && ! grep -q '^src/ville/equipements-35047-errors.csv;2;' $W/site/rejects/equipements.csv" "a SIRET failing its check digit is a warning, the row is not rejected"
ok "grep -q '^src/ville/equipements-35047-errors.csv;3;\"equip_uid.pattern: EQUIP_UID \"\"35047-0101-1\"\"\"' $W/site/rejects/equipements.csv" "a bad EQUIP_UID is rejected with its reason"
ok "grep -q ';6;\"equip_lat.decimal_comma' $W/site/rejects/equipements.csv && grep -q ';5;\"erp_categorie.range' $W/site/rejects/equipements.csv && grep -q ';4;\"equip_theme.enum' $W/site/rejects/equipements.csv" "decimal comma, ERP category, theme: rejected"
ok "grep -q '^src/ville/maj.csv;3;commune.hors_perimetre' $W/site/rejects/equipements.csv" "a commune outside the perimeter: rejected"
ok "[ \"\$(eq \"['errors']['equip_uid.pattern']\")\" = 1 ] && [ \"\$(eq \"['errors']['commune.hors_perimetre']\")\" = 1 ]" "errors counted by code"
# GeoJSON
ok "python3 -c \"
import json
g = json.load(open('$W/site/equipements.geojson'))
f = g['features']; assert g['type'] == 'FeatureCollection' and len(f) == 17
for x in f:
    p = x['properties']
    assert (x['geometry'] is None) == (p['position_source'] == 'none'), x
    if x['geometry']: assert x['geometry']['coordinates'] == [p['longitude'], p['latitude']], x
assert [x['properties']['EQUIP_UID'] for x in f] == sorted(x['properties']['EQUIP_UID'] for x in f)
\"" "equipements.geojson: 17 features, points at longitude/latitude, null geometry without a position"
if command -v ogrinfo >/dev/null; then
  ok "ogrinfo -ro -so $W/site/equipements.geojson equipements 2>/dev/null | grep -q 'Feature Count: 17'" "GDAL reads equipements.geojson (17 features)"
  ok "ogrinfo -ro -so $W/site/equipements.geojson equipements 2>/dev/null | grep -q '^geocode_score: Real'" "GDAL sees geocode_score as a number"
else
  echo "SKIPPED (ogrinfo absent): GDAL's reading of equipements.geojson"
fi
ok "[ \"\$(sqlite3 $W/store.db 'select count(*) from equip_submissions where current = 1')\" = 4 ] && [ \"\$(sqlite3 $W/store.db 'select count(*) from equipments')\" = 17 ]" "the store: 4 equipment submissions, 17 current equipments"

# ---- run 2: the same inputs
(cd $W && find site -type f | sort | xargs md5sum) > $OUT/site1.md5
pub --at 2026-12-02 > $OUT/run2.out 2> $OUT/run2.err; rc=$?
(cd $W && find site -type f | sort | xargs md5sum) > $OUT/site2.md5
ok "[ $rc -eq 0 ]" "run 2: exit 0, got $rc"
ok "grep -q 'accepted 0, unchanged 5' $OUT/run2.err" "run 2: every submission unchanged ($(grep submissions: $OUT/run2.err))"
ok "cmp -s $OUT/site1.md5 $OUT/site2.md5" "run 2: the SITE is byte-identical"
ok "[ \"\$(sqlite3 $W/store.db 'select count(*) from runs')\" = 1 ]" "run 2 stored no run"

# ---- run 3: bruz's new file no longer has the Salle de sport
grep -v 35047-06010101-001 $W/src/bruz/equipements.csv > $W/t && mv $W/t $W/src/bruz/equipements.csv
pub --at 2026-12-03 > $OUT/run3.out 2> $OUT/run3.err; rc=$?
ok "[ $rc -eq 0 ]" "run 3: exit 0, got $rc"
ok "json \"s={x['file']: x['status'] for x in r['submissions']}; assert s['src/bruz/equipements.csv']=='accepted' and s['src/ville/maj.csv']=='unchanged' and s['src/bruz/ancien.csv']=='unchanged', s\"" "run 3: the new file accepted, the others unchanged"
ok "[ \"\$(eq \"['published']\")\" = 16 ] && [ -z \"\$(row 35047-06010101-001 EQUIP_NOM)\" ]" "run 3: the equipment left with its file's new version (16 published)"
ok "[ \"\$(row 35047-07010101-001 EQUIP_NOM)\" = 'Médiathèque Jacques Prévert' ]" "run 3: ville's newer Médiathèque still wins"
ok "[ \"\$(sqlite3 $W/store.db 'select count(*) from equip_submissions where current = 1')\" = 4 ] && [ \"\$(sqlite3 $W/store.db 'select count(*) from equip_submissions')\" = 5 ]" "run 3: the old version is kept in the store, superseded"

# ---- a file whose every row breaks the schema: a rejected submission, and again when re-sent
mkdir -p $OUT/bad/src/ville
sed -n '1p;4,6p' $S/equipements/equipements-35047-errors.csv > $OUT/bad/src/ville/equipements.csv
for k in 1 2; do
  (cd $OUT/bad && "$GF" publish src --store store.db -o site --at 2026-12-0$k > /dev/null 2> err$k); rc=$?
  ok "[ $rc -eq 1 ]" "every row refused (run $k): exit 1, got $rc"
  ok "python3 -c \"
import json
r = json.load(open('$OUT/bad/site/report.json'))
s = r['submissions'][0]
assert s['kind'] == 'equipments' and s['status'] == 'rejected' and 'no equipment passes the SCDL schema' in s['reason'], s
assert r['equipments']['rejected'] == 3 and r['equipments']['published'] == 0, r['equipments']
\" && grep -q 'rejected 1' $OUT/bad/err$k" "every row refused (run $k): the submission is rejected with its reason"
done
ok "[ \$(( \$(wc -l < $OUT/bad/site/rejects/equipements.csv) - 1 )) -eq 3 ] && [ \"\$(cat $OUT/bad/site/equipements.geojson)\" = '{\"type\":\"FeatureCollection\",\"features\":[]}' ]" "its 3 rows in rejects/equipements.csv, an empty FeatureCollection"

# ---- the map files (read by GDAL): the equipments layer, their refused rows in the rejects table
G=$W/site/adresses.gpkg
npos=$(python3 -c "import json; print(sum(1 for f in json.load(open('$W/site/equipements.geojson'))['features'] if f['geometry']))")
nrej=$(( $(wc -l < $W/site/rejects/equipements.csv) - 1 ))
ok "[ \"\$(ogrinfo -ro -so $G equipments 2>/dev/null | sed -n 's/^Feature Count: //p')\" = \$(python3 -c \"import json; print(len(json.load(open('$W/site/equipements.geojson'))['features']))\") ]" "adresses.gpkg: an equipments layer with every equipment ($npos with a position)"
ok "[ \"\$(sqlite3 $G \"SELECT count(*) FROM rejects WHERE layer = 'equipments'\")\" = $nrej ]" "adresses.gpkg: the $nrej refused equipment rows in the rejects table"

# ---- without boundaries: the commune by name from the COG, no position check
mkdir -p $OUT/nb/src/bruz
cp $W/src/bruz/bal.csv $W/src/bruz/equipements.csv $OUT/nb/src/bruz/
(cd $OUT/nb && "$GF" publish src --store store.db -o site --at 2026-12-01 > /dev/null 2> err); rc=$?
ok "[ $rc -eq 0 ]" "without --communes: exit 0, got $rc ($(tail -3 $OUT/nb/err))"
ok "python3 -c \"
import csv
r = {x['EQUIP_UID']: x for x in csv.DictReader(open('$OUT/nb/site/equipements.csv', encoding='utf-8'), delimiter=';')}
assert r['35047-05010101-001']['commune_insee'] == '35047', r['35047-05010101-001']
assert r['35047-06010103-001']['position_source'] == 'given' and 'hors_commune' not in r['35047-06010104-001']['flags']
\"" "without --communes: the commune from the COG's names, positions not checked"
gf_test_end
